/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What differs between the kernels sroce builds for (6.12 to 7.3), in one
 * place.  Feature macros (SROCE_*) come from tests in Kbuild.
 */
#ifndef SROCE_COMPAT_H
#define SROCE_COMPAT_H

#include <linux/slab.h>
#include <linux/timer.h>

/* Typed allocation helpers arrived after 6.12; GFP_KERNEL unless given. */
#ifndef kzalloc_obj
#define kzalloc_obj(obj, ...)	kzalloc(sizeof(obj), default_gfp(__VA_ARGS__))
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
