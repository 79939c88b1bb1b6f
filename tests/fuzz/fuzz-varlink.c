/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw bytes into the control server (framing, JSON, dispatch,
 * org.varlink.service, io.mmpd) as a peer with uid FUZZ_PEER_UID: built
 * twice, as root (fuzz-varlink-root) and as an unprivileged user with no
 * admin group (fuzz-varlink-unpriv: the smaller message limit, refused
 * privileged methods, Inspect with the peer's own credentials).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-server.h"

#ifndef FUZZ_PEER_UID
#error "FUZZ_PEER_UID"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_server_run(data, size, FUZZ_PEER_UID, FUZZ_PEER_UID);
        return 0;
}
