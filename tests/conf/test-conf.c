/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/conf.c: good configs load with exact values, every bad one fails with
 * the exact "FILE:LINE: message", leaves *ret alone and leaks nothing (run
 * under valgrind).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "mmpd/conf.h"

/* ---- helpers ----------------------------------------------------------- */

/* Writes @len bytes of @text to a new temp file; returns its malloc'd path. */
static char *write_conf_len(const char *text, size_t len)
{
        const char *dir = getenv("TMPDIR");
        char *path;
        int fd;

        assert_true(asprintf(&path, "%s/mmpd-conf-XXXXXX", dir && *dir ? dir : "/tmp") > 0);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t) len);
        assert_int_equal(close(fd), 0);
        return path;
}

static char *write_conf(const char *text)
{
        return write_conf_len(text, strlen(text));
}

static struct mmpd_conf *load_ok(const char *text)
{
        _cleanup_free_ char *path = write_conf(text);
        _cleanup_free_ char *error = NULL;
        struct mmpd_conf *conf = NULL;
        int r;

        r = mmpd_conf_load(path, true, &conf, &error);
        unlink(path);   /* before any assert: a failure jumps out of here */
        if (r < 0)
                fail_msg("unexpected error %d: %s", r, error ? error : "(no message)");
        assert_null(error);
        assert_non_null(conf);
        assert_string_equal(conf->path, path);
        return conf;
}

/*
 * Loads @len bytes of @text, expects -EINVAL and exactly "PATH:LINE: msg";
 * *ret must stay as it was.  @msg NULL: only the "PATH:LINE: " prefix and
 * @prefix are compared (for messages that depend on build limits).
 */
static void expect_error_len(const char *text, size_t len, unsigned line, const char *msg, const char *prefix)
{
        _cleanup_free_ char *path = write_conf_len(text, len);
        _cleanup_free_ char *error = NULL, *expected = NULL;
        struct mmpd_conf sentinel = {}, *conf = &sentinel;
        int r;

        r = mmpd_conf_load(path, true, &conf, &error);
        unlink(path);
        assert_int_equal(r, -EINVAL);
        assert_ptr_equal(conf, &sentinel);
        assert_non_null(error);

        assert_true(asprintf(&expected, "%s:%u: %s", path, line, msg ? msg : prefix) > 0);
        if (msg)
                assert_string_equal(error, expected);
        else if (strncmp(error, expected, strlen(expected)) != 0)
                fail_msg("'%s' does not start with '%s'", error, expected);
}

static void expect_error(const char *text, unsigned line, const char *msg)
{
        expect_error_len(text, strlen(text), line, msg, NULL);
}

