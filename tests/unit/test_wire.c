// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Host unit tests for driver/sroce_wire.c: the opcode table, header
 * round trips, parser errors, PSN arithmetic, IBTA timer encodings, and the
 * parser and ICRC against real RoCEv2 packets that rdma_rxe sent
 * (tests/data/rxe-rocev2.pcap, made by tests/data/capture-rxe.sh).
 * Prints one PASS/FAIL line per check; exits non-zero on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../driver/sroce_wire.h"
#include "unit.h"

#define PCAP_PATH "../data/rxe-rocev2.pcap"

static void test_opcode_table(void)
{
	static const struct { __u8 op; unsigned int len; } lens[] = {
		{ SROCE_RC_SEND_ONLY, 12 }, { SROCE_RC_SEND_ONLY_IMM, 16 },
		{ SROCE_RC_WRITE_FIRST, 28 }, { SROCE_RC_WRITE_MIDDLE, 12 },
		{ SROCE_RC_WRITE_ONLY_IMM, 32 }, { SROCE_RC_READ_REQUEST, 28 },
		{ SROCE_RC_READ_RESPONSE_FIRST, 16 },
		{ SROCE_RC_READ_RESPONSE_MIDDLE, 12 },
		{ SROCE_RC_ACKNOWLEDGE, 16 }, { SROCE_RC_ATOMIC_ACKNOWLEDGE, 24 },
		{ SROCE_RC_COMPARE_SWAP, 40 }, { SROCE_RC_FETCH_ADD, 40 },
		{ SROCE_RC_SEND_ONLY_INV, 16 }, { SROCE_RC_SEND_LAST_INV, 16 },
		{ SROCE_UD_SEND_ONLY, 20 },
		{ SROCE_UD_SEND_ONLY_IMM, 24 }, { SROCE_UC_SEND_FIRST, 12 },
		{ SROCE_UC_SEND_LAST_IMM, 16 }, { SROCE_UC_WRITE_FIRST, 28 },
		{ SROCE_UC_WRITE_ONLY_IMM, 32 }, { SROCE_RC_FLUSH, 32 },
		{ SROCE_RC_ATOMIC_WRITE, 28 },
	};
	const struct sroce_opcode_info *op;
	int i, known = 0;

	for (i = 0; i < (int)(sizeof(lens) / sizeof(lens[0])); i++) {
		op = sroce_opcode_info(lens[i].op);
		expect(op && sroce_opcode_hdr_len(op) == lens[i].len,
		       "opcode 0x%02x headers are %u bytes", lens[i].op,
		       lens[i].len);
	}
	for (i = 0; i < 256; i++)
		known += !!sroce_opcode_info(i);
	expect(known == 62, "62 opcodes known: 25 RC, 12 UC, 2 UD, 23 XRC (%d)",
	       known);
	expect(!sroce_opcode_info(0x15) && !sroce_opcode_info(0x18) &&
	       !sroce_opcode_info(0xff), "reserved opcodes are unknown");
	op = sroce_opcode_info(SROCE_RC_READ_REQUEST);
	expect(op && !(op->flags & SROCE_OP_PAYLOAD) &&
	       (op->flags & SROCE_OP_REQUEST), "READ request carries no data");
	op = sroce_opcode_info(SROCE_RC_READ_RESPONSE_MIDDLE);
	expect(op && !(op->flags & SROCE_OP_REQUEST) &&
	       (op->flags & SROCE_OP_MIDDLE), "READ response middle");
}

static void test_bth_round_trip(void)
{
	struct sroce_bth in = {
		.opcode = 0x0a, .se = true, .mig = true, .pad = 3, .tver = 0,
		.pkey = 0xffff, .fecn = true, .becn = false,
		.dqpn = 0xabcdef, .ack_req = true, .psn = 0xfedcba,
	}, out;
	static const __u8 want[12] = {
		0x0a, 0xf0, 0xff, 0xff, 0x80, 0xab, 0xcd, 0xef,
		0x80, 0xfe, 0xdc, 0xba,
	};
	__u8 buf[12];

	sroce_bth_pack(buf, &in);
	expect(!memcmp(buf, want, 12), "BTH packs to the IBTA layout");
	sroce_bth_unpack(buf, &out);
	expect(!memcmp(&in, &out, sizeof(in)), "BTH round trip");
}

