/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Read a volume's superblock and MMP block from the device, bypassing the
 * page cache on block devices: a cached copy of the MMP block says nothing
 * about what another node wrote (the kernel and e2fsprogs read it with
 * O_DIRECT / bh submit for the same reason).  Positioned reads only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "aligned-read.h"
#include "mmpctl.h"

/* Open read-only; O_DIRECT and the device's logical sector size for block devices. */
static int open_volume(const char *path, bool *ret_direct, size_t *ret_align)
{
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = mmp_fd_make_direct(fd, ret_align, ret_direct);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int mmpctl_ondisk_read(const char *path, struct mmpctl_ondisk *ret, const char **ret_what)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ void *sb_mem = NULL;
        _cleanup_free_ void *blk_mem = NULL;
        struct mmpctl_ondisk v = {};
        const uint8_t *data;
        size_t got;
        int r;

        fd = open_volume(path, &v.direct, &v.align);
        if (fd < 0) {
                *ret_what = "cannot open";
                return fd;
        }

        r = mmp_pread_span(fd, v.align, MMP_SB_OFFSET, MMP_SB_SIZE, &sb_mem, &data, &got);
        if (r < 0) {
                *ret_what = "cannot read";
                return r;
        }
        r = mmp_sb_decode(data, got, &v.sb);
        if (r < 0) {
                *ret_what = NULL;
                return r;
        }

        r = mmp_pread_span(fd, v.align, mmp_sb_mmp_offset(&v.sb), v.sb.block_size,
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
