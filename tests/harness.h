/*
 * The test harness: one small program per behaviour. Exit 0 = pass,
 * 1 = fail, 77 = skipped (the machine lacks something; never a pass).
 *
 * Every segment a test makes is tracked and removed when the test exits,
 * passes or fails, also on SIGTERM/SIGINT/SIGALRM from the runner's
 * timeout. Forked children never clean up: only the process that started
 * the test does.
 */
#ifndef SHMKIT_TEST_HARNESS_H
#define SHMKIT_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "payload.h"
#include "shmkit.h"

#define T_EXIT_SKIP 77

_Noreturn void t_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define T_ASSERT(c) \
	do { if (!(c)) t_fail(__FILE__, __LINE__, "assertion failed: %s", #c); } while (0)
#define T_EQ(a, b) \
	do { long long a_ = (long long)(a), b_ = (long long)(b); \
	     if (a_ != b_) t_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
				  #a, a_, #b, b_); } while (0)
/* r must be >= 0; prints the error text if not. */
#define T_OK(r) \
	do { long long r_ = (long long)(r); \
	     if (r_ < 0) t_fail(__FILE__, __LINE__, "%s failed: %s", #r, \
				shmkit_strerror((int)r_)); } while (0)
#define T_STR_CONTAINS(hay, needle) \
	do { const char *h_ = (hay), *n_ = (needle); \
	     if (!h_ || !strstr(h_, n_)) t_fail(__FILE__, __LINE__, \
		"'%s' not found in: %s", n_, h_ ? h_ : "(null)"); } while (0)
/* len bytes at p must be message tag (common/payload.h); names the first
 * wrong byte and the message that came instead if not. */
#define T_PAYLOAD(p, len, tag) \
	do { const void *p_ = (p); size_t len_ = (len), bad_; uint64_t tag_ = (tag); \
	     if ((bad_ = payload_check(p_, len_, tag_))) t_fail(__FILE__, __LINE__, \
		"message %llu of %zu bytes: byte %zu is wrong (it carries %llu)", \
		(unsigned long long)tag_, len_, bad_ - 1, \
		(unsigned long long)payload_tag(p_, len_)); } while (0)

/* Removes shmid at exit. Returns shmid (so it can wrap a create call). */
int t_track(int shmid);
/* Removes whatever segment has this key at exit. */
key_t t_track_key(key_t key);

/* A key no other test run uses (random, tracked for cleanup). */
key_t t_key(void);
/* A name of the form t-PID-N-TAG in buf (tracked for cleanup). */
const char *t_name(char *buf, size_t cap, const char *tag);

/* References for the library calls. The name is not copied: it must live
 * as long as the reference. */
struct shmkit_ref t_key_ref(key_t key);
struct shmkit_ref t_name_ref(const char *name);
/* key as the command prints and parses it: 0x%08x. */
void t_key_text(char *buf, size_t cap, key_t key);

/* Does the kernel still have shmid? IPC_STAT, so nothing attaches. */
int t_shmid_exists(int shmid);
/* Does a segment of this name exist, and may we open it? */
int t_name_exists(const char *name);

/* CLOCK_MONOTONIC in nanoseconds, for deadlines and elapsed times. */
uint64_t t_now_ns(void);

/*
 * Runs the shmkit command (path from $SHMKIT) with args (NULL-terminated),
 * optional stdin text. Captures stdout and stderr (malloc'd, NUL-terminated)
 * and returns the exit status, or 128+signal.
 */
int t_cli(char **out, char **err, const char *arg0, ...);
/* The same for any program: argv[0] is looked up in PATH. */
int t_run(char *const argv[], char **out, char **err);
/* The same for a shell snippet (sh -c), formatted like printf. */
int t_sh(char **out, char **err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Child helpers: fork and run fn(arg) in the child, which _exits with its
 * return value. t_wait returns the exit status (128+signal if killed).
 * Children not yet waited for are killed and reaped when the test exits. */
pid_t t_fork(int (*fn)(void *), void *arg);
int t_wait(pid_t pid);
/* fork(2) for code that goes on in the child (0 returned there), which
 * the caller reaps: the child dies with the test (PR_SET_PDEATHSIG). */
pid_t t_child(void);

uint64_t t_rand(void);

/* Pins the calling process to cpu: 0, or -errno. */
int t_pin(int cpu);

/* A file of our own under /tmp (for ftok), removed when the test exits. */
const char *t_tmpfile(const char *tag);

/*
 * A child that keeps a segment attached until t_hold_stop: for states,
 * attached pids and refusals. It detaches and exits when told, or when
 * the test dies (EOF on its pipe).
 */
struct t_holder {
	int shmid;
	int ready[2], go[2];
	pid_t pid;
};
void t_hold_start(struct t_holder *h, int shmid);
void t_hold_stop(struct t_holder *h);

/*
 * n scaled by $SHMKIT_TEST_SCALE (default 1), at least 1. The Makefile
 * sets it: down under valgrind (0.002) and ThreadSanitizer (0.1), up for
 * make stress (10); tests/run.sh names any factor but 1 in its summary.
 */
uint64_t t_scale(uint64_t n);

/* splitmix64: a fast deterministic generator both sides of a test share. */
static inline uint64_t t_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif
