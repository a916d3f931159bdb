/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sroce: a software RoCEv2 device on top of any Ethernet netdev.
 *
 * Objects shared by the driver's files.  Each file has one job:
 *   sroce_main.c   module init/exit, rdma link type, netdev events
 *   sroce_dev.c    ib_device creation, port and device attributes
 *   sroce_verbs.c  user contexts and protection domains
 *   sroce_mr.c     memory regions; sroce_mem.c: the data path's access to them
 *   sroce_mw.c     memory windows: binding, invalidation, remote access
 *   sroce_queue.c  the rings shared with the provider
 *   sroce_cq.c     completion queues
 *   sroce_ah.c     address handles and RoCEv2 address vectors
 *   sroce_qp.c     queue pairs as verbs objects: create, query, destroy
 *   sroce_qp_state.c  the QP state machine: modify, errors, events
 *   sroce_qpn.c    QP numbers, and received packets to their QP's queues
 *   sroce_sched.c  who runs a QP's transport, and where
 *   sroce_req.c    requester: sending WQEs, ACKs, retransmission
 *   sroce_resp.c   responder: executing requests, ACKs and NAKs
 *   sroce_ud.c     UD and GSI QPs: datagrams out and in
 *   sroce_mcast.c  multicast groups of UD QPs
 *   sroce_srq.c    shared receive queues, and taking receive WQEs from them
 *   sroce_xrc.c    XRC domains, XRC SRQ numbers, XRC QPs' own rules
 *   sroce_net.c    UDP port 4791: receiving and transmitting packets
 *   sroce_stats.c  port counters
 *   sroce_netns.c  network namespaces, and disassociating contexts
 */
#ifndef SROCE_H
#define SROCE_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <rdma/ib_verbs.h>
#include <rdma/sroce-abi.h>

#include "sroce_compat.h"
#include "sroce_proto.h"

#define SROCE_PORT		1
#define SROCE_MAX_PD		0x10000
#define SROCE_MAX_MR		0xfffff		/* keys are index << 8 | tag */
#define SROCE_MR_KEY_TAG_BITS	8
#define SROCE_MAX_MW		0xfffff		/* keys as MRs', with ... */
#define SROCE_MW_KEY		BIT(31)		/* ... this bit set */
#define SROCE_MAX_MR_SIZE	BIT_ULL(40)
#define SROCE_MAX_FAST_REG_PAGES	512	/* per fast-registration MR */
#define SROCE_GID_TABLE_LEN	128
#define SROCE_MAX_CQ		0x10000
#define SROCE_MAX_CQE		0x10000
#define SROCE_MAX_QP		0x10000
#define SROCE_GSI_QPN		1		/* one per device */
#define SROCE_MCAST_QPN		0xffffff	/* a datagram to a group */
#define SROCE_MAX_MCAST_GRP	1024		/* per device */
#define SROCE_MAX_MCAST_QP_ATTACH	64	/* per group */
#define SROCE_FIRST_QPN		0x11		/* above the special QPs */
#define SROCE_MAX_QP_WR		0x4000
#define SROCE_MAX_SGE		16
#define SROCE_MAX_INLINE	256
#define SROCE_MAX_RD_ATOMIC	128
#define SROCE_MAX_AH		0x10000
#define SROCE_MAX_SRQ		0x10000
#define SROCE_MAX_SRQ_WR	0x4000

/* sroce has no IEEE OUI; FF-FF-FF is the customary "none". */
#define SROCE_VENDOR_ID		0xffffff

/* The largest RoCE message (IBTA: 2^31 bytes). */
#define SROCE_MAX_MSG_SIZE	0x80000000U

/* The requester's probe after a retransmit timeout (sroce_req.c). */
enum sroce_probe {
	SROCE_PROBE_NONE,
	SROCE_PROBE_DUE,		/* the next packet sent is the probe */
	SROCE_PROBE_OUT,		/* sent: nothing more until a response */
	SROCE_PROBE_TAIL,		/* a tail probe: asks for an ACK, only */
};

/* Firmware version as uverbs reports it: major << 32 | minor << 16 | sub. */
#define SROCE_FW_VERSION	(0ULL << 32 | 1ULL << 16)

/*
 * Port counters (sroce_stats.c).  Those before SROCE_STAT_FIRST_DEV are
 * kept per network namespace (struct sroce_udp, sroce_net.c), the rest in
 * the device's stats[].  All count events except PINNED_PAGES.
 */
enum sroce_stat {
	SROCE_STAT_RX_ICRC_ERR,
	SROCE_STAT_RX_BAD_HDR,
	SROCE_STAT_RX_NO_QP,
	SROCE_STAT_FIRST_DEV,
	SROCE_STAT_RX_QUEUE_FULL = SROCE_STAT_FIRST_DEV,
	SROCE_STAT_RETRANS_TIMEOUT,
	SROCE_STAT_SEQ_NAK_SENT,
	SROCE_STAT_RNR_NAK_SENT,
	SROCE_STAT_TX_ERR,
	SROCE_STAT_TX_PKTS,
	SROCE_STAT_RX_PKTS,
	SROCE_STAT_RX_RESP_DROPPED,	/* responses for PSNs not outstanding */
	SROCE_STAT_RX_QP_NOT_READY,	/* packets for QPs that cannot take them */
	SROCE_STAT_TX_RETRANS,		/* request packets sent again */
	SROCE_STAT_RX_HELD,		/* packets held past a gap */
	SROCE_STAT_RX_QKEY_ERR,		/* datagrams with the wrong Q_Key */
	SROCE_STAT_RX_UD_DROPPED,	/* datagrams with no receive to fit */
	SROCE_STAT_RX_UC_DROPPED,	/* UC packets dropped (sroce_uc.c) */
	SROCE_STAT_RX_UC_ABANDONED,	/* UC messages cut short by a gap */
	SROCE_STAT_ODP_RNR_NAK_SENT,	/* RNR NAKs while on-demand pages fault */
	SROCE_STAT_TX_WORDS,		/* BTH to ICRC sent, in 4-byte words */
	SROCE_STAT_RX_WORDS,		/* ... and taken by a QP */
	SROCE_STAT_PINNED_PAGES,	/* a gauge: pages pinned for MRs now */
	SROCE_NUM_STATS
};

