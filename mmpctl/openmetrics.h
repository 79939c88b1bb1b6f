/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl metrics: mmpd's volumes and daemon statistics as OpenMetrics text
 * (mmpctl/openmetrics.c), for node_exporter's textfile collector.  A pure
 * function of io.mmpd's JSON, so it is tested without a daemon.
 */
#pragma once

#include <stdio.h>

#include <jansson.h>

/*
 * Write the exposition to @out, ending with "# EOF".  @volumes: a JSON
 * array of io.mmpd Volume objects (List); @daemon: the reply of
 * io.mmpd.Daemon, or NULL when mmpd does not offer it (then the daemon's
 * own metrics are left out, the per-volume ones are still written).
 * Fields a Volume lacks (no seq yet, no stats before the first I/O) leave
 * out their samples.  Returns 0, or -EIO when @out failed.
 */
int mmpctl_openmetrics_write(FILE *out, json_t *volumes, json_t *daemon);
