// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data integrity over one RDMA device: two RC QPs of one process, connected
 * to each other through the device's RoCE v2 GID, move random messages
 * with RDMA WRITE (with and without immediate), RDMA READ and SEND (with
 * and without immediate, inline when small), at random sizes, offsets and
 * scatter/gather splits, signaled and unsignaled.  After every batch each
 * byte of every message is compared with what was sent, and guard bytes
 * around each target must be untouched.
 *
 *   integrity <device> <gid index> <path mtu bytes> <iterations> [seed]
 *
 * Prints one line per failure and a summary; exits 0 only if all matched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define BUF_SIZE	(8u << 20)
#define MAX_MSG		(2u << 20)
#define GUARD		256
#define MAX_SGE		4
#define BATCH		8

enum op { OP_WRITE, OP_WRITE_IMM, OP_READ, OP_SEND, OP_SEND_IMM, NUM_OPS };

static const char *const op_name[] = {
	"WRITE", "WRITE_IMM", "READ", "SEND", "SEND_IMM",
};

struct side {
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *buf;
};

/* One message of a batch: where it comes from and where it must land. */
struct msg {
	enum op op;
	uint32_t len;
	uint32_t src_off;	/* in the data source's buffer */
	uint32_t dst_off;	/* in the data sink's buffer */
	uint32_t imm;
	int nsge;
	int inl;
	struct ibv_sge sge[MAX_SGE];
};

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed at start */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static void fill_random(uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* A size that favours the edges: 0, small, MTU multiples +-1, large. */
static uint32_t pick_len(uint32_t mtu)
{
	switch (rnd() % 6) {
	case 0:
		return rnd() % 4;
	case 1:
		return rnd() % 256;
	case 2:
		return mtu * (1 + rnd() % 8) + (rnd() % 3) - 1;
	case 3:
		return rnd() % (64 * 1024);
	case 4:
		return rnd() % MAX_MSG;
	default:
		return rnd() % (4 * mtu);
	}
}

static struct ibv_qp *make_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = 64,
			.max_recv_wr = 64,
			.max_send_sge = MAX_SGE,
			.max_recv_sge = MAX_SGE,
			.max_inline_data = 64,
		},
	};

	return ibv_create_qp(pd, &init);
}

/* Split [off, off + len) of @mr into @n SGEs (some may be empty). */
static int split_sges(struct ibv_sge *sge, int n, struct ibv_mr *mr,
		      uint32_t off, uint32_t len)
{
	int i;

	for (i = 0; i < n; i++) {
		uint32_t part = i == n - 1 ? len : (len ? rnd() % (len + 1) : 0);

		sge[i].addr = (uintptr_t)mr->addr + off;
		sge[i].length = part;
		sge[i].lkey = mr->lkey;
		off += part;
		len -= part;
	}
	return n;
}

/* Wait for @n completions on @cq; 0 if all are successful. */
static int reap(struct ibv_cq *cq, int n, struct ibv_wc *out)
{
	struct ibv_wc wc;
	int got = 0;
	long spins = 0;

	while (got < n) {
		int r = ibv_poll_cq(cq, 1, &wc);

		if (r < 0)
			return -1;
		if (!r) {
			if (++spins > 20000000L) {
				printf("FAIL: timed out waiting for completions\n");
				return -1;
			}
			if (spins > 10000)
				usleep(10);
			continue;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			printf("FAIL: completion wr_id %llu status %s\n",
			       (unsigned long long)wc.wr_id,
			       ibv_wc_status_str(wc.status));
			return -1;
		}
		if (out)
			out[got] = wc;
		got++;
	}
	return 0;
}

/* Compare the sink's bytes and guards for @m; count and print mismatches. */
static void verify(const struct msg *m, int idx, const uint8_t *src,
		   const uint8_t *dst, const uint8_t *pristine)
{
	uint32_t i;

	for (i = 0; i < m->len; i++) {
		if (dst[m->dst_off + i] != src[m->src_off + i]) {
			check(0, "msg %d %s len %u: byte %u is %#x, sent %#x",
			      idx, op_name[m->op], m->len, i,
			      dst[m->dst_off + i], src[m->src_off + i]);
			return;
		}
	}
	for (i = 1; i <= GUARD; i++) {
		uint32_t before = m->dst_off - i, after = m->dst_off + m->len - 1 + i;

		check(dst[before] == pristine[before] &&
		      dst[after] == pristine[after],
		      "msg %d %s len %u: guard byte %u around the target changed",
		      idx, op_name[m->op], m->len, i);
		if (dst[before] != pristine[before] ||
		    dst[after] != pristine[after])
			return;
	}
}

