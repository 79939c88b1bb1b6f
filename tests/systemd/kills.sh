#!/bin/bash
# Kill campaign: one node (real systemd as PID 1 in nspawn) whose mmpd.service
# (Restart=on-failure, fd store) holds four volumes, and KILLS (default 50)
# SIGKILLs of its main process at random moments:
#
#   heartbeat  any moment while all is held (heartbeat I/O, the state
#              memfd's pwrite at every beat), 0-1500 ms after the last
#              restart became active;
#   resume     back-to-back: the restarted mmpd killed 0-10 ms after it
#              appeared, before it has finished resuming (never two in a row);
#   fence      volume 4 made LOST by a rogue write from the host (through a
#              second loop device), mmpd killed 0-1500 ms later, and again
#              while the next mmpd fences it if that one found it lost;
#   claim      volume 3 (static) released, then mmpd killed 0-1500 ms after
#              each claim starts (the next mmpd claims it again from its
#              config); the last one after the claim wrote its sequence.
#
# Volumes: 1 mmpd@ unit, 2 and 3 static ([volume] in mmpd.conf), 4 mmpd@
# unit (the one made LOST).  Update interval 1 s.  A host-side mmp-watch per
# volume samples the MMP block every 100 ms throughout (MMP_WATCH_TRACE);
# over each volume's held windows it must never see a gap over interval +
# 1 s, CLEAN, or another node; after the rogue write volume 4 must never show
# this node again, and mmpd must never report it claimed again.  At the end
# volumes 1-3 are held with their seq advancing, and systemd restarted mmpd
# once per kill.  `make soak` runs KILLS=1000.  KILLS_SEED fixes the random
# schedule (the seed is printed).
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter systemd-escape losetup jq
. "$top_srcdir/tests/lib/mmpd.sh"
. "$top_srcdir/tests/systemd/nspawn.sh"

KILLS=${KILLS:-50}
SEED=${KILLS_SEED:-$(( $$ ^ $(date +%s) ))}
RANDOM=$SEED
UI=1                            # update interval: W = 11 s
GAP_MAX=$(( (UI + 1) * 1000 ))
CLEAN=4283256144                # 0xFF4D4D50
SEQ_MAX=3796782335              # 0xE24D4CFF; above it CLEAN and FSCK
N_CLAIM=$(( KILLS / 5 ))
[ "$N_CLAIM" -ge 2 ] || N_CLAIM=2
N_FENCE_MAX=2
N_REST=$(( KILLS - N_CLAIM ))   # heartbeat/resume, and the fence kills
[ "$N_REST" -ge $(( N_FENCE_MAX + 1 )) ] || bail_out "KILLS=$KILLS: need at least $(( N_CLAIM + N_FENCE_MAX + 1 ))"
t_begin=$(now_ms)
diag "KILLS=$KILLS KILLS_SEED=$SEED"

declare -a dev img
for i in 1 2 3 4; do
        img[i]=$(mkimg "kills$i" "$UI")
        dev[i]=$(loop_attach "${img[i]}")
done
rogue=$(loop_attach "${img[4]}")        # the rogue writer's view of volume 4, host only
unit1=$(hold_unit "${dev[1]}")
unit4=$(hold_unit "${dev[4]}")
name=("" "${dev[1]}" kills2 kills3 "${dev[4]}")  # as mmpd names them

# The fence hook keeps volume 4's fence running ~1.5 s, a window to kill in.
cat >"$T/fence-hook" <<'EOS'
#!/bin/sh
echo "kills.sh fence hook: start $MMPD_VOLUME"
sleep 1.5
echo "kills.sh fence hook: done $MMPD_VOLUME"
EOS
chmod +x "$T/fence-hook"
cat >"$T/mmpd.conf" <<EOS
[mmpd]
fence_hook = /etc/mmpd/fence-hook
[volume "kills2"]
device = ${dev[2]}
[volume "kills3"]
device = ${dev[3]}
EOS

