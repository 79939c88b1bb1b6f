/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening and describing a device for MMP I/O (io.h).  No I/O happens here,
 * only open(), fstat/statx, fcntl and the block size ioctls.
 *
 * An fd shared with someone else (the fd store, a dup) shares the file
 * offset and the O_DIRECT flag with them, so the engine only ever does
 * positioned I/O, and the O_DIRECT check is made on the fd that does it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/param.h>          /* MAX */
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>           /* BLKSSZGET, BLKGETSIZE64 */

#include "macro.h"
#include "io.h"
#include "io-internal.h"

/* glibc and kernel headers older than Linux 6.1 lack the DIO alignment
 * fields; their offsets in struct statx are kernel ABI. */
#ifdef STATX_DIOALIGN
#define STX_DIO_MEM_ALIGN(s)    ((s)->stx_dio_mem_align)
#define STX_DIO_OFFSET_ALIGN(s) ((s)->stx_dio_offset_align)
#else
#define STATX_DIOALIGN 0x00002000U
_Static_assert(sizeof(struct statx) >= 0xa0, "struct statx too small for the DIO fields");
static uint32_t statx_u32(const struct statx *stx, size_t off)
{
        uint32_t v;
        memcpy(&v, (const char *) stx + off, sizeof(v));
        return v;
}
#define STX_DIO_MEM_ALIGN(s)    statx_u32((s), 0x98)
#define STX_DIO_OFFSET_ALIGN(s) statx_u32((s), 0x9c)
#endif

#define SECTOR_SIZE 512u

static bool is_pow2(size_t x)
{
        return x && !(x & (x - 1));
}

/*
 * Alignment for O_DIRECT on a regular file: statx DIOALIGN (Linux 6.1+),
 * else the classic sector.  -EOPNOTSUPP when the filesystem says this file
 * cannot do direct I/O at all.
 */
static int file_dio_align(int fd, size_t *ret_align)
{
        struct statx stx = {};
        uint32_t mem, off;

        if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) < 0 ||
            !(stx.stx_mask & STATX_DIOALIGN)) {
                *ret_align = SECTOR_SIZE;
                return 0;
        }
        mem = STX_DIO_MEM_ALIGN(&stx);
        off = STX_DIO_OFFSET_ALIGN(&stx);
        if (mem == 0 || off == 0)
                return -EOPNOTSUPP;
        *ret_align = MAX(mem, off);
        return 0;
}

static int block_geometry(int fd, size_t *ret_align, uint64_t *ret_size)
{
        int ssz;
        uint64_t size;

        if (ioctl(fd, BLKSSZGET, &ssz) < 0)
                return -errno;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return -errno;
        if (ssz <= 0)
                return -EINVAL;
        *ret_align = (size_t) ssz;
        *ret_size = size;
        return 0;
}

/* Takes @anchor_fd on success; @st describes it. */
static int dev_new(int anchor_fd, const char *path, const struct stat *st, struct mmpd_dev **ret)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *p = NULL;
        struct mmpd_dev *dev;
        size_t align = SECTOR_SIZE;
        uint64_t size = 0;
        int fl, r;

        fd = fcntl(anchor_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0)
                return -errno;

        if (S_ISBLK(st->st_mode)) {
                /* The seed's rule: MMP I/O on a block device bypasses the
                 * page cache, or a peer's heartbeat could go unseen. */
                if (!(fl & O_DIRECT))
                        return -EBADFD;
                r = block_geometry(fd, &align, &size);
                if (r < 0)
                        return r;
        } else {
                align = SECTOR_SIZE;
                if (fl & O_DIRECT) {
                        r = file_dio_align(fd, &align);
                        if (r == -EOPNOTSUPP) {
                                /* Same open file as the anchor (and as an
                                 * adopter's fd): the flag changes for all. */
                                if (fcntl(fd, F_SETFL, fl & ~O_DIRECT) < 0)
                                        return -errno;
                                fl &= ~O_DIRECT;
                                align = SECTOR_SIZE;
                        } else if (r < 0)
                                return r;
                }
                size = (uint64_t) st->st_size;
                /* Every heartbeat writes the file, and relatime then makes
                 * the next read update its atime: a dirty inode and a
                 * journal handle per read, about 1.3 us of CPU per beat
                 * at 10,000 image files.  Where we may (the file's owner,
                 * or CAP_FOWNER) reads leave the atime alone; the flag is
                 * the open file's, as O_DIRECT above. */
                if (!(fl & O_NOATIME) && fcntl(fd, F_SETFL, fl | O_NOATIME) == 0)
                        fl |= O_NOATIME;
        }
        align = MAX(align, (size_t) SECTOR_SIZE);
        if (!is_pow2(align))
                return -EINVAL;

        p = strdup(path);
        if (!p)
                return -ENOMEM;
        dev = calloc(1, sizeof(*dev));
        if (!dev)
                return -ENOMEM;
        *dev = (struct mmpd_dev) {
                .n_ref = 1,
                .anchor_fd = anchor_fd,
                .fd = TAKE_FD(fd),
                .align = align,
                .is_block = S_ISBLK(st->st_mode),
                .direct = fl & O_DIRECT,
                .nowait = S_ISBLK(st->st_mode) && (fl & O_DIRECT),
                .rdev = S_ISBLK(st->st_mode) ? st->st_rdev : 0,
                .file_dev = S_ISBLK(st->st_mode) ? 0 : st->st_dev,
                .file_ino = S_ISBLK(st->st_mode) ? 0 : st->st_ino,
                .size = size,
                .path = TAKE_PTR(p),
        };
        *ret = dev;
        return 0;
}

