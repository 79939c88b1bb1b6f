#!/bin/bash
# Fencing a kernel mount that mmpd watches (docs/handoff.md §2): update
# interval 1 s, W = 11 s, margin 2 s.
#  a. a rogue node writes the MMP block every 0.5 s from time R (kmmpd never
#     notices): writes to the mount fail (FS_IOC_SHUTDOWN) before R + W; the
#     status says lost with the fence's outcome; shutdown ran before kill;
#  b. all I/O of the device stalls under the mount: LOST, and the fence done,
#     before the last change + W (fence deadline_usec);
#  c. the mount is frozen (fsfreeze): kmmpd stops writing; LOST with -ESTALE
#     ("the local user's heartbeat stopped landing") before last change + W.
# Each part has its own mmpd (A, B, C); the three claims run together.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/handoff/private-ns.sh"
require_cmd losetup mount umount mkfs.ext4 jq fsfreeze dd awk
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/fence/fence.sh"
have_fuse=
if [ -e /dev/fuse ] && [ -x "$top_builddir/tests/faultdev/mmp-faultdev" ]; then
        . "$top_srcdir/tests/lib/faultdev.sh"
        have_fuse=1
        trap 'faultdev_stop; kill_bg; _mmpd_cleanup' EXIT
else
        trap 'kill_bg; _mmpd_cleanup' EXIT
fi
W_USEC=11000000

_bg=""
kill_bg() {
        local p
        for p in $_bg; do kill "$p" 2>/dev/null; done
        for p in $_bg; do wait "$p" 2>/dev/null; done
        _bg=""
}

# status_poll NAME OUT: one `mmpctl --json status` line every 100 ms
status_poll() {
        while :; do
                "$MMPCTL" --json --socket "$(mmpd_sock "$1")" status 2>/dev/null && echo
                sleep 0.1
        done >>"$2" &
        _bg="$_bg $!"
}

# last_change OUT: use.last_change_usec in the last poll that showed in_use
last_change() {
        jq -r 'select(.volumes[0].state == "in_use") | .volumes[0].use.last_change_usec // empty' "$1" 2>/dev/null |
                tail -n 1
}

# status NAME: the first volume of mmpd NAME, as JSON
status() {
        "$MMPCTL" --json --socket "$(mmpd_sock "$1")" status 2>&1 | jq -c '.volumes[0]' 2>/dev/null
}

# mount_it NAME DEV DIR: mmpctl mount, tracked for cleanup
mount_it() {
        mkdir -p "$3"
        track_mount "$3"
        "$MMPCTL" --socket "$(mmpd_sock "$1")" mount "$2" "$3" >"$T/$1.mount.out" 2>&1
}

