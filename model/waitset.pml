/*
 * A Promela model of a wait set's sleep and wake-up (src/waitset.c).
 *
 * One thread waits on NM members (2; -DNM=3) in one wait set. Each member
 * is a channel seen from its consumer: its peer, a producer process of
 * its own on a cpu of its own, publishes K messages (2; the members after
 * the first KREST, K unless given) and then closes, or goes idle and
 * stays open (-DIDLE, a bit mask of members). The wait set's thread
 * runs shmkit_waitset_wait as src/waitset.c has it (scan, sleep_all,
 * sleep_on) and reads one message per event; the producers run the
 * waker's half of the channel's handshake exactly as src/chan.c and
 * src/futex.c have it (wake_peer: S2, then __shmkit_futex_wake_flagged:
 * S3, S4, futex_wake; close_as, then kick_peer: S5, S4, futex_wake).
 * README.md ("The wait set") maps the steps to the C.
 *
 * A member is abstracted to four shared words: the data word (the count
 * of messages published: for a channel the header at the head, P1/C1;
 * for a topic the slot's sequence word, T1/T2), closed (closed, then the
 * owner word 0: one release store here), the sleeping flag and the wake
 * sequence. The ring itself, its records and pads are chan.pml's: here a
 * message is there once the data word counts it.
 *
 * -DSHARED_MEMBER makes the last member a topic subscription: its flag is
 * shared by every subscriber (topic.h, W1-W2), the wait set never clears
 * it, and its publisher wakes all. -DSECOND_SUB adds a second subscriber
 * of that topic, a plain shmkit_sub on a cpu of its own sleeping as
 * topic.c's sub_sleep does (W1), so that two sleepers share the flag.
 *
 * Memory models: mem.pml, -DTSO or -DWMM (one of them is always given),
 * each process on a cpu of its own (0: the wait set's thread; 1 to NM:
 * the producers; NM + 1: the second subscriber). The accesses carry their
 * C orderings, and -DW_<site>=1 lowers one of them (under -DWMM).
 *
 * futex: as in chan.pml, a wait compares and queues in one step; a
 * futex_waitv on several words returns at once if any word differs, else
 * until a wake on any of them; futex_wake releases the waiters on that
 * word (for a channel only the wait set's thread can wait on it; for the
 * shared member also the second subscriber). -DSPURIOUS lets a wait
 * return at any moment. Without it a wait never ends on its own (no
 * slice): a sleeper left asleep while a member has unread data or a close
 * it has not seen is an invalid end state. A sleeper whose members all
 * went idle and have nothing unread is let go: the model's end, not the
 * protocol's (in C it would sleep on, rightly).
 *
 * Ghost variables (g_) only observe; the protocol reads none of them.
 */
#ifndef NM
#define NM 2			/* members: 2 or 3 */
#endif
#ifndef K
#define K 2			/* messages per member */
#endif
#ifndef KREST
#define KREST K			/* messages of each member but the first */
#endif
#define MSGS(i) ((i) == 0 -> K : KREST)
#ifndef IDLE
#define IDLE 0			/* bit i: member i's producer goes idle, never closes */
#endif
/*
 * Where the sleep reads each wake sequence: 0 before its flag (the code),
 * 1 after the flag, before the barrier, 2 after the barrier, before the
 * re-check, 3 after the re-check, just before the wait.
 */
#ifndef SEQ_POS
#define SEQ_POS 0
#endif

#define BIT(i) (1 << (i))
#define HAS(s, i) (((s) >> (i)) & 1)
#define ALL (BIT(NM) - 1)

#ifdef SHARED_MEMBER
#define SHM (NM - 1)		/* the topic subscription */
#define SHARED BIT(SHM)
#else
#define SHARED 0
#endif

#define WS 0			/* the wait set's thread's cpu */
#define PCPU(i) (1 + (i))	/* member i's producer's */
#ifdef SECOND_SUB
#ifndef SHARED_MEMBER
#error "-DSECOND_SUB needs -DSHARED_MEMBER"
#endif
#define SUBCPU (NM + 1)
#define NCPU (NM + 2)
#else
#define NCPU (NM + 1)
#endif