struct sroce_dev {
	struct ib_device ibdev;

	/*
	 * The netdev this device runs on.  The core holds it from
	 * ib_device_set_netdev() until unregistration has destroyed every
	 * QP, so a QP's owner may use it directly (sroce_pkt_send); other
	 * code takes a reference with ib_device_get_netdev(), which fails
	 * once the netdev is going away.
	 */
	struct net_device *ndev;

	/*
	 * Entry in sroce_devs (sroce_main.c).  Protected by sroce_devs_lock.
	 * A device is on the list from just after ib_register_device() until
	 * its dealloc_driver callback.
	 */
	struct list_head list;

	/*
	 * Port state last reported with an IB event, so that repeated netdev
	 * events don't repeat IB events.  Written only from the netdev
	 * notifier, which runs under RTNL.
	 */
	enum ib_port_state reported_state;

	/* The port's capability mask (modify_port), under @port_lock. */
	spinlock_t port_lock;
	u32 port_cap_flags;

	atomic_t num_pds;	/* PDs allocated, at most SROCE_MAX_PD */
	atomic_t num_srqs;	/* SRQs, at most SROCE_MAX_SRQ */

	/*
	 * MRs by key index (sroce_mr.c); the xarray's lock is taken with
	 * bottom halves disabled, since QPs look MRs up in softirq.
	 */
	struct xarray mr_xa;
	u32 mr_next;		/* cyclic allocation hint, under mr_xa's lock */

	/*
	 * Memory windows by key index (sroce_mw.c), locked as mr_xa.  A
	 * window is used only with its xarray's lock held, or its own lock
	 * taken inside it, so it needs no reference count.
	 */
	struct xarray mw_xa;
	u32 mw_next;		/* cyclic allocation hint, under mw_xa's lock */

	/*
	 * AHs by number, which is what a UD WQE names (sroce_ah.c).  The
	 * core creates and destroys kernel AHs in any context, even with
	 * irqs off, so the xarray's lock is taken with irqs saved.
	 */
	struct xarray ah_xa;
	u32 ah_next;		/* cyclic allocation hint, under ah_xa's lock */

	/* The UDP sockets of the device's network namespace (sroce_net.c). */
	struct sroce_udp *udp;

	/* Received packets queued to the device's QPs (sroce_qp_rcv). */
	atomic_t rx_queued;

	/* Counters from SROCE_STAT_FIRST_DEV on; use sroce_stat(). */
	atomic64_t stats[SROCE_NUM_STATS - SROCE_STAT_FIRST_DEV];
};

/* The device's counter @s, which must not be a per-namespace one. */
static inline atomic64_t *sroce_stat(struct sroce_dev *sdev,
				     enum sroce_stat s)
{
	return &sdev->stats[s - SROCE_STAT_FIRST_DEV];
}

static inline void sroce_stat_inc(struct sroce_dev *sdev, enum sroce_stat s)
{
	atomic64_inc(sroce_stat(sdev, s));
}

struct sroce_ucontext {
	struct ib_ucontext ibuc;
};

struct sroce_pd {
	struct ib_pd ibpd;
};

/*
 * A fast-registration MR's page list (alloc_mr, map_mr_sg): the kernel
 * virtual addresses (sroce's DMA addresses) of @npages pages of
 * 1 << @page_shift bytes, the first of which holds @iova at its offset
 * iova & (page size - 1), and the registration's length.
 */
struct sroce_mr_map {
	u64 *pages;		/* max_pages entries */
	u32 npages;
	u32 page_shift;
	u32 offset;		/* of the first byte, in the first page */
	u64 iova;
	u64 length;
};

enum sroce_mr_type {
	SROCE_MR_DMA,		/* kernel users: kernel virtual addresses */
	SROCE_MR_USER,		/* over a umem, pinned or on demand */
	SROCE_MR_FAST,		/* alloc_mr: registered by IB_WR_REG_MR */
};

struct sroce_mr {
	struct ib_mr ibmr;
	enum sroce_mr_type type;
	struct sroce_umem *umem;	/* SROCE_MR_USER only */
	/*
	 * The registration the data path uses: the key, access, iova and
	 * length, and a fast MR's state and page list.  A DMA or user MR's
	 * never changes.  A fast MR's changes only under @reg_lock held for
	 * writing, by the QP owner that executes IB_WR_REG_MR (FREE to
	 * VALID), IB_WR_LOCAL_INV or a SEND with Invalidate (VALID to FREE);
	 * each data path user holds @reg_lock for reading from
	 * sroce_mr_get() to sroce_mr_put() (one packet's copy at most, never
	 * sleeping), so it sees one registration whole, and a page list is
	 * never rewritten under it.  map_mr_sg fills @stage, which nothing
	 * else reads, and REG_MR swaps it with @live: IBTA makes a Fast
	 * Register of a VALID MR an error, so the page list in use is never
	 * the one being mapped.
	 */
	rwlock_t reg_lock;
	u32 key;		/* lkey == rkey */
	int access;
	u64 iova;
	u64 length;
	bool valid;		/* a fast MR: VALID, else FREE */
	struct sroce_mr_map live;	/* a fast MR's registration */
	struct sroce_mr_map stage;	/* ... and the next one, mapped */
	u32 max_pages;
	/*
	 * Memory windows bound to the MR, and whether it is being
	 * deregistered (so none may be bound any more): both under
	 * @reg_lock held for writing.  An MR with bound windows cannot be
	 * deregistered (IBTA 10.6.7.2.6), so a bound window's MR stays.
	 */
	u32 num_mw;
	bool dying;
	/*
	 * One reference for the registration and one for each data path
	 * user that found the MR in mr_xa; deregistration unpublishes the MR,
	 * drops its reference and waits for @released.
	 */
	refcount_t ref;
	struct completion released;
};

