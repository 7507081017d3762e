/*
 * The crafted corruptions of a channel's shared state, in one table: each
 * case spoils a fresh channel in one way and asserts exactly what every
 * call made on it must return. tests/chan_scribble.c runs the table before
 * its random scribbler; the fuzz corpus replay (tests/fuzz_replay.c)
 * covers the random inputs, not these.
 *
 * Linked into the tests that run it (see the Makefile); it is not a test
 * program of its own.
 */
#ifndef SHMKIT_TEST_CORRUPT_CASES_H
#define SHMKIT_TEST_CORRUPT_CASES_H

#include "shmkit.h"

#define CC_CAP 4096u			/* ring bytes of every case's channel */
#define CC_MAX_MSG (CC_CAP / 2)		/* the largest message it takes */

/* A fresh channel, with a read-write mapping of our own to corrupt it
 * through. p and c start unopened (NULL); a case closes what it opens. */
struct cc_chan {
	char name[64];
	int shmid;
	unsigned char *raw;
	struct shmkit_chan *p, *c;
};

struct corrupt_case {
	const char *what;
	void (*run)(struct cc_chan *ch);
};

extern const struct corrupt_case corrupt_cases[];
extern const unsigned corrupt_ncases;

/* Runs every case, each on a channel of its own; returns how many ran. */
unsigned corrupt_cases_run(void);

#endif
