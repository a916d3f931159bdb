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
 *      responder's expected PSN; forged SENDs with Invalidate naming
 *      keys that may not be invalidated
 *   d  forged ACKs, NAKs, READ responses and atomic ACKs while a requester
 *      has work in flight; a work request that completes successfully
 *      must have had its whole effect
 *   e  packets to QPs in every state
 *   f  UD QPs and QP1: after a forged datagram is seen to land as sent,
 *      every opcode with DETH-sized random headers at a UD QP and at
 *      QP1, truncations inside BTH+DETH(+IMMDT) and wrong pads, wrong
 *      Q_Keys, datagrams larger than the receive and than the MTU, RC
 *      packets at the UD QP and datagrams at RC QPs, UD QPs in every
 *      state, destination QPN 0xFFFFFF to unicast and multicast
 *      addresses, and garbage MADs at QP1 with the CM's Q_Key; every
 *      datagram that must land is checked byte for byte in order, no
 *      other may, and the drops are counted exactly and cost no receive
 *
 * Before: positive controls (a forged SEND and WRITE at the expected PSN
 * land), so the drops that follow mean something.  After each campaign:
 * unregistered guard pages and MRs without remote write access are
 * unchanged.  At the end a fresh QP pair moves checked data.
 *
 *   inject <device> <gid index> <IPv4 address of the device> [--long]
 *          [--seed N] [--only LETTERS]
 *
 * --only runs just the campaigns named (e.g. "f"), without the top-up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rdma/rdma_netlink.h>

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
static uint32_t tx_daddr;		/* where packets go: local_ip or a group */
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

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | get24(p + 1);
}

static void set_daddr(uint32_t addr)
{
	tx_daddr = addr;
	dst_addr.sin_addr.s_addr = addr;
}

static uint16_t rnd_sport(void)
{
	return 49152 + rnd_below(16384);
}

/*
 * Send the UDP payload at bthp (@len bytes, the ICRC's four included)
 * from the local address to tx_daddr; the ICRC is computed over exactly
 * the headers that go out when @icrc is set and the packet is long
 * enough.  Returns 0 once sent, -1 if it could not be.
 */
static int xmit(unsigned int len, bool icrc, uint16_t sport)
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
	memcpy(ip + 16, &tx_daddr, 4);
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
			return 0;
		}
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		/*
		 * A multicast packet loops back to this host before it is
		 * refused on the wire: sent again, it would arrive twice.
		 */
		if (IN_MULTICAST(ntohl(tx_daddr)))
			break;
		send_retries++;
		usleep(tries < 10 ? 100 : 1000);
	}
	if (!send_errors++)
		printf("note: sendto of a %u byte packet: %s\n", tot,
		       strerror(errno));
	return -1;
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
/* campaign f's UD receives, and what they held when posted */
#define UD_SLOT		(8 * KIB)	/* a receive's room in the UD area */
#define UD_SLOTS	256
#define UD_LEN		(UD_SLOT * UD_SLOTS)
static uint8_t *ud_area, *ud_shadow;
static struct ibv_mr *mr_ud;

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
	add_region("ud (UD receives)", &off, UD_LEN, false);
	add_region("guard6", &off, PAGE, true);
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
	ud_area = arena + regions[11].off;
	ud_shadow = shadow + regions[11].off;
	mr_rw = ibv_reg_mr(pd, rw, RW_LEN, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_ATOMIC);
	mr_ro = ibv_reg_mr(pd, ro, RO_LEN, IBV_ACCESS_REMOTE_READ);
	mr_lo = ibv_reg_mr(pd, lo, LO_LEN, IBV_ACCESS_LOCAL_WRITE);
	mr_src = ibv_reg_mr(pd, src, SRC_LEN, 0);
	mr_rdst = ibv_reg_mr(pd, rdst, RDST_LEN, IBV_ACCESS_LOCAL_WRITE);
	mr_ud = ibv_reg_mr(pd, ud_area, UD_LEN, IBV_ACCESS_LOCAL_WRITE);
	if (!mr_rw || !mr_ro || !mr_lo || !mr_src || !mr_rdst || !mr_ud)
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
		if (!memcmp(arena + r->off, shadow + r->off, r->len))
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
static uint64_t camp_sent[6];
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

/*
 * c, SEND with Invalidate: user space has no MR that may be invalidated
 * (a user MR may not, and its PD has no fast-registration MR), so every
 * forged SEND_ONLY_INV and SEND_LAST_INV at B's expected PSN, naming a
 * random key, a user MR's rkey (remotely writable or not), the rkey of
 * an MR of another PD, or the DMA-less key 0, must be refused: B's
 * receive completes in error and B goes to the error state.  Afterwards
 * the user MRs still work: a forged WRITE with the RW MR's rkey lands.
 */
