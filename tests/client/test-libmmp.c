/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmmp against a fake mmpd served by a thread of this program (see
 * fake-server.h for its canned answers).  Uses only the public header
 * <libmmp.h>, links only libmmp, and prints TAP.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmmp.h>

#include "fake-server.h"

/* ---------------------------------------------------------------------------
 * A small TAP producer
 */

static unsigned n_tests, n_failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
        va_list ap;

        n_tests++;
        if (!cond)
                n_failed++;
        printf("%sok %u - ", cond ? "" : "not ", n_tests);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

static void is_int(long long got, long long want, const char *what)
{
        ok(got == want, "%s", what);
        if (got != want)
                printf("# got %lld, want %lld\n", got, want);
}

static void is_str(const char *got, const char *want, const char *what)
{
        int same = got && want ? strcmp(got, want) == 0 : got == want;

        ok(same, "%s", what);
        if (!same)
                printf("# got '%s', want '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

static void has_str(const char *hay, const char *needle, const char *what)
{
        int found = hay && strstr(hay, needle);

        ok(found, "%s", what);
        if (!found)
                printf("# '%s' does not contain '%s'\n", hay ? hay : "(null)", needle);
}

/* ---------------------------------------------------------------------------
 * The fake server thread
 */

static char sock_path[108];
static struct fake_options fake_opt;
static int listen_fd = -1;

static void *server_thread(void *arg)
{
        for (;;) {
                int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                int quit;

                if (c < 0)
                        continue;
                quit = fake_serve(c, &fake_opt);
                close(c);
                if (quit)
                        return NULL;
        }
}

static void server_quit(pthread_t t)
{
        static const char quit[] = "{\"method\":\"test.Quit\"}";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            send(fd, quit, sizeof(quit), MSG_NOSIGNAL) != (ssize_t) sizeof(quit))
                abort();
        pthread_join(t, NULL);
        close(fd);
        close(listen_fd);
}

static const char *last_request(void)
{
        static char buf[4096];

        fake_last_request(buf, sizeof(buf));
        return buf;
}

static const char *err_name(struct mmp_client *c)
{
        const struct mmp_error *e = mmp_client_last_error(c);

        return e ? mmp_error_get_name(e) : "(no error)";
}

static const char *err_msg(struct mmp_client *c)
{
        const struct mmp_error *e = mmp_client_last_error(c);

        return e ? mmp_error_get_message(e) : "(no error)";
}

/* ---------------------------------------------------------------------------
 * Tests
 */

static void test_connect(void)
{
        char longpath[300];
        struct mmp_client *c = NULL;
        int r;

        unsetenv("MMPD_SOCKET");
        is_str(mmp_default_socket_path(), "/run/mmpd/io.mmpd", "default socket without $MMPD_SOCKET");
        setenv("MMPD_SOCKET", "", 1);
        is_str(mmp_default_socket_path(), "/run/mmpd/io.mmpd", "an empty $MMPD_SOCKET is ignored");
        setenv("MMPD_SOCKET", sock_path, 1);
        is_str(mmp_default_socket_path(), sock_path, "$MMPD_SOCKET is the default");

        r = mmp_client_connect(NULL, &c);
        is_int(r, 0, "connect(NULL) uses $MMPD_SOCKET");
        if (c)
                is_str(mmp_client_get_socket_path(c), sock_path, "get_socket_path");
        c = mmp_client_free(c);
        ok(c == NULL, "mmp_client_free returns NULL");
        unsetenv("MMPD_SOCKET");

        r = mmp_client_connect("/nonexistent/io.mmpd", &c);
        is_int(r, -ENOENT, "no socket: -ENOENT");
        ok(c == NULL, "*ret untouched on failure");
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        is_int(mmp_client_connect(longpath, &c), -ENAMETOOLONG, "path too long: -ENAMETOOLONG");
        is_int(mmp_client_connect("", &c), -EINVAL, "empty path: -EINVAL");
        is_int(mmp_client_connect("@mmpd-test-nobody-listens-here", &c), -ECONNREFUSED,
               "abstract socket nobody listens on: -ECONNREFUSED");

        snprintf(longpath, sizeof(longpath), "unix:%s;mode=0600", sock_path);
        r = mmp_client_connect(longpath, &c);
        is_int(r, 0, "connect to a varlink address unix:PATH;mode=...");
        if (c)
                is_str(mmp_client_get_socket_path(c), sock_path, "address parameters stripped");
        mmp_client_free(c);
}

static void test_list(struct mmp_client *c)
{
        struct mmp_volume **vols = NULL;
        const struct mmp_holder *h;
        size_t n = 0;
        uint32_t u32;
        uint64_t u64;
        int64_t i64;

        is_int(mmp_list(c, &vols, &n), 0, "List");
        is_str(last_request(), "{\"method\":\"io.mmpd.List\",\"parameters\":{}}", "List request on the wire");
        ok(mmp_client_last_error(c) == NULL, "no last error after a success");
        is_int((long long) n, 3, "three volumes");
        if (n != 3)
                return;
        is_str(mmp_volume_get_name(vols[0]), "data", "name");
        is_str(mmp_volume_get_device(vols[0]), "/dev/loop1", "device");
        is_int(mmp_volume_get_state(vols[0]), MMP_VOLUME_HELD, "state held");
        is_str(mmp_volume_get_state_name(vols[0]), "held", "state name");
        is_str(mmp_volume_get_phase(vols[0]), "idle", "phase");
        ok(mmp_volume_is_static(vols[0]), "static");
        ok(mmp_volume_get_seq(vols[0], &u32) == 0 && u32 == 42, "seq 42");
        ok(mmp_volume_get_update_interval(vols[0], &u32) == 0 && u32 == 5, "update_interval");
        ok(mmp_volume_get_check_interval(vols[0], &u32) == 0 && u32 == 10, "check_interval");
        ok(mmp_volume_get_wait_seconds(vols[0], &u32) == 0 && u32 == 21, "wait_seconds");
        ok(mmp_volume_get_last_heartbeat_age_usec(vols[0], &u64) == 0 && u64 == 1500000,
           "last_heartbeat_age_usec");
        ok(mmp_volume_get_last_heartbeat_usec(vols[0], &u64) == 0, "last_heartbeat_usec");
        ok(mmp_volume_get_fence_at_usec(vols[0], &u64) == 0, "fence_at_usec");
        ok(mmp_volume_get_fence_at_wall(vols[0], &i64) == 0 && i64 > 1700000000, "fence_at_wall");
        ok(mmp_volume_get_peer_write_at_usec(vols[0], &u64) == 0, "peer_write_at_usec");
        ok(mmp_volume_get_peer_use_at_usec(vols[0], &u64) == 0, "peer_use_at_usec");
        is_int(mmp_volume_get_failures(vols[0]), 0, "failures");
        ok(mmp_volume_get_error(vols[0]) == NULL, "error null -> NULL");
        has_str(mmp_volume_get_json(vols[0]), "{\"name\":\"data\",\"device\":\"/dev/loop1\"",
                "volume JSON, in mmpd's order");

        is_int(mmp_volume_get_state(vols[1]), MMP_VOLUME_REFUSED, "second volume refused");
        ok(!mmp_volume_is_static(vols[1]), "not static");
        is_int(mmp_volume_get_seq(vols[1], &u32), -ENODATA, "seq null -> -ENODATA");
        is_int(mmp_volume_get_fence_at_usec(vols[1], &u64), -ENODATA, "absent -> -ENODATA");
        is_str(mmp_volume_get_error(vols[1]), "in use by node b", "volume error text");
        h = mmp_volume_get_holder(vols[1]);
        ok(h != NULL, "holder");
        if (h) {
                is_str(mmp_holder_get_node(h), "b", "holder node");
                is_str(mmp_holder_get_device(h), "sdc", "holder device");
                is_int(mmp_holder_get_seq(h), 1234, "holder seq");
                is_int(mmp_holder_get_seq_kind(h), MMP_SEQ_KIND_ACTIVE, "holder seq kind");
                is_int(mmp_holder_get_check_interval(h), 10, "holder check_interval");
                ok(mmp_holder_get_time_wall(h) > 1700000000, "holder time_wall");
        }

        /* LIBMMP_2: a volume in use, and none. */
        ok(!mmp_volume_in_use(vols[0]), "a held volume has no use");
        ok(!mmp_volume_get_use_user(vols[0]) && !mmp_volume_get_use_phase(vols[0]) &&
           !mmp_volume_get_use_mode(vols[0]) && !mmp_volume_get_use_mount_point(vols[0]) &&
           !mmp_volume_get_use_user_node(vols[0]) && !mmp_volume_get_use_user_device(vols[0]) &&
           !mmp_volume_get_use_keep(vols[0]), "  and its use strings are NULL");
        pid_t pid;
        ok(mmp_volume_get_use_pid(vols[0], &pid) == -ENODATA &&
           mmp_volume_get_use_since_usec(vols[0], &u64) == -ENODATA &&
           mmp_volume_get_use_user_seq(vols[0], &u32) == -ENODATA, "  and its use numbers -ENODATA");
        is_int(mmp_volume_get_state(vols[2]), MMP_VOLUME_IN_USE, "state in_use");
        is_str(mmp_volume_get_state_name(vols[2]), "in_use", "  its name");
        ok(mmp_volume_in_use(vols[2]), "mmp_volume_in_use");
        is_str(mmp_volume_get_use_user(vols[2]), "kernel", "use user");
        is_str(mmp_volume_get_use_mode(vols[2]), "fast", "use mode");
        is_str(mmp_volume_get_use_phase(vols[2]), "in_use", "use phase");
        is_str(mmp_volume_get_use_mount_point(vols[2]), "/srv", "use mount_point");
        is_int(mmp_volume_get_use_pid(vols[2], &pid), -ENODATA, "a kernel use has no pid");
        ok(!mmp_volume_get_use_keep(vols[2]), "use keep false");
        ok(mmp_volume_get_use_since_usec(vols[2], &u64) == 0 && u64 > 0, "use since_usec");
        ok(mmp_volume_get_use_last_change_usec(vols[2], &u64) == 0 && u64 > 0, "use last_change_usec");
        ok(mmp_volume_get_use_user_seq(vols[2], &u32) == 0 && u32 == 77, "use user_seq");
        is_str(mmp_volume_get_use_user_node(vols[2]), "a", "use user_node");
        is_str(mmp_volume_get_use_user_device(vols[2]), "loop3", "use user_device");

        /* A reference outlives the list. */
        struct mmp_volume *keep = mmp_volume_ref(vols[1]);
        mmp_list_free(vols, n);
        is_str(mmp_volume_get_name(keep), "logs", "a ref'd volume outlives mmp_list_free");
        ok(mmp_volume_unref(keep) == NULL, "unref returns NULL");
        mmp_list_free(NULL, 0);
        ok(mmp_volume_unref(NULL) == NULL, "unref(NULL)");
}

struct progress {
        unsigned n;
        char phases[512];
        char types[256];
        int stop_at;           /* return 42 at this event (1-based), 0: never */
};

static int on_progress(struct mmp_client *c, const struct mmp_volume_event *ev, void *userdata)
{
        struct progress *p = userdata;
        struct mmp_volume *v = mmp_volume_event_get_volume(ev);

        p->n++;
        strncat(p->types, mmp_volume_event_get_type_name(ev), sizeof(p->types) - strlen(p->types) - 2);
        strcat(p->types, " ");
        strncat(p->phases, mmp_volume_get_phase(v), sizeof(p->phases) - strlen(p->phases) - 2);
        strcat(p->phases, " ");
        return p->stop_at && (int) p->n == p->stop_at ? 42 : 0;
}

static void test_claim(struct mmp_client *c)
{
        struct progress p = {};
        struct mmp_volume *v = NULL;
        const struct mmp_error *e;
        uint32_t seq;
        int r;

        r = mmp_claim(c, "/dev/loop2", "new", on_progress, &p, &v);
        is_int(r, 0, "streamed Claim succeeds");
        has_str(last_request(), "\"more\":true", "Claim with a callback asks for more");
        has_str(last_request(), "\"parameters\":{\"device\":\"/dev/loop2\",\"name\":\"new\"}",
                "Claim parameters");
        is_int(p.n, 6, "five progress events and the final claimed one");
        is_str(p.types, "progress progress progress progress progress claimed ", "event types");
        is_str(p.phases, "reading waiting-active writing-seq waiting-claim verifying idle ",
               "phases in order");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_HELD, "claimed volume is held");
        ok(v && mmp_volume_get_seq(v, &seq) == 0 && seq == 7, "claimed volume's seq");
        mmp_volume_unref(v);

        v = NULL;
        r = mmp_claim(c, "/dev/loop2", NULL, NULL, NULL, &v);
        is_int(r, 0, "Claim without progress");
        ok(!strstr(last_request(), "more") && !strstr(last_request(), "name"),
           "no more, no name on the wire");
        mmp_volume_unref(v);
        is_int(mmp_claim(c, "/dev/loop2", NULL, NULL, NULL, NULL), 0, "Claim with ret NULL");

        /* Refused after waiting: progress, then VolumeInUse. */
        memset(&p, 0, sizeof(p));
        v = NULL;
        r = mmp_claim(c, "/dev/loop0", NULL, on_progress, &p, &v);
        is_int(r, -EBUSY, "VolumeInUse -> -EBUSY");
        ok(v == NULL, "*ret untouched on refusal");
        is_int(p.n, 2, "progress events before the refusal");
        e = mmp_client_last_error(c);
        ok(e != NULL, "last error set");
        if (e) {
                is_str(mmp_error_get_name(e), "io.mmpd.VolumeInUse", "error name");
                is_int(mmp_error_get_errno(e), -EBUSY, "error errno");
                is_str(mmp_error_get_message(e), "/dev/loop0 is in use by node 'b' (device sdc, seq 1234)",
                       "error message");
                is_str(mmp_error_get_device(e), "/dev/loop0", "error device");
                is_str(mmp_error_get_holder_node(e), "b", "holder node");
                is_str(mmp_error_get_holder_device(e), "sdc", "holder device");
                ok(mmp_error_get_holder_seq(e, &seq) == 0 && seq == 1234, "holder seq");
                has_str(mmp_error_get_parameters_json(e), "\"node_device\":\"sdc\"", "parameters JSON");
        }

        /* A final reply that is not "held". */
        is_int(mmp_claim(c, "/dev/lost", NULL, NULL, NULL, NULL), -EPROTO, "claim ending lost: -EPROTO");
        has_str(err_msg(c), "ended in state lost: heartbeat not verified", "its message");
        is_int(mmp_claim(c, "/dev/refusedvol", NULL, NULL, NULL, NULL), -EBUSY,
               "claim ending refused: -EBUSY");
        e = mmp_client_last_error(c);
        ok(e && mmp_error_get_holder_node(e) && strcmp(mmp_error_get_holder_node(e), "b") == 0,
           "holder taken from the refused volume");
        ok(e && mmp_error_get_name(e) == NULL, "no varlink name for it");

        /* The callback stops waiting: its value comes back, the next call reconnects. */
        memset(&p, 0, sizeof(p));
        p.stop_at = 2;
        is_int(mmp_claim(c, "/dev/loop2", NULL, on_progress, &p, NULL), 42,
               "callback's nonzero value stops the claim");
        is_int(p.n, 2, "no event after the stop");
        struct mmp_volume **vols;
        size_t n;
        is_int(mmp_list(c, &vols, &n), 0, "next call works on a fresh connection");
        if (n)
                mmp_list_free(vols, n);

        is_int(mmp_claim(c, NULL, NULL, NULL, NULL, NULL), -EINVAL, "Claim(NULL): -EINVAL");
}

