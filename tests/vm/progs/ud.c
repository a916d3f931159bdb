// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UD QPs on one device, exchanging datagrams between QPs of one process:
 *
 *   data       SEND at sizes from 0 bytes to the port's active MTU, checked
 *              byte for byte, with nothing written past the payload; a
 *              gathered send (several SGEs) into a scattered receive
 *              (GRH and payload in SGEs of their own); SEND_WITH_IMM
 *   completion byte_len = payload + 40, IBV_WC_GRH, src_qp = the sender's
 *              QPN, opcode IBV_WC_RECV, the immediate
 *   GRH image  IPv4 GIDs: 20 zero bytes and the IPv4 header (version 4,
 *              protocol UDP, source and destination addresses); IPv6
 *              GIDs: the IPv6 header (version 6, next header UDP, source
 *              and destination GIDs)
 *   reply      ibv_init_ah_from_wc() on a received datagram gives an AH
 *              (source GID index and destination GID as sent) with which
 *              a reply reaches the sender; ibv_create_ah_from_wc() too
 *   Q_Key      a datagram with another Q_Key than the receiving QP's is
 *              dropped and counted in rx_qkey_violations, the receive WQE
 *              stays; a remote_qkey with the high bit set sends the QP's
 *              own Q_Key instead (a controlled Q_Key, set as root)
 *   drops      a datagram with no receive posted, or longer than the
 *              receive buffer (payload + 40 > buffer), is dropped and
 *              counted in rx_ud_dropped; the posted WQE stays, untouched,
 *              for the next datagram that fits
 *   errors     a send longer than the active MTU completes with
 *              IBV_WC_LOC_LEN_ERR and sends nothing; WRITE, READ,
 *              atomics and the other non-SEND opcodes are refused by
 *              ibv_post_send with EINVAL (in a chain: the WRs before the
 *              bad one are posted, bad_wr points at it)
 *   ibv_wr_*   ibv_wr_send/ibv_wr_send_imm + ibv_wr_set_ud_addr +
 *              ibv_wr_set_sge/_list on a QP of ibv_create_qp_ex()
 *
 * Datagrams go from GID <gid index 2> to GID <gid index> (the same if only
 * one is given), so the GRH's source and destination can be told apart.
 *
 *   ud <device> <gid index> [<gid index 2>]
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BUF		(64 * 1024)
#define GRH		40
#define QKEY_A		0x11111111u
#define QKEY_B		0x22222222u
#define QKEY_CTL	0x80012345u	/* controlled: needs CAP_NET_RAW */
#define HIGH_BIT	0x80000000u
#define CANARY		0xee

struct end {
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;		/* ibv_create_qp_ex() QPs only */
	struct ibv_cq *scq, *rcq;
	uint8_t *sbuf, *rbuf;
	struct ibv_mr *smr, *rmr;
	uint32_t qkey;
	const char *name;
};

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static const char *dev;
static union ibv_gid gid_dst, gid_src;	/* receiver's and sender's GIDs */
static int gidx_dst, gidx_src;
static int mtu, max_sge;
static struct ibv_ah *ah_fwd;		/* gid_src -> gid_dst */
static struct ibv_ah *ah_back;		/* gid_dst -> gid_src */

static int is_ipv4_gid(const union ibv_gid *g)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(g->raw, prefix, sizeof(prefix));
}

/* A pattern of its own per message (@seed) and per byte. */
static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8) + 1);
}

/* The first offset where @p differs from fill(@seed), or -1. */
static long differs(const uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed * 131 + i * 7 + (i >> 8) + 1))
			return (long)i;
	return -1;
}

static int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

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

/* RESET -> INIT (pkey_index 0, port 1, @qkey) -> RTR -> RTS (sq_psn). */
static int ud_to_rts(struct ibv_qp *qp, uint32_t qkey)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .pkey_index = 0, .port_num = 1,
		.qkey = qkey,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_QKEY))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE))
		return -1;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x123456;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

/* A UD QP in RTS with Q_Key @qkey, its CQs and buffers; NULL on failure. */
static struct end *new_end(const char *name, uint32_t qkey, int ex)
{
	struct end *e = calloc(1, sizeof(*e));
	struct ibv_qp_init_attr_ex init = {
		.qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = 64, .max_recv_wr = 64,
			 .max_send_sge = max_sge, .max_recv_sge = max_sge },
		.comp_mask = IBV_QP_INIT_ATTR_PD,
	};

	if (!e)
		return NULL;
	e->name = name;
	e->qkey = qkey;
	e->scq = ibv_create_cq(ctx, 128, NULL, NULL, 0);
	e->rcq = ibv_create_cq(ctx, 128, NULL, NULL, 0);
	e->sbuf = aligned_alloc(4096, BUF);
	e->rbuf = aligned_alloc(4096, BUF);
	if (!e->scq || !e->rcq || !e->sbuf || !e->rbuf) {
		printf("FAIL: %s: CQs or buffers: %s\n", name, strerror(errno));
		return NULL;
	}
	memset(e->rbuf, CANARY, BUF);
	e->smr = ibv_reg_mr(pd, e->sbuf, BUF, 0);
	e->rmr = ibv_reg_mr(pd, e->rbuf, BUF, IBV_ACCESS_LOCAL_WRITE);
	if (!e->smr || !e->rmr) {
		printf("FAIL: %s: ibv_reg_mr: %s\n", name, strerror(errno));
		return NULL;
	}
	init.send_cq = e->scq;
	init.recv_cq = e->rcq;
	init.pd = pd;
	if (ex) {
		init.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
		init.send_ops_flags = IBV_QP_EX_WITH_SEND |
				      IBV_QP_EX_WITH_SEND_WITH_IMM;
		e->qp = ibv_create_qp_ex(ctx, &init);
		if (e->qp)
			e->qpx = ibv_qp_to_qp_ex(e->qp);
	} else {
		struct ibv_qp_init_attr plain = {
			.send_cq = e->scq, .recv_cq = e->rcq,
			.qp_type = IBV_QPT_UD, .cap = init.cap,
		};

		e->qp = ibv_create_qp(pd, &plain);
	}
	if (!e->qp) {
		printf("FAIL: %s: %s(IBV_QPT_UD): %s\n", name,
		       ex ? "ibv_create_qp_ex" : "ibv_create_qp",
		       strerror(errno));
		return NULL;
	}
	if (ud_to_rts(e->qp, qkey)) {
		printf("FAIL: %s: UD QP to RTS with Q_Key %#x: %s\n", name,
		       qkey, strerror(errno));
		return NULL;
	}
	return e;
}

