#!/usr/bin/env bats
# oci: bases (issue 3): an image in an OCI image layout, made here by lib/mkoci.py from
# layer descriptions, as the base. Covers: finding the image (tag, the only image, an
# image index by platform), Docker media types, digest and size checks on every blob,
# the base layers reused byte for byte (hard-linked blobs), the config inherited and
# overridden, the base annotations, the merged view through the layer stack (replaced
# passwd, whiteouts, opaque folders, hard links, symlinked parents) and the accounts
# layer staying byte-identical when only the app changes. Real consumers check the
# output: skopeo copy, oci-image-tool validate, umoci unpack (as root) and the user run
# with chroot --userspec.

load lib/common

setup() {
	common_setup
	SHM=
}

teardown() {
	[ -z "$SHM" ] || rm -rf "$SHM"
}

# base_digests DIR [N]: the layer digests of image N (0) in DIR.json, one a line.
base_digests() {
	jq -r ".images[${2:-0}].manifests[0].layers[].digest" "$1.json"
}

# out_manifest OUT [TAG]: the output manifest JSON.
out_manifest() {
	layers "$1" "${2:-latest}" manifest
}

# consumers_ok OUT [TAG] [--zstd]: skopeo copy (reads every blob checking digests and
# sizes), oci-image-tool validate and umoci unpack as root into $T/bundle; with --zstd
# (a +zstd layer, which oci-image-tool 1.0.0-rc1 and umoci 0.4.7 cannot read) skopeo only.
consumers_ok() {
	local out=$1 tag=${2:-latest}
	skopeo copy -q "oci:$out:$tag" "oci:$T/skopeo-copy:$tag" >/dev/null 2>"$T/skopeo.err" ||
		fail "skopeo copy oci:$out:$tag failed: $(cat "$T/skopeo.err")"
	[ "${3:-}" != --zstd ] || return 0
	oci-image-tool validate --type image --ref "name=$tag" "$out" >"$T/oit.out" 2>&1 ||
		fail "oci-image-tool validate failed:" "$(cat "$T/oit.out")"
	need_root
	rm -rf "$T/bundle"
	umoci unpack --image "$out:$tag" "$T/bundle" >/dev/null 2>"$T/umoci.err" ||
		fail "umoci unpack $out:$tag failed: $(cat "$T/umoci.err")"
}

# run_as_user CMD...: runs CMD in $T/bundle/rootfs as umoci's process.user (resolved by
# umoci from the image's User and its passwd/group), with chroot --userspec.
run_as_user() {
	local cfg="$T/bundle/config.json" uid gid groups
	uid=$(jq -r .process.user.uid "$cfg")
	gid=$(jq -r .process.user.gid "$cfg")
	groups=$(jq -r '(.process.user.additionalGids // []) | map(tostring) | join(",")' "$cfg")
	run env -i PATH=/bin:/usr/bin "$(command -v chroot)" --userspec="$uid:$gid" --groups="$groups" "$T/bundle/rootfs" "$@"
}

# newer OUT N [TAG]: layers.py with the first N layers counted as the base's.
newer() {
	local out=$1 n=$2
	shift 2
	python3 "$LIB/layers.py" --base-layers "$n" "$out" "$@"
}

PASSWD_OLD='root:x:0:0:root:/root:/bin/sh\nolduser:x:1200:1200::/:/bin/false\n'
GROUP_OLD='root:x:0:\nolduser:x:1200:\n'

# c03b DIR: the two-layer base of C03 (b) on a busybox userland; layer 2 also deletes
# etc/motd.
c03b() {
	oci "$1" <<JSON
{"images": [{"tag": "c03b", "layers": [
  {"preset": "busybox", "entries": [
    {"path": "etc/passwd", "content": "$PASSWD_OLD"},
    {"path": "etc/group", "content": "$GROUP_OLD"},
    {"path": "etc/motd", "content": "hello\n"}]},
  {"entries": [{"path": "etc/", "type": "dir"}, {"path": "etc/.wh.passwd"},
               {"path": "etc/.wh.motd"}]}]}]}
JSON
}

# ---------------------------------------------------------------- the merged view

