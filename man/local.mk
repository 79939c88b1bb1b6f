# man/: manual pages, mdoc written by hand, except ocf_mmpd_mmpfs.7, which is
# made from the agent's meta-data (agents/ocf/mmpfs.in stays its one source).
# tests/man/ lints them and checks that every config key and every mmpctl
# command is documented.
dist_man_MANS = man/mmpd.8 man/mmpctl.8 man/mmpd.conf.5 man/libmmp.3
nodist_man_MANS = man/ocf_mmpd_mmpfs.7
EXTRA_DIST += man/ocf-meta2man.py man/ocf-shellfuncs
CLEANFILES += man/ocf_mmpd_mmpfs.7

# The date is the agent's, so the page does not change with every build.
man/ocf_mmpd_mmpfs.7: agents/ocf/mmpfs $(top_srcdir)/man/ocf-meta2man.py $(top_srcdir)/man/ocf-shellfuncs
	$(AM_V_GEN)$(MKDIR_P) man && \
	OCF_FUNCTIONS_DIR='$(top_srcdir)/man' $(SHELL) agents/ocf/mmpfs meta-data >$@.xml && \
	$(PYTHON3) $(top_srcdir)/man/ocf-meta2man.py mmpd \
		"`date -u -r $(top_srcdir)/agents/ocf/mmpfs.in +%Y-%m-%d`" '$(PACKAGE_VERSION)' \
		<$@.xml >$@.tmp && rm -f $@.xml && mv $@.tmp $@
