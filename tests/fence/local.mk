# tests/fence: staged fencing against real loop devices (root).
fence_scripts = \
	tests/fence/rogue.sh \
	tests/fence/stop.sh \
	tests/fence/lastresort.sh \
	tests/fence/clock.sh \
	tests/fence/queue-full.sh
dist_check_SCRIPTS += $(fence_scripts)
TESTS += $(fence_scripts)
EXTRA_DIST += tests/fence/fence.sh
