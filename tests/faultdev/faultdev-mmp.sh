#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP: ext4 with MMP on a loop device over mmp-faultdev behaves as on a disk:
# mkfs, debugfs dump_mmp, a kernel mount whose kmmpd heartbeat goes through
# the fault device, a clean unmount, and an injected read error on the MMP
# block seen by both e2fsprogs and the kernel.
# Needs root and /dev/fuse; skips without them, except under CI=true.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/lib/faultdev.sh
. "$top_srcdir/tests/lib/faultdev.sh"

if [[ $(id -u) != 0 || ! -c /dev/fuse ]] || ! command -v losetup fusermount3 mkfs.ext4 debugfs > /dev/null; then
        if [[ ${CI-} == true ]]; then
                echo "1..1"
                echo "not ok 1 - needs root and /dev/fuse"
                exit 1
        fi
        echo "1..0 # SKIP needs root"
        exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/faultdev-mmp.XXXXXX") || exit 1
trap 'faultdev_stop; rm -rf "$tmp"' EXIT

SEQ_CLEAN=ff4d4d50      # EXT4_MMP_SEQ_CLEAN, as debugfs prints it

n=0
failed=0
ok()
{
        n=$((n + 1))
        echo "ok $n - $1"
}
not_ok()
{
        n=$((n + 1))
        echo "not ok $n - $1"
        failed=1
}
# COND; check DESCRIPTION: one test point from the status of COND.
check()
{
        if (($? == 0)); then ok "$1"; else not_ok "$1"; fi
}

# mmp FIELD: one field of "debugfs -R dump_mmp" (block_number, sequence, ...).
mmp()
{
        debugfs -R dump_mmp "$FAULTDEV_LOOP" 2> /dev/null | sed -n "s/^$1: //p"
}

PLAN=10
echo "1..$PLAN"

truncate -s 64M "$tmp/img"
mkdir "$tmp/m"
if ! faultdev_start "$tmp/img"; then
        for ((i = 1; i <= PLAN; i++)); do echo "not ok $i - # faultdev_start failed"; done
        exit 1
fi

mkfs.ext4 -q -F -O mmp -E mmp_update_interval=1 "$FAULTDEV_LOOP" > "$tmp/mkfs" 2>&1
check "mkfs.ext4 -O mmp -E mmp_update_interval=1 on $FAULTDEV_LOOP"

dump=$(debugfs -R dump_mmp "$FAULTDEV_LOOP" 2> /dev/null)
printf '%s\n' "$dump" | sed 's/^/# /'
grep -qx "magic: 0x4d4d50" <<< "$dump" && grep -qx "sequence: $SEQ_CLEAN" <<< "$dump" &&
        grep -qx "update_interval: 1" <<< "$dump"
check "dump_mmp through the fault device: magic, clean sequence, update interval"

w0=$(faultdev_stat writes)
timeout 60 mount -t ext4 "$FAULTDEV_LOOP" "$tmp/m"
check "the kernel mounts it (MMP check passes)"

# kmmpd rewrites the MMP block every update interval (1 s): poll up to 5 s.
s1=$(mmp sequence) s2=$s1
for ((i = 0; i < 50 && s2 == s1; i++)); do
        sleep 0.1
        s2=$(mmp sequence)
done
w1=$(faultdev_stat writes)
[[ -n $s1 && $s1 != "$s2" && $s2 != "$SEQ_CLEAN" ]] && (( w1 > w0 )) &&
        [[ $(mmp node_name) == "$(uname -n)" ]]
check "kmmpd heartbeat reaches the image (sequence $s1 -> $s2, writes $w0 -> $w1)"

head -c 1M /dev/urandom > "$tmp/data"
cp "$tmp/data" "$tmp/m/f" && sync -f "$tmp/m/f" && cmp -s "$tmp/data" "$tmp/m/f"
check "file I/O on the mounted file system"

# Generous: with the whole suite running in parallel an unmount through
# FUSE has been seen to take longer than 30 s.
t0=$SECONDS
timeout 180 umount "$tmp/m"; urc=$?
s3=$(mmp sequence)
[[ $urc == 0 && $s3 == "$SEQ_CLEAN" ]]
check "unmount leaves the MMP block clean ($s3; umount status $urc after $((SECONDS - t0)) s)"

e2fsck -fn "$FAULTDEV_LOOP" > "$tmp/fsck" 2>&1
check "e2fsck -fn finds the file system clean"

blk=$(mmp block_number)
bs=$(dumpe2fs -h "$FAULTDEV_LOOP" 2> /dev/null | sed -n 's/^Block size: *//p')
faultdev_cmd "fail read EIO $((blk * bs)) $bs"
debugfs -R dump_mmp "$FAULTDEV_LOOP" 2>&1 | grep -q "reading MMP block"
check "fail read EIO on the MMP block (block $blk, $bs bytes): debugfs dump_mmp reports the read error"

! timeout 60 mount -t ext4 "$FAULTDEV_LOOP" "$tmp/m" 2> /dev/null
check "the kernel refuses to mount when the MMP block cannot be read"

faultdev_cmd clear
timeout 60 mount -t ext4 "$FAULTDEV_LOOP" "$tmp/m" && cmp -s "$tmp/data" "$tmp/m/f" &&
        timeout 180 umount "$tmp/m"
check "after clear it mounts again, the file intact, and unmounts"

exit $failed
