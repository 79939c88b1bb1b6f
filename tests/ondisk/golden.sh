#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Golden test: 'mmpctl dump' against 'debugfs -R dump_mmp' on images that
# e2fsprogs makes at test time, field by field.
#
# Variants: {no metadata_csum, metadata_csum, metadata_csum + csum_seed} x
# {1 KiB, 4 KiB blocks}.  States of the MMP block, per variant:
#   fresh    as mkfs.ext4 wrote it (device_name is the image path cut to
#            32 bytes: no NUL on disk)
#   debugfs  names and check_interval set by debugfs -w set_mmp_value; for
#            csum_seed the UUID is changed too, so the seed is not crc(UUID)
#   edit     seq 0x1234, an old time, a 64-byte node_name and a 32-byte
#            device_name (no NULs), check_interval 100 (W = c + 60),
#            written by tests/ondisk/mmp-edit (debugfs cannot write these)
#   fsck     seq FSCK, time 0 (a day of month < 10: ctime's padding)
#   invalid  seq just above FSCK, check_interval 300
#   badcsum  (metadata_csum variants) one byte of node_name changed
#            behind the checksum's back: debugfs -n is the oracle, mmpctl
#            must show the same fields, say the checksum is invalid, exit 1
# Each state gets six assertions: layout, sequence, time, names, checksum,
# derived values (exit status, block size, W).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/ondisk/images.sh"

require_cmd mkfs.ext4 debugfs dumpe2fs jq

MMPCTL=$top_builddir/mmpctl/mmpctl
EDIT=$top_builddir/tests/ondisk/mmp-edit
TZ=UTC
export TZ
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-golden.XXXXXX") || bail_out "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# pad STRING LEN CHAR: STRING followed by CHAR up to LEN bytes.
pad() {
        _s=$1
        while [ ${#_s} -lt "$2" ]; do _s="$_s$3"; done
        printf '%s' "$_s"
}

# W = min(2c + 1, c + 60), c = max(update_interval, 5, check_interval)  (docs/protocol.md, Timing)
wait_of() {
        _c=5
        [ "$1" -gt $_c ] && _c=$1
        [ "$2" -gt $_c ] && _c=$2
        _a=$((2 * _c + 1))
        _b=$((_c + 60))
        [ $_a -lt $_b ] && echo $_a || echo $_b
}

class_of() {
        case $1 in
        ff4d4d50) echo clean ;;
        e24d4d50) echo fsck ;;
        *) if [ $((0x$1)) -gt $((0xe24d4d50)) ]; then echo invalid; else echo active; fi ;;
        esac
}

# --- make the images -------------------------------------------------------

for v in $VARIANTS; do
        bs=${v##*-}
        ui=1
        [ "$bs" = 4096 ] && ui=3
        img=$tmp/$v-fresh.img
        mkimg "$img" "$(features_of "$v")" "$bs" $ui
        for s in debugfs edit fsck invalid badcsum; do
                cp "$img" "$tmp/$v-$s.img"
        done

        # debugfs -w waits W (11 s) at open: run all variants at once.
        {
                case $v in seed-*) echo "ssv uuid 01234567-89ab-cdef-0123-456789abcdef" ;; esac
                echo "set_mmp_value nodename $(pad "dbg-$v-" 63 N)"
                echo "set_mmp_value bdevname $(pad "dev-$v-" 31 D)"
                echo "set_mmp_value check_interval 42"
        } >"$tmp/$v.cmds"
        (debugfs -w -f "$tmp/$v.cmds" "$tmp/$v-debugfs.img" >"$tmp/$v.debugfs.log" 2>&1
         echo $? >"$tmp/$v.debugfs.rc") &
done
wait

