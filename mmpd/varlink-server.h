/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A varlink server (varlink.org) on a unix stream socket, driven by a libev
 * loop.  It knows varlink, not the application: interfaces register a
 * method table (name -> handler, flags, parameter spec) and a userdata
 * pointer; the server frames, parses and dispatches calls, checks access
 * and parameters, answers org.varlink.service (GetInfo and
 * GetInterfaceDescription from what was registered), and queues replies.
 *
 * Nothing here blocks the loop: sockets are nonblocking, replies are queued
 * and written when the socket is writable, and all connections together
 * run calls for at most VARLINK_ITERATION_BUDGET per loop iteration (plus
 * the one call that crosses it) before due timers get their turn.
 * Everything a peer controls is bounded (message size, connections,
 * buffered output, idle and partial-message time), and an idle connection
 * costs one fd, one timer and ~400 bytes (its buffers come when data comes
 * and go when drained).
 *
 * Calls on one connection are answered strictly in order, one at a time: a
 * call waiting for its outcome holds back the calls pipelined after it.  A
 * peer that disconnects ends its call without a reply; what the call
 * started is the application's to keep or stop (the context's cleanup).
 *
 * Access: a method flagged VL_METHOD_PRIVILEGED needs uid 0 or membership
 * of admin_group (primary or supplementary group of the peer at connect
 * time, from SO_PEERCRED/SO_PEERGROUPS, not from /proc); every peer may
 * call the others.
 *
 * Connection limit: when max_connections are open, a new connection is
 * accepted and closed at once (the peer reads EOF instead of hanging in the
 * listen backlog); root peers have a reserve of root_reserve more, so a local
 * flood cannot lock the administrator out.  One non-root uid may hold at
 * most max_per_uid connections, so one user cannot lock the others out.
 *
 * The heartbeat path comes first (docs/control-plane.md): every watcher
 * here runs at MMPD_PRIO_CONTROL, below the daemon's device I/O, volume
 * timers and fencing, so in every loop iteration those are served before a
 * single client byte is read; reading and dispatching together are bounded
 * by VARLINK_ITERATION_BUDGET per iteration; and what an unprivileged peer
 * can make us buffer is small (max_message_unpriv per message, max_per_uid
 * connections).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "io.h"           /* MMPD_PRIO_* */

#define VARLINK_MAX_CONNECTIONS  4096
#define VARLINK_ROOT_RESERVE     16
#define VARLINK_MAX_OUTPUT       (1024u * 1024u)   /* bytes queued per connection */
#define VARLINK_IDLE_TIMEOUT     60.0              /* seconds */
#define VARLINK_PARTIAL_TIMEOUT  10.0
#define VARLINK_ITERATION_BUDGET 0.01              /* seconds of reads and calls per loop iteration */
#define VARLINK_MAX_PER_UID      64                /* connections of one non-root uid */
/* Unprivileged peers may call only read-only methods whose calls are a few
 * hundred bytes (the longest is a device path of PATH_MAX). */
#define VARLINK_MAX_MESSAGE_UNPRIV (64u * 1024u)
#define VARLINK_MAX_INTERFACES   4                 /* besides org.varlink.service */

struct varlink_server;
struct vl_conn;
struct vl_call;

/* Zero / NULL fields take the defaults above. */
struct varlink_options {
        const char *socket_path;        /* NULL: none (varlink-methods.h: MMPD_DEFAULT_SOCKET) */
        const char *admin_group;        /* group name or number; NULL = root only */
        unsigned max_connections;
        unsigned root_reserve;          /* (unsigned) -1 = none */
        size_t max_message;             /* default MMP_VARLINK_MESSAGE_MAX_DEFAULT (1 MiB) */
        size_t max_message_unpriv;      /* default VARLINK_MAX_MESSAGE_UNPRIV */
        unsigned max_per_uid;           /* non-root; (unsigned) -1 = no limit */
        size_t max_output;
        double idle_timeout;            /* no complete message and no call in progress */
        double partial_timeout;         /* a message started but not finished */
        /* Carried for the application's methods (varlink-methods.h: Inspect's
         * deadline and threads); the server itself does not read them. */
        double inspect_timeout;
        unsigned max_inspects;
        /* Log sink (syslog priority, one line without newline); NULL = stderr
         * with "<prio>" prefixes.  The server logs rarely: refused/broken
         * connections once each, limits once per episode. */
        void (*log)(int prio, const char *msg, void *userdata);
        void *log_userdata;
};

/* ---- the server ---------------------------------------------------------------- */

/*
 * Set up a server on @loop with no interface but org.varlink.service.
 * Copies @opts (NULL: all defaults).  Resolves admin_group once, here (NSS
 * may block: call this at startup, not from a loop callback); an unknown
 * group is logged and means root only.  No socket yet: register interfaces,
 * then call varlink_server_listen_path() or _adopt_fd().
 */
int varlink_transport_new(struct ev_loop *loop, const struct varlink_options *opts,
                          struct varlink_server **ret);

/*
 * Create the socket at @path (NULL: opts.socket_path; -EINVAL if neither):
 * the parent directory is created 0755 if missing, a stale socket left by a
 * dead server is removed (one that still accepts connections is not:
 * -EADDRINUSE), anything else at the path is left alone (-EEXIST), the new
 * socket is mode 0666 (access is decided per method) and removed by
 * varlink_server_free() if it is still ours.  -EBUSY if already listening.
 */
int varlink_server_listen_path(struct varlink_server *s, const char *path);

/*
 * Serve on an inherited listening socket (systemd socket activation).
 * Must be a listening AF_UNIX stream socket (-ENOTSOCK, -EPROTOTYPE, -EINVAL
 * otherwise).  On success the server owns @fd (made nonblocking and
 * close-on-exec) and never unlinks its path; on failure the caller keeps it.
 */
