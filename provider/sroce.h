/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libsroce: the rdma-core provider for sroce devices.
 */
#ifndef SROCE_PROVIDER_H
#define SROCE_PROVIDER_H

#include <stdint.h>
#include <infiniband/driver.h>

struct sroce_device {
	struct verbs_device vdev;
};

struct sroce_context {
	struct verbs_context vctx;
};

struct sroce_pd {
	struct ibv_pd ibv_pd;
	uint32_t pdn;
};

static inline struct sroce_context *to_sctx(struct ibv_context *ibctx)
{
	return container_of(ibctx, struct sroce_context, vctx.context);
}

static inline struct sroce_pd *to_spd(struct ibv_pd *ibpd)
{
	return container_of(ibpd, struct sroce_pd, ibv_pd);
}

#endif /* SROCE_PROVIDER_H */
