// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel side of the wire library's one environment need: CRC-32 for
 * the ICRC, as the kernel's crc32_le (reflected, no inversions inside).
 */
#include <linux/crc32.h>

#include "sroce_wire.h"

__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len)
{
	return crc32_le(crc, buf, len);
}
