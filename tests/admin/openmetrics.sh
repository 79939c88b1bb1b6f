#!/bin/bash
# mmpctl metrics' OpenMetrics text (mmpctl/openmetrics.c), made from JSON
# shaped as io.mmpd's Volume and Daemon replies (the Stats contract), parsed
# by prometheus_client's OpenMetrics parser and its Prometheus text parser:
# every state as a 0/1 gauge, cumulative histogram buckets in seconds with
# +Inf = _count = the sum of the counts, _sum in seconds, the fence outcome,
# volumes by state, the daemon's connections, label escaping, "# EOF"; a
# Volume without seq or stats has no such samples; malformed stats are left
# out; without Daemon (an older mmpd) the volumes' metrics remain.
. "$top_srcdir/tests/lib/tap.sh"
require_cmd jq
PY=
for p in /usr/bin/python3 python3; do
        "$p" -c 'import prometheus_client' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { [ "${CI:-}" = true ] && { not_ok "python3-prometheus-client installed"; done_testing; }
                  skip "OpenMetrics parser" "python3-prometheus-client not installed"; done_testing; }
RENDER="$top_builddir/tests/admin/openmetrics-render"
T=$(mktemp -d /tmp/mmpd-metrics.XXXXXX)
trap 'rm -rf "$T"' EXIT

bounds='[50,100,250,500,1000,2500,5000,10000,20000,50000,100000,250000,500000,1000000,2500000,5000000]'
cat >"$T/in.json" <<JSON
{ "volumes": [
    { "name": "a", "device": "/dev/disk/by-id/x\"y\\\\z", "state": "held", "phase": "idle",
      "static": true, "seq": 1234, "update_interval": 1, "check_interval": 5, "wait_seconds": 11,
      "last_heartbeat_age_usec": 250000, "failures": 0,
      "stats": { "bounds_usec": $bounds, "beats": 7,
                 "submit_late": [3,2,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1],
                 "landed_late": [0,0,0,4,2,0,0,0,0,0,0,0,0,0,0,1,0],
                 "submit_late_max_usec": 6000000, "landed_late_max_usec": 3000000,
                 "submit_late_sum_usec": 6000330, "landed_late_sum_usec": 3004100,
                 "io": [0,0,10,5,0,0,0,0,0,0,0,0,0,0,0,0,0], "io_count": 15,
                 "io_max_usec": 480, "io_sum_usec": 4200 } },
    { "name": "b", "device": "/dev/loop1", "state": "lost", "phase": "none", "static": true,
      "seq": 4242, "check_interval": 5, "failures": 0,
      "fence": { "stage": "done", "outcome": "fenced", "started_usec": 1, "deadline_usec": 2 },
      "stats": { "bounds_usec": $bounds, "beats": 1, "submit_late": [1], "landed_late": [1],
                 "io": [1,2,3] } },
    { "name": "c", "device": "/dev/loop2", "state": "claiming", "phase": "waiting-active",
      "static": false, "failures": 0 } ],
  "daemon": { "node": "node-a", "version": "0.1.0", "pid": 42, "uptime_usec": 90500000,
              "connections": 2, "volumes": 3,
              "stats": { "bounds_usec": $bounds, "beats": 8,
                         "submit_late": [4,2,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1],
                         "landed_late": [1,0,0,4,2,0,0,0,0,0,0,0,0,0,0,1,0],
                         "submit_late_max_usec": 6000000, "landed_late_max_usec": 3000000,
                         "submit_late_sum_usec": 6000400, "landed_late_sum_usec": 3004200,
                         "io": [1,2,13,5,0,0,0,0,0,0,0,0,0,0,0,0,0], "io_count": 21,
                         "io_max_usec": 480, "io_sum_usec": 4500 } } }
JSON
jq -e . "$T/in.json" >/dev/null || bail_out "test input is not JSON"

"$RENDER" <"$T/in.json" >"$T/out.txt"; is "$?" 0 "rendered"
is "$(tail -n 1 "$T/out.txt")" "# EOF" "ends with # EOF"
if "$PY" "$top_srcdir/tests/admin/openmetrics.py" <"$T/out.txt" >"$T/samples" 2>"$T/err"; then
        ok "both parsers accept it"
else
        not_ok "both parsers accept it" "$(cat "$T/err")"
fi
has() { grep -qFx -- "$1" "$T/samples" && ok "${2:-$1}" || not_ok "${2:-$1}" "no line: $1"; }
hasnt() { grep -q -- "$1" "$T/samples" && not_ok "$2" "$(grep -- "$1" "$T/samples")" || ok "$2"; }
A='device="/dev/disk/by-id/x\"y\\z",volume="a"'
B='device="/dev/loop1",volume="b"'
C='device="/dev/loop2",volume="c"'

has "mmpd_volume_state{$A,state=\"held\"} 1.0" "a: state held = 1 (device label escaped)"
has "mmpd_volume_state{$A,state=\"lost\"} 0.0" "a: state lost = 0"
has "mmpd_volume_state{$B,state=\"lost\"} 1.0" "b: state lost = 1"
has "mmpd_volume_state{$C,state=\"claiming\"} 1.0" "c: state claiming = 1"
for v in a b c; do
        is "$(grep "^mmpd_volume_state{.*volume=\"$v\"" "$T/samples" | awk '{ s += $2 } END { print s }')" 1 \
                "$v: exactly one state is 1"
