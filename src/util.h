/* Small helpers shared by the library's files; nothing here is exported. */
#ifndef SHMKIT_UTIL_H
#define SHMKIT_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Marks a definition as part of the public ABI (see src/shmkit.map). */
#define SHMKIT_EXPORT __attribute__((visibility("default")))

/* The longest spin shmkit_chan_set_spin and its topic twins take: 1 s. */
#define SHMKIT_SPIN_MAX_US 1000000

/*
 * Reads at most cap-1 bytes of a (small, /proc or /sys) file into buf and
 * NUL-terminates it. Returns the length or a negative errno.
 */
int __shmkit_read_file(const char *path, char *buf, size_t cap);
/* The same for a path relative to the directory dirfd (or AT_FDCWD). */
int __shmkit_read_file_at(int dirfd, const char *path, char *buf, size_t cap);

/* The system's page size: sysconf's answer, or 4096 if it has none. */
uint64_t __shmkit_page_size(void);

/* Parses an unsigned decimal number that fills the string up to optional
 * trailing whitespace. Returns 0 or -EINVAL / -ERANGE. */
int __shmkit_parse_u64(const char *s, uint64_t *out);

/* CLOCK_MONOTONIC in nanoseconds: the clock of every wait and timeout. */
static inline uint64_t __shmkit_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Statistics have one writer each: a relaxed load and store, no RMW. */
static inline void __shmkit_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

#endif
