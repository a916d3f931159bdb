// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RC transport rules that plain verbs can provoke, on one device over
 * loopback:
 *   psn-space   more than 2^23 PSNs' worth posted at once: a small WRITE,
 *               a 2 GiB WRITE at path MTU 256 (2^23 packets), a small
 *               WRITE; the first completes at once and the second makes
 *               progress (PSNs are taken as packets are sent)
 *   rnr         SENDs to a receiver that stays not-ready for 1.5 s (about
 *               a hundred RNR NAKs), with rnr_retry 7, all complete once
 *               it posts: the packets behind a refused one cost no
 *               transport retry (retry_cnt 7 is 8 retries, never a hundred)
 *   rd-atomic   a READ and an ATOMIC to a responder with no responder
 *               resources (max_dest_rd_atomic 0) get REM_INV_REQ_ERR
 *   post-state  posting sends in RESET/INIT/RTR and receives in RESET is
 *               EINVAL; a receive posted in ERR is flushed
 *   cq-overflow an overrun CQ raises CQ_ERR and fails its QP
 *   solicited   a CQ armed for solicited completions only is woken by an
 *               error completion
 *   path-mtu    a path MTU whose packets do not fit the route to the
 *               destination is refused with EINVAL (the script routes
 *               198.51.100.99 with MTU 1300)
 *
 *   rc_engine DEV GID_INDEX [CASE...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static int gid_index;
static union ibv_gid gid;

struct end {
	struct ibv_cq *cq;
	struct ibv_qp *qp;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int make_end(struct end *e, int cqe, int depth)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = depth, .max_recv_wr = depth,
			.max_send_sge = 1, .max_recv_sge = 1,
		},
	};

	e->cq = ibv_create_cq(ctx, cqe, NULL, NULL, 0);
	if (!e->cq)
		return -1;
	init.send_cq = e->cq;
	init.recv_cq = e->cq;
	e->qp = ibv_create_qp(pd, &init);
	return e->qp ? 0 : -1;
}

static void free_end(struct end *e)
{
	if (e->qp)
		ibv_destroy_qp(e->qp);
	if (e->cq)
		ibv_destroy_cq(e->cq);
	memset(e, 0, sizeof(*e));
}

static int to_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_ATOMIC,
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			     IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
}

static int to_rtr(struct ibv_qp *qp, uint32_t dest, enum ibv_mtu mtu,
		  uint8_t max_dest_rd_atomic)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = mtu,
		.dest_qp_num = dest,
		.rq_psn = 0x7ffff0,
		.max_dest_rd_atomic = max_dest_rd_atomic,
		.min_rnr_timer = 12,	/* 0.64 ms */
		.ah_attr = {
			.is_global = 1,
			.grh = { .dgid = gid, .sgid_index = gid_index,
				 .hop_limit = 64 },
			.port_num = 1,
		},
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV |
			     IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			     IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			     IBV_QP_MIN_RNR_TIMER);
}

static int to_rts(struct ibv_qp *qp, uint8_t retry_cnt, uint8_t rnr_retry)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTS,
		.sq_psn = 0x7ffff0,
		.timeout = 14,
		.retry_cnt = retry_cnt,
		.rnr_retry = rnr_retry,
		.max_rd_atomic = 4,
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

/* Two ends connected to each other. */
static int connect_pair(struct end *a, struct end *b, enum ibv_mtu mtu,
			uint8_t b_rd_atomic, uint8_t retry_cnt)
{
	if (to_init(a->qp) || to_init(b->qp) ||
	    to_rtr(a->qp, b->qp->qp_num, mtu, 4) ||
	    to_rtr(b->qp, a->qp->qp_num, mtu, b_rd_atomic) ||
	    to_rts(a->qp, retry_cnt, 7) || to_rts(b->qp, retry_cnt, 7))
		return -1;
	return 0;
}

/* Wait up to @secs for one completion on @cq; 0 with *wc filled, or -1. */
static int wait_wc(struct ibv_cq *cq, struct ibv_wc *wc, double secs)
{
	double end = now() + secs;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n < 0 ? -1 : 0;
		usleep(1000);
	} while (now() < end);
	return -1;
}

