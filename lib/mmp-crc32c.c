/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRC32C for the MMP block's checksum: see mmp-crc32c.h. */
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "mmp-crc32c.h"

uint32_t mmp_crc32c_generic(uint32_t crc, const void *buf, size_t len)
{
        return ext2fs_crc32c_le(crc, buf, len);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

/* The instruction's update is the same raw reflected step as
 * ext2fs_crc32c_le(): no inversion, so the seed is used as is. */
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
        const unsigned char *p = buf;
        uint64_t c = crc;

        for (; len >= 8; p += 8, len -= 8) {
                uint64_t v;

                memcpy(&v, p, sizeof(v));       /* unaligned, little-endian host */
                c = _mm_crc32_u64(c, v);
        }
        crc = (uint32_t) c;
        for (; len > 0; p++, len--)
                crc = _mm_crc32_u8(crc, *p);
        return crc;
}

int mmp_crc32c_is_hw(void)
{
        /* libgcc's constructor has filled in the CPU model before main();
         * calling the init again is cheap and covers earlier constructors. */
        __builtin_cpu_init();
        return !!__builtin_cpu_supports("sse4.2");
}

uint32_t mmp_crc32c(uint32_t crc, const void *buf, size_t len)
{
        if (__builtin_cpu_supports("sse4.2"))
                return crc32c_sse42(crc, buf, len);
        return ext2fs_crc32c_le(crc, buf, len);
}
#else
int mmp_crc32c_is_hw(void)
{
        return 0;
}

uint32_t mmp_crc32c(uint32_t crc, const void *buf, size_t len)
{
        return ext2fs_crc32c_le(crc, buf, len);
}
#endif
