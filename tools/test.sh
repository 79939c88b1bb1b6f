#!/bin/bash
# Build mmpd and run the whole test suite (unit tests, real peers on loop
# devices, the daemon, the fault device).  Needs root for the real-peer tests;
# under CI=true they fail rather than skip.  Ends with one summary line:
#   N passed, N failed[, N skipped]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/tools/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
cd "$top/_build"
make -j2 check "$@" >check.out 2>&1
status=$?
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' check.out | grep -v '^PASS:' || true

count() { grep -h "^:test-result: $1" $(find . -name '*.trs') 2>/dev/null | wc -l; }
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
skip=$(count SKIP)
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
        tail -20 check.out
        fail=1          # the harness itself failed
fi
if [ "$fail" -gt 0 ]; then
        echo "--- logs of failing tests ---"
        for trs in $(grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' $(find . -name '*.trs')); do
                echo "=== ${trs%.trs}.log"; tail -40 "${trs%.trs}.log"
        done
fi
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
