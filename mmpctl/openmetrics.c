/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OpenMetrics text (https://openmetrics.io) from io.mmpd's JSON.
 *
 * Every family is written whole, volume after volume, as the format asks.
 * States are gauges with a label (1 for the current one, 0 for the others)
 * rather than OpenMetrics statesets, and the daemon's identity is a gauge
 * too: node_exporter's textfile collector reads the Prometheus text format,
 * which knows neither type, and both formats accept this text.
 *
 * Histograms come from Stats (mmpd/io.mmpd.varlink): counts[i] holds the
 * samples in (bounds_usec[i-1], bounds_usec[i]], the last one those above
 * every bound.  Buckets here are cumulative, "le" in seconds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "openmetrics.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const volume_states[] = {
        "idle", "claiming", "held", "releasing", "released", "refused", "lost", "in_use",
};

static const char *const fence_outcomes[] = { "running", "fenced", "failed", "late" };

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *out, const char *s)
{
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", out);
                else if (*s == '"')
                        fputs("\\\"", out);
                else if (*s == '\n')
                        fputs("\\n", out);
                else
                        fputc(*s, out);
        }
}

/* Microseconds as seconds, exactly and without an exponent: "0.00005", "2.5", "1.0". */
static const char *format_seconds(uint64_t usec, char buf[static 32])
{
        char frac[8];
        int n;

        snprintf(frac, sizeof(frac), "%06" PRIu64, usec % 1000000u);
        for (n = 6; n > 1 && frac[n - 1] == '0'; n--)
                ;
        snprintf(buf, 32, "%" PRIu64 ".%.*s", usec / 1000000u, n, frac);
        return buf;
}

static void put_seconds(FILE *out, uint64_t usec)
{
        char buf[32];

        fputs(format_seconds(usec, buf), out);
}

static void family(FILE *out, const char *name, const char *type, const char *unit, const char *help)
{
        fprintf(out, "# TYPE %s %s\n", name, type);
        if (unit)
                fprintf(out, "# UNIT %s %s\n", name, unit);
        fprintf(out, "# HELP %s %s\n", name, help);
}

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "";
}

static bool get_uint(json_t *o, const char *key, uint64_t *ret)
{
        json_t *j = json_object_get(o, key);

        if (!json_is_integer(j) || json_integer_value(j) < 0)
                return false;
        *ret = (uint64_t) json_integer_value(j);
        return true;
}

/* SAMPLE{volume="..",device=".."[,LABEL=".."]} for volume @v, or
 * SAMPLE[{LABEL=".."}] for the daemon (@v NULL), without the value. */
static void sample(FILE *out, const char *name, const char *suffix, json_t *v,
                   const char *label, const char *value)
{
        fprintf(out, "%s%s", name, suffix);
        if (!v && !label)
                return;
        fputc('{', out);
        if (v) {
                fputs("volume=\"", out);
                put_label_value(out, str(v, "name"));
                fputs("\",device=\"", out);
                put_label_value(out, str(v, "device"));
                fputc('"', out);
        }
        if (label) {
                fprintf(out, "%s%s=\"", v ? "," : "", label);
                put_label_value(out, value);
                fputc('"', out);
        }
        fputc('}', out);
}

enum kind { PLAIN, USEC, COUNTER };

/* A gauge (or counter) per volume from the integer @key of the volume or
 * of its object @sub; volumes without it have no sample.  USEC: the field
 * is microseconds, written as seconds. */
static void volume_number(FILE *out, json_t *volumes, const char *name, enum kind kind,
                          const char *unit, const char *help, const char *sub, const char *key)
{
        bool header = false;
        size_t i;
        json_t *v;

        json_array_foreach(volumes, i, v) {
                uint64_t u;

                if (!get_uint(sub ? json_object_get(v, sub) : v, key, &u))
                        continue;
                if (!header)
                        family(out, name, kind == COUNTER ? "counter" : "gauge", unit, help);
                header = true;
                sample(out, name, kind == COUNTER ? "_total" : "", v, NULL, NULL);
                if (kind == USEC) {
                        fputc(' ', out);
                        put_seconds(out, u);
                        fputc('\n', out);
                } else {
                        fprintf(out, " %" PRIu64 "\n", u);
                }
        }
}

/* A one-of-N gauge: NAME{...,LABEL="x"} 1 for @current, 0 for the others;
 * a @current outside @names (from a newer mmpd) gets its own sample. */
