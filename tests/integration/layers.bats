#!/usr/bin/env bats
# What the new layers hold, header field by header field: created parents (C01), modes
# under any umask (C17), hard links (C14), long and odd names (C16), '.wh.' names kept
# out (C15), symbolic links, [sensitive], DEST through a base symlink, the two-layer
# split and no empty layer.

load lib/common

setup() {
	common_setup
}

@test "C01: missing parents of a DEST and of the home are root:root 0755; copied entries are the user's" {
	mkbase base.tar --entry '{"path":"srv/","type":"dir"}'
	mkdir -p app/static/css && chmod 0755 app app/static app/static/css
	echo '<h1>hi</h1>' >app/index.html && echo 'body{}' >app/static/css/site.css
	chmod 0644 app/index.html app/static/css/site.css
	printf '#!/bin/sh\necho tool\n' >tool && chmod 0755 tool
	spec spec.ini <<'INI'
[image]
base = base.tar
[user]
name = web
uid = 1500
gid = 1500
[files]
/srv/www/app = app/
/usr/local/bin/tool = tool
INI
	build_ok spec.ini
	check_image out
	entry_is out srv/www dir 0:0 root:root 0755 "$EPOCH"
	entry_is out srv/www/app dir 1500:1500 web:web 0755 "$EPOCH"
	entry_is out srv/www/app/index.html file 1500:1500 web:web 0644 "$EPOCH"
	entry_is out srv/www/app/static dir 1500:1500 web:web 0755 "$EPOCH"
	entry_is out srv/www/app/static/css dir 1500:1500 web:web 0755 "$EPOCH"
	entry_is out srv/www/app/static/css/site.css file 1500:1500 web:web 0644 "$EPOCH"
	entry_is out usr/local dir 0:0 root:root 0755 "$EPOCH"
	entry_is out usr/local/bin dir 0:0 root:root 0755 "$EPOCH"
	entry_is out usr/local/bin/tool file 1500:1500 web:web 0755 "$EPOCH"
	entry_is out home dir 0:0 root:root 0755 "$EPOCH"
	entry_is out home/web dir 1500:1500 web:web 0750 "$EPOCH"
	# parents the base has are left as the base has them
	no_entry out srv
	no_entry out usr
	no_entry out .
	entry_is out etc/passwd file 0:0 root:root 0644 1234567890
	entry_is out etc/group file 0:0 root:root 0644 1234567890
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "web:x:1500:1500::/home/web:/usr/sbin/nologin" passwd
	assert_eq "$(file_in out etc/group | tail -n 1)" "web:x:1500:" group
	assert_eq "$(file_in out usr/local/bin/tool)" "$(cat tool)" "tool content"
}

@test "C01: after umoci unpack as root the created parents are 0:0 755 and the DEST is the user's" {
	need_root
	mkbase base.tar --entry '{"path":"srv/","type":"dir"}'
	mkdir app && echo hi >app/index.html
	printf '[image]\nbase = base.tar\n[user]\nname = web\nuid = 1500\ngid = 1500\n[files]\n/srv/www/app = app/\n' >spec.ini
	build_ok spec.ini
	umoci unpack --image out:latest bundle >/dev/null
	assert_eq "$(stat -c '%u:%g %a' bundle/rootfs/srv/www)" "0:0 755" srv/www
	assert_eq "$(stat -c '%u:%g %a' bundle/rootfs/srv/www/app)" "1500:1500 755" srv/www/app
	assert_eq "$(stat -c '%u:%g %a' bundle/rootfs/home)" "0:0 755" home
	assert_eq "$(stat -c '%u:%g %a' bundle/rootfs/home/web)" "1500:1500 750" home/web
}

