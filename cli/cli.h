/* What the shmkit subcommands share: parsing, messages, output helpers. */
#ifndef SHMKIT_CLI_H
#define SHMKIT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "relax.h"	/* cpu_relax, shared with the library (src/) */
#include "shmkit.h"

#define EXIT_RUNTIME 1	/* the system said no */
#define EXIT_USAGE 2	/* the command line was wrong */

/* The processor, cpu count and kernel, for a benchmark's first line
 * (machine.c); and /proc/loadavg's 1-minute figure, or -1. */
void machine_line(char *buf, size_t cap);
double load_avg1(void);

/* Each subcommand: argc/argv start at the subcommand's own name. */
int cmd_mk(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_pub(int argc, char **argv);
int cmd_sub(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/*
 * Text from the system or the command line (process and user names,
 * paths, names) for a terminal, in cli/text.c: control characters and
 * bytes that are not well-formed UTF-8 become \xHH, a backslash \\.
 * safe_text fills buf (cut at a whole character if cap is short;
 * SAFE_CAP(n) always fits n bytes) and returns it; fput_safe writes to f.
 * JSON has json_str.
 */
#define SAFE_CAP(n) (4 * (n) + 1)
const char *safe_text(char *buf, size_t cap, const char *s);
void fput_safe(FILE *f, const char *s);
/* Length of the well-formed UTF-8 sequence at s (2 to 4 bytes), or 0. */
int utf8_seq(const unsigned char *s);

/*
 * The program messages begin with: "shmkit", or "shmkit-bridge" in the
 * bridge (bridge/), which shares these helpers.
 */
extern const char *err_prog;

/*
 * A line for stderr composed in buf (cap bytes, the rest cut) and written
 * with one write by line_end, so that processes sharing a log never
 * interleave inside a line: f = line_begin(buf, cap); fprintf(f, ...);
 * line_end(f, buf, cap).
 */
FILE *line_begin(char *buf, size_t cap);
void line_end(FILE *f, const char *buf, size_t cap);

/* "shmkit: <what>: <why>" on stderr, escaped as by fput_safe. */
void err_msg(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The same, pointing at --help; returns EXIT_USAGE for the caller to end
 * with. Helpers return an error and the subcommand decides: nothing below
 * a subcommand's own function exits.
 */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The last case of every subcommand's option switch: for -h/--help
 * prints usage and returns 0 (or the write error); for anything else
 * returns EXIT_USAGE, as getopt has already said why in one line.
 */
int help_or_bad_option(int opt, void (*usage)(void));

/* The longest wait or run any option takes, in seconds: a day. */
#define SECONDS_MAX 86400	/* send/recv --help and shmkit.1 say so */

/*
 * Checked parsers; each prints its own one-line error and returns -1.
 * Numbers are plain decimal digits: no sign, space or 0x (keys alone take
 * hex, and modes are octal).
 */
int parse_size(const char *text, uint64_t *size);
int parse_mode(const char *text, int *mode);
int parse_shmid(const char *text, int *shmid);
int parse_seconds(const char *what, const char *text, int64_t *ms);
/* The same rule, silent (the caller says what is wrong): 0 or -1. */
int parse_decimal(const char *text, uint64_t *v);
/* A count for option --opt of command cmd: digits within [lo, hi]. */
int parse_count(const char *cmd, const char *opt, const char *text, uint64_t lo, uint64_t hi,
		uint64_t *v);

/*
 * A segment as named on the command line: -k KEY, -p PATH[:PROJ], -n NAME
 * or a bare shmid. target_option() takes one option letter and its argument
 * (returns -1 with a message if bad); target_open() finds the shmid.
 */
struct target {
	struct shmkit_ref ref;	/* kind 0: by shmid */
	int shmid;
	char label[128];	/* how messages name it */
	char path[4096];	/* ref.path points here, so never copy a target */
};
int target_option(struct target *t, int opt, const char *arg);
int target_shmid(struct target *t, const char *arg);
int target_open(const struct target *t, const char *cmd);

/*
 * Says why named segment name was refused with -SHMKIT_EUNTRUSTED: its
 * owner and mode against mode (the one asked for), and the option that
 * accepts it anyway.
 */
void err_untrusted(const char *cmd, const char *name, int mode, const char *option);

/*
 * Human forms (cli/fmt.c). Byte sizes have one rule: three significant
 * digits and a power-of-1024 unit, "1.5 KiB" in prose and tables
 * (FMT_IEC), "1.5K" in ls's narrow columns and the units the size options
 * accept (FMT_SHORT).
 */
enum fmt_style { FMT_IEC, FMT_SHORT };
void fmt_bytes(char *buf, size_t cap, double bytes, enum fmt_style style);
/* The same rule for any base and units: v scaled by base until below it,
 * units[k] after k divisions (sep between number and a non-empty unit). */
void fmt_scaled(char *buf, size_t cap, double v, double base,
		const char *const *units, size_t nunits, const char *sep);
/* Counts and rates: the same rule with powers of 1000, "1.5k", "23M". */
void fmt_number(char *buf, size_t cap, double v);
void fmt_age(char *buf, size_t cap, int64_t seconds);
const char *state_name(int state);
void fmt_mode(char *buf, size_t cap, unsigned mode);

/* stat shows at most this many of a topic's subscribers (a topic has up to 1,024) */
#define SHMKIT_TOPIC_MAX_SUBS_SHOWN 1024

/* A topic's info and the subscribers read with it (n of info.nsubs). */
struct topic_report {
	struct shmkit_topic_info info;
	struct shmkit_topic_sub_info subs[SHMKIT_TOPIC_MAX_SUBS_SHOWN];
	size_t n;
};

/* An inbox (or a service) has up to 1,024 lanes: stat lists every one in use. */
#define SHMKIT_INBOX_LANES_SHOWN 1024

/* An inbox's info and the lanes in use read with it (n of info.listed). */
struct inbox_report {
	struct shmkit_inbox_info info;
	struct shmkit_inbox_lane_info lanes[SHMKIT_INBOX_LANES_SHOWN];
	size_t n;
};

/*
 * Reads the inbox or service with this shmid into r (0, or the library's
 * error): in cli/util.c, for ls and stat.
 */
int inbox_report_read(int shmid, struct inbox_report *r);

/* JSON output. service: the segment holds a service (from inbox_report). */
void json_str(FILE *f, const char *s);
void json_info(FILE *f, const struct shmkit_seg_info *info,
	       const struct shmkit_proc *procs, int nprocs, int partial,
	       const struct shmkit_chan_info *chan, const struct topic_report *topic,
	       const struct inbox_report *inbox, int service, const char *indent);

/* A channel's counters as one JSON object (no newline). */
void json_chan(FILE *f, const struct shmkit_chan_info *c);

/* CLOCK_MONOTONIC in nanoseconds: the programs' one clock. */
uint64_t clock_ns(void);

/* ... and in seconds, for figures computed in doubles. */
static inline double clock_s(void)
{
	return (double)clock_ns() * 1e-9;
}

/* qsort order for doubles, ascending. */
int cmp_double(const void *a, const void *b);

/* Flushes stdout and reports a write error (full disk, closed pipe). */
int finish_stdout(void);

#endif
