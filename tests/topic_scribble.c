/*
 * A hostile topic: random bytes written over its header, its subscriber
 * table and its slots, round after round, while a publisher and two
 * subscribers go on using it. Every call must return (an error is fine),
 * within its timeout; nothing may crash; a message handed out must lie
 * inside the slots, whole, and no longer than max_msg; shmkit_topic_info
 * and the command's stat must cope too. Under ASan or valgrind an access
 * outside the segment's mapping shows as well.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "topic.h"


static unsigned char *seg;	/* the whole segment, header included */
static size_t seg_size;

/* Writes a few random bytes, words or plausible numbers somewhere. */
static void scribble(void)
{
	size_t at, n = 1 + t_rand() % 3;
	uint64_t v;

	for (size_t k = 0; k < n; k++) {
		/*
		 * Mostly the topic header and the table, where the numbers
		 * are; never the segment header before them, whose damage the
		 * segment layer meets with a grace period per open (seg.c)
		 */
		at = SHMKIT_HDR_SIZE + t_rand() % ((t_rand() % 4 ? 8192 : seg_size) - SHMKIT_HDR_SIZE);
		at &= ~(size_t)7;
		if (at + 8 > seg_size)
			continue;
		switch (t_rand() % 4) {
		case 0: v = t_rand(); break;			/* anything */
		case 1: v = t_rand() % 64; break;		/* small numbers */
		case 2: v = ~(uint64_t)0 - t_rand() % 4; break;	/* almost 2^64 */
		default: v = 2 * (t_rand() % 100) + 2; break;	/* a sequence word */
		}
		memcpy(seg + at, &v, 8);
	}
}

/* Is [ptr, ptr + len) inside the slots [start, start + size)? */
static int inside(const void *ptr, size_t len, const void *start, size_t size)
{
	const unsigned char *q = ptr, *lo = start;

	return q >= lo && len <= size && (size_t)(q - lo) <= size - len;
}

static void round_trip(const char *name, struct shmkit_pub **p, struct shmkit_sub **s)
{
	const void *start;
	size_t size;
	unsigned char buf[512];
	const void *ptr;
	size_t len;
	void *w;
	int r;

	if (!*p && shmkit_pub_open(name, 0, p) < 0)
		*p = NULL;
	for (int k = 0; k < 2; k++)
		if (!s[k] && shmkit_sub_open(name, k ? SHMKIT_FROM_OLDEST : 0, &s[k]) < 0)
			s[k] = NULL;
	if (*p) {
		payload_fill(buf, 40, 7);
		shmkit_pub_send(*p, buf, 40, t_rand() % 2 ? 0 : 2);
		if (shmkit_pub_reserve(*p, 100, &w, 0) == 0) {
			__shmkit_pub_slots(*p, &start, &size);
			T_ASSERT(inside(w, 100, start, size));
			memset(w, 1, 100);
			shmkit_pub_commit(*p, 50);
		}
	}
	for (int k = 0; k < 2; k++) {
		if (!s[k])
			continue;
		r = shmkit_sub_recv(s[k], buf, sizeof(buf), &len, t_rand() % 2 ? 0 : 2);
		if (r == 0)
			T_ASSERT(len <= sizeof(buf));
		if (shmkit_sub_peek(s[k], &ptr, &len, 0) == 0) {
			/* in place: inside the slots, and no longer than a slot holds */
			__shmkit_sub_slots(s[k], &start, &size);
			T_ASSERT(inside(ptr, len, start, size));
			T_ASSERT(len <= 496);
			shmkit_sub_release(s[k]);
		}
	}
	/* now and then start over: opens meet the scribbles too */
	if (t_rand() % 16 == 0 && *p) {
		shmkit_pub_close(*p);
		*p = NULL;
	}
	for (int k = 0; k < 2; k++)
		if (t_rand() % 16 == 0 && s[k]) {
			shmkit_sub_close(s[k]);
			s[k] = NULL;
		}
}

int main(void)
{
	struct shmkit_topic_params tp = { .max_msg = 496, .slots = 16, .max_subs = 8,
					  .history = 4, .policy = SHMKIT_TOPIC_BLOCK };
	struct shmkit_topic_info info;
	struct shmkit_topic_sub_info subs[8];
	struct shmkit_pub *p = NULL;
	struct shmkit_sub *s[2] = { NULL, NULL };
	struct shmkit_map map;
	char name[64], *out = NULL, *err = NULL;
	int id, rounds = (int)t_scale(3000);

	if (rounds < 300)
		rounds = 300;	/* valgrind's scale: still every kind of scribble */

	for (int policy = SHMKIT_TOPIC_BLOCK; policy <= SHMKIT_TOPIC_OVERWRITE; policy++) {
		tp.policy = policy;
		t_name(name, sizeof(name), "scrib");
		id = t_track(shmkit_topic_create(name, &tp, SHMKIT_MODE_DEFAULT, 0));
		T_OK(id);
		T_OK(shmkit_seg_attach(id, 0, &map));
		seg = map.base;
		seg_size = map.size + SHMKIT_HDR_SIZE;
		alarm(120);	/* a hang fails the test (the harness cleans up) */
		for (int r = 0; r < rounds; r++) {
			scribble();
			round_trip(name, &p, s);
			if (r % 100 == 0)
				shmkit_topic_info(id, &info, subs, 8);
			if (r % 1000 == 999) {
				/* the command reads it too, and must not fail on it */
				int st = t_cli(&out, &err, "stat", "-n", name, NULL);

				T_ASSERT(st == 0 || st == 1);
				free(out);
				free(err);
			}
		}
		alarm(0);
		if (p)
			shmkit_pub_close(p);
		for (int k = 0; k < 2; k++)
			if (s[k])
				shmkit_sub_close(s[k]);
		p = NULL;
		s[0] = s[1] = NULL;
		T_OK(shmkit_seg_detach(&map));
		shmkit_topic_destroy(name);	/* may fail on a scribbled header: tracked anyway */
	}
	printf("%d rounds of scribbles under each policy: every call returned\n", rounds);
	return 0;
}
