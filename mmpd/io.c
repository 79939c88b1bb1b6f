/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device I/O engine; the contract is in io.h, opening devices in io-dev.c.
 *
 * Life of a request:
 *
 *   IDLE --submit()--> QUEUED --handed to a submitter--> KERNEL --completion--> IDLE, cb(result)
 *   KERNEL --completion -EAGAIN of an RWF_NOWAIT I/O--> QUEUED (for a blocking lane)
 *   KERNEL --io_submit() refused it--> DISPATCH --> IDLE, cb(-errno)
 *   KERNEL --io_submit() said EAGAIN, or refused one before it--> QUEUED (again, at the head)
 *   KERNEL --deadline--> TIMED_OUT, cb(-ETIMEDOUT) --completion, or not taken--> IDLE, idle_cb()
 *   QUEUED --deadline--> DISPATCH, cb(-ETIMEDOUT) --> IDLE, idle_cb()
 *
 * mmpd_ioreq_free() destroys an IDLE or QUEUED request at once (the kernel
 * never saw its buffer) and only marks the others: their completion, or the
 * end of their dispatch, destroys them.  Like sanlock's diskio.c we never
 * rely on io_cancel(): a buffer the kernel owns is left alone until the
 * kernel returns it.
 *
 * Deadlines are BOOTTIME timers (timer.h), in the engine's own heap and
 * timerfd: libev's ev_timer runs on CLOCK_MONOTONIC, which stops during
 * suspend, so per-request ev_timers would fire late by however long the
 * machine slept.  The room for every request's deadline is reserved when
 * the request is made, so a submit never fails for memory.  When the
 * timerfd fires, completions are reaped first (an I/O that completed in
 * time is not reported late because its eventfd wakeup comes later).
 *
 * io_submit() runs on threads of the engine's own, the submitters, not on
 * the loop.  It may sleep: when a block device's request queue is full
 * (tag allocation: a device that hangs with the file system's I/O in its
 * queue, or one merely saturated), when ext4 allocates blocks for an
 * O_DIRECT write into a hole or its filesystem is frozen, and for
 * buffered image files, whose I/O happens inside io_submit().  Then only
 * a submitter waits: the loop goes on serving deadlines, completions and
 * clients, and a request stuck there reaches its deadline as one stuck in
 * the kernel does (-ETIMEDOUT, and the volume's state machine goes on to
 * retry or fence).
 *
 * Submitters work in lanes, each with one batch out at a time.  All I/O
 * starts on the first lane.  Its I/O to O_DIRECT block devices carries
 * RWF_NOWAIT: where the kernel would sleep for a request slot, the request
 * completes with -EAGAIN instead, and is queued again for the blocking
 * lanes, which submit it without the flag and may sleep for a slot as
 * io_submit() always did.  There are BLOCKING_LANES of them, each with one
 * request at a time, so up to that many devices that hang with a full
 * queue hold up only their own requests: the other volumes' heartbeats go
 * on, and so do those of devices that are merely busy (theirs wait for a
 * slot, briefly).  Beyond that, punted requests wait for a blocking lane
 * (and their deadlines run).  A device that refuses the flag
 * (-EOPNOTSUPP) gets its I/O without it from then on.  Image files get no
 * RWF_NOWAIT (ext4 answers -EAGAIN to every write that changes the file's
 * mtime, and a frozen file system blocks io_submit() before the flag is
 * looked at), so a frozen one still holds up the first lane's batch.
 * io_submit() is also most of a heartbeat's CPU
 * (the kernel's direct-I/O path), which the loop no longer spends while
 * clients wait: at 10,000 volumes a grid point's submissions held it for
 * milliseconds.  From the loop's view a request handed over is already
 * the kernel's (KERNEL: counted in flight, freed and timed out as such);
 * one the kernel did not take comes back with the batch's result, and
 * goes on as it would have after a synchronous io_submit().
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/param.h>          /* MAX */
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <libaio.h>
#include <linux/fs.h>           /* RWF_NOWAIT */

#include "macro.h"
#include "io.h"
#include "io-internal.h"
#include "mmp-names.h"
#include "timer.h"

#define REAP_BATCH        64
#define EAGAIN_BACKOFF_S  0.001

enum req_state {
        REQ_IDLE,
        REQ_QUEUED,             /* waiting for io_submit() */
        REQ_KERNEL,             /* the kernel owns the buffer */
        REQ_TIMED_OUT,          /* as KERNEL, and cb already had -ETIMEDOUT */
        REQ_DISPATCH,           /* out of the kernel, its cb is due or running */
};

struct mmpd_ioreq {
        struct iocb iocb;
        struct mmpd_io *io;
        struct mmpd_dev *dev;
        void *buf;
        size_t size;
        size_t len;             /* of the current I/O */
        mmpd_io_cb cb;
        mmpd_io_idle_cb idle_cb;
        void *userdata;
        enum req_state state;
        bool free_pending;      /* freed by the caller while busy */
        ssize_t result;         /* io_submit()'s errno waiting for dispatch; 0: none (idle_cb only) */
        mmp_usec_t deadline;
        mmp_usec_t started;
        mmp_usec_t last_duration;
        struct mmpd_timer dl;   /* the deadline, while one is pending */
        unsigned ctx_idx;       /* the context it was submitted to */
        unsigned q;             /* the queue it is on, or was handed over from */
        TAILQ_ENTRY(mmpd_ioreq) queue;  /* io->queues[q], or a dispatch list */
        LIST_ENTRY(mmpd_ioreq) all;
};

TAILQ_HEAD(req_queue, mmpd_ioreq);

/*
 * AIO contexts, grown on demand: io_setup() reserves its nr_events against
 * the system-wide fs.aio-max-nr (65,536 by default) at once, so reserving
 * max_volumes up front let only six mmpds start.  The first context has
 * IO_CTX_FIRST slots; when every slot is in use and more I/O waits, a new
 * context as large as all before it together is added (doubling), up to
 * max_inflight.  A context is never shrunk: a stuck device keeps its slot.
 */
#define IO_CTX_FIRST 64u
#define IO_CTX_MAX   32

struct io_ctx {
        io_context_t ctx;
        unsigned cap;
        unsigned inflight;
};

/*
 * Shared by the loop and the submitter thread, under the lock.  Reference
 * counted (the engine's and the thread's) because a thread stuck in
 * io_submit() may outlive mmpd_io_free().  While busy, the batch (segs,
 * iocbs) is the thread's; the loop reads it again only once finished.
 */
struct batch_seg {
        io_context_t ctx;
        long n;
};

struct submitter {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int efd;                /* the thread's "finished" for the loop */
        unsigned refs;
        bool dead;              /* the engine is gone: exit */
        bool busy;              /* a batch is handed over (loop sets, loop clears) */
        bool ready;             /* ... and not yet started */
        bool finished;          /* ... and its result is in */
        struct batch_seg segs[IO_CTX_MAX];
        unsigned n_segs;
        long n;                 /* iocbs in all segments */
        struct iocb **iocbs;    /* max_inflight slots, segments one after another */
        long taken;             /* result: iocbs[0..taken) are the kernel's */
        int err;                /* result: why iocbs[taken] was not (-EAGAIN: later) */
        unsigned calls;         /* result: io_submit() calls made */
};

enum {
        Q_NOWAIT,               /* everything first; RWF_NOWAIT where it works */
        Q_BLOCKING,             /* what would have slept there, without it */
        N_QUEUES,
};

#define BLOCKING_LANES 3
#define N_LANES (1 + BLOCKING_LANES)

struct lane {
        struct mmpd_io *io;
        unsigned q;             /* the queue it takes from */
        struct submitter *sub;
        pthread_t tid;
        ev_io watcher;          /* sub->efd: a batch finished */
};

struct mmpd_io {
        struct ev_loop *loop;
        struct io_ctx ctxs[IO_CTX_MAX];
        unsigned n_ctxs;
        unsigned capacity;      /* slots in all contexts */
        bool grow_failed;       /* the last io_setup() for more slots failed */
        unsigned max_inflight;
        unsigned active;        /* busy, not free_pending: they hold a loop ref */
        bool eagain;            /* the last io_submit() said -EAGAIN */
        bool closing;           /* in mmpd_io_free(): no more callbacks */
        int efd;                /* completions (IOCB_FLAG_RESFD) */
        struct mmpd_timers *deadlines;
        ev_io efd_watcher;
        ev_prepare prepare;     /* flushes the queue once per loop iteration */
        ev_idle again;          /* keeps the loop from blocking on a non-empty queue */
        ev_timer backoff;       /* retry after -EAGAIN */
        struct req_queue queues[N_QUEUES];
        struct lane lanes[N_LANES];     /* [0] takes Q_NOWAIT, the others Q_BLOCKING */
        LIST_HEAD(, mmpd_ioreq) reqs;
        size_t n_reqs;
        struct mmpd_io_stats stats;
};

mmp_usec_t mmpd_now(void)
{
        return mmp_boottime_usec();
}

/* ---- requests ---------------------------------------------------------- */

static void active_inc(struct mmpd_io *io)
{
        if (io->active++ == 0)
                ev_ref(io->loop);
}

static void active_dec(struct mmpd_io *io)
{
        if (--io->active == 0)
                ev_unref(io->loop);
}

static void req_set_idle(struct mmpd_ioreq *r)
{
        r->state = REQ_IDLE;
        active_dec(r->io);
}

static void req_destroy(struct mmpd_ioreq *r)
{
        LIST_REMOVE(r, all);
        r->io->n_reqs--;
        free(r->buf);
        mmpd_dev_unref(r->dev);
        free(r);
}

static void queue_remove(struct mmpd_io *io, struct mmpd_ioreq *r)
{
        TAILQ_REMOVE(&io->queues[r->q], r, queue);
        io->stats.queued--;
}

static void queue_append(struct mmpd_io *io, struct mmpd_ioreq *r, unsigned q)
{
        r->state = REQ_QUEUED;
        r->q = q;
        TAILQ_INSERT_TAIL(&io->queues[q], r, queue);
        io->stats.queued++;
}

static void on_deadline(struct mmpd_timer *t, void *userdata);

int mmpd_ioreq_new(struct mmpd_io *io, struct mmpd_dev *dev, size_t size,
                   mmpd_io_cb cb, mmpd_io_idle_cb idle_cb, void *userdata,
                   struct mmpd_ioreq **ret)
{
        _cleanup_free_ struct mmpd_ioreq *r = NULL;
        size_t align;
        int k;

        if (!io || !dev || !cb || !ret || size == 0)
                return -EINVAL;
        align = dev->align;
        if (size > SIZE_MAX - align)
                return -EINVAL;
        size = (size + align - 1) / align * align;

        k = mmpd_timers_reserve(io->deadlines, io->n_reqs + 1);
        if (k < 0)
                return k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        k = posix_memalign(&r->buf, align, size);
        if (k != 0)
                return -k;
        /* Defined bytes: a write of a fresh buffer must not leak heap data. */
        memset(r->buf, 0, size);

        r->io = io;
        r->dev = dev;
        r->size = size;
        r->cb = cb;
        r->idle_cb = idle_cb;
        r->userdata = userdata;
        r->state = REQ_IDLE;
        mmpd_timer_init(&r->dl, on_deadline, r);
        mmpd_dev_ref(dev);
        LIST_INSERT_HEAD(&io->reqs, r, all);
        io->n_reqs++;
        *ret = TAKE_PTR(r);
        return 0;
}

struct mmpd_ioreq *mmpd_ioreq_free(struct mmpd_ioreq *req)
{
        struct mmpd_io *io;

        if (!req || req->free_pending)
                return NULL;
        io = req->io;
        switch (req->state) {
        case REQ_IDLE:
                req_destroy(req);
                break;
        case REQ_QUEUED:
                queue_remove(io, req);
                mmpd_timer_stop(io->deadlines, &req->dl);
                active_dec(io);
                req_destroy(req);
                break;
        case REQ_KERNEL:
        case REQ_TIMED_OUT:
        case REQ_DISPATCH:
                /* The kernel (or a dispatch loop) still holds it. */
                mmpd_timer_stop(io->deadlines, &req->dl);
                req->free_pending = true;
                active_dec(io);
                break;
        }
        return NULL;
}

void *mmpd_ioreq_buf(struct mmpd_ioreq *req) { return req->buf; }
bool mmpd_ioreq_busy(const struct mmpd_ioreq *req) { return req->state != REQ_IDLE; }
mmp_usec_t mmpd_ioreq_last_duration(const struct mmpd_ioreq *req) { return req->last_duration; }

int mmpd_ioreq_submit(struct mmpd_ioreq *req, enum mmpd_io_op op,
                      uint64_t offset, size_t len, mmp_usec_t deadline)
{
        struct mmpd_io *io = req->io;
        struct mmpd_dev *dev = req->dev;

        if (req->state != REQ_IDLE)
                return -EBUSY;
        if (len == 0 || len > req->size || len % dev->align || offset % dev->align ||
            offset > (uint64_t) LLONG_MAX - len)
                return -EINVAL;

        switch (op) {
        case MMPD_IO_READ:
                io_prep_pread(&req->iocb, dev->fd, req->buf, len, (long long) offset);
                break;
        case MMPD_IO_WRITE:
                io_prep_pwrite(&req->iocb, dev->fd, req->buf, len, (long long) offset);
                break;
        default:
                return -EINVAL;
        }
        io_set_eventfd(&req->iocb, io->efd);
        req->iocb.data = req;
        req->len = len;
        req->deadline = deadline;
        req->started = mmpd_now();
        queue_append(io, req, Q_NOWAIT);
        active_inc(io);
        /* Room was reserved by mmpd_ioreq_new(): cannot fail. */
        mmpd_timer_arm(io->deadlines, &req->dl, deadline);
        return 0;
}

/* ---- the loop side ----------------------------------------------------- */

/*
 * An RWF_NOWAIT I/O the kernel would have had to wait for (-EAGAIN) goes
 * again on a blocking lane; one whose device refuses the flag goes again
 * without it, and so does all I/O to that device from now on.  Its deadline
 * runs on.  False: @res is the request's result.
 */
static bool nowait_retry(struct mmpd_io *io, struct mmpd_ioreq *r, long res)
{
        if (!(r->iocb.aio_rw_flags & RWF_NOWAIT) || r->state != REQ_KERNEL || r->free_pending)
                return false;
        if (res == -EAGAIN) {
                io->stats.punted++;
                queue_append(io, r, Q_BLOCKING);
                return true;
        }
        if (res == -EOPNOTSUPP) {
                r->dev->nowait = false;
                io->stats.nowait_refused++;
                queue_append(io, r, Q_NOWAIT);
                return true;
        }
        return false;
}

static void req_complete(struct mmpd_io *io, struct mmpd_ioreq *r, long res, mmp_usec_t now)
{
        ssize_t result;

        io->stats.inflight--;
        io->ctxs[r->ctx_idx].inflight--;
        io->stats.completed++;
        if (nowait_retry(io, r, res))
                return;
        r->last_duration = now > r->started ? now - r->started : 0;
        if (r->state == REQ_TIMED_OUT)
                io->stats.late++;

        if (r->free_pending) {
                req_destroy(r);
                return;
        }
        if (r->state == REQ_TIMED_OUT) {
                req_set_idle(r);
                if (r->idle_cb && !io->closing)
                        r->idle_cb(r, r->userdata);
                return;
        }

        mmpd_timer_stop(io->deadlines, &r->dl);
        if (res < 0)
                result = res;
        else
                result = (size_t) res == r->len ? (ssize_t) res : -EIO;
        req_set_idle(r);
        if (!io->closing)
                r->cb(r, result, r->userdata);
}

/* Never blocks: zero timeout, and libaio checks the ring in user space first. */
static void reap_ctx(struct mmpd_io *io, struct io_ctx *c)
{
        struct io_event ev[REAP_BATCH];

        while (c->inflight > 0) {
                struct timespec zero = {};
                mmp_usec_t now;
                int n;

                n = io_getevents(c->ctx, 0, REAP_BATCH, ev, &zero);
                if (n == -EINTR)
                        continue;
                if (n <= 0)
                        return;
                now = mmpd_now();
                /* A callback may free or resubmit any request; a freed one
                 * that is in this batch is still busy, so only marked. */
                for (int i = 0; i < n; i++)
                        req_complete(io, ev[i].data, (long) ev[i].res, now);
                if (n < REAP_BATCH)
                        return;
        }
}

static void reap(struct mmpd_io *io)
{
        /* All contexts signal the one eventfd. */
        for (unsigned i = 0; i < io->n_ctxs; i++)
                reap_ctx(io, &io->ctxs[i]);
}

/* One more context, as large as all before it (0, or -errno from io_setup). */
static int ctx_grow(struct mmpd_io *io)
{
        unsigned want = io->stats.inflight + io->stats.queued;
        unsigned cap = io->capacity ? io->capacity : IO_CTX_FIRST;
        struct io_ctx *c;
        int r;

        if (io->n_ctxs == IO_CTX_MAX || io->capacity >= io->max_inflight)
                return -ENOSPC;
        /* At least double; enough for all that waits now, so that one
         * batch needs one io_submit() per context, few contexts in all. */
        if (want > io->capacity && want - io->capacity > cap)
                cap = want - io->capacity;
        if (cap > io->max_inflight - io->capacity)
                cap = io->max_inflight - io->capacity;
        c = &io->ctxs[io->n_ctxs];
        memset(c, 0, sizeof(*c));
        r = io_setup((int) cap, &c->ctx);       /* libaio returns -errno */
        if (r < 0)
                return r;
        c->cap = cap;
        io->n_ctxs++;
        io->capacity += cap;
        io->stats.aio_slots = io->capacity;
        return 0;
}

/* A context with a free slot, growing if every one is full; NULL if none. */
static struct io_ctx *ctx_with_room(struct mmpd_io *io)
{
        for (unsigned i = 0; i < io->n_ctxs; i++)
                if (io->ctxs[i].inflight < io->ctxs[i].cap)
                        return &io->ctxs[i];
        if (io->grow_failed || ctx_grow(io) < 0) {
                io->grow_failed = true;         /* tried again once a slot frees */
                return NULL;
        }
        return &io->ctxs[io->n_ctxs - 1];
}

static void efd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct mmpd_io *io = w->data;
        uint64_t count;
        ssize_t n;

        n = read(io->efd, &count, sizeof(count));       /* EAGAIN is fine */
        (void) n;
        reap(io);
}