static void campaign_c_inv(void)
{
	struct ibv_pd *pd2 = ibv_alloc_pd(ctx);
	struct ibv_mr *mr2 = pd2 ? ibv_reg_mr(pd2, src, PAGE,
					      IBV_ACCESS_LOCAL_WRITE |
					      IBV_ACCESS_REMOTE_WRITE) : NULL;
	unsigned int sent = 0, refused = 0, i, last;
	uint64_t start = sent_total;
	uint8_t want[64];
	struct sroce_pkt k;
	struct ibv_wc wc;
	struct pair p;
	uint32_t epsn;
	int len, st;

	if (!mr2) {
		check(0, "c: SEND with Invalidate: no second PD and MR: %s",
		      strerror(errno));
		goto out;
	}
	for (i = 0; i < 10; i++) {
		uint32_t keys[5] = { (uint32_t)rnd(), mr_rw->rkey, mr_ro->rkey,
				     mr2->rkey, 0 };

		if (pair_create(&p, 256)) {
			check(0, "c: SEND with Invalidate: cannot create a QP pair");
			goto out;
		}
		qp_query(p.b, &epsn, NULL);
		last = i & 1;	/* SEND_FIRST then SEND_LAST_INV */
		memset(&k, 0, sizeof(k));
		k.bth.pkey = 0xffff;
		k.bth.dqpn = p.b->qp_num;
		k.bth.psn = epsn;
		if (last) {
			k.bth.opcode = SROCE_RC_SEND_FIRST;
			xmit(build(&k, p.mtu), true, rnd_sport());
			k.bth.psn = sroce_psn_add(epsn, 1);
		}
		k.bth.opcode = last ? SROCE_RC_SEND_LAST_INV :
				      SROCE_RC_SEND_ONLY_INV;
		k.bth.ack_req = true;
		k.ieth = keys[i % 5];
		len = build(&k, 32);
		if (len >= 0)
			xmit(len, true, rnd_sport());
		sent++;
		wc = wait_wc(p.cq_b, 10);
		st = qp_query(p.b, NULL, NULL);
		if (wc.status != IBV_WC_SUCCESS && wc.status != -1 &&
		    st == IBV_QPS_ERR)
			refused++;
		else
			check(0, "c: a forged %s naming key %#x: B's receive %s, B %s; wanted an error and the error state",
			      last ? "SEND_LAST_INV" : "SEND_ONLY_INV", k.ieth,
			      wc_str(wc.status), state_str(st));
		pair_destroy(&p);
	}

	/* The user MRs were not invalidated. */
	if (pair_create(&p, 256)) {
		check(0, "c: SEND with Invalidate: cannot create a QP pair");
		goto out;
	}
	qp_query(p.b, &epsn, NULL);
	memset(&k, 0, sizeof(k));
	k.bth.opcode = SROCE_RC_WRITE_ONLY;
	k.bth.pkey = 0xffff;
	k.bth.dqpn = p.b->qp_num;
	k.bth.ack_req = true;
	k.bth.psn = epsn;
	k.reth.va = (uintptr_t)rw + 2000;
	k.reth.rkey = mr_rw->rkey;
	k.reth.dma_len = sizeof(want);
	len = build(&k, sizeof(want));
	memcpy(want, bthp + SROCE_BTH_LEN + SROCE_RETH_LEN, sizeof(want));
	xmit(len, true, rnd_sport());
	for (st = 0; st < 50 && memcmp(rw + 2000, want, sizeof(want)); st++)
		usleep(100000);
	check(!memcmp(rw + 2000, want, sizeof(want)),
	      "c: after the forged SENDs with Invalidate, a WRITE with the RW MR's rkey did not land");
	pair_destroy(&p);
	if (refused == sent && !memcmp(rw + 2000, want, sizeof(want)))
		printf("ok: c: %u forged SENDs with Invalidate (random key, user MRs' rkeys, another PD's, 0) refused, each with B's receive in error and B in error; the RW MR still takes a WRITE\n",
		       sent);
	camp_sent[2] += sent_total - start;
out:
	if (mr2)
		ibv_dereg_mr(mr2);
	if (pd2)
		ibv_dealloc_pd(pd2);
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

static uint64_t ctr(const char *name);

/*
 * Packets this host dropped on the way out or before they reached a QP,
 * at a QP's full queue, or at the responder for coming out of order:
 * sroce's tx_errors (the stack refused a packet: a full qdisc or device
 * queue under the flood), the backlog drops of every CPU
 * (/proc/net/softnet_stat, second column), sroce's rx_qp_queue_full, and
 * its seq_naks_sent (a responder that sees a gap NAKs it and drops what
 * follows until the gap is filled; looped back packets may be reordered,
 * as they are queued on the CPU that sent them).  UINT64_MAX if
 * unreadable.
 */
static uint64_t host_drops(void)
{
	uint64_t q = ctr("rx_qp_queue_full"), n = ctr("seq_naks_sent");
	uint64_t t = ctr("tx_errors");
	long long backlog = softnet_drops();

	if (backlog < 0 || q == UINT64_MAX || n == UINT64_MAX ||
	    t == UINT64_MAX)
		return UINT64_MAX;
	return backlog + q + n + t;
}

/* A 256 KiB WRITE (1024 packets at MTU 256) with forgeries aimed at A. */
static void d_write(enum d_mode mode)
{
	const unsigned int mtu = 256, len = 256 * KIB, npkts = len / mtu;
	uint32_t first, last;
	struct ibv_wc wc;
	struct pair p;
	double end;
	uint64_t start = sent_total, drops;
	unsigned int k, bad;
	int got = 0, sa, sb;

	if (pair_create(&p, mtu)) {
		check(0, "d: cannot create a QP pair");
		return;
	}
	drops = host_drops();
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
		uint64_t dropped;

		while (!memcmp(rw + first_bad * mtu, src + first_bad * mtu, mtu))
			first_bad++;
		usleep(2000000);
		for (k = 0; k < npkts; k++)
			later += memcmp(rw + k * mtu, src + k * mtu, mtu) != 0;
		dropped = host_drops();
		dropped = drops == UINT64_MAX || dropped == UINT64_MAX ? 0 :
			  dropped - drops;
		/*
		 * An ACK for a PSN the requester really sent, forged by
		 * someone who watches the wire, looks exactly like the
		 * responder's own: RoCEv2 has no authentication, so no
		 * requester can refuse it.  What is required then is that
		 * every packet it sent does arrive, unless the flood made
		 * this host drop packets: a packet lost whose PSN a forged
		 * ACK covered is not sent again by any requester.
		 */
		if (mode == D_ACK_SENT && !later)
			printf("note: d: %s: the WRITE completed %u packets before its data was all written (the first missing at byte %u), all of it in place 2 s later: an on-path forger of ACKs for PSNs really sent cannot be told from the responder; %llu forgeries\n",
			       d_names[mode], bad, first_bad * mtu,
			       (unsigned long long)(sent_total - start));
		else if (mode == D_ACK_SENT && dropped)
			printf("note: d: %s: the WRITE completed with %u packets' data never written (the first at byte %u): the flood of %llu forgeries made this host drop %llu packets (refused on sending, backlog, full QP queue or out of order at B), and forged ACKs had covered those PSNs, so A could not send them again\n",
			       d_names[mode], later, first_bad * mtu,
			       (unsigned long long)(sent_total - start),
			       (unsigned long long)dropped);
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

/*
 * f: UD QPs and QP1.
 *
 * What a UD QP must take is modelled here, apart from the driver's
 * parser: a UD SEND ONLY (with immediate) that has an ICRC, transport
 * version 0, the default P_Key (either membership), whole headers, a
 * payload and pad that fill a multiple of 4 bytes with a pad count no
 * larger than what follows the headers, the QP's Q_Key, and a payload
 * that fits the receive after the 40-byte network header; sent to the
 * QP's number at the local address, or to QPN 0xFFFFFF at a group the QP
 * is attached to, while the QP is in RTR, RTS or SQD.  Each such datagram
 * is owed to the QP: its receives must complete in the order they were
 * posted, one for each owed datagram in the order sent, each showing what
 * was sent, with nothing else in between, and every byte of a receive
 * slot that the datagram did not fill unchanged.  The injector runs on
 * one CPU meanwhile, so that the loopback delivers its packets in the
 * order it sends them; a marker datagram settles a QP's account: when it
 * lands, everything sent to the QP before it was taken or dropped.
 */
#define GRH_LEN		40
#define UD_GAP		64		/* untouched bytes between two SGEs */
#define UD_OWED		64		/* datagrams a QP may be owed at once */
#define F_QKEY		0x0badcafeu
#define GSI_QKEY	0x80010000u	/* QP1's: the MAD layer's and the CM's */
#define MCAST_QPN	0xffffffu
#define F_MARK_SQPN	0x00f00du
#define F_MAX_QPS	12
#define F_MSGS		40		/* failure lines campaign f prints */
#define NO_CTR		UINT64_MAX

struct owed {
	const char *what;
	bool optional;		/* may land or not (larger than the MTU) */
	bool has_imm;
	uint8_t imm[4];		/* as on the wire */
	uint32_t src_qp;
	unsigned int len;	/* payload bytes */
	uint8_t ip[20];		/* the IPv4 header sent */
	uint8_t data[MAX_UDP];
};

struct udq {
	const char *name;
	struct ibv_qp *qp;
	struct ibv_cq *cq;
	uint32_t qkey;
	enum ibv_qp_state state;
	bool rx_ok;		/* RTR, RTS, SQD: takes datagrams */
	bool flushing;		/* ERR: its receives complete flushed */
	bool repost;		/* repost each receive that completes */
	uint32_t group[2];	/* IPv4 groups attached (network order) */
	unsigned int slot0, nslots, depth;
	unsigned int room;	/* bytes a receive takes, GRH included */
	uint64_t posted, completed, flushed;
	uint64_t landed, may_landed, may_dropped, lost, unexpected;
	struct owed *owed;	/* a ring of UD_OWED */
	unsigned int owed_head, nowed;
};

static struct udq *udqs[F_MAX_QPS];
static int nudqs;
static unsigned int ud_next_slot;
static unsigned int slot_l1[UD_SLOTS];	/* bytes of a slot's first SGE */
static unsigned int port_mtu;
static const char *f_what = "";
static unsigned int f_msgs;
static uint32_t f_mark_seq;
static int dev_index = -1;

static void f_fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	if (f_msgs++ >= F_MSGS) {
		if (f_msgs == F_MSGS + 1)
			printf("FAIL: f: more failures, not shown\n");
		return;
	}
	printf("FAIL: f: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/*
 * The value of counter @name in the attributes at @p (@len bytes) of an
 * RDMA netlink answer, looking into the nested counter table and its
 * entries (@depth 0 and 1); NO_CTR if it is not there.
 */
static uint64_t nl_counter(const uint8_t *p, unsigned int len,
			   const char *name, int depth)
{
	const char *got = NULL;
	uint64_t v = NO_CTR, value = NO_CTR;
	unsigned int off = 0;

	while (off + NLA_HDRLEN <= len) {
		const struct nlattr *a = (const void *)(p + off);
		const uint8_t *d = p + off + NLA_HDRLEN;
		unsigned int alen = a->nla_len;

		if (alen < NLA_HDRLEN || off + alen > len)
			break;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case RDMA_NLDEV_ATTR_STAT_HWCOUNTERS:
			if (depth == 0)
				v = nl_counter(d, alen - NLA_HDRLEN, name, 1);
			break;
		case RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY:
			if (depth == 1)
				v = nl_counter(d, alen - NLA_HDRLEN, name, 2);
			break;
		case RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME:
			if (depth == 2 && memchr(d, 0, alen - NLA_HDRLEN))
				got = (const char *)d;
			break;
		case RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_VALUE:
			if (depth == 2 && alen >= NLA_HDRLEN + 8)
				memcpy(&value, d, 8);
			break;
		}
		if (v != NO_CTR)
			return v;
		off += NLA_ALIGN(alen);
	}
	return got && !strcmp(got, name) ? value : NO_CTR;
}

/*
 * Port counter @name of the device, NO_CTR if it cannot be read: asked of
 * the driver through the RDMA netlink, as `rdma statistic show` does.
 * (sysfs's hw_counters keep what they read for "lifespan", counted in
 * jiffies, which lag behind under a busy TCG host.)
 */
static uint64_t ctr(const char *name)
{
	static uint8_t buf[32768];
	static uint32_t seq;
	static int fd = -1;
	const struct nlmsghdr *nh = (const void *)buf;
	struct {
		struct nlmsghdr nh;
		struct nlattr dev_attr;
		uint32_t dev;
		struct nlattr port_attr;
		uint32_t port;
	} req;
	ssize_t n;

	if (fd < 0)
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0 || dev_index < 0)
		return NO_CTR;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV,
					     RDMA_NLDEV_CMD_STAT_GET);
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = ++seq;
	req.dev_attr.nla_len = NLA_HDRLEN + 4;
	req.dev_attr.nla_type = RDMA_NLDEV_ATTR_DEV_INDEX;
	req.dev = dev_index;
	req.port_attr.nla_len = NLA_HDRLEN + 4;
	req.port_attr.nla_type = RDMA_NLDEV_ATTR_PORT_INDEX;
	req.port = 1;
	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		return NO_CTR;
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n >= (ssize_t)NLMSG_HDRLEN && nh->nlmsg_seq != seq);
	if (n < (ssize_t)NLMSG_HDRLEN || nh->nlmsg_type == NLMSG_ERROR ||
	    nh->nlmsg_len > (size_t)n)
		return NO_CTR;
	return nl_counter(buf + NLMSG_HDRLEN, nh->nlmsg_len - NLMSG_HDRLEN,
			  name, 0);
}

/* Counter @name must have grown by @lo to @hi since it was @before. */
static void ctr_expect(const char *name, uint64_t before, uint64_t lo,
		       uint64_t hi, const char *what)
{
	uint64_t after = ctr(name), d;

	if (before == NO_CTR || after == NO_CTR) {
		printf("note: f: %s: cannot read the counter %s\n", what, name);
		return;
	}
	d = after - before;
	if (d < lo || d > hi)
		f_fail("%s: %s grew by %llu, expected %llu%s%.0llu", what,
		       name, (unsigned long long)d, (unsigned long long)lo,
		       hi > lo ? " to " : "",
		       hi > lo ? (unsigned long long)hi : 0ull);
	else
		printf("ok: f: %s: %s grew by %llu\n", what, name,
		       (unsigned long long)d);
}

