/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.mmpd's error names: the one table.  mmpd's server names its errors
 * from it (mmpd/varlink-json.c), libmmp maps the names it receives to errno
 * values with it (lib/libmmp-client.c), and tests/varlink/test-error-names
 * checks it against every `error` line of mmpd/io.mmpd.varlink, both ways.
 */
#pragma once

enum mmp_io_error {
        MMP_IO_ERROR_NO_SUCH_VOLUME,
        MMP_IO_ERROR_VOLUME_IN_USE,
        MMP_IO_ERROR_FSCK_RUNNING,
        MMP_IO_ERROR_NOT_MMP_FILESYSTEM,
        MMP_IO_ERROR_CORRUPT_MMP_BLOCK,
        MMP_IO_ERROR_IO_ERROR,
        MMP_IO_ERROR_ALREADY_CLAIMED,
        MMP_IO_ERROR_CLAIM_FAILED,
        MMP_IO_ERROR_TOO_MANY_VOLUMES,
        MMP_IO_ERROR_NOT_HELD,
        MMP_IO_ERROR_HANDOFF_FAILED,
        MMP_IO_ERROR_USE_IN_PROGRESS,
        _MMP_IO_ERROR_MAX,
};

#define MMP_IO_INTERFACE "io.mmpd"

struct mmp_io_error_info {
        const char *name;       /* fully qualified: "io.mmpd.NoSuchVolume" */
        int errnum;             /* what libmmp returns for it (negative), as libmmp.h lists */
};

/* Indexed by enum mmp_io_error. */
extern const struct mmp_io_error_info mmp_io_errors[_MMP_IO_ERROR_MAX];

/* "io.mmpd.NoSuchVolume"; NULL for a value out of range. */
const char *mmp_io_error_name(enum mmp_io_error e);
/* The enum for a fully qualified name, or -1 when io.mmpd has no such error. */
int mmp_io_error_from_name(const char *name);
/*
 * libmmp's errno for any varlink error name: io.mmpd's from the table,
 * org.varlink.service's PermissionDenied -EACCES and MethodNotFound
 * -EOPNOTSUPP, anything else -EPROTO.
 */
int mmp_errno_from_error_name(const char *name);
