/*
 * A Promela model of an inbox's sleep and wake-up (I1, I2) and of its
 * lane discovery (lanes_used): src/inbox.h, src/inbox.c.
 *
 * One consumer and NL producers (2; -DNL=3), each producer with a lane of
 * its own and a cpu of its own. Lanes below JOINED (1) were taken before
 * the consumer started: lanes_used starts there. The other producers
 * join while the consumer runs, as __shmkit_inbox_join has it: the lane's
 * open kicks the consumer (start_side's kick_peer on cons_sleep), then
 * mark_used raises lanes_used with a seq_cst CAS, then the messages. The
 * first lane's producer sends K messages (2), the others KREST (K unless
 * given); each message is a commit: the publish (P1), then wake_peer
 * (S2) and __shmkit_futex_wake_flagged (S3, S4, futex_wake) on the one
 * sleep block all lanes share, cons_sleep. Then a producer stays idle
 * with its lane open (-DCLOSE: closes it, and close_as kicks the
 * consumer): a close wakes unconditionally and would hide a lost
 * wake-up, as in waitset.pml.
 *
 * The consumer is shmkit_inbox_recv in a loop: find_ready (lanes_used
 * with acquire, clamped; from ib->next on, one look at each lane below
 * it); a message found is taken and the next look starts after its lane
 * (round robin); none, and it waits through the inbox's private wait set
 * of one member (src/waitset.c: sleep_all with announce and unannounce,
 * shared = 0): the wake sequence (acquire), the flag raised, one full
 * barrier, find_ready again (the re-check, lanes_used read again),
 * futex_wait on the sequence if nothing, find_ready after it, the flag
 * cleared. It stops once it has taken every message sent.
 *
 * A lane is abstracted to one shared word, the count of its messages
 * published (the record header at the head, P1 and C1, as waitset.pml
 * abstracts a member); the ring, its records and pads are chan.pml's.
 * A lane's claim (its producer side's owner word) is not modelled: lane
 * i is producer i's. Shared words: the lanes' counts, lanes_used, and
 * cons_sleep's sleeping and wake_seq.
 *
 * Memory models: mem.pml, -DTSO or -DWMM (one of them is always given);
 * the consumer on cpu 0, producer i on cpu i + 1. -DW_<site>=1 lowers one
 * access's ordering (under -DWMM).
 *
 * futex: as in chan.pml and waitset.pml, a wait compares and queues in
 * one step, and a wake releases the waiter. No wait ends on its own (no
 * slice, no timeout; -DSPURIOUS lets it): the consumer asleep for good
 * with a message unread is an invalid end state.
 *
 * Switches: -DTSO or -DWMM; -DNL= (2 or 3), -DK=, -DKREST=, -DJOINED=;
 * -DCLOSE, -DSPURIOUS, -DNO_JOIN_KICK (the joiner's open kicks no one);
 * -DCOUNT (wakes <= sleeps asserted); the mutants -DNO_SLEEP_MB,
 * -DSTALE_USED, -DUSED_LATE=, -DNO_WAKE_MB, -DWAKE_STORE, -DSEQ_POS=;
 * the weakenings -DW_<site>=1 (SQ, LU, C1, P1, S3, S4, S5; -DWMM only).
 *
 * Ghost variables (g_) only observe; the protocol reads none of them.
 */
#ifndef NL
#define NL 2			/* producers, one lane each: 2 or 3 */
#endif
#ifndef K
#define K 2			/* messages of lane 0's producer */
#endif
#ifndef KREST
#define KREST K			/* messages of each other producer */
#endif
#define MSGS(i) ((i) == 0 -> K : KREST)
#define TOTAL (K + (NL - 1) * KREST)
#ifndef JOINED
#define JOINED 1		/* lanes taken before the consumer starts */
#endif
/*
 * Where the consumer reads the wake sequence: 0 before raising its flag
 * (the code), 1 just after (mutant 6).
 */
