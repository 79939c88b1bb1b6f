#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP: every fault of mmp-faultdev, seen through a real loop device with
# O_DIRECT I/O (tests/faultdev/faultdev-io: one pread/pwrite, timed).
# Needs root and /dev/fuse; skips without them, except under CI=true.
# Every wait is bounded; the script takes a few seconds.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/lib/faultdev.sh
. "$top_srcdir/tests/lib/faultdev.sh"
IO=$top_builddir/tests/faultdev/faultdev-io

if [[ $(id -u) != 0 || ! -c /dev/fuse ]] || ! command -v losetup fusermount3 > /dev/null; then
        if [[ ${CI-} == true ]]; then
                echo "1..1"
                echo "not ok 1 - needs root and /dev/fuse"
                exit 1
        fi
        echo "1..0 # SKIP needs root"
        exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/faultdev-test.XXXXXX") || exit 1
trap 'faultdev_stop; rm -rf "$tmp"' EXIT

DELAY=300          # ms; long enough to measure, short enough to stay quick
IO_TIMEOUT=5000    # ms; no single request in this test should take that long
KIB=1024
MIB=$((1024 * 1024))

# The script takes about 5 s.  When something is never released each step
# runs into its own timeout instead; stop before those add up.
BUDGET=30

n=0
failed=0
ok()
{
        n=$((n + 1))
        echo "ok $n - $1"
}
not_ok()
{
        n=$((n + 1))
        echo "not ok $n - $1"
        failed=1
        if ((SECONDS > BUDGET)); then
                echo "Bail out! over ${BUDGET} s: held I/O is not being released"
                exit 1
        fi
}
# COND; check DESCRIPTION: one test point from the status of COND.
check()
{
        if (($? == 0)); then ok "$1"; else not_ok "$1"; fi
}
diag()
{
        printf '# %s\n' "$@"
}

# io read|write OFFSET LEN [BYTE]: one O_DIRECT request on the loop device;
# prints faultdev-io's line ("ok BYTES MS", "error ENAME MS", "mismatch AT MS",
# or "timeout MS" after IO_TIMEOUT ms, leaving the stuck request behind).
io()
{
        local op=$1
        shift
        "$IO" -t $IO_TIMEOUT "$op" "$FAULTDEV_LOOP" "$@" 2> /dev/null
}

# bg_io OUT ARGS...: io in the background; its pid in BG.
bg_io()
{
        local out=$1
        shift
        io "$@" > "$out" &
        BG=$!
}

# bg_wait PID SECONDS: 0 once it has ended (and is reaped), 1 on timeout.
bg_wait()
{
        local i
        for ((i = 0; i < $2 * 10; i++)); do
                if ! _faultdev_alive "$1"; then
                        wait "$1"
                        return 0
                fi
                sleep 0.1
        done
        return 1
}

# bg_wait_all SECONDS PID...: 0 once all have ended (and are reaped), 1 on timeout.
bg_wait_all()
{
        local deadline=$((SECONDS + $1)) pid
        shift
        for pid in "$@"; do
                while _faultdev_alive "$pid"; do
                        ((SECONDS < deadline)) || return 1
                        sleep 0.1
                done
                wait "$pid"
        done
        return 0
}

# bg_blocked PID: still running after half a second.
bg_blocked()
{
        sleep 0.5
        _faultdev_alive "$1"
}

# A held request that never came back: release everything so the process
# (uninterruptible in the block layer) can end, then report.
bg_rescue()
{
        faultdev_cmd clear
        bg_wait "$1" 5
        return 1
}

# result LINE: the first word of faultdev-io's line ("ok", "error", "mismatch").
field()
{
        local -a w
        read -r -a w <<< "$1"
        printf '%s\n' "${w[$2]-}"
}
is_ok()
{
        [[ $(field "$1" 0) == ok ]]
}
is_error()
{
        [[ $(field "$1" 0) == error && $(field "$1" 1) == "$2" ]]
}
ms_at_least()
{
        is_ok "$1" && (($(field "$1" 2) >= $2))
}
stat_is()
{
        [[ $(faultdev_stat "$1") == "$2" ]]
}

