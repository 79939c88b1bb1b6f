#!/bin/bash
# A hold survives mmpd restarts without a gap: while mmpd@ holds a volume,
# `systemctl restart mmpd` N times and SIGKILL its main process N times
# (Restart=on-failure); the fd store carries the hold each time.  A raw
# watcher on the host must never see a gap over interval + 1 s, CLEAN, or
# another node.  N defaults to 20 (MMPD_RESTARTS to change it).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter systemd-escape losetup jq
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/systemd/nspawn.sh"

N=${MMPD_RESTARTS:-20}
img=$(mkimg sdrestart 1)        # update interval 1 s
dev=$(loop_attach "$img")
unit=$(hold_unit "$dev")
boot_node A node-a "$dev"
check "systemctl start $unit" in_node A systemctl start "$unit"

# The watcher runs for a fixed time; the restarts must end inside it.
"$MMP_WATCH" "$dev" 45 50 >"$T/watch.json" &
watch_pid=$!
sleep 1
t0=$(now_ms)
fails=0
for i in $(seq "$N"); do
        in_node A systemctl restart mmpd.service || fails=$((fails + 1))
        sleep 0.5
done
t1=$(now_ms)
for i in $(seq "$N"); do
        old=$(in_node A systemctl show -p MainPID --value mmpd.service)
        in_node A systemctl kill --signal=KILL --kill-whom=main mmpd.service || fails=$((fails + 1))
        # bounded: a new main process, active again
        for j in $(seq 50); do
                new=$(in_node A systemctl show -p MainPID --value mmpd.service)
                [ "$new" != "$old" ] && [ "$new" != 0 ] &&
                        [ "$(unit_state A mmpd.service)" = active ] && break
                sleep 0.1
        done
        sleep 0.5
done
t2=$(now_ms)
diag "$N restarts took $(( (t1 - t0) / 1000 )) s, $N kills $(( (t2 - t1) / 1000 )) s"
[ $(( t2 - t0 )) -lt 43000 ] && ok "all restarts and kills fell inside the watched 45 s" ||
        not_ok "all restarts and kills fell inside the watched 45 s" "took $(( t2 - t0 )) ms"
is "$fails" 0 "every systemctl restart/kill succeeded"
wait "$watch_pid"
diag "watcher: $(cat "$T/watch.json")"

gap=$(watch_field "$T/watch.json" max_gap_ms)
[ "${gap:-99999}" -le 2000 ] && ok "no heartbeat gap over interval + 1 s (max $gap ms)" ||
        not_ok "no heartbeat gap over interval + 1 s" "max gap $gap ms"
is "$(watch_field "$T/watch.json" clean_seen)" false "never CLEAN"
is "$(watch_field "$T/watch.json" nodes)" '["node-a"]' "never another node"
is "$(watch_field "$T/watch.json" errors)" 0 "the watcher read every sample"
restarts=$(in_node A systemctl show -p NRestarts --value mmpd.service)
is "$restarts" "$N" "systemd restarted mmpd $N times after SIGKILL"
# More than one restart per kill: show how the other exits ended.
[ "$restarts" = "$N" ] || diag "$(in_node A journalctl -b --no-pager -o short-monotonic |
        grep -E 'mmpd\.service: (Main process exited|Failed|Watchdog|Scheduled restart)|Sanitizer|mmpd\[[0-9]+\]: .*(error|crit|alert)' |
        tail -40)"
resumed=$(in_node A journalctl -b -u mmpd.service --no-pager | grep -c "resuming the hold")
is "$resumed" $((2 * N)) "every new mmpd resumed the hold from the fd store"
lost=$(in_node A journalctl -b -u mmpd.service --no-pager | grep -c "LOST")
is "$lost" 0 "no LOST in mmpd's journal"
is "$(unit_state A "$unit")" active "$unit stayed active throughout"
check "systemctl stop $unit" in_node A systemctl stop "$unit"
case $("$MMPCTL" dump "$dev" | grep '^sequence') in *clean*) ok "released after all that (CLEAN)";;
        *) not_ok "released after all that (CLEAN)" "$("$MMPCTL" dump "$dev")";; esac
done_testing
