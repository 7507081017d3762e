/*
 * The fuzz targets without libFuzzer: every file in fuzz/corpus/chan,
 * fuzz/corpus/topic, fuzz/corpus/inbox and fuzz/corpus/parse goes through
 * the same entry points the fuzzers use (the target sources are included here, with their
 * entry points renamed and their failures turned into test failures). The
 * crafted channel corruptions, each with the clean error it must give, are
 * run by tests/chan_scribble.c from tests/corrupt_cases.c.
 *
 * cli/util.c, text.c and fmt.c are included too, so that the command's
 * parsers (parse_size, parse_mode, parse_shmid, parse_seconds,
 * target_option), safe_text and the human forms are replayed like the
 * library's.
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
#define TOPIC_FUZZ_ENTRY topic_fuzz_one
#define TOPIC_FUZZ_NAME(buf, cap) t_name((buf), (cap), "fuzz-topic")
#define INBOX_FUZZ_ENTRY inbox_fuzz_one
#define INBOX_FUZZ_NAME(buf, cap, tag) t_name((buf), (cap), (tag))
#define PARSE_FUZZ_ENTRY parse_fuzz_one

#include "../cli/fmt.c"
#include "../cli/text.c"
#include "../cli/util.c"
#include "../fuzz/chan_fuzz.c"
#include "../fuzz/topic_fuzz.c"
#include "../fuzz/inbox_fuzz.c"
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
	n = replay("fuzz/corpus/topic", topic_fuzz_one);
	printf("replayed %u topic inputs\n", n);
	n = replay("fuzz/corpus/inbox", inbox_fuzz_one);
	printf("replayed %u inbox and service inputs\n", n);
	n = replay("fuzz/corpus/parse", parse_fuzz_one);
	printf("replayed %u parser inputs\n", n);
	printf("%.2f s in all\n", now_s() - t0);
	return 0;
}
