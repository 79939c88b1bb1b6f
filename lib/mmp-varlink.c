/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink framing: NUL-delimited JSON messages in and out of byte buffers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmp-varlink.h"

#define IN_CHUNK     4096u          /* first allocation, and the least we offer to read */
#define BUF_KEEP     (64u * 1024u)  /* an empty buffer larger than this is given back */

struct mmp_varlink_in {
        char *buf;
        size_t alloc;
        size_t start;           /* first byte not yet handed out */
        size_t end;             /* end of the data */
        size_t scanned;         /* [start, scanned) holds no NUL */
        size_t max;             /* longest message, without its NUL */
        size_t cap;             /* most bytes ever buffered: max + 1 */
};

struct mmp_varlink_out {
        char *buf;
        size_t alloc;
        size_t start, end;
};

int mmp_varlink_in_new(size_t max_message, struct mmp_varlink_in **ret)
{
        struct mmp_varlink_in *in;

        if (max_message == 0)
                max_message = MMP_VARLINK_MESSAGE_MAX_DEFAULT;
        if (max_message >= SIZE_MAX / 2)
                return -EINVAL;
        in = calloc(1, sizeof(*in));
        if (!in)
                return -ENOMEM;
        in->max = max_message;
        in->cap = max_message + 1;
        *ret = in;
        return 0;
}

struct mmp_varlink_in *mmp_varlink_in_free(struct mmp_varlink_in *in)
{
        if (in) {
                free(in->buf);
                free(in);
        }
        return NULL;
}

static void in_reset_if_empty(struct mmp_varlink_in *in)
{
        if (in->start != in->end)
                return;
        in->start = in->end = in->scanned = 0;
        if (in->alloc > BUF_KEEP) {
                free(in->buf);
                in->buf = NULL;
                in->alloc = 0;
        }
}

int mmp_varlink_in_space(struct mmp_varlink_in *in, void **ret_ptr, size_t *ret_len)
{
        size_t used, room;

        in_reset_if_empty(in);
        used = in->end - in->start;
        if (used >= in->cap)
                return -ENOBUFS;

        if (in->alloc - in->end < IN_CHUNK && in->start > 0) {
                memmove(in->buf, in->buf + in->start, used);
                in->scanned -= in->start;
                in->end = used;
                in->start = 0;
        }
        if (in->alloc - in->end < IN_CHUNK && in->alloc < in->cap) {
                size_t n = in->alloc ? in->alloc * 2 : IN_CHUNK;
                char *p;

                if (n > in->cap)
                        n = in->cap;
                p = realloc(in->buf, n);
                if (!p)
                        return -ENOMEM;
                in->buf = p;
                in->alloc = n;
        }
        room = in->alloc - in->end;
        if (room > in->cap - used)
                room = in->cap - used;
        *ret_ptr = in->buf + in->end;
        *ret_len = room;
        return 0;
}

void mmp_varlink_in_advance(struct mmp_varlink_in *in, size_t n)
{
        in->end += n;
}

int mmp_varlink_in_feed(struct mmp_varlink_in *in, const void *data, size_t len)
{
        const char *p = data;

        if (len > in->cap - (in->end - in->start))
                return -ENOBUFS;
        while (len > 0) {
                void *dst;
                size_t room;
                int r;

                r = mmp_varlink_in_space(in, &dst, &room);
                if (r < 0)
                        return r;
                if (room > len)
                        room = len;
                memcpy(dst, p, room);
                mmp_varlink_in_advance(in, room);
                p += room;
                len -= room;
        }
        return 0;
}

int mmp_varlink_in_next(struct mmp_varlink_in *in, const char **ret_msg, size_t *ret_len)
{
        char *nul;
        size_t len;

        nul = in->scanned < in->end ? memchr(in->buf + in->scanned, 0, in->end - in->scanned) : NULL;
        if (!nul) {
                in->scanned = in->end;
                return in->end - in->start > in->max ? -EMSGSIZE : 0;
        }
        len = (size_t) (nul - (in->buf + in->start));
        if (len > in->max)
                return -EMSGSIZE;
        *ret_msg = in->buf + in->start;
        *ret_len = len;
        in->start += len + 1;
        in->scanned = in->start;
        return 1;
}

size_t mmp_varlink_in_partial(const struct mmp_varlink_in *in)
{
        const char *last;

        /* [start, scanned) holds no NUL: only the rest needs looking at,
         * which is nothing right after mmp_varlink_in_next() returned 0. */
        if (in->scanned >= in->end)
                return in->end - in->start;
        last = memrchr(in->buf + in->scanned, 0, in->end - in->scanned);
        return last ? (size_t) (in->buf + in->end - last - 1) : in->end - in->start;
}

