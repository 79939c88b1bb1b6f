# lib/: the MMP protocol with no I/O and no clock of its own.
# libmmp-core is a convenience library linked into mmpd, mmpctl and tests.
noinst_LTLIBRARIES += lib/libmmp-core.la
lib_libmmp_core_la_SOURCES = \
	lib/mmp-ondisk.c lib/mmp-ondisk.h \
	lib/mmp-timing.c lib/mmp-timing.h \
	lib/mmp-sm.c lib/mmp-sm.h \
	lib/mmp-varlink.c lib/mmp-varlink.h \
	lib/macro.h
lib_libmmp_core_la_CFLAGS = $(AM_CFLAGS) $(EXT2FS_CFLAGS) $(JANSSON_CFLAGS)
lib_libmmp_core_la_LIBADD = $(EXT2FS_LIBS) $(JANSSON_LIBS)
include lib/libmmp.mk
