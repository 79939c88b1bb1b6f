#!/bin/bash
# mmpctl exec with fuse2fs, the tool that keeps a volume: in the foreground
# (-f) mmpd watches its FSCK while it is mounted, the peer is refused, and
# fusermount -u ends the use (released).  Without -f fuse2fs daemonizes and
# the exec'd parent exits after mounting: mmpd keeps the volume in use (the
# daemon holds the device O_EXCL), never touches the daemon's FSCK for
# W + 3 s and more, mmpctl says the use goes on, and mmpctl umount ends it.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/handoff/private-ns.sh"     # our mounts in a namespace of our own
require_cmd fuse2fs fusermount e2mmpstatus debugfs losetup mountpoint pgrep jq
. "$top_srcdir/tests/lib/mmpd.sh"

host=$(uname -n)
img=$(mkimg fuse 1)
dev=$(loop_attach "$img")       # node-a's view
peer=$(loop_attach "$img")      # a peer's view of the same disk
start_mmpd A node-a "fuse=$dev"
export MMPD_SOCKET=$(mmpd_sock A)
ctl() { out=$("$MMPCTL" "$@" 2>&1); rc=$?; }
vol_json() { "$MMPCTL" --json status 2>/dev/null |
        jq -c --arg d "$1" '[.volumes[] | select(.device == $d)] | .[0] // empty'; }
wait_mounted() {
        local i
        for i in $(seq 1 $(( $2 * 10 ))); do
                mountpoint -q "$1" && return 0
                sleep 0.1
        done
        return 1
}
mnt="$T/f"
mkdir -p "$mnt"
track_mount "$mnt"
wait_log A "volume fuse .*claimed" 40 && ok "mmpd holds the volume" || bail_out "mmpd did not claim"

# ---- fuse2fs -f: the tool is the mount -----------------------------------------
t0=$(now_ms)
"$MMPCTL" exec "$dev" -- fuse2fs -f "$dev" "$mnt" >"$T/f1.out" 2>&1 &
ctl_pid=$!
wait_mounted "$mnt" 25 && ok "fuse2fs -f mounted it ($(( $(now_ms) - t0 )) ms: its own MMP wait)" ||
        not_ok "fuse2fs -f mounted it" "$(cat "$T/f1.out")"
echo "through fuse2fs -f" >"$mnt/fg" && sync -f "$mnt/fg" && ok "a file written through fuse2fs" || not_ok "write through fuse2fs"
fpid=$(pgrep -P "$ctl_pid" -x fuse2fs)
j=$(vol_json "$dev")
is "$(jq -r '.state + " " + .use.user + " " + .use.phase' <<<"$j")" "in_use tool in_use" "mmpctl status: in_use by a tool"
is "$(jq -r .use.pid <<<"$j")" "${fpid:-none}" "mmpctl status: use.pid is fuse2fs's ($fpid)"
is "$(mmp_field "$peer" sequence) $(mmp_field "$peer" node_name)" "e24d4d50 $host" "the peer reads FSCK by $host"
out=$(e2mmpstatus "$peer" 2>&1); rc=$?
is "$rc" 1 "e2mmpstatus on the peer device exits 1"
case "$out" in *"e2fsck being run"*"MMP update by '$host"*) ok "e2mmpstatus: fsck running, by $host";;
        *) not_ok "e2mmpstatus: fsck running, by $host" "$out";; esac
fusermount -u "$mnt"; frc=$?
is "$frc" 0 "fusermount -u"
wait "$ctl_pid"; rc=$?
is "$rc" 0 "mmpctl exec exits 0 (fuse2fs's status)"
diag "$(cat "$T/f1.out")"
grep -q "fuse2fs exited with status 0; mmpd released $dev" "$T/f1.out" && ok "mmpctl: mmpd released it" ||
        not_ok "mmpctl: mmpd released it"
is "$(mmp_field "$peer" sequence)" ff4d4d50 "CLEAN on disk"
is "$(vol_json "$dev")" "" "mmpd no longer lists it"
is "$(debugfs -R 'cat /fg' "$peer" 2>/dev/null)" "through fuse2fs -f" "the file is on disk"

# ---- fuse2fs without -f: a daemon outlives the exec'd process ----------------
t0=$(now_ms)
ctl exec "$dev" -- fuse2fs "$dev" "$mnt"
t_exit=$(now_ms)
"$MMP_WATCH" "$peer" 14 50 >"$T/hold.json" &      # W + 3 s from the parent's exit
watch_pid=$!
is "$rc" 0 "mmpctl exec -- fuse2fs (daemonizing): exit 0 after $(( t_exit - t0 )) ms (claim + its MMP wait)"
diag "$out"
case "$out" in *"still in use"*"the use goes on"*) ok "mmpctl says the use goes on";;
        *) not_ok "mmpctl says the use goes on" "$out";; esac
mountpoint -q "$mnt" && ok "mounted by the fuse2fs daemon" || not_ok "mounted by the fuse2fs daemon"
daemon=$(pgrep -f -x "fuse2fs $dev $mnt")
[ -n "$daemon" ] && ok "the fuse2fs daemon runs (pid $daemon)" || not_ok "the fuse2fs daemon runs"
j=$(vol_json "$dev")
is "$(jq -r '.state + " " + .use.user' <<<"$j")" "in_use tool" "mmpd keeps it in use"
[ "$(jq -r .use.pid <<<"$j")" != "$daemon" ] && ok "(the pid mmpd followed, $(jq -r .use.pid <<<"$j"), has exited)" ||
        not_ok "the pid mmpd followed is the parent"
echo "through the daemon" >"$mnt/bg" && sync -f "$mnt/bg" && ok "a file written through the daemon" || not_ok "write through the daemon"
out=$(e2mmpstatus "$peer" 2>&1); rc=$?
is "$rc" 1 "e2mmpstatus on the peer still refuses"
wait "$watch_pid"
w=$(cat "$T/hold.json"); diag "peer watcher for W + 3 s: $w"
is "$(jq -c '[.first_seq, .changes, .clean_seen, .nodes]' <<<"$w")" "[3796716880,0,false,[\"$host\"]]" \
        "the daemon's FSCK stayed untouched for W + 3 s (no change, no CLEAN, only $host)"
is "$(vol_json "$dev" | jq -r .state)" in_use "still in use after W + 3 s"
# (released once, the volume is mmpd's again by the claim mmpctl exec asked for)
grep -q "volume .*($dev): pid [0-9]* has exited, but the device is still open exclusively .*: the use goes on" "$T/A.log" &&
        ok "mmpd logged that the use goes on" || not_ok "mmpd logged that the use goes on"

# ---- mmpctl umount ends it --------------------------------------------------------
t0=$(now_ms)
ctl umount "$mnt"
is "$rc" 0 "mmpctl umount DIR: exit 0 ($(( $(now_ms) - t0 )) ms)"
diag "$out"
case "$out" in *"mmpd released $dev"*) ok "mmpctl umount: mmpd released it";; *) not_ok "released" "$out";; esac
mountpoint -q "$mnt" && not_ok "unmounted" || ok "unmounted"
for i in $(seq 1 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon" 2>/dev/null && not_ok "the daemon has exited" || ok "the daemon has exited"
is "$(mmp_field "$peer" sequence)" ff4d4d50 "CLEAN on disk"
is "$(vol_json "$dev")" "" "mmpd no longer lists it"
is "$(debugfs -R 'cat /bg' "$peer" 2>/dev/null)" "through the daemon" "the daemon's file is on disk"
done_testing
