// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Host unit tests for driver/sroce_proto.c: the responder's PSN check and
 * READ/ATOMIC resources, and the requester's reaction to ACKs, NAKs and
 * timeouts.  One PASS/FAIL line per check; exits non-zero on failure.
 */
#include <stdio.h>
#include <string.h>

#include "../../driver/sroce_proto.h"
#include "unit.h"

static void test_psn_check(void)
{
	expect(sroce_rsp_check_psn(100, 100) == SROCE_PSN_NEW, "expected PSN");
	expect(sroce_rsp_check_psn(100, 99) == SROCE_PSN_DUPLICATE,
	       "previous PSN is a duplicate");
	expect(sroce_rsp_check_psn(100, 101) == SROCE_PSN_AHEAD,
	       "next-but-one PSN is ahead");
	expect(sroce_rsp_check_psn(0, 0xffffff) == SROCE_PSN_DUPLICATE,
	       "duplicate across the wrap");
	expect(sroce_rsp_check_psn(0xffffff, 0) == SROCE_PSN_AHEAD,
	       "ahead across the wrap");
	expect(sroce_rsp_check_psn(0, 0x800000) == SROCE_PSN_DUPLICATE &&
	       sroce_rsp_check_psn(0, 0x7fffff) == SROCE_PSN_AHEAD,
	       "half the space behind, half ahead");
}

/* Which requests a responder waiting for an on-demand fault RNR NAKs. */
static void test_fault_rnr(void)
{
	static const __u8 yes[] = {
		SROCE_RC_SEND_FIRST, SROCE_RC_SEND_MIDDLE, SROCE_RC_SEND_ONLY,
		SROCE_RC_WRITE_FIRST, SROCE_RC_WRITE_MIDDLE,
		SROCE_RC_WRITE_LAST_IMM, SROCE_RC_READ_REQUEST,
		SROCE_RC_COMPARE_SWAP, SROCE_RC_FETCH_ADD,
		SROCE_RC_ATOMIC_WRITE,
	};
	static const __u8 no[] = {
		SROCE_RC_READ_RESPONSE_FIRST, SROCE_RC_READ_RESPONSE_ONLY,
		SROCE_RC_ACKNOWLEDGE, SROCE_RC_ATOMIC_ACKNOWLEDGE,
	};
	unsigned int i;
	bool ok = true;

	for (i = 0; i < sizeof(yes); i++)
		ok &= sroce_rsp_fault_rnr(100, 100,
					  sroce_opcode_info(yes[i])->flags);
	expect(ok, "a new SEND, WRITE, READ or ATOMIC at epsn may be RNR NAKed");
	ok = true;
	for (i = 0; i < sizeof(no); i++)
		ok &= !sroce_rsp_fault_rnr(100, 100,
					   sroce_opcode_info(no[i])->flags);
	expect(ok, "responses are never RNR NAKed");
	expect(!sroce_rsp_fault_rnr(100, 99, sroce_opcode_info(
			SROCE_RC_READ_REQUEST)->flags) &&
	       !sroce_rsp_fault_rnr(100, 101, sroce_opcode_info(
			SROCE_RC_WRITE_ONLY)->flags),
	       "a duplicate or a request ahead is not RNR NAKed");
	expect(sroce_rsp_fault_rnr(0xffffff, 0xffffff, sroce_opcode_info(
			SROCE_RC_FETCH_ADD)->flags),
	       "at the end of the PSN space too");
}

