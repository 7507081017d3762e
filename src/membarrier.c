/*
 * membarrier(2), MEMBARRIER_CMD_GLOBAL_EXPEDITED: when the call returns,
 * every cpu that was running a thread of a registered process has
 * executed a full memory barrier, and a thread that was not running will
 * pass one (the scheduler's) before it runs again. A process registers
 * with MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED; any process may issue
 * the barrier.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "membarrier.h"

int __shmkit_light_wake_off;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

int __shmkit_light_wake_ready(void)
{
	/* 0 not asked yet, 1 yes, -1 no; a race only asks twice */
	static _Atomic int answer;
	int a = atomic_load_explicit(&answer, memory_order_relaxed);
	long cmds;

	if (__shmkit_light_wake_off)
		return 0;
	if (a)
		return a > 0;
	a = -1;
	cmds = membarrier(MEMBARRIER_CMD_QUERY);
	if (cmds >= 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
	    (cmds & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
	    membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0)
		a = 1;
	atomic_store_explicit(&answer, a, memory_order_relaxed);
	return a > 0;
}

int __shmkit_membarrier_all(void)
{
	return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) < 0 ? -errno : 0;
}
