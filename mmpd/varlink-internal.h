/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the varlink server (varlink-server.h).  varlink.c: options, the
 * listening socket, accept, interfaces.  varlink-conn.c: connections
 * (framing, timeouts, replies, access).  varlink-dispatch.c: calls to the
 * registered methods, org.varlink.service.  Nothing here knows an
 * application interface: those register a method table with
 * varlink_server_add_interface().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "macro.h"
#include "mmp-varlink.h"
#include "varlink-server.h"

struct varlink_server {
        struct ev_loop *loop;
        struct varlink_options opts;
        char *opt_socket_path;          /* copies of the option strings */
        char *opt_admin_group;
        bool have_admin_gid;
        gid_t admin_gid;

        struct vl_interface interfaces[VARLINK_MAX_INTERFACES];
        unsigned n_interfaces;
        const char *info_vendor, *info_product, *info_version, *info_url;

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
};

struct vl_conn {
        struct varlink_server *s;
        struct vl_conn *prev, *next;
        unsigned id;
        int fd;
        int passed_fd;                  /* SCM_RIGHTS fd not yet taken, or -1 */
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

struct vl_call {
        struct vl_conn *conn;
        json_t *root;
        const char *method;
        json_t *params;
        bool oneway, more;
        bool endless;                   /* streams until the peer goes */
        bool replied;                   /* a reply (with continues) went out */
        void *context;                  /* the application's (vl_call_set_context) */
        void (*context_cleanup)(void *context);
        void (*on_drain)(void *userdata);       /* vl_call_on_drain() */
        void *drain_data;
};

void vl_log(struct varlink_server *s, int prio, const char *fmt, ...) _printf_(3, 4);
/* A line about a connection; rate limited, since peers can cause them at will. */
void vl_conn_log(struct vl_conn *c, int prio, const char *fmt, ...) _printf_(3, 4);
#define conn_log vl_conn_log

/* ---- varlink-conn.c / varlink-dispatch.c (for varlink.c) ------------------------ */

/* Idempotent; a pending call ends without a reply.  @why NULL: no log line. */
void vl_conn_close(struct vl_conn *c, int prio, const char *why);
/* Resumes connections parked for want of budget (server->resume). */
void vl_on_resume(struct ev_loop *loop, ev_idle *w, int revents);
/* One complete message of @c (which has no call in progress). */
void vl_dispatch(struct vl_conn *c, const char *msg, size_t len);
