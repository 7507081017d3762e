/*
 * The syscall boundary. Every System V call the library makes goes
 * through these shims, which turn the libc convention (-1 and errno, or
 * (void *)-1 for shmat) into a negative errno, exactly once.
 */
#ifndef SHMKIT_SYS_H
#define SHMKIT_SYS_H

#include <errno.h>
#include <sys/ipc.h>
#include <sys/shm.h>

static inline int __shmkit_shmget(key_t key, size_t size, int flags)
{
	int id = shmget(key, size, flags);
	return id < 0 ? -errno : id;
}

static inline int __shmkit_shmat(int shmid, int flags, void **addr)
{
	void *p = shmat(shmid, NULL, flags);
	if (p == (void *)-1)
		return -errno;
	*addr = p;
	return 0;
}

static inline int __shmkit_shmdt(const void *addr)
{
	return shmdt(addr) < 0 ? -errno : 0;
}

static inline int __shmkit_shmctl(int shmid, int cmd, struct shmid_ds *ds)
{
	int r = shmctl(shmid, cmd, ds);
	return r < 0 ? -errno : r;
}

static inline int __shmkit_ftok(const char *path, int proj, key_t *key)
{
	key_t k;

	/* -1 is also a key ftok can compute; only errno tells them apart */
	errno = 0;
	k = ftok(path, proj);
	if (k == (key_t)-1 && errno)
		return -errno;
	*key = k;
	return 0;
}

#endif
