/*
 * Taking a side of a topic, for the commands that stream through one:
 * shmkit pub and sub, and shmkit-bridge's --topic. The publisher's side
 * makes the topic (of the shape asked for) or opens the one there; the
 * subscriber's waits for it; each ends its side the same way whoever
 * runs it. Messages name the command (s->cmd).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

void topic_shape_init(struct topic_shape *t)
{
	t->tp = (struct shmkit_topic_params){ .max_msg = TOPIC_DEFAULT_MAX_MSG,
					      .slots = TOPIC_DEFAULT_SLOTS,
					      .max_subs = TOPIC_DEFAULT_MAX_SUBS,
					      .policy = SHMKIT_TOPIC_BLOCK };
	t->gave = 0;
}

int topic_shape_option(const char *cmd, struct topic_shape *t, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case TOPIC_OPT_MAX_MSG:
		if (parse_size(arg, &v) < 0)
			return -1;
		if (v == 0 || v > (1u << 30)) {
			err_msg(cmd, "--max-msg: from 1 byte to 1G");
			return -1;
		}
		t->tp.max_msg = (size_t)v;
		t->gave |= TOPIC_GAVE_MAX_MSG;
		return 1;
	case TOPIC_OPT_SLOTS:
		if (parse_count(cmd, "slots", arg, 4, 1u << 20, &v) < 0)
			return -1;
		t->tp.slots = (uint32_t)v;
		t->gave |= TOPIC_GAVE_SLOTS;
		return 1;
	case TOPIC_OPT_MAX_SUBS:
		if (parse_count(cmd, "max-subs", arg, 1, 1024, &v) < 0)
			return -1;
		t->tp.max_subs = (uint32_t)v;
		t->gave |= TOPIC_GAVE_MAX_SUBS;
		return 1;
	case TOPIC_OPT_HISTORY:
		if (parse_count(cmd, "history", arg, 0, (1u << 20) - 2, &v) < 0)
			return -1;
		t->tp.history = (uint32_t)v;
		t->gave |= TOPIC_GAVE_HISTORY;
		return 1;
	case TOPIC_OPT_POLICY:
		if (!strcmp(arg, "block")) {
			t->tp.policy = SHMKIT_TOPIC_BLOCK;
		} else if (!strcmp(arg, "overwrite")) {
			t->tp.policy = SHMKIT_TOPIC_OVERWRITE;
		} else {
			err_msg(cmd, "--policy: '%s': block or overwrite", arg);
			return -1;
		}
		t->gave |= TOPIC_GAVE_POLICY;
		return 1;
	}
	return 0;
}

int topic_shape_check(const char *cmd, struct topic_shape *t)
{
	uint32_t slots = 4;

	/* what the library would refuse with a bare -EINVAL, said here */
	while (slots < t->tp.slots)
		slots <<= 1;
	t->tp.slots = slots;	/* as the library rounds it: same_shape compares this */
	if (t->tp.history > slots - 2) {
		err_msg(cmd, "--history: at most slots - 2 (%u with %u slots)", slots - 2, slots);
		return -1;
	}
	if ((uint64_t)slots * (t->tp.max_msg + 64) > (1ull << 32)) {
		err_msg(cmd, "--slots times --max-msg: at most 4G in all");
		return -1;
	}
	return 0;
}

/* Does the existing topic have the shape the options asked for? */
static int same_shape(const struct topic_shape *t, const struct shmkit_topic_info *i)
{
	/* max_msg is stored rounded up to whole 64-byte slots */
	return (!(t->gave & TOPIC_GAVE_MAX_MSG) ||
		(i->max_msg >= t->tp.max_msg && i->max_msg - t->tp.max_msg < 64)) &&
	       (!(t->gave & TOPIC_GAVE_SLOTS) || i->slots == t->tp.slots) &&
	       (!(t->gave & TOPIC_GAVE_MAX_SUBS) || i->max_subs == t->tp.max_subs) &&
	       (!(t->gave & TOPIC_GAVE_HISTORY) || i->history == t->tp.history) &&
	       (!(t->gave & TOPIC_GAVE_POLICY) || i->policy == t->tp.policy);
}