static void test_rd_res(void)
{
	struct sroce_rd_res slots[2], slots3[3];
	struct sroce_rd_res_ring ring = { slots, 2, 0 };
	struct sroce_rd_res_ring ring3 = { slots3, 3, 0 };
	struct sroce_rd_res *a, *b, *c;
	const struct sroce_rd_res *f;
	__u32 off;

	memset(slots, 0, sizeof(slots));
	a = sroce_rd_res_next(&ring);
	*a = (struct sroce_rd_res){ SROCE_RC_READ_REQUEST, 0xfffffe, 2,
				    0x1000, 7, 5 * 1024, 0 };
	b = sroce_rd_res_next(&ring);
	*b = (struct sroce_rd_res){ SROCE_RC_FETCH_ADD, 3, 3, 0x2000, 7, 8,
				    42 };

	f = sroce_rd_res_find(&ring, SROCE_RC_READ_REQUEST, 0);
	expect(f == a, "duplicate READ found by a middle PSN across the wrap");
	expect(sroce_rd_res_replay(a, 0, 1024, &off) && off == 2048,
	       "READ replay from its third response starts at byte 2048");
	expect(!sroce_rd_res_replay(a, 3, 1024, &off),
	       "a PSN past the READ's responses does not replay");
	expect(sroce_rd_res_find(&ring, SROCE_RC_FETCH_ADD, 3) == b &&
	       b->atomic_orig == 42, "duplicate ATOMIC finds its result");
	expect(!sroce_rd_res_find(&ring, SROCE_RC_COMPARE_SWAP, 3),
	       "an ATOMIC of another kind at that PSN does not match");
	expect(!sroce_rd_res_find(&ring, SROCE_RC_READ_REQUEST, 5),
	       "unknown PSN finds nothing");
	c = sroce_rd_res_next(&ring);
	expect(c == a && !c->opcode, "a third request reuses the oldest slot");
	expect(!sroce_rd_res_find(&ring, SROCE_RC_READ_REQUEST, 0),
	       "the overwritten READ is forgotten");

	/* PSNs came round: two slots hold READs that cover PSN 5. */
	memset(slots3, 0, sizeof(slots3));
	a = sroce_rd_res_next(&ring3);
	*a = (struct sroce_rd_res){ SROCE_RC_READ_REQUEST, 4, 6, 0x1000, 7,
				    3 * 1024, 0 };
	b = sroce_rd_res_next(&ring3);
	*b = (struct sroce_rd_res){ SROCE_RC_READ_REQUEST, 5, 5, 0x9000, 7,
				    1024, 0 };
	expect(sroce_rd_res_find(&ring3, SROCE_RC_READ_REQUEST, 5) == b,
	       "of two READs covering a PSN, the newer is found");
	c = sroce_rd_res_next(&ring3);
	*c = (struct sroce_rd_res){ SROCE_RC_READ_REQUEST, 4, 4, 0x5000, 7,
				    1024, 0 };
	expect(sroce_rd_res_find(&ring3, SROCE_RC_READ_REQUEST, 4) == c &&
	       sroce_rd_res_find(&ring3, SROCE_RC_READ_REQUEST, 6) == a,
	       "the newest first across the ring's wrap, older ones still found");
}

/* Three outstanding WQEs: SEND 10-12, READ 13-15, SEND 16. */
static struct sroce_req_wqe wqes[3] = {
	{ 10, 12, false, false },
	{ 13, 15, true, false },
	{ 16, 16, false, false },
};

/* They were all sent, and nothing is acknowledged yet. */
static const struct sroce_req_window win = { 9, 17, 9 };

static void test_acks(void)
{
	struct sroce_req_verdict v;
	struct sroce_retry r;

	sroce_retry_init(&r, 3, 2);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_ack(0), 11, &v);
	expect(v.completed == 0 && v.action == SROCE_REQ_NONE,
	       "ACK inside the first SEND completes nothing");
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_ack(0), 12, &v);
	expect(v.completed == 1 && v.action == SROCE_REQ_NONE,
	       "ACK of the SEND's last PSN completes it");
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_ack(0), 16, &v);
	expect(v.completed == 1 && v.action == SROCE_REQ_RESEND &&
	       v.resend_psn == 13,
	       "coalesced ACK past a READ without data resends the READ");
	wqes[1].responded = true;
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_ack(0), 16, &v);
	expect(v.completed == 3 && v.action == SROCE_REQ_NONE,
	       "coalesced ACK completes all three in order");
	wqes[1].responded = false;
	sroce_req_on_ack(&r, &win, wqes, 3, 0x40, 16, &v);
	expect(v.completed == 0 && v.action == SROCE_REQ_NONE,
	       "reserved syndrome is ignored");
}

