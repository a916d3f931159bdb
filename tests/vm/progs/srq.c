// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shared receive queues on one device, QPs of one process looped back
 * through one RoCE v2 GID:
 *
 *   srq DEV GID_INDEX
 *
 *   attrs     create/query/modify: limits enforced with EINVAL, an XRC
 *             SRQ without its domain and CQ EINVAL (t-xrc has XRC), no
 *             resize (EOPNOTSUPP) unless advertised, srq_limit read back;
 *             a QP with an SRQ has no RQ (max_recv_wr 0, ibv_post_recv
 *             EINVAL)
 *   resize    (IBV_DEVICE_SRQ_RESIZE) grown with WQEs posted across the
 *             ring's wrap, which all arrive, in order, byte for byte;
 *             shrunk below the WQEs posted: EINVAL, nothing changes;
 *             query shows each new max_wr, posting stops at it; shrunk to
 *             exactly what is posted; the limit stays armed across a
 *             resize and fires once
 *   overflow  max_wr WRs post, the next fails with ENOMEM and bad_wr on
 *             it; too many SGEs is EINVAL
 *   rc        SENDs (1 to 3 packets) from three RC QPs into three QPs on
 *             one SRQ: every byte, byte_len, wr_id and qp_num checked
 *   ud        datagrams into a UD QP on an SRQ, GRH and payload checked
 *   limit     IBV_EVENT_SRQ_LIMIT_REACHED exactly once per arming, and
 *             the limit reads 0 once it fired
 *   error     a QP on the SRQ moved to ERR flushes nothing of the SRQ and
 *             raises IBV_EVENT_QP_LAST_WQE_REACHED; destroyed, its SRQ's
 *             WQEs go, in order, to another QP
 *   rnr       a SEND to an empty SRQ waits through RNR NAKs (rnr_retry 7)
 *             and lands once a receive is posted
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BUF_SIZE	(4 << 20)
#define SLOT		4096		/* receive buffer per WQE */
#define GRH_LEN		40
#define QKEY		0x11111111

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_mr *mr;
static uint8_t *buf;
static union ibv_gid gid;
static int gid_index;
static enum ibv_mtu mtu;
static struct ibv_device_attr dattr;

static uint8_t *rbuf(unsigned int slot)
{
	return buf + BUF_SIZE / 2 + (size_t)slot * SLOT;
}

static uint8_t *sbuf(unsigned int i)
{
	return buf + (size_t)i * SLOT;
}

static int wait_wc(struct ibv_cq *cq, int ms, struct ibv_wc *wc)
{
	struct timespec t0, t;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return 0;
		usleep(100);
	}
}

static struct ibv_srq *new_srq(uint32_t max_wr, uint32_t max_sge)
{
	struct ibv_srq_init_attr a = {
		.attr = { .max_wr = max_wr, .max_sge = max_sge },
	};

	return ibv_create_srq(pd, &a);
}

static int post_srq(struct ibv_srq *srq, uint64_t wr_id, unsigned int slot,
		    uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)rbuf(slot), .length = len, .lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 };
	struct ibv_recv_wr *bad;

	return ibv_post_srq_recv(srq, &wr, &bad);
}

static struct ibv_qp *new_qp(enum ibv_qp_type type, struct ibv_cq *cq,
			     struct ibv_srq *srq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq, .recv_cq = cq, .srq = srq, .qp_type = type,
		.cap = { .max_send_wr = 64, .max_recv_wr = srq ? 0 : 64,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(pd, &a);
}

static int send_one(struct ibv_qp *qp, unsigned int slot, uint32_t len,
		    uint64_t wr_id, struct ibv_ah *ah, uint32_t dqpn)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)sbuf(slot), .length = len, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (ah) {
		wr.wr.ud.ah = ah;
		wr.wr.ud.remote_qpn = dqpn;
		wr.wr.ud.remote_qkey = QKEY;
	}
	return ibv_post_send(qp, &wr, &bad);
}

/* A connected pair: @c sends (own RQ unused), @s receives from @srq. */
struct pair {
	struct ibv_qp *c, *s;
};

