// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RC transport rules: responder resources and the requester's reaction to
 * ACKs, NAKs and timeouts.  Kernel-independent; see sroce_proto.h.
 */
#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif

#include "sroce_proto.h"

#define SROCE_RNR_RETRY_FOREVER	7

/* Take the oldest slot for a new READ or ATOMIC, forgetting what it held. */
struct sroce_rd_res *sroce_rd_res_next(struct sroce_rd_res_ring *ring)
{
	struct sroce_rd_res *res = &ring->slot[ring->next];

	ring->next = (ring->next + 1) % ring->size;
	memset(res, 0, sizeof(*res));
	return res;
}

static bool sroce_psn_in(__u32 psn, __u32 first, __u32 last)
{
	return sroce_psn_diff(psn, first) >= 0 &&
	       sroce_psn_diff(last, psn) >= 0;
}

/*
 * The resource a duplicate request refers to: an ATOMIC by its own PSN,
 * a READ by any PSN of its responses (a requester re-asks from the first
 * response it lacks).  The newest first: when PSNs have come round since
 * an old slot was taken, the request meant is the recent one.
 */
const struct sroce_rd_res *
sroce_rd_res_find(const struct sroce_rd_res_ring *ring, __u8 opcode,
		  __u32 psn)
{
	unsigned int k;

	for (k = 1; k <= ring->size; k++) {
		unsigned int i = (ring->next + ring->size - k) % ring->size;
		const struct sroce_rd_res *res = &ring->slot[i];

		if (!res->opcode || res->opcode != opcode)
			continue;
		if (opcode == SROCE_RC_READ_REQUEST ?
		    sroce_psn_in(psn, res->first_psn, res->last_psn) :
		    psn == res->first_psn)
			return res;
	}
	return NULL;
}

bool sroce_rd_res_replay(const struct sroce_rd_res *res, __u32 psn,
			 unsigned int mtu, __u32 *offset)
{
	__u64 off;

	if (!sroce_psn_in(psn, res->first_psn, res->last_psn))
		return false;
	off = (__u64)sroce_psn_diff(psn, res->first_psn) * mtu;
	if (off > res->length)
		return false;
	*offset = off;
	return true;
}

enum sroce_uc_verdict sroce_uc_check(const struct sroce_uc_rx *rx,
				     __u16 flags, __u32 psn)
{
	__u16 kind = flags & (SROCE_OP_SEND | SROCE_OP_WRITE);
	bool first = flags & SROCE_OP_FIRST;
	bool fits;

	if (rx->msg)
		fits = !first && kind == rx->msg;
	else
		fits = first;
	if (fits && psn == rx->epsn)
		return SROCE_UC_NEXT;
	return first ? SROCE_UC_RESTART : SROCE_UC_DROP;
}

void sroce_uc_done(struct sroce_uc_rx *rx, __u16 flags, __u32 psn)
{
	rx->epsn = sroce_psn_add(psn, 1);
	rx->msg = flags & SROCE_OP_LAST ? 0 :
		  flags & (SROCE_OP_SEND | SROCE_OP_WRITE);
}

bool sroce_uc_abandon(struct sroce_uc_rx *rx)
{
	bool was = rx->msg;

	rx->msg = 0;
	return was;
}

void sroce_rd_map_reset(struct sroce_rd_map *m, __u32 base)
{
	memset(m->bits, 0, sizeof(m->bits));
	m->base = base;
}

static __u64 *sroce_rd_map_word(const struct sroce_rd_map *m, __u32 psn,
				__u64 *mask)
{
	unsigned int bit = psn % SROCE_RD_MAP_BITS;

	*mask = 1ULL << (bit % 64);
	return (__u64 *)&m->bits[bit / 64];
}

bool sroce_rd_map_covers(const struct sroce_rd_map *m, __u32 psn)
{
	int d = sroce_psn_diff(psn, m->base);

	return d >= 0 && d < SROCE_RD_MAP_BITS;
}

void sroce_rd_map_move(struct sroce_rd_map *m, __u32 psn)
{
	int d = sroce_psn_diff(psn, m->base);
	__u64 mask, *w;

	if (d <= 0)
		return;
	if (d >= SROCE_RD_MAP_BITS) {
		sroce_rd_map_reset(m, psn);
		return;
	}
	while (m->base != psn) {
		w = sroce_rd_map_word(m, m->base, &mask);
		*w &= ~mask;
		m->base = sroce_psn_add(m->base, 1);
	}
}

bool sroce_rd_map_test(const struct sroce_rd_map *m, __u32 psn)
{
	__u64 mask, *w;

	if (sroce_psn_diff(psn, m->base) < 0)
		return true;
	if (!sroce_rd_map_covers(m, psn))
		return false;
	w = sroce_rd_map_word(m, psn, &mask);
	return *w & mask;
}

bool sroce_rd_map_set(struct sroce_rd_map *m, __u32 psn)
{
	__u64 mask, *w;

	if (!sroce_rd_map_covers(m, psn))
		return false;
	w = sroce_rd_map_word(m, psn, &mask);
	if (*w & mask)
		return false;
	*w |= mask;
	return true;
}