int topic_open_pub(struct stream *s, struct topic_shape *t)
{
	unsigned shared = s->shared ? SHMKIT_SHARED : 0;
	struct shmkit_topic_info info;
	int r, tries = 0;

	/* removed between create and open (its last user left): make it again */
	do {
		if ((r = s->shmid = shmkit_topic_create(s->name, &t->tp, s->mode, shared)) < 0)
			break;
		/* checked before taking the place: a topic of another shape is
		 * someone else's, and must not be closed, aborted or removed */
		if ((r = shmkit_topic_info(s->shmid, &info, NULL, 0)) < 0)
			continue;
		if (!same_shape(t, &info)) {
			err_msg(s->cmd, "%s: exists with another shape (%llu slots of up to %llu "
				"bytes, %u subscribers, history %llu, %s policy): remove it first "
				"('shmkit rm -n %s') or leave the shape options out", s->name,
				(unsigned long long)info.slots, (unsigned long long)info.max_msg,
				info.max_subs, (unsigned long long)info.history,
				info.policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite", s->name);
			return EXIT_RUNTIME;
		}
		r = shmkit_pub_open(s->name, shared, &s->pub);
	} while ((r == -ENOENT || r == -EIDRM || r == -EINVAL) && ++tries < 16);
	if (r == -SHMKIT_EUNTRUSTED)
		err_untrusted(s->cmd, s->name, s->mode, "--shared");
	else if (r == -SHMKIT_ENOTTOPIC)
		err_msg(s->cmd, "%s: exists and is not a topic", s->name);
	else if (r == -EBUSY)
		err_msg(s->cmd, "%s: another publisher is already using this topic", s->name);
	else if (r < 0)
		err_msg(s->cmd, "%s: %s", s->name, shmkit_strerror(r));
	if (r < 0)
		return EXIT_RUNTIME;
	t->tp.history = (uint32_t)info.history;
	s->max_msg = (size_t)info.max_msg;
	return 0;
}

int topic_wait_subs(struct stream *s, uint64_t want)
{
	uint64_t since = clock_ns();
	int n, r;

	while ((n = shmkit_pub_subscribers(s->pub)) >= 0 && (uint64_t)n < want) {
		if (s->timeout_ms >= 0 &&
		    clock_ns() - since >= (uint64_t)s->timeout_ms * 1000000u) {
			err_msg(s->cmd, "%s: %d of %llu subscribers joined within %g s", s->name,
				n, (unsigned long long)want, (double)s->timeout_ms / 1000);
			return EXIT_RUNTIME;
		}
		if ((r = stream_nap(TOPIC_WAIT_SUBS_MS)) != 0)
			return r;
	}
	if (n < 0) {
		err_msg(s->cmd, "%s: %s", s->name, shmkit_strerror(n));
		return EXIT_RUNTIME;
	}
	return 0;
}

int topic_end_pub(struct stream *s, int status, uint32_t history)
{
	struct shmkit_topic_info info;
	int r;

	if (s->progress)
		stream_report(s, "\n");
	r = status != 0 ? shmkit_pub_abort(s->pub) : shmkit_pub_close(s->pub);
	s->pub = NULL;
	if (r < 0 && status == 0) {
		err_msg(s->cmd, "%s: close: %s", s->name, shmkit_strerror(r));
		status = EXIT_RUNTIME;
	}
	if (s->stats && shmkit_topic_info(s->shmid, &info, NULL, 0) == 0) {
		stream_report(s, "");
		fprintf(stderr, ", slept %llu times, woke subscribers %llu times\n",
			(unsigned long long)info.pub_sleeps, (unsigned long long)info.pub_wakes);
	}
	/*
	 * Subscribers that hold a place keep the segment attached and read
	 * the rest after the removal; a history is for subscribers that have
	 * not come yet, so a topic with one stays (gc counts it as pending).
	 */
	if (!s->keep && history == 0 && (r = shmkit_seg_remove(s->shmid)) < 0 &&
	    r != -EINVAL && r != -EIDRM)
		err_msg(s->cmd, "%s: topic left in place: %s (its owner or root can remove it: "
			"shmkit rm -n %s)", s->name, shmkit_strerror(r), s->name);
	if (finish_stdout() && status == 0)
		status = EXIT_RUNTIME;
	return status;
}

/* The shmid the name leads to now, or a negative error. */
static int shmid_of(const char *name)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };

	return shmkit_seg_open(&ref);
}

/* This process's entry in the topic's subscriber list: for join, and --stats. */
static int own_entry(const struct stream *s, struct shmkit_topic_sub_info *mine)
{
	static struct topic_report t;	/* up to 1,024 subscribers: not on the stack */
	pid_t me = getpid();

	if (shmkit_topic_info(s->shmid, &t.info, t.subs, SHMKIT_TOPIC_MAX_SUBS_SHOWN) < 0)
		return -1;
	for (size_t k = 0; k < t.info.nsubs && k < SHMKIT_TOPIC_MAX_SUBS_SHOWN; k++)
		if (t.subs[k].pid == me) {
			*mine = t.subs[k];
			return 0;
		}
	return -1;
}

