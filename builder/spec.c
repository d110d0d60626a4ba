/* SPDX-License-Identifier: MIT */
/*
 * The spec reader: a small INI parser of our own (Debian's inih cuts lines at
 * 200 bytes and values at " ;") and the contract's value rules. Every error
 * is EINVAL with "SPEC:LINE: " in front; see include/ociuser/spec.h for the
 * syntax decisions the contract leaves open.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ociuser/path.h"
#include "ociuser/spec.h"
#include "ociuser/strbuf.h"
#include "ociuser/xalloc.h"

/* Values are quoted in messages up to this many bytes, then "...". */
#define SHOW_MAX 64
#define SHOW(s) SHOW_MAX, (s), (strlen(s) > SHOW_MAX ? "..." : "")

#define MAX_SPEC_ID 2147483646u

enum section {
	SECTION_NONE = -1,
	SECTION_IMAGE = 0,
	SECTION_USER,
	SECTION_FILES,
	SECTION_SENSITIVE,
	N_SECTIONS,
};

static const char *const section_names[N_SECTIONS] = {
        [SECTION_IMAGE] = "image",
        [SECTION_USER] = "user",
        [SECTION_FILES] = "files",
        [SECTION_SENSITIVE] = "sensitive",
};

struct item_line {
	size_t index; /* position in its list */
	const char *key;
	unsigned line;
};

struct parser {
	struct ou_spec *spec;
	struct ou_error **err;
	enum section section;
	unsigned section_line[N_SECTIONS];
	unsigned *seen; /* first line of each non-list key, by key table index */
};

typedef int (*key_fn)(struct parser *p, const char *key, const char *value, bool quoted,
                      unsigned line);

struct key_def {
	enum section section;
	const char *name;
	bool list;
	key_fn fn;
};

static int fail(struct parser *p, unsigned line, const char *fmt, ...) _printf_(3, 4);

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		msg = xstrdup("out of memory while reporting an error");
	if (line)
		return ou_error_set(p->err, EINVAL, "%s:%u: %s", p->spec->path, line, msg);
	return ou_error_set(p->err, EINVAL, "%s: %s", p->spec->path, msg);
}

/* ---- value helpers ---- */

static void set_value(struct ou_spec_value *v, const char *s, unsigned line)
{
	free(v->str);
	v->str = xstrdup(s);
	v->line = line;
}

/*
 * Makes room for element @n of *@arr. The capacity is implied by the count
 * (the next power of two), so pushing is amortised O(1) without a field.
 */
static void grow_for(void **arr, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		*arr = xrealloc(*arr, (n ? 2 * n : 1) * size);
}

