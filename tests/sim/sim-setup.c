/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmp-sim: what one trial contains, drawn from its seed (docs/simulator.md,
 * "What is randomized").
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

/* ---- setup --------------------------------------------------------------------- */

static void io_profile(struct world *w, struct party *p, bool mmpd)
{
        static const unsigned slow[] = { 0, 0, 20, 100, 300 };
        static const unsigned hang[] = { 0, 0, 0, 5, 30 };

        p->p_slow = slow[rnd(w) % 5];
        p->p_hang = mmpd ? hang[rnd(w) % 5] : 0;
        p->p_err = chance(w, 200) ? 10 : 0;
}

static void start_time(struct world *w, struct party *p, usec_t spread)
{
        if (chance(w, 250)) {
                p->trigger = true;
                p->trigger_n = (int) rnd_range(w, 1, 8);
        } else {
                p->start_at = rnd_range(w, 0, spread);
        }
}

static int add_peer(struct world *w, enum ptype t, int node, const char *name, const char *host)
{
        int i = w->np++;
        struct party *p = &w->p[i];

        p->type = t;
        p->node = node;
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->k.io = -1;
        p->k.handed_by = -1;
        p->k.host = host;
        p->k.bdev = t == P_KERNEL ? "loop0" : "/dev/sdb";
        p->k.finished = true;
        p->k.hold = rnd_range(w, SEC(1), SEC(40));
        p->k.retries = (int) rnd_range(w, 0, 2);
        io_profile(w, p, false);
        return i;
}

void party_setup(struct world *w)
{
        static const char *const hosts[] = { "hostA", "hostB", "hostC" };
        static const char *const nodes[] = { "nodeA", "nodeB", "nodeC" };
        unsigned ur = (unsigned) rnd(w) % 20;
        unsigned nm = chance(w, 500) ? 2 : 3;
        unsigned wmax;
        struct mmp_block b = { .seq = MMP_SEQ_CLEAN, .check_interval = 5 };
        int m_idx[3];

        w->upd = ur < 14 ? 1 : ur < 17 ? 2 : 5;
        w->last_writer = (uint32_t) -1;
        w->sb.block_size = BS;
        w->sb.blocks_count = 100000;
        w->sb.mmp_block = 100;
        w->sb.update_interval = (uint16_t) w->upd;
        w->sb.metadata_csum = chance(w, 300);
        w->sb.csum_seed = (uint32_t) rnd(w);
        wmax = mmp_wait_seconds(2 * w->upd, 0);
        w->horizon = SEC(9 * wmax + 30);

        /* the block as mkfs or a dead node left it */
        b.check_interval = (uint16_t) (chance(w, 500) ? 5 : mmp_check_interval_to_write(w->upd, 0));
        if (chance(w, 400)) {
                b.seq = (uint32_t) rnd_range(w, 1, 100000);
                mmp_name_set(b.nodename, MMP_NODENAME_LEN, "deadnode");
        } else {
                mmp_name_set(b.nodename, MMP_NODENAME_LEN, "mkfs");
        }
        mmp_name_set(b.bdevname, MMP_BDEVNAME_LEN, "dead");
        memset(w->disk, 0x5A, BS);
        mmp_block_encode(&w->sb, &b, w->disk, BS);

        for (unsigned n = 0; n < nm; n++) {
                int i = w->np++;
                struct party *p = &w->p[i];
                struct mmpd *m = &p->m;

                m_idx[n] = i;
                p->type = P_MMPD;
                p->node = (int) n;
                snprintf(p->name, sizeof(p->name), "mmpd%c", 'A' + n);
                snprintf(m->hostname, sizeof(m->hostname), "%s", hosts[n]);
                /* node_name defaults to the host name; sometimes set apart */
                snprintf(m->nodename, sizeof(m->nodename), "%s", chance(w, 500) ? hosts[n] : nodes[n]);
                m->local_names[0] = m->hostname;
                m->local_names[1] = NULL;
                m->spread = chance(w, 300);
                m->slot = rnd_range(w, 0, SEC(1));
                m->claims_left = (int) rnd_range(w, 1, 4);
                m->local_user = -1;
                m->io = -1;
                m->armed_at = NEVER;
                m->restart_at = chance(w, 250) ? rnd_range(w, SEC(1), w->horizon) : NEVER;
                m->restart_delay = chance(w, 500) ? rnd_range(w, MS(50), SEC(2)) : rnd_range(w, SEC(2), SEC(30));
                if (chance(w, 300)) {
                        m->nstalls = (int) rnd_range(w, 1, MAX_STALLS);
                        for (int s = 0; s < m->nstalls; s++) {
                                usec_t d;
                                unsigned r = (unsigned) (rnd(w) % 10);

                                d = r < 5 ? rnd_range(w, MS(100), SEC(3)) :
                                    r < 8 ? rnd_range(w, SEC(3), SEC(wmax)) : rnd_range(w, SEC(wmax), SEC(3 * wmax));
                                m->stall_from[s] = rnd_range(w, 0, w->horizon);
                                m->stall_to[s] = m->stall_from[s] + d;
                                w->st->stalls++;
                        }
                }
                io_profile(w, p, true);
                start_time(w, p, SEC(3 * wmax));
                mmpd_new_sm(w, i);
                m->born = 0;
                if (!p->trigger)
                        schedule(w, p->start_at, E_START, i, 0);
                schedule(w, m->restart_at, E_KILL, i, 0);
        }
        /* local users for handoffs */
        for (unsigned n = 0; n < nm; n++) {
                unsigned r = (unsigned) (rnd(w) % 10);
                char name[16];
                int u;

                if (r >= 7)
                        continue;
                snprintf(name, sizeof(name), "%s%c", r < 5 ? "kern" : "tool", 'A' + n);
                u = add_peer(w, r < 5 ? P_KERNEL : P_TOOL, (int) n, name, hosts[n]);
                w->p[u].k.handed_by = m_idx[n];
                w->p[m_idx[n]].m.local_user = u;
        }
        /* independent peers on other nodes */
        if (chance(w, 450)) {
                int i = add_peer(w, P_KERNEL, 10, "kernK", "hostK");

                start_time(w, &w->p[i], SEC(5 * wmax));
                if (!w->p[i].trigger)
                        schedule(w, w->p[i].start_at, E_START, i, 0);
        }
        if (chance(w, 350)) {
                int i = add_peer(w, P_TOOL, 11, "toolT", "hostT");

                start_time(w, &w->p[i], SEC(5 * wmax));
                if (!w->p[i].trigger)
                        schedule(w, w->p[i].start_at, E_START, i, 0);
        }
}

