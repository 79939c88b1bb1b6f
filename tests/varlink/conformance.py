#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Conformance of mmpd's varlink server, on the wire.

Speaks the framing itself (NUL-terminated JSON over a unix stream socket),
no client library, and prints TAP.

By default it starts tests/varlink/test-server (the server with the fake
registry, see fake-manager.h) with short timeouts, plus a few more instances
with special limits.  Against a running mmpd instead:

  MMPD_VARLINK_SOCKET=/run/mmpd/io.mmpd   the socket to test
  MMPD_TEST_DEVICE=/dev/loopN             a device the test may claim and release
  MMPD_TEST_PARTIAL_TIMEOUT=S             the server's partial-message timeout
  MMPD_TEST_IDLE_TIMEOUT=S                the server's idle timeout

Tests that need the fake registry's devices or their own server instance are
skipped in that mode and say so.  Tests that need root (setpriv, the admin
checks) fail under CI=true when not root, and are skipped otherwise.
MMPD_TEST_VALGRIND=1 runs the main test server under valgrind and fails on
leaks or errors at shutdown.
"""

import errno
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True      # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from varlink_wire import (CI, ROOT, SERVER_BIN, TESTS, Conn, Server, as_user,  # noqa: E402
                          boottime_usec, call_msg, expect_error, missing_tool, ok_params, test, wait_for)

REAL = os.environ.get("MMPD_VARLINK_SOCKET")
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
IDL_PATH = os.path.join(TOP_SRCDIR, "mmpd", "io.mmpd.varlink")
MIB = 1024 * 1024

MAIN = None          # the shared server (or REAL's socket path)


def main_conn(timeout=5.0):
    return Conn(REAL or MAIN.path, timeout)


def socket_path():
    return REAL or MAIN.path

# ---- org.varlink.service ---------------------------------------------------------------


@test("GetInfo names vendor, product, version, url and both interfaces")
def t_get_info():
    p = ok_params(main_conn().call("org.varlink.service.GetInfo"))
    assert p["vendor"] == "mmpd" and p["product"] == "mmpd", p
    assert isinstance(p["version"], str) and p["version"], p
    assert isinstance(p["url"], str), p
    assert p["interfaces"] == ["org.varlink.service", "io.mmpd"], p


@test("GetInterfaceDescription(io.mmpd) returns the IDL")
def t_description():
    d = ok_params(main_conn().call("org.varlink.service.GetInterfaceDescription",
                                   {"interface": "io.mmpd"}))["description"]
    assert d.startswith("# The mmpd control interface"), d[:80]
    assert "\ninterface io.mmpd\n" in d
    if not REAL:
        with open(IDL_PATH) as f:
            assert d == f.read(), "embedded IDL differs from mmpd/io.mmpd.varlink"


@test("GetInterfaceDescription(org.varlink.service) describes the service interface")
def t_description_service():
    d = ok_params(main_conn().call("org.varlink.service.GetInterfaceDescription",
                                   {"interface": "org.varlink.service"}))["description"]
    assert "interface org.varlink.service" in d and "method GetInfo()" in d


@test("GetInterfaceDescription of an unknown interface: InterfaceNotFound")
def t_description_unknown():
    expect_error(main_conn().call("org.varlink.service.GetInterfaceDescription", {"interface": "com.example"}),
                 "org.varlink.service.InterfaceNotFound", interface="com.example")


@test("unknown method of a known interface: MethodNotFound")
def t_method_not_found():
    expect_error(main_conn().call("io.mmpd.Frobnicate"), "org.varlink.service.MethodNotFound",
                 method="io.mmpd.Frobnicate")


@test("unknown interface: InterfaceNotFound")
def t_interface_not_found():
    expect_error(main_conn().call("com.example.Thing.Do"), "org.varlink.service.InterfaceNotFound",
                 interface="com.example.Thing")

# ---- parameters --------------------------------------------------------------------------


@test("missing parameter: InvalidParameter names it")
def t_missing_param():
    expect_error(main_conn().call("io.mmpd.Check", {}), "org.varlink.service.InvalidParameter", parameter="device")
    expect_error(main_conn().call("io.mmpd.Inspect"), "org.varlink.service.InvalidParameter", parameter="device")


@test("parameter of the wrong type: InvalidParameter names it")
def t_wrong_type():
    c = main_conn()
    expect_error(c.call("io.mmpd.Check", {"device": 5}), "org.varlink.service.InvalidParameter", parameter="device")
    expect_error(c.call("io.mmpd.Check", {"device": ["x"]}), "org.varlink.service.InvalidParameter",
                 parameter="device")
    expect_error(c.call("org.varlink.service.GetInterfaceDescription", {"interface": None}),
                 "org.varlink.service.InvalidParameter", parameter="interface")


@test("unknown parameter: InvalidParameter names it")
def t_unknown_param():
    expect_error(main_conn().call("io.mmpd.Check", {"device": "/dev/x", "force": True}),
                 "org.varlink.service.InvalidParameter", parameter="force")
    expect_error(main_conn().call("org.varlink.service.GetInfo", {"x": 1}),
                 "org.varlink.service.InvalidParameter", parameter="x")


@test("bad values: relative device, bad volume name, NUL in a string", priv=True)
def t_bad_values():
    c = main_conn()
    expect_error(c.call("io.mmpd.Inspect", {"device": "dev/sda"}), "org.varlink.service.InvalidParameter",
                 parameter="device")
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-x", "name": "a b"}),
                 "org.varlink.service.InvalidParameter", parameter="name")
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-x", "name": "x" * 65}),
                 "org.varlink.service.InvalidParameter", parameter="name")
    expect_error(c.call("io.mmpd.Check", {"device": "/dev/a\u0001b"}), "io.mmpd.NoSuchVolume")
    # "\u0000" inside a string is a broken message for us (jansson refuses it)
    c.raw(b'{"method":"io.mmpd.Check","parameters":{"device":"/dev/a\\u0000b"}}\0')
    assert c.closed_within(5), "connection not closed after a string with NUL"

# ---- ordering, oneway, more -------------------------------------------------------------


@test("three calls in one write are answered in order")
def t_pipelined():
    c = main_conn()
    c.raw(b"".join(json.dumps(m).encode() + b"\0" for m in [
        call_msg("org.varlink.service.GetInfo"),
        call_msg("io.mmpd.Check", {"device": "/dev/no-such-volume"}),
        call_msg("org.varlink.service.GetInterfaceDescription", {"interface": "org.varlink.service"}),
    ]))
    assert ok_params(c.recv())["vendor"] == "mmpd"
    expect_error(c.recv(), "io.mmpd.NoSuchVolume", device="/dev/no-such-volume")
    assert "org.varlink.service" in ok_params(c.recv())["description"]


@test("oneway calls get no reply at all")
def t_oneway():
    c = main_conn()
    c.send("org.varlink.service.GetInfo", oneway=True)
    c.send("io.mmpd.Frobnicate", oneway=True)                  # not even an error
    c.send("io.mmpd.Check", {"device": "/dev/marker"})
    expect_error(c.recv(), "io.mmpd.NoSuchVolume", device="/dev/marker")
    assert c.silent_for(0.3), "a oneway call was answered: %r" % c.buf


@test("more on a one-reply method: one reply without continues")
def t_more_single():
    c = main_conn()
    parts, final = c.stream("org.varlink.service.GetInfo")
    assert parts == [] and ok_params(final)["vendor"] == "mmpd"


@test("Watch without more: ExpectedMore")
def t_watch_expected_more():
    expect_error(main_conn().call("io.mmpd.Watch"), "org.varlink.service.ExpectedMore")


@test("List returns volumes with the IDL's required fields")
def t_list():
    vols = ok_params(main_conn().call("io.mmpd.List"))["volumes"]
    assert isinstance(vols, list)
    for v in vols:
        for k in ("name", "device", "state", "phase", "static", "failures"):
            assert k in v, "volume lacks %s: %s" % (k, v)


@test("Check/Release of an unknown volume: NoSuchVolume", priv=True)
def t_no_such_volume():
    c = main_conn()
    expect_error(c.call("io.mmpd.Check", {"device": "/dev/never-claimed"}), "io.mmpd.NoSuchVolume",
                 device="/dev/never-claimed")
    expect_error(c.call("io.mmpd.Release", {"device": "/dev/never-claimed"}), "io.mmpd.NoSuchVolume",
                 device="/dev/never-claimed")

# ---- claims on the fake registry ------------------------------------------------------------


def check_volume(v, device, state):
    assert v["device"] == device and v["state"] == state, v
    assert isinstance(v["static"], bool) and isinstance(v["failures"], int), v


@test("Claim with more: progress events with continues, then the held volume", fake=True, priv=True)
def t_claim_more():
    c = main_conn()
    parts, final = c.stream("io.mmpd.Claim", {"device": "/dev/fake-a", "name": "vol-a"})
    assert len(parts) >= 3, "expected several progress replies, got %d" % len(parts)
    phases = []
    for p in parts:
        assert p["continues"] is True
        ev = p["parameters"]["event"]
        assert ev["type"] == "progress" and ev["volume"]["state"] == "claiming", ev
        phases.append(ev["volume"]["phase"])
    assert "waiting-claim" in phases, phases
    assert len(phases) == len(set(phases)), "a phase was reported twice: %s" % phases
    p = ok_params(final)
    assert "continues" not in final
    check_volume(p["volume"], "/dev/fake-a", "held")
    assert p["volume"]["name"] == "vol-a"
    assert p["event"]["type"] == "claimed"
    ok_params(c.call("io.mmpd.Release", {"device": "vol-a"}))


@test("Claim without more: a single reply once held; Check: may_use until fence_at", fake=True, priv=True)
def t_claim_check():
    c = main_conn()
    r = c.call("io.mmpd.Claim", {"device": "/dev/fake-b"})
    assert "continues" not in r
    v = ok_params(r)["volume"]
    check_volume(v, "/dev/fake-b", "held")
    assert "event" not in ok_params(r)
    for k in ("seq", "update_interval", "check_interval", "wait_seconds", "last_heartbeat_usec",
              "fence_at_usec", "fence_at_wall", "peer_write_at_usec", "peer_use_at_usec"):
        assert isinstance(v.get(k), int), "held volume lacks %s: %s" % (k, v)
    assert v["fence_at_usec"] < v["peer_write_at_usec"] < v["peer_use_at_usec"]
    p = ok_params(c.call("io.mmpd.Check", {"device": "/dev/fake-b"}))
    now = boottime_usec()
    assert p["may_use"] is True, p
    assert p["guaranteed_until_usec"] == p["volume"]["fence_at_usec"], p
    assert now < p["guaranteed_until_usec"] < now + 3600 * 10**6, (now, p)
    assert time.time() - 2 < p["guaranteed_until_wall"] <= time.time() + 3600, p
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-b"}), "io.mmpd.AlreadyClaimed",
                 device="/dev/fake-b", state="held")
    r = c.call("io.mmpd.Release", {"device": "/dev/fake-b"})
    check_volume(ok_params(r)["volume"], "/dev/fake-b", "released")
    expect_error(c.call("io.mmpd.Check", {"device": "/dev/fake-b"}), "io.mmpd.NoSuchVolume")


@test("a claiming volume: Check answers may_use false with the registry's state", fake=True, priv=True)
def t_check_claiming():
    c1, c2 = main_conn(), main_conn()
    c1.send("io.mmpd.Claim", {"device": "/dev/fake-c"})
    assert wait_for(lambda: any(v["device"] == "/dev/fake-c"
                                for v in ok_params(c2.call("io.mmpd.List"))["volumes"]))
    p = ok_params(c2.call("io.mmpd.Check", {"device": "/dev/fake-c"}))
    assert p["may_use"] is False and p["volume"]["state"] == "claiming", p
    assert "guaranteed_until_usec" not in p
    check_volume(ok_params(c1.recv())["volume"], "/dev/fake-c", "held")
    ok_params(c1.call("io.mmpd.Release", {"device": "/dev/fake-c"}))


@test("a pending Claim holds back the calls pipelined after it", fake=True, priv=True)
def t_claim_holds_back():
    c = main_conn()
    c.raw(json.dumps(call_msg("io.mmpd.Claim", {"device": "/dev/fake-d"})).encode() + b"\0" +
          json.dumps(call_msg("io.mmpd.Check", {"device": "/dev/fake-d"})).encode() + b"\0")
    check_volume(ok_params(c.recv())["volume"], "/dev/fake-d", "held")
    assert ok_params(c.recv())["may_use"] is True
    ok_params(c.call("io.mmpd.Release", {"device": "/dev/fake-d"}))


@test("refusals map to io.mmpd errors (VolumeInUse, FsckRunning, NotMmpFilesystem, CorruptMmpBlock, IoError)",
      fake=True, priv=True)
def t_refusals():
    c = main_conn()
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-busy1"}), "io.mmpd.VolumeInUse",
                 device="/dev/fake-busy1", node="peer-node", node_device="sdx", seq=43)
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-fsck1"}), "io.mmpd.FsckRunning",
                 device="/dev/fake-fsck1", node="fsck-node", hint="tune2fs -f -E clear_mmp /dev/fake-fsck1")
    p = expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-nommp1"}), "io.mmpd.NotMmpFilesystem",
                     device="/dev/fake-nommp1")
    assert "tune2fs -O mmp" in p["reason"], p
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-corrupt1"}), "io.mmpd.CorruptMmpBlock",
                 device="/dev/fake-corrupt1")
    expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-missing1"}), "io.mmpd.IoError",
                 device="/dev/fake-missing1", errno=errno.ENOENT)
    # refused runtime claims are gone from the registry
    expect_error(c.call("io.mmpd.Check", {"device": "/dev/fake-busy1"}), "io.mmpd.NoSuchVolume")


@test("Claim with more on a busy device: progress, then the error without continues", fake=True, priv=True)
def t_claim_more_refused():
    parts, final = main_conn().stream("io.mmpd.Claim", {"device": "/dev/fake-busy2"})
    assert parts and all(p["parameters"]["event"]["type"] == "progress" for p in parts)
    assert "waiting-active" in [p["parameters"]["event"]["volume"]["phase"] for p in parts]
    expect_error(final, "io.mmpd.VolumeInUse", node="peer-node")


@test("Release during a claim ends the pending Claim with ClaimFailed", fake=True, priv=True)
def t_release_during_claim():
    c1, c2 = main_conn(), main_conn()
    c1.send("io.mmpd.Claim", {"device": "/dev/fake-e"})
    assert wait_for(lambda: "error" not in c2.call("io.mmpd.Check", {"device": "/dev/fake-e"}))
    check_volume(ok_params(c2.call("io.mmpd.Release", {"device": "/dev/fake-e"}))["volume"],
                 "/dev/fake-e", "released")
    expect_error(c1.recv(), "io.mmpd.ClaimFailed", device="/dev/fake-e")


@test("a peer that disconnects mid-Claim does not cancel it; the server carries on", fake=True, priv=True)
def t_disconnect_mid_claim():
    c = main_conn()
    c.send("io.mmpd.Claim", {"device": "/dev/fake-f"}, more=True)
    c.recv()
    c.close()
    c2 = main_conn()
    assert wait_for(lambda: ok_params(c2.call("io.mmpd.Check", {"device": "/dev/fake-f"}))["may_use"])
    ok_params(c2.call("io.mmpd.Release", {"device": "/dev/fake-f"}))


@test("TooManyVolumes names the limit", fake=True, priv=True)
def t_too_many():
    with Server("--max-volumes", "2", "--fake-wait", "0.05") as srv:
        c = srv.conn()
        ok_params(c.call("io.mmpd.Claim", {"device": "/dev/fake-m1"}))
        ok_params(c.call("io.mmpd.Claim", {"device": "/dev/fake-m2"}))
        expect_error(c.call("io.mmpd.Claim", {"device": "/dev/fake-m3"}), "io.mmpd.TooManyVolumes", limit=2)


@test("Watch streams every volume's events with continues", fake=True, priv=True)
def t_watch():
    w, c = main_conn(), main_conn()
    w.send("io.mmpd.Watch", more=True)
    time.sleep(0.1)                    # the subscription is made when the call is read
    ok_params(c.call("io.mmpd.Claim", {"device": "/dev/fake-w"}))
    ok_params(c.call("io.mmpd.Release", {"device": "/dev/fake-w"}))
    seen = []
    while "removed" not in seen:
        r = w.recv()
        assert r.get("continues") is True, r
        ev = r["parameters"]["event"]
        if ev["volume"]["device"] == "/dev/fake-w":
            seen.append(ev["type"])
    assert seen[0] == "progress" and "claimed" in seen and "released" in seen, seen
    assert seen.index("claimed") < seen.index("released") < seen.index("removed"), seen

# ---- Handoff, EndUse ----------------------------------------------------------------------


def handoff_msg(device, user="kernel", **kw):
    p = {"device": device, "user": user}
    p.update(kw)
    return p


def claim_held(c, device):
    v = ok_params(c.call("io.mmpd.Claim", {"device": device}))["volume"]
    check_volume(v, device, "held")
    return v


def watch_until(w, device, last, timeout=5.0):
    """The types of device's events on Watch w, up to and including last."""
    seen = []
    while last not in seen:
        r = w.recv(timeout)
        assert r.get("continues") is True, r
        ev = r["parameters"]["event"]
        if ev["volume"]["device"] == device:
            seen.append(ev["type"])
    return seen