int mmpd_dev_open(const char *path, struct mmpd_dev **ret)
{
        return mmpd_dev_open_ex(path, true, ret);
}

int mmpd_dev_open_ex(const char *path, bool exclusive, struct mmpd_dev **ret)
{
        _cleanup_close_ int fd = -1;
        struct stat st, st2;
        int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_DIRECT, r;

        if (!path || !ret)
                return -EINVAL;
        /* Look before opening: opening some character devices has side
         * effects (a watchdog starts ticking). */
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                if (exclusive)
                        flags |= O_EXCL;        /* fails with EBUSY while mounted or claimed */
        } else if (!S_ISREG(st.st_mode)) {
                return -ENOTBLK;
        }

        fd = open(path, flags);
        if (fd < 0 && errno == EINVAL && S_ISREG(st.st_mode))
                fd = open(path, flags & ~O_DIRECT);     /* e.g. tmpfs */
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st2) < 0)
                return -errno;
        if ((st2.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
                return -ENOTBLK;                        /* replaced under us */

        r = dev_new(fd, path, &st2, ret);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        (*ret)->exclusive = flags & O_EXCL;
        return 0;
}

int mmpd_dev_set_exclusive(struct mmpd_dev *dev, bool exclusive)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!dev->is_block || dev->exclusive == exclusive)
                return 0;
        fd = open(dev->path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_DIRECT | (exclusive ? O_EXCL : 0));
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode) || st.st_rdev != dev->rdev)
                return -ENXIO;                  /* the path names another device now */
        if (dup3(fd, dev->anchor_fd, O_CLOEXEC) < 0 || dup3(fd, dev->fd, O_CLOEXEC) < 0)
                return -errno;
        dev->exclusive = exclusive;
        return 0;
}

int mmpd_dev_open_shared(const struct mmpd_dev *dev)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!dev->is_block) {
                fd = fcntl(dev->anchor_fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? -errno : TAKE_FD(fd);
        }
        fd = open(dev->path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_DIRECT);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode) || st.st_rdev != dev->rdev)
                return -ENXIO;
        return TAKE_FD(fd);
}

bool mmpd_dev_is_exclusive(const struct mmpd_dev *dev)
{
        return dev->exclusive;
}

int mmpd_dev_adopt(int fd, const char *path, struct mmpd_dev **ret)
{
        _cleanup_close_ int anchor = -1;
        struct stat st;
        int fl, r;

        if (fd < 0)
                return -EBADF;
        if (!path || !ret)
                return -EINVAL;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
                return -ENOTBLK;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0)
                return -errno;
        /* Checked here, not at the first write a claim makes. */
        if ((fl & O_ACCMODE) != O_RDWR)
                return -EBADF;
        if (S_ISBLK(st.st_mode) && !(fl & O_DIRECT))
                return -EBADFD;

        anchor = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (anchor < 0)
                return -errno;
        r = dev_new(anchor, path, &st, ret);
        if (r < 0)
                return r;
        TAKE_FD(anchor);
        return 0;
}

void mmpd_dev_unref(struct mmpd_dev *dev)
{
        if (--dev->n_ref > 0)
                return;
        closep(&dev->fd);
        closep(&dev->anchor_fd);
        free(dev->path);
        free(dev);
}

struct mmpd_dev *mmpd_dev_free(struct mmpd_dev *dev)
{
        if (dev)
                mmpd_dev_unref(dev);
        return NULL;
}

int mmpd_dev_fd(const struct mmpd_dev *dev) { return dev->fd; }
int mmpd_dev_anchor_fd(const struct mmpd_dev *dev) { return dev->anchor_fd; }
size_t mmpd_dev_align(const struct mmpd_dev *dev) { return dev->align; }
bool mmpd_dev_is_block(const struct mmpd_dev *dev) { return dev->is_block; }
bool mmpd_dev_is_direct(const struct mmpd_dev *dev) { return dev->direct; }
dev_t mmpd_dev_rdev(const struct mmpd_dev *dev) { return dev->rdev; }

bool mmpd_dev_is(const struct mmpd_dev *dev, const struct stat *st)
{
        if (S_ISBLK(st->st_mode))
                return dev->is_block && dev->rdev == st->st_rdev;
        return !dev->is_block && dev->file_dev == st->st_dev && dev->file_ino == st->st_ino;
}

static uint64_t dev_key(bool block, dev_t rdev, dev_t fdev, ino_t ino)
{
        if (block)
                return ((uint64_t) rdev * 0x9e3779b97f4a7c15u) ^ 0xb10c;
        return ((uint64_t) fdev * 0x9e3779b97f4a7c15u) ^ ((uint64_t) ino * 0xc2b2ae3d27d4eb4fu);
}

uint64_t mmpd_dev_key(const struct mmpd_dev *dev)
{
        return dev_key(dev->is_block, dev->rdev, dev->file_dev, dev->file_ino);
}

uint64_t mmpd_dev_stat_key(const struct stat *st)
{
        return dev_key(S_ISBLK(st->st_mode), st->st_rdev, st->st_dev, st->st_ino);
}

const char *mmpd_dev_path(const struct mmpd_dev *dev) { return dev->path; }
uint64_t mmpd_dev_size(const struct mmpd_dev *dev) { return dev->size; }
