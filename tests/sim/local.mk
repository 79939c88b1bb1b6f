# tests/sim: mmp-sim, a deterministic discrete-event simulator running the
# real lib/ state machine for several mmpd nodes, kernel mounts and
# e2fsprogs tools on one simulated MMP block (docs/simulator.md).
#   make check      runs tests/sim/sim-check.sh: 10,000 trials (TAP)
#   make sim        1,000,000 trials, ~90 s (SIM_TRIALS=N, SIM_SEED=S); exits 1 on a violation
check_PROGRAMS += tests/sim/mmp-sim
dist_check_SCRIPTS += tests/sim/sim-check.sh
TESTS += tests/sim/sim-check.sh
EXTRA_DIST += tests/sim/sim.h
# Timelines of the findings docs/simulator.md describes.
EXTRA_DIST += tests/sim/findings/late-landing-0xd6b3b03f2189e7e3.txt \
	tests/sim/findings/may-use-after-user-clean-0x1cf704f115880d08.txt \
	tests/sim/findings/stale-read-after-stop-0xa22dada9cd4c9fb8.txt \
	tests/sim/findings/stale-verify-two-mmpd-0x3e066f0114fa68e0.txt

tests_sim_mmp_sim_SOURCES = tests/sim/sim.c tests/sim/sim-party.c tests/sim/sim-setup.c tests/sim/sim.h
tests_sim_mmp_sim_CFLAGS = $(AM_CFLAGS) -O2
tests_sim_mmp_sim_LDADD = lib/libmmp-core.la

SIM_TRIALS = 1000000
SIM_SEED = 1
sim: tests/sim/mmp-sim
	$(top_builddir)/tests/sim/mmp-sim --keep-going --trials $(SIM_TRIALS) --seed $(SIM_SEED)
.PHONY: sim
