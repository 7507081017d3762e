/* What shmkit send and shmkit recv share: options, opening, ending. */
#ifndef SHMKIT_CLI_STREAM_H
#define SHMKIT_CLI_STREAM_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"

#define STREAM_DEFAULT_CAPACITY (4u << 20)	/* 4 MiB ring: 2 MiB messages */

/* The options send and recv share, as their --help lists them. */
#define STREAM_HELP_CREATE \
	"  -c, --capacity SIZE     ring size when creating (default 4M)\n" \
	"  -m, --mode MODE         permissions when creating (default 0600)\n"
#define STREAM_HELP_REST \
	"      --keep              do not remove the channel at the end\n" \
	"      --shared            use the channel even if another user made it,\n" \
	"                          or its mode is wider than -m (refused otherwise:\n" \
	"                          its owner could read or forge the stream)\n" \
	"      --stats             print bytes, messages, MB/s and sleeps at the end\n" \
	"      --progress          print a live progress line on stderr\n" \
	"  -h, --help              this text\n"
#define STREAM_SLICE_MS 100	/* library waits are cut in slices to see signals */

struct stream {
	const char *cmd;	/* "send" or "recv" */
	const char *name;
	int role;		/* SHMKIT_PRODUCER or SHMKIT_CONSUMER */
	int64_t timeout_ms;	/* -1: wait for ever */
	uint64_t capacity;
	int mode;
	int keep, stats, progress, lines;
	int shared;		/* --shared: accept another user's channel */
	struct shmkit_chan *ch;
	int shmid;
	/* figures for --stats and --progress */
	uint64_t bytes, msgs, start_ns, last_report_ns;
};

/* Set by SIGINT, SIGTERM and SIGHUP: the loops stop and clean up. */
extern volatile sig_atomic_t stream_signal;

#define STREAM_GO (-1)

/*
 * Parses the options. Returns STREAM_GO to go on, or the status to exit
 * with: after --help, or 2 for bad usage (said on stderr).
 */
int stream_parse(struct stream *s, int argc, char **argv, void (*usage)(void));

/* Creates or opens the channel, takes this side. Returns 0, or 1 (said). */
int stream_open(struct stream *s);

#define STREAM_AGAIN (-1)

/*
 * Handles a library result of a wait that did not succeed: returns
 * STREAM_AGAIN to try again (a slice ran out, no signal, deadline not
 * passed), or the exit status to end with, after printing why.
 * waited_since: when this wait began, for the deadline.
 */
int stream_retry(struct stream *s, int r, uint64_t waited_since);

/* Counts a message, and draws the --progress line now and then. */
void stream_count(struct stream *s, uint64_t bytes);

/* Closes this side, prints --stats, removes the channel when both sides
 * are done (unless --keep). Returns status, or 1 if closing failed. */
int stream_end(struct stream *s, int status);


#endif
