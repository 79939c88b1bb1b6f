/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl metrics' text without a daemon: reads {"volumes": [Volume...],
 * "daemon": {Daemon reply} (optional)} on stdin and writes what `mmpctl
 * metrics` would print for it (mmpctl/openmetrics.c).
 */
#include <stdio.h>

#include <jansson.h>

#include "openmetrics.h"

int main(void)
{
        json_error_t e;
        json_t *in = json_loadf(stdin, 0, &e);
        int r;

        if (!json_is_object(in)) {
                fprintf(stderr, "openmetrics-render: bad input: %s\n", e.text);
                return 2;
        }
        r = mmpctl_openmetrics_write(stdout, json_object_get(in, "volumes"), json_object_get(in, "daemon"));
        json_decref(in);
        return r < 0 ? 1 : 0;
}
