// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A kernel consumer of an RDMA device, as a ULP would be: a PD with the
 * device's DMA MR (ib_alloc_pd), a CQ polled by the core's workqueue
 * (ib_alloc_cq), two RC QPs connected to each other over a RoCEv2 GID,
 * kmalloc'ed buffers mapped with ib_dma_map_single, and then SEND (with
 * two SGEs), SEND_WITH_IMM, inline SEND, RDMA WRITE, WRITE_WITH_IMM and
 * RDMA READ across several packets, each checked byte for byte; an ATOMIC
 * against the PD's global rkey, which grants no atomic access, must fail
 * with a remote access error; ib_drain_qp must then return.
 *
 *   insmod sroce_kverbs_test.ko dev=sroce0 gid_index=N
 *
 * Loading runs the test: it prints "ok:" or "FAIL:" lines to the kernel
 * log and fails with -EIO if any check failed.  The module does nothing
 * once loaded, so it can be removed right away.
 */
#include <linux/completion.h>
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>

static char *dev = "sroce0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "RDMA device to test");
static int gid_index;
module_param(gid_index, int, 0444);
MODULE_PARM_DESC(gid_index, "RoCEv2 GID index of port 1 to connect through");

#define BUF_SIZE	(64 * 1024)	/* 64 packets at MTU 1024 */
#define TIMEOUT		(10 * HZ)

struct kt_wr {
	struct ib_cqe cqe;
	struct completion done;
	struct ib_wc wc;
};

struct kt {
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *a;	/* requester */
	struct ib_qp *b;	/* responder */
	u8 mac[ETH_ALEN];	/* of the GID's netdev */
	u8 *src, *dst, *back;
	u64 src_dma, dst_dma, back_dma;
	/*
	 * The send and the receive in flight.  They live as long as the
	 * QPs, so that a completion that comes after its wait timed out
	 * still lands here; the QPs are drained before they go.
	 */
	struct kt_wr s, r;
	int failures;
};

#define kt_check(t, cond, fmt, ...)					\
	do {								\
		if (!(cond)) {						\
			pr_err("sroce_kverbs_test: FAIL: " fmt "\n",	\
			       ##__VA_ARGS__);				\
			(t)->failures++;				\
		}							\
	} while (0)

static void kt_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct kt_wr *w = container_of(wc->wr_cqe, struct kt_wr, cqe);

	w->wc = *wc;
	complete(&w->done);
}

static void kt_wr_init(struct kt_wr *w)
{
	w->cqe.done = kt_done;
	init_completion(&w->done);
}

/* Wait for @w's completion; false (and a failure) if it never comes. */
static bool kt_wait(struct kt *t, struct kt_wr *w, const char *what)
{
	if (!wait_for_completion_timeout(&w->done, TIMEOUT)) {
		kt_check(t, false, "%s: no completion", what);
		return false;
	}
	return true;
}

static int kt_modify(struct ib_qp *qp, struct ib_qp_attr *attr, int mask)
{
	int err = ib_modify_qp(qp, attr, mask);

	if (err)
		pr_err("sroce_kverbs_test: modify to state %d: %d\n",
		       attr->qp_state, err);
	return err;
}

/* Take @qp from RESET to RTS, connected to QP @dest over our own GID. */
static int kt_connect(struct kt *t, struct ib_qp *qp, u32 dest,
		      union ib_gid *gid)
{
	struct ib_qp_attr attr = {};
	int err;

	attr.qp_state = IB_QPS_INIT;
	attr.port_num = 1;
	attr.qp_access_flags = IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_WRITE |
			       IB_ACCESS_REMOTE_ATOMIC;
	err = kt_modify(qp, &attr, IB_QP_STATE | IB_QP_PKEY_INDEX |
			IB_QP_PORT | IB_QP_ACCESS_FLAGS);
	if (err)
		return err;

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IB_QPS_RTR;
	attr.path_mtu = IB_MTU_1024;
	attr.dest_qp_num = dest;
	attr.rq_psn = 0xfffff0;		/* wraps the 24-bit PSN early on */
	attr.max_dest_rd_atomic = 4;
	attr.min_rnr_timer = 12;
	attr.ah_attr.type = rdma_ah_find_type(t->ibdev, 1);
	rdma_ah_set_port_num(&attr.ah_attr, 1);
	rdma_ah_set_grh(&attr.ah_attr, gid, 0, gid_index, 64, 0);
	/* The core resolves the MAC for user QPs only; ours is our own. */
	memcpy(attr.ah_attr.roce.dmac, t->mac, ETH_ALEN);
	err = kt_modify(qp, &attr, IB_QP_STATE | IB_QP_AV | IB_QP_PATH_MTU |
			IB_QP_DEST_QPN | IB_QP_RQ_PSN |
			IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_MIN_RNR_TIMER);
	if (err)
		return err;

	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IB_QPS_RTS;
	attr.sq_psn = 0xfffff0;
	attr.timeout = 14;
	attr.retry_cnt = 7;
	attr.rnr_retry = 7;
	attr.max_rd_atomic = 4;
	return kt_modify(qp, &attr, IB_QP_STATE | IB_QP_SQ_PSN |
			 IB_QP_TIMEOUT | IB_QP_RETRY_CNT | IB_QP_RNR_RETRY |
			 IB_QP_MAX_QP_RD_ATOMIC);
}

