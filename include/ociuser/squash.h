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
 * sorted). A path ociuser writes replaces the base's; a base hard link to
 * such a path keeps the old data (the first link becomes the file). A base
 * hard link whose target a later layer replaced is an error naming both.
 */
int ou_squash_write(struct ou_base *base, const struct ou_plan *plan, int blob_dirfd,
                    enum ou_blob_codec codec, struct ou_blob_result *ret, struct ou_error **err);
