# The packages of "make deb" (build/deb/), installed with apt into the
# guest's throwaway root as on a Debian 13 host; ibv_rc_pingpong moves
# checked data through the packaged provider (the tree's is removed), and
# purging both packages must leave no file behind.
#
# DKMS's build of sroce.ko takes a quarter of an hour or more under TCG, so
# LONG unset installs with DKMS's autoinstall switched off
# (/etc/dkms/no-autoinstall), adds the module to DKMS by hand (which reads
# dkms.conf) and uses the tree's module.  make check-long (LONG=1) lets
# the package's postinst build it: the tree's module is unloaded,
# modprobe must load DKMS's build, and AUTOINSTALL is shown by DKMS's
# kernel postinst hook building it for the other kernel of the root
# filesystem.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

debs=$SROCE_REPO/build/deb
dkms_deb=$(ls "$debs"/sroce-dkms_*_all.deb 2>/dev/null) ||
	fail "no sroce-dkms package in $debs: run make deb"
prov_deb=$(ls "$debs"/ibverbs-provider-sroce_*.deb 2>/dev/null) ||
	fail "no ibverbs-provider-sroce package in $debs: run make deb"
ver=$(dpkg-deb -f "$dkms_deb" Version)
kver=$(uname -r)
other=$(ls /lib/modules | grep -vxF "$kver" | head -n1)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=/$(dpkg-deb -c "$prov_deb" | grep -o "usr/lib/$ma/libibverbs/libsroce-rdmav[0-9]*\.so")
export DEBIAN_FRONTEND=noninteractive
full=${LONG:-0}

# Whatever happens, the next case gets the tree's provider back (the
# runner reloads the tree's module).
cleanup() {
	rdma link delete sroce0 2>/dev/null || true
	rmmod sroce 2>/dev/null || true
	dpkg --purge sroce-dkms ibverbs-provider-sroce > /dev/null 2>&1 || true
	rm -f /etc/dkms/no-autoinstall
	make -s -C "$SROCE_REPO/provider" install > /dev/null
}
trap cleanup EXIT

# Start from a root without sroce's provider, and in the long run without
# its module.
if [ "$full" = 1 ]; then
	rdma link delete sroce0
	rmmod sroce
	! modinfo sroce > /dev/null 2>&1 || fail "a sroce module is installed already"
else
	touch /etc/dkms/no-autoinstall
fi
make -s -C "$SROCE_REPO/provider" uninstall
[ ! -e /etc/libibverbs.d/sroce.driver ] || fail "a provider is installed already"
[ ! -e "$lib" ] || fail "$lib is there already"

