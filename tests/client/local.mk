# tests/client: libmmp and mmpctl's mmpd commands against a fake mmpd.
# test-libmmp sees only the public header and links only libmmp (the shared
# library: -no-install makes a real binary, not a libtool wrapper, so it
# can run under valgrind directly).
check_PROGRAMS += tests/client/test-libmmp tests/client/fake-mmpd
tests_client_test_libmmp_SOURCES = tests/client/test-libmmp.c \
	tests/client/fake-server.c tests/client/fake-server.h
tests_client_test_libmmp_CPPFLAGS = -I$(top_srcdir)/lib -D_GNU_SOURCE
tests_client_test_libmmp_LDADD = lib/libmmp.la
tests_client_test_libmmp_LDFLAGS = -no-install

tests_client_fake_mmpd_SOURCES = tests/client/fake-mmpd.c \
	tests/client/fake-server.c tests/client/fake-server.h
tests_client_fake_mmpd_CPPFLAGS = -D_GNU_SOURCE

client_scripts = \
	tests/client/test-symbols.sh \
	tests/client/mmpctl.sh \
	tests/client/valgrind.sh
dist_check_SCRIPTS += $(client_scripts)
TESTS += tests/client/test-libmmp $(client_scripts)
EXTRA_DIST += tests/client/fake.sh
