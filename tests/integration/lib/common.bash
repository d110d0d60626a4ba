# Helpers shared by every tests/integration/*.bats file.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

LIB="$OU_SOURCE_ROOT/tests/integration/lib"
EPOCH=1700000000 # 2023-11-14T22:13:20Z; shadow DAYS 19675

common_setup() {
	umask 022
	T="$BATS_TEST_TMPDIR"
	cd "$T" || return 1
	unset SOURCE_DATE_EPOCH
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

mkbase() { python3 "$LIB/mkbase.py" "$@"; }
layers() { python3 "$LIB/layers.py" "$@"; }

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected" "  '$2'" "got" "  '$1'"
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "expected to find '$2' in:" "$1" ;;
	esac
}

# assert_not_contains HAYSTACK NEEDLE
assert_not_contains() {
	case "$1" in
	*"$2"*) fail "did not expect '$2' in:" "$1" ;;
	*) ;;
	esac
}

# ou [ARGS...]: runs the binary; sets status, output (stdout) and stderr.
ou() {
	run --separate-stderr "$OCIUSER" "$@"
}

# build_ok SPEC [OUT [ARGS...]]: builds with --source-date-epoch 1700000000 unless ARGS
# give another; asserts exit 0 and one sha256 line on stdout; sets DIGEST.
build_ok() {
	local spec=$1 out=${2:-$T/out}
	shift 2 || shift $#
	local args=("$@")
	case " ${args[*]} " in *" --source-date-epoch "*) ;; *) args+=(--source-date-epoch "$EPOCH") ;; esac
	ou build "$spec" -o "$out" "${args[@]}"
	if [ "$status" -ne 0 ]; then
		fail "ociuser build $spec exited $status" "stderr: $stderr" "stdout: $output"
	fi
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "stdout is not one digest line: '$output'"
	DIGEST=$output
}

# snapshot DIR: a recursive listing of DIR with names, types, modes, sizes, file mtimes
# and content hashes, or ABSENT; used to show that a failed build left OUT byte for byte
# as it was. Folder mtimes are left out: ociuser may stage in OUT and remove its staging
# folder again, which only touches the folder's mtime.
snapshot() {
	local d=$1
	if [ ! -e "$d" ] && [ ! -L "$d" ]; then
		echo ABSENT
		return
	fi
	if [ ! -d "$d" ]; then
		stat -c '%F %a %s %Y' "$d" && sha256sum <"$d"
		return
	fi
	(cd "$d" && find . -printf '%p %y %m %s\n' | LC_ALL=C sort &&
		find . ! -type d -printf '%p %T@\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# expect_error SPEC NEEDLE... : builds SPEC into $T/out (and, if $T/out is absent, again
# into a pre-existing layout); asserts exit 1, 'ociuser: ' on stderr with every NEEDLE,
# nothing on stdout, and OUT unchanged (still absent when it was absent).
expect_error() {
	local spec=$1
	shift
	local out=${OUT:-$T/out} before after n
	before=$(snapshot "$out")
	ou build "$spec" -o "$out" --source-date-epoch "$EPOCH"
	after=$(snapshot "$out")
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status" "stderr: $stderr" "stdout: $output"
	[ -z "$output" ] || fail "stdout should be empty on error, got: $output"
	assert_contains "$stderr" "ociuser: "
	for n in "$@"; do
		assert_contains "$stderr" "$n"
	done
	[ "$before" = "$after" ] || fail "OUT changed by a failed build:" "$(diff <(echo "$before") <(echo "$after"))"
}

# expect_error_both SPEC NEEDLE...: expect_error with OUT absent, then with OUT an
# existing layout holding another image (built from $T/good.ini).
expect_error_both() {
	local spec=$1
	shift
	rm -rf "$T/out"
	OUT="$T/out" expect_error "$spec" "$@"
	good_layout "$T/out2"
	OUT="$T/out2" expect_error "$spec" "$@"
}

# good_layout DIR: a layout with one image tagged 'keep', from the standard base
# (good-base.tar, so tests may change base.tar).
good_layout() {
	[ -f "$T/good-base.tar" ] || mkbase "$T/good-base.tar"
	cat >"$T/good.ini" <<INI
[image]
base = good-base.tar
tag = keep
[user]
name = keeper
INI
	ou build "$T/good.ini" -o "$1" --source-date-epoch "$EPOCH"
	[ "$status" -eq 0 ] || fail "could not make a good layout: $stderr"
}

# spec FILE: writes stdin to FILE (a spec), creating its folder.
spec() {
	mkdir -p "$(dirname "$1")"
	cat >"$1"
}

# line_of FILE REGEX: the 1-based number of the first line of FILE matching REGEX.
line_of() {
	grep -n -E -m1 "$2" "$1" | cut -d: -f1
}

# get OUT FIELD PATH [--new]: one field of the top-most entry for PATH.
get() {
	local out=$1 field=$2 path=$3
	shift 3
	layers "$out" latest get "$path" --field "$field" "$@"
}

# entry_is OUT PATH TYPE UID:GID UNAME:GNAME MODE [MTIME]: the top-most entry for PATH in
# the new layers has exactly these fields.
entry_is() {
	local out=$1 path=$2 type=$3 ids=$4 names=$5 mode=$6 mtime=${7:-}
	local j
	j=$(layers "$out" latest get "$path" --new) || fail "no entry '$path' in the new layers"
	local got
	got=$(jq -r '"\(.type) \(.uid):\(.gid) \(.uname):\(.gname) \(.mode)"' <<<"$j")
	assert_eq "$got" "$type $ids $names $mode" "entry $path"
	if [ -n "$mtime" ]; then
		assert_eq "$(jq -r .mtime <<<"$j")" "$mtime" "mtime of $path"
	fi
}

# no_entry OUT PATH: no new layer has PATH.
no_entry() {
	if layers "$1" latest get "$2" --new >/dev/null 2>&1; then
		fail "unexpected entry '$2' in the new layers: $(layers "$1" latest get "$2" --new)"
	fi
}

# file_in OUT PATH: the content of PATH as the image shows it (top-most layer).
file_in() {
	layers "$1" ${TAG:-latest} cat "$2"
}

# config OUT [TAG]: the image config JSON.
config() {
	layers "$1" "${2:-latest}" config
}

# check_image OUT [TAG] [--base-layers N]: layers.py check (digests, media types,
# diff_ids, parents, ...); N is how many layers come from the base (default 1).
check_image() {
	local out=$1 tag=latest
	shift
	if [ $# -gt 0 ] && [[ $1 != --* ]]; then
		tag=$1
		shift
	fi
	run layers "$out" "$tag" "$@" check
	[ "$status" -eq 0 ] || fail "layers.py check failed:" "$output"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# oci DIR: writes the layout DIR from the JSON description on stdin (lib/mkoci.py); its
# summary (digests of every blob) goes to DIR.json.
oci() {
	python3 "$LIB/mkoci.py" "$1" - >"$1.json" || fail "mkoci.py $1 failed"
}