static void req_timeout(struct mmpd_io *io, struct mmpd_ioreq *r)
{
        io->stats.timeouts++;
        if (r->state == REQ_KERNEL) {
                r->state = REQ_TIMED_OUT;
                r->cb(r, -ETIMEDOUT, r->userdata);      /* may free r: deferred */
                return;
        }

        /* Still queued: the kernel never saw it, so it is reusable at once,
         * but only after the caller has heard of the timeout. */
        queue_remove(io, r);
        r->state = REQ_DISPATCH;
        r->cb(r, -ETIMEDOUT, r->userdata);
        if (r->free_pending) {
                req_destroy(r);
                return;
        }
        req_set_idle(r);
        if (r->idle_cb)
                r->idle_cb(r, r->userdata);
}

static void on_deadline(struct mmpd_timer *t, void *userdata)
{
        struct mmpd_ioreq *r = userdata;

        req_timeout(r->io, r);
}

/* The deadline timerfd fired: first take what completed in time. */
static void before_deadlines(void *userdata)
{
        reap(userdata);
}

/* ---- the submitter ---------------------------------------------------- */

#define SUBMITTER_STACK (64u * 1024u)

static void submitter_unref_locked(struct submitter *s, bool *ret_last)
{
        *ret_last = --s->refs == 0;
}

