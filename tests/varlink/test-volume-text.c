/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/varlink-json.c: vl_volume_text(), List's writer, against the tree
 * every other method sends, json_dumps(vl_volume_json(), JSON_COMPACT):
 * byte for byte, over many volumes (every state and phase, each optional
 * field on and off, extreme numbers, strings that need escaping or are not
 * UTF-8).  Then what both cost for 10,000 volumes, printed, not asserted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "varlink-json.h"

#define N_STATES (MMP_STATE_IN_USE + 1)
#define N_PHASES (MMP_PHASE_USE_END_READ + 1)

static const char *const strings[] = {
        "vol0", "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4", "", "a\"quoted\"name", "back\\slash\\",
        "ctl\x01\x02\x1f\x7f-end", "\b\f\n\r\t", "nul-less \x1b[0m escape", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe",
        "bad\xff\xfe-1", "trunc\xc3", "overlong\xc0\xaf", "surrogate\xed\xa0\x80", "big\xf4\x90\x80\x80",
        "f5\xf5\x80\x80\x80", "cont\x80 only", "mixed \"\xe9\\\n\x01 latin1", "/dev/\xce\xbb/\xe6\x97\xa5",
        "slash/and/slash", "x\xef\xbf\xbf\xf4\x8f\xbf\xbf max",
};
#define N_STRINGS (sizeof(strings) / sizeof(strings[0]))

static const uint64_t big[] = {
        0, 1, 9, 10, 99, 4999999, (uint64_t) INT32_MAX + 1, UINT32_MAX, (uint64_t) INT64_MAX - 1,
        (uint64_t) INT64_MAX, (uint64_t) INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX,
};
#define N_BIG (sizeof(big) / sizeof(big[0]))

static const int errors[] = { -EIO, -ENOENT, -EBUSY, -ETIMEDOUT, -EUCLEAN, -EINPROGRESS };

/* xorshift64: the same variants on every run */
static uint64_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static const char *pick_str(uint64_t *s) { return strings[rnd(s) % N_STRINGS]; }
static uint64_t pick_big(uint64_t *s) { return rnd(s) & 1 ? big[rnd(s) % N_BIG] : rnd(s) % 100000000000ull; }

static void fill_hist(struct mmp_hist *h, uint64_t *s, bool extreme)
{
        for (unsigned i = 0; i < MMP_HIST_BUCKETS; i++)
                h->count[i] = extreme ? big[rnd(s) % N_BIG] : rnd(s) % 5000;
        h->n = extreme ? big[rnd(s) % N_BIG] : rnd(s) % 100000;
        h->sum = pick_big(s);
        h->max = pick_big(s);
}

struct variant {
        struct volume_info info;
        struct volume_stats stats;
};

