#!/usr/bin/env bats
# Hostile app trees (issue "Hostile input and crash safety", class 2): a [files] SOURCE
# made to trick ociuser: symbolic link loops and links out of the tree (copied as links,
# never followed), files and folders it may not read (the build runs as uid 65534 with
# setpriv, since the tests run as root), 255-byte names and ~4000-byte paths, names that
# are not UTF-8, a sparse file over 8 GiB, and files whose size changes while they are
# read. Never a tar whose sizes lie: every layer is walked header by header
# (lib/mkhostile.py walk) and unpacked with umoci where that is cheap.

load lib/common

setup() {
	common_setup
	W=
	python3 "$LIB/mkbase.py" "$T/base.tar"
}

teardown() {
	[ -z "$W" ] || rm -rf "$W"
	[ -z "${WRITER:-}" ] || kill "$WRITER" 2>/dev/null || true
}

hostile() { python3 "$LIB/mkhostile.py" "$@"; }

# tspec FILE [LINE...]: a spec on base.tar (in FILE's folder) for user app, copying
# src/ to /app, then the LINEs.
tspec() {
	local f=$1
	shift
	{
		printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = src/\n'
		printf '%s\n' "$@"
	} >"$f"
}

# new_layer OUT: the path of the last layer's blob.
new_layer() {
	echo "$1/blobs/sha256/$(layers "$1" latest manifest | jq -r '.layers[-1].digest | ltrimstr("sha256:")')"
}

# walk_ok OUT: the last layer is a well-formed tar, member by member, and hashes to its
# diff_id; prints the walk (JSON lines).
walk_ok() {
	local blob w
	blob=$(new_layer "$1")
	w=$(hostile walk "$blob") || fail "the last layer is not a well-formed tar" "$w"
	assert_eq "$(tail -1 <<<"$w" | jq -r .sha256)" "$(config "$1" | jq -r '.rootfs.diff_ids[-1]')" "diff_id"
	printf '%s\n' "$w"
}

# world SUBDIR: a folder that uid 65534 can enter and write ($W, removed in teardown),
# holding base.tar; T is moved there so expect_error_both puts its layouts there too.
world() {
	W=$(mktemp -d /tmp/ou-hostile-tree.XXXXXX)
	chmod 0755 "$W"
	chown 65534:65534 "$W"
	cp "$T/base.tar" "$W/"
	chmod 0644 "$W/base.tar"
	T=$W
	cd "$W" || return 1
	cat >"$W/as-nobody" <<SH
#!/bin/sh
exec setpriv --reuid=65534 --regid=65534 --clear-groups "$OCIUSER" "\$@"
SH
	chmod 0755 "$W/as-nobody"
}

# ------------------------------------------------------------------ links

@test "symbolic link loops and links out of the tree are copied as links, never followed" {
	mkdir -p src/d outside
	echo TOPSECRET-7f3a >outside/secret.txt
	ln -s loop2 src/loop1
	ln -s loop1 src/loop2
	ln -s . src/d/self
	ln -s .. src/d/up
	ln -s ../.. src/d/upup
	ln -s /etc/shadow src/abs
	ln -s "$T/outside" src/d/hostdir
	ln -s ../../../../../../../../etc src/d/climb
	ln -s missing/target src/dangling
	ln -s d/self/self/self/up/loop1 src/chain
	echo hello >src/d/file
	tspec spec.ini
	build_ok spec.ini
	local l
	while read -r l; do
		set -- $l
		entry_is out "app/$1" symlink 999:999 app:app 0777
		assert_eq "$(get out linkname "app/$1")" "$2" "target of app/$1"
	done <<LINKS
loop1 loop2
loop2 loop1
d/self .
d/up ..
d/upup ../..
abs /etc/shadow
d/hostdir $T/outside
d/climb ../../../../../../../../etc
dangling missing/target
chain d/self/self/self/up/loop1
LINKS
	entry_is out app/d/file file 999:999 app:app 0644
	# nothing behind a link was copied
	no_entry out app/d/hostdir/secret.txt
	no_entry out app/d/self/file
	! layers out latest raw 2 | grep -q TOPSECRET-7f3a || fail "the secret behind a link is in the layer"
	assert_eq "$(layers out latest list --new | cut -f2 | grep -c '^app')" 13 "entries under app"
	check_image out
	walk_ok out >/dev/null
	need_root
	umoci unpack --image out:latest bundle >/dev/null 2>umoci.err || fail "umoci unpack: $(cat umoci.err)"
	assert_eq "$(readlink bundle/rootfs/app/loop1)" loop2 "unpacked loop1"
	assert_eq "$(readlink bundle/rootfs/app/d/climb)" ../../../../../../../../etc "unpacked climb"
	[ ! -e bundle/rootfs/app/d/hostdir/secret.txt ] || [ -L bundle/rootfs/app/d/hostdir ] ||
		fail "hostdir is not a link in the bundle"
}

