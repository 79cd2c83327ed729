# SPDX-License-Identifier: MPL-2.0
"""The volley command-line tool against pyzmq (python3-zmq over libzmq) peers.

Usage: cli_test.py <path to the volley tool>

Each case runs the tool as a user would, with a pyzmq socket as the peer
nobody here wrote, over tcp:// and ipc:// in both directions:

  push / pull     stdin lines to a pyzmq PULL; a pyzmq PUSH to `volley pull`
                  (connected, and bound at a wildcard port read from -v)
  req / rep       `volley req` to a pyzmq REP; a pyzmq REQ to `volley rep`,
                  echoing and answering with --data
  pub / sub       `volley pub` (waits for its subscriber) to a pyzmq SUB; a pyzmq
                  PUB to `volley sub --subscribe`, which prints only its prefix
  router          a pyzmq DEALER with a routing id: printed as multipart, answered
  formats         quoted, hex and multipart of bytes that need escaping; --file
  monitor         the events of a connect to a pyzmq PULL, then of one refused
  exit status     1 and the reason on a timeout; 2 and a one-line reason for each
                  bad argument

Every wait is bounded. Exits 0 when all pass, 1 on any failure (each named),
77 (skipped) when python3-zmq is not installed.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

try:
    import zmq
except ImportError:
    print("python3-zmq is not installed: skipping", file=sys.stderr)
    sys.exit(77)

VOLLEY = sys.argv[1]
WAIT_S = 20  # the longest any one tool run may take
TIMEOUT = "10"  # --timeout for the tool: a peer that never comes ends it
ctx = zmq.Context()
scratch = tempfile.mkdtemp(prefix="volley-cli-")
failures = []


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def start(*args, stdin=subprocess.DEVNULL):
    return subprocess.Popen([VOLLEY, *args], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(proc, feed=None):
    """Waits for the tool; returns (status, stdout lines, stderr)."""
    try:
        out, err = proc.communicate(feed, timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise Failure(f"the tool did not end within {WAIT_S} s; stderr: {err.decode(errors='replace')}")
    return proc.returncode, out.decode(errors="replace").splitlines(), err.decode(errors="replace")


def ok(proc, feed=None):
    status, lines, err = finish(proc, feed)
    check(status == 0, f"exit status {status}, stderr: {err.strip()}")
    return lines


def bound_endpoint(proc):
    """The endpoint a `-v --bind ...:*` run reports on its first line of stderr."""
    line = proc.stderr.readline().decode()
    m = re.match(r"volley: bound (\S+)", line)
    check(m is not None, f"no 'volley: bound' line on stderr, got {line!r}")
    return m.group(1)


def zsock(kind, bind=None, connect=None, opts=()):
    s = ctx.socket(kind)
    s.linger = 0
    s.rcvtimeo = WAIT_S * 1000
    s.sndtimeo = WAIT_S * 1000
    for k, v in opts:
        s.setsockopt(k, v)
    if bind == "tcp":
        port = s.bind_to_random_port("tcp://127.0.0.1")
        return s, f"tcp://127.0.0.1:{port}"
    if bind:
        s.bind(bind)
        return s, bind
    s.connect(connect)
    return s, connect


def ipc(name):
    return f"ipc://{scratch}/{name}"


# ---- cases ----

def push_stdin_to_pyzmq_pull():
    pull, ep = zsock(zmq.PULL, bind="tcp")
    proc = start("push", "--connect", ep, "--timeout", TIMEOUT, stdin=subprocess.PIPE)
    ok(proc, b"one\ntwo\nthree\n")
    got = [pull.recv() for _ in range(3)]
    check(got == [b"one", b"two", b"three"], f"pyzmq PULL got {got}")
    pull.close()


def pyzmq_push_to_pull(bind_volley):
    if bind_volley:
        proc = start("pull", "--bind", "tcp://127.0.0.1:*", "-v", "--count", "3", "--timeout", TIMEOUT)
        push, _ = zsock(zmq.PUSH, connect=bound_endpoint(proc))
    else:
        push, ep = zsock(zmq.PUSH, bind=ipc("push"))
        proc = start("pull", "--connect", ep, "--count", "3", "--timeout", TIMEOUT)
    for m in (b"alpha", b"beta", b"gamma"):
        push.send(m)
    lines = ok(proc)
    check(lines == ["alpha", "beta", "gamma"], f"volley pull printed {lines}")
    push.close()


def req_to_pyzmq_rep():
    rep, ep = zsock(zmq.REP, bind=ipc("rep"))
    proc = start("req", "--connect", ep, "--data", "ping", "--count", "3", "--timeout", TIMEOUT)
    for _ in range(3):
        rep.send(b"pong:" + rep.recv())
    lines = ok(proc)
    check(lines == ["pong:ping"] * 3, f"volley req printed {lines}")
    rep.close()


def pyzmq_req_to_rep(reply):
    args = ["rep", "--bind", "tcp://127.0.0.1:*", "-v", "--count", "2", "--timeout", TIMEOUT]
    if reply:
        args += ["--data", reply]
    proc = start(*args)
    req, _ = zsock(zmq.REQ, connect=bound_endpoint(proc))
    for body in (b"first", b"second"):
        req.send(body)
        answer = req.recv()
        check(answer == (reply.encode() if reply else body), f"pyzmq REQ got {answer!r} for {body!r}")
    lines = ok(proc)
    check(lines == ["first", "second"], f"volley rep printed {lines}")
    req.close()


def pub_to_pyzmq_sub():
    proc = start("pub", "--bind", ipc("pub"), "-v", "--data", "weather 21C", "--count", "5",
                 "--interval", "0.02", "--timeout", TIMEOUT)
    ep = bound_endpoint(proc)
    sub, _ = zsock(zmq.SUB, connect=ep)
    sub.setsockopt(zmq.SUBSCRIBE, b"weather")
    got = [sub.recv() for _ in range(5)]  # volley's pub waits for this subscriber: none is lost
    check(got == [b"weather 21C"] * 5, f"pyzmq SUB got {got}")
    ok(proc)
    sub.close()


def pyzmq_pub_to_sub():
    pub, ep = zsock(zmq.PUB, bind="tcp")
    proc = start("sub", "--connect", ep, "--subscribe", "a", "--count", "3", "--format", "multipart",
                 "--timeout", TIMEOUT)
    n = 0
    deadline = time.monotonic() + WAIT_S
    while proc.poll() is None and time.monotonic() < deadline:  # a late joiner: publish until it has enough
        pub.send_multipart([b"b", b"%d" % n])
        pub.send_multipart([b"a", b"%d" % n])
        n += 1
        time.sleep(0.01)
    lines = ok(proc)
    check(len(lines) == 3 and all(re.fullmatch(r'"a" "\d+"', l) for l in lines), f"volley sub printed {lines}")
    nums = [int(l.split('"')[3]) for l in lines]
    check(nums == list(range(nums[0], nums[0] + 3)), f"volley sub skipped a message: {lines}")
    pub.close()


def pyzmq_dealer_to_router():
    proc = start("router", "--bind", "tcp://127.0.0.1:*", "-v", "--data", "back", "--format", "multipart",
                 "--count", "1", "--timeout", TIMEOUT)
    dealer, _ = zsock(zmq.DEALER, connect=bound_endpoint(proc), opts=[(zmq.ROUTING_ID, b"py")])
    dealer.send_multipart([b"hi", b"there"])
    check(dealer.recv_multipart() == [b"back"], "pyzmq DEALER got no 'back'")
    lines = ok(proc)
    check(lines == ['"py" "hi" "there"'], f"volley router printed {lines}")
    dealer.close()


def pair_with_pyzmq_pair():
    pair, ep = zsock(zmq.PAIR, bind=ipc("pair"))
    # stdin lines go out, what arrives is printed; --count counts what arrives
    proc = start("pair", "--connect", ep, "--count", "2", "--timeout", TIMEOUT, stdin=subprocess.PIPE)
    proc.stdin.write(b"hello\n")
    proc.stdin.flush()
    check(pair.recv() == b"hello", "pyzmq PAIR did not get the stdin line")
    pair.send(b"world")
    pair.send(b"again")
    lines = ok(proc)
    check(lines == ["world", "again"], f"volley pair printed {lines}")
    pair.close()


def formats():
    body = b'say "hi"\n\x00\xff\\'
    for fmt, want in (("quoted", r'"say \"hi\"\n\x00\xff\\"'), ("hex", body.hex()),
                      ("multipart", r'"say \"hi\"\n\x00\xff\\" ""')):
        push, ep = zsock(zmq.PUSH, bind="tcp")
        proc = start("pull", "--connect", ep, "--count", "1", "--format", fmt, "--timeout", TIMEOUT)
        push.send_multipart([body, b""])
        lines = ok(proc)
        check(lines == [want], f"--format {fmt} printed {lines}, not [{want}]")
        push.close()
    # raw passes the bytes through: check them exactly.
    push, ep = zsock(zmq.PUSH, bind="tcp")
    proc = start("pull", "--connect", ep, "--count", "1", "--timeout", TIMEOUT)
    push.send(body)
    out, _ = proc.communicate(timeout=WAIT_S)
    check(proc.returncode == 0 and out == body + b"\n", f"--format raw: status {proc.returncode}, printed {out!r}")
    push.close()


def file_message():
    path = os.path.join(scratch, "message.bin")
    with open(path, "wb") as f:
        f.write(b"line one\nline two\n")
    pull, ep = zsock(zmq.PULL, bind=ipc("file"))
    ok(start("push", "--connect", ep, "--file", path, "--timeout", TIMEOUT))
    check(pull.recv() == b"line one\nline two\n", "--file was not sent whole, as one message")
    pull.close()


def monitor():
    pull, ep = zsock(zmq.PULL, bind="tcp")
    lines = ok(start("monitor", "push", "--connect", ep, "--count", "2", "--timeout", TIMEOUT))
    check(lines == [f"connected {ep}", f"handshake_succeeded {ep}"], f"volley monitor printed {lines}")
    port = ep.rsplit(":", 1)[1]
    pull.close()
    time.sleep(0.1)  # the port is free again (nobody listens: each attempt is refused)
    lines = ok(start("monitor", "push", "--connect", f"tcp://127.0.0.1:{port}", "--count", "1",
                     "--timeout", TIMEOUT))
    check(len(lines) == 1 and lines[0].startswith(f"connect_retried tcp://127.0.0.1:{port}: ")
          and "refused" in lines[0] and "retry in" in lines[0], f"volley monitor printed {lines}")


def timeouts():
    for args, reason in ((["pull", "--bind", ipc("quiet")], "no message came within 0.3 s"),
                         (["push", "--connect", ipc("nobody"), "--data", "x"], "no peer connected within 0.3 s"),
                         (["pub", "--bind", ipc("nosub"), "--data", "x"], "no subscriber came within 0.3 s")):
        status, _, err = finish(start(*args, "--timeout", "0.3"))
        check(status == 1 and err.strip() == f"volley: {reason}", f"{args}: status {status}, stderr {err!r}")
    status, _, err = finish(start("pull", "--bind", ipc("quiet0"), "--timeout", "0"))  # no wait at all: a timeout
    check(status == 1 and err.strip() == "volley: no message came within 0 s", f"--timeout 0: status {status}, {err!r}")
    rep, ep = zsock(zmq.REP, bind=ipc("silent"))  # it takes the request and never answers
    status, _, err = finish(start("req", "--connect", ep, "--data", "x", "--timeout", "0.5"))
    check(status == 1 and "no reply came within 0.5 s" in err, f"req: status {status}, stderr {err!r}")
    rep.close()


def bad_arguments():
    cases = (
        ([], "no socket type given"),
        (["pul", "--bind", ipc("x")], "unknown socket type 'pul'"),
        (["pull"], "give at least one --bind URI or --connect URI"),
        (["pull", "--bind", ipc("x"), "--data", "d"], "pull only receives"),
        (["push", "--connect", ipc("x"), "--subscribe", "a"], "--subscribe applies to sub, not push"),
        (["push", "--connect", ipc("x"), "--count", "-1"], "--count takes a whole number"),
        (["sub", "--connect", ipc("x"), "--timeout", "soon"], "--timeout takes seconds"),
        (["sub", "--connect", ipc("x"), "--format", "json"], "unknown --format 'json'"),
        (["push", "--connect", ipc("x"), "--data", "a", "--file", "/etc/hostname"], "--data and --file"),
        (["push", "--connect", ipc("x"), "--file", "/nonexistent/f"], "--file '/nonexistent/f'"),
        (["pull", "--bind", "tcp://127.0.0.1:70000"], "port 70000 is out of range"),
        (["pull", "--connect", "udp://127.0.0.1:5"], "no transport 'udp'"),
        (["pull", "--bind", "tcp://127.0.0.1"], "tcp://127.0.0.1"),
        (["rep", "--bind", ipc("x"), "--interval", "1"], "--interval paces what is sent"),
        (["pull", "--bind", ipc("x"), "--frobnicate"], "unknown option '--frobnicate'"),
    )
    for args, reason in cases:
        status, _, err = finish(start(*args))
        lines = err.strip().splitlines()
        check(status == 2 and len(lines) == 1 and lines[0].startswith("volley: ") and reason in lines[0],
              f"{args}: status {status}, stderr {err!r} (wanted 2 and a line with {reason!r})")
    status, lines, _ = finish(start("--help"))
    check(status == 0 and lines and lines[0].startswith("usage: volley TYPE"), "--help printed no usage")


CASES = [
    ("push (stdin lines) -> pyzmq PULL over tcp", push_stdin_to_pyzmq_pull),
    ("pyzmq PUSH -> volley pull connecting over ipc", lambda: pyzmq_push_to_pull(False)),
    ("pyzmq PUSH -> volley pull bound at tcp wildcard port", lambda: pyzmq_push_to_pull(True)),
    ("volley req -> pyzmq REP over ipc", req_to_pyzmq_rep),
    ("pyzmq REQ -> volley rep echoing over tcp", lambda: pyzmq_req_to_rep(None)),
    ("pyzmq REQ -> volley rep --data over tcp", lambda: pyzmq_req_to_rep("fixed answer")),
    ("volley pub -> pyzmq SUB over ipc, nothing lost", pub_to_pyzmq_sub),
    ("pyzmq PUB -> volley sub --subscribe over tcp", pyzmq_pub_to_sub),
    ("pyzmq DEALER -> volley router --data", pyzmq_dealer_to_router),
    ("volley pair (stdin) <-> pyzmq PAIR", pair_with_pyzmq_pair),
    ("--format quoted, hex, multipart, raw", formats),
    ("--file sends the whole file as one message", file_message),
    ("volley monitor prints connection events", monitor),
    ("timeouts exit 1 with the reason", timeouts),
    ("bad arguments exit 2 with a one-line reason", bad_arguments),
]

for name, case in CASES:
    try:
        case()
        print(f"ok      {name}")
    except (Failure, zmq.ZMQError, subprocess.TimeoutExpired, OSError) as e:
        print(f"FAILED  {name}: {e}")
        failures.append(name)
    sys.stdout.flush()

ctx.term()
print(f"{len(CASES) - len(failures)} of {len(CASES)} passed")
sys.exit(1 if failures else 0)
