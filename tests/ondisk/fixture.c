/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "fixture.h"

#define SB_OFF(f) offsetof(struct ext2_super_block, f)
#define IMAGE_SIZE (8u << 20)

uint32_t fixture_ld32(const uint8_t *p, size_t off)
{
        uint32_t v;
        memcpy(&v, p + off, sizeof(v));
        return le32toh(v);
}

uint64_t fixture_ld64(const uint8_t *p, size_t off)
{
        uint64_t v;
        memcpy(&v, p + off, sizeof(v));
        return le64toh(v);
}

void fixture_st16(uint8_t *p, size_t off, uint16_t v)
{
        v = htole16(v);
        memcpy(p + off, &v, sizeof(v));
}

void fixture_st32(uint8_t *p, size_t off, uint32_t v)
{
        v = htole32(v);
        memcpy(p + off, &v, sizeof(v));
}

void fixture_st64(uint8_t *p, size_t off, uint64_t v)
{
        v = htole64(v);
        memcpy(p + off, &v, sizeof(v));
}

void fixture_sb_resum(uint8_t *sb)
{
        fixture_st32(sb, SB_OFF(s_checksum), ext2fs_crc32c_le(~0u, sb, SB_OFF(s_checksum)));
}

int fixture_dir_make(char *dir, size_t len)
{
        const char *tmp = getenv("TMPDIR");

        if (snprintf(dir, len, "%s/mmp-ondisk-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") >= (int) len)
                return -ENAMETOOLONG;
        return mkdtemp(dir) ? 0 : -errno;
}

void fixture_dir_remove(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char p[4096];

        if (!d)
                return;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
                unlink(p);
        }
        closedir(d);
        rmdir(dir);
}

/* Run mkfs.ext4 without a shell: the path goes to it as one argument. */
static int run_mkfs(const char *path, const char *features, unsigned block_size)
{
        char opt_o[256], opt_b[16];
        pid_t pid;
        int status;

        snprintf(opt_o, sizeof(opt_o), "%s", features);
        snprintf(opt_b, sizeof(opt_b), "%u", block_size);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *const argv[] = {
                        "mkfs.ext4", "-q", "-F", "-O", opt_o, "-E", "mmp_update_interval=1",
                        "-b", opt_b, (char *) path, NULL
                };
                int null = open("/dev/null", O_WRONLY);

                if (null >= 0)
                        dup2(null, STDOUT_FILENO);
                /* sbin is not on every user's PATH */
                execvp("mkfs.ext4", argv);
                execv("/sbin/mkfs.ext4", argv);
                execv("/usr/sbin/mkfs.ext4", argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int read_at(int fd, uint64_t off, void *buf, size_t len)
{
        ssize_t n = pread(fd, buf, len, (off_t) off);

        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -ENODATA;
}

int fixture_mkfs(const char *dir, const char *name, const char *features,
                 unsigned block_size, struct fixture *ret)
{
        struct fixture f = {};
        int fd, r;

        if (snprintf(f.path, sizeof(f.path), "%s/%s", dir, name) >= (int) sizeof(f.path))
                return -ENAMETOOLONG;
        fd = open(f.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, IMAGE_SIZE) < 0) {
                r = -errno;
                goto out;
        }
        r = run_mkfs(f.path, features, block_size);
        if (r < 0)
                goto out;

        r = read_at(fd, MMP_SB_OFFSET, f.sb, sizeof(f.sb));
        if (r < 0)
                goto out;
        f.block_size = EXT2_MIN_BLOCK_SIZE << fixture_ld32(f.sb, SB_OFF(s_log_block_size));
        f.mmp_block = fixture_ld64(f.sb, SB_OFF(s_mmp_block));
        f.blocks_count = fixture_ld32(f.sb, SB_OFF(s_blocks_count)) |
                         (uint64_t) fixture_ld32(f.sb, SB_OFF(s_blocks_count_hi)) << 32;
        f.first_data_block = fixture_ld32(f.sb, SB_OFF(s_first_data_block));
        if (f.mmp_block) {
                f.blk = malloc(f.block_size);
                if (!f.blk) {
                        r = -ENOMEM;
                        goto out;
                }
                r = read_at(fd, f.mmp_block * f.block_size, f.blk, f.block_size);
                if (r < 0) {
                        free(f.blk);
                        goto out;
                }
        }
        *ret = f;
out:
        close(fd);
        return r;
}

void fixture_free(struct fixture *f)
{
        free(f->blk);
        f->blk = NULL;
}