#ifndef SEQ_POS
#define SEQ_POS 0
#endif
/*
 * Where a joining producer raises lanes_used: 0 before its first message
 * (the code); 1 after that message's publish, before its wake_peer; 2
 * after its first message's wake_peer (mutant 3).
 */
#ifndef USED_LATE
#define USED_LATE 0
#endif

#define C 0			/* the consumer's cpu */
#define PCPU(i) (1 + (i))	/* producer i's */
#define NCPU (NL + 1)

/* Shared words */
#define DATA(i) (i)		/* lane i: messages published */
#define USED NL			/* lanes_used */
#define FLAG (NL + 1)		/* cons_sleep.sleeping */
#define SEQ (NL + 2)		/* cons_sleep.wake_seq: the futex word */
#define NADDR (NL + 3)

/*
 * Store buffer entries. The consumer stores twice between two barriers
 * (the flag cleared after a sleep, raised for the next); a producer once
 * (a message, then S2's barrier), at most one more than its messages
 * without that barrier or with the wake's plain store (mutants). store() asserts that no
 * buffer fills; the consumer without its barrier (a mutant) has none at
 * all, and there a store waits for room, as on a real cpu.
 */
#if K >= KREST && K + 1 > 2
#define BUF (K + 1)
#elif KREST > K && KREST + 1 > 2
#define BUF (KREST + 1)
#else
#define BUF 2
#endif

/* Orderings by site (-DW_<site>=1: that one access relaxed; -DWMM only) */
#ifndef W_SQ
#define W_SQ 0			/* announce: load_acquire(wake_seq) */
#endif
#ifndef W_LU
#define W_LU 0			/* find_ready: load_acquire(lanes_used) */
#endif
#ifndef W_C1
#define W_C1 0			/* find_ready: a lane's data_ready (C1) */
#endif
#ifndef W_P1
#define W_P1 0			/* rec_publish: store_release (P1) */
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

bit c_wait;			/* the consumer sleeps on SEQ */

/* ghosts */
byte g_pub[NL];			/* messages a producer has stored */
byte g_read[NL];		/* messages the consumer has taken */
/*
 * -DCOUNT: announcements (h->sleeps) less the wakes made (the lanes'
 * wakes): each announcement allows one wake, so it never goes below 0.
 * Off by default: it triples the states.
 */
byte g_credit;

/* ------------------------------------------------------------- futex */

inline futex_wake() {
	atomic {
		if
		:: c_wait -> c_wait = 0
		:: else
		fi
	}
}

/* ---------------------------------------------------------- producers */

/* a wake made: one announcement's (with -DCOUNT) */
inline count_wake() {
#ifdef COUNT
	assert(g_credit > 0);	/* wakes <= sleeps */
	g_credit--
#else
	skip
#endif
}

/*
 * wake_peer (chan.c) on cons_sleep: S2's barrier, then
 * __shmkit_futex_wake_flagged: the flag (relaxed); if set, S3's exchange
 * to 0; the one who cleared it bumps the sequence (S4) and wakes. Each
 * wake counted is one announcement's: wakes <= sleeps (chan.c, S1).
 * -DWAKE_STORE (mutant 5): a plain store of 0 instead of the exchange,
 * and every producer that saw the flag bumps and wakes.
 */
inline wake_peer(me) {
#ifndef NO_WAKE_MB
	fence(me);		/* S2: our publish before the flag's load */
#endif
	atomic { load(me, FLAG, w, RLX); x = (w != 0); w = 0 };
	if
	:: x == 0
	:: x == 1 ->
#ifdef WAKE_STORE
		atomic { store(me, FLAG, 0, RLX); count_wake() };
#else
		atomic {	/* S3: exchange(flag, 0) */
			RMW_READY(me, W_S3) ->
			x = (mem[FLAG] != 0);
			mem[FLAG] = 0;
			RMW_DONE(me, W_S3, FLAG);
			if
			:: x == 1 -> count_wake()
			:: else
			fi
		};
#endif
		if
		:: x == 0
		:: atomic {	/* S4: fetch_add(seq, 1) */
			x == 1 && RMW_READY(me, W_S4) ->
			mem[SEQ] = mem[SEQ] + 1;
			RMW_DONE(me, W_S4, SEQ);
			x = 0
		   };
			futex_wake()
		fi
	fi
}

