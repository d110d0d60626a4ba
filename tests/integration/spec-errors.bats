#!/usr/bin/env bats
# Every class of bad input in the contract: exit 1, a message on stderr naming
# SPEC:LINE (or the entry or file at fault), nothing on stdout, and OUT byte for byte as
# it was (still absent when it was absent, another image in it kept).

load lib/common

setup() {
	common_setup
	mkbase base.tar
	mkdir -p src && echo ok >src/ok.txt
}

# bad_line 'SECTION-AND-LINES' NEEDLE...: writes spec.ini from a good spec with the given
# text in place of @BAD@ (whose first line is the faulty one) and expects an error naming
# spec.ini:LINE of that line plus every NEEDLE, with OUT absent and with OUT a layout.
good_with() {
	local where=$1 text=$2
	{
		echo "[image]"
		echo "base = base.tar"
		[ "$where" = image ] && printf '%s\n' "$text"
		echo "[user]"
		if [ "$where" = username ]; then printf '%s\n' "$text"; else echo "name = app"; fi
		[ "$where" = user ] && printf '%s\n' "$text"
		echo "[files]"
		echo "/app = src/"
		[ "$where" = files ] && printf '%s\n' "$text"
		echo "[sensitive]"
		echo "/app/ok.txt = 0640"
		[ "$where" = sensitive ] && printf '%s\n' "$text"
		[ "$where" = end ] && printf '%s\n' "$text"
		true
	} >spec.ini
}

# bad SECTION 'LINE' NEEDLE...: the faulty line is the first line of its text.
bad() {
	local where=$1 text=$2
	shift 2
	good_with "$where" "$text"
	local first=${text%%$'\n'*}
	local n
	n=$(grep -n -F -x -- "$first" spec.ini | tail -n 1 | cut -d: -f1)
	[ -n "$n" ] || fail "test bug: '$first' not in spec.ini"
	expect_error_both spec.ini "spec.ini:$n" "$@"
}

@test "the good spec these tests start from builds" {
	good_with none ""
	build_ok spec.ini
}

@test "an unknown section is an error at its line" {
	bad end "[imagine]"
}

@test "a line outside any section, and a line without '=', are errors at their line" {
	printf 'base = base.tar\n[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	expect_error_both spec.ini "spec.ini:1"
	bad user "just some words"
}

@test "an unknown key is an error at its line naming the key" {
	bad image "colour = red" colour
	bad user "uidd = 1000" uidd
	bad files "preserve-modes = true" preserve-modes
}

@test "a repeated non-list key is an error at the second line" {
	bad image "base = base.tar" base
	bad user "name = other" name
	good_with image $'cmd = ["a"]\ncmd = ["b"]'
	expect_error_both spec.ini "spec.ini:$(line_of spec.ini 'cmd = \["b"\]')" cmd
}

@test "a missing [image] base or [user] name is a SPEC:LINE error naming the key" {
	printf '[image]\ntag = x\n[user]\nname = app\n' >spec.ini
	expect_error_both spec.ini spec.ini:1: "missing required key 'base' in [image]"
	printf '[image]\nbase = base.tar\n[user]\ngroup = app\n' >spec.ini
	expect_error_both spec.ini spec.ini:3: "missing required key 'name' in [user]"
	printf '[image]\nbase = base.tar\n' >spec.ini
	expect_error_both spec.ini spec.ini:2: "no [user] section"
}

@test "a section given twice continues it; a non-list key in both blocks is an error at its second line" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[image]\ntag = two\n' >spec.ini
	build_ok spec.ini "$T/out"
	assert_eq "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/out/index.json")" two "tag from the second [image] block"
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[image]\nbase = base.tar\n' >spec.ini
	expect_error_both spec.ini spec.ini:6: "'base' is given twice (first at line 2)"
}

