#!/usr/bin/env python3
"""Makes the benchmark inputs: a root file system tarball (gzip) with an
/etc/passwd and /etc/group, and an app tree of many small files.

usage: gen.py DIR [base_files] [app_files]
Sizes are fixed by a seeded generator, so every run measures the same bytes.
"""
import io
import os
import random
import sys
import tarfile

out = sys.argv[1]
base_files = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
app_files = int(sys.argv[3]) if len(sys.argv) > 3 else 6000
rnd = random.Random(42)
os.makedirs(out, exist_ok=True)


def info(name, kind, mode, size=0):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = 1234567890
    ti.size = size
    return ti


with tarfile.open(os.path.join(out, "base.tar.gz"), "w:gz", format=tarfile.PAX_FORMAT) as t:
    dirs = ["bin", "etc", "tmp", "usr", "usr/bin", "usr/sbin", "usr/lib", "usr/share"]
    for d in dirs:
        t.addfile(info(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
    for i in range(50):
        t.addfile(info(f"usr/lib/pkg{i}", tarfile.DIRTYPE, 0o755))
    for name, text in (
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"),
        ("etc/group", b"root:x:0:\nnogroup:x:65534:\n"),
        ("usr/sbin/nologin", b"#!/bin/sh\nexit 1\n"),
    ):
        t.addfile(info(name, tarfile.REGTYPE, 0o755 if "nologin" in name else 0o644, len(text)),
                  io.BytesIO(text))
    for i in range(base_files):
        size = int(rnd.expovariate(1 / 16000))
        data = rnd.randbytes(size // 2) + bytes(size - size // 2)
        t.addfile(info(f"usr/lib/pkg{i % 50}/f{i}.so", tarfile.REGTYPE, 0o644, size),
                  io.BytesIO(data))

app = os.path.join(out, "app")
for i in range(app_files):
    d = os.path.join(app, "node_modules", f"m{i % 300}", "lib")
    os.makedirs(d, exist_ok=True)
    size = int(rnd.expovariate(1 / 3000))
    with open(os.path.join(d, f"f{i}.js"), "wb") as f:
        f.write(b"// generated\n" * (size // 13 + 1))
os.makedirs(os.path.join(app, "config"), exist_ok=True)
with open(os.path.join(app, "config", "secret.json"), "w") as f:
    f.write("{}\n")
with open(os.path.join(app, "index.js"), "w") as f:
    f.write("console.log('bench')\n")
