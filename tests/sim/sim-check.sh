#!/bin/sh
# 10,000 randomized trials of mmp-sim (TAP).  A violation prints its trial
# seed (replay with: tests/sim/mmp-sim --replay SEED) and the first
# timeline, and fails.  Double uses that are not mmpd's decisions (the
# kernel's CLEAN hole, a hung write landing late: docs/simulator.md) are
# counted apart; SIM_STRICT=1 makes those fail too.  SIM_CHECK_TRIALS /
# SIM_CHECK_SEED change the run.
sim="${top_builddir:-.}/tests/sim/mmp-sim"
set -- --tap --trials "${SIM_CHECK_TRIALS:-10000}" --seed "${SIM_CHECK_SEED:-1}"
if [ "${SIM_STRICT:-0}" = 1 ]; then
        set -- "$@" --strict
fi
exec "$sim" "$@"