static void submitter_destroy(struct submitter *s)
{
        if (s->efd >= 0)
                close(s->efd);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s->iocbs);
        free(s);
}

/*
 * Each segment's iocbs with as few io_submit() calls as the kernel allows.
 * A short count means iocbs[k] was not taken; calling again tells why: an
 * errno belongs to that iocb alone (it stops the batch there, as the loop
 * reports it before the rest goes again), -EAGAIN or 0 mean "later".
 */
static void submit_batch(struct submitter *s)
{
        long done = 0;

        s->calls = 0;
        s->err = 0;
        for (unsigned i = 0; i < s->n_segs; i++) {
                long end = done + s->segs[i].n;

                while (done < end) {
                        long k;

                        s->calls++;
                        k = io_submit(s->segs[i].ctx, end - done, s->iocbs + done);
                        if (k > 0) {
                                done += k;
                                continue;
                        }
                        if (k == -EINTR)
                                continue;
                        s->err = k == 0 ? -EAGAIN : (int) k;
                        s->taken = done;
                        return;
                }
        }
        s->taken = done;
}

static void *submitter_thread(void *p)
{
        struct submitter *s = p;
        bool last;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                while (!s->ready && !s->dead)
                        pthread_cond_wait(&s->cond, &s->lock);
                if (s->dead)
                        break;          /* a batch not started stays unsubmitted */
                s->ready = false;
                pthread_mutex_unlock(&s->lock);
                submit_batch(s);
                pthread_mutex_lock(&s->lock);
                s->finished = true;
                /* under the lock: once it is dropped the loop may free s */
                if (!s->dead)
                        (void) eventfd_write(s->efd, 1);
        }
        submitter_unref_locked(s, &last);
        pthread_mutex_unlock(&s->lock);
        if (last)
                submitter_destroy(s);
        return NULL;
}

