/* SPDX-License-Identifier: MIT */
/*
 * The accounts files: parse the base's passwd, group, shadow, gshadow and
 * login.defs, allocate ids as shadow's `groupadd -r` / `useradd -r` do, and
 * render the merged files. Base bytes are kept line for line; only the lines
 * this module appends or whose member list it extends differ.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ociuser/strbuf.h"
#include "ociuser/userdb.h"
#include "ociuser/xalloc.h"

/* (uint16_t)-1, "no id" to old 16-bit interfaces: shadow never gives it, nor do we. */
#define ID_NEVER_GIVEN 65535u
/* Base names quoted in messages are cut to this many bytes. */
#define MSG_NAME_MAX 64

#define PASSWD_ROOT_LINE "root:x:0:0:root:/root:/bin/sh\n"
#define GROUP_ROOT_LINE "root:x:0:\n"

struct slice {
	const char *p;
	size_t len;
};

struct line {
	const char *p; /* the line without its '\n' */
	size_t len;
	bool nl;       /* the line ended with '\n' */
	char *rewrite; /* replacement content (without '\n'), or NULL */
};

struct acct_file {
	const char *path; /* for messages */
	bool present;
	bool changed;
	char *owned; /* the text of a created file */
	struct line *lines;
	size_t n_lines;
	struct ou_strbuf tail; /* appended lines */
};

struct ctx {
	const struct ou_accounts_req *req;
	const char *spec;
	struct ou_error **err;
	struct acct_file passwd, group, shadow, gshadow;
};

static bool slice_eq(struct slice s, const char *str)
{
	size_t n = strlen(str);
	return s.len == n && memcmp(s.p, str, n) == 0;
}

/*
 * Splits @s at ':' into at most @max slices and returns the number of
 * fields the line has (which may be more than @max).
 */
static size_t split_fields(struct slice s, struct slice *f, size_t max)
{
	const char *p = s.p, *end = s.p + s.len;
	size_t n = 0;

	for (;;) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		if (n < max)
			f[n] = (struct slice){p, c ? (size_t)(c - p) : (size_t)(end - p)};
		n++;
		if (!c)
			return n;
		p = c + 1;
	}
}

/* A decimal id as glibc reads one in passwd/group: digits only, fits 32 bits. */
static bool parse_id(struct slice s, uint32_t *ret)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 10)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/*
 * The part of a line that lookup reads: leading blanks skipped, as glibc's
 * files backend does. Returns false for blank and comment lines.
 */
static bool lookup_text(const struct line *l, struct slice *ret)
{
	const char *p = l->rewrite ? l->rewrite : l->p;
	size_t len = l->rewrite ? strlen(l->rewrite) : l->len;

	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	if (len == 0 || *p == '#')
		return false;
	*ret = (struct slice){p, len};
	return true;
}

/* A copy of @s safe to print: non-printable bytes become '?', cut at MSG_NAME_MAX. */
static char *printable(struct slice s)
{
	size_t n = s.len > MSG_NAME_MAX ? MSG_NAME_MAX : s.len;
	char *r = xstrndup(s.p, n);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] >= 0x7f)
			r[i] = '?';
	return r;
}

static void file_release(struct acct_file *f)
{
	for (size_t i = 0; i < f->n_lines; i++)
		free(f->lines[i].rewrite);
	free(f->lines);
	free(f->owned);
	ou_strbuf_release(&f->tail);
	*f = (struct acct_file){0};
}

static void ctx_release(struct ctx *c)
{
	file_release(&c->passwd);
	file_release(&c->group);
	file_release(&c->shadow);
	file_release(&c->gshadow);
}

static int check_base_text(const struct ou_account_text *t, const char *path, struct ou_error **err)
{
	if (!t->present)
		return 0;
	if (t->len > OU_MAX_ACCOUNT_FILE_SIZE)
		return ou_error_set(err, EFBIG, "'%s' in the base is larger than %d bytes", path,
		                    OU_MAX_ACCOUNT_FILE_SIZE);
	if (t->len > 0 && !t->data)
		return ou_error_set(err, EINVAL, "'%s' has a length but no data", path);
	if (t->len > 0 && memchr(t->data, '\0', t->len))
		return ou_error_set(err, EBADMSG, "'%s' in the base holds a NUL byte", path);
	return 0;
}