static char *repeat(char c, size_t n)
{
        char *s = malloc(n + 1);

        assert_non_null(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static char *hostname(void)
{
        char host[HOST_NAME_MAX + 1] = "";

        assert_int_equal(gethostname(host, sizeof(host)), 0);
        host[HOST_NAME_MAX] = '\0';
        return strdup(host);
}

static void assert_defaults(const struct mmpd_conf *conf)
{
        _cleanup_free_ char *host = hostname();

        assert_string_equal(conf->node_name, host);
        assert_string_equal(conf->socket_path, MMPD_DEFAULT_SOCKET);
        assert_null(conf->admin_group);
        assert_false(conf->keep_on_stop);
        assert_int_equal(conf->max_volumes, 10000);
        assert_true(conf->margin == 0.0);
        assert_true(conf->io_timeout == 0.0);
        assert_int_equal(conf->n_volumes, 0);
}

/* ---- good configs ------------------------------------------------------ */

static void test_missing_file_defaults(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = NULL;
        char *error = NULL;

        assert_int_equal(mmpd_conf_load("/nonexistent/mmpd.conf", false, &conf, &error), 0);
        assert_null(error);
        assert_non_null(conf);
        assert_null(conf->path);
        assert_defaults(conf);
}

static void test_missing_file_must_exist(void **state)
{
        struct mmpd_conf sentinel = {}, *conf = &sentinel;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(mmpd_conf_load("/nonexistent/mmpd.conf", true, &conf, &error), -ENOENT);
        assert_ptr_equal(conf, &sentinel);
        assert_string_equal(error, "/nonexistent/mmpd.conf: cannot open: No such file or directory");
}

static void test_directory_is_read_error(void **state)
{
        struct mmpd_conf sentinel = {}, *conf = &sentinel;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(mmpd_conf_load("/", true, &conf, &error), -EIO);
        assert_ptr_equal(conf, &sentinel);
        assert_string_equal(error, "/: read error: Is a directory");
}

/* A FIFO where the config should be must not hang the loop (SIGHUP) or the
 * start: refused at once, naming the file.  So is a device. */
static void test_fifo_is_refused_at_once(void **state)
{
        struct mmpd_conf sentinel = {}, *conf = &sentinel;
        _cleanup_free_ char *error = NULL, *expected = NULL;
        char dir[] = "/tmp/mmpd-conf-fifo.XXXXXX", fifo[64];

        assert_non_null(mkdtemp(dir));
        snprintf(fifo, sizeof(fifo), "%s/conf", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        alarm(5);               /* a hang fails the test instead of blocking it */
        assert_int_equal(mmpd_conf_load(fifo, true, &conf, &error), -EINVAL);
        alarm(0);
        unlink(fifo);
        rmdir(dir);
        assert_ptr_equal(conf, &sentinel);
        assert_true(asprintf(&expected, "%s: cannot read: not a regular file", fifo) > 0);
        assert_string_equal(error, expected);

        free(error);
        error = NULL;
        assert_int_equal(mmpd_conf_load("/dev/null", true, &conf, &error), -EINVAL);
        assert_string_equal(error, "/dev/null: cannot read: not a regular file");
}

static void test_null_ret_error(void **state)
{
        _cleanup_free_ char *path = write_conf("[bogus]\n");
        struct mmpd_conf *conf = NULL;

        int r;

        r = mmpd_conf_load(path, true, &conf, NULL);
        unlink(path);
        assert_int_equal(r, -EINVAL);
        assert_null(conf);
}

static void test_empty_file(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok("");

        assert_defaults(conf);
}

static void test_comments_only(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok("# nothing\n; at all\n\n   \n[mmpd]\n");

        assert_defaults(conf);
}

static void test_every_key(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[mmpd]\n"
                "node_name = node-a.example\n"
                "socket = /run/test/mmpd.sock\n"
                "admin_group = storage admins\n"
                "keep_on_stop = yes\n"
                "max_volumes = 7\n"
                "margin = 1.5\n"
                "io_timeout = 3\n"
                "\n"
                "[volume \"data\"]\n"
                "device = /dev/disk/by-id/wwn-0x1\n"
                "margin = 0.25\n"
                "io_timeout = 3600\n"
                "\n"
                "[volume \"Logs_2:db@site-1.x\"]\n"
                "device = /dev/sdb\n");

        assert_string_equal(conf->node_name, "node-a.example");
        assert_string_equal(conf->socket_path, "/run/test/mmpd.sock");
        assert_string_equal(conf->admin_group, "storage admins");
        assert_true(conf->keep_on_stop);
        assert_int_equal(conf->max_volumes, 7);
        assert_true(conf->margin == 1.5);
        assert_true(conf->io_timeout == 3.0);

        assert_int_equal(conf->n_volumes, 2);
        assert_string_equal(conf->volumes[0].name, "data");
        assert_string_equal(conf->volumes[0].device, "/dev/disk/by-id/wwn-0x1");
        assert_true(conf->volumes[0].margin == 0.25);
        assert_true(conf->volumes[0].io_timeout == 3600.0);
        assert_int_equal(conf->volumes[0].line, 10);
        assert_string_equal(conf->volumes[1].name, "Logs_2:db@site-1.x");
        assert_string_equal(conf->volumes[1].device, "/dev/sdb");
        assert_true(conf->volumes[1].margin == 1.5);
        assert_true(conf->volumes[1].io_timeout == 3.0);
        assert_int_equal(conf->volumes[1].line, 15);
}

/* [mmpd] values fill in what a volume leaves unset; explicit 0 stays 0. */
static void check_inheritance(const struct mmpd_conf *conf)
{
        const struct mmpd_volume_conf *a, *b, *c;

        assert_int_equal(conf->n_volumes, 3);
        a = mmpd_conf_find_volume(conf, "a");
        b = mmpd_conf_find_volume(conf, "b");
        c = mmpd_conf_find_volume(conf, "c");
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_true(a->margin == 5.0 && a->io_timeout == 7.0);
        assert_true(b->margin == 1.0 && b->io_timeout == 7.0);
        assert_true(c->margin == 0.0 && c->io_timeout == 0.0);
}

static void test_inherit_mmpd_first(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[mmpd]\nmargin = 5\nio_timeout = 7\n"
                "[volume \"a\"]\ndevice = /dev/a\n"
                "[volume \"b\"]\ndevice = /dev/b\nmargin = 1\n"
                "[volume \"c\"]\ndevice = /dev/c\nmargin = 0\nio_timeout = 0\n");

        check_inheritance(conf);
}

static void test_inherit_mmpd_last(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[volume \"a\"]\ndevice = /dev/a\n"
                "[volume \"b\"]\ndevice = /dev/b\nmargin = 1\n"
                "[volume \"c\"]\ndevice = /dev/c\nmargin = 0\nio_timeout = 0\n"
                "[mmpd]\nmargin = 5\nio_timeout = 7\n");

        check_inheritance(conf);
}

static void test_fence_keys(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[volume \"a\"]\ndevice = /dev/a\n"
                "[volume \"b\"]\ndevice = /dev/b\nfence_hook = /b-hook\nfence_kill = no\n"
                "exclusive = yes\nfence_last_resort = none\n"
                "[mmpd]\nfence_hook = /hook\nfence_hook_timeout = 1.5\nexclusive = no\n"
                "fence_last_resort = reboot\nfence_reboot_command = /rb\nwatchdog_device = /wd\n");
        const struct mmpd_fence_conf *a = &conf->volumes[0].fence, *b = &conf->volumes[1].fence;

        assert_string_equal(conf->watchdog_device, "/wd");
        assert_true(conf->watchdog_interval == 1.0);
        /* a inherits everything set in [mmpd], and the built-in defaults */
        assert_string_equal(a->hook, "/hook");
        assert_true(a->hook_timeout == 1.5);
        assert_false(a->exclusive);
        assert_int_equal(a->last_resort, MMPD_LAST_RESORT_REBOOT);
        assert_string_equal(a->reboot_command, "/rb");
        assert_true(a->enabled && a->kill && a->shutdown);
        /* b overrides some */
        assert_string_equal(b->hook, "/b-hook");
        assert_false(b->kill);
        assert_true(b->exclusive);
        assert_int_equal(b->last_resort, MMPD_LAST_RESORT_NONE);
        assert_true(b->hook_timeout == 1.5);
        assert_string_equal(b->reboot_command, "/rb");
}

static void test_fence_defaults(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok("[volume \"a\"]\ndevice = /dev/a\n");
        const struct mmpd_fence_conf *a = &conf->volumes[0].fence;

        assert_true(a->exclusive && a->enabled && a->kill && a->shutdown);
        assert_null(a->hook);
        assert_int_equal(a->last_resort, MMPD_LAST_RESORT_NONE);
        assert_null(conf->watchdog_device);
}

static void test_handoff_keys(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[mmpd]\nhandoff = wait\nhandoff_timeout = 2.5\nhost_name = kernel-host\n"
                "[volume \"a\"]\ndevice = /dev/a\n"
                "[volume \"b\"]\ndevice = /dev/b\nhandoff = fast\nhandoff_timeout = 0\n");
        const struct mmpd_fence_conf *a = &conf->volumes[0].fence, *b = &conf->volumes[1].fence;

        assert_string_equal(conf->host_name, "kernel-host");
        assert_true(a->handoff_wait);
        assert_true(a->handoff_timeout == 2.5);
        assert_false(b->handoff_wait);
        assert_true(b->handoff_timeout == 0);
}

