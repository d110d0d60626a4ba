#!/usr/bin/env bats
# squash = true over multi-layer oci: bases (issue 3): one layer holding the merged file
# system, whiteouts applied and gone, each path once, every header field of the base's
# entries kept. The layered build of the same spec is the reference: both are unpacked
# with umoci as root and compared with lib/treecmp.py; the squashed layer's headers are
# compared with the base's merged view (lib/mkoci.py --merged).

load lib/common

setup() {
	common_setup
}

# merged DIR TAG: the merged view of an image, as JSON (one element per path).
merged() {
	python3 "$LIB/mkoci.py" --merged "$1" "$2"
}

# unpack OUT TAG DIR: umoci unpack as root.
unpack() {
	need_root
	rm -rf "$3"
	umoci unpack --image "$1:$2" "$3" >/dev/null 2>"$3.err" || fail "umoci unpack $1:$2 failed: $(cat "$3.err")"
}

CAP=0100000200200000000000000000000000000000 # security.capability v2, cap_net_raw +ep
PASSWD_OLD='root:x:0:0:root:/root:/bin/sh\nolduser:x:1200:1200::/:/bin/false\n'
GROUP_OLD='root:x:0:\nolduser:x:1200:\n'

# rich_base DIR: three layers over a busybox userland with owners, setuid/setgid bits,
# a capability xattr, a device, hard links, symlinks, whiteouts of files and folders, an
# opaque folder, a replaced file and a folder whose header a later layer changes.
rich_base() {
	oci "$1" <<JSON
{"images": [{"tag": "rich", "config": {"Env": ["PATH=/usr/bin:/bin", "LANG=C"], "Cmd": ["sh"],
   "WorkingDir": "/srv", "Labels": {"a": "1"}, "StopSignal": "SIGINT", "ExposedPorts": {"80/tcp": {}}},
 "layers": [
  {"preset": "busybox", "entries": [
    {"path": "./", "type": "dir", "mtime": 1111111111},
    {"path": "etc/passwd", "content": "$PASSWD_OLD"},
    {"path": "etc/group", "content": "$GROUP_OLD", "mode": "0640", "mtime": 1222222222},
    {"path": "etc/motd", "content": "old motd\n"},
    {"path": "etc/hostname", "content": "box\n", "uid": 7, "gid": 8, "uname": "lp", "gname": "mail"},
    {"path": "usr/bin/", "type": "dir"},
    {"path": "usr/bin/ping", "mode": "0755", "content": "PING", "pax": {"SCHILY.xattr.security.capability": "hex:$CAP"}},
    {"path": "usr/bin/sudo", "mode": "4755", "content": "SUDO"},
    {"path": "usr/bin/wall", "mode": "2755", "gid": 5, "gname": "tty", "content": "WALL"},
    {"path": "usr/bin/perl", "mode": "0755", "content": "PERL"},
    {"path": "usr/bin/perl5.36", "type": "hardlink", "linkname": "usr/bin/perl", "mode": "0755"},
    {"path": "usr/lib/", "type": "dir"},
    {"path": "lib", "type": "symlink", "linkname": "usr/lib"},
    {"path": "dev/", "type": "dir"},
    {"path": "dev/null", "type": "char", "mode": "0666", "devmajor": 1, "devminor": 3},
    {"path": "var/", "type": "dir"}, {"path": "var/log/", "type": "dir", "mode": "2775", "uid": 100, "gid": 101, "uname": "syslog", "gname": "adm"},
    {"path": "opt/", "type": "dir"}, {"path": "opt/a", "content": "a"},
    {"path": "opt/gone/", "type": "dir"}, {"path": "opt/gone/f", "content": "f"},
    {"path": "opt/d/", "type": "dir", "mode": "0700", "uid": 5, "gid": 6},
    {"path": "opt/d/x", "content": "x", "uid": 5, "gid": 6, "uname": "u5", "gname": "g6"},
    {"path": "srv/", "type": "dir"}, {"path": "srv/old", "content": "old\n"}]},
  {"entries": [
    {"path": "etc/", "type": "dir"}, {"path": "etc/.wh.passwd"}, {"path": "etc/.wh.motd"},
    {"path": "opt/", "type": "dir"}, {"path": "opt/.wh.a"}, {"path": "opt/.wh.gone"},
    {"path": "opt/d/", "type": "dir", "mode": "0700", "uid": 5, "gid": 6},
    {"path": "opt/d/.wh..wh..opq"}, {"path": "opt/d/y", "content": "y", "mtime": 1300000000},
    {"path": "srv/", "type": "dir"}, {"path": "srv/old", "content": "new\n", "uid": 9, "gid": 9, "mtime": 1300000000},
    {"path": "usr/", "type": "dir"}, {"path": "usr/bin/", "type": "dir"}, {"path": "usr/bin/newtool", "content": "NT", "mode": "0755"}]},
  {"compress": "none", "entries": [
    {"path": "srv/", "type": "dir", "mode": "0750", "uid": 33, "gid": 33, "uname": "www-data", "gname": "www-data", "mtime": 1400000000},
    {"path": "etc/", "type": "dir"}, {"path": "etc/motd", "content": "new motd\n"},
    {"path": "opt/", "type": "dir"}, {"path": "opt/gone/", "type": "dir", "mode": "0711"}, {"path": "opt/gone/g", "content": "g"}]}]}]}
JSON
}