static void test_build_parse(void)
{
	static const __u8 ops[] = {
		SROCE_RC_SEND_ONLY_IMM, SROCE_RC_WRITE_ONLY_IMM,
		SROCE_RC_READ_REQUEST, SROCE_RC_ATOMIC_ACKNOWLEDGE,
		SROCE_RC_COMPARE_SWAP, SROCE_RC_SEND_ONLY_INV,
		SROCE_RC_SEND_LAST_INV, SROCE_UD_SEND_ONLY_IMM,
		SROCE_RC_FLUSH, SROCE_RC_ATOMIC_WRITE,
	};
	__u8 buf[256];
	unsigned int i;

	for (i = 0; i < sizeof(ops); i++) {
		const struct sroce_opcode_info *op = sroce_opcode_info(ops[i]);
		unsigned int paylen = op->flags & SROCE_OP_PAYLOAD ? 13 : 0;
		struct sroce_pkt in = {
			.bth = { .opcode = ops[i], .pkey = 0xffff,
				 .dqpn = 0x123456, .psn = 0x654321 },
			.reth = { 0x1122334455667788ULL, 0xaabbccdd, 4096 },
			.atmeth = { 0x8877665544332211ULL, 0x01020304,
				    0x1111111122222222ULL,
				    0x3333333344444444ULL },
			.aeth = { sroce_aeth_ack(5), 0x00abcd },
			.atmack = 0xdeadbeefcafef00dULL,
			.immdt = 0x12345678, .ieth = 0x9abcdef0,
			.deth = { 0x80010000, 0x000042 },
			.feth = { SROCE_FETH_PLT_GLOBAL, SROCE_FETH_SEL_MR },
			.payload_len = paylen,
		}, out;
		int hlen, total, err;

		memset(buf, 0, sizeof(buf));
		hlen = sroce_build(buf, sizeof(buf), &in);
		total = hlen + paylen + sroce_pad_for(paylen) + SROCE_ICRC_LEN;
		err = sroce_parse(buf, total, &out);
		expect(hlen == (int)sroce_opcode_hdr_len(op) && !err &&
		       out.payload_off == (unsigned int)hlen &&
		       out.payload_len == paylen &&
		       out.bth.pad == sroce_pad_for(paylen) &&
		       out.bth.psn == in.bth.psn && out.bth.dqpn == in.bth.dqpn,
		       "%s: build then parse", op->name);
		expect((!(op->hdrs & SROCE_HDR_RETH) ||
			!memcmp(&out.reth, &in.reth, sizeof(in.reth))) &&
		       (!(op->hdrs & SROCE_HDR_ATMETH) ||
			!memcmp(&out.atmeth, &in.atmeth, sizeof(in.atmeth))) &&
		       (!(op->hdrs & SROCE_HDR_IMMDT) || out.immdt == in.immdt) &&
		       (!(op->hdrs & SROCE_HDR_IETH) || out.ieth == in.ieth) &&
		       (!(op->hdrs & SROCE_HDR_ATMACK) || out.atmack == in.atmack) &&
		       (!(op->hdrs & SROCE_HDR_FETH) ||
			!memcmp(&out.feth, &in.feth, sizeof(in.feth))) &&
		       (!(op->hdrs & SROCE_HDR_DETH) ||
			(out.deth.qkey == in.deth.qkey &&
			 out.deth.sqpn == in.deth.sqpn)),
		       "%s: extension headers round trip", op->name);
	}
}

/*
 * SEND with Invalidate: the IETH (the R_Key to invalidate, big-endian)
 * follows the BTH, and the payload follows it; ONLY and LAST end a SEND.
 */
