#!/bin/bash
# mmpd's claim against e2fsck on the same volume (a second loop device: the
# other node), e2fsck started the moment mmpd's claim seq is on disk, so its
# first MMP read lands right after mmpd's claim write.  Regression for the
# claim rounds (lib/mmp-sm.h, docs/fencing.md §1): mmpd rewrites its seq
# every heartbeat period during its W wait; before, the block stood still
# for W after the claim write, e2fsck (which saw the same seq before and
# after its own W wait) took the volume while mmpd reported it claimed.
# Never both, RACE_RUNS times (default 5):
#   - mmpctl claim exits 0, e2fsck fails with the MMP error (exit 8), and
#     mmpd still holds the volume 5 s later (no LOST); or
#   - mmpctl claim is refused and e2fsck succeeds.
# mmp-watch on the peer device: during a claim that succeeded the block
# never stood still for W (max_gap_ms < 11000).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup e2fsck mkfs.ext4 jq python3
. "$top_srcdir/tests/lib/mmpd.sh"

RUNS=${RACE_RUNS:-5}
W_MS=11000
RACE_START="$top_srcdir/tests/handoff/race-start.py"

img=$(mkimg race 1)
dev=$(loop_attach "$img"); peer=$(loop_attach "$img")
start_mmpd A node-a
for _ in $(seq 1 50); do [ -S "$(mmpd_sock A)" ] && break; sleep 0.1; done
ctl() { "$MMPCTL" --socket "$(mmpd_sock A)" "$@"; }
state() { ctl --json status "$dev" 2>/dev/null | jq -r '.state // "none"' 2>/dev/null; }

claimed=0 refused=0
for run in $(seq 1 "$RUNS"); do
        rm -f "$T/ready"
        lines_before=$(wc -l <"$T/A.log")
        python3 "$RACE_START" "$peer" node-a 30 "$T/ready" -- e2fsck -fy "$peer" >"$T/e2fsck.$run" 2>&1 &
        fsck_pid=$!
        for _ in $(seq 1 100); do [ -e "$T/ready" ] && break; sleep 0.02; done
        "$MMP_WATCH" "$peer" 13 100 >"$T/watch.$run" &
        watch_pid=$!
        ctl claim "$dev" >"$T/claim.$run" 2>&1
        claim_rc=$?
        t_claim=$(now_ms)
        wait "$fsck_pid"
        fsck_rc=$?
        wait "$watch_pid"
        seen=$(grep -m1 "^race-start:" "$T/e2fsck.$run")
        fsck_said=$(grep -m1 -E "MMP|clean|PASS|active" "$T/e2fsck.$run" | grep -v "^race-start" | head -c 120)
        gap=$(jq -r '.max_gap_ms // empty' <"$T/watch.$run" 2>/dev/null)
        diag "run $run: mmpctl claim rc $claim_rc; e2fsck rc $fsck_rc ($fsck_said); $seen; mmp-watch max_gap_ms ${gap:-?}"

        if [ "$claim_rc" -eq 0 ]; then
                claimed=$((claimed + 1))
                # held for 5 s more, nothing lost
                left=$(( 5000 - ($(now_ms) - t_claim) ))
                [ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
                st=$(state)
                lost=$(tail -n +"$((lines_before + 1))" "$T/A.log" | grep LOST)
                if [ "$fsck_rc" -eq 8 ] && grep -q "MMP: device currently active" "$T/e2fsck.$run" &&
                   [ "$st" = held ] && [ -z "$lost" ]; then
                        ok "run $run: mmpd claimed and holds it 5 s later; e2fsck refused (rc 8, MMP: device currently active)"
                else
                        not_ok "run $run: BOTH? mmpd claimed, so e2fsck must fail with the MMP error and mmpd keep the volume" \
                                "e2fsck rc $fsck_rc; state $st; $lost" "$(tail -n 5 "$T/e2fsck.$run")"
                fi
                if [ -n "$gap" ] && [ "$gap" -lt "$W_MS" ]; then
                        ok "run $run: the block never stood still for W during the claim (max gap $gap ms)"
                else
                        not_ok "run $run: the block never stood still for W during the claim" "$(cat "$T/watch.$run")"
                fi
                ctl release "$dev" >/dev/null 2>&1 || diag "run $run: release failed"
        else
                refused=$((refused + 1))
                if grep -q "refused" "$T/claim.$run" && [ "$fsck_rc" -eq 0 ] && [ "$(state)" != held ]; then
                        ok "run $run: mmpd's claim refused ($(head -c 100 "$T/claim.$run")); e2fsck succeeded"
                else
                        not_ok "run $run: mmpd's claim refused, so e2fsck must succeed" \
                                "claim: $(cat "$T/claim.$run")" "e2fsck rc $fsck_rc" "$(tail -n 5 "$T/e2fsck.$run")"
                fi
                skip "run $run: the block never stood still for W during the claim" "the claim was refused"
                ctl release "$dev" >/dev/null 2>&1
        fi
        # the next run starts from a CLEAN block
        for _ in $(seq 1 50); do
                [ "$(mmp_field "$peer" sequence)" = ff4d4d50 ] && break
                sleep 0.1
        done
done
diag "$RUNS runs: mmpd claimed $claimed, mmpd refused $refused"
grep -q "LOST" "$T/A.log" && not_ok "no LOST in any run" "$(grep LOST "$T/A.log")" || ok "no LOST in any run"
stop_mmpd A TERM
done_testing
