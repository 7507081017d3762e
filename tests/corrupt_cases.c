/*
 * The crafted channel corruptions (corrupt_cases.h). Each case gets a
 * newly created channel, so no case depends on what another left behind.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>

#include "chan.h"
#include "corrupt_cases.h"
#include "harness.h"
#include "header.h"

static struct __shmkit_chan_hdr *hdr(struct cc_chan *ch)
{
	return (struct __shmkit_chan_hdr *)(void *)(ch->raw + SHMKIT_HDR_SIZE);
}

static void set_pos(struct cc_chan *ch, int side, uint64_t pos)
{
	atomic_store(&hdr(ch)->hot[side].pos, pos);
}

static uint64_t pos_of(struct cc_chan *ch, int side)
{
	return atomic_load(&hdr(ch)->hot[side].pos);
}

/* The record header at ring position pos: length and mark words. */
static uint32_t *rec_at(struct cc_chan *ch, uint64_t pos)
{
	return (uint32_t *)(void *)(ch->raw + SHMKIT_CHAN_RING_OFFSET + (pos & (CC_CAP - 1)));
}

static void put_rec(struct cc_chan *ch, uint64_t pos, uint32_t len, uint32_t mark)
{
	uint32_t *rec = rec_at(ch, pos);

	rec[0] = len;
	rec[1] = mark;
}

static void open_both(struct cc_chan *ch)
{
	T_OK(shmkit_chan_open(ch->name, SHMKIT_PRODUCER, &ch->p));
	T_OK(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &ch->c));
}

static void close_side(struct shmkit_chan **side)
{
	if (*side)
		T_OK(shmkit_chan_close(*side));
	*side = NULL;
}

/* Both sides refuse to open, with err. */
static void refused(struct cc_chan *ch, int err)
{
	struct shmkit_chan *x = NULL;

	T_EQ(shmkit_chan_open(ch->name, SHMKIT_PRODUCER, &x), err);
	T_EQ(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &x), err);
}

static int recv_now(struct cc_chan *ch, char *buf, size_t *len)
{
	return shmkit_chan_recv(ch->c, buf, CC_CAP, len, 0);
}

/* ------------------------------------------------------ layout */

static void bad_magic(struct cc_chan *ch)
{
	atomic_store(&hdr(ch)->magic, 0x12345678);
	refused(ch, -SHMKIT_ENOTCHAN);
}

static void bad_version(struct cc_chan *ch)
{
	hdr(ch)->version = SHMKIT_CHAN_VERSION + 1;
	refused(ch, -SHMKIT_ENOTCHAN);
	hdr(ch)->version = 99;
	refused(ch, -SHMKIT_ENOTCHAN);
}

static void bad_hdr_size(struct cc_chan *ch)
{
	hdr(ch)->hdr_size = SHMKIT_HDR_SIZE;	/* the segment header's, not ours */
	refused(ch, -SHMKIT_ENOTCHAN);
}

static void capacity_not_pow2(struct cc_chan *ch)
{
	hdr(ch)->capacity = 3 * 4096;
	refused(ch, -SHMKIT_ECORRUPT);
}

static void capacity_past_segment(struct cc_chan *ch)
{
	hdr(ch)->capacity = 2 * CC_CAP;
	hdr(ch)->max_msg = CC_CAP;
	refused(ch, -SHMKIT_ECORRUPT);
	hdr(ch)->capacity = 1ull << 40;
	hdr(ch)->max_msg = CC_MAX_MSG;
	refused(ch, -SHMKIT_ECORRUPT);
}

static void max_msg_mismatch(struct cc_chan *ch)
{
	hdr(ch)->max_msg = CC_MAX_MSG + 8;
	refused(ch, -SHMKIT_ECORRUPT);
	hdr(ch)->max_msg = CC_CAP;
	refused(ch, -SHMKIT_ECORRUPT);
}

static void bad_segment_magic(struct cc_chan *ch)
{
	ch->raw[0] ^= 0xff;
	refused(ch, -SHMKIT_ECLASH);
	ch->raw[0] ^= 0xff;
	open_both(ch);
	close_side(&ch->p);
	close_side(&ch->c);
}

/* ------------------------------------------------------ positions */

/* A tail more than a ring ahead of the head. */
static void tail_past_ring(struct cc_chan *ch)
{
	set_pos(ch, __SHMKIT_SIDE_PROD, CC_CAP + 8);
	refused(ch, -SHMKIT_ECORRUPT);
}