static int submitter_new(unsigned max_inflight, struct submitter **ret, pthread_t *ret_tid)
{
        struct submitter *s = calloc(1, sizeof(*s));
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t tid;
        int r;

        if (!s)
                return -ENOMEM;
        s->efd = -1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->iocbs = calloc(max_inflight, sizeof(*s->iocbs));
        if (!s->iocbs) {
                submitter_destroy(s);
                return -ENOMEM;
        }
        s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->efd < 0) {
                r = -errno;
                submitter_destroy(s);
                return r;
        }
        s->refs = 2;
        /* Signals stay with the loop's thread. */
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, SUBMITTER_STACK);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&tid, &attr, submitter_thread, s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                submitter_destroy(s);
                return r;
        }
        *ret = s;
        *ret_tid = tid;
        return 0;
}

/*
 * The engine is going: an idle thread exits now and is joined; one inside
 * io_submit() (a batch not finished) is left to finish it and exit on its
 * own, since a device may keep it there indefinitely.
 */
static void submitter_release(struct submitter *s, pthread_t tid)
{
        bool last, asleep;

        pthread_mutex_lock(&s->lock);
        s->dead = true;
        asleep = s->busy && !s->finished && !s->ready;
        pthread_cond_signal(&s->cond);
        submitter_unref_locked(s, &last);
        pthread_mutex_unlock(&s->lock);
        if (asleep)
                pthread_detach(tid);
        else
                pthread_join(tid, NULL);
        if (last)
                submitter_destroy(s);
}

