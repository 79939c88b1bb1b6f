/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmp_crc32c() against libext2fs's ext2fs_crc32c_le(), which e2fsprogs and
 * (by the same definition) the kernel use for the MMP block's checksum:
 * every length from 0 to 4 KiB + 7, at every alignment, with random seeds
 * and bytes, plus the published check value.  On a CPU with SSE4.2 the
 * instruction path must be the one in use, or this would test the fallback
 * against itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmp-crc32c.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next32(void)
{
        /* xorshift64*: reproducible, no libc state */
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (uint32_t) ((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static void test_check_value(void **state)
{
        /* CRC-32C of "123456789": 0xe3069283 (with the usual inversions,
         * which ext2fs_crc32c_le() leaves to its caller). */
        assert_int_equal(~mmp_crc32c(~0u, "123456789", 9), 0xe3069283u);
        assert_int_equal(~mmp_crc32c_generic(~0u, "123456789", 9), 0xe3069283u);
        assert_int_equal(mmp_crc32c(0x12345678u, "", 0), 0x12345678u);
}

static void test_matches_libext2fs(void **state)
{
        enum { MAX = 4096 + 8 };
        static unsigned char buf[MAX + 8];
        size_t mismatches = 0, cases = 0;

        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (unsigned char) next32();
        for (size_t len = 0; len < MAX; len++)
                for (size_t align = 0; align < 8; align++) {
                        uint32_t seed = next32();

                        cases++;
                        if (mmp_crc32c(seed, buf + align, len) !=
                            mmp_crc32c_generic(seed, buf + align, len)) {
                                if (mismatches++ < 5)
                                        print_error("len %zu align %zu seed %08x differs\n",
                                                    len, align, seed);
                        }
                }
        assert_int_equal(mismatches, 0);
        assert_int_equal(cases, (size_t) MAX * 8);
}

/* The MMP block's own case: 1,020 bytes, seeded with the fs seed. */
static void test_mmp_block_length(void **state)
{
        static unsigned char blk[1024] __attribute__((aligned(4096)));

        for (int round = 0; round < 10000; round++) {
                uint32_t seed = next32();

                for (size_t i = 0; i < sizeof(blk); i += 4) {
                        uint32_t v = next32();
                        memcpy(blk + i, &v, 4);
                }
                assert_int_equal(mmp_crc32c(seed, blk, 0x3fc), mmp_crc32c_generic(seed, blk, 0x3fc));
        }
}

static void test_hw_in_use(void **state)
{
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[8192];
        int has = 0;

        if (!f)
                skip();
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "flags", 5) == 0 && strstr(line, " sse4_2"))
                        has = 1;
        fclose(f);
#if defined(__x86_64__)
        assert_int_equal(mmp_crc32c_is_hw(), has);
#else
        (void) has;
        assert_int_equal(mmp_crc32c_is_hw(), 0);
#endif
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_value),
                cmocka_unit_test(test_matches_libext2fs),
                cmocka_unit_test(test_mmp_block_length),
                cmocka_unit_test(test_hw_in_use),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
