#!/bin/bash
# Benchmark: mmpd side by side with real peers, as ratios (docs/benchmarks.md).
#
#  1. sanlock: BENCH_SANLOCK_LEASES (100) lockspaces on files, its daemon
#     without watchdog, on a private run directory (SANLOCK_RUN_DIR) so the
#     host's sanlock, if any, is not touched; against one mmpd holding as
#     many volumes on image files, over the same window: CPU per renewal
#     (sanlock renews each delta lease every 20 s; renewals are counted from
#     its renewal history) and RSS per lease.
#  2. the kernel: BENCH_KMMPD_VOLUMES (20) ext4 filesystems with MMP
#     (update interval 5 s) mounted from loop devices: CPU of their kmmpd
#     threads (/proc/TID/schedstat) against mmpd holding the same loop
#     devices unmounted, in a second run; I/Os counted on the loop devices.
#
# Windows of BENCH_PEER_SECONDS (BENCH_SECONDS, 60) s.  Root (loop devices,
# mounts).  BENCH_PEERS=0 skips it all.  Exit status 1 if mmpd lost or
# refused a volume, or a peer could not be run.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"

if [ "${BENCH_PEERS:-1}" = 0 ]; then
        echo "peers: skipped (BENCH_PEERS=0)"
        exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
        echo "peers: needs root (loop devices, mounts)"
        exit 1
fi
for c in sanlock losetup mkfs.ext4 mount umount "$MMPD" "$BENCH_CLIENT"; do
        command -v "$c" >/dev/null 2>&1 || { echo "peers: needs $c (tools/install-deps.sh)"; exit 1; }
done
NS=${BENCH_SANLOCK_LEASES:-100}
NK=${BENCH_KMMPD_VOLUMES:-20}
SECS=${BENCH_PEER_SECONDS:-${BENCH_SECONDS:-60}}
INTERVAL=5
SHIM="$top_builddir/tests/bench/.libs/librlimit-shim.so"

