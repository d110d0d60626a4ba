#!/bin/bash
# Figures for hostile bases and trees that are too slow for the test suite
# (tests/integration/hostile-*.bats): a base with a million entries, decompression bombs
# and a sparse 9 GiB file, each built by the ASan binary (build/ociuser) and by a
# release build without sanitizers, under /usr/bin/time -v.
#
#   scripts/measure-hostile.sh [--entries N] [--bomb SIZE] [--sparse SIZE] [--full]
#                              [--release DIR] [--only million|bomb|sparse]...
#
#   --entries N    entries in the big base (default 1000000); 1/4 and 1/2 of N are built
#                  too, to show what memory grows with
#   --bomb SIZE    uncompressed size of the zeros bomb (default 16G; suffix K, M, G)
#   --sparse SIZE  size of the sparse file (default 9G)
#   --full         also walk the whole sparse layer (every byte decompressed; minutes)
#   --release DIR  the release build folder (default: a new one in the work folder,
#                  made with meson setup DIR -Dbuildtype=release && ninja -C DIR)
#   OCIUSER        the ASan binary (default build/ociuser)
#
# Everything is made in one mktemp -d folder, removed at the end. Prints one line per
# run: what, binary, exit status, wall seconds, peak RSS.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
asan=${OCIUSER:-$root/build/ociuser}
lib=$root/tests/integration/lib
entries=1000000
bomb=16G
sparse=9G
full=0
rel=
only=()

