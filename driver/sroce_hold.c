// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packets held past a gap: requests at the responder, READ responses at
 * the requester.  A packet that arrives ahead of the one expected waits
 * here, in PSN order, until the gap fills or is reported (sroce_proto.c's
 * reorder rules decide when).  Held packets still count in the device's
 * bound on queued packets.  Runs as the QP's owner (sroce_sched.c).
 */
#include <linux/ktime.h>

#include "sroce.h"

u64 sroce_now_us(void)
{
	return ktime_to_us(ktime_get());
}

/*
 * Hold @skb, whose PSN is @psn, in @q, sorted by distance from @base (the
 * expected PSN).  A second copy of a PSN already held is not kept.  Takes
 * a reference of its own; returns false if it did not keep @skb.
 */
bool sroce_hold_add(struct sroce_qp *qp, struct sk_buff_head *q,
		    struct sk_buff *skb, u32 psn, u32 base)
{
	int d = sroce_psn_diff(psn, base);
	struct sk_buff *pos;

	skb_queue_reverse_walk(q, pos) {
		int dp = sroce_psn_diff(sroce_skb_cb(pos)->psn, base);

		if (dp == d)
			return false;
		if (dp < d)
			break;
	}
	if (atomic_inc_return(&qp->sdev->rx_queued) > SROCE_DEV_RXQ_MAX) {
		atomic_dec(&qp->sdev->rx_queued);
		return false;
	}
	sroce_skb_cb(skb)->psn = psn;
	/* After pos, or first if every held packet comes later. */
	__skb_queue_after(q, pos, skb_get(skb));
	return true;
}

/*
 * The first held packet, if its PSN is not past @epsn (its turn has come,
 * or it is a duplicate now); NULL otherwise.
 */
struct sk_buff *sroce_hold_take(struct sroce_qp *qp, struct sk_buff_head *q,
				u32 epsn)
{
	struct sk_buff *skb = skb_peek(q);

	if (!skb || sroce_psn_diff(sroce_skb_cb(skb)->psn, epsn) > 0)
		return NULL;
	__skb_unlink(skb, q);
	atomic_dec(&qp->sdev->rx_queued);
	return skb;
}

/* The PSN of the first held packet, if any. */
bool sroce_hold_first(struct sk_buff_head *q, u32 *psn)
{
	struct sk_buff *skb = skb_peek(q);

	if (!skb)
		return false;
	*psn = sroce_skb_cb(skb)->psn;
	return true;
}

void sroce_hold_purge(struct sroce_qp *qp, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(q))) {
		atomic_dec(&qp->sdev->rx_queued);
		kfree_skb(skb);
	}
}

/* Make sure the QP's owner looks at the holds again within @wait_us. */
void sroce_hold_arm(struct sroce_qp *qp, u32 wait_us)
{
	unsigned long when = jiffies + usecs_to_jiffies(wait_us) + 1;

	if (!timer_pending(&qp->hold_timer) ||
	    time_before(when, qp->hold_timer.expires))
		mod_timer(&qp->hold_timer, when);
}

void sroce_hold_timer_fn(struct timer_list *t)
{
	struct sroce_qp *qp = timer_container_of(qp, t, hold_timer);

	set_bit(SROCE_EV_HOLD, &qp->events);
	sroce_qp_kick(qp);
}
