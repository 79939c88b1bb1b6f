#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'mmpctl dump' on a real block device: a loop device with direct I/O over
# an mkfs.ext4 image.  Needs root (skips otherwise, fails under CI=true).
#   - every field agrees with debugfs -R dump_mmp on the same device
#   - the device is read with O_DIRECT: while the device is held open with
#     a stale MMP block in its page cache (a buffered dd shows the old
#     sequence), mmpctl must show the sequence now on the medium
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/ondisk/images.sh"
. "$top_srcdir/tests/lib/valgrind.sh"

require_root
require_cmd losetup mkfs.ext4 debugfs dumpe2fs jq

MMPCTL=$top_builddir/mmpctl/mmpctl
EDIT=$top_builddir/tests/ondisk/mmp-edit
TZ=UTC
export TZ
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-blockdev.XXXXXX") || bail_out "mktemp failed"
loop=
cleanup() {
        exec 3<&- 2>/dev/null
        [ -z "$loop" ] || losetup -d "$loop"
        rm -rf "$tmp"
}
trap cleanup EXIT

img=$tmp/vol.img
mkimg "$img" mmp,metadata_csum 4096 2 32M
"$EDIT" "$img" seq=0x2a node=loop-node dev=loop-dev check_interval=9 || bail_out "mmp-edit failed"
blk=$(mmp_block_of "$img")

loop=$(losetup -f --show --direct-io=on "$img") || bail_out "losetup failed"
ok "losetup --direct-io=on: $loop"

dbg=$(debugfs -R dump_mmp "$loop" 2>/dev/null)
json=$("$MMPCTL" dump --json "$loop")
rc=$?
d() { printf '%s\n' "$dbg" | sed -n "s/^$1: //p"; }
j() { printf '%s\n' "$json" | jq -r "$1"; }
is "$rc|$(j '"\(.block_number) \(.update_interval) \(.check_interval) \(.time) \(.node_name) \(.device_name) \(.checksum_valid)"') $(printf '%08x 0x%x 0x%08x' "$(j .sequence)" "$(j .magic)" "$(j .checksum)")" \
        "0|$(d block_number) $(d update_interval) $(d check_interval) $(d time | cut -d' ' -f1) $(d node_name) $(d device_name) true $(d sequence) $(d magic) $(d checksum)" \
        "dump --json $loop agrees with debugfs dump_mmp"
is "$(j .wait_seconds) $(j .block_size) $(j .sequence_class)" "19 4096 active" "$loop: W, block size, class"
is "$("$MMPCTL" dump --json "$img" | jq -c 'del(.device)')" "$(printf '%s' "$json" | jq -c 'del(.device)')" \
        "the image file and its loop device dump the same"

# O_DIRECT: cache the MMP block in the device's page cache and keep it there
# (the cache is dropped at the last close), then change the medium.
exec 3<"$loop"
dd if="$loop" of=/dev/null bs=4096 skip="$blk" count=1 2>/dev/null
"$EDIT" "$img" seq=0x2b || bail_out "mmp-edit failed"
cached=$(dd if="$loop" bs=4096 skip="$blk" count=1 2>/dev/null | od -An -tx1 -j4 -N4 | tr -d ' \n')
if [ "$cached" = 2a000000 ]; then
        ok "control: a buffered read of $loop still sees the old sequence"
else
        skip "control: a buffered read of $loop still sees the old sequence" \
                "page cache already dropped (saw $cached): the next test proves less"
fi
is "$("$MMPCTL" dump --json "$loop" | jq -r .sequence)" 43 "mmpctl reads around the page cache (O_DIRECT)"
exec 3<&-

valgrind_check "dump $loop" 0 "$MMPCTL" dump "$loop"

losetup -d "$loop" && ok "detached $loop" || not_ok "detached $loop"
loop=
done_testing
