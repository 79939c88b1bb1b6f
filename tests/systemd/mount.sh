#!/bin/bash
# mmpd-mount@.service under real systemd (PID 1 in nspawn): start claims the
# volume, hands it to the container's kernel and mounts it (mmpd watches the
# kernel's heartbeat, which a raw watcher on the host sees under the host
# kernel's node name); a second node's start fails while the first has it
# mounted; stop unmounts and releases it (CLEAN); enabled, it mounts at boot,
# and a shutdown unmounts and releases it.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter systemd-escape losetup jq debugfs blockdev
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/systemd/nspawn.sh"

img=$(mkimg sdmount 1)          # update interval 1: W = 11 s
dev_a=$(loop_attach "$img")     # node A's view
dev_b=$(loop_attach "$img")     # node B's view of the same disk
dev_w=$(loop_attach "$img")     # the host watcher's view
mp=/srv/data
inst=$(systemd-escape --path "$mp")
unit=mmpd-mount@$inst.service
# kmmpd writes the host kernel's node name (init_utsname), not the
# container's: mmpd must accept it as its host_name.
kname=$(uname -n)
mmpctl_in="$SD_BUILD/mmpctl/mmpctl"

# node_etc NAME DEVICE MOUNT_ARGS: the node's /etc/mmpd (bound in at boot, so
# a reboot finds it as a persistent /etc would) and its mount point.
node_etc() {
        mkdir -p "$T/$1-etc/mount" "$T/$1-mnt"
        printf '[mmpd]\nhost_name = %s\n' "$kname" >"$T/$1-etc/mmpd.conf"
        printf 'DEVICE=%s\nMOUNT_ARGS=%s\n' "$2" "$3" >"$T/$1-etc/mount/$inst.conf"
}
# node_binds NAME: what boot_node binds besides the device.
node_binds() { echo "$T/$1-etc:/etc/mmpd" "$T/$1-mnt:$mp"; }

# mounted_in NAME: source, type and options of each loop device the node has
# mounted on $mp (under it is the bind of $T/NAME-mnt).  awk runs on the
# host: it is an /etc/alternatives link, dangling on the container's /etc.
mounted_in() {
        in_node "$1" cat /proc/mounts | awk -v mp="$mp" '$2 == mp && $1 ~ /^\/dev\/loop/ { print $1, $3, $4 }'
}
# use_of NAME DEVICE: state, use (user, phase) and mount point of the
# node's mmpd's record of DEVICE.
use_of() {
        in_node "$1" "$mmpctl_in" status --json |
                jq -r --arg d "$2" '.volumes[] | select(.device == $d) | "\(.state) \(.use.user) \(.use.phase) \(.use.mount_point)"'
}
secs_since() { echo $(( ($(now_ms) - $1) / 1000 )); }
journal() { in_node "$1" journalctl -b --no-pager -n 25; }

node_etc A "$dev_a" ""
node_etc B "$dev_b" ""
# shellcheck disable=SC2046
boot_node A node-a "$dev_a" $(node_binds A)

# --- start: claim, hand off, mount
t0=$(now_ms)
if in_node A systemctl start "$unit"; then
        ok "node-a: systemctl start $unit ($(secs_since "$t0") s)"
else
        not_ok "node-a: systemctl start $unit" "$(journal A)"
fi
is "$(unit_state A "$unit")" active "node-a: $unit is active"
diag "$(in_node A journalctl -b --no-pager -u "$unit" | grep -F mmpctl | tail -3)"
is "$(mounted_in A | cut -d' ' -f1-2)" "$dev_a ext4" "node-a: /proc/mounts shows $dev_a on $mp"
is "$(use_of A "$dev_a")" "in_use kernel in_use $mp" "node-a: mmpctl status: in_use by kernel mount $mp"
check "node-a: write a file on $mp" in_node A sh -c "echo mmpd-mount >$mp/hello && sync"

"$MMP_WATCH" "$dev_w" 5 100 >"$T/watch1.json"
diag "watcher: $(cat "$T/watch1.json")"
is "$(watch_field "$T/watch1.json" nodes)" "[\"$kname\"]" "host watcher sees only the kernel's node name ($kname)"
changes=$(watch_field "$T/watch1.json" changes)
[ "${changes:-0}" -ge 3 ] && ok "host watcher sees the seq advance ($changes changes in 5 s)" ||
        not_ok "host watcher sees the seq advance" "changes: $changes"

# --- a second node cannot mount it meanwhile
# shellcheck disable=SC2046
boot_node B node-b "$dev_b" $(node_binds B)
"$MMP_WATCH" "$dev_w" 60 100 >"$T/watch2.json" &     # SIGTERM ends it with the summary
wpid=$!
t0=$(now_ms)
if in_node B systemctl start "$unit" 2>/dev/null; then
        not_ok "node-b: start fails while node-a has it mounted"
else
        ok "node-b: start fails while node-a has it mounted ($(secs_since "$t0") s)"