static int connect_pair(struct pair *p, struct ibv_cq *cq,
			struct ibv_srq *srq, uint8_t rnr_retry)
{
	p->c = new_qp(IBV_QPT_RC, cq, NULL);
	p->s = new_qp(IBV_QPT_RC, cq, srq);
	if (!p->c || !p->s)
		return -1;
	if (rc_qp_connect(p->c, p->s->qp_num, gid_index, &gid, mtu, 14, 7,
			  rnr_retry) ||
	    rc_qp_connect(p->s, p->c->qp_num, gid_index, &gid, mtu, 14, 7,
			  rnr_retry))
		return -1;
	return 0;
}

static void free_pair(struct pair *p)
{
	if (p->c)
		ibv_destroy_qp(p->c);
	if (p->s)
		ibv_destroy_qp(p->s);
	p->c = p->s = NULL;
}

/* Async events within @ms: how many SRQ limit events for @srq, others. */
static int srq_events(struct ibv_srq *srq, int ms, int *other,
		      struct ibv_qp *last_wqe_qp, int *last_wqe)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;
	int n = 0;

	while (poll(&pfd, 1, ms) == 1) {
		if (ibv_get_async_event(ctx, &ev))
			break;
		if (ev.event_type == IBV_EVENT_SRQ_LIMIT_REACHED &&
		    ev.element.srq == srq)
			n++;
		else if (ev.event_type == IBV_EVENT_QP_LAST_WQE_REACHED &&
			 last_wqe && ev.element.qp == last_wqe_qp)
			(*last_wqe)++;
		else
			(*other)++;
		ibv_ack_async_event(&ev);
		ms = 50;
	}
	return n;
}

static void test_attrs(void)
{
	struct ibv_srq_init_attr_ex ax = {};
	struct ibv_srq_attr sa = {};
	struct ibv_qp_init_attr qia;
	struct ibv_qp_attr qa;
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_recv_wr wr = {}, *bad;

	report(dattr.max_srq > 0 && dattr.max_srq_wr > 0 &&
	       dattr.max_srq_sge > 0, "device: max_srq %d, max_srq_wr %d, max_srq_sge %d",
	       dattr.max_srq, dattr.max_srq_wr, dattr.max_srq_sge);
	errno = 0;
	srq = new_srq(dattr.max_srq_wr + 1, 1);
	report(!srq && errno == EINVAL, "max_wr %d + 1: EINVAL (%s)",
	       dattr.max_srq_wr, strerror(errno));
	errno = 0;
	srq = new_srq(16, dattr.max_srq_sge + 1);
	report(!srq && errno == EINVAL, "max_sge %d + 1: EINVAL (%s)",
	       dattr.max_srq_sge, strerror(errno));
	errno = 0;
	srq = new_srq(0, 1);
	report(!srq && errno == EINVAL, "max_wr 0: EINVAL (%s)",
	       strerror(errno));

	ax.attr.max_wr = 16;
	ax.attr.max_sge = 1;
	ax.comp_mask = IBV_SRQ_INIT_ATTR_TYPE | IBV_SRQ_INIT_ATTR_PD;
	ax.srq_type = IBV_SRQT_XRC;
	ax.pd = pd;
	errno = 0;
	srq = ibv_create_srq_ex(ctx, &ax);
	report(!srq && errno == EINVAL,
	       "XRC SRQ without an XRC domain and CQ: EINVAL (%s)",
	       strerror(errno));
	ax.srq_type = IBV_SRQT_BASIC;
	srq = ibv_create_srq_ex(ctx, &ax);
	report(srq && !ibv_query_srq(srq, &sa) && sa.max_wr >= 16,
	       "ibv_create_srq_ex basic: max_wr %u", sa.max_wr);
	if (srq)
		ibv_destroy_srq(srq);

	srq = new_srq(10, 2);
	if (!srq) {
		check(0, "create SRQ: %s", strerror(errno));
		return;
	}
	report(!ibv_query_srq(srq, &sa) && sa.max_wr >= 10 &&
	       sa.max_sge == 2 && sa.srq_limit == 0,
	       "query: max_wr %u, max_sge %u, srq_limit %u", sa.max_wr,
	       sa.max_sge, sa.srq_limit);
	sa.max_wr = 64;
	errno = ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	report((dattr.device_cap_flags & IBV_DEVICE_SRQ_RESIZE) ?
	       errno == 0 : errno == EOPNOTSUPP,
	       "resize: %s, IBV_DEVICE_SRQ_RESIZE %s", strerror(errno),
	       (dattr.device_cap_flags & IBV_DEVICE_SRQ_RESIZE) ? "on" : "off");
	ibv_query_srq(srq, &sa);
	sa.srq_limit = sa.max_wr + 1;
	errno = ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT);
	report(errno == EINVAL, "srq_limit past max_wr: EINVAL (%s)",
	       strerror(errno));
	sa.srq_limit = 5;
	report(!ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT) &&
	       !ibv_query_srq(srq, &sa) && sa.srq_limit == 5,
	       "srq_limit 5 reads back %u", sa.srq_limit);

	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	qp = cq ? new_qp(IBV_QPT_RC, cq, srq) : NULL;
	if (!qp) {
		check(0, "QP with an SRQ: %s", strerror(errno));
	} else {
		memset(&qia, 0, sizeof(qia));
		report(!ibv_query_qp(qp, &qa, IBV_QP_CAP, &qia) &&
		       qa.cap.max_recv_wr == 0 && qia.srq == srq,
		       "QP with an SRQ: max_recv_wr %u", qa.cap.max_recv_wr);
		report(ibv_post_recv(qp, &wr, &bad) == EINVAL && bad == &wr,
		       "ibv_post_recv on a QP with an SRQ: EINVAL");
		report(ibv_destroy_srq(srq) == EBUSY,
		       "destroy of an SRQ a QP uses: EBUSY");
		ibv_destroy_qp(qp);
	}
	if (cq)
		ibv_destroy_cq(cq);
	report(!ibv_destroy_srq(srq), "destroy SRQ");
}

