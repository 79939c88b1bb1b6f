/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared between the config loader (conf.c: sections, the key table, inih
 * glue, results) and its value parsers (conf-values.c).  Not installed.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "conf.h"
#include "macro.h"

/* Long enough for "device = " plus a PATH_MAX path and a comment. */
#define CONF_LINE_MAX (PATH_MAX + 256)

/* Volume margin/io_timeout not set in the file: inherit from [mmpd]. */
#define SECONDS_UNSET (-1.0)

#define ADMIN_GROUP_MAX 255
#define SOCKET_PATH_MAX ((long long) sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1)

enum section_kind {
        SECTION_NONE,           /* before the first header */
        SECTION_MMPD,
        SECTION_VOLUME,
};

struct parser;
struct conf_key;

typedef int (*conf_parse_fn)(struct parser *p, const struct conf_key *k, const char *value, void *dest);

struct conf_key {
        enum section_kind section;
        const char *name;
        conf_parse_fn parse;
        size_t offset;          /* into struct mmpd_conf or struct mmpd_volume_conf */
        long long min, max;     /* numbers: range; strings: max is the length in bytes */
        size_t fence_size;      /* > 0: a fence field, inherited from [mmpd] */
};

struct parser {
        const char *path;
        FILE *f;
        unsigned line;                  /* physical line last handed to inih */
        struct mmpd_conf *conf;
        size_t volumes_alloc;

        enum section_kind section;
        unsigned section_line;
        unsigned mmpd_line;             /* first [mmpd] header, 0 if none yet */
        unsigned *key_line;             /* per conf_keys[] entry: where set in this section */

        void *names;                    /* tsearch() trees of strings owned by conf->volumes */
        void *devices;

        char *error;                    /* first error, "FILE:LINE: message" */
        unsigned error_line;
        int error_code;
};


/* conf-values.c: each parses @value into @dest or records an error. */
int parse_seconds(struct parser *p, const struct conf_key *k, const char *value, void *dest);
int parse_uint(struct parser *p, const struct conf_key *k, const char *value, void *dest);
int parse_bool(struct parser *p, const struct conf_key *k, const char *value, void *dest);
int parse_path(struct parser *p, const struct conf_key *k, const char *value, void *dest);
int parse_text(struct parser *p, const struct conf_key *k, const char *value, void *dest);
int parse_handoff(struct parser *p, const struct conf_key *k, const char *value, void *dest);
int parse_last_resort(struct parser *p, const struct conf_key *k, const char *value, void *dest);
/* Validate @value as an absolute path; the result is a copy in *ret. */
int dup_path(struct parser *p, const struct conf_key *k, const char *value, char **ret);

/*
 * Record the first error only: later ones are usually consequences of it.
 * @line 0: no line applies.  Returns @err so callers can "return parser_error(...)".
 */
_printf_(4, 5)
int parser_error(struct parser *p, int err, unsigned line, const char *fmt, ...);
int parser_oom(struct parser *p);

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}