/*
 * A memory window (sroce_mw.c).  Its binding is under @lock, taken with
 * bottom halves disabled, inside mw_xa's lock and outside its MR's
 * reg_lock: who finds the window in mw_xa takes @lock before dropping the
 * xarray's, so dealloc_mw, which unpublishes it first, then waits for
 * them on @lock.
 */
struct sroce_mw {
	struct ib_mw ibmw;
	spinlock_t lock;	/* the fields below; see above */
	u32 key;		/* the rkey: index << 8 | tag, SROCE_MW_KEY */
	bool bound;
	struct sroce_mr *mr;	/* while bound: counted in its num_mw */
	int access;		/* IB_ACCESS_REMOTE_* */
	u64 va;
	u64 length;
	u32 qpn;		/* type 2: the QP it was bound through */
};

/*
 * A ring shared with the provider (or private, for kernel users): a
 * struct sroce_ring_hdr followed by @num slots of @stride bytes, in
 * vmalloc memory charged to its creator (sroce_queue.c).  For a user ring
 * the mmap entry owns the memory, which lives until the process unmaps it
 * even after the queue is gone.
 */
struct sroce_queue {
	struct sroce_ring_hdr *hdr;
	u32 num;		/* a power of two */
	u32 stride;
	size_t size;
	struct sroce_mmap_entry *mmap;	/* NULL for a kernel ring */
	u32 idx;		/* the kernel's own index (cons or prod) */
};

struct sroce_mmap_entry {
	struct rdma_user_mmap_entry rdma;
	void *buf;
};

struct sroce_cq {
	struct ib_cq ibcq;
	/*
	 * Serializes the QPs that complete work on this CQ, and arming.
	 * Taken with interrupts saved so any context may post.
	 */
	spinlock_t lock;
	struct sroce_queue q;		/* kernel produces, user consumes */
	u8 notify;			/* 0, IB_CQ_SOLICITED or IB_CQ_NEXT_COMP */
	bool overflow;			/* reported once */
	/*
	 * A kernel CQ's QP of each slot, for ib_wc.qp: written with the CQE
	 * under @lock.  The consumer drains a QP's completions before it
	 * destroys it, as every ULP must.
	 */
	struct ib_qp **slot_qp;
};

/* Where RoCEv2 packets of a connection go from and to. */
struct sroce_av {
	sa_family_t family;		/* AF_INET or AF_INET6 */
	struct in6_addr saddr;		/* IPv4 as v4-mapped */
	struct in6_addr daddr;
	u8 tclass;
	u8 hop_limit;
	u32 flow_label;
	/* What query_qp and query_ah give back. */
	union ib_gid dgid;
	u8 sgid_index;
	u8 dmac[ETH_ALEN];
};

struct sroce_ah {
	struct ib_ah ibah;
	struct sroce_av av;
	u32 num;		/* in the device's ah_xa */
};

/* Pages of an MR's on-demand umem that a QP needs faulted in. */
struct sroce_fault_req {
	struct sroce_mr *mr;		/* a reference, or NULL: none */
	unsigned long idx;		/* first page of the umem */
	unsigned long n;
	bool write;
};

/*
 * What a finished fault job left for its QP: the MR's key (no reference:
 * the MR may be deregistered meanwhile), the first page, and the error.
 */
struct sroce_fault_result {
	u32 lkey;
	unsigned long idx;
	int err;
};

struct sroce_fault;

/* The requester's copy of a send WQE, taken once from the ring. */
struct sroce_swqe {
	struct sroce_send_wqe wqe;
	union {
		struct sroce_sge sge[SROCE_MAX_SGE];
		u8 inline_data[SROCE_MAX_INLINE];
	};
	u32 length;			/* message bytes */
	struct sroce_req_wqe tr;	/* PSNs and response state */
	u32 resp_psn;			/* READ: next response PSN expected */
	u8 status;			/* a local error fails it: IB_WC_* */
	struct sroce_av ud_av;		/* UD: the AH's address, copied */
};

/* The responder's copy of the receive WQE a SEND is filling. */
struct sroce_rwqe {
	struct sroce_recv_wqe wqe;
	struct sroce_sge sge[SROCE_MAX_SGE];
	u32 length;			/* sum of the SGE lengths */
};

/*
 * A shared receive queue (sroce_srq.c).  Its ring is laid out as a QP's
 * RQ; the QPs that use it (ibqp.srq) take WQEs from it with
 * sroce_srq_take().
 */
struct sroce_srq {
	struct ib_srq ibsrq;
	bool kernel;
	u32 max_sge;
	/*
	 * A kernel SRQ's posters (ib_post_srq_recv), which own the ring's
	 * prod; taken with interrupts saved, since ULPs post from any
	 * context.
	 */
	spinlock_t post_lock;
	/*
	 * The consumers: the owners of the QPs that take WQEs (in softirq or
	 * in the worker, never with irqs off), and modify and query.  It
	 * protects q.idx (the ring's cons), @limit and @error, and, for a
	 * user SRQ, @q itself, which a resize replaces under it (ring, size
	 * and all).  Taken with bottom halves disabled.  Nothing nests inside
	 * it: events are raised once it is dropped.
	 */
	spinlock_t lock;
	struct sroce_queue q;
	u32 limit;		/* armed when not 0 (IB_SRQ_LIMIT) */
	bool error;		/* the ring was found broken */
	/*
	 * An XRC SRQ: one reference for being published (sroce_xrc.c) and
	 * one for each target QP handling a request for it; destroy waits
	 * for @xrc_released.
	 */
	refcount_t xrc_ref;
	struct completion xrc_released;
};

