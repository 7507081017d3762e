/*
 * What the streaming commands share: send and recv (a channel), pub and
 * sub (a topic). Options, waiting, counting; and the two pumps, standard
 * input into messages (send.c) and messages onto standard output (recv.c),
 * which move bytes the same way whichever of the two carries them.
 */
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
	const char *cmd;	/* "send", "recv", "pub" or "sub" */
	const char *peer;	/* the other side, as messages name it */
	const char *name;
	int role;		/* SHMKIT_PRODUCER (send, pub) or SHMKIT_CONSUMER */
	int64_t timeout_ms;	/* -1: wait for ever */
	uint64_t capacity;
	int mode;
	int keep, stats, progress, lines;
	int shared;		/* --shared: accept another user's channel */
	/* exactly one of these is open */
	struct shmkit_chan *ch;
	struct shmkit_pub *pub;
	struct shmkit_sub *sub;
	int shmid;
	size_t max_msg;		/* the largest message it carries */
	/*
	 * sub under the overwrite policy: messages are copied out here and
	 * checked before they are written, as a peeked one may be
	 * overwritten while it is read (NULL: read in place)
	 */
	void *copy;
	int copy_held;		/* copy holds a message taken and not yet released */
	size_t copy_len;
	/* figures for --stats and --progress */
	uint64_t bytes, msgs, start_ns, last_report_ns;
};

/* Set by SIGINT, SIGTERM and SIGHUP: the loops stop and clean up. */
extern volatile sig_atomic_t stream_signal;

#define STREAM_GO (-1)

/*
 * Parses send's and recv's options. Returns STREAM_GO to go on, or the
 * status to exit with: after --help, or 2 for bad usage (said on stderr).
 */
int stream_parse(struct stream *s, int argc, char **argv, void (*usage)(void));

/* The long options every streaming command takes, for its getopt table,
 * and what they set: stream_option returns 1 if it took opt (-1 if its
 * argument was bad, said), 0 if opt is not one of them. It also takes
 * 'm' (--mode) and 'k' (--keep), which only the commands that may create
 * or remove list in their tables. */
#define STREAM_LONG_OPTIONS \
	{ "timeout", required_argument, NULL, 't' }, \
	{ "stats", no_argument, NULL, 's' }, \
	{ "progress", no_argument, NULL, 'p' }, \
	{ "lines", no_argument, NULL, 'l' }, \
	{ "shared", no_argument, NULL, 'S' }, \
	{ "help", no_argument, NULL, 'h' }
int stream_option(struct stream *s, int opt, const char *arg);

/* The one NAME after the options: STREAM_GO, or EXIT_USAGE (said). what:
 * "channel" or "topic". */
int stream_name(struct stream *s, int argc, char **argv, const char *what);

/* Catches SIGINT, SIGTERM and SIGHUP into stream_signal; ignores SIGPIPE. */
void stream_signals(void);

/* Sleeps ms milliseconds unless a signal comes: 0, or 128 + the signal. */
int stream_nap(int ms);

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

/* "shmkit: CMD: NAME: N bytes ... MB/s" and end, on stderr. */
void stream_report(struct stream *s, const char *end);

/* The pumps: standard input into messages until its end (send.c), and
 * messages onto standard output until end of stream (recv.c); 0, or the
 * status to end with (said). A closed standard output ends quietly
 * with *broken_pipe set. */
int stream_pump_in(struct stream *s);
int stream_pump_out(struct stream *s, int *broken_pipe);

/* The library calls for whichever of channel, publisher or subscriber s
 * holds, with their results. */
int stream_reserve(struct stream *s, size_t len, void **ptr, int timeout_ms);
void stream_commit(struct stream *s, size_t used);
int stream_peek(struct stream *s, const void **ptr, size_t *len, int timeout_ms);
void stream_release(struct stream *s);

/*
 * Topics (cli/topic_side.c), for pub, sub and the bridge's --topic. The
 * shape options a publisher that creates takes, as getopt codes; which
 * of them were given (an existing topic must match those).
 */