@test "a DEST that is already a base folder keeps the base's owner and mode; what goes into it is the user's" {
	need_root
	mkbase base.tar --entry '{"path":"tmp/","type":"dir","mode":"1777"}'
	mkdir conf seed && echo c >conf/app.conf && echo s >seed/s
	printf '[image]\nbase = base.tar\n[user]\nname = web\nuid = 1500\ngid = 1500\n[files]\n/etc = conf/\n/tmp = seed/\n' >spec.ini
	build_ok spec.ini
	check_image out
	no_entry out etc
	no_entry out tmp
	entry_is out etc/app.conf file 1500:1500 web:web 0644 "$EPOCH"
	entry_is out tmp/s file 1500:1500 web:web 0644 "$EPOCH"
	umoci unpack --image out:latest bundle >/dev/null
	assert_eq "$(stat -c '%u:%g %a' bundle/rootfs/etc bundle/rootfs/tmp | tr '\n' ' ')" "0:0 755 0:0 1777 " "etc and tmp as the base has them"
	assert_eq "$(stat -c '%u:%g' bundle/rootfs/etc/app.conf)" "1500:1500" "etc/app.conf"
}

@test "C17: modes are normalised whatever the umask; preserve_modes keeps the source bits" {
	mkbase base.tar
	umask 077
	mkdir -p app/lib
	echo 'print(1)' >app/main.py
	echo 'x = 1' >app/lib/util.py
	echo public >app/public.txt && chmod 0644 app/public.txt
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\n[files]\n/srv/app = app/\n' >spec.ini
	build_ok spec.ini
	check_image out
	entry_is out srv dir 0:0 root:root 0755
	entry_is out srv/app dir 10001:999 app:app 0755
	entry_is out srv/app/lib dir 10001:999 app:app 0755
	entry_is out srv/app/main.py file 10001:999 app:app 0644
	entry_is out srv/app/lib/util.py file 10001:999 app:app 0644
	entry_is out srv/app/public.txt file 10001:999 app:app 0644
	entry_is out etc/passwd file 0:0 root:root 0644
	entry_is out etc/group file 0:0 root:root 0644
	entry_is out home dir 0:0 root:root 0755
	entry_is out home/app dir 10001:999 app:app 0750
	no_entry out .
	# OUT itself is readable by everyone
	[ -z "$(find out -type f ! -perm 0644)" ] || fail "files not 0644:" "$(find out -type f ! -perm 0644 -ls)"
	[ -z "$(find out -type d ! -perm 0755)" ] || fail "folders not 0755:" "$(find out -type d ! -perm 0755 -ls)"

	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\n[files]\n/srv/app = app/\npreserve_modes = true\n' >spec.ini
	build_ok spec.ini "$T/out2"
	entry_is out2 srv/app dir 10001:999 app:app 0700
	entry_is out2 srv/app/lib dir 10001:999 app:app 0700
	entry_is out2 srv/app/main.py file 10001:999 app:app 0600
	entry_is out2 srv/app/lib/util.py file 10001:999 app:app 0600
	entry_is out2 srv/app/public.txt file 10001:999 app:app 0644
	entry_is out2 srv dir 0:0 root:root 0755
}

@test "C17: an executable file (owner x bit) becomes 0755, others 0644, under umask 027 too" {
	mkbase base.tar
	umask 027
	mkdir app
	printf '#!/bin/sh\n' >app/run.sh && chmod 0740 app/run.sh
	printf 'data' >app/data && chmod 0460 app/data
	printf 'x' >app/odd && chmod 0104 app/odd
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini
	entry_is out app/run.sh file 999:999 app:app 0755
	entry_is out app/data file 999:999 app:app 0644
	entry_is out app/odd file 999:999 app:app 0755
}

@test "C17 variant: a base without etc/ gets etc/ 0755 and passwd, group 0644 under umask 077" {
	mkbase base.tar --preset none --entry '{"path":"./","type":"dir"}' \
		--entry '{"path":"usr/","type":"dir"}' --entry '{"path":"usr/sbin/","type":"dir"}' \
		--entry '{"path":"usr/sbin/nologin","mode":"0755","content":"#!/bin/sh\n"}'
	umask 077
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	entry_is out etc dir 0:0 root:root 0755 "$EPOCH"
	entry_is out etc/passwd file 0:0 root:root 0644 "$EPOCH"
	entry_is out etc/group file 0:0 root:root 0644 "$EPOCH"
}

