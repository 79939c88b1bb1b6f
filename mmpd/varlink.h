/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control server: org.varlink.service and io.mmpd (io.mmpd.varlink) on a
 * unix stream socket, driven by the daemon's libev loop.
 *
 * Nothing here blocks the loop: sockets are nonblocking, replies are queued
 * and written when the socket is writable, device reads (Inspect) run on a
 * short-lived thread with a deadline, and all connections together run
 * calls for at most VARLINK_ITERATION_BUDGET per loop iteration (plus the
 * one call that crosses it) before due timers get their turn.  Everything
 * a peer controls is bounded (message size, connections, buffered output,
 * idle and partial-message time), and an idle connection costs one fd, one
 * timer and ~400 bytes (its buffers come when data comes and go when
 * drained).
 *
 * Calls on one connection are answered strictly in order, one at a time: a
 * Claim waiting for its outcome holds back the calls pipelined after it.  A
 * peer that disconnects does not cancel what it asked for (a claim goes on).
 *
 * Access: every peer may use the read-only methods; Claim and Release need
 * uid 0 or membership of admin_group (primary or supplementary group of the
 * peer at connect time, from SO_PEERCRED/SO_PEERGROUPS, not from /proc).
 *
 * Connection limit: when max_connections are open, a new connection is
 * accepted and closed at once (the peer reads EOF instead of hanging in the
 * listen backlog); root peers have a reserve of root_reserve more, so a local
 * flood cannot lock the administrator out.  One non-root uid may hold at
 * most max_per_uid connections, so one user cannot lock the others out.
 *
 * The heartbeat path comes first (docs/control-plane.md): the loop runs the
 * watchers of device I/O, volume timers and fencing at a higher libev
 * priority than any control connection, so in every loop iteration they are
 * served before a single client byte is read; reading and dispatching
 * together are bounded by VARLINK_ITERATION_BUDGET per iteration; and what
 * an unprivileged peer can make us buffer is small (max_message_unpriv per
 * message, max_per_uid connections).
 */
#pragma once

#include <stddef.h>

#include <ev.h>

#include "io.h"           /* MMPD_PRIO_* */
#include "manager.h"

#define VARLINK_MAX_CONNECTIONS  4096
#define VARLINK_ROOT_RESERVE     16
#define VARLINK_MAX_OUTPUT       (1024u * 1024u)   /* bytes queued per connection */
#define VARLINK_IDLE_TIMEOUT     60.0              /* seconds */
#define VARLINK_PARTIAL_TIMEOUT  10.0
#define VARLINK_INSPECT_TIMEOUT  10.0
#define VARLINK_MAX_INSPECTS     16                /* Inspect threads alive at once */
#define VARLINK_ITERATION_BUDGET 0.01              /* seconds of reads and calls per loop iteration */
#define VARLINK_MAX_PER_UID      64                /* connections of one non-root uid */
/* Unprivileged peers may call only read-only methods whose calls are a few
 * hundred bytes (the longest is a device path of PATH_MAX). */
#define VARLINK_MAX_MESSAGE_UNPRIV (64u * 1024u)


struct varlink_server;

/* Zero / NULL fields take the defaults above. */
struct varlink_options {
        const char *socket_path;        /* default MMPD_DEFAULT_SOCKET */
        const char *admin_group;        /* group name or number; NULL = root only */
        unsigned max_connections;
        unsigned root_reserve;          /* (unsigned) -1 = none */
        size_t max_message;             /* default MMP_VARLINK_MESSAGE_MAX_DEFAULT (1 MiB) */
        size_t max_message_unpriv;      /* default VARLINK_MAX_MESSAGE_UNPRIV */
        unsigned max_per_uid;           /* non-root; (unsigned) -1 = no limit */
        size_t max_output;
        double idle_timeout;            /* no complete message and no call in progress */
        double partial_timeout;         /* a message started but not finished */
        double inspect_timeout;
        unsigned max_inspects;
        /* Log sink (syslog priority, one line without newline); NULL = stderr
         * with "<prio>" prefixes.  The server logs rarely: refused/broken
         * connections once each, limits once per episode. */
        void (*log)(int prio, const char *msg, void *userdata);
        void *log_userdata;
};

/*
 * Set up a server for @manager on @loop.  Copies @opts (NULL: all defaults).
 * Resolves admin_group once, here (NSS may block: call this at startup, not
 * from a loop callback); an unknown group is logged and means root only.
 * No socket yet: call varlink_server_listen_path() or _adopt_fd().
 */
int varlink_server_new(struct ev_loop *loop, struct manager *manager,
                       const struct varlink_options *opts, struct varlink_server **ret);

/*
 * Create the socket at @path (NULL: opts.socket_path or the default):
 * the parent directory is created 0755 if missing, a stale socket left by a
 * dead mmpd is removed (one that still accepts connections is not:
 * -EADDRINUSE), anything else at the path is left alone (-EEXIST), the new
 * socket is mode 0666 (access is decided per method) and removed by
 * varlink_server_free() if it is still ours.  -EBUSY if already listening.
 */
int varlink_server_listen_path(struct varlink_server *s, const char *path);

/*
 * Serve on an inherited listening socket (systemd socket activation: the fd
 * named "varlink").  Must be a listening AF_UNIX stream socket (-ENOTSOCK,
 * -EPROTOTYPE, -EINVAL otherwise).  On success the server owns @fd (made
 * nonblocking and close-on-exec) and never unlinks its path; on failure the
 * caller keeps it.
 */
int varlink_server_adopt_fd(struct varlink_server *s, int fd);

/* Close every connection (pending calls end without a reply) and the
 * socket.  Call before manager_free(): the server holds subscriptions. */
struct varlink_server *varlink_server_free(struct varlink_server *s);

unsigned varlink_server_connections(const struct varlink_server *s);
