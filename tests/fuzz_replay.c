/*
 * The fuzz targets without libFuzzer: every file in fuzz/corpus/chan and
 * fuzz/corpus/parse goes through the same entry points the fuzzers use
 * (the target sources are included here, with their entry points renamed
 * and their failures turned into test failures). Then a fixed list of
 * crafted channel corruptions, each with the clean error it must give.
 *
 * cli/util.c is included too, so that the command's parsers (parse_size,
 * parse_mode, parse_shmid, parse_seconds, target_option) are replayed like
 * the library's.
 * Their complaints about bad input go to stderr, which the runner shows
 * only if the test fails.
 *
 * Runs from the repository's root (as tests/run.sh does); fails if a
 * corpus directory is missing or empty.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

#define FUZZ_FAIL(msg) t_fail(__FILE__, __LINE__, "%s", (msg))
#define CHAN_FUZZ_ENTRY chan_fuzz_one
#define CHAN_FUZZ_NAME(buf, cap) t_name((buf), (cap), "fuzz")
#define PARSE_FUZZ_ENTRY parse_fuzz_one

#include "../cli/util.c"
#include "../fuzz/chan_fuzz.c"
#include "../fuzz/parse_fuzz.c"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds every file of dir to fn, in name order. Returns the count. */
static unsigned replay(const char *dir, int (*fn)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;

	if (!d)
		t_fail(__FILE__, __LINE__, "%s: %s (run from the repository's root)", dir,
		       strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
			T_ASSERT(p);
			names = p;
		}
		names[n] = strdup(e->d_name);
		T_ASSERT(names[n]);
		n++;
	}
	closedir(d);
	if (n == 0)
		t_fail(__FILE__, __LINE__, "%s: no corpus files", dir);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		struct stat st;
		uint8_t *buf;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "rb");
		if (!f || fstat(fileno(f), &st) < 0)
			t_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
		/* exactly the file's size, so a read past the end is caught */
		buf = malloc(st.st_size ? (size_t)st.st_size : 1);
		T_ASSERT(buf);
		if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
			t_fail(__FILE__, __LINE__, "%s: short read", path);
		fclose(f);
		fn(buf, (size_t)st.st_size);
		free(buf);
		free(names[i]);
	}
	free(names);
	return (unsigned)n;
}

/* ------------------------------------------------ crafted corruptions */

static struct __shmkit_chan_hdr *hdr(void)
{
	return (struct __shmkit_chan_hdr *)(void *)(cf.raw + SHMKIT_HDR_SIZE);
}

/* A clean, empty channel: the fuzz target's own loader with no input. */
static void clean(void)
{
	struct cf_in none = { NULL, 0 };

	cf_load(&none, 0);
}

static void set_pos(int side, uint64_t pos)
{
	atomic_store(&hdr()->hot[side].pos, pos);
}

/* A record header at ring position pos (the payload is left as it is). */
static void put_rec(uint64_t pos, uint32_t len, uint32_t mark)
{
	uint64_t word = (uint64_t)mark << 32 | len;

	memcpy(cf.raw + SHMKIT_CHAN_RING_OFFSET + (pos & (CF_CAP - 1)), &word, sizeof(word));
}

static void open_both(struct shmkit_chan **p, struct shmkit_chan **c)
{
	T_OK(shmkit_chan_open(cf.name, SHMKIT_PRODUCER, p));
	T_OK(shmkit_chan_open(cf.name, SHMKIT_CONSUMER, c));
}

static void close_both(struct shmkit_chan *p, struct shmkit_chan *c)
{
	if (p)
		T_OK(shmkit_chan_close(p));
	if (c)
		T_OK(shmkit_chan_close(c));
}

/* Both sides refuse to open, with err. */
static void refused(int err)
{
	struct shmkit_chan *x = NULL;

	T_EQ(shmkit_chan_open(cf.name, SHMKIT_PRODUCER, &x), err);
	T_EQ(shmkit_chan_open(cf.name, SHMKIT_CONSUMER, &x), err);
}

