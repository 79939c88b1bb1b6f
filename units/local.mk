# units/: systemd unit templates.  @sbindir@ and @bindir@ are filled in by
# make (not configure) so they follow a "make sbindir=..." override.
systemdsystemunit_DATA = \
	units/mmpd.service \
	units/mmpd.socket \
	units/mmpd@.service \
	units/mmpd-mount@.service
units_in = units/mmpd.service.in units/mmpd.socket.in units/mmpd@.service.in units/mmpd-mount@.service.in
EXTRA_DIST += $(units_in)
CLEANFILES += $(systemdsystemunit_DATA)

units_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g'

units_gen = $(AM_V_GEN)$(MKDIR_P) units && $(units_edit) $(top_srcdir)/$@.in >$@.tmp && mv $@.tmp $@
units/mmpd.service: $(top_srcdir)/units/mmpd.service.in Makefile
	$(units_gen)
units/mmpd.socket: $(top_srcdir)/units/mmpd.socket.in Makefile
	$(units_gen)
units/mmpd@.service: $(top_srcdir)/units/mmpd@.service.in Makefile
	$(units_gen)
units/mmpd-mount@.service: $(top_srcdir)/units/mmpd-mount@.service.in Makefile
	$(units_gen)
