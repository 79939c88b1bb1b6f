/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One control connection: nonblocking reads into the framing buffer, calls
 * taken out one at a time (varlink answers in order), replies queued and
 * written when the socket is writable, idle and partial-message timeouts,
 * and the peer's credentials for access checks.
 *
 * The next message is taken from the input buffer only when the previous
 * call has sent its final reply.  A call that finishes from an event
 * callback does not dispatch the next message there and then (we may be
 * deep inside the application's event emission); it feeds a custom event to the
 * connection's read watcher, which libev runs once the current callback
 * has returned.
 *
 * Calls are cheap, but not all (List of 10,000 volumes is ~5 MB of JSON):
 * all connections together dispatch for at most VARLINK_ITERATION_BUDGET
 * per loop iteration; a connection over budget is parked and resumed from
 * an idle watcher, which keeps the loop polling without blocking, so due
 * timers (heartbeats) run in between.
 *
 * Memory per connection is bounded: the input buffer by max_message (reading
 * stops while it is full), the output by max_output (dispatch stops while
 * more than that is unsent; a streaming call that overflows it closes the
 * connection, since events cannot wait).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "varlink-internal.h"

#define READ_BATCH     8        /* reads per wakeup */

static void conn_process(struct vl_conn *c);
static void conn_update(struct vl_conn *c);

/* ---- connections ------------------------------------------------------------- */

void vl_conn_ref(struct vl_conn *c)
{
        c->refs++;
}

void vl_conn_unref(struct vl_conn *c)
{
        if (--c->refs > 0)
                return;
        mmp_varlink_in_free(c->in);
        mmp_varlink_out_free(c->out);
        free(c);
}

static void call_free(struct vl_call *call)
{
        if (call->context_cleanup)
                call->context_cleanup(call->context);
        json_decref(call->root);
        free(call);
}

/* Idempotent; the memory goes when the last reference does. */
void vl_conn_close(struct vl_conn *c, int prio, const char *why)
{
        struct varlink_server *s = c->s;

        if (c->dead)
                return;
        c->dead = true;
        if (why)
                conn_log(c, prio, "%s, closing", why);
        if (c->call) {
                struct vl_call *call = c->call;

                c->call = NULL;
                call_free(call);
        }
        ev_io_stop(s->loop, &c->rio);
        ev_io_stop(s->loop, &c->wio);
        ev_timer_stop(s->loop, &c->timer);
        close(c->fd);
        c->fd = -1;
        if (c->passed_fd >= 0) {
                close(c->passed_fd);
                c->passed_fd = -1;
        }
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        if (s->n_conns < s->opts.max_connections)
                s->full_logged = false;
        if (s->full_uid == c->cred.uid + 1)
                s->full_uid = 0;
        vl_conn_unref(c);
}

/* When the connection times out; 1e300 for never. */
static ev_tstamp conn_deadline(const struct vl_conn *c)
{
        const struct varlink_options *o = &c->s->opts;
        ev_tstamp d = 1e300;

        if (!c->call)
                d = c->last_activity + o->idle_timeout;
        if (c->partial_since > 0 && c->partial_since + o->partial_timeout < d)
                d = c->partial_since + o->partial_timeout;
        return d;
}

/* Lazy: an armed timer that fires too early re-arms itself, so activity
 * costs a timestamp, not a heap operation. */
static void conn_arm_timer(struct vl_conn *c)
{
        ev_tstamp d = conn_deadline(c), now = ev_now(c->s->loop);

        if (d >= 1e300) {
                ev_timer_stop(c->s->loop, &c->timer);
                return;
        }
        if (ev_is_active(&c->timer) && c->timer_at <= d)
                return;
        ev_timer_stop(c->s->loop, &c->timer);
        ev_timer_set(&c->timer, d > now ? d - now : 0., 0.);
        ev_timer_start(c->s->loop, &c->timer);
        c->timer_at = d;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct vl_conn *c = w->data;
        ev_tstamp now = ev_now(loop);

        if (now < conn_deadline(c)) {
                conn_arm_timer(c);
                return;
        }
        if (c->partial_since > 0 && now >= c->partial_since + c->s->opts.partial_timeout)
                vl_conn_close(c, LOG_INFO, "message not finished in time");
        else
                vl_conn_close(c, LOG_DEBUG, "idle");
}

/*
 * Keep the one fd a peer passed with SCM_RIGHTS, for a method that takes it
 * (vl_conn_take_fd()); any other fd in the message, or a
 * second one before a method took the first, is closed: one passed fd at a
 * time per connection.
 */
static void take_passed_fds(struct vl_conn *c, struct msghdr *mh)
{
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                size_t n;
                int *fds;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                fds = (int *) CMSG_DATA(cm);
                for (size_t i = 0; i < n; i++) {
                        if (c->passed_fd < 0)
                                c->passed_fd = fds[i];
                        else
                                close(fds[i]);
                }
        }
}

