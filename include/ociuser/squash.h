/* SPDX-License-Identifier: MIT */
#pragma once

#include "ociuser/base.h"
#include "ociuser/blob.h"
#include "ociuser/error.h"
#include "ociuser/plan.h"

/*
 * squash = true: writes one layer holding the merged file system into
 * @blob_dirfd. The base's folders come first (sorted, the root's own entry
 * included), then its other entries layer by layer in archive order, every
 * header field kept, then ociuser's own entries (accounts and app merged,
 * sorted). A path ociuser writes replaces the base's: a base folder it
 * changes ([sensitive]) is written in its place among the base's folders,
 * with ociuser's header; a base regular file with hard links to it has its
 * old content kept aside (an unlinked temporary file) while it is passed,
 * and the first surviving link becomes a regular file with it, the later
 * links pointing to that one. A base hard link whose target a later layer
 * replaced is an error naming both.
 */
int ou_squash_write(struct ou_base *base, const struct ou_plan *plan, int blob_dirfd,
                    enum ou_blob_codec codec, struct ou_blob_result *ret, struct ou_error **err);
