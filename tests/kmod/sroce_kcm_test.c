// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A kernel rdma_cm consumer, as a ULP is one: the connection manager finds
 * the device from an IP address and sets up the RC connection with MADs on
 * QP1; the data then goes over the kernel verbs.  The module is both the
 * server and the client, over one address of this host:
 *
 *   insmod sroce_kcm_test.ko addr=192.0.2.1 port=7300 dev=sroce0
 *
 * connection: a listener bound to addr:port; a client that resolves the
 *   address and the route (which must lead to the RDMA device @dev), makes
 *   a PD, a CQ and a QP on it and connects with private data; the server
 *   takes the request (the private data and the RDMA depths as the client
 *   sent them), makes its own PD (with the global rkey), CQ and QP and
 *   accepts, describing in its private data the buffers it exposes, which
 *   the client must receive as sent;
 * data: rounds of an RDMA WRITE into the server's window followed by a
 *   SEND that says what was written; the server checks the window and the
 *   SEND's bytes against the pattern and answers with a SEND of its own,
 *   which the client checks; then the client RDMA READs a buffer of the
 *   server, whole and in part, and checks it.  Buffers are kmalloc'ed,
 *   mapped with ib_dma_map_single and reached through the PD's
 *   local_dma_lkey; the client's CQ is polled in softirq context, the
 *   server's from a workqueue;
 * disconnection: the client disconnects, the server sees it and
 *   disconnects too, both QPs drain, and everything is destroyed;
 * rejection: a second client that the server rejects, with private data
 *   the client must receive as sent (REJECTED, consumer defined);
 * no listener: once the listener is gone, a client of addr:port must end
 *   in REJECTED with reason "invalid service ID" within KC_REFUSED_MS: on
 *   RoCE the IB CM answers a REQ no listener matches with a REJ.
 *
 * Loading runs the test: each part that passed prints an "ok:" line to the
 * kernel log, each failed check a "FAIL:" line, and the load fails with
 * -EIO if any check failed.  Nothing is left once the load returns, so the
 * module can be removed right away.
 *
 * hold_ms=N keeps the connection up for N ms after the data, so that the
 * objects it uses can be listed meanwhile.  The module's parameters are in
 * /sys/module/sroce_kcm_test/parameters/ while the load runs: "held" reads
 * Y while the connection is held, and writing 0 to "hold_ms" ends the
 * wait early.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/inet.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <rdma/ib_cm.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

static char *addr = "192.0.2.1";
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "IPv4 or IPv6 address of this host to listen on and connect to");
static int port = 7300;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "Port to listen on and connect to");
static char *dev = "sroce0";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "RDMA device the address must resolve to");
static unsigned int hold_ms;
module_param(hold_ms, uint, 0644);
MODULE_PARM_DESC(hold_ms, "Keep the connection up this long after the data, or until set to 0");
static bool held;
module_param(held, bool, 0444);
MODULE_PARM_DESC(held, "Y while the connection is held (read-only)");

/* Typed allocation helpers arrived after 6.12. */
#ifndef kzalloc_obj
#define kzalloc_obj(obj)	kzalloc(sizeof(obj), GFP_KERNEL)
#endif

#define KC_MAGIC	0x6b636d31	/* "kcm1" */
#define KC_TIMEOUT	(10 * HZ)	/* for any event or completion */
#define KC_RESOLVE_MS	5000
#define KC_REFUSED_MS	5000
#define KC_WIN_SIZE	(128 * 1024)	/* the server's WRITE window */
#define KC_RD_SIZE	(64 * 1024)	/* the server's READ source */
#define KC_MSG_SIZE	8192		/* a SEND at most */
#define KC_CQ_SIZE	64
#define KC_EVENTS	8
#define KC_PDATA	96
/* A part of the READ source read on its own, at an odd place. */
#define KC_RD_PART_OFF	4099
#define KC_RD_PART_LEN	3001
#define KC_RD_PART_DST	(KC_RD_SIZE + 5)

/* What the client says in its REQ (56 bytes at most over the IB CM). */
enum { KC_KIND_CONNECT = 1, KC_KIND_REJECT_ME = 2, KC_KIND_REJECTION = 3 };

struct kc_hello {
	__le32 magic;
	__le32 kind;
	u8 pattern[40];
};

/* What the server says in its REP: the buffers it exposes. */
struct kc_welcome {
	__le32 magic;
	__le32 rd_seed;
	__le64 win_addr;
	__le64 rd_addr;
	__le32 win_len;
	__le32 rd_len;
	__le32 rkey;
	u8 pattern[52];
};

/* The head of each SEND, both ways; payload bytes follow. */
struct kc_msg {
	__le32 magic;
	__le32 round;
	__le32 off;	/* where the round's WRITE went in the window */
	__le32 len;	/* how much it wrote */
	__le32 seed;	/* of its pattern */
	__le32 payload;	/* bytes after this head */
	__le32 status;	/* in answers: problems the server found */
	__le32 reserved;
};

#define KC_PAYLOAD_MAX	(KC_MSG_SIZE - sizeof(struct kc_msg))

static const struct kc_round {
	u32 off, len, send, answer;
} kc_rounds[] = {
	{ 0, 1, 0, 1 },
	{ 3, 1000, 100, 0 },
	{ 4097, 4099, 2000, 1024 },
	{ 0, 65536, KC_PAYLOAD_MAX, 4096 },
	{ 65541, KC_WIN_SIZE - 65541, 777, KC_PAYLOAD_MAX },	/* to the end */
};

struct kc_test;

/* A buffer and its DMA address. */
struct kc_buf {
	u8 *va;
	u64 dma;
	size_t len;
	enum dma_data_direction dir;
};

/* One work request's completion. */
struct kc_wr {
	struct ib_cqe cqe;
	struct completion done;
	struct ib_wc wc;
};

