/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deadlines on CLOCK_BOOTTIME: see timer.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "macro.h"
#include "mmp-names.h"
#include "timer.h"

#define HEAP_NONE SIZE_MAX

/*
 * A 4-ary min-heap whose entries carry their key: a comparison reads the
 * array, not the timer it points to, and the four children of a node share
 * one cache line.  At 10,000 volumes the binary heap of pointers spent more
 * CPU in its sift loops (a cache miss per child compared) than the state
 * machines of the volumes it woke.
 */
#define HEAP_D 4
/*
 * The children of node i are entries 4i+1..4i+4: 64 bytes, but starting 16
 * bytes into a cache line in an array that starts on one, so every level
 * of a sift touched two lines.  The array starts HEAP_PAD entries past a
 * 64-byte boundary: each group of children is then one line.
 */
#define HEAP_ALIGN 64
#define HEAP_PAD 3

struct heap_entry {
        mmp_usec_t at;
        struct mmpd_timer *t;
};

_Static_assert(sizeof(struct heap_entry) * HEAP_D == HEAP_ALIGN, "a group of children is one cache line");

struct mmpd_timers {
        struct ev_loop *loop;
        int tfd;
        mmp_usec_t armed_at;     /* tfd expiry, MMP_USEC_INFINITY when disarmed */
        bool running;            /* in mmpd_timers_run(): it arms the tfd once, at the end */
        ev_io watcher;
        struct heap_entry *heap;        /* raw + HEAP_PAD */
        struct heap_entry *raw;         /* HEAP_ALIGN-aligned */
        size_t n, cap;
        void (*prepare)(void *userdata);
        void *prepare_userdata;
};

static void put(struct mmpd_timers *ts, size_t i, struct heap_entry e)
{
        ts->heap[i] = e;
        e.t->heap_idx = i;
}

static void sift_up(struct mmpd_timers *ts, size_t i)
{
        struct heap_entry e = ts->heap[i];

        while (i > 0) {
                size_t parent = (i - 1) / HEAP_D;

                if (ts->heap[parent].at <= e.at)
                        break;
                put(ts, i, ts->heap[parent]);
                i = parent;
        }
        put(ts, i, e);
}

static void sift_down(struct mmpd_timers *ts, size_t i)
{
        struct heap_entry e = ts->heap[i];

        for (;;) {
                size_t first = HEAP_D * i + 1, c = first, end;

                if (first >= ts->n)
                        break;
                end = first + HEAP_D < ts->n ? first + HEAP_D : ts->n;
                for (size_t k = first + 1; k < end; k++)
                        if (ts->heap[k].at < ts->heap[c].at)
                                c = k;
                if (e.at <= ts->heap[c].at)
                        break;
                put(ts, i, ts->heap[c]);
                i = c;
        }
        put(ts, i, e);
}

static void heap_remove(struct mmpd_timers *ts, struct mmpd_timer *t)
{
        size_t i = t->heap_idx;
        struct heap_entry last;

        if (i == HEAP_NONE)
                return;
        t->heap_idx = HEAP_NONE;
        last = ts->heap[--ts->n];
        if (last.t == t)
                return;
        put(ts, i, last);
        if (i > 0 && ts->heap[(i - 1) / HEAP_D].at > last.at)
                sift_up(ts, i);
        else
                sift_down(ts, i);
}

