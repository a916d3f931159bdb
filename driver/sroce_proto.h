/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * RC transport rules (IBTA 9.7), as pure functions over small state:
 *  - the responder's PSN check: new, duplicate or ahead (sequence error);
 *  - the responder's READ/ATOMIC resources, from which duplicate requests
 *    are answered again without executing twice;
 *  - the requester's handling of ACKs, NAKs and timeouts: which work
 *    requests complete, where to resume sending, when to give up;
 *  - and UC's responder rules (IBTA 9.8.3): the expected PSN and the
 *    message in progress, with no ACK, NAK or duplicate ever.
 *
 * No kernel calls (see sroce_wire.h); the data path keeps the state and
 * acts on the verdicts, and tests/unit/test_proto.c checks every rule.
 */
#ifndef SROCE_PROTO_H
#define SROCE_PROTO_H

#include "sroce_wire.h"

/* --- Responder ----------------------------------------------------------- */

enum sroce_psn_verdict {
	SROCE_PSN_NEW,		/* the expected PSN: execute */
	SROCE_PSN_DUPLICATE,	/* already seen: acknowledge or replay */
	SROCE_PSN_AHEAD,	/* a packet was lost: NAK sequence error */
};

/*
 * Half the PSN space is "behind" the expected PSN and counts as duplicate;
 * the other half is ahead (IBTA 9.7.5.1.1).
 */
static inline enum sroce_psn_verdict sroce_rsp_check_psn(__u32 epsn,
							 __u32 psn)
{
	int d = sroce_psn_diff(psn, epsn);

	if (!d)
		return SROCE_PSN_NEW;
	return d < 0 ? SROCE_PSN_DUPLICATE : SROCE_PSN_AHEAD;
}

/*
 * May a responder whose memory is not ready for request @psn (an
 * on-demand page that must be faulted in first) answer it with an RNR
 * NAK, and execute it when the requester sends it again?  Only a new
 * request at the expected PSN @epsn, of any kind that touches memory:
 * nothing of it is executed yet, and the requester resends from there.
 */
static inline bool sroce_rsp_fault_rnr(__u32 epsn, __u32 psn, __u16 flags)
{
	return (flags & SROCE_OP_REQUEST) &&
	       (flags & (SROCE_OP_SEND | SROCE_OP_WRITE | SROCE_OP_READ |
			 SROCE_OP_ATOMIC | SROCE_OP_PLACEMENT)) &&
	       sroce_rsp_check_psn(epsn, psn) == SROCE_PSN_NEW;
}

/* One executed READ or ATOMIC request, kept for duplicates. */
struct sroce_rd_res {
	__u8 opcode;		/* 0: slot unused */
	__u32 first_psn;	/* of the request */
	__u32 last_psn;		/* of its last response packet */
	__u64 va;		/* READ: start of the data */
	__u32 rkey;
	__u32 length;		/* READ: bytes */
	__u64 atomic_orig;	/* ATOMIC: the value returned */
};

/* Slots for executed READs and ATOMICs, reused oldest first. */
struct sroce_rd_res_ring {
	struct sroce_rd_res *slot;
	unsigned int size;
	unsigned int next;
};

struct sroce_rd_res *sroce_rd_res_next(struct sroce_rd_res_ring *ring);
const struct sroce_rd_res *
sroce_rd_res_find(const struct sroce_rd_res_ring *ring, __u8 opcode,
		  __u32 psn);

/*
 * Where a duplicate READ request asking from @psn restarts in @res's data:
 * each response packet but the last carries @mtu bytes.  Returns false if
 * @psn is not one of @res's responses.
 */
bool sroce_rd_res_replay(const struct sroce_rd_res *res, __u32 psn,
			 unsigned int mtu, __u32 *offset);

/* --- UC responder ------------------------------------------------------- */

/*
 * A UC responder takes each packet as it comes (IBTA 9.8.3): nothing is
 * acknowledged, nothing sent again, so nothing is held.  A packet that is
 * not the one expected (its PSN, or its place in the message in progress)
 * ends the message in progress, which is abandoned (its receive WQE is not
 * consumed, what a WRITE wrote stays written).  Such a packet starts a
 * new message if it is a FIRST or an ONLY; a MIDDLE or LAST is dropped,
 * and so is every packet after it up to the next FIRST or ONLY.
 */