# rich_specs: spec.ini (layered) and squash.ini (squash = true), the same otherwise.
rich_specs() {
	mkdir -p app
	echo main >app/main.py
	echo so >x.so
	local sq
	for sq in false true; do
		spec "$([ $sq = true ] && echo squash || echo spec).ini" <<INI
[image]
base = oci:base
tag = $([ $sq = true ] && echo squashed || echo layered)
squash = $sq
[user]
name = app
uid = 1200
[files]
/srv/app = app/
/lib/app/x.so = x.so
[sensitive]
/usr/bin/ping = 0750
INI
	done
}

@test "squash equivalence: umoci unpacks the layered and the squashed image to the same tree" {
	rich_base base
	rich_specs
	build_ok spec.ini out
	build_ok squash.ini out
	assert_eq "$(layers out squashed count)" 1 "layers in the squashed image"
	unpack out layered layered
	unpack out squashed squashed
	run python3 "$LIB/treecmp.py" --mtime layered/rootfs squashed/rootfs
	[ "$status" -eq 0 ] || fail "the trees differ (A layered, B squashed):" "$output"
	# a sanity check that the comparison sees what matters
	[ ! -e squashed/rootfs/opt/a ] && [ ! -e squashed/rootfs/opt/gone/f ] && [ ! -e squashed/rootfs/opt/d/x ] ||
		fail "whiteouts not applied in the squashed tree"
	assert_eq "$(getfattr --absolute-names -n security.capability -e hex --only-values squashed/rootfs/usr/bin/ping 2>/dev/null | od -An -tx1 | tr -d ' \n')" "$CAP" "ping's capability after unpack"
	# the squashed image runs as its user
	local uid gid
	uid=$(jq -r .process.user.uid squashed/config.json)
	gid=$(jq -r .process.user.gid squashed/config.json)
	run env -i PATH=/bin "$(command -v chroot)" --userspec="$uid:$gid" --groups= squashed/rootfs id
	# (etc/group is 0640 in this base, so the user cannot read its group's name)
	[[ "$output" == "uid=1200(app) gid=999"* ]] || fail "id in the squashed image: $output"
	skopeo copy -q oci:out:squashed "oci:$T/copy:squashed" >/dev/null || fail "skopeo copy failed"
	oci-image-tool validate --type image --ref name=squashed out >/dev/null 2>&1 || fail "oci-image-tool validate failed"
}

@test "squash keeps the base's config (Env, Cmd, WorkingDir, Labels, StopSignal, ExposedPorts) as the layered build does" {
	rich_base base
	rich_specs
	build_ok spec.ini out
	build_ok squash.ini out
	local a b
	a=$(config out layered | jq -S 'del(.rootfs, .history)')
	b=$(config out squashed | jq -S 'del(.rootfs, .history)')
	assert_eq "$b" "$a" "squashed config (without rootfs and history) vs the layered one"
	assert_eq "$(config out squashed | jq -c .config.Cmd)" '["sh"]' "squashed Cmd"
}

