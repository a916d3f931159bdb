// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibv_resize_cq.  Two RC QPs of one device, a sending to b; b's receives
 * complete on a small CQ that is resized:
 *
 *   grow      6 completions wait in an 8-entry CQ, which grows to 100:
 *             the 6 are polled afterwards, in order, with their data,
 *             then 40 more at once (more than the old size) arrive too
 *   shrink    with 20 waiting, a resize to 8 fails with EINVAL and the 20
 *             are still there; with 5 waiting, a resize to 8 works
 *   sizes     0 and max_cqe + 1 are EINVAL
 *   race      100 rounds of 16 SENDs, the CQ resized between 16, 32 and
 *             64 entries while their completions arrive: every wr_id
 *             once, in order, none lost
 *   ex        an extended CQ, resized with 6 waiting, polled with
 *             ibv_start_poll/ibv_next_poll
 *
 *   cq_resize <device> <gid index>
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

#define MSG		64
#define SLOTS		128
#define QP_DEPTH	128

static struct ibv_context *ctx;
static struct ibv_device_attr dev_attr;
static union ibv_gid gid;
static int gid_index;
static struct ibv_pd *pd;
static struct ibv_cq *send_cq;
static struct ibv_mr *mr;
static uint8_t *buf;		/* SLOTS send messages, then SLOTS receive */
static uint64_t next_wr;	/* wr_id of the next SEND and its receive */

struct pair {
	struct ibv_cq *rcq;	/* b's receive CQ, the one resized */
	struct ibv_qp *a, *b;
};

static uint8_t *send_slot(uint64_t n)
{
	return buf + (n % SLOTS) * MSG;
}

static uint8_t *recv_slot(uint64_t n)
{
	return buf + (SLOTS + n % SLOTS) * MSG;
}

static void fill(uint8_t *p, uint64_t n)
{
	int i;

	for (i = 0; i < MSG; i++)
		p[i] = (uint8_t)(n * 7 + i);
}

static int pair_init(struct pair *p, struct ibv_cq *rcq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = send_cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = QP_DEPTH, .max_recv_wr = QP_DEPTH,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	p->rcq = rcq;
	init.recv_cq = send_cq;
	p->a = ibv_create_qp(pd, &init);
	init.recv_cq = rcq;
	p->b = ibv_create_qp(pd, &init);
	if (!p->a || !p->b)
		return -1;
	return rc_qp_connect(p->a, p->b->qp_num, gid_index, &gid,
			     IBV_MTU_1024, 14, 7, 7) ||
	       rc_qp_connect(p->b, p->a->qp_num, gid_index, &gid,
			     IBV_MTU_1024, 14, 7, 7);
}

static void pair_fini(struct pair *p)
{
	if (p->a)
		ibv_destroy_qp(p->a);
	if (p->b)
		ibv_destroy_qp(p->b);
}

/* Post @n receives on b and @n SENDs from a, the next wr_ids. */
static int post(struct pair *p, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t id = next_wr + i;
		struct ibv_sge rsge = {
			.addr = (uintptr_t)recv_slot(id), .length = MSG,
			.lkey = mr->lkey,
		};
		struct ibv_recv_wr rwr = {
			.wr_id = id, .sg_list = &rsge, .num_sge = 1,
		}, *bad_rwr;

		memset(recv_slot(id), 0, MSG);
		if (ibv_post_recv(p->b, &rwr, &bad_rwr))
			return -1;
	}
	for (i = 0; i < n; i++) {
		uint64_t id = next_wr + i;
		struct ibv_sge sge = {
			.addr = (uintptr_t)send_slot(id), .length = MSG,
			.lkey = mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = id, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
		}, *bad;

		fill(send_slot(id), id);
		if (ibv_post_send(p->a, &wr, &bad))
			return -1;
	}
	next_wr += n;
	return 0;
}

/*
 * Wait for @n SEND completions.  sroce completes a receive before it
 * acknowledges the SEND, so b's CQ then holds their receives.
 */
