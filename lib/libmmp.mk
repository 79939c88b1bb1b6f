# libmmp: the installed client library for mmpd's varlink interface.
# Public API: lib/libmmp.h only; exports: lib/libmmp.sym only.
lib_LTLIBRARIES += lib/libmmp.la
include_HEADERS = lib/libmmp.h
lib_libmmp_la_SOURCES = \
	lib/libmmp.h lib/libmmp-internal.h \
	lib/libmmp-wire.c \
	lib/libmmp-client.c \
	lib/libmmp-types.c \
	lib/libmmp-methods.c \
	lib/macro.h
lib_libmmp_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
lib_libmmp_la_LIBADD = $(JANSSON_LIBS)
# 0:0:0 is LIBMMP_1; bump per libtool's rules when the ABI changes.
lib_libmmp_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 \
	-Wl,--version-script=$(top_srcdir)/lib/libmmp.sym
EXTRA_lib_libmmp_la_DEPENDENCIES = lib/libmmp.sym

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libmmp.pc
EXTRA_DIST += lib/libmmp.sym lib/libmmp.pc.in
