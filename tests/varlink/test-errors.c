/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/varlink-json.c: the errno -> io.mmpd error table, and the volume
 * conversion's optional fields.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "varlink-json.h"

static struct volume_info held_info(void)
{
        struct volume_info i = {
                .name = "vol", .device = "/dev/sdb", .state = MMP_STATE_HELD,
                .phase = MMP_PHASE_HB_IDLE, .have_sb = true,
                .sb = { .block_size = 4096, .mmp_block = 1618, .update_interval = 5 },
                .now = 100 * MMP_USEC_PER_SEC, .wall_now = 1700000000,
        };

        i.sm.state = MMP_STATE_HELD;
        i.sm.seq = 7;
        i.sm.check_interval = 10;
        i.sm.last_good = 99 * MMP_USEC_PER_SEC;
        mmp_deadlines(i.sm.last_good, 5, 10, 0, &i.sm.deadlines);
        i.sm.have_holder = true;
        i.sm.holder = (struct mmp_block) { .magic = MMP_MAGIC, .seq = 42, .check_interval = 10 };
        strcpy(i.sm.holder.nodename, "peer");
        strcpy(i.sm.holder.bdevname, "sdx");
        return i;
}

/* Map, then check the error name and render the parameters compactly. */
static void expect(int err, const struct vl_error_ctx *ctx, const char *name, const char *params)
{
        json_t *msg = vl_error_from_errno(err, ctx);
        char *s;

        assert_non_null(msg);
        print_message("# %s -> %s\n", strerror(-err), json_string_value(json_object_get(msg, "error")));
        assert_string_equal(json_string_value(json_object_get(msg, "error")), name);
        s = json_dumps(json_object_get(msg, "parameters"), JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(s, params);
        free(s);
        json_decref(msg);
}

static void table(void **state)
{
        struct volume_info held = held_info();
        struct vl_error_ctx lookup = { .op = VL_OP_LOOKUP, .device = "/dev/x" };
        struct vl_error_ctx claim = { .op = VL_OP_CLAIM, .device = "/dev/x", .limit = 10, .count = 3 };
        struct vl_error_ctx claim_held = { .op = VL_OP_CLAIM, .device = "/dev/x", .info = &held };
        struct vl_error_ctx refused = { .op = VL_OP_CLAIM, .device = "/dev/x", .info = &held, .decoded = true };
        struct vl_error_ctx inspect = { .op = VL_OP_INSPECT, .device = "/dev/x", .stage = "superblock",
                                        .decoded = true };
        struct vl_error_ctx inspect_io = { .op = VL_OP_INSPECT, .device = "/dev/x", .stage = "open" };
        struct vl_error_ctx release = { .op = VL_OP_RELEASE, .device = "/dev/x" };

        expect(-ENOENT, &lookup, "io.mmpd.NoSuchVolume", "{\"device\":\"/dev/x\"}");
        expect(-ENOENT, &claim, "io.mmpd.IoError",
               "{\"device\":\"/dev/x\",\"errno\":2,\"reason\":\"No such file or directory\"}");
        expect(-EEXIST, &claim_held, "io.mmpd.AlreadyClaimed", "{\"device\":\"/dev/x\",\"state\":\"held\"}");
        expect(-EBUSY, &refused, "io.mmpd.VolumeInUse",
               "{\"device\":\"/dev/x\",\"node\":\"peer\",\"node_device\":\"sdx\",\"seq\":42}");
        expect(-EBUSY, &claim, "io.mmpd.IoError",
               "{\"device\":\"/dev/x\",\"errno\":16,\"reason\":\"device busy on this node (mounted, or opened exclusively)\"}");
        expect(-EINPROGRESS, &refused, "io.mmpd.FsckRunning",
               "{\"device\":\"/dev/x\",\"hint\":\"tune2fs -f -E clear_mmp /dev/x\",\"node\":\"peer\"}");
        expect(-EOPNOTSUPP, &refused, "io.mmpd.NotMmpFilesystem",
               "{\"device\":\"/dev/x\",\"reason\":\"the filesystem does not have the mmp feature (enable it with: tune2fs -O mmp DEVICE)\"}");
        expect(-EMEDIUMTYPE, &inspect, "io.mmpd.NotMmpFilesystem",
               "{\"device\":\"/dev/x\",\"reason\":\"superblock: not an ext2/ext3/ext4 filesystem (bad superblock magic)\"}");
        expect(-ERANGE, &refused, "io.mmpd.NotMmpFilesystem",
               "{\"device\":\"/dev/x\",\"reason\":\"the superblock's MMP block number is outside the filesystem\"}");
        expect(-ENODATA, &inspect, "io.mmpd.NotMmpFilesystem",
               "{\"device\":\"/dev/x\",\"reason\":\"superblock: too short to hold the structure (truncated or empty)\"}");
        expect(-EINVAL, &inspect, "io.mmpd.NotMmpFilesystem",
               "{\"device\":\"/dev/x\",\"reason\":\"superblock: the superblock has an impossible block size or checksum type\"}");
        expect(-EINVAL, &claim, "io.mmpd.ClaimFailed", "{\"device\":\"/dev/x\",\"reason\":\"Invalid argument\"}");
        expect(-EUCLEAN, &refused, "io.mmpd.CorruptMmpBlock",
               "{\"device\":\"/dev/x\",\"reason\":\"the MMP block has a bad magic number (corrupt; e2fsck can rebuild it)\"}");
        expect(-EBADMSG, &refused, "io.mmpd.CorruptMmpBlock",
               "{\"device\":\"/dev/x\",\"reason\":\"checksum does not match (corrupt metadata)\"}");
        expect(-EPROTO, &refused, "io.mmpd.CorruptMmpBlock", "{\"device\":\"/dev/x\",\"reason\":\"Protocol error\"}");
        expect(-ENOSPC, &claim, "io.mmpd.TooManyVolumes", "{\"limit\":10}");
        expect(-EMFILE, &claim, "io.mmpd.TooManyVolumes", "{\"limit\":3}");
        expect(-EIO, &inspect_io, "io.mmpd.IoError",
               "{\"device\":\"/dev/x\",\"errno\":5,\"reason\":\"open: Input/output error\"}");
        expect(-ETIMEDOUT, &refused, "io.mmpd.IoError",
               "{\"device\":\"/dev/x\",\"errno\":110,\"reason\":\"Connection timed out\"}");
        expect(-ECANCELED, &claim, "io.mmpd.ClaimFailed", "{\"device\":\"/dev/x\",\"reason\":\"Operation canceled\"}");
        expect(-ECANCELED, &release, "io.mmpd.IoError",
               "{\"device\":\"/dev/x\",\"errno\":125,\"reason\":\"Operation canceled\"}");
        /* the device falls back to the volume's when the caller gave none */
        claim_held.device = NULL;
        expect(-EEXIST, &claim_held, "io.mmpd.AlreadyClaimed", "{\"device\":\"/dev/sdb\",\"state\":\"held\"}");
}

/* Handed to a local kernel mount whose first write is on disk. */
static struct volume_info in_use_info(void)
{
        struct volume_info i = held_info();

        i.state = i.sm.state = MMP_STATE_IN_USE;
        i.phase = i.sm.phase = MMP_PHASE_IN_USE;
        i.in_use = true;
        i.use_mount_point = "/mnt/a";
        i.sm.user = MMP_USER_KERNEL;
        i.sm.mode = MMP_HANDOFF_FAST;
        i.sm.use_since = 98 * MMP_USEC_PER_SEC;
        i.sm.user_seen = true;
        i.sm.last_change = 99 * MMP_USEC_PER_SEC;
        i.sm.user_block = (struct mmp_block) { .magic = MMP_MAGIC, .seq = 3, .check_interval = 10 };
        strcpy(i.sm.user_block.nodename, "host-a");
        strcpy(i.sm.user_block.bdevname, "sdb");
        return i;
}

static void use_errors(void **state)
{
        struct volume_info in_use = in_use_info(), claiming = held_info(), handing = in_use_info();
        struct vl_error_ctx not_held = { .op = VL_OP_END_USE, .device = "/dev/x", .info = &claiming };
        struct vl_error_ctx busy = { .op = VL_OP_END_USE, .device = "/dev/x", .info = &in_use };
        struct vl_error_ctx busy_handing = { .op = VL_OP_END_USE, .device = "/dev/x", .info = &handing };
        struct vl_error_ctx busy_release = { .op = VL_OP_RELEASE, .device = "/dev/x", .info = &in_use };
        struct vl_error_ctx failed = { .op = VL_OP_HANDOFF, .device = "/dev/x", .info = &claiming,
                                       .reason = "no write from the local user within the handoff timeout" };
        struct vl_error_ctx handoff = { .op = VL_OP_HANDOFF, .device = "/dev/x", .info = &claiming };
        struct vl_error_ctx no_pid = { .op = VL_OP_HANDOFF, .device = "/dev/x", .info = &claiming,
                                       .reason = "no such process (pid)" };

        claiming.state = claiming.sm.state = MMP_STATE_CLAIMING;
        handing.phase = handing.sm.phase = MMP_PHASE_HANDING_OFF;
        handing.sm.user_seen = false;
        expect(-ENOLCK, &not_held, "io.mmpd.NotHeld", "{\"device\":\"/dev/x\",\"state\":\"claiming\"}");
        expect(-EBUSY, &busy, "io.mmpd.UseInProgress",
               "{\"device\":\"/dev/x\",\"node\":\"host-a\",\"seq\":3,\"user\":\"kernel\"}");
        expect(-EBUSY, &busy_release, "io.mmpd.UseInProgress",
               "{\"device\":\"/dev/x\",\"node\":\"host-a\",\"seq\":3,\"user\":\"kernel\"}");
        /* no write of the user's seen yet: the last block on disk */
        expect(-EBUSY, &busy_handing, "io.mmpd.UseInProgress",
               "{\"device\":\"/dev/x\",\"node\":\"peer\",\"seq\":42,\"user\":\"kernel\"}");
        expect(-ETIMEDOUT, &failed, "io.mmpd.HandoffFailed",
               "{\"device\":\"/dev/x\",\"reason\":\"no write from the local user within the handoff timeout\"}");
        expect(-ECANCELED, &handoff, "io.mmpd.HandoffFailed",
               "{\"device\":\"/dev/x\",\"reason\":\"Operation canceled\"}");
        expect(-ESRCH, &no_pid, "io.mmpd.IoError",
               "{\"device\":\"/dev/x\",\"errno\":3,\"reason\":\"no such process (pid)\"}");
}

static void use_fields(void **state)
{
        struct volume_info i = in_use_info();
        json_t *v = vl_volume_json(&i), *u;

        assert_non_null(v);
        assert_string_equal(json_string_value(json_object_get(v, "state")), "in_use");
        u = json_object_get(v, "use");
        assert_non_null(u);
        assert_string_equal(json_string_value(json_object_get(u, "user")), "kernel");
        assert_string_equal(json_string_value(json_object_get(u, "mode")), "fast");
        assert_string_equal(json_string_value(json_object_get(u, "phase")), "in_use");
        assert_string_equal(json_string_value(json_object_get(u, "mount_point")), "/mnt/a");
        assert_true(json_is_false(json_object_get(u, "keep")));
        assert_null(json_object_get(u, "pid"));
        assert_int_equal(json_integer_value(json_object_get(u, "since_usec")), 98 * MMP_USEC_PER_SEC);
        assert_int_equal(json_integer_value(json_object_get(u, "last_change_usec")), 99 * MMP_USEC_PER_SEC);
        assert_int_equal(json_integer_value(json_object_get(u, "user_seq")), 3);
        assert_string_equal(json_string_value(json_object_get(u, "user_node")), "host-a");
        assert_string_equal(json_string_value(json_object_get(u, "user_device")), "sdb");
        json_decref(v);

        /* a tool, before its first write: pid, no user block yet */
        i.phase = i.sm.phase = MMP_PHASE_HANDING_OFF;
        i.sm.user = MMP_USER_TOOL;
        i.sm.mode = MMP_HANDOFF_WAIT;
        i.sm.user_seen = false;
        i.use_pid = 1234;
        i.use_mount_point = NULL;
        i.use_keep = true;
        v = vl_volume_json(&i);
        u = json_object_get(v, "use");
        assert_string_equal(json_string_value(json_object_get(u, "user")), "tool");
        assert_string_equal(json_string_value(json_object_get(u, "mode")), "wait");
        assert_string_equal(json_string_value(json_object_get(u, "phase")), "handing_off");
        assert_int_equal(json_integer_value(json_object_get(u, "pid")), 1234);
        assert_true(json_is_true(json_object_get(u, "keep")));
        assert_null(json_object_get(u, "mount_point"));
        assert_null(json_object_get(u, "user_node"));
        assert_null(json_object_get(u, "last_change_usec"));
        json_decref(v);

        i.phase = i.sm.phase = MMP_PHASE_USE_END_READ;
        v = vl_volume_json(&i);
        assert_string_equal(json_string_value(json_object_get(json_object_get(v, "use"), "phase")), "ending");
        json_decref(v);

        /* not in use: no use object */
        i.in_use = false;
        i.state = MMP_STATE_HELD;
        v = vl_volume_json(&i);
        assert_null(json_object_get(v, "use"));
        json_decref(v);
}

static void volume_fields(void **state)
{
        struct volume_info i = held_info();
        json_t *v = vl_volume_json(&i);

        assert_non_null(v);
        assert_string_equal(json_string_value(json_object_get(v, "state")), "held");
        assert_int_equal(json_integer_value(json_object_get(v, "seq")), 7);
        assert_int_equal(json_integer_value(json_object_get(v, "last_heartbeat_age_usec")), MMP_USEC_PER_SEC);
        assert_int_equal(json_integer_value(json_object_get(v, "fence_at_usec")), i.sm.deadlines.fence_at);
        /* fence_at = 99 s + 21 s - 5 s = 115 s: 15 s after "now" */
        assert_int_equal(json_integer_value(json_object_get(v, "fence_at_wall")), 1700000015);
        assert_int_equal(json_integer_value(json_object_get(v, "wait_seconds")), 21);
        assert_non_null(json_object_get(v, "holder"));
        assert_null(json_object_get(v, "error"));
        json_decref(v);

        /* claiming, nothing written yet: no hold fields */
        i.state = MMP_STATE_CLAIMING;
        i.sm.last_good = 0;
        memset(&i.sm.deadlines, 0, sizeof(i.sm.deadlines));
        i.error = -EIO;
        v = vl_volume_json(&i);
        assert_null(json_object_get(v, "seq"));
        assert_null(json_object_get(v, "fence_at_usec"));
        assert_null(json_object_get(v, "last_heartbeat_usec"));
        assert_int_equal(json_integer_value(json_object_get(v, "wait_seconds")), 21);
        assert_string_equal(json_string_value(json_object_get(v, "error")), "Input/output error");
        json_decref(v);
}

static void strings_and_time(void **state)
{
        struct volume_info i = held_info();
        json_t *s = vl_json_string("node\xff\xfe-1");

        assert_non_null(s);
        assert_string_equal(json_string_value(s), "node\\xff\\xfe-1");
        json_decref(s);
        /* rounded down both ways */
        assert_int_equal(vl_wall_of(&i, 100 * MMP_USEC_PER_SEC + 1999999), 1700000001);
        assert_int_equal(vl_wall_of(&i, 100 * MMP_USEC_PER_SEC - 1), 1699999999);
        assert_int_equal(vl_wall_of(&i, 100 * MMP_USEC_PER_SEC), 1700000000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(table),
                cmocka_unit_test(volume_fields),
                cmocka_unit_test(use_errors),
                cmocka_unit_test(use_fields),
                cmocka_unit_test(strings_and_time),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
