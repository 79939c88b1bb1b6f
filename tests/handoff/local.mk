# tests/handoff: handing held volumes to the real kernel and e2fsprogs.
check_PROGRAMS += tests/handoff/clean-window
tests_handoff_clean_window_SOURCES = tests/handoff/clean-window.c
tests_handoff_clean_window_CFLAGS = $(AM_CFLAGS) $(EXT2FS_CFLAGS)
tests_handoff_clean_window_LDADD = lib/libmmp-core.la $(EXT2FS_LIBS)

handoff_scripts = \
	tests/handoff/kernel.sh \
	tests/handoff/remount.sh \
	tests/handoff/tools.sh \
	tests/handoff/fuse2fs.sh \
	tests/handoff/badinput.sh \
	tests/handoff/fence.sh \
	tests/handoff/claim-race.sh \
	tests/handoff/cycles.sh
dist_check_SCRIPTS += $(handoff_scripts)
TESTS += $(handoff_scripts)
EXTRA_DIST += tests/handoff/race-start.py tests/handoff/cycles-lib.sh tests/handoff/private-ns.sh
