// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory windows on one device, RC QPs of one process looped back through
 * one RoCE v2 GID:
 *
 *   mw DEV GID_INDEX [exit]
 *
 * QP "own" binds windows on the target buffer's MR; its peer "peer" reads,
 * writes and runs atomics through them.  A second pair (own2, peer2) of
 * the same PD tries a type 2 window bound through "own".  Every check that
 * expects a failure also checks the memory it names is untouched.
 *
 *   type1     ibv_bind_mw: WRITE, READ, both atomics through the window,
 *             byte for byte; outside the window (either side), a mode the
 *             window does not grant, a rebind's old rkey, and a zero-length
 *             bind all fail with IBV_WC_REM_ACCESS_ERR; LOCAL_INV of a
 *             type 1 window is IBV_WC_MW_BIND_ERR
 *   type2     IBV_WR_BIND_MW with a new tag: access works, from another QP
 *             it fails; bound again while bound is IBV_WC_MW_BIND_ERR;
 *             LOCAL_INV, then ibv_wr_bind_mw with another tag: the old
 *             rkey fails, the new works; SEND_WITH_INV invalidates it
 *             (IBV_WC_WITH_INV and invalidated_rkey at the receiver)
 *   binderr   MR without IBV_ACCESS_MW_BIND, range outside the MR, remote
 *             write on an MR without local write, a window of another PD,
 *             a zero-length type 2 bind, a bad MR key: IBV_WC_MW_BIND_ERR
 *   dealloc   deregistering an MR with a bound window is EBUSY; the window
 *             deallocated while bound, its rkey fails and the MR goes
 *   rereg     ibv_rereg_mr of access, translation and PD, keeping the
 *             keys, each checked by data through the rkey and failures
 *             where the MR no longer reaches (the old buffer, a QP of the
 *             old PD);
 *             EBUSY with a bound window (which keeps working), EINVAL for
 *             no flags or remote write without local write, EOPNOTSUPP for
 *             an on-demand MR
 *
 * With "exit", it only binds windows to an MR registered after them and
 * exits holding them all.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define TGT_SIZE	(64 << 10)
#define LOC_SIZE	(64 << 10)
#define WIN_OFF		4096
#define WIN_LEN		8192
#define FILL		0x5a
#define REMOTE_ALL	(IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_ATOMIC)

struct pair {
	struct ibv_qp *own, *peer;
	struct ibv_qp_ex *ownx;
	struct ibv_cq *own_cq, *peer_cq;
};

static struct ibv_context *ctx;
static struct ibv_pd *pd, *pd2;
static struct ibv_mr *tgt_mr, *loc_mr;
static uint8_t *tgt, *loc;
static union ibv_gid gid;
static int gid_index;
static enum ibv_mtu mtu;
static struct pair p1, p2;

/* Is all of the target, outside [@off, @off + @len), still FILL? */
static int rest_untouched(size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < TGT_SIZE; i++)
		if ((i < off || i >= off + len) && tgt[i] != FILL)
			return 0;
	return 1;
}

static int wait_wc(struct ibv_cq *cq, struct ibv_wc *wc)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (ibv_poll_cq(cq, 1, wc))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > 3000)
			return 0;
		usleep(100);
	}
}

static struct ibv_qp *new_qp(struct ibv_cq *cq, struct ibv_qp_ex **qpx)
{
	struct ibv_qp_init_attr_ex a = {
		.send_cq = cq, .recv_cq = cq, .qp_type = IBV_QPT_RC,
		.sq_sig_all = 1, .pd = pd,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_BIND_MW |
				  IBV_QP_EX_WITH_LOCAL_INV |
				  IBV_QP_EX_WITH_SEND,
	};
	struct ibv_qp *qp = ibv_create_qp_ex(ctx, &a);

	if (qp && qpx)
		*qpx = ibv_qp_to_qp_ex(qp);
	return qp;
}

static void drain(struct ibv_cq *cq)
{
	struct ibv_wc wc;

	while (ibv_poll_cq(cq, 1, &wc) > 0)
		;
}

/* Both QPs of @p from whatever state to RTS, connected, CQs empty. */
static int connect_pair(struct pair *p)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RESET };

	if (ibv_modify_qp(p->own, &a, IBV_QP_STATE) ||
	    ibv_modify_qp(p->peer, &a, IBV_QP_STATE))
		return -1;
	drain(p->own_cq);
	drain(p->peer_cq);
	if (rc_qp_connect(p->own, p->peer->qp_num, gid_index, &gid, mtu,
			  14, 7, 7) ||
	    rc_qp_connect(p->peer, p->own->qp_num, gid_index, &gid, mtu,
			  14, 7, 7))
		return -1;
	return 0;
}

