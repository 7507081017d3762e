/*
 * Futex waits and wakes on words inside shared memory. Never with
 * FUTEX_PRIVATE_FLAG: the waker is another process with its own mapping.
 */
#ifndef SHMKIT_FUTEX_H
#define SHMKIT_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>

/*
 * The element of a futex_waitv vector, for futex.c's call and for
 * io_uring's FUTEX_WAITV (uring.c). Headers older than Linux 5.16 lack it.
 */
#ifndef FUTEX_32
#define FUTEX_32 2
struct futex_waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t __reserved;
};
#endif

/*
 * Sleeps while *word == expected, at most ns nanoseconds (ns < 0: no
 * limit). Returns 0 when woken, -EAGAIN if *word had already changed,
 * -ETIMEDOUT or -EINTR; callers re-check their condition in every case.
 */
int __shmkit_futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t ns);

/*
 * Sleeps while every words[i] == vals[i] (n <= SHMKIT_FUTEX_WAITV_MAX),
 * at most ns nanoseconds (ns < 0: no limit): the kernel's futex_waitv
 * (Linux 5.16). Returns 0 when woken, -EAGAIN if a word had already
 * changed, -ETIMEDOUT, -EINTR, or -ENOSYS where the kernel lacks it.
 */
#define SHMKIT_FUTEX_WAITV_MAX 128
int __shmkit_futex_waitv(_Atomic uint32_t *const *words, const uint32_t *vals, int n, int64_t ns);

/* Wakes up to n sleepers on word. Returns the number woken or -errno. */
int __shmkit_futex_wake(_Atomic uint32_t *word, int n);

/*
 * The waker's half of the sleep handshake of channels (S2-S5, chan.c) and
 * topics (W2, W3, topic.h): a sleeper reads seq, raises flag, makes a full
 * barrier, re-checks, and waits on seq. The waker has published and made
 * its own full barrier before calling these.
 *
 * wake_flagged: if flag is raised, clears it; the caller that cleared it
 * bumps seq and wakes up to n waiters. 1 if this call woke, else 0.
 * kick: the same whether or not the flag is raised (for close and open,
 * and for a waker that may have died halfway).
 */
int __shmkit_futex_wake_flagged(_Atomic uint32_t *flag, _Atomic uint32_t *seq, int n);
void __shmkit_futex_kick(_Atomic uint32_t *flag, _Atomic uint32_t *seq, int n);

#endif
