// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Port counters ("rdma statistic show"): what the data path dropped or
 * had to recover from, and how many pages the device's MRs pin now.
 * Drops that happen before a packet reaches a QP (bad ICRC, malformed
 * headers, no such QP) are counted per network namespace, since the
 * receive hook serves every device there; the rest are the device's own.
 */
#include "sroce.h"

static const struct rdma_stat_desc sroce_stat_descs[] = {
	[SROCE_STAT_RX_ICRC_ERR] = { .name = "rx_icrc_errors" },
	[SROCE_STAT_RX_BAD_HDR] = { .name = "rx_malformed" },
	[SROCE_STAT_RX_NO_QP] = { .name = "rx_unknown_qp" },
	[SROCE_STAT_RX_QUEUE_FULL] = { .name = "rx_qp_queue_full" },
	[SROCE_STAT_RETRANS_TIMEOUT] = { .name = "retransmit_timeouts" },
	[SROCE_STAT_SEQ_NAK_SENT] = { .name = "seq_naks_sent" },
	[SROCE_STAT_RNR_NAK_SENT] = { .name = "rnr_naks_sent" },
	[SROCE_STAT_TX_ERR] = { .name = "tx_errors" },
	[SROCE_STAT_TX_PKTS] = { .name = "tx_packets" },
	[SROCE_STAT_RX_PKTS] = { .name = "rx_packets" },
	[SROCE_STAT_RX_RESP_DROPPED] = { .name = "rx_responses_dropped" },
	[SROCE_STAT_RX_QP_NOT_READY] = { .name = "rx_qp_not_ready" },
	[SROCE_STAT_TX_RETRANS] = { .name = "tx_retransmits" },
	[SROCE_STAT_RX_HELD] = { .name = "rx_held" },
	[SROCE_STAT_RX_QKEY_ERR] = { .name = "rx_qkey_violations" },
	[SROCE_STAT_RX_UD_DROPPED] = { .name = "rx_ud_dropped" },
	[SROCE_STAT_RX_UC_DROPPED] = { .name = "rx_uc_dropped" },
	[SROCE_STAT_RX_UC_ABANDONED] = { .name = "rx_uc_abandoned" },
	[SROCE_STAT_ODP_RNR_NAK_SENT] = { .name = "odp_rnr_naks_sent" },
	/* As the IBTA's PMA counters: the transport packet, in 4-byte words. */
	[SROCE_STAT_TX_WORDS] = { .name = "port_xmit_data" },
	[SROCE_STAT_RX_WORDS] = { .name = "port_rcv_data" },
	[SROCE_STAT_PINNED_PAGES] = { .name = "pinned_pages" },
};

static_assert(ARRAY_SIZE(sroce_stat_descs) == SROCE_NUM_STATS);

struct rdma_hw_stats *sroce_alloc_hw_port_stats(struct ib_device *ibdev,
						u32 port)
{
	return rdma_alloc_hw_stats_struct(sroce_stat_descs, SROCE_NUM_STATS,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

int sroce_get_hw_stats(struct ib_device *ibdev, struct rdma_hw_stats *stats,
		       u32 port, int index)
{
	struct sroce_dev *sdev = to_sdev(ibdev);
	int i;

	sroce_udp_read_stats(sdev, stats->value);
	for (i = SROCE_STAT_FIRST_DEV; i < SROCE_NUM_STATS; i++)
		stats->value[i] = atomic64_read(sroce_stat(sdev, i));
	return SROCE_NUM_STATS;
}
