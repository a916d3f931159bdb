/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * sroce user/kernel ABI.
 *
 * This header is the only contract between sroce.ko and the rdma-core
 * provider (libsroce).  Both sides include it unchanged.  Any change to a
 * structure below that an old provider or an old kernel module could
 * misread must bump SROCE_UVERBS_ABI_VERSION; the provider refuses devices
 * whose ABI version it does not know.
 *
 * Every structure is naturally aligned, padded to a multiple of 8 bytes and
 * carries explicit reserved fields, which must be zero when sent.
 */
#ifndef SROCE_ABI_USER_H
#define SROCE_ABI_USER_H

#include <linux/types.h>

/* Reported through the ib_device's uverbs_abi_ver. */
#define SROCE_UVERBS_ABI_VERSION	1

/* Value of the device's sysfs hca_type attribute; the provider binds by it. */
#define SROCE_HCA_TYPE			"sroce"

/* Response to ibv_alloc_pd(). */
struct sroce_alloc_pd_resp {
	__u32 pdn;		/* always 0: sroce's PDs have no numbers */
	__u32 reserved;
};

/*
 * The user fast path.  Each send queue, receive queue and completion queue
 * is a ring in kernel memory that the provider maps (mmap() of the device
 * file at the offset a create response gives).  A ring starts with a
 * struct sroce_ring_hdr; its slots follow at SROCE_RING_SLOTS_OFFSET, each
 * "stride" bytes long.  The indices are free-running 32-bit counters, the
 * slot of index i is i & (num_slots - 1) (num_slots is a power of two), and
 * 0 <= prod - cons <= num_slots always.
 *
 *              producer    consumer
 *   SQ, RQ     provider    kernel      (doorbell: post_send with no WRs)
 *   CQ         kernel      provider
 *
 * A producer fills a slot, then publishes it with a release store of prod;
 * a consumer reads prod with an acquire load before reading slots.  The
 * kernel copies each user slot once before using it and never trusts an
 * index it did not write: a ring whose prod is out of range puts its QP in
 * the error state, and only that QP suffers.
 */
struct sroce_ring_hdr {
	__u32 prod;
	__u32 reserved0[15];
	__u32 cons;
	__u32 reserved1[15];
	__u32 kstate;		/* SROCE_KSTATE_*, written by the kernel */
	__u32 reserved2[15];
};

#define SROCE_RING_SLOTS_OFFSET		256

/* kstate of a QP's rings: the QP is in the error state, so receive WRs
 * posted now are flushed only once the provider rings the doorbell
 * (post_recv with no WRs).
 */
#define SROCE_KSTATE_QP_ERR		0x1

struct sroce_sge {
	__aligned_u64 addr;
	__u32 length;
	__u32 lkey;
};

/* sroce_send_wqe.flags */
#define SROCE_WQE_SIGNALED		0x1
#define SROCE_WQE_SOLICITED		0x2
#define SROCE_WQE_INLINE		0x4	/* data follows, inline_len bytes */
#define SROCE_WQE_FENCE			0x8

/*
 * Where a UD send goes: the address handle's number (from
 * sroce_create_ah_resp, or a kernel AH's), the destination QP and the
 * Q_Key (one with the high bit set means the QP's own Q_Key, IBTA
 * 10.2.5).
 */
struct sroce_ud_dest {
	__u32 remote_qpn;
	__u32 remote_qkey;
};

/* A send queue slot.  The SGEs or the inline data fill the rest of it. */
struct sroce_send_wqe {
	__aligned_u64 wr_id;
	__u32 opcode;		/* enum ib_uverbs_wr_opcode */
	__u32 flags;		/* SROCE_WQE_* */
	__u32 num_sge;
	__u32 inline_len;
	__u32 imm_data;		/* network byte order, as in ibv_send_wr */
	/*
	 * RDMA and atomics: the remote key; SEND_WITH_INV and LOCAL_INV: the
	 * key to invalidate; a kernel QP's REG_MR (SROCE_WR_REG_MR): the
	 * MR's new key, with its access flags in compare_add.  BIND_MW: the
	 * window's new rkey (whose index names the window), the range at
	 * remote_addr of compare_add bytes, its access flags
	 * (IB_UVERBS_ACCESS_*) in swap and the MR's lkey in mr_lkey.
	 */
	__u32 rkey;
	union {
		__aligned_u64 remote_addr;	/* RC: RDMA and atomics */
		struct sroce_ud_dest ud;	/* UD and GSI QPs */
	};
	/*
	 * ATOMIC_CMP_AND_SWP and FETCH_AND_ADD; ATOMIC_WRITE: the 8 bytes
	 * to store, as they are in memory; FLUSH: the length.
	 */
	__aligned_u64 compare_add;
	/*
	 * ATOMIC_CMP_AND_SWP; FLUSH: the placement type (IB_FLUSH_GLOBAL,
	 * _PERSISTENT) in bits 7:0, the selectivity level (IB_FLUSH_RANGE,
	 * _MR) in bits 15:8.
	 */
	__aligned_u64 swap;
	union {
		__u32 ah;	/* UD: the address handle's number */
		__u32 xrc_srqn;	/* XRC: the remote SRQ (its XRCETH) */
		__u32 mr_lkey;	/* BIND_MW: the MR the window goes on */
	};
	__u32 reserved;
	struct sroce_sge sge[];
};

