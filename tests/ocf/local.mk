# tests/ocf: the OCF agent agents/ocf/mmpfs on one node (ocf-tester, a real
# loop-backed MMP volume and a real mmpd; root).
ocf_scripts = tests/ocf/mmpfs.sh
dist_check_SCRIPTS += $(ocf_scripts)
TESTS += $(ocf_scripts)
