/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "mmp-errors.h"
#include "mmp-varlink.h"

#define E(id, short_name, err) [MMP_IO_ERROR_##id] = { MMP_IO_INTERFACE "." short_name, err }

const struct mmp_io_error_info mmp_io_errors[_MMP_IO_ERROR_MAX] = {
        E(NO_SUCH_VOLUME,     "NoSuchVolume",     -ENOENT),
        E(VOLUME_IN_USE,      "VolumeInUse",      -EBUSY),
        E(FSCK_RUNNING,       "FsckRunning",      -EINPROGRESS),
        E(NOT_MMP_FILESYSTEM, "NotMmpFilesystem", -EMEDIUMTYPE),
        E(CORRUPT_MMP_BLOCK,  "CorruptMmpBlock",  -EUCLEAN),
        E(IO_ERROR,           "IoError",          -EIO),
        E(ALREADY_CLAIMED,    "AlreadyClaimed",   -EEXIST),
        /* These two have had no errno of their own since LIBMMP_1: libmmp.h
         * promises -EPROTO for them ("any other error name"). */
        E(CLAIM_FAILED,       "ClaimFailed",      -EPROTO),
        E(TOO_MANY_VOLUMES,   "TooManyVolumes",   -EPROTO),
        E(NOT_HELD,           "NotHeld",          -ENOLCK),
        E(HANDOFF_FAILED,     "HandoffFailed",    -ECANCELED),
        E(USE_IN_PROGRESS,    "UseInProgress",    -EBUSY),
};

const char *mmp_io_error_name(enum mmp_io_error e)
{
        return (unsigned) e < _MMP_IO_ERROR_MAX ? mmp_io_errors[e].name : NULL;
}

int mmp_io_error_from_name(const char *name)
{
        for (int i = 0; i < _MMP_IO_ERROR_MAX; i++)
                if (strcmp(mmp_io_errors[i].name, name) == 0)
                        return i;
        return -1;
}

int mmp_errno_from_error_name(const char *name)
{
        int e = mmp_io_error_from_name(name);

        if (e >= 0)
                return mmp_io_errors[e].errnum;
        if (strcmp(name, MMP_VARLINK_ERROR_PERMISSION_DENIED) == 0)
                return -EACCES;
        if (strcmp(name, MMP_VARLINK_ERROR_METHOD_NOT_FOUND) == 0)
                return -EOPNOTSUPP;
        return -EPROTO;
}
