# tests/systemd: the units under real systemd as PID 1 in systemd-nspawn.
systemd_scripts = \
	tests/systemd/hold.sh \
	tests/systemd/restart.sh \
	tests/systemd/two-nodes.sh
dist_check_SCRIPTS += $(systemd_scripts)
TESTS += $(systemd_scripts)
EXTRA_DIST += tests/systemd/nspawn.sh
