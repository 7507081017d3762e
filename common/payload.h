/*
 * The one payload scheme of the tests, the benchmark, the demo and the
 * soak: how a message's bytes are made from its tag, and how a receiver
 * checks every one of them.
 *
 * A message is named by a 64-bit tag, usually its sequence number; a
 * program that needs more packs it in (chan_crash puts the producer's
 * epoch in the high bits). Word k of the payload (bytes 8k..8k+7, native
 * byte order, through memcpy so any alignment works) is
 *
 *	tag + (k + 1) * PAYLOAD_STEP	(mod 2^64)
 *
 * and the last len % 8 bytes are the first bytes of the word that would
 * come next. So:
 *  - every byte follows from the tag and its offset: a receiver that
 *    knows the tag needs no copy to compare with, and no checksum;
 *  - two messages with different tags differ in every word, so a stale,
 *    repeated or reordered message fails from its first word, and a torn
 *    one (the start of one message, the rest of another) wherever the
 *    other begins;
 *  - PAYLOAD_STEP is odd, so (k + 1) * PAYLOAD_STEP never repeats within
 *    a message: a copy shifted by whole words fails too. For tags a
 *    and b, word k of one equals word j of the other only if a - b is
 *    (j - k) * PAYLOAD_STEP mod 2^64, which for nearby tags takes an
 *    astronomical shift;
 *  - the k + 1, not k, keeps word 0 from being the bare tag: message 0
 *    would be zero bytes there, the very bytes of a fresh, never written
 *    segment. Below 2^56 a tag's first word has 0x9e or 0x9f as its high
 *    byte, so neither zeroed nor 0xff-filled memory passes for it;
 *  - an addition, not an XOR, so the word expected next is one running
 *    sum: the check costs a load, an add, an XOR and an OR per word.
 * The offsets count from the start of the message, not from an address,
 * so a message checks the same wherever it lands. The length is not in
 * the bytes: the receiver checks it against its own length policy.
 */
#ifndef SHMKIT_PAYLOAD_H
#define SHMKIT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 2^64 / the golden ratio, rounded to odd: its multiples spread well. */
#define PAYLOAD_STEP 0x9e3779b97f4a7c15ull

/*
 * Two words at a time, in a 16-byte vector of the compiler's own (GCC and
 * clang both have vector_size; x86-64 and aarch64 both have such
 * registers), four in flight: plain C leaves gcc -O2 at one 8-byte store
 * or load a cycle, a third of what a core moves, and the benchmark would
 * time this loop instead of the transport.
 */
typedef uint64_t payload_vec __attribute__((vector_size(16)));
#define PAYLOAD_UNROLL 8	/* words per turn: four vectors */

/* Fills len bytes at buf with the payload of message tag. */
static inline void payload_fill(void *buf, size_t len, uint64_t tag)
{
	const uint64_t s = PAYLOAD_STEP;
	const payload_vec step = { PAYLOAD_UNROLL * s, PAYLOAD_UNROLL * s };
	unsigned char *p = buf;
	size_t k = 0, words = len / 8;
	payload_vec a = { tag + s, tag + 2 * s }, b = { tag + 3 * s, tag + 4 * s };
	payload_vec c = { tag + 5 * s, tag + 6 * s }, d = { tag + 7 * s, tag + 8 * s };
	uint64_t w;

	/* memcpy of a vector compiles to an unaligned vector store */
	for (; k < words - words % PAYLOAD_UNROLL; k += PAYLOAD_UNROLL) {
		memcpy(p + 8 * k, &a, 16);
		memcpy(p + 8 * k + 16, &b, 16);
		memcpy(p + 8 * k + 32, &c, 16);
		memcpy(p + 8 * k + 48, &d, 16);
		a += step, b += step, c += step, d += step;
	}
	w = tag + (uint64_t)k * s;
	for (; k < words; k++) {
		w += s;
		memcpy(p + 8 * k, &w, 8);
	}
	/* no pointer arithmetic on an empty buffer, which may be NULL */
	if (len % 8) {
		w += s;
		memcpy(p + 8 * words, &w, len % 8);
	}
}

/*
 * The first wrong byte of word k, which is known to differ; 1 + its
 * offset, or len + 1 if the word is right after all (see payload_check).
 */
static inline size_t payload_locate(const unsigned char *p, size_t len, uint64_t tag,
				    size_t k)
{
	uint64_t want = tag + ((uint64_t)k + 1) * PAYLOAD_STEP;
	unsigned char b[8];
	size_t i, n = len - 8 * k < 8 ? len - 8 * k : 8;

	/* through bytes, so it holds for either byte order */
	memcpy(b, &want, 8);
	for (i = 0; i < n; i++)
		if (p[8 * k + i] != b[i])
			return 8 * k + i + 1;
	return len + 1;
}

/*
 * Checks that len bytes at buf are the payload of message tag: 0 if every
 * byte is right, else 1 + the offset of the first wrong one (so a plain
 * 'if' tests it). The first pass ORs the differences of every word, with
 * no branch per word, so a good message is read at memory speed; only a
 * bad one is read again to find where. Bytes that change between the two
 * passes (a writer still at work: a fault in itself) give len + 1.
 */
static inline size_t payload_check(const void *buf, size_t len, uint64_t tag)
{
	const uint64_t s = PAYLOAD_STEP;
	const payload_vec step = { PAYLOAD_UNROLL * s, PAYLOAD_UNROLL * s };
	const unsigned char *p = buf;
	size_t k = 0, words = len / 8;
	payload_vec a = { tag + s, tag + 2 * s }, b = { tag + 3 * s, tag + 4 * s };
	payload_vec c = { tag + 5 * s, tag + 6 * s }, d = { tag + 7 * s, tag + 8 * s };
	payload_vec x, y, z, u, da = { 0, 0 }, db = { 0, 0 };
	uint64_t want, diff, w;

	for (; k < words - words % PAYLOAD_UNROLL; k += PAYLOAD_UNROLL) {
		memcpy(&x, p + 8 * k, 16);
		memcpy(&y, p + 8 * k + 16, 16);
		memcpy(&z, p + 8 * k + 32, 16);
		memcpy(&u, p + 8 * k + 48, 16);
		da |= (x ^ a) | (y ^ b);
		db |= (z ^ c) | (u ^ d);
		a += step, b += step, c += step, d += step;
	}
	da |= db;
	diff = da[0] | da[1];
	want = tag + (uint64_t)k * s;
	for (; k < words; k++) {
		want += s;
		memcpy(&w, p + 8 * k, 8);
		diff |= w ^ want;
	}
	/* the tail: the bytes that are not there count as right */
	if (len % 8) {
		want += s;
		w = want;
		memcpy(&w, p + 8 * words, len % 8);
		diff |= w ^ want;
	}
	if (!diff)
		return 0;
	for (k = 0; k <= words; k++) {
		size_t bad = payload_locate(p, len, tag, k);

		if (bad <= len)
			return bad;
	}
	return len + 1;
}

/*
 * The tag a message carries, read from its first word: for "got message
 * X, expected Y". A message shorter than 8 bytes holds only the first
 * bytes of that word: then this gives the tag's low 8 * len bits, and
 * only on a little-endian machine, where those are the word's low bytes.
 */
static inline uint64_t payload_tag(const void *buf, size_t len)
{
	uint64_t w = 0;

	if (len >= 8) {
		memcpy(&w, buf, 8);
		return w - PAYLOAD_STEP;
	}
	if (len)
		memcpy(&w, buf, len);
	return (w - PAYLOAD_STEP) & ((1ull << (8 * len)) - 1);
}

#endif
