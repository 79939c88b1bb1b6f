/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fence runner: one run per LOST volume, a chain of stages on the loop,
 * each bounded by the volume's deadline (last good write + W).  See fence.h
 * for the stages and docs/fencing.md for why the numbers are what they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "fence.h"
#include "log.h"
#include "offload.h"

extern char **environ;

#define FENCE_POLL_SEC 0.05

/* journald MESSAGE_IDs, one per stage (docs/fencing.md lists them). */
static const char *const stage_ids[] = {
        [FENCE_STAGE_NOTIFY]      = "9ee7393ed90a4e20b799a8bc36776d8e",
        [FENCE_STAGE_HOOK]        = "53aea6630ae84012963231c51e76a9ba",
        [FENCE_STAGE_KILL]        = "0bad1fb9c92345b7873623bd208d462e",
        [FENCE_STAGE_SHUTDOWN]    = "469c46f9ea6e4abeb7824fad2d6f8d26",
        [FENCE_STAGE_LAST_RESORT] = "f956904ebc82447192bfbb8866cca0df",
        [FENCE_STAGE_DONE]        = "9ad9e9bd62cd4151b76793c4af738f77",
};

static const char *const stage_names[] = {
        [FENCE_STAGE_NONE] = "none", [FENCE_STAGE_NOTIFY] = "notify", [FENCE_STAGE_HOOK] = "hook",
        [FENCE_STAGE_KILL] = "kill", [FENCE_STAGE_SHUTDOWN] = "shutdown",
        [FENCE_STAGE_LAST_RESORT] = "last-resort", [FENCE_STAGE_DONE] = "done",
};

const char *fence_stage_name(enum fence_stage s)
{
        return s <= FENCE_STAGE_DONE ? stage_names[s] : "?";
}

struct fence_run {
        struct fencer *f;
        struct fence_run *next;
        char *name, *device;
        dev_t rdev;
        bool volume_gone;
        struct mmpd_fence_conf cfg;
        int reason;
        char reason_text[128];

        enum fence_stage stage;
        mmp_usec_t started, finished, deadline, stage_end, grace_end;
        bool failed, late;

        struct mmpd_timer timer;    /* CLOCK_BOOTTIME: a suspend does not stretch a stage */
        ev_child child;
        pid_t child_pid;
        struct offload_job *job;
        struct fence_pids pids;
        bool killing;               /* kill stage: SIGKILL sent */
        const enum fence_stage *order;  /* the stages in the order they run */
};

static struct fence_plan plan_of(const struct fence_run *r)
{
        return (struct fence_plan) {
                .order = r->order, .hook = r->cfg.hook, .kill = r->cfg.kill,
                .shutdown = r->cfg.shutdown, .have_rdev = r->rdev != 0,
        };
}

static size_t stage_pos(const struct fence_run *r, enum fence_stage s)
{
        struct fence_plan p = plan_of(r);

        return fence_stage_pos(&p, s);
}

struct fencer {
        struct manager *m;
        struct mmpd_timers *timers;
        void (*done)(void *userdata);
        void *userdata;
        struct subscription *sub;
        struct offload *off;
        struct fence_run *runs;
        int wd_fd;
        bool wd_paused;
        ev_timer wd_timer;
};

struct scan_job {
        dev_t dev;
        pid_t self;
        bool shutdown;
        int r;
        struct fence_pids pids;
        struct fence_shutdown_result sd;
};

static void next_stage(struct fence_run *r);

/* ---- logging --------------------------------------------------------------- */

