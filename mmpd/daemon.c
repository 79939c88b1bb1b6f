/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The composition root and the daemon's life cycle: see daemon.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "fdstore.h"
#include "fence.h"
#include "io.h"
#include "log.h"
#include "manager.h"
#include "systemd.h"
#include "timer.h"
#include "varlink-methods.h"

struct daemon {
        struct ev_loop *loop;
        struct daemon_options opts;
        struct mmpd_conf *conf;
        char *node_name;

        struct mmpd_io *io;
        struct mmpd_timers *timers;
        struct manager *manager;
        struct fencer *fencer;
        struct mmpd_systemd *sd;
        struct fdstore *fdstore;
        struct varlink_server *varlink;
        struct subscription *sub;

        ev_signal sig_term, sig_int, sig_hup;
        ev_timer watchdog;
        ev_timer status_timer;
        ev_timer stop_timer;
        bool stopping;
        bool status_dirty;
};

/* ---- sd_notify STATUS ------------------------------------------------------ */

static void send_status(struct daemon *d)
{
        unsigned n[MMP_STATE_IN_USE + 1];

        manager_count_states(d->manager, n);
        sd_notifyf(0, "STATUS=held %u, claiming %u, lost %u, refused %u",
                   n[MMP_STATE_HELD], n[MMP_STATE_CLAIMING], n[MMP_STATE_LOST], n[MMP_STATE_REFUSED]);
        d->status_dirty = false;
}

static void on_status_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        send_status(w->data);
}

static void status_changed(struct daemon *d)
{
        /* Coalesce: thousands of volumes changing at once send one STATUS. */
        if (!d->status_dirty) {
                d->status_dirty = true;
                ev_timer_set(&d->status_timer, 0.2, 0.);
                ev_timer_start(d->loop, &d->status_timer);
        }
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
        sd_notify(0, "WATCHDOG=1");
}

/* ---- shutdown ------------------------------------------------------------------ */

static void maybe_finish_stop(struct daemon *d)
{
        if (!d->stopping || manager_busy(d->manager))
                return;
        /* Exiting mid-fence would leave users of a lost volume running. */
        if (fencer_busy(d->fencer))
                return;
        ev_break(d->loop, EVBREAK_ALL);
}

static void on_fence_done(void *userdata)
{
        maybe_finish_stop(userdata);
}

static void on_event(const struct volume_event *ev, void *userdata)
{
        struct daemon *d = userdata;

        if (ev->type == VOLUME_EVENT_PROGRESS || ev->type == VOLUME_EVENT_SLOW_IO)
                return;
        status_changed(d);
        maybe_finish_stop(d);
}

static void on_stop_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        log_error("shutdown: releases did not finish in time, exiting anyway");
        ev_break(loop, EVBREAK_ALL);
}

static void daemon_stop(struct daemon *d, const char *why)
{
        if (d->stopping)
                return;
        d->stopping = true;
        sd_notify(0, "STOPPING=1");
        if (d->conf->keep_on_stop || d->opts.keep_on_stop) {
                log_notice("%s: exiting and keeping %u held volume(s) (keep_on_stop)", why,
                           manager_count(d->manager, MMP_STATE_HELD));
                ev_break(d->loop, EVBREAK_ALL);
                return;
        }
        log_notice("%s: releasing every volume", why);
        manager_stop(d->manager);
        /* Every release I/O has its own deadline; this is the backstop. */
        ev_timer_set(&d->stop_timer, 60., 0.);
        ev_timer_start(d->loop, &d->stop_timer);
        maybe_finish_stop(d);
}

/* ---- configuration ----------------------------------------------------------- */

static int load_conf(struct daemon *d, struct mmpd_conf **ret)
{
        _cleanup_free_ char *error = NULL;
        struct mmpd_conf *conf;
        int r;

        r = mmpd_conf_load(d->opts.config_path ? d->opts.config_path : MMPD_DEFAULT_CONFIG,
                           d->opts.config_must_exist, &conf, &error);
        if (r < 0) {
                log_error("%s", error ? error : strerror(-r));
                return r;
        }
        if (d->opts.socket_path) {
                free(conf->socket_path);
                conf->socket_path = strdup(d->opts.socket_path);
                if (!conf->socket_path) {
                        mmpd_conf_free(conf);
                        return -ENOMEM;
                }
        }
        *ret = conf;
        return 0;
}

