# tests/unit: lib/ under cmocka, with fake clocks and fake disks.
unit_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(EXT2FS_CFLAGS)
unit_ldadd = lib/libmmp-core.la $(CMOCKA_LIBS) $(EXT2FS_LIBS)

check_PROGRAMS += tests/unit/test-timing tests/unit/test-sm tests/unit/test-sm-use
TESTS += tests/unit/test-timing tests/unit/test-sm tests/unit/test-sm-use

tests_unit_test_timing_SOURCES = tests/unit/test-timing.c
tests_unit_test_timing_CFLAGS = $(unit_cflags)
tests_unit_test_timing_LDADD = $(unit_ldadd)

tests_unit_test_sm_SOURCES = tests/unit/test-sm.c
tests_unit_test_sm_CFLAGS = $(unit_cflags)
tests_unit_test_sm_LDADD = $(unit_ldadd)

tests_unit_test_sm_use_SOURCES = tests/unit/test-sm-use.c
tests_unit_test_sm_use_CFLAGS = $(unit_cflags)
tests_unit_test_sm_use_LDADD = $(unit_ldadd)

# The varlink codec shared by mmpd's server and libmmp.
check_PROGRAMS += tests/unit/test-varlink-codec
TESTS += tests/unit/test-varlink-codec
tests_unit_test_varlink_codec_SOURCES = tests/unit/test-varlink-codec.c
tests_unit_test_varlink_codec_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_varlink_codec_LDADD = lib/libmmp-varlink.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

# libmmp's wire and reply reading, with its internals (libmmp-static).
check_PROGRAMS += tests/unit/test-libmmp-wire
TESTS += tests/unit/test-libmmp-wire
tests_unit_test_libmmp_wire_SOURCES = tests/unit/test-libmmp-wire.c
tests_unit_test_libmmp_wire_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_libmmp_wire_LDADD = lib/libmmp-static.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