static void kt_fill(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 31 + seed + (i >> 8));
}

/* Post a receive of @len bytes at dst + @off on b. */
static int kt_post_recv(struct kt *t, struct kt_wr *w, u32 off, u32 len)
{
	struct ib_sge sge = {
		.addr = t->dst_dma + off,
		.length = len,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &w->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	kt_wr_init(w);
	return ib_post_recv(t->b, &wr, NULL);
}

/* SEND in two SGEs, then SEND_WITH_IMM and an inline SEND. */
static void kt_sends(struct kt *t)
{
	struct ib_sge sge[2] = {
		{ .addr = t->src_dma, .length = 1000,
		  .lkey = t->pd->local_dma_lkey },
		{ .addr = t->src_dma + 5000, .length = 3000,
		  .lkey = t->pd->local_dma_lkey },
	};
	struct ib_send_wr wr = {
		.sg_list = sge,
		.num_sge = 2,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	struct kt_wr *s = &t->s, *r = &t->r;

	memset(t->dst, 0, BUF_SIZE);
	kt_check(t, !kt_post_recv(t, r, 0, 8192), "SEND: post_recv");
	kt_wr_init(s);
	wr.wr_cqe = &s->cqe;
	kt_check(t, !ib_post_send(t->a, &wr, NULL), "SEND: post_send");
	if (kt_wait(t, s, "SEND") && kt_wait(t, r, "SEND's receive")) {
		kt_check(t, s->wc.status == IB_WC_SUCCESS &&
			 s->wc.opcode == IB_WC_SEND, "SEND: status %d opcode %d",
			 s->wc.status, s->wc.opcode);
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.opcode == IB_WC_RECV && r->wc.byte_len == 4000 &&
			 r->wc.qp == t->b,
			 "SEND's receive: status %d opcode %d length %u",
			 r->wc.status, r->wc.opcode, r->wc.byte_len);
		kt_check(t, !memcmp(t->dst, t->src, 1000) &&
			 !memcmp(t->dst + 1000, t->src + 5000, 3000),
			 "SEND: data differs");
	}

	kt_check(t, !kt_post_recv(t, r, 0, 8192), "SEND_IMM: post_recv");
	kt_wr_init(s);
	wr.wr_cqe = &s->cqe;
	wr.opcode = IB_WR_SEND_WITH_IMM;
	wr.ex.imm_data = cpu_to_be32(0x5eed1234);
	wr.num_sge = 1;
	kt_check(t, !ib_post_send(t->a, &wr, NULL), "SEND_IMM: post_send");
	if (kt_wait(t, s, "SEND_IMM") && kt_wait(t, r, "SEND_IMM's receive"))
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 (r->wc.wc_flags & IB_WC_WITH_IMM) &&
			 r->wc.ex.imm_data == cpu_to_be32(0x5eed1234),
			 "SEND_IMM's receive: status %d flags %x imm %x",
			 r->wc.status, r->wc.wc_flags,
			 be32_to_cpu(r->wc.ex.imm_data));

	memset(t->dst, 0, 64);
	kt_check(t, !kt_post_recv(t, r, 0, 8192), "inline SEND: post_recv");
	kt_wr_init(s);
	wr.wr_cqe = &s->cqe;
	wr.opcode = IB_WR_SEND;
	wr.send_flags = IB_SEND_SIGNALED | IB_SEND_INLINE;
	sge[0].addr = (uintptr_t)t->src;	/* inline data: a CPU address */
	sge[0].length = 64;
	kt_check(t, !ib_post_send(t->a, &wr, NULL), "inline SEND: post_send");
	if (kt_wait(t, s, "inline SEND") &&
	    kt_wait(t, r, "inline SEND's receive"))
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.byte_len == 64 && !memcmp(t->dst, t->src, 64),
			 "inline SEND: status %d length %u or data differs",
			 r->wc.status, r->wc.byte_len);
	if (!t->failures)
		pr_info("sroce_kverbs_test: ok: SEND with 2 SGEs, SEND_WITH_IMM, inline SEND\n");
}

