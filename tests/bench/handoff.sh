#!/bin/bash
# Benchmark: handoffs of held volumes to the kernel (docs/handoff.md).
# BENCH_HANDOFF_VOLUMES volumes (default 10) x BENCH_HANDOFF_CYCLES cycles
# (default 10), the volumes in parallel, each cycle `mmpctl mount` then
# `mmpctl umount --keep` (tests/handoff/cycles-lib.sh).  Prints the window
# in which the MMP block is CLEAN between mmpd's handoff write and the
# kernel's claim (a peer's view: clean-window on a second loop device), and
# the mean run times of `mmpctl mount` (handoff until mmpd watches the
# mount) and `mmpctl umount --keep` (unmount, then mmpd's full claim, ~W).
# Update interval 1 s (W = 11 s): about 2 minutes.  Root.  Exit status 1 if
# any cycle failed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"
if ! is_root; then
        echo "handoff bench: needs root (loop devices, mounts)"
        exit 1
fi
. "$top_srcdir/tests/handoff/private-ns.sh"
for c in losetup findmnt mkfs.ext4 jq perl; do
        command -v "$c" >/dev/null 2>&1 || { echo "handoff bench: needs $c"; exit 1; }
done
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/handoff/cycles-lib.sh"

NVOL=${BENCH_HANDOFF_VOLUMES:-10}
NCYC=${BENCH_HANDOFF_CYCLES:-10}

t0=$(now_ms)
cycles_run "$NVOL" "$NCYC"
t1=$(now_ms)
stop_mmpd H TERM

ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }
row() {         # row LABEL FILE [COLUMN]
        local n p50 p90 max mean
        read -r n p50 p90 max mean < <(cycles_stats "$2" "${3:-1}")
        printf '%-34s %6d %10s %10s %10s %10s\n' "$1" "$n" "$(ms "$p50")" "$(ms "$p90")" "$(ms "$max")" "$(ms "$mean")"
}

total=$(wc -l <"$T/cyc/results")
fails=$(cycles_failures)
nfail=$(printf '%s' "$fails" | grep -c .)
awk '{ print $4 }' "$T/cyc/results" >"$T/cyc/mount_us"
awk '{ print $7 }' "$T/cyc/results" >"$T/cyc/umount_us"
res=$(sed -n 's/.*"resolution_us":\([0-9]*\).*/\1/p' "$T"/cyc/v*.cw | sort -n | tail -n 1)
lost=$(grep -c LOST "$T/H.log")

echo
echo "handoff to the kernel: $NVOL volumes x $NCYC cycles in parallel, update interval 1 s (W 11 s), handoff = fast"
echo "handoffs:           $total cycles, $nfail failed, $lost LOST, $(( (t1 - t0) / 1000 )) s"
printf '%-34s %6s %10s %10s %10s %10s\n' "" count "p50 ms" "p90 ms" "max ms" "mean ms"
row "CLEAN -> user seq window (peer)" "$T/cyc/windows"
row "  of it proven by two reads" "$T/cyc/windows" 2
row "mmpctl mount (handoff -> watched)" "$T/cyc/mount_us"
row "mmpctl umount --keep (-> held)" "$T/cyc/umount_us"
read -r nm _ _ mmax _ < <(cycles_stats "$T/cyc/missed")
echo "windows unseen:     $nm (fell between two samples: each shorter than ${mmax} us)"
echo "window resolution:  <= ${res:-?} us (clean-window reads back to back around each handoff; worst read included)"
if [ "$nfail" -gt 0 ]; then
        echo "failed cycles:"
        printf '%s\n' "$fails" | sed 's/^/  /'
fi
[ "$nfail" -eq 0 ] && [ "$total" -eq $((NVOL * NCYC)) ] && [ "$lost" -eq 0 ]
