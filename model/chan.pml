/*
 * A Promela model of the shmkit channel ring protocol (src/chan.c).
 *
 * One producer and one consumer share a small ring and a handful of
 * control words. Every load or store of a shared word is one step of the
 * model (a d_step or atomic around it holds only that access plus the
 * private computation next to it), so spin interleaves the two sides at
 * the grain the CPUs do. The functions of src/chan.c appear as inlines
 * of the same name; README.md maps each step to its C function and
 * protocol label (P1, C1, C2, P2, S1, S2).
 *
 * Units. A ring word is 8 bytes in C and one cell of `mem` here. A record
 * is a header word and then `len` payload words; the producer also owns
 * the word after the record (REC_END_WORD). The ring has CAP words, so
 * max_msg = CAP/2 words, as max_msg = capacity/2 bytes in C.
 *
 * Memory model. spin is sequentially consistent; every configuration of
 * check.sh adds one of the two memory models of mem.pml, each side on a
 * cpu of its own. With -DTSO each side has an x86-TSO store buffer: each
 * of its stores (ring words, tail or head, sleeping, closed, owner)
 * reaches memory later, in order; a full barrier (smp_mb) and every
 * locked read-modify-write (the exchange and fetch_add in wake_peer, the
 * seq_cst store in close, the CAS in claim) wait until the buffer is
 * empty. So the one reordering x86 allows is modelled: a load overtaking
 * an earlier store, which is what the S1/S2 handshake must defeat. The
 * reorderings weaker machines add (store-store, load-load, load-store, as
 * on Armv8) are the weak model's, -DWMM: there each access keeps its C11
 * ordering, and a mutant can weaken any one of them. Buffers are deep
 * enough never to fill (BUF, asserted), so no store waits for room and
 * no reordering is lost to a shallow buffer. A restarted side runs on
 * its predecessor's cpu; owner.pml hands a side to another cpu.
 *
 * Sequentially consistent alone, the Dekker handshake holds even without
 * its barriers, which is why no check runs without a memory model.
 *
 * Crashes (-DCRASH_P, -DCRASH_C). A Killer process may, at any moment,
 * kill one side: that side's `unless` escape then runs before its next
 * step, whatever the step, even while it is blocked in futex_wait. Its
 * buffered stores still reach memory (retired stores are never dropped,
 * and a kill goes through the kernel); its private state is lost, its
 * futex wait ends, and /proc no longer shows it. A new process then
 * opens that side (shmkit_chan_open) and carries on.
 *
 * Ghost variables (names start with g_) only observe; the protocol reads
 * none of them except g_alive, which stands for the /proc lookup.
 */

/*
 * -DSMALL: an 8-word ring and small messages (1, 0, 2, 1, 3, 0, 1, 2
 * payload words), so that records follow each other on the fast path,
 * with the cached head, for most of a lap (README, configurations).
 */
#ifdef SMALL
#define CAP 8
#define LEN(i) ((i) == 0 -> 1 : ((i) == 1 -> 0 : ((i) == 2 -> 2 : ((i) == 3 -> 1 : \
	((i) == 4 -> 3 : ((i) == 5 -> 0 : ((i) == 6 -> 1 : 2)))))))
#endif
/*
 * -DAHEAD: read-ahead (shmkit_chan_peek_ahead): the consumer holds up to
 * HOLD records (default 2) before it releases the oldest (see the
 * Consumer below). With the messages above, two records never fit
 * together in the 4-word ring, so read-ahead takes an 8-word ring and
 * messages of 3, 1, 2, 0, 2, 1 payload words unless -DSMALL or -DTINY
 * says otherwise: m0 fills half the ring, m1 follows it, and m2 needs a
 * 2-word pad at offset 6, which the producer can write once m0 is
 * released, and m2 itself (over m0's old words) while m1 is held. So m1,
 * the pad and m2 can be held together, and a release can pass a pad and
 * a record. With HOLD = 3, m0 and m1 held and a wait for more stop the
 * producer at the pad: only the consumer's timeout (the API asks for
 * one) ends that; three records are never held together before m2, m3
 * and m4 (N = 5; -DSMALL holds m0, m1 and m2). m5 (N = 6) needs a 1-word
 * pad. -DTINY: the 4-word ring and messages of 1, 0, 1, 0 words, so that
 * m2 reuses m0's payload word at N = 3 (cheaper under -DWMM); m0 and m1
 * can be held together, never a pad between two held records.
 */
#ifdef AHEAD
#ifndef HOLD
#define HOLD 2
#endif
#ifdef TINY
#define CAP 4
#define LEN(i) ((i) % 2 == 0 -> 1 : 0)
#endif
#ifndef SMALL
#ifndef CAP
#define CAP 8
#endif
#ifndef LEN
#define LEN(i) ((i) == 0 -> 3 : ((i) == 1 -> 1 : ((i) == 2 -> 2 : ((i) == 3 -> 0 : \
	((i) == 4 -> 2 : 1)))))
#endif
#endif
#ifdef CLOSE_C
#error "-DAHEAD with -DCLOSE_C is not modelled"
#endif
#endif
#ifndef CAP
#define CAP 4			/* ring words: a power of two */
#endif
#define MASK (CAP - 1)
#define MAXLEN (CAP / 2)	/* max_msg, in payload words */
#define PAD 15			/* SHMKIT_REC_PAD, as the model's len field */

#ifndef N
#define N 4			/* messages the producer sends before closing */
#endif
/*
 * Payload words of message i: 2, 1, 2, 0 (at most 8 messages: the ghost
 * id in a word has 3 bits). In a 4-word ring each of the first three
 * waits for an empty ring or a pad's release, both pad sizes (1 and 2
 * words) occur, and the empty last message's end word wraps to offset 0:
 * the ring's tightest corners.
 */
#ifndef LEN
#define LEN(i) ((i) == 0 -> 2 : ((i) == 1 -> 1 : ((i) == 2 -> 2 : 0)))
#endif

/*
 * -DSHORT: every message reserves one payload word more than it commits
 * (where max_msg allows), as shmkit_chan_commit(ch, used) with used less
 * than reserved: the end word then lies inside the reservation.
 */
#ifdef SHORT
#define RESERVE_EXTRA(ln) ((ln) < MAXLEN -> 1 : 0)
#else
#define RESERVE_EXTRA(ln) 0
#endif

/*
 * -DCLOSE_C=k: the consumer closes cleanly after k messages and a new
 * consumer opens the channel and reads on; meanwhile the producer may get
 * -EPIPE, and then tries again.
 */
#ifdef CLOSE_C
#define CLOSE_SET 1
#else
#define CLOSE_SET 0
#endif