@test "preserve_modes clears setuid and setgid with a warning" {
	mkbase base.tar
	mkdir app && printf 'x' >app/suid && chmod 4755 app/suid && printf 'y' >app/sgid && chmod 2750 app/sgid
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\npreserve_modes = true\n' >spec.ini
	build_ok spec.ini
	entry_is out app/suid file 999:999 app:app 0755
	entry_is out app/sgid file 999:999 app:app 0750
	assert_contains "$stderr" "ociuser: warning:"
}

@test "[sensitive] sets exactly the mode it gives, keeps the owner, and is not recursive" {
	mkbase base.tar
	mkdir -p app/bin && echo s >app/sensitive-config && printf '#!/bin/sh\n' >app/bin/tool && chmod 755 app/bin/tool
	spec spec.ini <<'INI'
[image]
base = base.tar
[user]
name = app
uid = 2000
gid = 2000
[files]
/app = app/
[sensitive]
/app/sensitive-config = 750
/app/bin = 0700
/app/bin/tool = 4750
/usr/sbin/nologin = 0700
INI
	build_ok spec.ini
	check_image out
	entry_is out app/sensitive-config file 2000:2000 app:app 0750 "$EPOCH"
	entry_is out app/bin dir 2000:2000 app:app 0700 "$EPOCH"
	entry_is out app/bin/tool file 2000:2000 app:app 4750 "$EPOCH"
	entry_is out app dir 2000:2000 app:app 0755
	# a base path: only the mode changes, every other header field and the content stay
	entry_is out usr/sbin/nologin file 0:0 root:root 0700 1234567890
	assert_eq "$(file_in out usr/sbin/nologin | head -n 1)" "#!/bin/sh" "nologin content"
}

@test "C14: hard links stay hard links, sorted, with relative linknames; partners outside the tree become files" {
	mkbase base.tar
	mkdir -p src/sub/deep src/other outside
	printf A >src/zz-real
	ln src/zz-real src/aa-link
	ln src/zz-real src/sub/deep/b
	printf K >src/keep.bin
	ln src/keep.bin src/cache.tmp
	printf O >outside/o
	ln outside/o src/other/x
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = src/\nexclude = keep.bin\n' >spec.ini
	build_ok spec.ini
	check_image out
	entry_is out app/aa-link file 999:999 app:app 0644
	assert_eq "$(file_in out app/aa-link)" A aa-link
	local e
	for e in app/sub/deep/b app/zz-real; do
		entry_is out "$e" hardlink 999:999 app:app 0644
		assert_eq "$(get out linkname "$e" --new)" app/aa-link "linkname of $e"
		assert_eq "$(get out size "$e" --new)" 0 "size of $e"
	done
	entry_is out app/cache.tmp file 999:999 app:app 0644
	assert_eq "$(file_in out app/cache.tmp)" K cache.tmp
	no_entry out app/keep.bin
	entry_is out app/other/x file 999:999 app:app 0644
	assert_eq "$(file_in out app/other/x)" O other/x
	# GNU tar extracts it with three links
	local n
	n=$(layers out latest count)
	layers out latest raw $((n - 1)) >app.tar
	mkdir x && tar -C x -xf app.tar
	assert_eq "$(stat -c %h x/app/aa-link)" 3 "link count"
	assert_eq "$(cat x/app/zz-real)" A "extracted zz-real"
}

