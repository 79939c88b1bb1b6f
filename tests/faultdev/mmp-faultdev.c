/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmp-faultdev: a FUSE file system with one file, "disk", backed by an image,
 * and a control file, "ctl", that injects delays, stalls and errors into the
 * disk's reads and writes.  A loop device on top of MOUNTPOINT/disk gives the
 * integration tests a real block device that misbehaves on command, on a
 * machine without device-mapper or nbd.  Test infrastructure, never installed.
 *
 * Each request waits out its fault in its own FUSE worker thread (condition
 * variable, monotonic timed waits); the session runs the multithreaded loop
 * with enough workers that held requests never starve ctl.
 */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"
#include "faultdev-rules.h"

enum {
        INO_ROOT = FUSE_ROOT_ID,
        INO_DISK,
        INO_CTL,
};

#define DISK_NAME "disk"
#define CTL_NAME "ctl"

/*
 * Worker threads.  The loop device's direct I/O reaches FUSE as asynchronous
 * ("background") requests, of which the kernel hands the server at most
 * max_background at a time; the rest wait in the kernel.  MAX_BACKGROUND is
 * the loop device's queue depth (hw_queue_depth, 128), so that requests held
 * by a stall never keep unrelated loop I/O from reaching the server.
 * Synchronous requests (ctl, stat, a test's own read of "disk") are not
 * counted against it.  libfuse starts a new worker whenever the last idle one
 * picks up a request, up to max_threads: with room for every background
 * request plus plenty of synchronous ones, a worker is always free for ctl.
 * Idle workers are never reaped (libfuse's default max_idle_threads, -1), and
 * clone_fd stays off: one /dev/fuse fd is plenty for a test device.
 */
#define MAX_BACKGROUND 128
#define MAX_THREADS 192

/* Longest a held request sleeps before rechecking for shutdown or an
 * interrupt from the process that issued it. */
#define WAIT_SLICE_MS 100

/* Largest single write to ctl; a write is a batch of commands. */
#define CTL_WRITE_MAX 4096
#define CTL_CMDS_MAX 32

struct stats {
        uint64_t reads, writes;            /* requests on "disk" */
        uint64_t read_bytes, write_bytes;  /* bytes moved by requests that succeeded */
        uint64_t faults;                   /* stall + delay + fail actions applied */
        uint64_t stalled, delayed, failed;
        uint64_t io_errors;                /* pread/pwrite on the image itself failed */
        unsigned stalled_now, delayed_now;
};

struct faultdev {
        int image_fd;
        uint64_t size;
        bool verbose;
        struct fuse_session *se;

        pthread_mutex_t lock;
        pthread_cond_t cond;               /* CLOCK_MONOTONIC */
        struct fdev_rules rules;
        uint64_t resume_gen;               /* bumped by resume and clear: releases stalls */
        uint64_t clear_gen;                /* bumped by clear: cuts delays short */
        struct stats st;
};

static struct faultdev *fdev_of(fuse_req_t req)
{
        return fuse_req_userdata(req);
}

_printf_(2, 3)
static void vlog(const struct faultdev *d, const char *fmt, ...)
{
        va_list ap;

        if (!d->verbose)
                return;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
}

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* Nanoseconds: a delay of MS must never come out a fraction short. */
static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

/* One bounded wait on d->cond, at most until deadline.  Caller holds d->lock. */
static void wait_until(struct faultdev *d, uint64_t deadline_ns)
{
        uint64_t until = now_ns() + WAIT_SLICE_MS * NSEC_PER_MSEC;
        struct timespec ts;

        if (deadline_ns < until)
                until = deadline_ns;
        ts.tv_sec = (time_t) (until / NSEC_PER_SEC);
        ts.tv_nsec = (long) (until % NSEC_PER_SEC);
        pthread_cond_timedwait(&d->cond, &d->lock, &ts);
}

/* Shutting down, or the issuing process gave up (FUSE_INTERRUPT): stop holding. */
static bool should_let_go(struct faultdev *d, fuse_req_t req, int *ret_error)
{
        if (fuse_session_exited(d->se))
                return true;
        if (fuse_req_interrupted(req)) {
                *ret_error = EINTR;
                return true;
        }
        return false;
}

/*
 * Apply the rules to one request on "disk": stall until resume, then delay,
 * then fail.  Rules are looked up again after each wait, so a request
 * released by resume sees the rules of that moment.  Returns 0 to go ahead
 * with the I/O, or a positive errno to fail it with.
 */
