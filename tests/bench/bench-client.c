/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-client: the client side of `make bench` (tests/bench/hold.sh), on
 * the public libmmp API.
 *
 *   bench-client state SOCKET
 *       List once; print how many volumes are in each state and the
 *       heartbeat statistics summed over all volumes (Volume.stats, see
 *       mmpd/io.mmpd.varlink), or "stats 0" when mmpd sends none.
 *
 *   bench-client daemon SOCKET
 *       Daemon(): the statistics mmpd sums over all volumes, in the same
 *       format (no states): cheap enough to bracket a measuring window.
 *
 *   bench-client state-file FILE
 *       The same for a file holding List's reply ({"volumes": [...]}).
 *
 *   bench-client poll SOCKET CLIENTS SECONDS PERIOD_MS
 *       CLIENTS connections call Check on the held volumes (round robin)
 *       every PERIOD_MS for SECONDS; one more connection calls List once a
 *       second.  Prints the latency of each.  The Check connections are
 *       driven by one thread with epoll, each call timed from its send to
 *       its reply's last byte, and the reply checked for may_use: with a
 *       thread per connection the client's own 200 threads competed with
 *       mmpd for a small machine's CPUs, and each call's time included its
 *       thread's wakeup (on a 1-volume mmpd: p50 134 us that way, 67 us
 *       this way).  List runs on a thread of its own and is timed the same
 *       way, without parsing the reply, so both measure mmpd and not the
 *       client's JSON decoder.
 *
 * Output is "key value..." lines for the shell to pick up; exit status 1 on
 * a usage or connection error.  Latencies are wall time around the call on
 * CLOCK_MONOTONIC, including the client's own JSON work.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libmmp.h"

