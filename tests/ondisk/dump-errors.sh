#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# 'mmpctl dump' on bad input: exit status and the exact message for each
# error, corrupt MMP blocks shown with a warning (exit 1), names with
# control bytes escaped, command-line usage.  Every bad input is also run
# under valgrind (tests/lib/valgrind.sh: memory errors and leaks fail).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/ondisk/images.sh"
. "$top_srcdir/tests/lib/valgrind.sh"

require_cmd mkfs.ext4 debugfs dumpe2fs jq

MMPCTL=$top_builddir/mmpctl/mmpctl
EDIT=$top_builddir/tests/ondisk/mmp-edit
TZ=UTC
export TZ
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-dump-errors.XXXXXX") || bail_out "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# fails DESC WANT_RC WANT_STDERR FILE: 'mmpctl dump FILE' and 'mmpctl dump --json FILE'
# print nothing on stdout, exactly WANT_STDERR on stderr, and exit WANT_RC.
fails() {
        _d=$1 _want=$2 _msg=$3 _f=$4
        _out=$("$MMPCTL" dump "$_f" 2>"$tmp/err")
        _rc=$?
        _jout=$("$MMPCTL" dump --json "$_f" 2>"$tmp/jerr")
        _jrc=$?
        is "$_rc $_jrc|$(cat "$tmp/err")|$(cat "$tmp/jerr")|$_out$_jout" "$_want $_want|$_msg|$_msg|" \
                "$_d: exit $_want, message"
        valgrind_check "$_d" "$_want" "$MMPCTL" dump "$_f"
}

mkimg "$tmp/good.img" mmp,metadata_csum 4096
blk=$(mmp_block_of "$tmp/good.img")
[ -n "$blk" ] || bail_out "no MMP block number from dumpe2fs"

# --- errors: exit 2 --------------------------------------------------------

f=$tmp/empty.img
: >"$f"
fails "empty file" 2 "mmpctl: $f: too short to hold the structure (truncated or empty)" "$f"

f=$tmp/short.img
head -c 1500 "$tmp/good.img" >"$f"
fails "file ending inside the superblock" 2 \
        "mmpctl: $f: too short to hold the structure (truncated or empty)" "$f"

f=$tmp/random.img
head -c 65536 /dev/urandom >"$f"
printf '\0\0' | dd of="$f" bs=1 seek=$((1024 + 0x38)) conv=notrunc 2>/dev/null   # no 0xEF53 by chance
fails "random bytes" 2 "mmpctl: $f: not an ext2/ext3/ext4 filesystem (bad superblock magic)" "$f"

f=$tmp/zeros.img
truncate -s 1M "$f"
fails "zeros" 2 "mmpctl: $f: not an ext2/ext3/ext4 filesystem (bad superblock magic)" "$f"

f=$tmp/nommp.img
mkimg "$f" "^mmp,metadata_csum" 4096
fails "ext4 without mmp" 2 \
        "mmpctl: $f: the filesystem does not have the mmp feature (enable it with: tune2fs -O mmp DEVICE)" "$f"
"$MMPCTL" dump "$f" 2>&1 | grep -q 'tune2fs -O mmp' && ok "ext4 without mmp: message has the tune2fs hint" ||
        not_ok "ext4 without mmp: message has the tune2fs hint"

f=$tmp/does-not-exist.img
fails "nonexistent path" 2 "mmpctl: $f: cannot open: No such file or directory" "$f"

fails "a directory" 2 "mmpctl: $tmp: cannot read: Is a directory" "$tmp"

f=$tmp/badsb.img
cp "$tmp/good.img" "$f"
printf 'X' | dd of="$f" bs=1 seek=$((1024 + 0x78)) conv=notrunc 2>/dev/null         # s_volume_name
fails "superblock checksum broken" 2 "mmpctl: $f: checksum does not match (corrupt metadata)" "$f"

f=$tmp/truncated.img
cp "$tmp/good.img" "$f"
truncate -s $((blk * 4096)) "$f"
fails "image cut before the MMP block" 2 \
        "mmpctl: $f: too short to hold the structure (truncated or empty)" "$f"

# --- a corrupt MMP block: shown, warned about, exit 1 ----------------------

f=$tmp/badmagic.img
cp "$tmp/good.img" "$f"
printf 'XXXX' | dd of="$f" bs=1 seek=$((blk * 4096)) conv=notrunc 2>/dev/null
out=$("$MMPCTL" dump "$f" 2>"$tmp/err")
rc=$?
is "$rc|$(cat "$tmp/err")" \
        "1|mmpctl: $f: warning: MMP block $blk: the MMP block has a bad magic number (corrupt; e2fsck can rebuild it); the volume is not usable as is" \
        "bad MMP magic: exit 1 and a warning"
