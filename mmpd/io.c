/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device I/O engine; the contract is in io.h, opening devices in io-dev.c.
 *
 * Life of a request:
 *
 *   IDLE --submit()--> QUEUED --io_submit()--> KERNEL --completion--> IDLE, cb(result)
 *   QUEUED --io_submit() refuses it--> DISPATCH --> IDLE, cb(-errno)
 *   KERNEL --deadline--> TIMED_OUT, cb(-ETIMEDOUT) --completion--> IDLE, idle_cb()
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
 * Where this can still wait: io_submit() itself may sleep when a block
 * device's request queue is full (tag allocation), when ext4 allocates
 * blocks for an O_DIRECT write into a hole, and for buffered image files,
 * whose I/O happens inside io_submit().  RWF_NOWAIT would turn the first
 * into -EAGAIN, at the price of a heartbeat that polls behind a busy queue
 * instead of waiting in line; not done.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/param.h>          /* MAX */
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <libaio.h>

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
        ssize_t result;         /* io_submit() error waiting for dispatch */
        mmp_usec_t deadline;
        mmp_usec_t started;
        mmp_usec_t last_duration;
        struct mmpd_timer dl;   /* the deadline, while one is pending */
        unsigned ctx_idx;       /* the context it was submitted to */
        TAILQ_ENTRY(mmpd_ioreq) queue;  /* io->queue, or a dispatch list */
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
        struct req_queue queue;
        LIST_HEAD(, mmpd_ioreq) reqs;
        size_t n_reqs;
        struct iocb **iocbs;    /* max_inflight slots for io_submit() */
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
        TAILQ_REMOVE(&io->queue, r, queue);
        io->stats.queued--;
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
        req->state = REQ_QUEUED;
        TAILQ_INSERT_TAIL(&io->queue, req, queue);
        io->stats.queued++;
        active_inc(io);
        /* Room was reserved by mmpd_ioreq_new(): cannot fail. */
        mmpd_timer_arm(io->deadlines, &req->dl, deadline);
        return 0;
}

/* ---- the loop side ----------------------------------------------------- */

static void req_complete(struct mmpd_io *io, struct mmpd_ioreq *r, long res, mmp_usec_t now)
{
        ssize_t result;

        io->stats.inflight--;
        io->ctxs[r->ctx_idx].inflight--;
        io->stats.completed++;
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

/*
 * One io_submit() for everything queued, as far as max_inflight allows.  A
 * short count means iocbs[k] was not taken; calling again tells why: an
 * errno belongs to that iocb alone, -EAGAIN means "later".
 */
static void flush(struct mmpd_io *io, struct req_queue *failed)
{
        io->eagain = false;
        while (!TAILQ_EMPTY(&io->queue) && io->stats.inflight < io->max_inflight) {
                struct io_ctx *c = ctx_with_room(io);
                unsigned room, n = 0;
                struct mmpd_ioreq *r;
                int k;

                if (!c) {
                        /* fs.aio-max-nr reached: the queue waits (deadlines run). */
                        io->stats.eagain++;
                        io->eagain = true;
                        return;
                }
                room = c->cap - c->inflight;
                TAILQ_FOREACH(r, &io->queue, queue) {
                        if (n == room)
                                break;
                        io->iocbs[n++] = &r->iocb;
                }

                io->stats.submit_calls++;
                k = io_submit(c->ctx, (long) n, io->iocbs);
                if (k > 0) {
                        for (int i = 0; i < k; i++) {
                                r = TAILQ_FIRST(&io->queue);
                                queue_remove(io, r);
                                r->state = REQ_KERNEL;
                                r->ctx_idx = (unsigned) (c - io->ctxs);
                        }
                        c->inflight += (unsigned) k;
                        io->stats.inflight += (unsigned) k;
                        io->stats.submitted += (unsigned) k;
                        continue;
                }
                if (k == 0 || k == -EAGAIN) {
                        io->stats.eagain++;
                        io->eagain = true;
                        return;
                }

                r = TAILQ_FIRST(&io->queue);
                queue_remove(io, r);
                mmpd_timer_stop(io->deadlines, &r->dl);
                r->state = REQ_DISPATCH;
                r->result = k;
                io->stats.submit_errors++;
                TAILQ_INSERT_TAIL(failed, r, queue);
        }
}

/* Last of the prepare watchers (EV_MINPRI): every callback of this loop
 * iteration has had its chance to queue I/O by now. */
static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct mmpd_io *io = w->data;
        struct req_queue failed = TAILQ_HEAD_INITIALIZER(failed);
        struct mmpd_ioreq *r;

        flush(io, &failed);

        while ((r = TAILQ_FIRST(&failed))) {
                TAILQ_REMOVE(&failed, r, queue);
                if (r->free_pending) {
                        req_destroy(r);
                        continue;
                }
                req_set_idle(r);
                r->cb(r, r->result, r->userdata);
        }

        /* What those callbacks queued goes out next iteration, without
         * looping here: a callback that resubmits a doomed request forever
         * must not wedge the loop. */
        if (io->eagain) {
                if (!ev_is_active(&io->backoff))
                        ev_timer_start(loop, &io->backoff);
        } else if (!TAILQ_EMPTY(&io->queue) && io->stats.inflight < io->max_inflight)
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
        TAILQ_INIT(&io->queue);
        LIST_INIT(&io->reqs);

        io->iocbs = calloc(max_inflight, sizeof(*io->iocbs));
        if (!io->iocbs) {
                r = -ENOMEM;
                goto fail;
        }
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

        /* Internal watchers do not keep the loop alive; busy requests do. */
        ev_io_init(&io->efd_watcher, efd_cb, io->efd, EV_READ);
        ev_set_priority(&io->efd_watcher, MMPD_PRIO_HEARTBEAT);
        io->efd_watcher.data = io;
        ev_io_start(loop, &io->efd_watcher);
        ev_unref(loop);
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
        for (unsigned i = 0; i < io->n_ctxs; i++)
                io_destroy(io->ctxs[i].ctx);
        closep(&io->efd);
        mmpd_timers_free(io->deadlines);
        free(io->iocbs);
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

        /* Take back what the kernel has finished with, silently. */
        io->closing = true;
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
        ev_ref(loop);
        ev_prepare_stop(loop, &io->prepare);
        ev_idle_stop(loop, &io->again);
        ev_timer_stop(loop, &io->backoff);
        if (io->active > 0)
                ev_unref(loop);

        closep(&io->efd);
        /* Requests left to the kernel no longer have a deadline to stop. */
        mmpd_timers_free(io->deadlines);
        free(io->iocbs);
        free(io);
        return NULL;
}

void mmpd_io_get_stats(const struct mmpd_io *io, struct mmpd_io_stats *ret)
{
        *ret = io->stats;
}