static ssize_t conn_recv(struct vl_conn *c, void *p, size_t len)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = p, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = &control, .msg_controllen = sizeof(control),
        };
        ssize_t n;

        n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
        if (n >= 0 && mh.msg_controllen > 0)
                take_passed_fds(c, &mh);
        return n;
}

static void conn_read(struct vl_conn *c)
{
        for (unsigned i = 0; i < READ_BATCH; i++) {
                void *p;
                size_t len;
                ssize_t n;
                int r;

                r = mmp_varlink_in_space(c->in, &p, &len);
                if (r == -ENOBUFS) {
                        c->in_full = true;      /* resumes once messages are taken */
                        return;
                }
                if (r < 0) {
                        vl_conn_close(c, LOG_ERR, "out of memory");
                        return;
                }
                n = conn_recv(c, p, len);
                if (n > 0) {
                        mmp_varlink_in_advance(c->in, (size_t) n);
                        if ((size_t) n < len)
                                return;
                        continue;
                }
                if (n == 0) {
                        c->eof = true;
                        return;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        vl_conn_close(c, errno == ECONNRESET ? LOG_DEBUG : LOG_NOTICE, strerror(errno));
                return;
        }
}

static bool budget_left(struct varlink_server *s);
static double mono_now(void);
static void conn_park(struct vl_conn *c);

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
        struct vl_conn *c = w->data;
        struct varlink_server *s = c->s;

        vl_conn_ref(c);
        if (revents & EV_READ) {
                /* Reading and framing count against the iteration's budget
                 * like calls do: a flood of bytes waits in the socket. */
                if (budget_left(s)) {
                        double t0 = mono_now();

                        conn_read(c);
                        s->budget_spent += mono_now() - t0;
                } else {
                        conn_park(c);
                }
        }
        conn_process(c);
        conn_update(c);
        vl_conn_unref(c);
}

static void conn_flush(struct vl_conn *c)
{
        while (mmp_varlink_out_pending(c->out) > 0) {
                ssize_t n = send(c->fd, mmp_varlink_out_data(c->out), mmp_varlink_out_pending(c->out),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n >= 0) {
                        mmp_varlink_out_consume(c->out, (size_t) n);
                        c->last_activity = ev_now(c->s->loop);
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        vl_conn_close(c, errno == EPIPE || errno == ECONNRESET ? LOG_DEBUG : LOG_NOTICE,
                                   strerror(errno));
                return;
        }
}

bool vl_call_output_full(const struct vl_call *call)
{
        return mmp_varlink_out_pending(call->conn->out) >= call->conn->s->opts.max_output;
}

void vl_call_on_drain(struct vl_call *call, void (*cb)(void *userdata), void *userdata)
{
        call->on_drain = cb;
        call->drain_data = userdata;
}

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
        struct vl_conn *c = w->data;

        vl_conn_ref(c);
        conn_flush(c);
        /* A producer waiting for room (vl_call_on_drain) goes on at half:
         * it refills while the rest is still being written. */
        if (!c->dead && c->call && c->call->on_drain &&
            mmp_varlink_out_pending(c->out) <= c->s->opts.max_output / 2) {
                void (*cb)(void *) = c->call->on_drain;

                c->call->on_drain = NULL;
                cb(c->call->drain_data);
        }
        conn_process(c);        /* dispatch may have waited for the output to drain */
        conn_update(c);
        vl_conn_unref(c);
}

/* Watchers, timer and end of stream after anything happened. */
static void conn_update(struct vl_conn *c)
{
        struct ev_loop *loop = c->s->loop;
        size_t pending;

        if (c->dead)
                return;
        pending = mmp_varlink_out_pending(c->out);
        if (c->eof && (!c->call || c->call->endless) && pending == 0 &&
            !mmp_varlink_in_ready(c->in)) {
                vl_conn_close(c, LOG_DEBUG, NULL);
                return;
        }
        /* Parked (out of budget): the resume watcher reads it next. */
        if (!c->eof && !c->in_full && !c->parked)
                ev_io_start(loop, &c->rio);
        else
                ev_io_stop(loop, &c->rio);
        if (pending > 0)
                ev_io_start(loop, &c->wio);
        else
                ev_io_stop(loop, &c->wio);

        /* A partial message is the peer's stall only while we are reading. */
        if (c->in_full || c->eof || mmp_varlink_in_partial(c->in) == 0)
                c->partial_since = 0;
        else if (c->partial_since == 0)
                c->partial_since = ev_now(loop);
        conn_arm_timer(c);
}

