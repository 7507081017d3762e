/* shmkit doctor: what on this machine makes shared memory fail, and what to do. */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "doctor.h"

/* openat2 (Linux 5.6); headers may lack both. */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define RESOLVE_IN_ROOT_FLAG 0x10

static const char *const status_names[] = { "ok", "info", "skip", "warn", "fail" };

static void usage(void)
{
	printf("Usage: shmkit doctor [--need SIZE] [--root DIR] [--json]\n"
	       "\n"
	       "Checks this machine for what makes System V shared memory fail in\n"
	       "production, and says what to do. One line per check: its status, its\n"
	       "name and what it found; a check that is not ok adds a line \"fix:\".\n"
	       "  ok    fine\n"
	       "  info  worth knowing, nothing wrong\n"
	       "  skip  could not be checked (the line says why): not a pass\n"
	       "  warn  needs attention\n"
	       "  fail  something will fail, or does\n"
	       "The checks: limits (kernel.shmmax, shmall, shmmni against the segments\n"
	       "there are and --need), removeipc (systemd-logind removing a user's\n"
	       "segments at logout), ipc-namespace (which processes see these\n"
	       "segments), futex-waitv and io-uring (kernel features shmkit uses),\n"
	       "proc-files (what shmkit reads in /proc), orphans, removing and\n"
	       "world-writable (the segments here). Nothing is changed.\n"
	       "\n"
	       "  --need SIZE   one more segment of SIZE bytes (K, M, G, T) must fit\n"
	       "  --root DIR    read the configuration and /proc files below DIR, not /\n"
	       "                (the probes and the segments are still this system's)\n"
	       "  --json        one JSON object, every check with its details\n"
	       "  -h, --help    this text\n"
	       "\n"
	       "Exit status: 0 nothing needs attention (ok, info and skip), 1 a check\n"
	       "warns or fails, 2 bad usage.\n");
}

void doc_status(struct doc_check *c, enum doc_status s)
{
	if (s > c->status)
		c->status = s;
}

static void vappend(char *buf, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);

	if (len + 1 < DOC_TEXT)
		vsnprintf(buf + len, DOC_TEXT - len, fmt, ap);
}

void doc_found(struct doc_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(c->found, fmt, ap);
	va_end(ap);
}

void doc_fix(struct doc_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(c->fix, fmt, ap);
	va_end(ap);
}

FILE *doc_member(struct doc_check *c, const char *key)
{
	fprintf(c->json, "%s\"%s\": ", c->members++ ? ", " : "", key);
	return c->json;
}

void doc_num(struct doc_check *c, const char *key, uint64_t v)
{
	fprintf(doc_member(c, key), "%llu", (unsigned long long)v);
}