@test "C16: long names, long link targets, UTF-8 and non-UTF-8 names read back exactly everywhere" {
	mkbase base.tar
	local d160 n120 d250 t180
	d160="$(printf 'd%.0s' {1..40})/$(printf 'e%.0s' {1..40})/$(printf 'f%.0s' {1..40})/$(printf 'g%.0s' {1..27})/file.txt"
	n120="$(printf 'n%.0s' {1..116}).txt"
	d250="$(printf 'p%.0s' {1..60})/$(printf 'q%.0s' {1..60})/$(printf 'r%.0s' {1..60})/$(printf 's%.0s' {1..60})/tail.txt"
	t180="$(printf 't%.0s' {1..90})/$(printf 'u%.0s' {1..89})"
	mkdir -p "src/$(dirname "$d160")" "src/$(dirname "$d250")"
	echo 160 >"src/$d160"
	echo 120 >"src/$n120"
	echo 250 >"src/$d250"
	ln -s "$t180" src/longlink
	ln "src/$n120" src/hard-to-long
	echo u >'src/Ünïcødé-😀.txt'
	echo ff >"src/$(printf '\xff').bin"
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/opt/really/long/destination/prefix = src/\n' >spec.ini
	build_ok spec.ini
	check_image out
	local P=opt/really/long/destination/prefix
	assert_eq "$(file_in out "$P/$d160")" 160
	assert_eq "$(file_in out "$P/$d250")" 250
	assert_eq "$(file_in out "$P/$n120")" 120
	assert_eq "$(get out linkname "$P/longlink" --new)" "$t180" "symlink target"
	local hl
	hl=$(get out linkname "$P/hard-to-long" --new)
	[ "$hl" = "$P/$n120" ] || [ "$(get out linkname "$P/$n120" --new)" = "$P/hard-to-long" ] ||
		fail "hard link linkname '$hl' is not the full name of its partner"
	assert_eq "$(file_in out "$P/Ünïcødé-😀.txt")" u "UTF-8 name"
	# the 0xff byte is kept as it is, with hdrcharset=BINARY
	assert_eq "$(get out hdrcharset "$P/\\xff.bin" --new)" BINARY "hdrcharset of the 0xff name"

	local n
	n=$(layers out latest count)
	layers out latest raw $((n - 1)) >app.tar
	# every name under the prefix, in python tarfile, GNU tar and bsdtar (raw bytes)
	python3 - app.tar <<'PY' >names.py
import sys, tarfile
with tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as tf:
    for m in tf.getmembers():
        sys.stdout.buffer.write(m.name.rstrip("/").encode("utf-8", "surrogateescape") + b"\n")
PY
	tar --quoting-style=literal -tf app.tar | sed 's,/$,,' >names.gnu
	LC_ALL=C.UTF-8 bsdtar -tf app.tar | sed 's,/$,,' >names.bsd
	LC_ALL=C sort names.py >a && LC_ALL=C sort names.gnu >b
	cmp a b || fail "GNU tar disagrees with tarfile:" "$(diff a b | cat -v)"
	assert_eq "$(wc -l <names.bsd)" "$(wc -l <names.py)" "bsdtar name count"
	grep -q -F "$P/$d250" names.bsd || fail "bsdtar lacks the 250-byte path"
	grep -q -F "$P/$n120" names.bsd || fail "bsdtar lacks the 120-byte name"
	grep -v -x -E 'opt|opt/really|opt/really/long|opt/really/long/destination' names.py >inside
	grep -v -q "^$P" inside && fail "names outside the prefix:" "$(grep -v "^$P" inside)"
	if [ "$(id -u)" -eq 0 ]; then
		umoci unpack --image out:latest bundle >/dev/null
		(cd bundle/rootfs && find "$P" -print | sed 's,/$,,') | LC_ALL=C sort >names.umoci
		grep "^$P/" a >c
		grep "^$P/" names.umoci >d
		cmp c d || fail "umoci's rootfs disagrees with tarfile:" "$(diff c d | cat -v)"
		assert_eq "$(readlink "bundle/rootfs/$P/longlink")" "$t180" "unpacked symlink"
		assert_eq "$(stat -c %h "bundle/rootfs/$P/$n120")" 2 "unpacked link count"
	fi
}

@test "C15: with exclude = .wh.* every whiteout-like source name is left out and the build succeeds" {
	mkbase base.tar
	mkdir -p app/sub app/.wh.dir
	echo ok >app/ok.txt
	echo x >app/.wh.cache
	echo x >app/sub/.wh..wh..opq
	echo x >app/.wh.dir/inner
	echo x >app/.wh.
	ln -s ok.txt app/.wh.x
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\nexclude = .wh.*\n' >spec.ini
	build_ok spec.ini
	check_image out
	entry_is out app/ok.txt file 999:999 app:app 0644
	entry_is out app/sub dir 999:999 app:app 0755
	layers out latest list --new | cut -f2 | grep -F '.wh.' && fail "a .wh. name is in a new layer"
	true
}