static void test_naks(void)
{
	struct sroce_req_verdict v;
	struct sroce_retry r;
	int i;

	sroce_retry_init(&r, 2, 1);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 12, &v);
	expect(v.completed == 0 && v.action == SROCE_REQ_RESEND &&
	       v.resend_psn == 12 && r.retry_left == 1,
	       "sequence NAK resends from its PSN and spends a retry");
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 13, &v);
	expect(v.completed == 1 && v.action == SROCE_REQ_RESEND &&
	       r.retry_left == 1,
	       "sequence NAK acks what precedes it; progress refills retries");
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 10, &v);
	expect(v.action == SROCE_REQ_RESEND && r.retry_left == 0,
	       "sequence NAK without progress spends the last retry");
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 10, &v);
	expect(v.action == SROCE_REQ_NONE && r.retry_left == 0,
	       "a copy of the last sequence NAK is ignored and spends nothing");
	sroce_req_on_timeout(&r, wqes, 3, &v);
	expect(v.action == SROCE_REQ_FAIL &&
	       v.status == SROCE_REQ_RETRY_EXC_ERR,
	       "retries exhausted: transport retry exceeded");
	sroce_retry_init(&r, 2, 1);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 10, &v);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 11, &v);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR),
			 10, &v);
	expect(v.action == SROCE_REQ_RESEND && r.retry_left == 0,
	       "after progress, a NAK of an old PSN counts again");

	sroce_retry_init(&r, 2, 1);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_REMOTE_ACCESS),
			 10, &v);
	expect(v.completed == 0 && v.action == SROCE_REQ_FAIL &&
	       v.status == SROCE_REQ_REM_ACCESS_ERR,
	       "remote access NAK fails the WQE");
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_nak(SROCE_NAK_INVALID_REQUEST),
			 16, &v);
	expect(v.action == SROCE_REQ_RESEND && v.resend_psn == 13,
	       "a NAK past an unanswered READ resends the READ first");
	sroce_req_on_ack(&r, &win, wqes, 1, sroce_aeth_nak(SROCE_NAK_INVALID_REQUEST),
			 10, &v);
	expect(v.action == SROCE_REQ_FAIL &&
	       v.status == SROCE_REQ_REM_INV_REQ_ERR,
	       "invalid request NAK");
	sroce_req_on_ack(&r, &win, wqes, 1, sroce_aeth_nak(SROCE_NAK_REMOTE_OP_ERROR),
			 10, &v);
	expect(v.status == SROCE_REQ_REM_OP_ERR, "remote operational NAK");
	sroce_req_on_ack(&r, &win, wqes, 1, SROCE_AETH_NAK | 9, 10, &v);
	expect(v.action == SROCE_REQ_NONE, "reserved NAK code is ignored");

	/* RNR: wait and resend; rnr_retry 7 never gives up. */
	sroce_retry_init(&r, 3, 1);
	sroce_req_on_ack(&r, &win, wqes, 1, sroce_aeth_rnr_nak(14), 10, &v);
	expect(v.action == SROCE_REQ_RNR_WAIT && v.wait_us == 1280 &&
	       v.resend_psn == 10, "RNR NAK waits its timer, then resends");
	sroce_req_on_ack(&r, &win, wqes, 1, sroce_aeth_rnr_nak(14), 10, &v);
	expect(v.action == SROCE_REQ_FAIL &&
	       v.status == SROCE_REQ_RNR_RETRY_EXC_ERR,
	       "RNR retries exhausted");
	sroce_retry_init(&r, 3, 7);
	for (i = 0; i < 100; i++)
		sroce_req_on_ack(&r, &win, wqes, 1, sroce_aeth_rnr_nak(1), 10, &v);
	expect(v.action == SROCE_REQ_RNR_WAIT, "rnr_retry 7 retries forever");
}

