#!/usr/bin/env bats
# The output layout: index.json and tags (C12), media types that match the bytes (C13
# b, c), base layers reused byte for byte or recompressed once, config fields.

load lib/common

setup() {
	common_setup
	mkbase base.tar
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

@test "C12: two tags in one OUT, the same tag replaced, others kept" {
	printf '[image]\nbase = base.tar\ntag = 1.0\n[user]\nname = app\n' >one.ini
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >two.ini
	build_ok one.ini
	local d1=$DIGEST
	build_ok two.ini
	local d2=$DIGEST
	assert_eq "$(jq -c . out/oci-layout)" '{"imageLayoutVersion":"1.0.0"}' oci-layout
	assert_eq "$(jq -r .schemaVersion out/index.json)" 2 schemaVersion
	assert_eq "$(jq -r .mediaType out/index.json)" application/vnd.oci.image.index.v1+json mediaType
	assert_eq "$(jq '.manifests | length' out/index.json)" 2 "descriptors"
	assert_eq "$(jq -r '[.manifests[].mediaType] | unique | join(",")' out/index.json)" application/vnd.oci.image.manifest.v1+json "descriptor types"
	assert_eq "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.0") | .digest' out/index.json)" "$d1" "1.0"
	assert_eq "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' out/index.json)" "$d2" "latest"
	skopeo inspect oci:out:1.0 >/dev/null
	skopeo inspect oci:out:latest >/dev/null
	skopeo copy -q oci:out:1.0 dir:"$T/d" >/dev/null
	umoci unpack --rootless --image out:1.0 "$T/b" >/dev/null 2>&1
	oci-image-tool validate --type image --ref name=1.0 out
	oci-image-tool validate --type image --ref name=latest out

	printf '[image]\nbase = base.tar\ntag = 1.0\nlabel = rev=2\n[user]\nname = app\n' >three.ini
	build_ok three.ini
	local d3=$DIGEST
	[ "$d3" != "$d1" ] || fail "the label did not change the digest"
	assert_eq "$(jq '.manifests | length' out/index.json)" 2 "descriptors after replacing 1.0"
	assert_eq "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.0") | .digest' out/index.json)" "$d3" "1.0 after run 3"
	assert_eq "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' out/index.json)" "$d2" "latest after run 3"
	assert_eq "$(skopeo inspect --config oci:out:1.0 | jq -r .config.Labels.rev)" 2 label
	check_image out 1.0
	check_image out latest
}

@test "C12: a tag with a registry and a path is stored verbatim" {
	printf '[image]\nbase = base.tar\ntag = registry.example.com/team/app:1.0\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' out/index.json)" registry.example.com/team/app:1.0 tag
}

@test "-t overrides the spec's tag" {
	printf '[image]\nbase = base.tar\ntag = fromspec\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini "$T/out" -t fromcli
	assert_eq "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' out/index.json)" fromcli tag
}

@test "stdout is exactly the manifest digest of the tagged image" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(jq -r .manifests[0].digest out/index.json)" "$DIGEST" digest
	assert_eq "sha256:$(sha "out/blobs/sha256/${DIGEST#sha256:}")" "$DIGEST" "manifest blob hash"
	assert_eq "$(skopeo inspect oci:out:latest | jq -r .Digest)" "$DIGEST" "skopeo's digest"
}