struct sroce_xrcd {
	struct ib_xrcd ibxrcd;
};

struct sroce_qp {
	struct ib_qp ibqp;
	struct sroce_dev *sdev;

	/*
	 * One reference for the QP's existence and one for each packet
	 * being handed to it from the receive path; destroy waits for
	 * @released.  The global QP table's lock is held while a reference
	 * is taken from it.
	 */
	refcount_t ref;
	struct completion released;

	/*
	 * A kernel QP's consumer (a ULP) posts through ib_post_send and
	 * ib_post_recv instead of writing the rings from user space.  Then
	 * @sq_post_lock and @rq_post_lock serialize the posters of each ring,
	 * which own its prod; taken with interrupts saved, since ULPs post
	 * from any context.
	 */
	bool kernel;
	struct list_head gsi_entry;	/* QP1 only: see sroce_qpn.c */
	spinlock_t sq_post_lock;	/* a kernel SQ's posters */
	spinlock_t rq_post_lock;	/* a kernel RQ's posters */

	/*
	 * Who runs the QP (sroce_sched.c).  The transport state below (the
	 * state, the attributes, the rings' kernel indices, the requester's
	 * and the responder's fields) belongs to the QP's owner, and only one
	 * context owns a QP at a time:
	 *  - a context that kicks the QP (softirq receive, a timer, the
	 *    doorbell, a kernel poster) runs it at once, with bottom halves
	 *    disabled, unless it is owned or irqs are off;
	 *  - the worker owns it to do what needs sleeping (on-demand pages)
	 *    or what a kick left over;
	 *  - modify, query and destroy own it to change or read it.
	 * @sched_lock (taken with irqs saved; nothing nests inside it)
	 * protects the @sched_* fields and @destroyed, and is never held
	 * while the QP runs.  @owner_mutex serializes the owners that may
	 * sleep (the worker, modify, query, destroy), so that an owner that
	 * cannot sleep never waits for one that does.
	 */
	spinlock_t sched_lock;
	bool sched_owned;		/* a context owns the QP */
	bool sched_again;		/* a kick came while owned: run again */
	bool sched_worker;		/* the worker is queued to own it next */
	bool sched_wanted;		/* modify, query or destroy waits for it */
	bool destroyed;
	struct mutex owner_mutex;	/* see above */
	struct work_struct work;
	/*
	 * The owner's own: may it sleep, and must the round stop where it
	 * is, leaving the packet for later (the worker, or a fault)?
	 */
	bool may_sleep;
	bool stalled;
	/*
	 * On-demand faults (sroce_fault.c).  @fault_want is the owner's: the
	 * pages a stalled round needs, for sroce_fault_submit().  @fault is
	 * the QP's job, written under sroce_fault_lock; @fault_stops, the
	 * owner's, says whether the QP runs no round until it ends (else the
	 * responder RNR NAKs meanwhile, sroce_resp_fault_rnr()).
	 * @fault_done is the last job's outcome: written by the job while
	 * @fault is set, the owner's once it is NULL.
	 */
	struct sroce_fault_req fault_want;
	struct sroce_fault *fault;
	bool fault_stops;
	struct sroce_fault_result fault_done;

	enum ib_qp_state state;
	bool sq_drained_notify;		/* en_sqd_async_notify */
	bool sq_draining;
	bool sig_all;
	int access;			/* remote access the responder allows */
	struct sroce_av av;
	u32 dest_qpn;
	u32 qkey;			/* UD and GSI */
	u16 src_port;			/* UDP source port, per QP */
	u32 mtu;			/* path MTU in bytes */
	u8 path_mtu;			/* enum ib_mtu */
	u8 timeout;			/* local ACK timeout code */
	u8 min_rnr_timer;
	u8 max_rd_atomic;
	u8 max_dest_rd_atomic;
	u32 max_inline;
	u32 max_send_sge, max_recv_sge;

	struct sroce_queue sq, rq;
	struct sroce_cq *scq, *rcq;

	/*
	 * An XRC target QP (sroce_xrc.c): its domain; the owner's: the SRQ
	 * of the request being handled (a reference), the SRQ of the SEND
	 * being received (rwqe_held) and that of the READ being answered.
	 */
	struct ib_xrcd *xrcd;
	struct sroce_srq *xrc_srq;
	u32 xrc_recv_srqn;
	u32 xrc_rd_srqn;