MMPCTL_IN=$SD_BUILD/mmpctl/mmpctl
main_pid() { in_node A systemctl show -p MainPID --value mmpd.service; }
# vol_state NAME: mmpd's state of a volume ("" when mmpd does not know it)
vol_state() {
        in_node A "$MMPCTL_IN" status --json 2>/dev/null |
                jq -r --arg n "$1" '.volumes[] | select(.name == $n) | .state' 2>/dev/null
}
vol_seq() {
        in_node A "$MMPCTL_IN" status --json 2>/dev/null |
                jq -r --arg n "$1" '.volumes[] | select(.name == $n) | .seq' 2>/dev/null
}
# wait_held NAME SECONDS
wait_held() {
        local i
        for i in $(seq $(( $2 * 5 ))); do
                [ "$(vol_state "$1")" = held ] && return 0
                sleep 0.2
        done
        return 1
}
sleep_ms() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }
journal() { in_node A journalctl -b --no-pager -o short-monotonic "$@"; }
# pid_logged PID REGEX: the mmpd with that PID logged a matching line
pid_logged() { journal "_PID=$1" | grep -qE "mmpd\[$1\]: $2"; }

boot_node A node-a "${dev[@]:1}" "$T/mmpd.conf:/etc/mmpd/mmpd.conf" "$T/fence-hook:/etc/mmpd/fence-hook"
check "start mmpd.service (claims kills2, kills3)" in_node A systemctl start mmpd.service
t0=$(now_ms)
check "start $unit1 and $unit4" in_node A systemctl start "$unit1" "$unit4"
all=1
for i in 2 3; do wait_held "${name[i]}" 30 || all=0; done
[ "$all" = 1 ] && ok "all four volumes held ($(( ($(now_ms) - t0) / 1000 )) s)" ||
        bail_out "not all volumes held: $(in_node A "$MMPCTL_IN" status 2>&1)"

# Watchers: one per volume, every sample in $T/trace.N.
for i in 1 2 3 4; do
        MMP_WATCH_TRACE="$T/trace.$i" "$MMP_WATCH" "${dev[i]}" 100000 100 >"$T/watch.$i.json" &
        wpid[i]=$!
        echo "${wpid[i]}" >"$T/watch.$i.pid"     # killed by the cleanup, should we bail out
done
sleep 0.5
t_w0=$(now_ms)

# ---- the campaign ------------------------------------------------------------

kills=0
declare -A phase_n=([claim]=0 [heartbeat]=0 [resume]=0 [fence]=0)
last_pid=""                     # the mmpd killed last
: >"$T/kills.log"