# fence_checks NAME PART [stalled]: outcome, status, stage order, margin of
# the fence.  With "stalled" (the device's I/O is held), FS_IOC_SHUTDOWN
# sets the shutdown flag and then blocks in jbd2's abort, which writes the
# journal superblock: the stage times out and the outcome is "failed", which
# is what mmpd can honestly say (the test checks the flag after the stall).
fence_checks() {
        local name=$1 part=$2 stalled=${3:-} st order fin dl outcome
        wait_log "$name" "fence done" 15 && ok "$part: fence finished" || not_ok "$part: fence finished"
        st=$(status "$name")
        outcome=$(jq -r '"\(.state) \(.fence.stage) \(.fence.outcome)"' <<<"$st")
        if [ "$outcome" = "lost done fenced" ]; then
                ok "$part: mmpctl status: lost, fence done, outcome fenced"
        elif [ -n "$stalled" ] && [ "$outcome" = "lost done failed" ] &&
             grep -q "fence shutdown: FS_IOC_SHUTDOWN did not finish" "$T/$name.log" &&
             ! grep -qE "fence (kill|hook).*(fail|surviv)" "$T/$name.log"; then
                ok "$part: mmpctl status: lost, fence done, outcome failed (only FS_IOC_SHUTDOWN, blocked on the stalled device, timed out)"
        else
                not_ok "$part: mmpctl status: lost, fence done, outcome fenced" "$st" "$(grep 'fence ' "$T/$name.log")"
        fi
        order=$(grep -oE "fence (notify|hook|kill|shutdown|done):" "$T/$name.log" | awk '{ print $2 }' |
                uniq | tr -d ':' | tr '\n' ' ')
        case "$order" in
        *shutdown*kill*done*) ok "$part: FS_IOC_SHUTDOWN before the kill stage ($order)" ;;
        *) not_ok "$part: FS_IOC_SHUTDOWN before the kill stage" "order: $order" "$(grep 'fence ' "$T/$name.log")" ;;
        esac
        if grep -q "fence shutdown: 1 mount(s) shut down" "$T/$name.log"; then
                ok "$part: the mount was shut down"
        elif [ -n "$stalled" ] && grep -q "fence shutdown: FS_IOC_SHUTDOWN on each mount" "$T/$name.log"; then
                ok "$part: FS_IOC_SHUTDOWN issued on the mount (it blocks on the stalled device)"
        else
                not_ok "$part: the mount was shut down" "$(grep 'fence shutdown' "$T/$name.log")"
        fi
        fin=$(jq -r '.fence.finished_usec // 0' <<<"$st")
        dl=$(jq -r '.fence.deadline_usec // 0' <<<"$st")
        FENCE_FIN=$fin FENCE_DL=$dl FENCE_START=$(jq -r '.fence.started_usec // 0' <<<"$st")
}

# part X: is part X selected (FENCE_PARTS="a b c", the default, for debugging)
part() {
        case " ${FENCE_PARTS:-a b c} " in *" $1 "*) return 0 ;; esac
        return 1
}

# --- set up the parts, claims in parallel
if part a; then
        img_a=$(mkimg a 1); dev_a=$(loop_attach "$img_a"); peer_a=$(loop_attach "$img_a")
        start_mmpd A node-a "v=$dev_a"
fi
if part c; then
        img_c=$(mkimg c 1); dev_c=$(loop_attach "$img_c")
        start_mmpd C node-c "v=$dev_c"
fi
dev_b=
if part b && [ -n "$have_fuse" ]; then
        img_b=$(mkimg b 1)
        if faultdev_start "$img_b"; then
                dev_b=$FAULTDEV_LOOP
                start_mmpd B node-b "v=$dev_b"
        fi
fi

