/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A canned-answer fake of mmpd's varlink service; see fake-server.h. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fake-server.h"

static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_request[4096];

void fake_last_request(char *buf, size_t size)
{
        pthread_mutex_lock(&last_lock);
        snprintf(buf, size, "%s", last_request);
        pthread_mutex_unlock(&last_lock);
}

int fake_listen(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char tmp[sizeof(sa.sun_path)];
        int fd;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
        unlink(tmp);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
            rename(tmp, path) < 0) {
                int r = -errno;

                close(fd);
                unlink(tmp);
                return r;
        }
        return fd;
}

/* ---------------------------------------------------------------------------
 * A naive reader of the few request fields we need: "key": "string" / true.
 */

static const char *find_value(const char *msg, const char *key)
{
        char pat[64];
        const char *p;

        snprintf(pat, sizeof(pat), "\"%s\"", key);
        p = strstr(msg, pat);
        if (!p)
                return NULL;
        p += strlen(pat);
        while (*p == ' ' || *p == ':')
                p++;
        return p;
}

static void get_string(const char *msg, const char *key, char *buf, size_t size)
{
        const char *p = find_value(msg, key);
        size_t n = 0;

        if (p && *p == '"')
                for (p++; *p && *p != '"' && n + 1 < size; p++)
                        buf[n++] = *p;
        buf[n] = '\0';
}

static bool get_true(const char *msg, const char *key)
{
        const char *p = find_value(msg, key);

        return p && strncmp(p, "true", 4) == 0;
}

static long long get_int(const char *msg, const char *key)
{
        const char *p = find_value(msg, key);

        return p ? strtoll(p, NULL, 10) : 0;
}

/* ---------------------------------------------------------------------------
 * Canned volumes
 */

struct cvol {
        const char *name, *device, *state, *phase;
        bool is_static;
        long long seq;                  /* < 0: null */
        const char *holder_node;        /* NULL: no holder */
        const char *holder_device;
        long long holder_seq;
        const char *error;
        int fence_in;                   /* held: fence deadline from now, seconds */
};

/* A volume's Use. */
struct cuse {
        const char *user, *phase;
        const char *mount;              /* NULL: none */
        long long pid;                  /* 0: none */
        bool keep;
};

static long long boottime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The volume as io.mmpd's Volume type, with @u (if not NULL); malloc'ed. */
static char *vol_json_use(const struct cvol *v, const struct cuse *u)
{
        long long now = boottime_usec();
        long long wall = (long long) time(NULL);
        bool held = strcmp(v->state, "held") == 0;
        char seq[32] = "null", holder[512] = "null", times[512] = "", error[256] = "null";
        char use[1024] = "", mount[300] = "", pid[32] = "";
        char *out;

        if (v->seq >= 0)
                snprintf(seq, sizeof(seq), "%lld", v->seq);
        if (v->holder_node)
                snprintf(holder, sizeof(holder),
                         "{\"node\":\"%s\",\"device\":\"%s\",\"seq\":%lld,\"seq_class\":\"active\","
                         "\"time_wall\":%lld,\"check_interval\":10}",
                         v->holder_node, v->holder_device, v->holder_seq, wall - 2);
        if (held)
                snprintf(times, sizeof(times),
                         "\"last_heartbeat_usec\":%lld,\"last_heartbeat_age_usec\":1500000,"
                         "\"fence_at_usec\":%lld,\"fence_at_wall\":%lld,"
                         "\"peer_write_at_usec\":%lld,\"peer_use_at_usec\":%lld,",
                         now - 1500000, now + v->fence_in * 1000000LL, wall + v->fence_in,
                         now + 19500000LL, now + 40500000LL);
        if (v->error)
                snprintf(error, sizeof(error), "\"%s\"", v->error);
        if (u && u->mount)
                snprintf(mount, sizeof(mount), "\"mount_point\":\"%s\",", u->mount);
        if (u && u->pid)
                snprintf(pid, sizeof(pid), "\"pid\":%lld,", u->pid);
        if (u)
                snprintf(use, sizeof(use),
                         "\"use\":{\"user\":\"%s\",\"mode\":\"fast\",\"phase\":\"%s\",%s%s"
                         "\"keep\":%s,\"since_usec\":%lld,\"last_change_usec\":%lld,"
                         "\"user_seq\":%s,\"user_node\":\"a\",\"user_device\":\"loop3\"},",
                         u->user, u->phase, mount, pid, u->keep ? "true" : "false",
                         now - 60000000LL, now - 59000000LL,
                         strcmp(u->phase, "handing_off") == 0 ? "null" : "77");
        if (asprintf(&out,
                     "{\"name\":\"%s\",\"device\":\"%s\",\"state\":\"%s\",\"phase\":\"%s\","
                     "\"static\":%s,\"seq\":%s,\"update_interval\":5,\"check_interval\":10,"
                     "\"wait_seconds\":21,%s\"failures\":0,\"holder\":%s,%s\"error\":%s}",
                     v->name, v->device, v->state, v->phase, v->is_static ? "true" : "false",
                     seq, times, holder, use, error) < 0)
                abort();
        return out;
}