/* Shared words, four per member */
#define DATA(i)   (4 * (i))	/* messages published */
#define CLOSED(i) (4 * (i) + 1)	/* closed (and the owner word 0) */
#define FLAG(i)   (4 * (i) + 2)	/* sleeping / subs_sleeping */
#define SEQ(i)    (4 * (i) + 3)	/* wake_seq / sub_wake_seq: the futex word */
#define NADDR     (4 * NM)

/*
 * Store buffer entries. The wait set's thread makes at most 2 NM stores
 * between two barriers (the flags cleared after a sleep, those raised for
 * the next); a producer one (data, then S2's barrier), K + 1 without that
 * barrier (the mutant). store() asserts that no buffer fills; the mutant
 * without the sleeper's barrier has none at all, and there a store waits
 * for room, as it does on a real cpu.
 */
#if 2 * NM > K + 1
#define BUF (2 * NM)
#else
#define BUF (K + 1)
#endif

/* Orderings by site (-DW_<site>=1: that one access relaxed; -DWMM only) */
#ifndef W_SQ
#define W_SQ 0			/* sleep_all: load_acquire(seq), before the flag's store */
#endif
#ifndef W_C1
#define W_C1 0			/* poll: load_acquire(data word) (C1, T2) */
#endif
#ifndef W_PC
#define W_PC 0			/* poll: load_acquire(closed) (peer_closed) */
#endif
#ifndef W_P1
#define W_P1 0			/* producer: store_release(data word) (P1, T1) */
#endif
#ifndef W_CC
#define W_CC 0			/* close_as: store_release(closed), (owner) */
#endif
#ifndef W_S3
#define W_S3 0			/* wake_flagged: exchange(flag, 0), seq_cst */
#endif
#ifndef W_S4
#define W_S4 0			/* wake_flagged, kick: fetch_add(seq), seq_cst */
#endif
#ifndef W_S5
#define W_S5 0			/* kick: store(flag, 0), seq_cst */
#endif

short mem[NADDR];

#include "mem.pml"

byte ws_wait;			/* the words the wait set's thread sleeps on (bits) */
bit sub_wait;			/* the second subscriber sleeps on SEQ(SHM) */

/* ghosts */
byte g_pub[NM];			/* messages a producer has stored */
byte g_read[NM];		/* messages the wait set's thread has read */
bit g_pdone[NM];		/* the producer has closed, or gone idle */
bit g_end;			/* the wait set's thread has finished */

/* ------------------------------------------------------------- futex */

/* futex_wake(&seq(i), 1), or INT_MAX for the shared member */
inline futex_wake(i) {
	atomic {
		if
		:: HAS(ws_wait, i) -> ws_wait = 0
		:: else
		fi;
#ifdef SECOND_SUB
		if
		:: i == SHM -> sub_wait = 0
		:: else
		fi
#endif
	}
}

/* ---------------------------------------------------------- producers */

/*
 * wake_peer (chan.c), wake_subs(p, 0) (topic.c): S2's barrier, then
 * __shmkit_futex_wake_flagged: the flag (relaxed); if set, S3's exchange
 * to 0; the one who cleared it bumps the sequence (S4) and wakes.
 */
inline wake_peer(i) {
#ifndef NO_WAKE_MB
	fence(PCPU(i));		/* S2, W2: our publish before the flag's load */
#endif
	atomic { load(PCPU(i), FLAG(i), w, RLX); x = (w != 0); w = 0 };
	if
	:: x == 0
	:: atomic {		/* S3: exchange(flag, 0) */
		x == 1 && RMW_READY(PCPU(i), W_S3) ->
		x = (mem[FLAG(i)] != 0);
		mem[FLAG(i)] = 0;
		RMW_DONE(PCPU(i), W_S3, FLAG(i))
	   };
		if
		:: x == 0
		:: atomic {	/* S4: fetch_add(seq, 1) */
			x == 1 && RMW_READY(PCPU(i), W_S4) ->
			mem[SEQ(i)] = mem[SEQ(i)] + 1;
			RMW_DONE(PCPU(i), W_S4, SEQ(i));
			x = 0
		   };
			futex_wake(i)
		fi
	fi
}

/*
 * close_as (chan.c: closed, then owner 0, both release) and kick_peer:
 * barrier, S5's store of the flag 0, S4, wake; the topic's close is the
 * same (wake_subs(p, 1)).
 */
