/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Superblock and MMP block codec.  Offsets come from the structures in
 * <ext2fs/ext2_fs.h>; every field is read with an explicit little-endian
 * load so the code is right on any host, and nothing trusts a raw struct
 * cast of disk bytes.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "mmp-crc32c.h"
#include "mmp-ondisk.h"

_Static_assert(sizeof(struct mmp_struct) == MMP_STRUCT_SIZE, "mmp_struct size");
_Static_assert(sizeof(struct ext2_super_block) == MMP_SB_SIZE, "superblock size");
_Static_assert(offsetof(struct mmp_struct, mmp_checksum) == 0x3FC, "mmp_checksum offset");
_Static_assert(offsetof(struct mmp_struct, mmp_check_interval) == 0x70, "check_interval offset");

#define SB_OFF(f)  offsetof(struct ext2_super_block, f)
#define MMP_OFF(f) offsetof(struct mmp_struct, f)

static uint16_t ld16(const uint8_t *p, size_t off)
{
        uint16_t v;
        memcpy(&v, p + off, sizeof(v));
        return le16toh(v);
}

static uint32_t ld32(const uint8_t *p, size_t off)
{
        uint32_t v;
        memcpy(&v, p + off, sizeof(v));
        return le32toh(v);
}

static uint64_t ld64(const uint8_t *p, size_t off)
{
        uint64_t v;
        memcpy(&v, p + off, sizeof(v));
        return le64toh(v);
}

static void st16(uint8_t *p, size_t off, uint16_t v)
{
        v = htole16(v);
        memcpy(p + off, &v, sizeof(v));
}

static void st32(uint8_t *p, size_t off, uint32_t v)
{
        v = htole32(v);
        memcpy(p + off, &v, sizeof(v));
}

static void st64(uint8_t *p, size_t off, uint64_t v)
{
        v = htole64(v);
        memcpy(p + off, &v, sizeof(v));
}

