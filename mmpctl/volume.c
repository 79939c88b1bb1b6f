/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Read a volume's superblock and MMP block from the device, bypassing the
 * page cache on block devices: a cached copy of the MMP block says nothing
 * about what another node wrote (the kernel and e2fsprogs read it with
 * O_DIRECT / bh submit for the same reason).  Positioned reads only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "mmpctl.h"

#define DEFAULT_ALIGN 512u

/*
 * Read @len bytes at @off through an aligned bounce buffer: O_DIRECT wants
 * the buffer address, the offset and the length all aligned to the logical
 * sector size, so the read covers the aligned span around the wanted bytes.
 * *ret_data points at byte @off inside *ret_mem; *ret_len may be short of
 * @len at the end of a file (the decoders then report -ENODATA).
 */
static int read_span(int fd, size_t align, uint64_t off, size_t len,
                     void **ret_mem, const uint8_t **ret_data, size_t *ret_len)
{
        uint64_t start = off - off % align;
        uint64_t end = off + len;
        size_t span, got = 0;
        void *mem;

        if (end % align)
                end += align - end % align;
        if (end < off || end - start > SIZE_MAX || end > (uint64_t) INT64_MAX)
                return -EOVERFLOW;
        span = end - start;
        if (posix_memalign(&mem, align, span) != 0)
                return -ENOMEM;

        while (got < span) {
                ssize_t n = pread(fd, (uint8_t *) mem + got, span - got, (off_t) (start + got));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        free(mem);
                        return r;
                }
                if (n == 0)
                        break;  /* end of file */
                got += n;
        }

        *ret_mem = mem;
        *ret_data = (const uint8_t *) mem + (off - start);
        *ret_len = got > off - start ? got - (off - start) : 0;
        if (*ret_len > len)
                *ret_len = len;
        return 0;
}

/* Open read-only; O_DIRECT and the device's logical sector size for block devices. */
static int open_volume(const char *path, bool *ret_direct, size_t *ret_align)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int ssz;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;

        if (!S_ISBLK(st.st_mode)) {
                *ret_direct = false;
                *ret_align = DEFAULT_ALIGN;
                return TAKE_FD(fd);
        }

        /* Set on the fd we already checked, so the path cannot be swapped
         * between the check and the open. */
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0)
                return -errno;
        if (ioctl(fd, BLKSSZGET, &ssz) < 0)
                return -errno;
        if (ssz < (int) DEFAULT_ALIGN || (ssz & (ssz - 1)) != 0)
                return -EINVAL;

        *ret_direct = true;
        *ret_align = (size_t) ssz;
        return TAKE_FD(fd);
}

int mmpctl_volume_read(const char *path, struct mmpctl_volume *ret, const char **ret_what)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ void *sb_mem = NULL;
        _cleanup_free_ void *blk_mem = NULL;
        struct mmpctl_volume v = {};
        const uint8_t *data;
        size_t got;
        int r;

        fd = open_volume(path, &v.direct, &v.align);
        if (fd < 0) {
                *ret_what = "cannot open";
                return fd;
        }

        r = read_span(fd, v.align, MMP_SB_OFFSET, MMP_SB_SIZE, &sb_mem, &data, &got);
        if (r < 0) {
                *ret_what = "cannot read";
                return r;
        }
        r = mmp_sb_decode(data, got, &v.sb);
        if (r < 0) {
                *ret_what = NULL;
                return r;
        }

        r = read_span(fd, v.align, mmp_sb_mmp_offset(&v.sb), v.sb.block_size,
                      &blk_mem, &data, &got);
        if (r < 0) {
                *ret_what = "cannot read";
                return r;
        }
        r = mmp_block_decode(&v.sb, data, got, &v.blk);
        if (r == -EUCLEAN || r == -EBADMSG) {
                v.blk_err = r;
        } else if (r < 0) {
                *ret_what = NULL;
                return r;
        }

        *ret = v;
        return 0;
}