static void push_value(struct ou_spec_value **arr, size_t *n, const char *s, unsigned line)
{
	grow_for((void **)arr, *n, sizeof(**arr));
	(*arr)[*n] = (struct ou_spec_value){.str = xstrdup(s), .line = line};
	(*n)++;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A number as ou_parse_decimal() reads it, within min..max. */
static int parse_number(struct parser *p, const char *key, const char *s, unsigned line,
                        uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	int r = ou_parse_decimal(s, max, &v);

	if (r == -EINVAL && !*s)
		return fail(p, line, "'%s' is empty: give a decimal number in %llu..%llu", key,
		            (unsigned long long)min, (unsigned long long)max);
	if (r == -EINVAL)
		return fail(p, line, "'%s' must be a decimal number without sign, not '%.*s%s'",
		            key, SHOW(s));
	if (r == -EDOM)
		return fail(p, line,
		            "'%s' value '%.*s%s' has a leading zero (numbers are decimal, never "
		            "octal)",
		            key, SHOW(s));
	if (r == -ERANGE || v < min)
		return fail(p, line, "'%s' value %.*s%s is out of range %llu..%llu", key, SHOW(s),
		            (unsigned long long)min, (unsigned long long)max);
	*ret = v;
	return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *s, unsigned line, bool *ret)
{
	if (strcmp(s, "true") == 0)
		*ret = true;
	else if (strcmp(s, "false") == 0)
		*ret = false;
	else
		return fail(p, line, "'%s' must be 'true' or 'false', not '%.*s%s'", key, SHOW(s));
	return 0;
}

/* Resolves a host path against the spec's folder (see ou_spec_file.source). */
static char *resolve(const struct ou_spec *spec, const char *s)
{
	size_t n = strlen(spec->dir);

	if (s[0] == '/' || strcmp(spec->dir, ".") == 0)
		return xstrdup(s);
	if (n > 0 && spec->dir[n - 1] == '/')
		return xasprintf("%s%s", spec->dir, s);
	return xasprintf("%s/%s", spec->dir, s);
}

/* An image path from the spec, validated by ou_path_from_spec, as "/a/b". */
static int image_path(struct parser *p, const char *what, const char *s, unsigned line, char **ret)
{
	_cleanup_(ou_error_freep) struct ou_error *e = NULL;
	_cleanup_free_ char *rel = NULL;

	if (ou_path_from_spec(s, &rel, &e) < 0)
		return fail(p, line, "invalid %s: %s", what, e->message);
	*ret = xasprintf("/%s", rel);
	return 0;
}

/* ---- [image] ---- */

static int key_base(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                    unsigned line)
{
	struct ou_spec *s = p->spec;

	if (!*v)
		return fail(p, line, "'base' is empty: give a tar archive or oci:DIR[:TAG]");
	if (strncmp(v, "oci:", 4) == 0) {
		const char *rest = v + 4, *colon = strchr(rest, ':');
		_cleanup_free_ char *dir =
		        colon ? xstrndup(rest, (size_t)(colon - rest)) : xstrdup(rest);

		if (!*dir)
			return fail(p, line,
			            "'base' '%.*s%s' names no layout folder (write oci:DIR or "
			            "oci:DIR:TAG)",
			            SHOW(v));
		if (colon && !ou_ref_name_is_valid(colon + 1))
			return fail(p, line,
			            "'base' tag '%.*s%s' is not a valid OCI ref name (alphanumeric "
			            "parts joined by one of '-._:@+/' or '--')",
			            SHOW(colon + 1));
		s->base_is_oci = true;
		s->base_oci_dir = resolve(s, dir);
		s->base_oci_tag = colon ? xstrdup(colon + 1) : NULL;
		set_value(&s->base, v, line);
		return 0;
	}
	{
		/* skopeo's other transports: say how to get such an image */
		static const char *const transports[] = {
		        "docker://",
		        "docker-archive:",
		        "docker-daemon:",
		        "oci-archive:",
		        "containers-storage:",
		        "dir:",
		        "ostree:",
		        "sif:",
		};
		for (size_t i = 0; i < ELEMENTSOF(transports); i++)
			if (strncmp(v, transports[i], strlen(transports[i])) == 0)
				return fail(
				        p, line,
				        "'base' '%.*s%s': ociuser reads a tarball or oci:DIR[:TAG] "
				        "only; fetch it first (skopeo copy %.*s%s oci:base:latest) "
				        "and write base = oci:base:latest",
				        SHOW(v), SHOW(v));
	}
	s->base.str = resolve(s, v);
	s->base.line = line;
	return 0;
}

static int key_tag(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                   unsigned line)
{
	if (!*v)
		return fail(p, line, "'tag' is empty: give a ref name such as 'latest' or '1.0'");
	if (!ou_ref_name_is_valid(v))
		return fail(p, line,
		            "'tag' '%.*s%s' is not a valid OCI ref name (alphanumeric parts joined "
		            "by one of '-._:@+/' or '--')",
		            SHOW(v));
	set_value(&p->spec->tag, v, line);
	return 0;
}

static int parse_argv(struct parser *p, const char *key, const char *v, bool quoted, unsigned line,
                      struct ou_spec_argv *a)
{
	_cleanup_strv_free_ char **argv = NULL;
	size_t argc = 0;

	if (!*v)
		return fail(p, line,
		            "'%s' is empty: give a JSON array of strings or a shell command", key);
	/* A quoted value is always the shell form: the way to start one with '['. */
	if (v[0] == '[' && !quoted) {
		json_error_t jerr;
		json_t *j = json_loads(v, 0, &jerr);
		size_t i;
		json_t *el;

		if (!j || !json_is_array(j)) {
			json_decref(j);
			return fail(p, line,
			            "'%s' starts with '[' but is not a JSON array of strings%s%s",
			            key, j ? "" : ": ", j ? "" : jerr.text);
		}
		/* Zeroed, so the vector is NULL-terminated while it fills. */
		argv = xcalloc(json_array_size(j) + 1, sizeof(char *));
		json_array_foreach(j, i, el)
		{
			if (!json_is_string(el)) {
				json_decref(j);
				return fail(p, line,
				            "'%s' element %zu is not a string (exec form is a JSON "
				            "array of strings)",
				            key, i + 1);
			}
			argv[argc++] = xstrdup(json_string_value(el));
		}
		json_decref(j);
	} else {
		ou_strv_push(&argv, &argc, "/bin/sh");
		ou_strv_push(&argv, &argc, "-c");
		ou_strv_push(&argv, &argc, v);
	}
	a->set = true;
	a->argv = TAKE_PTR(argv);
	a->argc = argc;
	a->line = line;
	return 0;
}

static int key_cmd(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                   unsigned line)
{
	return parse_argv(p, key, v, quoted, line, &p->spec->cmd);
}

static int key_entrypoint(struct parser *p, _unused_ const char *key, const char *v,
                          _unused_ bool quoted, unsigned line)
{
	return parse_argv(p, key, v, quoted, line, &p->spec->entrypoint);
}

static int key_workdir(struct parser *p, _unused_ const char *key, const char *v,
                       _unused_ bool quoted, unsigned line)
{
	if (v[0] != '/')
		return fail(p, line, "'workdir' '%.*s%s' is not an absolute path", SHOW(v));
	if (has_control(v))
		return fail(p, line, "'workdir' holds a control character");
	for (const char *c = v; (c = strstr(c, "..")); c += 2)
		if ((c == v || c[-1] == '/') && (c[2] == '/' || c[2] == '\0'))
			return fail(p, line, "'workdir' '%.*s%s' has a '..' component", SHOW(v));
	set_value(&p->spec->workdir, v, line);
	return 0;
}

static int push_kv(struct parser *p, const char *key, const char *v, unsigned line,
                   const char *what, struct ou_spec_kv **arr, size_t *n)
{
	const char *eq = strchr(v, '=');

	if (!eq)
		return fail(p, line, "'%s' must be %s=VALUE, not '%.*s%s' (no '=')", key, what,
		            SHOW(v));
	if (eq == v)
		return fail(p, line, "'%s' has an empty %s before '='", key, what);
	grow_for((void **)arr, *n, sizeof(**arr));
	(*arr)[*n] = (struct ou_spec_kv){
	        .key = xstrndup(v, (size_t)(eq - v)),
	        .value = xstrdup(eq + 1),
	        .line = line,
	};
	(*n)++;
	return 0;
}

static int key_env(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                   unsigned line)
{
	size_t name_len = strcspn(v, "=");

	/* a runtime hands NAME=VALUE to execve as it is: a blank in NAME makes a
	 * variable no shell can name */
	if (v[name_len] == '=' && strcspn(v, " \t") < name_len)
		return fail(p, line, "'env' name '%.*s' holds a blank", (int)name_len, v);
	return push_kv(p, key, v, line, "NAME", &p->spec->env, &p->spec->n_env);
}

static int key_label(struct parser *p, _unused_ const char *key, const char *v,
                     _unused_ bool quoted, unsigned line)
{
	return push_kv(p, key, v, line, "KEY", &p->spec->labels, &p->spec->n_labels);
}

static int key_annotation(struct parser *p, _unused_ const char *key, const char *v,
                          _unused_ bool quoted, unsigned line)
{
	return push_kv(p, key, v, line, "KEY", &p->spec->annotations, &p->spec->n_annotations);
}

static int key_expose(struct parser *p, _unused_ const char *key, const char *v,
                      _unused_ bool quoted, unsigned line)
{
	const char *slash = strchr(v, '/');
	_cleanup_free_ char *port = slash ? xstrndup(v, (size_t)(slash - v)) : xstrdup(v);
	const char *proto = slash ? slash + 1 : "tcp";
	uint64_t n;
	int r;

	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return fail(p, line, "'expose' must be PORT, PORT/tcp or PORT/udp, not '%.*s%s'",
		            SHOW(v));
	r = parse_number(p, "expose", port, line, 1, 65535, &n);
	if (r < 0)
		return r;
	_cleanup_free_ char *norm = xasprintf("%llu/%s", (unsigned long long)n, proto);
	push_value(&p->spec->expose, &p->spec->n_expose, norm, line);
	return 0;
}

static bool signal_is_valid(const char *s)
{
	static const char *const names[] = {
	        "SIGHUP",   "SIGINT",  "SIGQUIT",   "SIGILL",  "SIGTRAP", "SIGABRT",   "SIGIOT",
	        "SIGBUS",   "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV", "SIGUSR2",   "SIGPIPE",
	        "SIGALRM",  "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",   "SIGTSTP",
	        "SIGTTIN",  "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
	        "SIGWINCH", "SIGIO",   "SIGPOLL",   "SIGPWR",  "SIGSYS",  "SIGRTMIN",  "SIGRTMAX",
	};
	const char *n = NULL;

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	/* SIGRTMIN+N and SIGRTMAX-N, N in 1..30 (glibc has 30 real-time signals). */
	if (strncmp(s, "SIGRTMIN+", 9) == 0 || strncmp(s, "SIGRTMAX-", 9) == 0)
		n = s + 9;
	else if (s[0] >= '1' && s[0] <= '9')
		n = s;
	if (!n || !(n[0] >= '1' && n[0] <= '9'))
		return false;
	if (!n[1])
		return true;
	if (n[1] < '0' || n[1] > '9' || n[2])
		return false;
	return (n[0] - '0') * 10 + (n[1] - '0') <= (n == s ? 64 : 30);
}

static int key_stop_signal(struct parser *p, _unused_ const char *key, const char *v,
                           _unused_ bool quoted, unsigned line)
{
	if (!signal_is_valid(v))
		return fail(
		        p, line,
		        "'stop_signal' '%.*s%s' is not a signal (write a name such as 'SIGTERM' "
		        "or a number in 1..64)",
		        SHOW(v));
	set_value(&p->spec->stop_signal, v, line);
	return 0;
}

static int platform_value(struct parser *p, const char *key, const char *v, unsigned line,
                          struct ou_spec_value *out)
{
	size_t n = strlen(v);
	bool ok = n > 0 && n <= 32;

	for (size_t i = 0; ok && i < n; i++) {
		char c = v[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		ok = alnum || (i > 0 && (c == '_' || c == '-' || c == '.'));
	}
	if (!ok)
		return fail(
		        p, line,
		        "'%s' '%.*s%s' is not an OCI platform value (lower case letters, digits, "
		        "'_', '-' or '.', such as 'amd64', 'v8' or 'linux')",
		        key, SHOW(v));
	set_value(out, v, line);
	return 0;
}

static int key_architecture(struct parser *p, _unused_ const char *key, const char *v,
                            _unused_ bool quoted, unsigned line)
{
	return platform_value(p, key, v, line, &p->spec->architecture);
}

static int key_variant(struct parser *p, _unused_ const char *key, const char *v,
                       _unused_ bool quoted, unsigned line)
{
	return platform_value(p, key, v, line, &p->spec->variant);
}

static int key_os(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                  unsigned line)
{
	return platform_value(p, key, v, line, &p->spec->os);
}

static int key_compression(struct parser *p, _unused_ const char *key, const char *v,
                           _unused_ bool quoted, unsigned line)
{
	struct ou_spec *s = p->spec;

	if (strcmp(v, "gzip") == 0)
		s->compression = OU_COMPRESSION_GZIP;
	else if (strcmp(v, "zstd") == 0)
		s->compression = OU_COMPRESSION_ZSTD;
	else if (strcmp(v, "none") == 0)
		s->compression = OU_COMPRESSION_NONE;
	else
		return fail(p, line, "'compression' must be 'gzip', 'zstd' or 'none', not '%.*s%s'",
		            SHOW(v));
	s->compression_line = line;
	return 0;
}

static int key_squash(struct parser *p, _unused_ const char *key, const char *v,
                      _unused_ bool quoted, unsigned line)
{
	p->spec->squash_line = line;
	return parse_bool(p, key, v, line, &p->spec->squash);
}

/* ---- [user] ---- */

#define NAME_RULE                                                                                  \
	"lower case letters, digits, '_' and '-', starting with a letter or '_', an optional "     \
	"final '$', at most 32 bytes"

static int key_name(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                    unsigned line)
{
	if (!ou_name_is_valid(v))
		return fail(p, line, "'name' '%.*s%s' is not a valid user name (" NAME_RULE ")",
		            SHOW(v));
	if (strcmp(v, "root") == 0)
		return fail(p, line,
		            "'name' cannot be 'root': the image must run as a non-root user");
	set_value(&p->spec->user, v, line);
	return 0;
}

static int key_group(struct parser *p, _unused_ const char *key, const char *v,
                     _unused_ bool quoted, unsigned line)
{
	if (!ou_name_is_valid(v))
		return fail(p, line, "'group' '%.*s%s' is not a valid group name (" NAME_RULE ")",
		            SHOW(v));
	set_value(&p->spec->group, v, line);
	return 0;
}

static int key_uid(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                   unsigned line)
{
	uint64_t n;
	int r = parse_number(p, key, v, line, 1, MAX_SPEC_ID, &n);

	if (r < 0)
		return r;
	p->spec->has_uid = true;
	p->spec->uid = (uint32_t)n;
	p->spec->uid_line = line;
	return 0;
}

static int key_gid(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                   unsigned line)
{
	uint64_t n;
	int r = parse_number(p, key, v, line, 1, MAX_SPEC_ID, &n);

	if (r < 0)
		return r;
	p->spec->has_gid = true;
	p->spec->gid = (uint32_t)n;
	p->spec->gid_line = line;
	return 0;
}

static int key_groups(struct parser *p, _unused_ const char *key, const char *v,
                      _unused_ bool quoted, unsigned line)
{
	if (!ou_name_is_valid(v))
		return fail(p, line, "'groups' '%.*s%s' is not a valid group name (" NAME_RULE ")",
		            SHOW(v));
	push_value(&p->spec->groups, &p->spec->n_groups, v, line);
	return 0;
}

/* home and shell end up in a passwd line: absolute, no ':' and no control character. */
static int account_path(struct parser *p, const char *key, const char *v, unsigned line)
{
	if (v[0] != '/')
		return fail(p, line, "'%s' '%.*s%s' is not an absolute path", key, SHOW(v));
	if (strchr(v, ':'))
		return fail(p, line, "'%s' '%.*s%s' holds ':', which separates passwd fields", key,
		            SHOW(v));
	if (has_control(v))
		return fail(p, line,
		            "'%s' holds a control character, which a passwd line cannot carry",
		            key);
	return 0;
}

static int key_home(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                    unsigned line)
{
	_cleanup_free_ char *norm = NULL;
	int r;

	r = account_path(p, key, v, line);
	if (r < 0)
		return r;
	r = image_path(p, "'home'", v, line, &norm);
	if (r < 0)
		return r;
	set_value(&p->spec->home, norm, line);
	return 0;
}

static int key_shell(struct parser *p, _unused_ const char *key, const char *v,
                     _unused_ bool quoted, unsigned line)
{
	int r = account_path(p, key, v, line);

	if (r < 0)
		return r;
	set_value(&p->spec->shell, v, line);
	return 0;
}

static int key_create_home(struct parser *p, _unused_ const char *key, const char *v,
                           _unused_ bool quoted, unsigned line)
{
	p->spec->create_home_line = line;
	return parse_bool(p, key, v, line, &p->spec->create_home);
}

static int key_config_user(struct parser *p, _unused_ const char *key, const char *v,
                           _unused_ bool quoted, unsigned line)
{
	struct ou_spec *s = p->spec;

	if (strcmp(v, "uid") == 0)
		s->config_user = OU_CONFIG_USER_UID;
	else if (strcmp(v, "uid:gid") == 0)
		s->config_user = OU_CONFIG_USER_UID_GID;
	else if (strcmp(v, "name") == 0)
		s->config_user = OU_CONFIG_USER_NAME;
	else
		return fail(p, line,
		            "'config_user' must be 'uid', 'uid:gid' or 'name', not '%.*s%s'",
		            SHOW(v));
	s->config_user_line = line;
	return 0;
}

/* ---- [files] ---- */

static int key_dest(struct parser *p, _unused_ const char *key, const char *v, _unused_ bool quoted,
                    unsigned line)
{
	struct ou_spec *s = p->spec;
	_cleanup_free_ char *dest = NULL;
	int r;

	r = image_path(p, "destination", key, line, &dest);
	if (r < 0)
		return r;
	if (!*v)
		return fail(p, line, "'%.*s%s' has an empty SOURCE (write DEST = HOST_PATH)",
		            SHOW(key));
	grow_for((void **)&s->files, s->n_files, sizeof(*s->files));
	s->files[s->n_files++] = (struct ou_spec_file){
	        .dest = TAKE_PTR(dest),
	        .source = resolve(s, v),
	        .source_spec = xstrdup(v),
	        .line = line,
	};
	return 0;
}

static int key_preserve_modes(struct parser *p, _unused_ const char *key, const char *v,
                              _unused_ bool quoted, unsigned line)
{
	return parse_bool(p, key, v, line, &p->spec->preserve_modes);
}

static int key_exclude(struct parser *p, _unused_ const char *key, const char *v,
                       _unused_ bool quoted, unsigned line)
{
	if (!*v)
		return fail(p, line, "'exclude' is empty: give a pattern such as '*.pyc'");
	if (v[0] == '!')
		return fail(p, line,
		            "'exclude' '%.*s%s': negation ('!') is not supported; exclude less "
		            "instead",
		            SHOW(v));
	push_value(&p->spec->excludes, &p->spec->n_excludes, v, line);
	return 0;
}

/* ---- [sensitive] ---- */

static int key_sensitive(struct parser *p, _unused_ const char *key, const char *v,
                         _unused_ bool quoted, unsigned line)
{
	struct ou_spec *s = p->spec;
	_cleanup_free_ char *path = NULL;
	size_t n = strlen(v);
	unsigned mode = 0;
	int r;

	r = image_path(p, "[sensitive] path", key, line, &path);
	if (r < 0)
		return r;
	if (n == 0 || n > 4 || strspn(v, "01234567") != n)
		return fail(p, line,
		            "mode '%.*s%s' for '%.*s%s' is not an octal mode of 1 to 4 "
		            "digits (such as 750 or 0640)",
		            SHOW(v), SHOW(key));
	for (size_t i = 0; i < n; i++)
		mode = mode * 8 + (unsigned)(v[i] - '0');
	grow_for((void **)&s->sensitive, s->n_sensitive, sizeof(*s->sensitive));
	s->sensitive[s->n_sensitive++] = (struct ou_spec_sensitive){
	        .path = TAKE_PTR(path),
	        .mode = mode,
	        .line = line,
	};
	return 0;
}

/* ---- the key table ---- */

static const struct key_def keys[] = {
        {SECTION_IMAGE, "base", false, key_base},
        {SECTION_IMAGE, "tag", false, key_tag},
        {SECTION_IMAGE, "cmd", false, key_cmd},
        {SECTION_IMAGE, "entrypoint", false, key_entrypoint},
        {SECTION_IMAGE, "workdir", false, key_workdir},
        {SECTION_IMAGE, "env", true, key_env},
        {SECTION_IMAGE, "label", true, key_label},
        {SECTION_IMAGE, "annotation", true, key_annotation},
        {SECTION_IMAGE, "expose", true, key_expose},
        {SECTION_IMAGE, "stop_signal", false, key_stop_signal},
        {SECTION_IMAGE, "architecture", false, key_architecture},
        {SECTION_IMAGE, "variant", false, key_variant},
        {SECTION_IMAGE, "os", false, key_os},
        {SECTION_IMAGE, "compression", false, key_compression},
        {SECTION_IMAGE, "squash", false, key_squash},
        {SECTION_USER, "name", false, key_name},
        {SECTION_USER, "group", false, key_group},
        {SECTION_USER, "uid", false, key_uid},
        {SECTION_USER, "gid", false, key_gid},
        {SECTION_USER, "groups", true, key_groups},
        {SECTION_USER, "home", false, key_home},
        {SECTION_USER, "shell", false, key_shell},
        {SECTION_USER, "create_home", false, key_create_home},
        {SECTION_USER, "config_user", false, key_config_user},
        {SECTION_FILES, "preserve_modes", false, key_preserve_modes},
        {SECTION_FILES, "exclude", true, key_exclude},
};

/* ---- lines ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * Removes the quotes of a value in double quotes, in place. \" and \\ are
 * the only escapes; anything after the closing quote is an error.
 */
static int unquote(struct parser *p, unsigned line, char *v, bool *ret_quoted)
{
	char *r = v + 1, *w = v;

	*ret_quoted = false;
	if (v[0] != '"')
		return 0;
	for (;; r++) {
		if (*r == '\0')
			return fail(p, line, "quoted value has no closing '\"'");
		if (*r == '"')
			break;
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\') {
				if (*r == '\0')
					return fail(p, line, "quoted value has no closing '\"'");
				return fail(p, line,
				            "unknown escape '\\%c' in quoted value (only \\\" and "
				            "\\\\ are escapes)",
				            *r);
			}
		}
		*w++ = *r;
	}
	if (r[1])
		return fail(p, line, "text after the closing '\"' of a quoted value: '%.*s%s'",
		            SHOW(r + 1));
	*w = '\0';
	*ret_quoted = true;
	return 0;
}