static void free_end(struct end *e)
{
	if (!e)
		return;
	check(!ibv_destroy_qp(e->qp), "%s: ibv_destroy_qp", e->name);
	ibv_dereg_mr(e->smr);
	ibv_dereg_mr(e->rmr);
	ibv_destroy_cq(e->scq);
	ibv_destroy_cq(e->rcq);
	free(e->sbuf);
	free(e->rbuf);
	free(e);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The next completion of @cq within @ms milliseconds: 1, or 0 if none. */
static int wait_wc(struct ibv_cq *cq, int ms, struct ibv_wc *wc)
{
	double end = now() + ms / 1000.0;
	int n;

	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n == 1)
			return 1;
		if (n < 0) {
			printf("FAIL: ibv_poll_cq: %d\n", n);
			return 0;
		}
		usleep(50);
	} while (now() < end);
	return 0;
}

static int post_recv(struct end *e, uint64_t wr_id, uint32_t len)
{
	struct ibv_sge sge = { (uintptr_t)e->rbuf, len, e->rmr->lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge,
				  .num_sge = 1 }, *bad;

	return ibv_post_recv(e->qp, &wr, &bad);
}

/*
 * Post a SEND (or SEND_WITH_IMM, or @op) of @len bytes of @from's send
 * buffer to QP @qpn with @remote_qkey through @ah; returns ibv_post_send's
 * value.
 */
static int post_send_op(struct end *from, struct ibv_ah *ah, uint32_t qpn,
			uint32_t remote_qkey, uint32_t len,
			enum ibv_wr_opcode op, uint32_t imm, uint64_t wr_id)
{
	struct ibv_sge sge = { (uintptr_t)from->sbuf, len, from->smr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = wr_id, .sg_list = &sge, .num_sge = len ? 1 : 0,
		.opcode = op, .send_flags = IBV_SEND_SIGNALED,
		.imm_data = htobe32(imm),
	}, *bad = NULL;

	wr.wr.ud.ah = ah;
	wr.wr.ud.remote_qpn = qpn;
	wr.wr.ud.remote_qkey = remote_qkey;
	return ibv_post_send(from->qp, &wr, &bad);
}

static int post_send(struct end *from, struct end *to, uint32_t remote_qkey,
		     uint32_t len, uint64_t wr_id)
{
	return post_send_op(from, ah_fwd, to->qp->qp_num, remote_qkey, len,
			    IBV_WR_SEND, 0, wr_id);
}

/* The send completion of @wr_id on @e's send CQ, with status @want. */
static int expect_send(struct end *e, uint64_t wr_id,
		       enum ibv_wc_status want, const char *what)
{
	struct ibv_wc wc;

	if (!wait_wc(e->scq, 5000, &wc)) {
		printf("FAIL: %s: no send completion in 5 s\n", what);
		failures++;
		return -1;
	}
	check(wc.wr_id == wr_id && wc.status == want &&
	      (want != IBV_WC_SUCCESS || wc.opcode == IBV_WC_SEND),
	      "%s: send completion wr_id %llu status %s opcode %d, expected "
	      "wr_id %llu %s", what, (unsigned long long)wc.wr_id,
	      ibv_wc_status_str(wc.status), wc.opcode,
	      (unsigned long long)wr_id, ibv_wc_status_str(want));
	return wc.wr_id == wr_id && wc.status == want ? 0 : -1;
}

/* No completion on @cq within @ms milliseconds. */
static int quiet(struct ibv_cq *cq, int ms, const char *what)
{
	struct ibv_wc wc;

	if (!wait_wc(cq, ms, &wc))
		return 0;
	printf("FAIL: %s: unexpected completion wr_id %llu %s byte_len %u\n",
	       what, (unsigned long long)wc.wr_id,
	       ibv_wc_status_str(wc.status), wc.byte_len);
	failures++;
	return -1;
}

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The 40 bytes before a UD payload of @len bytes sent from @src to @dst:
 * an IPv4 header after 20 zero bytes, or an IPv6 header.  The length
 * fields and the IPv4 checksum are noted, not required.
 */
