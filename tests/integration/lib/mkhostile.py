#!/usr/bin/env python3
"""Writes hostile inputs for ociuser's hostile-input tests: archives no honest tool makes.

Unlike mkbase.py (which goes through Python's tarfile and so can only write what
tarfile accepts), the tar headers here are written byte by byte, so an entry may have
any name ('..', absolute, 64 KiB long, not UTF-8), appear twice, carry any PAX record
(a size that is huge, negative or not a number) or lie about its size.

    mkhostile.py tar OUT [--compress none|gzip|zstd|xz|bzip2] [--preset standard|none]
                         [--entry JSON]... [--truncate N] [--no-end]
        The preset's entries (mkbase.py's standard base, default) then every --entry, in
        order, with no deduplication. ENTRY: {"path": NAME, "type": dir|file|symlink|
        hardlink|fifo, "mode", "uid", "gid", "mtime", "content" (text) or "content_hex",
        "linkname", "pax": {KEY: VALUE} (PAX records written before the entry, verbatim,
        after an automatic "path" record for names over 100 bytes), "size" (the size
        field of the ustar header, default the content's length; the content written is
        still the given bytes, padded to 512), "raw_pax" (a string written as the PAX
        header's data instead of well-formed records)}. NAME and string values starting
        with "hex:" are raw bytes. --truncate N keeps the first N bytes of the
        uncompressed tar (a short block); --no-end leaves out the two zero end blocks.

    mkhostile.py damage IN OUT --how gzip-crc|gzip-isize|gzip-cut|flip-middle
        A copy of IN with its gzip trailer's CRC (or ISIZE) wrong, the gzip stream cut
        in its middle, or one byte in the middle flipped.

    mkhostile.py bomb OUT --size N [--shape zeros|file|passwd] [--compress gzip|zstd]
        A decompression bomb that is N uncompressed bytes (suffixes K, M, G): "zeros" is
        N zero bytes (an empty tar: the end marker, then padding); "file" a tar of the
        standard base plus one regular file 'big' of N zero bytes; "passwd" the standard
        base whose etc/passwd is N bytes (a root line, then zeros). Written in constant
        memory and in a few seconds: the gzip stream repeats one self-contained deflate
        block of zeros; zstd is fed by a pipe.

    mkhostile.py many OUT --count N [--compress none|gzip] [--per-dir K]
        The standard base plus N empty regular files d/DIR/fNNNNNNN (K per folder,
        default 1000), written header by header in constant memory.

    mkhostile.py garbage OUT --size N [--seed S]
        N pseudo-random bytes (fixed seed): no archive of any kind.

    mkhostile.py oci-layer LAYOUT TAG N FILE [--diff-id sha256:HEX]
        Makes FILE's bytes layer N of the image tagged TAG in LAYOUT (written by
        mkoci.py): the blob is stored under its real digest, and the manifest, config
        (diff_ids) and index.json are rewritten to match, so every digest and size check
        passes and only the layer's content is hostile. The media type follows the bytes
        (gzip, zstd, else plain tar). The diff_id is --diff-id, else the sha256 of the
        bytes as far as they decompress (a bad gzip CRC or a cut stream is not an error
        here).

    mkhostile.py walk BLOB [--until NAME]
        Reads a layer blob (gzip or plain) as a stream in constant memory, without
        Python's tarfile, and prints one JSON line per member: {"name" (str, bytes not
        UTF-8 as \\xNN), "name_hex", "type", "size", "offset" (of its data)}; the last line
        is {"end": bytes up to the end marker, "total": uncompressed bytes, "sha256"} .
        --until stops after the member NAME. Exit 1 when the stream is not a well-formed
        tar (a header checksum wrong, data cut short, no end marker).

Every output is written to OUT.tmp and renamed, and depends only on the arguments.
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

MTIME = 1234567890
BLOCK = 512

PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
GROUP = "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n"
TYPEFLAG = {"file": b"0", "hardlink": b"1", "symlink": b"2", "char": b"3", "block": b"4",
            "dir": b"5", "fifo": b"6"}


def die(msg):
    sys.exit("mkhostile: " + msg)


def raw(v):
    """A JSON string as bytes: 'hex:...' is raw bytes, else UTF-8."""
    if isinstance(v, bytes):
        return v
    v = str(v)
    if v.startswith("hex:"):
        return bytes.fromhex(v[4:])
    return v.encode("utf-8", "surrogateescape")


def size_of(text):
    text = str(text).strip()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper())
    return int(text[:-1]) * mult if mult else int(text)


def octal(n, width):
    """A NUL-terminated octal field of @width bytes (GNU base-256 when it does not fit)."""
    s = b"%0*o" % (width - 1, n)
    if len(s) <= width - 1 and n >= 0:
        return s + b"\0"
    if n < 0:
        n &= (1 << (8 * width - 1)) - 1
        return bytes([0xff]) + n.to_bytes(width - 1, "big")
    return bytes([0x80]) + n.to_bytes(width - 1, "big")


def ustar(name, typeflag, size=0, mode=0o644, uid=0, gid=0, mtime=MTIME, linkname=b"",
          uname=b"root", gname=b"root"):
    """One 512-byte ustar header; @name and @linkname are cut to their fields."""
    h = bytearray(BLOCK)
    h[0:100] = name[:100].ljust(100, b"\0")
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(uid, 8)
    h[116:124] = octal(gid, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(mtime, 12)
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[157:257] = linkname[:100].ljust(100, b"\0")
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[265:297] = uname[:32].ljust(32, b"\0")
    h[297:329] = gname[:32].ljust(32, b"\0")
    h[148:156] = b"%06o\0 " % (sum(h) & 0o777777)
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % BLOCK)


def pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(b"%d" % n) + len(body) != n:
        n = len(b"%d" % n) + len(body)
    return b"%d" % n + body


def entry_bytes(e):
    name = raw(e["path"])
    t = e.get("type", "file")
    if t not in TYPEFLAG:
        die("unknown type %r" % t)
    linkname = raw(e.get("linkname", ""))
    if "content_hex" in e:
        data = bytes.fromhex(e["content_hex"])
    else:
        data = raw(e.get("content", "")) if t == "file" else b""
    mode = e.get("mode")
    if mode is None:
        mode = {"dir": 0o755, "symlink": 0o777}.get(t, 0o644)
    elif isinstance(mode, str):
        mode = int(mode, 8)
    records = b""
    if len(name) > 100:
        records += pax_record(b"path", name)
    if len(linkname) > 100:
        records += pax_record(b"linkpath", linkname)
    for k, v in (e.get("pax") or {}).items():
        records += pax_record(raw(k), raw(v))
    if "raw_pax" in e:
        records = raw(e["raw_pax"])
    out = b""
    if records:
        out += ustar(b"PaxHeaders/" + name.rsplit(b"/", 1)[-1][:80], b"x", len(records))
        out += pad(records)
    size = e.get("size", len(data))
    out += ustar(name, TYPEFLAG[t], size if isinstance(size, int) else 0, mode,
                 int(e.get("uid", 0)), int(e.get("gid", 0)), int(e.get("mtime", MTIME)),
                 linkname)
    return out + pad(data)


def preset_standard():
    return [
        {"path": "./", "type": "dir"},
        {"path": "bin/", "type": "dir"},
        {"path": "bin/sh", "mode": 0o755, "content": "#!/bin/sh\nexit 0\n"},
        {"path": "etc/", "type": "dir"},
        {"path": "etc/group", "content": GROUP},
        {"path": "etc/passwd", "content": PASSWD},
        {"path": "usr/", "type": "dir"},
        {"path": "usr/sbin/", "type": "dir"},
        {"path": "usr/sbin/nologin", "mode": 0o755, "content": "#!/bin/sh\nexit 1\n"},
    ]


def compress_bytes(data, how):
    if how == "none":
        return data
    if how == "gzip":
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        return c.compress(data) + c.flush()
    tool = {"zstd": ["zstd", "-q", "-c", "-3"], "xz": ["xz", "-c"],
            "bzip2": ["bzip2", "-c"]}.get(how)
    if tool is None:
        die("unknown compression %r" % how)
    if not shutil.which(tool[0]):
        die("%s not installed" % tool[0])
    return subprocess.run(tool, input=data, check=True, capture_output=True).stdout


def write_out(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def cmd_tar(a):
    entries = preset_standard() if a.preset == "standard" else []
    entries += a.entry
    data = b"".join(entry_bytes(e) for e in entries)
    if not a.no_end:
        data += b"\0" * (2 * BLOCK)
    if a.truncate is not None:
        data = data[:a.truncate]
    write_out(a.out, compress_bytes(data, a.compress))


def cmd_damage(a):
    with open(a.inp, "rb") as f:
        data = bytearray(f.read())
    if a.how in ("gzip-crc", "gzip-isize", "gzip-cut") and data[:2] != b"\x1f\x8b":
        die("%s is not gzip" % a.inp)
    if a.how == "gzip-crc":
        data[-8] ^= 0xff
    elif a.how == "gzip-isize":
        data[-4] ^= 0x01
    elif a.how == "gzip-cut":
        data = data[:len(data) // 2]
    elif a.how == "flip-middle":
        data[len(data) // 2] ^= 0x01
    else:
        die("unknown damage %r" % a.how)
    write_out(a.out, bytes(data))


class GzipStream:
    """A gzip member written in pieces; zeros() repeats one self-contained deflate block."""

    CHUNK = 1 << 24  # 16 MiB of zeros per repeated block

    def __init__(self, f):
        self.f = f
        self.crc = 0
        self.size = 0
        self.c = zlib.compressobj(9, zlib.DEFLATED, -15)
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.zchunk = z.compress(b"\0" * self.CHUNK) + z.flush(zlib.Z_FULL_FLUSH)
        self.zcrc = {}

    def data(self, b):
        self.f.write(self.c.compress(b) + self.c.flush(zlib.Z_FULL_FLUSH))
        self.crc = zlib.crc32(b, self.crc)
        self.size += len(b)

    def zeros(self, n):
        zero = b"\0" * self.CHUNK
        while n >= self.CHUNK:
            self.f.write(self.zchunk)
            self.crc = zlib.crc32(zero, self.crc)
            self.size += self.CHUNK
            n -= self.CHUNK
        if n:
            self.data(b"\0" * n)

    def finish(self):
        self.f.write(self.c.flush(zlib.Z_FINISH))
        self.f.write(struct.pack("<II", self.crc & 0xffffffff, self.size & 0xffffffff))


class PipeStream:
    """Uncompressed bytes fed to a compressor's stdin (zstd) or written as they are."""

    def __init__(self, f, how):
        self.proc = None
        self.f = f
        if how != "none":
            self.proc = subprocess.Popen(["zstd", "-q", "-c", "-3"], stdin=subprocess.PIPE,
                                         stdout=f)
            self.f = self.proc.stdin

    def data(self, b):
        self.f.write(b)

    def zeros(self, n):
        zero = b"\0" * (1 << 20)
        while n > 0:
            k = min(n, len(zero))
            self.f.write(zero[:k])
            n -= k

    def finish(self):
        if self.proc:
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                die("zstd failed")