/* Returns the length of the valid UTF-8 sequence at @s (of @n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Checks the raw bytes of one line: no NUL, no control character but tab,
 * valid UTF-8 (values end up in JSON, which jansson refuses otherwise).
 */
static int check_bytes(struct parser *p, unsigned line, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t l;

		if (u[i] == '\0')
			return fail(p, line, "NUL byte in line (a spec is text)");
		if (u[i] == '\r')
			return fail(p, line,
			            "carriage return in the middle of a line (only CRLF "
			            "line ends are accepted)");
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return fail(p, line, "control character 0x%02x in line", u[i]);
		l = utf8_len(u + i, n - i);
		if (!l)
			return fail(p, line, "line is not valid UTF-8");
		i += l;
	}
	return 0;
}

static int parse_section(struct parser *p, char *s, unsigned line)
{
	char *end = strchr(s, ']');
	char *name;

	if (!end)
		return fail(p, line, "section header '%.*s%s' has no closing ']'", SHOW(s));
	if (end[1])
		return fail(p, line, "text after ']' in section header: '%.*s%s'", SHOW(end + 1));
	*end = '\0';
	name = trim(s + 1);
	for (int i = 0; i < N_SECTIONS; i++) {
		if (strcmp(name, section_names[i]) != 0)
			continue;
		/* A section given again continues it, as in git's config files; a
		 * non-list key given in both is still an error at its second line. */
		if (!p->section_line[i])
			p->section_line[i] = line;
		p->section = (enum section)i;
		return 0;
	}
	return fail(p, line,
	            "unknown section '[%.*s%s]' (the sections are [image], [user], [files] and "
	            "[sensitive])",
	            SHOW(name));
}

