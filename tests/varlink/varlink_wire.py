# SPDX-License-Identifier: GPL-2.0-or-later
"""The varlink wire protocol for tests, spoken directly (no client library):
a connection that sends NUL-terminated JSON calls and reads replies, the
test server with the fake registry, unprivileged peers via setpriv, and a
small TAP test registry.  Used by conformance.py."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CI = os.environ.get("CI") == "true"
ROOT = os.geteuid() == 0
TOP_BUILDDIR = os.environ.get("top_builddir", ".")
SERVER_BIN = os.environ.get("TEST_SERVER", os.path.join(TOP_BUILDDIR, "tests", "varlink", "test-server"))

# ---- wire ------------------------------------------------------------------------


class Closed(Exception):
    pass


class Conn:
    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def close(self):
        self.s.close()

    def raw(self, data):
        self.s.sendall(data)

    def send(self, method, params=None, **flags):
        msg = {"method": method}
        if params is not None:
            msg["parameters"] = params
        msg.update(flags)
        self.raw(json.dumps(msg).encode() + b"\0")

    def recv(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply within %.1f s" % timeout)
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                raise Closed("connection closed by the server")
            self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, **flags):
        self.send(method, params, **flags)
        return self.recv()

    def stream(self, method, params=None, timeout=10.0, **flags):
        """All replies of a 'more' call: (list of continues replies, final)."""
        self.send(method, params, more=True, **flags)
        parts = []
        while True:
            r = self.recv(timeout)
            if not r.get("continues"):
                return parts, r
            parts.append(r)

    def closed_within(self, timeout):
        """True if the server closes the connection within timeout (data is discarded)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.s.settimeout(left)
            try:
                if not self.s.recv(65536):
                    return True
            except ConnectionResetError:
                return True
            except (socket.timeout, TimeoutError):
                return False

    def silent_for(self, seconds):
        """Nothing arrives (and the connection stays open) for that long."""
        self.s.settimeout(seconds)
        try:
            data = self.s.recv(65536)
        except (socket.timeout, TimeoutError):
            return True
        self.buf += data
        return False


def ok_params(r):
    assert "error" not in r, "unexpected error reply: %s" % json.dumps(r)
    return r["parameters"]


def expect_error(r, name, **params):
    assert r.get("error") == name, "expected %s, got %s" % (name, json.dumps(r))
    for k, v in params.items():
        assert r["parameters"].get(k) == v, "%s: expected %r, got %r" % (k, v, r["parameters"].get(k))
    assert "continues" not in r, "an error must end the call"
    return r["parameters"]


def boottime_usec():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1000


def wait_for(pred, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()

# ---- servers -----------------------------------------------------------------------


class Server:
    """One test-server instance with its own socket directory."""

    def __init__(self, *args, valgrind=False, listen_fd=None, expect_fail=False):
        self.dir = tempfile.mkdtemp(prefix="mmpd-vl-")
        os.chmod(self.dir, 0o755)            # unprivileged peers must reach the socket
        self.path = os.path.join(self.dir, "run", "io.mmpd")   # "run" is created by the server
        args = list(args)
        if not ROOT and "--admin-group" not in args:
            args += ["--admin-group", str(os.getgid())]     # so an unprivileged run may Claim
        cmd = [SERVER_BIN] + (["--listen-fd", str(listen_fd)] if listen_fd is not None else
                              ["--socket", self.path]) + args
        if valgrind:
            cmd = ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                   "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99"] + cmd
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                                  pass_fds=[listen_fd] if listen_fd is not None else [])
        line = self.p.stdout.readline().strip()
        if expect_fail:
            self.ready = line == "READY"
            return
        if line != "READY":
            self.p.wait(10)
            raise RuntimeError("test-server did not start (exit %s)" % self.p.returncode)

    def conn(self, timeout=5.0):
        return Conn(self.path, timeout)

    def stop(self):
        """SIGTERM, wait; returns the exit status.  What the server printed
        after READY is left in self.tail."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        self.tail = self.p.stdout.read()
        rc = self.p.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def lateness(self):
        """After stop(): the worst heartbeat timer delay, in seconds."""
        for line in self.tail.splitlines():
            if line.startswith("max-heartbeat-lateness-usec "):
                return int(line.split()[1]) / 1e6
        raise AssertionError("the test server did not report heartbeat lateness")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc = self.stop()
        if exc[0] is None:
            assert rc == 0, "test-server exited with %s" % rc


# ---- unprivileged peers --------------------------------------------------------------

PEER = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
buf = b""; out = []
for c in json.loads(sys.argv[2]):
    s.sendall(json.dumps(c).encode() + b"\0")
    while b"\0" not in buf:
        d = s.recv(65536)
        if not d:
            print(json.dumps(out + [None])); sys.exit(0)
        buf += d
    m, buf = buf.split(b"\0", 1); out.append(json.loads(m))
print(json.dumps(out))
"""


def python_for_others():
    # The build's python may live under /root; the system one is reachable.
    return "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def as_user(path, calls, groups=None, gid="nogroup"):
    """Run calls on one connection as uid nobody; returns the replies."""
    cmd = ["setpriv", "--reuid=nobody", "--regid=%s" % gid]
    cmd += ["--groups=%s" % ",".join(map(str, groups))] if groups else ["--clear-groups"]
    cmd += ["--", python_for_others(), "-c", PEER, path, json.dumps(calls)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "peer failed: %s" % p.stderr
    return json.loads(p.stdout)


def call_msg(method, params=None, **flags):
    m = {"method": method, "parameters": params or {}}
    m.update(flags)
    return m

# ---- test registry -----------------------------------------------------------------

TESTS = []


def test(name, fake=False, root=False, priv=False, needs=(), todo=None):
    """fake: needs the test server; root: needs root itself (setpriv);
    priv: needs Claim/Release rights (root, or our group as the test
    server's admin_group); todo: a known bug (why), reported as TAP TODO."""
    def deco(f):
        TESTS.append((name, f, fake, root, priv, needs, todo))
        return f
    return deco


def missing_tool(needs):
    for tool in needs:
        if tool == "device":
            if not os.environ.get("MMPD_TEST_DEVICE"):
                return "needs MMPD_TEST_DEVICE"
        elif shutil.which(tool) is None:
            return "needs %s" % tool
    return None