__u32 sroce_rd_map_advance(struct sroce_rd_map *m)
{
	__u64 mask, *w;
	__u32 n = 0;

	for (;;) {
		w = sroce_rd_map_word(m, m->base, &mask);
		if (!(*w & mask))
			return n;
		*w &= ~mask;
		m->base = sroce_psn_add(m->base, 1);
		n++;
	}
}

bool sroce_rd_map_hole(const struct sroce_rd_map *m, __u32 from, __u32 last,
		       __u32 *start, __u32 *count)
{
	__u32 psn = from;

	if (sroce_psn_diff(last, from) < 0)
		return false;
	while (sroce_rd_map_test(m, psn)) {
		if (psn == last)
			return false;
		psn = sroce_psn_add(psn, 1);
	}
	*start = psn;
	*count = 1;
	while (psn != last) {
		psn = sroce_psn_add(psn, 1);
		if (!sroce_rd_map_covers(m, psn)) {
			/* Nothing past the map has been noted. */
			*count = sroce_psn_diff(last, *start) + 1;
			break;
		}
		if (sroce_rd_map_test(m, psn))
			break;
		(*count)++;
	}
	return true;
}

void sroce_reorder_init(struct sroce_reorder *ro)
{
	memset(ro, 0, sizeof(*ro));
	ro->hold_us = SROCE_REORDER_INIT_US;
}

bool sroce_reorder_ahead(struct sroce_reorder *ro, __u32 epsn, __u32 psn,
			 unsigned int held, __u64 now_us)
{
	if (!ro->open) {
		/* A report watched until now brought no copy: a real loss. */
		if (ro->watch) {
			ro->hold_us -= ro->hold_us / 8;
			if (ro->hold_us < SROCE_REORDER_MIN_US)
				ro->hold_us = SROCE_REORDER_MIN_US;
			ro->watch = false;
		}
		ro->open = true;
		ro->urgent = false;
		ro->reported = false;
		ro->again = false;
		ro->gap_psn = epsn;
		ro->since_us = now_us;
	}
	if (held < SROCE_REORDER_MAX_HELD && sroce_psn_diff(psn, epsn) > 0)
		return true;
	/* Report now: the packets not held will have to come again. */
	ro->urgent = true;
	return false;
}

bool sroce_reorder_due(struct sroce_reorder *ro, __u64 now_us,
		       __u32 *wait_us)
{
	__u64 age;

	*wait_us = 0;
	if (!ro->open || ro->reported)
		return false;
	age = now_us > ro->since_us ? now_us - ro->since_us : 0;
	if (!ro->urgent && age < ro->hold_us) {
		*wait_us = ro->hold_us - age;
		return false;
	}
	ro->reported = true;
	return true;
}

void sroce_reorder_filled(struct sroce_reorder *ro)
{
	if (!ro->open)
		return;
	if (ro->reported && !ro->again) {
		ro->watch = true;
		ro->watch_psn = ro->gap_psn;
	}
	ro->open = false;
	ro->urgent = false;
	ro->reported = false;
}

void sroce_reorder_duplicate(struct sroce_reorder *ro, __u32 psn)
{
	if (!ro->watch || psn != ro->watch_psn)
		return;
	/* The report was spurious: the original was only late. */
	ro->watch = false;
	ro->hold_us *= 2;
	if (ro->hold_us < SROCE_REORDER_MIN_US)
		ro->hold_us = SROCE_REORDER_MIN_US;
	if (ro->hold_us > SROCE_REORDER_MAX_US)
		ro->hold_us = SROCE_REORDER_MAX_US;
}

void sroce_reorder_asked_again(struct sroce_reorder *ro)
{
	ro->watch = false;
	if (ro->open)
		ro->again = true;
}

void sroce_retry_init(struct sroce_retry *r, __u8 retry_cnt, __u8 rnr_retry)
{
	memset(r, 0, sizeof(*r));
	r->retry_cnt = retry_cnt & 7;
	r->rnr_retry = rnr_retry & 7;
	r->retry_left = r->retry_cnt;
	r->rnr_left = r->rnr_retry;
}

/* IBTA 9.7.6.1.3: the retry counters restart on forward progress. */
void sroce_retry_progress(struct sroce_retry *r)
{
	r->retry_left = r->retry_cnt;
	r->rnr_left = r->rnr_retry;
	r->nak_seen = false;
	r->new_data = false;
}

void sroce_retry_new_data(struct sroce_retry *r)
{
	r->new_data = true;
}

static void sroce_req_fail(struct sroce_req_verdict *v,
			   enum sroce_req_status status)
{
	v->action = SROCE_REQ_FAIL;
	v->status = status;
}

/* Spend one transport retry: resend from @psn, or fail when none is left. */
static void sroce_req_retry(struct sroce_retry *r, __u32 psn,
			    struct sroce_req_verdict *v)
{
	if (!r->retry_left) {
		sroce_req_fail(v, SROCE_REQ_RETRY_EXC_ERR);
		return;
	}
	r->retry_left--;
	v->action = SROCE_REQ_RESEND;
	v->resend_psn = psn;
}

