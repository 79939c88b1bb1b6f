#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The OCF agent ocf:mmpd:mmpfs (agents/ocf/mmpfs) on one node, against a real
# mmpd and a loop-backed MMP volume (update interval 1 s: W = 11 s):
# meta-data against ra-api-1.dtd; validate-all's errors (no mmp feature: 6
# with the tune2fs hint; mmpd not reachable: 5); Debian's ocf-tester; start,
# monitor, probe and stop exit codes and idempotency, claim progress in the
# log; stops that cannot unmount fail (force_unmount=false and a busy user; a
# submount no kill can end) and one that can kills a user ignoring SIGTERM;
# a start refused because node-b holds the volume; a rogue write (another
# node's seq through a second loop device): mmpd fences the mount, the next
# monitor fails and nothing claims the volume again until stop and start.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/handoff/private-ns.sh"     # our mounts in a namespace of our own
require_cmd ocf-tester xmllint jq findmnt fuser losetup mkfs.ext4 dumpe2fs mountpoint debugfs
[ -f /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] || _tap_skip_or_fail "needs resource-agents (ocf-shellfuncs)"
. "$top_srcdir/tests/lib/mmpd.sh"

AGENT="$top_builddir/agents/ocf/mmpfs"
[ -x "$AGENT" ] || bail_out "$AGENT is not built (make)"
t_all=$(now_ms)

img=$(mkimg vol 1)
dev=$(loop_attach "$img")       # this node's view
peer=$(loop_attach "$img")      # node-b's view of the same disk, and the intruder's
truncate -s 32M "$T/nommp.img"
mkfs.ext4 -q -F "$T/nommp.img" >/dev/null 2>&1 || bail_out "mkfs.ext4 failed"
ndev=$(loop_attach "$T/nommp.img")
start_mmpd A node-a
start_mmpd B node-b
for _ in $(seq 1 50); do [ -S "$(mmpd_sock A)" ] && [ -S "$(mmpd_sock B)" ] && break; sleep 0.1; done
mnt="$T/mnt"                    # created by the agent's start
track_mount "$mnt/sub"; track_mount "$mnt"
_bg=""
kill_bg() { for p in $_bg; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; _bg=""; }
trap 'kill_bg; _mmpd_cleanup' EXIT

# agent ACTION [NAME=VALUE...]: the agent with a clean OCF environment;
# sets rc and out (stdout and stderr, i.e. the log lines).  $interval
# (default 10000; 0 = probe) and $timeout (ms) as Pacemaker passes them.
agent() {
        local action=$1
        shift
        out=$(env -i PATH="$PATH" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=fs \
                OCF_RESKEY_CRM_meta_interval="${interval:-10000}" OCF_RESKEY_CRM_meta_timeout="${timeout:-60000}" \
                OCF_RESKEY_device="$dev" OCF_RESKEY_directory="$mnt" OCF_RESKEY_mmpctl="$MMPCTL" \
                OCF_RESKEY_socket="$(mmpd_sock A)" OCF_RESKEY_kill_grace=2 "$@" "$AGENT" "$action" 2>&1)
        rc=$?
}
# expect WANT DESC: rc is WANT, else the output goes to diag
expect() {
        if [ "$rc" = "$1" ]; then ok "$2"; else not_ok "$2" "rc $rc, want $1" "$out"; fi
}
has() {
        case "$out" in *"$1"*) ok "$2";; *) not_ok "$2" "no '$1' in:" "$out";; esac
}
vol_a() { "$MMPCTL" --socket "$(mmpd_sock A)" --json status 2>/dev/null |
        jq -c --arg d "$dev" '[.volumes[] | select(.device == $d)] | .[0] // empty'; }
busy() {        # busy [bash commands before exec]: bpid, a process with its cwd on the mount
        bash -c "$1 cd '$mnt' && exec sleep 300" </dev/null >/dev/null 2>&1 &
        bpid=$!
        _bg="$_bg $bpid"
}

# ---- meta-data and validate-all ---------------------------------------------
agent meta-data
expect 0 "meta-data: exit 0"
if printf '%s\n' "$out" | (cd /usr/share/resource-agents && xmllint --noout --valid - 2>&1); then
        ok "meta-data is valid against ra-api-1.dtd"
else
        not_ok "meta-data is valid against ra-api-1.dtd"
fi
has '<version>1.1</version>' "meta-data: OCF 1.1"
has '<action name="start" timeout="90s" />' "meta-data: start timeout 90 s (covers 2W+2 = 44 s at update interval 5)"
has 'W = min(2c+1, c+60)' "meta-data: the longdesc gives the timing formula"

