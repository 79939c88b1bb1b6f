#!/bin/bash
# The mmpd demo: two nodes share one loop-backed ext4 volume with MMP.
# Node A's mmpd claims it; `mmpctl mount` hands it to the kernel and mounts
# it, watched; node B (its own mmpd) is refused, and so are plain mount and
# e2mmpstatus; A unmounts and releases; B mounts it and finds A's file.
# Run as root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates loop devices and mounts)"; exit 1; }
echo "== building mmpd"
"$top/tools/build.sh" || exit 1
B="$top/_build"
MMPD="$B/mmpd/mmpd"; MMPCTL="$B/mmpctl/mmpctl"

T=$(mktemp -d /tmp/mmpd-demo.XXXXXX)
cleanup() {
        umount "$T/a" 2>/dev/null; umount "$T/b" 2>/dev/null
        for p in ${pid_a:-} ${pid_b:-}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
        [ -n "${dev:-}" ] && losetup -d "$dev"
        [ -n "${peer:-}" ] && losetup -d "$peer"
        rm -rf "$T"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
a() { MMPD_SOCKET="$T/a.sock" "$MMPCTL" "$@"; }
b() { MMPD_SOCKET="$T/b.sock" "$MMPCTL" "$@"; }

step "a 64 MiB ext4 image with the mmp feature (update interval 1 s), seen by two nodes"
truncate -s 64M "$T/disk.img"
mkfs.ext4 -q -F -O mmp -E mmp_update_interval=1 "$T/disk.img"
dev=$(losetup -f --show --direct-io=on "$T/disk.img")    # node A's view
peer=$(losetup -f --show --direct-io=on "$T/disk.img")   # node B's view of the same disk
echo "node A: $dev   node B: $peer"
mkdir -p "$T/a" "$T/b"

step "start mmpd on node A (node-a) and node B (node-b)"
for n in a b; do
        printf '[mmpd]\nnode_name = node-%s\nsocket = %s/%s.sock\n' "$n" "$T" "$n" >"$T/$n.conf"
done
"$MMPD" --config "$T/a.conf" 2>"$T/a.log" & pid_a=$!
"$MMPD" --config "$T/b.conf" 2>"$T/b.log" & pid_b=$!
sleep 0.5

step "node A: mmpctl mount claims the volume (2 x 11 s at most), hands it to the kernel, mounts it"
printf '$ mmpctl mount %s %s\n' "$dev" "$T/a"
a mount "$dev" "$T/a" || exit 1
run a status
echo "written on node A at $(date)" >"$T/a/hello.txt" && sync
echo "wrote $T/a/hello.txt"

step "node B: e2mmpstatus, mmpctl mount and plain mount are all refused while A has it"
run e2mmpstatus "$peer"; echo "exit status: $?"
printf '$ mmpctl mount %s %s     (node B)\n' "$peer" "$T/b"
b mount "$peer" "$T/b"; echo "exit status: $?"
run mount "$peer" "$T/b"; echo "exit status: $?"
dmesg | grep "already active on another node" | tail -1

step "node A: mmpd may-use check, then unmount and release"
run a check "$dev"
printf '$ mmpctl umount %s\n' "$T/a"
a umount "$T/a"
run a status

step "node B: now it mounts, and A's file is there"
printf '$ mmpctl mount %s %s     (node B)\n' "$peer" "$T/b"
b mount "$peer" "$T/b" || exit 1
run cat "$T/b/hello.txt"
printf '$ mmpctl umount %s     (node B)\n' "$T/b"
b umount "$T/b"
echo
echo "== mmpd's log on node A"
cat "$T/a.log"
echo
echo "demo finished"
