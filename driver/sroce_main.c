// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sroce module: the "sroce" rdma link type, the list of sroce devices and
 * the netdev events that keep each device in step with its netdev.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <rdma/rdma_netlink.h>

#include "sroce.h"

/*
 * All registered sroce devices.  sroce_devs_lock protects the list and the
 * list_head of every sroce_dev.  It nests inside RTNL (the netdev notifier
 * takes it with RTNL held), so it must never be held across a call that can
 * take RTNL, such as ib_register_device() or ib_unregister_device().
 */
static LIST_HEAD(sroce_devs);
static DEFINE_MUTEX(sroce_devs_lock);

/*
 * Serializes "rdma link add" for sroce, so that the one-device-per-netdev
 * check and the registration that follows it are atomic.  Taken outside
 * RTNL and outside sroce_devs_lock; the netdev notifier never takes it.
 */
static DEFINE_MUTEX(sroce_newlink_lock);

/*
 * Ask the core to unregister @sdev from a context that cannot wait for it.
 * A device whose registration reference can't be taken is already being
 * unregistered by someone else.
 */
static void sroce_dev_queue_unregister(struct sroce_dev *sdev)
{
	if (!ib_device_try_get(&sdev->ibdev))
		return;
	ib_unregister_device_queued(&sdev->ibdev);
	ib_device_put(&sdev->ibdev);
}

void sroce_devs_add(struct sroce_dev *sdev)
{
	mutex_lock(&sroce_devs_lock);
	/* Skip a device that a racing "rdma link delete" already removed. */
	if (ib_device_try_get(&sdev->ibdev)) {
		list_add_tail(&sdev->list, &sroce_devs);
		/*
		 * The netdev may have started unregistering before the device
		 * was on the list, when the notifier could not see it.
		 */
		if (READ_ONCE(sdev->ndev->reg_state) != NETREG_REGISTERED)
			ib_unregister_device_queued(&sdev->ibdev);
		ib_device_put(&sdev->ibdev);
	}
	mutex_unlock(&sroce_devs_lock);
}

void sroce_devs_remove(struct sroce_dev *sdev)
{
	mutex_lock(&sroce_devs_lock);
	list_del_init(&sdev->list);
	mutex_unlock(&sroce_devs_lock);
}

static int sroce_newlink(const char *name, struct net_device *ndev)
{
	struct sroce_dev *sdev;
	bool taken = false;
	int err;

	mutex_lock(&sroce_newlink_lock);
	mutex_lock(&sroce_devs_lock);
	list_for_each_entry(sdev, &sroce_devs, list)
		taken |= sdev->ndev == ndev;
	mutex_unlock(&sroce_devs_lock);
	if (taken) {
		pr_info("sroce: %s already has an sroce device\n",
			netdev_name(ndev));
		err = -EEXIST;
	} else {
		err = sroce_dev_add(name, ndev);
	}
	mutex_unlock(&sroce_newlink_lock);
	return err;
}

static struct rdma_link_ops sroce_link_ops = {
	.type = "sroce",
	.newlink = sroce_newlink,
};

static int sroce_netdev_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct net_device *ndev = netdev_notifier_info_to_dev(ptr);
	struct sroce_dev *sdev;

	mutex_lock(&sroce_devs_lock);
	list_for_each_entry(sdev, &sroce_devs, list) {
		if (sdev->ndev != ndev)
			continue;
		switch (event) {
		case NETDEV_UNREGISTER:
			sroce_dev_queue_unregister(sdev);
			break;
#ifndef SROCE_CORE_REPORTS_PORT_EVENTS
		/* Newer cores report these themselves for every RoCE port. */
		case NETDEV_UP:
		case NETDEV_DOWN:
		case NETDEV_CHANGE:
			sroce_port_event(sdev);
			break;
#endif
		default:
			break;
		}
	}
	mutex_unlock(&sroce_devs_lock);
	return NOTIFY_DONE;
}

static struct notifier_block sroce_netdev_nb = {
	.notifier_call = sroce_netdev_event,
};

/* Unregister every device, waiting for each; used at module unload. */
static void sroce_unregister_all(void)
{
	struct sroce_dev *sdev;

	for (;;) {
		mutex_lock(&sroce_devs_lock);
		sdev = list_first_entry_or_null(&sroce_devs, struct sroce_dev,
						list);
		if (sdev) {
			list_del_init(&sdev->list);
			get_device(&sdev->ibdev.dev);
		}
		mutex_unlock(&sroce_devs_lock);
		if (!sdev)
			break;
		/* Waits for, and is a no-op after, any other unregistration. */
		ib_unregister_device(&sdev->ibdev);
		put_device(&sdev->ibdev.dev);
	}
}

static int __init sroce_init(void)
{
	int err;

	/* QP work items; WQ_MEM_RECLAIM as storage may run over RDMA. */
	sroce_wq = alloc_workqueue("sroce", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!sroce_wq)
		return -ENOMEM;
	/*
	 * On-demand fault jobs, apart from the QPs' work: a fault that hangs
	 * holds a worker of its own, never one that a QP needs.
	 */
	err = -ENOMEM;
	sroce_fault_wq = alloc_workqueue("sroce_fault",
					 WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!sroce_fault_wq)
		goto err_wq;
	err = register_netdevice_notifier(&sroce_netdev_nb);
	if (err)
		goto err_fault_wq;
	rdma_link_register(&sroce_link_ops);
	return 0;

err_fault_wq:
	destroy_workqueue(sroce_fault_wq);
err_wq:
	destroy_workqueue(sroce_wq);
	return err;
}

static void __exit sroce_exit(void)
{
	/* No new devices once the link type is gone. */
	rdma_link_unregister(&sroce_link_ops);
	sroce_unregister_all();
	unregister_netdevice_notifier(&sroce_netdev_nb);
	destroy_workqueue(sroce_fault_wq);
	destroy_workqueue(sroce_wq);
}

module_init(sroce_init);
module_exit(sroce_exit);

MODULE_AUTHOR("sroce developers");
MODULE_DESCRIPTION("Software RoCEv2 device on any Ethernet netdev");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_VERSION("0.1");
MODULE_ALIAS_RDMA_LINK("sroce");
