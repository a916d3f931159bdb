/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the VM test programs share: a failure-counting check() and opening
 * an RDMA device by name.
 */
#ifndef SROCE_TEST_COMMON_H
#define SROCE_TEST_COMMON_H

#include <stdio.h>
#include <string.h>
#include <infiniband/verbs.h>

static int failures;

#define check(cond, ...)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			printf("FAIL: " __VA_ARGS__);                   \
			printf("\n");                                   \
			failures++;                                     \
		}                                                       \
	} while (0)

static inline struct ibv_context *open_by_name(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

#endif /* SROCE_TEST_COMMON_H */
