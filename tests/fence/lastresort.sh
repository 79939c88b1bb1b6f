#!/bin/bash
# A fence that cannot be proven complete ends in the last resort.  Here the
# hook fails (exit 1) and then one that hangs is SIGKILLed at its share;
# fence_reboot_command stands in for reboot(2) so this machine never reboots.
# With fence = no nothing runs at all.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup awk
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/fence/fence.sh"

cat >"$T/reboot" <<EOF2
#!/bin/sh
echo "reboot \$MMPD_STAGE \$MMPD_VOLUME" >>"$T/reboot.out"
EOF2
chmod +x "$T/reboot"

# 1. the hook fails: outcome failed, reboot command runs
stamp_hook "$T/hook1" "$T/hook1.out"
echo "grep SigBlk /proc/self/status >>'$T/sigblk'" >>"$T/hook1"
echo 'exit 1' >>"$T/hook1"
img=$(mkimg lr1 1); dev=$(loop_attach "$img"); peer=$(loop_attach "$img")
fence_start A "$dev" fence_hook="$T/hook1" fence_last_resort=reboot fence_reboot_command="$T/reboot"
wait_log A "claimed" 40 && ok "A claimed" || not_ok "A claimed"
"$MMP_EDIT" "$peer" seq=4242 node=intruder >/dev/null || bail_out "rogue write failed"
wait_log A "fence done" 15 && ok "A: fence finished" || not_ok "A: fence finished"
grep -q "fence hook: hook failed (exit status 1)" "$T/A.log" && ok "A: hook failure noticed" || not_ok "A: hook failure noticed"
grep -q "fence done: finished: failed" "$T/A.log" && ok "A: outcome failed" || not_ok "A: outcome failed"
is "$(awk '{ print $2 }' "$T/sigblk" 2>/dev/null)" 0000000000000000 "A: the hook starts with no signal blocked"
for i in $(seq 1 20); do [ -s "$T/reboot.out" ] && break; sleep 0.1; done
is "$(cat "$T/reboot.out" 2>/dev/null)" "reboot reboot v" "A: fence_reboot_command ran instead of reboot(2)"
stop_mmpd A TERM

# 2. the hook hangs: SIGKILLed at its share (fence_hook_timeout = 1), the
#    other stages still run, all before the deadline, and a SIGTERM that
#    arrives meanwhile waits for the fence
stamp_hook "$T/hook2" "$T/hook2.out"
echo 'sleep 61.7; true' >>"$T/hook2"        # a grandchild: the group is killed
img=$(mkimg lr2 1); dev=$(loop_attach "$img"); peer=$(loop_attach "$img")
fence_start B "$dev" fence_hook="$T/hook2" fence_hook_timeout=1
wait_log B "claimed" 40 && ok "B claimed" || not_ok "B claimed"
"$MMP_EDIT" "$peer" seq=4242 node=intruder >/dev/null || bail_out "rogue write failed"
# SIGTERM in the middle of the fence: mmpd finishes the fence, then exits
wait_log B "fence hook: running" 5 || not_ok "B: hook started"
kill -TERM "$(mmpd_pid B)"
wait_log B "fence done" 15 && ok "B: fence finished despite SIGTERM" || not_ok "B: fence finished"
for i in $(seq 1 50); do kill -0 "$(mmpd_pid B)" 2>/dev/null || break; sleep 0.1; done
kill -0 "$(mmpd_pid B)" 2>/dev/null && not_ok "B: exited after the fence" || ok "B: exited after the fence"
l_term=$(grep -n "SIGTERM" "$T/B.log" | head -n 1 | cut -d: -f1)
l_done=$(grep -n "fence done" "$T/B.log" | head -n 1 | cut -d: -f1)
[ -n "$l_term" ] && [ -n "$l_done" ] && [ "$l_term" -lt "$l_done" ] && ok "B: SIGTERM came before the fence ended" ||
        not_ok "B: SIGTERM came before the fence ended" "SIGTERM at line $l_term, done at line $l_done"
grep -q "fence hook: hook overran its share: killed" "$T/B.log" && ok "B: hanging hook killed" || not_ok "B: hanging hook killed"
pgrep -f "^sleep 61.7\$" >/dev/null && not_ok "B: the hook's child is gone too" || ok "B: the hook's child is gone too"
order=$(grep -oE "fence (notify|hook|kill|shutdown|done):" "$T/B.log" | awk '{ print $2 }' | uniq | tr -d ':' | tr '\n' ' ')
is "$order" "notify hook kill shutdown done " "B: the later stages still ran"
margin=$(log_field B 'margin_ms=(-?[0-9]+)')
[ "$margin" -gt 0 ] && ok "B: done ${margin} ms before the deadline" || not_ok "B: before the deadline" "$margin"
diag "B: measured margin with a hook killed after 1 s: ${margin} ms"
stop_mmpd B TERM

# 3. fence = no
img=$(mkimg lr3 1); dev=$(loop_attach "$img"); peer=$(loop_attach "$img")
fence_start C "$dev" fence=no fence_hook="$T/hook2"
wait_log C "claimed" 40 && ok "C claimed" || not_ok "C claimed"
"$MMP_EDIT" "$peer" seq=4242 node=intruder >/dev/null || bail_out "rogue write failed"
wait_log C "fencing is off" 5 && ok "C: fence = no is logged" || not_ok "C: fence = no is logged"
grep -qE "fence (notify|hook|kill|shutdown|done):" "$T/C.log" && not_ok "C: no stage ran" || ok "C: no stage ran"
stop_mmpd C TERM
done_testing
