# SPDX-License-Identifier: GPL-2.0-or-later
# cluster.sh - a real two-node cluster for the failover drills: two
# systemd-nspawn containers with systemd as PID 1 (tests/systemd/nspawn.sh),
# each running Debian's corosync 3 (knet, two_node: 1) and pacemaker 2.1,
# each in a network namespace of its own (--private-network) joined by one
# veth pair this file creates, so there is a link to cut.  The test
# addresses (10.77.0.0/24) exist only inside those two namespaces.
# Source after tap.sh, mmpd.sh and nspawn.sh.
#
#   ha_setup DEV_A DEV_B               # configs for node-a and node-b
#   ha_boot A; ha_boot B               # boot the containers
#   ha_link                            # (re)create the veth between them
#   ha_start A; ha_start B             # mmpd.socket, corosync, pacemaker
#   ha_wait_online A "node-a node-b" 90  # bounded: both online, a DC, idle
#   crm A crm_resource --locate -r vol # a pacemaker tool inside node A
#   mounted_on A                       # the loop device A has on $HA_MP
#
# No watchdog device here, so no sbd: stonith-enabled=false.  That is only
# acceptable because MMP itself keeps the volume single-mounted, which the
# drills check (docs/ha.md, "Failover drills").

HA_NET=10.77.0
HA_MP=/srv/data
HA_RSC=vol
# Interface names are per namespace, but the pair is made in the host's
# before each end moves: keep them unique there (<= 15 characters).
HA_LINK_A=mha$$a
HA_LINK_B=mha$$b
kname=$(uname -n)               # what kmmpd writes (the host kernel's name)
mmpctl_in="$SD_BUILD/mmpctl/mmpctl"

_ha_cleanup() {
        ip link del "$HA_LINK_A" 2>/dev/null
        [ -n "${_ha_sampler:-}" ] && kill "$_ha_sampler" 2>/dev/null
        [ -n "${_ha_watcher:-}" ] && kill "$_ha_watcher" 2>/dev/null
        _sd_cleanup
}
trap _ha_cleanup EXIT
trap 'exit 143' TERM INT        # so that a killed run still cleans up

ha_host() { case $1 in A) echo node-a ;; B) echo node-b ;; esac; }
ha_addr() { case $1 in A) echo "$HA_NET.1" ;; B) echo "$HA_NET.2" ;; esac; }
ha_ifname() { case $1 in A) echo "$HA_LINK_A" ;; B) echo "$HA_LINK_B" ;; esac; }

# ha_agent: the OCF agent under test, agents/ocf/mmpfs.in made as make
# makes it, with mmpctl where the nodes have the build.  tests/ha/stub-mmpfs
# (same parameters) stands in while the agent is not in the tree, or with
# HA_AGENT=stub, to tell the agent's faults from the cluster's.
ha_agent() {
        if [ "${HA_AGENT:-}" != stub ] && [ -f "$top_srcdir/agents/ocf/mmpfs.in" ]; then
                echo "$top_srcdir/agents/ocf/mmpfs.in"
        else
                echo "$top_srcdir/tests/ha/stub-mmpfs"
        fi
}

