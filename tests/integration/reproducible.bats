#!/usr/bin/env bats
# Same input, same bytes: timestamps (C11), excludes (C11 c), the host's identity,
# xattrs, ACLs and mtimes kept out (C07), builds repeated after touch, under another
# umask, and as an unprivileged user give the same digest.

load lib/common

setup() {
	common_setup
}

teardown() {
	if [ -n "${PUB:-}" ]; then rm -rf "$PUB"; fi
}

# A folder every local user can enter (BATS_TEST_TMPDIR is 0700), for builds run as
# uid 65534. Sets PUB.
public_dir() {
	PUB=$(mktemp -d /tmp/ociuser-pub.XXXXXX)
	chmod 0755 "$PUB"
}

# as_nobody CMD...: runs CMD as uid/gid 65534 with no supplementary groups.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@"
}

need_nobody_can_run() {
	need_root
	as_nobody test -x "$OCIUSER" || skip "uid 65534 cannot run $OCIUSER (its folders are not world-readable)"
}

c11_tree() {
	mkdir -p app/__pycache__ app/pkg/__pycache__ app/docs/build app/src/docs/build
	echo 'print("main")' >app/main.py
	touch -d 2001-01-01 app/main.py
	echo 'X = 1' >app/mod.py
	echo pyc >app/__pycache__/mod.cpython-311.pyc
	: >app/pkg/__init__.py
	echo pyc >app/pkg/__pycache__/__init__.cpython-311.pyc
	echo '<html>' >app/docs/build/index.html
	echo keep >app/src/docs/build/keep.txt
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\nexclude = __pycache__\nexclude = docs/build\n' >spec.ini
}

# every entry ociuser creates (not the edited account files) has mtime $1
mtimes_are() {
	local bad
	bad=$(layers out latest list --new | awk -F'\t' -v t="$1" '$2 !~ /^(\.\/)?etc\/(passwd|group|shadow|gshadow)$/ && $9 != t')
	[ -z "$bad" ] || fail "entries whose mtime is not $1:" "$bad"
}

@test "C11 a: --source-date-epoch sets every mtime, created and history; it wins over SOURCE_DATE_EPOCH" {
	mkbase base.tar
	c11_tree
	SOURCE_DATE_EPOCH=1600000000 build_ok spec.ini
	mtimes_are 1700000000
	assert_eq "$(config out | jq -r .created)" 2023-11-14T22:13:20Z created
	[ "$(config out | jq '[.history[] | select(.created != "2023-11-14T22:13:20Z")] | length')" -eq 0 ] ||
		fail "history dates:" "$(config out | jq .history)"
	assert_eq "$(skopeo inspect oci:out:latest | jq -r .Created)" 2023-11-14T22:13:20Z "skopeo Created"
}

@test "C11 a: SOURCE_DATE_EPOCH alone sets mtimes, created and the shadow DAYS" {
	mkbase base.tar --entry '{"path":"etc/shadow","mode":"0640","content":"root:*:19000:0:99999:7:::\n"}'
	c11_tree
	SOURCE_DATE_EPOCH=1600000000 run --separate-stderr "$OCIUSER" build spec.ini -o out
	[ "$status" -eq 0 ] || fail "$stderr"
	mtimes_are 1600000000
	assert_eq "$(config out | jq -r .created)" 2020-09-13T12:26:40Z created
	assert_eq "$(file_in out etc/shadow | tail -n 1)" "app:!:18518::::::" shadow
}

@test "C11 b: with neither, the timestamp is 315532800 (1980-01-01) and zipfile accepts the files" {
	mkbase base.tar --entry '{"path":"etc/shadow","mode":"0640","content":"root:*:19000:0:99999:7:::\n"}'
	c11_tree
	ou build spec.ini -o out
	[ "$status" -eq 0 ] || fail "$stderr"
	mtimes_are 315532800
	assert_eq "$(config out | jq -r .created)" 1980-01-01T00:00:00Z created
	assert_eq "$(file_in out etc/shadow | tail -n 1)" "app:!:3652::::::" shadow
	local n
	n=$(layers out latest count)
	mkdir rootfs && layers out latest raw $((n - 1)) | tar -C rootfs -xf -
	(cd "$T" && TZ=UTC python3 -c "import zipfile; zipfile.ZipFile('x.zip','w').write('rootfs/app/main.py')")
}

@test "C11 c: a pattern without / matches at any depth; one with / from the source root only" {
	mkbase base.tar
	c11_tree
	build_ok spec.ini
	check_image out
	layers out latest list --new | cut -f2 | grep -F __pycache__ && fail "__pycache__ is in the image"
	no_entry out app/docs/build
	no_entry out app/docs/build/index.html
	entry_is out app/docs dir 999:999 app:app 0755
	entry_is out app/src/docs/build/keep.txt file 999:999 app:app 0644
	entry_is out app/main.py file 999:999 app:app 0644 "$EPOCH"
	entry_is out app/pkg/__init__.py file 999:999 app:app 0644
}