/*
 * A head ahead of the tail with no record there to explain it (a
 * producer's open walks the marked records from its tail). A consumer
 * accepts a tail lagging by up to a ring, as it may after a record whose
 * tail store had not landed yet; not by more.
 */
static void head_ahead_a_little(struct cc_chan *ch)
{
	set_pos(ch, __SHMKIT_SIDE_CONS, 8);
	T_EQ(shmkit_chan_open(ch->name, SHMKIT_PRODUCER, &ch->p), -SHMKIT_ECORRUPT);
	ch->p = NULL;
	T_OK(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &ch->c));
	close_side(&ch->c);
}

static void head_past_ring(struct cc_chan *ch)
{
	set_pos(ch, __SHMKIT_SIDE_CONS, CC_CAP + 16);
	refused(ch, -SHMKIT_ECORRUPT);
}

/* The same met mid-stream, by the consumer and by the producer. The
 * producer reads the head only when its cached copy says the ring is full. */
static void positions_mid_stream(struct cc_chan *ch)
{
	char buf[CC_CAP] = { 0 };
	const void *rp;
	size_t len;

	open_both(ch);
	set_pos(ch, __SHMKIT_SIDE_PROD, CC_CAP + 8);
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	T_EQ(shmkit_chan_peek(ch->c, &rp, &len, 0), -SHMKIT_ECORRUPT);
	set_pos(ch, __SHMKIT_SIDE_PROD, 12);	/* misaligned */
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	set_pos(ch, __SHMKIT_SIDE_PROD, 0);
	T_OK(shmkit_chan_send(ch->p, buf, CC_MAX_MSG, 0));
	set_pos(ch, __SHMKIT_SIDE_CONS, 2 * CC_CAP);
	T_EQ(shmkit_chan_send(ch->p, buf, CC_MAX_MSG, 0), -SHMKIT_ECORRUPT);
	set_pos(ch, __SHMKIT_SIDE_CONS, 0);
	T_EQ(shmkit_chan_send(ch->p, buf, CC_MAX_MSG, 0), -EAGAIN);
	close_side(&ch->p);
	close_side(&ch->c);
}

/*
 * A tail behind the head (wrapped counters) at position 0. A tail may lag
 * by up to a record (stored just after the header the consumer polls), so
 * a few bytes behind is no data yet; more than a ring behind is wrong, and
 * a reopened consumer refuses it until the tail is sane again.
 */
static void tail_behind_zero(struct cc_chan *ch)
{
	struct shmkit_chan *x = NULL;
	char buf[CC_CAP];
	size_t len;

	open_both(ch);
	set_pos(ch, __SHMKIT_SIDE_PROD, (uint64_t)-8);
	T_EQ(recv_now(ch, buf, &len), -EAGAIN);
	set_pos(ch, __SHMKIT_SIDE_PROD, (uint64_t)-(CC_CAP + 8));
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	close_side(&ch->c);
	T_EQ(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &x), -SHMKIT_ECORRUPT);
	T_EQ(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &x), -SHMKIT_ECORRUPT);
	set_pos(ch, __SHMKIT_SIDE_PROD, 0);
	T_OK(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &ch->c));
	close_side(&ch->p);
	close_side(&ch->c);
}

/*
 * Wrapped counters: positions just below 2^64 run through zero. Then a
 * tail behind the head: the protocol lets it lag by up to a ring, which
 * reads as no data yet; more than that, or far ahead (2^63), is corrupt.
 * A reopen refuses a tail more than a ring behind; a consumer accepts one
 * that lags less (as data_ready does).
 */
static void wrapped_counters(struct cc_chan *ch)
{
	char buf[CC_CAP];
	size_t len;

	set_pos(ch, __SHMKIT_SIDE_PROD, (uint64_t)-16);
	set_pos(ch, __SHMKIT_SIDE_CONS, (uint64_t)-16);
	open_both(ch);
	T_OK(shmkit_chan_send(ch->p, "hello", 5, 0));
	T_OK(shmkit_chan_send(ch->p, "wrapped", 7, 0));
	T_EQ(pos_of(ch, __SHMKIT_SIDE_PROD), 16);
	T_OK(recv_now(ch, buf, &len));
	T_ASSERT(len == 5 && !memcmp(buf, "hello", 5));
	T_OK(recv_now(ch, buf, &len));
	T_ASSERT(len == 7 && !memcmp(buf, "wrapped", 7));
	T_EQ(pos_of(ch, __SHMKIT_SIDE_CONS), 16);
	T_EQ(recv_now(ch, buf, &len), -EAGAIN);
	set_pos(ch, __SHMKIT_SIDE_PROD, 8);
	T_EQ(recv_now(ch, buf, &len), -EAGAIN);
	set_pos(ch, __SHMKIT_SIDE_PROD, (uint64_t)16 - CC_CAP);	/* exactly a ring behind */
	T_EQ(recv_now(ch, buf, &len), -EAGAIN);
	set_pos(ch, __SHMKIT_SIDE_PROD, (uint64_t)16 - CC_CAP - 8);
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	set_pos(ch, __SHMKIT_SIDE_PROD, 16 + (1ull << 63));
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	close_side(&ch->p);
	close_side(&ch->c);
	set_pos(ch, __SHMKIT_SIDE_PROD, (uint64_t)16 - CC_CAP - 8);
	refused(ch, -SHMKIT_ECORRUPT);
	set_pos(ch, __SHMKIT_SIDE_PROD, 8);
	T_OK(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &ch->c));
	close_side(&ch->c);
}

