# tests/admin: mmpctl for administrators: status on a terminal (humanised
# times, a lost volume in colour, NO_COLOR) and the bash completion, against
# a real mmpd on loop devices (root); the formatting functions in C.
check_PROGRAMS += tests/admin/test-format
TESTS += tests/admin/test-format
tests_admin_test_format_SOURCES = tests/admin/test-format.c mmpctl/format.c mmpctl/format.h
tests_admin_test_format_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpctl
tests_admin_test_format_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_admin_test_format_LDADD = $(CMOCKA_LIBS)

admin_scripts = tests/admin/status.sh tests/admin/completion.sh
dist_check_SCRIPTS += $(admin_scripts)
TESTS += $(admin_scripts)

# mmpctl metrics: the OpenMetrics text of mmpctl/openmetrics.c from JSON
# shaped as io.mmpd's Stats contract, parsed by prometheus_client
# (openmetrics.sh); against a real mmpd's Daemon() and Volume.stats (metrics.sh).
check_PROGRAMS += tests/admin/openmetrics-render
tests_admin_openmetrics_render_SOURCES = tests/admin/openmetrics-render.c \
	mmpctl/openmetrics.c mmpctl/openmetrics.h
tests_admin_openmetrics_render_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mmpctl
tests_admin_openmetrics_render_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_admin_openmetrics_render_LDADD = $(JANSSON_LIBS)
dist_check_SCRIPTS += tests/admin/openmetrics.sh
TESTS += tests/admin/openmetrics.sh
dist_check_SCRIPTS += tests/admin/metrics.sh
TESTS += tests/admin/metrics.sh
EXTRA_DIST += tests/admin/openmetrics.py
