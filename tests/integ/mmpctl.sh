#!/bin/bash
# mmpctl against the real daemon and real peers: exit codes for every
# command, access control for an unprivileged user, and the control
# socket's limits (1,000 idle connections, an oversized message, a stalled
# half message) while a raw watcher confirms heartbeats stay on time and a
# probe that the event loop keeps answering.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd python3 losetup setpriv jq
. "$top_srcdir/tests/lib/mmpd.sh"

free_img=$(mkimg free 1); free=$(loop_attach "$free_img")
fsck_img=$(mkimg fsck 1); "$MMP_EDIT" "$fsck_img" seq=fsck node=fsckhost >/dev/null; fsck=$(loop_attach "$fsck_img")
other_img=$(mkimg other 1); other_b=$(loop_attach "$other_img"); other_a=$(loop_attach "$other_img")

start_mmpd B node-b "theirs=$other_b"          # another node holding a volume
start_mmpd A node-a
wait_log B "claimed" 40 || bail_out "node-b did not claim"
export MMPD_SOCKET=$(mmpd_sock A)
ctl() { out=$("$MMPCTL" "$@" 2>&1); rc=$?; }

ctl claim "$free";      is "$rc" 0 "claim a free volume: exit 0"
ctl check "$free";      is "$rc" 0 "check: this node may use it (exit 0)"
case "$out" in *"may use $free until"*) ok "check says until when";; *) not_ok "check says until when" "$out";; esac
ctl check --quiet "$free"; is "$rc:$out" "0:" "check --quiet prints nothing"
ctl status --json;       is "$(jq -r ".volumes[] | select(.device == \"$free\") | .state" <<<"$out")" held "status --json: held"
ctl status "$free";      case "$out" in *held*node-a*) ok "status table shows held by node-a";; *) not_ok "status table" "$out";; esac
ctl claim "$free";      is "$rc" 0 "claiming an already held volume again: exit 0"
ctl claim "$fsck";      is "$rc" 1 "claim of an fsck-held volume: exit 1"
case "$out" in *clear_mmp*) ok "fsck refusal gives the clear_mmp hint";; *) not_ok "clear_mmp hint" "$out";; esac
ctl claim "$other_a";   is "$rc" 1 "claim of a volume another node holds: exit 1"
case "$out" in *"node-b"*) ok "refusal names the holder node-b";; *) not_ok "names node-b" "$out";; esac
ctl check "$other_a";   is "$rc" 1 "check of a volume we do not hold: exit 1"
ctl release "$T/nope";  is "$rc" 1 "release of an unknown volume: exit 1"
ctl dump "$free";       case "$out" in *node-a*) ok "dump shows our node";; *) not_ok "dump" "$out";; esac

# access control: an unprivileged user may look, not claim or release
as_nobody() { out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$MMPCTL" --socket "$MMPD_SOCKET" "$@" 2>&1); rc=$?; }
chmod 755 "$T"
as_nobody status;         is "$rc" 0 "unprivileged status works"
as_nobody check "$free";  is "$rc" 0 "unprivileged check works"
as_nobody release "$free"; is "$rc" 2 "unprivileged release refused (exit 2)"
case "$out" in *ermission*) ok "refusal says permission denied";; *) not_ok "permission denied" "$out";; esac
ctl check "$free";        is "$rc" 0 "volume still held after the refused release"

# limits, while a raw watcher measures the heartbeat and a probe asks Check
# every 50 ms on its own connection (how long the event loop kept it waiting)
"$MMP_WATCH" "$free" 25 100 >"$T/watch.json" &
wpid=$!
python3 - "$MMPD_SOCKET" "$free" <<'PY' >"$T/limits.out" 2>&1
import socket, sys, time, json, threading
path, dev = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); return s
done = threading.Event()
probe = {"n": 0, "max": 0.0, "bad": 0}
def prober():
    p = conn(); p.settimeout(30)
    req = json.dumps({"method": "io.mmpd.Check", "parameters": {"device": dev}}).encode() + b"\0"
    while not done.is_set():
        t = time.monotonic(); p.sendall(req); r = b""
        while not r.endswith(b"\0"):
            r += p.recv(65536)
        dt = time.monotonic() - t
        probe["n"] += 1; probe["max"] = max(probe["max"], dt)
        if "error" in json.loads(r.rstrip(b"\0")): probe["bad"] += 1
        done.wait(0.05)