static int wait_sends(int n)
{
	struct ibv_wc wc;
	time_t end = time(NULL) + 20;
	int got = 0, r;

	while (got < n && time(NULL) < end) {
		r = ibv_poll_cq(send_cq, 1, &wc);
		if (r < 0)
			return -1;
		if (r && wc.status != IBV_WC_SUCCESS) {
			printf("send wr %llu: %s\n",
			       (unsigned long long)wc.wr_id,
			       ibv_wc_status_str(wc.status));
			return -1;
		}
		got += r;
	}
	return got == n ? 0 : -1;
}

/*
 * Poll @n receive completions from @cq: wr_ids from *@expect on, in
 * order, with their data.  Returns how many were right.
 */
static int poll_recvs(struct ibv_cq *cq, int n, uint64_t *expect)
{
	struct ibv_wc wc[8];
	uint8_t want[MSG];
	time_t end = time(NULL) + 20;
	int got = 0, r, i;

	while (got < n && time(NULL) < end) {
		r = ibv_poll_cq(cq, n - got < 8 ? n - got : 8, wc);
		if (r < 0)
			return got;
		for (i = 0; i < r; i++) {
			fill(want, *expect);
			if (wc[i].status != IBV_WC_SUCCESS ||
			    wc[i].wr_id != *expect || wc[i].byte_len != MSG ||
			    memcmp(recv_slot(*expect), want, MSG)) {
				printf("receive %d: wr_id %llu status %s len %u, expected wr_id %llu\n",
				       got + i, (unsigned long long)wc[i].wr_id,
				       ibv_wc_status_str(wc[i].status),
				       wc[i].byte_len,
				       (unsigned long long)*expect);
				return got + i;
			}
			(*expect)++;
		}
		got += r;
	}
	return got;
}

static int cq_empty(struct ibv_cq *cq)
{
	struct ibv_wc wc;

	return ibv_poll_cq(cq, 1, &wc) == 0;
}

static void test_grow(void)
{
	struct pair p = {};
	struct ibv_cq *cq = ibv_create_cq(ctx, 8, NULL, NULL, 0);
	uint64_t expect;
	int ret;

	if (!cq || pair_init(&p, cq)) {
		check(0, "grow: setup");
		goto out;
	}
	expect = next_wr;
	check(!post(&p, 6) && !wait_sends(6), "grow: 6 SENDs");
	ret = ibv_resize_cq(cq, 100);
	report(!ret && cq->cqe >= 100,
	       "grow: 8 -> 100 with 6 waiting (ret %d, cqe %d)", ret, cq->cqe);
	report(poll_recvs(cq, 6, &expect) == 6 && cq_empty(cq),
	       "grow: the 6 waiting CQEs polled after the resize, in order, data right");
	check(!post(&p, 40) && !wait_sends(40), "grow: 40 SENDs");
	report(poll_recvs(cq, 40, &expect) == 40 && cq_empty(cq),
	       "grow: 40 completions at once in the grown CQ");
out:
	pair_fini(&p);
	if (cq)
		ibv_destroy_cq(cq);
}

static void test_shrink(void)
{
	struct pair p = {};
	struct ibv_cq *cq = ibv_create_cq(ctx, 32, NULL, NULL, 0);
	uint64_t expect;
	int ret, cqe;

	if (!cq || pair_init(&p, cq)) {
		check(0, "shrink: setup");
		goto out;
	}
	expect = next_wr;
	check(!post(&p, 20) && !wait_sends(20), "shrink: 20 SENDs");
	cqe = cq->cqe;
	ret = ibv_resize_cq(cq, 8);
	report(ret == EINVAL && cq->cqe == cqe,
	       "shrink: 32 -> 8 with 20 waiting is EINVAL (ret %d), size kept",
	       ret);
	report(poll_recvs(cq, 20, &expect) == 20 && cq_empty(cq),
	       "shrink: the 20 are still there after the refusal");
	check(!post(&p, 5) && !wait_sends(5), "shrink: 5 SENDs");
	ret = ibv_resize_cq(cq, 8);
	report(!ret && cq->cqe >= 8 && cq->cqe < 32,
	       "shrink: 32 -> 8 with 5 waiting (ret %d, cqe %d)", ret,
	       cq->cqe);
	report(poll_recvs(cq, 5, &expect) == 5 && cq_empty(cq),
	       "shrink: the 5 polled from the smaller CQ");
	ret = ibv_resize_cq(cq, 0);
	report(ret == EINVAL, "sizes: a resize to 0 is EINVAL (ret %d)", ret);
	ret = ibv_resize_cq(cq, dev_attr.max_cqe + 1);
	report(ret == EINVAL, "sizes: a resize to max_cqe + 1 is EINVAL (ret %d)",
	       ret);
	check(!post(&p, 3) && !wait_sends(3), "sizes: 3 SENDs");
	report(poll_recvs(cq, 3, &expect) == 3,
	       "sizes: the CQ works after the refusals");
out:
	pair_fini(&p);
	if (cq)
		ibv_destroy_cq(cq);
}

