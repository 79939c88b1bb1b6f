/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io.mmpd values as JSON, and the one place where an errno becomes an
 * io.mmpd error.  Field names and meanings follow mmpd/io.mmpd.varlink;
 * optional (?T) fields are omitted when unknown rather than sent as null.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "mmp-errors.h"
#include "mmp-names.h"
#include "mmp-ondisk.h"
#include "mmp-timing.h"
#include "mmp-varlink.h"
#include "varlink-json.h"

/* A tiny builder: set fields, remember the first failure, check once. */
struct jb {
        json_t *o;
        bool fail;
};

static struct jb jb_new(void)
{
        struct jb b = { .o = json_object() };

        b.fail = !b.o;
        return b;
}

static void jb_set(struct jb *b, const char *key, json_t *v)
{
        if (!v) {
                b->fail = true;
                return;
        }
        if (b->fail)
                json_decref(v);
        else if (json_object_set_new(b->o, key, v) < 0)      /* drops v */
                b->fail = true;
}

static void jb_str(struct jb *b, const char *key, const char *s) { jb_set(b, key, vl_json_string(s ? s : "")); }
static void jb_int(struct jb *b, const char *key, long long v) { jb_set(b, key, json_integer(v)); }
static void jb_bool(struct jb *b, const char *key, bool v) { jb_set(b, key, json_boolean(v)); }

static void jb_uint(struct jb *b, const char *key, uint64_t v)
{
        jb_int(b, key, v > (uint64_t) INT64_MAX ? INT64_MAX : (long long) v);
}

static json_t *jb_done(struct jb *b)
{
        if (b->fail) {
                json_decref(b->o);
                return NULL;
        }
        return b->o;
}

json_t *vl_json_string(const char *s)
{
        json_t *j = json_string(s);
        char *esc, *p;

        if (j)
                return j;
        /* Not UTF-8 (names on disk are whatever the writer put there):
         * keep ASCII, show every other byte as \xNN. */
        esc = malloc(strlen(s) * 4 + 1);
        if (!esc)
                return NULL;
        for (p = esc; *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch < 0x80)
                        *p++ = (char) ch;
                else
                        p += sprintf(p, "\\x%02x", ch);
        }
        *p = '\0';
        j = json_string(esc);
        free(esc);
        return j;
}

mmp_usec_t vl_now(void)
{
        return mmp_boottime_usec();
}

