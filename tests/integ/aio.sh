#!/bin/bash
# Each mmpd reserves AIO slots (io_setup, counted against the system-wide
# fs.aio-max-nr, 65,536 by default) as its volumes need them, not
# max_volumes at start: twelve idle mmpds with the default max_volumes
# (10,000) all start, where six used to exhaust the system.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/lib/mmpd.sh"

max=$(cat /proc/sys/fs/aio-max-nr)
before=$(cat /proc/sys/fs/aio-nr)
diag "fs.aio-max-nr $max, fs.aio-nr $before before"
for i in $(seq 1 12); do
        printf '[mmpd]\nnode_name = n%d\nsocket = %s/m%d.sock\n' "$i" "$T" "$i" >"$T/m$i.conf"
        "$MMPD" --config "$T/m$i.conf" >>"$T/m$i.log" 2>&1 &
        echo $! >"$T/m$i.pid"
done
sleep 1
up=0
for i in $(seq 1 12); do
        "$MMPCTL" --socket "$T/m$i.sock" status >/dev/null 2>&1 && up=$((up + 1))
done
after=$(cat /proc/sys/fs/aio-nr)
is "$up" 12 "twelve mmpds with max_volumes 10,000 all serve ($((after - before)) AIO slots more in use)"
grep -h "asynchronous I/O" "$T"/m*.log && not_ok "no AIO setup error" || ok "no AIO setup error"
for i in $(seq 1 12); do kill "$(cat "$T/m$i.pid")" 2>/dev/null; done
done_testing
