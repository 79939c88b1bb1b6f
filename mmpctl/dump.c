/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl dump [--json] DEVICE: the MMP fields debugfs -R dump_mmp prints,
 * read without any MMP wait (like debugfs and dumpe2fs, a read-only look),
 * plus what they imply: the sequence's class, whether the checksum holds,
 * and W, the time a peer waits before it takes the volume over.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mmp-timing.h"
#include "mmpctl.h"

static void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

struct dump_view {
        const char *device;
        const struct mmpctl_ondisk *v;
        char *nodename;                 /* escaped */
        char *bdevname;                 /* escaped */
        unsigned wait_s;
};

static const char *checksum_note(const struct mmpctl_ondisk *v)
{
        if (!v->sb.metadata_csum)
                return "not used: no metadata_csum";
        return v->blk.checksum_ok ? "valid" : "INVALID: does not match the block";
}

static void print_human(const struct dump_view *d)
{
        const struct mmp_sb *sb = &d->v->sb;
        const struct mmp_block *b = &d->v->blk;
        char date[64];

        /* The first fields carry debugfs' names, in its order. */
        printf("device:          %s\n", d->device);
        printf("block_number:    %" PRIu64 "\n", sb->mmp_block);
        printf("update_interval: %u%s\n", sb->update_interval,
               sb->update_interval ? "" : " (default 5)");
        printf("check_interval:  %u\n", b->check_interval);
        printf("sequence:        %08" PRIx32 " (%s)\n", b->seq,
               mmp_seq_class_name(mmp_seq_classify(b->seq)));
        printf("time:            %" PRIu64 " -- %s\n", b->time,
               mmpctl_format_time(b->time, date, sizeof(date)));
        printf("node_name:       %s\n", d->nodename);
        printf("device_name:     %s\n", d->bdevname);
        printf("magic:           0x%" PRIx32 "%s\n", b->magic,
               b->magic == MMP_MAGIC ? "" : " (BAD: expected 0x4d4d50)");
        printf("checksum:        0x%08" PRIx32 " (%s)\n", b->checksum, checksum_note(d->v));
        printf("block_size:      %" PRIu32 "\n", sb->block_size);
        printf("metadata_csum:   %s\n",
               !sb->metadata_csum ? "no" :
               sb->csum_seed_feature ? "yes (seed in superblock)" : "yes (seed from uuid)");
        printf("wait_seconds:    %u (a peer waits this long between its two reads)\n",
               d->wait_s);
}

static int print_json(const struct dump_view *d)
{
        const struct mmp_sb *sb = &d->v->sb;
        const struct mmp_block *b = &d->v->blk;
        _cleanup_json_ json_t *o = NULL;

        /* json_int_t is signed 64-bit: a garbage mmp_time above INT64_MAX
         * shows as negative, which is at least visibly wrong. */
        o = json_pack("{s:s, s:I, s:i, s:i, s:I, s:s, s:I, s:s, s:s, s:I, s:I, s:b,"
                      " s:i, s:I, s:b}",
                      "device", d->device,
                      "block_number", (json_int_t) sb->mmp_block,
                      "update_interval", (int) sb->update_interval,
                      "check_interval", (int) b->check_interval,
                      "sequence", (json_int_t) b->seq,
                      "sequence_class", mmp_seq_class_name(mmp_seq_classify(b->seq)),
                      "time", (json_int_t) b->time,
                      "node_name", d->nodename,
                      "device_name", d->bdevname,
                      "magic", (json_int_t) b->magic,
                      "checksum", (json_int_t) b->checksum,
                      "checksum_valid", (int) b->checksum_ok,
                      "wait_seconds", (int) d->wait_s,
                      "block_size", (json_int_t) sb->block_size,
                      "metadata_csum", (int) sb->metadata_csum);
        if (!o || json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                return -ENOMEM;
        putchar('\n');
        return 0;
}

static void dump_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl dump [--json] DEVICE\n"
                "\n"
                "Show the MMP block of DEVICE (a block device or an image file) and what\n"
                "it implies, without waiting and without writing.\n"
                "Exit status: 0 the block is sound, 1 the MMP block is corrupt (shown anyway),\n"
                "2 error (not ext4, no mmp feature, unreadable).\n");
}

int mmpctl_cmd_dump(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_free_ char *nodename = NULL;
        _cleanup_free_ char *bdevname = NULL;
        struct mmpctl_ondisk v;
        struct dump_view d;
        const char *what = NULL;
        bool json = ctx->json;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        dump_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        dump_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                dump_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        d.device = argv[optind];

        r = mmpctl_ondisk_read(d.device, &v, &what);
        if (r < 0) {
                if (what)
                        mmpctl_err("%s: %s: %s", d.device, what, strerror(-r));
                else
                        mmpctl_err("%s: %s", d.device, mmp_ondisk_strerror(r));
                return MMPCTL_EXIT_ERROR;
        }

        nodename = mmpctl_escape(v.blk.nodename);
        bdevname = mmpctl_escape(v.blk.bdevname);
        if (!nodename || !bdevname) {
                mmpctl_err("%s: %s", d.device, strerror(ENOMEM));
                return MMPCTL_EXIT_ERROR;
        }
        d.v = &v;
        d.nodename = nodename;
        d.bdevname = bdevname;
        d.wait_s = mmp_wait_seconds(mmp_sb_update_interval(&v.sb), v.blk.check_interval);

        if (json) {
                r = print_json(&d);
                if (r < 0) {
                        mmpctl_err("%s: cannot format JSON: %s", d.device, strerror(-r));
                        return MMPCTL_EXIT_ERROR;
                }
        } else {
                print_human(&d);
        }
        if (fflush(stdout) != 0) {
                mmpctl_err("cannot write output: %s", strerror(errno));
                return MMPCTL_EXIT_ERROR;
        }

        if (v.blk_err) {
                /* Shown anyway so the user sees what is there; no MMP peer
                 * (kernel, e2fsprogs) will use the volume until it is repaired. */
                mmpctl_err("%s: warning: MMP block %" PRIu64 ": %s; the volume is not usable as is",
                           d.device, v.sb.mmp_block, mmp_ondisk_strerror(v.blk_err));
                return MMPCTL_EXIT_UNUSABLE;
        }
        return MMPCTL_EXIT_OK;
}