int main(int argc, char **argv)
{
	static struct ibv_wc wcs[BATCH];
	struct side a = {}, b = {};
	struct ibv_context *ctx;
	uint8_t *pristine_a, *pristine_b;
	struct ibv_pd *pd;
	union ibv_gid gid;
	int gid_index, iters, it, i, mtu_bytes;
	unsigned long long moved = 0, counts[NUM_OPS] = {};
	enum ibv_mtu mtu;
	uint64_t seed;

	if (argc < 5) {
		fprintf(stderr, "usage: %s <device> <gid index> <mtu> <iterations> [seed]\n",
			argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	mtu_bytes = atoi(argv[3]);
	iters = atoi(argv[4]);
	seed = argc > 5 ? strtoull(argv[5], NULL, 0) : (uint64_t)getpid() * 2654435761u;
	rng_state = seed | 1;
	printf("integrity: %s gid %d mtu %d, %d batches, seed %#llx\n",
	       argv[1], gid_index, mtu_bytes, iters, (unsigned long long)seed);
	mtu = mtu_from_bytes(mtu_bytes);
	if (!mtu) {
		fprintf(stderr, "bad mtu %d\n", mtu_bytes);
		return 2;
	}

	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: cannot open %s or read GID %d\n", argv[1], gid_index);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	a.buf = aligned_alloc(4096, BUF_SIZE);
	b.buf = aligned_alloc(4096, BUF_SIZE);
	pristine_a = malloc(BUF_SIZE);
	pristine_b = malloc(BUF_SIZE);
	if (!pd || !a.buf || !b.buf || !pristine_a || !pristine_b) {
		printf("FAIL: no PD or memory\n");
		return 1;
	}
	a.cq = ibv_create_cq(ctx, 256, NULL, NULL, 0);
	b.cq = ibv_create_cq(ctx, 256, NULL, NULL, 0);
	if (!a.cq || !b.cq) {
		printf("FAIL: ibv_create_cq: %s\n", strerror(errno));
		return 1;
	}
	a.mr = ibv_reg_mr(pd, a.buf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	b.mr = ibv_reg_mr(pd, b.buf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	a.qp = make_qp(pd, a.cq);
	b.qp = make_qp(pd, b.cq);
	if (!a.mr || !b.mr || !a.qp || !b.qp) {
		printf("FAIL: MR or QP: %s\n", strerror(errno));
		return 1;
	}
	if (rc_qp_connect(a.qp, b.qp->qp_num, gid_index, &gid, mtu, 14, 7, 7) ||
	    rc_qp_connect(b.qp, a.qp->qp_num, gid_index, &gid, mtu, 14, 7, 7)) {
		printf("FAIL: connecting the QPs: %s\n", strerror(errno));
		return 1;
	}

	for (it = 0; it < iters && !failures; it++) {
		struct msg m[BATCH];
		uint32_t next = GUARD;
		int nrecv = 0;

		/*
		 * A requests everything; data flows A->B except for READ.  Each
		 * message owns [next, next + len + slack) in both buffers, so
		 * no two messages touch the same bytes.
		 */
		for (i = 0; i < BATCH; i++) {
			struct msg *x = &m[i];
			uint32_t room = BUF_SIZE - GUARD - 128 - next;

			x->op = rnd() % NUM_OPS;
			x->len = pick_len(mtu_bytes);
			if (x->len > room / 2)
				x->len = 0;
			x->src_off = next + rnd() % 64;
			x->dst_off = next + rnd() % 64;
			next = next + 64 + x->len + GUARD;
			x->imm = rnd();
			x->nsge = 1 + rnd() % MAX_SGE;
			x->inl = (x->op == OP_SEND || x->op == OP_SEND_IMM ||
				  x->op == OP_WRITE) && x->len <= 64 && rnd() % 2;
			counts[x->op]++;
			moved += x->len;
		}
		/* Fresh random bytes where this batch works, and a copy. */
		{
			uint32_t from = 0, to = next;

			fill_random(a.buf + from, to - from);
			fill_random(b.buf + from, to - from);
			memcpy(pristine_a, a.buf, to);
			memcpy(pristine_b, b.buf, to);
		}
		{
			/* Receives for the SENDs and the WRITE_IMMs, in order. */
			for (i = 0; i < BATCH; i++) {
				struct ibv_recv_wr rwr = { .wr_id = i }, *bad;
				struct ibv_sge rsge[MAX_SGE];

				if (m[i].op != OP_SEND && m[i].op != OP_SEND_IMM &&
				    m[i].op != OP_WRITE_IMM)
					continue;
				rwr.sg_list = rsge;
				rwr.num_sge = m[i].op == OP_WRITE_IMM ? 0 :
					split_sges(rsge, m[i].nsge, b.mr,
						   m[i].dst_off, m[i].len);
				if (ibv_post_recv(b.qp, &rwr, &bad)) {
					printf("FAIL: ibv_post_recv: %s\n",
					       strerror(errno));
					return 1;
				}
				nrecv++;
			}

			/* The batch; only every third and the last signaled. */
			for (i = 0; i < BATCH; i++) {
				struct ibv_send_wr wr = { .wr_id = i }, *bad;
				struct msg *x = &m[i];
				int signaled = i == BATCH - 1 || rnd() % 3 == 0;

				wr.sg_list = x->sge;
				wr.send_flags = signaled ? IBV_SEND_SIGNALED : 0;
				if (x->inl)
					wr.send_flags |= IBV_SEND_INLINE;
				switch (x->op) {
				case OP_WRITE:
				case OP_WRITE_IMM:
					wr.opcode = x->op == OP_WRITE ?
						IBV_WR_RDMA_WRITE :
						IBV_WR_RDMA_WRITE_WITH_IMM;
					wr.wr.rdma.remote_addr =
						(uintptr_t)b.buf + x->dst_off;
					wr.wr.rdma.rkey = b.mr->rkey;
					wr.num_sge = split_sges(x->sge, x->nsge, a.mr,
								x->src_off, x->len);
					break;
				case OP_READ:
					wr.opcode = IBV_WR_RDMA_READ;
					wr.wr.rdma.remote_addr =
						(uintptr_t)b.buf + x->src_off;
					wr.wr.rdma.rkey = b.mr->rkey;
					wr.num_sge = split_sges(x->sge, x->nsge, a.mr,
								x->dst_off, x->len);
					break;
				default:
					wr.opcode = x->op == OP_SEND ? IBV_WR_SEND :
						IBV_WR_SEND_WITH_IMM;
					wr.num_sge = split_sges(x->sge, x->nsge, a.mr,
								x->src_off, x->len);
					break;
				}
				wr.imm_data = htobe32(x->imm);
				if (ibv_post_send(a.qp, &wr, &bad)) {
					printf("FAIL: ibv_post_send %s: %s\n",
					       op_name[x->op], strerror(errno));
					return 1;
				}
				if (signaled && reap(a.cq, 1, NULL))
					failures++;
			}
			/* The responder's completions, in posting order. */
			if (reap(b.cq, nrecv, wcs))
				failures++;
			for (i = 0; i < nrecv && !failures; i++) {
				struct msg *x = &m[wcs[i].wr_id];
				int imm = x->op != OP_SEND;

				check(wcs[i].byte_len == x->len,
				      "%s completion byte_len %u, sent %u",
				      op_name[x->op], wcs[i].byte_len, x->len);
				check(!!(wcs[i].wc_flags & IBV_WC_WITH_IMM) == imm &&
				      (!imm || be32toh(wcs[i].imm_data) == x->imm),
				      "%s completion immediate data wrong",
				      op_name[x->op]);
				check(wcs[i].opcode == (x->op == OP_WRITE_IMM ?
					IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV),
				      "%s completion opcode %d", op_name[x->op],
				      wcs[i].opcode);
			}
			for (i = 0; i < BATCH && !failures; i++) {
				if (m[i].op == OP_READ)
					verify(&m[i], i, b.buf, a.buf, pristine_a);
				else
					verify(&m[i], i, a.buf, b.buf, pristine_b);
			}
		}
		if (failures)
			printf("FAIL: in batch %d (seed %#llx)\n", it,
			       (unsigned long long)seed);
	}

	printf("integrity: %d batches, %llu bytes: %llu WRITE, %llu WRITE_IMM, %llu READ, %llu SEND, %llu SEND_IMM; %d failures\n",
	       it, moved, counts[OP_WRITE], counts[OP_WRITE_IMM], counts[OP_READ],
	       counts[OP_SEND], counts[OP_SEND_IMM], failures);
	ibv_destroy_qp(a.qp);
	ibv_destroy_qp(b.qp);
	ibv_dereg_mr(a.mr);
	ibv_dereg_mr(b.mr);
	ibv_destroy_cq(a.cq);
	ibv_destroy_cq(b.cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return failures ? 1 : 0;
}