int varlink_server_adopt_fd(struct varlink_server *s, int fd);

/*
 * Serve one connected stream socket (nonblocking; a socketpair in tests)
 * as if accepted from a peer with @cred.  On success the server owns @fd.
 */
int vl_conn_new(struct varlink_server *s, int fd, const struct ucred *cred);

/* Close every connection (pending calls end without a reply, their
 * contexts cleaned up), then the interfaces' destroy callbacks run, then
 * the socket goes. */
struct varlink_server *varlink_server_free(struct varlink_server *s);

unsigned varlink_server_connections(const struct varlink_server *s);

/* What GetInfo says about the service (strings kept by reference: static). */
void varlink_server_set_info(struct varlink_server *s, const char *vendor, const char *product,
                             const char *version, const char *url);

/* ---- interfaces ---------------------------------------------------------------- */

struct vl_param {
        const char *name;
        int type;                       /* JSON_STRING, ...; JSON_TRUE: a boolean; optional ones may be null */
        bool required;
};

enum {
        VL_METHOD_PRIVILEGED = 1u << 0, /* root or admin_group only */
};

struct vl_method {
        const char *name;               /* fully qualified: "org.example.Interface.Method" */
        /* 0, or -errno: the connection is closed.  @userdata: the interface's. */
        int (*call)(struct vl_call *c, void *userdata);
        unsigned flags;                 /* VL_METHOD_* */
        const struct vl_param *params;  /* NULL-terminated by name: the allowed parameters */
};

struct vl_interface {
        const char *name;               /* "org.example.Interface" */
        const char *description;        /* its IDL text, for GetInterfaceDescription */
        const struct vl_method *methods;        /* NULL-terminated by name */
        void *userdata;                 /* passed to every method */
        /* Called by varlink_server_free() once no call is left (may be NULL). */
        void (*destroy)(void *userdata);
};

/* Copied; the strings and tables it points to must outlive the server.
 * -EEXIST for a name registered already, -ENOSPC past VARLINK_MAX_INTERFACES. */
int varlink_server_add_interface(struct varlink_server *s, const struct vl_interface *iface);

/* ---- calls, for the methods ------------------------------------------------------- */

const char *vl_call_method(const struct vl_call *c);
/* The call's parameters: always an object (checked against the method's spec). */
json_t *vl_call_params(const struct vl_call *c);
bool vl_call_oneway(const struct vl_call *c);
bool vl_call_more(const struct vl_call *c);
/* A reply (with continues) already went out. */
bool vl_call_replied(const struct vl_call *c);
/* The call streams until the peer goes (a subscription): the connection's
 * end of input does not wait for it to finish. */
void vl_call_set_endless(struct vl_call *c);
struct vl_conn *vl_call_conn(const struct vl_call *c);

/*
 * The application's per-call state: @cleanup(@context) runs once when the
 * call goes away (final reply sent, or the connection closed), before the
 * call is freed; it may not send.  Replaces (without cleaning up) a
 * context set before.
 */
void vl_call_set_context(struct vl_call *c, void *context, void (*cleanup)(void *context));
void *vl_call_get_context(const struct vl_call *c);

/*
 * Send @msg (stolen; a full reply or error message) for @c.  Oneway calls
 * send nothing; a reply with "continues" is dropped unless the call asked
 * for more.  @final ends the call (@c is freed, later calls of the
 * connection proceed).  Returns 0, or -errno when the connection had to
 * be closed (out of memory, or a streaming reader too slow) — @c is then
 * gone as well.  @msg NULL means out of memory.
 */
int vl_call_send(struct vl_call *c, json_t *msg, bool final);
/* Shorthands: a reply with @params (stolen) / an org.varlink.service error
 * (@name short: "InvalidParameter"; @key NULL: no parameters). */
int vl_reply(struct vl_call *c, json_t *params, bool final);
/*
 * A reply too large to build in one loop iteration, sent in pieces of raw
 * JSON text (the caller writes one well-formed message: {"parameters":...}).
 * @end closes the message and finishes the call.  Nothing else is sent on
 * the connection meanwhile: a connection has one call at a time.
 */
int vl_call_send_text(struct vl_call *c, const char *text, size_t len, bool end);
/*
 * Backpressure for such a reply: true while the connection has max_output
 * or more unsent, and then the caller stops producing and asks to be told
 * when the peer has read it down to half (@cb(@userdata), once, from the
 * connection's write watcher; not if the call goes first).  One callback
 * per call; a second replaces the first.
 */
bool vl_call_output_full(const struct vl_call *c);
void vl_call_on_drain(struct vl_call *c, void (*cb)(void *userdata), void *userdata);
int vl_reply_service_error(struct vl_call *c, const char *name, const char *key, const char *value);

/* ---- the peer -------------------------------------------------------------------- */

/* Root, or in admin_group (decided once per connection). */
bool vl_conn_privileged(struct vl_conn *conn);
const struct ucred *vl_conn_cred(const struct vl_conn *conn);
/* The peer's supplementary groups at connect time (malloc'd). */
int vl_conn_groups(struct vl_conn *conn, gid_t **ret, size_t *ret_n);
/* The fd the peer passed with SCM_RIGHTS along with its messages (one at a
 * time; see varlink-conn.c), now the caller's; -1 when none. */
int vl_conn_take_fd(struct vl_conn *conn);
/* Keep the connection alive across a send that may close it. */
void vl_conn_ref(struct vl_conn *conn);
void vl_conn_unref(struct vl_conn *conn);
