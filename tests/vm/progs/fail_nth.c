// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Allocation failures in every create path of the user verbs, injected
 * with /proc/thread-self/fail-nth (a kernel with FAULT_INJECTION, FAILSLAB
 * and FAIL_PAGE_ALLOC, set up by tests/vm/d-fail-nth.sh):
 *
 *   fail_nth DEV GID_INDEX [PATH...]
 *   fail_nth --list		(the paths)
 *
 * For each path (all of them by default; see paths[] below) and for
 * n = 1, 2, ...: the objects the call needs are made with nothing armed,
 * the nth fault point that this thread meets in the kernel is made to
 * fail, the call is made, and everything is then destroyed, each destroy
 * checked (a reference left behind by a failed create makes destroying
 * the PD, CQ or channel fail with EBUSY).  A call that failed must have met
 * the injected fault and must report an errno (NULL and errno, or the
 * errno returned); one that met the fault and succeeded all the same (the
 * kernel fell back, as kvmalloc() to vmalloc()) must destroy cleanly like
 * any other.  A modify that failed must leave the QP's state alone.
 * VmPin (pages charged to RLIMIT_MEMLOCK) must be back where it was after
 * every round.  The first n at which the call met no injected fault ends
 * the path: its n - 1 fault points were all exercised.  Finally (when no
 * path is named, or "data" is) two new QPs move a checked SEND and WRITE,
 * so the device still works.
 *
 * The path link_add is "rdma link add fnth0 type sroce netdev fnthd0" as
 * one netlink request, in the caller's network namespace, where the
 * caller made the netdev fnthd0; a failed one must leave no device
 * behind.
 *
 * Page faults of this process while a fault is armed would take the
 * injection outside the call (and make the kernel complain that
 * VM_FAULT_OOM reached the fault handler): the stack is touched in
 * advance and everything mapped is locked and populated (mlockall), and
 * the program should be linked with -z now and run with LD_BIND_NOW=1.
 *
 * Prints "ok: <path>: ..." per path that passed, "FAIL: ..." otherwise,
 * and "fail_nth: N failures" last; exits 1 on any failure.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "common.h"

#define MAX_N		20000	/* more fault points than any path has */
#define MR_LEN		(4 << 20)	/* 1024 pages: two pinning batches */
#define ODP_LEN		(4 << 20)
#define PREFETCH_LEN	(1 << 20)
#define MAX_ERRNO	200

static struct ibv_device *device;
static union ibv_gid gid;
static int gid_index;
static int fail_fd = -1;
static char *mr_buf, *odp_buf;

/* What a path needs made before its call, in this order. */
enum {
	NEED_CTX = 1 << 0,
	NEED_CH = 1 << 1,
	NEED_PD = 1 << 2,
	NEED_CQ = 1 << 3,
	NEED_QP = 1 << 4,
	NEED_ODP_MR = 1 << 5,
};

struct objs {
	struct ibv_context *ctx;
	struct ibv_comp_channel *ch;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	struct ibv_ah *ah;
	bool link;	/* the device LINK_DEV exists */
};

#define LINK_DEV	"fnth0"
#define LINK_NETDEV	"fnthd0"

#define ALL_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)

/*
 * RDMA netlink, for link_add: one request and its answer.  The kernel
 * handles a request in the sender's sendmsg(), so the armed fault point
 * counts there.
 */
static int nl_fd = -1;

struct nl_msg {
	struct nlmsghdr h;
	char attrs[256];
};

static void nl_init(struct nl_msg *m, int cmd, int flags)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_HDRLEN;
	m->h.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
	m->h.nlmsg_flags = NLM_F_REQUEST | flags;
	m->h.nlmsg_seq = (uint32_t)time(NULL);
}

