#!/bin/bash
# Which mmpd/ modules include which: prints one line per module with the
# modules it depends on, in dependency order (lowest first), and fails when
# the includes form a cycle.  A module is a file name without its extension
# and without a "-part" suffix (io-dev.c and io-internal.h are module io),
# except the control plane's application side (varlink-methods.c,
# varlink-json.c: module "methods"), which sits above the transport.
#   tools/deps.sh [DIR]     (default: mmpd/ next to this script)
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/../mmpd" && pwd)}

module() {
        local f=${1##*/}
        f=${f%.[ch]}
        case $f in
        varlink-methods|varlink-json) echo methods ;;
        *) echo "${f%%-*}" ;;
        esac
}

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in "$dir"/*.[ch]; do
        from=$(module "$f")
        # Quoted includes of files that live in this directory only: lib/
        # and shared/ are below every module.
        sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r h; do
                [ -e "$dir/$h" ] || continue
                to=$(module "$h")
                [ "$from" = "$to" ] && continue
                echo "$from $to"
        done
done | sort -u >"$edges"

# tsort wants "before after" pairs: a dependency comes after its user.
if ! order=$(tsort <"$edges" 2>/tmp/deps.err.$$); then
        echo "include cycle in $dir:" >&2
        grep -v 'input contains a loop' /tmp/deps.err.$$ | sed 's/^tsort: /  /' >&2
        rm -f /tmp/deps.err.$$
        exit 1
fi
if [ -s /tmp/deps.err.$$ ]; then
        echo "include cycle in $dir:" >&2
        grep -v 'input contains a loop' /tmp/deps.err.$$ | sed 's/^tsort: /  /' >&2
        rm -f /tmp/deps.err.$$
        exit 1
fi
rm -f /tmp/deps.err.$$
# Lowest layer first.
for m in $(echo "$order" | tac); do
        deps=$(awk -v m="$m" '$1 == m { printf "%s%s", sep, $2; sep = " " }' "$edges")
        printf '%-10s -> %s\n' "$m" "${deps:-(lib/ only)}"
done
