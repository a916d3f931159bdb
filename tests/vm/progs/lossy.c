// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RC loss recovery: a requester QP drives a random mix of RDMA WRITE, RDMA
 * READ, SEND, FETCH_ADD and CMP_SWAP (sizes 0 to 2 MiB, log-uniform, at
 * random offsets, several outstanding at once) against a responder QP,
 * for a number of operations or seconds, while the network may lose,
 * duplicate, reorder and corrupt packets.  Every byte of every transfer
 * (a pattern derived from the seed and the operation's index), the guard
 * bytes around each target, every atomic's returned value and its final
 * memory value are checked.  Any error completion or mismatch is a
 * failure.
 *
 *   lossy -d DEV -g GID [-m MTU] [-n OPS] [-t SEC] [-s SEED] [-q DEPTH]
 *         [-T TIMEOUT] [-l LABEL] [-S PORT | -c HOST -p PORT]
 *
 * Without -S or -c both QPs live in this process (the responder in a
 * thread), connected through DEV's GID GID, so on one host the traffic
 * goes through lo.  -S PORT serves as the responder on TCP port PORT; -c
 * HOST -p PORT is the requester, connecting to it (retrying for a minute).
 * The requester's options decide the seed, the depth and the limits.
 *
 * Requester and responder keep each other in step over a side channel (a
 * socket pair or the TCP connection): the responder prepares the memory of
 * operation i (READ sources, atomic start values, poisoned targets, a
 * posted receive for a SEND) before the requester may post it, and checks
 * its side of operation i when the requester reports i complete.  Each
 * operation has its own slot in both buffers (2 * DEPTH slots, reused in
 * turn), so no two operations in flight touch the same bytes.
 *
 * Prints "ok:" or "FAIL:" lines, the count of each completion status and a
 * "REPORT lossy ..." line with the goodput; exits 0 only if all was right.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAX_MSG		(2u << 20)
#define GUARD		64
#define OFF_RANGE	4096
#define SLOT_SIZE	(MAX_MSG + 2 * OFF_RANGE)
#define MAX_DEPTH	16
#define NSTATUS		32
#define MAX_FAIL_LINES	20
#define STALL_SEC	30

enum kind { K_WRITE, K_READ, K_SEND, K_FADD, K_CSWAP, NUM_KINDS };

static const char *const kind_name[] = {
	"WRITE", "READ", "SEND", "FETCH_ADD", "CMP_SWAP",
};

/* One operation, a pure function of the seed and its index. */
struct op {
	uint64_t idx;
	enum kind kind;
	uint32_t len;
	uint32_t loff;		/* in the requester's slot */
	uint32_t roff;		/* in the responder's slot */
	uint32_t extra;		/* a SEND's receive is this much longer */
	uint64_t init;		/* an atomic's start value at the responder */
	uint64_t arg;		/* FETCH_ADD's addend, CMP_SWAP's compare */
	uint64_t swap;
};

/* Side channel messages; all fields big-endian on the wire. */
enum { M_READY = 1, M_DONE, M_END, M_ABORT, M_RESULT };

struct msg {
	uint32_t type;
	uint32_t aux;
	uint64_t val;
};

struct hello {
	uint32_t qpn;
	uint32_t rkey;
	uint64_t addr;
	uint8_t gid[16];
	uint64_t seed;
	uint32_t depth;
	uint32_t pad;
};

struct side {
	const char *who;	/* "" or "server: " in front of its lines */
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	uint8_t *buf;
	uint8_t *scratch;
	size_t size;
	int nslots;
	int fails;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	uint8_t timeout;
	unsigned long long status[NSTATUS];
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finalizer */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void gen_op(uint64_t seed, uint64_t idx, struct op *o)
{
	uint64_t r = mix(seed ^ mix(idx));
	unsigned int k, b;

#define NEXT() (r = mix(r))
	memset(o, 0, sizeof(*o));
	o->idx = idx;
	k = NEXT() % 16;	/* WRITE, READ, SEND 4 each; atomics 2 each */
	o->kind = k < 12 ? k / 4 : k < 14 ? K_FADD : K_CSWAP;
	b = NEXT() % 23;	/* log-uniform: [2^b, 2^(b+1)), or 0 */
	if (b == 22)
		o->len = 0;
	else
		o->len = (1u << b) + (uint32_t)(NEXT() % (1u << b));
	if (o->len > MAX_MSG)
		o->len = MAX_MSG;
	o->loff = GUARD + NEXT() % OFF_RANGE;
	o->roff = GUARD + NEXT() % OFF_RANGE;
	o->extra = NEXT() % (GUARD + 1);
	if (o->kind == K_FADD || o->kind == K_CSWAP) {
		o->len = 8;
		o->loff &= ~7u;
		o->roff &= ~7u;
		o->init = NEXT();
		o->arg = NEXT();
		o->swap = NEXT();
		/* Mostly a CMP_SWAP that swaps, sometimes one that does not. */
		if (o->kind == K_CSWAP && NEXT() % 4)
			o->arg = o->init;
	}
#undef NEXT
}

/* The final value of an atomic's target. */
static uint64_t atomic_final(const struct op *o)
{
	if (o->kind == K_FADD)
		return o->init + o->arg;
	return o->init == o->arg ? o->swap : o->init;
}

/* The bytes operation @idx moves: the seed's and the index's pattern. */
static void fill_pattern(uint8_t *p, uint32_t len, uint64_t seed, uint64_t idx)
{
	uint64_t base = mix(seed ^ (idx * 0xd6e8feb86659fd93ULL) ^ 0x5a5a);
	uint32_t k;

	for (k = 0; k + 8 <= len; k += 8) {
		uint64_t w = mix(base + k);

		memcpy(p + k, &w, 8);
	}
	if (k < len) {
		uint64_t w = mix(base + k);

		memcpy(p + k, &w, len - k);
	}
}

static uint8_t guard_byte(uint64_t idx)
{
	return 0xa5 ^ (uint8_t)(idx * 7);
}

/*
 * Make [p, p + len) a target that expects @expect: the bytes hold its
 * complement (so that no byte is right before it is written) and the
 * GUARD bytes either side hold the op's guard byte.
 */
static void poison(uint8_t *p, const uint8_t *expect, uint32_t len, uint8_t g)
{
	uint32_t k;

	memset(p - GUARD, g, GUARD);
	memset(p + len, g, GUARD);
	for (k = 0; k < len; k++)
		p[k] = ~expect[k];
}

static void fail_line(struct side *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_line(struct side *s, const char *fmt, ...)
{
	va_list ap;

	s->fails++;
	if (s->fails > MAX_FAIL_LINES)
		return;
	va_start(ap, fmt);
	printf("FAIL: %s", s->who);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (s->fails == MAX_FAIL_LINES)
		printf("FAIL: %s(further failures not shown)\n", s->who);
}

/* Check a target against @expect and its guards; 0 if all is right. */
static int check_target(struct side *s, const struct op *o, const char *what,
			const uint8_t *p, const uint8_t *expect, uint32_t len,
			uint8_t g)
{
	uint32_t k;

	if (memcmp(p, expect, len)) {
		for (k = 0; p[k] == expect[k]; k++)
			;
		fail_line(s, "op %llu %s len %u: %s byte %u is %#x, expected %#x",
			  (unsigned long long)o->idx, kind_name[o->kind], len,
			  what, k, p[k], expect[k]);
		return -1;
	}
	for (k = 0; k < GUARD; k++) {
		if (p[-1 - (int)k] != g || p[len + k] != g) {
			fail_line(s, "op %llu %s len %u: %s guard byte %u %s it changed",
				  (unsigned long long)o->idx, kind_name[o->kind],
				  len, what, k, p[-1 - (int)k] != g ?
				  "before" : "after");
			return -1;
		}
	}
	return 0;
}

static uint8_t *slot(struct side *s, uint64_t idx)
{
	return s->buf + (size_t)(idx % s->nslots) * SLOT_SIZE;
}

/* ---- side channel ---- */

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = send(fd, b, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= r;
	}
	return 0;
}

/* Read exactly @n bytes, waiting at most @sec seconds in all. */
static int read_all(int fd, void *p, size_t n, int sec)
{
	uint8_t *b = p;
	double end = now() + sec;

	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)((end - now()) * 1000);
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -1;
		r = recv(fd, b, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= r;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, uint32_t aux, uint64_t val)
{
	struct msg m = {
		.type = htobe32(type), .aux = htobe32(aux), .val = htobe64(val),
	};

	return write_all(fd, &m, sizeof(m));
}

static int recv_msg(int fd, struct msg *m, int sec)
{
	if (read_all(fd, m, sizeof(*m), sec))
		return -1;
	m->type = be32toh(m->type);
	m->aux = be32toh(m->aux);
	m->val = be64toh(m->val);
	return 0;
}

/* ---- verbs resources ---- */

static int side_open(struct side *s, const char *dev, int nslots)
{
	struct ibv_qp_init_attr init = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = 2 * MAX_DEPTH,
			.max_recv_wr = 2 * MAX_DEPTH + 2,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};

	s->nslots = nslots;
	s->size = (size_t)nslots * SLOT_SIZE;
	s->ctx = open_by_name(dev);
	if (!s->ctx || ibv_query_gid(s->ctx, 1, s->gid_index, &s->gid)) {
		printf("FAIL: %scannot open %s or read GID %d\n", s->who, dev,
		       s->gid_index);
		return -1;
	}
	s->pd = ibv_alloc_pd(s->ctx);
	s->buf = aligned_alloc(4096, s->size);
	s->scratch = malloc(MAX_MSG + 8);
	s->cq = ibv_create_cq(s->ctx, 4 * MAX_DEPTH + 8, NULL, NULL, 0);
	if (!s->pd || !s->buf || !s->scratch || !s->cq) {
		printf("FAIL: %sPD, CQ or memory: %s\n", s->who, strerror(errno));
		return -1;
	}
	memset(s->buf, 0, s->size);
	s->mr = ibv_reg_mr(s->pd, s->buf, s->size, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_ATOMIC);
	init.send_cq = s->cq;
	init.recv_cq = s->cq;
	s->qp = s->mr ? ibv_create_qp(s->pd, &init) : NULL;
	if (!s->qp) {
		printf("FAIL: %sMR or QP: %s\n", s->who, strerror(errno));
		return -1;
	}
	return 0;
}

static void side_close(struct side *s)
{
	if (s->qp)
		ibv_destroy_qp(s->qp);
	if (s->mr)
		ibv_dereg_mr(s->mr);
	if (s->cq)
		ibv_destroy_cq(s->cq);
	if (s->pd)
		ibv_dealloc_pd(s->pd);
	if (s->ctx)
		ibv_close_device(s->ctx);
	free(s->buf);
	free(s->scratch);
}

static void hello_fill(struct hello *h, struct side *s, uint64_t seed,
		       int depth)
{
	memset(h, 0, sizeof(*h));
	h->qpn = htobe32(s->qp->qp_num);
	h->rkey = htobe32(s->mr->rkey);
	h->addr = htobe64((uintptr_t)s->buf);
	memcpy(h->gid, s->gid.raw, 16);
	h->seed = htobe64(seed);
	h->depth = htobe32(depth);
}

static int connect_qp(struct side *s, const struct hello *peer)
{
	union ibv_gid gid;

	memcpy(gid.raw, peer->gid, 16);
	if (rc_qp_connect(s->qp, be32toh(peer->qpn), s->gid_index, &gid,
			  s->mtu, s->timeout, 7, 7)) {
		printf("FAIL: %sconnecting the QP: %s\n", s->who, strerror(errno));
		return -1;
	}
	return 0;
}

static void count_status(struct side *s, enum ibv_wc_status st)
{
	s->status[st < NSTATUS ? st : NSTATUS - 1]++;
}

static void print_status(struct side *s, const char *what)
{
	int i;

	printf("%s%s completions:", s->who, what);
	for (i = 0; i < NSTATUS; i++)
		if (s->status[i])
			printf(" %s %llu", ibv_wc_status_str(i), s->status[i]);
	printf("\n");
}

/* ---- responder ---- */

struct server_args {
	struct side s;
	int fd;
	const char *dev;
	int rc;
};

/* Get operation @o's responder memory ready, and its receive if a SEND. */
static int serve_prepare(struct side *s, const struct op *o, uint64_t seed)
{
	uint8_t *p = slot(s, o->idx) + o->roff;
	uint8_t g = guard_byte(o->idx);

	switch (o->kind) {
	case K_WRITE:
	case K_SEND:
		fill_pattern(s->scratch, o->len, seed, o->idx);
		poison(p, s->scratch, o->len, g);
		break;
	case K_READ:
		fill_pattern(p, o->len, seed, o->idx);
		break;
	default:
		memset(p - GUARD, g, GUARD);
		memset(p + 8, g, GUARD);
		memcpy(p, &o->init, 8);
		break;
	}
	if (o->kind == K_SEND) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)p,
			.length = o->len + o->extra,
			.lkey = s->mr->lkey,
		};
		struct ibv_recv_wr wr = {
			.wr_id = o->idx, .sg_list = &sge, .num_sge = 1,
		}, *bad;

		if (ibv_post_recv(s->qp, &wr, &bad)) {
			printf("FAIL: %sibv_post_recv: %s\n", s->who, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Wait for the receive completion of SEND @o; check it. */
static int serve_recv_done(struct side *s, const struct op *o)
{
	double end = now() + STALL_SEC;
	struct ibv_wc wc;
	int r;

	while ((r = ibv_poll_cq(s->cq, 1, &wc)) == 0) {
		if (now() > end) {
			fail_line(s, "op %llu SEND: no receive completion in %d s",
				  (unsigned long long)o->idx, STALL_SEC);
			return -1;
		}
		usleep(20);
	}
	if (r < 0) {
		fail_line(s, "ibv_poll_cq: %d", r);
		return -1;
	}
	count_status(s, wc.status);
	if (wc.status != IBV_WC_SUCCESS) {
		fail_line(s, "op %llu SEND: receive completion status %s",
			  (unsigned long long)o->idx, ibv_wc_status_str(wc.status));
		return -1;
	}
	if (wc.wr_id != o->idx || wc.opcode != IBV_WC_RECV ||
	    wc.byte_len != o->len) {
		fail_line(s, "op %llu SEND len %u: receive completion of wr %llu opcode %d byte_len %u",
			  (unsigned long long)o->idx, o->len,
			  (unsigned long long)wc.wr_id, wc.opcode, wc.byte_len);
		return -1;
	}
	return 0;
}

/* Check operation @o's effect on the responder's memory. */
static void serve_check(struct side *s, const struct op *o, uint64_t seed)
{
	uint8_t *p = slot(s, o->idx) + o->roff;
	uint8_t g = guard_byte(o->idx);
	uint64_t fin;

	switch (o->kind) {
	case K_SEND:
		if (serve_recv_done(s, o))
			return;
		/* fall through */
	case K_WRITE:
		fill_pattern(s->scratch, o->len, seed, o->idx);
		check_target(s, o, "target", p, s->scratch, o->len, g);
		break;
	case K_READ:
		fill_pattern(s->scratch, o->len, seed, o->idx);
		if (memcmp(p, s->scratch, o->len))
			fail_line(s, "op %llu READ len %u: the source changed",
				  (unsigned long long)o->idx, o->len);
		break;
	default:
		fin = atomic_final(o);
		check_target(s, o, "atomic word", p, (const uint8_t *)&fin, 8, g);
		break;
	}
}

static int serve(struct server_args *a)
{
	struct side *s = &a->s;
	struct hello mine, peer;
	uint64_t seed, i, next_check = 0, ready;
	struct msg m;
	struct op o;
	int depth;

	/* The requester speaks first: its QP, seed and depth. */
	if (read_all(a->fd, &peer, sizeof(peer), 120)) {
		printf("FAIL: %sno hello from the requester\n", s->who);
		return -1;
	}
	seed = be64toh(peer.seed);
	depth = be32toh(peer.depth);
	if (depth < 1 || depth > MAX_DEPTH) {
		printf("FAIL: %sdepth %d\n", s->who, depth);
		return -1;
	}
	if (side_open(s, a->dev, 2 * depth))
		return -1;
	hello_fill(&mine, s, 0, 0);
	if (write_all(a->fd, &mine, sizeof(mine)) || connect_qp(s, &peer))
		return -1;
	for (ready = 0; ready < (uint64_t)s->nslots; ready++) {
		gen_op(seed, ready, &o);
		if (serve_prepare(s, &o, seed))
			return -1;
	}
	if (send_msg(a->fd, M_READY, 0, ready))
		return -1;
	for (;;) {
		/* The requester may wait for retries: be patient. */
		if (recv_msg(a->fd, &m, 10 * STALL_SEC)) {
			printf("FAIL: %sthe requester went silent\n", s->who);
			return -1;
		}
		if (m.type == M_DONE) {
			i = m.val;
			if (i != next_check || i >= ready) {
				fail_line(s, "op %llu reported done, expected %llu",
					  (unsigned long long)i,
					  (unsigned long long)next_check);
				return -1;
			}
			gen_op(seed, i, &o);
			serve_check(s, &o, seed);
			next_check++;
			gen_op(seed, ready, &o);
			if (serve_prepare(s, &o, seed))
				return -1;
			ready++;
			if (send_msg(a->fd, M_READY, 0, ready))
				return -1;
		} else if (m.type == M_END || m.type == M_ABORT) {
			break;
		} else {
			fail_line(s, "unexpected message %u", m.type);
			return -1;
		}
	}
	if (m.type == M_END && next_check != m.val)
		fail_line(s, "%llu ops checked, the requester did %llu",
			  (unsigned long long)next_check,
			  (unsigned long long)m.val);
	print_status(s, "receive");
	printf("%s%s: %llu ops checked on the responder, %d failures\n",
	       s->who, s->fails ? "FAIL" : "ok", (unsigned long long)next_check,
	       s->fails);
	if (send_msg(a->fd, M_RESULT, 0, s->fails))
		return -1;
	/* Wait until the requester has read it and closed its end. */
	read_all(a->fd, &m, sizeof(m), 30);
	return s->fails ? -1 : 0;
}

static void *server_thread(void *p)
{
	struct server_args *a = p;

	a->rc = serve(a);
	if (a->rc)
		shutdown(a->fd, SHUT_RDWR);
	return NULL;
}

/* ---- requester ---- */

struct client_cfg {
	uint64_t seed;
	uint64_t max_ops;
	double seconds;
	int depth;
	const char *label;
	const char *dev;
};

struct peer_mem {
	uint64_t addr;
	uint32_t rkey;
};

static int client_post(struct side *s, const struct peer_mem *pm,
		       const struct op *o, uint64_t seed)
{
	uint8_t *l = slot(s, o->idx) + o->loff;
	uint64_t raddr = pm->addr + (o->idx % s->nslots) * (uint64_t)SLOT_SIZE +
			 o->roff;
	struct ibv_sge sge = {
		.addr = (uintptr_t)l, .length = o->len, .lkey = s->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = o->idx, .sg_list = &sge, .num_sge = o->len ? 1 : 0,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	switch (o->kind) {
	case K_WRITE:
	case K_SEND:
		fill_pattern(l, o->len, seed, o->idx);
		wr.opcode = o->kind == K_WRITE ? IBV_WR_RDMA_WRITE : IBV_WR_SEND;
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = pm->rkey;
		break;
	case K_READ:
		fill_pattern(s->scratch, o->len, seed, o->idx);
		poison(l, s->scratch, o->len, guard_byte(o->idx));
		wr.opcode = IBV_WR_RDMA_READ;
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = pm->rkey;
		break;
	default:
		poison(l, (const uint8_t *)&o->init, 8, guard_byte(o->idx));
		wr.opcode = o->kind == K_FADD ? IBV_WR_ATOMIC_FETCH_AND_ADD :
			IBV_WR_ATOMIC_CMP_AND_SWP;
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = pm->rkey;
		wr.wr.atomic.compare_add = o->arg;
		wr.wr.atomic.swap = o->swap;
		break;
	}
	if (ibv_post_send(s->qp, &wr, &bad)) {
		printf("FAIL: ibv_post_send %s: %s\n", kind_name[o->kind],
		       strerror(errno));
		return -1;
	}
	return 0;
}

static const enum ibv_wc_opcode wc_opcode[] = {
	[K_WRITE] = IBV_WC_RDMA_WRITE, [K_READ] = IBV_WC_RDMA_READ,
	[K_SEND] = IBV_WC_SEND, [K_FADD] = IBV_WC_FETCH_ADD,
	[K_CSWAP] = IBV_WC_COMP_SWAP,
};

/* Check the requester's side of completed operation @o. */
static void client_check(struct side *s, const struct op *o,
			 const struct ibv_wc *wc, uint64_t seed)
{
	uint8_t *l = slot(s, o->idx) + o->loff;

	if (wc->opcode != wc_opcode[o->kind])
		fail_line(s, "op %llu %s: completion opcode %d",
			  (unsigned long long)o->idx, kind_name[o->kind],
			  wc->opcode);
	if (o->kind == K_READ) {
		fill_pattern(s->scratch, o->len, seed, o->idx);
		check_target(s, o, "READ data", l, s->scratch, o->len,
			     guard_byte(o->idx));
	} else if (o->kind == K_FADD || o->kind == K_CSWAP) {
		check_target(s, o, "returned value", l,
			     (const uint8_t *)&o->init, 8, guard_byte(o->idx));
	}
}

static int client_run(struct side *s, int fd, const struct client_cfg *c)
{
	uint64_t posted = 0, done = 0, ready = 0;
	unsigned long long kinds[NUM_KINDS] = {}, bytes = 0;
	double t0, t_end, last_progress, tnow;
	unsigned long iter = 0;
	struct hello mine, peer;
	struct peer_mem pm;
	struct ibv_wc wcs[16];
	uint8_t inbuf[sizeof(struct msg)];
	size_t inlen = 0;
	int stopping = 0, errors = 0, server_fails = -1, i, n;
	long idle = 0;
	struct msg m;
	struct op o;

	if (side_open(s, c->dev, 2 * c->depth))
		return -1;
	hello_fill(&mine, s, c->seed, c->depth);
	if (write_all(fd, &mine, sizeof(mine)) ||
	    read_all(fd, &peer, sizeof(peer), 120)) {
		printf("FAIL: no hello from the responder\n");
		return -1;
	}
	if (connect_qp(s, &peer))
		return -1;
	pm.addr = be64toh(peer.addr);
	pm.rkey = be32toh(peer.rkey);

	t0 = now();
	t_end = t0;
	last_progress = t0;
	tnow = t0;
	for (;;) {
		int progress = 0;

		/* Reading the clock may be a system call: not every time. */
		if (!(++iter & 63))
			tnow = now();
		if (!stopping && (posted >= c->max_ops ||
				  tnow - t0 >= c->seconds || errors || s->fails))
			stopping = 1;
		while (!stopping && posted < ready &&
		       posted - done < (uint64_t)c->depth) {
			gen_op(c->seed, posted, &o);
			if (client_post(s, &pm, &o, c->seed)) {
				errors++;
				stopping = 1;
				break;
			}
			posted++;
			progress = 1;
		}
		if (stopping && done == posted)
			break;

		n = ibv_poll_cq(s->cq, 16, wcs);
		if (n < 0) {
			printf("FAIL: ibv_poll_cq: %d\n", n);
			errors++;
			break;
		}
		for (i = 0; i < n; i++) {
			count_status(s, wcs[i].status);
			done++;
			progress = 1;
			if (wcs[i].status != IBV_WC_SUCCESS) {
				gen_op(c->seed, wcs[i].wr_id, &o);
				if (!errors || wcs[i].status != IBV_WC_WR_FLUSH_ERR)
					printf("FAIL: op %llu %s len %u: completion status %s (vendor error %#x)\n",
					       (unsigned long long)wcs[i].wr_id,
					       kind_name[o.kind], o.len,
					       ibv_wc_status_str(wcs[i].status),
					       wcs[i].vendor_err);
				errors++;
				continue;
			}
			if (errors)
				continue;
			if (wcs[i].wr_id != done - 1) {
				fail_line(s, "completion of op %llu, expected %llu",
					  (unsigned long long)wcs[i].wr_id,
					  (unsigned long long)(done - 1));
				continue;
			}
			gen_op(c->seed, wcs[i].wr_id, &o);
			client_check(s, &o, &wcs[i], c->seed);
			kinds[o.kind]++;
			bytes += o.len;
			t_end = now();
			if (send_msg(fd, M_DONE, 0, o.idx)) {
				printf("FAIL: the responder went away\n");
				errors++;
			}
		}

		/* READY messages from the responder. */
		for (;;) {
			ssize_t r = recv(fd, inbuf + inlen, sizeof(inbuf) - inlen,
					 MSG_DONTWAIT);

			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (r <= 0) {
				if (!stopping)
					printf("FAIL: the responder went away\n");
				errors++;
				stopping = 1;
				break;
			}
			inlen += r;
			if (inlen < sizeof(inbuf))
				continue;
			inlen = 0;
			memcpy(&m, inbuf, sizeof(m));
			if (be32toh(m.type) == M_READY) {
				ready = be64toh(m.val);
				progress = 1;
			}
		}
		if (errors && !stopping)
			stopping = 1;

		if (progress) {
			idle = 0;
			last_progress = tnow;
		} else if (++idle > 200) {
			usleep(50);
			tnow = now();
			if (tnow - last_progress > STALL_SEC) {
				gen_op(c->seed, done, &o);
				printf("FAIL: no progress for %d s: %llu ops posted, %llu completed; the oldest outstanding is op %llu %s len %u\n",
				       STALL_SEC, (unsigned long long)posted,
				       (unsigned long long)done,
				       (unsigned long long)done,
				       kind_name[o.kind], o.len);
				errors++;
				break;
			}
		}
	}

	send_msg(fd, errors || s->fails ? M_ABORT : M_END, 0, done);
	/* The rest of a READY half read, the READYs still on their way,
	 * then the responder's verdict.
	 */
	if (!inlen || !read_all(fd, inbuf + inlen, sizeof(inbuf) - inlen, 60)) {
		while (!recv_msg(fd, &m, 120)) {
			if (m.type == M_RESULT) {
				server_fails = (int)m.val;
				break;
			}
		}
	}
	if (server_fails < 0)
		printf("FAIL: no verdict from the responder\n");

	{
		double secs = t_end - t0, mib = bytes / 1048576.0;
		int total = s->fails + errors + (server_fails < 0 ? 1 : server_fails);

		print_status(s, "requester");
		printf("%s: %llu ops (%llu WRITE, %llu READ, %llu SEND, %llu FETCH_ADD, %llu CMP_SWAP), %.1f MiB checked in %.2f s (the run took %.2f s); %d requester failures, %d error completions, %d responder failures\n",
		       total ? "FAIL" : "ok", (unsigned long long)done,
		       kinds[K_WRITE], kinds[K_READ], kinds[K_SEND],
		       kinds[K_FADD], kinds[K_CSWAP], mib, secs, now() - t0,
		       s->fails, errors, server_fails);
		printf("REPORT lossy %s %s: %s, %llu ops, %.1f MiB in %.2f s, goodput %.2f MiB/s, depth %d, seed %#llx, completions:",
		       c->dev, c->label, total ? "FAIL" : "ok",
		       (unsigned long long)done, mib, secs,
		       secs > 0 ? mib / secs : 0.0, c->depth,
		       (unsigned long long)c->seed);
		for (i = 0; i < NSTATUS; i++)
			if (s->status[i])
				printf(" %s=%llu", ibv_wc_status_str(i),
				       s->status[i]);
		printf("\n");
		return total ? -1 : 0;
	}
}

/* ---- TCP ---- */

static int tcp_listen_accept(int port)
{
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6, .sin6_port = htons(port),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	int one = 1, lfd, fd;

	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd < 0)
		return -1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		close(lfd);
		return -1;
	}
	{
		/* The requester connects within minutes, or not at all. */
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };

		fd = -1;
		errno = ETIMEDOUT;
		if (poll(&pfd, 1, 300 * 1000) == 1)
			fd = accept(lfd, NULL, NULL);
	}
	close(lfd);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int tcp_connect(const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	int one = 1, fd = -1, tries;

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &res))
		return -1;
	for (tries = 0; tries < 600 && fd < 0; tries++) {
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype, 0);
			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0)
			usleep(100000);
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -d DEV -g GID [-m MTU] [-n OPS] [-t SEC] [-s SEED] [-q DEPTH]\n"
		"          [-T TIMEOUT] [-l LABEL] [-S PORT | -c HOST -p PORT]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct client_cfg c = {
		.max_ops = UINT64_MAX, .seconds = 1e9, .depth = 8,
		.label = "run",
	};
	struct side cs = { .who = "" };
	static struct server_args sa = { .s = { .who = "server: " } };
	const char *host = NULL;
	int gid_index = -1, mtu_bytes = 1024, timeout = 14, serve_port = 0;
	int port = 0, have_seed = 0, opt, rc, sv[2];
	enum ibv_mtu mtu;
	pthread_t tid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "d:g:m:n:t:s:q:T:l:S:c:p:")) != -1) {
		switch (opt) {
		case 'd': c.dev = optarg; break;
		case 'g': gid_index = atoi(optarg); break;
		case 'm': mtu_bytes = atoi(optarg); break;
		case 'n': c.max_ops = strtoull(optarg, NULL, 0); break;
		case 't': c.seconds = atof(optarg); break;
		case 's': c.seed = strtoull(optarg, NULL, 0); have_seed = 1; break;
		case 'q': c.depth = atoi(optarg); break;
		case 'T': timeout = atoi(optarg); break;
		case 'l': c.label = optarg; break;
		case 'S': serve_port = atoi(optarg); break;
		case 'c': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		default: usage(argv[0]);
		}
	}
	mtu = mtu_from_bytes(mtu_bytes);
	if (!c.dev || gid_index < 0 || !mtu || c.depth < 1 ||
	    c.depth > MAX_DEPTH || timeout < 0 || timeout > 31 ||
	    (host && !port) || (host && serve_port))
		usage(argv[0]);
	if (!have_seed)
		c.seed = mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));

	cs.gid_index = gid_index;
	cs.mtu = mtu;
	cs.timeout = timeout;
	sa.s.gid_index = gid_index;
	sa.s.mtu = mtu;
	sa.s.timeout = timeout;
	sa.dev = c.dev;

	if (serve_port) {
		printf("lossy: serving %s gid %d mtu %d timeout %d on TCP port %d\n",
		       c.dev, gid_index, mtu_bytes, timeout, serve_port);
		sa.fd = tcp_listen_accept(serve_port);
		if (sa.fd < 0) {
			printf("FAIL: server: TCP port %d: %s\n", serve_port,
			       strerror(errno));
			return 1;
		}
		rc = serve(&sa);
		close(sa.fd);
		side_close(&sa.s);
		return rc ? 1 : 0;
	}

	printf("lossy: %s gid %d mtu %d timeout %d depth %d, %s%s, seed %#llx (%s)\n",
	       c.dev, gid_index, mtu_bytes, timeout, c.depth,
	       host ? "requester of " : "loopback", host ? host : "",
	       (unsigned long long)c.seed, c.label);
	if (host) {
		int fd = tcp_connect(host, port);

		if (fd < 0) {
			printf("FAIL: cannot connect to %s port %d\n", host, port);
			return 1;
		}
		rc = client_run(&cs, fd, &c);
		close(fd);
		side_close(&cs);
		return rc ? 1 : 0;
	}

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		printf("FAIL: socketpair: %s\n", strerror(errno));
		return 1;
	}
	sa.fd = sv[1];
	rc = pthread_create(&tid, NULL, server_thread, &sa);
	check(!rc, "pthread_create: %s", strerror(rc));
	if (failures)
		return 1;
	rc = client_run(&cs, sv[0], &c);
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(tid, NULL);
	close(sv[0]);
	close(sv[1]);
	side_close(&cs);
	side_close(&sa.s);
	return rc || sa.rc ? 1 : 0;
}
