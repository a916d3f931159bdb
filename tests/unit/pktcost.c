// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The per-packet cost of the protocol core (driver/sroce_wire.c) on the
 * host: N RC WRITE ONLY packets over IPv4, each built as the driver builds
 * one (sroce_build(), the pad and ICRC zeroed, the payload copied in), its
 * ICRC filled as on send, then checked and the packet parsed as on
 * receive.  Each stage is a function of its own, so that callgrind's
 * inclusive costs give it (tests/unit/pktcost-run, make pktcost); run
 * alone, the program only checks that every packet came back right.
 *
 *   pktcost [-n PACKETS] PAYLOAD_BYTES...
 *
 * The ICRC's CRC-32 is unit.h's, one bit at a time, unless built with
 * -DPKTCOST_SLICE8: then it is a slice-by-8 table CRC, the algorithm of
 * 6.12's generic crc32_le, checked here against unit.h's first.
 * Prints one PASS/FAIL line per check; exits non-zero on failure.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../driver/sroce_wire.h"
/* unit.h's bitwise CRC-32 stays the reference, under another name. */
#define sroce_crc32 unit_crc32_bitwise
#include "unit.h"
#undef sroce_crc32

#define PC_IPV4_LEN	20
#define PC_UDP_LEN	8
#define PC_HDR_LEN	(SROCE_BTH_LEN + SROCE_RETH_LEN)
#define PC_MAX_PAYLOAD	4096

#ifdef PKTCOST_SLICE8
#define PC_CRC_NAME	"slice-by-8"

/* pc_crc_tab[k][b]: byte b's CRC followed by k zero bytes. */
static __u32 pc_crc_tab[8][256];

static void pc_crc_init(void)
{
	__u32 c;
	int b, k;

	for (b = 0; b < 256; b++) {
		c = b;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
		pc_crc_tab[0][b] = c;
	}
	for (k = 1; k < 8; k++)
		for (b = 0; b < 256; b++) {
			c = pc_crc_tab[k - 1][b];
			pc_crc_tab[k][b] = (c >> 8) ^ pc_crc_tab[0][c & 0xff];
		}
}

static __u32 pc_le32(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 |
	       (__u32)p[3] << 24;
}

