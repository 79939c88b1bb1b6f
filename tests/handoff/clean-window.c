/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clean-window DEVICE SECONDS [INTERVAL_US]
 *
 * Measures how long an MMP block stays CLEAN each time it becomes CLEAN: a
 * handoff's window, from mmpd's CLEAN write to the local user's first
 * write, as a peer reading the disk would see it.  Reads the block with
 * O_DIRECT every INTERVAL_US (default 200) for SECONDS (or until SIGTERM)
 * and prints, per CLEAN episode that ended, one line
 *     window_us=N next_seq=0x... next_node=NAME clean_node=NAME at_least_us=N
 * (clean_node: the node name in the CLEAN block, i.e. who wrote CLEAN: mmpd's
 * node name for a handoff, the kernel's or a tool's host name at its end)
 * and at the end one JSON line
 *     {"windows":N,"p50_us":N,"p90_us":N,"max_us":N,"open":bool,"resolution_us":N,"errors":N}
 * "open" is true when the block was still CLEAN at the end (an episode
 * that did not end).  An episode is timed from the start of the first read
 * showing CLEAN to the start of the first showing something else, so each
 * figure may be up to one sample interval (plus one read) longer than the
 * truth: a read that the machine holds up for 250 ms and that returns CLEAN
 * makes a window of at least 250 ms, however short the truth was.
 * at_least_us is what the samples prove: the block was CLEAN from the end of
 * the first read showing it to the start of the last one (0 when one read
 * saw it).  The two differ by the first and the last CLEAN read's duration.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmp-ondisk.h"

#define MAX_WINDOWS 100000

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        stop = 1;
}

static long long now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
        long long x = *(const long long *) a, y = *(const long long *) b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        static long long win[MAX_WINDOWS];
        unsigned n = 0, errors = 0;
        long long end, clean_since = -1, clean_proven = -1, clean_last = -1, max_read = 0;
        char clean_node[sizeof(((struct mmp_block *) 0)->nodename)] = "";
        struct mmp_sb sb;
        void *buf;
        int fd, interval_us;

        if (argc < 3) {
                fprintf(stderr, "usage: clean-window DEVICE SECONDS [INTERVAL_US]\n");
                return 2;
        }
        interval_us = argc > 3 ? atoi(argv[3]) : 200;
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        fd = open(argv[1], O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "clean-window: %s: %s\n", argv[1], strerror(errno));
                return 2;
        }
        if (posix_memalign(&buf, 4096, 65536) != 0)
                return 2;
        if (pread(fd, buf, 4096, 0) != 4096 || mmp_sb_decode((char *) buf + MMP_SB_OFFSET, MMP_SB_SIZE, &sb) < 0) {
                fprintf(stderr, "clean-window: %s: cannot read the superblock\n", argv[1]);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        end = now_us() + atoll(argv[2]) * 1000000LL;
        while (!stop && now_us() < end) {
                struct mmp_block b;
                long long t = now_us(), t2;
                struct timespec ts = { .tv_nsec = interval_us * 1000L };

                if (pread(fd, buf, sb.block_size, (off_t) mmp_sb_mmp_offset(&sb)) != (ssize_t) sb.block_size ||
                    mmp_block_decode(&sb, buf, sb.block_size, &b) < 0) {
                        errors++;
                } else if (b.seq == MMP_SEQ_CLEAN) {
                        if (clean_since < 0) {
                                clean_since = t;
                                clean_proven = now_us();
                                snprintf(clean_node, sizeof(clean_node), "%s", b.nodename);
                        }
                        clean_last = t;
                } else if (clean_since >= 0) {
                        if (n < MAX_WINDOWS)
                                win[n++] = t - clean_since;
                        printf("window_us=%lld next_seq=%#x next_node=%s clean_node=%s at_least_us=%lld\n",
                               t - clean_since, b.seq, b.nodename, clean_node,
                               clean_last > clean_proven ? clean_last - clean_proven : 0);
                        clean_since = -1;
                }
                t2 = now_us();
                if (t2 - t > max_read)
                        max_read = t2 - t;
                if (interval_us > 0)
                        nanosleep(&ts, NULL);
        }
        qsort(win, n, sizeof(win[0]), cmp_ll);
        printf("{\"windows\":%u,\"p50_us\":%lld,\"p90_us\":%lld,\"max_us\":%lld,\"open\":%s,"
               "\"resolution_us\":%lld,\"errors\":%u}\n",
               n, n ? win[n / 2] : 0, n ? win[n * 9 / 10] : 0, n ? win[n - 1] : 0,
               clean_since >= 0 ? "true" : "false", interval_us + max_read, errors);
        free(buf);
        close(fd);
        return 0;
}