static json_t *hist_counts(const struct mmp_hist *h)
{
        json_t *a = json_array();

        for (unsigned i = 0; a && i < MMP_HIST_BUCKETS; i++)
                if (json_array_append_new(a, json_integer((json_int_t) h->count[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *vl_stats_json(const struct volume_stats *st)
{
        struct jb b = jb_new();
        json_t *bounds = json_array();

        for (unsigned i = 0; bounds && i < MMP_HIST_BUCKETS - 1; i++)
                if (json_array_append_new(bounds, json_integer((json_int_t) mmp_hist_bounds[i])) < 0) {
                        json_decref(bounds);
                        bounds = NULL;
                }
        jb_set(&b, "bounds_usec", bounds);
        jb_uint(&b, "beats", st->landed_late.n);
        jb_set(&b, "submit_late", hist_counts(&st->submit_late));
        jb_set(&b, "landed_late", hist_counts(&st->landed_late));
        jb_uint(&b, "submit_late_max_usec", st->submit_late.max);
        jb_uint(&b, "landed_late_max_usec", st->landed_late.max);
        jb_uint(&b, "submit_late_sum_usec", st->submit_late.sum);
        jb_uint(&b, "landed_late_sum_usec", st->landed_late.sum);
        jb_set(&b, "io", hist_counts(&st->io));
        jb_uint(&b, "io_count", st->io.n);
        jb_uint(&b, "io_max_usec", st->io.max);
        jb_uint(&b, "io_sum_usec", st->io.sum);
        return jb_done(&b);
}

int64_t vl_wall_of(const struct volume_info *info, mmp_usec_t t)
{
        /* Rounded down, so a deadline shown in wall time is never later
         * than the real one. */
        if (t >= info->now)
                return (int64_t) (info->wall_now + (t - info->now) / MMP_USEC_PER_SEC);
        return (int64_t) info->wall_now - (int64_t) ((info->now - t + MMP_USEC_PER_SEC - 1) / MMP_USEC_PER_SEC);
}

static json_t *holder_json(const struct mmp_block *h)
{
        struct jb b = jb_new();

        jb_str(&b, "node", h->nodename);
        jb_str(&b, "device", h->bdevname);
        jb_uint(&b, "seq", h->seq);
        jb_str(&b, "seq_class", mmp_seq_class_name(mmp_seq_classify(h->seq)));
        jb_uint(&b, "time_wall", h->time);
        jb_uint(&b, "check_interval", h->check_interval);
        return jb_done(&b);
}

/* Use.phase, from the volume's phase. */
static const char *use_phase_name(enum mmp_phase phase)
{
        if (phase == MMP_PHASE_HANDING_OFF || phase == MMP_PHASE_HANDOFF_CHECK || phase == MMP_PHASE_HANDOFF_WRITE)
                return "handing_off";
        return phase == MMP_PHASE_USE_END_READ ? "ending" : "in_use";
}

/* Claiming: what a peer (and we) must wait for the holder's block. */
static unsigned claim_wait_seconds(const struct volume_info *i)
{
        return mmp_wait_seconds(mmp_sb_update_interval(&i->sb), i->sm.holder.check_interval);
}

static json_t *use_json(const struct volume_info *i)
{
        const struct mmp_sm_status *sm = &i->sm;
        struct jb b = jb_new();

        jb_str(&b, "user", mmp_user_name(sm->user));
        jb_str(&b, "mode", mmp_handoff_mode_name(sm->mode));
        jb_str(&b, "phase", use_phase_name(i->phase));
        if (i->use_pid > 0)
                jb_int(&b, "pid", i->use_pid);
        if (i->use_mount_point)
                jb_str(&b, "mount_point", i->use_mount_point);
        jb_bool(&b, "keep", i->use_keep);
        jb_uint(&b, "since_usec", sm->use_since);
        if (sm->user_seen) {
                jb_uint(&b, "last_change_usec", sm->last_change);
                jb_uint(&b, "user_seq", sm->user_block.seq);
                jb_str(&b, "user_node", sm->user_block.nodename);
                jb_str(&b, "user_device", sm->user_block.bdevname);
        }
        return jb_done(&b);
}

json_t *vl_volume_json(const struct volume_info *i)
{
        const struct mmp_sm_status *sm = &i->sm;
        struct jb b = jb_new();

        jb_str(&b, "name", i->name);
        jb_str(&b, "device", i->device);
        jb_str(&b, "state", mmp_state_name(i->state));
        jb_str(&b, "phase", mmp_phase_name(i->phase));
        jb_bool(&b, "static", i->is_static);
        if (i->have_sb)
                jb_uint(&b, "update_interval", mmp_sb_update_interval(&i->sb));
        if (sm->last_good) {
                /* A write of ours has landed: our seq and our last heartbeat. */
                jb_uint(&b, "seq", sm->seq);
                jb_uint(&b, "check_interval", sm->check_interval);
                jb_uint(&b, "last_heartbeat_usec", sm->last_good);
                jb_uint(&b, "last_heartbeat_age_usec", i->now > sm->last_good ? i->now - sm->last_good : 0);
        }
        if (sm->deadlines.fence_at) {
                /* Deadlines that follow from that heartbeat (held, or just lost). */
                jb_uint(&b, "wait_seconds", sm->deadlines.wait_s);
                jb_uint(&b, "fence_at_usec", sm->deadlines.fence_at);
                jb_int(&b, "fence_at_wall", vl_wall_of(i, sm->deadlines.fence_at));
                jb_uint(&b, "peer_write_at_usec", sm->deadlines.peer_write_at);
                jb_uint(&b, "peer_use_at_usec", sm->deadlines.peer_use_at);
        } else if (i->have_sb && sm->have_holder) {
                jb_uint(&b, "wait_seconds", claim_wait_seconds(i));
        }
        jb_uint(&b, "failures", sm->failures);
        if (sm->have_holder)
                jb_set(&b, "holder", holder_json(&sm->holder));
        if (i->have_fence) {
                struct jb f = jb_new();

                jb_str(&f, "stage", i->fence.stage_name);
                jb_str(&f, "outcome", i->fence.outcome);
                jb_uint(&f, "started_usec", i->fence.started);
                if (i->fence.finished)
                        jb_uint(&f, "finished_usec", i->fence.finished);
                jb_uint(&f, "deadline_usec", i->fence.deadline);
                jb_set(&b, "fence", jb_done(&f));
        }
        if (i->in_use)
                jb_set(&b, "use", use_json(i));
        if (i->stats)
                jb_set(&b, "stats", vl_stats_json(i->stats));
        if (i->error)
                jb_str(&b, "error", i->error_text ? i->error_text : strerror(-i->error));
        return jb_done(&b);
}

/* ---- Volume as text (List) ----------------------------------------------------- */

/*
 * The same Volume written straight as compact JSON text, for List: no tree,
 * no allocation per field.  It must stay byte-identical to
 * json_dumps(vl_volume_json(), JSON_COMPACT): same keys in the same order
 * (jansson dumps an object in insertion order), integers as "%lld", and
 * strings escaped as jansson 2.x's dump_string() does.  Any field added
 * above goes here as well; tests/varlink/test-volume-text compares the two.
 */

static bool tb_grow(struct vl_textbuf *b, size_t n)
{
        size_t size;
        char *d;

        if (b->failed)
                return false;
        for (size = b->size ? b->size : 4096; size - b->len < n; size *= 2)
                if (size > SIZE_MAX / 4)
                        goto fail;
        d = realloc(b->data, size);
        if (!d)
                goto fail;
        b->data = d;
        b->size = size;
        return true;
fail:
        b->failed = true;
        return false;
}

static inline bool tb_reserve(struct vl_textbuf *b, size_t n)
{
        return (!b->failed && b->size - b->len >= n) || tb_grow(b, n);
}

static void tb_put(struct vl_textbuf *b, const void *s, size_t n)
{
        if (tb_reserve(b, n)) {
                memcpy(b->data + b->len, s, n);
                b->len += n;
        }
}

/* The end of a writer: 0, or -ENOMEM with what it appended since @start undone. */
static int tb_finish(struct vl_textbuf *b, size_t start)
{
        if (!b->failed)
                return 0;
        b->len = start;
        b->failed = false;
        return -ENOMEM;
}

#define TB_LIT(b, lit) tb_put((b), (lit), sizeof(lit) - 1)
/* Every object's first key is unconditional, so each later key takes a comma. */
#define TB_KEY(b, key) TB_LIT((b), ",\"" key "\":")

/* Most of a Volume's text is integers (the histograms): written in place,
 * two digits a division. */
static void tb_u64(struct vl_textbuf *b, uint64_t v)
{
        static const char pairs[] =
                "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                "8081828384858687888990919293949596979899";
        unsigned n = 1;
        char *p;

        for (uint64_t t = 10; n < 20 && v >= t; t *= 10)
                n++;
        if (!tb_reserve(b, n))
                return;
        b->len += n;
        p = b->data + b->len;
        for (; v >= 100; v /= 100) {
                p -= 2;
                memcpy(p, pairs + v % 100 * 2, 2);
        }
        if (v >= 10)
                memcpy(p - 2, pairs + v * 2, 2);
        else
                p[-1] = (char) ('0' + v);
}

static void tb_int(struct vl_textbuf *b, int64_t v)
{
        if (v < 0) {
                TB_LIT(b, "-");
                tb_u64(b, -(uint64_t) v);
        } else
                tb_u64(b, (uint64_t) v);
}

/* As jb_uint(): JSON integers are int64 in jansson and in io.mmpd. */
static void tb_uint(struct vl_textbuf *b, uint64_t v)
{
        tb_u64(b, v > (uint64_t) INT64_MAX ? (uint64_t) INT64_MAX : v);
}

static void tb_bool(struct vl_textbuf *b, bool v)
{
        if (v)
                TB_LIT(b, "true");
        else
                TB_LIT(b, "false");
}

/* Length of the valid UTF-8 sequence at @s, or 0: jansson's utf8_check_first()
 * and utf8_check_full() (no overlong forms, no surrogates, <= U+10FFFF), which
 * decide whether json_string() takes a string.  Stops at the NUL. */
static size_t utf8_len(const unsigned char *s)
{
        uint32_t v;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] < 0xC2)
                return 0;
        if (s[0] <= 0xDF)
                n = 2, v = s[0] & 0x1F;
        else if (s[0] <= 0xEF)
                n = 3, v = s[0] & 0x0F;
        else if (s[0] <= 0xF4)
                n = 4, v = s[0] & 0x07;
        else
                return 0;
        for (size_t k = 1; k < n; k++) {
                if (s[k] < 0x80 || s[k] > 0xBF)
                        return 0;
                v = (v << 6) | (s[k] & 0x3F);
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
                return 0;
        return n;
}

/* vl_json_string(@str) as json_dumps() writes it: '"', '\\' and control
 * characters escaped (\b \f \n \r \t, else \u00XX in capitals); when @str is
 * not UTF-8, every byte >= 0x80 becomes the text \xNN, whose backslash is
 * then escaped in turn. */
static void tb_str(struct vl_textbuf *b, const char *str)
{
        static const char upper[] = "0123456789ABCDEF", lower[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *) (str ? str : ""), *p, *run;
        bool utf8 = true;

        for (p = s; *p; ) {
                size_t n = *p < 0x80 ? 1 : utf8_len(p);

                if (!n) {
                        utf8 = false;
                        break;
                }
                p += n;
        }
        TB_LIT(b, "\"");
        for (run = p = s; *p; p++) {
                unsigned char ch = *p;

                if (ch >= 0x20 && ch != '"' && ch != '\\' && (ch < 0x80 || utf8))
                        continue;
                tb_put(b, run, (size_t) (p - run));
                run = p + 1;
                switch (ch) {
                case '"': TB_LIT(b, "\\\""); break;
                case '\\': TB_LIT(b, "\\\\"); break;
                case '\b': TB_LIT(b, "\\b"); break;
                case '\f': TB_LIT(b, "\\f"); break;
                case '\n': TB_LIT(b, "\\n"); break;
                case '\r': TB_LIT(b, "\\r"); break;
                case '\t': TB_LIT(b, "\\t"); break;
                default:
                        if (ch < 0x20)
                                tb_put(b, (char[]) { '\\', 'u', '0', '0', upper[ch >> 4], upper[ch & 15] }, 6);
                        else
                                tb_put(b, (char[]) { '\\', '\\', 'x', lower[ch >> 4], lower[ch & 15] }, 5);
                }
        }
        tb_put(b, run, (size_t) (p - run));
        TB_LIT(b, "\"");
}

/* hist_counts(): the counts cast to json_int_t, as there. */
static void tb_hist(struct vl_textbuf *b, const struct mmp_hist *h)
{
        TB_LIT(b, "[");
        for (unsigned i = 0; i < MMP_HIST_BUCKETS; i++) {
                if (i)
                        TB_LIT(b, ",");
                tb_int(b, (int64_t) h->count[i]);
        }
        TB_LIT(b, "]");
}

static void tb_stats(struct vl_textbuf *b, const struct volume_stats *st)
{
        TB_LIT(b, "{\"bounds_usec\":[");
        for (unsigned i = 0; i < MMP_HIST_BUCKETS - 1; i++) {
                if (i)
                        TB_LIT(b, ",");
                tb_int(b, (int64_t) mmp_hist_bounds[i]);
        }
        TB_LIT(b, "]");
        TB_KEY(b, "beats"); tb_uint(b, st->landed_late.n);
        TB_KEY(b, "submit_late"); tb_hist(b, &st->submit_late);
        TB_KEY(b, "landed_late"); tb_hist(b, &st->landed_late);
        TB_KEY(b, "submit_late_max_usec"); tb_uint(b, st->submit_late.max);
        TB_KEY(b, "landed_late_max_usec"); tb_uint(b, st->landed_late.max);
        TB_KEY(b, "submit_late_sum_usec"); tb_uint(b, st->submit_late.sum);
        TB_KEY(b, "landed_late_sum_usec"); tb_uint(b, st->landed_late.sum);
        TB_KEY(b, "io"); tb_hist(b, &st->io);
        TB_KEY(b, "io_count"); tb_uint(b, st->io.n);
        TB_KEY(b, "io_max_usec"); tb_uint(b, st->io.max);
        TB_KEY(b, "io_sum_usec"); tb_uint(b, st->io.sum);
        TB_LIT(b, "}");
}

static void tb_holder(struct vl_textbuf *b, const struct mmp_block *h)
{
        TB_LIT(b, "{\"node\":"); tb_str(b, h->nodename);
        TB_KEY(b, "device"); tb_str(b, h->bdevname);
        TB_KEY(b, "seq"); tb_uint(b, h->seq);
        TB_KEY(b, "seq_class"); tb_str(b, mmp_seq_class_name(mmp_seq_classify(h->seq)));
        TB_KEY(b, "time_wall"); tb_uint(b, h->time);
        TB_KEY(b, "check_interval"); tb_uint(b, h->check_interval);
        TB_LIT(b, "}");
}

static void tb_use(struct vl_textbuf *b, const struct volume_info *i)
{
        const struct mmp_sm_status *sm = &i->sm;

        TB_LIT(b, "{\"user\":"); tb_str(b, mmp_user_name(sm->user));
        TB_KEY(b, "mode"); tb_str(b, mmp_handoff_mode_name(sm->mode));
        TB_KEY(b, "phase"); tb_str(b, use_phase_name(i->phase));
        if (i->use_pid > 0) {
                TB_KEY(b, "pid"); tb_int(b, i->use_pid);
        }
        if (i->use_mount_point) {
                TB_KEY(b, "mount_point"); tb_str(b, i->use_mount_point);
        }
        TB_KEY(b, "keep"); tb_bool(b, i->use_keep);
        TB_KEY(b, "since_usec"); tb_uint(b, sm->use_since);
        if (sm->user_seen) {
                TB_KEY(b, "last_change_usec"); tb_uint(b, sm->last_change);
                TB_KEY(b, "user_seq"); tb_uint(b, sm->user_block.seq);
                TB_KEY(b, "user_node"); tb_str(b, sm->user_block.nodename);
                TB_KEY(b, "user_device"); tb_str(b, sm->user_block.bdevname);
        }
        TB_LIT(b, "}");
}

int vl_volume_text(struct vl_textbuf *b, const struct volume_info *i)
{
        const struct mmp_sm_status *sm = &i->sm;
        size_t start = b->len;

        if (b->failed || !tb_reserve(b, 2048))
                return tb_finish(b, start);
        TB_LIT(b, "{\"name\":"); tb_str(b, i->name);
        TB_KEY(b, "device"); tb_str(b, i->device);
        TB_KEY(b, "state"); tb_str(b, mmp_state_name(i->state));
        TB_KEY(b, "phase"); tb_str(b, mmp_phase_name(i->phase));
        TB_KEY(b, "static"); tb_bool(b, i->is_static);
        if (i->have_sb) {
                TB_KEY(b, "update_interval"); tb_uint(b, mmp_sb_update_interval(&i->sb));
        }
        if (sm->last_good) {
                TB_KEY(b, "seq"); tb_uint(b, sm->seq);
                TB_KEY(b, "check_interval"); tb_uint(b, sm->check_interval);
                TB_KEY(b, "last_heartbeat_usec"); tb_uint(b, sm->last_good);
                TB_KEY(b, "last_heartbeat_age_usec"); tb_uint(b, i->now > sm->last_good ? i->now - sm->last_good : 0);
        }
        if (sm->deadlines.fence_at) {
                TB_KEY(b, "wait_seconds"); tb_uint(b, sm->deadlines.wait_s);
                TB_KEY(b, "fence_at_usec"); tb_uint(b, sm->deadlines.fence_at);
                TB_KEY(b, "fence_at_wall"); tb_int(b, vl_wall_of(i, sm->deadlines.fence_at));
                TB_KEY(b, "peer_write_at_usec"); tb_uint(b, sm->deadlines.peer_write_at);
                TB_KEY(b, "peer_use_at_usec"); tb_uint(b, sm->deadlines.peer_use_at);
        } else if (i->have_sb && sm->have_holder) {
                TB_KEY(b, "wait_seconds"); tb_uint(b, claim_wait_seconds(i));
        }
        TB_KEY(b, "failures"); tb_uint(b, sm->failures);
        if (sm->have_holder) {
                TB_KEY(b, "holder"); tb_holder(b, &sm->holder);
        }
        if (i->have_fence) {
                TB_KEY(b, "fence");
                TB_LIT(b, "{\"stage\":"); tb_str(b, i->fence.stage_name);
                TB_KEY(b, "outcome"); tb_str(b, i->fence.outcome);
                TB_KEY(b, "started_usec"); tb_uint(b, i->fence.started);
                if (i->fence.finished) {
                        TB_KEY(b, "finished_usec"); tb_uint(b, i->fence.finished);
                }
                TB_KEY(b, "deadline_usec"); tb_uint(b, i->fence.deadline);
                TB_LIT(b, "}");
        }
        if (i->in_use) {
                TB_KEY(b, "use"); tb_use(b, i);
        }
        if (i->stats) {
                TB_KEY(b, "stats"); tb_stats(b, i->stats);
        }
        if (i->error) {
                TB_KEY(b, "error"); tb_str(b, i->error_text ? i->error_text : strerror(-i->error));
        }
        TB_LIT(b, "}");
        return tb_finish(b, start);
}

int vl_check_text(struct vl_textbuf *b, const struct volume_info *info, bool may_use, mmp_usec_t until)
{
        size_t start = b->len;

        TB_LIT(b, "{\"parameters\":{\"volume\":");
        /* vl_volume_text() undoes only its own part, and clears failed */
        if (b->failed || vl_volume_text(b, info) < 0) {
                b->len = start;
                b->failed = false;
                return -ENOMEM;
        }
        TB_KEY(b, "may_use"); tb_bool(b, may_use);
        if (may_use) {
                TB_KEY(b, "guaranteed_until_usec"); tb_uint(b, until);
                TB_KEY(b, "guaranteed_until_wall"); tb_int(b, vl_wall_of(info, until));
        }
        TB_LIT(b, "}}");
        return tb_finish(b, start);
}

int vl_textbuf_append(struct vl_textbuf *b, const char *text, size_t len)
{
        if (!b->failed)
                tb_put(b, text, len);
        if (!b->failed)
                return 0;
        b->failed = false;
        return -ENOMEM;
}

void vl_textbuf_free(struct vl_textbuf *b)
{
        free(b->data);
        *b = (struct vl_textbuf) {};
}

static const char *event_type_name(enum volume_event_type t)
{
        static const char *const names[] = {
                [VOLUME_EVENT_PROGRESS] = "progress",
                [VOLUME_EVENT_CLAIMED] = "claimed",
                [VOLUME_EVENT_REFUSED] = "refused",
                [VOLUME_EVENT_RELEASED] = "released",
                [VOLUME_EVENT_LOST] = "lost",
                [VOLUME_EVENT_SLOW_IO] = "slow_io",
                [VOLUME_EVENT_CHECK_INTERVAL] = "check_interval",
                [VOLUME_EVENT_REMOVED] = "removed",
                [VOLUME_EVENT_HANDOFF] = "handoff",
                [VOLUME_EVENT_IN_USE] = "in_use",
                [VOLUME_EVENT_USE_ENDED] = "use_ended",
        };

        return (unsigned) t < ELEMENTSOF(names) && names[t] ? names[t] : "progress";
}

json_t *vl_event_json(const struct volume_event *ev)
{
        struct jb b = jb_new();

        jb_str(&b, "type", event_type_name(ev->type));
        jb_set(&b, "volume", vl_volume_json(ev->info));
        if (ev->reason)
                jb_str(&b, "reason", ev->reason);
        else if (ev->error)
                jb_str(&b, "reason", strerror(-ev->error));
        if (ev->type == VOLUME_EVENT_SLOW_IO)
                jb_uint(&b, "io_usec", ev->io_usec);
        return jb_done(&b);
}

json_t *vl_block_json(const struct mmp_sb *sb, const struct mmp_block *blk)
{
        unsigned upd = mmp_sb_update_interval(sb);
        struct jb b = jb_new();

        jb_uint(&b, "block_number", sb->mmp_block);
        jb_uint(&b, "block_size", sb->block_size);
        jb_uint(&b, "update_interval", upd);
        jb_uint(&b, "check_interval", blk->check_interval);
        jb_uint(&b, "seq", blk->seq);
        jb_str(&b, "seq_class", mmp_seq_class_name(mmp_seq_classify(blk->seq)));
        jb_uint(&b, "time_wall", blk->time);
        jb_str(&b, "node", blk->nodename);
        jb_str(&b, "device", blk->bdevname);
        jb_uint(&b, "magic", blk->magic);
        jb_uint(&b, "checksum", blk->checksum);
        jb_bool(&b, "checksum_valid", blk->checksum_ok);
        jb_bool(&b, "metadata_csum", sb->metadata_csum);
        jb_uint(&b, "wait_seconds", mmp_wait_seconds(upd, blk->check_interval));
        return jb_done(&b);
}

/* ---- errors ------------------------------------------------------------------ */

static bool is_ondisk_errno(int err)
{
        switch (err) {
        case ENODATA: case EMEDIUMTYPE: case EOPNOTSUPP: case ERANGE:
        case EBADMSG: case EUCLEAN:
                return true;
        }
        return false;
}

static json_t *error_msg(enum mmp_io_error name, json_t *params)
{
        if (!params)
                return NULL;
        return mmp_varlink_error_new(mmp_io_error_name(name), params);
}

json_t *vl_error_from_errno(int err, const struct vl_error_ctx *ctx)
{
        const struct mmp_block *holder = ctx->info && ctx->info->sm.have_holder ? &ctx->info->sm.holder : NULL;
        const char *device = ctx->device ? ctx->device : ctx->info ? ctx->info->device : "";
        const char *text;
        char reason[512];
        struct jb b = jb_new();
        enum mmp_io_error name;

        err = err < 0 ? -err : err;
        if (ctx->reason)
                text = ctx->reason;
        else if (is_ondisk_errno(err) || (ctx->decoded && err == EINVAL))
                text = mmp_ondisk_strerror(-err);
        else
                text = strerror(err);
        snprintf(reason, sizeof(reason), "%s%s%s", ctx->stage ? ctx->stage : "", ctx->stage ? ": " : "", text);

        if (err == ENOLCK) {
                name = MMP_IO_ERROR_NOT_HELD;
                jb_str(&b, "device", device);
                jb_str(&b, "state", ctx->info ? mmp_state_name(ctx->info->state) : "unknown");
                return error_msg(name, jb_done(&b));
        }
        if (err == EBUSY && ctx->info && ctx->info->in_use) {
                const struct mmp_block *u = ctx->info->sm.user_seen ? &ctx->info->sm.user_block : holder;

                name = MMP_IO_ERROR_USE_IN_PROGRESS;
                jb_str(&b, "device", device);
                jb_str(&b, "user", mmp_user_name(ctx->info->sm.user));
                jb_str(&b, "node", u ? u->nodename : "");
                jb_uint(&b, "seq", u ? u->seq : 0);
                return error_msg(name, jb_done(&b));
        }
        if (ctx->op == VL_OP_HANDOFF && err != ENOENT && err != EINVAL && err != ESRCH) {
                name = MMP_IO_ERROR_HANDOFF_FAILED;
                jb_str(&b, "device", device);
                jb_str(&b, "reason", reason);
                return error_msg(name, jb_done(&b));
        }

        switch (err) {
        case ENOENT:
                if (ctx->op != VL_OP_LOOKUP)
                        goto io_error;
                name = MMP_IO_ERROR_NO_SUCH_VOLUME;
                jb_str(&b, "device", device);
                break;
        case EEXIST:
                name = MMP_IO_ERROR_ALREADY_CLAIMED;
                jb_str(&b, "device", device);
                jb_str(&b, "state", ctx->info ? mmp_state_name(ctx->info->state) : "unknown");
                break;
        case EBUSY:
                if (!holder) {
                        /* O_EXCL open failed: mounted or opened exclusively here */
                        if (!ctx->reason)
                                snprintf(reason, sizeof(reason), "device busy on this node (mounted, or opened exclusively)");
                        goto io_error;
                }
                name = MMP_IO_ERROR_VOLUME_IN_USE;
                jb_str(&b, "device", device);
                jb_str(&b, "node", holder->nodename);
                jb_str(&b, "node_device", holder->bdevname);
                jb_uint(&b, "seq", holder->seq);
                break;
        case EINPROGRESS: {
                char hint[PATH_MAX + 64];

                name = MMP_IO_ERROR_FSCK_RUNNING;
                snprintf(hint, sizeof(hint), "tune2fs -f -E clear_mmp %s", device);
                jb_str(&b, "device", device);
                jb_str(&b, "node", holder ? holder->nodename : "");
                jb_str(&b, "hint", hint);
                break;
        }
        case EOPNOTSUPP: case EMEDIUMTYPE: case ERANGE: case ENODATA:
        not_mmp:
                name = MMP_IO_ERROR_NOT_MMP_FILESYSTEM;
                jb_str(&b, "device", device);
                jb_str(&b, "reason", reason);
                break;
        case EINVAL:
                if (ctx->decoded)
                        goto not_mmp;
                goto fallback;
        case EUCLEAN: case EBADMSG: case EPROTO:
                name = MMP_IO_ERROR_CORRUPT_MMP_BLOCK;
                jb_str(&b, "device", device);
                jb_str(&b, "reason", reason);
                break;
        case ENOSPC:
                name = MMP_IO_ERROR_TOO_MANY_VOLUMES;
                jb_uint(&b, "limit", ctx->limit);
                break;
        case EMFILE: case ENFILE:
                /* Out of file descriptors: the limit is what fits now. */
                name = MMP_IO_ERROR_TOO_MANY_VOLUMES;
                jb_uint(&b, "limit", ctx->count);
                break;
        case EIO: case ETIMEDOUT: case ENXIO: case ENODEV: case ENOTBLK: case EROFS:
        case EACCES: case EPERM: case EAGAIN: case EBADFD: case ENOMEDIUM: case ENOTDIR: case ESRCH:
        case ENAMETOOLONG: case ELOOP: case EISDIR: case EBADF:
        io_error:
                name = MMP_IO_ERROR_IO_ERROR;
                jb_str(&b, "device", device);
                jb_int(&b, "errno", err);
                jb_str(&b, "reason", reason);
                break;
        default:
        fallback:
                if (ctx->op != VL_OP_CLAIM)
                        goto io_error;
                name = MMP_IO_ERROR_CLAIM_FAILED;
                jb_str(&b, "device", device);
                jb_str(&b, "reason", reason);
                break;
        }
        return error_msg(name, jb_done(&b));
}
