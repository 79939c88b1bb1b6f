/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.mmpd's types (Volume, Holder, Event, MmpBlock) from JSON, and their
 * accessors.  A volume keeps a reference to its JSON object, which owns the
 * strings the accessors return, and a compact JSON text of it for --json
 * output.  What io.mmpd declares non-optional must be there with its type;
 * optional fields may be absent or null; unknown fields are ignored, so an
 * older libmmp reads a newer mmpd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libmmp-internal.h"

int mmp_json_get_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *ret)
{
        json_t *v = json_object_get(obj, key);
        json_int_t i;

        if (!v || json_is_null(v))
                return -ENODATA;
        if (!json_is_integer(v))
                return -EBADMSG;
        i = json_integer_value(v);
        if (i < min || i > max)
                return -EBADMSG;
        *ret = i;
        return 0;
}

int mmp_json_get_string(json_t *obj, const char *key, const char **ret)
{
        json_t *v = json_object_get(obj, key);

        if (!v || json_is_null(v))
                return -ENODATA;
        if (!json_is_string(v))
                return -EBADMSG;
        *ret = json_string_value(v);
        return 0;
}

/* Optional fields: absent is fine, a wrong type is not. */
static int get_opt_u32(json_t *obj, const char *key, struct opt_u32 *ret)
{
        int64_t i;
        int r = mmp_json_get_int(obj, key, 0, UINT32_MAX, &i);

        if (r == -ENODATA)
                return 0;
        if (r < 0)
                return r;
        *ret = (struct opt_u32) { true, (uint32_t) i };
        return 0;
}

static int get_opt_u64(json_t *obj, const char *key, struct opt_u64 *ret)
{
        int64_t i;
        int r = mmp_json_get_int(obj, key, 0, INT64_MAX, &i);

        if (r == -ENODATA)
                return 0;
        if (r < 0)
                return r;
        *ret = (struct opt_u64) { true, (uint64_t) i };
        return 0;
}

static int get_opt_i64(json_t *obj, const char *key, struct opt_i64 *ret)
{
        int64_t i;
        int r = mmp_json_get_int(obj, key, INT64_MIN, INT64_MAX, &i);

        if (r == -ENODATA)
                return 0;
        if (r < 0)
                return r;
        *ret = (struct opt_i64) { true, i };
        return 0;
}

static int get_opt_string(json_t *obj, const char *key, const char **ret)
{
        int r = mmp_json_get_string(obj, key, ret);

        return r == -ENODATA ? 0 : r;
}

/* A required string: absent is as bad as a wrong type. */
static int get_string(json_t *obj, const char *key, const char **ret)
{
        int r = mmp_json_get_string(obj, key, ret);

        return r == -ENODATA ? -EBADMSG : r;
}

static int lookup(const char *const *names, size_t n, const char *s, int unknown)
{
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], s) == 0)
                        return (int) i;
        return unknown;
}

static const char *const state_names[] = {
        [MMP_VOLUME_IDLE] = "idle",           [MMP_VOLUME_CLAIMING] = "claiming",
        [MMP_VOLUME_HELD] = "held",           [MMP_VOLUME_RELEASING] = "releasing",
        [MMP_VOLUME_RELEASED] = "released",   [MMP_VOLUME_REFUSED] = "refused",
        [MMP_VOLUME_LOST] = "lost",           [MMP_VOLUME_IN_USE] = "in_use",
};

static const char *const seq_kind_names[] = {
        [MMP_SEQ_KIND_ACTIVE] = "active",     [MMP_SEQ_KIND_CLEAN] = "clean",
        [MMP_SEQ_KIND_FSCK] = "fsck",         [MMP_SEQ_KIND_INVALID] = "invalid",
};

static const char *const event_type_names[] = {
        [MMP_VOLUME_EVENT_PROGRESS] = "progress",
        [MMP_VOLUME_EVENT_CLAIMED] = "claimed",
        [MMP_VOLUME_EVENT_REFUSED] = "refused",
        [MMP_VOLUME_EVENT_RELEASED] = "released",
        [MMP_VOLUME_EVENT_LOST] = "lost",
        [MMP_VOLUME_EVENT_SLOW_IO] = "slow_io",
        [MMP_VOLUME_EVENT_CHECK_INTERVAL] = "check_interval",
        [MMP_VOLUME_EVENT_REMOVED] = "removed",
        [MMP_VOLUME_EVENT_HANDOFF] = "handoff",
        [MMP_VOLUME_EVENT_IN_USE] = "in_use",
        [MMP_VOLUME_EVENT_USE_ENDED] = "use_ended",
};