static void test_overflow(void)
{
	struct ibv_sge sge[3] = {};
	struct ibv_recv_wr wr[2] = {}, *bad = NULL;
	struct ibv_srq_attr sa;
	struct ibv_srq *srq = new_srq(8, 2);
	unsigned int i;
	int ret;

	if (!srq || ibv_query_srq(srq, &sa)) {
		check(0, "overflow: SRQ: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 3; i++) {
		sge[i].addr = (uintptr_t)rbuf(i);
		sge[i].length = 64;
		sge[i].lkey = mr->lkey;
	}
	wr[0].sg_list = sge;
	wr[0].num_sge = 1;
	wr[0].next = &wr[1];
	wr[1].sg_list = sge;
	wr[1].num_sge = 3;
	ret = ibv_post_srq_recv(srq, wr, &bad);
	report(ret == EINVAL && bad == &wr[1],
	       "3 SGEs on an SRQ of 2: EINVAL on that WR (%s)", strerror(ret));
	wr[0].next = NULL;
	for (i = 1; i < sa.max_wr; i++) {
		ret = ibv_post_srq_recv(srq, wr, &bad);
		if (ret)
			break;
	}
	report(i == sa.max_wr, "%u WRs posted (max_wr)", i);
	bad = NULL;
	ret = ibv_post_srq_recv(srq, wr, &bad);
	report(ret == ENOMEM && bad == wr, "WR %u: ENOMEM (%s)", sa.max_wr + 1,
	       strerror(ret));
	ibv_destroy_srq(srq);
}

/*
 * RC: NQP senders, each to its own QP on one SRQ, NMSG SENDs each of
 * 1 to 3 packets; each message's first bytes name its sender.
 */
#define NQP	3
#define NMSG	12

static void test_rc(void)
{
	unsigned int q, m, n, got[NQP][NMSG] = {}, bad = 0, sends = 0;
	struct pair p[NQP] = {};
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int mtu_bytes = 256 << (mtu - 1);

	cq = ibv_create_cq(ctx, 4 * NQP * NMSG, NULL, NULL, 0);
	srq = new_srq(NQP * NMSG, 1);
	if (!cq || !srq) {
		check(0, "rc: CQ or SRQ: %s", strerror(errno));
		return;
	}
	for (n = 0; n < NQP * NMSG; n++)
		if (post_srq(srq, 1000 + n, n, SLOT)) {
			check(0, "rc: post to SRQ");
			goto out;
		}
	for (q = 0; q < NQP; q++)
		if (connect_pair(&p[q], cq, srq, 7)) {
			check(0, "rc: QPs: %s", strerror(errno));
			goto out;
		}
	/* Interleaved: the QPs take from the SRQ in turn. */
	for (m = 0; m < NMSG; m++)
		for (q = 0; q < NQP; q++) {
			unsigned int i = q * NMSG + m;
			uint32_t len = 8 + (m * 997) % (3 * mtu_bytes - 8);

			msg_fill(sbuf(i), len, i);
			if (send_one(p[q].c, i, len, i, NULL, 0))
				check(0, "rc: post send");
			else
				sends++;
		}
	for (n = 0; n < 2 * sends; n++) {
		unsigned int i, slot;
		uint32_t len;

		if (!wait_wc(cq, 5000, &wc)) {
			check(0, "rc: %u of %u completions", n, 2 * sends);
			break;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			check(0, "rc: completion %s", ibv_wc_status_str(wc.status));
			bad++;
			continue;
		}
		if (wc.opcode == IBV_WC_SEND)
			continue;
		slot = wc.wr_id - 1000;
		if (wc.opcode != IBV_WC_RECV || slot >= NQP * NMSG) {
			check(0, "rc: opcode %d wr_id %llu", wc.opcode,
			      (unsigned long long)wc.wr_id);
			bad++;
			continue;
		}
		/* Which message: found by its bytes, then checked whole. */
		for (i = 0; i < NQP * NMSG; i++) {
			m = i % NMSG;
			len = 8 + (m * 997) % (3 * mtu_bytes - 8);
			if (wc.byte_len == len && msg_differs(rbuf(slot), len, i) < 0)
				break;
		}
		if (i == NQP * NMSG) {
			check(0, "rc: wr_id %llu: %u bytes match no message",
			      (unsigned long long)wc.wr_id, wc.byte_len);
			bad++;
			continue;
		}
		q = i / NMSG;
		if (wc.qp_num != p[q].s->qp_num || got[q][i % NMSG]++) {
			check(0, "rc: message %u on QP %#x (its QP is %#x), %u times",
			      i, wc.qp_num, p[q].s->qp_num, got[q][i % NMSG]);
			bad++;
		}
	}
	for (q = 0; q < NQP; q++)
		for (m = 0; m < NMSG; m++)
			if (got[q][m] != 1)
				bad++;
	report(!bad && n == 2 * sends,
	       "rc: %u SENDs from %d QPs into one SRQ, data, byte_len, wr_id and qp_num right",
	       sends, NQP);
	report(!wait_wc(cq, 100, &wc), "rc: no extra completion");
out:
	for (q = 0; q < NQP; q++)
		free_pair(&p[q]);
	ibv_destroy_srq(srq);
	ibv_destroy_cq(cq);
}

static int ud_to_rts(struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 1, .qkey = QKEY,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_QKEY))
		return -1;
	a.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
		return -1;
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

