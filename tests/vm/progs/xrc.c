// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XRC on one device, QPs looped back through one RoCE v2 GID:
 *
 *   xrc DEV GID_INDEX XRCD_FILE
 *
 *   domain    IBV_DEVICE_XRC; an XRC domain opened on a file (O_CREAT);
 *             two XRC SRQs with CQs of their own and distinct numbers
 *   send      one target QP (made with ibv_create_qp_ex, no CQ, no ring),
 *             one initiator QP: SENDs (3 packets; with immediate) to the
 *             two SRQs by number, through ibv_post_send and ibv_wr_*
 *             (ibv_wr_set_xrc_srqn); each lands in its SRQ, completes on
 *             its SRQ's CQ with the target QP's number, every byte checked
 *   rdma      a WRITE and a READ through the initiator, every byte checked
 *   shared    a child process opens the domain from the same file, opens
 *             the target QP with ibv_open_qp, creates an SRQ of its own in
 *             the domain; the parent's SEND to it lands in the child
 *   order     closing the domain with SRQs alive: EBUSY; an SRQ destroyed
 *             while its target QP lives: a SEND to it fails
 *   wrong     a SEND to an SRQ number that is not the target's domain's
 *             (no such SRQ, and an SRQ of another domain) completes with
 *             IBV_WC_REM_INV_REQ_ERR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BUF_SIZE	(1 << 20)
#define SLOT		8192
#define BIG		3000	/* three packets at MTU 1024 */
#define RDMA_LEN	5000
#define IMM		0x12345678

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_mr *mr;
static uint8_t *buf;
static union ibv_gid gid;
static int gid_index;
static const char *xrcd_path;

static uint8_t *slot(unsigned int i)
{
	return buf + (size_t)i * SLOT;
}

/* One completion of @cq within 5 s; 0 or -1. */
static int poll_one(struct ibv_cq *cq, struct ibv_wc *wc)
{
	time_t end = time(NULL) + 5;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n == 1 ? 0 : -1;
	} while (time(NULL) < end);
	return -1;
}

static struct ibv_xrcd *open_xrcd(struct ibv_context *c, int *fdp)
{
	struct ibv_xrcd_init_attr xa = {
		.comp_mask = IBV_XRCD_INIT_ATTR_FD | IBV_XRCD_INIT_ATTR_OFLAGS,
		.oflags = O_CREAT,
	};

	xa.fd = open(xrcd_path, O_RDONLY | O_CREAT, 0600);
	if (xa.fd < 0)
		return NULL;
	*fdp = xa.fd;
	return ibv_open_xrcd(c, &xa);
}

static struct ibv_srq *xrc_srq(struct ibv_context *c, struct ibv_pd *p,
			       struct ibv_xrcd *xrcd, struct ibv_cq *cq)
{
	struct ibv_srq_init_attr_ex ax = {
		.attr = { .max_wr = 16, .max_sge = 1 },
		.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD |
			     IBV_SRQ_INIT_ATTR_XRCD | IBV_SRQ_INIT_ATTR_CQ,
		.srq_type = IBV_SRQT_XRC,
		.pd = p,
		.xrcd = xrcd,
		.cq = cq,
	};

	return ibv_create_srq_ex(c, &ax);
}

static int post_srq(struct ibv_srq *srq, struct ibv_mr *m, uint8_t *addr,
		    uint64_t wr_id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = SLOT, .lkey = m->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	memset(addr, 0, SLOT);
	return ibv_post_srq_recv(srq, &wr, &bad);
}

static struct ibv_qp *tgt_qp(struct ibv_xrcd *xrcd)
{
	struct ibv_qp_init_attr_ex a = {
		.qp_type = IBV_QPT_XRC_RECV,
		.comp_mask = IBV_QP_INIT_ATTR_XRCD,
		.xrcd = xrcd,
	};

	return ibv_create_qp_ex(ctx, &a);
}

static struct ibv_qp *ini_qp(struct ibv_cq *cq)
{
	struct ibv_qp_init_attr_ex a = {
		.qp_type = IBV_QPT_XRC_SEND,
		.send_cq = cq,
		.cap = { .max_send_wr = 32, .max_send_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = pd,
		.send_ops_flags = IBV_QP_EX_WITH_SEND |
				  IBV_QP_EX_WITH_SEND_WITH_IMM,
	};

