#!/usr/bin/env python3
"""Writes a base root file system tarball for ociuser's tests and demo.

Every header field is set explicitly (type, mode, uid, gid, uname, gname, mtime,
PAX records) and the archive is PAX format, so the bytes depend on nothing but
the description: the same arguments give the same file on any machine.

    mkbase.py OUT [--preset standard|busybox|none] [--compress none|gzip|xz|bzip2|zstd]
                  [--entry JSON]... [--remove PATH]... [--set PATH=TEXT]...
                  [--append PATH=TEXT]... [--no-final-newline PATH]...

Presets:
  standard  the "standard base" of the cases document: ./ bin/ etc/ usr/ usr/sbin/
            (dirs 0755), bin/sh and usr/sbin/nologin (files 0755, tiny scripts),
            etc/passwd and etc/group (0644) with root, daemon, nobody/nogroup.
            Every entry 0:0 root:root, mtime 1234567890.
  busybox   the standard base with a working userland: bin/busybox (the host's
            static busybox), bin/sh and every other applet a symlink to it,
            usr/sbin/nologin a symlink to /bin/busybox, tmp/ 1777, root/ 0700;
            root's shell is /bin/sh.
  none      no entries.

--entry takes a JSON object that adds an entry or replaces the one with the same
path: {"path": "srv/", "type": "dir"} with optional "mode" (int or octal string),
"uid", "gid", "uname", "gname", "mtime", "content" (text), "content_hex",
"host" (copy the bytes of a host file), "linkname", "pax" (object; a value
"hex:..." is raw bytes), "devmajor", "devminor". Types: dir, file, symlink,
hardlink, fifo, char, block. Defaults: 0:0 root:root, mtime 1234567890, mode
0755 for dirs, 0644 for files, 0777 for symlinks.

--set and --append interpret \\n in TEXT as a newline.
"""
import argparse
import gzip
import io
import json
import lzma
import bz2
import os
import shutil
import subprocess
import sys
import tarfile

MTIME = 1234567890

PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
GROUP = "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n"

TYPES = {
    "dir": tarfile.DIRTYPE,
    "file": tarfile.REGTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
}


def norm(path):
    """Key for an entry: no leading ./ or /, no trailing /; './' is '.'."""
    p = path
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/").rstrip("/")
    return p or "."


def entry(path, type="file", **kw):
    e = {"path": path, "type": type}
    e.update(kw)
    return e


def preset_standard():
    return [
        entry("./", "dir"),
        entry("bin/", "dir"),
        entry("bin/sh", "file", mode=0o755, content="#!/bin/sh\nexit 0\n"),
        entry("etc/", "dir"),
        entry("etc/group", "file", content=GROUP),
        entry("etc/passwd", "file", content=PASSWD),
        entry("usr/", "dir"),
        entry("usr/sbin/", "dir"),
        entry("usr/sbin/nologin", "file", mode=0o755,
              content="#!/bin/sh\necho 'This account is currently not available.'\nexit 1\n"),
    ]


def find_busybox():
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p):
            return p
    sys.exit("mkbase: no busybox on this host (apt-get install busybox-static)")