PLAN=29
echo "1..$PLAN"

truncate -s 64M "$tmp/img"

# --- start ---------------------------------------------------------------

if faultdev_start "$tmp/img" && [[ -b $FAULTDEV_LOOP ]] && _faultdev_mounted "$FAULTDEV_MNT"; then
        ok "faultdev_start attaches $FAULTDEV_LOOP over $FAULTDEV_MNT/disk"
else
        not_ok "faultdev_start attaches a loop device"
        for ((i = n + 1; i <= PLAN; i++)); do echo "not ok $i - # no fault device"; done
        exit 1
fi
diag "loop direct-io: $(losetup -n -O DIO "$FAULTDEV_LOOP" | tr -d ' ') (1: the loop does O_DIRECT on the FUSE file)"

r=$(io write 0 $((64 * KIB)) 0x11) && r=$(io read 0 $((64 * KIB)) 0x11)
is_ok "$r"
check "O_DIRECT write and read back through the loop device ($r)"

# --- delay -----------------------------------------------------------------

faultdev_cmd "delay read $DELAY"
d0=$(faultdev_stat delayed)
r=$(io read 0 4096)
ms_at_least "$r" $DELAY
check "delay read $DELAY: a 4 KiB O_DIRECT read takes >= $DELAY ms ($r)"
d1=$(faultdev_stat delayed)
((d1 == d0 + 1))
check "delay counted (delayed $d0 -> $d1)"

d0=$(faultdev_stat delayed)
r=$(io write $MIB 4096 0x22)
d1=$(faultdev_stat delayed)
is_ok "$r" && ((d1 == d0))
check "delay read leaves writes alone ($r, delayed $d0 -> $d1)"

q0=$(faultdev_stat reads)
r=$(io read 0 $((4 * MIB)))
diag "4 MiB O_DIRECT read under delay: $r ms, $(($(faultdev_stat reads) - q0)) FUSE reads (split, delayed in parallel)"
ms_at_least "$r" $DELAY
check "delay applies to a large read split into several requests ($r)"
faultdev_cmd clear

faultdev_cmd "delay write $DELAY $((2 * MIB)) 4096"
d0=$(faultdev_stat delayed)
r1=$(io write $((2 * MIB)) 4096 0x23)
d1=$(faultdev_stat delayed)
r2=$(io write $((3 * MIB)) 4096 0x23)
d2=$(faultdev_stat delayed)
ms_at_least "$r1" $DELAY && ((d1 == d0 + 1)) && is_ok "$r2" && ((d2 == d1))
check "range-limited delay: write in range delayed ($r1), outside not ($r2; delayed $d0 -> $d1 -> $d2)"
faultdev_cmd clear

# --- stall and resume --------------------------------------------------------

faultdev_cmd "stall read 0 4096"
bg_io "$tmp/bg1" read 0 4096 0x11
pid=$BG
bg_blocked $pid
check "stall read: a background O_DIRECT read blocks"
stat_is stalled_now 1
check "stalled_now is 1 while it is held"
r=$(io read $MIB 4096 0x22)
is_ok "$r"
check "a read outside the stalled range proceeds meanwhile ($r)"
if faultdev_cmd resume && bg_wait $pid 5; then
        r=$(cat "$tmp/bg1")
        is_ok "$r"
        check "resume releases the stalled read with the right data ($r)"
else
        bg_rescue $pid
        not_ok "resume releases the stalled read"
fi
! faultdev_stats | grep -q "^rule stall" && stat_is stalled_now 0
check "resume drops the stall rule and stalled_now is 0"

