/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fake volume registry (see fake-manager.h).  Follows manager.h's contract
 * where the server depends on it: events are delivered on the loop, a
 * callback may unsubscribe itself (subscriptions are swept after emitting),
 * a removed volume stays allocated until the next loop iteration, and the
 * first PROGRESS of a claim is emitted from inside manager_claim() — the
 * real one may do that too, and the server must cope.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "fake-manager.h"
#include "macro.h"
#include "mmp-timing.h"

enum outcome { OK, BUSY, FSCK, NOMMP, CORRUPT, NOISY, HANDOFFFAIL, BUSYUSE };

struct subscription {
        struct subscription *next;
        volume_event_cb cb;
        void *userdata;
        bool dead;
};

struct volume {
        struct manager *m;
        struct volume *next;
        char *name, *device;
        enum outcome outcome;
        enum mmp_state state;
        enum mmp_phase phase;
        struct mmp_sm_status sm;
        struct mmp_sb sb;
        bool have_sb;
        int error;
        const char *error_text;
        mmp_usec_t claim_started, wait_until;
        mmp_usec_t due;                 /* when the timer should fire */
        ev_timer timer;
        bool removed;
        /* handed to a local user (sm.user etc. hold the rest) */
        bool handing;                   /* Handoff accepted, HANDOFF not yet emitted */
        bool ending;                    /* EndUse reading what the user left */
        pid_t use_pid;
        char *use_mount_point;
        bool use_keep;
};

struct manager {
        struct ev_loop *loop;
        struct mmpd_conf conf;
        struct fake_options o;
        struct volume *head, *graveyard;
        struct subscription *subs;
        unsigned emitting;
        ev_check reaper;
        mmp_usec_t max_lateness;        /* worst heartbeat timer delay seen */
};

static mmp_usec_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (mmp_usec_t) ts.tv_sec * MMP_USEC_PER_SEC + (mmp_usec_t) ts.tv_nsec / 1000;
}

/* ---- events ---------------------------------------------------------------------- */

static void sweep(struct manager *m)
{
        for (struct subscription **p = &m->subs; *p;) {
                struct subscription *s = *p;

                if (s->dead) {
                        *p = s->next;
                        free(s);
                } else
                        p = &s->next;
        }
}

struct subscription *manager_subscribe(struct manager *m, volume_event_cb cb, void *userdata)
{
        struct subscription *s = calloc(1, sizeof(*s)), **tail = &m->subs;

        if (!s)
                return NULL;
        s->cb = cb;
        s->userdata = userdata;
        while (*tail)
                tail = &(*tail)->next;
        *tail = s;
        return s;
}

struct subscription *manager_unsubscribe(struct manager *m, struct subscription *s)
{
        if (s) {
                s->dead = true;
                if (!m->emitting)
                        sweep(m);
        }
        return NULL;
}

static void emit(struct volume *v, enum volume_event_type type, int error, const char *reason,
                 mmp_usec_t io_usec)
{
        struct manager *m = v->m;
        struct volume_info info;
        struct volume_event ev = {
                .type = type, .volume = v, .info = &info,
                .error = error, .reason = reason, .io_usec = io_usec,
        };

        volume_get_info(v, &info);
        m->emitting++;
        for (struct subscription *s = m->subs; s; s = s->next)
                if (!s->dead)
                        s->cb(&ev, s->userdata);
        if (--m->emitting == 0)
                sweep(m);
}

/* ---- volumes ---------------------------------------------------------------------- */

static void fake_volume_free(struct volume *v)
{
        ev_timer_stop(v->m->loop, &v->timer);
        free(v->use_mount_point);
        free(v->name);
        free(v->device);
        free(v);
}

static void remove_volume(struct volume *v)
{
        struct manager *m = v->m;

        ev_timer_stop(m->loop, &v->timer);
        emit(v, VOLUME_EVENT_REMOVED, 0, NULL, 0);
        for (struct volume **p = &m->head; *p; p = &(*p)->next)
                if (*p == v) {
                        *p = v->next;
                        break;
                }
        v->removed = true;
        v->next = m->graveyard;
        m->graveyard = v;
}

