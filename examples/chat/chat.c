/*
 * chat: the notes' server and client, done right. The server makes two
 * channels, NAME.up (client to server) and NAME.down (server to client);
 * each line the client's user types goes up, and the server answers down.
 * "quit" ends both. The channels are removed at the end whatever happens:
 * quit, end of input, Ctrl-C on either side, or the other side killed.
 *
 *   chat server NAME        then, in another terminal:   chat client NAME
 */
#define _DEFAULT_SOURCE	/* sigaction, usleep under strict C11 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shmkit.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static char up[80], down[80];
static struct shmkit_chan *rx, *tx;

/* Waits for one message in 200 ms slices, so Ctrl-C is seen promptly. */
static int receive(char *buf, size_t cap)
{
	size_t len;
	int r;

	while ((r = shmkit_chan_recv(rx, buf, cap - 1, &len, 200)) == -ETIMEDOUT && !stop)
		;
	if (r == 0)
		buf[len] = '\0';
	return stop ? -EINTR : r;
}

/* Closes both sides and removes both channels: safe to call on any path. */
static int finish(const char *why, int status)
{
	if (why)
		fprintf(stderr, "chat: %s\n", why);
	if (tx)
		shmkit_chan_close(tx);
	if (rx)
		shmkit_chan_close(rx);
	shmkit_chan_destroy(up);
	shmkit_chan_destroy(down);
	return status;
}

static int server(void)
{
	char line[1024], answer[1100];
	int r, n = 0;

	if ((r = shmkit_chan_create(up, 64 * 1024, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)) < 0 ||
	    (r = shmkit_chan_create(down, 64 * 1024, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)) < 0 ||
	    (r = shmkit_chan_open(up, SHMKIT_CONSUMER, &rx)) < 0 ||
	    (r = shmkit_chan_open(down, SHMKIT_PRODUCER, &tx)) < 0)
		return finish(shmkit_strerror(r), 1);
	printf("server: waiting on %s (type 'chat client %.*s' elsewhere)\n", up,
	       (int)(strlen(up) - 3), up);
	fflush(stdout);
	while ((r = receive(line, sizeof(line))) == 0) {
		printf("client says: %s\n", line);
		fflush(stdout);
		if (!strcmp(line, "quit")) {
			shmkit_chan_send(tx, "bye", 3, 1000);
			return finish(NULL, 0);
		}
		snprintf(answer, sizeof(answer), "message %d, %zu characters: %s", ++n,
			 strlen(line), line);
		if ((r = shmkit_chan_send(tx, answer, strlen(answer), 1000)) < 0)
			break;
	}
	return finish(r == -EINTR ? "interrupted" : r == -SHMKIT_EEOF ? "the client left" :
		      r == -SHMKIT_EPEERDEAD ? "the client died" : shmkit_strerror(r),
		      r == -SHMKIT_EEOF ? 0 : 1);
}

static int client(void)
{
	char line[1024], answer[1100];
	int r, tries;

	/*
	 * The server may still be starting: give it a few seconds. It makes
	 * "down" last, so once that opens, "up" is there too; opening "up"
	 * first and backing out would close it, which the server takes for
	 * the client leaving.
	 */
	for (tries = 0; tries < 50; tries++) {
		if ((r = shmkit_chan_open(down, SHMKIT_CONSUMER, &rx)) != -ENOENT)
			break;
		usleep(100000);
	}
	if (r == -ENOENT)
		return fprintf(stderr, "chat: no server on %s\n", up), 1;
	if (r < 0 || (r = shmkit_chan_open(up, SHMKIT_PRODUCER, &tx)) < 0) {
		/* another client's chat, say: leave the server's channels be */
		fprintf(stderr, "chat: %s\n", shmkit_strerror(r));
		if (rx)
			shmkit_chan_close(rx);
		return 1;
	}
	while (printf("> "), fflush(stdout), fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if ((r = shmkit_chan_send(tx, line, strlen(line), 1000)) < 0 ||
		    (r = receive(answer, sizeof(answer))) < 0)
			break;
		printf("server: %s\n", answer);
		if (!strcmp(line, "quit"))
			return finish(NULL, 0);
	}
	if (stop || feof(stdin)) {	/* Ctrl-C or end of input: tell the server */
		shmkit_chan_send(tx, "quit", 4, 1000);
		receive(answer, sizeof(answer));
		return finish(NULL, 0);
	}
	return finish(r == -SHMKIT_EPEERDEAD ? "the server died" : shmkit_strerror(r), 1);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (argc != 3 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    shmkit_name_check(argv[2]) < 0 || strlen(argv[2]) > 60) {
		fprintf(stderr, "usage: chat server|client NAME (NAME: up to 60 of [A-Za-z0-9._-])\n");
		return 2;
	}
	snprintf(up, sizeof(up), "%s.up", argv[2]);
	snprintf(down, sizeof(down), "%s.dn", argv[2]);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: fgets returns */
	sigaction(SIGTERM, &sa, NULL);
	return !strcmp(argv[1], "server") ? server() : client();
}