struct sroce_uc_rx {
	__u32 epsn;		/* the PSN expected next */
	__u16 msg;		/* SROCE_OP_SEND or _WRITE in progress, or 0 */
};

enum sroce_uc_verdict {
	SROCE_UC_NEXT,		/* in sequence: execute it */
	SROCE_UC_RESTART,	/* abandon the message in progress; execute it */
	SROCE_UC_DROP,		/* drop it (and the message in progress) */
};

/*
 * Where does packet @psn with sroce_op_flag @flags (a SEND or WRITE) stand?
 * Changes nothing: the caller executes it and then calls sroce_uc_done(),
 * or, if it cannot be executed (no receive posted, too long, a bad key),
 * sroce_uc_abandon().  RESTART and DROP abandon the message in progress,
 * if any: the caller calls sroce_uc_abandon() first.
 */
enum sroce_uc_verdict sroce_uc_check(const struct sroce_uc_rx *rx,
				     __u16 flags, __u32 psn);

/* Packet @psn with @flags was executed: the next one is expected. */
void sroce_uc_done(struct sroce_uc_rx *rx, __u16 flags, __u32 psn);

/*
 * The message in progress is dropped: the packets up to the next FIRST or
 * ONLY are too.  Returns whether a message was in progress.
 */
bool sroce_uc_abandon(struct sroce_uc_rx *rx);

/* --- Reordering ---------------------------------------------------------- */

/*
 * Networks reorder (netem, multipath, a NIC's queues): a packet past the
 * expected PSN may have overtaken the one expected rather than followed its
 * loss.  A receiver (the responder for requests, the requester for READ
 * responses) holds such packets, executes them when the gap fills, and
 * reports the gap (a sequence NAK, a READ asked again) only once it has
 * been open for hold_us.  On the wire this is a NAK sent later, which the
 * IBTA allows: it is what a slower network would show.
 *
 * hold_us adapts to the path.  A report is spurious if the gap's first
 * packet shows up twice after it (the late original, then the copy the
 * report asked for): hold_us doubles.  A report that brings no second copy
 * was a real loss: hold_us shrinks by an eighth, so that losses are
 * reported quickly on a path that does not reorder.
 */
#define SROCE_REORDER_MIN_US	64
#define SROCE_REORDER_INIT_US	500
#define SROCE_REORDER_MAX_US	8192
/* Packets a receiver holds beyond one gap. */
#define SROCE_REORDER_MAX_HELD	128

struct sroce_reorder {
	__u32 hold_us;		/* how long a gap stays open unreported */
	__u64 since_us;		/* when the open gap opened */
	__u32 gap_psn;		/* the PSN missing: the expected one */
	__u32 watch_psn;	/* a reported gap since filled, while watched */
	bool open;		/* packets beyond gap_psn are held */
	bool urgent;		/* one could not be held: report at once */
	bool reported;		/* the open gap has been reported */
	bool watch;		/* is a second copy of watch_psn coming? */
	bool again;		/* the open gap was asked for twice */
};

void sroce_reorder_init(struct sroce_reorder *ro);

/*
 * Packet @psn, past the expected @epsn, arrived at @now_us with @held
 * packets held already.  Returns whether to hold it (else it is dropped,
 * and the gap is reported at once: what was not held must be sent again).
 * Opens a gap at @epsn if none is open.
 */
bool sroce_reorder_ahead(struct sroce_reorder *ro, __u32 epsn, __u32 psn,
			 unsigned int held, __u64 now_us);

/*
 * Should the open gap be reported now?  True once per gap, when it has
 * been open for hold_us (or could not hold a packet).  Otherwise
 * *@wait_us is how long until it is due, 0 if nothing is pending.
 */
bool sroce_reorder_due(struct sroce_reorder *ro, __u64 now_us,
		       __u32 *wait_us);

