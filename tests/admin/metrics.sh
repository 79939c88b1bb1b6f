#!/bin/bash
# mmpctl metrics against a real mmpd on loop devices: one volume held, one
# lost to a rogue write.  The text parses as OpenMetrics and as Prometheus
# text; the states, seq and check_interval agree with `mmpctl status
# --json`; heartbeats land and fill the lateness and I/O histograms
# (Volume.stats); the lost volume's fence outcome is fenced; the daemon's
# own metrics (Daemon()) count the control connections.
# Needs an mmpd that sends Volume.stats and answers io.mmpd.Daemon.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup mkfs.ext4 jq
PY=
for p in /usr/bin/python3 python3; do
        "$p" -c 'import prometheus_client' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { [ "${CI:-}" = true ] && { not_ok "python3-prometheus-client installed"; done_testing; }
                  skip "OpenMetrics parser" "python3-prometheus-client not installed"; done_testing; }
. "$top_srcdir/tests/lib/mmpd.sh"

img1=$(mkimg m1 1); d1=$(loop_attach "$img1")
img2=$(mkimg m2 1); d2=$(loop_attach "$img2"); peer2=$(loop_attach "$img2")
start_mmpd A node-a "good=$d1" "bad=$d2"
export MMPD_SOCKET=$(mmpd_sock A)
state() { "$MMPCTL" status --json 2>/dev/null | jq -r ".volumes[] | select(.name == \"$1\") | .state"; }
for i in $(seq 1 600); do [ "$(state good):$(state bad)" = held:held ] && break; sleep 0.1; done
is "$(state good):$(state bad)" held:held "both volumes held" || bail_out "no claims: $(tail -5 "$T/A.log")"
"$MMP_EDIT" "$peer2" seq=4242 node=intruder dev=sdz >/dev/null || bail_out "rogue write failed"
for i in $(seq 1 150); do [ "$(state bad)" = lost ] && break; sleep 0.1; done
is "$(state bad)" lost "the volume with a rogue write is lost"
sleep 3         # a few more heartbeats on the held one

"$MMPCTL" metrics >"$T/m.txt" 2>"$T/m.err"; is "$?" 0 "mmpctl metrics: exit 0"
is "$(tail -n 1 "$T/m.txt")" "# EOF" "ends with # EOF"
"$PY" "$top_srcdir/tests/admin/openmetrics.py" <"$T/m.txt" >"$T/samples" 2>"$T/err" &&
        ok "both parsers accept it" || not_ok "both parsers accept it" "$(cat "$T/err")"
json=$("$MMPCTL" status --json)
G="device=\"$d1\",volume=\"good\""
B="device=\"$d2\",volume=\"bad\""
val() { grep -F "$1 " "$T/samples" | awk '{ print $NF }'; }
has() { grep -qFx -- "$1" "$T/samples" && ok "${2:-$1}" || not_ok "${2:-$1}" "no line: $1"; }

has "mmpd_volume_state{$G,state=\"held\"} 1.0" "good: held"
has "mmpd_volume_state{$B,state=\"lost\"} 1.0" "bad: lost"
has "mmpd_volume_check_interval_seconds{$G} $(jq -r '.volumes[] | select(.name == "good") | .check_interval' <<<"$json").0" \
        "good: check_interval as in status --json"
has "mmpd_volume_seq{$B} $(jq -r '.volumes[] | select(.name == "bad") | .seq' <<<"$json").0" \
        "bad: seq as in status --json (mmpd writes it no more)"
has "mmpd_volume_fence_outcome{$B,outcome=\"fenced\"} 1.0" "bad: fence outcome fenced"
has 'mmpd_volumes{state="held"} 1.0'
has 'mmpd_volumes{state="lost"} 1.0'

beats=$(val "mmpd_volume_heartbeats_total{$G}")
[ "${beats%.*}" -ge 3 ] 2>/dev/null && ok "good: heartbeats counted ($beats)" || not_ok "good: heartbeats counted" "'$beats'"
n=$(val "mmpd_volume_heartbeat_landed_late_seconds_count{$G}")
inf=$(val "mmpd_volume_heartbeat_landed_late_seconds_bucket{$G,le=\"+Inf\"}")
[ -n "$n" ] && [ "$n" = "$inf" ] && [ "${n%.*}" -ge 3 ] && ok "good: landed_late histogram: count = +Inf bucket = $n" ||
        not_ok "good: landed_late histogram" "count '$n' +Inf '$inf'"
io=$(val "mmpd_volume_io_latency_seconds_count{$G}")
[ "${io%.*}" -ge "${beats%.*}" ] 2>/dev/null && ok "good: I/O histogram counts every I/O ($io)" ||
        not_ok "good: I/O histogram" "'$io' I/Os for '$beats' beats"
c=$(val "mmpd_control_connections{}")
[ "${c%.*}" -ge 1 ] 2>/dev/null && ok "daemon: control connections ($c)" || not_ok "daemon: control connections" "'$c'"
grep -q '^mmpd_info{node="node-a",' "$T/samples" && ok "daemon: mmpd_info names node-a" || not_ok "daemon: mmpd_info"
dbeats=$(val "mmpd_heartbeats_total{}")
[ "${dbeats%.*}" -ge "${beats%.*}" ] 2>/dev/null && ok "daemon: heartbeats of all volumes ($dbeats)" ||
        not_ok "daemon: heartbeats" "'$dbeats' < '$beats'"
done_testing
