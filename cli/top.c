/*
 * shmkit top: every segment of this IPC namespace, refreshed, with rates
 * from the counters between refreshes. On a terminal, a full screen
 * driven by keys (cli/term.c); elsewhere plain text or JSON lines, one
 * refresh after another. What is read and how it is shown: cli/top.h.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "term.h"
#include "top.h"

#define INTERVAL_MIN_MS 50	/* reading 1,000 segments takes a few ms */
#define SCREEN_LINES_MAX 512

static void usage(void)
{
	printf("Usage: shmkit top [OPTIONS]\n"
	       "\n"
	       "Watches every System V shared memory segment of this IPC namespace,\n"
	       "refreshed: for channels, topics, inboxes and services the messages\n"
	       "and bytes written a second, fill level, lag (messages written and not\n"
	       "yet read), losses, sleeps and wakes a second, and each side's pid and\n"
	       "whether it runs; a topic's subscribers and an inbox's lanes under it;\n"
	       "for plain segments, the processes attached. Rates come from the\n"
	       "counters between two refreshes (\"-\" until there are two).\n"
	       "\n"
	       "  -i, --interval SECS  time between refreshes (default 1, at least 0.05)\n"
	       "  -n, --count N        stop after N refreshes\n"
	       "  -s, --sort KEY       msgs (default), bytes, fill, lag or name\n"
	       "  -r, --reverse        the other order (lowest first; names Z to A)\n"
	       "  -m, --match PATTERN  only names matching this shell pattern (unnamed\n"
	       "                       segments by their shmid), e.g. 'orders-*'\n"
	       "      --no-members     leave out subscribers and lanes\n"
	       "      --json           one JSON object a refresh, one a line\n"
	       "  -h, --help           this text\n"
	       "\n"
	       "On a terminal the screen is redrawn at each refresh, and keys act at once:\n"
	       "  q quit   s next sort key   r reverse   m members on/off   p or space pause\n"
	       "Elsewhere (a pipe, a file) each refresh is printed as plain text after the\n"
	       "one before, the first after one interval so that it has rates.\n"
	       "\n"
	       "Reading never slows a channel: each segment is attached read-only for a\n"
	       "moment, as 'shmkit ls' does; nothing is written into it, no lock is taken.\n"
	       "The header says how long a refresh took to read.\n");
}

/* --------------------------------------------------------------- signals */

static volatile sig_atomic_t got_stop, got_winch, got_tstp;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else if (sig == SIGTSTP)
		got_tstp = 1;
	else
		got_stop = sig;
}

/* Signals that end the screen or redraw it; no SA_RESTART: poll must wake. */
static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaction(sigs[k], &sa, NULL);
}

/* ----------------------------------------------------------------- output */

struct frame {
	char *lines[SCREEN_LINES_MAX];
	size_t n, max;		/* max: the window's rows (a tiny one cuts the header too) */
};

static void collect(const char *line, void *arg)
{
	struct frame *f = arg;

	if (f->n < f->max && (f->lines[f->n] = strdup(line)))
		f->n++;
}

