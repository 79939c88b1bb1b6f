#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# libmmp and mmpctl's mmpd commands under valgrind (tests/lib/valgrind.sh:
# any memory error or leak fails), against tests/client/fake-mmpd.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/valgrind.sh"
. "$top_srcdir/tests/client/fake.sh"

MMPCTL=$top_builddir/mmpctl/mmpctl
S=$tmp/io.mmpd
start_fake "$S" hold
start_fake "$tmp/close.mmpd" close
mkdir "$tmp/dir"

valgrind_check "test-libmmp" 0 "$top_builddir/tests/client/test-libmmp"

valgrind_check "mmpctl status" 0 "$MMPCTL" --socket "$S" status
valgrind_check "mmpctl status --json" 0 "$MMPCTL" --socket "$S" status --json
valgrind_check "mmpctl status unknown" 2 "$MMPCTL" --socket "$S" status /dev/nothing
valgrind_check "mmpctl claim" 0 "$MMPCTL" --socket "$S" claim --name new /dev/loop2
valgrind_check "mmpctl claim refused" 1 "$MMPCTL" --socket "$S" claim /dev/loop0
valgrind_check "mmpctl claim already held" 0 "$MMPCTL" --socket "$S" claim /dev/loop1
valgrind_check "mmpctl claim in progress" 1 "$MMPCTL" --socket "$S" claim /dev/claiming
valgrind_check "mmpctl release" 0 "$MMPCTL" --socket "$S" release /dev/loop1
valgrind_check "mmpctl release not held" 1 "$MMPCTL" --socket "$S" release /dev/none
valgrind_check "mmpctl check may use" 0 "$MMPCTL" --socket "$S" check /dev/loop1
valgrind_check "mmpctl check may not" 1 "$MMPCTL" --socket "$S" check /dev/loop0
valgrind_check "mmpctl check bad reply" 2 "$MMPCTL" --socket "$S" check /dev/garbage
valgrind_check "mmpctl watch" 2 "$MMPCTL" --socket "$tmp/close.mmpd" watch
valgrind_check "mmpctl watch --json" 2 "$MMPCTL" --socket "$tmp/close.mmpd" watch --json
valgrind_check "mmpctl without mmpd" 2 "$MMPCTL" --socket "$tmp/none" status
valgrind_check "mmpctl status in use" 0 "$MMPCTL" --socket "$S" status /dev/loop3
valgrind_check "mmpctl exec" 3 "$MMPCTL" --socket "$S" exec /dev/loop1 -- sh -c 'exit 3'
valgrind_check "mmpctl exec --keep" 0 "$MMPCTL" --socket "$S" exec --keep /dev/loop1 -- true
valgrind_check "mmpctl exec, handoff fails" 0 "$MMPCTL" --socket "$S" exec /dev/handoff-failed -- true
valgrind_check "mmpctl exec missing command" 127 "$MMPCTL" --socket "$S" exec /dev/loop1 -- no-such-cmd-mmpd
valgrind_check "mmpctl umount not mounted" 2 "$MMPCTL" --socket "$S" umount "$tmp/nodir"
valgrind_check "mmpctl umount not watched" 2 "$MMPCTL" --socket "$S" umount /proc

if [ "$(id -u)" = 0 ]; then
        valgrind_check "mmpctl mount -o ro" 2 "$MMPCTL" --socket "$S" mount -o ro /dev/loop1 "$tmp/dir"
        valgrind_check "mmpctl mount failing after go" 2 "$MMPCTL" --socket "$S" \
                mount -t nosuchfs-mmpd /dev/loop1 "$tmp/dir"
fi

done_testing