/* What an event said, copied out of the handler. */
struct kc_event {
	enum rdma_cm_event_type type;
	int status;
	u8 responder_resources;
	u8 initiator_depth;
	u8 len;
	u8 data[KC_PDATA];
};

/*
 * One rdma_cm_id with the events it reported and, once connected, its
 * verbs objects and buffers.  It lives until its id is destroyed, so that
 * an event or a completion that comes after a wait gave up lands here.
 */
struct kc_ep {
	const char *name;
	struct kc_test *t;
	struct rdma_cm_id *id;
	spinlock_t lock;		/* the event ring and next_conn */
	wait_queue_head_t wait;
	struct kc_event ev[KC_EVENTS];
	unsigned int head, count;
	/* A listener's: the endpoint that the next connection request gets. */
	struct kc_ep *next_conn;
	u8 pdata[KC_PDATA];		/* the private data it sent */
	u8 pdata_len;
	u8 initiator_depth;		/* a client's, as it asked */
	u8 responder_resources;

	struct ib_pd *pd;
	struct ib_cq *cq;
	/*
	 * The client's big buffer is the source of its WRITEs and rd the
	 * target of its READs; the server's big buffer is the window the
	 * client writes to and rd the buffer it reads.
	 */
	struct kc_buf big, rd, in, out;
	struct kc_wr send, recv, write, read[2];
};

struct kc_test {
	struct sockaddr_storage ss;
	const char *family;
	atomic_t failures;
	struct kc_ep listener, server, client, refuser, asker, stranger;
	struct kc_welcome got;	/* the REP's private data, as the client got it */
};

#define kc_check(t, cond, fmt, ...)					\
	({								\
		bool __ok = (cond);					\
		if (!__ok) {						\
			pr_err("FAIL: " fmt "\n", ##__VA_ARGS__);	\
			atomic_inc(&(t)->failures);			\
		}							\
		__ok;							\
	})

static int kc_failures(struct kc_test *t)
{
	return atomic_read(&t->failures);
}

/* --- the pattern ---------------------------------------------------------- */

/* Byte @pos of the pattern @seed; a copy misplaced by any offset differs. */
static u8 kc_byte(u32 seed, size_t pos)
{
	return (u8)(pos * 131 + (pos >> 8) + seed + (seed >> 8));
}

static void kc_fill(void *buf, size_t len, u32 seed, size_t pos)
{
	u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = kc_byte(seed, pos + i);
}

/* The first byte of @buf that is not the pattern's, or @len. */
static size_t kc_differs(const void *buf, size_t len, u32 seed, size_t pos)
{
	const u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != kc_byte(seed, pos + i))
			break;
	return i;
}

/* --- connection manager events -------------------------------------------- */

static void kc_ep_init(struct kc_test *t, struct kc_ep *ep, const char *name)
{
	ep->t = t;
	ep->name = name;
	spin_lock_init(&ep->lock);
	init_waitqueue_head(&ep->wait);
}

/*
 * The event handler of every id.  A connection request comes to the
 * listener's handler with a new id, which from then on belongs to the
 * endpoint the listener was told to give it to.  Returning non-zero has
 * the core reject the request and destroy the new id.
 */
static int kc_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *event)
{
	struct kc_ep *ep = id->context;
	struct kc_event ev = {
		.type = event->event,
		.status = event->status,
	};
	const void *data = NULL;
	struct kc_ep *conn;
	u8 len = 0;

	if (event->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
		spin_lock(&ep->lock);
		conn = ep->next_conn;
		ep->next_conn = NULL;
		spin_unlock(&ep->lock);
		if (!conn) {
			kc_check(ep->t, false, "%s: a connection request nobody asked for",
				 ep->name);
			return -ECONNREFUSED;
		}
		conn->id = id;
		id->context = conn;
		ep = conn;
	}
	switch (event->event) {
	case RDMA_CM_EVENT_CONNECT_REQUEST:
	case RDMA_CM_EVENT_ESTABLISHED:
		data = event->param.conn.private_data;
		len = event->param.conn.private_data_len;
		ev.responder_resources = event->param.conn.responder_resources;
		ev.initiator_depth = event->param.conn.initiator_depth;
		break;
	case RDMA_CM_EVENT_REJECTED:
		data = rdma_consumer_reject_data(id, event, &len);
		break;
	default:
		break;
	}
	if (data) {
		ev.len = min_t(u8, len, KC_PDATA);
		memcpy(ev.data, data, ev.len);
	}

	spin_lock(&ep->lock);
	if (ep->count < KC_EVENTS) {
		ep->ev[(ep->head + ep->count) % KC_EVENTS] = ev;
		ep->count++;
	} else {
		kc_check(ep->t, false, "%s: event %s lost, %u not taken yet",
			 ep->name, rdma_event_msg(ev.type), ep->count);
	}
	spin_unlock(&ep->lock);
	wake_up(&ep->wait);
	return 0;
}

static bool kc_pop(struct kc_ep *ep, struct kc_event *ev)
{
	bool got = false;

	spin_lock(&ep->lock);
	if (ep->count) {
		*ev = ep->ev[ep->head];
		ep->head = (ep->head + 1) % KC_EVENTS;
		ep->count--;
		got = true;
	}
	spin_unlock(&ep->lock);
	return got;
}

/* Wait for @ep's next event, which must be @type. */
static bool kc_expect(struct kc_ep *ep, enum rdma_cm_event_type type,
		      struct kc_event *ev)
{
	if (!wait_event_timeout(ep->wait, kc_pop(ep, ev), KC_TIMEOUT))
		return kc_check(ep->t, false, "%s: no event in %d s, expected %s",
				ep->name, KC_TIMEOUT / HZ, rdma_event_msg(type));
	return kc_check(ep->t, ev->type == type,
			"%s: event %s (status %d), expected %s", ep->name,
			rdma_event_msg(ev->type), ev->status,
			rdma_event_msg(type));
}

