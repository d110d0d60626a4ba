#!/bin/bash
# Runs the integration suites (tests/integration/*.bats) against the real binary.
# meson test sets OCIUSER (the binary) and OU_SOURCE_ROOT (the repository); by hand:
#   OCIUSER=build/ociuser tests/integration/run.sh [FILE.bats...]
# Output is TAP; the exit status is bats'.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export OU_SOURCE_ROOT=${OU_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
export OCIUSER=${OCIUSER:-$OU_SOURCE_ROOT/build/ociuser}
case "$OCIUSER" in /*) ;; *) OCIUSER=$(pwd)/$OCIUSER ;; esac

if [ ! -x "$OCIUSER" ]; then
	echo "run.sh: no ociuser binary at '$OCIUSER' (build it: ninja -C build)" >&2
	exit 1
fi
if ! command -v bats >/dev/null 2>&1; then
	echo "run.sh: bats is not installed (scripts/setup.sh installs it)" >&2
	exit 1
fi

if [ "$#" -eq 0 ]; then
	set -- "$here"/*.bats
fi
exec bats --tap "$@"