/*
 * Store buffer entries per side. A side makes at most MAXLEN + 5 stores
 * between two points that empty its buffer (a barrier or a locked
 * instruction): sleep_once's last store (sleeping = 0), a record's payload,
 * its end word, header and tail, and one store more for the TAIL_FIRST
 * mutant. A buffer that size never fills, and store() asserts so: real
 * buffers are deeper still, and a model whose stores waited for room
 * would hide the reorderings only a deep buffer allows. At most 10.
 */
#ifndef BUF
#ifdef ZERO_AHEAD
#define BUF (MAXLEN + 5 + CAP - 1)	/* and up to CAP - 1 zeroed words */
#else
#define BUF (MAXLEN + 5)
#endif
#endif
#define WSMOD 8			/* wake_seq counts modulo this: see futex_wait */

#define P 0			/* __SHMKIT_SIDE_PROD */
#define Cn 1			/* __SHMKIT_SIDE_CONS */
#define NCPU 2			/* a cpu per side: P and Cn (mem.pml) */

/* Shared words: the ring, then the words of struct __shmkit_chan_hdr used */
#define TAIL      (CAP)		/* hot[PROD].pos */
#define HEAD      (CAP + 1)	/* hot[CONS].pos */
#define SLEEPING  (CAP + 2)	/* sleep[side].sleeping  = SLEEPING + side */
#define WAKESEQ   (CAP + 4)	/* sleep[side].wake_seq  = WAKESEQ + side */
#define CLOSED    (CAP + 6)	/* cold[side].closed     = CLOSED + side */
#define OWNER     (CAP + 8)	/* cold[side].owner      = OWNER + side */
#define NADDR     (CAP + 10)

/*
 * A ring word. 0 is the empty word (no mark). A header has the mark, its
 * len (or PAD) and, as ghosts, its message's id and the full position it
 * was written for. A payload word has, as ghosts, its message's id and
 * position. Payload bytes are arbitrary in C and may well look like a
 * marked header, so MARKED() says yes to them: the model then asserts
 * that nobody takes a payload word, or a header of an earlier lap, for
 * the header it is looking for (GENUINE).
 */
#define K_HDR 1
#define K_PAY 2
#define HDRW(len, id, gp) (4096 + (len) * 256 + (id) * 32 + (gp) % 32)
#define PAYW(id, gp)      (8192 + (id) * 32 + (gp) % 32)
#define KIND(w)   ((w) / 4096)
#define WLEN(w)   (((w) / 256) % 16)
#define WID(w)    (((w) / 32) % 8)
#define WGP(w)    ((w) % 32)
#define MARKED(w) ((w) != 0)
#define GENUINE(w, p) (KIND(w) == K_HDR && WGP(w) == (p) % 32)

/* what wait_ready returns */
#define EPIPE 1
#define EEOF 2			/* -SHMKIT_EEOF */
#define EPEERDEAD 3		/* -SHMKIT_EPEERDEAD */
#define ETIMEDOUT 4		/* -ETIMEDOUT: only a consumer holding records (AHEAD) */

short mem[NADDR];

bit fw[2];			/* this side is blocked in futex_wait */

/* ghosts */
byte g_alive[2];		/* the incarnation running now (/proc); 0: dead */
byte g_crashes[2];
bit g_kill[2];			/* the Killer's signal, taken at the next step */
bit g_done[2];
byte g_sent;			/* ids whose header is stored = next id to send */
byte g_expect;			/* next id the consumer must receive */
#define NONE 255
byte g_redo = NONE;		/* an id a dead consumer peeked, never released */
bit g_eos;
bit g_reopened;
byte g_dead_seen[2];		/* the dead owner peer_gone reported, if any */
byte g_dead_sent[4];		/* g_sent when producer incarnation i died */			/* CLOSE_C: the second consumer has come */			/* the consumer saw the end of the stream */
byte g_res_lo, g_res_n;		/* the producer's reservation (positions) */
byte g_hold_lo, g_hold_n, g_hold_id;	/* the record the consumer holds */
bit g_win[2];			/* between a sleeper's read of wake_seq and its wait */
bit g_across[2];		/* this side's sleep began before the peer's crash */
byte g_bumps[2];		/* bumps of its wake_seq in that window */
#define BUMP(s) mem[WAKESEQ + s] = (mem[WAKESEQ + s] + 1) % WSMOD; \
	if :: g_win[s] -> g_bumps[s]++ :: else fi

/* [a, a+n) and [b, b+m), positions modulo the ring, do not meet */
#define APART(a, n, b, m) ((n) == 0 || (m) == 0 || \
	(((b) + 256 - (a)) % CAP >= (n) && ((a) + 256 - (b)) % CAP >= (m)))

/*
 * When may a futex wait time out? In C each sleep is a slice of at most
 * 20 ms, so that a sleeper notices a dead peer: the dead wake nobody.
 * Letting every wait time out here would hide any lost wake-up behind the
 * next slice. So a wait may time out only while the peer is dead, or if
 * this sleep began before the peer's crash (g_across): a peer killed
 * between its exchange of the flag and its futex_wake leaves the sleeper
 * with a cleared flag that its successor will not wake (README, finding
 * 2). A sleep that begins after the crash must be woken by the successor
 * like any other. Since shmkit_chan_open wakes the other side (kick),
 * the successor does wake it, and the model holds the code to that: only
 * -DLAX_SLICE allows the second case (for -DOPEN_NO_KICK, to show the
 * deadlock it prevents, run without it).
 */
#ifndef LAX_SLICE
#define TIMEOUT_OK(me) (g_alive[1 - (me)] == 0)
#else
#define TIMEOUT_OK(me) (g_alive[1 - (me)] == 0 || g_across[me])
#endif

/* ------------------------------------------------------------ memory */

/*
 * Orderings. Each annotated shared access of src/chan.c is written here
 * with its C ordering, by site (the labels of README.md's annotation
 * table). A mutant passes -DW_<site>=1 and lowers that one access a step:
 * a release store or an acquire load to relaxed; a seq_cst
 * read-modify-write or store, which Armv8 and x86 compile as they do
 * acq_rel and which this model cannot tell apart from it, to relaxed.
 * Only -DWMM gives orderings a meaning: under -DTSO every load acquires,
 * every store releases and every locked instruction is a full barrier,
 * as on x86.
 */
