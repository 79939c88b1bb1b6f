# SPDX-License-Identifier: LGPL-2.1-or-later
# fake.sh - start tests/client/fake-mmpd for a test script.  Source it after
# tap.sh; it makes $tmp and removes it, and stops the fakes it started, on exit.
#
#   start_fake SOCKET [hold|close|final]   # returns once SOCKET accepts
#   stop_fake SOCKET                        # SIGKILL: leaves SOCKET behind

FAKE=$top_builddir/tests/client/fake-mmpd
[ -x "$FAKE" ] || bail_out "$FAKE not built"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-client.XXXXXX") || bail_out "mktemp failed"
: >"$tmp/pids"

_fake_cleanup() {
        while read -r _p _s; do
                kill "$_p" 2>/dev/null
        done <"$tmp/pids"
        rm -rf "$tmp"
}
trap _fake_cleanup EXIT

start_fake() {
        "$FAKE" "$1" "${2:-hold}" &
        echo "$! $1" >>"$tmp/pids"
        _i=0
        # fake-mmpd renames its socket into place once it listens.
        while [ ! -S "$1" ] && [ $_i -lt 100 ]; do
                sleep 0.05
                _i=$((_i + 1))
        done
        [ -S "$1" ] || bail_out "fake-mmpd did not start on $1"
}

stop_fake() {
        while read -r _p _s; do
                [ "$_s" = "$1" ] && kill -KILL "$_p" 2>/dev/null && wait "$_p" 2>/dev/null
        done <"$tmp/pids"
        return 0
}