@test "symbolic links are copied as links, never followed, and owned by the user" {
	mkbase base.tar
	mkdir -p app/d && echo ok >app/ok.txt
	ln -s ok.txt app/rel
	ln -s /etc/passwd app/abs
	ln -s does-not-exist app/dangling
	ln -s d app/dirlink
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini
	local l
	for l in rel:ok.txt abs:/etc/passwd dangling:does-not-exist dirlink:d; do
		assert_eq "$(get out type "app/${l%%:*}" --new)" symlink "type of ${l%%:*}"
		assert_eq "$(get out linkname "app/${l%%:*}" --new)" "${l#*:}" "target of ${l%%:*}"
		assert_eq "$(get out uid "app/${l%%:*}" --new):$(get out gid "app/${l%%:*}" --new)" 999:999 "owner of ${l%%:*}"
	done
}

@test "a file SOURCE becomes the file DEST; a directory SOURCE's contents go into DEST" {
	mkbase base.tar
	mkdir -p app/inner && echo a >app/inner/a && echo cfg >config.toml
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n/etc/app/config.toml = config.toml\n' >spec.ini
	build_ok spec.ini
	entry_is out app/inner/a file 999:999 app:app 0644
	no_entry out app/app
	entry_is out etc/app dir 0:0 root:root 0755
	entry_is out etc/app/config.toml file 999:999 app:app 0644
	assert_eq "$(file_in out etc/app/config.toml)" cfg config
	no_entry out etc
}

@test "a DEST through a base symlink (/lib -> usr/lib) is written through it; the link stays" {
	mkbase base.tar --entry '{"path":"usr/lib/","type":"dir"}' \
		--entry '{"path":"lib","type":"symlink","linkname":"usr/lib"}'
	echo x >x.so
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/lib/app/x.so = x.so\n' >spec.ini
	build_ok spec.ini
	check_image out
	entry_is out usr/lib/app dir 0:0 root:root 0755
	entry_is out usr/lib/app/x.so file 999:999 app:app 0644
	no_entry out lib
	no_entry out lib/app
	no_entry out lib/app/x.so
}

@test "a DEST through a base symlink that leads out of the image root is refused" {
	mkbase base.tar --entry '{"path":"escape","type":"symlink","linkname":"../../../tmp"}'
	echo x >x
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/escape/x = x\n' >spec.ini
	expect_error spec.ini escape
}

@test "[sensitive] on the home or an account file goes in the app layer: the accounts layer stays byte-identical" {
	mkbase base.tar
	mkdir app && echo v1 >app/v
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini
	local l1
	l1=$(layers out latest manifest | jq -r '.layers[1].digest')
	printf '[sensitive]\n/home/app = 0700\n/etc/passwd = 0600\n' >>spec.ini
	build_ok spec.ini "$T/out2"
	check_image "$T/out2"
	assert_eq "$(layers out2 latest manifest | jq -r '.layers[1].digest')" "$l1" "accounts layer after a [sensitive] change"
	assert_eq "$(layers out2 latest list --layer 2 | cut -f2,8 | grep -E 'home/app|etc/passwd' | sort | tr '\t\n' ' |')" \
		"etc/passwd 0600|home/app 0700|" "app layer entries"
	assert_eq "$(layers out2 latest cat /etc/passwd)" "$(layers out latest cat /etc/passwd)" "passwd content"
	rm -rf b && umoci unpack --image "$T/out2:latest" b >/dev/null
	assert_eq "$(stat -c '%a %u' b/rootfs/home/app b/rootfs/etc/passwd | tr '\n' ' ')" "700 999 600 0 " "unpacked modes and owners"
}

