/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ociuser/error.h"

/* Limits on input sizes; anything bigger is refused with EFBIG. */
#define OU_MAX_SPEC_SIZE (1024 * 1024)

enum ou_compression {
	OU_COMPRESSION_GZIP = 0,
	OU_COMPRESSION_ZSTD,
	OU_COMPRESSION_NONE,
};

enum ou_config_user {
	OU_CONFIG_USER_UID = 0, /* "UID" */
	OU_CONFIG_USER_UID_GID, /* "UID:GID" */
	OU_CONFIG_USER_NAME,    /* "NAME" */
};

/*
 * One value from the spec and the 1-based line it came from. line == 0
 * means the key was not given (and str is NULL).
 */
struct ou_spec_value {
	char *str;
	unsigned line;
};

/* A KEY=VALUE list item (env, label, annotation). */
struct ou_spec_kv {
	char *key;
	char *value;
	unsigned line;
};

/*
 * An argv given as cmd or entrypoint; set == false when absent. The exec
 * form "[]" gives set == true with argc == 0 (argv = {NULL}): the spec
 * clears the inherited value. A quoted value ("...") is always the shell
 * form, so a shell command may start with '[' (cmd = "[ -f /x ] && run").
 */
struct ou_spec_argv {
	bool set;
	char **argv; /* NULL-terminated; exec form as given, shell form ["/bin/sh","-c",TEXT] */
	size_t argc;
	unsigned line;
};

/* [files] DEST = SOURCE */
struct ou_spec_file {
	char *dest;        /* absolute, normalised: no "//", no "." components, no trailing '/' */
	char *source;      /* host path resolved against the spec's folder (absolute if the spec's
	                      folder is), as given otherwise; a trailing '/' is kept */
	char *source_spec; /* SOURCE exactly as written in the spec, for messages */
	unsigned line;
};

/* [sensitive] PATH = MODE */
struct ou_spec_sensitive {
	char *path;    /* absolute, normalised like ou_spec_file.dest */
	unsigned mode; /* 0..07777 */
	unsigned line;
};

/*
 * A parsed and validated spec. Everything the contract's syntax and value
 * rules can check without looking at the base or the host is checked by
 * ou_spec_load(); what needs the base (ids taken, paths existing) is
 * checked later, with these line numbers.
 */
struct ou_spec {
	char *path; /* as given on the command line, used in every message */
	char *dir;  /* folder holding the spec; relative host paths resolve against it */

	/* [image] */
	struct ou_spec_value base; /* required; "oci:..." as written, or a host path resolved
	                              against dir */
	bool base_is_oci;          /* true for "oci:DIR" / "oci:DIR:TAG" */
	char *base_oci_dir;        /* for oci: bases: DIR resolved against dir */
	char *base_oci_tag;        /* for oci: bases: TAG (a valid ref name) or NULL; DIR ends at
	                              the first ':' after "oci:", as skopeo reads it */
	struct ou_spec_value tag;  /* default "latest" (then line 0) */
	struct ou_spec_argv cmd;
	struct ou_spec_argv entrypoint;
	struct ou_spec_value workdir; /* absolute */
	struct ou_spec_kv *env; /* in order; a later NAME replaces an earlier one here already */
	size_t n_env;
	struct ou_spec_kv *labels; /* like env: a later KEY replaces an earlier one in place */
	size_t n_labels;
	struct ou_spec_kv *annotations; /* like labels */
	size_t n_annotations;
	/* normalised "PORT/tcp" or "PORT/udp"; a repeated port is kept once */
	struct ou_spec_value *expose;
	size_t n_expose;
	struct ou_spec_value stop_signal;  /* "SIGNAME" (SIGTERM, SIGRTMIN+3...) or "1".."64" */
	struct ou_spec_value architecture; /* these three: [a-z0-9][a-z0-9._-]*, at most 32 bytes */
	struct ou_spec_value variant;
	struct ou_spec_value os;
	enum ou_compression compression;
	unsigned compression_line;
	bool squash;
	unsigned squash_line;

	/* [user] */
	struct ou_spec_value user;  /* required */
	struct ou_spec_value group; /* defaults to user (then line 0) */
	bool has_uid;
	uint32_t uid;
	unsigned uid_line;
	bool has_gid;
	uint32_t gid;
	unsigned gid_line;
	struct ou_spec_value *groups; /* supplementary, in order, no duplicates */
	size_t n_groups;
	struct ou_spec_value home; /* str NULL when not given: "/home/NAME" is decided later;
	                              else absolute, normalised like dest, no ':' */
	bool create_home;          /* default true */
	unsigned create_home_line;
	struct ou_spec_value shell; /* str NULL when not given: picked from the base later;
	                               else as written: absolute, no ':', no control character */
	enum ou_config_user config_user;
	unsigned config_user_line;

	/* [files] */
	struct ou_spec_file *files;
	size_t n_files;
	bool preserve_modes;
	struct ou_spec_value *excludes;
	size_t n_excludes;

	/* [sensitive] */
	struct ou_spec_sensitive *sensitive; /* no path twice */
	size_t n_sensitive;
};

/*
 * Syntax decisions where the contract is silent (ociuser-spec(5) says the same):
 * - A key before any section header is an error; an empty section is fine; a
 *   section header given twice is an error ("first at line N"), so each part
 *   of the spec is in one place. "[ image ]" is "[image]"; text after ']' is
 *   an error.
 * - Only the first '=' splits key and value, so a DEST cannot hold '='.
 * - Leading whitespace is trimmed: an indented line is never a continuation.
 *   A value is never cut at ';' or '#'; only whole lines are comments.
 * - The text must be UTF-8 (values reach JSON); a NUL, a control character
 *   other than tab, or a CR that is not part of a CRLF is an error at its
 *   line. A UTF-8 byte order mark at the very start is skipped.
 * - Numbers: an empty value, a sign, a leading zero or any non-digit is an
 *   error; so is a value out of range (uid/gid 1..2147483646, ports 1..65535).
 * - Lists: env/label/annotation replace by KEY in place; a repeated expose
 *   port is kept once; a repeated supplementary group or [sensitive] path is
 *   an error; the same [files] DEST may repeat (sources merge into it).
 * - A [files] or [sensitive] key starting with '/' is a path; any other key
 *   there that is not a known one is an error. A DEST or home with a ".wh."
 *   component is an error, like one in [sensitive].
 */

/*
 * Reads and validates the spec at @path. Every error is an EINVAL (EFBIG
 * when over OU_MAX_SPEC_SIZE, the errno when unreadable) whose message
 * starts with "PATH:LINE: " (or "PATH: " when no line applies, such as a
 * missing required key or an unreadable file). The caller owns *ret_spec.
 */
int ou_spec_load(const char *path, struct ou_spec **ret_spec, struct ou_error **err);

/*
 * The same from text in memory (@len bytes, may contain NULs which are an
 * error); @path is used in messages and its folder for relative paths.
 */
int ou_spec_parse(const char *path, const char *text, size_t len, struct ou_spec **ret_spec,
                  struct ou_error **err);

struct ou_spec *ou_spec_free(struct ou_spec *spec);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_spec *, ou_spec_free)
