#!/usr/bin/env python3
"""Runs a command and kills it with SIGKILL at a chosen moment, for crash.bats.

    killpoints.py at WHEN OUTFILE ERRFILE -- CMD [ARGS...]
        starts CMD (stdout to OUTFILE, stderr to ERRFILE), sends it SIGKILL at WHEN
        unless it exited before, and prints one line: "killed ELAPSED" (it was still
        running and died of the signal) or "exit STATUS ELAPSED" (it had finished by
        itself); ELAPSED in seconds. WHEN is one of
          SECONDS           that long after the start (0 = at once)
          changed:PATH      as soon as PATH is replaced or changed (inode, size, mtime)
          newentry:DIR      as soon as DIR holds a name it did not hold at the start
    killpoints.py time RUNS -- CMD [ARGS...]
        runs CMD RUNS times (output discarded) and prints the shortest wall time in
        seconds (the machine may be busy: the fastest run is the build itself); exits 1
        when any run fails
    killpoints.py moments T N [EXTRA...]
        prints the kill moments for a build of wall time T: EXTRA (early moments, in
        seconds) then i*T/N for i = 1..N, one per line
"""
import os
import signal
import subprocess
import sys
import time


def file_state(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def entries(path):
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


def at(argv):
    when = argv[0]
    out, err = argv[1], argv[2]
    if argv[3] != "--":
        raise SystemExit("killpoints.py at: expected --")
    cmd = argv[4:]
    event = None
    if when.startswith("changed:"):
        path = when[len("changed:"):]
        first = file_state(path)
        event = lambda: file_state(path) != first
    elif when.startswith("newentry:"):
        path = when[len("newentry:"):]
        first = entries(path)
        event = lambda: not entries(path) <= first
    with open(out, "wb") as fo, open(err, "wb") as fe:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
        if event:
            # Poll often: the window after the event may be short.
            while p.poll() is None and not event():
                time.sleep(0.0002)
        else:
            deadline = start + float(when)
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                try:
                    p.wait(timeout=deadline - now)
                    break
                except subprocess.TimeoutExpired:
                    pass
        killed = False
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed = True
        rc = p.wait()
        elapsed = time.monotonic() - start
    if killed and rc == -signal.SIGKILL:
        print("killed %.4f" % elapsed)
    else:
        print("exit %d %.4f" % (rc if rc >= 0 else 128 - rc, elapsed))
    return 0


def timeit(argv):
    runs = int(argv[0])
    if argv[1] != "--":
        raise SystemExit("killpoints.py time: expected --")
    cmd = argv[2:]
    times = []
    for _ in range(runs):
        start = time.monotonic()
        rc = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
        if rc != 0:
            print("killpoints.py time: %s exited %d" % (" ".join(cmd), rc), file=sys.stderr)
            return 1
    print("%.4f" % min(times))
    return 0


def moments(argv):
    t, n = float(argv[0]), int(argv[1])
    for e in argv[2:]:
        print(e)
    for i in range(1, n + 1):
        print("%.4f" % (i * t / n))
    return 0


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    what, argv = sys.argv[1], sys.argv[2:]
    if what == "at":
        return at(argv)
    if what == "time":
        return timeit(argv)
    if what == "moments":
        return moments(argv)
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
