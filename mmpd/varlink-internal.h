/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the control server.  varlink.c: options, the listening socket,
 * accept.  varlink-conn.c: connections (framing, timeouts, replies, access).
 * varlink-dispatch.c: calls to methods, org.varlink.service.
 * varlink-methods.c: io.mmpd.  varlink-json.c: volume/event/block -> JSON
 * and the one errno -> error map.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "macro.h"
#include "manager.h"
#include "mmp-varlink.h"
#include "offload.h"
#include "varlink.h"

/* The IDL text, generated from mmpd/io.mmpd.varlink at build time. */
extern const char varlink_io_mmpd_idl[];

struct vl_conn;
struct vl_call;

struct varlink_server {
        struct ev_loop *loop;
        struct manager *manager;
        struct varlink_options opts;
        char *opt_socket_path;          /* copies of the option strings */
        char *opt_admin_group;
        bool have_admin_gid;
        gid_t admin_gid;

        int listen_fd;
        ev_io listen_io;
        ev_timer accept_retry;          /* after EMFILE & co. */
        char *socket_path;              /* ours to unlink */
        dev_t socket_dev;
        ino_t socket_ino;

        struct vl_conn *conns;
        unsigned n_conns;
        struct vl_conn *parked, *parked_tail;   /* out of budget, FIFO */
        ev_idle resume;
        unsigned budget_iter;           /* ev_iteration() the budget is for */
        double budget_spent;            /* seconds dispatched in it */
        unsigned next_id;
        bool full_logged, accept_error_logged;
        uid_t full_uid;                 /* uid + 1 whose limit was last logged; 0 none */
        ev_tstamp log_window;           /* connection log lines: window start */
        unsigned log_lines, log_suppressed;

        struct offload *offload;
};

struct vl_conn {
        struct varlink_server *s;
        struct vl_conn *prev, *next;
        unsigned id;
        int fd;
        int passed_fd;                  /* SCM_RIGHTS fd for the next ClaimFd, or -1 */
        ev_io rio, wio;
        ev_timer timer;
        struct mmp_varlink_in *in;
        struct mmp_varlink_out *out;
        struct ucred cred;
        int privileged;                 /* -1: not decided yet */
        unsigned refs;
        bool dead;
        bool eof;                       /* the peer will send no more */
        bool in_full;                   /* input buffer full: reading paused */
        size_t max_message;             /* this peer's limit (smaller when unprivileged) */
        bool dispatching;
        bool parked;
        struct vl_conn *parked_next;
        ev_tstamp last_activity;        /* accept, complete message, reply or bytes sent */
        ev_tstamp partial_since;        /* a message started; 0 = none */
        ev_tstamp timer_at;             /* when the armed timer fires */
        struct vl_call *call;           /* the one call in progress */
};

/* What an io.mmpd call is waiting for (varlink-methods.c). */
struct vl_early;

struct vl_call {
        struct vl_conn *conn;
        json_t *root;
        const char *method;
        json_t *params;
        bool oneway, more;
        bool endless;                   /* streams until the peer goes (Watch) */
        bool replied;                   /* a reply (with continues) went out */

        struct subscription *sub;
        struct volume *volume;          /* Claim/Release: the one we follow */
        struct offload_job *job;        /* Inspect */
        bool starting;                  /* inside manager_claim/release */
        struct vl_early *early;         /* events seen while starting */
        bool early_failed;              /* ... one of which could not be kept */
};

/* ---- varlink.c: for the methods --------------------------------------------- */

/*
 * Send @msg (stolen; a full reply or error message) for @c.  Oneway calls
 * send nothing; a reply with "continues" is dropped unless the call asked
 * for more.  @final ends the call (@c is freed, later calls of the
 * connection proceed).  Returns 0, or -errno when the connection had to
 * be closed (out of memory, or a streaming reader too slow) — @c is then
 * gone as well.  @msg NULL means out of memory.
 */