#ifndef W_P1H
#define W_P1H 0			/* rec_publish: store_release(header) */
#endif
#ifndef W_P1T
#define W_P1T 0			/* rec_publish: store_release(tail) */
#endif
#ifndef W_P2
#define W_P2 0			/* space_ready: load_acquire(head) */
#endif
#ifndef W_C1H
#define W_C1H 0			/* data_ready: load_acquire(header) */
#endif
#ifndef W_C1T
#define W_C1T 0			/* data_ready: load_acquire(tail) */
#endif
#ifndef W_C1R
#define W_C1R 0			/* data_ready: load_acquire(header), again */
#endif
#ifndef W_C1W
#define W_C1W 0			/* within_tail: load_acquire(tail) */
#endif
#ifndef W_C2
#define W_C2 0			/* release: store_release(head) */
#endif
#ifndef W_C2P
#define W_C2P 0			/* peek, pad: store_release(head) */
#endif
#ifndef W_GO
#define W_GO 0			/* peer_gone: load_acquire(owner) */
#endif
#ifndef W_GC
#define W_GC 0			/* peer_gone: load_acquire(closed) */
#endif
#ifndef W_PCO
#define W_PCO 0			/* peer_closed: load_acquire(owner) */
#endif
#ifndef W_PCC
#define W_PCC 0			/* peer_closed: load_acquire(closed) */
#endif
#ifndef W_SQ
#define W_SQ 0			/* sleep_once: load_acquire(wake_seq) */
#endif
#ifndef W_S3
#define W_S3 0			/* wake_peer: exchange(sleeping), seq_cst */
#endif
#ifndef W_S4
#define W_S4 0			/* wake_peer, kick_peer: fetch_add(wake_seq), seq_cst */
#endif
#ifndef W_S5
#define W_S5 0			/* kick_peer: store(sleeping, 0), seq_cst */
#endif
#ifndef W_CC
#define W_CC 0			/* close_as: store_release(closed) */
#endif
#ifndef W_O0
#define W_O0 0			/* close_as: store_release(owner, 0) */
#endif
#ifndef W_O1
#define W_O1 0			/* claim: compare_exchange(owner), seq_cst */
#endif
#ifndef W_OPM
#define W_OPM 0			/* open: load_acquire(own position) */
#endif
#ifndef W_OPT
#define W_OPT 0			/* open: load_acquire(other position) */
#endif
#ifndef W_OPC
#define W_OPC 0			/* open: store_release(closed, 0) */
#endif
#ifndef W_CEL
#define W_CEL 0			/* committed_end: load_acquire(ring word) */
#endif
#ifndef W_CET
#define W_CET 0			/* committed_end: store_release(tail) */
#endif

#include "mem.pml"

/* ------------------------------------------------------------- futex */

/*
 * futex_wait(&sleep[me].wake_seq, s): the kernel compares and queues in
 * one step; another value returns at once (-EAGAIN).
 *
 * wake_seq counts modulo WSMOD, and the model must never take a changed
 * word for an unchanged one, so WSMOD must exceed the bumps that can land
 * between the sleeper's read of wake_seq and its futex_wait. A wake_peer
 * bump needs an exchange that found the flag raised; in that window at
 * most two raised flags can be found: this sleep's, and the previous
 * one's, whose clearing store may still sit in the sleeper's store buffer
 * (spin found that case). Add one close per producer incarnation (two
 * with one crash, three with two): at most five, fewer than 8. The ghost
 * g_bumps counts them and futex_wait asserts the bound, so the model
 * checks this argument instead of trusting it.
 */
inline futex_wait(me, s) {
	atomic {
		assert(g_bumps[me] < WSMOD);
		if
		:: mem[WAKESEQ + me] == s -> fw[me] = 1
		:: else -> skip
		fi
	};
	/* blocked here until a futex_wake (or, where allowed, the slice ends) */
	if
	:: fw[me] == 0
	:: atomic { fw[me] == 1 && TIMEOUT_OK(me) -> fw[me] = 0 }
#ifdef AHEAD
	/*
	 * A consumer holding records waits for more only with a timeout
	 * (shmkit.h), after which it releases: the producer may need the
	 * held room. The model lets that timeout end a sleep only while the
	 * producer sleeps too, the deadlock it is there for, so that a lost
	 * wake-up of a holding consumer still shows wherever the producer
	 * goes on.
	 */
	:: atomic { fw[me] == 1 && me == Cn && nheld > 0 && fw[P] == 1 -> fw[me] = 0; tmo = 1 }
#endif
#ifdef SPURIOUS
	:: atomic { fw[me] == 1 -> fw[me] = 0 }	/* a spurious return */
#endif
	fi
}

inline futex_wake(s) { fw[s] = 0 }	/* one waiter at most per word */

/* ------------------------------------------------------ ready and wait */

/*
 * space_ready (producer, P2) or data_ready (consumer, C1); leaves rd = 1
 * when ready (the consumer then has the header word in nrec), else 0.
 * Every assert stands for a -SHMKIT_ECORRUPT the segment never deserves.
 */
inline ready(me, a) {
	if
	:: atomic { me == P && CAP - (pos - peer) >= a -> rd = 1 }
	:: atomic {		/* space_ready: P2, load_acquire(head) */
		me == P && CAP - (pos - peer) < a ->
		load(P, HEAD, h, ORD(ACQ, W_P2));
		assert(h <= pos && pos - h <= CAP);
		peer = h;
		h = 0;
		rd = (CAP - (pos - peer) >= a)
	   }
	:: atomic {		/* data_ready: C1, load_acquire(header at cur) */
		me == Cn ->
		load(Cn, (a) & MASK, w, ORD(ACQ, W_C1H));
		if
		:: MARKED(w) -> assert(GENUINE(w, a)); nrec = w; rd = 1;
			/*
			 * within_tail: the code loads the tail once a ring
			 * past the tail it last checked; the model checks at
			 * every marked header (a stronger claim, and no cached
			 * tail to multiply the states). In one step with the
			 * header's load: the code's later load can only see a
			 * tail as new or newer, which the bounds hold for too.
			 */
			load(Cn, TAIL, t, ORD(ACQ, W_C1W));
			/* the tail store came before this header's (P1) */
			assert(t >= a && t - a <= CAP);	/* else -ECORRUPT */
			t = 0
		:: else -> rd = 0
		fi;
		w = 0
	   }
	fi;
	if
	:: me == P || rd == 1
	:: atomic {		/* no mark: is the tail past cur? */
		me == Cn && rd == 0 ->
		load(Cn, TAIL, t, ORD(ACQ, W_C1T));
		if
		:: t <= a -> assert(a - t <= CAP)	/* it may lag */
		:: else -> assert(t - a <= CAP); rd = 2
		fi;
		t = 0
	   }
	fi;
	if
	:: rd != 2
	:: atomic {		/* the header was stored before that tail */
		rd == 2 ->
		load(Cn, (a) & MASK, w, ORD(ACQ, W_C1R));
		assert(MARKED(w));
		assert(GENUINE(w, a));
		nrec = w;
		w = 0;
		rd = 1
	   }
	fi
}