@test "the squashed layer: one layer, no .wh. names, each path once, parents and hard links in order; reproducible" {
	rich_base base
	rich_specs
	build_ok squash.ini out
	local first=$DIGEST
	run layers out squashed --base-layers 0 check
	[ "$status" -eq 0 ] || fail "layers.py check (every layer counted as new):" "$output"
	run layers out squashed list
	! grep -E '(^|/)\.wh\.' <<<"$(cut -f2 <<<"$output")" || fail "a .wh. name in the squashed layer"
	assert_eq "$(cut -f2 <<<"$output" | sed 's,/$,,' | sort | uniq -d)" "" "paths written twice"
	assert_eq "$(layers out squashed list | cut -f2 | grep -c '^usr/bin/ping$')" 1 "usr/bin/ping entries"
	rm -rf out
	build_ok squash.ini out
	assert_eq "$DIGEST" "$first" "digest of a second squashed build"
}

@test "squash keeps every header field of every base entry in the merged view (owners, modes, setuid, xattrs, mtimes, links, devices, ./)" {
	rich_base base
	rich_specs
	build_ok squash.ini out
	merged base rich >base.view
	merged out squashed >out.view
	# paths ociuser writes itself: the accounts files it creates or edits, the home,
	# [files] and [sensitive]
	local mine='["etc/passwd", "etc/group", "home", "home/app", "srv/app", "srv/app/main.py", "usr/lib/app", "usr/lib/app/x.so", "usr/bin/ping"]'
	jq -S --argjson mine "$mine" '[.[] | select(.path as $p | $mine | index($p) | not)]' base.view >a
	jq -S --argjson mine "$mine" '[.[] | select(.path as $p | $mine | index($p) | not)]' out.view >b
	diff <(jq -c '.[]' a) <(jq -c '.[]' b) >d || fail "base entries differ in the squashed layer (< base's merged view, > squashed):" "$(cat d)"
	# [sensitive] on a base entry: only the mode changes
	assert_eq "$(jq -c '.[] | select(.path == "usr/bin/ping") | .mode = "0750"' base.view)" \
		"$(jq -c '.[] | select(.path == "usr/bin/ping")' out.view)" "usr/bin/ping"
	# the edited group keeps the base header; only the content changes
	assert_eq "$(jq -c '.[] | select(.path == "etc/group") | del(.sha256)' base.view)" \
		"$(jq -c '.[] | select(.path == "etc/group") | del(.sha256)' out.view)" "etc/group header"
}