static void test_race(void)
{
	static const int sizes[] = { 16, 32, 64 };
	struct pair p = {};
	struct ibv_cq *cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	uint64_t expect;
	int round, bad = 0, resized = 0;

	if (!cq || pair_init(&p, cq)) {
		check(0, "race: setup");
		goto out;
	}
	expect = next_wr;
	for (round = 0; round < 100 && !bad; round++) {
		if (post(&p, 16)) {
			bad = 1;
			break;
		}
		/* The SENDs are on their way: resize under them. */
		if (!ibv_resize_cq(cq, sizes[round % 3]))
			resized++;
		if (poll_recvs(cq, 16, &expect) != 16 || wait_sends(16))
			bad = 1;
	}
	report(!bad && resized == round && cq_empty(cq),
	       "race: %d rounds of 16 SENDs with a resize each (%d done), every completion once and in order",
	       round, resized);
out:
	pair_fini(&p);
	if (cq)
		ibv_destroy_cq(cq);
}

static void test_ex(void)
{
	struct ibv_cq_init_attr_ex attr = {
		.cqe = 8, .wc_flags = IBV_WC_STANDARD_FLAGS,
	};
	struct ibv_poll_cq_attr pattr = {};
	struct ibv_cq_ex *cqx = ibv_create_cq_ex(ctx, &attr);
	struct ibv_cq *cq = cqx ? ibv_cq_ex_to_cq(cqx) : NULL;
	struct pair p = {};
	uint64_t expect;
	int ret, n = 0, ok = 1;

	if (!cq || pair_init(&p, cq)) {
		check(0, "ex: setup");
		goto out;
	}
	expect = next_wr;
	check(!post(&p, 6) && !wait_sends(6), "ex: 6 SENDs");
	ret = ibv_resize_cq(cq, 64);
	check(!ret, "ex: resize 8 -> 64 (ret %d)", ret);
	ret = ibv_start_poll(cqx, &pattr);
	while (!ret) {
		if (cqx->status != IBV_WC_SUCCESS || cqx->wr_id != expect ||
		    ibv_wc_read_byte_len(cqx) != MSG)
			ok = 0;
		expect++;
		n++;
		ret = ibv_next_poll(cqx);
	}
	if (n)
		ibv_end_poll(cqx);
	report(ok && n == 6 && ret == ENOENT,
	       "ex: an extended CQ resized with 6 waiting gives them to start_poll/next_poll (%d)",
	       n);
out:
	pair_fini(&p);
	if (cq)
		ibv_destroy_cq(cq);
}

int main(int argc, char **argv)
{
	int access = IBV_ACCESS_LOCAL_WRITE;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <device> <gid index>\n", argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_device(ctx, &dev_attr) ||
	    ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: cannot open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	send_cq = ibv_create_cq(ctx, 4 * QP_DEPTH, NULL, NULL, 0);
	buf = aligned_alloc(4096, 2 * SLOTS * MSG);
	mr = pd && buf ? ibv_reg_mr(pd, buf, 2 * SLOTS * MSG, access) : NULL;
	if (!send_cq || !mr) {
		printf("FAIL: setup\n");
		return 1;
	}
	test_grow();
	test_shrink();
	test_race();
	test_ex();
	ibv_dereg_mr(mr);
	ibv_destroy_cq(send_cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}
