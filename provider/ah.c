// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce address handles.  The kernel resolves the destination and keeps
 * the AH; a UD WQE names it by the number the create response carries,
 * and the kernel finds it by that number (in the QP's PD) when it sends.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "sroce.h"
#include "sroce-abi.h"

struct ibv_ah *sroce_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct usroce_create_ah_resp resp = {};
	struct sroce_ah *ah;
	int ret;

	ah = calloc(1, sizeof(*ah));
	if (!ah) {
		errno = ENOMEM;
		return NULL;
	}
	ret = ibv_cmd_create_ah(pd, &ah->ibv_ah, attr, &resp.ibv_resp,
				sizeof(resp));
	if (ret) {
		free(ah);
		errno = ret;
		return NULL;
	}
	ah->ah_num = resp.ah_num;
	sroce_ctx_get(pd->context);
	return &ah->ibv_ah;
}

int sroce_destroy_ah(struct ibv_ah *ibah)
{
	struct ibv_context *context = ibah->context;
	int ret;

	ret = ibv_cmd_destroy_ah(ibah);
	if (ret)
		return ret;
	free(to_sah(ibah));
	sroce_ctx_put(context);
	return 0;
}
