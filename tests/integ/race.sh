#!/bin/bash
# Two nodes race for one volume, 20 times with random start offsets (run in
# parallel, one image and two loop devices per race): exactly one holds it
# every time, it stays held, and the loser's refusal names the winner.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup debugfs
. "$top_srcdir/tests/lib/mmpd.sh"

N=${RACES:-20}
for i in $(seq 1 "$N"); do
        img=$(mkimg "race$i" 1)
        echo "$(loop_attach "$img") $(loop_attach "$img")" >"$T/race$i.devs"
done
for i in $(seq 1 "$N"); do
        read -r da db <"$T/race$i.devs"
        # offsets 0..2999 ms, independently for each node: every ordering,
        # including near-simultaneous starts, comes up over 20 races
        oa=$((RANDOM % 3000)); ob=$((RANDOM % 3000))
        echo "$oa $ob" >"$T/race$i.offsets"
        ( sleep "$(printf '%d.%03d' $((oa / 1000)) $((oa % 1000)))"; start_mmpd "a$i" "node-a$i" "v=$da"; wait ) &
        ( sleep "$(printf '%d.%03d' $((ob / 1000)) $((ob % 1000)))"; start_mmpd "b$i" "node-b$i" "v=$db"; wait ) &
done

decided() { grep -qE "claimed|claim refused" "$T/$1.log" 2>/dev/null; }
for i in $(seq 1 "$N"); do
        for n in a b; do
                wait_log "$n$i" "claimed|claim refused" 60 >/dev/null || true
        done
done
sleep 3         # a winner that would be LOST right after CLAIMED shows it now

for i in $(seq 1 "$N"); do
        read -r da db <"$T/race$i.devs"
        read -r oa ob <"$T/race$i.offsets"
        ca=$(grep -c "claimed:" "$T/a$i.log"); cb=$(grep -c "claimed:" "$T/b$i.log")
        la=$(grep -c "LOST" "$T/a$i.log"); lb=$(grep -c "LOST" "$T/b$i.log")
        if [ $((ca + cb)) -eq 1 ] && [ $((la + lb)) -eq 0 ]; then
                if [ "$ca" -eq 1 ]; then win=a; lose=b; else win=b; lose=a; fi
                ondisk=$(mmp_field "$da" node_name)
                if [ "$ondisk" = "node-$win$i" ] && grep -q "claim refused.*node 'node-$win$i'" "$T/$lose$i.log"; then
                        ok "race $i (offsets a=${oa} b=${ob} ms): node-$win holds, node-$lose names it"
                else
                        not_ok "race $i: on-disk holder and refusal agree" "disk=$ondisk" "$(grep refused "$T/$lose$i.log")"
                fi
        else
                not_ok "race $i (offsets a=${oa} b=${ob} ms): exactly one holder" "claimed a=$ca b=$cb lost a=$la b=$lb" \
                        "$(tail -5 "$T/a$i.log")" "$(tail -5 "$T/b$i.log")"
        fi
done
done_testing