static void test_timeouts(void)
{
	struct sroce_req_verdict v;
	struct sroce_retry r;
	int i;

	sroce_retry_init(&r, 2, 0);
	sroce_req_on_timeout(&r, wqes, 0, &v);
	expect(v.action == SROCE_REQ_NONE, "timeout with nothing outstanding");
	for (i = 0; i < 2; i++) {
		sroce_req_on_timeout(&r, wqes, 3, &v);
		expect(v.action == SROCE_REQ_RESEND && v.resend_psn == 10,
		       "timeout %d resends from the oldest WQE", i + 1);
	}
	sroce_req_on_timeout(&r, wqes, 3, &v);
	expect(v.action == SROCE_REQ_FAIL &&
	       v.status == SROCE_REQ_RETRY_EXC_ERR,
	       "third timeout with retry_cnt 2: retry exceeded");
	sroce_retry_init(&r, 0, 0);
	sroce_req_on_timeout(&r, wqes, 3, &v);
	expect(v.action == SROCE_REQ_FAIL, "retry_cnt 0 fails at once");
	sroce_retry_init(&r, 1, 0);
	sroce_req_on_timeout(&r, wqes, 3, &v);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_ack(0), 12, &v);
	expect(r.retry_left == 1, "an ACK with progress refills the budget");

	/* New READ data past a gap: the next timeout is free, once. */
	sroce_retry_init(&r, 1, 0);
	sroce_retry_new_data(&r);
	sroce_req_on_timeout(&r, wqes, 3, &v);
	expect(v.action == SROCE_REQ_RESEND && v.resend_psn == 10 &&
	       r.retry_left == 1,
	       "a timeout after new responses past a gap spends no retry");
	sroce_req_on_timeout(&r, wqes, 3, &v);
	expect(v.action == SROCE_REQ_RESEND && r.retry_left == 0,
	       "the timeout after it, with nothing new, spends one");
	sroce_req_on_timeout(&r, wqes, 3, &v);
	expect(v.action == SROCE_REQ_FAIL, "and then the budget is spent");
}

/* Responses count only within the PSNs actually sent. */
static void test_window(void)
{
	/* A 4-packet WRITE (20-23) of which only 20 and 21 went out. */
	static const struct sroce_req_wqe part[] = { { 20, 23, false, false } };
	static const struct sroce_req_window sent = { 19, 22, 19 };
	struct sroce_req_verdict v;
	struct sroce_retry r;

	sroce_retry_init(&r, 3, 3);
	sroce_req_on_ack(&r, &sent, part, 1, sroce_aeth_ack(0), 23, &v);
	expect(v.action == SROCE_REQ_DROP && !v.completed && v.acked_psn == 19,
	       "an ACK for a PSN not yet sent is dropped, completes nothing");
	sroce_req_on_ack(&r, &sent, part, 1, sroce_aeth_ack(0), 22, &v);
	expect(v.action == SROCE_REQ_DROP, "nor one for the next PSN to send");
	sroce_req_on_ack(&r, &sent, part, 1, sroce_aeth_ack(0), 19, &v);
	expect(v.action == SROCE_REQ_DROP, "an ACK already had is dropped");
	sroce_req_on_ack(&r, &sent, part, 1, sroce_aeth_ack(0), 0x800013, &v);
	expect(v.action == SROCE_REQ_DROP, "half the PSN space away: dropped");
	sroce_req_on_ack(&r, &sent, part, 1,
			 sroce_aeth_nak(SROCE_NAK_REMOTE_ACCESS), 22, &v);
	expect(v.action == SROCE_REQ_DROP, "a NAK for a PSN not sent is dropped");
	sroce_req_on_ack(&r, &sent, part, 1,
			 sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR), 25, &v);
	expect(v.action == SROCE_REQ_DROP && r.retry_left == 3,
	       "a sequence NAK not sent spends no retry");
	sroce_req_on_ack(&r, &sent, part, 1, sroce_aeth_ack(0), 21, &v);
	expect(v.action == SROCE_REQ_NONE && !v.completed && v.acked_psn == 21,
	       "an ACK within the WQE moves the window, completes nothing");

	/* Progress inside one long WQE refills the retry budget. */
	sroce_retry_init(&r, 1, 0);
	sroce_req_on_ack(&r, &sent, part, 1,
			 sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR), 20, &v);
	expect(v.action == SROCE_REQ_RESEND && r.retry_left == 0,
	       "sequence NAK without progress spends the only retry");
	sroce_req_on_ack(&r, &sent, part, 1,
			 sroce_aeth_nak(SROCE_NAK_PSN_SEQ_ERROR), 21, &v);
	expect(v.action == SROCE_REQ_RESEND && v.acked_psn == 20 &&
	       r.retry_left == 0,
	       "one that acknowledges a packet refills it before spending");

	/* An ACK past an unanswered READ does not acknowledge the READ. */
	sroce_retry_init(&r, 3, 3);
	sroce_req_on_ack(&r, &win, wqes, 3, sroce_aeth_ack(0), 16, &v);
	expect(v.completed == 1 && v.action == SROCE_REQ_RESEND &&
	       v.acked_psn == 12,
	       "the window stops before the READ that is resent");

}

