# mmpd/varlink*.c: the control server, as two convenience libraries so the
# daemon and the tests link the same code: libmmpd-vlserver, a varlink server
# that knows no application (varlink-server.h; varlink.c, -conn.c, -dispatch.c;
# tests/varlink/test-transport links it alone), and libmmpd-varlink, io.mmpd
# registered with it (varlink-methods.h; varlink-methods.c, -json.c), with offload.c
# (blocking work on short-lived threads) and inspect.c (the read-only MMP
# block reader behind Inspect).  The program also links lib/libmmp-core.la.
noinst_LTLIBRARIES += mmpd/libmmpd-vlserver.la
mmpd_libmmpd_vlserver_la_SOURCES = \
	mmpd/varlink-server.h mmpd/varlink-internal.h \
	mmpd/varlink.c mmpd/varlink-conn.c mmpd/varlink-dispatch.c
mmpd_libmmpd_vlserver_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpd
mmpd_libmmpd_vlserver_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
mmpd_libmmpd_vlserver_la_LIBADD = $(JANSSON_LIBS) $(EV_LIBS)

noinst_LTLIBRARIES += mmpd/libmmpd-varlink.la
mmpd_libmmpd_varlink_la_SOURCES = \
	mmpd/varlink-methods.h mmpd/varlink-methods.c \
	mmpd/varlink-json.h mmpd/varlink-json.c \
	mmpd/offload.c mmpd/offload.h \
	mmpd/inspect.c mmpd/inspect.h
nodist_mmpd_libmmpd_varlink_la_SOURCES = mmpd/varlink-idl.c
mmpd_libmmpd_varlink_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpd
mmpd_libmmpd_varlink_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(EXT2FS_CFLAGS) -pthread
mmpd_libmmpd_varlink_la_LIBADD = mmpd/libmmpd-vlserver.la shared/libmmp-shared.la \
	$(JANSSON_LIBS) $(EV_LIBS) -lpthread

# The interface description is compiled in (GetInterfaceDescription) and
# installed for clients and `varlink help`-style tools.
varlinkdir = $(datadir)/varlink
dist_varlink_DATA = mmpd/io.mmpd.varlink

# Each IDL line becomes a C string literal: escape \ " and ? (trigraphs).
mmpd/varlink-idl.c: $(top_srcdir)/mmpd/io.mmpd.varlink $(top_srcdir)/mmpd/varlink.mk
	$(AM_V_GEN)$(MKDIR_P) $(@D) && { \
	  echo '/* Generated from mmpd/io.mmpd.varlink by mmpd/varlink.mk: do not edit. */'; \
	  echo 'extern const char varlink_io_mmpd_idl[];'; \
	  echo 'const char varlink_io_mmpd_idl[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n"/' \
	    $(top_srcdir)/mmpd/io.mmpd.varlink; \
	  echo ';'; \
	} > $@.tmp && mv -f $@.tmp $@
CLEANFILES += mmpd/varlink-idl.c mmpd/varlink-idl.c.tmp