is "$(printf '%s\n' "$out" | sed -n 's/^magic: *//p')|$(printf '%s\n' "$out" | sed -n 's/^sequence: *//p')" \
        "0x58585858 (BAD: expected 0x4d4d50)|ff4d4d50 (clean)" "bad MMP magic: fields still shown"
json=$("$MMPCTL" dump --json "$f" 2>/dev/null)
is "$?|$(printf '%s' "$json" | jq -r '"\(.magic) \(.sequence_class) \(.checksum_valid)"')" \
        "1|1482184792 clean false" "bad MMP magic: JSON still printed"
valgrind_check "bad MMP magic" 1 "$MMPCTL" dump --json "$f"

f=$tmp/badcsum.img
cp "$tmp/good.img" "$f"
printf '~' | dd of="$f" bs=1 seek=$((blk * 4096 + 16)) conv=notrunc 2>/dev/null    # node_name[0]
out=$("$MMPCTL" dump "$f" 2>"$tmp/err")
rc=$?
is "$rc|$(cat "$tmp/err")" \
        "1|mmpctl: $f: warning: MMP block $blk: checksum does not match (corrupt metadata); the volume is not usable as is" \
        "bad MMP checksum: exit 1 and a warning"
want=$(debugfs -n -R dump_mmp "$f" 2>/dev/null | sed -n 's/^node_name: //p')
is "$(printf '%s\n' "$out" | sed -n 's/^node_name: *//p')|$(printf '%s\n' "$out" | sed -n 's/^checksum: *0x[0-9a-f]* //p')" \
        "$want|(INVALID: does not match the block)" "bad MMP checksum: fields shown, checksum marked invalid"
is "$("$MMPCTL" dump --json "$f" 2>/dev/null | jq -r .checksum_valid)" false \
        "bad MMP checksum: JSON checksum_valid false"
valgrind_check "bad MMP checksum" 1 "$MMPCTL" dump "$f"

# --- names from disk are escaped -------------------------------------------

f=$tmp/names.img
cp "$tmp/good.img" "$f"
if "$EDIT" "$f" node="$(printf 'a\tb\\c\001\377end')" dev="$(printf 'x\ny\033[31m')"; then
        out=$("$MMPCTL" dump "$f")
        is "$(printf '%s\n' "$out" | sed -n 's/^node_name: *//p')|$(printf '%s\n' "$out" | sed -n 's/^device_name: *//p')" \
                'a\x09b\\c\x01\xffend|x\x0ay\x1b[31m' "names: control bytes escaped in text"
        if printf '%s' "$out" | LC_ALL=C grep -q '[^[:print:]]'; then
                not_ok "names: no raw control bytes in text output"
        else
                ok "names: no raw control bytes in text output"
        fi
        is "$("$MMPCTL" dump --json "$f" | jq -r '.node_name, .device_name' | tr '\n' '|')" \
                'a\x09b\\c\x01\xffend|x\x0ay\x1b[31m|' "names: same escaping in JSON"
        valgrind_check "names" 0 "$MMPCTL" dump --json "$f"
else
        not_ok "names: mmp-edit could not write the names"
fi

# --- command line ------------------------------------------------------------

"$MMPCTL" >/dev/null 2>"$tmp/err"
is "$?|$(head -n 1 "$tmp/err")" "2|Usage: mmpctl [OPTIONS] COMMAND [ARGS...]" "no command: usage on stderr, exit 2"
"$MMPCTL" frobnicate >/dev/null 2>"$tmp/err"
is "$?|$(head -n 2 "$tmp/err" | tr '\n' '|')" \
        "2|mmpctl: unknown command 'frobnicate'|Usage: mmpctl [OPTIONS] COMMAND [ARGS...]|" \
        "unknown command: usage on stderr, exit 2"
"$MMPCTL" --bogus >/dev/null 2>&1
is "$?" 2 "unknown global option: exit 2"
"$MMPCTL" dump >/dev/null 2>&1
is "$?" 2 "dump without DEVICE: exit 2"
"$MMPCTL" dump "$tmp/good.img" "$tmp/good.img" >/dev/null 2>&1
is "$?" 2 "dump with two devices: exit 2"
out=$("$MMPCTL" --help)
case "$?:$out" in
0:"Usage: mmpctl"*"  dump [--json] DEVICE"*) ok "--help lists dump, exit 0" ;;
*) not_ok "--help lists dump, exit 0" "$out" ;;
esac
out=$("$MMPCTL" --version)
case "$?:$out" in
"0:mmpctl "[0-9]*) ok "--version" ;;
*) not_ok "--version" "$out" ;;
esac
is "$("$MMPCTL" --socket "$tmp/none.sock" --json dump "$tmp/good.img" | jq -r .sequence_class)" clean \
        "global --socket and --json before the command"
is "$("$MMPCTL" dump "$tmp/good.img" --json | jq -r .block_number)" "$blk" "dump --json after DEVICE"

done_testing