static char *vol_json(const struct cvol *v)
{
        return vol_json_use(v, NULL);
}

static const struct cvol vol_data = {
        "data", "/dev/loop1", "held", "idle", true, 42, "a", "loop1", 42, NULL, 15,
};
static const struct cvol vol_logs = {
        "logs", "/dev/loop0", "refused", "none", false, -1, "b", "sdc", 1234,
        "in use by node b", 0,
};
static const struct cvol vol_srv = {
        "srv", "/dev/loop3", "in_use", "watching", false, 77, "a", "loop3", 77, NULL, 0,
};
static const struct cuse use_srv = { "kernel", "in_use", "/srv", 0, false };

/* ---------------------------------------------------------------------------
 * Replies
 */

static int send_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t k = send(fd, buf, len, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Send one message (and its NUL). */
static int replyf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int replyf(int fd, const char *fmt, ...)
{
        va_list ap;
        char *m;
        int r;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                abort();
        va_end(ap);
        r = send_all(fd, m, strlen(m) + 1);
        free(m);
        return r;
}

static int reply_error(int fd, const char *name, const char *params)
{
        return replyf(fd, "{\"error\":\"%s\",\"parameters\":%s}", name, params);
}

/* {"volume":V} or {"volume":V,"event":{"type":T,"volume":V}}, continues or not. */
static int reply_volume(int fd, const struct cvol *v, const char *event, bool continues)
{
        char *j = vol_json(v);
        int r;

        if (event)
                r = replyf(fd, "{\"parameters\":{\"volume\":%s,\"event\":{\"type\":\"%s\",\"volume\":%s}}%s}",
                           j, event, j, continues ? ",\"continues\":true" : "");
        else
                r = replyf(fd, "{\"parameters\":{\"volume\":%s}%s}", j,
                           continues ? ",\"continues\":true" : "");
        free(j);
        return r;
}

/* Answers shared by every method that takes a device.  Returns 1 when it
 * answered, 0 when the device is not one of these, -1 to end the connection. */
static int common_device(int fd, const char *dev)
{
        char p[1024];
        int r = 1;

        if (strcmp(dev, "/dev/fsck") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"node\":\"c\",\"hint\":\"if no e2fsprogs "
                         "tool runs on c: tune2fs -f -E clear_mmp %s\"}", dev, dev);
                r = reply_error(fd, "io.mmpd.FsckRunning", p);
        } else if (strcmp(dev, "/dev/notmmp") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"reason\":\"no mmp feature\"}", dev);
                r = reply_error(fd, "io.mmpd.NotMmpFilesystem", p);
        } else if (strcmp(dev, "/dev/corrupt") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"reason\":\"bad magic\"}", dev);
                r = reply_error(fd, "io.mmpd.CorruptMmpBlock", p);
        } else if (strcmp(dev, "/dev/ioerr") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"errno\":5,\"reason\":\"read failed\"}", dev);
                r = reply_error(fd, "io.mmpd.IoError", p);
        } else if (strcmp(dev, "/dev/denied") == 0) {
                r = reply_error(fd, "org.varlink.service.PermissionDenied", "{}");
        } else if (strcmp(dev, "/dev/full") == 0) {
                r = reply_error(fd, "io.mmpd.TooManyVolumes", "{\"limit\":64}");
        } else if (strcmp(dev, "/dev/failed") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"reason\":\"write failed\"}", dev);
                r = reply_error(fd, "io.mmpd.ClaimFailed", p);
        } else if (strcmp(dev, "/dev/none") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\"}", dev);
                r = reply_error(fd, "io.mmpd.NoSuchVolume", p);
        } else if (strcmp(dev, "/dev/slow") == 0) {
                r = 0;                  /* never answer */
        } else if (strcmp(dev, "/dev/hangup") == 0) {
                return -1;
        } else if (strcmp(dev, "/dev/huge") == 0) {
                static const size_t chunk = 1 << 20;
                char *x = malloc(chunk);

                memset(x, 'x', chunk);
                static const char head[] = "{\"parameters\":{\"pad\":\"";

                r = send_all(fd, head, strlen(head));
                /* 17 MiB and no end: the client must give up at 16 MiB. */
                for (int i = 0; i < 17 && r == 0; i++)
                        r = send_all(fd, x, chunk);
                free(x);
                return -1;
        } else if (strcmp(dev, "/dev/garbage") == 0) {
                r = replyf(fd, "this is not json");
        } else if (strcmp(dev, "/dev/notobj") == 0) {
                r = replyf(fd, "[1,2]");
        } else if (strcmp(dev, "/dev/badvol") == 0) {
                r = replyf(fd, "{\"parameters\":{\"may_use\":false,\"volume\":{\"name\":1}}}");
        } else {
                return 0;
        }
        return r < 0 ? -1 : 1;
}

