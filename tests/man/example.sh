#!/bin/bash
# The example program of libmmp(3) compiles (-Wall -Wextra -Werror) against
# the public header, links with libmmp, and behaves as the page says when
# mmpd is not there: "cannot reach mmpd", exit 2; a usage error exits 2.
. "$top_srcdir/tests/lib/tap.sh"
CC=${CC:-cc}
require_cmd "$CC"
# A sanitizer build's libmmp needs its runtime first: build the example
# the same way (the build's own flags, from its Makefile).
san_flags=$(sed -n 's/^SAN_LDFLAGS = //p' "$top_builddir/Makefile" 2>/dev/null)

T=$(mktemp -d /tmp/mmpd-man.XXXXXX)
trap 'rm -rf "$T"' EXIT

awk '/^\.Sh EXAMPLES/ { e = 1 } e && /^\.Bd -literal/ { p = 1; next } p && /^\.Ed/ { exit } p' \
        "$top_srcdir/man/libmmp.3" | sed 's/\\e/\\/g' >"$T/example.c"
grep -q 'mmp_check(' "$T/example.c" && ok "example extracted from libmmp(3)" ||
        not_ok "example extracted from libmmp(3)" "$(cat "$T/example.c")"
check "example compiles against lib/libmmp.h" \
        "$CC" -Wall -Wextra -Werror $san_flags -I"$top_srcdir/lib" -c -o "$T/example.o" "$T/example.c"
check "example links with libmmp" \
        "$top_builddir/libtool" --mode=link "$CC" $san_flags -o "$T/example" "$T/example.o" "$top_builddir/lib/libmmp.la"
out=$(MMPD_SOCKET="$T/none" "$T/example" /dev/sdx 2>&1); rc=$?
is "$rc" 2 "without mmpd: exit 2"
case "$out" in *"cannot reach mmpd"*) ok "without mmpd: says so";; *) not_ok "without mmpd: says so" "$out";; esac
"$T/example" >/dev/null 2>&1; is "$?" 2 "no argument: exit 2"
done_testing
