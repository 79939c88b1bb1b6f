/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl hold [--name NAME] DEVICE: claim DEVICE through mmpd and stay
 * running while it is held.  Made for mmpd@.service (Type=notify):
 *
 *   - READY=1 once mmpd holds the volume, so `systemctl start` returns then;
 *   - STATUS= with the state, seq and holder, refreshed every few seconds;
 *   - exit 1 when the volume is LOST (or released by someone else), so the
 *     unit fails and units with BindsTo= on it are stopped;
 *   - a volume handed to a local user (in_use: `mmpctl mount`, `mmpctl
 *     exec`) is still this node's, and so is one mmpd claims again when the
 *     use ends (keep); a use that ends in a release ends the hold;
 *   - SIGTERM/SIGINT releases the volume (mmpd writes CLEAN), exit 0.
 *
 * When mmpd restarts (its fd store carries the hold), the event stream
 * breaks: reconnect, and go on only if mmpd still (or again) holds the
 * volume.
 *
 * Two threads, one libmmp client each (a client is not thread-safe): the
 * worker claims and then follows events; the main thread waits for signals
 * and polls Check for STATUS=.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "libmmp.h"
#include "mmpctl.h"

#define HOLD_POLL_SEC 5            /* STATUS= refresh and safety-net check */
#define HOLD_RECONNECT_SEC 60      /* how long mmpd may take to come back */
#define HOLD_CALL_TIMEOUT_USEC (10u * 1000000u)
#define HOLD_ENDED 1000            /* event callback: our volume is gone */

struct hold {
        const struct mmpctl_ctx *ctx;
        const char *device;
        const char *name;          /* --name, or NULL */
        char *vol_name;            /* as mmpd registered it */
        atomic_bool held;
        atomic_bool stopping;      /* SIGTERM: the main thread releases */
        pthread_mutex_t lock;      /* one exit path at a time */
};

static void hold_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl hold [--name NAME] [--socket PATH] DEVICE\n"
                "\n"
                "Have mmpd claim DEVICE and keep running while it is held, for\n"
                "mmpd@.service (Type=notify): READY=1 once held, STATUS= with state, seq\n"
                "and holder.  SIGTERM or SIGINT releases the volume.  If the volume is\n"
                "lost, exits 1.  Root or mmpd's admin group only.\n"
                "Exit status: 0 released on request, 1 refused or lost, 2 error.\n");
}

/* End the process from any thread, unless a release is under way. */
__attribute__((noreturn)) static void hold_exit(struct hold *h, int code, const char *status)
{
        pthread_mutex_lock(&h->lock);
        if (atomic_load(&h->stopping)) {
                /* The main thread is releasing and will exit itself. */
                pthread_mutex_unlock(&h->lock);
                for (;;)
                        pause();
        }
        if (status)
                sd_notifyf(0, "STATUS=%s", status);
        fflush(stdout);
        fflush(stderr);
        _exit(code);
}

static bool is_ours(const struct hold *h, const struct mmp_volume *v)
{
        const char *n = mmp_volume_get_name(v), *d = mmp_volume_get_device(v);

        if (h->vol_name && strcmp(n, h->vol_name) == 0)
                return true;
        return strcmp(d, h->device) == 0 || strcmp(n, h->device) == 0;
}

static void send_status(const struct mmp_volume *v)
{
        const struct mmp_holder *ho = mmp_volume_get_holder(v);
        _cleanup_free_ char *node = ho ? mmpctl_escape(mmp_holder_get_node(ho)) : NULL;
        _cleanup_free_ char *dev = ho ? mmpctl_escape(mmp_holder_get_device(ho)) : NULL;
        char use[512];
        uint32_t seq;

        if (mmp_volume_in_use(v)) {
                if (mmp_volume_get_use_user_seq(v, &seq) == 0)
                        sd_notifyf(0, "STATUS=%s: %s, user seq %" PRIu32, mmp_volume_get_state_name(v),
                                   mmpctl_use_text(v, use, sizeof(use)), seq);
                else
                        sd_notifyf(0, "STATUS=%s: %s", mmp_volume_get_state_name(v),
                                   mmpctl_use_text(v, use, sizeof(use)));
                return;
        }
        if (mmp_volume_get_seq(v, &seq) < 0)
                seq = 0;
        sd_notifyf(0, "STATUS=%s: seq %" PRIu32 ", holder node '%s' device '%s'",
                   mmp_volume_get_state_name(v), seq, node ? node : "-", dev ? dev : "-");
}

/* ---- worker: claim, then follow events ---------------------------------- */

