#!/bin/bash
# Benchmark: one mmpd holding N volumes (default 10,000) on image files with
# update interval 5 s.  Prints each figure beside its target
# (docs/benchmarks.md): claim of all N as a ratio to one claim, CPU while
# holding (% of one core) and per heartbeat, I/Os per heartbeat and
# heartbeat lateness (from mmpd's per-volume statistics, Volume.stats in
# List), RSS and bytes per volume, Check and List latency while
# BENCH_CLIENTS clients poll, and what e2mmpstatus pays to ask against
# mmpctl.  Exit status 1 if mmpd lost or refused any volume.
#
#   BENCH_VOLUMES (10000)  BENCH_SECONDS (60, each measuring window)
#   BENCH_CLIENTS (200)    BENCH_POLL_MS (100, each client's Check period)
#   BENCH_TOOL_VOLUMES (20, volumes e2mmpstatus and mmpctl ask about)
#   BENCH_E2_VOLUMES (as many: e2mmpstatus's check waits W on each)
#   BENCH_SETTLE (6 s between the claims and the first window)
#
# Root: it raises the fd hard limit when it may (two fds per volume); with
# a lower limit it holds as many volumes as the limit allows, and says so.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/bench/lib.sh"

N=${BENCH_VOLUMES:-10000}
SECS=${BENCH_SECONDS:-60}
CLIENTS=${BENCH_CLIENTS:-200}
POLL_MS=${BENCH_POLL_MS:-100}
NTOOL=${BENCH_TOOL_VOLUMES:-20}
NE2=${BENCH_E2_VOLUMES:-$NTOOL}
SETTLE=${BENCH_SETTLE:-6}
INTERVAL=5

T=$(mktemp -d /var/tmp/mmpd-bench.XXXXXX)
pid= ref=
e2job=
trap 'for p in $pid $ref $e2job; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

for c in mkfs.ext4 debugfs e2mmpstatus "$MMPD" "$MMPCTL" "$BENCH_CLIENT" "$IO_FLOOR"; do
        command -v "$c" >/dev/null 2>&1 || { echo "hold bench: needs $c"; exit 1; }
done

# Two fds per volume.  Raising the hard limit needs CAP_SYS_RESOURCE (the
# unit file sets LimitNOFILE); without it, hold as many as the limit allows.
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((2 * N + 256)) ] &&
        ulimit -Hn $((2 * N + 256)) 2>/dev/null
ulimit -Sn "$(ulimit -Hn)"
if [ "$(ulimit -Hn)" != unlimited ]; then
        max=$(( ($(ulimit -Hn) - 256) / 2 ))
        if [ "$N" -gt "$max" ]; then
                echo "note: fd hard limit $(ulimit -Hn) allows $max volumes here (2 fds each); benchmarking $max"
                N=$max
        fi
fi
[ "$NTOOL" -gt "$N" ] && NTOOL=$N
[ "$NE2" -gt "$NTOOL" ] && NE2=$NTOOL
[ "$NE2" -lt 1 ] && NE2=1

mmp_template "$T/template.img" || exit 1
mkdir "$T/img"
for i in $(seq 1 "$N"); do cp --sparse=always "$T/template.img" "$T/img/$i.img"; done
cp --sparse=always "$T/template.img" "$T/ref.img"
mmpd_conf "$T/mmpd.conf" "$T/mmpd.sock" "$N" $(seq -f "$T/img/%g.img" 1 "$N")
mmpd_conf "$T/ref.conf" "$T/ref.sock" 1 "$T/ref.img"
# The copies are dirty page cache: written back during the claims, they
# would compete with the claims' I/O (the reference's one volume hardly
# notices), and the ratio would measure the copy.
sync

# The reference: one mmpd claiming one volume, started with the one that
# claims N (it needs no CPU to speak of: a claim is mostly waiting).
t0=$(mono_ms)
"$MMPD" --config "$T/mmpd.conf" 2>"$T/mmpd.log" &
pid=$!
"$MMPD" --config "$T/ref.conf" 2>"$T/ref.log" &
ref=$!
one_ms= all_ms=
while [ -z "$one_ms" ] || [ -z "$all_ms" ]; do
        now=$(mono_ms)
        [ -z "$one_ms" ] && [ "$(claimed "$T/ref.log")" -ge 1 ] && one_ms=$((now - t0))
        [ -z "$all_ms" ] && [ "$(claimed "$T/mmpd.log")" -ge "$N" ] && all_ms=$((now - t0))
        for p in $pid $ref; do
                kill -0 "$p" 2>/dev/null && continue
                echo "mmpd died"; tail "$T/mmpd.log" "$T/ref.log"; exit 1
        done
        if [ $(( (now - t0) / 1000 )) -gt 600 ]; then
                echo "claims did not finish in 600 s: $(claimed "$T/mmpd.log") of $N"
                exit 1
        fi
        sleep 0.1