static int make_pair(struct pair *p)
{
	p->own_cq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	p->peer_cq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	if (!p->own_cq || !p->peer_cq)
		return -1;
	p->own = new_qp(p->own_cq, &p->ownx);
	p->peer = new_qp(p->peer_cq, NULL);
	if (!p->own || !p->peer || !p->ownx)
		return -1;
	return connect_pair(p);
}

/* Wait for the one completion of a WR on @cq: its status, or -1. */
static int status_of(struct ibv_cq *cq, enum ibv_wc_opcode op)
{
	struct ibv_wc wc;

	if (!wait_wc(cq, &wc))
		return -1;
	if (wc.status == IBV_WC_SUCCESS && wc.opcode != op)
		return -2;
	return wc.status;
}

/* Bind type 1 window @mw with ibv_bind_mw on p1.own: the WC status. */
static int bind1(struct ibv_mw *mw, struct ibv_mr *mr, size_t off,
		 size_t len, unsigned int access)
{
	struct ibv_mw_bind b = {
		.wr_id = 1, .send_flags = IBV_SEND_SIGNALED,
		.bind_info = { .mr = mr,
			       .addr = mr ? (uintptr_t)tgt + off : 0,
			       .length = len, .mw_access_flags = access },
	};
	uint32_t old = mw->rkey;
	int ret = ibv_bind_mw(p1.own, mw, &b);

	if (ret)
		return -100 - ret;
	ret = status_of(p1.own_cq, IBV_WC_BIND_MW);
	if (ret)
		mw->rkey = old;		/* the window is as it was */
	return ret;
}

/* Bind type 2 window @mw under @rkey with ibv_post_send on @qp. */
static int bind2(struct ibv_qp *qp, struct ibv_cq *cq, struct ibv_mw *mw,
		 uint32_t rkey, struct ibv_mr *mr, size_t off, size_t len,
		 unsigned int access)
{
	struct ibv_send_wr wr = {
		.wr_id = 2, .opcode = IBV_WR_BIND_MW,
		.send_flags = IBV_SEND_SIGNALED,
		.bind_mw = {
			.mw = mw, .rkey = rkey,
			.bind_info = { .mr = mr, .addr = (uintptr_t)tgt + off,
				       .length = len,
				       .mw_access_flags = access },
		},
	};
	struct ibv_send_wr *bad;
	int ret = ibv_post_send(qp, &wr, &bad);

	return ret ? -100 - ret : status_of(cq, IBV_WC_BIND_MW);
}

/* The same with ibv_wr_bind_mw on p1.own. */
static int bind2_ex(struct ibv_mw *mw, uint32_t rkey, size_t off, size_t len,
		    unsigned int access)
{
	struct ibv_mw_bind_info info = {
		.mr = tgt_mr, .addr = (uintptr_t)tgt + off, .length = len,
		.mw_access_flags = access,
	};
	int ret;

	ibv_wr_start(p1.ownx);
	p1.ownx->wr_id = 3;
	p1.ownx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_bind_mw(p1.ownx, mw, rkey, &info);
	ret = ibv_wr_complete(p1.ownx);
	return ret ? -100 - ret : status_of(p1.own_cq, IBV_WC_BIND_MW);
}

static int local_inv(struct ibv_qp *qp, struct ibv_cq *cq, uint32_t rkey)
{
	struct ibv_send_wr wr = {
		.wr_id = 4, .opcode = IBV_WR_LOCAL_INV,
		.send_flags = IBV_SEND_SIGNALED, .invalidate_rkey = rkey,
	};
	struct ibv_send_wr *bad;
	int ret = ibv_post_send(qp, &wr, &bad);

	return ret ? -100 - ret : status_of(cq, IBV_WC_LOCAL_INV);
}

/*
 * From @p's peer, an RDMA @op of @len bytes between loc and target
 * offset @off through @rkey: the WC status.
 */