def wait_state(c, device, state):
    return wait_for(lambda: ok_params(c.call("io.mmpd.Check", {"device": device}))["volume"]["state"] == state)


@test("Handoff and EndUse parameters: ExpectedMore, InvalidParameter (user, pid, mode, keep), NoSuchVolume",
      priv=True)
def t_handoff_params():
    c = main_conn()
    dev = "/dev/never-claimed"
    expect_error(c.call("io.mmpd.Handoff", handoff_msg(dev)), "org.varlink.service.ExpectedMore")
    bad = [(handoff_msg(dev, user="none"), "user"),
           (handoff_msg(dev, user="nfs"), "user"),
           (handoff_msg(dev, user=1), "user"),
           (handoff_msg(dev, user="tool"), "pid"),
           (handoff_msg(dev, user="tool", pid=0), "pid"),
           (handoff_msg(dev, user="tool", pid=-5), "pid"),
           (handoff_msg(dev, user="tool", pid=2**40), "pid"),
           (handoff_msg(dev, user="tool", pid="1"), "pid"),
           (handoff_msg(dev, pid=1), "pid"),
           (handoff_msg(dev, mode="slow"), "mode"),
           (handoff_msg(dev, keep="yes"), "keep"),
           (handoff_msg(dev, keep=1), "keep"),
           (handoff_msg(dev, mount_point="mnt"), "mount_point"),
           ({"user": "kernel"}, "device")]
    for params, name in bad:
        expect_error(c.call("io.mmpd.Handoff", params, more=True), "org.varlink.service.InvalidParameter",
                     parameter=name)
    expect_error(c.call("io.mmpd.Handoff", handoff_msg(dev, pid=None, keep=None, mode=None), more=True),
                 "io.mmpd.NoSuchVolume", device=dev)
    expect_error(c.call("io.mmpd.Handoff", handoff_msg(dev, user="tool", pid=os.getpid(), mode="wait",
                                                         keep=True, mount_point="/mnt"), more=True),
                 "io.mmpd.NoSuchVolume", device=dev)
    expect_error(c.call("io.mmpd.EndUse", {"device": dev, "keep": "no"}), "org.varlink.service.InvalidParameter",
                 parameter="keep")
    expect_error(c.call("io.mmpd.EndUse", {"device": dev}), "io.mmpd.NoSuchVolume", device=dev)
    expect_error(c.call("io.mmpd.EndUse", {"device": dev, "keep": True}), "io.mmpd.NoSuchVolume", device=dev)


