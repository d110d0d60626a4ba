#!/bin/bash
# Prepares a Debian 12 machine to build and test ociuser, then builds it.
#
#   scripts/setup.sh            install what is missing, configure build/, ninja -C build
#
# Idempotent: packages already installed are not asked for again (no apt-get run at
# all when nothing is missing), and an existing build/ is reconfigured, not wiped.
# Runs as root, or through sudo when started by another user.
set -euo pipefail

cd "$(dirname "$0")/.."

PACKAGES=(
	# build
	build-essential meson ninja-build pkg-config git
	libarchive-dev libssl-dev libjansson-dev check
	clang libclang-rt-14-dev valgrind
	# consumers the integration tests check images with
	skopeo umoci oci-image-tool runc
	# test tooling
	busybox-static bats jq python3
	zstd xz-utils bzip2 tar libarchive-tools acl attr util-linux coreutils
)

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run this script as root"
	SUDO=(sudo)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	case "$p" in \#*) continue ;; esac
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	log "all ${#PACKAGES[@]} packages already installed"
else
	log "installing ${#missing[@]} package(s): ${missing[*]}"
	aptlog=$(mktemp)
	export DEBIAN_FRONTEND=noninteractive
	if ! "${SUDO[@]}" apt-get update -q >"$aptlog" 2>&1; then
		tail -n 30 "$aptlog" >&2
		die "apt-get update failed"
	fi
	if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" >"$aptlog" 2>&1; then
		tail -n 30 "$aptlog" >&2
		die "apt-get install failed"
	fi
	rm -f "$aptlog"
	log "packages installed"
fi

# build/ with ASan + UBSan and -Werror (build-dev.ini). A build folder that meson did not
# make (or a broken one) is set up again from scratch; a good one is reconfigured, which
# also picks up test files added since it was configured.
setuplog=$(mktemp)
if [ -f build/meson-private/coredata.dat ]; then
	log "reconfiguring build/"
	meson setup --reconfigure build --native-file build-dev.ini >"$setuplog" 2>&1 ||
		meson setup --wipe build --native-file build-dev.ini >"$setuplog" 2>&1 ||
		{ cat "$setuplog" >&2; rm -f "$setuplog"; die "meson setup failed"; }
else
	rm -rf build
	log "configuring build/"
	meson setup build --native-file build-dev.ini >"$setuplog" 2>&1 ||
		{ cat "$setuplog" >&2; rm -f "$setuplog"; die "meson setup failed"; }
fi
mv -f "$setuplog" build/setup.log

log "building (ninja -C build)"
if ! ninja -C build >build/ninja.log 2>&1; then
	tail -n 60 build/ninja.log >&2
	die "build failed (full log: build/ninja.log)"
fi
log "built $(pwd)/build/ociuser"