static int check_grh(const uint8_t *g, uint32_t len, int imm,
		     const union ibv_gid *src, const union ibv_gid *dst,
		     const char *what)
{
	/* UDP + BTH + DETH [+ ImmDt] + padded payload + ICRC */
	uint32_t udp = 8 + 12 + 8 + (imm ? 4 : 0) + ((len + 3) & ~3u) + 4;
	int f0 = failures;

	if (is_ipv4_gid(dst)) {
		const uint8_t *ip = g + 20;
		uint32_t sum = 0;
		int i;

		check(all_bytes(g, 20, 0), "%s: GRH bytes 0..19 are not zero "
		      "for an IPv4 GID", what);
		check(ip[0] == 0x45, "%s: IPv4 version/IHL %#x, expected 0x45",
		      what, ip[0]);
		check(ip[9] == 17, "%s: IPv4 protocol %u, expected 17 (UDP)",
		      what, ip[9]);
		check(!memcmp(ip + 12, src->raw + 12, 4),
		      "%s: IPv4 saddr %u.%u.%u.%u, expected %u.%u.%u.%u", what,
		      ip[12], ip[13], ip[14], ip[15], src->raw[12],
		      src->raw[13], src->raw[14], src->raw[15]);
		check(!memcmp(ip + 16, dst->raw + 12, 4),
		      "%s: IPv4 daddr %u.%u.%u.%u, expected %u.%u.%u.%u", what,
		      ip[16], ip[17], ip[18], ip[19], dst->raw[12],
		      dst->raw[13], dst->raw[14], dst->raw[15]);
		for (i = 0; i < 20; i += 2)
			sum += be16_at(ip + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		if (be16_at(ip + 2) != 20 + udp || sum != 0xffff || ip[8] == 0)
			printf("note: %s: IPv4 tot_len %u (on the wire %u), "
			       "checksum %s, ttl %u\n", what, be16_at(ip + 2),
			       20 + udp, sum == 0xffff ? "valid" : "invalid",
			       ip[8]);
	} else {
		check(g[0] >> 4 == 6, "%s: IPv6 version %u, expected 6", what,
		      g[0] >> 4);
		check(g[6] == 17, "%s: IPv6 next header %u, expected 17 (UDP)",
		      what, g[6]);
		check(!memcmp(g + 8, src->raw, 16), "%s: IPv6 source is not "
		      "the sender's GID", what);
		check(!memcmp(g + 24, dst->raw, 16), "%s: IPv6 destination is "
		      "not the receiver's GID", what);
		if (be16_at(g + 4) != udp || g[7] == 0)
			printf("note: %s: IPv6 payload length %u (on the wire "
			       "%u), hop limit %u\n", what, be16_at(g + 4),
			       udp, g[7]);
	}
	return failures == f0 ? 0 : -1;
}

/*
 * The receive completion on @to of a datagram of @len bytes (filled with
 * @seed) from @from into the WQE @wr_id whose buffer starts at @to->rbuf:
 * status, opcode, byte_len, flags, src_qp, immediate, GRH, payload and the
 * canary after it.
 */
static int expect_recv(struct end *to, struct end *from, uint64_t wr_id,
		       uint32_t len, unsigned int seed, int imm, uint32_t immv,
		       const char *what)
{
	int f0 = failures;
	struct ibv_wc wc;
	long off;

	if (!wait_wc(to->rcq, 5000, &wc)) {
		printf("FAIL: %s: no receive completion in 5 s\n", what);
		failures++;
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS || wc.wr_id != wr_id) {
		printf("FAIL: %s: receive completion wr_id %llu status %s "
		       "(vendor_err %u), expected wr_id %llu success\n", what,
		       (unsigned long long)wc.wr_id,
		       ibv_wc_status_str(wc.status), wc.vendor_err,
		       (unsigned long long)wr_id);
		failures++;
		return -1;
	}
	check(wc.opcode == IBV_WC_RECV, "%s: opcode %d, expected IBV_WC_RECV",
	      what, wc.opcode);
	check(wc.byte_len == len + GRH, "%s: byte_len %u, expected %u + 40",
	      what, wc.byte_len, len);
	check(wc.wc_flags & IBV_WC_GRH, "%s: no IBV_WC_GRH in wc_flags %#x",
	      what, wc.wc_flags);
	check(wc.src_qp == from->qp->qp_num, "%s: src_qp %#x, expected %#x",
	      what, wc.src_qp, from->qp->qp_num);
	check(wc.qp_num == to->qp->qp_num, "%s: qp_num %#x, expected %#x",
	      what, wc.qp_num, to->qp->qp_num);
	if (imm)
		check((wc.wc_flags & IBV_WC_WITH_IMM) &&
		      be32toh(wc.imm_data) == immv,
		      "%s: wc_flags %#x imm_data %#x, expected WITH_IMM %#x",
		      what, wc.wc_flags, be32toh(wc.imm_data), immv);
	else
		check(!(wc.wc_flags & IBV_WC_WITH_IMM),
		      "%s: IBV_WC_WITH_IMM on a SEND", what);
	off = differs(to->rbuf + GRH, len, seed);
	check(off < 0, "%s: payload differs at byte %ld of %u (0x%02x there, 0x%02x expected; the buffer's first 8 bytes after the GRH: %02x %02x %02x %02x %02x %02x %02x %02x)",
	      what, off, len, off < 0 ? 0 : to->rbuf[GRH + off],
	      off < 0 ? 0 : (uint8_t)(seed * 131 + off * 7 + (off >> 8) + 1),
	      to->rbuf[GRH], to->rbuf[GRH + 1], to->rbuf[GRH + 2],
	      to->rbuf[GRH + 3], to->rbuf[GRH + 4], to->rbuf[GRH + 5],
	      to->rbuf[GRH + 6], to->rbuf[GRH + 7]);
	check(all_bytes(to->rbuf + GRH + len, 64, CANARY),
	      "%s: bytes written past the payload", what);
	check_grh(to->rbuf, len, imm, &gid_src, &gid_dst, what);
	return failures == f0 ? 0 : -1;
}

/* One datagram @from -> @to of @len bytes, sent and received and checked. */
static int one(struct end *from, struct end *to, uint32_t remote_qkey,
	       uint32_t len, unsigned int seed, int imm, const char *what)
{
	uint32_t immv = 0xc0de0000 | seed;

	memset(to->rbuf, CANARY, len + GRH + 64);
	fill(from->sbuf, len, seed);
	if (post_recv(to, seed, len + GRH + 64)) {
		printf("FAIL: %s: ibv_post_recv: %s\n", what, strerror(errno));
		failures++;
		return -1;
	}
	if (post_send_op(from, ah_fwd, to->qp->qp_num, remote_qkey, len,
			 imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND, immv,
			 1000 + seed)) {
		printf("FAIL: %s: ibv_post_send: %s\n", what, strerror(errno));
		failures++;
		return -1;
	}
	if (expect_send(from, 1000 + seed, IBV_WC_SUCCESS, what))
		return -1;
	return expect_recv(to, from, seed, len, seed, imm, immv, what);
}

static void test_qp_basics(struct end *a)
{
	struct ibv_qp_attr attr;
	struct ibv_qp_init_attr init;

	report(!ibv_query_qp(a->qp, &attr, IBV_QP_STATE | IBV_QP_QKEY |
			     IBV_QP_PORT | IBV_QP_PKEY_INDEX | IBV_QP_SQ_PSN,
			     &init) &&
	       attr.qp_state == IBV_QPS_RTS && attr.qkey == a->qkey &&
	       init.qp_type == IBV_QPT_UD && attr.sq_psn == 0x123456,
	       "UD QP through RESET/INIT/RTR/RTS; ibv_query_qp gives RTS, "
	       "Q_Key %#x, UD", a->qkey);
}

static void test_sizes(struct end *a, struct end *b)
{
	uint32_t sizes[] = { 0, 1, 2, 3, 63, 64, 255, 256, 257, 1000,
			     (uint32_t)mtu / 2 + 1, (uint32_t)mtu - 1,
			     (uint32_t)mtu };
	unsigned int i, ok = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char what[64];

		if (sizes[i] > (uint32_t)mtu)
			continue;
		snprintf(what, sizeof(what), "SEND of %u bytes", sizes[i]);
		ok += !one(a, b, QKEY_B, sizes[i], i + 1, 0, what);
	}
	report(ok == i, "SEND from 0 to %d (the active MTU) bytes: %u sizes "
	       "delivered, data, byte_len, GRH, src_qp checked", mtu, ok);
	report(!one(a, b, QKEY_B, 0, 40, 1, "SEND_WITH_IMM of 0 bytes") &&
	       !one(a, b, QKEY_B, 333, 41, 1, "SEND_WITH_IMM of 333 bytes") &&
	       !one(a, b, QKEY_B, mtu, 42, 1, "SEND_WITH_IMM of the MTU"),
	       "SEND_WITH_IMM: immediate, IBV_WC_WITH_IMM, data");
	/* many in flight */
	{
		int n = 32, j, good = 0;
		struct ibv_wc wc;

		for (j = 0; j < n; j++) {
			struct ibv_sge sge = {
				(uintptr_t)b->rbuf + j * 2048, 2048,
				b->rmr->lkey };
			struct ibv_recv_wr wr = { .wr_id = 500 + j,
				.sg_list = &sge, .num_sge = 1 }, *bad;

			if (ibv_post_recv(b->qp, &wr, &bad))
				break;
		}
		for (j = 0; j < n; j++) {
			fill(a->sbuf + j * 1024, 1000, 100 + j);
			struct ibv_sge sge = {
				(uintptr_t)a->sbuf + j * 1024, 1000,
				a->smr->lkey };
			struct ibv_send_wr wr = {
				.wr_id = 600 + j, .sg_list = &sge, .num_sge = 1,
				.opcode = IBV_WR_SEND,
				.send_flags = IBV_SEND_SIGNALED,
			}, *bad;

			wr.wr.ud.ah = ah_fwd;
			wr.wr.ud.remote_qpn = b->qp->qp_num;
			wr.wr.ud.remote_qkey = QKEY_B;
			if (ibv_post_send(a->qp, &wr, &bad))
				break;
		}
		for (j = 0; j < n; j++)
			if (!wait_wc(a->scq, 5000, &wc) ||
			    wc.status != IBV_WC_SUCCESS || wc.wr_id != 600u + j)
				break;
		for (j = 0; j < n; j++) {
			if (!wait_wc(b->rcq, 5000, &wc) ||
			    wc.status != IBV_WC_SUCCESS ||
			    wc.wr_id != 500u + j || wc.byte_len != 1040 ||
			    differs(b->rbuf + j * 2048 + GRH, 1000, 100 + j) >= 0)
				break;
			good++;
		}
		report(good == n, "%d SENDs of 1000 bytes posted at once: %d "
		       "received in order with their data", n, good);
	}
}

