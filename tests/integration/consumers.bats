#!/usr/bin/env bats
# Real consumers read what ociuser writes: skopeo (inspect, copy to oci-archive,
# docker-archive and another layout), oci-image-tool validate, umoci unpack (owners and
# modes applied as root), and the image run as its user with runc (or chroot where runc
# cannot run). Also the example specs in specs/ (demo and python-app) build and run.

load lib/common

setup() {
	common_setup
}

# unpack OUT [TAG]: umoci unpack as root into $T/bundle (replacing it).
unpack() {
	need_root
	rm -rf "$T/bundle"
	umoci unpack --image "$1:${2:-latest}" "$T/bundle" >/dev/null || fail "umoci unpack $1:${2:-latest} failed"
}

runc_works() {
	[ -n "${RUNC_OK:-}" ] && return "$RUNC_OK"
	RUNC_OK=1
	if command -v runc >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		mkbase "$T/probe.tar" --preset busybox
		printf '[image]\nbase = probe.tar\n[user]\nname = probe\n' >"$T/probe.ini"
		if "$OCIUSER" build "$T/probe.ini" -o "$T/probe" -q >/dev/null &&
			umoci unpack --image "$T/probe:latest" "$T/probe-bundle" >/dev/null 2>&1; then
			jq '.process.args = ["true"] | .process.terminal = false' "$T/probe-bundle/config.json" >"$T/c.json" &&
				mv "$T/c.json" "$T/probe-bundle/config.json"
			timeout 60 runc run -b "$T/probe-bundle" "ociuser-probe-$$" </dev/null >/dev/null 2>&1 && RUNC_OK=0
		fi
		rm -rf "$T/probe-bundle" "$T/probe" "$T/probe.tar" "$T/probe.ini"
	fi
	return "$RUNC_OK"
}

# in_image CMD...: runs CMD in the unpacked $T/bundle as the image's user, with the
# runtime's view of it (uid, gid, additional gids from umoci's config.json); with runc
# when it works here, else with chroot. Sets status and output.
in_image() {
	local cfg="$T/bundle/config.json"
	if runc_works; then
		local argv
		argv=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
		jq --argjson argv "$argv" '.process.args = $argv | .process.terminal = false' "$cfg" >"$T/c.json"
		mv "$T/c.json" "$cfg"
		run timeout 60 runc run -b "$T/bundle" "ociuser-test-$$-$RANDOM" </dev/null
	else
		local uid gid groups
		uid=$(jq -r .process.user.uid "$cfg")
		gid=$(jq -r .process.user.gid "$cfg")
		groups=$(jq -r '(.process.user.additionalGids // []) | map(tostring) | join(",")' "$cfg")
		local envs=()
		mapfile -t envs < <(jq -r '.process.env[]' "$cfg")
		run env -i "${envs[@]}" chroot --userspec="$uid:$gid" --groups="$groups" "$T/bundle/rootfs" "$@"
	fi
}

@test "skopeo inspects, copies to oci-archive, docker-archive and another layout; oci-image-tool validates" {
	mkbase base.tar
	mkdir app && echo hi >app/hi.txt
	printf '[image]\nbase = base.tar\ncmd = ["/bin/sh"]\n[user]\nname = app\nuid = 10001\n[files]\n/app = app/\n' >spec.ini
	build_ok spec.ini
	run skopeo inspect oci:out:latest
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$(jq -r .Digest <<<"$output")" "$DIGEST" Digest
	assert_eq "$(jq '.Layers | length' <<<"$output")" 3 Layers
	run skopeo inspect --config oci:out:latest
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$(jq -r .config.User <<<"$output")" 10001 User
	skopeo copy -q oci:out:latest oci-archive:"$T/img.oci.tar" >/dev/null
	skopeo inspect oci-archive:"$T/img.oci.tar" >/dev/null
	skopeo copy -q oci:out:latest docker-archive:"$T/img.docker.tar":localhost/app:1.0 >/dev/null
	assert_eq "$(tar -xOf img.docker.tar manifest.json | jq -c '.[0].RepoTags')" '["localhost/app:1.0"]' RepoTags
	assert_eq "$(tar -xOf img.docker.tar manifest.json | jq '.[0].Layers | length')" 3 "docker-archive layers"
	skopeo copy -q oci:out:latest oci:"$T/copy":again >/dev/null
	skopeo inspect oci:"$T/copy":again >/dev/null
	run oci-image-tool validate --type image --ref name=latest out
	[ "$status" -eq 0 ] || fail "oci-image-tool: $output"
	check_image out
}