/*
 * kick_peer on cons_sleep: barrier, S5's store of the flag 0, S4, wake.
 * A lane's open (start_side) and close (close_as) do it.
 */
inline kick(me) {
	fence(me);
	atomic {		/* S5: store(flag, 0), seq_cst */
		RMW_READY(me, W_S5) ->
		mem[FLAG] = 0;
		RMW_DONE(me, W_S5, FLAG)
	};
	atomic {		/* S4 */
		RMW_READY(me, W_S4) ->
		mem[SEQ] = mem[SEQ] + 1;
		RMW_DONE(me, W_S4, SEQ)
	};
	futex_wake()
}

/*
 * mark_used (inbox.c): lanes_used, relaxed; while it is not above our
 * lane, a seq_cst CAS to lane + 1, which on failure gives the value found.
 */
inline mark_used(me, i) {
	atomic { load(me, USED, w, RLX) };
	do
	:: w > i -> break
	:: else ->
		atomic {
			RMW_READY(me, 0) ->
			if
			:: mem[USED] == w -> mem[USED] = i + 1; w = i + 1
			:: else -> w = mem[USED]
			fi;
			RMW_DONE(me, 0, USED)
		}
	od;
	w = 0
}

/* lane i's producer: join (unless taken before), MSGS(i) commits, idle or close */
proctype Producer(byte i) {
	byte j;
	short w;
	bit x;

	if
	:: i < JOINED
	:: else ->
#ifndef NO_JOIN_KICK
		kick(PCPU(i));	/* __shmkit_lane_open: start_side's kick_peer */
#endif
#if USED_LATE == 0
		mark_used(PCPU(i), i);
#endif
		skip
	fi;
	do
	:: j < MSGS(i) ->
		atomic {	/* P1: the message is there */
			store(PCPU(i), DATA(i), j + 1, ORD(REL, W_P1));
			g_pub[i]++;
			j++
		};
#if USED_LATE == 1
		if
		:: i >= JOINED && j == 1 -> mark_used(PCPU(i), i)
		:: else
		fi;
#endif
		wake_peer(PCPU(i));
#if USED_LATE == 2
		if
		:: i >= JOINED && j == 1 -> mark_used(PCPU(i), i)
		:: else
		fi;
#endif
		skip
	:: else -> break
	od;
#ifdef CLOSE
	kick(PCPU(i))		/* close_as: kick_peer */
#endif
}

/* ------------------------------------------------------------ consumer */

/*
 * A store of the consumer. Without its barrier (the mutant) it has no
 * barrier and no locked instruction at all: a store then waits for room
 * in the buffer, as on a real cpu, instead of failing store()'s assertion.
 */
#if defined(NO_SLEEP_MB) && (defined(TSO) || defined(WMM))
#define c_store(a, v) atomic { sb_n[C] < BUF -> store(C, a, v, RLX) }
#else
#define c_store(a, v) store(C, a, v, RLX)
#endif

/*
 * find_ready (inbox.c): with reload, lanes_used (acquire), clamped to the
 * lanes; else the value the last look read (mutant 2, for the re-check).
 * Then from next on, wrapping below used, one look at each lane: its data
 * word (C1, data_ready), a message if it counts more than were taken. The
 * first lane found is ready.
 */
