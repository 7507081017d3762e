/*
 * A wait set's file descriptor (waitfd.h): io_uring where the kernel
 * lets us, else a watcher thread and an eventfd.
 *
 * The thread's handshake, on words private to this process:
 *   arm:     copy the vector; note cancel; store_release(gen, g + 1); wake.
 *   thread:  load_acquire(gen) sees g + 1, so it sees the vector; it
 *            sleeps in futex_waitv on the vector and on cancel; when a
 *            member word differs from its expected value it writes the
 *            eventfd; then store_release(done, g + 1); wake.
 *   disarm:  bump cancel; wake the thread; wait for done == gen; then
 *            drain the eventfd. The thread has stopped using the vector,
 *            and what it wrote is read: the fd is quiet again.
 * Member words change only by their wakers' bumps (S4, W2-W3), each
 * before its wake, so "a word differs" is exactly "a wake came or had
 * come". A vector of SHMKIT_FUTEX_WAITV_MAX words leaves no room for
 * cancel: disarm then wakes the thread through the first member's word
 * instead (a spurious wake-up for anyone else asleep on it, who re-checks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "barrier.h"
#include "futex.h"
#include "uring.h"
#include "waitfd.h"

#define FALLBACK_SLICE_NS 1000000	/* kernels without futex_waitv */

enum { WAITFD_URING = 1, WAITFD_THREAD };

struct __shmkit_waitfd {
	int kind;
	int armed;
	struct __shmkit_uring *u;
	/* the thread way */
	int efd;
	pthread_t thread;
	_Atomic uint32_t *words[SHMKIT_FUTEX_WAITV_MAX + 1];
	uint32_t vals[SHMKIT_FUTEX_WAITV_MAX + 1];
	int n;			/* member words; the cancel word follows if there is room */
	_Atomic uint32_t gen;	/* arms (and the close) so far */
	_Atomic uint32_t done;	/* the arm the thread has finished with */
	_Atomic uint32_t cancel;
	_Atomic uint32_t quit;
};

/* Does a member word differ from what it was armed with? */
static int member_changed(const struct __shmkit_waitfd *wf)
{
	for (int i = 0; i < wf->n; i++)
		if (shmkit_load_acquire(wf->words[i]) != wf->vals[i])
			return 1;
	return 0;
}

/* The thread's part of one arm: sleep until a member word moves or disarm. */
static void watch(struct __shmkit_waitfd *wf)
{
	int total = wf->n < SHMKIT_FUTEX_WAITV_MAX ? wf->n + 1 : wf->n;
	uint32_t cancel = wf->vals[wf->n];
	unsigned turn = 0;
	uint64_t one = 1;

	for (;;) {
		if (member_changed(wf)) {
			/* a full counter (never: one write per arm) is not an error here */
			if (write(wf->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				return;
			return;
		}
		if (shmkit_load_acquire(&wf->cancel) != cancel)
			return;
		if (__shmkit_futex_waitv(wf->words, wf->vals, total, -1) != -ENOSYS)
			continue;
		/* before 5.16: each word in turn, a slice each, cancel between */
		turn = (turn + 1) % (unsigned)wf->n;
		__shmkit_futex_wait(wf->words[turn], wf->vals[turn], FALLBACK_SLICE_NS);
	}
}

static void *watcher(void *arg)
{
	struct __shmkit_waitfd *wf = arg;
	uint32_t seen = 0, g;

	for (;;) {
		/* acquire: the vector arm wrote before its gen */
		g = shmkit_load_acquire(&wf->gen);
		if (g == seen) {
			__shmkit_futex_wait(&wf->gen, g, -1);
			continue;
		}
		seen = g;
		if (shmkit_load_acquire(&wf->quit))
			return NULL;
		watch(wf);
		/* release: we are done with the vector; disarm may reuse it */
		shmkit_store_release(&wf->done, g);
		__shmkit_futex_wake(&wf->done, 1);
	}
}

static int start_thread(struct __shmkit_waitfd *wf)
{
	sigset_t all, old;
	int err;

	wf->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wf->efd < 0)
		return -errno;
	/* signals go to the application's threads, never to ours */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&wf->thread, NULL, watcher, wf);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(wf->efd);
		return -err;
	}
	wf->kind = WAITFD_THREAD;
	return 0;
}

int __shmkit_waitfd_open(int force_thread, struct __shmkit_waitfd **out)
{
	struct __shmkit_waitfd *wf = calloc(1, sizeof(*wf));
	int err;

	if (!wf)
		return -ENOMEM;
	wf->efd = -1;
	if (!force_thread && __shmkit_uring_open(&wf->u) == 0) {
		wf->kind = WAITFD_URING;
	} else if ((err = start_thread(wf)) < 0) {
		free(wf);
		return err;
	}
	*out = wf;
	return 0;
}

int __shmkit_waitfd_fd(const struct __shmkit_waitfd *wf)
{
	return wf->kind == WAITFD_URING ? __shmkit_uring_fd(wf->u) : wf->efd;
}

const char *__shmkit_waitfd_kind(const struct __shmkit_waitfd *wf)
{
	return wf->kind == WAITFD_URING ? "io_uring" : "thread";
}

int __shmkit_waitfd_arm(struct __shmkit_waitfd *wf, _Atomic uint32_t *const *words,
			const uint32_t *vals, int n)
{
	int err;

	if (n < 1 || n > SHMKIT_FUTEX_WAITV_MAX)
		return -EINVAL;
	if (wf->armed)
		return -EBUSY;
	if (wf->kind == WAITFD_URING) {
		if ((err = __shmkit_uring_arm(wf->u, words, vals, n)) < 0)
			return err;
		wf->armed = 1;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		wf->words[i] = words[i];
		wf->vals[i] = vals[i];
	}
	wf->n = n;
	wf->words[n] = &wf->cancel;
	wf->vals[n] = shmkit_load_relaxed(&wf->cancel);
	/* release: the vector before the generation the thread acquires */
	shmkit_fetch_add_seq_cst(&wf->gen, 1);
	__shmkit_futex_wake(&wf->gen, 1);
	wf->armed = 1;
	return 0;
}

int __shmkit_waitfd_disarm(struct __shmkit_waitfd *wf)
{
	uint32_t g, d;
	uint64_t count;

	if (!wf->armed)
		return 0;
	wf->armed = 0;
	if (wf->kind == WAITFD_URING)
		return __shmkit_uring_disarm(wf->u);
	shmkit_fetch_add_seq_cst(&wf->cancel, 1);
	if (wf->n < SHMKIT_FUTEX_WAITV_MAX)
		__shmkit_futex_wake(&wf->cancel, 1);
	else
		__shmkit_futex_wake(wf->words[0], INT_MAX);
	g = shmkit_load_relaxed(&wf->gen);
	while ((d = shmkit_load_acquire(&wf->done)) != g)
		__shmkit_futex_wait(&wf->done, d, -1);
	return read(wf->efd, &count, sizeof(count)) == sizeof(count);
}

void __shmkit_waitfd_close(struct __shmkit_waitfd *wf)
{
	if (!wf)
		return;
	__shmkit_waitfd_disarm(wf);
	if (wf->kind == WAITFD_URING) {
		__shmkit_uring_close(wf->u);
	} else {
		shmkit_store_release(&wf->quit, 1);
		shmkit_fetch_add_seq_cst(&wf->gen, 1);
		__shmkit_futex_wake(&wf->gen, 1);
		pthread_join(wf->thread, NULL);
		close(wf->efd);
	}
	free(wf);
}
