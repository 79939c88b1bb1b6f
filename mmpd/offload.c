/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocking work on short-lived threads, results back on the loop.
 *
 * The loop and the threads share one small struct under a mutex: the list of
 * finished jobs and an eventfd that wakes the loop.  It is reference counted
 * (the loop holds one reference, each thread one) because a thread stuck in
 * the kernel may outlive offload_free().  A job is owned by the loop until it
 * is abandoned (timeout, cancel, free); after that the thread frees it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "offload.h"

#define OFFLOAD_STACK (256u * 1024u)

struct shared {
        pthread_mutex_t lock;
        int efd;
        struct offload_job *done;       /* finished, newest first */
        unsigned refs;
        unsigned threads;
        bool dead;
};

struct offload_job {
        struct shared *sh;
        struct offload *o;
        struct offload_job *prev, *next;        /* o->jobs: waiting on the loop side */
        struct offload_job *next_done;
        offload_work_fn work;
        void *arg;
        void (*free_arg)(void *arg);
        offload_done_fn done;
        void *userdata;
        ev_timer timer;
        bool finished;          /* under lock: on sh->done */
        bool abandoned;         /* under lock: the thread frees it */
        bool cancelled;         /* loop only: finished, but nobody wants it */
};

struct offload {
        struct ev_loop *loop;
        struct shared *sh;
        ev_io io;
        unsigned max_jobs;
        struct offload_job *jobs;
};

static void job_free(struct offload_job *job)
{
        if (job->free_arg)
                job->free_arg(job->arg);
        free(job);
}

static void shared_unref_locked(struct shared *sh, bool *ret_last)
{
        *ret_last = --sh->refs == 0;
}

static void shared_destroy(struct shared *sh)
{
        close(sh->efd);
        pthread_mutex_destroy(&sh->lock);
        free(sh);
}

static void *job_thread(void *p)
{
        struct offload_job *job = p;
        struct shared *sh = job->sh;
        bool mine, last;

        job->work(job->arg);

        pthread_mutex_lock(&sh->lock);
        sh->threads--;
        mine = job->abandoned || sh->dead;
        if (!mine) {
                job->finished = true;
                job->next_done = sh->done;
                sh->done = job;
                /* under the lock: once it is dropped the loop may free sh */
                (void) eventfd_write(sh->efd, 1);
        }
        shared_unref_locked(sh, &last);
        pthread_mutex_unlock(&sh->lock);
        if (mine)
                job_free(job);
        if (last)
                shared_destroy(sh);
        return NULL;
}

static void unlink_job(struct offload *o, struct offload_job *job)
{
        if (job->prev)
                job->prev->next = job->next;
        else
                o->jobs = job->next;
        if (job->next)
                job->next->prev = job->prev;
        job->prev = job->next = NULL;
        ev_timer_stop(o->loop, &job->timer);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct offload_job *job = w->data;
        struct offload *o = job->o;
        bool finished;

        pthread_mutex_lock(&o->sh->lock);
        finished = job->finished;
        if (!finished)
                job->abandoned = true;
        pthread_mutex_unlock(&o->sh->lock);
        if (finished)
                return;     /* on_done will report it in this iteration */
        unlink_job(o, job);
        job->done(-ETIMEDOUT, NULL, job->userdata);
}

static void on_done(struct ev_loop *loop, ev_io *w, int revents)
{
        struct offload *o = w->data;
        struct offload_job *list, *fifo = NULL;
        eventfd_t n;

        (void) eventfd_read(o->sh->efd, &n);
        pthread_mutex_lock(&o->sh->lock);
        list = o->sh->done;
        o->sh->done = NULL;
        pthread_mutex_unlock(&o->sh->lock);

        while (list) {          /* oldest first */
                struct offload_job *j = list;

                list = j->next_done;
                j->next_done = fifo;
                fifo = j;
        }
        /* Unlink all first: a done() may cancel a job further down the list. */
        for (struct offload_job *j = fifo; j; j = j->next_done)
                unlink_job(o, j);
        while (fifo) {
                struct offload_job *j = fifo;

                fifo = j->next_done;
                if (!j->cancelled)
                        j->done(0, j->arg, j->userdata);
                job_free(j);
        }
}