inline find_ready(reload) {
	if
	:: reload ->
		atomic {
			load(C, USED, w, ORD(ACQ, W_LU));
			used = (w > NL -> NL : w);
			w = 0
		}
	:: else
	fi;
	atomic {
		i = (next >= used -> 0 : next);
		k = 0;
		found = 0;
		looked = (used == 0)
	};
	do
	:: looked -> break
	:: atomic {
		!looked ->
		load(C, DATA(i), w, ORD(ACQ, W_C1));
		assert(w <= g_pub[i]);	/* never past what was stored */
		if
		:: w > g_read[i] -> found = 1; ready = i; looked = 1
		:: else ->
			i = (i + 1 == used -> 0 : i + 1);
			k++;
			looked = (k == used)
		fi;
		w = 0
	   }
	od;
	atomic {
		i = 0;
		k = 0;
		looked = 0;
#ifndef STALE_USED
		used = 0	/* read again at every look */
#else
		skip
#endif
	}
}

/*
 * The message of lane ready: the next one of its lane, published (in
 * order, once); the next look starts after this lane (ib->next).
 */
inline take() {
	d_step {
		assert(g_read[ready] < g_pub[ready]);
		g_read[ready]++;
		got++;
		next = ready + 1;
		ready = 0;
		found = 0
	}
}

/* announce: the sequence (acquire), then the flag; counted as raised */
inline load_seq() {
	atomic { load(C, SEQ, w, ORD(ACQ, W_SQ)); val = w; w = 0 }
}

inline raise_flag() {
	atomic {
		c_store(FLAG, 1);
#ifdef COUNT
		g_credit++
#else
		skip
#endif
	}
}

/*
 * futex_wait(&wake_seq, val): returns at once if the sequence moved, else
 * sleeps until a wake (-DSPURIOUS: or at any moment).
 */
inline futex_wait() {
	atomic {
		if
		:: mem[SEQ] != val	/* -EAGAIN */
		:: else -> c_wait = 1
		fi
	};
	if
	:: c_wait == 0
#ifdef SPURIOUS
	:: atomic { c_wait == 1 -> c_wait = 0 }
#endif
	fi
}

/* the re-check reads lanes_used again (the code), or not (mutant 2) */
#ifdef STALE_USED
#define RECHECK_RELOAD 0
#else
#define RECHECK_RELOAD 1
#endif

/*
 * sleep_all of a wait set whose one member is the inbox: announce (the
 * sequence, the flag), the barrier, the re-check, the sleep and a look
 * after it, unannounce (shared = 0: the consumer clears its own flag).
 */
inline sleep_all() {
	if
#if SEQ_POS == 0
	:: load_seq(); raise_flag()
#if defined(WMM) && W_SQ
	/*
	 * The load relaxed: the flag's store, independent of it, may become
	 * visible before the load is satisfied (Armv8 allows it; mem.pml
	 * makes no such reordering by itself), as in waitset.pml.
	 */
	:: raise_flag(); load_seq()
#endif
#else
	:: raise_flag(); load_seq()
#endif
	fi;
#ifndef NO_SLEEP_MB
	fence(C);		/* I1 (S1): the flag before the re-check */
#endif
	find_ready(RECHECK_RELOAD);
	if
	:: found
	:: else -> futex_wait(); find_ready(1)
	fi;
	c_store(FLAG, 0);
	val = 0
}

/* shmkit_inbox_recv in a loop, until every message sent is taken */
proctype Consumer() {
	byte used, next, i, k, ready, got;
	short w, val;
	bit found, looked;

	do
	:: got == TOTAL -> break
	:: else ->
		find_ready(1);
		if
		:: found
		:: else -> sleep_all()
		fi;
		if
		:: found -> take()
		:: else
		fi
	od;
	assert(g_read[0] == MSGS(0) && g_read[1] == MSGS(1));
#if NL > 2
	assert(g_read[2] == MSGS(2))
#endif
}

init {
	byte c;

	atomic {
		mem[USED] = JOINED;
#if defined(TSO) || defined(WMM)
		do
		:: c < NCPU -> sync_view(c); run Drain(c); c++
		:: else -> break
		od;
#endif
		run Consumer();
		run Producer(0);
		run Producer(1);
#if NL > 2
		run Producer(2);
#endif
	}
}
