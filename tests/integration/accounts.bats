#!/usr/bin/env bats
# passwd, group, shadow, gshadow and the home: C02 (config User), C03 a (no etc/), C04
# (shadow), C06 (allocation, login.defs, reuse, no final newline), C08 (home), C09
# (groups), and the warnings the project decided on.

load lib/common

setup() {
	common_setup
}

user_spec() {
	printf '[image]\nbase = base.tar\n[user]\n'
	printf '%s\n' "$@"
}

@test "C02: config_user uid (default), uid:gid and name; name warns about runAsNonRoot" {
	mkbase base.tar
	user_spec "name = app" "uid = 10001" "gid = 10001" >a.ini
	build_ok a.ini "$T/a"
	assert_eq "$(config a | jq -r .config.User)" 10001 "User (A)"
	assert_eq "$(file_in a etc/passwd | tail -n 1)" "app:x:10001:10001::/home/app:/usr/sbin/nologin" passwd
	assert_not_contains "$stderr" "warning"
	user_spec "name = app" "uid = 10001" "gid = 10001" "config_user = uid:gid" >b.ini
	build_ok b.ini "$T/b"
	assert_eq "$(config b | jq -r .config.User)" 10001:10001 "User (B)"
	user_spec "name = app" "uid = 10001" "gid = 10001" "config_user = name" >c.ini
	build_ok c.ini "$T/c"
	assert_eq "$(config c | jq -r .config.User)" app "User (C)"
	assert_contains "$stderr" "ociuser: warning:"
	assert_contains "$stderr" "runAsNonRoot"
	user_spec "name = app" >d.ini
	build_ok d.ini "$T/d"
	assert_eq "$(config d | jq -r .config.User)" 999 "User (D)"
	assert_eq "$(file_in d etc/passwd | tail -n 1)" "app:x:999:999::/home/app:/usr/sbin/nologin" passwd
	assert_eq "$(skopeo inspect --config oci:d:latest | jq -r .config.User)" 999 "skopeo's User"
}

@test "C03 a: a base without etc/ gets passwd and group with a root line first, no shadow" {
	mkbase base.tar --preset none --entry '{"path":"./","type":"dir"}' \
		--entry '{"path":"app/","type":"dir"}' --entry '{"path":"app/bin/","type":"dir"}' \
		--entry '{"path":"app/bin/server","mode":"0755","content":"#!/bin/sh\n"}' \
		--entry '{"path":"usr/","type":"dir"}' --entry '{"path":"usr/sbin/","type":"dir"}' \
		--entry '{"path":"usr/sbin/nologin","mode":"0755","content":"#!/bin/sh\n"}'
	user_spec "name = app" "config_user = name" >spec.ini
	build_ok spec.ini
	check_image out
	entry_is out etc dir 0:0 root:root 0755 "$EPOCH"
	entry_is out etc/passwd file 0:0 root:root 0644 "$EPOCH"
	entry_is out etc/group file 0:0 root:root 0644 "$EPOCH"
	assert_eq "$(file_in out etc/passwd)" $'root:x:0:0:root:/root:/bin/sh\napp:x:999:999::/home/app:/usr/sbin/nologin' passwd
	assert_eq "$(file_in out etc/group)" $'root:x:0:\napp:x:999:' group
	no_entry out etc/shadow
	no_entry out etc/gshadow
	assert_eq "$(config out | jq -r .config.User)" app User
}

@test "C03 a: a base with etc/ but only one of passwd and group gets the other created" {
	mkbase base.tar --remove etc/group
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/group)" $'root:x:0:\napp:x:999:' group
	entry_is out etc/group file 0:0 root:root 0644 "$EPOCH"
	entry_is out etc/passwd file 0:0 root:root 0644 1234567890
	no_entry out etc
}

shadow_base() {
	mkbase base.tar --set 'etc/group=root:x:0:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n' \
		--entry '{"path":"etc/shadow","mode":"0640","gid":42,"gname":"shadow","content":"root:*:19000:0:99999:7:::\n"}' \
		--entry '{"path":"etc/gshadow","mode":"0640","gid":42,"gname":"shadow","content":"root:*::\nshadow:*::\n"}' \
		--entry '{"path":"bin/su","mode":"0755","content":"#!/bin/sh\n"}' "$@"
}

