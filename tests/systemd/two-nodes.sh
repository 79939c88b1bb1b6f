#!/bin/bash
# Two cluster nodes: two nspawn containers with real systemd, different
# host names, sharing one image through two loop devices.  While node-a's
# mmpd@ holds the volume, node-b's start fails; after node-a is killed
# (SIGKILL to its PID 1: a crash), node-b claims it within 2W + I/O.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter systemd-escape losetup jq
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/systemd/nspawn.sh"

img=$(mkimg sdtwo 1)            # update interval 1: c = 5, W = 11 s
dev_a=$(loop_attach "$img")
dev_b=$(loop_attach "$img")
unit_a=$(hold_unit "$dev_a")
unit_b=$(hold_unit "$dev_b")
W=11
boot_node A node-a "$dev_a"
boot_node B node-b "$dev_b"

check "node-a: systemctl start $unit_a" in_node A systemctl start "$unit_a"

t0=$(now_ms)
if in_node B systemctl start "$unit_b" 2>/dev/null; then
        not_ok "node-b: start fails while node-a holds it"
else
        ok "node-b: start fails while node-a holds it ($(( ($(now_ms) - t0) / 1000 )) s)"
fi
is "$(unit_state B "$unit_b")" failed "node-b: $unit_b is failed"
status=$(in_node B systemctl show -p StatusText --value "$unit_b")
case "$status" in *node-a*) ok "node-b: STATUS= names node-a ($status)";;
        *) not_ok "node-b: STATUS= names node-a" "$status";; esac
is "$(unit_state A "$unit_a")" active "node-a: still active"

node_kill A
t0=$(now_ms)
if in_node B systemctl start "$unit_b"; then
        took=$(( $(now_ms) - t0 ))
        ok "node-b: claims after node-a died ($took ms)"
        # 2W, plus the claim's slack on each wait (+2 s) and I/O
        [ "$took" -le $(( (2 * W + 8) * 1000 )) ] && ok "node-b: within 2W + I/O ($took ms <= $(( 2 * W + 8 )) s)" ||
                not_ok "node-b: within 2W + I/O" "took $took ms"
else
        not_ok "node-b: claims after node-a died" "$(in_node B journalctl -b --no-pager | tail -20)"
        not_ok "node-b: within 2W + I/O" "no claim"
fi
"$MMP_WATCH" "$dev_b" 3 100 >"$T/watch.json"
is "$(watch_field "$T/watch.json" last_node)" '"node-b"' "the disk now says node-b"
check "node-b: systemctl stop $unit_b" in_node B systemctl stop "$unit_b"
done_testing