@test "zstd images: skopeo copies them (oci-image-tool and umoci are too old for +zstd)" {
	mkbase base.tar --compress zstd
	printf '[image]\nbase = base.tar\ncompression = zstd\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	assert_eq "$(layers out latest manifest | jq -r '[.layers[].mediaType] | unique | join(",")')" application/vnd.oci.image.layer.v1.tar+zstd "media types"
	skopeo copy -q oci:out:latest oci-archive:"$T/z.tar" >/dev/null
	check_image out
}

@test "umoci unpack applies the image's owners and modes; the unpacked passwd and group have the user" {
	mkbase base.tar --preset busybox --entry '{"path":"srv/","type":"dir"}'
	mkdir -p app/lib && echo 'print(1)' >app/main.py && echo x >app/lib/u.py && echo s >app/secret
	spec spec.ini <<'INI'
[image]
base = base.tar
[user]
name = app
uid = 10001
gid = 10001
[files]
/srv/app = app/
[sensitive]
/srv/app/secret = 0600
INI
	build_ok spec.ini
	unpack out
	local r="$T/bundle/rootfs"
	assert_eq "$(stat -c '%u:%g %a' "$r/srv")" "0:0 755" srv
	assert_eq "$(stat -c '%u:%g %a' "$r/srv/app")" "10001:10001 755" srv/app
	assert_eq "$(stat -c '%u:%g %a' "$r/srv/app/main.py")" "10001:10001 644" main.py
	assert_eq "$(stat -c '%u:%g %a' "$r/srv/app/secret")" "10001:10001 600" secret
	assert_eq "$(stat -c '%u:%g %a' "$r/home")" "0:0 755" home
	assert_eq "$(stat -c '%u:%g %a' "$r/home/app")" "10001:10001 750" home/app
	assert_eq "$(stat -c '%u:%g %a' "$r/etc/passwd")" "0:0 644" passwd
	assert_eq "$(tail -n 1 "$r/etc/passwd")" "app:x:10001:10001::/home/app:/usr/sbin/nologin" "unpacked passwd"
	assert_eq "$(tail -n 1 "$r/etc/group")" "app:x:10001:" "unpacked group"
	assert_eq "$(jq -c .process.user "$T/bundle/config.json")" '{"uid":10001,"gid":10001}' "umoci's process.user"
}

@test "C09, C17: the image runs as its user, with its groups, and can read its files and list /" {
	need_root
	mkbase base.tar --preset busybox \
		--set 'etc/group=root:x:0:\ndaemon:x:1:\naudio:x:29:\nvideo:x:44:alice\nnogroup:x:65534:\n'
	umask 077
	mkdir -p app/lib && echo 'print(1)' >app/main.py
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\n[files]\n/srv/app = app/\n' >a.ini
	build_ok a.ini "$T/a"
	unpack a
	in_image /bin/id
	[ "$status" -eq 0 ] || fail "id: $output"
	assert_contains "$output" "uid=10001(app) gid=10001(app)"
	assert_not_contains "$output" "gid=0"
	in_image /bin/cat /srv/app/main.py
	[ "$status" -eq 0 ] || fail "cat as 10001: $output"
	assert_eq "$output" "print(1)" "main.py as the user"
	in_image /bin/ls /
	[ "$status" -eq 0 ] || fail "ls / as 10001: $output"
	in_image /bin/sh -c 'echo $HOME; cd && pwd'
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$output" $'/home/app\n/home/app' HOME

	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\ngroups = video\ngroups = audio\n' >b.ini
	build_ok b.ini "$T/b"
	unpack b
	in_image /bin/id -G
	[ "$status" -eq 0 ] || fail "id -G: $output"
	assert_eq "$(tr ' ' '\n' <<<"$output" | sort -n | tr '\n' ' ')" "29 44 10001 " "groups with User = uid"

	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\ngroups = video\ngroups = audio\nconfig_user = uid:gid\n' >c.ini
	build_ok c.ini "$T/c"
	unpack c
	in_image /bin/id -G
	[ "$status" -eq 0 ] || fail "id -G: $output"
	assert_eq "$output" 10001 "groups with User = uid:gid"
}

