#!/bin/bash
# Benchmark: the same job (a dedicated user, an app tree owned by it, one
# private file, User set) done by ociuser and by its peers on this machine,
# each run RUNS times; prints the median wall time, the ratio to ociuser and
# the median peak RSS. Peers: umoci (unpack, edit, chown, repack) and, when
# installed, buildah (vfs storage; copy --chown, config, commit).
#
# usage: bench/bench.sh [RUNS] [BASE_FILES] [APP_FILES]
# Needs root for the peers (chown, buildah); ociuser itself does not.
set -euo pipefail

RUNS=${1:-5}
BASE_FILES=${2:-4000}
APP_FILES=${3:-6000}
top=$(cd "$(dirname "$0")/.." && pwd)
# buildah wants lower-case paths in image references: no mktemp letters.
work=/var/tmp/ociuser-bench-$$
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# A build without sanitizers: speed is what users get, not what ASan costs.
if [ ! -f "$top/build-bench/build.ninja" ]; then
	(cd "$top" && meson setup build-bench -Dbuildtype=release -Dtests=disabled >/dev/null)
fi
ninja -C "$top/build-bench" ociuser >/dev/null
OCIUSER=$top/build-bench/ociuser

echo "generating inputs: $BASE_FILES base files, $APP_FILES app files" >&2
python3 "$top/bench/gen.py" "$work/in" "$BASE_FILES" "$APP_FILES"
in=$work/in

cat >"$in/spec.ini" <<INI
[image]
base = base.tar.gz
cmd = ["/usr/bin/node", "/app/index.js"]
[user]
name = app
uid = 999
gid = 999
[files]
/app = app/
[sensitive]
/app/config/secret.json = 0640
INI

# The peers start from the same base as an OCI layout (made once, not timed).
mkdir "$work/rootfs"
tar -xzf "$in/base.tar.gz" -C "$work/rootfs"
umoci init --layout "$work/baselayout" >/dev/null
umoci new --image "$work/baselayout:base" >/dev/null
umoci insert --image "$work/baselayout:base" "$work/rootfs" / >/dev/null

job_ociuser() {
	"$OCIUSER" build "$in/spec.ini" -o "$1/out" -q >/dev/null
}

job_umoci() {
	cp -a "$work/baselayout" "$1/l"
	umoci unpack --image "$1/l:base" "$1/b" >/dev/null
	echo 'app:x:999:999::/home/app:/usr/sbin/nologin' >>"$1/b/rootfs/etc/passwd"
	echo 'app:x:999:' >>"$1/b/rootfs/etc/group"
	mkdir -p "$1/b/rootfs/home/app"
	cp -a "$in/app" "$1/b/rootfs/app"
	chown -R 999:999 "$1/b/rootfs/app" "$1/b/rootfs/home/app"
	chmod 0750 "$1/b/rootfs/home/app"
	chmod 0640 "$1/b/rootfs/app/config/secret.json"
	umoci repack --image "$1/l:latest" "$1/b" >/dev/null
	umoci config --image "$1/l:latest" --config.user 999 \
		--config.cmd /usr/bin/node --config.cmd /app/index.js >/dev/null
}

job_buildah() {
	local b=(buildah --root "$1/storage" --runroot "$1/run" --storage-driver vfs)
	local c
	c=$("${b[@]}" from -q "oci:$work/baselayout:base")
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\napp:x:999:999::/home/app:/usr/sbin/nologin\n' >"$1/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\napp:x:999:\n' >"$1/group"
	"${b[@]}" copy -q "$c" "$1/passwd" /etc/passwd >/dev/null
	"${b[@]}" copy -q "$c" "$1/group" /etc/group >/dev/null
	"${b[@]}" copy -q --chown 999:999 "$c" "$in/app" /app >/dev/null
	"${b[@]}" copy -q --chown 999:999 --chmod 0640 "$c" "$in/app/config/secret.json" \
		/app/config/secret.json >/dev/null
	"${b[@]}" config --user 999 --cmd '["/usr/bin/node","/app/index.js"]' "$c" >/dev/null
	"${b[@]}" commit -q "$c" "oci:$1/out:latest" >/dev/null
}

median() {
	sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

declare -A TIME RSS
tools=(ociuser umoci)
command -v buildah >/dev/null && tools+=(buildah)
for tool in "${tools[@]}"; do
	: >"$work/$tool.times"
	: >"$work/$tool.rss"
	for ((i = 1; i <= RUNS; i++)); do
		run=$work/run-$tool-$i
		mkdir "$run"
		# shellcheck disable=SC2016
		/usr/bin/time -f '%e %M' -o "$work/t" bash -c "$(declare -f job_$tool); \
			OCIUSER='$OCIUSER' in='$in' work='$work' job_$tool '$run'"
		read -r t m <"$work/t"
		echo "$t" >>"$work/$tool.times"
		echo "$m" >>"$work/$tool.rss"
		rm -rf "$run"
		echo "  $tool run $i: ${t}s, ${m} KiB" >&2
	done
	TIME[$tool]=$(median <"$work/$tool.times")
	RSS[$tool]=$(median <"$work/$tool.rss")
done

printf '\n%-10s %12s %14s %16s\n' tool "median s" "x ociuser" "median RSS MiB"
for tool in "${tools[@]}"; do
	awk -v n="$tool" -v t="${TIME[$tool]}" -v b="${TIME[ociuser]}" -v m="${RSS[$tool]}" \
		'BEGIN {printf "%-10s %12.2f %14.1f %16.1f\n", n, t, t / b, m / 1024}'
done
printf '\n%d runs each; base: %s gzip, app: %s files (%s)\n' "$RUNS" \
	"$(du -h "$in/base.tar.gz" | cut -f1)" "$APP_FILES" "$(du -sh "$in/app" | cut -f1)"
