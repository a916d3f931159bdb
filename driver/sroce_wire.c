// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RoCEv2 transport headers: opcode table, header pack/unpack, packet parse
 * and build, ICRC and IBTA timer encodings.  Kernel-independent; see
 * sroce_wire.h.
 */
#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif

#include "sroce_wire.h"

/* Unaligned big-endian loads and stores on byte arrays. */
static __u16 get_be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 get_be24(const __u8 *p)
{
	return (__u32)p[0] << 16 | (__u32)p[1] << 8 | p[2];
}

static __u32 get_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | get_be24(p + 1);
}

static __u64 get_be64(const __u8 *p)
{
	return (__u64)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put_be24(__u8 *p, __u32 v)
{
	p[0] = v >> 16;
	p[1] = v >> 8;
	p[2] = v;
}

static void put_be32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	put_be24(p + 1, v);
}

static void put_be64(__u8 *p, __u64 v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, v);
}

#define OP(_name, _hdrs, _flags)					\
	{ .name = _name, .hdrs = _hdrs, .flags = _flags }

#define REQ	SROCE_OP_REQUEST
#define PAY	SROCE_OP_PAYLOAD
#define XRCETH	SROCE_HDR_XRCETH

static const struct sroce_opcode_info sroce_opcodes[256] = {
	[SROCE_RC_SEND_FIRST] = OP("RC_SEND_FIRST", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_FIRST),
	[SROCE_RC_SEND_MIDDLE] = OP("RC_SEND_MIDDLE", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_MIDDLE),
	[SROCE_RC_SEND_LAST] = OP("RC_SEND_LAST", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[SROCE_RC_SEND_LAST_IMM] = OP("RC_SEND_LAST_IMM", SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[SROCE_RC_SEND_ONLY] = OP("RC_SEND_ONLY", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[SROCE_RC_SEND_ONLY_IMM] = OP("RC_SEND_ONLY_IMM", SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[SROCE_RC_WRITE_FIRST] = OP("RC_WRITE_FIRST", SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_FIRST),
	[SROCE_RC_WRITE_MIDDLE] = OP("RC_WRITE_MIDDLE", 0,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_MIDDLE),
	[SROCE_RC_WRITE_LAST] = OP("RC_WRITE_LAST", 0,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_LAST),
	[SROCE_RC_WRITE_LAST_IMM] = OP("RC_WRITE_LAST_IMM", SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_LAST),
	[SROCE_RC_WRITE_ONLY] = OP("RC_WRITE_ONLY", SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_ONLY),
	[SROCE_RC_WRITE_ONLY_IMM] = OP("RC_WRITE_ONLY_IMM",
		SROCE_HDR_RETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_ONLY),
	[SROCE_RC_READ_REQUEST] = OP("RC_READ_REQUEST", SROCE_HDR_RETH,
		REQ | SROCE_OP_READ | SROCE_OP_ONLY),
	[SROCE_RC_READ_RESPONSE_FIRST] = OP("RC_READ_RESPONSE_FIRST",
		SROCE_HDR_AETH, PAY | SROCE_OP_READ | SROCE_OP_FIRST),
	[SROCE_RC_READ_RESPONSE_MIDDLE] = OP("RC_READ_RESPONSE_MIDDLE", 0,
		PAY | SROCE_OP_READ | SROCE_OP_MIDDLE),
	[SROCE_RC_READ_RESPONSE_LAST] = OP("RC_READ_RESPONSE_LAST",
		SROCE_HDR_AETH, PAY | SROCE_OP_READ | SROCE_OP_LAST),
	[SROCE_RC_READ_RESPONSE_ONLY] = OP("RC_READ_RESPONSE_ONLY",
		SROCE_HDR_AETH, PAY | SROCE_OP_READ | SROCE_OP_ONLY),
	[SROCE_RC_ACKNOWLEDGE] = OP("RC_ACKNOWLEDGE", SROCE_HDR_AETH,
		SROCE_OP_ONLY),
	[SROCE_RC_ATOMIC_ACKNOWLEDGE] = OP("RC_ATOMIC_ACKNOWLEDGE",
		SROCE_HDR_AETH | SROCE_HDR_ATMACK,
		SROCE_OP_ATOMIC | SROCE_OP_ONLY),
	[SROCE_RC_COMPARE_SWAP] = OP("RC_COMPARE_SWAP", SROCE_HDR_ATMETH,
		REQ | SROCE_OP_ATOMIC | SROCE_OP_ONLY),
	[SROCE_RC_FETCH_ADD] = OP("RC_FETCH_ADD", SROCE_HDR_ATMETH,
		REQ | SROCE_OP_ATOMIC | SROCE_OP_ONLY),
	[SROCE_RC_SEND_LAST_INV] = OP("RC_SEND_LAST_INV", SROCE_HDR_IETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[SROCE_RC_SEND_ONLY_INV] = OP("RC_SEND_ONLY_INV", SROCE_HDR_IETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[SROCE_RC_FLUSH] = OP("RC_FLUSH", SROCE_HDR_FETH | SROCE_HDR_RETH,
		REQ | SROCE_OP_PLACEMENT | SROCE_OP_ONLY),
	[SROCE_RC_ATOMIC_WRITE] = OP("RC_ATOMIC_WRITE", SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_PLACEMENT | SROCE_OP_ONLY),
	[SROCE_UC_SEND_FIRST] = OP("UC_SEND_FIRST", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_FIRST),
	[SROCE_UC_SEND_MIDDLE] = OP("UC_SEND_MIDDLE", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_MIDDLE),
	[SROCE_UC_SEND_LAST] = OP("UC_SEND_LAST", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[SROCE_UC_SEND_LAST_IMM] = OP("UC_SEND_LAST_IMM", SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[SROCE_UC_SEND_ONLY] = OP("UC_SEND_ONLY", 0,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[SROCE_UC_SEND_ONLY_IMM] = OP("UC_SEND_ONLY_IMM", SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[SROCE_UC_WRITE_FIRST] = OP("UC_WRITE_FIRST", SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_FIRST),
	[SROCE_UC_WRITE_MIDDLE] = OP("UC_WRITE_MIDDLE", 0,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_MIDDLE),
	[SROCE_UC_WRITE_LAST] = OP("UC_WRITE_LAST", 0,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_LAST),
	[SROCE_UC_WRITE_LAST_IMM] = OP("UC_WRITE_LAST_IMM", SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_LAST),
	[SROCE_UC_WRITE_ONLY] = OP("UC_WRITE_ONLY", SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_ONLY),
	[SROCE_UC_WRITE_ONLY_IMM] = OP("UC_WRITE_ONLY_IMM",
		SROCE_HDR_RETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_ONLY),
	[SROCE_UD_SEND_ONLY] = OP("UD_SEND_ONLY", SROCE_HDR_DETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[SROCE_UD_SEND_ONLY_IMM] = OP("UD_SEND_ONLY_IMM",
		SROCE_HDR_DETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	/* XRC: as RC; requests carry an XRCETH, responses do not. */
	[0xa0] = OP("XRC_SEND_FIRST", XRCETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_FIRST),
	[0xa1] = OP("XRC_SEND_MIDDLE", XRCETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_MIDDLE),
	[0xa2] = OP("XRC_SEND_LAST", XRCETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[0xa3] = OP("XRC_SEND_LAST_IMM", XRCETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[0xa4] = OP("XRC_SEND_ONLY", XRCETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[0xa5] = OP("XRC_SEND_ONLY_IMM", XRCETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
	[0xa6] = OP("XRC_WRITE_FIRST", XRCETH | SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_FIRST),
	[0xa7] = OP("XRC_WRITE_MIDDLE", XRCETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_MIDDLE),
	[0xa8] = OP("XRC_WRITE_LAST", XRCETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_LAST),
	[0xa9] = OP("XRC_WRITE_LAST_IMM", XRCETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_LAST),
	[0xaa] = OP("XRC_WRITE_ONLY", XRCETH | SROCE_HDR_RETH,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_ONLY),
	[0xab] = OP("XRC_WRITE_ONLY_IMM", XRCETH | SROCE_HDR_RETH | SROCE_HDR_IMMDT,
		REQ | PAY | SROCE_OP_WRITE | SROCE_OP_ONLY),
	[0xac] = OP("XRC_READ_REQUEST", XRCETH | SROCE_HDR_RETH,
		REQ | SROCE_OP_READ | SROCE_OP_ONLY),
	[0xad] = OP("XRC_READ_RESPONSE_FIRST", SROCE_HDR_AETH,
		PAY | SROCE_OP_READ | SROCE_OP_FIRST),
	[0xae] = OP("XRC_READ_RESPONSE_MIDDLE", 0,
		PAY | SROCE_OP_READ | SROCE_OP_MIDDLE),
	[0xaf] = OP("XRC_READ_RESPONSE_LAST", SROCE_HDR_AETH,
		PAY | SROCE_OP_READ | SROCE_OP_LAST),
	[0xb0] = OP("XRC_READ_RESPONSE_ONLY", SROCE_HDR_AETH,
		PAY | SROCE_OP_READ | SROCE_OP_ONLY),
	[0xb1] = OP("XRC_ACKNOWLEDGE", SROCE_HDR_AETH,
		SROCE_OP_ONLY),
	[0xb2] = OP("XRC_ATOMIC_ACKNOWLEDGE", SROCE_HDR_AETH | SROCE_HDR_ATMACK,
		SROCE_OP_ATOMIC | SROCE_OP_ONLY),
	[0xb3] = OP("XRC_COMPARE_SWAP", XRCETH | SROCE_HDR_ATMETH,
		REQ | SROCE_OP_ATOMIC | SROCE_OP_ONLY),
	[0xb4] = OP("XRC_FETCH_ADD", XRCETH | SROCE_HDR_ATMETH,
		REQ | SROCE_OP_ATOMIC | SROCE_OP_ONLY),
	[0xb6] = OP("XRC_SEND_LAST_INV", XRCETH | SROCE_HDR_IETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_LAST),
	[0xb7] = OP("XRC_SEND_ONLY_INV", XRCETH | SROCE_HDR_IETH,
		REQ | PAY | SROCE_OP_SEND | SROCE_OP_ONLY),
};

static unsigned int sroce_hdrs_len(__u16 hdrs)
{
	return SROCE_BTH_LEN +
	       (hdrs & SROCE_HDR_DETH ? SROCE_DETH_LEN : 0) +
	       (hdrs & SROCE_HDR_XRCETH ? SROCE_XRCETH_LEN : 0) +
	       (hdrs & SROCE_HDR_FETH ? SROCE_FETH_LEN : 0) +
	       (hdrs & SROCE_HDR_RETH ? SROCE_RETH_LEN : 0) +
	       (hdrs & SROCE_HDR_ATMETH ? SROCE_ATMETH_LEN : 0) +
	       (hdrs & SROCE_HDR_AETH ? SROCE_AETH_LEN : 0) +
	       (hdrs & SROCE_HDR_ATMACK ? SROCE_ATMACK_LEN : 0) +
	       (hdrs & SROCE_HDR_IMMDT ? SROCE_IMMDT_LEN : 0) +
	       (hdrs & SROCE_HDR_IETH ? SROCE_IETH_LEN : 0);
}

const struct sroce_opcode_info *sroce_opcode_info(__u8 opcode)
{
	return sroce_opcodes[opcode].name ? &sroce_opcodes[opcode] : NULL;
}

unsigned int sroce_opcode_hdr_len(const struct sroce_opcode_info *op)
{
	return sroce_hdrs_len(op->hdrs);
}

void sroce_bth_pack(void *buf, const struct sroce_bth *bth)
{
	__u8 *p = buf;

	p[0] = bth->opcode;
	p[1] = (bth->se ? 0x80 : 0) | (bth->mig ? 0x40 : 0) |
	       (bth->pad & 3) << 4 | (bth->tver & 0xf);
	put_be16(p + 2, bth->pkey);
	p[4] = (bth->fecn ? 0x80 : 0) | (bth->becn ? 0x40 : 0);
	put_be24(p + 5, bth->dqpn);
	p[8] = bth->ack_req ? 0x80 : 0;
	put_be24(p + 9, bth->psn);
}

void sroce_bth_unpack(const void *buf, struct sroce_bth *bth)
{
	const __u8 *p = buf;

	bth->opcode = p[0];
	bth->se = p[1] & 0x80;
	bth->mig = p[1] & 0x40;
	bth->pad = (p[1] >> 4) & 3;
	bth->tver = p[1] & 0xf;
	bth->pkey = get_be16(p + 2);
	bth->fecn = p[4] & 0x80;
	bth->becn = p[4] & 0x40;
	bth->dqpn = get_be24(p + 5);
	bth->ack_req = p[8] & 0x80;
	bth->psn = get_be24(p + 9);
}

unsigned int sroce_pad_for(unsigned int payload_len)
{
	return -payload_len & 3;
}

/*
 * Parse the packet in @buf, which runs from the BTH to the end of the UDP
 * payload, ICRC included (the ICRC itself is not checked here).
 *   -EPROTONOSUPPORT  reserved or unsupported opcode, or TVer != 0
 *   -EMSGSIZE         shorter than its headers and ICRC
 *   -EBADMSG          pad count inconsistent with the payload
 */
int sroce_parse(const void *buf, unsigned int len, struct sroce_pkt *pkt)
{
	const __u8 *p = buf;
	unsigned int off = SROCE_BTH_LEN;
	unsigned int hdr_len;
	__u16 hdrs;

	if (len < SROCE_BTH_LEN + SROCE_ICRC_LEN)
		return -EMSGSIZE;
	memset(pkt, 0, sizeof(*pkt));
	sroce_bth_unpack(p, &pkt->bth);
	pkt->op = sroce_opcode_info(pkt->bth.opcode);
	if (!pkt->op || pkt->bth.tver)
		return -EPROTONOSUPPORT;
	hdrs = pkt->op->hdrs;
	hdr_len = sroce_hdrs_len(hdrs);
	if (len < hdr_len + SROCE_ICRC_LEN)
		return -EMSGSIZE;

	if (hdrs & SROCE_HDR_DETH) {
		pkt->deth.qkey = get_be32(p + off);
		pkt->deth.sqpn = get_be24(p + off + 5);
		off += SROCE_DETH_LEN;
	}
	if (hdrs & SROCE_HDR_XRCETH) {
		pkt->xrceth.srqn = get_be24(p + off + 1);
		off += SROCE_XRCETH_LEN;
	}
	if (hdrs & SROCE_HDR_FETH) {
		pkt->feth.plt = p[off + 3] & 0xf;
		pkt->feth.sel = (p[off + 3] >> 4) & 3;
		off += SROCE_FETH_LEN;
	}
	if (hdrs & SROCE_HDR_RETH) {
		pkt->reth.va = get_be64(p + off);
		pkt->reth.rkey = get_be32(p + off + 8);
		pkt->reth.dma_len = get_be32(p + off + 12);
		off += SROCE_RETH_LEN;
	}
	if (hdrs & SROCE_HDR_ATMETH) {
		pkt->atmeth.va = get_be64(p + off);
		pkt->atmeth.rkey = get_be32(p + off + 8);
		pkt->atmeth.swap_add = get_be64(p + off + 12);
		pkt->atmeth.compare = get_be64(p + off + 20);
		off += SROCE_ATMETH_LEN;
	}
	if (hdrs & SROCE_HDR_AETH) {
		pkt->aeth.syndrome = p[off];
		pkt->aeth.msn = get_be24(p + off + 1);
		off += SROCE_AETH_LEN;
	}
	if (hdrs & SROCE_HDR_ATMACK) {
		pkt->atmack = get_be64(p + off);
		off += SROCE_ATMACK_LEN;
	}
	if (hdrs & SROCE_HDR_IMMDT) {
		pkt->immdt = get_be32(p + off);
		off += SROCE_IMMDT_LEN;
	}
	if (hdrs & SROCE_HDR_IETH) {
		pkt->ieth = get_be32(p + off);
		off += SROCE_IETH_LEN;
	}

	pkt->payload_off = off;
	if (!(pkt->op->flags & SROCE_OP_PAYLOAD)) {
		if (pkt->bth.pad || len != off + SROCE_ICRC_LEN)
			return -EBADMSG;
		return 0;
	}
	if (len - off - SROCE_ICRC_LEN < pkt->bth.pad)
		return -EBADMSG;
	pkt->payload_len = len - off - SROCE_ICRC_LEN - pkt->bth.pad;
	if (sroce_pad_for(pkt->payload_len) != pkt->bth.pad)
		return -EBADMSG;
	return 0;
}

/*
 * Make a parsed XRC packet look like the RC packet it mirrors, for the RC
 * engine: the opcode and its table entry become RC's, pkt->xrc says what
 * it was, and pkt->xrceth keeps the SRQ number.  Offsets stay as parsed.
 */
void sroce_pkt_xrc_to_rc(struct sroce_pkt *pkt)
{
	if (sroce_opcode_transport(pkt->bth.opcode) != SROCE_TRANSPORT_XRC)
		return;
	pkt->xrc = true;
	pkt->bth.opcode &= 0x1f;
	pkt->op = sroce_opcode_info(pkt->bth.opcode);
}

/*
 * Write the headers of @pkt (its opcode, BTH and the extension headers the
 * opcode calls for) to @buf.  The BTH pad count is derived from
 * pkt->payload_len.  Returns the header length or -EMSGSIZE/-EINVAL.
 */
int sroce_build(void *buf, unsigned int len, const struct sroce_pkt *pkt)
{
	const struct sroce_opcode_info *op = sroce_opcode_info(pkt->bth.opcode);
	struct sroce_bth bth = pkt->bth;
	unsigned int off = SROCE_BTH_LEN;
	__u8 *p = buf;
	unsigned int hdr_len;

	if (!op)
		return -EINVAL;
	hdr_len = sroce_hdrs_len(op->hdrs);
	if (len < hdr_len)
		return -EMSGSIZE;
	if (pkt->payload_len && !(op->flags & SROCE_OP_PAYLOAD))
		return -EINVAL;

	bth.pad = sroce_pad_for(pkt->payload_len);
	sroce_bth_pack(p, &bth);
	if (op->hdrs & SROCE_HDR_DETH) {
		put_be32(p + off, pkt->deth.qkey);
		p[off + 4] = 0;
		put_be24(p + off + 5, pkt->deth.sqpn);
		off += SROCE_DETH_LEN;
	}
	if (op->hdrs & SROCE_HDR_XRCETH) {
		p[off] = 0;
		put_be24(p + off + 1, pkt->xrceth.srqn);
		off += SROCE_XRCETH_LEN;
	}
	if (op->hdrs & SROCE_HDR_FETH) {
		put_be32(p + off, (pkt->feth.sel & 3) << 4 |
				  (pkt->feth.plt & 0xf));
		off += SROCE_FETH_LEN;
	}
	if (op->hdrs & SROCE_HDR_RETH) {
		put_be64(p + off, pkt->reth.va);
		put_be32(p + off + 8, pkt->reth.rkey);
		put_be32(p + off + 12, pkt->reth.dma_len);
		off += SROCE_RETH_LEN;
	}
	if (op->hdrs & SROCE_HDR_ATMETH) {
		put_be64(p + off, pkt->atmeth.va);
		put_be32(p + off + 8, pkt->atmeth.rkey);
		put_be64(p + off + 12, pkt->atmeth.swap_add);
		put_be64(p + off + 20, pkt->atmeth.compare);
		off += SROCE_ATMETH_LEN;
	}
	if (op->hdrs & SROCE_HDR_AETH) {
		p[off] = pkt->aeth.syndrome;
		put_be24(p + off + 1, pkt->aeth.msn);
		off += SROCE_AETH_LEN;
	}
	if (op->hdrs & SROCE_HDR_ATMACK) {
		put_be64(p + off, pkt->atmack);
		off += SROCE_ATMACK_LEN;
	}
	if (op->hdrs & SROCE_HDR_IMMDT) {
		put_be32(p + off, pkt->immdt);
		off += SROCE_IMMDT_LEN;
	}
	if (op->hdrs & SROCE_HDR_IETH) {
		put_be32(p + off, pkt->ieth);
		off += SROCE_IETH_LEN;
	}
	return off;
}

#define SROCE_IPV4_HDR_LEN	20
#define SROCE_IPV6_HDR_LEN	40
#define SROCE_UDP_HDR_LEN	8

/*
 * The ICRC covers the packet from the IP header on, with the fields that
 * routers may change replaced by ones: IPv4 TOS, TTL and header checksum;
 * IPv6 traffic class, flow label and hop limit; the UDP checksum; and the
 * BTH byte holding FECN, BECN and reserved bits.  The LRH that InfiniBand
 * would carry is replaced by eight bytes of ones.  The CRC-32 result is
 * inverted and sent least significant byte first.
 */
int sroce_icrc_compute(const void *l3, unsigned int len, __u32 *icrc)
{
	static const __u8 masked_lrh[8] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	__u8 hdrs[SROCE_IPV6_HDR_LEN + SROCE_UDP_HDR_LEN + SROCE_BTH_LEN];
	const __u8 *p = l3;
	unsigned int ip_len, hdrs_len;
	__u32 crc;

	if (len < 1)
		return -EMSGSIZE;
	switch (p[0] >> 4) {
	case 4:
		ip_len = SROCE_IPV4_HDR_LEN;
		break;
	case 6:
		ip_len = SROCE_IPV6_HDR_LEN;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	hdrs_len = ip_len + SROCE_UDP_HDR_LEN + SROCE_BTH_LEN;
	if (len < hdrs_len + SROCE_ICRC_LEN)
		return -EMSGSIZE;

	memcpy(hdrs, p, hdrs_len);
	if (ip_len == SROCE_IPV4_HDR_LEN) {
		hdrs[1] = 0xff;				/* TOS */
		hdrs[8] = 0xff;				/* TTL */
		hdrs[10] = 0xff;			/* checksum */
		hdrs[11] = 0xff;
	} else {
		hdrs[0] |= 0x0f;			/* traffic class, */
		memset(hdrs + 1, 0xff, 3);		/* flow label */
		hdrs[7] = 0xff;				/* hop limit */
	}
	hdrs[ip_len + 6] = 0xff;			/* UDP checksum */
	hdrs[ip_len + 7] = 0xff;
	hdrs[ip_len + SROCE_UDP_HDR_LEN + 4] = 0xff;	/* FECN, BECN, resv */

	crc = sroce_crc32(0xffffffff, masked_lrh, sizeof(masked_lrh));
	crc = sroce_crc32(crc, hdrs, hdrs_len);
	crc = sroce_crc32(crc, p + hdrs_len, len - hdrs_len - SROCE_ICRC_LEN);
	*icrc = ~crc;
	return 0;
}

static __u32 get_le32(const __u8 *p)
{
	return (__u32)p[3] << 24 | (__u32)p[2] << 16 | (__u32)p[1] << 8 | p[0];
}

/* 0 when the ICRC at the end of the packet is right, -EBADMSG if not. */
int sroce_icrc_check(const void *l3, unsigned int len)
{
	__u32 icrc;
	int err;

	err = sroce_icrc_compute(l3, len, &icrc);
	if (err)
		return err;
	return icrc == get_le32((const __u8 *)l3 + len - SROCE_ICRC_LEN) ?
	       0 : -EBADMSG;
}

/* Write the ICRC into the last four bytes of the packet. */
int sroce_icrc_fill(void *l3, unsigned int len)
{
	__u8 *end = (__u8 *)l3 + len - SROCE_ICRC_LEN;
	__u32 icrc;
	int err;

	err = sroce_icrc_compute(l3, len, &icrc);
	if (err)
		return err;
	end[0] = icrc;
	end[1] = icrc >> 8;
	end[2] = icrc >> 16;
	end[3] = icrc >> 24;
	return 0;
}

/* RNR NAK timer field (IBTA table 45), in microseconds; code 0 is 655.36 ms. */
static const unsigned int sroce_rnr_us[32] = {
	655360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960,
	1280, 1920, 2560, 3840, 5120, 7680, 10240, 15360, 20480, 30720,
	40960, 61440, 81920, 122880, 163840, 245760, 327680, 491520,
};

unsigned int sroce_rnr_timer_us(__u8 code)
{
	return sroce_rnr_us[code & 0x1f];
}

/* Local ACK timeout (5 bits): 4.096 us * 2^timeout; 0 disables the timer. */
__u64 sroce_local_ack_timeout_ns(__u8 timeout)
{
	timeout &= 0x1f;
	return timeout ? 4096ULL << timeout : 0;
}
