/*
 * shmkit doctor: what its checks share (cli/doctor.c, the command and its
 * output; cli/doctor_logind.c, RemoveIPC; cli/doctor_checks.c, the rest).
 *
 * A check fills one struct doc_check: a status, what it found and what to
 * do, as plain text that may hold bytes read from files (they are escaped
 * when printed), and "details" for --json, written as JSON members.
 */
#ifndef SHMKIT_DOCTOR_H
#define SHMKIT_DOCTOR_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* In rising order of concern: a check keeps the highest it was given. */
enum doc_status { DOC_OK, DOC_INFO, DOC_SKIP, DOC_WARN, DOC_FAIL };

#define DOC_TEXT 2048

struct doc_check {
	const char *name;
	enum doc_status status;
	char found[DOC_TEXT];	/* what was found */
	char fix[DOC_TEXT];	/* what to do; printed unless ok */
	FILE *json;		/* the members of "details", comma-separated */
	char *json_buf;
	size_t json_len;
	int members;
};

/* What every check may look at. */
struct doctor {
	int root;		/* a descriptor of --root DIR, or of / */
	uint64_t need;		/* --need SIZE; 0 if not given */
	uid_t euid;
};

/* Raises c's status to s (never lowers it). */
void doc_status(struct doc_check *c, enum doc_status s);
/* Appends to c->found or c->fix (cut at DOC_TEXT). */
void doc_found(struct doc_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void doc_fix(struct doc_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Details for --json: one member each; a NULL string is null. */
void doc_num(struct doc_check *c, const char *key, uint64_t v);
void doc_str(struct doc_check *c, const char *key, const char *s);
void doc_bool(struct doc_check *c, const char *key, int b);
/* Writes the key and returns the stream, for a value the caller writes. */
FILE *doc_member(struct doc_check *c, const char *key);

/*
 * Files below the root, never above it (openat2's RESOLVE_IN_ROOT where
 * the kernel has it): path is relative ("etc/login.defs"). doc_open takes
 * open flags (O_PATH, O_DIRECTORY...) and adds O_CLOEXEC; -errno.
 * doc_read reads a regular file, at most cap - 1 bytes, NUL-terminated:
 * the length, -EFBIG if there was more, -EINVAL if not a regular file.
 * doc_fopen: a regular file as a stream, or NULL with errno set.
 * doc_exists: 1 if path names anything at all.
 */
int doc_open(const struct doctor *d, const char *path, int flags);
int doc_read(const struct doctor *d, const char *path, char *buf, size_t cap);
FILE *doc_fopen(const struct doctor *d, const char *path);
int doc_exists(const struct doctor *d, const char *path);

/* Why a read failed, in words: strerror, and "more than N bytes" for -EFBIG. */
const char *doc_why(int err);

/* The checks. */
void check_limits(const struct doctor *d, struct doc_check *c);
void check_removeipc(const struct doctor *d, struct doc_check *c);
void check_ipc_ns(const struct doctor *d, struct doc_check *c);
void check_futex_waitv(struct doc_check *c);
void check_io_uring(struct doc_check *c);
void check_proc_files(const struct doctor *d, struct doc_check *c);
/* One list of the segments for three checks. */
void check_segments(struct doc_check *orphans, struct doc_check *removing,
		    struct doc_check *world);

#endif
