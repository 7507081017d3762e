/*
 * What a wait set (waitset.c) needs of each kind of handle it holds: a
 * poll that says whether the handle's next call would proceed at once, and
 * the words of the handle's sleep handshake, so that one sleeper can
 * announce itself on many handles at once and sleep on all their wake
 * words in one futex_waitv.
 *
 * The handshake is each handle's own (S1-S5 in chan.c, W1-W3 in topic.h):
 * the wait set only does the sleeper's half of it for several handles in
 * a row (read every seq, raise every flag, one full barrier, re-check every
 * handle), so each pairing stays as proven for one handle.
 */
#ifndef SHMKIT_WAITSET_H
#define SHMKIT_WAITSET_H

#include <stdatomic.h>
#include <stdint.h>

#include "shmkit.h"

struct __shmkit_sleep_words {
	_Atomic uint32_t *flag;		/* raised to announce a sleep */
	_Atomic uint32_t *seq;		/* bumped by the waker: the futex word */
	_Atomic uint64_t *sleeps;	/* the handle's count of announced sleeps */
	/*
	 * The flag is shared by several sleepers (a topic's subscribers):
	 * only the waker may clear it, a sleeper cannot know it is the last.
	 */
	int shared;
};

/*
 * Polls: 1 if the handle's next call (recv or peek; send or reserve of
 * room bytes for a channel producer) proceeds at once, 0 if it would
 * wait, or the error that call would return now (-SHMKIT_EEOF, -EPIPE,
 * -SHMKIT_ELOST, ...). With look set they also ask whether the other side
 * died (a /proc look, at most one per 20 ms per handle); without it only
 * two loads tell whether it closed, as a sleep's re-check needs.
 *
 * A poll may do what the call would do first on its own handle: a
 * consumer releases a pad at the ring's end, a producer writes one, a
 * subscriber that lost messages moves on (and the poll returns
 * -SHMKIT_ELOST, once). None of that is visible as a message.
 */
int __shmkit_chan_poll(struct shmkit_chan *ch, uint64_t room, int look);
int __shmkit_pub_poll(struct shmkit_pub *p, int look);
int __shmkit_sub_poll(struct shmkit_sub *s, int look);
int __shmkit_inbox_poll(struct shmkit_inbox *ib, int look);

void __shmkit_chan_sleep_words(struct shmkit_chan *ch, struct __shmkit_sleep_words *w);
void __shmkit_pub_sleep_words(struct shmkit_pub *p, struct __shmkit_sleep_words *w);
void __shmkit_sub_sleep_words(struct shmkit_sub *s, struct __shmkit_sleep_words *w);
void __shmkit_inbox_sleep_words(struct shmkit_inbox *ib, struct __shmkit_sleep_words *w);

/* What a service's and a client's waits are on (service.c). */
struct shmkit_inbox *__shmkit_service_inbox(struct shmkit_service *srv);
struct shmkit_chan *__shmkit_client_replies(struct shmkit_client *cl);

/* 1 for a channel's producer handle, 0 for its consumer. */
int __shmkit_chan_is_producer(const struct shmkit_chan *ch);

/* Tests only: 1 makes wait sets use the fallback for kernels before 5.16. */
extern int __shmkit_waitset_no_waitv;
/* Tests only: 1 makes shmkit_waitset_fd use its thread, not io_uring. */
extern int __shmkit_waitset_thread_fd;
/* "io_uring", "thread", or "none" before shmkit_waitset_fd (tests, bench). */
const char *__shmkit_waitset_fd_kind(const struct shmkit_waitset *ws);

#endif