@test "numbers: leading zeros, signs, out of range and non-digits are errors, never clamped" {
	local v
	for v in 0999 +5 -1 0 2147483647 4294967296 99999999999999999999999 12abc "" "1 000" 0x10; do
		bad user "uid = $v" uid
	done
	for v in 0999 +5 -1 4294967296 99999999999999999999999 12abc "" "1 000" 0x10; do
		bad user "gid = $v" gid
	done
}

@test "gid 0 is an error at its line" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\ngid = 0\n' >spec.ini
	expect_error_both spec.ini spec.ini:5 gid
}

@test "root's group (gid 0) as primary or supplementary group is an error at its line" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\ngroup = root\n' >spec.ini
	expect_error_both spec.ini spec.ini:5 "group 'root' is refused: it is gid 0"
	printf '[image]\nbase = base.tar\n[user]\nname = app\n\ngroups = root\n' >spec.ini
	expect_error_both spec.ini spec.ini:6 "supplementary group 'root'"
}

@test "booleans other than true and false are errors" {
	bad user "create_home = yes" create_home
	bad files "preserve_modes = 1" preserve_modes
	bad image "squash = maybe" squash
}

@test "a bad tag (ref-name grammar) or an empty tag is an error" {
	bad image "tag = bad tag!" tag
	bad image "tag =" tag
	bad image "tag = -leading" tag
}

@test "cmd and entrypoint: '[' that is not a JSON array of strings is an error" {
	local k v
	for k in cmd entrypoint; do
		for v in '[not json' '["a", 1]' '[]x' '["a"' '[{"a":1}]'; do
			bad image "$k = $v" "$k"
		done
	done
}

@test "workdir must be absolute; env, label and annotation need KEY=VALUE" {
	bad image "workdir = app" workdir
	bad image "env = NOEQUALS" env
	bad image "env = =value" env
	bad image "label = nolabel" label
	bad image "annotation = noannotation" annotation
}

@test "expose takes PORT, PORT/tcp or PORT/udp with 1..65535" {
	local v
	for v in abc 80/sctp 70000 0 80/ /tcp 080; do
		bad image "expose = $v" expose
	done
}

@test "compression other than gzip, zstd or none is an error" {
	bad image "compression = lz4" compression
	bad image "compression = GZIP" compression
}

@test "user and group names must be valid, and root is refused" {
	local v
	for v in Root 1abc 'a b' 'app:x' 'a/b' "$(printf 'a%.0s' {1..33})" '-app' 'ap$p'; do
		bad username "name = $v" name
	done
	bad username "name = root" root
	for v in Grp 'g:x' '9g'; do
		bad user "group = $v" group
	done
}

@test "a name that is uid 0 in the base is refused" {
	mkbase base.tar --append 'etc/passwd=toor:x:0:0::/root:/bin/sh\n'
	printf '[image]\nbase = base.tar\n[user]\nname = toor\n' >spec.ini
	expect_error_both spec.ini spec.ini:4 toor
}

@test "home and shell must be absolute, without ':' or control characters" {
	bad user "home = home/app" home
	bad user "home = /home/a:b" home
	bad user "shell = bin/sh" shell
	bad user "shell = /bin/sh:x" shell
	bad user "$(printf 'home = /home/a\tb')" home
}

@test "config_user other than uid, uid:gid or name is an error (C02 E)" {
	bad user "config_user = numeric" config_user
	bad user "config_user = UID" config_user
}

@test "a DEST that is relative, has '..', or has a '.wh.' component is an error at its line" {
	bad files "app2 = src/"
	bad files "/app/../etc = src/" ..
	bad files "/srv/.wh.x = src/ok.txt" .wh.
	bad files "/srv/.wh..wh..opq = src/ok.txt" .wh.
}

@test "a home with a '.wh.' component is an error at its line" {
	bad user "home = /home/.wh.app" .wh.
}

@test "a [files] source that does not exist is an error naming it" {
	bad files "/opt/x = no-such-dir/" no-such-dir
}