static int do_claim(int fd, const char *dev, bool more)
{
        static const char *const phases[] = {
                "reading", "waiting-active", "writing-seq", "waiting-claim", "verifying",
        };
        struct cvol v = { "new", dev, "claiming", "reading", false, -1, NULL, NULL, 0, NULL, 0 };
        int r = 0;

        if (strcmp(dev, "/dev/loop2") == 0) {
                v.name = "new";
                for (size_t i = 0; more && i < sizeof(phases) / sizeof(phases[0]) && r == 0; i++) {
                        v.phase = phases[i];
                        r = reply_volume(fd, &v, "progress", true);
                }
                v.state = "held";
                v.phase = "idle";
                v.seq = 7;
                v.fence_in = 15;
                return r < 0 ? r : reply_volume(fd, &v, more ? "claimed" : NULL, false);
        }
        if (strcmp(dev, "/dev/loop0") == 0) {
                v = vol_logs;
                v.state = "claiming";
                v.phase = "reading";
                if (more)
                        r = reply_volume(fd, &v, "progress", true);
                v.phase = "waiting-active";
                if (more && r == 0)
                        r = reply_volume(fd, &v, "progress", true);
                return r < 0 ? r : reply_error(fd, "io.mmpd.VolumeInUse",
                                               "{\"device\":\"/dev/loop0\",\"node\":\"b\","
                                               "\"node_device\":\"sdc\",\"seq\":1234}");
        }
        if (strcmp(dev, "/dev/loop1") == 0 || strcmp(dev, "/dev/claiming") == 0) {
                char p[512];

                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"state\":\"%s\"}", dev,
                         strcmp(dev, "/dev/loop1") == 0 ? "held" : "claiming");
                return reply_error(fd, "io.mmpd.AlreadyClaimed", p);
        }
        if (strcmp(dev, "/dev/lost") == 0) {
                v.state = "lost";
                v.error = "heartbeat not verified";
                return reply_volume(fd, &v, NULL, false);
        }
        if (strcmp(dev, "/dev/refusedvol") == 0) {
                v = vol_logs;
                v.device = dev;
                return reply_volume(fd, &v, NULL, false);
        }
        return reply_error(fd, "io.mmpd.ClaimFailed",
                           "{\"device\":\"?\",\"reason\":\"the fake knows no such device\"}");
}

