#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# mmpctl's mmpd commands (status, claim, release, check, watch, mount,
# umount, exec) against tests/client/fake-mmpd: exit status and message for
# every case, and the message when mmpd is not there.  Nothing here mounts:
# the mounts that get as far as mount(2) fail by design (no such fs type).  See tests/client/fake-server.h for what
# the fake answers per device.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/client/fake.sh"

MMPCTL=$top_builddir/mmpctl/mmpctl
TZ=UTC
export TZ
unset MMPD_SOCKET

S=$tmp/io.mmpd
start_fake "$S" hold
start_fake "$tmp/close.mmpd" close
start_fake "$tmp/final.mmpd" final

# run ARGS...: mmpctl --socket $S ARGS; sets $rc, $out, $err.
run() {
        "$MMPCTL" --socket "$S" "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        out=$(cat "$tmp/out")
        err=$(cat "$tmp/err")
}

# expect DESC RC OUT ERR: the last run's exit status and exact output.
expect() {
        is "$rc|$out|$err" "$2|$3|$4" "$1"
}

# --- status -----------------------------------------------------------------
run status
expect "status: table, with USE when a volume is in use" 0 \
"VOLUME  DEVICE      STATE    SEQ  HEARTBEAT  HOLDER   CHECK  USE
data    /dev/loop1  held     42   1.5s ago   a/loop1  10s    -
logs    /dev/loop0  refused  -    -          b/sdc    10s    -
srv     /dev/loop3  in_use   77   -          a/loop3  10s    kernel mount /srv" ""

run status /dev/loop0
expect "status DEVICE: one row" 0 "VOLUME  DEVICE      STATE    SEQ  HEARTBEAT  HOLDER  CHECK
logs    /dev/loop0  refused  -    -          b/sdc   10s" ""

run status /dev/loop3
expect "status DEVICE in use: what uses it" 0 "VOLUME  DEVICE      STATE   SEQ  HEARTBEAT  HOLDER   CHECK  USE
srv     /dev/loop3  in_use  77   -          a/loop3  10s    kernel mount /srv" ""

run status logs
is "$rc|$(echo "$out" | tail -n 1 | cut -c1-4)" "0|logs" "status NAME finds a volume by name"

run status /dev/nothing
expect "status unknown DEVICE: exit 2" 2 "" "mmpctl: mmpd does not know /dev/nothing"

run status a b
is "$rc|$(echo "$err" | head -n 1)" "2|Usage: mmpctl status [--json] [--socket PATH] [DEVICE]" \
        "status with two devices: usage, exit 2"

if command -v jq >/dev/null 2>&1; then
        run status --json
        is "$rc|$(echo "$out" | jq -c '[.volumes[] | [.name, .device, .state, .seq, .holder.node]]')" \
                '0|[["data","/dev/loop1","held",42,"a"],["logs","/dev/loop0","refused",null,"b"],["srv","/dev/loop3","in_use",77,"a"]]' \
                "status --json: the List reply's parameters"
        is "$(echo "$out" | wc -l)" "1" "status --json: one line"
        "$MMPCTL" --json --socket "$S" status >"$tmp/out2"
        is "$(jq -c '.volumes | length' "$tmp/out2")" "3" "global --json works for status"
        run status --json /dev/loop1
        is "$rc|$(echo "$out" | jq -c '[.name, .fence_at_usec > 0, .holder.device]')" \
                '0|["data",true,"loop1"]' "status --json DEVICE: that Volume object"
else
        if in_ci; then
                not_ok "status --json" "jq missing and CI=true"
        else
                skip "status --json" "jq not installed"
        fi
fi

# --- claim ------------------------------------------------------------------
run claim /dev/loop2
expect "claim: claimed, quiet off a terminal" 0 "" ""
run claim --name new /dev/loop2
expect "claim --name" 0 "" ""
run claim /dev/loop0
expect "claim refused by another node: exit 1, naming the holder" 1 "" \
        "mmpctl: refused: /dev/loop0 is in use by node 'b' (device sdc, seq 1234)"
run claim /dev/fsck
expect "claim while fsck holds it: exit 1" 1 "" \
        "mmpctl: refused: /dev/fsck is held by an e2fsprogs tool (fsck) on node 'c'; if no e2fsprogs tool runs on c: tune2fs -f -E clear_mmp /dev/fsck"
run claim /dev/corrupt
expect "claim corrupt MMP block: exit 1" 1 "" \
        "mmpctl: refused: /dev/corrupt has a corrupt MMP block: bad magic"
