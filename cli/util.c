#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/*
 * Every message is escaped whole: it repeats paths and names that were
 * typed or read from the system, and none of our own texts holds a
 * control character. Longer than 8K is cut.
 */
const char *err_prog = "shmkit";

/*
 * A line for stderr, composed first in buf and written at once by
 * line_end: stderr is unbuffered, and a line put out piece by piece
 * interleaves with those of other processes sharing the same log
 * (bridges run side by side). Without memory for the stream, stderr
 * itself, piece by piece.
 */
FILE *line_begin(char *buf, size_t cap)
{
	FILE *f = fmemopen(buf, cap, "w");

	return f ? f : stderr;
}

void line_end(FILE *f, const char *buf, size_t cap)
{
	long n;

	if (f == stderr)
		return;
	n = ftell(f);
	fclose(f);
	if (n > 0)
		fwrite(buf, 1, (size_t)n < cap ? (size_t)n : cap, stderr);
}

static void vmsg(const char *what, const char *fmt, va_list ap, const char *tail)
{
	char msg[8192], line[4 * sizeof(msg) + 256];
	FILE *f;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	f = line_begin(line, sizeof(line));
	fputs(err_prog, f);
	fputs(": ", f);
	fput_safe(f, what);
	fputs(": ", f);
	fput_safe(f, msg);
	fputs(tail, f);
	line_end(f, line, sizeof(line));
}

void err_msg(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(what, fmt, ap, "\n");
	va_end(ap);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd, fmt, ap, "");
	va_end(ap);
	fprintf(stderr, " (see '%s %s --help')\n", err_prog, cmd);
	return EXIT_USAGE;
}

/*
 * The one rule for numbers on the command line: plain decimal digits,
 * nothing else. No sign, no spaces, no 0x (strtoul and strtod take all
 * three, and would let ' 1' and '0x10' through where ' 4k' is refused);
 * only keys are hex, through shmkit_key_parse. Reads the digits that
 * start s into *v; returns the end of them (s itself if there are none),
 * or NULL if they do not fit in 64 bits.
 */
static const char *read_digits(const char *s, uint64_t *v)
{
	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return NULL;
		*v = *v * 10 + d;
	}
	return s;
}

int parse_decimal(const char *text, uint64_t *v)
{
	const char *end = read_digits(text, v);

	return end && end != text && !*end ? 0 : -1;
}