# ============================================================ a. rogue node
part_a() {
        mnt_a="$T/mnt-a"
        wait_log A "claimed" 40 || true
        if mount_it A "$dev_a" "$mnt_a"; then
                ok "a: mmpctl mount ($(cat "$T/A.mount.out"))"
        else
                not_ok "a: mmpctl mount" "$(cat "$T/A.mount.out")"
        fi
        is "$(status A | jq -r '"\(.state) \(.use.user) \(.use.phase)"')" "in_use kernel in_use" "a: status: in use by the kernel"
        dd if=/dev/zero of="$mnt_a/f" bs=4096 count=1 oflag=direct 2>/dev/null &&
                ok "a: control: the mount takes writes" || not_ok "a: control: the mount takes writes"

        # writer: an O_DIRECT write every ~20 ms; stamps the first failure (boottime usec)
        (
                cd /
                while :; do
                        if ! dd if=/dev/zero of="$mnt_a/f" bs=4096 count=1 oflag=direct conv=notrunc 2>"$T/a.dd.err"; then
                                echo "$(uptime_usec) $(tail -n 1 "$T/a.dd.err")" >"$T/a.fail"
                                break
                        fi
                        sleep 0.02
                done
        ) & writer=$!
        _bg="$_bg $writer"
        sleep 1.5
        # rogue: seq with node "intruder" every 0.5 s through the peer device from R
        (
                i=5000
                while :; do
                        "$MMP_EDIT" "$peer_a" seq=$i node=intruder dev=sdz >/dev/null 2>&1
                        [ -f "$T/a.R" ] || uptime_usec >"$T/a.R"
                        i=$((i + 1))
                        sleep 0.5
                done
        ) & rogue=$!
        _bg="$_bg $rogue"
        for _ in $(seq 1 150); do [ -f "$T/a.fail" ] && break; sleep 0.1; done
        kill "$rogue" 2>/dev/null
        R=$(cat "$T/a.R" 2>/dev/null)
        if [ -f "$T/a.fail" ]; then
                read -r t_fail err <"$T/a.fail"
                case "$err" in
                *"Input/output error"*|*"Read-only file system"*)
                        ok "a: writes to the mount fail: $err" ;;
                *) not_ok "a: writes to the mount fail with EIO or EROFS" "$err" ;;
                esac
                margin_a=$(( (R + W_USEC - t_fail) / 1000 ))
                [ "$margin_a" -gt 0 ] && ok "a: filesystem shut down before R + W (margin ${margin_a} ms)" ||
                        not_ok "a: filesystem shut down before R + W" "R=$R fail=$t_fail margin ${margin_a} ms"
                diag "a: rogue from R; first failed write $(( (t_fail - R) / 1000 )) ms after R; margin R + W - shutdown = ${margin_a} ms"
        else
                not_ok "a: writes to the mount fail" "still writable 15 s after R" "$(tail -5 "$T/A.log")"
                not_ok "a: filesystem shut down before R + W"
        fi
        grep -q "LOST while in use by kernel mount .*another node (node 'intruder'" "$T/A.log" &&
                ok "a: LOST: another node" || not_ok "a: LOST: another node" "$(grep LOST "$T/A.log")"
        fence_checks A a
        [ "$FENCE_FIN" -gt 0 ] && [ "$FENCE_FIN" -lt $((R + W_USEC)) ] &&
                ok "a: fence done $(( (R + W_USEC - FENCE_FIN) / 1000 )) ms before R + W ($(( (FENCE_DL - FENCE_FIN) / 1000 )) ms before its deadline)" ||
                not_ok "a: fence done before R + W" "R=$R finished=$FENCE_FIN"
        kill_bg
        umount "$mnt_a" 2>/dev/null || umount -l "$mnt_a"
        stop_mmpd A TERM
}

