/*
 * shmkit top, plain and JSON (the terminal: tests/cli_top_tty.c).
 *
 * Proves, with a channel, a topic (two subscribers) and an inbox (two
 * producers) streaming, each side a child process, and a plain segment a
 * child holds:
 *  - --json prints one valid JSON object a refresh (-n 2: two lines), each
 *    listing every segment: the channel with messages a second above 0
 *    and its producer and consumer by pid, alive; the topic with its two
 *    subscribers and the inbox with its two lanes as members, each with a
 *    rate above 0; the plain segment as "shm" with its holder attached;
 *    the interval between refreshes and the read time.
 *  - plain output (not a terminal) prints -n refreshes, each with a header
 *    and a row a segment, the channel's with a rate and both pids, the
 *    members under theirs; --no-members leaves them out; --match keeps
 *    only the names it matches; --sort name orders by name, -r reverses.
 *  - a side killed with SIGKILL is shown dead, in both forms.
 *  - reading writes nothing: an idle channel's segment is byte for byte
 *    the same after three refreshes, and a user who may only read it
 *    (uid 65534, mode 0644) sees its counters.
 *  - bad usage (an interval under 0.05 s, -n 0, an unknown sort key, an
 *    argument) exits 2 with one line; --help exits 0.
 *  - hostile input: a process named with terminal escapes attached to a
 *    segment is shown escaped (\x1b, and \u001b in JSON), never raw; a
 *    channel whose ring header was scribbled over is listed as a plain
 *    segment, and top exits 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"
#include "streams.h"

static char chan[64], topic[64], inbox[64];
static struct t_stream cs, ts, is;

/*
 * `shmkit top ARGS`, the words of args split at blanks, run straight (not
 * through a shell, so that valgrind follows it); must succeed. Returns
 * its output.
 */
static char *top(const char *args)
{
	char words[256], *argv[16], *save = NULL, *out, *err;
	int n = 0;

	snprintf(words, sizeof(words), "%s", args);
	argv[n++] = getenv("SHMKIT");
	argv[n++] = "top";
	for (char *w = strtok_r(words, " ", &save); w && n < 15; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	T_ASSERT(argv[0]);
	if (t_run(argv, &out, &err) != 0 || err[0])
		t_fail(__FILE__, __LINE__, "shmkit top %s: %s", args, err);
	free(err);
	return out;
}

/* jq filter (with $ch, $tp, $ib, $pp, $cp bound) true of every line of top --json. */
#define JQ_ALL(json, filter) jq_all(__LINE__, json, filter)
static void jq_all(int line, const char *json, const char *filter)
{
	static const char *f;	/* one file for every call: the harness keeps few */
	char *out, *err;
	FILE *fp;

	if (!f)
		f = t_tmpfile("top-json");
	fp = fopen(f, "w");

	T_ASSERT(fp && fputs(json, fp) >= 0 && fclose(fp) == 0);
	if (t_sh(&out, &err, "while IFS= read -r l; do printf '%%s\\n' \"$l\" | "
		 "python3 -m json.tool >/dev/null && printf '%%s\\n' \"$l\" | jq -e "
		 "--arg ch %s --arg tp %s --arg ib %s --argjson pp %d --argjson cp %d '%s' "
		 ">/dev/null || exit 1; done <%s", chan, topic, inbox, (int)cs.pid[0],
		 (int)cs.pid[1], filter, f) != 0)
		t_fail(__FILE__, line, "not true of every refresh: %s\n%s%s", filter, json, err);
	free(out);
	free(err);
}

/* The lines of text that hold word as a whole blank-separated word. */
static int lines_with(const char *text, const char *word)
{
	int n = 0;
	size_t wl = strlen(word);

	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n'), *p = l;
		size_t len = end ? (size_t)(end - l) : strlen(l);

		while ((p = memmem(p, len - (size_t)(p - l), word, wl))) {
			if ((p == l || p[-1] == ' ') && (p + wl == l + len || p[wl] == ' ')) {
				n++;
				break;
			}
			p++;
			if ((size_t)(p - l) >= len)
				break;
		}
		l = end ? end + 1 : NULL;
	}
	return n;
}

