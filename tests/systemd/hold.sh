#!/bin/bash
# mmpd@.service under real systemd (PID 1 in nspawn): start holds the
# volume (a raw watcher on the host sees our node beat), stop releases it
# (CLEAN); a rogue write on the disk makes the unit fail and stops a unit
# that has BindsTo= on it.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter systemd-escape losetup jq
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/systemd/nspawn.sh"

img=$(mkimg sdhold 1)
dev=$(loop_attach "$img")       # the node's view
peer=$(loop_attach "$img")      # a rogue writer's view of the same disk
unit=$(hold_unit "$dev")
sd_unit_file mmpd-user.service <<EOS
[Unit]
Description=a user of $dev
BindsTo=$unit
After=$unit
[Service]
ExecStart=sleep infinity
EOS
boot_node A node-a "$dev"

t0=$(now_ms)
if in_node A systemctl start "$unit"; then
        ok "systemctl start $unit ($(( ($(now_ms) - t0) / 1000 )) s)"
else
        not_ok "systemctl start $unit" "$(in_node A journalctl -b --no-pager | tail -20)"
fi
is "$(unit_state A "$unit")" active "$unit is active"
status=$(in_node A systemctl show -p StatusText --value "$unit")
case "$status" in "held: seq "*"node 'node-a'"*) ok "STATUS= says held by node-a ($status)";;
        *) not_ok "STATUS= says held by node-a" "$status";; esac

"$MMP_WATCH" "$dev" 5 100 >"$T/watch1.json"
diag "watcher: $(cat "$T/watch1.json")"
is "$(watch_field "$T/watch1.json" nodes)" '["node-a"]' "host watcher sees node-a only"
changes=$(watch_field "$T/watch1.json" changes)
[ "${changes:-0}" -ge 3 ] && ok "host watcher sees the seq advance ($changes changes in 5 s)" ||
        not_ok "host watcher sees the seq advance" "changes: $changes"

check "start a unit with BindsTo= on the hold" in_node A systemctl start mmpd-user.service
check "systemctl stop $unit" in_node A systemctl stop "$unit"
case $("$MMPCTL" dump "$dev" | grep '^sequence') in *clean*) ok "stop released the volume (CLEAN)";;
        *) not_ok "stop released the volume (CLEAN)" "$("$MMPCTL" dump "$dev")";; esac
wait_unit_state A mmpd-user.service inactive 10 && ok "the BindsTo= user stopped with the hold" ||
        not_ok "the BindsTo= user stopped with the hold" "$(unit_state A mmpd-user.service)"

# Takeover: a rogue write while held fails the unit and stops its user.
check "start $unit again" in_node A systemctl start "$unit"
check "start the user again" in_node A systemctl start mmpd-user.service
"$MMP_EDIT" "$peer" node=rogue seq=4242 >/dev/null 2>&1 || not_ok "rogue write" "mmp-edit failed"
t0=$(now_ms)
if wait_unit_state A "$unit" failed 15; then
        ok "a rogue write fails $unit ($(( $(now_ms) - t0 )) ms)"
else
        not_ok "a rogue write fails $unit" "$(unit_state A "$unit")" "$(in_node A journalctl -b --no-pager | tail -20)"
fi
wait_unit_state A mmpd-user.service inactive 10 && ok "the BindsTo= user was stopped" ||
        not_ok "the BindsTo= user was stopped" "$(unit_state A mmpd-user.service)"
status=$(in_node A systemctl show -p StatusText --value "$unit")
case "$status" in LOST*) ok "STATUS= says LOST ($status)";; *) not_ok "STATUS= says LOST" "$status";; esac
case $("$MMPCTL" dump "$dev" | grep -E '^(sequence|node)') in *rogue*) ok "mmpd did not overwrite the rogue block";;
        *) not_ok "mmpd did not overwrite the rogue block" "$("$MMPCTL" dump "$dev")";; esac
done_testing
