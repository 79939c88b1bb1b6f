# tests/arch: the daemon's structure (include direction).
dist_check_SCRIPTS += tests/arch/deps.sh
TESTS += tests/arch/deps.sh
EXTRA_DIST += tools/deps.sh