_printf_(3, 4)
static void fence_log(struct fence_run *r, int prio, const char *fmt, ...)
{
        const char *id = stage_ids[r->stage] ? stage_ids[r->stage] : stage_ids[FENCE_STAGE_DONE];
        mmp_usec_t now = mmpd_now();
        char msg[768];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (getenv("JOURNAL_STREAM"))
                sd_journal_send("MESSAGE=volume %s (%s): fence %s: %s", r->name, r->device,
                                fence_stage_name(r->stage), msg,
                                "MESSAGE_ID=%s", id, "PRIORITY=%i", prio,
                                "MMPD_VOLUME=%s", r->name, "MMPD_DEVICE=%s", r->device,
                                "MMPD_FENCE_STAGE=%s", fence_stage_name(r->stage),
                                "MMPD_FENCE_LEFT_USEC=%lld", (long long) (r->deadline - now), NULL);
        else
                log_msg(prio, "volume %s (%s): fence %s: %s [left_ms=%lld MESSAGE_ID=%s]", r->name, r->device,
                        fence_stage_name(r->stage), msg,
                        ((long long) r->deadline - (long long) now) / 1000, id);
}

/* ---- time ------------------------------------------------------------------ */

/* This stage's share of the time left before the deadline. */
static mmp_usec_t stage_budget(struct fence_run *r)
{
        struct fence_plan p = plan_of(r);
        mmp_usec_t now = mmpd_now();

        return fence_stage_budget(&p, r->stage, r->deadline > now ? r->deadline - now : 0);
}

static void arm(struct fence_run *r, double after)
{
        mmpd_timer_arm(r->f->timers, &r->timer,
                       mmpd_now() + (after > 0 ? (mmp_usec_t) (after * MMP_USEC_PER_SEC) : 0));
}

static double until(mmp_usec_t at)
{
        mmp_usec_t now = mmpd_now();

        return at > now ? (double) (at - now) / MMP_USEC_PER_SEC : 0.;
}

/* ---- children ---------------------------------------------------------------- */