/* The (only) line holding word; fails if none or several. */
static char *line_of(const char *text, const char *word, char *buf, size_t cap)
{
	const char *l = text;
	size_t wl = strlen(word);

	T_EQ(lines_with(text, word), 1);
	for (; (l = strstr(l, word)); l++) {
		if ((l == text || l[-1] == ' ') && (l[wl] == ' ' || l[wl] == '\n' || !l[wl]))
			break;
	}
	while (l > text && l[-1] != '\n')
		l--;
	snprintf(buf, cap, "%.*s", (int)strcspn(l, "\n"), l);
	return buf;
}

static void json_form(int plain_shmid, pid_t holder)
{
	char args[160], *out;
	char filter[512];

	out = top("-n 2 -i 0.3 --json");
	/* one object a line, a line a refresh, nothing else */
	{
		int lines = 0;

		for (const char *l = out; *l; l = strchr(l, '\n') + 1, lines++)
			T_ASSERT(!strncmp(l, "{\"time\": ", 9) && strchr(l, '\n'));
		T_EQ(lines, 2);
	}
	JQ_ALL(out, ".interval_s > 0.2 and .read_ms > 0 and .count == (.segments | length)");
	JQ_ALL(out, "any(.segments[]; .name == $ch and .kind == \"channel\" and .msgs_per_s > 0 "
		    "and .sides[0].role == \"prod\" and .sides[0].pid == $pp and .sides[0].alive "
		    "and .sides[1].role == \"cons\" and .sides[1].pid == $cp and .sides[1].alive)");
	JQ_ALL(out, "any(.segments[]; .name == $tp and .kind == \"topic\" and .msgs_per_s > 0 and "
		    "(.members | length) == 2 and all(.members[]; .kind == \"sub\" and "
		    ".msgs_per_s > 0 and .sides[0].alive and .lost == 0))");
	JQ_ALL(out, "any(.segments[]; .name == $ib and .kind == \"inbox\" and .msgs_per_s > 0 and "
		    "(.members | length) == 2 and all(.members[]; .kind == \"lane\" and "
		    ".msgs_per_s > 0 and .sides[0].role == \"prod\" and .sides[0].alive))");
	snprintf(filter, sizeof(filter), "any(.segments[]; .shmid == %d and .kind == \"shm\" and "
		 ".name == null and any(.attached[]; .pid == %d))", plain_shmid, (int)holder);
	JQ_ALL(out, filter);
	free(out);
	snprintf(args, sizeof(args), "-n 1 -i 0.1 --json --no-members -m %s", topic);
	out = top(args);
	JQ_ALL(out, ".count == 1 and .segments[0].name == $tp and (.segments[0] | has(\"members\") | not)");
	free(out);
}

static void plain_form(void)
{
	char *out, row[512], pid[32];

	out = top("-n 2 -i 0.3");
	T_EQ(lines_with(out, "top"), 2);	/* "shmkit top  HH:MM:SS ...": a header a refresh */
	T_EQ(lines_with(out, "SHMID"), 2);
	free(out);
	out = top("-n 1 -i 0.3");
	line_of(out, chan, row, sizeof(row));
	T_ASSERT(lines_with(row, "channel") == 1);
	snprintf(pid, sizeof(pid), "%d", (int)cs.pid[0]);
	T_STR_CONTAINS(row, pid);
	snprintf(pid, sizeof(pid), "%d", (int)cs.pid[1]);
	T_STR_CONTAINS(row, pid);
	/* MSG/S, the fourth column: a figure above 0 */
	{
		char c[4][64];

		T_EQ(sscanf(row, "%63s %63s %63s %63s", c[0], c[1], c[2], c[3]), 4);
		T_ASSERT(strtod(c[3], NULL) > 0);
	}
	T_EQ(lines_with(out, "sub"), 2);
	T_EQ(lines_with(out, "lane"), 2);
	free(out);
	out = top("-n 1 -i 0.1 --no-members");
	T_EQ(lines_with(out, "sub"), 0);
	T_EQ(lines_with(out, "lane"), 0);
	free(out);
}