static void test_handoff_defaults(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok("[mmpd]\nnode_name = n1\n[volume \"a\"]\ndevice = /dev/a\n");
        char host[256] = "";

        assert_false(conf->volumes[0].fence.handoff_wait);
        assert_true(conf->volumes[0].fence.handoff_timeout == MMPD_DEFAULT_HANDOFF_TIMEOUT);
        /* what the kernel and e2fsprogs write: the host name, not node_name */
        assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
        assert_string_equal(conf->host_name, host[0] ? host : "n1");
}

static void test_handoff_errors(void **state)
{
        expect_error("[mmpd]\nhandoff = later\n", 2,
                     "invalid value 'later' for 'handoff': expected fast or wait");
        const char *t1 = "[volume \"a\"]\ndevice = /dev/a\nhandoff_timeout = 601\n";
        const char *t2 = "[volume \"a\"]\ndevice = /dev/a\nhost_name = x\n";

        expect_error_len(t1, strlen(t1), 3, NULL, "invalid value '601' for 'handoff_timeout'");
        /* host_name is what this host's kernel writes: [mmpd] only */
        expect_error_len(t2, strlen(t2), 3, NULL, "unknown key 'host_name'");
}

static void test_booleans(void **state)
{
        static const struct {
                const char *text;
                bool value;
        } cases[] = {
                { "yes", true }, { "true", true }, { "on", true }, { "1", true },
                { "no", false }, { "false", false }, { "off", false }, { "0", false },
                { "YES", true }, { "Off", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_conf_ struct mmpd_conf *conf = NULL;

                assert_true(asprintf(&text, "[mmpd]\nkeep_on_stop = %s\n", cases[i].text) > 0);
                conf = load_ok(text);
                assert_int_equal(conf->keep_on_stop, cases[i].value);
        }
}

/* Indentation, inline comments, CRLF, BOM, "key: value", blanks in headers. */
static void test_syntax_variants(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "\xEF\xBB\xBF# with a byte order mark\r\n"
                "  [ mmpd ]   # header comment\r\n"
                "\tnode_name = n1 ; inline comment\r\n"
                "    margin: 2\r\n"
                "[volume   \"v1\" ] ; another\r\n"
                "    device = /dev/v1\r\n"
                "    margin = 3\r\n"
                "        io_timeout = 4\r\n");

        assert_string_equal(conf->node_name, "n1");
        assert_true(conf->margin == 2.0);
        assert_int_equal(conf->n_volumes, 1);
        assert_string_equal(conf->volumes[0].name, "v1");
        assert_string_equal(conf->volumes[0].device, "/dev/v1");
        assert_true(conf->volumes[0].margin == 3.0);
        assert_true(conf->volumes[0].io_timeout == 4.0);
        assert_int_equal(conf->volumes[0].line, 5);
}

