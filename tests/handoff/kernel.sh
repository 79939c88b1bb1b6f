#!/bin/bash
# mmpctl mount / umount against the real kernel: a held volume and one not
# yet held (claimed first) are mounted and watched (in_use, user kernel);
# while mounted every peer is refused (e2mmpstatus, the peer node's own
# mmpd, a plain mount from a third view), Release is refused and the mount stays; umount
# leaves CLEAN and mmpd forgets the volume, after which the peer mounts it
# and sees our file; umount --keep holds it again with the node's own seq.
# Two mmpctl mount of one volume at once: exactly one mounts.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/handoff/private-ns.sh"     # our mounts in a namespace of our own
require_cmd e2mmpstatus debugfs losetup mount umount mountpoint findmnt jq dmesg python3
. "$top_srcdir/tests/lib/mmpd.sh"

host=$(uname -n)
img=$(mkimg shared 1)
dev=$(loop_attach "$img")       # node-a's view
peer=$(loop_attach "$img")      # node-b's view of the same disk
third=$(loop_attach "$img")     # a third node's, without mmpd
rimg=$(mkimg race 1)
rdev=$(loop_attach "$rimg")
start_mmpd A node-a "data=$dev" "race=$rdev"
start_mmpd B node-b             # the peer node: holds nothing yet
ctl_a() { out=$("$MMPCTL" --socket "$(mmpd_sock A)" "$@" 2>&1); rc=$?; }
ctl_b() { out=$("$MMPCTL" --socket "$(mmpd_sock B)" "$@" 2>&1); rc=$?; }
# seq_is_ours STATUS_SEQ BLOCK_HEX DESC: the block's seq (debugfs, hex) is
# the seq mmpd reported, or one or two heartbeats on (read a moment later).
seq_is_ours() {
        local d
        d=$(( 0x${2:-0} - ${1:-0} ))
        [ -n "$1" ] && [ "$1" != null ] && [ "$d" -ge 0 ] && [ "$d" -le 2 ] && ok "$3 ($2)" ||
                not_ok "$3" "mmpd: ${1:-?}, block: 0x${2:-?}"
}
# field of one volume in `mmpctl --json status` of mmpd A or B
vol_json() { "$MMPCTL" --socket "$(mmpd_sock "$1")" --json status 2>/dev/null |
        jq -c --arg d "$2" '[.volumes[] | select(.device == $d)] | .[0] // empty'; }
# vcall SOCKET METHOD JSON: one varlink call, its reply's parameters (or error) as JSON
vcall() {
        python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(json.dumps({"method": sys.argv[2], "parameters": json.loads(sys.argv[3])}).encode() + b"\0")
buf = b""
while b"\0" not in buf:
    d = s.recv(65536)
    if not d:
        break
    buf += d
r = json.loads(buf.split(b"\0")[0])
print(json.dumps(r.get("parameters", {}) if "error" not in r else {"error": r["error"], **r.get("parameters", {})}))
PY
}
mkdir -p "$T/m" "$T/r1" "$T/r2" "$T/pm" "$T/pk"
for m in "$T/m" "$T/r1" "$T/r2" "$T/pm" "$T/pk"; do track_mount "$m"; done

wait_log A "volume data .*claimed" 40 && wait_log A "volume race .*claimed" 40 &&
        ok "node-a holds both volumes" || bail_out "node-a did not claim"

# ---- two Handoffs at once: exactly one mount --------------------------------
"$MMPCTL" --socket "$(mmpd_sock A)" mount "$rdev" "$T/r1" >"$T/r1.out" 2>&1 &
p1=$!
"$MMPCTL" --socket "$(mmpd_sock A)" mount "$rdev" "$T/r2" >"$T/r2.out" 2>&1 &
p2=$!
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?
diag "race: rc $rc1 / $rc2: $(cat "$T/r1.out") / $(cat "$T/r2.out")"
if [ "$rc1" -eq 0 ] && [ "$rc2" -ne 0 ]; then win=r1 lose=r2 lrc=$rc2
elif [ "$rc2" -eq 0 ] && [ "$rc1" -ne 0 ]; then win=r2 lose=r1 lrc=$rc1
else win= lose= lrc=; fi
[ -n "$win" ] && ok "two mmpctl mount at once: exactly one succeeds" ||
        not_ok "two mmpctl mount at once: exactly one succeeds" "rc $rc1 and $rc2"