@test "C03 c: the top-most passwd decides: svc/900 in the upper layer conflicts with uid 900" {
	oci base <<'JSON'
{"images": [{"tag": "c", "layers": [
  {"preset": "standard", "entries": [{"path": "etc/passwd", "content": "root:x:0:0:root:/root:/bin/sh\n"}]},
  {"entries": [{"path": "etc/", "type": "dir"},
               {"path": "etc/passwd", "content": "root:x:0:0:root:/root:/bin/sh\nsvc:x:900:900::/:/usr/sbin/nologin\n"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 900
INI
	expect_error_both spec.ini svc 900
}

@test "C03 c swapped: svc/900 only in the lower passwd, gone from the upper one: builds" {
	oci base <<'JSON'
{"images": [{"tag": "c", "layers": [
  {"preset": "standard", "entries": [{"path": "etc/passwd", "content": "root:x:0:0:root:/root:/bin/sh\nsvc:x:900:900::/:/usr/sbin/nologin\n"}]},
  {"entries": [{"path": "etc/", "type": "dir"},
               {"path": "etc/passwd", "content": "root:x:0:0:root:/root:/bin/sh\n", "mode": "0640", "mtime": 1111111111}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 900
INI
	build_ok spec.ini
	assert_eq "$(newer out 2 latest cat etc/passwd --new)" "$(printf 'root:x:0:0:root:/root:/bin/sh\napp:x:900:999::/home/app:/usr/sbin/nologin')" passwd
	# the edited file keeps the header of the top-most base entry (layer 2's)
	assert_eq "$(newer out 2 latest get etc/passwd --new | jq -r '"\(.mode) \(.mtime) \(.uid):\(.gid)"')" "0640 1111111111 0:0" "passwd header"
	assert_eq "$(config out | jq -r .config.User)" 900 User
	newer out 2 latest check >/dev/null || fail "$(newer out 2 latest check)"
}

@test "C03 b: a whiteout of passwd frees uid 1200; passwd is created with a root line first; the user runs" {
	c03b base
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 1200
INI
	build_ok spec.ini
	local pw
	pw=$(newer out 2 latest cat etc/passwd --new)
	[[ "$(sed -n 1p <<<"$pw")" =~ ^root:[^:]*:0:0:[^:]*:/[^:]*:/[^:]*$ ]] || fail "passwd's first line is not a root line:" "$pw"
	assert_eq "$(sed -n '2,$p' <<<"$pw")" "app:x:1200:999::/home/app:/usr/sbin/nologin" "passwd after the root line"
	assert_not_contains "$pw" olduser
	entry_is out etc/passwd file 0:0 root:root 0644 "$EPOCH"
	assert_eq "$(newer out 2 latest cat etc/group --new)" "$(printf 'root:x:0:\nolduser:x:1200:\napp:x:999:')" group
	consumers_ok out
	run_as_user id
	[ "$status" -eq 0 ] || fail "id failed: $output"
	assert_eq "${output%% groups=*}" "uid=1200(app) gid=999(app)" "id in the image"
	[ ! -e bundle/rootfs/etc/motd ] || fail "etc/motd was deleted by a whiteout but umoci has it"
}

@test "C03 b: a path deleted by a whiteout does not exist for [sensitive]" {
	c03b base
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 1200
[sensitive]
/etc/motd = 600
INI
	expect_error_both spec.ini /etc/motd
}

@test "C03 b2: an opaque /etc hides layer 1's passwd, group and motd" {
	oci base <<JSON
{"images": [{"tag": "b2", "layers": [
  {"preset": "busybox", "entries": [
    {"path": "etc/passwd", "content": "$PASSWD_OLD"},
    {"path": "etc/group", "content": "$GROUP_OLD"},
    {"path": "etc/motd", "content": "hello\n"}]},
  {"entries": [{"path": "etc/", "type": "dir"}, {"path": "etc/.wh..wh..opq"},
               {"path": "etc/group", "content": "root:x:0:\n"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 1200
INI
	build_ok spec.ini
	local pw
	pw=$(newer out 2 latest cat etc/passwd --new)
	[[ "$(sed -n 1p <<<"$pw")" =~ ^root:[^:]*:0:0: ]] || fail "passwd's first line is not a root line:" "$pw"
	assert_eq "$(sed -n '2,$p' <<<"$pw")" "app:x:1200:999::/home/app:/usr/sbin/nologin" "passwd after the root line"
	assert_eq "$(newer out 2 latest cat etc/group --new)" "$(printf 'root:x:0:\napp:x:999:')" group
	consumers_ok out
	run_as_user id -un
	assert_eq "$output" app "id -un"
	# the opaque marker hides etc/motd: [sensitive] cannot find it
	spec bad.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 1200
[sensitive]
/etc/motd = 600
INI
	expect_error_both bad.ini /etc/motd
}

@test "/etc/group deleted by a whiteout then added again: the top-most group counts, its header kept" {
	oci base <<'JSON'
{"images": [{"tag": "g", "layers": [
  {"preset": "standard", "entries": [{"path": "etc/group", "content": "root:x:0:\nold:x:250:\n"}]},
  {"entries": [{"path": "etc/", "type": "dir"}, {"path": "etc/.wh.group"}]},
  {"entries": [{"path": "etc/", "type": "dir"},
               {"path": "etc/group", "content": "root:x:0:\nre:x:301:\n", "mode": "0640", "gid": 42, "gname": "shadow", "mtime": 1111111111}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
groups = re
INI
	build_ok spec.ini
	# gid: one below the lowest used in 101..999, 301 (old's 250 is gone with its file)
	assert_eq "$(newer out 3 latest cat etc/group --new)" "$(printf 'root:x:0:\nre:x:301:app\napp:x:300:')" group
	assert_eq "$(newer out 3 latest get etc/group --new | jq -r '"\(.mode) \(.uid):\(.gid) \(.gname) \(.mtime)"')" "0640 0:42 shadow 1111111111" "group header"
	consumers_ok out
	# 'old' was only in the deleted group file
	spec old.ini <<'INI'
[image]
base = oci:base
[user]
name = app
groups = old
INI
	expect_error_both old.ini old
	# gid 250 is free again
	spec gid.ini <<'INI'
[image]
base = oci:base
[user]
name = app
gid = 250
INI
	build_ok gid.ini out3
	assert_eq "$(newer out3 3 latest cat etc/group --new | tail -n1)" "app:x:250:" "new group line"
}

@test "a hard link in a base layer: conflict check reads through it; layers reused; umoci keeps the link" {
	oci base <<'JSON'
{"images": [{"tag": "h", "layers": [
  {"preset": "standard", "entries": [
    {"path": "usr/bin/", "type": "dir"},
    {"path": "usr/bin/perl", "content": "#!perl\n", "mode": "0755"},
    {"path": "usr/bin/perl5.36", "type": "hardlink", "linkname": "usr/bin/perl", "mode": "0755"}]},
  {"entries": [{"path": "etc/", "type": "dir"}, {"path": "etc/motd", "content": "hi\n"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
[files]
/usr/bin/tool = tool
INI
	echo tool >tool
	build_ok spec.ini
	assert_eq "$(out_manifest out | jq -r '.layers[0:2][].digest')" "$(base_digests base)" "base layers"
	consumers_ok out
	assert_eq "$(stat -c '%h %i' bundle/rootfs/usr/bin/perl)" "$(stat -c '%h %i' bundle/rootfs/usr/bin/perl5.36)" "link count and inode"
	assert_eq "$(stat -c %h bundle/rootfs/usr/bin/perl)" 2 "link count"
	assert_eq "$(cat bundle/rootfs/usr/bin/tool)" tool tool
}

@test "a DEST under a base symlink /lib -> usr/lib (relative and absolute) is written under usr/lib" {
	oci base <<'JSON'
{"images": [{"tag": "s", "layers": [
  {"preset": "standard", "entries": [{"path": "usr/lib/", "type": "dir"}]},
  {"entries": [{"path": "lib", "type": "symlink", "linkname": "usr/lib"},
               {"path": "lib64", "type": "symlink", "linkname": "/usr/lib"}]}]}]}
JSON
	echo so >x.so
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
[files]
/lib/app/x.so = x.so
/lib64/y/z.so = x.so
INI
	build_ok spec.ini
	local names
	names=$(newer out 2 latest list --new | cut -f2)
	assert_contains "$names" "usr/lib/app/x.so"
	assert_contains "$names" "usr/lib/y/z.so"
	! grep -E '^(lib|lib64)(/|$)' <<<"$names" || fail "a new layer writes through lib or lib64 as a folder:" "$names"
	newer out 2 latest check >/dev/null || fail "$(newer out 2 latest check)"
	consumers_ok out
	[ -L bundle/rootfs/lib ] || fail "lib is no longer a symlink after umoci unpack"
	[ -L bundle/rootfs/lib64 ] || fail "lib64 is no longer a symlink after umoci unpack"
	assert_eq "$(cat bundle/rootfs/usr/lib/app/x.so)" so "usr/lib/app/x.so"
	assert_eq "$(cat bundle/rootfs/usr/lib/y/z.so)" so "usr/lib/y/z.so"
}

# ---------------------------------------------------------------- finding the image

# multi_base: an image index tagged 'multi' with an amd64 and an arm64/v8 manifest, each
# with a file etc/arch naming its architecture.
multi_base() {
	oci base <<'JSON'
{"images": [{"tag": "multi", "platforms": [
  {"architecture": "amd64", "layers": [{"preset": "standard", "entries": [{"path": "etc/arch", "content": "amd64\n"}]}]},
  {"architecture": "arm64", "variant": "v8", "layers": [{"preset": "standard", "entries": [{"path": "etc/arch", "content": "arm64\n"}]}]}]}]}
JSON
	spec arm.ini <<'INI'
[image]
base = oci:base:multi
architecture = arm64
[user]
name = app
INI
}

@test "an image index with amd64 and arm64: architecture = arm64 picks the arm64 manifest" {
	multi_base
	build_ok arm.ini arm
	assert_eq "$(layers arm latest cat etc/arch)" arm64 "etc/arch of the arm64 build"
	assert_eq "$(out_manifest arm | jq -r '.layers[0].digest')" "$(jq -r '.images[0].manifests[1].layers[0].digest' base.json)" "base layer"
	assert_eq "$(out_manifest arm | jq -r '.annotations["org.opencontainers.image.base.digest"]')" "$(jq -r '.images[0].manifests[1].digest' base.json)" "base.digest (the arm64 manifest)"
	assert_eq "$(out_manifest arm | jq -r '.annotations["org.opencontainers.image.base.name"]')" multi "base.name"
	assert_eq "$(config arm | jq -r '"\(.os)/\(.architecture)"')" linux/arm64 platform
	check_image arm
	skopeo copy -q oci:arm:latest "oci:$T/c:latest" >/dev/null || fail "skopeo copy failed"
	oci-image-tool validate --type image --ref name=latest arm >/dev/null 2>&1 || fail "oci-image-tool validate failed"
}

@test "an image index: architecture = arm64 alone keeps the picked manifest's variant v8 in the config" {
	multi_base
	build_ok arm.ini arm
	assert_eq "$(config arm | jq -r '"\(.os)/\(.architecture)/\(.variant)"')" linux/arm64/v8 "platform (the spec sets no variant: the base's, v8)"
}

@test "an image index without architecture in the spec: the build host's manifest" {
	local host
	case "$(uname -m)" in x86_64) host=amd64 ;; aarch64) host=arm64 ;; *) skip "host $(uname -m) not in the index" ;; esac
	multi_base
	spec host.ini <<'INI'
[image]
base = oci:base:multi
[user]
name = app
INI
	build_ok host.ini hostout
	assert_eq "$(layers hostout latest cat etc/arch)" "$host" "etc/arch of the host build"
	assert_eq "$(config hostout | jq -r .architecture)" "$host" architecture
	[ "$host" != amd64 ] || assert_eq "$(out_manifest hostout | jq -r '.annotations["org.opencontainers.image.base.digest"]')" "$(jq -r '.images[0].manifests[0].digest' base.json)" "base.digest (the amd64 manifest)"
	consumers_ok hostout
}

@test "an image index without the asked platform: error listing the platforms it has" {
	oci base <<'JSON'
{"images": [{"tag": "multi", "platforms": [
  {"architecture": "amd64", "layers": [{"preset": "standard"}]},
  {"architecture": "arm64", "variant": "v8", "layers": [{"preset": "standard", "entries": [{"path": "etc/arch", "content": "arm64\n"}]}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base:multi
architecture = s390x
[user]
name = app
INI
	expect_error_both spec.ini s390x linux/amd64 linux/arm64 "spec.ini:2"
}

@test "a Docker manifest list with amd64 and arm64: architecture picks; output is OCI" {
	oci base <<'JSON'
{"images": [{"tag": "dl", "docker": true, "platforms": [
  {"architecture": "amd64", "layers": [{"preset": "standard", "entries": [{"path": "etc/arch", "content": "amd64\n"}]}]},
  {"architecture": "arm64", "variant": "v8", "layers": [{"preset": "standard", "entries": [{"path": "etc/arch", "content": "arm64\n"}]}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
architecture = arm64
[user]
name = app
INI
	build_ok spec.ini
	assert_eq "$(layers out latest cat etc/arch)" arm64 "etc/arch"
	out_manifest out | jq -e '.mediaType == "application/vnd.oci.image.manifest.v1+json" and .config.mediaType == "application/vnd.oci.image.config.v1+json" and all(.layers[]; .mediaType == "application/vnd.oci.image.layer.v1.tar+gzip")' >/dev/null ||
		fail "media types are not OCI:" "$(out_manifest out)"
	consumers_ok out
}

@test "C13 a: Docker media types: output manifest, config and layers are OCI; the layer blob is the same bytes" {
	oci base <<'JSON'
{"images": [{"tag": "d", "docker": true, "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["sh"]},
  "layers": [{"preset": "busybox"}, {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 10001
INI
	build_ok spec.ini
	local m
	m=$(out_manifest out)
	assert_eq "$(jq -r .mediaType <<<"$m")" application/vnd.oci.image.manifest.v1+json "manifest mediaType"
	assert_eq "$(jq -r .config.mediaType <<<"$m")" application/vnd.oci.image.config.v1+json "config mediaType"
	assert_eq "$(jq -r '[.layers[].mediaType] | unique | join(",")' <<<"$m")" application/vnd.oci.image.layer.v1.tar+gzip "layer mediaTypes"
	assert_eq "$(jq -c '[.layers[0:2][] | {digest, size}]' <<<"$m")" "$(jq -c '[.images[0].manifests[0].layers[] | {digest, size}]' base.json)" "base descriptors"
	jq -r '.manifests[].mediaType' out/index.json | grep -qx application/vnd.oci.image.manifest.v1+json || fail "index.json descriptor is not OCI"
	check_image out latest --base-layers 2
	consumers_ok out
	run_as_user id -u
	assert_eq "$output" 10001 "id -u"
}

@test "oci:DIR with one image and no tag needs none; base.name is its ref name" {
	oci base <<'JSON'
{"images": [{"tag": "only-one", "layers": [{"preset": "standard"}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
	build_ok spec.ini
	assert_eq "$(out_manifest out | jq -r '.annotations["org.opencontainers.image.base.name"]')" only-one base.name
	assert_eq "$(out_manifest out | jq -r '.annotations["org.opencontainers.image.base.digest"]')" "$(jq -r '.images[0].digest' base.json)" base.digest
}

# ---------------------------------------------------------------- errors leave OUT as it was

@test "a base layer blob with one byte changed (plain tar, still a valid tar): error naming the blob" {
	oci base <<'JSON'
{"images": [{"tag": "x", "layers": [
  {"preset": "standard"},
  {"compress": "none", "entries": [{"path": "srv/", "type": "dir"}, {"path": "srv/data", "content": "hello world\n"}]}],
  "corrupt": {"layer": 1, "how": "replace", "find": "hello world", "with": "jello world"}}]}
JSON
	local bad
	bad=$(base_digests base | sed -n 2p)
	python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).getmembers()' "base/blobs/sha256/${bad#sha256:}" || fail "the damaged layer should still be a readable tar"
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
	expect_error_both spec.ini "$bad"
}

@test "a gzip base layer with one byte changed, or one byte appended: error naming the blob" {
	for how in flip append; do
		rm -rf base base.json
		oci base <<JSON
{"images": [{"tag": "x", "layers": [
  {"preset": "standard"},
  {"entries": [{"path": "srv/", "type": "dir"}, {"path": "srv/data", "content": "hello world\n"}]}],
  "corrupt": {"layer": 1, "how": "$how"}}]}
JSON
		spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
		expect_error_both spec.ini "$(base_digests base | sed -n 2p)"
	done
}

@test "a damaged config or manifest blob: error naming it" {
	for what in config manifest; do
		rm -rf base base.json
		oci base <<JSON
{"images": [{"tag": "x", "layers": [{"preset": "standard"}], "corrupt": {"what": "$what", "how": "flip"}}]}
JSON
		local d
		if [ "$what" = config ]; then d=$(jq -r '.images[0].manifests[0].config' base.json); else d=$(jq -r '.images[0].digest' base.json); fi
		spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
		expect_error_both spec.ini "$d" "$what"
	done
}

@test "a manifest naming a missing layer blob: error naming the blob" {
	oci base <<'JSON'
{"images": [{"tag": "x", "layers": [{"preset": "standard"}, {"entries": [{"path": "srv/", "type": "dir"}]}], "missing": {"layer": 1}}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base:x
[user]
name = app
INI
	expect_error_both spec.ini "$(base_digests base | sed -n 2p)"
}

@test "a layout without the asked tag: error listing its tags" {
	oci base <<'JSON'
{"images": [{"tag": "one", "layers": [{"preset": "standard"}]},
            {"tag": "two", "layers": [{"preset": "standard", "entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base:three
[user]
name = app
INI
	expect_error_both spec.ini three one two "spec.ini:2"
}

@test "oci:DIR with two images and no tag: error listing the tags" {
	oci base <<'JSON'
{"images": [{"tag": "one", "layers": [{"preset": "standard"}]},
            {"tag": "two", "layers": [{"preset": "standard", "entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
	expect_error_both spec.ini one two "spec.ini:2"
}

@test "non-distributable, foreign and unknown layer media types: error naming the layer digest and type" {
	local mt
	for mt in application/vnd.oci.image.layer.nondistributable.v1.tar+gzip \
		application/vnd.docker.image.rootfs.foreign.diff.tar.gzip application/x-unknown-layer; do
		rm -rf base base.json
		oci base <<JSON
{"images": [{"tag": "x", "layers": [{"preset": "standard"}, {"entries": [{"path": "srv/", "type": "dir"}], "media_type": "$mt"}]}]}
JSON
		spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
		expect_error_both spec.ini "$(base_digests base | sed -n 2p)" "$mt"
	done
}

# ---------------------------------------------------------------- layers reused, config inherited

@test "base layers byte-identical: descriptors, diff_ids and history are a prefix; blobs hard-linked on one fs" {
	oci base <<'JSON'
{"images": [{"tag": "b", "layers": [
  {"preset": "standard", "created_by": "layer one"},
  {"compress": "none", "entries": [{"path": "srv/", "type": "dir"}], "created_by": "layer two"},
  {"compress": "zstd", "entries": [{"path": "opt/", "type": "dir"}], "created_by": "layer three"}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
[files]
/app/x = x
INI
	echo x >x
	build_ok spec.ini
	local m c bm bc
	m=$(out_manifest out)
	c=$(config out)
	bm=$(cat "base/blobs/sha256/$(jq -r '.images[0].digest' base.json | cut -d: -f2)")
	bc=$(cat "base/blobs/sha256/$(jq -r '.images[0].manifests[0].config' base.json | cut -d: -f2)")
	assert_eq "$(jq -c '.layers[0:3]' <<<"$m")" "$(jq -c '[.layers[] | {digest, mediaType, size}]' <<<"$bm")" "first three layer descriptors"
	assert_eq "$(jq '.layers | length' <<<"$m")" 5 "layer count (3 base + accounts + app)"
	assert_eq "$(jq -c '.rootfs.diff_ids[0:3]' <<<"$c")" "$(jq -c .rootfs.diff_ids <<<"$bc")" "diff_ids prefix"
	assert_eq "$(jq -c '.history[0:3]' <<<"$c")" "$(jq -c .history <<<"$bc")" "history prefix"
	local d
	for d in $(base_digests base); do
		assert_eq "$(stat -c %i "out/blobs/sha256/${d#sha256:}")" "$(stat -c %i "base/blobs/sha256/${d#sha256:}")" "inode of $d"
	done
	consumers_ok out latest --zstd
	check_image out latest --base-layers 3
}

@test "base on another file system (tmpfs): blobs are copied, same bytes" {
	[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm"
	[ "$(stat -f -c %T /dev/shm)" != "$(stat -f -c %T "$T")" ] || skip "/dev/shm is on the same kind of fs as $T"
	SHM=$(mktemp -d /dev/shm/ociuser-test.XXXXXX)
	oci "$SHM/base" <<'JSON'
{"images": [{"tag": "b", "layers": [{"preset": "standard"}]}]}
JSON
	spec spec.ini <<INI
[image]
base = oci:$SHM/base
[user]
name = app
INI
	build_ok spec.ini out
	local d
	d=$(base_digests "$SHM/base")
	cmp "$SHM/base/blobs/sha256/${d#sha256:}" "out/blobs/sha256/${d#sha256:}" || fail "the copied blob differs"
	assert_eq "$(stat -c %h "out/blobs/sha256/${d#sha256:}")" 1 "link count of a copied blob"
	assert_eq "$(layers out latest manifest | jq -r '.layers[0].digest')" "$d" "base layer digest"
	consumers_ok out
}

base_with_config() {
	oci base <<'JSON'
{"images": [{"tag": "cfg", "architecture": "arm64", "variant": "v8",
  "config": {"Env": ["PATH=/usr/bin:/bin", "HOME=/root", "LANG=C", "KEEP=1"],
             "Entrypoint": ["/bin/ep"], "Cmd": ["base-cmd"], "WorkingDir": "/srv",
             "Labels": {"a": "1", "b": "2"}, "ExposedPorts": {"80/tcp": {}},
             "Volumes": {"/data": {}}, "StopSignal": "SIGINT", "User": "nobody"},
  "layers": [{"preset": "standard", "entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
}

@test "config inherited: Env, Entrypoint, Cmd, WorkingDir, Labels, ExposedPorts, Volumes, StopSignal, platform; HOME replaced with a note" {
	base_with_config
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
uid = 10001
INI
	build_ok spec.ini
	local c
	c=$(config out)
	assert_eq "$(jq -c .config.Env <<<"$c")" '["PATH=/usr/bin:/bin","HOME=/home/app","LANG=C","KEEP=1"]' Env
	assert_eq "$(jq -c .config.Entrypoint <<<"$c")" '["/bin/ep"]' Entrypoint
	assert_eq "$(jq -c .config.Cmd <<<"$c")" '["base-cmd"]' Cmd
	assert_eq "$(jq -r .config.WorkingDir <<<"$c")" /srv WorkingDir
	assert_eq "$(jq -c .config.Labels <<<"$c")" '{"a":"1","b":"2"}' Labels
	assert_eq "$(jq -c .config.ExposedPorts <<<"$c")" '{"80/tcp":{}}' ExposedPorts
	assert_eq "$(jq -c .config.Volumes <<<"$c")" '{"/data":{}}' Volumes
	assert_eq "$(jq -r .config.StopSignal <<<"$c")" SIGINT StopSignal
	assert_eq "$(jq -r .config.User <<<"$c")" 10001 User
	assert_eq "$(jq -r '"\(.os)/\(.architecture)/\(.variant)"' <<<"$c")" linux/arm64/v8 platform
	# shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
	assert_contains "$stderr" HOME
	assert_eq "$(skopeo inspect --config oci:out:latest | jq -r .config.WorkingDir)" /srv "skopeo's WorkingDir"
	oci-image-tool validate --type image --ref name=latest out >/dev/null 2>&1 || fail "oci-image-tool validate failed"
}

@test "config overridden by the spec as Docker does: entrypoint clears the inherited Cmd, env by name, labels merged" {
	base_with_config
	spec spec.ini <<'INI'
[image]
base = oci:base
entrypoint = ["/bin/new"]
env = LANG=C.UTF-8
env = HOME=/srv
env = NEW=2
label = b=3
label = c=4
expose = 8080/udp
stop_signal = SIGTERM
workdir = /app
[user]
name = app
uid = 10001
INI
	build_ok spec.ini
	local c
	c=$(config out)
	assert_eq "$(jq -c .config.Entrypoint <<<"$c")" '["/bin/new"]' Entrypoint
	assert_eq "$(jq -c '.config.Cmd // null' <<<"$c")" null "Cmd (cleared by the spec's entrypoint)"
	assert_eq "$(jq -c .config.Env <<<"$c")" '["PATH=/usr/bin:/bin","HOME=/srv","LANG=C.UTF-8","KEEP=1","NEW=2"]' Env
	assert_eq "$(jq -c .config.Labels <<<"$c")" '{"a":"1","b":"3","c":"4"}' Labels
	assert_eq "$(jq -c .config.ExposedPorts <<<"$c")" '{"80/tcp":{},"8080/udp":{}}' ExposedPorts
	assert_eq "$(jq -c .config.Volumes <<<"$c")" '{"/data":{}}' Volumes
	assert_eq "$(jq -r .config.StopSignal <<<"$c")" SIGTERM StopSignal
	assert_eq "$(jq -r .config.WorkingDir <<<"$c")" /app WorkingDir
	assert_not_contains "$stderr" "HOME=/home/app"

	spec both.ini <<'INI'
[image]
base = oci:base
entrypoint = ["/bin/new"]
cmd = run
[user]
name = app
INI
	build_ok both.ini out2
	assert_eq "$(config out2 | jq -c '[.config.Entrypoint, .config.Cmd]')" '[["/bin/new"],["/bin/sh","-c","run"]]' "entrypoint and cmd both from the spec"

	spec cmd.ini <<'INI'
[image]
base = oci:base
cmd = ["x", "y"]
architecture = arm64
[user]
name = app
INI
	build_ok cmd.ini out3
	assert_eq "$(config out3 | jq -c '[.config.Entrypoint, .config.Cmd]')" '[["/bin/ep"],["x","y"]]' "inherited entrypoint, the spec's cmd"
}

@test "app-only change: base and accounts layers byte-identical, only the app layer differs; no empty layer" {
	oci base <<'JSON'
{"images": [{"tag": "b", "layers": [{"preset": "standard"}, {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	mkdir app
	echo v1 >app/main.py
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
[files]
/app = app/
INI
	build_ok spec.ini one
	echo v2 >app/main.py
	build_ok spec.ini two
	local a b
	a=$(out_manifest one | jq -r '.layers[].digest')
	b=$(out_manifest two | jq -r '.layers[].digest')
	assert_eq "$(wc -l <<<"$a")" 4 "layers (2 base + accounts + app)"
	assert_eq "$(sed -n 1,3p <<<"$b")" "$(sed -n 1,3p <<<"$a")" "base and accounts layers"
	[ "$(sed -n 4p <<<"$a")" != "$(sed -n 4p <<<"$b")" ] || fail "the app layer did not change"
	assert_eq "$(newer two 2 latest cat app/main.py)" v2 "app/main.py"
	# no [files]: one new layer, never an empty one
	spec nofiles.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
	build_ok nofiles.ini three
	assert_eq "$(layers three latest count)" 3 "layers without [files]"
	check_image three latest --base-layers 2
}

@test "no empty layer: a user the base already has, its home present, no [files]: only the base layers" {
	oci base <<'JSON'
{"images": [{"tag": "u", "layers": [{"preset": "standard", "entries": [
  {"path": "etc/passwd", "content": "root:x:0:0:root:/root:/bin/sh\nubuntu:x:1000:1000::/home/ubuntu:/bin/sh\n"},
  {"path": "etc/group", "content": "root:x:0:\nubuntu:x:1000:\n"},
  {"path": "home/", "type": "dir"}, {"path": "home/ubuntu/", "type": "dir", "uid": 1000, "gid": 1000, "mode": "0750"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = ubuntu
uid = 1000
INI
	build_ok spec.ini
	assert_eq "$(out_manifest out | jq -r '.layers[].digest')" "$(base_digests base)" "layers"
	assert_eq "$(config out | jq -r '.config.User')" 1000 User
	assert_eq "$(config out | jq '[.history[] | select(.empty_layer | not)] | length')" 1 "non-empty history entries"
	consumers_ok out
}

@test "a tarball base is a one-layer image: the same new layers as the oci: base holding that tar" {
	mkbase base.tar --preset standard --entry '{"path": "srv/", "type": "dir"}'
	oci base <<JSON
{"images": [{"tag": "t", "layers": [{"tar": "$T/base.tar", "compress": "gzip"}]}]}
JSON
	echo x >x
	for b in base.tar oci:base; do
		spec "${b%%[.:]*}-${b##*[.:]}.ini" <<INI
[image]
base = $b
[user]
name = app
[files]
/srv/x = x
INI
	done
	build_ok base-tar.ini tarout
	build_ok oci-base.ini ociout
	assert_eq "$(layers tarout latest manifest | jq -c '.layers[1:]')" "$(layers ociout latest manifest | jq -c '.layers[1:]')" "new layer descriptors"
	assert_eq "$(config tarout | jq -c .rootfs.diff_ids)" "$(config ociout | jq -c .rootfs.diff_ids)" "diff_ids"
}

@test "zstd and plain base layers are reused with their media types; skopeo copies the result" {
	oci base <<'JSON'
{"images": [{"tag": "z", "layers": [{"preset": "standard", "compress": "zstd"},
  {"compress": "none", "entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
	build_ok spec.ini
	assert_eq "$(out_manifest out | jq -r '.layers[0:2][].mediaType')" "$(printf 'application/vnd.oci.image.layer.v1.tar+zstd\napplication/vnd.oci.image.layer.v1.tar')" "media types"
	check_image out
	skopeo copy -q oci:out:latest "oci:$T/c:latest" >/dev/null || fail "skopeo copy failed"
}
