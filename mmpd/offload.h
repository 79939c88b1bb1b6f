/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run one blocking function off the loop, on a short-lived thread, and hear
 * back on the loop (an eventfd watched by libev).
 *
 * For the rare control-plane request that must touch something slow: Inspect
 * reads the MMP block of an arbitrary device, which may hang.  Held volumes
 * never come here; their I/O goes through io.h.
 *
 * A job that misses its deadline is reported as -ETIMEDOUT at once; its
 * thread keeps running (a read stuck in the kernel cannot be interrupted) and
 * frees the job when it returns.  Such threads still count against
 * max_jobs, so a dead device cannot make us spawn threads without bound.
 */
#pragma once

#include <ev.h>

struct offload;
struct offload_job;

/* Runs on the job's thread; may block.  Must not touch the loop. */
typedef void (*offload_work_fn)(void *arg);
/*
 * Runs on the loop, exactly once per job unless cancelled: @result 0 and @arg
 * the job's argument after work() returned, or @result -ETIMEDOUT and @arg
 * NULL (the thread still owns it).  The job is gone when this returns.
 */
typedef void (*offload_done_fn)(int result, void *arg, void *userdata);

/* @max_jobs: threads alive at once, timed-out ones included (0 = 16). */
int offload_new(struct ev_loop *loop, unsigned max_jobs, struct offload **ret);
/* Jobs still running are abandoned: their done() is never called and their
 * threads free them on return.  Not from within a done() callback. */
struct offload *offload_free(struct offload *o);

/*
 * Start work(arg) on a new thread; @arg is freed with @free_arg (may be NULL)
 * once neither side needs it.  @timeout in seconds (<= 0: none).
 * -EAGAIN when max_jobs threads are alive, -errno from thread creation;
 * on error @arg is still the caller's.
 * *ret (may be NULL) identifies the job for offload_cancel().
 */
int offload_run(struct offload *o, offload_work_fn work, void *arg, void (*free_arg)(void *arg),
                double timeout, offload_done_fn done, void *userdata, struct offload_job **ret);

/* The caller no longer wants the result: done() will not be called.  Safe
 * from within any done() callback, including the job's own. */
void offload_cancel(struct offload *o, struct offload_job *job);

/* Threads alive, timed-out and cancelled ones included. */
unsigned offload_threads(struct offload *o);
