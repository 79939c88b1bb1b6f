/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "aligned-read.h"

int mmp_pread_span(int fd, size_t align, uint64_t off, size_t len,
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

int mmp_fd_make_direct(int fd, size_t *ret_align, bool *ret_direct)
{
        struct stat st;
        int flags, ssz = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode)) {
                if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                        return -errno;
                *ret_align = 4096;
                *ret_direct = false;
                return 0;
        }
        if (fcntl(fd, F_SETFL, (flags & ~O_NONBLOCK) | O_DIRECT) < 0)
                return -errno;
        if (ioctl(fd, BLKSSZGET, &ssz) < 0)
                return -errno;
        if (ssz < 512 || (ssz & (ssz - 1)) != 0)
                return -EINVAL;
        *ret_align = (size_t) ssz;
        *ret_direct = true;
        return 0;
}
