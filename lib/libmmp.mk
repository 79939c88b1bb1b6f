# libmmp: the installed client library for mmpd's varlink interface.
# Public API: lib/libmmp.h only; exports: lib/libmmp.sym only.
#
# The objects are built once, in a convenience library: lib/libmmp.la wraps
# them with the version script, and mmpctl links them statically (it uses
# the public header only, but runs without an installed libmmp.so).
noinst_LTLIBRARIES += lib/libmmp-static.la
lib_libmmp_static_la_SOURCES = \
	lib/libmmp.h lib/libmmp-internal.h \
	lib/libmmp-wire.c \
	lib/libmmp-client.c \
	lib/libmmp-types.c \
	lib/libmmp-methods.c \
	lib/macro.h
lib_libmmp_static_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
lib_libmmp_static_la_LIBADD = lib/libmmp-varlink.la $(JANSSON_LIBS)

lib_LTLIBRARIES += lib/libmmp.la
include_HEADERS = lib/libmmp.h
lib_libmmp_la_SOURCES =
lib_libmmp_la_LIBADD = lib/libmmp-static.la
# 0:0:0 was LIBMMP_1; 1:0:1 is LIBMMP_2 (interfaces added, none removed:
# still libmmp.so.0).  Change it by libtool's rules when the ABI changes.
lib_libmmp_la_LDFLAGS = $(AM_LDFLAGS) -version-info 1:0:1 \
	-Wl,--version-script=$(top_srcdir)/lib/libmmp.sym
EXTRA_lib_libmmp_la_DEPENDENCIES = lib/libmmp.sym

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libmmp.pc
EXTRA_DIST += lib/libmmp.sym lib/libmmp.pc.in
