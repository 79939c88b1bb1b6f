#!/bin/bash
# Every manual page passes `mandoc -T lint` without a warning or an error
# (style notes, such as a referenced page that is not installed here, are
# allowed), and renders to text.  The OCF agent's page is the one the build
# made from the agent's meta-data.
. "$top_srcdir/tests/lib/tap.sh"
require_cmd mandoc

pages="$top_srcdir/man/mmpd.8 $top_srcdir/man/mmpctl.8 $top_srcdir/man/mmpd.conf.5
       $top_srcdir/man/libmmp.3 $top_builddir/man/ocf_mmpd_mmpfs.7"
for p in $pages; do
        name=${p##*/}
        if [ ! -s "$p" ]; then
                not_ok "$name exists" "missing: $p"
                continue
        fi
        out=$(mandoc -T lint -W warning "$p" 2>&1)
        rc=$?
        is "$rc:$out" "0:" "mandoc -T lint: $name has no warnings"
        lines=$(mandoc -T ascii "$p" 2>/dev/null | wc -l)
        [ "$lines" -gt 30 ] && ok "$name renders ($lines lines)" || not_ok "$name renders" "$lines lines"
done

# The generated page carries what the meta-data says: every parameter.
ocf="$top_builddir/man/ocf_mmpd_mmpfs.7"
meta=$(OCF_FUNCTIONS_DIR="$top_srcdir/man" sh "$top_builddir/agents/ocf/mmpfs" meta-data)
params=$(printf '%s\n' "$meta" | sed -n 's/.*<parameter name="\([a-z_]*\)".*/\1/p')
[ "$(printf '%s\n' "$params" | wc -l)" -ge 5 ] && ok "meta-data lists parameters" ||
        not_ok "meta-data lists parameters" "$meta"
text=$(mandoc -T ascii "$ocf" 2>/dev/null | col -b)
for p in $params; do
        grep -q "^ *$p (" <<<"$text" && ok "ocf page documents parameter $p" ||
                not_ok "ocf page documents parameter $p"
done
done_testing
