/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fake of mmpd/io.h: see fake-io.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-io.h"

struct fake_disk fake_disk;
mmp_usec_t fake_now = 1000 * MMP_USEC_PER_SEC;

struct mmpd_dev {
        char *path;
        bool exclusive;
};

enum req_state { REQ_IDLE, REQ_BUSY, REQ_TIMED_OUT };

struct mmpd_ioreq {
        struct mmpd_ioreq *next;
        struct mmpd_dev *dev;
        uint8_t *buf;
        size_t size;
        mmpd_io_cb cb;
        mmpd_io_idle_cb idle_cb;
        void *userdata;
        enum req_state state;
        enum mmpd_io_op op;
        uint64_t offset;
        size_t len;
        mmp_usec_t started, complete_at, deadline, last;
        bool hung, freed;
};

static struct mmpd_ioreq *reqs;

mmp_usec_t mmpd_now(void) { return fake_now; }

int fake_disk_load(const char *path)
{
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        fake_disk.size = (size_t) st.st_size;
        fake_disk.data = malloc(fake_disk.size);
        if (!fake_disk.data || read(fd, fake_disk.data, fake_disk.size) != (ssize_t) fake_disk.size) {
                close(fd);
                return -EIO;
        }
        close(fd);
        fake_disk.latency = 1000;
        return 0;
}

void fake_disk_free(void)
{
        free(fake_disk.data);
        memset(&fake_disk, 0, sizeof(fake_disk));
        while (reqs) {
                struct mmpd_ioreq *r = reqs;

                reqs = r->next;
                free(r->buf);
                free(r);
        }
}

/* ---- devices ---------------------------------------------------------------- */

static int dev_new(const char *path, struct mmpd_dev **ret)
{
        struct mmpd_dev *d = calloc(1, sizeof(*d));

        if (!d || !(d->path = strdup(path))) {
                free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

int mmpd_dev_open(const char *path, struct mmpd_dev **ret) { return dev_new(path, ret); }
int mmpd_dev_open_ex(const char *path, bool exclusive, struct mmpd_dev **ret) { return dev_new(path, ret); }
int mmpd_dev_adopt(int fd, const char *path, struct mmpd_dev **ret) { return dev_new(path, ret); }

int mmpd_dev_set_exclusive(struct mmpd_dev *dev, bool exclusive)
{
        dev->exclusive = exclusive;
        return 0;
}

bool mmpd_dev_is_exclusive(const struct mmpd_dev *dev) { return dev->exclusive; }
int mmpd_dev_open_shared(const struct mmpd_dev *dev) { return -EOPNOTSUPP; }
dev_t mmpd_dev_rdev(const struct mmpd_dev *dev) { return 0; }
bool mmpd_dev_is(const struct mmpd_dev *dev, const struct stat *st) { return false; }
uint64_t mmpd_dev_key(const struct mmpd_dev *dev) { return 0; }
uint64_t mmpd_dev_stat_key(const struct stat *st) { return 0; }
uint64_t mmpd_dev_size(const struct mmpd_dev *dev) { return fake_disk.size; }
size_t mmpd_dev_align(const struct mmpd_dev *dev) { return 512; }

struct mmpd_dev *mmpd_dev_free(struct mmpd_dev *dev)
{
        if (dev) {
                free(dev->path);
                free(dev);
        }
        return NULL;
}

/* ---- requests ---------------------------------------------------------------- */

int mmpd_ioreq_new(struct mmpd_io *io, struct mmpd_dev *dev, size_t size,
                   mmpd_io_cb cb, mmpd_io_idle_cb idle_cb, void *userdata,
                   struct mmpd_ioreq **ret)
{
        struct mmpd_ioreq *r = calloc(1, sizeof(*r));

        if (!r || !(r->buf = calloc(1, size))) {
                free(r);
                return -ENOMEM;
        }
        r->dev = dev;
        r->size = size;
        r->cb = cb;
        r->idle_cb = idle_cb;
        r->userdata = userdata;
        r->next = reqs;
        reqs = r;
        *ret = r;
        return 0;
}

struct mmpd_ioreq *mmpd_ioreq_free(struct mmpd_ioreq *req)
{
        if (req)
                req->freed = true;      /* reaped by fake_disk_free() */
        return NULL;
}

void *mmpd_ioreq_buf(struct mmpd_ioreq *req) { return req->buf; }
bool mmpd_ioreq_busy(const struct mmpd_ioreq *req) { return req->state != REQ_IDLE; }
mmp_usec_t mmpd_ioreq_last_duration(const struct mmpd_ioreq *req) { return req->last; }

int mmpd_ioreq_submit(struct mmpd_ioreq *req, enum mmpd_io_op op,
                      uint64_t offset, size_t len, mmp_usec_t deadline)
{
        if (req->state != REQ_IDLE || len > req->size)
                return -EBUSY;
        if (offset + len > fake_disk.size)
                return -EINVAL;
        req->state = REQ_BUSY;
        req->op = op;
        req->offset = offset;
        req->len = len;
        req->started = fake_now;
        req->complete_at = fake_now + fake_disk.latency;
        req->deadline = deadline;
        req->hung = fake_disk.hang;
        if (op == MMPD_IO_WRITE)
                fake_disk.writes++;
        else
                fake_disk.reads++;
        if (op == MMPD_IO_READ)
                fake_disk.last_read_at = fake_now;
        return 0;
}

mmp_usec_t fake_io_next(void)
{
        mmp_usec_t next = MMP_USEC_INFINITY;

        for (struct mmpd_ioreq *r = reqs; r; r = r->next) {
                if (r->freed)
                        continue;
                if (r->state == REQ_BUSY && !r->hung && r->complete_at < next)
                        next = r->complete_at;
                if (r->state == REQ_BUSY && r->deadline < next)
                        next = r->deadline;
                if (r->state == REQ_TIMED_OUT && !fake_disk.hang && fake_now < next)
                        next = fake_now;
        }
        return next;
}

void fake_io_run(void)
{
        for (struct mmpd_ioreq *r = reqs; r; r = r->next) {
                if (r->freed)
                        continue;
                if (r->state == REQ_BUSY && !r->hung && r->complete_at <= fake_now &&
                    r->complete_at <= r->deadline) {
                        if (r->op == MMPD_IO_WRITE) {
                                memcpy(fake_disk.data + r->offset, r->buf, r->len);
                                fake_disk.writes_landed++;
                        } else {
                                memcpy(r->buf, fake_disk.data + r->offset, r->len);
                        }
                        r->state = REQ_IDLE;
                        r->last = fake_now - r->started;
                        r->cb(r, (ssize_t) r->len, r->userdata);
                } else if (r->state == REQ_BUSY && r->deadline <= fake_now) {
                        r->state = REQ_TIMED_OUT;
                        r->cb(r, -ETIMEDOUT, r->userdata);
                } else if (r->state == REQ_TIMED_OUT && !fake_disk.hang) {
                        /* The hung I/O is back (its data never landed). */
                        r->state = REQ_IDLE;
                        if (r->idle_cb)
                                r->idle_cb(r, r->userdata);
                }
        }
}
