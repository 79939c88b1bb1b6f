/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io.mmpd (mmpd/io.mmpd.varlink) on top of manager.h: its method table,
 * registered with the varlink server (varlink-server.h), which knows
 * nothing of io.mmpd.  Each call gets a context (struct mcall) that the
 * server frees with the call.
 *
 * Claim and Release subscribe to the manager's events before they start
 * anything, so no event between "started" and "decided" can be missed.
 * Events may arrive while manager_claim()/manager_release() is still
 * running; those are kept (as ready-made messages) and replayed once it
 * returns, since only then is the claimed volume known and may the call
 * safely end.
 *
 * A peer that goes away does not cancel its claim or release: the call's
 * subscription is dropped, the volume carries on.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "inspect.h"
#include "macro.h"
#include "manager.h"
#include "mmp-errors.h"
#include "mmp-names.h"
#include "mmp-varlink.h"
#include "offload.h"
#include "varlink-json.h"
#include "varlink-methods.h"

/* io.mmpd as registered with the server: the userdata of every method. */
struct io_mmpd {
        struct manager *manager;
        struct varlink_server *server;
        mmp_usec_t started;
        struct offload *offload;        /* Inspect's device reads */
        double inspect_timeout;
};

/* An event seen while the call was still starting. */
struct vl_early {
        struct vl_early *next;
        struct volume *volume;
        json_t *msg;            /* NULL: building it ran out of memory */
        bool final;
};

/* One io.mmpd call: the server's call and what it waits for.  The call's
 * context (vl_call_set_context): freed with the call by mcall_free(). */
struct mcall {
        struct vl_call *vc;
        struct io_mmpd *app;
        struct subscription *sub;
        struct volume *volume;          /* Claim/Release/Handoff/EndUse: the one we follow */
        struct offload_job *job;        /* Inspect */
        struct list_state *list;        /* List, while it is being written */
        bool starting;                  /* inside manager_claim/release/... */
        struct vl_early *early;         /* events seen while starting */
        bool early_failed;              /* ... one of which could not be kept */
};

static struct manager *call_manager(struct mcall *c)
{
        return c->app->manager;
}

static const char *param_str(struct mcall *c, const char *key)
{
        return json_string_value(json_object_get(vl_call_params(c->vc), key));   /* NULL when absent or null */
}

static int invalid(struct mcall *c, const char *parameter)
{
        return vl_reply_service_error(c->vc, "InvalidParameter", "parameter", parameter);
}

static bool valid_path(const char *p)
{
        return p && p[0] == '/' && strlen(p) < PATH_MAX;
}

/* Volume names as conf.h allows them: [A-Za-z0-9._:@-]{1,MMPD_NAME_MAX}. */
static bool valid_name(const char *n)
{
        return mmp_volume_name_valid(n, strlen(n));
}

/* {key: value}, stealing @value; NULL if either is NULL. */
static json_t *pack1(const char *key, json_t *value)
{
        json_t *o = value ? json_object() : NULL;

        if (!o || json_object_set_new(o, key, value) < 0) {
                json_decref(o);
                if (!o)
                        json_decref(value);
                return NULL;
        }
        return o;
}

/* Like json_object_set_new() (which drops @value on failure), NULL-safe. */
static int set_new(json_t *o, const char *key, json_t *value)
{
        if (!o) {
                json_decref(value);
                return -ENOMEM;
        }
        return json_object_set_new(o, key, value) < 0 ? -ENOMEM : 0;
}

static json_t *error_for(struct mcall *c, int err, enum vl_op op, const struct volume_info *info,
                         bool decoded, const char *reason)
{
        struct manager *m = call_manager(c);
        struct vl_error_ctx ctx = {
                .op = op,
                .device = param_str(c, "device"),
                .info = info,
                .decoded = decoded,
                .reason = reason,
                .limit = manager_conf(m)->max_volumes,
        };

        if (err == -EMFILE || err == -ENFILE)
                ctx.count = manager_size(m);
        return vl_error_from_errno(err, &ctx);
}

/* The call goes away (final reply sent, or the connection closed): a
 * claim or release it started carries on; what it waited for is dropped. */
static void list_free(struct mcall *c);

static void mcall_free(void *context)
{
        struct mcall *c = context;

        list_free(c);
        if (c->sub)
                manager_unsubscribe(call_manager(c), c->sub);
        if (c->job)
                offload_cancel(c->app->offload, c->job);
        while (c->early) {
                struct vl_early *e = c->early;

                c->early = e->next;
                json_decref(e->msg);
                free(e);
        }
        free(c);
}