@test "exclude patterns: *.pyc at any depth, tests/* from the root, a dotted directory with all under it" {
	mkbase base.tar
	mkdir -p app/tests/unit app/lib/tests app/.git/objects
	echo a >app/a.py && echo c >app/a.pyc && echo c >app/lib/b.pyc && echo t >app/tests/t.py
	echo u >app/tests/unit/u.py && echo k >app/lib/tests/keep.py && echo g >app/.git/objects/o
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\nexclude = *.pyc\nexclude = tests/*\nexclude = .git\n' >spec.ini
	build_ok spec.ini
	entry_is out app/a.py file 999:999 app:app 0644
	no_entry out app/a.pyc
	no_entry out app/lib/b.pyc
	no_entry out app/tests/t.py
	no_entry out app/tests/unit
	entry_is out app/lib/tests/keep.py file 999:999 app:app 0644
	no_entry out app/.git
	no_entry out app/.git/objects/o
}

@test "building twice, after touching every source, gives the same digest and the same blobs" {
	mkbase base.tar
	c11_tree
	build_ok spec.ini "$T/one"
	local d1=$DIGEST
	find app -exec touch {} +
	touch spec.ini base.tar
	build_ok spec.ini "$T/two"
	assert_eq "$DIGEST" "$d1" "digest after touch"
	diff <(cd one && find . -type f | sort) <(cd two && find . -type f | sort)
	# into the same OUT again: same digest, index unchanged
	cp one/index.json index.before
	build_ok spec.ini "$T/one"
	assert_eq "$DIGEST" "$d1" "digest when rebuilt into the same OUT"
	cmp one/index.json index.before
}

@test "the umask and the source tree's modes under it do not change the digest (C17)" {
	mkbase base.tar
	(umask 022 && mkdir -p a/lib && echo x >a/main.py && echo y >a/lib/u.py)
	(umask 077 && mkdir -p b/lib && echo x >b/main.py && echo y >b/lib/u.py)
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = a/\n' >a.ini
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = b/\n' >b.ini
	build_ok a.ini "$T/oa"
	local da=$DIGEST
	umask 077
	build_ok b.ini "$T/ob"
	assert_eq "$DIGEST" "$da" "digest under umask 077"
	[ -z "$(find ob -type f ! -perm 0644)$(find ob -type d ! -perm 0755)" ] ||
		fail "OUT modes under umask 077:" "$(find ob ! -perm 0644 ! -type d -ls; find ob -type d ! -perm 0755 -ls)"
}

@test "C07: host owners, xattrs, ACLs, capabilities and mtimes never reach the image; same digest as uid 65534" {
	need_nobody_can_run
	public_dir
	cd "$PUB"
	mkbase base.tar
	mkdir -p src/sub
	echo one >src/one.txt
	echo two >src/sub/two.txt
	printf '#!/bin/sh\n' >src/run.sh && chmod 755 src/run.sh
	touch -d 2001-01-01 src/one.txt
	setfacl -m u:nobody:r src/one.txt 2>/dev/null || true
	setfattr -n user.test -v 1 src/one.txt 2>/dev/null || true
	setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 src/run.sh 2>/dev/null || true
	chown -R 65534:65534 src
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\n[files]\n/app = src/\n' >spec.ini
	mkdir outs && chown 65534:65534 outs
	run --separate-stderr as_nobody "$OCIUSER" build spec.ini -o outs/nobody --source-date-epoch "$EPOCH"
	[ "$status" -eq 0 ] || fail "as uid 65534: exit $status: $stderr"
	local dn=$output
	assert_not_contains "$stderr" "warning"
	build_ok spec.ini "$PUB/outs/root"
	assert_eq "$DIGEST" "$dn" "digest as root vs as uid 65534"
	assert_not_contains "$stderr" "warning"
	local j bad
	j=$(layers outs/root latest json --new)
	bad=$(jq -r '.[] | select(.name | test("^(\\./)?(app|home/app)(/|$)")) | select(.uid != 10001 or .gid != 10001 or .uname != "app" or .gname != "app") | .name' <<<"$j")
	[ -z "$bad" ] || fail "entries not 10001:10001 app:app:" "$bad"
	bad=$(jq -r '.[] | select(.uid == 65534 or .gid == 65534 or .uname == "nobody" or .gname == "nogroup") | .name' <<<"$j")
	[ -z "$bad" ] || fail "the host user leaked into:" "$bad"
	bad=$(jq -r '.[] | select(.pax | keys | map(select(test("xattr|acl|^atime$|^ctime$"; "i"))) | length > 0) | "\(.name) \(.pax)"' <<<"$j")
	[ -z "$bad" ] || fail "xattr, ACL, atime or ctime records:" "$bad"
	bad=$(jq -r '.[] | select(.devmajor != 0 or .devminor != 0) | .name' <<<"$j")
	[ -z "$bad" ] || fail "device numbers set on:" "$bad"
	entry_is outs/root home dir 0:0 root:root 0755 "$EPOCH"
	entry_is outs/root app/one.txt file 10001:10001 app:app 0644 "$EPOCH"
	entry_is outs/root app/run.sh file 10001:10001 app:app 0755 "$EPOCH"
	local n
	n=$(layers outs/root latest count)
	if layers outs/root latest raw $((n - 1)) | grep -a -q -E 'user\.test|system\.posix_acl|security\.capability'; then
		fail "host xattr names in the raw app layer"
	fi
}

@test "a build as an unprivileged user writes an OUT it owns, 0644/0755" {
	need_nobody_can_run
	public_dir
	cd "$PUB"
	mkbase base.tar
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	mkdir outs && chown 65534:65534 outs
	run --separate-stderr as_nobody sh -c "umask 077 && exec '$OCIUSER' build spec.ini -o outs/o"
	[ "$status" -eq 0 ] || fail "$stderr"
	[ -z "$(find outs/o ! -user 65534)" ] || fail "not owned by 65534: $(find outs/o ! -user 65534)"
	[ -z "$(find outs/o -type f ! -perm 0644)$(find outs/o -type d ! -perm 0755)" ] || fail "modes: $(find outs/o -ls)"
	skopeo inspect oci:outs/o:latest >/dev/null
}
