# mmpctl/: the command-line tool.  One file per command; mmpctl.c holds the table.
bin_PROGRAMS += mmpctl/mmpctl
mmpctl_mmpctl_SOURCES = \
	mmpctl/mmpctl.c mmpctl/mmpctl.h \
	mmpctl/util.c \
	mmpctl/volume.c \
	mmpctl/dump.c
mmpctl_mmpctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
mmpctl_mmpctl_LDADD = lib/libmmp-core.la $(JANSSON_LIBS)