static void split_lines(struct acct_file *f, const char *data, size_t len)
{
	size_t cap = 0;
	const char *p, *end;

	if (!data || len == 0)
		return;
	p = data;
	end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		xgrow((void **)&f->lines, &cap, f->n_lines + 1, sizeof(*f->lines));
		f->lines[f->n_lines++] = (struct line){p, n, nl != NULL, NULL};
		p += n + (nl ? 1 : 0);
	}
}

/* Loads a base file; an absent one is @create_text (marked changed), or stays absent. */
static void file_load(struct acct_file *f, const char *path, const struct ou_account_text *t,
                      const char *create_text)
{
	f->path = path;
	if (t->present) {
		f->present = true;
		split_lines(f, t->data, t->len);
	} else if (create_text) {
		f->present = true;
		f->changed = true;
		f->owned = xstrdup(create_text);
		split_lines(f, f->owned, strlen(f->owned));
	}
}

/* ---- login.defs ---- */

/* A number as shadow's getulong() reads it: strtoul base 0, no sign, no blanks. */
static bool parse_defs_number(struct slice s, uint32_t *ret)
{
	char buf[32], *end;
	unsigned long long v;

	if (s.len == 0 || s.len >= sizeof(buf))
		return false;
	if (s.p[0] < '0' || s.p[0] > '9')
		return false;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

enum {
	DEF_SYS_UID_MIN,
	DEF_SYS_UID_MAX,
	DEF_SYS_GID_MIN,
	DEF_SYS_GID_MAX,
	DEF_UID_MIN,
	DEF_GID_MIN,
	N_DEFS
};

static const char *const def_names[N_DEFS] = {
        [DEF_SYS_UID_MIN] = "SYS_UID_MIN", [DEF_SYS_UID_MAX] = "SYS_UID_MAX",
        [DEF_SYS_GID_MIN] = "SYS_GID_MIN", [DEF_SYS_GID_MAX] = "SYS_GID_MAX",
        [DEF_UID_MIN] = "UID_MIN",         [DEF_GID_MIN] = "GID_MIN",
};

static int make_range(const char *what, const bool *set, const uint32_t *val, int k_min, int k_max,
                      int k_user_min, uint32_t *ret_min, uint32_t *ret_max, struct ou_error **err)
{
	uint32_t user_min = set[k_user_min] ? val[k_user_min] : 1000;
	uint64_t min = set[k_min] ? val[k_min] : 101;
	int64_t max = set[k_max] ? (int64_t)val[k_max] : (int64_t)user_min - 1;

	/* Never hand out 0 (root) nor an id the spec itself could not name. */
	if (min < 1)
		min = 1;
	if (max > (int64_t)OU_MAX_ID)
		max = OU_MAX_ID;
	if (max < (int64_t)min)
		return ou_error_set(err, EBADMSG,
		                    "'/etc/login.defs' in the base gives an empty system %s range "
		                    "%llu..%lld",
		                    what, (unsigned long long)min, (long long)max);
	*ret_min = (uint32_t)min;
	*ret_max = (uint32_t)max;
	return 0;
}

int ou_userdb_parse_login_defs(const char *data, size_t len, struct ou_id_ranges *ret,
                               struct ou_error **err)
{
	bool set[N_DEFS] = {false};
	uint32_t val[N_DEFS] = {0};
	struct ou_id_ranges r;
	const char *p = data, *end = data ? data + len : data;
	int k;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		struct slice key, value;

		while (p < e && is_blank(*p))
			p++;
		if (p == e || *p == '#')
			goto next;
		key.p = p;
		while (p < e && !is_blank(*p))
			p++;
		key.len = (size_t)(p - key.p);
		while (p < e && is_blank(*p))
			p++;
		value.p = p;
		value.len = (size_t)(e - p);
		while (value.len > 0 && is_blank(value.p[value.len - 1]))
			value.len--;
		if (value.len >= 2 && value.p[0] == '"' && value.p[value.len - 1] == '"') {
			value.p++;
			value.len -= 2;
		}
		for (k = 0; k < N_DEFS; k++) {
			uint32_t v;

			if (!slice_eq(key, def_names[k]))
				continue;
			/* shadow logs a bad number and uses the default; so do we */
			if (parse_defs_number(value, &v)) {
				set[k] = true;
				val[k] = v;
			}
		}
	next:
		p = nl ? nl + 1 : end;
	}

	k = make_range("uid", set, val, DEF_SYS_UID_MIN, DEF_SYS_UID_MAX, DEF_UID_MIN, &r.uid_min,
	               &r.uid_max, err);
	if (k < 0)
		return k;
	k = make_range("gid", set, val, DEF_SYS_GID_MIN, DEF_SYS_GID_MAX, DEF_GID_MIN, &r.gid_min,
	               &r.gid_max, err);
	if (k < 0)
		return k;
	*ret = r;
	return 0;
}

