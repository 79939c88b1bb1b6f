/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake mmpd for client tests: speaks NUL-framed varlink on a unix socket
 * and answers io.mmpd calls with canned JSON picked by method and device.
 * libc only (no JSON library), so test-libmmp links nothing but libmmp.
 *
 * Devices and what every device method answers for them:
 *   /dev/loop1   held by this node (volume "data")
 *   /dev/loop0   refused: node 'b' (device sdc, seq 1234) holds it;
 *                a streamed Claim shows two progress events first
 *   /dev/loop2   Claim: five progress events, then held (with a "claimed" event)
 *   /dev/claiming  Claim: AlreadyClaimed(claiming); Check: may not use (claiming)
 *   /dev/expired Check: held but the fence deadline has passed
 *   /dev/lost, /dev/refusedvol  Claim: a final reply in state lost/refused
 *   /dev/fsck /dev/notmmp /dev/corrupt /dev/ioerr /dev/denied /dev/full
 *   /dev/failed /dev/none          the matching varlink error
 *   /dev/slow     no reply at all      /dev/hangup   close the connection
 *   /dev/huge     a reply longer than 16 MiB      /dev/garbage  not JSON
 *   /dev/notobj   a JSON array         /dev/badvol   a volume without a name
 *   /dev/loop3   in use: mounted by the kernel on /srv (List, Check)
 *   /dev/handoff-*  held, as /dev/loop1 (Check)
 *   Handoff: /dev/loop1 and /dev/loop2 say go, then in use (the use echoes
 *     the request's user, pid, mount_point, keep); /dev/handoff-failed says
 *     go, then HandoffFailed; /dev/handoff-ended says go, then ends with
 *     the volume released; /dev/handoff-nogo ends without go;
 *     /dev/claiming: NotHeld; /dev/oldmmpd: MethodNotFound
 *   EndUse: /dev/loop1, /dev/loop2 and /dev/handoff-* released, or claiming
 *     with keep (/dev/handoff-failed: always claiming);
 *     /dev/busy: UseInProgress; /dev/claiming: NotHeld
 * Watch streams seven events (the last of an unknown type), then ends as
 * told by fake_options.watch_end.  "test.Quit" ends fake_serve() with 1.
 */
#pragma once

#include <stddef.h>

enum fake_watch_end {
        FAKE_WATCH_HOLD,    /* keep the call open: read the next message */
        FAKE_WATCH_CLOSE,   /* close the connection */
        FAKE_WATCH_FINAL,   /* a last reply without "continues" */
};

struct fake_options {
        enum fake_watch_end watch_end;
};

/* Listen on @path (replacing a stale socket there).  Bound and listening
 * before the path appears, so a client never sees ECONNREFUSED.  Returns
 * the fd or -errno. */
int fake_listen(const char *path);

/* Serve one connection until end of file (0) or test.Quit (1). */
int fake_serve(int fd, const struct fake_options *opt);

/* The last request received, as text. */
void fake_last_request(char *buf, size_t size);
