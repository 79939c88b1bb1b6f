/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lib/mmp-errors.c is the one table of io.mmpd's error names.  Check it
 * against the IDL mmpd serves (the text compiled from mmpd/io.mmpd.varlink),
 * both ways, and libmmp's errno for each against the table documented in
 * lib/libmmp.h, so none of the three can drift from the others.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmp-errors.h"
#include "mmp-varlink.h"

extern const char varlink_io_mmpd_idl[];        /* mmpd/varlink-idl.c */

#define MAX_NAMES 64

/* Every "error Name (...)" line of the IDL, fully qualified. */
static size_t idl_errors(char names[][96])
{
        size_t n = 0;

        for (const char *line = varlink_io_mmpd_idl; *line; ) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);

                while (len > 0 && (*line == ' ' || *line == '\t')) {
                        line++;
                        len--;
                }
                if (len > 6 && strncmp(line, "error ", 6) == 0) {
                        size_t k = strcspn(line + 6, " (\n");

                        assert_true(n < MAX_NAMES);
                        snprintf(names[n++], 96, "%s.%.*s", MMP_IO_INTERFACE, (int) k, line + 6);
                }
                line += len;
                if (*line == '\n')
                        line++;
        }
        return n;
}

static void idl_names_the_interface(void **state)
{
        assert_non_null(strstr(varlink_io_mmpd_idl, "\ninterface " MMP_IO_INTERFACE "\n"));
}

static void table_equals_idl(void **state)
{
        char names[MAX_NAMES][96];
        size_t n = idl_errors(names);

        assert_int_equal(n, _MMP_IO_ERROR_MAX);
        /* every IDL error is in the table ... */
        for (size_t i = 0; i < n; i++) {
                print_message("# IDL: %s\n", names[i]);
                assert_true(mmp_io_error_from_name(names[i]) >= 0);
        }
        /* ... and every table entry in the IDL, once */
        for (int e = 0; e < _MMP_IO_ERROR_MAX; e++) {
                size_t found = 0;

                assert_non_null(mmp_io_error_name(e));
                for (size_t i = 0; i < n; i++)
                        found += strcmp(names[i], mmp_io_error_name(e)) == 0;
                if (found != 1)
                        fail_msg("%s is in the IDL %zu times", mmp_io_error_name(e), found);
                assert_int_equal(mmp_io_error_from_name(mmp_io_error_name(e)), e);
                assert_true(mmp_io_errors[e].errnum < 0);
        }
        assert_null(mmp_io_error_name(_MMP_IO_ERROR_MAX));
}

static void errno_of_other_names(void **state)
{
        /* not in the IDL, so not io.mmpd's: what any unknown name gets */
        assert_int_equal(mmp_io_error_from_name("io.mmpd.PermissionDenied"), -1);
        assert_int_equal(mmp_errno_from_error_name("io.mmpd.PermissionDenied"), -EPROTO);
        assert_int_equal(mmp_errno_from_error_name("io.mmpd.Whatever"), -EPROTO);
        assert_int_equal(mmp_errno_from_error_name(MMP_VARLINK_ERROR_PERMISSION_DENIED), -EACCES);
        assert_int_equal(mmp_errno_from_error_name(MMP_VARLINK_ERROR_METHOD_NOT_FOUND), -EOPNOTSUPP);
        assert_int_equal(mmp_errno_from_error_name(MMP_VARLINK_ERROR_INVALID_PARAMETER), -EPROTO);
        assert_int_equal(mmp_errno_from_error_name(mmp_io_error_name(MMP_IO_ERROR_VOLUME_IN_USE)), -EBUSY);
}

static int errno_by_name(const char *s)
{
        static const struct { const char *name; int err; } known[] = {
                { "EBUSY", EBUSY }, { "EINPROGRESS", EINPROGRESS }, { "ENOENT", ENOENT },
                { "EMEDIUMTYPE", EMEDIUMTYPE }, { "EUCLEAN", EUCLEAN }, { "EIO", EIO },
                { "EEXIST", EEXIST }, { "ENOLCK", ENOLCK }, { "ECANCELED", ECANCELED },
                { "EOPNOTSUPP", EOPNOTSUPP }, { "EACCES", EACCES }, { "EPROTO", EPROTO },
        };

        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (strcmp(known[i].name, s) == 0)
                        return -known[i].err;
        fail_msg("libmmp.h names an errno this test does not know: %s", s);
        return 0;
}

/* libmmp.h's table: " *        io.mmpd.VolumeInUse      -EBUSY   ...". */
static void libmmp_h_documents_the_table(void **state)
{
        const char *top = getenv("top_srcdir");
        bool listed[_MMP_IO_ERROR_MAX] = { false };
        char path[4096], line[512];
        unsigned rows = 0;
        FILE *f;

        if (!top)
                fail_msg("top_srcdir is not set (run under make check)");
        snprintf(path, sizeof(path), "%s/lib/libmmp.h", top);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char name[128], err[32];
                int e;

                if (sscanf(line, " * %127s %31s", name, err) != 2 || err[0] != '-' || err[1] != 'E' ||
                    (strncmp(name, "io.mmpd.", 8) != 0 && strncmp(name, "org.varlink.service.", 20) != 0))
                        continue;
                rows++;
                print_message("# libmmp.h: %s %s\n", name, err);
                assert_int_equal(mmp_errno_from_error_name(name), errno_by_name(err + 1));
                e = mmp_io_error_from_name(name);
                if (strncmp(name, "io.mmpd.", 8) == 0) {
                        if (e < 0)
                                fail_msg("libmmp.h documents %s, which io.mmpd does not have", name);
                        listed[e] = true;
                }
        }
        fclose(f);
        assert_true(rows >= 10);
        /* what it does not list is "any other error name -EPROTO" */
        for (int e = 0; e < _MMP_IO_ERROR_MAX; e++)
                if (!listed[e])
                        assert_int_equal(mmp_io_errors[e].errnum, -EPROTO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(idl_names_the_interface),
                cmocka_unit_test(table_equals_idl),
                cmocka_unit_test(errno_of_other_names),
                cmocka_unit_test(libmmp_h_documents_the_table),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
