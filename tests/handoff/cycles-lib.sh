# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cycles-lib.sh - back-to-back handoffs to the kernel, for tests/handoff/cycles.sh
# and tests/bench/handoff.sh.  Source after tap.sh and mmpd.sh.
#
#   cycles_run NVOL NCYC [POLL_US]
#
# NVOL images (update interval 1 s, W = 11 s), each with two loop devices:
# the volume's own, a static volume of one mmpd "H" (node name node-h, which
# claims them all at its start), and a peer view.  Every volume runs NCYC
# cycles in parallel with the others: `mmpctl mount DEV DIR`, then `mmpctl
# umount --keep DIR` (mmpd claims again: about W).  The volumes start 1.1 s
# apart, so that their handoffs do not coincide.
#
# A handoff window lasts well under a millisecond: polling every peer view all the
# time finely enough not to miss one would take both CPUs of a small machine
# (and so slow the handoffs down).  So tests/handoff/clean-window polls the
# peer view only around each handoff: started (every POLL_US, default 0:
# back to back; windows can be 0.2 ms and a sleep of 20 us takes ~80)
# 50 ms before the `mmpctl mount` and stopped once it has returned.
# Results, under $T/cyc:
#   results  one line per cycle:
#            VOL CYCLE MOUNT_RC MOUNT_US MOUNTED UMOUNT_RC UMOUNT_US MOUNTED_AFTER STATE_AFTER
#            (MOUNTED: the source findmnt shows on DIR after the mount, or
#            "none"; STATE_AFTER: mmpd's state of the volume after the umount)
#   windows  the handoff windows in microseconds, one a line: CLEAN episodes
#            whose CLEAN mmpd wrote (clean_node=node-h), "ESTIMATE AT_LEAST"
#            (clean-window's window_us and at_least_us: a read the machine
#            held up inflates the estimate by its duration, not AT_LEAST)
#   missed   one line per handoff whose window no sample saw (a read that
#            took milliseconds spanned it): an upper bound in microseconds,
#            two samples' worth (2 x clean-window's resolution_us)
#   vI.cw    clean-window's output for volume I, one run per handoff; vI.log
#            mmpctl's output
# CYCLES_NODE is mmpd's node name.

CYCLES_NODE=node-h
CLEAN_WINDOW="$top_builddir/tests/handoff/clean-window"

# timed OUT CMD...: run CMD, write its run time in microseconds (monotonic)
# to OUT, return its exit status
timed() {
        perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC -e '
                my $out = shift;
                my $t0 = clock_gettime(CLOCK_MONOTONIC);
                my $r = system(@ARGV);
                my $dt = clock_gettime(CLOCK_MONOTONIC) - $t0;
                open(my $f, ">", $out) or die "$out: $!";
                printf $f "%d\n", $dt * 1e6;
                exit($r == -1 ? 127 : ($r & 127) ? 128 + ($r & 127) : $r >> 8);
        ' "$@"
}

# mounted_source DIR: the device mounted on DIR, or "none"
mounted_source() {
        local s
        s=$(findmnt -n -o SOURCE --mountpoint "$1" 2>/dev/null | tail -n 1)
        echo "${s:-none}"
}