/* ---- lookup ---- */

struct entry {
	size_t line;
	struct slice name;
	uint32_t id;  /* uid or gid */
	uint32_t gid; /* passwd: primary gid */
	struct slice home;
	struct slice members;
};

/* The first passwd entry (>= 7 fields, decimal uid and gid) named @name. */
static bool find_user(const struct acct_file *f, const char *name, struct entry *ret)
{
	for (size_t i = 0; i < f->n_lines; i++) {
		struct slice s, fl[7];

		if (!lookup_text(&f->lines[i], &s))
			continue;
		if (split_fields(s, fl, 7) < 7 || !slice_eq(fl[0], name))
			continue;
		if (!parse_id(fl[2], &ret->id) || !parse_id(fl[3], &ret->gid))
			continue;
		ret->line = i;
		ret->name = fl[0];
		ret->home = fl[5];
		return true;
	}
	return false;
}

/* The first group entry (>= 3 fields, decimal gid) named @name. */
static bool find_group(const struct acct_file *f, const char *name, struct entry *ret)
{
	for (size_t i = 0; i < f->n_lines; i++) {
		struct slice s, fl[4];
		size_t n;

		if (!lookup_text(&f->lines[i], &s))
			continue;
		n = split_fields(s, fl, 4);
		if (n < 3 || !slice_eq(fl[0], name) || !parse_id(fl[2], &ret->id))
			continue;
		ret->line = i;
		ret->name = fl[0];
		ret->members = n >= 4 ? fl[3] : (struct slice){fl[2].p + fl[2].len, 0};
		return true;
	}
	return false;
}

/* The first non-comment line of shadow/gshadow whose first field is @name. */
static bool find_name_line(const struct acct_file *f, const char *name, size_t *ret_line)
{
	for (size_t i = 0; i < f->n_lines; i++) {
		struct slice s, fl[1];

		if (!lookup_text(&f->lines[i], &s))
			continue;
		split_fields(s, fl, 1);
		if (slice_eq(fl[0], name)) {
			*ret_line = i;
			return true;
		}
	}
	return false;
}

/*
 * The first line whose third field is @id, well formed or not (an odd line
 * still means the id is not free). Its first field goes to *ret_name.
 */
static bool find_id_owner(const struct acct_file *f, uint32_t id, struct slice *ret_name)
{
	for (size_t i = 0; i < f->n_lines; i++) {
		struct slice s, fl[3];
		uint32_t v;

		if (!lookup_text(&f->lines[i], &s))
			continue;
		if (split_fields(s, fl, 3) < 3 || !parse_id(fl[2], &v) || v != id)
			continue;
		*ret_name = fl[0];
		return true;
	}
	return false;
}

/* True when any passwd line named @name has uid 0, wherever it stands. */
static bool name_is_uid0(const struct acct_file *f, const char *name)
{
	for (size_t i = 0; i < f->n_lines; i++) {
		struct slice s, fl[3];
		uint32_t v;

		if (!lookup_text(&f->lines[i], &s))
			continue;
		if (split_fields(s, fl, 3) >= 3 && slice_eq(fl[0], name) && parse_id(fl[2], &v) &&
		    v == 0)
			return true;
	}
	return false;
}