/*
 * peer_gone: owner 0 and closed mean a clean close; a dead owner is seen
 * through /proc, or not yet (its answer is cached for 20 ms): the choice.
 */
inline peer_gone(me) {
	atomic {
		load(me, OWNER + 1 - me, w, ORD(ACQ, W_GO));
		if
		:: w == 0 -> gone = 255		/* look at closed */
		:: w != 0 && w == g_alive[1 - me] -> gone = 0
		:: w != 0 && w != g_alive[1 - me] -> gone = 254; g_dead_seen[me] = w
		fi;
		w = 0
	};
	if
	:: gone < 254
	:: atomic {
		gone == 255 ->
		load(me, CLOSED + 1 - me, w, ORD(ACQ, W_GC));
		if
		:: w == 0 -> gone = 0		/* not yet come */
		:: else -> gone = (me == P -> EPIPE : EEOF)
		fi;
		w = 0
	   }
	:: atomic { gone == 254 -> gone = 0; g_dead_seen[me] = 0 }	/* the 20 ms cache */
	:: gone == 254 -> gone = EPEERDEAD
	fi
}

/* peer_closed: two loads, owner then closed; leaves x */
inline peer_closed(me) {
	atomic { load(me, OWNER + 1 - me, w, ORD(ACQ, W_PCO)); x = (w == 0); w = 0 };
	if
	:: x == 0
	:: atomic { x == 1 -> load(me, CLOSED + 1 - me, w, ORD(ACQ, W_PCC)); x = (w != 0); w = 0 }
	fi
}

/* wake_peer: S2 */
inline wake_peer(me) {
#ifndef NO_WAKE_MB
	fence(me);		/* S2: our publish before the flag's load */
#endif
	atomic { load(me, SLEEPING + 1 - me, w, RLX); x = (w != 0); w = 0 };
	if
	:: x == 0
	:: atomic {		/* atomic_exchange(&sleeping, 0) */
		x == 1 && RMW_READY(me, W_S3) ->
		x = (mem[SLEEPING + 1 - me] != 0);
		mem[SLEEPING + 1 - me] = 0;
		RMW_DONE(me, W_S3, SLEEPING + 1 - me)
	   };
		if
		:: x == 0
		:: atomic {	/* atomic_fetch_add(&wake_seq, 1) */
			x == 1 && RMW_READY(me, W_S4) ->
			BUMP(1 - me);
			RMW_DONE(me, W_S4, WAKESEQ + 1 - me);
			x = 0
		   };
			futex_wake(1 - me)
		fi
	fi
}

/* sleep_once: S1; leaves rd */
inline sleep_once(me, a) {
#ifndef SEQ_LATE
	atomic { load(me, WAKESEQ + me, seq, ORD(ACQ, W_SQ)); g_win[me] = 1 };
#endif
	store(me, SLEEPING + me, 1, RLX);
#ifndef NO_SLEEP_MB
	fence(me);		/* S1: the flag before the re-check */
#endif
	ready(me, a);
	if
	:: rd != 0
	:: rd == 0 ->
#ifdef SEQ_LATE
		atomic { load(me, WAKESEQ + me, seq, ORD(ACQ, W_SQ)); g_win[me] = 1 };
#endif
		peer_closed(me);
		if
		:: x == 1 -> x = 0
		:: x == 0 -> futex_wait(me, seq); ready(me, a)
		fi
	fi;
	atomic { seq = 0; g_win[me] = 0; g_bumps[me] = 0; g_across[me] = 0 };
	store(me, SLEEPING + me, 0, RLX)
}

#ifdef AHEAD
#define TMO_RESET ; tmo = 0
#else
#define TMO_RESET
#endif

/*
 * wait_ready, with the blocking policy and no timeout; leaves err = 0
 * (ready) or the error. The C loop polls ready() for 100 us, asks
 * peer_gone every 64 polls once due (first at the 64th poll, then after
 * every sleep), and then sleeps. A failed poll changes nothing the other
 * side can see, so the model polls once, asks peer_gone, and sleeps; the
 * sleep re-checks (S1) as the C code does. With -DAHEAD a consumer
 * holding records may time out asleep (futex_wait): ETIMEDOUT.
 */
inline wait_ready(me, a) {
	do
	:: ready(me, a);
		if
		:: rd == 1 -> rd = 0; err = 0; break
		:: else
		fi;
		peer_gone(me);
		if
		:: gone != 0 ->
			/* the other side's last data counts: look once more */
#ifndef NO_LAST_LOOK
			ready(me, a);
#else
			/* a mutant: no last look after -EPEERDEAD */
			if
			:: gone != EPEERDEAD -> ready(me, a)
			:: else
			fi;
#endif
			atomic {
				err = (rd == 1 -> 0 : gone);
				if
				:: err != EPEERDEAD -> g_dead_seen[me] = 0
				:: else
				fi;
				rd = 0;
				gone = 0
			};
			break
		:: else
		fi;
		sleep_once(me, a);
		if
		:: rd == 1 -> rd = 0; err = 0 TMO_RESET; break
#ifdef AHEAD
		:: rd != 1 && tmo -> tmo = 0; err = ETIMEDOUT; break
#endif
		:: else	/* woken without data, perhaps by a close */
		fi
	od
}

/* ------------------------------------------------------------ producer */

/* rec_publish: P1. The empty word past the end, the header, the tail. */
inline rec_publish(lenw, sz) {
#ifdef NO_END_WORD_FAST
	/* a mutant: the fast path's records go without their end word */
	if
	:: fast -> fast = 0
	:: else ->
#endif
#ifndef NO_END_WORD
	atomic {
		assert(APART(pos + sz, 1, g_hold_lo, g_hold_n));
		store(P, (pos + sz) & MASK, 0, RLX)
	};
#endif
#ifdef NO_END_WORD_FAST
	fi;
#endif
#ifdef TAIL_FIRST
	store(P, TAIL, pos + sz, REL);
#endif
	atomic {
		store(P, pos & MASK, HDRW(lenw, g_sent, pos), ORD(REL, W_P1H));	/* P1 */
		if
		:: lenw != PAD -> g_sent++; g_res_n = 0; g_res_lo = 0
		:: else -> skip
		fi
	};
	atomic {
		pos = pos + sz;
		assert(pos < 250);
#ifndef TAIL_FIRST
		store(P, TAIL, pos, ORD(REL, W_P1T))	/* P1 */
#endif
	}
}