enum mmp_seq_kind seq_kind_from_string(const char *s)
{
        return (enum mmp_seq_kind) lookup(seq_kind_names, ELEMENTSOF(seq_kind_names), s,
                                          MMP_SEQ_KIND_UNKNOWN);
}

static int holder_from_json(json_t *obj, struct mmp_holder *ret)
{
        struct mmp_holder h = { .seq_kind = MMP_SEQ_KIND_UNKNOWN };
        const char *kind = NULL;
        int64_t i;
        int r;

        if (!json_is_object(obj))
                return -EBADMSG;
        if ((r = get_string(obj, "node", &h.node)) < 0 ||
            (r = get_string(obj, "device", &h.device)) < 0 ||
            (r = get_opt_string(obj, "seq_class", &kind)) < 0)
                return r;
        r = mmp_json_get_int(obj, "seq", 0, UINT32_MAX, &i);
        if (r < 0)
                return -EBADMSG;
        h.seq = (uint32_t) i;
        if (kind)
                h.seq_kind = seq_kind_from_string(kind);
        r = mmp_json_get_int(obj, "time_wall", INT64_MIN, INT64_MAX, &i);
        if (r == 0)
                h.time_wall = i;
        else if (r != -ENODATA)
                return r;
        r = mmp_json_get_int(obj, "check_interval", 0, UINT32_MAX, &i);
        if (r == 0)
                h.check_interval = (uint32_t) i;
        else if (r != -ENODATA)
                return r;
        *ret = h;
        return 0;
}

/* io.mmpd's Use.  The enumerations are kept as mmpd spelled them, so a
 * newer mmpd's values read as they are. */
static int use_from_json(json_t *obj, struct mmp_use *ret)
{
        struct mmp_use u = {};
        json_t *j;
        int r;

        if (!json_is_object(obj))
                return -EBADMSG;
        if ((r = get_string(obj, "user", &u.user)) < 0 ||
            (r = get_string(obj, "mode", &u.mode)) < 0 ||
            (r = get_string(obj, "phase", &u.phase)) < 0 ||
            (r = get_opt_string(obj, "mount_point", &u.mount_point)) < 0 ||
            (r = get_opt_string(obj, "user_node", &u.user_node)) < 0 ||
            (r = get_opt_string(obj, "user_device", &u.user_device)) < 0)
                return r;
        j = json_object_get(obj, "keep");
        if (!json_is_boolean(j))
                return -EBADMSG;
        u.keep = json_is_true(j);
        /* A pid is a positive int. */
        r = get_opt_u32(obj, "pid", &u.pid);
        if (r < 0 || (u.pid.set && (u.pid.v == 0 || u.pid.v > INT32_MAX)))
                return -EBADMSG;
        if ((r = get_opt_u32(obj, "user_seq", &u.user_seq)) < 0 ||
            (r = get_opt_u64(obj, "since_usec", &u.since_usec)) < 0 ||
            (r = get_opt_u64(obj, "last_change_usec", &u.last_change_usec)) < 0)
                return r;
        if (!u.since_usec.set)
                return -EBADMSG;        /* required by io.mmpd */
        *ret = u;
        return 0;
}

static struct mmp_volume *volume_free(struct mmp_volume *v)
{
        json_decref(v->obj);
        free(v->json);
        free(v);
        return NULL;
}