/* ---- allocation ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool id_used(const uint32_t *used, size_t n, uint32_t id)
{
	return n > 0 && bsearch(&id, used, n, sizeof(*used), cmp_u32) != NULL;
}

/*
 * shadow's find_new_uid()/find_new_gid() for system accounts: count down
 * from one below the lowest id used in min..max (from max when none is),
 * then wrap to max once. Every id the search passes over is used or 65535,
 * so it ends after at most (ids used in the range + 2) steps.
 */
static bool allocate_id(const struct acct_file *f, uint32_t min, uint32_t max, uint32_t *ret)
{
	_cleanup_free_ uint32_t *used = NULL;
	size_t n = 0, cap = 0;
	int64_t start, id;

	for (size_t i = 0; i < f->n_lines; i++) {
		struct slice s, fl[3];
		uint32_t v;

		if (!lookup_text(&f->lines[i], &s))
			continue;
		if (split_fields(s, fl, 3) < 3 || !parse_id(fl[2], &v) || v < min || v > max)
			continue;
		xgrow((void **)&used, &cap, n + 1, sizeof(*used));
		used[n++] = v;
	}
	if (n > 0)
		qsort(used, n, sizeof(*used), cmp_u32);

	start = n > 0 ? (int64_t)used[0] - 1 : (int64_t)max;
	for (id = start; id >= (int64_t)min; id--)
		if (id != ID_NEVER_GIVEN && !id_used(used, n, (uint32_t)id))
			goto found;
	for (id = max; id > start; id--)
		if (id != ID_NEVER_GIVEN && !id_used(used, n, (uint32_t)id))
			goto found;
	return false;
found:
	*ret = (uint32_t)id;
	return true;
}

/* ---- validation ---- */

static bool has_bad_byte(const char *s, const char *extra)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ':' || strchr(extra, *p))
			return true;
	return false;
}

/* Names go into passwd, group and member lists: no ':', ',', blank or control byte. */
static bool name_ok(const char *s)
{
	return s && *s && *s != '#' && *s != '+' && *s != '-' && !has_bad_byte(s, " ,");
}

static bool path_ok(const char *s)
{
	return s && *s == '/' && !has_bad_byte(s, "");
}

static unsigned pick_line(unsigned line, unsigned fallback)
{
	return line ? line : fallback;
}

/* Fails with "SPEC:LINE: message". */
static int fail(const struct ctx *c, unsigned line, int code, const char *fmt, ...) _printf_(4, 5);
static int fail(const struct ctx *c, unsigned line, int code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	return ou_error_set(c->err, code, "%s:%u: %s", c->spec, line,
	                    msg ? msg : "out of memory while reporting an error");
}

/* ---- editing ---- */

static void append_line(struct acct_file *f, const char *fmt, ...) _printf_(2, 3);
static void append_line(struct acct_file *f, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("ociuser: out of memory\n", stderr);
		exit(1);
	}
	va_end(ap);
	ou_strbuf_puts(&f->tail, s);
	f->changed = true;
}

static bool list_has(struct slice list, const char *item)
{
	const char *p = list.p, *end = list.p + list.len;

	if (list.len == 0)
		return false;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct slice it = {p, comma ? (size_t)(comma - p) : (size_t)(end - p)};

		if (slice_eq(it, item))
			return true;
		if (!comma)
			return false;
		p = comma + 1;
	}
}

/*
 * Adds @user to the member list (4th field) of line @i of a group or
 * gshadow file. A line that already lists @user is left as it is; a
 * changed line gets exactly 4 fields.
 */
