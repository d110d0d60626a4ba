#!/usr/bin/env python3
"""Reads an image in an OCI image layout the way the tests need it, and checks it.

    layers.py OUT TAG list [--new] [--layer N]   every member of every layer (or only
                                                  the new ones): one line each, tab-separated:
                                                  layer name type uid gid uname gname mode
                                                  mtime linkname size pax(JSON)
    layers.py OUT TAG json [--new]               the same as a JSON array of objects
    layers.py OUT TAG get PATH [--new] [--field F]
                                                  the top-most entry for PATH as JSON (or one
                                                  field of it); exit 3 when no layer has it
    layers.py OUT TAG cat PATH [--new]           content of the top-most regular file PATH
                                                  (a hard link is followed in its layer)
    layers.py OUT TAG raw N                      layer N uncompressed, to stdout
    layers.py OUT TAG count                      number of layers
    layers.py OUT TAG manifest|config            the JSON, pretty
    layers.py OUT TAG check                      checks the image as a whole (below); exit 1
                                                  with one line per problem

`check` verifies: index.json, manifest and config media types; every blob's digest
and size; each layer's media type suffix against its first bytes (1f8b gzip, 28b52ffd
zstd, else plain tar); diff_ids == sha256 of each uncompressed layer; one history entry
per layer; no path twice in one layer; every parent directory of an entry in a new
layer either in an earlier layer or in that layer (no implied directories); no name with
a component starting with '.wh.' in a new layer; hard link targets spelled as a member
name of the same layer (no leading '/', no './') and written before the link.

"New layers" are those after the base's: --base-layers N (default 1, a tarball base).
Names are printed with bytes that are not UTF-8 as \\xNN.
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

TYPES = {
    tarfile.DIRTYPE: "dir", tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file",
    tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.FIFOTYPE: "fifo",
    tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.CONTTYPE: "file",
}
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


def show(s):
    """A name for printing: undecodable bytes (surrogates) as \\xNN."""
    b = s.encode("utf-8", "surrogateescape")
    return b.decode("utf-8", "backslashreplace")


def norm(name):
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/") or "."


class Image:
    def __init__(self, out, tag):
        self.out = out
        with open(os.path.join(out, "index.json")) as f:
            self.index = json.load(f)
        found = [m for m in self.index.get("manifests", [])
                 if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag]
        if len(found) != 1:
            sys.exit("layers.py: %d descriptors tagged %r in %s/index.json" % (len(found), tag, out))
        self.desc = found[0]
        self.manifest = json.loads(self.blob(self.desc["digest"]))
        self.config = json.loads(self.blob(self.manifest["config"]["digest"]))
        self._tars = {}

    def blob_path(self, digest):
        algo, hexd = digest.split(":", 1)
        return os.path.join(self.out, "blobs", algo, hexd)

    def blob(self, digest):
        with open(self.blob_path(digest), "rb") as f:
            return f.read()

    def layer_raw(self, i):
        if i not in self._tars:
            data = self.blob(self.manifest["layers"][i]["digest"])
            self._tars[i] = decompress(data)
        return self._tars[i]

    def members(self, i):
        raw = self.layer_raw(i)
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:", encoding="utf-8",
                          errors="surrogateescape") as tf:
            out = []
            for m in tf.getmembers():
                data = None
                if m.isreg():
                    data = tf.extractfile(m).read()
                out.append((m, data))
            return out


def decompress(data):
    if data[:2] == b"\x1f\x8b":
        import gzip
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-dc"], input=data, check=True,
                              capture_output=True).stdout
    return data


def kind(data):
    if data[:2] == b"\x1f\x8b":
        return "+gzip"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "+zstd"
    return ""


def as_dict(layer, m, data):
    pax = {}
    for k, v in sorted(m.pax_headers.items()):
        if isinstance(v, str):
            pax[k] = show(v)
        else:
            pax[k] = repr(v)
    d = {
        "layer": layer, "name": show(m.name), "type": TYPES.get(m.type, repr(m.type)),
        "uid": m.uid, "gid": m.gid, "uname": m.uname, "gname": m.gname,
        "mode": "%04o" % m.mode, "mtime": int(m.mtime), "linkname": show(m.linkname),
        "size": m.size, "devmajor": m.devmajor, "devminor": m.devminor, "pax": pax,
    }
    return d


def layer_range(img, args):
    n = len(img.manifest["layers"])
    if args.layer is not None:
        return [args.layer]
    if args.new:
        return list(range(args.base_layers, n))
    return list(range(n))


def cmd_list(img, args):
    for i in layer_range(img, args):
        for m, data in img.members(i):
            d = as_dict(i, m, data)
            print("\t".join(str(d[k]) for k in ("layer", "name", "type", "uid", "gid", "uname",
                                               "gname", "mode", "mtime", "linkname", "size"))
                  + "\t" + json.dumps(d["pax"], sort_keys=True))


def cmd_json(img, args):
    out = []
    for i in layer_range(img, args):
        out.extend(as_dict(i, m, d) for m, d in img.members(i))
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


def find(img, args, path):
    want = norm(path)
    for i in reversed(layer_range(img, args)):
        members = img.members(i)
        for m, data in members:
            if norm(show(m.name)) == want or norm(m.name) == want:
                return i, m, data, members
    return None


def cmd_get(img, args):
    r = find(img, args, args.path)
    if r is None:
        print("layers.py: no entry %r" % args.path, file=sys.stderr)
        sys.exit(3)
    i, m, data, _ = r
    d = as_dict(i, m, data)
    if args.field:
        v = d[args.field] if args.field in d else d["pax"].get(args.field, "")
        print(v if not isinstance(v, dict) else json.dumps(v, sort_keys=True))
    else:
        print(json.dumps(d, sort_keys=True))


def cmd_cat(img, args):
    r = find(img, args, args.path)
    if r is None:
        print("layers.py: no entry %r" % args.path, file=sys.stderr)
        sys.exit(3)
    i, m, data, members = r
    if m.islnk():
        for m2, d2 in members:
            if m2.name == m.linkname:
                data = d2
    if data is None:
        print("layers.py: %r is not a regular file" % args.path, file=sys.stderr)
        sys.exit(3)
    sys.stdout.buffer.write(data)


def cmd_check(img, args):
    problems = []
    p = problems.append
    if img.index.get("schemaVersion") != 2:
        p("index.json: schemaVersion is not 2")
    if img.index.get("mediaType") != MT_INDEX:
        p("index.json: mediaType %r" % img.index.get("mediaType"))
    if img.desc.get("mediaType") != MT_MANIFEST:
        p("index.json: descriptor mediaType %r" % img.desc.get("mediaType"))
    man = img.manifest
    if man.get("schemaVersion") != 2:
        p("manifest: schemaVersion is not 2")
    if man.get("mediaType") != MT_MANIFEST:
        p("manifest: mediaType %r" % man.get("mediaType"))
    if man["config"].get("mediaType") != MT_CONFIG:
        p("manifest: config mediaType %r" % man["config"].get("mediaType"))
    descs = [("manifest", img.desc), ("config", man["config"])] + \
        [("layer %d" % i, l) for i, l in enumerate(man["layers"])]
    for what, dsc in descs:
        try:
            data = img.blob(dsc["digest"])
        except OSError as e:
            p("%s: blob %s: %s" % (what, dsc["digest"], e))
            continue
        if "sha256:" + hashlib.sha256(data).hexdigest() != dsc["digest"]:
            p("%s: digest mismatch for %s" % (what, dsc["digest"]))
        if len(data) != dsc.get("size"):
            p("%s: size %s, blob has %d bytes" % (what, dsc.get("size"), len(data)))
    diff_ids = img.config.get("rootfs", {}).get("diff_ids", [])
    if img.config.get("rootfs", {}).get("type") != "layers":
        p("config: rootfs.type is not 'layers'")
    if len(diff_ids) != len(man["layers"]):
        p("config: %d diff_ids for %d layers" % (len(diff_ids), len(man["layers"])))
    hist = [h for h in img.config.get("history", []) if not h.get("empty_layer")]
    if len(hist) != len(man["layers"]):
        p("config: %d non-empty history entries for %d layers" % (len(hist), len(man["layers"])))
    seen_before = set()
    for i, l in enumerate(man["layers"]):
        data = img.blob(l["digest"])
        mt = l.get("mediaType", "")
        if mt != MT_LAYER + kind(data):
            p("layer %d: mediaType %r but the bytes are %r" % (i, mt, MT_LAYER + kind(data)))
        raw = img.layer_raw(i)
        if i < len(diff_ids) and diff_ids[i] != "sha256:" + hashlib.sha256(raw).hexdigest():
            p("layer %d: diff_id %s is not the sha256 of the uncompressed layer" % (i, diff_ids[i]))
        members = img.members(i)
        names = [norm(m.name) for m, _ in members]
        dup = {n for n in names if names.count(n) > 1}
        for n in sorted(dup):
            p("layer %d: %r appears %d times" % (i, show(n), names.count(n)))
        here = set()
        for m, _ in members:
            n = norm(m.name)
            if i >= args.base_layers:
                if any(c.startswith(".wh.") for c in n.split("/")):
                    p("layer %d: whiteout-like name %r" % (i, show(m.name)))
                parts = n.split("/")
                for k in range(1, len(parts)):
                    parent = "/".join(parts[:k])
                    if parent not in here and parent not in seen_before:
                        p("layer %d: parent %r of %r is implied (no entry)" % (i, show(parent), show(m.name)))
                if m.islnk():
                    ln = m.linkname
                    if ln.startswith("/") or ln.startswith("./"):
                        p("layer %d: hard link %r has target %r" % (i, show(m.name), show(ln)))
                    elif ln not in [x.name for x, _ in members]:
                        p("layer %d: hard link %r target %r is not a member of the layer" % (i, show(m.name), show(ln)))
                    elif norm(ln) not in here:
                        p("layer %d: hard link %r comes before its target %r" % (i, show(m.name), show(ln)))
            here.add(n)
        seen_before |= here
    for line in problems:
        print(line)
    sys.exit(1 if problems else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("tag")
    ap.add_argument("--base-layers", type=int, default=1)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("list", "json", "get", "cat"):
        s = sub.add_parser(name)
        s.add_argument("--new", action="store_true")
        s.add_argument("--layer", type=int)
        if name in ("get", "cat"):
            s.add_argument("path")
        if name == "get":
            s.add_argument("--field")
    s = sub.add_parser("raw")
    s.add_argument("n", type=int)
    sub.add_parser("count")
    sub.add_parser("manifest")
    sub.add_parser("config")
    sub.add_parser("check")
    args = ap.parse_args()
    if args.cmd in ("get", "cat") and not hasattr(args, "layer"):
        args.layer = None
    img = Image(args.out, args.tag)
    if args.cmd == "list":
        cmd_list(img, args)
    elif args.cmd == "json":
        cmd_json(img, args)
    elif args.cmd == "get":
        cmd_get(img, args)
    elif args.cmd == "cat":
        cmd_cat(img, args)
    elif args.cmd == "raw":
        sys.stdout.buffer.write(img.layer_raw(args.n))
    elif args.cmd == "count":
        print(len(img.manifest["layers"]))
    elif args.cmd == "manifest":
        print(json.dumps(img.manifest, indent=1, sort_keys=True))
    elif args.cmd == "config":
        print(json.dumps(img.config, indent=1, sort_keys=True))
    elif args.cmd == "check":
        cmd_check(img, args)


if __name__ == "__main__":
    main()