static int volume_parse(struct mmp_volume *v)
{
        json_t *obj = v->obj, *j;
        int64_t i;
        int r;

        if (!json_is_object(obj))
                return -EBADMSG;
        if ((r = get_string(obj, "name", &v->name)) < 0 ||
            (r = get_string(obj, "device", &v->device)) < 0 ||
            (r = get_string(obj, "state", &v->state_name)) < 0 ||
            (r = get_opt_string(obj, "phase", &v->phase)) < 0 ||
            (r = get_opt_string(obj, "error", &v->error)) < 0)
                return r;
        if (!v->phase)
                v->phase = "";
        v->state = (enum mmp_volume_state) lookup(state_names, ELEMENTSOF(state_names),
                                                  v->state_name, MMP_VOLUME_STATE_UNKNOWN);

        j = json_object_get(obj, "static");
        if (j && !json_is_boolean(j))
                return -EBADMSG;
        v->is_static = json_is_true(j);
        r = mmp_json_get_int(obj, "failures", 0, UINT32_MAX, &i);
        if (r == 0)
                v->failures = (unsigned) i;
        else if (r != -ENODATA)
                return r;

        if ((r = get_opt_u32(obj, "seq", &v->seq)) < 0 ||
            (r = get_opt_u32(obj, "update_interval", &v->update_interval)) < 0 ||
            (r = get_opt_u32(obj, "check_interval", &v->check_interval)) < 0 ||
            (r = get_opt_u32(obj, "wait_seconds", &v->wait_seconds)) < 0 ||
            (r = get_opt_u64(obj, "last_heartbeat_usec", &v->last_heartbeat_usec)) < 0 ||
            (r = get_opt_u64(obj, "last_heartbeat_age_usec", &v->last_heartbeat_age_usec)) < 0 ||
            (r = get_opt_u64(obj, "fence_at_usec", &v->fence_at_usec)) < 0 ||
            (r = get_opt_i64(obj, "fence_at_wall", &v->fence_at_wall)) < 0 ||
            (r = get_opt_u64(obj, "peer_write_at_usec", &v->peer_write_at_usec)) < 0 ||
            (r = get_opt_u64(obj, "peer_use_at_usec", &v->peer_use_at_usec)) < 0)
                return r;

        j = json_object_get(obj, "holder");
        if (j && !json_is_null(j)) {
                r = holder_from_json(j, &v->holder);
                if (r < 0)
                        return r;
                v->has_holder = true;
        }
        j = json_object_get(obj, "use");
        if (j && !json_is_null(j)) {
                r = use_from_json(j, &v->use);
                if (r < 0)
                        return r;
                v->has_use = true;
        }
        return 0;
}

