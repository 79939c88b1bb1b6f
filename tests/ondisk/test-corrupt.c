/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The decoders against real and corrupted bytes.  The real bytes come from
 * mkfs.ext4 (fixture.c), so every checksum that is expected to hold was
 * computed by e2fsprogs, not by the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "fixture.h"
#include "macro.h"
#include "mmp-ondisk.h"

#define SB_OFF(f)  offsetof(struct ext2_super_block, f)
#define MMP_OFF(f) offsetof(struct mmp_struct, f)

static char dir[4096];
static struct fixture fx_nocsum;   /* mmp, no metadata_csum, 1 KiB blocks */
static struct fixture fx_csum;     /* mmp + metadata_csum, 4 KiB blocks */
static struct fixture fx_seed;     /* mmp + metadata_csum + csum_seed, 1 KiB blocks */
static struct fixture fx_nommp;    /* metadata_csum, no mmp */

static struct fixture *const with_mmp[] = { &fx_nocsum, &fx_csum, &fx_seed };

static int group_setup(void **state)
{
        if (fixture_dir_make(dir, sizeof(dir)) < 0)
                return -1;
        if (fixture_mkfs(dir, "nocsum.img", "mmp,^metadata_csum,^metadata_csum_seed", 1024, &fx_nocsum) < 0 ||
            fixture_mkfs(dir, "csum.img", "mmp,metadata_csum,^metadata_csum_seed", 4096, &fx_csum) < 0 ||
            fixture_mkfs(dir, "seed.img", "mmp,metadata_csum,metadata_csum_seed", 1024, &fx_seed) < 0 ||
            fixture_mkfs(dir, "nommp.img", "^mmp,metadata_csum", 4096, &fx_nommp) < 0)
                return -1;
        return 0;
}

static int group_teardown(void **state)
{
        fixture_free(&fx_nocsum);
        fixture_free(&fx_csum);
        fixture_free(&fx_seed);
        fixture_free(&fx_nommp);
        fixture_dir_remove(dir);
        return 0;
}

/* Decode a fixture's superblock; fails the test if that does not work. */
static void sb_of(const struct fixture *f, struct mmp_sb *sb)
{
        assert_int_equal(mmp_sb_decode(f->sb, sizeof(f->sb), sb), 0);
}

static void test_real_superblocks(void **state)
{
        struct mmp_sb sb;

        for (size_t i = 0; i < 3; i++) {
                const struct fixture *f = with_mmp[i];

                sb_of(f, &sb);
                assert_int_equal(sb.block_size, f->block_size);
                assert_int_equal(sb.mmp_block, f->mmp_block);
                assert_int_equal(sb.blocks_count, f->blocks_count);
                assert_int_equal(sb.first_data_block, f->first_data_block);
                assert_int_equal(sb.update_interval, 1);
                assert_int_equal(mmp_sb_mmp_offset(&sb), f->mmp_block * f->block_size);
        }
        sb_of(&fx_nocsum, &sb);
        assert_false(sb.metadata_csum);
        sb_of(&fx_csum, &sb);
        assert_true(sb.metadata_csum);
        assert_false(sb.csum_seed_feature);
        assert_int_equal(sb.csum_seed, ext2fs_crc32c_le(~0u, sb.uuid, sizeof(sb.uuid)));
        sb_of(&fx_seed, &sb);
        assert_true(sb.metadata_csum);
        assert_true(sb.csum_seed_feature);
        assert_int_equal(sb.csum_seed, fixture_ld32(fx_seed.sb, SB_OFF(s_checksum_seed)));
}