/* A source QPN, none of this campaign's UD QPs (a MAD's answer goes there). */
static uint32_t rnd_sqpn(void)
{
	uint32_t n;
	int i;

again:
	n = rnd_below(16) ? (uint32_t)rnd() & SROCE_PSN_MASK : rnd_below(4);
	for (i = 0; i < nudqs; i++)
		if (udqs[i]->qp->qp_num == n)
			goto again;
	return n;
}

/* ---------------------------------------------------- UD receive slots */

/* The first @n bytes that receive slot @s took, gathered from its SGEs. */
static void slot_gather(unsigned int s, uint8_t *out, unsigned int n)
{
	const uint8_t *b = ud_area + (size_t)s * UD_SLOT;
	unsigned int l1 = slot_l1[s];

	if (n <= l1) {
		memcpy(out, b, n);
		return;
	}
	memcpy(out, b, l1);
	memcpy(out + l1, b + l1 + UD_GAP, n - l1);
}

/*
 * The first byte of slot @s that changed although its receive's first @n
 * bytes do not cover it, or -1: the gap between the SGEs, what follows
 * them, and their bytes past @n must be as they were when it was posted.
 */
static long slot_touched(unsigned int s, unsigned int n)
{
	const uint8_t *b = ud_area + (size_t)s * UD_SLOT;
	const uint8_t *sh = ud_shadow + (size_t)s * UD_SLOT;
	unsigned int l1 = slot_l1[s], from[2], to[2], i, k;

	/* the first SGE past @n and the gap; the second SGE past @n on */
	from[0] = n < l1 ? n : l1;
	to[0] = l1 + UD_GAP;
	from[1] = n > l1 ? n + UD_GAP : l1 + UD_GAP;
	to[1] = UD_SLOT;
	for (i = 0; i < 2; i++) {
		if (!memcmp(b + from[i], sh + from[i], to[i] - from[i]))
			continue;
		for (k = from[i]; b[k] == sh[k]; k++)
			;
		return k;
	}
	return -1;
}

/*
 * Post a receive in @q's next slot: as one SGE, or two with UD_GAP bytes
 * between them (the GRH alone in the first, or split anywhere).
 */
static int udq_post(struct udq *q)
{
	unsigned int s = q->slot0 + q->posted % q->nslots, l1 = q->room;
	uint8_t *b = ud_area + (size_t)s * UD_SLOT;
	struct ibv_sge sge[2];
	struct ibv_recv_wr wr, *bad;

	memcpy(b, ud_shadow + (size_t)s * UD_SLOT, UD_SLOT);
	switch (rnd_below(6)) {
	case 0:
	case 1:
		break;
	case 2:
		l1 = GRH_LEN;
		break;
	default:
		l1 = 1 + rnd_below(q->room - 1);
		break;
	}
	slot_l1[s] = l1;
	sge[0].addr = (uintptr_t)b;
	sge[0].length = l1;
	sge[0].lkey = mr_ud->lkey;
	sge[1].addr = (uintptr_t)b + l1 + UD_GAP;
	sge[1].length = q->room - l1;
	sge[1].lkey = mr_ud->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = q->posted << 16 | s;
	wr.sg_list = sge;
	wr.num_sge = l1 < q->room ? 2 : 1;
	if (ibv_post_recv(q->qp, &wr, &bad))
		return -1;
	q->posted++;
	return 0;
}

static void udq_fill(struct udq *q)
{
	while (q->posted - q->completed < q->depth)
		if (udq_post(q)) {
			f_fail("%s: ibv_post_recv: %s", q->name, strerror(errno));
			return;
		}
}

/* ------------------------------------------------------ the accounts */

static struct owed *owed_at(struct udq *q, unsigned int i)
{
	return &q->owed[(q->owed_head + i) % UD_OWED];
}

/* Why completion @wc in slot @s is not datagram @o; NULL if it is. */
static const char *owed_mismatch(const struct ibv_wc *wc, unsigned int s,
				 const struct owed *o, char *why, size_t n)
{
	static uint8_t img[GRH_LEN + MAX_UDP];
	unsigned int k;

	if (wc->byte_len != GRH_LEN + o->len) {
		snprintf(why, n, "byte_len %u, not %u", wc->byte_len,
			 GRH_LEN + o->len);
		return why;
	}
	if (wc->opcode != IBV_WC_RECV || !(wc->wc_flags & IBV_WC_GRH)) {
		snprintf(why, n, "opcode %d, wc_flags %#x: not IBV_WC_RECV with IBV_WC_GRH",
			 wc->opcode, wc->wc_flags);
		return why;
	}
	if (wc->src_qp != o->src_qp) {
		snprintf(why, n, "src_qp %#x, not %#x", wc->src_qp, o->src_qp);
		return why;
	}
	if (!(wc->wc_flags & IBV_WC_WITH_IMM) != !o->has_imm ||
	    (o->has_imm && memcmp(&wc->imm_data, o->imm, 4))) {
		snprintf(why, n, "immediate %s %#x, sent %s %02x%02x%02x%02x",
			 wc->wc_flags & IBV_WC_WITH_IMM ? "flagged" : "not flagged",
			 ntohl(wc->imm_data), o->has_imm ? "with" : "without",
			 o->imm[0], o->imm[1], o->imm[2], o->imm[3]);
		return why;
	}
	slot_gather(s, img, wc->byte_len);
	for (k = 0; k < 20; k++)
		if (img[k]) {
			snprintf(why, n, "network header byte %u is %#x, not 0",
				 k, img[k]);
			return why;
		}
	for (k = 0; k < 20; k++)
		if (img[20 + k] != o->ip[k]) {
			snprintf(why, n, "network header byte %u (IPv4 header byte %u) is %#x, sent %#x",
				 20 + k, k, img[20 + k], o->ip[k]);
			return why;
		}
	for (k = 0; k < o->len; k++)
		if (img[GRH_LEN + k] != o->data[k]) {
			snprintf(why, n, "payload byte %u is %#x, sent %#x", k,
				 img[GRH_LEN + k], o->data[k]);
			return why;
		}
	return NULL;
}

/* A receive of @q completed with @wc: which owed datagram is it? */
static void udq_take(struct udq *q, const struct ibv_wc *wc)
{
	unsigned int s = q->slot0 + q->completed % q->nslots, i, j, n;
	uint64_t want = q->completed << 16 | s;
	char why[200];
	long off;

	q->completed++;
	if (wc->wr_id != want) {
		f_fail("%s: receive %#llx completed when the oldest posted was %#llx: a receive was lost or reordered",
		       q->name, (unsigned long long)wc->wr_id,
		       (unsigned long long)want);
		s = wc->wr_id & 0xffff;
		if (s < q->slot0 || s >= q->slot0 + q->nslots)
			return;
		q->completed = (wc->wr_id >> 16) + 1;
	}
	if (wc->status != IBV_WC_SUCCESS) {
		if (q->flushing && wc->status == IBV_WC_WR_FLUSH_ERR)
			q->flushed++;
		else
			f_fail("%s: a receive completed with %s (vendor error %#x)",
			       q->name, ibv_wc_status_str(wc->status),
			       wc->vendor_err);
		off = slot_touched(s, 0);
		if (off >= 0)
			f_fail("%s: the receive in slot %u completed in error with byte %ld of it changed",
			       q->name, s, off);
		return;
	}
	for (j = 0; j < q->nowed; j++)
		if (!owed_mismatch(wc, s, owed_at(q, j), why, sizeof(why)))
			break;
	if (j == q->nowed) {
		q->unexpected++;
		if (q->nowed)
			owed_mismatch(wc, s, owed_at(q, 0), why, sizeof(why));
		f_fail("%s: a datagram landed that was not sent as such or must have been dropped: byte_len %u, src_qp %#x, wc_flags %#x, during %s; the oldest owed is %s%s%s",
		       q->name, wc->byte_len, wc->src_qp, wc->wc_flags, f_what,
		       q->nowed ? owed_at(q, 0)->what : "none",
		       q->nowed ? ", which it is not: " : "",
		       q->nowed ? why : "");
	} else {
		for (i = 0; i < j; i++) {
			const struct owed *o = owed_at(q, i);

			if (o->optional) {
				q->may_dropped++;
				continue;
			}
			q->lost++;
			f_fail("%s: %s (%u payload bytes, src_qp %#x) did not land, the datagram after it did",
			       q->name, o->what, o->len, o->src_qp);
		}
		q->may_landed += owed_at(q, j)->optional;
		q->landed++;
		q->owed_head = (q->owed_head + j + 1) % UD_OWED;
		q->nowed -= j + 1;
	}
	n = wc->byte_len < q->room ? wc->byte_len : q->room;
	off = slot_touched(s, n);
	if (off >= 0)
		f_fail("%s: slot %u: byte %ld changed, outside the %u bytes received (first SGE %u bytes)",
		       q->name, s, off, n, slot_l1[s]);
	if (q->repost)
		udq_fill(q);
}

/* Take @q's completions; how many there were. */
static int udq_poll(struct udq *q)
{
	struct ibv_wc wc[16];
	int n, i, total = 0;

	while ((n = ibv_poll_cq(q->cq, 16, wc)) > 0) {
		for (i = 0; i < n; i++)
			udq_take(q, &wc[i]);
		total += n;
	}
	if (n < 0)
		f_fail("%s: ibv_poll_cq: %d", q->name, n);
	return total;
}

/* The receives posted and not completed must be untouched. */
static void udq_check_posted(struct udq *q)
{
	uint64_t i;

	for (i = q->completed; i < q->posted; i++) {
		unsigned int s = q->slot0 + i % q->nslots;
		long off = slot_touched(s, 0);

		if (off >= 0)
			f_fail("%s: the receive posted in slot %u has not completed, yet its byte %ld changed (during %s)",
			       q->name, s, off, f_what);
	}
}

