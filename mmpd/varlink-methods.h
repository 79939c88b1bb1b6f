/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control server: io.mmpd (io.mmpd.varlink) on mmpd's varlink socket.
 * The server itself (socket, connections, limits, dispatch,
 * org.varlink.service) is varlink-server.h, which knows nothing of io.mmpd;
 * varlink-methods.c registers io.mmpd's methods with it and runs them on
 * the manager (manager.h).
 *
 * Claim and Release need root or admin_group; the other methods are open
 * to every peer.  Device reads (Inspect) run on a short-lived thread with a
 * deadline (offload.h), never on the loop.
 */
#pragma once

#include <ev.h>

#include "varlink-server.h"

#define VARLINK_INSPECT_TIMEOUT  10.0              /* seconds */
#define VARLINK_MAX_INSPECTS     16                /* Inspect threads alive at once */

struct manager;

/* The IDL text, generated from mmpd/io.mmpd.varlink at build time
 * (varlink.mk), served by GetInterfaceDescription. */
extern const char varlink_io_mmpd_idl[];

/*
 * A varlink server (varlink_transport_new(), same @opts) with io.mmpd
 * registered for @manager.  Listen with varlink_server_listen_path() or
 * _adopt_fd(); varlink_server_free() ends it.  Call varlink_server_free()
 * before manager_free(): io.mmpd's calls hold subscriptions.
 */
int varlink_server_new(struct ev_loop *loop, struct manager *manager,
                       const struct varlink_options *opts, struct varlink_server **ret);
