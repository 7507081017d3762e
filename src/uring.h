/*
 * A minimal io_uring for one purpose: a file descriptor that becomes
 * readable when any of a set of futex words changes, for callers that
 * sleep in an event loop (epoll, poll) rather than in futex_waitv.
 *
 * One ring of four entries holds at most one IORING_OP_FUTEX_WAITV (Linux
 * 6.7) at a time. Armed, the ring's completion queue gets an entry when a
 * word is woken, or at once when a word already differs from its expected
 * value; the ring's fd is readable (POLLIN) exactly while an entry waits.
 * It is always writable (POLLOUT): watch POLLIN only.
 *
 * Raw system calls, no liburing: the library depends on libc alone.
 *
 * One thread at a time, and the same one for arm and disarm: the kernel
 * completes a woken wait in the task that armed it, by task work that
 * interrupts that thread wherever it is. A poll there restarts unseen;
 * an epoll_wait returns EINTR once, and the next one reports the fd (seen
 * on Linux 6.18): event loops retry on EINTR anyway.
 */
#ifndef SHMKIT_URING_H
#define SHMKIT_URING_H

#include <stdatomic.h>
#include <stdint.h>

struct __shmkit_uring;

/*
 * Sets up a ring and checks that the kernel can run FUTEX_WAITV on it.
 * Returns 0, or why not, for the caller to choose another way to wait:
 * -ENOSYS (no io_uring: before 5.1, not configured, or an emulator that
 * lacks it), -EPERM (kernel.io_uring_disabled, or a seccomp filter),
 * -EOPNOTSUPP (io_uring without FUTEX_WAITV: before 6.7, or no futexes),
 * -ENOMEM, -EMFILE.
 */
int __shmkit_uring_open(struct __shmkit_uring **u);

/* The pollable fd: POLLIN while a completion waits. Close-on-exec. */
int __shmkit_uring_fd(const struct __shmkit_uring *u);

/*
 * Submits one wait on n (1..SHMKIT_FUTEX_WAITV_MAX) 32-bit futex words,
 * shared (never FUTEX_PRIVATE_FLAG: the wakers are other processes), each
 * expected to hold vals[i]. The words must stay mapped until disarm.
 * Returns 0, -EBUSY if a wait is already armed, -EINVAL for n out of
 * range, or the error io_uring_enter gave (nothing is armed then).
 */
int __shmkit_uring_arm(struct __shmkit_uring *u, _Atomic uint32_t *const *words,
		       const uint32_t *vals, int n);

/*
 * Ends the armed wait, if any, and reaps everything it posted: afterwards
 * the fd is not readable and nothing of the wait remains in the kernel.
 * Returns 1 if the wait had ended by a wake or a changed value, 0 if it
 * had not (it is cancelled) or nothing was armed, or the error the wait
 * ended with (-EFAULT: a word not mapped; -EINVAL: a word not aligned).
 * Never sleeps for a wake: the cancel completes at once.
 */
int __shmkit_uring_disarm(struct __shmkit_uring *u);

/* Disarms, unmaps and closes the ring. u may be NULL. */
void __shmkit_uring_close(struct __shmkit_uring *u);

#endif
