#!/bin/bash
# The arithmetic of make bench on mmpd's heartbeat statistics (the Stats
# type of mmpd/io.mmpd.varlink), without a daemon: bench-client sums the
# volumes' histograms from a List reply, late_pct (tests/bench/lib.sh) takes
# percentiles of the difference of two snapshots.  No root needed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/bench/lib.sh"
[ -x "$BENCH_CLIENT" ] || bail_out "$BENCH_CLIENT not built"
d=$(mktemp -d /tmp/mmpd-bench-stats.XXXXXX)
trap 'rm -rf "$d"' EXIT

B='[50,100,250,500,1000,2500,5000,10000,20000,50000,100000,250000,500000,1000000,2500000,5000000]'
# hist I=C ...: 17 counts, C at index I, 0 elsewhere
hist() {
        local -a c=(0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0) kv
        for kv in "$@"; do c[${kv%=*}]=${kv#*=}; done
        local IFS=,
        echo "[${c[*]}]"
}
# vol STATE BEATS IO LANDED_MAX LANDED: a Volume with stats
vol() {
        printf '{"name":"v","device":"/d","state":"%s","phase":"","static":true,"failures":0,' "$1"
        printf '"stats":{"bounds_usec":%s,"beats":%s,"submit_late":%s,"landed_late":%s,' "$B" "$2" "$(hist)" "$5"
        printf '"submit_late_max_usec":0,"landed_late_max_usec":%s,"submit_late_sum_usec":0,' "$4"
        printf '"landed_late_sum_usec":0,"io":%s,"io_count":%s,"io_max_usec":7,"io_sum_usec":0}}' "$(hist 0="$3")" "$3"
}
echo "{\"volumes\":[$(vol held 10 20 90 "$(hist 1=10)"),$(vol held 5 10 200 "$(hist 2=5)")]}" >"$d/a.json"
echo "{\"volumes\":[$(vol held 99 198 15000 "$(hist 1=98 8=1)"),$(vol lost 15 30 200 "$(hist 2=15)")]}" >"$d/b.json"
echo '{"volumes":[{"name":"v","device":"/d","state":"held","phase":"","static":true,"failures":0}]}' >"$d/none.json"
echo "{\"volumes\":[$(vol held 1 1 1 '[1,2,3]')]}" >"$d/bad.json"

check "a snapshot with stats" "$BENCH_CLIENT" state-file "$d/a.json"
"$BENCH_CLIENT" state-file "$d/a.json" >"$d/a"
"$BENCH_CLIENT" state-file "$d/b.json" >"$d/b"
is "$(stat_get "$d/b" stats)" 2 "both volumes have stats"
is "$(awk '$2 == "held" { print $3 } $2 == "lost" { print $3 }' "$d/b" | paste -sd,)" "1,1" "one held, one lost"
is "$(stat_get "$d/b" beats) $(stat_get "$d/b" io_count)" "114 228" "beats and I/Os summed"
is "$(stat_get "$d/b" landed_late_max_usec)" 15000 "the largest max"
is "$(awk '$1 == "landed_late"' "$d/b")" "landed_late 0 98 15 0 0 0 0 0 1 0 0 0 0 0 0 0 0" "histograms summed bucket by bucket"
# between a and b: 88 beats <= 100 us, 10 <= 250 us, 1 <= 20 ms
is "$(late_pct "$d/a" "$d/b" landed_late)" "99 100 20000 20000" "count, p50, p99 (the bucket of the 99th percentile), max"
is "$(late_pct "$d/a" "$d/a" landed_late)" "0 0 0 0" "no beats between equal snapshots"
is "$(bound_ms 250 "$d/b") | $(bound_ms -1 "$d/b")" "<= 0.25 ms | > 5000 ms" "bounds as text"
"$BENCH_CLIENT" state-file "$d/none.json" >"$d/none"
is "$(stat_get "$d/none" stats)" 0 "no stats: stats 0 (make bench prints n/a)"
"$BENCH_CLIENT" state-file "$d/bad.json" >"$d/bad"
is "$?:$(stat_get "$d/bad" stats_malformed)" "1:1" "a histogram of the wrong length is an error"
done_testing