bool mmp_varlink_in_ready(struct mmp_varlink_in *in)
{
        if (in->scanned < in->end && memchr(in->buf + in->scanned, 0, in->end - in->scanned))
                return true;
        in->scanned = in->end;
        return false;
}

/* ---- output ---------------------------------------------------------------- */

int mmp_varlink_out_new(struct mmp_varlink_out **ret)
{
        struct mmp_varlink_out *out = calloc(1, sizeof(*out));

        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

struct mmp_varlink_out *mmp_varlink_out_free(struct mmp_varlink_out *out)
{
        if (out) {
                free(out->buf);
                free(out);
        }
        return NULL;
}

static int out_reserve(struct mmp_varlink_out *out, size_t need)
{
        size_t used = out->end - out->start;
        size_t n;
        char *p;

        if (out->alloc - out->end >= need)
                return 0;
        if (out->start > 0 && out->alloc - used >= need) {
                memmove(out->buf, out->buf + out->start, used);
                out->start = 0;
                out->end = used;
                return 0;
        }
        if (need > SIZE_MAX / 2 - used)
                return -ENOMEM;
        n = out->alloc ? out->alloc : IN_CHUNK;
        while (n - used < need)
                n *= 2;
        if (out->start > 0) {
                memmove(out->buf, out->buf + out->start, used);
                out->start = 0;
                out->end = used;
        }
        p = realloc(out->buf, n);
        if (!p)
                return -ENOMEM;
        out->buf = p;
        out->alloc = n;
        return 0;
}

static int out_put(const char *data, size_t len, void *userdata)
{
        struct mmp_varlink_out *out = userdata;

        if (out_reserve(out, len) < 0)
                return -1;
        memcpy(out->buf + out->end, data, len);
        out->end += len;
        return 0;
}

int mmp_varlink_out_append(struct mmp_varlink_out *out, const json_t *msg)
{
        size_t old_end = out->end;
        size_t old_start = out->start;

        if (json_dump_callback(msg, out_put, out, JSON_COMPACT) < 0 || out_put("", 1, out) < 0) {
                /* out_reserve may have compacted the buffer: undo by length */
                out->end = out->start + (old_end - old_start);
                return -ENOMEM;
        }
        return 0;
}

int mmp_varlink_out_append_text(struct mmp_varlink_out *out, const char *text, size_t len, bool end)
{
        size_t old_end = out->end;
        size_t old_start = out->start;

        if ((len && out_put(text, len, out) < 0) || (end && out_put("", 1, out) < 0)) {
                out->end = out->start + (old_end - old_start);
                return -ENOMEM;
        }
        return 0;
}

size_t mmp_varlink_out_pending(const struct mmp_varlink_out *out)
{
        return out->end - out->start;
}

const void *mmp_varlink_out_data(const struct mmp_varlink_out *out)
{
        return out->buf + out->start;
}

void mmp_varlink_out_consume(struct mmp_varlink_out *out, size_t n)
{
        if (n > out->end - out->start)
                n = out->end - out->start;
        out->start += n;
        if (out->start == out->end) {
                out->start = out->end = 0;
                if (out->alloc > BUF_KEEP) {
                        free(out->buf);
                        out->buf = NULL;
                        out->alloc = 0;
                }
        }
}

/* ---- messages -------------------------------------------------------------- */

static json_t *params_or_empty(json_t *parameters)
{
        return parameters ? parameters : json_object();
}

json_t *mmp_varlink_call_new(const char *method, json_t *parameters, unsigned flags)
{
        json_t *m = json_object();

        parameters = params_or_empty(parameters);
        if (!m || !parameters ||
            json_object_set_new(m, "method", json_string(method)) < 0 ||
            json_object_set(m, "parameters", parameters) < 0 ||
            ((flags & MMP_VARLINK_ONEWAY) && json_object_set_new(m, "oneway", json_true()) < 0) ||
            ((flags & MMP_VARLINK_MORE) && json_object_set_new(m, "more", json_true()) < 0)) {
                json_decref(m);
                m = NULL;
        }
        json_decref(parameters);
        return m;
}

json_t *mmp_varlink_reply_new(json_t *parameters, bool continues)
{
        json_t *m = json_object();

        parameters = params_or_empty(parameters);
        if (!m || !parameters ||
            json_object_set(m, "parameters", parameters) < 0 ||
            (continues && json_object_set_new(m, "continues", json_true()) < 0)) {
                json_decref(m);
                m = NULL;
        }
        json_decref(parameters);
        return m;
}

json_t *mmp_varlink_error_new(const char *error, json_t *parameters)
{
        json_t *m = json_object();

        parameters = params_or_empty(parameters);
        if (!m || !parameters ||
            json_object_set_new(m, "error", json_string(error)) < 0 ||
            json_object_set(m, "parameters", parameters) < 0) {
                json_decref(m);
                m = NULL;
        }
        json_decref(parameters);
        return m;
}

int mmp_varlink_serialize(const json_t *msg, char **ret, size_t *ret_len)
{
        char *s;
        size_t n;

        s = json_dumps(msg, JSON_COMPACT);
        if (!s)
                return json_is_object(msg) ? -ENOMEM : -EINVAL;
        n = strlen(s) + 1;    /* json_dumps output never holds a NUL: \u0000 is escaped */
        *ret = s;
        *ret_len = n;
        return 0;
}

/* A reason for -EBADMSG, when the caller wants one. */
static void why(json_error_t *e, const char *text)
{
        if (e)
                snprintf(e->text, sizeof(e->text), "%s", text);
}

static int load_object(const char *msg, size_t len, json_t **ret, json_error_t *ret_error)
{
        json_error_t error;
        json_t *root;

        root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &error);
        if (!root) {
                why(ret_error, error.text);
                return -EBADMSG;
        }
        if (!json_is_object(root)) {
                json_decref(root);
                why(ret_error, "not an object");
                return -EBADMSG;
        }
        *ret = root;
        return 0;
}