int parse_count(const char *cmd, const char *opt, const char *text, uint64_t lo, uint64_t hi,
		uint64_t *v)
{
	if (parse_decimal(text, v) < 0 || *v < lo || *v > hi) {
		err_msg(cmd, "--%s: '%s': a number from %llu to %llu", opt, text,
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	return 0;
}

/* SIZE: digits, then optionally K, M, G or T (powers of 1024). */
int parse_size(const char *text, uint64_t *size)
{
	const char *s;
	uint64_t v, mult = 1;

	s = read_digits(text, &v);
	if (!s) {
		err_msg("size", "'%s': does not fit in 64 bits", text);
		return -1;
	}
	if (s == text) {
		err_msg("size", "'%s': not a number (examples: 4096, 64K, 1M, 2G)", text);
		return -1;
	}
	if (*s) {
		switch (toupper((unsigned char)*s)) {
		case 'K': mult = 1ull << 10; break;
		case 'M': mult = 1ull << 20; break;
		case 'G': mult = 1ull << 30; break;
		case 'T': mult = 1ull << 40; break;
		default: mult = 0;
		}
		if (!mult || s[1]) {
			err_msg("size", "'%s': unknown suffix '%s' (use K, M, G or T)", text, s);
			return -1;
		}
	}
	if (v > UINT64_MAX / mult) {
		err_msg("size", "'%s': does not fit in 64 bits", text);
		return -1;
	}
	if (v == 0) {
		err_msg("size", "'%s': must be at least 1 byte", text);
		return -1;
	}
	*size = v * mult;
	return 0;
}

/* Milliseconds from the decimals after the point: three, the fourth rounds. */
static int64_t decimals_ms(const char *d)
{
	int64_t ms = 0;
	int k;

	for (k = 0; k < 3; k++)
		ms = ms * 10 + (*d ? *d++ - '0' : 0);
	return ms + (*d >= '5');
}

/*
 * SECONDS: digits, optionally a point and more digits (0.5), rounded to
 * the millisecond. One rule and one range for every option that takes
 * seconds (send and recv -t, bench -d).
 */
int parse_seconds(const char *what, const char *text, int64_t *ms)
{
	uint64_t whole;
	const char *s = read_digits(text, &whole);
	int64_t v;

	if (s && s != text && whole <= SECONDS_MAX &&
	    (!*s || (*s == '.' && s[1] && !s[1 + strspn(s + 1, "0123456789")]))) {
		v = (int64_t)whole * 1000 + (*s ? decimals_ms(s + 1) : 0);
		if (v <= (int64_t)SECONDS_MAX * 1000) {
			*ms = v;
			return 0;
		}
	}
	err_msg(what, "'%s': not a number of seconds from 0 to %d (like 5 or 0.5)",
		text, SECONDS_MAX);
	return -1;
}

int parse_mode(const char *text, int *mode)
{
	unsigned long v = 0;
	const char *s = text;

	if (!*s) {
		err_msg("mode", "empty (expected octal, like 0600 or 660)");
		return -1;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '7') {
			err_msg("mode", "'%s': not octal (expected digits 0-7, like 0600)", text);
			return -1;
		}
		v = v * 8 + (unsigned long)(*s - '0');
		if (v > 0777) {
			err_msg("mode", "'%s': above 0777 (only permission bits)", text);
			return -1;
		}
	}
	*mode = (int)v;
	return 0;
}

int parse_shmid(const char *text, int *shmid)
{
	uint64_t v;

	if (parse_decimal(text, &v) < 0 || v > INT32_MAX) {
		err_msg("shmid", "'%s': not a shmid (a number from 'shmkit ls')", text);
		return -1;
	}
	*shmid = (int)v;
	return 0;
}

/* PATH[:PROJ]: the part after the last ':' is the project id if numeric. */
static int parse_path(struct target *t, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	uint64_t proj = 1;
	size_t len = strlen(arg);

	if (colon && colon[1] && !colon[1 + strspn(colon + 1, "0123456789")]) {
		if (parse_decimal(colon + 1, &proj) < 0 || proj < 1 || proj > 255) {
			err_msg("project id", "'%s': must be 1..255 (ftok keeps only 8 bits)",
				colon + 1);
			return -1;
		}
		len = (size_t)(colon - arg);
	} else if (colon && colon[1] == '\0') {
		err_msg("project id", "'%s': empty after ':'", arg);
		return -1;
	}
	if (len == 0 || len >= sizeof(t->path)) {
		err_msg("path", "'%s': %s", arg, len ? "too long" : "empty");
		return -1;
	}
	memcpy(t->path, arg, len);
	t->path[len] = '\0';
	t->ref.kind = SHMKIT_REF_PATH;
	t->ref.path = t->path;
	t->ref.proj = (int)proj;
	return 0;
}

int target_option(struct target *t, int opt, const char *arg)
{
	key_t key;

	if (t->ref.kind || t->shmid >= 0) {
		err_msg("target", "give one of -k, -p, -n or a shmid, not several");
		return -1;
	}
	snprintf(t->label, sizeof(t->label), "%s", arg);
	switch (opt) {
	case 'k':
		if (shmkit_key_parse(arg, &key) < 0) {
			err_msg("key", "'%s': not a key (decimal or 0x hex, 1..0xffffffff; 0 is IPC_PRIVATE)",
				arg);
			return -1;
		}
		t->ref.kind = SHMKIT_REF_KEY;
		t->ref.key = key;
		snprintf(t->label, sizeof(t->label), "key 0x%08x", (unsigned)key);
		return 0;
	case 'p':
		return parse_path(t, arg);
	case 'n':
		if (shmkit_name_check(arg) < 0) {
			err_msg("name", "'%s': %s", arg,
				!*arg ? "empty" :
				strlen(arg) > SHMKIT_NAME_MAX ? "longer than 63 characters" :
				"use only letters, digits, '.', '_' and '-'");
			return -1;
		}
		t->ref.kind = SHMKIT_REF_NAME;
		t->ref.name = arg;
		return 0;
	}
	return -1;
}

int target_shmid(struct target *t, const char *arg)
{
	if (t->ref.kind || t->shmid >= 0) {
		err_msg("target", "give one of -k, -p, -n or a shmid, not several");
		return -1;
	}
	snprintf(t->label, sizeof(t->label), "%s", arg);
	return parse_shmid(arg, &t->shmid);
}

/* Returns the shmid, or -1 after saying why there is none. */
int target_open(const struct target *t, const char *cmd)
{
	struct shmkit_seg_info info;
	int r;

	if (t->ref.kind == 0) {
		r = shmkit_seg_stat(t->shmid, &info);
		if (r == -EINVAL || r == -EIDRM) {
			err_msg(cmd, "%s: no segment with this shmid", t->label);
			return -1;
		}
		if (r < 0) {
			err_msg(cmd, "%s: %s", t->label, shmkit_strerror(r));
			return -1;
		}
		return t->shmid;
	}
	r = shmkit_seg_open(&t->ref);
	if (r == -ENOENT) {
		if (t->ref.kind == SHMKIT_REF_PATH && access(t->ref.path, F_OK) != 0)
			err_msg(cmd, "%s: no such file (ftok needs an existing path)", t->ref.path);
		else
			err_msg(cmd, "%s: no such segment", t->label);
		return -1;
	}
	if (r < 0) {
		err_msg(cmd, "%s: %s", t->label, shmkit_strerror(r));
		return -1;
	}
	return r;
}

int help_or_bad_option(int opt, void (*usage)(void))
{
	if (opt != 'h')
		return EXIT_USAGE;
	usage();
	return finish_stdout();
}

int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			err_msg("stdout", "%s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int inbox_report_read(int shmid, struct inbox_report *r)
{
	int err = shmkit_inbox_info(shmid, &r->info, r->lanes, SHMKIT_INBOX_LANES_SHOWN);

	r->n = err < 0 ? 0 : r->info.listed < SHMKIT_INBOX_LANES_SHOWN ? r->info.listed :
	       SHMKIT_INBOX_LANES_SHOWN;
	return err;
}