inline member_close(i) {
	store(PCPU(i), CLOSED(i), 1, ORD(REL, W_CC));
	fence(PCPU(i));
	atomic {		/* S5: store(flag, 0), seq_cst */
		RMW_READY(PCPU(i), W_S5) ->
		mem[FLAG(i)] = 0;
		RMW_DONE(PCPU(i), W_S5, FLAG(i))
	};
	atomic {		/* S4 */
		RMW_READY(PCPU(i), W_S4) ->
		mem[SEQ(i)] = mem[SEQ(i)] + 1;
		RMW_DONE(PCPU(i), W_S4, SEQ(i))
	};
	futex_wake(i)
}

/* member i's peer: MSGS(i) messages (commit, then wake_peer), then close or idle */
proctype Producer(byte i) {
	byte j;
	short w;
	bit x;

	do
	:: j < MSGS(i) ->
		atomic {	/* P1 (T1): the message is there */
			store(PCPU(i), DATA(i), j + 1, ORD(REL, W_P1));
			g_pub[i]++;
			j++
		};
		wake_peer(i)
	:: else -> break
	od;
	if
	:: HAS(IDLE, i)		/* open and idle from now on */
	:: else -> member_close(i)
	fi;
	g_pdone[i] = 1
}

/* ------------------------------------------------------------ wait set */

/*
 * The wait set's thread. Its loops over the members are written out, one
 * member after another (NM is 2 or 3), and its private bookkeeping is done
 * inside the step of the shared access next to it, so that each step is
 * one load or store of a shared word, as everywhere in these models.
 */
#if NM == 2
#define EACH(f) f(0); f(1)
#elif NM == 3
#define EACH(f) f(0); f(1); f(2)
#else
#error "NM is 2 or 3"
#endif

/*
 * A store of the wait set's thread. Without its barrier (the mutant) it
 * has no barrier and no locked instruction at all: a store then waits for
 * room in the buffer, as on a real cpu, instead of failing store()'s
 * assertion.
 */
#if defined(NO_SLEEP_MB) && (defined(TSO) || defined(WMM))
#define ws_store(a, v) atomic { sb_n[WS] < BUF -> store(WS, a, v, RLX) }
#else
#define ws_store(a, v) store(WS, a, v, RLX)
#endif

/*
 * __shmkit_chan_poll(ch, 0, 0) of a consumer, __shmkit_sub_poll(s, 0):
 * the data word (C1, T2); if nothing, closed (peer_closed, acquire; the
 * owner word is folded into it); if closed, the last look at the data
 * word: a message, or the end of the stream. A member reported goes into
 * ev or eof, and the next scan starts after it (ws->next).
 */
inline poll(i) {
	if
	:: !HAS(in_set, i)
	:: atomic {
		HAS(in_set, i) ->
		load(WS, DATA(i), w, ORD(ACQ, W_C1));
		assert(w <= g_pub[i]);
		if
		:: w > g_read[i] -> ev = ev | BIT(i); next = ((i) + 1) % NM; y = 0
		:: else -> y = 1
		fi;
		w = 0
	   };
		if
		:: y == 0
		:: atomic {
			y == 1 ->
			load(WS, CLOSED(i), w, ORD(ACQ, W_PC));
			y = (w != 0 -> 2 : 0);
			w = 0
		   }
		fi;
		if
		:: y == 0
		:: atomic {	/* closed: the last look */
			y == 2 ->
			load(WS, DATA(i), w, ORD(ACQ, W_C1));
			assert(w <= g_pub[i]);
			if
			:: w > g_read[i] -> ev = ev | BIT(i)
			:: else -> eof = eof | BIT(i)
			fi;
			next = ((i) + 1) % NM;
			y = 0;
			w = 0
		   }
		fi
	fi
}

/* scan: each member once, from ws->next on */
inline scan() {
	if
	:: next == 0 -> EACH(poll)
	:: next == 1 -> poll(1);
#if NM == 3
		poll(2);
#endif
		poll(0)
#if NM == 3
	:: next == 2 -> poll(2); poll(0); poll(1)
#endif
	fi
}

/* S1, W1, W3: the member's sequence (into vals), then its flag */
inline load_seq(i) {
	atomic { HAS(in_set, i) -> load(WS, SEQ(i), w, ORD(ACQ, W_SQ)); vals[i] = w; w = 0 }
}

