/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmp-watch DEVICE SECONDS [INTERVAL_MS]
 *
 * Test oracle: an independent raw watcher, as a peer node would see the
 * volume.  Reads the MMP block with O_DIRECT every INTERVAL_MS (default 100)
 * for SECONDS and prints one JSON summary line:
 *   {"samples":N,"changes":N,"max_gap_ms":N,"clean_seen":bool,"fsck_seen":bool,
 *    "errors":N,"nodes":["a","b"],"last_seq":N,"last_node":"a","first_seq":N}
 * max_gap_ms is the longest time the seq stayed unchanged, from the first
 * sample showing a value to the first sample showing the next one (the
 * open-ended stretch at the end counts too).  Sleeping is fine here: this is
 * a test tool, not the daemon.  SIGTERM or SIGINT ends the watch early,
 * with the summary printed as usual.
 *
 * With MMP_WATCH_TRACE=FILE in the environment, every sample is also
 * appended to FILE as one line "MS SEQ NODE" (MS: CLOCK_BOOTTIME in
 * milliseconds, the clock of /proc/uptime; SEQ in decimal; NODE the rest of
 * the line), or "MS error" for a failed read, so a test can compute gaps
 * over windows of its own.
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

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        stop = 1;
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long boot_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void json_str(const char *s)
{
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

int main(int argc, char **argv)
{
        char nodes[8][MMP_NODENAME_LEN + 1];
        unsigned n_nodes = 0, samples = 0, changes = 0, errors = 0;
        bool clean_seen = false, fsck_seen = false, have_seq = false;
        uint32_t seq = 0, first_seq = 0;
        long long start, end, since = 0, max_gap = 0;
        char last_node[MMP_NODENAME_LEN + 1] = "";
        struct mmp_sb sb;
        struct stat st;
        const char *trace_path = getenv("MMP_WATCH_TRACE");
        FILE *trace = NULL;
        void *buf;
        int fd, interval_ms, align = 4096, r;

        if (argc < 3) {
                fprintf(stderr, "usage: mmp-watch DEVICE SECONDS [INTERVAL_MS]\n");
                return 2;
        }
        interval_ms = argc > 3 ? atoi(argv[3]) : 100;
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "mmp-watch: %s: %s\n", argv[1], strerror(errno));
                return 2;
        }
        if (S_ISBLK(st.st_mode)) {
                close(fd);
                fd = open(argv[1], O_RDONLY | O_DIRECT | O_CLOEXEC);
                if (fd < 0 || ioctl(fd, BLKSSZGET, &align) < 0) {
                        fprintf(stderr, "mmp-watch: %s: %s\n", argv[1], strerror(errno));
                        return 2;
                }
        }
        if (posix_memalign(&buf, 4096, 65536) != 0)
                return 2;
        if (pread(fd, buf, 4096, 0) != 4096 ||
            (r = mmp_sb_decode((char *) buf + MMP_SB_OFFSET, MMP_SB_SIZE, &sb)) < 0) {
                fprintf(stderr, "mmp-watch: %s: cannot read the superblock\n", argv[1]);
                return 2;
        }

        if (trace_path && *trace_path) {
                trace = fopen(trace_path, "ae");
                if (!trace) {
                        fprintf(stderr, "mmp-watch: %s: %s\n", trace_path, strerror(errno));
                        return 2;
                }
                setvbuf(trace, NULL, _IOLBF, 0);
        }
        start = now_ms();
        end = start + atoll(argv[2]) * 1000;
        for (long long t = start; t < end && !stop; t = now_ms()) {
                struct mmp_block b;
                bool known = false;

                samples++;
                if (pread(fd, buf, sb.block_size, (off_t) mmp_sb_mmp_offset(&sb)) != (ssize_t) sb.block_size ||
                    mmp_block_decode(&sb, buf, sb.block_size, &b) < 0) {
                        errors++;
                        if (trace)
                                fprintf(trace, "%lld error\n", boot_ms());
                } else {
                        if (trace)
                                fprintf(trace, "%lld %u %s\n", boot_ms(), b.seq, b.nodename);
                        if (!have_seq || b.seq != seq) {
                                if (have_seq) {
                                        changes++;
                                        if (t - since > max_gap)
                                                max_gap = t - since;
                                } else {
                                        first_seq = b.seq;
                                }
                                since = t;
                                seq = b.seq;
                                have_seq = true;
                        }
                        clean_seen |= b.seq == MMP_SEQ_CLEAN;
                        fsck_seen |= b.seq == MMP_SEQ_FSCK;
                        snprintf(last_node, sizeof(last_node), "%s", b.nodename);
                        for (unsigned i = 0; i < n_nodes; i++)
                                known |= strcmp(nodes[i], b.nodename) == 0;
                        if (!known && n_nodes < 8)
                                snprintf(nodes[n_nodes++], sizeof(nodes[0]), "%s", b.nodename);
                }
                struct timespec ts = { .tv_sec = interval_ms / 1000, .tv_nsec = (interval_ms % 1000) * 1000000L };
                nanosleep(&ts, NULL);
        }
        if (have_seq && now_ms() - since > max_gap)
                max_gap = now_ms() - since;

        printf("{\"samples\":%u,\"changes\":%u,\"max_gap_ms\":%lld,\"clean_seen\":%s,\"fsck_seen\":%s,"
               "\"errors\":%u,\"first_seq\":%u,\"last_seq\":%u,\"last_node\":",
               samples, changes, max_gap, clean_seen ? "true" : "false", fsck_seen ? "true" : "false",
               errors, first_seq, seq);
        json_str(last_node);
        printf(",\"nodes\":[");
        for (unsigned i = 0; i < n_nodes; i++) {
                if (i)
                        putchar(',');
                json_str(nodes[i]);
        }
        printf("]}\n");
        if (trace)
                fclose(trace);
        free(buf);
        close(fd);
        return 0;
}
