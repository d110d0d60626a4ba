#!/usr/bin/env bats
# Crash safety: OUT survives anything. A build killed with SIGKILL at any moment leaves
# every tag that existed whole (skopeo inspects and copies it, index.json names only
# complete blobs, no temporary file is taken for a blob) and the next build cleans up;
# two builds into one OUT at once both land (the lock on OUT); a full disk and a file
# size limit give a clear error and leave OUT as it was, without temporaries.
#
# The big inputs (a ~32 MiB base of 3,000 files and two ~20 MiB app trees of 5,000 files)
# are made once per file by setup_file; a build of them takes about a second.

load lib/common

KILL_POINTS=${OU_KILL_POINTS:-50} # i*T/N for i = 1..N, N >= 50

setup_file() {
	local F=$BATS_FILE_TMPDIR lib="$OU_SOURCE_ROOT/tests/integration/lib"
	python3 "$lib/crashgen.py" base "$F/base.tar" --files 3000 --kib 30000
	python3 "$lib/crashgen.py" app "$F/appA" --files 5000 --kib 20000
	cp -a "$F/appA" "$F/appB"
	echo "this file makes app B's layer differ from app A's" >"$F/appB/m00/s0/zz-variant.txt"
	local name label app
	for name in one-a one-b two new ev1 ev2 ev3; do
		case $name in
		one-a) label=a app=appA ;;
		one-b) label=b app=appB ;;
		two) label=two app=appA ;;
		new) label=new app=appB ;;
		ev*) label=$name app=appA ;;
		esac
		printf '[image]\nbase = base.tar\nlabel = rev=%s\ncmd = ["/app/run"]\n[user]\nname = app\n[files]\n/app = %s/\n' \
			"$label" "$app" >"$F/$name.ini"
	done
	# The layout every kill starts from: 'one' (spec one-a) and 'two'; and the digest
	# each spec gives (builds are reproducible, so a killed build can only ever make
	# the reference digest).
	local d
	d=$("$OCIUSER" build "$F/one-a.ini" -o "$F/L0" -t one --source-date-epoch "$EPOCH") || return 1
	echo "$d" >"$F/D_one-a"
	d=$("$OCIUSER" build "$F/two.ini" -o "$F/L0" -t two --source-date-epoch "$EPOCH") || return 1
	echo "$d" >"$F/D_two"
	d=$("$OCIUSER" build "$F/one-b.ini" -o "$F/ref-b" -t one --source-date-epoch "$EPOCH") || return 1
	echo "$d" >"$F/D_one-b"
	d=$("$OCIUSER" build "$F/new.ini" -o "$F/ref-new" -t new --source-date-epoch "$EPOCH") || return 1
	echo "$d" >"$F/D_new"
	for name in ev1 ev2 ev3; do
		d=$("$OCIUSER" build "$F/$name.ini" -o "$F/ref-b" -t "$name" --source-date-epoch "$EPOCH") || return 1
		echo "$d" >"$F/D_$name"
	done
	rm -rf "$F/ref-b" "$F/ref-new"
}

setup() {
	common_setup
	F=$BATS_FILE_TMPDIR
	D_ONE_A=$(cat "$F/D_one-a")
	D_ONE_B=$(cat "$F/D_one-b")
	D_TWO=$(cat "$F/D_two")
	D_NEW=$(cat "$F/D_new")
	# ociuser decompresses some bases into an O_TMPFILE in TMPDIR: keep ours apart to
	# show nothing is left there either.
	export TMPDIR="$T/tmp"
	mkdir -p "$TMPDIR"
}

teardown() {
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT"
	fi
}

# The interpreter itself, not a pyenv shim: these run ~70 times per kill loop.
PY=$(python3 -c 'import sys; print(sys.executable)')
killpoints() { "$PY" "$LIB/killpoints.py" "$@"; }
layoutcheck() { "$PY" "$LIB/layoutcheck.py" "$@"; }

# note TEXT: a line in bats' TAP output (shown with the test's result).
note() { echo "# $*" >&3; }

