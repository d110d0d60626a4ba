#!/bin/bash
# The demo on a fresh Debian 12 machine: install and build (scripts/setup.sh), make a tiny
# busybox base, build specs/demo.ini into demo/out, show it with skopeo, and run it as its
# user. Everything it makes is under demo/ (git-ignored).
set -euo pipefail

cd "$(dirname "$0")/.."

scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

mkdir -p demo
step "making the demo bases from Debian's busybox-static (python3 tarfile, no root needed)"
python3 tests/integration/lib/mkbase.py demo/busybox-rootfs.tar.gz --preset busybox --compress gzip
python3 tests/integration/lib/mkbase.py demo/python-base.tar.gz --preset busybox --compress gzip
ls -l demo/busybox-rootfs.tar.gz demo/python-base.tar.gz

step "build/ociuser build specs/demo.ini -o demo/out"
digest=$(build/ociuser build specs/demo.ini -o demo/out)
echo "$digest"

step "skopeo inspect oci:demo/out:latest"
skopeo inspect oci:demo/out:latest

step "skopeo inspect --config oci:demo/out:latest | jq .config"
skopeo inspect --config oci:demo/out:latest | jq .config

step "build/ociuser build specs/python-app.ini -o demo/out (tag python-app)"
build/ociuser build specs/python-app.ini -o demo/out -t python-app
jq -r '.manifests[] | "\(.annotations["org.opencontainers.image.ref.name"])\t\(.digest)"' demo/out/index.json

# Running needs root (umoci applies owners on unpack; chroot switches user).
if [ "$(id -u)" -eq 0 ]; then
	step "umoci unpack --image demo/out:latest demo/bundle, then run the image's command as its user"
	rm -rf demo/bundle
	umoci unpack --image demo/out:latest demo/bundle >/dev/null
	uid=$(jq -r .process.user.uid demo/bundle/config.json)
	gid=$(jq -r .process.user.gid demo/bundle/config.json)
	env_args=()
	while IFS= read -r kv; do env_args+=("$kv"); done < <(jq -r '.process.env[]' demo/bundle/config.json)
	echo "chroot --userspec=$uid:$gid --groups= demo/bundle/rootfs /app/hello.sh"
	(cd demo/bundle/rootfs && env -i "${env_args[@]}" chroot --userspec="$uid:$gid" --groups= . /app/hello.sh)
else
	step "not root: skipping the run (umoci unpack and chroot need root)"
fi

step "done: load it with 'skopeo copy oci:demo/out:latest docker-archive:demo/demo.tar:demo:latest' or 'podman run oci:demo/out:latest'"
