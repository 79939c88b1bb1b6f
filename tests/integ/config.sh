#!/bin/bash
# Bad configuration files: mmpd refuses to start and names file:line.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/mmpd.sh"

bad() {         # bad DESC EXPECTED-STDERR-REGEX CONTENT
        printf '%b' "$3" >"$T/bad.conf"
        out=$(timeout 10 "$MMPD" --config "$T/bad.conf" 2>&1); rc=$?
        if [ "$rc" -eq 1 ] && grep -qE "$2" <<<"$out"; then ok "$1"; else not_ok "$1" "rc=$rc" "$out"; fi
}
bad "unknown key" "bad.conf:2: unknown key 'nodename' in \[mmpd\]" '[mmpd]\nnodename = x\n'
bad "bad value" "bad.conf:3: invalid value 'soon' for 'margin'" '[mmpd]\nnode_name = x\nmargin = soon\n'
bad "duplicate volume" "bad.conf:5: duplicate volume \"a\" \(first defined at line 1\)" '[volume "a"]\ndevice = /dev/loop100\n\n\n[volume "a"]\ndevice = /dev/loop101\n'
bad "volume without device" "bad.conf:2: \[volume \"v\"\] has no 'device ='" '[mmpd]\n[volume "v"]\nmargin = 1\n'
bad "unknown section" "bad.conf:1: unknown section" '[global]\n'
bad "same device twice" "bad.conf:4: device '/dev/loop7' is already used" '[volume "a"]\ndevice = /dev/loop7\n[volume "b"]\ndevice = /dev/loop7\n'
out=$("$MMPD" --config "$T/missing.conf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q "missing.conf: cannot open" <<<"$out" && ok "missing --config file is an error" || not_ok "missing --config" "$out"
out=$("$MMPD" --bogus 2>&1); rc=$?
is "$rc" 2 "unknown option: exit 2"
done_testing