/* Keep an event's message while the call is starting (order kept). */
static void early_push(struct mcall *c, struct volume *v, json_t *msg, bool final)
{
        struct vl_early *e = calloc(1, sizeof(*e)), **tail = &c->early;

        if (!e) {
                json_decref(msg);
                c->early_failed = true;
                return;
        }
        e->volume = v;
        e->msg = msg;
        e->final = final;
        while (*tail)
                tail = &(*tail)->next;
        *tail = e;
}

/*
 * Send what was kept for c->volume.  Returns 1 when the call ended (then @c
 * is gone), 0 when it goes on, -errno when the connection was closed.
 */
static int early_replay(struct mcall *c)
{
        struct vl_early *list = c->early;
        struct volume *v = c->volume;
        int r = 0;

        c->early = NULL;
        if (c->early_failed)
                r = -ENOMEM;
        while (list) {
                struct vl_early *e = list;

                list = e->next;
                if (r == 0 && e->volume == v) {
                        bool final = e->final;

                        r = vl_call_send(c->vc, TAKE_PTR(e->msg), final);
                        if (r == 0 && final)
                                r = 1;
                }
                json_decref(e->msg);
                free(e);
        }
        return r;
}

/* An event made up from a snapshot, for answers not caused by an event. */
static json_t *snapshot_event(enum volume_event_type type, const struct volume_info *info)
{
        struct volume_event ev = { .type = type, .info = info };

        return vl_event_json(&ev);
}

/* {volume[, event]}: Claim's replies carry the event only when streaming. */
static json_t *claim_params(struct mcall *c, const struct volume_info *info, json_t *event)
{
        json_t *p = pack1("volume", vl_volume_json(info));

        if (vl_call_more(c->vc) && set_new(p, "event", event) < 0) {
                json_decref(p);
                return NULL;
        }
        if (!vl_call_more(c->vc))
                json_decref(event);
        return p;
}

/* ---- Claim ---------------------------------------------------------------------- */

/* The message an event means for a Claim: 1 and *ret_msg, or 0 for none. */
static int claim_message(struct mcall *c, const struct volume_event *ev, json_t **ret_msg, bool *ret_final)
{
        json_t *p;

        *ret_final = true;
        switch (ev->type) {
        case VOLUME_EVENT_PROGRESS:
                if (!vl_call_more(c->vc))
                        return 0;
                *ret_final = false;
                p = claim_params(c, ev->info, vl_event_json(ev));
                *ret_msg = p ? mmp_varlink_reply_new(p, true) : NULL;
                return 1;
        case VOLUME_EVENT_CLAIMED:
                p = claim_params(c, ev->info, vl_call_more(c->vc) ? vl_event_json(ev) : NULL);
                *ret_msg = p ? mmp_varlink_reply_new(p, false) : NULL;
                return 1;
        case VOLUME_EVENT_REFUSED:
        case VOLUME_EVENT_LOST:
                *ret_msg = error_for(c, ev->error ? ev->error : -EIO, VL_OP_CLAIM, ev->info, true, ev->reason);
                return 1;
        case VOLUME_EVENT_RELEASED:
        case VOLUME_EVENT_REMOVED:
                *ret_msg = error_for(c, -ECANCELED, VL_OP_CLAIM, ev->info, false,
                                     "released before the claim completed");
                return 1;
        default:
                return 0;
        }
}

/* Send an event's reply, or queue it while the call is still starting (the
 * event fired inside manager_claim/release, before the call returned). */
static void deliver(struct mcall *c, struct volume *v, json_t *msg, bool final)
{
        struct vl_conn *conn = vl_call_conn(c->vc);

        if (c->starting) {
                early_push(c, v, msg, final);
                return;
        }
        vl_conn_ref(conn);      /* sending may drop the connection */
        vl_call_send(c->vc, msg, final);
        vl_conn_unref(conn);
}

static void on_claim_event(const struct volume_event *ev, void *userdata)
{
        struct mcall *c = userdata;
        json_t *msg = NULL;
        bool final;

        if (!c->starting && ev->volume != c->volume)
                return;
        if (claim_message(c, ev, &msg, &final) == 0)
                return;
        deliver(c, ev->volume, msg, final);
}

/* What is wrong with an fd passed to ClaimFd, in words (io.h: mmpd_dev_adopt). */
static const char *passed_fd_problem(int err)
{
        switch (err) {
        case -EBADF:   return "the fd passed is not open for reading and writing: open the device O_RDWR";
        case -EBADFD:  return "the fd passed is a block device opened without O_DIRECT: open it O_RDWR|O_DIRECT "
                              "(mmpd cannot add the flag: a dup shares it with your fd)";
        case -ENOTBLK: return "the fd passed is neither a block device nor a regular file";
        default:       return NULL;
        }
}

