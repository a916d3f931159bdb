// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Holds a device while it is taken away (t-netns.sh): opens DEV, creates
 * a PD, an MR, a CQ and an RC QP connected to itself through GID index
 * GID (in RTS, a receive posted, one SEND completed), says "ready" and
 * waits up to 30 s for the device to go (IBV_EVENT_DEVICE_FATAL).  Then
 * every verb that asks the kernel must fail with EIO (post_send's
 * doorbell, modify_qp, req_notify_cq, reg_mr, query_port), polling must
 * find nothing, and destroying everything and closing the device must
 * succeed (run with RDMAV_ALLOW_DISASSOC_DESTROY=1, which tells
 * libibverbs that a destroy refused with EIO was done by the kernel).
 * Exits 0 if all held.
 *
 * netns_hold DEV GID
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define BUF_SIZE	4096

static int wait_fatal(struct ibv_context *ctx, int ms)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;

	for (;;) {
		if (poll(&pfd, 1, ms) <= 0)
			return -1;
		if (ibv_get_async_event(ctx, &ev))
			return -1;
		ibv_ack_async_event(&ev);
		if (ev.event_type == IBV_EVENT_DEVICE_FATAL)
			return 0;
		printf("async event %s\n", ibv_event_type_str(ev.event_type));
	}
}

int main(int argc, char **argv)
{
	struct ibv_qp_init_attr qpi = { .qp_type = IBV_QPT_RC };
	struct ibv_recv_wr rwr = { .num_sge = 1 }, *bad_rwr;
	struct ibv_send_wr swr = { .num_sge = 1 }, *bad_swr;
	struct ibv_qp_attr attr = { .qp_state = IBV_QPS_ERR };
	struct ibv_port_attr pattr;
	struct ibv_context *ctx;
	struct ibv_sge sge;
	struct ibv_mr *mr, *mr2;
	struct ibv_wc wc;
	struct ibv_cq *cq;
	struct ibv_pd *pd;
	struct ibv_qp *qp;
	union ibv_gid gid;
	int gid_index, n, ret, i;
	char *buf;

	if (argc != 3) {
		fprintf(stderr, "usage: netns_hold DEV GID\n");
		return 2;
	}
	gid_index = atoi(argv[2]);
	buf = calloc(1, BUF_SIZE);
	ctx = open_by_name(argv[1]);
	if (!buf || !ctx) {
		printf("FAIL: cannot open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	mr = pd ? ibv_reg_mr(pd, buf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE) : NULL;
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	qpi.send_cq = cq;
	qpi.recv_cq = cq;
	qpi.cap.max_send_wr = 4;
	qpi.cap.max_recv_wr = 4;
	qpi.cap.max_send_sge = 1;
	qpi.cap.max_recv_sge = 1;
	qp = pd && cq ? ibv_create_qp(pd, &qpi) : NULL;
	if (!mr || !qp || ibv_query_gid(ctx, 1, gid_index, &gid) ||
	    rc_qp_connect(qp, qp->qp_num, gid_index, &gid, IBV_MTU_1024,
			  14, 7, 7)) {
		printf("FAIL: cannot set up a QP on %s\n", argv[1]);
		return 1;
	}
	sge.addr = (uintptr_t)buf;
	sge.length = 64;
	sge.lkey = mr->lkey;
	rwr.sg_list = &sge;
	swr.sg_list = &sge;
	swr.opcode = IBV_WR_SEND;
	swr.send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_recv(qp, &rwr, &bad_rwr) ||
	    ibv_post_send(qp, &swr, &bad_swr)) {
		printf("FAIL: cannot post\n");
		return 1;
	}
	for (n = 0, i = 0; n < 2 && i < 5000; i++) {
		ret = ibv_poll_cq(cq, 1, &wc);
		if (ret < 0 || (ret && wc.status != IBV_WC_SUCCESS)) {
			printf("FAIL: completion %d status %d\n", ret,
			       ret ? wc.status : 0);
			return 1;
		}
		n += ret;
		if (!ret)
			usleep(1000);
	}
	report(n == 2, "a SEND to itself completed on %s", argv[1]);
	/* A receive stays posted, an object the device holds for us. */
	check(!ibv_post_recv(qp, &rwr, &bad_rwr), "post_recv");
	printf("ready\n");
	fflush(stdout);

	report(!wait_fatal(ctx, 30000), "IBV_EVENT_DEVICE_FATAL came");

	errno = 0;
	ret = ibv_post_send(qp, &swr, &bad_swr);
	report(ret == EIO && bad_swr == &swr,
	       "post_send after: %s", strerror(ret));
	ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE);
	report(ret == EIO, "modify_qp after: %s", strerror(ret));
	ret = ibv_req_notify_cq(cq, 0);
	report(ret == EIO, "req_notify_cq after: %s", strerror(ret));
	errno = 0;
	mr2 = ibv_reg_mr(pd, buf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE);
	report(!mr2 && errno == EIO, "reg_mr after: %s", strerror(errno));
	ret = ibv_query_port(ctx, 1, &pattr);
	report(ret == EIO, "query_port after: %s", strerror(ret));
	ret = ibv_poll_cq(cq, 1, &wc);
	report(ret == 0, "poll_cq after: %d", ret);

	report(!ibv_destroy_qp(qp), "destroy_qp");
	report(!ibv_destroy_cq(cq), "destroy_cq");
	report(!ibv_dereg_mr(mr), "dereg_mr");
	report(!ibv_dealloc_pd(pd), "dealloc_pd");
	report(!ibv_close_device(ctx), "close_device");
	free(buf);
	printf("%s\n", failures ? "FAILED" : "done");
	return failures ? 1 : 0;
}