@test("Handoff of a volume not held (claiming): NotHeld with its state", fake=True, priv=True)
def t_handoff_not_held():
    c1, c2 = main_conn(), main_conn()
    dev = "/dev/fake-ho-claiming"
    c1.send("io.mmpd.Claim", {"device": dev})
    assert wait_for(lambda: "error" not in c2.call("io.mmpd.Check", {"device": dev}))
    expect_error(c2.call("io.mmpd.Handoff", handoff_msg(dev), more=True), "io.mmpd.NotHeld",
                 device=dev, state="claiming")
    check_volume(ok_params(c1.recv())["volume"], dev, "held")
    ok_params(c1.call("io.mmpd.Release", {"device": dev}))


@test("Handoff of a tool whose pid does not exist: IoError ESRCH, the volume stays held", fake=True, priv=True)
def t_handoff_no_pid():
    c = main_conn()
    dev = "/dev/fake-ho-nopid"
    claim_held(c, dev)
    expect_error(c.call("io.mmpd.Handoff", handoff_msg(dev, user="tool", pid=2**31 - 2), more=True),
                 "io.mmpd.IoError", device=dev, errno=errno.ESRCH)
    p = ok_params(c.call("io.mmpd.Check", {"device": dev}))
    assert p["may_use"] is True and "use" not in p["volume"], p
    ok_params(c.call("io.mmpd.Release", {"device": dev}))


