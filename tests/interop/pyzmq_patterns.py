# SPDX-License-Identifier: MPL-2.0
"""volley <-> python3-zmq (pyzmq over libzmq): request-reply and publish-subscribe.

Usage: pyzmq_patterns.py <path to volley_echo>

For tcp:// and ipc://, once with volley binding and once with pyzmq binding,
this runs volley_echo in one role and a pyzmq socket in the other:

  pyzmq REQ  -> volley REP   requests (one frame, multipart with an empty
                             frame, 1 MiB) come back as their replies
  volley REQ -> pyzmq REP    pyzmq echoes each request; volley checks them
  volley PUB -> pyzmq SUB    SUB subscribes to "match"; of "match N",
                             "other N" and "mat N" only "match N" arrive,
                             numbered without a gap from the first one
  volley PUB -> pyzmq XSUB   the same, where libzmq does not filter: what
                             arrives is what volley's PUB chose to send
  pyzmq PUB  -> volley SUB   volley subscribes to "match" and prints what it
                             gets: only "match N", without a gap

A subscriber joins late (ZeroMQ's slow joiner): the publisher publishes until
the first matching message arrives, within a bounded time. Every wait is
bounded. Exits 0 when all pass, 1 on any failure (each named on stdout),
77 (skipped) when python3-zmq is not installed.
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
JOIN_S = 10.0  # a late subscriber gets its first message within this
ONE_MIB = 1 << 20
TOPIC = b"match"
NOISE = (b"other", b"mat")  # "mat" is a prefix of the subscription, not the other way round
SUB_COUNT = 50  # matching messages a subscriber checks after its first

REQUESTS = [
    [b"hello from pyzmq"],
    [b"first", b"", b"third, after an empty frame"],
    [bytes((i * 131 + 7) & 0xFF for i in range(ONE_MIB))],
    [b""],
]


class Failure(Exception):
    pass


class Volley:
    """volley_echo in one mode, its endpoint known once it runs."""

    def __init__(self, echo, mode, volley_binds, endpoint, count, extra=()):
        args = [echo, mode, "bind" if volley_binds else "connect", endpoint, str(count)] + list(extra)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buffer = b""
        self.endpoint = self.read_line(TIMEOUT_MS / 1000) if volley_binds else endpoint

    def read_line(self, timeout_s):
        """The next line volley_echo prints, within timeout_s; None when none came in time."""
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise Failure("volley_echo exited (code %s) before printing a line we waited for"
                              % self.proc.poll())
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def stop(self):
        """Tells a publisher to stop (a line on its stdin)."""
        try:
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def expect_exit(self, what):
        try:
            code = self.proc.wait(timeout=TIMEOUT_MS / 1000)
        except subprocess.TimeoutExpired:
            raise Failure("volley %s did not exit" % what)
        if code != 0:
            raise Failure("volley %s exited with %d" % (what, code))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except BrokenPipeError:
                pass


def pyzmq_socket(ctx, kind):
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    return sock


def link(sock, volley_binds, bind_at, start_volley):
    """Binds or connects `sock` and starts volley on the other side; returns the Volley."""
    if volley_binds:
        v = start_volley(bind_at)
        if v.endpoint is None:
            v.close()
            raise Failure("volley_echo printed no endpoint")
        sock.connect(v.endpoint)
        return v
    sock.bind(bind_at)
    return start_volley(sock.getsockopt(zmq.LAST_ENDPOINT).decode())


def number(msg, topic):
    """N of a message b"<topic> N"; Failure when it is not one."""
    head, _, tail = msg.partition(b" ")
    if head != topic or not tail.isdigit():
        raise Failure("a message %r arrived, not one of %r" % (msg[:64], topic))
    return int(tail)


# ---------------------------------------------------------------------------- cases

def pyzmq_req_volley_rep(echo, ctx, volley_binds, bind_at):
    sock = pyzmq_socket(ctx, zmq.REQ)
    v = None
    try:
        v = link(sock, volley_binds, bind_at,
                 lambda ep: Volley(echo, "rep", volley_binds, ep, len(REQUESTS)))
        for i, msg in enumerate(REQUESTS):
            try:
                sock.send_multipart(msg)
                reply = sock.recv_multipart()
            except zmq.Again:
                raise Failure("request %d: no reply within %d ms" % (i, TIMEOUT_MS))
            if reply != msg:
                raise Failure("request %d: the reply differs: %d frames of sizes %s, sent %d of sizes %s"
                              % (i, len(reply), [len(f) for f in reply], len(msg), [len(f) for f in msg]))
        v.expect_exit("REP")
    finally:
        sock.close(linger=0)
        if v is not None:
            v.close()


def volley_req_pyzmq_rep(echo, ctx, volley_binds, bind_at):
    count = 20
    sock = pyzmq_socket(ctx, zmq.REP)
    v = None
    try:
        v = link(sock, volley_binds, bind_at, lambda ep: Volley(echo, "req", volley_binds, ep, count))
        for i in range(count):
            try:
                req = sock.recv_multipart()
            except zmq.Again:
                raise Failure("request %d: none came within %d ms" % (i, TIMEOUT_MS))
            if req != [b"request", str(i).encode()]:
                raise Failure("request %d arrived as %r" % (i, req))
            sock.send_multipart(req)
        v.expect_exit("REQ (it checks each reply)")
    finally:
        sock.close(linger=0)
        if v is not None:
            v.close()


def volley_pub_pyzmq_sub(echo, ctx, volley_binds, bind_at, kind):
    sock = pyzmq_socket(ctx, kind)
    v = None
    try:
        if kind == zmq.SUB:
            sock.setsockopt(zmq.SUBSCRIBE, TOPIC)
        else:  # XSUB: the subscription is a message, and libzmq filters nothing on receipt
            sock.send(b"\x01" + TOPIC)
        # Enough rounds for the slow joiner and the count, at a round per millisecond or more.
        topics = [t.decode() for t in (TOPIC,) + NOISE]
        v = link(sock, volley_binds, bind_at, lambda ep: Volley(echo, "pub", volley_binds, ep, 50000, topics))
        sock.setsockopt(zmq.RCVTIMEO, int(JOIN_S * 1000))
        try:
            first = number(sock.recv(), TOPIC)
        except zmq.Again:
            raise Failure("no message within %.0f s of subscribing (slow joiner never joined)" % JOIN_S)
        sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
        for k in range(1, SUB_COUNT + 1):
            try:
                got = number(sock.recv(), TOPIC)
            except zmq.Again:
                raise Failure("message %d after the first did not come within %d ms" % (k, TIMEOUT_MS))
            if got != first + k:
                raise Failure("expected %s %d, got %s %d" % (TOPIC.decode(), first + k, TOPIC.decode(), got))
        v.stop()
        v.expect_exit("PUB")
    finally:
        sock.close(linger=0)
        if v is not None:
            v.close()


def pyzmq_pub_volley_sub(echo, ctx, volley_binds, bind_at):
    sock = pyzmq_socket(ctx, zmq.PUB)
    v = None
    try:
        v = link(sock, volley_binds, bind_at,
                 lambda ep: Volley(echo, "sub", volley_binds, ep, SUB_COUNT + 1, [TOPIC.decode()]))
        lines = []
        n = 0
        deadline = time.monotonic() + JOIN_S
        while len(lines) <= SUB_COUNT:
            if time.monotonic() > deadline:
                raise Failure("volley SUB printed %d of %d messages within %.0f s"
                              % (len(lines), SUB_COUNT + 1, JOIN_S))
            for topic in (TOPIC,) + NOISE:
                sock.send(topic + b" " + str(n).encode())
            n += 1
            line = v.read_line(0.001)  # paces the publisher too: a round per millisecond or more
            while line is not None:
                lines.append(line)
                if len(lines) > SUB_COUNT:
                    break  # volley exits after its last line: read no further
                line = v.read_line(0)
        first = number(lines[0].encode(), TOPIC)
        for k, line in enumerate(lines):
            got = number(line.encode(), TOPIC)
            if got != first + k:
                raise Failure("volley SUB got %s after %s %d" % (line, TOPIC.decode(), first + k - 1))
        v.expect_exit("SUB")
    finally:
        sock.close(linger=0)
        if v is not None:
            v.close()


CASES = [
    ("pyzmq REQ, volley REP", pyzmq_req_volley_rep),
    ("volley REQ, pyzmq REP", volley_req_pyzmq_rep),
    ("volley PUB, pyzmq SUB", lambda e, c, b, a: volley_pub_pyzmq_sub(e, c, b, a, zmq.SUB)),
    ("volley PUB, pyzmq XSUB", lambda e, c, b, a: volley_pub_pyzmq_sub(e, c, b, a, zmq.XSUB)),
    ("pyzmq PUB, volley SUB", pyzmq_pub_volley_sub),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    echo = sys.argv[1]
    failures = 0
    ctx = zmq.Context()
    try:
        n = 0
        for name, case in CASES:
            for scheme in ("tcp", "ipc"):
                for volley_binds in (True, False):
                    n += 1
                    ipc_path = "/tmp/volley-pyzmq-patterns-%d-%d.ipc" % (os.getpid(), n)
                    bind_at = "tcp://127.0.0.1:*" if scheme == "tcp" else "ipc://" + ipc_path
                    label = "%s over %s, %s binds" % (name, scheme, "volley" if volley_binds else "pyzmq")
                    try:
                        case(echo, ctx, volley_binds, bind_at)
                        print("ok   %s" % label)
                    except (Failure, zmq.ZMQError, OSError) as e:
                        failures += 1
                        print("FAIL %s: %s" % (label, e))
                    finally:
                        if os.path.exists(ipc_path):
                            os.unlink(ipc_path)
                    sys.stdout.flush()
    finally:
        ctx.term()
    print("%d passed, %d failed" % (n - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
