// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Multicast through the verbs, for a group of either family (rdma_cm joins
 * RoCEv2 groups over IPv4 only, so IPv6 groups are tested here alone):
 *
 *   mcast DEV GID_INDEX GROUP [hold]
 *
 * (With "hold" it only attaches one QP and waits to be killed.)
 *
 * Three UD QPs receive: r1 and r2 attach to GROUP (an IPv4 or IPv6
 * multicast address), r3 does not.  A fourth QP sends datagrams to the
 * group (destination QPN 0xFFFFFF): r1 and r2 must each get every one,
 * with its data, and r3 none.  Meanwhile the netdev is a member of the IP
 * group (/proc/net/igmp or /proc/net/igmp6).  After r2 detaches only r1
 * gets them; after r1 detaches too, the netdev has left the group.  Also:
 * attaching an RC QP or a unicast GID fails with EINVAL, detaching a QP
 * that is not attached fails, attaching twice is harmless, and the 65th
 * QP of a group fails with ENOMEM (max_mcast_qp_attach is 64).  (What a
 * process that exits still has attached is detached by uverbs, and
 * t-mcast.sh checks that the group is left then too.)  Prints
 * "ok:"/"FAIL:" lines and "mcast: N failures".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define QKEY		0x11223344u
#define MSG_LEN		256u
#define GRH_LEN		40u
#define NMSG		16u
#define SLOT		(GRH_LEN + MSG_LEN)
#define NQP_MAX		64

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static struct ibv_mr *mr;
static uint8_t *buf;
static union ibv_gid group;
static bool group_v4;

struct rq {
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	unsigned int base;	/* first slot of its receive buffers */
};

static struct ibv_qp *ud_qp(struct ibv_cq *cq)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq,
		.recv_cq = cq,
		.qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = NMSG, .max_recv_wr = NMSG,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = 1,
		.qkey = QKEY,
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &init);

	if (!qp)
		return NULL;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_QKEY))
		goto err;
	attr.qp_state = IBV_QPS_RTR;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE))
		goto err;
	attr.qp_state = IBV_QPS_RTS;
	attr.sq_psn = 0;
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_SQ_PSN))
		goto err;
	return qp;
err:
	ibv_destroy_qp(qp);
	return NULL;
}

static int post_recvs(struct rq *r)
{
	unsigned int i;

	for (i = 0; i < NMSG; i++) {
		struct ibv_sge sge = {
			.addr = (uintptr_t)(buf + (r->base + i) * SLOT),
			.length = SLOT,
			.lkey = mr->lkey,
		};
		struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge,
					  .num_sge = 1 }, *bad;

		if (ibv_post_recv(r->qp, &wr, &bad))
			return -1;
	}
	return 0;
}

/*
 * The receive completions @r gets within @secs seconds, checked; it stops
 * early once all NMSG receives posted have completed.
 */
static unsigned int drain(struct rq *r, double secs, uint32_t src_qpn,
			  unsigned int round)
{
	struct timespec t0, t;
	unsigned int got = 0;
	struct ibv_wc wc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int n = ibv_poll_cq(r->cq, 1, &wc);

		if (n < 0)
			break;
		if (n) {
			const uint8_t *p = buf + (r->base + wc.wr_id) * SLOT +
					   GRH_LEN;
			unsigned int k;
			bool same = true;

			check(wc.status == IBV_WC_SUCCESS &&
			      wc.byte_len == GRH_LEN + MSG_LEN &&
			      wc.src_qp == src_qpn && (wc.wc_flags & IBV_WC_GRH),
			      "datagram: status %d, byte_len %u, src_qp %u",
			      wc.status, wc.byte_len, wc.src_qp);
			for (k = 0; k < MSG_LEN; k++)
				same &= p[k] == (uint8_t)(round * 31 + k);
			check(same, "datagram of round %u: payload differs",
			      round);
			if (++got == NMSG)
				break;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >
		    secs)
			break;
		usleep(1000);
	}
	return got;
}