/* Send with 3 SGEs, receive into 2 (the GRH alone, then the payload). */
static void test_sge(struct end *a, struct end *b)
{
	uint32_t len = mtu - 24, part = len / 3;
	struct ibv_sge ss[3] = {
		{ (uintptr_t)a->sbuf, part, a->smr->lkey },
		{ (uintptr_t)a->sbuf + 8192, part, a->smr->lkey },
		{ (uintptr_t)a->sbuf + 16384, len - 2 * part, a->smr->lkey },
	};
	struct ibv_sge rs[2] = {
		{ (uintptr_t)b->rbuf + 4096, GRH, b->rmr->lkey },
		{ (uintptr_t)b->rbuf + 8192, len + 100, b->rmr->lkey },
	};
	struct ibv_send_wr wr = { .wr_id = 7, .sg_list = ss, .num_sge = 3,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_recv_wr rwr = { .wr_id = 8, .sg_list = rs, .num_sge = 2 },
			   *rbad;
	uint8_t *whole = malloc(len);
	struct ibv_wc wc;
	int f0 = failures;

	if (max_sge < 3 || !whole) {
		printf("FAIL: the device offers max_sge %d, 3 needed\n",
		       max_sge);
		failures++;
		free(whole);
		return;
	}
	fill(whole, len, 77);
	memcpy(a->sbuf, whole, part);
	memcpy(a->sbuf + 8192, whole + part, part);
	memcpy(a->sbuf + 16384, whole + 2 * part, len - 2 * part);
	memset(b->rbuf, CANARY, 16384);
	wr.wr.ud.ah = ah_fwd;
	wr.wr.ud.remote_qpn = b->qp->qp_num;
	wr.wr.ud.remote_qkey = QKEY_B;
	check(!ibv_post_recv(b->qp, &rwr, &rbad), "2-SGE ibv_post_recv: %s",
	      strerror(errno));
	check(!ibv_post_send(a->qp, &wr, &bad), "3-SGE ibv_post_send: %s",
	      strerror(errno));
	expect_send(a, 7, IBV_WC_SUCCESS, "3-SGE SEND");
	if (wait_wc(b->rcq, 5000, &wc) && wc.status == IBV_WC_SUCCESS &&
	    wc.wr_id == 8) {
		check(wc.byte_len == len + GRH, "SGE: byte_len %u, expected %u",
		      wc.byte_len, len + GRH);
		check(!memcmp(b->rbuf + 8192, whole, len),
		      "SGE: the scattered payload differs");
		check(all_bytes(b->rbuf + 8192 + len, 100, CANARY),
		      "SGE: written past the payload");
		check(all_bytes(b->rbuf + 4096 + GRH, 4096 - GRH, CANARY),
		      "SGE: written past the 40-byte GRH SGE");
		check_grh(b->rbuf + 4096, len, 0, &gid_src, &gid_dst, "SGE");
	} else {
		printf("FAIL: 2-SGE receive: no good completion\n");
		failures++;
	}
	free(whole);
	report(failures == f0, "a SEND of 3 SGEs (%u bytes) into a receive "
	       "of 2 SGEs: the GRH in the first, the payload in the second",
	       len);
}

/* ibv_init_ah_from_wc() on a received datagram, and a reply with it. */
static void test_reply(struct end *a, struct end *b)
{
	struct ibv_ah_attr attr;
	struct ibv_ah *ah = NULL, *ah2;
	struct ibv_wc wc;
	int f0 = failures;

	memset(b->rbuf, CANARY, 4096);
	fill(a->sbuf, 200, 90);
	check(!post_recv(b, 90, 1024), "post_recv");
	check(!post_send(a, b, QKEY_B, 200, 91), "post_send");
	expect_send(a, 91, IBV_WC_SUCCESS, "request");
	if (!wait_wc(b->rcq, 5000, &wc) || wc.status != IBV_WC_SUCCESS) {
		printf("FAIL: reply: the request did not arrive\n");
		failures++;
		return;
	}
	if (ibv_init_ah_from_wc(ctx, 1, &wc, (struct ibv_grh *)b->rbuf,
				&attr)) {
		printf("FAIL: ibv_init_ah_from_wc: %s\n", strerror(errno));
		failures++;
		return;
	}
	check(attr.is_global && attr.port_num == 1 &&
	      attr.grh.sgid_index == gidx_dst &&
	      !memcmp(attr.grh.dgid.raw, gid_src.raw, 16),
	      "ibv_init_ah_from_wc: is_global %d port %d sgid_index %d "
	      "(expected %d), dgid %s the sender's GID", attr.is_global,
	      attr.port_num, attr.grh.sgid_index, gidx_dst,
	      memcmp(attr.grh.dgid.raw, gid_src.raw, 16) ? "is not" : "is");
	if (attr.grh.hop_limit == 0)
		printf("note: ibv_init_ah_from_wc: hop_limit 0 from the "
		       "received header\n");
	ah = ibv_create_ah(pd, &attr);
	if (!ah) {
		printf("FAIL: ibv_create_ah from the wc: %s\n",
		       strerror(errno));
		failures++;
		return;
	}
	/* the reply, b -> a, from gid_dst to gid_src */
	memset(a->rbuf, CANARY, 4096);
	fill(b->sbuf, 300, 92);
	check(!post_recv(a, 92, 1024), "post_recv");
	check(!post_send_op(b, ah, wc.src_qp, QKEY_A, 300, IBV_WR_SEND, 0, 93),
	      "post_send of the reply: %s", strerror(errno));
	expect_send(b, 93, IBV_WC_SUCCESS, "reply");
	if (wait_wc(a->rcq, 5000, &wc) && wc.status == IBV_WC_SUCCESS &&
	    wc.wr_id == 92) {
		check(wc.src_qp == b->qp->qp_num && wc.byte_len == 340 &&
		      differs(a->rbuf + GRH, 300, 92) < 0,
		      "reply: src_qp %#x byte_len %u or its data wrong",
		      wc.src_qp, wc.byte_len);
		check_grh(a->rbuf, 300, 0, &gid_dst, &gid_src, "reply");
		ah2 = ibv_create_ah_from_wc(pd, &wc, (struct ibv_grh *)a->rbuf,
					    1);
		check(ah2, "ibv_create_ah_from_wc on the reply: %s",
		      strerror(errno));
		if (ah2)
			ibv_destroy_ah(ah2);
	} else {
		printf("FAIL: the reply through ibv_init_ah_from_wc's AH did "
		       "not arrive\n");
		failures++;
	}
	check(!ibv_destroy_ah(ah), "ibv_destroy_ah");
	report(failures == f0, "ibv_init_ah_from_wc on a datagram: its AH "
	       "carries a reply back to the sender's QP");
}

/*
 * A datagram that must be dropped (@bad_qkey with @len bytes from @from),
 * with a receive WQE of @rlen bytes posted (none if 0), then one that fits
 * (@good_qkey, @good_len bytes from @good_from): the drop is counted once
 * in @ctr, the WQE is untouched by the drop and takes the second datagram.
 */
static void dropped(struct end *from, struct end *to, uint32_t bad_qkey,
		    uint32_t len, uint32_t rlen, struct end *good_from,
		    uint32_t good_qkey, uint32_t good_len, const char *ctr,
		    unsigned int seed, const char *what)
{
	long c0 = counter(ctr), c1;
	int f0 = failures;

	if (c0 < 0) {
		printf("FAIL: %s: no port counter %s\n", what, ctr);
		failures++;
		return;
	}
	memset(to->rbuf, CANARY, BUF);
	fill(from->sbuf, len, seed);
	if (rlen)
		check(!post_recv(to, seed, rlen), "%s: post_recv", what);
	check(!post_send(from, to, bad_qkey, len, seed), "%s: post_send: %s",
	      what, strerror(errno));
	/* UD: the sender cannot tell; its send completes successfully */
	expect_send(from, seed, IBV_WC_SUCCESS, what);
	quiet(to->rcq, 300, what);
	check(all_bytes(to->rbuf, BUF, CANARY),
	      "%s: the dropped datagram wrote into the receive buffer", what);
	c1 = counter(ctr);
	if (!rlen)
		check(!post_recv(to, seed, good_len + GRH), "%s: post_recv",
		      what);
	fill(good_from->sbuf, good_len, seed + 1);
	check(!post_send(good_from, to, good_qkey, good_len, seed + 1),
	      "%s: post_send", what);
	expect_send(good_from, seed + 1, IBV_WC_SUCCESS, what);
	if (!expect_recv(to, good_from, seed, good_len, seed + 1, 0, 0, what))
		quiet(to->rcq, 100, what);
	check(c1 - c0 == 1, "%s: %s went from %ld to %ld, expected +1", what,
	      ctr, c0, c1);
	report(failures == f0, "%s: dropped, %s +1%s", what, ctr,
	       rlen ? ", the WQE kept for the next datagram" : "");
}

static void test_qkeys(struct end *a, struct end *b)
{
	struct end *d = new_end("D (controlled Q_Key)", QKEY_CTL, 0);
	struct end *e = new_end("E (controlled Q_Key)", QKEY_CTL, 0);
	struct end *f = new_end("F (B's Q_Key)", QKEY_B, 0);

	dropped(a, b, QKEY_B ^ 0x100, 100, 1024, a, QKEY_B, 100,
		"rx_qkey_violations", 200, "a wrong Q_Key");
	report(d && e, "a QP with a controlled Q_Key (%#x) as root", QKEY_CTL);
	if (!d || !e || !f)
		goto out;
	report(!one(e, d, HIGH_BIT, 100, 210, 0,
		    "remote_qkey 0x80000000 from a QP of the same controlled "
		    "Q_Key") &&
	       !one(e, d, 0xffffffff, 150, 211, 0,
		    "remote_qkey 0xffffffff from a QP of the same controlled "
		    "Q_Key") &&
	       !one(f, b, HIGH_BIT | 0x5555, 120, 212, 1,
		    "remote_qkey 0x80005555 from a QP with B's Q_Key"),
	       "remote_qkey with the high bit set sends the QP's own Q_Key");
	/* A's own Q_Key is not D's: the WR's controlled value is not sent */
	dropped(a, d, QKEY_CTL, 64, 1024, e, HIGH_BIT, 64,
		"rx_qkey_violations", 220,
		"remote_qkey = the receiver's controlled Q_Key from a QP with "
		"another Q_Key");
	dropped(a, b, HIGH_BIT | QKEY_B, 64, 1024, f, HIGH_BIT, 64,
		"rx_qkey_violations", 230,
		"remote_qkey = 0x80000000 | the receiver's Q_Key from a QP "
		"with another Q_Key");
out:
	free_end(d);
	free_end(e);
	free_end(f);
}

static void test_drops(struct end *a, struct end *b)
{
	struct end *c = new_end("C (no receive)", QKEY_B, 0);
	long c0, c1;

	dropped(a, b, QKEY_B, 101, 100 + GRH, a, QKEY_B, 100, "rx_ud_dropped",
		300, "payload + 40 one byte over the receive buffer");
	dropped(a, b, QKEY_B, mtu, 100 + GRH, a, QKEY_B, 99, "rx_ud_dropped",
		310, "an MTU datagram into a 140-byte receive");
	dropped(a, b, QKEY_B, 1, GRH, a, QKEY_B, 0, "rx_ud_dropped", 320,
		"a 1-byte datagram into a 40-byte receive");
	if (!c)
		return;
	dropped(a, c, QKEY_B, 200, 0, a, QKEY_B, 200, "rx_ud_dropped", 330,
		"no receive posted");
	/* several with none posted: each counted, none delivered later */
	c0 = counter("rx_ud_dropped");
	fill(a->sbuf, 50, 340);
	for (int i = 0; i < 5; i++)
		check(!post_send(a, c, QKEY_B, 50, 340 + i), "post_send");
	for (int i = 0; i < 5; i++)
		expect_send(a, 340 + i, IBV_WC_SUCCESS, "5 with no receive");
	quiet(c->rcq, 300, "5 with no receive");
	c1 = counter("rx_ud_dropped");
	report(c1 - c0 == 5, "5 datagrams with no receive posted: "
	       "rx_ud_dropped %ld -> %ld", c0, c1);
	report(!one(a, c, QKEY_B, 60, 350, 0, "after the drops") &&
	       !quiet(c->rcq, 200, "after the drops"),
	       "the QP receives normally after the drops, and only what "
	       "came after its receive was posted");
	free_end(c);
}

static void test_errors(struct end *a, struct end *b)
{
	struct end *s = new_end("S (over-MTU sender)", QKEY_A, 0);
	static const struct { enum ibv_wr_opcode op; const char *name; } ops[] = {
		{ IBV_WR_RDMA_WRITE, "RDMA_WRITE" },
		{ IBV_WR_RDMA_WRITE_WITH_IMM, "RDMA_WRITE_WITH_IMM" },
		{ IBV_WR_RDMA_READ, "RDMA_READ" },
		{ IBV_WR_ATOMIC_CMP_AND_SWP, "ATOMIC_CMP_AND_SWP" },
		{ IBV_WR_ATOMIC_FETCH_AND_ADD, "ATOMIC_FETCH_AND_ADD" },
		{ IBV_WR_SEND_WITH_INV, "SEND_WITH_INV" },
		{ IBV_WR_LOCAL_INV, "LOCAL_INV" },
		{ (enum ibv_wr_opcode)99, "opcode 99" },
	};
	unsigned int i;
	int ok = 0;

	if (s) {
		memset(b->rbuf, CANARY, BUF);
		check(!post_recv(b, 400, mtu + 1 + GRH + 64), "post_recv");
		fill(s->sbuf, mtu + 1, 400);
		check(!post_send(s, b, QKEY_B, mtu + 1, 401),
		      "over-MTU post_send: %s", strerror(errno));
		report(!expect_send(s, 401, IBV_WC_LOC_LEN_ERR,
				    "a SEND of the MTU + 1") &&
		       !quiet(b->rcq, 300, "a SEND of the MTU + 1"),
		       "a SEND of %d bytes (MTU + 1) completes with "
		       "IBV_WC_LOC_LEN_ERR, nothing arrives", mtu + 1);
		/* b's WQE 400 is still posted: let a datagram take it */
		fill(a->sbuf, 10, 402);
		check(!post_send(a, b, QKEY_B, 10, 402), "post_send");
		expect_send(a, 402, IBV_WC_SUCCESS, "after the over-MTU SEND");
		expect_recv(b, a, 400, 10, 402, 0, 0,
			    "after the over-MTU SEND");
		free_end(s);
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct ibv_sge sge = { (uintptr_t)a->sbuf, 8, a->smr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = 410 + i, .sg_list = &sge, .num_sge = 1,
			.opcode = ops[i].op, .send_flags = IBV_SEND_SIGNALED,
		}, *bad = NULL;
		int ret;

		wr.wr.ud.ah = ah_fwd;
		wr.wr.ud.remote_qpn = b->qp->qp_num;
		wr.wr.ud.remote_qkey = QKEY_B;
		ret = ibv_post_send(a->qp, &wr, &bad);
		check(ret == EINVAL && bad == &wr,
		      "%s on a UD QP: ibv_post_send returned %d (%s), bad_wr "
		      "%s, expected EINVAL", ops[i].name, ret, strerror(ret),
		      bad == &wr ? "set" : "not set");
		ok += ret == EINVAL && bad == &wr;
	}
	report(ok == (int)i && !quiet(a->scq, 200, "refused opcodes"),
	       "WRITE, WRITE_WITH_IMM, READ, CMP_SWP, FETCH_ADD, "
	       "SEND_WITH_INV, LOCAL_INV, opcode 99: EINVAL at post, no "
	       "completion");
	/* a chain SEND, WRITE, SEND: the first goes, bad_wr is the WRITE */
	{
		struct ibv_sge sge = { (uintptr_t)a->sbuf, 30, a->smr->lkey };
		struct ibv_send_wr w[3], *bad = NULL;
		int ret, f0 = failures;

		memset(w, 0, sizeof(w));
		for (i = 0; i < 3; i++) {
			w[i].wr_id = 420 + i;
			w[i].sg_list = &sge;
			w[i].num_sge = 1;
			w[i].opcode = i == 1 ? IBV_WR_RDMA_WRITE : IBV_WR_SEND;
			w[i].send_flags = IBV_SEND_SIGNALED;
			w[i].wr.ud.ah = ah_fwd;
			w[i].wr.ud.remote_qpn = b->qp->qp_num;
			w[i].wr.ud.remote_qkey = QKEY_B;
			w[i].next = i < 2 ? &w[i + 1] : NULL;
		}
		memset(b->rbuf, CANARY, 4096);
		fill(a->sbuf, 30, 420);
		check(!post_recv(b, 420, 1024), "post_recv");
		ret = ibv_post_send(a->qp, w, &bad);
		check(ret == EINVAL && bad == &w[1], "chain SEND, WRITE, SEND: "
		      "ibv_post_send returned %d, bad_wr %s", ret,
		      bad == &w[1] ? "the WRITE" : bad == w ? "the first" :
		      "elsewhere");
		expect_send(a, 420, IBV_WC_SUCCESS, "the SEND before the WRITE");
		expect_recv(b, a, 420, 30, 420, 0, 0,
			    "the SEND before the WRITE");
		quiet(a->scq, 200, "the chain's refused part");
		quiet(b->rcq, 10, "the chain's refused part");
		report(failures == f0, "a chain SEND, WRITE, SEND: the "
		       "first SEND is posted and delivered, bad_wr is the "
		       "WRITE, the rest is not posted");
	}
	/* the QP works on after refusals */
	report(!one(a, b, QKEY_B, 77, 430, 0, "after refused opcodes"),
	       "the QP works after the refused posts");
}

/* The ibv_wr_* API on a UD QP of ibv_create_qp_ex(). */
static void test_wr_api(struct end *b)
{
	struct end *x = new_end("X (ibv_create_qp_ex)", QKEY_B, 1);
	struct ibv_qp_ex *q;
	uint32_t lens[4] = { 100, 200, (uint32_t)mtu, 0 };
	struct ibv_wc wc;
	int i, ret, f0 = failures;

	if (!x)
		return;
	q = x->qpx;
	if (!q) {
		printf("FAIL: ibv_qp_to_qp_ex gave NULL\n");
		failures++;
		free_end(x);
		return;
	}
	memset(b->rbuf, CANARY, BUF);
	for (i = 0; i < 4; i++) {
		struct ibv_sge sge = { (uintptr_t)b->rbuf + i * 8192,
				       8192, b->rmr->lkey };
		struct ibv_recv_wr wr = { .wr_id = 500 + i, .sg_list = &sge,
					  .num_sge = 1 }, *bad;

		check(!ibv_post_recv(b->qp, &wr, &bad), "post_recv");
		fill(x->sbuf + i * 8192, lens[i], 500 + i);
	}
	ibv_wr_start(q);
	/* 0: plain SEND */
	q->wr_id = 510;
	q->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(q);
	ibv_wr_set_ud_addr(q, ah_fwd, b->qp->qp_num, QKEY_B);
	ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf, lens[0]);
	/* 1: SEND_WITH_IMM */
	q->wr_id = 511;
	q->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send_imm(q, htobe32(0xabcd0001));
	ibv_wr_set_ud_addr(q, ah_fwd, b->qp->qp_num, QKEY_B);
	ibv_wr_set_sge(q, x->smr->lkey, (uintptr_t)x->sbuf + 8192, lens[1]);
	/* 2: MTU bytes from two SGEs, with the controlled-Q_Key rule */
	{
		struct ibv_sge l[2] = { { .lkey = x->smr->lkey },
					{ .lkey = x->smr->lkey } };

		l[0].addr = (uintptr_t)x->sbuf + 2 * 8192;
		l[0].length = lens[2] / 2;
		l[1].addr = (uintptr_t)x->sbuf + 2 * 8192 + lens[2] / 2;
		l[1].length = lens[2] - lens[2] / 2;
		q->wr_id = 512;
		q->wr_flags = IBV_SEND_SIGNALED;
		ibv_wr_send(q);
		ibv_wr_set_ud_addr(q, ah_fwd, b->qp->qp_num, HIGH_BIT);
		ibv_wr_set_sge_list(q, max_sge >= 2 ? 2 : 1, l);
		if (max_sge < 2)
			lens[2] = l[0].length;
	}
	/* 3: zero bytes */
	q->wr_id = 513;
	q->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(q);
	ibv_wr_set_ud_addr(q, ah_fwd, b->qp->qp_num, QKEY_B);
	ibv_wr_set_sge_list(q, 0, NULL);
	ret = ibv_wr_complete(q);
	check(!ret, "ibv_wr_complete: %d (%s)", ret, strerror(ret));
	for (i = 0; i < 4 && !ret; i++)
		expect_send(x, 510 + i, IBV_WC_SUCCESS, "ibv_wr_send");
	for (i = 0; i < 4 && !ret; i++) {
		uint8_t *p = b->rbuf + i * 8192;

		if (!wait_wc(b->rcq, 5000, &wc) || wc.status != IBV_WC_SUCCESS ||
		    wc.wr_id != 500u + i) {
			printf("FAIL: ibv_wr_* datagram %d not received\n", i);
			failures++;
			break;
		}
		check(wc.byte_len == lens[i] + GRH && wc.src_qp == x->qp->qp_num &&
		      (wc.wc_flags & IBV_WC_GRH) &&
		      differs(p + GRH, lens[i], 500 + i) < 0 &&
		      all_bytes(p + GRH + lens[i], 64, CANARY),
		      "ibv_wr_* datagram %d: byte_len %u src_qp %#x flags %#x "
		      "or data wrong", i, wc.byte_len, wc.src_qp, wc.wc_flags);
		if (i == 1)
			check((wc.wc_flags & IBV_WC_WITH_IMM) &&
			      be32toh(wc.imm_data) == 0xabcd0001,
			      "ibv_wr_send_imm: immediate %#x flags %#x",
			      be32toh(wc.imm_data), wc.wc_flags);
		check_grh(p, lens[i], i == 1, &gid_src, &gid_dst, "ibv_wr_*");
	}
	report(failures == f0, "ibv_wr_send, ibv_wr_send_imm, "
	       "ibv_wr_set_ud_addr, ibv_wr_set_sge(_list) on a UD QP of "
	       "ibv_create_qp_ex: 4 WRs in one batch delivered");
	free_end(x);
}