@test "C10: squash keeps security.capability and every other field of usr/bin/ping" {
	mkbase base.tar --entry "{\"path\": \"usr/bin/\", \"type\": \"dir\"}" \
		--entry "{\"path\": \"usr/bin/ping\", \"mode\": \"0755\", \"content\": \"PING\", \"pax\": {\"SCHILY.xattr.security.capability\": \"hex:$CAP\"}}"
	oci base <<JSON
{"images": [{"tag": "c10", "layers": [{"tar": "$T/base.tar"}, {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
squash = true
[user]
name = app
INI
	build_ok spec.ini
	assert_eq "$(layers out latest count)" 1 layers
	local j
	j=$(layers out latest get usr/bin/ping)
	assert_eq "$(jq -r '"\(.type) \(.uid):\(.gid) \(.uname):\(.gname) \(.mode) \(.mtime) \(.size)"' <<<"$j")" "file 0:0 root:root 0755 1234567890 4" "ping's header"
	assert_eq "$(layers out latest cat usr/bin/ping)" PING "ping's content"
	python3 - out <<PY || fail "the squashed ping lacks the 20 capability bytes"
import gzip, io, json, sys, tarfile
out = sys.argv[1]
idx = json.load(open(out + "/index.json"))
man = json.load(open(out + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
data = open(out + "/blobs/sha256/" + man["layers"][0]["digest"][7:], "rb").read()
if data[:2] == b"\x1f\x8b":
    data = gzip.decompress(data)
tf = tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
m = tf.getmember("usr/bin/ping")
v = m.pax_headers.get("SCHILY.xattr.security.capability", "")
sys.exit(0 if v.encode("utf-8", "surrogateescape") == bytes.fromhex("$CAP") else 1)
PY
	unpack out latest bundle
	assert_eq "$(getfattr --absolute-names -n security.capability -e hex --only-values bundle/rootfs/usr/bin/ping 2>/dev/null | od -An -tx1 | tr -d ' \n')" "$CAP" "capability after umoci unpack"
}

@test "C03 d / C15: squash over the whiteout base: one layer, no .wh. names, no olduser, passwd and group as in (b)" {
	oci base <<JSON
{"images": [{"tag": "b", "layers": [
  {"preset": "none", "entries": [
    {"path": "etc/", "type": "dir"}, {"path": "usr/", "type": "dir"}, {"path": "usr/sbin/", "type": "dir"},
    {"path": "usr/sbin/nologin", "mode": "0755", "content": "#!/bin/sh\nexit 1\n"},
    {"path": "etc/passwd", "content": "$PASSWD_OLD"}, {"path": "etc/group", "content": "$GROUP_OLD"}]},
  {"entries": [{"path": "etc/", "type": "dir"}, {"path": "etc/.wh.passwd"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
squash = true
[user]
name = app
uid = 1200
INI
	build_ok spec.ini
	assert_eq "$(layers out latest count)" 1 layers
	run layers out latest list
	! grep -E '(^|/)\.wh\.' <<<"$(cut -f2 <<<"$output")" || fail "a .wh. name in the squashed layer:" "$output"
	# the deleted passwd's olduser line is nowhere (group keeps its own olduser line, as in (b))
	! layers out latest raw 0 | grep -a -q 'olduser:x:1200:1200' || fail "the deleted passwd's olduser line is in the squashed layer"
	local pw
	pw=$(layers out latest cat etc/passwd)
	[[ "$(sed -n 1p <<<"$pw")" =~ ^root:[^:]*:0:0: ]] || fail "passwd's first line is not a root line:" "$pw"
	assert_eq "$(sed -n '2,$p' <<<"$pw")" "app:x:1200:999::/home/app:/usr/sbin/nologin" "passwd after the root line"
	assert_eq "$(layers out latest cat etc/group)" "$(printf 'root:x:0:\nolduser:x:1200:\napp:x:999:')" group
	run layers out latest --base-layers 0 check
	[ "$status" -eq 0 ] || fail "layers.py check:" "$output"
	unpack out latest bundle
	[ ! -e bundle/rootfs/etc/.wh.passwd ] || fail "umoci left a .wh. file"
}

@test "C14: squash keeps a base hard link (usr/bin/perl5.36 -> usr/bin/perl), relative, after its target" {
	oci base <<'JSON'
{"images": [{"tag": "p", "layers": [
  {"preset": "standard", "entries": [{"path": "usr/bin/", "type": "dir"},
    {"path": "usr/bin/perl", "mode": "0755", "content": "PERL"},
    {"path": "usr/bin/perl5.36", "type": "hardlink", "linkname": "usr/bin/perl", "mode": "0755"}]},
  {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
squash = true
[user]
name = app
INI
	build_ok spec.ini
	assert_eq "$(layers out latest get usr/bin/perl5.36 | jq -r '"\(.type) \(.linkname) \(.size)"')" "hardlink usr/bin/perl 0" "perl5.36"
	local names
	names=$(layers out latest list | cut -f2)
	local t l
	t=$(grep -n -x usr/bin/perl <<<"$names" | cut -d: -f1)
	l=$(grep -n -x usr/bin/perl5.36 <<<"$names" | cut -d: -f1)
	[ -n "$t" ] && [ -n "$l" ] && [ "$t" -lt "$l" ] || fail "the link does not come after its target:" "$names"
	unpack out latest bundle
	assert_eq "$(stat -c %h bundle/rootfs/usr/bin/perl5.36)" 2 "link count after umoci unpack"
}

@test "squash: a base hard link to etc/passwd, which ociuser rewrites, keeps the base's content" {
	oci base <<'JSON'
{"images": [{"tag": "h", "layers": [
  {"preset": "standard", "entries": [{"path": "etc/passwd.bak", "type": "hardlink", "linkname": "etc/passwd"}]},
  {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	spec layered.ini <<'INI'
[image]
base = oci:base
tag = layered
[user]
name = app
INI
	spec squash.ini <<'INI'
[image]
base = oci:base
tag = squashed
squash = true
[user]
name = app
INI
	build_ok layered.ini out
	build_ok squash.ini out
	run layers out squashed --base-layers 0 check
	[ "$status" -eq 0 ] || fail "layers.py check of the squashed image:" "$output"
	unpack out layered layered
	unpack out squashed squashed
	run python3 "$LIB/treecmp.py" --mtime layered/rootfs squashed/rootfs
	[ "$status" -eq 0 ] || fail "the trees differ (A layered, B squashed):" "$output"
	assert_not_contains "$(cat squashed/rootfs/etc/passwd.bak)" "app:"
}

# both_ways: builds the spec body on stdin ([user] and below) over oci:base twice into
# out, 'layered' (squash = false) and 'squashed' (squash = true); checks the squashed
# image with layers.py (every layer new: parents before children, hard links after their
# targets, each path once); unpacks both with umoci as root and compares the trees.
both_ways() {
	local body sq
	body=$(cat)
	for sq in false true; do
		spec "$sq.ini" <<INI
[image]
base = oci:base
tag = $([ $sq = true ] && echo squashed || echo layered)
squash = $sq
$body
INI
	done
	build_ok false.ini out
	build_ok true.ini out
	run layers out squashed --base-layers 0 check
	[ "$status" -eq 0 ] || fail "layers.py check of the squashed image:" "$output"
	assert_eq "$(layers out squashed list | cut -f2 | sed 's,/$,,' | sort | uniq -d)" "" "paths written twice"
	unpack out layered layered
	unpack out squashed squashed
	run python3 "$LIB/treecmp.py" --mtime layered/rootfs squashed/rootfs
	[ "$status" -eq 0 ] || fail "the trees differ (A layered, B squashed):" "$output"
}

# perl_base LINK2: usr/bin/perl ("P") with hard links perl5 -> perl and perl5.36 -> LINK2.
perl_base() {
	oci base <<JSON
{"images": [{"tag": "p", "layers": [
  {"preset": "standard", "entries": [{"path": "usr/bin/", "type": "dir"},
    {"path": "usr/bin/perl", "mode": "0755", "content": "P", "mtime": 1300000000},
    {"path": "usr/bin/perl5", "type": "hardlink", "linkname": "usr/bin/perl", "mode": "0755", "mtime": 1300000000},
    {"path": "usr/bin/perl5.36", "type": "hardlink", "linkname": "$1", "mode": "0755", "mtime": 1300000000}]},
  {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
}

@test "squash: a [files] DEST over a base file with hard links: the first link holds the old content, the next links to it" {
	perl_base usr/bin/perl
	echo new >x
	both_ways <<'INI'
[user]
name = app
[files]
/usr/bin/perl = x
INI
	assert_eq "$(cat squashed/rootfs/usr/bin/perl)" new "the replaced perl"
	assert_eq "$(cat squashed/rootfs/usr/bin/perl5)" P "perl5 keeps the base's content"
	assert_eq "$(stat -c %i squashed/rootfs/usr/bin/perl5.36)" "$(stat -c %i squashed/rootfs/usr/bin/perl5)" "perl5.36 and perl5 share an inode"
	assert_eq "$(stat -c %h squashed/rootfs/usr/bin/perl5)" 2 "perl5's link count"
	assert_eq "$(layers out squashed get usr/bin/perl5 | jq -r '"\(.type) \(.size) \(.mode) \(.mtime)"')" "file 1 0755 1300000000" "perl5 in the squashed layer"
	assert_eq "$(layers out squashed get usr/bin/perl5.36 | jq -r '"\(.type) \(.linkname)"')" "hardlink usr/bin/perl5" "perl5.36 in the squashed layer"
}

@test "squash: a link to a link (perl5.36 -> perl5 -> perl), perl and perl5 replaced: the last name holds the old content" {
	perl_base usr/bin/perl5
	echo new >x
	echo new5 >x5
	both_ways <<'INI'
[user]
name = app
[files]
/usr/bin/perl = x
/usr/bin/perl5 = x5
INI
	assert_eq "$(cat squashed/rootfs/usr/bin/perl5.36)" P "perl5.36 keeps the base's content"
	assert_eq "$(cat squashed/rootfs/usr/bin/perl5)" new5 "the replaced perl5"
	assert_eq "$(stat -c %h squashed/rootfs/usr/bin/perl5.36)" 1 "perl5.36's link count"
	assert_eq "$(layers out squashed get usr/bin/perl5.36 | jq -r '"\(.type) \(.size)"')" "file 1" "perl5.36 in the squashed layer"
}

@test "squash: a link to a link (perl5.36 -> perl5 -> perl), perl5 replaced: perl5.36 still links to perl" {
	perl_base usr/bin/perl5
	echo new5 >x5
	both_ways <<'INI'
[user]
name = app
[files]
/usr/bin/perl5 = x5
INI
	assert_eq "$(stat -c %i squashed/rootfs/usr/bin/perl5.36)" "$(stat -c %i squashed/rootfs/usr/bin/perl)" "perl5.36 and perl share an inode"
	assert_eq "$(cat squashed/rootfs/usr/bin/perl5.36)" P "perl5.36"
}

@test "squash: [sensitive] on a base file with hard links changes the file; the links keep the old mode" {
	perl_base usr/bin/perl
	both_ways <<'INI'
[user]
name = app
[sensitive]
/usr/bin/perl = 0700
INI
	assert_eq "$(stat -c %a squashed/rootfs/usr/bin/perl)" 700 "perl's mode"
	assert_eq "$(stat -c %a squashed/rootfs/usr/bin/perl5)" 755 "perl5's mode"
	assert_eq "$(cat squashed/rootfs/usr/bin/perl5.36)" P "perl5.36"
	assert_eq "$(stat -c %i squashed/rootfs/usr/bin/perl5.36)" "$(stat -c %i squashed/rootfs/usr/bin/perl5)" "perl5.36 and perl5 share an inode"
}

@test "squash: etc/passwd with two base hard links (passwd-, passwd.bak): both keep the base's content, as one file" {
	oci base <<'JSON'
{"images": [{"tag": "h", "layers": [
  {"preset": "standard", "entries": [{"path": "etc/passwd-", "type": "hardlink", "linkname": "etc/passwd"},
    {"path": "etc/passwd.bak", "type": "hardlink", "linkname": "etc/passwd"}]},
  {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	both_ways <<'INI'
[user]
name = app
INI
	assert_contains "$(cat squashed/rootfs/etc/passwd)" "app:"
	assert_not_contains "$(cat squashed/rootfs/etc/passwd-)" "app:"
	assert_contains "$(cat squashed/rootfs/etc/passwd-)" "root:x:0:0:"
	assert_eq "$(stat -c %i squashed/rootfs/etc/passwd.bak)" "$(stat -c %i squashed/rootfs/etc/passwd-)" "passwd.bak and passwd- share an inode"
}

@test "squash: [sensitive] on base folders (nested /usr/sbin, root-level /etc) writes them among the folders, before their children, once" {
	oci base <<'JSON'
{"images": [{"tag": "s", "layers": [
  {"preset": "standard", "entries": [{"path": "usr/sbin/", "type": "dir", "uid": 3, "gid": 4, "mtime": 1300000000},
    {"path": "usr/sbin/tool", "content": "T"}, {"path": "etc/", "type": "dir", "mtime": 1300000001}]},
  {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	echo new >x
	both_ways <<'INI'
[user]
name = app
[files]
/usr/sbin/new = x
[sensitive]
/usr/sbin = 0750
/etc = 0751
INI
	merged base s >base.view
	merged out squashed >out.view
	local p
	for p in usr/sbin:0750 etc:0751; do
		assert_eq "$(jq -c --arg p "${p%:*}" --arg m "${p#*:}" '.[] | select(.path == $p) | .mode = $m' base.view)" \
			"$(jq -c --arg p "${p%:*}" '.[] | select(.path == $p)' out.view)" "${p%:*}: the base's header with the new mode"
	done
	# both in the base's folders pass, before any other entry
	local names first_other at
	names=$(layers out squashed list | cut -f2,3)
	first_other=$(awk -F'\t' '$2 != "dir" {print NR; exit}' <<<"$names")
	for p in usr/sbin etc; do
		at=$(awk -F'\t' -v p="$p" '$1 == p {print NR}' <<<"$names")
		[ -n "$at" ] && [ "$at" -lt "$first_other" ] || fail "'$p' is not in the folders pass:" "$names"
	done
}

@test "squash: a base hard link whose target a later layer replaced is an error (known limitation); OUT unchanged" {
	oci base <<'JSON'
{"images": [{"tag": "h", "layers": [
  {"preset": "standard", "entries": [{"path": "usr/bin/", "type": "dir"},
    {"path": "usr/bin/perl", "mode": "0755", "content": "PERL"},
    {"path": "usr/bin/perl5.36", "type": "hardlink", "linkname": "usr/bin/perl", "mode": "0755"}]},
  {"entries": [{"path": "usr/", "type": "dir"}, {"path": "usr/bin/", "type": "dir"},
    {"path": "usr/bin/perl", "mode": "0755", "content": "NEW PERL"}]}]}]}
JSON
	spec spec.ini <<'INI'
[image]
base = oci:base
squash = true
[user]
name = app
INI
	expect_error_both spec.ini usr/bin/perl5.36
	# the same base without squash builds: its layers are reused as they are
	spec layered.ini <<'INI'
[image]
base = oci:base
[user]
name = app
INI
	build_ok layered.ini ok
	unpack ok latest bundle
	assert_eq "$(cat bundle/rootfs/usr/bin/perl5.36)" PERL "the link keeps layer 1's content"
	assert_eq "$(cat bundle/rootfs/usr/bin/perl)" "NEW PERL" "the replaced target"
}

@test "squash: a DEST under a base symlink /lib -> usr/lib is written under usr/lib; lib stays a link" {
	oci base <<'JSON'
{"images": [{"tag": "s", "layers": [
  {"preset": "standard", "entries": [{"path": "usr/lib/", "type": "dir"}]},
  {"entries": [{"path": "lib", "type": "symlink", "linkname": "usr/lib"}]}]}]}
JSON
	echo so >x.so
	spec spec.ini <<'INI'
[image]
base = oci:base
squash = true
[user]
name = app
[files]
/lib/app/x.so = x.so
INI
	build_ok spec.ini
	assert_eq "$(layers out latest get lib | jq -r '"\(.type) \(.linkname)"')" "symlink usr/lib" lib
	layers out latest get usr/lib/app/x.so >/dev/null || fail "no usr/lib/app/x.so"
	run layers out latest --base-layers 0 check
	[ "$status" -eq 0 ] || fail "layers.py check:" "$output"
	unpack out latest bundle
	[ -L bundle/rootfs/lib ] || fail "lib is not a symlink after unpack"
	assert_eq "$(cat bundle/rootfs/lib/app/x.so)" so x.so
}

@test "treecmp.py itself: each kind of difference is reported (so equivalence checks can fail)" {
	need_root
	mkdir -p a/d
	echo x >a/f
	ln a/f a/hl
	ln -s f a/s
	setfattr -n user.k -v 1 a/f
	local what
	for what in content owner mode xattr target hardlink missing root; do
		rm -rf b
		cp -a a b
		case $what in
		content) echo y >b/f ;;
		owner) chown 5:6 b/d ;;
		mode) chmod 4755 b/f ;;
		xattr) setfattr -n user.k -v 2 b/f ;;
		target) rm b/s && ln -s hl b/s ;;
		hardlink) rm b/hl && cp -a b/f b/hl ;;
		missing) rm b/d -r ;;
		root) chmod 0700 b ;;
		esac
		run python3 "$LIB/treecmp.py" a b
		[ "$status" -eq 1 ] && [ -n "$output" ] || fail "treecmp.py missed a $what difference (status $status)"
	done
	rm -rf b && cp -a a b
	run python3 "$LIB/treecmp.py" a b
	[ "$status" -eq 0 ] || fail "treecmp.py reports equal trees as different:" "$output"
}

@test "squash: [sensitive] on the home and /etc/passwd: written once, with the new modes, as in the layered image" {
	oci base <<'JSON'
{"images": [{"tag": "s", "layers": [{"preset": "standard"}, {"entries": [{"path": "srv/", "type": "dir"}]}]}]}
JSON
	both_ways <<'INI'
[user]
name = app
[sensitive]
/home/app = 0700
/etc/passwd = 0600
INI
	assert_eq "$(stat -c %a squashed/rootfs/home/app squashed/rootfs/etc/passwd | tr '\n' ' ')" "700 600 " "squashed modes"
	assert_contains "$(cat squashed/rootfs/etc/passwd)" "app:x:"
}
