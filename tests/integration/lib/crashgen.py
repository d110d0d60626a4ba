#!/usr/bin/env python3
"""Generates big, deterministic inputs for the crash-safety suite (crash.bats).

    crashgen.py base OUT.tar [--files N] [--kib K]
        a root file system tar (PAX, every header field set): the standard base's
        bin/sh, usr/sbin/nologin, etc/passwd, etc/group, plus N files under
        usr/share/gen/ holding about K KiB in all, half compressible text, half
        random bytes (so gzip has real work to do)
    crashgen.py app DIR [--files N] [--kib K] [--random]
        an app tree: N files in nested folders holding about K KiB in all;
        --random: the bytes are random (incompressible), else mixed as above

The same arguments give the same bytes on any machine (seeded generator).
"""
import argparse
import io
import os
import random
import sys
import tarfile

MTIME = 1234567890
PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
GROUP = "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n"
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega").split()


def payload(rng, size, rand_only):
    if rand_only or rng.random() < 0.5:
        return rng.randbytes(size)
    out = []
    n = 0
    while n < size:
        w = rng.choice(WORDS) + (" " if rng.random() < 0.9 else "\n")
        out.append(w)
        n += len(w)
    return "".join(out).encode()[:size]


def sizes(rng, files, kib):
    """File sizes summing to about kib KiB, varied (a few bytes to a few times the mean)."""
    total = kib * 1024
    mean = max(1, total // max(1, files))
    return [max(0, int(rng.expovariate(1.0 / mean))) for _ in range(files)]


def add(tf, name, typ, mode, data=b"", linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.mode = mode
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = MTIME
    ti.linkname = linkname
    ti.size = len(data) if typ == tarfile.REGTYPE else 0
    tf.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)


def make_base(out, files, kib):
    rng = random.Random(20240101)
    with open(out, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("./", "bin/", "etc/", "usr/", "usr/sbin/", "usr/share/", "usr/share/gen/"):
            add(tf, d, tarfile.DIRTYPE, 0o755)
        add(tf, "bin/sh", tarfile.REGTYPE, 0o755, b"#!/bin/true\n")
        add(tf, "usr/sbin/nologin", tarfile.REGTYPE, 0o755, b"#!/bin/false\n")
        add(tf, "etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
        add(tf, "etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
        dirs = set()
        for i, size in enumerate(sizes(rng, files, kib)):
            d = "usr/share/gen/d%03d/" % (i % 97)
            if d not in dirs:
                add(tf, d, tarfile.DIRTYPE, 0o755)
                dirs.add(d)
            add(tf, "%sf%05d.dat" % (d, i), tarfile.REGTYPE, 0o644, payload(rng, size, False))


def make_app(out, files, kib, rand_only):
    rng = random.Random(4242 + files + kib)
    os.makedirs(out, exist_ok=True)
    for i, size in enumerate(sizes(rng, files, kib)):
        d = os.path.join(out, "m%02d" % (i % 31), "s%d" % (i % 7))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d.txt" % i), "wb") as f:
            f.write(payload(rng, size, rand_only))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("base", "app"))
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--kib", type=int, default=1024)
    ap.add_argument("--random", action="store_true")
    a = ap.parse_args()
    if a.what == "base":
        make_base(a.out, a.files, a.kib)
    else:
        make_app(a.out, a.files, a.kib, a.random)
    return 0


if __name__ == "__main__":
    sys.exit(main())
