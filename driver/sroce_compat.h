/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What differs between the kernels sroce builds for (6.1 to 7.3), in one
 * place.  Feature macros (SROCE_*) come from tests in Kbuild.
 */
#ifndef SROCE_COMPAT_H
#define SROCE_COMPAT_H

#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <net/inet_sock.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>

/* Typed allocation helpers arrived after 6.12; GFP_KERNEL unless given. */
#ifndef kzalloc_obj
#ifndef default_gfp
/* @none is always empty: the flags given, else GFP_KERNEL. */
#define sroce_gfp_or_kernel(none, gfp, ...)	(none gfp)
#define default_gfp(...)	sroce_gfp_or_kernel(, ##__VA_ARGS__, GFP_KERNEL)
#endif
#define kzalloc_obj(obj, ...)	kzalloc(sizeof(obj), default_gfp(__VA_ARGS__))
#endif

/*
 * ATOMIC WRITE and FLUSH (IBTA 1.5 memory placement) came to the core
 * after 6.1.  Without them uverbs has no opcodes, MR access flags or
 * device capability bits for them: sroce then offers neither, fails such
 * a WQE with a local QP operation error and answers such a request with
 * an invalid request NAK.  The names below only let that code build.
 */
#ifdef SROCE_CORE_PLACEMENT
#define SROCE_PLACEMENT			true
#define SROCE_DEVICE_PLACEMENT_CAPS	(IB_DEVICE_FLUSH_GLOBAL | \
					 IB_DEVICE_ATOMIC_WRITE)
#define SROCE_QP_ACCESS_FLUSH		(IB_ACCESS_FLUSH_GLOBAL | \
					 IB_ACCESS_FLUSH_PERSISTENT)
#else
/*
 * A QP's access flags reach the driver as user space gave them, unchecked
 * by the core: a newer rdma-core's FLUSH bits (IB_UVERBS_ACCESS_FLUSH_*,
 * bits 8 and 9, free before) arrive all the same, and are taken and
 * ignored as on later kernels; only the MR grants a FLUSH.
 */
#define SROCE_QP_ACCESS_FLUSH		(BIT(8) | BIT(9))
#define SROCE_PLACEMENT			false
#define SROCE_DEVICE_PLACEMENT_CAPS	0
#define IB_UVERBS_WR_FLUSH		14
#define IB_UVERBS_WR_ATOMIC_WRITE	15
#define IB_ACCESS_FLUSH_GLOBAL		0
#define IB_ACCESS_FLUSH_PERSISTENT	0
#define IB_FLUSH_GLOBAL			1
#define IB_FLUSH_PERSISTENT		2
#define IB_FLUSH_MR			1
#endif

/* create_cq took the udata before it took the attribute bundle. */
#ifdef SROCE_CREATE_CQ_ATTRS
#define SROCE_CREATE_CQ_ARG_TYPE	struct uverbs_attr_bundle
static inline struct ib_udata *
sroce_create_cq_udata(struct uverbs_attr_bundle *attrs)
{
	return attrs ? &attrs->driver_udata : NULL;
}
#else
#define SROCE_CREATE_CQ_ARG_TYPE	struct ib_udata
static inline struct ib_udata *sroce_create_cq_udata(struct ib_udata *udata)
{
	return udata;
}
#endif

/*
 * The port's netdev, held, or NULL once it is going away.  Where the core
 * does not export ib_device_get_netdev(), @ndev (which the core holds
 * from ib_device_set_netdev() until unregistration) is taken directly.
 */
static inline struct net_device *sroce_get_netdev(struct ib_device *ibdev,
						  u32 port,
						  struct net_device *ndev)
{
#ifdef SROCE_CORE_GET_NETDEV
	return ib_device_get_netdev(ibdev, port);
#else
	if (!ndev || READ_ONCE(ndev->reg_state) >= NETREG_UNREGISTERING)
		return NULL;
	dev_hold(ndev);
	return ndev;
#endif
}

#ifndef SROCE_HAS_VIRT_DMA_TO_PTR
/* A kernel virtual address that stands in for a DMA address. */
static inline void *ib_virt_dma_to_ptr(u64 dma_addr)
{
	return (void *)(uintptr_t)dma_addr;
}
#endif

#ifndef SROCE_HAS_VM_FLAGS_SET
/* Called with the mmap lock held for writing, as vm_flags_set() is. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

/*
 * Read-only long-term pins in private mappings became reliable in 6.2: GUP
 * copies a shared page (the zero page, a file's page in the page cache)
 * before pinning it, as the process's first write would.  Before that, a
 * read-only pin could keep the shared page while the process went on with
 * its own copy, and the MR never saw another write.  There sroce pins a
 * read-only registration as the core's umem did then: for writing, by
 * force, which breaks copy-on-write at once.
 */
#ifdef SROCE_GUP_RO_PIN_MAY_GO_STALE
#define SROCE_RO_PIN_UNSHARE	(FOLL_WRITE | FOLL_FORCE)
#else
#define SROCE_RO_PIN_UNSHARE	0
#endif

/* The socket's flags were bit fields until they became atomic bits. */
#ifdef inet_set_bit
#define sroce_sk_set_mc_loop(sk)	inet_set_bit(MC_LOOP, sk)
#else
#define sroce_sk_set_mc_loop(sk)	(inet_sk(sk)->mc_loop = 1)
#endif

/*
 * Kernels with DMA handles (struct ib_dmah) pass one to reg_user_mr; sroce
 * has no use for it, but must take it.
 */
#ifdef SROCE_REG_USER_MR_HAS_DMAH
#define SROCE_REG_USER_MR_DMAH_ARG	struct ib_dmah *dmah,
#define SROCE_REG_USER_MR_NO_DMAH	NULL,
#else
#define SROCE_REG_USER_MR_DMAH_ARG
#define SROCE_REG_USER_MR_NO_DMAH
#endif

/*
 * Resizing a CQ was one verb for kernel and user CQs (resize_cq, an int
 * size) until it became one for user CQs only (resize_user_cq, unsigned).
 */
#ifdef SROCE_RESIZE_USER_CQ
#define SROCE_RESIZE_CQ_OP	resize_user_cq
#define SROCE_CQ_SIZE_TYPE	unsigned int
#else
#define SROCE_RESIZE_CQ_OP	resize_cq
#define SROCE_CQ_SIZE_TYPE	int
#endif

/* The UDP tunnel helpers took the socket until they took the sock. */
#ifdef SROCE_UDP_TUNNEL_RELEASE_SK
#define sroce_udp_sock_release(sock)	udp_tunnel_sock_release((sock)->sk)
#define sroce_setup_udp_tunnel_sock(net, sock, cfg) \
	setup_udp_tunnel_sock(net, (sock)->sk, cfg)
#else
#define sroce_udp_sock_release(sock)	udp_tunnel_sock_release(sock)
#define sroce_setup_udp_tunnel_sock(net, sock, cfg) \
	setup_udp_tunnel_sock(net, sock, cfg)
#endif

/* from_timer() was renamed after 6.12. */
#ifndef timer_container_of
#define timer_container_of(var, timer, field)	from_timer(var, timer, field)
#endif

#endif /* SROCE_COMPAT_H */