/*
 * A producer that died between a record's header and its tail store: the
 * record is committed (its mark shows) and may be read already. A new
 * producer must continue after it, not write over it.
 */
static void producer_died_before_tail(struct cc_chan *ch)
{
	char buf[CC_CAP];
	size_t len;

	open_both(ch);
	T_OK(shmkit_chan_send(ch->p, "first", 5, 0));
	T_OK(shmkit_chan_send(ch->p, "second", 6, 0));
	close_side(&ch->p);
	set_pos(ch, __SHMKIT_SIDE_PROD, 16);	/* after "first" only */
	T_OK(recv_now(ch, buf, &len));
	T_OK(recv_now(ch, buf, &len));
	T_EQ(len, 6);
	T_ASSERT(!memcmp(buf, "second", 6));
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_EEOF);
	/* a consumer opening now finds its head ahead of the tail: healthy */
	close_side(&ch->c);
	T_OK(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &ch->c));
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_EEOF);
	T_OK(shmkit_chan_open(ch->name, SHMKIT_PRODUCER, &ch->p));
	T_EQ(pos_of(ch, __SHMKIT_SIDE_PROD), 32);
	T_OK(shmkit_chan_send(ch->p, "third", 5, 0));
	T_OK(recv_now(ch, buf, &len));
	T_EQ(len, 5);
	T_ASSERT(!memcmp(buf, "third", 5));
	close_side(&ch->p);
	close_side(&ch->c);
}

/* ------------------------------------------------------ records */

/* A sent record's header rewritten under an open consumer: a length
 * beyond the maximum, no mark, a pad at offset 0; then put back. */
static void sent_record_rewritten(struct cc_chan *ch)
{
	char buf[CC_CAP];
	uint32_t *rec;
	size_t len;

	open_both(ch);
	T_OK(shmkit_chan_send(ch->p, "abc", 3, 0));
	rec = rec_at(ch, 0);
	rec[0] = CC_MAX_MSG + 1;
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	rec[0] = 3;
	rec[1] = 0;
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	rec[1] = SHMKIT_REC_MARK;
	rec[0] = SHMKIT_REC_PAD;	/* a pad at offset 0 is never written */
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	rec[0] = 3;
	T_OK(recv_now(ch, buf, &len));
	T_EQ(len, 3);
	close_side(&ch->p);
	close_side(&ch->c);
}

/* A length past the ring's end, in a header at its last word. */
static void length_past_ring_end(struct cc_chan *ch)
{
	char buf[CC_CAP];
	const void *rp;
	size_t len;

	set_pos(ch, __SHMKIT_SIDE_CONS, CC_CAP - 8);
	set_pos(ch, __SHMKIT_SIDE_PROD, CC_CAP - 8 + 112);
	put_rec(ch, CC_CAP - 8, 100, SHMKIT_REC_MARK);
	open_both(ch);
	T_EQ(shmkit_chan_peek(ch->c, &rp, &len, 0), -SHMKIT_ECORRUPT);
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_ECORRUPT);
	close_side(&ch->p);
	close_side(&ch->c);
}

/* Published (the tail is past it) but spoilt: open both, recv is corrupt. */
static void published_bad(struct cc_chan *ch, uint64_t tail, uint32_t len, uint32_t mark)
{
	char buf[CC_CAP];
	size_t got;

	set_pos(ch, __SHMKIT_SIDE_PROD, tail);
	put_rec(ch, 0, len, mark);
	open_both(ch);
	T_EQ(recv_now(ch, buf, &got), -SHMKIT_ECORRUPT);
	close_side(&ch->p);
	close_side(&ch->c);
}

