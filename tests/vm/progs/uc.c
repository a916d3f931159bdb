// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UC QPs on one device: two pairs of UC QPs of one process, looped back
 * through one RoCE v2 GID.
 *
 *   verbs      create (IBV_QPT_UC), RESET -> INIT -> RTR -> RTS with UC's
 *              attribute masks; an RC-only attribute (max_dest_rd_atomic,
 *              timeout) is refused; query gives the type, state and PSNs
 *   data       SEND, SEND_WITH_IMM, RDMA_WRITE and RDMA_WRITE_WITH_IMM
 *              from 0 bytes to several path MTUs (multi-packet messages),
 *              at the active MTU and at a 256-byte path MTU, checked byte
 *              for byte with nothing written past the message; an inline
 *              SEND; the receiver's completions (opcode, byte_len,
 *              immediate, src_qp) and the sender's (success once sent)
 *   PSNs       a receiver expecting another PSN than the sender's first
 *              takes its FIRST and ONLY packets as new messages all the
 *              same (UC's rules)
 *   errors     READ and atomics are refused by ibv_post_send with EINVAL
 *              (in a chain: the WR before is posted, bad_wr points at the
 *              bad one)
 *   drops      a SEND with no receive posted, one longer than its receive,
 *              and a WRITE (with immediate) with a bad R_Key complete at
 *              the sender and are dropped at the receiver (rx_uc_dropped
 *              rises on sroce), with no completion there, and the receive
 *              WQE stays for the next SEND, which arrives
 *   ibv_wr_*   ibv_wr_send/_imm and ibv_wr_rdma_write/_imm on a QP of
 *              ibv_create_qp_ex(); ibv_wr_rdma_read and ibv_wr_atomic_*
 *              fail the batch (ibv_wr_complete returns EINVAL) and post
 *              nothing
 *
 *   uc <device> <gid index>
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BUF		(64 * 1024)
#define CANARY		0xee
#define PSN_A		0xfffff0u	/* wraps early on */
#define IMM		0x12345678u

struct end {
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;		/* ibv_create_qp_ex() QPs only */
	struct ibv_cq *scq, *rcq;
	uint8_t *sbuf, *rbuf;
	struct ibv_mr *smr, *rmr;
	const char *name;
};

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static const char *dev;
static union ibv_gid gid;
static int gidx, active_mtu;

/* A port counter of `rdma statistic show link <dev>/1`, or -1. */
static long counter(const char *name)
{
	char cmd[128], word[128];
	long value = -1;
	int found = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "rdma statistic show link %s/1", dev);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%127s", word) == 1) {
		if (found) {
			value = strtol(word, NULL, 10);
			break;
		}
		found = !strcmp(word, name);
	}
	pclose(f);
	return value;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll @cq for one completion within @ms; 1 if one came. */
static int poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int ms)
{
	double end = now() + ms / 1000.0;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n > 0;
		usleep(100);
	} while (now() < end);
	return 0;
}

