/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmp-sim: a deterministic discrete-event simulator of several MMP parties
 * on one simulated disk (docs/simulator.md).  sim.c has the world (event
 * queue, disk, I/O, invariant, reports); sim-party.c has the parties: mmpd
 * nodes running the real lib/mmp-sm.c, kernel mounts and e2fsprogs tools.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "mmp-sm.h"

#define BS 4096
#define MAX_PARTIES 10
#define MAX_STALLS 3

typedef mmp_usec_t usec_t;
#define MS(x) ((usec_t) (x) * 1000)
#define SEC(x) ((usec_t) (x) * MMP_USEC_PER_SEC)
#define NEVER MMP_USEC_INFINITY

enum ptype { P_MMPD, P_KERNEL, P_TOOL };

/* ---- I/O ------------------------------------------------------------------ */

struct io {
        int owner;            /* party index */
        unsigned inc;         /* owner's incarnation at submit */
        bool write;
        bool landed, done;    /* landed: took effect on / sampled the disk */
        int err;              /* completion error (0 ok) */
        usec_t submit, land, complete;
        uint8_t buf[BS];      /* write: what lands; read: what was sampled */
        int writer;           /* read: party of the last write it saw */
        int tag;              /* peers: the step it is for */
        int next_free;
};

/* ---- parties -------------------------------------------------------------- */

/* A kernel mount (fs/ext4/mmp.c) or an e2fsprogs read-write open. */
struct peer {
        int step;             /* position in the claim sequence (sim-party.c) */
        int io;               /* I/O in flight, -1 none */
        uint8_t blk[BS];      /* the buffer it works on (as read, modified) */
        uint32_t seq;         /* first read's seq / our claim seq */
        unsigned wait_s;
        bool clean_path;      /* the first read found CLEAN */
        int clean_from;       /* who wrote that CLEAN */
        unsigned gen;         /* sleeps: stale wake-ups are dropped */
        usec_t claim_land;    /* its claim seq landed (0: not yet) */
        usec_t use_land;      /* its first write after the claim wait landed */
        bool using;           /* mounted / FSCK written and not closed */
        usec_t use_since;
        bool stopping;        /* kernel: unmount or shutdown asked */
        bool shutdown;        /* kernel: FS_IOC_SHUTDOWN (CLEAN at next tick) */
        uint32_t kseq;        /* kmmpd's counter */
        unsigned kci;         /* kmmpd's check_interval */
        usec_t kwrite_at;     /* kmmpd: last write's start */
        usec_t hold;          /* how long to stay mounted / hold FSCK */
        int retries;          /* independent peers: attempts left */
        bool killed;          /* tool: killed (leaves FSCK) */
        bool finished;
        int handed_by;        /* mmpd party that handed it off, -1 */
        bool peer_double;     /* this use was shared with another peer alone */
        const char *host;     /* its node's host name */
        const char *bdev;
};

struct record {               /* the fd-store record of a held volume */
        bool valid;
        uint32_t seq;
        uint16_t ci;
        usec_t last_good;
};

struct mmpd {
        struct mmp_sm *sm;
        char nodename[32];
        char hostname[32];
        const char *local_names[2];
        bool spread;
        usec_t slot;
        unsigned timer_gen;
        usec_t armed_at;
        /* the I/O engine: one request; a timed-out one still owns it */
        int io;               /* in the kernel (or timed out and still there), -1 */
        bool io_timed_out;
        bool has_pending;
        struct mmp_action pending;
        uint8_t pending_buf[BS];
        struct record rec;
        bool alive;           /* process running (false between kill and restart) */
        bool probing;         /* resume: the probe read */
        int claims_left;
        int local_user;       /* party index of the handed-off user, -1 */
        enum mmp_user next_user;
        enum mmp_state last_state;
        struct mmp_sm_status st;  /* after the last step (kept when killed) */
        bool spinning;
        bool wants;           /* a (re)started process claims it */
        usec_t born;
        unsigned cmd_gen;
        usec_t stall_from[MAX_STALLS], stall_to[MAX_STALLS];
        int nstalls;
        usec_t restart_at;    /* NEVER: no restart */
        usec_t restart_delay;
};

