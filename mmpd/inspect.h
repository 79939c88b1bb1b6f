/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read and decode the superblock and MMP block of any device or image,
 * read-only and without claiming it (Inspect, like `debugfs -R dump_mmp`).
 *
 * BLOCKS: it opens and reads synchronously.  Never call it on the loop; the
 * varlink server runs it through offload.h with a deadline.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mmp-ondisk.h"

/* Read on behalf of an unprivileged peer: the lookup and open run with its
 * uid, gid and groups as the filesystem credentials of the calling thread,
 * so exactly what it could read itself (directories, modes, ACLs). */
struct mmpd_inspect_peer {
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
};

struct mmpd_inspect {
        /* Where it stopped: "open", "reading the superblock", "superblock",
         * "reading the MMP block", "MMP block".  Errors at "superblock" and
         * "MMP block" come from the decoders (mmp-ondisk.h). */
        const char *stage;
        struct mmp_sb sb;           /* valid when stage is "MMP block" */
        struct mmp_block block;     /* valid when the result is 0, -EUCLEAN or -EBADMSG
                                     * at stage "MMP block" */
};

/*
 * 0 when the MMP block decoded cleanly; -EUCLEAN/-EBADMSG when it was read
 * but has a bad magic/checksum (ret->block still filled); otherwise -errno
 * from stat/open/pread (-ENOTBLK for anything but a block device or regular
 * file, checked before opening so no other device is ever opened; -ENODATA
 * for a short read; the peer's own -EACCES/-ENOENT when it may not reach
 * it) or from mmp_sb_decode().  @peer NULL: our own credentials
 * (privileged callers).  With @peer, call it on a thread of its own (the
 * offload threads): the thread's filesystem credentials change meanwhile.
 * Block devices are read with O_DIRECT, so the answer is the disk's, not a
 * stale page cache's.
 */
int mmpd_inspect_read(const char *path, const struct mmpd_inspect_peer *peer,
                      struct mmpd_inspect *ret);