static int claim(struct mcall *c, bool with_fd)
{
        struct manager *m = call_manager(c);
        const char *device = param_str(c, "device"), *name = param_str(c, "name");
        struct volume_info info;
        struct volume *v = NULL;
        _cleanup_close_ int fd = -1;
        json_t *p;
        int r;

        if (with_fd) {
                /* The fd came with (the first bytes of) this call. */
                fd = vl_conn_take_fd(vl_call_conn(c->vc));
                if (fd < 0)
                        return invalid(c, "fd");
        }
        if (!valid_path(device))
                return invalid(c, "device");
        if (name && !valid_name(name))
                return invalid(c, "name");

        c->sub = manager_subscribe(m, on_claim_event, c);
        if (!c->sub)
                return -ENOMEM;
        c->starting = true;
        /* manager_claim() dups the fd; ours is closed on return. */
        r = manager_claim(m, device, name, fd, &v);
        c->starting = false;
        if (r < 0) {
                if (r == -EEXIST && v)
                        volume_get_info(v, &info);
                return vl_call_send(c->vc, error_for(c, r, VL_OP_CLAIM, r == -EEXIST && v ? &info : NULL,
                                                 false, with_fd ? passed_fd_problem(r) : NULL), true);
        }
        c->volume = v;
        r = early_replay(c);
        if (r != 0)
                return r < 0 ? r : 0;
        if (vl_call_oneway(c->vc))
                return vl_reply(c->vc, json_object(), true);

        /* Decided already without an event we saw?  Then answer now. */
        volume_get_info(v, &info);
        switch (info.state) {
        case MMP_STATE_HELD:
                return vl_reply(c->vc, claim_params(c, &info, vl_call_more(c->vc) ? snapshot_event(VOLUME_EVENT_CLAIMED, &info) : NULL), true);
        case MMP_STATE_REFUSED:
        case MMP_STATE_LOST:
                return vl_call_send(c->vc, error_for(c, info.error ? info.error : -EIO, VL_OP_CLAIM, &info,
                                                 true, info.error_text), true);
        case MMP_STATE_RELEASING:
        case MMP_STATE_RELEASED:
                return vl_call_send(c->vc, error_for(c, -ECANCELED, VL_OP_CLAIM, &info, false,
                                                 "released before the claim completed"), true);
        default:
                break;
        }
        if (!vl_call_more(c->vc) || vl_call_replied(c->vc))
                return 0;
        /* Streaming: say at once that the claim started and where it is. */
        p = claim_params(c, &info, snapshot_event(VOLUME_EVENT_PROGRESS, &info));
        return vl_call_send(c->vc, p ? mmp_varlink_reply_new(p, true) : NULL, false);
}

/* ---- Release -------------------------------------------------------------------- */

static void on_release_event(const struct volume_event *ev, void *userdata)
{
        struct mcall *c = userdata;
        json_t *p, *msg;

        if (ev->volume != c->volume ||
            (ev->type != VOLUME_EVENT_RELEASED && ev->type != VOLUME_EVENT_REMOVED))
                return;
        p = pack1("volume", vl_volume_json(ev->info));
        msg = p ? mmp_varlink_reply_new(p, false) : NULL;
        deliver(c, ev->volume, msg, true);
}

static int m_claim(struct mcall *c)
{
        return claim(c, false);
}

static int m_claim_fd(struct mcall *c)
{
        return claim(c, true);
}

static int m_release(struct mcall *c)
{
        struct manager *m = call_manager(c);
        struct volume_info info;
        struct volume *v;
        int r;

        v = manager_find(m, param_str(c, "device"));
        if (!v)
                return vl_call_send(c->vc, error_for(c, -ENOENT, VL_OP_LOOKUP, NULL, false, NULL), true);
        c->volume = v;
        c->sub = manager_subscribe(m, on_release_event, c);
        if (!c->sub)
                return -ENOMEM;
        c->starting = true;
        r = manager_release(m, v);
        c->starting = false;
        if (r < 0) {
                volume_get_info(v, &info);
                return vl_call_send(c->vc, error_for(c, r, VL_OP_RELEASE, &info, false, NULL), true);
        }
        r = early_replay(c);
        if (r != 0)
                return r < 0 ? r : 0;
        if (vl_call_oneway(c->vc))
                return vl_reply(c->vc, json_object(), true);
        volume_get_info(v, &info);
        if (info.state == MMP_STATE_RELEASED)   /* nothing left to wait for */
                return vl_reply(c->vc, pack1("volume", vl_volume_json(&info)), true);
        return 0;
}

/* ---- Handoff, EndUse --------------------------------------------------------------- */