static int gid_of(int index, union ibv_gid *g)
{
	if (ibv_query_gid(ctx, 1, index, g)) {
		printf("FAIL: ibv_query_gid %d: %s\n", index, strerror(errno));
		return -1;
	}
	return 0;
}

static struct ibv_ah *make_ah(int sgid_index, const union ibv_gid *dgid)
{
	struct ibv_ah_attr a = {
		.is_global = 1, .port_num = 1,
		.grh = { .dgid = *dgid, .sgid_index = sgid_index,
			 .hop_limit = 64 },
	};

	return ibv_create_ah(pd, &a);
}

int main(int argc, char **argv)
{
	struct ibv_port_attr port;
	struct ibv_device_attr dattr;
	struct end *a, *b;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s <device> <gid index> "
			"[<gid index 2>]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = argv[1];
	gidx_dst = atoi(argv[2]);
	gidx_src = argc == 4 ? atoi(argv[3]) : gidx_dst;
	ctx = open_by_name(dev);
	if (!ctx) {
		printf("FAIL: cannot open %s\n", dev);
		return 1;
	}
	if (gid_of(gidx_dst, &gid_dst) || gid_of(gidx_src, &gid_src) ||
	    ibv_query_port(ctx, 1, &port) || ibv_query_device(ctx, &dattr)) {
		printf("FAIL: cannot query %s\n", dev);
		return 1;
	}
	if (is_ipv4_gid(&gid_dst) != is_ipv4_gid(&gid_src)) {
		printf("FAIL: GIDs %d and %d are of different families\n",
		       gidx_dst, gidx_src);
		return 1;
	}
	mtu = 128 << port.active_mtu;
	max_sge = dattr.max_sge < 4 ? dattr.max_sge : 4;
	printf("ud: %s, GID %d -> GID %d (%s), active MTU %d, max_sge %d\n",
	       dev, gidx_src, gidx_dst, is_ipv4_gid(&gid_dst) ? "IPv4" : "IPv6",
	       mtu, dattr.max_sge);
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		printf("FAIL: ibv_alloc_pd: %s\n", strerror(errno));
		return 1;
	}
	ah_fwd = make_ah(gidx_src, &gid_dst);
	ah_back = make_ah(gidx_dst, &gid_src);
	report(ah_fwd && ah_back, "AHs between GIDs %d and %d", gidx_src,
	       gidx_dst);
	a = new_end("A", QKEY_A, 0);
	b = new_end("B", QKEY_B, 0);
	report(a && b, "ibv_create_qp(IBV_QPT_UD) and RESET -> INIT -> RTR -> "
	       "RTS");
	if (!a || !b || !ah_fwd || !ah_back)
		return 1;
	test_qp_basics(a);
	test_sizes(a, b);
	test_sge(a, b);
	test_reply(a, b);
	test_qkeys(a, b);
	test_drops(a, b);
	test_errors(a, b);
	test_wr_api(b);
	quiet(b->rcq, 100, "B at the end");
	free_end(a);
	free_end(b);
	check(!ibv_destroy_ah(ah_fwd) && !ibv_destroy_ah(ah_back),
	      "ibv_destroy_ah");
	check(!ibv_dealloc_pd(pd), "ibv_dealloc_pd");
	ibv_close_device(ctx);
	printf("ud: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
