// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A hostile producer of an SRQ's ring: the provider's own SRQ (through
 * its private struct, provider/sroce.h) with a producer index that claims
 * more WQEs than the ring holds, and with a WQE of more SGEs than the
 * SRQ's.  Either must put the SRQ in error (IBV_EVENT_SRQ_ERR, once), fail
 * the QPs that take from it (IBV_EVENT_QP_FATAL, the sender sees
 * IBV_WC_REM_OP_ERR) and break nothing else.
 *
 *   srq_hostile DEV GID_INDEX
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sroce.h"
#include "common.h"

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_mr *mr;
static uint8_t buf[8192];
static union ibv_gid gid;
static int gid_index;

static struct ibv_qp *new_qp(struct ibv_cq *cq, struct ibv_srq *srq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq, .recv_cq = cq, .srq = srq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = srq ? 0 : 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return ibv_create_qp(pd, &a);
}

static int wait_wc(struct ibv_cq *cq, int ms, struct ibv_wc *wc)
{
	int n;

	for (; ms > 0; ms--) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n)
			return n;
		usleep(1000);
	}
	return 0;
}

/* Events within @ms: SRQ errors of @srq, fatal errors of @qp, others. */
static void events(struct ibv_srq *srq, struct ibv_qp *qp, int ms,
		   int *srq_err, int *qp_fatal, int *other)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;

	while (poll(&pfd, 1, ms) == 1 && !ibv_get_async_event(ctx, &ev)) {
		if (ev.event_type == IBV_EVENT_SRQ_ERR && ev.element.srq == srq)
			(*srq_err)++;
		else if (ev.event_type == IBV_EVENT_QP_FATAL &&
			 ev.element.qp == qp)
			(*qp_fatal)++;
		else if (ev.event_type != IBV_EVENT_QP_LAST_WQE_REACHED)
			(*other)++;
		ibv_ack_async_event(&ev);
		ms = 300;
	}
}

/*
 * Break @srq's ring with @how, then a SEND from a QP to one on the SRQ:
 * 0: prod past cons + num; 1: a WQE of 100 SGEs.
 */
static void one(int how, const char *what)
{
	struct ibv_sge sge = { .addr = (uintptr_t)buf, .length = 64,
			       .lkey = mr->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_srq_init_attr sa = { .attr = { .max_wr = 4, .max_sge = 1 } };
	struct ibv_qp *c = NULL, *s = NULL;
	int srq_err = 0, fatal = 0, other = 0;
	struct ibv_srq *srq;
	struct sroce_ring *rq;
	struct ibv_cq *cq;
	struct ibv_wc wc;

	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	srq = cq ? ibv_create_srq(pd, &sa) : NULL;
	if (srq) {
		c = new_qp(cq, NULL);
		s = new_qp(cq, srq);
	}
	if (!c || !s ||
	    rc_qp_connect(c, s->qp_num, gid_index, &gid, IBV_MTU_1024, 10, 1, 0) ||
	    rc_qp_connect(s, c->qp_num, gid_index, &gid, IBV_MTU_1024, 10, 1, 0)) {
		check(0, "%s: setup: %s", what, strerror(errno));
		goto out;
	}
	rq = &to_ssrq(srq)->rq;
	if (how == 0) {
		sroce_ring_store(&rq->hdr->prod, rq->num + 3);
	} else {
		struct sroce_recv_wqe *w = sroce_ring_slot(rq, 0);

		w->num_sge = 100;
		sroce_ring_store(&rq->hdr->prod, 1);
	}
	ibv_post_send(c, &wr, &bad);
	report(wait_wc(cq, 10000, &wc) && wc.qp_num == c->qp_num &&
	       wc.status == IBV_WC_REM_OP_ERR,
	       "%s: the sender's SEND ends in IBV_WC_REM_OP_ERR (%s)", what,
	       ibv_wc_status_str(wc.status));
	events(srq, s, 2000, &srq_err, &fatal, &other);
	report(srq_err == 1 && fatal == 1 && !other,
	       "%s: IBV_EVENT_SRQ_ERR once (%d), the QP on it IBV_EVENT_QP_FATAL (%d), %d others",
	       what, srq_err, fatal, other);
out:
	if (c)
		ibv_destroy_qp(c);
	if (s)
		ibv_destroy_qp(s);
	if (srq)
		report(!ibv_destroy_srq(srq), "%s: the SRQ is destroyed", what);
	if (cq)
		ibv_destroy_cq(cq);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s DEV GID_INDEX\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = open_by_name(argv[1]);
	gid_index = atoi(argv[2]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	mr = pd ? ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!mr) {
		printf("FAIL: PD or MR: %s\n", strerror(errno));
		return 1;
	}
	fcntl(ctx->async_fd, F_SETFL,
	      fcntl(ctx->async_fd, F_GETFL) | O_NONBLOCK);
	one(0, "prod past the ring");
	one(1, "a WQE of 100 SGEs");
	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("%s: %d failures\n", argv[0], failures);
	return failures ? 1 : 0;
}
