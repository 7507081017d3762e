/*
 * Keys: the three ways to name a segment, and the one resolver that turns
 * each into a System V key.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "shmkit.h"
#include "sys.h"
#include "util.h"

SHMKIT_EXPORT
int shmkit_key_parse(const char *text, key_t *key)
{
	uint64_t v = 0;
	const char *s = text;
	int base = 10, digits = 0;

	if (!s || !key)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++, digits++) {
		int d;
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return -EINVAL;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	/* 0 is IPC_PRIVATE: a request for a fresh anonymous segment, not a key */
	if (!digits || v == 0)
		return -EINVAL;
	*key = (key_t)(uint32_t)v;
	return 0;
}

SHMKIT_EXPORT
int shmkit_name_check(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	for (n = 0; name[n]; n++) {
		unsigned char c = (unsigned char)name[n];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return -EINVAL;
		if (c > 0x7f)
			return -EINVAL;
	}
	return (n >= 1 && n <= SHMKIT_NAME_MAX) ? 0 : -EINVAL;
}

/*
 * FNV-1a, 32 bits, over "shmkit:" and the name. The prefix keeps short
 * names away from keys that other programs pick by hand (0x1, 0x1234...).
 * Collisions are possible in any 32-bit space; the segment header records
 * the full name so that a collision is detected, never trusted.
 */
SHMKIT_EXPORT
key_t shmkit_name_key(const char *name)
{
	static const char prefix[] = "shmkit:";
	uint32_t h = 2166136261u;
	const char *p;

	for (p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	if (h == 0)
		h = 0x5348u;
	return (key_t)h;
}

SHMKIT_EXPORT
int shmkit_key_resolve(const struct shmkit_ref *ref, key_t *key)
{
	if (!ref || !key)
		return -EINVAL;
	switch (ref->kind) {
	case SHMKIT_REF_KEY:
		if (ref->key == IPC_PRIVATE)
			return -EINVAL;
		*key = ref->key;
		return 0;
	case SHMKIT_REF_PATH:
		/* ftok keeps only the low 8 bits: 256 would silently be 0 */
		if (!ref->path || !*ref->path || ref->proj < 1 || ref->proj > 255)
			return -EINVAL;
		return __shmkit_ftok(ref->path, ref->proj, key);
	case SHMKIT_REF_NAME:
		if (shmkit_name_check(ref->name) < 0)
			return -EINVAL;
		*key = shmkit_name_key(ref->name);
		return 0;
	}
	return -EINVAL;
}