# _cycles_volume I DEV PEER NCYC POLL_US: one volume's cycles, appended to results
_cycles_volume() {
        local i=$1 dev=$2 peer=$3 n=$4 poll=$5 c dir="$T/cyc/mnt$1" sock mrc urc mt ut m1 m2 st cw
        sock=$(mmpd_sock H)
        mkdir -p "$dir"
        for c in $(seq 1 "$n"); do
                "$CLEAN_WINDOW" "$peer" 30 "$poll" >"$T/cyc/v$i.run" 2>&1 &
                cw=$!
                sleep 0.05
                timed "$T/cyc/v$i.t" "$MMPCTL" --socket "$sock" mount "$dev" "$dir" >>"$T/cyc/v$i.log" 2>&1
                mrc=$?
                kill -TERM "$cw" 2>/dev/null
                wait "$cw" 2>/dev/null
                cat "$T/cyc/v$i.run" >>"$T/cyc/v$i.cw"
                # a handoff that took place and that no sample saw
                [ "$mrc" -eq 0 ] &&
                        sed -n 's/^{"windows":0,.*"resolution_us":\([0-9]*\).*/\1/p' "$T/cyc/v$i.run" |
                        awk '{ print 2 * $1 }' >>"$T/cyc/missed"
                mt=$(cat "$T/cyc/v$i.t")
                m1=$(mounted_source "$dir")
                timed "$T/cyc/v$i.t" "$MMPCTL" --socket "$sock" umount --keep "$dir" >>"$T/cyc/v$i.log" 2>&1
                urc=$?
                ut=$(cat "$T/cyc/v$i.t")
                m2=$(mounted_source "$dir")
                st=$("$MMPCTL" --json --socket "$sock" status "$dev" 2>/dev/null | jq -r '.volumes[0].state // .state // "?"' 2>/dev/null)
                echo "$i $c $mrc $mt $m1 $urc $ut $m2 ${st:-?}" >>"$T/cyc/results"
                # a failed cycle leaves nothing mounted behind for the next one
                [ "$m2" = none ] || umount "$dir" 2>/dev/null
        done
}

# _cycles_state I: mmpd's state of volume vI
_cycles_state() {
        local dev
        read -r dev _ <"$T/cyc/v$1.devs"
        "$MMPCTL" --json --socket "$(mmpd_sock H)" status "$dev" 2>/dev/null | jq -r '.state // "?"' 2>/dev/null
}

cycles_run() {
        local nvol=$1 ncyc=$2 poll=${3:-0} i j img dev peer vols="" pids=""
        mkdir -p "$T/cyc"
        : >"$T/cyc/results"
        : >"$T/cyc/missed"
        for i in $(seq 1 "$nvol"); do
                img=$(mkimg "cyc$i" 1)
                dev=$(loop_attach "$img"); peer=$(loop_attach "$img")
                echo "$dev $peer" >"$T/cyc/v$i.devs"
                vols="$vols v$i=$dev"
                track_mount "$T/cyc/mnt$i"
        done
        # shellcheck disable=SC2086  # a word list
        start_mmpd H "$CYCLES_NODE" $vols
        # all claimed (W = 11 s, in parallel)
        for i in $(seq 1 "$nvol"); do
                for j in $(seq 1 300); do
                        [ "$(_cycles_state "$i")" = held ] && break
                        sleep 0.1
                done
        done
        for i in $(seq 1 "$nvol"); do
                read -r dev peer <"$T/cyc/v$i.devs"
                _cycles_volume "$i" "$dev" "$peer" "$ncyc" "$poll" &
                pids="$pids $!"
                [ "$i" -lt "$nvol" ] && sleep 1.1
        done
        # shellcheck disable=SC2086
        wait $pids
        sed -n "s/^window_us=\([0-9]*\) .* clean_node=$CYCLES_NODE at_least_us=\([0-9]*\)\$/\1 \2/p" \
                "$T"/cyc/v*.cw >"$T/cyc/windows"
}

# cycles_stats FILE [COLUMN]: "count p50 p90 max mean" of the numbers in
# FILE's COLUMN (default 1; nearest rank)
cycles_stats() {
        awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1; s += $1 }
                END {
                        if (NR == 0) { print "0 0 0 0 0"; exit }
                        p50 = v[int((NR + 1) * 0.5)]; p90 = v[int(NR * 0.9) > 0 ? int(NR * 0.9) : 1]
                        printf "%d %d %d %d %d\n", NR, p50, p90, v[NR], s / NR
                }'
}

# cycles_failures: the result lines of cycles that went wrong
cycles_failures() {
        local i d
        while read -r vol c mrc mt m1 urc ut m2 st; do
                read -r d _ <"$T/cyc/v$vol.devs"
                if [ "$mrc" != 0 ] || [ "$m1" != "$d" ] || [ "$urc" != 0 ] || [ "$m2" != none ] || [ "$st" != held ]; then
                        echo "volume $vol cycle $c: mount rc $mrc mounted $m1 (want $d); umount --keep rc $urc mounted $m2; state $st"
                fi
        done <"$T/cyc/results"
}