#define MAX_BUCKETS 64

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void sleep_until_usec(uint64_t t)
{
        struct timespec ts = { .tv_sec = (time_t) (t / 1000000u),
                               .tv_nsec = (long) (t % 1000000u) * 1000 };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n sorted samples, nearest rank. */
static uint64_t quantile(const uint64_t *s, size_t n, double q)
{
        size_t i;

        if (n == 0)
                return 0;
        i = (size_t) (q * (double) n + 0.999999);
        if (i == 0)
                i = 1;
        return s[(i > n ? n : i) - 1];
}

static int connect_or_complain(const char *sock, struct mmp_client **ret)
{
        int r = mmp_client_connect(sock, ret);

        if (r < 0) {
                fprintf(stderr, "bench-client: cannot reach mmpd at %s: %s\n", sock, strerror(-r));
                return r;
        }
        mmp_client_set_timeout(*ret, 10u * 1000000u);
        return 0;
}

/* ------------------------------------------------------------------------
 * state
 */

struct hist {
        const char *key;        /* the Stats field */
        size_t n;
        uint64_t c[MAX_BUCKETS];
};

struct stats_sum {
        size_t volumes;         /* volumes that sent stats */
        size_t nbounds;
        uint64_t bounds[MAX_BUCKETS];
        struct hist h[3];
        uint64_t beats, io_count, landed_max, submit_max, io_max;
};

static uint64_t get_u64(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t) json_integer_value(v) : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

/* Add one volume's Stats object.  -EBADMSG when it does not fit the contract. */
static int stats_add(struct stats_sum *s, json_t *st)
{
        json_t *bounds = json_object_get(st, "bounds_usec");
        size_t i, k;

        if (!json_is_array(bounds) || json_array_size(bounds) + 1 > MAX_BUCKETS)
                return -EBADMSG;
        if (s->volumes == 0) {
                s->nbounds = json_array_size(bounds);
                for (i = 0; i < s->nbounds; i++)
                        s->bounds[i] = (uint64_t) json_integer_value(json_array_get(bounds, i));
        } else if (json_array_size(bounds) != s->nbounds) {
                return -EBADMSG;
        }
        for (k = 0; k < 3; k++) {
                json_t *a = json_object_get(st, s->h[k].key);

                if (!json_is_array(a) || json_array_size(a) != s->nbounds + 1)
                        return -EBADMSG;
                s->h[k].n = s->nbounds + 1;
                for (i = 0; i < s->h[k].n; i++)
                        s->h[k].c[i] += (uint64_t) json_integer_value(json_array_get(a, i));
        }
        s->beats += get_u64(st, "beats");
        s->io_count += get_u64(st, "io_count");
        s->landed_max = max_u64(s->landed_max, get_u64(st, "landed_late_max_usec"));
        s->submit_max = max_u64(s->submit_max, get_u64(st, "submit_late_max_usec"));
        s->io_max = max_u64(s->io_max, get_u64(st, "io_max_usec"));
        s->volumes++;
        return 0;
}

static void print_u64s(const char *key, const uint64_t *v, size_t n)
{
        size_t i;

        printf("%s", key);
        for (i = 0; i < n; i++)
                printf(" %" PRIu64, v[i]);
        printf("\n");
}

static const char *const states[] = { "idle", "claiming", "held", "releasing", "released",
                                      "refused", "lost", "in_use" };
#define NSTATES (sizeof(states) / sizeof(states[0]))

struct tally {
        size_t volumes, count[NSTATES], other;
        int malformed;
        struct stats_sum s;
};

/* Count one volume (an io.mmpd Volume object). */
static void tally_volume(struct tally *t, json_t *vol)
{
        const char *name = json_string_value(json_object_get(vol, "state"));
        json_t *st = json_object_get(vol, "stats");
        size_t k;

        t->volumes++;
        for (k = 0; name && k < NSTATES; k++)
                if (strcmp(name, states[k]) == 0)
                        break;
        if (name && k < NSTATES)
                t->count[k]++;
        else
                t->other++;
        if (st && !json_is_null(st) && (!json_is_object(st) || stats_add(&t->s, st) < 0))
                t->malformed++;
}

static void print_stats(const struct stats_sum *s)
{
        size_t k;

        printf("beats %" PRIu64 "\nio_count %" PRIu64 "\n", s->beats, s->io_count);
        printf("landed_late_max_usec %" PRIu64 "\nsubmit_late_max_usec %" PRIu64
               "\nio_max_usec %" PRIu64 "\n", s->landed_max, s->submit_max, s->io_max);
        print_u64s("bounds_usec", s->bounds, s->nbounds);
        for (k = 0; k < 3; k++)
                print_u64s(s->h[k].key, s->h[k].c, s->h[k].n);
}

static int tally_print(const struct tally *t)
{
        size_t k;

        printf("volumes %zu\n", t->volumes);
        for (k = 0; k < NSTATES; k++)
                printf("state %s %zu\n", states[k], t->count[k]);
        printf("state other %zu\n", t->other);
        printf("stats %zu\n", t->s.volumes);
        if (t->malformed)
                printf("stats_malformed %d\n", t->malformed);
        if (t->s.volumes > 0)
                print_stats(&t->s);
        return t->malformed ? 1 : 0;
}

#define TALLY_INIT { .s = { .h = { { .key = "landed_late" }, { .key = "submit_late" }, { .key = "io" } } } }

static int cmd_state(const char *sock)
{
        struct tally t = TALLY_INIT;
        struct mmp_client *c = NULL;
        struct mmp_volume **vols = NULL;
        size_t n = 0, i;
        int r;

        if (connect_or_complain(sock, &c) < 0)
                return 1;
        r = mmp_list(c, &vols, &n);
        if (r < 0) {
                fprintf(stderr, "bench-client: List: %s\n", strerror(-r));
                mmp_client_free(c);
                return 1;
        }
        for (i = 0; i < n; i++) {
                json_t *obj = json_loads(mmp_volume_get_json(vols[i]), 0, NULL);

                if (obj)
                        tally_volume(&t, obj);
                else
                        t.malformed++;
                json_decref(obj);
        }
        mmp_list_free(vols, n);
        mmp_client_free(c);
        return tally_print(&t);
}

/* The same from a file holding List's reply parameters ({"volumes": [...]}),
 * for testing the arithmetic without a daemon (tests/bench/stats.sh). */
static int cmd_state_file(const char *path)
{
        struct tally t = TALLY_INIT;
        json_error_t err;
        json_t *root = json_load_file(path, 0, &err), *vols, *v;
        size_t i;
        int r;

        vols = json_object_get(root, "volumes");
        if (!json_is_array(vols)) {
                fprintf(stderr, "bench-client: %s: no volumes array (%s)\n", path, err.text);
                json_decref(root);
                return 1;
        }
        json_array_foreach(vols, i, v)
                tally_volume(&t, v);
        r = tally_print(&t);
        json_decref(root);
        return r;
}

/* ------------------------------------------------------------------------
 * poll
 */

/* The Check connections (all on the main thread) or the List thread. */
struct poller {
        pthread_t thread;
        const char *sock;
        char **devices;         /* Check: the held volumes */
        size_t ndevices;
        uint64_t start_usec, end_usec, period_usec;
        uint64_t *lat;          /* usec, one per call */
        size_t nlat, cap;
        size_t failures, not_usable;
        size_t reply_bytes;     /* List only: the last reply's length */
};

/* One call on a raw varlink connection (*fd, connected on first use): send
 * @call, read to the reply's NUL.  With @ret_reply, the reply is kept
 * (malloc'd, NUL-terminated).  Returns the reply's length, or a negative
 * errno (the socket is then closed). */
static ssize_t raw_call(const char *sock, int *fd, const char *call, char **ret_reply)
{
        static char buf[1 << 16];
        char *reply = NULL, *p;
        ssize_t total = 0, k;

        if (*fd < 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };

                if (strlen(sock) >= sizeof(sa.sun_path))
                        return -ENAMETOOLONG;
                strcpy(sa.sun_path, sock);
                *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (*fd < 0)
                        return -errno;
                if (connect(*fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        goto fail;
        }
        if (send(*fd, call, strlen(call) + 1, MSG_NOSIGNAL) != (ssize_t) strlen(call) + 1)
                goto fail;
        for (;;) {
                k = read(*fd, buf, sizeof(buf));
                if (k == 0)
                        errno = ECONNRESET;
                if (k <= 0)
                        goto fail;
                if (total == 0 && strncmp(buf, "{\"error\"", (size_t) k < 8 ? (size_t) k : 8) == 0) {
                        errno = EPROTO;
                        goto fail;
                }
                if (ret_reply) {
                        p = realloc(reply, (size_t) (total + k + 1));
                        if (!p) {
                                errno = ENOMEM;
                                goto fail;
                        }
                        reply = p;
                        memcpy(reply + total, buf, (size_t) k);
                        reply[total + k] = 0;
                }
                total += k;
                if (memchr(buf, 0, (size_t) k)) {
                        if (ret_reply)
                                *ret_reply = reply;
                        return total;
                }
        }
fail:
        k = -errno;
        free(reply);
        close(*fd);
        *fd = -1;
        return k;
}

static ssize_t raw_list(const char *sock, int *fd)
{
        return raw_call(sock, fd, "{\"method\":\"io.mmpd.List\"}", NULL);
}

/* Daemon(): the statistics summed over all volumes, without List's cost
 * (a List of 10,000 volumes holds mmpd's loop for a while itself). */
static int cmd_daemon(const char *sock)
{
        struct tally t = TALLY_INIT;
        char *reply = NULL;
        json_t *root, *params, *st;
        ssize_t r;
        int fd = -1;

        r = raw_call(sock, &fd, "{\"method\":\"io.mmpd.Daemon\"}", &reply);
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                fprintf(stderr, "bench-client: Daemon: %s\n", strerror((int) -r));
                return 1;
        }
        root = json_loads(reply, 0, NULL);
        free(reply);
        params = json_object_get(root, "parameters");
        st = json_object_get(params, "stats");
        printf("volumes %" PRIu64 "\n", get_u64(params, "volumes"));
        if (json_is_object(st) && stats_add(&t.s, st) < 0)
                t.malformed++;
        printf("stats %zu\n", t.s.volumes);
        json_decref(root);
        if (t.malformed) {
                printf("stats_malformed 1\n");
                return 1;
        }
        if (t.s.volumes > 0)
                print_stats(&t.s);
        return 0;
}

/* The List poller: once a period on a raw connection, timed to the
 * reply's last byte. */
static void *poll_main(void *arg)
{
        struct poller *p = arg;
        uint64_t t = p->start_usec;
        int fd = -1;

        for (;;) {
                uint64_t t0, t1;
                ssize_t len;

                sleep_until_usec(t);
                t0 = now_usec();
                if (t0 >= p->end_usec || p->nlat == p->cap)
                        break;
                len = raw_list(p->sock, &fd);
                t1 = now_usec();
                if (len < 0)
                        p->failures++;
                else {
                        p->reply_bytes = (size_t) len;
                        p->lat[p->nlat++] = t1 - t0;
                }
                /* a fixed schedule; a call that overran its slot is not made up for */
                t += p->period_usec;
                if (t < t1)
                        t = t1 + p->period_usec - (t1 - t) % p->period_usec;
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

/* One Check connection of the evented poller. */
struct conn {
        int fd;
        size_t next;            /* the next device, round robin */
        uint64_t due, t0;
        bool busy;              /* a call is out, its reply not yet complete */
        size_t got;
        char reply[4096];
};

static int set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static void conn_send(struct poller *p, struct conn *c, uint64_t now)
{
        char call[1024];
        int len = snprintf(call, sizeof(call),
                           "{\"method\":\"io.mmpd.Check\",\"parameters\":{\"device\":\"%s\"}}",
                           p->devices[c->next++ % p->ndevices]);

        if (len < 0 || (size_t) len >= sizeof(call) ||
            send(c->fd, call, (size_t) len + 1, MSG_NOSIGNAL) != len + 1) {
                p->failures++;          /* a unix socket with room: never partial */
                return;
        }
        c->t0 = now;
        c->busy = true;
        c->got = 0;
}

/* The reply is in c->reply up to its NUL: count it. */
static void conn_done(struct poller *p, struct conn *c, uint64_t now)
{
        c->busy = false;
        if (strncmp(c->reply, "{\"error\"", 8) == 0 || !strstr(c->reply, "\"may_use\":")) {
                p->failures++;
                return;
        }
        if (!strstr(c->reply, "\"may_use\":true"))
                p->not_usable++;
        if (p->nlat < p->cap)
                p->lat[p->nlat++] = now - c->t0;
}

/*
 * All of @nclients Check connections on this thread: each calls every
 * period_usec from its own phase, a call that overran its slot is not made
 * up for.  Results go into @p as the threaded pollers' do.
 */
static int poll_checks(struct poller *p, long nclients)
{
        struct conn *cs = calloc((size_t) nclients, sizeof(*cs));
        struct epoll_event evs[64];
        int ep = epoll_create1(EPOLL_CLOEXEC);

        if (!cs || ep < 0)
                return -ENOMEM;
        if (strlen(p->sock) >= sizeof(((struct sockaddr_un *) 0)->sun_path))
                return -ENAMETOOLONG;
        for (long i = 0; i < nclients; i++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cs[i] };
                struct conn *c = &cs[i];

                c->next = (size_t) i * 7919u;
                c->due = p->start_usec + p->period_usec * (uint64_t) i / (uint64_t) nclients;
                strcpy(sa.sun_path, p->sock);
                c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
                    set_nonblock(c->fd) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
                        fprintf(stderr, "bench-client: connection %ld: %s\n", i, strerror(errno));
                        return -errno;
                }
        }
        for (;;) {
                uint64_t now = now_usec(), next = UINT64_MAX;
                struct timespec ts;
                int n;

                if (now >= p->end_usec)
                        break;
                for (long i = 0; i < nclients; i++) {
                        struct conn *c = &cs[i];

                        if (c->busy)
                                continue;
                        if (c->due <= now) {
                                conn_send(p, c, now);
                                c->due += p->period_usec;
                                if (c->due <= now)
                                        c->due = now + p->period_usec - (now - c->due) % p->period_usec;
                                continue;
                        }
                        if (c->due < next)
                                next = c->due;
                }
                if (next > p->end_usec)
                        next = p->end_usec;
                now = now_usec();
                ts.tv_sec = next > now ? (time_t) ((next - now) / 1000000u) : 0;
                ts.tv_nsec = next > now ? (long) ((next - now) % 1000000u) * 1000 : 0;
                n = epoll_pwait2(ep, evs, 64, &ts, NULL);
                if (n < 0 && errno != EINTR) {
                        fprintf(stderr, "bench-client: epoll_pwait2: %s\n", strerror(errno));
                        return -errno;
                }
                now = now_usec();
                for (int k = 0; k < n; k++) {
                        struct conn *c = evs[k].data.ptr;
                        ssize_t r;

                        for (;;) {
                                r = read(c->fd, c->reply + c->got, sizeof(c->reply) - 1 - c->got);
                                if (r <= 0)
                                        break;
                                c->got += (size_t) r;
                                c->reply[c->got] = 0;
                                if (memchr(c->reply + c->got - (size_t) r, 0, (size_t) r)) {
                                        if (c->busy)
                                                conn_done(p, c, now);
                                        break;
                                }
                                if (c->got == sizeof(c->reply) - 1) {
                                        fprintf(stderr, "bench-client: a Check reply over %zu bytes\n",
                                                sizeof(c->reply));
                                        return -EMSGSIZE;
                                }
                        }
                        if (r == 0 || (r < 0 && errno != EAGAIN)) {
                                fprintf(stderr, "bench-client: connection lost: %s\n",
                                        r == 0 ? "closed by mmpd" : strerror(errno));
                                return -ECONNRESET;
                        }
                }
        }
        for (long i = 0; i < nclients; i++)
                close(cs[i].fd);
        close(ep);
        free(cs);
        return 0;
}

static void report(const char *what, struct poller *ps, size_t np)
{
        size_t total = 0, failures = 0, not_usable = 0, i, k = 0;
        uint64_t *all;

        for (i = 0; i < np; i++) {
                total += ps[i].nlat;
                failures += ps[i].failures;
                not_usable += ps[i].not_usable;
        }
        all = calloc(total ? total : 1, sizeof(*all));
        if (!all) {
                fprintf(stderr, "bench-client: out of memory\n");
                exit(1);
        }
        for (i = 0; i < np; i++) {
                memcpy(all + k, ps[i].lat, ps[i].nlat * sizeof(*all));
                k += ps[i].nlat;
        }
        qsort(all, total, sizeof(*all), cmp_u64);
        printf("%s calls %zu failures %zu not_usable %zu p50_us %" PRIu64 " p99_us %" PRIu64
               " max_us %" PRIu64 "\n", what, total, failures, not_usable,
               quantile(all, total, 0.50), quantile(all, total, 0.99), total ? all[total - 1] : 0);
        free(all);
}

static int cmd_poll(const char *sock, long nclients, long seconds, long period_ms)
{
        struct mmp_client *c = NULL;
        struct mmp_volume **vols = NULL;
        struct poller chk = {}, list = {};
        char **devices;
        size_t n = 0, nheld = 0, i;
        uint64_t start;
        int r;

        if (nclients < 1 || nclients > 4000 || seconds < 1 || period_ms < 1) {
                fprintf(stderr, "bench-client poll: 1..4000 clients, seconds and period >= 1\n");
                return 2;
        }
        if (connect_or_complain(sock, &c) < 0)
                return 1;
        r = mmp_list(c, &vols, &n);
        mmp_client_free(c);
        if (r < 0) {
                fprintf(stderr, "bench-client: List: %s\n", strerror(-r));
                return 1;
        }
        devices = calloc(n ? n : 1, sizeof(*devices));
        if (!devices)
                return 1;
        for (i = 0; i < n; i++)
                if (mmp_volume_get_state(vols[i]) == MMP_VOLUME_HELD)
                        devices[nheld++] = strdup(mmp_volume_get_device(vols[i]));
        mmp_list_free(vols, n);
        if (nheld == 0) {
                fprintf(stderr, "bench-client: mmpd holds no volume to Check\n");
                return 1;
        }
        /* start together in a moment; the Check connections' phases spread
         * over one period, List half a second in */
        start = now_usec() + 200000u;
        chk.sock = list.sock = sock;
        chk.devices = devices;
        chk.ndevices = nheld;
        chk.period_usec = (uint64_t) period_ms * 1000u;
        list.period_usec = 1000000u;
        chk.start_usec = start;
        list.start_usec = start + list.period_usec / 2;
        chk.end_usec = list.end_usec = start + (uint64_t) seconds * 1000000u;
        chk.cap = ((size_t) (seconds * 1000000 / (long) chk.period_usec) + 2) * (size_t) nclients;
        list.cap = (size_t) seconds + 2;
        chk.lat = calloc(chk.cap, sizeof(*chk.lat));
        list.lat = calloc(list.cap, sizeof(*list.lat));
        if (!chk.lat || !list.lat)
                return 1;
        r = pthread_create(&list.thread, NULL, poll_main, &list);
        if (r != 0) {
                fprintf(stderr, "bench-client: pthread_create: %s\n", strerror(r));
                return 1;
        }
        r = poll_checks(&chk, nclients);
        pthread_join(list.thread, NULL);
        if (r < 0)
                return 1;
        report("check", &chk, 1);
        report("list", &list, 1);
        printf("list_reply_bytes %zu\n", list.reply_bytes);
        free(chk.lat);
        free(list.lat);
        for (i = 0; i < nheld; i++)
                free(devices[i]);
        free(devices);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "state") == 0)
                return cmd_state(argv[2]);
        if (argc == 3 && strcmp(argv[1], "daemon") == 0)
                return cmd_daemon(argv[2]);
        if (argc == 3 && strcmp(argv[1], "state-file") == 0)
                return cmd_state_file(argv[2]);
        if (argc == 6 && strcmp(argv[1], "poll") == 0)
                return cmd_poll(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10),
                                strtol(argv[5], NULL, 10));
        fprintf(stderr, "usage: bench-client state SOCKET | daemon SOCKET | state-file FILE\n"
                        "       bench-client poll SOCKET CLIENTS SECONDS PERIOD_MS\n");
        return 2;
}
