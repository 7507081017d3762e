/* Small helpers shared by the library's files; nothing here is exported. */
#ifndef SHMKIT_UTIL_H
#define SHMKIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Marks a definition as part of the public ABI (see src/shmkit.map). */
#define SHMKIT_EXPORT __attribute__((visibility("default")))

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

#endif