static void test_real_mmp_blocks(void **state)
{
        char host[MMP_NODENAME_LEN + 1] = "";
        struct mmp_block b;
        struct mmp_sb sb;

        gethostname(host, MMP_NODENAME_LEN);
        for (size_t i = 0; i < 3; i++) {
                const struct fixture *f = with_mmp[i];

                sb_of(f, &sb);
                assert_int_equal(mmp_block_decode(&sb, f->blk, f->block_size, &b), 0);
                assert_int_equal(b.magic, MMP_MAGIC);
                assert_int_equal(b.seq, MMP_SEQ_CLEAN);
                assert_int_equal(mmp_seq_classify(b.seq), MMP_SEQ_CLASS_CLEAN);
                assert_true(b.checksum_ok);
                assert_int_equal(b.check_interval, MMP_MIN_CHECK_INTERVAL);
                assert_int_equal(b.checksum, fixture_ld32(f->blk, MMP_OFF(mmp_checksum)));
                /* mkfs writes gethostname() and strncpy()s the device path,
                 * which is longer than 32 bytes here: no NUL on disk. */
                assert_string_equal(b.nodename, host);
                assert_true(strlen(f->path) > MMP_BDEVNAME_LEN);
                assert_int_equal(strlen(b.bdevname), MMP_BDEVNAME_LEN);
                assert_memory_equal(b.bdevname, f->path, MMP_BDEVNAME_LEN);
        }
}

/* Bad magic: -EUCLEAN, and every field is still decoded. */
static void test_bad_magic(void **state)
{
        for (size_t i = 0; i < 3; i++) {
                const struct fixture *f = with_mmp[i];
                struct mmp_block good, bad;
                struct mmp_sb sb;
                uint8_t *buf = malloc(f->block_size);

                assert_non_null(buf);
                sb_of(f, &sb);
                assert_int_equal(mmp_block_decode(&sb, f->blk, f->block_size, &good), 0);
                memcpy(buf, f->blk, f->block_size);
                fixture_st32(buf, MMP_OFF(mmp_magic), 0x12345678);
                assert_int_equal(mmp_block_decode(&sb, buf, f->block_size, &bad), -EUCLEAN);
                assert_int_equal(bad.magic, 0x12345678);
                assert_int_equal(bad.seq, good.seq);
                assert_int_equal(bad.time, good.time);
                assert_int_equal(bad.check_interval, good.check_interval);
                assert_string_equal(bad.nodename, good.nodename);
                assert_string_equal(bad.bdevname, good.bdevname);
                assert_int_equal(bad.checksum, good.checksum);
                /* the checksum covers the magic: it broke too, but the magic
                 * is reported first, as ext2fs_mmp_read() does */
                assert_int_equal(bad.checksum_ok, !sb.metadata_csum);
                free(buf);
        }
}

/* Any flipped bit in the checksummed range is caught with metadata_csum. */
static void test_flipped_byte_csum(void **state)
{
        const struct fixture *fs[] = { &fx_csum, &fx_seed };

        for (size_t i = 0; i < ELEMENTSOF(fs); i++) {
                const struct fixture *f = fs[i];
                uint8_t buf[MMP_STRUCT_SIZE];
                struct mmp_block good, b;
                struct mmp_sb sb;

                sb_of(f, &sb);
                assert_int_equal(mmp_block_decode(&sb, f->blk, MMP_STRUCT_SIZE, &good), 0);
                for (size_t off = 0; off < MMP_STRUCT_SIZE; off++) {
                        memcpy(buf, f->blk, sizeof(buf));
                        buf[off] ^= 0x01;
                        int r = mmp_block_decode(&sb, buf, sizeof(buf), &b);
                        assert_int_equal(r, off < 4 ? -EUCLEAN : -EBADMSG);
                        assert_false(b.checksum_ok);
                }
                /* fields are still there to show */
                memcpy(buf, f->blk, sizeof(buf));
                buf[MMP_OFF(mmp_nodename)] ^= 0x20;
                assert_int_equal(mmp_block_decode(&sb, buf, sizeof(buf), &b), -EBADMSG);
                assert_int_equal(b.seq, good.seq);
                assert_int_equal(b.magic, MMP_MAGIC);
                assert_int_equal(b.nodename[0], good.nodename[0] ^ 0x20);
                assert_string_equal(b.nodename + 1, good.nodename + 1);
        }
}