static void one_of(FILE *out, const char *name, json_t *v, const char *label,
                   const char *const *names, size_t n, const char *current)
{
        bool known = false;

        for (size_t i = 0; i < n; i++) {
                bool is = strcmp(names[i], current) == 0;

                sample(out, name, "", v, label, names[i]);
                fprintf(out, " %d\n", is);
                known |= is;
        }
        if (!known && current[0]) {
                sample(out, name, "", v, label, current);
                fputs(" 1\n", out);
        }
}

/* Whether Stats @st has a histogram @key that matches its bounds. */
static bool histogram_ok(json_t *st, const char *key)
{
        json_t *bounds = json_object_get(st, "bounds_usec"), *counts = json_object_get(st, key);

        return json_is_array(bounds) && json_is_array(counts) &&
               json_array_size(counts) == json_array_size(bounds) + 1;
}

/* The samples of one histogram: cumulative buckets, count, sum. */
static void histogram_samples(FILE *out, const char *name, json_t *v, json_t *st,
                              const char *key, const char *sum_key)
{
        json_t *bounds = json_object_get(st, "bounds_usec"), *counts = json_object_get(st, key);
        uint64_t total = 0, sum = 0;
        size_t nb = json_array_size(bounds);

        for (size_t i = 0; i <= nb; i++) {
                json_t *c = json_array_get(counts, i);
                char le[32];

                if (json_is_integer(c) && json_integer_value(c) > 0)
                        total += (uint64_t) json_integer_value(c);
                if (i == nb) {
                        snprintf(le, sizeof(le), "+Inf");
                } else {
                        json_t *b = json_array_get(bounds, i);
                        uint64_t us = json_is_integer(b) && json_integer_value(b) > 0 ?
                                      (uint64_t) json_integer_value(b) : 0;

                        format_seconds(us, le);
                }
                sample(out, name, "_bucket", v, "le", le);
                fprintf(out, " %" PRIu64 "\n", total);
        }
        get_uint(st, sum_key, &sum);
        sample(out, name, "_count", v, NULL, NULL);
        fprintf(out, " %" PRIu64 "\n", total);
        sample(out, name, "_sum", v, NULL, NULL);
        fputc(' ', out);
        put_seconds(out, sum);
        fputc('\n', out);
}

static void volume_histogram(FILE *out, json_t *volumes, const char *name, const char *help,
                             const char *key, const char *sum_key)
{
        bool header = false;
        size_t i;
        json_t *v;

        json_array_foreach(volumes, i, v) {
                json_t *st = json_object_get(v, "stats");

                if (!histogram_ok(st, key))
                        continue;
                if (!header)
                        family(out, name, "histogram", "seconds", help);
                header = true;
                histogram_samples(out, name, v, st, key, sum_key);
        }
}