# What the root holds where the packages and DKMS put files, before, to
# compare with after the purge (a walk of all of /usr over 9p would take
# minutes under TCG; the headers' trees in /usr/src are left out).
snapshot() {
	find /etc /usr/share/doc "${lib%/*}" /var/lib/dkms -xdev | sort
	find /usr/src /lib/modules -maxdepth 2 | sort
	find /lib/modules/*/updates 2>/dev/null | sort
}
snapshot > /tmp/deb-before

start=$SECONDS
apt-get install -y -q --no-install-recommends "$dkms_deb" "$prov_deb" \
	> /tmp/deb-install.log 2>&1 || { cat /tmp/deb-install.log; fail "apt-get install"; }
grep -E "^(Setting up|Building for|Building initial|Installing|autoinstall)|dkms" \
	/tmp/deb-install.log | sed 's/^/  /' || true
if [ "$full" = 1 ]; then
	echo "REPORT apt-get install of both packages with DKMS's build for $kver: $((SECONDS - start)) s"
	dkms status -m sroce -v "$ver" -k "$kver" | grep -q ": installed" ||
		fail "DKMS did not install sroce $ver for $kver: $(dkms status)"

	# The module that modprobe resolves is DKMS's.
	ko=$(modinfo -n sroce) || fail "modinfo finds no sroce after installation"
	echo "  module: $ko"
	case $ko in
	/lib/modules/$kver/updates/dkms/sroce.ko*) ;;
	*) fail "sroce resolves to $ko, not DKMS's build" ;;
	esac
	modprobe sroce
	[ "$(cat /sys/module/sroce/srcversion)" = "$(modinfo -F srcversion sroce)" ] ||
		fail "the loaded module is not the installed one"
	rdma link add sroce0 type sroce netdev eth0
else
	echo "REPORT apt-get install of both packages, DKMS's autoinstall off: $((SECONDS - start)) s"
	grep -q "autoinstall for dkms modules has been disabled" /tmp/deb-install.log ||
		fail "the postinst did not go through DKMS's common.postinst"
	[ -f "/usr/src/sroce-$ver/dkms.conf" ] || fail "no /usr/src/sroce-$ver/dkms.conf"
	dkms add -m sroce -v "$ver" > /dev/null || fail "dkms add sroce/$ver"
	dkms status -m sroce -v "$ver" | grep -q "^sroce/$ver: added" ||
		fail "DKMS does not list sroce/$ver as added: $(dkms status)"
	echo "  $(dkms status -m sroce -v "$ver")"
fi
ibv_devinfo -d sroce0 | grep -q "state:.*PORT_ACTIVE" || fail "sroce0 is not active"

# The provider that libibverbs loads is the packaged one, unchanged.
[ "$(dpkg -S "$lib")" = "ibverbs-provider-sroce:$(dpkg --print-architecture): $lib" ] ||
	fail "$lib is not the package's"
dpkg --verify ibverbs-provider-sroce || fail "the provider's files differ from the package"
LD_DEBUG=files ibv_devinfo -d sroce0 2>&1 | grep -q "file=$lib .*generating link map" ||
	fail "ibv_devinfo did not load $lib"

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"
port=18515
for size in 1 4096 65536; do
	args="-d sroce0 -p $port -g $gid -c -s $size -n 50"
	run_server_client "ibv_rc_pingpong $args" $port \
		"ibv_rc_pingpong $args 127.0.0.1" || fail "ibv_rc_pingpong $args"
	echo "ok: ibv_rc_pingpong $args (packaged provider)"
done

# AUTOINSTALL: installing a kernel runs DKMS's postinst hook for it.  The
# package's postinst builds for the running kernel and the newest one;
# when the running one is the newest, the hook must build for the other.
if [ "$full" = 1 ] && [ -n "$other" ]; then
	if dkms status -m sroce -v "$ver" -k "$other" | grep -q .; then
		echo "  the postinst built for $other too (the newest kernel)"
	else
		start=$SECONDS
		/etc/kernel/postinst.d/dkms "$other" > /tmp/deb-auto.log 2>&1 ||
			{ cat /tmp/deb-auto.log; fail "the kernel postinst hook for $other"; }
		echo "REPORT DKMS autoinstall for $other (kernel postinst hook): $((SECONDS - start)) s"
	fi
	dkms status -m sroce -v "$ver" -k "$other" | grep -q ": installed" ||
		fail "DKMS did not build sroce for $other"
	modinfo -k "$other" -n sroce | grep -q "^/lib/modules/$other/updates/dkms/sroce.ko" ||
		fail "no sroce in $other's modules"
	echo "  $other: $(modinfo -k "$other" -n sroce)"
fi
rdma link delete sroce0
[ "$full" = 0 ] || rmmod sroce

# Purge: nothing of either package is left.
apt-get purge -y -q sroce-dkms ibverbs-provider-sroce > /tmp/deb-purge.log 2>&1 ||
	{ cat /tmp/deb-purge.log; fail "apt-get purge"; }
for p in sroce-dkms ibverbs-provider-sroce; do
	! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q . ||
		fail "dpkg still knows $p: $(dpkg-query -W -f='${Status}' "$p")"
done
[ "$full" = 0 ] || ! modinfo sroce > /dev/null 2>&1 ||
	fail "modinfo still finds sroce after the purge"
[ -z "$(dkms status -m sroce)" ] || fail "DKMS still has sroce: $(dkms status -m sroce)"
snapshot > /tmp/deb-after
if ! diff /tmp/deb-before /tmp/deb-after > /tmp/deb-diff; then
	cat /tmp/deb-diff
	fail "the purge left the root different from before the installation"
fi
echo "ok: purged; /etc, /usr/share/doc, /usr/src, ${lib%/*}, /var/lib/dkms and /lib/modules hold the same files as before"