inline announce(i) {
	if
	:: !HAS(in_set, i)
	:: HAS(in_set, i) ->
#if SEQ_POS == 0
		load_seq(i);
#endif
#ifndef FLAG_LATE
		ws_store(FLAG(i), 1);
#endif
#if SEQ_POS == 1
		load_seq(i);
#endif
		skip
#if defined(WMM) && W_SQ && SEQ_POS == 0 && !defined(FLAG_LATE)
	/*
	 * The load relaxed: the flag's store, independent of it, may become
	 * visible before the load is satisfied (Armv8 allows this load to
	 * store reordering, and C11 lets a compiler make it; mem.pml has no
	 * such reordering of its own, as chan.pml's C2 has none).
	 */
	:: HAS(in_set, i) -> ws_store(FLAG(i), 1); load_seq(i)
#endif
	fi
}

/* SEQ_POS 2 and 3: the sequence alone */
inline late_seq(i) {
	if
	:: !HAS(in_set, i)
	:: load_seq(i)
	fi
}

/* -DFLAG_LATE: the flag alone, after the re-check (the mutant) */
inline late_flag(i) {
	if
	:: !HAS(in_set, i)
	:: HAS(in_set, i) -> ws_store(FLAG(i), 1)
	fi
}

/* after the sleep: every flag cleared but a shared one (-DSHARED_CLEARS: all) */
#ifdef SHARED_CLEARS
#define CLEARS(i) HAS(in_set, i)
#else
#define CLEARS(i) (HAS(in_set, i) && !HAS(SHARED, i))
#endif
inline clear(i) {
	if
	:: !CLEARS(i)
	:: CLEARS(i) -> ws_store(FLAG(i), 0)
	fi
}

/*
 * Nothing left to wait for: every member still in the set went idle with
 * all its messages read. Only then may the model let a sleeper go.
 */
#define QUIET(i) (!HAS(in_set, i) || (HAS(IDLE, i) && g_pdone[i] && g_read[i] == MSGS(i)))
/* a futex_waitv word that has moved since its value was read */
#define MOVED(s, i) (HAS(s, i) && mem[SEQ(i)] != vals[i])
#if NM == 2
#define WS_QUIET (QUIET(0) && QUIET(1))
#define ANY_MOVED(s) (MOVED(s, 0) || MOVED(s, 1))
#define NO_VALS vals[0] = 0; vals[1] = 0
#else
#define WS_QUIET (QUIET(0) && QUIET(1) && QUIET(2))
#define ANY_MOVED(s) (MOVED(s, 0) || MOVED(s, 1) || MOVED(s, 2))
#define NO_VALS vals[0] = 0; vals[1] = 0; vals[2] = 0
#endif
/* the words slept on: all members'; -DWAIT_FIRST, the first member's alone */
#ifdef WAIT_FIRST
#define WORDS (HAS(in_set, 0) -> BIT(0) : (HAS(in_set, 1) -> BIT(1) : BIT(2)))
#else
#define WORDS in_set
#endif

/*
 * sleep_on: futex_waitv on the members' words, which returns at once if
 * any has moved (with one member left, futex_wait on its word: the same
 * here).
 */
inline sleep_on() {
	atomic {
		if
		:: ANY_MOVED(WORDS)		/* -EAGAIN */
		:: else -> ws_wait = WORDS
		fi;
		NO_VALS
	};
	if
	:: ws_wait == 0
	:: atomic { ws_wait != 0 && WS_QUIET -> ws_wait = 0; letgo = 1 }
#ifdef SPURIOUS
	:: atomic { ws_wait != 0 -> ws_wait = 0 }
#endif
	fi
}

/*
 * sleep_all: for each member its sequence, then its flag (S1, W1, W3);
 * one barrier; the re-check; the sleep and a scan after it; then every
 * flag cleared but a shared one. The mutants: -DNO_SLEEP_MB (no barrier),
 * -DFLAG_LATE (the flags raised after the re-check), -DSHARED_CLEARS (the
 * shared flag cleared too); SEQ_POS moves the sequence's load.
 */