@test "C04: shadow and gshadow get locked entries and keep the base's owner, group and mode" {
	shadow_base
	user_spec "name = app" "uid = 10001" "gid = 10001" "shell = /bin/sh" >spec.ini
	build_ok spec.ini
	check_image out
	assert_eq "$(file_in out etc/shadow)" $'root:*:19000:0:99999:7:::\napp:!:19675::::::' shadow
	assert_eq "$(file_in out etc/gshadow)" $'root:*::\nshadow:*::\napp:!::' gshadow
	entry_is out etc/shadow file 0:42 root:shadow 0640 1234567890
	entry_is out etc/gshadow file 0:42 root:shadow 0640 1234567890
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "app:x:10001:10001::/home/app:/bin/sh" passwd
	assert_eq "$(file_in out etc/group | tail -n 1)" "app:x:10001:" group
	# every line has its number of fields
	file_in out etc/shadow | awk -F: 'NF != 9 { print "shadow: " $0; bad = 1 } END { exit bad }'
	file_in out etc/gshadow | awk -F: 'NF != 4 { print "gshadow: " $0; bad = 1 } END { exit bad }'
	file_in out etc/passwd | awk -F: 'NF != 7 { print "passwd: " $0; bad = 1 } END { exit bad }'
	file_in out etc/group | awk -F: 'NF != 4 { print "group: " $0; bad = 1 } END { exit bad }'
}

@test "C04: --source-date-epoch 1600000000 gives DAYS 18518; RHEL-like 0000 root:root is kept" {
	shadow_base --entry '{"path":"etc/shadow","mode":"0000","content":"root:*:19000:0:99999:7:::\n"}' \
		--entry '{"path":"etc/gshadow","mode":"0000","content":"root:*::\n"}'
	user_spec "name = app" >spec.ini
	build_ok spec.ini "$T/out" --source-date-epoch 1600000000
	assert_eq "$(file_in out etc/shadow | tail -n 1)" "app:!:18518::::::" shadow
	entry_is out etc/shadow file 0:0 root:root 0000 1234567890
	entry_is out etc/gshadow file 0:0 root:root 0000 1234567890
}

@test "C04: a base with no shadow and no gshadow gets neither" {
	mkbase base.tar
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	no_entry out etc/shadow
	no_entry out etc/gshadow
}

@test "edited account files keep every base header field, PAX records included" {
	mkbase base.tar --entry '{"path":"etc/passwd","mode":"0644","uid":0,"gid":0,"mtime":1111111111,"pax":{"SCHILY.xattr.user.origin":"base"},"content":"root:x:0:0:root:/root:/bin/bash\n"}'
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	entry_is out etc/passwd file 0:0 root:root 0644 1111111111
	assert_eq "$(get out SCHILY.xattr.user.origin etc/passwd --new)" base "PAX record"
}

c06_base() {
	mkbase base.tar --append 'etc/passwd=systemd-network:x:999:999::/:/usr/sbin/nologin\n' \
		--append 'etc/group=systemd-journal:x:998:\nsystemd-network:x:999:\n' "$@"
}

@test "C06 a: the group is allocated first from group, the uid from passwd alone" {
	c06_base
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "app:x:998:997::/home/app:/usr/sbin/nologin" passwd
	assert_eq "$(file_in out etc/group | tail -n 1)" "app:x:997:" group
	assert_eq "$(config out | jq -r .config.User)" 998 User
	# the base's lines are kept line for line
	assert_eq "$(file_in out etc/passwd | head -n 4)" "$(printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nsystemd-network:x:999:999::/:/usr/sbin/nologin')" "base lines"
}

@test "C06 b: login.defs SYS_UID/SYS_GID ranges, counting down and wrapping once" {
	local defs='{"path":"etc/login.defs","content":"# system accounts\nSYS_UID_MIN 500\nSYS_UID_MAX 600\nSYS_GID_MIN 500\nSYS_GID_MAX 600\n"}'
	c06_base --entry "$defs"
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "app:x:600:600::/home/app:/usr/sbin/nologin" "passwd (b)"
	c06_base --entry "$defs" --append 'etc/passwd=lo:x:500:500::/:/usr/sbin/nologin\n' --append 'etc/group=lo:x:500:\n'
	build_ok spec.ini "$T/out2"
	assert_eq "$(file_in out2 etc/passwd | tail -n 1)" "app:x:600:600::/home/app:/usr/sbin/nologin" "passwd (b2)"
	assert_eq "$(file_in out2 etc/group | tail -n 1)" "app:x:600:" "group (b2)"
}

@test "C06 b: UID_MIN without SYS_UID_MAX moves the top to UID_MIN - 1; 65535 is never given" {
	mkbase base.tar --entry '{"path":"etc/login.defs","content":"UID_MIN 2000\nGID_MIN 3000\n"}'
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "app:x:1999:2999::/home/app:/usr/sbin/nologin" passwd
	mkbase base.tar --entry '{"path":"etc/login.defs","content":"SYS_UID_MIN 65530\nSYS_UID_MAX 65535\nSYS_GID_MIN 65530\nSYS_GID_MAX 65535\n"}'
	build_ok spec.ini "$T/out2"
	assert_eq "$(file_in out2 etc/passwd | tail -n 1)" "app:x:65533:65533::/home/app:/usr/sbin/nologin" "passwd (never 65535; 65534 is nobody)"
}

