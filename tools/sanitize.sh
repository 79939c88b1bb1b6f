#!/bin/bash
# Build mmpd with ASan + UBSan (--enable-sanitizers, gcc) in _san/ and run
# `make check` there: unit tests and integration suites.  Any sanitizer
# report aborts the process under test, so the test fails.  Ends with one
# summary line, counted as tools/test.sh does:
#   N passed, N failed[, N skipped]
# Needs root for the real-peer tests, as tools/test.sh.  Extra arguments go
# to make check (e.g. TESTS='tests/unit/test-sm').
#
# The valgrind checks (tests/lib/valgrind.sh) skip themselves on a sanitizer
# build: valgrind cannot run ASan binaries, and ASan does their job.
# SAN_SKIP_TESTS (space-separated test paths, replaces the default) leaves
# tests out; each is counted as skipped.  Default:
#   tests/integ/flood.sh  asserts mmpd's RSS stays <= 128 MiB and counts
#     connections under a load-dependent flood: ASan's shadow memory and
#     quarantine alone exceed the bound, and its slowdown changes the counts.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
skip=${SAN_SKIP_TESTS-"tests/integ/flood.sh"}

"$top/tools/install-deps.sh" || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p _san
cd _san
if [ ! -f Makefile ]; then
        ../configure -q --enable-sanitizers CFLAGS="-g -O1" >configure.out 2>&1 ||
                { cat configure.out; echo "configure failed"; echo "0 passed, 1 failed"; exit 1; }
fi
make -j"$(nproc)" >build.out 2>&1 || { tail -40 build.out; echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

# halt/abort on the first report (abort: the test sees a crash, not an exit
# code it might ignore); leaks are reported at exit.  UBSan aborts too.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# Inherited by every test and the programs it starts.
export LSAN_OPTIONS="print_suppressions=0"

# Every test make check knows, minus the skipped ones.
all=$(printf 'print-tests:\n\t@echo $(TESTS)\n' | make -s -f Makefile -f - print-tests)
tests=""
for t in $all; do
        case " $skip " in *" $t "*) continue ;; esac
        tests="$tests $t"
done
for t in $skip; do echo "SKIP: $t (under ASan: see tools/sanitize.sh)"; done

find . -name '*.trs' -delete
make -j2 check TESTS="$tests" "$@" >check.out 2>&1
status=$?
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' check.out | grep -v '^PASS:' || true

count() { grep -h "^:test-result: $1" $(find . -name '*.trs') 2>/dev/null | wc -l; }
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
skipped=$(( $(count SKIP) + $(echo $skip | wc -w) ))
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
        tail -20 check.out
        fail=1          # the harness itself failed
fi
if [ "$fail" -gt 0 ]; then
        echo "--- logs of failing tests ---"
        for trs in $(grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' $(find . -name '*.trs')); do
                echo "=== ${trs%.trs}.log"; grep -m3 -E 'AddressSanitizer|LeakSanitizer|runtime error' "${trs%.trs}.log"
                tail -40 "${trs%.trs}.log"
        done
fi
line="$pass passed, $fail failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