/* Variant @k: state and phase run through every pair; the rest at random. */
static void make_variant(unsigned k, struct variant *v)
{
        uint64_t s = 0x9e3779b97f4a7c15ull ^ ((uint64_t) k * 0x100000001b3ull);
        struct volume_info *i = &v->info;
        struct mmp_sm_status *sm = &i->sm;

        memset(v, 0, sizeof(*v));
        rnd(&s);
        i->name = pick_str(&s);
        i->device = pick_str(&s);
        i->state = (enum mmp_state) (k % N_STATES);
        i->phase = (enum mmp_phase) (k / N_STATES % N_PHASES);
        sm->state = i->state;
        sm->phase = i->phase;
        i->is_static = rnd(&s) & 1;
        i->now = 1 + rnd(&s) % (1000000ull * MMP_USEC_PER_SEC);
        i->wall_now = rnd(&s) & 1 ? 1700000000 : rnd(&s) % 5000000000ull;
        if ((i->have_sb = rnd(&s) % 4)) {
                i->sb.block_size = 4096;
                i->sb.mmp_block = 1618;
                i->sb.update_interval = (uint16_t) (rnd(&s) % 3 ? rnd(&s) % 70 : rnd(&s));
        }
        if (rnd(&s) % 3) {
                sm->last_good = rnd(&s) % 4 ? i->now - rnd(&s) % (i->now + 1) : pick_big(&s) | 1;
                sm->seq = (uint32_t) rnd(&s);
                sm->check_interval = (uint32_t) (rnd(&s) % 3 ? rnd(&s) % 100 : rnd(&s));
        }
        if (rnd(&s) % 2) {
                /* within a year of now: vl_wall_of() stays in range */
                sm->deadlines.fence_at = i->now + rnd(&s) % (365ull * 86400 * MMP_USEC_PER_SEC);
                if (rnd(&s) & 1 && sm->deadlines.fence_at > i->now)
                        sm->deadlines.fence_at = 1 + rnd(&s) % i->now;
                sm->deadlines.peer_write_at = pick_big(&s);
                sm->deadlines.peer_use_at = pick_big(&s);
                sm->deadlines.wait_s = (unsigned) rnd(&s);
        }
        sm->failures = (unsigned) (rnd(&s) % 3 ? rnd(&s) % 10 : rnd(&s));
        if ((sm->have_holder = rnd(&s) % 3)) {
                sm->holder.seq = (uint32_t) (rnd(&s) % 3 ? rnd(&s) : 0xFF4D4D50u + rnd(&s) % 4);
                sm->holder.time = pick_big(&s);
                sm->holder.check_interval = (uint16_t) rnd(&s);
                snprintf(sm->holder.nodename, sizeof(sm->holder.nodename), "%s", pick_str(&s));
                snprintf(sm->holder.bdevname, sizeof(sm->holder.bdevname), "%s", pick_str(&s));
        }
        if ((i->have_fence = rnd(&s) % 4 == 0)) {
                static const char *const outcomes[] = { "running", "fenced", "failed", "late" };

                i->fence.stage_name = rnd(&s) % 5 ? "sysrq" : pick_str(&s);
                i->fence.outcome = rnd(&s) % 5 ? outcomes[rnd(&s) % 4] : NULL;
                i->fence.started = pick_big(&s);
                i->fence.finished = rnd(&s) & 1 ? pick_big(&s) : 0;
                i->fence.deadline = pick_big(&s);
        }
        if ((i->in_use = rnd(&s) % 3 == 0)) {
                sm->user = (enum mmp_user) (rnd(&s) % 3);
                sm->mode = (enum mmp_handoff_mode) (rnd(&s) % 2);
                i->use_pid = rnd(&s) % 3 ? (pid_t) (rnd(&s) % 4194304) : rnd(&s) & 1 ? -1 : 0;
                i->use_mount_point = rnd(&s) & 1 ? pick_str(&s) : NULL;
                i->use_keep = rnd(&s) & 1;
                sm->use_since = pick_big(&s);
                if ((sm->user_seen = rnd(&s) & 1)) {
                        sm->last_change = pick_big(&s);
                        sm->user_block.seq = (uint32_t) rnd(&s);
                        snprintf(sm->user_block.nodename, sizeof(sm->user_block.nodename), "%s", pick_str(&s));
                        snprintf(sm->user_block.bdevname, sizeof(sm->user_block.bdevname), "%s", pick_str(&s));
                }
        }
        if (rnd(&s) % 3) {
                bool extreme = rnd(&s) % 4 == 0;

                fill_hist(&v->stats.submit_late, &s, extreme);
                fill_hist(&v->stats.landed_late, &s, extreme);
                fill_hist(&v->stats.io, &s, extreme);
                i->stats = &v->stats;
        }
        if (rnd(&s) % 3 == 0) {
                i->error = errors[rnd(&s) % (sizeof(errors) / sizeof(errors[0]))];
                i->error_text = rnd(&s) & 1 ? pick_str(&s) : NULL;
        }
}

static char *tree_text(const struct volume_info *info)
{
        json_t *j = vl_volume_json(info);
        char *s;

        assert_non_null(j);
        s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        assert_non_null(s);
        return s;
}

static void expect_same(const struct volume_info *info, struct vl_textbuf *b)
{
        char *want = tree_text(info);
        size_t start = b->len;

        assert_int_equal(vl_volume_text(b, info), 0);
        if (b->len - start != strlen(want) || memcmp(b->data + start, want, b->len - start) != 0) {
                print_message("# tree: %s\n# text: %.*s\n", want, (int) (b->len - start), b->data + start);
                fail_msg("vl_volume_text() differs from json_dumps(vl_volume_json())");
        }
        free(want);
}

#define N_VARIANTS (N_STATES * N_PHASES * 24)

static void variants(void **state)
{
        struct vl_textbuf b = {};
        struct variant v;
        unsigned seen_invalid = 0, seen_ctl = 0, seen_neg = 0, seen_clamped = 0;

        for (unsigned k = 0; k < N_VARIANTS; k++) {
                make_variant(k, &v);
                b.len = 0;
                expect_same(&v.info, &b);
                /* the variants reach what they are meant to */
                seen_invalid += memmem(b.data, b.len, "\\\\xff", 5) != NULL;
                seen_ctl += memmem(b.data, b.len, "\\u001F", 6) != NULL;
                seen_neg += memmem(b.data, b.len, "[-", 2) != NULL || memmem(b.data, b.len, ",-", 2) != NULL;
                seen_clamped += memmem(b.data, b.len, "9223372036854775807", 19) != NULL;
        }
        print_message("# %u variants: %u with invalid UTF-8, %u with control characters, "
                      "%u with negative counts, %u clamped to INT64_MAX\n",
                      N_VARIANTS, seen_invalid, seen_ctl, seen_neg, seen_clamped);
        assert_true(seen_invalid > 0 && seen_ctl > 0 && seen_neg > 0 && seen_clamped > 0);
        vl_textbuf_free(&b);
}

