# SPDX-License-Identifier: LGPL-2.1-or-later
# valgrind.sh - run a program under valgrind as one TAP test.  Source it
# after tap.sh:
#
#   . "$top_srcdir/tests/lib/valgrind.sh"
#   valgrind_check "dump on empty file" 2 "$top_builddir/mmpctl/mmpctl" dump empty.img
#
# valgrind_check DESC WANT_RC PROGRAM [ARGS...] passes when PROGRAM exits
# WANT_RC under valgrind with no memory error and no definite or possible
# leak (those make valgrind exit 99).  Its output goes to the TAP log only on
# failure.  It skips when valgrind is not installed (a failure under
# CI=true), and when PROGRAM is built with sanitizers (--enable-sanitizers):
# ASan and valgrind cannot run together, and the sanitizers are checking.

VALGRIND_CMD="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible"

valgrind_check() {
        _vd=$1 _vwant=$2
        shift 2
        if ! command -v valgrind >/dev/null 2>&1; then
                if in_ci; then
                        not_ok "$_vd: valgrind" "valgrind is not installed and CI=true"
                else
                        skip "$_vd: valgrind" "valgrind not installed"
                fi
                return
        fi
        if ldd "$1" 2>/dev/null | grep -q 'lib[a-z]*san\.so'; then
                skip "$_vd: valgrind" "sanitizer build"
                return
        fi
        _vout=$($VALGRIND_CMD "$@" 2>&1)
        _vrc=$?
        if [ "$_vrc" = "$_vwant" ]; then
                ok "$_vd: valgrind clean"
        else
                not_ok "$_vd: valgrind clean" "exit $_vrc, want $_vwant" "$_vout"
        fi
}
