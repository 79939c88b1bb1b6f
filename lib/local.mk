# lib/: the MMP protocol with no I/O and no clock of its own.
# libmmp-core is a convenience library linked into mmpd, mmpctl and tests.
# libmmp-varlink: the varlink codec and io.mmpd's error names, the one copy
# used by both mmpd's server (through libmmp-core) and libmmp.
noinst_LTLIBRARIES += lib/libmmp-varlink.la
lib_libmmp_varlink_la_SOURCES = \
	lib/mmp-varlink.c lib/mmp-varlink.h \
	lib/mmp-errors.c lib/mmp-errors.h
lib_libmmp_varlink_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
lib_libmmp_varlink_la_LIBADD = $(JANSSON_LIBS)

noinst_LTLIBRARIES += lib/libmmp-core.la
lib_libmmp_core_la_SOURCES = \
	lib/mmp-ondisk.c lib/mmp-ondisk.h \
	lib/mmp-crc32c.c lib/mmp-crc32c.h \
	lib/mmp-timing.c lib/mmp-timing.h \
	lib/mmp-sm.c lib/mmp-sm.h \
	lib/mmp-names.h \
	lib/mmp-hist.c lib/mmp-hist.h \
	lib/macro.h
lib_libmmp_core_la_CFLAGS = $(AM_CFLAGS) $(EXT2FS_CFLAGS) $(JANSSON_CFLAGS)
lib_libmmp_core_la_LIBADD = lib/libmmp-varlink.la $(EXT2FS_LIBS) $(JANSSON_LIBS)
include lib/libmmp.mk