/* Optional bool member: absent or null = false. */
static int get_flag(json_t *root, const char *key, bool *ret)
{
        json_t *v = json_object_get(root, key);

        if (!v || json_is_null(v)) {
                *ret = false;
                return 0;
        }
        if (!json_is_boolean(v))
                return -EBADMSG;
        *ret = json_is_true(v);
        return 0;
}

/* "parameters": absent or null = {}, anything else must be an object. */
static int get_parameters(json_t *root, json_t **ret)
{
        json_t *p = json_object_get(root, "parameters");

        if (!p || json_is_null(p)) {
                p = json_object();
                if (!p || json_object_set_new(root, "parameters", p) < 0)
                        return -ENOMEM;
        }
        if (!json_is_object(p))
                return -EBADMSG;
        *ret = p;
        return 0;
}

int mmp_varlink_call_parse(const char *msg, size_t len, json_t **ret_root,
                           struct mmp_varlink_call *ret)
{
        struct mmp_varlink_call c = { 0 };
        json_t *root, *method;
        int r;

        r = load_object(msg, len, &root, NULL);
        if (r < 0)
                return r;
        method = json_object_get(root, "method");
        r = -EBADMSG;
        if (!json_is_string(method))
                goto fail;
        c.method = json_string_value(method);
        if ((r = get_parameters(root, &c.parameters)) < 0 ||
            (r = get_flag(root, "oneway", &c.oneway)) < 0 ||
            (r = get_flag(root, "more", &c.more)) < 0 ||
            (r = get_flag(root, "upgrade", &c.upgrade)) < 0)
                goto fail;
        *ret_root = root;
        *ret = c;
        return 0;
fail:
        json_decref(root);
        return r;
}

int mmp_varlink_reply_parse(const char *msg, size_t len, json_t **ret_root,
                            struct mmp_varlink_reply *ret, json_error_t *ret_error)
{
        struct mmp_varlink_reply rep = { 0 };
        json_t *root, *error;
        int r;

        r = load_object(msg, len, &root, ret_error);
        if (r < 0)
                return r;
        error = json_object_get(root, "error");
        r = -EBADMSG;
        if (error && !json_is_null(error)) {
                if (!json_is_string(error)) {
                        why(ret_error, "bad error");
                        goto fail;
                }
                rep.error = json_string_value(error);
        }
        if ((r = get_parameters(root, &rep.parameters)) < 0) {
                why(ret_error, "bad parameters");
                goto fail;
        }
        if ((r = get_flag(root, "continues", &rep.continues)) < 0) {
                why(ret_error, "bad continues");
                goto fail;
        }
        *ret_root = root;
        *ret = rep;
        return 0;
fail:
        json_decref(root);
        return r;
}