/* Without metadata_csum nothing can notice a changed byte. */
static void test_flipped_byte_nocsum(void **state)
{
        uint8_t buf[MMP_STRUCT_SIZE];
        struct mmp_block b;
        struct mmp_sb sb;

        sb_of(&fx_nocsum, &sb);
        memcpy(buf, fx_nocsum.blk, sizeof(buf));
        buf[MMP_OFF(mmp_nodename)] ^= 0x20;
        buf[MMP_OFF(mmp_checksum)] ^= 0xff;
        assert_int_equal(mmp_block_decode(&sb, buf, sizeof(buf), &b), 0);
        assert_true(b.checksum_ok);
}

/*
 * csum_seed: the seed lives in the superblock and survives a UUID change
 * (that is the feature's point).  Change the UUID: the MMP block mkfs wrote
 * must still verify; clear the feature and it must not.
 */
static void test_csum_seed_not_uuid(void **state)
{
        uint8_t sbuf[MMP_SB_SIZE];
        struct mmp_block b;
        struct mmp_sb sb;

        memcpy(sbuf, fx_seed.sb, sizeof(sbuf));
        memset(sbuf + SB_OFF(s_uuid), 0xA5, 16);
        fixture_sb_resum(sbuf);
        assert_int_equal(mmp_sb_decode(sbuf, sizeof(sbuf), &sb), 0);
        assert_int_equal(sb.csum_seed, fixture_ld32(fx_seed.sb, SB_OFF(s_checksum_seed)));
        assert_int_equal(mmp_block_decode(&sb, fx_seed.blk, fx_seed.block_size, &b), 0);

        fixture_st32(sbuf, SB_OFF(s_feature_incompat),
                     fixture_ld32(sbuf, SB_OFF(s_feature_incompat)) & ~EXT4_FEATURE_INCOMPAT_CSUM_SEED);
        fixture_sb_resum(sbuf);
        assert_int_equal(mmp_sb_decode(sbuf, sizeof(sbuf), &sb), 0);
        assert_false(sb.csum_seed_feature);
        assert_int_equal(mmp_block_decode(&sb, fx_seed.blk, fx_seed.block_size, &b), -EBADMSG);
}

static void test_seq_classes(void **state)
{
        static const struct {
                uint32_t seq;
                enum mmp_seq_class c;
                const char *name;
        } cases[] = {
                { 0,                 MMP_SEQ_CLASS_ACTIVE,  "active" },
                { 1,                 MMP_SEQ_CLASS_ACTIVE,  "active" },
                { 0x1234,            MMP_SEQ_CLASS_ACTIVE,  "active" },
                { MMP_SEQ_MAX,       MMP_SEQ_CLASS_ACTIVE,  "active" },
                { MMP_SEQ_FSCK,      MMP_SEQ_CLASS_FSCK,    "fsck" },
                { MMP_SEQ_FSCK + 1,  MMP_SEQ_CLASS_INVALID, "invalid" },
                { 0xF0000000u,       MMP_SEQ_CLASS_INVALID, "invalid" },
                { MMP_SEQ_CLEAN - 1, MMP_SEQ_CLASS_INVALID, "invalid" },
                { MMP_SEQ_CLEAN,     MMP_SEQ_CLASS_CLEAN,   "clean" },
                { MMP_SEQ_CLEAN + 1, MMP_SEQ_CLASS_INVALID, "invalid" },
                { UINT32_MAX,        MMP_SEQ_CLASS_INVALID, "invalid" },
        };
        uint8_t buf[MMP_STRUCT_SIZE];
        struct mmp_block b;
        struct mmp_sb sb;

        sb_of(&fx_nocsum, &sb);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                memcpy(buf, fx_nocsum.blk, sizeof(buf));
                fixture_st32(buf, MMP_OFF(mmp_seq), cases[i].seq);
                assert_int_equal(mmp_block_decode(&sb, buf, sizeof(buf), &b), 0);
                assert_int_equal(b.seq, cases[i].seq);
                assert_int_equal(mmp_seq_classify(b.seq), cases[i].c);
                assert_string_equal(mmp_seq_class_name(mmp_seq_classify(b.seq)), cases[i].name);
        }
}

