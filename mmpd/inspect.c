/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-shot, read-only MMP block reader (blocking; see inspect.h).
 *
 * No O_EXCL: a mounted or held device must stay readable, as with
 * `debugfs -R dump_mmp`.  Block devices are switched to O_DIRECT after the
 * type check (fcntl F_SETFL), so a path swapped between stat and open
 * cannot fool us, and the MMP block is read from the disk rather than from
 * a page cache that another node's writes never touch.  Regular files are
 * read buffered: the page cache is coherent for writers on this host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "aligned-read.h"
#include "inspect.h"
#include "macro.h"

#define INSPECT_ALIGN 4096u

/* Exactly @len bytes at @off, or -ENODATA (the decoders then have nothing). */
static int read_window(int fd, uint64_t off, size_t len, size_t align, void **ret_buf,
                       const uint8_t **ret_p)
{
        const uint8_t *p;
        void *buf;
        size_t got;
        int r;

        r = mmp_pread_span(fd, align, off, len, &buf, &p, &got);
        if (r == -EOVERFLOW)
                return -ERANGE;
        if (r < 0)
                return r;
        if (got < len) {
                free(buf);
                return -ENODATA;
        }
        *ret_buf = buf;         /* ret_* set only on success */
        *ret_p = p;
        return 0;
}

/*
 * Become the peer for path lookup and open, on this thread only: the kernel
 * then checks every directory on the way and the file itself exactly as for
 * the peer, and its errors (EACCES for /root/x, whether or not x exists) are
 * the ones the peer would get itself, so Inspect is no existence oracle.
 * Raw syscalls: glibc's setgroups() changes every thread of the process.
 * Moving the fsuid away from 0 also drops CAP_DAC_OVERRIDE and friends from
 * this thread's effective set; moving it back restores them.
 */
struct fs_creds {
        gid_t *groups;          /* ours, to restore */
        int n_groups;
        bool active;
};

static int become_peer(const struct mmpd_inspect_peer *peer, struct fs_creds *saved)
{
        saved->n_groups = getgroups(0, NULL);
        if (saved->n_groups < 0)
                return -errno;
        saved->groups = calloc((size_t) saved->n_groups + 1, sizeof(gid_t));
        if (!saved->groups)
                return -ENOMEM;
        saved->n_groups = getgroups(saved->n_groups, saved->groups);
        if (saved->n_groups < 0)
                return -errno;
        if (syscall(SYS_setgroups, peer->n_groups, peer->groups) < 0)
                return -errno;
        saved->active = true;
        syscall(SYS_setfsgid, peer->gid);
        syscall(SYS_setfsuid, peer->uid);
        /* setfs*id() report no errors: check that it took. */
        if ((uid_t) syscall(SYS_setfsuid, -1) != peer->uid || (gid_t) syscall(SYS_setfsgid, -1) != peer->gid)
                return -EPERM;
        return 0;
}

static void become_self(struct fs_creds *saved)
{
        if (saved->active) {
                syscall(SYS_setfsuid, geteuid());
                syscall(SYS_setfsgid, getegid());
                syscall(SYS_setgroups, saved->n_groups, saved->groups);
                saved->active = false;
        }
}

static void become_selfp(struct fs_creds *saved)
{
        become_self(saved);
        free(saved->groups);
}

static bool is_inspectable(const struct stat *st)
{
        return S_ISBLK(st->st_mode) || S_ISREG(st->st_mode);
}

int mmpd_inspect_read(const char *path, const struct mmpd_inspect_peer *peer,
                      struct mmpd_inspect *ret)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ void *sbuf = NULL;
        _cleanup_free_ void *mbuf = NULL;
        const uint8_t *p;
        size_t align = INSPECT_ALIGN;
        bool direct;
        struct stat st, st2;
        uint64_t off;
        int r;

        __attribute__((cleanup(become_selfp))) struct fs_creds creds = { .active = false };

        memset(ret, 0, sizeof(*ret));
        ret->stage = "open";
        if (peer && (r = become_peer(peer, &creds)) < 0)
                return r;
        /* Opening some character devices has side effects (a tape rewinds):
         * look before opening, then make sure we opened what we looked at.
         * O_NONBLOCK: a FIFO swapped in between must not hang us. */
        if (stat(path, &st) < 0)
                return -errno;
        if (!is_inspectable(&st))
                return -ENOTBLK;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        become_self(&creds);            /* the fd is what the peer could open */
        if (fstat(fd, &st2) < 0)
                return -errno;
        if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !is_inspectable(&st2))
                return -ENOTBLK;
        if (S_ISBLK(st.st_mode) && (r = mmp_fd_make_direct(fd, &align, &direct)) < 0)
                return r;

        ret->stage = "reading the superblock";
        r = read_window(fd, MMP_SB_OFFSET, MMP_SB_SIZE, align, &sbuf, &p);
        if (r < 0)
                return r;
        ret->stage = "superblock";
        r = mmp_sb_decode(p, MMP_SB_SIZE, &ret->sb);
        if (r < 0)
                return r;

        if (ret->sb.mmp_block > UINT64_MAX / ret->sb.block_size)
                return -ERANGE;
        ret->stage = "reading the MMP block";
        off = mmp_sb_mmp_offset(&ret->sb);
        r = read_window(fd, off, MMP_STRUCT_SIZE, align, &mbuf, &p);
        if (r < 0)
                return r;
        ret->stage = "MMP block";
        return mmp_block_decode(&ret->sb, p, MMP_STRUCT_SIZE, &ret->block);
}