	return ibv_create_qp_ex(ctx, &a);
}

static void av(struct ibv_qp_attr *a)
{
	a->ah_attr.is_global = 1;
	a->ah_attr.grh.dgid = gid;
	a->ah_attr.grh.sgid_index = gid_index;
	a->ah_attr.grh.hop_limit = 64;
	a->ah_attr.port_num = 1;
}

/* The target to RTR and the initiator to RTS, connected to each other. */
static int connect_pair(struct ibv_qp *ini, struct ibv_qp *tgt)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ,
	};

	if (ibv_modify_qp(tgt, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS) ||
	    ibv_modify_qp(ini, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS)) {
		printf("  to INIT: %s\n", strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = ini->qp_num;
	a.rq_psn = 0xfffffe;
	a.max_dest_rd_atomic = 4;
	a.min_rnr_timer = 1;
	av(&a);
	if (ibv_modify_qp(tgt, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER)) {
		printf("  target to RTR: %s\n", strerror(errno));
		return -1;
	}
	a.dest_qp_num = tgt->qp_num;
	if (ibv_modify_qp(ini, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN)) {
		printf("  initiator to RTR: %s\n", strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0xfffffe;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 4;
	return ibv_modify_qp(ini, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

static int post(struct ibv_qp *qp, enum ibv_wr_opcode op, uint32_t srqn,
		uint8_t *addr, uint32_t len, uint64_t wr_id,
		uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr, .length = len, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED, .imm_data = htobe32(IMM),
	}, *bad;

	wr.qp_type.xrc.remote_srqn = srqn;
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return ibv_post_send(qp, &wr, &bad);
}

/* The initiator's completion of @wr_id: its status, or -1. */
static int send_status(struct ibv_cq *cq, uint64_t wr_id)
{
	struct ibv_wc wc;

	if (poll_one(cq, &wc) || wc.wr_id != wr_id)
		return -1;
	return wc.status;
}

/* A receive completion on @cq: @wr_id, @len bytes of @seed at @addr. */
static int recv_ok(struct ibv_cq *cq, uint64_t wr_id, uint32_t len,
		   unsigned int seed, uint8_t *addr, uint32_t qpn, bool imm)
{
	struct ibv_wc wc;

	if (poll_one(cq, &wc)) {
		printf("  no receive completion\n");
		return 0;
	}
	if (wc.status != IBV_WC_SUCCESS || wc.opcode != IBV_WC_RECV ||
	    wc.wr_id != wr_id || wc.byte_len != len || wc.qp_num != qpn ||
	    !!(wc.wc_flags & IBV_WC_WITH_IMM) != imm ||
	    (imm && be32toh(wc.imm_data) != IMM)) {
		printf("  wc: status %d opcode %d wr_id %llu len %u qp 0x%x flags 0x%x\n",
		       wc.status, wc.opcode, (unsigned long long)wc.wr_id,
		       wc.byte_len, wc.qp_num, wc.wc_flags);
		return 0;
	}
	return msg_differs(addr, len, seed) < 0;
}

/* The child: the domain and the target QP shared through the file. */
static int child(uint32_t tgt_qpn, int to_parent, int from_parent)
{
	struct ibv_qp_open_attr oa = {
		.comp_mask = IBV_QP_OPEN_ATTR_NUM | IBV_QP_OPEN_ATTR_XRCD |
			     IBV_QP_OPEN_ATTR_TYPE,
		.qp_num = tgt_qpn,
		.qp_type = IBV_QPT_XRC_RECV,
	};
	struct ibv_context *c = open_by_name(ibv_get_device_name(ctx->device));
	struct ibv_qp_attr qa;
	struct ibv_qp_init_attr qia;
	struct ibv_xrcd *xrcd;
	struct ibv_srq *srq;
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	struct ibv_pd *p;
	struct ibv_mr *m;
	uint32_t srqn = 0;
	uint8_t *b, go;
	int fd, ok;

	b = calloc(1, SLOT);
	if (!c || !b)
		return 2;
	xrcd = open_xrcd(c, &fd);
	p = ibv_alloc_pd(c);
	cq = ibv_create_cq(c, 4, NULL, NULL, 0);
	if (!xrcd || !p || !cq)
		return 3;
	oa.xrcd = xrcd;
	qp = ibv_open_qp(c, &oa);
	if (!qp || ibv_query_qp(qp, &qa, IBV_QP_STATE, &qia) ||
	    qa.qp_state != IBV_QPS_RTR)
		return 4;
	m = ibv_reg_mr(p, b, SLOT, IBV_ACCESS_LOCAL_WRITE);
	srq = xrc_srq(c, p, xrcd, cq);
	if (!m || !srq || ibv_get_srq_num(srq, &srqn) ||
	    post_srq(srq, m, b, 77))
		return 5;
	if (write(to_parent, &srqn, sizeof(srqn)) != sizeof(srqn) ||
	    read(from_parent, &go, 1) != 1)
		return 6;
	ok = recv_ok(cq, 77, BIG, 9, b, tgt_qpn, false);
	if (ibv_destroy_qp(qp) || ibv_destroy_srq(srq) || ibv_close_xrcd(xrcd))
		return 7;
	close(fd);
	return ok ? 0 : 8;
}

int main(int argc, char **argv)
{
	struct ibv_qp *ini, *tgt, *ini2, *tgt2;
	struct ibv_srq *srq_a, *srq_b, *srq_c;
	struct ibv_cq *scq, *cq_a, *cq_b, *scq2;
	struct ibv_xrcd *xrcd, *xrcd2;
	struct ibv_xrcd_init_attr xa2 = {
		.comp_mask = IBV_XRCD_INIT_ATTR_FD | IBV_XRCD_INIT_ATTR_OFLAGS,
		.fd = -1, .oflags = O_CREAT,
	};
	struct ibv_device_attr dattr;
	uint32_t n_a = 0, n_b = 0, n_c = 0, n_child;
	struct ibv_qp_ex *qpx;
	int fd, st, sent, p2c[2], c2p[2];
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: xrc DEV GID_INDEX XRCD_FILE\n");
		return 2;
	}
	gid_index = atoi(argv[2]);
	xrcd_path = argv[3];
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid) ||
	    ibv_query_device(ctx, &dattr)) {
		printf("FAIL: cannot open %s\n", argv[1]);
		return 1;
	}
	buf = aligned_alloc(4096, BUF_SIZE);
	pd = ibv_alloc_pd(ctx);
	mr = pd && buf ? ibv_reg_mr(pd, buf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE |
				    IBV_ACCESS_REMOTE_WRITE |
				    IBV_ACCESS_REMOTE_READ) : NULL;
	scq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	cq_a = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	scq2 = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	if (!mr || !scq || !cq_a || !cq_b || !scq2) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}

	/* domain */
	report(dattr.device_cap_flags & IBV_DEVICE_XRC,
	       "device advertises IBV_DEVICE_XRC");
	xrcd = open_xrcd(ctx, &fd);
	report(xrcd, "ibv_open_xrcd on %s with O_CREAT (%s)", xrcd_path,
	       xrcd ? "ok" : strerror(errno));
	if (!xrcd)
		return 1;
	srq_a = xrc_srq(ctx, pd, xrcd, cq_a);
	srq_b = xrc_srq(ctx, pd, xrcd, cq_b);
	report(srq_a && srq_b && !ibv_get_srq_num(srq_a, &n_a) &&
	       !ibv_get_srq_num(srq_b, &n_b) && n_a && n_b && n_a != n_b,
	       "two XRC SRQs: numbers 0x%x and 0x%x", n_a, n_b);
	if (!srq_a || !srq_b)
		return 1;

	/* send */
	tgt = tgt_qp(xrcd);
	ini = ini_qp(scq);
	report(tgt && ini && !connect_pair(ini, tgt),
	       "XRC target QP 0x%x (no CQ, no ring) and initiator 0x%x connected",
	       tgt ? tgt->qp_num : 0, ini ? ini->qp_num : 0);
	if (!tgt || !ini)
		return 1;
	check(!post_srq(srq_a, mr, slot(10), 10) &&
	      !post_srq(srq_a, mr, slot(11), 11) &&
	      !post_srq(srq_b, mr, slot(20), 20), "post to the XRC SRQs");
	msg_fill(slot(0), BIG, 1);
	msg_fill(slot(1), 100, 2);
	msg_fill(slot(2), 777, 3);
	report(!post(ini, IBV_WR_SEND, n_a, slot(0), BIG, 1, 0, 0) &&
	       send_status(scq, 1) == IBV_WC_SUCCESS &&
	       recv_ok(cq_a, 10, BIG, 1, slot(10), tgt->qp_num, false),
	       "SEND of %d bytes to SRQ A: on A's CQ, every byte", BIG);
	report(!post(ini, IBV_WR_SEND_WITH_IMM, n_b, slot(1), 100, 2, 0, 0) &&
	       send_status(scq, 2) == IBV_WC_SUCCESS &&
	       recv_ok(cq_b, 20, 100, 2, slot(20), tgt->qp_num, true),
	       "SEND with immediate to SRQ B: on B's CQ, immediate and bytes");
	qpx = ibv_qp_to_qp_ex(ini);
	ibv_wr_start(qpx);
	qpx->wr_id = 3;
	qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(qpx);
	ibv_wr_set_xrc_srqn(qpx, n_a);
	ibv_wr_set_sge(qpx, mr->lkey, (uintptr_t)slot(2), 777);
	report(!ibv_wr_complete(qpx) && send_status(scq, 3) == IBV_WC_SUCCESS &&
	       recv_ok(cq_a, 11, 777, 3, slot(11), tgt->qp_num, false),
	       "ibv_wr_send with ibv_wr_set_xrc_srqn to SRQ A");

	/* rdma */
	msg_fill(slot(3), RDMA_LEN, 4);
	memset(slot(30), 0, RDMA_LEN);
	memset(slot(40), 0, RDMA_LEN);
	report(!post(ini, IBV_WR_RDMA_WRITE, n_a, slot(3), RDMA_LEN, 4,
		     (uintptr_t)slot(30), mr->rkey) &&
	       send_status(scq, 4) == IBV_WC_SUCCESS &&
	       msg_differs(slot(30), RDMA_LEN, 4) < 0,
	       "RDMA WRITE of %d bytes through the initiator", RDMA_LEN);
	report(!post(ini, IBV_WR_RDMA_READ, n_a, slot(40), RDMA_LEN, 5,
		     (uintptr_t)slot(30), mr->rkey) &&
	       send_status(scq, 5) == IBV_WC_SUCCESS &&
	       msg_differs(slot(40), RDMA_LEN, 4) < 0,
	       "RDMA READ of %d bytes through the initiator", RDMA_LEN);

	/* shared */
	if (pipe(p2c) || pipe(c2p))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(c2p[0]);
		close(p2c[1]);
		_exit(child(tgt->qp_num, c2p[1], p2c[0]));
	}
	/* A child that fails early closes its ends: no read waits forever. */
	close(c2p[1]);
	close(p2c[0]);
	msg_fill(slot(5), BIG, 9);
	sent = 0;
	if (read(c2p[0], &n_child, sizeof(n_child)) == sizeof(n_child) &&
	    write(p2c[1], "g", 1) == 1)
		sent = !post(ini, IBV_WR_SEND, n_child, slot(5), BIG, 6, 0, 0) &&
		       send_status(scq, 6) == IBV_WC_SUCCESS;
	waitpid(pid, &st, 0);
	report(sent && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "a child opens the domain's file and the target QP (ibv_open_qp), its own SRQ 0x%x gets the parent's SEND (child status %d)",
	       n_child, WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	/* order */
	errno = 0;
	st = ibv_close_xrcd(xrcd);
	report(st == EBUSY, "closing the domain with SRQs and a QP alive: EBUSY (%s)",
	       strerror(st));
	report(!ibv_destroy_srq(srq_b), "destroy SRQ B while its target QP lives");
	report(!post(ini, IBV_WR_SEND, n_b, slot(1), 100, 7, 0, 0) &&
	       send_status(scq, 7) == IBV_WC_REM_INV_REQ_ERR,
	       "a SEND to destroyed SRQ B: IBV_WC_REM_INV_REQ_ERR");

	/* wrong */
	xrcd2 = ibv_open_xrcd(ctx, &xa2);
	srq_c = xrcd2 ? xrc_srq(ctx, pd, xrcd2, cq_b) : NULL;
	check(srq_c && !ibv_get_srq_num(srq_c, &n_c) &&
	      !post_srq(srq_c, mr, slot(50), 50), "an SRQ of a second domain");
	tgt2 = tgt_qp(xrcd);
	ini2 = ini_qp(scq2);
	check(tgt2 && ini2 && !connect_pair(ini2, tgt2), "second pair");
	if (!srq_c || !tgt2 || !ini2)
		return 1;
	report(!post(ini2, IBV_WR_SEND, n_c, slot(1), 100, 8, 0, 0) &&
	       send_status(scq2, 8) == IBV_WC_REM_INV_REQ_ERR,
	       "a SEND to an SRQ of another domain: IBV_WC_REM_INV_REQ_ERR");
	report(ibv_poll_cq(cq_b, 1, &(struct ibv_wc){}) == 0,
	       "... and nothing reached that SRQ");

	check(!ibv_destroy_qp(ini2) && !ibv_destroy_qp(tgt2) &&
	      !ibv_destroy_srq(srq_c) && !ibv_close_xrcd(xrcd2),
	      "tear down the second pair");
	/* The target QP goes first, then the initiator connected to it. */
	report(!ibv_destroy_qp(tgt) && !ibv_destroy_qp(ini) &&
	       !ibv_destroy_srq(srq_a) && !ibv_close_xrcd(xrcd),
	       "destroy the target QP before its initiator, then the SRQ, then the domain");
	close(fd);
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
