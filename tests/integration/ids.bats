#!/usr/bin/env bats
# C05: uids and gids past what ustar's octal fields hold read back exactly in every
# reader (PAX records), and every id above 65535 warns about subordinate id ranges.

load lib/common

setup() {
	common_setup
	mkbase base.tar
	mkdir app && echo data >app/file
}

check_id() {
	local id=$1
	printf '[image]\nbase = base.tar\n[user]\nname = big\nuid = %s\ngid = %s\n[files]\n/app = app/\n' "$id" "$id" >spec.ini
	rm -rf out
	build_ok spec.ini
	check_image out
	if [ "$id" -gt 65535 ]; then
		[[ "$stderr" == *"ociuser: warning:"*65535* || "$stderr" == *"ociuser: warning:"*subordinate* ]] ||
			fail "$id: no subordinate-id warning: $stderr"
	else
		assert_not_contains "$stderr" "warning"
	fi
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "big:x:$id:$id::/home/big:/usr/sbin/nologin" "$id: passwd"
	assert_eq "$(file_in out etc/group | tail -n 1)" "big:x:$id:" "$id: group"
	assert_eq "$(config out | jq -r .config.User)" "$id" "$id: User"
	local p
	for p in app app/file home/big; do
		entry_is out "$p" "$(get out type $p --new)" "$id:$id" big:big "$(get out mode $p --new)"
	done
	# GNU tar and bsdtar read the same numbers
	local n
	n=$(layers out latest count)
	layers out latest raw $((n - 1)) >app.tar
	layers out latest raw $((n - 2)) >acc.tar
	tar --numeric-owner -tvf app.tar | awk '{print $2}' | sort -u >owners
	assert_eq "$(cat owners)" "$id/$id" "$id: GNU tar owners of the app layer"
	LC_ALL=C bsdtar -tvf app.tar >bsd || fail "$id: bsdtar failed"
	bsdtar --numeric-owner -tvf acc.tar | grep -q "$id *$id .*home/big" ||
		fail "$id: bsdtar does not show $id for home/big:" "$(bsdtar --numeric-owner -tvf acc.tar)"
	# octal ustar fields stop at 2097151: above it only a PAX record (or a base-256
	# field) can carry the id, and tarfile read it back exactly above
	assert_eq "$(get out uid app/file --new):$(get out gid app/file --new)" "$id:$id" "$id: tarfile ids"
	if [ "$(id -u)" -eq 0 ]; then
		rm -rf bundle
		umoci unpack --image out:latest bundle >/dev/null || fail "$id: umoci unpack failed"
		assert_eq "$(stat -c %u:%g bundle/rootfs/app/file)" "$id:$id" "$id: owner after umoci unpack"
		assert_eq "$(stat -c %u:%g bundle/rootfs/home/big)" "$id:$id" "$id: home owner after umoci unpack"
	fi
	rm -rf bundle-rl
	umoci unpack --rootless --image out:latest bundle-rl >/dev/null 2>&1 || fail "$id: umoci unpack --rootless failed"
}

@test "C05: uid and gid 3000000 (the main case)" {
	check_id 3000000
}

@test "C05: 65535 (no warning) and 65536 (warning)" {
	check_id 65535
	check_id 65536
}

@test "C05: 262143 and 262144" {
	check_id 262143
	check_id 262144
}

@test "C05: 2097151 and 2097152 (the ustar octal limit)" {
	check_id 2097151
	check_id 2097152
}

@test "C05: 2147483646 (the largest id)" {
	check_id 2147483646
}
