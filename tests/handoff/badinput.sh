#!/bin/bash
# mmpctl mount / exec / umount with bad input: a volume another node holds
# and a filesystem without mmp are refused with nothing written; a missing
# mount point, a missing command and an unknown filesystem type fail with a
# clear message while the volume stays (or is again) held by mmpd and is
# never left CLEAN for long; umount of something not mounted says so.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/handoff/private-ns.sh"     # our mounts in a namespace of our own
require_cmd debugfs losetup mountpoint md5sum jq
. "$top_srcdir/tests/lib/mmpd.sh"
CLEAN_WINDOW="$top_builddir/tests/handoff/clean-window"

oimg=$(mkimg other 1)
odev=$(loop_attach "$oimg")     # node-a's view of a volume node-b holds
opeer=$(loop_attach "$oimg")    # node-b's view
nimg="$T/nommp.img"; truncate -s 32M "$nimg"; mkfs.ext4 -q -F "$nimg" >/dev/null 2>&1 || bail_out "mkfs failed"
ndev=$(loop_attach "$nimg")
himg=$(mkimg held 1)
hdev=$(loop_attach "$himg")     # held by node-a
hpeer=$(loop_attach "$himg")    # the raw watchers' view
start_mmpd B node-b "theirs=$opeer"
start_mmpd A node-a "held=$hdev"
export MMPD_SOCKET=$(mmpd_sock A)
ctl() { out=$("$MMPCTL" "$@" 2>&1); rc=$?; }
# seq_is_ours STATUS_SEQ BLOCK_HEX DESC: the block's seq (debugfs, hex) is
# the seq mmpd reported, or one or two heartbeats on (read a moment later).
seq_is_ours() {
        local d
        d=$(( 0x${2:-0} - ${1:-0} ))
        [ -n "$1" ] && [ "$1" != null ] && [ "$d" -ge 0 ] && [ "$d" -le 2 ] && ok "$3 ($2)" ||
                not_ok "$3" "mmpd: ${1:-?}, block: 0x${2:-?}"
}
vol_json() { "$MMPCTL" --socket "${2:-$MMPD_SOCKET}" --json status 2>/dev/null |
        jq -c --arg d "$1" '[.volumes[] | select(.device == $d)] | .[0] // empty'; }
mnt="$T/m"
mkdir -p "$mnt"
track_mount "$mnt"
wait_log B "volume theirs .*claimed" 40 && wait_log A "volume held .*claimed" 40 &&
        ok "node-b and node-a hold their volumes" || bail_out "no claim"

# ---- a volume another node holds ---------------------------------------------
"$MMP_WATCH" "$opeer" 16 20 >"$T/other.json" &
watch_pid=$!
t0=$(now_ms)
ctl mount "$odev" "$mnt"
is "$rc" 1 "mount of a volume node-b holds: exit 1 ($(( $(now_ms) - t0 )) ms)"
diag "$out"
case "$out" in *"node 'node-b'"*) ok "the message names the holder node-b";; *) not_ok "names node-b" "$out";; esac
mountpoint -q "$mnt" && not_ok "not mounted" || ok "not mounted"
wait "$watch_pid"
w=$(cat "$T/other.json"); diag "watcher: $w"
is "$(jq -c .nodes <<<"$w")" '["node-b"]' "nothing written by us: the block only ever showed node-b"
is "$(mmp_field "$opeer" node_name) $(vol_json "$opeer" "$(mmpd_sock B)" | jq -r .state)" "node-b held" \
        "node-b still holds it"
seq_is_ours "$(vol_json "$opeer" "$(mmpd_sock B)" | jq -r .seq)" "$(mmp_field "$opeer" sequence)" \
        "the block carries node-b's seq"

# ---- a filesystem without mmp -----------------------------------------------
sum=$(md5sum <"$nimg")
ctl mount "$ndev" "$mnt"
[ "$rc" -ne 0 ] && ok "mount of a filesystem without mmp fails (exit $rc)" || not_ok "no-mmp refused"
diag "$out"
case "$out" in *"tune2fs -O mmp"*) ok "the message names the missing feature (tune2fs -O mmp)";;
        *) not_ok "names the missing feature" "$out";; esac
