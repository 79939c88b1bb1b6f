# SPDX-License-Identifier: GPL-2.0-or-later
# mmpd.sh - helpers for tests that run mmpd against real loop devices.
# Source after tap.sh.  Everything a test creates (images, loop devices,
# daemons, mounts) lives under $T and is torn down by the EXIT trap.
#
#   img=$(mkimg a 1)                  # 32 MiB ext4+mmp image, update interval 1
#   dev=$(loop_attach "$img")         # --direct-io loop device
#   start_mmpd A node-a "vol1=$dev"   # static volumes; log in $T/A.log
#   wait_log A 'claimed' 30           # bounded wait for a log line
#   mmpd_pid A; stop_mmpd A [SIGNAL]

MMPD="$top_builddir/mmpd/mmpd"
MMPCTL="$top_builddir/mmpctl/mmpctl"
MMP_WATCH="$top_builddir/tests/integ/mmp-watch"
MMP_EDIT="$top_builddir/tests/ondisk/mmp-edit"

T=$(mktemp -d /tmp/mmpd-test.XXXXXX)
_mmpd_mounts=""

_mmpd_cleanup() {
        local f m l
        for f in "$T"/*.pid; do
                [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        for m in $_mmpd_mounts; do umount -l "$m" 2>/dev/null; done
        # loop_attach runs in $(...) subshells: the list lives in a file
        [ -f "$T/loops" ] && while read -r l; do losetup -d "$l" 2>/dev/null; done <"$T/loops"
        [ -n "${KEEP_TEST_DIR:-}" ] || rm -rf "$T"
}
trap _mmpd_cleanup EXIT

# now_ms: monotonic-ish milliseconds for measuring in shell
# now_ms: milliseconds on a monotonic clock (a test may step the wall clock)
now_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# mkimg NAME [UPDATE_INTERVAL] [SIZE_MB] [EXTRA mkfs -O features]
mkimg() {
        local img="$T/$1.img"
        truncate -s "${3:-32}M" "$img"
        mkfs.ext4 -q -F -O "mmp${4:+,$4}" -E mmp_update_interval="${2:-1}" "$img" >/dev/null 2>&1 ||
                bail_out "mkfs.ext4 failed for $img"
        echo "$img"
}

# loop_attach IMG: a direct-I/O loop device (two on one image = two nodes' views)
loop_attach() {
        local dev
        dev=$(losetup -f --show --direct-io=on "$1") || bail_out "losetup failed for $1"
        echo "$dev" >>"$T/loops"
        echo "$dev"
}

track_mount() { _mmpd_mounts="$_mmpd_mounts $1"; }

# write_conf NAME NODE [KEY=VALUE ...] [VOL=DEVICE ...]: [mmpd] keys are lower
# case words with '_' (node_name is set from NODE); anything else is a volume.
write_conf() {
        local name=$1 node=$2 kv
        shift 2
        {
                echo "[mmpd]"
                echo "node_name = $node"
                echo "socket = $T/$name.sock"
                echo "max_volumes = 64"
                for kv in "$@"; do
                        case "$kv" in
                        keep_on_stop=*|margin=*|io_timeout=*|admin_group=*|max_volumes=*)
                                echo "${kv%%=*} = ${kv#*=}";;
                        esac
                done
                for kv in "$@"; do
                        case "$kv" in
                        keep_on_stop=*|margin=*|io_timeout=*|admin_group=*|max_volumes=*) ;;
                        *) printf '[volume "%s"]\ndevice = %s\n' "${kv%%=*}" "${kv#*=}";;
                        esac
                done
        } >"$T/$name.conf"
}

# start_mmpd NAME NODE [ARGS as for write_conf]
start_mmpd() {
        local name=$1
        write_conf "$@"
        "$MMPD" --config "$T/$name.conf" >>"$T/$name.log" 2>&1 &
        echo $! >"$T/$name.pid"
        disown $! 2>/dev/null
}

mmpd_pid() { cat "$T/$1.pid"; }
mmpd_sock() { echo "$T/$1.sock"; }
# io_max_ms NAME DEVICE: mmpd NAME's slowest I/O of the volume so far, in ms
# (submit to completion as its event loop saw it; 0 if unknown).  The image
# files share the machine's disk with everything else, which may hold one
# up for seconds: a test of the heartbeat's timing may allow that much, as
# long as it shows by other means that mmpd's event loop was not held up.
io_max_ms() {
        local us
        us=$("$MMPCTL" --json --socket "$(mmpd_sock "$1")" status "$2" 2>/dev/null |
                jq '.stats.io_max_usec // .volumes[0].stats.io_max_usec // 0' 2>/dev/null)
        echo $(( ${us:-0} / 1000 ))
}
# wait_sock NAME [TIMEOUT_S]: the control socket is there (mmpd listens)
wait_sock() {
        local i
        for i in $(seq 1 $(( ${2:-20} * 10 ))); do
                [ -S "$(mmpd_sock "$1")" ] && return 0
                sleep 0.1
        done
        return 1
}

# stop_mmpd NAME [SIGNAL]: signal it and wait (bounded) for it to exit
stop_mmpd() {
        local pid i
        pid=$(mmpd_pid "$1")
        kill -"${2:-TERM}" "$pid" 2>/dev/null
        for i in $(seq 1 300); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        wait "$pid" 2>/dev/null
        rm -f "$T/$1.pid"
}

# wait_log NAME REGEX TIMEOUT_S: true once the daemon's log matches
wait_log() {
        local i
        for i in $(seq 1 $(( $3 * 10 ))); do
                grep -qE "$2" "$T/$1.log" 2>/dev/null && return 0
                sleep 0.1
        done
        diag "no '$2' in $T/$1.log after $3 s; log:"
        diag "$(tail -20 "$T/$1.log" 2>/dev/null)"
        return 1
}

# mmp_field DEV FIELD: a field of debugfs -R dump_mmp (the e2fsprogs view)
mmp_field() {
        debugfs -R dump_mmp "$1" 2>/dev/null | sed -n "s/^$2: //p"
}
