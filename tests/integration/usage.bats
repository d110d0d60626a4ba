#!/usr/bin/env bats
# The command line: help, version, usage errors (exit 2), --source-date-epoch and
# SOURCE_DATE_EPOCH bounds (C11 d).

load lib/common

setup() {
	common_setup
	mkbase base.tar
	spec spec.ini <<'INI'
[image]
base = base.tar
[user]
name = app
INI
}

@test "--version prints the version and exits 0" {
	ou --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "no version in '$output'"
}

@test "-h and --help print usage naming 'build' and exit 0" {
	for h in -h --help; do
		ou "$h"
		[ "$status" -eq 0 ] || fail "$h exited $status"
		assert_contains "$output$stderr" "build"
		assert_contains "$output$stderr" "-o"
	done
}

@test "no arguments is a usage error (exit 2) with the usage on stderr" {
	ou
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "ociuser"
	assert_contains "$stderr" "build"
	[ -z "$output" ]
}

@test "an unknown command, an unknown option or a missing operand is exit 2 and writes nothing" {
	local args
	for args in "frobnicate spec.ini -o out" "build spec.ini -o out --no-such-option" \
		"build -o out" "build spec.ini" "build spec.ini -o" "build spec.ini extra.ini -o out" \
		"build spec.ini -o out -t" "build spec.ini -o out --source-date-epoch"; do
		# shellcheck disable=SC2086
		ou $args
		[ "$status" -eq 2 ] || fail "'ociuser $args' exited $status, not 2 (stderr: $stderr)"
		assert_contains "$stderr" "ociuser: "
		[ -z "$output" ] || fail "'ociuser $args' printed on stdout: $output"
		[ ! -e out ] || fail "'ociuser $args' created out"
	done
}

@test "--source-date-epoch outside 0..253402300799, not a number or with a leading zero is exit 2, OUT untouched" {
	local v
	for v in -5 abc 253402300800 99999999999999 "" 1e9 " 5" 0x10 18446744073709551617 00 0315532800; do
		ou build spec.ini -o out --source-date-epoch "$v"
		[ "$status" -eq 2 ] || fail "--source-date-epoch '$v' exited $status, not 2 (stderr: $stderr)"
		assert_contains "$stderr" "ociuser: "
		[ ! -e out ] || fail "--source-date-epoch '$v' created out"
	done
	mkdir keep && echo x >keep/notes.txt
	ou build spec.ini -o keep --source-date-epoch -5
	[ "$status" -eq 2 ]
	[ "$(ls keep)" = notes.txt ]
}

@test "--source-date-epoch 0 and 253402300799 (9999-12-31T23:59:59Z) are accepted" {
	build_ok spec.ini "$T/o0" --source-date-epoch 0
	assert_eq "$(config o0 | jq -r .created)" "1970-01-01T00:00:00Z" created
	build_ok spec.ini "$T/omax" --source-date-epoch 253402300799
	assert_eq "$(config omax | jq -r .created)" "9999-12-31T23:59:59Z" created
	assert_eq "$(get omax mtime etc/passwd --new)" 1234567890 "edited passwd keeps the base mtime"
	assert_eq "$(get omax mtime home/app --new)" 253402300799 "home mtime"
}

@test "an unusable SOURCE_DATE_EPOCH in the environment is exit 2 naming the variable" {
	local v
	for v in abc -1 253402300800 99999999999999 1e9 0x10 "1 2" 007; do
		SOURCE_DATE_EPOCH=$v run --separate-stderr "$OCIUSER" build spec.ini -o out
		[ "$status" -eq 2 ] || fail "SOURCE_DATE_EPOCH='$v' exited $status, not 2 (stderr: $stderr)"
		assert_contains "$stderr" "SOURCE_DATE_EPOCH"
		[ ! -e out ] || fail "SOURCE_DATE_EPOCH='$v' created out"
	done
}

@test "an empty SOURCE_DATE_EPOCH counts as unset (the default 315532800)" {
	SOURCE_DATE_EPOCH= run --separate-stderr "$OCIUSER" build spec.ini -o out
	[ "$status" -eq 0 ] || fail "$stderr"
	assert_eq "$(config out | jq -r .created)" 1980-01-01T00:00:00Z created
}

@test "-t sets the tag, -q stays quiet on success and still prints the digest" {
	ou build spec.ini -o out -q -t v1 --source-date-epoch "$EPOCH"
	[ "$status" -eq 0 ] || fail "$stderr"
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ -z "$stderr" ] || fail "-q printed: $stderr"
	assert_eq "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' out/index.json)" v1 tag
	skopeo inspect oci:out:v1 >/dev/null
}

@test "a spec that does not exist is exit 1 naming it" {
	ou build nope.ini -o out
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "nope.ini"
	[ ! -e out ]
}