/* READ responses noted as they arrive, in any order. */
static void test_rd_map(void)
{
	static struct sroce_rd_map m;
	__u32 start, count;

	sroce_rd_map_reset(&m, 0xfffffe);
	expect(sroce_rd_map_test(&m, 0xfffffd) && !sroce_rd_map_test(&m, 0xfffffe),
	       "rd_map: before base is received, base is not");
	expect(sroce_rd_map_set(&m, 0) && !sroce_rd_map_set(&m, 0),
	       "rd_map: a PSN across the wrap is noted once");
	expect(!sroce_rd_map_set(&m, sroce_psn_add(0xfffffe, SROCE_RD_MAP_BITS)),
	       "rd_map: a PSN past the map is not noted");
	expect(sroce_rd_map_set(&m, sroce_psn_add(0xfffffe, SROCE_RD_MAP_BITS - 1)),
	       "rd_map: the map's last PSN is noted");
	expect(sroce_rd_map_advance(&m) == 0 && m.base == 0xfffffe,
	       "rd_map: base stays at a PSN not received");
	expect(sroce_rd_map_hole(&m, 0xfffffe, 5, &start, &count) &&
	       start == 0xfffffe && count == 2,
	       "rd_map: the first hole is the two PSNs before the wrap");
	expect(sroce_rd_map_hole(&m, 0, 5, &start, &count) &&
	       start == 1 && count == 5,
	       "rd_map: the next hole runs to the last PSN asked about");
	sroce_rd_map_set(&m, 0xfffffe);
	sroce_rd_map_set(&m, 0xffffff);
	expect(sroce_rd_map_advance(&m) == 3 && m.base == 1,
	       "rd_map: filling the hole moves base past all received");
	expect(sroce_rd_map_test(&m, 0),
	       "rd_map: what base passed counts as received");
	expect(!sroce_rd_map_hole(&m, 0xfffffe, 0, &start, &count),
	       "rd_map: no hole among received PSNs");
	expect(sroce_rd_map_hole(&m, 1, 0x7fffff, &start, &count) &&
	       start == 1 && count == SROCE_RD_MAP_BITS - 4,
	       "rd_map: a hole stops at the next PSN received");
	expect(sroce_rd_map_hole(&m, sroce_psn_add(1, SROCE_RD_MAP_BITS), 0x7fffff,
				 &start, &count) &&
	       count == 0x7fffff - start + 1,
	       "rd_map: past the map, the rest is one hole, counted at once");
	sroce_rd_map_move(&m, 100);
	expect(m.base == 100 && !sroce_rd_map_test(&m, 100) &&
	       sroce_rd_map_test(&m, 99),
	       "rd_map: moving base forgets what lay before");
	sroce_rd_map_set(&m, 100 + SROCE_RD_MAP_BITS - 1);
	sroce_rd_map_move(&m, 100 + 3 * SROCE_RD_MAP_BITS);
	expect(!sroce_rd_map_test(&m, 100 + 4 * SROCE_RD_MAP_BITS - 1),
	       "rd_map: a far move starts afresh (the old note is gone)");
	expect(sroce_rd_map_set(&m, 100 + 4 * SROCE_RD_MAP_BITS - 1) &&
	       !sroce_rd_map_test(&m, 100 + 3 * SROCE_RD_MAP_BITS + 1),
	       "rd_map: after a far move only new notes count");
}

