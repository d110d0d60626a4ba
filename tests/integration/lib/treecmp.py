#!/usr/bin/env python3
"""Compares two unpacked root file systems (e.g. two `umoci unpack` rootfs folders).

    treecmp.py A B [--mtime] [--ignore PATH]...

For A and B themselves (the root, as ".") and every path under them (symbolic links
never followed) it compares: presence,
type, owner (uid, gid), mode (permission, setuid, setgid, sticky bits), extended
attributes (names and values), symbolic link targets, device numbers, file contents
(sha256), and hard-link groups (which other paths share the inode). With --mtime, the
mtimes of everything but directories too (a layered unpack touches directories again).
Prints one line per difference and exits 1 on any; exit 0 and no output when equal.
--ignore PATH (relative, e.g. etc/shadow) leaves out PATH and everything under it.
"""
import argparse
import hashlib
import os
import stat
import sys


def kind(mode):
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "?"


def xattrs(path):
    out = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for n in sorted(names):
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False).hex()
        except OSError as e:
            out[n] = "<%s>" % e.strerror
    return out


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def describe(full, with_mtime):
    st = os.lstat(full)
    k = kind(st.st_mode)
    d = {"type": k, "owner": "%d:%d" % (st.st_uid, st.st_gid),
         "mode": "%04o" % stat.S_IMODE(st.st_mode), "xattrs": xattrs(full)}
    if k == "symlink":
        d["target"] = os.readlink(full)
    elif k == "file":
        d["sha256"] = sha(full)
        d["size"] = st.st_size
    elif k in ("char", "block"):
        d["rdev"] = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    if with_mtime and k != "dir":
        d["mtime"] = int(st.st_mtime)
    return st, d


def scan(root, ignore, with_mtime):
    info, inodes = {}, {}
    info["."] = describe(root, with_mtime)[1]
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if any(rel == i or rel.startswith(i + "/") for i in ignore):
                continue
            st, d = describe(full, with_mtime)
            if d["type"] == "file" and st.st_nlink > 1:
                inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            info[rel] = d
        # never descend into ignored folders
        dirnames[:] = [n for n in dirnames
                       if not any(os.path.normpath(os.path.join(rel_dir, n)) == i for i in ignore)]
    for group in inodes.values():
        for p in group:
            info[p]["hardlinks"] = sorted(x for x in group if x != p)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--mtime", action="store_true")
    ap.add_argument("--ignore", action="append", default=[])
    args = ap.parse_args()
    for d in (args.a, args.b):
        if not os.path.isdir(d):
            print("treecmp: %s is not a folder" % d)
            sys.exit(2)
    ignore = [os.path.normpath(i.strip("/")) for i in args.ignore]
    a = scan(args.a, ignore, args.mtime)
    b = scan(args.b, ignore, args.mtime)
    diffs = 0
    for p in sorted(set(a) | set(b)):
        if p not in b:
            print("only in A: %s (%s)" % (p, a[p]["type"]))
            diffs += 1
            continue
        if p not in a:
            print("only in B: %s (%s)" % (p, b[p]["type"]))
            diffs += 1
            continue
        for key in sorted(set(a[p]) | set(b[p])):
            va, vb = a[p].get(key), b[p].get(key)
            if va != vb:
                print("%s: %s differs: A %s, B %s" % (p, key, va, vb))
                diffs += 1
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
