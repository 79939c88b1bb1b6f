/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The volume registry and its event bus (manager.h): static volumes from
 * the config, runtime claims, resumed holds, and events to subscribers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"

struct subscription {
        struct subscription *next;
        volume_event_cb cb;
        volume_beat_cb beat_cb;
        void *userdata;
        bool dead;
};

/* The registry's link of one volume (VOLUME_SLOT_REGISTRY). */
struct entry {
        struct manager *m;
        struct volume *v;
        struct entry *prev, *next;
        struct entry *by_name_next, *by_device_next, *by_id_next;      /* hash chains */
        uint64_t id_key;                /* volume_device_key(), taken once */
        size_t order_idx;               /* in manager.order */
};

/*
 * The registered volumes in registration order, densely, for List's
 * snapshot: a removed one leaves a hole (NULL) until holes are half the
 * array, then the array is compacted.  The entries themselves lie one per
 * page among the volume objects, so a walk of their links at 10,000
 * volumes missed the cache and the TLB at every step (3.2-3.8 ms of the
 * loop per List); this array is 80 KB read in order.
 */
struct order {
        struct volume **v;
        size_t len, cap, holes;
};

/* Name, device path and device identity (mmpd_dev_key) -> entry: Check
 * looks a volume up on every call, and every claim looks for the same
 * device under another path; a walk of 10,000 entries was most of the
 * cost of each (and made starting with 10,000 volumes quadratic). */
struct index {
        struct entry **by_name, **by_device, **by_id;
        size_t size;                    /* buckets, a power of two */
};

struct manager {
        struct manager_env env;
        struct volume_host host;
        const struct mmpd_conf *conf;

        struct entry *head, *tail;
        unsigned n_volumes;
        struct order order;
        struct entry *graveyard;        /* unlinked, freed from the check watcher */
        struct index index;
        unsigned slot_counter;

        struct subscription *subs, *beat_subs;
        unsigned emitting;
        volume_info_hook info_hook;
        void *info_userdata;

        ev_check reaper;
        bool stopping;
};

struct ev_loop *manager_loop(struct manager *m) { return m->env.loop; }
const struct mmpd_conf *manager_conf(struct manager *m) { return m->conf; }
const char *manager_node_name(struct manager *m) { return m->env.node_name; }

void manager_set_info_hook(struct manager *m, volume_info_hook hook, void *userdata)
{
        m->info_hook = hook;
        m->info_userdata = userdata;
}

static struct entry *entry_of(const struct volume *v)
{
        return volume_slot(v, VOLUME_SLOT_REGISTRY);
}

/* ---- events --------------------------------------------------------------- */

static struct subscription *subscribe(struct subscription **list, volume_event_cb cb,
                                      volume_beat_cb beat_cb, void *userdata)
{
        struct subscription *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->cb = cb;
        s->beat_cb = beat_cb;
        s->userdata = userdata;
        s->next = *list;
        *list = s;
        return s;
}

struct subscription *manager_subscribe(struct manager *m, volume_event_cb cb, void *userdata)
{
        return subscribe(&m->subs, cb, NULL, userdata);
}

struct subscription *manager_subscribe_beats(struct manager *m, volume_beat_cb cb, void *userdata)
{
        return subscribe(&m->beat_subs, NULL, cb, userdata);
}