/* Copy a possibly unterminated fixed-width field into a C string. */
static void name_get(char *dst, const uint8_t *src, size_t field_len)
{
        size_t n = strnlen((const char *) src, field_len);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

void mmp_name_set(char *dst, size_t field_len, const char *src)
{
        size_t n = src ? strnlen(src, field_len) : 0;

        if (n)  /* memcpy(dst, NULL, 0) is undefined behaviour */
                memcpy(dst, src, n);
        memset(dst + n, 0, field_len - n);
}

int mmp_sb_decode(const void *buf, size_t len, struct mmp_sb *ret)
{
        const uint8_t *p = buf;
        struct ext2_super_block es;
        struct mmp_sb sb = {};
        uint32_t log_bs;

        if (!buf || len < MMP_SB_SIZE)
                return -ENODATA;
        if (ld16(p, SB_OFF(s_magic)) != EXT2_SUPER_MAGIC)
                return -EMEDIUMTYPE;

        /* Native-endian copy only so the ext2fs_has_feature_*() helpers
         * can be used; all values below are still loaded explicitly. */
        memcpy(&es, p, sizeof(es));
#if __BYTE_ORDER == __BIG_ENDIAN
        ext2fs_swap_super(&es);
#endif
        log_bs = ld32(p, SB_OFF(s_log_block_size));
        if (log_bs > EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE)
                return -EINVAL;
        sb.block_size = EXT2_MIN_BLOCK_SIZE << log_bs;

        sb.metadata_csum = ext2fs_has_feature_metadata_csum(&es);
        if (sb.metadata_csum) {
                if (p[SB_OFF(s_checksum_type)] != EXT2_CRC32C_CHKSUM)
                        return -EINVAL;
                /* ext2fs_superblock_csum(): crc32c(~0) over all but s_checksum */
                if (mmp_crc32c(~0u, p, SB_OFF(s_checksum)) != ld32(p, SB_OFF(s_checksum)))
                        return -EBADMSG;
        }

        if (!ext2fs_has_feature_mmp(&es))
                return -EOPNOTSUPP;

        sb.blocks_count = ld32(p, SB_OFF(s_blocks_count));
        if (ext2fs_has_feature_64bit(&es))
                sb.blocks_count |= (uint64_t) ld32(p, SB_OFF(s_blocks_count_hi)) << 32;
        sb.first_data_block = ld32(p, SB_OFF(s_first_data_block));
        sb.mmp_block = ld64(p, SB_OFF(s_mmp_block));
        if (sb.mmp_block <= sb.first_data_block || sb.mmp_block >= sb.blocks_count)
                return -ERANGE;
        /* A corrupt s_blocks_count_hi can make an absurd s_mmp_block look in
         * range; its byte offset must not wrap past 2^64 (it would point at
         * some other block, even the superblock) and must fit in off_t. */
        if (sb.mmp_block > ((uint64_t) INT64_MAX - (sb.block_size - 1)) / sb.block_size)
                return -ERANGE;
        sb.update_interval = ld16(p, SB_OFF(s_mmp_update_interval));

        memcpy(sb.uuid, p + SB_OFF(s_uuid), sizeof(sb.uuid));
        name_get(sb.volume_name, p + SB_OFF(s_volume_name), sizeof(es.s_volume_name));
        sb.csum_seed_feature = ext2fs_has_feature_csum_seed(&es);
        if (sb.csum_seed_feature)
                sb.csum_seed = ld32(p, SB_OFF(s_checksum_seed));
        else
                sb.csum_seed = mmp_crc32c(~0u, sb.uuid, sizeof(sb.uuid));

        *ret = sb;
        return 0;
}

uint64_t mmp_sb_mmp_offset(const struct mmp_sb *sb)
{
        return sb->mmp_block * (uint64_t) sb->block_size;
}

unsigned mmp_sb_update_interval(const struct mmp_sb *sb)
{
        /* e2fsprogs and the kernel both treat 0 as "not set": the default. */
        return sb->update_interval ? sb->update_interval : EXT4_MMP_UPDATE_INTERVAL;
}

uint32_t mmp_block_csum(const struct mmp_sb *sb, const void *buf)
{
        /* ext2fs_mmp_csum(): raw crc32c seeded with the fs seed, no block number */
        return mmp_crc32c(sb->csum_seed, buf, MMP_OFF(mmp_checksum));
}

enum mmp_seq_class mmp_seq_classify(uint32_t seq)
{
        if (seq == MMP_SEQ_CLEAN)
                return MMP_SEQ_CLASS_CLEAN;
        if (seq == MMP_SEQ_FSCK)
                return MMP_SEQ_CLASS_FSCK;
        if (seq > MMP_SEQ_FSCK)
                return MMP_SEQ_CLASS_INVALID;
        return MMP_SEQ_CLASS_ACTIVE;
}

const char *mmp_seq_class_name(enum mmp_seq_class c)
{
        switch (c) {
        case MMP_SEQ_CLASS_ACTIVE:  return "active";
        case MMP_SEQ_CLASS_CLEAN:   return "clean";
        case MMP_SEQ_CLASS_FSCK:    return "fsck";
        case MMP_SEQ_CLASS_INVALID: return "invalid";
        }
        return "invalid";
}

static int block_decode(const struct mmp_sb *sb, const void *buf, size_t len, bool csum_known_ok,
                        struct mmp_block *ret)
{
        const uint8_t *p = buf;
        struct mmp_block b = {};

        if (!buf || len < MMP_STRUCT_SIZE)
                return -ENODATA;

        b.magic = ld32(p, MMP_OFF(mmp_magic));
        b.seq = ld32(p, MMP_OFF(mmp_seq));
        b.time = ld64(p, MMP_OFF(mmp_time));
        name_get(b.nodename, p + MMP_OFF(mmp_nodename), MMP_NODENAME_LEN);
        name_get(b.bdevname, p + MMP_OFF(mmp_bdevname), MMP_BDEVNAME_LEN);
        b.check_interval = ld16(p, MMP_OFF(mmp_check_interval));
        b.checksum = ld32(p, MMP_OFF(mmp_checksum));
        b.checksum_ok = csum_known_ok || !sb->metadata_csum || mmp_block_csum(sb, p) == b.checksum;

        *ret = b;
        /* Same order as ext2fs_mmp_read(): magic first, then checksum. */
        if (b.magic != MMP_MAGIC)
                return -EUCLEAN;
        if (!b.checksum_ok)
                return -EBADMSG;
        return 0;
}

int mmp_block_decode(const struct mmp_sb *sb, const void *buf, size_t len,
                     struct mmp_block *ret)
{
        return block_decode(sb, buf, len, false, ret);
}

int mmp_block_decode_same(const struct mmp_sb *sb, const void *buf, size_t len,
                          struct mmp_block *ret)
{
        return block_decode(sb, buf, len, true, ret);
}

int mmp_block_encode(const struct mmp_sb *sb, const struct mmp_block *blk,
                     void *buf, size_t len)
{
        uint8_t *p = buf;

        if (!buf || len < MMP_STRUCT_SIZE)
                return -ENODATA;

        st32(p, MMP_OFF(mmp_magic), MMP_MAGIC);
        st32(p, MMP_OFF(mmp_seq), blk->seq);
        st64(p, MMP_OFF(mmp_time), blk->time);
        mmp_name_set((char *) p + MMP_OFF(mmp_nodename), MMP_NODENAME_LEN, blk->nodename);
        mmp_name_set((char *) p + MMP_OFF(mmp_bdevname), MMP_BDEVNAME_LEN, blk->bdevname);
        st16(p, MMP_OFF(mmp_check_interval), blk->check_interval);
        if (sb->metadata_csum)
                st32(p, MMP_OFF(mmp_checksum), mmp_block_csum(sb, p));
        return 0;
}

const char *mmp_ondisk_strerror(int err)
{
        switch (err < 0 ? -err : err) {
        case 0:           return "success";
        case ENODATA:     return "too short to hold the structure (truncated or empty)";
        case EMEDIUMTYPE: return "not an ext2/ext3/ext4 filesystem (bad superblock magic)";
        case EOPNOTSUPP:  return "the filesystem does not have the mmp feature (enable it with: tune2fs -O mmp DEVICE)";
        case ERANGE:      return "the superblock's MMP block number is outside the filesystem";
        case EBADMSG:     return "checksum does not match (corrupt metadata)";
        case EUCLEAN:     return "the MMP block has a bad magic number (corrupt; e2fsck can rebuild it)";
        case EINVAL:      return "the superblock has an impossible block size or checksum type";
        }
        return "unexpected error";
}