agent validate-all
expect 0 "validate-all: a good configuration"
agent validate-all OCF_RESKEY_device=
expect 6 "validate-all: no device: 6 (OCF_ERR_CONFIGURED)"
agent validate-all OCF_RESKEY_directory=relative/dir
expect 6 "validate-all: a relative directory: 6"
agent validate-all OCF_RESKEY_options=noatime,ro
expect 6 "validate-all: a read-only mount: 6"
agent validate-all OCF_RESKEY_device="$ndev"
expect 6 "validate-all: no mmp feature: 6 (OCF_ERR_CONFIGURED)"
has "tune2fs -O mmp -E mmp_update_interval=5 $ndev" "validate-all: the hint to enable MMP"
agent validate-all OCF_RESKEY_socket="$T/nosuch.sock"
expect 5 "validate-all: mmpd not reachable: 5 (OCF_ERR_INSTALLED)"
has "mmpd is not reachable" "validate-all: says mmpd is not reachable"
agent validate-all OCF_RESKEY_device=/dev/nosuchdisk
expect 5 "validate-all: no such device on this node: 5"

# ---- probes of a stopped resource --------------------------------------------
interval=0 agent monitor
expect 7 "probe of the stopped resource: 7 (OCF_NOT_RUNNING)"
agent monitor
expect 7 "monitor of the stopped resource: 7"
agent stop
expect 0 "stop of the stopped resource: 0"

# ---- ocf-tester ---------------------------------------------------------------
# ocf-tester also runs the agent as uid nobody: give it a copy nobody can
# reach, wherever the tree is (a clone in a 0700 directory).
tdir="$T/ocf-tester"
mkdir -p "$tdir" && chmod 0755 "$T" "$tdir" && install -m 0755 "$AGENT" "$tdir/mmpfs"
t0=$(now_ms)
tout=$(ocf-tester -n fs -o device="$dev" -o directory="$mnt" -o mmpctl="$MMPCTL" \
        -o socket="$(mmpd_sock A)" -o kill_grace=2 "$tdir/mmpfs" 2>&1)
trc=$?
if [ "$trc" -eq 0 ] && [[ "$tout" == *"passed all tests"* ]]; then
        ok "ocf-tester: passed all tests ($(( ($(now_ms) - t0) / 1000 )) s)"
else
        not_ok "ocf-tester: passed all tests" "exit $trc" "$tout"
fi
mountpoint -q "$mnt" && not_ok "ocf-tester left it unmounted" || ok "ocf-tester left it unmounted"

# ---- start, monitor, idempotency ----------------------------------------------
t0=$(now_ms)
agent start
dur=$(( $(now_ms) - t0 ))
expect 0 "start: 0 (${dur} ms; a claim from CLEAN waits W = 11 s)"
diag "start log:" "$out"
has "the MMP block is clean" "start logs what the MMP block said before the claim"
has "waiting 11 s (W) after our own write" "start logs the claim's wait (from mmpd's events)"
has "watched by mmpd" "start logs that mmpctl mount left the mount watched"
mountpoint -q "$mnt" && ok "the directory is mounted" || not_ok "the directory is mounted"
j=$(vol_a)
is "$(jq -r '"\(.state) \(.use.user) \(.use.mount_point)"' <<<"$j")" "in_use kernel $mnt" "mmpd: in_use by the kernel mount on the directory"
agent monitor
expect 0 "monitor: 0"
interval=0 agent monitor
expect 0 "probe of the running resource: 0"
OCF_CHECK_LEVEL=20 agent monitor OCF_CHECK_LEVEL=20
expect 0 "monitor at depth 20 (O_DIRECT status file): 0"
t0=$(now_ms)
agent start
dur=$(( $(now_ms) - t0 ))
expect 0 "start of the started resource: 0"
[ "$dur" -lt 3000 ] && ok "... at once (${dur} ms)" || not_ok "... at once" "${dur} ms"
is "$(findmnt -rn -S "$dev" -o TARGET | wc -l)" 1 "still mounted once"

# ---- stops that cannot unmount --------------------------------------------------
busy
p1=$bpid
sleep 0.3
t0=$(now_ms)
agent stop OCF_RESKEY_force_unmount=false
dur=$(( $(now_ms) - t0 ))
expect 1 "stop with a busy mount and force_unmount=false: 1 (OCF_ERR_GENERIC) (${dur} ms)"
has "force_unmount is false" "... says why"
kill -0 "$p1" 2>/dev/null && ok "... the user lives" || not_ok "... the user lives"
agent monitor
expect 0 "... and the mount is still watched: monitor 0"

mkdir -p "$mnt/sub" && mount -t tmpfs none "$mnt/sub" || bail_out "cannot mount a tmpfs on $mnt/sub"
t0=$(now_ms)
agent stop
dur=$(( $(now_ms) - t0 ))
expect 1 "stop with a submount that no kill ends: 1 (${dur} ms)"
[ "$dur" -lt 15000 ] && ok "... bounded: ${dur} ms (kill_grace 2 s + 3 s of SIGKILL)" || not_ok "... bounded" "${dur} ms"
has "SIGTERM to $p1" "... SIGTERM to the user"
kill -0 "$p1" 2>/dev/null && not_ok "... the user is gone" || ok "... the user is gone"
agent monitor
expect 0 "... the mount is still watched: monitor 0"
umount "$mnt/sub" || bail_out "cannot unmount $mnt/sub"