# Many held requests must neither starve ctl nor hold up other I/O: each sits
# in its own server thread, and the server takes as many loop requests at a
# time as the loop device can queue.
faultdev_cmd "stall read $((8 * MIB)) $((2 * MIB))"
pids=()
for ((i = 0; i < 24; i++)); do
        bg_io "$tmp/many.$i" read $((8 * MIB + i * 64 * KIB)) $((64 * KIB))
        pids+=("$BG")
done
held=0
deadline=$((SECONDS + 3))
while ((SECONDS < deadline)); do
        held=$(faultdev_stat stalled_now) || break
        ((held >= 24)) && break
        sleep 0.1
done
t0=$(date +%s%N)
timeout -s KILL 3 cat "$FAULTDEV_MNT/ctl" > /dev/null
answered=$?
ms=$((($(date +%s%N) - t0) / 1000000))
r=$(io read 0 4096 0x11)
((answered == 0 && held == 24)) && is_ok "$r"
check "24 reads held at once (${held:-?} in the server): ctl answers ($ms ms), other reads proceed ($r)"
faultdev_cmd resume
if ! bg_wait_all 10 "${pids[@]}"; then
        faultdev_cmd clear
        bg_wait_all 5 "${pids[@]}"
fi
done_ok=0
for ((i = 0; i < 24; i++)); do
        is_ok "$(cat "$tmp/many.$i")" && done_ok=$((done_ok + 1))
done
((done_ok == 24))
check "resume releases all of them ($done_ok/24 completed)"

faultdev_cmd "stall write"
bg_io "$tmp/bg2" write $((4 * MIB)) 4096 0x33
pid=$BG
r=$(io read $((4 * MIB)) 4096 0)
if bg_blocked $pid && is_ok "$r"; then
        ok "stall write: the write blocks and has not reached the image ($r)"
else
        not_ok "stall write: the write blocks and has not reached the image ($r)"
fi
if faultdev_cmd clear && bg_wait $pid 5; then
        r=$(io read $((4 * MIB)) 4096 0x33)
        r2=$(cat "$tmp/bg2")
        is_ok "$r2" && is_ok "$r"
        check "clear releases the stalled write, which then lands ($r2; $r)"
else
        bg_rescue $pid
        not_ok "clear releases the stalled write"
fi

# --- fail --------------------------------------------------------------------

f0=$(faultdev_stat failed)
faultdev_cmd "fail read EIO"
r=$(io read 0 4096)
is_error "$r" EIO
check "fail read EIO: O_DIRECT read returns EIO ($r)"
stat_is failed $((f0 + 1))
check "failed counter counts it"
faultdev_cmd clear

faultdev_cmd "fail write EIO"
r=$(io write 0 4096 0x44)
faultdev_cmd clear
r2=$(io read 0 4096 0x11)
is_error "$r" EIO && is_ok "$r2"
check "fail write EIO: O_DIRECT write returns EIO and the image is untouched ($r; $r2)"

faultdev_cmd "fail read EIO $MIB 4096"
r1=$(io read 0 4096)
r2=$(io read $((MIB + 4096)) 4096)
r3=$(io read $MIB 4096)
r4=$(io read $((MIB - 32 * KIB)) $((64 * KIB)))
is_ok "$r1" && is_ok "$r2" && is_error "$r3" EIO && is_error "$r4" EIO
check "range-limited fail: outside ok ($r1; $r2), inside EIO ($r3), a read spanning it EIO ($r4)"
faultdev_cmd clear

faultdev_cmd "fail read ENOSPC"
r1=$(io read 0 4096)
faultdev_cmd clear
faultdev_cmd "fail read EPERM"
r2=$(io read 0 4096)
faultdev_cmd clear
is_error "$r1" ENOSPC && is_error "$r2" EIO
check "errno through the loop device: ENOSPC kept ($r1), EPERM becomes EIO ($r2)"

# --- ctl ---------------------------------------------------------------------