static void test_find_volume(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[volume \"x\"]\ndevice = /dev/x\n[volume \"y\"]\ndevice = /dev/y\n");

        assert_string_equal(mmpd_conf_find_volume(conf, "y")->device, "/dev/y");
        assert_ptr_equal(mmpd_conf_find_volume(conf, "x"), &conf->volumes[0]);
        assert_null(mmpd_conf_find_volume(conf, "X"));
        assert_null(mmpd_conf_find_volume(conf, "z"));
        assert_null(mmpd_conf_find_volume(conf, NULL));
        assert_null(mmpd_conf_find_volume(NULL, "x"));
}

static void test_example_conf(void **state)
{
        const char *top = getenv("top_srcdir");
        _cleanup_conf_ struct mmpd_conf *conf = NULL;
        _cleanup_free_ char *path = NULL, *error = NULL, *host = hostname();
        int r;

        assert_true(asprintf(&path, "%s/conf/mmpd.conf", top ? top : ".") > 0);
        r = mmpd_conf_load(path, true, &conf, &error);
        if (r < 0)
                fail_msg("%s", error ? error : "(no message)");
        /* The example shows the defaults commented out; it must not change them. */
        assert_string_equal(conf->node_name, host);
        assert_string_equal(conf->socket_path, MMPD_DEFAULT_SOCKET);
        assert_null(conf->admin_group);
        assert_false(conf->keep_on_stop);
        assert_int_equal(conf->max_volumes, 10000);
        assert_int_equal(conf->n_volumes, 2);
        assert_string_equal(conf->volumes[0].name, "data");
        assert_true(conf->volumes[0].margin == 0.0);
        assert_string_equal(conf->volumes[1].name, "logs");
        assert_true(conf->volumes[1].margin == 2.5);
        assert_true(conf->volumes[1].io_timeout == 4.0);
}

/* ---- bounds ------------------------------------------------------------ */