static int rdma(struct pair *p, enum ibv_wr_opcode op, uint32_t rkey,
		size_t off, uint32_t len)
{
	struct ibv_sge sge = { .addr = (uintptr_t)loc, .length = len,
			       .lkey = loc_mr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = 5, .opcode = op, .sg_list = &sge, .num_sge = 1,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)tgt + off, .rkey = rkey },
	};
	struct ibv_send_wr *bad;
	int ret = ibv_post_send(p->peer, &wr, &bad);

	return ret ? -100 - ret :
	       status_of(p->peer_cq, op == IBV_WR_RDMA_READ ?
			 IBV_WC_RDMA_READ : IBV_WC_RDMA_WRITE);
}

static int atomic(struct pair *p, enum ibv_wr_opcode op, uint32_t rkey,
		  size_t off, uint64_t compare_add, uint64_t swap)
{
	struct ibv_sge sge = { .addr = (uintptr_t)loc, .length = 8,
			       .lkey = loc_mr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = 6, .opcode = op, .sg_list = &sge, .num_sge = 1,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.atomic = { .remote_addr = (uintptr_t)tgt + off,
			       .rkey = rkey, .compare_add = compare_add,
			       .swap = swap },
	};
	struct ibv_send_wr *bad;
	int ret = ibv_post_send(p->peer, &wr, &bad);

	return ret ? -100 - ret :
	       status_of(p->peer_cq, op == IBV_WR_ATOMIC_CMP_AND_SWP ?
			 IBV_WC_COMP_SWAP : IBV_WC_FETCH_ADD);
}

/*
 * An access that must fail with a remote access error and touch nothing:
 * then both QPs are in error, and are connected again.
 */
static void must_fail(struct pair *p, int status, const char *what)
{
	report(status == IBV_WC_REM_ACCESS_ERR && rest_untouched(0, 0),
	       "%s fails (status %d), memory untouched", what, status);
	check(!connect_pair(p), "reconnect after %s", what);
}

static void reset_target(void)
{
	memset(tgt, FILL, TGT_SIZE);
}

/* WRITE then READ of the whole window through @rkey, on @p. */
static void write_read(struct pair *p, uint32_t rkey, unsigned int seed,
		       const char *what)
{
	int st_w, st_r, ok_w, ok_r;

	reset_target();
	msg_fill(loc, WIN_LEN, seed);
	st_w = rdma(p, IBV_WR_RDMA_WRITE, rkey, WIN_OFF, WIN_LEN);
	ok_w = msg_differs(tgt + WIN_OFF, WIN_LEN, seed) < 0 &&
	       rest_untouched(WIN_OFF, WIN_LEN);
	report(!st_w && ok_w, "%s: WRITE %d bytes through the window (status %d, data %s)",
	       what, WIN_LEN, st_w, ok_w ? "ok" : "wrong");
	memset(loc, 0, LOC_SIZE);
	msg_fill(tgt + WIN_OFF, WIN_LEN, seed + 1);
	st_r = rdma(p, IBV_WR_RDMA_READ, rkey, WIN_OFF, WIN_LEN);
	ok_r = msg_differs(loc, WIN_LEN, seed + 1) < 0;
	report(!st_r && ok_r, "%s: READ %d bytes through the window (status %d, data %s)",
	       what, WIN_LEN, st_r, ok_r ? "ok" : "wrong");
}

