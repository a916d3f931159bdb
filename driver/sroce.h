/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sroce: a software RoCEv2 device on top of any Ethernet netdev.
 *
 * Objects shared by the driver's files.  Each file has one job:
 *   sroce_main.c   module init/exit, rdma link type, netdev events
 *   sroce_dev.c    ib_device creation, port and device attributes
 *   sroce_verbs.c  user contexts and protection domains
 */
#ifndef SROCE_H
#define SROCE_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <rdma/ib_verbs.h>

#include "sroce_compat.h"

#define SROCE_PORT		1
#define SROCE_MAX_PD		0x10000
#define SROCE_MAX_MR		0xfffff		/* keys are index << 8 | tag */
#define SROCE_MAX_MR_SIZE	BIT_ULL(40)
#define SROCE_GID_TABLE_LEN	128

/* sroce has no IEEE OUI; FF-FF-FF is the customary "none". */
#define SROCE_VENDOR_ID		0xffffff

/* The largest RoCE message (IBTA: 2^31 bytes). */
#define SROCE_MAX_MSG_SIZE	0x80000000U

/* Firmware version as uverbs reports it: major << 32 | minor << 16 | sub. */
#define SROCE_FW_VERSION	(0ULL << 32 | 1ULL << 16)

struct sroce_dev {
	struct ib_device ibdev;

	/*
	 * The netdev this device runs on.  Only compared, never dereferenced:
	 * code that needs the netdev itself takes a reference with
	 * ib_device_get_netdev(), which fails once the netdev is going away.
	 */
	struct net_device *ndev;

	/*
	 * Entry in sroce_devs (sroce_main.c).  Protected by sroce_devs_lock.
	 * A device is on the list from just after ib_register_device() until
	 * its dealloc_driver callback.
	 */
	struct list_head list;

	/*
	 * Port state last reported with an IB event, so that repeated netdev
	 * events don't repeat IB events.  Written only from the netdev
	 * notifier, which runs under RTNL.
	 */
	enum ib_port_state reported_state;

	struct ida pd_ida;	/* PD numbers; the IDA has its own lock */

	/* MRs by key index (sroce_mr.c); the xarray has its own lock. */
	struct xarray mr_xa;
	u32 mr_next;		/* cyclic allocation hint, under mr_xa's lock */
};

struct sroce_ucontext {
	struct ib_ucontext ibuc;
};

struct sroce_pd {
	struct ib_pd ibpd;
	u32 pdn;
};

struct sroce_mr {
	struct ib_mr ibmr;	/* keys, iova and length live here */
	struct sroce_umem *umem;	/* NULL for a DMA MR */
	int access;
};

static inline struct sroce_dev *to_sdev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct sroce_dev, ibdev);
}

static inline struct sroce_pd *to_spd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct sroce_pd, ibpd);
}

static inline struct sroce_mr *to_smr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct sroce_mr, ibmr);
}

/* sroce_dev.c */
int sroce_dev_add(const char *name, struct net_device *ndev);
void sroce_port_event(struct sroce_dev *sdev);

/* sroce_main.c */
void sroce_devs_add(struct sroce_dev *sdev);
void sroce_devs_remove(struct sroce_dev *sdev);

/* sroce_mr.c */
struct ib_mr *sroce_get_dma_mr(struct ib_pd *ibpd, int access);
struct ib_mr *sroce_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
				u64 iova, int access,
				SROCE_REG_USER_MR_DMAH_ARG
				struct ib_udata *udata);
int sroce_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata);

/* sroce_verbs.c */
int sroce_alloc_ucontext(struct ib_ucontext *ibuc, struct ib_udata *udata);
void sroce_dealloc_ucontext(struct ib_ucontext *ibuc);
int sroce_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int sroce_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);

#endif /* SROCE_H */