static void test_volume_name_length(void **state)
{
        _cleanup_free_ char *name64 = repeat('n', MMPD_NAME_MAX), *name65 = repeat('n', MMPD_NAME_MAX + 1);
        _cleanup_free_ char *good = NULL, *bad = NULL, *msg = NULL;
        _cleanup_conf_ struct mmpd_conf *conf = NULL;

        assert_true(asprintf(&good, "[volume \"%s\"]\ndevice = /dev/a\n", name64) > 0);
        conf = load_ok(good);
        assert_string_equal(conf->volumes[0].name, name64);

        assert_true(asprintf(&bad, "\n[volume \"%s\"]\ndevice = /dev/a\n", name65) > 0);
        assert_true(asprintf(&msg, "invalid volume name \"%s\": expected 1 to 64 characters of "
                             "A-Z a-z 0-9 . _ : @ -", name65) > 0);
        expect_error(bad, 2, msg);
}

static void test_node_name_length(void **state)
{
        _cleanup_free_ char *n64 = repeat('h', MMPD_NODE_NAME_MAX), *n65 = repeat('h', MMPD_NODE_NAME_MAX + 1);
        _cleanup_free_ char *good = NULL, *bad = NULL;
        _cleanup_conf_ struct mmpd_conf *conf = NULL;

        assert_true(asprintf(&good, "[mmpd]\nnode_name = %s\n", n64) > 0);
        conf = load_ok(good);
        assert_string_equal(conf->node_name, n64);

        assert_true(asprintf(&bad, "[mmpd]\nnode_name = %s\n", n65) > 0);
        expect_error(bad, 2, "value for 'node_name' is too long: 65 bytes (at most 64)");
}

static void test_socket_length(void **state)
{
        /* sun_path is 108 bytes: 107 plus the terminator. */
        _cleanup_free_ char *p107 = repeat('s', 107), *p108 = repeat('s', 108);
        _cleanup_free_ char *good = NULL, *bad = NULL;
        _cleanup_conf_ struct mmpd_conf *conf = NULL;

        p107[0] = p108[0] = '/';
        assert_true(asprintf(&good, "[mmpd]\nsocket = %s\n", p107) > 0);
        conf = load_ok(good);
        assert_string_equal(conf->socket_path, p107);

        assert_true(asprintf(&bad, "[mmpd]\nsocket = %s\n", p108) > 0);
        expect_error(bad, 2, "value for 'socket' is too long: 108 bytes (at most 107)");
}

static void test_device_length(void **state)
{
        _cleanup_free_ char *longest = repeat('d', PATH_MAX - 1), *too_long = repeat('d', PATH_MAX);
        _cleanup_free_ char *good = NULL, *bad = NULL, *msg = NULL;
        _cleanup_conf_ struct mmpd_conf *conf = NULL;

        longest[0] = too_long[0] = '/';
        assert_true(asprintf(&good, "[volume \"a\"]\ndevice = %s\n", longest) > 0);
        conf = load_ok(good);
        assert_string_equal(conf->volumes[0].device, longest);

        assert_true(asprintf(&bad, "[volume \"a\"]\ndevice = %s\n", too_long) > 0);
        assert_true(asprintf(&msg, "value for 'device' is too long: %d bytes (at most %d)",
                             PATH_MAX, PATH_MAX - 1) > 0);
        expect_error(bad, 2, msg);
}

static void test_line_too_long(void **state)
{
        _cleanup_free_ char *comment = repeat('#', 3 * PATH_MAX);
        _cleanup_free_ char *text = NULL;

        assert_true(asprintf(&text, "[mmpd]\n\n%s\nnode_name = x\n", comment) > 0);
        expect_error_len(text, strlen(text), 3, NULL, "line too long (at most ");
}

static void test_nul_byte(void **state)
{
        static const char text[] = "[mmpd]\nnode_name = a\0b\n";

        expect_error_len(text, sizeof(text) - 1, 2, "line contains a NUL byte", NULL);
}

static void test_max_volumes_exact(void **state)
{
        _cleanup_conf_ struct mmpd_conf *conf = load_ok(
                "[volume \"a\"]\ndevice = /dev/a\n[volume \"b\"]\ndevice = /dev/b\n"
                "[mmpd]\nmax_volumes = 2\n");

        assert_int_equal(conf->n_volumes, 2);
        assert_int_equal(conf->max_volumes, 2);
}

