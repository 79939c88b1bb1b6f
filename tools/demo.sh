#!/bin/bash
# The mmpd demo: a loop-backed ext4 volume with MMP, held by mmpd, shown by
# mmpctl, refused by e2mmpstatus and mount, then released.  Run as root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates loop devices and mounts)"; exit 1; }
echo "== building mmpd"
"$top/tools/build.sh" || exit 1
B="$top/_build"
MMPD="$B/mmpd/mmpd"; MMPCTL="$B/mmpctl/mmpctl"

T=$(mktemp -d /tmp/mmpd-demo.XXXXXX)
cleanup() {
        [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        umount "$T/mnt" 2>/dev/null
        [ -n "${dev:-}" ] && losetup -d "$dev"
        [ -n "${peer:-}" ] && losetup -d "$peer"
        rm -rf "$T"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "make a 64 MiB ext4 image with the mmp feature (update interval 1 s) on a loop device"
truncate -s 64M "$T/disk.img"
mkfs.ext4 -q -F -O mmp -E mmp_update_interval=1 "$T/disk.img"
dev=$(losetup -f --show --direct-io=on "$T/disk.img")
peer=$(losetup -f --show --direct-io=on "$T/disk.img")   # how another node sees the same disk
echo "this node: $dev   another node's view of the same disk: $peer"

step "start mmpd holding it (node name demo-node)"
cat >"$T/mmpd.conf" <<CONF
[mmpd]
node_name = demo-node
socket = $T/mmpd.sock

[volume "demo"]
device = $dev
CONF
"$MMPD" --config "$T/mmpd.conf" 2>"$T/mmpd.log" &
pid=$!
for _ in $(seq 1 400); do grep -q "claimed" "$T/mmpd.log" && break; sleep 0.1; done
cat "$T/mmpd.log"
export MMPD_SOCKET="$T/mmpd.sock"

step "mmpctl shows the volume held"
if "$MMPCTL" status >/dev/null 2>&1; then run "$MMPCTL" status; fi
run "$MMPCTL" dump "$dev"

step "e2mmpstatus (another node asking) is refused: exit 1"
run e2mmpstatus "$peer"; echo "exit status: $?"

step "mount is refused, here and on the other node"
mkdir -p "$T/mnt"
run mount "$dev" "$T/mnt"; echo "exit status: $?"
run mount "$peer" "$T/mnt"; echo "exit status: $?"
dmesg | grep "already active on another node" | tail -1

step "release the volume"
if "$MMPCTL" release "$dev" 2>/dev/null; then :; else kill "$pid"; wait "$pid"; pid=; fi
sleep 0.5
tail -1 "$T/mmpd.log"
run e2mmpstatus "$peer"; echo "exit status: $?"
run mount "$peer" "$T/mnt" && echo "mounted on the other node" && umount "$T/mnt"
echo
echo "demo finished"