void doc_str(struct doc_check *c, const char *key, const char *s)
{
	FILE *f = doc_member(c, key);

	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

void doc_bool(struct doc_check *c, const char *key, int b)
{
	fputs(b ? "true" : "false", doc_member(c, key));
}

int doc_open(const struct doctor *d, const char *path, int flags)
{
	static int no_openat2;
	struct { uint64_t flags, mode, resolve; } how = {
		(uint64_t)(flags | O_CLOEXEC), 0, RESOLVE_IN_ROOT_FLAG
	};
	long fd = -1;

	if (!no_openat2)
		fd = syscall(SYS_openat2, d->root, path, &how, sizeof(how));
	/* without openat2 (before 5.6, or a filter): plain openat, from then on */
	if (no_openat2 || (fd < 0 && (errno == ENOSYS || errno == EPERM))) {
		no_openat2 = 1;
		fd = openat(d->root, path, flags | O_CLOEXEC);
	}
	return fd < 0 ? -errno : (int)fd;
}

/* A regular file below the root, for reading; -errno. */
static int open_regular(const struct doctor *d, const char *path)
{
	/* O_NONBLOCK: a FIFO planted there must not hang us; it is refused next */
	int fd = doc_open(d, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int doc_read(const struct doctor *d, const char *path, char *buf, size_t cap)
{
	int fd = open_regular(d, path), err = 0;
	size_t len = 0;
	ssize_t n;
	char more;

	if (fd < 0)
		return fd;
	for (;;) {
		/* full: one byte more means the file is larger than we read */
		if (len + 1 >= cap)
			n = read(fd, &more, 1);
		else
			n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (n > 0 && len + 1 >= cap)
			err = -EFBIG;
		if (n <= 0 || err)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return err ? err : (int)len;
}

FILE *doc_fopen(const struct doctor *d, const char *path)
{
	int fd = open_regular(d, path);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (!(f = fdopen(fd, "r")))
		close(fd);
	return f;
}

int doc_exists(const struct doctor *d, const char *path)
{
	int fd = doc_open(d, path, O_PATH);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

const char *doc_why(int err)
{
	if (err == -EFBIG)
		return "larger than expected, not read";
	if (err == -EINVAL)
		return "not a regular file";
	return strerror(-err);
}

/* The checks, in the order they are printed. */
enum { LIMITS, REMOVEIPC, IPC_NS, FUTEX_WAITV, IO_URING, PROC_FILES, ORPHANS, REMOVING,
       WORLD, NCHECKS };
static const char *const check_names[NCHECKS] = {
	"limits", "removeipc", "ipc-namespace", "futex-waitv", "io-uring", "proc-files",
	"orphans", "removing", "world-writable"
};

static void run_checks(const struct doctor *d, struct doc_check *c)
{
	check_limits(d, &c[LIMITS]);
	check_removeipc(d, &c[REMOVEIPC]);
	check_ipc_ns(d, &c[IPC_NS]);
	check_futex_waitv(&c[FUTEX_WAITV]);
	check_io_uring(&c[IO_URING]);
	check_proc_files(d, &c[PROC_FILES]);
	check_segments(&c[ORPHANS], &c[REMOVING], &c[WORLD]);
}

static void print_text(const struct doc_check *c)
{
	int count[DOC_FAIL + 1] = { 0 };

	for (int i = 0; i < NCHECKS; i++) {
		printf("%-4s  %-14s ", status_names[c[i].status], c[i].name);
		fput_safe(stdout, c[i].found);
		putchar('\n');
		if (c[i].status != DOC_OK && c[i].fix[0]) {
			fputs("      fix: ", stdout);
			fput_safe(stdout, c[i].fix);
			putchar('\n');
		}
		count[c[i].status]++;
	}
	printf("\n%d fail, %d warn, %d info, %d skip, %d ok\n", count[DOC_FAIL],
	       count[DOC_WARN], count[DOC_INFO], count[DOC_SKIP], count[DOC_OK]);
}

static void print_json(const struct doc_check *c, int attention)
{
	printf("{\n  \"ok\": %s,\n  \"checks\": [", attention ? "false" : "true");
	for (int i = 0; i < NCHECKS; i++) {
		printf("%s\n    {\"name\": \"%s\", \"status\": \"%s\", \"found\": ", i ? "," : "",
		       c[i].name, status_names[c[i].status]);
		json_str(stdout, c[i].found);
		printf(", \"fix\": ");
		if (c[i].status != DOC_OK && c[i].fix[0])
			json_str(stdout, c[i].fix);
		else
			printf("null");
		printf(",\n     \"details\": {%s}}", c[i].json_buf ? c[i].json_buf : "");
	}
	printf("\n  ]\n}\n");
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "need", required_argument, NULL, 'N' },
		{ "root", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct doctor d = { .root = -1 };
	static struct doc_check checks[NCHECKS];
	const char *root = "/";
	int json = 0, c, attention = 0, i, r = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			if (parse_size(optarg, &d.need) < 0)
				return EXIT_USAGE;
			break;
		case 'R':
			root = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (optind < argc)
		return usage_error("doctor", "unexpected argument '%s'", argv[optind]);
	d.root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.root < 0)
		return usage_error("doctor", "--root '%s': %s", root, strerror(errno));
	d.euid = geteuid();

	for (i = 0; i < NCHECKS; i++) {
		checks[i].name = check_names[i];
		checks[i].json = open_memstream(&checks[i].json_buf, &checks[i].json_len);
		if (!checks[i].json) {
			err_msg("doctor", "%s", strerror(errno));
			r = EXIT_RUNTIME;
			goto out;
		}
	}
	run_checks(&d, checks);
	for (i = 0; i < NCHECKS; i++) {
		if (fclose(checks[i].json) != 0) {
			err_msg("doctor", "%s", strerror(errno));
			r = EXIT_RUNTIME;
		}
		checks[i].json = NULL;
		attention |= checks[i].status >= DOC_WARN;
	}
	if (!r) {
		if (json)
			print_json(checks, attention);
		else
			print_text(checks);
		r = finish_stdout();
	}
out:
	for (i = 0; i < NCHECKS; i++) {
		if (checks[i].json)
			fclose(checks[i].json);
		free(checks[i].json_buf);
	}
	close(d.root);
	return r ? r : attention ? EXIT_RUNTIME : 0;
}