/*
 * What @q must do with the packet at bthp (@len bytes, an ICRC at the end
 * if @icrc), just sent: owe it if it is to land.  @optional: it may also
 * be dropped.
 */
static void ud_expect(struct udq *q, unsigned int len, bool icrc,
		      bool optional)
{
	const uint8_t *b = bthp;
	unsigned int hdr, rest, pad, plen;
	struct owed *o;
	bool imm;

	if (!icrc || len < SROCE_BTH_LEN + SROCE_ICRC_LEN)
		return;
	if (b[0] != SROCE_UD_SEND_ONLY && b[0] != SROCE_UD_SEND_ONLY_IMM)
		return;
	imm = b[0] == SROCE_UD_SEND_ONLY_IMM;
	if ((b[1] & 0x0f) || ((b[2] << 8 | b[3]) & 0x7fff) != 0x7fff)
		return;
	hdr = SROCE_BTH_LEN + SROCE_DETH_LEN + (imm ? SROCE_IMMDT_LEN : 0);
	if (len < hdr + SROCE_ICRC_LEN)
		return;
	rest = len - SROCE_ICRC_LEN - hdr;
	pad = (b[1] >> 4) & 3;
	if (rest % 4 || rest < pad || get32(b + SROCE_BTH_LEN) != q->qkey)
		return;
	plen = rest - pad;
	if (GRH_LEN + plen > q->room)
		return;		/* dropped: no receive fits it */
	if (q->nowed == UD_OWED) {
		f_fail("%s: the injector owes more than %u datagrams (its own bug)",
		       q->name, UD_OWED);
		return;
	}
	o = owed_at(q, q->nowed++);
	o->what = f_what;
	o->optional = optional || plen > port_mtu;
	o->has_imm = imm;
	if (imm)
		memcpy(o->imm, b + SROCE_BTH_LEN + SROCE_DETH_LEN, 4);
	o->src_qp = get24(b + SROCE_BTH_LEN + 5);
	o->len = plen;
	memcpy(o->ip, txbuf, 20);
	memcpy(o->data, b + hdr, plen);
}

/* Send the packet at bthp and owe it to the QPs that must take it. */
static void f_send(unsigned int len, bool icrc)
{
	bool mcast = IN_MULTICAST(ntohl(tx_daddr));
	uint32_t dqpn;
	int err, i;

	err = xmit(len, icrc, rnd_sport());
	if (err && !mcast)
		return;
	if (len < SROCE_BTH_LEN)
		return;
	dqpn = get24(bthp + 5);
	for (i = 0; i < nudqs; i++) {
		struct udq *q = udqs[i];

		if (!q->rx_ok)
			continue;
		if (dqpn == MCAST_QPN ?
		    mcast && (q->group[0] == tx_daddr || q->group[1] == tx_daddr) :
		    dqpn == q->qp->qp_num && tx_daddr == local_ip)
			ud_expect(q, len, icrc, err != 0);
	}
}

/* A well-formed UD SEND ONLY (with immediate), random payload; its length. */
static int ud_build(bool imm, uint32_t dqpn, uint32_t qkey, unsigned int plen)
{
	struct sroce_pkt k;

	memset(&k, 0, sizeof(k));
	k.bth.opcode = imm ? SROCE_UD_SEND_ONLY_IMM : SROCE_UD_SEND_ONLY;
	k.bth.se = rnd() & 1;
	k.bth.pkey = 0xffff;
	k.bth.dqpn = dqpn & SROCE_PSN_MASK;
	k.bth.psn = (uint32_t)rnd() & SROCE_PSN_MASK;
	k.deth.qkey = qkey;
	k.deth.sqpn = rnd_sqpn();
	k.immdt = rnd();
	if (plen > MAX_UDP - 128)
		plen = MAX_UDP - 128;
	return build(&k, plen);
}

/*
 * Settle @q's account: a marker datagram, sent after everything else,
 * must land after what @q was owed; then the receives still posted must
 * be untouched.
 */
static void udq_settle(struct udq *q)
{
	uint32_t daddr = tx_daddr;
	const char *what = f_what;
	double end;
	int len;

	if (!q->rx_ok) {
		udq_poll(q);
		return;
	}
	set_daddr(local_ip);
	len = ud_build(false, q->qp->qp_num, q->qkey, 16);
	put32(bthp + SROCE_BTH_LEN + 4, F_MARK_SQPN);	/* reserved, source QPN */
	memcpy(bthp + SROCE_BTH_LEN + SROCE_DETH_LEN, "f-marker", 8);
	put32(bthp + SROCE_BTH_LEN + SROCE_DETH_LEN + 8, ++f_mark_seq);
	f_what = "the marker";
	f_send(len, true);
	f_what = what;
	set_daddr(daddr);
	end = now() + 5;
	while (q->nowed && now() < end)
		if (!udq_poll(q))
			usleep(50);
	if (q->nowed) {
		f_fail("%s: the marker datagram did not land within 5 s (after %s); %u datagrams owed, the first %s (%u payload bytes)",
		       q->name, f_what, q->nowed, owed_at(q, 0)->what,
		       owed_at(q, 0)->len);
		q->lost += q->nowed;
		q->nowed = 0;
	}
	udq_check_posted(q);
}

/* Settle every QP that would overflow its account with one more datagram. */
static void f_room(void)
{
	int i;

	for (i = 0; i < nudqs; i++) {
		struct udq *q = udqs[i];
		unsigned int cap = q->depth < UD_OWED ? q->depth : UD_OWED;

		if (q->rx_ok && q->nowed + 4 >= cap)
			udq_settle(q);
	}
}

static void f_settle_all(void)
{
	int i;

	for (i = 0; i < nudqs; i++)
		udq_settle(udqs[i]);
}

/* ------------------------------------------------------------ UD QPs */

static int udq_modify(struct udq *q, enum ibv_qp_state to)
{
	struct ibv_qp_attr a;
	int mask = IBV_QP_STATE;
	double end;

	memset(&a, 0, sizeof(a));
	a.qp_state = to;
	if (to == IBV_QPS_INIT) {
		a.pkey_index = 0;
		a.port_num = 1;
		a.qkey = q->qkey;
		mask |= IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY;
	} else if (to == IBV_QPS_RTS && q->state == IBV_QPS_RTR) {
		a.sq_psn = (uint32_t)rnd() & SROCE_PSN_MASK;
		mask |= IBV_QP_SQ_PSN;
	}
	if (ibv_modify_qp(q->qp, &a, mask)) {
		f_fail("%s: modify from %s to %s: %s", q->name,
		       state_str(q->state), state_str(to), strerror(errno));
		return -1;
	}
	q->state = to;
	q->rx_ok = to == IBV_QPS_RTR || to == IBV_QPS_RTS ||
		   to == IBV_QPS_SQD;
	if (to == IBV_QPS_ERR) {
		/* the receives posted are flushed */
		q->flushing = true;
		end = now() + 2;
		while (q->completed < q->posted && now() < end)
			if (!udq_poll(q))
				usleep(100);
		check(q->completed == q->posted,
		      "f: %s: %llu of %llu receives flushed in 2 s", q->name,
		      (unsigned long long)q->completed,
		      (unsigned long long)q->posted);
	} else if (to == IBV_QPS_RESET) {
		udq_poll(q);
		q->completed = q->posted;	/* RESET forgets them */
		q->flushing = false;
	}
	return 0;
}

/* Walk @q to @to (from ERR through RESET); INIT posts its receives. */
static int udq_bring(struct udq *q, enum ibv_qp_state to)
{
	if (to == IBV_QPS_ERR) {
		if (q->state == IBV_QPS_RESET &&
		    (udq_modify(q, IBV_QPS_INIT) || (udq_fill(q), 0)))
			return -1;
		return udq_modify(q, IBV_QPS_ERR);
	}
	if (q->state == IBV_QPS_ERR && udq_modify(q, IBV_QPS_RESET))
		return -1;
	while (q->state != to) {
		enum ibv_qp_state next;

		switch (q->state) {
		case IBV_QPS_RESET:
			next = IBV_QPS_INIT;
			break;
		case IBV_QPS_INIT:
			next = IBV_QPS_RTR;
			break;
		case IBV_QPS_RTR:
			next = IBV_QPS_RTS;
			break;
		case IBV_QPS_RTS:
			next = IBV_QPS_SQD;
			break;
		default:
			return -1;
		}
		if (udq_modify(q, next))
			return -1;
		if (next == IBV_QPS_INIT)
			udq_fill(q);
	}
	return 0;
}

static void udq_free(struct udq *q)
{
	int i;

	if (!q)
		return;
	for (i = 0; i < nudqs; i++)
		if (udqs[i] == q) {
			udqs[i] = udqs[--nudqs];
			break;
		}
	if (q->qp)
		ibv_destroy_qp(q->qp);
	if (q->cq)
		ibv_destroy_cq(q->cq);
	free(q->owed);
	free(q);
}

/* A UD QP with @depth receives of @room bytes, taken to @to. */
static struct udq *udq_new(const char *name, uint32_t qkey,
			   unsigned int depth, unsigned int room,
			   enum ibv_qp_state to)
{
	struct ibv_qp_init_attr init;
	struct udq *q;

