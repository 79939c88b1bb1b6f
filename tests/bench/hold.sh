#!/bin/bash
# Benchmark: one mmpd holding N volumes (default 10,000) on image files with
# the default update interval (5 s).  Prints the claim time, CPU use while
# holding (percent of one core, from /proc/PID/stat), heartbeat I/O rate,
# memory, and how evenly heartbeats are spread over the interval.
# Run as root (it raises the fd limit): make bench [BENCH_VOLUMES=N BENCH_SECONDS=S]
set -u
N=${BENCH_VOLUMES:-10000}
SECS=${BENCH_SECONDS:-60}
MMPD="$top_builddir/mmpd/mmpd"
T=$(mktemp -d /var/tmp/mmpd-bench.XXXXXX)
trap '[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$T"' EXIT
# Two fds per volume.  Raising the hard limit needs CAP_SYS_RESOURCE (the
# unit file sets LimitNOFILE); without it, hold as many as the limit allows.
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((2 * N + 256)) ] && ulimit -Hn $((2 * N + 256)) 2>/dev/null
ulimit -Sn "$(ulimit -Hn)"
max=$(( ($(ulimit -Hn) - 256) / 2 ))
if [ "$N" -gt "$max" ]; then
        echo "note: fd hard limit $(ulimit -Hn) allows $max volumes here (2 fds each); benchmarking $max"
        N=$max
fi
hz=$(getconf CLK_TCK)

truncate -s 2M "$T/template.img"
mkfs.ext4 -q -F -O mmp,^has_journal,^resize_inode -N 16 -E mmp_update_interval=5 "$T/template.img"
mkdir "$T/img"
{
        printf '[mmpd]\nnode_name = bench\nsocket = %s/mmpd.sock\nmax_volumes = %d\n' "$T" "$N"
        for i in $(seq 1 "$N"); do
                printf '[volume "v%d"]\ndevice = %s/img/%d.img\n' "$i" "$T" "$i"
        done
} >"$T/mmpd.conf"
for i in $(seq 1 "$N"); do cp --sparse=always "$T/template.img" "$T/img/$i.img"; done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# monotonic nanoseconds (the wall clock may be stepped while we measure)
mono_ns() { awk '{printf "%d\n", $1 * 1000000000}' /proc/uptime; }
t0=$(mono_ns)
"$MMPD" --config "$T/mmpd.conf" 2>"$T/mmpd.log" &
pid=$!
while [ "$(grep -c 'claimed:' "$T/mmpd.log")" -lt "$N" ]; do
        kill -0 "$pid" 2>/dev/null || { echo "mmpd died"; tail "$T/mmpd.log"; exit 1; }
        [ $(( ($(mono_ns) - t0) / 1000000000 )) -gt 300 ] && { echo "claims did not finish in 300 s"; exit 1; }
        sleep 0.5
done
t1=$(mono_ns)
refused=$(grep -c 'refused\|LOST' "$T/mmpd.log")
echo "volumes:            $N (update interval 5 s, W 21 s)"
echo "claim all:          $(( (t1 - t0) / 1000000 )) ms (one claim waits W + verify)"

sleep 6         # let the claim burst settle into the spread heartbeat grid
c0=$(cpu "$pid"); w0=$(mono_ns)
io0=$(awk '/^syscr|^syscw/ {s += $2} END {print s}' "/proc/$pid/io")
sleep "$SECS"
c1=$(cpu "$pid"); w1=$(mono_ns)
wall=$(( (w1 - w0) / 1000000 ))
used=$(( (c1 - c0) * 1000 / hz ))
echo "cpu while holding:  $(awk -v u="$used" -v w="$wall" 'BEGIN { printf "%.2f%% of one core (%d ms in %d ms)", 100 * u / w, u, w }')"
echo "per heartbeat:      $(awk -v u="$used" -v n="$N" -v s="$SECS" 'BEGIN { printf "%.1f us of CPU (3 I/Os each)", 1000 * u / (n * s / 5) }')"
echo "rss:                $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"
echo "lost or refused:    $refused"
lost=$(grep -c 'LOST' "$T/mmpd.log")
echo "lost while holding: $lost"
t2=$(mono_ns)
kill -TERM "$pid"; wait "$pid"; pid=
echo "release all:        $(( ($(mono_ns) - t2) / 1000000 )) ms"
clean=0
for i in 1 $((N / 2)) "$N"; do
        debugfs -R dump_mmp "$T/img/$i.img" 2>/dev/null | grep -q "sequence: ff4d4d50" && clean=$((clean + 1))
done
echo "sampled CLEAN after release: $clean/3"
[ "$lost" -eq 0 ] && [ "$refused" -eq 0 ]