static void nl_put(struct nl_msg *m, int type, const void *data, int len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static int nl_send(struct nl_msg *m)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(nl_fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return errno;
	return 0;
}

/*
 * Wait for the answers to a request: 0, or an errno (from an NLMSG_ERROR,
 * or ENOBUFS when the kernel could not allocate the answer).  For a dump,
 * @index gets the DEV_INDEX of the device named @name, if there is one.
 */
static int nl_wait(const char *name, uint32_t *index)
{
	static char buf[65536];
	struct nlmsghdr *h;
	ssize_t len;

	for (;;) {
		len = recv(nl_fd, buf, sizeof(buf), 0);
		if (len < 0)
			return errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			struct nlattr *a;
			uint32_t idx = 0;
			int alen;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
			alen = h->nlmsg_len - NLMSG_HDRLEN;
			for (a = NLMSG_DATA(h); alen >= NLA_HDRLEN &&
			     a->nla_len >= NLA_HDRLEN && a->nla_len <= alen;
			     alen -= NLA_ALIGN(a->nla_len),
			     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
				void *data = (char *)a + NLA_HDRLEN;

				if (a->nla_type == RDMA_NLDEV_ATTR_DEV_INDEX)
					memcpy(&idx, data, sizeof(idx));
				if (a->nla_type == RDMA_NLDEV_ATTR_DEV_NAME &&
				    name && !strcmp(data, name) && index)
					*index = idx;
			}
		}
	}
}

/* The index of RDMA device LINK_DEV, from a dump: 0, ENODEV or an errno. */
static int link_index(uint32_t *index)
{
	struct nl_msg m;
	int err;

	*index = UINT32_MAX;
	nl_init(&m, RDMA_NLDEV_CMD_GET, NLM_F_DUMP);
	err = nl_send(&m);
	if (!err)
		err = nl_wait(LINK_DEV, index);
	if (!err && *index == UINT32_MAX)
		err = ENODEV;
	return err;
}

static bool link_exists(void)
{
	uint32_t index;
	int err = link_index(&index);

	check(!err || err == ENODEV, "listing the RDMA devices: %s",
	      strerror(err));
	return !err;
}

/* rdma link delete LINK_DEV. */
static int link_delete(void)
{
	uint32_t index;
	struct nl_msg m;
	int err;

	err = link_index(&index);
	if (err)
		return err;
	nl_init(&m, RDMA_NLDEV_CMD_DELLINK, NLM_F_ACK);
	nl_put(&m, RDMA_NLDEV_ATTR_DEV_INDEX, &index, sizeof(index));
	err = nl_send(&m);
	return err ? err : nl_wait(NULL, NULL);
}

/*
 * The calls: each returns 0 or an errno, and -1 for a failure that came
 * without one.  errno is cleared just before, so a stale value cannot
 * pass for the call's.
 */
static int verr(const void *obj)
{
	if (obj)
		return 0;
	return errno ? errno : -1;
}

static int call_open(struct objs *o)
{
	o->ctx = ibv_open_device(device);
	return verr(o->ctx);
}

static int call_link_add(struct objs *o)
{
	struct nl_msg m;
	int err;

	(void)o;
	nl_init(&m, RDMA_NLDEV_CMD_NEWLINK, NLM_F_ACK);
	nl_put(&m, RDMA_NLDEV_ATTR_DEV_NAME, LINK_DEV, sizeof(LINK_DEV));
	nl_put(&m, RDMA_NLDEV_ATTR_LINK_TYPE, "sroce", sizeof("sroce"));
	nl_put(&m, RDMA_NLDEV_ATTR_NDEV_NAME, LINK_NETDEV,
	       sizeof(LINK_NETDEV));
	err = nl_send(&m);
	return err ? err : nl_wait(NULL, NULL);
}

/*
 * After link_add, disarmed: did it make the device?  The netlink answer
 * is allocated after the device was made, so a fault there loses the
 * answer (ENOBUFS) of a request that succeeded.
 */
static int post_link_add(struct objs *o, int err)
{
	o->link = link_exists();
	if (err == ENOBUFS && o->link)
		return 0;
	check(!o->link || !err, "link_add failed (%s) and made %s",
	      strerror(err), LINK_DEV);
	check(o->link || err, "link_add succeeded and made no %s", LINK_DEV);
	return err;
}

static int call_channel(struct objs *o)
{
	o->ch = ibv_create_comp_channel(o->ctx);
	return verr(o->ch);
}

static int call_pd(struct objs *o)
{
	o->pd = ibv_alloc_pd(o->ctx);
	return verr(o->pd);
}

static int call_cq(struct objs *o)
{
	o->cq = ibv_create_cq(o->ctx, 64, NULL, o->ch, 0);
	return verr(o->cq);
}

