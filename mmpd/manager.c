/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The volume registry and the daemon's life cycle: static volumes from the
 * config, runtime claims, events to subscribers, signals, reload, shutdown
 * and the systemd notification protocol.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "fence.h"
#include "log.h"
#include "manager.h"
#include "systemd.h"
#include "varlink.h"
#include "volume.h"

struct subscription {
        struct subscription *next;
        volume_event_cb cb;
        void *userdata;
        bool dead;
};

struct manager {
        struct ev_loop *loop;
        struct manager_options opts;
        struct mmpd_conf *conf;
        char *node_name;
        struct mmpd_io *io;

        struct volume *head, *tail;
        unsigned n_volumes;
        struct volume *graveyard;       /* unlinked, freed from the check watcher */
        unsigned slot_counter;

        struct subscription *subs;
        unsigned emitting;

        ev_signal sig_term, sig_int, sig_hup;
        ev_timer watchdog;
        ev_timer status_timer;
        ev_timer stop_timer;
        ev_check reaper;
        bool stopping;
        bool status_dirty;
        struct varlink_server *varlink;
        struct fencer *fencer;
        struct mmpd_systemd *sd;
};

struct ev_loop *manager_loop(struct manager *m) { return m->loop; }
struct mmpd_io *manager_io(struct manager *m) { return m->io; }
const struct mmpd_conf *manager_conf(struct manager *m) { return m->conf; }
const char *manager_node_name(struct manager *m) { return m->node_name; }
struct fencer *manager_fencer(struct manager *m) { return m->fencer; }

/* ---- events --------------------------------------------------------------- */

struct subscription *manager_subscribe(struct manager *m, volume_event_cb cb, void *userdata)
{
        struct subscription *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->cb = cb;
        s->userdata = userdata;
        s->next = m->subs;
        m->subs = s;
        return s;
}

static void sweep_subscriptions(struct manager *m)
{
        struct subscription **p = &m->subs;

        while (*p) {
                struct subscription *s = *p;

                if (s->dead) {
                        *p = s->next;
                        free(s);
                } else {
                        p = &s->next;
                }
        }
}

struct subscription *manager_unsubscribe(struct manager *m, struct subscription *s)
{
        if (!s)
                return NULL;
        s->dead = true;
        if (!m->emitting)
                sweep_subscriptions(m);
        return NULL;
}

static void status_changed(struct manager *m);

/* ---- fd store ------------------------------------------------------------ */

static void sd_volume_event(struct manager *m, struct volume *v, enum volume_event_type type)
{
        int fd, r;

        switch (type) {
        case VOLUME_EVENT_CLAIMED:
                if (v->sd_slot >= 0)
                        return;
                /* A fresh fd without O_EXCL: the store's copy must never
                 * keep a mount out at a handoff (systemd drops a stored fd
                 * only some time after FDSTOREREMOVE). */
                fd = mmpd_dev_open_shared(v->dev);
                if (fd < 0) {
                        log_vol(v, LOG_WARNING, "cannot open the device for the fd store (%s): "
                                "a restart of mmpd will not keep it", strerror(-fd));
                        return;
                }
                r = mmpd_systemd_store(m->sd, fd, v->name, v->device, m->node_name);
                close(fd);
                if (r >= 0) {
                        v->sd_slot = r;
                        v->sd_seq = 0;
                        v->sd_last_good = 0;
                } else if (r != -EOPNOTSUPP) {
                        log_vol(v, LOG_WARNING, "cannot put it in the fd store (%s): "
                                "a restart of mmpd will not keep it", strerror(-r));
                }
                return;
        case VOLUME_EVENT_LOST:
        case VOLUME_EVENT_RELEASED:
        case VOLUME_EVENT_REFUSED:
        case VOLUME_EVENT_REMOVED:
        /* In local use the disk shows the user's seq, not ours: a new mmpd
         * resuming it would call it lost and fence the user.  The stored
         * dup was also opened O_EXCL, which would keep the user out. */
        case VOLUME_EVENT_HANDOFF:
                /* Never resume a lost volume; never pin a released one. */
                if (v->sd_slot >= 0) {
                        mmpd_systemd_forget(m->sd, (unsigned) v->sd_slot);
                        v->sd_slot = -1;
                }
                return;
        default:
                return;
        }
}