@test("Handoff: go, then in_use; Check, List and Watch show the use; Handoff/Release: UseInProgress; "
      "EndUse releases", fake=True, priv=True)
def t_handoff():
    w, c, look = main_conn(), main_conn(), main_conn()
    dev = "/dev/fake-ho-a"
    w.send("io.mmpd.Watch", more=True)
    time.sleep(0.1)
    claim_held(c, dev)
    t0 = boottime_usec()
    parts, final = c.stream("io.mmpd.Handoff", handoff_msg(dev, mount_point="/mnt/a"))
    assert len(parts) == 1, "expected one go reply, got %r" % parts
    first = ok_params(parts[0])
    assert first["go"] is True, first
    v = first["volume"]
    assert v["state"] == "in_use" and v["device"] == dev, v
    u = v["use"]
    assert u["phase"] == "handing_off" and u["user"] == "kernel" and u["mode"] == "fast", u
    assert u["mount_point"] == "/mnt/a" and u["keep"] is False and "pid" not in u, u
    assert t0 <= u["since_usec"] <= boottime_usec(), (t0, u)
    assert "user_node" not in u and "fence_at_usec" not in v, v
    assert "continues" not in final
    last = ok_params(final)
    assert last["go"] is False, last
    v = last["volume"]
    assert v["state"] == "in_use", v
    u = v["use"]
    assert u["phase"] == "in_use" and u["user"] == "kernel" and u["mount_point"] == "/mnt/a", u
    assert u["user_node"] == "host-a" and isinstance(u["user_seq"], int), u
    assert isinstance(u["last_change_usec"], int), u

    # a second Handoff while in use
    expect_error(look.call("io.mmpd.Handoff", handoff_msg(dev, user="tool", pid=os.getpid()), more=True),
                 "io.mmpd.UseInProgress", device=dev, user="kernel", node="host-a")
    # Check: the user's writes are seen, the fence deadline is ahead
    p = ok_params(look.call("io.mmpd.Check", {"device": dev}))
    now = boottime_usec()
    assert p["may_use"] is True, p
    assert now < p["guaranteed_until_usec"] < now + 3600 * 10**6, (now, p)
    assert p["guaranteed_until_usec"] == p["volume"]["fence_at_usec"], p
    assert time.time() - 2 < p["guaranteed_until_wall"] <= time.time() + 3600, p
    assert p["volume"]["state"] == "in_use" and p["volume"]["use"]["phase"] == "in_use", p
    # List
    vols = [x for x in ok_params(look.call("io.mmpd.List"))["volumes"] if x["device"] == dev]
    assert len(vols) == 1 and vols[0]["state"] == "in_use", vols
    assert vols[0]["use"]["user"] == "kernel" and vols[0]["use"]["mount_point"] == "/mnt/a", vols
    # Release may not pull it from under its user
    r = look.call("io.mmpd.Release", {"device": dev})
    expect_error(r, "io.mmpd.UseInProgress", device=dev, user="kernel", node="host-a")
    assert isinstance(r["parameters"]["seq"], int), r
    expect_error(look.call("io.mmpd.Claim", {"device": dev}), "io.mmpd.AlreadyClaimed", state="in_use")

    # EndUse: released and gone
    r = c.call("io.mmpd.EndUse", {"device": dev})
    assert "continues" not in r
    v = ok_params(r)["volume"]
    check_volume(v, dev, "released")
    assert "use" not in v, v
    expect_error(look.call("io.mmpd.Check", {"device": dev}), "io.mmpd.NoSuchVolume", device=dev)

    seen = watch_until(w, dev, "removed")
    assert "use_busy" not in seen, seen
    for t in ("claimed", "handoff", "in_use", "use_ended", "released"):
        assert t in seen, (t, seen)
    assert (seen.index("claimed") < seen.index("handoff") < seen.index("in_use") < seen.index("use_ended")
            < seen.index("released") < seen.index("removed")), seen


@test("Handoff of a tool with keep; EndUse keep re-claims (claiming, then held); EndUse keep of a held volume "
      "answers at once", fake=True, priv=True)
def t_end_use_keep():
    c, look = main_conn(), main_conn()
    dev = "/dev/fake-ho-keep"
    claim_held(c, dev)
    parts, final = c.stream("io.mmpd.Handoff", handoff_msg(dev, user="tool", pid=os.getpid(), mode="wait"))
    assert len(parts) == 1 and ok_params(parts[0])["go"] is True, parts
    u = ok_params(final)["volume"]["use"]
    assert u["user"] == "tool" and u["mode"] == "wait" and u["pid"] == os.getpid(), u
    assert u["keep"] is False and "mount_point" not in u, u
    v = ok_params(c.call("io.mmpd.EndUse", {"device": dev, "keep": True}))["volume"]
    check_volume(v, dev, "claiming")
    assert "use" not in v, v
    p = ok_params(look.call("io.mmpd.Check", {"device": dev}))
    assert p["may_use"] is False, p
    assert wait_state(look, dev, "held")
    p = ok_params(look.call("io.mmpd.Check", {"device": dev}))
    assert p["may_use"] is True and "use" not in p["volume"], p
    # nothing in use, keep: it stays held, answered at once
    v = ok_params(c.call("io.mmpd.EndUse", {"device": dev, "keep": True}))["volume"]
    check_volume(v, dev, "held")
    ok_params(c.call("io.mmpd.Release", {"device": dev}))


@test("Handoff with keep; EndUse without keep uses the Handoff's keep (re-claim)", fake=True, priv=True)
def t_end_use_keep_default():
    c = main_conn()
    dev = "/dev/fake-ho-keep2"
    claim_held(c, dev)
    parts, final = c.stream("io.mmpd.Handoff", handoff_msg(dev, keep=True))
    assert ok_params(final)["volume"]["use"]["keep"] is True, final
    check_volume(ok_params(c.call("io.mmpd.EndUse", {"device": dev}))["volume"], dev, "claiming")
    assert wait_state(c, dev, "held")
    ok_params(c.call("io.mmpd.Release", {"device": dev}))


@test("a handoff with no user write: go, then HandoffFailed with a reason; re-claimed; EndUse then releases",
      fake=True, priv=True)
def t_handoff_failed():
    c, look = main_conn(), main_conn()
    dev = "/dev/fake-handofffail1"
    claim_held(c, dev)
    parts, final = c.stream("io.mmpd.Handoff", handoff_msg(dev))
    assert len(parts) == 1 and ok_params(parts[0])["go"] is True, parts
    p = expect_error(final, "io.mmpd.HandoffFailed", device=dev)
    assert "handoff timeout" in p["reason"], p
    v = ok_params(look.call("io.mmpd.Check", {"device": dev}))["volume"]
    assert v["state"] in ("claiming", "held") and "use" not in v, v
    assert wait_state(look, dev, "held")
    # the caller's EndUse after a failed handoff: released
    check_volume(ok_params(c.call("io.mmpd.EndUse", {"device": dev}))["volume"], dev, "released")
    expect_error(look.call("io.mmpd.Check", {"device": dev}), "io.mmpd.NoSuchVolume")


