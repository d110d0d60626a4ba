/* SPDX-License-Identifier: MIT */
/* The only file that includes OpenSSL. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "ociuser/digest.h"
#include "ociuser/xalloc.h"

struct ou_sha256 {
	EVP_MD_CTX *ctx;
};

struct ou_sha256 *ou_sha256_new(void)
{
	struct ou_sha256 *h = xmalloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fputs("ociuser: cannot initialise SHA-256\n", stderr);
		exit(1);
	}
	return h;
}

void ou_sha256_update(struct ou_sha256 *h, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(h->ctx, data, len) != 1) {
		fputs("ociuser: SHA-256 update failed\n", stderr);
		exit(1);
	}
}

void ou_sha256_final(struct ou_sha256 *h, char out[OU_DIGEST_STRLEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32) {
		fputs("ociuser: SHA-256 final failed\n", stderr);
		exit(1);
	}
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

struct ou_sha256 *ou_sha256_free(struct ou_sha256 *h)
{
	if (h) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
	}
	return NULL;
}

void ou_sha256_buffer(const void *data, size_t len, char out[OU_DIGEST_STRLEN])
{
	struct ou_sha256 *h = ou_sha256_new();

	ou_sha256_update(h, data, len);
	ou_sha256_final(h, out);
	ou_sha256_free(h);
}

int ou_digest_is_valid(const char *digest)
{
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71)
		return 0;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}