static int parse_entry(struct parser *p, char *s, unsigned line)
{
	char *eq = strchr(s, '=');
	char *key, *value;
	bool quoted;
	int r;

	if (!eq)
		return fail(p, line,
		            "expected 'key = value', a '[section]' header or a comment, not "
		            "'%.*s%s'",
		            SHOW(s));
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (!*key)
		return fail(p, line, "missing key before '='");
	if (p->section == SECTION_NONE)
		return fail(p, line, "key '%.*s%s' comes before any section (start with [image])",
		            SHOW(key));
	r = unquote(p, line, value, &quoted);
	if (r < 0)
		return r;

	/* In [files] and [sensitive] an absolute path is a key of its own kind. */
	if (key[0] == '/' && p->section == SECTION_FILES)
		return key_dest(p, key, value, quoted, line);
	if (key[0] == '/' && p->section == SECTION_SENSITIVE)
		return key_sensitive(p, key, value, quoted, line);

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		if (keys[i].section != p->section || strcmp(keys[i].name, key) != 0)
			continue;
		if (!keys[i].list) {
			if (p->seen[i])
				return fail(p, line, "'%s' is given twice (first at line %u)", key,
				            p->seen[i]);
			p->seen[i] = line;
		}
		return keys[i].fn(p, key, value, quoted, line);
	}
	if (p->section == SECTION_FILES)
		return fail(p, line,
		            "unknown key '%.*s%s' in [files] (a destination must be an absolute "
		            "path)",
		            SHOW(key));
	if (p->section == SECTION_SENSITIVE)
		return fail(p, line,
		            "'%.*s%s' in [sensitive] is not an absolute path (write PATH = MODE)",
		            SHOW(key));
	return fail(p, line, "unknown key '%.*s%s' in [%s]", SHOW(key), section_names[p->section]);
}

