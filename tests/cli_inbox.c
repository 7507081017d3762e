/*
 * shmkit ls, stat, rm and gc on inboxes and services.
 *
 * Proves: ls marks an inbox ",inbox" and a service ",service"; stat shows
 * an inbox's shape, its consumer by pid (and closed once it closed), the
 * producers holding lanes, the totals, and one row per lane in use with
 * the producer's pid and running, gone (SIGKILLed holding its lane) or
 * closed, the bytes queued and the messages sent and received; a service
 * is shown with "service", "server", "clients", its replies, and the
 * reply ring's columns; stat --json is valid JSON with the same figures
 * ("inbox", "service", "inbox_info" and its "lanes"), and ls --json says
 * which kind each is. rm refuses an inbox still attached and removes it
 * once left; gc keeps an inbox or a service whose messages wait for a
 * consumer that is not there (pending, unread messages shown by ls), and
 * removes it once it is drained and orphaned.
 *
 * Segments whose orphan state is checked are made and used in children
 * that exit: this live process never attaches them.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TOKS 12

/* Runs `shmkit stat -n name`; must succeed. */
static char *stat_text(const char *name)
{
	char *out, *err;

	if (t_cli(&out, &err, "stat", "-n", name, NULL) != 0 || err[0])
		t_fail(__FILE__, __LINE__, "shmkit stat -n %s: %s", name, err);
	free(err);
	return out;
}

/*
 * The row of lane in stat's table of lanes, split at spaces into toks
 * (up to MAX_TOKS); fails if there is none.
 */
#define LANE_ROW(out, lane, toks) lane_row(__FILE__, __LINE__, out, lane, toks)
static int lane_row(const char *file, int line, const char *out, unsigned lane,
		    char toks[MAX_TOKS][32])
{
	const char *p = strstr(out, "\n    ");

	for (; p; p = strchr(p + 1, '\n')) {
		char row[256], *save = NULL, *t;
		size_t len = strcspn(p + 1, "\n");
		int n = 0;

		snprintf(row, sizeof(row), "%.*s", (int)len, p + 1);
		t = strtok_r(row, " ", &save);
		if (!t || strspn(t, "0123456789") != strlen(t) || (unsigned)atoi(t) != lane)
			continue;
		for (; t && n < MAX_TOKS; t = strtok_r(NULL, " ", &save))
			snprintf(toks[n++], sizeof(toks[0]), "%s", t);
		return n;
	}
	t_fail(file, line, "no row for lane %u in: %s", lane, out);
}

/* Asserts the row's columns from the first: NULL skips one. */
#define ROW_IS(toks, n, ...) row_is(__FILE__, __LINE__, toks, n, \
				    (const char *[]){ __VA_ARGS__ }, \
				    sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *))
static void row_is(const char *file, int line, char toks[MAX_TOKS][32], int n,
		   const char **want, size_t nwant)
{
	if ((size_t)n != nwant)
		t_fail(file, line, "a lane row of %d columns, expected %zu", n, nwant);
	for (size_t i = 0; i < nwant; i++)
		if (want[i] && strcmp(toks[i], want[i]) != 0)
			t_fail(file, line, "column %zu is '%s', expected '%s'", i, toks[i],
			       want[i]);
}

/* The line of `shmkit ls` that names name (fails if none). */
static char *ls_line(const char *name)
{
	char *out, *err, *p, *line = NULL, want[80];

	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	snprintf(want, sizeof(want), " %s ", name);
	if ((p = strstr(out, want))) {
		while (p > out && p[-1] != '\n')
			p--;
		line = strndup(p, strcspn(p, "\n"));
	}
	if (!line)
		t_fail(__FILE__, __LINE__, "ls has no line for %s: %s", name, out);
	free(out);
	free(err);
	return line;
}

/*
 * `shmkit stat --json -n name` must be valid JSON (python3's strict
 * parser) for which jq filter is true; ls --json as well for ls_filter,
 * given $n bound to the name.
 */
#define JSON_TRUE(name, filter, ls_filter) json_true(__FILE__, __LINE__, name, filter, ls_filter)
static void json_true(const char *file, int line, const char *name, const char *filter,
		      const char *ls_filter)
{
	const char *f = t_tmpfile("inbox-json");
	char *out, *err;

	if (t_sh(&out, &err, "\"$SHMKIT\" stat --json -n %s >%s && python3 -m json.tool %s "
		 ">/dev/null && jq -e '%s' %s >/dev/null && \"$SHMKIT\" ls --json >%s && "
		 "python3 -m json.tool %s >/dev/null && jq -e --arg n %s '%s' %s >/dev/null",
		 name, f, f, filter, f, f, f, name, ls_filter, f) != 0)
		t_fail(file, line, "stat --json of %s: '%s' or '%s' not true: %s%s",
		       name, filter, ls_filter, out, err);
	free(out);
	free(err);
}