pt = threading.Thread(target=prober); pt.start()
idle = [conn() for _ in range(1000)]
print("idle", len(idle))
big = conn(); big.settimeout(10)
try:
    big.sendall(b'{"method":"io.mmpd.List","parameters":{"x":"' + b"a" * (2 << 20) + b'"}}\0')
except OSError:
    pass
try:
    print("oversize", "closed" if big.recv(1) == b"" else "answered")
except OSError:
    print("oversize", "closed")
half = conn(); half.sendall(b'{"method":"io.mmpd.Li'); half.settimeout(20)
t0 = time.monotonic()
try:
    r = half.recv(1)
except OSError:
    r = b"x"
print("partial", "closed" if r == b"" else "open", round(time.monotonic() - t0, 1))
c = conn(); c.sendall(b'{"method":"org.varlink.service.GetInfo"}\0'); c.settimeout(5)
print("getinfo", json.loads(c.recv(65536).rstrip(b"\0"))["parameters"]["product"])
done.set(); pt.join()
print("probe", probe["n"], round(probe["max"] * 1e6), probe["bad"])
PY
wait "$wpid"
diag "$(cat "$T/limits.out")"
grep -q "^idle 1000" "$T/limits.out" && ok "1,000 idle connections accepted" || not_ok "1,000 idle connections"
grep -q "^oversize closed" "$T/limits.out" && ok "oversized message: connection closed" || not_ok "oversized message closes"
grep -qE "^partial closed (9|10|11)\." "$T/limits.out" && ok "stalled half message closed after the 10 s timeout" || not_ok "partial timeout"
grep -q "^getinfo mmpd" "$T/limits.out" && ok "still answering GetInfo" || not_ok "still answering"
# Nothing a client sends may delay a heartbeat.  The peer's view (the
# watcher's longest gap between two sequences, interval 1 s) is the test.
# The image files share the machine's disk with the other tests: a write
# that it holds up (a gap of 3.5 s was seen on a loaded machine) may add
# its time (mmpd's slowest I/O of the volume) to the gap, but only while
# the event loop answered the probe within 500 ms all along: a loop that
# clients hold up would have held up the probe too, and the I/O's time.
read -r pn pmax pbad < <(sed -n 's/^probe //p' "$T/limits.out")
pmax=${pmax:-999999999}
[ "${pn:-0}" -ge 50 ] && [ "$pmax" -le 500000 ] && [ "$pbad" -eq 0 ] &&
        ok "the event loop answered Check within 500 ms meanwhile ($pn probes, slowest $pmax us)" ||
        not_ok "the event loop answered Check within 500 ms meanwhile" "probes ${pn:-none}, slowest $pmax us, errors ${pbad:-?}"
gap=$(jq .max_gap_ms "$T/watch.json")
io_ms=$(io_max_ms A "$free")
if [ "$gap" -le 2000 ]; then
        ok "heartbeats on time meanwhile (max gap ${gap} ms; slowest I/O ${io_ms} ms)"
elif [ "$gap" -le $((2000 + io_ms)) ] && [ "$pmax" -le 500000 ]; then
        ok "heartbeats on time meanwhile, but for the device (max gap ${gap} ms, of it up to ${io_ms} ms one slow I/O)"
        diag "$(grep "slow I/O" "$T/A.log")"
else
        not_ok "heartbeats on time" "$(cat "$T/watch.json")" "slowest I/O ${io_ms} ms" "$(grep -i "slow\|late" "$T/A.log")"
fi

ctl release "$free";     is "$rc" 0 "release: exit 0"
is "$(mmp_field "$free" sequence)" ff4d4d50 "released volume is CLEAN"
stop_mmpd A TERM
ctl status;              is "$rc" 2 "mmpd not running: exit 2"
case "$out" in *"is mmpd running"*) ok "says mmpd is not running";; *) not_ok "not running message" "$out";; esac
done_testing
