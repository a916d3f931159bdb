// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A hostile wire: RoCEv2 packets with valid ICRCs, built with the driver's
 * own wire layer (driver/sroce_wire.c) and sent from a raw IPv4 socket to
 * the local address, aimed at real RC QPs of the device.
 *
 *   a  every opcode 0..255 with random header fields, PSNs near the
 *      expected ones
 *   b  truncation at every length (so at every header boundary), with and
 *      without an ICRC, and every wrong pad count
 *   c  forged RETHs and AtomicETHs: random rkeys, real rkeys with
 *      addresses outside their MR, lengths 0, 1, 2^31, 2^32-1, at the
 *      responder's expected PSN
 *   d  forged ACKs, NAKs, READ responses and atomic ACKs while a requester
 *      has work in flight; a work request that completes successfully
 *      must have had its whole effect
 *   e  packets to QPs in every state
 *
 * Before: positive controls (a forged SEND and WRITE at the expected PSN
 * land), so the drops that follow mean something.  After each campaign:
 * unregistered guard pages and MRs without remote write access are
 * unchanged.  At the end a fresh QP pair moves checked data.
 *
 *   inject <device> <gid index> <IPv4 address of the device> [--long]
 *          [--seed N]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "sroce_wire.h"

#define KIB		1024u
#define PAGE		4096u
#define RW_LEN		(512 * KIB)	/* remote read/write/atomic */
#define RO_LEN		(64 * KIB)	/* remote read only */
#define LO_LEN		(64 * KIB)	/* local write only */
#define SRC_LEN		(256 * KIB)	/* local only: send/write source */
#define RDST_LEN	(256 * KIB)	/* local write: READ/atomic results */
#define RECV_OFF	(256 * KIB)	/* receive buffers in the RW MR */
#define RECV_LEN	4096u
#define NRECV		16
#define IP_UDP_LEN	28
#define MAX_UDP		8192u	/* more than any MTU's packet */

/* ---------------------------------------------------------------- CRC */

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t c, i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* Reflected CRC-32, no inversions inside: what sroce_wire.c expects. */
__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len)
{
	const uint8_t *p = buf;

	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/* ------------------------------------------------------------- random */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

/* ---------------------------------------------------------- the wire */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double start_time;
static int raw_fd;
static struct sockaddr_in dst_addr;
static uint32_t local_ip;		/* network order */
static uint16_t ip_id = 1;
static uint8_t txbuf[IP_UDP_LEN + MAX_UDP];
static uint8_t *const bthp = txbuf + IP_UDP_LEN;
static uint64_t sent_total, send_errors, send_retries;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t ip_csum(const uint8_t *p)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static uint16_t rnd_sport(void)
{
	return 49152 + rnd_below(16384);
}

/*
 * Send the UDP payload at bthp (@len bytes, the ICRC's four included)
 * from and to the local address; the ICRC is computed over exactly the
 * headers that go out when @icrc is set and the packet is long enough.
 */
static void xmit(unsigned int len, bool icrc, uint16_t sport)
{
	unsigned int tot = IP_UDP_LEN + len, tries;
	uint8_t *ip = txbuf, *udp = txbuf + 20;

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, tot);
	if (++ip_id == 0)
		ip_id = 1;	/* the kernel would fill an ID of 0 */
	put16(ip + 4, ip_id);
	put16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, &local_ip, 4);
	memcpy(ip + 16, &local_ip, 4);
	put16(ip + 10, ip_csum(ip));
	put16(udp, sport);
	put16(udp + 2, SROCE_ROCEV2_UDP_PORT);
	put16(udp + 4, 8 + len);
	put16(udp + 6, 0);
	if (icrc && len >= SROCE_BTH_LEN + SROCE_ICRC_LEN)
		sroce_icrc_fill(txbuf, tot);
	/*
	 * Loopback's backlog refuses packets (ENOBUFS) while the receive
	 * softirq lags: wait for it, a packet is only counted once sent.
	 */
	for (tries = 0; tries < 500; tries++) {
		if (sendto(raw_fd, txbuf, tot, 0, (struct sockaddr *)&dst_addr,
			   sizeof(dst_addr)) == (ssize_t)tot) {
			sent_total++;
			if (sent_total % 20000 == 0)
				printf("inject: %llu packets after %.1f s, %llu retries\n",
				       (unsigned long long)sent_total,
				       now() - start_time,
				       (unsigned long long)send_retries);
			return;
		}
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		send_retries++;
		usleep(tries < 10 ? 100 : 1000);
	}
	if (!send_errors++)
		printf("note: sendto of a %u byte packet: %s\n", tot,
		       strerror(errno));
}

static void fill_random(uint8_t *p, unsigned int n)
{
	while (n--)
		*p++ = rnd();
}

/*
 * Build @p (headers from the wire layer) with @plen payload bytes at bthp;
 * returns the UDP payload length with the ICRC, or -1 if the wire layer
 * refuses (reserved opcode, payload on an opcode without one).
 */
static int build(struct sroce_pkt *p, unsigned int plen)
{
	int n;

	p->payload_len = plen;
	n = sroce_build(bthp, MAX_UDP, p);
	if (n < 0 || n + plen + 3 + SROCE_ICRC_LEN + 16 > MAX_UDP)
		return -1;
	fill_random(bthp + n, plen);
	memset(bthp + n + plen, 0, sroce_pad_for(plen));
	return n + plen + sroce_pad_for(plen) + SROCE_ICRC_LEN;
}

/* ------------------------------------------------------------ memory */

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static union ibv_gid gid;
static int gid_index;

static uint8_t *arena, *shadow;
static size_t arena_len;
static uint8_t *rw, *ro, *lo, *src, *rdst;
static struct ibv_mr *mr_rw, *mr_ro, *mr_lo, *mr_src, *mr_rdst;

struct region {
	const char *name;
	size_t off, len;
	bool fixed;		/* must never change */
};

static struct region regions[16];
static int nregions;

static void add_region(const char *name, size_t *off, size_t len, bool fixed)
{
	regions[nregions].name = name;
	regions[nregions].off = *off;
	regions[nregions].len = len;
	regions[nregions].fixed = fixed;
	nregions++;
	*off += len;
}