static void crafted(void)
{
	struct shmkit_chan *p, *c;
	char buf[CF_CAP];
	const void *rp;
	size_t len;
	int i;

	if (!cf.ready)
		cf_setup();

	/* wrong magic, wrong version, wrong hdr_size: not a channel */
	clean();
	atomic_store(&hdr()->magic, 0x12345678);
	refused(-SHMKIT_ENOTCHAN);
	clean();
	hdr()->version = SHMKIT_CHAN_VERSION + 1;
	refused(-SHMKIT_ENOTCHAN);
	clean();
	hdr()->hdr_size = 128;
	refused(-SHMKIT_ENOTCHAN);
	/* a capacity that is no power of two, past the segment, or a max_msg
	 * that does not match it: corrupt */
	clean();
	hdr()->capacity = 3 * 4096;
	refused(-SHMKIT_ECORRUPT);
	clean();
	hdr()->capacity = 2 * CF_CAP;
	hdr()->max_msg = CF_CAP;
	refused(-SHMKIT_ECORRUPT);
	clean();
	hdr()->max_msg = CF_MAX_MSG + 8;
	refused(-SHMKIT_ECORRUPT);

	/* index beyond capacity: a tail more than a ring ahead of the head */
	clean();
	set_pos(SHMKIT_SIDE_PROD, CF_CAP + 8);
	refused(-SHMKIT_ECORRUPT);
	/*
	 * ... or a head ahead of the tail with no record there to explain it
	 * (a producer's open walks the marked records from its tail). A
	 * consumer accepts a tail lagging by up to a ring, as it may after
	 * a record whose tail store had not landed yet; not by more.
	 */
	clean();
	set_pos(SHMKIT_SIDE_CONS, 8);
	{
		struct shmkit_chan *x = NULL;

		T_EQ(shmkit_chan_open(cf.name, SHMKIT_PRODUCER, &x), -SHMKIT_ECORRUPT);
		T_OK(shmkit_chan_open(cf.name, SHMKIT_CONSUMER, &x));
		T_OK(shmkit_chan_close(x));
	}
	clean();
	set_pos(SHMKIT_SIDE_CONS, CF_CAP + 16);
	refused(-SHMKIT_ECORRUPT);
	/* ... and the same met mid-stream, by the consumer and the producer */
	clean();
	open_both(&p, &c);
	set_pos(SHMKIT_SIDE_PROD, CF_CAP + 8);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	T_EQ(shmkit_chan_peek(c, &rp, &len, 0), -SHMKIT_ECORRUPT);
	set_pos(SHMKIT_SIDE_PROD, 12);	/* misaligned */
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	set_pos(SHMKIT_SIDE_PROD, 0);
	T_OK(shmkit_chan_send(p, buf, CF_MAX_MSG, 0));
	set_pos(SHMKIT_SIDE_CONS, 2 * CF_CAP);
	T_EQ(shmkit_chan_send(p, buf, CF_MAX_MSG, 0), -SHMKIT_ECORRUPT);
	close_both(p, c);

	/* length past the ring's end, at its last word */
	clean();
	set_pos(SHMKIT_SIDE_CONS, CF_CAP - 8);
	set_pos(SHMKIT_SIDE_PROD, CF_CAP - 8 + 112);
	put_rec(CF_CAP - 8, 100, SHMKIT_REC_MARK);
	open_both(&p, &c);
	T_EQ(shmkit_chan_peek(c, &rp, &len, 0), -SHMKIT_ECORRUPT);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	close_both(p, c);
	/* a length above max_msg */
	clean();
	set_pos(SHMKIT_SIDE_PROD, 8 + CF_MAX_MSG + 8);
	put_rec(0, CF_MAX_MSG + 1, SHMKIT_REC_MARK);
	open_both(&p, &c);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	close_both(p, c);
	/* a pad at offset 0 (never written: a pad runs to the end, from elsewhere) */
	clean();
	set_pos(SHMKIT_SIDE_PROD, 16);
	put_rec(0, SHMKIT_REC_PAD, SHMKIT_REC_MARK);
	open_both(&p, &c);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	close_both(p, c);
	/* a header without the mark while the tail says it was published */
	clean();
	set_pos(SHMKIT_SIDE_PROD, 16);
	put_rec(0, 3, 0);
	open_both(&p, &c);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	close_both(p, c);

	/*
	 * Wrapped counters: positions just below 2^64 run through zero. Then
	 * a tail behind the head: the protocol lets it lag by up to a ring
	 * (stored just after the header the consumer polls), which reads as
	 * no data yet; more than that, or far ahead (2^63), is corrupt.
	 */
	clean();
	set_pos(SHMKIT_SIDE_PROD, (uint64_t)-16);
	set_pos(SHMKIT_SIDE_CONS, (uint64_t)-16);
	open_both(&p, &c);
	T_OK(shmkit_chan_send(p, "hello", 5, 0));
	T_OK(shmkit_chan_send(p, "wrapped", 7, 0));
	T_EQ(atomic_load(&hdr()->hot[SHMKIT_SIDE_PROD].pos), 16);
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_ASSERT(len == 5 && !memcmp(buf, "hello", 5));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_ASSERT(len == 7 && !memcmp(buf, "wrapped", 7));
	T_EQ(atomic_load(&hdr()->hot[SHMKIT_SIDE_CONS].pos), 16);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	set_pos(SHMKIT_SIDE_PROD, 8);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	set_pos(SHMKIT_SIDE_PROD, (uint64_t)16 - CF_CAP);	/* exactly a ring behind */
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	set_pos(SHMKIT_SIDE_PROD, (uint64_t)16 - CF_CAP - 8);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	set_pos(SHMKIT_SIDE_PROD, 16 + (1ull << 63));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	close_both(p, c);
	/*
	 * and a reopen refuses a tail more than a ring behind; a consumer
	 * accepts one that lags less (as data_ready does)
	 */
	set_pos(SHMKIT_SIDE_PROD, (uint64_t)16 - CF_CAP - 8);
	refused(-SHMKIT_ECORRUPT);
	set_pos(SHMKIT_SIDE_PROD, 8);
	T_OK(shmkit_chan_open(cf.name, SHMKIT_CONSUMER, &c));
	T_OK(shmkit_chan_close(c));

	/*
	 * A ring full of marked records and a tail that never moves (a
	 * forged or stale ring, its writer gone): the consumer must not read
	 * the same bytes for ever. At most a ring of them, then corruption.
	 */
	clean();
	for (i = 0; i < (int)CF_CAP; i += 8)
		put_rec((uint64_t)i, 0, SHMKIT_REC_MARK);
	T_OK(shmkit_chan_open(cf.name, SHMKIT_CONSUMER, &c));
	for (i = 0; i <= (int)CF_CAP / 8; i++) {
		int r = shmkit_chan_recv(c, buf, sizeof(buf), &len, 0);
		if (r == -SHMKIT_ECORRUPT)
			break;
		T_OK(r);
	}
	T_ASSERT(i <= (int)CF_CAP / 8);
	close_both(NULL, c);

	/* a valid stream of a few records, then end of stream */
	clean();
	open_both(&p, &c);
	for (i = 0; i < 3; i++)
		T_OK(shmkit_chan_send(p, "abcdefgh", (size_t)i * 3, 0));
	T_OK(shmkit_chan_close(p));
	for (i = 0; i < 3; i++) {
		T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
		T_ASSERT(len == (size_t)i * 3 && !memcmp(buf, "abcdefgh", len));
	}
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_EEOF);
	close_both(NULL, c);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	double t0 = now_s();
	unsigned n;

	n = replay("fuzz/corpus/chan", chan_fuzz_one);
	printf("replayed %u channel inputs\n", n);
	n = replay("fuzz/corpus/parse", parse_fuzz_one);
	printf("replayed %u parser inputs\n", n);
	crafted();
	printf("crafted corruptions: clean errors; %.2f s in all\n", now_s() - t0);
	return 0;
}
