/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmp-sim: randomized, deterministic trials of mmpd nodes (the real
 * lib/mmp-sm.c), kernel mounts and e2fsprogs tools on one simulated MMP
 * block, checking after every event that no two nodes may use the volume
 * at once.  See docs/simulator.md.
 *
 *   mmp-sim [--trials N] [--seed S] [--replay SEED] [--verbose] [--keep-going] [--tap]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

/* ---- randomness: splitmix64, one stream per trial -------------------------- */

static uint64_t splitmix(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

uint64_t rnd(struct world *w)
{
        return splitmix(&w->rng);
}

uint64_t rnd_range(struct world *w, uint64_t lo, uint64_t hi)
{
        return hi <= lo ? lo : lo + rnd(w) % (hi - lo + 1);
}

bool chance(struct world *w, unsigned per_mille)
{
        return rnd(w) % 1000 < per_mille;
}

static uint64_t trial_seed(uint64_t seed, uint64_t i)
{
        uint64_t x = seed ^ (i * UINT64_C(0xD1B54A32D192ED03));

        return splitmix(&x);
}

/* ---- timeline ------------------------------------------------------------- */

const char *blk_text(struct world *w, const uint8_t *buf, char *out, size_t len)
{
        struct mmp_block b;
        int r = mmp_block_decode(&w->sb, buf, BS, &b);
        const char *s;
        char tmp[16];

        if (r < 0 && r != -EBADMSG && r != -EUCLEAN) {
                snprintf(out, len, "<undecodable %d>", r);
                return out;
        }
        switch (mmp_seq_classify(b.seq)) {
        case MMP_SEQ_CLASS_CLEAN: s = "CLEAN"; break;
        case MMP_SEQ_CLASS_FSCK:  s = "FSCK"; break;
        default: snprintf(tmp, sizeof(tmp), "%#x", b.seq); s = tmp; break;
        }
        snprintf(out, len, "[%s %s/%s ci=%u%s]", s, b.nodename, b.bdevname, b.check_interval,
                 r < 0 ? " BAD" : "");
        return out;
}

void logf_(struct world *w, int party, const char *fmt, ...)
{
        char d[128];
        va_list ap;

        printf("%12.6f  %-8s ", (double) w->now / MMP_USEC_PER_SEC, party >= 0 ? w->p[party].name : "-");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("  disk=%s\n", blk_text(w, w->disk, d, sizeof(d)));
}

/* ---- event queue: a binary min-heap on (t, order) -------------------------- */

static bool ev_less(const struct event *a, const struct event *b)
{
        return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void q_push(struct world *w, struct event e)
{
        unsigned i;

        if (w->nq == w->capq) {
                w->capq = w->capq ? 2 * w->capq : 256;
                w->q = realloc(w->q, w->capq * sizeof(*w->q));
                if (!w->q)
                        abort();
        }
        i = w->nq++;
        while (i > 0 && ev_less(&e, &w->q[(i - 1) / 2])) {
                w->q[i] = w->q[(i - 1) / 2];
                i = (i - 1) / 2;
        }
        w->q[i] = e;
}

static struct event q_pop(struct world *w)
{
        struct event top = w->q[0], last = w->q[--w->nq];
        unsigned i = 0;

        for (;;) {
                unsigned c = 2 * i + 1;

                if (c >= w->nq)
                        break;
                if (c + 1 < w->nq && ev_less(&w->q[c + 1], &w->q[c]))
                        c++;
                if (!ev_less(&w->q[c], &last))
                        break;
                w->q[i] = w->q[c];
                i = c;
        }
        if (w->nq)
                w->q[i] = last;
        return top;
}

void schedule(struct world *w, usec_t t, enum evtype type, int party, uint64_t arg)
{
        if (t == NEVER)
                return;
        q_push(w, (struct event) { .t = t < w->now ? w->now : t, .order = w->order++, .type = type,
                                   .party = party, .arg = arg, .inc = party >= 0 ? w->p[party].inc : 0 });
}

/* ---- I/O ------------------------------------------------------------------- */

static int io_alloc(struct world *w)
{
        int i = w->free_io;

        if (i >= 0) {
                w->free_io = w->ios[i].next_free;
                return i;
        }
        if (w->nios == w->capios) {
                w->capios = w->capios ? 2 * w->capios : 64;
                w->ios = realloc(w->ios, (size_t) w->capios * sizeof(*w->ios));
                if (!w->ios)
                        abort();
        }
        return w->nios++;
}

/* The owner is done with it; it is recycled once it has also landed. */
void io_put(struct world *w, int i)
{
        struct io *io = &w->ios[i];

        io->done = true;
        if (io->landed) {
                io->next_free = w->free_io;
                w->free_io = i;
        }
}

int io_start(struct world *w, int party, bool write, const void *data, usec_t timeout)
{
        struct party *p = &w->p[party];
        int i = io_alloc(w);
        struct io *io = &w->ios[i];
        usec_t lat;

        io->owner = party;
        io->inc = p->inc;
        io->write = write;
        io->landed = io->done = false;
        io->err = 0;
        io->tag = 0;
        io->submit = w->now;
        if (write)
                memcpy(io->buf, data, BS);
        if (chance(w, p->p_hang)) {
                /* hung past any deadline: completes late, or never */
                lat = chance(w, 500) ? rnd_range(w, SEC(5), SEC(40)) : NEVER;
        } else if (chance(w, p->p_slow)) {
                lat = rnd_range(w, MS(500), SEC(5));
        } else {
                lat = chance(w, 700) ? rnd_range(w, 0, MS(5)) : rnd_range(w, 0, MS(50));
        }
        if (chance(w, p->p_err))
                io->err = -EIO;
        io->complete = lat == NEVER ? NEVER : w->now + lat;
        if (io->err) {
                io->land = NEVER;       /* a failed write did not land */
        } else if (lat == NEVER) {
                /* the device may still do it some time, or never */
                io->land = chance(w, 500) ? w->now + rnd_range(w, 0, SEC(60)) : NEVER;
        } else {
                io->land = w->now + (lat ? rnd(w) % (lat + 1) : 0);
        }
        if (io->land == NEVER)
                io->landed = true;      /* nothing to wait for */
        schedule(w, io->land, E_IO_LAND, party, (uint64_t) i);
        if (timeout != NEVER && io->complete > w->now + timeout)
                schedule(w, w->now + timeout, E_IO_TIMEOUT, party, (uint64_t) i);
        schedule(w, io->complete, E_IO_DONE, party, (uint64_t) i);
        return i;
}

static void trigger_starts(struct world *w)
{
        for (int i = 0; i < w->np; i++) {
                struct party *p = &w->p[i];

                if (p->trigger && (uint64_t) p->trigger_n == w->writes_landed) {
                        p->trigger = false;
                        /* its first read then lands 0-2 ms after this write */
                        schedule(w, w->now + rnd_range(w, 0, MS(2)), E_START, i, 0);
                }
        }
}

static void io_land(struct world *w, int i)
{
        struct io *io = &w->ios[i];
        char d[128];

        io->landed = true;
        if (io->write) {
                struct party *ow = &w->p[io->owner];

                /* A held heartbeat hides a foreign write only if it landed
                 * between the heartbeat's check read and this write. */
                if (ow->type == P_MMPD && io->inc == ow->inc && ow->m.io == i && !ow->m.io_timed_out &&
                    ow->m.st.state == MMP_STATE_HELD && ow->m.st.phase == MMP_PHASE_HB_WRITE &&
                    w->writes_landed && w->last_writer != (uint32_t) io->owner) {
                        w->st->hb_overwrites++;
                        LOG(w, io->owner, "heartbeat write lands over another party's write");
                }
                memcpy(w->disk, io->buf, BS);
                w->writes_landed++;
                w->last_writer = (uint32_t) io->owner;
                struct party *o = &w->p[io->owner];

                if (o->type != P_MMPD && io->inc == o->inc) {
                        if (io->tag == PS_WCLAIM)
                                o->k.claim_land = w->now;
                        else if ((io->tag == PS_WFSCK || io->tag == PS_KWRITE) && !o->k.use_land)
                                o->k.use_land = w->now;
                }
                if (io->inc != o->inc || (o->type == P_MMPD && o->m.io == i && o->m.io_timed_out)) {
                        if (o->type == P_MMPD)
                                w->late_landing = true;
                        w->st->late_lands++;
                        LOG(w, io->owner, "LATE write lands (submitted %.6f)", (double) io->submit / 1e6);
                } else {
                        LOG(w, io->owner, "write lands %s", blk_text(w, io->buf, d, sizeof(d)));
                }
                trigger_starts(w);
        } else {
                memcpy(io->buf, w->disk, BS);
                io->writer = (int) w->last_writer;
        }
        if (io->done) {
                io->next_free = w->free_io;
                w->free_io = i;
        }
}

/* ---- the invariant ----------------------------------------------------------- */

struct user {
        int party;
        bool mmpd;
};

static bool party_uses(struct world *w, int i)
{
        struct party *p = &w->p[i];

        if (p->type == P_MMPD)
                return mmpd_may_use(w, i);
        return p->k.using;
}

/* The kernel that stands for @i in a CLEAN-hole judgement: itself, or for
 * an mmpd node the local kernel it handed the volume to. */
static int as_kernel(struct world *w, int i)
{
        struct party *p = &w->p[i];

        if (p->type == P_KERNEL)
                return i;
        if (p->type == P_MMPD && p->m.local_user >= 0 && w->p[p->m.local_user].type == P_KERNEL &&
            w->p[p->m.local_user].k.using)
                return p->m.local_user;
        return -1;
}

enum { K_NONE, K_OURS, K_CLEAN_KK, K_CLEAN_HANDOFF, K_PEER_OTHER, K_STALE_CLEAN, K_PEER_SLOW, K_LATE, K_AFTER_PEERS,
       K_MAX };

static int classify(struct world *w, int a, int b)
{
        int ka = as_kernel(w, a), kb = as_kernel(w, b);
        bool ma = w->p[a].type == P_MMPD, mb = w->p[b].type == P_MMPD;

        if (ka >= 0 && kb >= 0 && w->p[ka].k.clean_path && w->p[kb].k.clean_path)
                return K_CLEAN_KK;
        /* A peer kernel mounted on the CLEAN that a fast handoff wrote. */
        for (int r = 0; r < 2; r++) {
                int m = r ? b : a, o = r ? a : b;

                if (w->p[m].type == P_MMPD && w->p[o].type == P_KERNEL && w->p[o].k.clean_path &&
                    w->p[o].k.clean_from == m &&
                    (mmpd_state(w, m) == MMP_STATE_IN_USE || w->p[m].m.st.phase == MMP_PHASE_HANDOFF_WRITE))
                        return K_CLEAN_HANDOFF;
        }
        /* mmpd still says may_use for its local user, who has ended and
         * written CLEAN; a peer kernel mounted on that CLEAN. */
        for (int r = 0; r < 2; r++) {
                int m = r ? b : a, o = r ? a : b;
                int lu = w->p[m].type == P_MMPD ? w->p[m].m.local_user : -1;

                if (lu >= 0 && !w->p[lu].k.using && w->p[o].type == P_KERNEL && w->p[o].k.clean_path &&
                    w->p[o].k.clean_from == lu && mmpd_state(w, m) == MMP_STATE_IN_USE)
                        return K_STALE_CLEAN;
        }
        /* A kernel or tool whose claim seq stood unchanged on disk for
         * longer than mmpd's watch (W + slack): its write after its own
         * claim wait was that slow.  Its protocol's hole (it writes nothing
         * during that wait), not mmpd's rule. */
        for (int r = 0; r < 2; r++) {
                int m = r ? b : a, o = r ? a : b;
                struct peer *k = &w->p[o].k;

                if (w->p[m].type == P_MMPD && w->p[o].type != P_MMPD && k->claim_land) {
                        struct mmp_block blk;
                        usec_t end = k->use_land ? k->use_land : w->now;

                        mmp_block_decode(&w->sb, k->blk, BS, &blk);
                        if (end - k->claim_land > mmp_claim_watch_usec(w->upd, blk.check_interval))
                                return K_PEER_SLOW;
                }
        }
        if (!ma && !mb)
                return K_PEER_OTHER;
        /* A kernel or tool whose use another peer had already broken (a
         * double use by peers alone: a kernel mount took over a tool's
         * FSCK, which e2fsprogs never re-reads, and later wrote CLEAN):
         * whoever then claims that CLEAN by the protocol meets it.  The
         * peers' hole, not a decision of mmpd's. */
        if ((!ma && w->p[a].k.peer_double) || (!mb && w->p[b].k.peer_double))
                return K_AFTER_PEERS;
        /* A write of mmpd's that timed out landed much later, over
         * whoever held the volume by then (a tool's FSCK, which e2fsprogs
         * never re-reads): the hazard of hung I/O itself, counted apart
         * (docs/simulator.md, finding 1). */
        if (w->late_landing)
                return K_LATE;
        return K_OURS;
}

static void check_invariant(struct world *w, int *seen)
{
        int users[MAX_PARTIES], n = 0;

        for (int i = 0; i < w->np; i++)
                if (party_uses(w, i))
                        users[n++] = i;
        for (int x = 0; x < n; x++)
                for (int y = x + 1; y < n; y++) {
                        int a = users[x], b = users[y], k;

                        if (w->p[a].node == w->p[b].node)
                                continue;
                        k = classify(w, a, b);
                        if (k == K_PEER_OTHER || k == K_CLEAN_KK)
                                for (int r = 0; r < 2; r++)
                                        if (w->p[r ? b : a].type != P_MMPD)
                                                w->p[r ? b : a].k.peer_double = true;
                        if (seen[k])
                                continue;
                        seen[k] = 1;
                        LOG(w, -1, "DOUBLE USE (%s) by %s and %s",
                            k == K_OURS ? "VIOLATION" : k == K_CLEAN_KK ? "kernel CLEAN hole" :
                            k == K_CLEAN_HANDOFF ? "fast-handoff CLEAN window" :
                            k == K_STALE_CLEAN ? "may_use after the local user's CLEAN" :
                            k == K_PEER_SLOW ? "peer's claim seq unchanged longer than W + slack" :
                            k == K_LATE ? "after a timed-out write landed late" :
                            k == K_AFTER_PEERS ? "with a user that peers alone had already double-used" :
                            "peers only",
                            w->p[a].name, w->p[b].name);
                        if ((k == K_OURS || ((k == K_STALE_CLEAN || k == K_LATE || k == K_AFTER_PEERS) && w->strict)) &&
                            !w->violation) {
                                w->violation = 1;
                                snprintf(w->why, sizeof(w->why), "at %.6f: %s and %s both may use the volume%s",
                                         (double) w->now / 1e6, w->p[a].name, w->p[b].name,
                                         w->late_landing ? " (after a LATE landing of a timed-out mmpd write)" : "");
                        }
                }
}

/* ---- one trial ------------------------------------------------------------------ */

static bool deferred_by_stall(struct world *w, struct event *e)
{
        usec_t until;

        if (e->party < 0 || w->p[e->party].type != P_MMPD)
                return false;
        if (e->type != E_IO_DONE && e->type != E_IO_TIMEOUT && e->type != E_TIMER && e->type != E_CMD)
                return false;
        if (!in_stall(w, e->party, e->t, &until))
                return false;
        e->t = until;
        e->order = w->order++;
        q_push(w, *e);
        return true;
}

static bool strict_mode;

static int run_trial(uint64_t seed, bool verbose, struct stats *st)
{
        static struct world w;
        int seen[K_MAX] = { 0 };

        free(w.q);
        free(w.ios);
        memset(&w, 0, sizeof(w));
        w.seed = seed;
        w.rng = seed;
        w.verbose = verbose;
        w.st = st;
        w.strict = strict_mode;
        w.free_io = -1;
        party_setup(&w);
        if (verbose)
                printf("trial seed %#" PRIx64 ": update interval %u s, horizon %.0f s, %d parties\n",
                       seed, w.upd, (double) w.horizon / 1e6, w.np);
        while (w.nq) {
                struct event e = q_pop(&w);

                if (e.t > w.horizon)
                        break;
                if (deferred_by_stall(&w, &e))
                        continue;
                w.now = e.t;
                st->events++;
                switch (e.type) {
                case E_IO_LAND:
                        io_land(&w, (int) e.arg);
                        break;
                case E_IO_DONE:
                        party_io_done(&w, e.party, (int) e.arg);
                        break;
                case E_IO_TIMEOUT:
                        party_io_timeout(&w, e.party, (int) e.arg);
                        break;
                default:
                        party_event(&w, &e);
                        break;
                }
                check_invariant(&w, seen);
        }
        st->trials++;
        st->clean_hole_kk += seen[K_CLEAN_KK];
        st->clean_hole_handoff += seen[K_CLEAN_HANDOFF];
        st->peer_other += seen[K_PEER_OTHER];
        st->stale_clean += seen[K_STALE_CLEAN];
        st->peer_slow += seen[K_PEER_SLOW];
        st->late_double += seen[K_LATE];
        st->after_peers += seen[K_AFTER_PEERS];
        if (seen[K_AFTER_PEERS] && !st->first_after_peers)
                st->first_after_peers = seed;
        if (seen[K_LATE] && !st->first_late_double)
                st->first_late_double = seed;
        if (seen[K_STALE_CLEAN] && !st->first_stale_clean)
                st->first_stale_clean = seed;
        if (seen[K_PEER_OTHER] && verbose)
                printf("note: a double use by peers only (no mmpd involved)\n");
        party_teardown(&w);
        if (w.violation) {
                st->violations++;
                if (verbose)
                        printf("VIOLATION %s\n", w.why);
        }
        if (w.violation && w.late_landing)
                st->first_violation_late++;
        return w.violation ? 1 : seen[K_PEER_OTHER] ? 2 : 0;
}

/* ---- main ------------------------------------------------------------------- */

static double mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const struct stats *s, double secs, bool tap)
{
        const char *pfx = tap ? "# " : "";

        printf("%strials %" PRIu64 " in %.1f s (%.0f trials/s, %.2f M events)\n", pfx, s->trials, secs,
               secs > 0 ? (double) s->trials / secs : 0., (double) s->events / 1e6);
        printf("%sviolations (mmpd may_use with another user): %" PRIu64 " (%" PRIu64
               " after a late landing of a timed-out mmpd write)\n", pfx, s->violations, s->first_violation_late);
        printf("%skernel CLEAN hole (two kernels on the CLEAN path): %" PRIu64 " trials\n", pfx, s->clean_hole_kk);
        printf("%sfast-handoff CLEAN window (peer kernel on mmpd's CLEAN): %" PRIu64 " trials\n", pfx,
               s->clean_hole_handoff);
        printf("%smay_use after the local user's CLEAN, peer kernel on that CLEAN: %" PRIu64 " trials%s\n", pfx,
               s->stale_clean, s->stale_clean ? " (finding: see docs/simulator.md)" : "");
        if (s->first_stale_clean)
                printf("%s  first: --replay %#" PRIx64 "\n", pfx, s->first_stale_clean);
        printf("%speer's claim seq unchanged on disk longer than W + slack (its slow write): %" PRIu64 " trials\n",
               pfx, s->peer_slow);
        printf("%sother double uses without mmpd: %" PRIu64 " trials\n", pfx, s->peer_other);
        printf("%smmpd with a user that peers alone had already double-used: %" PRIu64 " trials\n", pfx,
               s->after_peers);
        if (s->first_after_peers)
                printf("%s  first: --replay %#" PRIx64 "\n", pfx, s->first_after_peers);
        printf("%safter a timed-out mmpd write landed late (hung I/O; --strict counts them): %" PRIu64 " trials\n",
               pfx, s->late_double);
        if (s->first_late_double)
                printf("%s  first: --replay %#" PRIx64 "\n", pfx, s->first_late_double);
        printf("%sclaims won %" PRIu64 ", refused %" PRIu64 ", LOST %" PRIu64 " (fenced while using %" PRIu64
               "), released %" PRIu64 "\n", pfx, s->claimed, s->refused, s->lost, s->fenced, s->released);
        printf("%sLOST by reason: ETIMEDOUT %" PRIu64 ", EBUSY %" PRIu64 ", ESTALE %" PRIu64 ", ENOTUNIQ %" PRIu64
               ", EIO %" PRIu64 ", other %" PRIu64 "\n", pfx, s->lost_reason[0], s->lost_reason[1],
               s->lost_reason[2], s->lost_reason[3], s->lost_reason[4], s->lost_reason[5]);
        printf("%sresumes %" PRIu64 " (LOST at resume %" PRIu64 "), restarts %" PRIu64 ", stalls %" PRIu64
               ", I/O timeouts %" PRIu64 ", late landings %" PRIu64 "\n", pfx, s->resumes, s->resume_lost,
               s->restarts, s->stalls, s->io_timeouts, s->late_lands);
        printf("%stimer deliveries with wake_at already past (busy loop in mmpd): %" PRIu64 "\n", pfx, s->timer_spins);
        printf("%sheld heartbeat writes landing over another party's write: %" PRIu64 "\n", pfx, s->hb_overwrites);
        printf("%shandoffs %" PRIu64 " (in use %" PRIu64 ", ended ok %" PRIu64 ", ended with error %" PRIu64
               ")\n", pfx, s->handoffs, s->in_use, s->use_ended_ok, s->use_ended_err);
        printf("%skernel mounts %" PRIu64 ", refused %" PRIu64 "; tools ok %" PRIu64 ", failed %" PRIu64
               ", killed %" PRIu64 "\n", pfx, s->kernel_mounts, s->kernel_refused, s->tool_ok, s->tool_failed,
               s->tool_killed);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "trials", required_argument, NULL, 'n' },
                { "seed", required_argument, NULL, 's' },
                { "replay", required_argument, NULL, 'r' },
                { "verbose", no_argument, NULL, 'v' },
                { "keep-going", no_argument, NULL, 'k' },
                { "tap", no_argument, NULL, 't' },
                { "strict", no_argument, NULL, 'S' },
                { "todo", required_argument, NULL, 'T' },
                {}
        };
        uint64_t trials = 10000, seed = 1, replay = 0;
        bool verbose = false, keep = false, tap = false, have_replay = false;
        static bool strict;
        const char *todo = NULL;
        struct stats st = { 0 };
        uint64_t first_bad = 0, first_other = 0;
        bool have_other = false;
        double t0;
        int c;

        while ((c = getopt_long(argc, argv, "n:s:r:vktST:", opts, NULL)) != -1) {
                switch (c) {
                case 'n': trials = strtoull(optarg, NULL, 0); break;
                case 's': seed = strtoull(optarg, NULL, 0); break;
                case 'r': replay = strtoull(optarg, NULL, 0); have_replay = true; break;
                case 'v': verbose = true; break;
                case 'k': keep = true; break;
                case 't': tap = true; break;
                case 'S': strict = true; break;
                case 'T': todo = optarg; break;
                default:
                        fprintf(stderr, "usage: %s [--trials N] [--seed S] [--replay SEED] [--verbose] "
                                "[--keep-going] [--tap [--todo TEXT]] [--strict]\n", argv[0]);
                        return 2;
                }
        }
        strict_mode = strict;
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        if (have_replay) {
                int r = run_trial(replay, true, &st);

                report(&st, 0, false);
                return r == 1;
        }
        if (tap)
                printf("1..1\n");
        t0 = mono();
        for (uint64_t i = 0; i < trials; i++) {
                uint64_t ts = trial_seed(seed, i);
                int r = run_trial(ts, verbose, &st);

                if (r == 2 && !have_other) {
                        have_other = true;
                        first_other = ts;
                }
                if (r == 1) {
                        printf("%sviolation in trial %" PRIu64 " (seed %" PRIu64 "): trial seed %#" PRIx64
                               "; replay: mmp-sim --replay %#" PRIx64 "\n", tap ? "# " : "", i, seed, ts, ts);
                        if (first_bad == 0) {
                                struct stats tmp = { 0 };

                                first_bad = ts;
                                if (!verbose)
                                        run_trial(ts, true, &tmp);
                        }
                        if (!keep && !tap)
                                break;
                }
        }
        report(&st, mono() - t0, tap);
        if (have_other)
                printf("%sfirst double use without mmpd: --replay %#" PRIx64 "\n", tap ? "# " : "", first_other);
        if (first_bad)
                printf("%sfirst violation: --replay %#" PRIx64 "\n", tap ? "# " : "", first_bad);
        if (tap)
                printf("%s 1 - %" PRIu64 " trials, no two nodes may use the volume at once%s%s\n",
                       st.violations ? "not ok" : "ok", st.trials, st.violations && todo ? " # TODO " : "",
                       st.violations && todo ? todo : "");
        if (tap && todo)
                return 0;     /* a TODO failure is reported, not fatal */
        return st.violations ? 1 : 0;
}
