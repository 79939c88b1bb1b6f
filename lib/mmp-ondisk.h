/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ext4 superblock and MMP block, decoded and encoded field by field.
 *
 * Nothing here touches a device or a clock: callers hand in the bytes they
 * read and get back a decoded view or a precise error.  Every function
 * returns 0 or a negative errno; mmp_ondisk_strerror() turns the errnos
 * used here into the sentence a user should read.
 *
 * Error codes used by the decoders (one meaning each):
 *   -ENODATA      buffer shorter than the structure (truncated read, empty file)
 *   -EMEDIUMTYPE  not an ext2/3/4 superblock (bad s_magic)
 *   -EOPNOTSUPP   ext4, but the mmp feature is off ("tune2fs -O mmp DEV")
 *   -ERANGE       s_mmp_block outside (s_first_data_block, blocks count), or
 *                 so large that its byte offset would not fit in off_t
 *   -EBADMSG      checksum mismatch (superblock or MMP block)
 *   -EUCLEAN      MMP block has a bad magic number
 *   -EINVAL       some other field is impossible (block size, csum type)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMP_SB_OFFSET      1024u   /* byte offset of the primary superblock */
#define MMP_SB_SIZE        1024u
#define MMP_STRUCT_SIZE    1024u   /* struct mmp_struct; the rest of the block is kept */
#define MMP_NODENAME_LEN   64u
#define MMP_BDEVNAME_LEN   32u

#define MMP_MAGIC          0x004D4D50u
#define MMP_SEQ_CLEAN      0xFF4D4D50u
#define MMP_SEQ_FSCK       0xE24D4D50u
#define MMP_SEQ_MAX        0xE24D4D4Fu

#define MMP_MIN_CHECK_INTERVAL   5u    /* EXT4_MMP_MIN_CHECK_INTERVAL */
#define MMP_MAX_CHECK_INTERVAL   300u  /* kmmpd clamps check_interval to this */
#define MMP_MAX_UPDATE_INTERVAL  300u  /* EXT4_MMP_MAX_UPDATE_INTERVAL */

/* What a tool needs to know about the filesystem to speak MMP to it. */
struct mmp_sb {
        uint32_t block_size;        /* bytes, 1024..65536 */
        uint64_t blocks_count;
        uint32_t first_data_block;
        uint64_t mmp_block;         /* filesystem block number of the MMP block */
        uint16_t update_interval;   /* s_mmp_update_interval, seconds (0 = default 5) */
        bool metadata_csum;         /* MMP block carries a crc32c */
        bool csum_seed_feature;     /* seed stored in s_checksum_seed */
        uint32_t csum_seed;         /* seed for the MMP block checksum */
        uint8_t uuid[16];
        char volume_name[17];       /* s_volume_name, NUL-terminated */
};

enum mmp_seq_class {
        MMP_SEQ_CLASS_ACTIVE,       /* 0..SEQ_MAX: someone may be heartbeating */
        MMP_SEQ_CLASS_CLEAN,        /* released cleanly */
        MMP_SEQ_CLASS_FSCK,         /* an e2fsprogs tool holds it */
        MMP_SEQ_CLASS_INVALID,      /* above FSCK and not CLEAN */
};

/* A decoded MMP block.  Names are always NUL-terminated here, whatever the
 * disk had: the on-disk fields need not be. */
struct mmp_block {
        uint32_t magic;
        uint32_t seq;
        uint64_t time;                          /* wall-clock seconds, informational */
        char nodename[MMP_NODENAME_LEN + 1];
        char bdevname[MMP_BDEVNAME_LEN + 1];
        uint16_t check_interval;
        uint32_t checksum;                      /* as stored */
        bool checksum_ok;                       /* true also when the fs has no metadata_csum */
};

/*
 * Decode the superblock from @buf, which holds the 1024 bytes found at byte
 * offset 1024 of the device.  Checks magic, block size, the superblock
 * checksum (metadata_csum), the mmp feature and the MMP block's range, in
 * that order, so a non-ext4 buffer is never reported as "no mmp feature".
 */
int mmp_sb_decode(const void *buf, size_t len, struct mmp_sb *ret);

/* Byte offset of the MMP block on the device. */
uint64_t mmp_sb_mmp_offset(const struct mmp_sb *sb);

/* Effective update interval: s_mmp_update_interval, or the default 5 when 0. */
unsigned mmp_sb_update_interval(const struct mmp_sb *sb);

/*
 * Decode an MMP block of @len bytes (at least MMP_STRUCT_SIZE).  Returns
 * -EUCLEAN on a bad magic and -EBADMSG on a bad checksum, but fills @ret in
 * both cases so callers can still show what is there.
 */
int mmp_block_decode(const struct mmp_sb *sb, const void *buf, size_t len,
                     struct mmp_block *ret);

/*
 * mmp_block_decode() for a @buf the caller knows to be byte for byte a
 * block whose checksum was good (one decoded without error, or written by
 * mmp_block_encode()): the checksum is not computed again.  A heartbeat's
 * check read returns the block of the previous write; this saves it a
 * crc32c of 1 KiB.
 */
int mmp_block_decode_same(const struct mmp_sb *sb, const void *buf, size_t len,
                          struct mmp_block *ret);

enum mmp_seq_class mmp_seq_classify(uint32_t seq);
const char *mmp_seq_class_name(enum mmp_seq_class c);

/*
 * Encode @blk into @buf (@len >= MMP_STRUCT_SIZE) in place: the struct's
 * fields are written, pads and the rest of the filesystem block are left
 * as they were, and the checksum is set when the fs has metadata_csum.
 * Names longer than the field are truncated without a NUL, as the kernel
 * does.  blk->magic is ignored: MMP_MAGIC is always written.
 */
int mmp_block_encode(const struct mmp_sb *sb, const struct mmp_block *blk,
                     void *buf, size_t len);

/* Checksum of the first 0x3FC bytes of an MMP block, seeded per @sb. */
uint32_t mmp_block_csum(const struct mmp_sb *sb, const void *buf);

/* Fill a fixed-width name field from a C string (truncates, NUL-pads);
 * a NULL @src clears the field. */
void mmp_name_set(char *dst, size_t field_len, const char *src);

/* Human sentence for an errno returned by this module; never NULL. */
const char *mmp_ondisk_strerror(int err);