static int setup_memory(void)
{
	size_t off = 0;
	int i;

	add_region("guard0", &off, PAGE, true);
	add_region("rw", &off, RW_LEN, false);
	add_region("guard1", &off, PAGE, true);
	add_region("ro (remote read only MR)", &off, RO_LEN, true);
	add_region("guard2", &off, PAGE, true);
	add_region("lo (local write only MR)", &off, LO_LEN, true);
	add_region("guard3", &off, PAGE, true);
	add_region("src (local only MR)", &off, SRC_LEN, true);
	add_region("guard4", &off, PAGE, true);
	add_region("rdst", &off, RDST_LEN, false);
	add_region("guard5", &off, PAGE, true);
	arena_len = off;
	arena = mmap(NULL, arena_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shadow = malloc(arena_len);
	if (arena == MAP_FAILED || !shadow)
		return -1;
	for (i = 0; i < (int)arena_len; i++)
		arena[i] = (uint8_t)(i * 131 + (i >> 12) * 7 + 0x5a);
	memcpy(shadow, arena, arena_len);
	rw = arena + regions[1].off;
	ro = arena + regions[3].off;
	lo = arena + regions[5].off;
	src = arena + regions[7].off;
	rdst = arena + regions[9].off;
	mr_rw = ibv_reg_mr(pd, rw, RW_LEN, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_ATOMIC);
	mr_ro = ibv_reg_mr(pd, ro, RO_LEN, IBV_ACCESS_REMOTE_READ);
	mr_lo = ibv_reg_mr(pd, lo, LO_LEN, IBV_ACCESS_LOCAL_WRITE);
	mr_src = ibv_reg_mr(pd, src, SRC_LEN, 0);
	mr_rdst = ibv_reg_mr(pd, rdst, RDST_LEN, IBV_ACCESS_LOCAL_WRITE);
	if (!mr_rw || !mr_ro || !mr_lo || !mr_src || !mr_rdst)
		return -1;
	return 0;
}

static void check_memory(const char *when)
{
	int i, bad = 0;

	for (i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];
		size_t k;

		if (!r->fixed)
			continue;
		for (k = 0; k < r->len; k++)
			if (arena[r->off + k] != shadow[r->off + k])
				break;
		if (k < r->len) {
			size_t n = 0, j;

			for (j = k; j < r->len; j++)
				n += arena[r->off + j] != shadow[r->off + j];
			check(0, "%s: %s changed: %zu bytes, the first at offset %zu",
			      when, r->name, n, k);
			bad++;
		}
	}
	if (!bad)
		printf("ok: %s: guard pages and MRs without remote write access unchanged\n",
		       when);
}

/* A random address: in or around one of the MRs, or anywhere. */
static uint64_t rnd_va(void)
{
	static const int mrs[] = { 1, 3, 5, 7, 9 };
	const struct region *r = &regions[mrs[rnd_below(5)]];
	uint64_t base = (uintptr_t)arena + r->off;

	switch (rnd_below(6)) {
	case 0:
		return rnd();
	case 1:
		return base - 1 - rnd_below(64);
	case 2:
		return base + r->len - rnd_below(64);
	default:
		return base + rnd_below(r->len);
	}
}

static uint32_t rnd_rkey(void)
{
	switch (rnd_below(8)) {
	case 0:
		return (uint32_t)rnd();
	case 1:
		return mr_ro->rkey;
	case 2:
		return mr_lo->rkey;
	case 3:
		return mr_src->rkey;
	case 4:
		return mr_rdst->rkey;
	default:
		return mr_rw->rkey;
	}
}

static uint32_t rnd_len(void)
{
	static const uint32_t lens[] = { 0, 1, 2, 8, 255, 256, 257, 4096,
					 65536, 0x80000000u, 0xffffffffu };

	return rnd_below(2) ? rnd_below(1024) : lens[rnd_below(11)];
}

/* -------------------------------------------------------------- QPs */

static const char *state_str(int s)
{
	static const char *const names[] = {
		"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"
	};

	return s >= 0 && s <= IBV_QPS_ERR ? names[s] : "unknown";
}

static int qp_query(struct ibv_qp *qp, uint32_t *rq_psn, uint32_t *sq_psn)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr init;

	if (rq_psn)
		*rq_psn = 0;
	if (sq_psn)
		*sq_psn = 0;
	if (ibv_query_qp(qp, &a, IBV_QP_STATE | IBV_QP_RQ_PSN | IBV_QP_SQ_PSN,
			 &init))
		return -1;
	if (rq_psn)
		*rq_psn = a.rq_psn;
	if (sq_psn)
		*sq_psn = a.sq_psn;
	return a.qp_state;
}

static struct ibv_qp *new_qp(struct ibv_cq *scq, struct ibv_cq *rcq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = scq, .recv_cq = rcq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 128, .max_recv_wr = 64,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(pd, &init);
}

/* Take @qp from RESET to @to (SQD through RTS; ERR directly). */
static int qp_move(struct ibv_qp *qp, enum ibv_qp_state to, uint32_t dqpn,
		   uint32_t rq_psn, uint32_t sq_psn, enum ibv_mtu mtu)
{
	struct ibv_qp_attr a;

	if (to == IBV_QPS_RESET)
		return 0;
	memset(&a, 0, sizeof(a));
	if (to == IBV_QPS_ERR) {
		a.qp_state = IBV_QPS_ERR;
		if (!ibv_modify_qp(qp, &a, IBV_QP_STATE))
			return 0;
		/* through INIT if RESET to ERR is refused */
		if (qp_move(qp, IBV_QPS_INIT, 0, 0, 0, mtu))
			return -1;
		a.qp_state = IBV_QPS_ERR;
		return ibv_modify_qp(qp, &a, IBV_QP_STATE);
	}
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_ATOMIC;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return -1;
	if (to == IBV_QPS_INIT)
		return 0;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = mtu;
	a.dest_qp_num = dqpn;
	a.rq_psn = rq_psn;
	a.max_dest_rd_atomic = 4;
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = gid;
	a.ah_attr.grh.sgid_index = gid_index;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -1;
	if (to == IBV_QPS_RTR)
		return 0;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = sq_psn;
	a.timeout = 12;		/* about 17 ms */
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 4;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			  IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			  IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC))
		return -1;
	if (to == IBV_QPS_RTS)
		return 0;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_SQD;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_EN_SQD_ASYNC_NOTIFY);
}

struct pair {
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	uint32_t a_psn, b_psn;		/* initial sq PSNs */
	unsigned int mtu;
	uint64_t recvs;			/* receive completions */
};

static int post_recv(struct ibv_qp *qp, unsigned int slot)
{
	struct ibv_sge sge = {
		(uintptr_t)rw + RECV_OFF + (slot % 64) * RECV_LEN, RECV_LEN,
		mr_rw->lkey
	};
	struct ibv_recv_wr wr = { .wr_id = slot, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	return ibv_post_recv(qp, &wr, &bad);
}

static void pair_destroy(struct pair *p)
{
	if (p->a)
		ibv_destroy_qp(p->a);
	if (p->b)
		ibv_destroy_qp(p->b);
	if (p->cq_a)
		ibv_destroy_cq(p->cq_a);
	if (p->cq_b)
		ibv_destroy_cq(p->cq_b);
	memset(p, 0, sizeof(*p));
}

static int pair_create(struct pair *p, unsigned int mtu_bytes)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->mtu = mtu_bytes;
	p->a_psn = (uint32_t)rnd() & SROCE_PSN_MASK;
	p->b_psn = (uint32_t)rnd() & SROCE_PSN_MASK;
	p->cq_a = ibv_create_cq(ctx, 1024, NULL, NULL, 0);
	p->cq_b = ibv_create_cq(ctx, 1024, NULL, NULL, 0);
	if (!p->cq_a || !p->cq_b)
		goto err;
	p->a = new_qp(p->cq_a, p->cq_a);
	p->b = new_qp(p->cq_b, p->cq_b);
	if (!p->a || !p->b)
		goto err;
	if (qp_move(p->a, IBV_QPS_RTS, p->b->qp_num, p->b_psn, p->a_psn,
		    mtu_from_bytes(mtu_bytes)) ||
	    qp_move(p->b, IBV_QPS_RTS, p->a->qp_num, p->a_psn, p->b_psn,
		    mtu_from_bytes(mtu_bytes)))
		goto err;
	for (i = 0; i < NRECV; i++)
		if (post_recv(p->a, i) || post_recv(p->b, 32 + i))
			goto err;
	return 0;
err:
	pair_destroy(p);
	return -1;
}

