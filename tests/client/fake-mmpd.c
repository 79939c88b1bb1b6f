/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-mmpd SOCKET [hold|close|final]: the canned fake of fake-server.h as a
 * process, for the mmpctl tests.  One child per connection, so a Watch that
 * stays open does not hold up other clients.  Runs until killed; the
 * optional word says how a Watch ends (default hold).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake-server.h"

int main(int argc, char **argv)
{
        struct fake_options opt = { FAKE_WATCH_HOLD };
        int fd;

        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: fake-mmpd SOCKET [hold|close|final]\n");
                return 2;
        }
        if (argc == 3)
                opt.watch_end = strcmp(argv[2], "close") == 0 ? FAKE_WATCH_CLOSE :
                                strcmp(argv[2], "final") == 0 ? FAKE_WATCH_FINAL : FAKE_WATCH_HOLD;
        signal(SIGCHLD, SIG_IGN);       /* children are reaped by the kernel */
        fd = fake_listen(argv[1]);
        if (fd < 0) {
                fprintf(stderr, "fake-mmpd: %s: %s\n", argv[1], strerror(-fd));
                return 1;
        }
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                pid_t pid;

                if (c < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        perror("fake-mmpd: accept");
                        return 1;
                }
                pid = fork();
                if (pid == 0) {
                        close(fd);
                        fake_serve(c, &opt);
                        _exit(0);
                }
                close(c);
        }
}
