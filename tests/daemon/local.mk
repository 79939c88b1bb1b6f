# tests/daemon: mmpd's middle under cmocka (volume, manager, the BOOTTIME
# timers, the fence budget) with a fake I/O engine and a fake clock.
daemon_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(EXT2FS_CFLAGS) $(SYSTEMD_CFLAGS) \
	-I$(top_srcdir)/mmpd -I$(top_srcdir)/tests/ondisk
daemon_test_ldadd = mmpd/libmmpd-conf.la lib/libmmp-core.la $(CMOCKA_LIBS) $(EXT2FS_LIBS) \
	$(SYSTEMD_LIBS) $(EV_LIBS)

check_PROGRAMS += tests/daemon/test-volume tests/daemon/test-timer tests/daemon/test-fence-plan tests/daemon/test-hist
TESTS += tests/daemon/test-volume tests/daemon/test-timer tests/daemon/test-fence-plan tests/daemon/test-hist

tests_daemon_test_volume_SOURCES = tests/daemon/test-volume.c \
	tests/daemon/fake-io.c tests/daemon/fake-io.h \
	tests/ondisk/fixture.c tests/ondisk/fixture.h \
	mmpd/volume.c mmpd/manager.c mmpd/timer.c mmpd/log.c
tests_daemon_test_volume_CFLAGS = $(daemon_test_cflags)
tests_daemon_test_volume_LDADD = $(daemon_test_ldadd)

tests_daemon_test_timer_SOURCES = tests/daemon/test-timer.c mmpd/timer.c
tests_daemon_test_timer_CFLAGS = $(daemon_test_cflags)
tests_daemon_test_timer_LDADD = $(CMOCKA_LIBS) $(EV_LIBS)

tests_daemon_test_fence_plan_SOURCES = tests/daemon/test-fence-plan.c mmpd/fence-plan.c
tests_daemon_test_fence_plan_CFLAGS = $(daemon_test_cflags)
tests_daemon_test_fence_plan_LDADD = $(CMOCKA_LIBS)

tests_daemon_test_hist_SOURCES = tests/daemon/test-hist.c
tests_daemon_test_hist_CFLAGS = $(daemon_test_cflags)
tests_daemon_test_hist_LDADD = lib/libmmp-core.la $(CMOCKA_LIBS)