static int post_write(struct ibv_qp *qp, uint64_t wr_id, void *src,
		      uint32_t lkey, uint64_t len, uint64_t dst, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)src, .length = len, .lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = dst, .rkey = rkey },
	}, *bad;

	return ibv_post_send(qp, &wr, &bad);
}

/* A 2 GiB window of address space over one 1 MiB memfd, mapped over and over. */
static void *big_window(size_t len)
{
	const size_t chunk = 1 << 20;
	int fd = memfd_create("psn-space", 0);
	uint8_t *base;
	size_t off;

	if (fd < 0 || ftruncate(fd, chunk))
		return NULL;
	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (off = 0; off < len; off += chunk)
		if (mmap(base + off, chunk, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			return NULL;
	close(fd);
	return base;
}

static void case_psn_space(void)
{
	const size_t big = 1UL << 31;
	struct end a = {}, b = {};
	struct ibv_mr *src_mr = NULL, *dst_mr = NULL, *small_mr = NULL;
	uint8_t *src, *dst, small[128];
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;
	struct ibv_wc wc;
	uint32_t psn0, psn1;
	int flushed = 0, f0;
	double t;

	src = big_window(big);
	dst = big_window(big);
	if (!src || !dst) {
		check(0, "psn-space: cannot map 2 GiB windows");
		return;
	}
	memset(small, 0x5a, sizeof(small));
	src_mr = ibv_reg_mr(pd, src, big, 0);
	dst_mr = ibv_reg_mr(pd, dst, big, IBV_ACCESS_LOCAL_WRITE |
			    IBV_ACCESS_REMOTE_WRITE);
	small_mr = ibv_reg_mr(pd, small, sizeof(small), 0);
	if (!src_mr || !dst_mr || !small_mr || make_end(&a, 8, 4) ||
	    make_end(&b, 8, 4) || connect_pair(&a, &b, IBV_MTU_256, 4, 7)) {
		check(0, "psn-space: setup failed (errno %d)", errno);
		goto out;
	}
	/* 64 + 2^31 + 64 bytes: 1 + 2^23 + 1 PSNs, more than half the space. */
	if (post_write(a.qp, 1, small, small_mr->lkey, 64, (uintptr_t)dst,
		       dst_mr->rkey) ||
	    post_write(a.qp, 2, src, src_mr->lkey, big, (uintptr_t)dst,
		       dst_mr->rkey) ||
	    post_write(a.qp, 3, small, small_mr->lkey, 64, (uintptr_t)dst,
		       dst_mr->rkey)) {
		check(0, "psn-space: post_send: %d", errno);
		goto out;
	}
	t = now();
	f0 = failures;
	check(!wait_wc(a.cq, &wc, 10) && wc.wr_id == 1 &&
	      wc.status == IBV_WC_SUCCESS,
	      "psn-space: the first WRITE did not complete in 10 s");
	if (failures == f0)
		printf("ok: psn-space: the WRITE before a 2^23-packet one completed in %.2f s\n",
	       now() - t);
	/* The big one keeps going: the send PSN moves. */
	ibv_query_qp(a.qp, &attr, IBV_QP_SQ_PSN, &init);
	psn0 = attr.sq_psn;
	sleep(2);
	ibv_query_qp(a.qp, &attr, IBV_QP_SQ_PSN, &init);
	psn1 = attr.sq_psn;
	check(((psn1 - psn0) & 0xffffff) > 100 &&
	      ((psn1 - psn0) & 0xffffff) < 0x800000,
	      "psn-space: the 2 GiB WRITE made no progress (%#x to %#x)",
	      psn0, psn1);
	if (failures == f0)
		printf("ok: psn-space: %u packets of the 2 GiB WRITE in 2 s\n",
	       (psn1 - psn0) & 0xffffff);
	attr.qp_state = IBV_QPS_ERR;
	check(!ibv_modify_qp(a.qp, &attr, IBV_QP_STATE), "psn-space: to ERR");
	while (!wait_wc(a.cq, &wc, 5))
		flushed += wc.status == IBV_WC_WR_FLUSH_ERR;
	check(flushed == 2, "psn-space: %d of 2 WRITEs flushed", flushed);
out:
	free_end(&a);
	free_end(&b);
	if (small_mr)
		ibv_dereg_mr(small_mr);
	if (dst_mr)
		ibv_dereg_mr(dst_mr);
	if (src_mr)
		ibv_dereg_mr(src_mr);
	munmap(src, big);
	munmap(dst, big);
}

/*
 * Eight 16 KiB SENDs (16 packets each at MTU 1024) to a receiver with no
 * receive posted for 1.5 s: the requester waits out RNR NAKs, and the
 * packets behind the refused one cost no transport retry.
 */
static void case_rnr(void)
{
	enum { N = 8, LEN = 16384 };
	static uint8_t sbuf[N * LEN], rbuf[N * LEN];
	struct end a = {}, b = {};
	struct ibv_mr *smr = NULL, *rmr = NULL;
	struct ibv_wc wc;
	int i, ok = 0, got = 0;

	for (i = 0; i < N * LEN; i++)
		sbuf[i] = i * 7 + 1;
	memset(rbuf, 0, sizeof(rbuf));
	smr = ibv_reg_mr(pd, sbuf, sizeof(sbuf), 0);
	rmr = ibv_reg_mr(pd, rbuf, sizeof(rbuf), IBV_ACCESS_LOCAL_WRITE);
	if (!smr || !rmr || make_end(&a, 32, N) || make_end(&b, 32, N) ||
	    connect_pair(&a, &b, IBV_MTU_1024, 4, 7)) {
		check(0, "rnr: setup failed (errno %d)", errno);
		goto out;
	}
	for (i = 0; i < N; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)(sbuf + i * LEN), .length = LEN,
			.lkey = smr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
		}, *bad;

		if (ibv_post_send(a.qp, &wr, &bad))
			check(0, "rnr: post_send %d", i);
	}
	usleep(1500000);
	for (i = 0; i < N; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)(rbuf + i * LEN), .length = LEN,
			.lkey = rmr->lkey,
		};
		struct ibv_recv_wr wr = {
			.wr_id = 100 + i, .sg_list = &sge, .num_sge = 1,
		}, *bad;

		if (ibv_post_recv(b.qp, &wr, &bad))
			check(0, "rnr: post_recv %d", i);
	}
	/* N sends complete on a's CQ, N receives on b's. */
	while (got < 2 * N && !wait_wc(got < N ? a.cq : b.cq, &wc, 20)) {
		got++;
		if (wc.status == IBV_WC_SUCCESS)
			ok++;
		else
			printf("rnr: wr_id %llu: %s\n",
			       (unsigned long long)wc.wr_id,
			       ibv_wc_status_str(wc.status));
	}
	check(ok == 2 * N, "rnr: %d of %d completions succeeded", ok, 2 * N);
	check(!memcmp(sbuf, rbuf, sizeof(sbuf)), "rnr: received data differs");
	if (ok == 2 * N)
		printf("ok: rnr: %d SENDs to a receiver not ready for 1.5 s, all delivered\n",
		       N);