mountpoint -q "$mnt" && not_ok "not mounted" || ok "not mounted"
is "$(md5sum <"$nimg")" "$sum" "nothing written to the image"

# ---- errors on the volume node-a holds: it stays held ------------------------
"$CLEAN_WINDOW" "$hpeer" 60 >"$T/clean.out" &
clean_pid=$!
sleep 0.3
ctl mount "$hdev" "$T/no/such/dir"
is "$rc" 2 "mount on a missing mount point: exit 2"
case "$out" in *"$T/no/such/dir"*) ok "the message names the path";; *) not_ok "names the path" "$out";; esac
diag "$out"
is "$(vol_json "$hdev" | jq -r .state) $(mmp_field "$hpeer" node_name)" "held node-a" "still held, the block shows node-a"

ctl exec "$hdev" -- /nonexistent/cmd
is "$rc" 127 "exec of a missing command: exit 127"
case "$out" in *"cannot run /nonexistent/cmd"*) ok "message: cannot run /nonexistent/cmd";; *) not_ok "cannot run" "$out";; esac
s=$(mmp_field "$hpeer" sequence)
[ "$s" != ff4d4d50 ] && [ "$(mmp_field "$hpeer" node_name)" = node-a ] && ok "held, not CLEAN (seq $s, node-a)" ||
        not_ok "held, not CLEAN" "seq $s"
is "$(vol_json "$hdev" | jq -r .state)" held "mmpd: held"

t0=$(now_ms)
ctl mount -t nosuchfs "$hdev" "$mnt"
is "$rc" 2 "mount -t nosuchfs: exit 2"
diag "$out"
case "$out" in *"nosuchfs"*|*"unknown filesystem type"*) ok "the message names the type";;
        *) not_ok "the message names the type" "$out";; esac
mountpoint -q "$mnt" && not_ok "not mounted" || ok "not mounted"
for i in $(seq 1 250); do [ "$(vol_json "$hdev" | jq -r .state)" = held ] && break; sleep 0.1; done
is "$(vol_json "$hdev" | jq -r .state)" held "held again $(( $(now_ms) - t0 )) ms later (full re-claim)"
grep -q "volume held .*use by kernel mount .* ended: .*re-claiming with the full claim" "$T/A.log" &&
        ok "mmpd: failed handoff, re-claimed" || not_ok "mmpd: failed handoff, re-claimed" "$(tail -4 "$T/A.log")"
is "$(mmp_field "$hpeer" node_name)" node-a "the block shows node-a again"
seq_is_ours "$(vol_json "$hdev" | jq -r .seq)" "$(mmp_field "$hpeer" sequence)" "the block carries mmpd's seq"
kill -TERM "$clean_pid"; wait "$clean_pid"
c=$(tail -1 "$T/clean.out"); diag "CLEAN windows: $c" "$(grep window_us "$T/clean.out")"
timeout_us=5000000        # handoff_timeout's default
[ "$(jq .max_us <<<"$c")" -lt "$timeout_us" ] && [ "$(jq .open <<<"$c")" = false ] &&
        ok "never left CLEAN: $(jq .windows <<<"$c") episode(s), max $(jq .max_us <<<"$c") us < handoff timeout" ||
        not_ok "never left CLEAN for the handoff timeout" "$c"
[ "$(jq .windows <<<"$c")" -ge 1 ] && ok "the nosuchfs handoff's CLEAN was seen and ended" || not_ok "CLEAN episode seen" "$c"

# ---- umount of something not mounted -----------------------------------------
ctl umount /not/mounted
is "$rc" 2 "umount /not/mounted: exit 2"
case "$out" in *"/not/mounted"*"not mounted"*) ok "the message names it";; *) not_ok "names it" "$out";; esac
done_testing
