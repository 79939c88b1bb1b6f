#!/bin/bash
# Process life cycle: sd_notify READY/STATUS/WATCHDOG; SIGHUP adds and
# removes static volumes and keeps the old config when the new one is bad;
# keep_on_stop leaves volumes held across an exit; SIGKILL leaves the block
# as it was (peers must wait W); SIGTERM releases.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs python3 e2mmpstatus
. "$top_srcdir/tests/lib/mmpd.sh"

# --- notify: a datagram socket standing in for systemd
cat >"$T/notify.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(0.2)
end = time.time() + float(sys.argv[2])
with open(sys.argv[3], "w") as out:
    while time.time() < end:
        try:
            out.write(s.recv(4096).decode() + "\n"); out.flush()
        except socket.timeout:
            pass
PY
img1=$(mkimg one 1); d1=$(loop_attach "$img1")
img2=$(mkimg two 1); d2=$(loop_attach "$img2")
python3 "$T/notify.py" "$T/notify.sock" 12 "$T/notify.out" &
npid=$!
sleep 0.3
write_conf A node-a "one=$d1"
( export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 WATCHDOG_PID=$BASHPID
  exec "$MMPD" --config "$T/A.conf" >>"$T/A.log" 2>&1 ) &
echo $! >"$T/A.pid"
disown $! 2>/dev/null
wait_log A "volume one .*claimed" 40 && ok "static volume claimed" || not_ok "static volume claimed"
wait "$npid"
grep -qx "READY=1" "$T/notify.out" && ok "READY=1 sent" || not_ok "READY=1 sent" "$(cat "$T/notify.out")"
grep -q "^STATUS=held 1, claiming 0, lost 0" "$T/notify.out" && ok "STATUS= counts the held volume" || not_ok "STATUS= counts" "$(grep STATUS "$T/notify.out")"
[ "$(grep -c "^WATCHDOG=1" "$T/notify.out")" -ge 10 ] && ok "WATCHDOG=1 every half interval" || not_ok "WATCHDOG=1" "$(grep -c WATCHDOG "$T/notify.out")"

# --- SIGHUP: swap volume one for volume two
write_conf A node-a "two=$d2"
kill -HUP "$(mmpd_pid A)"
wait_log A "volume two .*claimed" 40 && ok "SIGHUP added a volume" || not_ok "SIGHUP added a volume"
wait_log A "volume one .*released" 10 && ok "SIGHUP released the removed volume" || not_ok "SIGHUP released the removed volume"
is "$(mmp_field "$d1" sequence)" ff4d4d50 "removed volume is CLEAN on disk"

# --- SIGHUP with a broken file: old config kept
printf '[mmpd]\nnode_name = node-a\nbogus = 1\n' >"$T/A.conf"
kill -HUP "$(mmpd_pid A)"
wait_log A "A.conf:3: unknown key 'bogus'" 5 && ok "bad reload names file:line" || not_ok "bad reload names file:line"
wait_log A "keeping the old configuration" 5 && ok "bad reload keeps the old config" || not_ok "keeps old config"
s1=$(mmp_field "$d2" sequence); sleep 1.5; s2=$(mmp_field "$d2" sequence)
[ "$s1" != "$s2" ] && ok "volume two still heartbeating" || not_ok "volume two still heartbeating"

# --- SIGKILL: block left as it was (no CLEAN); a peer must wait
stop_mmpd A KILL
s=$(mmp_field "$d2" sequence)
[ "$s" != ff4d4d50 ] && ok "SIGKILL leaves our seq ($s), not CLEAN" || not_ok "SIGKILL leaves our seq"
t0=$(now_ms); e2mmpstatus "$d2" >/dev/null 2>&1; rc=$?; dt=$(( $(now_ms) - t0 ))
is "$rc" 0 "e2mmpstatus finds it safe only after waiting"
[ "$dt" -ge 10000 ] && ok "the peer had to wait W (${dt} ms)" || not_ok "peer waited W" "${dt} ms"

# --- keep_on_stop: SIGTERM exits without releasing
start_mmpd B node-b keep_on_stop=yes "two=$d2"
wait_log B "volume two .*claimed" 40 && ok "claimed by a keep_on_stop daemon" || not_ok "keep_on_stop claim"
stop_mmpd B TERM
grep -q "keeping 1 held volume" "$T/B.log" && ok "keep_on_stop: exit keeps the hold" || not_ok "keep_on_stop message"
s=$(mmp_field "$d2" sequence); n=$(mmp_field "$d2" node_name)
[ "$s" != ff4d4d50 ] && [ "$n" = node-b ] && ok "keep_on_stop: block still ours, not CLEAN" || not_ok "block still ours" "$s $n"
done_testing