/*
 * Complete the oldest WQEs that end at or before @psn (@inclusive) or
 * strictly before it.  A READ or ATOMIC without its response stops the
 * walk and is resent: its response must have been lost.  Its PSNs are not
 * acknowledged then, whatever the packet said, so that its response is
 * still believed when it comes.
 */
static void sroce_req_complete_upto(const struct sroce_req_window *w,
				    const struct sroce_req_wqe *wqe,
				    unsigned int n, __u32 psn, bool inclusive,
				    bool fresh, struct sroce_req_verdict *v)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		int d = sroce_psn_diff(psn, wqe[i].last_psn);

		if (d < 0 || (!inclusive && d == 0))
			break;
		if (wqe[i].needs_response && !wqe[i].responded) {
			__u32 before = sroce_psn_add(wqe[i].first_psn,
						     SROCE_PSN_MASK);

			if (fresh) {
				v->action = SROCE_REQ_RESEND;
				v->resend_psn = wqe[i].first_psn;
			}
			if (sroce_psn_diff(v->acked_psn, before) > 0)
				v->acked_psn = sroce_psn_diff(before,
							      w->acked_psn) > 0 ?
					       before : w->acked_psn;
			break;
		}
		v->completed++;
	}
}

static enum sroce_req_status sroce_nak_status(__u8 code)
{
	switch (code) {
	case SROCE_NAK_INVALID_REQUEST:
		return SROCE_REQ_REM_INV_REQ_ERR;
	case SROCE_NAK_REMOTE_ACCESS:
		return SROCE_REQ_REM_ACCESS_ERR;
	case SROCE_NAK_INVALID_RD_REQUEST:
		return SROCE_REQ_REM_INV_RD_REQ_ERR;
	default:
		return SROCE_REQ_REM_OP_ERR;
	}
}

void sroce_req_on_ack(struct sroce_retry *r, const struct sroce_req_window *w,
		      const struct sroce_req_wqe *wqe, unsigned int n,
		      __u8 syndrome, __u32 psn, struct sroce_req_verdict *v)
{
	__u8 value = syndrome & SROCE_AETH_VALUE_MASK;
	__u8 type = syndrome & SROCE_AETH_TYPE_MASK;
	bool fresh;

	memset(v, 0, sizeof(*v));
	v->acked_psn = w->acked_psn;
	if (type != SROCE_AETH_ACK && type != SROCE_AETH_RNR_NAK &&
	    type != SROCE_AETH_NAK)
		return;			/* reserved syndrome: ignore */
	if (!sroce_req_psn_outstanding(w, psn)) {
		v->action = SROCE_REQ_DROP;
		return;
	}
	if (type == SROCE_AETH_NAK && value > SROCE_NAK_INVALID_RD_REQUEST)
		return;			/* reserved NAK code: ignore */

	/* An ACK covers @psn itself, a NAK only the PSNs before it. */
	v->acked_psn = type == SROCE_AETH_ACK ? psn :
		       sroce_psn_add(psn, SROCE_PSN_MASK);
	fresh = type != SROCE_AETH_ACK || sroce_psn_diff(psn, w->ack_hi) > 0;
	sroce_req_complete_upto(w, wqe, n, psn, type == SROCE_AETH_ACK, fresh,
				v);
	if (v->acked_psn != w->acked_psn)
		sroce_retry_progress(r);
	if (type == SROCE_AETH_ACK || v->action != SROCE_REQ_NONE)
		return;

	if (type == SROCE_AETH_RNR_NAK) {
		if (r->rnr_retry != SROCE_RNR_RETRY_FOREVER) {
			if (!r->rnr_left) {
				sroce_req_fail(v, SROCE_REQ_RNR_RETRY_EXC_ERR);
				return;
			}
			r->rnr_left--;
		}
		v->action = SROCE_REQ_RNR_WAIT;
		v->resend_psn = psn;
		v->wait_us = sroce_rnr_timer_us(value);
		return;
	}
	if (value == SROCE_NAK_PSN_SEQ_ERROR) {
		if (r->nak_seen && r->nak_psn == psn)
			return;		/* a copy of the last one */
		sroce_req_retry(r, psn, v);
		r->nak_seen = true;
		r->nak_psn = psn;
		return;
	}
	sroce_req_fail(v, sroce_nak_status(value));
}

unsigned int sroce_req_rd_atomic_outstanding(const struct sroce_req_wqe *wqe,
					     unsigned int n)
{
	unsigned int i, count = 0;

	for (i = 0; i < n; i++)
		count += wqe[i].needs_response;
	return count;
}

void sroce_req_on_timeout(struct sroce_retry *r,
			  const struct sroce_req_wqe *wqe, unsigned int n,
			  struct sroce_req_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!n)
		return;
	if (r->new_data) {
		r->new_data = false;
		v->action = SROCE_REQ_RESEND;
		v->resend_psn = wqe[0].first_psn;
		return;
	}
	sroce_req_retry(r, wqe[0].first_psn, v);
}
