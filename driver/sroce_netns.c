// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Network namespaces: where a device is created, and what it gives up
 * when the core takes it away from the processes that use it.
 *
 * A device's traffic always goes through its netdev and the UDP sockets
 * of the netdev's namespace (sroce_net.c).  The RDMA namespace of the
 * device (who sees it and may open it, in the core's exclusive mode) is
 * the netdev's when the device is created, on kernels that let a driver
 * choose it (ib_alloc_device_with_net); before, init_net, and
 * "rdma dev set DEV netns NS" moves it.  The core gives a driver no say
 * in such a move, so sroce cannot refuse one: a device moved away from
 * its netdev's namespace still sends and receives there, and only its
 * users change.  A netdev that leaves its namespace is unregistered from
 * it first, and takes its sroce device with it (sroce_main.c).
 */
#include <rdma/ib_verbs.h>

#include "sroce.h"

struct sroce_dev *sroce_alloc_dev(struct net_device *ndev)
{
#ifdef SROCE_ALLOC_DEVICE_WITH_NET
	return ib_alloc_device_with_net(sroce_dev, ibdev, dev_net(ndev));
#else
	return ib_alloc_device(sroce_dev, ibdev);
#endif
}

/*
 * A device that is unregistered, or moved to another namespace, while
 * processes still hold contexts on it is taken from them: the core zaps
 * the mappings it knows of, destroys every object of the context through
 * the driver's usual destroy verbs (which stop the QPs, wait for their
 * owners and fault jobs, and unpin the MRs), and then calls this, before
 * dealloc_ucontext, without waiting for the processes to close their
 * files.  Their calls into the kernel fail with EIO from then on.
 *
 * What is left for the driver is what the core cannot see, and sroce
 * holds nothing of the kind: its rings are inserted page by page
 * (sroce_mmap), so the core's zap does not reach them, but each mapped
 * page holds a reference of its own, and once the queues are destroyed
 * the kernel neither reads nor writes them.  A process that still
 * writes a ring writes memory that nobody reads, which is freed when it
 * unmaps it; it polls an empty CQ, and learns of the loss from the
 * IBV_EVENT_DEVICE_FATAL the core sends it.
 */
void sroce_disassociate_ucontext(struct ib_ucontext *ibuc)
{
}