def cmd_bomb(a):
    n = size_of(a.size)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        s = GzipStream(f) if a.compress == "gzip" else PipeStream(f, a.compress)
        if a.shape == "zeros":
            s.zeros(n)
        else:
            entries = preset_standard()
            if a.shape == "passwd":
                entries = [e for e in entries if e["path"] != "etc/passwd"]
            s.data(b"".join(entry_bytes(e) for e in entries))
            name = b"etc/passwd" if a.shape == "passwd" else b"big"
            first = b"root:x:0:0:root:/root:/bin/sh\n" if a.shape == "passwd" else b""
            hdr = b""
            if n >= 8 << 30:
                rec = pax_record(b"size", b"%d" % n)
                hdr += ustar(b"PaxHeaders/big", b"x", len(rec)) + pad(rec)
            hdr += ustar(name, b"0", n if n < 8 << 30 else 0)
            s.data(hdr + first)
            s.zeros(n - len(first) + (-n % BLOCK) + 2 * BLOCK)
        s.finish()
    os.replace(tmp, a.out)


def cmd_many(a):
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        if a.compress == "gzip":
            z = zlib.compressobj(1, zlib.DEFLATED, 31)
            w = lambda b: f.write(z.compress(b))
        else:
            z = None
            w = f.write
        w(b"".join(entry_bytes(e) for e in preset_standard()))
        w(ustar(b"d/", b"5", mode=0o755))
        buf = []
        for i in range(a.count):
            if i % a.per_dir == 0:
                buf.append(ustar(b"d/%06d/" % (i // a.per_dir), b"5", mode=0o755))
            buf.append(ustar(b"d/%06d/f%07d" % (i // a.per_dir, i), b"0"))
            if len(buf) >= 4096:
                w(b"".join(buf))
                buf = []
        w(b"".join(buf) + b"\0" * (2 * BLOCK))
        if z:
            f.write(z.flush())
    os.replace(tmp, a.out)


def cmd_garbage(a):
    rnd = random.Random(a.seed)
    data = bytes(rnd.getrandbits(8) for _ in range(size_of(a.size)))
    write_out(a.out, data)


def lenient_decompress(path):
    """(sha256 of the bytes of @path as far as they decompress, media type suffix), in
    constant memory; a wrong gzip trailer (CRC, ISIZE) or a cut stream is not an error."""
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        if head[:4] == b"\x28\xb5\x2f\xfd":
            r = subprocess.run(["zstd", "-dcq"], stdin=f, stdout=subprocess.PIPE)
            h.update(r.stdout)
            return "sha256:" + h.hexdigest(), "+zstd"
        if head[:2] != b"\x1f\x8b":
            for c in iter(lambda: f.read(1 << 20), b""):
                h.update(c)
            return "sha256:" + h.hexdigest(), ""
        # Raw inflate after the header, so that the trailer is never checked.
        data = f.read(1 << 16)
        off, flags = 10, data[3]
        if flags & 4:
            off += 2 + int.from_bytes(data[off:off + 2], "little")
        for bit in (8, 16):
            if flags & bit:
                off = data.index(b"\0", off) + 1
        if flags & 2:
            off += 2
        d = zlib.decompressobj(-15)
        c = data[off:]
        try:
            while c and not d.eof:
                while c and not d.eof:
                    h.update(d.decompress(c, 1 << 24))
                    c = d.unconsumed_tail
                c = f.read(1 << 16)
        except zlib.error:
            pass
        return "sha256:" + h.hexdigest(), "+gzip"


def cmd_oci_layer(a):
    import hashlib

    def blob_path(d):
        return os.path.join(a.layout, "blobs", "sha256", d.split(":", 1)[1])

    def put(data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(blob_path(d), "wb") as f:
            f.write(data)
        return d, len(data)

    def put_json(obj):
        return put(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())

    with open(os.path.join(a.layout, "index.json")) as f:
        index = json.load(f)
    descs = [m for m in index["manifests"]
             if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == a.tag]
    if len(descs) != 1:
        die("%d images tagged %r" % (len(descs), a.tag))
    with open(blob_path(descs[0]["digest"])) as f:
        man = json.load(f)
    with open(blob_path(man["config"]["digest"])) as f:
        cfg = json.load(f)
    diff_id, suffix = lenient_decompress(a.file)
    if a.diff_id:
        diff_id = a.diff_id
    h = hashlib.sha256()
    size = 0
    with open(a.file, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""):
            h.update(c)
            size += len(c)
    d = "sha256:" + h.hexdigest()
    shutil.copyfile(a.file, blob_path(d))
    man["layers"][a.n] = {"mediaType": "application/vnd.oci.image.layer.v1.tar" + suffix,
                          "digest": d, "size": size}
    cfg["rootfs"]["diff_ids"][a.n] = diff_id
    man["config"]["digest"], man["config"]["size"] = put_json(cfg)
    descs[0]["digest"], descs[0]["size"] = put_json(man)
    tmp = os.path.join(a.layout, "index.json.tmp")
    with open(tmp, "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))
    os.replace(tmp, os.path.join(a.layout, "index.json"))


class Reader:
    """Uncompressed bytes of a gzip or plain file, read forward in constant memory."""

    def __init__(self, path):
        import hashlib
        self.f = open(path, "rb")
        self.gz = self.f.read(2) == b"\x1f\x8b"
        self.f.seek(0)
        self.d = zlib.decompressobj(31) if self.gz else None
        self.buf = b""
        self.off = 0
        self.pos = 0
        self.h = hashlib.sha256()
        self.pending = b""

    def _more(self, want):
        if self.off:
            self.buf = self.buf[self.off:]
            self.off = 0
        while len(self.buf) < want:
            if self.gz:
                if self.d.eof:
                    return
                if not self.pending:
                    self.pending = self.f.read(1 << 16)
                    if not self.pending:
                        return
                out = self.d.decompress(self.pending, 1 << 22)
                self.pending = self.d.unconsumed_tail
            else:
                out = self.f.read(1 << 22)
                if not out:
                    return
            self.h.update(out)
            self.buf += out

    def read(self, n):
        if len(self.buf) - self.off < n:
            self._more(n)
        out = self.buf[self.off:self.off + n]
        self.off += len(out)
        self.pos += len(out)
        return out

    def skip(self, n):
        while n > 0:
            k = len(self.read(min(n, 1 << 22)))
            if k == 0:
                return False
            n -= k
        return True

    def rest(self):
        while self.read(1 << 22):
            pass
        if self.gz and not self.d.eof:
            die("the gzip stream is cut short")
        return self.pos, "sha256:" + self.h.hexdigest()


def parse_num(field):
    if field[:1] and field[0] & 0x80:
        return int.from_bytes(field[1:], "big")
    t = field.split(b"\0", 1)[0].strip()
    return int(t, 8) if t else 0


def cmd_walk(a):
    r = Reader(a.blob)
    pax = {}
    longname = None
    while True:
        h = r.read(BLOCK)
        if len(h) < BLOCK:
            print("mkhostile: no end marker", file=sys.stderr)
            sys.exit(1)
        if h == b"\0" * BLOCK:
            end = r.pos - BLOCK
            break
        want = parse_num(h[148:156])
        if sum(h[:148]) + 8 * 32 + sum(h[156:]) != want:
            print("mkhostile: bad header checksum at %d" % (r.pos - BLOCK), file=sys.stderr)
            sys.exit(1)
        t = h[156:157]
        size = parse_num(h[124:136])
        if t in (b"x", b"g", b"L", b"K"):
            data = r.read(size)
            r.skip(-size % BLOCK)
            if t == b"x":
                i = 0
                while i < len(data):
                    sp = data.index(b" ", i)
                    n = int(data[i:sp])
                    k, _, v = data[sp + 1:i + n - 1].partition(b"=")
                    pax[k] = v
                    i += n
            elif t == b"L":
                longname = data.rstrip(b"\0")
            continue
        name = h[0:100].split(b"\0", 1)[0]
        if h[257:262] == b"ustar" and h[345:500].split(b"\0", 1)[0]:
            name = h[345:500].split(b"\0", 1)[0] + b"/" + name
        name = pax.get(b"path", longname or name)
        if b"size" in pax:
            size = int(pax[b"size"])
        if t in (b"1", b"2", b"3", b"4", b"5", b"6"):
            size = 0
        pax, longname = {}, None
        print(json.dumps({"name": name.decode("utf-8", "backslashreplace"),
                          "name_hex": name.hex(), "type": t.decode(), "size": size,
                          "offset": r.pos}))
        sys.stdout.flush()
        if a.until is not None and name.decode("utf-8", "surrogateescape") == a.until:
            return
        if not r.skip(size + (-size % BLOCK)):
            print("mkhostile: data of %r cut short" % name, file=sys.stderr)
            sys.exit(1)
    total, digest = r.rest()
    print(json.dumps({"end": end, "total": total, "sha256": digest}))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tar")
    t.add_argument("out")
    t.add_argument("--compress", default="none",
                   choices=["none", "gzip", "zstd", "xz", "bzip2"])
    t.add_argument("--preset", default="standard", choices=["standard", "none"])
    t.add_argument("--entry", action="append", default=[], type=json.loads)
    t.add_argument("--truncate", type=int)
    t.add_argument("--no-end", action="store_true")
    d = sub.add_parser("damage")
    d.add_argument("inp")
    d.add_argument("out")
    d.add_argument("--how", required=True)
    b = sub.add_parser("bomb")
    b.add_argument("out")
    b.add_argument("--size", required=True)
    b.add_argument("--shape", default="zeros", choices=["zeros", "file", "passwd"])
    b.add_argument("--compress", default="gzip", choices=["gzip", "zstd", "none"])
    m = sub.add_parser("many")
    m.add_argument("out")
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--compress", default="none", choices=["none", "gzip"])
    m.add_argument("--per-dir", type=int, default=1000)
    g = sub.add_parser("garbage")
    g.add_argument("out")
    g.add_argument("--size", required=True)
    g.add_argument("--seed", type=int, default=1)
    o = sub.add_parser("oci-layer")
    o.add_argument("layout")
    o.add_argument("tag")
    o.add_argument("n", type=int)
    o.add_argument("file")
    o.add_argument("--diff-id")
    w = sub.add_parser("walk")
    w.add_argument("blob")
    w.add_argument("--until")
    a = ap.parse_args()
    {"tar": cmd_tar, "damage": cmd_damage, "bomb": cmd_bomb, "many": cmd_many,
     "garbage": cmd_garbage, "oci-layer": cmd_oci_layer, "walk": cmd_walk}[a.cmd](a)


if __name__ == "__main__":
    main()
