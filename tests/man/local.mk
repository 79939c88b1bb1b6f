# tests/man: the manual pages of man/ (mandoc lint, every config key, command
# and option documented, libmmp(3)'s example compiles).
man_scripts = tests/man/lint.sh tests/man/coverage.sh tests/man/example.sh
dist_check_SCRIPTS += $(man_scripts)
TESTS += $(man_scripts)