run claim /dev/loop1
expect "claim already held by this node: exit 0" 0 "" ""
run claim /dev/claiming
expect "claim while a claim is under way: exit 1" 1 "" \
        "mmpctl: refused: /dev/claiming is already claimed (state claiming)"
run claim /dev/notmmp
expect "claim without the mmp feature: exit 2" 2 "" \
        "mmpctl: /dev/notmmp is not an ext4 filesystem with MMP: no mmp feature"
run claim /dev/denied
expect "claim not permitted: exit 2" 2 "" \
        "mmpctl: permission denied by mmpd (root or its admin group only)"
run claim /dev/failed
expect "claim failed: exit 2" 2 "" "mmpctl: claiming /dev/failed failed: write failed"
run claim /dev/hangup
expect "claim, mmpd hangs up: exit 2" 2 "" "mmpctl: mmpd closed the connection"
run claim
is "$rc|$(echo "$err" | head -n 1)" "2|Usage: mmpctl claim [--name NAME] [--socket PATH] DEVICE" \
        "claim without DEVICE: usage, exit 2"

# On a terminal: a live progress line on stderr.  script(1) gives a pty.
if command -v script >/dev/null 2>&1; then
        script -qec "'$MMPCTL' --socket '$S' claim /dev/loop2" /dev/null >"$tmp/tty" 2>&1
        rc=$?
        tr '\r' '\n' <"$tmp/tty" | sed 's/\x1b\[K//g' | grep -v '^$' >"$tmp/lines"
        is "$rc|$(cat "$tmp/lines")" "0|/dev/loop2: reading the MMP block...
/dev/loop2: waiting 21 s for a live holder...
/dev/loop2: writing our sequence number...
/dev/loop2: waiting 21 s for a live holder...
/dev/loop2: verifying
claimed /dev/loop2 (seq 7)" "claim on a terminal: live progress line, then the outcome"
        script -qec "'$MMPCTL' --socket '$S' claim /dev/loop0" /dev/null >"$tmp/tty" 2>&1
        rc=$?
        tr '\r' '\n' <"$tmp/tty" | sed 's/\x1b\[K//g' | grep -v '^$' | tail -n 1 >"$tmp/lines"
        is "$rc|$(cat "$tmp/lines")" \
                "1|mmpctl: refused: /dev/loop0 is in use by node 'b' (device sdc, seq 1234)" \
                "claim refused on a terminal: the line is cleared for the refusal"
else
        skip "claim on a terminal" "script(1) not installed"
        skip "claim refused on a terminal" "script(1) not installed"
fi

# --- release ----------------------------------------------------------------
run release /dev/loop1
expect "release: exit 0, quiet" 0 "" ""
run release /dev/none
expect "release of a volume mmpd does not hold: exit 1" 1 "" \
        "mmpctl: not held: mmpd does not know /dev/none"
run release /dev/ioerr
expect "release I/O error: exit 2" 2 "" "mmpctl: I/O error on /dev/ioerr: read failed (Input/output error)"
run release /dev/denied
expect "release not permitted: exit 2" 2 "" \
        "mmpctl: permission denied by mmpd (root or its admin group only)"

# --- check ------------------------------------------------------------------
run check /dev/loop1
case "$rc|$out|$err" in
"0|may use /dev/loop1 until "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]" "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]" UTC (in 1"[45]" s)|")
        ok "check held volume: exit 0, until when" ;;
*)      not_ok "check held volume: exit 0, until when" "got: $rc|$out|$err" ;;
esac
run check --quiet /dev/loop1
expect "check --quiet, may use: silent exit 0" 0 "" ""
run check /dev/loop0
expect "check, another node holds it: exit 1" 1 \
        "may not use /dev/loop0: node 'b' holds it (device sdc, seq 1234)" ""
run check /dev/claiming
expect "check during a claim: exit 1" 1 \
        "may not use /dev/claiming: a claim is in progress (waiting-claim)" ""
run check /dev/expired
expect "check past the fence deadline: exit 1" 1 \
        "may not use /dev/expired: its fence deadline has passed (no heartbeat verified in time)" ""
run check /dev/none
expect "check, mmpd does not hold it: exit 1" 1 "may not use /dev/none: mmpd does not hold it" ""
run check -q /dev/none
expect "check --quiet, may not: silent exit 1" 1 "" ""
run check /dev/ioerr
expect "check I/O error: exit 2" 2 "" "mmpctl: I/O error on /dev/ioerr: read failed (Input/output error)"
run check --quiet /dev/garbage
expect "check --quiet, bad reply: exit 2, the error still said" 2 "" \
        "mmpctl: malformed reply from mmpd: '[' or '{' expected near 'this'"