/* Drain both CQs and repost receives; the states of A and B. */
static void pair_service(struct pair *p, int *sa, int *sb)
{
	struct ibv_wc wc[32];
	int n, i;

	while ((n = ibv_poll_cq(p->cq_a, 32, wc)) > 0)
		for (i = 0; i < n; i++)
			if (wc[i].status == IBV_WC_SUCCESS &&
			    (wc[i].opcode & IBV_WC_RECV)) {
				p->recvs++;
				post_recv(p->a, wc[i].wr_id);
			}
	while ((n = ibv_poll_cq(p->cq_b, 32, wc)) > 0)
		for (i = 0; i < n; i++)
			if (wc[i].status == IBV_WC_SUCCESS &&
			    (wc[i].opcode & IBV_WC_RECV)) {
				p->recvs++;
				post_recv(p->b, wc[i].wr_id);
			}
	*sa = qp_query(p->a, NULL, NULL);
	*sb = qp_query(p->b, NULL, NULL);
}

/* Wait up to @secs for one completion on @cq; status -1 if none. */
static struct ibv_wc wait_wc(struct ibv_cq *cq, double secs)
{
	struct ibv_wc wc;
	double end = now() + secs;

	memset(&wc, 0, sizeof(wc));
	while (now() < end) {
		if (ibv_poll_cq(cq, 1, &wc) == 1)
			return wc;
		usleep(100);
	}
	wc.status = -1;
	return wc;
}

static const char *wc_str(int status)
{
	return status < 0 ? "no completion" : ibv_wc_status_str(status);
}

static int post_send(struct ibv_qp *qp, uint64_t wr_id, enum ibv_wr_opcode op,
		     void *laddr, uint32_t len, uint32_t lkey, uint64_t raddr,
		     uint32_t rkey, uint64_t add)
{
	struct ibv_sge sge = { (uintptr_t)laddr, len, lkey };
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = add;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return ibv_post_send(qp, &wr, &bad);
}

/* ------------------------------------------------------ random packets */

static void rnd_bth(struct sroce_pkt *p, uint8_t opcode, uint32_t dqpn,
		    uint32_t psn)
{
	memset(p, 0, sizeof(*p));
	p->bth.opcode = opcode;
	p->bth.se = rnd() & 1;
	p->bth.mig = rnd() & 1;
	p->bth.tver = rnd_below(16) ? 0 : rnd_below(16);
	p->bth.pkey = rnd_below(16) ? 0xffff : (uint16_t)rnd();
	p->bth.fecn = rnd() & 1;
	p->bth.becn = rnd() & 1;
	p->bth.dqpn = dqpn & SROCE_PSN_MASK;
	p->bth.ack_req = rnd() & 1;
	p->bth.psn = psn & SROCE_PSN_MASK;
	p->reth.va = rnd_va();
	p->reth.rkey = rnd_rkey();
	p->reth.dma_len = rnd_len();
	p->atmeth.va = rnd_below(4) ? rnd_va() & ~7ull : rnd_va();
	p->atmeth.rkey = rnd_rkey();
	p->atmeth.swap_add = rnd();
	p->atmeth.compare = rnd();
	p->aeth.syndrome = rnd();
	p->aeth.msn = rnd() & SROCE_PSN_MASK;
	p->atmack = rnd();
	p->immdt = rnd();
	p->ieth = rnd_below(2) ? rnd_rkey() : (uint32_t)rnd();
	p->deth.qkey = rnd();
	p->deth.sqpn = rnd() & SROCE_PSN_MASK;
}

/*
 * One packet of @opcode with random fields to @dqpn near @psn.  Opcodes
 * the wire layer does not know get a BTH and random bytes; known ones
 * sometimes get junk after the headers or a wrong pad count.
 */
static void send_random(uint8_t opcode, uint32_t dqpn, uint32_t psn,
			unsigned int mtu)
{
	const struct sroce_opcode_info *op = sroce_opcode_info(opcode);
	struct sroce_pkt p;
	unsigned int plen = 0;
	int len;

	rnd_bth(&p, opcode, dqpn, psn);
	if (!op) {
		unsigned int extra = rnd_below(80);

		sroce_bth_pack(bthp, &p.bth);
		fill_random(bthp + SROCE_BTH_LEN, extra);
		xmit(SROCE_BTH_LEN + extra + SROCE_ICRC_LEN, true, rnd_sport());
		return;
	}
	if (op->flags & SROCE_OP_PAYLOAD)
		plen = rnd_below(4) ? rnd_below(mtu + 1) :
		       rnd_below(mtu + 64);
	if (plen > MAX_UDP - 128)
		plen = MAX_UDP - 128;
	len = build(&p, plen);
	if (len < 0)
		return;
	switch (rnd_below(16)) {
	case 0:		/* junk after the packet */
		fill_random(bthp + len - SROCE_ICRC_LEN, 8);
		len += rnd_below(8) + 1;
		break;
	case 1:		/* any pad count */
		bthp[1] = (bthp[1] & ~0x30) | (rnd_below(4) << 4);
		break;
	default:
		break;
	}
	xmit(len, true, rnd_sport());
}

/* ------------------------------------------------------------ sniffer */

/*
 * Watches the device's own traffic on every interface: the newest PSN of
 * the requests to @req_qpn, their UDP source port (which the responses
 * to @resp_qpn carry too, so forgeries can look like them), and whether
 * our CRC-32 agrees with the ICRCs sroce puts on the wire.
 */
static struct {
	int fd;
	pthread_t thread;
	volatile int stop;
	uint32_t req_qpn, resp_qpn;
	uint32_t base_psn;
	int newest;		/* PSN distance from base_psn, -1: none */
	uint16_t resp_sport;
	uint64_t icrc_ok, icrc_bad;
	uint8_t bad[512];	/* the first packet whose ICRC we disagree with */
	unsigned int bad_len;
} sn;