int vl_conn_new(struct varlink_server *s, int fd, const struct ucred *cred)
{
        struct vl_conn *c;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->s = s;
        c->fd = fd;
        c->cred = *cred;
        c->privileged = -1;
        /* Unprivileged peers only make small read-only calls. */
        c->max_message = vl_conn_privileged(c) ? s->opts.max_message : s->opts.max_message_unpriv;
        if (mmp_varlink_in_new(c->max_message, &c->in) < 0 || mmp_varlink_out_new(&c->out) < 0) {
                mmp_varlink_in_free(c->in);
                free(c);
                return -ENOMEM;
        }
        c->id = ++s->next_id;
        c->passed_fd = -1;
        c->refs = 1;
        c->last_activity = ev_now(s->loop);
        ev_io_init(&c->rio, on_read, fd, EV_READ);
        ev_io_init(&c->wio, on_write, fd, EV_WRITE);
        ev_timer_init(&c->timer, on_timer, 0., 0.);
        ev_set_priority(&c->rio, MMPD_PRIO_CONTROL);
        ev_set_priority(&c->wio, MMPD_PRIO_CONTROL);
        ev_set_priority(&c->timer, MMPD_PRIO_CONTROL);
        c->rio.data = c->wio.data = c->timer.data = c;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        conn_update(c);
        return 0;
}

/* ---- access ------------------------------------------------------------------ */

int vl_conn_groups(struct vl_conn *c, gid_t **ret, size_t *ret_n)
{
        socklen_t len = 64 * sizeof(gid_t);
        gid_t *groups;

        /* The peer's groups as of connect(), kept by the kernel: no /proc
         * race with a recycled pid. */
        for (;;) {
                groups = malloc(len ? len : 1);
                if (!groups)
                        return -ENOMEM;
                if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
                        break;
                free(groups);
                if (errno != ERANGE)
                        return -errno;
        }
        *ret = groups;
        *ret_n = len / sizeof(gid_t);
        return 0;
}

