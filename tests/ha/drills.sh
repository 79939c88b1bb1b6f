#!/bin/bash
# Failover drills on a real two-node cluster (tests/ha/cluster.sh): corosync 3
# + pacemaker 2.1 in two nspawn containers, the volume an ocf:mmpd:mmpfs
# resource, stonith-enabled=false.  Each drill checks who has it mounted
# (each node's /proc/mounts), that the data written before is still there,
# and that a raw watcher on the host never sees two writers' seqs alternate.
#   1 start   2 move (A->B, and back)   3 kill A (SIGKILL its PID 1)
#   4 partition (cut the veth) with it on A   5 stop the cluster: CLEAN
# The table of drills and their times ends the log (docs/ha.md).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter losetup jq debugfs ip corosync pacemakerd crm_resource crm_mon
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/systemd/nspawn.sh"
. "$top_srcdir/tests/ha/cluster.sh"

W=11                            # mmp_update_interval=1
img=$(mkimg ha 1)
dev_a=$(loop_attach "$img")     # node A's view
dev_b=$(loop_attach "$img")     # node B's view
dev_w=$(loop_attach "$img")     # the host watcher's view
case $(ha_agent) in */stub-mmpfs) diag "agents/ocf/mmpfs.in is not in the tree: using tests/ha/stub-mmpfs";; esac
ha_setup "$dev_a" "$dev_b"

secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
journal() { in_node "$1" journalctl -b --no-pager -n "${2:-30}" 2>/dev/null; }
TABLE=""
# row DRILL WHAT TIME OWNER BOTH ALTERNATIONS: one line of the final table.
row() { TABLE="$TABLE$(printf '| %-3s | %-52s | %8s | %-5s | %-4s | %-3s |' "$@")"$'\n'; }

# wait_owner OWNERS SECONDS: bounded wait until owners() says OWNERS.
wait_owner() {
        local i
        for i in $(seq $(($2 * 5))); do
                [ "$(owners)" = "$1" ] && return 0
                sleep 0.2
        done
        return 1
}
# drill_checks N FROM TO OWNER: the checks every drill ends with.
drill_checks() {
        local n=$1 from=$2 to=$3 want=$4 both alt
        sampler_sync
        both=$(both_mounted "$from" "$to")
        is "$both" 0 "drill $n: never mounted on both nodes ($both samples)"
        alt=$(mmp_alternations "$from" "$to" 2>"$T/alt.$n")
        is "$alt" 0 "drill $n: the raw watcher never saw two writers' seqs alternate"
        [ "$alt" = 0 ] || diag "$(cat "$T/alt.$n")"
        diag "drill $n: watcher saw nodes [$(mmp_nodes "$from" "$to")], longest seq stall $(mmp_max_gap "$from" "$to") ms"
        if [ -n "$want" ]; then
                is "$(owners)" "$want" "drill $n: mounted on node $want only"
        else
                is "$(owners)" "" "drill $n: mounted on no node"
        fi
        DRILL_BOTH=$both DRILL_ALT=$alt
}
# data_check NODE DRILL...: the files earlier drills wrote read back on NODE.
data_check() {
        local n=$1 d bad=""
        shift
        for d in "$@"; do
                [ "$(in_node "$n" cat "$HA_MP/drill$d")" = "drill $d" ] || bad="$bad drill$d"
        done
        is "$bad" "" "node $n: the files of drills $* read back"
}
write_file() { check "node $1: write $HA_MP/drill$2" in_node "$1" sh -c "echo 'drill $2' >$HA_MP/drill$2 && sync"; }

# --- the cluster
t_all=$(now_ms)
ha_watcher_start "$dev_w" 590
ha_sampler_start
ha_boot A
ha_boot B
ha_link
check "node-a reaches node-b over the veth" in_node A ping -c 1 -W 2 "$(ha_addr B)"
ha_start A
ha_start B
if ha_wait_online A "node-a node-b" 90 && ha_wait_online B "node-a node-b" 30; then
        ok "cluster formed: both nodes online, DC $(dc_in A) ($(secs $(( $(now_ms) - t_all ))) s)"
else
        not_ok "cluster formed" "$(journal A 40)"
        bail_out "no cluster"
fi
diag "agent: $(crm A crm_resource --show-metadata ocf:mmpd:mmpfs 2>/dev/null | sed -n 's/.*<parameter name="\([^"]*\)".*/\1/p' | tr '\n' ' ')"

# --- drill 1: start
t0=$(now_ms)
crm A crm_resource -r "$HA_RSC" --meta -p target-role -v Started >/dev/null 2>&1
wait_owner A 90 || wait_owner B 1
t1=$(now_ms)
first=$(owners)
case $first in A|B) ok "drill 1: started, mounted on node $first ($(secs $((t1 - t0))) s)";;
        *) not_ok "drill 1: started on one node" "owners: '$first'" "$(crm A crm_mon -1 2>&1)" "$(journal A)";;