/* The expected PSN moved on: the open gap, if any, is filled. */
void sroce_reorder_filled(struct sroce_reorder *ro);

/* A copy of @psn, already received, arrived again. */
void sroce_reorder_duplicate(struct sroce_reorder *ro, __u32 psn);

/*
 * The gap (open, or filled and watched) was asked for once more, by a
 * timeout: a second copy of it is then the answer to that, and says
 * nothing about the path.
 */
void sroce_reorder_asked_again(struct sroce_reorder *ro);

/* --- READ responses out of order --------------------------------------- */

/*
 * A READ response carries its place in the message in its PSN, so the
 * requester writes each one where it belongs on arrival, in any order, and
 * notes it here; what is missing is asked for again only once the
 * responder has finished sending (sroce_req.c).  The map covers
 * SROCE_RD_MAP_BITS PSNs from base, the first PSN not yet known received;
 * a response further on is dropped (and asked for again later).
 */
#define SROCE_RD_MAP_BITS	4096

struct sroce_rd_map {
	__u32 base;
	__u64 bits[SROCE_RD_MAP_BITS / 64];	/* bit psn % BITS: received */
};

void sroce_rd_map_reset(struct sroce_rd_map *m, __u32 base);

/* Move base forward to @psn, forgetting what lies before it. */
void sroce_rd_map_move(struct sroce_rd_map *m, __u32 psn);

/* Is @psn within the map (it can be noted)? */
bool sroce_rd_map_covers(const struct sroce_rd_map *m, __u32 psn);

/* Has @psn been received?  PSNs before base have. */
bool sroce_rd_map_test(const struct sroce_rd_map *m, __u32 psn);

/* Note @psn received; false if it is not covered or was noted already. */
bool sroce_rd_map_set(struct sroce_rd_map *m, __u32 psn);

/* Move base past every PSN received from it on; returns how many. */
__u32 sroce_rd_map_advance(struct sroce_rd_map *m);

/*
 * The first run of PSNs not received in [@from, @last]: its first PSN and
 * length.  Returns false if every one of them has been received.
 */
bool sroce_rd_map_hole(const struct sroce_rd_map *m, __u32 from, __u32 last,
		       __u32 *start, __u32 *count);

/* --- Requester ----------------------------------------------------------- */

/* An outstanding work request: its PSN range and what it waits for. */
struct sroce_req_wqe {
	__u32 first_psn;
	__u32 last_psn;
	bool needs_response;	/* READ or ATOMIC: an ACK alone won't do */
	bool responded;		/* its READ data or atomic result arrived */
};

/* Retry budgets (QP attributes retry_cnt and rnr_retry). */
struct sroce_retry {
	__u8 retry_cnt;		/* 0..7 */
	__u8 rnr_retry;		/* 0..7, 7 means retry forever */
	__u8 retry_left;
	__u8 rnr_left;
	bool nak_seen;		/* a sequence NAK was acted on ... */
	__u32 nak_psn;		/* ... for this PSN, with no progress since */
	/* READ responses new to us came past a gap since the last timeout */
	bool new_data;
};

void sroce_retry_init(struct sroce_retry *r, __u8 retry_cnt, __u8 rnr_retry);

/* Forward progress (a new PSN acknowledged) refills both budgets. */
void sroce_retry_progress(struct sroce_retry *r);

/*
 * A READ response never had before came past a gap.  The next timeout
 * resends without spending a retry: a READ's responses are finite, so
 * such timeouts are too, and a slow responder that is still answering
 * is not taken for a lost path.
 */
void sroce_retry_new_data(struct sroce_retry *r);

enum sroce_req_action {
	SROCE_REQ_NONE,		/* nothing to do but complete what's done */
	SROCE_REQ_DROP,		/* outside the PSNs sent: ignore, count it */
	SROCE_REQ_RESEND,	/* resend from resend_psn now */
	SROCE_REQ_RNR_WAIT,	/* resend from resend_psn after wait_us */
	SROCE_REQ_FAIL,		/* the oldest WQE not completed fails */
};