static int call_qp(struct objs *o)
{
	struct ibv_qp_init_attr a = {
		.send_cq = o->cq,
		.recv_cq = o->cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16,
			 .max_send_sge = 2, .max_recv_sge = 2,
			 .max_inline_data = 64 },
	};

	o->qp = ibv_create_qp(o->pd, &a);
	return verr(o->qp);
}

static int call_mr(struct objs *o)
{
	o->mr = ibv_reg_mr(o->pd, mr_buf, MR_LEN, ALL_ACCESS);
	return verr(o->mr);
}

static int call_odp_mr(struct objs *o)
{
	o->mr = ibv_reg_mr(o->pd, odp_buf, ODP_LEN,
			   ALL_ACCESS | IBV_ACCESS_ON_DEMAND);
	return verr(o->mr);
}

static int call_implicit_mr(struct objs *o)
{
	o->mr = ibv_reg_mr(o->pd, NULL, SIZE_MAX,
			   ALL_ACCESS | IBV_ACCESS_ON_DEMAND);
	return verr(o->mr);
}

/* Prefetch into an on-demand MR whose pages the process dropped. */
static int call_advise(struct objs *o)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)odp_buf,
		.length = PREFETCH_LEN,
		.lkey = o->mr->lkey,
	};

	return ibv_advise_mr(o->pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			     IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1);
}

static int call_ah(struct objs *o)
{
	struct ibv_ah_attr a = {
		.is_global = 1,
		.grh = { .dgid = gid, .sgid_index = gid_index,
			 .hop_limit = 64 },
		.port_num = 1,
	};

	o->ah = ibv_create_ah(o->pd, &a);
	return verr(o->ah);
}

/* The modify that takes a QP to @state, with that transition's attributes. */
static int modify_to(struct ibv_qp *qp, enum ibv_qp_state state)
{
	struct ibv_qp_attr a = { .qp_state = state };
	int mask = IBV_QP_STATE;

	switch (state) {
	case IBV_QPS_INIT:
		a.port_num = 1;
		a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				    IBV_ACCESS_REMOTE_READ |
				    IBV_ACCESS_REMOTE_ATOMIC;
		mask |= IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS;
		break;
	case IBV_QPS_RTR:
		a.path_mtu = IBV_MTU_1024;
		a.dest_qp_num = qp->qp_num;	/* connected to itself */
		a.rq_psn = 0x100;
		a.max_dest_rd_atomic = 4;
		a.min_rnr_timer = 1;
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = gid;
		a.ah_attr.grh.sgid_index = gid_index;
		a.ah_attr.grh.hop_limit = 64;
		a.ah_attr.port_num = 1;
		mask |= IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			IBV_QP_MIN_RNR_TIMER;
		break;
	case IBV_QPS_RTS:
		a.sq_psn = 0x100;
		a.timeout = 14;
		a.retry_cnt = 7;
		a.rnr_retry = 7;
		a.max_rd_atomic = 4;
		mask |= IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC;
		break;
	default:
		break;
	}
	return ibv_modify_qp(qp, &a, mask);
}

static enum ibv_qp_state qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr a;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &init))
		return (enum ibv_qp_state)-1;
	return a.qp_state;
}

struct path {
	const char *name;
	unsigned int needs;
	/* For a modify: the states the QP goes through first, and the target. */
	enum ibv_qp_state pre[4];
	int npre;
	enum ibv_qp_state to;
	int (*call)(struct objs *o);
	/* Run after the call, disarmed; may revise its result. */
	int (*post)(struct objs *o, int err);
	bool pins;	/* a pinned MR: VmPin changes while it lives */
	/*
	 * Fault points past @dense are sampled, one in every @stride (0:
	 * every one): a path whose points are mostly the core's, each round
	 * seconds long, would otherwise take hours.
	 */
	unsigned int dense, stride;
};

/* The modify under test: from the last state of pre[] to @to. */
static const struct path *cur_path;

static int call_modify(struct objs *o)
{
	return modify_to(o->qp, cur_path->to);
}

#define MODIFY(n, t, ...) {						\
	.name = n, .needs = NEED_CTX | NEED_PD | NEED_CQ | NEED_QP,	\
	.pre = { __VA_ARGS__ },						\
	.npre = sizeof((enum ibv_qp_state[]){ __VA_ARGS__ }) /		\
		sizeof(enum ibv_qp_state),				\
	.to = t, .call = call_modify }

