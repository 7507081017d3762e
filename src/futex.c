#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
