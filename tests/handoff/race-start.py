#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""race-start.py DEVICE NODE TIMEOUT_S READY_FILE -- COMMAND [ARGS...]

Start COMMAND the moment the MMP block on DEVICE shows an active seq written
by NODE (a claim: neither CLEAN nor FSCK), so that COMMAND's own first MMP
read (e2fsck's) lands right after that write.  COMMAND is forked first and
waits on a pipe: what is left after the block is seen is one write() and the
execvp().  The block is read with O_DIRECT in a tight loop.  READY_FILE is
created once polling has begun.

Prints one line on stderr,
    race-start: seen seq=0x... node=NAME poll_us=N (the sample before it was N us earlier)
then COMMAND's output follows; exits with COMMAND's status (or 124 if the
block never showed NODE within TIMEOUT_S, 2 on an error).
"""
import mmap
import os
import struct
import sys
import time

SEQ_CLEAN = 0xFF4D4D50
SEQ_FSCK = 0xE24D4D50
MMP_MAGIC = 0x004D4D50


def main():
    if len(sys.argv) < 7 or sys.argv[5] != "--":
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    dev, node, timeout, ready = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3]), sys.argv[4]
    cmd = sys.argv[6:]

    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)                    # page aligned, as O_DIRECT wants
    if os.preadv(fd, [buf], 0) != 4096:
        print("race-start: cannot read the superblock", file=sys.stderr)
        return 2
    sb = bytes(buf[1024:2048])
    if struct.unpack_from("<H", sb, 0x38)[0] != 0xEF53:
        print("race-start: not an ext4 superblock", file=sys.stderr)
        return 2
    block_size = 1024 << struct.unpack_from("<I", sb, 0x18)[0]
    mmp_block = struct.unpack_from("<Q", sb, 0x168)[0]
    if mmp_block == 0:
        print("race-start: no MMP block", file=sys.stderr)
        return 2
    off = mmp_block * block_size
    mbuf = mmap.mmap(-1, max(block_size, 4096))
    view = memoryview(mbuf)[:block_size]

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.close(fd)
        if os.read(r, 1) != b"g":
            os._exit(125)
        os.close(r)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(r)

    open(ready, "w").close()
    end = time.monotonic() + timeout
    prev = None
    while True:
        t = time.monotonic()
        if t > end:
            os.close(w)                            # the child exits without running COMMAND
            os.waitpid(pid, 0)
            print("race-start: %s never showed a claim by %s" % (dev, node.decode()), file=sys.stderr)
            return 124
        if os.preadv(fd, [view], off) != block_size:
            continue
        magic, seq = struct.unpack_from("<II", mbuf, 0)
        name = bytes(mbuf[16:80]).split(b"\0", 1)[0]
        if magic == MMP_MAGIC and seq not in (SEQ_CLEAN, SEQ_FSCK) and name == node:
            os.write(w, b"g")
            t_go = time.monotonic()
            break
        prev = t
    os.close(w)
    print("race-start: seen seq=%#x node=%s, COMMAND released %d us after the read, "
          "the previous sample %d us before it" %
          (seq, name.decode(errors="replace"), (t_go - t) * 1e6, (t - prev) * 1e6 if prev else -1),
          file=sys.stderr, flush=True)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8


if __name__ == "__main__":
    sys.exit(main())