@test "C06 c: an existing user with the same id is reused as it is" {
	mkbase base.tar --append 'etc/passwd=ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n' \
		--append 'etc/group=ubuntu:x:1000:\n' \
		--entry '{"path":"home/","type":"dir"}' \
		--entry '{"path":"home/ubuntu/","type":"dir","mode":"0750","uid":1000,"gid":1000,"uname":"ubuntu","gname":"ubuntu"}'
	user_spec "name = ubuntu" "uid = 1000" >spec.ini
	build_ok spec.ini
	assert_eq "$(config out | jq -r .config.User)" 1000 User
	no_entry out etc/passwd
	no_entry out etc/group
	no_entry out home/ubuntu
}

@test "C06 d: an existing group is reused; uid:gid gives its gid" {
	mkbase base.tar --append 'etc/group=docker:x:998:\n'
	user_spec "name = app" "group = docker" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/passwd | tail -n 1)" "app:x:999:998::/home/app:/usr/sbin/nologin" passwd
	assert_eq "$(file_in out etc/group | tail -n 1)" "docker:x:998:" "group unchanged"
	entry_is out home/app dir 999:998 app:docker 0750
	assert_eq "$(config out | jq -r .config.User)" 999 User
	user_spec "name = app" "group = docker" "config_user = uid:gid" >spec.ini
	build_ok spec.ini "$T/out2"
	assert_eq "$(config out2 | jq -r .config.User)" 999:998 User
}

@test "C06 e: base files without a final newline get one before the appended line" {
	shadow_base --no-final-newline etc/passwd --no-final-newline etc/group \
		--no-final-newline etc/shadow --no-final-newline etc/gshadow
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	file_in out etc/passwd >passwd
	file_in out etc/group >group
	file_in out etc/shadow >shadow
	file_in out etc/gshadow >gshadow
	assert_eq "$(tail -n 2 passwd)" $'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:999:999::/home/app:/usr/sbin/nologin' passwd
	assert_eq "$(tail -c 1 passwd | od -An -c | tr -d ' ')" '\n' "passwd ends with a newline"
	assert_eq "$(tail -n 2 group)" $'nogroup:x:65534:\napp:x:999:' group
	assert_eq "$(tail -c 1 group | od -An -c | tr -d ' ')" '\n' "group ends with a newline"
	assert_eq "$(tail -n 2 shadow)" $'root:*:19000:0:99999:7:::\napp:!:19675::::::' shadow
	assert_eq "$(tail -n 2 gshadow)" $'shadow:*::\napp:!::' gshadow
}

@test "C06 f, C05: ids above 65535 build with a warning about subordinate ids; 65535 does not warn" {
	mkbase base.tar
	user_spec "name = app" "uid = 70000" >spec.ini
	build_ok spec.ini "$T/u"
	[[ "$stderr" == *"ociuser: warning:"*65535* || "$stderr" == *"ociuser: warning:"*subordinate* ]] ||
		fail "no subordinate-id warning for uid 70000: $stderr"
	user_spec "name = app" "gid = 70000" >spec.ini
	build_ok spec.ini "$T/g"
	[[ "$stderr" == *"ociuser: warning:"*65535* || "$stderr" == *"ociuser: warning:"*subordinate* ]] ||
		fail "no subordinate-id warning for gid 70000: $stderr"
	assert_eq "$(file_in g etc/group | tail -n 1)" "app:x:70000:" group
}

@test "C08 A, D: the home is /home/NAME, user-owned 0750 under a root 0755 /home; create_home = false omits it" {
	mkbase base.tar
	user_spec "name = app" "uid = 10001" "gid = 10001" >spec.ini
	build_ok spec.ini
	entry_is out home dir 0:0 root:root 0755 "$EPOCH"
	entry_is out home/app dir 10001:10001 app:app 0750 "$EPOCH"
	user_spec "name = app" "uid = 10001" "gid = 10001" "create_home = false" >spec.ini
	build_ok spec.ini "$T/out2"
	no_entry out2 home
	no_entry out2 home/app
	assert_eq "$(file_in out2 etc/passwd | tail -n 1 | cut -d: -f6)" /home/app "passwd home"
}

@test "C08 B, C: a home elsewhere; its missing parents are root:root 0755, never the leaf's mode" {
	mkbase base.tar --entry '{"path":"var/","type":"dir"}' --entry '{"path":"var/lib/","type":"dir"}'
	user_spec "name = app" "uid = 10001" "gid = 10001" "home = /var/lib/app" >spec.ini
	build_ok spec.ini
	entry_is out var/lib/app dir 10001:10001 app:app 0750
	no_entry out var
	no_entry out var/lib
	no_entry out home
	assert_eq "$(file_in out etc/passwd | tail -n 1 | cut -d: -f6)" /var/lib/app "passwd home"
	user_spec "name = app" "uid = 10001" "gid = 10001" "home = /data/users/app" >spec.ini
	build_ok spec.ini "$T/out2"
	check_image out2
	entry_is out2 data dir 0:0 root:root 0755 "$EPOCH"
	entry_is out2 data/users dir 0:0 root:root 0755 "$EPOCH"
	entry_is out2 data/users/app dir 10001:10001 app:app 0750 "$EPOCH"
}

