/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The real control server (mmpd/varlink*.c) with the fake registry of
 * tests/varlink, fed bytes over a socketpair, for the libFuzzer harnesses.
 *
 * SO_PEERCRED cannot be faked on a socketpair, so the connection is made
 * with vl_conn_new() (varlink-internal.h), the function accept hands each
 * new connection to, with the credentials the harness chooses: every path
 * below accept is the production one, access checks included.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Send @data to a fresh server as a peer with @uid/@gid, close our writing
 * side, run the loop until the server closed the connection (or a bound of
 * loop time), then free everything.  Every reply must be a NUL-terminated
 * JSON object with "parameters" (object) or "error" (string): abort()
 * otherwise. */
void fuzz_server_run(const uint8_t *data, size_t size, uid_t uid, gid_t gid);
