/*
 * The internal io_uring (src/uring.h): a FUTEX_WAITV whose completion
 * makes the ring's fd readable. Skips, saying why, only where the ring
 * cannot be had (no io_uring, disabled, seccomp, before Linux 6.7, an
 * emulator); anything else that goes wrong fails.
 *
 *  - The fd is not readable before a wait is armed, nor after a disarm.
 *  - A store and FUTEX_WAKE on one of three words, from another process,
 *    makes it readable, under poll and under epoll; disarm says 1.
 *  - A word that already differs makes it readable at once; disarm 1.
 *  - Disarm of a wait nobody woke cancels it and says 0.
 *  - 1,000 rounds of each end leave no entry behind in either queue, and
 *    no futex waiter on any word.
 *  - Misuse: a second arm (-EBUSY), n = 0 or n > 128 (-EINVAL).
 *  - Closing with a wait armed releases everything (valgrind checks).
 *
 * The words live in a System V segment, as the library's do: the waits
 * are shared futexes, woken from another process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "futex.h"
#include "harness.h"
#include "uring.h"

#define NWORDS 3
#define WAKE_WAIT_MS 10000	/* generous: the machine may be busy */
#define ROUNDS 1000

/* The words, a cache line apart, and what the test expects of them. */
struct words {
	_Atomic uint32_t *w[NWORDS];
	uint32_t vals[NWORDS];
};

static void *segment(void)
{
	int id = t_track(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600));
	void *p;

	T_OK(id);
	p = shmat(id, NULL, 0);
	T_ASSERT(p != (void *)-1);
	return p;
}

static void words_init(struct words *ws, void *seg)
{
	for (int i = 0; i < NWORDS; i++) {
		ws->w[i] = (_Atomic uint32_t *)((char *)seg + 64 * i);
		ws->vals[i] = atomic_load(ws->w[i]);
	}
}

/* Is the fd readable now? POLLOUT is always set: only POLLIN counts. */
static int readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	T_OK(n);
	return n == 1 && (p.revents & POLLIN);
}

/*
 * No futex waiter is left on any word: a wait that ended is gone from the
 * kernel's queues, not merely unreported. (FUTEX_WAKE counts io_uring's
 * waiters with the others.)
 */
static void no_waiters(const struct words *ws)
{
	for (int i = 0; i < NWORDS; i++)
		T_EQ(__shmkit_futex_wake(ws->w[i], INT_MAX), 0);
}

/* In a child: a moment for the parent to fall asleep, then the wake. */
static int wake_later(void *arg)
{
	_Atomic uint32_t *w = arg;

	usleep(20000);
	atomic_fetch_add(w, 1);
	return __shmkit_futex_wake(w, 1) < 0;
}

static void misuse(struct __shmkit_uring *u, struct words *ws)
{
	T_EQ(__shmkit_uring_arm(u, ws->w, ws->vals, 0), -EINVAL);
	T_EQ(__shmkit_uring_arm(u, ws->w, ws->vals, -1), -EINVAL);
	T_EQ(__shmkit_uring_arm(u, ws->w, ws->vals, SHMKIT_FUTEX_WAITV_MAX + 1), -EINVAL);
	T_EQ(__shmkit_uring_arm(u, NULL, ws->vals, 1), -EINVAL);
	T_EQ(__shmkit_uring_arm(u, ws->w, NULL, 1), -EINVAL);
	T_EQ(__shmkit_uring_disarm(NULL), -EINVAL);
	/* nothing armed: nothing to end */
	T_EQ(__shmkit_uring_disarm(u), 0);
	T_ASSERT(!readable(__shmkit_uring_fd(u), 0));
}

/* A wake from another process, seen by poll. */
static void wake_by_peer(struct __shmkit_uring *u, struct words *ws)
{
	int fd = __shmkit_uring_fd(u);
	pid_t pid;

	T_ASSERT(!readable(fd, 0));
	T_OK(__shmkit_uring_arm(u, ws->w, ws->vals, NWORDS));
	T_EQ(__shmkit_uring_arm(u, ws->w, ws->vals, NWORDS), -EBUSY);
	T_ASSERT(!readable(fd, 0));
	pid = t_fork(wake_later, ws->w[1]);
	T_ASSERT(readable(fd, WAKE_WAIT_MS));
	T_EQ(t_wait(pid), 0);
	T_EQ(__shmkit_uring_disarm(u), 1);
	T_ASSERT(!readable(fd, 0));
	ws->vals[1]++;
}

/*
 * The same under epoll. The kernel completes the wait in our task (task
 * work), which interrupts epoll_wait: EINTR comes first, then the event,
 * as an event loop that retries sees it.
 */
