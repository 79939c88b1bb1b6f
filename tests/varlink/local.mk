# tests/varlink: the varlink framing (lib/mmp-varlink.c) and the control server.
check_PROGRAMS += tests/varlink/test-framing
TESTS += tests/varlink/test-framing

tests_varlink_test_framing_SOURCES = tests/varlink/test-framing.c
tests_varlink_test_framing_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_varlink_test_framing_LDADD = lib/libmmp-core.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
