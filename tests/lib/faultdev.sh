# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A block device that misbehaves on command, for integration tests: a loop
# device (direct I/O) over MOUNTPOINT/disk, served by tests/faultdev/mmp-faultdev.
# Needs root and /dev/fuse.  Source it, then:
#
#     trap faultdev_stop EXIT
#     faultdev_start IMG        # sets FAULTDEV_LOOP, FAULTDEV_MNT, FAULTDEV_PID
#     faultdev_cmd "stall write"
#     faultdev_cmd resume
#     faultdev_stats            # rules and counters, "key value" lines
#     faultdev_stat stalled_now # one counter
#     faultdev_stop             # idempotent; resumes held I/O first
#
# One fault device per shell.  The binary is $FAULTDEV_BIN, by default
# $top_builddir/tests/faultdev/mmp-faultdev; FAULTDEV_OPTS (e.g. "-v") is passed
# to it, and its stderr goes to the caller's.  Every wait here is bounded.

FAULTDEV_LOOP=
FAULTDEV_MNT=
FAULTDEV_PID=
_FAULTDEV_SEQ=

# "DISKSEQ" of a loop device while a file is attached to it, else nothing.
# The disk sequence number changes with every attach, so it tells our
# attachment from a later one of the same device.  Neither the path in sysfs
# (it reads "/disk" once the FUSE mount is lazily detached) nor losetup's
# BACK-INO (it asks the file system, which fails once the server is gone)
# can be trusted here.
_faultdev_attachment()
{
        local name=${1#/dev/}
        [[ -e /sys/block/$name/loop/backing_file ]] && cat "/sys/block/$name/diskseq" 2>/dev/null
}

_faultdev_bin()
{
        printf '%s\n' "${FAULTDEV_BIN:-${top_builddir:-.}/tests/faultdev/mmp-faultdev}"
}

# A child that exited stays a zombie until waited for: kill -0 cannot tell.
_faultdev_alive()
{
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        stat=${stat##*) }
        [[ ${stat%% *} != Z ]]
}

# faultdev_start IMG: serve IMG and attach a loop device to it.
faultdev_start()
{
        local img=${1:?usage: faultdev_start IMG} bin i

        bin=$(_faultdev_bin)
        if [[ -n $FAULTDEV_PID ]]; then
                echo "faultdev_start: already running (pid $FAULTDEV_PID)" >&2
                return 1
        fi
        if [[ ! -f $img || ! -x $bin ]]; then
                echo "faultdev_start: need an image file ($img) and $bin" >&2
                return 1
        fi
        # Canonical, as the mount table lists it (see _faultdev_mounted).
        FAULTDEV_MNT=$(mktemp -d "${TMPDIR:-/tmp}/faultdev.XXXXXX") || return 1
        FAULTDEV_MNT=$(realpath "$FAULTDEV_MNT") || return 1
        # shellcheck disable=SC2086  # FAULTDEV_OPTS is a word list
        "$bin" -f ${FAULTDEV_OPTS-} "$img" "$FAULTDEV_MNT" &
        FAULTDEV_PID=$!
        export FAULTDEV_MNT FAULTDEV_PID

        for ((i = 0; i < 100; i++)); do         # 10 s
                [[ -e $FAULTDEV_MNT/disk ]] && break
                if ! _faultdev_alive "$FAULTDEV_PID"; then
                        echo "faultdev_start: mmp-faultdev exited" >&2
                        faultdev_stop
                        return 1
                fi
                sleep 0.1
        done
        if [[ ! -e $FAULTDEV_MNT/disk ]]; then
                echo "faultdev_start: $FAULTDEV_MNT/disk did not appear" >&2
                faultdev_stop
                return 1
        fi

        # Another test may take the free device between lookup and attach.
        for ((i = 0; i < 5; i++)); do
                FAULTDEV_LOOP=$(losetup -f --show --direct-io=on "$FAULTDEV_MNT/disk") && break
                FAULTDEV_LOOP=
                sleep 0.2
        done
        if [[ -z $FAULTDEV_LOOP ]]; then
                echo "faultdev_start: losetup failed" >&2
                faultdev_stop
                return 1
        fi
        _FAULTDEV_SEQ=$(_faultdev_attachment "$FAULTDEV_LOOP")
        export FAULTDEV_LOOP
}

# faultdev_cmd CMD...: one ctl command ("delay read 200", "stall write 0 4096",
# "fail all EIO", "resume", "clear").  Fails (EINVAL) on a bad command.
# The server answers ctl at once even with I/O held; the timeout only
# bounds the damage of a server bug.  tee writes the line in one write().
faultdev_cmd()
{
        [[ -n $FAULTDEV_MNT ]] || return 1
        printf '%s\n' "$*" | timeout -s KILL 5 tee "$FAULTDEV_MNT/ctl" > /dev/null
}

# faultdev_stats: the current rules ("rule CMD") and counters ("NAME VALUE").
faultdev_stats()
{
        [[ -n $FAULTDEV_MNT ]] || return 1
        timeout -s KILL 5 cat "$FAULTDEV_MNT/ctl"
}

# faultdev_stat NAME: one counter (reads, writes, read_bytes, write_bytes,
# faults, stalled, delayed, failed, io_errors, stalled_now, delayed_now).
faultdev_stat()
{
        local k v
        while read -r k v; do
                if [[ $k == "$1" ]]; then
                        printf '%s\n' "$v"
                        return 0
                fi
        done <<< "$(faultdev_stats)"
        return 1
}

# Is a file system mounted at $1?  Read from the mount table: stat(2) on the
# mount point would wait on the server, which may be the thing that is stuck.
_faultdev_mounted()
{
        local dev mnt
        while read -r dev mnt _; do
                [[ $(printf '%b' "$mnt") == "$1" ]] && return 0
        done < /proc/self/mounts
        return 1
}

# SIGTERM the server and reap it: it releases held requests, unmounts
# (lazily) and exits.
_faultdev_kill()
{
        local i rc=0

        [[ -n $FAULTDEV_PID ]] || return 0
        kill -TERM "$FAULTDEV_PID" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
                _faultdev_alive "$FAULTDEV_PID" || break
                sleep 0.1
        done
        if _faultdev_alive "$FAULTDEV_PID"; then
                echo "faultdev_stop: mmp-faultdev did not stop, killing it" >&2
                kill -KILL "$FAULTDEV_PID" 2>/dev/null
                rc=1
        fi
        wait "$FAULTDEV_PID" 2>/dev/null
        FAULTDEV_PID=
        return $rc
}

# faultdev_stop: release held I/O, unmount anything on the loop device, detach
# it, unmount the FUSE file system, stop the server.  Safe to call twice and
# from an EXIT trap; returns non-zero if something had to be forced.
faultdev_stop()
{
        local rc=0 i dev mnt

        # Release everything held.  A server too wedged to answer ctl is
        # stopped first instead: on SIGTERM it lets every request go and exits,
        # after which loop I/O fails with EIO and the steps below still work.
        if [[ -n $FAULTDEV_MNT ]] && _faultdev_mounted "$FAULTDEV_MNT" &&
           ! faultdev_cmd clear 2> /dev/null; then
                echo "faultdev_stop: ctl does not answer, stopping mmp-faultdev first" >&2
                _faultdev_kill
                rc=1
        fi

        if [[ -n $FAULTDEV_LOOP ]]; then
                # A test that died with the device mounted.
                while read -r dev mnt _; do
                        [[ $dev == "$FAULTDEV_LOOP" ]] || continue
                        mnt=$(printf '%b' "$mnt")
                        umount "$mnt" 2>/dev/null || umount -l "$mnt" || rc=1
                done < /proc/self/mounts

                # Detach only if it is still ours: the name may have been reused.
                if [[ -n $_FAULTDEV_SEQ &&
                      $(_faultdev_attachment "$FAULTDEV_LOOP") == "$_FAULTDEV_SEQ" ]]; then
                        losetup -d "$FAULTDEV_LOOP" || rc=1
                        # The detach completes at the last close (udev may hold it).
                        for ((i = 0; i < 50; i++)); do
                                [[ $(_faultdev_attachment "$FAULTDEV_LOOP") == "$_FAULTDEV_SEQ" ]] || break
                                sleep 0.1
                        done
                        if [[ $(_faultdev_attachment "$FAULTDEV_LOOP") == "$_FAULTDEV_SEQ" ]]; then
                                echo "faultdev_stop: $FAULTDEV_LOOP still attached" >&2
                                rc=1
                        fi
                fi
                FAULTDEV_LOOP=
                _FAULTDEV_SEQ=
        fi

        if [[ -n $FAULTDEV_MNT ]]; then
                for ((i = 0; i < 30; i++)); do
                        _faultdev_mounted "$FAULTDEV_MNT" || break
                        fusermount3 -u -q "$FAULTDEV_MNT" 2>/dev/null || sleep 0.1
                done
                if _faultdev_mounted "$FAULTDEV_MNT"; then
                        echo "faultdev_stop: $FAULTDEV_MNT busy, detaching lazily" >&2
                        umount -l "$FAULTDEV_MNT"
                        rc=1
                fi
                rmdir "$FAULTDEV_MNT" 2>/dev/null
                FAULTDEV_MNT=
        fi

        # Unmounting ends the server; SIGTERM covers one whose mount went
        # away some other way.
        _faultdev_kill || rc=1
        return $rc
}