static void test_type1(void)
{
	struct ibv_mw *mw = ibv_alloc_mw(pd, IBV_MW_TYPE_1);
	uint64_t *word = (uint64_t *)(tgt + WIN_OFF + WIN_LEN - 8);
	uint32_t old;
	int st;

	report(mw != NULL, "type1: ibv_alloc_mw (errno %d)", mw ? 0 : errno);
	if (!mw)
		return;
	st = bind1(mw, tgt_mr, WIN_OFF, WIN_LEN, REMOTE_ALL);
	report(st == 0, "type1: ibv_bind_mw completes IBV_WC_BIND_MW (status %d)",
	       st);
	write_read(&p1, mw->rkey, 1, "type1");

	reset_target();
	*word = 1000;
	st = atomic(&p1, IBV_WR_ATOMIC_FETCH_AND_ADD, mw->rkey,
		    WIN_OFF + WIN_LEN - 8, 34, 0);
	report(!st && *(uint64_t *)loc == 1000 && *word == 1034,
	       "type1: FETCH_ADD through the window (status %d, orig %llu, now %llu)",
	       st, (unsigned long long)*(uint64_t *)loc,
	       (unsigned long long)*word);
	st = atomic(&p1, IBV_WR_ATOMIC_CMP_AND_SWP, mw->rkey,
		    WIN_OFF + WIN_LEN - 8, 1034, 77);
	report(!st && *(uint64_t *)loc == 1034 && *word == 77,
	       "type1: CMP_SWP through the window (status %d, orig %llu, now %llu)",
	       st, (unsigned long long)*(uint64_t *)loc,
	       (unsigned long long)*word);

	reset_target();
	msg_fill(loc, 16, 9);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, mw->rkey,
			    WIN_OFF + WIN_LEN - 8, 16),
		  "type1: WRITE across the window's end");
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, mw->rkey, WIN_OFF - 1, 1),
		  "type1: WRITE just before the window");
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, mw->rkey,
			    WIN_OFF + WIN_LEN, 1),
		  "type1: READ just past the window");

	/* Rebind, READ only: a new tag, and no WRITE or atomic. */
	old = mw->rkey;
	st = bind1(mw, tgt_mr, WIN_OFF, WIN_LEN, IBV_ACCESS_REMOTE_READ);
	report(st == 0 && mw->rkey != old && (mw->rkey ^ old) <= 0xff,
	       "type1: rebind READ-only (status %d, rkey %#x -> %#x)", st, old,
	       mw->rkey);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, mw->rkey, WIN_OFF, 8),
		  "type1: WRITE through a READ-only window");
	must_fail(&p1, atomic(&p1, IBV_WR_ATOMIC_FETCH_AND_ADD, mw->rkey,
			      WIN_OFF, 1, 0),
		  "type1: atomic through a READ-only window");
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, old, WIN_OFF, 8),
		  "type1: READ with the rkey before the rebind");
	st = rdma(&p1, IBV_WR_RDMA_READ, mw->rkey, WIN_OFF, 8);
	report(st == 0, "type1: READ with the new rkey (status %d)", st);

	st = local_inv(p1.own, p1.own_cq, mw->rkey);
	report(st == IBV_WC_MW_BIND_ERR,
	       "type1: LOCAL_INV of a type 1 window is IBV_WC_MW_BIND_ERR (status %d)",
	       st);
	check(!connect_pair(&p1), "reconnect after LOCAL_INV");
	st = rdma(&p1, IBV_WR_RDMA_READ, mw->rkey, WIN_OFF, 8);
	report(st == 0, "type1: the window still works after that (status %d)",
	       st);

	/* A zero-length bind unbinds. */
	st = bind1(mw, NULL, 0, 0, 0);
	report(st == 0, "type1: zero-length bind (status %d)", st);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, mw->rkey, WIN_OFF, 8),
		  "type1: READ after a zero-length bind");
	report(!ibv_dealloc_mw(mw), "type1: ibv_dealloc_mw");
}

