# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh - functions shared by the make bench scripts (hold.sh, peers.sh).
# Source it with top_srcdir and top_builddir set.  Everything a script
# creates lives under $T (on /var/tmp: image files, not tmpfs) and goes with
# the EXIT trap the script sets.

MMPD="$top_builddir/mmpd/mmpd"
MMPCTL="$top_builddir/mmpctl/mmpctl"
BENCH_CLIENT="$top_builddir/tests/bench/bench-client"
IO_FLOOR="$top_builddir/tests/bench/io-floor"
SM_BEAT="$top_builddir/tests/bench/sm-beat"
TIMER_BEAT="$top_builddir/tests/bench/timer-beat"
PATH=$PATH:/sbin:/usr/sbin
hz=$(getconf CLK_TCK)

# mono_ms: milliseconds on the monotonic clock (/proc/uptime: 10 ms steps)
mono_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
# now_us: microseconds, wall clock: for intervals of a few seconds only
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# cpu_snap PID|TID: "STAT_NS SCHED_NS": utime+stime from /proc/PID/stat
# (whole process, exited threads included, in clock ticks) and the sum of
# the live threads' run time from schedstat (nanoseconds).
cpu_snap() {
        local t s
        t=$(awk -v hz="$hz" '{printf "%.0f", ($14 + $15) * 1e9 / hz}' "/proc/$1/stat")
        s=$(cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}')
        echo "$t ${s:-0}"
}

# cpu_ns SNAP0 SNAP1: CPU nanoseconds between two cpu_snap's: schedstat's
# exact count, unless the tick count says threads that exited used more.
cpu_ns() {
        awk -v a="$1" -v b="$2" -v tick=$((1000000000 / hz)) 'BEGIN {
                split(a, x, " "); split(b, y, " ")
                dt = y[1] - x[1]; ds = y[2] - x[2]
                printf "%.0f\n", (dt > ds + 2 * tick) ? dt : ds }'
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# row FIGURE NOW TARGET: one line of a results table
# steal_snap: "STEAL TOTAL" jiffies of all CPUs from /proc/stat
steal_snap() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t; exit }' /proc/stat; }
# steal_pct "S0 T0" "S1 T1": the share of CPU time the hypervisor took (%)
steal_pct() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y); d = y[2] - x[2]; printf "%.1f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'; }

row() { printf '%-46s %-40s %s\n' "$1" "$2" "$3"; }
header() { echo; echo "$1"; row figure now target; }

# calc FORMAT EXPR: evaluate an awk expression, print it with FORMAT
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# stat_get FILE KEY: the first value of a "key value" line of bench-client state
stat_get() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# late_pct SNAP0 SNAP1 KEY: from two bench-client state snapshots, the
# samples in histogram KEY between them: "COUNT P50 P99 MAX", each the upper
# bound (usec) of the bucket it falls in; -1 is above the last bound.
late_pct() {
        awk -v key="$3" '
                FNR == 1 { f++ }
                $1 == "bounds_usec" { nb = NF - 1; for (i = 2; i <= NF; i++) b[i - 2] = $i }
                $1 == key { nc = NF - 1; for (i = 2; i <= NF; i++) c[f, i - 2] = $i }
                END {
                        tot = 0
                        for (i = 0; i < nc; i++) { d[i] = c[2, i] - c[1, i]; tot += d[i] }
                        if (tot <= 0) { print 0, 0, 0, 0; exit }
                        p50 = p99 = mx = -2; cum = 0
                        for (i = 0; i < nc; i++) {
                                cum += d[i]; bound = (i < nb) ? b[i] : -1
                                if (p50 == -2 && cum >= 0.5 * tot) p50 = bound
                                if (p99 == -2 && cum >= 0.99 * tot) p99 = bound
                                if (d[i] > 0) mx = bound
                        }
                        print tot, p50, p99, mx
                }' "$1" "$2"
}

# bound_ms USEC SNAP: a bucket bound as "<= X ms" ("> LAST ms" for -1)
bound_ms() {
        if [ "$1" -lt 0 ]; then
                echo "> $(calc '%g' "$(awk '$1 == "bounds_usec" { print $NF }' "$2") / 1000") ms"
        else
                echo "<= $(calc '%g' "$1 / 1000") ms"
        fi
}

# mmp_template FILE: a 2 MiB ext4 image with MMP, update interval 5 s
mmp_template() {
        truncate -s 2M "$1"
        mkfs.ext4 -q -F -O mmp,^has_journal,^resize_inode -N 16 -E mmp_update_interval=5 "$1"
}

# mmpd_conf FILE SOCKET MAX DEVICE...: a configuration holding DEVICE...
mmpd_conf() {
        local f=$1 sock=$2 max=$3 i=0 d
        shift 3
        {
                printf '[mmpd]\nnode_name = bench\nsocket = %s\nmax_volumes = %d\n' "$sock" "$max"
                for d in "$@"; do
                        i=$((i + 1))
                        printf '[volume "v%d"]\ndevice = %s\n' "$i" "$d"
                done
        } >"$f"
}

# claimed LOG: how many volumes a daemon's log says it claimed
claimed() { grep -c 'claimed:' "$1"; }
