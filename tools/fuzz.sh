#!/bin/bash
# Build the libFuzzer harnesses (tests/fuzz/) with clang in _fuzz/ and run
# each for FUZZ_SECONDS (default 60) on a working copy of its seed corpus
# (_fuzz/corpus/<name>/; tests/fuzz/corpus/<name>/ is only read).
#   FUZZ_SECONDS=N      seconds per harness
#   FUZZ_TARGETS="a b"  only these (names as in tests/fuzz/corpus/)
#   FUZZ_ARGS="..."     more libFuzzer options
# Prints one line per harness (executions, exec/s, coverage, crashes) and
# exits non-zero when any harness found a crash, a leak or UB; the input
# that caused it is saved under _fuzz/crashes/<name>/ and its path printed.
# Reproduce with: _fuzz/tests/fuzz/fuzz-<name> <path>
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"varlink-root varlink-unpriv methods conf ondisk fdstore libmmp"}

"$top/tools/install-fuzz-deps.sh" || { echo "fuzz: cannot install clang"; exit 1; }
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p _fuzz
cd _fuzz
# -Wno-error: clang warns where gcc does not (-Wformat-nonliteral on vprintf
# helpers, -Wmissing-field-initializers on { NULL }); the gcc build is the lint.
if [ ! -f Makefile ]; then
        ../configure -q CC=clang \
                CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -Wno-error" \
                LDFLAGS="-fsanitize=address,undefined" >configure.out 2>&1 ||
                { cat configure.out; echo "fuzz: configure failed"; exit 1; }
fi
progs=""
for t in $targets; do progs="$progs tests/fuzz/fuzz-$t"; done
# shellcheck disable=SC2086
make -j"$(nproc)" $progs >build.out 2>&1 || { tail -40 build.out; echo "fuzz: build failed"; exit 1; }

# Any report ends the run with an error; leaks are checked after each input.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:print_stacktrace=1:detect_stack_use_after_return=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
failed=0
for t in $targets; do
        work=corpus/$t crashes=crashes/$t log=fuzz-$t.log
        mkdir -p "$work" "$crashes"
        # shellcheck disable=SC2086
        tests/fuzz/fuzz-"$t" -max_total_time="$secs" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
                -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} "$work" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        crash=0
        if [ "$rc" -ne 0 ] || [ -n "$artifact" ]; then
                crash=1 failed=1
        fi
        printf 'fuzz-%-15s %10s execs %7s exec/s  %-20s crashes: %d\n' "$t" "${execs:-?}" "${rate:-?}" \
                "${cov:-cov: ?}" "$crash"
        if [ "$crash" -ne 0 ]; then
                grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^==[0-9]+==' "$log" | sed 's/^/    /'
                echo "    input: ${artifact:+$PWD/}${artifact:-none saved (exit $rc)}; log: $PWD/$log"
        fi
done
exit "$failed"