inline sleep_all() {
	EACH(announce);
#ifndef NO_SLEEP_MB
	fence(WS);		/* S1, W1, W3: every flag before every re-check */
#endif
#if SEQ_POS == 2
	EACH(late_seq);
#endif
	scan();
	if
	:: (ev | eof) != 0 -> atomic { NO_VALS }
	:: else ->
#if SEQ_POS == 3
		EACH(late_seq);
#endif
#ifdef FLAG_LATE
		EACH(late_flag);
#endif
		sleep_on();
		scan()
	fi;
	EACH(clear)
}

/*
 * The application: one message read for each member reported ready (in
 * order: the next one; once: never past what was published); at the end
 * of a member's stream every message has been read, and the member leaves
 * the set (shmkit_waitset_del).
 */
inline take(i) {
	if
	:: HAS(ev, i) -> assert(g_read[i] < g_pub[i]); g_read[i]++
	:: HAS(eof, i) -> assert(g_read[i] == MSGS(i)); in_set = in_set - BIT(i)
	:: else
	fi
}

/* shmkit_waitset_wait in a loop: the first scan (and the spin's), then sleep_all */
proctype WaitSet() {
	byte in_set = ALL, next, ev, eof, y;
	short vals[NM], w;
	bit letgo;

	do
	:: in_set == 0 -> break
	:: letgo -> break
	:: else ->
		scan();
		if
		:: (ev | eof) != 0
		:: else -> sleep_all()
		fi;
		d_step { EACH(take); ev = 0; eof = 0 }
	od;
	g_end = 1
}

/* -------------------------------------------------- a second subscriber */

#ifdef SECOND_SUB
/*
 * Another subscriber of the shared member's topic: msg_ready, closed, the
 * last look; sub_sleep (W1): the sequence, the shared flag raised and
 * never cleared, barrier, the re-check, futex_wait.
 */
proctype Sub() {
	byte r;
	short w, seq;
	bit x, letgo;

	do
	:: letgo -> break
	:: else ->
		atomic { load(SUBCPU, DATA(SHM), w, ACQ); x = (w > r); w = 0 };
		if
		:: x == 1 -> atomic { assert(r < g_pub[SHM]); r++; x = 0 }
		:: else ->
			atomic { load(SUBCPU, CLOSED(SHM), w, ACQ); x = (w != 0); w = 0 };
			if
			:: x == 1 ->
				atomic { load(SUBCPU, DATA(SHM), w, ACQ); x = (w > r); w = 0 };
				if
				:: x == 1 -> atomic { assert(r < g_pub[SHM]); r++; x = 0 }
				:: else -> assert(r == MSGS(SHM)); break	/* end of stream */
				fi
			:: else ->
				atomic { load(SUBCPU, SEQ(SHM), seq, ACQ) };
				store(SUBCPU, FLAG(SHM), 1, RLX);
				fence(SUBCPU);
				atomic { load(SUBCPU, DATA(SHM), w, ACQ); x = (w > r); w = 0 };
				if
				:: x == 1 -> x = 0
				:: else ->
					atomic { load(SUBCPU, CLOSED(SHM), w, ACQ); x = (w != 0); w = 0 };
					if
					:: x == 1 -> x = 0
					:: else ->
						atomic {
							if
							:: mem[SEQ(SHM)] == seq -> sub_wait = 1
							:: else
							fi
						};
						if
						:: sub_wait == 0
						:: atomic {
							sub_wait == 1 && HAS(IDLE, SHM) && g_pdone[SHM] && r == MSGS(SHM) ->
							sub_wait = 0; letgo = 1
						   }
#ifdef SPURIOUS
						:: atomic { sub_wait == 1 -> sub_wait = 0 }
#endif
						fi
					fi
				fi;
				seq = 0
			fi
		fi
	od
}
#endif

init {
	byte c;

	atomic {
#if defined(TSO) || defined(WMM)
		do
		:: c < NCPU -> sync_view(c); run Drain(c); c++
		:: else -> break
		od;
#endif
		run WaitSet();
		run Producer(0);
		run Producer(1);
#if NM > 2
		run Producer(2);
#endif
#ifdef SECOND_SUB
		run Sub();
#endif
	}
}

/* the wait set's thread always finishes (-DLIVE: check.sh runs it with -a) */
ltl eos { <> g_end }