# ------------------------------------------------------------------ permissions

@test "unreadable files and folders (build as uid 65534): an error naming them, OUT unchanged" {
	need_root
	world
	mkdir -p src/sub src/closed src/noexec src/noread src/deep/a/b
	echo ok >src/sub/ok
	echo s >src/secret
	echo c >src/closed/f
	echo n >src/noexec/f
	echo r >src/noread/f
	echo d >src/deep/a/b/hidden
	tspec spec.ini
	chmod -R a+rX src
	# control: everything readable builds as uid 65534
	OCIUSER=$W/as-nobody build_ok spec.ini "$W/ctl"
	rm -rf "$W/ctl"
	local what needle
	while read -r what needle; do
		chmod -R a+rX src
		case $what in
		file) chmod 000 src/secret ;;
		folder) chmod 000 src/closed ;;
		x-only) chmod 0311 src/noread ;;
		r-only) chmod 0644 src/noexec ;;
		deep) chmod 0600 src/deep/a/b/hidden ;;
		base) chmod 0600 base.tar ;;
		esac
		OCIUSER=$W/as-nobody expect_error_both spec.ini "$needle"
		[ "$what" != base ] || chmod 0644 base.tar
		# nothing left next to OUT either (no staging folder, no temporary file)
		assert_eq "$(ls -A "$W" | grep -v -x -E 'src|base.tar|spec.ini|as-nobody|out2|good.ini|good-base.tar' || true)" "" "left in $W"
	done <<'CASES'
file src/secret
folder src/closed
x-only src/noread
r-only src/noexec
deep src/deep/a/b/hidden
base base.tar
CASES
	chmod -R a+rX src
}

# ------------------------------------------------------------------ names

@test "255-byte names and ~4000-byte paths are kept exactly (tarfile, the walk and umoci)" {
	mkdir -p src
	python3 - <<'PY'
import os
os.chdir("src")
open("N" * 255, "w").write("top\n")
os.symlink("T" * 3000, "L" * 255)
for i in range(15):
    c = ("%02d" % i) * 124 + "x"  # 249 bytes
    os.mkdir(c)
    os.chdir(c)
open("M" * 230, "w").write("deep\n")
PY
	local deep
	deep=app/$(for i in $(seq 0 14); do printf -v n %02d "$i"; printf '%s' "$(printf "$n%.0s" $(seq 124))x/"; done)$(head -c 230 /dev/zero | tr '\0' M)
	[ "${#deep}" -ge 3980 ] || fail "deep path is ${#deep} bytes"
	tspec spec.ini
	build_ok spec.ini
	local n255 l255
	n255=$(head -c 255 /dev/zero | tr '\0' N)
	l255=$(head -c 255 /dev/zero | tr '\0' L)
	entry_is out "app/$n255" file 999:999 app:app 0644
	entry_is out "$deep" file 999:999 app:app 0644
	assert_eq "$(get out linkname "app/$l255")" "$(head -c 3000 /dev/zero | tr '\0' T)" "3000-byte link target"
	assert_eq "$(file_in out "$deep")" deep "deep content"
	check_image out
	local w
	w=$(walk_ok out)
	jq -s -e --arg n "$deep" 'any(.[]; .name == $n)' <<<"$w" >/dev/null || fail "the walk has no '$deep'"
	need_root
	umoci unpack --image out:latest bundle >/dev/null 2>umoci.err || fail "umoci unpack: $(cat umoci.err)"
	assert_eq "$(cat "bundle/rootfs/app/$n255")" top "unpacked 255-byte name"
	assert_eq "$(cd bundle/rootfs && cat "$deep")" deep "unpacked deep file"
	assert_eq "$(readlink "bundle/rootfs/app/$l255")" "$(head -c 3000 /dev/zero | tr '\0' T)" "unpacked link"
}

