/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Deadlines on CLOCK_BOOTTIME for the heartbeat path.
 *
 * libev's ev_timer runs on CLOCK_MONOTONIC, which stops while the machine
 * is suspended: a heartbeat or fence deadline armed with it fires late by
 * however long the machine slept, and a volume whose peers may already have
 * taken over would be written once more.  Every deadline that decides what
 * mmpd writes is armed here instead: one 4-ary min-heap per loop, served
 * by one timerfd on CLOCK_BOOTTIME with an absolute expiry, so after a
 * resume the overdue timers fire at once, in deadline order, and their
 * callbacks read mmpd_now() (CLOCK_BOOTTIME too) to see how late they are.
 *
 * O(log n) per arm; the timerfd is re-armed only when the earliest deadline
 * moves earlier (otherwise it fires early once and is re-armed then), so a
 * steady heartbeat costs no timer syscalls.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "mmp-timing.h"

struct mmpd_timers;
struct mmpd_timer;

typedef void (*mmpd_timer_cb)(struct mmpd_timer *t, void *userdata);

struct mmpd_timer {
        mmp_usec_t at;           /* CLOCK_BOOTTIME; MMP_USEC_INFINITY when stopped */
        mmp_usec_t due;          /* in the callback: the deadline that fired */
        size_t heap_idx;
        mmpd_timer_cb cb;
        void *userdata;
};

/* @priority: the libev priority of the timerfd's watcher.  The watcher
 * does not keep the loop alive. */
int mmpd_timers_new(struct ev_loop *loop, int priority, struct mmpd_timers **ret);
/* Room for @n armed timers: until then mmpd_timer_arm() cannot fail. */
int mmpd_timers_reserve(struct mmpd_timers *ts, size_t n);
/* Called when the timerfd fires, before the due timers run (the I/O engine
 * reaps completions there, so an I/O done in time is never reported late). */
void mmpd_timers_set_prepare(struct mmpd_timers *ts, void (*fn)(void *userdata), void *userdata);
struct mmpd_timers *mmpd_timers_free(struct mmpd_timers *ts);

void mmpd_timer_init(struct mmpd_timer *t, mmpd_timer_cb cb, void *userdata);
/* (Re)arm @t for @at (CLOCK_BOOTTIME usec); MMP_USEC_INFINITY stops it. */
int mmpd_timer_arm(struct mmpd_timers *ts, struct mmpd_timer *t, mmp_usec_t at);
void mmpd_timer_stop(struct mmpd_timers *ts, struct mmpd_timer *t);
static inline bool mmpd_timer_active(const struct mmpd_timer *t)
{
        return t->at != MMP_USEC_INFINITY;
}

/* The earliest deadline armed, MMP_USEC_INFINITY for none. */
mmp_usec_t mmpd_timers_next(const struct mmpd_timers *ts);
/* Run every timer due at @now (what the timerfd does; tests call it). */
void mmpd_timers_run(struct mmpd_timers *ts, mmp_usec_t now);