/*
 * Hand everything on @l's queue to its submitter, as far as max_inflight
 * and the contexts allow, in one batch (a blocking lane: one request, which
 * may sleep, so that it holds up no other); nothing while a batch is out
 * (its result flushes again) or while backing off after -EAGAIN.  The
 * requests count as the kernel's from here on.
 */
static void flush(struct mmpd_io *io, struct lane *l)
{
        struct req_queue *queue = &io->queues[l->q];
        struct submitter *s = l->sub;
        long max = l->q == Q_BLOCKING ? 1 : LONG_MAX;
        unsigned n_segs = 0;
        long n = 0;

        if (s->busy || ev_is_active(&io->backoff))
                return;
        while (!TAILQ_EMPTY(queue) && n < max && io->stats.inflight < io->max_inflight &&
               n_segs < IO_CTX_MAX) {
                struct io_ctx *c = ctx_with_room(io);
                unsigned idx, room, k = 0;
                struct mmpd_ioreq *r;

                if (!c) {
                        /* fs.aio-max-nr reached: the queue waits (deadlines run). */
                        io->stats.eagain++;
                        io->eagain = true;
                        break;
                }
                idx = (unsigned) (c - io->ctxs);
                room = c->cap - c->inflight;
                while (k < room && n + k < max && (r = TAILQ_FIRST(queue))) {
                        queue_remove(io, r);
                        r->state = REQ_KERNEL;
                        r->ctx_idx = idx;
                        r->iocb.aio_rw_flags = l->q == Q_NOWAIT && r->dev->nowait ? RWF_NOWAIT : 0;
                        s->iocbs[n + k++] = &r->iocb;
                }
                c->inflight += k;
                io->stats.inflight += k;
                io->stats.submitted += k;       /* so never fewer than completed */
                s->segs[n_segs++] = (struct batch_seg) { .ctx = c->ctx, .n = k };
                n += k;
        }
        if (n == 0)
                return;

        pthread_mutex_lock(&s->lock);
        s->n_segs = n_segs;
        s->n = n;
        s->busy = s->ready = true;
        s->finished = false;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

/*
 * A batch's result: what the kernel did not take comes back.  The first
 * one refused with an errno gets it through its callback (unless it is an
 * RWF_NOWAIT one to retry, see nowait_retry()); the rest queue again in
 * their order, ahead of what was queued since.  Completions of the taken
 * ones may have been reaped already: they are not looked at.
 */
static void batch_done(struct mmpd_io *io, struct lane *l)
{
        struct submitter *s = l->sub;
        struct req_queue back = TAILQ_HEAD_INITIALIZER(back);
        struct mmpd_ioreq *r;
        long n, taken;
        int err;

        pthread_mutex_lock(&s->lock);
        if (!s->busy || !s->finished) {
                pthread_mutex_unlock(&s->lock);
                return;
        }
        n = s->n;
        taken = s->taken;
        err = s->err;
        io->stats.submit_calls += s->calls;
        s->busy = s->finished = false;
        pthread_mutex_unlock(&s->lock);

        io->stats.submitted -= (uint64_t) (n - taken);        /* counted when handed over */
        /* Refused for RWF_NOWAIT: it goes again (nowait_retry()), and the
         * rest queue again as after any refusal, with no backoff. */
        if (taken < n && (err == -EAGAIN || err == -EOPNOTSUPP)) {
                r = s->iocbs[taken]->data;
                if (nowait_retry(io, r, err)) {
                        io->ctxs[r->ctx_idx].inflight--;
                        io->stats.inflight--;
                        taken++;
                        err = 0;
                }
        }
        if (taken < n && err == -EAGAIN) {
                io->stats.eagain++;
                io->eagain = true;
                if (!io->closing)
                        ev_timer_start(io->loop, &io->backoff);
        }
        for (long i = n - 1; i >= taken; i--) {
                r = s->iocbs[i]->data;
                io->ctxs[r->ctx_idx].inflight--;
                io->stats.inflight--;
                if (r->free_pending) {
                        req_destroy(r);         /* its deadline went with the free */
                } else if (r->state == REQ_TIMED_OUT) {
                        r->state = REQ_DISPATCH;
                        r->result = 0;          /* cb had -ETIMEDOUT: idle_cb only */
                        TAILQ_INSERT_HEAD(&back, r, queue);
                } else if (i == taken && err < 0 && err != -EAGAIN) {
                        mmpd_timer_stop(io->deadlines, &r->dl);
                        r->state = REQ_DISPATCH;
                        r->result = err;
                        io->stats.submit_errors++;
                        TAILQ_INSERT_HEAD(&back, r, queue);
                } else {
                        r->state = REQ_QUEUED;  /* its deadline still runs */
                        TAILQ_INSERT_HEAD(&io->queues[r->q], r, queue);
                        io->stats.queued++;
                }
        }

        /* A callback may free any of them: those are only marked. */
        while ((r = TAILQ_FIRST(&back))) {
                TAILQ_REMOVE(&back, r, queue);
                if (r->free_pending) {
                        req_destroy(r);
                        continue;
                }
                req_set_idle(r);
                if (io->closing)
                        continue;
                if (r->result < 0)
                        r->cb(r, r->result, r->userdata);
                else if (r->idle_cb)
                        r->idle_cb(r, r->userdata);
        }
}

static void sub_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct lane *l = w->data;
        eventfd_t count;

        (void) eventfd_read(l->sub->efd, &count);       /* EAGAIN is fine */
        batch_done(l->io, l);
}