done
rss1=$(rss_kb "$ref")
# The floor of the Check and List figures: the same clients against the
# reference mmpd, which holds one volume.  On a shared machine (steal time,
# two CPUs for mmpd and 200 client threads) this alone can be milliseconds.
BASE_SECS=$(( SECS < 15 ? SECS : 15 ))
"$BENCH_CLIENT" poll "$T/ref.sock" "$CLIENTS" "$BASE_SECS" "$POLL_MS" >"$T/poll1" ||
        { echo "bench-client poll (one volume) failed"; exit 1; }
kill -TERM "$ref"; wait "$ref"; ref=

# state FILE: a List snapshot (bench-client exits 1 also for stats that do
# not follow the contract: those rows are then n/a, the bench goes on)
state() {
        "$BENCH_CLIENT" state "$T/mmpd.sock" >"$T/$1"
        grep -q '^volumes ' "$T/$1" || { echo "List failed"; exit 1; }
}
# snap FILE: the statistics summed over all volumes from Daemon(), which is
# cheap; from List where mmpd has no Daemon() (a List of 10,000 volumes
# holds mmpd's loop long enough to show in the window it brackets)
snap() {
        "$BENCH_CLIENT" daemon "$T/mmpd.sock" >"$T/$1" 2>/dev/null || state "$1"
}
sleep "$SETTLE"         # let the claim burst settle into the spread heartbeat grid

# Window 1: holding, nobody asking.
(
        t=$(now_us)
        for i in $(seq 1 "$NE2"); do
                e2mmpstatus "$T/img/$i.img" >/dev/null 2>&1
                echo $? >>"$T/e2rc"
        done
        echo $(( ($(now_us) - t) / NE2 )) >"$T/e2us"
) &
e2job=$!
snap s0
c0=$(cpu_snap "$pid"); w0=$(mono_ms); st0=$(steal_snap)
sleep "$SECS"
c1=$(cpu_snap "$pid"); w1=$(mono_ms); st1=$(steal_snap)
snap s1
rssn=$(rss_kb "$pid")
cpu=$(cpu_ns "$c0" "$c1")
wall=$((w1 - w0))

# Window 2: CLIENTS connections Check every POLL_MS, one more Lists every second.
"$BENCH_CLIENT" poll "$T/mmpd.sock" "$CLIENTS" "$SECS" "$POLL_MS" >"$T/poll" ||
        { echo "bench-client poll failed"; exit 1; }
st2=$(steal_snap)
snap s2

# What a tool pays to ask.  e2mmpstatus reads the disk, and on a block in
# use watches it for W to see whether it changes (it runs in the background
# from the first window on: it only waits); with -i it only prints the
# block, as mmpctl dump does; mmpctl check asks mmpd.
per_call_us() {         # per_call_us CMD...: mean wall time of CMD on each tool volume
        local i t
        t=$(now_us)
        for i in $(seq 1 "$NTOOL"); do "$@" "$T/img/$i.img" >/dev/null 2>&1; done
        echo $(( ($(now_us) - t) / NTOOL ))
}
chk_us=$(per_call_us "$MMPCTL" --socket "$T/mmpd.sock" check --quiet)
dump_us=$(per_call_us "$MMPCTL" dump)
e2i_us=$(per_call_us e2mmpstatus -i)
wait "$e2job"; e2job=
e2_us=$(cat "$T/e2us")
e2_inuse=$(grep -c '^1$' "$T/e2rc")

# Every volume must still be held.
state s3
held=$(awk '$1 == "state" && $2 == "held" { print $3 }' "$T/s3")
notheld=$((N - held))
lost=$(grep -c 'LOST' "$T/mmpd.log")
refused=$(grep -c 'refused' "$T/mmpd.log")

t2=$(mono_ms)
kill -TERM "$pid"; wait "$pid"; pid=
release_ms=$(( $(mono_ms) - t2 ))
clean=0
for i in 1 $((N / 2 + 1)) "$N"; do
        debugfs -R dump_mmp "$T/img/$i.img" 2>/dev/null | grep -q "sequence: ff4d4d50" && clean=$((clean + 1))
done