static int fault_gate(struct faultdev *d, fuse_req_t req, unsigned op, uint64_t off, uint64_t len)
{
        struct fdev_plan plan;
        int error = 0;

        pthread_mutex_lock(&d->lock);
        if (op == FDEV_OP_READ)
                d->st.reads++;
        else
                d->st.writes++;

        plan = fdev_rules_plan(&d->rules, op, off, len);
        if (plan.stall) {
                uint64_t gen = d->resume_gen;

                d->st.stalled++;
                d->st.faults++;
                d->st.stalled_now++;
                vlog(d, "stall %s %llu+%llu\n", op == FDEV_OP_READ ? "read" : "write",
                     (unsigned long long) off, (unsigned long long) len);
                while (gen == d->resume_gen && !should_let_go(d, req, &error))
                        wait_until(d, UINT64_MAX);
                d->st.stalled_now--;
                plan = fdev_rules_plan(&d->rules, op, off, len);
        }

        if (!error && plan.delay_ms) {
                uint64_t gen = d->clear_gen, deadline = now_ns() + plan.delay_ms * NSEC_PER_MSEC;

                d->st.delayed++;
                d->st.faults++;
                d->st.delayed_now++;
                while (gen == d->clear_gen && now_ns() < deadline && !should_let_go(d, req, &error))
                        wait_until(d, deadline);
                d->st.delayed_now--;
                plan = fdev_rules_plan(&d->rules, op, off, len);
        }

        if (!error && plan.error) {
                error = plan.error;
                d->st.failed++;
                d->st.faults++;
        }
        pthread_mutex_unlock(&d->lock);
        return error;
}

static void count_done(struct faultdev *d, unsigned op, ssize_t n)
{
        pthread_mutex_lock(&d->lock);
        if (n < 0)
                d->st.io_errors++;
        else if (op == FDEV_OP_READ)
                d->st.read_bytes += (uint64_t) n;
        else
                d->st.write_bytes += (uint64_t) n;
        pthread_mutex_unlock(&d->lock);
}

/* ---- attributes and names ------------------------------------------------ */

static void fill_attr(const struct faultdev *d, fuse_ino_t ino, struct stat *st)
{
        memset(st, 0, sizeof(*st));
        st->st_ino = ino;
        st->st_uid = getuid();
        st->st_gid = getgid();
        st->st_blksize = 4096;
        switch (ino) {
        case INO_ROOT:
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
                break;
        case INO_DISK:
                st->st_mode = S_IFREG | 0600;
                st->st_nlink = 1;
                st->st_size = (off_t) d->size;
                st->st_blocks = (blkcnt_t) ((d->size + 511) / 512);
                break;
        default:
                /* Size 0 like /proc files: reads are direct_io and not clipped to it. */
                st->st_mode = S_IFREG | 0600;
                st->st_nlink = 1;
                break;
        }
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
        struct fuse_entry_param e = {};

        if (parent != INO_ROOT) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        if (strcmp(name, DISK_NAME) == 0)
                e.ino = INO_DISK;
        else if (strcmp(name, CTL_NAME) == 0)
                e.ino = INO_CTL;
        else {
                fuse_reply_err(req, ENOENT);
                return;
        }
        e.attr_timeout = 1.0;
        e.entry_timeout = 1.0;
        fill_attr(fdev_of(req), e.ino, &e.attr);
        fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        struct stat st;

        fill_attr(fdev_of(req), ino, &st);
        fuse_reply_attr(req, &st, 1.0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
        struct faultdev *d = fdev_of(req);
        struct stat st;

        /* The disk's size is the image's, fixed; truncating ctl (echo > ctl)
         * is a no-op.  Times and modes are not kept. */
        if (ino == INO_DISK && (to_set & FUSE_SET_ATTR_SIZE) && (uint64_t) attr->st_size != d->size) {
                fuse_reply_err(req, EPERM);
                return;
        }
        if (ino == INO_ROOT && (to_set & FUSE_SET_ATTR_SIZE)) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        fill_attr(d, ino, &st);
        fuse_reply_attr(req, &st, 1.0);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
        static const struct {
                const char *name;
                fuse_ino_t ino;
                mode_t mode;
        } ents[] = {
                { ".", INO_ROOT, S_IFDIR }, { "..", INO_ROOT, S_IFDIR },
                { DISK_NAME, INO_DISK, S_IFREG }, { CTL_NAME, INO_CTL, S_IFREG },
        };
        char buf[512];
        size_t used = 0;

        if (ino != INO_ROOT) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        for (size_t i = (size_t) off; off >= 0 && i < ELEMENTSOF(ents); i++) {
                struct stat st = { .st_ino = ents[i].ino, .st_mode = ents[i].mode };
                size_t want = size < sizeof(buf) ? size : sizeof(buf);
                size_t n = fuse_add_direntry(req, buf + used, want - used, ents[i].name, &st,
                                             (off_t) i + 1);

                if (n > want - used)
                        break;
                used += n;
        }
        fuse_reply_buf(req, buf, used);
}

/* ---- ctl ----------------------------------------------------------------- */

_printf_(4, 5)
static void append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (*pos >= size)
                return;
        va_start(ap, fmt);
        n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
        va_end(ap);
        if (n > 0)
                *pos += (size_t) n < size - *pos ? (size_t) n : size - *pos - 1;
}

