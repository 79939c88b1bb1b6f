# agents/: cluster resource agents.  agents/ocf/mmpfs is the OCF agent
# ocf:mmpd:mmpfs (docs/ha.md); @bindir@ is filled in by make, as in units/.
ocfmmpddir = $(ocfdir)/resource.d/mmpd
ocfmmpd_SCRIPTS = agents/ocf/mmpfs
EXTRA_DIST += agents/ocf/mmpfs.in
CLEANFILES += agents/ocf/mmpfs

agents/ocf/mmpfs: $(top_srcdir)/agents/ocf/mmpfs.in Makefile
	$(AM_V_GEN)$(MKDIR_P) agents/ocf && \
	sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
		$(top_srcdir)/agents/ocf/mmpfs.in >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@
