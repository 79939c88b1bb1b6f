#!/bin/bash
# SIGSTOP (a VM pause, a stuck scheduler): a stop shorter than the margin,
# and one longer than the margin but ending before the fence deadline, do
# not fence; a stop past last good write + W does: on SIGCONT mmpd must not
# write the MMP block (it re-reads, sees it is past its deadline, goes LOST
# with -ETIMEDOUT) and the fence runs, late.  The watchdog (a regular file
# here) is petted while held and no longer once the volume is lost and not
# fenced in time.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs awk
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/fence/fence.sh"

img=$(mkimg stop 1); dev=$(loop_attach "$img")
stamp_hook "$T/hook" "$T/hook.out"
: >"$T/wd"
fence_start A "$dev" fence_hook="$T/hook" fence_last_resort=watchdog watchdog_device="$T/wd" watchdog_interval=0.2
wait_log A "claimed" 40 && ok "claimed" || not_ok "claimed"
pid=$(mmpd_pid A)
w1=$(stat -c %s "$T/wd"); sleep 1; w2=$(stat -c %s "$T/wd")
[ "$w2" -gt "$w1" ] && ok "watchdog petted while held ($w1 -> $w2 bytes)" || not_ok "watchdog petted" "$w1 -> $w2"

# margin = max(update interval, 2 s) = 2 s; W = 11 s; fence_at = T + 9 s
for stop in 1.5 5; do
        seq0=$(mmp_field "$dev" sequence)
        kill -STOP "$pid"; sleep "$stop"; kill -CONT "$pid"
        sleep 2
        seq1=$(mmp_field "$dev" sequence)
        if grep -qE "LOST|fence " "$T/A.log"; then
                not_ok "SIGSTOP for $stop s: no fence" "$(grep -E 'LOST|fence ' "$T/A.log")"
        else
                ok "SIGSTOP for $stop s: no fence"
        fi
        [ "$seq0" != "$seq1" ] && ok "heartbeats resumed ($seq0 -> $seq1)" || not_ok "heartbeats resumed" "$seq0"
done

sleep 1.2
kill -STOP "$pid"
t_stop=$(uptime_usec)
sleep 13
seq_before=$(mmp_field "$dev" sequence)
kill -CONT "$pid"
wait_log A "fence done" 10 && ok "SIGSTOP for 13 s (> W): fenced after SIGCONT" || not_ok "fenced after SIGCONT"
sleep 1
is "$(mmp_field "$dev" sequence)" "$seq_before" "no MMP write after SIGCONT past the deadline"
grep -q "LOST: no heartbeat" "$T/A.log" && ok "LOST reason: no heartbeat by the fence deadline" ||
        not_ok "LOST reason" "$(grep LOST "$T/A.log")"
grep -q "fence done: finished: late" "$T/A.log" && ok "outcome: late (said so)" || not_ok "outcome late" "$(grep 'fence ' "$T/A.log")"
grep -q "fence last-resort: fence incomplete: no longer petting the watchdog" "$T/A.log" &&
        ok "last resort: watchdog" || not_ok "last resort: watchdog"
w1=$(stat -c %s "$T/wd"); sleep 1; w2=$(stat -c %s "$T/wd")
is "$w2" "$w1" "watchdog no longer petted"
read -r h_stage h_now h_deadline _ <"$T/hook.out"
diag "stop began $(( (h_deadline - t_stop) / 1000 )) ms before the deadline; the hook ran $(( (h_now - h_deadline) / 1000 )) ms after it"
diag "margin reported: $(log_field A 'margin_ms=(-?[0-9]+)') ms (negative: late, as it must be after a stop past W)"
stop_mmpd A TERM
done_testing
