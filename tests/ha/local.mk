# tests/ha: failover drills on a real two-node cluster (corosync 3 +
# pacemaker 2.1 in two nspawn containers), the volume an ocf:mmpd:mmpfs
# resource (docs/ha.md, "Failover drills").
ha_scripts = tests/ha/drills.sh
dist_check_SCRIPTS += $(ha_scripts)
TESTS += $(ha_scripts)
EXTRA_DIST += tests/ha/cluster.sh tests/ha/stub-mmpfs