static void wake_by_peer_epoll(struct __shmkit_uring *u, struct words *ws)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = __shmkit_uring_fd(u), ep, n, eintr = 0;
	uint64_t deadline;
	pid_t pid;

	T_OK(ep = epoll_create1(EPOLL_CLOEXEC));
	T_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	T_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	T_OK(__shmkit_uring_arm(u, ws->w, ws->vals, NWORDS));
	T_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	pid = t_fork(wake_later, ws->w[2]);
	deadline = t_now_ns() + WAKE_WAIT_MS * 1000000ull;
	while ((n = epoll_wait(ep, &ev, 1, WAKE_WAIT_MS)) < 0 && errno == EINTR &&
	       t_now_ns() < deadline)
		eintr++;
	T_EQ(n, 1);
	T_ASSERT(ev.events & EPOLLIN);
	T_ASSERT(eintr <= 2);
	T_EQ(t_wait(pid), 0);
	T_EQ(__shmkit_uring_disarm(u), 1);
	T_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	ws->vals[2]++;
	close(ep);
}

/* A word that differs already: the wait ends as it is submitted. */
static void already_changed(struct __shmkit_uring *u, struct words *ws)
{
	int fd = __shmkit_uring_fd(u);

	ws->vals[0]++;
	T_OK(__shmkit_uring_arm(u, ws->w, ws->vals, NWORDS));
	T_ASSERT(readable(fd, 0));
	T_EQ(__shmkit_uring_disarm(u), 1);
	T_ASSERT(!readable(fd, 0));
	no_waiters(ws);
	ws->vals[0]--;
}

/* Nobody wakes: disarm cancels, and the cancel's CQE goes too. */
static void no_wake(struct __shmkit_uring *u, struct words *ws)
{
	int fd = __shmkit_uring_fd(u);

	T_OK(__shmkit_uring_arm(u, ws->w, ws->vals, NWORDS));
	T_ASSERT(!readable(fd, 20));
	T_EQ(__shmkit_uring_disarm(u), 0);
	T_ASSERT(!readable(fd, 0));
	no_waiters(ws);
}

/*
 * Each end, over and over: cancelled, already changed, woken (by us:
 * FUTEX_WAKE's return to user space runs the completion). An entry left
 * behind would fill the four-entry SQ or keep the fd readable.
 */
static void rounds(struct __shmkit_uring *u, struct words *ws)
{
	int fd = __shmkit_uring_fd(u);

	for (int i = 0; i < ROUNDS; i++) {
		int kind = i % 3;

		if (kind == 1)
			ws->vals[i % NWORDS]++;
		T_OK(__shmkit_uring_arm(u, ws->w, ws->vals, NWORDS));
		if (kind == 1)
			ws->vals[i % NWORDS]--;
		if (kind == 2) {
			atomic_fetch_add(ws->w[i % NWORDS], 1);
			T_EQ(__shmkit_futex_wake(ws->w[i % NWORDS], INT_MAX), 1);
			ws->vals[i % NWORDS]++;
		}
		T_EQ(readable(fd, kind ? WAKE_WAIT_MS : 0), kind != 0);
		T_EQ(__shmkit_uring_disarm(u), kind != 0);
		T_ASSERT(!readable(fd, 0));
		no_waiters(ws);
	}
}

/* A word not mapped: the wait's own error comes back from disarm. */
static void bad_word(struct __shmkit_uring *u, struct words *ws)
{
	_Atomic uint32_t *w[2] = { ws->w[0], (_Atomic uint32_t *)8 };
	uint32_t vals[2] = { ws->vals[0], 0 };

	T_OK(__shmkit_uring_arm(u, w, vals, 2));
	T_ASSERT(readable(__shmkit_uring_fd(u), WAKE_WAIT_MS));
	T_EQ(__shmkit_uring_disarm(u), -EFAULT);
	T_ASSERT(!readable(__shmkit_uring_fd(u), 0));
}

int main(void)
{
	struct __shmkit_uring *u, *v;
	struct words ws;
	int r;

	r = __shmkit_uring_open(&u);
	if (r == -ENOSYS || r == -EPERM || r == -EOPNOTSUPP)
		t_skip("no io_uring FUTEX_WAITV here: %s", strerror(-r));
	T_OK(r);
	words_init(&ws, segment());
	misuse(u, &ws);
	wake_by_peer(u, &ws);
	wake_by_peer_epoll(u, &ws);
	already_changed(u, &ws);
	no_wake(u, &ws);
	rounds(u, &ws);
	bad_word(u, &ws);
	misuse(u, &ws);
	__shmkit_uring_close(u);

	/* closed while armed, and while its completion waits */
	T_OK(__shmkit_uring_open(&u));
	T_OK(__shmkit_uring_arm(u, ws.w, ws.vals, NWORDS));
	__shmkit_uring_close(u);
	T_OK(__shmkit_uring_open(&v));
	ws.vals[1]++;
	T_OK(__shmkit_uring_arm(v, ws.w, ws.vals, NWORDS));
	__shmkit_uring_close(v);
	__shmkit_uring_close(NULL);
	return 0;
}
