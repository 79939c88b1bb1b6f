#!/bin/bash
# The pages cannot fall behind the code: every key of mmpd's config key
# table (mmpd/conf.c), every mmpctl command (the table in mmpctl/mmpctl.c)
# and every long option of mmpctl's commands and of mmpd must be documented
# in its page, as an item of the page's lists (".It Cm key", ".It Cm
# command", "Fl \-option").  Adding one without documenting it fails here.
. "$top_srcdir/tests/lib/tap.sh"

man=$top_srcdir/man
src=$top_srcdir

# ---- mmpd.conf(5): the key table -------------------------------------------
keys=$(sed -n 's/^[[:space:]]*\(MMPD\|VOLUME\|FENCE\)_KEY("\([a-z_]*\)".*/\2/p' "$src/mmpd/conf.c" | sort -u)
n=$(printf '%s\n' "$keys" | grep -c .)
# A broken pattern must not pass by finding nothing.
[ "$n" -ge 20 ] && ok "found $n config keys in mmpd/conf.c" || not_ok "found the config keys" "only $n: $keys"
for k in $keys; do
        grep -q "^\.It Cm $k No = " "$man/mmpd.conf.5" && ok "mmpd.conf(5) documents $k" ||
                not_ok "mmpd.conf(5) documents $k" "no '.It Cm $k No = ...' item"
done
# Keys of a volume section are listed under VOLUME KEYS, the others under
# DAEMON KEYS (a FENCE_KEY is both: its [mmpd] value is the default).
section_of() { awk -v k="$1" '/^\.Sh /{s=$2} $0 ~ "^\\.It Cm " k " No = "{print s}' "$man/mmpd.conf.5"; }
for k in $(sed -n 's/^[[:space:]]*\(VOLUME\|FENCE\)_KEY("\([a-z_]*\)".*/\2/p' "$src/mmpd/conf.c" | sort -u); do
        is "$(section_of "$k")" VOLUME "mmpd.conf(5): volume key $k is under VOLUME KEYS"
done
for k in $(sed -n 's/^[[:space:]]*MMPD_KEY("\([a-z_]*\)".*/\1/p' "$src/mmpd/conf.c" | sort -u); do
        grep -q "^[[:space:]]*\(VOLUME\|FENCE\)_KEY(\"$k\"" "$src/mmpd/conf.c" && continue
        is "$(section_of "$k")" DAEMON "mmpd.conf(5): daemon key $k is under DAEMON KEYS"
done

# ---- mmpctl(8): the command table and every command's options ---------------
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", mmpctl_cmd_[a-z]*,.*/\1/p' "$src/mmpctl/mmpctl.c")
n=$(printf '%s\n' "$cmds" | grep -c .)
[ "$n" -ge 10 ] && ok "found $n commands in mmpctl/mmpctl.c" || not_ok "found the commands" "only $n: $cmds"
for c in $cmds; do
        grep -q "^\.It Cm $c\( \|$\)" "$man/mmpctl.8" && ok "mmpctl(8) documents command $c" ||
                not_ok "mmpctl(8) documents command $c" "no '.It Cm $c' item"
done

# long options: { "name", no_argument|required_argument, ... } in mmpctl/*.c
opts=$(cat "$src"/mmpctl/*.c | sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",[[:space:]]*\(no\|required\|optional\)_argument.*/\1/p' | sort -u)
n=$(printf '%s\n' "$opts" | grep -c .)
[ "$n" -ge 10 ] && ok "found $n mmpctl long options" || not_ok "found the mmpctl options" "only $n: $opts"
for o in $opts; do
        grep -q "\\(Fl\\|,\\) \\\\-$o\\( \\|$\\)" "$man/mmpctl.8" && ok "mmpctl(8) documents --$o" ||
                not_ok "mmpctl(8) documents --$o"
done

# ---- mmpd(8): the daemon's options ---------------------------------------------
opts=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",[[:space:]]*\(no\|required\)_argument.*/\1/p' "$src/mmpd/main.c")
n=$(printf '%s\n' "$opts" | grep -c .)
[ "$n" -ge 5 ] && ok "found $n mmpd options" || not_ok "found the mmpd options" "only $n: $opts"
for o in $opts; do
        grep -q "\\(Fl\\|,\\) \\\\-$o\\( \\|$\\)" "$man/mmpd.8" && ok "mmpd(8) documents --$o" ||
                not_ok "mmpd(8) documents --$o"
done
done_testing