static void sweep(struct subscription **p)
{
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

static void sweep_subscriptions(struct manager *m)
{
        sweep(&m->subs);
        sweep(&m->beat_subs);
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

void volume_get_info(struct volume *v, struct volume_info *ret)
{
        struct entry *e = entry_of(v);

        volume_fill_info(v, ret);
        if (e && e->m->info_hook)
                e->m->info_hook(v, ret, e->m->info_userdata);
}

static void on_volume_event(struct volume *v, enum volume_event_type type, int error,
                            const char *reason, mmp_usec_t io_usec, void *userdata)
{
        struct manager *m = userdata;
        struct volume_info info;
        struct volume_event ev = {
                .type = type, .volume = v, .info = &info,
                .error = error, .reason = reason, .io_usec = io_usec,
        };

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

static void on_volume_beat(struct volume *v, const struct mmp_sm_status *st, void *userdata)
{
        struct manager *m = userdata;

        m->emitting++;
        for (struct subscription *s = m->beat_subs; s; s = s->next)
                if (!s->dead)
                        s->beat_cb(v, st, s->userdata);
        if (--m->emitting == 0)
                sweep_subscriptions(m);
}

/* ---- index ------------------------------------------------------------------ */

static size_t hash(const char *s)
{
        size_t h = 14695981039346656037u;       /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211u;
        return h;
}

static void index_put(struct index *ix, struct entry *e)
{
        size_t n = hash(volume_name(e->v)) & (ix->size - 1);
        size_t d = hash(volume_device(e->v)) & (ix->size - 1);
        size_t k = (size_t) e->id_key & (ix->size - 1);

        e->by_name_next = ix->by_name[n];
        ix->by_name[n] = e;
        e->by_device_next = ix->by_device[d];
        ix->by_device[d] = e;
        e->by_id_next = ix->by_id[k];
        ix->by_id[k] = e;
}

/* Room for @n entries at a load of at most 1; on failure the old table
 * stays (lookups get slower, not wrong). */
static void index_grow(struct manager *m, size_t n)
{
        struct index ix = {};

        if (n <= m->index.size)
                return;
        ix.size = m->index.size ? m->index.size : 64;
        while (ix.size < n)
                ix.size *= 2;
        ix.by_name = calloc(ix.size, sizeof(*ix.by_name));
        ix.by_device = calloc(ix.size, sizeof(*ix.by_device));
        ix.by_id = calloc(ix.size, sizeof(*ix.by_id));
        if (!ix.by_name || !ix.by_device || !ix.by_id) {
                free(ix.by_name);
                free(ix.by_device);
                free(ix.by_id);
                return;
        }
        for (struct entry *e = m->head; e; e = e->next)
                index_put(&ix, e);
        free(m->index.by_name);
        free(m->index.by_device);
        free(m->index.by_id);
        m->index = ix;
}

static void index_remove(struct index *ix, struct entry *e)
{
        struct entry **p;

        if (!ix->size)
                return;
        for (p = &ix->by_name[hash(volume_name(e->v)) & (ix->size - 1)]; *p; p = &(*p)->by_name_next)
                if (*p == e) {
                        *p = e->by_name_next;
                        break;
                }
        for (p = &ix->by_device[hash(volume_device(e->v)) & (ix->size - 1)]; *p; p = &(*p)->by_device_next)
                if (*p == e) {
                        *p = e->by_device_next;
                        break;
                }
        for (p = &ix->by_id[(size_t) e->id_key & (ix->size - 1)]; *p; p = &(*p)->by_id_next)
                if (*p == e) {
                        *p = e->by_id_next;
                        break;
                }
}

static struct volume *index_find(const struct index *ix, const char *key)
{
        size_t b;

        if (!ix->size)
                return NULL;
        b = hash(key) & (ix->size - 1);
        for (struct entry *e = ix->by_name[b]; e; e = e->by_name_next)
                if (strcmp(volume_name(e->v), key) == 0)
                        return e->v;
        for (struct entry *e = ix->by_device[b]; e; e = e->by_device_next)
                if (strcmp(volume_device(e->v), key) == 0)
                        return e->v;
        return NULL;
}

/* ---- registry --------------------------------------------------------------- */

struct volume *manager_first(struct manager *m) { return m->head ? m->head->v : NULL; }

struct volume *manager_next(struct manager *m, struct volume *v)
{
        struct entry *e = entry_of(v);

        return e && e->next ? e->next->v : NULL;
}

unsigned manager_count(struct manager *m, enum mmp_state state)
{
        unsigned n = 0;

        for (struct entry *e = m->head; e; e = e->next)
                n += volume_state(e->v) == state;
        return n;
}

unsigned manager_size(struct manager *m) { return m->n_volumes; }

size_t manager_collect(struct manager *m, struct volume **vols, size_t cap)
{
        size_t n = 0;

        for (size_t i = 0; i < m->order.len && n < cap; i++)
                if (m->order.v[i])
                        vols[n++] = m->order.v[i];
        return n;
}

void manager_count_states(struct manager *m, unsigned ret[MMP_STATE_IN_USE + 1])
{
        memset(ret, 0, sizeof(unsigned) * (MMP_STATE_IN_USE + 1));
        for (struct entry *e = m->head; e; e = e->next) {
                enum mmp_state s = volume_state(e->v);

                if ((unsigned) s <= MMP_STATE_IN_USE)
                        ret[s]++;
        }
}

bool manager_busy(struct manager *m)
{
        for (struct entry *e = m->head; e; e = e->next)
                if (volume_is_busy(e->v))
                        return true;
        return false;
}

static struct volume *find_same_device(struct manager *m, const struct stat *st)
{
        if (!S_ISBLK(st->st_mode) && !S_ISREG(st->st_mode))
                return NULL;
        if (m->index.size) {
                for (struct entry *e = m->index.by_id[(size_t) volume_stat_key(st) & (m->index.size - 1)]; e;
                     e = e->by_id_next)
                        if (volume_same_device(e->v, st))
                                return e->v;
                return NULL;
        }
        for (struct entry *e = m->head; e; e = e->next)
                if (volume_same_device(e->v, st))
                        return e->v;
        return NULL;
}

struct volume *manager_find(struct manager *m, const char *key)
{
        struct stat st;

        struct volume *v;

        if (!key)
                return NULL;
        if (m->index.size) {
                v = index_find(&m->index, key);
                if (v)
                        return v;
        } else {
                for (struct entry *e = m->head; e; e = e->next)
                        if (strcmp(volume_name(e->v), key) == 0 || strcmp(volume_device(e->v), key) == 0)
                                return e->v;
        }
        /* /dev/disk/by-id/... and /dev/sdb are the same volume; so are two
         * paths to one image file. */
        if (key[0] != '/' || stat(key, &st) < 0)
                return NULL;
        return find_same_device(m, &st);
}

static void order_compact(struct manager *m)
{
        struct order *o = &m->order;
        size_t n = 0;

        for (size_t i = 0; i < o->len; i++) {
                if (!o->v[i])
                        continue;
                entry_of(o->v[i])->order_idx = n;
                o->v[n++] = o->v[i];
        }
        o->len = n;
        o->holes = 0;
}

static int order_append(struct manager *m, struct entry *e)
{
        struct order *o = &m->order;

        if (o->len == o->cap) {
                size_t cap = o->cap ? 2 * o->cap : 64;
                struct volume **v = realloc(o->v, cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                o->v = v;
                o->cap = cap;
        }
        e->order_idx = o->len;
        o->v[o->len++] = e->v;
        return 0;
}

static void order_remove(struct manager *m, struct entry *e)
{
        struct order *o = &m->order;

        o->v[e->order_idx] = NULL;
        if (++o->holes > o->len / 2)
                order_compact(m);
}

static int link_volume(struct manager *m, struct volume *v)
{
        struct entry *e = calloc(1, sizeof(*e));

        if (!e)
                return -ENOMEM;
        e->v = v;
        /* Compacting looks entries up through their volumes' slots. */
        volume_set_slot(v, VOLUME_SLOT_REGISTRY, e);
        if (order_append(m, e) < 0) {
                volume_set_slot(v, VOLUME_SLOT_REGISTRY, NULL);
                free(e);
                return -ENOMEM;
        }
        /* Before linking: a rebuild puts every linked entry in the table. */
        index_grow(m, m->n_volumes + 1);
        e->m = m;
        e->v = v;
        e->id_key = volume_device_key(v);
        e->prev = m->tail;
        if (m->tail)
                m->tail->next = e;
        else
                m->head = e;
        m->tail = e;
        m->n_volumes++;
        if (m->index.size)
                index_put(&m->index, e);
        return 0;
}

static void unlink_volume(struct manager *m, struct entry *e)
{
        index_remove(&m->index, e);
        order_remove(m, e);
        if (e->prev)
                e->prev->next = e->next;
        else
                m->head = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                m->tail = e->prev;
        m->n_volumes--;
        e->prev = e->next = NULL;
}

static void free_entry(struct entry *e)
{
        volume_free(e->v);
        free(e);
}

static void on_volume_done(struct volume *v, void *userdata)
{
        struct manager *m = userdata;
        struct entry *e = entry_of(v);

        /* A static volume whose claim was refused stays listed (and keeps
         * its O_EXCL fd, so the local kernel cannot mount it either). */
        if (!volume_is_removing(v) && volume_is_static(v) && volume_state(v) == MMP_STATE_REFUSED)
                return;
        if (!volume_is_removing(v) && volume_state(v) == MMP_STATE_LOST)
                return;
        if (!e || e->prev == e)         /* already in the graveyard */
                return;
        on_volume_event(v, VOLUME_EVENT_REMOVED, 0, NULL, 0, m);
        unlink_volume(m, e);
        e->prev = e;                    /* marks "in the graveyard" */
        e->next = m->graveyard;
        m->graveyard = e;
}

static void reap(struct manager *m)
{
        while (m->graveyard) {
                struct entry *e = m->graveyard;

                m->graveyard = e->next;
                free_entry(e);
        }
}

static void on_reaper(struct ev_loop *loop, ev_check *w, int revents)
{
        reap(w->data);
}

/* ---- claims ------------------------------------------------------------------- */

struct claim_opts {
        bool is_static;
        double margin, io_timeout;
        const struct mmpd_fence_conf *fence;
};

static int add_volume(struct manager *m, const char *device, const char *name, int fd,
                      const struct claim_opts *co, const struct manager_resume *resume,
                      struct volume **ret)
{
        struct stat st;
        struct volume_opts o = {
                .is_static = co->is_static,
                .exclusive = co->fence->exclusive,
                .handoff_wait = co->fence->handoff_wait,
                .handoff_timeout = co->fence->handoff_timeout,
                .margin = co->margin,
                .io_timeout = co->io_timeout,
                .slot = m->slot_counter,
                .host_name = m->conf->host_name,
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
        r = volume_new(&m->host, name, device, fd, &o, &v);
        if (r < 0)
                return r;
        r = link_volume(m, v);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        m->slot_counter++;
        if (resume) {
                /* The stored fd is shared (no O_EXCL): take it again. */
                if (o.exclusive && (r = volume_set_exclusive(v, true)) < 0)
                        log_vol(v, LOG_WARNING, "cannot reopen the device with O_EXCL (%s): "
                                "the local kernel could mount it behind mmpd's back", strerror(-r));
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

static struct claim_opts opts_for(struct manager *m, const struct mmpd_volume_conf *vc)
{
        if (vc)
                return (struct claim_opts) { true, vc->margin, vc->io_timeout, &vc->fence };
        return (struct claim_opts) { false, m->conf->margin, m->conf->io_timeout, &m->conf->fence };
}

int manager_claim(struct manager *m, const char *device, const char *name, int fd,
                  struct volume **ret)
{
        const struct mmpd_volume_conf *vc;
        struct claim_opts co;
        int r;

        if (m->stopping)
                return -ESHUTDOWN;
        /* A static volume released earlier comes back as itself: its name,
         * its options, listed as static. */
        vc = static_conf_for(m, device, fd);
        if (vc && name && strcmp(name, vc->name) != 0)
                vc = NULL;
        co = opts_for(m, vc);
        r = add_volume(m, device, vc ? vc->name : name, fd, &co, NULL, ret);
        if (r < 0 && r != -EEXIST)
                log_warning("cannot claim %s: %s", device, strerror(-r));
        return r;
}

int manager_resume(struct manager *m, const struct manager_resume *res, struct volume **ret)
{
        const struct mmpd_volume_conf *vc = mmpd_conf_find_volume(m->conf, res->name);
        struct claim_opts co;

        if (vc && strcmp(vc->device, res->device) != 0)
                vc = NULL;
        co = opts_for(m, vc);
        return add_volume(m, res->device, res->name, res->fd, &co, res, ret);
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
        struct claim_opts co = opts_for(m, vc);
        const char *path = m->conf->path ? m->conf->path : "config";
        struct volume *v;
        int r;

        r = add_volume(m, vc->device, vc->name, -1, &co, NULL, &v);
        if (r == -EEXIST) {
                log_warning("%s:%u: volume %s (%s): the same device is already registered as %s",
                            path, vc->line, vc->name, vc->device, volume_name(v));
                return;
        }
        if (r >= 0)
                return;
        log_error("%s:%u: volume %s: cannot use device %s: %s", path, vc->line, vc->name, vc->device,
                  r == -ENOTBLK ? "not a block device or regular file" : strerror(-r));
        /* Listed all the same, with its reason, until the config changes. */
        if (volume_new_unusable(&m->host, vc->name, vc->device, r, &v) == 0 && link_volume(m, v) < 0)
                volume_free(v);
}

void manager_claim_static(struct manager *m)
{
        if (m->stopping)
                return;
        for (size_t i = 0; i < m->conf->n_volumes; i++)
                if (!manager_find(m, m->conf->volumes[i].name))
                        claim_static(m, &m->conf->volumes[i]);
}

void manager_set_conf(struct manager *m, const struct mmpd_conf *conf)
{
        const char *path = conf->path ? conf->path : "the config";

        /* Static volumes gone from the file (or moved to another device) go. */
        for (struct entry *e = m->head, *next; e; e = next) {
                const struct mmpd_volume_conf *vc;

                next = e->next;
                if (!volume_is_static(e->v))
                        continue;
                vc = mmpd_conf_find_volume(conf, volume_name(e->v));
                if (vc && strcmp(vc->device, volume_device(e->v)) == 0)
                        continue;
                if (volume_release(e->v) == -EBUSY)
                        log_vol(e->v, LOG_WARNING, "no longer in %s, but in local use: left to its user until it ends",
                                path);
                else
                        log_vol(e->v, LOG_NOTICE, "no longer in %s: releasing", path);
        }
        m->conf = conf;
        /* Static volumes that could not be opened are tried again. */
        for (struct entry *e = m->head, *next; e; e = next) {
                next = e->next;
                if (!volume_has_device(e->v) && volume_is_static(e->v)) {
                        unlink_volume(m, e);
                        free_entry(e);
                }
        }
        manager_claim_static(m);
}

void manager_stop(struct manager *m)
{
        if (m->stopping)
                return;
        m->stopping = true;
        for (struct entry *e = m->head, *next; e; e = next) {
                next = e->next;
                if (volume_release(e->v) == -EBUSY)
                        log_vol(e->v, LOG_WARNING, "in local use: left to its user, no longer watched");
        }
}

/* ---- life cycle ------------------------------------------------------------------ */

int manager_new(const struct manager_env *env, const struct mmpd_conf *conf, struct manager **ret)
{
        struct manager *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->env = *env;
        m->conf = conf;
        m->host = (struct volume_host) {
                .loop = env->loop,
                .io = env->io,
                .timers = env->timers,
                .node_name = env->node_name,
                .event = on_volume_event,
                .done = on_volume_done,
                .beat = on_volume_beat,
                .userdata = m,
        };
        ev_check_init(&m->reaper, on_reaper);
        m->reaper.data = m;
        ev_check_start(env->loop, &m->reaper);
        /* The reaper alone must not keep the loop running. */
        ev_unref(env->loop);
        *ret = m;
        return 0;
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        while (m->head) {
                struct entry *e = m->head;

                unlink_volume(m, e);
                free_entry(e);
        }
        ev_ref(m->env.loop);
        ev_check_stop(m->env.loop, &m->reaper);
        reap(m);
        m->emitting = 0;
        for (struct subscription *s = m->subs; s; s = s->next)
                s->dead = true;
        for (struct subscription *s = m->beat_subs; s; s = s->next)
                s->dead = true;
        sweep_subscriptions(m);
        free(m->order.v);
        free(m->index.by_name);
        free(m->index.by_device);
        free(m->index.by_id);
        free(m);
        return NULL;
}