@test "names that are not UTF-8 are kept byte for byte, with pax hdrcharset=BINARY" {
	mkdir -p src
	python3 - <<'PY'
import os
os.makedirs(b"src/d\xff\xfe")
open(b"src/d\xff\xfe/caf\xe9.txt", "wb").write(b"latin1\n")
open(b"src/\xc3\x28bad", "wb").write(b"x\n")
open(b"src/ok-\xe2\x82\xac", "wb").write(b"euro\n")  # valid UTF-8, for contrast
os.symlink(b"caf\xe9.txt", b"src/d\xff\xfe/lnk\x80")
PY
	tspec spec.ini
	build_ok spec.ini
	check_image out
	local w
	w=$(walk_ok out)
	local hex
	for hex in $(printf 'app/d\xff\xfe' | xxd -p) $(printf 'app/d\xff\xfe/caf\xe9.txt' | xxd -p) \
		$(printf 'app/\xc3\x28bad' | xxd -p) $(printf 'app/d\xff\xfe/lnk\x80' | xxd -p) \
		$(printf 'app/ok-\xe2\x82\xac' | xxd -p); do
		# folders' names end in '/' (2f)
		jq -s -e --arg h "$hex" 'any(.[]; .name_hex == $h or .name_hex == $h + "2f")' <<<"$w" >/dev/null ||
			fail "no member named (hex) $hex in:" "$w"
	done
	python3 - "$(new_layer out)" <<'PY' || fail "pax records wrong"
import gzip, sys, tarfile
tf = tarfile.open(fileobj=gzip.open(sys.argv[1]), encoding="utf-8", errors="surrogateescape")
seen = {}
for m in tf:
    seen[m.name.encode("utf-8", "surrogateescape")] = m
for name in (b"app/d\xff\xfe", b"app/d\xff\xfe/caf\xe9.txt", b"app/\xc3\x28bad", b"app/d\xff\xfe/lnk\x80"):
    m = seen[name]
    assert m.pax_headers.get("hdrcharset") == "BINARY", (name, m.pax_headers)
assert seen[b"app/d\xff\xfe/lnk\x80"].linkname.encode("utf-8", "surrogateescape") == b"caf\xe9.txt"
assert seen[b"app/d\xff\xfe/caf\xe9.txt"].size == 7
PY
	need_root
	umoci unpack --image out:latest bundle >/dev/null 2>umoci.err || fail "umoci unpack: $(cat umoci.err)"
	python3 - <<'PY' || fail "unpacked names differ"
import os
names = sorted(os.listdir(b"bundle/rootfs/app"))
assert names == sorted([b"d\xff\xfe", b"\xc3\x28bad", b"ok-\xe2\x82\xac"]), names
assert sorted(os.listdir(b"bundle/rootfs/app/d\xff\xfe")) == [b"caf\xe9.txt", b"lnk\x80"]
assert os.readlink(b"bundle/rootfs/app/d\xff\xfe/lnk\x80") == b"caf\xe9.txt"
assert open(b"bundle/rootfs/app/d\xff\xfe/caf\xe9.txt", "rb").read() == b"latin1\n"
PY
}

# ------------------------------------------------------------------ big and moving files

@test "a sparse 9 GiB file: its size past the 8 GiB ustar limit is right, in bounded time" {
	mkdir -p src
	truncate -s 9G src/big
	printf TAIL >>src/big
	echo after >src/zz-after
	tspec spec.ini
	local t0 t1
	t0=$(date +%s)
	build_ok spec.ini
	t1=$(date +%s)
	echo "# sparse 9 GiB + 4 bytes: build $((t1 - t0))s" >&3
	[ $((t1 - t0)) -lt 180 ] || fail "the build took $((t1 - t0))s"
	# the header (read without the data behind it)
	local blob w size off
	blob=$(new_layer out)
	w=$(hostile walk "$blob" --until app/big)
	size=$(jq -r 'select(.name == "app/big") | .size' <<<"$w")
	off=$(jq -r 'select(.name == "app/big") | .offset' <<<"$w")
	assert_eq "$size" $(((9 << 30) + 4)) "size of app/big in its header"
	# app/zz-after comes right after the data: its header, 2 blocks of end marker and the
	# padding must make up the gzip trailer's ISIZE (the length mod 2^32)
	local end isize
	end=$((off + ((size + 511) / 512) * 512 + 512 + 512))
	isize=$(tail -c 4 "$blob" | od -An -tu4 | tr -d ' ')
	local ok=0 total
	for total in $((end + 1024)) $(((end + 1024 + 10239) / 10240 * 10240)); do
		[ $((total % (1 << 32))) -ne "$isize" ] || ok=1
	done
	[ "$ok" -eq 1 ] || fail "gzip ISIZE $isize does not fit a layer ending at $end"
	assert_eq "$(layers out latest manifest | jq '.layers[-1].size')" "$(stat -c %s "$blob")" "blob size"
}

