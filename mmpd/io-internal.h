/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by mmpd/io-dev.c and mmpd/io.c only: not part of the io.h contract. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mmpd_dev {
        unsigned n_ref;         /* the caller's + one per request */
        int anchor_fd;
        int fd;
        size_t align;
        bool is_block;
        bool direct;
        bool exclusive;         /* opened with O_EXCL (block devices) */
        bool nowait;            /* I/O goes with RWF_NOWAIT (O_DIRECT block
                                 * devices, until the kernel refuses it) */
        dev_t rdev;
        dev_t file_dev;         /* regular files: st_dev and st_ino, for identity */
        ino_t file_ino;
        uint64_t size;
        char *path;
};

/* Requests hold a reference, so a queued I/O never meets a reused fd. */
static inline void mmpd_dev_ref(struct mmpd_dev *dev)
{
        dev->n_ref++;
}

void mmpd_dev_unref(struct mmpd_dev *dev);