/* Full-width names have no NUL on disk; the decoder must stop at the field's end. */
static void test_names_without_nul(void **state)
{
        uint8_t buf[MMP_STRUCT_SIZE];
        struct mmp_block b;
        struct mmp_sb sb;

        sb_of(&fx_nocsum, &sb);
        memcpy(buf, fx_nocsum.blk, sizeof(buf));
        memset(buf + MMP_OFF(mmp_nodename), 'N', MMP_NODENAME_LEN);
        memset(buf + MMP_OFF(mmp_bdevname), 'D', MMP_BDEVNAME_LEN);
        fixture_st16(buf, MMP_OFF(mmp_check_interval), 0x4141);   /* "AA" right after */
        assert_int_equal(mmp_block_decode(&sb, buf, sizeof(buf), &b), 0);
        assert_int_equal(strlen(b.nodename), MMP_NODENAME_LEN);
        assert_int_equal(strlen(b.bdevname), MMP_BDEVNAME_LEN);
        assert_int_equal(strspn(b.nodename, "N"), MMP_NODENAME_LEN);
        assert_int_equal(strspn(b.bdevname, "D"), MMP_BDEVNAME_LEN);
        assert_int_equal(b.check_interval, 0x4141);

        /* Bytes after a NUL are not part of the name; raw bytes are kept as is. */
        memcpy(buf + MMP_OFF(mmp_nodename), "a\tb\xff\0garbage", 13);
        assert_int_equal(mmp_block_decode(&sb, buf, sizeof(buf), &b), 0);
        assert_string_equal(b.nodename, "a\tb\xff");
}

static void test_truncated(void **state)
{
        struct mmp_block b;
        struct mmp_sb sb;
        static const uint8_t zeros[MMP_STRUCT_SIZE];

        assert_int_equal(mmp_sb_decode(NULL, 0, &sb), -ENODATA);
        assert_int_equal(mmp_sb_decode(fx_csum.sb, 0, &sb), -ENODATA);
        assert_int_equal(mmp_sb_decode(fx_csum.sb, 1, &sb), -ENODATA);
        /* a real superblock cut short is "short", not "not ext4" */
        assert_int_equal(mmp_sb_decode(fx_csum.sb, MMP_SB_SIZE - 1, &sb), -ENODATA);
        assert_int_equal(mmp_sb_decode(zeros, MMP_SB_SIZE - 1, &sb), -ENODATA);

        sb_of(&fx_csum, &sb);
        assert_int_equal(mmp_block_decode(&sb, NULL, 0, &b), -ENODATA);
        assert_int_equal(mmp_block_decode(&sb, fx_csum.blk, 0, &b), -ENODATA);
        assert_int_equal(mmp_block_decode(&sb, fx_csum.blk, 1, &b), -ENODATA);
        assert_int_equal(mmp_block_decode(&sb, fx_csum.blk, MMP_STRUCT_SIZE - 1, &b), -ENODATA);
        /* the struct is all the decoder needs, even in a 4 KiB block */
        assert_int_equal(mmp_block_decode(&sb, fx_csum.blk, MMP_STRUCT_SIZE, &b), 0);
}