/* The hard limit holds while parsing, before max_volumes is known. */
static void test_volumes_hard_limit(void **state)
{
        const size_t n = MMPD_VOLUMES_MAX + 1;
        size_t size = n * 48, len = 0;
        _cleanup_free_ char *text = malloc(size);
        _cleanup_free_ char *msg = NULL;

        assert_non_null(text);
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(text + len, size - len, "[volume \"v%zu\"]\ndevice = /dev/v%zu\n", i, i);

                assert_true(w > 0 && (size_t) w < size - len);
                len += (size_t) w;
        }
        assert_true(asprintf(&msg, "too many volumes: at most %d are supported", MMPD_VOLUMES_MAX) > 0);
        expect_error_len(text, len, 2 * MMPD_VOLUMES_MAX + 1, msg, NULL);
}

/* ---- errors: text, line, message --------------------------------------- */

struct error_case {
        const char *text;
        unsigned line;
        const char *msg;
};

#define VOL(name, dev) "[volume \"" name "\"]\ndevice = " dev "\n"
#define RANGE_MSG(v, k) "invalid value '" v "' for '" k "': out of range, expected 0 to 3600 seconds"
#define SECONDS_MSG(v, k) "invalid value '" v "' for '" k "': expected seconds (a number >= 0)"
#define MAXVOL_MSG(v) "invalid value '" v "' for 'max_volumes': expected a whole number from 1 to 100000"
#define HEADER_MSG(h) "bad section header '" h "': expected [mmpd] or [volume \"NAME\"]"