static void test_type2(void)
{
	struct ibv_mw *mw = ibv_alloc_mw(pd, IBV_MW_TYPE_2);
	struct ibv_sge sge = { .addr = (uintptr_t)loc + 8192, .length = 64,
			       .lkey = loc_mr->lkey };
	struct ibv_recv_wr rwr = { .wr_id = 7, .sg_list = &sge, .num_sge = 1 };
	struct ibv_send_wr swr = {
		.wr_id = 8, .opcode = IBV_WR_SEND_WITH_INV,
		.send_flags = IBV_SEND_SIGNALED, .sg_list = &sge,
		.num_sge = 1,
	};
	struct ibv_recv_wr *rbad;
	struct ibv_send_wr *sbad;
	struct ibv_wc wc;
	uint32_t k1, k2, k3;
	int st, got;

	report(mw != NULL, "type2: ibv_alloc_mw (errno %d)", mw ? 0 : errno);
	if (!mw)
		return;
	k1 = ibv_inc_rkey(mw->rkey);
	st = bind2(p1.own, p1.own_cq, mw, k1, tgt_mr, WIN_OFF, WIN_LEN,
		   REMOTE_ALL);
	report(st == 0, "type2: IBV_WR_BIND_MW rkey %#x (status %d)", k1, st);
	write_read(&p1, k1, 3, "type2");
	reset_target();
	must_fail(&p2, rdma(&p2, IBV_WR_RDMA_WRITE, k1, WIN_OFF, 8),
		  "type2: WRITE from a QP the window is not bound to");
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, mw->rkey, WIN_OFF, 8),
		  "type2: WRITE with the tag before the bind");

	st = bind2(p1.own, p1.own_cq, mw, ibv_inc_rkey(k1), tgt_mr, WIN_OFF,
		   WIN_LEN, REMOTE_ALL);
	report(st == IBV_WC_MW_BIND_ERR,
	       "type2: bind of a bound window is IBV_WC_MW_BIND_ERR (status %d)",
	       st);
	check(!connect_pair(&p1), "reconnect after the bind error");
	st = rdma(&p1, IBV_WR_RDMA_READ, k1, WIN_OFF, 8);
	report(st == 0, "type2: the window kept its binding (status %d)", st);

	st = local_inv(p1.own, p1.own_cq, k1);
	report(st == 0, "type2: LOCAL_INV (status %d)", st);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, k1, WIN_OFF, 8),
		  "type2: READ after LOCAL_INV");

	k2 = ibv_inc_rkey(k1);
	st = bind2_ex(mw, k2, 0, WIN_LEN, REMOTE_ALL);
	report(st == 0, "type2: ibv_wr_bind_mw rkey %#x at offset 0 (status %d)",
	       k2, st);
	reset_target();
	msg_fill(loc, 64, 5);
	st = rdma(&p1, IBV_WR_RDMA_WRITE, k2, 0, 64);
	report(st == 0 && msg_differs(tgt, 64, 5) < 0 &&
	       rest_untouched(0, 64),
	       "type2: WRITE with the new rkey (status %d)", st);
	reset_target();
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, k1, 0, 8),
		  "type2: WRITE with the old rkey");

	/* SEND with Invalidate of k2, from the peer to own. */
	st = ibv_post_recv(p1.own, &rwr, &rbad);
	swr.invalidate_rkey = k2;
	st = st ?: ibv_post_send(p1.peer, &swr, &sbad);
	got = wait_wc(p1.own_cq, &wc);
	report(!st && got && wc.status == IBV_WC_SUCCESS &&
	       wc.opcode == IBV_WC_RECV && (wc.wc_flags & IBV_WC_WITH_INV) &&
	       wc.invalidated_rkey == k2,
	       "type2: SEND_WITH_INV: receiver sees IBV_WC_WITH_INV, rkey %#x (got %#x, status %d, flags %#x)",
	       k2, got ? wc.invalidated_rkey : 0, got ? (int)wc.status : -1,
	       got ? wc.wc_flags : 0);
	st = status_of(p1.peer_cq, IBV_WC_SEND);
	report(st == 0, "type2: SEND_WITH_INV completes (status %d)", st);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, k2, 0, 8),
		  "type2: READ after SEND_WITH_INV");

	/* Free again: it binds anew. */
	k3 = ibv_inc_rkey(k2);
	st = bind2(p1.own, p1.own_cq, mw, k3, tgt_mr, WIN_OFF, WIN_LEN,
		   IBV_ACCESS_REMOTE_READ);
	report(st == 0, "type2: rebind after invalidation, rkey %#x (status %d)",
	       k3, st);
	st = rdma(&p1, IBV_WR_RDMA_READ, k3, WIN_OFF, 8);
	report(st == 0, "type2: READ with it (status %d)", st);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, k3, WIN_OFF, 8),
		  "type2: WRITE through a READ-only type 2 window");
	st = local_inv(p1.own, p1.own_cq, k3);
	report(st == 0, "type2: LOCAL_INV (status %d)", st);
	report(!ibv_dealloc_mw(mw), "type2: ibv_dealloc_mw");
}

/* A bind that must fail; then own's QPs are in error: connect again. */
static void bind_fails(int status, const char *what)
{
	report(status == IBV_WC_MW_BIND_ERR,
	       "binderr: %s is IBV_WC_MW_BIND_ERR (status %d)", what, status);
	check(!connect_pair(&p1), "reconnect after %s", what);
}

