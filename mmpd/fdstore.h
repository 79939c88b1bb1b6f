/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fd store as a subscriber of volume events: a held volume gets a
 * record and a shared fd in systemd's fd store (systemd.h), its heartbeats
 * keep the record current, and a volume that is released, lost, refused or
 * handed to a local user is forgotten.  At start, the holds a previous mmpd
 * left there are resumed through the manager.
 */
#pragma once

#include "manager.h"
#include "systemd.h"

struct fdstore;

int fdstore_new(struct manager *m, struct mmpd_systemd *sd, struct fdstore **ret);
struct fdstore *fdstore_free(struct fdstore *fs);
/* Resume every hold in the store (once, before the static claims). */
void fdstore_resume(struct fdstore *fs);
