#!/bin/bash
# One sick device must not take the other volumes down with it.  A device
# whose request queue is full (hung, with other users' I/O in it) makes a
# submission to it wait for a slot; mmpd sends its I/O to block devices
# with RWF_NOWAIT, and what would wait goes on a lane of its own, so the
# other volumes' heartbeats go on.  Here the sick volume's loop device has
# 4 request slots, all taken by direct writes that its frozen backing file
# system holds.  The sick volume is lost and fenced, as it must be; the
# healthy one, in the same mmpd, keeps its heartbeat (the e2fsprogs view of
# its MMP sequence) and stays held.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs mkfs.ext4 fsfreeze dd mount
. "$top_srcdir/tests/lib/mmpd.sh"

mnt=$T/mnt
trap 'fsfreeze -u "$mnt" 2>/dev/null; _mmpd_cleanup' EXIT

# The sick volume's image lives on a scratch ext4 that the test freezes.
truncate -s 128M "$T/outer.img"
mkfs.ext4 -q -F "$T/outer.img" >/dev/null 2>&1 || bail_out "mkfs.ext4 failed"
mkdir "$mnt"
mount "$(loop_attach "$T/outer.img")" "$mnt" || bail_out "mount failed"
track_mount "$mnt"
truncate -s 32M "$mnt/sick.img"
mkfs.ext4 -q -F -O mmp -E mmp_update_interval=1 "$mnt/sick.img" >/dev/null 2>&1 || bail_out "mkfs.ext4 failed"
sick=$(loop_attach "$mnt/sick.img")
q=/sys/block/${sick#/dev/}/queue
echo none >"$q/scheduler" && echo 4 >"$q/nr_requests" || bail_out "cannot set $q"
good=$(loop_attach "$(mkimg good 1)")

start_mmpd A node-a "sick=$sick" "good=$good"
for i in $(seq 1 300); do
        [ "$(grep -c 'claimed' "$T/A.log" 2>/dev/null)" -ge 2 ] && break
        sleep 0.1
done
[ "$(grep -c 'claimed' "$T/A.log")" -ge 2 ] && ok "both volumes claimed" || bail_out "claims: $(cat "$T/A.log")"

# Fill the sick device's queue: 4 direct writes far from the MMP block,
# held by the frozen file system under it.
fsfreeze -f "$mnt" || bail_out "fsfreeze failed"
t0=$(now_ms)
for blk in 2048 3072 4096 5120; do
        dd if=/dev/zero of="$sick" bs=4096 count=1 seek=$blk oflag=direct conv=notrunc status=none &
done
sleep 0.5
read -r _ held <"/sys/block/${sick#/dev/}/inflight"
is "$held" 4 "the sick device's 4 request slots are taken"

# Over the sick volume's whole fall (W = 11 s at interval 1), sample the
# healthy volume's sequence once a second.
seqs=() stalls=0 prev=""
while (( $(now_ms) - t0 < 16000 )); do
        s=$(mmp_field "$good" sequence)
        [ -n "$prev" ] && [ "$s" = "$prev" ] && stalls=$((stalls + 1))
        seqs+=("$s") prev=$s
        sleep 1
done
diag "healthy volume's MMP sequence, once a second: ${seqs[*]}"
is "$stalls" 0 "the healthy volume's heartbeat never stopped (${#seqs[@]} samples)"
grep -qE 'sick.*(LOST|fence done)|(LOST|fence done).*sick' "$T/A.log" && ok "the sick volume was lost and fenced" ||
        not_ok "sick volume fenced" "$(grep -E 'LOST|fence' "$T/A.log")"
grep -E 'LOST|fence ' "$T/A.log" | grep -q 'volume good ' && not_ok "healthy volume fenced" "$(grep good "$T/A.log")" ||
        ok "the healthy volume was not lost"

fsfreeze -u "$mnt"
wait
sleep 2
s1=$(mmp_field "$good" sequence); sleep 2; s2=$(mmp_field "$good" sequence)
[ "$s1" != "$s2" ] && ok "healthy volume still held after the thaw ($s1 -> $s2)" || not_ok "healthy still held" "$s1"
stop_mmpd A TERM
done_testing