T=$(mktemp -d /var/tmp/mmpd-peers.XXXXXX)
export SANLOCK_RUN_DIR="$T/sanlock/run"
sl= mp= loops= mounts=
cleanup() {
        local m l
        for m in $mounts; do umount -l "$m" 2>/dev/null; done
        [ -n "$sl" ] && sanlock client shutdown -f 1 >/dev/null 2>&1
        for p in $sl $mp; do kill -KILL "$p" 2>/dev/null; done
        for l in $loops; do losetup -d "$l" 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT
failed=0
lost=0

# mmpd_run NAME DEVICE...: start an mmpd holding DEVICE...; sets mp
mmpd_run() {
        local name=$1
        shift
        mmpd_conf "$T/$name.conf" "$T/$name.sock" "$#" "$@"
        "$MMPD" --config "$T/$name.conf" 2>"$T/$name.log" &
        mp=$!
}
# mmpd_wait NAME N: until N claimed (600 s at most)
mmpd_wait() {
        local i
        for i in $(seq 1 6000); do
                [ "$(claimed "$T/$1.log")" -ge "$2" ] && return 0
                kill -0 "$mp" 2>/dev/null || break
                sleep 0.1
        done
        echo "mmpd $1: $(claimed "$T/$1.log") of $2 claimed; log:"; tail "$T/$1.log"
        return 1
}
# mmpd_stop NAME N: check all N are held, stop it; counts into lost
mmpd_stop() {
        local held
        "$BENCH_CLIENT" state "$T/$1.sock" >"$T/$1.end" 2>&1
        held=$(awk '$1 == "state" && $2 == "held" { print $3 }' "$T/$1.end")
        [ "${held:-0}" -eq "$2" ] || { echo "mmpd $1: ${held:-0} of $2 held at the end"; lost=$((lost + 1)); }
        kill -TERM "$mp"; wait "$mp"; mp=
}
# beats NAME N WALL_MS S0 S1: heartbeats in a window, from mmpd's stats or computed
beats() {
        if [ "$(stat_get "$5" stats)" -gt 0 ] 2>/dev/null; then
                echo $(( $(stat_get "$5" beats) - $(stat_get "$4" beats) ))
        else
                echo $(( $2 * $3 / (INTERVAL * 1000) ))
        fi
}
# loop_ios DEV...: reads + writes completed on these block devices
loop_ios() {
        local d
        for d in "$@"; do awk '{ print $1 + $5 }' "/sys/block/${d#/dev/}/stat"; done |
                awk '{ s += $1 } END { print s + 0 }'
}

# ---- 1. sanlock vs mmpd ----------------------------------------------------
mkdir -p "$SANLOCK_RUN_DIR" "$T/img"
mmp_template "$T/template.img" || exit 1
imgs=
for i in $(seq 1 "$NS"); do
        truncate -s 1M "$T/sanlock/ls$i"
        sanlock direct init -s "B$i:0:$T/sanlock/ls$i:0" >/dev/null || { echo "sanlock direct init failed"; exit 1; }
        cp --sparse=always "$T/template.img" "$T/img/$i.img"
        imgs="$imgs $T/img/$i.img"
done
# mmpd with nothing to hold: the baseline for RSS per volume
mmpd_conf "$T/none.conf" "$T/none.sock" 1
"$MMPD" --config "$T/none.conf" 2>"$T/none.log" &
mp=$!
sleep 1
mrss0=$(rss_kb "$mp")
kill -TERM "$mp"; wait "$mp"; mp=

# -w 0: no watchdog; -l 0 -h 0: no mlockall, no real-time priority (the
# shim lets it start where raising their limits is not allowed); -t: a
# worker per lockspace, so the adds run together (each waits 20 s); -D
# keeps it in the foreground, its log on stderr; -L/-S -1: no log file,
# no syslog.
LD_PRELOAD="$SHIM" sanlock daemon -D -w 0 -l 0 -h 0 -t $((NS + 8)) -U root -G root -L -1 -S -1 \
        -e mmpd-bench 2>"$T/sanlock/daemon.log" &
sl=$!
for i in $(seq 1 100); do [ -S "$SANLOCK_RUN_DIR/sanlock.sock" ] && break; sleep 0.1; done
[ -S "$SANLOCK_RUN_DIR/sanlock.sock" ] || { echo "sanlock daemon did not start:"; tail "$T/sanlock/daemon.log"; exit 1; }
srss0=$(rss_kb "$sl")
mmpd_run m100 $imgs
adds=()
for i in $(seq 1 "$NS"); do
        sanlock client add_lockspace -s "B$i:1:$T/sanlock/ls$i:0" >"$T/sanlock/add$i" 2>&1 &
        adds+=($!)
done
wait "${adds[@]}"
nadded=$(grep -l 'add_lockspace done 0' "$T/sanlock/add"* | wc -l)
mmpd_wait m100 "$NS" || failed=1
sleep 2

renewals() {            # renewals: entries in all lockspaces' renewal histories
        local i
        for i in $(seq 1 "$NS"); do sanlock client renewal -s "B$i"; done 2>/dev/null | grep -c '^timestamp='
}
r0=$(renewals)
"$BENCH_CLIENT" state "$T/m100.sock" >"$T/m100.s0"
c0s=$(cpu_snap "$sl"); c0m=$(cpu_snap "$mp"); w0=$(mono_ms)
sleep "$SECS"
c1s=$(cpu_snap "$sl"); c1m=$(cpu_snap "$mp"); w1=$(mono_ms)
"$BENCH_CLIENT" state "$T/m100.sock" >"$T/m100.s1"
r1=$(renewals)
srss=$(rss_kb "$sl")
mrss=$(rss_kb "$mp")
scpu=$(cpu_ns "$c0s" "$c1s")
mcpu=$(cpu_ns "$c0m" "$c1m")
wall=$((w1 - w0))
nren=$((r1 - r0)) ren_src=counted
# all lockspaces renew in step: a window shorter than 20 s may see none
[ "$nren" -gt 0 ] || { nren=$(( NS * wall / 20000 )); ren_src="computed: none in the window"; }
mbeats=$(beats m100 "$NS" "$wall" "$T/m100.s0" "$T/m100.s1")
mmpd_stop m100 "$NS"
rems=()
for i in $(seq 1 "$NS"); do
        sanlock client rem_lockspace -s "B$i:1:$T/sanlock/ls$i:0" >/dev/null 2>&1 &
        rems+=($!)
done
wait "${rems[@]}"
sanlock client shutdown >/dev/null 2>&1
for i in $(seq 1 100); do kill -0 "$sl" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sl" 2>/dev/null && { echo "sanlock did not shut down; SIGTERM"; kill -TERM "$sl"; }
wait "$sl"; sl=

# ---- 2. kmmpd vs mmpd ------------------------------------------------------
mkdir -p "$T/k"
devs=
for i in $(seq 1 "$NK"); do
        truncate -s 16M "$T/k/$i.img"
        mkfs.ext4 -q -F -O mmp -E mmp_update_interval=$INTERVAL "$T/k/$i.img" >/dev/null 2>&1
        d=$(losetup -f --show --direct-io=on "$T/k/$i.img") || { echo "losetup failed"; exit 1; }
        loops="$loops $d"
        devs="$devs $d"
        mkdir "$T/k/m$i"
        mount -t ext4 "$d" "$T/k/m$i" || { echo "mount $d failed"; exit 1; }
        mounts="$mounts $T/k/m$i"
done
tids=
for d in $devs; do
        for p in /proc/[0-9]*; do
                [ "$(cat "$p/comm" 2>/dev/null)" = "kmmpd-${d#/dev/}" ] && tids="$tids ${p#/proc/}"
        done
done
nk=$(echo $tids | wc -w)
[ "$nk" -eq "$NK" ] || { echo "found $nk kmmpd threads for $NK mounts"; failed=1; }
sleep 2
kcpu_snap() { local t; for t in $tids; do cpu_snap "$t"; done | awk '{ a += $1; b += $2 } END { print a, b }'; }
k0=$(kcpu_snap); i0=$(loop_ios $devs); w0=$(mono_ms)
sleep "$SECS"
k1=$(kcpu_snap); i1=$(loop_ios $devs); w1=$(mono_ms)
kcpu=$(cpu_ns "$k0" "$k1")
kwall=$((w1 - w0))
kios=$((i1 - i0))
kbeats=$(( NK * kwall / (INTERVAL * 1000) ))
for m in $mounts; do umount "$m" || failed=1; done
mounts=

mmpd_run m20 $devs
mmpd_wait m20 "$NK" || failed=1
sleep 2
"$BENCH_CLIENT" state "$T/m20.sock" >"$T/m20.s0"
c0=$(cpu_snap "$mp"); i0=$(loop_ios $devs); w0=$(mono_ms)
sleep "$SECS"
c1=$(cpu_snap "$mp"); i1=$(loop_ios $devs); w1=$(mono_ms)
"$BENCH_CLIENT" state "$T/m20.sock" >"$T/m20.s1"
m20cpu=$(cpu_ns "$c0" "$c1")
m20wall=$((w1 - w0))
m20ios=$((i1 - i0))
m20beats=$(beats m20 "$NK" "$m20wall" "$T/m20.s0" "$T/m20.s1")
mmpd_stop m20 "$NK"

# ---- the figures -----------------------------------------------------------
us() { calc '%.1f' "$1 / 1000 / ($2 > 0 ? $2 : 1)"; }
header "side by side: sanlock ($nadded of $NS lockspaces on files) and mmpd ($NS volumes on image files), $((wall / 1000)) s"
sl_per=$(us "$scpu" "$nren")
m_per=$(us "$mcpu" "$mbeats")
row "sanlock CPU per renewal" "$sl_per us ($nren renewals, $ren_src; every 20 s)" "-"
row "mmpd CPU per heartbeat" "$m_per us ($mbeats beats, every $INTERVAL s)" "-"
row "ratio mmpd / sanlock, per renewal" "$(calc '%.2f' "$m_per / ($sl_per > 0 ? $sl_per : 1)")" "-"
row "sanlock CPU, % of a core" "$(calc '%.3f%%' "100 * $scpu / ($wall * 1000000)")" "-"
row "mmpd CPU, % of a core" "$(calc '%.3f%%' "100 * $mcpu / ($wall * 1000000)") (renews 4x as often)" "-"
row "sanlock RSS per lease" "$(( (srss - srss0) * 1024 / NS )) bytes (RSS $(calc '%.1f' "$srss / 1024") MiB, $(calc '%.1f' "$srss0 / 1024") with none)" "-"
row "mmpd RSS per volume" "$(( (mrss - mrss0) * 1024 / NS )) bytes (RSS $(calc '%.1f' "$mrss / 1024") MiB, $(calc '%.1f' "$mrss0 / 1024") with none)" "-"
row "ratio mmpd / sanlock, RSS per lease" "$(calc '%.2f' "($mrss - $mrss0) / (($srss - $srss0) > 0 ? ($srss - $srss0) : 1)")" "-"

header "side by side: kmmpd ($nk threads, $NK mounted loop devices) and mmpd (the same $NK, unmounted), $((kwall / 1000)) s each"
k_per=$(us "$kcpu" "$kbeats")
m20_per=$(us "$m20cpu" "$m20beats")
row "kmmpd CPU per heartbeat" "$k_per us ($kbeats beats computed, $(calc '%.2f' "$kios / ($kbeats > 0 ? $kbeats : 1)") loop I/Os each)" "-"
row "mmpd CPU per heartbeat" "$m20_per us ($m20beats beats, $(calc '%.2f' "$m20ios / ($m20beats > 0 ? $m20beats : 1)") loop I/Os each)" "-"
row "ratio mmpd / kmmpd, per heartbeat" "$(calc '%.2f' "$m20_per / ($k_per > 0 ? $k_per : 1)")" "-"
row "peers: mmpd volumes not held at the end" "$lost runs with a volume not held" "0"
[ "$lost" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$nadded" -eq "$NS" ]
