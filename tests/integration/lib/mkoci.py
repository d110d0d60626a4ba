#!/usr/bin/env python3
"""Writes an OCI image layout from a description, for ociuser's `oci:` base tests.

    mkoci.py OUT DESC.json|-     writes (or adds to) the layout OUT; prints a JSON summary
    mkoci.py --merged DIR TAG    prints the merged view of the (single-platform) image TAG
                                 in layout DIR as a JSON array, sorted by path: each path
                                 once, whiteouts applied (.wh.NAME deletes NAME and what is
                                 under it, .wh..wh..opq hides what lower layers put in its
                                 folder), later layers win; each element has the header
                                 fields (path, type, uid, gid, uname, gname, mode, mtime,
                                 linkname, devmajor, devminor, xattrs) and sha256 of a file

Every layer is a PAX tar written with Python's tarfile, every header field set
explicitly (type, mode, uid, gid, uname, gname, mtime, linkname, devmajor, devminor,
PAX records), then gzip'd with mtime 0 and no name, or zstd'd, or left plain, so the
bytes depend on nothing but the description.

DESC is a JSON object:

    {"images": [IMAGE, ...]}

IMAGE (one descriptor in OUT/index.json):

    "tag":          ref name (org.opencontainers.image.ref.name); null or absent: none
    "docker":       true: Docker v2 schema 2 media types for manifest, config, layers
                    (and a Docker manifest list for "platforms")
    "layers":       [LAYER, ...]
    "config":       object merged into the config's "config" (Env, Cmd, Entrypoint,
                    WorkingDir, Labels, ExposedPorts, Volumes, StopSignal, User)
    "architecture", "os", "variant": the config's platform (default amd64, linux)
    "annotations":  manifest annotations
    "platforms":    [IMAGE-without-tag, ...]: an image index (or manifest list) with one
                    manifest per entry, each with its platform; index.json names the index
    "corrupt":      {"layer": N, "how": "flip"|"append"|"truncate"|"replace",
                    "find": TEXT, "with": TEXT (replace: the first TEXT, same length)} or
                    {"what": "config"|"manifest", ...}: that blob's file is changed after
                    it is written (its name keeps the digest of the right bytes)
    "missing":      {"layer": N} or {"what": "config"}: that blob's file is deleted

LAYER:

    "preset":       "standard" | "busybox" | "none" (default none), as mkbase.py
    "entries":      [ENTRY, ...] added after the preset (an entry with the path of an
                    earlier one replaces it in place)
    "remove":       [PATH, ...] drops preset entries (and everything under them)
    "compress":     "gzip" (default) | "none" | "zstd"
    "media_type":   overrides the layer descriptor's media type
    "created_by":   the history entry's created_by
    "tar":          a host tar file used as the layer's uncompressed bytes instead

ENTRY (as mkbase.py): {"path": "etc/passwd", "type": "file", "content": "..."} with
optional "mode" (int or octal string), "uid", "gid", "uname", "gname", "mtime",
"content_hex", "host", "linkname", "pax" (a value "hex:..." is raw bytes),
"devmajor", "devminor". Types: dir, file, symlink, hardlink, fifo, char, block.
Defaults: 0:0 root:root, mtime 1234567890, mode 0755 dirs, 0644 files, 0777 links.
A whiteout is a plain file entry: "etc/.wh.passwd", "etc/.wh..wh..opq".

The summary (stdout): {"images": [{"tag", "digest", "size", "media_type",
"manifests": [{"digest", "platform", "config", "layers": [{"digest", "size",
"media_type", "diff_id"}]}]}]}; for a plain image "manifests" has one element.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

# The standard and busybox bases are mkbase.py's own: one definition for both tools.
from mkbase import GROUP, PASSWD, entry, norm, preset_busybox, preset_standard  # noqa: F401

MTIME = 1234567890

OCI = {
    "index": "application/vnd.oci.image.index.v1+json",
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "layer": {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
              "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
              "none": "application/vnd.oci.image.layer.v1.tar"},
}
DOCKER = {
    "index": "application/vnd.docker.distribution.manifest.list.v2+json",
    "manifest": "application/vnd.docker.distribution.manifest.v2+json",
    "config": "application/vnd.docker.container.image.v1+json",
    "layer": {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
              "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
              "none": "application/vnd.docker.image.rootfs.diff.tar"},
}

TYPES = {
    "dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
}


def die(msg):
    sys.exit("mkoci: " + msg)


def content_of(e):
    if "content_hex" in e:
        return bytes.fromhex(e["content_hex"])
    if "host" in e:
        with open(e["host"], "rb") as f:
            return f.read()
    c = e.get("content", "")
    return c.encode("utf-8", "surrogateescape")


def mode_of(e):
    m = e.get("mode")
    if m is None:
        return {"dir": 0o755, "symlink": 0o777}.get(e["type"], 0o644)
    return int(m, 8) if isinstance(m, str) else int(m)


def pax_of(e):
    out = {}
    for k, v in (e.get("pax") or {}).items():
        if isinstance(v, str) and v.startswith("hex:"):
            v = bytes.fromhex(v[4:]).decode("utf-8", "surrogateescape")
        out[k] = str(v)
    return out


def layer_entries(layer):
    preset = layer.get("preset", "none")
    entries = {"standard": preset_standard, "busybox": preset_busybox,
               "none": lambda: []}.get(preset)
    if entries is None:
        die("unknown preset %r" % preset)
    entries = entries()
    for r in layer.get("remove", []):
        k = norm(r)
        entries = [e for e in entries
                   if norm(e["path"]) != k and not norm(e["path"]).startswith(k + "/")]
    for e in layer.get("entries", []):
        e = dict(e)
        e.setdefault("type", "file")
        k = norm(e["path"])
        for i, old in enumerate(entries):
            if norm(old["path"]) == k:
                entries[i] = e
                break
        else:
            entries.append(e)
    return entries


def write_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tf:
        for e in entries:
            t = e["type"]
            if t not in TYPES:
                die("unknown type %r for %r" % (t, e["path"]))
            ti = tarfile.TarInfo(e["path"])
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
            data = content_of(e) if t == "file" else None
            ti.size = len(data) if data is not None else 0
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
    if how == "zstd":
        if not shutil.which("zstd"):
            die("zstd not installed")
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=raw, check=True,
                              capture_output=True).stdout
    die("unknown compression %r" % how)


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    def __init__(self, out):
        self.out = out
        os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(out, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        p = os.path.join(out, "index.json")
        if os.path.exists(p):
            with open(p) as f:
                self.index = json.load(f)
        else:
            self.index = {"schemaVersion": 2, "mediaType": OCI["index"], "manifests": []}

    def path(self, digest):
        return os.path.join(self.out, "blobs", "sha256", digest.split(":", 1)[1])

    def put(self, data):
        d = digest_of(data)
        with open(self.path(d), "wb") as f:
            f.write(data)
        return d, len(data)

    def put_json(self, obj):
        return self.put(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())

    def save(self):
        tmp = os.path.join(self.out, "index.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.index, f, sort_keys=True, separators=(",", ":"))
        os.replace(tmp, os.path.join(self.out, "index.json"))


def damage(layout, path, how, spec):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "replace":
        a, b = spec["find"].encode(), spec["with"].encode()
        if len(a) != len(b) or a not in data:
            die("corrupt: cannot replace %r with %r" % (a, b))
        i = data.index(a)
        data[i:i + len(a)] = b
    elif how == "flip":
        i = len(data) // 2
        data[i] ^= 0x01
    elif how == "append":
        data += b"\0"
    elif how == "truncate":
        data = data[:-1]
    else:
        die("unknown corruption %r" % how)
    with open(path, "wb") as f:
        f.write(bytes(data))


def write_image(layout, img, mt):
    """One manifest with its config and layers; returns (desc, summary, digests)."""
    layers, diff_ids, history, summary = [], [], [], []
    for n, layer in enumerate(img.get("layers", [])):
        if "tar" in layer:
            with open(layer["tar"], "rb") as f:
                raw = f.read()
        else:
            raw = write_tar(layer_entries(layer))
        how = layer.get("compress", "gzip")
        blob = compress(raw, how)
        d, size = layout.put(blob)
        lmt = layer.get("media_type", mt["layer"][how])
        layers.append({"mediaType": lmt, "digest": d, "size": size})
        diff_ids.append(digest_of(raw))
        history.append({"created": "2009-02-13T23:31:30Z",
                        "created_by": layer.get("created_by", "mkoci layer %d" % n)})
        summary.append({"digest": d, "size": size, "media_type": lmt, "diff_id": digest_of(raw)})
    cfg = {
        "architecture": img.get("architecture", "amd64"),
        "os": img.get("os", "linux"),
        "created": "2009-02-13T23:31:30Z",
        "config": img.get("config", {}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": img.get("history", history),
    }
    if "variant" in img:
        cfg["variant"] = img["variant"]
    cd, cs = layout.put_json(cfg)
    man = {"schemaVersion": 2, "mediaType": mt["manifest"],
           "config": {"mediaType": mt["config"], "digest": cd, "size": cs},
           "layers": layers}
    if img.get("annotations"):
        man["annotations"] = img["annotations"]
    md, ms = layout.put_json(man)
    platform = {"architecture": cfg["architecture"], "os": cfg["os"]}
    if "variant" in img:
        platform["variant"] = img["variant"]
    desc = {"mediaType": mt["manifest"], "digest": md, "size": ms, "platform": platform}
    digests = {"manifest": md, "config": cd, "layers": [l["digest"] for l in layers]}
    return desc, {"digest": md, "size": ms, "platform": platform, "config": cd,
                  "layers": summary}, digests


def apply_damage(layout, img, digests):
    for key, fn in (("corrupt", "corrupt"), ("missing", "missing")):
        spec = img.get(key)
        if not spec:
            continue
        if "layer" in spec:
            d = digests["layers"][int(spec["layer"])]
        else:
            d = digests[spec.get("what", "config")]
        p = layout.path(d)
        if key == "missing":
            os.unlink(p)
        else:
            damage(layout, p, spec.get("how", "flip"), spec)


def read_json_blob(out, digest):
    with open(os.path.join(out, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
        return json.load(f)


def merged(out, tag):
    with open(os.path.join(out, "index.json")) as f:
        index = json.load(f)
    found = [m for m in index["manifests"]
             if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag]
    if len(found) != 1:
        die("%d images tagged %r in %s" % (len(found), tag, out))
    man = read_json_blob(out, found[0]["digest"])
    view = {}  # path -> (layer number, header dict)
    for n, l in enumerate(man["layers"]):
        with open(os.path.join(out, "blobs", "sha256", l["digest"].split(":", 1)[1]), "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            data = subprocess.run(["zstd", "-dc"], input=data, check=True,
                                  capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8",
                          errors="surrogateescape") as tf:
            for m in tf.getmembers():
                p = norm(m.name)
                parent, _, base = p.rpartition("/")
                if base == ".wh..wh..opq":
                    for k in [k for k in view if parent == "" or k.startswith(parent + "/")]:
                        if view[k][0] < n and k != ".":
                            del view[k]
                    continue
                if base.startswith(".wh."):
                    gone = (parent + "/" if parent else "") + base[4:]
                    for k in [k for k in view if k == gone or k.startswith(gone + "/")]:
                        del view[k]
                    continue
                if not m.isdir():
                    for k in [k for k in view if k.startswith(p + "/")]:
                        del view[k]
                d = {"path": p, "type": {v: k for k, v in TYPES.items()}.get(m.type, "file"),
                     "uid": m.uid, "gid": m.gid, "uname": m.uname, "gname": m.gname,
                     "mode": "%04o" % m.mode, "mtime": int(m.mtime),
                     "linkname": norm(m.linkname) if m.islnk() else m.linkname,
                     "devmajor": m.devmajor, "devminor": m.devminor,
                     "xattrs": {k: v.encode("utf-8", "surrogateescape").hex()
                                for k, v in sorted(m.pax_headers.items())
                                if k.startswith("SCHILY.xattr.")}}
                if m.isreg():
                    d["sha256"] = hashlib.sha256(tf.extractfile(m).read()).hexdigest()
                view[p] = (n, d)
    json.dump([view[k][1] for k in sorted(view)], sys.stdout, indent=1, sort_keys=True)
    print()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--merged":
        merged(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 3:
        die("usage: mkoci.py OUT DESC.json|-")
    out, src = sys.argv[1], sys.argv[2]
    desc = json.load(sys.stdin if src == "-" else open(src))
    layout = Layout(out)
    result = []
    for img in desc.get("images", []):
        mt = DOCKER if img.get("docker") else OCI
        if "platforms" in img:
            mans, sums = [], []
            for sub in img["platforms"]:
                sub = dict(sub)
                sub.setdefault("docker", img.get("docker", False))
                d, s, digests = write_image(layout, sub, DOCKER if sub["docker"] else OCI)
                apply_damage(layout, sub, digests)
                mans.append(d)
                sums.append(s)
            index = {"schemaVersion": 2, "mediaType": mt["index"], "manifests": mans}
            idd, ids = layout.put_json(index)
            top = {"mediaType": mt["index"], "digest": idd, "size": ids}
        else:
            d, s, digests = write_image(layout, img, mt)
            apply_damage(layout, img, digests)
            top = {k: v for k, v in d.items() if k != "platform"}
            sums = [s]
        if img.get("tag") is not None:
            top["annotations"] = {"org.opencontainers.image.ref.name": img["tag"]}
        if img.get("tag") is not None:
            layout.index["manifests"] = [
                m for m in layout.index["manifests"]
                if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") != img["tag"]]
        layout.index["manifests"].append(top)
        result.append({"tag": img.get("tag"), "digest": top["digest"], "size": top["size"],
                       "media_type": top["mediaType"], "manifests": sums})
    layout.save()
    json.dump({"images": result}, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