static void test_errno_map(struct mmp_client *c)
{
        static const struct {
                const char *device;
                int err;
                const char *name;
                const char *msg;
        } cases[] = {
                { "/dev/fsck", -EINPROGRESS, "io.mmpd.FsckRunning",
                  "/dev/fsck is held by an e2fsprogs tool (fsck) on node 'c'" },
                { "/dev/none", -ENOENT, "io.mmpd.NoSuchVolume", "mmpd does not know /dev/none" },
                { "/dev/notmmp", -EMEDIUMTYPE, "io.mmpd.NotMmpFilesystem",
                  "/dev/notmmp is not an ext4 filesystem with MMP: no mmp feature" },
                { "/dev/corrupt", -EUCLEAN, "io.mmpd.CorruptMmpBlock",
                  "/dev/corrupt has a corrupt MMP block: bad magic" },
                { "/dev/ioerr", -EIO, "io.mmpd.IoError",
                  "I/O error on /dev/ioerr: read failed (Input/output error)" },
                { "/dev/denied", -EACCES, "org.varlink.service.PermissionDenied", "permission denied" },
                { "/dev/loop1", -EEXIST, "io.mmpd.AlreadyClaimed", "/dev/loop1 is already claimed (state held)" },
                { "/dev/full", -EPROTO, "io.mmpd.TooManyVolumes", "too many volumes (limit 64)" },
                { "/dev/failed", -EPROTO, "io.mmpd.ClaimFailed", "claiming /dev/failed failed: write failed" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char what[128];

                snprintf(what, sizeof(what), "Claim %s -> %s", cases[i].device, strerror(-cases[i].err));
                is_int(mmp_claim(c, cases[i].device, NULL, NULL, NULL, NULL), cases[i].err, what);
                is_str(err_name(c), cases[i].name, "  its varlink name");
                has_str(err_msg(c), cases[i].msg, "  its message");
        }
        const struct mmp_error *e;
        mmp_claim(c, "/dev/fsck", NULL, NULL, NULL, NULL);
        e = mmp_client_last_error(c);
        is_str(e ? mmp_error_get_holder_node(e) : NULL, "c", "FsckRunning names the node");
        uint32_t seq;
        is_int(e ? mmp_error_get_holder_seq(e, &seq) : 0, -ENODATA, "FsckRunning has no seq");
}

static void test_release_check_inspect(struct mmp_client *c)
{
        struct mmp_check chk = MMP_CHECK_INIT;
        struct mmp_block_info info = MMP_BLOCK_INFO_INIT;
        struct mmp_volume *v = NULL;
        int r;

        r = mmp_release(c, "/dev/loop1", &v);
        is_int(r, 0, "Release");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_RELEASED, "released volume");
        mmp_volume_unref(v);
        is_int(mmp_release(c, "/dev/none", NULL), -ENOENT, "Release unknown: -ENOENT");
        is_int(mmp_release(c, "/dev/ioerr", NULL), -EIO, "Release I/O error: -EIO");

        r = mmp_check(c, "/dev/loop1", &chk);
        is_int(r, 0, "Check held volume");
        ok(chk.may_use, "may_use");
        ok(chk.has_guarantee, "has_guarantee");
        ok(chk.guaranteed_for_usec > 14000000 && chk.guaranteed_for_usec <= 16000000,
           "guaranteed_for_usec about 15.5 s (%llu)", (unsigned long long) chk.guaranteed_for_usec);
        ok(chk.guaranteed_until_wall > 1700000000, "guaranteed_until_wall");
        is_int((long long) chk.size, (long long) sizeof(chk), "size: all filled");
        ok(chk.volume && strcmp(mmp_volume_get_name(chk.volume), "data") == 0, "Check's volume");
        mmp_check_clear(&chk);
        ok(chk.volume == NULL, "mmp_check_clear drops the volume");
        mmp_check_clear(NULL);

        r = mmp_check(c, "/dev/loop0", &chk);
        is_int(r, 0, "Check refused volume returns 0");
        ok(!chk.may_use && !chk.has_guarantee, "may not use, no guarantee");
        ok(chk.volume && mmp_volume_get_state(chk.volume) == MMP_VOLUME_REFUSED, "refused state");
        mmp_check_clear(&chk);

        chk.may_use = true;
        is_int(mmp_check(c, "/dev/none", &chk), -ENOENT, "Check unknown: -ENOENT");
        ok(chk.may_use && chk.volume == NULL, "ret untouched on failure");

        struct mmp_check small = { .size = 8 };
        is_int(mmp_check(c, "/dev/loop1", &small), -EINVAL, "size below LIBMMP_1's: -EINVAL");

        /* A caller built against a newer header passes a bigger struct. */
        struct {
                struct mmp_check chk;
                char newer_fields[32];
        } big;
        memset(&big, 0xaa, sizeof(big));
        big.chk.size = sizeof(big);
        is_int(mmp_check(c, "/dev/loop1", &big.chk), 0, "bigger struct accepted");
        is_int((long long) big.chk.size, (long long) sizeof(struct mmp_check),
               "size says how much was filled");
        ok((unsigned char) big.newer_fields[0] == 0xaa, "nothing written past it");
        mmp_check_clear(&big.chk);

        r = mmp_inspect(c, "/dev/loop1", &info);
        is_int(r, 0, "Inspect");
        ok(info.block_number == 9225 && info.block_size == 4096, "block number and size");
        ok(info.update_interval == 5 && info.check_interval == 10 && info.wait_seconds == 21, "intervals, W");
        ok(info.seq == 42 && info.seq_kind == MMP_SEQ_KIND_ACTIVE, "seq and kind");
        ok(info.magic == 0x004D4D50 && info.checksum == 0x12345678, "magic and checksum");
        ok(info.checksum_valid && info.metadata_csum, "checksum flags");
        is_str(info.node, "a", "node");
        is_str(info.device, "loop1", "device");
        ok(info.time_wall == 1700000000, "time_wall");
        is_int(mmp_inspect(c, "/dev/corrupt", &info), -EUCLEAN, "Inspect corrupt: -EUCLEAN");
}

