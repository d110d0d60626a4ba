/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the spec reader: any bytes must give either a spec
 * or one error, never a crash, a leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ociuser/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ou_spec *spec = NULL;
	struct ou_error *err = NULL;
	int r;

	/* A folder in the path makes the relative-path resolution run too. */
	r = ou_spec_parse("fuzz/spec.ini", (const char *)data, size, &spec, &err);
	if (r < 0) {
		if (!err || !err->message || strncmp(err->message, "fuzz/spec.ini:", 14) != 0)
			abort();
	} else if (!spec || err) {
		abort();
	}
	ou_spec_free(spec);
	ou_error_free(err);
	return 0;
}
