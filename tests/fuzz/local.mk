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

# The seed corpus, file by file (git ls-files tests/fuzz/corpus).
EXTRA_DIST += tests/fuzz/README \
	tests/fuzz/corpus/conf/bad-section \
	tests/fuzz/corpus/conf/bad-value \
	tests/fuzz/corpus/conf/dup-key \
	tests/fuzz/corpus/conf/empty \
	tests/fuzz/corpus/conf/example \
	tests/fuzz/corpus/conf/long-line \
	tests/fuzz/corpus/conf/minimal \
	tests/fuzz/corpus/conf/no-device \
	tests/fuzz/corpus/conf/volumes \
	tests/fuzz/corpus/fdstore/bad-header \
	tests/fuzz/corpus/fdstore/big-slot \
	tests/fuzz/corpus/fdstore/no-record \
	tests/fuzz/corpus/fdstore/no-state \
	tests/fuzz/corpus/fdstore/resume-two \
	tests/fuzz/corpus/fdstore/unterminated \
	tests/fuzz/corpus/fdstore/vol-before-state \
	tests/fuzz/corpus/libmmp/all \
	tests/fuzz/corpus/libmmp/check \
	tests/fuzz/corpus/libmmp/check-unknown \
	tests/fuzz/corpus/libmmp/claim \
	tests/fuzz/corpus/libmmp/claim-busy \
	tests/fuzz/corpus/libmmp/enduse \
	tests/fuzz/corpus/libmmp/error-continues \
	tests/fuzz/corpus/libmmp/handoff \
	tests/fuzz/corpus/libmmp/inspect \
	tests/fuzz/corpus/libmmp/inspect-error \
	tests/fuzz/corpus/libmmp/list \
	tests/fuzz/corpus/libmmp/malformed \
	tests/fuzz/corpus/libmmp/not-json \
	tests/fuzz/corpus/libmmp/release \
	tests/fuzz/corpus/libmmp/watch \
	tests/fuzz/corpus/methods/00-List \
	tests/fuzz/corpus/methods/01-Claim \
	tests/fuzz/corpus/methods/02-Claim \
	tests/fuzz/corpus/methods/03-Claim \
	tests/fuzz/corpus/methods/04-ClaimFd \
	tests/fuzz/corpus/methods/05-Release \
	tests/fuzz/corpus/methods/06-Handoff \
	tests/fuzz/corpus/methods/07-Handoff \
	tests/fuzz/corpus/methods/08-EndUse \
	tests/fuzz/corpus/methods/09-Check \
	tests/fuzz/corpus/methods/10-Watch \
	tests/fuzz/corpus/methods/11-Inspect \
	tests/fuzz/corpus/methods/12-Inspect \
	tests/fuzz/corpus/methods/13-Claim \
	tests/fuzz/corpus/methods/14-Inspect \
	tests/fuzz/corpus/methods/15-Claim \
	tests/fuzz/corpus/methods/16-Check \
	tests/fuzz/corpus/methods/17-Release \
	tests/fuzz/corpus/methods/18-Claim \
	tests/fuzz/corpus/ondisk/mmp-bad-magic \
	tests/fuzz/corpus/ondisk/mmp-csum-1k \
	tests/fuzz/corpus/ondisk/mmp-csum-4k \
	tests/fuzz/corpus/ondisk/mmp-fsck-badcsum \
	tests/fuzz/corpus/ondisk/mmp-interval-2k \
	tests/fuzz/corpus/ondisk/mmp-nocsum-4k \
	tests/fuzz/corpus/ondisk/no-mmp \
	tests/fuzz/corpus/ondisk/not-ext4 \
	tests/fuzz/corpus/ondisk/truncated \
	tests/fuzz/corpus/varlink-root/bad-json \
	tests/fuzz/corpus/varlink-root/bad-method \
	tests/fuzz/corpus/varlink-root/bad-params \
	tests/fuzz/corpus/varlink-root/busy \
	tests/fuzz/corpus/varlink-root/claim \
	tests/fuzz/corpus/varlink-root/claim-more \
	tests/fuzz/corpus/varlink-root/describe \
	tests/fuzz/corpus/varlink-root/fsck \
	tests/fuzz/corpus/varlink-root/handoff \
	tests/fuzz/corpus/varlink-root/inspect \
	tests/fuzz/corpus/varlink-root/list \
	tests/fuzz/corpus/varlink-root/no-nul \
	tests/fuzz/corpus/varlink-root/non-utf8 \
	tests/fuzz/corpus/varlink-root/oneway \
	tests/fuzz/corpus/varlink-root/watch \
	tests/fuzz/corpus/varlink-unpriv/bad-json \
	tests/fuzz/corpus/varlink-unpriv/bad-method \
	tests/fuzz/corpus/varlink-unpriv/bad-params \
	tests/fuzz/corpus/varlink-unpriv/busy \
	tests/fuzz/corpus/varlink-unpriv/claim \
	tests/fuzz/corpus/varlink-unpriv/claim-more \
	tests/fuzz/corpus/varlink-unpriv/describe \
	tests/fuzz/corpus/varlink-unpriv/fsck \
	tests/fuzz/corpus/varlink-unpriv/handoff \
	tests/fuzz/corpus/varlink-unpriv/inspect \
	tests/fuzz/corpus/varlink-unpriv/list \
	tests/fuzz/corpus/varlink-unpriv/no-nul \
	tests/fuzz/corpus/varlink-unpriv/non-utf8 \
	tests/fuzz/corpus/varlink-unpriv/oneway \
	tests/fuzz/corpus/varlink-unpriv/watch
