/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ociuser/error.h"

/* Account files bigger than this are refused (EFBIG). */
#define OU_MAX_ACCOUNT_FILE_SIZE (16 * 1024 * 1024)

/* The highest id the contract accepts in a spec: 2^31 - 2. */
#define OU_MAX_ID 2147483646u

/*
 * One account file from the base, as its bytes. present == false when the
 * base has no such file (data NULL, len 0).
 */
struct ou_account_text {
	const char *data;
	size_t len;
	bool present;
};

/* The base's own account files (borrowed for the call). */
struct ou_accounts_in {
	struct ou_account_text passwd;
	struct ou_account_text group;
	struct ou_account_text shadow;
	struct ou_account_text gshadow;
	struct ou_account_text login_defs;
};

/*
 * What the spec asks for. Lines are 1-based spec lines used in messages
 * ("SPEC:LINE: ..."); 0 means "not given" and the message then uses
 * user_line.
 */
struct ou_accounts_req {
	const char *spec_path;
	const char *user; /* validated name */
	unsigned user_line;
	const char *group; /* validated name; equals user when not given */
	unsigned group_line;
	bool has_uid;
	uint32_t uid;
	unsigned uid_line;
	bool has_gid;
	uint32_t gid;
	unsigned gid_line;
	const char *const *groups; /* supplementary group names */
	const unsigned *groups_line;
	size_t n_groups;
	const char *home;  /* absolute, validated */
	const char *shell; /* absolute, validated */
	long days;         /* shadow's last-change field: SOURCE_DATE_EPOCH / 86400 */
};

/*
 * The result. Each text is the whole new file (base bytes line for line,
 * a newline added if the base's last line had none, then the new lines),
 * or NULL when that file needs no change (reused user and group, no new
 * members) or the base has no such file (shadow, gshadow). passwd and
 * group are created with a root line first when the base lacks them.
 */
struct ou_accounts_out {
	uint32_t uid;
	uint32_t gid;
	bool user_created;  /* a passwd line was appended */
	bool group_created; /* a group line was appended */
	char *home;         /* the user's home: req->home, or an existing user's own */
	char *passwd;
	size_t passwd_len;
	char *group;
	size_t group_len;
	char *shadow;
	size_t shadow_len;
	char *gshadow;
	size_t gshadow_len;
};

/*
 * Applies @req to the base files @in, allocating ids as shadow's
 * `groupadd -r` then `useradd -r` do (see the contract). Fails with
 * EINVAL/EEXIST/ENOENT/ERANGE and a "SPEC:LINE: ..." message that names
 * both sides of any conflict, or EBADMSG/EFBIG for a base file it cannot
 * read. On success fills *ret (the caller releases it).
 */
int ou_userdb_apply(const struct ou_accounts_in *in, const struct ou_accounts_req *req,
                    struct ou_accounts_out *ret, struct ou_error **err);

/* Frees every text of @out (NULL is fine) and zeroes it; safe to call twice. */
void ou_accounts_out_release(struct ou_accounts_out *out);

/*
 * Details of ou_userdb_apply() where the contract is silent:
 *
 * - Base file errors (over OU_MAX_ACCOUNT_FILE_SIZE: EFBIG; a NUL byte, an
 *   empty id range in login.defs: EBADMSG) name the file ('/etc/passwd')
 *   and carry no "SPEC:LINE:" prefix: they are about the base, not a spec
 *   line, so the caller may prefix the base's name.
 * - Lookup reads lines as glibc's files backend does: leading blanks are
 *   skipped, '#' lines and blank lines are ignored. A passwd entry needs at
 *   least 7 fields and decimal uid and gid, a group entry at least 3 fields
 *   and a decimal gid; the first entry of a name wins. Other lines are
 *   kept byte for byte but never match a name. An id counts as used when
 *   the third field of any non-comment line is that number, well formed
 *   or not, so a new id never collides with an odd line either.
 * - An existing user whose primary gid has no group line, asked for a
 *   group that does not exist yet (and no explicit gid): the new group
 *   takes that gid, so passwd and group agree.
 * - A new user (group) whose name already has a shadow (gshadow) line is
 *   refused (EEXIST) rather than inheriting a stale password.
 * - A reused user or group is left as it is: no shadow/gshadow line is
 *   added for it.
 * - Supplementary groups: the user is appended to the member list (4th
 *   field) in group and, when the base has gshadow and a line for that
 *   group there, in gshadow too. A changed line is rewritten with exactly
 *   4 fields (fields past the 4th are dropped, leading blanks too); an
 *   existing member is not added twice and leaves the line untouched.
 * - passwd/group created for a base without them start with
 *   "root:x:0:0:root:/root:/bin/sh" and "root:x:0:". shadow and gshadow
 *   are never created.
 * - Allocation never gives 0: a login.defs range starting at 0 starts at 1.
 *   The range is capped at OU_MAX_ID.
 */

/* System id ranges, as read from login.defs (see ou_userdb_parse_login_defs). */
struct ou_id_ranges {
	uint32_t uid_min, uid_max; /* SYS_UID_MIN..SYS_UID_MAX */
	uint32_t gid_min, gid_max; /* SYS_GID_MIN..SYS_GID_MAX */
};

/*
 * Reads SYS_UID_MIN, SYS_UID_MAX, SYS_GID_MIN, SYS_GID_MAX, UID_MIN and
 * GID_MIN from login.defs text (@data may be NULL when @len is 0: all
 * defaults) the way shadow's getdef does: "KEY VALUE" lines, leading blanks
 * and '#' lines skipped, the value optionally in double quotes, numbers as
 * strtoul base 0 (decimal, 0x hex, leading-0 octal), the last line of a key
 * wins. A malformed or out of range number is ignored as shadow ignores it
 * (the default applies). Defaults: SYS_*_MIN 101, SYS_*_MAX = *_MIN - 1,
 * *_MIN 1000. Fails with EBADMSG naming '/etc/login.defs' when a range is
 * empty (min above max). Does not look for NUL bytes; ou_userdb_apply does.
 */
int ou_userdb_parse_login_defs(const char *data, size_t len, struct ou_id_ranges *ret,
                               struct ou_error **err);
