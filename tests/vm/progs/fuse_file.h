/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A FUSE file system of the test program's own, with one file, for
 * faults that wait on a page (odp_hung.c, odp_slow.c).  It speaks the
 * FUSE protocol on /dev/fuse itself (no libfuse) from a thread of the
 * program, so the program decides when, and whether, a read is answered.
 *
 * The contract:
 *  - The caller fills in name, size, seed and delay_ms of a struct
 *    fuse_file and calls fuse_file_mount().  The file system is mounted
 *    on a fresh directory /tmp/NAME.XXXXXX with NAME as its source (the
 *    cases' cleanup finds a mount left behind by that name); the file is
 *    path, DIR/f, size bytes long, byte OFF of it is msg_byte(seed, OFF).
 *  - Every FUSE_READ is counted when it comes (fuse_file_reads()).  With
 *    delay_ms >= 0 it is answered after delay_ms, one at a time, and
 *    counted again once answered (fuse_file_answered()); with delay_ms < 0
 *    it is never answered, and whoever reads the page waits until the
 *    connection ends.  The other requests are answered at once.
 *  - fuse_file_abort() ends the connection through fusectl (mounted on
 *    /sys/fs/fuse/connections by the case): waiting reads fail, and so
 *    does every request after.  It only writes a file, so a watchdog or
 *    an error path may call it at any time, also before or without a
 *    mount (it returns -1 then).
 *  - fuse_file_unmount() detaches the mount, ends the daemon and removes
 *    the directory; the caller has closed and unmapped the file first.
 *  - On failure fuse_file_mount() leaves what it set up: the caller is to
 *    end the process, which ends the connection with the device's last
 *    reference, and the case's cleanup detaches the mount.
 */
#ifndef SROCE_TEST_FUSE_FILE_H
#define SROCE_TEST_FUSE_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <linux/fuse.h>

#include "common.h"

#define FUSE_FILE_NODE		2	/* the file's node; the root's is 1 */
#define FUSE_FILE_REQ_BUF	(256 * 1024)	/* > max_write + headers */

struct fuse_file {
	/* Set by the caller before fuse_file_mount(). */
	const char *name;	/* the mount's source, "sroce-..." */
	uint64_t size;		/* the file's length in bytes */
	unsigned int seed;	/* its contents: msg_byte(seed, offset) */
	int delay_ms;		/* a read's answer waits this; < 0: never */

	/* Set by fuse_file_mount(). */
	char dir[64];		/* the mount point */
	char path[80];		/* the file */
	char abort_path[80];	/* fusectl's abort file of the connection */
	unsigned int kernel_minor;	/* protocol 7.N the kernel offered */
	unsigned int reply_minor;	/* and 7.N the daemon answered */

	/* The daemon's; the counters through the accessors below. */
	int dev_fd;
	pthread_t thread;
	uint8_t *req;		/* FUSE_FILE_REQ_BUF bytes, one request */
	uint8_t *data;		/* size bytes, a FUSE_READ's answer */
	int reads;
	int answered;
};

/* FUSE_READs that came so far. */
static inline int fuse_file_reads(struct fuse_file *ff)
{
	return __atomic_load_n(&ff->reads, __ATOMIC_SEQ_CST);
}

/* FUSE_READs answered so far. */
static inline int fuse_file_answered(struct fuse_file *ff)
{
	return __atomic_load_n(&ff->answered, __ATOMIC_SEQ_CST);
}

/* End the connection: write 1 to its fusectl abort file.  0 or -1. */
static inline int fuse_file_abort(struct fuse_file *ff)
{
	int fd, ok;

	if (!ff->abort_path[0])
		return -1;
	fd = open(ff->abort_path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, "1", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

static inline void fuse_file_reply(struct fuse_file *ff, uint64_t unique,
				   int error, const void *arg, size_t len)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh) + len,
		.error = error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ &oh, sizeof(oh) },
		{ (void *)arg, len },
	};

	/* ENOENT: the request was interrupted meanwhile; nothing to do. */
	if (writev(ff->dev_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		printf("note: FUSE reply to %llu: %s\n",
		       (unsigned long long)unique, strerror(errno));
}

static inline void fuse_file_attr(struct fuse_file *ff, uint64_t node,
				  struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->blksize = 4096;
	if (node == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0644;
		a->nlink = 1;
		a->size = ff->size;
		a->blocks = (ff->size + 511) / 512;
	}
}

static inline void fuse_file_init(struct fuse_file *ff,
				  const struct fuse_in_header *h,
				  const struct fuse_init_in *in)
{
	struct fuse_init_out out = {
		.major = FUSE_KERNEL_VERSION,
		.max_readahead = 0,	/* a page a read, by read_folio */
		.max_background = 4,
		.congestion_threshold = 3,
		.max_write = 64 * 1024,
		.time_gran = 1,
	};
	size_t len = sizeof(out);

	ff->kernel_minor = in->minor;
	if (in->major != FUSE_KERNEL_VERSION) {
		fuse_file_reply(ff, h->unique, -EPROTO, NULL, 0);
		return;
	}
	ff->reply_minor = in->minor < FUSE_KERNEL_MINOR_VERSION ?
			  in->minor : FUSE_KERNEL_MINOR_VERSION;
	out.minor = ff->reply_minor;
	if (ff->reply_minor < 23)
		len = FUSE_COMPAT_22_INIT_OUT_SIZE;
	fuse_file_reply(ff, h->unique, 0, &out, len);
}

/* FUSE_READ: counted; the file's contents after delay_ms, or never. */
static inline void fuse_file_read(struct fuse_file *ff,
				  const struct fuse_in_header *h,
				  const struct fuse_read_in *in)
{
	struct timespec delay = { ff->delay_ms / 1000,
				  (ff->delay_ms % 1000) * 1000000L };
	uint64_t off = in->offset, len = in->size, i;

	__atomic_add_fetch(&ff->reads, 1, __ATOMIC_SEQ_CST);
	if (ff->delay_ms < 0)
		return;		/* whoever reads waits */
	if (off > ff->size)
		off = ff->size;
	if (len > ff->size - off)
		len = ff->size - off;
	for (i = 0; i < len; i++)
		ff->data[i] = msg_byte(ff->seed, off + i);
	nanosleep(&delay, NULL);
	fuse_file_reply(ff, h->unique, 0, ff->data, len);
	__atomic_add_fetch(&ff->answered, 1, __ATOMIC_SEQ_CST);
}

/* The daemon, until the connection ends (aborted or unmounted). */
static inline void *fuse_file_serve(void *arg)
{
	struct fuse_file *ff = arg;
	struct fuse_in_header *h = (struct fuse_in_header *)ff->req;
	void *body = ff->req + sizeof(*h);
	struct fuse_entry_out entry;
	struct fuse_attr_out attr;
	struct fuse_open_out open_out;
	ssize_t n;

	for (;;) {
		n = read(ff->dev_fd, ff->req, FUSE_FILE_REQ_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == ENOENT))
			continue;
		if (n < (ssize_t)sizeof(*h))
			break;		/* ENODEV once it ended */
		switch (h->opcode) {
		case FUSE_INIT:
			fuse_file_init(ff, h, body);
			break;
		case FUSE_LOOKUP:
			if (h->nodeid != FUSE_ROOT_ID || strcmp(body, "f")) {
				fuse_file_reply(ff, h->unique, -ENOENT,
						NULL, 0);
				break;
			}
			memset(&entry, 0, sizeof(entry));
			entry.nodeid = FUSE_FILE_NODE;
			entry.generation = 1;
			entry.entry_valid = 3600;
			entry.attr_valid = 3600;
			fuse_file_attr(ff, FUSE_FILE_NODE, &entry.attr);
			fuse_file_reply(ff, h->unique, 0, &entry,
					sizeof(entry));
			break;
		case FUSE_GETATTR:
			memset(&attr, 0, sizeof(attr));
			attr.attr_valid = 3600;
			fuse_file_attr(ff, h->nodeid, &attr.attr);
			fuse_file_reply(ff, h->unique, 0, &attr, sizeof(attr));
			break;
		case FUSE_OPEN:
			memset(&open_out, 0, sizeof(open_out));
			open_out.fh = 1;	/* page cache, no direct I/O */
			fuse_file_reply(ff, h->unique, 0, &open_out,
					sizeof(open_out));
			break;
		case FUSE_READ:
			fuse_file_read(ff, h, body);
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_DESTROY:
			fuse_file_reply(ff, h->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;	/* no reply expected (or wanted) */
		default:
			fuse_file_reply(ff, h->unique, -ENOSYS, NULL, 0);
			break;
		}
	}
	return NULL;
}

/*
 * Mount @ff's file system and start its daemon; on return the mount has
 * been stat'ed (so FUSE_INIT is done) and path and abort_path are set.
 * NULL, or the step that failed with errno set.
 */
static inline const char *fuse_file_mount(struct fuse_file *ff)
{
	char opts[128];
	struct stat st;

	ff->req = calloc(1, FUSE_FILE_REQ_BUF);
	ff->data = calloc(1, ff->size ? ff->size : 1);
	if (!ff->req || !ff->data)
		return "calloc";
	ff->dev_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (ff->dev_fd < 0)
		return "open /dev/fuse";
	snprintf(ff->dir, sizeof(ff->dir), "/tmp/%s.XXXXXX", ff->name);
	if (!mkdtemp(ff->dir))
		return "mkdtemp";
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", ff->dev_fd);
	if (mount(ff->name, ff->dir, "fuse", MS_NOSUID | MS_NODEV, opts))
		return "mount -t fuse";
	errno = pthread_create(&ff->thread, NULL, fuse_file_serve, ff);
	if (errno)
		return "pthread_create (the FUSE daemon)";
	if (stat(ff->dir, &st))
		return "stat of the FUSE mount";
	snprintf(ff->abort_path, sizeof(ff->abort_path),
		 "/sys/fs/fuse/connections/%u/abort", minor(st.st_dev));
	snprintf(ff->path, sizeof(ff->path), "%s/f", ff->dir);
	return NULL;
}

/*
 * Detach the mount, close the device and wait for the daemon to end, then
 * remove the directory.  0, or -1 with errno set by the first call that
 * failed (the daemon is waited for all the same).
 */
static inline int fuse_file_unmount(struct fuse_file *ff)
{
	int err = 0;

	if (umount2(ff->dir, MNT_DETACH)) {
		err = errno;
		fuse_file_abort(ff);	/* so that the daemon ends */
	}
	if (close(ff->dev_fd) && !err)
		err = errno;
	pthread_join(ff->thread, NULL);
	if (rmdir(ff->dir) && !err)
		err = errno;
	free(ff->req);
	free(ff->data);
	errno = err;
	return err ? -1 : 0;
}

#endif /* SROCE_TEST_FUSE_FILE_H */