static void length_above_max(struct cc_chan *ch)
{
	published_bad(ch, 8 + CC_MAX_MSG + 8, CC_MAX_MSG + 1, SHMKIT_REC_MARK);
}

/* A pad is never written at offset 0: it runs to the end, from elsewhere. */
static void pad_at_zero(struct cc_chan *ch)
{
	published_bad(ch, 16, SHMKIT_REC_PAD, SHMKIT_REC_MARK);
}

static void unmarked_but_published(struct cc_chan *ch)
{
	published_bad(ch, 16, 3, 0);
}

/*
 * A ring full of marked records and a tail that never moves (a forged or
 * stale ring, its writer gone): the consumer must not read the same bytes
 * for ever. At most a ring of them, then corruption.
 */
static void ring_of_marks(struct cc_chan *ch)
{
	char buf[CC_CAP];
	size_t len;
	int i;

	for (i = 0; i < (int)CC_CAP; i += 8)
		put_rec(ch, (uint64_t)i, 0, SHMKIT_REC_MARK);
	T_OK(shmkit_chan_open(ch->name, SHMKIT_CONSUMER, &ch->c));
	for (i = 0; i <= (int)CC_CAP / 8; i++) {
		int r = recv_now(ch, buf, &len);

		if (r == -SHMKIT_ECORRUPT)
			break;
		T_OK(r);
	}
	T_ASSERT(i <= (int)CC_CAP / 8);
	close_side(&ch->c);
}

/* The control: a valid stream of a few records, then end of stream. */
static void valid_stream(struct cc_chan *ch)
{
	char buf[CC_CAP];
	size_t len;
	int i;

	open_both(ch);
	for (i = 0; i < 3; i++)
		T_OK(shmkit_chan_send(ch->p, "abcdefgh", (size_t)i * 3, 0));
	close_side(&ch->p);
	for (i = 0; i < 3; i++) {
		T_OK(recv_now(ch, buf, &len));
		T_ASSERT(len == (size_t)i * 3 && !memcmp(buf, "abcdefgh", len));
	}
	T_EQ(recv_now(ch, buf, &len), -SHMKIT_EEOF);
	close_side(&ch->c);
}

const struct corrupt_case corrupt_cases[] = {
	{ "wrong channel magic: not a channel", bad_magic },
	{ "unknown version: not a channel", bad_version },
	{ "wrong hdr_size: not a channel", bad_hdr_size },
	{ "capacity not a power of two", capacity_not_pow2 },
	{ "capacity past the segment", capacity_past_segment },
	{ "max_msg that does not match the capacity", max_msg_mismatch },
	{ "segment header's magic: a clash", bad_segment_magic },
	{ "tail more than a ring ahead", tail_past_ring },
	{ "head a little ahead of the tail", head_ahead_a_little },
	{ "head more than a ring ahead", head_past_ring },
	{ "bad positions met mid-stream", positions_mid_stream },
	{ "tail behind a head at zero", tail_behind_zero },
	{ "wrapped counters, tail behind", wrapped_counters },
	{ "producer died before its tail store", producer_died_before_tail },
	{ "a sent record's header rewritten", sent_record_rewritten },
	{ "length past the ring's end", length_past_ring_end },
	{ "length above max_msg", length_above_max },
	{ "pad at offset 0", pad_at_zero },
	{ "published record without its mark", unmarked_but_published },
	{ "a ring of marks, a tail that never moves", ring_of_marks },
	{ "control: a valid stream, then end of stream", valid_stream },
};
const unsigned corrupt_ncases = sizeof(corrupt_cases) / sizeof(corrupt_cases[0]);

static void fresh(struct cc_chan *ch)
{
	memset(ch, 0, sizeof(*ch));
	t_name(ch->name, sizeof(ch->name), "corrupt");
	ch->shmid = t_track(shmkit_chan_create(ch->name, CC_CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(ch->shmid);
	ch->raw = shmat(ch->shmid, NULL, 0);
	T_ASSERT(ch->raw != (void *)-1);
}

unsigned corrupt_cases_run(void)
{
	unsigned i;

	for (i = 0; i < corrupt_ncases; i++) {
		struct cc_chan ch;

		fresh(&ch);
		corrupt_cases[i].run(&ch);
		T_ASSERT(!ch.p && !ch.c);	/* each case closes what it opened */
		shmdt(ch.raw);
		T_OK(shmkit_chan_destroy(ch.name));
	}
	return corrupt_ncases;
}