/*
 * shmkit_chan_reserve; leaves err. Off the fast path, pad_to_end first if
 * the record would pass the ring's end (wait for the rest of the ring and
 * the word after it, publish a pad, wake), then wait for the record and
 * the word after it. One loop, so that wait_ready is written out once.
 */
inline reserve() {
#ifdef CLOSE_C
	/* like a pipe: a closed reader fails the write at once (EPIPE) */
	atomic { load(P, CLOSED + Cn, w, RLX); x = (w != 0); w = 0 };
	if
	:: x == 1 -> x = 0; peer_gone(P); err = (gone == EPIPE -> EPIPE : 0); gone = 0
	:: else -> err = 0
	fi;
#endif
#ifdef REWIND
	/*
	 * maybe_rewind, at any reserve (the code looks once every
	 * REWIND_BYTES, and only for small records: a subset): P2's load of
	 * the head; an empty ring and a record that fits before the offset
	 * make a pad to the ring's end, published without a wake-up.
	 * -DREWIND_BUSY, a mutant: the pad without the empty-ring test.
	 */
	if
	:: err == 0 ->
		atomic {
			off = pos & MASK;
			load(P, HEAD, h, ORD(ACQ, W_P2));
			assert(h <= pos && pos - h <= CAP);
#ifndef REWIND_BUSY
			x = (h == pos && 1 + ln + RESERVE_EXTRA(ln) + 1 <= off);
#else
			x = (1 + ln + RESERVE_EXTRA(ln) + 1 <= off);
#endif
			if
			:: x == 1 -> peer = h
			:: else
			fi;
			h = 0
		};
		if
		:: x == 1 -> x = 0; rec_publish(PAD, CAP - off)
		:: else
		fi;
		off = 0
	:: true
	fi;
#endif
	atomic {
		rec = 1 + ln + RESERVE_EXTRA(ln);
		x = (err == 0 -> (rec <= CAP - (pos & MASK) && CAP - (pos - peer) >= rec + 1) : 2);
		err = 0
	};
	if
	:: x == 2 -> x = 0; err = EPIPE
	:: x == 1 -> x = 0;		/* the fast path */
#ifdef NO_END_WORD_FAST
		fast = 1
#else
		skip
#endif
	:: x == 0 ->
		do
		:: atomic {
			off = pos & MASK;
			pad = (rec > CAP - off);	/* pad_to_end? */
			need = (pad -> CAP - off + 1 : rec + 1);
			off = 0
		   };
			wait_ready(P, need);
			if
			:: err != 0 -> pad = 0; break
			:: err == 0 && pad ->		/* pad_to_end */
				pad = 0;
				rec_publish(PAD, need - 1);
				wake_peer(P)
			:: err == 0 && !pad -> break
			fi
		od;
		need = 0
	fi;
	atomic {
		if
		:: err == 0 ->
			g_res_lo = pos;
			g_res_n = rec + 1;
			assert(APART(g_res_lo, g_res_n, g_hold_lo, g_hold_n))
		:: else
		fi
	}
}

/* the application's memcpy into the reservation */
inline write_payload() {
	i = 1;
	do
	:: atomic {
		i <= ln ->
		assert(APART(pos + i, 1, g_hold_lo, g_hold_n));
		store(P, (pos + i) & MASK, PAYW(g_sent, pos + i), RLX);
		i++
	   }
	:: i > ln -> i = 0; break
	od
}

/*
 * -DZERO_AHEAD: zero_ahead, with every judgment "zero" (the trial is the
 * producer's private arithmetic): relaxed stores of the empty word from
 * the reservation's first payload word up to CAP words past pos (the
 * block: the whole ring here), no further than the cached head allows
 * (peer + CAP) or the ring's end. The C code zeroes only when a
 * reservation passes the last block, and only bytes not zeroed before:
 * a subset of these stores. -DZERO_NO_LIMIT, a mutant: without the
 * cached head's limit.
 */
#ifdef ZERO_AHEAD
inline zero_ahead() {
	atomic {
		need = pos + CAP;
#ifndef ZERO_NO_LIMIT
		if
		:: need > peer + CAP -> need = peer + CAP
		:: else
		fi;
#endif
		if
		:: need > pos - (pos & MASK) + CAP -> need = pos - (pos & MASK) + CAP
		:: else
		fi;
		i = 1
	};
	do
	:: atomic {
		pos + i < need ->
		assert(APART(pos + i, 1, g_hold_lo, g_hold_n));
		store(P, (pos + i) & MASK, 0, RLX);
		i++
	   }
	:: else -> i = 0; need = 0; break
	od
}
#endif

/*
 * committed_end, in shmkit_chan_open: from the stored tail t, over marked
 * headers. Every marked word it meets must be the genuine header of its
 * position, and the walk must end at an unmarked word, never at one of
 * its sanity breaks: nobody scribbles on this segment.
 */
inline committed_end() {
	pos = t;
	do
	:: atomic {
		x == 0 ->
		load(P, pos & MASK, w, ORD(ACQ, W_CEL));
		if
		:: !MARKED(w) -> x = 1
		:: else ->
			assert(GENUINE(w, pos));
			off = pos & MASK;
			if
			:: WLEN(w) == PAD -> size = (off != 0 -> CAP - off : 0)
			:: else -> size = (WLEN(w) <= MAXLEN -> 1 + WLEN(w) : 0)
			fi;
			assert(size != 0 && size <= CAP - off);
			assert(pos + size - t <= CAP && pos + size <= h + CAP);
			pos = pos + size;
			off = 0;
			size = 0
		fi;
		w = 0
	   }
	:: x == 1 -> x = 0; break
	od;
	if
	:: pos != t -> store(P, TAIL, pos, ORD(REL, W_CET))
	:: else
	fi
}

/* claim, for a new process: the dead owner's word is replaced (a CAS) */
inline claim(me) {
	atomic {
		RMW_READY(me, W_O1) ->
		assert(mem[OWNER + me] == 0 || mem[OWNER + me] != g_alive[me]);
		mem[OWNER + me] = g_crashes[me] + 1;
		RMW_DONE(me, W_O1, OWNER + me);
		g_alive[me] = g_crashes[me] + 1
	}
}

