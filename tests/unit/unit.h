/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the host unit tests share: one PASS/FAIL line per check under a
 * suite name, the counts, and the CRC-32 that the kernel gets from
 * crc32_le (reflected polynomial 0xedb88320, no inversions inside).
 */
#ifndef SROCE_UNIT_H
#define SROCE_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <linux/types.h>

static const char *unit_suite;
static int unit_passed, unit_failed;

static void expect(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void expect(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s unit/%s: ", ok ? "PASS" : "FAIL", unit_suite);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		unit_passed++;
	else
		unit_failed++;
}

/* Prints the totals; the exit status of main. */
static int unit_report(void)
{
	printf("unit/%s: %d passed, %d failed\n", unit_suite, unit_passed,
	       unit_failed);
	return unit_failed ? 1 : 0;
}

__u32 sroce_crc32(__u32 crc, const void *buf, unsigned int len)
{
	const __u8 *p = buf;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
	}
	return crc;
}

#endif /* SROCE_UNIT_H */
