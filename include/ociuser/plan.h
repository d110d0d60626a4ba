/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ociuser/base.h"
#include "ociuser/error.h"
#include "ociuser/hostwalk.h"
#include "ociuser/layer.h"
#include "ociuser/spec.h"
#include "ociuser/userdb.h"

/* An account file ociuser rewrites or creates, and where it goes. */
struct ou_plan_account_file {
	const char *path; /* resolved image path ("etc/passwd"), borrowed */
	const char *text; /* new content (borrowed), or NULL when unchanged */
	size_t len;
};

struct ou_plan_input {
	const struct ou_spec *spec;
	const struct ou_base *base;
	const char *user;  /* the runtime user's name */
	const char *group; /* its primary group's name */
	uint32_t uid;
	uint32_t gid;
	const char *home; /* absolute */
	bool create_home; /* the spec asks for it and ociuser created the user */
	struct ou_plan_account_file files[4]; /* passwd, group, shadow, gshadow */
	long long epoch;
	const struct ou_file_id *skip; /* host folders never copied (OUT, its staging) */
	size_t n_skip;
	const char *skip_name; /* how messages name them (OUT as given) */
};

/*
 * What goes where: the accounts layer (account files, home and its missing
 * parents) and the app layer ([files], their missing parents, [sensitive]
 * mode changes of base paths), each sorted, each path once, every parent
 * of every entry either in the base, in a lower new layer, or in the same
 * layer. Host trees stay open (their descriptors) until the plan is freed.
 */
struct ou_plan {
	struct ou_layer_list accounts;
	struct ou_layer_list app;
	struct ou_host_tree *trees;
	size_t n_trees;
	char **warnings; /* NULL-terminated; lines for stderr */
	size_t n_warnings;
};

/*
 * Makes the plan. Errors name the spec line ("SPEC:LINE: ..."), the host
 * path or the image path at fault: a DEST written twice, a DEST whose
 * parent is a file, a [sensitive] path missing or a symbolic link. Base
 * entries needed for [sensitive] are captured from @base on the way
 * (which is why it is not const there).
 */
int ou_plan_make(const struct ou_plan_input *in, struct ou_base *base, struct ou_plan **ret,
                 struct ou_error **err);

struct ou_plan *ou_plan_free(struct ou_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_plan *, ou_plan_free)