@test("EndUse before the user's first write ends the pending Handoff with HandoffFailed", fake=True, priv=True)
def t_end_use_during_handoff():
    c, other = main_conn(), main_conn()
    dev = "/dev/fake-ho-early"
    claim_held(c, dev)
    c.send("io.mmpd.Handoff", handoff_msg(dev), more=True)
    first = c.recv()
    assert first.get("continues") and ok_params(first)["go"] is True, first
    v = ok_params(other.call("io.mmpd.EndUse", {"device": dev}))["volume"]
    check_volume(v, dev, "claiming")
    expect_error(c.recv(), "io.mmpd.HandoffFailed", device=dev)
    assert wait_state(other, dev, "held")
    ok_params(other.call("io.mmpd.Release", {"device": dev}))


@test("EndUse while the user still writes: UseInProgress, still in use; Watch sees no use_busy",
      fake=True, priv=True)
def t_end_use_busy():
    with Server("--fake-wait", "0.05") as srv:
        w, c = srv.conn(), srv.conn()
        dev = "/dev/fake-busyuse1"
        w.send("io.mmpd.Watch", more=True)
        time.sleep(0.1)
        claim_held(c, dev)
        parts, final = c.stream("io.mmpd.Handoff", handoff_msg(dev))
        assert ok_params(final)["volume"]["use"]["phase"] == "in_use", final
        r = c.call("io.mmpd.EndUse", {"device": dev})
        expect_error(r, "io.mmpd.UseInProgress", device=dev, user="kernel", node="host-a")
        assert isinstance(r["parameters"]["seq"], int), r
        p = ok_params(c.call("io.mmpd.Check", {"device": dev}))
        assert p["may_use"] is True and p["volume"]["state"] == "in_use", p
        assert p["volume"]["use"]["phase"] == "in_use", p
        seen = watch_until(w, dev, "in_use")
        while not w.silent_for(0.3):
            while b"\0" in w.buf:
                seen.append(w.recv()["parameters"]["event"]["type"])
        assert "use_busy" not in seen, seen
        expect_error(c.call("io.mmpd.Release", {"device": dev}), "io.mmpd.UseInProgress")


@test("EndUse of a volume re-claiming after its use answers at once (state claiming)", fake=True, priv=True)
def t_end_use_reclaiming():
    c = main_conn()
    dev = "/dev/fake-ho-reclaim"
    claim_held(c, dev)
    c.stream("io.mmpd.Handoff", handoff_msg(dev, keep=True))
    check_volume(ok_params(c.call("io.mmpd.EndUse", {"device": dev}))["volume"], dev, "claiming")
    try:
        r = c.call("io.mmpd.EndUse", {"device": dev})
        check_volume(ok_params(r)["volume"], dev, "claiming")
    finally:
        c2 = main_conn()
        wait_state(c2, dev, "held")
        ok_params(c2.call("io.mmpd.Release", {"device": dev}))


# ---- Inspect ---------------------------------------------------------------------------


