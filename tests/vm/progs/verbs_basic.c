// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Opens an RDMA device by name and checks what user space sees of it:
 * device, port and GID queries, PD allocation, and that every object type
 * the device advertises (max_* > 0) can be created while every type it
 * does not advertise is refused.
 *
 * usage: verbs_basic <device>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "common.h"

#define NUM_PDS 64

static void check_pds(struct ibv_context *ctx)
{
	struct ibv_pd *pds[NUM_PDS];
	int i;

	for (i = 0; i < NUM_PDS; i++) {
		pds[i] = ibv_alloc_pd(ctx);
		check(pds[i], "ibv_alloc_pd #%d: %s", i, strerror(errno));
	}
	for (i = 0; i < NUM_PDS; i++)
		if (pds[i])
			check(!ibv_dealloc_pd(pds[i]), "ibv_dealloc_pd #%d", i);
}

static struct ibv_qp *rc_qp(struct ibv_pd *pd, struct ibv_cq *cq, int wr,
			    int sge)
{
	struct ibv_qp_init_attr init = {
		.send_cq = cq, .recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = wr, .max_recv_wr = wr,
			 .max_send_sge = sge, .max_recv_sge = sge },
	};

	return ibv_create_qp(pd, &init);
}

/* QPs: none if max_qp is 0, else RC QPs up to the advertised limits. */
static void check_qp_caps(struct ibv_context *ctx, struct ibv_pd *pd,
			  const struct ibv_device_attr *attr)
{
	struct ibv_cq *cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	struct ibv_qp *qp;

	if (!cq && attr->max_qp == 0)
		return;		/* no CQ, so no QP either */
	check(cq != NULL, "no CQ for the QP checks");
	if (!cq)
		return;
	qp = rc_qp(pd, cq, 1, 1);
	check(!!qp == (attr->max_qp > 0), "max_qp %d but ibv_create_qp %s",
	      attr->max_qp, qp ? "works" : strerror(errno));
	if (qp)
		ibv_destroy_qp(qp);
	if (attr->max_qp > 0) {
		/*
		 * The maxima may be more than memory allows at once (rxe
		 * offers a million WRs), so only ENOMEM excuses a failure;
		 * 16384 WRs at max_sge must fit.
		 */
		qp = rc_qp(pd, cq, attr->max_qp_wr, attr->max_sge);
		check(qp != NULL || errno == ENOMEM,
		      "RC QP of max_qp_wr %d, max_sge %d: %s",
		      attr->max_qp_wr, attr->max_sge, strerror(errno));
		if (qp)
			ibv_destroy_qp(qp);
		qp = rc_qp(pd, cq, attr->max_qp_wr < 16384 ?
			   attr->max_qp_wr : 16384, attr->max_sge);
		check(qp != NULL, "RC QP of max_sge %d: %s", attr->max_sge,
		      strerror(errno));
		if (qp)
			ibv_destroy_qp(qp);
		qp = rc_qp(pd, cq, attr->max_qp_wr + 1, 1);
		check(!qp, "an RC QP beyond max_qp_wr works");
		if (qp)
			ibv_destroy_qp(qp);
		qp = rc_qp(pd, cq, 1, attr->max_sge + 1);
		check(!qp, "an RC QP beyond max_sge works");
		if (qp)
			ibv_destroy_qp(qp);
	}
	ibv_destroy_cq(cq);
}

/* Advertised object types must work; others must be refused. */
static void check_honesty(struct ibv_context *ctx,
			  const struct ibv_device_attr *attr)
{
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	static char buf[4096];

	if (!pd) {
		check(0, "ibv_alloc_pd");
		return;
	}
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	check(!!cq == (attr->max_cq > 0),
	      "max_cq %d but ibv_create_cq %s", attr->max_cq,
	      cq ? "works" : strerror(errno));
	if (cq)
		ibv_destroy_cq(cq);

	mr = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	check(!!mr == (attr->max_mr > 0),
	      "max_mr %d but ibv_reg_mr %s", attr->max_mr,
	      mr ? "works" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);

	check_qp_caps(ctx, pd, attr);
	ibv_dealloc_pd(pd);
}

int main(int argc, char **argv)
{
	struct ibv_device_attr attr;
	struct ibv_port_attr port, port2;
	struct ibv_context *ctx;
	union ibv_gid gid;
	int i, nonzero = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <device>\n", argv[0]);
		return 2;
	}
	ctx = open_by_name(argv[1]);
	if (!ctx) {
		printf("FAIL: cannot open %s\n", argv[1]);
		return 1;
	}

	check(!ibv_query_device(ctx, &attr), "ibv_query_device");
	check(attr.phys_port_cnt == 1, "phys_port_cnt %d", attr.phys_port_cnt);
	check(attr.max_pd > 0, "max_pd %d", attr.max_pd);
	check(attr.node_guid != 0, "node_guid is zero");

	check(!ibv_query_port(ctx, 1, &port), "ibv_query_port 1");
	check(port.link_layer == IBV_LINK_LAYER_ETHERNET, "link layer %d",
	      port.link_layer);
	check(port.gid_tbl_len > 0, "gid_tbl_len %d", port.gid_tbl_len);
	check(ibv_query_port(ctx, 2, &port2) != 0, "port 2 exists");

	for (i = 0; i < port.gid_tbl_len; i++)
		if (!ibv_query_gid(ctx, 1, i, &gid) &&
		    (gid.global.subnet_prefix || gid.global.interface_id))
			nonzero++;
	check(nonzero >= 2, "only %d GIDs set", nonzero);

	check_pds(ctx);
	check_honesty(ctx, &attr);

	check(!ibv_close_device(ctx), "ibv_close_device");
	printf("%s: %s\n", argv[1], failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
