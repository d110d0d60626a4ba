/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include "ociuser/macro.h"

/*
 * Allocation that never returns NULL: running out of memory prints one line
 * and ends the process with status 1. Sizes that come from input must be
 * checked against a limit before they get here.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grows *p (holding *cap elements of @size) to hold at least @need elements. */
void xgrow(void **p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Appends @s (copied) to the NULL-terminated vector *v of length *n. */
void ou_strv_push(char ***v, size_t *n, const char *s);