/* Nothing completes on @cq for @ms. */
static void quiet(struct ibv_cq *cq, int ms, const char *what)
{
	struct ibv_wc wc;

	if (poll_one(cq, &wc, ms))
		printf("FAIL: %s: an unexpected completion: wr_id %llu status %s opcode %d byte_len %u\n",
		       what, (unsigned long long)wc.wr_id,
		       ibv_wc_status_str(wc.status), wc.opcode, wc.byte_len),
		failures++;
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

static struct end *new_end(const char *name, uint64_t send_ops)
{
	struct end *e = calloc(1, sizeof(*e));
	struct ibv_qp_init_attr_ex init = {
		.qp_type = IBV_QPT_UC,
		.cap = { .max_send_wr = 64, .max_recv_wr = 64,
			 .max_send_sge = 4, .max_recv_sge = 4,
			 .max_inline_data = 64 },
		.comp_mask = IBV_QP_INIT_ATTR_PD,
		.pd = pd,
	};
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;

	if (!e)
		return NULL;
	e->name = name;
	e->scq = ibv_create_cq(ctx, 128, NULL, NULL, 0);
	e->rcq = ibv_create_cq(ctx, 128, NULL, NULL, 0);
	e->sbuf = aligned_alloc(4096, BUF);
	e->rbuf = aligned_alloc(4096, BUF);
	if (!e->scq || !e->rcq || !e->sbuf || !e->rbuf) {
		printf("FAIL: %s: cannot create CQs or buffers\n", name);
		return NULL;
	}
	e->smr = ibv_reg_mr(pd, e->sbuf, BUF, access);
	e->rmr = ibv_reg_mr(pd, e->rbuf, BUF, access);
	if (!e->smr || !e->rmr) {
		printf("FAIL: %s: ibv_reg_mr: %s\n", name, strerror(errno));
		return NULL;
	}
	init.send_cq = e->scq;
	init.recv_cq = e->rcq;
	if (send_ops) {
		init.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		init.send_ops_flags = send_ops;
	}
	e->qp = ibv_create_qp_ex(ctx, &init);
	if (!e->qp) {
		printf("FAIL: %s: ibv_create_qp_ex(IBV_QPT_UC): %s\n", name,
		       strerror(errno));
		return NULL;
	}
	if (send_ops) {
		e->qpx = ibv_qp_to_qp_ex(e->qp);
		if (!e->qpx) {
			printf("FAIL: %s: ibv_qp_to_qp_ex\n", name);
			return NULL;
		}
	}
	return e;
}

static void free_end(struct end *e)
{
	check(!ibv_destroy_qp(e->qp), "%s: ibv_destroy_qp", e->name);
	check(!ibv_dereg_mr(e->smr) && !ibv_dereg_mr(e->rmr),
	      "%s: ibv_dereg_mr", e->name);
	check(!ibv_destroy_cq(e->scq) && !ibv_destroy_cq(e->rcq),
	      "%s: ibv_destroy_cq", e->name);
	free(e->sbuf);
	free(e->rbuf);
	free(e);
}

/*
 * Connect @e to QP @dest_qpn with UC's masks: it sends from @sq_psn and
 * expects @rq_psn.  The refused RC-only attributes are tried on the way.
 */
static int uc_connect(struct end *e, uint32_t dest_qpn, enum ibv_mtu mtu,
		      uint32_t sq_psn, uint32_t rq_psn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .pkey_index = 0, .port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};
	int err;

	if (ibv_modify_qp(e->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = dest_qpn;
	a.rq_psn = rq_psn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = gid;
	a.ah_attr.grh.sgid_index = gidx;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = 1;
	err = ibv_modify_qp(e->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			    IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	check(err == EINVAL, "%s: INIT -> RTR with RC's max_dest_rd_atomic and min_rnr_timer: %s, expected EINVAL",
	      e->name, err ? strerror(err) : "accepted");
	if (!err)
		return -1;
	if (ibv_modify_qp(e->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = sq_psn;
	a.timeout = 14;
	a.retry_cnt = 7;
	err = ibv_modify_qp(e->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			    IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT);
	check(err == EINVAL, "%s: RTR -> RTS with RC's timeout and retry_cnt: %s, expected EINVAL",
	      e->name, err ? strerror(err) : "accepted");
	if (!err)
		return -1;
	return ibv_modify_qp(e->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

static int post_recv(struct end *e, uint64_t wr_id, uint32_t off, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)e->rbuf + off, .length = len,
		.lkey = e->rmr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	return ibv_post_recv(e->qp, &wr, &bad);
}

/* Post one WR of @op from @from's sbuf to @to (its rbuf + @roff). */
static int post_send(struct end *from, struct end *to, enum ibv_wr_opcode op,
		     uint64_t wr_id, uint32_t len, uint32_t roff, uint32_t rkey,
		     unsigned int flags)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)from->sbuf, .length = len,
		.lkey = from->smr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED | flags,
		.imm_data = htobe32(IMM),
	}, *bad = NULL;

	wr.wr.rdma.remote_addr = (uintptr_t)to->rbuf + roff;
	wr.wr.rdma.rkey = rkey;
	return ibv_post_send(from->qp, &wr, &bad);
}

/* The sender's completion of @wr_id: success, of @opcode. */
static void sent_ok(struct end *from, uint64_t wr_id, enum ibv_wc_opcode opcode,
		    const char *what)
{
	struct ibv_wc wc;

	if (!poll_one(from->scq, &wc, 5000)) {
		printf("FAIL: %s: no send completion\n", what);
		failures++;
		return;
	}
	check(wc.wr_id == wr_id && wc.status == IBV_WC_SUCCESS &&
	      wc.opcode == opcode,
	      "%s: send completion wr_id %llu status %s opcode %d, expected %llu success %d",
	      what, (unsigned long long)wc.wr_id, ibv_wc_status_str(wc.status),
	      wc.opcode, (unsigned long long)wr_id, opcode);
}

/* The receiver's completion: @wr_id, @opcode, @len, the immediate if @imm. */
static int received_ok(struct end *to, struct end *from, uint64_t wr_id,
		       enum ibv_wc_opcode opcode, uint32_t len, int imm,
		       const char *what)
{
	struct ibv_wc wc;
	int before = failures;

	if (!poll_one(to->rcq, &wc, 5000)) {
		printf("FAIL: %s: no receive completion\n", what);
		failures++;
		return 0;
	}
	/* (src_qp is defined for UD only: rdma_rxe leaves it 0 for UC.) */
	check(wc.wr_id == wr_id && wc.status == IBV_WC_SUCCESS &&
	      wc.opcode == opcode && wc.byte_len == len &&
	      wc.qp_num == to->qp->qp_num,
	      "%s: receive completion wr_id %llu status %s opcode %d byte_len %u qp_num %u (from QP %u), expected %llu success %d %u %u",
	      what, (unsigned long long)wc.wr_id, ibv_wc_status_str(wc.status),
	      wc.opcode, wc.byte_len, wc.qp_num, from->qp->qp_num,
	      (unsigned long long)wr_id, opcode, len, to->qp->qp_num);
	check(imm ? (wc.wc_flags & IBV_WC_WITH_IMM) && be32toh(wc.imm_data) == IMM :
		    !(wc.wc_flags & IBV_WC_WITH_IMM),
	      "%s: wc_flags %#x imm %#x", what, wc.wc_flags,
	      be32toh(wc.imm_data));
	return failures == before;
}

/* Does @to's rbuf hold @from's sbuf's @len bytes at @off, canaries around? */
static int landed_as_sent(struct end *to, struct end *from, uint32_t off,
			  uint32_t len)
{
	return !memcmp(to->rbuf + off, from->sbuf, len) &&
	       all_bytes(to->rbuf, off, CANARY) &&
	       all_bytes(to->rbuf + off + len, BUF - off - len, CANARY);
}

static int landed(struct end *to, struct end *from, uint32_t off, uint32_t len,
		  const char *what)
{
	int ok = landed_as_sent(to, from, off, len);

	check(ok, "%s: %u bytes not as sent, or written outside", what, len);
	return ok;
}

/*
 * Packets this host dropped on the way in, as counted: the stack's
 * backlog drops and sroce's full receive queues.  UC may lose them: a
 * WRITE that lost a packet is silently incomplete.
 */
static long long counted_drops(void)
{
	return softnet_drops() + counter("rx_qp_queue_full");
}

/*
 * A plain WRITE of @len bytes to @b's offset 64, then a 0-byte SEND that
 * says it landed (UC delivers a QP's messages in order).  Nothing tells
 * the sender or the receiver of a WRITE that lost a packet, so where the
 * data differs and the host counted drops meanwhile (a loaded host under
 * TCG), the WRITE is sent again, up to twice; data that differs with no
 * drop counted is a failure at once.
 */
static int write_lands(struct end *a, struct end *b, unsigned int i,
		       uint32_t len, const char *what)
{
	long long drops0, drops;
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		drops0 = counted_drops();
		memset(b->rbuf, CANARY, BUF);
		if (post_recv(b, 3000 + i, 0, 0) ||
		    post_send(a, b, IBV_WR_RDMA_WRITE, i, len, 64,
			      b->rmr->rkey, 0) ||
		    post_send(a, b, IBV_WR_SEND, 100 + i, 0, 0, 0, 0)) {
			printf("FAIL: %s: cannot post\n", what);
			failures++;
			return 0;
		}
		sent_ok(a, i, IBV_WC_RDMA_WRITE, what);
		sent_ok(a, 100 + i, IBV_WC_SEND, what);
		if (!received_ok(b, a, 3000 + i, IBV_WC_RECV, 0, 0, what))
			return 0;
		if (landed_as_sent(b, a, 64, len))
			return 1;
		drops = counted_drops();
		if (drops0 < 0 || drops <= drops0)
			break;
		printf("note: %s: the data differs, and the host counted %lld dropped packets meanwhile (backlog, rx_qp_queue_full): sent again\n",
		       what, drops - drops0);
	}
	return landed(b, a, 64, len, what);
}

/*
 * Every opcode at every size in @sizes, from @a to @b: SENDs into a
 * receive at offset 64, WRITEs to offset 64 followed by a 0-byte SEND
 * that says they landed (UC delivers a QP's messages in order).
 */
static void test_sizes(struct end *a, struct end *b, int mtu, const char *tag)
{
	const uint32_t sizes[] = {
		0, 1, 3, 4, 255, 256, 257, mtu - 1, mtu, mtu + 1, 2 * mtu,
		3 * mtu + 5, 8 * mtu, 16 * mtu + 3, BUF - 128,
	};
	static const struct {
		enum ibv_wr_opcode op;
		const char *name;
	} ops[] = {
		{ IBV_WR_SEND, "SEND" },
		{ IBV_WR_SEND_WITH_IMM, "SEND_WITH_IMM" },
		{ IBV_WR_RDMA_WRITE, "RDMA_WRITE" },
		{ IBV_WR_RDMA_WRITE_WITH_IMM, "RDMA_WRITE_WITH_IMM" },
	};
	unsigned int i, o, good = 0, total = 0;
	char what[128];

	for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t len = sizes[i];
			enum ibv_wr_opcode op = ops[o].op;
			int ok = 1, before = failures;

			snprintf(what, sizeof(what), "%s %s %u bytes", tag,
				 ops[o].name, len);
			memset(b->rbuf, CANARY, BUF);
			pattern(a->sbuf, len, i + 31 * o);
			total++;
			if (op == IBV_WR_SEND || op == IBV_WR_SEND_WITH_IMM) {
				if (post_recv(b, 1000 + i, 64, BUF - 64) ||
				    post_send(a, b, op, i, len, 0, 0, 0)) {
					printf("FAIL: %s: cannot post\n", what);
					failures++;
					continue;
				}
				sent_ok(a, i, IBV_WC_SEND, what);
				ok = received_ok(b, a, 1000 + i, IBV_WC_RECV, len,
						 op == IBV_WR_SEND_WITH_IMM, what);
			} else if (op == IBV_WR_RDMA_WRITE_WITH_IMM) {
				if (post_recv(b, 2000 + i, 0, 0) ||
				    post_send(a, b, op, i, len, 64,
					      b->rmr->rkey, 0)) {
					printf("FAIL: %s: cannot post\n", what);
					failures++;
					continue;
				}
				sent_ok(a, i, IBV_WC_RDMA_WRITE, what);
				ok = received_ok(b, a, 2000 + i,
						 IBV_WC_RECV_RDMA_WITH_IMM, len, 1,
						 what);
			} else {
				ok = write_lands(a, b, i, len, what);
				if (ok && failures == before)
					good++;
				continue;
			}
			if (ok)
				ok = landed(b, a, 64, len, what);
			if (ok && failures == before)
				good++;
		}
	}
	report(good == total, "%s: SEND, SEND_WITH_IMM, RDMA_WRITE and RDMA_WRITE_WITH_IMM at %u sizes from 0 to %u bytes (path MTU %d): %u of %u landed as sent, completions right",
	       tag, (unsigned int)(sizeof(sizes) / sizeof(sizes[0])),
	       BUF - 128, mtu, good, total);

	/* An inline SEND. */
	memset(b->rbuf, CANARY, BUF);
	pattern(a->sbuf, 60, 77);
	if (post_recv(b, 4000, 64, 1024) ||
	    post_send(a, b, IBV_WR_SEND, 4000, 60, 0, 0, IBV_SEND_INLINE)) {
		printf("FAIL: %s: cannot post an inline SEND\n", tag);
		failures++;
		return;
	}
	memset(a->sbuf, 0, 60);		/* inline: copied at post time */
	pattern(b->sbuf, 60, 77);	/* what landed must be this */
	sent_ok(a, 4000, IBV_WC_SEND, "inline SEND");
	report(received_ok(b, a, 4000, IBV_WC_RECV, 60, 0, "inline SEND") &&
	       landed(b, b, 64, 60, "inline SEND"),
	       "%s: an inline SEND of 60 bytes", tag);
}