/* Kernel QPs only: the kernel's IB_WR_REG_MR, registering a fast MR. */
#define SROCE_WR_REG_MR			0x20

/* A receive queue slot. */
struct sroce_recv_wqe {
	__aligned_u64 wr_id;
	__u32 num_sge;
	__u32 reserved;
	struct sroce_sge sge[];
};

/* sroce_cqe.opcode: the values of enum ib_wc_opcode and enum ibv_wc_opcode */
#define SROCE_WC_SEND			0
#define SROCE_WC_RDMA_WRITE		1
#define SROCE_WC_RDMA_READ		2
#define SROCE_WC_COMP_SWAP		3
#define SROCE_WC_FETCH_ADD		4
#define SROCE_WC_BIND_MW		5
#define SROCE_WC_LOCAL_INV		6
#define SROCE_WC_FLUSH			8
#define SROCE_WC_ATOMIC_WRITE		9
#define SROCE_WC_REG_MR			10	/* kernel QPs only */
#define SROCE_WC_RECV			128
#define SROCE_WC_RECV_RDMA_WITH_IMM	129

/* sroce_cqe.flags */
#define SROCE_CQE_WITH_IMM		0x1
/*
 * UD receives: the first 40 bytes of the buffer hold the network header
 * the datagram came with (IPv6, or IPv4 in the last 20 bytes with zeroes
 * before it), and SROCE_CQE_IPV4 says which.
 */
#define SROCE_CQE_GRH			0x2
#define SROCE_CQE_IPV4			0x4
/* A SEND with Invalidate invalidated the rkey in ex. */
#define SROCE_CQE_WITH_INV		0x8

/* A completion queue slot. */
struct sroce_cqe {
	__aligned_u64 wr_id;
	__u8 status;		/* enum ib_wc_status == enum ibv_wc_status */
	__u8 opcode;		/* SROCE_WC_* */
	__u16 flags;		/* SROCE_CQE_* */
	__u32 byte_len;
	__u32 ex;		/* immediate data (network order) or rkey */
	__u32 qp_num;
	__u32 src_qp;
	__u32 vendor_err;
};

/* Where a ring is and what it looks like. */
struct sroce_queue_info {
	__aligned_u64 mmap_offset;
	__aligned_u64 mmap_size;
	__u32 num_slots;
	__u32 stride;		/* bytes per slot */
};

/* Response to ibv_create_cq(). */
struct sroce_create_cq_resp {
	struct sroce_queue_info cq;
};

/*
 * Response to ibv_resize_cq(): the CQ's new ring.  The CQEs not yet polled
 * are in it at the same indices (prod and cons carry over); the provider
 * polls nothing between the call and mapping the new ring.
 */
struct sroce_resize_cq_resp {
	struct sroce_queue_info cq;
};

/* Response to ibv_create_ah(): what a UD WQE names it by. */
struct sroce_create_ah_resp {
	__u32 ah_num;		/* never 0 */
	__u32 reserved;
};

/* Response to ibv_create_qp().  A QP with an SRQ has no RQ: rq is zero. */
struct sroce_create_qp_resp {
	struct sroce_queue_info sq;
	struct sroce_queue_info rq;
};

/*
 * ibv_create_srq(): the driver data of the request carries nothing (the
 * attributes travel in the core's command); the response gives the SRQ's
 * receive ring, laid out as a QP's RQ, which many QPs consume.
 */
struct sroce_create_srq_resp {
	struct sroce_queue_info rq;
};

/*
 * ibv_modify_srq() with IBV_SRQ_MAX_WR: the core's command has no response,
 * so its driver data gives the address of a struct sroce_queue_info that
 * the kernel fills with the SRQ's new ring.  The WQEs not yet taken are in
 * it at the same indices (prod and cons carry over); the provider posts
 * nothing between the call and mapping the new ring.  Without IBV_SRQ_MAX_WR
 * the driver data may be absent and is not read.
 */
struct sroce_modify_srq_cmd {
	__aligned_u64 ring_info_addr;
};

#endif /* SROCE_ABI_USER_H */