static const struct path paths[] = {
	/*
	 * sroce's own allocations come first (its device, its sockets); the
	 * 3000-odd points after them are ib_register_device()'s, each round
	 * about a second on the debug kernel: sampled.
	 */
	{ .name = "link_add", .call = call_link_add, .post = post_link_add,
	  .dense = 400, .stride = 16 },
	{ .name = "open_device", .call = call_open },
	{ .name = "comp_channel", .needs = NEED_CTX, .call = call_channel },
	{ .name = "pd", .needs = NEED_CTX, .call = call_pd },
	{ .name = "cq", .needs = NEED_CTX, .call = call_cq },
	{ .name = "cq_with_channel", .needs = NEED_CTX | NEED_CH,
	  .call = call_cq },
	{ .name = "qp", .needs = NEED_CTX | NEED_PD | NEED_CQ,
	  .call = call_qp },
	{ .name = "mr", .needs = NEED_CTX | NEED_PD, .call = call_mr,
	  .pins = true },
	{ .name = "odp_mr", .needs = NEED_CTX | NEED_PD,
	  .call = call_odp_mr },
	{ .name = "implicit_odp_mr", .needs = NEED_CTX | NEED_PD,
	  .call = call_implicit_mr },
	{ .name = "odp_prefetch", .needs = NEED_CTX | NEED_PD | NEED_ODP_MR,
	  .call = call_advise },
	{ .name = "ah", .needs = NEED_CTX | NEED_PD, .call = call_ah },
	MODIFY("modify_reset_to_init", IBV_QPS_INIT, IBV_QPS_RESET),
	MODIFY("modify_init_to_rtr", IBV_QPS_RTR, IBV_QPS_INIT),
	MODIFY("modify_rtr_to_rts", IBV_QPS_RTS, IBV_QPS_INIT, IBV_QPS_RTR),
	MODIFY("modify_rts_to_sqd", IBV_QPS_SQD, IBV_QPS_INIT, IBV_QPS_RTR,
	       IBV_QPS_RTS),
	MODIFY("modify_rts_to_err", IBV_QPS_ERR, IBV_QPS_INIT, IBV_QPS_RTR,
	       IBV_QPS_RTS),
	MODIFY("modify_err_to_reset", IBV_QPS_RESET, IBV_QPS_INIT,
	       IBV_QPS_RTR, IBV_QPS_RTS, IBV_QPS_ERR),
};

/* Arm the nth fault point of this thread; 0 disarms. */
static int fail_nth_write(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fail_fd, buf, len, 0) == len ? 0 : -1;
}

/*
 * Disarm, and say how many points were left to go: 0 means the armed
 * point was reached (and failed).
 */
