// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The RC QP state machine beyond the happy path, on two QPs of one device:
 *
 *   qp_states DEV GID_INDEX
 *
 * - transitions the IBTA forbids (RESET to RTS, INIT to SQD, RTS to SQE:
 *   an RC QP never enters SQE, its send errors take it to ERR) fail with
 *   EINVAL and leave the state alone;
 * - RTS to SQD while WRITEs are in flight: the messages already begun
 *   complete, IBV_EVENT_SQ_DRAINED follows, nothing else starts, WRs
 *   posted in SQD wait, attributes may change in SQD, and back in RTS
 *   every WR completes in order with the data in place;
 * - SQD to ERR flushes what waits;
 * - RESET takes the QP's completions out of its CQ, and only its own:
 *   the other QPs' stay, in order.
 *
 * Prints "ok: ..." per check passed and "FAIL: ..." otherwise; exits 1 on
 * any failure.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define NR_WRITES	32
#define NR_LATE		4
#define WRITE_SIZE	(256 * 1024)
#define BUF_SIZE	(NR_WRITES * WRITE_SIZE)

static struct ibv_context *ctx;
static struct ibv_cq *cq;

static void ok(const char *what)
{
	printf("ok: %s\n", what);
}

static enum ibv_qp_state qp_state(struct ibv_qp *qp, struct ibv_qp_attr *a)
{
	struct ibv_qp_init_attr init;

	if (ibv_query_qp(qp, a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			 IBV_QP_RETRY_CNT | IBV_QP_EN_SQD_ASYNC_NOTIFY, &init))
		return (enum ibv_qp_state)-1;
	return a->qp_state;
}

static void expect_refused(struct ibv_qp *qp, enum ibv_qp_state to, int mask,
			   const char *what)
{
	struct ibv_qp_attr a = { .qp_state = to, .port_num = 1 }, q;
	enum ibv_qp_state before = qp_state(qp, &q);
	int err = ibv_modify_qp(qp, &a, IBV_QP_STATE | mask);

	check(err == EINVAL, "%s: ibv_modify_qp returned %d, expected EINVAL",
	      what, err);
	check(qp_state(qp, &q) == before, "%s: the state changed to %d", what,
	      q.qp_state);
	if (err == EINVAL && q.qp_state == before)
		ok(what);
}

/* Wait up to @ms for the next async event; returns its type or -1. */
static int next_event(int ms, struct ibv_qp **qp)
{
	struct pollfd p = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;
	int type;

	if (poll(&p, 1, ms) != 1 || ibv_get_async_event(ctx, &ev))
		return -1;
	type = ev.event_type;
	*qp = ev.element.qp;
	ibv_ack_async_event(&ev);
	return type;
}