@test "new content is two layers: accounts (passwd, group, home) and app ([files], [sensitive])" {
	mkbase base.tar
	mkdir app && echo v1 >app/v
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(layers out latest count)" 3 "layer count"
	local acc app
	acc=$(layers out latest list --layer 1 | cut -f2 | sed 's,^\./,,; s,/$,,' | sort | tr '\n' ' ')
	app=$(layers out latest list --layer 2 | cut -f2 | sed 's,^\./,,; s,/$,,' | sort | tr '\n' ' ')
	assert_eq "$acc" "etc/group etc/passwd home home/app " "accounts layer"
	assert_eq "$app" "app app/v " "app layer"
	local l1
	l1=$(layers out latest manifest | jq -r '.layers[1].digest')
	echo v2 >app/v
	build_ok spec.ini "$T/out2"
	assert_eq "$(layers out2 latest manifest | jq -r '.layers[1].digest')" "$l1" "accounts layer after an app-only change"
	[ "$(layers out2 latest manifest | jq -r '.layers[2].digest')" != "$(layers out latest manifest | jq -r '.layers[2].digest')" ] ||
		fail "the app layer did not change"
	assert_eq "$(config out | jq '.history | length')" 3 "history entries"
}

@test "no empty layer: no [files] gives one new layer; nothing new gives only the base layer" {
	mkbase base.tar
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(layers out latest count)" 2 "layers with only an accounts change"
	check_image out
	# daemon exists with its ids and its home (/usr/sbin) is in the base: nothing to add
	printf '[image]\nbase = base.tar\n[user]\nname = daemon\n' >spec.ini
	build_ok spec.ini "$T/out2"
	assert_eq "$(layers out2 latest count)" 1 "layers when nothing changes"
	assert_eq "$(config out2 | jq -r .config.User)" 1 "User"
	assert_eq "$(config out2 | jq '.rootfs.diff_ids | length')" 1 diff_ids
	check_image out2
	# an existing user with files: only the app layer
	mkdir app && echo a >app/a
	printf '[image]\nbase = base.tar\n[user]\nname = daemon\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini "$T/out3"
	assert_eq "$(layers out3 latest count)" 2 "layers with only an app change"
	entry_is out3 app/a file 1:1 daemon:daemon 0644
	no_entry out3 etc/passwd
}

@test "C10: a base entry's security.capability record survives (base layer reused, zstd new layers)" {
	mkbase base.tar --entry '{"path":"usr/bin/","type":"dir"}' \
		--entry '{"path":"usr/bin/ping","mode":"0755","content":"ping","pax":{"SCHILY.xattr.security.capability":"hex:0100000200200000000000000000000000000000"}}'
	printf '[image]\nbase = base.tar\ncompression = zstd\n[user]\nname = app\n[sensitive]\n/usr/bin/ping = 0750\n' >spec.ini
	build_ok spec.ini
	check_image out
	assert_eq "$(config out | jq -r '.rootfs.diff_ids[0]')" "sha256:$(sha256sum base.tar | cut -d' ' -f1)" "diff_ids[0]"
	# the base layer keeps it, and [sensitive] rewrote the entry keeping every other field
	local want
	want=$(python3 -c 'print(bytes.fromhex("0100000200200000000000000000000000000000").decode("utf-8", "surrogateescape"))' | python3 -c 'import sys, json; print(json.dumps(sys.stdin.read().rstrip("\n")))')
	assert_eq "$(layers out latest get usr/bin/ping --layer 0 | jq -c '.pax["SCHILY.xattr.security.capability"]')" "$want" "base record"
	assert_eq "$(layers out latest get usr/bin/ping --new | jq -c '.pax["SCHILY.xattr.security.capability"]')" "$want" "rewritten record"
	# written once: no second spelling (LIBARCHIVE.xattr.*) of the same attribute
	assert_eq "$(layers out latest get usr/bin/ping --new | jq -c '.pax | keys')" '["SCHILY.xattr.security.capability"]' "PAX keys of the rewritten entry"
	entry_is out usr/bin/ping file 0:0 root:root 0750 1234567890
	assert_eq "$(file_in out usr/bin/ping)" ping content
}
