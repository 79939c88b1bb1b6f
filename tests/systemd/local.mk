# tests/systemd: the units under real systemd as PID 1 in systemd-nspawn.
systemd_scripts = \
	tests/systemd/hold.sh \
	tests/systemd/kills.sh \
	tests/systemd/mount.sh \
	tests/systemd/restart.sh \
	tests/systemd/two-nodes.sh
dist_check_SCRIPTS += $(systemd_scripts)
TESTS += $(systemd_scripts)
EXTRA_DIST += tests/systemd/nspawn.sh

# make soak: kills.sh's kill campaign with 1000 kills instead of 50 (about
# 25 minutes); like `make bench`, not part of check.
soak: all $(check_PROGRAMS)
	KILLS=1000 top_builddir='$(abs_top_builddir)' top_srcdir='$(abs_top_srcdir)' $(SHELL) $(top_srcdir)/tests/systemd/kills.sh
.PHONY: soak

# The fd store protocol of mmpd/systemd.c against a fake service manager.
check_PROGRAMS += tests/systemd/test-fdstore
TESTS += tests/systemd/test-fdstore
tests_systemd_test_fdstore_SOURCES = tests/systemd/test-fdstore.c mmpd/systemd.c mmpd/log.c
tests_systemd_test_fdstore_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/mmpd
tests_systemd_test_fdstore_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SYSTEMD_CFLAGS)
tests_systemd_test_fdstore_LDADD = $(CMOCKA_LIBS) $(SYSTEMD_LIBS)
