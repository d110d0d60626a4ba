#!/usr/bin/env bats
# Layers that end right after the last file's data (no block padding, no
# end-of-archive blocks), as umoci 0.4's insert writes them: read as the Go
# readers of every runtime read them; real truncation is still an error.

load lib/common.bash

setup() {
	common_setup
	# A tar whose last entry's data is complete but nothing follows it, and
	# the same cut inside that data.
	python3 - <<'PY'
import gzip, io, tarfile
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1234567890
            ti.mode = 0o644; ti.uname = ti.gname = "root"
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
passwd = b"root:x:0:0:root:/root:/bin/sh\n" + b"#" * 900 + b"\n"
full = tar([("etc/group", b"root:x:0:\n"), ("etc/passwd", passwd)])
end = 512 * 3 + len(passwd)          # headers of both, group's one data block, passwd's data
assert full[end:].strip(b"\0") == b""
open("nopad.tar", "wb").write(full[:end])
with gzip.GzipFile("nopad.tar.gz", "wb", mtime=0) as g: g.write(full[:end])
with gzip.GzipFile("cut.tar.gz", "wb", mtime=0) as g: g.write(full[:end - 100])
PY
	for b in nopad.tar nopad.tar.gz cut.tar.gz; do
		printf '[image]\nbase = %s\n[user]\nname = app\nshell = /bin/sh\n' "$b" >"${b%%.*}-${b#*.}.ini"
	done
}

@test "a layer with no padding after its last file builds; its diff_id hashes its real bytes" {
	build_ok nopad-tar.gz.ini "$T/out"
	layers "$T/out" latest cat etc/passwd >passwd
	grep -q '^app:x:999:999::/home/app:/bin/sh$' passwd
	cfg=$(skopeo inspect --config oci:"$T/out":latest)
	assert_eq "$(jq -r '.rootfs.diff_ids[0]' <<<"$cfg")" "sha256:$(gzip -dc nopad.tar.gz | sha256sum | cut -c1-64)" "diff_id"
	skopeo copy -q oci:"$T/out":latest oci-archive:"$T/x.tar"
	build_ok nopad-tar.ini "$T/out2"
}

@test "a layer cut inside a file's data is an error naming the entry, OUT untouched" {
	ou build cut-tar.gz.ini -o "$T/out"
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "etc/passwd"
	assert_contains "$stderr" "truncated"
	[ ! -e "$T/out" ]
}