struct watch_state {
        unsigned n;
        int types[8];
        uint64_t io_usec;
        char reason[128];
        char unknown_name[32];
        struct mmp_volume *kept;
        int reentry;
        unsigned stop_at;
};

static int on_event(struct mmp_client *c, const struct mmp_volume_event *ev, void *userdata)
{
        struct watch_state *w = userdata;
        enum mmp_volume_event_type t = mmp_volume_event_get_type(ev);
        struct mmp_volume **vols;
        size_t n;

        if (w->n < 8)
                w->types[w->n] = t;
        w->n++;
        if (t == MMP_VOLUME_EVENT_SLOW_IO)
                mmp_volume_event_get_io_usec(ev, &w->io_usec);
        if (t == MMP_VOLUME_EVENT_LOST)
                snprintf(w->reason, sizeof(w->reason), "%s", mmp_volume_event_get_reason(ev));
        if (t == MMP_VOLUME_EVENT_UNKNOWN)
                snprintf(w->unknown_name, sizeof(w->unknown_name), "%s",
                         mmp_volume_event_get_type_name(ev));
        if (t == MMP_VOLUME_EVENT_CLAIMED && !w->kept) {
                w->kept = mmp_volume_ref(mmp_volume_event_get_volume(ev));
                w->reentry = mmp_list(c, &vols, &n);
                if (strstr(mmp_volume_event_get_json(ev), "\"type\":\"claimed\"") == NULL)
                        w->reentry = 1;
        }
        return w->stop_at && w->n == w->stop_at ? 7 : 0;
}