int volume_from_json_untexted(json_t *obj, struct mmp_volume **ret)
{
        struct mmp_volume *v;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->n_ref = 1;
        v->obj = json_incref(obj);
        r = volume_parse(v);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

int volume_from_json(json_t *obj, struct mmp_volume **ret)
{
        struct mmp_volume *v;
        int r;

        r = volume_from_json_untexted(obj, &v);
        if (r < 0)
                return r;
        v->json = json_dumps(obj, JSON_COMPACT);
        if (!v->json) {
                volume_free(v);
                return -ENOMEM;
        }
        *ret = v;
        return 0;
}

int event_from_json(json_t *obj, struct mmp_volume_event *ret)
{
        struct mmp_volume_event ev = {};
        int r;

        if (!json_is_object(obj))
                return -EBADMSG;
        ev.obj = json_incref(obj);
        if ((r = get_string(obj, "type", &ev.type_name)) < 0 ||
            (r = get_opt_string(obj, "reason", &ev.reason)) < 0 ||
            (r = get_opt_u64(obj, "io_usec", &ev.io_usec)) < 0 ||
            (r = volume_from_json(json_object_get(obj, "volume"), &ev.volume)) < 0)
                goto fail;
        ev.type = (enum mmp_volume_event_type) lookup(event_type_names,
                                                      ELEMENTSOF(event_type_names),
                                                      ev.type_name, MMP_VOLUME_EVENT_UNKNOWN);
        ev.json = json_dumps(obj, JSON_COMPACT);
        if (!ev.json) {
                r = -ENOMEM;
                goto fail;
        }
        *ret = ev;
        return 0;
fail:
        event_done(&ev);
        return r;
}

void event_done(struct mmp_volume_event *ev)
{
        mmp_volume_unref(ev->volume);
        json_decref(ev->obj);
        free(ev->json);
        *ev = (struct mmp_volume_event) {};
}

/* Copy @s into @dst of @size bytes; a cut never splits a UTF-8 sequence. */
static void copy_name(char *dst, size_t size, const char *s)
{
        size_t n = strlen(s);

        if (n >= size) {
                n = size - 1;
                while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
                        n--;
        }
        memcpy(dst, s, n);
        dst[n] = '\0';
}

int block_info_from_json(json_t *obj, struct mmp_block_info *ret)
{
        static const struct {
                const char *key;
                size_t off;
                bool wide;
        } ints[] = {
                { "block_size", offsetof(struct mmp_block_info, block_size), false },
                { "update_interval", offsetof(struct mmp_block_info, update_interval), false },
                { "check_interval", offsetof(struct mmp_block_info, check_interval), false },
                { "seq", offsetof(struct mmp_block_info, seq), false },
                { "magic", offsetof(struct mmp_block_info, magic), false },
                { "checksum", offsetof(struct mmp_block_info, checksum), false },
                { "wait_seconds", offsetof(struct mmp_block_info, wait_seconds), false },
                { "block_number", offsetof(struct mmp_block_info, block_number), true },
        };
        const char *kind, *node, *device;
        json_t *j;
        int64_t i;
        int r;

        if (!json_is_object(obj))
                return -EBADMSG;
        for (size_t k = 0; k < ELEMENTSOF(ints); k++) {
                r = mmp_json_get_int(obj, ints[k].key, 0, ints[k].wide ? INT64_MAX : UINT32_MAX, &i);
                if (r < 0)
                        return -EBADMSG;
                if (ints[k].wide)
                        *(uint64_t *) ((char *) ret + ints[k].off) = (uint64_t) i;
                else
                        *(uint32_t *) ((char *) ret + ints[k].off) = (uint32_t) i;
        }
        if (mmp_json_get_int(obj, "time_wall", INT64_MIN, INT64_MAX, &i) < 0)
                return -EBADMSG;
        ret->time_wall = i;
        if ((r = get_string(obj, "seq_class", &kind)) < 0 ||
            (r = get_string(obj, "node", &node)) < 0 ||
            (r = get_string(obj, "device", &device)) < 0)
                return r;
        ret->seq_kind = seq_kind_from_string(kind);
        copy_name(ret->node, sizeof(ret->node), node);
        copy_name(ret->device, sizeof(ret->device), device);
        j = json_object_get(obj, "checksum_valid");
        if (!json_is_boolean(j))
                return -EBADMSG;
        ret->checksum_valid = json_is_true(j);
        j = json_object_get(obj, "metadata_csum");
        if (!json_is_boolean(j))
                return -EBADMSG;
        ret->metadata_csum = json_is_true(j);
        return 0;
}

/* ---------------------------------------------------------------------------
 * Public accessors
 */

_public_ struct mmp_volume *mmp_volume_ref(struct mmp_volume *v)
{
        if (v)
                v->n_ref++;
        return v;
}

_public_ struct mmp_volume *mmp_volume_unref(struct mmp_volume *v)
{
        if (v && --v->n_ref == 0)
                volume_free(v);
        return NULL;
}

_public_ void mmp_list_free(struct mmp_volume **volumes, size_t n)
{
        if (!volumes)
                return;
        for (size_t i = 0; i < n; i++)
                mmp_volume_unref(volumes[i]);
        free(volumes);
}

_public_ const char *mmp_volume_get_json(const struct mmp_volume *v)
{
        /* The text is a cache of obj: making it late changes nothing a
         * caller can see, hence the cast. */
        if (!v->json)
                ((struct mmp_volume *) v)->json = json_dumps(v->obj, JSON_COMPACT);
        return v->json;
}

_public_ const char *mmp_volume_get_name(const struct mmp_volume *v) { return v->name; }
_public_ const char *mmp_volume_get_device(const struct mmp_volume *v) { return v->device; }
_public_ enum mmp_volume_state mmp_volume_get_state(const struct mmp_volume *v) { return v->state; }
_public_ const char *mmp_volume_get_state_name(const struct mmp_volume *v) { return v->state_name; }
_public_ const char *mmp_volume_get_phase(const struct mmp_volume *v) { return v->phase; }
_public_ bool mmp_volume_is_static(const struct mmp_volume *v) { return v->is_static; }
_public_ unsigned mmp_volume_get_failures(const struct mmp_volume *v) { return v->failures; }
_public_ const char *mmp_volume_get_error(const struct mmp_volume *v) { return v->error; }

#define OPT_GETTER(field, type)                                                 \
        _public_ int mmp_volume_get_##field(const struct mmp_volume *v, type *ret) \
        {                                                                       \
                if (!v->field.set)                                              \
                        return -ENODATA;                                        \
                *ret = v->field.v;                                              \
                return 0;                                                       \
        }

OPT_GETTER(seq, uint32_t)
OPT_GETTER(update_interval, uint32_t)
OPT_GETTER(check_interval, uint32_t)
OPT_GETTER(wait_seconds, uint32_t)
OPT_GETTER(last_heartbeat_usec, uint64_t)
OPT_GETTER(last_heartbeat_age_usec, uint64_t)
OPT_GETTER(fence_at_usec, uint64_t)
OPT_GETTER(fence_at_wall, int64_t)
OPT_GETTER(peer_write_at_usec, uint64_t)
OPT_GETTER(peer_use_at_usec, uint64_t)

_public_ const struct mmp_holder *mmp_volume_get_holder(const struct mmp_volume *v)
{
        return v->has_holder ? &v->holder : NULL;
}

_public_ bool mmp_volume_in_use(const struct mmp_volume *v) { return v->has_use; }
_public_ const char *mmp_volume_get_use_user(const struct mmp_volume *v) { return v->has_use ? v->use.user : NULL; }
_public_ const char *mmp_volume_get_use_mode(const struct mmp_volume *v) { return v->has_use ? v->use.mode : NULL; }
_public_ const char *mmp_volume_get_use_phase(const struct mmp_volume *v) { return v->has_use ? v->use.phase : NULL; }
_public_ const char *mmp_volume_get_use_mount_point(const struct mmp_volume *v) { return v->has_use ? v->use.mount_point : NULL; }
_public_ bool mmp_volume_get_use_keep(const struct mmp_volume *v) { return v->has_use && v->use.keep; }
_public_ const char *mmp_volume_get_use_user_node(const struct mmp_volume *v) { return v->has_use ? v->use.user_node : NULL; }
_public_ const char *mmp_volume_get_use_user_device(const struct mmp_volume *v) { return v->has_use ? v->use.user_device : NULL; }

/* Without a use every field of v->use is unset, so these need no extra test. */
#define USE_GETTER(field, type)                                                 \
        _public_ int mmp_volume_get_use_##field(const struct mmp_volume *v, type *ret) \
        {                                                                       \
                if (!v->use.field.set)                                          \
                        return -ENODATA;                                        \
                *ret = (type) v->use.field.v;                                   \
                return 0;                                                       \
        }

USE_GETTER(pid, pid_t)
USE_GETTER(since_usec, uint64_t)
USE_GETTER(last_change_usec, uint64_t)
USE_GETTER(user_seq, uint32_t)

_public_ const char *mmp_holder_get_node(const struct mmp_holder *h) { return h->node; }
_public_ const char *mmp_holder_get_device(const struct mmp_holder *h) { return h->device; }
_public_ uint32_t mmp_holder_get_seq(const struct mmp_holder *h) { return h->seq; }
_public_ enum mmp_seq_kind mmp_holder_get_seq_kind(const struct mmp_holder *h) { return h->seq_kind; }
_public_ int64_t mmp_holder_get_time_wall(const struct mmp_holder *h) { return h->time_wall; }
_public_ uint32_t mmp_holder_get_check_interval(const struct mmp_holder *h) { return h->check_interval; }

_public_ enum mmp_volume_event_type mmp_volume_event_get_type(const struct mmp_volume_event *ev)
{
        return ev->type;
}

_public_ const char *mmp_volume_event_get_type_name(const struct mmp_volume_event *ev)
{
        return ev->type_name;
}

_public_ struct mmp_volume *mmp_volume_event_get_volume(const struct mmp_volume_event *ev)
{
        return ev->volume;
}

_public_ const char *mmp_volume_event_get_reason(const struct mmp_volume_event *ev)
{
        return ev->reason;
}

_public_ int mmp_volume_event_get_io_usec(const struct mmp_volume_event *ev, uint64_t *ret)
{
        if (!ev->io_usec.set)
                return -ENODATA;
        *ret = ev->io_usec.v;
        return 0;
}

_public_ const char *mmp_volume_event_get_json(const struct mmp_volume_event *ev)
{
        return ev->json;
}