static struct rdma_cm_id *kc_create_id(struct kc_ep *ep)
{
	struct rdma_cm_id *id;

	id = rdma_create_id(current->nsproxy->net_ns, kc_cm_handler, ep,
			    RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(id)) {
		kc_check(ep->t, false, "%s: rdma_create_id: %ld", ep->name,
			 PTR_ERR(id));
		return NULL;
	}
	ep->id = id;
	return id;
}

/* Is @id on port 1 of the RoCE device @dev? */
static bool kc_on_dev(struct kc_ep *ep, const char *what)
{
	struct rdma_cm_id *id = ep->id;

	return kc_check(ep->t, id->device &&
			!strcmp(dev_name(&id->device->dev), dev) &&
			id->port_num == 1 &&
			rdma_protocol_roce(id->device, id->port_num),
			"%s: %s: on %s port %u, not on RoCE device %s port 1",
			ep->name, what,
			id->device ? dev_name(&id->device->dev) : "no device",
			id->port_num, dev);
}

/* Create a client's id and resolve the address and the route to @ss. */
static bool kc_resolve(struct kc_ep *ep, struct sockaddr_storage *ss)
{
	struct kc_event ev;
	int err;

	if (!kc_create_id(ep))
		return false;
	err = rdma_resolve_addr(ep->id, NULL, (struct sockaddr *)ss,
				KC_RESOLVE_MS);
	if (!kc_check(ep->t, !err, "%s: rdma_resolve_addr: %d", ep->name, err) ||
	    !kc_expect(ep, RDMA_CM_EVENT_ADDR_RESOLVED, &ev) ||
	    !kc_on_dev(ep, "resolved address"))
		return false;
	err = rdma_resolve_route(ep->id, KC_RESOLVE_MS);
	return kc_check(ep->t, !err, "%s: rdma_resolve_route: %d", ep->name,
			err) &&
	       kc_expect(ep, RDMA_CM_EVENT_ROUTE_RESOLVED, &ev);
}

/* --- verbs ---------------------------------------------------------------- */

static void kc_wr_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct kc_wr *w = container_of(wc->wr_cqe, struct kc_wr, cqe);

	w->wc = *wc;
	complete(&w->done);
}

static void kc_wr_init(struct kc_wr *w)
{
	w->cqe.done = kc_wr_done;
	init_completion(&w->done);
}

/* Wait for @w's completion, which must be a success of @opcode. */
static bool kc_wait(struct kc_ep *ep, struct kc_wr *w, enum ib_wc_opcode opcode,
		    const char *what)
{
	if (!wait_for_completion_timeout(&w->done, KC_TIMEOUT))
		return kc_check(ep->t, false, "%s: %s: no completion in %d s",
				ep->name, what, KC_TIMEOUT / HZ);
	return kc_check(ep->t, w->wc.status == IB_WC_SUCCESS &&
			w->wc.opcode == opcode,
			"%s: %s: completion %s (%d), opcode %d",
			ep->name, what, ib_wc_status_msg(w->wc.status),
			w->wc.status, w->wc.opcode);
}

static void kc_qp_event(struct ib_event *event, void *context)
{
	struct kc_ep *ep = context;

	kc_check(ep->t, false, "%s: QP event %s (%d)", ep->name,
		 ib_event_msg(event->event), event->event);
}

static int kc_buf_map(struct ib_device *ibdev, struct kc_buf *b, size_t len,
		      enum dma_data_direction dir)
{
	b->va = kzalloc(len, GFP_KERNEL);
	if (!b->va)
		return -ENOMEM;
	b->dma = ib_dma_map_single(ibdev, b->va, len, dir);
	if (ib_dma_mapping_error(ibdev, b->dma)) {
		kfree(b->va);
		b->va = NULL;
		return -ENOMEM;
	}
	b->len = len;
	b->dir = dir;
	return 0;
}

static void kc_buf_unmap(struct ib_device *ibdev, struct kc_buf *b)
{
	if (!b->va)
		return;
	ib_dma_unmap_single(ibdev, b->dma, b->len, b->dir);
	kfree(b->va);
	b->va = NULL;
}

static void kc_for_cpu(struct kc_ep *ep, struct kc_buf *b)
{
	ib_dma_sync_single_for_cpu(ep->id->device, b->dma, b->len, b->dir);
}

static void kc_for_dev(struct kc_ep *ep, struct kc_buf *b)
{
	ib_dma_sync_single_for_device(ep->id->device, b->dma, b->len, b->dir);
}

/*
 * The PD, CQ, QP and buffers of a connection's end.  The server's PD has
 * the global rkey, through which the client reaches its buffers.
 */