out:
	free_end(&a);
	free_end(&b);
	if (rmr)
		ibv_dereg_mr(rmr);
	if (smr)
		ibv_dereg_mr(smr);
}

static void case_rd_atomic(void)
{
	static uint64_t local[2], remote[2];
	struct end a = {}, b = {};
	struct ibv_mr *lmr = NULL, *rmr = NULL;
	struct ibv_wc wc;
	int i;

	lmr = ibv_reg_mr(pd, local, sizeof(local), IBV_ACCESS_LOCAL_WRITE);
	rmr = ibv_reg_mr(pd, remote, sizeof(remote), IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC);
	for (i = 0; i < 2; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)local, .length = 8,
			.lkey = lmr ? lmr->lkey : 0,
		};
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.send_flags = IBV_SEND_SIGNALED,
		}, *bad;
		const char *what = i ? "FETCH_ADD" : "READ";

		if (!lmr || !rmr || make_end(&a, 8, 4) || make_end(&b, 8, 4) ||
		    connect_pair(&a, &b, IBV_MTU_1024, 0, 7)) {
			check(0, "rd-atomic: setup failed (errno %d)", errno);
			break;
		}
		if (i) {
			wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
			wr.wr.atomic.remote_addr = (uintptr_t)remote;
			wr.wr.atomic.rkey = rmr->rkey;
			wr.wr.atomic.compare_add = 1;
		} else {
			wr.opcode = IBV_WR_RDMA_READ;
			wr.wr.rdma.remote_addr = (uintptr_t)remote;
			wr.wr.rdma.rkey = rmr->rkey;
		}
		if (ibv_post_send(a.qp, &wr, &bad) || wait_wc(a.cq, &wc, 10))
			check(0, "rd-atomic: %s: no completion", what);
		else if (wc.status != IBV_WC_REM_INV_REQ_ERR)
			check(0, "rd-atomic: %s: %s, expected remote invalid request",
			      what, ibv_wc_status_str(wc.status));
		else
			printf("ok: rd-atomic: %s without responder resources: %s\n",
			       what, ibv_wc_status_str(wc.status));
		free_end(&a);
		free_end(&b);
	}
	check(remote[0] == 0, "rd-atomic: the ATOMIC was executed");
	if (rmr)
		ibv_dereg_mr(rmr);
	if (lmr)
		ibv_dereg_mr(lmr);
}

