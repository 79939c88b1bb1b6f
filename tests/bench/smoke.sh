#!/bin/bash
# make check's small version of make bench: tests/bench/hold.sh with 100
# volumes and 5 s windows.  It checks that every figure is printed with a
# number (or, for the ones from mmpd's statistics, all of them "n/a" when
# mmpd sends none) and that mmpd lost or refused nothing; never a timing
# threshold: those are make bench's numbers, not pass/fail.  The side by
# side runs against sanlock and the kernel (peers.sh) and the handoff bench
# are not run here: sanlock's add_lockspace alone takes 20 s.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd mkfs.ext4 debugfs e2mmpstatus

out=$(mktemp /tmp/mmpd-bench-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
BENCH_VOLUMES=100 BENCH_SECONDS=5 BENCH_SETTLE=2 BENCH_TOOL_VOLUMES=5 BENCH_E2_VOLUMES=1 \
        bash "$top_srcdir/tests/bench/hold.sh" >"$out" 2>&1
rc=$?
diag "$(cat "$out")"
diag "not run here (make bench runs them): peers.sh (sanlock, kmmpd), handoff.sh"
is "$rc" 0 "hold.sh exits 0: nothing lost or refused, every volume held at the end"

# has LABEL REGEX: the row LABEL's value matches REGEX
num='[0-9]+(\.[0-9]+)?'
has() {
        local line
        line=$(grep -F -- "$1" "$out" | head -n 1)
        if [ -n "$line" ] && printf '%s\n' "${line:47}" | grep -Eq "^($2)"; then
                ok "row: $1"
        else
                not_ok "row: $1" "want /$2/ after the label, got: '$line'"
        fi
}
if grep -Eq "^cpu steal \\(time the hypervisor gave to others\\): $num% in the idle window, $num% while clients poll$" "$out"; then
        ok "steal line"
else
        not_ok "steal line" "$(grep '^cpu steal' "$out")"
fi
has "claim all / one claim" "${num}x \\($num ms / $num ms\\)"
has "cpu while holding" "$num% of a core"
has "cpu per heartbeat" "$num us \\($num beats"
has "  the floor: the same I/O, bare loop" "$num us \\(mmpd / floor: ${num}x\\)"
has "  of it, the state machine alone" "$num us \\(tests/bench/sm-beat\\)"
has "  of it, the timer heap alone" "$num us \\(tests/bench/timer-beat\\)"
has "rss " "$num MiB"
has "rss per volume" "-?$num bytes"
has "Check p99, 200 clients every 100 ms" "$num ms \\(p50 $num, max $num; [1-9][0-9]* calls, 0 failed\\)"
has "List while they poll (raw reply)" "$num ms \\(max $num; [1-9][0-9]* calls, [1-9][0-9]* bytes\\)"
has "  the floor: the same clients, 1 volume" "Check p99 $num ms, List $num ms \\([0-9]+ s\\)"
has "volumes not held at the end" "0 "
has "e2mmpstatus (1 volumes; 1 said in use)" "$num ms"
has "mmpctl check (5 volumes" "$num ms"
has "e2mmpstatus -i (5 volumes" "$num ms"
has "mmpctl dump (5 volumes" "$num ms"
has "sampled CLEAN after release" "3/3"

# The figures from mmpd's statistics: all numbers, or all n/a.
stats_rows="I/Os per heartbeat|heartbeat lateness p50|heartbeat lateness p99|heartbeat lateness max|lateness p99 while clients poll"
nna=$(grep -E "^($stats_rows) " "$out" | grep -c 'n/a (daemon has no stats)')
if [ "$nna" -eq 5 ]; then
        diag "mmpd sends no Volume.stats: I/Os per heartbeat and lateness are n/a"
        ok "statistics rows: all n/a (daemon has no stats)"
else
        bound="(<=|>) $num ms"
        has "I/Os per heartbeat" "$num \\([0-9]+ I/Os\\)"
        has "heartbeat lateness p50" "$bound \\([1-9][0-9]* beats\\)"
        has "heartbeat lateness p99" "$bound"
        has "heartbeat lateness max" "$bound \\(exact, since start: $num ms\\)"
        has "lateness p99 while clients poll" "$bound \\(max $bound; idle p99 $bound\\)"
fi
done_testing