while [ $# -gt 0 ]; do
	case $1 in
	--entries) entries=$2; shift 2 ;;
	--bomb) bomb=$2; shift 2 ;;
	--sparse) sparse=$2; shift 2 ;;
	--full) full=1; shift ;;
	--release) rel=$2; shift 2 ;;
	--only) only+=("$2"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "measure-hostile: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

want() {
	[ ${#only[@]} -eq 0 ] && return 0
	local o
	for o in "${only[@]}"; do [ "$o" = "$1" ] && return 0; done
	return 1
}

work=$(mktemp -d /tmp/measure-hostile.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

if [ -z "$rel" ]; then
	rel=$work/rel
	echo "== release build in $rel" >&2
	meson setup "$rel" "$root" -Dbuildtype=release -Dtests=disabled >"$work/meson.log" 2>&1 ||
		{ cat "$work/meson.log" >&2; exit 1; }
fi
ninja -C "$rel" ociuser >"$work/ninja.log" 2>&1 || { cat "$work/ninja.log" >&2; exit 1; }
release=$rel/ociuser

hostile() { python3 "$lib/mkhostile.py" "$@"; }

# spec FILE BASE [LINE...]
spec() {
	local f=$1 base=$2
	shift 2
	{
		printf '[image]\nbase = %s\n[user]\nname = app\n' "$base"
		printf '%s\n' "$@"
	} >"$f"
}

# measure WHAT BINARY SPEC OUT: builds, prints "WHAT | binary | exit | seconds | peak RSS"
measure() {
	local what=$1 bin=$2 spec=$3 out=$4 rc=0 secs rss fsout
	rm -rf "$out"
	/usr/bin/time -v -o "$work/time.txt" "$bin" build "$spec" -o "$out" --source-date-epoch 1 \
		>"$work/stdout" 2>"$work/stderr" || rc=$?
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
	fsout=$(awk -F': ' '/File system outputs/ {print $2}' "$work/time.txt")
	LAST_RSS=$rss
	printf '%-44s | %-7s | exit %-3s | %8.2f s | peak RSS %8d KB | written %s MiB\n' \
		"$what" "$([ "$bin" = "$asan" ] && echo asan || echo release)" "$rc" "$secs" "$rss" \
		"$((fsout / 2048))"
	if [ "$rc" -ne 0 ]; then
		sed 's/^/    /' "$work/stderr" | head -3
	fi
}

mkdir -p "$work/src"
echo 'print("hi")' >"$work/src/main.py"

if want million; then
	echo "== a base with many entries (empty files, 1000 a folder), gzip"
	declare -A rss_rel rss_asan
	for n in $((entries / 4)) $((entries / 2)) "$entries"; do
		t0=$(date +%s.%N)
		hostile many "many-$n.tar.gz" --count "$n" --compress gzip
		t1=$(date +%s.%N)
		printf '   generated %d entries in %.1f s: %d KiB gzip\n' "$n" "$(echo "$t1 - $t0" | bc)" \
			"$(($(stat -c %s "many-$n.tar.gz") / 1024))"
		spec "many-$n.ini" "many-$n.tar.gz" '[files]' '/app = src/'
		measure "$n entries" "$release" "many-$n.ini" "$work/out"
		rss_rel[$n]=$LAST_RSS
		measure "$n entries" "$asan" "many-$n.ini" "$work/out"
		rss_asan[$n]=$LAST_RSS
		sed 's/^\[image\]$/[image]\nsquash = true/' "many-$n.ini" >"many-$n-squash.ini"
		measure "$n entries, squash = true" "$release" "many-$n-squash.ini" "$work/out"
		rm -f "many-$n.tar.gz"
	done
	q=$((entries / 4))
	printf '   peak RSS grows by %d bytes (release), %d bytes (asan) per entry between %d and %d entries\n' \
		$(((rss_rel[$entries] - rss_rel[$q]) * 1024 / (entries - q))) \
		$(((rss_asan[$entries] - rss_asan[$q]) * 1024 / (entries - q))) "$q" "$entries"
fi

if want bomb; then
	echo "== decompression bombs (gzip of zeros; TMPDIR is $work/tmp)"
	mkdir -p "$work/tmp"
	for shape in zeros file; do
		hostile bomb "bomb-$shape.gz" --size "$bomb" --shape "$shape"
		printf '   %s: %s uncompressed in %d KiB of gzip\n' "$shape" "$bomb" \
			"$(($(stat -c %s "bomb-$shape.gz") / 1024))"
		spec "bomb-$shape.ini" "bomb-$shape.gz" '[files]' '/app = src/'
		TMPDIR=$work/tmp measure "bomb $bomb ($shape)" "$release" "bomb-$shape.ini" "$work/out"
		TMPDIR=$work/tmp measure "bomb $bomb ($shape)" "$asan" "bomb-$shape.ini" "$work/out"
		rm -f "bomb-$shape.gz"
	done
	hostile bomb bomb-passwd.gz --size 2G --shape passwd
	printf '   passwd: 2G uncompressed in %d KiB of gzip\n' "$(($(stat -c %s bomb-passwd.gz) / 1024))"
	spec bomb-passwd.ini bomb-passwd.gz
	TMPDIR=$work/tmp measure "bomb 2G /etc/passwd" "$release" bomb-passwd.ini "$work/out"
	TMPDIR=$work/tmp measure "bomb 2G /etc/passwd" "$asan" bomb-passwd.ini "$work/out"
	rm -f bomb-passwd.gz
fi

if want sparse; then
	echo "== a sparse $sparse file in [files]"
	rm -rf "$work/sp" && mkdir -p "$work/sp"
	truncate -s "$sparse" "$work/sp/big"
	printf TAIL >>"$work/sp/big"
	spec sparse.ini base.tar '[files]' '/app = sp/'
	python3 "$lib/mkbase.py" base.tar
	for bin in "$release" "$asan"; do
		measure "sparse $sparse + 4 bytes" "$bin" sparse.ini "$work/out"
	done
	blob=$work/out/blobs/sha256/$(python3 "$lib/layers.py" "$work/out" latest manifest |
		jq -r '.layers[-1].digest | ltrimstr("sha256:")')
	printf '   layer blob %d KiB; header: ' "$(($(stat -c %s "$blob") / 1024))"
	hostile walk "$blob" --until app/big | tail -1
	if [ "$full" -eq 1 ]; then
		t0=$(date +%s)
		last=$(hostile walk "$blob" | tail -1)
		echo "   whole walk ($(($(date +%s) - t0)) s): $last"
		echo "   diff_id:       $(python3 "$lib/layers.py" "$work/out" latest config | jq -r '.rootfs.diff_ids[-1]')"
	fi
fi