static void on_reaper(struct ev_loop *loop, ev_check *w, int revents)
{
        struct manager *m = w->data;

        while (m->graveyard) {
                struct volume *v = m->graveyard;

                m->graveyard = v->next;
                fake_volume_free(v);
        }
}

static void after(struct volume *v, double seconds)
{
        v->due = now_usec() + (mmp_usec_t) (seconds * 1e6);
        ev_timer_stop(v->m->loop, &v->timer);
        ev_timer_set(&v->timer, seconds, 0.);
        ev_timer_start(v->m->loop, &v->timer);
}

static void set_phase(struct volume *v, enum mmp_phase phase, double next)
{
        v->phase = phase;
        v->sm.phase = phase;
        emit(v, VOLUME_EVENT_PROGRESS, 0, NULL, 0);
        after(v, next);
}

static void refuse(struct volume *v, int error, const char *reason)
{
        v->state = v->sm.state = MMP_STATE_REFUSED;
        v->phase = v->sm.phase = MMP_PHASE_NONE;
        v->error = v->sm.last_error = error;
        v->error_text = reason;
        emit(v, VOLUME_EVENT_REFUSED, error, reason, 0);
        remove_volume(v);       /* runtime claims that fail go, as in the real registry */
}

static void heartbeat(struct volume *v)
{
        v->sm.last_good = now_usec();
        v->sm.seq++;
        mmp_deadlines(v->sm.last_good, 5, v->sm.check_interval, 0, &v->sm.deadlines);
        v->sm.next_heartbeat = v->sm.last_good + (mmp_usec_t) (v->m->o.heartbeat * 1e6);
}

static void holder_set(struct volume *v, uint32_t seq, const char *node, const char *dev)
{
        v->sm.have_holder = true;
        v->sm.holder = (struct mmp_block) { .magic = MMP_MAGIC, .seq = seq, .check_interval = 10,
                                            .time = (uint64_t) time(NULL), .checksum_ok = true };
        mmp_name_set(v->sm.holder.nodename, sizeof(v->sm.holder.nodename), node);
        mmp_name_set(v->sm.holder.bdevname, sizeof(v->sm.holder.bdevname), dev);
}

/* ---- handed to a local user ------------------------------------------------------ */

static void use_clear(struct volume *v)
{
        free(v->use_mount_point);
        v->use_mount_point = NULL;
        v->use_pid = 0;
        v->handing = v->ending = false;
        v->sm.user = MMP_USER_NONE;
        v->sm.user_seen = false;
        v->sm.use_since = v->sm.last_change = 0;
        v->sm.user_seq = 0;
        memset(&v->sm.user_block, 0, sizeof(v->sm.user_block));
}

/* What the local user's kmmpd/tool leaves in the block, as mmpd reads it. */
static void user_wrote(struct volume *v)
{
        v->sm.user_seen = true;
        v->sm.last_change = now_usec();
        v->sm.user_seq++;
        v->sm.user_block = (struct mmp_block) { .magic = MMP_MAGIC, .seq = v->sm.user_seq,
                                                .check_interval = 10, .time = (uint64_t) time(NULL),
                                                .checksum_ok = true };
        mmp_name_set(v->sm.user_block.nodename, sizeof(v->sm.user_block.nodename), "host-a");
        mmp_name_set(v->sm.user_block.bdevname, sizeof(v->sm.user_block.bdevname), "sdb");
        mmp_deadlines(v->sm.last_change, 5, 10, 0, &v->sm.deadlines);
}

/* As mmpd/volume.c use_ended(): release, or re-claim with the full claim
 * (keep, or the handoff failed). */