/* The text a read of ctl returns, taken once at open so that a reader
 * paging through it sees one consistent snapshot. */
static char *ctl_snapshot(struct faultdev *d)
{
        size_t size = (FDEV_RULES_MAX + 16) * (FDEV_LINE_MAX + 8), pos = 0;
        char *buf = malloc(size), line[FDEV_LINE_MAX + 1];

        if (!buf)
                return NULL;
        buf[0] = 0;
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < d->rules.n; i++) {
                fdev_rule_format(&d->rules.rule[i], line, sizeof(line));
                append(buf, size, &pos, "rule %s\n", line);
        }
        append(buf, size, &pos,
               "reads %llu\nwrites %llu\nread_bytes %llu\nwrite_bytes %llu\n"
               "faults %llu\nstalled %llu\ndelayed %llu\nfailed %llu\nio_errors %llu\n"
               "stalled_now %u\ndelayed_now %u\n",
               (unsigned long long) d->st.reads, (unsigned long long) d->st.writes,
               (unsigned long long) d->st.read_bytes, (unsigned long long) d->st.write_bytes,
               (unsigned long long) d->st.faults, (unsigned long long) d->st.stalled,
               (unsigned long long) d->st.delayed, (unsigned long long) d->st.failed,
               (unsigned long long) d->st.io_errors, d->st.stalled_now, d->st.delayed_now);
        pthread_mutex_unlock(&d->lock);
        return buf;
}

/*
 * One write to ctl is a batch of newline-separated commands, applied all or
 * nothing: every line is parsed first (EINVAL on any bad line), then applied
 * to a copy of the table (ENOSPC when it would overflow), then swapped in.
 */
static int ctl_write(struct faultdev *d, const char *data, size_t size)
{
        struct fdev_cmd cmds[CTL_CMDS_MAX];
        struct fdev_rules *next;
        char text[CTL_WRITE_MAX + 1], *line, *save = NULL;
        size_t n = 0;
        bool resume = false, clear = false;
        int r = 0;

        if (size > CTL_WRITE_MAX || memchr(data, 0, size))
                return -EINVAL;
        memcpy(text, data, size);
        text[size] = 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strspn(line, " \t\r") == strlen(line))
                        continue;
                if (n == CTL_CMDS_MAX || fdev_cmd_parse(line, &cmds[n]) < 0)
                        return -EINVAL;
                n++;
        }
        if (n == 0)
                return -EINVAL;

        next = malloc(sizeof(*next));
        if (!next)
                return -ENOMEM;
        pthread_mutex_lock(&d->lock);
        *next = d->rules;
        for (size_t i = 0; i < n && r == 0; i++) {
                r = fdev_rules_apply(next, &cmds[i]);
                resume |= cmds[i].type != FDEV_CMD_RULE;
                clear |= cmds[i].type == FDEV_CMD_CLEAR;
        }
        if (r == 0) {
                d->rules = *next;
                if (resume)
                        d->resume_gen++;
                if (clear)
                        d->clear_gen++;
                pthread_cond_broadcast(&d->cond);
        }
        pthread_mutex_unlock(&d->lock);
        free(next);
        return r;
}