static int try_send(struct ibv_qp *qp, struct ibv_mr *mr, void *buf)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)buf, .length = 8, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND,
	}, *bad;

	return ibv_post_send(qp, &wr, &bad);
}

static int try_recv(struct ibv_qp *qp, struct ibv_mr *mr, void *buf)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)buf, .length = 8, .lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = 77, .sg_list = &sge, .num_sge = 1 },
		*bad;

	return ibv_post_recv(qp, &wr, &bad);
}

static void case_post_state(void)
{
	static uint64_t buf;
	struct end a = {}, b = {};
	struct ibv_qp_attr attr = {};
	struct ibv_qp_init_attr init;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	int ret, f0;

	mr = ibv_reg_mr(pd, &buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	if (!mr || make_end(&a, 8, 4) || make_end(&b, 8, 4)) {
		check(0, "post-state: setup failed");
		goto out;
	}
	f0 = failures;
	ret = try_send(a.qp, mr, &buf);
	check(ret == EINVAL, "post-state: post_send in RESET: %d", ret);
	ret = try_recv(a.qp, mr, &buf);
	check(ret == EINVAL, "post-state: post_recv in RESET: %d", ret);
	to_init(a.qp);
	ret = try_send(a.qp, mr, &buf);
	check(ret == EINVAL, "post-state: post_send in INIT: %d", ret);
	to_rtr(a.qp, b.qp->qp_num, IBV_MTU_1024, 4);
	ret = try_send(a.qp, mr, &buf);
	check(ret == EINVAL, "post-state: post_send in RTR: %d", ret);
	if (failures == f0)
		printf("ok: post-state: sends in RESET, INIT and RTR and receives in RESET are EINVAL\n");

	/* ib_core has no RESET to ERR; INIT to ERR, with nothing posted. */
	f0 = failures;
	attr.qp_state = IBV_QPS_ERR;
	check(ibv_modify_qp(b.qp, &attr, IBV_QP_STATE) == EINVAL,
	      "post-state: RESET to ERR was not refused");
	to_init(b.qp);
	check(!ibv_modify_qp(b.qp, &attr, IBV_QP_STATE),
	      "post-state: INIT to ERR: %d", errno);
	ibv_query_qp(b.qp, &attr, IBV_QP_STATE, &init);
	check(attr.qp_state == IBV_QPS_ERR, "post-state: state %d after INIT to ERR",
	      attr.qp_state);
	ret = try_recv(b.qp, mr, &buf);
	check(!ret, "post-state: post_recv in ERR: %d", ret);
	check(!wait_wc(b.cq, &wc, 5) && wc.wr_id == 77 &&
	      wc.status == IBV_WC_WR_FLUSH_ERR,
	      "post-state: the receive posted in ERR was not flushed");
	if (failures == f0)
		printf("ok: post-state: INIT to ERR, and a receive posted then is flushed\n");
out:
	free_end(&a);
	free_end(&b);
	if (mr)
		ibv_dereg_mr(mr);
}

/* Wait up to @secs for an async event of type @type. */
static bool wait_async(enum ibv_event_type type, double secs)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	double end = now() + secs;
	struct ibv_async_event ev;

	while (now() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (ibv_get_async_event(ctx, &ev))
			continue;
		ibv_ack_async_event(&ev);
		if (ev.event_type == type)
			return true;
	}
	return false;
}

