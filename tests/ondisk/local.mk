# tests/ondisk: the on-disk codec (cmocka, on real mkfs.ext4 bytes) and
# 'mmpctl dump' against e2fsprogs as the oracle (TAP scripts).
ondisk_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(EXT2FS_CFLAGS)
ondisk_test_ldadd = lib/libmmp-core.la $(CMOCKA_LIBS) $(EXT2FS_LIBS)

check_PROGRAMS += tests/ondisk/test-corrupt tests/ondisk/test-encode tests/ondisk/mmp-edit \
	tests/ondisk/test-crc32c
tests_ondisk_test_corrupt_SOURCES = tests/ondisk/test-corrupt.c \
	tests/ondisk/fixture.c tests/ondisk/fixture.h
tests_ondisk_test_corrupt_CFLAGS = $(ondisk_test_cflags)
tests_ondisk_test_corrupt_LDADD = $(ondisk_test_ldadd)
tests_ondisk_test_encode_SOURCES = tests/ondisk/test-encode.c \
	tests/ondisk/fixture.c tests/ondisk/fixture.h
tests_ondisk_test_encode_CFLAGS = $(ondisk_test_cflags)
tests_ondisk_test_encode_LDADD = $(ondisk_test_ldadd)
tests_ondisk_test_crc32c_SOURCES = tests/ondisk/test-crc32c.c
tests_ondisk_test_crc32c_CFLAGS = $(ondisk_test_cflags)
tests_ondisk_test_crc32c_LDADD = $(ondisk_test_ldadd)
# mmp-edit: rewrites an image's MMP block with mmp_block_encode(), for the scripts
tests_ondisk_mmp_edit_SOURCES = tests/ondisk/mmp-edit.c
tests_ondisk_mmp_edit_LDADD = lib/libmmp-core.la

ondisk_scripts = \
	tests/ondisk/golden.sh \
	tests/ondisk/encode.sh \
	tests/ondisk/dump-errors.sh \
	tests/ondisk/dump-blockdev.sh \
	tests/ondisk/valgrind.sh
dist_check_SCRIPTS += $(ondisk_scripts)
TESTS += tests/ondisk/test-corrupt tests/ondisk/test-encode tests/ondisk/test-crc32c \
	$(ondisk_scripts)
EXTRA_DIST += tests/ondisk/images.sh

# Shared helpers for shell tests (tests/lib/ has no fragment of its own).
EXTRA_DIST += tests/lib/tap.sh tests/lib/valgrind.sh