static void test_ud(void)
{
	struct ibv_ah_attr aa = {
		.is_global = 1, .port_num = 1,
		.grh = { .dgid = gid, .sgid_index = gid_index, .hop_limit = 64 },
	};
	struct ibv_qp *c = NULL, *s = NULL;
	struct ibv_ah *ah = NULL;
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	unsigned int i, n, bad = 0, recvs = 0;

	cq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	srq = new_srq(16, 1);
	if (!cq || !srq) {
		check(0, "ud: CQ or SRQ: %s", strerror(errno));
		return;
	}
	c = new_qp(IBV_QPT_UD, cq, NULL);
	s = new_qp(IBV_QPT_UD, cq, srq);
	ah = ibv_create_ah(pd, &aa);
	if (!c || !s || !ah || ud_to_rts(c) || ud_to_rts(s)) {
		check(0, "ud: QPs or AH: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 8; i++)
		post_srq(srq, 2000 + i, 100 + i, SLOT);
	for (i = 0; i < 8; i++) {
		uint32_t len = 1 + i * 111;

		msg_fill(sbuf(200 + i), len, 200 + i);
		if (send_one(c, 200 + i, len, i, ah, s->qp_num))
			check(0, "ud: post send");
	}
	for (n = 0; n < 16; n++) {
		if (!wait_wc(cq, 5000, &wc)) {
			check(0, "ud: %u of 16 completions", n);
			break;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			check(0, "ud: %s", ibv_wc_status_str(wc.status));
			bad++;
			continue;
		}
		if (wc.opcode == IBV_WC_SEND)
			continue;
		/* The SRQ's WQEs go in order; datagrams arrive in order. */
		i = recvs++;
		if (wc.wr_id != 2000 + i || wc.qp_num != s->qp_num ||
		    wc.src_qp != c->qp_num || !(wc.wc_flags & IBV_WC_GRH) ||
		    wc.byte_len != GRH_LEN + 1 + i * 111 ||
		    msg_differs(rbuf(100 + i) + GRH_LEN, 1 + i * 111, 200 + i) >= 0) {
			check(0, "ud: datagram %u: wr_id %llu qp %#x src %#x len %u",
			      i, (unsigned long long)wc.wr_id, wc.qp_num,
			      wc.src_qp, wc.byte_len);
			bad++;
		}
	}
	report(!bad && recvs == 8,
	       "ud: 8 datagrams into a UD QP on an SRQ, GRH, data, wr_id, qp_num and src_qp right");
out:
	if (ah)
		ibv_destroy_ah(ah);
	if (c)
		ibv_destroy_qp(c);
	if (s)
		ibv_destroy_qp(s);
	ibv_destroy_srq(srq);
	ibv_destroy_cq(cq);
}

/* @k SENDs of 64 bytes on @p, and their 2 * @k completions. */
static int sends(struct pair *p, struct ibv_cq *cq, unsigned int k)
{
	struct ibv_wc wc;
	unsigned int i;

	for (i = 0; i < k; i++)
		if (send_one(p->c, 300, 64, 1, NULL, 0))
			return -1;
	for (i = 0; i < 2 * k; i++)
		if (!wait_wc(cq, 5000, &wc) || wc.status != IBV_WC_SUCCESS)
			return -1;
	return 0;
}

static void test_limit(void)
{
	struct ibv_srq_attr sa = {};
	struct pair p = {};
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	int other = 0, n;
	unsigned int i;

	cq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	srq = new_srq(16, 1);
	if (!cq || !srq || connect_pair(&p, cq, srq, 7)) {
		check(0, "limit: setup: %s", strerror(errno));
		goto out;
	}
	msg_fill(sbuf(300), 64, 300);
	for (i = 0; i < 10; i++)
		post_srq(srq, 3000 + i, 200 + i, SLOT);
	sa.srq_limit = 7;
	if (ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT)) {
		check(0, "limit: arm");
		goto out;
	}
	/* 10 - 3 = 7 left: not below the limit. */
	n = sends(&p, cq, 3) ? -1 : srq_events(srq, 300, &other, NULL, NULL);
	report(n == 0 && !other, "limit 7, 7 WQEs left: no event (%d)", n);
	n = sends(&p, cq, 1) ? -1 : srq_events(srq, 2000, &other, NULL, NULL);
	report(n == 1 && !other,
	       "limit 7, 6 left: IBV_EVENT_SRQ_LIMIT_REACHED once (%d, %d others)",
	       n, other);
	report(!ibv_query_srq(srq, &sa) && sa.srq_limit == 0,
	       "limit reads 0 once fired (%u)", sa.srq_limit);
	n = sends(&p, cq, 2) ? -1 : srq_events(srq, 300, &other, NULL, NULL);
	report(n == 0, "disarmed: no event for 2 more (%d)", n);
	/* Armed again above what is left: the next WQE taken fires it. */
	sa.srq_limit = 5;
	ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT);
	n = sends(&p, cq, 2) ? -1 : srq_events(srq, 2000, &other, NULL, NULL);
	report(n == 1 && !other, "armed again at 5 with 4 left: one event (%d)",
	       n);
out:
	free_pair(&p);
	if (srq)
		ibv_destroy_srq(srq);
	if (cq)
		ibv_destroy_cq(cq);
}

