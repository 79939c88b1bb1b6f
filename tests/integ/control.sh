#!/bin/bash
# The varlink conformance suite (raw wire protocol) against the real mmpd and
# a real loop device: GetInfo, errors, pipelining, oneway, more/continues,
# Claim with progress while Watch and Check look on, Release, limits.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd python3 losetup
. "$top_srcdir/tests/lib/mmpd.sh"

img=$(mkimg control 1); dev=$(loop_attach "$img")
chmod 755 "$T"             # the unprivileged cases must reach the socket
start_mmpd C node-c
for _ in $(seq 1 50); do [ -S "$(mmpd_sock C)" ] && break; sleep 0.1; done
MMPD_VARLINK_SOCKET=$(mmpd_sock C) MMPD_TEST_DEVICE=$dev MMPD_TEST_PARTIAL_TIMEOUT=10 \
MMPD_TEST_IDLE_TIMEOUT=60 MMPD_TEST_TMPDIR=$T \
        python3 "$top_srcdir/tests/varlink/conformance.py"
rc=$?
kill -0 "$(mmpd_pid C)" 2>/dev/null || { echo "# mmpd died:"; sed 's/^/# /' "$T/C.log"; rc=1; }
exit $rc