static void match_and_sort(void)
{
	char args[128], *out, *a, *b;
	const char *first = strcmp(chan, topic) < 0 ? chan : topic;
	const char *second = first == chan ? topic : chan;

	snprintf(args, sizeof(args), "-n 1 -i 0.1 --no-members -m %s", chan);
	out = top(args);
	T_EQ(lines_with(out, chan), 2);		/* the header's "match:" and its row */
	T_EQ(lines_with(out, topic), 0);
	T_EQ(lines_with(out, inbox), 0);
	T_STR_CONTAINS(out, "(1 of");
	free(out);
	out = top("-n 1 -i 0.1 --no-members --sort name");
	a = strstr(out, first);
	b = strstr(out, second);
	T_ASSERT(a && b && a < b);
	free(out);
	out = top("-n 1 -i 0.1 --no-members --sort name -r");
	a = strstr(out, first);
	b = strstr(out, second);
	T_ASSERT(a && b && a > b);
	T_STR_CONTAINS(out, "sort: name (reversed)");
	free(out);
}

static void dead_side(void)
{
	char *out, row[512], dead[32];

	kill(cs.pid[0], SIGKILL);
	t_wait(cs.pid[0]);
	out = top("-n 1 -i 0.1 --json");
	/* (the consumer ends too, having read what the producer left) */
	JQ_ALL(out, "any(.segments[]; .name == $ch and .sides[0].pid == $pp and "
		    "(.sides[0].alive | not))");
	free(out);
	out = top("-n 1 -i 0.1");
	snprintf(dead, sizeof(dead), "prod %d(dead)", (int)cs.pid[0]);
	T_STR_CONTAINS(line_of(out, chan, row, sizeof(row)), dead);
	free(out);
	cs.pid[0] = 0;
}

/* Three refreshes leave an idle channel as it was, and a reader may watch. */
static void reads_only(void)
{
	char name[64], *out, *err, filter[256];
	int shmid;
	struct shmid_ds ds;
	unsigned char *before, *p;

	t_name(name, sizeof(name), "idle");
	shmid = t_track(shmkit_chan_create(name, 65536, 0644, SHMKIT_EXCL));
	T_OK(shmid);
	T_ASSERT(shmctl(shmid, IPC_STAT, &ds) == 0);
	p = shmat(shmid, NULL, SHM_RDONLY);
	T_ASSERT(p != (void *)-1);
	T_ASSERT((before = malloc(ds.shm_segsz)));
	memcpy(before, p, ds.shm_segsz);
	free(top("-n 3 -i 0.05"));
	T_ASSERT(memcmp(before, p, ds.shm_segsz) == 0);
	free(before);
	shmdt(p);
	if (t_sh(&out, &err, "setpriv --reuid=65534 --regid=65534 --clear-groups "
		 "\"$SHMKIT\" top -n 1 -i 0.05 --json -m %s", name) != 0)
		t_fail(__FILE__, __LINE__, "top as uid 65534: %s", err);
	snprintf(filter, sizeof(filter), ".count == 1 and .segments[0].kind == \"channel\" and "
		 ".segments[0].capacity == 65536");
	JQ_ALL(out, filter);
	free(out);
	free(err);
}

#define EVIL_NAME "\033[2Jevil\a"

/* In a child: named with terminal escapes, holds the segment until killed. */
static int evil_holder(void *arg)
{
	if (prctl(PR_SET_NAME, EVIL_NAME) < 0 || shmat(*(int *)arg, NULL, SHM_RDONLY) == (void *)-1)
		return 1;
	for (;;)
		pause();
}