# ---- a stop that kills a user ignoring SIGTERM ------------------------------------
busy "trap '' TERM;"
p2=$bpid
sleep 0.3
t0=$(now_ms)
agent stop
dur=$(( $(now_ms) - t0 ))
expect 0 "stop with a user ignoring SIGTERM: 0 (${dur} ms)"
has "SIGKILL to $p2" "... SIGKILL after the grace"
kill -0 "$p2" 2>/dev/null && not_ok "... the user is gone" || ok "... the user is gone"
mountpoint -q "$mnt" && not_ok "... unmounted" || ok "... unmounted"
is "$(vol_a)" "" "... mmpd released the volume and forgot it"
is "$(mmp_field "$dev" sequence)" ff4d4d50 "... the MMP block is CLEAN"
agent monitor
expect 7 "monitor after stop: 7"
agent stop
expect 0 "stop again: 0"
kill_bg

# ---- a start refused: node-b holds the volume ---------------------------------
"$MMPCTL" --socket "$(mmpd_sock B)" claim "$peer" >"$T/b.claim" 2>&1 &&
        ok "node-b claims the volume" || not_ok "node-b claims the volume" "$(cat "$T/b.claim")"
t0=$(now_ms)
agent start
dur=$(( $(now_ms) - t0 ))
expect 1 "start while node-b holds it: 1 (OCF_ERR_GENERIC) (${dur} ms)"
diag "start log:" "$out"
has "last written by node 'node-b'" "... logs the holder before the claim"
has "waiting 13 s (W 11 + 2): the volume was active on node 'node-b'" "... logs the wait for a live holder"
has "node-b" "... the failure names node-b"
mountpoint -q "$mnt" && not_ok "... not mounted" || ok "... not mounted"
agent monitor
expect 7 "monitor after the refused start: 7"
agent stop
expect 0 "stop after the refused start: 0"
"$MMPCTL" --socket "$(mmpd_sock B)" release "$peer" >/dev/null 2>&1 || not_ok "node-b releases"

# ---- a rogue write: mmpd fences, monitor fails, nothing re-claims ------------------
agent start
expect 0 "start (for the rogue write)"
echo data >"$mnt/file" && sync -f "$mnt/file" || not_ok "write a file"
agent monitor
expect 0 "monitor before the rogue write: 0"
(
        i=5000
        while :; do
                "$MMP_EDIT" "$peer" seq=$i node=intruder dev=sdz >/dev/null 2>&1
                i=$((i + 1))
                sleep 0.2
        done
) & rogue=$!
_bg="$_bg $rogue"
wait_log A "LOST while in use by kernel mount $mnt" 15 && ok "mmpd: LOST while in use" || not_ok "mmpd: LOST while in use"
wait_log A "fence done" 15 || true
kill_bg
agent monitor
expect 1 "monitor after the loss: 1 (OCF_ERR_GENERIC)"
has "mmpd lost $dev" "... says mmpd lost it"
case "$(findmnt -rn -o OPTIONS --mountpoint "$mnt")" in
*shutdown*) ok "the mount is shut down" ;;
*) not_ok "the mount is shut down" "$(findmnt --mountpoint "$mnt")" ;;
esac
( echo more >"$mnt/file2" ) 2>/dev/null && not_ok "writes to the mount fail" || ok "writes to the mount fail"
agent monitor
interval=0 agent monitor
expect 1 "a probe after the loss: 1"
sleep 2
is "$(vol_a | jq -r .state)" lost "mmpd: still lost after the monitors (nothing re-claimed)"
n=$(grep -c "claimed" "$T/A.log")
agent monitor
sleep 1
is "$(grep -c "claimed" "$T/A.log")" "$n" "no new claim after another monitor"
agent stop
expect 0 "stop after the loss: 0 (unmounted, the lost record cleared)"
mountpoint -q "$mnt" && not_ok "... unmounted" || ok "... unmounted"
is "$(vol_a)" "" "... mmpd forgot the lost volume"
agent monitor
expect 7 "monitor after that stop: 7"

# ---- mmpd not running ------------------------------------------------------------
stop_mmpd A TERM
interval=0 agent monitor
expect 7 "probe with mmpd stopped: 7"
agent validate-all
expect 5 "validate-all with mmpd stopped: 5"
agent start
expect 5 "start with mmpd stopped: 5"
agent stop
expect 0 "stop with mmpd stopped (nothing mounted): 0"

diag "total $(( ($(now_ms) - t_all) / 1000 )) s"
done_testing