def mkimg(path, *opts, size="8M"):
    subprocess.run(["mkfs.ext4", "-q", "-F", *opts, path, size], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(path, 0o644)


def dump_mmp(path):
    out = subprocess.run(["debugfs", "-R", "dump_mmp", path], capture_output=True, text=True).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def tmpdir():
    d = tempfile.mkdtemp(prefix="mmpd-vl-img-", dir=os.environ.get("MMPD_TEST_TMPDIR"))
    os.chmod(d, 0o755)
    return d


@test("Inspect decodes an image's MMP block like debugfs dump_mmp", needs=("mkfs.ext4", "debugfs"))
def t_inspect():
    d = tmpdir()
    try:
        for opts in (["-O", "mmp,^metadata_csum", "-b", "4096", "-E", "mmp_update_interval=7"],
                     ["-O", "mmp,metadata_csum", "-b", "1024"]):
            img = os.path.join(d, "fs.img")
            mkimg(img, *opts)
            want = dump_mmp(img)
            b = ok_params(main_conn().call("io.mmpd.Inspect", {"device": img}))["block"]
            assert b["block_number"] == int(want["block_number"]), (b, want)
            assert b["update_interval"] == int(want["update_interval"]), (b, want)
            assert b["check_interval"] == int(want["check_interval"]), (b, want)
            assert b["seq"] == int(want["sequence"], 16) and b["seq_class"] == "clean", (b, want)
            assert b["node"] == want["node_name"] and b["device"] == want["device_name"], (b, want)
            assert b["magic"] == int(want["magic"], 16) and b["checksum_valid"] is True, (b, want)
            assert b["metadata_csum"] == ("^metadata_csum" not in opts[1]), b
            assert b["block_size"] == int(opts[3]), b
            ci = max(b["update_interval"], 5, b["check_interval"])
            assert b["wait_seconds"] == min(2 * ci + 1, ci + 60), b
            os.unlink(img)
    finally:
        shutil.rmtree(d)


@test("Inspect shows a bad magic instead of failing", needs=("mkfs.ext4", "debugfs"))
def t_inspect_bad_magic():
    d = tmpdir()
    try:
        img = os.path.join(d, "fs.img")
        mkimg(img, "-O", "mmp", "-b", "4096")
        want = dump_mmp(img)
        with open(img, "r+b") as f:
            f.seek(int(want["block_number"]) * 4096)
            f.write(struct.pack("<I", 0x12345678))
        b = ok_params(main_conn().call("io.mmpd.Inspect", {"device": img}))["block"]
        assert b["magic"] == 0x12345678 and b["seq_class"] == "clean", b
    finally:
        shutil.rmtree(d)


@test("Inspect errors: not ext4, no mmp feature, missing, not a block device or file", needs=("mkfs.ext4",))
def t_inspect_errors():
    d = tmpdir()
    try:
        zeros = os.path.join(d, "zeros")
        with open(zeros, "wb") as f:
            f.truncate(MIB)
        nommp = os.path.join(d, "nommp.img")
        mkimg(nommp)
        c = main_conn()
        expect_error(c.call("io.mmpd.Inspect", {"device": zeros}), "io.mmpd.NotMmpFilesystem", device=zeros)
        p = expect_error(c.call("io.mmpd.Inspect", {"device": nommp}), "io.mmpd.NotMmpFilesystem")
        assert "tune2fs -O mmp" in p["reason"], p
        expect_error(c.call("io.mmpd.Inspect", {"device": d + "/nope"}), "io.mmpd.IoError", errno=errno.ENOENT)
        expect_error(c.call("io.mmpd.Inspect", {"device": "/dev/null"}), "io.mmpd.IoError", errno=errno.ENOTBLK)
        short = os.path.join(d, "short")
        with open(short, "wb") as f:
            f.write(b"x" * 1500)
        expect_error(c.call("io.mmpd.Inspect", {"device": short}), "io.mmpd.NotMmpFilesystem")
    finally:
        shutil.rmtree(d)

# ---- robustness ------------------------------------------------------------------------


@test("a message over 1 MiB closes the connection; the server goes on")
def t_too_large():
    c = main_conn(timeout=20)
    big = b'{"method":"org.varlink.service.GetInfo","parameters":{"x":"' + b"a" * (MIB + 16)
    try:
        c.raw(big + b'"}}\0')
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert c.closed_within(5), "not closed"
    assert ok_params(main_conn().call("org.varlink.service.GetInfo"))["vendor"] == "mmpd"


@test("a message of almost 1 MiB is fine")
def t_large_ok():
    c = main_conn(timeout=20)
    pad = "a" * (MIB - 200)
    expect_error(c.call("io.mmpd.Check", {"device": "/" + pad}), "io.mmpd.NoSuchVolume")


@test("broken messages close the connection: bad JSON, not an object, no method, bad flags")
def t_broken():
    for data in (b"{nope\0", b"[1,2,3]\0", b'"GetInfo"\0', b'{"parameters":{}}\0', b'{"method":7}\0',
                 b'{"method":"io.mmpd.List","parameters":[]}\0', b'{"method":"io.mmpd.List","more":"yes"}\0',
                 b"\0"):
        c = main_conn()
        c.raw(data)
        assert c.closed_within(5), "not closed after %r" % data
    assert ok_params(main_conn().call("org.varlink.service.GetInfo"))


@test("1000 idle connections are accepted and GetInfo is still answered promptly")
def t_many_idle():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1100 and hard >= 1100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    idle = [main_conn() for _ in range(1000)]
    try:
        c = main_conn()
        t0 = time.monotonic()
        for _ in range(20):
            ok_params(c.call("org.varlink.service.GetInfo"))
        dt = (time.monotonic() - t0) / 20
        assert dt < 0.1, "GetInfo took %.3f s with 1000 idle connections" % dt
        for s in (idle[0], idle[500], idle[-1]):
            assert s.silent_for(0.01), "an idle connection was closed early"
        ok_params(idle[-1].call("org.varlink.service.GetInfo"))
    finally:
        for s in idle:
            s.close()


def partial_timeout():
    return float(os.environ.get("MMPD_TEST_PARTIAL_TIMEOUT", "0")) if REAL else 1.0


def idle_timeout():
    return float(os.environ.get("MMPD_TEST_IDLE_TIMEOUT", "0")) if REAL else 2.0


@test("half a message then silence: closed after the partial-message timeout")
def t_partial_timeout():
    t = partial_timeout()
    if not t:
        return "SKIP needs MMPD_TEST_PARTIAL_TIMEOUT"
    c = main_conn()
    c.raw(b'{"method":"org.varlink.service.Get')
    t0 = time.monotonic()
    assert c.closed_within(t + 5), "not closed"
    dt = time.monotonic() - t0
    assert t * 0.8 <= dt <= t + 2, "closed after %.2f s, timeout %.2f s" % (dt, t)


@test("a connection without messages is closed after the idle timeout; one with a Watch is not")
def t_idle_timeout():
    t = idle_timeout()
    if not t:
        return "SKIP needs MMPD_TEST_IDLE_TIMEOUT"
    idle, used, watch = main_conn(), main_conn(), main_conn()
    watch.send("io.mmpd.Watch", more=True)
    ok_params(used.call("org.varlink.service.GetInfo"))
    t0 = time.monotonic()
    assert idle.closed_within(t + 5), "idle connection not closed"
    assert t * 0.8 <= time.monotonic() - t0 <= t + 2
    assert used.closed_within(3), "connection idle after a call not closed"
    assert not watch.closed_within(0.5), "a Watch was closed by the idle timeout"


@test("connection limit: the newest is closed at once; root has a reserve; a slot frees up", fake=True)
def t_max_connections():
    with Server("--max-connections", "20", "--root-reserve", "3") as srv:
        conns = [srv.conn() for _ in range(20 + (3 if ROOT else 0))]
        ok_params(conns[-1].call("org.varlink.service.GetInfo"))
        extra = srv.conn()
        assert extra.closed_within(2), "connection over the limit was not closed"
        conns.pop().close()
        time.sleep(0.2)
        ok_params(srv.conn().call("org.varlink.service.GetInfo"))
        for c in conns:
            c.close()


@test("a Watch reader that does not read is dropped once its output is over the bound", fake=True, priv=True)
def t_slow_watch():
    with Server("--max-output", "65536") as srv:
        w = srv.conn()
        w.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        w.send("io.mmpd.Watch", more=True)
        time.sleep(0.1)
        ok_params(srv.conn().call("io.mmpd.Claim", {"device": "/dev/fake-noisy"}))
        time.sleep(3)              # ~500 events/s, never read
        assert w.closed_within(10), "a Watch reader that never reads was not dropped"
        ok_params(srv.conn().call("org.varlink.service.GetInfo"))

@test("a flood of big List calls does not hold up heartbeats (dispatch budget per iteration)",
      fake=True, priv=True)
def t_list_flood():
    n, conns, lists = 2000, 25, 2
    srv = Server("--fake-wait", "0.05", "--fake-heartbeat", "0.2")
    try:
        c = srv.conn(timeout=60)
        c.raw(b"".join(json.dumps(call_msg("io.mmpd.Claim", {"device": "/dev/fake-h%d" % i}, oneway=True)).encode()
                       + b"\0" for i in range(n)))
        assert wait_for(lambda: sum(v["state"] == "held" for v in ok_params(c.call("io.mmpd.List"))["volumes"]) == n,
                        timeout=30)
        time.sleep(0.5)
        flood = [srv.conn(timeout=60) for _ in range(conns)]
        t0 = time.monotonic()
        for f in flood:
            f.raw((json.dumps(call_msg("io.mmpd.List")).encode() + b"\0") * lists)
        for f in flood:
            for _ in range(lists):
                assert len(ok_params(f.recv(60))["volumes"]) == n
        dt = time.monotonic() - t0
    finally:
        rc = srv.stop()
    assert rc == 0
    late = srv.lateness()
    print("# %d List calls of %d volumes in %.2f s; worst heartbeat delay %.3f s" % (conns * lists, n, dt, late))
    assert late < 0.12, "a heartbeat timer fired %.3f s late" % late


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


@test("a List reader that does not keep up: the reply waits for it within --max-output, then arrives whole",
      fake=True, priv=True)
def t_list_backpressure():
    n = 6000
    with Server("--max-output", "65536", "--fake-wait", "0.05", "--fake-heartbeat", "1") as srv:
        c = srv.conn(timeout=60)
        c.raw(b"".join(json.dumps(call_msg("io.mmpd.Claim", {"device": "/dev/fake-b%d" % i}, oneway=True)).encode()
                       + b"\0" for i in range(n)))
        # no List before the one measured: its freed buffers would be reused
        assert wait_for(lambda: ok_params(c.call("io.mmpd.Check", {"device": "/dev/fake-b%d" % (n - 1)}))
                        ["volume"]["state"] == "held", timeout=30)
        time.sleep(0.3)
        slow = srv.conn(timeout=60)
        slow.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        rss0 = rss_kib(srv.p.pid)
        slow.send("io.mmpd.List")
        time.sleep(1.5)             # not reading: mmpd must stop at --max-output
        grown = rss_kib(srv.p.pid) - rss0
        # meanwhile others are served
        ok_params(srv.conn().call("org.varlink.service.GetInfo"))
        total = 0
        slow.s.settimeout(60)
        while b"\0" not in slow.buf:
            data = slow.s.recv(1 << 20)
            assert data, "the server closed the slow List reader"
            total += len(data)
            slow.buf += data
        reply = slow.recv()
        vols = ok_params(reply)["volumes"]
        assert len(vols) == n, "List sent %d of %d volumes" % (len(vols), n)
        assert len({v["device"] for v in vols}) == n, "a volume was sent twice or lost"
        print("# List reply %d KiB; the server grew by %d KiB while its reader did not read" %
              (total // 1024, grown))
        assert grown * 1024 < total // 4, \
            "the server grew by %d KiB for a %d KiB reply nobody read" % (grown, total // 1024)


# ---- access ----------------------------------------------------------------------------


@test("unprivileged peer: GetInfo, List, Check work; Claim and Release get PermissionDenied", root=True)
def t_access_nobody():
    r = as_user(socket_path(), [
        call_msg("org.varlink.service.GetInfo"),
        call_msg("io.mmpd.List"),
        call_msg("io.mmpd.Check", {"device": "/dev/never-claimed"}),
        call_msg("io.mmpd.Claim", {"device": "/dev/fake-nobody"}),
        call_msg("io.mmpd.Release", {"device": "/dev/fake-nobody"}),
        call_msg("io.mmpd.Claim", {}),        # denied before its parameters are looked at
    ])
    assert ok_params(r[0])["vendor"] == "mmpd"
    assert isinstance(ok_params(r[1])["volumes"], list)
    expect_error(r[2], "io.mmpd.NoSuchVolume")
    for x in r[3:]:
        expect_error(x, "org.varlink.service.PermissionDenied")


@test("unprivileged peer: Handoff and EndUse get PermissionDenied", root=True)
def t_access_handoff():
    dev = "/dev/fake-nobody"
    r = as_user(socket_path(), [
        call_msg("io.mmpd.Handoff", handoff_msg(dev), more=True),
        call_msg("io.mmpd.Handoff", {}, more=True),       # denied before its parameters are looked at
        call_msg("io.mmpd.EndUse", {"device": dev}),
        call_msg("io.mmpd.EndUse", {"device": dev, "keep": True}),
    ])
    for x in r:
        expect_error(x, "org.varlink.service.PermissionDenied")


@test("unprivileged peer: Handoff and EndUse of a held volume are denied, the volume is untouched",
      fake=True, root=True)
def t_access_handoff_held():
    c = main_conn()
    dev = "/dev/fake-ho-nobody"
    claim_held(c, dev)
    try:
        r = as_user(socket_path(), [
            call_msg("io.mmpd.Handoff", handoff_msg(dev), more=True),
            call_msg("io.mmpd.EndUse", {"device": dev}),
            call_msg("io.mmpd.Check", {"device": dev}),
        ])
        expect_error(r[0], "org.varlink.service.PermissionDenied")
        expect_error(r[1], "org.varlink.service.PermissionDenied")
        p = ok_params(r[2])
        assert p["may_use"] is True and p["volume"]["state"] == "held" and "use" not in p["volume"], p
    finally:
        ok_params(c.call("io.mmpd.Release", {"device": dev}))


@test("admin_group: members (primary or supplementary) may Claim and Release", fake=True, root=True)
def t_access_admin_group():
    with Server("--admin-group", "4242", "--fake-wait", "0.05") as srv:
        r = as_user(srv.path, [call_msg("io.mmpd.Claim", {"device": "/dev/fake-g1"})], groups=[4242])
        check_volume(ok_params(r[0])["volume"], "/dev/fake-g1", "held")
        r = as_user(srv.path, [call_msg("io.mmpd.Release", {"device": "/dev/fake-g1"})], gid="4242")
        check_volume(ok_params(r[0])["volume"], "/dev/fake-g1", "released")
        r = as_user(srv.path, [call_msg("io.mmpd.Claim", {"device": "/dev/fake-g2"})], groups=[4243])
        expect_error(r[0], "org.varlink.service.PermissionDenied")


@test("unprivileged Inspect reads only what the peer could read itself", root=True, needs=("mkfs.ext4",))
def t_access_inspect():
    d = tmpdir()
    try:
        img = os.path.join(d, "fs.img")
        mkimg(img, "-O", "mmp")
        r = as_user(socket_path(), [call_msg("io.mmpd.Inspect", {"device": img})])
        assert ok_params(r[0])["block"]["seq_class"] == "clean"
        os.chmod(img, 0o600)
        r = as_user(socket_path(), [call_msg("io.mmpd.Inspect", {"device": img})])
        expect_error(r[0], "io.mmpd.IoError", errno=errno.EACCES)
        ok_params(main_conn().call("io.mmpd.Inspect", {"device": img}))     # root may
    finally:
        shutil.rmtree(d)


@test("unprivileged Inspect honours directories and is no existence oracle", root=True, needs=("mkfs.ext4",))
def t_access_inspect_dirs():
    d = tmpdir()
    try:
        sub = os.path.join(d, "private")
        os.mkdir(sub)
        img = os.path.join(sub, "fs.img")
        mkimg(img, "-O", "mmp")
        os.chmod(img, 0o644)
        os.chmod(sub, 0o755)
        r = as_user(socket_path(), [call_msg("io.mmpd.Inspect", {"device": img})])
        assert ok_params(r[0])["block"]["seq_class"] == "clean"
        # a readable file inside a directory the peer cannot enter
        os.chmod(sub, 0o700)
        r = as_user(socket_path(), [call_msg("io.mmpd.Inspect", {"device": img})])
        expect_error(r[0], "io.mmpd.IoError", errno=errno.EACCES)
        # what exists behind it and what does not look the same
        missing = os.path.join(sub, "no-such-file")
        r = as_user(socket_path(), [call_msg("io.mmpd.Inspect", {"device": img}),
                                    call_msg("io.mmpd.Inspect", {"device": missing})])
        for reply in r:
            expect_error(reply, "io.mmpd.IoError", errno=errno.EACCES)
        ok_params(main_conn().call("io.mmpd.Inspect", {"device": img}))     # root may
    finally:
        shutil.rmtree(d)

# ---- the socket ---------------------------------------------------------------------------


@test("socket: parent created 0755, socket 0666, removed at exit", fake=True)
def t_socket_file():
    srv = Server()
    try:
        assert stat.S_IMODE(os.stat(os.path.dirname(srv.path)).st_mode) == 0o755
        st = os.lstat(srv.path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o666, oct(st.st_mode)
        path = srv.path
        srv.p.send_signal(signal.SIGTERM)
        assert srv.p.wait(10) == 0
        assert not os.path.exists(path), "socket left behind"
    finally:
        srv.stop()


@test("socket: a stale one is replaced, a live one or another file is left alone", fake=True)
def t_socket_stale():
    d = tempfile.mkdtemp(prefix="mmpd-vl-")
    try:
        path = os.path.join(d, "io.mmpd")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)
        stale.close()                                   # file stays, nobody listens
        p = subprocess.Popen([SERVER_BIN, "--socket", path], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "READY"
        ok_params(Conn(path).call("org.varlink.service.GetInfo"))
        q = subprocess.run([SERVER_BIN, "--socket", path], capture_output=True, text=True, timeout=10)
        assert q.returncode != 0 and "in use" in q.stderr, (q.returncode, q.stderr)
        ok_params(Conn(path).call("org.varlink.service.GetInfo"))     # the live one is untouched
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
        with open(path, "w") as f:
            f.write("not a socket")
        q = subprocess.run([SERVER_BIN, "--socket", path], capture_output=True, text=True, timeout=10)
        assert q.returncode != 0 and open(path).read() == "not a socket", q.stderr
    finally:
        shutil.rmtree(d)


@test("socket activation: a listening fd passed in is served", fake=True)
def t_socket_activation():
    d = tempfile.mkdtemp(prefix="mmpd-vl-")
    try:
        path = os.path.join(d, "activated")
        ls = socket.socket(socket.AF_UNIX)
        ls.bind(path)
        ls.listen(16)
        ls.set_inheritable(True)
        srv = Server(listen_fd=ls.fileno())
        ls.close()
        try:
            ok_params(Conn(path).call("org.varlink.service.GetInfo"))
        finally:
            srv.stop()
        assert os.path.exists(path), "an adopted socket's file must not be removed"
        s = socket.socket(socket.AF_UNIX)                # not listening: refused
        s.set_inheritable(True)
        srv = Server(listen_fd=s.fileno(), expect_fail=True)
        assert not srv.ready and srv.p.wait(10) != 0
        srv.stop()
        s.close()
    finally:
        shutil.rmtree(d)

# ---- real device (MMPD_VARLINK_SOCKET + MMPD_TEST_DEVICE) -------------------------------


@test("real device: Claim with more while Watch and Check look on, then Release", priv=True, needs=("device",))
def t_real_device():
    dev = os.environ["MMPD_TEST_DEVICE"]
    w, c, look = main_conn(timeout=600), main_conn(timeout=600), main_conn()
    w.send("io.mmpd.Watch", more=True)
    time.sleep(0.2)
    c.send("io.mmpd.Claim", {"device": dev}, more=True)
    first = c.recv(60)
    assert first.get("continues") and first["parameters"]["event"]["type"] == "progress", first
    p = ok_params(look.call("io.mmpd.Check", {"device": dev}))
    assert p["may_use"] is False and p["volume"]["state"] == "claiming", p
    parts = [first]
    while True:
        r = c.recv(600)
        if not r.get("continues"):
            break
        parts.append(r)
    assert all(p["parameters"]["event"]["type"] == "progress" for p in parts), parts
    v = ok_params(r)["volume"]
    assert v["state"] == "held" and r["parameters"]["event"]["type"] == "claimed", r
    p = ok_params(look.call("io.mmpd.Check", {"device": dev}))
    assert p["may_use"] is True and p["guaranteed_until_usec"] > boottime_usec(), p
    expect_error(look.call("io.mmpd.Claim", {"device": dev}), "io.mmpd.AlreadyClaimed", state="held")
    r = c.call("io.mmpd.Release", {"device": dev})
    assert ok_params(r)["volume"]["state"] == "released", r
    seen = []
    while "released" not in seen:
        ev = w.recv(30)["parameters"]["event"]
        if ev["volume"]["device"] == dev:
            seen.append(ev["type"])
    assert seen[0] == "progress" and "claimed" in seen, seen

# ---- runner ------------------------------------------------------------------------------


def main():
    global MAIN, TESTS
    if REAL:
        # Against the real daemon the fake-registry cases are covered by the
        # run against the test server; leave them out rather than skip them.
        TESTS = [t for t in TESTS if not t[2]]
    elif not os.environ.get("MMPD_TEST_DEVICE"):
        # The real-device case runs against the real daemon (tests/integ/control.sh).
        TESTS = [t for t in TESTS if "device" not in t[5]]
    print("1..%d" % (len(TESTS) + (0 if REAL else 1)))
    sys.stdout.flush()
    valgrind = os.environ.get("MMPD_TEST_VALGRIND") == "1"
    if not REAL:
        if not os.access(SERVER_BIN, os.X_OK):
            print("Bail out! test server %s not built" % SERVER_BIN)
            return 1
        MAIN = Server("--idle-timeout", str(idle_timeout()), "--partial-timeout", str(partial_timeout()),
                      valgrind=valgrind)
    failed = 0
    for i, (name, fn, fake, root, priv, needs, todo) in enumerate(TESTS, 1):
        skip = None
        if priv and REAL and not ROOT:
            root = True         # the real daemon's admin_group is unknown here
        if fake and REAL:
            skip = "needs the test server with the fake registry"
        elif root and not ROOT:
            if CI:
                print("not ok %d - %s # needs root, and CI=true" % (i, name))
                failed += 1
                continue
            skip = "needs root"
        elif missing_tool(needs):
            skip = missing_tool(needs)
            if CI and skip != "needs MMPD_TEST_DEVICE":
                print("not ok %d - %s # %s, and CI=true" % (i, name, skip))
                failed += 1
                continue
        if skip:
            print("ok %d - %s # SKIP %s" % (i, name, skip))
            continue
        t0 = time.monotonic()
        try:
            res = fn()
        except Exception:
            if todo:            # a known bug: TAP TODO (XFAIL), not a failure
                print("not ok %d - %s # TODO %s" % (i, name, todo))
            else:
                failed += 1
                print("not ok %d - %s" % (i, name))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        else:
            if isinstance(res, str) and res.startswith("SKIP"):
                print("ok %d - %s # %s" % (i, name, res))
            elif todo:          # fixed: XPASS, time to drop the todo
                print("ok %d - %s # TODO %s" % (i, name, todo))
            else:
                print("ok %d - %s (%.2f s)" % (i, name, time.monotonic() - t0))
        sys.stdout.flush()
    name = "the test server shuts down cleanly" + (" (valgrind: no leaks, no errors)" if valgrind else "")
    if MAIN:
        rc = MAIN.stop()
        if rc == 0:
            print("ok %d - %s" % (len(TESTS) + 1, name))
        else:
            failed += 1
            print("not ok %d - %s # exit status %d%s" % (len(TESTS) + 1, name, rc,
                                                        " (valgrind errors)" if rc == 99 else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
