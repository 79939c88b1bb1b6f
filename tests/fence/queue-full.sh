#!/bin/bash
# One sick device must not take the other volumes down with it.  A device
# whose request queue is full (hung, with other users' I/O in it) makes a
# submission to it wait for a slot; mmpd sends its I/O to block devices
# with RWF_NOWAIT, and what would wait goes again on a blocking lane of its
# own (one request each), so the other volumes' heartbeats go on.
#
# Three volumes in one mmpd.  Two loop devices have 4 request slots each,
# all taken by direct writes that their frozen backing file systems hold:
# "hung" for good, "busy" for 3 s, and busy's queue fills after hung's
# heartbeat is already waiting.  hung is lost and fenced, as it must be;
# busy's heartbeat resumes after its 3 s and it stays held; "good" keeps
# its heartbeat throughout (the e2fsprogs view of the MMP sequences).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs mkfs.ext4 fsfreeze dd mount
. "$top_srcdir/tests/lib/mmpd.sh"

# queue_set DEV KEY VALUE: loop devices outlive their attachment, and so do
# their queue settings: the old value (the selected one of a "[none] ..."
# list) goes to $T/sysfs, and the exit puts it back.
queue_set() {
        local f=/sys/block/${1#/dev/}/queue/$2 old
        old=$(cat "$f") || return 1
        if [[ $old == *\[*\]* ]]; then
                old=${old#*\[}
                old=${old%%\]*}
        fi
        echo "$f $old" >>"$T/sysfs"
        echo "$3" >"$f"
}
restore_sysfs() {
        local f v
        [ -f "$T/sysfs" ] || return 0
        tac "$T/sysfs" | while read -r f v; do echo "$v" >"$f" || echo "# putting back $f = $v failed"; done
}
trap 'fsfreeze -u "$T/hung.mnt" 2>/dev/null; fsfreeze -u "$T/busy.mnt" 2>/dev/null; restore_sysfs; _mmpd_cleanup' EXIT

# sick_dev NAME: an MMP image on a scratch ext4 of its own ($T/NAME.mnt),
# under a loop device with 4 request slots.
sick_dev() {
        local mnt=$T/$1.mnt dev
        truncate -s 128M "$T/$1.outer.img"
        mkfs.ext4 -q -F "$T/$1.outer.img" >/dev/null 2>&1 || bail_out "mkfs.ext4 failed"
        mkdir "$mnt"
        mount "$(loop_attach "$T/$1.outer.img")" "$mnt" || bail_out "mount failed"
        truncate -s 32M "$mnt/mmp.img"
        mkfs.ext4 -q -F -O mmp -E mmp_update_interval=1 "$mnt/mmp.img" >/dev/null 2>&1 || bail_out "mkfs.ext4 failed"
        dev=$(loop_attach "$mnt/mmp.img")
        { queue_set "$dev" scheduler none && queue_set "$dev" nr_requests 4; } ||
                bail_out "cannot set the queue of $dev"
        echo "$dev"
}

# fill NAME DEV: freeze NAME's file system and take DEV's 4 slots with
# direct writes far from the MMP block, which the freeze holds.
fill() {
        local blk held
        fsfreeze -f "$T/$1.mnt" || bail_out "fsfreeze failed"
        for blk in 2048 3072 4096 5120; do
                dd if=/dev/zero of="$2" bs=4096 count=1 seek=$blk oflag=direct conv=notrunc status=none &
        done
        sleep 0.3
        read -r _ held <"/sys/block/${2#/dev/}/inflight"
        is "$held" 4 "$1: the device's 4 request slots are taken"
}

hung=$(sick_dev hung)
busy=$(sick_dev busy)
track_mount "$T/hung.mnt"      # here: sick_dev ran in a subshell
track_mount "$T/busy.mnt"
good=$(loop_attach "$(mkimg good 1)")

start_mmpd A node-a "hung=$hung" "busy=$busy" "good=$good"
for i in $(seq 1 300); do
        [ "$(grep -c 'claimed' "$T/A.log" 2>/dev/null)" -ge 3 ] && break
        sleep 0.1
done
[ "$(grep -c 'claimed' "$T/A.log")" -ge 3 ] && ok "three volumes claimed" || bail_out "claims: $(cat "$T/A.log")"

t0=$(now_ms)
fill hung "$hung"
sleep 1.5               # hung's next heartbeat is waiting for a slot by now
fill busy "$busy"
t_busy=$(now_ms)

# Over hung's whole fall (W = 11 s at interval 1), sample the sequences
# every 0.25 s; busy's file system thaws after 3 s.  busy's sequence is
# read from its image file: a read through its device waits for a slot too.
good_prev="" good_changed=$(now_ms) good_gap=0
busy_before="" thaw_at="" resumed_after=""
while (( $(now_ms) - t0 < 16000 )); do
        if [ -z "$thaw_at" ] && (( $(now_ms) - t_busy >= 3000 )); then
                busy_before=$(mmp_field "$T/busy.mnt/mmp.img" sequence)
                fsfreeze -u "$T/busy.mnt"
                thaw_at=$(now_ms)
        fi
        s=$(mmp_field "$good" sequence) now=$(now_ms)
        if [ "$s" != "$good_prev" ]; then
                (( now - good_changed > good_gap )) && good_gap=$((now - good_changed))
                good_prev=$s good_changed=$now
        fi
        if [ -n "$thaw_at" ] && [ -z "$resumed_after" ] &&
           [ "$(mmp_field "$T/busy.mnt/mmp.img" sequence)" != "$busy_before" ]; then
                resumed_after=$(( $(now_ms) - thaw_at ))
        fi
        sleep 0.25
done
(( $(now_ms) - good_changed > good_gap )) && good_gap=$(( $(now_ms) - good_changed ))
diag "good: longest time without a new sequence ${good_gap} ms; busy: heartbeat back ${resumed_after:-never} ms after its thaw"
(( good_gap < 3000 )) && ok "good: the heartbeat never stopped (longest gap ${good_gap} ms, interval 1 s)" ||
        not_ok "good: the heartbeat never stopped" "longest gap ${good_gap} ms"
# busy's waiting request lands at the thaw; one queued behind hung's
# would wait for its own deadline and a retry instead.
[ -n "$resumed_after" ] && (( resumed_after < 2000 )) &&
        ok "busy: heartbeat back ${resumed_after} ms after its thaw (interval 1 s)" ||
        not_ok "busy: heartbeat back within 2 s of its thaw" "${resumed_after:-never}"
grep -qE 'volume hung .*(LOST|fence done)' "$T/A.log" && ok "hung: lost and fenced" ||
        not_ok "hung fenced" "$(grep -E 'LOST|fence' "$T/A.log")"
for v in good busy; do
        grep -E 'LOST|fence ' "$T/A.log" | grep -q "volume $v " && not_ok "$v: not lost" "$(grep "volume $v " "$T/A.log")" ||
                ok "$v: not lost"
done

fsfreeze -u "$T/hung.mnt"
wait
sleep 2
for v in good busy; do
        dev=${!v}
        s1=$(mmp_field "$dev" sequence); sleep 1.5; s2=$(mmp_field "$dev" sequence)
        [ "$s1" != "$s2" ] && ok "$v: still held after the thaw ($s1 -> $s2)" || not_ok "$v: still held" "$s1"
done
stop_mmpd A TERM
done_testing
