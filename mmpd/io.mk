# mmpd/io.c (device I/O engine): a convenience library so the daemon, the
# tests and the benchmark link the same code.
noinst_LTLIBRARIES += mmpd/libmmpd-io.la
mmpd_libmmpd_io_la_SOURCES = \
	mmpd/io.c mmpd/io.h \
	mmpd/io-dev.c mmpd/io-internal.h \
	mmpd/timer.c mmpd/timer.h
mmpd_libmmpd_io_la_LIBADD = $(AIO_LIBS) $(EV_LIBS) -lpthread