/* Poll completions for @ms into @wc[*n...]; returns how many arrived. */
static int poll_for(int ms, struct ibv_wc *wc, int *n, int max)
{
	struct timespec start, now;
	int before = *n, got;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		got = ibv_poll_cq(cq, max - *n, wc + *n);
		if (got > 0)
			*n += got;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (*n < max && (now.tv_sec - start.tv_sec) * 1000 +
		 (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
	return *n - before;
}

/*
 * @count signaled WRITEs of WRITE_SIZE, from slot @index on, with wr_ids
 * from @wr_id on, in one ibv_post_send (one doorbell).
 */
static int post_writes(struct ibv_qp *qp, struct ibv_mr *src,
		       struct ibv_mr *dst, uint64_t wr_id, int index, int count)
{
	struct ibv_sge sge[NR_WRITES];
	struct ibv_send_wr wr[NR_WRITES], *bad;
	int i;

	for (i = 0; i < count; i++) {
		sge[i] = (struct ibv_sge){
			.addr = (uintptr_t)src->addr +
				(size_t)(index + i) * WRITE_SIZE,
			.length = WRITE_SIZE,
			.lkey = src->lkey,
		};
		wr[i] = (struct ibv_send_wr){
			.wr_id = wr_id + i,
			.next = i + 1 < count ? &wr[i + 1] : NULL,
			.sg_list = &sge[i],
			.num_sge = 1,
			.opcode = IBV_WR_RDMA_WRITE,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.rdma.remote_addr = (uintptr_t)dst->addr +
				(size_t)(index + i) * WRITE_SIZE,
			.wr.rdma.rkey = dst->rkey,
		};
	}
	return ibv_post_send(qp, wr, &bad);
}

static int post_write(struct ibv_qp *qp, struct ibv_mr *src, struct ibv_mr *dst,
		      uint64_t wr_id, int index)
{
	return post_writes(qp, src, dst, wr_id, index, 1);
}

/*
 * Flush completions of three QPs in ERR that share the CQ, not polled
 * (@gone's between the others'), then @gone to RESET: only the others'
 * come out of the CQ, in the order they were made.
 */
static void reset_cleans_cq(struct ibv_qp *other, struct ibv_qp *gone,
			    struct ibv_qp *third, struct ibv_mr *src,
			    struct ibv_mr *dst)
{
	static const uint64_t want[] = { 201, 401, 202 };
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };
	struct ibv_wc wc[8];
	int i, n = 0, in_order = 1;

	check(!ibv_modify_qp(other, &a, IBV_QP_STATE) &&
	      !ibv_modify_qp(third, &a, IBV_QP_STATE), "to ERR: %s",
	      strerror(errno));
	poll_for(300, wc, &n, 8);	/* whatever those flushed */
	n = 0;
	check(!post_write(other, src, dst, 201, 0) &&
	      !post_writes(gone, src, dst, 301, 0, 3) &&
	      !post_write(third, src, dst, 401, 0) &&
	      !post_write(other, src, dst, 202, 0),
	      "posting to QPs in ERR: %s", strerror(errno));
	usleep(300 * 1000);	/* for the flushes to reach the CQ */
	a.qp_state = IBV_QPS_RESET;
	check(!ibv_modify_qp(gone, &a, IBV_QP_STATE), "ERR to RESET: %s",
	      strerror(errno));
	poll_for(1000, wc, &n, 8);
	for (i = 0; i < n; i++) {
		printf("after RESET: wr_id %llu, %s\n",
		       (unsigned long long)wc[i].wr_id,
		       ibv_wc_status_str(wc[i].status));
		if (i >= 3 || wc[i].wr_id != want[i] ||
		    wc[i].status != IBV_WC_WR_FLUSH_ERR)
			in_order = 0;
	}
	check(n == 3 && in_order,
	      "RESET: expected the other QPs' 3 flushes (201, 401, 202), got %d",
	      n);
	if (n == 3 && in_order)
		ok("RESET takes the QP's completions from the CQ, only its own");
}

int main(int argc, char **argv)
{
	struct ibv_qp_init_attr qpa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 64, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_wc wc[NR_WRITES + NR_LATE];
	struct ibv_qp *req, *resp, *fresh, *evqp;
	struct ibv_qp_attr a, q;
	struct ibv_mr *src, *dst;
	union ibv_gid gid;
	struct ibv_pd *pd;
	int gid_index, i, n = 0, begun, ev, in_order = 1, attempt;
	char *sbuf, *dbuf;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEV GID_INDEX\n", argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		fprintf(stderr, "cannot open %s or read GID %d\n", argv[1], gid_index);
		return 2;
	}
	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, 2 * (NR_WRITES + NR_LATE), NULL, NULL, 0);
	sbuf = aligned_alloc(4096, BUF_SIZE);
	dbuf = aligned_alloc(4096, BUF_SIZE);
	if (!pd || !cq || !sbuf || !dbuf)
		return 2;
	for (i = 0; i < BUF_SIZE; i++)
		sbuf[i] = (char)(i * 7 + i / WRITE_SIZE);
	memset(dbuf, 0, BUF_SIZE);
	src = ibv_reg_mr(pd, sbuf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE);
	dst = ibv_reg_mr(pd, dbuf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE);
	qpa.send_cq = cq;
	qpa.recv_cq = cq;
	req = ibv_create_qp(pd, &qpa);
	resp = ibv_create_qp(pd, &qpa);
	fresh = ibv_create_qp(pd, &qpa);
	if (!src || !dst || !req || !resp || !fresh) {
		fprintf(stderr, "setup failed: %s\n", strerror(errno));
		return 2;
	}

	/* What the IBTA forbids is refused, and changes nothing. */
	expect_refused(fresh, IBV_QPS_RTS, 0, "RESET to RTS is refused");
	a.qp_state = IBV_QPS_INIT;
	a.pkey_index = 0;
	a.port_num = 1;
	a.qp_access_flags = 0;
	if (ibv_modify_qp(fresh, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		check(0, "RESET to INIT: %s", strerror(errno));
	expect_refused(fresh, IBV_QPS_SQD, 0, "INIT to SQD is refused");
	expect_refused(fresh, IBV_QPS_RTR, 0,
		       "INIT to RTR without the required attributes is refused");

	if (rc_qp_connect(req, resp->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(resp, req->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7)) {
		fprintf(stderr, "connect: %s\n", strerror(errno));
		return 2;
	}
	expect_refused(req, IBV_QPS_SQE, 0, "RTS to SQE is refused on RC");
	expect_refused(req, IBV_QPS_RTR, 0, "RTS to RTR is refused");

	/*
	 * RTS to SQD with WRITEs in flight: posted with one doorbell, so that
	 * SQD comes right after it (with a doorbell a WRITE, the first ones
	 * could all be done before the last was posted).  Should this process
	 * lose its CPU between the two long enough for all of them to
	 * complete (a busy host), the drain was not exercised: back to RTS
	 * and again, a few times.
	 */
	for (attempt = 1;; attempt++) {
		n = 0;
		memset(dbuf, 0, BUF_SIZE);
		if (post_writes(req, src, dst, 0, 0, NR_WRITES))
			check(0, "post %d WRITEs: %s", NR_WRITES, strerror(errno));
		a.qp_state = IBV_QPS_SQD;
		a.en_sqd_async_notify = 1;
		check(!ibv_modify_qp(req, &a, IBV_QP_STATE |
				     IBV_QP_EN_SQD_ASYNC_NOTIFY),
		      "RTS to SQD: %s", strerror(errno));
		check(qp_state(req, &q) == IBV_QPS_SQD,
		      "after RTS to SQD the state is %d", q.qp_state);
		ev = next_event(20000, &evqp);
		check(ev == IBV_EVENT_SQ_DRAINED && evqp == req,
		      "expected IBV_EVENT_SQ_DRAINED for the QP, got event %d", ev);
		poll_for(300, wc, &n, NR_WRITES + NR_LATE);
		begun = n;
		printf("SQD: %d of %d WRITEs had begun and completed (attempt %d)\n",
		       begun, NR_WRITES, attempt);
		if (begun < NR_WRITES || attempt == 5)
			break;
		a.qp_state = IBV_QPS_RTS;
		check(!ibv_modify_qp(req, &a, IBV_QP_STATE), "SQD to RTS: %s",
		      strerror(errno));
	}
	if (ev == IBV_EVENT_SQ_DRAINED)
		ok("SQD: IBV_EVENT_SQ_DRAINED arrives");
	check(begun < NR_WRITES, "all WRITEs completed before SQD took effect, %d times; the drain was not exercised",
	      attempt);
	qp_state(req, &q);
	check(q.qp_state == IBV_QPS_SQD && !q.sq_draining,
	      "drained: state %d, sq_draining %d", q.qp_state, q.sq_draining);
	check(!poll_for(300, wc, &n, NR_WRITES + NR_LATE),
	      "a WRITE started in SQD");

	/* Posting in SQD is allowed; the WRs wait. */
	for (i = 0; i < NR_LATE; i++)
		if (post_write(req, src, dst, NR_WRITES + i, i))
			check(0, "post in SQD: %s", strerror(errno));
	check(!poll_for(300, wc, &n, NR_WRITES + NR_LATE),
	      "a WR posted in SQD was executed");
	if (n == begun)
		ok("SQD: nothing new starts, WRs posted in SQD wait");

	/* SQD to SQD may change attributes. */
	a.qp_state = IBV_QPS_SQD;
	a.timeout = 16;
	a.retry_cnt = 5;
	check(!ibv_modify_qp(req, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			     IBV_QP_RETRY_CNT),
	      "SQD to SQD with a new timeout: %s", strerror(errno));
	qp_state(req, &q);
	check(q.timeout == 16 && q.retry_cnt == 5,
	      "SQD: timeout %d retry_cnt %d after changing them", q.timeout,
	      q.retry_cnt);
	if (q.timeout == 16 && q.retry_cnt == 5)
		ok("SQD to SQD changes the timeout and retry count");

	/* Back to RTS: everything completes, in order, with the data. */
	a.qp_state = IBV_QPS_RTS;
	check(!ibv_modify_qp(req, &a, IBV_QP_STATE), "SQD to RTS: %s",
	      strerror(errno));
	poll_for(30000, wc, &n, NR_WRITES + NR_LATE);
	check(n == NR_WRITES + NR_LATE, "%d of %d WRs completed after SQD to RTS",
	      n, NR_WRITES + NR_LATE);
	for (i = 0; i < n; i++) {
		if (wc[i].status != IBV_WC_SUCCESS || wc[i].wr_id != (uint64_t)i)
			in_order = 0;
	}
	check(in_order, "completions out of order or failed");
	check(!memcmp(sbuf, dbuf, BUF_SIZE), "the WRITEs' data is not in place");
	if (n == NR_WRITES + NR_LATE && in_order && !memcmp(sbuf, dbuf, BUF_SIZE))
		ok("SQD to RTS: every WR completes in order with its data");

	/* SQD to ERR flushes what waits. */
	a.qp_state = IBV_QPS_SQD;
	check(!ibv_modify_qp(req, &a, IBV_QP_STATE), "RTS to SQD again: %s",
	      strerror(errno));
	next_event(20000, &evqp);
	for (i = 0; i < NR_LATE; i++)
		post_write(req, src, dst, 100 + i, i);
	a.qp_state = IBV_QPS_ERR;
	check(!ibv_modify_qp(req, &a, IBV_QP_STATE), "SQD to ERR: %s",
	      strerror(errno));
	n = 0;
	poll_for(10000, wc, &n, NR_LATE);
	for (i = 0; i < n; i++)
		check(wc[i].status == IBV_WC_WR_FLUSH_ERR,
		      "WR %llu after SQD to ERR: %s",
		      (unsigned long long)wc[i].wr_id,
		      ibv_wc_status_str(wc[i].status));
	check(n == NR_LATE, "%d of %d waiting WRs flushed", n, NR_LATE);
	if (n == NR_LATE)
		ok("SQD to ERR flushes the waiting WRs");

	reset_cleans_cq(resp, req, fresh, src, dst);

	ibv_destroy_qp(fresh);
	ibv_destroy_qp(req);
	ibv_destroy_qp(resp);
	ibv_dereg_mr(src);
	ibv_dereg_mr(dst);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("qp_states: %d failures\n", failures);
	return failures ? 1 : 0;
}
