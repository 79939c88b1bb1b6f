# tests/conf: the config loader (mmpd/conf.c), including the shipped example
# conf/mmpd.conf (found through $top_srcdir, set by AM_TESTS_ENVIRONMENT).
check_PROGRAMS += tests/conf/test-conf
TESTS += tests/conf/test-conf
tests_conf_test_conf_SOURCES = tests/conf/test-conf.c
tests_conf_test_conf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_conf_test_conf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_conf_test_conf_LDADD = mmpd/libmmpd-conf.la $(CMOCKA_LIBS)