static bool peer_in_group(struct vl_conn *c, gid_t gid)
{
        _cleanup_free_ gid_t *groups = NULL;
        size_t n = 0;
        int r;

        if (c->cred.gid == gid)
                return true;
        r = vl_conn_groups(c, &groups, &n);
        if (r < 0) {
                conn_log(c, LOG_WARNING, "cannot read the peer's groups: %s", strerror(-r));
                return false;
        }
        for (size_t i = 0; i < n; i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

bool vl_conn_privileged(struct vl_conn *c)
{
        if (c->privileged < 0)
                c->privileged = c->cred.uid == 0 ||
                        (c->s->have_admin_gid && peer_in_group(c, c->s->admin_gid));
        return c->privileged;
}

const struct ucred *vl_conn_cred(const struct vl_conn *c)
{
        return &c->cred;
}

int vl_conn_take_fd(struct vl_conn *c)
{
        return TAKE_FD(c->passed_fd);
}

/* ---- calls -------------------------------------------------------------------- */

const char *vl_call_method(const struct vl_call *c) { return c->method; }
json_t *vl_call_params(const struct vl_call *c) { return c->params; }
bool vl_call_oneway(const struct vl_call *c) { return c->oneway; }
bool vl_call_more(const struct vl_call *c) { return c->more; }
bool vl_call_replied(const struct vl_call *c) { return c->replied; }
void vl_call_set_endless(struct vl_call *c) { c->endless = true; }
struct vl_conn *vl_call_conn(const struct vl_call *c) { return c->conn; }
void *vl_call_get_context(const struct vl_call *c) { return c->context; }

void vl_call_set_context(struct vl_call *c, void *context, void (*cleanup)(void *context))
{
        c->context = context;
        c->context_cleanup = cleanup;
}

/* ---- replies ----------------------------------------------------------------- */

static void call_finish(struct vl_call *call)
{
        struct vl_conn *c = call->conn;

        c->call = NULL;
        call_free(call);
        c->last_activity = ev_now(c->s->loop);
        /* Not from here: we may be inside the application's event emission.
         * A fed event runs once the current callback has returned. */
        if (!c->dispatching)
                ev_feed_event(c->s->loop, &c->rio, EV_CUSTOM);
}

int vl_call_send(struct vl_call *call, json_t *msg, bool final)
{
        struct vl_conn *c = call->conn;
        size_t pending = mmp_varlink_out_pending(c->out);
        int r;

        if (!msg) {
                vl_conn_close(c, LOG_ERR, "out of memory");
                return -ENOMEM;
        }
        if (!call->oneway && (final || call->more)) {
                if (pending > c->s->opts.max_output) {
                        json_decref(msg);
                        vl_conn_close(c, LOG_NOTICE, "peer does not read its replies");
                        return -ENOBUFS;
                }
                r = mmp_varlink_out_append(c->out, msg);
                if (r < 0) {
                        json_decref(msg);
                        vl_conn_close(c, LOG_ERR, "cannot queue a reply");
                        return r;
                }
                if (pending == 0)
                        ev_io_start(c->s->loop, &c->wio);
                call->replied = true;
        }
        json_decref(msg);
        if (final)
                call_finish(call);
        return 0;
}

int vl_call_send_text(struct vl_call *call, const char *text, size_t len, bool end)
{
        struct vl_conn *c = call->conn;
        size_t pending = mmp_varlink_out_pending(c->out);
        int r;

        if (!call->oneway) {
                r = mmp_varlink_out_append_text(c->out, text, len, end);
                if (r < 0) {
                        vl_conn_close(c, LOG_ERR, "cannot queue a reply");
                        return r;
                }
                if (pending == 0 && mmp_varlink_out_pending(c->out) > 0)
                        ev_io_start(c->s->loop, &c->wio);
                call->replied = true;
        }
        if (end)
                call_finish(call);
        return 0;
}

int vl_reply(struct vl_call *c, json_t *params, bool final)
{
        if (!params)
                return vl_call_send(c, NULL, final);
        return vl_call_send(c, mmp_varlink_reply_new(params, !final), final);
}

int vl_reply_service_error(struct vl_call *c, const char *name, const char *key, const char *value)
{
        char full[80];
        json_t *params = key ? json_pack("{s:s}", key, value) : json_object();

        snprintf(full, sizeof(full), MMP_VARLINK_SERVICE ".%s", name);
        return vl_call_send(c, params ? mmp_varlink_error_new(full, params) : NULL, true);
}

/* Has this loop iteration dispatch time left? */
static bool budget_left(struct varlink_server *s)
{
        unsigned iter = ev_iteration(s->loop);

        if (iter != s->budget_iter) {
                s->budget_iter = iter;
                s->budget_spent = 0;
        }
        return s->budget_spent < VARLINK_ITERATION_BUDGET;
}

static double mono_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Out of budget: go on from the resume watcher, after timers had a turn. */
static void conn_park(struct vl_conn *c)
{
        struct varlink_server *s = c->s;

        if (c->parked)
                return;
        c->parked = true;
        vl_conn_ref(c);
        c->parked_next = NULL;
        if (s->parked_tail)
                s->parked_tail->parked_next = c;
        else
                s->parked = c;
        s->parked_tail = c;
        ev_idle_start(s->loop, &s->resume);
}

void vl_on_resume(struct ev_loop *loop, ev_idle *w, int revents)
{
        struct varlink_server *s = w->data;
        struct vl_conn *list = s->parked;

        s->parked = s->parked_tail = NULL;
        while (list) {
                struct vl_conn *c = list;

                list = c->parked_next;
                c->parked = false;
                if (!c->dead) {
                        conn_process(c);        /* may park it again */
                        conn_update(c);
                }
                vl_conn_unref(c);
        }
        if (!s->parked)
                ev_idle_stop(loop, &s->resume);
}

static void conn_process(struct vl_conn *c)
{
        struct varlink_server *s = c->s;

        c->dispatching = true;
        while (!c->dead && !c->call && mmp_varlink_out_pending(c->out) < s->opts.max_output) {
                const char *msg;
                size_t len;
                double t0;
                int r;

                /* nothing to do (a too long message is something to do) */
                if (!mmp_varlink_in_ready(c->in) && mmp_varlink_in_partial(c->in) <= c->max_message)
                        break;
                if (!budget_left(s)) {
                        conn_park(c);
                        break;
                }
                r = mmp_varlink_in_next(c->in, &msg, &len);
                if (r == 0)
                        break;
                if (r < 0) {
                        char why[80];

                        snprintf(why, sizeof(why), "message longer than %zu bytes", c->max_message);
                        vl_conn_close(c, LOG_NOTICE, why);
                        break;
                }
                c->in_full = false;
                c->last_activity = ev_now(s->loop);
                t0 = mono_now();
                vl_dispatch(c, msg, len);
                s->budget_spent += mono_now() - t0;
        }
        c->dispatching = false;
}
