#!/bin/bash
# Faults on a real block device (a loop device over a FUSE-served file):
#  - slow writes raise the on-disk check_interval and the hold survives;
#  - a stalled write is caught by its I/O deadline and the volume is LOST by
#    its fence deadline, while another volume's heartbeats stay on time;
#  - EIO on every write: LOST by the fence deadline, not before.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs jq
[ -e /dev/fuse ] || { in_ci && bail_out "needs /dev/fuse"; skip_all "needs /dev/fuse"; }
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/lib/faultdev.sh"
trap 'faultdev_stop; _mmpd_cleanup' EXIT

fimg=$(mkimg faulty 1)
faultdev_start "$fimg" || bail_out "fault device did not start"
fdev=$FAULTDEV_LOOP
oimg=$(mkimg other 1); odev=$(loop_attach "$oimg")

# --- slow writes: 3 s each (update interval 1 s: floor check_interval 5)
start_mmpd S node-s "faulty=$fdev"
wait_log S "volume faulty .*claimed" 40 && ok "claimed through the fault device" || not_ok "claimed through the fault device"
faultdev_cmd "delay write 3000"
wait_log S "check_interval 5 -> [6-9]" 30 && ok "slow writes raised check_interval ($(grep -o 'check_interval 5 -> [0-9]*' "$T/S.log" | head -1))" || not_ok "check_interval raised"
ci=$(mmp_field "$fdev" check_interval)
[ "${ci:-0}" -ge 6 ] && ok "on-disk check_interval is $ci (peers wait longer)" || not_ok "on-disk check_interval raised" "$ci"
sleep 10
grep -q LOST "$T/S.log" && not_ok "hold kept with 3 s writes" "$(grep LOST "$T/S.log")" || ok "hold kept through 3 s writes"
grep -q "slow I/O: write took 3" "$T/S.log" && ok "slow I/O logged" || not_ok "slow I/O logged"
faultdev_cmd clear
wait_log S "check_interval [0-9]+ -> 5" 30 && ok "check_interval back to 5 when fast again" || not_ok "check_interval back to 5"
stop_mmpd S TERM

# --- stalled write: caught by its deadline; another volume keeps beating
start_mmpd A node-a "faulty=$fdev" "other=$odev" io_timeout=3
wait_log A "volume faulty .*claimed" 40 && wait_log A "volume other .*claimed" 40 && ok "both volumes claimed" || not_ok "both volumes claimed"
"$MMP_WATCH" "$odev" 15 100 >"$T/other.json" &
wpid=$!
sleep 1
t0=$(now_ms)
faultdev_cmd "stall write"
wait_log A "volume faulty .*write of the MMP block failed: no completion by its deadline" 10 &&
        ok "stalled write caught by its deadline after $(( $(now_ms) - t0 )) ms (io_timeout 3 s)" || not_ok "stalled write caught"
wait_log A "volume faulty .*LOST" 15; t1=$(now_ms)
diag "$(grep 'volume faulty .*LOST' "$T/A.log")"
# update interval 1 -> W 11 s, margin 2 s: LOST at most 9 s after the last landed write
[ $((t1 - t0)) -le 10000 ] && grep -q "volume faulty .*LOST: no heartbeat landed" "$T/A.log" &&
        ok "LOST $((t1 - t0)) ms after the stall (fence deadline: last write + 9 s)" || not_ok "LOST by the fence deadline" "$((t1 - t0)) ms"
wait "$wpid"
w=$(cat "$T/other.json"); diag "other volume: $w"
[ "$(jq .max_gap_ms <<<"$w")" -le 2000 ] && ok "other volume kept beating (max gap $(jq .max_gap_ms <<<"$w") ms)" || not_ok "other volume on time" "$w"
grep -q "volume other .*LOST" "$T/A.log" && not_ok "other volume not lost" || ok "other volume not lost"
faultdev_cmd resume
stop_mmpd A TERM

# --- EIO on every write: lost at the fence deadline, not earlier
"$MMP_EDIT" "$fdev" seq=clean >/dev/null
start_mmpd E node-e "faulty=$fdev"
wait_log E "volume faulty .*claimed" 40 && ok "claimed again" || not_ok "claimed again"
sleep 1
t0=$(now_ms)
faultdev_cmd "fail write EIO"
wait_log E "volume faulty .*LOST" 15; dt=$(( $(now_ms) - t0 ))
n=$(grep -c "write of the MMP block failed: Input/output error" "$T/E.log")
[ "$dt" -ge 6500 ] && [ "$dt" -le 10000 ] && ok "EIO: LOST ${dt} ms after the first failure (deadline 8-9 s), not before" || not_ok "EIO: LOST by the fence deadline" "${dt} ms"
[ "$n" -ge 3 ] && ok "retried the heartbeat $n times before giving up" || not_ok "retried" "$n"
faultdev_cmd clear
stop_mmpd E TERM

# --- the device disappears: its backing store dies (the FUSE server is
# killed), every I/O on the loop device fails; LOST by the fence deadline
"$MMP_EDIT" "$fdev" seq=clean >/dev/null
start_mmpd D node-d "faulty=$fdev"
wait_log D "volume faulty .*claimed" 40 && ok "claimed before the device goes away" || not_ok "claimed before the device goes away"
sleep 1
t0=$(now_ms)
kill -KILL "$FAULTDEV_PID"
wait_log D "volume faulty .*LOST" 15; dt=$(( $(now_ms) - t0 ))
diag "$(grep -m1 'volume faulty .*failed' "$T/D.log")"
grep -q "volume faulty .*LOST" "$T/D.log" && [ "$dt" -le 10000 ] &&
        ok "device gone: LOST ${dt} ms later (fence deadline: last write + 9 s)" || not_ok "device gone: LOST by the fence deadline" "${dt} ms"
kill -0 "$(mmpd_pid D)" 2>/dev/null && ok "mmpd itself keeps running" || not_ok "mmpd keeps running"
stop_mmpd D TERM
done_testing