/* Eight bytes per step: each table folds one of them in. */
__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len)
{
	const __u8 *p = buf;
	__u32 lo, hi;

	for (; len >= 8; p += 8, len -= 8) {
		lo = pc_le32(p) ^ crc;
		hi = pc_le32(p + 4);
		crc = pc_crc_tab[7][lo & 0xff] ^
		      pc_crc_tab[6][(lo >> 8) & 0xff] ^
		      pc_crc_tab[5][(lo >> 16) & 0xff] ^
		      pc_crc_tab[4][lo >> 24] ^
		      pc_crc_tab[3][hi & 0xff] ^
		      pc_crc_tab[2][(hi >> 8) & 0xff] ^
		      pc_crc_tab[1][(hi >> 16) & 0xff] ^
		      pc_crc_tab[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ pc_crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}
#else
#define PC_CRC_NAME	"bitwise"

static void pc_crc_init(void)
{
}

__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len)
{
	return unit_crc32_bitwise(crc, buf, len);
}
#endif

/* One packet buffer: IPv4 and UDP headers, then the transport packet. */
struct pc_ctx {
	__u8 *l3;
	__u8 *bth;
	unsigned int payload_len;
	unsigned int len;		/* transport packet, BTH to ICRC */
	const __u8 *src;		/* the payload, as in a registered MR */
	struct sroce_pkt pkt;		/* what the sender builds */
};

/*
 * The stages.  noinline keeps each one a function of its own for
 * callgrind; they are not static so that gcc makes no clones of them.
 */
__attribute__((noinline)) int pc_build(struct pc_ctx *c)
{
	unsigned int pad = sroce_pad_for(c->payload_len);
	int hdr_len;

	hdr_len = sroce_build(c->bth, c->len, &c->pkt);
	if (hdr_len < 0)
		return hdr_len;
	memset(c->bth + hdr_len + c->payload_len, 0, pad + SROCE_ICRC_LEN);
	memcpy(c->bth + hdr_len, c->src, c->payload_len);
	return 0;
}

__attribute__((noinline)) int pc_icrc_fill(struct pc_ctx *c)
{
	return sroce_icrc_fill(c->l3, PC_IPV4_LEN + PC_UDP_LEN + c->len);
}

__attribute__((noinline)) int pc_icrc_check(struct pc_ctx *c)
{
	return sroce_icrc_check(c->l3, PC_IPV4_LEN + PC_UDP_LEN + c->len);
}

__attribute__((noinline)) int pc_parse(struct pc_ctx *c, struct sroce_pkt *pkt)
{
	return sroce_parse(c->bth, c->len, pkt);
}

/*
 * Not a stage: did the packet come back as sent?  It then clears the
 * transport packet, so that the next one must be built whole to pass.
 */
__attribute__((noinline)) int pc_verify(struct pc_ctx *c,
					const struct sroce_pkt *pkt)
{
	const struct sroce_pkt *s = &c->pkt;
	int ok;

	ok = pkt->bth.opcode == SROCE_RC_WRITE_ONLY &&
	     pkt->bth.psn == s->bth.psn && pkt->bth.dqpn == s->bth.dqpn &&
	     pkt->bth.pkey == s->bth.pkey &&
	     pkt->bth.ack_req == s->bth.ack_req &&
	     pkt->reth.va == s->reth.va && pkt->reth.rkey == s->reth.rkey &&
	     pkt->reth.dma_len == s->reth.dma_len &&
	     pkt->payload_off == PC_HDR_LEN &&
	     pkt->payload_len == c->payload_len &&
	     !memcmp(c->bth + PC_HDR_LEN, c->src, c->payload_len);
	memset(c->bth, 0, c->len);
	return ok;
}

/* One packet there and back: 1 if it came back right. */
static inline unsigned int pc_packet(struct pc_ctx *c)
{
	struct sroce_pkt pkt;

	c->pkt.bth.psn = sroce_psn_add(c->pkt.bth.psn, 1);
	c->pkt.reth.va += c->payload_len;
	if (pc_build(c) || pc_icrc_fill(c) || pc_icrc_check(c) ||
	    pc_parse(c, &pkt))
		return 0;
	return pc_verify(c, &pkt);
}

/*
 * The measured loop (callgrind counts from its entry to its return):
 * what it costs per packet, less pc_verify(), is the total.  Returns how
 * many packets came back right.
 */
__attribute__((noinline)) unsigned int pc_loop(struct pc_ctx *c,
					       unsigned int n)
{
	unsigned int i, good = 0;

	for (i = 0; i < n; i++)
		good += pc_packet(c);
	return good;
}

/* The IPv4 and UDP headers, which the kernel writes, once. */
static void pc_l3_init(struct pc_ctx *c)
{
	unsigned int udp_len = PC_UDP_LEN + c->len;
	__u8 *ip = c->l3, *udp = c->l3 + PC_IPV4_LEN;

	memset(c->l3, 0, PC_IPV4_LEN + PC_UDP_LEN);
	ip[0] = 0x45;
	ip[2] = (PC_IPV4_LEN + udp_len) >> 8;
	ip[3] = PC_IPV4_LEN + udp_len;
	ip[6] = 0x40;				/* DF */
	ip[8] = 64;				/* TTL */
	ip[9] = 17;				/* UDP */
	memcpy(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	udp[0] = 0xc0;				/* source port 49152 */
	udp[2] = SROCE_ROCEV2_UDP_PORT >> 8;
	udp[3] = SROCE_ROCEV2_UDP_PORT & 0xff;
	udp[4] = udp_len >> 8;
	udp[5] = udp_len;
}

static void pc_run(unsigned int payload_len, unsigned int n)
{
	struct pc_ctx c = { .payload_len = payload_len };
	unsigned int i, good;
	__u8 *src;

	c.len = PC_HDR_LEN + payload_len + sroce_pad_for(payload_len) +
		SROCE_ICRC_LEN;
	c.l3 = calloc(1, PC_IPV4_LEN + PC_UDP_LEN + c.len);
	src = malloc(payload_len ? payload_len : 1);
	if (!c.l3 || !src) {
		expect(0, "%u B: memory for the packet", payload_len);
		goto out;
	}
	for (i = 0; i < payload_len; i++)
		src[i] = i * 7 + 3;
	c.src = src;
	c.bth = c.l3 + PC_IPV4_LEN + PC_UDP_LEN;
	pc_l3_init(&c);
	c.pkt.bth.opcode = SROCE_RC_WRITE_ONLY;
	c.pkt.bth.pkey = 0xffff;
	c.pkt.bth.dqpn = 0x000123;
	c.pkt.bth.ack_req = true;
	c.pkt.bth.psn = 0xfffff0;		/* wraps on the way */
	c.pkt.reth.va = 0x7f0000001000ULL;
	c.pkt.reth.rkey = 0x1234;
	c.pkt.reth.dma_len = payload_len;
	c.pkt.payload_len = payload_len;

	/* Once outside pc_loop, so outside the count: lazy binding. */
	good = pc_packet(&c);
	good += pc_loop(&c, n);
	expect(good == n + 1,
	       "%u B: %u of %u RC WRITE ONLY packets built, ICRC filled and checked, parsed back whole (" PC_CRC_NAME " CRC-32)",
	       payload_len, good, n + 1);

	/* A wrong ICRC must not pass: the loop's check is a real one. */
	pc_build(&c);
	pc_icrc_fill(&c);
	c.bth[SROCE_BTH_LEN + 3] ^= 0x10;
	expect(pc_icrc_check(&c) == -EBADMSG,
	       "%u B: a flipped RETH bit fails the ICRC check", payload_len);
out:
	free(src);
	free(c.l3);
}

static void pc_crc_selftest(void)
{
	static const char check[] = "123456789";
	__u32 crc = ~sroce_crc32(~0U, check, 9);
#ifdef PKTCOST_SLICE8
	unsigned int len, off, diff = 0;
	__u8 buf[600];

	for (len = 0; len < sizeof(buf); len++)
		buf[len] = rand();
	for (len = 0; len < 520; len++)
		for (off = 0; off < 8; off++)
			diff += sroce_crc32(~len, buf + off, len) !=
				unit_crc32_bitwise(~len, buf + off, len);
	expect(!diff,
	       "slice-by-8 CRC-32 equals unit.h's on 0..519 bytes at 8 alignments (%u differ)",
	       diff);
#endif
	expect(crc == 0xcbf43926, PC_CRC_NAME " CRC-32 of \"123456789\" is 0xcbf43926 (0x%08x)",
	       crc);
}

int main(int argc, char **argv)
{
	unsigned int n = 100;
	int opt;

	unit_suite = "pktcost";
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			goto usage;
		n = strtoul(optarg, NULL, 0);
	}
	if (optind == argc || !n)
		goto usage;
	pc_crc_init();
	pc_crc_selftest();
	for (; optind < argc; optind++) {
		unsigned int len = strtoul(argv[optind], NULL, 0);

		if (len > PC_MAX_PAYLOAD) {
			fprintf(stderr, "pktcost: payload %u is over %u bytes\n",
				len, PC_MAX_PAYLOAD);
			return 2;
		}
		pc_run(len, n);
	}
	return unit_report();

usage:
	fprintf(stderr, "usage: pktcost [-n PACKETS] PAYLOAD_BYTES...\n");
	return 2;
}
