/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmp's reply handling (lib/libmmp-*.c): framing, the reply envelope,
 * errors and the Volume/Event/MmpBlock decoders, through the public calls.
 *
 * Input: a selector byte, then what "mmpd" sends.  The client is libmmp's
 * own (struct mmp_client, as mmp_client_connect() builds it) on one end of
 * a socketpair; the fuzz bytes are written to the other end before any call
 * and that end is then shut for writing, so every call reads its replies
 * from them and no call can wait.  The calls run in order from the one the
 * selector picks, until the client dropped the connection (a malformed
 * reply) or all ran.  Every object a call returns is read back through the
 * public getters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libmmp.h"
#include "libmmp-internal.h"

#define N_CALLS 9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_volume(struct mmp_volume *v)
{
        const struct mmp_holder *h;
        uint32_t u32;
        uint64_t u64;
        int64_t i64;
        pid_t pid;

        if (!v)
                return;
        if (!mmp_volume_get_name(v) || !mmp_volume_get_device(v))
                abort();
        (void) mmp_volume_get_state(v);
        (void) mmp_volume_get_state_name(v);
        (void) mmp_volume_get_phase(v);
        (void) mmp_volume_is_static(v);
        (void) mmp_volume_get_failures(v);
        (void) mmp_volume_get_error(v);
        (void) mmp_volume_get_seq(v, &u32);
        (void) mmp_volume_get_update_interval(v, &u32);
        (void) mmp_volume_get_check_interval(v, &u32);
        (void) mmp_volume_get_wait_seconds(v, &u32);
        (void) mmp_volume_get_last_heartbeat_usec(v, &u64);
        (void) mmp_volume_get_last_heartbeat_age_usec(v, &u64);
        (void) mmp_volume_get_fence_at_usec(v, &u64);
        (void) mmp_volume_get_fence_at_wall(v, &i64);
        (void) mmp_volume_get_peer_write_at_usec(v, &u64);
        (void) mmp_volume_get_peer_use_at_usec(v, &u64);
        if (mmp_volume_in_use(v)) {
                (void) mmp_volume_get_use_user(v);
                (void) mmp_volume_get_use_mode(v);
                (void) mmp_volume_get_use_phase(v);
                (void) mmp_volume_get_use_pid(v, &pid);
                (void) mmp_volume_get_use_mount_point(v);
                (void) mmp_volume_get_use_keep(v);
                (void) mmp_volume_get_use_since_usec(v, &u64);
                (void) mmp_volume_get_use_last_change_usec(v, &u64);
                (void) mmp_volume_get_use_user_seq(v, &u32);
                (void) mmp_volume_get_use_user_node(v);
                (void) mmp_volume_get_use_user_device(v);
        }
        h = mmp_volume_get_holder(v);
        if (h && (!mmp_holder_get_node(h) || !mmp_holder_get_device(h)))
                abort();
        if (!mmp_volume_get_json(v))
                abort();
}

static int on_event(struct mmp_client *c, const struct mmp_volume_event *ev, void *userdata)
{
        uint64_t u64;

        (void) mmp_volume_event_get_type(ev);
        (void) mmp_volume_event_get_type_name(ev);
        (void) mmp_volume_event_get_reason(ev);
        (void) mmp_volume_event_get_io_usec(ev, &u64);
        (void) mmp_volume_event_get_json(ev);
        read_volume(mmp_volume_event_get_volume(ev));
        return 0;
}

static int on_go(struct mmp_client *c, struct mmp_volume *v, void *userdata)
{
        read_volume(v);
        return 0;
}

static void read_error(struct mmp_client *c)
{
        const struct mmp_error *e = mmp_client_last_error(c);
        uint32_t seq;

        if (!e)
                return;
        (void) mmp_error_get_errno(e);
        (void) mmp_error_get_name(e);
        (void) mmp_error_get_message(e);
        (void) mmp_error_get_device(e);
        (void) mmp_error_get_holder_node(e);
        (void) mmp_error_get_holder_device(e);
        (void) mmp_error_get_holder_seq(e, &seq);
        (void) mmp_error_get_parameters_json(e);
}

static void call(struct mmp_client *c, unsigned which)
{
        struct mmp_volume *v = NULL, **vs = NULL;
        struct mmp_check check = MMP_CHECK_INIT;
        struct mmp_block_info info = MMP_BLOCK_INFO_INIT;
        struct mmp_handoff_opts ho = MMP_HANDOFF_OPTS_INIT;
        size_t n = 0;
        int r = 0;

        switch (which) {
        case 0:
                r = mmp_list(c, &vs, &n);
                for (size_t i = 0; r == 0 && i < n; i++)
                        read_volume(vs[i]);
                mmp_list_free(vs, n);
                break;
        case 1:
                r = mmp_claim(c, "/dev/fuzz", "fuzz", on_event, NULL, &v);
                break;
        case 2:
                r = mmp_release(c, "/dev/fuzz", &v);
                break;
        case 3:
                r = mmp_check(c, "/dev/fuzz", &check);
                read_volume(check.volume);
                mmp_check_clear(&check);
                break;
        case 4:
                r = mmp_inspect(c, "/dev/fuzz", &info);
                if (r == 0 && (!memchr(info.node, '\0', sizeof(info.node)) ||
                               !memchr(info.device, '\0', sizeof(info.device))))
                        abort();
                break;
        case 5:
                ho.user = MMP_USE_KERNEL;
                ho.mount_point = "/mnt";
                r = mmp_handoff(c, "/dev/fuzz", &ho, on_go, NULL, &v);
                break;
        case 6:
                ho.user = MMP_USE_TOOL;
                ho.pid = getpid();
                ho.mode = MMP_HANDOFF_MODE_WAIT;
                r = mmp_handoff(c, "/dev/fuzz", &ho, on_go, NULL, &v);
                break;
        case 7:
                r = mmp_end_use(c, "/dev/fuzz", 1, &v);
                break;
        default:
                r = mmp_watch(c, on_event, NULL);
                break;
        }
        if (r < 0)
                read_error(c);
        else
                read_volume(v);
        mmp_volume_unref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mmp_client *c;
        size_t off;
        int sv[2], big = 4 * 1024 * 1024;

        if (size < 1 || size > 1024 * 1024)
                return -1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        /* As root SO_SNDBUFFORCE lifts the limit; else the input may be cut. */
        if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
                (void) setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
        for (off = 1; off < size;) {
                ssize_t w = send(sv[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);

                if (w <= 0)
                        break;
                off += (size_t) w;
        }
        shutdown(sv[1], SHUT_WR);

        c = calloc(1, sizeof(*c));
        if (!c)
                abort();
        wire_init(&c->wire, sv[0]);
        /* Never reached: a dropped connection ends the run below. */
        c->path = strdup("/nonexistent/mmpd-fuzz");
        c->timeout_usec = 1000000;
        if (!c->path)
                abort();
        for (unsigned i = 0; i < N_CALLS && c->wire.fd >= 0; i++)
                call(c, (data[0] + i) % N_CALLS);
        mmp_client_free(c);
        close(sv[1]);
        return 0;
}
