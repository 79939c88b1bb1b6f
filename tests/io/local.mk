# tests/io: the device I/O engine (mmpd/io.c).  test-io runs as any user on
# regular files; test-io-loop needs root for the loop devices it makes (a TAP
# skip without root, a failure under CI=true).  bench-io is built, not run.
check_PROGRAMS += tests/io/test-io tests/io/test-io-loop tests/io/bench-io
TESTS += tests/io/test-io tests/io/test-io-loop
bench_programs += tests/io/bench-io

tests_io_fixture = tests/io/io-fixture.c tests/io/io-fixture.h

tests_io_test_io_SOURCES = tests/io/test-io.c $(tests_io_fixture)
tests_io_test_io_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_io_test_io_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_io_test_io_LDADD = mmpd/libmmpd-io.la $(CMOCKA_LIBS)

tests_io_test_io_loop_SOURCES = tests/io/test-io-loop.c $(tests_io_fixture)
tests_io_test_io_loop_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_io_test_io_loop_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_io_test_io_loop_LDADD = mmpd/libmmpd-io.la $(CMOCKA_LIBS)

tests_io_bench_io_SOURCES = tests/io/bench-io.c
tests_io_bench_io_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_io_bench_io_LDADD = mmpd/libmmpd-io.la