static void test_watch(struct mmp_client *c)
{
        struct watch_state w = { .stop_at = 7 };
        static const int want[] = {
                MMP_VOLUME_EVENT_PROGRESS, MMP_VOLUME_EVENT_CLAIMED, MMP_VOLUME_EVENT_SLOW_IO,
                MMP_VOLUME_EVENT_LOST, MMP_VOLUME_EVENT_RELEASED, MMP_VOLUME_EVENT_IN_USE,
                MMP_VOLUME_EVENT_UNKNOWN,
        };

        fake_opt.watch_end = FAKE_WATCH_HOLD;
        is_int(mmp_watch(c, on_event, &w), 7, "Watch returns the callback's stop value");
        has_str(last_request(), "{\"method\":\"io.mmpd.Watch\",\"parameters\":{},\"more\":true}",
                "Watch request on the wire");
        is_int(w.n, 7, "seven events");
        ok(memcmp(w.types, want, sizeof(want)) == 0, "event types in order");
        is_int((long long) w.io_usec, 2500000, "slow_io io_usec");
        is_str(w.reason, "no heartbeat verified by the fence deadline", "lost reason");
        is_str(w.unknown_name, "teleported", "an unknown type keeps its name");
        is_int(w.reentry, -EBUSY, "calling the client from its callback: -EBUSY");
        ok(w.kept && mmp_volume_get_state(w.kept) == MMP_VOLUME_HELD, "a ref'd event volume outlives the event");
        mmp_volume_unref(w.kept);

        memset(&w, 0, sizeof(w));
        fake_opt.watch_end = FAKE_WATCH_FINAL;
        is_int(mmp_watch(c, on_event, &w), 0, "Watch ended by mmpd: 0");
        is_int(w.n, 7, "all events first");
        mmp_volume_unref(w.kept);

        memset(&w, 0, sizeof(w));
        fake_opt.watch_end = FAKE_WATCH_CLOSE;
        is_int(mmp_watch(c, on_event, &w), -ECONNRESET, "connection closed: -ECONNRESET");
        is_str(err_msg(c), "mmpd closed the connection", "its message");
        mmp_volume_unref(w.kept);
        fake_opt.watch_end = FAKE_WATCH_HOLD;
        is_int(mmp_watch(c, NULL, NULL), -EINVAL, "Watch without a callback: -EINVAL");
}