static int send_round(struct ibv_qp *qp, struct ibv_cq *cq, struct ibv_ah *ah,
		      unsigned int round)
{
	uint8_t *src = buf;	/* slot 0: the sender's */
	unsigned int i, done = 0;
	struct ibv_wc wc;

	for (i = 0; i < MSG_LEN; i++)
		src[i] = round * 31 + i;
	for (i = 0; i < NMSG; i++) {
		struct ibv_sge sge = { .addr = (uintptr_t)src,
				       .length = MSG_LEN, .lkey = mr->lkey };
		struct ibv_send_wr wr = {
			.wr_id = i, .sg_list = &sge, .num_sge = 1,
			.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
			.wr.ud = { .ah = ah, .remote_qpn = 0xffffff,
				   .remote_qkey = QKEY },
		}, *bad;

		if (ibv_post_send(qp, &wr, &bad))
			return -1;
		/* One at a time: the receivers have NMSG receives each. */
		while (!ibv_poll_cq(cq, 1, &wc))
			;
		if (wc.status != IBV_WC_SUCCESS)
			return -1;
		done++;
	}
	return done == NMSG ? 0 : -1;
}

/* Is the device's netdev a member of the IP group now? */
static bool netdev_member(void)
{
	const char *path = group_v4 ? "/proc/net/igmp" : "/proc/net/igmp6";
	char line[256], want[40];
	bool found = false;
	FILE *f;
	int i;

	if (group_v4) {
		/* /proc/net/igmp shows the group as a host-order hex word. */
		uint32_t a;

		memcpy(&a, group.raw + 12, 4);
		snprintf(want, sizeof(want), "%08X", a);
	} else {
		for (i = 0; i < 16; i++)
			snprintf(want + 2 * i, 3, "%02x", group.raw[i]);
	}
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, want) != NULL;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct ibv_qp *extra[NQP_MAX], *rc;
	struct rq r[3] = {};
	struct ibv_cq *scq;
	struct ibv_qp *sqp;
	union ibv_gid unicast;
	struct ibv_ah_attr ah_attr = {};
	struct ibv_ah *ah;
	unsigned int i, got[3], n_extra = 0;
	int gid_index, err;

	if (argc != 4 && (argc != 5 || strcmp(argv[4], "hold"))) {
		fprintf(stderr, "usage: mcast DEV GID_INDEX GROUP [hold]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	gid_index = atoi(argv[2]);
	memset(&group, 0, sizeof(group));
	if (inet_pton(AF_INET6, argv[3], group.raw) == 1) {
		group_v4 = false;
	} else if (inet_pton(AF_INET, argv[3], group.raw + 12) == 1) {
		group.raw[10] = 0xff;
		group.raw[11] = 0xff;
		group_v4 = true;
	} else {
		fprintf(stderr, "mcast: %s is no address\n", argv[3]);
		return 2;
	}
	ctx = open_by_name(argv[1]);
	if (!ctx || !(pd = ibv_alloc_pd(ctx)))
		return printf("FAIL: cannot open %s\n", argv[1]), 1;
	buf = calloc(3 * NMSG + 1, SLOT);
	mr = buf ? ibv_reg_mr(pd, buf, (3 * NMSG + 1) * SLOT,
			      IBV_ACCESS_LOCAL_WRITE) : NULL;
	scq = ibv_create_cq(ctx, NMSG, NULL, NULL, 0);
	sqp = scq ? ud_qp(scq) : NULL;
	if (!mr || !sqp)
		return printf("FAIL: resources\n"), 1;
	for (i = 0; i < 3; i++) {
		r[i].cq = ibv_create_cq(ctx, NMSG, NULL, NULL, 0);
		r[i].qp = r[i].cq ? ud_qp(r[i].cq) : NULL;
		r[i].base = 1 + i * NMSG;
		if (!r[i].qp || post_recvs(&r[i]))
			return printf("FAIL: receiver %u\n", i + 1), 1;
	}

	if (argc == 5) {
		/* hold: attached until killed. */
		if (ibv_attach_mcast(r[0].qp, &group, 0))
			return printf("FAIL: attach\n"), 1;
		printf("attached\n");
		pause();
	}
	report(!netdev_member(), "%s: the netdev is no member before any attach",
	       argv[3]);
	report(!ibv_attach_mcast(r[0].qp, &group, 0) &&
	       !ibv_attach_mcast(r[1].qp, &group, 0),
	       "%s: r1 and r2 attach", argv[3]);
	report(!ibv_attach_mcast(r[1].qp, &group, 0),
	       "%s: attaching r2 again is harmless", argv[3]);
	report(netdev_member(), "%s: the netdev joined the IP group", argv[3]);

	ah_attr.is_global = 1;
	ah_attr.port_num = 1;
	ah_attr.grh.dgid = group;
	ah_attr.grh.sgid_index = gid_index;
	ah_attr.grh.hop_limit = 1;
	ah = ibv_create_ah(pd, &ah_attr);
	report(ah, "%s: an AH to the group", argv[3]);
	if (!ah)
		return 1;

	report(!send_round(sqp, scq, ah, 1), "%s: %u datagrams sent to the group",
	       argv[3], NMSG);
	for (i = 0; i < 3; i++)
		got[i] = drain(&r[i], i == 2 ? 0.5 : 5, sqp->qp_num, 1);
	report(got[0] == NMSG && got[1] == NMSG && !got[2],
	       "%s: r1 got %u, r2 got %u (of %u), r3 (not attached) %u",
	       argv[3], got[0], got[1], NMSG, got[2]);

	report(!ibv_detach_mcast(r[1].qp, &group, 0), "%s: r2 detaches",
	       argv[3]);
	report(ibv_detach_mcast(r[1].qp, &group, 0),
	       "%s: r2 detaching again fails", argv[3]);
	for (i = 0; i < 2; i++)
		if (post_recvs(&r[i]))
			check(0, "repost");
	report(!send_round(sqp, scq, ah, 2), "%s: sent again", argv[3]);
	got[0] = drain(&r[0], 5, sqp->qp_num, 2);
	got[1] = drain(&r[1], 0.5, sqp->qp_num, 2);
	report(got[0] == NMSG && !got[1], "%s: after r2 left: r1 got %u, r2 %u",
	       argv[3], got[0], got[1]);

	/* The limits. */
	rc = ibv_create_qp(pd, &(struct ibv_qp_init_attr){
		.send_cq = scq, .recv_cq = scq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 } });
	err = rc ? ibv_attach_mcast(rc, &group, 0) : -1;
	report(rc && err == EINVAL, "%s: an RC QP cannot attach: %s", argv[3],
	       strerror(err));
	if (rc)
		ibv_destroy_qp(rc);
	ibv_query_gid(ctx, 1, gid_index, &unicast);
	err = ibv_attach_mcast(r[2].qp, &unicast, 0);
	report(err == EINVAL, "%s: a unicast GID cannot be attached to: %s",
	       argv[3], strerror(err));
	for (n_extra = 0; n_extra < NQP_MAX; n_extra++) {
		extra[n_extra] = ud_qp(scq);
		if (!extra[n_extra])
			break;
		err = ibv_attach_mcast(extra[n_extra], &group, 0);
		if (err) {
			ibv_destroy_qp(extra[n_extra]);
			break;
		}
	}
	/* r1 is attached: 63 more fit, the 64th more fails. */
	report(n_extra == NQP_MAX - 1 && err == ENOMEM,
	       "%s: %u more QPs attached, then %s", argv[3], n_extra,
	       err ? strerror(err) : "no failure");
	/*
	 * uverbs refuses to destroy a QP still attached (EBUSY): it detaches
	 * only for a process that exits.
	 */
	if (n_extra)
		report(ibv_destroy_qp(extra[0]) == EBUSY,
		       "%s: an attached QP is not destroyed", argv[3]);
	for (i = 0; i < n_extra; i++)
		check(!ibv_detach_mcast(extra[i], &group, 0) &&
		      !ibv_destroy_qp(extra[i]), "detach and destroy QP %u", i);
	report(!ibv_detach_mcast(r[0].qp, &group, 0), "%s: r1 detaches",
	       argv[3]);
	report(!netdev_member(), "%s: the netdev left the IP group", argv[3]);

	ibv_destroy_ah(ah);
	for (i = 0; i < 3; i++) {
		ibv_destroy_qp(r[i].qp);
		ibv_destroy_cq(r[i].cq);
	}
	ibv_destroy_qp(sqp);
	ibv_destroy_cq(scq);
	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("mcast: %d failures\n", failures);
	return failures ? 1 : 0;
}