static int on_progress(struct mmp_client *client, const struct mmp_volume_event *ev, void *userdata)
{
        struct mmp_volume *v = mmp_volume_event_get_volume(ev);
        _cleanup_free_ char *phase = mmpctl_escape(mmp_volume_get_phase(v));
        uint32_t w;

        if (mmp_volume_event_get_type(ev) != MMP_VOLUME_EVENT_PROGRESS)
                return 0;
        if (mmp_volume_get_wait_seconds(v, &w) == 0)
                sd_notifyf(0, "STATUS=claiming: %s (W = %" PRIu32 " s)", phase ? phase : "?", w);
        else
                sd_notifyf(0, "STATUS=claiming: %s", phase ? phase : "?");
        return 0;
}

static int on_event(struct mmp_client *client, const struct mmp_volume_event *ev, void *userdata)
{
        struct hold *h = userdata;
        struct mmp_volume *v = mmp_volume_event_get_volume(ev);
        const char *reason = mmp_volume_event_get_reason(ev);
        _cleanup_free_ char *why = reason ? mmpctl_escape(reason) : NULL;
        char status[512];

        if (!is_ours(h, v))
                return 0;
        switch (mmp_volume_event_get_type(ev)) {
        case MMP_VOLUME_EVENT_LOST:
                mmpctl_err("%s: LOST: %s", h->device, why ? why : "no reason given");
                snprintf(status, sizeof(status), "LOST: %s", why ? why : "-");
                hold_exit(h, MMPCTL_EXIT_UNUSABLE, status);
        case MMP_VOLUME_EVENT_RELEASED:
        case MMP_VOLUME_EVENT_REMOVED:
                mmpctl_err("%s: released outside this unit", h->device);
                hold_exit(h, MMPCTL_EXIT_UNUSABLE, "released outside this unit");
        case MMP_VOLUME_EVENT_REFUSED:
                /* Only a claim after a use ended can be refused now. */
                mmpctl_err("%s: claimed again after its use, refused: %s", h->device,
                           why ? why : "no reason given");
                snprintf(status, sizeof(status), "refused after use: %s", why ? why : "-");
                hold_exit(h, MMPCTL_EXIT_UNUSABLE, status);
        case MMP_VOLUME_EVENT_CLAIMED:
        case MMP_VOLUME_EVENT_CHECK_INTERVAL:
        case MMP_VOLUME_EVENT_HANDOFF:
        case MMP_VOLUME_EVENT_IN_USE:
        case MMP_VOLUME_EVENT_USE_ENDED:
                /* In use, or claimed again after it: still this node's. */
                send_status(v);
                return 0;
        default:
                return 0;
        }
}

/* After mmpd came back: 0 when it holds our volume again. */
static int still_held(struct hold *h, struct mmp_client *client)
{
        struct mmp_check chk = MMP_CHECK_INIT;
        enum mmp_volume_state st;
        int r;

        r = mmp_check(client, h->device, &chk);
        if (r < 0)
                return r;
        st = chk.volume ? mmp_volume_get_state(chk.volume) : MMP_VOLUME_STATE_UNKNOWN;
        /* Handed to a local user and watched: still ours. */
        if (st == MMP_VOLUME_HELD || st == MMP_VOLUME_IN_USE)
                send_status(chk.volume);
        mmp_check_clear(&chk);
        if (st == MMP_VOLUME_HELD || st == MMP_VOLUME_IN_USE)
                return 0;
        /* A resumed hold is CLAIMING until its first heartbeat lands. */
        return st == MMP_VOLUME_CLAIMING ? -EAGAIN : -ENOLINK;
}

static struct mmp_client *reconnect(struct hold *h)
{
        struct timespec start, now, pause = { 0, 200 * 1000 * 1000 };
        const char *path = h->ctx->socket_path ? h->ctx->socket_path : mmp_default_socket_path();
        int r = -ETIMEDOUT;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct mmp_client *c = NULL;

                if (mmp_client_connect(path, &c) == 0) {
                        mmp_client_set_timeout(c, HOLD_CALL_TIMEOUT_USEC);
                        r = still_held(h, c);
                        if (r == 0) {
                                mmp_client_set_timeout(c, 0);
                                return c;
                        }
                        mmp_client_free(c);
                        if (r == -ENOENT || r == -ENOLINK)
                                break;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec >= HOLD_RECONNECT_SEC)
                        break;
                nanosleep(&pause, NULL);
        }
        mmpctl_err("%s: mmpd no longer holds it after reconnecting (%s)", h->device,
                   r == -ENOENT ? "unknown to mmpd" : r == -ENOLINK ? "not held" : strerror(-r));
        hold_exit(h, MMPCTL_EXIT_UNUSABLE, "no longer held after mmpd restarted");
}