/* ---- checks over whole lists ---- */

static int cmp_item(const void *a, const void *b)
{
	const struct item_line *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Sorts @n items by key (then position), so equal keys are adjacent and in
 * spec order; O(n log n), as a spec may hold a hundred thousand entries.
 */
static struct item_line *sorted_items(size_t n, const char *(*key_of)(const void *, size_t),
                                      unsigned (*line_of)(const void *, size_t), const void *arr)
{
	struct item_line *items = xcalloc(n ? n : 1, sizeof(*items));

	for (size_t i = 0; i < n; i++)
		items[i] = (struct item_line){i, key_of(arr, i), line_of(arr, i)};
	qsort(items, n, sizeof(*items), cmp_item);
	return items;
}

static const char *kv_key(const void *arr, size_t i)
{
	return ((const struct ou_spec_kv *)arr)[i].key;
}

static unsigned kv_line(const void *arr, size_t i)
{
	return ((const struct ou_spec_kv *)arr)[i].line;
}

static const char *value_key(const void *arr, size_t i)
{
	return ((const struct ou_spec_value *)arr)[i].str;
}

static unsigned value_line(const void *arr, size_t i)
{
	return ((const struct ou_spec_value *)arr)[i].line;
}

static const char *sensitive_key(const void *arr, size_t i)
{
	return ((const struct ou_spec_sensitive *)arr)[i].path;
}

static unsigned sensitive_line(const void *arr, size_t i)
{
	return ((const struct ou_spec_sensitive *)arr)[i].line;
}

/*
 * env, label, annotation: a later KEY replaces an earlier one in place
 * (Docker's ENV semantics): the first position is kept, with the last value
 * and line.
 */
static void merge_kv(struct ou_spec_kv *arr, size_t *n)
{
	_cleanup_free_ struct item_line *items = sorted_items(*n, kv_key, kv_line, arr);
	_cleanup_free_ bool *drop = xcalloc(*n ? *n : 1, sizeof(bool));
	size_t w = 0;

	for (size_t i = 0; i < *n;) {
		size_t j = i + 1, first = items[i].index;

		while (j < *n && strcmp(items[j].key, items[i].key) == 0)
			j++;
		if (j - i > 1) {
			size_t last = items[j - 1].index;

			free(arr[first].value);
			arr[first].value = arr[last].value;
			arr[first].line = arr[last].line;
			arr[last].value = NULL;
			for (size_t k = i + 1; k < j; k++)
				drop[items[k].index] = true;
		}
		i = j;
	}
	for (size_t i = 0; i < *n; i++) {
		if (drop[i]) {
			free(arr[i].key);
			free(arr[i].value);
			continue;
		}
		arr[w++] = arr[i];
	}
	*n = w;
}

/* expose is a set: a repeated port is kept once, at its first place. */
static void dedupe_values(struct ou_spec_value *arr, size_t *n)
{
	_cleanup_free_ struct item_line *items = sorted_items(*n, value_key, value_line, arr);
	_cleanup_free_ bool *drop = xcalloc(*n ? *n : 1, sizeof(bool));
	size_t w = 0;

	for (size_t i = 1; i < *n; i++)
		if (strcmp(items[i].key, items[i - 1].key) == 0)
			drop[items[i].index] = true;
	for (size_t i = 0; i < *n; i++) {
		if (drop[i])
			free(arr[i].str);
		else
			arr[w++] = arr[i];
	}
	*n = w;
}

/*
 * Finds the earliest repeat (by its line) among sorted items; returns its
 * position in @items (the one before it is the first occurrence) or 0.
 */
static size_t first_repeat(const struct item_line *items, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i < n; i++)
		if (strcmp(items[i].key, items[i - 1].key) == 0 &&
		    (!best || items[i].line < items[best].line))
			best = i;
	return best;
}