# The floor: the same I/O (N files on the same file system, a read and a
# write of one block each per interval, in the batches of mmpd's 100 ms
# heartbeat grid, BEAT_GRID_USEC in mmpd/volume.c) from a bare loop that
# blocks for its completions.  What mmpd pays above it is its own.
FLOOR_SECS=$(( SECS < 20 ? SECS : 20 ))
mkdir "$T/floor"
if ! "$IO_FLOOR" "$T/floor" "$N" $((INTERVAL * 1000)) 100 "$FLOOR_SECS" 1024 >"$T/floor.out" 2>&1; then
        echo "io-floor failed: $(cat "$T/floor.out")"
        exit 1
fi
rm -rf "$T/floor"
floor_us=$(awk '$1 == "floor_us_per_beat" { print $2 }' "$T/floor.out")
# mmpd's state machine alone on N volumes (fake clock and disk, best of 3).
sm_ns=
if [ -x "$SM_BEAT" ]; then
        sm_ns=$(for _ in 1 2 3; do "$SM_BEAT" "$N" 20 | awk '$1 == "ns_per_beat" { print $2 }'; done |
                sort -n | head -1)
fi
# ... and its timer heap alone (N timers on the heartbeat grid, best of 3).
timer_ns=
if [ -x "$TIMER_BEAT" ]; then
        timer_ns=$(for _ in 1 2 3; do "$TIMER_BEAT" "$N" 20 | awk '$1 == "ns_per_timer" { print $2 }'; done |
                sort -n | head -1)
fi

# ---- the figures ----------------------------------------------------------
x10k() {                # x10k VALUE FORMAT: ", X at 10,000" (linear) for N in 1,000..9,999
        [ "$N" -eq 10000 ] || [ "$N" -lt 1000 ] || printf ", $2 at 10,000" "$1"
}
nostats="n/a (daemon has no stats)"
stats=0
if grep -q '^stats_malformed' "$T/s0" "$T/s1" "$T/s2"; then
        nostats="n/a (stats do not follow io.mmpd's Stats)"
elif [ "$(stat_get "$T/s0" stats)" -gt 0 ] && [ "$(stat_get "$T/s2" stats)" -gt 0 ] &&
     [ $(( $(stat_get "$T/s1" beats) - $(stat_get "$T/s0" beats) )) -gt 0 ]; then
        stats=1
fi
if [ "$stats" -eq 1 ]; then
        beats=$(( $(stat_get "$T/s1" beats) - $(stat_get "$T/s0" beats) ))
        ios=$(( $(stat_get "$T/s1" io_count) - $(stat_get "$T/s0" io_count) ))
        beats_src="counted"
        read -r lat_n lat_50 lat_99 lat_max < <(late_pct "$T/s0" "$T/s1" landed_late)
        read -r clat_n clat_50 clat_99 clat_max < <(late_pct "$T/s1" "$T/s2" landed_late)
        exact_max=$(stat_get "$T/s2" landed_late_max_usec)
else
        beats=$(( N * wall / (INTERVAL * 1000) ))
        beats_src="computed: N x window / 5 s"
fi
read -r _ _ chk_n _ chk_fail _ chk_nu _ chk_50 _ chk_99 _ chk_max < <(grep '^check ' "$T/poll")
read -r _ _ lst_n _ lst_fail _ _ _ lst_50 _ _ _ lst_max < <(grep '^list ' "$T/poll")
lst_bytes=$(stat_get "$T/poll" list_reply_bytes)
read -r _ _ _ _ _ _ _ _ _ _ base_99 _ _ < <(grep '^check ' "$T/poll1")
read -r _ _ _ _ _ _ _ _ base_l50 _ _ _ _ < <(grep '^list ' "$T/poll1")

echo
echo "mmpd holding $N volumes on image files, update interval $INTERVAL s; windows of $SECS s"
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
        "kernel $(uname -r), virtualisation: $(systemd-detect-virt 2>/dev/null; true)"
echo "cpu steal (time the hypervisor gave to others): $(steal_pct "$st0" "$st1")% in the idle window," \
        "$(steal_pct "$st1" "$st2")% while clients poll"