esac
[ "$first" = B ] && bail_out "drill 1 started it on node B; the drills expect A"
crm A crm_resource --wait --timeout=60s >/dev/null 2>&1
is "$(located A)" node-a "drill 1: pacemaker: running on node-a"
write_file A 1
data_check A 1
"$MMPCTL" dump "$dev_w" | grep -E '^(sequence|node|device)' | while read -r l; do diag "disk: $l"; done
drill_checks 1 "$t0" "$(now_ms)" A
row 1 "start on node-a" "$(secs $((t1 - t0))) s" "A" "$DRILL_BOTH" "$DRILL_ALT"

# --- drill 2: move A -> B, then back B -> A
move() {        # move FROM TO LABEL: crm_resource --move, timed from both mount tables
        local from=$1 to=$2 l=$3 host t0 t1 off on
        host=$(ha_host "$to")
        t0=$(now_ms)
        crm "$from" crm_resource --move -r "$HA_RSC" -N "$host" >/dev/null 2>&1
        if wait_owner "$to" 90; then
                t1=$(now_ms)
                sampler_sync
                off=$(first_sample "$t0" $([ "$from" = A ] && echo 2 || echo 3) 0)
                on=$(first_sample "$t0" $([ "$to" = A ] && echo 2 || echo 3) 1)
                ok "$l: moved $from -> $to in $(secs $((t1 - t0))) s (unmounted on $from after $(secs "${off:-0}") s, mounted on $to after $(secs "${on:-0}") s)"
        else
                t1=$(now_ms)
                not_ok "$l: moved $from -> $to" "owners: '$(owners)'" "$(crm "$from" crm_mon -1 2>&1)" "$(journal "$to")"
        fi
        crm "$from" crm_resource --wait --timeout=60s >/dev/null 2>&1
        is "$(located "$from")" "$host" "$l: pacemaker: running on $host"
        crm "$from" crm_resource --clear -r "$HA_RSC" >/dev/null 2>&1
        MOVE_MS=$((t1 - t0)) MOVE_OFF=${off:-} MOVE_ON=${on:-}
}
t0=$(now_ms)
move A B "drill 2"
data_check B 1
write_file B 2
drill_checks 2 "$t0" "$(now_ms)" B
row 2a "move node-a -> node-b (umount $(secs "$MOVE_OFF") s, mount $(secs "$MOVE_ON") s)" "$(secs "$MOVE_MS") s" B "$DRILL_BOTH" "$DRILL_ALT"
t0=$(now_ms)
move B A "drill 2"
data_check A 1 2
drill_checks 2 "$t0" "$(now_ms)" A
row 2b "move node-b -> node-a (umount $(secs "$MOVE_OFF") s, mount $(secs "$MOVE_ON") s)" "$(secs "$MOVE_MS") s" A "$DRILL_BOTH" "$DRILL_ALT"

# --- drill 3: kill node A hard
t0=$(now_ms)
node_kill A
if wait_owner B $((4 * W + 60)); then
        t1=$(now_ms)
        ok "drill 3: node-b took over $(secs $((t1 - t0))) s after node-a was killed"
        took=$((t1 - t0))
        # corosync's token loss (3 s + consensus) + pacemaker + a claim: 2W at most
        [ "$took" -le $(( (2 * W + 30) * 1000 )) ] && ok "drill 3: within 2W + 30 s ($(secs "$took") s)" ||
                not_ok "drill 3: within 2W + 30 s" "took $took ms"
else
        t1=$(now_ms)
        not_ok "drill 3: node-b took over" "owners: '$(owners)'" "$(crm B crm_mon -1 2>&1)" "$(journal B 40)"
        not_ok "drill 3: within 2W + 30 s" "no takeover"
fi
awk -v f="$t0" -v t="$t1" '$1 >= f && $1 <= t && $2 == 4283256144 { c = 1 } END { exit !c }' "$T/mmp.trace" &&
        kill3="the dead node's kernel left it CLEAN" || kill3="no CLEAN: the claim waited out the heartbeat"
diag "drill 3: $kill3"
data_check B 1 2
write_file B 3
crm B crm_resource --wait --timeout=60s >/dev/null 2>&1
is "$(located B)" node-b "drill 3: pacemaker: running on node-b"
drill_checks 3 "$t0" "$(now_ms)" B
row 3 "kill -9 node-a (PID 1): node-b takes over" "$(secs $((t1 - t0))) s" B "$DRILL_BOTH" "$DRILL_ALT"
diag "drill 3: $kill3"

# node A comes back and joins; the volume goes back to it for drill 4
t0=$(now_ms)
ha_boot A
ha_link
ha_start A
if ha_wait_online B "node-a node-b" 90; then
        ok "node-a rejoined the cluster ($(secs $(( $(now_ms) - t0 ))) s)"
else
        not_ok "node-a rejoined the cluster" "$(journal A 40)"
fi
is "$(owners)" B "node-a's return leaves the volume on node-b"
move B A "before drill 4"
data_check A 1 2 3

