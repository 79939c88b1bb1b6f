/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl exec DEVICE [--keep] -- CMD [ARGS...]: run an e2fsprogs tool (or
 * anything on libext2fs: e2fsck, tune2fs, resize2fs, debugfs -w, fuse2fs)
 * on a volume mmpd holds.  mmpd hands the volume to the tool's process and
 * watches the MMP block while it runs; when it exits, mmpd releases the
 * volume or, with --keep, claims it again (docs/handoff.md).
 *
 * The child is forked first and blocks on a pipe; when mmpd says go, one
 * byte down the pipe starts it (execvp), so the tool's own MMP claim
 * follows mmpd's CLEAN at once.  An exec failure comes back on a CLOEXEC
 * status pipe.  The handoff runs on a worker thread with its own client:
 * the main thread waits for the child and forwards SIGINT/SIGTERM sent to
 * mmpctl, from the start.  The child is not held back until mmpd sees its
 * first write: a read-only tool never writes the MMP block, mmpd then times
 * the handoff out and claims the volume again, which is fine.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmmp.h"
#include "mmpctl.h"

#define EXIT_CANNOT_RUN 127     /* as the shell: command not found or not executable */
#define CHILD_NO_GO 125         /* the child's status when it was never told to go */

struct exec_run {
        const char *device;
        bool keep;
        pid_t child;
        struct mmp_client *client;      /* the worker's */
        int r;                          /* mmp_handoff()'s result */
        struct mmp_volume *volume;      /* its volume */
        bool go_called;                 /* mmpd said go (CLEAN is on disk) */

        pthread_mutex_t lock;           /* go_fd, went, child_gone */
        int go_fd;                      /* write end of the child's go pipe, or -1 */
        bool went;                      /* the go byte is in the pipe */
        bool child_gone;                /* the child exited before it: do not write */
};

static void exec_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl exec [--keep] [--socket PATH] DEVICE -- COMMAND [ARGS...]\n"
                "\n"
                "Run COMMAND, a program that claims MMP itself (e2fsck, tune2fs, resize2fs,\n"
                "debugfs -w, fuse2fs), on DEVICE while mmpd watches: mmpd hands the volume\n"
                "to COMMAND's process and, when it exits, releases the volume or with --keep\n"
                "claims it again.  When mmpd does not hold DEVICE it claims it first (about\n"
                "2W).  SIGINT and SIGTERM sent to mmpctl are passed on to COMMAND.  Root only.\n"
                "Exit status: COMMAND's (128+N when killed by signal N), 127 when it cannot\n"
                "run; before it ran: 1 the volume is not usable, 2 error.\n");
}

/* What execvp() would find for @cmd: 0, or -ENOENT / -EACCES.  Checked
 * before any handoff, so a typo costs nothing. */
static int command_runnable(const char *cmd)
{
        const char *path = getenv("PATH");
        int err = -ENOENT;
        struct stat st;

        if (!*cmd)
                return -ENOENT;
        if (strchr(cmd, '/'))
                return access(cmd, X_OK) < 0 ? -errno :
                       stat(cmd, &st) == 0 && S_ISDIR(st.st_mode) ? -EACCES : 0;
        if (!path)
                path = "/bin:/usr/bin";         /* glibc's execvp default */
        while (*path) {
                size_t n = strcspn(path, ":");
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%.*s%s%s", (int) n, path, n ? "/" : "", cmd) < 0)
                        return -ENOMEM;
                if (access(full, X_OK) == 0) {
                        if (stat(full, &st) == 0 && !S_ISDIR(st.st_mode))
                                return 0;
                        err = -EACCES;          /* a directory, as execvp says */
                } else if (errno == EACCES) {
                        err = -EACCES;          /* found, but not executable: go on */
                }
                path += n + (path[n] == ':');
        }
        return err;
}

/* ---- the child ------------------------------------------------------------ */

__attribute__((noreturn))
static void child_run(int go_rd, int go_wr, int status_wr, const sigset_t *mask, char **cmd)
{
        char b;
        ssize_t k;
        int e;

        close(go_wr);
        sigprocmask(SIG_SETMASK, mask, NULL);
        do
                k = read(go_rd, &b, 1);
        while (k < 0 && errno == EINTR);
        if (k != 1)
                _exit(CHILD_NO_GO);     /* the handoff failed: mmpctl says why */
        close(go_rd);
        execvp(cmd[0], cmd);
        e = errno;
        (void) !write(status_wr, &e, sizeof(e));
        _exit(EXIT_CANNOT_RUN);
}

/* ---- the worker: the handoff ----------------------------------------------- */