# --- watch ------------------------------------------------------------------
want_events="progress new (/dev/loop2): reading
claimed new (/dev/loop2): seq 7
slow_io data (/dev/loop1): an MMP I/O took 2.5 s
lost data (/dev/loop1): no heartbeat verified by the fence deadline
released new (/dev/loop2)
in_use srv (/dev/loop3): kernel mount /srv
teleported new (/dev/loop2): state held"

"$MMPCTL" --socket "$tmp/close.mmpd" watch >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc|$(cut -d' ' -f4- "$tmp/out")|$(cat "$tmp/err")" "2|$want_events|mmpctl: mmpd closed the connection" \
        "watch: one line per event; exit 2 when the connection breaks"
case $(head -n 1 "$tmp/out") in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]" "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]" UTC progress "*) ok "watch lines start with the time" ;;
*) not_ok "watch lines start with the time" "$(head -n 1 "$tmp/out")" ;;
esac

"$MMPCTL" --socket "$tmp/final.mmpd" watch >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc|$(wc -l <"$tmp/out")|$(cat "$tmp/err")" "0|7|mmpctl: mmpd ended the watch" \
        "watch: exit 0 when mmpd ends the stream"

if command -v jq >/dev/null 2>&1; then
        "$MMPCTL" --socket "$tmp/close.mmpd" watch --json >"$tmp/out" 2>/dev/null
        is "$(jq -s -c 'map(.type)' "$tmp/out")" \
                '["progress","claimed","slow_io","lost","released","in_use","teleported"]' \
                "watch --json: one Event object per line"
        is "$(jq -s -c '.[2].io_usec' "$tmp/out")|$(wc -l <"$tmp/out")" "2500000|7" "watch --json: fields kept"
else
        skip "watch --json" "jq not installed"
        skip "watch --json fields" "jq not installed"
fi

# Runs until interrupted: SIGINT and SIGTERM end it with exit 0.
for sig in INT TERM; do
        "$MMPCTL" --socket "$S" watch >"$tmp/w.out" 2>"$tmp/w.err" &
        wp=$!
        _i=0
        while [ "$(wc -l <"$tmp/w.out")" -lt 7 ] && [ $_i -lt 100 ]; do
                sleep 0.05
                _i=$((_i + 1))
        done
        sleep 0.1
        kill -0 "$wp" 2>/dev/null && still=running || still=ended
        kill -"$sig" "$wp"
        wait "$wp"
        rc=$?
        is "$still|$rc|$(wc -l <"$tmp/w.out")|$(cat "$tmp/w.err")" "running|0|7|" \
                "watch keeps running after the events, SIG$sig ends it with exit 0"
done

# --- mount ------------------------------------------------------------------
mkdir "$tmp/dir"
usage_mount="Usage: mmpctl mount [-o OPTIONS] [-t TYPE] [--mode fast|wait] [--socket PATH]"
run mount /dev/loop1
is "$rc|$(echo "$err" | head -n 1)" "2|$usage_mount" "mount without DIR: usage, exit 2"
run mount /dev/loop1 "$tmp/dir" extra
is "$rc|$(echo "$err" | head -n 1)" "2|$usage_mount" "mount with three arguments: usage, exit 2"
run mount --mode slow /dev/loop1 "$tmp/dir"
is "$rc|$(echo "$err" | head -n 2)" "2|mmpctl: --mode: 'slow' is neither fast nor wait
$usage_mount" "mount --mode slow: named, usage, exit 2"
run mount --help
is "$rc|$(echo "$out" | head -n 1)" "0|$usage_mount" "mount --help: usage on stdout, exit 0"

# The non-root refusal, as nobody when we are root.
if [ "$(id -u)" != 0 ]; then
        run mount /dev/loop1 "$tmp/dir"
        expect "mount as non-root: refused before asking mmpd" 2 "" \
                "mmpctl: cannot mount /dev/loop1 on $tmp/dir: must be superuser to use mmpctl mount"
elif command -v setpriv >/dev/null 2>&1; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$MMPCTL" --socket "$S" \
                mount /dev/loop1 "$tmp/dir" >"$tmp/out" 2>"$tmp/err"
        is "$?|$(cat "$tmp/out")|$(cat "$tmp/err")" \
                "2||mmpctl: cannot mount /dev/loop1 on $tmp/dir: must be superuser to use mmpctl mount" \
                "mount as non-root: refused before asking mmpd"
