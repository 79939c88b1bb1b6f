# tests/fuzz: libFuzzer harnesses.  Built only in a clang build configured
# by tools/fuzz.sh (_fuzz/, CFLAGS with -fsanitize=fuzzer-no-link,address,
# undefined); EXTRA_PROGRAMS, so `make` and `make check` never build them.
# `make fuzz` (any build dir) runs tools/fuzz.sh: each harness for
# FUZZ_SECONDS (default 60) on a copy of tests/fuzz/corpus/<name>/.
fuzz_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpd -I$(top_srcdir)/tests/varlink
fuzz_cflags = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(EXT2FS_CFLAGS)
fuzz_ldflags = $(AM_LDFLAGS) -fsanitize=fuzzer

fuzz_programs = tests/fuzz/fuzz-varlink-root tests/fuzz/fuzz-varlink-unpriv \
	tests/fuzz/fuzz-methods tests/fuzz/fuzz-conf tests/fuzz/fuzz-ondisk \
	tests/fuzz/fuzz-fdstore tests/fuzz/fuzz-libmmp
EXTRA_PROGRAMS = $(fuzz_programs)
CLEANFILES += $(fuzz_programs)

fuzz_varlink_sources = tests/fuzz/fuzz-varlink.c tests/fuzz/fuzz-server.c tests/fuzz/fuzz-server.h \
	tests/varlink/fake-manager.c tests/varlink/fake-manager.h
fuzz_varlink_ldadd = mmpd/libmmpd-varlink.la lib/libmmp-core.la $(JANSSON_LIBS) $(EV_LIBS) $(EXT2FS_LIBS)

tests_fuzz_fuzz_varlink_root_SOURCES = $(fuzz_varlink_sources)
tests_fuzz_fuzz_varlink_root_CPPFLAGS = $(fuzz_cppflags) -DFUZZ_PEER_UID=0
tests_fuzz_fuzz_varlink_root_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_varlink_root_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_varlink_root_LDADD = $(fuzz_varlink_ldadd)

tests_fuzz_fuzz_varlink_unpriv_SOURCES = $(fuzz_varlink_sources)
tests_fuzz_fuzz_varlink_unpriv_CPPFLAGS = $(fuzz_cppflags) -DFUZZ_PEER_UID=65534
tests_fuzz_fuzz_varlink_unpriv_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_varlink_unpriv_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_varlink_unpriv_LDADD = $(fuzz_varlink_ldadd)

tests_fuzz_fuzz_methods_SOURCES = tests/fuzz/fuzz-methods.c tests/fuzz/fuzz-server.c tests/fuzz/fuzz-server.h \
	tests/varlink/fake-manager.c tests/varlink/fake-manager.h
tests_fuzz_fuzz_methods_CPPFLAGS = $(fuzz_cppflags)
tests_fuzz_fuzz_methods_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_methods_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_methods_LDADD = $(fuzz_varlink_ldadd)

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz-conf.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(fuzz_cppflags)
tests_fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_conf_LDADD = mmpd/libmmpd-conf.la

tests_fuzz_fuzz_ondisk_SOURCES = tests/fuzz/fuzz-ondisk.c
tests_fuzz_fuzz_ondisk_CFLAGS = $(AM_CFLAGS) $(EXT2FS_CFLAGS)
tests_fuzz_fuzz_ondisk_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_ondisk_LDADD = lib/libmmp-core.la $(EXT2FS_LIBS)

# systemd.c is compiled into the harness (like tests/systemd/test-fdstore),
# with the fd-passing calls redirected to the harness.
tests_fuzz_fuzz_fdstore_SOURCES = tests/fuzz/fuzz-fdstore.c mmpd/log.c
tests_fuzz_fuzz_fdstore_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/mmpd
tests_fuzz_fuzz_fdstore_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
tests_fuzz_fuzz_fdstore_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_fdstore_LDADD = $(SYSTEMD_LIBS)
EXTRA_tests_fuzz_fuzz_fdstore_DEPENDENCIES = mmpd/systemd.c

tests_fuzz_fuzz_libmmp_SOURCES = tests/fuzz/fuzz-libmmp.c
tests_fuzz_fuzz_libmmp_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_libmmp_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_libmmp_LDADD = lib/libmmp-static.la

fuzz-build: $(fuzz_programs)
fuzz:
	FUZZ_SECONDS='$(FUZZ_SECONDS)' $(top_srcdir)/tools/fuzz.sh
.PHONY: fuzz fuzz-build

EXTRA_DIST += tests/fuzz/corpus tests/fuzz/README