struct go_state {
        unsigned n;
        int ret;                       /* what the callback returns */
        struct mmp_volume **final;     /* mmp_handoff's ret: still NULL during go */
        bool final_unset;
        int reentry;
        char phase[32], user[16], mount[64], json_has_phase;
        long long pid;
        struct mmp_volume *kept;
};

static int on_go(struct mmp_client *c, struct mmp_volume *v, void *userdata)
{
        struct go_state *g = userdata;
        const char *json = mmp_volume_get_json(v);
        struct mmp_check chk = MMP_CHECK_INIT;
        pid_t pid;

        g->n++;
        g->final_unset = !g->final || !*g->final;
        snprintf(g->phase, sizeof(g->phase), "%s", mmp_volume_get_use_phase(v) ?: "(null)");
        snprintf(g->user, sizeof(g->user), "%s", mmp_volume_get_use_user(v) ?: "(null)");
        snprintf(g->mount, sizeof(g->mount), "%s", mmp_volume_get_use_mount_point(v) ?: "(null)");
        g->pid = mmp_volume_get_use_pid(v, &pid) == 0 ? pid : -1;
        g->json_has_phase = json && strstr(json, "\"phase\":\"handing_off\"") != NULL;
        g->reentry = mmp_check(c, "/dev/loop1", &chk);
        if (!g->kept)
                g->kept = mmp_volume_ref(v);
        return g->ret;
}