@test "C08 E: a home the base already has is left as the base makes it" {
	mkbase base.tar --entry '{"path":"home/","type":"dir"}' --entry '{"path":"home/app/","type":"dir"}'
	user_spec "name = app" "uid = 10001" "gid = 10001" >spec.ini
	build_ok spec.ini
	no_entry out home
	no_entry out home/app
}

@test "the home provided by [files] is left as [files] makes it" {
	mkbase base.tar
	mkdir h && echo rc >h/.profile
	printf '[image]\nbase = base.tar\n[user]\nname = app\nuid = 10001\ngid = 10001\n[files]\n/home/app = h/\n' >spec.ini
	build_ok spec.ini
	check_image out
	entry_is out home/app dir 10001:10001 app:app 0755
	entry_is out home/app/.profile file 10001:10001 app:app 0644
}

c09_base() {
	mkbase base.tar --set 'etc/group=root:x:0:\ndaemon:x:1:\naudio:x:29:\nvideo:x:44:alice\nnogroup:x:65534:\n' "$@"
}

@test "C09 A, B: supplementary groups are added to member lists; User stays the uid" {
	c09_base
	user_spec "name = app" "uid = 10001" "gid = 10001" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/group | tail -n 1)" "app:x:10001:" group
	assert_eq "$(config out | jq -r .config.User)" 10001 User
	user_spec "name = app" "uid = 10001" "gid = 10001" "groups = video" "groups = audio" >spec.ini
	build_ok spec.ini "$T/b"
	assert_eq "$(file_in b etc/group)" $'root:x:0:\ndaemon:x:1:\naudio:x:29:app\nvideo:x:44:alice,app\nnogroup:x:65534:\napp:x:10001:' group
	assert_eq "$(config b | jq -r .config.User)" 10001 User
	assert_not_contains "$stderr" "warning"
}

@test "C09 C: config_user = uid:gid with groups warns that supplementary groups are ignored" {
	c09_base
	user_spec "name = app" "uid = 10001" "gid = 10001" "groups = video" "groups = audio" "config_user = uid:gid" >spec.ini
	build_ok spec.ini
	assert_eq "$(config out | jq -r .config.User)" 10001:10001 User
	assert_contains "$stderr" "ociuser: warning:"
	assert_contains "$stderr" "groups"
}

@test "C09 E: gshadow member lists are updated along with group, 4 fields a line" {
	c09_base --entry '{"path":"etc/gshadow","mode":"0640","gid":0,"content":"root:*::\naudio:*::\nvideo:*::alice\n"}'
	user_spec "name = app" "uid = 10001" "gid = 10001" "groups = video" "groups = audio" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/gshadow)" $'root:*::\naudio:*::app\nvideo:*::alice,app\napp:!::' gshadow
	entry_is out etc/gshadow file 0:0 root:root 0640 1234567890
}

@test "the shell defaults to the first of /usr/sbin/nologin, /sbin/nologin, /bin/false the base has" {
	mkbase base.tar --remove usr/sbin/nologin --entry '{"path":"sbin/","type":"dir"}' \
		--entry '{"path":"sbin/nologin","mode":"0755","content":"#!/bin/sh\n"}' \
		--entry '{"path":"bin/false","mode":"0755","content":"#!/bin/sh\n"}'
	user_spec "name = app" >spec.ini
	build_ok spec.ini
	assert_eq "$(file_in out etc/passwd | tail -n 1 | cut -d: -f7)" /sbin/nologin shell
	mkbase base.tar --remove usr/sbin/nologin --entry '{"path":"bin/false","mode":"0755","content":"#!/bin/sh\n"}'
	build_ok spec.ini "$T/out2"
	assert_eq "$(file_in out2 etc/passwd | tail -n 1 | cut -d: -f7)" /bin/false shell
	assert_not_contains "$stderr" "none of"
	# none of them: /usr/sbin/nologin all the same, with a warning that says so
	mkbase base.tar --remove usr/sbin/nologin
	build_ok spec.ini "$T/out3"
	assert_eq "$(file_in out3 etc/passwd | tail -n 1 | cut -d: -f7)" /usr/sbin/nologin shell
	assert_contains "$stderr" "warning: the base has none of /usr/sbin/nologin, /sbin/nologin, /bin/false"
}
