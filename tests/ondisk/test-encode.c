/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmp_block_encode() on buffers.  The reference is mkfs.ext4's own MMP block:
 * re-encoding what was decoded from it must give the same bytes, checksum
 * included.  tests/ondisk/encode.sh then checks blocks we write with
 * e2fsprogs' tools.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ext2fs/ext2_fs.h>

#include "fixture.h"
#include "macro.h"
#include "mmp-ondisk.h"

#define MMP_OFF(f) offsetof(struct mmp_struct, f)

static char dir[4096];
static struct fixture fx[3];    /* no csum 1 KiB, csum 4 KiB, csum_seed 4 KiB */

static int group_setup(void **state)
{
        if (fixture_dir_make(dir, sizeof(dir)) < 0)
                return -1;
        if (fixture_mkfs(dir, "nocsum.img", "mmp,^metadata_csum,^metadata_csum_seed", 1024, &fx[0]) < 0 ||
            fixture_mkfs(dir, "csum.img", "mmp,metadata_csum,^metadata_csum_seed", 4096, &fx[1]) < 0 ||
            fixture_mkfs(dir, "seed.img", "mmp,metadata_csum,metadata_csum_seed", 4096, &fx[2]) < 0)
                return -1;
        return 0;
}

static int group_teardown(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(fx); i++)
                fixture_free(&fx[i]);
        fixture_dir_remove(dir);
        return 0;
}

/* Decoding mkfs' block and encoding it again reproduces it byte for byte. */
static void test_reencode_identical(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(fx); i++) {
                uint8_t *buf = malloc(fx[i].block_size);
                struct mmp_block b;
                struct mmp_sb sb;

                assert_non_null(buf);
                assert_int_equal(mmp_sb_decode(fx[i].sb, sizeof(fx[i].sb), &sb), 0);
                assert_int_equal(mmp_block_decode(&sb, fx[i].blk, fx[i].block_size, &b), 0);
                memcpy(buf, fx[i].blk, fx[i].block_size);
                if (sb.metadata_csum)
                        memset(buf + MMP_OFF(mmp_checksum), 0, 4);  /* must be recomputed */
                assert_int_equal(mmp_block_encode(&sb, &b, buf, fx[i].block_size), 0);
                assert_memory_equal(buf, fx[i].blk, fx[i].block_size);
                if (sb.metadata_csum)
                        assert_int_equal(mmp_block_csum(&sb, fx[i].blk), b.checksum);
                free(buf);
        }
}

/* Fields written, pads and the rest of the block left alone. */
static void test_roundtrip_and_preserve(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(fx); i++) {
                size_t bs = fx[i].block_size;
                uint8_t *buf = malloc(bs), *orig = malloc(bs);
                struct mmp_block in = {}, out;
                struct mmp_sb sb;

                assert_non_null(buf);
                assert_non_null(orig);
                assert_int_equal(mmp_sb_decode(fx[i].sb, sizeof(fx[i].sb), &sb), 0);
                for (size_t k = 0; k < bs; k++)
                        buf[k] = (uint8_t) (k * 7 + 3);
                fixture_st32(buf, MMP_OFF(mmp_magic), 0xdeadbeef);
                memcpy(orig, buf, bs);

                in.seq = 0x1234;
                in.time = UINT64_C(0x123456789a);
                in.check_interval = 300;
                strcpy(in.nodename, "node-a");
                strcpy(in.bdevname, "sdb");
                in.magic = 0;           /* ignored: MMP_MAGIC is always written */
                assert_int_equal(mmp_block_encode(&sb, &in, buf, bs), 0);
                assert_int_equal(mmp_block_decode(&sb, buf, bs, &out), 0);
                assert_int_equal(out.magic, MMP_MAGIC);
                assert_int_equal(out.seq, in.seq);
                assert_int_equal(out.time, in.time);
                assert_int_equal(out.check_interval, in.check_interval);
                assert_string_equal(out.nodename, "node-a");
                assert_string_equal(out.bdevname, "sdb");
                assert_true(out.checksum_ok);

                /* names are NUL-padded over the old bytes */
                for (size_t k = strlen("node-a"); k < MMP_NODENAME_LEN; k++)
                        assert_int_equal(buf[MMP_OFF(mmp_nodename) + k], 0);
                for (size_t k = strlen("sdb"); k < MMP_BDEVNAME_LEN; k++)
                        assert_int_equal(buf[MMP_OFF(mmp_bdevname) + k], 0);
                /* pads (0x72..0x3FB) and everything past the struct untouched */
                assert_memory_equal(buf + MMP_OFF(mmp_pad1), orig + MMP_OFF(mmp_pad1),
                                    MMP_OFF(mmp_checksum) - MMP_OFF(mmp_pad1));
                assert_memory_equal(buf + MMP_STRUCT_SIZE, orig + MMP_STRUCT_SIZE,
                                    bs - MMP_STRUCT_SIZE);
                /* without metadata_csum the checksum field is not ours to touch */
                if (!sb.metadata_csum)
                        assert_memory_equal(buf + MMP_OFF(mmp_checksum),
                                            orig + MMP_OFF(mmp_checksum), 4);
                free(buf);
                free(orig);
        }
}

