# mmpd/: the daemon.  Its pieces are split so tests can link them alone.
include mmpd/conf.mk
include mmpd/io.mk
include mmpd/varlink.mk

sbin_PROGRAMS += mmpd/mmpd
mmpd_mmpd_SOURCES = \
	mmpd/main.c \
	mmpd/daemon.c mmpd/daemon.h \
	mmpd/log.c mmpd/log.h \
	mmpd/manager.c mmpd/manager.h \
	mmpd/volume.c mmpd/volume.h \
	mmpd/fence.c mmpd/fence-proc.c mmpd/fence-plan.c mmpd/fence.h \
	mmpd/fdstore.c mmpd/fdstore.h \
	mmpd/systemd.c mmpd/systemd.h
mmpd_mmpd_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(EXT2FS_CFLAGS)
mmpd_mmpd_LDADD = \
	mmpd/libmmpd-conf.la mmpd/libmmpd-io.la mmpd/libmmpd-varlink.la lib/libmmp-core.la \
	$(SYSTEMD_LIBS) $(EV_LIBS) $(AIO_LIBS) $(EXT2FS_LIBS) $(JANSSON_LIBS) -lpthread