/* mmpd said go: release the child.  Nothing else comes first. */
static int on_go(struct mmp_client *client, struct mmp_volume *v, void *userdata)
{
        struct exec_run *x = userdata;
        int r = 0;

        x->go_called = true;
        pthread_mutex_lock(&x->lock);
        if (x->child_gone || write(x->go_fd, "g", 1) != 1)
                r = -ECHILD;
        else
                x->went = true;
        pthread_mutex_unlock(&x->lock);
        return r;
}

static void *worker(void *userdata)
{
        struct exec_run *x = userdata;
        struct mmp_handoff_opts opts = MMP_HANDOFF_OPTS_INIT;

        opts.user = MMP_USE_TOOL;
        opts.pid = x->child;
        opts.keep = x->keep;
        x->r = mmp_handoff(x->client, x->device, &opts, on_go, x, &x->volume);
        /* A child still waiting for go never gets it: let it go away. */
        pthread_mutex_lock(&x->lock);
        if (x->go_fd >= 0)
                close(x->go_fd);
        x->go_fd = -1;
        pthread_mutex_unlock(&x->lock);
        return NULL;
}

/* ---- the main thread: the child, signals, the end ------------------------- */

/* Wait for the child; SIGINT/SIGTERM sent to mmpctl by a process are sent
 * on (a terminal's ^C reaches the child by itself: same process group). */
static int wait_child(pid_t child, const sigset_t *set)
{
        for (;;) {
                siginfo_t si;
                int status, sig = sigwaitinfo(set, &si);

                if (sig == SIGCHLD) {
                        pid_t p = waitpid(child, &status, WNOHANG);

                        if (p == child)
                                return status;
                } else if ((sig == SIGINT || sig == SIGTERM) && si.si_code <= 0) {
                        kill(child, sig);
                }
        }
}