	/* Requester (sroce_req.c).  sq.idx is the oldest WQE not retired. */
	struct sroce_swqe *swqe;	/* sq.num copies, by slot */
	struct sroce_req_wqe *tr_tmp;	/* scratch for sroce_req_on_ack */
	u32 sq_fetched;			/* next ring index to copy */
	u32 sq_send;			/* WQE being transmitted */
	u32 sq_send_pkt;		/* its next packet */
	u32 sq_sent_hi;			/* one past the furthest WQE sent */
	u32 req_psn;			/* one past the newest PSN sent */
	u32 acked_psn;			/* newest PSN acknowledged */
	u32 ack_hi;			/* newest PSN an ACK named */
	/*
	 * READ responses, placed as they come (sroce_req.c): which have
	 * come, when a gap counts as loss, and the rounds that ask again.
	 */
	struct sroce_rd_map rd_map;
	struct sroce_reorder rd_ro;
	u32 rd_seen_hi;			/* newest response PSN seen */
	u64 rd_last_us;			/* when a response last came */
	u64 rd_asked_us;		/* when the last round asked */
	u32 rd_asked_psn;		/* ... from this PSN */
	u32 rd_srtt_us;			/* asking to first answer, smoothed */
	u8 rd_batch;			/* missing runs asked for per round */
	u8 rd_backoff;			/* rounds in a row without progress */
	bool rd_asked;			/* a round is out */
	bool rd_timed;			/* ... and its answer timed */
	struct sroce_retry retry;
	bool rnr_wait;			/* sending paused by an RNR NAK */
	/*
	 * After a timeout, one packet (asking for an ACK) goes first and the
	 * rest waits for a response: see sroce_req_timeout().
	 */
	enum sroce_probe probe;
	/*
	 * retrans_timer fires every retrans_tail jiffies until retrans_due,
	 * for a tail probe, then for the timeout (sroce_req_arm_timer()).
	 */
	struct timer_list retrans_timer;
	unsigned long retrans_due;
	unsigned long retrans_tail;
	struct timer_list rnr_timer;
	unsigned long events;		/* SROCE_EV_*, atomic bitops */
	struct timer_list hold_timer;	/* a gap's hold is over */

	/* Responder (sroce_resp.c). */
	u32 epsn;			/* expected PSN */
	u32 msn;
	bool nak_seq_sent;		/* one sequence NAK per gap */
	bool dup_acked;			/* ACKed a duplicate since new */
	struct sk_buff_head req_held;	/* requests past a gap */
	struct sroce_reorder req_ro;	/* ... and when it counts as loss */
	u16 resp_op;			/* SROCE_OP_SEND or _WRITE in progress, or 0 */
	struct sroce_rwqe rwqe;		/* SEND in progress */
	/*
	 * With an SRQ (ibqp.srq; the QP has no RQ then): @rwqe holds a WQE
	 * taken from it, until completed; and the last WQE reached event of
	 * this stay in the error state is out.
	 */
	bool rwqe_held;
	bool srq_last_wqe;
	u32 recv_off;			/* its bytes so far */
	u32 write_rkey;			/* WRITE in progress */
	u64 write_va;
	u32 write_left;
	u32 write_len;
	struct sroce_rd_res_ring rd_res;
	const struct sroce_rd_res *rd_cur;	/* READ being answered */
	/*
	 * The packets of rd_cur being sent, [rd_first, rd_end): all of it,
	 * or the part a repeated READ asks for.  The answer's opcodes count
	 * from rd_first: FIRST (or ONLY) there, LAST at rd_end - 1.
	 */
	u32 rd_first;
	u32 rd_next;				/* the next one */
	u32 rd_end;

	/*
	 * Received requests (for the responder) and responses (for the
	 * requester): filled in softirq, emptied by the owner; each list has
	 * its own lock.
	 */
	struct sk_buff_head req_rxq;
	struct sk_buff_head resp_rxq;
};

/*
 * The state is written by the QP's owner, and read by others only to shed
 * packets and posts early.
 */
static inline void sroce_qp_set_state(struct sroce_qp *qp,
				      enum ib_qp_state state)
{
	WRITE_ONCE(qp->state, state);
}

/*
 * Received packets waiting for a QP's owner: at most SROCE_RXQ_MAX in
 * each of its two queues, and SROCE_DEV_RXQ_MAX for the whole device
 * (held ones included), so a flood at one QP or many cannot pin unbounded
 * memory.
 */
#define SROCE_RXQ_MAX		2048
#define SROCE_DEV_RXQ_MAX	16384

/* sroce_qp.events: what the timers ask of the QP's owner. */
enum {
	SROCE_EV_TIMEOUT,		/* the retransmit timer expired */
	SROCE_EV_RNR_DONE,		/* the RNR wait is over */
	SROCE_EV_HOLD,			/* a held gap may be due */
};

static inline struct sroce_dev *to_sdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct sroce_dev, ibdev);
}

static inline struct sroce_pd *to_spd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct sroce_pd, ibpd);
}

static inline struct sroce_mr *to_smr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct sroce_mr, ibmr);
}

static inline struct sroce_mw *to_smw(struct ib_mw *ibmw)
{
	return container_of(ibmw, struct sroce_mw, ibmw);
}

static inline bool sroce_key_is_mw(u32 key)
{
	return key & SROCE_MW_KEY;
}

static inline struct sroce_cq *to_scq(struct ib_cq *ibcq)
{
	return container_of(ibcq, struct sroce_cq, ibcq);
}

static inline struct sroce_qp *to_sqp(struct ib_qp *ibqp)
{
	return container_of(ibqp, struct sroce_qp, ibqp);
}

static inline struct sroce_srq *to_ssrq(struct ib_srq *ibsrq)
{
	return container_of(ibsrq, struct sroce_srq, ibsrq);
}

static inline struct sroce_ah *to_sah(struct ib_ah *ibah)
{
	return container_of(ibah, struct sroce_ah, ibah);
}

/* The copy of a received packet's addresses, in skb->cb. */
struct sroce_skb_cb {
	struct in6_addr saddr;		/* IPv4 as v4-mapped */
	struct in6_addr daddr;
	u32 psn;			/* while held (sroce_hold.c) */
};

static inline struct sroce_skb_cb *sroce_skb_cb(struct sk_buff *skb)
{
	return (struct sroce_skb_cb *)skb->cb;
}

/* sroce_netns.c */
struct sroce_dev *sroce_alloc_dev(struct net_device *ndev);
void sroce_disassociate_ucontext(struct ib_ucontext *ibuc);

