# Receive isolation between network namespaces (progs/isolation.c): two
# namespaces whose netdevs have the same address, an sroce device in each;
# a QP in one aimed at a QP number of the other, with the addresses, PSN
# and rkey the victim expects, does not reach it, and the drop is counted
# in the attacker's namespace.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

cleanup() {
	rdma link delete sra 2>/dev/null || true
	rdma link delete srb 2>/dev/null || true
	ip netns del nsa 2>/dev/null || true
	ip netns del nsb 2>/dev/null || true
}
trap cleanup EXIT

install_prog isolation
for n in a b; do
	ip netns add ns$n
	ip link add v${n}0 type veth peer name v${n}1
	ip link set v${n}0 netns ns$n
	ip link set v${n}1 up
	ip -n ns$n link set lo up
	ip -n ns$n addr add 198.51.100.1/24 dev v${n}0
	ip -n ns$n link set v${n}0 up
	ip netns exec ns$n rdma link add sr$n type sroce netdev v${n}0
done
wait_for 'roce_gid_index sra 4' || fail "sra has no IPv4 RoCE v2 GID"
wait_for 'roce_gid_index srb 4' || fail "srb has no IPv4 RoCE v2 GID"
before=$(rdma statistic show link srb/1 | grep -o 'rx_unknown_qp [0-9]*' | cut -d' ' -f2)
/tmp/isolation sra "$(roce_gid_index sra 4)" srb "$(roce_gid_index srb 4)"
after=$(rdma statistic show link srb/1 | grep -o 'rx_unknown_qp [0-9]*' | cut -d' ' -f2)
echo "REPORT isolation: srb's namespace counted $((after - before)) packets for no QP of its own"
[ $((after - before)) -ge 1 ] || fail "the attacker's packets were not counted as drops"