# ha_setup DEV_A DEV_B: everything bound into the nodes.
ha_setup() {
        local n d
        # resource.d: the host's agents plus ours (/usr is read-only inside)
        mkdir -p "$T/ocf/heartbeat" "$T/ocf/pacemaker" "$T/ocf/mmpd"
        sed -e "s|@bindir@|$SD_BUILD/mmpctl|g" -e "s|@PACKAGE_VERSION@|test|g" "$(ha_agent)" >"$T/ocf/mmpd/mmpfs"
        chmod 0755 "$T/ocf/mmpd/mmpfs"
        mkdir -p "$T/corosync"
        cat >"$T/corosync/corosync.conf" <<EOF
totem {
        version: 2
        cluster_name: mmpdha$$
        transport: knet
        crypto_cipher: none
        crypto_hash: none
}
nodelist {
        node {
                ring0_addr: $HA_NET.1
                name: node-a
                nodeid: 1
        }
        node {
                ring0_addr: $HA_NET.2
                name: node-b
                nodeid: 2
        }
}
quorum {
        provider: corosync_votequorum
        two_node: 1
}
logging {
        to_syslog: yes
        to_stderr: no
        timestamp: on
}
EOF
        for n in A B; do
                d=$1
                shift
                mkdir -p "$T/$n-mmpd"
                printf '[mmpd]\nnode_name = %s\nhost_name = %s\n' "$(ha_host $n)" "$kname" >"$T/$n-mmpd/mmpd.conf"
                # pacemakerd's environment is the agents' environment
                printf 'PATH=%s\nPCMK_logfile=none\n' \
                        "$SD_BUILD/mmpctl:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
                        >"$T/$n-pacemaker.default"
                eval "HA_DEV_$n=$d"
        done
        # The CIB each node starts from: no fencing (see above), a short
        # dc-deadtime, and the resource, stopped until drill 1 starts it.
        # Each node sees the shared disk under its own loop device.
        cat >"$T/cib.xml" <<EOF
<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="false"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="5s"/>
        <nvpair id="opt-recheck" name="cluster-recheck-interval" value="1min"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="$HA_RSC" class="ocf" provider="mmpd" type="mmpfs">
        <instance_attributes id="$HA_RSC-ia">
          <nvpair id="$HA_RSC-dir" name="directory" value="$HA_MP"/>
          <nvpair id="$HA_RSC-fstype" name="fstype" value="ext4"/>
        </instance_attributes>
        <instance_attributes id="$HA_RSC-ia-a" score="2">
          <rule id="$HA_RSC-on-a" score="0">
            <expression id="$HA_RSC-on-a-e" attribute="#uname" operation="eq" value="node-a"/>
          </rule>
          <nvpair id="$HA_RSC-dev-a" name="device" value="$HA_DEV_A"/>
        </instance_attributes>
        <instance_attributes id="$HA_RSC-ia-b" score="1">
          <rule id="$HA_RSC-on-b" score="0">
            <expression id="$HA_RSC-on-b-e" attribute="#uname" operation="eq" value="node-b"/>
          </rule>
          <nvpair id="$HA_RSC-dev-b" name="device" value="$HA_DEV_B"/>
        </instance_attributes>
        <meta_attributes id="$HA_RSC-meta">
          <nvpair id="$HA_RSC-role" name="target-role" value="Stopped"/>
          <nvpair id="$HA_RSC-stick" name="resource-stickiness" value="100"/>
        </meta_attributes>
        <operations>
          <op id="$HA_RSC-start" name="start" interval="0s" timeout="90s"/>
          <op id="$HA_RSC-stop" name="stop" interval="0s" timeout="60s"/>
          <op id="$HA_RSC-monitor" name="monitor" interval="${HA_MONITOR:-5}s" timeout="20s"/>
        </operations>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
EOF
}

# ha_boot NODE: boot the container and create the state directories a
# package install would have made (the root is a fresh tmpfs).
ha_boot() {
        local n=$1 host ro dev var
        host=$(ha_host "$n")
        var=HA_DEV_$n
        dev=${!var}
        ro="--private-network"
        for f in /etc/passwd /etc/group /etc/shadow /etc/nsswitch.conf; do ro="$ro --bind-ro=$f"; done
        # awk & co. are /etc/alternatives links
        ro="$ro --bind-ro=/etc/alternatives"
        ro="$ro --bind-ro=$T/corosync:/etc/corosync --bind-ro=$T/$n-mmpd:/etc/mmpd"
        ro="$ro --bind-ro=$T/$n-pacemaker.default:/etc/default/pacemaker"
        ro="$ro --bind-ro=$T/ocf:/usr/lib/ocf/resource.d"
        ro="$ro --bind-ro=/usr/lib/ocf/resource.d/heartbeat:/usr/lib/ocf/resource.d/heartbeat"
        ro="$ro --bind-ro=/usr/lib/ocf/resource.d/pacemaker:/usr/lib/ocf/resource.d/pacemaker"
        SD_NSPAWN_ARGS=$ro boot_node "$n" "$host" "$dev"
        in_node "$n" sh -c '
                install -d -o hacluster -g haclient -m 0750 /var/lib/pacemaker/cib /var/lib/pacemaker/pengine \
                        /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores
                install -d -o hacluster -g haclient -m 0770 /var/log/pacemaker
                install -d /var/lib/corosync /var/log/corosync /var/log/cluster' ||
                bail_out "node $n: cannot make the cluster state directories"
        in_node "$n" install -o hacluster -g haclient -m 0600 /dev/stdin /var/lib/pacemaker/cib/cib.xml <"$T/cib.xml" ||
                bail_out "node $n: cannot seed the CIB"
        in_node "$n" mkdir -p "$HA_MP"
        in_node "$n" ip link set lo up
        # corosync wants network-online.target: the veth is all the network
        # a node has, and nothing needs to wait for it to be "online"
        in_node "$n" systemctl mask --runtime --quiet systemd-networkd-wait-online.service
}

