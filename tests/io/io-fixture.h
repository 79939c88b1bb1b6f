/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared fixture for the mmpd/io.c tests: a libev loop with an engine, a
 * temp directory, loop devices and a mount that the teardown undoes, and
 * helpers that drive the loop with ev_run(EVRUN_ONCE) under a guard timer
 * (nothing sleeps).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "mmpd/io.h"

#define MSEC        UINT64_C(1000)
#define GUARD_S     10.0        /* no single wait in here should come close */
#define MAX_LOOPS   4
#define FX_MAX_DEVS 512
#define FX_MAX_SYSFS 8

struct fx {
        struct ev_loop *loop;
        struct mmpd_io *io;
        char dir[PATH_MAX / 2];
        char loops[MAX_LOOPS][64];
        bool loop_on_mnt[MAX_LOOPS];
        int n_loops;
        char mnt[PATH_MAX];
        bool mounted;
        bool frozen;
        struct mmpd_dev **devs;         /* FX_MAX_DEVS, freed by the teardown */
        size_t n_devs;
        struct {                        /* put back by the teardown */
                char path[128];
                char value[64];
        } sysfs[FX_MAX_SYSFS];
        int n_sysfs;
};

/* What a request's callbacks saw. */
struct rec {
        int n_cb, n_idle;
        ssize_t result;
        mmp_usec_t t_cb, t_idle;
        bool busy_in_cb;
        int *done;              /* bumped on every cb, if set */
        void (*then)(struct mmpd_ioreq *req, struct rec *rec);
        unsigned tag;
};

int fx_setup(void **state);
int fx_teardown(void **state);

/* Run the loop until *@counter >= @target or @timeout_s passed. */
bool run_until(struct fx *fx, const int *counter, int target, double timeout_s);
/* Let the loop run for @s seconds (timers, not sleep). */
void run_for(struct fx *fx, double s);
/* Queued + in the kernel. */
unsigned io_inflight(struct mmpd_io *io);

/* A fully allocated file of @size bytes of @fill in the temp dir. */
char *make_file(struct fx *fx, const char *name, off_t size, int fill);
void run_cmd(const char *fmt, ...) _printf_(1, 2);
/* losetup -f --show --direct-io=on [--sector-size SECTOR] IMG; detached by
 * the teardown. */
const char *loop_attach(struct fx *fx, const char *img, unsigned sector);

/* Write @value to the sysfs attribute @path.  The teardown writes back what
 * was there (for a list like "[none] mq-deadline", the one selected): loop
 * devices outlive their attachment, and so do their queue settings. */
void fx_sysfs_set(struct fx *fx, const char *path, const char *value);

struct mmpd_dev *open_dev(struct fx *fx, const char *path);
void keep_dev(struct fx *fx, struct mmpd_dev *dev);     /* teardown frees it */
void drop_dev(struct fx *fx, struct mmpd_dev *dev);     /* the test freed it */

void rec_cb(struct mmpd_ioreq *req, ssize_t result, void *userdata);
void rec_idle(struct mmpd_ioreq *req, void *userdata);
struct mmpd_ioreq *new_req(struct fx *fx, struct mmpd_dev *dev, size_t size, struct rec *rec);
/* Submit, run to completion, return the result. */
ssize_t do_io(struct fx *fx, struct mmpd_ioreq *req, struct rec *rec,
              enum mmpd_io_op op, uint64_t off, size_t len);
void pread_check(const char *path, uint64_t off, const void *want, size_t len);
/* Write @len bytes of a pattern at @off through the engine, check them with
 * a separate pread() of @check_path, read them back through the engine. */
void roundtrip(struct fx *fx, struct mmpd_dev *dev, const char *check_path,
               uint64_t off, size_t len, int pattern);
void assert_near(mmp_usec_t t, mmp_usec_t want, mmp_usec_t slack);
