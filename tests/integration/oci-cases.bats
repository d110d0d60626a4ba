#!/usr/bin/env bats
# The parts of cases C02, C08, C16 (and the podman runtime checks) on oci: bases and
# squash that oci-base.bats and squash.bats do not cover: an inherited User replaced by
# the numeric uid, the HOME note's prefix, an inherited WorkingDir (a warning), and the
# long-name tree squashed.

load lib/common

setup() {
	common_setup
}

@test "C02: an oci: base's User nobody is replaced by the numeric uid (A, B, C, D)" {
	oci base <<'JSON'
{"images": [{"tag": "latest", "layers": [{"preset": "standard"}], "config": {"User": "nobody"}}]}
JSON
	printf '[image]\nbase = oci:base\n[user]\nname = app\nuid = 10001\ngid = 10001\n' >a.ini
	build_ok a.ini "$T/a"
	assert_eq "$(skopeo inspect --config oci:a:latest | jq -r .config.User)" 10001 "User (A)"
	assert_eq "$(file_in a etc/passwd | tail -n 1)" "app:x:10001:10001::/home/app:/usr/sbin/nologin" passwd
	printf '[image]\nbase = oci:base\n[user]\nname = app\nuid = 10001\ngid = 10001\nconfig_user = uid:gid\n' >b.ini
	build_ok b.ini "$T/b"
	assert_eq "$(config b | jq -r .config.User)" 10001:10001 "User (B)"
	printf '[image]\nbase = oci:base\n[user]\nname = app\nuid = 10001\ngid = 10001\nconfig_user = name\n' >c.ini
	build_ok c.ini "$T/c"
	assert_eq "$(config c | jq -r .config.User)" app "User (C)"
	assert_contains "$stderr" "ociuser: warning:"
	assert_contains "$stderr" "runAsNonRoot"
	printf '[image]\nbase = oci:base\n[user]\nname = app\n' >d.ini
	build_ok d.ini "$T/d"
	assert_eq "$(config d | jq -r .config.User)" 999 "User (D)"
	assert_eq "$(file_in d etc/passwd | tail -n 1 | cut -d: -f3)" 999 "passwd uid (D)"
}

@test "C08 F: the HOME note is an 'ociuser: note:' line; a spec env HOME is kept with no note" {
	oci base <<'JSON'
{"images": [{"tag": "latest", "layers": [{"preset": "standard", "entries": [{"path": "root/", "type": "dir", "mode": "0700"}]}],
  "config": {"Env": ["PATH=/usr/bin:/bin", "HOME=/root"]}}]}
JSON
	printf '[image]\nbase = oci:base\n[user]\nname = app\nuid = 10001\ngid = 10001\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(config out | jq -c .config.Env)" '["PATH=/usr/bin:/bin","HOME=/home/app"]' Env
	assert_contains "$stderr" "ociuser: note:"
	assert_contains "$stderr" "HOME"
	printf '[image]\nbase = oci:base\nenv = HOME=/srv\n[user]\nname = app\nuid = 10001\ngid = 10001\n' >spec2.ini
	build_ok spec2.ini "$T/out2"
	assert_eq "$(config out2 | jq -c '[.config.Env[] | select(startswith("HOME="))]')" '["HOME=/srv"]' "HOME from the spec"
	assert_not_contains "$stderr" "HOME"
	# -q silences the note
	build_ok spec.ini "$T/out3" -q
	[ -z "$stderr" ] || fail "-q printed: $stderr"
}

@test "C08 G: an inherited WorkingDir the user cannot enter is kept, with a warning naming it" {
	oci base <<'JSON'
{"images": [{"tag": "latest", "layers": [{"preset": "standard", "entries": [{"path": "root/", "type": "dir", "mode": "0700"}, {"path": "srv/", "type": "dir"}]}],
  "config": {"WorkingDir": "/root"}}]}
JSON
	printf '[image]\nbase = oci:base\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(config out | jq -r .config.WorkingDir)" /root WorkingDir
	assert_contains "$stderr" "ociuser: warning:"
	assert_contains "$stderr" "'/root'"
	# a workdir the user can enter: no warning
	printf '[image]\nbase = oci:base\nworkdir = /srv\n[user]\nname = app\n' >spec2.ini
	build_ok spec2.ini "$T/out2"
	assert_eq "$(config out2 | jq -r .config.WorkingDir)" /srv WorkingDir
	assert_not_contains "$stderr" "warning"
}

@test "C16: long and odd names again with squash = true" {
	mkbase base.tar
	local n120 d250
	n120="$(printf 'n%.0s' {1..116}).txt"
	d250="$(printf 'p%.0s' {1..60})/$(printf 'q%.0s' {1..60})/$(printf 'r%.0s' {1..60})/$(printf 's%.0s' {1..60})/tail.txt"
	mkdir -p "src/$(dirname "$d250")"
	echo 250 >"src/$d250"
	echo 120 >"src/$n120"
	ln "src/$n120" src/hard
	ln -s "$(printf 't%.0s' {1..180})" src/longlink
	echo u >'src/Ünïcødé-😀.txt'
	echo ff >"src/$(printf '\xff').bin"
	printf '[image]\nbase = base.tar\nsquash = true\n[user]\nname = app\n[files]\n/opt/really/long/destination/prefix = src/\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(layers out latest count)" 1 layers
	check_image out --base-layers 0
	local P=opt/really/long/destination/prefix
	assert_eq "$(file_in out "$P/$d250")" 250
	assert_eq "$(file_in out "$P/$n120")" 120
	assert_eq "$(file_in out "$P/Ünïcødé-😀.txt")" u
	assert_eq "$(get out linkname "$P/longlink")" "$(printf 't%.0s' {1..180})" "symlink target"
	assert_eq "$(get out hdrcharset "$P/\\xff.bin")" BINARY hdrcharset
	layers out latest raw 0 >layer.tar
	tar --quoting-style=literal -tf layer.tar | grep -q -F "$P/$d250" || fail "GNU tar lacks the long path"
	LC_ALL=C.UTF-8 bsdtar -tf layer.tar | grep -q -F "$P/$n120" || fail "bsdtar lacks the 120-byte name"
}

@test "podman: run the images (C02 id -u, C04 su, C10 ping, C14 cat, C17 cat)" {
	command -v podman >/dev/null 2>&1 || skip "needs podman (consumers.bats runs the images with runc)"
	mkbase base.tar --preset busybox
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\n' >spec.ini
	build_ok spec.ini
	run podman run --rm oci:"$T/out":latest id -u
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$output" 10001 "id -u"
}
