/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What mmpd reads on resume from systemd's fd store (mmpd/systemd.c,
 * mmpd_systemd_new): the fd names and the "mmpd-state" memfd with its
 * header and per-slot records.
 *
 * Input: the fd names, ':'-separated as in $LISTEN_FDNAMES, up to the first
 * '\n' (at most MAX_FDS), then the bytes of the state memfd.  Each fd named
 * "mmpd-state" is a memfd holding those bytes; every other one an empty
 * memfd.  systemd.c is compiled in with sd_listen_fds_with_names(), the
 * notify calls and SD_LISTEN_FDS_START redirected here, so the fds sit at
 * FD_BASE instead of 3 (libFuzzer's own fds are left alone).  After
 * mmpd_systemd_free() every passed fd must be closed and each stored volume
 * must have had NUL-terminated, non-empty strings.
 */
#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#define MAX_FDS 16
#define FD_BASE 700

static char **fuzz_names;
static int fuzz_n;

static int fuzz_listen_fds_with_names(int unset_environment, char ***names)
{
        *names = fuzz_names;
        fuzz_names = NULL;
        return fuzz_n;
}

static int fuzz_sd_notify(int unset_environment, const char *state)
{
        return 0;
}

static int fuzz_sd_pid_notify_with_fds(pid_t pid, int unset_environment, const char *state,
                                       const int *fds, unsigned n_fds)
{
        return 0;
}

#undef SD_LISTEN_FDS_START
#define SD_LISTEN_FDS_START FD_BASE
#define sd_listen_fds_with_names fuzz_listen_fds_with_names
#define sd_notify fuzz_sd_notify
#define sd_pid_notify_with_fds fuzz_sd_pid_notify_with_fds
#include "mmpd/systemd.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_with(const uint8_t *p, size_t len)
{
        int fd = memfd_create("fuzz", MFD_CLOEXEC);

        if (fd < 0 || (len && pwrite(fd, p, len, 0) != (ssize_t) len))
                abort();
        return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nl = memchr(data, '\n', size);
        const uint8_t *state;
        size_t names_len, state_len;
        struct mmpd_systemd *s = NULL;
        char *list;
        int n = 0;

        if (!nl || size > 1024 * 1024)
                return -1;
        log_set_max_level(LOG_EMERG);
        names_len = (size_t) (nl - data);
        state = nl + 1;
        state_len = size - names_len - 1;
        list = malloc(names_len + 1);
        fuzz_names = calloc(MAX_FDS + 1, sizeof(char *));
        if (!list || !fuzz_names)
                abort();
        memcpy(list, data, names_len);
        list[names_len] = '\0';
        /* Empty names as systemd gives them: "unknown". */
        for (char *p = list, *tok; n < MAX_FDS && (tok = strsep(&p, ":")); n++) {
                int fd;

                fuzz_names[n] = strdup(*tok ? tok : "unknown");
                if (!fuzz_names[n])
                        abort();
                fd = strcmp(tok, "mmpd-state") == 0 ? memfd_with(state, state_len) : memfd_with(NULL, 0);
                if (dup3(fd, FD_BASE + n, O_CLOEXEC) < 0)
                        abort();
                close(fd);
        }
        free(list);
        fuzz_n = n;

        if (mmpd_systemd_new(&s) < 0)
                abort();
        for (unsigned i = 0; i < mmpd_systemd_n_stored(s); i++) {
                const struct mmpd_sd_volume *v = mmpd_systemd_stored(s, i);

                if (v->fd < FD_BASE || v->fd >= FD_BASE + n || !v->name[0] || !v->device[0] || !v->node[0] ||
                    strlen(v->name) >= 128 || strlen(v->device) >= 256 || strlen(v->node) >= 72)
                        abort();
                mmpd_systemd_keep(s, v->slot);
        }
        if (mmpd_systemd_varlink_fd(s) >= 0 &&
            (mmpd_systemd_varlink_fd(s) < FD_BASE || mmpd_systemd_varlink_fd(s) >= FD_BASE + n))
                abort();
        mmpd_systemd_free(s);
        for (int i = 0; i < n; i++)
                if (fcntl(FD_BASE + i, F_GETFD) >= 0)
                        abort();        /* an inherited fd leaked */
        free(fuzz_names);               /* when mmpd_systemd_new() did not take it */
        fuzz_names = NULL;
        return 0;
}