static void use_ended(struct volume *v, int error, const char *reason)
{
        bool reclaim = error != 0 || v->use_keep;

        v->error = error;
        v->error_text = reason;
        v->state = v->sm.state = reclaim ? MMP_STATE_CLAIMING : MMP_STATE_RELEASED;
        v->phase = v->sm.phase = MMP_PHASE_NONE;
        memset(&v->sm.deadlines, 0, sizeof(v->sm.deadlines));
        v->sm.last_good = 0;
        emit(v, VOLUME_EVENT_USE_ENDED, error, reason, 0);
        use_clear(v);
        if (!reclaim) {
                emit(v, VOLUME_EVENT_RELEASED, 0, NULL, 0);
                remove_volume(v);
                return;
        }
        v->claim_started = now_usec();
        set_phase(v, MMP_PHASE_READ, v->m->o.step);
}

static void use_step(struct volume *v)
{
        const struct fake_options *o = &v->m->o;

        if (v->handing) {
                /* CLEAN written (fast) or writes stopped (wait): go. */
                v->handing = false;
                v->state = v->sm.state = MMP_STATE_IN_USE;
                v->phase = v->sm.phase = MMP_PHASE_HANDING_OFF;
                v->sm.use_since = now_usec();
                memset(&v->sm.deadlines, 0, sizeof(v->sm.deadlines));  /* none until the user writes */
                emit(v, VOLUME_EVENT_HANDOFF, 0, NULL, 0);
                after(v, o->step);
                return;
        }
        if (v->ending) {
                v->ending = false;
                if (!v->sm.user_seen) {
                        use_ended(v, -ECANCELED, "the handoff was ended before the local user's first write");
                        return;
                }
                if (v->outcome == BUSYUSE) {
                        v->phase = v->sm.phase = MMP_PHASE_IN_USE;
                        emit(v, VOLUME_EVENT_USE_BUSY, -EBUSY, "the local user still writes the MMP block", 0);
                        after(v, o->heartbeat);
                        return;
                }
                use_ended(v, 0, NULL);
                return;
        }
        switch (v->phase) {
        case MMP_PHASE_HANDING_OFF:
                if (v->outcome == HANDOFFFAIL) {
                        use_ended(v, -ETIMEDOUT, "no write from the local user within the handoff timeout");
                        return;
                }
                user_wrote(v);
                v->phase = v->sm.phase = MMP_PHASE_IN_USE;
                emit(v, VOLUME_EVENT_IN_USE, 0, NULL, 0);
                after(v, o->heartbeat);
                return;
        default:
                user_wrote(v);          /* the user's heartbeat, as mmpd sees it */
                after(v, o->heartbeat);
                return;
        }
}