static int check_lists(struct parser *p)
{
	struct ou_spec *s = p->spec;
	size_t i;

	merge_kv(s->env, &s->n_env);
	merge_kv(s->labels, &s->n_labels);
	merge_kv(s->annotations, &s->n_annotations);
	dedupe_values(s->expose, &s->n_expose);

	_cleanup_free_ struct item_line *groups =
	        sorted_items(s->n_groups, value_key, value_line, s->groups);
	i = first_repeat(groups, s->n_groups);
	if (i)
		return fail(p, groups[i].line,
		            "group '%s' is given twice in 'groups' (first at line %u)",
		            groups[i].key, groups[i - 1].line);

	/* Two modes for one path would depend on order; say so instead. */
	_cleanup_free_ struct item_line *sens =
	        sorted_items(s->n_sensitive, sensitive_key, sensitive_line, s->sensitive);
	i = first_repeat(sens, s->n_sensitive);
	if (i)
		return fail(p, sens[i].line,
		            "'%.*s%s' is given twice in [sensitive] (first at "
		            "line %u)",
		            SHOW(sens[i].key), sens[i - 1].line);
	return 0;
}

/* ---- entry points ---- */

static struct ou_spec *spec_new(const char *path)
{
	struct ou_spec *s = xcalloc(1, sizeof(*s));
	const char *slash = strrchr(path, '/');
	size_t n;

