# tests/varlink: the varlink framing (lib/mmp-varlink.c) and the control
# server (mmpd/varlink*.c), the latter against a fake registry until it runs
# inside the real daemon.
varlink_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(EXT2FS_CFLAGS)
varlink_test_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpd

check_PROGRAMS += tests/varlink/test-framing
TESTS += tests/varlink/test-framing
tests_varlink_test_framing_SOURCES = tests/varlink/test-framing.c
tests_varlink_test_framing_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_framing_LDADD = lib/libmmp-core.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/varlink/test-offload
TESTS += tests/varlink/test-offload
tests_varlink_test_offload_SOURCES = tests/varlink/test-offload.c
tests_varlink_test_offload_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_offload_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_offload_LDADD = mmpd/libmmpd-varlink.la $(CMOCKA_LIBS) $(EV_LIBS)

check_PROGRAMS += tests/varlink/test-errors
TESTS += tests/varlink/test-errors
tests_varlink_test_errors_SOURCES = tests/varlink/test-errors.c
tests_varlink_test_errors_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_errors_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_errors_LDADD = mmpd/libmmpd-varlink.la lib/libmmp-core.la \
	$(CMOCKA_LIBS) $(JANSSON_LIBS) $(EXT2FS_LIBS)