inline open_producer() {
	claim(P);
	atomic { load(P, TAIL, t, ORD(ACQ, W_OPM)) };	/* mine */
	atomic { load(P, HEAD, h, ORD(ACQ, W_OPT)) };	/* theirs */
#ifndef NO_WALK
	committed_end();
#else
	pos = t;
#endif
	atomic {
		assert(pos >= h && pos - h <= CAP);	/* else -ECORRUPT */
		peer = h;
		t = 0;
		h = 0
	};
	store(P, CLOSED + P, 0, ORD(REL, W_OPC));
	open_kick(P)
}

/* kick_peer: wake the other side, flag or not */
inline kick(me) {
	fence(me);
	atomic {				/* S5: seq_cst store */
		RMW_READY(me, W_S5) ->
		mem[SLEEPING + 1 - me] = 0;
		RMW_DONE(me, W_S5, SLEEPING + 1 - me)
	};
	atomic {				/* S4: fetch_add */
		RMW_READY(me, W_S4) ->
		BUMP(1 - me);
		RMW_DONE(me, W_S4, WAKESEQ + 1 - me)
	};
	futex_wake(1 - me)
}

/* shmkit_chan_close */
inline chan_close(me) {
	store(me, CLOSED + me, 1, ORD(REL, W_CC));
	store(me, OWNER + me, 0, ORD(REL, W_O0));	/* O0 */
#ifndef CLOSE_NO_WAKE
	kick(me)
#else
	MB(me)
#endif
}

/* the end of shmkit_chan_open: a predecessor may have died mid-wake */
inline open_kick(me) {
#ifndef OPEN_NO_KICK
	kick(me)
#else
	skip
#endif
}

/* A kill: stores already made still reach memory; the rest is lost. */
inline crash(me) {
	MB(me);
	atomic {
		if
		:: me == P -> g_dead_sent[g_alive[P]] = g_sent
		:: else
		fi;
		/* the successor starts after system calls: full barriers */
		sync_view(me);
		g_kill[me] = 0;
		g_alive[me] = 0;
		g_win[me] = 0;
		g_bumps[me] = 0;
		g_across[me] = 0;
		g_across[1 - me] = g_win[1 - me];
		fw[me] = 0;
		g_crashes[me]++;
		if
		:: me == Cn && g_hold_n > 0 -> g_redo = g_hold_id
		:: else
		fi;
		if
		:: me == Cn -> g_hold_lo = 0; g_hold_n = 0; g_hold_id = 0
		:: else -> g_res_lo = 0; g_res_n = 0
		fi;
#ifdef NO_END_WORD_FAST
		fast = 0;
#endif
		pos = 0; peer = 0; ln = 0; rec = 0; off = 0; size = 0;
		need = 0; pad = 0; rd = 0; err = 0; gone = 0; x = 0; i = 0;
		w = 0; t = 0; h = 0; seq = 0; nrec = 0
#ifdef AHEAD
		; cur = 0; ahead = 0; nheld = 0; dm = 0; nh = 0; nl = 0;
		tmo = 0; rl = 0
#endif
	}
}

#ifdef NO_END_WORD_FAST
#define FAST_LOCAL bit fast;
#else
#define FAST_LOCAL
#endif
/*
 * -DAHEAD, the consumer's read-ahead state (ch->busy, ch->ahead), and
 * scratch for take_next and release: the read cursor, the held count,
 * which held records' payload is still to be read (bit k: the k-th
 * oldest), the new head and its record's length, a timeout seen, a
 * release due. The producer has them too (inlines are shared), always 0.
 */
#ifdef AHEAD
#define AHEAD_LOCALS byte cur, ahead, nheld, dm, nh, nl; bit tmo, rl;
#else
#define AHEAD_LOCALS
#endif
#define LOCALS \
	byte pos, peer, ln, rec, off, size, need, rd, err, gone, x, i; \
	bit pad; FAST_LOCAL AHEAD_LOCALS \
	short w, t, h, seq, nrec

proctype Producer() {
	LOCALS;
restart:
	{
		if
		:: g_crashes[P] > 0 -> open_producer()
		:: else
		fi;
		do
		:: g_sent < N ->
			/* shmkit_chan_send; after -SHMKIT_EPEERDEAD, again */
			ln = LEN(g_sent);
			reserve();
			if
			:: err == 0 ->
#ifdef ZERO_AHEAD
				zero_ahead();
#endif
				write_payload();
				rec_publish(ln, 1 + ln);	/* commit */
				rec = 0;
				wake_peer(P)
			:: else ->
				assert(err == EPEERDEAD || (CLOSE_SET && err == EPIPE));
				atomic { err = 0; g_dead_seen[P] = 0 }
			fi;
			ln = 0
		:: else -> break
		od;
		chan_close(P);
		g_done[P] = 1
	} unless {
		g_kill[P] -> crash(P); goto restart
	}
}

/* ------------------------------------------------------------ consumer */

inline open_consumer() {
	claim(Cn);
	atomic { load(Cn, HEAD, h, ORD(ACQ, W_OPM)) };	/* mine */
	atomic { load(Cn, TAIL, t, ORD(ACQ, W_OPT)) };	/* theirs */
	atomic {
		/*
		 * shmkit_chan_open (positions_fit): -SHMKIT_ECORRUPT unless
		 * the tail is at most a ring ahead of the head or, as it may
		 * lag (header stored before tail), at most a ring behind.
		 * -DOPEN_STRICT is the code before that fix (finding 1).
		 */
#ifndef OPEN_STRICT
		assert((t >= h && t - h <= CAP) || (t < h && h - t <= CAP));
#else
		assert(t >= h && t - h <= CAP);
#endif
		pos = h;
		t = 0;
		h = 0
	};
	store(Cn, CLOSED + Cn, 0, ORD(REL, W_OPC));
	open_kick(Cn)
}

#ifdef AHEAD
/*
 * Read-ahead (-DAHEAD): shmkit_chan_peek_ahead and shmkit_chan_release
 * with held records. The consumer holds up to HOLD records, from its head
 * pos (the oldest, ln payload words) to its private read cursor ahead,
 * pads between them included; nheld is ch->busy. At each turn it chooses
 * to take one more (while it holds fewer than HOLD) or to release the
 * oldest (while it holds any), so every interleaving of the two is
 * explored. The ghost g_hold_lo/g_hold_n covers the whole held range
 * [pos, ahead), which the producer's reservation and stores must stay
 * out of, and g_hold_id is the oldest held message.
 *
 * The application reads each held record's payload either at once, after
 * peek_ahead returns it, or just before its release (dm): reading at once
 * sees it soonest after its header's acquire, just before the release
 * gives the producer the longest time to break in, and is where a relaxed
 * C2 could pass the loads. Reading at any point between changes nothing
 * more: a held record's words do not change, and a side's view of memory
 * only moves forward.
 *
 * Choices are written in the order that finds the mutants soonest (take
 * before release, a read put off before one done at once); the order
 * changes no passing run's states.
 */

