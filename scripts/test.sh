#!/bin/bash
# Every test the project has, on a fresh Debian 12 machine:
#   1. scripts/setup.sh (packages, build/ with ASan + UBSan and -Werror)
#   2. meson test -C build: unit, fuzz corpus replay and integration (bats) suites
#   3. build-vg/ without sanitizers: the unit suite again under valgrind
# Exits non-zero when anything fails; the last line is "N passed, M failed".
set -uo pipefail

cd "$(dirname "$0")/.."

scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
status=0

# Adds the counts of one `meson test` run (its summary block) to the totals.
count() {
	local log=$1 ok bad
	ok=$(awk '/^Ok:/ {s += $2} END {print s + 0}' "$log")
	bad=$(awk '/^(Fail|Unexpected Pass|Timeout):/ {s += $NF} END {print s + 0}' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

printf '\n== meson test -C build (unit, fuzz replay, integration)\n'
meson test -C build --print-errorlogs 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count "$log"
if [ "$rc" -ne 0 ]; then
	status=1
	grep -q '^Fail:' "$log" || failed=$((failed + 1))
fi

printf '\n== build-vg: unit suite under valgrind\n'
vgok=1
if [ -f build-vg/meson-private/coredata.dat ]; then
	meson setup --reconfigure build-vg >"$log" 2>&1 || vgok=0
else
	rm -rf build-vg
	meson setup build-vg >"$log" 2>&1 || vgok=0
fi
if [ "$vgok" -eq 1 ] && ! ninja -C build-vg >"$log" 2>&1; then
	vgok=0
fi
if [ "$vgok" -eq 0 ]; then
	tail -n 40 "$log"
	echo "build-vg: setup or build failed"
	status=1
	failed=$((failed + 1))
fi
if [ "$vgok" -eq 1 ]; then
	# CK_FORK=no: each Check test runs in the process valgrind watches.
	CK_FORK=no meson test -C build-vg --suite unit --print-errorlogs \
		--wrapper 'valgrind --leak-check=full --error-exitcode=1 --quiet' 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	count "$log"
	if [ "$rc" -ne 0 ]; then
		status=1
		grep -q '^Fail:' "$log" || failed=$((failed + 1))
	fi
fi

echo
echo "$passed passed, $failed failed"
exit "$status"