/* WRITE all of src to dst, WRITE_WITH_IMM, then READ dst back. */
static void kt_rdma(struct kt *t)
{
	int before = t->failures;
	struct ib_sge sge = {
		.addr = t->src_dma,
		.length = BUF_SIZE,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_rdma_wr wr = {
		.wr.sg_list = &sge,
		.wr.num_sge = 1,
		.wr.opcode = IB_WR_RDMA_WRITE,
		.wr.send_flags = IB_SEND_SIGNALED,
		.remote_addr = t->dst_dma,
		.rkey = t->pd->unsafe_global_rkey,
	};
	struct kt_wr *s = &t->s, *r = &t->r;

	memset(t->dst, 0, BUF_SIZE);
	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "WRITE: post_send");
	if (kt_wait(t, s, "WRITE"))
		kt_check(t, s->wc.status == IB_WC_SUCCESS &&
			 s->wc.opcode == IB_WC_RDMA_WRITE &&
			 !memcmp(t->dst, t->src, BUF_SIZE),
			 "WRITE: status %d or data differs", s->wc.status);

	kt_check(t, !kt_post_recv(t, r, 0, 0), "WRITE_IMM: post_recv");
	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	wr.wr.opcode = IB_WR_RDMA_WRITE_WITH_IMM;
	wr.wr.ex.imm_data = cpu_to_be32(42);
	sge.length = 3000;
	wr.remote_addr = t->dst_dma + 7;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "WRITE_IMM: post_send");
	if (kt_wait(t, s, "WRITE_IMM") &&
	    kt_wait(t, r, "WRITE_IMM's receive"))
		kt_check(t, r->wc.status == IB_WC_SUCCESS &&
			 r->wc.opcode == IB_WC_RECV_RDMA_WITH_IMM &&
			 r->wc.ex.imm_data == cpu_to_be32(42) &&
			 r->wc.byte_len == 3000 &&
			 !memcmp(t->dst + 7, t->src, 3000),
			 "WRITE_IMM's receive: status %d opcode %d length %u or data differs",
			 r->wc.status, r->wc.opcode, r->wc.byte_len);

	memset(t->back, 0, BUF_SIZE);
	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	wr.wr.opcode = IB_WR_RDMA_READ;
	sge.addr = t->back_dma;
	sge.length = BUF_SIZE;
	wr.remote_addr = t->dst_dma;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "READ: post_send");
	if (kt_wait(t, s, "READ"))
		kt_check(t, s->wc.status == IB_WC_SUCCESS &&
			 s->wc.opcode == IB_WC_RDMA_READ &&
			 !memcmp(t->back, t->dst, BUF_SIZE),
			 "READ: status %d or data differs", s->wc.status);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: 64 KiB WRITE, WRITE_WITH_IMM at an odd offset, 64 KiB READ\n");
}

/* The global rkey grants no atomics: a remote access error, then drain. */
static void kt_atomic_refused(struct kt *t)
{
	int before = t->failures;
	struct ib_sge sge = {
		.addr = t->back_dma,
		.length = 8,
		.lkey = t->pd->local_dma_lkey,
	};
	struct ib_atomic_wr wr = {
		.wr.sg_list = &sge,
		.wr.num_sge = 1,
		.wr.opcode = IB_WR_ATOMIC_FETCH_AND_ADD,
		.wr.send_flags = IB_SEND_SIGNALED,
		.remote_addr = t->dst_dma,
		.compare_add = 1,
		.rkey = t->pd->unsafe_global_rkey,
	};
	struct kt_wr *s = &t->s;

	kt_wr_init(s);
	wr.wr.wr_cqe = &s->cqe;
	kt_check(t, !ib_post_send(t->a, &wr.wr, NULL), "ATOMIC: post_send");
	if (kt_wait(t, s, "ATOMIC"))
		kt_check(t, s->wc.status == IB_WC_REM_ACCESS_ERR,
			 "ATOMIC without atomic access: status %d", s->wc.status);
	ib_drain_qp(t->a);
	ib_drain_qp(t->b);
	if (t->failures == before)
		pr_info("sroce_kverbs_test: ok: ATOMIC without atomic access fails with a remote access error; both QPs drain\n");
}