/*
 * The application reads a held record's payload (its header at b, pl
 * words): every word whole, of message id, at its own position. Where
 * the release's store follows at once (early = 1), -DWMM -DW_C2=1 lets
 * that relaxed store of the new head nh become visible before any of
 * these loads not yet done, as in the one-record Consumer (only before
 * one: a store after the last load is no reordering, and the ghost,
 * which still holds the record, would call it one).
 */
inline read_payload(b, pl, id, early) {
	i = 1;
	do
#if defined(WMM) && W_C2
	:: early && x == 0 && i <= pl -> store(Cn, HEAD, nh, RLX); x = 1
#endif
	:: atomic {
		i <= pl ->
		load(Cn, (b + i) & MASK, w, RLX);
		assert(KIND(w) == K_PAY && WID(w) == id && WGP(w) == (b + i) % 32);
		w = 0;
		i++
	   }
	:: i > pl -> i = 0; break
	od
}

/*
 * take_next: wait at the read cursor (the head when nothing is held, else
 * ahead) with wait_ready/data_ready, as peek does at the head. A pad at
 * the head with nothing held goes back at once (skip_pad, C2 over a pad);
 * a pad after a held record is stepped over privately. Leaves err, and on
 * 0 the record's header in nrec, its position in cur.
 */
inline take_next() {
	cur = (nheld > 0 -> ahead : pos);
	do
	:: wait_ready(Cn, cur);
		if
		:: err != 0 -> break
		:: err == 0 && WLEN(nrec) == PAD && nheld == 0 ->
			atomic {	/* skip_pad */
				off = pos & MASK;
				assert(off != 0);	/* else -ECORRUPT */
				pos = pos + CAP - off;
				cur = pos;
				off = 0;
				nrec = 0
			};
			store(Cn, HEAD, pos, ORD(REL, W_C2P));	/* C2: the pad back at once */
			wake_peer(Cn)
		:: err == 0 && WLEN(nrec) == PAD && nheld > 0 ->
			atomic {	/* held before it: stepped over, kept */
				off = cur & MASK;
				assert(off != 0);	/* else -ECORRUPT */
				cur = cur + CAP - off;
				off = 0;
				nrec = 0
			}
#ifdef PAD_AT_ONCE
			/* a mutant: that pad handed back at once too, as at the head */
			; store(Cn, HEAD, cur, REL);
			wake_peer(Cn)
#endif
		:: err == 0 && WLEN(nrec) != PAD -> break
		fi
	od
}

/*
 * next_held, in shmkit_chan_release with more held: the header past the
 * oldest record read again (relaxed), and past a pad if one follows;
 * leaves the new head in nh and, with more held, its header in t and its
 * length in nl. Each assert is a -SHMKIT_ECORRUPT of the code, which no
 * correct run deserves. -DNO_NEXT_HELD: a mutant, the release of before
 * read-ahead (head += the oldest's record, its length kept).
 */
inline next_held() {
	atomic { nh = pos + 1 + ln; nl = ln };
	if
	:: nheld == 1 -> assert(nh == ahead)	/* the model's own check */
	:: nheld > 1 ->
#ifndef NO_NEXT_HELD
		atomic {
			load(Cn, nh & MASK, t, RLX);
			assert(MARKED(t) && GENUINE(t, nh));
			if
			:: WLEN(t) == PAD ->
				off = nh & MASK;
				assert(off != 0);
				nh = nh + CAP - off;
				off = 0;
				t = 0
			:: else
			fi
		};
		if
		:: t == 0 ->	/* past a pad: the record after it */
			atomic {
				load(Cn, nh & MASK, t, RLX);
				assert(MARKED(t) && GENUINE(t, nh) && WLEN(t) != PAD)
			}
		:: else
		fi;
		atomic {
			nl = WLEN(t);
			assert(nl <= MAXLEN && 1 + nl <= CAP - (nh & MASK) && ahead - nh >= 1 + nl);
			assert(WID(t) == g_hold_id + 1)	/* held ids follow each other */
		}
#else
		skip
#endif
	fi
}

/* shmkit_chan_release: the oldest held record, and a pad after it if more are held */
inline release_oldest() {
	/* the application has read it, or reads it now: C2 must follow */
#if defined(WMM) && W_C2
	/*
	 * next_held's loads first: relaxed loads of held words, which nobody
	 * writes, so their order among the payload's loads changes nothing;
	 * so the early store below can carry the head past a pad.
	 */
	next_held();
	if
	:: dm & 1 -> read_payload(pos, ln, g_hold_id, 1)
	:: else
	fi;
#else
	if
	:: dm & 1 -> read_payload(pos, ln, g_hold_id, 0)
	:: else
	fi;
	next_held();
#endif
	atomic {
		if
		:: x == 0 ->
#ifndef RELEASE_ALL
			store(Cn, HEAD, nh, ORD(REL, W_C2))	/* C2 */
#else
			/* a mutant: the head published past every held record */
			store(Cn, HEAD, ahead, ORD(REL, W_C2))
#endif
		:: else -> x = 0	/* stored early (-DW_C2) */
		fi;
		pos = nh;
		nheld--;
		dm = dm / 2;
		if
		:: nheld > 0 ->
			ln = nl;
			g_hold_lo = pos;
			g_hold_n = ahead - pos;
#ifndef NO_NEXT_HELD
			g_hold_id = WID(t)
#else
			g_hold_id++
#endif
		:: else ->
			ln = 0; ahead = 0;
			g_hold_lo = 0; g_hold_n = 0; g_hold_id = 0
		fi;
		nh = 0; nl = 0; t = 0; rl = 0
	};
	wake_peer(Cn)
}