	if (nudqs == F_MAX_QPS || ud_next_slot + depth > UD_SLOTS ||
	    room + UD_GAP > UD_SLOT) {
		f_fail("%s: no room for it in the injector", name);
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q || !(q->owed = calloc(UD_OWED, sizeof(*q->owed)))) {
		free(q);
		f_fail("%s: out of memory", name);
		return NULL;
	}
	q->name = name;
	q->qkey = qkey;
	q->depth = depth;
	q->room = room;
	q->slot0 = ud_next_slot;
	q->nslots = depth;
	q->repost = true;
	q->state = IBV_QPS_RESET;
	ud_next_slot += depth;
	q->cq = ibv_create_cq(ctx, 2 * depth + 16, NULL, NULL, 0);
	memset(&init, 0, sizeof(init));
	init.send_cq = init.recv_cq = q->cq;
	init.qp_type = IBV_QPT_UD;
	init.cap.max_send_wr = 4;
	init.cap.max_recv_wr = depth;
	init.cap.max_send_sge = 1;
	init.cap.max_recv_sge = 2;
	q->qp = q->cq ? ibv_create_qp(pd, &init) : NULL;
	if (!q->qp) {
		f_fail("%s: cannot create a UD QP: %s", name, strerror(errno));
		udq_free(q);
		return NULL;
	}
	udqs[nudqs++] = q;
	if (udq_bring(q, to)) {
		udq_free(q);
		return NULL;
	}
	return q;
}

static int udq_attach(struct udq *q, int i, uint32_t group, bool on)
{
	union ibv_gid g;
	int err;

	memset(&g, 0, sizeof(g));
	g.raw[10] = g.raw[11] = 0xff;
	memcpy(g.raw + 12, &group, 4);
	err = on ? ibv_attach_mcast(q->qp, &g, 0) :
		   ibv_detach_mcast(q->qp, &g, 0);
	if (err) {
		f_fail("%s: ibv_%s_mcast: %s", q->name, on ? "attach" : "detach",
		       strerror(err));
		return -1;
	}
	q->group[i] = on ? group : 0;
	return 0;
}

/* ------------------------------------------------------- the packets */

/*
 * A payload length: mostly up to the MTU, sometimes around or past it
 * (to a group, no further than the netdev carries: the raw socket sends
 * a group's packets out on it too).
 */
static unsigned int f_plen(void)
{
	unsigned int max = IN_MULTICAST(ntohl(tx_daddr)) ? port_mtu + 64 :
			   MAX_UDP - 128;

	switch (rnd_below(8)) {
	case 0:
		return port_mtu - 3 + rnd_below(8);
	case 1:
		return port_mtu + rnd_below(max - port_mtu);
	default:
		return rnd_below(port_mtu + 1);
	}
}

/*
 * A packet of @opcode at QPN @dqpn with DETH-sized random headers: the
 * wire layer's headers for the opcode with random fields (@qkey in the
 * DETH half the time), or a BTH (any pad count) followed by random bytes
 * where a DETH and an immediate would be (@qkey where the DETH's would
 * be, half the time) and a random payload.
 */
static void f_random(uint8_t opcode, uint32_t dqpn, uint32_t qkey)
{
	const struct sroce_opcode_info *op = sroce_opcode_info(opcode);
	unsigned int n, plen;
	struct sroce_pkt k;
	int len;

	rnd_bth(&k, opcode, dqpn, (uint32_t)rnd());
	if (rnd_below(2))
		k.deth.qkey = qkey;
	k.deth.sqpn = rnd_sqpn();
	if (op && rnd_below(2)) {
		plen = op->flags & SROCE_OP_PAYLOAD ? f_plen() : 0;
		len = build(&k, plen);
		if (len < 0)
			return;
		switch (rnd_below(8)) {
		case 0:		/* junk after the packet */
			fill_random(bthp + len - SROCE_ICRC_LEN, 8);
			len += rnd_below(8) + 1;
			break;
		case 1:		/* any pad count */
			bthp[1] = (bthp[1] & ~0x30) | rnd_below(4) << 4;
			break;
		default:
			break;
		}
		f_send(len, true);
		return;
	}
	k.bth.pad = rnd_below(4);
	sroce_bth_pack(bthp, &k.bth);
	fill_random(bthp + SROCE_BTH_LEN, SROCE_DETH_LEN + SROCE_IMMDT_LEN);
	if (rnd_below(2))
		put32(bthp + SROCE_BTH_LEN, qkey);
	n = SROCE_BTH_LEN + SROCE_DETH_LEN +
	    (rnd_below(2) ? SROCE_IMMDT_LEN : 0);
	plen = rnd_below(4) ? 4 * rnd_below(port_mtu / 4 + 2) :
			      rnd_below(port_mtu + 8);
	fill_random(bthp + n, plen);
	f_send(n + plen + SROCE_ICRC_LEN, true);
}

/* ------------------------------------------------------------ the tests */

/* Forged datagrams with the right Q_Key land as sent. */
static void f_control(struct udq *m)
{
	static const char *const what[] = {
		"the control UD SEND ONLY", "the control UD SEND ONLY with immediate",
	};
	int i, before;

	for (i = 0; i < 2; i++) {
		uint64_t landed = m->landed;
		char ip[2][INET_ADDRSTRLEN];
		uint32_t sqpn;
		int len;

		before = failures;
		f_what = what[i];
		len = ud_build(i, m->qp->qp_num, m->qkey, 64 + 36 * i);
		sqpn = get24(bthp + SROCE_BTH_LEN + 5);
		f_send(len, true);
		udq_settle(m);
		inet_ntop(AF_INET, txbuf + 12, ip[0], sizeof(ip[0]));
		inet_ntop(AF_INET, txbuf + 16, ip[1], sizeof(ip[1]));
		if (failures == before && m->landed == landed + 2)
			printf("ok: f: control: %s (%d payload bytes, Q_Key %#x, source QPN %#x) landed in the oldest posted receive: byte_len %d, IBV_WC_GRH, src_qp, %sthe 40-byte network header (20 zero bytes and the IPv4 header sent, %s to %s) and the payload exact\n",
			       what[i], 64 + 36 * i, m->qkey, sqpn,
			       GRH_LEN + 64 + 36 * i, i ? "the immediate, " : "",
			       ip[0], ip[1]);
		else
			f_fail("control: %s did not land as sent: the injector does not reach UD QPs, or the datagram is not received as it should be",
			       what[i]);
	}
}

/* Wrong Q_Keys: dropped, counted, and no receive spent. */
static void f_qkey(struct udq *m, unsigned int n)
{
	uint64_t before = ctr("rx_qkey_violations"), landed = m->landed;
	uint64_t start = sent_total;
	unsigned int i;

	f_what = "a datagram with a wrong Q_Key";
	for (i = 0; i < n; i++) {
		uint32_t qk;

		switch (rnd_below(6)) {
		case 0:
			qk = m->qkey ^ 1u << rnd_below(32);
			break;
		case 1:
			qk = 0;
			break;
		case 2:
			qk = GSI_QKEY;
			break;
		case 3:		/* the high bit is the sender's business */
			qk = m->qkey | 0x80000000u;
			break;
		case 4:
			qk = ~m->qkey;
			break;
		default:
			qk = (uint32_t)rnd();
			if (qk == m->qkey)
				qk++;
			break;
		}
		f_room();
		f_send(ud_build(rnd_below(2), m->qp->qp_num, qk,
				rnd_below(port_mtu + 1)), true);
	}
	udq_settle(m);
	ctr_expect("rx_qkey_violations", before, n, n,
		   "datagrams with a wrong Q_Key at the UD QP");
	if (m->landed == landed + 1 && !m->lost)
		printf("ok: f: %llu datagrams with a wrong Q_Key: none landed, the marker after them took the oldest posted receive\n",
		       (unsigned long long)(sent_total - start - 1));
}

/* Larger than the receive: dropped, counted; larger than the MTU: seen. */
static void f_big(struct udq *m, struct udq *b, unsigned int n)
{
	uint64_t before = ctr("rx_ud_dropped"), landed = m->landed;
	uint64_t may0 = b->may_landed, mayd0 = b->may_dropped;
	unsigned int i, cap = b->room - GRH_LEN, over = 0, bigger = 0;

	f_what = "a datagram larger than the receive";
	for (i = 0; i < n; i++) {
		unsigned int plen = m->room - GRH_LEN + 1;

		plen += rnd_below(2) ? rnd_below(4) :
			rnd_below(MAX_UDP - 128 - plen);
		f_room();
		f_send(ud_build(rnd_below(2), m->qp->qp_num, m->qkey, plen),
		       true);
	}
	udq_settle(m);
	ctr_expect("rx_ud_dropped", before, n, n,
		   "datagrams larger than the UD QP's receives");
	if (m->landed == landed + 1 && !m->lost)
		printf("ok: f: %u datagrams of %u to %u payload bytes, more than the receives hold (%u after the network header): none landed, the marker took the oldest posted receive\n",
		       n, m->room - GRH_LEN + 1, MAX_UDP - 128,
		       m->room - GRH_LEN);

	/* @b's receives take more than the MTU */
	before = ctr("rx_ud_dropped");
	for (i = 0; i < n; i++) {
		unsigned int plen;

		switch (i % 4) {
		case 0:
			plen = port_mtu + 1;
			break;
		case 1:
			plen = port_mtu + 1 + rnd_below(cap - port_mtu);
			break;
		case 2:
			plen = cap;
			break;
		default:
			plen = cap + 1;
			break;
		}
		over += plen <= cap;
		bigger += plen > cap;
		f_what = plen <= cap ? "a datagram larger than the MTU that fits the receive" :
				       "a datagram larger than the MTU and the receive";
		f_room();
		f_send(ud_build(rnd_below(2), b->qp->qp_num, b->qkey, plen),
		       true);
	}
	udq_settle(b);
	ctr_expect("rx_ud_dropped", before, bigger,
		   bigger + (b->may_dropped - mayd0),
		   "datagrams larger than the MTU");
	printf("note: f: %u datagrams of %u to %u payload bytes, larger than the active MTU (%u) and within the receive: %llu landed intact, %llu dropped\n",
	       over, port_mtu + 1, cap, port_mtu,
	       (unsigned long long)(b->may_landed - may0),
	       (unsigned long long)(b->may_dropped - mayd0));
}

