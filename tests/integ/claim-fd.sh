#!/bin/bash
# io.mmpd.ClaimFd: the caller opens the device and passes the fd with
# SCM_RIGHTS on the same sendmsg() as the call; mmpd claims through it.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd python3 losetup jq
. "$top_srcdir/tests/lib/mmpd.sh"

img=$(mkimg claimfd 1)
dev=$(loop_attach "$img")
start_mmpd A node-a
sock=$(mmpd_sock A)
for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

# call SOCKET METHOD DEVICE [FLAGS]: FLAGS "fd" opens DEVICE O_RDWR|O_DIRECT
# and passes it.  Prints the reply (bounded: 60 s).
call() {
        timeout 60 python3 - "$@" <<'EOPY'
import json, os, socket, sys
path, method, device = sys.argv[1:4]
flags = sys.argv[4] if len(sys.argv) > 4 else ""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
msg = json.dumps({"method": method, "parameters": {"device": device}}).encode() + b"\0"
if "fd" in flags:
    fd = os.open(device, os.O_RDWR | os.O_DIRECT)
    socket.send_fds(s, [msg], [fd])
    os.close(fd)
else:
    s.sendall(msg)
buf = b""
while not buf.endswith(b"\0"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.rstrip(b"\0").decode())
EOPY
}

out=$(call "$sock" io.mmpd.ClaimFd "$dev")
is "$(echo "$out" | jq -r '.error + ":" + .parameters.parameter')" \
        "org.varlink.service.InvalidParameter:fd" "ClaimFd without an fd: InvalidParameter fd"

out=$(call "$sock" io.mmpd.ClaimFd "$dev" fd)
is "$(echo "$out" | jq -r '.parameters.volume.state')" held "ClaimFd with an O_DIRECT fd claims the volume"
"$MMP_WATCH" "$dev" 3 100 >"$T/watch.json"
is "$(jq -c .nodes "$T/watch.json")" '["node-a"]' "the disk shows node-a beating"
[ "$(jq .changes "$T/watch.json")" -ge 2 ] && ok "the seq advances" || not_ok "the seq advances" "$(cat "$T/watch.json")"
check "mmpctl release" "$MMPCTL" --socket "$sock" release "$dev"
case $("$MMPCTL" dump "$dev" | grep '^sequence') in *clean*) ok "released (CLEAN)";;
        *) not_ok "released (CLEAN)" "$("$MMPCTL" dump "$dev")";; esac
stop_mmpd A
done_testing
