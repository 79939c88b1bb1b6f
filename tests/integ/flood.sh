#!/bin/bash
# No local user can starve heartbeats: while one uid floods the control
# socket with never-ending 1 MiB messages on 4,096 connections and another
# holds 4,096 idle connections, a raw watcher sees the held volume's seq
# change at least every update interval + 0.2 s (plus what the machine's
# disk held up one write, while Check stayed prompt), mmpd's memory stays
# bounded, and a third user's Check is answered throughout.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd setpriv python3 losetup
. "$top_srcdir/tests/lib/mmpd.sh"

# The other users must read the script wherever the tree is (a 0700 clone).
cp "$top_srcdir/tests/integ/flood.py" "$T/flood.py" && chmod 0644 "$T/flood.py"
FLOOD="/usr/bin/python3 $T/flood.py"
SECS=20
img=$(mkimg flood 1)
dev=$(loop_attach "$img")
peer=$(loop_attach "$img")
start_mmpd A node-a "vol=$dev"
wait_log A "volume vol .*claimed" 40 || bail_out "claim failed: $(cat "$T/A.log")"
sock=$(mmpd_sock A)
chmod 0755 "$T"          # the other users must reach the socket
pid=$(mmpd_pid A)
ulimit -n 65536 2>/dev/null

"$MMP_WATCH" "$peer" $((SECS + 2)) 20 >"$T/watch.json" &
w=$!
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
as 65534 $FLOOD "$sock" $SECS big 4096 $((1024 * 1024)) >"$T/big.json" 2>"$T/big.err" &
b=$!
as 65532 $FLOOD "$sock" $SECS idle 4096 >"$T/idle.json" 2>"$T/idle.err" &
i=$!
sleep 1
as 65533 $FLOOD "$sock" $((SECS - 2)) check vol >"$T/check.json" 2>"$T/check.err" &
c=$!
hwm=0
fds=0
for _ in $(seq 1 $((SECS * 2))); do
        rss=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null)
        [ -n "$rss" ] && [ "$rss" -gt "$hwm" ] && hwm=$rss
        # connections mmpd has accepted and keeps (the flooders' own count
        # includes what still waits in the listen backlog)
        n=$(find /proc/"$pid"/fd -lname 'socket:*' 2>/dev/null | wc -l)
        [ "$n" -gt "$fds" ] && fds=$n
        sleep 0.5
done
wait $b $i $c $w
diag "flood (uid 65534): $(cat "$T/big.json") $(tail -2 "$T/big.err")"
diag "idle (uid 65532): $(cat "$T/idle.json") $(tail -2 "$T/idle.err")"
diag "check (uid 65533): $(cat "$T/check.json") $(tail -2 "$T/check.err")"
diag "raw watcher: $(cat "$T/watch.json")"
diag "mmpd RSS peak during the flood: $((hwm / 1024)) MiB"

gap=$(sed -n 's/.*"max_gap_ms":\([0-9]*\).*/\1/p' "$T/watch.json")
worst=$(sed -n 's/.*"worst_ms": \([0-9]*\).*/\1/p' "$T/check.json")
io_ms=$(io_max_ms A "$dev")
# A write the machine's disk holds up may add its time to the gap, but only
# while the third user's Check was answered within 500 ms all along (a loop
# the flood held up would have held up Check too, and the I/O's time).
if [ -n "$gap" ] && [ "$gap" -le 1200 ]; then
        ok "on-disk gap stayed within interval + 0.2 s (max ${gap} ms; slowest I/O ${io_ms} ms)"
elif [ -n "$gap" ] && [ "$gap" -le $((1200 + io_ms)) ] && [ "${worst:-99999}" -le 500 ]; then
        ok "on-disk gap stayed within interval + 0.2 s, but for the device (max ${gap} ms, of it up to ${io_ms} ms one slow I/O; Check worst ${worst} ms)"
        diag "$(grep "slow I/O" "$T/A.log")"
else
        not_ok "on-disk gap stayed within interval + 0.2 s" "max_gap_ms=$gap, slowest I/O ${io_ms} ms, Check worst ${worst:-?} ms"
fi
is "$(sed -n 's/.*"nodes":\(\[[^]]*\]\).*/\1/p' "$T/watch.json")" '["node-a"]' "only node-a wrote the block"
[ "$hwm" -gt 0 ] && [ "$hwm" -le $((128 * 1024)) ] && ok "RSS stayed bounded ($((hwm / 1024)) MiB <= 128 MiB)" ||
        not_ok "RSS stayed bounded" "peak ${hwm} kB"
answers=$(sed -n 's/.*"answers": \([0-9]*\).*/\1/p' "$T/check.json")
fails=$(sed -n 's/.*"failures": \([0-9]*\).*/\1/p' "$T/check.json")
[ "${answers:-0}" -ge 20 ] && [ "${fails:-1}" -eq 0 ] &&
        ok "another user's Check answered throughout ($answers answers, worst ${worst} ms)" ||
        not_ok "another user's Check answered throughout" "$(cat "$T/check.json")"
[ "${worst:-99999}" -le 1000 ] && ok "Check latency under the flood <= 1 s (${worst} ms)" ||
        not_ok "Check latency under the flood <= 1 s" "worst ${worst} ms"
# two uids at 64 each, the checker's one, the listening socket and a few
# of mmpd's own (notify, the AIO and offload eventfds are not sockets)
[ "$fds" -le $((64 + 64 + 8)) ] && ok "one uid holds at most 64 connections (mmpd kept at most $fds sockets)" ||
        not_ok "one uid holds at most 64 connections" "mmpd had up to $fds sockets open"
grep -q "LOST" "$T/A.log" && not_ok "the volume was never lost" "$(grep LOST "$T/A.log")" ||
        ok "the volume was never lost"
"$MMPCTL" --socket "$sock" check vol >/dev/null && ok "still held after the flood" || not_ok "still held after the flood"
grep -q "uid 65534 has 64 connections open" "$T/A.log" && ok "the per-uid limit is logged once per episode" ||
        not_ok "the per-uid limit is logged" "$(grep -c uid "$T/A.log")"
stop_mmpd A TERM
done_testing
