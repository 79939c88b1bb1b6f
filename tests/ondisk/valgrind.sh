#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The codec's cmocka tests and 'mmpctl dump' on a sound image, under
# valgrind: memory errors or leaks fail.  (dump-errors.sh and
# dump-blockdev.sh run mmpctl on bad input and on a block device under
# valgrind too.)  Without valgrind: skip, except under CI=true: fail.
. "$top_srcdir/tests/lib/tap.sh"

require_cmd valgrind mkfs.ext4

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-valgrind.XXXXXX") || bail_out "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

for t in test-corrupt test-encode; do
        CMOCKA_MESSAGE_OUTPUT=TAP $VG "$top_builddir/tests/ondisk/$t" >"$tmp/$t.out" 2>&1
        rc=$?
        if [ $rc = 0 ] && ! grep -q '^not ok' "$tmp/$t.out"; then
                ok "$t under valgrind"
        else
                not_ok "$t under valgrind" "exit $rc" "$(cat "$tmp/$t.out")"
        fi
done

img=$tmp/good.img
truncate -s 16M "$img"
mkfs.ext4 -q -F -O mmp,metadata_csum,metadata_csum_seed -b 1024 "$img" >/dev/null 2>&1 ||
        bail_out "mkfs.ext4 failed"
for mode in "" --json; do
        $VG "$top_builddir/mmpctl/mmpctl" dump $mode "$img" >/dev/null 2>"$tmp/err"
        rc=$?
        [ $rc = 0 ] && ok "mmpctl dump $mode on a sound image under valgrind" ||
                not_ok "mmpctl dump $mode on a sound image under valgrind" "exit $rc" "$(cat "$tmp/err")"
done

done_testing