# no_temporaries OUT: no staging folder of ociuser in OUT or beside it, nothing in TMPDIR.
no_temporaries() {
	local out=$1 parent name left
	parent=$(dirname "$out")
	name=$(basename "$out")
	if [ -d "$out" ]; then
		left=$(find "$out" -maxdepth 1 -name '.ociuser-staging-*')
		[ -z "$left" ] || fail "staging folders left in OUT:" "$left"
	fi
	left=$(find "$parent" -maxdepth 1 -name ".$name.ociuser-*")
	[ -z "$left" ] || fail "staging folders left beside OUT:" "$left"
	if [ -d "$out/blobs/sha256" ]; then
		left=$(find "$out/blobs/sha256" -mindepth 1 -regextype posix-extended ! -regex '.*/[0-9a-f]{64}')
		[ -z "$left" ] || fail "non-blob files in OUT/blobs/sha256:" "$left"
	fi
	left=$(find "$TMPDIR" -mindepth 1)
	[ -z "$left" ] || fail "files left in TMPDIR:" "$left"
}

# skopeo_ok OUT TAG [copy]: skopeo inspects OUT:TAG (and, with copy, copies it to an
# oci-archive, which reads every blob and checks its digest and size).
skopeo_ok() {
	local out=$1 tag=$2 got
	got=$(skopeo inspect "oci:$out:$tag" 2>&1) || fail "skopeo inspect oci:$out:$tag failed:" "$got"
	if [ "${3:-}" = copy ]; then
		rm -f "$T/copy.tar"
		got=$(skopeo copy -q "oci:$out:$tag" "oci-archive:$T/copy.tar" 2>&1) ||
			fail "skopeo copy oci:$out:$tag failed:" "$got"
		rm -f "$T/copy.tar"
	fi
}

