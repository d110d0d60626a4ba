/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for userdb: the input is up to five files separated by
 * 0x01 bytes, in the order passwd, group, shadow, gshadow, login.defs. A
 * part that is exactly "-" stands for a file the base lacks. The request is
 * fixed (user 'app', group 'app', supplementary groups 'audio' and 'video'),
 * except for the first byte of the input, which picks explicit ids and the
 * group name so that reuse and conflict paths run too. Success and failure
 * are both fine; crashes, leaks and sanitizer reports are not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ociuser/error.h"
#include "ociuser/userdb.h"
#include "ociuser/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_PARTS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const groups[] = {"audio", "video"};
	static const unsigned groups_line[] = {7, 8};
	struct ou_account_text parts[N_PARTS] = {{0}};
	struct ou_accounts_out out = {0};
	struct ou_error *err = NULL;
	struct ou_accounts_req req = {
	        .spec_path = "fuzz.ini",
	        .user = "app",
	        .user_line = 2,
	        .group = "app",
	        .group_line = 3,
	        .groups = groups,
	        .groups_line = groups_line,
	        .n_groups = 2,
	        .home = "/home/app",
	        .shell = "/usr/sbin/nologin",
	        .days = 19675,
	};
	struct ou_accounts_in in;
	const uint8_t *p = data, *end = data + size;
	uint8_t mode = 0;
	char *copy;

	if (size > 0) {
		mode = data[0];
		p++;
	}
	/* A private copy, so reads past a part's end show up under ASan. */
	copy = xmemdup(p, (size_t)(end - p));
	p = (const uint8_t *)copy;
	end = p + (size - (size > 0 ? 1 : 0));
	for (size_t i = 0; i < N_PARTS && p <= end; i++) {
		const uint8_t *sep = memchr(p, 0x01, (size_t)(end - p));
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);

		if (!(len == 1 && p[0] == '-'))
			parts[i] = (struct ou_account_text){(const char *)p, len, true};
		if (!sep)
			break;
		p = sep + 1;
	}

	if (mode & 1) {
		req.has_uid = true;
		req.uid = (mode & 4) ? 1000 : 999;
		req.uid_line = 4;
	}
	if (mode & 2) {
		req.has_gid = true;
		req.gid = (mode & 8) ? 1000 : 998;
		req.gid_line = 5;
	}
	if (mode & 16)
		req.group = "audio";
	if (mode & 32)
		req.user = "ubuntu";
	if (mode & 64)
		req.n_groups = 0;

	in = (struct ou_accounts_in){parts[0], parts[1], parts[2], parts[3], parts[4]};
	if (ou_userdb_apply(&in, &req, &out, &err) == 0) {
		/* every output is a whole file: NUL-terminated at its length */
		if ((out.passwd && out.passwd[out.passwd_len] != '\0') ||
		    (out.group && out.group[out.group_len] != '\0') || !out.home)
			abort();
		ou_accounts_out_release(&out);
	} else if (!err || !err->message) {
		abort();
	}
	ou_error_free(err);
	free(copy);
	return 0;
}