void manager_volume_beat(struct manager *m, struct volume *v, const struct mmp_sm_status *st)
{
        if (v->sd_slot < 0 || (st->seq == v->sd_seq && st->last_good == v->sd_last_good))
                return;
        mmpd_systemd_update(m->sd, (unsigned) v->sd_slot, st->seq, (uint16_t) st->check_interval,
                            st->last_good);
        v->sd_seq = st->seq;
        v->sd_last_good = st->last_good;
}

void manager_volume_event(struct manager *m, struct volume *v, enum volume_event_type type,
                          int error, const char *reason, mmp_usec_t io_usec)
{
        struct volume_info info;
        struct volume_event ev = {
                .type = type, .volume = v, .info = &info,
                .error = error, .reason = reason, .io_usec = io_usec,
        };

        if (type != VOLUME_EVENT_PROGRESS && type != VOLUME_EVENT_SLOW_IO)
                status_changed(m);
        sd_volume_event(m, v, type);
        if (!m->subs)
                return;
        volume_get_info(v, &info);
        m->emitting++;
        for (struct subscription *s = m->subs; s; s = s->next)
                if (!s->dead)
                        s->cb(&ev, s->userdata);
        if (--m->emitting == 0)
                sweep_subscriptions(m);
}

/* ---- registry --------------------------------------------------------------- */

struct volume *manager_first(struct manager *m) { return m->head; }
struct volume *manager_next(struct manager *m, struct volume *v) { return v->next; }

unsigned manager_count(struct manager *m, enum mmp_state state)
{
        unsigned n = 0;

        for (struct volume *v = m->head; v; v = v->next)
                n += v->state == state;
        return n;
}

static struct volume *find_same_device(struct manager *m, const struct stat *st)
{
        if (!S_ISBLK(st->st_mode) && !S_ISREG(st->st_mode))
                return NULL;
        for (struct volume *v = m->head; v; v = v->next)
                if (v->dev && mmpd_dev_is(v->dev, st))
                        return v;
        return NULL;
}

struct volume *manager_find(struct manager *m, const char *key)
{
        struct stat st;

        if (!key)
                return NULL;
        for (struct volume *v = m->head; v; v = v->next)
                if (strcmp(v->name, key) == 0 || strcmp(v->device, key) == 0)
                        return v;
        /* /dev/disk/by-id/... and /dev/sdb are the same volume; so are two
         * paths to one image file. */
        if (key[0] != '/' || stat(key, &st) < 0)
                return NULL;
        return find_same_device(m, &st);
}

static void link_volume(struct manager *m, struct volume *v)
{
        v->prev = m->tail;
        v->next = NULL;
        if (m->tail)
                m->tail->next = v;
        else
                m->head = v;
        m->tail = v;
        m->n_volumes++;
}

static void unlink_volume(struct manager *m, struct volume *v)
{
        if (v->prev)
                v->prev->next = v->next;
        else
                m->head = v->next;
        if (v->next)
                v->next->prev = v->prev;
        else
                m->tail = v->prev;
        m->n_volumes--;
}

static void maybe_finish_stop(struct manager *m);

void manager_volume_done(struct manager *m, struct volume *v)
{
        /* A static volume whose claim was refused stays listed (and keeps
         * its O_EXCL fd, so the local kernel cannot mount it either). */
        if (!v->removing && v->opts.is_static && v->state == MMP_STATE_REFUSED)
                return;
        if (!v->removing && v->state == MMP_STATE_LOST)
                return;
        ev_timer_stop(m->loop, &v->timer);
        manager_volume_event(m, v, VOLUME_EVENT_REMOVED, 0, NULL, 0);
        unlink_volume(m, v);
        v->next = m->graveyard;
        m->graveyard = v;
        maybe_finish_stop(m);
}

static void reap(struct manager *m)
{
        while (m->graveyard) {
                struct volume *v = m->graveyard;

                m->graveyard = v->next;
                volume_free(v);
        }
}

static void on_reaper(struct ev_loop *loop, ev_check *w, int revents)
{
        reap(w->data);
}

