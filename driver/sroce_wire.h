/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * RoCEv2 on the wire: the IBTA transport headers that follow the UDP header
 * (BTH and its extension headers), the opcode table, packet parsing and
 * building, the ICRC, and 24-bit PSN arithmetic.
 *
 * This is pure protocol logic: no kernel calls, only <linux/types.h> types
 * and byte-array loads and stores, so the host unit tests and the fuzzer
 * (tests/unit/) compile it unchanged.  The one external need, CRC-32, comes
 * from the environment through sroce_crc32().
 */
#ifndef SROCE_WIRE_H
#define SROCE_WIRE_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#endif

#define SROCE_ROCEV2_UDP_PORT	4791

/* Header lengths in bytes. */
#define SROCE_BTH_LEN		12
#define SROCE_RETH_LEN		16
#define SROCE_AETH_LEN		4
#define SROCE_ATMETH_LEN	28
#define SROCE_ATMACK_LEN	8
#define SROCE_IMMDT_LEN		4
#define SROCE_IETH_LEN		4
#define SROCE_DETH_LEN		8
#define SROCE_XRCETH_LEN	4
#define SROCE_ICRC_LEN		4
#define SROCE_FETH_LEN		4

/* The payload of an ATOMIC WRITE: one naturally aligned 8-byte word. */
#define SROCE_ATOMIC_WRITE_LEN	8

/* Opcodes (IBTA 9.2.1): the top three bits select the transport. */
enum sroce_opcode {
	SROCE_RC_SEND_FIRST			= 0x00,
	SROCE_RC_SEND_MIDDLE			= 0x01,
	SROCE_RC_SEND_LAST			= 0x02,
	SROCE_RC_SEND_LAST_IMM			= 0x03,
	SROCE_RC_SEND_ONLY			= 0x04,
	SROCE_RC_SEND_ONLY_IMM			= 0x05,
	SROCE_RC_WRITE_FIRST			= 0x06,
	SROCE_RC_WRITE_MIDDLE			= 0x07,
	SROCE_RC_WRITE_LAST			= 0x08,
	SROCE_RC_WRITE_LAST_IMM			= 0x09,
	SROCE_RC_WRITE_ONLY			= 0x0a,
	SROCE_RC_WRITE_ONLY_IMM			= 0x0b,
	SROCE_RC_READ_REQUEST			= 0x0c,
	SROCE_RC_READ_RESPONSE_FIRST		= 0x0d,
	SROCE_RC_READ_RESPONSE_MIDDLE		= 0x0e,
	SROCE_RC_READ_RESPONSE_LAST		= 0x0f,
	SROCE_RC_READ_RESPONSE_ONLY		= 0x10,
	SROCE_RC_ACKNOWLEDGE			= 0x11,
	SROCE_RC_ATOMIC_ACKNOWLEDGE		= 0x12,
	SROCE_RC_COMPARE_SWAP			= 0x13,
	SROCE_RC_FETCH_ADD			= 0x14,
	SROCE_RC_SEND_LAST_INV			= 0x16,
	SROCE_RC_SEND_ONLY_INV			= 0x17,
	SROCE_RC_FLUSH				= 0x1c,
	SROCE_RC_ATOMIC_WRITE			= 0x1d,
	SROCE_UC_SEND_FIRST			= 0x20,
	SROCE_UC_SEND_MIDDLE			= 0x21,
	SROCE_UC_SEND_LAST			= 0x22,
	SROCE_UC_SEND_LAST_IMM			= 0x23,
	SROCE_UC_SEND_ONLY			= 0x24,
	SROCE_UC_SEND_ONLY_IMM			= 0x25,
	SROCE_UC_WRITE_FIRST			= 0x26,
	SROCE_UC_WRITE_MIDDLE			= 0x27,
	SROCE_UC_WRITE_LAST			= 0x28,
	SROCE_UC_WRITE_LAST_IMM			= 0x29,
	SROCE_UC_WRITE_ONLY			= 0x2a,
	SROCE_UC_WRITE_ONLY_IMM			= 0x2b,
	SROCE_UD_SEND_ONLY			= 0x64,
	SROCE_UD_SEND_ONLY_IMM			= 0x65,
	/* XRC: RC's opcodes in transport 5, 0xa0 | (RC opcode & 0x1f). */
	SROCE_XRC_SEND_ONLY			= 0xa4,
	SROCE_XRC_SEND_ONLY_IMM			= 0xa5,
	SROCE_XRC_READ_REQUEST			= 0xac,
	SROCE_XRC_ACKNOWLEDGE			= 0xb1,
};

