/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * systemd glue: socket activation, and the fd store with its state memfd.
 * See systemd.h for the scheme.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "systemd.h"

#define FDNAME_VARLINK "varlink"
#define FDNAME_STATE   "mmpd-state"
#define FDNAME_VOL     "mmpd-vol-"

#define STATE_MAGIC    0x5441545344504d4dull   /* "MMPDSTAT" */
#define STATE_VERSION  1u
#define RECORD_MAGIC   0x4c4f564du             /* "MVOL" */
#define RECORD_SIZE    512u

/* Host byte order: the memfd never leaves this boot of this machine. */
struct state_header {
        uint64_t magic;
        uint32_t version;
        uint32_t record_size;
};

struct record {
        uint32_t magic;            /* RECORD_MAGIC in use, 0 free */
        /* Updated in place at each heartbeat, in one pwrite: */
        uint32_t seq;
        uint16_t check_interval;
        uint16_t reserved0;
        uint32_t reserved1;
        uint64_t last_good;        /* CLOCK_BOOTTIME usec */
        /* Written once: */
        char name[128];
        char device[256];
        char node[72];
        uint8_t reserved2[RECORD_SIZE - 24 - 128 - 256 - 72];
};
static_assert(sizeof(struct record) == RECORD_SIZE, "record size");
static_assert(sizeof(struct state_header) <= RECORD_SIZE, "header size");

#define UPDATE_OFFSET offsetof(struct record, seq)
#define UPDATE_SIZE   (offsetof(struct record, name) - UPDATE_OFFSET)

struct stored {
        struct mmpd_sd_volume vol;
        struct record rec;
};

struct mmpd_systemd {
        bool enabled;              /* $NOTIFY_SOCKET: a manager to store fds with */
        int varlink_fd;
        int state_fd;              /* the memfd, -1 until first needed */
        bool *used;                /* slot -> in use */
        unsigned n_used_cap;
        struct stored *stored;     /* from the previous mmpd, until _done() */
        unsigned n_stored;
};

static off_t slot_offset(unsigned slot)
{
        return (off_t) (slot + 1) * RECORD_SIZE;     /* record 0 is the header */
}

static int mark_used(struct mmpd_systemd *s, unsigned slot, bool used)
{
        if (slot >= s->n_used_cap) {
                unsigned cap = s->n_used_cap ? s->n_used_cap : 64;
                bool *p;

                while (cap <= slot)
                        cap *= 2;
                p = realloc(s->used, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                memset(p + s->n_used_cap, 0, (cap - s->n_used_cap) * sizeof(*p));
                s->used = p;
                s->n_used_cap = cap;
        }
        s->used[slot] = used;
        return 0;
}

static int notify_fd(int fd, const char *fmt_name, unsigned slot)
{
        char msg[128];

        if (fmt_name)
                snprintf(msg, sizeof(msg), "FDSTORE=1\nFDPOLL=0\nFDNAME=" FDNAME_VOL "%u", slot);
        else
                snprintf(msg, sizeof(msg), "FDSTORE=1\nFDPOLL=0\nFDNAME=" FDNAME_STATE);
        return sd_pid_notify_with_fds(0, 0, msg, &fd, 1);
}

static int state_open(struct mmpd_systemd *s)
{
        struct state_header h = {
                .magic = STATE_MAGIC, .version = STATE_VERSION, .record_size = RECORD_SIZE,
        };
        int fd, r;

        if (s->state_fd >= 0)
                return 0;
        fd = memfd_create(FDNAME_STATE, MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)) {
                close(fd);
                return -EIO;
        }
        r = notify_fd(fd, NULL, 0);
        if (r <= 0) {
                close(fd);
                return r < 0 ? r : -EOPNOTSUPP;
        }
        s->state_fd = fd;
        return 0;
}

/* ---- start: what the previous mmpd left ---------------------------------- */