static int add_volume(struct manager *m, const char *device, const char *name, int fd,
                      bool is_static, double margin, double io_timeout, const struct mmpd_fence_conf *fc,
                      const struct mmpd_sd_volume *resume, struct volume **ret)
{
        struct stat st;
        struct volume_opts o = {
                .is_static = is_static,
                .exclusive = fc->exclusive,
                .handoff_wait = fc->handoff_wait,
                .handoff_timeout = fc->handoff_timeout,
                .margin = margin,
                .io_timeout = io_timeout,
                .slot = m->slot_counter,
        };
        struct volume *v;
        int r;

        v = manager_find(m, device);
        if (!v && name)
                v = manager_find(m, name);
        /* A passed fd of a device we hold already (the path may differ). */
        if (!v && fd >= 0 && fstat(fd, &st) == 0)
                v = find_same_device(m, &st);
        if (v) {
                if (ret)
                        *ret = v;
                return -EEXIST;
        }
        if (m->n_volumes >= m->conf->max_volumes)
                return -ENOSPC;
        r = volume_new(m, name, device, fd, &o, &v);
        if (r < 0)
                return r;
        m->slot_counter++;
        link_volume(m, v);
        if (resume) {
                /* The stored fd is shared (no O_EXCL): take it again. */
                if (o.exclusive && (r = mmpd_dev_set_exclusive(v->dev, true)) < 0)
                        log_vol(v, LOG_WARNING, "cannot reopen the device with O_EXCL (%s): "
                                "the local kernel could mount it behind mmpd's back", strerror(-r));
                v->sd_slot = (int) resume->slot;
                v->sd_seq = resume->seq;
                v->sd_last_good = resume->last_good;
                volume_resume(v, resume->seq, resume->check_interval, resume->last_good);
        } else {
                volume_claim(v);
        }
        if (ret)
                *ret = v;
        return 0;
}

/* The [volume] section for @device, by path or by the device it names. */
static const struct mmpd_volume_conf *static_conf_for(struct manager *m, const char *device, int fd)
{
        struct stat st, st2;
        bool have_st;

        for (size_t i = 0; i < m->conf->n_volumes; i++)
                if (strcmp(m->conf->volumes[i].device, device) == 0)
                        return &m->conf->volumes[i];
        have_st = fd >= 0 ? fstat(fd, &st) == 0 : stat(device, &st) == 0;
        if (!have_st || (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)))
                return NULL;
        for (size_t i = 0; i < m->conf->n_volumes; i++) {
                if (stat(m->conf->volumes[i].device, &st2) < 0 || (st.st_mode & S_IFMT) != (st2.st_mode & S_IFMT))
                        continue;
                if (S_ISBLK(st.st_mode) ? st.st_rdev == st2.st_rdev
                                        : st.st_dev == st2.st_dev && st.st_ino == st2.st_ino)
                        return &m->conf->volumes[i];
        }
        return NULL;
}

int manager_claim(struct manager *m, const char *device, const char *name, int fd,
                  struct volume **ret)
{
        const struct mmpd_volume_conf *vc;
        int r;

        if (m->stopping)
                return -ESHUTDOWN;
        /* A static volume released earlier comes back as itself: its name,
         * its options, listed as static. */
        vc = static_conf_for(m, device, fd);
        if (vc && (!name || strcmp(name, vc->name) == 0))
                r = add_volume(m, device, vc->name, fd, true, vc->margin, vc->io_timeout, &vc->fence, NULL, ret);
        else
                r = add_volume(m, device, name, fd, false, m->conf->margin, m->conf->io_timeout,
                               &m->conf->fence, NULL, ret);
        if (r < 0 && r != -EEXIST)
                log_warning("cannot claim %s: %s", device, strerror(-r));
        return r;
}

int manager_release(struct manager *m, struct volume *v)
{
        return volume_release(v);
}

int manager_handoff(struct manager *m, struct volume *v, const struct handoff_request *req)
{
        if (m->stopping)
                return -ESHUTDOWN;
        return volume_handoff(v, req);
}

int manager_end_use(struct manager *m, struct volume *v, int keep)
{
        return volume_end_use(v, keep);
}