for v in $VARIANTS; do
        if [ "$(cat "$tmp/$v.debugfs.rc")" = 0 ] && ! grep -qiE 'error|invalid' "$tmp/$v.debugfs.log"; then
                ok "$v: debugfs -w set_mmp_value"
        else
                not_ok "$v: debugfs -w set_mmp_value" "$(cat "$tmp/$v.debugfs.log")"
        fi
        check "$v: mmp-edit writes the edit state" "$EDIT" "$tmp/$v-edit.img" seq=0x1234 \
                time=1234567890 node="$(pad "edit-$v-" 64 n)" dev="$(pad "dev-$v-" 32 d)" \
                check_interval=100
        check "$v: mmp-edit writes the fsck state" "$EDIT" "$tmp/$v-fsck.img" seq=fsck time=0 \
                check_interval=7
        check "$v: mmp-edit writes the invalid state" "$EDIT" "$tmp/$v-invalid.img" \
                seq=0xe24d4d51 time=4102444800 check_interval=300
        # badcsum: overwrite node_name's first byte ('~' is in no host name).
        blk=$(mmp_block_of "$tmp/$v-badcsum.img")
        printf '~' | dd of="$tmp/$v-badcsum.img" bs=1 seek=$((blk * ${v##*-} + 16)) conv=notrunc \
                2>/dev/null
done

# --- compare ---------------------------------------------------------------

# compare IMG LABEL WANT_RC WANT_CSUM_VALID [DEBUGFS_OPTION]
compare() {
        img=$1 label=$2 want_rc=$3 want_valid=$4 dopt=${5:-}
        v=${label%%:*}
        bs=${v##*-}

        dbg=$(debugfs $dopt -R dump_mmp "$img" 2>/dev/null)
        json=$("$MMPCTL" dump --json "$img" 2>"$tmp/json.err")
        jrc=$?
        human=$("$MMPCTL" dump "$img" 2>"$tmp/human.err")
        hrc=$?
        if [ -z "$dbg" ]; then
                not_ok "$label: debugfs dump_mmp gave nothing to compare with"
                return
        fi

        d() { printf '%s\n' "$dbg" | sed -n "s/^$1: //p"; }
        j() { printf '%s\n' "$json" | jq -r ".$1"; }
        h() { printf '%s\n' "$human" | sed -n "s/^$1: *//p"; }

        want="$(d block_number) $(d update_interval) $(d check_interval) $(d magic)"
        is "$(j block_number) $(j update_interval) $(j check_interval) $(printf '0x%x' "$(j magic)")|$(h block_number) $(h update_interval) $(h check_interval) $(h magic)" \
                "$want|$want" "$label: block_number, update_interval, check_interval, magic"

        hex=$(d sequence)
        class=$(class_of "$hex")
        is "$(printf '%08x' "$(j sequence)") $(j sequence_class)|$(h sequence)" \
                "$hex $class|$hex ($class)" "$label: sequence and its class ($class)"

        dtime=$(d time)
        is "$(j time)|$(h time)" "${dtime%% *}|$dtime" "$label: time, seconds and date"

        want="$(d node_name)|$(d device_name)"
        is "$(j node_name)|$(j device_name)|$(h node_name)|$(h device_name)" "$want|$want" \
                "$label: node_name, device_name"

        case $v in
        nocsum-*) mc=false note="not used: no metadata_csum" ;;
        *)        mc=true
                  if [ "$want_valid" = true ]; then note=valid; else note="INVALID: does not match the block"; fi ;;
        esac
        is "$(printf '0x%08x' "$(j checksum)") $(j checksum_valid) $(j metadata_csum)|$(h checksum)" \
                "$(d checksum) $want_valid $mc|$(d checksum) ($note)" "$label: checksum ($note)"

        w=$(wait_of "$(d update_interval)" "$(d check_interval)")
        h_wait=$(h wait_seconds)
        is "$jrc $hrc $(j block_size) $(h block_size) $(j wait_seconds) ${h_wait%% *}" \
                "$want_rc $want_rc $bs $bs $w $w" "$label: exit $want_rc, block_size, wait W=$w"
        if [ "$want_rc" != 0 ]; then
                grep -q "warning: MMP block" "$tmp/json.err" ||
                        diag "$label: no warning on stderr: $(cat "$tmp/json.err")"
        fi
}

for v in $VARIANTS; do
        compare "$tmp/$v-fresh.img" "$v: fresh" 0 true
        compare "$tmp/$v-debugfs.img" "$v: debugfs" 0 true
        compare "$tmp/$v-edit.img" "$v: edit" 0 true
        compare "$tmp/$v-fsck.img" "$v: fsck" 0 true
        compare "$tmp/$v-invalid.img" "$v: invalid" 0 true
        case $v in
        nocsum-*) ;;
        *) compare "$tmp/$v-badcsum.img" "$v: badcsum" 1 false -n ;;
        esac
done

# The states are what they claim to be (guards against a silent no-op above).
v=seed-4096
is "$(dumpe2fs -h "$tmp/$v-debugfs.img" 2>/dev/null | sed -n 's/^Filesystem UUID: *//p')" \
        01234567-89ab-cdef-0123-456789abcdef "$v: debugfs changed the UUID (seed != crc(UUID))"
is "$(debugfs -R dump_mmp "$tmp/$v-edit.img" 2>/dev/null | sed -n 's/^node_name: //p' | tr -d '\n' | wc -c) $(debugfs -R dump_mmp "$tmp/$v-fresh.img" 2>/dev/null | sed -n 's/^device_name: //p' | tr -d '\n' | wc -c)" \
        "64 32" "$v: full-width node_name (edit) and device_name (mkfs) are present"

done_testing