# ha_start NODE: start mmpd's socket, corosync and pacemaker (after ha_link:
# corosync binds ring0_addr only if that address is on a local interface).
ha_start() {
        local n=$1
        in_node "$n" systemctl start mmpd.socket ||
                bail_out "node $n: mmpd.socket: $(in_node "$n" journalctl -b --no-pager -n 20)"
        in_node "$n" systemctl start corosync pacemaker ||
                bail_out "node $n: corosync/pacemaker: $(in_node "$n" journalctl -b --no-pager -n 30)"
}

# ha_link: a veth pair, one end in each node's network namespace, with
# its test address.  A node's namespace dies with the node, and its end
# with it (and the pair): a rebooted node needs a new link.
ha_link() {
        local n
        ip link del "$HA_LINK_A" 2>/dev/null
        ip link add "$HA_LINK_A" type veth peer name "$HA_LINK_B" || bail_out "cannot create the veth pair"
        for n in A B; do
                ip link set "$(ha_ifname $n)" netns "$(node_leader $n)" ||
                        bail_out "cannot move $(ha_ifname $n) into node $n"
                in_node "$n" ip addr add "$(ha_addr $n)/24" dev "$(ha_ifname $n)"
                in_node "$n" ip link set "$(ha_ifname $n)" up
        done
}
# link_down / link_up: cut and heal the cluster's only link (both ends).
link_down() { in_node A ip link set "$HA_LINK_A" down; in_node B ip link set "$HA_LINK_B" down; }
link_up() { in_node A ip link set "$HA_LINK_A" up; in_node B ip link set "$HA_LINK_B" up; }

# crm NODE CMD...: a pacemaker command line tool inside NODE.
crm() { local n=$1; shift; in_node "$n" "$@"; }

