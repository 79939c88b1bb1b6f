/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libmmp: the io.mmpd methods (see mmpd/io.mmpd.varlink). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libmmp-internal.h"
#include "mmp-names.h"

/* The struct sizes of LIBMMP_1: callers built against it pass at least this. */
#define CHECK_SIZE_V1 (offsetof(struct mmp_check, volume) + sizeof(struct mmp_volume *))
#define BLOCK_INFO_SIZE_V1 (offsetof(struct mmp_block_info, wait_seconds) + sizeof(uint32_t))

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

static uint64_t boottime_usec(void)
{
        return mmp_boottime_usec();
}

/* {"device": device} (+ name), or NULL out of memory. */
static json_t *device_params(const char *device, const char *name)
{
        json_t *p = json_pack("{s:s}", "device", device);

        if (p && name && json_object_set_new(p, "name", json_string(name)) < 0)
                p = (json_decref(p), NULL);
        return p;
}

/* The common start of a call about one device: the connection, then the
 * {"device", "name"?} parameters (owned by the caller until sent). */
static int begin_device_call(struct mmp_client *c, const char *device, const char *name,
                             json_t **ret_params)
{
        json_t *params;
        int r;

        r = client_begin(c);
        if (r < 0)
                return r;
        params = device_params(device, name);
        if (!params)
                return client_fail(c, -ENOMEM, false, "out of memory");
        *ret_params = params;
        return 0;
}

static int bad_reply(struct mmp_client *c, const char *method, const char *what)
{
        /* The reply was complete: the connection stays in step. */
        return client_fail(c, -EBADMSG, false, "malformed reply from mmpd to %s: %s", method, what);
}

_public_ int mmp_list(struct mmp_client *c, struct mmp_volume ***ret_volumes, size_t *ret_n)
{
        _cleanup_json_ json_t *p = NULL;
        struct mmp_volume **vols;
        json_t *arr, *item;
        size_t i, n;
        int r;

        if (!c || !ret_volumes || !ret_n)
                return -EINVAL;
        r = client_begin(c);
        if (r < 0)
                return r;
        r = client_call(c, "io.mmpd.List", json_object(), &p);
        if (r < 0)
                return r;
        arr = json_object_get(p, "volumes");
        if (!json_is_array(arr))
                return bad_reply(c, "List", "no volumes array");
        n = json_array_size(arr);
        vols = calloc(n ? n : 1, sizeof(*vols));
        if (!vols)
                return client_fail(c, -ENOMEM, false, "out of memory");
        json_array_foreach(arr, i, item) {
                r = volume_from_json(item, &vols[i]);
                if (r < 0) {
                        mmp_list_free(vols, i);
                        if (r == -ENOMEM)
                                return client_fail(c, r, false, "out of memory");
                        return bad_reply(c, "List", "malformed volume");
                }
        }
        *ret_volumes = vols;
        *ret_n = n;
        return 0;
}

/* A final Claim reply: held is success; anything else was not a claim. */
static int claim_outcome(struct mmp_client *c, json_t *params, struct mmp_volume **ret)
{
        struct mmp_volume *v;
        int r;

        r = volume_from_json(json_object_get(params, "volume"), &v);
        if (r == -ENOMEM)
                return client_fail(c, r, false, "out of memory");
        if (r < 0)
                return bad_reply(c, "Claim", "no volume");
        if (v->state != MMP_VOLUME_HELD) {
                const struct mmp_holder *h = mmp_volume_get_holder(v);

                if (v->state == MMP_VOLUME_REFUSED && h) {
                        r = client_fail(c, -EBUSY, false,
                                        "%s is in use by node '%s' (device %s, seq %u)",
                                        v->device, h->node, h->device, (unsigned) h->seq);
                        c->err.device = strdup(v->device);
                        c->err.holder_node = strdup(h->node);
                        c->err.holder_device = strdup(h->device);
                        c->err.has_holder_seq = true;
                        c->err.holder_seq = h->seq;
                } else {
                        r = client_fail(c, -EPROTO, false, "the claim of %s ended in state %s%s%s",
                                        v->device, v->state_name, v->error ? ": " : "",
                                        v->error ? v->error : "");
                }
                mmp_volume_unref(v);
                return r;
        }
        if (ret)
                *ret = v;
        else
                mmp_volume_unref(v);
        return 0;
}