static int kt_map(struct kt *t, u8 **buf, u64 *dma)
{
	*buf = kzalloc(BUF_SIZE, GFP_KERNEL);
	if (!*buf)
		return -ENOMEM;
	*dma = ib_dma_map_single(t->ibdev, *buf, BUF_SIZE, DMA_BIDIRECTIONAL);
	if (ib_dma_mapping_error(t->ibdev, *dma)) {
		kfree(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void kt_unmap(struct kt *t, u8 *buf, u64 dma)
{
	if (!buf)
		return;
	ib_dma_unmap_single(t->ibdev, dma, BUF_SIZE, DMA_BIDIRECTIONAL);
	kfree(buf);
}

/* Our GID at gid_index and the MAC address of its netdev. */
static int kt_query_gid(struct kt *t, union ib_gid *gid)
{
	const struct ib_gid_attr *attr;
	struct net_device *ndev;
	int err = 0;

	attr = rdma_get_gid_attr(t->ibdev, 1, gid_index);
	if (IS_ERR(attr))
		return PTR_ERR(attr);
	*gid = attr->gid;
	rcu_read_lock();
	ndev = rdma_read_gid_attr_ndev_rcu(attr);
	if (IS_ERR(ndev))
		err = PTR_ERR(ndev);
	else
		memcpy(t->mac, ndev->dev_addr, ETH_ALEN);
	rcu_read_unlock();
	rdma_put_gid_attr(attr);
	return err;
}

static int kt_run(struct kt *t)
{
	struct ib_qp_init_attr init = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 2, .max_recv_sge = 1,
			 .max_inline_data = 64 },
	};
	union ib_gid gid;
	int err;

	err = kt_query_gid(t, &gid);
	if (err)
		return err;
	t->pd = ib_alloc_pd(t->ibdev, IB_PD_UNSAFE_GLOBAL_RKEY);
	if (IS_ERR(t->pd))
		return PTR_ERR(t->pd);
	t->cq = ib_alloc_cq(t->ibdev, NULL, 64, 0, IB_POLL_WORKQUEUE);
	if (IS_ERR(t->cq)) {
		err = PTR_ERR(t->cq);
		goto err_pd;
	}
	init.send_cq = t->cq;
	init.recv_cq = t->cq;
	t->a = ib_create_qp(t->pd, &init);
	if (IS_ERR(t->a)) {
		err = PTR_ERR(t->a);
		goto err_cq;
	}
	t->b = ib_create_qp(t->pd, &init);
	if (IS_ERR(t->b)) {
		err = PTR_ERR(t->b);
		goto err_qp_a;
	}
	err = kt_map(t, &t->src, &t->src_dma);
	if (!err)
		err = kt_map(t, &t->dst, &t->dst_dma);
	if (!err)
		err = kt_map(t, &t->back, &t->back_dma);
	if (err)
		goto err_bufs;
	kt_fill(t->src, BUF_SIZE, 7);
	err = kt_connect(t, t->a, t->b->qp_num, &gid);
	if (!err)
		err = kt_connect(t, t->b, t->a->qp_num, &gid);
	if (err)
		goto err_bufs;

	kt_sends(t);
	kt_rdma(t);
	kt_atomic_refused(t);

err_bufs:
	kt_unmap(t, t->back, t->back_dma);
	kt_unmap(t, t->dst, t->dst_dma);
	kt_unmap(t, t->src, t->src_dma);
	ib_destroy_qp(t->b);
err_qp_a:
	ib_destroy_qp(t->a);
err_cq:
	ib_free_cq(t->cq);
err_pd:
	ib_dealloc_pd(t->pd);
	return err;
}

/*
 * As a ULP meets devices: the core calls add() for each registered one.
 * The test runs from there, on the device named @dev, once.
 */
static int kt_result = -ENODEV;

static int kt_add(struct ib_device *ibdev)
{
	struct kt t = { .ibdev = ibdev };
	int err;

	if (strcmp(dev_name(&ibdev->dev), dev) || kt_result != -ENODEV)
		return -EOPNOTSUPP;
	err = kt_run(&t);
	if (err) {
		pr_err("sroce_kverbs_test: FAIL: setup failed: %d\n", err);
		kt_result = err;
	} else {
		pr_info("sroce_kverbs_test: %d failures\n", t.failures);
		kt_result = t.failures ? -EIO : 0;
	}
	/* Not this client's device: nothing to keep, nothing to remove. */
	return -EOPNOTSUPP;
}

static void kt_remove(struct ib_device *ibdev, void *client_data)
{
}

static struct ib_client kt_client = {
	.name = "sroce_kverbs_test",
	.add = kt_add,
	.remove = kt_remove,
};

static int __init kt_init(void)
{
	int err;

	/* add() runs for every registered device before this returns. */
	err = ib_register_client(&kt_client);
	if (err)
		return err;
	ib_unregister_client(&kt_client);
	if (kt_result == -ENODEV)
		pr_err("sroce_kverbs_test: no RDMA device %s\n", dev);
	return kt_result;
}

static void __exit kt_exit(void)
{
}

module_init(kt_init);
module_exit(kt_exit);
MODULE_DESCRIPTION("Kernel verbs test of an RDMA device (sroce's tests)");
MODULE_LICENSE("Dual BSD/GPL");
