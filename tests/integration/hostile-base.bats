#!/usr/bin/env bats
# Hostile bases (issue "Hostile input and crash safety", class 1): a base tarball, or a
# layer of an oci: base, made by a stranger to trick ociuser into writing outside OUT,
# into an image that escapes its root, or into a broken layout. The archives are written
# byte by byte by lib/mkhostile.py ('..' and absolute names, the same path twice, lying
# pax records, damaged gzip, bombs); lib/mkoci.py makes the layouts and
# `mkhostile.py oci-layer` puts a hostile blob in one with every digest matching, so only
# the content is wrong. Every refusal must be exit 1 naming what is wrong, with OUT left
# byte for byte as it was (absent stays absent: expect_error_both). Every build that
# succeeds must have no entry with a '..' component, no absolute name in the layers
# ociuser writes, and must unpack with umoci inside its bundle.

load lib/common

setup() {
	common_setup
	mkdir -p "$T/src"
	printf 'print("hi")\n' >"$T/src/main.py"
}

hostile() { python3 "$LIB/mkhostile.py" "$@"; }

# two_layers DIR: an oci: layout tagged 'base' with the standard base in layer 0 and
# srv/ in layer 1 (layer 1 is the one tests replace with `hostile oci-layer`).
two_layers() {
	oci "$1" <<'JSON'
{"images": [{"tag": "base", "layers": [
  {"preset": "standard"},
  {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
}

# hspec FILE BASE [LINE...]: a spec with base BASE and user app, then the LINEs.
hspec() {
	local f=$1 base=$2
	shift 2
	{
		printf '[image]\nbase = %s\n[user]\nname = app\n' "$base"
		printf '%s\n' "$@"
	} >"$f"
}

# blob_digest FILE: sha256:HEX of FILE.
blob_digest() {
	echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

# no_escape OUT [N]: no entry of any layer has a '..' component in its name or hard
# link target, and the layers after the first N (the base's) have no absolute names.
no_escape() {
	local out=$1 n=${2:-1} bad
	bad=$(layers --base-layers "$n" "$out" latest json | jq -r --argjson n "$n" '.[] |
		select((.name | split("/") | any(. == "..")) or
		       (.type == "hardlink" and (.linkname | split("/") | any(. == ".."))) or
		       (.layer >= $n and ((.name | startswith("/")) or
		                          (.type == "hardlink" and (.linkname | startswith("/")))))) |
		"layer \(.layer): \(.name) -> \(.linkname)"')
	[ -z "$bad" ] || fail "entries that name a path outside the root:" "$bad"
}

# check_reused OUT: layers.py check, except that the base layer (0), reused byte for
# byte, may hold a path twice.
check_reused() {
	local problems
	problems=$(layers "$1" latest check | grep -v "^layer 0: '.*' appears [0-9]* times$" || true)
	[ -z "$problems" ] || fail "layers.py check failed:" "$problems"
}

# unpack_inside OUT: umoci unpacks OUT:latest into $T/bundle, and nothing appears in
# $T outside the bundle.
unpack_inside() {
	need_root
	local before after
	: >"$T/bundle.err"
	before=$(cd "$T" && find . -path ./bundle -prune -o -print | LC_ALL=C sort)
	rm -rf "$T/bundle"
	umoci unpack --image "$1:latest" "$T/bundle" >/dev/null 2>"$T/bundle.err" ||
		fail "umoci unpack failed: $(cat "$T/bundle.err")"
	after=$(cd "$T" && find . -path ./bundle -prune -o -print | LC_ALL=C sort)
	[ "$before" = "$after" ] || fail "umoci unpack wrote outside the bundle:" \
		"$(diff <(echo "$before") <(echo "$after"))"
}

# measured SPEC OUT: builds under /usr/bin/time -v with every file write capped at
# 64 MiB (prlimit --fsize: a bigger write kills the build with SIGXFSZ, status 153);
# sets status, stderr, RSS_KB (peak resident set) and SECS (wall clock).
measured() {
	local spec=$1 out=$2
	run --separate-stderr /usr/bin/time -v -o "$T/time.txt" \
		prlimit --fsize=$((64 << 20)) "$OCIUSER" build "$spec" -o "$out" --source-date-epoch "$EPOCH"
	RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T/time.txt")
	SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$T/time.txt" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	echo "# $(basename "$spec"): exit $status, ${SECS}s, peak RSS ${RSS_KB} KB" >&3
}

# bounded WHAT: the last measured build was not killed by the file size cap, kept its
# peak RSS under 200 MB (the binary is an ASan build) and took under 150 s.
bounded() {
	[ "$status" -ne 153 ] || fail "$1: killed by SIGXFSZ: it wrote a file over 64 MiB" "stderr: $stderr"
	[ "$status" -lt 128 ] || fail "$1: killed by signal $((status - 128))" "stderr: $stderr"
	[ "$RSS_KB" -lt 204800 ] || fail "$1: peak RSS ${RSS_KB} KB is over 200 MB"
	awk -v s="$SECS" 'BEGIN { exit !(s < 150) }' || fail "$1: took ${SECS}s"
}

# small_out OUT: OUT holds less than 16 MiB.
small_out() {
	local kb
	kb=$(du -sk "$1" | cut -f1)
	[ "$kb" -lt 16384 ] || fail "$1 holds ${kb} KB"
}

# ------------------------------------------------------------------ names

@test "hostile base: entries whose names have a '..' component are refused, naming the entry" {
	local name
	for name in '../evil' 'etc/../../evil' './../evil' 'usr/sbin/../../../evil' '/../etc/evil'; do
		hostile tar base.tar --entry "{\"path\": \"$name\", \"content\": \"x\"}"
		hspec spec.ini base.tar '[files]' '/app = src/'
		expect_error_both spec.ini "'$name'" "'..'" base.tar
	done
	# '..' itself, as a folder, in a gzip base
	hostile tar base.tgz --compress gzip --entry '{"path": "..", "type": "dir"}'
	hspec spec.ini base.tgz
	expect_error_both spec.ini "'..'" base.tgz
	# a hard link whose target climbs out
	hostile tar base.tar --entry '{"path": "etc/hl", "type": "hardlink", "linkname": "../../etc/shadow"}'
	hspec spec.ini base.tar
	expect_error_both spec.ini "'etc/hl'" "'../../etc/shadow'"
}

@test "hostile oci: base: '..' entries in a layer are refused, naming the entry and the layer" {
	# layer 0 written by mkoci.py (tarfile keeps the name as given)
	oci lay <<'JSON'
{"images": [{"tag": "base", "layers": [
  {"preset": "standard", "entries": [{"path": "../../evil", "content": "x"}]}]}]}
JSON
	hspec spec.ini oci:lay:base '[files]' '/app = src/'
	expect_error_both spec.ini "'../../evil'" "'..'" "oci:lay:base"
	# layer 1 replaced by a hostile tar: a hard link climbing out, digests all matching
	rm -rf lay
	two_layers lay
	hostile tar l1.tar --preset none --entry '{"path": "srv/hl", "type": "hardlink", "linkname": "srv/../../../etc/shadow"}'
	hostile oci-layer lay base 1 l1.tar
	expect_error_both spec.ini "'srv/hl'" "srv/../../../etc/shadow" "$(blob_digest l1.tar)"
}

@test "absolute names in a base are read as relative: the image stays inside its root" {
	# /etc/passwd (absolute, after the relative one: it wins) gives app uid 4242;
	# /srv/abs exists only under its absolute name and [sensitive] finds it.
	hostile tar base.tar \
		--entry '{"path": "/etc/passwd", "content": "root:x:0:0:root:/root:/bin/sh\napp:x:4242:4242::/srv:/usr/sbin/nologin\n"}' \
		--entry '{"path": "/srv/", "type": "dir"}' \
		--entry '{"path": "//srv//abs", "content": "abs\n"}' \
		--entry '{"path": "/etc/hl", "type": "hardlink", "linkname": "/etc/group"}'
	hspec spec.ini base.tar 'gid = 4242' '[files]' '/srv/app = src/' '[sensitive]' '/srv/abs = 600'
	build_ok spec.ini
	assert_eq "$(config out | jq -r .config.User)" 4242 User
	entry_is out srv/abs file 0:0 root:root 0600
	entry_is out srv/app/main.py file 4242:4242 app:app 0644
	check_reused out
	no_escape out
	unpack_inside out
	assert_eq "$(cat "$T/bundle/rootfs/srv/abs")" abs "srv/abs unpacked"
	[ -f "$T/bundle/rootfs/srv/app/main.py" ] || fail "srv/app/main.py not unpacked"
	# /etc/hl links to the base's /etc/group (the accounts layer replaces that name later)
	assert_eq "$(head -1 "$T/bundle/rootfs/etc/hl")" "root:x:0:" "etc/hl unpacked"
	# squashed, the one layer has relative names only
	spec squash.ini <<'INI'
[image]
base = base.tar
squash = true
[user]
name = app
gid = 4242
[files]
/srv/app = src/
INI
	build_ok squash.ini "$T/sq"
	assert_eq "$(layers "$T/sq" latest count)" 1 "layers when squashed"
	no_escape "$T/sq" 0
	layers "$T/sq" latest get srv/abs >/dev/null || fail "srv/abs missing from the squashed layer"
	check_image "$T/sq" --base-layers 0
}

# ------------------------------------------------------------------ symbolic links

@test "hostile base: symlink chains out of the root never carry a DEST, [sensitive], home or the accounts" {
	# DEST through a link to ../../..
	hostile tar base.tar --entry '{"path": "app", "type": "symlink", "linkname": "../../.."}'
	hspec spec.ini base.tar '[files]' '/app = src/'
	expect_error_both spec.ini "'/app'" "leads out of the image root"
	# a chain: app -> a -> b/c, b -> ../..
	hostile tar base.tar --entry '{"path": "a", "type": "symlink", "linkname": "b/c"}' \
		--entry '{"path": "b", "type": "symlink", "linkname": "../.."}' \
		--entry '{"path": "app", "type": "symlink", "linkname": "a"}'
	hspec spec.ini base.tar '[files]' '/app/x = src/main.py'
	expect_error_both spec.ini "'/app/x'" "'/b'" "leads out of the image root"
	# an absolute link that climbs: /srv -> /../../../../srv
	hostile tar base.tar --entry '{"path": "srv", "type": "symlink", "linkname": "/../../../../srv"}'
	hspec spec.ini base.tar '[files]' '/srv/x = src/main.py'
	expect_error_both spec.ini "'/srv/x'" "'/srv'" "leads out"
	# [sensitive] through a link
	hostile tar base.tar --entry '{"path": "lnk", "type": "symlink", "linkname": "../../../etc"}'
	hspec spec.ini base.tar '[sensitive]' '/lnk/passwd = 600'
	expect_error_both spec.ini "'/lnk/passwd'" "'/lnk'" "leads out"
	# home through a link
	hostile tar base.tar --entry '{"path": "h", "type": "symlink", "linkname": "../.."}'
	hspec spec.ini base.tar 'home = /h/app'
	expect_error_both spec.ini "'/h/app'" "'/h'" "leads out"
	# /etc itself a link out of the root: the accounts files would go through it
	hostile tar base.tar --preset none --entry '{"path": "./", "type": "dir"}' \
		--entry '{"path": "etc", "type": "symlink", "linkname": "../../.."}'
	hspec spec.ini base.tar
	expect_error_both spec.ini "'/etc/passwd'" "'/etc'" "leads out"
	# and /etc replaced by such a link after the folder (the same path twice)
	hostile tar base.tar --entry '{"path": "etc", "type": "symlink", "linkname": "/../../tmp"}'
	expect_error_both spec.ini "'/etc/passwd'" "'/etc'" "leads out"
	# /etc/login.defs a link out of the root
	hostile tar base.tar --entry '{"path": "etc/login.defs", "type": "symlink", "linkname": "../../../../etc/login.defs"}'
	expect_error_both spec.ini "'/etc/login.defs'" "leads out"
	# a loop
	hostile tar base.tar --entry '{"path": "a", "type": "symlink", "linkname": "b"}' \
		--entry '{"path": "b", "type": "symlink", "linkname": "a"}'
	hspec spec.ini base.tar '[files]' '/a/x = src/main.py'
	expect_error_both spec.ini "'/a/x'" "symbolic links"
}

@test "control: a base symlink that stays inside the root carries DEST (so the refusals above are targeted)" {
	hostile tar base.tar --entry '{"path": "data/", "type": "dir"}' \
		--entry '{"path": "srv", "type": "symlink", "linkname": "/data"}' \
		--entry '{"path": "opt/", "type": "dir"}' \
		--entry '{"path": "opt/lnk", "type": "symlink", "linkname": "../srv/sub/.."}'
	hspec spec.ini base.tar '[files]' '/srv/x = src/main.py' '/opt/lnk/y = src/main.py'
	build_ok spec.ini
	entry_is out data/x file 999:999 app:app 0644
	entry_is out data/y file 999:999 app:app 0644
	no_entry out srv/x
	no_entry out opt/lnk/y
	no_escape out
}

@test "hostile oci: base: an upper layer's symlink out of the root, alone or in a chain across layers, is refused" {
	oci lay <<'JSON'
{"images": [{"tag": "base", "layers": [
  {"preset": "standard"},
  {"entries": [{"path": "etc", "type": "symlink", "linkname": "../../../.."}]}]}]}
JSON
	hspec spec.ini oci:lay:base
	expect_error_both spec.ini "'/etc/passwd'" "'/etc'" "leads out"
	rm -rf lay
	oci lay <<'JSON'
{"images": [{"tag": "base", "layers": [
  {"preset": "standard", "entries": [{"path": "b", "type": "symlink", "linkname": "../.."}]},
  {"entries": [{"path": "app", "type": "symlink", "linkname": "b/x"}]}]}]}
JSON
	hspec spec.ini oci:lay:base '[files]' '/app/y = src/main.py'
	expect_error_both spec.ini "'/app/y'" "'/b'" "leads out"
}

# ------------------------------------------------------------------ accounts files

@test "an /etc/passwd, group or shadow that is a symlink or a hard link is refused, naming it" {
	local e file kind
	while IFS='|' read -r file kind e; do
		hostile tar base.tar --entry "$e"
		hspec spec.ini base.tar '[files]' '/app = src/'
		expect_error_both spec.ini "spec.ini:2: base 'base.tar'" "'/etc/$file'" "$kind"
	done <<'CASES'
passwd|symbolic link|{"path": "etc/passwd", "type": "symlink", "linkname": "group"}
passwd|symbolic link|{"path": "etc/passwd", "type": "symlink", "linkname": "../../../../etc/passwd"}
passwd|symbolic link|{"path": "etc/passwd", "type": "symlink", "linkname": "/etc/group"}
passwd|hard link|{"path": "etc/passwd", "type": "hardlink", "linkname": "etc/group"}
group|symbolic link|{"path": "etc/group", "type": "symlink", "linkname": "passwd"}
shadow|hard link|{"path": "etc/shadow", "type": "hardlink", "linkname": "etc/passwd"}
shadow|symbolic link|{"path": "etc/shadow", "type": "symlink", "linkname": "/../../etc/shadow"}
CASES
	# an oci: base whose upper layer turns passwd into a link
	oci lay <<'JSON'
{"images": [{"tag": "base", "layers": [
  {"preset": "standard"},
  {"entries": [{"path": "etc/", "type": "dir"},
               {"path": "etc/passwd", "type": "symlink", "linkname": "../../../etc/passwd"}]}]}]}
JSON
	hspec spec.ini oci:lay:base
	expect_error_both spec.ini "spec.ini:2: base 'oci:lay:base'" "'/etc/passwd'" "symbolic link"
}

@test "the same path twice: the later entry wins, and the passwd conflict check reads the later one" {
	local pw1='root:x:0:0:root:/root:/bin/sh\napp:x:4242:4242::/:/usr/sbin/nologin\n'
	local pw2='root:x:0:0:root:/root:/bin/sh\napp:x:5000:5000::/:/usr/sbin/nologin\n'
	# earlier app/4242 then app/5000: uid 4242 conflicts with the later one
	hostile tar base.tar --entry "{\"path\": \"etc/passwd\", \"content\": \"$pw1\"}" \
		--entry "{\"path\": \"etc/passwd\", \"content\": \"$pw2\"}"
	hspec spec.ini base.tar 'uid = 4242' '[files]' '/app = src/'
	expect_error_both spec.ini "'app'" 5000 4242
	# swapped (the later one absolute): app/4242 is reused as it is
	hostile tar base.tar --entry "{\"path\": \"etc/passwd\", \"content\": \"$pw2\"}" \
		--entry "{\"path\": \"/etc/passwd\", \"content\": \"$pw1\"}"
	rm -rf out
	build_ok spec.ini
	assert_eq "$(config out | jq -r .config.User)" 4242 User
	no_entry out etc/passwd # app/4242 exists as asked: passwd is not edited
	no_escape out
	check_reused out
	# a file, then a folder of the same name, then a file again: the last one is what
	# [sensitive] sees
	hostile tar base.tar --entry '{"path": "srv", "content": "one\n"}' \
		--entry '{"path": "srv/", "type": "dir"}' --entry '{"path": "srv", "content": "two\n"}'
	hspec spec.ini base.tar '[sensitive]' '/srv = 600'
	rm -rf out
	build_ok spec.ini
	entry_is out srv file 0:0 root:root 0600
	assert_eq "$(file_in out srv)" two "srv content"
	# the same in one layer of an oci: base
	rm -rf out
	two_layers lay
	hostile tar l1.tar --preset none --entry '{"path": "etc/", "type": "dir"}' \
		--entry "{\"path\": \"etc/passwd\", \"content\": \"$pw1\"}" \
		--entry "{\"path\": \"etc/passwd\", \"content\": \"$pw2\"}"
	hostile oci-layer lay base 1 l1.tar
	hspec spec.ini oci:lay:base 'uid = 4242'
	expect_error_both spec.ini "'app'" 5000 4242
}

# ------------------------------------------------------------------ hard links

@test "a hard link to a missing target, or to one that only comes later, is refused, naming the link" {
	# Consumers extract a tar in order: umoci unpack fails on such a link
	# ("unpack entry: etc/hl: link: no such file or directory"), so the image is broken.
	hostile tar base.tar --entry '{"path": "etc/hl", "type": "hardlink", "linkname": "etc/nonexistent"}'
	hspec spec.ini base.tar '[files]' '/app = src/'
	expect_error_both spec.ini "'etc/hl'" "etc/nonexistent"
	hostile tar base.tar --entry '{"path": "etc/hl", "type": "hardlink", "linkname": "etc/later"}' \
		--entry '{"path": "etc/later", "content": "x"}'
	expect_error_both spec.ini "'etc/hl'" "etc/later"
	two_layers lay
	hostile tar l1.tar --preset none --entry '{"path": "srv/", "type": "dir"}' \
		--entry '{"path": "srv/hl", "type": "hardlink", "linkname": "srv/none"}'
	hostile oci-layer lay base 1 l1.tar
	hspec spec.ini oci:lay:base
	expect_error_both spec.ini "'srv/hl'" "srv/none"
}

# ------------------------------------------------------------------ damaged archives

@test "truncated archives and bytes that are no archive are refused, naming the base" {
	local big
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	hostile tar good.tgz --compress gzip --entry "{\"path\": \"etc/zz\", \"content\": \"$big\"}"
	hostile damage good.tgz cut.tgz --how gzip-cut
	hostile tar short-header.tar --truncate 3000
	hostile tar short-data.tar --entry "{\"path\": \"etc/zz\", \"content\": \"$big\"}" --no-end --truncate 6000
	hostile tar short-xz.txz --compress xz --entry "{\"path\": \"etc/zz\", \"content\": \"$big\"}"
	head -c 200 short-xz.txz >cut.txz
	hostile garbage garbage.bin --size 4K
	gzip -n -c garbage.bin >garbage.gz
	: >empty.tar
	local b
	for b in cut.tgz short-header.tar short-data.tar cut.txz garbage.bin garbage.gz empty.tar; do
		hspec spec.ini "$b" '[files]' '/app = src/'
		expect_error_both spec.ini "'$b'"
	done
}

@test "a gzip base with a wrong trailer (CRC, length) or a flipped byte is refused, naming the base" {
	# libarchive does not check the gzip trailer; every Go consumer does: umoci unpack
	# fails with "gzip: invalid checksum" on the reused layer.
	local big
	big=$(head -c 3000 /dev/urandom | base64 -w0)
	hostile tar good.tgz --compress gzip --entry "{\"path\": \"etc/zz\", \"content\": \"$big\"}"
	hostile damage good.tgz crc.tgz --how gzip-crc
	hostile damage good.tgz isize.tgz --how gzip-isize
	hostile damage good.tgz flip.tgz --how flip-middle
	local b
	for b in crc.tgz isize.tgz flip.tgz; do
		! gzip -t "$b" 2>/dev/null || fail "$b should fail gzip -t"
		hspec spec.ini "$b" '[files]' '/app = src/'
		expect_error_both spec.ini "'$b'"
	done
}

@test "hostile oci: base: a layer cut short, garbage or a bad gzip CRC, with matching digests, is refused" {
	local big
	big=$(head -c 3000 /dev/urandom | base64 -w0)
	hostile tar l1.tgz --preset none --compress gzip --entry "{\"path\": \"srv/x\", \"content\": \"$big\"}"
	hostile damage l1.tgz cut.tgz --how gzip-cut
	hostile damage l1.tgz crc.tgz --how gzip-crc
	hostile garbage garbage.bin --size 4K
	# Cut inside srv/x's data (a layer that ends only without its padding is accepted,
	# as Go readers accept it: see tail.bats).
	hostile tar short.tar --preset none --entry "{\"path\": \"srv/x\", \"content\": \"$(head -c 400 /dev/zero | tr '\0' x)\"}" --truncate 700
	hspec spec.ini oci:lay:base
	local b
	for b in cut.tgz garbage.bin short.tar crc.tgz; do
		rm -rf lay
		two_layers lay
		hostile oci-layer lay base 1 "$b"
		expect_error_both spec.ini "layer $(blob_digest "$b")"
	done
}

@test "pax records with huge or negative sizes, and a ustar size past the data, are refused" {
	local v
	for v in 99999999999999999999999999 9223372036854775807 -1 -9223372036854775808; do
		hostile tar base.tar --entry "{\"path\": \"etc/zz\", \"content\": \"x\", \"pax\": {\"size\": \"$v\"}}"
		hspec spec.ini base.tar '[files]' '/app = src/'
		expect_error_both spec.ini "'base.tar'" "size"
	done
	hostile tar base.tar --entry '{"path": "etc/zz", "content": "x", "size": 8589934591}'
	expect_error_both spec.ini "'base.tar'" "'etc/zz'"
	# the same in an oci: base layer
	two_layers lay
	hostile tar l1.tar --preset none --entry '{"path": "srv/x", "content": "x", "pax": {"size": "-1"}}'
	hostile oci-layer lay base 1 l1.tar
	hspec spec.ini oci:lay:base
	expect_error_both spec.ini "layer $(blob_digest l1.tar)" "size"
}

@test "malformed pax records (a length past the header, a negative length, a size that is no number) are refused" {
	# libarchive skips these with a warning; Go's archive/tar (umoci, containerd,
	# podman) refuses them ("archive/tar: invalid tar header"), so a base reused byte for
	# byte with them is an image no consumer can unpack.
	local e
	while read -r e; do
		hostile tar base.tar --entry "$e"
		hspec spec.ini base.tar '[files]' '/app = src/'
		expect_error_both spec.ini "'base.tar'"
	done <<'CASES'
{"path": "etc/zz", "content": "x", "raw_pax": "999999999999 path=abc\n"}
{"path": "etc/zz", "content": "x", "raw_pax": "-5 path=abc\n"}
{"path": "etc/zz", "content": "x", "pax": {"size": "12abc"}}
CASES
}

@test "a name over 64 KiB in a pax record is refused, naming the entry; a 4000-byte name builds" {
	local long deep
	long="etc/$(head -c 70000 /dev/zero | tr '\0' n)"
	hostile tar base.tar --entry "{\"path\": \"$long\", \"content\": \"x\"}"
	hspec spec.ini base.tar '[files]' '/app = src/'
	expect_error_both spec.ini "'base.tar'" "etc/nnnnnnnnnnnnnnnnnnnn"
	# the same over many short components (no Linux path is longer than 4096 bytes)
	long="$(for _ in $(seq 7000); do printf 'dddddddd/'; done)f"
	hostile tar base.tar --entry "{\"path\": \"$long\", \"content\": \"x\"}"
	expect_error_both spec.ini "'base.tar'" "dddddddd/dddddddd/"
	# control: a 3984-byte name (15 folders of 249 bytes, a file of 230) builds and unpacks
	deep="srv/$(for _ in $(seq 15); do head -c 249 /dev/zero | tr '\0' d; printf /; done)$(head -c 230 /dev/zero | tr '\0' f)"
	hostile tar base.tar --entry '{"path": "srv/", "type": "dir"}' \
		--entry "{\"path\": \"$deep\", \"content\": \"deep\n\"}"
	rm -rf out
	build_ok spec.ini
	no_escape out
	unpack_inside out
	assert_eq "$(cat "$T/bundle/rootfs/$deep")" deep "the deep file"
}

# ------------------------------------------------------------------ bombs

@test "decompression bomb: 4 GiB of zeros in 4 MiB of gzip: bounded memory and time, nothing big on disk" {
	hostile bomb bomb.gz --size 4G
	[ "$(stat -c %s bomb.gz)" -lt $((5 << 20)) ] || fail "bomb.gz is $(stat -c %s bomb.gz) bytes"
	hspec spec.ini bomb.gz '[files]' '/app = src/'
	measured spec.ini "$T/out"
	bounded "4 GiB of zeros"
	# an empty tar with 4 GiB of padding is a valid (empty) root file system
	case "$status" in
	0) small_out "$T/out" ;;
	1) assert_contains "$stderr" "bomb.gz"; [ ! -e "$T/out" ] || fail "OUT left behind" ;;
	*) fail "exit $status" "$stderr" ;;
	esac
}

@test "decompression bomb: a 2 GiB file in a gzip base streams through; the base blob is reused" {
	hostile bomb bomb.gz --size 2G --shape file
	hspec spec.ini bomb.gz '[files]' '/app = src/'
	measured spec.ini "$T/out"
	bounded "2 GiB file"
	[ "$status" -eq 0 ] || fail "exit $status" "$stderr"
	small_out "$T/out"
	assert_eq "$(layers out latest manifest | jq -r '.layers[0].digest')" "$(blob_digest bomb.gz)" "base layer digest"
}

@test "decompression bomb: a 2 GiB /etc/passwd is refused, naming it, without copying it anywhere" {
	hostile bomb bomb.gz --size 2G --shape passwd
	mkdir -p "$T/tmp"
	hspec spec.ini bomb.gz '[files]' '/app = src/'
	TMPDIR=$T/tmp measured spec.ini "$T/out"
	bounded "2 GiB passwd"
	[ "$status" -eq 1 ] || fail "exit $status" "$stderr"
	assert_contains "$stderr" "/etc/passwd"
	[ ! -e "$T/out" ] || fail "OUT left behind"
	assert_eq "$(ls -A "$T/tmp")" "" "TMPDIR after the build"
}

@test "decompression bomb in an oci: base layer (2 GiB of zeros): bounded memory, blob linked not copied" {
	two_layers lay
	hostile bomb bomb.gz --size 2G
	hostile oci-layer lay base 1 bomb.gz
	hspec spec.ini oci:lay:base
	measured spec.ini "$T/out"
	bounded "oci 2 GiB of zeros"
	[ "$status" -eq 0 ] || fail "exit $status" "$stderr"
	small_out "$T/out"
	assert_eq "$(layers out latest manifest | jq -r '.layers[1].digest')" "$(blob_digest bomb.gz)" "layer 1 digest"
}

# ------------------------------------------------- the base layout's files themselves

# std_layout DIR: a one-image layout tagged 'v1' (standard base); sets LAYER, MANIFEST,
# CONFIG to the blob paths.
std_layout() {
	oci "$1" <<<'{"images":[{"tag":"v1","layers":[{"preset":"standard"}]}]}'
	LAYER=$1/blobs/sha256/$(jq -r '.images[0].manifests[0].layers[0].digest[7:]' "$1.json")
	MANIFEST=$1/blobs/sha256/$(jq -r '.images[0].digest[7:]' "$1.json")
	CONFIG=$1/blobs/sha256/$(jq -r '.images[0].manifests[0].config[7:]' "$1.json")
}

@test "a build never changes the base's files: a 0600 blob, or a symlinked blob's target, keeps its mode" {
	std_layout base
	hspec s.ini oci:base:v1
	chmod 600 "$LAYER"
	build_ok s.ini "$T/out1"
	assert_eq "$(stat -c %a "$LAYER")" 600 "the base's own blob"
	assert_eq "$(stat -c %a "$T/out1/blobs/sha256/${LAYER##*/}")" 644 "the copy in OUT"
	[ "$(stat -c %i "$LAYER")" != "$(stat -c %i "$T/out1/blobs/sha256/${LAYER##*/}")" ] ||
		fail "a 0600 blob was hard-linked into OUT"
	# a blob that is a symbolic link to a file outside the layout
	cp "$LAYER" "$T/elsewhere" && chmod 600 "$T/elsewhere" && ln -sf "$T/elsewhere" "$LAYER"
	build_ok s.ini "$T/out2"
	assert_eq "$(stat -c %a "$T/elsewhere")" 600 "the symlinked blob's target"
	[ -f "$T/out2/blobs/sha256/${LAYER##*/}" ] && [ ! -L "$T/out2/blobs/sha256/${LAYER##*/}" ] ||
		fail "the blob in OUT is not a regular file"
	# a 0644 regular blob is still shared (same inode), nothing about it changed
	rm "$LAYER" && cp "$T/elsewhere" "$LAYER" && chmod 644 "$LAYER"
	local before
	before=$(stat -c '%a %h' "$LAYER")
	build_ok s.ini "$T/out3"
	assert_eq "$(stat -c %i "$T/out3/blobs/sha256/${LAYER##*/}")" "$(stat -c %i "$LAYER")" "hard-linked 0644 blob"
	skopeo copy -q "oci:$T/out2:latest" "oci-archive:$T/x.tar" || fail "skopeo copy of out2"
}

@test "a blob, manifest, config, index.json or spec that is a FIFO or a device is refused at once" {
	local what f
	mkfifo "$T/fifo"
	for what in LAYER MANIFEST CONFIG; do
		rm -rf base base.json
		std_layout base
		f=${!what}
		rm "$f" && mkfifo "$f"
		hspec s.ini oci:base:v1
		run --separate-stderr timeout 30 "$OCIUSER" build s.ini -o "$T/out"
		[ "$status" -eq 1 ] || fail "$what as a FIFO: exit $status (124 is a hang): $stderr"
		assert_contains "$stderr" "not a regular file"
		assert_contains "$stderr" "${f##*/}"
		[ ! -e "$T/out" ] || fail "$what as a FIFO: OUT was created"
	done
	# a layer blob that is a symbolic link to /dev/zero (endless bytes)
	rm -rf base base.json
	std_layout base
	ln -sf /dev/zero "$LAYER"
	run --separate-stderr timeout 30 "$OCIUSER" build s.ini -o "$T/out"
	[ "$status" -eq 1 ] || fail "/dev/zero layer: exit $status: $stderr"
	assert_contains "$stderr" "not a regular file"
	# index.json and the spec itself
	rm -rf base base.json
	std_layout base
	rm base/index.json && mkfifo base/index.json
	run --separate-stderr timeout 30 "$OCIUSER" build s.ini -o "$T/out"
	[ "$status" -eq 1 ] || fail "index.json as a FIFO: exit $status: $stderr"
	assert_contains "$stderr" "not a regular file"
	run --separate-stderr timeout 30 "$OCIUSER" build "$T/fifo" -o "$T/out"
	[ "$status" -eq 1 ] || fail "a FIFO spec: exit $status: $stderr"
	assert_contains "$stderr" "$T/fifo: cannot read the spec: '$T/fifo' is not a regular file"
	[ ! -e "$T/out" ]
}

@test "a tag given twice in the base's index.json is an error: readers disagree on which image it means" {
	oci base <<<'{"images":[{"tag":"v1","layers":[{"preset":"standard"}]},{"tag":"v2","layers":[{"preset":"standard"}],"config":{"Env":["X=1"]}}]}'
	jq '.manifests |= map(.annotations["org.opencontainers.image.ref.name"] = "v1")' base/index.json >i && mv i base/index.json
	hspec s.ini oci:base:v1
	expect_error_both s.ini "s.ini:2:" "index.json has 2 images tagged 'v1'"
}

@test "a base config Env entry that is not NAME=VALUE is an error naming it (umoci and runc refuse it)" {
	local bad
	for bad in NOEQUALS =empty; do
		rm -rf base base.json
		oci base <<<"{\"images\":[{\"tag\":\"v1\",\"layers\":[{\"preset\":\"standard\"}],\"config\":{\"Env\":[\"PATH=/bin\",\"$bad\"]}}]}"
		hspec s.ini oci:base:v1
		expect_error_both s.ini "s.ini:2: base 'oci:base:v1'" "Env[1] '$bad' is not NAME=VALUE"
	done
}

@test "a base manifest or config over 4 MiB (what skopeo reads) is refused, never copied into an unreadable image" {
	python3 -c 'import json; print(json.dumps({"images":[{"tag":"v1","layers":[{"preset":"standard"}],"config":{"Env":["PATH=/bin"]+["V%d=%s" % (i, "x"*90) for i in range(50000)]}}]}))' >big.json
	oci base <big.json
	hspec s.ini oci:base:v1
	expect_error_both s.ini "s.ini:2:" "config" "larger than 4194304 bytes"
}

@test "a whiteout that names no entry (.wh., .wh.., .wh...) is refused, naming the layer and entry" {
	local w
	for w in .wh. .wh.. .wh...; do
		rm -rf base base.json
		oci base <<JSON
{"images":[{"tag":"v1","layers":[{"preset":"standard"},{"entries":[{"path":"etc/","type":"dir"},{"path":"etc/$w"}]}]}]}
JSON
		hspec s.ini oci:base:v1
		expect_error_both s.ini "s.ini:2:" "whiteout 'etc/$w' names no entry"
	done
}

@test "a base folder without a valid oci-layout file (missing, not JSON, another version, a link) is refused" {
	local how
	for how in missing garbage version link; do
		rm -rf base base.json
		std_layout base
		case $how in
		missing) rm base/oci-layout ;;
		garbage) echo garbage >base/oci-layout ;;
		version) echo '{"imageLayoutVersion":"9.9.9"}' >base/oci-layout ;;
		link) ln -sf /etc/passwd base/oci-layout ;;
		esac
		hspec s.ini oci:base:v1
		expect_error_both s.ini "s.ini:2: base 'oci:base:v1'" "oci-layout"
	done
}

@test "a manifest without a layers array, a config without diff_ids or with a relative WorkingDir is named" {
	# rewrite_json DIR BLOB JQ: stores JQ applied to the JSON blob BLOB as a new blob,
	# whose hex digest goes to NEW (whoever names BLOB must be rewritten to name NEW)
	rewrite_json() {
		jq -c "$3" "$1/blobs/sha256/$2" >"$T/new.json"
		NEW=$(sha256sum "$T/new.json" | cut -d' ' -f1)
		mv "$T/new.json" "$1/blobs/sha256/$NEW"
	}
	local case jq want
	for case in 'm|.layers = {}|has no '"'"'layers'"'"' array' \
		'c|del(.rootfs.diff_ids)|has no '"'"'rootfs.diff_ids'"'"' array' \
		'c|.config.WorkingDir = "../../etc"|WorkingDir '"'"'../../etc'"'"' is not an absolute path'; do
		rm -rf base base.json
		std_layout base
		jq=${case#*|}
		want=${jq#*|}
		jq=${jq%%|*}
		if [ "${case%%|*}" = c ]; then
			# the config: rewrite it, then the manifest that names it, then index.json
			rewrite_json base "${CONFIG##*/}" "$jq"
			rewrite_json base "${MANIFEST##*/}" ".config.digest = \"sha256:$NEW\" | .config.size = $(stat -c %s "base/blobs/sha256/$NEW")"
		else
			rewrite_json base "${MANIFEST##*/}" "$jq"
		fi
		jq --arg d "sha256:$NEW" --argjson s "$(stat -c %s "base/blobs/sha256/$NEW")" \
			'.manifests[0].digest = $d | .manifests[0].size = $s' base/index.json >i && mv i base/index.json
		hspec s.ini oci:base:v1
		expect_error_both s.ini "s.ini:2: base 'oci:base:v1'" "$want"
	done
}

@test "base = docker://... (or another skopeo transport) says how to fetch it" {
	hspec s.ini docker://python:3.12-slim
	expect_error_both s.ini "s.ini:2:" "skopeo copy docker://python:3.12-slim oci:base:latest"
}
