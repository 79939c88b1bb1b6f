# mmpd/offload.c (blocking work on short-lived threads) and inspect.c (the
# read-only MMP block reader behind Inspect), for the control server.  A
# convenience library so the daemon and tests/varlink link the same code;
# the program also links lib/libmmp-core.la.
noinst_LTLIBRARIES += mmpd/libmmpd-varlink.la
mmpd_libmmpd_varlink_la_SOURCES = \
	mmpd/offload.c mmpd/offload.h \
	mmpd/inspect.c mmpd/inspect.h
mmpd_libmmpd_varlink_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpd
mmpd_libmmpd_varlink_la_CFLAGS = $(AM_CFLAGS) $(EXT2FS_CFLAGS) -pthread
mmpd_libmmpd_varlink_la_LIBADD = $(EV_LIBS) -lpthread