static int do_check(int fd, const char *dev)
{
        long long now = boottime_usec(), wall = (long long) time(NULL);
        struct cvol v;
        char *j;
        int r;

        if (strcmp(dev, "/dev/loop1") == 0 || strncmp(dev, "/dev/handoff-", 13) == 0) {
                v = vol_data;
                v.device = dev;
                j = vol_json(&v);
                r = replyf(fd, "{\"parameters\":{\"may_use\":true,\"volume\":%s,"
                           "\"guaranteed_until_usec\":%lld,\"guaranteed_until_wall\":%lld}}",
                           j, now + 15000000LL + 500000, wall + 15);
                free(j);
                return r;
        }
        if (strcmp(dev, "/dev/loop0") == 0)
                v = vol_logs;
        else if (strcmp(dev, "/dev/loop3") == 0) {
                j = vol_json_use(&vol_srv, &use_srv);
                r = replyf(fd, "{\"parameters\":{\"may_use\":false,\"volume\":%s}}", j);
                free(j);
                return r;
        }
        else if (strcmp(dev, "/dev/claiming") == 0)
                v = (struct cvol) { "new", dev, "claiming", "waiting-claim", false, 99, NULL, NULL, 0, NULL, 0 };
        else if (strcmp(dev, "/dev/expired") == 0)
                v = (struct cvol) { "old", dev, "held", "heartbeat-write", false, 5, "a", "x", 5, NULL, -3 };
        else
                return reply_error(fd, "io.mmpd.NoSuchVolume", "{\"device\":\"?\"}");
        j = vol_json(&v);
        r = replyf(fd, "{\"parameters\":{\"may_use\":false,\"volume\":%s}}", j);
        free(j);
        return r;
}

static int do_watch(int fd, const struct fake_options *opt)
{
        struct cvol n = { "new", "/dev/loop2", "claiming", "reading", false, -1, NULL, NULL, 0, NULL, 0 };
        char *a, *b, *c;
        int r;

        a = vol_json(&n);
        n.state = "held";
        n.phase = "idle";
        n.seq = 7;
        n.fence_in = 15;
        b = vol_json(&n);
        c = vol_json(&vol_data);
        r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"progress\",\"volume\":%s}},\"continues\":true}", a);
        if (r == 0)
                r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"claimed\",\"volume\":%s}},\"continues\":true}", b);
        if (r == 0)
                r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"slow_io\",\"volume\":%s,\"io_usec\":2500000}},\"continues\":true}", c);
        if (r == 0)
                r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"lost\",\"volume\":%s,"
                           "\"reason\":\"no heartbeat verified by the fence deadline\"}},\"continues\":true}", c);
        if (r == 0)
                r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"released\",\"volume\":%s}},\"continues\":true}", b);
        if (r == 0) {
                char *d = vol_json_use(&vol_srv, &use_srv);

                r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"in_use\",\"volume\":%s}},\"continues\":true}", d);
                free(d);
        }
        if (r == 0)
                r = replyf(fd, "{\"parameters\":{\"event\":{\"type\":\"teleported\",\"volume\":%s}},\"continues\":true}", b);
        if (r == 0 && opt->watch_end == FAKE_WATCH_FINAL)
                r = replyf(fd, "{\"parameters\":{}}");
        free(a);
        free(b);
        free(c);
        if (r < 0 || opt->watch_end == FAKE_WATCH_CLOSE)
                return -1;
        return 0;
}

/* Handoff: go (continues), then the volume in use; a user write is taken
 * for granted.  See fake-server.h for the other devices. */