/* ---- static volumes, reload --------------------------------------------------- */

static void claim_static(struct manager *m, const struct mmpd_volume_conf *vc)
{
        struct volume *v;
        int r;

        r = add_volume(m, vc->device, vc->name, -1, true, vc->margin, vc->io_timeout,
                       &vc->fence, NULL, &v);
        if (r == -EEXIST) {
                log_warning("%s:%u: volume %s (%s): the same device is already registered as %s",
                            m->conf->path ? m->conf->path : "config", vc->line, vc->name, vc->device,
                            volume_name(v));
                return;
        }
        if (r >= 0)
                return;
        log_error("%s:%u: volume %s: cannot use device %s: %s", m->conf->path ? m->conf->path : "config",
                  vc->line, vc->name, vc->device,
                  r == -ENOTBLK ? "not a block device or regular file" : strerror(-r));
        /* Listed all the same, with its reason, until the config changes. */
        if (volume_new_unusable(m, vc->name, vc->device, r, &v) == 0)
                link_volume(m, v);
}

/* Holds a previous mmpd left in the fd store: resume each (no claim wait). */
static void resume_stored(struct manager *m)
{
        for (unsigned i = 0; i < mmpd_systemd_n_stored(m->sd); i++) {
                const struct mmpd_sd_volume *sv = mmpd_systemd_stored(m->sd, i);
                const struct mmpd_volume_conf *vc = mmpd_conf_find_volume(m->conf, sv->name);
                bool is_static = vc && strcmp(vc->device, sv->device) == 0;
                struct volume *v;
                int r;

                if (strcmp(sv->node, m->node_name) != 0)
                        log_warning("volume %s (%s): stored by node '%s', this is '%s': "
                                    "resuming will find it is not ours", sv->name, sv->device,
                                    sv->node, m->node_name);
                r = add_volume(m, sv->device, sv->name, sv->fd, is_static,
                               is_static ? vc->margin : m->conf->margin,
                               is_static ? vc->io_timeout : m->conf->io_timeout,
                               is_static ? &vc->fence : &m->conf->fence, sv, &v);
                if (r < 0) {
                        log_error("volume %s (%s): cannot resume from the fd store: %s",
                                  sv->name, sv->device, strerror(-r));
                        mmpd_systemd_forget(m->sd, sv->slot);
                        continue;
                }
                log_vol(v, LOG_NOTICE, "resuming the hold (seq %#x) from the fd store", sv->seq);
        }
        mmpd_systemd_stored_done(m->sd);
}

static int load_conf(struct manager *m, struct mmpd_conf **ret)
{
        _cleanup_free_ char *error = NULL;
        int r;

        r = mmpd_conf_load(m->opts.config_path ? m->opts.config_path : MMPD_DEFAULT_CONFIG,
                           m->opts.config_must_exist, ret, &error);
        if (r < 0)
                log_error("%s", error ? error : strerror(-r));
        return r;
}

int manager_reload(struct manager *m)
{
        struct mmpd_conf *conf;
        int r;

        r = load_conf(m, &conf);
        if (r < 0) {
                log_error("reload failed: keeping the old configuration");
                return r;
        }
        /* Static volumes gone from the file (or moved to another device) go. */
        for (struct volume *v = m->head, *next; v; v = next) {
                const struct mmpd_volume_conf *vc;

                next = v->next;
                if (!v->opts.is_static)
                        continue;
                vc = mmpd_conf_find_volume(conf, v->name);
                if (vc && strcmp(vc->device, v->device) == 0)
                        continue;
                if (volume_release(v) == -EBUSY)
                        log_vol(v, LOG_WARNING, "no longer in %s, but in local use: left to its user until it ends",
                                conf->path ? conf->path : "the config");
                else
                        log_vol(v, LOG_NOTICE, "no longer in %s: releasing", conf->path ? conf->path : "the config");
        }
        if (strcmp(conf->node_name, m->conf->node_name) != 0 || m->opts.node_name)
                log_notice("node_name changes take effect at restart");
        mmpd_conf_free(m->conf);
        m->conf = conf;
        /* Static volumes that could not be opened are tried again. */
        for (struct volume *v = m->head, *next; v; v = next) {
                next = v->next;
                if (!v->dev && v->opts.is_static) {
                        unlink_volume(m, v);
                        volume_free(v);
                }
        }
        for (size_t i = 0; i < conf->n_volumes; i++)
                if (!manager_find(m, conf->volumes[i].name))
                        claim_static(m, &conf->volumes[i]);
        log_info("configuration reloaded: %zu static volumes", conf->n_volumes);
        return 0;
}

