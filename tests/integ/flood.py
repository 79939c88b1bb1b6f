# SPDX-License-Identifier: GPL-2.0-or-later
"""Local clients that try to starve mmpd's heartbeats (run as an unprivileged
uid with setpriv).  Bounded in time; talks only to a unix socket.

  flood.py SOCKET SECONDS big N SIZE   keep N connections open, each sending
                                       SIZE bytes of a never-ending message
                                       ({"method":"io.mmpd.Check",... no NUL);
                                       reconnect whenever mmpd closes one
  flood.py SOCKET SECONDS idle N       hold N idle connections (a GetInfo every
                                       25 s on each keeps the idle timer off)
  flood.py SOCKET SECONDS check DEVICE a Check every 0.25 s on a fresh
                                       connection

Prints one JSON line: what it managed (connections accepted and closed by
mmpd, bytes sent; or for check: answers, failures, worst latency in ms).
"""
import errno
import json
import os
import resource
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return s


def big(path, secs, n, size):
    head = b'{"method":"io.mmpd.Check","parameters":{"device":"/' 
    body = head + b"a" * (size - len(head))
    end = time.monotonic() + secs
    conns = {}          # fd -> [sock, offset]
    opened = closed = sent = 0
    poller = select.poll()
    while time.monotonic() < end:
        while len(conns) < n:
            s = connect(path)
            if s is None:
                break
            conns[s.fileno()] = [s, 0]
            poller.register(s.fileno(), select.POLLOUT | select.POLLIN)
            opened += 1
        for fd, ev in poller.poll(100):
            s, off = conns[fd]
            gone = bool(ev & (select.POLLHUP | select.POLLERR))
            if not gone and ev & select.POLLIN:
                try:
                    gone = s.recv(65536) == b""
                except OSError:
                    gone = True
            if not gone and ev & select.POLLOUT and off < len(body):
                try:
                    k = s.send(body[off:off + 262144])
                    conns[fd][1] += k
                    sent += k
                except BlockingIOError:
                    pass
                except OSError:
                    gone = True
            if not gone and conns[fd][1] >= len(body):
                poller.modify(fd, select.POLLIN)    # hold it, never finish
            if gone:
                poller.unregister(fd)
                s.close()
                del conns[fd]
                closed += 1
    return {"opened": opened, "closed_by_mmpd": closed, "bytes": sent, "open_at_end": len(conns)}


def idle(path, secs, n):
    end = time.monotonic() + secs
    conns = []
    refused = 0
    for _ in range(n):
        s = connect(path)
        if s is None:
            refused += 1
            continue
        conns.append(s)
    time.sleep(0.5)
    alive = 0
    for s in conns:
        try:
            alive += s.recv(1, socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    last = time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.5)
        if time.monotonic() - last > 25:
            last = time.monotonic()
            for s in conns:
                try:
                    s.send(b'{"method":"org.varlink.service.GetInfo"}\0')
                except OSError:
                    pass
    return {"asked": n, "alive_after_accept": alive, "connect_failed": refused}


def check(path, secs, device):
    end = time.monotonic() + secs
    answers = failures = 0
    worst = 0.0
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(path)
            s.sendall(json.dumps({"method": "io.mmpd.Check", "parameters": {"device": device}}).encode() + b"\0")
            buf = b""
            while not buf.endswith(b"\0"):
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError(errno.ECONNRESET, "closed")
                buf += chunk
            s.close()
            reply = json.loads(buf[:-1])
            if reply.get("parameters", {}).get("may_use") is True:
                answers += 1
            else:
                failures += 1
        except (OSError, ValueError):
            failures += 1
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.25)
    return {"answers": answers, "failures": failures, "worst_ms": int(worst * 1000)}


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    path, secs, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    if mode == "big":
        res = big(path, secs, int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "idle":
        res = idle(path, secs, int(sys.argv[4]))
    else:
        res = check(path, secs, sys.argv[4])
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
