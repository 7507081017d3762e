/*
 * A wait set's file descriptor, for event loops (waitset.c): readable
 * once a wait armed on a vector of futex words would have ended, that is,
 * when one is woken or already differs from its expected value.
 *
 * Two ways, chosen at open:
 *   io_uring: the ring's own fd, armed with one FUTEX_WAITV (uring.h;
 *      Linux 6.7). Arming is one system call; the wake costs the waker
 *      what a futex wake costs, and the kernel posts the completion.
 *   thread: where io_uring is missing or forbidden (kernel.io_uring_
 *      disabled, container seccomp filters, older kernels), a thread of
 *      ours sleeps in futex_waitv on the armed words and writes an
 *      eventfd when it returns. Arming wakes the thread; a wake costs a
 *      thread switch more.
 * Either way nothing happens while unarmed, so a loop that is busy with
 * messages pays nothing per message: it arms only when it is about to
 * sleep.
 *
 * One thread uses a waitfd at a time, the same one for arm and disarm
 * (io_uring completes the wait in the thread that armed it), and not
 * across fork: a child shares the ring, and has no copy of the thread.
 */
#ifndef SHMKIT_WAITFD_H
#define SHMKIT_WAITFD_H

#include <stdatomic.h>
#include <stdint.h>

struct __shmkit_waitfd;

/* Opens one; with force_thread, the thread way even where io_uring works (tests). */
int __shmkit_waitfd_open(int force_thread, struct __shmkit_waitfd **wf);
int __shmkit_waitfd_fd(const struct __shmkit_waitfd *wf);
/* "io_uring" or "thread" */
const char *__shmkit_waitfd_kind(const struct __shmkit_waitfd *wf);

/*
 * Arms a wait on n (1 to SHMKIT_FUTEX_WAITV_MAX) shared futex words, each
 * expected to hold vals[i]; the words stay mapped until disarm. 0 or an
 * error (nothing armed then).
 */
int __shmkit_waitfd_arm(struct __shmkit_waitfd *wf, _Atomic uint32_t *const *words,
			const uint32_t *vals, int n);

/*
 * Ends the armed wait, if any: afterwards the fd is not readable and no
 * part of the wait remains. 1 if it had ended by a wake or a changed
 * word, 0 if not (or nothing was armed), or an error.
 */
int __shmkit_waitfd_disarm(struct __shmkit_waitfd *wf);

void __shmkit_waitfd_close(struct __shmkit_waitfd *wf);

#endif