/*
 * Check's reply: vl_check_text() against the tree m_check() built before
 * it wrote text, {"parameters":{"volume":...,"may_use":...}}, dumped.
 */
static void check_reply(void **state)
{
        static const mmp_usec_t untils[] = { 1, 21000000, UINT64_C(1) << 40, INT64_MAX };
        struct vl_textbuf b = {};
        struct variant v;
        unsigned n = 0;

        for (unsigned k = 0; k < N_VARIANTS; k += 5) {
                make_variant(k, &v);
                for (unsigned u = 0; u < 2 * sizeof(untils) / sizeof(untils[0]); u++) {
                        bool may_use = u & 1;
                        mmp_usec_t until = untils[u / 2];
                        json_t *p = json_object(), *m = json_object();
                        char *want;

                        assert_int_equal(json_object_set_new(p, "volume", vl_volume_json(&v.info)), 0);
                        assert_int_equal(json_object_set_new(p, "may_use", json_boolean(may_use)), 0);
                        if (may_use) {
                                assert_int_equal(json_object_set_new(p, "guaranteed_until_usec",
                                                                     json_integer((json_int_t) until)), 0);
                                assert_int_equal(json_object_set_new(p, "guaranteed_until_wall",
                                                                     json_integer(vl_wall_of(&v.info, until))), 0);
                        }
                        assert_int_equal(json_object_set_new(m, "parameters", p), 0);
                        want = json_dumps(m, JSON_COMPACT);
                        json_decref(m);
                        assert_non_null(want);
                        b.len = 0;
                        assert_int_equal(vl_check_text(&b, &v.info, may_use, until), 0);
                        if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) {
                                print_message("# tree: %s\n# text: %.*s\n", want, (int) b.len, b.data);
                                fail_msg("vl_check_text() differs from the tree");
                        }
                        free(want);
                        n++;
                }
        }
        print_message("# %u Check replies the same as their trees\n", n);
        vl_textbuf_free(&b);
}

/* Every string alone as name, device, holder, error text. */
static void each_string(void **state)
{
        struct vl_textbuf b = {};
        struct volume_info i = { .state = MMP_STATE_REFUSED, .error = -EBUSY };
        char tricky[4 * 256];

        i.sm.have_holder = true;
        for (size_t k = 0; k < N_STRINGS; k++) {
                i.name = strings[k];
                i.device = strings[(k + 1) % N_STRINGS];
                i.error_text = strings[(k + 2) % N_STRINGS];
                snprintf(i.sm.holder.nodename, sizeof(i.sm.holder.nodename), "%s", strings[(k + 3) % N_STRINGS]);
                expect_same(&i, &b);
        }
        /* every byte, in a valid and an invalid string */
        for (unsigned c = 1; c < 256; c++)
                tricky[c - 1] = (char) c;
        tricky[255] = '\0';
        i.name = tricky;
        i.device = "d";
        expect_same(&i, &b);
        for (unsigned c = 1; c < 128; c++)
                tricky[c - 1] = (char) c;
        strcpy(tricky + 127, "\xe2\x82\xac\xf0\x9f\x92\xbe\xc2\x80\xdf\xbf");
        expect_same(&i, &b);
        /* NULL strings are "" in both */
        i.name = i.device = i.error_text = NULL;
        expect_same(&i, &b);

        /* The texts of a List chunk, joined as list_step() joins them, parse
         * back to the trees. */
        {
                json_t *all, *vols;

                b.len = 0;
                assert_int_equal(vl_textbuf_append(&b, "{\"volumes\":[", 12), 0);
                for (unsigned k = 0; k < 64; k++) {
                        struct variant v;

                        make_variant(k * 7, &v);
                        if (k)
                                assert_int_equal(vl_textbuf_append(&b, ",", 1), 0);
                        assert_int_equal(vl_volume_text(&b, &v.info), 0);
                }
                assert_int_equal(vl_textbuf_append(&b, "]}", 2), 0);
                all = json_loadb(b.data, b.len, 0, NULL);
                assert_non_null(all);
                vols = json_object_get(all, "volumes");
                assert_int_equal(json_array_size(vols), 64);
                for (unsigned k = 0; k < 64; k++) {
                        struct variant v;
                        json_t *j;

                        make_variant(k * 7, &v);
                        j = vl_volume_json(&v.info);
                        assert_true(json_equal(j, json_array_get(vols, k)));
                        json_decref(j);
                }
                json_decref(all);
        }
        vl_textbuf_free(&b);
}

