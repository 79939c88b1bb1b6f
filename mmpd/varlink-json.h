/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io.mmpd's values as JSON, and the one errno -> io.mmpd error map
 * (varlink-json.c), for varlink-methods.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "manager.h"

/* A JSON string even for bytes that are not UTF-8 (escaped as \xNN). */
json_t *vl_json_string(const char *s);
/* Volume, per io.mmpd: ONE conversion, used by every method and event. */
json_t *vl_volume_json(const struct volume_info *info);
/*
 * The same Volume as compact JSON text, appended to @b: byte for byte what
 * json_dumps(vl_volume_json(@info), JSON_COMPACT) gives (tests/varlink/
 * test-volume-text checks), without building the tree.  For List, where
 * 10,000 trees cost half a second of the loop.  0, or -ENOMEM (@b is then
 * as it was before the call).
 */
struct vl_textbuf {
        char *data;                     /* not NUL-terminated */
        size_t len, size;
        bool failed;                    /* an append ran out of memory */
};
int vl_volume_text(struct vl_textbuf *b, const struct volume_info *info);
/*
 * Check's whole reply message as text: {"parameters":{"volume":...,
 * "may_use":...}} with guaranteed_until_usec/_wall when @may_use, byte for
 * byte what the tree of the same would dump (tests/varlink/
 * test-volume-text).  A Check is the call clients poll: its tree cost
 * more CPU than the rest of the call.  0, or -ENOMEM (@b as it was).
 */
int vl_check_text(struct vl_textbuf *b, const struct volume_info *info, bool may_use, mmp_usec_t until);
/* Append raw text; 0 or -ENOMEM. */
int vl_textbuf_append(struct vl_textbuf *b, const char *text, size_t len);
void vl_textbuf_free(struct vl_textbuf *b);
/* io.mmpd's Stats of one volume, or a sum. */
json_t *vl_stats_json(const struct volume_stats *st);
json_t *vl_event_json(const struct volume_event *ev);
json_t *vl_block_json(const struct mmp_sb *sb, const struct mmp_block *b);
mmp_usec_t vl_now(void);                /* CLOCK_BOOTTIME, as the manager's */
/* Wall-clock seconds of monotonic @t, from the snapshot's (now, wall_now). */
int64_t vl_wall_of(const struct volume_info *info, mmp_usec_t t);

enum vl_op {
        VL_OP_LOOKUP,   /* finding a known volume: ENOENT is NoSuchVolume */
        VL_OP_CLAIM,    /* a claim and its outcome: unexpected errors are ClaimFailed */
        VL_OP_RELEASE,
        VL_OP_INSPECT,
        VL_OP_HANDOFF,  /* a handoff and its outcome: failures are HandoffFailed */
        VL_OP_END_USE,
};

struct vl_error_ctx {
        enum vl_op op;
        const char *device;                     /* as the caller named it */
        const struct volume_info *info;         /* the volume concerned, or NULL */
        bool decoded;                           /* err came from the on-disk decoders */
        const char *stage;                      /* prefix for reason ("superblock"), or NULL */
        const char *reason;                     /* detail overriding the errno text, or NULL */
        unsigned limit;                         /* TooManyVolumes for ENOSPC: max_volumes */
        unsigned count;                         /* ... for EMFILE/ENFILE: volumes registered */
};

/* THE errno -> io.mmpd error map: a full error message for -@err, or NULL
 * when out of memory.  The names come from lib/mmp-errors.h. */
json_t *vl_error_from_errno(int err, const struct vl_error_ctx *ctx);
