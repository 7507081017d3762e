/*
 * shmkit top in a real terminal: tmux runs it in a pane (a server of the
 * test's own, on a socket in a directory of its own) while a channel and
 * a topic stream, and the test reads the screen (capture-pane) and types
 * (send-keys).
 *
 * Proves: the screen shows the header with the keys, and the channel's row
 * with a rate above 0 and both sides' pids; s moves the sort to the next
 * key ("sort: bytes"); m hides the topic's subscribers and shows them
 * again; p pauses ("PAUSED") and p resumes; after the window shrinks to
 * 90 columns every line is cut to it (a screen drawn for the old width
 * would wrap: the second line would not be the sort line); q ends top with
 * status 0 and gives the screen back (the pane's screen no longer shows
 * top). A second pane's top ends on ^C.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "streams.h"

#define WAIT_MS 10000		/* for the screen to show something */

static char sock[80];		/* the tmux server's socket */
static char dir[64];

static void stop_tmux(void)
{
	char *out, *err;

	if (!sock[0])
		return;
	t_sh(&out, &err, "tmux -S %s kill-server 2>/dev/null; rm -f %s %s/status %s/stty; rmdir %s",
	     sock, sock, dir, dir, dir);
	free(out);
	free(err);
}

/* Runs a tmux command on our server; returns its stdout (malloc'd). */
static char *tmux(const char *fmt, const char *arg)
{
	char cmd[512], *out, *err;

	snprintf(cmd, sizeof(cmd), fmt, arg);
	if (t_sh(&out, &err, "tmux -S %s %s", sock, cmd) != 0)
		t_fail(__FILE__, __LINE__, "tmux %s: %s", cmd, err);
	free(err);
	return out;
}

static char *screen(const char *pane)
{
	return tmux("capture-pane -p -t %s", pane);
}

/* Waits until the pane's screen holds text (or not, if present is 0). */
#define SCREEN_HAS(pane, text, present) screen_has(__LINE__, pane, text, present)
static char *screen_has(int line, const char *pane, const char *text, int present)
{
	uint64_t deadline = t_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	char *s;

	for (;;) {
		s = screen(pane);
		if (!strstr(s, text) == !present)
			return s;
		if (t_now_ns() > deadline)
			t_fail(__FILE__, line, "the screen %s \"%s\" after %d ms:\n%s",
			       present ? "never showed" : "still shows", text, WAIT_MS, s);
		free(s);
		usleep(50000);
	}
}

/* The screen line holding text, or NULL. */
static const char *line_with(const char *s, const char *text, char *buf, size_t cap)
{
	const char *p = strstr(s, text);

	if (!p)
		return NULL;
	while (p > s && p[-1] != '\n')
		p--;
	snprintf(buf, cap, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/* Waits until the channel's row shows a rate (MSG/S, the fourth word) above 0. */
static char *wait_for_rate(const char *pane, const char *chan, char *row, size_t cap)
{
	uint64_t deadline = t_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	char c[4][64], *s;

	for (;;) {
		s = screen(pane);
		if (line_with(s, chan, row, cap) &&
		    sscanf(row, "%63s %63s %63s %63s", c[0], c[1], c[2], c[3]) == 4 &&
		    strtod(c[3], NULL) > 0)
			return s;
		if (t_now_ns() > deadline)
			t_fail(__FILE__, __LINE__, "no rate for %s:\n%s", chan, s);
		free(s);
		usleep(50000);
	}
}

/* Subscriber rows: their name column is "  # N" */
static int sub_rows(const char *s)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, "  # ")); p++)
		n++;
	return n;
}

/* Waits until the pane has ended (within WAIT_MS). */
static void wait_dead(const char *pane)
{
	uint64_t deadline = t_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	char fmt[128], *out;
	int dead;

	/* list-panes, not display-message: a target that is gone is an error */
	snprintf(fmt, sizeof(fmt), "list-panes -t %s -F '#{pane_dead}'", pane);
	for (;;) {
		out = tmux("%s", fmt);
		dead = atoi(out);
		free(out);
		if (dead)
			return;
		if (t_now_ns() > deadline)
			t_fail(__FILE__, __LINE__, "top in %s did not end", pane);
		usleep(50000);
	}
}