/* Hand the event in a streamed reply (if any) to @cb.  Returns -errno when
 * the event is malformed (the client has failed); *ret_stop is what the
 * callback returned: nonzero means the caller asked to stop. */
static int dispatch_event(struct mmp_client *c, json_t *reply, bool continues,
                          mmp_volume_event_cb cb, void *userdata, const char *method, int *ret_stop)
{
        json_t *jev = json_object_get(reply, "event");
        struct mmp_volume_event ev;
        int r;

        *ret_stop = 0;
        if (!jev || json_is_null(jev))
                return 0;
        r = event_from_json(jev, &ev);
        if (r < 0)
                return client_fail(c, r, continues, "malformed event from mmpd during %s", method);
        *ret_stop = client_run_callback(c, cb, &ev, userdata);
        event_done(&ev);
        return 0;
}

_public_ int mmp_claim(struct mmp_client *c, const char *device, const char *name,
                       mmp_volume_event_cb progress_cb, void *userdata, struct mmp_volume **ret)
{
        json_t *params;
        int r;

        if (!c || !device)
                return -EINVAL;
        r = begin_device_call(c, device, name, &params);
        if (r < 0)
                return r;
        r = client_send_call(c, "io.mmpd.Claim", params, progress_cb != NULL);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_json_ json_t *p = NULL;
                bool continues;
                int stop;

                r = client_read_reply(c, true, &p, &continues);
                if (r < 0)
                        return r;
                if (continues && !progress_cb)
                        return client_fail(c, -EBADMSG, true,
                                           "mmpd streamed a reply to Claim, which did not ask for more");

                if (progress_cb) {
                        r = dispatch_event(c, p, continues, progress_cb, userdata, "Claim", &stop);
                        if (r < 0)
                                return r;
                        if (stop)
                                return client_fail(c, stop, continues,
                                                   "stopped waiting for the claim of %s", device);
                }
                if (!continues)
                        return claim_outcome(c, p, ret);
        }
}

_public_ int mmp_release(struct mmp_client *c, const char *device, struct mmp_volume **ret)
{
        _cleanup_json_ json_t *p = NULL;
        struct mmp_volume *v;
        json_t *params;
        int r;

        if (!c || !device)
                return -EINVAL;
        r = begin_device_call(c, device, NULL, &params);
        if (r < 0)
                return r;
        r = client_call(c, "io.mmpd.Release", params, &p);
        if (r < 0)
                return r;
        r = volume_from_json(json_object_get(p, "volume"), &v);
        if (r == -ENOMEM)
                return client_fail(c, r, false, "out of memory");
        if (r < 0)
                return bad_reply(c, "Release", "no volume");
        if (ret)
                *ret = v;
        else
                mmp_volume_unref(v);
        return 0;
}

_public_ int mmp_check(struct mmp_client *c, const char *device, struct mmp_check *ret)
{
        _cleanup_json_ json_t *p = NULL;
        struct mmp_check chk = { .size = sizeof(chk) };
        json_t *params, *may;
        int64_t until, wall;
        int r, ru, rw;

        if (!c || !device || !ret || ret->size < CHECK_SIZE_V1)
                return -EINVAL;
        r = begin_device_call(c, device, NULL, &params);
        if (r < 0)
                return r;
        r = client_call(c, "io.mmpd.Check", params, &p);
        if (r < 0)
                return r;

        may = json_object_get(p, "may_use");
        if (!json_is_boolean(may))
                return bad_reply(c, "Check", "no may_use");
        ru = mmp_json_get_int(p, "guaranteed_until_usec", 0, INT64_MAX, &until);
        rw = mmp_json_get_int(p, "guaranteed_until_wall", INT64_MIN, INT64_MAX, &wall);
        if ((ru < 0 && ru != -ENODATA) || (rw < 0 && rw != -ENODATA))
                return bad_reply(c, "Check", "bad guaranteed_until");
        chk.may_use = json_is_true(may);
        if (ru == 0) {
                uint64_t now = boottime_usec();

                chk.has_guarantee = true;
                chk.guaranteed_until_usec = (uint64_t) until;
                chk.guaranteed_until_wall = rw == 0 ? wall : 0;
                chk.guaranteed_for_usec = (uint64_t) until > now ? (uint64_t) until - now : 0;
        }
        r = volume_from_json(json_object_get(p, "volume"), &chk.volume);
        if (r == -ENOMEM)
                return client_fail(c, r, false, "out of memory");
        if (r < 0)
                return bad_reply(c, "Check", "no volume");

        chk.size = min_size(ret->size, sizeof(chk));
        memcpy(ret, &chk, chk.size);
        return 0;
}

