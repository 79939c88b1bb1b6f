/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libmmp's private structures, shared by its source files.  Not installed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "libmmp.h"
#include "macro.h"
#include "mmp-varlink.h"

static inline void mmp_json_unrefp(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(mmp_json_unrefp)))

/*
 * Varlink messages over a stream socket (libmmp-wire.c): the socket's side
 * only; framing and its limit are lib/mmp-varlink.h's, the same code mmpd's
 * server uses.  A message handed out by wire_recv() lives in the input
 * buffer until the next wire_recv() call.
 */
struct mmp_wire {
        int fd;
        struct mmp_varlink_in *in;      /* made on the first wire_recv() */
};

/* Connect a SOCK_STREAM|SOCK_CLOEXEC unix socket to @path ("@x": abstract). */
int wire_connect(const char *path, int *ret_fd);
void wire_init(struct mmp_wire *w, int fd);
/* Close the fd and forget buffered bytes. */
void wire_close(struct mmp_wire *w);
/* Send @len bytes: whole messages, each with its NUL (mmp_varlink_serialize).
 * @timeout_usec 0: no timeout. */
int wire_send(struct mmp_wire *w, const char *data, size_t len, uint64_t timeout_usec);
/*
 * Receive one message (without its NUL) into *ret and *ret_len.  -ETIMEDOUT,
 * -ECONNRESET at end of file (also in the middle of a message), -EMSGSIZE
 * past MMP_CLIENT_MAX_MESSAGE; other -errno from recv/poll.
 */
int wire_recv(struct mmp_wire *w, uint64_t timeout_usec, const char **ret, size_t *ret_len);

struct mmp_error {
        int errnum;              /* negative */
        char *name;              /* varlink error name, or NULL */
        char *message;
        char *device;
        char *holder_node;
        char *holder_device;
        bool has_holder_seq;
        uint32_t holder_seq;
        char *parameters_json;
};

struct mmp_client {
        struct mmp_wire wire;    /* wire.fd < 0: dropped, reconnect on the next call */
        char *path;
        uint64_t timeout_usec;
        bool in_callback;
        bool failed;             /* err describes the last call */
        struct mmp_error err;
};

struct mmp_holder {
        const char *node;
        const char *device;
        uint32_t seq;
        enum mmp_seq_kind seq_kind;
        int64_t time_wall;
        uint32_t check_interval;
};

struct opt_u32 { bool set; uint32_t v; };
struct opt_u64 { bool set; uint64_t v; };
struct opt_i64 { bool set; int64_t v; };

/* io.mmpd's Use: the volume's local user (strings owned by the volume's obj). */
struct mmp_use {
        const char *user;
        const char *mode;
        const char *phase;
        const char *mount_point;
        const char *user_node;
        const char *user_device;
        bool keep;
        struct opt_u32 pid, user_seq;
        struct opt_u64 since_usec, last_change_usec;
};

struct mmp_volume {
        unsigned n_ref;
        json_t *obj;             /* owns every string below */
        char *json;              /* made on first mmp_volume_get_json() when NULL */
        const char *name;
        const char *device;
        const char *state_name;
        enum mmp_volume_state state;
        const char *phase;
        bool is_static;
        unsigned failures;
        const char *error;
        struct opt_u32 seq, update_interval, check_interval, wait_seconds;
        struct opt_u64 last_heartbeat_usec, last_heartbeat_age_usec, fence_at_usec;
        struct opt_i64 fence_at_wall;
        struct opt_u64 peer_write_at_usec, peer_use_at_usec;
        bool has_holder;
        struct mmp_holder holder;
        bool has_use;
        struct mmp_use use;
};

struct mmp_volume_event {
        json_t *obj;
        char *json;
        enum mmp_volume_event_type type;
        const char *type_name;
        struct mmp_volume *volume;
        const char *reason;
        struct opt_u64 io_usec;
};

/* libmmp-types.c: JSON (an io.mmpd type) to objects.  -EBADMSG when @obj
 * does not have the shape io.mmpd promises, -ENOMEM. */
int volume_from_json(json_t *obj, struct mmp_volume **ret);
/* The same without its JSON text, which mmp_volume_get_json() makes when
 * asked: for the handoff's go reply, where every moment counts. */
int volume_from_json_untexted(json_t *obj, struct mmp_volume **ret);
int event_from_json(json_t *obj, struct mmp_volume_event *ret);
void event_done(struct mmp_volume_event *ev);
int block_info_from_json(json_t *obj, struct mmp_block_info *ret);
enum mmp_seq_kind seq_kind_from_string(const char *s);

/* JSON field helpers: 0 and the value, -ENODATA when absent or null,
 * -EBADMSG when of the wrong type or out of [min, max]. */
int mmp_json_get_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *ret);
int mmp_json_get_string(json_t *obj, const char *key, const char **ret);

/* libmmp-client.c: the call machinery used by libmmp-methods.c. */
int client_begin(struct mmp_client *c);
int client_send_call(struct mmp_client *c, const char *method, json_t *params, bool more);
/*
 * Read one reply.  On a varlink error reply: fills the last error and
 * returns the mapped -errno.  Otherwise *ret_params (a new reference, never
 * NULL) and *ret_continues.
 */
int client_read_reply(struct mmp_client *c, bool use_timeout, json_t **ret_params,
                      bool *ret_continues);
/* A call with exactly one reply; *ret_params as above. */
int client_call(struct mmp_client *c, const char *method, json_t *params, json_t **ret_params);
/* Record a failure found on this side; drops the connection when @drop.
 * Returns @err. */
int client_fail(struct mmp_client *c, int err, bool drop, const char *fmt, ...) _printf_(4, 5);
/* Run a callback with the client marked busy. */
int client_run_callback(struct mmp_client *c, mmp_volume_event_cb cb,
                        const struct mmp_volume_event *ev, void *userdata);
