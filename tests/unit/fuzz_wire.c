// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the wire and transport layers: arbitrary bytes as
 * a RoCEv2 packet (parser, builder round trip, ICRC over an IP packet) and
 * as a stream of ACKs/NAKs for the requester rules.
 *
 *   make -C tests/unit fuzz        (needs clang with libFuzzer)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../driver/sroce_proto.h"
#include "unit.h"

static void fuzz_packet(const __u8 *data, size_t size)
{
	struct sroce_pkt pkt;
	__u8 hdr[64];
	int hlen;

	if (sroce_parse(data, size, &pkt))
		return;
	if (pkt.payload_off + pkt.payload_len + pkt.bth.pad + SROCE_ICRC_LEN !=
	    size)
		abort();
	hlen = sroce_build(hdr, sizeof(hdr), &pkt);
	if (hlen != (int)pkt.payload_off)
		abort();
	/* Reserved bits aside, the headers come back as they were. */
	hdr[4] = (hdr[4] & 0xc0) | (data[4] & 0x3f);
	hdr[8] = (hdr[8] & 0x80) | (data[8] & 0x7f);
	if (pkt.op->hdrs & SROCE_HDR_DETH)
		hdr[SROCE_BTH_LEN + 4] = data[SROCE_BTH_LEN + 4];
	/* The XRCETH's first byte (it follows the BTH) is reserved. */
	if (pkt.op->hdrs & SROCE_HDR_XRCETH)
		hdr[SROCE_BTH_LEN] = data[SROCE_BTH_LEN];
	if (pkt.op->hdrs & SROCE_HDR_FETH) {
		memcpy(hdr + SROCE_BTH_LEN, data + SROCE_BTH_LEN, 3);
		hdr[SROCE_BTH_LEN + 3] |= data[SROCE_BTH_LEN + 3] & 0xc0;
	}
	if (memcmp(hdr, data, hlen))
		abort();
}

/*
 * Random ACKs, NAKs and timeouts at a requester that sent PSNs up to 9 of
 * its fourth WQE (10-12): nothing not sent is ever completed or
 * acknowledged, and the window only moves forward.
 */
static void fuzz_requester(const __u8 *data, size_t size)
{
	struct sroce_req_wqe wqe[4] = {
		{ 0xfffffe, 1, false, false }, { 2, 2, true, false },
		{ 3, 9, false, false }, { 10, 12, false, false },
	};
	struct sroce_req_window w = { 0xfffffd, 11, 0xfffffd };
	struct sroce_req_verdict v;
	struct sroce_retry r;
	unsigned int done = 0;
	size_t i;

	if (size < 2)
		return;
	sroce_retry_init(&r, data[0], data[1]);
	for (i = 2; i + 4 <= size && done < 4; i += 4) {
		__u32 psn = data[i + 1] << 16 | data[i + 2] << 8 | data[i + 3];

		if (data[i] == 0xff)
			sroce_req_on_timeout(&r, wqe + done, 4 - done, &v);
		else
			sroce_req_on_ack(&r, &w, wqe + done, 4 - done, data[i],
					 psn, &v);
		if (v.completed > 4 - done || r.retry_left > 7 || r.rnr_left > 7)
			abort();
		if (data[i] == 0xff)
			continue;
		if (sroce_psn_diff(v.acked_psn, w.acked_psn) < 0 ||
		    sroce_psn_diff(v.acked_psn, w.next_psn) >= 0)
			abort();	/* moved back, or past what was sent */
		done += v.completed;
		if (done && sroce_psn_diff(wqe[done - 1].last_psn,
					   v.acked_psn) > 0)
			abort();	/* completed beyond what was acknowledged */
		if (done == 4)
			abort();	/* the fourth WQE was not sent in full */
		if (data[i + 1] & 0x80)
			wqe[1].responded = true;
		w.acked_psn = v.acked_psn;
		if ((data[i] & SROCE_AETH_TYPE_MASK) == SROCE_AETH_ACK &&
		    v.action != SROCE_REQ_DROP &&
		    sroce_psn_diff(psn, w.ack_hi) > 0)
			w.ack_hi = psn;
		if (sroce_psn_diff(w.acked_psn, w.ack_hi) > 0)
			w.ack_hi = w.acked_psn;
	}
}

/*
 * Random arrivals, reports, fills and duplicates at a receiver's reorder
 * hold: the hold stays within its bounds, a gap is reported at most once,
 * never before its hold is over unless a packet could not be held, and
 * nothing is held at or behind the expected PSN.
 */
static void fuzz_reorder(const __u8 *data, size_t size)
{
	struct sroce_reorder ro;
	__u32 epsn = 0xfffff0, wait;
	unsigned int held = 0;
	__u64 now = 1000;
	bool was_reported = false;
	size_t i;

	sroce_reorder_init(&ro);
	for (i = 0; i + 2 <= size; i += 2) {
		__u32 psn = sroce_psn_add(epsn, data[i + 1] % 8);

		now += data[i + 1] * 8;
		switch (data[i] % 4) {
		case 0:
			if (sroce_reorder_ahead(&ro, epsn, psn, held, now)) {
				if (psn == epsn)
					abort();
				held++;
			}
			if (!ro.open)
				abort();
			break;
		case 1:
			if (sroce_reorder_due(&ro, now, &wait)) {
				if (was_reported || (!ro.urgent &&
				    now - ro.since_us < ro.hold_us))
					abort();
				was_reported = true;
			} else if (wait > ro.hold_us) {
				abort();
			}
			break;
		case 2:
			sroce_reorder_filled(&ro);
			epsn = sroce_psn_add(epsn, 1 + data[i + 1] % 4);
			held = 0;
			was_reported = false;
			break;
		default:
			sroce_reorder_duplicate(&ro, sroce_psn_add(epsn,
						SROCE_PSN_MASK - data[i + 1] % 4));
			break;
		}
		if (ro.hold_us < SROCE_REORDER_MIN_US ||
		    ro.hold_us > SROCE_REORDER_MAX_US)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_packet(data, size);
	sroce_icrc_check(data, size);
	fuzz_requester(data, size);
	fuzz_reorder(data, size);
	return 0;
}