_public_ void mmp_check_clear(struct mmp_check *check)
{
        if (check && check->size >= CHECK_SIZE_V1)
                check->volume = mmp_volume_unref(check->volume);
}

_public_ int mmp_watch(struct mmp_client *c, mmp_volume_event_cb event_cb, void *userdata)
{
        int r;

        if (!c || !event_cb)
                return -EINVAL;
        r = client_begin(c);
        if (r < 0)
                return r;
        r = client_send_call(c, "io.mmpd.Watch", json_object(), true);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_json_ json_t *p = NULL;
                bool continues;
                int stop;

                /* Events may be hours apart: no timeout here. */
                r = client_read_reply(c, false, &p, &continues);
                if (r < 0)
                        return r;
                r = dispatch_event(c, p, continues, event_cb, userdata, "Watch", &stop);
                if (r < 0)
                        return r;
                if (stop)
                        return client_fail(c, stop, continues, "stopped watching");
                if (!continues)
                        return 0;
        }
}

_public_ int mmp_inspect(struct mmp_client *c, const char *device, struct mmp_block_info *ret)
{
        _cleanup_json_ json_t *p = NULL;
        struct mmp_block_info info = { .size = sizeof(info) };
        json_t *params;
        int r;

        if (!c || !device || !ret || ret->size < BLOCK_INFO_SIZE_V1)
                return -EINVAL;
        r = begin_device_call(c, device, NULL, &params);
        if (r < 0)
                return r;
        r = client_call(c, "io.mmpd.Inspect", params, &p);
        if (r < 0)
                return r;
        r = block_info_from_json(json_object_get(p, "block"), &info);
        if (r < 0)
                return bad_reply(c, "Inspect", "malformed block");
        info.size = min_size(ret->size, sizeof(info));
        memcpy(ret, &info, info.size);
        return 0;
}

/* ---------------------------------------------------------------------------
 * Handoff and EndUse (LIBMMP_2)
 */

/* LIBMMP_2's struct mmp_handoff_opts: callers pass at least this much. */
#define HANDOFF_OPTS_SIZE_V2 (offsetof(struct mmp_handoff_opts, mode) + sizeof(enum mmp_handoff_mode))

/* The caller's options, checked, with defaults past its .size. */
static int handoff_opts_read(const struct mmp_handoff_opts *in, struct mmp_handoff_opts *ret)
{
        struct mmp_handoff_opts o = MMP_HANDOFF_OPTS_INIT;

        if (!in || in->size < HANDOFF_OPTS_SIZE_V2)
                return -EINVAL;
        memcpy(&o, in, min_size(in->size, sizeof(o)));
        if (o.user != MMP_USE_KERNEL && o.user != MMP_USE_TOOL)
                return -EINVAL;
        if (o.user == MMP_USE_TOOL && o.pid <= 0)
                return -EINVAL;
        if (o.pid < 0 || (unsigned) o.mode > MMP_HANDOFF_MODE_WAIT)
                return -EINVAL;
        *ret = o;
        return 0;
}

/* Handoff's parameters; absent fields are left to mmpd's defaults. */
static json_t *handoff_params(const char *device, const struct mmp_handoff_opts *o)
{
        json_t *p = json_pack("{s:s, s:s}", "device", device,
                              "user", o->user == MMP_USE_KERNEL ? "kernel" : "tool");

        if (!p)
                return NULL;
        if ((o->pid > 0 && json_object_set_new(p, "pid", json_integer(o->pid)) < 0) ||
            (o->mount_point && json_object_set_new(p, "mount_point", json_string(o->mount_point)) < 0) ||
            (o->keep && json_object_set_new(p, "keep", json_true()) < 0) ||
            (o->mode != MMP_HANDOFF_MODE_DEFAULT &&
             json_object_set_new(p, "mode", json_string(o->mode == MMP_HANDOFF_MODE_FAST ?
                                                        "fast" : "wait")) < 0)) {
                json_decref(p);
                return NULL;
        }
        return p;
}

