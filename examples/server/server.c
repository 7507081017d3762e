/*
 * server: one server, many clients, request and response over a shmkit
 * service. Each request is a piece of text; the answer gives its words,
 * its bytes and its 64-bit FNV-1a hash, which the client works out too,
 * so every answer is checked.
 *
 *   server serve NAME             answers until Ctrl-C or SIGTERM, then
 *                                 removes the service and exits 0
 *   server client NAME [COUNT]    sends COUNT requests (1000 by default):
 *                                 three quarters with up to 8 out at once
 *                                 (send and recv), the rest one at a time
 *                                 (call); exits 0 if every answer was right
 *   server hang NAME              sends a few requests and never reads the
 *                                 answers: a client to kill -9
 *
 * The server sleeps while nobody asks (spin 0), and serves each client in
 * turn, so none can hold the others back. It logs each client's arrival
 * and departure: the service itself tells the server neither, so it looks
 * at the service's lanes (shmkit_inbox_info) when it has been idle for a
 * slice, at least twice a second while busy, and when a request comes
 * from a client it does not know. An answer to a client that has gone is
 * dropped by the library; the server notes it and goes on.
 */
#define _DEFAULT_SOURCE	/* sigaction, usleep, pause under strict C11 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

#define CLIENTS 16		/* clients at once */
#define LANE_BYTES (16 * 1024)	/* each client's request ring, and its reply ring */
/*
 * Requests a client keeps out at once. 8 answers fit its reply ring many
 * times over: a client that keeps to its window always has room for its
 * answers, and the server never waits on one.
 */
#define WINDOW 8
#define HANG_REQUESTS 4
#define SLICE_MS 250		/* how soon an idle server sees a signal, or a departure */
#define LOOK_NS 500000000u	/* how often a busy one looks at its lanes */
#define CLIENT_TIMEOUT_MS 10000	/* a server this late is stuck */