static void *sniff_loop(void *arg)
{
	uint8_t buf[9216];

	(void)arg;
	while (!sn.stop) {
		ssize_t n = recv(sn.fd, buf, sizeof(buf), 0);
		unsigned int ihl, len;
		struct sroce_bth bth;
		uint8_t *udp;

		if (n < 20 || (buf[0] >> 4) != 4 || buf[9] != IPPROTO_UDP)
			continue;
		ihl = (buf[0] & 15) * 4;
		len = (unsigned int)n;
		if (ihl != 20 || len < ihl + 8 + SROCE_BTH_LEN + 4)
			continue;
		udp = buf + ihl;
		if ((udp[2] << 8 | udp[3]) != SROCE_ROCEV2_UDP_PORT)
			continue;
		sroce_bth_unpack(udp + 8, &bth);
		if (bth.dqpn == __atomic_load_n(&sn.req_qpn, __ATOMIC_SEQ_CST)) {
			int d = sroce_psn_diff(bth.psn, sn.base_psn);

			/* only sroce sends to req_qpn during campaign d */
			if (sroce_icrc_check(buf, len)) {
				if (!sn.icrc_bad) {
					sn.bad_len = len < sizeof(sn.bad) ?
						     len : sizeof(sn.bad);
					memcpy(sn.bad, buf, sn.bad_len);
				}
				__atomic_add_fetch(&sn.icrc_bad, 1,
						   __ATOMIC_RELAXED);
			} else
				__atomic_add_fetch(&sn.icrc_ok, 1,
						   __ATOMIC_RELAXED);
			if (d >= 0 && d > __atomic_load_n(&sn.newest,
							  __ATOMIC_RELAXED))
				__atomic_store_n(&sn.newest, d,
						 __ATOMIC_RELAXED);
			/*
			 * sroce's source port comes from the product of the
			 * two QPNs (rdma_get_udp_sport), the same both ways:
			 * B's responses carry the port of A's requests.
			 */
			if (!sn.resp_sport)
				sn.resp_sport = udp[0] << 8 | udp[1];
		}
	}
	return NULL;
}

