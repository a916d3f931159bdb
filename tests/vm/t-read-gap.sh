# A long READ answer with responses lost in its middle, at a local ACK
# timeout (4 ms, -u 10) shorter than the answer takes under TCG.
# ib_read_bw with 2 MiB READs, with tc dropping every 300th READ RESPONSE
# MIDDLE on lo, must finish.  The requester asks for the missing runs
# alone, each with a READ request of its own, when the answer has gone
# quiet or at a timeout; a timeout that asked instead from the first
# missing response to the end brought back all that followed it, whose
# copies passed for a reordering path and lengthened the reorder hold,
# so that every gap waited for a timeout, and seven timeouts without the
# gap filled ended in RETRY_EXC_ERR (1 run in 4).  The retransmit
# timeouts are reported.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

gid=$(roce_gid_index sroce0 4) || fail "sroce0 has no IPv4 RoCE v2 GID"

# "<timeouts> <packets resent>" of sroce0.
counts() {
	rdma statistic show link sroce0/1 |
		awk '{ for (i = 1; i < NF; i++) {
			if ($i == "retransmit_timeouts") t = $(i + 1)
			if ($i == "tx_retransmits") r = $(i + 1) } }
			END { print t + 0, r + 0 }'
}

# IPv4 (20 bytes, no options), UDP to 4791, then the BTH: its first byte
# is the opcode, 0x0e for an RC READ RESPONSE MIDDLE.
tc qdisc add dev lo root handle 1: prio
trap 'tc qdisc del dev lo root 2>/dev/null || true' EXIT
tc filter add dev lo parent 1: protocol ip prio 1 u32 \
	match u8 17 0xff at 9 match u16 4791 0xffff at 22 \
	match u8 0x0e 0xff at 28 \
	action gact ok random determ drop 300 ||
	fail "cannot add the tc filter that drops READ responses"

read -r to0 rt0 <<< "$(counts)"
perftest_local sroce0 ib_read_bw "$gid" -n 30 -s 2097152 -m 1024 -u 10 ||
	fail "ib_read_bw of 2 MiB with every 300th middle response lost"
read -r to1 rt1 <<< "$(counts)"
dropped=$(tc -s filter show dev lo parent 1: |
	sed -n 's/.*Sent [0-9]* bytes [0-9]* pkt (dropped \([0-9]*\),.*/\1/p' |
	head -n1)
echo "REPORT read-gap: tc dropped ${dropped:-?} READ responses;" \
	"$((to1 - to0)) retransmit timeouts, $((rt1 - rt0)) packets resent"
[ "${dropped:-0}" -gt 0 ] || fail "the tc filter dropped no READ response"
echo "ok: 2 MiB READs with lost responses finished at a 4 ms timeout"
