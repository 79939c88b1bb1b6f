#!/bin/bash
# mmpctl status on a real mmpd with one held and one lost volume (a rogue
# write on a second loop device of the same image): times are humanised;
# the lost volume's row is bold red on a terminal (script(1) gives one) and
# only there: not in a pipe, not with NO_COLOR set to any non-empty value,
# not with TERM=dumb; NO_COLOR set but empty still colours (no-color.org).
# --json carries no escape sequences, on a terminal or not.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup mkfs.ext4 jq script
. "$top_srcdir/tests/lib/mmpd.sh"

img1=$(mkimg s1 1); d1=$(loop_attach "$img1")
img2=$(mkimg s2 1); d2=$(loop_attach "$img2"); peer2=$(loop_attach "$img2")
start_mmpd A node-a "good=$d1" "bad=$d2"
export MMPD_SOCKET=$(mmpd_sock A)
state() { "$MMPCTL" status --json 2>/dev/null | jq -r ".volumes[] | select(.name == \"$1\") | .state"; }
for i in $(seq 1 600); do [ "$(state good):$(state bad)" = held:held ] && break; sleep 0.1; done
is "$(state good):$(state bad)" held:held "both volumes held" || bail_out "no claims: $(tail -5 "$T/A.log")"
"$MMP_EDIT" "$peer2" seq=4242 node=intruder dev=sdz >/dev/null || bail_out "rogue write failed"
for i in $(seq 1 150); do [ "$(state bad)" = lost ] && break; sleep 0.1; done
is "$(state bad)" lost "the volume with a rogue write is lost"

ESC=$'\033'
RED="${ESC}[1;31m"
# on_tty ENV... -- ARGS: mmpctl status on a pseudo-terminal, CRs dropped
on_tty() {
        local envs=()
        while [ "$1" != -- ]; do envs+=("$1"); shift; done
        shift
        env -u NO_COLOR "${envs[@]}" script -qec "$MMPCTL status $*" /dev/null | tr -d '\r'
}

piped=$("$MMPCTL" status)
diag "$piped"
case "$piped" in *"$ESC"*) not_ok "pipe: no escape sequences";; *) ok "pipe: no escape sequences";; esac
hb='([0-9]\.[0-9]s|[0-9]+s|[0-9]+m[0-5][0-9]s|[0-9]+h[0-5][0-9]m|[0-9]+d[0-2][0-9]h) ago'
good_row=$(grep "^good " <<<"$piped")
[[ $good_row =~ $hb ]] && ok "heartbeat age humanised: '${BASH_REMATCH[0]}'" || not_ok "heartbeat age humanised" "$good_row"
[[ $good_row =~ [[:space:]]5s($|[[:space:]]) ]] && ok "check interval in whole seconds (5s)" || not_ok "check interval 5s" "$good_row"

tty=$(on_tty TERM=xterm -- )
diag "$tty"
bad_row=$(grep "bad " <<<"$tty"); good_row=$(grep "good " <<<"$tty")
[[ $bad_row == "$RED"bad\ *lost*"${ESC}[0m" ]] && ok "tty: the lost row is bold red" ||
        not_ok "tty: the lost row is bold red" "$(printf '%q' "$bad_row")"
case "$good_row$(head -1 <<<"$tty")" in *"$ESC"*) not_ok "tty: held row and header plain";; *) ok "tty: held row and header plain";; esac
is "$(sed "s/${ESC}\[[0-9;]*m//g" <<<"$tty" | sed 's/[0-9.hdm]*s\? ago/AGE/')" \
   "$(sed 's/[0-9.hdm]*s\? ago/AGE/' <<<"$piped")" "tty: the same table once the colour is taken out"

for v in 1 0 yes; do
        out=$(on_tty TERM=xterm NO_COLOR=$v --)
        case "$out" in *"$ESC"*) not_ok "tty, NO_COLOR=$v: no escape sequences";; *) ok "tty, NO_COLOR=$v: no escape sequences";; esac
done
out=$(on_tty TERM=xterm NO_COLOR= --)
case "$out" in *"$RED"*) ok "tty, NO_COLOR empty: colour";; *) not_ok "tty, NO_COLOR empty: colour" "$out";; esac
out=$(on_tty TERM=dumb --)
case "$out" in *"$ESC"*) not_ok "tty, TERM=dumb: no escape sequences";; *) ok "tty, TERM=dumb: no escape sequences";; esac
out=$(on_tty TERM=xterm -- bad)
case "$out" in *"$RED"bad*) ok "tty: status DEVICE of a lost volume is red too";; *) not_ok "tty: status bad" "$out";; esac

# --json: no colour anywhere, and the List reply as before
j_tty=$(on_tty TERM=xterm -- --json)
case "$j_tty" in *"$ESC"*) not_ok "tty --json: no escape sequences";; *) ok "tty --json: no escape sequences";; esac
# what does not move between two calls: the keys, names, states, intervals
# (not the phase: a held volume is between heartbeat steps or in one)
norm='.volumes | map({keys: keys, name, device, state, static, update_interval,
                     check_interval, wait_seconds, holder: .holder.node, fence: .fence.outcome})'
is "$(jq -cS "$norm" <<<"$j_tty")" "$("$MMPCTL" status --json | jq -cS "$norm")" "tty --json equals piped --json"
is "$(jq -r '.volumes | map(.name + "=" + .state) | sort | join(" ")' <<<"$j_tty")" "bad=lost good=held" \
        "--json: names and states"
done_testing