/* How long the next wait for the topic may last: a slice, or what is left. */
static int look_ms(const struct stream *s, uint64_t since)
{
	int64_t left;

	if (s->timeout_ms < 0)
		return STREAM_SLICE_MS;
	left = s->timeout_ms - (int64_t)((clock_ns() - since) / 1000000u);
	return left <= 0 ? 0 : left < STREAM_SLICE_MS ? (int)left : STREAM_SLICE_MS;
}

/*
 * Takes a place, waiting for the topic to appear (the library looks
 * again and again; here in slices, so that a signal ends the wait). Then
 * the shmid the name leads to must hold this process's place: if not, the
 * topic was removed and made again since the open, and the info read
 * later would be another's.
 */
static int join(struct stream *s, unsigned flags)
{
	struct shmkit_topic_sub_info mine;
	uint64_t since = clock_ns();
	int r, ms;

	for (;;) {
		ms = look_ms(s, since);
		r = shmkit_sub_open_wait(s->name, flags, ms, &s->sub);
		if (r == 0) {
			if ((s->shmid = shmid_of(s->name)) >= 0 && own_entry(s, &mine) == 0)
				return 0;
			shmkit_sub_close(s->sub);	/* another topic now: again */
			s->sub = NULL;
			continue;
		}
		if (r != -ETIMEDOUT && r != -ENOENT)
			break;
		if (stream_signal)
			return 128 + stream_signal;
		if (ms == 0) {
			err_msg(s->cmd, "%s: no such topic within %g s (is a publisher coming?)",
				s->name, (double)s->timeout_ms / 1000);
			return EXIT_RUNTIME;
		}
	}
	if (r == -SHMKIT_EUNTRUSTED)
		err_untrusted(s->cmd, s->name, SHMKIT_MODE_DEFAULT, "--shared");
	else if (r == -SHMKIT_ENOTTOPIC)
		err_msg(s->cmd, "%s: exists and is not a topic", s->name);
	else if (r == -EBUSY)
		err_msg(s->cmd, "%s: every subscriber place is taken (pub --max-subs sets how "
			"many there are)", s->name);
	else
		err_msg(s->cmd, "%s: %s", s->name, shmkit_strerror(r));
	return EXIT_RUNTIME;
}

int topic_join(struct stream *s, unsigned flags)
{
	struct shmkit_topic_info info;
	int r;

	if ((r = join(s, flags)) != 0)
		return r;
	/* how it reads: in place, or (overwrite) copied out and checked */
	if ((r = shmkit_topic_info(s->shmid, &info, NULL, 0)) < 0) {
		err_msg(s->cmd, "%s: %s", s->name, shmkit_strerror(r));
		return EXIT_RUNTIME;
	}
	s->max_msg = (size_t)info.max_msg;
	if (info.policy == SHMKIT_TOPIC_OVERWRITE && !(s->copy = malloc(s->max_msg))) {
		err_msg(s->cmd, "out of memory");
		return EXIT_RUNTIME;
	}
	return 0;
}

int topic_end_sub(struct stream *s, int status)
{
	struct shmkit_topic_sub_info mine;
	uint64_t lost;
	int have, r;

	if (!s->sub)
		return status;
	lost = shmkit_sub_lost(s->sub);
	have = own_entry(s, &mine) == 0;
	if (s->progress)
		stream_report(s, "\n");
	if ((r = shmkit_sub_close(s->sub)) < 0 && status == 0) {
		err_msg(s->cmd, "%s: close: %s", s->name, shmkit_strerror(r));
		status = EXIT_RUNTIME;
	}
	s->sub = NULL;
	free(s->copy);
	s->copy = NULL;
	if (lost)
		err_msg(s->cmd, "%s: lost %llu messages: overwritten before they were read "
			"(overwrite policy; the publisher does not wait)", s->name,
			(unsigned long long)lost);
	if (s->stats) {
		stream_report(s, "");
		fprintf(stderr, ", lost %llu", (unsigned long long)lost);
		if (have)
			fprintf(stderr, ", slept %llu times", (unsigned long long)mine.sleeps);
		fputc('\n', stderr);
	}
	if (finish_stdout() && status == 0)
		status = EXIT_RUNTIME;
	return status;
}
