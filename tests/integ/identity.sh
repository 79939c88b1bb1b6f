#!/bin/bash
# A device is one volume whatever it is called: ClaimFd of a held device and
# a second path to a held image are AlreadyClaimed at once; a passed fd
# that cannot work is refused at once with what is wrong with it; a static
# volume released and claimed again comes back under its configured name;
# a static volume whose device cannot be used stays listed with its reason
# and FILE:LINE in the log.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd python3 losetup jq
. "$top_srcdir/tests/lib/mmpd.sh"

img=$(mkimg ident 1)
dev=$(loop_attach "$img")
simg=$(mkimg stat 1)
sdev=$(loop_attach "$simg")
fimg=$(mkimg file 1)
mkdir -p "$T/notadev"
mkfifo "$T/fifo"
start_mmpd A node-a "stat=$sdev" "dir=$T/notadev" "fifo=$T/fifo" "zero=/dev/zero"
sock=$(mmpd_sock A)
wait_log A "volume stat .*claimed" 40 || bail_out "static claim failed: $(cat "$T/A.log")"

# call SOCKET METHOD DEVICE [FLAGS]: FLAGS fd (O_RDWR|O_DIRECT), ro
# (O_RDONLY|O_DIRECT) or nodirect (O_RDWR) open DEVICE and pass the fd.
call() {
        timeout 60 python3 - "$@" <<'EOPY'
import json, os, socket, sys
path, method, device = sys.argv[1:4]
flags = sys.argv[4] if len(sys.argv) > 4 else ""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
msg = json.dumps({"method": method, "parameters": {"device": device}}).encode() + b"\0"
mode = {"fd": os.O_RDWR | os.O_DIRECT, "ro": os.O_RDONLY | os.O_DIRECT, "nodirect": os.O_RDWR}.get(flags)
if mode is not None:
    fd = os.open(device, mode)
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
field() { echo "$1" | jq -r "$2"; }

# 1. fds that cannot work: refused at once, saying why
t0=$(now_ms)
out=$(call "$sock" io.mmpd.ClaimFd "$dev" ro)
t=$(( $(now_ms) - t0 ))
case "$(field "$out" .error):$(field "$out" .parameters.reason)" in
io.mmpd.IoError:*O_RDWR*) ok "a read-only fd: IoError naming O_RDWR, in ${t} ms";;
*) not_ok "a read-only fd: IoError naming O_RDWR" "$out";; esac
[ "$t" -lt 2000 ] && ok "refused at once, not at the first write (${t} ms)" || not_ok "refused at once" "${t} ms"
out=$(call "$sock" io.mmpd.ClaimFd "$dev" nodirect)
case "$(field "$out" .error):$(field "$out" .parameters.reason)" in
io.mmpd.IoError:*O_DIRECT*) ok "a block device fd without O_DIRECT: IoError naming O_DIRECT";;
*) not_ok "a block device fd without O_DIRECT: IoError naming O_DIRECT" "$out";; esac
is "$("$MMPCTL" --socket "$sock" status --json | jq --arg d "$dev" '[.volumes[] | select(.device == $d)] | length')" \
        0 "nothing registered for the refused fds"

# 2. ClaimFd of a device held under its path: AlreadyClaimed, at once
out=$(call "$sock" io.mmpd.ClaimFd "$sdev" fd)
is "$(field "$out" .error):$(field "$out" .parameters.state)" "io.mmpd.AlreadyClaimed:held" \
        "ClaimFd of a held device: AlreadyClaimed (held)"
is "$(field "$(call "$sock" io.mmpd.Check "$sdev")" .parameters.volume.name)" stat "still the one volume 'stat'"

# 3. one image, two paths
out=$(call "$sock" io.mmpd.Claim "$fimg")
ln -s "$fimg" "$T/alias.img"
out=$(call "$sock" io.mmpd.Claim "$T/alias.img")
is "$(field "$out" .error)" io.mmpd.AlreadyClaimed "the same image by another path: AlreadyClaimed"
out=$(call "$sock" io.mmpd.Claim "$T/./file.img")
is "$(field "$out" .error)" io.mmpd.AlreadyClaimed "... and spelled another way: AlreadyClaimed"

# 4. a static volume released and claimed again is itself again
check "release the static volume" "$MMPCTL" --socket "$sock" release "$sdev"
out=$(call "$sock" io.mmpd.Claim "$sdev")
is "$(field "$out" '.parameters.volume.name + " " + (.parameters.volume.static | tostring)')" "stat true" \
        "claimed again by its device: name 'stat', static"

# 5. static volumes whose device cannot be used: listed, with a reason
list=$("$MMPCTL" --socket "$sock" status --json | jq .volumes)
for n in dir fifo zero; do
        st=$(echo "$list" | jq -r --arg n "$n" '.[] | select(.name == $n) | .state + ": " + .error')
        case "$st" in refused:*"not a block device or regular file"*) ok "static volume '$n' listed: $st";;
                *) not_ok "static volume '$n' listed as refused with its reason" "$st";; esac
done
line=$(grep -n '^\[volume "fifo"\]' "$T/A.conf" | cut -d: -f1)
grep -q "$T/A.conf:$line: volume fifo: cannot use device $T/fifo: not a block device or regular file" "$T/A.log" &&
        ok "the log names FILE:LINE for the FIFO" || not_ok "the log names FILE:LINE" "$(grep fifo "$T/A.log")"
stop_mmpd A
done_testing