/* Late packets are held for a while before a gap counts as loss. */
static void test_reorder(void)
{
	struct sroce_reorder ro;
	__u32 wait;

	sroce_reorder_init(&ro);
	expect(ro.hold_us == SROCE_REORDER_INIT_US && !ro.open,
	       "reorder: starts closed with the initial hold");
	expect(!sroce_reorder_due(&ro, 1000, &wait) && wait == 0,
	       "no gap, nothing due");
	expect(sroce_reorder_ahead(&ro, 100, 102, 0, 1000) && ro.open &&
	       ro.gap_psn == 100, "a packet past the expected one is held");
	expect(sroce_reorder_ahead(&ro, 100, 103, 1, 1100),
	       "and the next one too");
	expect(!sroce_reorder_due(&ro, 1200, &wait) && wait == 300,
	       "the gap is not reported before the hold is over");
	expect(sroce_reorder_due(&ro, 1500, &wait),
	       "it is reported once the hold is over");
	expect(!sroce_reorder_due(&ro, 1600, &wait) && wait == 0,
	       "and only once");
	sroce_reorder_filled(&ro);
	expect(!ro.open && ro.watch && ro.watch_psn == 100,
	       "a reported gap that fills is watched");
	sroce_reorder_duplicate(&ro, 101);
	expect(ro.hold_us == 500 && ro.watch,
	       "a copy of another PSN says nothing");
	sroce_reorder_duplicate(&ro, 100);
	expect(ro.hold_us == 1000 && !ro.watch,
	       "a second copy of the reported PSN: spurious, the hold doubles");

	/* A real loss: no second copy before the next gap. */
	sroce_reorder_ahead(&ro, 200, 201, 0, 5000);
	expect(sroce_reorder_due(&ro, 6000, &wait), "hold of 1000 us over");
	sroce_reorder_filled(&ro);
	sroce_reorder_ahead(&ro, 300, 301, 0, 7000);
	expect(ro.hold_us == 875 && !ro.watch,
	       "a report that was a real loss shrinks the hold by an eighth");
	sroce_reorder_filled(&ro);
	expect(!ro.watch, "a gap filled before its report is not watched");

	/* A gap filled within the hold changes nothing. */
	sroce_reorder_ahead(&ro, 400, 401, 0, 8000);
	sroce_reorder_filled(&ro);
	expect(ro.hold_us == 875 && !sroce_reorder_due(&ro, 99999, &wait),
	       "a gap that filled in time is never reported");

	/* Asked for twice (a report, then a timeout): two copies expected. */
	sroce_reorder_ahead(&ro, 450, 451, 0, 8500);
	expect(sroce_reorder_due(&ro, 8500 + ro.hold_us, &wait),
	       "a gap asked for by its report");
	sroce_reorder_asked_again(&ro);
	sroce_reorder_filled(&ro);
	expect(!ro.watch, "and again by a timeout is not watched once filled");
	sroce_reorder_duplicate(&ro, 450);
	expect(ro.hold_us == 875, "so its second copy leaves the hold alone");
	sroce_reorder_ahead(&ro, 460, 461, 0, 8600);
	expect(sroce_reorder_due(&ro, 8600 + ro.hold_us, &wait),
	       "a gap reported");
	sroce_reorder_filled(&ro);
	sroce_reorder_asked_again(&ro);
	sroce_reorder_duplicate(&ro, 460);
	expect(ro.hold_us == 875 && !ro.watch,
	       "filled, then asked for again: no longer watched");

	/* Full: what cannot be held is reported at once. */
	expect(!sroce_reorder_ahead(&ro, 500, 600, SROCE_REORDER_MAX_HELD,
				    9000) &&
	       sroce_reorder_due(&ro, 9000, &wait),
	       "a packet that cannot be held reports the gap at once");
	sroce_reorder_filled(&ro);

	/* Bounds. */
	ro.hold_us = SROCE_REORDER_MAX_US;
	ro.watch = true;
	ro.watch_psn = 7;
	sroce_reorder_duplicate(&ro, 7);
	expect(ro.hold_us == SROCE_REORDER_MAX_US, "the hold has a ceiling");
	ro.hold_us = SROCE_REORDER_MIN_US;
	ro.watch = true;
	sroce_reorder_ahead(&ro, 10, 11, 0, 20000);
	expect(ro.hold_us == SROCE_REORDER_MIN_US, "and a floor");
	sroce_reorder_filled(&ro);
	expect(sroce_reorder_ahead(&ro, 0xfffffe, 1, 0, 30000) &&
	       ro.gap_psn == 0xfffffe, "held across the PSN wrap");
}