static int do_handoff(int fd, const char *msg, const char *dev)
{
        char user[16], mount[256], p[512];
        struct cvol v = vol_data;
        struct cuse u;
        char *j;
        int r;

        if (strcmp(dev, "/dev/claiming") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"state\":\"claiming\"}", dev);
                return reply_error(fd, "io.mmpd.NotHeld", p);
        }
        if (strcmp(dev, "/dev/oldmmpd") == 0)
                return reply_error(fd, "org.varlink.service.MethodNotFound",
                                   "{\"method\":\"io.mmpd.Handoff\"}");
        if (strcmp(dev, "/dev/loop1") != 0 && strcmp(dev, "/dev/loop2") != 0 &&
            strcmp(dev, "/dev/handoff-failed") != 0 && strcmp(dev, "/dev/handoff-nogo") != 0 &&
            strcmp(dev, "/dev/handoff-ended") != 0)
                return reply_error(fd, "io.mmpd.NoSuchVolume", "{\"device\":\"?\"}");
        get_string(msg, "user", user, sizeof(user));
        get_string(msg, "mount_point", mount, sizeof(mount));
        v.device = dev;
        v.state = "in_use";
        v.phase = "handing-off";
        u = (struct cuse) { user, "handing_off", mount[0] ? mount : NULL, get_int(msg, "pid"),
                            get_true(msg, "keep") };
        j = vol_json_use(&v, &u);
        if (strcmp(dev, "/dev/handoff-nogo") == 0) {
                r = replyf(fd, "{\"parameters\":{\"volume\":%s,\"go\":false}}", j);
                free(j);
                return r;
        }
        r = replyf(fd, "{\"parameters\":{\"volume\":%s,\"go\":true},\"continues\":true}", j);
        free(j);
        if (r < 0)
                return r;
        if (strcmp(dev, "/dev/handoff-failed") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"reason\":\"no write from the "
                         "user within 30 s\"}", dev);
                return reply_error(fd, "io.mmpd.HandoffFailed", p);
        }
        v.phase = "watching";
        u.phase = "in_use";
        if (strcmp(dev, "/dev/handoff-ended") == 0) {
                v.state = "released";   /* the tool came and went */
                v.phase = "none";
                j = vol_json(&v);
        } else {
                j = vol_json_use(&v, &u);
        }
        r = replyf(fd, "{\"parameters\":{\"volume\":%s,\"go\":false}}", j);
        free(j);
        return r;
}

/* EndUse: released, or claiming again with keep. */
static int do_end_use(int fd, const char *msg, const char *dev)
{
        struct cvol v = vol_data;
        char p[512];

        if (strcmp(dev, "/dev/busy") == 0)
                return reply_error(fd, "io.mmpd.UseInProgress", "{\"device\":\"/dev/busy\","
                                   "\"user\":\"kernel\",\"node\":\"a\",\"seq\":77}");
        if (strcmp(dev, "/dev/claiming") == 0) {
                snprintf(p, sizeof(p), "{\"device\":\"%s\",\"state\":\"claiming\"}", dev);
                return reply_error(fd, "io.mmpd.NotHeld", p);
        }
        if (strcmp(dev, "/dev/loop1") != 0 && strcmp(dev, "/dev/loop2") != 0 &&
            strncmp(dev, "/dev/handoff-", 13) != 0)
                return reply_error(fd, "io.mmpd.NoSuchVolume", "{\"device\":\"?\"}");
        v.device = dev;
        /* After a failed handoff mmpd claims the volume again, keep or not. */
        if (get_true(msg, "keep") || strcmp(dev, "/dev/handoff-failed") == 0) {
                v.state = "claiming";
                v.phase = "reading";
        } else {
                v.state = "released";
                v.phase = "none";
        }
        return reply_volume(fd, &v, NULL, false);
}