else
        skip "mount as non-root" "setpriv(1) not installed"
fi

if [ "$(id -u)" = 0 ]; then
        run mount -o ro /dev/loop1 "$tmp/dir"
        expect "mount -o ro: refused, read-only mounts do no MMP" 2 "" \
                "mmpctl: read-only mounts do no MMP; mmpctl mount hands volumes to read-write mounts only (a read-only mount would not be watched)"
        run mount -o noatime,ro /dev/loop1 "$tmp/dir"
        expect "mount -o noatime,ro: refused too" 2 "" \
                "mmpctl: read-only mounts do no MMP; mmpctl mount hands volumes to read-write mounts only (a read-only mount would not be watched)"
        run mount /dev/loop1 "$tmp/nodir"
        expect "mount on a missing DIR: said before any handoff" 2 "" \
                "mmpctl: cannot mount /dev/loop1 on $tmp/nodir: mount point does not exist"
        run mount /dev/loop3 "$tmp/dir"
        expect "mount of a volume in use: exit 1, naming its user" 1 "" \
                "mmpctl: /dev/loop3 is in use already: kernel mount /srv"
        # mount(2) itself fails after go: the cause, then mmpd claims it back.
        run mount -t nosuchfs-mmpd /dev/loop1 "$tmp/dir"
        expect "mount failing after the handoff: libmount's reason, EndUse keep, exit 2" 2 "" \
                "mmpctl: cannot mount /dev/loop1 on $tmp/dir: unknown filesystem type 'nosuchfs-mmpd'
mmpd claims /dev/loop1 again"
else
        for t in "mount -o ro" "mount on a missing DIR" "mount of a volume in use" \
                 "mount failing after the handoff"; do
                if in_ci; then
                        not_ok "$t" "needs root and CI=true"
                else
                        skip "$t" "needs root (libmount refuses non-root mounts first)"
                fi
        done
fi

# --- umount -----------------------------------------------------------------
usage_umount="Usage: mmpctl umount [--keep] [--socket PATH] DIR|DEVICE"
run umount
is "$rc|$(echo "$err" | head -n 1)" "2|$usage_umount" "umount without an argument: usage, exit 2"
run umount --frobnicate /srv
is "$rc|$(echo "$err" | tail -n +2 | head -n 1)" "2|$usage_umount" "umount with a bad option: usage, exit 2"
run umount "$tmp/nodir"
expect "umount of a path that is not mounted: named, exit 2" 2 "" "mmpctl: $tmp/nodir is not mounted"
run umount /proc
expect "umount of a mount mmpd does not watch: left alone, exit 2" 2 "" \
        "mmpctl: mmpd does not watch the mount on /proc (proc); unmount it with umount(8)"
[ -d /proc/self ] && ok "  and /proc is still mounted" || not_ok "  and /proc is still mounted"

# --- exec -------------------------------------------------------------------
usage_exec="Usage: mmpctl exec [--keep] [--socket PATH] DEVICE -- COMMAND [ARGS...]"
run exec /dev/loop1 true
is "$rc|$(echo "$err" | head -n 2)" "2|mmpctl: exec: put -- before the command
$usage_exec" "exec without --: said, usage, exit 2"
run exec /dev/loop1 --
is "$rc|$(echo "$err" | head -n 1)" "2|$usage_exec" "exec without a command: usage, exit 2"
run exec -- true
is "$rc|$(echo "$err" | head -n 1)" "2|$usage_exec" "exec without DEVICE: usage, exit 2"
run exec /dev/loop1 -- no-such-command-mmpd --flag
expect "exec of a missing command: said before any handoff, exit 127" 127 "" \
        "mmpctl: cannot run no-such-command-mmpd: No such file or directory"
: >"$tmp/notexec"
run exec /dev/loop1 -- "$tmp/notexec"
expect "exec of a file that is not executable: exit 127" 127 "" \
        "mmpctl: cannot run $tmp/notexec: Permission denied"
run exec /dev/loop1 -- sh -c 'echo "out $1"; exit 3' sh arg
expect "exec: the command's output and exit status; mmpd released the volume" 3 "out arg" \
        "sh exited with status 3; mmpd released /dev/loop1"
run exec --keep /dev/loop1 -- true
expect "exec --keep: claimed again and held" 0 "" \
        "true exited with status 0; mmpd claims /dev/loop1 again