/* The requester's bookkeeping around go-back-N. */
static void test_resend_rules(void)
{
	static const struct sroce_req_window hi = { 9, 17, 16 };
	static const struct sroce_req_window w12 = { 12, 17, 12 };
	struct sroce_req_verdict v;
	struct sroce_retry r;

	sroce_retry_init(&r, 3, 3);
	sroce_req_on_ack(&r, &hi, wqes, 3, sroce_aeth_ack(0), 16, &v);
	expect(v.completed == 1 && v.action == SROCE_REQ_NONE &&
	       v.acked_psn == 12,
	       "an ACK past an unanswered READ, no newer than one had: completes what it can, no resend");
	sroce_req_on_ack(&r, &hi, wqes, 3, sroce_aeth_ack(0), 12, &v);
	expect(v.completed == 1 && v.acked_psn == 12,
	       "an older ACK still completes what it covers");

	expect(sroce_req_resume_psn(&w12, 11) == 13 &&
	       sroce_req_resume_psn(&w12, 12) == 13,
	       "go-back-N skips packets an ACK covered meanwhile");
	expect(sroce_req_resume_psn(&w12, 13) == 13 &&
	       sroce_req_resume_psn(&w12, 15) == 15,
	       "and resends those it did not");

	expect(sroce_req_rd_atomic_outstanding(wqes, 3) == 1,
	       "one READ outstanding among three WQEs");
	wqes[1].responded = true;
	expect(sroce_req_rd_atomic_outstanding(wqes, 3) == 1,
	       "an answered READ not completed still holds its resource");
	wqes[1].responded = false;
	expect(sroce_req_rd_atomic_outstanding(wqes + 2, 1) == 0,
	       "none after it");
}

/* Feed @opcode at @psn to @rx as a UC responder would, executing it. */
static enum sroce_uc_verdict uc_feed(struct sroce_uc_rx *rx, __u8 opcode,
				     __u32 psn)
{
	__u16 flags = sroce_opcode_info(opcode)->flags;
	enum sroce_uc_verdict v = sroce_uc_check(rx, flags, psn);

	if (v != SROCE_UC_NEXT)
		sroce_uc_abandon(rx);
	if (v != SROCE_UC_DROP)
		sroce_uc_done(rx, flags, psn);
	return v;
}

