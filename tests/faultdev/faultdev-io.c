/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * faultdev-io: one timed I/O on a block device, as the fault device tests
 * need it: a single O_DIRECT pread or pwrite, so the result is what a caller
 * of the loop device sees, unretried.
 *
 *     faultdev-io [-t MS] [-b] read DEV OFFSET LEN [BYTE]   every byte must equal BYTE
 *     faultdev-io [-t MS] [-b] write DEV OFFSET LEN [BYTE]  write LEN bytes of BYTE (default 0x5a)
 *
 * Prints one line and exits:
 *     ok BYTES MS          0   (BYTES may be short: the test decides)
 *     error ENAME MS       1
 *     mismatch OFFSET MS   2   first byte that is not BYTE
 *     timeout MS           3   no completion within -t MS (default 10000)
 *     usage errors         64
 * MS is whole milliseconds around the system call, rounded down.
 *
 * A task waiting for block I/O cannot be killed, so timeout(1) cannot bound
 * a stalled read, and Linux AIO is no way out: a process with a request in
 * flight does not finish exiting (exit_aio waits) until it completes.
 * Instead a child does the I/O and reports through a pipe; on timeout the
 * parent prints "timeout" and exits, leaving the child (stdout and stderr
 * closed) to finish whenever the I/O is released.
 *
 * -b: buffered pread/pwrite (plus fsync after a write, so its error is
 * reported), for looking at page-cache behaviour.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "macro.h"

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* Whole milliseconds since t0, rounded down: never overstates a delay. */
static long long elapsed(double t0)
{
        return (long long) (now_ms() - t0);
}

static int parse_num(const char *s, unsigned long long *ret)
{
        char *end;

        errno = 0;
        *ret = strtoull(s, &end, 0);
        return errno || !*s || *end || *s == '-' ? -1 : 0;
}

static int fail(int error, long long ms)
{
        const char *name = strerrorname_np(error);

        printf("error %s %lld\n", name ? name : "E?", ms);
        return 1;
}

struct result {
        ssize_t n;          /* bytes, or -errno */
        ssize_t mismatch;   /* first wrong byte, or -1 */
        long long ms;
};

/* The child: open, one system call, check; the result goes up the pipe. */
static void child(int wfd, const char *dev, bool rd, bool buffered, size_t len, off_t off, int byte,
                  bool check)
{
        struct result res = { .mismatch = -1 };
        _cleanup_close_ int fd = -1;
        void *buf = NULL;
        double t0;

        if (posix_memalign(&buf, 4096, len) != 0) {
                res.n = -ENOMEM;
                goto out;
        }
        memset(buf, rd ? ~byte : byte, len);
        fd = open(dev, (rd ? O_RDONLY : O_WRONLY) | O_CLOEXEC | (buffered ? 0 : O_DIRECT));
        if (fd < 0) {
                res.n = -errno;
                goto out;
        }
        t0 = now_ms();
        res.n = rd ? pread(fd, buf, len, off) : pwrite(fd, buf, len, off);
        if (res.n >= 0 && !rd && buffered && fsync(fd) < 0)
                res.n = -1;
        if (res.n < 0)
                res.n = -errno;
        res.ms = elapsed(t0);
        if (rd && check)
                for (ssize_t i = 0; i < res.n; i++)
                        if (((unsigned char *) buf)[i] != (unsigned char) byte) {
                                res.mismatch = i;
                                break;
                        }
out:
        if (write(wfd, &res, sizeof(res)) != sizeof(res))
                _exit(1);
        _exit(0);
}

static int usage(void)
{
        fprintf(stderr, "usage: faultdev-io [-t MS] [-b] read|write DEV OFFSET LEN [BYTE]\n");
        return 64;
}

int main(int argc, char **argv)
{
        unsigned long long off, len, byte = 0x5a, timeout_ms = 10000;
        bool buffered = false, rd;
        int argi = 1, nargs, pfd[2], null;
        struct pollfd p;
        struct result res;
        double t0;
        pid_t pid;

        for (; argi < argc && argv[argi][0] == '-'; argi++) {
                if (strcmp(argv[argi], "-b") == 0)
                        buffered = true;
                else if (strcmp(argv[argi], "-t") == 0 && argi + 1 < argc &&
                         parse_num(argv[argi + 1], &timeout_ms) == 0 && timeout_ms > 0 &&
                         timeout_ms <= 3600000)
                        argi++;
                else
                        return usage();
        }
        nargs = argc - argi;
        if (nargs < 4 || nargs > 5 ||
            (strcmp(argv[argi], "read") != 0 && strcmp(argv[argi], "write") != 0) ||
            parse_num(argv[argi + 2], &off) < 0 || off > INT64_MAX ||
            parse_num(argv[argi + 3], &len) < 0 || len == 0 || len > (64u << 20) ||
            (nargs == 5 && (parse_num(argv[argi + 4], &byte) < 0 || byte > 255)))
                return usage();
        rd = argv[argi][0] == 'r';

        if (pipe2(pfd, O_CLOEXEC) < 0 || (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
                perror("faultdev-io");
                return 64;
        }
        fflush(NULL);
        t0 = now_ms();
        pid = fork();
        if (pid < 0) {
                perror("faultdev-io: fork");
                return 64;
        }
        if (pid == 0) {
                /* Let go of the caller's output, so $(faultdev-io ...) returns
                 * even if this child is left behind. */
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                close(pfd[0]);
                child(pfd[1], argv[argi + 1], rd, buffered, len, (off_t) off, (int) byte, nargs == 5);
        }
        close(pfd[1]);

        p = (struct pollfd) { .fd = pfd[0], .events = POLLIN };
        for (;;) {
                long long left = (long long) timeout_ms - elapsed(t0);
                int r;

                if (left <= 0) {
                        printf("timeout %lld\n", elapsed(t0));
                        return 3;
                }
                r = poll(&p, 1, (int) left);
                if (r > 0)
                        break;
                if (r < 0 && errno != EINTR) {
                        perror("faultdev-io: poll");
                        return 64;
                }
        }
        if (read(pfd[0], &res, sizeof(res)) != sizeof(res)) {
                fprintf(stderr, "faultdev-io: child died\n");
                return 64;
        }
        waitpid(pid, NULL, 0);

        if (res.n < 0)
                return fail((int) -res.n, res.ms);
        if (res.mismatch >= 0) {
                printf("mismatch %zd %lld\n", res.mismatch, res.ms);
                return 2;
        }
        printf("ok %zd %lld\n", res.n, res.ms);
        return 0;
}