static void claim(struct hold *h, struct mmp_client *client)
{
        struct mmp_volume *v = NULL;
        int r;

        sd_notify(0, "STATUS=claiming");
        r = mmp_claim(client, h->device, h->name, on_progress, h, &v);
        if (r == -EEXIST && still_held(h, client) == 0)
                r = 0;          /* this node holds it already: adopt the hold */
        if (r < 0) {
                char status[512];
                const struct mmp_error *e = mmp_client_last_error(client);

                mmpctl_err_call(client, r, "claim failed");
                snprintf(status, sizeof(status), "claim failed: %s",
                         e ? mmp_error_get_message(e) : strerror(-r));
                hold_exit(h, r == -ENOMEM || r == -ETIMEDOUT || r == -ECONNRESET ?
                          MMPCTL_EXIT_ERROR : MMPCTL_EXIT_UNUSABLE, status);
        }
        if (v) {
                h->vol_name = strdup(mmp_volume_get_name(v));
                send_status(v);
                mmp_volume_unref(v);
        }
        atomic_store(&h->held, true);
        sd_notify(0, "READY=1");
}

static void *worker(void *userdata)
{
        struct hold *h = userdata;
        struct mmp_client *client = NULL;
        int r;

        if (mmpctl_connect(h->ctx, 0, &client) < 0)
                hold_exit(h, MMPCTL_EXIT_ERROR, "cannot reach mmpd");
        claim(h, client);
        for (;;) {
                r = mmp_watch(client, on_event, h);
                mmp_client_free(client);
                if (atomic_load(&h->stopping))
                        return NULL;
                sd_notifyf(0, "STATUS=mmpd went away (%s): reconnecting",
                           r == 0 ? "watch ended" : strerror(-r));
                client = reconnect(h);
        }
}

/* ---- main thread: signals, STATUS= ---------------------------------------- */

static void poll_status(struct hold *h)
{
        struct mmp_client *c = NULL;
        int r;

        if (!atomic_load(&h->held))
                return;
        if (mmp_client_connect(h->ctx->socket_path ? h->ctx->socket_path : mmp_default_socket_path(), &c) < 0)
                return;         /* mmpd restarting: the worker deals with it */
        mmp_client_set_timeout(c, HOLD_CALL_TIMEOUT_USEC);
        r = still_held(h, c);
        mmp_client_free(c);
        /* A hold that mmpd no longer has (an event we missed while
         * reconnecting) ends here at the latest. */
        if (r == -ENOENT || r == -ENOLINK) {
                mmpctl_err("%s: mmpd no longer holds it", h->device);
                hold_exit(h, MMPCTL_EXIT_UNUSABLE, "no longer held");
        }
}

static int release(struct hold *h)
{
        struct mmp_client *c = NULL;
        int r;

        sd_notify(0, "STOPPING=1\nSTATUS=releasing");
        if (mmpctl_connect(h->ctx, 60u * 1000000u, &c) < 0)
                return MMPCTL_EXIT_ERROR;
        r = mmp_release(c, h->vol_name ? h->vol_name : h->device, NULL);
        if (r < 0 && r != -ENOENT) {
                mmpctl_err_call(c, r, "release failed");
                mmp_client_free(c);
                return MMPCTL_EXIT_ERROR;
        }
        mmp_client_free(c);
        return MMPCTL_EXIT_OK;
}

int mmpctl_cmd_hold(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "name",   required_argument, NULL, 'n' },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct hold h = { .ctx = ctx, .lock = PTHREAD_MUTEX_INITIALIZER };
        struct timespec tick = { HOLD_POLL_SEC, 0 };
        pthread_t tid;
        sigset_t sigs;
        int c, sig, ret;

        while ((c = getopt_long(argc, argv, "hn:", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        h.name = optarg;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        hold_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        hold_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                hold_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        h.device = argv[optind];

        /* Signals are taken with sigtimedwait() here, never by the worker. */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        if (pthread_create(&tid, NULL, worker, &h) != 0) {
                mmpctl_err("cannot start a thread: %s", strerror(errno));
                return MMPCTL_EXIT_ERROR;
        }
        for (;;) {
                sig = sigtimedwait(&sigs, NULL, &tick);
                if (sig == SIGTERM || sig == SIGINT)
                        break;
                poll_status(&h);
        }
        pthread_mutex_lock(&h.lock);
        atomic_store(&h.stopping, true);
        pthread_mutex_unlock(&h.lock);
        /* Also aborts a claim still in progress. */
        ret = release(&h);
        fflush(stderr);
        _exit(ret);
}
