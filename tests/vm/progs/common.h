/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the VM test programs share: a failure-counting check() and report(),
 * message patterns, opening an RDMA device by name, path MTUs and
 * connecting an RC QP.
 */
#ifndef SROCE_TEST_COMMON_H
#define SROCE_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <infiniband/verbs.h>

static int failures;

#define check(cond, ...)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			printf("FAIL: " __VA_ARGS__);                   \
			printf("\n");                                   \
			failures++;                                     \
		}                                                       \
	} while (0)

/* check(), and an "ok: ..." line when it held. */
#define report(cond, ...)					\
	do {							\
		int before = failures;				\
		check(cond, __VA_ARGS__);			\
		if (failures == before) {			\
			printf("ok: " __VA_ARGS__);		\
			printf("\n");				\
		}						\
		fflush(stdout);					\
	} while (0)

/* Byte @i of message @seed: no two nearby messages or offsets alike. */
static inline uint8_t msg_byte(unsigned int seed, size_t i)
{
	return (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static inline void msg_fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = msg_byte(seed, i);
}

/* The first offset where @p differs from message @seed, or -1. */
static inline long msg_differs(const uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != msg_byte(seed, i))
			return (long)i;
	return -1;
}

/*
 * Packets this host's stack dropped on receive: the backlog drops of every
 * CPU (/proc/net/softnet_stat, second column), or -1 if unreadable.
 */
static inline long long softnet_drops(void)
{
	unsigned int processed, dropped;
	long long sum = 0;
	char line[256];
	FILE *f = fopen("/proc/net/softnet_stat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%x %x", &processed, &dropped) == 2)
			sum += dropped;
	fclose(f);
	return sum;
}

static inline struct ibv_context *open_by_name(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/* The path MTU of @bytes (256 to 4096), or 0 for another value. */
static inline enum ibv_mtu mtu_from_bytes(int bytes)
{
	switch (bytes) {
	case 256: return IBV_MTU_256;
	case 512: return IBV_MTU_512;
	case 1024: return IBV_MTU_1024;
	case 2048: return IBV_MTU_2048;
	case 4096: return IBV_MTU_4096;
	default: return 0;
	}
}

/*
 * Take RC QP @qp from RESET to RTS, connected to QP @dest_qpn behind @gid
 * (through local GID @gid_index), with remote READ and WRITE allowed.  PSNs
 * start just below the 24-bit wrap.
 */
static inline int rc_qp_connect(struct ibv_qp *qp, uint32_t dest_qpn,
				int gid_index, const union ibv_gid *gid,
				enum ibv_mtu mtu, uint8_t timeout,
				uint8_t retry_cnt, uint8_t rnr_retry)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = dest_qpn;
	a.rq_psn = 0xfffff0;	/* wraps the 24-bit PSN early on */
	a.max_dest_rd_atomic = 4;
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = *gid;
	a.ah_attr.grh.sgid_index = gid_index;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0xfffff0;
	a.timeout = timeout;
	a.retry_cnt = retry_cnt;
	a.rnr_retry = rnr_retry;
	a.max_rd_atomic = 4;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

#endif /* SROCE_TEST_COMMON_H */