int offload_new(struct ev_loop *loop, unsigned max_jobs, struct offload **ret)
{
        struct offload *o;
        struct shared *sh;

        o = calloc(1, sizeof(*o));
        sh = calloc(1, sizeof(*sh));
        if (!o || !sh) {
                free(o);
                free(sh);
                return -ENOMEM;
        }
        sh->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (sh->efd < 0) {
                int r = -errno;

                free(o);
                free(sh);
                return r;
        }
        pthread_mutex_init(&sh->lock, NULL);
        sh->refs = 1;
        o->loop = loop;
        o->sh = sh;
        o->max_jobs = max_jobs ? max_jobs : 16;
        ev_io_init(&o->io, on_done, sh->efd, EV_READ);
        o->io.data = o;
        ev_io_start(loop, &o->io);
        *ret = o;
        return 0;
}

struct offload *offload_free(struct offload *o)
{
        struct offload_job *done;
        bool last;

        if (!o)
                return NULL;
        ev_io_stop(o->loop, &o->io);
        pthread_mutex_lock(&o->sh->lock);
        o->sh->dead = true;
        done = o->sh->done;
        o->sh->done = NULL;
        for (struct offload_job *j = o->jobs; j; j = j->next)
                if (!j->finished)
                        j->abandoned = true;
        shared_unref_locked(o->sh, &last);
        pthread_mutex_unlock(&o->sh->lock);

        while (o->jobs)
                unlink_job(o, o->jobs);
        while (done) {
                struct offload_job *j = done;

                done = j->next_done;
                job_free(j);
        }
        if (last)
                shared_destroy(o->sh);
        free(o);
        return NULL;
}

int offload_run(struct offload *o, offload_work_fn work, void *arg, void (*free_arg)(void *arg),
                double timeout, offload_done_fn done, void *userdata, struct offload_job **ret)
{
        struct offload_job *job;
        pthread_attr_t attr;
        pthread_t tid;
        sigset_t all, old;
        int r;

        job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        job->sh = o->sh;
        job->o = o;
        job->work = work;
        job->arg = arg;
        job->free_arg = free_arg;
        job->done = done;
        job->userdata = userdata;
        ev_timer_init(&job->timer, on_timeout, timeout > 0 ? timeout : 0., 0.);
        job->timer.data = job;

        pthread_mutex_lock(&o->sh->lock);
        if (o->sh->threads >= o->max_jobs) {
                pthread_mutex_unlock(&o->sh->lock);
                free(job);
                return -EAGAIN;
        }
        o->sh->threads++;
        o->sh->refs++;
        pthread_mutex_unlock(&o->sh->lock);

        /* Signals stay with the loop's thread. */
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, OFFLOAD_STACK);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&tid, &attr, job_thread, job);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                bool last;

                pthread_mutex_lock(&o->sh->lock);
                o->sh->threads--;
                shared_unref_locked(o->sh, &last);   /* never the last: the loop holds one */
                pthread_mutex_unlock(&o->sh->lock);
                free(job);      /* @arg stays the caller's */
                return r;
        }

        job->next = o->jobs;
        if (o->jobs)
                o->jobs->prev = job;
        o->jobs = job;
        if (timeout > 0)
                ev_timer_start(o->loop, &job->timer);
        if (ret)
                *ret = job;
        return 0;
}

void offload_cancel(struct offload *o, struct offload_job *job)
{
        bool finished;

        pthread_mutex_lock(&o->sh->lock);
        finished = job->finished;
        if (!finished)
                job->abandoned = true;
        pthread_mutex_unlock(&o->sh->lock);
        if (finished) {
                /* on sh->done or on on_done()'s list: on_done frees it */
                job->cancelled = true;
                return;
        }
        unlink_job(o, job);
}

unsigned offload_threads(struct offload *o)
{
        unsigned n;

        pthread_mutex_lock(&o->sh->lock);
        n = o->sh->threads;
        pthread_mutex_unlock(&o->sh->lock);
        return n;
}