/* Resize test: WQE k has wr_id RSZ_WRID + k and a buffer of its own. */
#define RSZ_WRID	4000
#define RSZ_SLOT(k)	(400 + (k) % 64)
#define RSZ_LEN(m)	(100 + ((m) * 373) % 3000)

/*
 * SEND messages @m .. @m + @count - 1 on @p; each must land in WQE m
 * (FIFO), whole.  Returns how many arrived right.
 */
static unsigned int resize_traffic(struct pair *p, struct ibv_cq *cq,
				   unsigned int m, unsigned int count)
{
	unsigned int end = m + count, ok = 0, j;
	struct ibv_wc wc;

	for (; m < end; m++) {
		msg_fill(sbuf(RSZ_SLOT(m)), RSZ_LEN(m), 7000 + m);
		memset(rbuf(RSZ_SLOT(m)), 0, SLOT);
		if (send_one(p->c, RSZ_SLOT(m), RSZ_LEN(m), m, NULL, 0)) {
			check(0, "resize: post send %u", m);
			return ok;
		}
		for (j = 0; j < 2; j++) {
			if (!wait_wc(cq, 5000, &wc)) {
				check(0, "resize: message %u: no completion", m);
				return ok;
			}
			if (wc.status != IBV_WC_SUCCESS) {
				check(0, "resize: message %u: %s", m,
				      ibv_wc_status_str(wc.status));
				return ok;
			}
			if (wc.opcode != IBV_WC_RECV)
				continue;
			if (wc.wr_id != RSZ_WRID + m ||
			    wc.byte_len != RSZ_LEN(m) ||
			    msg_differs(rbuf(RSZ_SLOT(m)), RSZ_LEN(m),
					7000 + m) >= 0) {
				check(0, "resize: message %u: wr_id %llu, %u bytes, data %s",
				      m, (unsigned long long)wc.wr_id,
				      wc.byte_len,
				      msg_differs(rbuf(RSZ_SLOT(m)),
						  RSZ_LEN(m), 7000 + m) >= 0 ?
				      "wrong" : "right");
				return ok;
			}
			ok++;
		}
	}
	return ok;
}