struct party {
        enum ptype type;
        int node;             /* parties with the same node are one host */
        char name[16];
        unsigned inc;         /* incarnation (mmpd restarts) */
        /* I/O behaviour */
        unsigned p_slow, p_hang, p_err;   /* per mille */
        bool trigger;         /* start when a write lands (+0-2 ms read) */
        int trigger_n;
        usec_t start_at;
        union {
                struct peer k;   /* P_KERNEL, P_TOOL */
                struct mmpd m;   /* P_MMPD */
        };
};

/* peer steps (E_PEER arg = gen << 16 | step) */
enum {
        PS_START = 1, PS_WAIT1, PS_WAIT2, PS_KMMPD, PS_HOLD_END, PS_KILL, PS_SHUTDOWN, PS_RETRY,
        /* what the I/O in flight is for */
        PS_READ1, PS_READ2, PS_WCLAIM, PS_READ3, PS_WFSCK, PS_CLOSE_READ, PS_WCLEAN, PS_KWRITE,
};

/* ---- events --------------------------------------------------------------- */

enum evtype {
        E_IO_LAND, E_IO_DONE, E_IO_TIMEOUT,
        E_TIMER,              /* mmpd: sm timer (arg = generation) */
        E_CMD,                /* mmpd: a driver decision (arg = command) */
        E_KILL, E_RESTART,    /* mmpd process killed / started again */
        E_PEER,               /* kernel/tool: its own sleep ended (arg = step) */
        E_START,
};

struct event {
        usec_t t;
        uint64_t order;
        enum evtype type;
        int party;
        uint64_t arg;
        unsigned inc;
};

/* ---- counters ------------------------------------------------------------- */

struct stats {
        uint64_t trials, events;
        uint64_t violations, clean_hole_kk, clean_hole_handoff, peer_other;
        uint64_t claimed, refused, lost, fenced, released, resumes, resume_lost;
        uint64_t handoffs, in_use, use_ended_ok, use_ended_err, kernel_mounts, kernel_refused;
        uint64_t tool_ok, tool_failed, tool_killed, stalls, restarts, io_timeouts, late_lands;
        uint64_t timer_spins, stale_clean, first_stale_clean, peer_slow, first_violation_late;
        uint64_t late_double, first_late_double;
        uint64_t hb_overwrites;   /* a held heartbeat write landed over another party's write */
        uint64_t after_peers, first_after_peers;
        uint64_t lost_reason[8];
};

/* ---- the world ------------------------------------------------------------ */

struct world {
        uint64_t seed;
        uint64_t rng;
        usec_t now, horizon;
        unsigned upd;
        struct mmp_sb sb;
        uint8_t disk[BS];
        uint64_t writes_landed;
        uint32_t last_writer;   /* party of the last landed write */
        struct party p[MAX_PARTIES];
        int np;
        struct event *q;
        unsigned nq, capq;
        uint64_t order;
        struct io *ios;
        int nios, capios, free_io;
        bool verbose, strict;
        struct stats *st;
        int violation;          /* 0, or the kind found (1 = ours) */
        bool late_landing;      /* a timed-out mmpd write landed late */
        char why[512];
};

extern struct world *W_;

uint64_t rnd(struct world *w);
uint64_t rnd_range(struct world *w, uint64_t lo, uint64_t hi);   /* [lo, hi] */
bool chance(struct world *w, unsigned per_mille);

void schedule(struct world *w, usec_t t, enum evtype type, int party, uint64_t arg);
void logf_(struct world *w, int party, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define LOG(w, p, ...) do { if ((w)->verbose) logf_((w), (p), __VA_ARGS__); } while (0)
const char *blk_text(struct world *w, const uint8_t *buf, char *out, size_t len);

/* I/O: start one for @party; E_IO_LAND and E_IO_DONE (and E_IO_TIMEOUT
 * when @timeout) follow.  Returns the io index. */
int io_start(struct world *w, int party, bool write, const void *data, usec_t timeout);
void io_put(struct world *w, int io);

/* sim-party.c */
void party_setup(struct world *w);
void party_event(struct world *w, struct event *e);
void party_io_done(struct world *w, int party, int io);
void party_io_timeout(struct world *w, int party, int io);
void party_teardown(struct world *w);
void mmpd_new_sm(struct world *w, int i);
bool mmpd_may_use(struct world *w, int i);
enum mmp_state mmpd_state(struct world *w, int i);
bool in_stall(struct world *w, int party, usec_t t, usec_t *until);
