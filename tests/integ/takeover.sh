#!/bin/bash
# Another node writes the MMP block while we hold it (a rogue write of its
# seq): mmpd declares the volume LOST within one update interval plus I/O
# time, names the intruder, and never writes the block again.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs
. "$top_srcdir/tests/lib/mmpd.sh"

img=$(mkimg take 1); dev=$(loop_attach "$img"); peer=$(loop_attach "$img")
start_mmpd A node-a "data=$dev"
wait_log A "claimed" 40 && ok "claimed" || not_ok "claimed"
sleep 1.3
t0=$(now_ms)
"$MMP_EDIT" "$peer" seq=4242 node=intruder dev=sdz >/dev/null || bail_out "rogue write failed"
wait_log A "LOST" 5; t1=$(now_ms)
dt=$((t1 - t0))
line=$(grep LOST "$T/A.log")
diag "$line"
[ -n "$line" ] && [ "$dt" -le 1500 ] && ok "LOST ${dt} ms after the rogue write (interval 1 s + I/O)" || not_ok "LOST within interval + I/O" "dt=${dt} ms"
case "$line" in *"node 'intruder', device 'sdz', seq 0x1092"*) ok "LOST names the intruder";; *) not_ok "LOST names the intruder" "$line";; esac
grep -q "<2>\|crit" "$T/A.log" && ok "logged at LOG_CRIT" || not_ok "logged at LOG_CRIT"
sleep 3
is "$(mmp_field "$dev" sequence)" 00001092 "mmpd did not write over the intruder"
is "$(mmp_field "$dev" node_name)" intruder "the block still names the intruder"
stop_mmpd A TERM
is "$(mmp_field "$dev" sequence)" 00001092 "SIGTERM does not write CLEAN over a lost volume"
done_testing
