# tests/bench: make bench prints numbers beside their targets (docs/benchmarks.md);
# make check runs a small smoke version that checks only that the output is
# complete and that nothing was lost (smoke.sh), never timing thresholds.
bench_programs += tests/bench/bench-client
check_PROGRAMS += tests/bench/bench-client
tests_bench_bench_client_SOURCES = tests/bench/bench-client.c
tests_bench_bench_client_CPPFLAGS = -I$(top_srcdir)/lib -D_GNU_SOURCE
tests_bench_bench_client_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -pthread
tests_bench_bench_client_LDADD = lib/libmmp.la $(JANSSON_LIBS)
tests_bench_bench_client_LDFLAGS = -pthread -no-install

# The floor under mmpd's CPU per heartbeat: the same I/O, bare (hold.sh).
bench_programs += tests/bench/io-floor
check_PROGRAMS += tests/bench/io-floor
tests_bench_io_floor_SOURCES = tests/bench/io-floor.c
tests_bench_io_floor_CPPFLAGS = -D_GNU_SOURCE
tests_bench_io_floor_LDADD = $(AIO_LIBS)

# The state machine's share of a heartbeat, alone (fake clock and disk).
bench_programs += tests/bench/sm-beat
check_PROGRAMS += tests/bench/sm-beat
tests_bench_sm_beat_SOURCES = tests/bench/sm-beat.c
tests_bench_sm_beat_LDADD = lib/libmmp-core.la

# mmpd's timer heap under the heartbeat grid, alone.
bench_programs += tests/bench/timer-beat
check_PROGRAMS += tests/bench/timer-beat
tests_bench_timer_beat_SOURCES = tests/bench/timer-beat.c mmpd/timer.c
tests_bench_timer_beat_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mmpd
tests_bench_timer_beat_LDADD = $(EV_LIBS)

# LD_PRELOAD for the sanlock daemon in a container (see rlimit-shim.c).
check_LTLIBRARIES += tests/bench/librlimit-shim.la
tests_bench_librlimit_shim_la_SOURCES = tests/bench/rlimit-shim.c
tests_bench_librlimit_shim_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

bench_scripts = tests/bench/stats.sh tests/bench/smoke.sh
dist_check_SCRIPTS += $(bench_scripts)
TESTS += $(bench_scripts)
EXTRA_DIST += tests/bench/hold.sh tests/bench/handoff.sh tests/bench/peers.sh tests/bench/lib.sh

# make bench: numbers, not pass/fail timing tests; all three scripts run,
# and the exit status is 1 when one failed (mmpd lost or refused a volume,
# or a peer could not be run).  BENCH_VOLUMES, BENCH_SECONDS, BENCH_PEERS=0...
# (see each script's head).
bench_run = top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' bash
bench: all $(check_PROGRAMS) $(check_LTLIBRARIES) $(bench_programs)
	@rc=0; \
	$(bench_run) $(top_srcdir)/tests/bench/hold.sh || rc=1; \
	$(bench_run) $(top_srcdir)/tests/bench/peers.sh || rc=1; \
	$(bench_run) $(top_srcdir)/tests/bench/handoff.sh || rc=1; \
	exit $$rc
.PHONY: bench
