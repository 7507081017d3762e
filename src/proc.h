/*
 * Processes: is a pid still the process we think it is? A pid alone can be
 * recycled, so identity is pid plus start time (clock ticks after boot,
 * field 22 of /proc/PID/stat). A zombie has finished its work and counts
 * as gone.
 */
#ifndef SHMKIT_PROC_H
#define SHMKIT_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* Start time of pid, in ticks since boot. -ESRCH if it does not exist or
 * is a zombie. */
int __shmkit_proc_start(pid_t pid, uint64_t *start);

/* 1 if pid runs and started at exactly start, else 0. */
int __shmkit_proc_is(pid_t pid, uint64_t start);

/* 1 if pid runs and started no later than epoch second t (so it cannot be
 * a newer process that inherited a recycled pid), else 0. */
int __shmkit_proc_alive_before(pid_t pid, int64_t t);

/* The command name of pid ("?" if unreadable) into comm[16]. */
void __shmkit_proc_comm(pid_t pid, char comm[16]);

#endif
