/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device I/O: the only code in mmpd that touches a device.
 *
 * Linux AIO (libaio) with IOCB_FLAG_RESFD: completions signal an eventfd
 * that a libev watcher reads, so the loop never blocks on a device.
 * Submissions made during one loop iteration are batched into one
 * io_submit() (ev_prepare).  Every request has a deadline timer; a request
 * that misses it is reported as -ETIMEDOUT at once, but its buffer stays
 * owned by the kernel (io_cancel does not work in general) until the real
 * completion arrives, and only then is the request idle again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "mmp-timing.h"

struct mmpd_io;      /* one per process */
struct mmpd_dev;     /* one per volume: anchor fd + dup'd O_DIRECT fd */
struct mmpd_ioreq;   /* one per volume: an aligned buffer and at most one I/O */

enum mmpd_io_op { MMPD_IO_READ, MMPD_IO_WRITE };

/*
 * Completion: @result is the byte count (== len) or a negative errno; a
 * short transfer is reported as -EIO, a missed deadline as -ETIMEDOUT.
 * Called from the loop, exactly once per submit.
 */
typedef void (*mmpd_io_cb)(struct mmpd_ioreq *req, ssize_t result, void *userdata);
/* Called when a timed-out request has finally completed and may be reused. */
typedef void (*mmpd_io_idle_cb)(struct mmpd_ioreq *req, void *userdata);

/* @max_inflight bounds the AIO context (io_setup nr_events). */
int mmpd_io_new(struct ev_loop *loop, unsigned max_inflight, struct mmpd_io **ret);
struct mmpd_io *mmpd_io_free(struct mmpd_io *io);

/*
 * Open @path for MMP I/O.  Block devices: O_RDWR|O_DIRECT|O_EXCL (so the
 * local kernel cannot mount it behind our back), alignment from BLKSSZGET.
 * Regular files: O_RDWR|O_DIRECT when the filesystem allows it, otherwise
 * buffered (images for tests and benchmarks), alignment from statx DIOALIGN
 * or 512.  Keeps the opened fd as the anchor and a dup() for I/O.
 * Errors: -errno from open (EBUSY: someone has it open exclusively, e.g.
 * mounted), -ENOTBLK for anything neither block device nor regular file.
 */
int mmpd_dev_open(const char *path, struct mmpd_dev **ret);

/*
 * Adopt an fd passed in (systemd fd store, SCM_RIGHTS).  The fd is dup'd,
 * the caller keeps its own.  A block device fd must have O_DIRECT in
 * F_GETFL (the seed's rule), otherwise -EBADFD.
 */
int mmpd_dev_adopt(int fd, const char *path, struct mmpd_dev **ret);
struct mmpd_dev *mmpd_dev_free(struct mmpd_dev *dev);

int mmpd_dev_fd(const struct mmpd_dev *dev);          /* the I/O fd */
int mmpd_dev_anchor_fd(const struct mmpd_dev *dev);   /* the fd to store/pass on */
size_t mmpd_dev_align(const struct mmpd_dev *dev);
bool mmpd_dev_is_block(const struct mmpd_dev *dev);
dev_t mmpd_dev_rdev(const struct mmpd_dev *dev);      /* 0 for files */
const char *mmpd_dev_path(const struct mmpd_dev *dev);
uint64_t mmpd_dev_size(const struct mmpd_dev *dev);   /* bytes */

/* A request with an aligned buffer of @size bytes (rounded up to align). */
int mmpd_ioreq_new(struct mmpd_io *io, struct mmpd_dev *dev, size_t size,
                   mmpd_io_cb cb, mmpd_io_idle_cb idle_cb, void *userdata,
                   struct mmpd_ioreq **ret);
/* Frees now if idle; if the kernel still owns the buffer, frees it when the
 * completion arrives (callbacks are not called again).  Returns NULL. */
struct mmpd_ioreq *mmpd_ioreq_free(struct mmpd_ioreq *req);

void *mmpd_ioreq_buf(struct mmpd_ioreq *req);
/* True from submit until the kernel completes it (also after a timeout). */
bool mmpd_ioreq_busy(const struct mmpd_ioreq *req);

/*
 * Queue one read or write of @len bytes at @offset (both multiples of the
 * device alignment; @len <= buffer size) using the request's buffer.
 * @deadline is monotonic (mmpd_now()).  -EBUSY when the request is busy.
 */
int mmpd_ioreq_submit(struct mmpd_ioreq *req, enum mmpd_io_op op,
                      uint64_t offset, size_t len, mmp_usec_t deadline);

/* Duration of the last completed I/O of this request (submit to completion). */
mmp_usec_t mmpd_ioreq_last_duration(const struct mmpd_ioreq *req);

/* Monotonic clock used for every deadline (CLOCK_BOOTTIME: counts suspend,
 * so a paused VM wakes up past its deadlines instead of before them). */
mmp_usec_t mmpd_now(void);