static void volumes_write(FILE *out, json_t *volumes)
{
        bool header = false;
        size_t i;
        json_t *v;

        family(out, "mmpd_volume_state", "gauge", NULL,
               "The volume's state: 1 for the current one, 0 for the others.");
        json_array_foreach(volumes, i, v)
                one_of(out, "mmpd_volume_state", v, "state", volume_states, N_ELEMENTS(volume_states),
                       str(v, "state"));
        volume_number(out, volumes, "mmpd_volume_seq", PLAIN, NULL,
                      "The sequence number mmpd last read or wrote in the MMP block.", NULL, "seq");
        volume_number(out, volumes, "mmpd_volume_check_interval_seconds", PLAIN, "seconds",
                      "check_interval of the last MMP block (peers derive W from it).", NULL,
                      "check_interval");
        volume_number(out, volumes, "mmpd_volume_update_interval_seconds", PLAIN, "seconds",
                      "The superblock's MMP update interval.", NULL, "update_interval");
        volume_number(out, volumes, "mmpd_volume_wait_seconds", PLAIN, "seconds",
                      "W: how long a peer waits between its two reads.", NULL, "wait_seconds");
        volume_number(out, volumes, "mmpd_volume_heartbeat_age_seconds", USEC, "seconds",
                      "Age of the last heartbeat when mmpd answered.", NULL, "last_heartbeat_age_usec");
        volume_number(out, volumes, "mmpd_volume_failures", PLAIN, NULL,
                      "Failed heartbeat attempts since the last good one.", NULL, "failures");
        volume_number(out, volumes, "mmpd_volume_heartbeats", COUNTER, NULL,
                      "Heartbeat writes that landed.", "stats", "beats");
        volume_histogram(out, volumes, "mmpd_volume_heartbeat_submit_late_seconds",
                         "From a heartbeat's due time to the submission of its write.",
                         "submit_late", "submit_late_sum_usec");
        volume_histogram(out, volumes, "mmpd_volume_heartbeat_landed_late_seconds",
                         "From a heartbeat's due time to the completion of its write.",
                         "landed_late", "landed_late_sum_usec");
        volume_number(out, volumes, "mmpd_volume_heartbeat_submit_late_max_seconds", USEC, "seconds",
                      "The latest submission of a heartbeat write.", "stats", "submit_late_max_usec");
        volume_number(out, volumes, "mmpd_volume_heartbeat_landed_late_max_seconds", USEC, "seconds",
                      "The latest completion of a heartbeat write.", "stats", "landed_late_max_usec");
        volume_histogram(out, volumes, "mmpd_volume_io_latency_seconds",
                         "Every device I/O of the volume, from submission to completion.",
                         "io", "io_sum_usec");
        volume_number(out, volumes, "mmpd_volume_io_latency_max_seconds", USEC, "seconds",
                      "The slowest device I/O of the volume.", "stats", "io_max_usec");

        json_array_foreach(volumes, i, v) {
                json_t *fence = json_object_get(v, "fence");

                if (!json_is_object(fence))
                        continue;
                if (!header)
                        family(out, "mmpd_volume_fence_outcome", "gauge", NULL,
                               "The fence of a lost volume: 1 for its outcome, 0 for the others.");
                header = true;
                one_of(out, "mmpd_volume_fence_outcome", v, "outcome", fence_outcomes,
                       N_ELEMENTS(fence_outcomes), str(fence, "outcome"));
        }

        family(out, "mmpd_volumes", "gauge", NULL, "Volumes mmpd knows, by state.");
        for (size_t s = 0; s < N_ELEMENTS(volume_states); s++) {
                unsigned n = 0;

                json_array_foreach(volumes, i, v)
                        n += strcmp(str(v, "state"), volume_states[s]) == 0;
                sample(out, "mmpd_volumes", "", NULL, "state", volume_states[s]);
                fprintf(out, " %u\n", n);
        }
}

static void daemon_write(FILE *out, json_t *d)
{
        json_t *st = json_object_get(d, "stats");
        uint64_t u;

        family(out, "mmpd_info", "gauge", NULL, "The mmpd answering: node name and version.");
        fputs("mmpd_info{node=\"", out);
        put_label_value(out, str(d, "node"));
        fputs("\",version=\"", out);
        put_label_value(out, str(d, "version"));
        fputs("\"} 1\n", out);
        if (get_uint(d, "uptime_usec", &u)) {
                family(out, "mmpd_uptime_seconds", "gauge", "seconds", "Time since mmpd started.");
                fputs("mmpd_uptime_seconds ", out);
                put_seconds(out, u);
                fputc('\n', out);
        }
        if (get_uint(d, "connections", &u)) {
                family(out, "mmpd_control_connections", "gauge", NULL, "Open control connections.");
                fprintf(out, "mmpd_control_connections %" PRIu64 "\n", u);
        }
        if (get_uint(st, "beats", &u)) {
                family(out, "mmpd_heartbeats", "counter", NULL, "Heartbeat writes that landed, all volumes.");
                fprintf(out, "mmpd_heartbeats_total %" PRIu64 "\n", u);
        }
        if (histogram_ok(st, "submit_late")) {
                family(out, "mmpd_heartbeat_submit_late_seconds", "histogram", "seconds",
                       "From a heartbeat's due time to the submission of its write, all volumes.");
                histogram_samples(out, "mmpd_heartbeat_submit_late_seconds", NULL, st,
                                  "submit_late", "submit_late_sum_usec");
        }
        if (histogram_ok(st, "landed_late")) {
                family(out, "mmpd_heartbeat_landed_late_seconds", "histogram", "seconds",
                       "From a heartbeat's due time to the completion of its write, all volumes.");
                histogram_samples(out, "mmpd_heartbeat_landed_late_seconds", NULL, st,
                                  "landed_late", "landed_late_sum_usec");
        }
        if (histogram_ok(st, "io")) {
                family(out, "mmpd_io_latency_seconds", "histogram", "seconds",
                       "Every device I/O, from submission to completion, all volumes.");
                histogram_samples(out, "mmpd_io_latency_seconds", NULL, st, "io", "io_sum_usec");
        }
}

int mmpctl_openmetrics_write(FILE *out, json_t *volumes, json_t *daemon)
{
        volumes_write(out, volumes);
        if (daemon)
                daemon_write(out, daemon);
        fputs("# EOF\n", out);
        return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
