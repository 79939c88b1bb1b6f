#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# libmmp's ABI: the shared library exports exactly the symbols listed in
# lib/libmmp.sym, all in a version node, and every function the public
# header declares is listed there (and nothing else is).
. "$top_srcdir/tests/lib/tap.sh"

require_cmd nm objdump

so=$top_builddir/lib/.libs/libmmp.so
sym=$top_srcdir/lib/libmmp.sym
hdr=$top_srcdir/lib/libmmp.h
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmp-symbols.XXXXXX") || bail_out "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

[ -e "$so" ] || bail_out "$so not built"

# Listed: "        mmp_name;" lines of the version script.
sed -n 's/^[[:space:]]*\(mmp_[a-z0-9_]*\);[[:space:]]*$/\1/p' "$sym" | sort >"$tmp/listed"
# Exported: defined dynamic symbols, without the version node itself (type A).
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' >"$tmp/raw"
sed 's/@.*//' "$tmp/raw" | sort >"$tmp/exported"
# Declared: every "name(" after a type in the header, functions only.
sed -n 's/^[a-z].*[ *]\(mmp_[a-z0-9_]*\)(.*/\1/p' "$hdr" | sort -u >"$tmp/declared"

[ -s "$tmp/listed" ] || bail_out "no symbols found in $sym"

if cmp -s "$tmp/listed" "$tmp/exported"; then
        ok "exported symbols == libmmp.sym ($(wc -l <"$tmp/listed") symbols)"
else
        not_ok "exported symbols == libmmp.sym" "$(diff -u "$tmp/listed" "$tmp/exported")"
fi

unversioned=$(grep -v '@@LIBMMP_' "$tmp/raw")
is "$unversioned" "" "every export carries a LIBMMP_ version"

# Each symbol in the node the script lists it in: a symbol that moved to
# another node breaks every program linked against the old one.
awk '/^LIBMMP_[0-9]+ *\{/ { node = $1 }
     /^[[:space:]]*mmp_[a-z0-9_]*;[[:space:]]*$/ { sub(/;.*/, ""); gsub(/[[:space:]]/, ""); print $0 "@@" node }' \
        "$sym" | sort >"$tmp/listed-nodes"
sort "$tmp/raw" >"$tmp/exported-nodes"
if cmp -s "$tmp/listed-nodes" "$tmp/exported-nodes"; then
        ok "every symbol is exported in the version node that lists it"
else
        not_ok "every symbol is exported in the version node that lists it" \
                "$(diff -u "$tmp/listed-nodes" "$tmp/exported-nodes")"
fi

if cmp -s "$tmp/listed" "$tmp/declared"; then
        ok "libmmp.sym == the functions declared in libmmp.h"
else
        not_ok "libmmp.sym == the functions declared in libmmp.h" \
                "$(diff -u "$tmp/listed" "$tmp/declared")"
fi

soname=$(objdump -p "$so" | awk '$1 == "SONAME" { print $2 }')
is "$soname" "libmmp.so.0" "SONAME"

needed=$(objdump -p "$so" | awk '$1 == "NEEDED" { print $2 }' | tr '\n' ' ')
case $needed in
*ext2fs*|*systemd*|*ev.so*) not_ok "libmmp needs only libc and jansson" "NEEDED: $needed" ;;
*) ok "libmmp needs only libc and jansson ($needed)" ;;
esac

done_testing