static void on_step(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct volume *v = w->data;
        const struct fake_options *o = &v->m->o;

        if (v->state == MMP_STATE_IN_USE || v->handing) {
                use_step(v);
                return;
        }

        if (v->state == MMP_STATE_RELEASING) {
                v->state = v->sm.state = MMP_STATE_RELEASED;
                v->phase = v->sm.phase = MMP_PHASE_NONE;
                memset(&v->sm.deadlines, 0, sizeof(v->sm.deadlines));
                emit(v, VOLUME_EVENT_RELEASED, 0, NULL, 0);
                remove_volume(v);
                return;
        }
        if (v->state == MMP_STATE_HELD) {
                mmp_usec_t now = now_usec();

                /* What a real heartbeat would suffer from a busy loop. */
                if (now > v->due && now - v->due > v->m->max_lateness)
                        v->m->max_lateness = now - v->due;
                heartbeat(v);
                if (v->outcome == NOISY)
                        emit(v, VOLUME_EVENT_SLOW_IO, 0, "simulated slow write", 3500000);
                after(v, v->outcome == NOISY ? o->noisy_heartbeat : o->heartbeat);
                return;
        }
        switch (v->phase) {
        case MMP_PHASE_READ:
                switch (v->outcome) {
                case FSCK:
                        holder_set(v, MMP_SEQ_FSCK, "fsck-node", "sdf");
                        refuse(v, -EINPROGRESS, "fsck is running on the filesystem");
                        return;
                case NOMMP:
                        v->have_sb = false;
                        refuse(v, -EOPNOTSUPP, NULL);
                        return;
                case CORRUPT:
                        refuse(v, -EUCLEAN, NULL);
                        return;
                case BUSY:
                        holder_set(v, 42, "peer-node", "sdx");
                        v->wait_until = now_usec() + (mmp_usec_t) (o->wait * 1e6);
                        set_phase(v, MMP_PHASE_WAIT_ACTIVE, o->wait);
                        return;
                default:
                        holder_set(v, MMP_SEQ_CLEAN, "old-node", "sdb");
                        set_phase(v, MMP_PHASE_WRITE_SEQ, o->step);
                        return;
                }
        case MMP_PHASE_WAIT_ACTIVE:
                set_phase(v, MMP_PHASE_REREAD, o->step);
                return;
        case MMP_PHASE_REREAD:
                v->sm.holder.seq++;
                refuse(v, -EBUSY, "another node is using the filesystem");
                return;
        case MMP_PHASE_WRITE_SEQ:
                v->wait_until = now_usec() + (mmp_usec_t) (o->wait * 1e6);
                set_phase(v, MMP_PHASE_WAIT_CLAIM, o->wait);
                return;
        case MMP_PHASE_WAIT_CLAIM:
                set_phase(v, MMP_PHASE_VERIFY, o->step);
                return;
        case MMP_PHASE_VERIFY:
                set_phase(v, MMP_PHASE_HB_CHECK, o->step);
                return;
        default:
                v->state = v->sm.state = MMP_STATE_HELD;
                v->phase = v->sm.phase = MMP_PHASE_HB_IDLE;
                v->sm.seq = 1000;
                v->sm.check_interval = 10;
                holder_set(v, v->sm.seq, "fake-node", "sdb");
                heartbeat(v);
                emit(v, VOLUME_EVENT_CLAIMED, 0, NULL, 0);
                after(v, o->heartbeat);
                return;
        }
}

static enum outcome outcome_of(const char *device)
{
        static const struct { const char *prefix; enum outcome o; } table[] = {
                /* before /dev/fake-busy, a prefix of it */
                { "/dev/fake-busyuse", BUSYUSE }, { "/dev/fake-handofffail", HANDOFFFAIL },
                { "/dev/fake-busy", BUSY }, { "/dev/fake-fsck", FSCK },
                { "/dev/fake-nommp", NOMMP }, { "/dev/fake-corrupt", CORRUPT },
                { "/dev/fake-noisy", NOISY },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strncmp(device, table[i].prefix, strlen(table[i].prefix)) == 0)
                        return table[i].o;
        return OK;
}

int manager_claim(struct manager *m, const char *device, const char *name, int fd,
                  struct volume **ret)
{
        struct volume *v, **tail;
        unsigned n = 0;

        v = manager_find(m, device);
        if (!v && name)
                v = manager_find(m, name);
        if (v) {
                *ret = v;
                return -EEXIST;
        }
        if (strncmp(device, "/dev/fake-missing", 17) == 0)
                return -ENOENT;
        for (tail = &m->head; *tail; tail = &(*tail)->next)
                n++;
        if (n >= m->conf.max_volumes)
                return -ENOSPC;
        v = calloc(1, sizeof(*v));
        if (!v || !(v->device = strdup(device)) || !(v->name = strdup(name ? name : device))) {
                if (v)
                        free(v->device);
                free(v);
                return -ENOMEM;
        }
        v->m = m;
        v->outcome = outcome_of(device);
        v->have_sb = v->outcome != NOMMP;
        v->sb = (struct mmp_sb) { .block_size = 4096, .blocks_count = 262144, .mmp_block = 1618,
                                  .update_interval = 5 };
        v->sm.update_interval = 5;
        v->claim_started = now_usec();
        ev_timer_init(&v->timer, on_step, 0., 0.);
        v->timer.data = v;
        *tail = v;
        v->state = v->sm.state = MMP_STATE_CLAIMING;
        *ret = v;
        set_phase(v, MMP_PHASE_READ, m->o.step);    /* emits from inside manager_claim() */
        return 0;
}

