# SPDX-License-Identifier: GPL-2.0-or-later
# fence.sh - helpers for the fencing tests.  Source after tap.sh and mmpd.sh.
#
#   fence_start NAME DEV [KEY=VALUE ...]   one static volume "v" on DEV; the
#                                          KEY=VALUE lines go into [mmpd]
#   uptime_usec                            CLOCK_BOOTTIME now (/proc/uptime)
#   stamp_hook PATH OUT                    a hook that appends "STAGE BOOTTIME_USEC DEADLINE_USEC"

fence_start() {
        local name=$1 dev=$2 kv
        shift 2
        {
                echo "[mmpd]"
                echo "node_name = node-$name"
                echo "socket = $T/$name.sock"
                for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
                printf '[volume "v"]\ndevice = %s\n' "$dev"
        } >"$T/$name.conf"
        "$MMPD" --config "$T/$name.conf" >>"$T/$name.log" 2>&1 &
        echo $! >"$T/$name.pid"
        disown $! 2>/dev/null
}

# /proc/uptime is CLOCK_BOOTTIME, the clock of mmpd's deadlines (10 ms steps).
uptime_usec() {
        local s
        read -r s _ </proc/uptime
        echo $(( ${s%.*} * 1000000 + 10#${s#*.} * 10000 ))
}

stamp_hook() {
        cat >"$1" <<HOOK
#!/bin/sh
now=\$(awk '{ printf "%d", \$1 * 1000000 }' /proc/uptime)
echo "\$MMPD_STAGE \$now \$MMPD_DEADLINE_USEC \$MMPD_VOLUME \$MMPD_DEVICE [\$MMPD_REASON] \$MMPD_DEADLINE_WALL" >>"$2"
\${HOOK_EXTRA:-true}
HOOK
        chmod +x "$1"
}

# log_field NAME REGEX: the first capture of REGEX (sed -E) in the log
log_field() {
        sed -nE "s/.*$2.*/\\1/p" "$T/$1.log" | head -n 1
}
