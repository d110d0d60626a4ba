/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * A hash map from strings to pointers (open addressing, FNV-1a). Keys are
 * copied; values are the caller's (release frees keys only, unless a
 * free function is given). Iteration order is unspecified: never let it
 * reach an output (sort first).
 */
struct ou_strmap {
	char **keys;
	void **values;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

/* Returns the value for @key or NULL. */
void *ou_strmap_get(const struct ou_strmap *m, const char *key);
/* Sets @key to @value; returns the previous value (or NULL). */
void *ou_strmap_put(struct ou_strmap *m, const char *key, void *value);
/* Calls @free_value (may be NULL) on every value, frees keys and tables. */
void ou_strmap_release(struct ou_strmap *m, void (*free_value)(void *));
/* Iterates: start with *i = 0; returns 0 when done, else sets key and value. */
int ou_strmap_next(const struct ou_strmap *m, size_t *i, const char **ret_key, void **ret_value);