int daemon_reload(struct daemon *d)
{
        struct mmpd_conf *conf, *old = d->conf;
        int r;

        r = load_conf(d, &conf);
        if (r < 0) {
                log_error("reload failed: keeping the old configuration");
                return r;
        }
        if (strcmp(conf->node_name, old->node_name) != 0 || d->opts.node_name)
                log_notice("node_name changes take effect at restart");
        d->conf = conf;
        manager_set_conf(d->manager, conf);
        mmpd_conf_free(old);
        log_info("configuration reloaded: %zu static volumes", conf->n_volumes);
        return 0;
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
        struct daemon *d = w->data;

        if (w->signum == SIGHUP) {
                log_info("SIGHUP: reloading the configuration");
                daemon_reload(d);
                return;
        }
        daemon_stop(d, w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- the fencer, seen through the registry --------------------------------------- */

static void add_fence_info(struct volume *v, struct volume_info *info, void *userdata)
{
        struct daemon *d = userdata;

        if (info->state == MMP_STATE_LOST)
                info->have_fence = fencer_get(d->fencer, info->name, &info->fence) >= 0;
}

/* ---- control socket --------------------------------------------------------------- */

static void varlink_log(int prio, const char *msg, void *userdata)
{
        log_msg(prio, "varlink: %s", msg);
}

static int start_control(struct daemon *d)
{
        struct varlink_options o = {
                .socket_path = d->conf->socket_path,
                .admin_group = d->conf->admin_group,
                .log = varlink_log,
        };
        int r;

        r = varlink_server_new(d->loop, d->manager, &o, &d->varlink);
        if (r < 0)
                goto out;
        if (mmpd_systemd_varlink_fd(d->sd) >= 0) {
                /* Socket activation: mmpd.socket owns the path. */
                r = varlink_server_adopt_fd(d->varlink, mmpd_systemd_varlink_fd(d->sd));
                if (r >= 0) {
                        mmpd_systemd_took_varlink(d->sd);
                        return 0;
                }
                log_error("the control socket systemd passed is unusable: %s", strerror(-r));
                return r;
        }
        r = varlink_server_listen_path(d->varlink, NULL);
out:
        if (r < 0)
                log_error("control socket %s: %s", o.socket_path, strerror(-r));
        return r;
}

/* ---- life cycle ------------------------------------------------------------------ */

int daemon_new(struct ev_loop *loop, const struct daemon_options *opts, struct daemon **ret)
{
        struct manager_env env;
        struct daemon *d;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->loop = loop;
        d->opts = *opts;
        r = load_conf(d, &d->conf);
        if (r < 0)
                goto fail;
        d->node_name = strdup(opts->node_name ? opts->node_name : d->conf->node_name);
        if (!d->node_name) {
                r = -ENOMEM;
                goto fail;
        }
        r = mmpd_systemd_new(&d->sd);
        if (r < 0)
                goto fail;
        /* One AIO slot per volume: a stuck device keeps its slot, never another's. */
        r = mmpd_io_new(loop, d->conf->max_volumes + 16, &d->io);
        if (r < 0) {
                log_error("cannot set up asynchronous I/O: %s", strerror(-r));
                goto fail;
        }
        r = mmpd_timers_new(loop, MMPD_PRIO_HEARTBEAT, &d->timers);
        if (r < 0) {
                log_error("cannot set up timers: %s", strerror(-r));
                goto fail;
        }
        env = (struct manager_env) {
                .loop = loop, .io = d->io, .timers = d->timers, .node_name = d->node_name,
        };
        r = manager_new(&env, d->conf, &d->manager);
        if (r < 0)
                goto fail;
        ev_signal_init(&d->sig_term, on_signal, SIGTERM);
        ev_signal_init(&d->sig_int, on_signal, SIGINT);
        ev_signal_init(&d->sig_hup, on_signal, SIGHUP);
        d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
        ev_timer_init(&d->status_timer, on_status_timer, 0., 0.);
        ev_timer_init(&d->stop_timer, on_stop_timer, 0., 0.);
        ev_timer_init(&d->watchdog, on_watchdog, 0., 0.);
        d->status_timer.data = d->stop_timer.data = d->watchdog.data = d;
        *ret = d;
        return 0;
fail:
        daemon_free(d);
        return r;
}

int daemon_start(struct daemon *d)
{
        uint64_t wd_usec = 0;
        int r;

        ev_signal_start(d->loop, &d->sig_term);
        ev_signal_start(d->loop, &d->sig_int);
        ev_signal_start(d->loop, &d->sig_hup);

        if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
                double every = (double) wd_usec / 2e6;

                ev_timer_set(&d->watchdog, every, every);
                ev_timer_start(d->loop, &d->watchdog);
        }

        /* Subscribers first, so they see the first claims' events. */
        if (fencer_new(d->manager, d->timers, on_fence_done, d, &d->fencer) < 0)
                return -EIO;
        manager_set_info_hook(d->manager, add_fence_info, d);
        d->sub = manager_subscribe(d->manager, on_event, d);
        if (!d->sub)
                return -ENOMEM;
        r = fdstore_new(d->manager, d->sd, &d->fdstore);
        if (r < 0)
                return r;
        if (start_control(d) < 0)
                return -EIO;
        log_info("node %s: %zu static volume(s)", d->node_name, d->conf->n_volumes);
        fdstore_resume(d->fdstore);
        manager_claim_static(d->manager);

        sd_notify(0, "READY=1");
        send_status(d);
        return 0;
}

struct daemon *daemon_free(struct daemon *d)
{
        if (!d)
                return NULL;
        /* The control plane first: no client may reach a volume being freed. */
        d->varlink = varlink_server_free(d->varlink);
        d->fdstore = fdstore_free(d->fdstore);
        d->fencer = fencer_free(d->fencer);
        if (d->manager)
                manager_unsubscribe(d->manager, d->sub);
        d->manager = manager_free(d->manager);
        d->timers = mmpd_timers_free(d->timers);
        mmpd_io_free(d->io);
        ev_signal_stop(d->loop, &d->sig_term);
        ev_signal_stop(d->loop, &d->sig_int);
        ev_signal_stop(d->loop, &d->sig_hup);
        ev_timer_stop(d->loop, &d->status_timer);
        ev_timer_stop(d->loop, &d->stop_timer);
        ev_timer_stop(d->loop, &d->watchdog);
        /* Not forgetting anything: what is in the store stays for the next mmpd. */
        d->sd = mmpd_systemd_free(d->sd);
        mmpd_conf_free(d->conf);
        free(d->node_name);
        free(d);
        return NULL;
}
