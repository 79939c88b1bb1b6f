/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fence's time budget, as pure functions (fence.h, "plan"). */
#include "fence.h"

/* Shares of the time left, by stage; the tail keeps a slice for (e) and slack. */
#define W_HOOK     3
#define W_KILL     4
#define W_SHUTDOWN 2
#define W_TAIL     1

const enum fence_stage fence_order_users_first[] = {
        FENCE_STAGE_NOTIFY, FENCE_STAGE_HOOK, FENCE_STAGE_KILL, FENCE_STAGE_SHUTDOWN,
        FENCE_STAGE_LAST_RESORT, FENCE_STAGE_DONE,
};

const enum fence_stage fence_order_shutdown_first[] = {
        FENCE_STAGE_NOTIFY, FENCE_STAGE_SHUTDOWN, FENCE_STAGE_HOOK, FENCE_STAGE_KILL,
        FENCE_STAGE_LAST_RESORT, FENCE_STAGE_DONE,
};

size_t fence_stage_pos(const struct fence_plan *p, enum fence_stage s)
{
        size_t i = 0;

        while (p->order[i] != s && p->order[i] != FENCE_STAGE_DONE)
                i++;
        return i;
}

bool fence_plan_runs(const struct fence_plan *p, enum fence_stage s)
{
        switch (s) {
        case FENCE_STAGE_HOOK:
                return p->hook;
        /* Without a device number (a volume on a regular file) there is
         * nothing to match users or mounts against. */
        case FENCE_STAGE_KILL:
                return p->kill && p->have_rdev;
        case FENCE_STAGE_SHUTDOWN:
                return p->shutdown && p->have_rdev;
        default:
                return true;
        }
}

static unsigned weight(enum fence_stage s)
{
        switch (s) {
        case FENCE_STAGE_HOOK:
                return W_HOOK;
        case FENCE_STAGE_KILL:
                return W_KILL;
        case FENCE_STAGE_SHUTDOWN:
                return W_SHUTDOWN;
        default:
                return 0;
        }
}

/* The weights of stage @s and of every stage after it that runs. */
static unsigned weight_from(const struct fence_plan *p, enum fence_stage s)
{
        unsigned w = W_TAIL;

        for (size_t i = fence_stage_pos(p, s); p->order[i] != FENCE_STAGE_DONE; i++)
                if (fence_plan_runs(p, p->order[i]))
                        w += weight(p->order[i]);
        return w;
}

mmp_usec_t fence_stage_budget(const struct fence_plan *p, enum fence_stage s, mmp_usec_t left)
{
        mmp_usec_t b = left * weight(s) / weight_from(p, s);

        return b < FENCE_MIN_STAGE_USEC ? FENCE_MIN_STAGE_USEC : b;
}