/* sroce_ah.c */
int sroce_av_from_attr(struct sroce_av *av, const struct rdma_ah_attr *attr);
bool sroce_ah_av(struct sroce_dev *sdev, u32 num, struct ib_pd *pd,
		 struct sroce_av *av);
void sroce_av_to_attr(const struct sroce_av *av, struct rdma_ah_attr *attr);
int sroce_create_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init_attr,
		    struct ib_udata *udata);
int sroce_query_ah(struct ib_ah *ibah, struct rdma_ah_attr *attr);
int sroce_destroy_ah(struct ib_ah *ibah, u32 flags);

/* sroce_cq.c */
int sroce_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
		    SROCE_CREATE_CQ_ARG_TYPE *arg);
int sroce_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata);
int sroce_resize_cq(struct ib_cq *ibcq, SROCE_CQ_SIZE_TYPE cqe,
		    struct ib_udata *udata);
int sroce_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags);
int sroce_cq_post(struct sroce_cq *cq, struct ib_qp *qp,
		  const struct sroce_cqe *cqe, bool solicited);

/* sroce_dev.c */
int sroce_dev_add(const char *name, struct net_device *ndev);
void sroce_port_event(struct sroce_dev *sdev);

/* sroce_main.c */
void sroce_devs_add(struct sroce_dev *sdev);
void sroce_devs_remove(struct sroce_dev *sdev);

/* sroce_mem.c */
struct sroce_mr *sroce_mr_hold(struct sroce_dev *sdev, u32 key);
struct sroce_mr *sroce_mr_get(struct sroce_dev *sdev, u32 key);
void sroce_mr_put(struct sroce_mr *mr);
void sroce_mr_drop(struct sroce_mr *mr);
int sroce_mr_check(struct sroce_mr *mr, struct ib_pd *pd, int access,
		   u64 va, u64 len);
bool sroce_mr_reachable(struct sroce_qp *qp, struct sroce_mr *mr);
int sroce_mr_copy(struct sroce_qp *qp, struct sroce_mr *mr, u64 va,
		  void *buf, u32 len, bool to_mr);
int sroce_mr_atomic(struct sroce_qp *qp, struct sroce_mr *mr, u64 va,
		    u8 opcode, u64 compare, u64 swap_add, u64 *orig);
int sroce_mr_fault_in(struct sroce_qp *qp, struct sroce_mr *mr, u64 va,
		      u64 len);
int sroce_sge_copy(struct sroce_qp *qp, const struct sroce_sge *sge,
		   unsigned int num_sge, u32 offset, void *buf, u32 len,
		   bool to_sge);

/* sroce_mr.c */
struct ib_mr *sroce_get_dma_mr(struct ib_pd *ibpd, int access);
struct ib_mr *sroce_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				u64 iova, int access,
				SROCE_REG_USER_MR_DMAH_ARG
				struct ib_udata *udata);
int sroce_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);
struct ib_mr *sroce_rereg_user_mr(struct ib_mr *ibmr, int flags, u64 start,
				  u64 length, u64 iova, int access,
				  struct ib_pd *ibpd, struct ib_udata *udata);
struct ib_mr *sroce_alloc_mr(struct ib_pd *ibpd, enum ib_mr_type type,
			     u32 max_num_sg);
int sroce_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg, int sg_nents,
		    unsigned int *sg_offset);
u8 sroce_mr_fast_reg(struct sroce_qp *qp, u32 key, int access);
int sroce_mr_invalidate(struct sroce_qp *qp, u32 key, bool remote);
int sroce_advise_mr(struct ib_pd *ibpd, enum ib_uverbs_advise_mr_advice advice,
		    u32 flags, struct ib_sge *sg_list, u32 num_sge,
		    struct uverbs_attr_bundle *attrs);

/* sroce_mw.c */
int sroce_alloc_mw(struct ib_mw *ibmw, struct ib_udata *udata);
int sroce_dealloc_mw(struct ib_mw *ibmw);
u8 sroce_mw_bind(struct sroce_qp *qp, const struct sroce_send_wqe *wqe);
int sroce_mw_invalidate(struct sroce_qp *qp, u32 key, bool remote);
struct sroce_mr *sroce_mw_mr(struct sroce_qp *qp, u32 rkey, int access,
			     u64 va, u64 len);

/* sroce_net.c */
int sroce_udp_get(struct sroce_dev *sdev);
void sroce_udp_put(struct sroce_dev *sdev);
void sroce_udp_read_stats(struct sroce_dev *sdev, u64 *value);
struct sk_buff *sroce_pkt_alloc(struct sroce_qp *qp, struct sroce_pkt *pkt,
				void **payload);
int sroce_pkt_send(struct sroce_qp *qp, struct sk_buff *skb);
int sroce_pkt_send_to(struct sroce_qp *qp, struct sk_buff *skb,
		      const struct sroce_av *av);
int sroce_route_ib_mtu(struct sroce_dev *sdev, const struct sroce_av *av);

/* sroce_mcast.c */
int sroce_attach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid);
int sroce_detach_mcast(struct ib_qp *ibqp, union ib_gid *gid, u16 lid);
void sroce_mcast_qp_destroy(struct sroce_qp *qp);
int sroce_mcast_rcv(struct sroce_udp *udp, const struct sroce_pkt *pkt,
		    struct sk_buff *skb);

/* sroce_qp.c */
int sroce_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *init,
		    struct ib_udata *udata);
int sroce_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		   struct ib_qp_init_attr *init);
int sroce_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata);
int sroce_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
		    const struct ib_send_wr **bad_wr);
int sroce_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
		    const struct ib_recv_wr **bad_wr);

/* sroce_qp_state.c */
int sroce_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr, int mask,
		    struct ib_udata *udata);