/*
 * mmpd said go.  The volume's JSON text is left for later: the only work
 * between the reply and the user's start is decoding the reply.
 */
static int handoff_go(struct mmp_client *c, const char *device, json_t *params,
                      mmp_handoff_go_cb go, void *userdata)
{
        struct mmp_volume *v;
        int r;

        r = volume_from_json_untexted(json_object_get(params, "volume"), &v);
        if (r == -ENOMEM)
                return client_fail(c, r, true, "out of memory");
        if (r < 0)
                return client_fail(c, -EBADMSG, true,
                                   "malformed reply from mmpd to Handoff: no volume with go");
        c->in_callback = true;
        r = go(c, v, userdata);
        c->in_callback = false;
        mmp_volume_unref(v);
        if (r < 0)
                /* mmpd still waits for a user: the caller ends the use. */
                return client_fail(c, r, true, "the user of %s did not start: %s", device,
                                   strerror(-r));
        return 0;
}

/* The final Handoff reply (go false): the volume in use, or already past
 * its use when the user came and went before mmpd saw it in use. */
static int handoff_outcome(struct mmp_client *c, json_t *params, struct mmp_volume **ret)
{
        struct mmp_volume *v;
        int r;

        r = volume_from_json(json_object_get(params, "volume"), &v);
        if (r == -ENOMEM)
                return client_fail(c, r, false, "out of memory");
        if (r < 0)
                return bad_reply(c, "Handoff", "no volume");
        if (ret)
                *ret = v;
        else
                mmp_volume_unref(v);
        return 0;
}

_public_ int mmp_handoff(struct mmp_client *c, const char *device,
                         const struct mmp_handoff_opts *opts, mmp_handoff_go_cb go, void *userdata,
                         struct mmp_volume **ret)
{
        struct mmp_handoff_opts o;
        bool went = false;
        json_t *params;
        int r;

        if (!c || !device || !go || handoff_opts_read(opts, &o) < 0)
                return -EINVAL;
        r = client_begin(c);
        if (r < 0)
                return r;
        params = handoff_params(device, &o);
        if (!params)
                return client_fail(c, -ENOMEM, false, "out of memory");
        r = client_send_call(c, "io.mmpd.Handoff", params, true);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_json_ json_t *p = NULL;
                bool continues;
                json_t *g;

                r = client_read_reply(c, true, &p, &continues);
                if (r < 0)
                        return r;
                g = json_object_get(p, "go");
                if (!json_is_boolean(g))
                        return client_fail(c, -EBADMSG, continues,
                                           "malformed reply from mmpd to Handoff: no go");
                if (json_is_true(g)) {
                        /* Exactly one go, and never in the last reply. */
                        if (went || !continues)
                                return client_fail(c, -EBADMSG, continues,
                                                   "mmpd said go for %s %s", device,
                                                   went ? "twice" : "in its last reply");
                        went = true;
                        r = handoff_go(c, device, p, go, userdata);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (continues)
                        continue;       /* news from a newer mmpd: the last reply decides */
                if (!went)
                        return client_fail(c, -EBADMSG, false,
                                           "mmpd ended the handoff of %s without saying go", device);
                return handoff_outcome(c, p, ret);
        }
}

_public_ int mmp_end_use(struct mmp_client *c, const char *device, int keep,
                         struct mmp_volume **ret)
{
        _cleanup_json_ json_t *p = NULL;
        struct mmp_volume *v;
        json_t *params;
        int r;

        if (!c || !device || keep < -1 || keep > 1)
                return -EINVAL;
        r = begin_device_call(c, device, NULL, &params);
        if (r < 0)
                return r;
        if (keep >= 0 && json_object_set_new(params, "keep", json_boolean(keep)) < 0) {
                json_decref(params);
                return client_fail(c, -ENOMEM, false, "out of memory");
        }
        r = client_call(c, "io.mmpd.EndUse", params, &p);
        if (r < 0)
                return r;
        r = volume_from_json(json_object_get(p, "volume"), &v);
        if (r == -ENOMEM)
                return client_fail(c, r, false, "out of memory");
        if (r < 0)
                return bad_reply(c, "EndUse", "no volume");
        if (ret)
                *ret = v;
        else
                mmp_volume_unref(v);
        return 0;
}