static void test_binderr(void)
{
	struct ibv_mr *nobind, *ro;
	struct ibv_mw *mw1 = ibv_alloc_mw(pd, IBV_MW_TYPE_1);
	struct ibv_mw *mw2 = ibv_alloc_mw(pd, IBV_MW_TYPE_2);
	struct ibv_mw *other = ibv_alloc_mw(pd2, IBV_MW_TYPE_2);

	nobind = ibv_reg_mr(pd, tgt, TGT_SIZE, IBV_ACCESS_LOCAL_WRITE |
			    IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	ro = ibv_reg_mr(pd, tgt, TGT_SIZE, IBV_ACCESS_REMOTE_READ |
			IBV_ACCESS_MW_BIND);
	if (!mw1 || !mw2 || !other || !nobind || !ro) {
		check(0, "binderr: setup (errno %d)", errno);
		return;
	}
	bind_fails(bind1(mw1, nobind, WIN_OFF, WIN_LEN, IBV_ACCESS_REMOTE_READ),
		   "type 1 bind on an MR without MW_BIND");
	bind_fails(bind2(p1.own, p1.own_cq, mw2, ibv_inc_rkey(mw2->rkey),
			 nobind, WIN_OFF, WIN_LEN, IBV_ACCESS_REMOTE_READ),
		   "type 2 bind on an MR without MW_BIND");
	bind_fails(bind1(mw1, tgt_mr, TGT_SIZE - 8, 16, IBV_ACCESS_REMOTE_READ),
		   "type 1 bind past the MR's end");
	bind_fails(bind2(p1.own, p1.own_cq, mw2, ibv_inc_rkey(mw2->rkey),
			 tgt_mr, 0, TGT_SIZE + 1, IBV_ACCESS_REMOTE_READ),
		   "type 2 bind longer than the MR");
	bind_fails(bind1(mw1, ro, 0, 64, IBV_ACCESS_REMOTE_WRITE),
		   "remote write on an MR without local write");
	bind_fails(bind2(p1.own, p1.own_cq, mw2, ibv_inc_rkey(mw2->rkey), ro,
			 0, 64, IBV_ACCESS_REMOTE_ATOMIC),
		   "remote atomic on an MR without local write");
	bind_fails(bind2(p1.own, p1.own_cq, other, ibv_inc_rkey(other->rkey),
			 tgt_mr, 0, 64, IBV_ACCESS_REMOTE_READ),
		   "type 2 bind of a window of another PD");
	bind_fails(bind2(p1.own, p1.own_cq, mw2, ibv_inc_rkey(mw2->rkey),
			 tgt_mr, 0, 0, IBV_ACCESS_REMOTE_READ),
		   "zero-length type 2 bind");
	{
		struct ibv_mr bad = *tgt_mr;

		bad.lkey ^= 0x80;	/* another tag */
		bind_fails(bind2(p1.own, p1.own_cq, mw2,
				 ibv_inc_rkey(mw2->rkey), &bad, 0, 64,
				 IBV_ACCESS_REMOTE_READ),
			   "bind on a stale MR key");
	}
	/* And a valid one still works on the read-only MR. */
	report(bind1(mw1, ro, 0, 64, IBV_ACCESS_REMOTE_READ) == 0,
	       "binderr: READ-only window on an MR without local write binds");
	report(!ibv_dealloc_mw(mw1) && !ibv_dealloc_mw(mw2) &&
	       !ibv_dealloc_mw(other) && !ibv_dereg_mr(nobind) &&
	       !ibv_dereg_mr(ro), "binderr: cleanup");
}

static void test_dealloc(void)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, tgt, TGT_SIZE,
				       IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_REMOTE_READ |
				       IBV_ACCESS_MW_BIND);
	struct ibv_mw *mw = ibv_alloc_mw(pd, IBV_MW_TYPE_2);
	uint32_t k = mw ? ibv_inc_rkey(mw->rkey) : 0;
	int st, ret;

	if (!mr || !mw) {
		check(0, "dealloc: setup (errno %d)", errno);
		return;
	}
	st = bind2(p1.own, p1.own_cq, mw, k, mr, 0, 64,
		   IBV_ACCESS_REMOTE_READ);
	report(st == 0, "dealloc: bind (status %d)", st);
	errno = 0;
	ret = ibv_dereg_mr(mr);
	report(ret == EBUSY, "dealloc: ibv_dereg_mr of an MR with a bound window is EBUSY (%d)",
	       ret);
	if (!ret)
		mr = NULL;
	st = rdma(&p1, IBV_WR_RDMA_READ, k, 0, 64);
	report(st == 0, "dealloc: the window still works (status %d)", st);
	report(!ibv_dealloc_mw(mw), "dealloc: ibv_dealloc_mw of a bound window");
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, k, 0, 64),
		  "dealloc: READ through the deallocated window");
	report(!mr || !ibv_dereg_mr(mr), "dealloc: then ibv_dereg_mr succeeds");
}