q0=$(faultdev_stat reads) w0=$(faultdev_stat writes) b0=$(faultdev_stat read_bytes)
io read 0 4096 > /dev/null
io write $((5 * MIB)) 4096 > /dev/null
stat_is reads $((q0 + 1)) && stat_is writes $((w0 + 1)) && stat_is read_bytes $((b0 + 4096))
check "counters: one 4 KiB read and one write are one request each"

faultdev_cmd "delay write 50 0x1000 512"
faultdev_cmd "fail all ETIMEDOUT"
expected=$'rule delay write 50 4096 512\nrule fail all ETIMEDOUT'
[[ $(faultdev_stats | grep "^rule") == "$expected" ]]
check "ctl lists the rules in command syntax"
bad=0
for c in "bogus" "delay read" "delay read 0" "delay sideways 10" "fail read ENOTANERRNO" \
         "stall read 0 0" "stall read 4096" "stall read 1 2 3" "resume now" "stall read -1 5" \
         "fail write EIO 0x 1" "delay all 99999999999999999999"; do
        if faultdev_cmd "$c" 2> "$tmp/err" || ! grep -q "Invalid argument" "$tmp/err"; then
                diag "accepted or not EINVAL: '$c'"
                bad=1
        fi
done
((bad == 0)) && [[ $(faultdev_stats | grep -c "^rule") == 2 ]]
check "bad commands fail with EINVAL and change nothing"
faultdev_cmd clear

# --- shutdown ----------------------------------------------------------------

faultdev_cmd "stall read"
bg_io "$tmp/bg3" read 0 4096 0x11
pid=$BG
bg_blocked $pid
loop=$FAULTDEV_LOOP mnt=$FAULTDEV_MNT srv=$FAULTDEV_PID seq=$_FAULTDEV_SEQ
faultdev_stop
if bg_wait $pid 5; then r=$(cat "$tmp/bg3"); else bg_rescue $pid; r=hung; fi
is_ok "$r"
check "faultdev_stop resumes a stalled read first ($r)"
# seq: the loop device's disk sequence number while ours was attached.
[[ -n $seq && $(_faultdev_attachment "$loop") != "$seq" ]] && ! _faultdev_mounted "$mnt" &&
        [[ ! -e $mnt ]] && ! _faultdev_alive $srv
check "faultdev_stop leaves no loop device, mount or server behind"
faultdev_stop
check "faultdev_stop twice is harmless"

if faultdev_start "$tmp/img"; then
        faultdev_cmd "stall read"
        bg_io "$tmp/bg4" read 0 4096 0x11
        pid=$BG
        bg_blocked $pid
        srv=$FAULTDEV_PID
        kill -TERM "$srv"
        if bg_wait "$srv" 5 && bg_wait $pid 5; then r=$(cat "$tmp/bg4"); else bg_rescue $pid; r=hung; fi
        is_ok "$r"
        check "SIGTERM: the server resumes the stalled read and exits ($r)"
        FAULTDEV_PID=
        # Past the FUSE attribute timeout (1 s): nothing about the dead
        # server's file can be asked any more, only the loop device itself.
        sleep 1.2
        r=$(io read 0 4096)
        diag "loop I/O after the server is gone: $r"
        loop=$FAULTDEV_LOOP seq=$_FAULTDEV_SEQ mnt=$FAULTDEV_MNT
        [[ -n $seq && $(_faultdev_attachment "$loop") == "$seq" ]]
        attached=$?
        faultdev_stop
        ((attached == 0)) && [[ $(_faultdev_attachment "$loop") != "$seq" ]] && ! _faultdev_mounted "$mnt" &&
                [[ ! -e $mnt ]]
        check "after SIGTERM, faultdev_stop still detaches the loop device ($loop) and cleans up"
else
        not_ok "SIGTERM: faultdev_start"
        not_ok "after SIGTERM, cleanup"
fi

exit $failed
