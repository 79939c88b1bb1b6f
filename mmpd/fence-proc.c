/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The blocking half of fencing: /proc scans and FS_IOC_SHUTDOWN.  Every
 * function here may block (a stat() through /proc/PID/fd of a file on a
 * hung network filesystem, an ioctl waiting for a journal) and so runs on an
 * offload thread, never on the loop.  Nothing here logs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fence.h"
#include "macro.h"

/* <linux/fs.h> does not export these; values from include/uapi/linux/fs.h
 * (FS_IOC_SHUTDOWN, shared by ext4 and xfs) and fs/ext4/ext4.h. */
#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#endif
#define EXT4_GOING_FLAGS_NOLOGFLUSH 0x2         /* don't flush the journal */

static bool is_pid_name(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

static bool stat_uses(const char *path, dev_t dev)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return false;
        if (S_ISBLK(st.st_mode) && st.st_rdev == dev)
                return true;            /* the device node itself */
        return st.st_dev == dev;        /* a file on a filesystem from it */
}

/* A mapping of a file on the filesystem ("dev" field is hex major:minor). */
static bool maps_use(int pid, dev_t dev)
{
        char path[64], line[512];
        bool hit = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/maps", pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (!hit && fgets(line, sizeof(line), f)) {
                unsigned maj, min;
                unsigned long long ino;

                if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 &&
                    ino != 0 && makedev(maj, min) == dev)
                        hit = true;
                if (!strchr(line, '\n')) {      /* skip the rest of a long line */
                        int c;

                        while ((c = fgetc(f)) != EOF && c != '\n')
                                ;
                }
        }
        fclose(f);
        return hit;
}

static bool pid_uses(int pid, dev_t dev)
{
        char path[64];
        struct dirent *de;
        bool hit = false;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
        if (stat_uses(path, dev))
                return true;
        snprintf(path, sizeof(path), "/proc/%d/root", pid);
        if (stat_uses(path, dev))
                return true;
        snprintf(path, sizeof(path), "/proc/%d/fd", pid);
        d = opendir(path);
        if (d) {
                while (!hit && (de = readdir(d))) {
                        if (!is_pid_name(de->d_name) || strlen(de->d_name) > 10)
                                continue;
                        snprintf(path, sizeof(path), "/proc/%d/fd/%.10s", pid, de->d_name);
                        hit = stat_uses(path, dev);
                }
                closedir(d);
        }
        return hit || maps_use(pid, dev);
}

static int pidfd_open_(pid_t pid)
{
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

int fence_scan_users(dev_t dev, pid_t self, struct fence_pids *ret)
{
        struct fence_pids r = {};
        struct dirent *de;
        DIR *d;

        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                pid_t pid;
                int fd;

                if (!is_pid_name(de->d_name))
                        continue;
                pid = (pid_t) strtol(de->d_name, NULL, 10);
                if (pid == self || pid <= 1)
                        continue;       /* never mmpd itself, never init */
                if (!pid_uses(pid, dev))
                        continue;
                if (r.n == FENCE_PIDS_MAX) {
                        r.truncated = true;
                        break;
                }
                /* A pidfd pins the process: a signal sent later cannot hit a
                 * recycled pid. */
                fd = pidfd_open_(pid);
                if (fd < 0)
                        continue;       /* gone already */
                r.pid[r.n] = pid;
                r.fd[r.n++] = fd;
        }
        closedir(d);
        *ret = r;
        return 0;
}

void fence_pids_done(struct fence_pids *p)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->fd[i] >= 0)
                        close(p->fd[i]);
        p->n = 0;
}

/* /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...", mountpoint octal-escaped. */
static void unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
                        *o++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

int fence_shutdown_mounts(dev_t dev, struct fence_shutdown_result *ret)
{
        struct fence_shutdown_result r = {};
        char *line = NULL;
        size_t cap = 0;
        FILE *f;

        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                unsigned maj, min;
                char mnt[4096];
                uint32_t flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
                int fd;

                if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3 || makedev(maj, min) != dev)
                        continue;
                unescape(mnt);
                r.found++;
                fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 || ioctl(fd, FS_IOC_SHUTDOWN, &flags) < 0) {
                        if (!r.error)
                                r.error = -errno;
                        snprintf(r.failed_at, sizeof(r.failed_at), "%.255s", mnt);
                } else {
                        r.done++;
                }
                if (fd >= 0)
                        close(fd);
        }
        free(line);
        fclose(f);
        *ret = r;
        return 0;
}