static void test_other_filesystems(void **state)
{
        uint8_t buf[MMP_SB_SIZE];
        struct mmp_sb sb;

        memset(buf, 0, sizeof(buf));
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EMEDIUMTYPE);
        memset(buf, 0xff, sizeof(buf));
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EMEDIUMTYPE);

        /* XFS: sector 0 is the superblock ("XFSB"); bytes 1024.. hold the
         * AGI ("XAGI") and at 1536 the AGFL ("XAFL"). */
        memset(buf, 0, sizeof(buf));
        memcpy(buf, "XAGI", 4);
        fixture_st32(buf, 4, 1);
        memcpy(buf + 512, "XAFL", 4);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EMEDIUMTYPE);
        memset(buf, 0, sizeof(buf));
        memcpy(buf, "XFSB", 4);
        fixture_st32(buf, 4, 4096);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EMEDIUMTYPE);

        /* ext magic in the wrong byte order */
        memcpy(buf, fx_csum.sb, sizeof(buf));
        buf[SB_OFF(s_magic)] = 0xEF;
        buf[SB_OFF(s_magic) + 1] = 0x53;
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EMEDIUMTYPE);

        /* noise, never "no mmp feature" or "bad checksum" */
        srand(4242);
        for (int n = 0; n < 1000; n++) {
                for (size_t i = 0; i < sizeof(buf); i++)
                        buf[i] = (uint8_t) rand();
                if (buf[SB_OFF(s_magic)] == 0x53 && buf[SB_OFF(s_magic) + 1] == 0xEF)
                        buf[SB_OFF(s_magic)] = 0;
                assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EMEDIUMTYPE);
        }
}

static void test_no_mmp_feature(void **state)
{
        uint8_t buf[MMP_SB_SIZE];
        struct mmp_sb sb;

        assert_int_equal(mmp_sb_decode(fx_nommp.sb, sizeof(fx_nommp.sb), &sb), -EOPNOTSUPP);
        assert_non_null(strstr(mmp_ondisk_strerror(-EOPNOTSUPP), "tune2fs -O mmp"));

        /* Clearing the flag without fixing the checksum is a corrupt superblock;
         * fixing it gives a clean "no mmp". */
        memcpy(buf, fx_csum.sb, sizeof(buf));
        fixture_st32(buf, SB_OFF(s_feature_incompat),
                     fixture_ld32(buf, SB_OFF(s_feature_incompat)) & ~EXT4_FEATURE_INCOMPAT_MMP);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EBADMSG);
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EOPNOTSUPP);
}

/* Set s_mmp_block in a copy of @f's superblock (checksum fixed) and decode. */
static int decode_with_mmp_block(const struct fixture *f, uint64_t blk)
{
        uint8_t buf[MMP_SB_SIZE];
        struct mmp_sb sb;

        memcpy(buf, f->sb, sizeof(buf));
        fixture_st64(buf, SB_OFF(s_mmp_block), blk);
        fixture_sb_resum(buf);
        return mmp_sb_decode(buf, sizeof(buf), &sb);
}

static void test_mmp_block_range(void **state)
{
        for (size_t i = 0; i < 3; i++) {
                const struct fixture *f = with_mmp[i];

                assert_int_equal(decode_with_mmp_block(f, 0), -ERANGE);
                assert_int_equal(decode_with_mmp_block(f, f->first_data_block), -ERANGE);
                assert_int_equal(decode_with_mmp_block(f, f->first_data_block + 1), 0);
                assert_int_equal(decode_with_mmp_block(f, f->blocks_count - 1), 0);
                assert_int_equal(decode_with_mmp_block(f, f->blocks_count), -ERANGE);
                assert_int_equal(decode_with_mmp_block(f, f->blocks_count + 1), -ERANGE);
                assert_int_equal(decode_with_mmp_block(f, UINT64_MAX), -ERANGE);
                assert_int_equal(decode_with_mmp_block(f, UINT64_C(1) << 32 | f->mmp_block), -ERANGE);
        }
}

/*
 * A superblock claiming an enormous filesystem (64bit s_blocks_count_hi) may
 * put s_mmp_block "in range" yet so far out that block * block_size does not
 * fit in 64 bits (or in off_t): the offset would wrap to a small number and
 * point at the wrong block, maybe the superblock itself.
 */
static void test_mmp_offset_overflow(void **state)
{
        uint8_t buf[MMP_SB_SIZE];
        struct mmp_sb sb;

        assert_int_equal(fx_csum.block_size, 4096);
        memcpy(buf, fx_csum.sb, sizeof(buf));
        fixture_st32(buf, SB_OFF(s_blocks_count_hi), UINT32_MAX);
        /* 2^52 blocks of 4 KiB = 2^64 bytes: wraps to the real MMP block's offset */
        fixture_st64(buf, SB_OFF(s_mmp_block), (UINT64_C(1) << 52) + fx_csum.mmp_block);
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -ERANGE);
        /* the last block whose end still fits in off_t is fine */
        fixture_st64(buf, SB_OFF(s_mmp_block), (UINT64_C(1) << 51) - 1);
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), 0);
        assert_true(mmp_sb_mmp_offset(&sb) + sb.block_size - 1 <= (uint64_t) INT64_MAX);
        fixture_st64(buf, SB_OFF(s_mmp_block), UINT64_C(1) << 51);
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -ERANGE);
}