static void hostile(void)
{
	char name[64], *out, filter[256];
	struct shmkit_map map;
	struct shmid_ds ds;
	pid_t pid;
	int plain, chan_id;

	/* a holder whose name would clear the screen and ring the bell */
	plain = t_track(shmget(t_key(), 4096, IPC_CREAT | IPC_EXCL | 0600));
	T_ASSERT(plain >= 0);
	pid = t_fork(evil_holder, &plain);
	for (uint64_t deadline = t_now_ns() + 10000000000u;; usleep(10000)) {
		T_ASSERT(shmctl(plain, IPC_STAT, &ds) == 0);
		if (ds.shm_nattch == 1)
			break;
		T_ASSERT(t_now_ns() < deadline);
	}
	out = top("-n 1 -i 0.05 --no-members");
	T_ASSERT(!strchr(out, '\033') && !strchr(out, '\a'));
	T_STR_CONTAINS(out, "(\\x1b[2Jevil\\x07)");
	free(out);
	out = top("-n 1 -i 0.05 --json");
	T_ASSERT(!strchr(out, '\033') && !strchr(out, '\a'));
	snprintf(filter, sizeof(filter), "any(.segments[]; .shmid == %d and "
		 "any(.attached[]; .comm == \"\\u001b[2Jevil\\u0007\"))", plain);
	JQ_ALL(out, filter);
	free(out);
	kill(pid, SIGKILL);
	t_wait(pid);

	/* a channel whose ring header is garbage: listed, as a plain segment */
	t_name(name, sizeof(name), "scribbled");
	chan_id = t_track(shmkit_chan_create(name, 65536, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(chan_id);
	T_OK(shmkit_seg_attach(chan_id, 0, &map));
	memset(map.data, 0xa5, map.size < 8192 ? map.size : 8192);
	T_OK(shmkit_seg_detach(&map));
	out = top("-n 1 -i 0.05 --json");
	snprintf(filter, sizeof(filter), "any(.segments[]; .shmid == %d and .kind == \"shm\")",
		 chan_id);
	JQ_ALL(out, filter);
	free(out);
}

static void bad_usage(void)
{
	static const char *const bad[] = {
		"-i 0.01", "-n 0", "-n x", "--sort speed", "extra", "--nonsense",
	};
	char *out, *err;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		T_EQ(t_sh(&out, &err, "\"$SHMKIT\" top %s", bad[k]), 2);
		/* one line: "shmkit: ...", and nothing on stdout */
		T_ASSERT(!strncmp(err, "shmkit: ", 8) && strchr(err, '\n') == err + strlen(err) - 1);
		T_ASSERT(out[0] == '\0');
		free(out);
		free(err);
	}
	T_EQ(t_sh(&out, &err, "\"$SHMKIT\" top --help"), 0);
	T_STR_CONTAINS(out, "Usage: shmkit top");
	free(out);
	free(err);
}

int main(void)
{
	struct t_holder h;
	int plain;

	t_name(chan, sizeof(chan), "ch");
	t_name(topic, sizeof(topic), "tp");
	t_name(inbox, sizeof(inbox), "ib");
	t_chan_stream(chan, &cs);
	t_topic_stream(topic, 2, &ts);
	t_inbox_stream(inbox, 2, &is);
	plain = t_track(shmget(t_key(), 4096, IPC_CREAT | IPC_EXCL | 0600));
	T_ASSERT(plain >= 0);
	t_hold_start(&h, plain);

	bad_usage();
	json_form(plain, h.pid);
	plain_form();
	match_and_sort();
	dead_side();
	reads_only();
	hostile();

	t_hold_stop(&h);
	t_stream_stop(&cs);
	t_stream_stop(&ts);
	t_stream_stop(&is);
	printf("top: JSON and plain refreshes, members, match, sort, dead sides, read-only\n");
	return 0;
}