@test "SIGKILL at 50+ moments of a build into a layout with two tags: every tag survives whole" {
	local out=$T/out
	cp -a "$F/L0" "$out"

	# T: the wall time of the build that gets killed, into a copy of the layout (the
	# fastest of 3, so that a busy machine calming down does not let most of the late
	# kills come after the build is over).
	local tb
	cp -a "$F/L0" "$T/timing"
	tb=$(killpoints time 3 -- "$OCIUSER" build "$F/one-b.ini" -o "$T/timing" -t one --source-date-epoch "$EPOCH")
	rm -rf "$T/timing"
	note "build wall time T = ${tb}s; kills at i*T/$KILL_POINTS, i = 1..$KILL_POINTS, plus 6 early, 5 at 1.05T..1.25T, 3 on a blob renamed in, 3 on index.json replaced"

	# Early kills (at once, 1 ms, 3 ms, 10 ms, 30 ms, 60 ms); the spread i*T/N; the end
	# (1.05T to 1.25T); and kills on events of the commit, which timing alone hits
	# rarely on a busy machine: as soon as a new blob is renamed into OUT ("blob", with
	# a spec whose config and manifest are new), and as soon as index.json is replaced
	# ("index": the new image must then be the one the tag names).
	local -a extra moments
	mapfile -t extra < <("$PY" -c "for k in range(5): print('%.4f' % ($tb * (1.05 + 0.05 * k)))")
	mapfile -t moments < <(killpoints moments "$tb" "$KILL_POINTS" 0 0.001 0.003 0.01 0.03 0.06 "${extra[@]}")
	moments+=(blob index blob index blob index)
	[ "${#moments[@]}" -ge 67 ] || fail "only ${#moments[@]} kill moments"

	declare -A want=([one]=$D_ONE_A [two]=$D_TWO)
	local i=0 m when tag spec newd old res before after expect_d n_killed=0 n_done=0 n_new_seen=0 n_ev=0
	local n_index_kills=0 n_blob_kills=0 nblobs
	local -a expects
	for m in "${moments[@]}"; do
		i=$((i + 1))
		when=$m
		# Every 4th build adds a new tag; the others replace 'one' by the other variant.
		if [ "$m" = blob ]; then
			n_ev=$((n_ev + 1))
			tag=ev$n_ev spec=$F/ev$n_ev.ini newd=$(cat "$F/D_ev$n_ev") old=-
			when=newentry:$out/blobs/sha256
		elif [ $((i % 4)) -eq 0 ]; then
			tag=new$i spec=$F/new.ini newd=$D_NEW old=-
		else
			tag=one old=${want[one]}
			if [ "$old" = "$D_ONE_A" ]; then
				spec=$F/one-b.ini newd=$D_ONE_B
			else
				spec=$F/one-a.ini newd=$D_ONE_A
			fi
		fi
		[ "$m" != index ] || when=changed:$out/index.json
		before=$(sha256sum <"$out/index.json")
		nblobs=$(find "$out/blobs/sha256" -mindepth 1 | wc -l)
		res=$(killpoints at "$when" "$T/stdout" "$T/stderr" -- \
			"$OCIUSER" build "$spec" -o "$out" -t "$tag" --source-date-epoch "$EPOCH")
		case $res in
		killed*) n_killed=$((n_killed + 1)) ;;
		"exit 0 "*)
			n_done=$((n_done + 1))
			assert_eq "$(cat "$T/stdout")" "$newd" "digest printed by the build that finished (kill $i)"
			;;
		*) fail "kill $i at ${m}s: the build $res" "stderr: $(cat "$T/stderr")" ;;
		esac
		[ -f "$out/index.json" ] || fail "kill $i at ${m}s ($res): index.json is gone"
		after=$(sha256sum <"$out/index.json")
		# index.json replaced <=> the new image is the one the tag names; else the old.
		if [ "$before" != "$after" ]; then
			expect_d=$newd
			n_new_seen=$((n_new_seen + 1))
			case $res in killed*) n_index_kills=$((n_index_kills + 1)) ;; esac
		else
			expect_d=$old
			case $res in "exit 0 "*) fail "kill $i: the build finished but index.json is unchanged" ;; esac
			if [ "$m" = blob ] && [[ $res == killed* ]] && [ "$(find "$out/blobs/sha256" -mindepth 1 | wc -l)" -gt "$nblobs" ]; then
				n_blob_kills=$((n_blob_kills + 1))
			fi
		fi
		expects=(--expect "$tag=$expect_d")
		local t
		for t in "${!want[@]}"; do
			[ "$t" = "$tag" ] || expects+=(--expect "$t=${want[$t]}")
		done
		run layoutcheck "$out" --allow-staging --cache "$T/hashes.json" "${expects[@]}"
		[ "$status" -eq 0 ] || fail "kill $i at ${m}s ($res, index.json $([ "$before" = "$after" ] && echo kept || echo replaced)):" "$output"
		# The tags are exactly those that existed, plus the new one if it was committed.
		local listed wanted
		listed=$(cut -d' ' -f1 <<<"$output" | sort | tr '\n' ' ')
		[ "$expect_d" = - ] || want[$tag]=$expect_d
		wanted=$(printf '%s\n' "${!want[@]}" | sort | tr '\n' ' ')
		assert_eq "$listed" "$wanted" "tags after kill $i"
		for t in "${!want[@]}"; do
			if [ $((i % 5)) -eq 0 ] || { [ "$t" = "$tag" ] && [ "$before" != "$after" ]; }; then
				skopeo_ok "$out" "$t" copy
			else
				skopeo_ok "$out" "$t"
			fi
		done
	done
	local staging
	staging=$(find "$out" -maxdepth 1 -name '.ociuser-staging-*' | wc -l)
	note "$i kill points survived: $n_killed killed mid-build, $n_done finished first; index.json replaced $n_new_seen times ($n_index_kills of them killed after the replace); $n_blob_kills killed with new blobs in OUT and index.json not yet replaced; $staging staging folder(s) left before the next build"
	[ "$n_index_kills" -ge 1 ] || fail "no build was killed between the index.json replace and its exit"
	[ "$n_killed" -ge 50 ] || fail "only $n_killed builds were killed mid-build (T = ${tb}s)"

	# A normal build into the same OUT succeeds, removes the leftovers, keeps every tag.
	if [ "${want[one]}" = "$D_ONE_A" ]; then spec=$F/one-b.ini newd=$D_ONE_B; else spec=$F/one-a.ini newd=$D_ONE_A; fi
	build_ok "$spec" "$out" -t one
	assert_eq "$DIGEST" "$newd" "digest of the build after the kills"
	want[one]=$newd
	expects=()
	for t in "${!want[@]}"; do expects+=(--expect "$t=${want[$t]}"); done
	run layoutcheck "$out" "${expects[@]}"
	[ "$status" -eq 0 ] || fail "after the final build:" "$output"
	no_temporaries "$out"
	for t in "${!want[@]}"; do skopeo_ok "$out" "$t" copy; done
}