int manager_release(struct manager *m, struct volume *v)
{
        switch (v->state) {
        case MMP_STATE_IN_USE:
                return -EBUSY;          /* never from under its local user: EndUse first */
        case MMP_STATE_HELD:
                /* A handoff not yet under way is dropped, as the real
                 * release_pending wins over handoff_pending. */
                use_clear(v);
                v->state = v->sm.state = MMP_STATE_RELEASING;
                v->phase = v->sm.phase = MMP_PHASE_RELEASE_WRITE;
                emit(v, VOLUME_EVENT_PROGRESS, 0, NULL, 0);
                after(v, m->o.step);
                return 0;
        case MMP_STATE_RELEASING:
                return 0;
        default:
                /* Nothing written yet (or nothing to write): done at once,
                 * from inside manager_release(). */
                v->state = v->sm.state = MMP_STATE_RELEASED;
                v->phase = v->sm.phase = MMP_PHASE_NONE;
                emit(v, VOLUME_EVENT_RELEASED, -ECANCELED, "released before the claim completed", 0);
                remove_volume(v);
                return 0;
        }
}

int manager_handoff(struct manager *m, struct volume *v, const struct handoff_request *req)
{
        if (v->state == MMP_STATE_IN_USE || v->handing)
                return -EBUSY;
        if (v->state != MMP_STATE_HELD)
                return -ENOLCK;
        if (req->user != MMP_USER_KERNEL && req->user != MMP_USER_TOOL)
                return -EINVAL;
        if (req->mode < -1 || req->mode > MMP_HANDOFF_WAIT)
                return -EINVAL;
        if (req->user == MMP_USER_TOOL) {
                if (req->pid <= 0)
                        return -EINVAL;
                if (kill(req->pid, 0) < 0 && errno == ESRCH)
                        return -ESRCH;  /* the real one: pidfd_open() */
        }
        use_clear(v);
        if (req->mount_point && !(v->use_mount_point = strdup(req->mount_point)))
                return -ENOMEM;
        v->use_pid = req->user == MMP_USER_TOOL ? req->pid : 0;
        v->use_keep = req->keep;
        v->sm.user = (enum mmp_user) req->user;
        v->sm.mode = req->mode >= 0 ? (enum mmp_handoff_mode) req->mode : MMP_HANDOFF_FAST;
        /* Still held while mmpd checks the block and writes CLEAN: the
         * HANDOFF event comes from the loop, one step later. */
        v->handing = true;
        v->phase = v->sm.phase = v->sm.mode == MMP_HANDOFF_FAST ? MMP_PHASE_HANDOFF_WRITE
                                                                : MMP_PHASE_HANDOFF_CHECK;
        after(v, m->o.step);
        return 0;
}

int manager_end_use(struct manager *m, struct volume *v, int keep)
{
        if (keep >= 0)
                v->use_keep = keep;
        switch (v->state) {
        case MMP_STATE_IN_USE:
                if (!v->ending) {
                        /* mmpd reads what the user left: one step. */
                        v->ending = true;
                        v->phase = v->sm.phase = MMP_PHASE_USE_END_READ;
                        after(v, m->o.step);
                }
                return 0;
        case MMP_STATE_HELD:
                /* Nothing in use (a handoff that failed and was re-claimed). */
                if (keep > 0)
                        return -EALREADY;
                return manager_release(m, v);
        case MMP_STATE_CLAIMING:
                return -EALREADY;       /* re-claiming after the use */
        default:
                return -ENOLCK;
        }
}

struct volume *manager_find(struct manager *m, const char *device_or_name)
{
        if (!device_or_name)
                return NULL;
        for (struct volume *v = m->head; v; v = v->next)
                if (strcmp(v->name, device_or_name) == 0 || strcmp(v->device, device_or_name) == 0)
                        return v;
        return NULL;
}

