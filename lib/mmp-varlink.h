/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink framing (varlink.org): one JSON object per message, each followed
 * by one NUL byte, over a stream.  Transport-independent: no fds, no I/O, no
 * logging; the caller moves bytes between these buffers and its socket.
 *
 * Input:  bytes go in (read straight into mmp_varlink_in_space(), or copied
 *         with mmp_varlink_in_feed()); complete messages come out, each a
 *         NUL-terminated string.  A message longer than the limit is an
 *         error (-EMSGSIZE) as soon as that many bytes arrived without a
 *         NUL, so a peer cannot make us buffer more than the limit.
 * Output: messages are serialized (compact, trailing NUL) into a queue the
 *         caller drains as the socket accepts bytes.
 *
 * Every function returns 0 (or a count) or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define MMP_VARLINK_MESSAGE_MAX_DEFAULT (1024u * 1024u)   /* bytes, without the NUL */

/* ---- input ---------------------------------------------------------------- */

struct mmp_varlink_in;

/* @max_message: longest message accepted, in bytes without its NUL
 * (0 = MMP_VARLINK_MESSAGE_MAX_DEFAULT).  Memory is allocated on first use. */
int mmp_varlink_in_new(size_t max_message, struct mmp_varlink_in **ret);
struct mmp_varlink_in *mmp_varlink_in_free(struct mmp_varlink_in *in);

/*
 * Room to read into: *ret_ptr gets at least one byte and at most what may
 * still be buffered (one maximal message plus its NUL beyond the complete
 * messages already queued).  -ENOBUFS when the buffer is full: take messages
 * out first.  Then report what was written with mmp_varlink_in_advance().
 * The pointer is valid until the next call on @in.
 */
int mmp_varlink_in_space(struct mmp_varlink_in *in, void **ret_ptr, size_t *ret_len);
void mmp_varlink_in_advance(struct mmp_varlink_in *in, size_t n);

/* Copy @len bytes in (tests, in-memory transports); -ENOBUFS as above,
 * in which case nothing was copied. */
int mmp_varlink_in_feed(struct mmp_varlink_in *in, const void *data, size_t len);

/*
 * Next complete message: returns 1 and points *ret_msg at it (NUL-terminated,
 * *ret_len without the NUL; valid until the next call on @in), 0 when no
 * complete message is buffered, -EMSGSIZE when the next message is (or has
 * already grown) longer than the limit.  After -EMSGSIZE the stream cannot
 * be resynchronized: close it.
 */
int mmp_varlink_in_next(struct mmp_varlink_in *in, const char **ret_msg, size_t *ret_len);

/* Bytes of a message that has started but not yet ended (0: none). */
size_t mmp_varlink_in_partial(const struct mmp_varlink_in *in);
/* True when at least one complete message is buffered. */
bool mmp_varlink_in_ready(struct mmp_varlink_in *in);

/* ---- output --------------------------------------------------------------- */

struct mmp_varlink_out;

int mmp_varlink_out_new(struct mmp_varlink_out **ret);
struct mmp_varlink_out *mmp_varlink_out_free(struct mmp_varlink_out *out);

/* Serialize @msg (compact) plus a NUL at the end of the queue.  On error
 * (-ENOMEM, -EINVAL for a value jansson cannot encode) the queue is as before. */
int mmp_varlink_out_append(struct mmp_varlink_out *out, const json_t *msg);
/* Append raw JSON text of a message being written in pieces; @end adds the
 * NUL that ends the message.  The caller makes the pieces one message. */
int mmp_varlink_out_append_text(struct mmp_varlink_out *out, const char *text, size_t len, bool end);
/* Bytes waiting to be sent, and where they start. */
size_t mmp_varlink_out_pending(const struct mmp_varlink_out *out);
const void *mmp_varlink_out_data(const struct mmp_varlink_out *out);
/* The first @n pending bytes were sent. */
void mmp_varlink_out_consume(struct mmp_varlink_out *out, size_t n);

/* ---- messages ------------------------------------------------------------- */

enum {
        MMP_VARLINK_ONEWAY = 1u << 0,   /* no reply wanted */
        MMP_VARLINK_MORE   = 1u << 1,   /* several replies welcome */
};

/*
 * Builders.  @parameters is stolen (json_decref'd on failure too); NULL
 * means an empty object.  All return NULL when out of memory.
 *   call:  {"method":M,"parameters":{...}[,"oneway":true][,"more":true]}
 *   reply: {"parameters":{...}[,"continues":true]}
 *   error: {"error":E,"parameters":{...}}
 */
json_t *mmp_varlink_call_new(const char *method, json_t *parameters, unsigned flags);
json_t *mmp_varlink_reply_new(json_t *parameters, bool continues);
json_t *mmp_varlink_error_new(const char *error, json_t *parameters);

/* One message as a malloc'd string with its trailing NUL; *ret_len counts
 * the NUL.  -ENOMEM, or -EINVAL when jansson cannot encode @msg. */
int mmp_varlink_serialize(const json_t *msg, char **ret, size_t *ret_len);

/*
 * Parsed messages.  Pointers borrow from *ret_root, which the caller
 * json_decref()s.  -EBADMSG for anything that is not a well-formed varlink
 * message (bad JSON, not an object, fields of the wrong type); by the
 * protocol the connection is then unusable.
 */
struct mmp_varlink_call {
        const char *method;
        json_t *parameters;     /* always an object (empty when absent or null) */
        bool oneway, more, upgrade;
};
int mmp_varlink_call_parse(const char *msg, size_t len, json_t **ret_root,
                           struct mmp_varlink_call *ret);

struct mmp_varlink_reply {
        const char *error;      /* NULL for a successful reply */
        json_t *parameters;     /* always an object */
        bool continues;
};
/* @ret_error (may be NULL) gets what was wrong when -EBADMSG is returned. */
int mmp_varlink_reply_parse(const char *msg, size_t len, json_t **ret_root,
                            struct mmp_varlink_reply *ret, json_error_t *ret_error);

/*
 * The rule for every optional member above ("oneway", "more", "upgrade",
 * "continues", "error", "parameters"): absent and null mean the same, the
 * default (false, no error, {}).  Varlink's JSON leaves optional members
 * out, but peers written against other libraries send null, and a null
 * "continues" must end a stream, not break it.
 */

/* org.varlink.service's errors (varlink.org, the service interface):
 * generic, sent by any varlink server. */
#define MMP_VARLINK_SERVICE "org.varlink.service"
#define MMP_VARLINK_ERROR_INTERFACE_NOT_FOUND    MMP_VARLINK_SERVICE ".InterfaceNotFound"
#define MMP_VARLINK_ERROR_METHOD_NOT_FOUND       MMP_VARLINK_SERVICE ".MethodNotFound"
#define MMP_VARLINK_ERROR_METHOD_NOT_IMPLEMENTED MMP_VARLINK_SERVICE ".MethodNotImplemented"
#define MMP_VARLINK_ERROR_INVALID_PARAMETER      MMP_VARLINK_SERVICE ".InvalidParameter"
#define MMP_VARLINK_ERROR_PERMISSION_DENIED      MMP_VARLINK_SERVICE ".PermissionDenied"
#define MMP_VARLINK_ERROR_EXPECTED_MORE          MMP_VARLINK_SERVICE ".ExpectedMore"
