#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Encode acceptance: MMP blocks written with mmp_block_encode() (through
# tests/ondisk/mmp-edit) must be what e2fsprogs reads back:
#   - debugfs dump_mmp shows exactly the fields written (libext2fs verifies
#     the checksum when it reads, so with metadata_csum this also accepts it)
#   - bytes 1024.. of a 4 KiB MMP block (outside struct mmp_struct) are kept
#   - seq CLEAN + a new node name: e2mmpstatus says "MMP is clean" (exit 0)
#     and e2fsck -fn finds no MMP problem
#   - negative control (metadata_csum): the same block with one byte changed
#     behind the checksum is refused by both, so the checks above can fail
# For csum_seed the UUID is changed first (debugfs -w), so the seed in the
# superblock is no longer crc32c(UUID).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/ondisk/images.sh"

require_cmd mkfs.ext4 debugfs dumpe2fs e2mmpstatus e2fsck

EDIT=$top_builddir/tests/ondisk/mmp-edit
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-encode.XXXXXX") || bail_out "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

NODE64=node-0123456789-0123456789-0123456789-0123456789-0123456789-abcd
DEV32=dev-0123456789-0123456789-abcdef

[ ${#NODE64} -eq 64 ] && [ ${#DEV32} -eq 32 ] || bail_out "test names have the wrong length"

for v in $VARIANTS; do
        img=$tmp/$v.img
        mkimg "$img" "$(features_of "$v")" "${v##*-}"
        case $v in
        seed-*) # waits W (11 s) at open: in parallel
                (debugfs -w -R "ssv uuid 89abcdef-0123-4567-89ab-cdef01234567" "$img" \
                        >"$tmp/$v.uuid.log" 2>&1; echo $? >"$tmp/$v.uuid.rc") & ;;
        esac
done
wait

for v in $VARIANTS; do
        img=$tmp/$v.img
        bs=${v##*-}
        blk=$(mmp_block_of "$img")
        case $v in
        seed-*) is "$(cat "$tmp/$v.uuid.rc")" 0 "$v: debugfs changed the UUID" ;;
        esac

        # Something to preserve past the struct (e2fsprogs ignores those bytes).
        if [ "$bs" -gt 1024 ]; then
                dd if=/dev/urandom of="$img" bs=1 seek=$((blk * bs + 1024)) count=$((bs - 1024)) \
                        conv=notrunc 2>/dev/null
        fi
        dd if="$img" of="$tmp/$v.before" bs="$bs" skip="$blk" count=1 2>/dev/null

        check "$v: mmp-edit encodes seq, time, names, check_interval" "$EDIT" "$img" \
                seq=0x1234 time=1234567890 node=$NODE64 dev=$DEV32 check_interval=17

        out=$(debugfs -R dump_mmp "$img" 2>&1)
        got=$(printf '%s\n' "$out" | sed -n -e 's/^sequence: //p' -e 's/^time: \([0-9]*\).*/\1/p' \
                -e 's/^node_name: //p' -e 's/^device_name: //p' -e 's/^check_interval: //p' \
                -e 's/^magic: //p' | tr '\n' ' ')
        is "$got" "17 00001234 1234567890 $NODE64 $DEV32 0x4d4d50 " \
                "$v: debugfs dump_mmp reads back exactly the encoded fields"
        [ -n "$got" ] || diag "$out"

        dd if="$img" of="$tmp/$v.after" bs="$bs" skip="$blk" count=1 2>/dev/null
        if [ "$bs" -gt 1024 ]; then
                if cmp -s -i 1024 "$tmp/$v.before" "$tmp/$v.after"; then
                        ok "$v: bytes 1024..$((bs - 1)) of the MMP block preserved"
                else
                        not_ok "$v: bytes 1024..$((bs - 1)) of the MMP block preserved" \
                                "$(cmp -l -i 1024 "$tmp/$v.before" "$tmp/$v.after" | head -5)"
                fi
        fi
        # Only the struct's fields changed: pads (0x72..0x3fb) are kept too.
        if cmp -s -i 114 -n $((0x3fc - 114)) "$tmp/$v.before" "$tmp/$v.after"; then
                ok "$v: MMP struct padding preserved"
        else
                not_ok "$v: MMP struct padding preserved"
        fi

        check "$v: mmp-edit releases it: seq CLEAN, new node name" "$EDIT" "$img" \
                seq=clean node=released-by-test
        out=$(e2mmpstatus "$img" 2>&1)
        rc=$?
        case "$rc:$out" in
        "0:"*"MMP is clean"*) ok "$v: e2mmpstatus: MMP is clean" ;;
        *) not_ok "$v: e2mmpstatus: MMP is clean" "exit $rc" "$out" ;;
        esac
        # e2fsck announces a long MMP interval ("MMP interval is 17 seconds
        # and total wait time is 70 seconds. Please wait..."): not a problem.
        out=$(e2fsck -fn "$img" 2>&1)
        rc=$?
        out=$(printf '%s\n' "$out" | grep -v '^MMP interval is [0-9]* seconds')
        case "$rc:$out" in
        0:*MMP*) not_ok "$v: e2fsck -fn finds no MMP problem" "$out" ;;
        0:*) ok "$v: e2fsck -fn finds no MMP problem" ;;
        *) not_ok "$v: e2fsck -fn finds no MMP problem" "exit $rc" "$out" ;;
        esac
        is "$(debugfs -R dump_mmp "$img" 2>/dev/null | sed -n 's/^node_name: //p')" \
                released-by-test "$v: debugfs shows the new node name"

        case $v in nocsum-*) continue ;; esac
        # Negative control: one byte changed without fixing the checksum.
        cp "$img" "$tmp/$v.bad.img"
        printf '~' | dd of="$tmp/$v.bad.img" bs=1 seek=$((blk * bs + 16)) conv=notrunc 2>/dev/null
        out=$(e2mmpstatus "$tmp/$v.bad.img" 2>&1)
        rc=$?
        case "$rc:$out" in
        0:*) not_ok "$v: control: e2mmpstatus refuses a bad checksum" "$out" ;;
        *"checksum does not match"*) ok "$v: control: e2mmpstatus refuses a bad checksum" ;;
        *) not_ok "$v: control: e2mmpstatus refuses a bad checksum" "exit $rc" "$out" ;;
        esac
        out=$(e2fsck -fn "$tmp/$v.bad.img" 2>&1)
        rc=$?
        case "$rc:$out" in
        0:*) not_ok "$v: control: e2fsck -fn reports the MMP checksum" "$out" ;;
        *"MMP block checksum does not match"*) ok "$v: control: e2fsck -fn reports the MMP checksum" ;;
        *) not_ok "$v: control: e2fsck -fn reports the MMP checksum" "exit $rc" "$out" ;;
        esac
done

done_testing