#define ERROR_CASES(X)                                                                              \
        X(key_outside_section, "\n# first\ndevice = /dev/sda\n", 3,                                 \
          "key 'device' outside any section: put it under [mmpd] or [volume \"NAME\"]")              \
        X(unknown_key_volume, "[mmpd]\n\n\n[volume \"data\"]\ndevice = /dev/sda\n\ndevcie = x\n", 7, \
          "unknown key 'devcie' in [volume \"data\"]")                                               \
        X(unknown_key_mmpd, "[mmpd]\nnodename = a\n", 2, "unknown key 'nodename' in [mmpd]")        \
        X(volume_key_in_mmpd, "[mmpd]\ndevice = /dev/a\n", 2, "unknown key 'device' in [mmpd]")     \
        X(mmpd_key_in_volume, VOL("v", "/dev/a") "node_name = x\n", 3,                              \
          "unknown key 'node_name' in [volume \"v\"]")                                               \
        X(keys_are_case_sensitive, "[mmpd]\nMargin = 1\n", 2, "unknown key 'Margin' in [mmpd]")     \
        X(margin_not_number, "[mmpd]\n\nmargin = abc\n", 3, SECONDS_MSG("abc", "margin"))           \
        X(margin_negative, "[mmpd]\nmargin = -1\n", 2, SECONDS_MSG("-1", "margin"))                 \
        X(margin_exponent, "[mmpd]\nmargin = 1e3\n", 2, SECONDS_MSG("1e3", "margin"))               \
        X(margin_nan, "[mmpd]\nmargin = nan\n", 2, SECONDS_MSG("nan", "margin"))                    \
        X(margin_two_dots, "[mmpd]\nmargin = 1.2.3\n", 2, SECONDS_MSG("1.2.3", "margin"))           \
        X(margin_unit, "[mmpd]\nmargin = 5s\n", 2, SECONDS_MSG("5s", "margin"))                     \
        X(margin_too_large, "[mmpd]\nmargin = 3600.5\n", 2, RANGE_MSG("3600.5", "margin"))          \
        X(io_timeout_too_large, VOL("v", "/dev/a") "io_timeout = 4000\n", 3,                        \
          RANGE_MSG("4000", "io_timeout"))                                                          \
        X(io_timeout_not_number, VOL("v", "/dev/a") "io_timeout = soon\n", 3,                       \
          SECONDS_MSG("soon", "io_timeout"))                                                        \
        X(max_volumes_zero, "[mmpd]\nmax_volumes = 0\n", 2, MAXVOL_MSG("0"))                        \
        X(max_volumes_too_large, "[mmpd]\nmax_volumes = 100001\n", 2, MAXVOL_MSG("100001"))         \
        X(max_volumes_overflow, "[mmpd]\nmax_volumes = 99999999999999999999999\n", 2,               \
          MAXVOL_MSG("99999999999999999999999"))                                                    \
        X(max_volumes_words, "[mmpd]\nmax_volumes = ten\n", 2, MAXVOL_MSG("ten"))                   \
        X(max_volumes_negative, "[mmpd]\nmax_volumes = -5\n", 2, MAXVOL_MSG("-5"))                  \
        X(bool_invalid, "[mmpd]\nkeep_on_stop = maybe\n", 2,                                        \
          "invalid value 'maybe' for 'keep_on_stop': expected yes/no, true/false, on/off or 1/0")   \
        X(empty_value, "[mmpd]\nsocket =\n", 2, "empty value for 'socket'")                         \
        X(last_resort_bad, VOL("v", "/dev/a") "fence_last_resort = panic\n", 3,                    \
          "invalid value 'panic' for 'fence_last_resort': expected none, watchdog, reboot or hook") \
        X(fence_hook_relative, "[mmpd]\nfence_hook = hook.sh\n", 2,                                \
          "invalid value 'hook.sh' for 'fence_hook': expected an absolute path")                    \
        X(watchdog_in_volume, VOL("v", "/dev/a") "watchdog_device = /dev/watchdog\n", 3,           \
          "unknown key 'watchdog_device' in [volume \"v\"]")                                        \
        X(fence_key_twice, VOL("v", "/dev/a") "fence_kill = no\nfence_kill = yes\n", 4,            \
          "duplicate key 'fence_kill' in [volume \"v\"] (first set at line 3)")                     \
        X(missing_key, "[mmpd]\n= 5\n", 2, "missing key name before '='")                           \
        X(device_relative, "[volume \"v\"]\ndevice = sda\n", 2,                                     \
          "invalid value 'sda' for 'device': expected an absolute path")                            \
        X(socket_relative, "[mmpd]\nsocket = run/mmpd\n", 2,                                        \
          "invalid value 'run/mmpd' for 'socket': expected an absolute path")                       \
        X(node_name_control, "[mmpd]\nnode_name = a\tb\n", 2,                                       \
          "invalid value for 'node_name': control characters are not allowed")                      \
        X(duplicate_volume, "[mmpd]\n\n\n" VOL("data", "/dev/a") "\n\n\n\n\n" VOL("data", "/dev/b"), \
          11, "duplicate volume \"data\" (first defined at line 4)")                                 \
        X(duplicate_key, "[mmpd]\n" VOL("data", "/dev/a") "margin = 1\n\ndevice = /dev/b\n", 6,     \
          "duplicate key 'device' in [volume \"data\"] (first set at line 3)")                      \
        X(duplicate_key_mmpd, "[mmpd]\nmargin = 1\nmargin = 1\n", 3,                               \
          "duplicate key 'margin' in [mmpd] (first set at line 2)")                                 \
        X(duplicate_mmpd, "[mmpd]\nmargin = 1\n[mmpd]\nio_timeout = 1\n", 3,                        \
          "duplicate section [mmpd] (first at line 1)")                                             \
        X(duplicate_device, VOL("a", "/dev/sdb") "\n" VOL("b", "/dev/sdb"), 5,                      \
          "device '/dev/sdb' is already used by [volume \"a\"] (line 1)")                           \
        X(no_device_last, "[mmpd]\n" VOL("a", "/dev/a") "\n[volume \"x\"]\nmargin = 1\n", 5,        \
          "[volume \"x\"] has no 'device ='")                                                        \
        X(no_device_empty_section, "[volume \"x\"]\n", 1, "[volume \"x\"] has no 'device ='")       \
        X(no_device_before_next, "[volume \"x\"]\nmargin = 1\n" VOL("y", "/dev/y"), 1,              \
          "[volume \"x\"] has no 'device ='")                                                        \
        X(no_device_before_later_error, "[volume \"x\"]\n[mmpd]\nbogus = 1\n", 1,                   \
          "[volume \"x\"] has no 'device ='")                                                        \
        X(too_many_volumes, VOL("a", "/dev/a") VOL("b", "/dev/b") VOL("c", "/dev/c")                \
          "[mmpd]\nmax_volumes = 2\n", 5,                                                           \
          "too many volumes: [volume \"c\"] is number 3 but max_volumes = 2")                       \
        X(unknown_section, "[mmpd]\n[global]\n", 2,                                                 \
          "unknown section [global]: expected [mmpd] or [volume \"NAME\"]")                         \
        X(unknown_section_named, "[fence \"ipmi\"]\n", 1,                                           \
          "unknown section [fence]: expected [mmpd] or [volume \"NAME\"]")                          \
        X(header_missing_bracket, "[volume \"data\"\n", 1, HEADER_MSG("[volume \"data\""))          \
        X(header_unquoted_name, "[volume data]\n", 1, HEADER_MSG("[volume data]"))                  \
        X(header_unterminated_quote, "[volume \"data]\n", 1, HEADER_MSG("[volume \"data]"))         \
        X(header_trailing_text, "[mmpd] x\n", 1, HEADER_MSG("[mmpd] x"))                            \
        X(header_volume_no_name, "[volume]\n", 1,                                                   \
          "bad section header '[volume]': expected [volume \"NAME\"]")                              \
        X(header_mmpd_with_name, "[mmpd \"x\"]\n", 1,                                               \
          "bad section header '[mmpd \"x\"]': [mmpd] takes no name")                                \
        X(volume_name_space, "[volume \"a b\"]\n", 1,                                               \
          "invalid volume name \"a b\": expected 1 to 64 characters of A-Z a-z 0-9 . _ : @ -")      \
        X(volume_name_empty, "[volume \"\"]\n", 1,                                                  \
          "invalid volume name \"\": expected 1 to 64 characters of A-Z a-z 0-9 . _ : @ -")         \
        X(volume_name_slash, "[volume \"a/b\"]\n", 1,                                               \
          "invalid volume name \"a/b\": expected 1 to 64 characters of A-Z a-z 0-9 . _ : @ -")      \
        X(syntax_error, "[mmpd]\nnode_name = a\njunk\n", 3,                                         \
          "syntax error: expected 'key = value', a [section] or a comment")                         \
        X(syntax_error_first, "[mmpd]\njunk\nbogus = 1\n", 2,                                       \
          "syntax error: expected 'key = value', a [section] or a comment")                         \
        X(semantic_error_first, "[mmpd]\nbogus = 1\njunk\n", 2, "unknown key 'bogus' in [mmpd]")   \
        X(hash_is_not_inline_comment, "[mmpd]\nmargin = 5 # seconds\n", 2,                          \
          SECONDS_MSG("5 # seconds", "margin"))