is "$(findmnt -rn -S "$rdev" -o TARGET | wc -l)" 1 "the device is mounted exactly once"
if [ -n "$win" ]; then
        mountpoint -q "$T/$win" && ok "the winner's directory is the mount" || not_ok "winner mounted"
        mountpoint -q "$T/$lose" && not_ok "the loser's directory is not mounted" || ok "the loser's directory is not mounted"
        is "$lrc" 1 "the loser exits 1 (volume not usable)"
        case "$(cat "$T/$lose.out")" in
        *"$rdev"*"in use"*) ok "the loser says the volume is in use";;
        *) not_ok "the loser says the volume is in use" "$(cat "$T/$lose.out")";;
        esac
        is "$(vol_json A "$rdev" | jq -r .use.mount_point)" "$T/$win" "mmpd watches the winner's mount"
        ctl_a umount "$T/$win"
        is "$rc" 0 "the winner unmounts with mmpctl umount"
fi

# ---- mmpctl mount of a held volume ------------------------------------------
t0=$(now_ms)
ctl_a mount "$dev" "$T/m"
dur=$(( $(now_ms) - t0 ))
is "$rc" 0 "mmpctl mount of a held volume: exit 0 (${dur} ms)"
diag "$out"
mountpoint -q "$T/m" && ok "it is mounted" || not_ok "it is mounted"
[ "$dur" -lt 3000 ] && ok "a held volume mounts at once (${dur} ms < 3 s)" || not_ok "mount of a held volume took ${dur} ms"
j=$(vol_json A "$dev")
is "$(jq -r .state <<<"$j")" in_use "status --json: state in_use"
is "$(jq -r .use.user <<<"$j")" kernel "status --json: use.user kernel"
is "$(jq -r .use.mount_point <<<"$j")" "$T/m" "status --json: use.mount_point"
is "$(jq -r .use.phase <<<"$j")" in_use "status --json: use.phase in_use"
ctl_a check "$dev"
case "$rc:$out" in 0:"may use $dev until"*) ok "mmpctl check: may use it while the kernel's writes are watched";;
        *) not_ok "mmpctl check: may use it" "rc $rc: $out";; esac
cj=$(vcall "$(mmpd_sock A)" io.mmpd.Check "{\"device\":\"$dev\"}")
is "$(jq -r '[.may_use, .volume.state, .volume.use.user, .volume.use.mount_point] | join(" ")' <<<"$cj" 2>/dev/null)" \
        "true in_use kernel $T/m" "io.mmpd.Check: may_use, in_use, kernel, mount point"
echo "written by node-a" >"$T/m/hello" && sync -f "$T/m/hello" && ok "a file written on the mount" || not_ok "write a file"
is "$(mmp_field "$peer" node_name)" "$host" "the peer reads kmmpd's node name ($host)"

# ---- the peer is refused while mounted --------------------------------------
out=$(e2mmpstatus "$peer" 2>&1); rc=$?
is "$rc" 1 "e2mmpstatus on the peer device exits 1"
case "$out" in *"MMP update by '$host"*) ok "e2mmpstatus names this host ($host)";;
        *) not_ok "e2mmpstatus names this host" "$out";; esac

# plain mount and the peer's mmpctl mount, together (each watches W)
dmesg -W >"$T/dmesg.new" 2>/dev/null &
dpid=$!
sleep 0.3
( t=$(now_ms); mount "$third" "$T/pk" 2>"$T/pk.err"; echo "$? $(( $(now_ms) - t ))" >"$T/pk.rc" ) &
kpid=$!
t0=$(now_ms)
ctl_b mount "$peer" "$T/pm"
bdur=$(( $(now_ms) - t0 ))
is "$rc" 1 "the peer node's mmpctl mount is refused: exit 1 (${bdur} ms)"
case "$out" in *"'$host'"*) ok "its refusal names the holder ($host)";;
        *) not_ok "its refusal names the holder" "$out";; esac