# record PHASE PID: one kill done
record() {
        kills=$((kills + 1))
        phase_n[$1]=$(( ${phase_n[$1]} + 1 ))
        last_pid=$2
        echo "$kills $1 $2 $(now_ms)" >>"$T/kills.log"
}
# wait_next: the PID of the mmpd after $last_pid (bounded 20 s); on a
# timeout, why (and false)
wait_next() {
        local i p
        for i in $(seq 400); do
                p=$(main_pid)
                if [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$last_pid" ]; then
                        echo "$p"
                        return 0
                fi
                sleep 0.05
        done
        echo "no new mmpd 20 s after killing $last_pid: $(in_node A systemctl status --no-pager mmpd.service 2>&1 | head -20)"
        return 1
}
next_pid() { p=$(wait_next) || bail_out "$p"; }
# wait_active: mmpd.service active again (READY=1: the fd store's holds resumed)
wait_active() {
        local i
        for i in $(seq 200); do
                [ "$(in_node A systemctl show -p ActiveState --value mmpd.service)" = active ] && return 0
                sleep 0.05
        done
        bail_out "mmpd.service not active 10 s after a kill"
}
# kill_now PHASE PID
kill_now() {
        in_node A kill -KILL "$2" || bail_out "kill -KILL $2 failed"
        record "$1" "$2"
}
# kill_after PHASE MAXMS: wait for the next mmpd to be up, then 0-MAXMS ms
kill_after() {
        local p
        next_pid
        wait_active
        sleep_ms $(( RANDOM % ($2 + 1) ))
        kill_now "$1" "$p"
}
# kill_resume: the next mmpd, 0-10 ms after it appeared (one process inside
# the node polls for it, so nothing slower than systemctl is in between)
kill_resume() {
        local p
        p=$(in_node A sh -c '
                for i in $(seq 4000); do
                        p=$(systemctl show -p MainPID --value mmpd.service)
                        if [ "$p" != 0 ] && [ "$p" != "$1" ]; then
                                sleep "$2"; kill -KILL "$p" && echo "$p"; exit
                        fi
                done; exit 1' sh "$last_pid" "$(printf '0.%03d' $(( RANDOM % 11 )))") ||
                bail_out "no restarted mmpd to kill after $last_pid"
        record resume "$p"
}
# heartbeat_kills N: N kills, heartbeat or resume (never first, never twice
# in a row)
heartbeat_kills() {
        local n=$1 prev=resume
        while [ "$n" -gt 0 ]; do
                if [ "$prev" = heartbeat ] && [ $(( RANDOM % 3 )) = 0 ]; then
                        kill_resume
                        prev=resume
                else
                        kill_after heartbeat 1500
                        prev=heartbeat
                fi
                n=$((n - 1))
        done
}

claimed_count() { journal -u mmpd.service | grep -cF "volume $1 ($1): claimed"; }

# 1. heartbeat/resume, a third of them
n_hb=$(( N_REST - N_FENCE_MAX ))
n_first=$(( n_hb / 3 ))
heartbeat_kills "$n_first"

# 2. fence: volume 4 LOST by a rogue write, mmpd killed while it fences
next_pid; wait_active
claimed4_before=$(claimed_count "${dev[4]}")
t_rogue=$(now_ms)
"$MMP_EDIT" "$rogue" node=rogue seq=4242 >/dev/null 2>&1 || bail_out "mmp-edit (the rogue write) failed"
sleep_ms $(( RANDOM % 1501 ))
kill_now fence "$p"
fence_pids="$p"
n_fence=1
next_pid
# If the next mmpd resumed volume 4 and found it lost, kill it mid-fence too.
for i in $(seq 30); do
        if pid_logged "$p" "volume ${dev[4]} \(${dev[4]}\): fence notify"; then
                sleep_ms $(( RANDOM % 1001 ))
                kill_now fence "$p"
                fence_pids="$fence_pids $p"
                n_fence=2
                break
        fi
        sleep 0.1
done

# 3. the other heartbeat/resume kills
heartbeat_kills $(( N_REST - n_fence - n_first ))

# 4. claim: release volume 3, then kill each claim of it as it starts
next_pid; wait_active
t_release=$(now_ms)
check "release kills3 for the claim kills" in_node A "$MMPCTL_IN" release kills3
in_node A setsid -f "$MMPCTL_IN" claim "${dev[3]}" >/dev/null 2>&1 </dev/null
claiming_seen=0
for k in $(seq "$N_CLAIM"); do
        if [ "$k" -gt 1 ]; then
                next_pid; wait_active
        fi
        if [ "$k" = "$N_CLAIM" ] && [ "$k" -gt 1 ]; then
                # The last one further in: after the claim wrote its sequence.
                for i in $(seq 300); do
                        pid_logged "$p" "volume kills3 \(.*\): wrote our sequence" && break
                        sleep 0.1
                done
        fi
        sleep_ms $(( RANDOM % 1501 ))
        [ "$(vol_state kills3)" = claiming ] && claiming_seen=$((claiming_seen + 1))
        kill_now claim "$p"
done
t_campaign=$(now_ms)

# 5. the last mmpd claims volume 3 again (2W: it watches our stale claim first)
next_pid
if wait_held kills3 60; then
        ok "kills3 claimed again after the claim kills ($(( ($(now_ms) - t_campaign) / 1000 )) s)"
else
        not_ok "kills3 claimed again after the claim kills" "state: $(vol_state kills3)"
fi
t_held3=$(now_ms)
sleep 3
t_end=$(now_ms)
for i in 1 2 3 4; do kill -TERM "${wpid[i]}" 2>/dev/null; done
for i in 1 2 3 4; do wait "${wpid[i]}"; rm -f "$T/watch.$i.pid"; done

# ---- verdicts ----------------------------------------------------------------

journal >"$T/journal.txt"
save_journal() {
        local f="$top_builddir/tests/systemd/kills-journal.txt"
        cp "$T/journal.txt" "$f" 2>/dev/null && diag "journal saved in $f"
        cp "$T/kills.log" "$top_builddir/tests/systemd/kills-schedule.txt" 2>/dev/null
}

is "$kills" "$KILLS" "$KILLS kills done"
restarts=$(in_node A systemctl show -p NRestarts --value mmpd.service)
is "$restarts" "$kills" "systemd restarted mmpd once per kill"

# held_windows N: "START END" lines, the times volume N was held
held_windows() {
        case $1 in
        1|2) echo "$t_w0 $t_end" ;;
        3) echo "$t_w0 $t_release"; echo "$t_held3 $t_end" ;;
        4) echo "$t_w0 $t_rogue" ;;
        esac
}
# window_check TRACE START END: "GAP BAD ERRORS" over [START, END]: the
# longest a seq stood unchanged (first sample showing it to the first showing
# the next, or to END), samples showing CLEAN/FSCK or another node, errors
window_check() {
        awk -v s="$2" -v e="$3" -v max="$SEQ_MAX" '
                $1 < s { next }
                $1 > e { exit }
                $2 == "error" { err++; next }
                {
                        if ($2 + 0 > max || $3 != "node-a") bad++
                        if (!have) { have = 1; seq = $2; since = $1 }
                        else if ($2 != seq) { if ($1 - since > gap) gap = $1 - since; seq = $2; since = $1 }
                        last = $1
                }
                END { if (have && last - since > gap) gap = last - since
                      printf "%d %d %d %d\n", gap, bad, err, have }' "$1"
}

