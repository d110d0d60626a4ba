/* SPDX-License-Identifier: MIT */
/*
 * The command line: argv -> options; struct ou_error -> one stderr line and
 * the exit status (0 built, 1 the spec or an input is wrong, 2 usage).
 * The only file that prints errors or picks an exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ociuser/build.h"
#include "ociuser/oci.h"
#include "ociuser/path.h"
#include "ociuser/strbuf.h"

enum { OPT_SOURCE_DATE_EPOCH = 256, OPT_VERSION };

/* The default timestamp: 1980-01-01T00:00:00Z (zip-based tools refuse earlier dates). */
#define DEFAULT_EPOCH 315532800LL

static void usage(FILE *f)
{
	fputs("usage: ociuser build SPEC -o OUT [-t TAG] [--source-date-epoch N] [-q]\n"
	      "\n"
	      "Builds an OCI image layout in OUT from the spec SPEC: the base, a dedicated\n"
	      "non-root user, the app files and the private paths (see ociuser-spec(5)).\n"
	      "Prints the manifest digest on stdout.\n"
	      "\n"
	      "  -o, --output OUT           the OCI image layout to write or add to\n"
	      "  -t, --tag TAG              the ref name (default: the spec's tag, else latest)\n"
	      "      --source-date-epoch N  timestamp for created entries and the config\n"
	      "                             (default: $SOURCE_DATE_EPOCH, else 315532800)\n"
	      "  -q, --quiet                no warnings or notes on stderr\n"
	      "  -h, --help                 this help\n"
	      "      --version              the version\n"
	      "\n"
	      "Exit status: 0 built, 1 the spec or an input is wrong, 2 wrong usage.\n",
	      f);
}

static _printf_(1, 2) int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ociuser: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ociuser --help'.\n", stderr);
	return 2;
}

/* A number as in specs (ou_parse_decimal), 0..OU_MAX_EPOCH. */
static int parse_epoch(const char *s, long long *ret)
{
	uint64_t v;
	int r = ou_parse_decimal(s, OU_MAX_EPOCH, &v);

	if (r < 0)
		return r;
	*ret = (long long)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"output", required_argument, NULL, 'o'},
	        {"tag", required_argument, NULL, 't'},
	        {"source-date-epoch", required_argument, NULL, OPT_SOURCE_DATE_EPOCH},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, OPT_VERSION},
	        {0},
	};
	struct ou_build_options o = {0};
	struct ou_build_result res = {0};
	struct ou_error *err = NULL;
	const char *epoch_arg = NULL, *env;
	bool quiet = false;
	int c, r;

	/* Names are bytes; a UTF-8 locale keeps libarchive from mangling non-ASCII ones. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ociuser %s\n", OU_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "build") != 0)
		return usage_error("unknown command '%s' (the command is 'build')", argv[1]);

	/* Options may come before or after SPEC, as with most GNU tools. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":o:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (o.out)
				return usage_error("build: -o is given twice");
			if (!*optarg)
				return usage_error("build: -o needs a folder name");
			o.out = optarg;
			break;
		case 't':
			o.tag = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("ociuser %s\n", OU_VERSION);
			return 0;
		case OPT_SOURCE_DATE_EPOCH:
			epoch_arg = optarg;
			break;
		case ':':
			return usage_error("build: option '%s' needs a value", argv[optind]);
		default:
			if (optopt)
				return usage_error("build: unknown option '-%c'", optopt);
			return usage_error("build: unknown option '%s'", argv[optind]);
		}
	}
	if (optind >= argc - 1)
		return usage_error("build: missing SPEC");
	o.spec_path = argv[1 + optind++];
	if (optind < argc - 1)
		return usage_error("build: unexpected argument '%s'", argv[1 + optind]);
	if (!o.out)
		return usage_error("build: missing -o OUT");
	if (o.tag && !ou_ref_name_is_valid(o.tag))
		return usage_error("-t '%s' is not a valid OCI ref name", o.tag);

	o.epoch = DEFAULT_EPOCH;
	env = getenv("SOURCE_DATE_EPOCH");
	if (epoch_arg) {
		if (parse_epoch(epoch_arg, &o.epoch) < 0)
			return usage_error(
			        "--source-date-epoch '%s' must be a decimal number of seconds "
			        "without sign or leading zero, from 0 to 253402300799 "
			        "(9999-12-31T23:59:59Z)",
			        epoch_arg);
	} else if (env && *env) {
		if (parse_epoch(env, &o.epoch) < 0)
			return usage_error(
			        "SOURCE_DATE_EPOCH='%s' must be a decimal number of seconds "
			        "without sign or leading zero, from 0 to 253402300799 "
			        "(9999-12-31T23:59:59Z)",
			        env);
	}

	r = ou_build_run(&o, &res, &err);
	if (!quiet)
		for (size_t i = 0; i < res.n_messages; i++)
			fprintf(stderr, "ociuser: %s\n", res.messages[i]);
	if (r < 0) {
		fprintf(stderr, "ociuser: %s\n", err->message);
		ou_error_free(err);
		ou_build_result_release(&res);
		return 1;
	}
	printf("%s\n", res.digest);
	ou_build_result_release(&res);
	if (fflush(stdout) != 0)
		return 1;
	return 0;
}
