/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real on-disk bytes for the codec's unit tests: each fixture is an image made
 * by mkfs.ext4 at test time, so superblock and MMP checksums are e2fsprogs'
 * own.  The superblock and MMP block are located here with explicit offsets
 * from <ext2fs/ext2_fs.h>, independently of the codec under test.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mmp-ondisk.h"

struct fixture {
        char path[4096];
        uint8_t sb[MMP_SB_SIZE];      /* bytes 1024..2047 of the image */
        uint8_t *blk;                 /* the MMP block, block_size bytes; NULL without mmp */
        size_t block_size;
        uint64_t mmp_block;
        uint64_t blocks_count;
        uint32_t first_data_block;
};

/* A private directory for images; fixture_dir_remove() deletes it and its files. */
int fixture_dir_make(char *dir, size_t len);
void fixture_dir_remove(const char *dir);

/*
 * mkfs.ext4 -q -F -O @features -E mmp_update_interval=1 -b @block_size into
 * @dir/@name (8 MiB), then read its superblock and, when s_mmp_block is set,
 * its MMP block.  Returns 0 or a negative errno (mkfs failing is -EIO).
 */
int fixture_mkfs(const char *dir, const char *name, const char *features,
                 unsigned block_size, struct fixture *ret);
void fixture_free(struct fixture *f);

/* Little-endian field access in a superblock or MMP buffer. */
uint32_t fixture_ld32(const uint8_t *p, size_t off);
uint64_t fixture_ld64(const uint8_t *p, size_t off);
void fixture_st16(uint8_t *p, size_t off, uint16_t v);
void fixture_st32(uint8_t *p, size_t off, uint32_t v);
void fixture_st64(uint8_t *p, size_t off, uint64_t v);

/*
 * Recompute a superblock's s_checksum after a test changed a field (as the
 * kernel's ext4_superblock_csum: crc32c(~0) over the bytes before it), so
 * the decoder reaches the check the test is about.
 */
void fixture_sb_resum(uint8_t *sb);