	s->path = xstrdup(path);
	if (!slash) {
		s->dir = xstrdup(".");
	} else {
		n = (size_t)(slash - path);
		while (n > 0 && path[n - 1] == '/')
			n--;
		s->dir = n ? xstrndup(path, n) : xstrdup("/");
	}
	s->create_home = true;
	s->compression = OU_COMPRESSION_GZIP;
	s->config_user = OU_CONFIG_USER_UID;
	return s;
}

/*
 * A required key that is missing: reported at its section's header, or at
 * the last line (where the section would go) when there is none.
 */
static int missing_key(struct parser *p, enum section section, const char *key, unsigned last_line)
{
	if (p->section_line[section])
		return fail(p, p->section_line[section], "missing required key '%s' in [%s]", key,
		            section_names[section]);
	return fail(p, last_line ? last_line : 1,
	            "missing required key '%s' in [%s] (the spec has no [%s] section)", key,
	            section_names[section], section_names[section]);
}

int ou_spec_parse(const char *path, const char *text, size_t len, struct ou_spec **ret_spec,
                  struct ou_error **err)
{
	_cleanup_(ou_spec_freep) struct ou_spec *spec = spec_new(path);
	_cleanup_free_ unsigned *seen = xcalloc(ELEMENTSOF(keys), sizeof(unsigned));
	struct parser p = {.spec = spec, .err = err, .section = SECTION_NONE, .seen = seen};
	struct ou_strbuf sb = OU_STRBUF_INIT;
	size_t pos = 0;
	unsigned line = 0;
	int r = 0;