/* READ and atomics: EINVAL at ibv_post_send, bad_wr set. */
static void test_refused(struct end *a, struct end *b)
{
	static const enum ibv_wr_opcode bad_ops[] = {
		IBV_WR_RDMA_READ, IBV_WR_ATOMIC_CMP_AND_SWP,
		IBV_WR_ATOMIC_FETCH_AND_ADD, IBV_WR_LOCAL_INV,
		IBV_WR_BIND_MW, IBV_WR_SEND_WITH_INV,
	};
	struct ibv_sge sge = {
		.addr = (uintptr_t)a->sbuf, .length = 8, .lkey = a->smr->lkey,
	};
	struct ibv_send_wr wr[2], *bad;
	unsigned int i, refused = 0;
	int err;

	for (i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++) {
		memset(wr, 0, sizeof(wr));
		wr[0].wr_id = 50;
		wr[0].opcode = IBV_WR_SEND;
		wr[0].send_flags = IBV_SEND_SIGNALED;
		wr[0].next = &wr[1];
		wr[1].wr_id = 51;
		wr[1].sg_list = &sge;
		wr[1].num_sge = 1;
		wr[1].opcode = bad_ops[i];
		wr[1].send_flags = IBV_SEND_SIGNALED;
		wr[1].wr.atomic.remote_addr = (uintptr_t)b->rbuf;
		wr[1].wr.atomic.rkey = b->rmr->rkey;
		bad = NULL;
		if (post_recv(b, 5000 + i, 0, 64)) {
			printf("FAIL: cannot post a receive\n");
			failures++;
			return;
		}
		err = ibv_post_send(a->qp, wr, &bad);
		check(err == EINVAL && bad == &wr[1],
		      "opcode %d in a chain after a SEND: %s, bad_wr %s",
		      bad_ops[i], err ? strerror(err) : "accepted",
		      bad == &wr[1] ? "at it" : bad ? "elsewhere" : "unset");
		if (err == EINVAL && bad == &wr[1])
			refused++;
		/* The SEND before it went. */
		sent_ok(a, 50, IBV_WC_SEND, "the SEND before a refused WR");
		received_ok(b, a, 5000 + i, IBV_WC_RECV, 0, 0,
			    "the SEND before a refused WR");
	}
	quiet(a->scq, 200, "after the refused WRs");
	report(refused == sizeof(bad_ops) / sizeof(bad_ops[0]),
	       "RDMA_READ, ATOMIC_CMP_AND_SWP, ATOMIC_FETCH_AND_ADD, LOCAL_INV, BIND_MW and SEND_WITH_INV refused with EINVAL at post, bad_wr at them, the SEND before each posted and received");
}