static void add_member(struct acct_file *f, size_t i, const char *user)
{
	struct line *l = &f->lines[i];
	struct slice s, fl[4], members;
	size_t n;
	char *text;
	bool cr;

	if (!lookup_text(l, &s))
		return;
	/* a CRLF line keeps its '\r' last, after the new member */
	cr = s.len > 0 && s.p[s.len - 1] == '\r';
	if (cr)
		s.len--;
	n = split_fields(s, fl, 4);
	for (size_t k = n; k < 3; k++)
		fl[k] = (struct slice){"", 0};
	members = n >= 4 ? fl[3] : (struct slice){"", 0};
	if (list_has(members, user))
		return;
	text = xasprintf("%.*s:%.*s:%.*s:%.*s%s%s%s", (int)fl[0].len, fl[0].p, (int)fl[1].len,
	                 fl[1].p, (int)fl[2].len, fl[2].p, (int)members.len, members.p,
	                 members.len ? "," : "", user, cr ? "\r" : "");
	free(l->rewrite);
	l->rewrite = text;
	f->changed = true;
}

static void render(const struct acct_file *f, char **ret, size_t *ret_len)
{
	struct ou_strbuf sb = OU_STRBUF_INIT;

	*ret = NULL;
	*ret_len = 0;
	if (!f->present || !f->changed)
		return;
	for (size_t i = 0; i < f->n_lines; i++) {
		const struct line *l = &f->lines[i];

		if (l->rewrite)
			ou_strbuf_puts(&sb, l->rewrite);
		else
			ou_strbuf_append(&sb, l->p, l->len);
		if (l->nl)
			ou_strbuf_putc(&sb, '\n');
	}
	/* A last line without '\n' would glue itself to the first new one. */
	if (f->tail.len > 0 && sb.len > 0 && sb.buf[sb.len - 1] != '\n')
		ou_strbuf_putc(&sb, '\n');
	ou_strbuf_append(&sb, f->tail.buf ? f->tail.buf : "", f->tail.len);
	*ret_len = sb.len;
	*ret = ou_strbuf_steal(&sb);
}

void ou_accounts_out_release(struct ou_accounts_out *out)
{
	if (!out)
		return;
	free(out->home);
	free(out->passwd);
	free(out->group);
	free(out->shadow);
	free(out->gshadow);
	*out = (struct ou_accounts_out){0};
}

static int check_request(const struct ctx *c)
{
	const struct ou_accounts_req *req = c->req;
	unsigned l_user = req->user_line;
	unsigned l_group = pick_line(req->group_line, l_user);

	if (!name_ok(req->user))
		return fail(c, l_user, EINVAL,
		            "user name cannot be written to passwd: it is empty, starts with "
		            "'#', '+' or '-', or holds ':', ',', a blank or a control character");
	if (!name_ok(req->group))
		return fail(c, l_group, EINVAL,
		            "group name cannot be written to group: it is empty, starts with "
		            "'#', '+' or '-', or holds ':', ',', a blank or a control character");
	if (!path_ok(req->home))
		return fail(c, l_user, EINVAL,
		            "home of user '%s' cannot be written to passwd: it is not an absolute "
		            "path, or holds ':' or a control character",
		            req->user);
	if (!path_ok(req->shell))
		return fail(c, l_user, EINVAL,
		            "shell of user '%s' cannot be written to passwd: it is not an absolute "
		            "path, or holds ':' or a control character",
		            req->user);
	for (size_t i = 0; i < req->n_groups; i++) {
		unsigned line = req->groups_line ? pick_line(req->groups_line[i], l_user) : l_user;

		if (!name_ok(req->groups[i]))
			return fail(c, line, EINVAL,
			            "supplementary group name is empty, starts with '#', '+' or "
			            "'-', or holds ':', ',', a blank or a control character");
	}
	if (strcmp(req->user, "root") == 0)
		return fail(c, l_user, EINVAL, "user 'root' is refused: the user must not be root");
	if (req->has_uid && req->uid == 0)
		return fail(c, pick_line(req->uid_line, l_user), EINVAL,
		            "uid 0 for user '%s' is refused: it is root", req->user);
	if (req->has_uid && req->uid > OU_MAX_ID)
		return fail(c, pick_line(req->uid_line, l_user), ERANGE,
		            "uid %" PRIu32 " for user '%s' is above %u", req->uid, req->user,
		            OU_MAX_ID);
	if (req->has_gid && req->gid > OU_MAX_ID)
		return fail(c, pick_line(req->gid_line, l_group), ERANGE,
		            "gid %" PRIu32 " for group '%s' is above %u", req->gid, req->group,
		            OU_MAX_ID);
	if (req->days < 0)
		return fail(c, l_user, EINVAL, "shadow's last change day %ld is negative",
		            req->days);
	return 0;
}