/* ibv_rereg_mr's result: 0, or the errno of a refused command. */
static int rereg(struct ibv_mr *mr, int flags, struct ibv_pd *to, void *addr,
		 size_t len, int access)
{
	int ret;

	errno = 0;
	ret = ibv_rereg_mr(mr, flags, to, addr, len, access);
	if (!ret)
		return 0;
	return ret == IBV_REREG_MR_ERR_CMD ? errno : -1000 - ret;
}

static void test_rereg(void)
{
	uint8_t *other = aligned_alloc(4096, 16384);
	struct ibv_mr *mr = ibv_reg_mr(pd, tgt, TGT_SIZE,
				       IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_REMOTE_READ |
				       IBV_ACCESS_MW_BIND);
	struct ibv_mr *odp;
	struct ibv_mw *mw;
	uint32_t old, k;
	int st, ret;

	if (!other || !mr) {
		check(0, "rereg: setup (errno %d)", errno);
		return;
	}
	reset_target();
	msg_fill(loc, 64, 11);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, mr->rkey, 0, 64),
		  "rereg: WRITE before the MR allows it");
	old = mr->rkey;
	ret = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0,
		    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
		    IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_MW_BIND);
	report(!ret && mr->rkey == old && mr->lkey == old,
	       "rereg: access +REMOTE_WRITE keeps the keys (%d, rkey %#x -> %#x)",
	       ret, old, mr->rkey);
	st = rdma(&p1, IBV_WR_RDMA_WRITE, mr->rkey, 100, 64);
	report(!st && msg_differs(tgt + 100, 64, 11) < 0 &&
	       rest_untouched(100, 64),
	       "rereg: WRITE with the new rkey lands (status %d)", st);
	reset_target();

	/* Translation: the same MR over another buffer. */
	memset(other, 0, 16384);
	ret = rereg(mr, IBV_REREG_MR_CHANGE_TRANSLATION, NULL, other, 16384, 0);
	report(!ret && mr->addr == other && mr->length == 16384,
	       "rereg: translation to another buffer (%d)", ret);
	msg_fill(loc, 4096, 12);
	st = rdma(&p1, IBV_WR_RDMA_WRITE, mr->rkey,
		  (uintptr_t)other + 8192 - (uintptr_t)tgt, 4096);
	report(!st && msg_differs(other + 8192, 4096, 12) < 0 &&
	       rest_untouched(0, 0),
	       "rereg: WRITE lands in the new buffer only (status %d)", st);
	memset(loc, 0, 4096);
	st = rdma(&p1, IBV_WR_RDMA_READ, mr->rkey,
		  (uintptr_t)other + 8192 - (uintptr_t)tgt, 4096);
	report(!st && msg_differs(loc, 4096, 12) < 0,
	       "rereg: READ from the new buffer (status %d)", st);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, mr->rkey, 0, 8),
		  "rereg: READ at the old buffer");

	/* PD: another PD's MR is out of p1's reach; and back. */
	ret = rereg(mr, IBV_REREG_MR_CHANGE_PD, pd2, NULL, 0, 0);
	report(!ret && mr->pd == pd2, "rereg: to another PD (%d)", ret);
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_READ, mr->rkey,
			    (uintptr_t)other - (uintptr_t)tgt, 8),
		  "rereg: READ from a QP of the old PD");
	ret = rereg(mr, IBV_REREG_MR_CHANGE_PD | IBV_REREG_MR_CHANGE_ACCESS |
		    IBV_REREG_MR_CHANGE_TRANSLATION, pd, tgt, TGT_SIZE,
		    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
		    IBV_ACCESS_MW_BIND);
	report(!ret && mr->pd == pd, "rereg: all three back (%d)", ret);
	msg_fill(tgt + 512, 256, 13);
	memset(loc, 0, 256);
	st = rdma(&p1, IBV_WR_RDMA_READ, mr->rkey, 512, 256);
	report(!st && msg_differs(loc, 256, 13) < 0,
	       "rereg: READ through it (status %d)", st);
	reset_target();
	must_fail(&p1, rdma(&p1, IBV_WR_RDMA_WRITE, mr->rkey, 0, 8),
		  "rereg: WRITE once the access is READ-only again");

	/* Errors. */
	mw = ibv_alloc_mw(pd, IBV_MW_TYPE_2);
	k = mw ? ibv_inc_rkey(mw->rkey) : 0;
	st = mw ? bind2(p1.own, p1.own_cq, mw, k, mr, 0, 64,
			IBV_ACCESS_REMOTE_READ) : -1;
	ret = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0,
		    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND);
	report(!st && ret == EBUSY,
	       "rereg: an MR with a bound window is EBUSY (bind %d, rereg %d)",
	       st, ret);
	st = rdma(&p1, IBV_WR_RDMA_READ, k, 0, 8);
	report(!st, "rereg: the window still works (status %d)", st);
	st = local_inv(p1.own, p1.own_cq, k);
	st = st ?: bind2(p1.own, p1.own_cq, mw, ibv_inc_rkey(k), mr, 0, 64,
			 IBV_ACCESS_REMOTE_READ);
	report(!st, "rereg: the MR takes windows again after that (status %d)",
	       st);
	check(!local_inv(p1.own, p1.own_cq, ibv_inc_rkey(k)) &&
	      !ibv_dealloc_mw(mw), "rereg: window cleanup");
	ret = rereg(mr, 0, NULL, NULL, 0, 0);
	report(ret == EINVAL, "rereg: no flags is EINVAL (%d)", ret);
	ret = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0,
		    IBV_ACCESS_REMOTE_WRITE);
	report(ret == EINVAL, "rereg: remote write without local write is EINVAL (%d)",
	       ret);
	odp = ibv_reg_mr(pd, other, 16384, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_ON_DEMAND);
	ret = odp ? rereg(odp, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0,
			  IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND |
			  IBV_ACCESS_REMOTE_READ) : -1;
	if (odp)
		report(ret == EOPNOTSUPP, "rereg: an on-demand MR is EOPNOTSUPP (%d)",
		       ret);
	else
		printf("info: no on-demand MR (errno %d): not tried\n", errno);
	report((!odp || !ibv_dereg_mr(odp)) && !ibv_dereg_mr(mr),
	       "rereg: cleanup");
	free(other);
}