@test "C13 b: gzip, zstd and plain tar bases are reused byte for byte" {
	mkbase base.tar.gz --compress gzip
	mkbase base.zst.tar --compress zstd
	local b expect
	for b in base.tar:application/vnd.oci.image.layer.v1.tar \
		base.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip \
		base.zst.tar:application/vnd.oci.image.layer.v1.tar+zstd; do
		printf '[image]\nbase = %s\ncompression = none\n[user]\nname = app\n' "${b%%:*}" >spec.ini
		rm -rf out
		build_ok spec.ini
		expect=${b#*:}
		assert_eq "$(layers out latest manifest | jq -r '.layers[0].mediaType')" "$expect" "${b%%:*} media type"
		assert_eq "$(layers out latest manifest | jq -r '.layers[0].digest')" "sha256:$(sha "${b%%:*}")" "${b%%:*} layer digest"
		assert_eq "$(config out | jq -r '.rootfs.diff_ids[0]')" "sha256:$(sha base.tar)" "${b%%:*} diff_id"
		assert_eq "$(layers out latest manifest | jq -r '.layers[1].mediaType')" application/vnd.oci.image.layer.v1.tar "new layer with compression = none"
		check_image out
	done
}

@test "C13 b: xz and bzip2 bases are recompressed once with the spec's compression (default gzip)" {
	mkbase base.xz.tar --compress xz
	mkbase base.bz2.tar --compress bzip2
	local b c mt
	for b in base.xz.tar base.bz2.tar; do
		for c in default:+gzip gzip:+gzip zstd:+zstd none:; do
			if [ "${c%%:*}" = default ]; then
				printf '[image]\nbase = %s\n[user]\nname = app\n' "$b" >spec.ini
			else
				printf '[image]\nbase = %s\ncompression = %s\n[user]\nname = app\n' "$b" "${c%%:*}" >spec.ini
			fi
			rm -rf out
			build_ok spec.ini
			mt=application/vnd.oci.image.layer.v1.tar${c#*:}
			assert_eq "$(layers out latest manifest | jq -r '.layers[0].mediaType')" "$mt" "$b with compression ${c%%:*}"
			assert_eq "$(config out | jq -r '.rootfs.diff_ids[0]')" "sha256:$(sha base.tar)" "$b diff_id (${c%%:*})"
			check_image out
		done
	done
}

@test "C13 c: compression none, zstd and gzip (default) for the layers ociuser writes" {
	local c
	for c in none:application/vnd.oci.image.layer.v1.tar zstd:application/vnd.oci.image.layer.v1.tar+zstd \
		gzip:application/vnd.oci.image.layer.v1.tar+gzip default:application/vnd.oci.image.layer.v1.tar+gzip; do
		if [ "${c%%:*}" = default ]; then
			printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
		else
			printf '[image]\nbase = base.tar\ncompression = %s\n[user]\nname = app\n' "${c%%:*}" >spec.ini
		fi
		rm -rf out
		build_ok spec.ini
		assert_eq "$(layers out latest manifest | jq -r '.layers[1].mediaType')" "${c#*:}" "compression ${c%%:*}"
		check_image out
		skopeo copy -q oci:out:latest oci:"$T/copy-${c%%:*}":latest >/dev/null
	done
}

@test "gzip layers carry no name and no time in their header" {
	mkdir app && echo a >app/a
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini
	local d
	for d in $(layers out latest manifest | jq -r '.layers[1:][].digest'); do
		python3 - "out/blobs/sha256/${d#sha256:}" <<'PY'
import sys
b = open(sys.argv[1], "rb").read(10)
assert b[:2] == b"\x1f\x8b", "not gzip"
flags, mtime = b[3], int.from_bytes(b[4:8], "little")
assert not flags & 0x08, "gzip header has a file name"
assert mtime == 0, "gzip header has a time: %d" % mtime
PY
	done
}

@test "config: cmd, entrypoint, workdir, env, labels, ports, stop signal, platform, PATH; annotations" {
	spec spec.ini <<'INI'
[image]
base = base.tar
cmd = ["python3", "/app/main.py"]
entrypoint = /bin/sh -c 'exec "$@"' --
workdir = /app
env = PYTHONUNBUFFERED=1
env = A=first
env = A=second
env = "SPACED=  two  spaces  "
label = org.opencontainers.image.title=demo
annotation = org.opencontainers.image.source=https://example.com/repo
expose = 8080
expose = 53/udp
expose = 443/tcp
stop_signal = SIGINT
architecture = arm64
variant = v8
os = linux
[user]
name = app
INI
	build_ok spec.ini
	local c
	c=$(config out)
	assert_eq "$(jq -c .config.Cmd <<<"$c")" '["python3","/app/main.py"]' Cmd
	assert_eq "$(jq -c .config.Entrypoint <<<"$c")" '["/bin/sh","-c","/bin/sh -c '"'"'exec \"$@\"'"'"' --"]' Entrypoint
	assert_eq "$(jq -r .config.WorkingDir <<<"$c")" /app WorkingDir
	assert_eq "$(jq -r '.config.Env | map(select(startswith("A="))) | join(" ")' <<<"$c")" A=second "env A"
	assert_eq "$(jq -r '.config.Env | map(select(startswith("PYTHONUNBUFFERED="))) | .[0]' <<<"$c")" PYTHONUNBUFFERED=1 "env"
	assert_eq "$(jq -r '.config.Env | map(select(startswith("SPACED="))) | .[0]' <<<"$c")" "SPACED=  two  spaces  " "quoted env"
	jq -e '.config.Env | map(select(startswith("PATH="))) | length == 1' <<<"$c" >/dev/null || fail "no PATH in Env: $c"
	assert_eq "$(jq -r '.config.Labels["org.opencontainers.image.title"]' <<<"$c")" demo label
	assert_eq "$(jq -c '.config.ExposedPorts | keys' <<<"$c")" '["443/tcp","53/udp","8080/tcp"]' ExposedPorts
	assert_eq "$(jq -r .config.StopSignal <<<"$c")" SIGINT StopSignal
	assert_eq "$(jq -r '"\(.architecture) \(.variant) \(.os)"' <<<"$c")" "arm64 v8 linux" platform
	assert_eq "$(layers out latest manifest | jq -r '.annotations["org.opencontainers.image.source"]')" https://example.com/repo annotation
	assert_eq "$(jq -r .rootfs.type <<<"$c")" layers rootfs.type
	assert_eq "$(jq -r .config.User <<<"$c")" 999 User
}

@test "the platform defaults to the build host's for a tarball base" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	local arch
	case "$(uname -m)" in
	x86_64) arch=amd64 ;;
	aarch64) arch=arm64 ;;
	*) skip "unmapped host architecture $(uname -m)" ;;
	esac
	assert_eq "$(config out | jq -r .architecture)" "$arch" architecture
	assert_eq "$(config out | jq -r .os)" linux os
}

@test "CRLF line endings, comments and surrounding whitespace are accepted" {
	printf '# comment\r\n; another\r\n[image]\r\n  base   =   base.tar  \r\ncmd = ["/bin/sh"]\r\n[user]\r\nname = app\r\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(config out | jq -c .config.Cmd)" '["/bin/sh"]' Cmd
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "app:x:999:999::/home/app:/usr/sbin/nologin" passwd
}

@test "relative paths resolve against the spec's folder, not the current directory" {
	mkdir -p proj/app elsewhere
	mv base.tar proj/ && echo a >proj/app/a
	printf '[image]\nbase = base.tar\n[user]\nname = app\n[files]\n/app = app/\n' >proj/spec.ini
	cd elsewhere
	build_ok ../proj/spec.ini "$T/out"
	entry_is "$T/out" app/a file 999:999 app:app 0644
}

@test "a crash-free replace: index.json names only complete blobs, no temp files remain" {
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	build_ok spec.ini "$T/out" -t other
	[ -z "$(find out -type f ! -path 'out/blobs/sha256/*' ! -name index.json ! -name oci-layout)" ] ||
		fail "stray files in OUT:" "$(find out -type f)"
	local f
	for f in out/blobs/sha256/*; do
		assert_eq "$(sha "$f")" "$(basename "$f")" "blob $f"
	done
}
