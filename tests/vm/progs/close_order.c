// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Destroying a context's objects after ibv_close_device, in any order.
 *
 *   close_order <device> <gid index> <iterations>
 *   close_order <device> <gid index> exit
 *
 * Each iteration opens the device; creates a PD, an MR, a CQ, an extended
 * CQ, two RC QPs connected to each other (moved to RTS, with one SEND
 * checked), a UD QP and an AH; closes the device first, and then destroys
 * every object in one of the orders below (the last one random): each
 * destroy must succeed, or fail with EBUSY exactly while the object still
 * has live children (a PD with an MR, QP or AH, a CQ with a QP), in which
 * case it is retried once they are gone.  "exit" does the same creations,
 * closes the device and exits with every object still alive; the kernel
 * cleans up.  Prints "ok:" and "FAIL:" lines, exits non-zero on failures.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

enum obj { PD, MR, CQ, CQX, QPA, QPB, QPUD, AH, NOBJ };

static const char *const obj_name[NOBJ] = {
	"pd", "mr", "cq", "cq_ex", "rc qp a", "rc qp b", "ud qp", "ah",
};

/* The orders of destruction tried, NOBJ entries each. */
static const enum obj orders[][NOBJ] = {
	{ QPA, QPB, QPUD, AH, MR, CQ, CQX, PD },	/* children first */
	{ PD, CQX, CQ, AH, QPUD, QPB, QPA, MR },	/* parents first */
	{ CQ, QPA, CQX, QPUD, QPB, PD, AH, MR },	/* CQ before its QPs */
	{ PD, MR, AH, QPA, QPB, QPUD, CQ, CQX },	/* MR after the PD */
	{ AH, CQX, MR, QPUD, CQ, QPB, PD, QPA },
	{ PD, MR, CQ, CQX, QPA, QPB, QPUD, AH },	/* creation order */
	{ 0 },					/* random */
};
#define NORDERS (sizeof(orders) / sizeof(orders[0]))

struct objs {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_cq_ex *cqx;
	struct ibv_qp *qpa, *qpb, *qpud;
	struct ibv_ah *ah;
	bool alive[NOBJ];
	char buf[8192];
};

static struct ibv_qp *make_qp(struct objs *o, enum ibv_qp_type type,
			      struct ibv_cq *cq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq,
		.recv_cq = cq,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = type,
	};

	return ibv_create_qp(o->pd, &a);
}

