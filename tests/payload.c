/*
 * The payload scheme every stream test, the benchmark, the demo and the
 * soak check their messages with (common/payload.h): if it let a fault
 * through, all of them would. At every length up to a few words and every
 * alignment: a filled message checks, and fill writes nothing past it; a
 * changed byte is reported at its offset; another message's bytes, a
 * tear between two messages, a copy shifted by a word, and zeroed or
 * 0xff-filled memory all fail; the tag reads back. Then one large message,
 * as the benchmark sends them.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "payload.h"

#define MAXLEN 48	/* six words: the word loop, the tail, and all offsets */

static const uint64_t tags[] = {
	0, 1, 2, 255, 256, 0x15, 1ull << 48 | 7, 0x00ffffffffffffffull, UINT64_MAX,
};
#define NTAGS (sizeof(tags) / sizeof(tags[0]))

/* Every single-byte change is found, at its own offset. */
static void flips(unsigned char *p, size_t len, uint64_t tag)
{
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	size_t i, m;

	for (i = 0; i < len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			p[i] ^= masks[m];
			T_EQ(payload_check(p, len, tag), i + 1);
			p[i] ^= masks[m];
		}
	}
	T_EQ(payload_check(p, len, tag), 0);
}

static int little_endian(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one;
}

/* payload_check the slow way, byte by byte against a fresh copy. */
static size_t slow_check(const unsigned char *p, size_t len, uint64_t tag)
{
	unsigned char good[MAXLEN];
	size_t i;

	payload_fill(good, len, tag);
	for (i = 0; i < len; i++)
		if (p[i] != good[i])
			return i + 1;
	return 0;
}

static void small(void)
{
	unsigned char buf[MAXLEN + 16 + 8], other[MAXLEN + 8];
	size_t len, off, t, i;

	for (t = 0; t < NTAGS; t++) {
		uint64_t tag = tags[t];

		for (len = 0; len <= MAXLEN; len++) {
			for (off = 0; off < 8; off++) {
				unsigned char *p = buf + off;

				/* fill stops at len: the canary after it stays */
				memset(buf, 0xa5, sizeof(buf));
				payload_fill(p, len, tag);
				for (i = off + len; i < sizeof(buf); i++)
					T_EQ(buf[i], 0xa5);
				T_EQ(payload_check(p, len, tag), 0);
				if (len >= 8)
					T_EQ(payload_tag(p, len), tag);
				else if (little_endian())
					T_EQ(payload_tag(p, len), tag & ((1ull << (8 * len)) - 1));
				flips(p, len, tag);
			}
			if (!len)
				continue;
			/* the neighbours' messages differ in every word */
			payload_fill(buf, len, tag);
			payload_fill(other, len, tag + 1);
			for (i = 0; i < len; i += 8) {
				unsigned char save[8];
				size_t n = len - i < 8 ? len - i : 8;

				memcpy(save, buf + i, n);
				memcpy(buf + i, other + i, n);
				T_ASSERT(payload_check(buf, len, tag) > i);
				T_ASSERT(payload_check(buf, len, tag) <= i + n);
				memcpy(buf + i, save, n);
			}
			/* a tear: this message up to i, the next one after it;
			 * found at the first byte that differs, which a tear at
			 * a word's start always has */
			for (i = 0; i < len; i++) {
				payload_fill(buf, len, tag);
				memcpy(buf + i, other + i, len - i);
				T_EQ(payload_check(buf, len, tag), slow_check(buf, len, tag));
				if (i % 8 == 0)
					T_ASSERT(payload_check(buf, len, tag) != 0);
			}
			/* shifted by one word: the right bytes in the wrong place */
			payload_fill(buf, len + 8, tag);
			T_ASSERT(payload_check(buf + 8, len, tag) != 0);
			/* never-written memory, zeroed or erased to 0xff */
			if (len >= 8 && tag < 1ull << 56) {
				memset(buf, 0, len);
				T_ASSERT(payload_check(buf, len, tag) - 1 < 8);
				memset(buf, 0xff, len);
				T_ASSERT(payload_check(buf, len, tag) - 1 < 8);
			}
		}
	}
	/* an empty message has no bytes to be wrong, even at NULL */
	T_EQ(payload_check(NULL, 0, 5), 0);
	payload_fill(NULL, 0, 5);
}

/* The benchmark's case: megabytes, and a fault at the very end. */
static void large(void)
{
	size_t len = (8u << 20) + 5;
	unsigned char *p = malloc(len);

	T_ASSERT(p);
	payload_fill(p, len, 12345);
	T_EQ(payload_check(p, len, 12345), 0);
	T_EQ(payload_tag(p, len), 12345);
	T_ASSERT(payload_check(p, len, 12346) != 0);
	p[len - 1] ^= 1;
	T_EQ(payload_check(p, len, 12345), len);
	p[len - 1] ^= 1;
	p[len / 2] ^= 0x40;
	T_EQ(payload_check(p, len, 12345), len / 2 + 1);
	free(p);
}

int main(void)
{
	small();
	large();
	return 0;
}