int vl_call_send(struct vl_call *c, json_t *msg, bool final);
/* Shorthands: a reply with @params (stolen) / an org.varlink.service error. */
int vl_reply(struct vl_call *c, json_t *params, bool final);
int vl_reply_service_error(struct vl_call *c, const char *name, const char *key, const char *value);
/* Root, or in admin_group (decided once per connection). */
bool vl_conn_privileged(struct vl_conn *conn);
/* The peer's supplementary groups at connect time (malloc'd). */
int vl_conn_groups(struct vl_conn *conn, gid_t **ret, size_t *ret_n);
/* Keep the connection alive across an event callback that may close it. */
void vl_conn_ref(struct vl_conn *conn);
void vl_conn_unref(struct vl_conn *conn);
void vl_log(struct varlink_server *s, int prio, const char *fmt, ...) _printf_(3, 4);
/* A line about a connection; rate limited, since peers can cause them at will. */
void vl_conn_log(struct vl_conn *c, int prio, const char *fmt, ...) _printf_(3, 4);
#define conn_log vl_conn_log

/* ---- varlink-conn.c / varlink-dispatch.c (for varlink.c) ------------------------ */

int vl_conn_new(struct varlink_server *s, int fd, const struct ucred *cred);
/* Idempotent; a pending call ends without a reply.  @why NULL: no log line. */
void vl_conn_close(struct vl_conn *c, int prio, const char *why);
/* Resumes connections parked for want of budget (server->resume). */
void vl_on_resume(struct ev_loop *loop, ev_idle *w, int revents);
/* One complete message of @c (which has no call in progress). */
void vl_dispatch(struct vl_conn *c, const char *msg, size_t len);

/* ---- varlink-methods.c --------------------------------------------------------- */

struct vl_param {
        const char *name;
        int type;                       /* JSON_STRING, ...; optional ones may be null */
        bool required;
};

struct vl_method {
        const char *name;               /* fully qualified */
        int (*call)(struct vl_call *c); /* 0, or -errno: close the connection */
        bool privileged;
        const struct vl_param *params;  /* NULL-terminated by name */
};

extern const struct vl_method vl_io_mmpd_methods[];
/* The call goes away (reply sent, or the connection closed): release what
 * it holds.  Safe to call twice. */
void vl_call_cleanup(struct vl_call *c);

/* ---- varlink-json.c ----------------------------------------------------------- */

/* A JSON string even for bytes that are not UTF-8 (escaped as \xNN). */
json_t *vl_json_string(const char *s);
/* Volume, per io.mmpd: ONE conversion, used by every method and event. */
json_t *vl_volume_json(const struct volume_info *info);
json_t *vl_event_json(const struct volume_event *ev);
json_t *vl_block_json(const struct mmp_sb *sb, const struct mmp_block *b);
mmp_usec_t vl_now(void);                /* CLOCK_BOOTTIME, as the manager's */
/* Wall-clock seconds of monotonic @t, from the snapshot's (now, wall_now). */
int64_t vl_wall_of(const struct volume_info *info, mmp_usec_t t);

enum vl_op {
        VL_OP_LOOKUP,   /* finding a known volume: ENOENT is NoSuchVolume */
        VL_OP_CLAIM,    /* a claim and its outcome: unexpected errors are ClaimFailed */
        VL_OP_RELEASE,
        VL_OP_INSPECT,
        VL_OP_HANDOFF,  /* a handoff and its outcome: failures are HandoffFailed */
        VL_OP_END_USE,
};

struct vl_error_ctx {
        enum vl_op op;
        const char *device;                     /* as the caller named it */
        const struct volume_info *info;         /* the volume concerned, or NULL */
        bool decoded;                           /* err came from the on-disk decoders */
        const char *stage;                      /* prefix for reason ("superblock"), or NULL */
        const char *reason;                     /* detail overriding the errno text, or NULL */
        unsigned limit;                         /* TooManyVolumes for ENOSPC: max_volumes */
        unsigned count;                         /* ... for EMFILE/ENFILE: volumes registered */
};

/* THE errno -> io.mmpd error map: a full error message for -@err, or NULL
 * when out of memory. */
json_t *vl_error_from_errno(int err, const struct vl_error_ctx *ctx);
