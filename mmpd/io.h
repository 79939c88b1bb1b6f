/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device I/O: the only code in mmpd that touches a device.
 *
 * Linux AIO (libaio) with IOCB_FLAG_RESFD: completions signal an eventfd
 * that a libev watcher reads, so the loop never blocks on a device.
 * Submissions made during one loop iteration are batched (ev_prepare) and
 * handed to threads of the engine's own, which make the io_submit() calls:
 * io_submit() can sleep, the loop must not.  I/O to O_DIRECT block devices
 * goes with RWF_NOWAIT first, so that a device whose request queue is full
 * holds up only its own requests (io.c, the lanes).  Every request has a
 * deadline timer; a request that misses it is reported as -ETIMEDOUT at
 * once, but its buffer stays owned by the kernel (io_cancel does not work
 * in general) until the real completion arrives, and only then is the
 * request idle again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "mmp-timing.h"

/*
 * libev priorities: in every loop iteration the heartbeat path (device I/O
 * completions and deadlines, volume timers, fencing) is served before the
 * control plane (client connections), whatever the clients send
 * (docs/control-plane.md).
 */
#define MMPD_PRIO_HEARTBEAT   EV_MAXPRI
#define MMPD_PRIO_CONTROL     EV_MINPRI

struct mmpd_io;      /* one per process */
struct mmpd_dev;     /* one per volume: anchor fd + dup'd O_DIRECT fd */
struct mmpd_ioreq;   /* one per volume: an aligned buffer and at most one I/O */

enum mmpd_io_op { MMPD_IO_READ, MMPD_IO_WRITE };

/*
 * Completion: @result is the byte count (== len) or a negative errno; a
 * short transfer is reported as -EIO, a missed deadline as -ETIMEDOUT.
 * Called from the loop, exactly once per submit.  Except after -ETIMEDOUT
 * the request is idle again when @cb runs, so @cb may resubmit it.
 * Whichever of completion and deadline the loop sees first wins; an I/O
 * that completed by its deadline but is reaped in the same loop iteration
 * as the deadline fires is reported as completed.
 */
typedef void (*mmpd_io_cb)(struct mmpd_ioreq *req, ssize_t result, void *userdata);
/*
 * Called when a timed-out request has finally completed and may be reused:
 * once after every -ETIMEDOUT (at once if the I/O never reached the kernel,
 * e.g. it was still waiting for a free slot).  May be NULL.
 */
typedef void (*mmpd_io_idle_cb)(struct mmpd_ioreq *req, void *userdata);

/*
 * @max_inflight bounds how many I/Os are in the kernel at once; further
 * ones wait in the queue (their deadline runs).  AIO slots (io_setup
 * nr_events, counted against the system-wide fs.aio-max-nr) are reserved
 * as they are needed: 64 at first, doubling up to @max_inflight, never
 * given back.  A timed-out I/O keeps its slot until the kernel lets go of
 * it, so size @max_inflight to the number of requests (one per volume) and
 * a stuck device cannot starve the others.
 *
 * The engine's own watchers do not keep ev_run() going; busy requests do.
 */
int mmpd_io_new(struct ev_loop *loop, unsigned max_inflight, struct mmpd_io **ret);
/*
 * Not from inside one of the engine's callbacks.  No callback runs after
 * this.  Requests not yet freed are freed with the engine.  If the kernel
 * still owns some buffers (I/O stuck on a device), those requests, their
 * devices and the AIO context are left allocated on purpose: io_destroy()
 * would block until the device answers, and the kernel may still write
 * into the buffers.  Process exit reclaims them.
 */
struct mmpd_io *mmpd_io_free(struct mmpd_io *io);

/* Counters for tests, benchmarks and status output. */
struct mmpd_io_stats {
        uint64_t submit_calls;    /* io_submit() system calls */
        uint64_t submitted;       /* iocbs the kernel accepted */
        uint64_t completed;       /* completions reaped (late ones included) */
        uint64_t timeouts;        /* -ETIMEDOUT reported */
        uint64_t late;            /* completions that arrived after -ETIMEDOUT */
        uint64_t submit_errors;   /* requests io_submit() refused (cb got the errno) */
        uint64_t eagain;          /* io_submit() -EAGAIN, retried */
        uint64_t punted;          /* RWF_NOWAIT I/O that would have waited, sent again on a blocking lane */
        uint64_t nowait_refused;  /* RWF_NOWAIT refused by a device, sent again without it */
        unsigned queued;          /* waiting to be handed to io_submit() now */
        unsigned aio_slots;       /* AIO events reserved (io_setup), grown on demand */
        unsigned inflight;        /* the kernel's or the submitter's now (timed-out ones included) */
};
void mmpd_io_get_stats(const struct mmpd_io *io, struct mmpd_io_stats *ret);

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
/* @exclusive false: no O_EXCL, so the filesystem may be mounted meanwhile. */
int mmpd_dev_open_ex(const char *path, bool exclusive, struct mmpd_dev **ret);