declare -a worst
for i in 1 2 3 4; do
        worst[i]=0; bad=0; errs=0; empty=0
        while read -r s e; do
                read -r g b er h < <(window_check "$T/trace.$i" "$s" "$e")
                [ "$g" -gt "${worst[i]}" ] && worst[i]=$g
                bad=$((bad + b)); errs=$((errs + er))
                [ "$h" = 1 ] || empty=1
        done < <(held_windows "$i")
        [ "$empty" = 0 ] && [ "${worst[i]}" -le "$GAP_MAX" ] &&
                ok "volume $i (${name[i]}): no gap over $GAP_MAX ms while held (worst ${worst[i]} ms)" ||
                not_ok "volume $i (${name[i]}): no gap over $GAP_MAX ms while held" "worst ${worst[i]} ms" \
                        "$(grep -F -- "${name[i]}" "$T/journal.txt" | tail -20)"
        is "$bad" 0 "volume $i: only node-a's heartbeats while held (no CLEAN, no other node)"
        is "$errs" 0 "volume $i: the watcher read every sample"
done

# Volume 4 after the rogue write: the rogue block stays; mmpd never wins it back.
after=$(awk -v s="$t_rogue" '$1 >= s && $2 != "error"' "$T/trace.4")
first_rogue=$(awk '$3 == "rogue" { print $1; exit }' <<<"$after")
if [ -z "$first_rogue" ]; then
        not_ok "volume 4: the watcher saw the rogue write" "$(tail -5 <<<"$after")"
else
        ok "volume 4: the watcher saw the rogue write ($(( first_rogue - t_rogue )) ms after it)"
fi
ours_again=$(awk -v s="${first_rogue:-0}" '$1 > s && ($3 != "rogue" || $2 != 4242)' <<<"$after" | head -3)
is "$ours_again" "" "volume 4: never this node's again after the rogue write (disk)"
is "$(( $(claimed_count "${dev[4]}") - claimed4_before ))" 0 \
        "volume 4: mmpd never claimed or resumed it after the rogue write (journal)"
lost=$(grep -cE "volume ${dev[4]} \(${dev[4]}\): LOST" "$T/journal.txt")
[ "$lost" -ge 1 ] && ok "volume 4: LOST in mmpd's journal ($lost time(s))" ||
        not_ok "volume 4: LOST in mmpd's journal" "$(grep -F -- "${dev[4]}" "$T/journal.txt" | tail -20)"
