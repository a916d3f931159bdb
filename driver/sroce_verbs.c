// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Verbs objects that carry no data path: user contexts and protection
 * domains.
 */
#include <rdma/ib_verbs.h>
#include <rdma/sroce-abi.h>
#include <rdma/uverbs_ioctl.h>

#include "sroce.h"

int sroce_alloc_ucontext(struct ib_ucontext *ibuc, struct ib_udata *udata)
{
	/* No driver data flows either way yet; reject what we'd ignore. */
	if (!ib_is_udata_cleared(udata, 0, udata->inlen))
		return -EINVAL;
	return 0;
}

/* The core calls this unconditionally; a context owns nothing of its own yet. */
void sroce_dealloc_ucontext(struct ib_ucontext *ibuc)
{
}

int sroce_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibpd->device);
	struct sroce_pd *pd = to_spd(ibpd);
	struct sroce_alloc_pd_resp resp = {};
	int id;
	int err;

	id = ida_alloc_max(&sdev->pd_ida, SROCE_MAX_PD - 1, GFP_KERNEL);
	if (id < 0)
		return id;
	pd->pdn = id;

	if (udata && udata->outlen) {
		resp.pdn = pd->pdn;
		err = ib_copy_to_udata(udata, &resp,
				       min(sizeof(resp), udata->outlen));
		if (err)
			goto err_free_id;
	}
	return 0;

err_free_id:
	ida_free(&sdev->pd_ida, pd->pdn);
	return err;
}

int sroce_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	ida_free(&to_sdev(ibpd->device)->pd_ida, to_spd(ibpd)->pdn);
	return 0;
}