static void test_ieth(void)
{
	static const __u8 ieth[4] = { 0x12, 0x34, 0x56, 0x78 };
	static const __u8 ops[] = {
		SROCE_RC_SEND_ONLY_INV, SROCE_RC_SEND_LAST_INV,
	};
	__u8 buf[64];
	unsigned int i;

	for (i = 0; i < sizeof(ops); i++) {
		const struct sroce_opcode_info *op = sroce_opcode_info(ops[i]);
		struct sroce_pkt in = {
			.bth = { .opcode = ops[i], .pkey = 0xffff,
				 .dqpn = 0x11, .psn = 7 },
			.ieth = 0x12345678,
			.payload_len = 4,
		}, out;
		int hlen, err;

		expect(op && (op->hdrs & SROCE_HDR_IETH) &&
		       (op->flags & SROCE_OP_SEND) &&
		       (op->flags & SROCE_OP_REQUEST) &&
		       (op->flags & SROCE_OP_LAST) &&
		       !(op->hdrs & (SROCE_HDR_RETH | SROCE_HDR_IMMDT)),
		       "opcode 0x%02x: a SEND's end with an IETH only", ops[i]);
		memset(buf, 0, sizeof(buf));
		hlen = sroce_build(buf, sizeof(buf), &in);
		memcpy(buf + hlen, "data", 4);
		err = sroce_parse(buf, hlen + 4 + SROCE_ICRC_LEN, &out);
		expect(hlen == SROCE_BTH_LEN + SROCE_IETH_LEN &&
		       !memcmp(buf + SROCE_BTH_LEN, ieth, 4) && !err &&
		       out.ieth == 0x12345678 && out.payload_len == 4 &&
		       !memcmp(buf + out.payload_off, "data", 4),
		       "%s: IETH after the BTH, big-endian, then the payload",
		       op->name);
		/* Cut inside the IETH: refused. */
		expect(sroce_parse(buf, SROCE_BTH_LEN + 2, &out),
		       "%s: a packet cut in its IETH is refused", op->name);
	}
	expect(!(sroce_opcode_info(SROCE_RC_SEND_FIRST)->hdrs & SROCE_HDR_IETH) &&
	       !(sroce_opcode_info(SROCE_UC_SEND_LAST)->hdrs & SROCE_HDR_IETH),
	       "no IETH on SEND FIRST or UC SENDs");
}

/*
 * Memory placement (IBTA 1.5): FLUSH is BTH, FETH (placement type in bits
 * 3:0, selectivity in 5:4 of a big-endian word), RETH, no payload; ATOMIC
 * WRITE is BTH, RETH and exactly its 8 bytes.  Both are answered as a READ
 * is, so they are requests holding a responder resource.
 */