static long fail_nth_left(void)
{
	char buf[16] = "";
	long left;

	if (pread(fail_fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	left = strtol(buf, NULL, 10);
	if (fail_nth_write(0))
		return -1;
	return left;
}

static long vm_pin(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Open file descriptors, and mappings of the RDMA device (rings). */
static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int ring_maps(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, "/dev/infiniband/");
	fclose(f);
	return n;
}

/* Destroy what @o holds, last made first; false if any destroy failed. */
static bool teardown(const char *what, struct objs *o)
{
	bool ok = true;
	int err;

#define DESTROY(field, fn)						\
	do {								\
		if (o->field) {						\
			err = fn(o->field);				\
			check(!err, "%s: " #fn ": %s", what,		\
			      strerror(err));				\
			ok &= !err;					\
			o->field = NULL;				\
		}							\
	} while (0)
	DESTROY(ah, ibv_destroy_ah);
	DESTROY(mr, ibv_dereg_mr);
	DESTROY(qp, ibv_destroy_qp);
	DESTROY(cq, ibv_destroy_cq);
	DESTROY(ch, ibv_destroy_comp_channel);
	DESTROY(pd, ibv_dealloc_pd);
	DESTROY(ctx, ibv_close_device);
#undef DESTROY
	if (o->link) {
		err = link_delete();
		check(!err, "%s: deleting %s: %s", what, LINK_DEV, strerror(err));
		ok &= !err;
		o->link = false;
	}
	check(!link_exists(), "%s: %s is there after everything is destroyed",
	      what, LINK_DEV);
	return ok;
}

/* Make what @p needs, nothing armed; false (and a failure) if it fails. */
static bool setup(const struct path *p, struct objs *o)
{
	int i, err = 0;

	if ((p->needs & NEED_CTX) && (err = call_open(o)))
		goto fail;
	if ((p->needs & NEED_CH) && (err = call_channel(o)))
		goto fail;
	if ((p->needs & NEED_PD) && (err = call_pd(o)))
		goto fail;
	if ((p->needs & NEED_CQ) && (err = call_cq(o)))
		goto fail;
	if ((p->needs & NEED_QP) && (err = call_qp(o)))
		goto fail;
	if ((p->needs & NEED_ODP_MR) && (err = call_odp_mr(o)))
		goto fail;
	for (i = 0; i < p->npre; i++)
		if (p->pre[i] != IBV_QPS_RESET &&
		    (err = modify_to(o->qp, p->pre[i])))
			goto fail;
	/* The prefetch must fault pages in, not find them. */
	if ((p->needs & NEED_ODP_MR) && madvise(odp_buf, ODP_LEN, MADV_DONTNEED)) {
		err = errno;
		goto fail;
	}
	return true;
fail:
	check(0, "%s: making what the call needs, with nothing armed: %s",
	      p->name, err > 0 ? strerror(err) : "no errno");
	return false;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * One round: make what @p needs, arm point @n (0: none), call, disarm,
 * check, destroy.  Returns the points left (0: the armed one failed), or
 * -1 when the round could not be run; *@err gets the call's result.
 */
static long round_of(const struct path *p, unsigned int n, int *err)
{
	struct objs o = {};
	int fds = fd_count(), maps;
	long pin, left;
	char what[96];
	enum ibv_qp_state from = p->npre ? p->pre[p->npre - 1] : IBV_QPS_RESET;
	enum ibv_qp_state st;

	snprintf(what, sizeof(what), "%s, fault point %u", p->name, n);
	if (!setup(p, &o)) {
		teardown(what, &o);
		return -1;
	}
	pin = vm_pin();
	if (n && fail_nth_write(n)) {
		check(0, "%s: arming fail-nth: %s", what, strerror(errno));
		teardown(what, &o);
		return -1;
	}
	errno = 0;
	*err = p->call(&o);
	left = n ? fail_nth_left() : 1;
	if (left < 0) {
		check(0, "%s: reading fail-nth: %s", what, strerror(errno));
		teardown(what, &o);
		return -1;
	}
	if (p->post)
		*err = p->post(&o, *err);
	if (p->to || p->npre) {
		st = qp_state(o.qp);
		if (*err)
			check(st == from, "%s: the modify failed (%s) and the state went from %d to %d",
			      what, *err > 0 ? strerror(*err) : "no errno",
			      from, st);
		else
			check(st == p->to, "%s: the modify succeeded and the state is %d, not %d",
			      what, st, p->to);
	}
	if (!*err && p->pins)
		check(vm_pin() - pin == MR_LEN / 1024,
		      "%s: VmPin went from %ld to %ld kB with the MR registered",
		      what, pin, vm_pin());
	teardown(what, &o);
	maps = ring_maps();
	check(fd_count() == fds && maps == 0,
	      "%s: %d file descriptors open after everything is destroyed, %d before; %d mappings of the device",
	      what, fd_count(), fds, maps);
	check(vm_pin() == pin, "%s: VmPin is %ld kB after everything is destroyed, was %ld",
	      what, vm_pin(), pin);
	return left;
}

/*
 * The fault point tested after @n: the next one, or past p->dense the next
 * one of the sample, which starts at an offset from FAIL_NTH_SEED (printed,
 * so that a run can be repeated and others can cover other points).
 */
static unsigned int next_point(const struct path *p, unsigned int n,
			       unsigned int offset)
{
	if (!p->stride || n < p->dense)
		return n + 1;
	if (n == p->dense)
		return n + 1 + offset;
	return n + p->stride;
}

static void run_path(const struct path *p)
{
	unsigned int n, points = 0, failed = 0, absorbed = 0, tested = 0;
	unsigned int offset = 0;
	unsigned int errnos[MAX_ERRNO] = { 0 };
	int before = failures, err, e;
	double t0 = now();
	char list[256] = "";
	long left;

	cur_path = p;
	/* Once with nothing armed: the path works, and is warm. */
	if (round_of(p, 0, &err) < 0 || err) {
		check(0, "%s: fails with no fault injected: %s", p->name,
		      err > 0 ? strerror(err) : "no errno");
		return;
	}
	if (p->stride) {
		const char *seed = getenv("FAIL_NTH_SEED");

		offset = (seed ? strtoul(seed, NULL, 0) : (unsigned int)time(NULL)) %
			 p->stride;
		printf("%s: fault points 1-%u, then one in %u from %u (FAIL_NTH_SEED=%u)\n",
		       p->name, p->dense, p->stride, p->dense + 1 + offset,
		       offset);
	}
	for (n = 1; n <= MAX_N; n = next_point(p, n, offset)) {
		if (++tested % 100 == 0)
			printf("%s: fault point %u, %.0f s\n", p->name, n,
			       now() - t0);
		left = round_of(p, n, &err);
		if (left < 0)
			return;
		if (left > 0) {
			/* The call ended before its nth fault point. */
			check(!err, "%s: failed (%s) at fault point %u with no fault injected",
			      p->name, err > 0 ? strerror(err) : "no errno", n);
			points = n - 1;
			tested--;
			break;
		}
		if (!err) {
			absorbed++;
			continue;
		}
		failed++;
		check(err > 0, "%s: failed at fault point %u without an errno",
		      p->name, n);
		if (err > 0 && err < MAX_ERRNO)
			errnos[err]++;
	}
	check(n <= MAX_N, "%s: still meeting fault points after %u", p->name,
	      MAX_N);
	for (e = 1; e < MAX_ERRNO; e++)
		if (errnos[e])
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s x%u", *list ? ", " : "", strerrorname_np(e),
				 errnos[e]);
	if (failures == before)
		printf("ok: %s: %s%u fault points, %u of them tested, %u failed the call (%s), %u absorbed (the call succeeded), %.1f s\n",
		       p->name, tested == points ? "" : "at most ", points,
		       tested, failed, *list ? list : "-",
		       absorbed, now() - t0);
}

/* Two new QPs move a SEND and a WRITE, checked: the device still works. */
static void data_check(void)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_context *ctx = ibv_open_device(device);
	struct ibv_pd *pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	struct ibv_cq *cq = ctx ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	struct ibv_qp *a = NULL, *b = NULL;
	struct ibv_mr *smr = NULL, *dmr = NULL;
	struct ibv_wc wc[4];
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { .wr_id = 2, .sg_list = &sge, .num_sge = 1 }, *rbad;
	struct ibv_send_wr swr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				   .send_flags = IBV_SEND_SIGNALED }, *sbad;
	const size_t len = 65536;
	int i, got = 0, good = 0;
	double t;

	qa.send_cq = cq;
	qa.recv_cq = cq;
	if (pd && cq) {
		a = ibv_create_qp(pd, &qa);
		b = ibv_create_qp(pd, &qa);
		smr = ibv_reg_mr(pd, mr_buf, len, IBV_ACCESS_LOCAL_WRITE);
		dmr = ibv_reg_mr(pd, mr_buf + len, len, IBV_ACCESS_LOCAL_WRITE |
				 IBV_ACCESS_REMOTE_WRITE);
	}
	if (!a || !b || !smr || !dmr ||
	    rc_qp_connect(a, b->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7) ||
	    rc_qp_connect(b, a->qp_num, gid_index, &gid, IBV_MTU_1024, 14, 7, 7)) {
		check(0, "after the faults: setting up two connected QPs: %s",
		      strerror(errno));
		goto out;
	}
	for (i = 0; i < (int)len; i++)
		mr_buf[i] = (char)(i * 13 + 5);
	memset(mr_buf + len, 0, len);
	sge = (struct ibv_sge){ (uintptr_t)(mr_buf + len), 4096, dmr->lkey };
	check(!ibv_post_recv(b, &rwr, &rbad), "after the faults: post_recv");
	sge = (struct ibv_sge){ (uintptr_t)mr_buf, 4096, smr->lkey };
	swr.opcode = IBV_WR_SEND;
	check(!ibv_post_send(a, &swr, &sbad), "after the faults: post SEND");
	sge = (struct ibv_sge){ (uintptr_t)mr_buf, len, smr->lkey };
	swr.wr_id = 3;
	swr.opcode = IBV_WR_RDMA_WRITE;
	swr.wr.rdma.remote_addr = (uintptr_t)(mr_buf + len);
	swr.wr.rdma.rkey = dmr->rkey;
	check(!ibv_post_send(a, &swr, &sbad), "after the faults: post WRITE");
	t = now();
	while (got < 3 && now() - t < 60) {
		int k = ibv_poll_cq(cq, 4 - got, wc + got);

		if (k > 0)
			got += k;
	}
	for (i = 0; i < got; i++)
		good += wc[i].status == IBV_WC_SUCCESS;
	check(got == 3 && good == 3, "after the faults: %d completions, %d successful, of 3",
	      got, good);
	check(!memcmp(mr_buf, mr_buf + len, len),
	      "after the faults: the data differs");
	if (got == 3 && good == 3 && !memcmp(mr_buf, mr_buf + len, len))
		printf("ok: after the faults, two new QPs move a checked SEND and a 64 KiB WRITE\n");
out:
	if (a)
		check(!ibv_destroy_qp(a), "after the faults: destroy QP");
	if (b)
		check(!ibv_destroy_qp(b), "after the faults: destroy QP");
	if (smr)
		check(!ibv_dereg_mr(smr), "after the faults: dereg MR");
	if (dmr)
		check(!ibv_dereg_mr(dmr), "after the faults: dereg MR");
	if (cq)
		check(!ibv_destroy_cq(cq), "after the faults: destroy CQ");
	if (pd)
		check(!ibv_dealloc_pd(pd), "after the faults: dealloc PD");
	if (ctx)
		check(!ibv_close_device(ctx), "after the faults: close device");
}

