/* SPDX-License-Identifier: MIT */
/*
 * Replays a fuzz harness over every file of a corpus folder, without
 * libFuzzer: the corpus (seeds and every crash ever found) runs as an
 * ordinary test under the sanitizers of the build.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ociuser/error.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	unsigned n = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *de;

		if (!d) {
			fprintf(stderr, "cannot open corpus '%s'\n", argv[i]);
			return 1;
		}
		while ((de = readdir(d))) {
			struct ou_error *err = NULL;
			char *path, *data;
			size_t len;

			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", argv[i], de->d_name);
			if (ou_read_file(path, 16 * 1024 * 1024, &data, &len, &err) < 0) {
				fprintf(stderr, "%s\n", err->message);
				return 1;
			}
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
			free(data);
			free(path);
			n++;
		}
		closedir(d);
	}
	printf("1..1\nok 1 - replayed %u inputs\n", n);
	return n ? 0 : 1;
}