/* Arm the timerfd for the earliest deadline unless it fires earlier already. */
static void tfd_arm(struct mmpd_timers *ts)
{
        struct itimerspec its = {};
        mmp_usec_t at;

        if (ts->tfd < 0 || ts->running || ts->n == 0 || ts->heap[0].at >= ts->armed_at)
                return;
        at = ts->heap[0].at ? ts->heap[0].at : 1;       /* all zero would disarm */
        its.it_value.tv_sec = (time_t) (at / MMP_USEC_PER_SEC);
        its.it_value.tv_nsec = (long) (at % MMP_USEC_PER_SEC) * 1000;
        if (timerfd_settime(ts->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
                ts->armed_at = at;
}

void mmpd_timer_init(struct mmpd_timer *t, mmpd_timer_cb cb, void *userdata)
{
        t->at = MMP_USEC_INFINITY;
        t->due = 0;
        t->heap_idx = HEAP_NONE;
        t->cb = cb;
        t->userdata = userdata;
}

void mmpd_timer_stop(struct mmpd_timers *ts, struct mmpd_timer *t)
{
        if (!ts || t->heap_idx == HEAP_NONE) {
                t->at = MMP_USEC_INFINITY;
                return;
        }
        heap_remove(ts, t);
        t->at = MMP_USEC_INFINITY;
}

int mmpd_timers_reserve(struct mmpd_timers *ts, size_t n)
{
        struct heap_entry *raw;
        size_t cap = ts->cap ? ts->cap : 64;

        if (n <= ts->cap)
                return 0;
        while (cap < n)
                cap *= 2;
        if (posix_memalign((void **) &raw, HEAP_ALIGN, (cap + HEAP_PAD) * sizeof(*raw)) != 0)
                return -ENOMEM;
        if (ts->n)
                memcpy(raw + HEAP_PAD, ts->heap, ts->n * sizeof(*raw));
        free(ts->raw);
        ts->raw = raw;
        ts->heap = raw + HEAP_PAD;
        ts->cap = cap;
        return 0;
}

void mmpd_timers_set_prepare(struct mmpd_timers *ts, void (*fn)(void *userdata), void *userdata)
{
        ts->prepare = fn;
        ts->prepare_userdata = userdata;
}

int mmpd_timer_arm(struct mmpd_timers *ts, struct mmpd_timer *t, mmp_usec_t at)
{
        if (at == MMP_USEC_INFINITY) {
                mmpd_timer_stop(ts, t);
                return 0;
        }
        if (t->heap_idx != HEAP_NONE) {
                mmp_usec_t was = t->at;

                t->at = at;
                ts->heap[t->heap_idx].at = at;
                if (at < was)
                        sift_up(ts, t->heap_idx);
                else if (at > was)
                        sift_down(ts, t->heap_idx);
        } else {
                if (ts->n == ts->cap && mmpd_timers_reserve(ts, ts->n + 1) < 0)
                        return -ENOMEM;
                t->at = at;
                put(ts, ts->n++, (struct heap_entry) { at, t });
                sift_up(ts, t->heap_idx);
        }
        tfd_arm(ts);
        return 0;
}

mmp_usec_t mmpd_timers_next(const struct mmpd_timers *ts)
{
        return ts->n ? ts->heap[0].at : MMP_USEC_INFINITY;
}

void mmpd_timers_run(struct mmpd_timers *ts, mmp_usec_t now)
{
        /* Bounded: a callback may re-arm its timer for a time already past.
         * Callbacks re-arming their timers do not touch the tfd: armed for a
         * timer of this run not yet fired, it would wake the loop again for
         * nothing. */
        ts->running = true;
        for (size_t budget = ts->n; budget > 0 && ts->n > 0; budget--) {
                struct mmpd_timer *t = ts->heap[0].t;

                if (ts->heap[0].at > now)
                        break;
                heap_remove(ts, t);
                t->due = t->at;
                t->at = MMP_USEC_INFINITY;
                t->cb(t, t->userdata);
        }
        ts->running = false;
        tfd_arm(ts);
}

static void on_tfd(struct ev_loop *loop, ev_io *w, int revents)
{
        struct mmpd_timers *ts = w->data;
        uint64_t ticks;
        ssize_t n;

        n = read(ts->tfd, &ticks, sizeof(ticks));
        (void) n;
        ts->armed_at = MMP_USEC_INFINITY;
        if (ts->prepare)
                ts->prepare(ts->prepare_userdata);
        /* Timers the budget left due re-arm the timerfd in the past: they
         * fire on the next iteration, after the I/O that is ready now. */
        mmpd_timers_run(ts, mmp_boottime_usec());
}

int mmpd_timers_new(struct ev_loop *loop, int priority, struct mmpd_timers **ret)
{
        struct mmpd_timers *ts = calloc(1, sizeof(*ts));

        if (!ts)
                return -ENOMEM;
        ts->loop = loop;
        ts->armed_at = MMP_USEC_INFINITY;
        ts->tfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
        if (ts->tfd < 0) {
                int r = -errno;

                free(ts);
                return r;
        }
        ev_io_init(&ts->watcher, on_tfd, ts->tfd, EV_READ);
        ev_set_priority(&ts->watcher, priority);
        ts->watcher.data = ts;
        ev_io_start(loop, &ts->watcher);
        /* Timers alone do not keep the loop alive (as the I/O engine's). */
        ev_unref(loop);
        *ret = ts;
        return 0;
}

struct mmpd_timers *mmpd_timers_free(struct mmpd_timers *ts)
{
        if (!ts)
                return NULL;
        for (size_t i = 0; i < ts->n; i++) {
                ts->heap[i].t->heap_idx = HEAP_NONE;
                ts->heap[i].t->at = MMP_USEC_INFINITY;
        }
        ev_ref(ts->loop);
        ev_io_stop(ts->loop, &ts->watcher);
        close(ts->tfd);
        free(ts->raw);
        free(ts);
        return NULL;
}
