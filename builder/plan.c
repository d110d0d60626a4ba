/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "ociuser/path.h"
#include "ociuser/plan.h"
#include "ociuser/strmap.h"
#include "ociuser/xalloc.h"

/* A layer list with an index by path (values are index + 1: the list may move). */
struct indexed {
	struct ou_layer_list *l;
	struct ou_strmap by_path;
	char **origin; /* what asked for each entry, for "written twice" messages */
	size_t origin_cap;
};

struct ctx {
	const struct ou_plan_input *in;
	struct ou_base *base;
	struct ou_plan *plan;
	struct indexed app;
	struct indexed acc;
};

static const char root_name[] = "root";

static struct ou_layer_entry *find(const struct indexed *x, const char *path)
{
	uintptr_t i = (uintptr_t)ou_strmap_get(&x->by_path, path);

	return i ? &x->l->v[i - 1] : NULL;
}

static const char *origin_of(const struct indexed *x, const char *path)
{
	uintptr_t i = (uintptr_t)ou_strmap_get(&x->by_path, path);

	return i ? x->origin[i - 1] : "?";
}

/* Indexes the list's last entry, just added. */
static struct ou_layer_entry *indexed_last(struct indexed *x, const char *origin)
{
	struct ou_layer_entry *e = &x->l->v[x->l->n - 1];

	xgrow((void **)&x->origin, &x->origin_cap, x->l->n, sizeof(char *));
	x->origin[x->l->n - 1] = xstrdup(origin);
	ou_strmap_put(&x->by_path, e->path, (void *)(uintptr_t)x->l->n);
	return e;
}

static struct ou_layer_entry *add(struct indexed *x, const char *path, const char *origin)
{
	ou_layer_list_add(x->l, path);
	return indexed_last(x, origin);
}

static void indexed_release(struct indexed *x)
{
	for (size_t i = 0; x->l && i < x->l->n; i++)
		free(x->origin[i]);
	free(x->origin);
	ou_strmap_release(&x->by_path, NULL);
}

static void set_owner_user(const struct ctx *c, struct ou_layer_entry *e)
{
	e->uid = c->in->uid;
	e->gid = c->in->gid;
	e->uname = c->in->user;
	e->gname = c->in->group;
	e->mtime = c->in->epoch;
}

static void set_owner_root(const struct ctx *c, struct ou_layer_entry *e)
{
	e->uid = 0;
	e->gid = 0;
	e->uname = root_name;
	e->gname = root_name;
	e->mtime = c->in->epoch;
}

static const char *type_name(enum ou_entry_type t)
{
	switch (t) {
	case OU_ENTRY_FILE:
		return "file";
	case OU_ENTRY_DIR:
		return "folder";
	case OU_ENTRY_SYMLINK:
		return "symbolic link";
	case OU_ENTRY_HARDLINK:
		return "hard link";
	default:
		return "special file";
	}
}

/* Permission bits for a copied entry: git's normalisation, or the source's bits. */
static unsigned copied_mode(struct ctx *c, const struct ou_host_item *it, const char *host)
{
	const struct ou_spec *s = c->in->spec;
	unsigned m = it->mode & 07777;

	if (it->type == OU_ENTRY_SYMLINK)
		return 0777;
	if (!s->preserve_modes) {
		if (it->type == OU_ENTRY_DIR)
			return 0755;
		return (it->mode & S_IXUSR) ? 0755 : 0644;
	}
	if (m & (S_ISUID | S_ISGID)) {
		_cleanup_free_ char *w = xasprintf("warning: '%s': setuid/setgid bits cleared "
		                                   "(preserve_modes keeps the other bits)",
		                                   host);
		ou_strv_push(&c->plan->warnings, &c->plan->n_warnings, w);
		m &= ~(unsigned)(S_ISUID | S_ISGID);
	}
	return m;
}

/* Adds one copied entry at @path, refusing a path already written by another line. */
static int add_copied(struct ctx *c, const char *path, const struct ou_spec_file *f,
                      const char *host, enum ou_entry_type type, struct ou_layer_entry **ret,
                      struct ou_error **err)
{
	const struct ou_spec *s = c->in->spec;
	const struct ou_layer_entry *old = find(&c->app, path);
	const struct ou_base_node *bn = ou_base_lookup(c->base, path);
	_cleanup_free_ char *origin = xasprintf("line %u ('%s')", f->line, host);

