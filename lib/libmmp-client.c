/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmmp: the connection, the call/reply machinery, and where varlink error
 * names become human messages (their errno values: lib/mmp-errors.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmmp-internal.h"
#include "mmp-errors.h"

_public_ const char *mmp_default_socket_path(void)
{
        const char *e = getenv("MMPD_SOCKET");

        return e && *e ? e : MMP_DEFAULT_SOCKET;
}

/* "unix:PATH;key=value" (a varlink address) or PATH -> malloc'ed PATH. */
static char *socket_path_from_address(const char *address)
{
        if (strncmp(address, "unix:", 5) == 0) {
                address += 5;
                return strndup(address, strcspn(address, ";"));
        }
        return strdup(address);
}

_public_ int mmp_client_connect(const char *socket_path, struct mmp_client **ret)
{
        _cleanup_free_ char *path = NULL;
        struct mmp_client *c;
        int fd, r;

        if (!ret)
                return -EINVAL;
        path = socket_path_from_address(socket_path ? socket_path : mmp_default_socket_path());
        if (!path)
                return -ENOMEM;
        r = wire_connect(path, &fd);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        wire_init(&c->wire, fd);
        c->path = TAKE_PTR(path);
        *ret = c;
        return 0;
}

static void error_clear(struct mmp_error *e)
{
        free(e->name);
        free(e->message);
        free(e->device);
        free(e->holder_node);
        free(e->holder_device);
        free(e->parameters_json);
        *e = (struct mmp_error) {};
}

_public_ struct mmp_client *mmp_client_free(struct mmp_client *c)
{
        if (!c)
                return NULL;
        wire_close(&c->wire);
        error_clear(&c->err);
        free(c->path);
        free(c);
        return NULL;
}

_public_ int mmp_client_set_timeout(struct mmp_client *c, uint64_t usec)
{
        if (!c)
                return -EINVAL;
        c->timeout_usec = usec;
        return 0;
}

_public_ const char *mmp_client_get_socket_path(const struct mmp_client *c)
{
        return c->path;
}

/* ---------------------------------------------------------------------------
 * Errors
 */

_public_ const struct mmp_error *mmp_client_last_error(const struct mmp_client *c)
{
        return c && c->failed ? &c->err : NULL;
}

_public_ int mmp_error_get_errno(const struct mmp_error *e) { return e->errnum; }
_public_ const char *mmp_error_get_name(const struct mmp_error *e) { return e->name; }
_public_ const char *mmp_error_get_message(const struct mmp_error *e) { return e->message; }
_public_ const char *mmp_error_get_device(const struct mmp_error *e) { return e->device; }
_public_ const char *mmp_error_get_holder_node(const struct mmp_error *e) { return e->holder_node; }
_public_ const char *mmp_error_get_holder_device(const struct mmp_error *e) { return e->holder_device; }
_public_ const char *mmp_error_get_parameters_json(const struct mmp_error *e) { return e->parameters_json; }

_public_ int mmp_error_get_holder_seq(const struct mmp_error *e, uint32_t *ret)
{
        if (!e->has_holder_seq)
                return -ENODATA;
        *ret = e->holder_seq;
        return 0;
}

/* Names and text from the daemon may come from a disk: keep control
 * characters out of a message meant for a terminal. */
static void sanitize(char *s)
{
        for (; s && *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
}

static void set_message(struct mmp_error *e, const char *fmt, va_list ap)
{
        char *m = NULL;

        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        free(e->message);
        /* Never NULL, even out of memory: the accessor promises a string. */
        e->message = m;
        sanitize(e->message);
}

static void set_messagef(struct mmp_error *e, const char *fmt, ...) _printf_(2, 3);
static void set_messagef(struct mmp_error *e, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        set_message(e, fmt, ap);
        va_end(ap);
}

int client_fail(struct mmp_client *c, int err, bool drop, const char *fmt, ...)
{
        va_list ap;

        error_clear(&c->err);
        c->failed = true;
        c->err.errnum = err;
        va_start(ap, fmt);
        set_message(&c->err, fmt, ap);
        va_end(ap);
        if (!c->err.message)
                c->err.message = strdup("out of memory");
        if (drop)
                wire_close(&c->wire);
        return err;
}

static char *param_dup(json_t *params, const char *key)
{
        const char *s;

        return mmp_json_get_string(params, key, &s) == 0 ? strdup(s) : NULL;
}

/* A parameter for a message: the string, or @fallback. */
static const char *pstr(json_t *params, const char *key, const char *fallback)
{
        const char *s;

        return mmp_json_get_string(params, key, &s) == 0 ? s : fallback;
}

static void error_describe(struct mmp_error *e, const char *name, json_t *p)
{
        const char *dev = pstr(p, "device", "the volume");
        const char *reason = pstr(p, "reason", "no reason given");
        int64_t i;

        switch (mmp_io_error_from_name(name)) {
        case MMP_IO_ERROR_VOLUME_IN_USE:
                if (e->has_holder_seq)
                        set_messagef(e, "%s is in use by node '%s' (device %s, seq %" PRIu32 ")",
                                     dev, pstr(p, "node", "?"), pstr(p, "node_device", "?"),
                                     e->holder_seq);
                else
                        set_messagef(e, "%s is in use by node '%s' (device %s)",
                                     dev, pstr(p, "node", "?"), pstr(p, "node_device", "?"));
                return;
        case MMP_IO_ERROR_FSCK_RUNNING: {
                const char *hint = pstr(p, "hint", NULL);

                set_messagef(e, "%s is held by an e2fsprogs tool (fsck) on node '%s'%s%s",
                             dev, pstr(p, "node", "?"), hint ? "; " : "", hint ? hint : "");
                return;
        }
        case MMP_IO_ERROR_NO_SUCH_VOLUME:
                set_messagef(e, "mmpd does not know %s", dev);
                return;
        case MMP_IO_ERROR_NOT_MMP_FILESYSTEM:
                set_messagef(e, "%s is not an ext4 filesystem with MMP: %s", dev, reason);
                return;
        case MMP_IO_ERROR_CORRUPT_MMP_BLOCK:
                set_messagef(e, "%s has a corrupt MMP block: %s", dev, reason);
                return;
        case MMP_IO_ERROR_IO_ERROR:
                if (mmp_json_get_int(p, "errno", 1, 4095, &i) == 0)
                        set_messagef(e, "I/O error on %s: %s (%s)", dev, reason, strerror((int) i));
                else
                        set_messagef(e, "I/O error on %s: %s", dev, reason);
                return;
        case MMP_IO_ERROR_ALREADY_CLAIMED:
                set_messagef(e, "%s is already claimed (state %s)", dev, pstr(p, "state", "?"));
                return;
        case MMP_IO_ERROR_NOT_HELD:
                set_messagef(e, "mmpd does not hold %s (state %s)", dev, pstr(p, "state", "?"));
                return;
        case MMP_IO_ERROR_HANDOFF_FAILED:
                set_messagef(e, "handing %s over failed: %s (mmpd claims it again)", dev, reason);
                return;
        case MMP_IO_ERROR_USE_IN_PROGRESS:
                if (e->has_holder_seq)
                        set_messagef(e, "%s is still in use by the %s (node '%s' wrote seq %" PRIu32 ")",
                                     dev, pstr(p, "user", "local user"), pstr(p, "node", "?"),
                                     e->holder_seq);
                else
                        set_messagef(e, "%s is still in use by the %s", dev,
                                     pstr(p, "user", "local user"));
                return;
        case MMP_IO_ERROR_CLAIM_FAILED:
                set_messagef(e, "claiming %s failed: %s", dev, reason);
                return;
        case MMP_IO_ERROR_TOO_MANY_VOLUMES:
                if (mmp_json_get_int(p, "limit", 0, INT64_MAX, &i) == 0) {
                        set_messagef(e, "mmpd holds too many volumes (limit %" PRId64 ")", i);
                        return;
                }
                break;
        default:
                break;
        }
        if (strcmp(name, MMP_VARLINK_ERROR_METHOD_NOT_FOUND) == 0)
                set_messagef(e, "mmpd does not know %s (an mmpd older than this libmmp?)",
                             pstr(p, "method", "the method"));
        else if (strcmp(name, MMP_VARLINK_ERROR_PERMISSION_DENIED) == 0)
                set_messagef(e, "permission denied by mmpd (root or its admin group only)");
        else
                set_messagef(e, "mmpd replied %s %s", name, e->parameters_json ? e->parameters_json : "");
}

/* Fill the last error from a varlink error reply; returns its errno. */
static int client_fail_reply(struct mmp_client *c, const char *name, json_t *params)
{
        struct mmp_error *e = &c->err;
        int64_t seq;

        error_clear(e);
        c->failed = true;
        e->errnum = mmp_errno_from_error_name(name);
        e->name = strdup(name);
        e->parameters_json = json_dumps(params, JSON_COMPACT);
        e->device = param_dup(params, "device");
        e->holder_node = param_dup(params, "node");
        e->holder_device = param_dup(params, "node_device");
        if (mmp_json_get_int(params, "seq", 0, UINT32_MAX, &seq) == 0) {
                e->has_holder_seq = true;
                e->holder_seq = (uint32_t) seq;
        }
        error_describe(e, name, params);
        if (!e->message)
                e->message = strdup(name);
        return e->errnum;
}

/* ---------------------------------------------------------------------------
 * Calls
 */

int client_begin(struct mmp_client *c)
{
        int fd, r;

        /* A call from a callback would interleave with the stream being read. */
        if (c->in_callback)
                return -EBUSY;
        error_clear(&c->err);
        c->failed = false;
        if (c->wire.fd >= 0)
                return 0;
        /* Dropped after an abandoned reply: start afresh on the same socket. */
        r = wire_connect(c->path, &fd);
        if (r < 0)
                return client_fail(c, r, false, "cannot reach mmpd at %s: %s", c->path, strerror(-r));
        wire_init(&c->wire, fd);
        return 0;
}

int client_send_call(struct mmp_client *c, const char *method, json_t *params, bool more)
{
        _cleanup_json_ json_t *call = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        call = mmp_varlink_call_new(method, params, more ? MMP_VARLINK_MORE : 0);
        if (!call || mmp_varlink_serialize(call, &text, &len) < 0)
                return client_fail(c, -ENOMEM, false, "out of memory");
        r = wire_send(&c->wire, text, len, c->timeout_usec);
        if (r == -ETIMEDOUT)
                return client_fail(c, r, true, "timed out sending to mmpd at %s", c->path);
        if (r < 0)
                return client_fail(c, r, true, "cannot send to mmpd at %s: %s", c->path, strerror(-r));
        return 0;
}

static int client_fail_recv(struct mmp_client *c, int r)
{
        switch (r) {
        case -ETIMEDOUT:
                return client_fail(c, r, true, "mmpd did not answer within %.1f s",
                                   (double) c->timeout_usec / 1e6);
        case -ECONNRESET:
                return client_fail(c, r, true, "mmpd closed the connection");
        case -EMSGSIZE:
                return client_fail(c, r, true, "reply from mmpd longer than %u bytes",
                                   MMP_CLIENT_MAX_MESSAGE);
        default:
                return client_fail(c, r, true, "cannot read from mmpd: %s", strerror(-r));
        }
}

int client_read_reply(struct mmp_client *c, bool use_timeout, json_t **ret_params,
                      bool *ret_continues)
{
        _cleanup_json_ json_t *reply = NULL;
        struct mmp_varlink_reply rep;
        json_error_t jerr;
        const char *msg;
        size_t len;
        int r;

        r = wire_recv(&c->wire, use_timeout ? c->timeout_usec : 0, &msg, &len);
        if (r < 0)
                return client_fail_recv(c, r);
        /* lib/mmp-varlink.c's rules, mmpd's too: a null member is an absent one. */
        r = mmp_varlink_reply_parse(msg, len, &reply, &rep, &jerr);
        if (r == -EBADMSG)
                return client_fail(c, r, true, "malformed reply from mmpd: %s", jerr.text);
        if (r < 0)
                return client_fail(c, r, true, "out of memory");

        if (rep.error) {
                /* An error ends the call.  One that says it continues is out
                 * of protocol: do not trust what follows. */
                if (rep.continues)
                        wire_close(&c->wire);
                return client_fail_reply(c, rep.error, rep.parameters);
        }
        *ret_params = json_incref(rep.parameters);
        *ret_continues = rep.continues;
        return 0;
}

int client_call(struct mmp_client *c, const char *method, json_t *params, json_t **ret_params)
{
        json_t *p;
        bool continues;
        int r;

        r = client_send_call(c, method, params, false);
        if (r < 0)
                return r;
        r = client_read_reply(c, true, &p, &continues);
        if (r < 0)
                return r;
        if (continues) {
                json_decref(p);
                return client_fail(c, -EBADMSG, true,
                                   "mmpd streamed a reply to %s, which did not ask for more", method);
        }
        *ret_params = p;
        return 0;
}

int client_run_callback(struct mmp_client *c, mmp_volume_event_cb cb,
                        const struct mmp_volume_event *ev, void *userdata)
{
        int r;

        c->in_callback = true;
        r = cb(c, ev, userdata);
        c->in_callback = false;
        return r;
}