/* Last of the prepare watchers (EV_MINPRI): every callback of this loop
 * iteration has had its chance to queue I/O by now. */
static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct mmpd_io *io = w->data;
        bool more = false;

        if (!ev_is_active(&io->backoff))
                io->eagain = false;     /* flush() says again if it must wait */
        for (unsigned i = 0; i < N_LANES; i++)
                flush(io, &io->lanes[i]);
        /* While a batch is out its result wakes the loop; what was queued
         * meanwhile goes with the next one. */
        for (unsigned i = 0; i < N_LANES; i++) {
                struct lane *l = &io->lanes[i];

                if (!l->sub->busy && !TAILQ_EMPTY(&io->queues[l->q]))
                        more = true;
        }
        if (io->eagain) {
                if (!ev_is_active(&io->backoff))
                        ev_timer_start(loop, &io->backoff);
        } else if (more && io->stats.inflight < io->max_inflight)
                ev_idle_start(loop, &io->again);
}

static void again_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
        ev_idle_stop(loop, w);  /* the next prepare does the work */
}

static void backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct mmpd_io *io = w->data;

        io->grow_failed = false;        /* the next prepare may try io_setup() again */
}

/* ---- the engine -------------------------------------------------------- */

int mmpd_io_new(struct ev_loop *loop, unsigned max_inflight, struct mmpd_io **ret)
{
        struct mmpd_io *io;
        int r;

        if (!loop || !ret || max_inflight == 0 || max_inflight > INT_MAX / 2)
                return -EINVAL;

        io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        io->loop = loop;
        io->max_inflight = max_inflight;
        io->efd = -1;
        for (unsigned i = 0; i < N_QUEUES; i++)
                TAILQ_INIT(&io->queues[i]);
        for (unsigned i = 0; i < N_LANES; i++) {
                io->lanes[i].io = io;
                io->lanes[i].q = i == 0 ? Q_NOWAIT : Q_BLOCKING;
        }
        LIST_INIT(&io->reqs);

        /* The first context now, so that a system out of AIO slots is an
         * error at start; more as volumes come (ctx_grow). */
        r = ctx_grow(io);
        if (r < 0)
                goto fail;
        io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (io->efd < 0) {
                r = -errno;
                goto fail;
        }
        r = mmpd_timers_new(loop, MMPD_PRIO_HEARTBEAT, &io->deadlines);
        if (r < 0)
                goto fail;
        mmpd_timers_set_prepare(io->deadlines, before_deadlines, io);
        for (unsigned i = 0; i < N_LANES; i++) {
                r = submitter_new(i == 0 ? max_inflight : 1, &io->lanes[i].sub, &io->lanes[i].tid);
                if (r < 0)
                        goto fail;
        }

        /* Internal watchers do not keep the loop alive; busy requests do. */
        ev_io_init(&io->efd_watcher, efd_cb, io->efd, EV_READ);
        ev_set_priority(&io->efd_watcher, MMPD_PRIO_HEARTBEAT);
        io->efd_watcher.data = io;
        ev_io_start(loop, &io->efd_watcher);
        ev_unref(loop);
        for (unsigned i = 0; i < N_LANES; i++) {
                struct lane *l = &io->lanes[i];

                ev_io_init(&l->watcher, sub_cb, l->sub->efd, EV_READ);
                ev_set_priority(&l->watcher, MMPD_PRIO_HEARTBEAT);
                l->watcher.data = l;
                ev_io_start(loop, &l->watcher);
                ev_unref(loop);
        }
        ev_prepare_init(&io->prepare, prepare_cb);
        io->prepare.data = io;
        ev_set_priority(&io->prepare, EV_MINPRI);
        ev_prepare_start(loop, &io->prepare);
        ev_unref(loop);
        ev_idle_init(&io->again, again_cb);
        ev_timer_init(&io->backoff, backoff_cb, EAGAIN_BACKOFF_S, 0.);
        io->backoff.data = io;

        *ret = io;
        return 0;

fail:
        for (unsigned i = 0; i < N_LANES; i++)
                if (io->lanes[i].sub)
                        submitter_release(io->lanes[i].sub, io->lanes[i].tid);
        for (unsigned i = 0; i < io->n_ctxs; i++)
                io_destroy(io->ctxs[i].ctx);
        closep(&io->efd);
        mmpd_timers_free(io->deadlines);
        free(io);
        return r;
}

