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

void ou_accounts_out_release(struct ou_accounts_out *out);
