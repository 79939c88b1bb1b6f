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
 *       CLIENTS threads, each on its own connection, call Check on the held
 *       volumes (round robin) every PERIOD_MS for SECONDS; one more
 *       connection calls List once a second.  Prints the latency of each.
 *       Check goes through libmmp (what a tool pays); List is timed from
 *       the call to the reply's last byte on a raw socket, without parsing
 *       it, so it measures mmpd and not the client's JSON decoder.
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

struct poller {
        pthread_t thread;
        const char *sock;
        char **devices;         /* shared, read-only */
        size_t ndevices;
        size_t first;           /* this thread's first device */
        uint64_t start_usec, end_usec, period_usec;
        uint64_t *lat;          /* usec, one per call */
        size_t nlat, cap;
        size_t failures, not_usable;
        size_t reply_bytes;     /* List only: the last reply's length */
        bool list;              /* this one calls List, not Check */
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

static void *poll_main(void *arg)
{
        struct poller *p = arg;
        struct mmp_client *c = NULL;
        uint64_t t = p->start_usec;
        size_t i = p->first;
        int fd = -1;

        if (!p->list && connect_or_complain(p->sock, &c) < 0) {
                p->failures++;
                return NULL;
        }
        for (;;) {
                uint64_t t0, t1;
                int r;

                sleep_until_usec(t);
                t0 = now_usec();
                if (t0 >= p->end_usec || p->nlat == p->cap)
                        break;
                if (p->list) {
                        ssize_t len = raw_list(p->sock, &fd);

                        t1 = now_usec();
                        r = len < 0 ? (int) len : 0;
                        if (len > 0)
                                p->reply_bytes = (size_t) len;
                } else {
                        struct mmp_check chk = MMP_CHECK_INIT;

                        r = mmp_check(c, p->devices[i++ % p->ndevices], &chk);
                        t1 = now_usec();
                        if (r >= 0 && !chk.may_use)
                                p->not_usable++;
                        mmp_check_clear(&chk);
                }
                if (r < 0)
                        p->failures++;
                else
                        p->lat[p->nlat++] = t1 - t0;
                /* a fixed schedule; a call that overran its slot is not made up for */
                t += p->period_usec;
                if (t < t1)
                        t = t1 + p->period_usec - (t1 - t) % p->period_usec;
        }
        mmp_client_free(c);
        if (fd >= 0)
                close(fd);
        return NULL;
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
        struct poller *ps;
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
        ps = calloc((size_t) nclients + 1, sizeof(*ps));
        if (!devices || !ps)
                return 1;
        for (i = 0; i < n; i++)
                if (mmp_volume_get_state(vols[i]) == MMP_VOLUME_HELD)
                        devices[nheld++] = strdup(mmp_volume_get_device(vols[i]));
        mmp_list_free(vols, n);
        if (nheld == 0) {
                fprintf(stderr, "bench-client: mmpd holds no volume to Check\n");
                return 1;
        }
        /* start together in a moment; spread the clients' phases over one period */
        start = now_usec() + 200000u;
        for (i = 0; i <= (size_t) nclients; i++) {
                struct poller *p = &ps[i];

                p->sock = sock;
                p->devices = devices;
                p->ndevices = nheld;
                p->first = i * 7919u;
                p->list = i == (size_t) nclients;
                p->period_usec = p->list ? 1000000u : (uint64_t) period_ms * 1000u;
                p->start_usec = start + (p->list ? p->period_usec / 2
                                                 : p->period_usec * i / (size_t) nclients);
                p->end_usec = start + (uint64_t) seconds * 1000000u;
                p->cap = (size_t) (seconds * 1000000 / (long) p->period_usec) + 2;
                p->lat = calloc(p->cap, sizeof(*p->lat));
                if (!p->lat)
                        return 1;
                r = pthread_create(&p->thread, NULL, poll_main, p);
                if (r != 0) {
                        fprintf(stderr, "bench-client: pthread_create: %s\n", strerror(r));
                        return 1;
                }
        }
        for (i = 0; i <= (size_t) nclients; i++)
                pthread_join(ps[i].thread, NULL);
        report("check", ps, (size_t) nclients);
        report("list", ps + nclients, 1);
        printf("list_reply_bytes %zu\n", ps[nclients].reply_bytes);
        for (i = 0; i <= (size_t) nclients; i++)
                free(ps[i].lat);
        for (i = 0; i < nheld; i++)
                free(devices[i]);
        free(devices);
        free(ps);
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
