// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Binds the kernel-independent protocol layer (sroce_wire.c, sroce_proto.c)
 * to the kernel: its CRC-32 is the kernel's crc32_le (reflected, no
 * inversions inside), and its values must equal the kernel's.
 */
#include <linux/build_bug.h>
#include <linux/crc32.h>
#include <rdma/ib_verbs.h>

#include "sroce_link.h"
#include "sroce_proto.h"

/* Values of different enum types, compared as the numbers they are. */
#define SROCE_SAME_VALUE(ours, kernels) \
	static_assert((int)(ours) == (int)(kernels))

SROCE_SAME_VALUE(SROCE_REQ_OK, IB_WC_SUCCESS);
SROCE_SAME_VALUE(SROCE_REQ_REM_INV_REQ_ERR, IB_WC_REM_INV_REQ_ERR);
SROCE_SAME_VALUE(SROCE_REQ_REM_ACCESS_ERR, IB_WC_REM_ACCESS_ERR);
SROCE_SAME_VALUE(SROCE_REQ_REM_OP_ERR, IB_WC_REM_OP_ERR);
SROCE_SAME_VALUE(SROCE_REQ_RETRY_EXC_ERR, IB_WC_RETRY_EXC_ERR);
SROCE_SAME_VALUE(SROCE_REQ_RNR_RETRY_EXC_ERR, IB_WC_RNR_RETRY_EXC_ERR);
SROCE_SAME_VALUE(SROCE_REQ_REM_INV_RD_REQ_ERR, IB_WC_REM_INV_RD_REQ_ERR);
SROCE_SAME_VALUE(SROCE_IB_MTU_256, IB_MTU_256);
SROCE_SAME_VALUE(SROCE_IB_MTU_4096, IB_MTU_4096);
SROCE_SAME_VALUE(SROCE_PORT_DOWN, IB_PORT_DOWN);
SROCE_SAME_VALUE(SROCE_PORT_ACTIVE, IB_PORT_ACTIVE);
SROCE_SAME_VALUE(SROCE_PHYS_POLLING, IB_PORT_PHYS_STATE_POLLING);
SROCE_SAME_VALUE(SROCE_PHYS_DISABLED, IB_PORT_PHYS_STATE_DISABLED);
SROCE_SAME_VALUE(SROCE_PHYS_LINK_UP, IB_PORT_PHYS_STATE_LINK_UP);

__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len)
{
	return crc32_le(crc, buf, len);
}