/* Touch @bytes of stack, so that the calls grow into mapped stack. */
static void __attribute__((noinline)) touch_stack(size_t bytes)
{
	volatile char *p = alloca(bytes);
	size_t i;

	for (i = 0; i < bytes; i += 4096)
		p[i] = 0;
}

int main(int argc, char **argv)
{
	struct ibv_device **list;
	struct ibv_context *ctx;
	bool any = false, want_data = argc == 3;
	size_t i;
	int a;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			printf("%s\n", paths[i].name);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s DEV GID_INDEX [PATH...|data]\n       %s --list\n",
			argv[0], argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	fail_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_fd < 0) {
		printf("FAIL: /proc/thread-self/fail-nth: %s (a kernel without CONFIG_FAULT_INJECTION)\n",
		       strerror(errno));
		return 1;
	}
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (nl_fd < 0) {
		printf("FAIL: RDMA netlink socket: %s\n", strerror(errno));
		return 1;
	}
	list = ibv_get_device_list(NULL);
	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), argv[1]))
			device = list[i];
	ctx = device ? ibv_open_device(device) : NULL;
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		printf("FAIL: cannot open %s or read its GID %d\n", argv[1],
		       gid_index);
		return 1;
	}
	ibv_close_device(ctx);

	mr_buf = mmap(NULL, MR_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	odp_buf = mmap(NULL, ODP_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mr_buf == MAP_FAILED || odp_buf == MAP_FAILED) {
		printf("FAIL: mmap: %s\n", strerror(errno));
		return 1;
	}
	touch_stack(512 << 10);
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		printf("FAIL: mlockall: %s\n", strerror(errno));
		return 1;
	}
	/* The on-demand buffer is dropped before each prefetch, so unlocked. */
	if (munlock(odp_buf, ODP_LEN)) {
		printf("FAIL: munlock: %s\n", strerror(errno));
		return 1;
	}

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		bool want = argc == 3;

		for (a = 3; a < argc; a++)
			want |= !strcmp(argv[a], paths[i].name);
		if (!want)
			continue;
		any = true;
		run_path(&paths[i]);
	}
	for (a = 3; a < argc; a++)
		want_data |= !strcmp(argv[a], "data");
	check(any || want_data, "no path of that name");
	if (want_data)
		data_check();
	ibv_free_device_list(list);
	printf("fail_nth: %d failures\n", failures);
	return failures ? 1 : 0;
}