diag "$out"
mountpoint -q "$T/pm" && not_ok "the peer's mmpctl did not mount" || ok "the peer's mmpctl did not mount"

ctl_a release "$dev"
[ "$rc" -ne 0 ] && ok "Release of the mounted volume is refused (exit $rc)" || not_ok "Release refused"
case "$out" in *"still in use by the kernel"*) ok "the refusal says it is in use (UseInProgress)";;
        *) not_ok "the refusal says it is in use" "$out";; esac
mountpoint -q "$T/m" && [ "$(cat "$T/m/hello")" = "written by node-a" ] && ok "the mount stays" || not_ok "the mount stays"
is "$(vol_json A "$dev" | jq -r .state)" in_use "still in_use after the refused release"

wait "$kpid"
read -r krc kdur <"$T/pk.rc"
sleep 0.3
kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
if [ "$krc" -ne 0 ]; then
        ok "plain mount on a third node's device fails (rc $krc after ${kdur} ms)"
else
        not_ok "plain mount on a third node's device fails"; umount "$T/pk"
fi
if grep -q "(device $(basename "$third")).*Device is already active on another node" "$T/dmesg.new"; then
        ok "kernel: Device is already active on another node"
else
        not_ok "kernel: Device is already active on another node" "$(tail -5 "$T/dmesg.new")"
fi
is "$(mmp_field "$peer" node_name)" "$host" "the block still shows the kernel's node"
is "$(vol_json A "$dev" | jq -r .state)" in_use "mmpd still watches the mount (in_use)"

# ---- umount: CLEAN, released, forgotten -------------------------------------
ctl_a umount "$T/m"
is "$rc" 0 "mmpctl umount DIR: exit 0"
diag "$out"
mountpoint -q "$T/m" && not_ok "it is unmounted" || ok "it is unmounted"
is "$(mmp_field "$peer" sequence)" ff4d4d50 "the MMP block is CLEAN on disk"
is "$(vol_json A "$dev")" "" "mmpd no longer lists the volume"
grep -q "volume data .*use by kernel mount $T/m ended: CLEAN on disk; released" "$T/A.log" &&
        ok "mmpd logged the end of the use and the release" || not_ok "mmpd log" "$(tail -3 "$T/A.log")"

# ---- the peer now mounts (claiming first) and sees the file -----------------
t0=$(now_ms)
ctl_b mount "$peer" "$T/pm"
bdur=$(( $(now_ms) - t0 ))
is "$rc" 0 "the peer's mmpctl mount of a volume it does not hold: exit 0 (${bdur} ms)"
diag "$out"
[ "$bdur" -ge 9000 ] && ok "it claimed first (${bdur} ms >= W - 2 s)" || not_ok "it claimed first" "${bdur} ms"
is "$(cat "$T/pm/hello" 2>&1)" "written by node-a" "the peer sees the file"
j=$(vol_json B "$peer")
is "$(jq -r '.state + " " + .use.user + " " + .use.mount_point' <<<"$j")" "in_use kernel $T/pm" \
        "the peer's mmpd: in_use, kernel, its mount point"

# ---- umount --keep: held again with the node's own seq -----------------------
t0=$(now_ms)
ctl_b umount --keep "$T/pm"
kdur=$(( $(now_ms) - t0 ))
is "$rc" 0 "mmpctl umount --keep: exit 0 (${kdur} ms)"
diag "$out"
mountpoint -q "$T/pm" && not_ok "unmounted" || ok "unmounted"
[ "$kdur" -ge 9000 ] && [ "$kdur" -le 20000 ] && ok "held again after about W (${kdur} ms)" ||
        not_ok "held again after about W" "${kdur} ms"
j=$(vol_json B "$peer")
is "$(jq -r .state <<<"$j")" held "the peer's mmpd: state held"
is "$(mmp_field "$dev" node_name)" node-b "the block shows node-b"
seq_is_ours "$(jq -r .seq <<<"$j")" "$(mmp_field "$dev" sequence)" "the block carries node-b's seq"
ctl_b release "$peer"
is "$rc" 0 "the peer releases it"
done_testing