	if (len > OU_MAX_SPEC_SIZE)
		return ou_error_set(err, EFBIG, "%s: the spec is larger than the limit of %d bytes",
		                    path, OU_MAX_SPEC_SIZE);
	/* A UTF-8 byte order mark, as some Windows editors write, is not text. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;

	while (pos < len) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		char *s;

		line++;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		r = check_bytes(&p, line, start, n);
		if (r < 0)
			break;
		sb.len = 0;
		ou_strbuf_append(&sb, start, n);
		/* Leading whitespace is trimmed: an indented line is not a continuation. */
		s = trim(sb.buf);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
			r = parse_section(&p, s, line);
		else
			r = parse_entry(&p, s, line);
		if (r < 0)
			break;
	}
	ou_strbuf_release(&sb);
	if (r < 0)
		return r;

	if (!spec->base.str)
		return missing_key(&p, SECTION_IMAGE, "base", line);
	if (!spec->user.str)
		return missing_key(&p, SECTION_USER, "name", line);
	r = check_lists(&p);
	if (r < 0)
		return r;
	if (!spec->tag.str)
		spec->tag.str = xstrdup("latest");
	if (!spec->group.str)
		spec->group.str = xstrdup(spec->user.str);

	*ret_spec = TAKE_PTR(spec);
	return 0;
}

int ou_spec_load(const char *path, struct ou_spec **ret_spec, struct ou_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = ou_read_file(path, OU_MAX_SPEC_SIZE, &text, &len, err);
	if (r < 0)
		return ou_error_prefix(err, "%s: cannot read the spec", path);
	return ou_spec_parse(path, text, len, ret_spec, err);
}

static void free_value(struct ou_spec_value *v)
{
	free(v->str);
}

static void free_values(struct ou_spec_value *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(arr[i].str);
	free(arr);
}

static void free_kvs(struct ou_spec_kv *arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(arr[i].key);
		free(arr[i].value);
	}
	free(arr);
}

struct ou_spec *ou_spec_free(struct ou_spec *s)
{
	if (!s)
		return NULL;
	free(s->path);
	free(s->dir);
	free_value(&s->base);
	free(s->base_oci_dir);
	free(s->base_oci_tag);
	free_value(&s->tag);
	ou_strv_free(s->cmd.argv);
	ou_strv_free(s->entrypoint.argv);
	free_value(&s->workdir);
	free_kvs(s->env, s->n_env);
	free_kvs(s->labels, s->n_labels);
	free_kvs(s->annotations, s->n_annotations);
	free_values(s->expose, s->n_expose);
	free_value(&s->stop_signal);
	free_value(&s->architecture);
	free_value(&s->variant);
	free_value(&s->os);
	free_value(&s->user);
	free_value(&s->group);
	free_values(s->groups, s->n_groups);
	free_value(&s->home);
	free_value(&s->shell);
	for (size_t i = 0; i < s->n_files; i++) {
		free(s->files[i].dest);
		free(s->files[i].source);
		free(s->files[i].source_spec);
	}
	free(s->files);
	free_values(s->excludes, s->n_excludes);
	for (size_t i = 0; i < s->n_sensitive; i++)
		free(s->sensitive[i].path);
	free(s->sensitive);
	free(s);
	return NULL;
}