@test "C03 a, C06 e: names resolve in the running image (no final newline, no etc/ in the base)" {
	need_root
	mkbase base.tar --preset busybox --no-final-newline etc/passwd --no-final-newline etc/group
	printf '[image]\nbase = base.tar\n[user]\nname = app\n' >spec.ini
	build_ok spec.ini
	unpack out
	in_image /bin/id app
	assert_eq "$output" "uid=999(app) gid=999(app) groups=999(app)" "id app"
	in_image /bin/id nobody
	assert_eq "$output" "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" "id nobody"

	mkbase base2.tar --preset busybox --remove etc
	printf '[image]\nbase = base2.tar\n[user]\nname = app\nconfig_user = name\n' >spec2.ini
	build_ok spec2.ini "$T/out2"
	unpack out2
	in_image /bin/id -un
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "$output" app "id -un"
}

@test "C04: su from root to the locked user works in the running image" {
	need_root
	mkbase base.tar --preset busybox \
		--set 'etc/group=root:x:0:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n' \
		--entry '{"path":"etc/shadow","mode":"0640","gid":42,"gname":"shadow","content":"root:*:19000:0:99999:7:::\n"}' \
		--entry '{"path":"etc/gshadow","mode":"0640","gid":42,"gname":"shadow","content":"root:*::\nshadow:*::\n"}'
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\nshell = /bin/sh\n' >spec.ini
	build_ok spec.ini
	unpack out
	# as root, with the capabilities su needs (umoci's default set is runc's minimal one)
	jq '.process.user = {"uid": 0, "gid": 0} | .process.capabilities |= with_entries(.value += ["CAP_SETUID", "CAP_SETGID"])' \
		"$T/bundle/config.json" >"$T/c.json" && mv "$T/c.json" "$T/bundle/config.json"
	in_image /bin/su -s /bin/sh app -c id
	[ "$status" -eq 0 ] || fail "su: $output"
	assert_contains "$output" "uid=10001(app)"
}

@test "the demo spec (specs/demo.ini) builds and its command runs as the demo user" {
	cp -r "$OU_SOURCE_ROOT/specs" "$T/specs"
	mkdir "$T/demo"
	mkbase "$T/demo/busybox-rootfs.tar.gz" --preset busybox --compress gzip
	build_ok "$T/specs/demo.ini" "$T/demo/out"
	check_image "$T/demo/out"
	assert_eq "$(config "$T/demo/out" | jq -c .config.Cmd)" '["/app/hello.sh"]' Cmd
	entry_is "$T/demo/out" app/secret.conf file 999:999 demo:demo 0640
	entry_is "$T/demo/out" app/hello.sh file 999:999 demo:demo 0755
	oci-image-tool validate --type image --ref name=latest "$T/demo/out"
	if [ "$(id -u)" -eq 0 ]; then
		unpack "$T/demo/out"
		in_image /app/hello.sh
		[ "$status" -eq 0 ] || fail "hello.sh: $output"
		assert_contains "$output" "hello from ociuser"
		assert_contains "$output" "uid=999(demo)"
		assert_contains "$output" "secret.conf: token = not-a-real-secret"
	fi
}

@test "the python-app spec (the Dockerfile's equivalent) builds with its users, owners and modes" {
	cp -r "$OU_SOURCE_ROOT/specs" "$T/specs"
	mkdir "$T/demo"
	mkbase "$T/demo/python-base.tar.gz" --preset busybox --compress gzip
	mkdir -p "$T/specs/python-app/__pycache__" && echo stale >"$T/specs/python-app/__pycache__/main.cpython-312.pyc"
	build_ok "$T/specs/python-app.ini" "$T/out"
	check_image out
	local c
	c=$(config out)
	assert_eq "$(jq -c .config.Cmd <<<"$c")" '["python","/app/main.py"]' Cmd
	assert_eq "$(jq -r .config.User <<<"$c")" 999 User
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "appuser:x:999:999::/home/appuser:/usr/sbin/nologin" passwd
	assert_eq "$(file_in out etc/group | tail -n 1)" "appgroup:x:999:" group
	entry_is out app dir 999:999 appuser:appgroup 0755
	entry_is out app/main.py file 999:999 appuser:appgroup 0644
	entry_is out app/requirements.txt file 999:999 appuser:appgroup 0644
	entry_is out app/sensitive-config file 999:999 appuser:appgroup 0750
	no_entry out app/__pycache__
	skopeo copy -q oci:out:latest docker-archive:"$T/py.tar":python-app:latest >/dev/null
}
