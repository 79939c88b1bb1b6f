#!/bin/bash
# A volume held by mmpd is refused by every peer: e2mmpstatus, mount (local
# and from a second "node"), tune2fs; debugfs sees our seq advance; a raw
# watcher sees no gap longer than interval + 1 s over 60 s.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd e2mmpstatus debugfs tune2fs losetup mount jq
. "$top_srcdir/tests/lib/mmpd.sh"

img=$(mkimg held 1)
dev=$(loop_attach "$img")       # this node's view
peer=$(loop_attach "$img")      # another node's view of the same disk
start_mmpd A node-a "data=$dev"
wait_log A "claimed" 40 && ok "mmpd claimed the volume" || not_ok "mmpd claimed the volume"

"$MMP_WATCH" "$dev" 60 100 >"$T/watch.json" &
watch_pid=$!

# e2mmpstatus from the peer's view: exit 1, naming our node
out=$(e2mmpstatus "$peer" 2>&1); rc=$?
is "$rc" 1 "e2mmpstatus exits 1 while held"
case "$out" in *"MMP update by 'node-a"*) ok "e2mmpstatus names our node";;
        *) not_ok "e2mmpstatus names our node" "$out";; esac

# mount: locally the device is held open exclusively; from the peer MMP refuses
mkdir -p "$T/mnt"
if mount "$dev" "$T/mnt" 2>"$T/mount.err"; then track_mount "$T/mnt"; not_ok "local mount refused"; else ok "local mount refused ($(head -c 80 "$T/mount.err"))"; fi
# The ring buffer may be full (line counts then stay put): mark the last line.
dmesg_before=$(dmesg | tail -n 1)
if mount "$peer" "$T/mnt" 2>"$T/mount2.err"; then track_mount "$T/mnt"; not_ok "peer mount refused"; else ok "peer mount refused"; fi
if dmesg | awk -v b="$dmesg_before" 'seen { print } $0 == b { seen = 1 }' | grep -q "Device is already active on another node"; then
        ok "kernel says: Device is already active on another node"
else
        not_ok "kernel says: Device is already active on another node" "$(dmesg | tail -5)"
fi

out=$(tune2fs -O ^mmp "$peer" 2>&1); rc=$?
is "$rc" 1 "tune2fs -O ^mmp fails while held"
case "$out" in *"MMP: device currently active"*) ok "tune2fs reports MMP active";;
        *) not_ok "tune2fs reports MMP active" "$out";; esac

s1=$(mmp_field "$dev" sequence); sleep 2.5; s2=$(mmp_field "$dev" sequence)
[ -n "$s1" ] && [ "$s1" != "$s2" ] && ok "debugfs sees the seq advance ($s1 -> $s2)" || not_ok "debugfs sees the seq advance" "$s1 $s2"
is "$(mmp_field "$dev" node_name)" node-a "debugfs shows our node name"
is "$(mmp_field "$dev" device_name)" "$(basename "$dev")" "debugfs shows our device name"

wait "$watch_pid"
w=$(cat "$T/watch.json"); diag "watcher: $w"
gap=$(jq .max_gap_ms <<<"$w")
[ "$gap" -le 2000 ] && ok "no heartbeat gap over interval + 1 s in 60 s (max ${gap} ms)" || not_ok "no heartbeat gap over interval + 1 s (max ${gap} ms)"
is "$(jq -c .nodes <<<"$w")" '["node-a"]' "watcher saw only our node"
is "$(jq .clean_seen <<<"$w")" false "watcher never saw CLEAN"
[ "$(jq .changes <<<"$w")" -ge 50 ] && ok "about one heartbeat per second ($(jq .changes <<<"$w") in 60 s)" || not_ok "heartbeat rate" "$w"
done_testing