static int do_inspect(int fd, const char *dev)
{
        if (strcmp(dev, "/dev/loop1") != 0)
                return reply_error(fd, "io.mmpd.NoSuchVolume", "{\"device\":\"?\"}");
        return replyf(fd, "{\"parameters\":{\"block\":{\"block_number\":9225,\"block_size\":4096,"
                      "\"update_interval\":5,\"check_interval\":10,\"seq\":42,\"seq_class\":\"active\","
                      "\"time_wall\":1700000000,\"node\":\"a\",\"device\":\"loop1\",\"magic\":5066064,"
                      "\"checksum\":305419896,\"checksum_valid\":true,\"metadata_csum\":true,"
                      "\"wait_seconds\":21}}}");
}

/* Answer one message.  Returns 0 to go on, -1 to close, 1 for test.Quit. */
static int dispatch(int fd, const char *msg, const struct fake_options *opt)
{
        char method[128], dev[256];
        bool more = get_true(msg, "more");
        int r;

        pthread_mutex_lock(&last_lock);
        snprintf(last_request, sizeof(last_request), "%s", msg);
        pthread_mutex_unlock(&last_lock);

        get_string(msg, "method", method, sizeof(method));
        get_string(msg, "device", dev, sizeof(dev));
        if (strcmp(method, "test.Quit") == 0)
                return 1;
        if (strcmp(method, "io.mmpd.List") == 0) {
                char *a = vol_json(&vol_data), *b = vol_json(&vol_logs), *c = vol_json_use(&vol_srv, &use_srv);

                r = replyf(fd, "{\"parameters\":{\"volumes\":[%s,%s,%s]}}", a, b, c);
                free(a);
                free(b);
                free(c);
                return r < 0 ? -1 : 0;
        }
        if (strcmp(method, "io.mmpd.Watch") == 0) {
                if (!more)
                        return reply_error(fd, "org.varlink.service.ExpectedMore", "{}") < 0 ? -1 : 0;
                return do_watch(fd, opt);
        }
        if (dev[0]) {
                r = common_device(fd, dev);
                if (r != 0)
                        return r < 0 ? -1 : 0;
        }
        if (strcmp(method, "io.mmpd.Claim") == 0)
                r = do_claim(fd, dev, more);
        else if (strcmp(method, "io.mmpd.Release") == 0) {
                if (strcmp(dev, "/dev/loop1") == 0) {
                        struct cvol v = vol_data;

                        v.state = "released";
                        v.phase = "none";
                        r = reply_volume(fd, &v, NULL, false);
                } else {
                        r = reply_error(fd, "io.mmpd.NoSuchVolume", "{\"device\":\"?\"}");
                }
        } else if (strcmp(method, "io.mmpd.Check") == 0)
                r = do_check(fd, dev);
        else if (strcmp(method, "io.mmpd.Handoff") == 0)
                r = do_handoff(fd, msg, dev);
        else if (strcmp(method, "io.mmpd.EndUse") == 0)
                r = do_end_use(fd, msg, dev);
        else if (strcmp(method, "io.mmpd.Inspect") == 0)
                r = do_inspect(fd, dev);
        else {
                char p[256];

                snprintf(p, sizeof(p), "{\"method\":\"%s\"}", method);
                r = reply_error(fd, "org.varlink.service.MethodNotFound", p);
        }
        return r < 0 ? -1 : 0;
}

int fake_serve(int fd, const struct fake_options *opt)
{
        size_t cap = 1 << 16, len = 0;
        char *buf = malloc(cap);
        int ret = 0;

        if (!buf)
                abort();
        for (;;) {
                char *nul = memchr(buf, '\0', len);
                ssize_t k;

                if (nul) {
                        int r = dispatch(fd, buf, opt);
                        size_t used = (size_t) (nul - buf) + 1;

                        memmove(buf, buf + used, len - used);
                        len -= used;
                        if (r != 0) {
                                ret = r > 0;
                                break;
                        }
                        continue;
                }
                if (len == cap)
                        break;          /* a request this big is not ours */
                k = recv(fd, buf + len, cap - len, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t) k;
        }
        free(buf);
        return ret;
}
