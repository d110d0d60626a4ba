#!/usr/bin/env python3
"""Checks that an OCI image layout is whole, for the crash-safety suite (crash.bats).

    layoutcheck.py OUT [--allow-staging] [--cache FILE] [--expect TAG=DIGEST[|DIGEST...]]...

Checks, reporting every problem found on stderr (exit 1 when any):
  - OUT holds only oci-layout, index.json and blobs/ (and, with --allow-staging,
    folders named .ociuser-staging-*: what a killed build leaves until the next one)
  - oci-layout is {"imageLayoutVersion": "1.0.0"}
  - index.json is valid JSON: schemaVersion 2, a manifests array, no ref name twice
  - every descriptor index.json names, and the config and layers of every manifest,
    is a regular file in blobs/sha256 with the descriptor's size and digest
  - blobs/ holds only sha256/, and every entry of blobs/sha256 is a regular file with a
    64-hex name whose sha256 is that name (no temporary file taken for a blob)
  - each --expect TAG has one of the given digests (a TAG absent counts as "-",
    so TAG=-|sha256:... accepts both absence and that digest)
On success prints one line "TAG DIGEST" per tagged manifest, sorted by tag.
--cache FILE keeps the sha256 of each blob file between runs, keyed by its inode,
size, mtime and ctime, so repeated checks of a big layout only hash what changed.
"""
import hashlib
import json
import os
import re
import stat
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")
REF = "org.opencontainers.image.ref.name"
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