	*ret = NULL;
	if (old) {
		if (old->type == OU_ENTRY_DIR && type == OU_ENTRY_DIR)
			return 0; /* two sources may fill one folder */
		return ou_error_set(err, EEXIST, "%s:%u: '/%s' is written twice: by %s and by %s",
		                    s->path, f->line, path, origin_of(&c->app, path), origin);
	}
	if (bn && type == OU_ENTRY_DIR && bn->type == OU_ENTRY_DIR)
		return 0; /* folders the base has keep its owner and mode (/tmp stays 1777) */
	if (bn && (type == OU_ENTRY_DIR || bn->type == OU_ENTRY_DIR) && bn->type != type)
		return ou_error_set(err, EEXIST,
		                    "%s:%u: cannot copy '%s' to '/%s': the base has a %s there",
		                    s->path, f->line, host, path, type_name(bn->type));
	*ret = add(&c->app, path, origin);
	(*ret)->type = type;
	return 0;
}

static int plan_files(struct ctx *c, struct ou_error **err)
{
	const struct ou_spec *s = c->in->spec;
	_cleanup_free_ const char **excl = xcalloc(s->n_excludes + 1, sizeof(char *));
	int r;

	for (size_t i = 0; i < s->n_excludes; i++)
		excl[i] = s->excludes[i].str;
	c->plan->trees = xcalloc(s->n_files + 1, sizeof(*c->plan->trees));
	for (size_t i = 0; i < s->n_files; i++) {
		const struct ou_spec_file *f = &s->files[i];
		struct ou_host_tree *t = &c->plan->trees[i];
		_cleanup_free_ char *dest = NULL;
		struct ou_strmap links = {0};
		struct ou_layer_entry *e;

		r = ou_base_resolve(c->base, f->dest + 1, true, &dest, err);
		if (r < 0)
			return ou_error_prefix(err, "%s:%u", s->path, f->line);
		r = ou_hostwalk(f->source, excl, s->n_excludes, c->in->skip, c->in->n_skip, t, err);
		if (r < 0)
			return ou_error_prefix(err, "%s:%u", s->path, f->line);
		if (t->skipped) {
			_cleanup_free_ char *w = xasprintf(
			        "note: %s:%u: the output folder '%s' is inside '%s': it is "
			        "left out of the copy",
			        s->path, f->line, c->in->skip_name, t->source);
			ou_strv_push(&c->plan->warnings, &c->plan->n_warnings, w);
		}
		c->plan->n_trees = i + 1;

		if (!t->is_dir) {
			r = add_copied(c, dest, f, t->source, OU_ENTRY_FILE, &e, err);
			if (r < 0)
				return r;
			if (!dest[0])
				return ou_error_set(err, EINVAL,
				                    "%s:%u: a file cannot be copied to '/'",
				                    s->path, f->line);
			set_owner_user(c, e);
			e->mode = copied_mode(c, &t->root, t->source);
			e->content = OU_CONTENT_FD;
			e->fd = t->root_fd;
			e->size = t->root.size;
			e->host_name = xstrdup(t->source);
			continue;
		}
		if (dest[0]) {
			r = add_copied(c, dest, f, t->source, OU_ENTRY_DIR, &e, err);
			if (r < 0)
				return r;
			if (e) {
				set_owner_user(c, e);
				e->mode = copied_mode(c, &t->root, t->source);
			}
		}
		for (size_t k = 0; k < t->n_items && r >= 0; k++) {
			const struct ou_host_item *it = &t->items[k];
			_cleanup_free_ char *path = ou_path_join(dest, it->rel);
			_cleanup_free_ char *host = xasprintf(
			        "%s%s%s", t->source,
			        t->source[strlen(t->source) - 1] == '/' ? "" : "/", it->rel);
			char key[64];
			const char *first = NULL;

			if (it->type == OU_ENTRY_FILE && it->nlink > 1) {
				snprintf(key, sizeof(key), "%ju:%ju", (uintmax_t)it->dev,
				         (uintmax_t)it->ino);
				first = ou_strmap_get(&links, key);
			}
			r = add_copied(c, path, f, host, first ? OU_ENTRY_HARDLINK : it->type, &e,
			               err);
			if (r < 0)
				break;
			if (!e)
				continue;
			set_owner_user(c, e);
			e->mode = copied_mode(c, it, host);
			e->host_name = xstrdup(host);
			if (first) {
				/* Items are sorted: the first name in the layer holds the data. */
				e->link = xstrdup(first);
			} else if (it->type == OU_ENTRY_FILE) {
				e->content = OU_CONTENT_HOST;
				e->size = it->size;
				e->host_root = t->root_fd;
				e->host_rel = xstrdup(it->rel);
				e->host_dev = it->dev;
				e->host_ino = it->ino;
				if (it->nlink > 1)
					ou_strmap_put(&links, key, e->path);
			} else if (it->type == OU_ENTRY_SYMLINK) {
				e->link = xstrdup(it->link);
			}
		}
		ou_strmap_release(&links, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int plan_accounts(struct ctx *c, struct ou_error **err)
{
	const struct ou_plan_input *in = c->in;
	_cleanup_free_ char *home = NULL;
	size_t hlen;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(in->files); i++) {
		const struct ou_plan_account_file *f = &in->files[i];
		const struct ou_base_node *bn;
		struct ou_layer_entry *e;

		if (!f->text)
			continue;
		if (find(&c->app, f->path))
			return ou_error_set(
			        err, EEXIST,
			        "%s:%u: [files] writes '/%s', which ociuser writes as an "
			        "account file",
			        in->spec->path, in->spec->files ? in->spec->files[0].line : 0,
			        f->path);
		bn = ou_base_lookup(c->base, f->path);
		e = add(&c->acc, f->path, "account files");
		e->type = OU_ENTRY_FILE;
		e->content = OU_CONTENT_MEMORY;
		e->data = xmemdup(f->text, f->len);
		e->size = (int64_t)f->len;
		if (bn && bn->entry) {
			/* Edited, not created: every header field of the base entry stays. */
			e->base = bn->entry;
		} else {
			set_owner_root(c, e);
			e->mode = 0644;
		}
	}
	if (!in->create_home)
		return 0;
	r = ou_base_resolve(c->base, in->home + 1, true, &home, err);
	if (r < 0)
		return ou_error_prefix(err, "%s: home '%s'", in->spec->path, in->home);
	if (!home[0] || ou_base_lookup(c->base, home) || find(&c->app, home))
		return 0;
	/* [files] already provides the home when it writes anything below it. */
	hlen = strlen(home);
	for (size_t i = 0; i < c->app.l->n; i++)
		if (strncmp(c->app.l->v[i].path, home, hlen) == 0 &&
		    c->app.l->v[i].path[hlen] == '/')
			return 0;
	{
		struct ou_layer_entry *e = add(&c->acc, home, "home");
		e->type = OU_ENTRY_DIR;
		set_owner_user(c, e);
		e->mode = 0750;
	}
	return 0;
}

/*
 * Gives every entry of @x a parent: one in @x, in @lower, or in the base;
 * missing ones are created root:root 0755, as `mkdir -p` by root would.
 */
static int add_parents(struct ctx *c, struct indexed *x, const struct indexed *lower,
                       struct ou_error **err)
{
	for (size_t i = 0; i < x->l->n; i++) {
		_cleanup_free_ char *p = ou_path_parent(x->l->v[i].path);
		const char *child_origin = x->origin[i];

		while (p[0]) {
			const struct ou_layer_entry *e = find(x, p);
			const struct ou_base_node *bn;
			char *up;

			if (!e && lower)
				e = find(lower, p);
			if (e) {
				if (e->type != OU_ENTRY_DIR)
					return ou_error_set(
					        err, EEXIST,
					        "%s: '/%s' (from %s) needs '/%s' to be a folder, "
					        "but ociuser writes a %s there",
					        c->in->spec->path, x->l->v[i].path, child_origin, p,
					        type_name(e->type));
				break;
			}
			bn = ou_base_lookup(c->base, p);
			if (bn) {
				if (bn->type != OU_ENTRY_DIR)
					return ou_error_set(
					        err, EEXIST,
					        "%s: '/%s' (from %s) needs '/%s' to be a folder, "
					        "but the base has a %s there",
					        c->in->spec->path, x->l->v[i].path, child_origin, p,
					        type_name(bn->type));
				break;
			}
			{
				_cleanup_free_ char *o = xstrdup(child_origin);
				struct ou_layer_entry *n = add(x, p, o);
				n->type = OU_ENTRY_DIR;
				set_owner_root(c, n);
				n->mode = 0755;
			}
			up = ou_path_parent(p);
			free(p);
			p = up;
		}
	}
	return 0;
}

static int plan_sensitive(struct ctx *c, struct ou_error **err)
{
	const struct ou_spec *s = c->in->spec;
	int r;

	for (size_t i = 0; i < s->n_sensitive; i++) {
		const struct ou_spec_sensitive *sv = &s->sensitive[i];
		_cleanup_free_ char *path = NULL;
		struct ou_layer_entry *e;
		const struct ou_base_node *bn;
		const char *p;

		r = ou_base_resolve(c->base, sv->path + 1, false, &path, err);
		if (r < 0)
			return ou_error_prefix(err, "%s:%u", s->path, sv->line);
		if (!path[0])
			return ou_error_set(err, EINVAL, "%s:%u: '/' cannot be made sensitive",
			                    s->path, sv->line);
		e = find(&c->app, path);
		if (!e && (e = find(&c->acc, path)) != NULL) {
			/*
			 * An account file or the home: the new mode goes on a copy
			 * in the app layer, which wins over the accounts layer's,
			 * so the accounts layer stays what the accounts alone make.
			 */
			ou_layer_list_add_copy(c->app.l, e);
			e = indexed_last(&c->app, "[sensitive]");
		}
		if (e) {
			if (e->type == OU_ENTRY_SYMLINK)
				return ou_error_set(
				        err, EINVAL,
				        "%s:%u: '%s' is a symbolic link: a mode applies "
				        "to what it points to, so name that path",
				        s->path, sv->line, sv->path);
			if (e->type == OU_ENTRY_HARDLINK) {
				/* A hard link shares its inode: the mode goes on the file. */
				struct ou_layer_entry *t = find(&c->app, e->link);
				if (t)
					e = t;
			}
			e->mode = sv->mode;
			e->mode_set = true;
			continue;
		}
		bn = ou_base_lookup(c->base, path);
		if (!bn)
			return ou_error_set(err, ENOENT,
			                    "%s:%u: '%s' does not exist in the image (neither in "
			                    "[files] nor in the base)",
			                    s->path, sv->line, sv->path);
		if (bn->type == OU_ENTRY_SYMLINK || bn->type == OU_ENTRY_HARDLINK)
			return ou_error_set(err, EINVAL,
			                    "%s:%u: '%s' is a %s in the base: name the file it "
			                    "points to",
			                    s->path, sv->line, sv->path, type_name(bn->type));
		p = path;
		r = ou_base_capture(c->base, &p, 1, err);
		if (r < 0)
			return ou_error_prefix(err, "%s:%u", s->path, sv->line);
		bn = ou_base_lookup(c->base, path);
		if (!bn || !bn->entry)
			return ou_error_set(err, EIO, "%s:%u: cannot keep base entry '%s'", s->path,
			                    sv->line, sv->path);
		e = add(&c->app, path, "[sensitive]");
		e->type = bn->type == OU_ENTRY_OTHER ? OU_ENTRY_OTHER : bn->type;
		e->base = bn->entry;
		e->mode = sv->mode;
		e->mode_set = true;
		if (bn->type == OU_ENTRY_FILE) {
			e->content = OU_CONTENT_FD;
			e->fd = bn->content_fd;
		}
	}
	return 0;
}

int ou_plan_make(const struct ou_plan_input *in, struct ou_base *base, struct ou_plan **ret,
                 struct ou_error **err)
{
	_cleanup_(ou_plan_freep) struct ou_plan *plan = xcalloc(1, sizeof(*plan));
	struct ctx c = {.in = in, .base = base, .plan = plan};
	int r;

	c.app.l = &plan->app;
	c.acc.l = &plan->accounts;
	r = plan_files(&c, err);
	if (r >= 0)
		r = plan_accounts(&c, err);
	if (r >= 0)
		r = add_parents(&c, &c.acc, NULL, err);
	if (r >= 0)
		r = add_parents(&c, &c.app, &c.acc, err);
	if (r >= 0)
		r = plan_sensitive(&c, err);
	indexed_release(&c.app);
	indexed_release(&c.acc);
	if (r < 0)
		return r;
	ou_layer_list_sort(&plan->accounts);
	ou_layer_list_sort(&plan->app);
	*ret = TAKE_PTR(plan);
	return 0;
}

struct ou_plan *ou_plan_free(struct ou_plan *p)
{
	if (!p)
		return NULL;
	ou_layer_list_release(&p->accounts);
	ou_layer_list_release(&p->app);
	for (size_t i = 0; i < p->n_trees; i++)
		ou_host_tree_release(&p->trees[i]);
	free(p->trees);
	ou_strv_free(p->warnings);
	free(p);
	return NULL;
}