/* Post WQEs *@k .. @end - 1; returns the first error, *@k the next. */
static int resize_post(struct ibv_srq *srq, unsigned int *k, unsigned int end)
{
	int ret;

	for (; *k < end; (*k)++) {
		ret = post_srq(srq, RSZ_WRID + *k, RSZ_SLOT(*k), SLOT);
		if (ret)
			return ret;
	}
	return 0;
}

static uint32_t srq_max_wr(struct ibv_srq *srq, uint32_t *limit)
{
	struct ibv_srq_attr sa = {};

	if (ibv_query_srq(srq, &sa))
		return 0;
	if (limit)
		*limit = sa.srq_limit;
	return sa.max_wr;
}

static void test_resize(void)
{
	struct ibv_srq_attr sa = {};
	unsigned int k = 0, got;
	struct pair p = {};
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	int other = 0, n, ret;
	uint32_t limit = 0;
	struct ibv_wc wc;

	if (!(dattr.device_cap_flags & IBV_DEVICE_SRQ_RESIZE)) {
		printf("resize: not offered (no IBV_DEVICE_SRQ_RESIZE)\n");
		return;
	}
	cq = ibv_create_cq(ctx, 256, NULL, NULL, 0);
	srq = new_srq(8, 1);
	if (!cq || !srq || connect_pair(&p, cq, srq, 7)) {
		check(0, "resize: setup: %s", strerror(errno));
		goto out;
	}
	report(srq_max_wr(srq, NULL) == 8 && !resize_post(srq, &k, 8) &&
	       resize_post(srq, &k, 9) == ENOMEM,
	       "resize: max_wr 8, 8 posted, the 9th ENOMEM");
	/* 3 taken, 3 more posted: the 8 waiting wrap the ring. */
	got = resize_traffic(&p, cq, 0, 3);
	ret = resize_post(srq, &k, 11);
	report(got == 3 && !ret, "resize: 3 taken, 3 more posted past the wrap");

	sa.max_wr = 4;
	errno = ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	report(errno == EINVAL && srq_max_wr(srq, NULL) == 8,
	       "resize: to 4 with 8 waiting: EINVAL (%s), max_wr still %u",
	       strerror(errno), srq_max_wr(srq, NULL));
	report(resize_post(srq, &k, 12) == ENOMEM,
	       "resize: after the refused shrink, still full at 8");

	sa.max_wr = 20;
	errno = ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	report(!errno && srq_max_wr(srq, NULL) == 32,
	       "resize: to 20 with 8 waiting: %s, max_wr %u", strerror(errno),
	       srq_max_wr(srq, NULL));
	ret = resize_post(srq, &k, 35);
	report(!ret && resize_post(srq, &k, 36) == ENOMEM,
	       "resize: 24 more posted (32 waiting), the next ENOMEM (%d)",
	       ret);
	got = resize_traffic(&p, cq, 3, 32);
	report(got == 32,
	       "resize: all 32 WQEs (8 from the old ring) taken in order, data byte for byte (%u)",
	       got);

	/* Shrink to exactly what waits, with the limit armed across. */
	ret = resize_post(srq, &k, 43);
	sa.max_wr = 8;
	errno = ret ? ret : ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	report(!errno && srq_max_wr(srq, NULL) == 8 &&
	       resize_post(srq, &k, 44) == ENOMEM,
	       "resize: to 8 with 8 waiting: %s, max_wr %u, full",
	       strerror(errno), srq_max_wr(srq, NULL));
	sa.srq_limit = 6;
	ret = ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT);
	sa.max_wr = 4;
	errno = ret ? ret : ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	report(errno == EINVAL, "resize: to 4 with 8 waiting, limit 6: EINVAL (%s)",
	       strerror(errno));
	sa.max_wr = 16;
	errno = ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	report(!errno && srq_max_wr(srq, &limit) == 16 && limit == 6,
	       "resize: to 16 with limit 6 armed: %s, max_wr %u, limit %u",
	       strerror(errno), srq_max_wr(srq, NULL), limit);
	got = resize_traffic(&p, cq, 35, 2);
	n = srq_events(srq, 300, &other, NULL, NULL);
	report(got == 2 && n == 0 && !other,
	       "resize: limit 6, 6 WQEs left: no event (%d)", n);
	got = resize_traffic(&p, cq, 37, 1);
	n = srq_events(srq, 2000, &other, NULL, NULL);
	report(got == 1 && n == 1 && !other,
	       "resize: limit 6, 5 left: IBV_EVENT_SRQ_LIMIT_REACHED once (%d, %d others)",
	       n, other);
	got = resize_traffic(&p, cq, 38, 5);
	report(got == 5 && !wait_wc(cq, 100, &wc),
	       "resize: the last 5 WQEs right, no extra completion");
