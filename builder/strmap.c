/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>

#include "ociuser/strmap.h"
#include "ociuser/xalloc.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t slot(const struct ou_strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *ou_strmap_get(const struct ou_strmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = slot(m, key);
	return m->keys[i] ? m->values[i] : NULL;
}

static void grow(struct ou_strmap *m)
{
	struct ou_strmap bigger = {0};

	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.keys = xcalloc(bigger.cap, sizeof(char *));
	bigger.values = xcalloc(bigger.cap, sizeof(void *));
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = slot(&bigger, m->keys[i]);
		bigger.keys[j] = m->keys[i];
		bigger.values[j] = m->values[i];
	}
	bigger.n = m->n;
	free(m->keys);
	free(m->values);
	*m = bigger;
}

void *ou_strmap_put(struct ou_strmap *m, const char *key, void *value)
{
	size_t i;
	void *old;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = slot(m, key);
	if (m->keys[i]) {
		old = m->values[i];
		m->values[i] = value;
		return old;
	}
	m->keys[i] = xstrdup(key);
	m->values[i] = value;
	m->n++;
	return NULL;
}

void ou_strmap_release(struct ou_strmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		free(m->keys[i]);
		if (free_value)
			free_value(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	*m = (struct ou_strmap){0};
}

int ou_strmap_next(const struct ou_strmap *m, size_t *i, const char **ret_key, void **ret_value)
{
	for (; *i < m->cap; (*i)++) {
		if (m->keys[*i]) {
			*ret_key = m->keys[*i];
			*ret_value = m->values[*i];
			(*i)++;
			return 1;
		}
	}
	return 0;
}
