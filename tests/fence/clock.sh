#!/bin/bash
# Wall-clock jumps of +1 h and -1 h while a volume is held must not fence:
# every deadline is CLOCK_BOOTTIME.  This steps the real clock with date -s,
# so the window is kept to a few seconds and the clock is put back from a
# CLOCK_BOOTTIME reference (to ~10 ms) in a trap, whatever happens.
# FENCE_NO_CLOCK_JUMP=1 skips it (e.g. on a machine shared with timing tests).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs awk date
[ -n "${FENCE_NO_CLOCK_JUMP:-}" ] && skip_all "FENCE_NO_CLOCK_JUMP is set"
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/fence/fence.sh"

ref_real=$(date +%s.%N); read -r ref_up _ </proc/uptime
restore_clock() {
        date -s "@$(awk -v r="$ref_real" -v u="$ref_up" '{ printf "%.3f", r + ($1 - u) }' /proc/uptime)" >/dev/null
}
trap 'restore_clock; _mmpd_cleanup' EXIT

img=$(mkimg clock 1); dev=$(loop_attach "$img")
stamp_hook "$T/hook" "$T/hook.out"
fence_start A "$dev" fence_hook="$T/hook"
wait_log A "claimed" 40 && ok "claimed" || not_ok "claimed"
for jump in "+1 hour" "-1 hour"; do
        seq0=$(mmp_field "$dev" sequence)
        date -s "$jump" >/dev/null || bail_out "date -s $jump failed"
        sleep 3
        restore_clock
        seq1=$(mmp_field "$dev" sequence)
        if grep -qE "LOST|fence (notify|hook|kill|shutdown|done):" "$T/A.log"; then
                not_ok "wall clock $jump: no fence" "$(grep -E 'LOST|fence ' "$T/A.log")"
        else
                ok "wall clock $jump: no fence"
        fi
        [ "$seq0" != "$seq1" ] && ok "wall clock $jump: heartbeats went on ($seq0 -> $seq1)" ||
                not_ok "wall clock $jump: heartbeats went on" "$seq0"
done
[ -e "$T/hook.out" ] && not_ok "the hook never ran" || ok "the hook never ran"
diag "clock restored to within ~10 ms of CLOCK_BOOTTIME + offset; now $(date -u +%T)"
stop_mmpd A TERM
done_testing