static void test_handoff(struct mmp_client *c)
{
        struct mmp_handoff_opts kernel = MMP_HANDOFF_OPTS_INIT, tool = MMP_HANDOFF_OPTS_INIT;
        struct mmp_volume *v = NULL;
        struct go_state g = { .final = &v };
        const struct mmp_error *e;
        struct mmp_volume **vols;
        size_t n;
        pid_t pid;
        int r;

        kernel.user = MMP_USE_KERNEL;
        kernel.mount_point = "/mnt/x";
        kernel.keep = true;
        kernel.mode = MMP_HANDOFF_MODE_FAST;
        r = mmp_handoff(c, "/dev/loop1", &kernel, on_go, &g, &v);
        is_int(r, 0, "Handoff to the kernel");
        has_str(last_request(), "{\"method\":\"io.mmpd.Handoff\",\"parameters\":{\"device\":\"/dev/loop1\","
                "\"user\":\"kernel\",\"mount_point\":\"/mnt/x\",\"keep\":true,\"mode\":\"fast\"},"
                "\"more\":true}", "Handoff request on the wire");
        is_int(g.n, 1, "go called once");
        ok(g.final_unset, "go called before the call returned");
        is_str(g.phase, "handing_off", "go sees the volume being handed over");
        is_str(g.user, "kernel", "  to the kernel");
        is_str(g.mount, "/mnt/x", "  at the mount point");
        ok(g.json_has_phase, "  and its JSON text, made on demand");
        is_int(g.reentry, -EBUSY, "calling the client from go: -EBUSY");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_IN_USE, "the final volume is in use");
        is_str(v ? mmp_volume_get_use_phase(v) : NULL, "in_use", "  its use phase in_use");
        ok(v && mmp_volume_get_use_keep(v), "  keep echoed");
        ok(g.kept && strstr(mmp_volume_get_json(g.kept) ?: "", "handing_off"),
           "a ref'd go volume outlives the call");
        ok(mmp_client_last_error(c) == NULL, "no last error");
        mmp_volume_unref(g.kept);
        v = mmp_volume_unref(v);

        tool.user = MMP_USE_TOOL;
        tool.pid = 4242;
        memset(&g, 0, sizeof(g));
        g.final = &v;
        r = mmp_handoff(c, "/dev/loop1", &tool, on_go, &g, &v);
        is_int(r, 0, "Handoff to a tool");
        has_str(last_request(), "\"parameters\":{\"device\":\"/dev/loop1\",\"user\":\"tool\",\"pid\":4242},",
                "  pid on the wire, no keep, mode or mount_point");
        is_int(g.pid, 4242, "  go sees the pid");
        ok(v && mmp_volume_get_use_pid(v, &pid) == 0 && pid == 4242, "  and the final volume");
        mmp_volume_unref(g.kept);
        v = mmp_volume_unref(v);

        /* The user did not start: the call is abandoned, the client lives on. */
        memset(&g, 0, sizeof(g));
        g.ret = -EIO;
        r = mmp_handoff(c, "/dev/loop1", &kernel, on_go, &g, &v);
        is_int(r, -EIO, "go failing: its error returned");
        is_int(g.n, 1, "  after one go");
        ok(v == NULL, "  *ret untouched");
        e = mmp_client_last_error(c);
        ok(e && mmp_error_get_errno(e) == -EIO && !mmp_error_get_name(e), "  last error: -EIO, no name");
        is_str(err_msg(c), "the user of /dev/loop1 did not start: Input/output error", "  its message");
        mmp_volume_unref(g.kept);
        is_int(mmp_list(c, &vols, &n), 0, "  the next call works on a fresh connection");
        mmp_list_free(vols, n);
        r = mmp_end_use(c, "/dev/loop1", 1, &v);
        is_int(r, 0, "  EndUse with keep after it");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_CLAIMING, "  mmpd claims it again");
        v = mmp_volume_unref(v);

        /* mmpd gives up after go. */
        memset(&g, 0, sizeof(g));
        r = mmp_handoff(c, "/dev/handoff-failed", &kernel, on_go, &g, &v);
        is_int(r, -ECANCELED, "HandoffFailed -> -ECANCELED");
        is_int(g.n, 1, "  after go");
        is_str(err_name(c), "io.mmpd.HandoffFailed", "  its name");
        is_str(err_msg(c), "handing /dev/handoff-failed over failed: no write from the user within 30 s "
               "(mmpd claims it again)", "  its message");
        e = mmp_client_last_error(c);
        is_str(e ? mmp_error_get_device(e) : NULL, "/dev/handoff-failed", "  its device");
        mmp_volume_unref(g.kept);

        /* The user came and went before mmpd saw it in use. */
        memset(&g, 0, sizeof(g));
        r = mmp_handoff(c, "/dev/handoff-ended", &tool, on_go, &g, &v);
        is_int(r, 0, "a use that ended before it was seen: 0");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_RELEASED && !mmp_volume_in_use(v),
           "  the volume as it is now, released");
        v = mmp_volume_unref(v);
        mmp_volume_unref(g.kept);

        memset(&g, 0, sizeof(g));
        is_int(mmp_handoff(c, "/dev/claiming", &kernel, on_go, &g, NULL), -ENOLCK, "NotHeld -> -ENOLCK");
        is_str(err_msg(c), "mmpd does not hold /dev/claiming (state claiming)", "  its message");
        is_int(g.n, 0, "  no go");
        is_int(mmp_handoff(c, "/dev/denied", &kernel, on_go, &g, NULL), -EACCES, "denied: -EACCES");
        is_int(mmp_handoff(c, "/dev/oldmmpd", &kernel, on_go, &g, NULL), -EOPNOTSUPP,
               "MethodNotFound -> -EOPNOTSUPP");
        is_str(err_msg(c), "mmpd does not know io.mmpd.Handoff (an mmpd older than this libmmp?)",
               "  its message");
        is_int(mmp_handoff(c, "/dev/handoff-nogo", &kernel, on_go, &g, NULL), -EBADMSG,
               "a last reply without go: -EBADMSG");
        is_int(g.n, 0, "  no go");
        is_int(mmp_list(c, &vols, &n), 0, "  the client still works");
        mmp_list_free(vols, n);

        struct mmp_handoff_opts bad = kernel;
        is_int(mmp_handoff(c, "/dev/loop1", NULL, on_go, &g, NULL), -EINVAL, "no opts: -EINVAL");
        is_int(mmp_handoff(c, "/dev/loop1", &kernel, NULL, NULL, NULL), -EINVAL, "no go: -EINVAL");
        bad.size = offsetof(struct mmp_handoff_opts, mode);
        is_int(mmp_handoff(c, "/dev/loop1", &bad, on_go, &g, NULL), -EINVAL, "opts too small: -EINVAL");
        bad = kernel;
        bad.user = 0;
        is_int(mmp_handoff(c, "/dev/loop1", &bad, on_go, &g, NULL), -EINVAL, "no user: -EINVAL");
        bad = tool;
        bad.pid = 0;
        is_int(mmp_handoff(c, "/dev/loop1", &bad, on_go, &g, NULL), -EINVAL, "a tool without pid: -EINVAL");
        is_int(g.n, 0, "  go never called");

        /* A caller built against a newer header passes a bigger struct. */
        struct {
                struct mmp_handoff_opts o;
                char newer_fields[32];
        } big;
        memset(&big, 0, sizeof(big));
        big.o = kernel;
        big.o.size = sizeof(big);
        memset(&g, 0, sizeof(g));
        is_int(mmp_handoff(c, "/dev/loop1", &big.o, on_go, &g, NULL), 0, "bigger opts accepted");
        mmp_volume_unref(g.kept);
}