static json_t *volume_go(const struct volume_info *info, bool go, bool continues)
{
        json_t *p = pack1("volume", vl_volume_json(info));

        if (set_new(p, "go", json_boolean(go)) < 0) {
                json_decref(p);
                return NULL;
        }
        return mmp_varlink_reply_new(p, continues);
}

static void on_handoff_event(const struct volume_event *ev, void *userdata)
{
        struct mcall *c = userdata;
        json_t *msg;
        bool final = true;

        if (!c->starting && ev->volume != c->volume)
                return;
        switch (ev->type) {
        case VOLUME_EVENT_HANDOFF:
                msg = volume_go(ev->info, true, true);
                final = false;
                break;
        case VOLUME_EVENT_IN_USE:
                msg = volume_go(ev->info, false, false);
                break;
        case VOLUME_EVENT_USE_ENDED:
                /* error 0: the user came and went before we saw it in use */
                msg = ev->error ? error_for(c, ev->error, VL_OP_HANDOFF, ev->info, false, ev->reason)
                                : volume_go(ev->info, false, false);
                break;
        case VOLUME_EVENT_LOST:
                msg = error_for(c, ev->error ? ev->error : -EIO, VL_OP_HANDOFF, ev->info, false, ev->reason);
                break;
        case VOLUME_EVENT_RELEASED:
        case VOLUME_EVENT_REMOVED:
                msg = error_for(c, -ECANCELED, VL_OP_HANDOFF, ev->info, false, "the volume was released");
                break;
        default:
                return;
        }
        deliver(c, ev->volume, msg, final);
}