/* ---- open, read, write ------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        struct faultdev *d = fdev_of(req);

        if (ino == INO_ROOT) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        /* direct_io: no kernel page cache on top of the image, so every read
         * and write of "disk" reaches fault_gate() and a fault is never
         * hidden by (or stuck in) cached pages. */
        fi->direct_io = 1;
        fi->keep_cache = 0;
        if (ino == INO_CTL && (fi->flags & O_ACCMODE) != O_WRONLY) {
                char *snap = ctl_snapshot(d);

                if (!snap) {
                        fuse_reply_err(req, ENOMEM);
                        return;
                }
                fi->fh = (uint64_t) (uintptr_t) snap;
        }
        fuse_reply_open(req, fi);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
        if (ino == INO_CTL)
                free((char *) (uintptr_t) fi->fh);
        fuse_reply_err(req, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
        struct faultdev *d = fdev_of(req);
        _cleanup_free_ char *buf = NULL;
        ssize_t n;
        int error;

        if (ino == INO_CTL) {
                const char *snap = (const char *) (uintptr_t) fi->fh;
                size_t len = snap ? strlen(snap) : 0;

                size_t n_ctl = (uint64_t) off >= len ? 0 : size < len - (size_t) off ? size : len - (size_t) off;

                /* Reply from a copy: once the reply is in the kernel the
                 * reader may close ctl and another FUSE thread free the
                 * snapshot (op_release) before fuse_reply_buf() returns;
                 * ASan's writev interceptor reads the buffer after the call. */
                buf = malloc(n_ctl ? n_ctl : 1);
                if (!buf) {
                        fuse_reply_err(req, ENOMEM);
                        return;
                }
                if (n_ctl)
                        memcpy(buf, snap + off, n_ctl);
                fuse_reply_buf(req, buf, n_ctl);
                return;
        }

        error = fault_gate(d, req, FDEV_OP_READ, (uint64_t) off, size);
        if (error) {
                vlog(d, "read %lld+%zu: fail %s\n", (long long) off, size, fdev_errno_to_name(error));
                fuse_reply_err(req, error);
                return;
        }
        buf = malloc(size ? size : 1);
        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        do
                n = pread(d->image_fd, buf, size, off);
        while (n < 0 && errno == EINTR);
        error = n < 0 ? errno : 0;
        count_done(d, FDEV_OP_READ, n);
        vlog(d, "read %lld+%zu: %zd\n", (long long) off, size, n);
        if (n < 0)
                fuse_reply_err(req, error);
        else
                fuse_reply_buf(req, buf, (size_t) n);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
        struct faultdev *d = fdev_of(req);
        size_t done = 0;
        int error;

        if (ino == INO_CTL) {
                int r = ctl_write(d, buf, size);

                vlog(d, "ctl %.*s: %d\n", (int) (size && buf[size - 1] == '\n' ? size - 1 : size), buf, r);
                if (r < 0)
                        fuse_reply_err(req, -r);
                else
                        fuse_reply_write(req, size);
                return;
        }

        /* The disk never grows: the loop device's size was read at attach. */
        if ((uint64_t) off > d->size || size > d->size - (uint64_t) off) {
                fuse_reply_err(req, ENOSPC);
                return;
        }
        error = fault_gate(d, req, FDEV_OP_WRITE, (uint64_t) off, size);
        if (error) {
                vlog(d, "write %lld+%zu: fail %s\n", (long long) off, size, fdev_errno_to_name(error));
                fuse_reply_err(req, error);
                return;
        }
        while (done < size) {
                ssize_t n = pwrite(d->image_fd, buf + done, size - done, off + (off_t) done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        error = n < 0 ? errno : EIO;
                        break;
                }
                done += (size_t) n;
        }
        count_done(d, FDEV_OP_WRITE, error && done == 0 ? -1 : (ssize_t) done);
        vlog(d, "write %lld+%zu: %zu%s%s\n", (long long) off, size, done, error ? " " : "",
             error ? fdev_errno_to_name(error) : "");
        if (done == 0 && error)
                fuse_reply_err(req, error);
        else
                fuse_reply_write(req, done);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
        struct faultdev *d = fdev_of(req);

        /* Flushes are not subject to rules: writes already reached the image. */
        if (ino == INO_DISK && (datasync ? fdatasync(d->image_fd) : fsync(d->image_fd)) < 0)
                fuse_reply_err(req, errno);
        else
                fuse_reply_err(req, 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
        struct faultdev *d = fdev_of(req);

        /* The loop device turns discard and write-zeroes into
         * PUNCH_HOLE / ZERO_RANGE with KEEP_SIZE; pass those through
         * (not subject to rules).  Anything that could grow the file is refused. */
        if (ino != INO_DISK || !(mode & FALLOC_FL_KEEP_SIZE)) {
                fuse_reply_err(req, EOPNOTSUPP);
                return;
        }
        if (fallocate(d->image_fd, mode, off, len) < 0)
                fuse_reply_err(req, errno);
        else
                fuse_reply_err(req, 0);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
        struct faultdev *d = userdata;

        conn->max_background = MAX_BACKGROUND;
        conn->congestion_threshold = MAX_BACKGROUND * 3 / 4;
        vlog(d, "init: proto %u.%u max_write %u max_read %u max_readahead %u max_background %u "
             "async_dio %s\n", conn->proto_major, conn->proto_minor, conn->max_write, conn->max_read,
             conn->max_readahead, conn->max_background,
             conn->want & FUSE_CAP_ASYNC_DIO ? "on" : "off");
}

static const struct fuse_lowlevel_ops fdev_ops = {
        .init = op_init,
        .lookup = op_lookup,
        .getattr = op_getattr,
        .setattr = op_setattr,
        .readdir = op_readdir,
        .open = op_open,
        .release = op_release,
        .read = op_read,
        .write = op_write,
        .fsync = op_fsync,
        .fallocate = op_fallocate,
};

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: mmp-faultdev [-f] [-v] IMAGE MOUNTPOINT\n"
                "Serve IMAGE as MOUNTPOINT/disk with faults injected on command through\n"
                "MOUNTPOINT/ctl.  -f stays in the foreground, -v logs every request to stderr.\n"
                "ctl commands (one per line):\n"
                "  delay read|write|all MS [OFFSET LEN]\n"
                "  stall read|write|all [OFFSET LEN]\n"
                "  fail read|write|all ERRNO_NAME [OFFSET LEN]\n"
                "  resume\n"
                "  clear\n");
}