# online_in NODE: the nodes NODE's pacemaker sees online, sorted.
online_in() {
        crm "$1" crm_mon -1 --output-as=xml 2>/dev/null |
                sed -n 's/.*<node name="\([^"]*\)".* online="true".*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}
# dc_in NODE: the DC NODE's pacemaker names, if any.
dc_in() {
        crm "$1" crm_mon -1 --output-as=xml 2>/dev/null |
                sed -n 's/.*<current_dc .*name="\([^"]*\)".*with_quorum="true".*/\1/p'
}

# ha_wait_online NODE "NAMES" SECONDS: bounded wait until NODE's pacemaker
# sees exactly NAMES online, has a quorate DC, and the cluster is idle.
ha_wait_online() {
        local i
        for i in $(seq $(($3 * 2))); do
                if [ "$(online_in "$1")" = "$2" ] && [ -n "$(dc_in "$1")" ] &&
                        crm "$1" crm_resource --wait --timeout=5s >/dev/null 2>&1; then
                        return 0
                fi
                sleep 0.5
        done
        diag "node $1 sees online: '$(online_in "$1")', DC '$(dc_in "$1")', want '$2'"
        return 1
}

# located NODE: where NODE's pacemaker says the resource runs.
located() {
        crm "$1" crm_resource --locate -r "$HA_RSC" 2>/dev/null |
                sed -n 's/.*is running on: \([^ ]*\).*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}

# mounted_on NODE: the loop device NODE has on $HA_MP, from its PID 1's
# /proc/PID/mounts (paths there are relative to the node's root).
mounted_on() {
        local l
        l=$(node_leader "$1")
        [ -n "$l" ] || return 0
        awk -v mp="$HA_MP" '$2 == mp && $1 ~ /^\/dev\/loop/ { print $1 }' "/proc/$l/mounts" 2>/dev/null
}
# owners: "A", "B", "A B" or "" from both nodes' mount tables.
owners() {
        local o=""
        [ -n "$(mounted_on A)" ] && o="A"
        [ -n "$(mounted_on B)" ] && o="${o:+$o }B"
        echo "$o"
}

# ha_sampler_start: every 200 ms, "MS A-MOUNTED B-MOUNTED" to $T/mounts.trace.
ha_sampler_start() {
        (
                trap 'exit 0' TERM
                while :; do
                        a=0 b=0
                        [ -n "$(mounted_on A)" ] && a=1
                        [ -n "$(mounted_on B)" ] && b=1
                        echo "$(now_ms) $a $b"
                        sleep 0.2
                done
        ) >"$T/mounts.trace" 2>/dev/null &
        _ha_sampler=$!
}
# sampler_sync: bounded wait until the sampler has a sample from now on.
sampler_sync() {
        local t i
        t=$(now_ms)
        for i in $(seq 50); do
                [ "$(tail -1 "$T/mounts.trace" | cut -d' ' -f1)" -ge "$t" ] 2>/dev/null && return 0
                sleep 0.1
        done
}
# both_mounted FROM TO: samples in [FROM, TO] ms with both nodes mounted.
both_mounted() { awk -v f="$1" -v t="$2" '$1 >= f && $1 <= t && $2 && $3 { n++ } END { print n + 0 }' "$T/mounts.trace"; }
# first_sample FROM COLUMN VALUE: the first sample at or after FROM ms whose
# column (2: A, 3: B) has VALUE, as ms after FROM; empty if none.
first_sample() {
        awk -v f="$1" -v c="$2" -v v="$3" '$1 >= f && $c == v { print $1 - f; exit }' "$T/mounts.trace"
}

# ha_watcher_start DEVICE SECONDS: the raw watcher on the host, tracing
# every sample ("MS SEQ NODE") to $T/mmp.trace.
ha_watcher_start() {
        MMP_WATCH_TRACE="$T/mmp.trace" "$MMP_WATCH" "$1" "$2" 100 >"$T/watch.json" 2>"$T/watch.err" &
        _ha_watcher=$!
}

# mmp_alternations FROM TO: from the watcher's trace, how often the seq went
# back to continue an earlier writer's run after another writer's run.
# kmmpd writes the same (host) node name for both nodes, so writers are told
# apart by seq continuity: a writer's seq goes up by one a beat, a new
# writer (mmpd's claim, a kernel mount) starts a run of its own; one writer
# never resumes another's.  CLEAN and FSCK end a run.
mmp_alternations() {
        awk -v f="$1" -v t="$2" '
        $1 < f || $1 > t || $2 == "error" { next }
        $2 == prev { next }
        {
                prev = $2; s = $2 + 0
                if (s == 4283256144 || s == 3796913488) { cur = 0; next }    # CLEAN, FSCK
                if (cur && s > last[cur] && s <= last[cur] + 64) { last[cur] = s; next }
                for (i = 1; i <= n; i++)
                        if (i != cur && s > last[i] && s <= last[i] + 64) {
                                alt++; printf "# alternation at %d ms: seq %d resumes run %d\n", $1, s, i > "/dev/stderr"
                                break
                        }
                if (i > n) { n++; i = n }
                cur = i; last[i] = s
        }
        END { print alt + 0 }' "$T/mmp.trace"
}
# mmp_max_gap FROM TO: the longest time (ms) a non-CLEAN seq stood still.
mmp_max_gap() {
        awk -v f="$1" -v t="$2" '
        $1 < f || $1 > t || $2 == "error" { next }
        $2 != prev { if (prev != "" && prev != 4283256144 && $1 - since > gap) gap = $1 - since; prev = $2; since = $1 }
        END { print gap + 0 }' "$T/mmp.trace"
}
# mmp_nodes FROM TO: the node names the watcher saw in the window.
mmp_nodes() {
        awk -v f="$1" -v t="$2" '$1 >= f && $1 <= t && $2 != "error" { $1 = $2 = ""; sub(/^ +/, ""); print }' "$T/mmp.trace" |
                sort -u | tr '\n' ',' | sed 's/,$//'
}