static int sniff_start(void)
{
	struct timeval tv = { 0, 100000 };
	int sz = 4 << 20;

	sn.fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (sn.fd < 0)
		return -1;
	setsockopt(sn.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sn.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sn.newest = -1;
	sn.stop = 0;
	return pthread_create(&sn.thread, NULL, sniff_loop, NULL);
}

static void sniff_stop(void)
{
	sn.stop = 1;
	pthread_join(sn.thread, NULL);
	close(sn.fd);
}

static void sniff_watch(uint32_t req_qpn, uint32_t resp_qpn, uint32_t base)
{
	__atomic_store_n(&sn.newest, -1, __ATOMIC_RELAXED);
	sn.base_psn = base;
	sn.resp_sport = 0;
	sn.resp_qpn = resp_qpn;
	__atomic_store_n(&sn.req_qpn, req_qpn, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------ campaigns */

static int scale = 1;
static uint64_t camp_sent[5];
static uint64_t pair_restarts;

static void pair_keep(struct pair *p, int *sa, int *sb)
{
	pair_service(p, sa, sb);
	if (*sa == IBV_QPS_RTS && *sb == IBV_QPS_RTS)
		return;
	pair_restarts++;
	pair_destroy(p);
	if (pair_create(p, 256 << rnd_below(5))) {
		check(0, "cannot create a fresh QP pair: %s", strerror(errno));
		exit(1);
	}
	*sa = *sb = IBV_QPS_RTS;
}

/* Positive controls: forged packets at the expected PSN do land. */
static void controls(void)
{
	struct pair p;
	struct sroce_pkt k;
	struct ibv_wc wc;
	uint32_t epsn;
	uint8_t want[64];
	int len, st;

	if (pair_create(&p, 1024)) {
		check(0, "controls: cannot create a QP pair");
		return;
	}
	/* A SEND_ONLY at B's expected PSN lands in B's first receive. */
	qp_query(p.b, &epsn, NULL);
	memset(&k, 0, sizeof(k));
	k.bth.opcode = SROCE_RC_SEND_ONLY;
	k.bth.pkey = 0xffff;
	k.bth.dqpn = p.b->qp_num;
	k.bth.ack_req = true;
	k.bth.psn = epsn;
	len = build(&k, sizeof(want));
	memcpy(want, bthp + SROCE_BTH_LEN, sizeof(want));
	xmit(len, true, rnd_sport());
	wc = wait_wc(p.cq_b, 10);
	check(wc.status == IBV_WC_SUCCESS && wc.byte_len == sizeof(want) &&
	      !memcmp(rw + RECV_OFF + 32 * RECV_LEN, want, sizeof(want)),
	      "control: a forged SEND at the expected PSN did not arrive (%s, %u bytes): the injector does not reach QPs",
	      wc_str(wc.status), wc.byte_len);
	if (wc.status == IBV_WC_SUCCESS)
		printf("ok: control: a forged SEND_ONLY at the expected PSN was received (ICRC and headers accepted)\n");

	/* A WRITE_ONLY with the real rkey inside the MR lands. */
	memset(&k, 0, sizeof(k));
	k.bth.opcode = SROCE_RC_WRITE_ONLY;
	k.bth.pkey = 0xffff;
	k.bth.dqpn = p.b->qp_num;
	k.bth.ack_req = true;
	k.bth.psn = sroce_psn_add(epsn, 1);
	k.reth.va = (uintptr_t)rw + 1000;
	k.reth.rkey = mr_rw->rkey;
	k.reth.dma_len = sizeof(want);
	len = build(&k, sizeof(want));
	memcpy(want, bthp + SROCE_BTH_LEN + SROCE_RETH_LEN, sizeof(want));
	xmit(len, true, rnd_sport());
	usleep(200000);
	for (st = 0; st < 50 && memcmp(rw + 1000, want, sizeof(want)); st++)
		usleep(100000);
	check(!memcmp(rw + 1000, want, sizeof(want)),
	      "control: a forged WRITE at the expected PSN with the real rkey did not land");
	if (!memcmp(rw + 1000, want, sizeof(want)))
		printf("ok: control: a forged WRITE_ONLY with the real rkey at the expected PSN landed\n");
	st = qp_query(p.b, &epsn, NULL);
	check(st == IBV_QPS_RTS && epsn == sroce_psn_add(p.a_psn, 2),
	      "control: after two forged requests B is %s with expected PSN %#x, wanted RTS and %#x",
	      state_str(st), epsn, sroce_psn_add(p.a_psn, 2));
	pair_destroy(&p);
}

/* a: every opcode, random fields, PSNs near the expected ones. */
static void campaign_a(uint64_t per_opcode)
{
	struct pair p;
	uint32_t b_epsn = 0, a_epsn = 0, a_sq = 0, b_sq = 0;
	uint64_t start = sent_total, i;
	int sa, sb, op;

	if (pair_create(&p, 256)) {
		check(0, "a: cannot create a QP pair");
		return;
	}
	for (i = 0; i < per_opcode; i++) {
		for (op = 0; op < 256; op++) {
			bool to_b = rnd_below(4) != 0;
			bool req = rnd_below(2);	/* aimed as a request? */
			uint32_t qpn, psn;

			if ((sent_total - start) % 64 == 0) {
				pair_keep(&p, &sa, &sb);
				qp_query(p.b, &b_epsn, &b_sq);
				qp_query(p.a, &a_epsn, &a_sq);
			}
			qpn = to_b ? p.b->qp_num : p.a->qp_num;
			if (!rnd_below(64))
				qpn = rnd();
			/* requests near the responder's ePSN, responses near
			 * what the requester sent
			 */
			psn = req ? (to_b ? b_epsn : a_epsn) :
				    (to_b ? b_sq : a_sq);
			psn += rnd_below(16) - 8;
			if (!rnd_below(32))
				psn = rnd();
			send_random(op, qpn, psn, p.mtu);
		}
	}
	pair_service(&p, &sa, &sb);
	printf("ok: a: %llu packets, every opcode %llu times; %llu QP pair restarts so far, %llu receives completed\n",
	       (unsigned long long)(sent_total - start),
	       (unsigned long long)per_opcode,
	       (unsigned long long)pair_restarts,
	       (unsigned long long)p.recvs);
	pair_destroy(&p);
	camp_sent[0] += sent_total - start;
}

/* b: truncation at every length, and every wrong pad count. */
static void campaign_b(int rounds)
{
	static const uint8_t ops[] = {
		SROCE_RC_SEND_ONLY, SROCE_RC_SEND_ONLY_IMM, SROCE_RC_SEND_FIRST,
		SROCE_RC_SEND_LAST_INV, SROCE_RC_WRITE_FIRST,
		SROCE_RC_WRITE_ONLY_IMM, SROCE_RC_WRITE_LAST_IMM,
		SROCE_RC_READ_REQUEST, SROCE_RC_READ_RESPONSE_FIRST,
		SROCE_RC_READ_RESPONSE_MIDDLE, SROCE_RC_READ_RESPONSE_ONLY,
		SROCE_RC_ACKNOWLEDGE, SROCE_RC_ATOMIC_ACKNOWLEDGE,
		SROCE_RC_COMPARE_SWAP, SROCE_RC_FETCH_ADD, SROCE_UD_SEND_ONLY,
	};
	uint8_t full[MAX_UDP];
	struct pair p;
	uint64_t start = sent_total;
	int r, sa, sb;
	unsigned int i;

	if (pair_create(&p, 256)) {
		check(0, "b: cannot create a QP pair");
		return;
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < sizeof(ops); i++) {
			const struct sroce_opcode_info *op =
				sroce_opcode_info(ops[i]);
			bool is_req = op->flags & SROCE_OP_REQUEST;
			uint32_t epsn, sq, qpn;
			unsigned int plen, flen, cut, pad;
			struct sroce_pkt k;
			int len;

			pair_keep(&p, &sa, &sb);
			qp_query(p.b, &epsn, NULL);
			qp_query(p.a, NULL, &sq);
			qpn = is_req ? p.b->qp_num : p.a->qp_num;
			plen = op->flags & SROCE_OP_PAYLOAD ? 1 + rnd_below(16) : 0;
			rnd_bth(&k, ops[i], qpn, is_req ? epsn : sq);
			k.bth.tver = 0;
			k.bth.pkey = 0xffff;
			len = build(&k, plen);
			if (len < 0)
				continue;
			flen = len - SROCE_ICRC_LEN;
			memcpy(full, bthp, flen);
			/* every length up to the full packet: with a valid
			 * ICRC after the cut, and with none at all
			 */
			for (cut = 0; cut <= flen; cut++) {
				memcpy(bthp, full, cut);
				xmit(cut + SROCE_ICRC_LEN, true, rnd_sport());
				memcpy(bthp, full, cut);
				xmit(cut, false, rnd_sport());
			}
			if (!(op->flags & SROCE_OP_PAYLOAD))
				continue;
			/* every pad count on payloads of 0..7 bytes */
			for (plen = 0; plen < 8; plen++) {
				for (pad = 0; pad < 4; pad++) {
					len = build(&k, plen);
					bthp[1] = (bthp[1] & ~0x30) | pad << 4;
					xmit(len, true, rnd_sport());
				}
			}
		}
	}
	pair_service(&p, &sa, &sb);
	printf("ok: b: %llu truncated or mis-padded packets\n",
	       (unsigned long long)(sent_total - start));
	pair_destroy(&p);
	camp_sent[1] += sent_total - start;
}

/*
 * c: forged RETHs and AtomicETHs at B's expected PSN.  Each either must
 * be refused (then B may go to error and a new pair is made) or is a
 * legal access to the RW MR.
 */
static void campaign_c(int count)
{
	static const uint32_t lens[] = { 0, 1, 2, 8, 0x80000000u,
					 0xffffffffu, 0x7fffffffu, 4097 };
	static const uint8_t ops[] = {
		SROCE_RC_WRITE_ONLY, SROCE_RC_WRITE_FIRST,
		SROCE_RC_WRITE_ONLY_IMM, SROCE_RC_READ_REQUEST,
		SROCE_RC_FETCH_ADD, SROCE_RC_COMPARE_SWAP,
	};
	uint64_t start = sent_total, errs = 0;
	struct pair p;
	int i, sa, sb;

	if (pair_create(&p, 256)) {
		check(0, "c: cannot create a QP pair");
		return;
	}
	for (i = 0; i < count; i++) {
		uint8_t opc = ops[rnd_below(sizeof(ops))];
		uint64_t base = (uintptr_t)rw, va;
		uint32_t epsn, rkey, dlen, plen;
		struct sroce_pkt k;
		int len;

		pair_service(&p, &sa, &sb);
		if (sa != IBV_QPS_RTS || sb != IBV_QPS_RTS) {
			errs++;
			pair_keep(&p, &sa, &sb);
		}
		qp_query(p.b, &epsn, NULL);
		switch (rnd_below(6)) {
		case 0:		/* random rkey */
			rkey = (uint32_t)rnd();
			va = base + rnd_below(RW_LEN);
			break;
		case 1:		/* a real rkey without the right access */
			rkey = (uint32_t[]){ mr_ro->rkey, mr_lo->rkey,
					     mr_src->rkey, mr_rdst->rkey }
				[rnd_below(4)];
			va = (uintptr_t)arena + regions[3 + 2 * rnd_below(4)].off;
			break;
		default:	/* the real rkey, addresses outside the MR */
			rkey = mr_rw->rkey;
			switch (rnd_below(5)) {
			case 0:
				va = base - 1 - rnd_below(PAGE);
				break;
			case 1:
				va = base + RW_LEN - rnd_below(8);
				break;
			case 2:
				va = base + RW_LEN + rnd_below(PAGE);
				break;
			case 3:
				va = -1ull - rnd_below(16);
				break;
			default:
				va = base + rnd_below(RW_LEN);
				break;
			}
			break;
		}
		dlen = rnd_below(2) ? lens[rnd_below(8)] :
		       RW_LEN - (uint32_t)(va - base) + rnd_below(4);
		rnd_bth(&k, opc, p.b->qp_num, epsn);
		k.bth.tver = 0;
		k.bth.pkey = 0xffff;
		k.bth.ack_req = true;
		k.reth.va = va;
		k.reth.rkey = rkey;
		k.reth.dma_len = dlen;
		k.atmeth.va = va;
		k.atmeth.rkey = rkey;
		plen = 0;
		if (opc != SROCE_RC_READ_REQUEST && opc != SROCE_RC_FETCH_ADD &&
		    opc != SROCE_RC_COMPARE_SWAP)
			plen = dlen < p.mtu ? dlen : p.mtu;
		len = build(&k, plen);
		if (len >= 0)
			xmit(len, true, rnd_sport());
	}
	usleep(100000);
	pair_service(&p, &sa, &sb);
	printf("ok: c: %llu forged RETH/AtomicETH packets, B went to error %llu times\n",
	       (unsigned long long)(sent_total - start),
	       (unsigned long long)errs);
	pair_destroy(&p);
	camp_sent[2] += sent_total - start;
}

/* d: forged responses while a requester has work in flight. */
enum d_mode { D_AHEAD, D_ACK_SENT, D_NAK_SENT };

static const char *const d_names[] = {
	"responses for PSNs A never sent",
	"ACKs for PSNs A sent but B had not acknowledged",
	"NAKs for PSNs A sent",
};

static void forge_response(uint32_t qpn, uint8_t opcode, uint8_t syndrome,
			   uint32_t psn, uint16_t sport, unsigned int mtu)
{
	struct sroce_pkt k;
	int len;

	memset(&k, 0, sizeof(k));
	k.bth.opcode = opcode;
	k.bth.pkey = 0xffff;
	k.bth.dqpn = qpn;
	k.bth.psn = psn & SROCE_PSN_MASK;
	k.aeth.syndrome = syndrome;
	k.aeth.msn = rnd() & SROCE_PSN_MASK;
	k.atmack = 0xdeadbeefdeadbeefull;
	len = build(&k, (sroce_opcode_info(opcode)->flags & SROCE_OP_PAYLOAD) ?
		    (rnd_below(2) ? mtu : rnd_below(mtu + 1)) : 0);
	if (len >= 0)
		xmit(len, true, sport ? sport : rnd_sport());
}

static uint8_t rnd_resp_opcode(void)
{
	static const uint8_t ops[] = {
		SROCE_RC_ACKNOWLEDGE, SROCE_RC_ACKNOWLEDGE,
		SROCE_RC_ACKNOWLEDGE, SROCE_RC_ATOMIC_ACKNOWLEDGE,
		SROCE_RC_READ_RESPONSE_FIRST, SROCE_RC_READ_RESPONSE_MIDDLE,
		SROCE_RC_READ_RESPONSE_LAST, SROCE_RC_READ_RESPONSE_ONLY,
	};

	return ops[rnd_below(sizeof(ops))];
}

static uint8_t rnd_syndrome(void)
{
	switch (rnd_below(4)) {
	case 0:
		return sroce_aeth_ack(rnd_below(32));
	case 1:
		return sroce_aeth_rnr_nak(rnd_below(32));
	case 2:
		return sroce_aeth_nak(rnd_below(5));
	default:
		return rnd();
	}
}

/* A 256 KiB WRITE (1024 packets at MTU 256) with forgeries aimed at A. */
static void d_write(enum d_mode mode)
{
	const unsigned int mtu = 256, len = 256 * KIB, npkts = len / mtu;
	uint32_t first, last;
	struct ibv_wc wc;
	struct pair p;
	double end;
	uint64_t start = sent_total;
	unsigned int k, bad;
	int got = 0, sa, sb;

	if (pair_create(&p, mtu)) {
		check(0, "d: cannot create a QP pair");
		return;
	}
	first = p.a_psn;
	last = sroce_psn_add(first, npkts - 1);
	memset(rw, 0, len);
	sniff_watch(p.b->qp_num, p.a->qp_num, first);
	if (post_send(p.a, 1, IBV_WR_RDMA_WRITE, src, len, mr_src->lkey,
		      (uintptr_t)rw, mr_rw->rkey, 0)) {
		check(0, "d: cannot post the WRITE");
		pair_destroy(&p);
		return;
	}
	end = now() + 30;
	memset(&wc, 0, sizeof(wc));
	while (now() < end) {
		int newest = __atomic_load_n(&sn.newest, __ATOMIC_RELAXED);
		uint16_t sport = sn.resp_sport;

		if (ibv_poll_cq(p.cq_a, 1, &wc) == 1) {
			got = 1;
			break;
		}
		switch (mode) {
		case D_AHEAD:
			/* after the WRITE's last PSN, or before its first */
			forge_response(p.a->qp_num, rnd_resp_opcode(),
				       rnd_syndrome(),
				       rnd_below(2) ?
				       last + 2 + rnd_below(rnd_below(2) ? 16 : 1 << 22) :
				       first - 1 - rnd_below(1 << 22),
				       sport, mtu);
			break;
		case D_ACK_SENT:
			forge_response(p.a->qp_num, SROCE_RC_ACKNOWLEDGE,
				       sroce_aeth_ack(31), last, sport, mtu);
			if (newest >= 0)
				forge_response(p.a->qp_num,
					       SROCE_RC_ACKNOWLEDGE,
					       sroce_aeth_ack(31),
					       first + newest, sport, mtu);
			break;
		case D_NAK_SENT:
			if (newest >= 0)
				forge_response(p.a->qp_num,
					       SROCE_RC_ACKNOWLEDGE,
					       rnd_below(2) ?
					       sroce_aeth_nak(rnd_below(5)) :
					       sroce_aeth_rnr_nak(rnd_below(32)),
					       first + rnd_below(newest + 1),
					       sport, mtu);
			else
				usleep(100);
			break;
		}
	}
	/* the data must be complete the moment the WRITE completes */
	for (k = 0, bad = 0; k < npkts; k++)
		bad += memcmp(rw + k * mtu, src + k * mtu, mtu) != 0;
	camp_sent[3] += sent_total - start;
	if (!got) {
		pair_service(&p, &sa, &sb);
		check(0, "d: %s: the WRITE did not complete in 30 s (A %s, B %s, %u of %u packets' data missing)",
		      d_names[mode], state_str(sa), state_str(sb), bad, npkts);
	} else if (wc.status == IBV_WC_SUCCESS && bad) {
		unsigned int first_bad = 0, later = 0;

		while (!memcmp(rw + first_bad * mtu, src + first_bad * mtu, mtu))
			first_bad++;
		usleep(2000000);
		for (k = 0; k < npkts; k++)
			later += memcmp(rw + k * mtu, src + k * mtu, mtu) != 0;
		/*
		 * An ACK for a PSN the requester really sent, forged by
		 * someone who watches the wire, looks exactly like the
		 * responder's own: RoCEv2 has no authentication, so no
		 * requester can refuse it.  What is required then is that
		 * every packet it sent does arrive.
		 */
		if (mode == D_ACK_SENT && !later)
			printf("note: d: %s: the WRITE completed %u packets before its data was all written (the first missing at byte %u), all of it in place 2 s later: an on-path forger of ACKs for PSNs really sent cannot be told from the responder; %llu forgeries\n",
			       d_names[mode], bad, first_bad * mtu,
			       (unsigned long long)(sent_total - start));
		else
			check(0, "d: %s: the WRITE completed successfully with %u of its %u packets' data not written (the first at byte %u; %u still missing 2 s later); %llu forgeries",
			      d_names[mode], bad, npkts, first_bad * mtu, later,
			      (unsigned long long)(sent_total - start));
	} else if (wc.status == IBV_WC_SUCCESS) {
		printf("ok: d: %s: the WRITE completed successfully and all 256 KiB are in place (%llu forgeries)\n",
		       d_names[mode], (unsigned long long)(sent_total - start));
	} else {
		printf("ok: d: %s: the WRITE completed with %s, an acceptable outcome (%llu forgeries, %u packets' data missing)\n",
		       d_names[mode], wc_str(wc.status),
		       (unsigned long long)(sent_total - start), bad);
	}
	sniff_watch(0, 0, 0);
	pair_destroy(&p);
}

/* READs and FETCH_ADDs in flight, with responses forged for PSNs beyond. */
static void d_read_atomic(void)
{
	const unsigned int mtu = 256, nread = 8, rlen = 16 * KIB;
	const unsigned int natomic = 64;
	unsigned int n_ok = 0, n_err = 0, n_bad = 0, i, done = 0;
	uint64_t start = sent_total, *word = (uint64_t *)(rw + 8192);
	uint64_t init = 1000, seen[64];
	uint32_t first, last;
	struct pair p;
	double end;
	int sa, sb;

	if (pair_create(&p, mtu)) {
		check(0, "d: cannot create a QP pair");
		return;
	}
	*word = init;
	memset(rdst, 0, RDST_LEN);
	first = p.a_psn;
	for (i = 0; i < nread; i++)
		post_send(p.a, i, IBV_WR_RDMA_READ, rdst + i * rlen, rlen,
			  mr_rdst->lkey, (uintptr_t)ro + (i * rlen) % RO_LEN,
			  mr_ro->rkey, 0);
	for (i = 0; i < natomic; i++)
		post_send(p.a, 100 + i, IBV_WR_ATOMIC_FETCH_AND_ADD,
			  rdst + 8 * (32768 - natomic + i), 8, mr_rdst->lkey,
			  (uintptr_t)word, mr_rw->rkey, 1);
	last = sroce_psn_add(first, nread * (rlen / mtu) + natomic - 1);
	end = now() + 30;
	while (done < nread + natomic && now() < end) {
		struct ibv_wc wc;

		while (ibv_poll_cq(p.cq_a, 1, &wc) == 1) {
			done++;
			if (wc.status != IBV_WC_SUCCESS) {
				n_err++;
				continue;
			}
			n_ok++;
			if (wc.wr_id < nread) {
				i = wc.wr_id;
				if (memcmp(rdst + i * rlen,
					   ro + (i * rlen) % RO_LEN, rlen))
					n_bad++;
			} else if (wc.wr_id >= 100 && wc.wr_id < 100 + natomic) {
				memcpy(&seen[wc.wr_id - 100],
				       rdst + 8 * (32768 - natomic +
						   wc.wr_id - 100), 8);
				if (seen[wc.wr_id - 100] != init + wc.wr_id - 100)
					n_bad++;
			}
		}
		forge_response(p.a->qp_num, rnd_resp_opcode(), rnd_syndrome(),
			       rnd_below(2) ? last + 2 + rnd_below(64) :
			       first - 1 - rnd_below(64), sn.resp_sport, mtu);
	}
	camp_sent[3] += sent_total - start;
	pair_service(&p, &sa, &sb);
	check(done == nread + natomic,
	      "d: READs and atomics: only %u of %u completed in 30 s (A %s)",
	      done, nread + natomic, state_str(sa));
	check(!n_bad,
	      "d: READs and atomics: %u completed successfully with wrong data (forged responses for PSNs never requested were believed)",
	      n_bad);
	if (n_ok == nread + natomic)
		check(*word == init + natomic,
		      "d: the remote word is %llu after %u FETCH_ADDs of 1 from %llu",
		      (unsigned long long)*word, natomic,
		      (unsigned long long)init);
	if (done == nread + natomic && !n_bad)
		printf("ok: d: %u READs and %u FETCH_ADDs amid %llu responses forged for PSNs outside them: %u correct, %u error completions\n",
		       nread, natomic, (unsigned long long)(sent_total - start),
		       n_ok, n_err);
	pair_destroy(&p);
}

static void campaign_d(int rounds)
{
	int r;

	if (sniff_start()) {
		check(0, "d: cannot start the packet sniffer: %s",
		      strerror(errno));
		return;
	}
	for (r = 0; r < rounds; r++) {
		d_write(D_AHEAD);
		d_read_atomic();
		d_write(D_NAK_SENT);
	}
	for (r = 0; r < rounds; r++)
		d_write(D_ACK_SENT);
	sniff_stop();
	check(sn.icrc_ok > 0 && !sn.icrc_bad,
	      "d: our CRC-32 agrees with %llu of sroce's packets, not with %llu",
	      (unsigned long long)sn.icrc_ok, (unsigned long long)sn.icrc_bad);
	if (sn.icrc_ok && !sn.icrc_bad)
		printf("ok: d: our ICRC matches all %llu sroce packets seen\n",
		       (unsigned long long)sn.icrc_ok);
	if (sn.icrc_bad) {
		unsigned int i;

		printf("note: the first (%u bytes):", sn.bad_len);
		for (i = 0; i < sn.bad_len; i++)
			printf("%s%02x", i % 32 ? "" : "\n  ", sn.bad[i]);
		printf("\n");
	}
}

/* e: packets to QPs in every state. */
static void campaign_e(uint64_t per_state)
{
	static const enum ibv_qp_state states[] = {
		IBV_QPS_RESET, IBV_QPS_INIT, IBV_QPS_RTR, IBV_QPS_RTS,
		IBV_QPS_SQD, IBV_QPS_ERR,
	};
	struct ibv_qp *qp[6] = { 0 };
	struct ibv_cq *cq;
	uint64_t start = sent_total, i;
	uint32_t psn = (uint32_t)rnd() & SROCE_PSN_MASK;
	int s, after[6];
	struct ibv_wc wc[32];

	cq = ibv_create_cq(ctx, 4096, NULL, NULL, 0);
	if (!cq) {
		check(0, "e: cannot create a CQ");
		return;
	}
	for (s = 0; s < 6; s++) {
		qp[s] = new_qp(cq, cq);
		if (!qp[s]) {
			check(0, "e: cannot create QP %d", s);
			goto out;
		}
	}
	for (s = 0; s < 6; s++) {
		/* the connected ones talk to the RTS one */
		if (qp_move(qp[s], states[s], qp[3]->qp_num, psn, psn, IBV_MTU_256)) {
			check(0, "e: cannot take a QP to %s", state_str(states[s]));
			goto out;
		}
		if (states[s] != IBV_QPS_RESET)
			for (i = 0; i < 8; i++)
				post_recv(qp[s], 48 + (i % 16));
	}
	for (i = 0; i < per_state; i++) {
		for (s = 0; s < 6; s++) {
			uint8_t op = rnd_below(8) ? rnd_below(0x18) : rnd();

			send_random(op, qp[s]->qp_num, psn + rnd_below(32) - 8,
				    256);
		}
		if (i % 64 == 0)
			while (ibv_poll_cq(cq, 32, wc) > 0)
				;
	}
	usleep(200000);
	while (ibv_poll_cq(cq, 32, wc) > 0)
		;
	for (s = 0; s < 6; s++)
		after[s] = qp_query(qp[s], NULL, NULL);
	check(after[0] == IBV_QPS_RESET && after[1] == IBV_QPS_INIT &&
	      after[5] == IBV_QPS_ERR,
	      "e: packets changed the state of a QP that cannot take them: RESET->%s, INIT->%s, ERR->%s",
	      state_str(after[0]), state_str(after[1]), state_str(after[5]));
	printf("%s: e: %llu packets to QPs in RESET, INIT, RTR, RTS, SQD, ERR; afterwards %s %s %s %s %s %s\n",
	       after[0] == IBV_QPS_RESET && after[1] == IBV_QPS_INIT &&
	       after[5] == IBV_QPS_ERR ? "ok" : "note",
	       (unsigned long long)(sent_total - start), state_str(after[0]),
	       state_str(after[1]), state_str(after[2]), state_str(after[3]),
	       state_str(after[4]), state_str(after[5]));
out:
	for (s = 0; s < 6; s++)
		if (qp[s])
			ibv_destroy_qp(qp[s]);
	ibv_destroy_cq(cq);
	camp_sent[4] += sent_total - start;
}

/* A fresh pair, connected with the shared helper, moves checked data. */
static void fresh_pair(void)
{
	struct ibv_cq *cq_a, *cq_b;
	struct ibv_qp *a, *b;
	struct ibv_wc wc;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .wr_id = 7, .sg_list = &sge, .num_sge = 1 },
			   *rbad;
	const uint32_t len = 64 * KIB;

	cq_a = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	cq_b = ibv_create_cq(ctx, 64, NULL, NULL, 0);
	a = cq_a ? new_qp(cq_a, cq_a) : NULL;
	b = cq_b ? new_qp(cq_b, cq_b) : NULL;
	if (!a || !b ||
	    rc_qp_connect(a, b->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7) ||
	    rc_qp_connect(b, a->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7)) {
		check(0, "fresh pair: cannot set up: %s", strerror(errno));
		return;
	}
	/* SEND of 4 KiB from src into B's receive in rw */
	memset(rw, 0, RW_LEN);
	sge.addr = (uintptr_t)rw;
	sge.length = 4096;
	sge.lkey = mr_rw->lkey;
	ibv_post_recv(b, &rwr, &rbad);
	post_send(a, 1, IBV_WR_SEND, src, 4096, mr_src->lkey, 0, 0, 0);
	wc = wait_wc(cq_a, 30);
	check(wc.status == IBV_WC_SUCCESS, "fresh pair: SEND: %s",
	      wc_str(wc.status));
	wc = wait_wc(cq_b, 30);
	check(wc.status == IBV_WC_SUCCESS && wc.byte_len == 4096 &&
	      !memcmp(rw, src, 4096),
	      "fresh pair: SEND received: %s, %u bytes, data %s",
	      wc_str(wc.status), wc.byte_len,
	      memcmp(rw, src, 4096) ? "wrong" : "right");
	if (wc.status == IBV_WC_SUCCESS && !memcmp(rw, src, 4096))
		printf("ok: fresh pair: a 4 KiB SEND arrived intact\n");
	/* WRITE 64 KiB to rw, READ it back into rdst */
	memset(rdst, 0, len);
	post_send(a, 2, IBV_WR_RDMA_WRITE, src, len, mr_src->lkey,
		  (uintptr_t)rw + 4096, mr_rw->rkey, 0);
	wc = wait_wc(cq_a, 30);
	check(wc.status == IBV_WC_SUCCESS && !memcmp(rw + 4096, src, len),
	      "fresh pair: WRITE: %s", wc_str(wc.status));
	post_send(a, 3, IBV_WR_RDMA_READ, rdst, len, mr_rdst->lkey,
		  (uintptr_t)rw + 4096, mr_rw->rkey, 0);
	wc = wait_wc(cq_a, 30);
	check(wc.status == IBV_WC_SUCCESS && !memcmp(rdst, src, len),
	      "fresh pair: READ: %s, data %s", wc_str(wc.status),
	      memcmp(rdst, src, len) ? "wrong" : "right");
	if (wc.status == IBV_WC_SUCCESS && !memcmp(rdst, src, len))
		printf("ok: fresh pair: a 64 KiB WRITE and READ round trip is intact\n");
	ibv_destroy_qp(a);
	ibv_destroy_qp(b);
	ibv_destroy_cq(cq_a);
	ibv_destroy_cq(cq_b);
}

int main(int argc, char **argv)
{
	uint64_t target;
	struct in_addr ia;
	double t0 = now(), t;
	int i, long_mode = 0;

	if (argc < 4 || inet_pton(AF_INET, argv[3], &ia) != 1) {
		fprintf(stderr, "usage: %s <device> <gid index> <IPv4 address> [--long] [--seed N]\n",
			argv[0]);
		return 2;
	}
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--long"))
			long_mode = 1;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 0) | 1;
	}
	start_time = t0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	scale = long_mode ? 10 : 1;
	target = long_mode ? 1000000 : 100000;
	printf("inject: seed %#llx, %s mode, at least %llu packets\n",
	       (unsigned long long)rng_state, long_mode ? "long" : "default",
	       (unsigned long long)target);
	crc_init();
	local_ip = ia.s_addr;
	dst_addr.sin_family = AF_INET;
	dst_addr.sin_addr = ia;
	raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (raw_fd < 0 || !ctx || ibv_query_gid(ctx, 1, gid_index, &gid) ||
	    !(pd = ibv_alloc_pd(ctx)) || setup_memory()) {
		printf("FAIL: setup (raw socket, device %s, GID %d, PD, MRs): %s\n",
		       argv[1], gid_index, strerror(errno));
		return 1;
	}

	controls();
	check_memory("after the controls");
	t = now();
	campaign_a(200 * scale);
	check_memory("after campaign a");
	printf("inject: a took %.1f s\n", now() - t);
	t = now();
	campaign_b(6 * scale);
	check_memory("after campaign b");
	printf("inject: b took %.1f s\n", now() - t);
	t = now();
	campaign_c(1500 * scale);
	check_memory("after campaign c");
	printf("inject: c took %.1f s\n", now() - t);
	t = now();
	campaign_d(long_mode ? 3 : 1);
	check_memory("after campaign d");
	printf("inject: d took %.1f s\n", now() - t);
	t = now();
	campaign_e(1000 * scale);
	check_memory("after campaign e");
	printf("inject: e took %.1f s\n", now() - t);
	/* top up with campaign a until the packet target is reached */
	while (sent_total < target) {
		uint64_t before = sent_total;

		campaign_a((target - sent_total) / 256 + 1);
		if (sent_total == before)
			break;	/* nothing goes out: reported below */
	}
	check_memory("after the top-up");
	fresh_pair();
	check_memory("at the end");

	printf("inject: %llu packets sent (a %llu, b %llu, c %llu, d %llu, e %llu), %llu send errors, %llu retries after ENOBUFS, %llu QP pair restarts, %.0f s\n",
	       (unsigned long long)sent_total,
	       (unsigned long long)camp_sent[0], (unsigned long long)camp_sent[1],
	       (unsigned long long)camp_sent[2], (unsigned long long)camp_sent[3],
	       (unsigned long long)camp_sent[4], (unsigned long long)send_errors,
	       (unsigned long long)send_retries,
	       (unsigned long long)pair_restarts, now() - t0);
	check(send_errors <= sent_total / 100,
	      "%llu packets could not be sent", (unsigned long long)send_errors);
	check(sent_total >= target, "only %llu packets sent, wanted %llu",
	      (unsigned long long)sent_total, (unsigned long long)target);
	printf("inject: %d failures\n", failures);
	ibv_dereg_mr(mr_rw);
	ibv_dereg_mr(mr_ro);
	ibv_dereg_mr(mr_lo);
	ibv_dereg_mr(mr_src);
	ibv_dereg_mr(mr_rdst);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return failures ? 1 : 0;
}