#define ERROR_CASE_DEFINE(name, text_, line_, msg_) \
        static const struct error_case error_##name = { .text = text_, .line = line_, .msg = msg_ };
ERROR_CASES(ERROR_CASE_DEFINE)

static void test_error_case(void **state)
{
        const struct error_case *c = *state;

        expect_error(c->text, c->line, c->msg);
}

#define ERROR_CASE_TEST(name, text_, line_, msg_) \
        { "error_" #name, test_error_case, NULL, NULL, (void *) &error_##name },

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_missing_file_defaults),
                cmocka_unit_test(test_missing_file_must_exist),
                cmocka_unit_test(test_directory_is_read_error),
                cmocka_unit_test(test_null_ret_error),
                cmocka_unit_test(test_empty_file),
                cmocka_unit_test(test_comments_only),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_inherit_mmpd_first),
                cmocka_unit_test(test_inherit_mmpd_last),
                cmocka_unit_test(test_fence_keys),
                cmocka_unit_test(test_fence_defaults),
                cmocka_unit_test(test_booleans),
                cmocka_unit_test(test_syntax_variants),
                cmocka_unit_test(test_find_volume),
                cmocka_unit_test(test_example_conf),
                cmocka_unit_test(test_volume_name_length),
                cmocka_unit_test(test_node_name_length),
                cmocka_unit_test(test_socket_length),
                cmocka_unit_test(test_device_length),
                cmocka_unit_test(test_line_too_long),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_max_volumes_exact),
                cmocka_unit_test(test_volumes_hard_limit),
                cmocka_unit_test(test_handoff_keys),
                cmocka_unit_test(test_fifo_is_refused_at_once),
                cmocka_unit_test(test_handoff_defaults),
                cmocka_unit_test(test_handoff_errors),
                ERROR_CASES(ERROR_CASE_TEST)
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