static int faultdev_init(struct faultdev *d, const char *image)
{
        pthread_condattr_t ca;
        struct stat st;

        d->image_fd = open(image, O_RDWR | O_CLOEXEC);
        if (d->image_fd < 0 || fstat(d->image_fd, &st) < 0) {
                fprintf(stderr, "mmp-faultdev: %s: %s\n", image, strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode)) {
                fprintf(stderr, "mmp-faultdev: %s: not a regular file\n", image);
                return -1;
        }
        d->size = (uint64_t) st.st_size;
        pthread_mutex_init(&d->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&d->cond, &ca);
        pthread_condattr_destroy(&ca);
        return 0;
}

int main(int argc, char **argv)
{
        struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
        struct faultdev d = { .image_fd = -1 };
        struct fuse_loop_config *cfg = NULL;
        _cleanup_free_ char *mnt = NULL;
        bool foreground = false;
        int c, r, ret = 1;

        while ((c = getopt(argc, argv, "fvh")) >= 0)
                switch (c) {
                case 'f':
                        foreground = true;
                        break;
                case 'v':
                        d.verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        if (argc - optind != 2) {
                usage(stderr);
                return 2;
        }
        if (faultdev_init(&d, argv[optind]) < 0)
                goto out;
        /* Absolute: fuse_daemonize() moves to / and unmount uses this path. */
        mnt = realpath(argv[optind + 1], NULL);
        if (!mnt) {
                fprintf(stderr, "mmp-faultdev: %s: %s\n", argv[optind + 1], strerror(errno));
                goto out;
        }

        if (fuse_opt_add_arg(&args, "mmp-faultdev") < 0 ||
            fuse_opt_add_arg(&args, "-o") < 0 ||
            fuse_opt_add_arg(&args, "fsname=mmp-faultdev,subtype=mmp-faultdev") < 0)
                goto out;
        d.se = fuse_session_new(&args, &fdev_ops, sizeof(fdev_ops), &d);
        if (!d.se)
                goto out;
        /* SIGTERM, SIGINT, SIGHUP end the loop; held requests notice within
         * WAIT_SLICE_MS and complete, so the loop can join every worker and
         * a loop device on top can still be detached. */
        if (fuse_set_signal_handlers(d.se) < 0)
                goto out_destroy;
        if (fuse_session_mount(d.se, mnt) < 0)
                goto out_signals;
        if (fuse_daemonize(foreground) < 0)
                goto out_unmount;

        cfg = fuse_loop_cfg_create();
        if (!cfg)
                goto out_unmount;
        fuse_loop_cfg_set_max_threads(cfg, MAX_THREADS);
        fuse_loop_cfg_set_clone_fd(cfg, 0);
        r = fuse_session_loop_mt(d.se, cfg);
        /* 0, or the signal that ended it: both a clean stop. */
        ret = r < 0 ? 1 : 0;
        fuse_loop_cfg_destroy(cfg);

out_unmount:
        fuse_session_unmount(d.se);
out_signals:
        fuse_remove_signal_handlers(d.se);
out_destroy:
        fuse_session_destroy(d.se);
out:
        fuse_opt_free_args(&args);
        if (d.image_fd >= 0)
                close(d.image_fd);
        return ret;
}
