# Unit tests (cmocka, TAP output) and integration scripts (TAP).
# Each area keeps its own fragment.
include tests/unit/local.mk
include tests/ondisk/local.mk
include tests/conf/local.mk
include tests/io/local.mk
include tests/faultdev/local.mk
include tests/integ/local.mk
include tests/bench/local.mk
include tests/client/local.mk
include tests/varlink/local.mk
include tests/fence/local.mk
include tests/systemd/local.mk
include tests/handoff/local.mk
include tests/ha/local.mk
include tests/ocf/local.mk
include tests/man/local.mk
include tests/admin/local.mk
include tests/fuzz/local.mk
include tests/sim/local.mk
include tests/catalog/local.mk
include tests/arch/local.mk
include tests/daemon/local.mk
