# mmpd/conf.c (config loader)
# A convenience library so the daemon and tests/conf link the same code.
noinst_LTLIBRARIES += mmpd/libmmpd-conf.la
mmpd_libmmpd_conf_la_SOURCES = mmpd/conf.c mmpd/conf-values.c mmpd/conf.h mmpd/conf-internal.h
mmpd_libmmpd_conf_la_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
mmpd_libmmpd_conf_la_LIBADD = $(INIH_LIBS)