/* Wait up to 2 s for counter @name to reach @want; its value, or -1. */
static long counter_at_least(const char *name, long want)
{
	double end = now() + 2;
	long c;

	do {
		c = counter(name);
		if (c < 0 || c >= want)
			return c;
		usleep(20000);
	} while (now() < end);
	return c;
}

/*
 * Messages the receiver drops: their senders complete, the receiver
 * completes nothing, and the receive WQE waiting stays for the next SEND.
 */
static void test_drops(struct end *a, struct end *b, int mtu)
{
	long c0 = counter("rx_uc_dropped"), c1;
	int has = c0 >= 0;

	/* No receive posted: a SEND of 3 packets, then one of 1. */
	pattern(a->sbuf, 3 * mtu, 5);
	check(!post_send(a, b, IBV_WR_SEND, 60, 3 * mtu, 0, 0, 0) &&
	      !post_send(a, b, IBV_WR_SEND_WITH_IMM, 61, 10, 0, 0, 0),
	      "cannot post SENDs");
	sent_ok(a, 60, IBV_WC_SEND, "a SEND with no receive posted");
	sent_ok(a, 61, IBV_WC_SEND, "a SEND with no receive posted");
	c1 = has ? counter_at_least("rx_uc_dropped", c0 + 4) : -1;
	quiet(b->rcq, 200, "SENDs with no receive posted");
	if (has)
		report(c1 >= c0 + 4,
		       "two SENDs (3 packets and 1) with no receive posted: completed at the sender, dropped at the receiver, rx_uc_dropped %ld -> %ld",
		       c0, c1);
	else
		report(1, "two SENDs with no receive posted: completed at the sender, nothing at the receiver (no rx_uc_dropped counter on %s)",
		       dev);

	/* The next SEND, after a receive is posted, arrives. */
	memset(b->rbuf, CANARY, BUF);
	pattern(a->sbuf, 2 * mtu + 1, 6);
	check(!post_recv(b, 6000, 64, BUF - 64) &&
	      !post_send(a, b, IBV_WR_SEND, 62, 2 * mtu + 1, 0, 0, 0),
	      "cannot post");
	sent_ok(a, 62, IBV_WC_SEND, "the SEND after the drops");
	report(received_ok(b, a, 6000, IBV_WC_RECV, 2 * mtu + 1, 0,
			   "the SEND after the drops") &&
	       landed(b, a, 64, 2 * mtu + 1, "the SEND after the drops"),
	       "the next SEND, once a receive is posted, arrives whole");

	/* Longer than its receive: dropped, the receive stays. */
	c0 = counter("rx_uc_dropped");
	memset(b->rbuf, CANARY, BUF);
	pattern(a->sbuf, 2 * mtu, 7);
	check(!post_recv(b, 6001, 64, mtu + 10) &&
	      !post_send(a, b, IBV_WR_SEND, 63, 2 * mtu, 0, 0, 0),
	      "cannot post");
	sent_ok(a, 63, IBV_WC_SEND, "a SEND longer than its receive");
	c1 = has ? counter_at_least("rx_uc_dropped", c0 + 1) : -1;
	quiet(b->rcq, 200, "a SEND longer than its receive");
	check(!has || c1 > c0, "a SEND longer than its receive: rx_uc_dropped %ld -> %ld",
	      c0, c1);
	/* A WRITE with immediate and a bad R_Key: dropped, receive kept. */
	memset(b->rbuf, CANARY, BUF);	/* the SEND's first packet landed */
	pattern(a->sbuf, 100, 8);
	c0 = counter("rx_uc_dropped");
	check(!post_send(a, b, IBV_WR_RDMA_WRITE_WITH_IMM, 64, 100, 64,
			 b->rmr->rkey ^ 0x5a5a00, 0) &&
	      !post_send(a, b, IBV_WR_RDMA_WRITE, 65, 2 * mtu, 64,
			 b->rmr->rkey + 0x100, 0),
	      "cannot post WRITEs");
	sent_ok(a, 64, IBV_WC_RDMA_WRITE, "a WRITE with a bad R_Key");
	sent_ok(a, 65, IBV_WC_RDMA_WRITE, "a WRITE with a bad R_Key");
	c1 = has ? counter_at_least("rx_uc_dropped", c0 + 2) : -1;
	quiet(b->rcq, 200, "WRITEs with a bad R_Key");
	check(!has || c1 >= c0 + 2, "WRITEs with a bad R_Key: rx_uc_dropped %ld -> %ld",
	      c0, c1);
	check(all_bytes(b->rbuf, BUF, CANARY),
	      "the dropped messages wrote to the receiver's memory");
	/* The receive posted before them takes the next SEND. */
	pattern(a->sbuf, mtu, 9);
	check(!post_send(a, b, IBV_WR_SEND, 66, mtu, 0, 0, 0), "cannot post");
	sent_ok(a, 66, IBV_WC_SEND, "the SEND after them");
	report(received_ok(b, a, 6001, IBV_WC_RECV, mtu, 0,
			   "the SEND after the drops") &&
	       landed(b, a, 64, mtu, "the SEND after the drops"),
	       "a SEND longer than its receive and WRITEs with a bad R_Key (one with immediate) are dropped%s, the receive posted stays and takes the next SEND",
	       has ? " and counted" : "");
}

