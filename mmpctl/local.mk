# mmpctl/: the command-line tool.  One file per command; mmpctl.c holds the table.
bin_PROGRAMS += mmpctl/mmpctl
mmpctl_mmpctl_SOURCES = \
	mmpctl/mmpctl.c mmpctl/mmpctl.h \
	mmpctl/util.c \
	mmpctl/format.c mmpctl/format.h \
	mmpctl/ondisk-read.c \
	mmpctl/dump.c \
	mmpctl/client.c \
	mmpctl/status.c \
	mmpctl/claim.c \
	mmpctl/release.c \
	mmpctl/check.c \
	mmpctl/watch.c \
	mmpctl/hold.c \
	mmpctl/use.c \
	mmpctl/mount.c \
	mmpctl/umount.c \
	mmpctl/exec.c \
	mmpctl/metrics.c \
	mmpctl/openmetrics.c mmpctl/openmetrics.h
mmpctl_mmpctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS) $(MOUNT_CFLAGS)
# libmmp's objects are linked in statically: see lib/libmmp.mk.
mmpctl_mmpctl_LDADD = shared/libmmp-shared.la lib/libmmp-static.la lib/libmmp-core.la $(JANSSON_LIBS) \
	$(SYSTEMD_LIBS) $(MOUNT_LIBS) -lpthread

# bash completion (completion/mmpctl), in bash-completion's directory
# (configure: --with-bashcompletiondir).
dist_bashcompletion_DATA = completion/mmpctl
