# SPDX-License-Identifier: MPL-2.0
"""volley <-> python3-zmq (pyzmq over libzmq), driven from Python.

Usage: pyzmq_peer.py <path to volley_echo>

For tcp:// and ipc://, once with volley binding and once with pyzmq binding,
this starts volley_echo (a volley PAIR that echoes each multipart message),
sends it single-frame, multipart (with an empty frame) and 1 MiB messages
from a pyzmq PAIR, and checks that each comes back byte for byte. Every wait
is bounded. Exits 0 when all pass, 1 on any failure, 77 (skipped) when
python3-zmq is not installed.
"""

import os
import select
import subprocess
import sys
import time

try:
    import zmq
except ImportError:
    print("python3-zmq is not installed: skipping", file=sys.stderr)
    sys.exit(77)

TIMEOUT_MS = 10000
ONE_MIB = 1 << 20

MESSAGES = [
    [b"hello from pyzmq"],
    [b"first", b"", b"third, after an empty frame"],
    [bytes((i * 131 + 7) & 0xFF for i in range(ONE_MIB))],
    [b"header", os.urandom(ONE_MIB), b""],
    [b""],
]


class Failure(Exception):
    pass


def read_line(proc, timeout_s):
    """The first line volley_echo prints (its bound endpoint), within timeout_s."""
    deadline = time.monotonic() + timeout_s
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            raise Failure("volley_echo printed no endpoint")
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            raise Failure("volley_echo exited before printing its endpoint")
        line += chunk
    return line.decode().strip()


def run_case(echo, ctx, scheme, volley_binds, ipc_path):
    bind_at = "tcp://127.0.0.1:*" if scheme == "tcp" else "ipc://" + ipc_path
    sock = ctx.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    proc = None
    try:
        if volley_binds:
            proc = subprocess.Popen([echo, "bind", bind_at, str(len(MESSAGES))], stdout=subprocess.PIPE)
            endpoint = read_line(proc, TIMEOUT_MS / 1000)
            sock.connect(endpoint)
        else:
            sock.bind(bind_at)
            endpoint = sock.getsockopt(zmq.LAST_ENDPOINT).decode()
            proc = subprocess.Popen([echo, "connect", endpoint, str(len(MESSAGES))], stdout=subprocess.PIPE)
        for i, msg in enumerate(MESSAGES):
            try:
                sock.send_multipart(msg)
                back = sock.recv_multipart()
            except zmq.Again:
                raise Failure("message %d: no echo within %d ms" % (i, TIMEOUT_MS))
            if back != msg:
                raise Failure("message %d came back different: %d frames of sizes %s, sent %d of sizes %s"
                              % (i, len(back), [len(f) for f in back], len(msg), [len(f) for f in msg]))
        try:
            code = proc.wait(timeout=TIMEOUT_MS / 1000)
        except subprocess.TimeoutExpired:
            raise Failure("volley_echo did not exit after its last echo")
        if code != 0:
            raise Failure("volley_echo exited with %d" % code)
    finally:
        sock.close(linger=0)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None:
            proc.stdout.close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    echo = sys.argv[1]
    failures = 0
    ctx = zmq.Context()
    try:
        n = 0
        for scheme in ("tcp", "ipc"):
            for volley_binds in (True, False):
                n += 1
                ipc_path = "/tmp/volley-pyzmq-%d-%d.ipc" % (os.getpid(), n)
                name = "%s, %s binds" % (scheme, "volley" if volley_binds else "pyzmq")
                try:
                    run_case(echo, ctx, scheme, volley_binds, ipc_path)
                    print("ok   %s" % name)
                except (Failure, zmq.ZMQError, OSError) as e:
                    failures += 1
                    print("FAIL %s: %s" % (name, e))
                finally:
                    if os.path.exists(ipc_path):
                        os.unlink(ipc_path)
    finally:
        ctx.term()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