header "targets"
row "claim all / one claim" "$(calc '%.2fx' "$all_ms / $one_ms") ($all_ms ms / $one_ms ms)" "<= 1.1x"
pct=$(calc '%.3f' "100 * $cpu / ($wall * 1000000)")
row "cpu while holding" "$(calc '%.2f%%' "$pct") of a core$(x10k "$(calc '%.2f%%' "$pct * 10000 / $N")" '%s')" "<= 2% at 10,000"
row "cpu per heartbeat" "$(calc '%.1f us' "$cpu / 1000 / $beats") ($beats beats, $beats_src)" "<= 10 us"
row "  the floor: the same I/O, bare loop" "$(calc '%.1f us' "$floor_us") (mmpd / floor: $(calc '%.2fx' "$cpu / 1000 / $beats / $floor_us"))" "-"
[ -n "$sm_ns" ] && row "  of it, the state machine alone" "$(calc '%.2f us' "$sm_ns / 1000") (tests/bench/sm-beat)" "-"
[ -n "$timer_ns" ] && row "  of it, the timer heap alone" "$(calc '%.2f us' "$timer_ns / 1000") (tests/bench/timer-beat)" "-"
if [ "$stats" -eq 1 ]; then
        row "I/Os per heartbeat" "$(calc '%.2f' "$ios / $beats") ($ios I/Os)" "2"
        row "heartbeat lateness p50" "$(bound_ms "$lat_50" "$T/s1") ($lat_n beats)" "-"
        row "heartbeat lateness p99" "$(bound_ms "$lat_99" "$T/s1")" "<= 20 ms"
        row "heartbeat lateness max" "$(bound_ms "$lat_max" "$T/s1") (exact, since start: $(calc '%.1f ms' "$exact_max / 1000"))" "<= 100 ms"
else
        for f in "I/Os per heartbeat" "heartbeat lateness p50" "heartbeat lateness p99" "heartbeat lateness max"; do
                row "$f" "$nostats" "-"
        done
fi
bpv=$(( (rssn - rss1) * 1024 / (N > 1 ? N - 1 : 1) ))
row "rss" "$(calc '%.1f MiB' "$rssn / 1024")$(x10k "$(calc '%.1f MiB' "($rss1 * 1024 + $bpv * 9999) / 1048576")" '%s')" "<= 64 MiB at 10,000"
row "rss per volume" "$bpv bytes (rss at 1 volume: $(calc '%.1f MiB' "$rss1 / 1024"))" "-"
row "Check p99, $CLIENTS clients every $POLL_MS ms" "$(calc '%.3f ms' "$chk_99 / 1000") (p50 $(calc '%.3f' "$chk_50 / 1000"), max $(calc '%.1f' "$chk_max / 1000"); $chk_n calls, $chk_fail failed)" "<= 1 ms"
row "List while they poll (raw reply)" "$(calc '%.1f ms' "$lst_50 / 1000") (max $(calc '%.1f' "$lst_max / 1000"); $lst_n calls, $lst_bytes bytes)" "<= 100 ms"
row "  the floor: the same clients, 1 volume" "Check p99 $(calc '%.3f ms' "$base_99 / 1000"), List $(calc '%.1f ms' "$base_l50 / 1000") (${BASE_SECS} s)" "-"
if [ "$stats" -eq 1 ]; then
        row "lateness p99 while clients poll" "$(bound_ms "$clat_99" "$T/s2") (max $(bound_ms "$clat_max" "$T/s2"); idle p99 $(bound_ms "$lat_99" "$T/s1"))" "= idle p99"
else
        row "lateness p99 while clients poll" "$nostats" "= idle p99"
fi
row "volumes not held at the end" "$notheld (LOST lines $lost, refused $refused)" "0"
header "what a tool pays to ask (mean per volume, one after another)"
row "e2mmpstatus ($NE2 volumes; $e2_inuse said in use)" "$(calc '%.1f ms' "$e2_us / 1000")" "-"
row "mmpctl check ($NTOOL volumes, asks mmpd)" "$(calc '%.2f ms' "$chk_us / 1000") (e2mmpstatus / check: $(calc '%.0fx' "$e2_us / $chk_us"))" "-"
row "e2mmpstatus -i ($NTOOL volumes, prints the block)" "$(calc '%.2f ms' "$e2i_us / 1000")" "-"
row "mmpctl dump ($NTOOL volumes, reads the disk)" "$(calc '%.2f ms' "$dump_us / 1000") (e2mmpstatus -i / dump: $(calc '%.2fx' "$e2i_us / $dump_us"))" "-"
header "release"
row "release all (SIGTERM to exit)" "$release_ms ms" "-"
row "sampled CLEAN after release" "$clean/3" "3/3"
[ "$notheld" -eq 0 ] && [ "$lost" -eq 0 ] && [ "$refused" -eq 0 ] && [ "$chk_nu" -eq 0 ]