proctype Consumer() {
	LOCALS;
restart:
	{
		if
		:: g_crashes[Cn] > 0 -> open_consumer()
		:: else
		fi;
		do
		:: nheld < HOLD && !rl ->	/* peek, or peek_ahead while holding */
			take_next();
			if
			:: err == EEOF && nheld == 0 -> break
			:: err == EPEERDEAD ->
				/* as in the one-record Consumer; held ones count */
				atomic {
					assert(g_expect >= g_dead_sent[g_dead_seen[Cn]]);
					g_dead_seen[Cn] = 0;
					err = 0;
					rl = (nheld > 0);
					cur = 0
				}
			:: (err == EEOF && nheld > 0) || err == ETIMEDOUT ->
				/* nothing beyond the held ones, or not in time: release */
				atomic { assert(nheld > 0); err = 0; rl = 1; cur = 0 }
			:: err == 0 ->
				atomic {
					nl = WLEN(nrec);
					assert(nl <= MAXLEN && 1 + nl <= CAP - (cur & MASK));
					/*
					 * delivered: in order, once, or again from the
					 * oldest record a dead consumer held (g_redo)
					 * up to the last it took
					 */
					if
					:: g_redo != NONE ->
						assert(WID(nrec) == g_redo);
						g_redo++;
						if
						:: g_redo == g_expect -> g_redo = NONE
						:: else
						fi
					:: else ->
						assert(WID(nrec) == g_expect);
						g_expect++
					fi;
					if
					:: nheld == 0 ->
						assert(cur == pos);
						ln = nl;
						g_hold_lo = pos;
						g_hold_id = WID(nrec)
					:: else
					fi;
					ahead = cur + 1 + nl;
					g_hold_n = ahead - pos;
					assert(g_hold_n < CAP);
					assert(APART(g_hold_lo, g_hold_n, g_res_lo, g_res_n));
					nheld++
				};
				/* the application reads it now, or later, before its release */
				if
				:: dm = dm | (1 << (nheld - 1))
				:: read_payload(cur, nl, WID(nrec), 0)
				fi;
				atomic { nrec = 0; nl = 0; cur = 0 }
			fi
		:: nheld > 0 -> release_oldest()
		od;
		/* -SHMKIT_EEOF: everything was delivered and released first */
		assert(g_expect == N && g_redo == NONE && nheld == 0);
		g_eos = 1;
		g_done[Cn] = 1
	} unless {
		g_kill[Cn] -> crash(Cn); goto restart
	}
}
#else
proctype Consumer() {
	LOCALS;
restart:
	{
		if
		:: g_crashes[Cn] > 0 -> open_consumer()
		:: else
		fi;
		do
		:: /* shmkit_chan_peek */
#ifdef CLOSE_C
			if
			:: g_expect == CLOSE_C && !g_reopened ->
				chan_close(Cn);
				/* a new process: a new owner, a fresh view */
				atomic {
					g_reopened = 1;
					g_alive[Cn] = 0;
					g_crashes[Cn]++;
					sync_view(Cn);
					pos = 0; peer = 0
				};
				open_consumer()
			:: else
			fi;
#endif
			wait_ready(Cn, pos);
			if
			:: err == EEOF -> break
			:: err == EPEERDEAD ->
				/*
				 * Told its producer is dead, the consumer has
				 * had every record that producer committed (a
				 * dead process's stores have all landed). A
				 * successor may have sent more since.
				 */
				atomic {
					assert(g_expect >= g_dead_sent[g_dead_seen[Cn]]);
					g_dead_seen[Cn] = 0;
					err = 0	/* the application tries again */
				}
			:: err == 0 && WLEN(nrec) == PAD ->
				atomic {
					off = pos & MASK;
					assert(off != 0);	/* else -ECORRUPT */
					pos = pos + CAP - off;
					off = 0;
					nrec = 0
				};
				store(Cn, HEAD, pos, ORD(REL, W_C2P));	/* C2: the pad back at once */
				wake_peer(Cn)
			:: err == 0 && WLEN(nrec) != PAD ->
				atomic {
					ln = WLEN(nrec);
					assert(ln <= MAXLEN && 1 + ln <= CAP - (pos & MASK));
					/* delivered: in order, once, or the one redelivery */
					if
					:: g_redo != NONE ->
						assert(WID(nrec) == g_redo);
						g_redo = NONE
					:: else ->
						assert(WID(nrec) == g_expect);
						g_expect++
					fi;
					g_hold_lo = pos;
					g_hold_n = 1 + ln;
					g_hold_id = WID(nrec);
					assert(APART(g_hold_lo, g_hold_n, g_res_lo, g_res_n));
					nrec = 0;
					i = 1
				};
#ifdef RELEASE_EARLY
				store(Cn, HEAD, pos + 1 + ln, REL);
#endif
				/* the application reads the payload: never torn */
				do
				:: atomic {
					i <= ln ->
					load(Cn, (pos + i) & MASK, w, RLX);
					assert(KIND(w) == K_PAY && WID(w) == g_hold_id &&
					       WGP(w) == (pos + i) % 32);
					w = 0;
					i++
				   }
				:: i > ln -> i = 0; break
#if defined(WMM) && W_C2
				/*
				 * A relaxed store may become visible before the
				 * loads program order puts before it, when it
				 * does not depend on them (Armv8 allows this
				 * load-to-store reordering): the head store of
				 * shmkit_chan_release, among the payload's loads.
				 */
				:: x == 0 -> store(Cn, HEAD, pos + 1 + ln, RLX); x = 1
#endif
				od;
				/* shmkit_chan_release: C2 */
				atomic {
					pos = pos + 1 + ln;
					ln = 0;
					if
					:: x == 0 -> store(Cn, HEAD, pos, ORD(REL, W_C2))
					:: else -> x = 0
					fi;
					g_hold_lo = 0; g_hold_n = 0; g_hold_id = 0
				};
				wake_peer(Cn)
			fi
		od;
		/* -SHMKIT_EEOF: everything was delivered first */
		assert(g_expect == N && g_redo == NONE);
		g_eos = 1;
		g_done[Cn] = 1
	} unless {
		g_kill[Cn] -> crash(Cn); goto restart
	}
}

#endif /* AHEAD */

/* ------------------------------------------------------------ the rest */

#if defined(CRASH_P) || defined(CRASH_C)
#ifndef MAXCRASH
#define MAXCRASH 1
#endif
#ifdef CRASH_P
#define VICTIM P
#else
#define VICTIM Cn
#endif
proctype Killer() {
	byte n;
end:	do
	:: n < MAXCRASH ->
end_kill:	/* a kill that never comes: a run without this crash */
		atomic { !g_done[VICTIM] -> g_kill[VICTIM] = 1 };
		g_kill[VICTIM] == 0;
		n++
	od
}
#endif

init {
	atomic {
		/* both sides opened: positions 0, nobody asleep */
		mem[OWNER + P] = 1; g_alive[P] = 1;
		mem[OWNER + Cn] = 1; g_alive[Cn] = 1;
#if defined(CRASH_P) || defined(CRASH_C)
		run Killer();
#endif
#if defined(TSO) || defined(WMM)
		run Drain(P);
		run Drain(Cn);
#endif
		sync_view(P);
		sync_view(Cn);
		run Producer();
		run Consumer()
	}
}

/* the end of the stream, always (no crash): check.sh runs it with -a */
ltl eos { <> g_eos }
