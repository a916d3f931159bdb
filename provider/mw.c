// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libsroce memory windows.  The kernel keeps a window's binding; a bind is
 * a BIND_MW WQE that the QP executes in send queue order, completing with
 * IBV_WC_BIND_MW or, when the bind is not valid, IBV_WC_MW_BIND_ERR.
 * ibv_bind_mw (type 1) posts one with the window's next rkey (a new tag,
 * ibv_inc_rkey) and takes that rkey at once; for a type 2 window the
 * consumer posts it (ibv_post_send, ibv_wr_bind_mw) with the rkey it
 * chose.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sroce.h"
#include "sroce-abi.h"

struct ibv_mw *sroce_alloc_mw(struct ibv_pd *pd, enum ibv_mw_type type)
{
	struct ib_uverbs_alloc_mw_resp resp;
	struct ibv_alloc_mw cmd;
	struct ibv_mw *mw;
	int ret;

	mw = calloc(1, sizeof(*mw));
	if (!mw) {
		errno = ENOMEM;
		return NULL;
	}
	ret = ibv_cmd_alloc_mw(pd, type, mw, &cmd, sizeof(cmd), &resp,
			       sizeof(resp));
	if (ret) {
		free(mw);
		errno = ret;
		return NULL;
	}
	sroce_ctx_get(pd->context);
	return mw;
}

int sroce_dealloc_mw(struct ibv_mw *mw)
{
	struct ibv_context *context = mw->context;
	int ret;

	ret = ibv_cmd_dealloc_mw(mw);
	if (ret)
		return ret;
	free(mw);
	sroce_ctx_put(context);
	return 0;
}

/*
 * Fill the BIND_MW WQE @wqe: window @mw takes @rkey (which must name it:
 * only the tag may differ) over what @info describes.  0 or EINVAL.
 */
int sroce_wqe_bind_mw(struct sroce_send_wqe *wqe, struct ibv_mw *mw,
		      uint32_t rkey, const struct ibv_mw_bind_info *info)
{
	if (!mw || (rkey ^ mw->rkey) & ~0xffU)
		return EINVAL;
	/* sroce's windows are never zero-based. */
	if (info->mw_access_flags & IBV_ACCESS_ZERO_BASED)
		return EINVAL;
	if (!info->mr && info->length)
		return EINVAL;
	wqe->rkey = rkey;
	wqe->remote_addr = info->addr;
	wqe->compare_add = info->length;
	wqe->swap = info->mw_access_flags;
	wqe->mr_lkey = info->mr ? info->mr->lkey : 0;
	return 0;
}

int sroce_bind_mw(struct ibv_qp *qp, struct ibv_mw *mw,
		  struct ibv_mw_bind *mw_bind)
{
	struct ibv_send_wr wr = {
		.wr_id = mw_bind->wr_id,
		.opcode = IBV_WR_BIND_MW,
		.send_flags = mw_bind->send_flags,
		.bind_mw = {
			.mw = mw,
			.rkey = ibv_inc_rkey(mw->rkey),
			.bind_info = mw_bind->bind_info,
		},
	};
	struct ibv_send_wr *bad;
	int ret;

	if (mw->type != IBV_MW_TYPE_1)
		return EINVAL;
	ret = sroce_post_send(qp, &wr, &bad);
	if (ret)
		return ret;
	/* An IBV_WC_MW_BIND_ERR leaves the window as it was: undo this. */
	mw->rkey = wr.bind_mw.rkey;
	return 0;
}