struct mmpd_io *mmpd_io_free(struct mmpd_io *io)
{
        struct mmpd_ioreq *r, *next;
        struct ev_loop *loop;

        if (!io)
                return NULL;
        loop = io->loop;

        /* Take back what the kernel has finished with, silently; a batch
         * still in io_submit() stays the kernel's, like the I/O in flight. */
        io->closing = true;
        for (unsigned i = 0; i < N_LANES; i++)
                batch_done(io, &io->lanes[i]);
        reap(io);

        for (r = LIST_FIRST(&io->reqs); r; r = next) {
                next = LIST_NEXT(r, all);
                if (r->state == REQ_KERNEL || r->state == REQ_TIMED_OUT)
                        continue;       /* left to the kernel, see io.h */
                if (r->state == REQ_QUEUED)
                        queue_remove(io, r);
                req_destroy(r);
        }
        for (unsigned i = 0; i < io->n_ctxs; i++)
                if (io->ctxs[i].inflight == 0)
                        io_destroy(io->ctxs[i].ctx);    /* nothing in flight: returns at once */

        ev_ref(loop);
        ev_io_stop(loop, &io->efd_watcher);
        for (unsigned i = 0; i < N_LANES; i++) {
                ev_ref(loop);
                ev_io_stop(loop, &io->lanes[i].watcher);
        }
        ev_ref(loop);
        ev_prepare_stop(loop, &io->prepare);
        ev_idle_stop(loop, &io->again);
        ev_timer_stop(loop, &io->backoff);
        if (io->active > 0)
                ev_unref(loop);

        closep(&io->efd);
        for (unsigned i = 0; i < N_LANES; i++)
                submitter_release(io->lanes[i].sub, io->lanes[i].tid);
        /* Requests left to the kernel no longer have a deadline to stop. */
        mmpd_timers_free(io->deadlines);
        free(io);
        return NULL;
}

void mmpd_io_get_stats(const struct mmpd_io *io, struct mmpd_io_stats *ret)
{
        *ret = io->stats;
}
