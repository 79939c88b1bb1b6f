# tests/varlink: the control server (mmpd/varlink*.c): the transport with a
# toy method table, io.mmpd against a fake registry, the error names against
# the IDL.  The codec (lib/mmp-varlink.c) is tests/unit/test-varlink-codec.
varlink_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(EXT2FS_CFLAGS)
varlink_test_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpd

# The server with a toy method table over a socketpair: links the server
# alone (mmpd/libmmpd-vlserver.la), no manager, no io.mmpd.
check_PROGRAMS += tests/varlink/test-transport
TESTS += tests/varlink/test-transport
tests_varlink_test_transport_SOURCES = tests/varlink/test-transport.c
tests_varlink_test_transport_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_transport_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_transport_LDADD = mmpd/libmmpd-vlserver.la lib/libmmp-varlink.la \
	$(CMOCKA_LIBS) $(JANSSON_LIBS) $(EV_LIBS)

# lib/mmp-errors.c's table against every error line of the IDL mmpd serves.
check_PROGRAMS += tests/varlink/test-error-names
TESTS += tests/varlink/test-error-names
tests_varlink_test_error_names_SOURCES = tests/varlink/test-error-names.c
nodist_tests_varlink_test_error_names_SOURCES = mmpd/varlink-idl.c
tests_varlink_test_error_names_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_error_names_LDADD = lib/libmmp-varlink.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/varlink/test-offload
TESTS += tests/varlink/test-offload
tests_varlink_test_offload_SOURCES = tests/varlink/test-offload.c
tests_varlink_test_offload_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_offload_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_offload_LDADD = mmpd/libmmpd-varlink.la $(CMOCKA_LIBS) $(EV_LIBS)

check_PROGRAMS += tests/varlink/test-errors
TESTS += tests/varlink/test-errors
tests_varlink_test_errors_SOURCES = tests/varlink/test-errors.c
tests_varlink_test_errors_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_errors_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_errors_LDADD = mmpd/libmmpd-varlink.la lib/libmmp-core.la \
	$(CMOCKA_LIBS) $(JANSSON_LIBS) $(EXT2FS_LIBS)

# List's text writer against the tree of every other method, byte for byte;
# prints what each costs for 10,000 volumes.
check_PROGRAMS += tests/varlink/test-volume-text
TESTS += tests/varlink/test-volume-text
tests_varlink_test_volume_text_SOURCES = tests/varlink/test-volume-text.c
tests_varlink_test_volume_text_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_volume_text_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_volume_text_LDADD = mmpd/libmmpd-varlink.la lib/libmmp-core.la \
	$(CMOCKA_LIBS) $(JANSSON_LIBS) $(EXT2FS_LIBS)

# The server on a loop with the fake registry (check-only), driven by
# conformance.py over the raw wire protocol.
check_PROGRAMS += tests/varlink/test-server
tests_varlink_test_server_SOURCES = \
	tests/varlink/test-server.c \
	tests/varlink/fake-manager.c tests/varlink/fake-manager.h
tests_varlink_test_server_CPPFLAGS = $(varlink_test_cppflags)
tests_varlink_test_server_CFLAGS = $(varlink_test_cflags)
tests_varlink_test_server_LDADD = mmpd/libmmpd-varlink.la lib/libmmp-core.la \
	$(JANSSON_LIBS) $(EV_LIBS) $(EXT2FS_LIBS)

TESTS += tests/varlink/conformance.py
dist_check_SCRIPTS += tests/varlink/conformance.py
EXTRA_DIST += tests/varlink/varlink_wire.py
