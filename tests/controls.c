/*
 * The controls of issue 16, each checked where its result is exact.
 *
 * shmkit_chan_make: the first make of a name says created, with the
 * capacity rounded up to a power of two of whole pages and max_msg half
 * of it; a second make, asking another capacity, says opened, with the
 * first capacity; shmkit_chan_create returns the same shmid; SHMKIT_EXCL
 * on an existing name is -EEXIST; bad arguments are -EINVAL; and of two
 * processes racing to make one name, exactly one is told it made it (and
 * both get the same channel), race after race.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static uint64_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (uint64_t)page : 4096;
}

static int shmid_of(const char *name)
{
	struct shmkit_ref ref = t_name_ref(name);

	return shmkit_seg_open(&ref);
}

static void make_says_what_it_did(void)
{
	struct shmkit_chan_made made, again;
	struct shmkit_chan_info info;
	uint64_t page = page_size();
	char name[64];

	t_name(name, sizeof(name), "make");
	/* two pages and a byte: four pages, the next power of two */
	T_OK(shmkit_chan_make(name, 2 * page + 1, SHMKIT_MODE_DEFAULT, 0, &made));
	t_track(made.shmid);
	T_EQ(made.created, 1);
	T_EQ(made.capacity, 4 * page);
	T_EQ(made.max_msg, 2 * page);
	T_EQ(made.shmid, shmid_of(name));
	T_OK(shmkit_chan_info(made.shmid, &info));
	T_EQ(info.capacity, made.capacity);
	T_EQ(info.max_msg, made.max_msg);

	/* another capacity: the channel that is there, with its own */
	T_OK(shmkit_chan_make(name, 1 << 20, SHMKIT_MODE_DEFAULT, 0, &again));
	T_EQ(again.created, 0);
	T_EQ(again.shmid, made.shmid);
	T_EQ(again.capacity, 4 * page);
	T_EQ(again.max_msg, 2 * page);
	T_OK(shmkit_chan_make(name, 1, SHMKIT_MODE_DEFAULT, 0, &again));
	T_EQ(again.created, 0);
	T_EQ(again.capacity, 4 * page);
	/* the short form: the same channel, as a shmid */
	T_EQ(shmkit_chan_create(name, 1 << 20, SHMKIT_MODE_DEFAULT, 0), made.shmid);

	T_EQ(shmkit_chan_make(name, page, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL, &again), -EEXIST);
	T_EQ(shmkit_chan_make(name, page, SHMKIT_MODE_DEFAULT, 0, NULL), -EINVAL);
	T_EQ(shmkit_chan_make(name, 0, SHMKIT_MODE_DEFAULT, 0, &again), -EINVAL);
	T_EQ(shmkit_chan_make(name, (size_t)(1ull << 30) + 1, SHMKIT_MODE_DEFAULT, 0, &again),
	     -EINVAL);
	T_EQ(shmkit_chan_make("no/such", page, SHMKIT_MODE_DEFAULT, 0, &again), -EINVAL);
	T_OK(shmkit_chan_destroy(name));

	/* the smallest: one page */
	T_OK(shmkit_chan_make(name, 1, SHMKIT_MODE_DEFAULT, 0, &made));
	t_track(made.shmid);
	T_EQ(made.created, 1);
	T_EQ(made.capacity, page);
	T_OK(shmkit_chan_destroy(name));
}

/* What one racer found, sent to the parent through a pipe in one write. */
struct race_report {
	int shmid, created;
	uint64_t capacity;
};

struct racer {
	const char *name;
	size_t capacity;
	int gate[2];		/* the start gate: read end, write end */
	int report;		/* write end of the reports' pipe */
};

static int race_make(void *arg)
{
	struct racer *r = arg;
	struct shmkit_chan_made made;
	struct race_report rep;
	char go;

	/*
	 * The gate opens for both at once, when its last write end closes:
	 * ours (a copy from the fork) now, the parent's once both are forked.
	 */
	close(r->gate[1]);
	if (read(r->gate[0], &go, 1) != 0)
		return 2;
	if (shmkit_chan_make(r->name, r->capacity, SHMKIT_MODE_DEFAULT, 0, &made) < 0)
		return 3;
	rep.shmid = made.shmid;
	rep.created = made.created;
	rep.capacity = made.capacity;
	return write(r->report, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 4;
}

static void make_race(void)
{
	uint64_t page = page_size(), rounds = t_scale(40);
	struct race_report rep[2];
	char name[64];

	for (uint64_t round = 0; round < rounds; round++) {
		struct racer r[2];
		int gate[2], reports[2];
		pid_t pid[2];

		T_OK(pipe(gate));
		T_OK(pipe(reports));
		t_name(name, sizeof(name), "race");
		for (int i = 0; i < 2; i++) {
			/* each asks its own capacity: the loser must report the winner's */
			r[i] = (struct racer){ .name = name, .capacity = (i + 1) * page,
					       .gate = { gate[0], gate[1] }, .report = reports[1] };
			pid[i] = t_fork(race_make, &r[i]);
		}
		close(gate[0]);
		close(reports[1]);
		close(gate[1]);
		for (int i = 0; i < 2; i++)
			T_EQ(t_wait(pid[i]), 0);
		T_EQ(read(reports[0], rep, sizeof(rep)), sizeof(rep));
		close(reports[0]);
		t_track(rep[0].shmid);
		T_EQ(rep[0].created + rep[1].created, 1);
		T_EQ(rep[0].shmid, rep[1].shmid);
		T_EQ(rep[0].capacity, rep[1].capacity);
		T_ASSERT(rep[0].capacity == page || rep[0].capacity == 2 * page);
		T_OK(shmkit_chan_destroy(name));
	}
}

int main(void)
{
	make_says_what_it_did();
	make_race();
	return 0;
}