static double ms_since(const struct timespec *t0)
{
        struct timespec t1;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A held volume with stats, as most of a big List is. */
static void held_with_stats(unsigned k, struct variant *v)
{
        struct volume_info *i = &v->info;
        uint64_t s = k + 1;
        static char names[2][32];

        memset(v, 0, sizeof(*v));
        snprintf(names[0], sizeof(names[0]), "vol%05u", k);
        snprintf(names[1], sizeof(names[1]), "/dev/mapper/mpath%05u", k);
        *i = (struct volume_info) {
                .name = names[0], .device = names[1], .state = MMP_STATE_HELD, .phase = MMP_PHASE_HB_IDLE,
                .have_sb = true, .sb = { .block_size = 4096, .mmp_block = 1618, .update_interval = 5 },
                .now = 1000 * MMP_USEC_PER_SEC, .wall_now = 1700000000, .stats = &v->stats,
        };
        i->sm.state = MMP_STATE_HELD;
        i->sm.seq = 12345 + k;
        i->sm.check_interval = 5;
        i->sm.last_good = 998 * MMP_USEC_PER_SEC;
        mmp_deadlines(i->sm.last_good, 5, 5, 0, &i->sm.deadlines);
        i->sm.have_holder = true;
        i->sm.holder.seq = i->sm.seq;
        i->sm.holder.time = 1699999998;
        i->sm.holder.check_interval = 5;
        strcpy(i->sm.holder.nodename, "node-a.example.com");
        strcpy(i->sm.holder.bdevname, "dm-17");
        fill_hist(&v->stats.submit_late, &s, false);
        fill_hist(&v->stats.landed_late, &s, false);
        fill_hist(&v->stats.io, &s, false);
}

#define BENCH_VOLUMES 10000
#define LIST_CHUNK 64                   /* as mmpd/varlink-methods.c */

static void bench(void **state)
{
        struct variant *v = calloc(BENCH_VOLUMES, sizeof(*v));
        struct vl_textbuf b = {};
        struct timespec t0, tc;
        double old_ms, new_ms, chunk_ms, worst_chunk = 0;
        size_t bytes_old = 0, bytes_new = 0;

        assert_non_null(v);
        for (unsigned k = 0; k < BENCH_VOLUMES; k++)
                held_with_stats(k, &v[k]);

        /* CPU time of this thread: other processes on the machine do not count.
         * before: a tree per volume, dumped, freed */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (unsigned k = 0; k < BENCH_VOLUMES; k++) {
                json_t *j = vl_volume_json(&v[k].info);
                char *s = json_dumps(j, JSON_COMPACT);

                assert_non_null(s);
                bytes_old += strlen(s) + 1;
                free(s);
                json_decref(j);
        }
        old_ms = ms_since(&t0);

        /* after: one buffer per chunk of LIST_CHUNK */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        for (unsigned k = 0; k < BENCH_VOLUMES; k += LIST_CHUNK) {
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &tc);
                b.len = 0;
                for (unsigned e = k; e < k + LIST_CHUNK && e < BENCH_VOLUMES; e++) {
                        if (e)
                                assert_int_equal(vl_textbuf_append(&b, ",", 1), 0);
                        assert_int_equal(vl_volume_text(&b, &v[e].info), 0);
                }
                bytes_new += b.len;
                chunk_ms = ms_since(&tc);
                worst_chunk = chunk_ms > worst_chunk ? chunk_ms : worst_chunk;
        }
        new_ms = ms_since(&t0);

        print_message("# CPU to serialize %u volumes with stats (%zu bytes): tree+json_dumps %.1f ms (%.2f us/volume), "
                      "text %.1f ms (%.2f us/volume), %.1fx; worst chunk of %u: %.3f ms\n",
                      BENCH_VOLUMES, bytes_new, old_ms, old_ms * 1e3 / BENCH_VOLUMES, new_ms,
                      new_ms * 1e3 / BENCH_VOLUMES, old_ms / new_ms, LIST_CHUNK, worst_chunk);
        /* the same bytes (each old text had a NUL, each new one a comma but the first) */
        assert_int_equal(bytes_old, bytes_new + 1);
        vl_textbuf_free(&b);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(variants),
                cmocka_unit_test(each_string),
                cmocka_unit_test(check_reply),
                cmocka_unit_test(bench),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