static int parse_enum(const char *s, const char *const *names, int n, int fallback)
{
        if (!s)
                return fallback;
        for (int i = 0; i < n; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -2;
}

static int m_handoff(struct mcall *c)
{
        static const char *const users[] = { "none", "kernel", "tool" };
        static const char *const modes[] = { "fast", "wait" };
        struct manager *m = call_manager(c);
        json_t *pid = json_object_get(vl_call_params(c->vc), "pid");
        json_t *keep = json_object_get(vl_call_params(c->vc), "keep");
        struct handoff_request req = {
                .user = parse_enum(param_str(c, "user"), users, 3, -2),
                .mode = parse_enum(param_str(c, "mode"), modes, 2, -1),
                .mount_point = param_str(c, "mount_point"),
                .keep = json_is_true(keep),
        };
        struct volume_info info;
        struct volume *v;
        int r;

        if (!vl_call_more(c->vc))
                return vl_reply_service_error(c->vc, "ExpectedMore", NULL, NULL);
        if (req.user != MMP_USER_KERNEL && req.user != MMP_USER_TOOL)
                return invalid(c, "user");
        if (req.mode == -2)
                return invalid(c, "mode");
        if (req.user == MMP_USER_TOOL) {
                if (!json_is_integer(pid) || json_integer_value(pid) <= 0 || json_integer_value(pid) > INT_MAX)
                        return invalid(c, "pid");
                req.pid = (pid_t) json_integer_value(pid);
        } else if (pid && !json_is_null(pid)) {
                return invalid(c, "pid");
        }
        if (req.mount_point && !valid_path(req.mount_point))
                return invalid(c, "mount_point");
        v = manager_find(m, param_str(c, "device"));
        if (!v)
                return vl_call_send(c->vc, error_for(c, -ENOENT, VL_OP_LOOKUP, NULL, false, NULL), true);
        c->volume = v;
        c->sub = manager_subscribe(m, on_handoff_event, c);
        if (!c->sub)
                return -ENOMEM;
        c->starting = true;
        r = manager_handoff(m, v, &req);
        c->starting = false;
        if (r < 0) {
                volume_get_info(v, &info);
                return vl_call_send(c->vc, error_for(c, r, r == -ENOLCK || r == -EBUSY ? VL_OP_END_USE : VL_OP_HANDOFF,
                                                 &info, false, r == -ESRCH ? "no such process (pid)" : NULL), true);
        }
        r = early_replay(c);
        return r < 0 ? r : 0;
}

static void on_end_use_event(const struct volume_event *ev, void *userdata)
{
        struct mcall *c = userdata;
        json_t *p, *msg;

        if (ev->volume != c->volume)
                return;
        switch (ev->type) {
        case VOLUME_EVENT_USE_ENDED:
                if (ev->info->state != MMP_STATE_CLAIMING)
                        return;         /* released next */
                __attribute__((fallthrough));     /* re-claiming */
        case VOLUME_EVENT_RELEASED:
        case VOLUME_EVENT_REMOVED:
                p = pack1("volume", vl_volume_json(ev->info));
                msg = p ? mmp_varlink_reply_new(p, false) : NULL;
                break;
        case VOLUME_EVENT_USE_BUSY:
                msg = error_for(c, ev->error ? ev->error : -EBUSY, VL_OP_END_USE, ev->info, false, ev->reason);
                break;
        case VOLUME_EVENT_LOST:
                msg = error_for(c, ev->error ? ev->error : -EIO, VL_OP_END_USE, ev->info, true, ev->reason);
                break;
        default:
                return;
        }
        deliver(c, ev->volume, msg, true);
}

static int m_end_use(struct mcall *c)
{
        struct manager *m = call_manager(c);
        json_t *keep = json_object_get(vl_call_params(c->vc), "keep");
        struct volume_info info;
        struct volume *v;
        int ended, r;

        v = manager_find(m, param_str(c, "device"));
        if (!v)
                return vl_call_send(c->vc, error_for(c, -ENOENT, VL_OP_LOOKUP, NULL, false, NULL), true);
        c->volume = v;
        c->sub = manager_subscribe(m, on_end_use_event, c);
        if (!c->sub)
                return -ENOMEM;
        c->starting = true;
        ended = manager_end_use(m, v, json_is_boolean(keep) ? json_is_true(keep) : -1);
        c->starting = false;
        if (ended < 0 && ended != -EALREADY) {
                volume_get_info(v, &info);
                return vl_call_send(c->vc, error_for(c, ended, VL_OP_END_USE, &info, false, NULL), true);
        }
        r = early_replay(c);
        if (r != 0)
                return r < 0 ? r : 0;
        volume_get_info(v, &info);
        /* -EALREADY: nothing in use (held, or re-claiming after its use). */
        if (vl_call_oneway(c->vc) || info.state == MMP_STATE_RELEASED || info.state == MMP_STATE_HELD ||
            (info.state == MMP_STATE_CLAIMING && ended == -EALREADY))
                return vl_reply(c->vc, pack1("volume", vl_volume_json(&info)), true);
        return 0;
}

/* ---- List, Check ------------------------------------------------------------------ */

/*
 * List is written in pieces, LIST_CHUNK volumes per loop iteration, from
 * an idle watcher at the control plane's priority: with 10,000 volumes the
 * whole reply (about 1 KB a volume) took the loop for half a second, and
 * every heartbeat and every other client waited behind it.  The volumes
 * are those registered when the call came; one removed meanwhile is left
 * out (its REMOVED event clears its slot).  Each chunk is written as text
 * straight into one buffer (vl_volume_text(), no JSON tree) and queued with
 * one vl_call_send_text(): a tree per volume, dumped and freed, cost about
 * 18 us, the text 1.5 us (tests/varlink/test-volume-text prints both).
 */
#define LIST_CHUNK 64
#define LIST_HEAD_TEXT "{\"parameters\":{\"volumes\":["

struct list_state {
        struct volume **vols;
        size_t n, next;
        bool first;                     /* no volume written yet */
        struct vl_textbuf text;         /* the chunk being written */
        ev_idle idle;
        struct subscription *sub;
};

static void list_free(struct mcall *c)
{
        struct list_state *l = c->list;

        if (!l)
                return;
        ev_idle_stop(manager_loop(call_manager(c)), &l->idle);
        vl_call_on_drain(c->vc, NULL, NULL);
        manager_unsubscribe(call_manager(c), l->sub);
        vl_textbuf_free(&l->text);
        free(l->vols);
        free(l);
        c->list = NULL;
}

static void list_on_event(const struct volume_event *ev, void *userdata)
{
        struct mcall *c = userdata;

        if (ev->type != VOLUME_EVENT_REMOVED)
                return;
        for (size_t i = c->list->next; i < c->list->n; i++)
                if (c->list->vols[i] == ev->volume)
                        c->list->vols[i] = NULL;
}

/* Write the next chunk; 1 while more remain, 0 when the reply is sent,
 * -errno when the connection is gone (and @c with it). */
static int list_step(struct mcall *c)
{
        struct list_state *l = c->list;
        size_t stop = l->next + LIST_CHUNK < l->n ? l->next + LIST_CHUNK : l->n;
        struct vl_textbuf text;
        int r;

        /* The buffer holds what is still to send (the head, on the first
         * step): one send per chunk, the last one ending the reply. */
        for (; l->next < stop; l->next++) {
                struct volume_info info;

                if (!l->vols[l->next])
                        continue;
                volume_get_info(l->vols[l->next], &info);
                if ((!l->first && vl_textbuf_append(&l->text, ",", 1) < 0) || vl_volume_text(&l->text, &info) < 0)
                        return vl_call_send(c->vc, NULL, true);
                l->first = false;
        }
        if (l->next < l->n) {
                r = l->text.len ? vl_call_send_text(c->vc, l->text.data, l->text.len, false) : 0;
                l->text.len = 0;
                return r < 0 ? r : 1;
        }
        if (vl_textbuf_append(&l->text, "]}}", sizeof("]}}") - 1) < 0)
                return vl_call_send(c->vc, NULL, true);
        /* The state goes before the call ends (as @c does then); the last
         * piece of text leaves it first. */
        text = l->text;
        l->text = (struct vl_textbuf) {};
        list_free(c);
        r = vl_call_send_text(c->vc, text.data, text.len, true);
        vl_textbuf_free(&text);
        return r < 0 ? r : 0;
}

static void list_resume(void *userdata)
{
        struct mcall *c = userdata;

        ev_idle_start(manager_loop(call_manager(c)), &c->list->idle);
}

/* After a step that left more to do: go on next iteration, or, while the
 * peer has max_output unread, once it has read half of it.  Without this a
 * reader that does not keep up had the whole reply queued (10 MB for
 * 10,000 volumes with statistics) per List. */
static void list_continue(struct mcall *c)
{
        struct ev_loop *loop = manager_loop(call_manager(c));

        if (vl_call_output_full(c->vc)) {
                ev_idle_stop(loop, &c->list->idle);
                vl_call_on_drain(c->vc, list_resume, c);
        } else
                ev_idle_start(loop, &c->list->idle);
}

static void list_on_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
        struct mcall *c = w->data;

        if (list_step(c) > 0)
                list_continue(c);
}

