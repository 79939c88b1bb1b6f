#!/bin/bash
# CLEAN on disk while the kernel still holds the device.  A remount read-only
# writes CLEAN and stops kmmpd, and keeps the device open; umount(2) does the
# same for the moments between kmmpd's last write and letting the device go
# (a read of mmpd's may land in between).  mmpd then waits (5 s) for the
# device to be let go before it decides:
#   let go in time (the unmount finished) -> released, as for any unmount,
#     and an EndUse (mmpctl umount) asked meanwhile is answered then;
#   still held -> re-claimed, to keep guarding the read-only mount.
. "$top_srcdir/tests/lib/tap.sh"
require_root
. "$top_srcdir/tests/handoff/private-ns.sh"
require_cmd debugfs losetup mount umount mountpoint jq
. "$top_srcdir/tests/lib/mmpd.sh"

SETTLE_MS=5000
one=$(loop_attach "$(mkimg one 1)")
two=$(loop_attach "$(mkimg two 1)")
start_mmpd A node-a "one=$one" "two=$two"
ctl() { out=$("$MMPCTL" --socket "$(mmpd_sock A)" "$@" 2>&1); rc=$?; }
vol_json() { "$MMPCTL" --socket "$(mmpd_sock A)" --json status 2>/dev/null |
        jq -c --arg d "$1" '[.volumes[] | select(.device == $d)] | .[0] // empty'; }
mkdir -p "$T/m1" "$T/m2"
track_mount "$T/m1"
track_mount "$T/m2"
wait_log A "volume one .*claimed" 40 && wait_log A "volume two .*claimed" 40 &&
        ok "node-a holds both volumes" || bail_out "node-a did not claim"

# ---- remount read-only, then mmpctl umount while mmpd waits: released -------
ctl mount "$one" "$T/m1"
is "$rc" 0 "mmpctl mount one: exit 0"
echo data >"$T/m1/f" && sync -f "$T/m1/f" || not_ok "write a file"
mount -o remount,ro "$T/m1"
is "$?" 0 "remount read-only"
wait_log A "volume one .*kernel mount $T/m1 wrote CLEAN, the device is still open exclusively: waiting" 15 &&
        ok "mmpd sees CLEAN with the device still held, and waits" || not_ok "mmpd waits"
j=$(vol_json "$one")
is "$(jq -r '.state + " " + .use.phase' <<<"$j")" "in_use ending" "status: in_use, phase ending"
is "$(mmp_field "$one" sequence)" ff4d4d50 "the block is CLEAN (mmpd writes nothing while it waits)"
t0=$(now_ms)
ctl umount "$T/m1"
udur=$(( $(now_ms) - t0 ))
is "$rc" 0 "mmpctl umount while mmpd waits: exit 0 (${udur} ms)"
diag "$out"
case "$out" in *released*) ok "mmpctl says it was released";;
        *) not_ok "mmpctl says it was released" "$out";; esac
mountpoint -q "$T/m1" && not_ok "unmounted" || ok "unmounted"
grep -q "volume one .*use by kernel mount $T/m1 ended: CLEAN on disk; released" "$T/A.log" &&
        ok "mmpd: the use ended, released" || not_ok "mmpd: released" "$(tail -3 "$T/A.log")"
grep -q "volume one .*re-claiming" "$T/A.log" && not_ok "it did not re-claim" "$(grep "volume one" "$T/A.log" | tail -3)" ||
        ok "it did not re-claim"
is "$(vol_json "$one")" "" "mmpd no longer lists it"
is "$(mmp_field "$one" sequence)" ff4d4d50 "the block stays CLEAN"

# ---- remount read-only and keep it mounted: re-claimed after the wait -------
ctl mount "$two" "$T/m2"
is "$rc" 0 "mmpctl mount two: exit 0"
echo data2 >"$T/m2/f" && sync -f "$T/m2/f" || not_ok "write a file"
mount -o remount,ro "$T/m2"
is "$?" 0 "remount read-only"
wait_log A "volume two .*wrote CLEAN, the device is still open exclusively: waiting" 15 &&
        ok "mmpd waits" || not_ok "mmpd waits"
t0=$(now_ms)
wait_log A "volume two .*still open exclusively after 5 s .*re-claiming to keep guarding it" 15 &&
        ok "still held after the wait: mmpd re-claims to keep guarding it" || not_ok "re-claimed"
wdur=$(( $(now_ms) - t0 ))
# t0 is at most one poll (and any stall of ours) after mmpd began to wait.
[ "$wdur" -ge $(( SETTLE_MS - 1000 )) ] && ok "after the wait (${wdur} ms >= ${SETTLE_MS} ms - 1 s)" ||
        not_ok "after the wait" "${wdur} ms"
for _ in $(seq 1 400); do
        [ "$(vol_json "$two" | jq -r .state)" = held ] && break
        sleep 0.1
done
is "$(vol_json "$two" | jq -r .state)" held "held again after the full claim"
is "$(mmp_field "$two" node_name)" node-a "the block shows node-a"
mountpoint -q "$T/m2" && [ "$(cat "$T/m2/f")" = data2 ] && ok "the read-only mount stays" ||
        not_ok "the read-only mount stays"
umount "$T/m2"
ctl release "$two"
is "$rc" 0 "released"
is "$(mmp_field "$two" sequence)" ff4d4d50 "CLEAN after the release"
done_testing
