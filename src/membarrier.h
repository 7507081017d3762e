/*
 * The asymmetric half of the channel's sleep handshake (chan.c, S6): a
 * sleeper that asks the kernel for a full barrier on every cpu that runs
 * a registered process, so that wakers in those processes need none.
 */
#ifndef SHMKIT_MEMBARRIER_H
#define SHMKIT_MEMBARRIER_H

/*
 * Registers this process (once; later calls return the first answer):
 * 1 if its wakers may skip the fence, 0 if the kernel cannot do its part
 * (before Linux 4.16, or a filter refuses the call). Tests may force 0
 * with __shmkit_light_wake_off, for the opens that follow.
 */
int __shmkit_light_wake_ready(void);

/* The barrier on every cpu running a registered process: 0 or -errno. */
int __shmkit_membarrier_all(void);

/* Tests only: 1 makes __shmkit_light_wake_ready answer 0. */
extern int __shmkit_light_wake_off;

#endif