int ou_userdb_apply(const struct ou_accounts_in *in, const struct ou_accounts_req *req,
                    struct ou_accounts_out *ret, struct ou_error **err)
{
	_cleanup_(ctx_release) struct ctx c = {.err = err};
	struct ou_accounts_req rq = *req;
	struct ou_accounts_out out = {0};
	struct ou_id_ranges ranges;
	struct entry ue = {0}, ge = {0};
	struct slice owner;
	bool user_exists, group_exists;
	unsigned l_user, l_group, l_uid, l_gid;
	size_t li;
	int r;

	/* the spec reader fills group; without one the group is the user's name */
	if (!rq.group)
		rq.group = rq.user;
	req = &rq;
	c.req = req;
	c.spec = req->spec_path ? req->spec_path : "spec";
	l_user = req->user_line;
	l_group = pick_line(req->group_line, l_user);
	l_uid = pick_line(req->uid_line, l_user);
	l_gid = pick_line(req->gid_line, l_group);

	r = check_request(&c);
	if (r < 0)
		return r;

	r = check_base_text(&in->passwd, "/etc/passwd", err);
	if (r >= 0)
		r = check_base_text(&in->group, "/etc/group", err);
	if (r >= 0)
		r = check_base_text(&in->shadow, "/etc/shadow", err);
	if (r >= 0)
		r = check_base_text(&in->gshadow, "/etc/gshadow", err);
	if (r >= 0)
		r = check_base_text(&in->login_defs, "/etc/login.defs", err);
	if (r < 0)
		return r;

	r = ou_userdb_parse_login_defs(in->login_defs.present ? in->login_defs.data : NULL,
	                               in->login_defs.present ? in->login_defs.len : 0, &ranges,
	                               err);
	if (r < 0)
		return r;

	file_load(&c.passwd, "/etc/passwd", &in->passwd, PASSWD_ROOT_LINE);
	file_load(&c.group, "/etc/group", &in->group, GROUP_ROOT_LINE);
	file_load(&c.shadow, "/etc/shadow", &in->shadow, NULL);
	file_load(&c.gshadow, "/etc/gshadow", &in->gshadow, NULL);

	/* The user: reused when its name exists with the same uid. */
	if (name_is_uid0(&c.passwd, req->user))
		return fail(&c, l_user, EINVAL, "user '%s' is refused: it is uid 0 in the base",
		            req->user);
	user_exists = find_user(&c.passwd, req->user, &ue);
	if (user_exists && req->has_uid && ue.id != req->uid)
		return fail(&c, l_uid, EEXIST,
		            "user '%s' exists with uid %" PRIu32 ", not %" PRIu32, req->user, ue.id,
		            req->uid);
	if (!user_exists) {
		if (req->has_uid && find_id_owner(&c.passwd, req->uid, &owner)) {
			_cleanup_free_ char *o = printable(owner);
			return fail(&c, l_uid, EEXIST,
			            "uid %" PRIu32 " for user '%s' is already taken by user '%s'",
			            req->uid, req->user, o);
		}
		if (c.shadow.present && find_name_line(&c.shadow, req->user, &li))
			return fail(&c, l_user, EEXIST,
			            "user '%s' is not in '/etc/passwd' but has a line in "
			            "'/etc/shadow' (line %zu)",
			            req->user, li + 1);
	}

