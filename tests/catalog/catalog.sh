#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# catalog/mmpd.catalog against the code: every journald MESSAGE_ID that mmpd
# can log has exactly one catalog entry and every entry belongs to an id in
# the code; each entry has a Subject and an explanation; every @FIELD@ it
# uses is a field mmpd sends; and journalctl itself compiles the catalog
# (--update-catalog into a scratch --root, never the host's database) and
# prints each entry back.
set -u
. "$top_srcdir/tests/lib/tap.sh"
require_cmd journalctl

cat=$top_srcdir/catalog/mmpd.catalog
T=$(mktemp -d /tmp/mmpd-catalog.XXXXXX)
trap 'rm -rf "$T"' EXIT
srcs=$(ls "$top_srcdir"/mmpd/*.[ch] "$top_srcdir"/lib/*.[ch] "$top_srcdir"/mmpctl/*.[ch] 2>/dev/null)

# Ids in the code: 32-hex string literals ("MESSAGE_ID=%s" tables or
# "MESSAGE_ID=<hex>" inline) and SD_ID128_MAKE[_STR](xx,xx,...) constants.
# shellcheck disable=SC2086
{
        grep -ohE '"(MESSAGE_ID=)?[0-9a-fA-F]{32}"' $srcs | grep -oE '[0-9a-fA-F]{32}'
        grep -ohE 'SD_ID128_MAKE(_STR)?\(([[:space:]]*[0-9a-fA-F]{2}[[:space:]]*,){15}[[:space:]]*[0-9a-fA-F]{2}[[:space:]]*\)' $srcs |
                sed -E 's/SD_ID128_MAKE(_STR)?\(//; s/[^0-9a-fA-F]//g'
} | tr 'A-F' 'a-f' | sort -u >"$T/code"
grep -E '^-- ' "$cat" | sed 's/^-- //' | tr 'A-F' 'a-f' >"$T/cat.all"
sort -u "$T/cat.all" >"$T/cat"

n=$(wc -l <"$T/code")
if [ "$n" -gt 0 ]; then
        ok "the code logs $n MESSAGE_IDs"
else
        not_ok "the code logs MESSAGE_IDs" "no id found in: $srcs"
fi
check "every catalog header is '-- ' and 32 hex digits" \
        sh -c "! grep -vE '^[0-9a-f]{32}\$' '$T/cat.all'"
is "$(sort "$T/cat.all" | uniq -d | tr '\n' ' ')" "" "no id has two entries"
is "$(comm -23 "$T/code" "$T/cat" | tr '\n' ' ')" "" "every MESSAGE_ID in the code has a catalog entry"
is "$(comm -13 "$T/code" "$T/cat" | tr '\n' ' ')" "" "every catalog entry is a MESSAGE_ID in the code"

# Each entry: a Subject line and at least 3 lines of explanation after the
# header block, including what the administrator should do.
bad=$(awk '
        function flush() { if (id != "" && (!subj || body < 3 || !todo)) print id }
        /^-- / { flush(); id = $2; subj = 0; body = 0; todo = 0; hdr = 1; next }
        id == "" { next }
        hdr && /^$/ { hdr = 0; next }
        hdr && /^Subject: ./ { subj = 1; next }
        !hdr && NF { body++ }
        !hdr && /^What to do:/ { todo = 1 }
        END { flush() }' "$cat")
is "$bad" "" "every entry has a Subject, an explanation and 'What to do:'"

# @FIELD@ substitutions must name fields mmpd sends with sd_journal_send().
# shellcheck disable=SC2086
grep -ohE '"[A-Z][A-Z0-9_]*=%' $srcs | sed 's/^"//; s/=%$//' | sort -u >"$T/fields"
grep -oE '@[A-Z][A-Z0-9_]*@' "$cat" | tr -d @ | sort -u >"$T/used"
is "$(comm -23 "$T/used" "$T/fields" | tr '\n' ' ')" "" \
        "every @FIELD@ is a journal field mmpd sends ($(tr '\n' ' ' <"$T/fields"))"

# journalctl compiles it (it fails on a malformed file) and lists each id.
mkdir -p "$T/root/usr/lib/systemd/catalog"
cp "$cat" "$T/root/usr/lib/systemd/catalog/"
check "journalctl --update-catalog accepts it (scratch --root)" \
        journalctl --root="$T/root" --update-catalog
journalctl --root="$T/root" --list-catalog 2>&1 | awk '{ print $1 }' | sort >"$T/listed"
is "$(tr '\n' ' ' <"$T/listed")" "$(tr '\n' ' ' <"$T/cat")" "journalctl --list-catalog lists exactly the entries"
while read -r id; do
        subj=$(grep -A3 -- "^-- $id" "$cat" | sed -n 's/^Subject: //p')
        out=$(journalctl --root="$T/root" --dump-catalog "$id" 2>&1)
        case $out in
        *"Subject: $subj"*"What to do:"*) ok "journalctl --dump-catalog $id: $subj" ;;
        *) not_ok "journalctl --dump-catalog $id" "$out" ;;
        esac
done <"$T/cat"
done_testing