void sroce_qp_event(struct sroce_qp *qp, enum ib_event_type type);
void sroce_qp_error(struct sroce_qp *qp, enum ib_event_type event);
void sroce_qp_complete(struct sroce_qp *qp, struct sroce_cq *cq,
		       struct sroce_cqe *cqe, bool solicited);

/* sroce_qpn.c */
int sroce_qpn_reserve(u32 *qpn);
void sroce_qpn_publish(struct sroce_qp *qp);
void sroce_qpn_remove(u32 qpn);
int sroce_gsi_publish(struct sroce_qp *qp);
void sroce_gsi_remove(struct sroce_qp *qp);
void sroce_qp_put(struct sroce_qp *qp);
int sroce_qp_rcv(struct sroce_udp *udp, const struct sroce_pkt *pkt,
		 struct sk_buff *skb);
void sroce_qp_deliver(struct sroce_qp *qp, const struct sroce_pkt *pkt,
		      struct sk_buff *skb);
struct sk_buff *sroce_rxq_pop(struct sroce_qp *qp, struct sk_buff_head *q);
void sroce_rxq_push_back(struct sroce_qp *qp, struct sk_buff_head *q,
			 struct sk_buff *skb);
void sroce_rxq_purge(struct sroce_qp *qp, struct sk_buff_head *q);

/* sroce_sched.c */
extern struct workqueue_struct *sroce_wq;
void sroce_sched_init(struct sroce_qp *qp);
void sroce_sched_stop(struct sroce_qp *qp);
void sroce_qp_kick(struct sroce_qp *qp);
void sroce_qp_own(struct sroce_qp *qp);
void sroce_qp_release(struct sroce_qp *qp);
bool sroce_sched_parse(struct sroce_qp *qp, struct sk_buff *skb,
		       struct sroce_pkt *pkt);

/* sroce_fault.c */
extern struct workqueue_struct *sroce_fault_wq;
void sroce_fault_want(struct sroce_qp *qp, struct sroce_mr *mr,
		      unsigned long idx, unsigned long n, bool write);
int sroce_fault_failed(struct sroce_qp *qp, struct sroce_mr *mr,
		       unsigned long idx);
bool sroce_fault_submit(struct sroce_qp *qp);
void sroce_fault_start(struct sroce_qp *qp);
bool sroce_fault_pending(struct sroce_qp *qp);
bool sroce_fault_stops(struct sroce_qp *qp);
void sroce_fault_detach(struct sroce_qp *qp);
void sroce_fault_release(struct sroce_qp *qp);

/* sroce_hold.c */
u64 sroce_now_us(void);
bool sroce_hold_add(struct sroce_qp *qp, struct sk_buff_head *q,
		    struct sk_buff *skb, u32 psn, u32 base);
struct sk_buff *sroce_hold_take(struct sroce_qp *qp, struct sk_buff_head *q,
				u32 epsn);
bool sroce_hold_first(struct sk_buff_head *q, u32 *psn);
void sroce_hold_purge(struct sroce_qp *qp, struct sk_buff_head *q);
void sroce_hold_arm(struct sroce_qp *qp, u32 wait_us);
void sroce_hold_timer_fn(struct timer_list *t);

/* sroce_kverbs.c */
int sroce_kpost_send(struct sroce_qp *qp, const struct ib_send_wr *wr,
		     const struct ib_send_wr **bad_wr);
int sroce_kpost_recv(struct sroce_qp *qp, const struct ib_recv_wr *wr,
		     const struct ib_recv_wr **bad_wr);
int sroce_kpost_recv_ring(struct sroce_queue *q, u32 max_sge,
			  const struct ib_recv_wr *wr,
			  const struct ib_recv_wr **bad_wr);
int sroce_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc);

/* sroce_queue.c */
int sroce_queue_init(struct sroce_queue *q, u32 num, u32 stride,
		     struct ib_udata *udata, struct sroce_queue_info *info);
void sroce_queue_destroy(struct sroce_queue *q);
int sroce_mmap(struct ib_ucontext *ibuc, struct vm_area_struct *vma);
void sroce_mmap_free(struct rdma_user_mmap_entry *entry);

static inline void *sroce_queue_slot(struct sroce_queue *q, u32 idx)
{
	return (u8 *)q->hdr + SROCE_RING_SLOTS_OFFSET +
	       (size_t)(idx & (q->num - 1)) * q->stride;
}

/*
 * The producer index of an SQ or RQ: the provider's, or a kernel poster's
 * (sroce_kverbs.c).  The acquire pairs with their release store of prod:
 * the slots it covers are written.
 */
static inline u32 sroce_queue_user_prod(struct sroce_queue *q)
{
	/* Pairs with the poster's release store of prod. */
	return smp_load_acquire(&q->hdr->prod);
}

/*
 * Publish the kernel's index of @q: cons for an SQ or RQ (the slots before
 * it may be reused), prod for a CQ (the CQEs before it are written).  The
 * release pairs with the provider's acquire load of the index.
 */
static inline void sroce_queue_publish_cons(struct sroce_queue *q)
{
	/* Pairs with the provider's acquire load of cons. */
	smp_store_release(&q->hdr->cons, q->idx);
}

static inline void sroce_queue_publish_prod(struct sroce_queue *q)
{
	/* Pairs with the provider's acquire load of prod. */
	smp_store_release(&q->hdr->prod, q->idx);
}

/* sroce_req.c */
bool sroce_req_fetch(struct sroce_qp *qp);
void sroce_req_retire(struct sroce_qp *qp, u8 status);
void sroce_req_check_failed(struct sroce_qp *qp);
void sroce_req_run(struct sroce_qp *qp);
void sroce_req_rcv(struct sroce_qp *qp, struct sroce_pkt *pkt,
		   const void *payload, struct sk_buff *skb);