/*
 * A receiver that expects another PSN than its sender sends from: each
 * new message starts at its FIRST or ONLY packet all the same.
 */
static void test_psn_mismatch(struct end *c, struct end *d, int mtu)
{
	unsigned int i, ok = 0;
	const uint32_t sizes[] = { 10, 3 * mtu + 1, 0, mtu };

	for (i = 0; i < 4; i++) {
		memset(d->rbuf, CANARY, BUF);
		pattern(c->sbuf, sizes[i], 40 + i);
		if (post_recv(d, 7000 + i, 64, BUF - 64) ||
		    post_send(c, d, IBV_WR_SEND, 70 + i, sizes[i], 0, 0, 0)) {
			printf("FAIL: cannot post\n");
			failures++;
			return;
		}
		sent_ok(c, 70 + i, IBV_WC_SEND, "a SEND at an unexpected PSN");
		if (received_ok(d, c, 7000 + i, IBV_WC_RECV, sizes[i], 0,
				"a SEND at an unexpected PSN") &&
		    landed(d, c, 64, sizes[i], "a SEND at an unexpected PSN"))
			ok++;
	}
	report(ok == 4, "a receiver expecting PSN %#x from a sender at %#x takes SENDs of 10, %d, 0 and %d bytes as new messages",
	       PSN_A + 0x1000, PSN_A, 3 * mtu + 1, mtu);
}

