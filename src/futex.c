#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "futex.h"

/* Headers older than Linux 5.16 know neither the call nor its vector. */
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449	/* one number for all architectures since 5.1, but alpha */
#endif

int __shmkit_futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t ns)
{
	struct timespec ts, *tp = NULL;
	long r;

	if (ns >= 0) {
		ts.tv_sec = (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		tp = &ts;
	}
	/* FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC) */
	r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, tp, NULL, 0);
	return r < 0 ? -errno : 0;
}

int __shmkit_futex_waitv(_Atomic uint32_t *const *words, const uint32_t *vals, int n, int64_t ns)
{
	struct futex_waitv w[SHMKIT_FUTEX_WAITV_MAX];
	struct timespec ts, *tp = NULL;
	long r;

	if (n < 1 || n > SHMKIT_FUTEX_WAITV_MAX)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		/* FUTEX_32 without FUTEX_PRIVATE_FLAG: the wakers are other processes */
		w[i] = (struct futex_waitv){ .val = vals[i], .flags = FUTEX_32,
					     .uaddr = (uint64_t)(uintptr_t)words[i] };
	}
	if (ns >= 0) {
		/* futex_waitv's timeout is absolute, on the clock named below */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(ns / 1000000000);
		ts.tv_nsec += (long)(ns % 1000000000);
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		tp = &ts;
	}
	r = syscall(SYS_futex_waitv, w, (unsigned)n, 0u, tp, CLOCK_MONOTONIC);
	return r < 0 ? -errno : 0;
}

int __shmkit_futex_wake(_Atomic uint32_t *word, int n)
{
	long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
	return r < 0 ? -errno : (int)r;
}

int __shmkit_futex_wake_flagged(_Atomic uint32_t *flag, _Atomic uint32_t *seq, int n)
{
	if (!shmkit_load_relaxed(flag))
		return 0;
	/*
	 * S3: one waker per sleep: whoever clears the flag makes the call.
	 * Pairs with S1's flag store, and with S5 in a kick racing us. Its
	 * atomicity is what counts: after the caller's barrier a relaxed
	 * exchange, and a relaxed S4, would do (model: full-unneeded-s3, -s4).
	 */
	if (!shmkit_exchange_seq_cst(flag, 0))
		return 0;
	/* S4: pairs with the sleeper's load_acquire of seq (S1) */
	shmkit_fetch_add_seq_cst(seq, 1);
	__shmkit_futex_wake(seq, n);
	return 1;
}

void __shmkit_futex_kick(_Atomic uint32_t *flag, _Atomic uint32_t *seq, int n)
{
	/* S5: clears the flag unconditionally; pairs with S1 and S3; after
	   the caller's barrier, relaxed would do (model: full-unneeded-s5) */
	shmkit_store_seq_cst(flag, 0);
	/* S4: as in wake_flagged */
	shmkit_fetch_add_seq_cst(seq, 1);
	__shmkit_futex_wake(seq, n);
}