/* Completion statuses the transport produces (enum ib_wc_status values). */
enum sroce_req_status {
	SROCE_REQ_OK			= 0,
	SROCE_REQ_REM_INV_REQ_ERR	= 9,
	SROCE_REQ_REM_ACCESS_ERR	= 10,
	SROCE_REQ_REM_OP_ERR		= 11,
	SROCE_REQ_RETRY_EXC_ERR		= 12,
	SROCE_REQ_RNR_RETRY_EXC_ERR	= 13,
	SROCE_REQ_REM_INV_RD_REQ_ERR	= 15,
};

struct sroce_req_verdict {
	unsigned int completed;	/* oldest WQEs now complete, in order */
	__u32 acked_psn;	/* the newest PSN now acknowledged */
	enum sroce_req_action action;
	__u32 resend_psn;
	unsigned int wait_us;
	enum sroce_req_status status;	/* with SROCE_REQ_FAIL */
};

/*
 * The PSNs a requester has sent and not had acknowledged: a response is
 * believed only if it names one of them (IBTA 9.7.5.1.2 "ghost" and
 * duplicate responses).
 */
struct sroce_req_window {
	__u32 acked_psn;	/* the newest PSN acknowledged */
	__u32 next_psn;		/* one past the newest PSN sent */
	__u32 ack_hi;		/* the newest PSN an ACK named (>= acked_psn) */
};

/* Is @psn one of the PSNs sent and not acknowledged yet? */
static inline bool sroce_req_psn_outstanding(const struct sroce_req_window *w,
					     __u32 psn)
{
	return sroce_psn_diff(psn, w->acked_psn) > 0 &&
	       sroce_psn_diff(psn, w->next_psn) < 0;
}

/*
 * An ACK or NAK (@syndrome, @psn) arrived for the @n outstanding WQEs in
 * @wqe (oldest first), with @w the PSNs sent.  One whose PSN was not sent,
 * or is acknowledged already, is dropped (SROCE_REQ_DROP) and changes
 * nothing.  An ACK acknowledges every packet up to @psn, a NAK those before
 * it; a READ or ATOMIC covered without its response having arrived means
 * the response was lost, so sending resumes at that WQE, unless an ACK as
 * new as this one (w->ack_hi) has already said so: acted on again, each
 * repeat would ask for the READ again and draw more ACKs, a storm without
 * progress.  Acknowledging a new PSN is forward progress and refills both
 * retry budgets.  A sequence NAK that names the PSN the last one named,
 * with no progress since, is a copy (networks duplicate) or the same gap
 * seen again before the resend arrived: it is ignored, since acting on it
 * would send the same packets twice and spend a retry for nothing.
 */
void sroce_req_on_ack(struct sroce_retry *r, const struct sroce_req_window *w,
		      const struct sroce_req_wqe *wqe, unsigned int n,
		      __u8 syndrome, __u32 psn, struct sroce_req_verdict *v);

/*
 * Where go-back-N goes on when it stands at @psn: an ACK that arrived
 * meanwhile may cover packets not resent yet, and those need not go again.
 */
static inline __u32 sroce_req_resume_psn(const struct sroce_req_window *w,
					 __u32 psn)
{
	if (sroce_psn_diff(psn, w->acked_psn) > 0)
		return psn;
	return sroce_psn_add(w->acked_psn, 1);
}

/*
 * READ and ATOMIC requests among the @n outstanding WQEs @wqe, as the
 * responder counts them: each holds one of its max_dest_rd_atomic
 * resources until the requester has completed it, answered or not (an
 * answered one behind an unanswered one is not completed yet, and the
 * responder may be asked for it again).  max_rd_atomic bounds this count.
 */
unsigned int sroce_req_rd_atomic_outstanding(const struct sroce_req_wqe *wqe,
					     unsigned int n);

/* The local ACK timer expired with @n WQEs outstanding. */
void sroce_req_on_timeout(struct sroce_retry *r,
			  const struct sroce_req_wqe *wqe, unsigned int n,
			  struct sroce_req_verdict *v);

#endif /* SROCE_PROTO_H */