static bool kc_ep_verbs(struct kc_ep *ep, bool server)
{
	struct ib_device *ibdev = ep->id->device;
	struct ib_qp_init_attr init = {
		.event_handler = kc_qp_event,
		.qp_context = ep,
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ib_pd *pd;
	struct ib_cq *cq;
	int err, i;

	pd = ib_alloc_pd(ibdev, server ? IB_PD_UNSAFE_GLOBAL_RKEY : 0);
	if (!kc_check(ep->t, !IS_ERR(pd), "%s: ib_alloc_pd: %ld", ep->name,
		      PTR_ERR(pd)))
		return false;
	ep->pd = pd;
	cq = ib_alloc_cq(ibdev, ep, KC_CQ_SIZE, 0,
			 server ? IB_POLL_WORKQUEUE : IB_POLL_SOFTIRQ);
	if (!kc_check(ep->t, !IS_ERR(cq), "%s: ib_alloc_cq: %ld", ep->name,
		      PTR_ERR(cq)))
		return false;
	ep->cq = cq;
	init.send_cq = cq;
	init.recv_cq = cq;
	err = rdma_create_qp(ep->id, pd, &init);
	if (!kc_check(ep->t, !err, "%s: rdma_create_qp: %d", ep->name, err))
		return false;

	if (server)
		err = kc_buf_map(ibdev, &ep->big, KC_WIN_SIZE, DMA_FROM_DEVICE) ?:
		      kc_buf_map(ibdev, &ep->rd, KC_RD_SIZE, DMA_TO_DEVICE);
	else
		err = kc_buf_map(ibdev, &ep->big, KC_WIN_SIZE, DMA_TO_DEVICE) ?:
		      kc_buf_map(ibdev, &ep->rd, KC_RD_SIZE + KC_RD_PART_DST,
				 DMA_FROM_DEVICE);
	err = err ?: kc_buf_map(ibdev, &ep->in, KC_MSG_SIZE, DMA_FROM_DEVICE) ?:
	      kc_buf_map(ibdev, &ep->out, KC_MSG_SIZE, DMA_TO_DEVICE);
	if (!kc_check(ep->t, !err, "%s: buffers: %d", ep->name, err))
		return false;
	kc_wr_init(&ep->send);
	kc_wr_init(&ep->recv);
	kc_wr_init(&ep->write);
	for (i = 0; i < ARRAY_SIZE(ep->read); i++)
		kc_wr_init(&ep->read[i]);
	return true;
}

/*
 * Undo what the endpoint made, last first: drain the QP (any completion
 * still to come comes before this returns), destroy it, free the CQ, the
 * buffers and the PD, then the id.
 */
static void kc_ep_teardown(struct kc_ep *ep)
{
	struct ib_device *ibdev;

	if (!ep->id)
		return;
	ibdev = ep->id->device;
	if (ep->id->qp) {
		ib_drain_qp(ep->id->qp);
		rdma_destroy_qp(ep->id);
	}
	if (ep->cq)
		ib_free_cq(ep->cq);
	ep->cq = NULL;
	if (ibdev) {
		kc_buf_unmap(ibdev, &ep->out);
		kc_buf_unmap(ibdev, &ep->in);
		kc_buf_unmap(ibdev, &ep->rd);
		kc_buf_unmap(ibdev, &ep->big);
	}
	if (ep->pd)
		ib_dealloc_pd(ep->pd);
	ep->pd = NULL;
	rdma_destroy_id(ep->id);
	ep->id = NULL;
}

static int kc_post_recv(struct kc_ep *ep)
{
	struct ib_sge sge = {
		.addr = ep->in.dma,
		.length = ep->in.len,
		.lkey = ep->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &ep->recv.cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	reinit_completion(&ep->recv.done);
	return ib_post_recv(ep->id->qp, &wr, NULL);
}

/*
 * Put a message head and @payload bytes of the pattern of @seed ^ @mix
 * into ep->out; its length.
 */
static u32 kc_msg_fill(struct kc_ep *ep, u32 round, const struct kc_round *r,
		       u32 seed, u32 payload, u32 mix, u32 status)
{
	struct kc_msg *m = (struct kc_msg *)ep->out.va;

	kc_for_cpu(ep, &ep->out);
	*m = (struct kc_msg){
		.magic = cpu_to_le32(KC_MAGIC),
		.round = cpu_to_le32(round),
		.off = cpu_to_le32(r->off),
		.len = cpu_to_le32(r->len),
		.seed = cpu_to_le32(seed),
		.payload = cpu_to_le32(payload),
		.status = cpu_to_le32(status),
	};
	kc_fill(m + 1, payload, seed ^ mix, 0);
	kc_for_dev(ep, &ep->out);
	return sizeof(*m) + payload;
}

/*
 * Check a message received in ep->in: a head as expected (its seed and
 * status aside), then @payload bytes of the pattern of its seed ^ @mix.
 * Returns the message, or NULL if it is not one.
 */
static struct kc_msg *kc_msg_check(struct kc_ep *ep, u32 round,
				   const struct kc_round *r, u32 payload,
				   u32 mix)
{
	struct kc_msg *m = (struct kc_msg *)ep->in.va;
	u32 len = ep->recv.wc.byte_len;
	size_t bad;

	kc_for_cpu(ep, &ep->in);
	if (!kc_check(ep->t, len == sizeof(*m) + payload,
		      "%s: round %u: received %u bytes, not %zu", ep->name,
		      round, len, sizeof(*m) + payload) ||
	    !kc_check(ep->t, le32_to_cpu(m->magic) == KC_MAGIC &&
		      le32_to_cpu(m->round) == round &&
		      le32_to_cpu(m->off) == r->off &&
		      le32_to_cpu(m->len) == r->len &&
		      le32_to_cpu(m->payload) == payload,
		      "%s: round %u: the message head is magic %x round %u off %u len %u payload %u",
		      ep->name, round, le32_to_cpu(m->magic),
		      le32_to_cpu(m->round), le32_to_cpu(m->off),
		      le32_to_cpu(m->len), le32_to_cpu(m->payload)))
		return NULL;
	bad = kc_differs(m + 1, payload, le32_to_cpu(m->seed) ^ mix, 0);
	if (!kc_check(ep->t, bad == payload,
		      "%s: round %u: SEND payload byte %zu of %u differs",
		      ep->name, round, bad, payload))
		return NULL;
	return m;
}

/* --- the connection ------------------------------------------------------- */

static void kc_hello_fill(struct kc_ep *ep, u32 kind, u32 seed)
{
	struct kc_hello *h = (struct kc_hello *)ep->pdata;

	h->magic = cpu_to_le32(KC_MAGIC);
	h->kind = cpu_to_le32(kind);
	kc_fill(h->pattern, sizeof(h->pattern), seed, 0);
	ep->pdata_len = sizeof(*h);
}

/* Did @ev carry @from's private data, as @from sent it? */
static bool kc_pdata_check(struct kc_ep *ep, struct kc_event *ev,
			   struct kc_ep *from, const char *what)
{
	return kc_check(ep->t, ev->len >= from->pdata_len &&
			!memcmp(ev->data, from->pdata, from->pdata_len),
			"%s: %s: private data (%u bytes) not as %s sent it (%u bytes)",
			ep->name, what, ev->len, from->name, from->pdata_len);
}

/* The client asks for @kind, over a route already resolved. */
static bool kc_connect(struct kc_ep *ep, u32 kind, u32 seed)
{
	struct ib_device_attr *attrs = &ep->id->device->attrs;
	struct rdma_conn_param param = {
		.retry_count = 7,
		.rnr_retry_count = 7,
	};
	int err;

	/* Depths that differ, to tell one from the other at the server. */
	ep->initiator_depth = min(attrs->max_qp_init_rd_atom, 2);
	ep->responder_resources = min(attrs->max_qp_rd_atom, 1);
	param.initiator_depth = ep->initiator_depth;
	param.responder_resources = ep->responder_resources;
	kc_hello_fill(ep, kind, seed);
	param.private_data = ep->pdata;
	param.private_data_len = ep->pdata_len;
	err = rdma_connect(ep->id, &param);
	return kc_check(ep->t, !err, "%s: rdma_connect: %d", ep->name, err);
}

/*
 * The server's side of a connection request: check what the client sent,
 * make its end and accept, saying in the REP where its buffers are.
 */
static bool kc_accept(struct kc_test *t, struct kc_event *req)
{
	struct kc_ep *srv = &t->server, *cl = &t->client;
	struct kc_welcome *w = (struct kc_welcome *)srv->pdata;
	struct ib_device_attr *attrs;
	struct rdma_conn_param param = {};
	int err;

	/* The REQ's depths come seen from this side: its responder
	 * resources are the client's initiator depth, and the reverse.
	 */
	if (!kc_pdata_check(srv, req, cl, "connection request") ||
	    !kc_check(t, req->responder_resources == cl->initiator_depth &&
		      req->initiator_depth == cl->responder_resources,
		      "server: the request asks for responder resources %u and initiator depth %u, not %u and %u",
		      req->responder_resources, req->initiator_depth,
		      cl->initiator_depth, cl->responder_resources) ||
	    !kc_on_dev(srv, "connection request") ||
	    !kc_ep_verbs(srv, true))
		return false;

	kc_for_cpu(srv, &srv->rd);
	kc_fill(srv->rd.va, srv->rd.len, 0x4ead, 0);
	kc_for_dev(srv, &srv->rd);
	err = kc_post_recv(srv);
	if (!kc_check(t, !err, "server: post_recv: %d", err))
		return false;

	*w = (struct kc_welcome){
		.magic = cpu_to_le32(KC_MAGIC),
		.rd_seed = cpu_to_le32(0x4ead),
		.win_addr = cpu_to_le64(srv->big.dma),
		.rd_addr = cpu_to_le64(srv->rd.dma),
		.win_len = cpu_to_le32(srv->big.len),
		.rd_len = cpu_to_le32(srv->rd.len),
		.rkey = cpu_to_le32(srv->pd->unsafe_global_rkey),
	};
	kc_fill(w->pattern, sizeof(w->pattern), 0x22, 0);
	srv->pdata_len = sizeof(*w);

	attrs = &srv->id->device->attrs;
	param.responder_resources = min_t(int, req->responder_resources,
					  attrs->max_qp_rd_atom);
	param.initiator_depth = min_t(int, req->initiator_depth,
				      attrs->max_qp_init_rd_atom);
	param.rnr_retry_count = 7;
	param.private_data = srv->pdata;
	param.private_data_len = srv->pdata_len;
	/* Outside its event handler, an id's handler lock is taken. */
	rdma_lock_handler(srv->id);
	err = rdma_accept(srv->id, &param);
	rdma_unlock_handler(srv->id);
	return kc_check(t, !err, "server: rdma_accept: %d", err);
}

/* Client and server connected, or false. */
static bool kc_establish(struct kc_test *t)
{
	struct kc_ep *srv = &t->server, *cl = &t->client;
	unsigned long start = jiffies;
	struct kc_event ev;

	if (!kc_resolve(cl, &t->ss) || !kc_ep_verbs(cl, false))
		return false;
	/* A receive for the server's first answer, before it can come. */
	if (!kc_check(t, !kc_post_recv(cl), "client: post_recv"))
		return false;

	spin_lock(&t->listener.lock);
	t->listener.next_conn = srv;
	spin_unlock(&t->listener.lock);
	if (!kc_connect(cl, KC_KIND_CONNECT, 0x11) ||
	    !kc_expect(srv, RDMA_CM_EVENT_CONNECT_REQUEST, &ev) ||
	    !kc_accept(t, &ev))
		return false;

	if (!kc_expect(cl, RDMA_CM_EVENT_ESTABLISHED, &ev) ||
	    !kc_pdata_check(cl, &ev, srv, "established"))
		return false;
	memcpy(&t->got, ev.data, sizeof(t->got));
	if (!kc_expect(srv, RDMA_CM_EVENT_ESTABLISHED, &ev))
		return false;
	pr_info("ok: %s: connected to %pISpc over %s in %u ms; the REQ's private data (%u bytes), depths and the REP's private data (%u bytes) arrived as sent\n",
		t->family, &t->ss, dev, jiffies_to_msecs(jiffies - start),
		cl->pdata_len, srv->pdata_len);
	return true;
}

/* --- data ----------------------------------------------------------------- */

/* The client's half of round @i: WRITE, then a SEND that says so. */
static bool kc_client_post(struct kc_test *t, u32 i, u32 seed)
{
	const struct kc_round *r = &kc_rounds[i];
	struct kc_ep *cl = &t->client;
	struct ib_sge wsge = {
		.addr = cl->big.dma,
		.length = r->len,
		.lkey = cl->pd->local_dma_lkey,
	};
	struct ib_sge ssge = {
		.addr = cl->out.dma,
		.lkey = cl->pd->local_dma_lkey,
	};
	struct ib_send_wr send = {
		.wr_cqe = &cl->send.cqe,
		.sg_list = &ssge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	/* Unsignaled: the SEND behind it completes only once it is done. */
	struct ib_rdma_wr write = {
		.wr.next = &send,
		.wr.wr_cqe = &cl->write.cqe,
		.wr.sg_list = &wsge,
		.wr.num_sge = 1,
		.wr.opcode = IB_WR_RDMA_WRITE,
		.remote_addr = le64_to_cpu(t->got.win_addr) + r->off,
		.rkey = le32_to_cpu(t->got.rkey),
	};
	int err;

	kc_for_cpu(cl, &cl->big);
	kc_fill(cl->big.va, r->len, seed, 0);
	kc_for_dev(cl, &cl->big);
	ssge.length = kc_msg_fill(cl, i, r, seed, r->send, 0x5a5a, 0);
	reinit_completion(&cl->send.done);
	reinit_completion(&cl->write.done);
	err = ib_post_send(cl->id->qp, &write.wr, NULL);
	return kc_check(t, !err, "client: round %u: post_send: %d", i, err);
}

/*
 * The server's half of round @i: the SEND says what the WRITE before it
 * put where; check that, and the bytes around, then answer.
 */
static bool kc_server_round(struct kc_test *t, u32 i)
{
	const struct kc_round *r = &kc_rounds[i];
	struct kc_ep *srv = &t->server;
	u8 *win = srv->big.va;
	struct ib_sge sge = {
		.addr = srv->out.dma,
		.lkey = srv->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe = &srv->send.cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	struct kc_msg *m;
	u32 seed, problems = 0;
	size_t bad;
	int err;

	if (!kc_wait(srv, &srv->recv, IB_WC_RECV, "SEND's receive"))
		return false;
	m = kc_msg_check(srv, i, r, r->send, 0x5a5a);
	if (!m)
		return false;
	seed = le32_to_cpu(m->seed);

	kc_for_cpu(srv, &srv->big);
	bad = kc_differs(win + r->off, r->len, seed, 0);
	if (!kc_check(t, bad == r->len,
		      "server: round %u: byte %zu of the %u-byte WRITE at %u differs",
		      i, bad, r->len, r->off))
		problems++;
	if (!kc_check(t, (!r->off || !win[r->off - 1]) &&
		      (r->off + r->len == KC_WIN_SIZE || !win[r->off + r->len]),
		      "server: round %u: the WRITE of %u bytes at %u changed a byte next to it",
		      i, r->len, r->off))
		problems++;
	/* The window is clean again for the next round. */
	memset(win + r->off, 0, r->len);
	kc_for_dev(srv, &srv->big);

	err = kc_post_recv(srv);
	if (!kc_check(t, !err, "server: round %u: post_recv: %d", i, err))
		return false;
	sge.length = kc_msg_fill(srv, i, r, seed, r->answer, 0xa5a5, problems);
	reinit_completion(&srv->send.done);
	err = ib_post_send(srv->id->qp, &wr, NULL);
	return kc_check(t, !err, "server: round %u: post_send: %d", i, err) &&
	       kc_wait(srv, &srv->send, IB_WC_SEND, "answer");
}

/* The client's end of round @i: its SEND went, the answer came, is right. */
static bool kc_client_end(struct kc_test *t, u32 i, u32 seed)
{
	const struct kc_round *r = &kc_rounds[i];
	struct kc_ep *cl = &t->client;
	struct kc_msg *m;
	int err;

	if (!kc_wait(cl, &cl->send, IB_WC_SEND, "WRITE and SEND"))
		return false;
	if (!kc_check(t, !completion_done(&cl->write.done),
		      "client: round %u: the unsignaled WRITE completed: %s",
		      i, ib_wc_status_msg(cl->write.wc.status)) ||
	    !kc_wait(cl, &cl->recv, IB_WC_RECV, "answer's receive"))
		return false;
	m = kc_msg_check(cl, i, r, r->answer, 0xa5a5);
	if (!m || !kc_check(t, le32_to_cpu(m->seed) == seed && !m->status,
			    "client: round %u: the server's answer: seed %x, %u problems",
			    i, le32_to_cpu(m->seed), le32_to_cpu(m->status)))
		return false;
	err = kc_post_recv(cl);
	return kc_check(t, !err, "client: round %u: post_recv: %d", i, err);
}

static bool kc_rounds_run(struct kc_test *t)
{
	u32 i, seed, bytes = 0;

	for (i = 0; i < ARRAY_SIZE(kc_rounds); i++) {
		seed = 0x1000 * (i + 1) + 0x77;
		if (!kc_client_post(t, i, seed) || !kc_server_round(t, i) ||
		    !kc_client_end(t, i, seed))
			return false;
		bytes += kc_rounds[i].len;
	}
	pr_info("ok: %s: %zu rounds: RDMA WRITEs of 1 to 65536 bytes (%u in all) and the SENDs after them checked by the server, its answers by the client\n",
		t->family, ARRAY_SIZE(kc_rounds), bytes);
	return true;
}

/* The client READs the server's buffer, whole and a part at odd places. */
static bool kc_reads(struct kc_test *t)
{
	struct kc_ep *cl = &t->client;
	u32 rd_len = le32_to_cpu(t->got.rd_len);
	u32 seed = le32_to_cpu(t->got.rd_seed);
	u64 rd_addr = le64_to_cpu(t->got.rd_addr);
	struct ib_sge sge[2] = {
		{ .addr = cl->rd.dma, .length = rd_len,
		  .lkey = cl->pd->local_dma_lkey },
		{ .addr = cl->rd.dma + KC_RD_PART_DST,
		  .length = KC_RD_PART_LEN, .lkey = cl->pd->local_dma_lkey },
	};
	struct ib_rdma_wr wr[2];
	bool ok = true;
	size_t bad;
	int err, i;

	if (!kc_check(t, rd_len == KC_RD_SIZE,
		      "client: the server offers %u bytes to read, not %u",
		      rd_len, KC_RD_SIZE))
		return false;
	kc_for_cpu(cl, &cl->rd);
	memset(cl->rd.va, 0, cl->rd.len);
	kc_for_dev(cl, &cl->rd);
	memset(wr, 0, sizeof(wr));
	for (i = 0; i < 2; i++) {
		wr[i].wr.next = i ? NULL : &wr[1].wr;
		wr[i].wr.wr_cqe = &cl->read[i].cqe;
		wr[i].wr.sg_list = &sge[i];
		wr[i].wr.num_sge = 1;
		wr[i].wr.opcode = IB_WR_RDMA_READ;
		wr[i].wr.send_flags = IB_SEND_SIGNALED;
		wr[i].rkey = le32_to_cpu(t->got.rkey);
		reinit_completion(&cl->read[i].done);
	}
	wr[0].remote_addr = rd_addr;
	wr[1].remote_addr = rd_addr + KC_RD_PART_OFF;
	err = ib_post_send(cl->id->qp, &wr[0].wr, NULL);
	if (!kc_check(t, !err, "client: READ: post_send: %d", err))
		return false;
	for (i = 0; i < 2; i++)
		ok &= kc_wait(cl, &cl->read[i], IB_WC_RDMA_READ, "READ");
	if (!ok)
		return false;

	kc_for_cpu(cl, &cl->rd);
	bad = kc_differs(cl->rd.va, rd_len, seed, 0);
	ok &= kc_check(t, bad == rd_len,
		       "client: byte %zu of the %u-byte READ differs", bad,
		       rd_len);
	bad = kc_differs(cl->rd.va + KC_RD_PART_DST, KC_RD_PART_LEN, seed,
			 KC_RD_PART_OFF);
	ok &= kc_check(t, bad == KC_RD_PART_LEN,
		       "client: byte %zu of the %u-byte READ at %u differs",
		       bad, KC_RD_PART_LEN, KC_RD_PART_OFF);
	ok &= kc_check(t, !cl->rd.va[KC_RD_PART_DST - 1] &&
		       !cl->rd.va[KC_RD_PART_DST + KC_RD_PART_LEN],
		       "client: the READ at %u wrote past its buffer",
		       KC_RD_PART_OFF);
	if (ok)
		pr_info("ok: %s: RDMA READs of the server's %u-byte buffer and of %u bytes at its offset %u checked\n",
			t->family, rd_len, KC_RD_PART_LEN, KC_RD_PART_OFF);
	return ok;
}

/* The client disconnects; the server sees it and disconnects too. */
static bool kc_disconnect(struct kc_test *t)
{
	struct kc_ep *srv = &t->server, *cl = &t->client;
	struct kc_event ev;
	int err;

	err = rdma_disconnect(cl->id);
	if (!kc_check(t, !err, "client: rdma_disconnect: %d", err) ||
	    !kc_expect(srv, RDMA_CM_EVENT_DISCONNECTED, &ev))
		return false;
	err = rdma_disconnect(srv->id);
	if (!kc_check(t, !err, "server: rdma_disconnect: %d", err) ||
	    !kc_expect(cl, RDMA_CM_EVENT_DISCONNECTED, &ev))
		return false;
	/* 0: the server's DREP came, not the DREQ's timeout. */
	return kc_check(t, !ev.status, "client: DISCONNECTED with status %d",
			ev.status);
}

/* --- refusals ------------------------------------------------------------- */

/* The server rejects a client, with private data of its own. */
static void kc_rejected(struct kc_test *t)
{
	struct kc_ep *cl = &t->asker, *srv = &t->refuser;
	int before = kc_failures(t);
	struct kc_event ev;
	int err;

	spin_lock(&t->listener.lock);
	t->listener.next_conn = srv;
	spin_unlock(&t->listener.lock);
	if (!kc_resolve(cl, &t->ss) || !kc_ep_verbs(cl, false) ||
	    !kc_connect(cl, KC_KIND_REJECT_ME, 0x33) ||
	    !kc_expect(srv, RDMA_CM_EVENT_CONNECT_REQUEST, &ev) ||
	    !kc_pdata_check(srv, &ev, cl, "connection request"))
		goto out;
	kc_hello_fill(srv, KC_KIND_REJECTION, 0x44);
	rdma_lock_handler(srv->id);
	err = rdma_reject(srv->id, srv->pdata, srv->pdata_len,
			  IB_CM_REJ_CONSUMER_DEFINED);
	rdma_unlock_handler(srv->id);
	if (!kc_check(t, !err, "refuser: rdma_reject: %d", err) ||
	    !kc_expect(cl, RDMA_CM_EVENT_REJECTED, &ev) ||
	    !kc_check(t, ev.status == IB_CM_REJ_CONSUMER_DEFINED,
		      "asker: rejected with reason %d (%s), not as the server rejected it",
		      ev.status, rdma_reject_msg(cl->id, ev.status)) ||
	    !kc_pdata_check(cl, &ev, srv, "rejected"))
		goto out;
	if (kc_failures(t) == before)
		pr_info("ok: %s: a connection the server rejects ends in REJECTED (%s) with the REJ's private data (%u bytes) as sent\n",
			t->family, rdma_reject_msg(cl->id, ev.status),
			srv->pdata_len);
out:
	spin_lock(&t->listener.lock);
	t->listener.next_conn = NULL;
	spin_unlock(&t->listener.lock);
	kc_ep_teardown(srv);
	kc_ep_teardown(cl);
}

/* Nobody listens: the IB CM answers the REQ with a REJ. */
static void kc_refused(struct kc_test *t)
{
	struct kc_ep *cl = &t->stranger;
	int before = kc_failures(t);
	unsigned long start;
	struct kc_event ev;
	u32 ms;

	if (!kc_resolve(cl, &t->ss) || !kc_ep_verbs(cl, false))
		goto out;
	start = jiffies;
	if (!kc_connect(cl, KC_KIND_CONNECT, 0x55))
		goto out;
	if (!wait_event_timeout(cl->wait, kc_pop(cl, &ev),
				msecs_to_jiffies(KC_REFUSED_MS))) {
		kc_check(t, false, "stranger: no answer in %u ms from %pISpc, where nobody listens",
			 KC_REFUSED_MS, &t->ss);
		goto out;
	}
	ms = jiffies_to_msecs(jiffies - start);
	if (kc_check(t, ev.type == RDMA_CM_EVENT_REJECTED &&
		     ev.status == IB_CM_REJ_INVALID_SERVICE_ID,
		     "stranger: %s (status %d) from %pISpc, where nobody listens; expected REJECTED (invalid service ID)",
		     rdma_event_msg(ev.type), ev.status, &t->ss) &&
	    kc_failures(t) == before)
		pr_info("ok: %s: a connection to %pISpc, where nobody listens, ends in REJECTED (%s) in %u ms\n",
			t->family, &t->ss, rdma_reject_msg(cl->id, ev.status),
			ms);
out:
	kc_ep_teardown(cl);
}

/* --- the run -------------------------------------------------------------- */

static bool kc_listen(struct kc_test *t)
{
	struct kc_ep *l = &t->listener;
	int err;

	if (!kc_create_id(l))
		return false;
	err = rdma_bind_addr(l->id, (struct sockaddr *)&t->ss);
	if (!kc_check(t, !err, "listener: rdma_bind_addr %pISpc: %d", &t->ss,
		      err) ||
	    !kc_on_dev(l, "bound address"))
		return false;
	err = rdma_listen(l->id, 4);
	return kc_check(t, !err, "listener: rdma_listen: %d", err);
}

/* Wait for hold_ms to pass, or to be set to 0. */
static void kc_hold(void)
{
	unsigned int ms = READ_ONCE(hold_ms);
	unsigned long start = jiffies;
	unsigned long end = start + msecs_to_jiffies(ms);

	if (!ms)
		return;
	pr_info("holding the connection for %u ms\n", ms);
	WRITE_ONCE(held, true);
	while (READ_ONCE(hold_ms) && time_before(jiffies, end))
		msleep(50);
	WRITE_ONCE(held, false);
	pr_info("held the connection for %u ms\n",
		jiffies_to_msecs(jiffies - start));
}

static void kc_run(struct kc_test *t)
{
	int before = kc_failures(t);
	bool ok;

	if (kc_listen(t)) {
		ok = kc_establish(t) && kc_rounds_run(t) && kc_reads(t);
		if (ok)
			kc_hold();
		if (ok && kc_disconnect(t))
			pr_info("ok: %s: the client disconnected, the server saw DISCONNECTED and disconnected, the client saw DISCONNECTED\n",
				t->family);
		kc_ep_teardown(&t->server);
		kc_ep_teardown(&t->client);
		if (kc_failures(t) == before)
			pr_info("ok: %s: both QPs drained; QPs, CQs, PDs, buffers and cm_ids destroyed\n",
				t->family);
		kc_rejected(t);
	}
	kc_ep_teardown(&t->listener);
	kc_refused(t);
}

static int __init kc_init(void)
{
	struct kc_test *t;
	int err;

	t = kzalloc_obj(*t);
	if (!t)
		return -ENOMEM;
	err = inet_pton_with_scope(current->nsproxy->net_ns, AF_UNSPEC, addr,
				   NULL, &t->ss);
	if (err || port <= 0 || port > 65535) {
		pr_err("FAIL: addr=%s port=%d is not an address and a port\n",
		       addr, port);
		kfree(t);
		return -EINVAL;
	}
	if (t->ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&t->ss)->sin_port = htons(port);
		t->family = "IPv4";
	} else {
		((struct sockaddr_in6 *)&t->ss)->sin6_port = htons(port);
		t->family = "IPv6";
	}
	kc_ep_init(t, &t->listener, "listener");
	kc_ep_init(t, &t->server, "server");
	kc_ep_init(t, &t->client, "client");
	kc_ep_init(t, &t->refuser, "refuser");
	kc_ep_init(t, &t->asker, "asker");
	kc_ep_init(t, &t->stranger, "stranger");

	kc_run(t);

	err = kc_failures(t) ? -EIO : 0;
	pr_info("%s %pISpc on %s: %d failures\n", t->family, &t->ss, dev,
		kc_failures(t));
	kfree(t);
	return err;
}

static void __exit kc_exit(void)
{
}

module_init(kc_init);
module_exit(kc_exit);
MODULE_DESCRIPTION("Kernel rdma_cm test of an RDMA device (sroce's tests)");
MODULE_LICENSE("Dual BSD/GPL");