/* ---- systemd notify ------------------------------------------------------------ */

static void send_status(struct manager *m)
{
        sd_notifyf(0, "STATUS=held %u, claiming %u, lost %u, refused %u",
                   manager_count(m, MMP_STATE_HELD), manager_count(m, MMP_STATE_CLAIMING),
                   manager_count(m, MMP_STATE_LOST), manager_count(m, MMP_STATE_REFUSED));
        m->status_dirty = false;
}

static void on_status_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        send_status(w->data);
}

static void status_changed(struct manager *m)
{
        /* Coalesce: thousands of volumes changing at once send one STATUS. */
        if (!m->status_dirty) {
                m->status_dirty = true;
                ev_timer_set(&m->status_timer, 0.2, 0.);
                ev_timer_start(m->loop, &m->status_timer);
        }
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
        sd_notify(0, "WATCHDOG=1");
}

/* ---- shutdown ------------------------------------------------------------------ */

static void maybe_finish_stop(struct manager *m)
{
        if (!m->stopping)
                return;
        for (struct volume *v = m->head; v; v = v->next)
                if (v->state == MMP_STATE_CLAIMING || v->state == MMP_STATE_HELD ||
                    v->state == MMP_STATE_RELEASING || v->reading_sb)
                        return;
        /* Exiting mid-fence would leave users of a lost volume running. */
        if (fencer_busy(m->fencer))
                return;
        ev_break(m->loop, EVBREAK_ALL);
}

void manager_fence_done(struct manager *m)
{
        maybe_finish_stop(m);
}

static void on_stop_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        log_error("shutdown: releases did not finish in time, exiting anyway");
        ev_break(loop, EVBREAK_ALL);
}

