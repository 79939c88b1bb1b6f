/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The on-disk codec (lib/mmp-ondisk.c).  Input: the 1024 bytes of the
 * superblock, then the MMP block (the rest, at most 64 KiB).  The MMP block
 * is decoded with the decoded superblock, or, when that fails, with a
 * made-up one (with and without metadata_csum) so both decoders get every
 * input.  A block that decodes is encoded back into a copy of its buffer:
 * that must decode cleanly to the same fields, and encoding it again must
 * give the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mmp-ondisk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct mmp_block *a, const struct mmp_block *b)
{
        if (a->seq != b->seq || a->time != b->time || a->check_interval != b->check_interval ||
            strcmp(a->nodename, b->nodename) != 0 || strcmp(a->bdevname, b->bdevname) != 0)
                abort();
}

static void block(const struct mmp_sb *sb, const uint8_t *buf, size_t len)
{
        struct mmp_block b, b2;
        uint8_t *copy, *copy2;
        int r;

        memset(&b, 0xa5, sizeof(b));
        r = mmp_block_decode(sb, buf, len, &b);
        (void) mmp_ondisk_strerror(r);
        if (r != 0 && r != -EUCLEAN && r != -EBADMSG)
                return;
        if (strlen(b.nodename) > MMP_NODENAME_LEN || strlen(b.bdevname) > MMP_BDEVNAME_LEN)
                abort();
        (void) mmp_seq_class_name(mmp_seq_classify(b.seq));
        copy = malloc(len);
        copy2 = malloc(len);
        if (!copy || !copy2)
                abort();
        memcpy(copy, buf, len);
        if (mmp_block_encode(sb, &b, copy, len) != 0)
                abort();
        if (mmp_block_decode(sb, copy, len, &b2) != 0 || !b2.checksum_ok || b2.magic != MMP_MAGIC)
                abort();
        same(&b, &b2);
        memcpy(copy2, copy, len);
        if (mmp_block_encode(sb, &b2, copy2, len) != 0 || memcmp(copy, copy2, len) != 0)
                abort();
        free(copy);
        free(copy2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mmp_sb sb;
        const uint8_t *blk;
        size_t blen;
        int r;

        if (size > MMP_SB_SIZE + 65536)
                return -1;
        r = mmp_sb_decode(data, size < MMP_SB_SIZE ? size : MMP_SB_SIZE, &sb);
        (void) mmp_ondisk_strerror(r);
        if (size <= MMP_SB_SIZE)
                return 0;
        blk = data + MMP_SB_SIZE;
        blen = size - MMP_SB_SIZE;
        if (r == 0) {
                if (sb.block_size < 1024 || sb.block_size > 65536 || sb.mmp_block >= sb.blocks_count ||
                    memchr(sb.volume_name, '\0', sizeof(sb.volume_name)) == NULL)
                        abort();
                (void) mmp_sb_mmp_offset(&sb);
                (void) mmp_sb_update_interval(&sb);
                block(&sb, blk, blen);
        } else {
                memset(&sb, 0, sizeof(sb));
                sb.block_size = 4096;
                sb.blocks_count = 1 << 20;
                sb.mmp_block = 1000;
                block(&sb, blk, blen);
                sb.metadata_csum = true;
                sb.csum_seed = 0x12345678;
                block(&sb, blk, blen);
        }
        return 0;
}
