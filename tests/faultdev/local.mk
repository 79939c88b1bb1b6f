# tests/faultdev: the fault device (a FUSE file under a loop device) and its tests.
# Test infrastructure only: check_PROGRAMS are built by "make check", never installed.
#
#   mmp-faultdev        the FUSE server: MOUNTPOINT/disk (the image) + MOUNTPOINT/ctl
#   faultdev-io         one timed O_DIRECT pread/pwrite, for the scripts
#   test-faultdev-rules unit tests of the ctl parser and rule table (cmocka)
#   faultdev.sh         TAP: each fault through a real loop device
#   faultdev-mmp.sh     TAP: ext4 MMP (mkfs, debugfs, kernel mount) through it
check_PROGRAMS += \
	tests/faultdev/mmp-faultdev \
	tests/faultdev/faultdev-io \
	tests/faultdev/test-faultdev-rules

faultdev_rules_sources = tests/faultdev/faultdev-rules.c tests/faultdev/faultdev-rules.h

tests_faultdev_mmp_faultdev_SOURCES = tests/faultdev/mmp-faultdev.c $(faultdev_rules_sources)
tests_faultdev_mmp_faultdev_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS) -pthread
tests_faultdev_mmp_faultdev_LDADD = $(FUSE3_LIBS)

tests_faultdev_faultdev_io_SOURCES = tests/faultdev/faultdev-io.c

tests_faultdev_test_faultdev_rules_SOURCES = tests/faultdev/test-faultdev-rules.c $(faultdev_rules_sources)
tests_faultdev_test_faultdev_rules_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_faultdev_test_faultdev_rules_LDADD = $(CMOCKA_LIBS)

# The scripts need root and /dev/fuse: they skip without, and fail under CI=true.
faultdev_scripts = tests/faultdev/faultdev.sh tests/faultdev/faultdev-mmp.sh
TESTS += tests/faultdev/test-faultdev-rules $(faultdev_scripts)
dist_check_SCRIPTS += $(faultdev_scripts)

# The helper integration tests source (tests/lib/faultdev.sh).
EXTRA_DIST += tests/lib/faultdev.sh