static int m_list(struct mcall *c)
{
        struct manager *m = call_manager(c);
        struct list_state *l = calloc(1, sizeof(*l));
        size_t n = manager_size(m);
        int r;

        if (!l || (n && !(l->vols = malloc(n * sizeof(*l->vols))))) {
                free(l);
                return vl_call_send(c->vc, NULL, true);
        }
        l->n = manager_collect(m, l->vols, n);
        l->first = true;
        ev_idle_init(&l->idle, list_on_idle);
        ev_set_priority(&l->idle, MMPD_PRIO_CONTROL);
        l->idle.data = c;
        c->list = l;
        l->sub = manager_subscribe(m, list_on_event, c);
        if (!l->sub) {
                list_free(c);
                return vl_call_send(c->vc, NULL, true);
        }
        if (vl_textbuf_append(&l->text, LIST_HEAD_TEXT, sizeof(LIST_HEAD_TEXT) - 1) < 0)
                return vl_call_send(c->vc, NULL, true);
        r = list_step(c);
        if (r > 0)
                list_continue(c);
        return r < 0 ? r : 0;
}

static int m_daemon(struct mcall *c)
{
        struct manager *m = call_manager(c);
        struct volume_stats sum = {};
        unsigned n = 0;
        json_t *p = json_object();

        for (struct volume *v = manager_first(m); v; v = manager_next(m, v)) {
                struct volume_info info;

                volume_get_info(v, &info);
                n++;
                if (!info.stats)
                        continue;
                mmp_hist_merge(&sum.submit_late, &info.stats->submit_late);
                mmp_hist_merge(&sum.landed_late, &info.stats->landed_late);
                mmp_hist_merge(&sum.io, &info.stats->io);
        }
        if (set_new(p, "node", vl_json_string(manager_node_name(m))) < 0 ||
            set_new(p, "version", json_string(PACKAGE_VERSION)) < 0 ||
            set_new(p, "pid", json_integer(getpid())) < 0 ||
            set_new(p, "uptime_usec", json_integer((json_int_t) (vl_now() - c->app->started))) < 0 ||
            set_new(p, "connections", json_integer(varlink_server_connections(c->app->server))) < 0 ||
            set_new(p, "volumes", json_integer(n)) < 0 ||
            set_new(p, "stats", vl_stats_json(&sum)) < 0) {
                json_decref(p);
                p = NULL;
        }
        return vl_reply(c->vc, p, true);
}

static int m_check(struct mcall *c)
{
        struct vl_textbuf text = {};
        struct volume_info info;
        struct volume *v;
        mmp_usec_t now, fence_at;
        bool may_use;
        int r;

        v = manager_find(call_manager(c), param_str(c, "device"));
        if (!v)
                return vl_call_send(c->vc, error_for(c, -ENOENT, VL_OP_LOOKUP, NULL, false, NULL), true);
        volume_get_info(v, &info);
        /* The later of the snapshot's time and ours: never answer yes
         * with a clock that lags behind the real now. */
        now = vl_now();
        if (info.now > now)
                now = info.now;
        may_use = mmp_sm_may_use(&info.sm, now, &fence_at);

        /* As text, not a tree: clients poll this one (vl_check_text()). */
        if (vl_check_text(&text, &info, may_use, fence_at) < 0)
                return vl_call_send(c->vc, NULL, true);
        r = vl_call_send_text(c->vc, text.data, text.len, true);
        vl_textbuf_free(&text);
        return r;
}