/*
 * Adopt an fd passed in (systemd fd store, SCM_RIGHTS).  The fd is dup'd,
 * the caller keeps its own.  It must be open O_RDWR (else -EBADF); a block
 * device fd must have O_DIRECT in F_GETFL (the seed's rule), otherwise
 * -EBADFD; anything neither block device nor regular file is -ENOTBLK.  @path (required) is only kept for
 * mmpd_dev_path().  Only positioned I/O is used: the dups share the file
 * offset with the caller's fd.
 */
int mmpd_dev_adopt(int fd, const char *path, struct mmpd_dev **ret);
/*
 * Reopen a block device with or without O_EXCL, in place: the new open
 * file replaces the old one under the same fd numbers (dup3), so queued
 * and in-flight I/O are unaffected (the kernel holds its own reference to
 * the old file until they complete).  A local user (mount, e2fsck) needs
 * the device free of O_EXCL openers; mmpd keeps watching through the
 * shared fd.  Other dups of the old file (the fd store, a ClaimFd
 * caller's own fd) keep whatever they had.  No-op for regular files.
 * -EBUSY: someone else holds it exclusively (still mounted).
 */
int mmpd_dev_set_exclusive(struct mmpd_dev *dev, bool exclusive);
bool mmpd_dev_is_exclusive(const struct mmpd_dev *dev);
/*
 * A new fd on the same device for others to keep (the systemd fd store):
 * O_RDWR|O_DIRECT without O_EXCL for a block device, so that the copy kept
 * elsewhere never holds the exclusive claim a local user (mount) needs at
 * a handoff; a dup for a file.  The caller closes it.  -errno on failure.
 */
int mmpd_dev_open_shared(const struct mmpd_dev *dev);

/*
 * Drops the caller's reference.  Requests made on @dev keep its fds open
 * until they are freed themselves, so a queued I/O can never reach a
 * reused fd number.
 */
struct mmpd_dev *mmpd_dev_free(struct mmpd_dev *dev);

int mmpd_dev_fd(const struct mmpd_dev *dev);          /* the I/O fd */
int mmpd_dev_anchor_fd(const struct mmpd_dev *dev);   /* the fd to store/pass on */
size_t mmpd_dev_align(const struct mmpd_dev *dev);
bool mmpd_dev_is_block(const struct mmpd_dev *dev);
dev_t mmpd_dev_rdev(const struct mmpd_dev *dev);      /* 0 for files */
/* Is @st (from stat/fstat) this device: the same block device, or the same
 * file (one image reached by two paths, or a passed fd)? */
struct stat;
bool mmpd_dev_is(const struct mmpd_dev *dev, const struct stat *st);
/* A hash of what mmpd_dev_is() compares: equal for a device and the stat
 * of any path to it (a block device's rdev, a file's dev and inode). */
uint64_t mmpd_dev_key(const struct mmpd_dev *dev);
uint64_t mmpd_dev_stat_key(const struct stat *st);
const char *mmpd_dev_path(const struct mmpd_dev *dev);
uint64_t mmpd_dev_size(const struct mmpd_dev *dev);   /* bytes */
bool mmpd_dev_is_direct(const struct mmpd_dev *dev);   /* false: buffered image file */

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
 * @deadline is monotonic (mmpd_now()); MMP_USEC_INFINITY for none.
 * -EBUSY when the request is busy, -EINVAL for a bad length, offset or op.
 * Never calls a callback itself: errors from io_submit() arrive through
 * @cb from the loop.
 */
int mmpd_ioreq_submit(struct mmpd_ioreq *req, enum mmpd_io_op op,
                      uint64_t offset, size_t len, mmp_usec_t deadline);

/* Duration of the last completed I/O of this request (submit to completion). */
mmp_usec_t mmpd_ioreq_last_duration(const struct mmpd_ioreq *req);

/* Monotonic clock used for every deadline (CLOCK_BOOTTIME: counts suspend,
 * so a paused VM wakes up past its deadlines instead of before them). */
mmp_usec_t mmpd_now(void);