@test "a sparse 1 GiB file: header, data and the next member line up (whole walk)" {
	mkdir -p src
	truncate -s 1G src/big
	printf TAIL >>src/big
	echo after >src/zz-after
	tspec spec.ini
	build_ok spec.ini
	local w
	w=$(walk_ok out)
	assert_eq "$(jq -r 'select(.name == "app/big") | .size' <<<"$w")" $(((1 << 30) + 4)) "size of app/big"
	local off
	off=$(jq -r 'select(.name == "app/big") | .offset' <<<"$w")
	assert_eq "$(jq -r 'select(.name == "app/zz-after") | .offset' <<<"$w")" \
		$((off + ((1 << 30) + 4 + 511) / 512 * 512 + 512)) "offset of app/zz-after's data"
	assert_eq "$(jq -r 'select(.name == "app/zz-after") | .size' <<<"$w")" 6 "size of app/zz-after"
}

@test "a file that grows while it is read: a success has honest sizes, a failure names the file" {
	mkdir -p src
	echo after >src/zz-after
	tspec spec.ini
	local i ok=0 failed=0
	for i in 1 2 3 4 5 6; do
		head -c 24M /dev/urandom >src/grow
		# the writer starts 0 to 1.6 s after the build, so some builds finish first
		python3 -c '
import os, sys, time
time.sleep(float(sys.argv[1]))
f = open("src/grow", "ab", buffering=0)
blk = os.urandom(65536)
n = 0
while n < (256 << 20):
    f.write(blk); n += len(blk)
    time.sleep(0.0005)
' "$(awk -v i="$i" 'BEGIN { print (i == 1 ? 0 : 0.05 * 2 ^ (i - 2)) }')" &
		WRITER=$!
		rm -rf out
		ou build spec.ini -o out --source-date-epoch "$EPOCH"
		kill "$WRITER" 2>/dev/null || true
		wait "$WRITER" 2>/dev/null || true
		WRITER=
		if [ "$status" -eq 0 ]; then
			ok=$((ok + 1))
			local w size
			w=$(walk_ok out)
			size=$(jq -r 'select(.name == "app/grow") | .size' <<<"$w")
			[ "$size" -ge $((24 << 20)) ] || fail "app/grow has $size bytes"
			# the bytes in the layer are the file's first SIZE bytes
			assert_eq "$(layers out latest cat app/grow | sha256sum)" "$(head -c "$size" src/grow | sha256sum)" "content of app/grow"
			assert_eq "$(layers out latest cat app/zz-after)" after "app/zz-after"
			check_image out
		else
			failed=$((failed + 1))
			[ "$status" -eq 1 ] || fail "exit $status" "$stderr"
			assert_contains "$stderr" "src/grow"
			[ -z "$output" ] || fail "stdout on failure: $output"
			[ ! -e out ] || fail "a failed build left OUT"
		fi
	done
	echo "# growing file: $ok builds succeeded, $failed refused" >&3
}

@test "files whose size is not what stat said: /sys (shorter) is refused, /proc (stat 0) is honest" {
	local sysf=/sys/kernel/uevent_seqnum procf=/proc/version
	[ -r "$sysf" ] && [ -r "$procf" ] || skip "no $sysf or $procf"
	[ "$(stat -c %s "$sysf")" -gt "$(wc -c <"$sysf")" ] || skip "$sysf is not shorter than its stat"
	mkdir -p src
	echo x >src/x
	tspec spec.ini "/sys-file = $sysf"
	expect_error_both spec.ini "'$sysf'"
	tspec spec.ini "/proc-file = $procf"
	rm -rf out out2
	ou build spec.ini -o out --source-date-epoch "$EPOCH"
	if [ "$status" -eq 0 ]; then
		local w size
		w=$(walk_ok out)
		size=$(jq -r 'select(.name == "proc-file") | .size' <<<"$w")
		assert_eq "$(layers out latest cat proc-file | wc -c)" "$size" "bytes of proc-file"
		[ "$size" -eq 0 ] || assert_eq "$(layers out latest cat proc-file)" "$(head -c "$size" "$procf")" "proc-file content"
		check_image out
	else
		[ "$status" -eq 1 ] || fail "exit $status" "$stderr"
		assert_contains "$stderr" "$procf"
		[ ! -e out ] || fail "a failed build left OUT"
	fi
}