static int exit_status_of(int status, char *what, size_t len, const char *cmd)
{
        if (WIFSIGNALED(status)) {
                snprintf(what, len, "%s was killed by signal %d (%s)", cmd, WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
                return 128 + WTERMSIG(status);
        }
        snprintf(what, len, "%s exited with status %d", cmd, WEXITSTATUS(status));
        return WEXITSTATUS(status);
}

/* EndUse once COMMAND has exited.  mmpd refuses it (UseInProgress) while
 * the device is still open exclusively: COMMAND left a process behind that
 * uses the volume (fuse2fs without -f daemonizes), and mmpd goes on
 * watching it.  That is no failure: say so. */
static void end_use_after(struct mmp_client *client, const char *device, int keep, bool wait,
                          const char *what)
{
        struct mmp_volume *v = NULL;
        int r;

        r = mmp_end_use(client, device, keep, &v);
        if (r == -EBUSY) {
                fprintf(stderr, "%s; %s is still in use (a process it left behind holds the device, "
                        "e.g. fuse2fs without -f): the use goes on, watched by mmpd; end it with "
                        "`mmpctl umount DIR`\n", what, device);
                return;
        }
        if (r == -ENOENT && keep != 1 && mmpctl_is_reply_error(client)) {
                /* mmpd saw the tool exit (its pidfd) before this call,
                 * released the volume and forgot it. */
                fprintf(stderr, "%s; mmpd released %s\n", what, device);
                return;
        }
        if (r < 0) {
                const struct mmp_error *e = mmp_client_last_error(client);

                fprintf(stderr, "%s\n", what);
                mmpctl_err("cannot end the use of %s: %s", device,
                           e ? mmp_error_get_message(e) : strerror(-r));
                return;
        }
        mmpctl_report_end_of_use(client, device, v, wait, what);
        mmp_volume_unref(v);
}

/* After the child: tell mmpd, say what happened, and pick the exit status. */
static int finish(const struct mmpctl_ctx *ctx, struct exec_run *x, pthread_t tid, int status,
                  int exec_errno, char **cmd)
{
        _cleanup_free_ char *name = mmpctl_escape(cmd[0]);
        struct mmp_client *client = NULL;
        char what[512];
        bool went;
        int ret;

        pthread_mutex_lock(&x->lock);
        x->child_gone = true;
        went = x->went;
        pthread_mutex_unlock(&x->lock);

        if (!went) {
                /* It never ran: the handoff failed, or the child died first. */
                pthread_join(tid, NULL);
                if (x->r < 0 && !x->go_called) {
                        mmpctl_err_call(x->client, x->r, NULL);
                        ret = x->r == -ENOLCK ? MMPCTL_EXIT_UNUSABLE : MMPCTL_EXIT_ERROR;
                } else {
                        ret = exit_status_of(status, what, sizeof(what), name ? name : "?");
                        mmpctl_err("%s before it started", what);
                }
                /* CLEAN on disk and no user: have mmpd claim it back.  After
                 * a broken call mmpd may have started the handoff unseen;
                 * EndUse is harmless if it did not. */
                if ((x->go_called || !mmpctl_is_reply_error(x->client)) &&
                    mmpctl_connect(ctx, MMPCTL_CALL_TIMEOUT_USEC, &client) == 0)
                        mmpctl_end_use(client, x->device, 1, false, NULL);
                mmp_client_free(client);
                return ret;
        }

        if (exec_errno) {
                mmpctl_err("cannot run %s: %s", name ? name : "?", strerror(exec_errno));
                snprintf(what, sizeof(what), "%s did not run", name ? name : "?");
                ret = EXIT_CANNOT_RUN;
        } else {
                ret = exit_status_of(status, what, sizeof(what), name ? name : "?");
        }
        /* EndUse first: a handoff still waiting for the tool's first write
         * (a read-only tool writes none) ends now, not at mmpd's timeout. */
        if (mmpctl_connect(ctx, 0, &client) == 0)
                end_use_after(client, x->device, exec_errno ? 1 : x->keep, x->keep, what);
        pthread_join(tid, NULL);
        if (x->r < 0 && x->r != -ECHILD) {
                const struct mmp_error *e = mmp_client_last_error(x->client);

                mmpctl_err("note: %s", e ? mmp_error_get_message(e) : strerror(-x->r));
        }
        mmp_client_free(client);
        return ret;
}

static int run(const struct mmpctl_ctx *ctx, struct exec_run *x, char **cmd)
{
        sigset_t set, old;
        int go[2] = { -1, -1 }, st[2] = { -1, -1 };
        int status, exec_errno = 0;
        pthread_t tid;
        ssize_t k;

        if (pipe2(go, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0) {
                mmpctl_err("cannot make a pipe: %s", strerror(errno));
                return MMPCTL_EXIT_ERROR;
        }
        /* Blocked before fork and thread: only sigwaitinfo() takes them.
         * SIGPIPE too: writing to a dead child's pipe is an EPIPE. */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, &old);
        sigdelset(&set, SIGPIPE);

        fflush(stdout);
        fflush(stderr);
        x->child = fork();
        if (x->child < 0) {
                mmpctl_err("cannot fork: %s", strerror(errno));
                return MMPCTL_EXIT_ERROR;
        }
        if (x->child == 0)
                child_run(go[0], go[1], st[1], &old, cmd);
        close(go[0]);
        close(st[1]);
        x->go_fd = go[1];

        if (pthread_create(&tid, NULL, worker, x) != 0) {
                mmpctl_err("cannot start a thread: %s", strerror(errno));
                kill(x->child, SIGKILL);
                waitpid(x->child, NULL, 0);
                return MMPCTL_EXIT_ERROR;
        }
        status = wait_child(x->child, &set);
        /* The write end closed at exec or exit: an errno only if exec failed. */
        do
                k = read(st[0], &exec_errno, sizeof(exec_errno));
        while (k < 0 && errno == EINTR);
        if (k != (ssize_t) sizeof(exec_errno))
                exec_errno = 0;
        close(st[0]);
        /* The signals stay blocked: a ^C the child got too is pending here,
         * and must not kill mmpctl before it has told mmpd and said why. */
        return finish(ctx, x, tid, status, exec_errno, cmd);
}

int mmpctl_cmd_exec(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100, OPT_KEEP };
        static const struct option options[] = {
                { "keep",   no_argument,       NULL, OPT_KEEP },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct exec_run x = { .lock = PTHREAD_MUTEX_INITIALIZER, .go_fd = -1 };
        char **cmd;
        int c, r, dashes = 0, ret;

        /* Ours are the arguments before "--", COMMAND's those after it. */
        for (int i = 1; i < argc && !dashes; i++)
                if (strcmp(argv[i], "--") == 0)
                        dashes = i;
        while ((c = getopt_long(dashes ? dashes : argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_KEEP:
                        x.keep = true;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        exec_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        exec_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (!dashes || dashes - optind != 1 || dashes + 1 >= argc) {
                if (!dashes)
                        mmpctl_err("exec: put -- before the command");
                exec_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        x.device = argv[optind];
        cmd = &argv[dashes + 1];

        r = command_runnable(cmd[0]);
        if (r < 0) {
                _cleanup_free_ char *name = mmpctl_escape(cmd[0]);

                mmpctl_err("cannot run %s: %s", name ? name : "?", strerror(-r));
                return EXIT_CANNOT_RUN;
        }

        if (mmpctl_connect(ctx, 0, &x.client) < 0)
                return MMPCTL_EXIT_ERROR;
        ret = mmpctl_hold_for_use(x.client, x.device);
        if (ret == MMPCTL_EXIT_OK)
                ret = run(ctx, &x, cmd);
        mmp_volume_unref(x.volume);
        mmp_client_free(x.client);
        return ret;
}
