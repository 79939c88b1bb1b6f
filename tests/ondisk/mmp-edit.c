/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmp-edit IMAGE [seq=N|clean|fsck] [time=N] [node=NAME] [dev=NAME] [check_interval=N]
 *
 * Test helper: read an image's MMP block, change the given fields with
 * mmp_block_encode() and write the whole block back.  e2fsprogs' tools are
 * then the judges of what was written (tests/ondisk/encode.sh, golden.sh).
 * debugfs cannot do this itself: its set_mmp_value rewrites seq and time
 * when it closes and refuses full-width names.
 * Exit 0 on success, 1 on any error (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "mmp-ondisk.h"

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno || end == s || *end || *s == '-' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int apply(struct mmp_block *b, const char *arg)
{
        const char *eq = strchr(arg, '=');
        const char *val = eq ? eq + 1 : "";
        size_t klen = eq ? (size_t) (eq - arg) : strlen(arg);
        uint64_t v;

#define KEY(k) (klen == strlen(k) && strncmp(arg, k, klen) == 0)
        if (KEY("seq")) {
                if (strcmp(val, "clean") == 0)
                        v = MMP_SEQ_CLEAN;
                else if (strcmp(val, "fsck") == 0)
                        v = MMP_SEQ_FSCK;
                else if (parse_u64(val, UINT32_MAX, &v) < 0)
                        return -EINVAL;
                b->seq = (uint32_t) v;
        } else if (KEY("time")) {
                if (parse_u64(val, UINT64_MAX, &v) < 0)
                        return -EINVAL;
                b->time = v;
        } else if (KEY("check_interval")) {
                if (parse_u64(val, UINT16_MAX, &v) < 0)
                        return -EINVAL;
                b->check_interval = (uint16_t) v;
        } else if (KEY("node")) {
                if (strlen(val) > MMP_NODENAME_LEN)
                        return -ENAMETOOLONG;
                strcpy(b->nodename, val);
        } else if (KEY("dev")) {
                if (strlen(val) > MMP_BDEVNAME_LEN)
                        return -ENAMETOOLONG;
                strcpy(b->bdevname, val);
        } else {
                return -EINVAL;
        }
#undef KEY
        return 0;
}

int main(int argc, char **argv)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *blk = NULL;
        uint8_t sbuf[MMP_SB_SIZE];
        struct mmp_block b;
        struct mmp_sb sb;
        uint64_t off;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: %s IMAGE [seq=N|clean|fsck] [time=N] [node=NAME] "
                        "[dev=NAME] [check_interval=N]\n", argv[0]);
                return 1;
        }
        fd = open(argv[1], O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "mmp-edit: %s: %m\n", argv[1]);
                return 1;
        }
        if (pread(fd, sbuf, sizeof(sbuf), MMP_SB_OFFSET) != (ssize_t) sizeof(sbuf)) {
                fprintf(stderr, "mmp-edit: %s: cannot read the superblock\n", argv[1]);
                return 1;
        }
        r = mmp_sb_decode(sbuf, sizeof(sbuf), &sb);
        if (r < 0) {
                fprintf(stderr, "mmp-edit: %s: %s\n", argv[1], mmp_ondisk_strerror(r));
                return 1;
        }
        off = mmp_sb_mmp_offset(&sb);
        blk = malloc(sb.block_size);
        if (!blk || pread(fd, blk, sb.block_size, (off_t) off) != (ssize_t) sb.block_size) {
                fprintf(stderr, "mmp-edit: %s: cannot read the MMP block\n", argv[1]);
                return 1;
        }
        r = mmp_block_decode(&sb, blk, sb.block_size, &b);
        if (r < 0) {
                fprintf(stderr, "mmp-edit: %s: %s\n", argv[1], mmp_ondisk_strerror(r));
                return 1;
        }

        for (int i = 2; i < argc; i++) {
                r = apply(&b, argv[i]);
                if (r < 0) {
                        fprintf(stderr, "mmp-edit: bad argument '%s': %s\n", argv[i], strerror(-r));
                        return 1;
                }
        }

        r = mmp_block_encode(&sb, &b, blk, sb.block_size);
        if (r < 0 || pwrite(fd, blk, sb.block_size, (off_t) off) != (ssize_t) sb.block_size ||
            fsync(fd) < 0) {
                fprintf(stderr, "mmp-edit: %s: cannot write the MMP block\n", argv[1]);
                return 1;
        }
        return 0;
}