static void manager_stop(struct manager *m, const char *why)
{
        if (m->stopping)
                return;
        m->stopping = true;
        sd_notify(0, "STOPPING=1");
        if (m->conf->keep_on_stop || m->opts.keep_on_stop) {
                log_notice("%s: exiting and keeping %u held volume(s) (keep_on_stop)", why,
                           manager_count(m, MMP_STATE_HELD));
                ev_break(m->loop, EVBREAK_ALL);
                return;
        }
        log_notice("%s: releasing %u volume(s)", why, m->n_volumes);
        for (struct volume *v = m->head, *next; v; v = next) {
                next = v->next;
                if (volume_release(v) == -EBUSY)
                        log_vol(v, LOG_WARNING, "in local use: left to its user, no longer watched");
        }
        /* Every release I/O has its own deadline; this is the backstop. */
        ev_timer_set(&m->stop_timer, 60., 0.);
        ev_timer_start(m->loop, &m->stop_timer);
        maybe_finish_stop(m);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
        struct manager *m = w->data;

        if (w->signum == SIGHUP) {
                log_info("SIGHUP: reloading the configuration");
                manager_reload(m);
                return;
        }
        manager_stop(m, w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- life cycle ------------------------------------------------------------------ */

int manager_new(struct ev_loop *loop, const struct manager_options *opts, struct manager **ret)
{
        struct manager *m;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->loop = loop;
        m->opts = *opts;
        r = load_conf(m, &m->conf);
        if (r < 0)
                goto fail;
        m->node_name = strdup(opts->node_name ? opts->node_name : m->conf->node_name);
        if (!m->node_name) {
                r = -ENOMEM;
                goto fail;
        }
        if (opts->socket_path) {
                free(m->conf->socket_path);
                m->conf->socket_path = strdup(opts->socket_path);
                if (!m->conf->socket_path) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        r = mmpd_systemd_new(&m->sd);
        if (r < 0)
                goto fail;
        /* One AIO slot per volume: a stuck device keeps its slot, never another's. */
        r = mmpd_io_new(loop, m->conf->max_volumes + 16, &m->io);
        if (r < 0) {
                log_error("cannot set up asynchronous I/O: %s", strerror(-r));
                goto fail;
        }
        ev_signal_init(&m->sig_term, on_signal, SIGTERM);
        ev_signal_init(&m->sig_int, on_signal, SIGINT);
        ev_signal_init(&m->sig_hup, on_signal, SIGHUP);
        m->sig_term.data = m->sig_int.data = m->sig_hup.data = m;
        ev_timer_init(&m->status_timer, on_status_timer, 0., 0.);
        ev_timer_init(&m->stop_timer, on_stop_timer, 0., 0.);
        ev_timer_init(&m->watchdog, on_watchdog, 0., 0.);
        m->status_timer.data = m->stop_timer.data = m->watchdog.data = m;
        ev_check_init(&m->reaper, on_reaper);
        m->reaper.data = m;
        *ret = m;
        return 0;
fail:
        manager_free(m);
        return r;
}

static void varlink_log(int prio, const char *msg, void *userdata)
{
        log_msg(prio, "varlink: %s", msg);
}

static int start_control(struct manager *m)
{
        struct varlink_options o = {
                .socket_path = m->conf->socket_path,
                .admin_group = m->conf->admin_group,
                .log = varlink_log,
        };
        int r;

        r = varlink_server_new(m->loop, m, &o, &m->varlink);
        if (r < 0)
                goto out;
        if (mmpd_systemd_varlink_fd(m->sd) >= 0) {
                /* Socket activation: mmpd.socket owns the path. */
                r = varlink_server_adopt_fd(m->varlink, mmpd_systemd_varlink_fd(m->sd));
                if (r >= 0) {
                        mmpd_systemd_took_varlink(m->sd);
                        return 0;
                }
                log_error("the control socket systemd passed is unusable: %s", strerror(-r));
                return r;
        }
        r = varlink_server_listen_path(m->varlink, NULL);
out:
        if (r < 0)
                log_error("control socket %s: %s", o.socket_path, strerror(-r));
        return r;
}

int manager_start(struct manager *m)
{
        uint64_t wd_usec = 0;

        ev_signal_start(m->loop, &m->sig_term);
        ev_signal_start(m->loop, &m->sig_int);
        ev_signal_start(m->loop, &m->sig_hup);
        ev_check_start(m->loop, &m->reaper);

        if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
                double every = (double) wd_usec / 2e6;

                ev_timer_set(&m->watchdog, every, every);
                ev_timer_start(m->loop, &m->watchdog);
        }

        if (fencer_new(m, &m->fencer) < 0)
                return -EIO;
        if (start_control(m) < 0)
                return -EIO;
        log_info("node %s: %zu static volume(s)", m->node_name, m->conf->n_volumes);
        resume_stored(m);
        for (size_t i = 0; i < m->conf->n_volumes; i++)
                if (!manager_find(m, m->conf->volumes[i].name))
                        claim_static(m, &m->conf->volumes[i]);

        sd_notify(0, "READY=1");
        send_status(m);
        return 0;
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        m->varlink = varlink_server_free(m->varlink);
        m->fencer = fencer_free(m->fencer);
        while (m->head) {
                struct volume *v = m->head;

                unlink_volume(m, v);
                volume_free(v);
        }
        if (m->loop) {
                ev_check_stop(m->loop, &m->reaper);
                reap(m);
                ev_signal_stop(m->loop, &m->sig_term);
                ev_signal_stop(m->loop, &m->sig_int);
                ev_signal_stop(m->loop, &m->sig_hup);
                ev_timer_stop(m->loop, &m->status_timer);
                ev_timer_stop(m->loop, &m->stop_timer);
                ev_timer_stop(m->loop, &m->watchdog);
        }
        m->emitting = 0;
        for (struct subscription *s = m->subs; s; s = s->next)
                s->dead = true;
        sweep_subscriptions(m);
        mmpd_io_free(m->io);
        /* Not forgetting anything: what is in the store stays for the next mmpd. */
        m->sd = mmpd_systemd_free(m->sd);
        mmpd_conf_free(m->conf);
        free(m->node_name);
        free(m);
        return NULL;
}
