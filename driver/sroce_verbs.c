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

/*
 * A PD is nothing but its ib_pd: objects name their PD by pointer, so it
 * needs no number.  The device advertises max_pd, and a counter keeps to
 * it.  The ABI's pdn is kept for old providers and is always 0: sroce has
 * no PD numbers, and libsroce only stores the value.
 */
int sroce_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct sroce_dev *sdev = to_sdev(ibpd->device);
	struct sroce_alloc_pd_resp resp = {};
	int err;

	if (atomic_inc_return(&sdev->num_pds) > SROCE_MAX_PD) {
		err = -ENOMEM;
		goto err_count;
	}
	if (udata && udata->outlen) {
		err = ib_copy_to_udata(udata, &resp,
				       min(sizeof(resp), udata->outlen));
		if (err)
			goto err_count;
	}
	return 0;

err_count:
	atomic_dec(&sdev->num_pds);
	return err;
}

int sroce_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	atomic_dec(&to_sdev(ibpd->device)->num_pds);
	return 0;
}