u8 sroce_send_opcode(const struct sroce_swqe *s, bool first, bool last);
int sroce_swqe_payload(struct sroce_qp *qp, const struct sroce_swqe *s,
		       u32 pos, void *payload, u32 len);
void sroce_req_rd_init(struct sroce_qp *qp);
void sroce_req_hold_check(struct sroce_qp *qp);
void sroce_req_reset(struct sroce_qp *qp);
void sroce_req_flush(struct sroce_qp *qp);
void sroce_retrans_timer_fn(struct timer_list *t);
void sroce_rnr_timer_fn(struct timer_list *t);

/* sroce_resp.c */
int sroce_resp_take_rwqe(struct sroce_qp *qp);
struct sroce_mr *sroce_resp_mr(struct sroce_qp *qp, u32 rkey, int access,
			       u64 va, u64 len);
void sroce_resp_recv_done(struct sroce_qp *qp, struct sroce_cqe *cqe,
			  bool solicited);
void sroce_resp_rcv(struct sroce_qp *qp, struct sroce_pkt *pkt,
		    const void *payload, struct sk_buff *skb);
struct sk_buff *sroce_resp_take_held(struct sroce_qp *qp);
bool sroce_resp_fault_rnr(struct sroce_qp *qp, const struct sroce_pkt *pkt);
void sroce_resp_hold_check(struct sroce_qp *qp);
bool sroce_resp_run(struct sroce_qp *qp);
void sroce_resp_reset(struct sroce_qp *qp);
void sroce_resp_flush(struct sroce_qp *qp);

/* sroce_ud.c */
static inline bool sroce_qp_is_ud(const struct sroce_qp *qp)
{
	return qp->ibqp.qp_type == IB_QPT_UD || qp->ibqp.qp_type == IB_QPT_GSI;
}

u16 sroce_ud_src_port(u32 qpn);
u32 sroce_ud_mtu(struct sroce_qp *qp);
void sroce_ud_round(struct sroce_qp *qp);

/* sroce_uc.c */
static inline bool sroce_qp_is_uc(const struct sroce_qp *qp)
{
	return qp->ibqp.qp_type == IB_QPT_UC;
}

void sroce_uc_round(struct sroce_qp *qp);

/* sroce_xrc.c */
static inline bool sroce_qp_is_xrc(const struct sroce_qp *qp)
{
	return qp->ibqp.qp_type == IB_QPT_XRC_INI ||
	       qp->ibqp.qp_type == IB_QPT_XRC_TGT;
}

/* A QP with an SRQ, and an XRC QP, has no RQ of its own. */
static inline bool sroce_qp_has_rq(const struct sroce_qp *qp)
{
	return !qp->ibqp.srq && !sroce_qp_is_xrc(qp);
}

/*
 * The responder's SRQ, CQ and PD: an XRC target QP's are those of the
 * request's XRC SRQ (NULL between requests).
 */
static inline struct sroce_srq *sroce_qp_srq(const struct sroce_qp *qp)
{
	if (qp->ibqp.qp_type == IB_QPT_XRC_TGT)
		return qp->xrc_srq;
	return qp->ibqp.srq ? to_ssrq(qp->ibqp.srq) : NULL;
}

static inline struct sroce_cq *sroce_qp_rcq(const struct sroce_qp *qp)
{
	if (qp->ibqp.qp_type == IB_QPT_XRC_TGT)
		return to_scq(qp->xrc_srq->ibsrq.ext.cq);
	return qp->rcq;
}

static inline struct ib_pd *sroce_qp_pd(const struct sroce_qp *qp)
{
	if (qp->ibqp.qp_type == IB_QPT_XRC_TGT)
		return qp->xrc_srq ? qp->xrc_srq->ibsrq.pd : NULL;
	return qp->ibqp.pd;
}

int sroce_alloc_xrcd(struct ib_xrcd *ibxrcd, struct ib_udata *udata);
int sroce_dealloc_xrcd(struct ib_xrcd *ibxrcd, struct ib_udata *udata);
int sroce_xrc_srq_publish(struct sroce_srq *srq);
void sroce_xrc_srq_remove(struct sroce_srq *srq);
struct sroce_srq *sroce_xrc_srq_get(struct sroce_qp *qp, u32 srqn);
void sroce_xrc_srq_put(struct sroce_srq *srq);
bool sroce_xrc_deliverable(const struct sroce_qp *qp,
			   const struct sroce_pkt *pkt);
bool sroce_xrc_begin(struct sroce_qp *qp, const struct sroce_pkt *pkt);
void sroce_xrc_end(struct sroce_qp *qp, const struct sroce_pkt *pkt);
bool sroce_xrc_rd_begin(struct sroce_qp *qp);
void sroce_xrc_rd_end(struct sroce_qp *qp);
void sroce_xrc_flush(struct sroce_qp *qp);

/* sroce_srq.c */
int sroce_create_srq(struct ib_srq *ibsrq, struct ib_srq_init_attr *init,
		     struct ib_udata *udata);
int sroce_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
		     enum ib_srq_attr_mask mask, struct ib_udata *udata);
int sroce_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr);
int sroce_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata);
int sroce_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr);
int sroce_srq_take(struct sroce_srq *srq, struct sroce_rwqe *rwqe);

/* sroce_stats.c */
struct rdma_hw_stats *sroce_alloc_hw_port_stats(struct ib_device *ibdev,
						u32 port);
int sroce_get_hw_stats(struct ib_device *ibdev, struct rdma_hw_stats *stats,
		       u32 port, int index);

/* sroce_verbs.c */
int sroce_alloc_ucontext(struct ib_ucontext *ibuc, struct ib_udata *udata);
void sroce_dealloc_ucontext(struct ib_ucontext *ibuc);
int sroce_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int sroce_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);

#endif /* SROCE_H */