/* A SEND from RC QP a to b, both completions polled from the CQ. */
static int rc_send(struct objs *o)
{
	struct ibv_sge rsge = {
		.addr = (uintptr_t)o->buf + 4096, .length = 64,
		.lkey = o->mr->lkey,
	};
	struct ibv_sge ssge = {
		.addr = (uintptr_t)o->buf, .length = 64, .lkey = o->mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = &rsge, .num_sge = 1 };
	struct ibv_send_wr swr = {
		.wr_id = 1, .sg_list = &ssge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_recv_wr *rbad;
	struct ibv_send_wr *sbad;
	struct ibv_wc wc;
	int got = 0, spins;

	memset(o->buf, 0x5a, 64);
	if (ibv_post_recv(o->qpb, &rwr, &rbad) ||
	    ibv_post_send(o->qpa, &swr, &sbad))
		return -1;
	for (spins = 0; got < 2 && spins < 2000000; spins++) {
		int n = ibv_poll_cq(o->cq, 1, &wc);

		if (n < 0 || (n == 1 && wc.status != IBV_WC_SUCCESS))
			return -1;
		if (n == 0)
			usleep(10);
		got += n;
	}
	return got == 2 && o->buf[4096] == 0x5a ? 0 : -1;
}

static int create_all(struct objs *o, const char *dev, int gid_index)
{
	struct ibv_cq_init_attr_ex cqa = {
		.cqe = 16, .wc_flags = IBV_WC_STANDARD_FLAGS,
	};
	struct ibv_ah_attr aha = { .is_global = 1, .port_num = 1 };
	union ibv_gid gid;

	memset(o, 0, sizeof(*o));
	o->ctx = open_by_name(dev);
	if (!o->ctx || ibv_query_gid(o->ctx, 1, gid_index, &gid))
		return -1;
	o->pd = ibv_alloc_pd(o->ctx);
	if (!o->pd)
		return -1;
	o->alive[PD] = true;
	o->mr = ibv_reg_mr(o->pd, o->buf, sizeof(o->buf),
			   IBV_ACCESS_LOCAL_WRITE);
	if (!o->mr)
		return -1;
	o->alive[MR] = true;
	o->cq = ibv_create_cq(o->ctx, 16, NULL, NULL, 0);
	if (!o->cq)
		return -1;
	o->alive[CQ] = true;
	o->cqx = ibv_create_cq_ex(o->ctx, &cqa);
	if (!o->cqx)
		return -1;
	o->alive[CQX] = true;
	o->qpa = make_qp(o, IBV_QPT_RC, o->cq);
	if (!o->qpa)
		return -1;
	o->alive[QPA] = true;
	o->qpb = make_qp(o, IBV_QPT_RC, o->cq);
	if (!o->qpb)
		return -1;
	o->alive[QPB] = true;
	o->qpud = make_qp(o, IBV_QPT_UD, ibv_cq_ex_to_cq(o->cqx));
	if (!o->qpud)
		return -1;
	o->alive[QPUD] = true;
	aha.grh.dgid = gid;
	aha.grh.sgid_index = gid_index;
	aha.grh.hop_limit = 64;
	o->ah = ibv_create_ah(o->pd, &aha);
	if (!o->ah)
		return -1;
	o->alive[AH] = true;
	if (rc_qp_connect(o->qpa, o->qpb->qp_num, gid_index, &gid,
			  IBV_MTU_1024, 14, 7, 7) ||
	    rc_qp_connect(o->qpb, o->qpa->qp_num, gid_index, &gid,
			  IBV_MTU_1024, 14, 7, 7))
		return -1;
	return rc_send(o);
}

/* May @which not be destroyed yet, because a child of it lives? */
static bool busy(const struct objs *o, enum obj which)
{
	switch (which) {
	case PD:
		return o->alive[MR] || o->alive[QPA] || o->alive[QPB] ||
		       o->alive[QPUD] || o->alive[AH];
	case CQ:
		return o->alive[QPA] || o->alive[QPB];
	case CQX:
		return o->alive[QPUD];
	default:
		return false;
	}
}

static int destroy(struct objs *o, enum obj which)
{
	switch (which) {
	case PD: return ibv_dealloc_pd(o->pd);
	case MR: return ibv_dereg_mr(o->mr);
	case CQ: return ibv_destroy_cq(o->cq);
	case CQX: return ibv_destroy_cq(ibv_cq_ex_to_cq(o->cqx));
	case QPA: return ibv_destroy_qp(o->qpa);
	case QPB: return ibv_destroy_qp(o->qpb);
	case QPUD: return ibv_destroy_qp(o->qpud);
	case AH: return ibv_destroy_ah(o->ah);
	default: return EINVAL;
	}
}

/*
 * Destroy what is alive in @order, again and again until nothing is:
 * each destroy succeeds, or is refused with EBUSY while it is busy().
 * The number of unexpected results.
 */
static int destroy_all(struct objs *o, const enum obj *order, int iter)
{
	int bad = 0, pass, i, ret;
	bool left = true;

	for (pass = 0; left && pass < NOBJ; pass++) {
		left = false;
		for (i = 0; i < NOBJ; i++) {
			enum obj w = order[i];
			bool was_busy;

			if (!o->alive[w])
				continue;
			was_busy = busy(o, w);
			ret = destroy(o, w);
			if (!ret && !was_busy) {
				o->alive[w] = false;
				continue;
			}
			left = true;
			if (ret == EBUSY && was_busy)
				continue;
			printf("FAIL: iteration %d: destroying the %s after the close: %s (%s expected)\n",
			       iter, obj_name[w], ret ? strerror(ret) : "success",
			       was_busy ? "EBUSY" : "success");
			bad++;
			if (!ret)
				o->alive[w] = false;
			else if (!was_busy)
				return bad + 1;	/* it would fail forever */
		}
	}
	return bad;
}

static void random_order(enum obj *order, unsigned int *seed)
{
	int i, j;

	for (i = 0; i < NOBJ; i++)
		order[i] = i;
	for (i = NOBJ - 1; i > 0; i--) {
		enum obj t;

		j = rand_r(seed) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

int main(int argc, char **argv)
{
	unsigned int seed = 1;
	struct objs *o;
	int iters, it, gid_index, bad_iters = 0;
	int per_order[NORDERS] = {};
	unsigned int k;

	if (argc != 4) {
		fprintf(stderr, "usage: %s <device> <gid index> <iterations>|exit\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	gid_index = atoi(argv[2]);
	o = calloc(1, sizeof(*o));
	if (!o)
		return 2;

	if (!strcmp(argv[3], "exit")) {
		if (create_all(o, argv[1], gid_index)) {
			printf("FAIL: creating the objects: %s\n", strerror(errno));
			return 1;
		}
		report(!ibv_close_device(o->ctx),
		       "closed %s, exiting with its PD, MR, CQs, QPs and AH alive",
		       argv[1]);
		return failures ? 1 : 0;
	}

	iters = atoi(argv[3]);
	for (it = 0; it < iters; it++) {
		enum obj order[NOBJ];
		int ret;

		k = it % NORDERS;
		if (k == NORDERS - 1)
			random_order(order, &seed);
		else
			memcpy(order, orders[k], sizeof(order));
		if (create_all(o, argv[1], gid_index)) {
			printf("FAIL: iteration %d: creating the objects: %s\n",
			       it, strerror(errno));
			failures++;
			break;
		}
		ret = ibv_close_device(o->ctx);
		check(!ret, "iteration %d: ibv_close_device: %d", it, ret);
		ret = destroy_all(o, order, it);
		if (ret) {
			failures += ret;
			if (++bad_iters >= 5) {
				printf("FAIL: giving up after %d bad iterations\n",
				       bad_iters);
				break;
			}
		} else {
			per_order[k]++;
		}
	}
	for (k = 0; k < NORDERS; k++)
		printf("order %u%s: %d clean iterations\n", k,
		       k == NORDERS - 1 ? " (random)" : "", per_order[k]);
	report(!failures && it == iters,
	       "%d iterations: every object destroyed after ibv_close_device, in %zu orders",
	       iters, NORDERS);
	free(o);
	return failures ? 1 : 0;
}