/* Extension headers present after the BTH, in wire order. */
enum sroce_hdr {
	SROCE_HDR_DETH		= 1 << 0,
	SROCE_HDR_RETH		= 1 << 1,
	SROCE_HDR_ATMETH	= 1 << 2,
	SROCE_HDR_AETH		= 1 << 3,
	SROCE_HDR_ATMACK	= 1 << 4,
	SROCE_HDR_IMMDT		= 1 << 5,
	SROCE_HDR_IETH		= 1 << 6,
	SROCE_HDR_XRCETH	= 1 << 7,	/* XRC requests: after the BTH */
	SROCE_HDR_FETH		= 1 << 8,	/* before the RETH */
};

/* What a packet of an opcode is and where it sits in its message. */
enum sroce_op_flag {
	SROCE_OP_REQUEST	= 1 << 0,	/* requester to responder; else a response */
	SROCE_OP_FIRST		= 1 << 2,
	SROCE_OP_MIDDLE		= 1 << 3,
	SROCE_OP_LAST		= 1 << 4,
	SROCE_OP_ONLY		= SROCE_OP_FIRST | SROCE_OP_LAST,
	SROCE_OP_PAYLOAD	= 1 << 5,	/* may carry data */
	SROCE_OP_SEND		= 1 << 6,
	SROCE_OP_WRITE		= 1 << 7,
	SROCE_OP_READ		= 1 << 8,
	SROCE_OP_ATOMIC		= 1 << 9,
	/*
	 * Memory placement (IBTA 1.5): ATOMIC WRITE and FLUSH hold a
	 * responder resource as a READ does and are answered with a READ
	 * RESPONSE ONLY without payload.
	 */
	SROCE_OP_PLACEMENT	= 1 << 10,
};

struct sroce_opcode_info {
	const char *name;
	__u16 hdrs;		/* enum sroce_hdr */
	__u16 flags;		/* enum sroce_op_flag */
};

/* The transport an opcode belongs to: its top three bits (IBTA 9.2.1). */
#define SROCE_TRANSPORT_RC	0
#define SROCE_TRANSPORT_UC	1
#define SROCE_TRANSPORT_UD	3
#define SROCE_TRANSPORT_XRC	5

static inline unsigned int sroce_opcode_transport(__u8 opcode)
{
	return opcode >> 5;
}

/*
 * UC's SEND and WRITE opcodes are RC's (SEND FIRST .. WRITE ONLY with
 * immediate) in the UC transport.
 */
static inline __u8 sroce_uc_opcode(__u8 rc_opcode)
{
	return (__u8)(SROCE_TRANSPORT_UC << 5 | (rc_opcode & 0x1f));
}

/*
 * XRC (IBTA 9.2, 9.7.8): RC's opcodes, requests and responses alike, in
 * the XRC transport.  A request carries an XRCETH naming the SRQ its
 * SENDs go to (every request has one, READ and ATOMIC too); a response
 * (ACK, READ response, ATOMIC ACK) has none.
 */
static inline __u8 sroce_xrc_opcode(__u8 rc_opcode)
{
	return (__u8)(SROCE_TRANSPORT_XRC << 5 | (rc_opcode & 0x1f));
}

/* NULL for a reserved or unsupported opcode. */
const struct sroce_opcode_info *sroce_opcode_info(__u8 opcode);
/* The BTH and all extension headers of a packet of this opcode. */
unsigned int sroce_opcode_hdr_len(const struct sroce_opcode_info *op);

struct sroce_bth {
	__u8 opcode;
	bool se;		/* solicited event */
	bool mig;		/* migration state */
	__u8 pad;		/* 0..3 bytes after the payload */
	__u8 tver;		/* transport header version, 0 */
	__u16 pkey;
	bool fecn, becn;
	__u32 dqpn;		/* 24 bits */
	bool ack_req;
	__u32 psn;		/* 24 bits */
};

struct sroce_reth {
	__u64 va;
	__u32 rkey;
	__u32 dma_len;
};

struct sroce_atmeth {
	__u64 va;
	__u32 rkey;
	__u64 swap_add;
	__u64 compare;
};

/* FETH (IBTA 1.5): placement type in bits 3:0, selectivity in bits 5:4. */
#define SROCE_FETH_PLT_GLOBAL		0x1	/* IB_FLUSH_GLOBAL */
#define SROCE_FETH_PLT_PERSISTENT	0x2	/* IB_FLUSH_PERSISTENT */
#define SROCE_FETH_SEL_RANGE		0	/* IB_FLUSH_RANGE: the RETH's */
#define SROCE_FETH_SEL_MR		1	/* IB_FLUSH_MR: all of the MR */