/*
 * Exit holding windows bound to MRs registered after them, which the
 * kernel must then release in an order that works (an MR with bound
 * windows refuses deregistration).
 */
static int exit_bound(void)
{
	struct ibv_mw *mw1 = ibv_alloc_mw(pd, IBV_MW_TYPE_1);
	struct ibv_mw *mw2 = ibv_alloc_mw(pd, IBV_MW_TYPE_2);
	struct ibv_mr *mr = ibv_reg_mr(pd, tgt, TGT_SIZE,
				       IBV_ACCESS_LOCAL_WRITE |
				       IBV_ACCESS_REMOTE_READ |
				       IBV_ACCESS_MW_BIND);
	int st1, st2;

	if (!mw1 || !mw2 || !mr) {
		printf("FAIL: exit: setup (errno %d)\n", errno);
		return 1;
	}
	st1 = bind1(mw1, mr, 0, 64, IBV_ACCESS_REMOTE_READ);
	st2 = bind2(p1.own, p1.own_cq, mw2, ibv_inc_rkey(mw2->rkey), mr, 64,
		    64, IBV_ACCESS_REMOTE_READ);
	report(!st1 && !st2 && ibv_dereg_mr(mr) == EBUSY,
	       "exit: two windows bound to an MR registered after them (%d, %d)",
	       st1, st2);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ibv_port_attr port;

	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "exit"))) {
		fprintf(stderr, "usage: %s DEV GID_INDEX [exit]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_port(ctx, 1, &port) ||
	    ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: open %s\n", argv[1]);
		return 1;
	}
	mtu = port.active_mtu;
	pd = ibv_alloc_pd(ctx);
	pd2 = ibv_alloc_pd(ctx);
	tgt = aligned_alloc(4096, TGT_SIZE);
	loc = aligned_alloc(4096, LOC_SIZE);
	if (!pd || !pd2 || !tgt || !loc) {
		printf("FAIL: setup\n");
		return 1;
	}
	tgt_mr = ibv_reg_mr(pd, tgt, TGT_SIZE, IBV_ACCESS_LOCAL_WRITE |
			    REMOTE_ALL | IBV_ACCESS_MW_BIND);
	loc_mr = ibv_reg_mr(pd, loc, LOC_SIZE, IBV_ACCESS_LOCAL_WRITE);
	if (!tgt_mr || !loc_mr || make_pair(&p1) || make_pair(&p2)) {
		printf("FAIL: setup: MRs and QPs (errno %d)\n", errno);
		return 1;
	}
	reset_target();
	if (argc == 4)
		return exit_bound();
	test_type1();
	test_type2();
	test_binderr();
	test_dealloc();
	test_rereg();
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