/* The answer to one request. */
struct answer {
	uint64_t hash;		/* FNV-1a, 64 bits, of the request's bytes */
	uint32_t words;		/* runs of characters other than space and newline */
	uint32_t bytes;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct answer analyse(const unsigned char *p, size_t len)
{
	struct answer a = { .hash = 0xcbf29ce484222325u, .bytes = (uint32_t)len };
	int in_word = 0;

	for (size_t i = 0; i < len; i++) {
		int space = p[i] == ' ' || p[i] == '\n';

		a.words += !space && !in_word;
		in_word = !space;
		a.hash = (a.hash ^ p[i]) * 0x100000001b3u;
	}
	return a;
}

/* ------------------------------------------------------------------ server */

/* What the server knows of the client on each lane, the last it saw there. */
struct lane {
	pid_t pid;		/* 0: not known (it asked, and was gone before a look) */
	uint32_t epoch;		/* its claim of the lane (from 1); 0 until it asks */
	/*
	 * The latest claim any request showed. Claims of a lane only grow,
	 * so a request under an older one, or under this one once its client
	 * has gone, is one a departed client left behind.
	 */
	uint32_t seen;
	int here;		/* 0 once it has gone */
	uint64_t answered;
};

static struct lane lanes[CLIENTS];
static int shmid;
static uint64_t clients_seen;

static const char *who(uint32_t i)
{
	static char buf[48];

	if (lanes[i].pid)
		snprintf(buf, sizeof(buf), "client %d (lane %u)", (int)lanes[i].pid, i);
	else
		snprintf(buf, sizeof(buf), "a client (lane %u)", i);
	return buf;
}

static void arrived(uint32_t i, pid_t pid, uint32_t epoch)
{
	lanes[i] = (struct lane){ .pid = pid, .epoch = epoch, .seen = lanes[i].seen, .here = 1 };
	clients_seen++;
	printf("server: %s arrived\n", who(i));
}

/* how: left (closed), died, or gone (its lane has a new client: either) */
static void departed(uint32_t i, const char *how)
{
	printf("server: %s %s after %llu request%s\n", who(i), how,
	       (unsigned long long)lanes[i].answered, lanes[i].answered == 1 ? "" : "s");
	lanes[i].here = 0;
}

/*
 * Compares what the service's lanes say now with what the server knew:
 * a lane whose client closed shows no pid, one whose client died shows it
 * dead, one taken by a new client another pid. New clients are noted as
 * they come, before their first request if they are quick to look at.
 */
static void look(void)
{
	struct shmkit_inbox_lane_info li[CLIENTS];
	struct shmkit_inbox_info info;
	pid_t pid[CLIENTS] = { 0 };
	int alive[CLIENTS] = { 0 };

	if (shmkit_inbox_info(shmid, &info, li, CLIENTS) < 0)
		return;
	for (uint32_t k = 0; k < info.listed && k < CLIENTS; k++) {
		pid[li[k].lane] = li[k].pid;
		alive[li[k].lane] = li[k].alive;
	}
	for (uint32_t i = 0; i < CLIENTS; i++) {
		if (lanes[i].here && !pid[i])
			departed(i, "left");
		else if (lanes[i].here && lanes[i].pid && pid[i] != lanes[i].pid)
			departed(i, "gone");
		else if (lanes[i].here && !alive[i])
			departed(i, "died");
		if (!lanes[i].here && pid[i] && alive[i])
			arrived(i, pid[i], 0);
	}
}

/*
 * A request from lane i, under claim epoch. A new claim is a client's
 * first request: one a look has seen already, or one not seen yet (the
 * lane may have changed hands between two looks), whose pid the lanes
 * tell. A request from a client that has gone is still answered: the
 * library drops the answer.
 */
static void note_request(uint32_t i, uint32_t epoch)
{
	if (epoch <= lanes[i].seen)
		return;
	lanes[i].seen = epoch;
	if (lanes[i].here && lanes[i].epoch == 0) {
		lanes[i].epoch = epoch;
		return;
	}
	if (lanes[i].here)
		departed(i, "gone");
	look();
	if (!lanes[i].here)	/* gone again already: no pid to tell */
		arrived(i, 0, epoch);
	lanes[i].epoch = epoch;
}

static int serve(const char *name)
{
	struct shmkit_service *srv;
	struct shmkit_request req;
	struct answer a;
	uint64_t answered = 0, dropped = 0, next_look = 0;
	const void *p;
	size_t len;
	int r, status = 1;

	/* an existing one is fine: a server killed before leaves its service */
	if ((r = shmkit_service_create(name, CLIENTS, LANE_BYTES, SHMKIT_MODE_DEFAULT, 0)) < 0) {
		fprintf(stderr, "server: %s: %s\n", name, shmkit_strerror(r));
		return 1;
	}
	shmid = r;
	if ((r = shmkit_service_open(name, 0, &srv)) < 0) {
		/* -EBUSY: another server serves it; leave that one's service be */
		fprintf(stderr, "server: %s: %s\n", name,
			r == -EBUSY ? "another server is running" : shmkit_strerror(r));
		return 1;
	}
	shmkit_service_set_spin(srv, 0);	/* idle, it costs a wake-up a slice */
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a log: each line as it happens */
	printf("server: serving %s, up to %d clients ('shmkit stat -n %s' shows them)\n", name,
	       CLIENTS, name);

	while (!stop) {
		/* a signal does not end a wait: it is seen at the slice's end */
		r = shmkit_service_peek(srv, &p, &len, &req, SLICE_MS);
		if (r == -ETIMEDOUT) {
			look();
			continue;
		}
		if (r == -SHMKIT_ECORRUPT) {	/* dropped; the others go on */
			printf("server: lane %u sent something that is no request\n", req.client);
			continue;
		}
		if (r < 0 || req.client >= CLIENTS) {
			fprintf(stderr, "server: %s\n", r < 0 ? shmkit_strerror(r) : "a lane too many");
			goto out;
		}
		note_request(req.client, req.epoch);
		/* worked out in place, in the client's ring, which is then free again */
		a = analyse(p, len);
		shmkit_service_release(srv);
		/* timeout 0: a client that reads nothing must not hold the others up */
		r = shmkit_service_reply(srv, &req, &a, sizeof(a), 0);
		if (r == 0) {
			lanes[req.client].answered++;
			answered++;
		} else {
			dropped++;
			printf("server: answer to request %llu of %s dropped: %s\n",
			       (unsigned long long)req.id, who(req.client),
			       r == -SHMKIT_EPEERDEAD ? "it died" : r == -EPIPE ? "it left" :
			       r == -EAGAIN ? "it reads no answers" : shmkit_strerror(r));
			if (r == -SHMKIT_EPEERDEAD && lanes[req.client].here &&
			    lanes[req.client].epoch == req.epoch)
				departed(req.client, "died");
		}
		if (now_ns() >= next_look) {
			look();
			next_look = now_ns() + LOOK_NS;
		}
	}
	look();
	printf("server: stopping: %llu client%s, %llu requests answered, %llu answers dropped\n",
	       (unsigned long long)clients_seen, clients_seen == 1 ? "" : "s",
	       (unsigned long long)answered, (unsigned long long)dropped);
	status = 0;
out:
	/* clients still there read what was answered, then get end of stream */
	if ((r = shmkit_service_close(srv)) < 0 || (r = shmkit_service_destroy(name)) < 0) {
		fprintf(stderr, "server: closing %s: %s\n", name, shmkit_strerror(r));
		status = 1;
	}
	return status;
}

/* ------------------------------------------------------------------ client */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

/*
 * Request number n of the client with this seed: 1 to 300 words, so
 * anywhere from a few bytes to a few kilobytes, rebuilt when its answer
 * comes instead of kept.
 */
static size_t request_text(uint64_t seed, uint64_t n, char *buf, size_t cap)
{
	static const char *const words[] = {
		"shared", "memory", "ring", "lane", "reply", "request", "futex", "page",
		"segment", "server", "client", "epoch", "a", "of", "the", "to",
	};
	uint64_t r = mix(seed ^ mix(n));
	unsigned count = 1 + (unsigned)(r % 300);
	size_t len = 0;

	for (unsigned i = 0; i < count; i++) {
		const char *w = words[(r = mix(r)) % 16];
		size_t wl = strlen(w);

		if (len + wl + 2 > cap)
			break;
		/* a newline now and then, and now and then two spaces */
		if (i)
			buf[len++] = r >> 60 == 0 ? '\n' : ' ';
		if (i && r >> 59 == 31)
			buf[len++] = ' ';
		memcpy(buf + len, w, wl);
		len += wl;
	}
	return len;
}

/* 0 if a is the right answer to request n, else 1, said on stderr. */
static int check(uint64_t seed, uint64_t n, const struct answer *a, size_t len)
{
	char text[4096];
	size_t tl = request_text(seed, n, text, sizeof(text));
	struct answer want = analyse((const unsigned char *)text, tl);

	if (len == sizeof(*a) && a->hash == want.hash && a->words == want.words &&
	    a->bytes == want.bytes)
		return 0;
	fprintf(stderr, "client: wrong answer to request %llu: %u words, %u bytes, %016llx; "
		"expected %u, %u, %016llx\n", (unsigned long long)n, a->words, a->bytes,
		(unsigned long long)a->hash, want.words, want.bytes, (unsigned long long)want.hash);
	return 1;
}

static const char *why(int r)
{
	return r == -SHMKIT_EPEERDEAD ? "the server died" :
	       r == -SHMKIT_EEOF || r == -EPIPE ? "the server stopped" :
	       r == -ENOENT ? "no server of that name" : shmkit_strerror(r);
}

/* Opens a client of name, giving a server that is starting 5 s to come. */
static int join(const char *name, struct shmkit_client **cl)
{
	int r;

	for (int tries = 0; tries < 50; tries++) {
		if ((r = shmkit_client_open(name, 0, cl)) != -ENOENT)
			break;
		usleep(100000);
	}
	if (r < 0)
		fprintf(stderr, "client: %s: %s\n", name, why(r));
	return r;
}

static int client(const char *name, uint64_t count)
{
	uint64_t seed = (uint64_t)getpid(), window = count - count / 4;
	uint64_t sent = 0, got = 0, id, start = now_ns();
	struct shmkit_client *cl;
	struct answer a;
	char text[4096];
	unsigned char *answered;
	size_t len;
	int r = 0, bad = 0;

	if (!(answered = calloc(count + 1, 1)))
		return fprintf(stderr, "client: out of memory\n"), 1;
	if (join(name, &cl) < 0)
		return free(answered), 1;
	/* with more clients than cores, spinning only takes the server's turn */
	shmkit_client_set_spin(cl, 0);

	/* up to WINDOW out at once; answers matched to requests by number */
	while (got < window && !bad) {
		while (sent < window && sent - got < WINDOW) {
			len = request_text(seed, sent + 1, text, sizeof(text));
			if ((r = shmkit_client_send(cl, text, len, &id, CLIENT_TIMEOUT_MS)) < 0)
				goto out;
			sent++;	/* the library numbers a client's requests 1, 2, 3, ... */
		}
		if ((r = shmkit_client_recv(cl, &a, sizeof(a), &len, &id, CLIENT_TIMEOUT_MS)) < 0)
			goto out;
		if (id == 0 || id > sent || answered[id]) {
			fprintf(stderr, "client: an answer to request %llu, which is not out\n",
				(unsigned long long)id);
			bad = 1;
		} else {
			bad = check(seed, id, &a, len);
			answered[id] = 1;
			got++;
		}
	}
	/* the rest one at a time: call sends one, and waits for its answer */
	for (id = window + 1; id <= count && !bad; id++) {
		len = request_text(seed, id, text, sizeof(text));
		if ((r = shmkit_client_call(cl, text, len, &a, sizeof(a), &len,
					    CLIENT_TIMEOUT_MS)) < 0)
			goto out;
		bad = check(seed, id, &a, len);
		got++;
	}
out:
	shmkit_client_close(cl);
	free(answered);
	if (r < 0)
		fprintf(stderr, "client: after %llu answers: %s\n", (unsigned long long)got, why(r));
	if (r < 0 || bad)
		return 1;
	printf("client: %llu answers checked, %llu of them with up to %d requests out, "
	       "in %llu ms\n", (unsigned long long)got, (unsigned long long)window, WINDOW,
	       (unsigned long long)((now_ns() - start) / 1000000u));
	return 0;
}

/* Asks, and never reads the answers: what a client stuck, or killed, does. */
static int hang(const char *name)
{
	struct shmkit_client *cl;
	char text[4096];
	int r;

	if (join(name, &cl) < 0)
		return 1;
	for (uint64_t n = 1; n <= HANG_REQUESTS; n++)
		if ((r = shmkit_client_send(cl, text, request_text(1, n, text, sizeof(text)), NULL,
					    CLIENT_TIMEOUT_MS)) < 0) {
			fprintf(stderr, "hang: %s\n", why(r));
			shmkit_client_close(cl);
			return 1;
		}
	printf("hang: sent %d requests, reading no answers (pid %d: kill -9 it)\n",
	       HANG_REQUESTS, (int)getpid());
	fflush(stdout);
	while (!stop)
		pause();
	shmkit_client_close(cl);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	const char *mode = argc > 1 ? argv[1] : "";
	uint64_t count = 1000;
	char *end;
	int ok = argc == 3 && (!strcmp(mode, "serve") || !strcmp(mode, "hang"));

	if (!strcmp(mode, "client") && (argc == 3 || argc == 4)) {
		ok = 1;
		if (argc == 4) {
			errno = 0;
			count = strtoull(argv[3], &end, 10);
			ok = !errno && !*end && argv[3][0] != '-' && count && count <= 100000000;
		}
	}
	if (!ok || shmkit_name_check(argv[2]) < 0) {
		fprintf(stderr, "usage: server serve NAME | server client NAME [COUNT] | "
			"server hang NAME\n");
		return 2;
	}
	if (!strcmp(mode, "client"))
		return client(argv[2], count);	/* Ctrl-C simply ends a client */
	/* no SA_RESTART: pause() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return !strcmp(mode, "serve") ? serve(argv[2]) : hang(argv[2]);
}