def preset_busybox():
    bb = find_busybox()
    applets = subprocess.run([bb, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    entries = [e for e in preset_standard() if norm(e["path"]) not in ("bin/sh", "usr/sbin/nologin")]
    for e in entries:
        if e["path"] == "etc/passwd":  # busybox has no bash
            e["content"] = PASSWD.replace("/root:/bin/bash", "/root:/bin/sh")
    entries.append(entry("bin/busybox", "file", mode=0o755, host=bb))
    for a in sorted(set(applets)):
        if a in ("busybox", "nologin") or "/" in a:
            continue
        entries.append(entry("bin/" + a, "symlink", linkname="busybox"))
    entries.append(entry("usr/sbin/nologin", "symlink", linkname="/bin/busybox"))
    entries.append(entry("tmp/", "dir", mode=0o1777))
    entries.append(entry("root/", "dir", mode=0o700))
    return entries


def unescape(text):
    return text.replace("\\n", "\n").replace("\\t", "\t")


def content_of(e):
    if "content_hex" in e:
        return bytes.fromhex(e["content_hex"])
    if "host" in e:
        with open(e["host"], "rb") as f:
            return f.read()
    c = e.get("content", "")
    return c.encode("utf-8", "surrogateescape") if isinstance(c, str) else bytes(c)


def mode_of(e):
    m = e.get("mode")
    if m is None:
        return {"dir": 0o755, "symlink": 0o777}.get(e["type"], 0o644)
    if isinstance(m, str):
        return int(m, 8)
    return int(m)


def pax_of(e):
    out = {}
    for k, v in (e.get("pax") or {}).items():
        if isinstance(v, str) and v.startswith("hex:"):
            v = bytes.fromhex(v[4:]).decode("utf-8", "surrogateescape")
        out[k] = str(v)
    return out


def write_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tf:
        for e in entries:
            ti = tarfile.TarInfo(e["path"])
            t = e["type"]
            if t not in TYPES:
                sys.exit("mkbase: unknown type %r for %r" % (t, e["path"]))
            ti.type = TYPES[t]
            ti.mode = mode_of(e)
            ti.uid = int(e.get("uid", 0))
            ti.gid = int(e.get("gid", 0))
            ti.uname = e.get("uname", "root")
            ti.gname = e.get("gname", "root")
            ti.mtime = int(e.get("mtime", MTIME))
            ti.linkname = e.get("linkname", "")
            ti.devmajor = int(e.get("devmajor", 0))
            ti.devminor = int(e.get("devminor", 0))
            ti.pax_headers = pax_of(e)
            data = None
            if t == "file":
                data = content_of(e)
                ti.size = len(data)
            else:
                ti.size = 0
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def compress(raw, how):
    if how == "none":
        return raw
    if how == "gzip":
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", filename="", mtime=0) as g:
            g.write(raw)
        return out.getvalue()
    if how == "xz":
        return lzma.compress(raw, format=lzma.FORMAT_XZ)
    if how == "bzip2":
        return bz2.compress(raw)
    if how == "zstd":
        zstd = shutil.which("zstd")
        if not zstd:
            sys.exit("mkbase: zstd not installed")
        return subprocess.run([zstd, "-q", "-c", "-3"], input=raw, check=True,
                              capture_output=True).stdout
    sys.exit("mkbase: unknown compression %r" % how)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--preset", default="standard", choices=["standard", "busybox", "none"])
    ap.add_argument("--compress", default="none",
                    choices=["none", "gzip", "xz", "bzip2", "zstd"])
    ap.add_argument("--entry", action="append", default=[], type=json.loads)
    ap.add_argument("--remove", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--append", action="append", default=[])
    ap.add_argument("--no-final-newline", action="append", default=[])
    args = ap.parse_args()

    entries = {"standard": preset_standard, "busybox": preset_busybox,
               "none": lambda: []}[args.preset]()
    order = [norm(e["path"]) for e in entries]
    by_key = {norm(e["path"]): e for e in entries}

    for r in args.remove:
        k = norm(r)
        for key in list(by_key):
            if key == k or key.startswith(k + "/"):
                del by_key[key]
    for e in args.entry:
        if "path" not in e:
            sys.exit("mkbase: --entry needs a path")
        e.setdefault("type", "file")
        k = norm(e["path"])
        if k not in by_key:
            order.append(k)
        by_key[k] = e
    for spec, op in [(s, "set") for s in args.set] + [(s, "append") for s in args.append]:
        path, sep, text = spec.partition("=")
        k = norm(path)
        if not sep or k not in by_key:
            sys.exit("mkbase: --%s %r: no such file entry" % (op, spec))
        e = by_key[k]
        old = content_of(e) if op == "append" else b""
        e.pop("host", None)
        e.pop("content_hex", None)
        e["content"] = (old + unescape(text).encode()).decode("utf-8", "surrogateescape")
    for path in args.no_final_newline:
        e = by_key[norm(path)]
        e["content"] = content_of(e).rstrip(b"\n").decode("utf-8", "surrogateescape")
        e.pop("host", None)

    final = [by_key[k] for k in order if k in by_key]
    data = compress(write_tar(final), args.compress)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