out:
	free_pair(&p);
	if (srq)
		ibv_destroy_srq(srq);
	if (cq)
		ibv_destroy_cq(cq);
}

static void test_error_and_destroy(void)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_ERR };
	struct pair p1 = {}, p2 = {};
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	int other = 0, last = 0, n;
	unsigned int i, bad = 0;

	cq = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	srq = new_srq(16, 1);
	if (!cq || !srq || connect_pair(&p1, cq, srq, 7) ||
	    connect_pair(&p2, cq, srq, 7)) {
		check(0, "error: setup: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 8; i++)
		post_srq(srq, 4000 + i, 300 + i, SLOT);
	msg_fill(sbuf(301), 100, 301);
	for (i = 0; i < 2; i++)
		send_one(p1.c, 301, 100, 1, NULL, 0);
	for (i = 0, n = 0; i < 4; i++)
		if (!wait_wc(cq, 5000, &wc) || wc.status != IBV_WC_SUCCESS ||
		    (wc.opcode == IBV_WC_RECV &&
		     (wc.wr_id != 4000 + (unsigned int)n++ ||
		      wc.qp_num != p1.s->qp_num)))
			bad++;
	report(!bad, "error: 2 SENDs on the first QP took 2 WQEs");
	if (ibv_modify_qp(p1.s, &a, IBV_QP_STATE))
		check(0, "error: to ERR: %s", strerror(errno));
	n = srq_events(srq, 2000, &other, p1.s, &last);
	report(last == 1 && !n && !other,
	       "error: IBV_EVENT_QP_LAST_WQE_REACHED once (%d)", last);
	report(!wait_wc(cq, 300, &wc),
	       "error: nothing of the SRQ flushed to the QP's CQ");
	free_pair(&p1);
	/* The 6 WQEs left go to the other QP, in posting order. */
	for (i = 0; i < 6; i++) {
		msg_fill(sbuf(310 + i), 50 + i, 310 + i);
		send_one(p2.c, 310 + i, 50 + i, 1, NULL, 0);
	}
	for (i = 0, n = 0; i < 12; i++) {
		if (!wait_wc(cq, 5000, &wc) || wc.status != IBV_WC_SUCCESS) {
			bad++;
			break;
		}
		if (wc.opcode != IBV_WC_RECV)
			continue;
		if (wc.wr_id != 4002 + (unsigned int)n ||
		    wc.qp_num != p2.s->qp_num || wc.byte_len != 50 + (unsigned)n ||
		    msg_differs(rbuf(302 + n), 50 + n, 310 + n) >= 0)
			bad++;
		n++;
	}
	report(!bad && n == 6,
	       "error: after the first QP's destroy, its SRQ's 6 WQEs go to another, in order, data right");
out:
	free_pair(&p1);
	free_pair(&p2);
	if (srq)
		ibv_destroy_srq(srq);
	if (cq)
		ibv_destroy_cq(cq);
}

static void test_rnr(void)
{
	struct pair p = {};
	struct ibv_srq *srq;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	unsigned int n, bad = 0;

	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	srq = new_srq(4, 1);
	if (!cq || !srq || connect_pair(&p, cq, srq, 7)) {
		check(0, "rnr: setup: %s", strerror(errno));
		goto out;
	}
	msg_fill(sbuf(400), 3000, 400);
	send_one(p.c, 400, 3000, 77, NULL, 0);
	report(!wait_wc(cq, 500, &wc),
	       "rnr: SEND to an empty SRQ waits (RNR NAKs, rnr_retry 7)");
	post_srq(srq, 5000, 400, SLOT);
	for (n = 0; n < 2; n++) {
		if (!wait_wc(cq, 10000, &wc) || wc.status != IBV_WC_SUCCESS) {
			bad++;
			break;
		}
		if (wc.opcode == IBV_WC_RECV &&
		    (wc.wr_id != 5000 || wc.byte_len != 3000 ||
		     msg_differs(rbuf(400), 3000, 400) >= 0))
			bad++;
		if (wc.opcode == IBV_WC_SEND && wc.wr_id != 77)
			bad++;
	}
	report(!bad && n == 2, "rnr: posted to the SRQ, the SEND lands, data right");
out:
	free_pair(&p);
	if (srq)
		ibv_destroy_srq(srq);
	if (cq)
		ibv_destroy_cq(cq);
}

int main(int argc, char **argv)
{
	struct ibv_port_attr pa;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEV GID_INDEX\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = open_by_name(argv[1]);
	gid_index = atoi(argv[2]);
	if (!ctx || ibv_query_device(ctx, &dattr) ||
	    ibv_query_port(ctx, 1, &pa) ||
	    ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: open %s\n", argv[1]);
		return 1;
	}
	/* At most 1024, so that 3 packets fit a receive buffer. */
	mtu = pa.active_mtu < IBV_MTU_1024 ? pa.active_mtu : IBV_MTU_1024;
	pd = ibv_alloc_pd(ctx);
	buf = aligned_alloc(4096, BUF_SIZE);
	mr = pd && buf ? ibv_reg_mr(pd, buf, BUF_SIZE,
				    IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!mr) {
		printf("FAIL: PD or MR: %s\n", strerror(errno));
		return 1;
	}
	memset(buf, 0, BUF_SIZE);
	fcntl(ctx->async_fd, F_SETFL,
	      fcntl(ctx->async_fd, F_GETFL) | O_NONBLOCK);

	test_attrs();
	test_overflow();
	test_rc();
	test_ud();
	test_limit();
	test_resize();
	test_error_and_destroy();
	test_rnr();

	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("%s: %d failures\n", argv[0], failures);
	return failures ? 1 : 0;
}