/* The ibv_wr_* API on a UC QP. */
static void test_wr_api(struct end *x, struct end *b, int mtu)
{
	struct ibv_qp_ex *q = x->qpx;
	uint32_t lens[4] = { 5, 3 * mtu + 7, 2 * mtu, 100 };
	uint32_t offs[4] = { 64, 16384 + 64, 32768 + 64, 49152 + 64 };
	unsigned int i;
	int err, ok;

	memset(b->rbuf, CANARY, BUF);
	for (i = 0; i < 4; i++)
		pattern(x->sbuf + 16384 * i, lens[i], 90 + i);
	check(!post_recv(b, 8000, 64, 16384 - 64) &&
	      !post_recv(b, 8001, 16384 + 64, 16384 - 64) &&
	      !post_recv(b, 8002, 0, 0), "cannot post receives");
	ibv_wr_start(q);
	q->wr_id = 80;
	q->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(q);
	ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf, lens[0]);
	q->wr_id = 81;
	ibv_wr_send_imm(q, htobe32(IMM));
	ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf + 16384, lens[1]);
	q->wr_id = 82;
	ibv_wr_rdma_write(q, b->rmr->rkey, (uintptr_t)b->rbuf + offs[2]);
	ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf + 32768, lens[2]);
	q->wr_id = 83;
	ibv_wr_rdma_write_imm(q, b->rmr->rkey, (uintptr_t)b->rbuf + offs[3],
			      htobe32(IMM));
	ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf + 49152, lens[3]);
	err = ibv_wr_complete(q);
	check(!err, "ibv_wr_complete: %s", strerror(err));
	sent_ok(x, 80, IBV_WC_SEND, "ibv_wr_send");
	sent_ok(x, 81, IBV_WC_SEND, "ibv_wr_send_imm");
	sent_ok(x, 82, IBV_WC_RDMA_WRITE, "ibv_wr_rdma_write");
	sent_ok(x, 83, IBV_WC_RDMA_WRITE, "ibv_wr_rdma_write_imm");
	ok = received_ok(b, x, 8000, IBV_WC_RECV, lens[0], 0, "ibv_wr_send");
	ok &= received_ok(b, x, 8001, IBV_WC_RECV, lens[1], 1,
			  "ibv_wr_send_imm");
	ok &= received_ok(b, x, 8002, IBV_WC_RECV_RDMA_WITH_IMM, lens[3], 1,
			  "ibv_wr_rdma_write_imm");
	for (i = 0; ok && i < 4; i++) {
		ok = !memcmp(b->rbuf + offs[i], x->sbuf + 16384 * i, lens[i]);
		check(ok, "ibv_wr_*: message %u not as sent", i);
	}
	report(ok, "ibv_wr_send, _send_imm, _rdma_write and _rdma_write_imm in one batch: completions and data right");

	/* READ and atomics fail their batch; nothing of it is posted. */
	for (i = 0; i < 3; i++) {
		ibv_wr_start(q);
		q->wr_id = 90 + i;
		q->wr_flags = IBV_SEND_SIGNALED;
		ibv_wr_send(q);
		ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf, 8);
		if (i == 0)
			ibv_wr_rdma_read(q, b->rmr->rkey, (uintptr_t)b->rbuf);
		else if (i == 1)
			ibv_wr_atomic_cmp_swp(q, b->rmr->rkey,
					      (uintptr_t)b->rbuf, 0, 1);
		else
			ibv_wr_atomic_fetch_add(q, b->rmr->rkey,
						(uintptr_t)b->rbuf, 1);
		ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf, 8);
		err = ibv_wr_complete(q);
		check(err == EINVAL, "ibv_wr_complete of a batch with %s: %s, expected EINVAL",
		      i == 0 ? "ibv_wr_rdma_read" : i == 1 ?
		      "ibv_wr_atomic_cmp_swp" : "ibv_wr_atomic_fetch_add",
		      err ? strerror(err) : "accepted");
	}
	quiet(x->scq, 300, "batches with a READ or an atomic");
	quiet(b->rcq, 100, "batches with a READ or an atomic");
	report(1, "ibv_wr_rdma_read, ibv_wr_atomic_cmp_swp and ibv_wr_atomic_fetch_add fail their batch with EINVAL at ibv_wr_complete, nothing posted");
}