/* ---- Watch -------------------------------------------------------------------------- */

static void on_watch_event(const struct volume_event *ev, void *userdata)
{
        struct mcall *c = userdata;
        struct vl_conn *conn = vl_call_conn(c->vc);

        if (ev->type == VOLUME_EVENT_USE_BUSY)  /* an answer to one EndUse, not news */
                return;
        vl_conn_ref(conn);
        vl_reply(c->vc, pack1("event", vl_event_json(ev)), false);
        vl_conn_unref(conn);
}

static int m_watch(struct mcall *c)
{
        if (!vl_call_more(c->vc))
                return vl_reply_service_error(c->vc, "ExpectedMore", NULL, NULL);
        vl_call_set_endless(c->vc);
        c->sub = manager_subscribe(call_manager(c), on_watch_event, c);
        return c->sub ? 0 : -ENOMEM;
}

/* ---- Inspect ------------------------------------------------------------------------ */

struct inspect_job {
        char *path;
        bool check_peer;
        struct mmpd_inspect_peer peer;
        gid_t *groups;
        int result;
        struct mmpd_inspect res;
};

static void inspect_work(void *arg)
{
        struct inspect_job *j = arg;

        j->result = mmpd_inspect_read(j->path, j->check_peer ? &j->peer : NULL, &j->res);
}

static void inspect_job_free(void *arg)
{
        struct inspect_job *j = arg;

        free(j->path);
        free(j->groups);
        free(j);
}

static void on_inspect_done(int result, void *arg, void *userdata)
{
        struct mcall *c = userdata;
        struct vl_conn *conn = vl_call_conn(c->vc);
        struct inspect_job *j = arg;
        json_t *msg;

        c->job = NULL;
        vl_conn_ref(conn);
        if (result == -ETIMEDOUT) {
                char reason[80];

                snprintf(reason, sizeof(reason), "no answer from the device within %g s",
                         c->app->inspect_timeout);
                msg = error_for(c, -ETIMEDOUT, VL_OP_INSPECT, NULL, false, reason);
        } else if (j->result == 0 ||
                   ((j->result == -EUCLEAN || j->result == -EBADMSG) && strcmp(j->res.stage, "MMP block") == 0)) {
                /* A bad magic or checksum is shown (magic, checksum_valid), as dump_mmp does. */
                json_t *p = pack1("block", vl_block_json(&j->res.sb, &j->res.block));

                msg = p ? mmp_varlink_reply_new(p, false) : NULL;
        } else {
                bool decoded = strcmp(j->res.stage, "superblock") == 0 || strcmp(j->res.stage, "MMP block") == 0;
                struct vl_error_ctx ctx = {
                        .op = VL_OP_INSPECT, .device = j->path, .decoded = decoded, .stage = j->res.stage,
                };

                msg = vl_error_from_errno(j->result, &ctx);
        }
        vl_call_send(c->vc, msg, true);
        vl_conn_unref(conn);
}