/* A file the pane's shell wrote after top ended (malloc'd), or fails. */
static char *pane_file(const char *name)
{
	char path[128], *text;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		t_fail(__FILE__, __LINE__, "no %s", path);
	T_ASSERT(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0);
	T_ASSERT((text = calloc(1, (size_t)n + 1)));
	T_ASSERT(fread(text, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	unlink(path);
	return text;
}

int main(void)
{
	char chan[64], topic[64], row[512], cmd[512], *s, *out, *err;
	struct t_stream cs, ts;
	char *shmkit = realpath(getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit", NULL);

	T_ASSERT(shmkit);
	if (t_sh(&out, &err, "command -v tmux") != 0)
		t_skip("no tmux (apt-get install tmux)");
	free(out);
	free(err);
	snprintf(dir, sizeof(dir), "/tmp/shmkit-tmux-XXXXXX");
	T_ASSERT(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s", dir);
	atexit(stop_tmux);

	t_name(chan, sizeof(chan), "ch");
	t_name(topic, sizeof(topic), "tp");
	t_chan_stream(chan, &cs);
	t_topic_stream(topic, 2, &ts);

	/*
	 * The panes stay after top ends, so its status can be read. The server
	 * starts here, and would keep our output pipe open for ever: it gets
	 * /dev/null.
	 */
	snprintf(cmd, sizeof(cmd), "-f /dev/null new-session -d -s top -x 160 -y 40 "
		 "'%s top -i 0.2; echo $? >%s/status; stty -a >%s/stty; echo top-ended; "
		 "sleep 600' \\; set-window-option -g remain-on-exit on "
		 "</dev/null >/dev/null 2>&1", shmkit, dir, dir);
	free(tmux("%s", cmd));
	free(shmkit);
	shmkit = NULL;
	s = wait_for_rate("top", chan, row, sizeof(row));
	T_STR_CONTAINS(s, "shmkit top");
	T_STR_CONTAINS(s, "keys: q quit");
	snprintf(cmd, sizeof(cmd), "prod %d cons %d", (int)cs.pid[0], (int)cs.pid[1]);
	T_STR_CONTAINS(row, cmd);
	if (sub_rows(s) != 2)
		t_fail(__FILE__, __LINE__, "%d subscriber rows, not 2:\n%s", sub_rows(s), s);
	free(s);

	free(tmux("send-keys -t %s s", "top"));
	free(SCREEN_HAS("top", "sort: bytes", 1));
	free(tmux("send-keys -t %s m", "top"));
	s = SCREEN_HAS("top", "  # ", 0);
	T_EQ(sub_rows(s), 0);
	free(s);
	free(tmux("send-keys -t %s m", "top"));
	s = SCREEN_HAS("top", "  # ", 1);
	T_EQ(sub_rows(s), 2);
	free(s);
	free(tmux("send-keys -t %s p", "top"));
	free(SCREEN_HAS("top", "PAUSED", 1));
	free(tmux("send-keys -t %s p", "top"));
	free(SCREEN_HAS("top", "PAUSED", 0));

	/* a smaller window: the next frame is cut to it, nothing wraps */
	free(tmux("resize-window -t %s -x 90 -y 30", "top"));
	for (uint64_t deadline = t_now_ns() + (uint64_t)WAIT_MS * 1000000u;; usleep(50000)) {
		s = screen("top");
		if (!strncmp(s, "shmkit top", 10) && strstr(s, "\nsort: bytes") &&
		    line_with(s, chan, row, sizeof(row)) && strlen(row) <= 90)
			break;
		if (t_now_ns() > deadline)
			t_fail(__FILE__, __LINE__, "not redrawn for 90 columns:\n%s", s);
		free(s);
	}
	free(s);

	/*
	 * q: top ends with 0, and the terminal is as it was: the screen from
	 * before (the shell's line after it, and no frame of top's), keys
	 * echoed and read by line again.
	 */
	free(tmux("send-keys -t %s q", "top"));
	s = SCREEN_HAS("top", "top-ended", 1);
	if (strstr(s, "shmkit top"))
		t_fail(__FILE__, __LINE__, "the screen was not given back:\n%s", s);
	free(s);
	s = pane_file("status");
	T_EQ(atoi(s), 0);
	free(s);
	s = pane_file("stty");
	if (!strstr(s, " icanon") || strstr(s, "-icanon") || !strstr(s, " echo ") ||
	    strstr(s, "-echo "))
		t_fail(__FILE__, __LINE__, "the terminal was left raw:\n%s", s);
	free(s);

	/* ^C ends it too */
	shmkit = realpath(getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit", NULL);
	T_ASSERT(shmkit);
	snprintf(cmd, sizeof(cmd), "new-window -t top -n int 'exec %s top -i 0.2'", shmkit);
	free(shmkit);
	free(tmux("%s", cmd));
	free(SCREEN_HAS("top:int", "shmkit top", 1));
	free(tmux("send-keys -t %s C-c", "top:int"));
	wait_dead("top:int");

	t_stream_stop(&cs);
	t_stream_stop(&ts);
	printf("top in tmux: rates, sort, members, pause, resize, quit, ^C\n");
	return 0;
}
