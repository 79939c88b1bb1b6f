#!/bin/bash
# A rogue write takes the volume: every stage runs, in order, and all of them
# finish before the last good write + W.  Local users of the device (an open
# fd, a cwd and an open file on a mount of it, one that ignores SIGTERM) are
# gone, and the read-only mount of the device answers EIO after
# FS_IOC_SHUTDOWN.  The mount needs exclusive = no (docs/fencing.md).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs mount mkfs.ext4 awk
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/fence/fence.sh"

mkdir -p "$T/root" "$T/mnt"
head -c 1048576 /dev/urandom >"$T/root/data"
truncate -s 32M "$T/r.img"
mkfs.ext4 -q -F -O mmp -E mmp_update_interval=1 -d "$T/root" "$T/r.img" >/dev/null 2>&1 || bail_out "mkfs.ext4 -d failed"
dev=$(loop_attach "$T/r.img"); peer=$(loop_attach "$T/r.img")
stamp_hook "$T/hook" "$T/hook.out"
fence_start A "$dev" exclusive=no fence_hook="$T/hook"
wait_log A "claimed" 40 && ok "claimed with exclusive = no" || not_ok "claimed"

if mount -o ro "$dev" "$T/mnt" 2>"$T/mount.err"; then
        track_mount "$T/mnt"; ok "read-only mount of the held device"
else
        not_ok "read-only mount of the held device" "$(cat "$T/mount.err")"
fi
dd if="$T/mnt/data" of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null &&
        ok "control: the mount reads before the loss" || not_ok "control: the mount reads before the loss"
(cd "$T/mnt" && exec sleep 1000) & p_cwd=$!
tail -f "$T/mnt/data" >/dev/null 2>&1 & p_file=$!
(trap '' TERM; exec sleep 1000) <"$dev" & p_dev=$!
sleep 1.5

"$MMP_EDIT" "$peer" seq=4242 node=intruder dev=sdz >/dev/null || bail_out "rogue write failed"
wait_log A "fence done" 15 && ok "fence finished" || not_ok "fence finished"
t_seen=$(uptime_usec)
deadline=$(log_field A 'peer_write_at_usec=([0-9]+)')
margin=$(log_field A 'margin_ms=(-?[0-9]+)')
grep -q "fence done: finished: fenced" "$T/A.log" && ok "outcome: fenced" || not_ok "outcome: fenced" "$(grep 'fence ' "$T/A.log")"

# order of the stages in the log
order=$(grep -oE "fence (notify|hook|kill|shutdown|done):" "$T/A.log" | awk '{ print $2 }' | uniq | tr -d ':' | tr '\n' ' ')
is "$order" "notify hook kill shutdown done " "stages in order"
n_ids=$(grep -oE "MESSAGE_ID=[0-9a-f]{32}" "$T/A.log" | sort -u | wc -l)
is "$n_ids" 5 "five distinct MESSAGE_IDs (notify hook kill shutdown done)"

# the hook saw its environment and ran before the deadline
read -r h_stage h_now h_deadline h_vol h_dev h_rest <"$T/hook.out"
is "$h_stage $h_vol $h_dev" "hook v $dev" "hook: MMPD_STAGE, MMPD_VOLUME, MMPD_DEVICE"
is "$h_deadline" "$deadline" "hook: MMPD_DEADLINE_USEC is peer_write_at"
case "$h_rest" in "[the MMP block shows another node]"*) ok "hook: MMPD_REASON";; *) not_ok "hook: MMPD_REASON" "$h_rest";; esac
[ "$h_now" -lt "$h_deadline" ] && ok "hook ran $(( (h_deadline - h_now) / 1000 )) ms before the deadline" || not_ok "hook before deadline"
w_left=$(( (h_deadline - h_now) / 1000 ))
[ "$w_left" -le 11000 ] && ok "deadline is within W (11 s) of the loss ($w_left ms)" || not_ok "deadline within W" "$w_left ms"

for p in $p_cwd $p_file $p_dev; do
        if kill -0 "$p" 2>/dev/null; then not_ok "user $p is gone"; else ok "user $p is gone"; fi
done
grep -q "SIGKILL to 1 process" "$T/A.log" && ok "the SIGTERM-ignoring user got SIGKILL" || not_ok "SIGKILL" "$(grep 'fence kill' "$T/A.log")"
if dd if="$T/mnt/data" of=/dev/null bs=4096 count=1 iflag=direct 2>"$T/dd.err"; then
        not_ok "the shut-down filesystem refuses I/O"
else
        ok "the shut-down filesystem refuses I/O ($(tail -n 1 "$T/dd.err" | head -c 60))"
fi

[ -n "$margin" ] && [ "$margin" -gt 0 ] && ok "all stages done before last good write + W" || not_ok "before deadline" "margin=$margin"
diag "measured margin (deadline - fence completion): ${margin} ms (mmpd's clock); deadline - first observation by the test: $(( (deadline - t_seen) / 1000 )) ms"
st=$("$MMPCTL" --json --socket "$(mmpd_sock A)" status 2>&1)
case "$st" in *'"fence"'*'"stage"'*'"done"'*'"outcome"'*'"fenced"'*) ok "status shows the fence";;
        *) not_ok "status shows the fence" "$st";; esac
case "$st" in *"\"peer_write_at_usec\"":*"$deadline"*) ok "status shows peer_write_at_usec";;
        *) not_ok "status shows peer_write_at_usec" "$st";; esac
is "$(mmp_field "$dev" sequence)" 00001092 "mmpd did not write over the intruder"
umount "$T/mnt"
stop_mmpd A TERM
done_testing
