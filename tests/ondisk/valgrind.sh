#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The codec's cmocka tests and 'mmpctl dump' on a sound image, under
# valgrind (tests/lib/valgrind.sh: memory errors or leaks fail).
# dump-errors.sh and dump-blockdev.sh run mmpctl on bad input and on a
# block device under valgrind too.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/ondisk/images.sh"
. "$top_srcdir/tests/lib/valgrind.sh"

require_cmd mkfs.ext4 dumpe2fs

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-valgrind.XXXXXX") || bail_out "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

valgrind_check "test-corrupt" 0 "$top_builddir/tests/ondisk/test-corrupt"
valgrind_check "test-encode" 0 "$top_builddir/tests/ondisk/test-encode"

img=$tmp/good.img
mkimg "$img" mmp,metadata_csum,metadata_csum_seed 1024
valgrind_check "mmpctl dump on a sound image" 0 "$top_builddir/mmpctl/mmpctl" dump "$img"
valgrind_check "mmpctl dump --json on a sound image" 0 "$top_builddir/mmpctl/mmpctl" dump --json "$img"

done_testing
