/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The varlink server: its options, the interfaces registered with it, the
 * listening socket (created, or inherited from systemd) and accepting
 * connections within the limits.  Connections: varlink-conn.c; dispatch
 * and org.varlink.service: varlink-dispatch.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "varlink-internal.h"

#define ACCEPT_BATCH   64       /* accepts per wakeup: others get their turn */
#define ACCEPT_RETRY   1.0      /* seconds to pause accepting after EMFILE & co. */

/* ---- logging ---------------------------------------------------------------- */

void vl_log(struct varlink_server *s, int prio, const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (s->opts.log)
                s->opts.log(prio, buf, s->opts.log_userdata);
        else
                fprintf(stderr, "<%d>varlink: %s\n", prio, buf);
}

#define CONN_LOG_WINDOW 10.0     /* seconds */
#define CONN_LOG_LINES  20       /* lines about connections per window */

void vl_conn_log(struct vl_conn *c, int prio, const char *fmt, ...)
{
        struct varlink_server *s = c->s;
        ev_tstamp now = ev_now(s->loop);
        char buf[400];
        va_list ap;

        /* Debug lines (idle closes, resets) are off in production and
         * must not use up the room for the ones that matter. */
        if (prio >= LOG_DEBUG)
                goto emit;
        if (now >= s->log_window + CONN_LOG_WINDOW) {
                if (s->log_suppressed)
                        vl_log(s, LOG_NOTICE, "%u more lines about connections suppressed",
                               s->log_suppressed);
                s->log_window = now;
                s->log_lines = s->log_suppressed = 0;
        }
        if (s->log_lines >= CONN_LOG_LINES) {
                s->log_suppressed++;
                return;
        }
        s->log_lines++;
emit:
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        vl_log(s, prio, "connection %u (pid %d, uid %u): %s", c->id, (int) c->cred.pid,
               (unsigned) c->cred.uid, buf);
}

/* ---- listening ----------------------------------------------------------------- */

static void accept_pause(struct varlink_server *s, int err)
{
        if (!s->accept_error_logged)
                vl_log(s, LOG_WARNING, "cannot accept connections: %s; pausing", strerror(err));
        s->accept_error_logged = true;
        ev_io_stop(s->loop, &s->listen_io);
        ev_timer_set(&s->accept_retry, ACCEPT_RETRY, 0.);
        ev_timer_start(s->loop, &s->accept_retry);
}

static void on_accept_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct varlink_server *s = w->data;

        ev_io_start(loop, &s->listen_io);
}

/* A linear walk: at most max_connections, and only on accept. */
static unsigned uid_connections(const struct varlink_server *s, uid_t uid)
{
        unsigned n = 0;

        for (const struct vl_conn *c = s->conns; c; c = c->next)
                n += c->cred.uid == uid;
        return n;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
        struct varlink_server *s = w->data;

        for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
                struct ucred cred;
                socklen_t len = sizeof(cred);
                unsigned limit;
                int fd;

                fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EAGAIN)
                                return;
                        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                                continue;
                        accept_pause(s, errno);
                        return;
                }
                s->accept_error_logged = false;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                        close(fd);
                        continue;
                }
                limit = s->opts.max_connections + (cred.uid == 0 ? s->opts.root_reserve : 0);
                if (cred.uid != 0 && uid_connections(s, cred.uid) >= s->opts.max_per_uid) {
                        if (s->full_uid != cred.uid + 1)
                                vl_log(s, LOG_WARNING, "uid %u has %u connections open: closing its new ones "
                                       "until some end", (unsigned) cred.uid, s->opts.max_per_uid);
                        s->full_uid = cred.uid + 1;
                        close(fd);
                        continue;
                }
                if (s->n_conns >= limit) {
                        if (!s->full_logged)
                                vl_log(s, LOG_WARNING, "%u connections open: closing new ones (uid %u) until some end",
                                       s->n_conns, (unsigned) cred.uid);
                        s->full_logged = true;
                        close(fd);
                        continue;
                }
                if (vl_conn_new(s, fd, &cred) < 0) {
                        close(fd);
                        accept_pause(s, ENOMEM);
                        return;
                }
        }
}