fi
is "$(unit_state B "$unit")" failed "node-b: $unit is failed"
is "$(mounted_in B)" "" "node-b: nothing mounted on $mp"
diag "node-b: $(in_node B journalctl -b --no-pager -u "$unit" | grep -F mmpctl | tail -3)"
kill -TERM "$wpid"
wait "$wpid"
diag "watcher during node-b's attempt: $(cat "$T/watch2.json")"
is "$(watch_field "$T/watch2.json" nodes)" "[\"$kname\"]" "node-b never wrote the block"
is "$(unit_state A "$unit")" active "node-a: $unit still active"
is "$(mounted_in A | cut -d' ' -f1-2)" "$dev_a ext4" "node-a: still mounted"
is "$(use_of A "$dev_a")" "in_use kernel in_use $mp" "node-a: still in_use by kernel mount $mp"
is "$(in_node A cat "$mp/hello")" mmpd-mount "node-a: the file reads back"
node_kill B

# --- stop: unmount, CLEAN, forgotten
t0=$(now_ms)
check "node-a: systemctl stop $unit" in_node A systemctl stop "$unit"
diag "stop took $(( $(now_ms) - t0 )) ms"
is "$(unit_state A "$unit")" inactive "node-a: $unit is inactive"
is "$(mounted_in A)" "" "node-a: $mp is unmounted"
case $("$MMPCTL" dump "$dev_w" | grep '^sequence') in *clean*) ok "stop left the volume CLEAN";;
        *) not_ok "stop left the volume CLEAN" "$("$MMPCTL" dump "$dev_w")";; esac
is "$(in_node A "$mmpctl_in" status --json | jq -r --arg d "$dev_a" '[.volumes[] | select(.device == $d)] | length')" 0 \
        "node-a: mmpd no longer lists $dev_a"
blockdev --flushbufs "$dev_w"
is "$(debugfs -R 'cat /hello' "$dev_w" 2>/dev/null)" mmpd-mount "the file is on the shared disk"

# --- enable, then boot again: the unit mounts at boot
if in_node A systemctl enable "$unit" >"$T/enable.out" 2>&1; then
        ok "node-a: systemctl enable $unit"
else
        not_ok "node-a: systemctl enable $unit" "$(cat "$T/enable.out")"
fi
wants=$(in_node A readlink "/etc/systemd/system/multi-user.target.wants/$unit")
is "$wants" "/etc/systemd/system/mmpd-mount@.service" "enable: multi-user.target wants $unit"
# The container's / is a tmpfs: carry what enable wrote to the next boot.
mkdir -p "$T/A-wants"
ln -s "$wants" "$T/A-wants/$unit"
node_kill A
node_etc A "$dev_a" "-o noatime"
t0=$(now_ms)
# shellcheck disable=SC2046
boot_node A node-a "$dev_a" $(node_binds A) "$T/A-wants:/etc/systemd/system/multi-user.target.wants"
if wait_unit_state A "$unit" active 60; then
        ok "boot: $unit is active ($(secs_since "$t0") s after boot started)"
else
        not_ok "boot: $unit is active" "$(unit_state A "$unit")" "$(journal A)"
fi
m=$(mounted_in A)
case "$m" in "$dev_a ext4 "*noatime*) ok "boot: $dev_a mounted on $mp with MOUNT_ARGS (-o noatime)";;
        *) not_ok "boot: $dev_a mounted on $mp with MOUNT_ARGS (-o noatime)" "mounts: '$m'";; esac
is "$(use_of A "$dev_a")" "in_use kernel in_use $mp" "boot: in_use by kernel mount $mp"
is "$(in_node A cat "$mp/hello")" mmpd-mount "boot: the file is there"
"$MMP_WATCH" "$dev_w" 3 100 >"$T/watch3.json"
is "$(watch_field "$T/watch3.json" nodes)" "[\"$kname\"]" "boot: host watcher sees only $kname"

# --- shutdown with it mounted: the unit's stop runs before the unmounts
nspawn_pid=$(cat "$T/A.nspawn")
t0=$(now_ms)
in_node A systemctl poweroff
for _ in $(seq 300); do
        kill -0 "$nspawn_pid" 2>/dev/null || break
        sleep 0.1
done
if kill -0 "$nspawn_pid" 2>/dev/null; then
        not_ok "node-a: poweroff" "still running after 30 s" "$(tail -20 "$T/A.console")"
else
        ok "node-a: poweroff ($(( $(now_ms) - t0 )) ms)"
fi
if grep -aq "Stopped .*MMP-guarded mount" "$T/A.console" && ! grep -aiE "fail.*(mmpd-mount|MMP-guarded)" "$T/A.console"; then
        ok "shutdown: the unit stopped without error"
else
        not_ok "shutdown: the unit stopped without error" "$(grep -ai mmp "$T/A.console")"
fi
case $("$MMPCTL" dump "$dev_w" | grep '^sequence') in *clean*) ok "shutdown left the volume CLEAN";;
        *) not_ok "shutdown left the volume CLEAN" "$("$MMPCTL" dump "$dev_w")";; esac
done_testing
