/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * sroce user/kernel ABI.
 *
 * This header is the only contract between sroce.ko and the rdma-core
 * provider (libsroce).  Both sides include it unchanged.  Any change to a
 * structure below that an old provider or an old kernel module could
 * misread must bump SROCE_UVERBS_ABI_VERSION; the provider refuses devices
 * whose ABI version it does not know.
 *
 * Every structure is naturally aligned, padded to a multiple of 8 bytes and
 * carries explicit reserved fields, which must be zero when sent.
 */
#ifndef SROCE_ABI_USER_H
#define SROCE_ABI_USER_H

#include <linux/types.h>

/* Reported through the ib_device's uverbs_abi_ver. */
#define SROCE_UVERBS_ABI_VERSION	1

/* Value of the device's sysfs hca_type attribute; the provider binds by it. */
#define SROCE_HCA_TYPE			"sroce"

/* Response to ibv_alloc_pd(). */
struct sroce_alloc_pd_resp {
	__u32 pdn;		/* device-wide PD number, for diagnostics */
	__u32 reserved;
};

#endif /* SROCE_ABI_USER_H */