static void test_placement(void)
{
	static const __u8 want_flush[32] = {
		SROCE_RC_FLUSH, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x11,
		0x80, 0x00, 0x00, 0x07,
		0x00, 0x00, 0x00, 0x12,				/* FETH */
		0x00, 0x00, 0x7f, 0x00, 0x12, 0x34, 0x50, 0x00,	/* VA */
		0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x00, 0x10, 0x00,	/* rkey, len */
	};
	const struct sroce_opcode_info *fl = sroce_opcode_info(SROCE_RC_FLUSH);
	const struct sroce_opcode_info *aw =
		sroce_opcode_info(SROCE_RC_ATOMIC_WRITE);
	struct sroce_pkt in = {
		.bth = { .opcode = SROCE_RC_FLUSH, .pkey = 0xffff,
			 .dqpn = 0x11, .ack_req = true, .psn = 7 },
		.feth = { SROCE_FETH_PLT_PERSISTENT, SROCE_FETH_SEL_MR },
		.reth = { 0x7f0012345000ULL, 0xaabbccdd, 4096 },
	}, out;
	__u8 buf[64];
	int hlen;

	expect(fl && (fl->flags & SROCE_OP_REQUEST) &&
	       (fl->flags & SROCE_OP_PLACEMENT) &&
	       !(fl->flags & (SROCE_OP_PAYLOAD | SROCE_OP_READ |
			      SROCE_OP_WRITE | SROCE_OP_ATOMIC)) &&
	       (fl->flags & SROCE_OP_ONLY) == SROCE_OP_ONLY,
	       "FLUSH: a single-packet placement request without data");
	expect(aw && (aw->flags & SROCE_OP_REQUEST) &&
	       (aw->flags & SROCE_OP_PLACEMENT) &&
	       (aw->flags & SROCE_OP_PAYLOAD) &&
	       !(aw->flags & (SROCE_OP_READ | SROCE_OP_WRITE |
			      SROCE_OP_ATOMIC)) &&
	       aw->hdrs == SROCE_HDR_RETH,
	       "ATOMIC WRITE: a single-packet placement request with a RETH");

	memset(buf, 0, sizeof(buf));
	hlen = sroce_build(buf, sizeof(buf), &in);
	expect(hlen == 32 && !memcmp(buf, want_flush, 32),
	       "FLUSH: FETH between the BTH and the RETH, IBTA layout");
	buf[12] = 0xff;		/* reserved bits are ignored */
	buf[15] |= 0xc0;
	expect(!sroce_parse(buf, 32 + SROCE_ICRC_LEN, &out) &&
	       out.feth.plt == SROCE_FETH_PLT_PERSISTENT &&
	       out.feth.sel == SROCE_FETH_SEL_MR &&
	       out.reth.va == in.reth.va && out.reth.dma_len == 4096 &&
	       !out.payload_len, "FLUSH: parsed back, reserved bits ignored");
	expect(sroce_parse(buf, 33 + SROCE_ICRC_LEN, &out) == -EBADMSG,
	       "FLUSH: a payload is refused");
	expect(sroce_parse(buf, 30 + SROCE_ICRC_LEN, &out) == -EMSGSIZE,
	       "FLUSH: cut in its RETH is refused");

	in.bth.opcode = SROCE_RC_ATOMIC_WRITE;
	in.payload_len = SROCE_ATOMIC_WRITE_LEN;
	in.reth.dma_len = SROCE_ATOMIC_WRITE_LEN;
	memset(buf, 0, sizeof(buf));
	hlen = sroce_build(buf, sizeof(buf), &in);
	memcpy(buf + hlen, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	expect(hlen == 28 && !memcmp(buf + 12, want_flush + 16, 12) &&
	       buf[27] == 8 && !(buf[1] & 0x30) &&
	       !sroce_parse(buf, 36 + SROCE_ICRC_LEN, &out) &&
	       out.payload_off == 28 && out.payload_len == 8 &&
	       !memcmp(buf + out.payload_off, "\x01\x02\x03\x04", 4),
	       "ATOMIC WRITE: RETH then 8 bytes, no pad");
}

static void test_parse_errors(void)
{
	struct sroce_pkt in = { .bth = { .opcode = SROCE_RC_SEND_ONLY },
				.payload_len = 5 }, pkt;
	__u8 buf[64] = { 0 };
	int hlen = sroce_build(buf, sizeof(buf), &in);

	/* 12 header + 5 payload + 3 pad + 4 ICRC */
	expect(hlen == 12 && sroce_parse(buf, 24, &pkt) == 0 &&
	       pkt.payload_len == 5, "SEND_ONLY with 5 bytes and 3 pad");
	expect(sroce_parse(buf, 15, &pkt) == -EMSGSIZE, "truncated BTH");
	expect(sroce_parse(buf, 23, &pkt) == -EBADMSG, "pad inconsistent");
	buf[1] |= 0x01;
	expect(sroce_parse(buf, 24, &pkt) == -EPROTONOSUPPORT, "TVer 1");
	buf[1] &= ~0x0f;
	buf[0] = 0x15;
	expect(sroce_parse(buf, 24, &pkt) == -EPROTONOSUPPORT,
	       "reserved opcode");
	buf[0] = SROCE_RC_ACKNOWLEDGE;
	buf[1] = 0;
	expect(sroce_parse(buf, 20, &pkt) == 0, "bare ACK");
	expect(sroce_parse(buf, 24, &pkt) == -EBADMSG, "ACK with payload");
	buf[0] = SROCE_RC_COMPARE_SWAP;
	expect(sroce_parse(buf, 40, &pkt) == -EMSGSIZE, "truncated AtomicETH");
	in.bth.opcode = SROCE_RC_ACKNOWLEDGE;
	expect(sroce_build(buf, sizeof(buf), &in) == -EINVAL,
	       "build refuses payload on an ACK");
}

static void test_psn_and_timers(void)
{
	expect(sroce_psn_diff(0, 0xffffff) == 1, "PSN 0 is one after 0xffffff");
	expect(sroce_psn_diff(0xffffff, 0) == -1, "PSN wrap backwards");
	expect(sroce_psn_add(0xfffffe, 3) == 1, "PSN add wraps");
	expect(sroce_psn_diff(0xfffff0, 5) < 0, "before across the wrap");
	expect(sroce_psn_diff(0x7fffff, 0) == 0x7fffff &&
	       sroce_psn_diff(0x800000, 0) == -0x800000, "window edges");
	expect(sroce_rnr_timer_us(0) == 655360 && sroce_rnr_timer_us(1) == 10 &&
	       sroce_rnr_timer_us(14) == 1280 &&
	       sroce_rnr_timer_us(31) == 491520, "RNR timer codes");
	expect(sroce_local_ack_timeout_ns(0) == 0 &&
	       sroce_local_ack_timeout_ns(1) == 8192 &&
	       sroce_local_ack_timeout_ns(14) == 67108864ULL,
	       "local ACK timeout encodings");
	expect(sroce_aeth_nak(SROCE_NAK_REMOTE_ACCESS) == 0x62 &&
	       sroce_aeth_rnr_nak(14) == 0x2e && sroce_aeth_ack(31) == 0x1f,
	       "AETH syndromes");
}

/* Random bytes must never crash the parser, and what it accepts adds up. */
static void test_random_input(void)
{
	struct sroce_pkt pkt;
	__u8 buf[128];
	int i, j, ok = 1, accepted = 0;

	srand(1);
	for (i = 0; i < 200000; i++) {
		unsigned int len = rand() % sizeof(buf);

		for (j = 0; j < (int)len; j++)
			buf[j] = rand();
		if (i & 1)
			buf[1] &= 0xf0;		/* TVer 0 half the time */
		if (!sroce_parse(buf, len, &pkt)) {
			accepted++;
			ok &= pkt.payload_off + pkt.payload_len + pkt.bth.pad +
			      SROCE_ICRC_LEN == len;
		}
		sroce_icrc_check(buf, len);
	}
	expect(ok && accepted > 0, "200000 random packets: %d parsed, all consistent",
	       accepted);
}

/* Classic pcap: the RoCEv2 packets rdma_rxe sent, checked one by one. */
static void test_rxe_capture(void)
{
	FILE *f = fopen(PCAP_PATH, "rb");
	__u8 ghdr[24], rhdr[16], frame[9000];
	int packets = 0, icrc_ok = 0, parsed = 0, rebuilt = 0;
	int v4 = 0, v6 = 0, masked_ok = 1, flips_caught = 1;
	int seen[256] = { 0 }, kinds = 0, i;

	if (!f || fread(ghdr, 1, 24, f) != 24) {
		expect(0, "read %s", PCAP_PATH);
		return;
	}
	while (fread(rhdr, 1, 16, f) == 16) {
		unsigned int caplen = rhdr[8] | rhdr[9] << 8 | rhdr[10] << 16 |
				      (unsigned int)rhdr[11] << 24;
		unsigned int l3_off = 14, ip_len, udp_len, bth_off;
		__u16 ethertype;
		struct sroce_pkt pkt;
		__u8 *l3, hdr[64];
		int hlen;

		if (caplen > sizeof(frame) || fread(frame, 1, caplen, f) != caplen)
			break;
		ethertype = frame[12] << 8 | frame[13];
		l3 = frame + l3_off;
		if (ethertype == 0x0800) {
			ip_len = 20;
			v4++;
		} else if (ethertype == 0x86dd) {
			ip_len = 40;
			v6++;
		} else {
			continue;
		}
		udp_len = l3[ip_len + 4] << 8 | l3[ip_len + 5];
		bth_off = ip_len + 8;
		packets++;
		icrc_ok += !sroce_icrc_check(l3, ip_len + udp_len);
		if (sroce_parse(l3 + bth_off, udp_len - 8, &pkt))
			continue;
		parsed++;
		seen[pkt.bth.opcode]++;

		/* sroce's builder writes exactly the headers rxe wrote. */
		hlen = sroce_build(hdr, sizeof(hdr), &pkt);
		rebuilt += hlen == (int)pkt.payload_off &&
			   !memcmp(hdr, l3 + bth_off, hlen);

		/* Masked fields don't count; anything else does. */
		l3[ip_len == 20 ? 8 : 7] ^= 0x55;		/* TTL/hop */
		l3[ip_len + 6] ^= 0x55;				/* UDP csum */
		l3[bth_off + 4] ^= 0x80;			/* FECN */
		masked_ok &= !sroce_icrc_check(l3, ip_len + udp_len);
		l3[bth_off + 11] ^= 0x01;			/* PSN */
		flips_caught &= sroce_icrc_check(l3, ip_len + udp_len) ==
				-EBADMSG;
	}
	fclose(f);
	for (i = 0; i < 256; i++)
		kinds += seen[i] > 0;
	expect(packets >= 50 && v4 > 0 && v6 > 0,
	       "capture holds %d RoCEv2 packets (%d IPv4, %d IPv6)",
	       packets, v4, v6);
	expect(icrc_ok == packets, "ICRC matches rxe's on %d of %d packets",
	       icrc_ok, packets);
	expect(parsed == packets, "parser accepts %d of %d packets", parsed,
	       packets);
	expect(rebuilt == parsed, "builder reproduces %d of %d headers",
	       rebuilt, parsed);
	expect(kinds >= 12 && seen[SROCE_RC_COMPARE_SWAP] &&
	       seen[SROCE_RC_FETCH_ADD] && seen[SROCE_RC_READ_RESPONSE_MIDDLE],
	       "capture covers %d opcodes, atomics and multi-packet READ",
	       kinds);
	expect(masked_ok, "TTL, UDP checksum and FECN are masked out");
	expect(flips_caught, "a flipped PSN bit fails the ICRC");
}

/*
 * XRC: each RC opcode has its XRC twin at 0xa0 | (opcode & 0x1f), with the
 * same flags; a request has an XRCETH (4 bytes: a reserved byte, the
 * 24-bit SRQ number) right after the BTH, before RETH, AtomicETH, ImmDt
 * and IETH; a response has none.
 */
static void test_xrc(void)
{
	static const __u8 read_req[] = {
		0xac, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x12,
		0x80, 0x00, 0x00, 0x07,			/* BTH */
		0x00, 0xab, 0xcd, 0xef,			/* XRCETH */
		0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
		0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x10, 0x00, /* RETH */
		0xde, 0xad, 0xbe, 0xef,			/* ICRC */
	};
	const struct sroce_opcode_info *rc, *x;
	struct sroce_pkt in = {}, out;
	__u8 buf[64];
	int i, twins = 0, hlen, err;

	for (i = 0; i < 32; i++) {
		rc = sroce_opcode_info(i);
		x = sroce_opcode_info(sroce_xrc_opcode(i));
		if (!rc) {
			expect(!x, "0x%02x: no XRC twin of a reserved opcode",
			       sroce_xrc_opcode(i));
			continue;
		}
		twins += x && x->flags == rc->flags &&
			 x->hdrs == (rc->flags & SROCE_OP_REQUEST ?
				     (rc->hdrs | SROCE_HDR_XRCETH) : rc->hdrs);
	}
	expect(twins == 23, "23 XRC opcodes mirror RC's (%d)", twins);
	expect(sroce_opcode_transport(SROCE_XRC_SEND_ONLY) ==
	       SROCE_TRANSPORT_XRC &&
	       sroce_xrc_opcode(SROCE_RC_ACKNOWLEDGE) == SROCE_XRC_ACKNOWLEDGE,
	       "XRC is transport 5; its ACK is 0xb1");
	x = sroce_opcode_info(SROCE_XRC_ACKNOWLEDGE);
	expect(x && sroce_opcode_hdr_len(x) == 16,
	       "XRC ACK: BTH and AETH, no XRCETH");
	x = sroce_opcode_info(SROCE_XRC_SEND_ONLY_IMM);
	expect(x && sroce_opcode_hdr_len(x) == 20,
	       "XRC SEND ONLY with immediate: BTH, XRCETH, ImmDt");

	err = sroce_parse(read_req, sizeof(read_req), &out);
	expect(!err && out.xrceth.srqn == 0xabcdef &&
	       out.reth.va == 0x10000000 && out.reth.rkey == 0x11223344 &&
	       out.reth.dma_len == 4096 && out.payload_off == 32,
	       "XRC READ request: XRCETH before RETH");
	sroce_pkt_xrc_to_rc(&out);
	expect(out.xrc && out.bth.opcode == SROCE_RC_READ_REQUEST &&
	       out.op == sroce_opcode_info(SROCE_RC_READ_REQUEST) &&
	       out.xrceth.srqn == 0xabcdef, "an XRC request made RC's");
	memset(&out, 0, sizeof(out));
	out.bth.opcode = SROCE_RC_SEND_ONLY;
	sroce_pkt_xrc_to_rc(&out);
	expect(!out.xrc && out.bth.opcode == SROCE_RC_SEND_ONLY,
	       "an RC packet stays RC's");

	in.bth.opcode = SROCE_XRC_READ_REQUEST;
	in.bth.pkey = 0xffff;
	in.bth.dqpn = 0x12;
	in.bth.ack_req = true;
	in.bth.psn = 7;
	in.xrceth.srqn = 0xabcdef;
	in.reth.va = 0x10000000;
	in.reth.rkey = 0x11223344;
	in.reth.dma_len = 4096;
	memset(buf, 0x5a, sizeof(buf));
	hlen = sroce_build(buf, sizeof(buf), &in);
	expect(hlen == 32 && !memcmp(buf, read_req, 32),
	       "XRC READ request builds to the IBTA layout");

	in.bth.opcode = SROCE_XRC_SEND_ONLY_IMM;
	in.immdt = 0x01020304;
	in.payload_len = 5;
	hlen = sroce_build(buf, sizeof(buf), &in);
	err = sroce_parse(buf, hlen + 8 + SROCE_ICRC_LEN, &out);
	expect(hlen == 20 && !err && buf[12] == 0 && buf[13] == 0xab &&
	       out.xrceth.srqn == 0xabcdef && out.immdt == 0x01020304 &&
	       out.payload_off == 20 && out.payload_len == 5,
	       "XRC SEND with immediate: build then parse");
}

int main(void)
{
	unit_suite = "wire";
	test_opcode_table();
	test_bth_round_trip();
	test_build_parse();
	test_ieth();
	test_xrc();
	test_placement();
	test_parse_errors();
	test_psn_and_timers();
	test_random_input();
	test_rxe_capture();
	return unit_report();
}