static int spawn_hook(struct fence_run *r, const char *path, const char *stage)
{
        char env[7][PATH_MAX + 32];
        struct timespec wall;
        mmp_usec_t now = mmpd_now();
        long long wall_deadline;
        size_t n = 0, i = 0;
        char **envp;
        char *argv[] = { (char *) path, NULL };
        posix_spawnattr_t attr;
        pid_t pid;
        int e;

        clock_gettime(CLOCK_REALTIME, &wall);
        wall_deadline = (long long) wall.tv_sec * 1000000 + wall.tv_nsec / 1000 +
                        ((long long) r->deadline - (long long) now);
        while (environ[n])
                n++;
        envp = calloc(n + ELEMENTSOF(env) + 1, sizeof(*envp));
        if (!envp)
                return -ENOMEM;
        for (; environ[i]; i++)
                envp[i] = environ[i];
        snprintf(env[0], sizeof(env[0]), "MMPD_VOLUME=%s", r->name);
        snprintf(env[1], sizeof(env[1]), "MMPD_DEVICE=%s", r->device);
        snprintf(env[2], sizeof(env[2]), "MMPD_REASON=%s", r->reason_text);
        snprintf(env[3], sizeof(env[3]), "MMPD_DEADLINE_USEC=%llu", (unsigned long long) r->deadline);
        snprintf(env[4], sizeof(env[4]), "MMPD_DEADLINE_WALL=%lld", wall_deadline);
        snprintf(env[5], sizeof(env[5]), "MMPD_STAGE=%s", stage);
        snprintf(env[6], sizeof(env[6]), "MMPD_ERRNO=%d", -r->reason);
        for (size_t k = 0; k < ELEMENTSOF(env); k++)
                envp[i++] = env[k];
        envp[i] = NULL;
        /* The loop blocks the signals it takes through signalfd, and a
         * blocked mask is inherited: give the child a clean one, default
         * dispositions, and its own process group so an overrun kills
         * everything it started. */
        e = posix_spawnattr_init(&attr);
        if (e == 0) {
                sigset_t none, defaults;

                sigemptyset(&none);
                sigfillset(&defaults);
                sigdelset(&defaults, SIGKILL);
                sigdelset(&defaults, SIGSTOP);
                posix_spawnattr_setsigmask(&attr, &none);
                posix_spawnattr_setsigdefault(&attr, &defaults);
                posix_spawnattr_setpgroup(&attr, 0);
                posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                         POSIX_SPAWN_SETPGROUP);
                e = posix_spawn(&pid, path, NULL, &attr, argv, envp);
                posix_spawnattr_destroy(&attr);
        }
        free(envp);
        if (e)
                return -e;
        r->child_pid = pid;
        return 0;
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
        struct fence_run *r = w->data;
        int st = w->rstatus;

        ev_child_stop(loop, w);
        r->child_pid = 0;
        if (r->stage != FENCE_STAGE_HOOK)
                return;         /* a last-resort child: nothing waits for it */
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                fence_log(r, LOG_NOTICE, "hook succeeded");
        } else {
                r->failed = true;
                fence_log(r, LOG_ERR, "hook failed (%s %d)", WIFEXITED(st) ? "exit status" : "signal",
                          WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
        next_stage(r);
}

static void watch_child(struct fence_run *r)
{
        ev_child_set(&r->child, r->child_pid, 0);
        ev_child_start(manager_loop(r->f->m), &r->child);
}

/* ---- offload: scans and the shutdown ioctl ------------------------------------ */

static void scan_work(void *arg)
{
        struct scan_job *j = arg;

        j->r = j->shutdown ? fence_shutdown_mounts(j->dev, &j->sd) : fence_scan_users(j->dev, j->self, &j->pids);
}

static void scan_free(void *arg)
{
        struct scan_job *j = arg;

        fence_pids_done(&j->pids);
        free(j);
}

static void kill_step(struct fence_run *r);
static void on_scan(int result, void *arg, void *userdata);

static void start_job(struct fence_run *r, bool shutdown, double timeout)
{
        struct scan_job *j = calloc(1, sizeof(*j));
        int e;

        /* offload treats <= 0 as "no timeout": a late stage still gets a bound. */
        if (timeout < (double) FENCE_MIN_STAGE_USEC / MMP_USEC_PER_SEC)
                timeout = (double) FENCE_MIN_STAGE_USEC / MMP_USEC_PER_SEC;
        if (j) {
                j->dev = r->rdev;
                j->self = getpid();
                j->shutdown = shutdown;
                e = offload_run(r->f->off, scan_work, j, scan_free, timeout, on_scan, r, &r->job);
                if (e >= 0)
                        return;
                free(j);
        } else {
                e = -ENOMEM;
        }
        r->failed = true;
        fence_log(r, LOG_ERR, "cannot start a worker: %s", strerror(-e));
        next_stage(r);
}

static void on_scan(int result, void *arg, void *userdata)
{
        struct fence_run *r = userdata;
        struct scan_job *j = arg;

        r->job = NULL;
        if (result < 0 || j->r < 0) {
                r->failed = true;
                fence_log(r, LOG_ERR, "%s did not finish: %s", r->stage == FENCE_STAGE_SHUTDOWN ?
                          "FS_IOC_SHUTDOWN" : "the /proc scan", strerror(-(result < 0 ? result : j->r)));
                next_stage(r);
                return;
        }
        if (r->stage == FENCE_STAGE_SHUTDOWN) {
                if (j->sd.error) {
                        r->failed = true;
                        fence_log(r, LOG_ERR, "FS_IOC_SHUTDOWN failed on %s: %s (%u of %u mounts shut down)",
                                  j->sd.failed_at, strerror(-j->sd.error), j->sd.done, j->sd.found);
                } else {
                        fence_log(r, LOG_NOTICE, "%u mount(s) shut down", j->sd.done);
                }
                next_stage(r);
                return;
        }
        /* kill stage: take the pidfds over */
        fence_pids_done(&r->pids);
        r->pids = j->pids;
        j->pids.n = 0;
        if (r->pids.truncated)
                fence_log(r, LOG_WARNING, "more than %d users: the rest are left to the next scan", FENCE_PIDS_MAX);
        kill_step(r);
}

/* ---- stage (c): kill --------------------------------------------------------- */

static size_t signal_all(struct fence_run *r, int sig)
{
        size_t sent = 0;

        for (size_t i = 0; i < r->pids.n; i++)
                if (syscall(SYS_pidfd_send_signal, r->pids.fd[i], sig, NULL, 0) == 0)
                        sent++;
        return sent;
}

static size_t alive(struct fence_run *r)
{
        struct pollfd p[FENCE_PIDS_MAX];
        size_t n = 0;

        for (size_t i = 0; i < r->pids.n; i++)
                p[i] = (struct pollfd) { .fd = r->pids.fd[i], .events = POLLIN };
        if (r->pids.n && poll(p, r->pids.n, 0) >= 0)        /* timeout 0: never blocks */
                for (size_t i = 0; i < r->pids.n; i++)
                        n += !(p[i].revents & (POLLIN | POLLHUP));
        return n;
}

static void kill_step(struct fence_run *r)
{
        if (!r->killing && r->grace_end == 0) {
                /* first scan done: SIGTERM */
                r->grace_end = r->stage_end - (r->stage_end - mmpd_now()) / 2;
                if (r->cfg.kill_grace > 0 &&
                    mmpd_now() + (mmp_usec_t) (r->cfg.kill_grace * MMP_USEC_PER_SEC) < r->grace_end)
                        r->grace_end = mmpd_now() + (mmp_usec_t) (r->cfg.kill_grace * MMP_USEC_PER_SEC);
                fence_log(r, LOG_WARNING, "SIGTERM to %zu process(es), SIGKILL in %.3f s",
                          signal_all(r, SIGTERM), until(r->grace_end));
                arm(r, FENCE_POLL_SEC);
                return;
        }
        if (!r->killing) {
                /* second scan done (catches late openers): SIGKILL */
                r->killing = true;
                if (r->pids.n)
                        fence_log(r, LOG_WARNING, "SIGKILL to %zu process(es)", signal_all(r, SIGKILL));
                arm(r, 0);
                return;
        }
}

static void kill_tick(struct fence_run *r)
{
        size_t n = alive(r);

        if (!r->killing) {
                if (n && mmpd_now() < r->grace_end) {
                        arm(r, FENCE_POLL_SEC);
                        return;
                }
                start_job(r, false, until(r->stage_end));       /* rescan, then SIGKILL */
                return;
        }
        if (n && mmpd_now() < r->stage_end) {
                arm(r, FENCE_POLL_SEC);
                return;
        }
        if (n) {
                r->failed = true;
                fence_log(r, LOG_ERR, "%zu process(es) survived SIGKILL (uninterruptible sleep?)", n);
        } else {
                fence_log(r, LOG_NOTICE, "no local users left");
        }
        next_stage(r);
}

/* ---- the chain --------------------------------------------------------------- */

static bool unfenced(const struct fence_run *r)
{
        return r->stage != FENCE_STAGE_DONE || r->failed || r->late;
}

static void pet_check(struct fencer *f);

static void last_resort(struct fence_run *r)
{
        int e = 0;

        switch (r->cfg.last_resort) {
        case MMPD_LAST_RESORT_WATCHDOG:
                fence_log(r, LOG_ALERT, "fence incomplete: no longer petting the watchdog");
                break;
        case MMPD_LAST_RESORT_REBOOT:
                fence_log(r, LOG_ALERT, "fence incomplete: rebooting%s%s",
                          r->cfg.reboot_command ? " with " : "", r->cfg.reboot_command ? r->cfg.reboot_command : "");
                if (r->cfg.reboot_command) {
                        e = spawn_hook(r, r->cfg.reboot_command, "reboot");
                        if (e >= 0)
                                watch_child(r);
                } else {
                        /* No sync(2): it could hang on the very device we lost. */
                        e = reboot(RB_AUTOBOOT) < 0 ? -errno : 0;
                }
                break;
        case MMPD_LAST_RESORT_HOOK:
                fence_log(r, LOG_ALERT, "fence incomplete: running %s again", r->cfg.hook ? r->cfg.hook : "(no hook)");
                if (r->cfg.hook) {
                        e = spawn_hook(r, r->cfg.hook, "last-resort");
                        if (e >= 0)
                                watch_child(r);
                }
                break;
        }
        if (e < 0)
                fence_log(r, LOG_ALERT, "last resort failed: %s", strerror(-e));
}

static void next_stage(struct fence_run *r)
{
        mmp_usec_t b;
        int e;

        mmpd_timer_stop(r->f->timers, &r->timer);
        for (;;) {
                r->stage = r->order[stage_pos(r, r->stage) + 1];
                struct fence_plan p = plan_of(r);

                if (fence_plan_runs(&p, r->stage))
                        break;
        }
        switch (r->stage) {
        case FENCE_STAGE_HOOK:
                b = stage_budget(r);
                if (r->cfg.hook_timeout > 0 && (mmp_usec_t) (r->cfg.hook_timeout * MMP_USEC_PER_SEC) < b)
                        b = (mmp_usec_t) (r->cfg.hook_timeout * MMP_USEC_PER_SEC);
                r->stage_end = mmpd_now() + b;
                e = spawn_hook(r, r->cfg.hook, "hook");
                if (e < 0) {
                        r->failed = true;
                        fence_log(r, LOG_ERR, "cannot run %s: %s", r->cfg.hook, strerror(-e));
                        next_stage(r);
                        return;
                }
                fence_log(r, LOG_WARNING, "running %s (pid %d), SIGKILL in %.3f s", r->cfg.hook,
                          (int) r->child_pid, until(r->stage_end));
                watch_child(r);
                arm(r, until(r->stage_end));
                return;
        case FENCE_STAGE_KILL:
                r->stage_end = mmpd_now() + stage_budget(r);
                r->grace_end = 0;
                r->killing = false;
                fence_log(r, LOG_WARNING, "looking for local users (%.3f s)", until(r->stage_end));
                start_job(r, false, until(r->stage_end));
                return;
        case FENCE_STAGE_SHUTDOWN:
                r->stage_end = mmpd_now() + stage_budget(r);
                fence_log(r, LOG_WARNING, "FS_IOC_SHUTDOWN on each mount (%.3f s)", until(r->stage_end));
                start_job(r, true, until(r->stage_end));
                return;
        case FENCE_STAGE_LAST_RESORT:
                r->late = mmpd_now() >= r->deadline;
                if ((r->failed || r->late) && r->cfg.last_resort != MMPD_LAST_RESORT_NONE)
                        last_resort(r);
                next_stage(r);
                return;
        default:
                r->stage = FENCE_STAGE_DONE;
                r->finished = mmpd_now();
                fence_pids_done(&r->pids);
                fence_log(r, r->failed || r->late ? LOG_CRIT : LOG_NOTICE,
                          "finished: %s margin_ms=%lld (deadline minus completion)",
                          r->late ? "late" : r->failed ? "failed" : "fenced",
                          ((long long) r->deadline - (long long) r->finished) / 1000);
                pet_check(r->f);
                if (r->f->done)
                        r->f->done(r->f->userdata);
                return;
        }
}

static void on_timer(struct mmpd_timer *t, void *userdata)
{
        struct fence_run *r = userdata;
        struct ev_loop *loop = manager_loop(r->f->m);

        switch (r->stage) {
        case FENCE_STAGE_HOOK:
                if (r->child_pid > 0) {
                        kill(-r->child_pid, SIGKILL);   /* its group; libev still reaps it */
                        ev_child_stop(loop, &r->child);
                        r->child_pid = 0;
                        r->failed = true;
                        fence_log(r, LOG_ERR, "hook overran its share: killed");
                }
                next_stage(r);
                break;
        case FENCE_STAGE_KILL:
                kill_tick(r);
                break;
        default:
                break;
        }
}

/* ---- runs ---------------------------------------------------------------------- */

static struct fence_run *run_free(struct fence_run *r)
{
        struct ev_loop *loop = manager_loop(r->f->m);

        mmpd_timer_stop(r->f->timers, &r->timer);
        ev_child_stop(loop, &r->child);
        if (r->job)
                offload_cancel(r->f->off, r->job);
        fence_pids_done(&r->pids);
        mmpd_fence_conf_done(&r->cfg);
        free(r->name);
        free(r->device);
        free(r);
        return NULL;
}

static struct fence_run *find_run(struct fencer *f, const char *name, struct fence_run ***ret_link)
{
        for (struct fence_run **p = &f->runs; *p; p = &(*p)->next)
                if (strcmp((*p)->name, name) == 0) {
                        if (ret_link)
                                *ret_link = p;
                        return *p;
                }
        return NULL;
}

static void start_run(struct fencer *f, const struct volume_event *ev)
{
        const struct mmpd_conf *conf = manager_conf(f->m);
        const struct mmpd_volume_conf *vc = ev->info->is_static ? mmpd_conf_find_volume(conf, ev->info->name) : NULL;
        const struct mmpd_fence_conf *fc = vc ? &vc->fence : &conf->fence;
        struct fence_run *r, **link;

        if (!fc->enabled) {
                log_vol(ev->volume, LOG_WARNING, "fencing is off (fence = no): not fencing");
                return;
        }
        r = find_run(f, ev->info->name, &link);
        if (r && r->stage != FENCE_STAGE_DONE && !r->volume_gone)
                return;                 /* already fencing this volume */
        if (r && r->stage == FENCE_STAGE_DONE) {
                *link = r->next;        /* an old run of a released volume */
                run_free(r);
        }
        r = calloc(1, sizeof(*r));
        if (!r || !(r->name = strdup(ev->info->name)) || !(r->device = strdup(ev->info->device)) ||
            mmpd_fence_conf_copy(fc, &r->cfg) < 0) {
                log_vol(ev->volume, LOG_CRIT, "cannot fence: out of memory");
                if (r) {
                        free(r->name);
                        free(r->device);
                        free(r);
                }
                return;
        }
        r->f = f;
        r->order = ev->info->in_use && ev->info->sm.user == MMP_USER_KERNEL ? fence_order_shutdown_first
                                                                             : fence_order_users_first;
        r->rdev = ev->info->rdev;
        r->reason = ev->error;
        snprintf(r->reason_text, sizeof(r->reason_text), "%s", ev->reason ? ev->reason : strerror(-ev->error));
        r->started = mmpd_now();
        /* No known good write (a resumed hold that never wrote): already due. */
        r->deadline = ev->info->sm.deadlines.peer_write_at ? ev->info->sm.deadlines.peer_write_at : r->started;
        mmpd_timer_init(&r->timer, on_timer, r);
        ev_child_init(&r->child, on_child, 0, 0);
        ev_set_priority(&r->child, MMPD_PRIO_HEARTBEAT);
        r->child.data = r;
        r->next = f->runs;
        f->runs = r;
        r->stage = FENCE_STAGE_NOTIFY;
        fence_log(r, LOG_CRIT, "volume lost (%s): fencing before the last good write + W, in %.3f s "
                  "(peer_write_at_usec=%llu, peer_use_at_usec=%llu)", r->reason_text, until(r->deadline),
                  (unsigned long long) r->deadline, (unsigned long long) ev->info->sm.deadlines.peer_use_at);
        if (!r->rdev && (r->cfg.kill || r->cfg.shutdown))
                fence_log(r, LOG_WARNING, "not a block device: no kill or shutdown stage");
        pet_check(f);
        next_stage(r);
}

static void on_event(const struct volume_event *ev, void *userdata)
{
        struct fencer *f = userdata;
        struct fence_run *r, **link;

        if (ev->type == VOLUME_EVENT_LOST) {
                start_run(f, ev);
        } else if (ev->type == VOLUME_EVENT_REMOVED) {
                r = find_run(f, ev->info->name, &link);
                if (r && r->stage == FENCE_STAGE_DONE) {
                        *link = r->next;
                        run_free(r);
                        pet_check(f);
                } else if (r) {
                        r->volume_gone = true;
                }
        }
}

bool fencer_busy(struct fencer *f)
{
        for (struct fence_run *r = f ? f->runs : NULL; r; r = r->next)
                if (r->stage != FENCE_STAGE_DONE)
                        return true;
        return false;
}

int fencer_get(struct fencer *f, const char *name, struct fence_info *ret)
{
        struct fence_run *r = f ? find_run(f, name, NULL) : NULL;

        if (!r)
                return -ENOENT;
        *ret = (struct fence_info) {
                .stage = r->stage,
                .stage_name = r->stage == FENCE_STAGE_LAST_RESORT ? "last_resort" : fence_stage_name(r->stage),
                .started = r->started, .finished = r->finished, .deadline = r->deadline,
                .outcome = r->stage != FENCE_STAGE_DONE ? "running" : r->late ? "late" :
                           r->failed ? "failed" : "fenced",
        };
        return 0;
}

/* ---- watchdog ------------------------------------------------------------------- */

static void pet_check(struct fencer *f)
{
        bool pause = false;

        for (struct fence_run *r = f->runs; r; r = r->next)
                if (r->cfg.last_resort == MMPD_LAST_RESORT_WATCHDOG && unfenced(r))
                        pause = true;
        if (pause != f->wd_paused && f->wd_fd >= 0)
                log_msg(pause ? LOG_ALERT : LOG_NOTICE, "watchdog %s: %s", manager_conf(f->m)->watchdog_device,
                        pause ? "a volume is lost and not fenced: no longer petting" : "petting again");
        f->wd_paused = pause;
}

static void on_pet(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct fencer *f = w->data;

        /* A watchdog write is a non-blocking driver call, not block I/O. */
        if (!f->wd_paused && write(f->wd_fd, ".", 1) < 0)
                log_warning("watchdog: write failed: %s", strerror(errno));
}

int fencer_new(struct manager *m, struct mmpd_timers *timers, void (*done)(void *userdata),
               void *userdata, struct fencer **ret)
{
        const struct mmpd_conf *conf = manager_conf(m);
        struct fencer *f = calloc(1, sizeof(*f));
        int r;

        if (!f)
                return -ENOMEM;
        f->m = m;
        f->timers = timers;
        f->done = done;
        f->userdata = userdata;
        f->wd_fd = -1;
        r = offload_new(manager_loop(m), 64, &f->off);
        if (r < 0)
                goto fail;
        f->sub = manager_subscribe(m, on_event, f);
        if (!f->sub) {
                r = -ENOMEM;
                goto fail;
        }
        ev_timer_init(&f->wd_timer, on_pet, 0., 0.);
        ev_set_priority(&f->wd_timer, MMPD_PRIO_HEARTBEAT);
        f->wd_timer.data = f;
        if (conf->watchdog_device) {
                f->wd_fd = open(conf->watchdog_device, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (f->wd_fd < 0) {
                        r = -errno;
                        log_error("watchdog %s: %s", conf->watchdog_device, strerror(-r));
                        goto fail;
                }
                ev_timer_set(&f->wd_timer, 0., conf->watchdog_interval > 0 ? conf->watchdog_interval : 1.);
                ev_timer_start(manager_loop(m), &f->wd_timer);
        }
        *ret = f;
        return 0;
fail:
        fencer_free(f);
        return r;
}

struct fencer *fencer_free(struct fencer *f)
{
        if (!f)
                return NULL;
        while (f->runs) {
                struct fence_run *r = f->runs;

                f->runs = r->next;
                run_free(r);
        }
        ev_timer_stop(manager_loop(f->m), &f->wd_timer);
        if (f->wd_fd >= 0)
                close(f->wd_fd);        /* no magic 'V': a real watchdog keeps running */
        manager_unsubscribe(f->m, f->sub);
        offload_free(f->off);
        free(f);
        return NULL;
}
