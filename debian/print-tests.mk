# Read by debian/rules after the build's Makefile: the tests the package
# build runs, i.e. every C test program (TESTS without .sh or .py) except the
# loop-device one, and the catalog check.
print-deb-tests:
	@echo $(filter-out %.sh %.py tests/io/test-io-loop,$(TESTS)) tests/catalog/catalog.sh