static void print_line(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

static int draw(const struct top_snap *s, const struct top_view *v)
{
	struct frame f = { .n = 0 };
	size_t cols, rows;
	int r;

	term_size(&cols, &rows);
	f.max = rows < SCREEN_LINES_MAX ? rows : SCREEN_LINES_MAX;
	top_lines(s, v, cols, f.max, collect, &f);
	r = term_draw(f.lines, f.n);
	for (size_t k = 0; k < f.n; k++)
		free(f.lines[k]);
	return r;
}

/* Plain text or JSON: one refresh after the other. */
static int print_snap(const struct top_snap *s, const struct top_view *v, int json, int first)
{
	if (json) {
		top_json(stdout, s, v);
	} else {
		if (!first)
			printf("\n");
		top_lines(s, v, 0, 0, print_line, NULL);
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ keys */

/* Acts on the keys waiting on stdin; returns 1 for quit, -1 at its end. */
static int keys(struct top_view *v)
{
	char buf[64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		return -1;
	for (ssize_t k = 0; k < n; k++) {
		switch (buf[k]) {
		case 'q':
		case 'Q':
			return 1;
		case 's':
			v->sort = (v->sort + 1) % SORT_COUNT;
			break;
		case 'r':
			v->reverse = !v->reverse;
			break;
		case 'm':
			v->members = !v->members;
			break;
		case 'p':
		case ' ':
			v->paused = !v->paused;
			break;
		}
	}
	return 0;
}

/*
 * Waits until deadline (monotonic ns) or a key or signal that changes the
 * screen. Returns 1 when the deadline came, 0 to redraw now, -1 to quit.
 */
static int wait_until(uint64_t deadline, int *keys_on, struct top_view *v)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	uint64_t now;
	int ms, r;

	for (;;) {
		if (got_stop)
			return -1;
		if (got_winch || got_tstp)
			return 0;
		now = clock_ns();
		if (now >= deadline)
			return 1;
		ms = (int)((deadline - now + 999999) / 1000000);
		r = poll(&p, *keys_on ? 1 : 0, ms);
		if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			r = keys(v);
			if (r > 0)
				return -1;
			if (r < 0)
				*keys_on = 0;	/* stdin is gone: the clock and signals only */
			return 0;
		}
	}
}

/* ^Z: give the terminal back, stop, and take it again on SIGCONT. */
static int suspend(int keys_on)
{
	got_tstp = 0;
	term_leave();
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP);
	catch_signals();
	return term_enter(keys_on);
}

static int run_screen(struct top_view *v, int count)
{
	struct top_snap cur, prev;
	uint64_t next;
	int keys_on = isatty(STDIN_FILENO), err, r, done = 0;

	v->keys = keys_on;
	catch_signals();
	if (term_enter(keys_on) < 0) {
		err_msg("top", "cannot use the terminal: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	if ((err = top_read(&cur, NULL)) < 0)
		goto failed;
	next = cur.when_ns + (uint64_t)v->interval_ms * 1000000u;
	for (;;) {
		if (draw(&cur, v) < 0) {
			err = -errno;
			goto failed;
		}
		if (count && ++done >= count)
			break;
		while ((r = wait_until(next, &keys_on, v)) == 0) {
			got_winch = 0;
			if (got_tstp && suspend(keys_on) < 0) {
				err = -errno;
				goto failed;
			}
			if (draw(&cur, v) < 0) {
				err = -errno;
				goto failed;
			}
		}
		if (r < 0)
			break;
		if (v->paused) {
			next += (uint64_t)v->interval_ms * 1000000u;
			done--;		/* a paused screen is not a refresh */
			continue;
		}
		prev = cur;
		err = top_read(&cur, &prev);
		top_snap_free(&prev);
		if (err < 0)
			goto failed;
		/* from the read's start: a slow read delays the next one */
		next = cur.when_ns + (uint64_t)v->interval_ms * 1000000u;
	}
	term_leave();
	top_snap_free(&cur);
	if (got_stop) {	/* die of it, as without us, the terminal restored */
		signal(got_stop, SIG_DFL);
		raise(got_stop);
	}
	return EXIT_SUCCESS;
failed:
	term_leave();
	top_snap_free(&cur);
	err_msg("top", "%s", shmkit_strerror(err));
	return EXIT_RUNTIME;
}

static int run_plain(const struct top_view *v, int count, int json)
{
	struct top_snap cur, prev;
	uint64_t next;
	int err, done = 0;

	if ((err = top_read(&cur, NULL)) < 0)
		goto failed;
	while (!count || done < count) {
		/*
		 * An interval from the start of the last read: a read slower
		 * than the interval delays the next, and never shortens the
		 * span that its rates cover.
		 */
		next = cur.when_ns + (uint64_t)v->interval_ms * 1000000u;
		for (uint64_t now = clock_ns(); now < next; now = clock_ns()) {
			uint64_t ns = next - now;
			struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

			nanosleep(&ts, NULL);
		}
		prev = cur;
		err = top_read(&cur, &prev);
		top_snap_free(&prev);
		if (err < 0)
			goto failed;
		if (print_snap(&cur, v, json, done == 0) < 0)
			break;	/* finish_stdout says why */
		done++;
	}
	top_snap_free(&cur);
	return finish_stdout();
failed:
	err_msg("top", "%s", shmkit_strerror(err));
	return EXIT_RUNTIME;
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 's' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "match", required_argument, NULL, 'm' },
		{ "no-members", no_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct top_view v = { .sort = SORT_MSGS, .members = 1, .interval_ms = 1000 };
	uint64_t count = 0;
	int json = 0, c, key;

	while ((c = getopt_long(argc, argv, "i:n:s:rm:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_seconds("--interval", optarg, &v.interval_ms) < 0)
				return EXIT_USAGE;
			if (v.interval_ms < INTERVAL_MIN_MS)
				return usage_error("top", "--interval %s: at least 0.05 seconds",
						   optarg);
			break;
		case 'n':
			if (parse_decimal(optarg, &count) < 0 || count == 0 || count > INT32_MAX)
				return usage_error("top", "--count '%s': not a number of refreshes "
						   "from 1 to %d", optarg, INT32_MAX);
			break;
		case 's':
			if ((key = top_sort_parse(optarg)) < 0)
				return usage_error("top", "--sort '%s': one of msgs, bytes, fill, "
						   "lag, name", optarg);
			v.sort = (enum top_sort)key;
			break;
		case 'r':
			v.reverse = 1;
			break;
		case 'm':
			v.match = optarg;
			break;
		case 'M':
			v.members = 0;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (optind < argc)
		return usage_error("top", "unexpected argument '%s'", argv[optind]);
	if (!json && isatty(STDOUT_FILENO))
		return run_screen(&v, (int)count);
	return run_plain(&v, (int)count, json);
}