/* Full-width names go to disk without a NUL, as the kernel writes them. */
static void test_full_width_names(void **state)
{
        uint8_t buf[MMP_STRUCT_SIZE];
        struct mmp_block in = {}, out;
        struct mmp_sb sb;

        assert_int_equal(mmp_sb_decode(fx[1].sb, sizeof(fx[1].sb), &sb), 0);
        memcpy(buf, fx[1].blk, sizeof(buf));
        memset(in.nodename, 'n', MMP_NODENAME_LEN);
        memset(in.bdevname, 'd', MMP_BDEVNAME_LEN);
        in.check_interval = 5;
        assert_int_equal(mmp_block_encode(&sb, &in, buf, sizeof(buf)), 0);
        assert_int_equal(buf[MMP_OFF(mmp_nodename) + MMP_NODENAME_LEN - 1], 'n');
        assert_int_equal(buf[MMP_OFF(mmp_bdevname)], 'd');  /* right after: no NUL between */
        assert_int_equal(buf[MMP_OFF(mmp_bdevname) + MMP_BDEVNAME_LEN - 1], 'd');
        assert_int_equal(buf[MMP_OFF(mmp_check_interval)], 5);
        assert_int_equal(mmp_block_decode(&sb, buf, sizeof(buf), &out), 0);
        assert_string_equal(out.nodename, in.nodename);
        assert_string_equal(out.bdevname, in.bdevname);
}

static void test_name_set(void **state)
{
        char field[8];

        memset(field, 'x', sizeof(field));
        mmp_name_set(field, sizeof(field), "abc");
        assert_memory_equal(field, "abc\0\0\0\0\0", 8);
        mmp_name_set(field, sizeof(field), "0123456789");
        assert_memory_equal(field, "01234567", 8);
        mmp_name_set(field, sizeof(field), "");
        assert_memory_equal(field, "\0\0\0\0\0\0\0\0", 8);
        memset(field, 'x', sizeof(field));
        mmp_name_set(field, sizeof(field), NULL);       /* NULL is accepted: an empty name */
        assert_memory_equal(field, "\0\0\0\0\0\0\0\0", 8);
}

static void test_short_buffers(void **state)
{
        uint8_t buf[MMP_STRUCT_SIZE];
        struct mmp_block in = {};
        struct mmp_sb sb;

        assert_int_equal(mmp_sb_decode(fx[1].sb, sizeof(fx[1].sb), &sb), 0);
        memset(buf, 0x5a, sizeof(buf));
        assert_int_equal(mmp_block_encode(&sb, &in, NULL, 0), -ENODATA);
        assert_int_equal(mmp_block_encode(&sb, &in, buf, 0), -ENODATA);
        assert_int_equal(mmp_block_encode(&sb, &in, buf, MMP_STRUCT_SIZE - 1), -ENODATA);
        for (size_t k = 0; k < sizeof(buf); k++)
                assert_int_equal(buf[k], 0x5a);         /* nothing written */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reencode_identical),
                cmocka_unit_test(test_roundtrip_and_preserve),
                cmocka_unit_test(test_full_width_names),
                cmocka_unit_test(test_name_set),
                cmocka_unit_test(test_short_buffers),
        };

        return cmocka_run_group_tests_name("ondisk-encode", tests, group_setup, group_teardown);
}
