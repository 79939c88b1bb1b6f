/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rlimit-shim: LD_PRELOAD for the sanlock daemon in `make bench`
 * (tests/bench/peers.sh).  sanlock's daemon raises RLIMIT_MEMLOCK, RTPRIO
 * and friends to unlimited at start and exits when it may not (in a
 * container without CAP_SYS_RESOURCE).  The benchmark runs it with
 * mlockall and real-time scheduling off (-l 0 -h 0), so a limit that stays
 * at its hard maximum changes nothing it measures: a raise refused with
 * EPERM is retried clamped to the current hard limit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <sys/resource.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
        static int (*real)(__rlimit_resource_t, const struct rlimit *);
        struct rlimit cur, clamped;

        if (!real)
                real = (int (*)(__rlimit_resource_t, const struct rlimit *)) dlsym(RTLD_NEXT, "setrlimit");
        if (!real) {
                errno = ENOSYS;
                return -1;
        }
        if (real(resource, rlim) == 0)
                return 0;
        if (errno != EPERM || getrlimit(resource, &cur) < 0) {
                errno = EPERM;
                return -1;
        }
        clamped = *rlim;
        if (clamped.rlim_max > cur.rlim_max)
                clamped.rlim_max = cur.rlim_max;
        if (clamped.rlim_cur > clamped.rlim_max)
                clamped.rlim_cur = clamped.rlim_max;
        return real(resource, &clamped);
}