static void test_sb_checksum(void **state)
{
        uint8_t buf[MMP_SB_SIZE];
        struct mmp_sb sb;

        /* a changed byte anywhere before s_checksum, or in s_checksum itself */
        const size_t offs[] = { SB_OFF(s_volume_name), SB_OFF(s_mmp_block), SB_OFF(s_uuid),
                                SB_OFF(s_checksum_seed), SB_OFF(s_checksum) };
        const struct fixture *fs[] = { &fx_csum, &fx_seed };

        for (size_t j = 0; j < ELEMENTSOF(fs); j++)
                for (size_t i = 0; i < ELEMENTSOF(offs); i++) {
                        memcpy(buf, fs[j]->sb, sizeof(buf));
                        buf[offs[i]] ^= 0x10;
                        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EBADMSG);
                }

        /* no metadata_csum: nothing to check */
        memcpy(buf, fx_nocsum.sb, sizeof(buf));
        buf[SB_OFF(s_volume_name)] ^= 0x10;
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), 0);

        /* a checksum type other than crc32c */
        memcpy(buf, fx_csum.sb, sizeof(buf));
        buf[SB_OFF(s_checksum_type)] = 2;
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EINVAL);
}

static void test_bad_block_size(void **state)
{
        uint8_t buf[MMP_SB_SIZE];
        struct mmp_sb sb;

        memcpy(buf, fx_csum.sb, sizeof(buf));
        fixture_st32(buf, SB_OFF(s_log_block_size), 6);         /* 64 KiB: allowed */
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), 0);
        assert_int_equal(sb.block_size, 65536);
        fixture_st32(buf, SB_OFF(s_log_block_size), 7);
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EINVAL);
        fixture_st32(buf, SB_OFF(s_log_block_size), UINT32_MAX);
        fixture_sb_resum(buf);
        assert_int_equal(mmp_sb_decode(buf, sizeof(buf), &sb), -EINVAL);
}

static void test_strerror(void **state)
{
        const int errs[] = { ENODATA, EMEDIUMTYPE, EOPNOTSUPP, ERANGE, EBADMSG, EUCLEAN, EINVAL };
        const char *unknown = mmp_ondisk_strerror(-EPERM);

        assert_non_null(unknown);
        for (size_t i = 0; i < ELEMENTSOF(errs); i++) {
                const char *s = mmp_ondisk_strerror(-errs[i]);

                assert_non_null(s);
                assert_string_not_equal(s, unknown);
                assert_string_equal(s, mmp_ondisk_strerror(errs[i]));
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(s, mmp_ondisk_strerror(-errs[j]));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_superblocks),
                cmocka_unit_test(test_real_mmp_blocks),
                cmocka_unit_test(test_bad_magic),
                cmocka_unit_test(test_flipped_byte_csum),
                cmocka_unit_test(test_flipped_byte_nocsum),
                cmocka_unit_test(test_csum_seed_not_uuid),
                cmocka_unit_test(test_seq_classes),
                cmocka_unit_test(test_names_without_nul),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_other_filesystems),
                cmocka_unit_test(test_no_mmp_feature),
                cmocka_unit_test(test_mmp_block_range),
                cmocka_unit_test(test_mmp_offset_overflow),
                cmocka_unit_test(test_sb_checksum),
                cmocka_unit_test(test_bad_block_size),
                cmocka_unit_test(test_strerror),
        };

        return cmocka_run_group_tests_name("ondisk-corrupt", tests, group_setup, group_teardown);
}
