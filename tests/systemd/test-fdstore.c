/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/systemd.c against a fake service manager: a datagram socket as
 * $NOTIFY_SOCKET that receives the FDSTORE messages and keeps the fds, as
 * systemd does, then hands them back through LISTEN_FDS/LISTEN_FDNAMES to
 * a "restarted" mmpd (a child process, so fds 3.. can be laid out).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmpd/systemd.h"

struct fake_pid1 {
        char dir[64];
        int sock;
};

static struct fake_pid1 pid1;

/* One notify message: its text, and its fd (or -1). */
static void recv_notify(char *buf, size_t size, int *ret_fd)
{
        union {
                struct cmsghdr align;
                char b[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = &control, .msg_controllen = sizeof(control),
        };
        ssize_t n = recvmsg(pid1.sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        assert_true(n > 0);
        buf[n] = '\0';
        *ret_fd = -1;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
}

static int setup(void **state)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(pid1.dir, sizeof(pid1.dir), "/tmp/test-fdstore.XXXXXX");
        assert_non_null(mkdtemp(pid1.dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", pid1.dir);
        pid1.sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(pid1.sock >= 0);
        assert_int_equal(bind(pid1.sock, (struct sockaddr *) &sa, sizeof(sa)), 0);
        setenv("NOTIFY_SOCKET", sa.sun_path, 1);
        return 0;
}

static int teardown(void **state)
{
        char p[128];

        snprintf(p, sizeof(p), "%s/notify", pid1.dir);
        unlink(p);
        rmdir(pid1.dir);
        close(pid1.sock);
        return 0;
}

/* A "restarted" mmpd: @fds laid out at 3.. with @names, LISTEN_* set. */
static void exec_as_listener(int *fds, const char *names, int n)
{
        char buf[16];
        int hi[8];

        /* Out of the way first, then into place. */
        for (int i = 0; i < n; i++)
                hi[i] = fcntl(fds[i], F_DUPFD, 100);
        for (int i = 0; i < n; i++) {
                assert_int_equal(dup2(hi[i], 3 + i), 3 + i);
                close(hi[i]);
        }
        snprintf(buf, sizeof(buf), "%d", (int) getpid());
        setenv("LISTEN_PID", buf, 1);
        snprintf(buf, sizeof(buf), "%d", n);
        setenv("LISTEN_FDS", buf, 1);
        setenv("LISTEN_FDNAMES", names, 1);
}

static void test_store_and_resume(void **state)
{
        struct mmpd_systemd *s = NULL;
        char msg[256], tmpl[128];
        int state_fd, vol0_fd, vol1_fd, fd, dev_a, dev_b, slot, varlink[2];
        pid_t pid;
        int status;

        assert_int_equal(mmpd_systemd_new(&s), 0);
        assert_int_equal(mmpd_systemd_n_stored(s), 0);
        assert_int_equal(mmpd_systemd_varlink_fd(s), -1);

        snprintf(tmpl, sizeof(tmpl), "%s/devA", pid1.dir);
        dev_a = open(tmpl, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        snprintf(tmpl, sizeof(tmpl), "%s/devB", pid1.dir);
        dev_b = open(tmpl, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(dev_a >= 0 && dev_b >= 0);

        /* First store: the state memfd goes in first, then the device. */
        slot = mmpd_systemd_store(s, dev_a, "vol:a", "/dev/disk/by-id/a", "node-a");
        assert_int_equal(slot, 0);
        recv_notify(msg, sizeof(msg), &state_fd);
        assert_string_equal(msg, "FDSTORE=1\nFDPOLL=0\nFDNAME=mmpd-state");
        assert_true(state_fd >= 0);
        recv_notify(msg, sizeof(msg), &vol0_fd);
        assert_string_equal(msg, "FDSTORE=1\nFDPOLL=0\nFDNAME=mmpd-vol-0");
        assert_true(vol0_fd >= 0);

        /* Heartbeats write in place: no message. */
        mmpd_systemd_update(s, 0, 1233, 10, 4444);
        mmpd_systemd_update(s, 0, 1234, 12, 5555);
        assert_int_equal(recv(pid1.sock, msg, sizeof(msg), MSG_DONTWAIT), -1);

        slot = mmpd_systemd_store(s, dev_b, "b", "/dev/b", "node-a");
        assert_int_equal(slot, 1);
        recv_notify(msg, sizeof(msg), &vol1_fd);
        assert_string_equal(msg, "FDSTORE=1\nFDPOLL=0\nFDNAME=mmpd-vol-1");

        /* Released: removed from the store, its slot free again. */
        mmpd_systemd_forget(s, 1);
        recv_notify(msg, sizeof(msg), &fd);
        assert_string_equal(msg, "FDSTOREREMOVE=1\nFDNAME=mmpd-vol-1");
        assert_int_equal(fd, -1);

        /* Exit without forgetting vol:a: the store keeps it. */
        s = mmpd_systemd_free(s);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, varlink), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* systemd 252 would have dropped vol-1 already; pass it anyway
                 * as a stale fd without a record: it must be dropped. */
                int fds[] = { varlink[0], state_fd, vol0_fd, vol1_fd };
                const struct mmpd_sd_volume *v;
                int ok = 1;

                exec_as_listener(fds, "varlink:mmpd-state:mmpd-vol-0:mmpd-vol-1", 4);
                ok &= mmpd_systemd_new(&s) == 0;
                ok &= mmpd_systemd_varlink_fd(s) == 3;
                ok &= mmpd_systemd_n_stored(s) == 1;
                v = mmpd_systemd_stored(s, 0);
                ok &= v && v->slot == 0 && v->fd == 5;
                ok &= v && strcmp(v->name, "vol:a") == 0 && strcmp(v->device, "/dev/disk/by-id/a") == 0 &&
                      strcmp(v->node, "node-a") == 0;
                ok &= v && v->seq == 1234 && v->check_interval == 12 && v->last_good == 5555;
                ok &= fcntl(6, F_GETFD) < 0;    /* the stale one was closed */
                mmpd_systemd_keep(s, 0);
                /* The next volume gets slot 1: slot 0 is still in use. */
                ok &= mmpd_systemd_store(s, dev_b, "c", "/dev/c", "node-a") == 1;
                _exit(ok ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* The child dropped the stale fd, then stored one (reusing the state). */
        recv_notify(msg, sizeof(msg), &fd);
        assert_string_equal(msg, "FDSTOREREMOVE=1\nFDNAME=mmpd-vol-1");
        recv_notify(msg, sizeof(msg), &fd);
        assert_string_equal(msg, "FDSTORE=1\nFDPOLL=0\nFDNAME=mmpd-vol-1");
        close(fd);

        close(varlink[0]);
        close(varlink[1]);
        close(state_fd);
        close(vol0_fd);
        close(vol1_fd);
        close(dev_a);
        close(dev_b);
        snprintf(tmpl, sizeof(tmpl), "%s/devA", pid1.dir);
        unlink(tmpl);
        snprintf(tmpl, sizeof(tmpl), "%s/devB", pid1.dir);
        unlink(tmpl);
}

static void test_not_under_systemd(void **state)
{
        struct mmpd_systemd *s = NULL;
        char *saved = strdup(getenv("NOTIFY_SOCKET"));

        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(mmpd_systemd_new(&s), 0);
        assert_int_equal(mmpd_systemd_store(s, 0, "a", "/dev/a", "n"), -EOPNOTSUPP);
        mmpd_systemd_update(s, 0, 1, 5, 1);      /* no-ops */
        s = mmpd_systemd_free(s);
        setenv("NOTIFY_SOCKET", saved, 1);
        free(saved);
}

static void test_long_names(void **state)
{
        struct mmpd_systemd *s = NULL;
        char name[200];

        memset(name, 'x', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        assert_int_equal(mmpd_systemd_new(&s), 0);
        assert_int_equal(mmpd_systemd_store(s, 0, name, "/dev/a", "n"), -ENAMETOOLONG);
        s = mmpd_systemd_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_store_and_resume),
                cmocka_unit_test(test_not_under_systemd),
                cmocka_unit_test(test_long_names),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