static uint32_t sq_psn_of(struct end *e)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	check(!ibv_query_qp(e->qp, &a, IBV_QP_SQ_PSN, &init), "ibv_query_qp");
	return a.sq_psn;
}

static void test_query(struct end *e, uint32_t dest, uint32_t sq_psn,
		       uint32_t rq_psn)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	check(!ibv_query_qp(e->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			    IBV_QP_RQ_PSN | IBV_QP_DEST_QPN |
			    IBV_QP_ACCESS_FLAGS | IBV_QP_PATH_MTU, &init),
	      "ibv_query_qp");
	report(init.qp_type == IBV_QPT_UC && a.qp_state == IBV_QPS_RTS &&
	       a.dest_qp_num == dest && a.sq_psn == sq_psn &&
	       a.rq_psn == rq_psn &&
	       (a.qp_access_flags & IBV_ACCESS_REMOTE_WRITE),
	       "%s: ibv_query_qp: type %d state %d dest_qp_num %u sq_psn %#x rq_psn %#x access %#x",
	       e->name, init.qp_type, a.qp_state, a.dest_qp_num, a.sq_psn,
	       a.rq_psn, a.qp_access_flags);
}

int main(int argc, char **argv)
{
	const uint64_t ops = IBV_QP_EX_WITH_SEND |
		IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_RDMA_WRITE |
		IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | IBV_QP_EX_WITH_RDMA_READ |
		IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
		IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;
	struct ibv_port_attr port;
	struct end *a, *b, *c, *d, *x, *y;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <device> <gid index>\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = argv[1];
	gidx = atoi(argv[2]);
	ctx = open_by_name(dev);
	if (!ctx) {
		printf("FAIL: cannot open %s\n", dev);
		return 1;
	}
	if (ibv_query_gid(ctx, 1, gidx, &gid) ||
	    ibv_query_port(ctx, 1, &port)) {
		printf("FAIL: cannot query %s\n", dev);
		return 1;
	}
	active_mtu = 128 << port.active_mtu;
	printf("uc: %s, GID %d, active MTU %d\n", dev, gidx, active_mtu);
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		printf("FAIL: ibv_alloc_pd: %s\n", strerror(errno));
		return 1;
	}

	/* a <-> b at the active MTU, c -> d at 256 with PSNs apart. */
	a = new_end("A", 0);
	b = new_end("B", 0);
	c = new_end("C", 0);
	d = new_end("D", 0);
	if (!a || !b || !c || !d)
		return 1;
	report(!uc_connect(a, b->qp->qp_num, port.active_mtu, PSN_A, PSN_A) &&
	       !uc_connect(b, a->qp->qp_num, port.active_mtu, PSN_A, PSN_A) &&
	       !uc_connect(c, d->qp->qp_num, IBV_MTU_256, PSN_A, PSN_A) &&
	       !uc_connect(d, c->qp->qp_num, IBV_MTU_256, PSN_A,
			   PSN_A + 0x1000),
	       "ibv_create_qp_ex(IBV_QPT_UC) x 4, RESET -> INIT -> RTR -> RTS with UC's attributes");
	test_query(a, b->qp->qp_num, PSN_A, PSN_A);
	test_sizes(a, b, active_mtu, "A -> B");
	test_sizes(b, a, active_mtu, "B -> A");
	test_psn_mismatch(c, d, 256);
	test_sizes(c, d, 256, "C -> D");
	test_refused(a, b);
	test_drops(a, b, active_mtu);
	test_drops(c, d, 256);
	/* D expects the PSN C sends next. */
	test_query(d, c->qp->qp_num, PSN_A, sq_psn_of(c));

	x = new_end("X", ops);
	y = new_end("Y", 0);
	if (!x || !y)
		return 1;
	report(!uc_connect(x, y->qp->qp_num, port.active_mtu, 0, 0) &&
	       !uc_connect(y, x->qp->qp_num, port.active_mtu, 0, 0),
	       "ibv_create_qp_ex(IBV_QPT_UC) with send_ops_flags for the ibv_wr_* API");
	test_wr_api(x, y, active_mtu);

	quiet(a->rcq, 100, "A at the end");
	quiet(b->rcq, 100, "B at the end");
	free_end(a);
	free_end(b);
	free_end(c);
	free_end(d);
	free_end(x);
	free_end(y);
	check(!ibv_dealloc_pd(pd), "ibv_dealloc_pd");
	ibv_close_device(ctx);
	printf("uc: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
