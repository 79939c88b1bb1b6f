# shared/: unexported helpers for the tools and the daemon's worker threads.
noinst_LTLIBRARIES += shared/libmmp-shared.la
shared_libmmp_shared_la_SOURCES = shared/aligned-read.c shared/aligned-read.h