static void case_cq_overflow(void)
{
	static uint8_t src[64], dst[64];
	struct ibv_mr *smr, *dmr;
	struct end a = {}, b = {};
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;
	int i, f0;

	smr = ibv_reg_mr(pd, src, sizeof(src), 0);
	dmr = ibv_reg_mr(pd, dst, sizeof(dst), IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE);
	if (!smr || !dmr || make_end(&a, 1, 64) || make_end(&b, 8, 4) ||
	    a.cq->cqe > 32 ||
	    connect_pair(&a, &b, IBV_MTU_1024, 4, 7)) {
		check(0, "cq-overflow: setup failed");
		goto out;
	}
	f0 = failures;
	for (i = 0; i < a.cq->cqe + 4; i++)
		post_write(a.qp, i, src, smr->lkey, 8, (uintptr_t)dst,
			   dmr->rkey);
	check(wait_async(IBV_EVENT_CQ_ERR, 10),
	      "cq-overflow: no CQ_ERR event after %d completions on %d CQEs",
	      a.cq->cqe + 4, a.cq->cqe);
	ibv_query_qp(a.qp, &attr, IBV_QP_STATE, &init);
	check(attr.qp_state == IBV_QPS_ERR,
	      "cq-overflow: the QP is in state %d, not ERR", attr.qp_state);
	if (failures == f0)
		printf("ok: cq-overflow: an overrun CQ raised CQ_ERR and its QP is in ERR\n");
out:
	free_end(&a);
	free_end(&b);
	if (dmr)
		ibv_dereg_mr(dmr);
	if (smr)
		ibv_dereg_mr(smr);
}