# ============================================================ b. stalled device
part_b() {
        if [ -z "$dev_b" ]; then
                for d in "mmpctl mount" "LOST" "fence finished" "status" "order" "shut down" "deadline" "before deadline" "EIO after"; do
                        if in_ci; then not_ok "b: $d" "needs /dev/fuse"; else skip "b: $d" "needs /dev/fuse and mmp-faultdev"; fi
                done
        else
                mnt_b="$T/mnt-b"
                wait_log B "claimed" 40 || true
                if mount_it B "$dev_b" "$mnt_b"; then
                        ok "b: mmpctl mount on the fault device ($(cat "$T/B.mount.out"))"
                else
                        not_ok "b: mmpctl mount on the fault device" "$(cat "$T/B.mount.out")"
                fi
                status_poll B "$T/b.status"
                sleep 2.5
                t_stall=$(uptime_usec)
                faultdev_cmd "stall all" || not_ok "b: stall all I/O"
                wait_log B "LOST" 15
                grep -q "LOST while in use by kernel mount" "$T/B.log" &&
                        ok "b: LOST $(( ($(uptime_usec) - t_stall) / 1000 )) ms after the stall: $(grep -o 'LOST while in use by kernel mount [^:]*: [^(]*' "$T/B.log")" ||
                        not_ok "b: LOST while in use" "$(tail -5 "$T/B.log")"
                fence_checks B b stalled
                kill_bg
                lc=$(last_change "$T/b.status")
                is "$FENCE_DL" "$((lc + W_USEC))" "b: fence deadline is the last change + W (last change $(( (t_stall - lc) / 1000 )) ms before the stall)"
                if [ -n "$lc" ] && [ "$FENCE_FIN" -gt 0 ] && [ "$FENCE_FIN" -lt $((lc + W_USEC)) ]; then
                        ok "b: fence done before last change + W: LOST at +$(( (FENCE_START - lc) / 1000 )) ms, done at +$(( (FENCE_FIN - lc) / 1000 )) ms, margin $(( (lc + W_USEC - FENCE_FIN) / 1000 )) ms"
                else
                        not_ok "b: fence done before last change + W" "last_change=$lc started=$FENCE_START finished=$FENCE_FIN"
                fi
                # Where FS_IOC_SHUTDOWN waits (for the report), then let the I/O go.
                for t in /proc/"$(mmpd_pid B)"/task/*; do
                        grep -q "^State:.*D (disk sleep)" "$t/status" 2>/dev/null &&
                                diag "b: mmpd thread ${t##*/} in D state: $(awk '{ print $2 }' "$t/stack" 2>/dev/null | head -8 | tr '\n' ' ')"
                done
                faultdev_cmd clear
                sleep 0.5
                if (cd / && dd if=/dev/zero of="$mnt_b/f" bs=4096 count=1 oflag=direct 2>"$T/b.dd.err"); then
                        not_ok "b: after the stall the mount refuses writes (shut down)"
                else
                        ok "b: after the stall the mount refuses writes: $(tail -n 1 "$T/b.dd.err")"
                fi
                umount "$mnt_b" 2>"$T/b.umount.err" || { diag "b: umount: $(cat "$T/b.umount.err")"; umount -l "$mnt_b"; }
                stop_mmpd B TERM
        fi
}

# ============================================================ c. frozen mount
part_c() {
        mnt_c="$T/mnt-c"
        wait_log C "claimed" 40 || true
        if mount_it C "$dev_c" "$mnt_c"; then
                ok "c: mmpctl mount ($(cat "$T/C.mount.out"))"
        else
                not_ok "c: mmpctl mount" "$(cat "$T/C.mount.out")"
        fi
        status_poll C "$T/c.status"
        sleep 2.5
        t_freeze=$(uptime_usec)
        check "c: fsfreeze -f" fsfreeze -f "$mnt_c"
        wait_log C "LOST" 15
        if grep -q "LOST while in use by kernel mount .*the local user's heartbeat stopped landing" "$T/C.log"; then
                ok "c: LOST $(( ($(uptime_usec) - t_freeze) / 1000 )) ms after the freeze: the local user's heartbeat stopped landing"
        else
                not_ok "c: LOST: the local user's heartbeat stopped landing" "$(grep LOST "$T/C.log")"
        fi
        fence_checks C c
        kill_bg
        lc=$(last_change "$T/c.status")
        is "$FENCE_DL" "$((lc + W_USEC))" "c: fence deadline is the last change + W"
        if [ -n "$lc" ] && [ "$FENCE_START" -gt 0 ] && [ "$FENCE_START" -lt $((lc + W_USEC)) ] &&
           [ "$FENCE_FIN" -gt 0 ] && [ "$FENCE_FIN" -lt $((lc + W_USEC)) ]; then
                ok "c: LOST at last change +$(( (FENCE_START - lc) / 1000 )) ms, fence done at +$(( (FENCE_FIN - lc) / 1000 )) ms, margin $(( (lc + W_USEC - FENCE_FIN) / 1000 )) ms before last change + W"
        else
                not_ok "c: LOST and fenced before last change + W" "last_change=$lc started=$FENCE_START finished=$FENCE_FIN"
        fi
        check "c: fsfreeze -u" fsfreeze -u "$mnt_c"
        umount "$mnt_c" 2>/dev/null || umount -l "$mnt_c"
        stop_mmpd C TERM
}

part a && part_a
part b && part_b
part c && part_c
done_testing