struct sroce_feth {
	__u8 plt;		/* placement type, 4 bits */
	__u8 sel;		/* selectivity level, 2 bits */
};

/* AETH syndrome (IBTA 9.7.5.2.1): top bits say ACK, RNR NAK or NAK. */
#define SROCE_AETH_TYPE_MASK	0x60
#define SROCE_AETH_ACK		0x00	/* low 5 bits: credit count */
#define SROCE_AETH_RNR_NAK	0x20	/* low 5 bits: RNR timer code */
#define SROCE_AETH_NAK		0x60	/* low 5 bits: NAK code */
#define SROCE_AETH_VALUE_MASK	0x1f
#define SROCE_AETH_CREDITS_INVALID	0x1f

enum sroce_nak_code {
	SROCE_NAK_PSN_SEQ_ERROR		= 0,
	SROCE_NAK_INVALID_REQUEST	= 1,
	SROCE_NAK_REMOTE_ACCESS		= 2,
	SROCE_NAK_REMOTE_OP_ERROR	= 3,
	SROCE_NAK_INVALID_RD_REQUEST	= 4,
};

struct sroce_aeth {
	__u8 syndrome;
	__u32 msn;		/* 24 bits */
};

static inline __u8 sroce_aeth_ack(__u8 credits)
{
	return SROCE_AETH_ACK | (credits & SROCE_AETH_VALUE_MASK);
}

static inline __u8 sroce_aeth_rnr_nak(__u8 timer_code)
{
	return SROCE_AETH_RNR_NAK | (timer_code & SROCE_AETH_VALUE_MASK);
}

static inline __u8 sroce_aeth_nak(enum sroce_nak_code code)
{
	return SROCE_AETH_NAK | (code & SROCE_AETH_VALUE_MASK);
}

struct sroce_deth {
	__u32 qkey;
	__u32 sqpn;		/* 24 bits */
};

/* The XRC extended transport header: one reserved byte, then the SRQ. */
struct sroce_xrceth {
	__u32 srqn;		/* 24 bits */
};

/* A parsed packet: which headers it has and where its payload is. */
struct sroce_pkt {
	const struct sroce_opcode_info *op;
	struct sroce_bth bth;
	struct sroce_feth feth;
	struct sroce_reth reth;
	struct sroce_atmeth atmeth;
	struct sroce_aeth aeth;
	__u64 atmack;		/* original data of an atomic ACK */
	__u32 immdt;		/* host order */
	__u32 ieth;		/* invalidated R_Key */
	struct sroce_deth deth;
	struct sroce_xrceth xrceth;
	bool xrc;		/* an XRC packet, its opcode made RC's */
	unsigned int payload_off;	/* from the BTH */
	unsigned int payload_len;	/* without the pad */
};

int sroce_parse(const void *buf, unsigned int len, struct sroce_pkt *pkt);
void sroce_pkt_xrc_to_rc(struct sroce_pkt *pkt);
int sroce_build(void *buf, unsigned int len, const struct sroce_pkt *pkt);
unsigned int sroce_pad_for(unsigned int payload_len);

void sroce_bth_pack(void *buf, const struct sroce_bth *bth);
void sroce_bth_unpack(const void *buf, struct sroce_bth *bth);

/*
 * ICRC (IBTA Annex A17.3.3).  @l3 points at the IPv4 or IPv6 header, whose
 * version nibble selects the masking; @len runs from there to the end of
 * the UDP payload, ICRC included.
 */
__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len);
int sroce_icrc_compute(const void *l3, unsigned int len, __u32 *icrc);
int sroce_icrc_check(const void *l3, unsigned int len);
int sroce_icrc_fill(void *l3, unsigned int len);

/* 24-bit PSN arithmetic (IBTA 9.7.2.1). */
#define SROCE_PSN_MASK		0xffffffU

static inline __u32 sroce_psn_add(__u32 psn, __u32 n)
{
	return (psn + n) & SROCE_PSN_MASK;
}

/* Signed distance a - b in the 24-bit window: positive when a is after b. */
static inline int sroce_psn_diff(__u32 a, __u32 b)
{
	return (int)((a - b) << 8) >> 8;
}

/* IBTA timer encodings. */
unsigned int sroce_rnr_timer_us(__u8 code);
__u64 sroce_local_ack_timeout_ns(__u8 timeout);	/* 0: infinite, returns 0 */

#endif /* SROCE_WIRE_H */
