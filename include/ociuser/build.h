/* SPDX-License-Identifier: MIT */
#pragma once

#include "ociuser/digest.h"
#include "ociuser/error.h"

struct ou_build_options {
	const char *spec_path;
	const char *out;
	const char *tag; /* -t: overrides the spec's tag; NULL when not given */
	long long epoch; /* already validated: 0..OU_MAX_EPOCH */
};

struct ou_build_result {
	char digest[OU_DIGEST_STRLEN]; /* the manifest's */
	char **messages;               /* warnings and notes for stderr, NULL-terminated */
	size_t n_messages;
};

/*
 * Runs the whole pipeline: spec -> base -> accounts -> plan -> layers ->
 * config, manifest, index.json. On failure OUT is as it was and *err says
 * what and where. Messages are filled in both cases (the caller releases
 * them with ou_build_result_release).
 */
int ou_build_run(const struct ou_build_options *o, struct ou_build_result *ret,
                 struct ou_error **err);

void ou_build_result_release(struct ou_build_result *r);