struct volume *manager_first(struct manager *m) { return m->head; }
struct volume *manager_next(struct manager *m, struct volume *v) { return v->next; }

unsigned manager_size(struct manager *m)
{
        unsigned n = 0;

        for (struct volume *v = m->head; v; v = v->next)
                n++;
        return n;
}

size_t manager_collect(struct manager *m, struct volume **vols, size_t cap)
{
        size_t n = 0;

        for (struct volume *v = m->head; v && n < cap; v = v->next)
                vols[n++] = v;
        return n;
}

unsigned manager_count(struct manager *m, enum mmp_state state)
{
        unsigned n = 0;

        for (struct volume *v = m->head; v; v = v->next)
                n += v->state == state;
        return n;
}

void volume_get_info(struct volume *v, struct volume_info *ret)
{
        *ret = (struct volume_info) {
                .name = v->name, .device = v->device, .state = v->state, .phase = v->phase,
                .have_sb = v->have_sb, .sb = v->sb, .sm = v->sm,
                .error = v->error, .error_text = v->error_text,
                .claim_started = v->claim_started, .wait_until = v->wait_until,
                .now = now_usec(), .wall_now = (uint64_t) time(NULL),
                .in_use = v->sm.user != MMP_USER_NONE &&
                          (v->state == MMP_STATE_IN_USE || v->state == MMP_STATE_LOST),
                .use_pid = v->use_pid, .use_mount_point = v->use_mount_point, .use_keep = v->use_keep,
        };
        ret->sm.state = v->state;
        ret->sm.phase = v->phase;
}

const char *volume_name(const struct volume *v) { return v->name; }

/* ---- life cycle ------------------------------------------------------------------- */

int fake_manager_new(struct ev_loop *loop, struct manager **ret)
{
        struct manager *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->loop = loop;
        m->conf.node_name = strdup("fake-node");
        m->conf.socket_path = strdup(MMPD_DEFAULT_SOCKET);
        if (!m->conf.node_name || !m->conf.socket_path) {
                free(m->conf.node_name);
                free(m->conf.socket_path);
                free(m);
                return -ENOMEM;
        }
        m->conf.max_volumes = MMPD_DEFAULT_MAX_VOLUMES;
        m->o = (struct fake_options) { .step = 0.05, .wait = 0.2, .heartbeat = 0.1,
                                       .noisy_heartbeat = 0.002, .max_volumes = 0 };
        ev_check_init(&m->reaper, on_reaper);
        m->reaper.data = m;
        ev_check_start(loop, &m->reaper);
        *ret = m;
        return 0;
}

void fake_manager_configure(struct manager *m, const struct fake_options *o)
{
        if (o->step > 0)
                m->o.step = o->step;
        if (o->wait > 0)
                m->o.wait = o->wait;
        if (o->heartbeat > 0)
                m->o.heartbeat = o->heartbeat;
        if (o->noisy_heartbeat > 0)
                m->o.noisy_heartbeat = o->noisy_heartbeat;
        if (o->max_volumes > 0)
                m->conf.max_volumes = o->max_volumes;
}

struct manager *manager_free(struct manager *m)
{
        if (!m)
                return NULL;
        while (m->head) {
                struct volume *v = m->head;

                m->head = v->next;
                fake_volume_free(v);
        }
        ev_check_stop(m->loop, &m->reaper);
        on_reaper(m->loop, &m->reaper, 0);
        for (struct subscription *s = m->subs; s; s = s->next)
                s->dead = true;
        m->emitting = 0;
        sweep(m);
        free(m->conf.node_name);
        free(m->conf.socket_path);
        free(m);
        return NULL;
}

mmp_usec_t fake_manager_max_lateness(struct manager *m) { return m->max_lateness; }

struct ev_loop *manager_loop(struct manager *m) { return m->loop; }
const struct mmpd_conf *manager_conf(struct manager *m) { return &m->conf; }
const char *manager_node_name(struct manager *m) { return m->conf.node_name; }