static void names_free(char **names)
{
        if (!names)
                return;
        for (char **p = names; *p; p++)
                free(*p);
        free(names);
}

static bool parse_vol_name(const char *name, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (strncmp(name, FDNAME_VOL, strlen(FDNAME_VOL)) != 0)
                return false;
        name += strlen(FDNAME_VOL);
        if (*name < '0' || *name > '9')
                return false;
        errno = 0;
        v = strtoul(name, &end, 10);
        if (errno || *end || v > 1000000)
                return false;
        *ret = (unsigned) v;
        return true;
}

static bool state_valid(int fd)
{
        struct state_header h;

        return pread(fd, &h, sizeof(h), 0) == (ssize_t) sizeof(h) && h.magic == STATE_MAGIC &&
               h.version == STATE_VERSION && h.record_size == RECORD_SIZE;
}

static void drop_stored_fd(int fd, unsigned slot)
{
        char msg[64];

        snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=" FDNAME_VOL "%u", slot);
        sd_notify(0, msg);
        close(fd);
}

static bool string_ok(const char *s, size_t size)
{
        return memchr(s, '\0', size) && s[0];
}

static void take_volume(struct mmpd_systemd *s, int fd, unsigned slot)
{
        struct stored *st;
        struct record rec;

        if (s->state_fd < 0 ||
            pread(s->state_fd, &rec, sizeof(rec), slot_offset(slot)) != (ssize_t) sizeof(rec) ||
            rec.magic != RECORD_MAGIC || !string_ok(rec.name, sizeof(rec.name)) ||
            !string_ok(rec.device, sizeof(rec.device)) || !string_ok(rec.node, sizeof(rec.node))) {
                log_warning("fd store: device fd for slot %u has no state record: dropping it", slot);
                drop_stored_fd(fd, slot);
                return;
        }
        st = &s->stored[s->n_stored++];
        st->rec = rec;
        st->vol = (struct mmpd_sd_volume) {
                .slot = slot, .fd = fd,
                .name = st->rec.name, .device = st->rec.device, .node = st->rec.node,
                .seq = rec.seq, .check_interval = rec.check_interval, .last_good = rec.last_good,
        };
        mark_used(s, slot, true);
}

int mmpd_systemd_new(struct mmpd_systemd **ret)
{
        _cleanup_free_ struct mmpd_systemd *s = NULL;
        char **names = NULL;
        int n, i;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->varlink_fd = s->state_fd = -1;
        s->enabled = getenv("NOTIFY_SOCKET") != NULL;

        n = sd_listen_fds_with_names(1, &names);
        if (n < 0) {
                log_warning("cannot read the fds systemd passed: %s", strerror(-n));
                n = 0;
        }
        /* The state memfd first: the volume fds need it. */
        for (i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;

                if (strcmp(names[i], FDNAME_STATE) == 0 && s->state_fd < 0 && state_valid(fd))
                        s->state_fd = fd;
        }
        s->stored = calloc(n > 0 ? (size_t) n : 1, sizeof(*s->stored));
        if (!s->stored) {
                names_free(names);
                return -ENOMEM;
        }
        for (i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                unsigned slot;

                if (fd == s->state_fd)
                        continue;
                if (strcmp(names[i], FDNAME_VARLINK) == 0 && s->varlink_fd < 0) {
                        s->varlink_fd = fd;
                } else if (parse_vol_name(names[i], &slot) && (slot >= s->n_used_cap || !s->used[slot])) {
                        take_volume(s, fd, slot);
                } else {
                        /* Includes a stale "mmpd-state" we could not read. */
                        log_warning("fd store: unexpected fd named '%s': dropping it", names[i]);
                        if (strcmp(names[i], "unknown") != 0) {
                                char msg[300];

                                snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", names[i]);
                                sd_notify(0, msg);
                        }
                        close(fd);
                }
        }
        names_free(names);
        if (s->n_stored)
                log_info("fd store: %u held volume(s) to resume", s->n_stored);
        *ret = s;
        s = NULL;
        return 0;
}