#define TOPIC_DEFAULT_MAX_MSG (64u << 10)	/* 64 slots of 64 KiB: 4 MiB, as a channel */
#define TOPIC_DEFAULT_SLOTS 64
#define TOPIC_DEFAULT_MAX_SUBS 64
enum { TOPIC_OPT_MAX_MSG = 0x400, TOPIC_OPT_SLOTS, TOPIC_OPT_MAX_SUBS, TOPIC_OPT_HISTORY,
       TOPIC_OPT_POLICY };
enum { TOPIC_GAVE_MAX_MSG = 1, TOPIC_GAVE_SLOTS = 2, TOPIC_GAVE_MAX_SUBS = 4,
       TOPIC_GAVE_HISTORY = 8, TOPIC_GAVE_POLICY = 16 };
#define TOPIC_SHAPE_LONG_OPTIONS \
	{ "max-msg", required_argument, NULL, TOPIC_OPT_MAX_MSG }, \
	{ "slots", required_argument, NULL, TOPIC_OPT_SLOTS }, \
	{ "max-subs", required_argument, NULL, TOPIC_OPT_MAX_SUBS }, \
	{ "history", required_argument, NULL, TOPIC_OPT_HISTORY }, \
	{ "policy", required_argument, NULL, TOPIC_OPT_POLICY }
#define TOPIC_HELP_SHAPE \
	"      --max-msg SIZE      the largest message (default 64K)\n" \
	"      --slots N           messages it holds, rounded up to a power of two,\n" \
	"                          at least 4 (default 64)\n" \
	"      --max-subs N        subscribers at once, 1 to 1024 (default 64)\n" \
	"      --history N         how many messages back a new subscriber may start\n" \
	"                          ('shmkit sub --from oldest'); at most slots - 2\n" \
	"                          (default 0)\n" \
	"      --policy POLICY     when the slowest subscriber is a whole topic behind:\n" \
	"                          block      wait for it (default; one that dies\n" \
	"                                     holds the publisher back at most ~20 ms)\n" \
	"                          overwrite  never wait: it loses the oldest\n" \
	"                                     messages, and is told how many\n"

struct topic_shape {
	struct shmkit_topic_params tp;
	unsigned gave;		/* TOPIC_GAVE_* */
};

void topic_shape_init(struct topic_shape *t);
/* 1 if it took opt, -1 if its argument was bad (said), 0 if not one of them. */
int topic_shape_option(const char *cmd, struct topic_shape *t, int opt, const char *arg);
/* Rounds the slots up as the library will; -1 (said) for a shape it refuses. */
int topic_shape_check(const char *cmd, struct topic_shape *t);
/* Creates the topic or opens the one there (of the shape asked for) and
 * takes the publisher's place; 0, or the status to exit with (said). */
int topic_open_pub(struct stream *s, struct topic_shape *t);
/* Until want live subscribers hold a place (looking every
 * TOPIC_WAIT_SUBS_MS), within s->timeout_ms; 0, or the status (said). */
#define TOPIC_WAIT_SUBS_MS 10
int topic_wait_subs(struct stream *s, uint64_t want);
/* Closes (on failure, aborts) the publisher's place, says --stats, removes
 * the topic unless --keep or it keeps a history; the status to exit with. */
int topic_end_pub(struct stream *s, int status, uint32_t history);
/* Takes a subscriber's place (flags: SHMKIT_FROM_OLDEST, SHMKIT_SHARED),
 * waiting for the topic to appear within s->timeout_ms; 0, or the status
 * (said). A failure after the place was taken leaves s->sub to end. */
int topic_join(struct stream *s, unsigned flags);
/* Leaves the place, says what was lost and --stats; the status to exit with. */
int topic_end_sub(struct stream *s, int status);

/* Ends as a process whose output pipe closed: as cat would (SIGPIPE). */
void stream_die_of_sigpipe(void);

/* Closes this side, prints --stats, removes the channel when both sides
 * are done (unless --keep). Returns status, or 1 if closing failed. */
int stream_end(struct stream *s, int status);


#endif
