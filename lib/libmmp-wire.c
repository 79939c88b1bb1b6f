/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmmp's socket: varlink messages (one JSON text each, followed by a NUL
 * byte; varlink.org, docs/protocol.md) over a unix stream socket.  The
 * framing is lib/mmp-varlink.c's, shared with mmpd's server; here are the
 * socket and the waits.  Every wait is bounded by a deadline and every
 * message by MMP_CLIENT_MAX_MESSAGE.
 *
 * The socket is non-blocking and waited on with poll(), so a peer that
 * stops reading or writing cannot hang a call past its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libmmp-internal.h"

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int wire_connect(const char *path, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(path);
        socklen_t salen;
        int fd, flags;

        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(sa.sun_path) + (path[0] == '@'))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@') {
                /* Abstract namespace: a leading NUL, no terminator counted. */
                sa.sun_path[0] = '\0';
                salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
        } else {
                salen = (socklen_t) sizeof(sa);
        }

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Connect blocking (a unix connect is immediate unless the backlog is
         * full), then switch to non-blocking for bounded reads and writes. */
        if (connect(fd, (struct sockaddr *) &sa, salen) < 0 ||
            (flags = fcntl(fd, F_GETFL)) < 0 ||
            fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

void wire_init(struct mmp_wire *w, int fd)
{
        *w = (struct mmp_wire) { .fd = fd };
}

void wire_close(struct mmp_wire *w)
{
        if (w->fd >= 0)
                close(w->fd);
        mmp_varlink_in_free(w->in);
        wire_init(w, -1);
}

/* Wait for @events until @deadline (0: none).  0, -ETIMEDOUT or -errno. */
static int wire_wait(int fd, short events, uint64_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int timeout_ms = -1, r;

                if (deadline) {
                        uint64_t now = now_usec();

                        if (now >= deadline)
                                return -ETIMEDOUT;
                        /* Round up so we never wake just before the deadline. */
                        uint64_t ms = (deadline - now + 999) / 1000;
                        timeout_ms = ms > INT32_MAX ? INT32_MAX : (int) ms;
                }
                r = poll(&p, 1, timeout_ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        continue;       /* the deadline check above decides */
                if (p.revents & POLLNVAL)
                        return -EBADF;
                /* POLLERR/POLLHUP: let the next send/recv report it. */
                return 0;
        }
}

int wire_send(struct mmp_wire *w, const char *data, size_t len, uint64_t timeout_usec)
{
        uint64_t deadline = timeout_usec ? now_usec() + timeout_usec : 0;
        size_t done = 0;

        if (w->fd < 0)
                return -ENOTCONN;
        while (done < len) {
                ssize_t k = send(w->fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k < 0) {
                        int r;

                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return errno == EPIPE ? -ECONNRESET : -errno;
                        r = wire_wait(w->fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                done += (size_t) k;
        }
        return 0;
}

int wire_recv(struct mmp_wire *w, uint64_t timeout_usec, const char **ret, size_t *ret_len)
{
        uint64_t deadline = timeout_usec ? now_usec() + timeout_usec : 0;
        int r;

        if (w->fd < 0)
                return -ENOTCONN;
        if (!w->in) {
                r = mmp_varlink_in_new(MMP_CLIENT_MAX_MESSAGE, &w->in);
                if (r < 0)
                        return r;
        }
        for (;;) {
                void *p;
                size_t room;
                ssize_t k;

                r = mmp_varlink_in_next(w->in, ret, ret_len);
                if (r > 0)
                        return 0;
                if (r < 0)
                        return r;       /* -EMSGSIZE */
                r = mmp_varlink_in_space(w->in, &p, &room);
                if (r < 0)
                        return r == -ENOBUFS ? -EMSGSIZE : r;
                k = recv(w->fd, p, room, MSG_DONTWAIT);
                if (k > 0) {
                        mmp_varlink_in_advance(w->in, (size_t) k);
                        continue;
                }
                if (k == 0)
                        /* End of file, between messages or in the middle of one. */
                        return -ECONNRESET;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = wire_wait(w->fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
}
