/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "ociuser/error.h"

/* "sha256:" + 64 hex digits + NUL */
#define OU_DIGEST_STRLEN (7 + 64 + 1)

/* A streaming SHA-256 (OpenSSL EVP inside; no OpenSSL type leaks out). */
struct ou_sha256;

struct ou_sha256 *ou_sha256_new(void);
void ou_sha256_update(struct ou_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into @out; the stream can not be updated after. */
void ou_sha256_final(struct ou_sha256 *h, char out[OU_DIGEST_STRLEN]);
struct ou_sha256 *ou_sha256_free(struct ou_sha256 *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ou_sha256 *, ou_sha256_free)

/* One-shot digest of a buffer. */
void ou_sha256_buffer(const void *data, size_t len, char out[OU_DIGEST_STRLEN]);

/* True for "sha256:" followed by exactly 64 lower-case hex digits. */
int ou_digest_is_valid(const char *digest);