class Checker:
    def __init__(self, out, cache=None):
        self.out = out
        self.sha_dir = os.path.join(out, "blobs", "sha256")
        self.problems = []
        self.hashes = {}
        self.cache_path = cache
        self.cache = {}
        if cache and os.path.exists(cache):
            with open(cache) as f:
                self.cache = json.load(f)

    def save_cache(self):
        if self.cache_path:
            with open(self.cache_path + ".new", "w") as f:
                json.dump(self.cache, f)
            os.replace(self.cache_path + ".new", self.cache_path)

    def bad(self, msg):
        self.problems.append(msg)

    def blob_hash(self, name):
        if name not in self.hashes:
            path = os.path.join(self.sha_dir, name)
            st = os.lstat(path)
            key = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
            hit = self.cache.get(name)
            if hit and hit[:4] == key:
                self.hashes[name] = hit[4]
                return hit[4]
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            self.hashes[name] = h.hexdigest()
            self.cache[name] = key + [self.hashes[name]]
        return self.hashes[name]

    def check_top(self, allow_staging):
        for name in sorted(os.listdir(self.out)):
            if name in ("oci-layout", "index.json", "blobs"):
                continue
            if allow_staging and name.startswith(".ociuser-staging-"):
                st = os.lstat(os.path.join(self.out, name))
                if not stat.S_ISDIR(st.st_mode):
                    self.bad("%s: a staging name that is not a folder" % name)
                continue
            self.bad("unexpected entry in OUT: %s" % name)
        try:
            with open(os.path.join(self.out, "oci-layout")) as f:
                lay = json.load(f)
            if lay != {"imageLayoutVersion": "1.0.0"}:
                self.bad("oci-layout is %r" % (lay,))
        except (OSError, ValueError) as e:
            self.bad("oci-layout: %s" % e)
        blobs = os.path.join(self.out, "blobs")
        try:
            extra = sorted(set(os.listdir(blobs)) - {"sha256"})
        except OSError as e:
            self.bad("blobs: %s" % e)
            return
        if extra:
            self.bad("unexpected entries in blobs/: %s" % ", ".join(extra))

    def check_all_blobs(self):
        try:
            names = sorted(os.listdir(self.sha_dir))
        except OSError as e:
            self.bad("blobs/sha256: %s" % e)
            return
        for name in names:
            st = os.lstat(os.path.join(self.sha_dir, name))
            if not HEX64.match(name):
                self.bad("blobs/sha256/%s: not a 64-hex name (a temporary file?), %d bytes"
                         % (name, st.st_size))
                continue
            if not stat.S_ISREG(st.st_mode):
                self.bad("blobs/sha256/%s: not a regular file" % name)
                continue
            got = self.blob_hash(name)
            if got != name:
                self.bad("blobs/sha256/%s: content has sha256 %s (%d bytes)" % (name, got, st.st_size))

    def check_desc(self, d, where):
        """Checks that descriptor d's blob is there, whole; returns its bytes' name or None."""
        if not isinstance(d, dict):
            self.bad("%s: descriptor is not an object" % where)
            return None
        digest, size = d.get("digest"), d.get("size")
        if not isinstance(digest, str) or not digest.startswith("sha256:") or not HEX64.match(digest[7:]):
            self.bad("%s: bad digest %r" % (where, digest))
            return None
        if not isinstance(size, int):
            self.bad("%s: bad size %r" % (where, size))
            return None
        name = digest[7:]
        path = os.path.join(self.sha_dir, name)
        try:
            st = os.lstat(path)
        except OSError:
            self.bad("%s: blob %s is missing" % (where, digest))
            return None
        if not stat.S_ISREG(st.st_mode):
            self.bad("%s: blob %s is not a regular file" % (where, digest))
            return None
        if st.st_size != size:
            self.bad("%s: blob %s has %d bytes, descriptor says %d" % (where, digest, st.st_size, size))
            return None
        if self.blob_hash(name) != name:
            self.bad("%s: blob %s does not match its digest" % (where, digest))
            return None
        return name

    def load_blob_json(self, name, where):
        try:
            with open(os.path.join(self.sha_dir, name), "rb") as f:
                return json.loads(f.read())
        except (OSError, ValueError) as e:
            self.bad("%s: %s" % (where, e))
            return None

    def check_manifest(self, d, where, depth=0):
        name = self.check_desc(d, where)
        if name is None:
            return
        mt = d.get("mediaType")
        doc = self.load_blob_json(name, where)
        if doc is None:
            return
        if mt in INDEX_TYPES and depth < 2:
            for i, sub in enumerate(doc.get("manifests") or []):
                self.check_manifest(sub, "%s.manifests[%d]" % (where, i), depth + 1)
            return
        if mt not in MANIFEST_TYPES:
            self.bad("%s: media type %r" % (where, mt))
            return
        cfg = self.check_desc(doc.get("config"), where + ".config")
        if cfg is not None:
            c = self.load_blob_json(cfg, where + ".config")
            if c is not None and not isinstance(c, dict):
                self.bad("%s.config: not an object" % where)
        layers = doc.get("layers")
        if not isinstance(layers, list):
            self.bad("%s: no layers array" % where)
            return
        for i, l in enumerate(layers):
            self.check_desc(l, "%s.layers[%d]" % (where, i))

    def check_index(self):
        tags = {}
        try:
            with open(os.path.join(self.out, "index.json"), "rb") as f:
                index = json.loads(f.read())
        except (OSError, ValueError) as e:
            self.bad("index.json: %s" % e)
            return tags
        if not isinstance(index, dict) or index.get("schemaVersion") != 2:
            self.bad("index.json: not an object with schemaVersion 2")
            return tags
        ms = index.get("manifests")
        if not isinstance(ms, list):
            self.bad("index.json: no manifests array")
            return tags
        for i, d in enumerate(ms):
            where = "index.json manifests[%d]" % i
            self.check_manifest(d, where)
            tag = ((d or {}).get("annotations") or {}).get(REF) if isinstance(d, dict) else None
            if tag is None:
                continue
            if tag in tags:
                self.bad("index.json: tag %r named twice" % tag)
            tags[tag] = d.get("digest")
        return tags


def main(argv):
    args = argv[1:]
    allow_staging = False
    cache = None
    expects = []
    out = None
    while args:
        a = args.pop(0)
        if a == "--allow-staging":
            allow_staging = True
        elif a == "--cache":
            cache = args.pop(0)
        elif a == "--expect":
            tag, _, alts = args.pop(0).partition("=")
            expects.append((tag, alts.split("|")))
        elif out is None:
            out = a
        else:
            print("usage: layoutcheck.py OUT [--allow-staging] [--cache FILE] [--expect TAG=D1|D2]...", file=sys.stderr)
            return 2
    if out is None:
        print("usage: layoutcheck.py OUT [--allow-staging] [--cache FILE] [--expect TAG=D1|D2]...", file=sys.stderr)
        return 2
    c = Checker(out, cache)
    c.check_top(allow_staging)
    c.check_all_blobs()
    tags = c.check_index()
    c.save_cache()
    for tag, alts in expects:
        got = tags.get(tag, "-")
        if got not in alts:
            c.bad("tag %s is %s, expected one of: %s" % (tag, got, " ".join(alts)))
    if c.problems:
        for p in c.problems:
            print("layoutcheck: %s: %s" % (out, p), file=sys.stderr)
        return 1
    for tag in sorted(tags):
        print(tag, tags[tag])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