static void start_listening(struct varlink_server *s, int fd)
{
        s->listen_fd = fd;
        ev_io_init(&s->listen_io, on_accept, fd, EV_READ);
        ev_set_priority(&s->listen_io, MMPD_PRIO_CONTROL);
        s->listen_io.data = s;
        ev_io_start(s->loop, &s->listen_io);
}

static int mkdir_parents(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        return 0;
}

/* A socket file nobody accepts on is a leftover; a live one is not ours. */
static int remove_stale_socket(const struct sockaddr_un *sa)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (lstat(sa->sun_path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) == 0 || errno == EAGAIN)
                return -EADDRINUSE;
        if (errno != ECONNREFUSED)
                return -errno;
        if (unlink(sa->sun_path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int varlink_server_listen_path(struct varlink_server *s, const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (s->listen_fd >= 0)
                return -EBUSY;
        if (!path)
                path = s->opts.socket_path;
        if (!path)
                return -EINVAL;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        r = mkdir_parents(path, 0755);
        if (r < 0)
                return r;
        r = remove_stale_socket(&sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* Anyone may connect; methods decide who may do what. */
        if (chmod(path, 0666) < 0 || lstat(path, &st) < 0 || listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                unlink(path);
                return r;
        }
        s->socket_path = strdup(path);
        if (!s->socket_path) {
                unlink(path);
                return -ENOMEM;
        }
        s->socket_dev = st.st_dev;
        s->socket_ino = st.st_ino;
        start_listening(s, TAKE_FD(fd));
        return 0;
}

int varlink_server_adopt_fd(struct varlink_server *s, int fd)
{
        int type = 0, domain = 0, listening = 0, flags;
        socklen_t len = sizeof(int);

        if (s->listen_fd >= 0)
                return -EBUSY;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return -errno;
        len = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
                return -errno;
        len = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
                return -errno;
        if (domain != AF_UNIX)
                return -EAFNOSUPPORT;
        if (type != SOCK_STREAM)
                return -EPROTOTYPE;
        if (!listening)
                return -EINVAL;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        start_listening(s, fd);
        return 0;
}

/* ---- life cycle ----------------------------------------------------------------- */

static int resolve_group(const char *name, gid_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 4096;
        struct group grp, *found = NULL;
        char *end;
        unsigned long n;
        int r;

        errno = 0;
        n = strtoul(name, &end, 10);
        if (*name && !*end && errno == 0 && n < (gid_t) -1) {
                *ret = (gid_t) n;
                return 0;
        }
        for (;;) {
                free(buf);
                buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                r = getgrnam_r(name, &grp, buf, size, &found);
                if (r != ERANGE || size > 1024 * 1024)
                        break;
                size *= 2;
        }
        if (r != 0)
                return -r;
        if (!found)
                return -ENOENT;
        *ret = grp.gr_gid;
        return 0;
}

int varlink_transport_new(struct ev_loop *loop, const struct varlink_options *opts,
                          struct varlink_server **ret)
{
        struct varlink_server *s;
        struct varlink_options *o;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->loop = loop;
        s->listen_fd = -1;
        ev_timer_init(&s->accept_retry, on_accept_retry, ACCEPT_RETRY, 0.);
        ev_set_priority(&s->accept_retry, MMPD_PRIO_CONTROL);
        s->accept_retry.data = s;
        /* Just above the connections: parked calls go first among the
         * control plane, within the budget, so busy connections cannot
         * starve them; never before the heartbeat path. */
        ev_idle_init(&s->resume, vl_on_resume);
        ev_set_priority(&s->resume, MMPD_PRIO_CONTROL + 1);
        s->resume.data = s;
        o = &s->opts;
        if (opts)
                *o = *opts;
        s->opt_socket_path = o->socket_path ? strdup(o->socket_path) : NULL;
        s->opt_admin_group = o->admin_group ? strdup(o->admin_group) : NULL;
        if ((o->socket_path && !s->opt_socket_path) || (o->admin_group && !s->opt_admin_group)) {
                r = -ENOMEM;
                goto fail;
        }
        o->socket_path = s->opt_socket_path;
        o->admin_group = s->opt_admin_group;
        if (!o->max_connections)
                o->max_connections = VARLINK_MAX_CONNECTIONS;
        o->root_reserve = o->root_reserve == (unsigned) -1 ? 0 :
                          o->root_reserve ? o->root_reserve : VARLINK_ROOT_RESERVE;
        if (!o->max_message)
                o->max_message = MMP_VARLINK_MESSAGE_MAX_DEFAULT;
        if (!o->max_message_unpriv)
                o->max_message_unpriv = VARLINK_MAX_MESSAGE_UNPRIV;
        if (o->max_message_unpriv > o->max_message)
                o->max_message_unpriv = o->max_message;
        if (!o->max_per_uid)
                o->max_per_uid = VARLINK_MAX_PER_UID;
        if (!o->max_output)
                o->max_output = VARLINK_MAX_OUTPUT;
        if (o->idle_timeout <= 0)
                o->idle_timeout = VARLINK_IDLE_TIMEOUT;
        if (o->partial_timeout <= 0)
                o->partial_timeout = VARLINK_PARTIAL_TIMEOUT;

        if (o->admin_group) {
                r = resolve_group(o->admin_group, &s->admin_gid);
                if (r < 0)
                        vl_log(s, LOG_WARNING, "admin_group %s: %s; privileged methods are for root only",
                               o->admin_group, r == -ENOENT ? "no such group" : strerror(-r));
                s->have_admin_gid = r == 0;
        }
        *ret = s;
        return 0;
fail:
        varlink_server_free(s);
        return r;
}

void varlink_server_set_info(struct varlink_server *s, const char *vendor, const char *product,
                             const char *version, const char *url)
{
        s->info_vendor = vendor;
        s->info_product = product;
        s->info_version = version;
        s->info_url = url;
}

int varlink_server_add_interface(struct varlink_server *s, const struct vl_interface *iface)
{
        if (!iface->name || !iface->description || !iface->methods)
                return -EINVAL;
        if (strcmp(iface->name, MMP_VARLINK_SERVICE) == 0)
                return -EEXIST;
        for (unsigned i = 0; i < s->n_interfaces; i++)
                if (strcmp(s->interfaces[i].name, iface->name) == 0)
                        return -EEXIST;
        if (s->n_interfaces >= VARLINK_MAX_INTERFACES)
                return -ENOSPC;
        s->interfaces[s->n_interfaces++] = *iface;
        return 0;
}

struct varlink_server *varlink_server_free(struct varlink_server *s)
{
        struct stat st;

        if (!s)
                return NULL;
        while (s->conns)
                vl_conn_close(s->conns, LOG_DEBUG, NULL);
        if (s->log_suppressed)
                vl_log(s, LOG_NOTICE, "%u more lines about connections suppressed", s->log_suppressed);
        ev_idle_stop(s->loop, &s->resume);
        while (s->parked) {
                struct vl_conn *c = s->parked;

                s->parked = c->parked_next;
                vl_conn_unref(c);
        }
        /* No call is left: the interfaces may go. */
        for (unsigned i = 0; i < s->n_interfaces; i++)
                if (s->interfaces[i].destroy)
                        s->interfaces[i].destroy(s->interfaces[i].userdata);
        ev_timer_stop(s->loop, &s->accept_retry);
        if (s->listen_fd >= 0) {
                ev_io_stop(s->loop, &s->listen_io);
                close(s->listen_fd);
        }
        /* Only the socket we created, and only if no one replaced it since. */
        if (s->socket_path && lstat(s->socket_path, &st) == 0 &&
            st.st_dev == s->socket_dev && st.st_ino == s->socket_ino)
                unlink(s->socket_path);
        free(s->socket_path);
        free(s->opt_socket_path);
        free(s->opt_admin_group);
        free(s);
        return NULL;
}

unsigned varlink_server_connections(const struct varlink_server *s)
{
        return s->n_conns;
}
