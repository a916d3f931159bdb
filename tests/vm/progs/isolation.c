// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Two sroce devices in two network namespaces whose netdevs have the same
 * address.  A victim QP pair runs on device A; on device B an attacker QP
 * is connected to the victim's QP number, with the addresses and PSN the
 * victim expects, and WRITEs into the victim's MR with its rkey.  The
 * packets arrive in B's namespace and must not reach A's QP: the victim's
 * memory stays as it was and the attacker's WRITE fails with a transport
 * retry error.  Controls: the victim pair itself, and a pair on B, work.
 *
 *   isolation DEV_A GID_INDEX_A DEV_B GID_INDEX_B
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

struct side {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	int gid_index;
	union ibv_gid gid;
};

static int open_side(struct side *s, const char *name, int gid_index)
{
	s->ctx = open_by_name(name);
	if (!s->ctx)
		return -1;
	s->gid_index = gid_index;
	s->pd = ibv_alloc_pd(s->ctx);
	s->cq = ibv_create_cq(s->ctx, 64, NULL, NULL, 0);
	if (!s->pd || !s->cq || ibv_query_gid(s->ctx, 1, gid_index, &s->gid))
		return -1;
	return 0;
}

static struct ibv_qp *new_qp(struct side *s)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC, .send_cq = s->cq, .recv_cq = s->cq,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(s->pd, &init);
}

/* WRITE 8 bytes from @src to (@va, @rkey) and wait for the completion. */
static int write8(struct side *s, struct ibv_qp *qp, uint64_t *src,
		  struct ibv_mr *mr, uint64_t va, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)src, .length = 8, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = va, .rkey = rkey },
	}, *bad;
	struct ibv_wc wc;
	int tries = 30000;
	int n;

	if (ibv_post_send(qp, &wr, &bad))
		return -1;
	while (!(n = ibv_poll_cq(s->cq, 1, &wc)) && --tries)
		usleep(1000);
	return n == 1 ? wc.status : -1;
}

int main(int argc, char **argv)
{
	static uint64_t victim_mem = 0x1111111111111111ULL;
	static uint64_t b_mem;
	static uint64_t a_src = 0x2222222222222222ULL;
	static uint64_t b_src = 0x6666666666666666ULL;
	struct ibv_qp *v, *w, *x, *y, *z;
	struct ibv_mr *vmr, *amr, *bmr, *bsrc;
	struct side a, b;
	int st;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DEV_A GID_A DEV_B GID_B\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (open_side(&a, argv[1], atoi(argv[2])) ||
	    open_side(&b, argv[3], atoi(argv[4]))) {
		fprintf(stderr, "cannot open the devices\n");
		return 2;
	}
	check(!memcmp(&a.gid, &b.gid, sizeof(a.gid)),
	      "the two devices' GIDs differ: the test needs the same address");
	vmr = ibv_reg_mr(a.pd, &victim_mem, 8, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE);
	amr = ibv_reg_mr(a.pd, &a_src, 8, 0);
	bmr = ibv_reg_mr(b.pd, &b_mem, 8, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE);
	bsrc = ibv_reg_mr(b.pd, &b_src, 8, 0);
	v = new_qp(&a);
	w = new_qp(&a);
	x = new_qp(&b);
	y = new_qp(&b);
	z = new_qp(&b);
	if (!vmr || !amr || !bmr || !bsrc || !v || !w || !x || !y || !z) {
		fprintf(stderr, "setup failed\n");
		return 2;
	}
	/* The victim pair on A; on B, x aims at the victim, y and z a pair. */
	if (rc_qp_connect(v, w->qp_num, a.gid_index, &a.gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(w, v->qp_num, a.gid_index, &a.gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(x, v->qp_num, b.gid_index, &b.gid, IBV_MTU_1024,
			  12, 1, 0) ||
	    rc_qp_connect(y, z->qp_num, b.gid_index, &b.gid, IBV_MTU_1024,
			  14, 7, 7) ||
	    rc_qp_connect(z, y->qp_num, b.gid_index, &b.gid, IBV_MTU_1024,
			  14, 7, 7)) {
		fprintf(stderr, "connect failed\n");
		return 2;
	}
	printf("victim QP %#x on %s, attacker QP %#x on %s\n", v->qp_num,
	       argv[1], x->qp_num, argv[3]);

	st = write8(&b, x, &b_src, bsrc, (uintptr_t)&victim_mem, vmr->rkey);
	check(victim_mem == 0x1111111111111111ULL,
	      "the attacker's WRITE changed the victim's memory to %#llx",
	      (unsigned long long)victim_mem);
	check(st == IBV_WC_RETRY_EXC_ERR,
	      "the attacker's WRITE completed with %s, expected transport retry exceeded",
	      st < 0 ? "nothing" : ibv_wc_status_str(st));
	if (!failures)
		printf("ok: a WRITE from namespace B at A's QP number did not reach it (%s)\n",
		       ibv_wc_status_str(st));

	st = write8(&a, w, &a_src, amr, (uintptr_t)&victim_mem, vmr->rkey);
	check(st == IBV_WC_SUCCESS && victim_mem == a_src,
	      "the victim pair's own WRITE: %d, memory %#llx", st,
	      (unsigned long long)victim_mem);
	st = write8(&b, y, &b_src, bsrc, (uintptr_t)&b_mem, bmr->rkey);
	check(st == IBV_WC_SUCCESS && b_mem == b_src,
	      "a pair on B: %d, memory %#llx", st, (unsigned long long)b_mem);
	if (!failures)
		printf("ok: the pairs within each namespace work\n");

	ibv_destroy_qp(z);
	ibv_destroy_qp(y);
	ibv_destroy_qp(x);
	ibv_destroy_qp(w);
	ibv_destroy_qp(v);
	ibv_dereg_mr(bsrc);
	ibv_dereg_mr(bmr);
	ibv_dereg_mr(amr);
	ibv_dereg_mr(vmr);
	printf("isolation: %d failures\n", failures);
	return failures ? 1 : 0;
}
