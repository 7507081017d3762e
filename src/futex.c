#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "futex.h"

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