	/* The group, allocated before the user as `groupadd -r` runs first. */
	group_exists = find_group(&c.group, req->group, &ge);
	if (group_exists && ge.id == 0)
		return fail(&c, l_group, EINVAL,
		            "group '%s' is refused: it is gid 0 in the base (root's group), which "
		            "would let the user read and write what root's group may",
		            req->group);
	if (group_exists) {
		if (req->has_gid && ge.id != req->gid)
			return fail(&c, l_gid, EEXIST,
			            "group '%s' exists with gid %" PRIu32 ", not %" PRIu32,
			            req->group, ge.id, req->gid);
		out.gid = ge.id;
	} else {
		if (req->has_gid) {
			if (find_id_owner(&c.group, req->gid, &owner)) {
				_cleanup_free_ char *o = printable(owner);
				return fail(&c, l_gid, EEXIST,
				            "gid %" PRIu32
				            " for group '%s' is already taken by group '%s'",
				            req->gid, req->group, o);
			}
			out.gid = req->gid;
		} else if (user_exists && ue.gid != 0 && ue.gid <= OU_MAX_ID &&
		           !find_id_owner(&c.group, ue.gid, &owner)) {
			/* the user's primary gid has no group line yet: give it one */
			out.gid = ue.gid;
		} else if (!allocate_id(&c.group, ranges.gid_min, ranges.gid_max, &out.gid)) {
			return fail(&c, l_group, ERANGE,
			            "no free gid for group '%s' in the system range %" PRIu32
			            "..%" PRIu32,
			            req->group, ranges.gid_min, ranges.gid_max);
		}
		if (c.gshadow.present && find_name_line(&c.gshadow, req->group, &li))
			return fail(&c, l_group, EEXIST,
			            "group '%s' is not in '/etc/group' but has a line in "
			            "'/etc/gshadow' (line %zu)",
			            req->group, li + 1);
	}
	if (user_exists && ue.gid != out.gid)
		return fail(&c, l_group, EEXIST,
		            "user '%s' exists with primary gid %" PRIu32 ", not gid %" PRIu32
		            " of group '%s'",
		            req->user, ue.gid, out.gid, req->group);

	if (user_exists)
		out.uid = ue.id;
	else if (req->has_uid)
		out.uid = req->uid;
	else if (!allocate_id(&c.passwd, ranges.uid_min, ranges.uid_max, &out.uid))
		return fail(&c, l_user, ERANGE,
		            "no free uid for user '%s' in the system range %" PRIu32 "..%" PRIu32,
		            req->user, ranges.uid_min, ranges.uid_max);

	/* Supplementary groups: only the base's own, members added once. */
	for (size_t i = 0; i < req->n_groups; i++) {
		unsigned line = req->groups_line ? pick_line(req->groups_line[i], l_user) : l_user;
		struct entry sg;

		if (!find_group(&c.group, req->groups[i], &sg))
			return fail(&c, line, ENOENT,
			            "supplementary group '%s' of user '%s' does not exist in the "
			            "base",
			            req->groups[i], req->user);
		if (sg.id == 0)
			return fail(
			        &c, line, EINVAL,
			        "supplementary group '%s' of user '%s' is refused: it is gid 0 in "
			        "the base (root's group)",
			        req->groups[i], req->user);
		add_member(&c.group, sg.line, req->user);
		if (c.gshadow.present && find_name_line(&c.gshadow, req->groups[i], &li))
			add_member(&c.gshadow, li, req->user);
	}

	if (!group_exists) {
		append_line(&c.group, "%s:x:%" PRIu32 ":\n", req->group, out.gid);
		if (c.gshadow.present)
			append_line(&c.gshadow, "%s:!::\n", req->group);
		out.group_created = true;
	}
	if (!user_exists) {
		append_line(&c.passwd, "%s:x:%" PRIu32 ":%" PRIu32 "::%s:%s\n", req->user, out.uid,
		            out.gid, req->home, req->shell);
		if (c.shadow.present)
			append_line(&c.shadow, "%s:!:%ld::::::\n", req->user, req->days);
		out.user_created = true;
		out.home = xstrdup(req->home);
	} else {
		out.home = xstrndup(ue.home.p, ue.home.len);
	}

	render(&c.passwd, &out.passwd, &out.passwd_len);
	render(&c.group, &out.group, &out.group_len);
	render(&c.shadow, &out.shadow, &out.shadow_len);
	render(&c.gshadow, &out.gshadow, &out.gshadow_len);
	*ret = out;
	return 0;
}
