/*
 * Futex waits and wakes on words inside shared memory. Never with
 * FUTEX_PRIVATE_FLAG: the waker is another process with its own mapping.
 */
#ifndef SHMKIT_FUTEX_H
#define SHMKIT_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * Sleeps while *word == expected, at most ns nanoseconds (ns < 0: no
 * limit). Returns 0 when woken, -EAGAIN if *word had already changed,
 * -ETIMEDOUT or -EINTR; callers re-check their condition in every case.
 */
int __shmkit_futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t ns);

/* Wakes up to n sleepers on word. Returns the number woken or -errno. */
int __shmkit_futex_wake(_Atomic uint32_t *word, int n);

#endif