done
has "mmpd_volume_seq{$A} 1234.0"
has "mmpd_volume_check_interval_seconds{$A} 5.0"
has "mmpd_volume_wait_seconds{$A} 11.0"
has "mmpd_volume_heartbeat_age_seconds{$A} 0.25"
hasnt "^mmpd_volume_seq{$C}" "c: no seq yet, no seq sample"
has "# TYPE mmpd_volume_heartbeats counter"
has "mmpd_volume_heartbeats_total{$A} 7.0" "a: heartbeats counter"

# histograms: cumulative buckets, le in seconds
has "# TYPE mmpd_volume_heartbeat_submit_late_seconds histogram"
has "mmpd_volume_heartbeat_submit_late_seconds_bucket{$A,le=\"0.00005\"} 3.0" "submit_late: le 50 us holds 3"
has "mmpd_volume_heartbeat_submit_late_seconds_bucket{$A,le=\"0.0001\"} 5.0" "submit_late: le 100 us is cumulative (3+2)"
has "mmpd_volume_heartbeat_submit_late_seconds_bucket{$A,le=\"0.00025\"} 6.0" "submit_late: le 250 us (3+2+1)"
has "mmpd_volume_heartbeat_submit_late_seconds_bucket{$A,le=\"5.0\"} 6.0" "submit_late: le 5 s: the 6 s sample is above"
has "mmpd_volume_heartbeat_submit_late_seconds_bucket{$A,le=\"+Inf\"} 7.0" "submit_late: +Inf holds all 7"
has "mmpd_volume_heartbeat_submit_late_seconds_count{$A} 7.0"
has "mmpd_volume_heartbeat_submit_late_seconds_sum{$A} 6.00033" "submit_late: sum in seconds"
is "$(grep -cF "mmpd_volume_heartbeat_submit_late_seconds_bucket{$A," "$T/samples")" 17 "submit_late: 16 bounds + Inf"
has "mmpd_volume_heartbeat_landed_late_seconds_bucket{$A,le=\"0.0005\"} 4.0" "landed_late: le 500 us"
has "mmpd_volume_heartbeat_landed_late_seconds_bucket{$A,le=\"2.5\"} 6.0" "landed_late: le 2.5 s"
has "mmpd_volume_heartbeat_landed_late_seconds_bucket{$A,le=\"5.0\"} 7.0" "landed_late: le 5 s takes the 5 s sample (bounds are inclusive)"
has "mmpd_volume_heartbeat_landed_late_seconds_bucket{$A,le=\"1.0\"} 6.0" "landed_late: le 1 s"
has "mmpd_volume_heartbeat_landed_late_max_seconds{$A} 3.0"
has "mmpd_volume_io_latency_seconds_bucket{$A,le=\"0.00025\"} 10.0" "io: le 250 us"
has "mmpd_volume_io_latency_seconds_count{$A} 15.0" "io: count"
has "mmpd_volume_io_latency_seconds_sum{$A} 0.0042" "io: sum in seconds"
hasnt "^mmpd_volume_heartbeat_submit_late_seconds_bucket{$B" "b: malformed stats (counts of the wrong length) left out"
has "mmpd_volume_heartbeats_total{$B} 1.0" "b: its well-formed fields remain"

has "mmpd_volume_fence_outcome{$B,outcome=\"fenced\"} 1.0" "b: fence outcome fenced"
has "mmpd_volume_fence_outcome{$B,outcome=\"late\"} 0.0"
hasnt "^mmpd_volume_fence_outcome{$A" "a: no fence, no fence sample"
has 'mmpd_volumes{state="held"} 1.0' "volumes by state: held"
has 'mmpd_volumes{state="lost"} 1.0' "volumes by state: lost"
has 'mmpd_volumes{state="refused"} 0.0' "volumes by state: refused (0)"
has 'mmpd_control_connections{} 2.0' "daemon: control connections"
has 'mmpd_info{node="node-a",version="0.1.0"} 1.0' "daemon: node and version"
has 'mmpd_uptime_seconds{} 90.5'
has 'mmpd_heartbeats_total{} 8.0' "daemon: heartbeats of all volumes"
has 'mmpd_io_latency_seconds_bucket{le="0.0005"} 21.0' "daemon: io histogram"
has 'mmpd_heartbeat_landed_late_seconds_count{} 8.0' "daemon: landed_late count"

# an mmpd without Daemon(): the volumes' metrics, no daemon ones
jq 'del(.daemon)' "$T/in.json" | "$RENDER" >"$T/out2.txt"
"$PY" "$top_srcdir/tests/admin/openmetrics.py" <"$T/out2.txt" >"$T/samples" 2>"$T/err" &&
        ok "without Daemon: both parsers accept it" || not_ok "without Daemon: parsers" "$(cat "$T/err")"
has "mmpd_volume_state{$B,state=\"lost\"} 1.0" "without Daemon: volume metrics remain"
hasnt "^mmpd_info" "without Daemon: no mmpd_info"
is "$(tail -n 1 "$T/out2.txt")" "# EOF" "without Daemon: ends with # EOF"

# the parser is strict: the same text without "# EOF" is refused
head -n -1 "$T/out.txt" | "$PY" "$top_srcdir/tests/admin/openmetrics.py" >/dev/null 2>&1 &&
        not_ok "control: text without # EOF is refused" || ok "control: text without # EOF is refused"
done_testing
