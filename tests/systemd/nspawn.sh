# SPDX-License-Identifier: GPL-2.0-or-later
# nspawn.sh - run real systemd (252) as PID 1 in systemd-nspawn, booting the
# host OS on a tmpfs root (docs/protocol.md, systemd).  Source after tap.sh and mmpd.sh.
#
#   sd_unit_file mmpd-user.service <<EOF ... EOF   # extra unit for every node
#   boot_node A node-a /dev/loop5                  # container A, hostname node-a
#   in_node A systemctl start mmpd@dev-loop5       # bounded (60 s) command inside
#   node_kill A                                    # SIGKILL its PID 1: a node crash
#   SD_NSPAWN_ARGS="--private-network" boot_node ...  # extra systemd-nspawn options
#
# The build directory is bound at /opt/mmpd (mmpd.service has PrivateTmp=,
# so /tmp paths are not visible to it); the units are made from units/*.in
# with @sbindir@/@bindir@ pointing there and bound into /etc/systemd/system.

SD_BUILD=/opt/mmpd
_sd_nodes=""

_sd_cleanup() {
        local n l
        for n in $_sd_nodes; do node_kill "$n"; done
        # loop_attach runs in $(...), so mmpd.sh's list of loop devices never
        # sees them: detach every loop device backed by a file under $T.
        for l in $(losetup -n -l -O NAME,BACK-FILE | awk -v t="$T/" 'index($2, t) == 1 { print $1 }'); do
                losetup -d "$l" 2>/dev/null
        done
        _mmpd_cleanup
}
trap _sd_cleanup EXIT

mkdir -p "$T/units"
for _u in mmpd.service mmpd.socket mmpd@.service mmpd-mount@.service; do
        sed -e "s|@sbindir@|$SD_BUILD/mmpd|g" -e "s|@bindir@|$SD_BUILD/mmpctl|g" \
                "$top_srcdir/units/$_u.in" >"$T/units/$_u" || bail_out "cannot make $_u"
done

# A container's /etc starts empty, so its first boot applies the presets,
# which on Debian enable every installed unit: not the cluster stack, which
# tests/ha starts by hand in its own nodes' network namespaces.
printf 'disable %s\n' corosync.service pacemaker.service pacemaker_remote.service logd.service >"$T/nodes.preset"

# sd_unit_file NAME: an extra unit (text on stdin) bound into every node.
sd_unit_file() { cat >"$T/units/$1"; }

# hold_unit DEVICE: the mmpd@ instance for a device path.
hold_unit() { systemd-escape --path --template=mmpd@.service "$1"; }

node_leader() { cat "$T/$1.leader" 2>/dev/null; }

# boot_node NAME HOSTNAME DEVICE...: boot a container and wait (bounded)
# until its boot is finished.
boot_node() {
        local name=$1 host=$2 binds="" u d i pid leader
        shift 2
        for d in "$@"; do binds="$binds --bind=$d"; done
        for u in "$T"/units/*; do
                binds="$binds --bind-ro=$u:/etc/systemd/system/$(basename "$u")"
        done
        binds="$binds --bind-ro=$T/nodes.preset:/etc/systemd/system-preset/00-mmpd-tests.preset"
        # shellcheck disable=SC2086
        systemd-nspawn --register=no --keep-unit -q -b -D / --volatile=yes \
                --machine="mmpdt-$name-$$" --hostname="$host" \
                --bind="$top_builddir:$SD_BUILD" $binds ${SD_NSPAWN_ARGS:-} \
                -- systemd.unit=multi-user.target systemd.firstboot=off \
                >"$T/$name.console" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$T/$name.nspawn"
        _sd_nodes="$_sd_nodes $name"
        for i in $(seq 100); do
                leader=$(pgrep -P "$pid" -x systemd | head -1)
                [ -n "$leader" ] && break
                sleep 0.1
        done
        [ -n "$leader" ] || bail_out "container $name did not start: $(tail -5 "$T/$name.console")"
        echo "$leader" >"$T/$name.leader"
        # Until PID 1's bus is up, systemctl fails at once: poll (bounded).
        for i in $(seq 300); do
                case $(in_node "$name" systemctl is-system-running 2>/dev/null) in
                running|degraded) return 0 ;;
                esac
                sleep 0.1
        done
        bail_out "container $name did not finish booting in 30 s: $(tail -5 "$T/$name.console")"
}

# in_node NAME CMD...: run CMD inside the container (60 s at most).
in_node() {
        local name=$1
        shift
        timeout 60 nsenter -t "$(node_leader "$name")" -m -u -i -n -p -- "$@"
}

# node_kill NAME: SIGKILL the container's PID 1 (the kernel kills every
# process in its PID namespace), then reap nspawn (bounded).
node_kill() {
        local leader pid i
        leader=$(node_leader "$1")
        pid=$(cat "$T/$1.nspawn" 2>/dev/null)
        [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
        for i in $(seq 100); do
                [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        rm -f "$T/$1.leader" "$T/$1.nspawn"
}

# unit_state NAME UNIT: ActiveState inside the node.
unit_state() { in_node "$1" systemctl show -p ActiveState --value "$2"; }

# wait_unit_state NAME UNIT STATE SECONDS: bounded wait.
wait_unit_state() {
        local i
        for i in $(seq $(($4 * 10))); do
                [ "$(unit_state "$1" "$2")" = "$3" ] && return 0
                sleep 0.1
        done
        return 1
}

# watch_json_field FILE FIELD: one field of mmp-watch's summary (jq).
watch_field() { jq -c ".$2" "$1"; }