/* RC packets at the UD QP, datagrams at RC QPs: dropped and counted. */
static void f_cross(struct udq *m, unsigned int n)
{
	static const uint8_t rc_ops[] = {
		SROCE_RC_SEND_ONLY, SROCE_RC_SEND_ONLY_IMM, SROCE_RC_SEND_FIRST,
		SROCE_RC_SEND_LAST, SROCE_RC_WRITE_ONLY, SROCE_RC_WRITE_ONLY_IMM,
		SROCE_RC_READ_REQUEST, SROCE_RC_FETCH_ADD,
		SROCE_RC_COMPARE_SWAP, SROCE_RC_ACKNOWLEDGE,
		SROCE_RC_ATOMIC_ACKNOWLEDGE, SROCE_RC_READ_RESPONSE_ONLY,
		SROCE_RC_SEND_ONLY_INV,
	};
	uint64_t before = ctr("rx_qp_not_ready"), landed = m->landed;
	uint32_t epsn, epsn2, sq, sq2;
	struct sroce_pkt k;
	struct ibv_wc wc;
	uint8_t want[48];
	struct pair p;
	unsigned int i;
	int len, sa, sb;

	f_what = "an RC packet at the UD QP";
	for (i = 0; i < n; i++) {
		uint8_t op = rc_ops[rnd_below(sizeof(rc_ops))];

		rnd_bth(&k, op, m->qp->qp_num, (uint32_t)rnd());
		k.bth.tver = 0;
		k.bth.pkey = 0xffff;
		k.reth.va = (uintptr_t)rw;
		k.reth.rkey = mr_rw->rkey;
		k.reth.dma_len = 64;
		k.atmeth.va = (uintptr_t)rw;
		k.atmeth.rkey = mr_rw->rkey;
		len = build(&k, sroce_opcode_info(op)->flags & SROCE_OP_PAYLOAD ?
			    rnd_below(port_mtu + 1) : 0);
		f_room();
		if (len >= 0)
			f_send(len, true);
	}
	udq_settle(m);
	ctr_expect("rx_qp_not_ready", before, n, n, "RC packets at the UD QP");
	if (m->landed == landed + 1 && !m->lost)
		printf("ok: f: %u RC packets (SEND, WRITE, READ, atomics, responses) at the UD QP: none landed\n",
		       n);

	if (pair_create(&p, 1024)) {
		f_fail("cannot create an RC QP pair");
		return;
	}
	qp_query(p.b, &epsn, &sq);
	qp_query(p.a, NULL, &sq2);
	before = ctr("rx_ud_dropped");
	f_what = "a datagram at an RC QP";
	for (i = 0; i < n; i++) {
		f_room();
		f_send(ud_build(rnd_below(2),
				rnd_below(2) ? p.b->qp_num : p.a->qp_num,
				rnd_below(2) ? m->qkey : (uint32_t)rnd(),
				rnd_below(port_mtu + 1)), true);
	}
	udq_settle(m);		/* all of them were taken in turn before */
	ctr_expect("rx_ud_dropped", before, n, n, "datagrams at RC QPs");
	pair_service(&p, &sa, &sb);
	qp_query(p.b, &epsn2, NULL);
	check(sa == IBV_QPS_RTS && sb == IBV_QPS_RTS && epsn2 == epsn &&
	      !p.recvs,
	      "f: after %u datagrams at an RC pair: A %s, B %s, B's expected PSN %#x (was %#x), %llu receives completed",
	      n, state_str(sa), state_str(sb), epsn2, epsn,
	      (unsigned long long)p.recvs);
	/* B's first receive is still the first: an RC SEND lands in it */
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
	check(wc.status == IBV_WC_SUCCESS && wc.wr_id == 32 &&
	      wc.byte_len == sizeof(want) &&
	      !memcmp(rw + RECV_OFF + 32 * RECV_LEN, want, sizeof(want)),
	      "f: after the datagrams, an RC SEND at B's expected PSN: %s, wr_id %llu (want 32), %u bytes",
	      wc_str(wc.status), (unsigned long long)wc.wr_id, wc.byte_len);
	if (wc.status == IBV_WC_SUCCESS && wc.wr_id == 32)
		printf("ok: f: %u datagrams at an RC pair: dropped, both QPs in RTS, no PSN moved, and an RC SEND then took B's first receive\n",
		       n);
	pair_destroy(&p);
}

/* Datagrams at UD QPs in every state. */
static void f_states(unsigned int per)
{
	static const enum ibv_qp_state states[] = {
		IBV_QPS_RESET, IBV_QPS_INIT, IBV_QPS_RTR, IBV_QPS_SQD,
		IBV_QPS_ERR,
	};
	static const char *const names[] = {
		"the UD QP in RESET", "the UD QP in INIT", "the UD QP in RTR",
		"the UD QP in SQD", "the UD QP in ERR",
	};
	static const char *const whats[] = {
		"a datagram to a UD QP in RESET",
		"a datagram to a UD QP in INIT",
		"a datagram to a UD QP in RTR",
		"a datagram to a UD QP in SQD",
		"a datagram to a UD QP in ERR",
	};
	struct udq *q[5] = { 0 };
	uint64_t before, landed;
	unsigned int i, r;
	int s, fails = failures;

	for (s = 0; s < 5; s++) {
		q[s] = udq_new(names[s], F_QKEY, 8, GRH_LEN + port_mtu,
			       states[s]);
		if (!q[s])
			goto out;
	}
	check(q[4]->flushed == 8,
	      "f: %s: %llu of its 8 receives flushed", q[4]->name,
	      (unsigned long long)q[4]->flushed);
	before = ctr("rx_qp_not_ready");
	for (r = 0; r < per; r++)
		for (s = 0; s < 5; s++) {
			f_what = whats[s];
			f_room();
			f_send(ud_build(rnd_below(2), q[s]->qp->qp_num, F_QKEY,
					rnd_below(port_mtu + 1)), true);
		}
	for (s = 0; s < 5; s++)
		udq_settle(q[s]);	/* RTR's and SQD's fence the rest */
	ctr_expect("rx_qp_not_ready", before, 3 * per, 3 * per,
		   "datagrams to UD QPs in RESET, INIT and ERR");
	for (s = 0; s < 5; s++) {
		int st = qp_query(q[s]->qp, NULL, NULL);

		if (st != (int)states[s])
			f_fail("%s is in %s after %u datagrams", q[s]->name,
			       state_str(st), per);
	}
	/* the others take their first good datagram in their first receive */
	for (i = 0; i < 5; i++) {
		if (states[i] != IBV_QPS_RESET && states[i] != IBV_QPS_INIT &&
		    states[i] != IBV_QPS_ERR)
			continue;
		f_what = whats[i];
		if (udq_bring(q[i], IBV_QPS_RTS))
			continue;
		landed = q[i]->landed;
		udq_settle(q[i]);
		if (q[i]->landed != landed + 1)
			f_fail("%s, once in RTS, did not take the marker in its first receive",
			       q[i]->name);
	}
	if (failures == fails)
		printf("ok: f: %u datagrams to each of 5 UD QPs: all landed at the QPs in RTR and SQD, none at those in RESET, INIT and ERR, none changed a state, and once in RTS each of these took a datagram in its first receive\n",
		       per);
out:
	for (s = 0; s < 5; s++)
		udq_free(q[s]);
}