# --- drill 4: partition with the volume on node A
t0=$(now_ms)
link_down
seen=""
for _ in $(seq 300); do         # B's view: node-a lost, the start tried, failed
        if [ "$(online_in B)" = node-b ] &&
                crm B crm_mon -1 --output-as=xml 2>/dev/null | grep -q "<failure op_key=\"${HA_RSC}_start_0\" node=\"node-b\""; then
                seen=1
                break
        fi
        sleep 0.2
done
t1=$(now_ms)
if [ -n "$seen" ]; then
        ok "drill 4: node-b's partition lost node-a, started the resource, and the start failed ($(secs $((t1 - t0))) s)"
else
        not_ok "drill 4: node-b's start fails" "online in B: '$(online_in B)'" "$(crm B crm_mon -1 2>&1)" "$(journal B 40)"
fi
refusal=$(in_node B journalctl -b --no-pager 2>/dev/null | grep -E 'mmpctl|mmpd' | grep -iE 'refus|in use|held|node-a|'"$kname" | tail -3)
diag "node-b's refusal: ${refusal:-(none found in its journal)}"
crm B crm_resource --wait --timeout=30s >/dev/null 2>&1
is "$(located B)" "" "drill 4: node-b's partition: the resource is stopped there"
is "$(mounted_on B)" "" "drill 4: node-b has nothing mounted"
is "$(located A)" node-a "drill 4: node-a's partition: still running on node-a"
data_check A 1 2 3
write_file A 4
t2=$(now_ms)
link_up
if ha_wait_online A "node-a node-b" 90 && ha_wait_online B "node-a node-b" 30; then
        ok "drill 4: healed, both nodes online again ($(secs $(( $(now_ms) - t2 ))) s)"
else
        not_ok "drill 4: healed" "$(crm A crm_mon -1 2>&1)"
fi
t3=$(now_ms)
is "$(located A)" node-a "drill 4: after the heal the cluster settles on one owner, node-a"
crm A crm_resource --cleanup -r "$HA_RSC" >/dev/null 2>&1
crm A crm_resource --wait --timeout=60s >/dev/null 2>&1
is "$(located A)" node-a "drill 4: and after clearing node-b's failure"
data_check A 1 2 3 4
drill_checks 4 "$t0" "$(now_ms)" A
row 4 "partition: node-b's start refused (heal $(secs $((t3 - t2))) s)" "$(secs $((t1 - t0))) s" A "$DRILL_BOTH" "$DRILL_ALT"

# --- drill 5: stop the cluster
t0=$(now_ms)
check "drill 5: node-b: systemctl stop pacemaker" in_node B systemctl stop pacemaker
tb=$(now_ms)
check "drill 5: node-a: systemctl stop pacemaker" in_node A systemctl stop pacemaker
t1=$(now_ms)
diag "drill 5: node-b's pacemaker stopped in $(secs $((tb - t0))) s, node-a's (with the resource) in $(secs $((t1 - tb))) s"
is "$(in_node A systemctl is-active pacemaker; in_node B systemctl is-active pacemaker)" $'inactive\ninactive' \
        "drill 5: pacemaker is stopped on both nodes"
in_node B systemctl stop corosync
in_node A systemctl stop corosync
is "$(owners)" "" "drill 5: mounted nowhere"
case $("$MMPCTL" dump "$dev_w" | grep '^sequence') in *clean*) ok "drill 5: the volume ends CLEAN";;
        *) not_ok "drill 5: the volume ends CLEAN" "$("$MMPCTL" dump "$dev_w")";; esac
blockdev --flushbufs "$dev_w"
bad=""
for d in 1 2 3 4; do
        [ "$(debugfs -R "cat /drill$d" "$dev_w" 2>/dev/null)" = "drill $d" ] || bad="$bad drill$d"
done
is "$bad" "" "drill 5: every drill's file is on the shared disk"
both=$(both_mounted "$t_all" "$(now_ms)")
drill_checks 5 "$t0" "$(now_ms)" ""
row 5 "stop the cluster (node-b, then node-a): volume CLEAN" "$(secs $((t1 - t0))) s" "-" "$DRILL_BOTH" "$DRILL_ALT"
is "$(mmp_alternations "$t_all" "$(now_ms)" 2>/dev/null)" 0 "whole run: no alternation in $(wc -l <"$T/mmp.trace") watcher samples"
is "$both" 0 "whole run: never mounted on both nodes ($(wc -l <"$T/mounts.trace") samples)"

diag "" "Failover drills (W = $W s, monitor interval ${HA_MONITOR:-5} s, agent $(basename "$(ha_agent)")):" \
        "$(printf '| %-3s | %-52s | %8s | %-5s | %-4s | %-3s |' '#' drill time owner both alt)" \
        "|-----|------------------------------------------------------|----------|-------|------|-----|" \
        "${TABLE%$'\n'}" "whole run: $(secs $(( $(now_ms) - t_all ))) s"
done_testing