/* In a child: joins inbox (or service) name, sends one message, and dies holding the lane. */
static int join_and_die(void *arg)
{
	struct shmkit_client *cl;
	struct shmkit_chan *p;
	const char *name = arg;

	if (shmkit_inbox_join(name, 0, &p) == 0) {
		if (shmkit_chan_send(p, "bye", 3, 0) < 0)
			return 1;
	} else if (shmkit_client_open(name, 0, &cl) < 0 ||
		   shmkit_client_send(cl, "ask", 3, NULL, 0) < 0) {
		return 2;
	}
	raise(SIGKILL);
	return 3;
}

static void inbox_shown(void)
{
	struct shmkit_chan *p;
	struct shmkit_inbox *ib;
	char name[64], want[128], filter[1024], toks[MAX_TOKS][32], me[16], dead[16];
	char buf[64], *out, *line;
	size_t len;
	pid_t child;
	int n;

	t_name(name, sizeof(name), "cli-ib");
	T_OK(t_track(shmkit_inbox_create(name, 4, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(shmkit_inbox_join(name, 0, &p));	/* lane 0: this process */
	for (int k = 0; k < 3; k++)
		T_OK(shmkit_chan_send(p, "hello", 5, 0));
	child = t_fork(join_and_die, name);	/* lane 1: a producer that dies */
	T_EQ(t_wait(child), 128 + SIGKILL);
	T_OK(shmkit_inbox_open(name, 0, &ib));
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	snprintf(me, sizeof(me), "%d", (int)getpid());
	snprintf(dead, sizeof(dead), "%d", (int)child);

	line = ls_line(name);
	T_STR_CONTAINS(line, " in-use,inbox");
	free(line);

	out = stat_text(name);
	T_STR_CONTAINS(out, "\ninbox:        4 lanes of 4K, messages up to 2048 bytes\n");
	snprintf(want, sizeof(want), "\n  consumer:   pid %s (running)\n", me);
	T_STR_CONTAINS(out, want);
	T_STR_CONTAINS(out, "\n  producers:  2 holding a lane\n");	/* the dead one's too */
	T_STR_CONTAINS(out, "\n  sent:       4 messages, 18 bytes\n");
	T_STR_CONTAINS(out, "\n  received:   1 messages, 5 bytes; 48 bytes waiting\n");
	T_STR_CONTAINS(out, "\n  lanes:      2 in use\n");
	/* LANE PID STATE QUEUED SENT RECEIVED SLEEPS WAKES; a record is 8 + 8 bytes */
	n = LANE_ROW(out, 0, toks);
	ROW_IS(toks, n, "0", me, "running", "32", "3", "1", NULL, NULL);
	n = LANE_ROW(out, 1, toks);
	ROW_IS(toks, n, "1", dead, "gone", "16", "1", "0", NULL, NULL);
	T_ASSERT(!strstr(out, "REPLY") && !strstr(out, "server") && !strstr(out, "service"));
	free(out);

	snprintf(filter, sizeof(filter),
		 ".inbox and (.service | not) and (.channel | not) and (.topic | not) and "
		 ".inbox_info.lane_count == 4 and .inbox_info.lane_capacity == 4096 and "
		 ".inbox_info.max_msg == 2048 and .inbox_info.used == 48 and "
		 ".inbox_info.sent_msgs == 4 and .inbox_info.recv_msgs == 1 and "
		 ".inbox_info.producer_count == 2 and .inbox_info.consumer_pid == %s and "
		 ".inbox_info.consumer_alive and (.inbox_info.consumer_closed | not) and "
		 "(.inbox_info.lanes | length) == 2 and "
		 ".inbox_info.lanes[0] == {lane: 0, pid: %s, alive: true, used: 32, sent_msgs: 3, "
		 "sent_bytes: 15, recv_msgs: 1, recv_bytes: 5, sleeps: 0, wakes: 0} and "
		 ".inbox_info.lanes[1].lane == 1 and .inbox_info.lanes[1].pid == %s and "
		 "(.inbox_info.lanes[1].alive | not) and .inbox_info.lanes[1].used == 16",
		 me, me, dead);
	JSON_TRUE(name, filter,
		  "[.[] | select(.name == $n) | [.inbox, .service]] == [[true, false]]");

	/* the consumer closes, then the producer: both said, the messages wait */
	T_OK(shmkit_inbox_close(ib));
	T_OK(shmkit_chan_close(p));
	out = stat_text(name);
	T_STR_CONTAINS(out, "\n  consumer:   closed\n");
	T_STR_CONTAINS(out, "\n  producers:  1 holding a lane\n");
	n = LANE_ROW(out, 0, toks);
	ROW_IS(toks, n, "0", "-", "closed", "32", "3", "1", NULL, NULL);
	free(out);
	JSON_TRUE(name, ".inbox_info.consumer_pid == 0 and .inbox_info.consumer_closed and "
		  ".inbox_info.lanes[0].pid == 0 and .inbox_info.producer_count == 1", ".");
	T_OK(shmkit_inbox_destroy(name));
}

static void service_shown(void)
{
	struct shmkit_service *srv;
	struct shmkit_client *cl;
	struct shmkit_request req;
	char name[64], want[128], filter[1024], toks[MAX_TOKS][32], me[16], dead[16];
	char buf[64], *out, *line;
	size_t len;
	pid_t child;
	int n;

	t_name(name, sizeof(name), "cli-svc");
	T_OK(t_track(shmkit_service_create(name, 2, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(shmkit_service_open(name, 0, &srv));
	T_OK(shmkit_client_open(name, 0, &cl));	/* lane 0: this process */
	T_OK(shmkit_client_send(cl, "ping", 4, NULL, 0));
	T_OK(shmkit_client_send(cl, "ping", 4, NULL, 0));
	for (int k = 0; k < 2; k++) {
		T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
		T_OK(shmkit_service_reply(srv, &req, "pong", 4, 0));
	}
	T_OK(shmkit_client_recv(cl, buf, sizeof(buf), &len, NULL, 0));
	child = t_fork(join_and_die, name);	/* lane 1: a client that dies asking */
	T_EQ(t_wait(child), 128 + SIGKILL);
	snprintf(me, sizeof(me), "%d", (int)getpid());
	snprintf(dead, sizeof(dead), "%d", (int)child);

	line = ls_line(name);
	T_STR_CONTAINS(line, " in-use,service");
	free(line);

	out = stat_text(name);
	T_STR_CONTAINS(out, "\nservice:      2 lanes of 4K each way, requests and replies up to "
		       "2032 bytes\n");
	snprintf(want, sizeof(want), "\n  server:     pid %s (running)\n", me);
	T_STR_CONTAINS(out, want);
	T_STR_CONTAINS(out, "\n  clients:    2 holding a lane\n");
	T_STR_CONTAINS(out, "\n  sent:       3 requests, 11 bytes\n");
	T_STR_CONTAINS(out, "\n  received:   2 requests, 8 bytes; 32 bytes waiting\n");
	/* a reply record: 8, the 16-byte header, "pong" and padding */
	T_STR_CONTAINS(out, "\n  replies:    2 sent, 1 read; 32 bytes waiting\n");
	T_STR_CONTAINS(out, " REPLY-QUEUED ");
	/* ... SLEEPS WAKES REPLY-QUEUED REPLIED READ */
	n = LANE_ROW(out, 0, toks);
	ROW_IS(toks, n, "0", me, "running", "0", "2", "2", NULL, NULL, "32", "2", "1");
	n = LANE_ROW(out, 1, toks);
	ROW_IS(toks, n, "1", dead, "gone", "32", "1", "0", NULL, NULL, "0", "0", "0");
	T_ASSERT(!strstr(out, "consumer") && !strstr(out, "producer"));
	free(out);

	snprintf(filter, sizeof(filter),
		 ".inbox and .service and .inbox_info.lane_count == 2 and "
		 ".inbox_info.max_msg == 2032 and .inbox_info.consumer_pid == %s and "
		 ".inbox_info.consumer_alive and .inbox_info.sent_msgs == 3 and "
		 "(.inbox_info.lanes | length) == 2 and .inbox_info.lanes[0].pid == %s and "
		 ".inbox_info.lanes[0].sent_bytes == 8 and .inbox_info.lanes[0].replies_used == 32 "
		 "and .inbox_info.lanes[0].replies_sent == 2 and "
		 ".inbox_info.lanes[0].replies_read == 1 and .inbox_info.lanes[1].pid == %s and "
		 "(.inbox_info.lanes[1].alive | not) and .inbox_info.lanes[1].replies_sent == 0",
		 me, me, dead);
	JSON_TRUE(name, filter,
		  "[.[] | select(.name == $n) | [.inbox, .service]] == [[true, true]]");

	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_service_close(srv));
	T_OK(shmkit_service_destroy(name));
}

/* rm: an inbox still attached is refused by name, and removed once left. */
static void rm_inbox(void)
{
	struct shmkit_chan *p;
	char name[64], *out, *err;

	t_name(name, sizeof(name), "cli-rm");
	T_OK(t_track(shmkit_inbox_create(name, 2, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(shmkit_inbox_join(name, 0, &p));
	T_EQ(t_cli(&out, &err, "rm", "-n", name, NULL), 1);
	T_STR_CONTAINS(err, "still attached by 1 process");
	T_ASSERT(t_name_exists(name));
	free(out);
	free(err);
	T_OK(shmkit_chan_close(p));
	T_EQ(t_cli(&out, &err, "rm", "-n", name, NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(!t_name_exists(name));
	free(out);
	free(err);
}

/* ---------------------------------------------------------------- gc */

struct left {
	char name[64];
	int service;
};

/* In a child: makes the inbox or service, sends two messages, and leaves. */
static int send_and_leave(void *arg)
{
	struct left *l = arg;
	struct shmkit_client *cl;
	struct shmkit_chan *p;

	if (l->service) {
		if (shmkit_service_create(l->name, 2, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL) < 0 ||
		    shmkit_client_open(l->name, 0, &cl) < 0 ||
		    shmkit_client_send(cl, "one", 3, NULL, 0) < 0 ||
		    shmkit_client_send(cl, "two", 3, NULL, 0) < 0)
			return 1;
		return shmkit_client_close(cl) < 0 ? 2 : 0;
	}
	if (shmkit_inbox_create(l->name, 2, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL) < 0 ||
	    shmkit_inbox_join(l->name, 0, &p) < 0 || shmkit_chan_send(p, "one", 3, 0) < 0 ||
	    shmkit_chan_send(p, "two", 3, 0) < 0)
		return 1;
	return shmkit_chan_close(p) < 0 ? 2 : 0;
}

/* In a child: reads both messages as the consumer (or server), and leaves. */
static int drain(void *arg)
{
	struct left *l = arg;
	struct shmkit_service *srv;
	struct shmkit_inbox *ib;
	struct shmkit_request req;
	char buf[16];
	size_t len;

	if (l->service) {
		if (shmkit_service_open(l->name, 0, &srv) < 0)
			return 1;
		for (int k = 0; k < 2; k++)
			if (shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0) < 0)
				return 2;
		return shmkit_service_close(srv) < 0 ? 3 : 0;
	}
	if (shmkit_inbox_open(l->name, 0, &ib) < 0)
		return 1;
	for (int k = 0; k < 2; k++)
		if (shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0) < 0)
			return 2;
	return shmkit_inbox_close(ib) < 0 ? 3 : 0;
}

/* Does gc's output (or --dry-run's) have the line "<verb> <shmid> "? */
static int gc_lists(const char *out, const char *verb, int shmid)
{
	char want[64];
	int n = snprintf(want, sizeof(want), "%s %d ", verb, shmid);

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, want, (size_t)n) == 0)
			return 1;
	return 0;
}

static void gc_keeps_pending(int service)
{
	struct left l = { .service = service };
	char *out, *err, *line;
	int shmid;

	t_name(l.name, sizeof(l.name), service ? "gc-svc" : "gc-ib");
	T_EQ(t_wait(t_fork(send_and_leave, &l)), 0);
	shmid = t_track(shmget(shmkit_name_key(l.name), 0, 0));	/* shmget does not attach */
	T_OK(shmid);

	/* nobody attached, creator gone, two messages for a consumer to come */
	line = ls_line(l.name);
	T_STR_CONTAINS(line, service ? " pending(2 msgs 6B),service" : " pending(2 msgs 6B),inbox");
	free(line);
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(!gc_lists(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));
	/* an age for pending ones makes it garbage (only looked at here) */
	T_EQ(t_cli(&out, &err, "gc", "--dry-run", "--pending", "0", NULL), 0);
	T_ASSERT(gc_lists(out, "would remove", shmid));
	free(out);
	free(err);

	/* read, and left by its reader: an orphan like any other, and gc takes it */
	T_EQ(t_wait(t_fork(drain, &l)), 0);
	line = ls_line(l.name);
	T_STR_CONTAINS(line, service ? " orphan,service" : " orphan,inbox");
	free(line);
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(gc_lists(out, "removed", shmid));
	T_STR_CONTAINS(out, l.name);
	free(out);
	free(err);
	T_ASSERT(!t_shmid_exists(shmid));
}

int main(void)
{
	inbox_shown();
	service_shown();
	rm_inbox();
	gc_keeps_pending(0);
	gc_keeps_pending(1);
	return 0;
}