struct mmpd_systemd *mmpd_systemd_free(struct mmpd_systemd *s)
{
        if (!s)
                return NULL;
        mmpd_systemd_stored_done(s);
        if (s->varlink_fd >= 0)
                close(s->varlink_fd);
        if (s->state_fd >= 0)
                close(s->state_fd);
        free(s->used);
        free(s);
        return NULL;
}

int mmpd_systemd_varlink_fd(const struct mmpd_systemd *s) { return s->varlink_fd; }
void mmpd_systemd_took_varlink(struct mmpd_systemd *s) { s->varlink_fd = -1; }
unsigned mmpd_systemd_n_stored(const struct mmpd_systemd *s) { return s->n_stored; }

const struct mmpd_sd_volume *mmpd_systemd_stored(const struct mmpd_systemd *s, unsigned i)
{
        return i < s->n_stored ? &s->stored[i].vol : NULL;
}

void mmpd_systemd_stored_done(struct mmpd_systemd *s)
{
        for (unsigned i = 0; i < s->n_stored; i++)
                if (s->stored[i].vol.fd >= 0)
                        close(s->stored[i].vol.fd);
        free(s->stored);
        s->stored = NULL;
        s->n_stored = 0;
}

/* ---- while running -------------------------------------------------------- */

int mmpd_systemd_store(struct mmpd_systemd *s, int fd, const char *name, const char *device,
                       const char *node)
{
        struct record rec = { .magic = RECORD_MAGIC };
        unsigned slot;
        int r;

        if (!s->enabled)
                return -EOPNOTSUPP;
        if (strlen(name) >= sizeof(rec.name) || strlen(device) >= sizeof(rec.device) ||
            strlen(node) >= sizeof(rec.node))
                return -ENAMETOOLONG;
        r = state_open(s);
        if (r < 0)
                return r;
        for (slot = 0; slot < s->n_used_cap && s->used[slot]; slot++)
                ;
        r = mark_used(s, slot, true);
        if (r < 0)
                return r;
        memcpy(rec.name, name, strlen(name));
        memcpy(rec.device, device, strlen(device));
        memcpy(rec.node, node, strlen(node));
        /* The record first: a device fd without one is dropped at start. */
        if (pwrite(s->state_fd, &rec, sizeof(rec), slot_offset(slot)) != (ssize_t) sizeof(rec)) {
                mark_used(s, slot, false);
                return -EIO;
        }
        r = notify_fd(fd, FDNAME_VOL, slot);
        if (r <= 0) {
                mmpd_systemd_forget(s, slot);
                return r < 0 ? r : -EOPNOTSUPP;
        }
        return (int) slot;
}

void mmpd_systemd_keep(struct mmpd_systemd *s, unsigned slot)
{
        mark_used(s, slot, true);
}

void mmpd_systemd_update(struct mmpd_systemd *s, unsigned slot, uint32_t seq,
                         uint16_t check_interval, mmp_usec_t last_good)
{
        struct record rec = { .seq = seq, .check_interval = check_interval, .last_good = last_good };

        if (s->state_fd < 0)
                return;
        /* One small pwrite: a crash leaves the old or the new values. */
        if (pwrite(s->state_fd, (const char *) &rec + UPDATE_OFFSET, UPDATE_SIZE,
                   slot_offset(slot) + (off_t) UPDATE_OFFSET) != (ssize_t) UPDATE_SIZE)
                log_warning("fd store: cannot update the state of slot %u: %m", slot);
}

void mmpd_systemd_forget(struct mmpd_systemd *s, unsigned slot)
{
        static const uint32_t zero;
        char msg[64];

        if (s->state_fd >= 0)
                (void) !pwrite(s->state_fd, &zero, sizeof(zero), slot_offset(slot));
        snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=" FDNAME_VOL "%u", slot);
        sd_notify(0, msg);
        mark_used(s, slot, false);
}