static int m_inspect(struct mcall *c)
{
        struct vl_conn *conn = vl_call_conn(c->vc);
        const char *device = param_str(c, "device");
        struct inspect_job *j;
        int r;

        if (!valid_path(device))
                return invalid(c, "device");
        if (vl_call_oneway(c->vc))
                return vl_reply(c->vc, json_object(), true);
        j = calloc(1, sizeof(*j));
        if (!j || !(j->path = strdup(device))) {
                free(j);
                return -ENOMEM;
        }
        if (!vl_conn_privileged(conn)) {
                size_t n = 0;

                r = vl_conn_groups(conn, &j->groups, &n);
                if (r < 0) {
                        inspect_job_free(j);
                        return vl_call_send(c->vc, error_for(c, r, VL_OP_INSPECT, NULL, false, NULL), true);
                }
                j->check_peer = true;
                j->peer = (struct mmpd_inspect_peer) {
                        .uid = vl_conn_cred(conn)->uid, .gid = vl_conn_cred(conn)->gid,
                        .groups = j->groups, .n_groups = n,
                };
        }
        r = offload_run(c->app->offload, inspect_work, j, inspect_job_free, c->app->inspect_timeout,
                        on_inspect_done, c, &c->job);
        if (r < 0) {
                inspect_job_free(j);
                return vl_call_send(c->vc, error_for(c, r, VL_OP_INSPECT, NULL, false,
                                                 r == -EAGAIN ? "too many Inspect calls in progress" : NULL),
                                    true);
        }
        return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

static const struct vl_param no_params[] = { { NULL } };
static const struct vl_param device_params[] = {
        { "device", JSON_STRING, true },
        { NULL },
};
static const struct vl_param handoff_param_spec[] = {
        { "device", JSON_STRING, true },
        { "user", JSON_STRING, true },
        { "pid", JSON_INTEGER, false },
        { "mount_point", JSON_STRING, false },
        { "keep", JSON_TRUE, false },
        { "mode", JSON_STRING, false },
        { NULL },
};
static const struct vl_param end_use_param_spec[] = {
        { "device", JSON_STRING, true },
        { "keep", JSON_TRUE, false },
        { NULL },
};
static const struct vl_param claim_param_spec[] = {
        { "device", JSON_STRING, true },
        { "name", JSON_STRING, false },
        { NULL },
};

static struct mcall *mcall_new(struct vl_call *vc, struct io_mmpd *app)
{
        struct mcall *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->vc = vc;
        c->app = app;
        vl_call_set_context(vc, c, mcall_free);
        return c;
}

/* What the server calls: each gives the call its context, then runs m_X. */
#define ENTRY(fn)                                                       \
        static int fn##_entry(struct vl_call *vc, void *userdata)       \
        {                                                               \
                struct mcall *c = mcall_new(vc, userdata);              \
                return c ? fn(c) : -ENOMEM;                             \
        }
ENTRY(m_list)
ENTRY(m_daemon)
ENTRY(m_claim)
ENTRY(m_claim_fd)
ENTRY(m_release)
ENTRY(m_handoff)
ENTRY(m_end_use)
ENTRY(m_check)
ENTRY(m_watch)
ENTRY(m_inspect)

static const struct vl_method io_mmpd_methods[] = {
        { MMP_IO_INTERFACE ".List", m_list_entry, 0, no_params },
        { MMP_IO_INTERFACE ".Daemon", m_daemon_entry, 0, no_params },
        { MMP_IO_INTERFACE ".Claim", m_claim_entry, VL_METHOD_PRIVILEGED, claim_param_spec },
        { MMP_IO_INTERFACE ".ClaimFd", m_claim_fd_entry, VL_METHOD_PRIVILEGED, claim_param_spec },
        { MMP_IO_INTERFACE ".Release", m_release_entry, VL_METHOD_PRIVILEGED, device_params },
        { MMP_IO_INTERFACE ".Handoff", m_handoff_entry, VL_METHOD_PRIVILEGED, handoff_param_spec },
        { MMP_IO_INTERFACE ".EndUse", m_end_use_entry, VL_METHOD_PRIVILEGED, end_use_param_spec },
        { MMP_IO_INTERFACE ".Check", m_check_entry, 0, device_params },
        { MMP_IO_INTERFACE ".Watch", m_watch_entry, 0, no_params },
        { MMP_IO_INTERFACE ".Inspect", m_inspect_entry, 0, device_params },
        { NULL },
};

/* ---- registration ------------------------------------------------------------------- */

/* Called by varlink_server_free() once every call is gone. */
static void io_mmpd_free(void *userdata)
{
        struct io_mmpd *app = userdata;

        offload_free(app->offload);
        free(app);
}

int varlink_server_new(struct ev_loop *loop, struct manager *manager,
                       const struct varlink_options *opts, struct varlink_server **ret)
{
        struct varlink_options o = opts ? *opts : (struct varlink_options) { 0 };
        struct varlink_server *s = NULL;
        struct io_mmpd *app;
        int r;

        if (!o.socket_path)
                o.socket_path = MMPD_DEFAULT_SOCKET;
        app = calloc(1, sizeof(*app));
        if (!app)
                return -ENOMEM;
        app->manager = manager;
        app->started = vl_now();
        app->inspect_timeout = o.inspect_timeout > 0 ? o.inspect_timeout : VARLINK_INSPECT_TIMEOUT;
        r = offload_new(loop, o.max_inspects ? o.max_inspects : VARLINK_MAX_INSPECTS, &app->offload);
        if (r < 0) {
                free(app);
                return r;
        }
        r = varlink_transport_new(loop, &o, &s);
        if (r < 0) {
                io_mmpd_free(app);
                return r;
        }
        app->server = s;
        varlink_server_set_info(s, "mmpd", "mmpd", PACKAGE_VERSION, PACKAGE_URL);
        r = varlink_server_add_interface(s, &(struct vl_interface) {
                .name = MMP_IO_INTERFACE,
                .description = varlink_io_mmpd_idl,
                .methods = io_mmpd_methods,
                .userdata = app,
                .destroy = io_mmpd_free,
        });
        if (r < 0) {
                io_mmpd_free(app);
                varlink_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}
