/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config loader (mmpd/conf.c): the input is written to a temporary
 * file, which mmpd_conf_load() reads as mmpd reads /etc/mmpd/mmpd.conf.
 * A config that loads must name itself consistently: every volume is found
 * by its own name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char path[] = "/tmp/mmpd-fuzz-conf.XXXXXX";
static int fd = -1;

static void cleanup(void)
{
        unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mmpd_conf *conf = NULL;
        char *error = NULL;
        int r;

        if (fd < 0) {
                fd = mkstemp(path);
                if (fd < 0)
                        abort();
                atexit(cleanup);
        }
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
                abort();
        r = mmpd_conf_load(path, true, &conf, &error);
        if (r == 0) {
                if (!conf)
                        abort();
                for (size_t i = 0; i < conf->n_volumes; i++)
                        if (mmpd_conf_find_volume(conf, conf->volumes[i].name) != &conf->volumes[i])
                                abort();
        } else if (conf) {
                abort();                /* *ret untouched on failure */
        }
        mmpd_conf_free(conf);
        free(error);
        return 0;
}