/* Destination QPN 0xFFFFFF, unicast and to groups. */
static void f_mcast(struct udq *m, unsigned int n, unsigned int rounds)
{
	static const char *const whats[] = {
		"a datagram to QPN 0xFFFFFF at 239.255.70.1",
		"a datagram to QPN 0xFFFFFF at 239.255.70.2",
		"a datagram with a wrong Q_Key to QPN 0xFFFFFF at a group",
		"a datagram to QPN 0xFFFFFF at the unicast address",
		"a datagram to QPN 0xFFFFFF at 239.255.70.3 (no QP attached)",
	};
	uint32_t g1 = inet_addr("239.255.70.1"), g2 = inet_addr("239.255.70.2");
	uint32_t g3 = inet_addr("239.255.70.3");
	uint64_t qk0, unk0, la, lb, lm, may0;

	unsigned int i, nq = 0, nu = 0, op;
	struct udq *a, *b;
	struct ip_mreq mr;
	int sock = -1, before, len;

	a = udq_new("the UD QP attached to 239.255.70.1", F_QKEY, 16,
		    GRH_LEN + port_mtu, IBV_QPS_RTS);
	b = !a ? NULL : udq_new("the UD QP attached to 239.255.70.2", F_QKEY, 16,
		    GRH_LEN + port_mtu, IBV_QPS_RTS);
	/* a socket keeps the netdev in groups 1 and 3 whatever the QPs do */
	if (!a || !b)
		goto out;
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (sock < 0) {
		f_fail("socket: %s", strerror(errno));
		goto out;
	}
	mr.imr_interface.s_addr = local_ip;
	mr.imr_multiaddr.s_addr = g1;
	if (setsockopt(sock, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		f_fail("cannot join 239.255.70.1 with a socket: %s", strerror(errno));
	mr.imr_multiaddr.s_addr = g3;
	if (setsockopt(sock, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		f_fail("cannot join 239.255.70.3 with a socket: %s", strerror(errno));
	if (udq_attach(a, 0, g1, true) || udq_attach(b, 0, g2, true))
		goto out;

	/* control: one datagram to group 1 lands at a, and nowhere else */
	before = failures;
	la = a->landed;
	lb = b->landed;
	lm = m->landed;
	f_what = whats[0];
	set_daddr(g1);
	f_send(ud_build(false, MCAST_QPN, F_QKEY, 100), true);
	set_daddr(local_ip);
	f_settle_all();
	if (failures == before && a->landed == la + 2 && b->landed == lb + 1 &&
	    m->landed == lm + 1)
		printf("ok: f: control: a datagram to QPN 0xFFFFFF at 239.255.70.1 landed as sent (network header destination 239.255.70.1) at the QP attached to that group, and at no other\n");
	else
		f_fail("control: a datagram to QPN 0xFFFFFF at 239.255.70.1 did not land (only) at the QP attached to the group");

	before = failures;
	qk0 = ctr("rx_qkey_violations");
	unk0 = ctr("rx_unknown_qp");
	for (i = 0; i < n; i++) {
		uint32_t qk = F_QKEY;

		f_room();
		switch (i % 5) {
		case 0:
			set_daddr(g1);
			break;
		case 1:
			set_daddr(g2);
			break;
		case 2:
			set_daddr(rnd_below(2) ? g1 : g2);
			qk = rnd_below(2) ? (uint32_t)rnd() : GSI_QKEY;
			nq++;
			break;
		case 3:
			set_daddr(local_ip);
			nu++;
			break;
		default:
			set_daddr(g3);
			nu++;
			break;
		}
		f_what = whats[i % 5];
		f_send(ud_build(rnd_below(2), MCAST_QPN, qk,
				rnd_below(port_mtu + 1)), true);
	}
	set_daddr(local_ip);
	f_settle_all();
	ctr_expect("rx_qkey_violations", qk0, nq, nq,
		   "datagrams to a group with a wrong Q_Key");
	ctr_expect("rx_unknown_qp", unk0, nu, nu,
		   "datagrams to QPN 0xFFFFFF at the unicast address and at a group no QP attached to");

	/* every opcode at the groups */
	f_what = "a random packet to QPN 0xFFFFFF at a group";
	for (i = 0; i < rounds; i++)
		for (op = 0; op < 256; op++) {
			f_room();
			set_daddr(rnd_below(2) ? g1 : g2);
			f_random(op, MCAST_QPN, F_QKEY);
			set_daddr(local_ip);
		}
	f_settle_all();
	if (failures == before)
		printf("ok: f: %u datagrams to QPN 0xFFFFFF, and %u packets of every opcode to the groups: those to a group with its Q_Key landed as sent at the QP attached to it, and only those\n",
		       n, 256 * rounds);

	/* a's own QPN at its group's address: either is acceptable */
	may0 = a->may_landed;
	f_what = "a datagram to the QP's own QPN at its group's address";
	set_daddr(g1);
	len = ud_build(false, a->qp->qp_num, F_QKEY, 32);
	if (!xmit(len, true, rnd_sport()))
		ud_expect(a, len, true, true);
	set_daddr(local_ip);
	udq_settle(a);
	printf("note: f: a datagram to a QP's own QPN (not 0xFFFFFF) at the address of the group it is attached to %s\n",
	       a->may_landed > may0 ? "landed at the QP, as sent" :
				      "was dropped");

	/* after the detach, group 1 reaches nobody */
	if (udq_attach(a, 0, g1, false))
		goto out;
	unk0 = ctr("rx_unknown_qp");
	f_what = "a datagram to QPN 0xFFFFFF at 239.255.70.1 after the detach";
	set_daddr(g1);
	for (i = 0; i < n / 4; i++)
		f_send(ud_build(rnd_below(2), MCAST_QPN, F_QKEY,
				rnd_below(port_mtu + 1)), true);
	set_daddr(local_ip);
	f_settle_all();
	ctr_expect("rx_unknown_qp", unk0, n / 4, n / 4,
		   "datagrams to a group after its only QP detached");
out:
	set_daddr(local_ip);
	if (sock >= 0)
		close(sock);
	udq_free(a);
	udq_free(b);
}

/* Every opcode at the UD QP and at QP1, and more datagrams at the UD QP. */
static void f_opcodes(struct udq *m, unsigned int rounds)
{
	uint64_t start = sent_total, landed = m->landed;
	unsigned int r, op, i;
	int before = failures;

	for (r = 0; r < rounds; r++) {
		for (op = 0; op < 256; op++) {
			f_what = "a random packet at the UD QP";
			f_room();
			f_random(op, m->qp->qp_num, m->qkey);
			f_what = "a random packet at QP1";
			f_random(op, 1, GSI_QKEY);
		}
		f_what = "a random datagram at the UD QP";
		for (i = 0; i < 64; i++) {
			f_room();
			f_random(SROCE_UD_SEND_ONLY + rnd_below(2),
				 m->qp->qp_num, m->qkey);
		}
	}
	udq_settle(m);
	if (failures == before)
		printf("ok: f: %llu packets of every opcode with DETH-sized random headers at the UD QP and at QP1: the %llu that had to land at the UD QP landed as sent, in order, and nothing else\n",
		       (unsigned long long)(sent_total - start),
		       (unsigned long long)(m->landed - landed));
}

/*
 * Truncations inside BTH+DETH(+IMMDT), with and without an ICRC, and
 * payloads of 0..7 bytes followed by 0..3 bytes with every pad count.
 */
static void f_trunc(uint32_t dqpn, uint32_t qkey)
{
	static const uint8_t ops[] = {
		SROCE_UD_SEND_ONLY, SROCE_UD_SEND_ONLY_IMM,
	};
	uint8_t full[64];
	unsigned int i, hdr, cut, plen, extra, pad;
	struct sroce_pkt k;
	int len;

	for (i = 0; i < sizeof(ops); i++) {
		rnd_bth(&k, ops[i], dqpn, (uint32_t)rnd());
		k.bth.tver = 0;
		k.bth.pkey = 0xffff;
		k.deth.qkey = qkey;
		k.deth.sqpn = rnd_sqpn();
		len = build(&k, 0);
		if (len < 0)
			continue;
		hdr = len - SROCE_ICRC_LEN;
		memcpy(full, bthp, hdr);
		f_what = "a truncated datagram";
		for (cut = 0; cut <= hdr; cut++) {
			f_room();
			memcpy(bthp, full, cut);
			f_send(cut + SROCE_ICRC_LEN, true);
			memcpy(bthp, full, cut);
			f_send(cut, false);
		}
		f_what = "a datagram with a wrong pad or length";
		for (plen = 0; plen < 8; plen++)
			for (extra = 0; extra < 4; extra++)
				for (pad = 0; pad < 4; pad++) {
					f_room();
					len = build(&k, plen);
					memset(bthp + hdr + plen, 0, extra);
					bthp[1] = (bthp[1] & ~0x30) | pad << 4;
					f_send(hdr + plen + extra + SROCE_ICRC_LEN,
					       true);
				}
	}
}

/* Garbage MADs at QP1 with the CM's Q_Key. */
static void f_gsi(uint64_t n)
{
	static const uint8_t classes[] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x07, 0x07, 0x07,
		0x0a, 0x10, 0x21, 0x30, 0x81,
	};
	static const uint8_t methods[] = {
		0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x12, 0x13, 0x14, 0x81,
		0x82, 0x86, 0x92, 0x93, 0x95,
	};
	uint64_t i;

	f_what = "a garbage MAD at QP1";
	for (i = 0; i < n; i++) {
		bool imm = !rnd_below(16);
		unsigned int kind = rnd_below(4), plen;
		uint8_t *p, cls;
		int len;

		plen = kind ? 256 : rnd_below(320);
		len = ud_build(imm, 1, rnd_below(16) ? GSI_QKEY : (uint32_t)rnd(),
			       plen);
		if (len < 0)
			continue;
		p = bthp + SROCE_BTH_LEN + SROCE_DETH_LEN +
		    (imm ? SROCE_IMMDT_LEN : 0);
		if (!rnd_below(16))	/* from "QP1": answers go to QP1 */
			put32(bthp + SROCE_BTH_LEN + 4, 1);
		if (kind) {
			/* a MAD header: base version, class, version, method */
			cls = kind == 1 ? 0x07 : classes[rnd_below(sizeof(classes))];
			p[0] = rnd_below(8) ? 1 : (uint8_t)rnd();
			p[1] = rnd_below(16) ? cls : (uint8_t)rnd();
			p[2] = cls == 0x07 ? 2 : rnd_below(4);
			p[3] = rnd_below(8) ? methods[rnd_below(sizeof(methods))] :
					      (uint8_t)rnd();
			if (rnd_below(4))
				p[4] = p[5] = 0;	/* status */
			if (cls == 0x07 && rnd_below(8))	/* a CM attribute */
				put16(p + 16, 0x0010 + rnd_below(11));
		}
		f_send(len, true);
	}
}

/*
 * The UD QP's receive queue holds exactly the receives posted and not
 * completed: as many good datagrams land, and one more finds none.
 */
static void f_final(struct udq *m)
{
	uint64_t out, i, before;
	double end;
	int len;

	f_what = "a good datagram after the campaign";
	udq_settle(m);
	m->repost = false;
	out = m->posted - m->completed;
	for (i = 0; i < out; i++)
		f_send(ud_build(rnd_below(2), m->qp->qp_num, m->qkey,
				rnd_below(port_mtu + 1)), true);
	end = now() + 5;
	while (m->nowed && now() < end)
		if (!udq_poll(m))
			usleep(50);
	if (m->nowed)
		f_fail("%s: of %llu good datagrams, one for each receive posted and not completed, %u did not land within 5 s",
		       m->name, (unsigned long long)out, m->nowed);
	m->nowed = 0;
	before = ctr("rx_ud_dropped");
	f_what = "a datagram when no receive is posted";
	len = ud_build(false, m->qp->qp_num, m->qkey, 8);
	xmit(len, true, rnd_sport());
	end = now() + 2;
	while (before != NO_CTR && ctr("rx_ud_dropped") == before &&
	       now() < end)
		usleep(1000);
	udq_poll(m);
	ctr_expect("rx_ud_dropped", before, 1, 1,
		   "a datagram with no receive posted at the UD QP");
	if (m->completed == m->posted && !m->lost && !m->unexpected)
		printf("ok: f: the UD QP's receive queue: %llu receives posted, %llu completed by the datagrams owed (%llu of them taken by good datagrams at the end, and one more found none): none lost to a drop\n",
		       (unsigned long long)m->posted,
		       (unsigned long long)m->completed,
		       (unsigned long long)out);
	else
		f_fail("%s: %llu receives posted, %llu completed, %llu datagrams owed did not land, %llu landed unexpectedly",
		       m->name, (unsigned long long)m->posted,
		       (unsigned long long)m->completed,
		       (unsigned long long)m->lost,
		       (unsigned long long)m->unexpected);
}

/* What the garbage MADs at QP1 make the device count. */
#define F_NSEEN	5
static const char *const f_seen[F_NSEEN] = {
	"rx_packets", "rx_ud_dropped", "rx_qkey_violations",
	"rx_qp_queue_full", "tx_packets",
};

/* Wait (up to 10 s) until the device sends nothing for 300 ms. */
static void f_quiet(void)
{
	double end = now() + 10, since = now();
	uint64_t tx = ctr("tx_packets"), v;

	while (now() < end && now() < since + 0.3) {
		usleep(20000);
		v = ctr("tx_packets");
		if (v != tx) {
			tx = v;
			since = now();
		}
	}
}

static void campaign_f(int sc)
{
	struct in_addr ifa = { local_ip };
	cpu_set_t old, one;
	struct ibv_port_attr pa;
	uint64_t start = sent_total, t, ctl = 0, ops = 0, trunc = 0, gsi = 0;
	uint64_t seen[F_NSEEN];
	struct udq *m, *big;
	unsigned int r;
	int pinned, before;

	/* one CPU: the loopback delivers in the order packets are sent */
	pinned = !sched_getaffinity(0, sizeof(old), &old);
	if (pinned) {
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		pinned = !sched_setaffinity(0, sizeof(one), &one);
	}
	if (!pinned)
		printf("note: f: cannot stay on one CPU: %s\n", strerror(errno));
	if (ibv_query_port(ctx, 1, &pa)) {
		f_fail("ibv_query_port: %s", strerror(errno));
		return;
	}
	port_mtu = 128u << pa.active_mtu;
	if (setsockopt(raw_fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)))
		printf("note: f: IP_MULTICAST_IF: %s\n", strerror(errno));
	ud_next_slot = 0;
	m = udq_new("the UD QP", F_QKEY, 64, GRH_LEN + port_mtu,
		    IBV_QPS_RTS);
	r = GRH_LEN + 3 * port_mtu;
	if (r > UD_SLOT - UD_GAP - 64)
		r = UD_SLOT - UD_GAP - 64;
	big = udq_new("the UD QP with receives larger than the MTU", F_QKEY,
		      8, r, IBV_QPS_RTS);
	if (!m || !big)
		goto out;

	f_control(m);
	t = sent_total;
	f_qkey(m, 64 * sc);
	f_big(m, big, 32 * sc);
	f_cross(m, 64 * sc);
	f_states(24 * sc);
	f_mcast(m, 60 * sc, sc);
	ctl = sent_total - t;
	t = sent_total;
	f_opcodes(m, 12 * sc);
	ops = sent_total - t;
	t = sent_total;
	before = failures;
	for (r = 0; r < 2u * sc; r++) {
		f_trunc(m->qp->qp_num, m->qkey);
		f_trunc(1, GSI_QKEY);
	}
	udq_settle(m);
	trunc = sent_total - t;
	if (failures == before)
		printf("ok: f: %llu truncated (inside BTH+DETH(+IMMDT), with and without an ICRC) and mis-padded datagrams at the UD QP and at QP1: only those the model takes landed, as sent\n",
		       (unsigned long long)trunc);
	for (r = 0; r < F_NSEEN; r++)
		seen[r] = ctr(f_seen[r]);
	gsi = sent_total;
	f_gsi(5000 * sc);
	gsi = sent_total - gsi;
	f_quiet();
	printf("ok: f: %llu garbage MADs at QP1 with Q_Key %#x; meanwhile",
	       (unsigned long long)gsi, GSI_QKEY);
	for (r = 0; r < F_NSEEN; r++) {
		uint64_t v = ctr(f_seen[r]);

		printf(" %s +%lld", f_seen[r], v == NO_CTR || seen[r] == NO_CTR ?
		       -1ll : (long long)(v - seen[r]));
	}
	printf(" (rx_packets: queued to QP1, rx_ud_dropped: no receive free at QP1 or too long, rx_qp_queue_full: QP1's queue full, tx_packets: the MAD layer's and the CM's answers)\n");
	f_settle_all();
	f_final(m);
out:
	udq_free(big);
	udq_free(m);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	camp_sent[5] += sent_total - start;
	printf("inject: campaign f: %llu packets at UD QPs and QP1 (%llu controlled, %llu of every opcode, %llu truncated or mis-padded, %llu garbage MADs at QP1, the rest markers and final datagrams)\n",
	       (unsigned long long)(sent_total - start),
	       (unsigned long long)ctl, (unsigned long long)ops,
	       (unsigned long long)trunc, (unsigned long long)gsi);
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

/* Is campaign @c to run: all do without --only. */
static bool wanted(const char *only, char c)
{
	return !only || strchr(only, c);
}

int main(int argc, char **argv)
{
	uint64_t target;
	struct in_addr ia;
	double t0 = now(), t;
	const char *only = NULL;
	int i, long_mode = 0;

	if (argc < 4 || inet_pton(AF_INET, argv[3], &ia) != 1) {
		fprintf(stderr, "usage: %s <device> <gid index> <IPv4 address> [--long] [--seed N] [--only LETTERS]\n",
			argv[0]);
		return 2;
	}
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--long"))
			long_mode = 1;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 0) | 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
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
	set_daddr(local_ip);
	raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	gid_index = atoi(argv[2]);
	ctx = open_by_name(argv[1]);
	if (ctx)
		dev_index = ibv_get_device_index(ctx->device);
	if (raw_fd < 0 || !ctx || ibv_query_gid(ctx, 1, gid_index, &gid) ||
	    !(pd = ibv_alloc_pd(ctx)) || setup_memory()) {
		printf("FAIL: setup (raw socket, device %s, GID %d, PD, MRs): %s\n",
		       argv[1], gid_index, strerror(errno));
		return 1;
	}

	controls();
	check_memory("after the controls");
	if (wanted(only, 'a')) {
		t = now();
		campaign_a(200 * scale);
		check_memory("after campaign a");
		printf("inject: a took %.1f s\n", now() - t);
	}
	if (wanted(only, 'b')) {
		t = now();
		campaign_b(6 * scale);
		check_memory("after campaign b");
		printf("inject: b took %.1f s\n", now() - t);
	}
	if (wanted(only, 'c')) {
		t = now();
		campaign_c(1500 * scale);
		campaign_c_inv();
		check_memory("after campaign c");
		printf("inject: c took %.1f s\n", now() - t);
	}
	if (wanted(only, 'd')) {
		t = now();
		campaign_d(long_mode ? 3 : 1);
		check_memory("after campaign d");
		printf("inject: d took %.1f s\n", now() - t);
	}
	if (wanted(only, 'e')) {
		t = now();
		campaign_e(1000 * scale);
		check_memory("after campaign e");
		printf("inject: e took %.1f s\n", now() - t);
	}
	if (wanted(only, 'f')) {
		t = now();
		campaign_f(scale);
		check_memory("after campaign f");
		printf("inject: f took %.1f s\n", now() - t);
	}
	/* top up with campaign a until the packet target is reached */
	while (!only && sent_total < target) {
		uint64_t before = sent_total;

		campaign_a((target - sent_total) / 256 + 1);
		if (sent_total == before)
			break;	/* nothing goes out: reported below */
	}
	check_memory("after the top-up");
	fresh_pair();
	check_memory("at the end");

	printf("inject: %llu packets sent (a %llu, b %llu, c %llu, d %llu, e %llu, f %llu), %llu send errors, %llu retries after ENOBUFS, %llu QP pair restarts, %.0f s\n",
	       (unsigned long long)sent_total,
	       (unsigned long long)camp_sent[0], (unsigned long long)camp_sent[1],
	       (unsigned long long)camp_sent[2], (unsigned long long)camp_sent[3],
	       (unsigned long long)camp_sent[4], (unsigned long long)camp_sent[5],
	       (unsigned long long)send_errors,
	       (unsigned long long)send_retries,
	       (unsigned long long)pair_restarts, now() - t0);
	check(send_errors <= sent_total / 100,
	      "%llu packets could not be sent", (unsigned long long)send_errors);
	check(only || sent_total >= target, "only %llu packets sent, wanted %llu",
	      (unsigned long long)sent_total, (unsigned long long)target);
	printf("inject: %d failures\n", failures);
	ibv_dereg_mr(mr_rw);
	ibv_dereg_mr(mr_ro);
	ibv_dereg_mr(mr_lo);
	ibv_dereg_mr(mr_src);
	ibv_dereg_mr(mr_rdst);
	ibv_dereg_mr(mr_ud);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return failures ? 1 : 0;
}
