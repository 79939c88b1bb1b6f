# tests/integ: mmpd against real peers (kernel, e2fsprogs) on loop devices.
check_PROGRAMS += tests/integ/mmp-watch
tests_integ_mmp_watch_SOURCES = tests/integ/mmp-watch.c
tests_integ_mmp_watch_CFLAGS = $(AM_CFLAGS) $(EXT2FS_CFLAGS)
tests_integ_mmp_watch_LDADD = lib/libmmp-core.la $(EXT2FS_LIBS)

integ_scripts = \
	tests/integ/held.sh \
	tests/integ/refuse.sh \
	tests/integ/race.sh \
	tests/integ/takeover.sh \
	tests/integ/lifecycle.sh \
	tests/integ/config.sh \
	tests/integ/control.sh \
	tests/integ/mmpctl.sh \
	tests/integ/faults.sh \
	tests/integ/claim-fd.sh \
	tests/integ/flood.sh \
	tests/integ/identity.sh \
	tests/integ/aio.sh
dist_check_SCRIPTS += $(integ_scripts)
TESTS += $(integ_scripts)
EXTRA_DIST += tests/lib/mmpd.sh tests/integ/flood.py

# make bench: tests/bench/local.mk.