static void case_solicited(void)
{
	static uint8_t src[256], dst[16];
	struct ibv_comp_channel *ch = ibv_create_comp_channel(ctx);
	struct ibv_mr *smr, *dmr;
	struct end a = {}, b = {};
	struct ibv_cq *ev_cq;
	struct pollfd pfd;
	void *ev_ctx;
	struct ibv_wc wc;

	smr = ibv_reg_mr(pd, src, sizeof(src), 0);
	dmr = ibv_reg_mr(pd, dst, sizeof(dst), IBV_ACCESS_LOCAL_WRITE);
	if (!ch || !smr || !dmr || make_end(&a, 8, 4)) {
		check(0, "solicited: setup failed");
		goto out;
	}
	b.cq = ibv_create_cq(ctx, 8, NULL, ch, 0);
	if (b.cq) {
		struct ibv_qp_init_attr init = {
			.qp_type = IBV_QPT_RC, .send_cq = b.cq, .recv_cq = b.cq,
			.cap = { .max_send_wr = 4, .max_recv_wr = 4,
				 .max_send_sge = 1, .max_recv_sge = 1 },
		};

		b.qp = ibv_create_qp(pd, &init);
	}
	if (!b.qp || connect_pair(&a, &b, IBV_MTU_1024, 4, 7) ||
	    ibv_req_notify_cq(b.cq, 1)) {
		check(0, "solicited: setup failed");
		goto out;
	}
	/* 256 bytes into a 16-byte receive: a local length error there. */
	{
		struct ibv_sge rs = {
			.addr = (uintptr_t)dst, .length = sizeof(dst),
			.lkey = dmr->lkey,
		};
		struct ibv_recv_wr rwr = { .wr_id = 5, .sg_list = &rs,
					   .num_sge = 1 }, *rbad;
		struct ibv_sge ss = {
			.addr = (uintptr_t)src, .length = sizeof(src),
			.lkey = smr->lkey,
		};
		struct ibv_send_wr swr = {
			.wr_id = 6, .sg_list = &ss, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
		}, *sbad;

		if (ibv_post_recv(b.qp, &rwr, &rbad) ||
		    ibv_post_send(a.qp, &swr, &sbad)) {
			check(0, "solicited: post failed");
			goto out;
		}
	}
	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	check(poll(&pfd, 1, 10000) == 1 && !ibv_get_cq_event(ch, &ev_cq, &ev_ctx),
	      "solicited: no completion event for an error completion");
	if (pfd.revents) {
		ibv_ack_cq_events(b.cq, 1);
		check(ibv_poll_cq(b.cq, 1, &wc) == 1 &&
		      wc.status == IBV_WC_LOC_LEN_ERR,
		      "solicited: the receive did not fail with a length error");
		printf("ok: solicited: a solicited-only CQ woke for an error completion\n");
	}
out:
	free_end(&a);
	free_end(&b);
	if (ch)
		ibv_destroy_comp_channel(ch);
	if (dmr)
		ibv_dereg_mr(dmr);
	if (smr)
		ibv_dereg_mr(smr);
}

/*
 * To RTR towards 198.51.100.99, which t-rc-engine.sh routes through eth0
 * with a route MTU of 1300 bytes: RoCEv2 packets of a 1024-byte path MTU
 * fit, 2048-byte ones do not.
 */
static int to_rtr_far(struct ibv_qp *qp, enum ibv_mtu mtu)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = mtu,
		.dest_qp_num = 0x12345,
		.rq_psn = 0,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.grh = { .sgid_index = gid_index, .hop_limit = 64 },
			.port_num = 1,
		},
	};
	uint8_t *d = a.ah_attr.grh.dgid.raw;

	d[10] = d[11] = 0xff;
	d[12] = 198, d[13] = 51, d[14] = 100, d[15] = 99;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV |
			     IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			     IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			     IBV_QP_MIN_RNR_TIMER);
}

static void case_path_mtu(void)
{
	struct end a = {};
	int err;

	if (make_end(&a, 4, 4) || to_init(a.qp)) {
		check(false, "path-mtu: setup failed");
		goto out;
	}
	err = to_rtr_far(a.qp, IBV_MTU_2048);
	check(err == EINVAL,
	      "path-mtu: path MTU 2048 on a route of MTU 1300: got %d (%s), want EINVAL",
	      err, strerror(err));
	err = to_rtr_far(a.qp, IBV_MTU_1024);
	check(!err, "path-mtu: path MTU 1024 on a route of MTU 1300: %s",
	      strerror(err));
	if (!err)
		printf("ok: path-mtu: 2048 refused and 1024 taken on a route of MTU 1300\n");
out:
	free_end(&a);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "path-mtu", case_path_mtu },
	{ "post-state", case_post_state },
	{ "rd-atomic", case_rd_atomic },
	{ "solicited", case_solicited },
	{ "cq-overflow", case_cq_overflow },
	{ "rnr", case_rnr },
	{ "psn-space", case_psn_space },
};

int main(int argc, char **argv)
{
	unsigned int i;
	int j;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DEV GID_INDEX [CASE...]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = open_by_name(argv[1]);
	gid_index = atoi(argv[2]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 2;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return 2;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool run = argc == 3;

		for (j = 3; j < argc; j++)
			run |= !strcmp(argv[j], cases[i].name);
		if (run)
			cases[i].fn();
	}
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("rc_engine: %d failures\n", failures);
	return failures ? 1 : 0;
}