@test "two builds into the same OUT at once both succeed, OUT existing or missing (the lock)" {
	local out=$T/out round a b ra rb pa pb d1 d2 n both_staged=0
	declare -A want=()
	for round in 1 2 3 4 5 6; do
		# Odd rounds start with no OUT: both stage beside it and race to create it.
		if [ $((round % 2)) -eq 1 ]; then
			rm -rf "$out"
			want=()
		fi
		a=r${round}a b=r${round}b
		"$OCIUSER" build "$F/one-a.ini" -o "$out" -t "$a" --source-date-epoch "$EPOCH" >"$T/$a.out" 2>"$T/$a.err" &
		pa=$!
		"$OCIUSER" build "$F/new.ini" -o "$out" -t "$b" --source-date-epoch "$EPOCH" >"$T/$b.out" 2>"$T/$b.err" &
		pb=$!
		if [ $((round % 2)) -eq 1 ]; then
			# Did both see OUT missing and stage beside it? (Both then race to rename.)
			n=$("$PY" -c 'import os, sys, time
pa, pb, parent, pre = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def alive(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
most = 0
while alive(pa) or alive(pb):
    most = max(most, sum(1 for n in os.listdir(parent) if n.startswith(pre)))
    time.sleep(0.002)
print(most)' "$pa" "$pb" "$T" ".out.ociuser-")
			[ "$n" -lt 2 ] || both_staged=$((both_staged + 1))
		fi
		ra=0 rb=0
		wait "$pa" || ra=$?
		wait "$pb" || rb=$?
		[ "$ra" -eq 0 ] || fail "round $round: build $a exited $ra" "$(cat "$T/$a.err")"
		[ "$rb" -eq 0 ] || fail "round $round: build $b exited $rb" "$(cat "$T/$b.err")"
		d1=$(cat "$T/$a.out") d2=$(cat "$T/$b.out")
		assert_eq "$d1" "$D_ONE_A" "round $round: digest of $a"
		assert_eq "$d2" "$D_NEW" "round $round: digest of $b"
		want[$a]=$d1 want[$b]=$d2
		local expects=() t
		for t in "${!want[@]}"; do expects+=(--expect "$t=${want[$t]}"); done
		run layoutcheck "$out" "${expects[@]}"
		[ "$status" -eq 0 ] || fail "round $round (OUT $([ $((round % 2)) -eq 1 ] && echo missing || echo existing) at start):" "$output"
		assert_eq "$(wc -l <<<"$output")" "${#want[@]}" "round $round: number of tags"
		no_temporaries "$out"
		skopeo_ok "$out" "$a"
		skopeo_ok "$out" "$b" copy
	done
	note "OUT missing at the start: both builds staged beside it at once in $both_staged of 3 rounds"
	# Three at once into a missing OUT.
	rm -rf "$out"
	local pids=() tags=(x1 x2 x3) specs=("$F/one-a.ini" "$F/one-b.ini" "$F/new.ini") k rc
	for k in 0 1 2; do
		"$OCIUSER" build "${specs[$k]}" -o "$out" -t "${tags[$k]}" --source-date-epoch "$EPOCH" >"$T/${tags[$k]}.out" 2>"$T/${tags[$k]}.err" &
		pids+=($!)
	done
	for k in 0 1 2; do
		rc=0
		wait "${pids[$k]}" || rc=$?
		[ "$rc" -eq 0 ] || fail "three at once: build ${tags[$k]} exited $rc" "$(cat "$T/${tags[$k]}.err")"
	done
	run layoutcheck "$out" --expect "x1=$D_ONE_A" --expect "x2=$D_ONE_B" --expect "x3=$D_NEW"
	[ "$status" -eq 0 ] || fail "three at once:" "$output"
	no_temporaries "$out"
}

# small_inputs DIR: a small base and a 3 MiB app of random bytes (its gzip layer is as
# big), with specs small.ini (tag keep) and big.ini (tag big) in DIR.
small_inputs() {
	local d=$1
	mkbase "$d/base.tar"
	python3 "$LIB/crashgen.py" app "$d/bigapp" --files 24 --kib 3072 --random
	printf '[image]\nbase = base.tar\ntag = keep\n[user]\nname = keeper\n' >"$d/small.ini"
	printf '[image]\nbase = base.tar\ntag = big\n[user]\nname = app\n[files]\n/app = bigapp/\n' >"$d/big.ini"
}

# expect_clean_failure OUT NEEDLE CMD...: CMD (a build into OUT) exits 1 naming NEEDLE
# on stderr, prints nothing on stdout, OUT is byte for byte as it was (or still
# absent) and no temporary is left.
expect_clean_failure() {
	local out=$1 needle=$2 before after
	shift 2
	before=$(snapshot "$out")
	run --separate-stderr "$@"
	after=$(snapshot "$out")
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status" "stderr: $stderr" "stdout: $output"
	[ -z "$output" ] || fail "stdout should be empty on error, got: $output"
	assert_contains "$stderr" "ociuser: "
	assert_contains "$stderr" "$needle"
	[ "$before" = "$after" ] || fail "OUT changed by a failed build ($stderr):" "$(diff <(echo "$before") <(echo "$after"))"
	no_temporaries "$out"
}

@test "a full disk (2 MiB tmpfs): exit 1 naming ENOSPC, OUT as it was, no temporaries" {
	need_root
	MNT=$T/mnt
	mkdir -p "$MNT"
	if ! mount -t tmpfs -o size=2m tmpfs "$MNT" 2>"$T/mount.err"; then
		MNT=
		skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
	fi
	small_inputs "$T"
	# OUT an existing layout on the full file system.
	build_ok "$T/small.ini" "$MNT/out"
	expect_clean_failure "$MNT/out" "No space left on device" \
		"$OCIUSER" build "$T/big.ini" -o "$MNT/out" --source-date-epoch "$EPOCH"
	run layoutcheck "$MNT/out" --expect "keep=$DIGEST"
	[ "$status" -eq 0 ] || fail "$output"
	skopeo_ok "$MNT/out" keep copy
	# OUT missing: it stays missing.
	expect_clean_failure "$MNT/new" "No space left on device" \
		"$OCIUSER" build "$T/big.ini" -o "$MNT/new" --source-date-epoch "$EPOCH"
	# Nothing hidden (an unlinked file still open, a staging folder) holds space.
	rm -rf "$MNT/out"
	assert_eq "$(df --output=used -B1 "$MNT" | tail -1 | tr -d ' ')" 0 "bytes used on the tmpfs once OUT is removed"
}

@test "a disk that fills at every step of the commit: success, or exit 1 with OUT as it was" {
	need_root
	MNT=$T/mnt
	mkdir -p "$MNT"
	if ! mount -t tmpfs -o size=2m tmpfs "$MNT" 2>"$T/mount.err"; then
		MNT=
		skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
	fi
	mkbase "$T/base.tar"
	python3 "$LIB/crashgen.py" app "$T/app" --files 4 --kib 48 --random
	printf '[image]\nbase = base.tar\ntag = keep\n[user]\nname = keeper\n' >"$T/small.ini"
	printf '[image]\nbase = base.tar\ntag = app\n[user]\nname = app\n[files]\n/app = app/\n' >"$T/app.ini"
	build_ok "$T/small.ini" "$T/seed"
	local keep=$DIGEST app_digest
	build_ok "$T/app.ini" "$T/ref"
	app_digest=$DIGEST
	# Free space from 0 up, one page at a time, until the build fits.
	local free ok=0 failed=0 before after avail problems=()
	for free in $(seq 0 4096 $((160 * 1024))); do
		rm -rf "$MNT/out" "$MNT/fill"
		cp -a "$T/seed" "$MNT/out"
		avail=$(df --output=avail -B1 "$MNT" | tail -1 | tr -d ' ')
		fallocate -l $((avail - free)) "$MNT/fill" || fail "cannot fill the tmpfs"
		avail=$(df --output=avail -B1 "$MNT" | tail -1 | tr -d ' ')
		assert_eq "$avail" "$free" "free bytes on the tmpfs"
		before=$(snapshot "$MNT/out")
		run --separate-stderr "$OCIUSER" build "$T/app.ini" -o "$MNT/out" --source-date-epoch "$EPOCH"
		after=$(snapshot "$MNT/out")
		if [ "$status" -eq 0 ]; then
			ok=$((ok + 1))
			assert_eq "$output" "$app_digest" "digest with $free bytes free"
			run layoutcheck "$MNT/out" --expect "keep=$keep" --expect "app=$app_digest"
			[ "$status" -eq 0 ] || fail "$free bytes free, build succeeded:" "$output"
			no_temporaries "$MNT/out"
			break
		fi
		# A failure: every step is checked, and the problems of all steps reported.
		failed=$((failed + 1))
		[ "$status" -eq 1 ] || problems+=("$free bytes free: exit $status: $stderr")
		[[ $stderr == *"No space left on device"* ]] || problems+=("$free bytes free: no ENOSPC message: $stderr")
		[ "$before" = "$after" ] || problems+=("$free bytes free: OUT changed by the failed build ($stderr):" "$(diff <(echo "$before") <(echo "$after") | grep '^> .* f ')")
		(no_temporaries "$MNT/out") 2>"$T/tmp.err" || problems+=("$free bytes free: $(cat "$T/tmp.err")")
		run layoutcheck "$MNT/out" --expect "keep=$keep" --expect "app=-"
		[ "$status" -eq 0 ] || problems+=("$free bytes free: $output")
	done
	note "disk-full sweep: $failed failures, then success at $free bytes free; ${#problems[@]} problem line(s)"
	[ "${#problems[@]}" -eq 0 ] || fail "${problems[@]}"
	[ "$ok" -eq 1 ] || fail "the build never fitted in 160 KiB"
}

@test "a file size limit (ulimit -f, SIGXFSZ ignored): exit 1 naming EFBIG, OUT as it was, no temporaries" {
	small_inputs "$T"
	build_ok "$T/small.ini" "$T/out"
	local keep=$DIGEST
	# 1024 KiB: the 3 MiB layer cannot be written.
	expect_clean_failure "$T/out" "File too large" \
		bash -c 'trap "" XFSZ; ulimit -f 1024; exec "$@"' ulimit "$OCIUSER" build "$T/big.ini" -o "$T/out" --source-date-epoch "$EPOCH"
	run layoutcheck "$T/out" --expect "keep=$keep" --expect "big=-"
	[ "$status" -eq 0 ] || fail "$output"
	skopeo_ok "$T/out" keep copy
	# OUT missing: it stays missing.
	expect_clean_failure "$T/new" "File too large" \
		bash -c 'trap "" XFSZ; ulimit -f 1024; exec "$@"' ulimit "$OCIUSER" build "$T/big.ini" -o "$T/new" --source-date-epoch "$EPOCH"
	# A gzip base is decompressed into a temporary file: a limit below its size fails
	# there, cleanly too.
	gzip -k "$T/base.tar"
	python3 "$LIB/crashgen.py" base "$T/gen.tar" --files 40 --kib 2048
	gzip "$T/gen.tar"
	printf '[image]\nbase = gen.tar.gz\ntag = gz\n[user]\nname = app\n' >"$T/gz.ini"
	expect_clean_failure "$T/out" "File too large" \
		bash -c 'trap "" XFSZ; ulimit -f 512; exec "$@"' ulimit "$OCIUSER" build "$T/gz.ini" -o "$T/out" --source-date-epoch "$EPOCH"
	run layoutcheck "$T/out" --expect "keep=$keep" --expect "gz=-"
	[ "$status" -eq 0 ] || fail "$output"
}
