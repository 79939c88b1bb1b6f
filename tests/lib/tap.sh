# SPDX-License-Identifier: LGPL-2.1-or-later
# tap.sh - a small TAP producer for shell tests.  Source it from a test:
#
#   . "$top_srcdir/tests/lib/tap.sh"
#   require_root                  # whole script needs root (see below)
#   require_cmd jq debugfs        # whole script needs these commands
#   plan 3                        # optional: or call done_testing at the end
#   ok "mmpctl exists"            # a passing test
#   not_ok "it broke" "diag line" # a failing test, with diagnostics
#   is "$got" "$want" "seq agrees with debugfs"
#   check "image is ext4" dumpe2fs -h img   # pass if the command succeeds
#   skip "loop device" "not root"
#   done_testing                  # prints the plan if none was given; exit 1 if anything failed
#
# The suite's rule for privileges and tools (STYLE.md, "Tests"): a test that
# needs root or an external tool may skip only outside CI.  Under
# CI=true the same condition is a failure, so a CI job that silently lost its
# privileges is noticed.  Every helper that skips goes through _tap_skip_or_fail.
#
# Variables: TAP_N (tests so far), TAP_FAILED (failures so far).  Helpers only
# print to stdout (TAP) and stderr is left to the test; diagnostics are "# "
# lines on stdout so the TAP driver keeps them in the log.

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=

# plan N: announce N tests up front.
plan() {
        TAP_PLANNED=$1
        echo "1..$1"
}

# diag LINE...: one "# LINE" per argument (multi-line arguments are split).
diag() {
        for _l in "$@"; do
                printf '%s\n' "$_l" | sed 's/^/# /'
        done
}

# ok DESC: record a pass.
ok() {
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - $1"
}

# not_ok DESC [DIAG...]: record a failure, with diagnostic lines.
not_ok() {
        TAP_N=$((TAP_N + 1))
        TAP_FAILED=$((TAP_FAILED + 1))
        echo "not ok $TAP_N - $1"
        shift
        [ $# -eq 0 ] || diag "$@"
}

# is GOT WANT DESC: pass when the two strings are equal.
is() {
        if [ "$1" = "$2" ]; then
                ok "$3"
        else
                not_ok "$3" "got:  '$1'" "want: '$2'"
        fi
}

# check DESC CMD [ARGS...]: pass when CMD exits 0; its output goes to diag on failure.
check() {
        _desc=$1
        shift
        if _out=$("$@" 2>&1); then
                ok "$_desc"
        else
                not_ok "$_desc" "command failed ($?): $*" "$_out"
        fi
}

# skip DESC REASON: record a skipped test (counts as a pass in TAP).
skip() {
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - $1 # SKIP $2"
}

# in_ci: true under CI=true (also CI=1, as some CI systems set).
in_ci() {
        case "${CI:-}" in true|1|yes) return 0 ;; esac
        return 1
}

# skip_all REASON: the whole script has nothing to run here.  Before any test.
skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}

# bail_out REASON: abort the whole script; the TAP driver reports an error.
bail_out() {
        echo "Bail out! $1"
        exit 1
}

# _tap_skip_or_fail REASON: skip_all outside CI, bail out under CI.
_tap_skip_or_fail() {
        if in_ci; then
                bail_out "$1 (CI=true: this test must run in CI)"
        fi
        skip_all "$1"
}

# is_root: true when running with uid 0.
is_root() {
        [ "$(id -u)" -eq 0 ]
}

# require_root: the whole script needs root.  Call before plan.
require_root() {
        is_root || _tap_skip_or_fail "needs root"
}

# require_cmd CMD...: the whole script needs these commands.  Call before plan.
require_cmd() {
        for _c in "$@"; do
                command -v "$_c" >/dev/null 2>&1 || _tap_skip_or_fail "needs $_c"
        done
}

# root_or_skip N DESC: for a block of N tests that need root.  Returns 0 when
# root; otherwise records N skips (outside CI) or N failures (under CI) and
# returns 1, so:   if root_or_skip 3 "loop device"; then ...3 tests...; fi
root_or_skip() {
        is_root && return 0
        _i=0
        while [ "$_i" -lt "$1" ]; do
                if in_ci; then
                        not_ok "$2" "needs root, and CI=true forbids skipping"
                else
                        skip "$2" "needs root"
                fi
                _i=$((_i + 1))
        done
        return 1
}

# done_testing: print the plan if none was given, check the count, set the exit status.
done_testing() {
        if [ -z "$TAP_PLANNED" ]; then
                echo "1..$TAP_N"
        elif [ "$TAP_PLANNED" -ne "$TAP_N" ]; then
                diag "planned $TAP_PLANNED tests but ran $TAP_N"
                exit 1
        fi
        [ "$TAP_FAILED" -eq 0 ] || exit 1
        exit 0
}

# The sbin tools (mkfs.ext4, debugfs, losetup) are not on a user's PATH everywhere.
PATH=$PATH:/sbin:/usr/sbin
export PATH
