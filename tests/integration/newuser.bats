#!/usr/bin/env bats
# Faults a first-time user found by trying to break the tool (each failed before its fix).

load lib/common.bash

setup() {
	common_setup
	mkdir -p r/etc r/srv r/home app
	chmod 700 r/srv r/home
	printf 'root:x:0:0::/root:/bin/sh\n' >r/etc/passwd
	printf 'root:x:0:\n' >r/etc/group
	tar -C r --owner=0 --group=0 -czf base.tar.gz .
	echo hi >app/f
}

snapshot() { if [ -e "$1" ]; then (cd "$1" && find . -printf '%p %y %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort); else echo absent; fi; }

@test "a [files] SOURCE that is a symbolic link is refused, never followed into host files" {
	ln -s /etc/shadow hostshadow
	ln -s "$T/app" applink
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/app/s = hostshadow\n' >s1.ini
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/app = applink\n' >s2.ini
	for s in s1.ini s2.ini; do
		ou build "$s" -o "$T/out"
		[ "$status" -eq 1 ]
		assert_contains "$stderr" "$s:6:"
		assert_contains "$stderr" "symbolic link"
		[ ! -e "$T/out" ]
	done
}

@test "a base that is a FIFO or a device is refused at once, not read forever" {
	mkfifo basefifo
	printf '[image]\nbase = basefifo\n[user]\nname = app\n' >f.ini
	printf '[image]\nbase = /dev/zero\n[user]\nname = app\n' >z.ini
	for s in f.ini z.ini; do
		run --separate-stderr timeout 20 "$OCIUSER" build "$s" -o "$T/out"
		[ "$status" -eq 1 ]
		assert_contains "$stderr" "is not a regular file"
		[ ! -e "$T/out" ]
	done
}

@test "the user's home and each DEST behind a 0700 root folder give a warning naming it" {
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/srv/app = app/\n' >w.ini
	build_ok w.ini "$T/out"
	assert_contains "$stderr" "cannot enter its home '/home/app': '/home' (0:0, mode 0700)"
	assert_contains "$stderr" "cannot enter the copy '/srv/app': '/srv' (0:0, mode 0700)"
	# and none when the folders are open
	chmod 755 r/srv r/home
	tar -C r --owner=0 --group=0 -czf base.tar.gz .
	build_ok w.ini "$T/out2"
	assert_not_contains "$stderr" "cannot enter"
}

@test "a file DEST is reached, not entered: no warning for 0644 or 0600 files, one for a closed folder on the way" {
	chmod 755 r/home
	tar -C r --owner=0 --group=0 -czf base.tar.gz .
	printf 'x\n' >app/conf
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/etc/app.conf = app/conf\n/opt/x/y = app/f\n[sensitive]\n/opt/x/y = 0600\n' >f.ini
	build_ok f.ini "$T/out"
	assert_not_contains "$stderr" "cannot enter"
	# the same file behind the base's 0700 /srv still warns, naming /srv and not the file
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/srv/app.conf = app/conf\n' >g.ini
	build_ok g.ini "$T/out2"
	assert_contains "$stderr" "cannot enter the copy '/srv/app.conf': '/srv' (0:0, mode 0700)"
}

@test "exclude with '!' and a workdir with '..' are SPEC:LINE errors; -o twice or empty is usage" {
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/app = app/\nexclude = *\nexclude = !f\n' >x.ini
	mkdir out && before=$(snapshot out)
	ou build x.ini -o "$T/out"
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "x.ini:8:"
	assert_contains "$stderr" "negation"
	printf '[image]\nbase = base.tar.gz\nworkdir = /../..\n[user]\nname = app\n' >wd.ini
	ou build wd.ini -o "$T/out"
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "wd.ini:3:"
	assert_eq "$(snapshot out)" "$before" "OUT"
	ou build x.ini -o a -o b
	[ "$status" -eq 2 ]
	ou build x.ini -o ""
	[ "$status" -eq 2 ]
	[ ! -e a ] && [ ! -e b ]
}

@test "an OUT inside a [files] source is left out of the copy (with a note); OUT as the source is an error" {
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/app = app/\n' >s.ini
	# OUT missing at first (staged beside it), then existing (staged inside it)
	build_ok s.ini "$T/app/out"
	local first=$DIGEST
	assert_contains "$stderr" "note: s.ini:6: the output folder '$T/app/out' is inside"
	build_ok s.ini "$T/app/out"
	assert_eq "$DIGEST" "$first" "digest of the second build into the same OUT"
	run layers "$T/app/out" latest list
	[ "$status" -eq 0 ] || fail "layers.py list: $output"
	assert_not_contains "$output" "out/"
	assert_not_contains "$output" "ociuser-"
	assert_eq "$(layers "$T/app/out" latest list --layer 2 | cut -f2 | sed 's,/$,,' | sort | tr '\n' ' ')" "app app/f " "app layer"
	# the output folder itself as a source
	printf '[image]\nbase = base.tar.gz\n[user]\nname = app\n[files]\n/x = app/out/\n' >t.ini
	local before
	before=$(snapshot "$T/app/out")
	ou build t.ini -o "$T/app/out"
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "t.ini:6:"
	assert_contains "$stderr" "is the output folder"
	assert_eq "$(snapshot "$T/app/out")" "$before" "OUT after the refused build"
}
