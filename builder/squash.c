/* SPDX-License-Identifier: MIT */
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ociuser/squash.h"
#include "ociuser/strmap.h"
#include "ociuser/xalloc.h"

struct squash_ctx {
	struct ou_layer_writer *w;
	const struct ou_plan *plan;
	const struct ou_base *base;
	struct ou_strmap relinked; /* rewritten path -> the base link that now holds its old data */
};

struct fd_reader {
	int fd;
	off_t off;
};

static ssize_t read_fd(void *rctx, void *buf, size_t len)
{
	struct fd_reader *r = rctx;
	ssize_t n = pread(r->fd, buf, len, r->off);

	if (n > 0)
		r->off += n;
	return n;
}

static bool overridden(const struct ou_plan *plan, const char *path)
{
	return ou_layer_list_find(&plan->accounts, path) || ou_layer_list_find(&plan->app, path);
}

/*
 * A base entry of the merged view: written unless ociuser writes that path
 * itself. A base hard link to a path ociuser rewrites keeps the old data,
 * as in the layered image: the first such link becomes the file.
 */
static int squash_base_entry(void *ctx, const char *path, struct archive_entry *h,
                             ou_base_read_fn read, void *rctx, struct ou_error **err)
{
	struct squash_ctx *c = ctx;
	const char *target = archive_entry_hardlink(h);
	const struct ou_base_node *n;
	struct fd_reader fr = {-1, 0};
	const char *first;

	if (overridden(c->plan, path))
		return 0;
	if (!target || !overridden(c->plan, target))
		return ou_layer_writer_add_raw(c->w, h, read, rctx, err);
	first = ou_strmap_get(&c->relinked, target);
	if (first) {
		archive_entry_set_hardlink(h, first);
		return ou_layer_writer_add_raw(c->w, h, read, rctx, err);
	}
	n = ou_base_lookup(c->base, target);
	if (!n || n->type != OU_ENTRY_FILE || n->content_fd < 0)
		return ou_error_set(err, ENOTSUP,
		                    "cannot squash: the base's hard link '/%s' points to '/%s', "
		                    "which ociuser replaces",
		                    path, target);
	archive_entry_set_hardlink(h, NULL);
	archive_entry_set_filetype(h, AE_IFREG);
	archive_entry_set_size(h, n->size);
	fr.fd = n->content_fd;
	ou_strmap_put(&c->relinked, target, (void *)xstrdup(path));
	return ou_layer_writer_add_raw(c->w, h, read_fd, &fr, err);
}

/*
 * squash = true: one layer holding the merged file system. The base's
 * folders come first (sorted), then its other entries layer by layer,
 * then ociuser's own entries (accounts and app merged, sorted).
 */
int ou_squash_write(struct ou_base *base, const struct ou_plan *plan, int blob_dirfd,
                    enum ou_blob_codec codec, struct ou_blob_result *ret, struct ou_error **err)
{
	_cleanup_(ou_layer_writer_freep) struct ou_layer_writer *w = NULL;
	struct squash_ctx c = {.plan = plan, .base = base};
	size_t i = 0, k = 0;
	int r;

	r = ou_layer_writer_new(blob_dirfd, codec, &w, err);
	if (r < 0)
		return r;
	c.w = w;
	r = ou_base_replay(base, squash_base_entry, &c, err);
	ou_strmap_release(&c.relinked, free);
	if (r < 0)
		return r;
	while (i < plan->accounts.n || k < plan->app.n) {
		const struct ou_layer_entry *e;
		if (k >= plan->app.n || (i < plan->accounts.n &&
		                         strcmp(plan->accounts.v[i].path, plan->app.v[k].path) < 0))
			e = &plan->accounts.v[i++];
		else
			e = &plan->app.v[k++];
		r = ou_layer_writer_add(w, e, err);
		if (r < 0)
			return r;
	}
	return ou_layer_writer_finish(w, ret, err);
}