claimed /dev/loop1 (seq 42)"
run exec /dev/loop2 -- true
expect "exec of a volume mmpd does not know: claims it first" 0 "" \
        "claiming /dev/loop2 (this takes about twice its MMP wait)
claimed /dev/loop2 (seq 7)
true exited with status 0; mmpd released /dev/loop2"
run exec /dev/loop1 -- sh -c 'kill -TERM $$'
expect "exec: a command killed by a signal: 128+N" 143 "" \
        "sh was killed by signal 15 (Terminated); mmpd released /dev/loop1"
run exec /dev/loop3 -- true
expect "exec on a volume in use: exit 1, the command never runs" 1 "" \
        "mmpctl: /dev/loop3 is in use already: kernel mount /srv"
run exec /dev/handoff-failed -- true
expect "exec, the tool never writes MMP: mmpd claims it again, and says why" 0 "" \
        "true exited with status 0; mmpd claims /dev/handoff-failed again
mmpctl: note: handing /dev/handoff-failed over failed: no write from the user within 30 s (mmpd claims it again)"
run exec /dev/denied -- true
expect "exec not permitted: exit 2, the command never runs" 2 "" \
        "mmpctl: permission denied by mmpd (root or its admin group only)"

# SIGTERM to mmpctl reaches the command.
"$MMPCTL" --socket "$S" exec /dev/loop1 -- sh -c 'touch "$1"; exec sleep 30' sh "$tmp/started" \
        >"$tmp/x.out" 2>"$tmp/x.err" &
xp=$!
_i=0
while [ ! -e "$tmp/started" ] && [ $_i -lt 100 ]; do
        sleep 0.05
        _i=$((_i + 1))
done
kill -TERM "$xp"
wait "$xp"
is "$?|$(cat "$tmp/x.err")" "143|sh was killed by signal 15 (Terminated); mmpd released /dev/loop1" \
        "exec: SIGTERM to mmpctl is passed to the command"

# --- mmpd not there ---------------------------------------------------------
for cmd in "status" "claim /dev/x" "release /dev/x" "check /dev/x" "check --quiet /dev/x" "watch" \
           "exec /dev/x -- true"; do
        # shellcheck disable=SC2086
        "$MMPCTL" --socket "$tmp/none" $cmd >"$tmp/out" 2>"$tmp/err"
        rc=$?
        is "$rc|$(cat "$tmp/out")|$(cat "$tmp/err")" \
                "2||mmpctl: cannot reach mmpd at $tmp/none: No such file or directory (is mmpd running?)" \
                "$cmd without mmpd: exit 2, clear message"
done

MMPD_SOCKET=$tmp/env.mmpd "$MMPCTL" status >/dev/null 2>"$tmp/err"
is "$?|$(cat "$tmp/err")" \
        "2|mmpctl: cannot reach mmpd at $tmp/env.mmpd: No such file or directory (is mmpd running?)" \
        "\$MMPD_SOCKET is used"
MMPD_SOCKET=$S "$MMPCTL" status >/dev/null 2>&1
is "$?" "0" "\$MMPD_SOCKET reaches the fake"
MMPD_SOCKET=$tmp/env.mmpd "$MMPCTL" --socket "$S" status >/dev/null 2>&1
is "$?" "0" "--socket wins over \$MMPD_SOCKET"
"$MMPCTL" check --socket "$S" /dev/loop1 >/dev/null 2>&1
is "$?" "0" "--socket after the command name"

if [ -e /run/mmpd/io.mmpd ]; then
        skip "default socket path in the message" "/run/mmpd/io.mmpd exists here"
else
        "$MMPCTL" status >/dev/null 2>"$tmp/err"
        is "$?|$(cat "$tmp/err")" \
                "2|mmpctl: cannot reach mmpd at /run/mmpd/io.mmpd: No such file or directory (is mmpd running?)" \
                "default socket /run/mmpd/io.mmpd"
fi

# A socket left behind by a dead mmpd: nobody listens.
start_fake "$tmp/dead.mmpd"
stop_fake "$tmp/dead.mmpd"
"$MMPCTL" --socket "$tmp/dead.mmpd" check /dev/loop1 >/dev/null 2>"$tmp/err"
is "$?|$(cat "$tmp/err")" \
        "2|mmpctl: cannot reach mmpd at $tmp/dead.mmpd: Connection refused (is mmpd running?)" \
        "stale socket: Connection refused"

done_testing