static void test_uc(void)
{
	struct sroce_uc_rx rx = { 100, 0 };
	unsigned int op;

	/* The opcode table: UC's twelve, each RC's in the UC transport. */
	for (op = SROCE_RC_SEND_FIRST; op <= SROCE_RC_WRITE_ONLY_IMM; op++) {
		const struct sroce_opcode_info *rc = sroce_opcode_info(op);
		const struct sroce_opcode_info *uc =
			sroce_opcode_info(sroce_uc_opcode(op));

		expect(uc && rc && uc->flags == rc->flags &&
		       uc->hdrs == rc->hdrs &&
		       sroce_opcode_transport(sroce_uc_opcode(op)) ==
		       SROCE_TRANSPORT_UC && !strncmp(uc->name, "UC_", 3) &&
		       !strcmp(uc->name + 3, rc->name + 3),
		       "UC opcode 0x%02x is RC's 0x%02x in the UC transport",
		       sroce_uc_opcode(op), op);
	}
	expect(!sroce_opcode_info(0x2c) && !sroce_opcode_info(0x2d) &&
	       !sroce_opcode_info(0x30) && !sroce_opcode_info(0x3f),
	       "UC has no READ, ATOMIC, ACK or SEND with Invalidate");

	/* In sequence. */
	expect(uc_feed(&rx, SROCE_UC_SEND_ONLY, 100) == SROCE_UC_NEXT &&
	       rx.epsn == 101 && !rx.msg, "an ONLY at the expected PSN");
	expect(uc_feed(&rx, SROCE_UC_SEND_FIRST, 101) == SROCE_UC_NEXT &&
	       rx.msg == SROCE_OP_SEND, "a FIRST opens a SEND");
	expect(uc_feed(&rx, SROCE_UC_SEND_MIDDLE, 102) == SROCE_UC_NEXT &&
	       uc_feed(&rx, SROCE_UC_SEND_LAST_IMM, 103) == SROCE_UC_NEXT &&
	       rx.epsn == 104 && !rx.msg, "MIDDLE and LAST close it");

	/* A lost MIDDLE: the LAST is dropped, and so is what follows. */
	uc_feed(&rx, SROCE_UC_WRITE_FIRST, 104);
	expect(sroce_uc_check(&rx, sroce_opcode_info(SROCE_UC_WRITE_LAST)->flags,
			      106) == SROCE_UC_DROP, "a LAST past a gap is dropped");
	expect(uc_feed(&rx, SROCE_UC_WRITE_LAST, 106) == SROCE_UC_DROP &&
	       !rx.msg && rx.epsn == 105, "... and abandons the WRITE");
	expect(uc_feed(&rx, SROCE_UC_WRITE_MIDDLE, 105) == SROCE_UC_DROP &&
	       uc_feed(&rx, SROCE_UC_WRITE_LAST, 106) == SROCE_UC_DROP,
	       "late MIDDLE and LAST of an abandoned message are dropped, even at the expected PSN");

	/* A FIRST or ONLY out of sequence starts a new message. */
	expect(uc_feed(&rx, SROCE_UC_SEND_FIRST, 200) == SROCE_UC_RESTART &&
	       rx.epsn == 201 && rx.msg == SROCE_OP_SEND,
	       "a FIRST past a gap starts a new message");
	expect(uc_feed(&rx, SROCE_UC_WRITE_ONLY, 203) == SROCE_UC_RESTART &&
	       rx.epsn == 204 && !rx.msg,
	       "an ONLY past a gap abandons the SEND and is executed");
	uc_feed(&rx, SROCE_UC_SEND_FIRST, 204);
	expect(uc_feed(&rx, SROCE_UC_SEND_ONLY, 205) == SROCE_UC_RESTART &&
	       !rx.msg && rx.epsn == 206,
	       "an ONLY at the expected PSN inside a SEND abandons it");
	uc_feed(&rx, SROCE_UC_SEND_FIRST, 206);
	expect(uc_feed(&rx, SROCE_UC_WRITE_MIDDLE, 207) == SROCE_UC_DROP &&
	       !rx.msg, "a WRITE MIDDLE inside a SEND is dropped and ends it");
	expect(uc_feed(&rx, SROCE_UC_SEND_FIRST, 100) == SROCE_UC_RESTART &&
	       rx.epsn == 101, "a FIRST behind the expected PSN starts a message too: UC has no duplicates");

	/* Across the wrap. */
	rx = (struct sroce_uc_rx){ 0xffffff, 0 };
	expect(uc_feed(&rx, SROCE_UC_SEND_FIRST, 0xffffff) == SROCE_UC_NEXT &&
	       uc_feed(&rx, SROCE_UC_SEND_LAST, 0) == SROCE_UC_NEXT &&
	       rx.epsn == 1, "a SEND across the PSN wrap");

	/* A packet that could not be executed abandons its message. */
	uc_feed(&rx, SROCE_UC_SEND_FIRST, 1);
	expect(sroce_uc_abandon(&rx) && !sroce_uc_abandon(&rx) &&
	       uc_feed(&rx, SROCE_UC_SEND_MIDDLE, 2) == SROCE_UC_DROP,
	       "abandon says whether a message was in progress, once");
}

int main(void)
{
	unit_suite = "proto";
	test_psn_check();
	test_fault_rnr();
	test_rd_res();
	test_acks();
	test_naks();
	test_timeouts();
	test_window();
	test_rd_map();
	test_reorder();
	test_resend_rules();
	test_uc();
	return unit_report();
}