@test "[sensitive]: bad modes, relative paths and paths missing from the image are errors" {
	local v
	for v in 888 rwx 17777 "" -640 0o640; do
		bad sensitive "/app/ok.txt2 = $v"
	done
	bad sensitive "app/ok.txt = 0640"
	bad sensitive "/app/missing.txt = 0640" /app/missing.txt
	bad sensitive "/srv/.wh.x = 0640" .wh.
}

@test "[sensitive] on a symbolic link is refused" {
	ln -s ok.txt src/link
	bad sensitive "/app/link = 0640" /app/link
}

@test "a base that does not exist or is not an archive is an error naming it" {
	printf '[image]\nbase = missing.tar\n[user]\nname = app\n' >spec.ini
	expect_error_both spec.ini missing.tar
	echo "just text, not a tar" >text.tar
	printf '[image]\nbase = text.tar\n[user]\nname = app\n' >spec.ini
	expect_error_both spec.ini text.tar
	head -c 300 base.tar | gzip -n >trunc.tar.gz
	printf '[image]\nbase = trunc.tar.gz\n[user]\nname = app\n' >spec.ini
	expect_error_both spec.ini trunc.tar.gz
}

@test "a FIFO, a socket or a device file in a source is an error naming it" {
	mkfifo src/pipe
	good_with none ""
	expect_error_both spec.ini pipe
	rm src/pipe
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' src/sock
	expect_error_both spec.ini sock
	rm src/sock
	if mknod src/dev c 1 3 2>/dev/null; then
		expect_error_both spec.ini dev
	fi
}

@test "names starting with '.wh.' in a source are errors naming the host path (C15)" {
	local f
	local f named
	for f in .wh.cache sub/.wh..wh..opq .wh.dir/inner .wh.; do
		rm -rf app && mkdir -p "app/$(dirname "$f")" && echo ok >app/ok.txt && echo x >"app/$f"
		printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >spec.ini
		named="app/$f"
		[ "$f" = .wh.dir/inner ] && named=app/.wh.dir
		expect_error_both spec.ini "$named" .wh.
	done
	rm -rf app && mkdir app && echo ok >app/ok.txt && ln -s ok.txt app/.wh.x
	expect_error_both spec.ini "app/.wh.x"
}

@test "[user] groups naming a group the base lacks is an error naming it (C09 D)" {
	bad user "groups = plugdev" plugdev
}

@test "id conflicts with the base are errors naming both sides (C06 c, d)" {
	mkbase base.tar --append 'etc/passwd=ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n' \
		--append 'etc/group=ubuntu:x:1000:\ndocker:x:998:\n'
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 1000\n' >spec.ini
	expect_error_both spec.ini app ubuntu 1000
	printf '[image]\nbase = base.tar\n[user]\nname = ubuntu\nuid = 1001\n' >spec.ini
	expect_error_both spec.ini ubuntu 1000 1001
	printf '[image]\nbase = base.tar\n[user]\nname = app\ngroup = docker\ngid = 1234\n' >spec.ini
	expect_error_both spec.ini docker 998 1234
	printf '[image]\nbase = base.tar\n[user]\nname = app\ngid = 1000\n' >spec.ini
	expect_error_both spec.ini 1000 ubuntu
}

@test "no free id in SYS_UID_MIN..SYS_UID_MAX is an error (C06 b3)" {
	mkbase base.tar --entry '{"path":"etc/login.defs","content":"# defs\nSYS_UID_MIN 500\nSYS_UID_MAX 501\nSYS_GID_MIN 500\nSYS_GID_MAX 600\n"}' \
		--append 'etc/passwd=a:x:500:500::/:/usr/sbin/nologin\nb:x:501:501::/:/usr/sbin/nologin\n'
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	expect_error_both spec.ini uid
}

@test "a non-empty folder that is not a layout is refused untouched (C12)" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	mkdir notes && echo "keep me" >notes/notes.txt
	OUT="$T/notes" expect_error spec.ini notes
	mkdir half && echo '{}' >half/index.json
	OUT="$T/half" expect_error spec.ini half
	echo file >afile
	OUT="$T/afile" expect_error spec.ini afile
}