static void test_end_use(struct mmp_client *c)
{
        struct mmp_volume *v = NULL;
        uint32_t seq;
        int r;

        r = mmp_end_use(c, "/dev/loop1", -1, &v);
        is_int(r, 0, "EndUse");
        is_str(last_request(), "{\"method\":\"io.mmpd.EndUse\",\"parameters\":{\"device\":\"/dev/loop1\"}}",
               "  keep -1 is left to mmpd");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_RELEASED, "  released");
        v = mmp_volume_unref(v);
        is_int(mmp_end_use(c, "/dev/loop1", 0, NULL), 0, "EndUse keep 0");
        has_str(last_request(), "\"keep\":false", "  keep false on the wire");
        is_int(mmp_end_use(c, "/dev/loop1", 1, &v), 0, "EndUse keep 1");
        has_str(last_request(), "\"keep\":true", "  keep true on the wire");
        ok(v && mmp_volume_get_state(v) == MMP_VOLUME_CLAIMING, "  claiming again");
        v = mmp_volume_unref(v);

        is_int(mmp_end_use(c, "/dev/busy", -1, &v), -EBUSY, "UseInProgress -> -EBUSY");
        is_str(err_name(c), "io.mmpd.UseInProgress", "  its name");
        is_str(err_msg(c), "/dev/busy is still in use by the kernel (node 'a' wrote seq 77)", "  its message");
        ok(mmp_error_get_holder_seq(mmp_client_last_error(c), &seq) == 0 && seq == 77, "  the seq on disk");
        ok(v == NULL, "  *ret untouched");
        is_int(mmp_end_use(c, "/dev/claiming", -1, NULL), -ENOLCK, "EndUse not held: -ENOLCK");
        is_int(mmp_end_use(c, "/dev/none", -1, NULL), -ENOENT, "EndUse unknown: -ENOENT");
        is_int(mmp_end_use(c, "/dev/loop1", 2, NULL), -EINVAL, "keep 2: -EINVAL");
        is_int(mmp_end_use(c, NULL, 0, NULL), -EINVAL, "no device: -EINVAL");
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_bad_peers(struct mmp_client *c)
{
        struct mmp_check chk = MMP_CHECK_INIT;
        struct mmp_volume **vols;
        size_t n;
        double t0;
        int r;

        mmp_client_set_timeout(c, 200000);
        t0 = now_s();
        r = mmp_check(c, "/dev/slow", &chk);
        is_int(r, -ETIMEDOUT, "no reply: -ETIMEDOUT");
        ok(now_s() - t0 < 2.0, "after about the timeout (%.2f s)", now_s() - t0);
        is_str(err_msg(c), "mmpd did not answer within 0.2 s", "timeout message");
        ok(mmp_error_get_name(mmp_client_last_error(c)) == NULL, "local errors have no name");
        mmp_client_set_timeout(c, 0);
        is_int(mmp_list(c, &vols, &n), 0, "reconnected after the timeout");
        mmp_list_free(vols, n);

        is_int(mmp_release(c, "/dev/hangup", NULL), -ECONNRESET, "hang-up: -ECONNRESET");
        is_int(mmp_check(c, "/dev/huge", &chk), -EMSGSIZE, "reply over 16 MiB: -EMSGSIZE");
        is_int(mmp_check(c, "/dev/garbage", &chk), -EBADMSG, "not JSON: -EBADMSG");
        has_str(err_msg(c), "malformed reply from mmpd", "its message");
        is_int(mmp_check(c, "/dev/notobj", &chk), -EBADMSG, "not an object: -EBADMSG");
        is_int(mmp_check(c, "/dev/badvol", &chk), -EBADMSG, "volume without a name: -EBADMSG");
        is_int(mmp_list(c, &vols, &n), 0, "and the client still works");
        mmp_list_free(vols, n);
}

int main(void)
{
        struct mmp_client *c = NULL;
        char dir[] = "/tmp/test-libmmp.XXXXXX";
        pthread_t t;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!mkdtemp(dir) || snprintf(sock_path, sizeof(sock_path), "%s/io.mmpd", dir) < 0)
                return 99;
        listen_fd = fake_listen(sock_path);
        if (listen_fd < 0 || pthread_create(&t, NULL, server_thread, NULL) != 0) {
                printf("Bail out! cannot start the fake server: %s\n", strerror(-listen_fd));
                return 99;
        }

        test_connect();
        if (mmp_client_connect(sock_path, &c) < 0) {
                printf("Bail out! cannot connect to the fake server\n");
                return 99;
        }
        test_list(c);
        test_claim(c);
        test_errno_map(c);
        test_release_check_inspect(c);
        test_watch(c);
        test_handoff(c);
        test_end_use(c);
        test_bad_peers(c);
        mmp_client_free(c);

        server_quit(t);
        unlink(sock_path);
        rmdir(dir);
        printf("1..%u\n", n_tests);
        return n_failed ? 1 : 0;
}