is "$(in_node A systemctl show -p ActiveState --value "$unit4")" failed "$unit4 failed (LOST), stayed failed"
st4=$(vol_state "${dev[4]}")
[ "$st4" != held ] && [ "$st4" != claiming ] && ok "volume 4: not held at the end (${st4:-unknown to mmpd})" ||
        not_ok "volume 4: not held at the end" "state $st4"
mid_fence=0
for p in $fence_pids; do
        grep -qE "mmpd\[$p\]: volume ${dev[4]} \(${dev[4]}\): fence notify" "$T/journal.txt" &&
                ! grep -qE "mmpd\[$p\]: volume ${dev[4]} \(${dev[4]}\): fence done" "$T/journal.txt" &&
                mid_fence=$((mid_fence + 1))
done
[ "$mid_fence" -ge 1 ] && ok "a kill landed while mmpd fenced volume 4 ($mid_fence of ${phase_n[fence]} fence kills)" ||
        not_ok "a kill landed while mmpd fenced volume 4" "fence kills: $fence_pids" \
                "$(grep -F -- "${dev[4]}" "$T/journal.txt" | tail -20)"
fence_started=$(grep -cE "volume ${dev[4]} \(${dev[4]}\): fence notify" "$T/journal.txt")
fence_done=$(grep -cE "volume ${dev[4]} \(${dev[4]}\): fence done" "$T/journal.txt")
diag "volume 4: fence started $fence_started time(s), finished $fence_done"

# The claim kills hit claims.
is "$claiming_seen" "$N_CLAIM" "every claim kill found kills3 claiming"

# At the end: 1-3 held, by this node, seq advancing.
is "$(in_node A systemctl show -p ActiveState --value "$unit1")" active "$unit1 active throughout"
for i in 1 2 3; do s1[i]=$(vol_seq "${name[i]}"); st[i]=$(vol_state "${name[i]}"); done
sleep 2.5
for i in 1 2 3; do
        s2=$(vol_seq "${name[i]}")
        [ "${st[i]}" = held ] && [ -n "${s1[i]}" ] && [ -n "$s2" ] && [ "$s2" != "${s1[i]}" ] &&
                ok "volume $i (${name[i]}): held at the end, seq advancing (${s1[i]} -> $s2)" ||
                not_ok "volume $i (${name[i]}): held at the end, seq advancing" "state ${st[i]}, seq ${s1[i]} -> $s2"
        is "$("$MMPCTL" dump --json "${dev[i]}" | jq -r .node_name)" node-a "volume $i: the disk names node-a"
done

# Kills that landed before the restarted mmpd finished resuming: it logged
# fewer "claimed" (a resume's success) than "resuming the hold" lines, or
# nothing at all.
mid_resume=0
while read -r n ph p t; do
        [ "$ph" = resume ] || continue
        r=$(grep -cE "mmpd\[$p\]: volume .*resuming the hold" "$T/journal.txt")
        c=$(grep -cE "mmpd\[$p\]: volume .*claimed: " "$T/journal.txt")
        [ "$r" = 0 ] || [ "$c" -lt "$r" ] && mid_resume=$((mid_resume + 1))
done <"$T/kills.log"

t_done=$(now_ms)
diag "" \
        "kills              $kills" \
        "  claim            ${phase_n[claim]}" \
        "  heartbeat        ${phase_n[heartbeat]}" \
        "  fence            ${phase_n[fence]} ($mid_fence mid-fence)" \
        "  resume           ${phase_n[resume]} ($mid_resume before the resume finished)" \
        "restarts           $restarts" \
        "worst gap (ms)     1: ${worst[1]}  2: ${worst[2]}  3: ${worst[3]}  4: ${worst[4]} (4 until its loss; limit $GAP_MAX)" \
        "campaign           $(( (t_campaign - t_w0) / 1000 )) s" \
        "time taken         $(( (t_done - t_begin) / 1000 )) s" \
        "seed               $SEED"
[ "$TAP_FAILED" = 0 ] || save_journal
done_testing
