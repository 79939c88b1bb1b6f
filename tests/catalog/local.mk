# tests/catalog: catalog/mmpd.catalog against the MESSAGE_IDs in the code,
# and journalctl compiling it into a scratch root.
dist_check_SCRIPTS += tests/catalog/catalog.sh
TESTS += tests/catalog/catalog.sh
