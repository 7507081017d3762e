/*
 * A Promela model of the topic protocol: one publisher, many subscribers,
 * each message written once into a ring of fixed slots. It was written
 * before src/topic.c, from the protocol text in the header comment of
 * src/topic.h, and follows it label by label (T1-T4, J1-J2, W1-W3, leaving, dead
 * subscribers, closing), one shared-memory access per step, as chan.pml
 * and owner.pml do. README.md ("Topics") maps the steps to the labels.
 *
 * Sizes: NS = 4 slots, PW payload words per slot (2: a copy made of words
 * from two messages shows), N messages (5: slot 0 is written twice), one
 * publisher on cpu 0, two subscribers on cpus 1 and 2 (table entries 0
 * and 1). Subscriber 0 is there from the start at position 0;
 * subscriber 1 joins (J1) at any moment, with history H.
 *
 * Payload is abstracted: the word j of message s holds s + 1 (0: never
 * written), so a copy is whole when every word holds k + 1 for the k
 * read. The len word is one more such word and is not modelled apart.
 * (A successor publisher writes s + 9: see below.)
 *
 * Policies: -DBLOCK (the publisher waits for every active subscriber, T4,
 * with a cached minimum and J2's re-scan) or -DOVERWRITE (it never waits;
 * subscribers validate, T2, and count what they lost).
 *
 * Memory models: mem.pml, -DTSO or -DWMM (one of them is always given).
 * T1's release fence: nothing on x86; under -DWMM each payload store
 * after it is made a release store, which keeps it behind the odd
 * sequence word (and, more than the fence does, behind the payload word
 * before it). T2's acquire fence is a sync of the view (nothing on x86).
 *
 * futex: as in chan.pml, futex_wait compares and queues in one step;
 * futex_wake releases every waiter on the word (the subscribers share
 * sub_wake_seq). wake_seq words are not wrapped: at most N + 1 bumps.
 * The publisher's wait times out (the 20 ms slice) only while a
 * subscriber is dead (-DKILL_SUB), and a subscriber's only while the
 * publisher is dead and no successor has claimed the topic (-DKILL_PUB;
 * -DLAX_SLICE: also a sleep that began before the death), so a lost
 * wake-up among live processes shows as an invalid end state.
 *
 * A dead publisher (-DKILL_PUB): a Killer may kill the first publisher
 * before any of its steps until it has finished (also while it sleeps,
 * or half-way through a wake or its close); its buffered stores land,
 * and /proc (the ghost g_palive) calls its owner word dead. A subscriber
 * then runs src/topic.c's pub_gone: closed (acquire), the owner word
 * (acquire), /proc for a nonzero owner, after a death a second look at
 * closed and the owner word, and the last look at its slot (msg_ready):
 * -SHMKIT_EPEERDEAD only when that slot is not whole. Alone it stops
 * there, and must have had every message the dead one completed (its
 * even seq word stored), also one it had not yet counted in published;
 * and a publisher that closed before it died (exited) must read as the
 * end of the stream, never as dead.
 *
 * -DTAKEOVER adds a successor (owner word 10) on the dead one's cpu:
 * once the first is dead it opens as shmkit_pub_open does (claim: the
 * owner word, /proc, the CAS; published; stepping over a slot whose word
 * is already 2 pos + 2; published; closed = 0; with -DOPEN_KICK the wake
 * of every sleeper the code has made since finding 7) and publishes the
 * rest of the N messages, rewriting a slot left odd. The subscribers
 * take -SHMKIT_EPEERDEAD as "try again", skip some of pub_gone's looks
 * (C makes them every 20 ms), and read on to the end of the stream.
 * Each message number is completed at most once (asserted at the even
 * seq word: a number reused is a fault), and the successor's payload
 * words hold s + 9, so that a copy mixing its rewrite of a slot with its
 * predecessor's half-written one shows.
 *
 * Ghost variables (g_) only observe; the protocol reads none of them
 * except g_alive and g_palive, the /proc lookups of owner words.
 */
#if !defined(BLOCK) && !defined(OVERWRITE)
#define BLOCK
#endif

#define NS 4			/* nslots */
#ifndef PW
#define PW 2			/* payload words per slot */
#endif
#ifndef N
#define N 5			/* messages published before closing */
#endif
#ifndef H
#define H 2			/* history: at most NS - 2 */
#endif
#ifndef J1LIM
#define J1LIM (NS - 2)		/* J1: "if P - pos > nslots - 2" */
#endif
#define NSUB 2			/* table entries; entry e runs on cpu e + 1 */

/*
 * Orderings by site (-DW_<site>=1 makes that one access relaxed; only
 * -DWMM gives them a meaning).
 */
#ifndef W_T1F
#define W_T1F 0			/* T1: the release fence after the odd seq */
#endif
#ifndef W_T1S
#define W_T1S 0			/* T1: store_release(slot.seq, 2s + 2) */
#endif
#ifndef W_T1P
#define W_T1P 0			/* T1: store_release(published, s + 1) */
#endif
#ifndef W_T2
#define W_T2 0			/* T2: load_acquire(slot.seq) */
#endif
#ifndef W_T2F
#define W_T2F 0			/* T2 (overwrite): the acquire fence after the copy */
#endif
#ifndef W_T3
#define W_T3 0			/* T3: store_release(pos, k + 1) */
#endif
#ifndef W_T4
#define W_T4 0			/* T4: load_acquire(pos) */
#endif
#ifndef W_CL
#define W_CL 0			/* end of stream: load_acquire(closed) */
#endif
/*
 * A dead publisher (-DKILL_PUB) and its successor (-DTAKEOVER): the
 * subscriber's pub_gone and the new publisher's shmkit_pub_open.
 */
#ifndef W_GC
#define W_GC 0			/* pub_gone: load_acquire(closed) */
#endif
#ifndef W_GO
#define W_GO 0			/* pub_gone: load_acquire(owner) */
#endif
#ifndef W_GC2
#define W_GC2 0			/* pub_gone, after /proc: load_acquire(closed) again */
#endif
#ifndef W_GO2
#define W_GO2 0			/* pub_gone, after /proc: load_acquire(owner) again */
#endif
#ifndef W_OPP
#define W_OPP 0			/* pub_open: load_acquire(published) */
#endif
#ifndef W_OPS
#define W_OPS 0			/* pub_open: load_acquire(slot.seq), the step over */
#endif
#ifndef W_OPW
#define W_OPW 0			/* pub_open: store_release(published, pos) */
#endif
#ifndef W_OPC
#define W_OPC 0			/* pub_open: store_release(closed, 0) */
#endif
#if defined(TAKEOVER) && !defined(KILL_PUB)
#define KILL_PUB
#endif
/*
 * J2's load(joins): the text gives no ordering, so relaxed; -DJ2_ACQ
 * makes it an acquire load.
 */
#ifdef J2_ACQ
#define J2_ORD ACQ
#else
#define J2_ORD RLX
#endif

#define NCPU 3			/* 0: the publisher; 1, 2: the subscribers */
#define PUB 0
#define SLOTW (1 + PW)
#define SEQ(k)     (((k) % NS) * SLOTW)		/* slot(k).seq */
#define PAY(k, j)  (((k) % NS) * SLOTW + 1 + (j))	/* its payload word j */
#define PUBLISHED  (NS * SLOTW)
#define JOINS      (PUBLISHED + 1)
#define POS(e)     (PUBLISHED + 2 + (e))	/* table[e].pos */
#define SOWNER(e)  (PUBLISHED + 4 + (e))	/* table[e].owner */
#define CLOSED     (PUBLISHED + 6)
#define POWNER     (PUBLISHED + 7)		/* the publisher's owner word */
#define SUBS_SLEEPING (PUBLISHED + 8)
#define SUB_WAKE_SEQ  (PUBLISHED + 9)
#define PUB_SLEEPING  (PUBLISHED + 10)
#define PUB_WAKE_SEQ  (PUBLISHED + 11)
#define NADDR      (PUBLISHED + 12)
/*
 * Store buffer entries: the publisher makes at most PW + 4 stores between
 * two barriers (pub_sleeping = 0, T1's odd seq, payload, even seq,
 * published; then W2's barrier); a subscriber fewer. A successor
 * (-DTAKEOVER) makes PW + 5 before its first: published and closed = 0
 * at its open, then its first message's.
 */
#ifndef BUF
#ifdef TAKEOVER
#define BUF (PW + 5)
#else
#define BUF (PW + 4)
#endif
#endif

short mem[NADDR];

#include "mem.pml"

bit fw[NCPU];			/* this cpu's process is blocked in futex_wait */

/* ghosts */
byte g_pub;			/* published, as stored by the publisher */
byte g_start[NSUB];		/* a subscriber's first position */
byte g_deliv[NSUB];		/* messages delivered */
byte g_lost[NSUB];		/* messages counted lost (overwrite) */
byte g_pub_claim;		/* published in memory when the joiner claimed */
byte g_repeat;			/* J1's repeats */
bit g_alive[NSUB];		/* /proc: the process named by entry e's owner lives */
bit g_dead;			/* a subscriber was killed (its slices may end) */
bit g_kill;			/* the Killer's signal to subscriber 0 */
bit g_done[NSUB];
bit g_closed;			/* the publisher has closed */
byte g_slices;			/* the publisher's waits ended by the slice */
#ifdef KILL_PUB
#define OWNER1 9		/* the first publisher's owner word */
#define OWNER2 10		/* its successor's (-DTAKEOVER) */
bit g_palive = 1;		/* /proc: the first publisher lives */
bit g_pdead;			/* it was killed (its stores have landed) */
bit g_pkill;			/* the Killer's signal to it */
bit g_pdone;			/* it has finished: no kill after that */
bit g_pclosed;			/* it has stored closed = 1 (a clean end) */
bit g_claimed;			/* the successor's claim has succeeded */
byte g_ncompl1;			/* messages the first publisher completed (even seq) */
byte g_whole;			/* bit s: message s completed (by either) */
byte g_wr2;			/* bit s: message s completed by the successor */
#ifdef LAX_SLICE
bit g_swin[NSUB];		/* a subscriber between W1's seq load and its wait's end */
bit g_across[NSUB];		/* that window held the first publisher's death */
#endif
/*
 * A payload word of message s: s + 1, or s + 9 when the successor wrote
 * it, so that a copy mixing a dead publisher's half-written slot with its
 * successor's rewrite of it shows; what a whole copy of message k holds.
 */
#define PV(s)   ((s) + 1 + (second -> 8 : 0))
#define EXPV(k) ((k) + 1 + (((g_wr2 >> (k)) & 1) -> 8 : 0))
#else
#define PV(s)   ((s) + 1)
#define EXPV(k) ((k) + 1)
#endif

/* ------------------------------------------------------------- futex */

#ifdef IDLE
#define IDLE_END (k == N && g_closed)
#else
#define IDLE_END false
#endif

/*
 * A subscriber's slice: its wait may end without a wake while the owner
 * word names a dead publisher (no successor has claimed it: nobody would
 * wake it, and in C the 20 ms slice ends it to look at the publisher).
 * Once a successor has claimed the topic, the sleeper must be woken like
 * any other; -DLAX_SLICE also lets a sleep end that began before the
 * death, as chan.pml's does (a waker killed between its exchange of the
 * flag and its futex_wake leaves the sleeper with a cleared flag).
 */
#ifdef KILL_PUB
#ifdef LAX_SLICE
#define SUB_SLICE(e) ((g_pdead && !g_claimed) || g_across[e])
#else
#define SUB_SLICE(e) (g_pdead && !g_claimed)
#endif
#else
#define SUB_SLICE(e) false
#endif

/*
 * ok: when the wait may end without a wake. The publisher's: the 20 ms
 * slice, only while a subscriber is dead (its next check of the entries
 * that hold it back); counted, and bounded, so that a publisher that
 * never evicts the dead shows (a wait that times out forever is a cycle,
 * not an end state). A subscriber's: -DIDLE's end, the model's, not the
 * protocol's: one that has read everything of a publisher gone idle is
 * let go.
 */
inline futex_wait(me, a, s, ok) {
	atomic {
		if
		:: mem[a] == s -> fw[me] = 1
		:: else
		fi
	};
	if
	:: fw[me] == 0
	:: atomic {
		fw[me] == 1 && (ok) -> fw[me] = 0;
		if
		:: me == PUB -> g_slices++; assert(g_slices <= 2)
		:: else
		fi
	   }
	fi
}

/* ------------------------------------------------------------ publisher */

/*
 * T4's scan: the owner word of each entry, and the pos of each active one
 * (load_acquire); minp is their minimum (255: none active); hold[e] the
 * owner word of an entry that holds message s back. The scan goes
 * through the table in order; -DSCAN_DOWN from its end, so that the
 * joiner's entry is the first one loaded after J2.
 */
#ifdef SCAN_DOWN
#define SCAN(e) (NSUB - 1 - (e))
#else
#define SCAN(e) (e)
#endif
inline scan(s) {
	minp = 255;
	e = 0;
	do
	:: e < NSUB ->
		atomic { load(PUB, SOWNER(SCAN(e)), v, ACQ); x = v; v = 0 };
		if
		:: x != 0 ->
			atomic {
				load(PUB, POS(SCAN(e)), v, ORD(ACQ, W_T4));
				assert(v <= s);	/* scan_subs' -SHMKIT_ECORRUPT */
				if
				:: v < minp -> minp = v
				:: else
				fi;
				hold[SCAN(e)] = (v + NS <= s -> x : 0);
				v = 0
			}
		:: else -> hold[SCAN(e)] = 0
		fi;
		x = 0;
		e++
	:: else -> e = 0; break
	od;
	rescan = 0
}

/*
 * A dead subscriber among those holding the publisher back: /proc (the
 * ghost g_alive, after system calls: a full barrier), then a CAS of its
 * owner word from the dead owner's value to 0.
 */
inline evict() {
	e = 0;
	do
	:: e < NSUB ->
		if
		:: hold[e] != 0 ->
			atomic { fence(PUB); x = (g_alive[hold[e] - 1] == 0) };
			if
			:: x ->
				atomic {
					RMW_READY(PUB, 0) ->
					if
					:: mem[SOWNER(e)] == hold[e] -> mem[SOWNER(e)] = 0
					:: else
					fi;
					RMW_DONE(PUB, 0, SOWNER(e))
				};
				rescan = 1
			:: else
			fi;
			x = 0;
			hold[e] = 0
		:: else
		fi;
		e++
	:: else -> e = 0; break
	od
}

/* T4 and W3: wait until every active pos is past s - NS */
inline room(s) {
	do
	:: s < NS -> break
	:: s >= NS && !rescan && minp + NS > s -> break	/* the cached minimum */
	:: else ->
		scan(s);
		if
		:: minp + NS > s -> break
		:: else
		fi;
#ifndef NO_EVICT
		evict();
#endif
		if
		:: rescan -> skip	/* evicted one: scan again */
#ifdef POLL
		:: else -> skip		/* poll again */
#else
		:: else ->
			/* W3, the publisher's side, as a channel's producer */
			atomic { load(PUB, PUB_WAKE_SEQ, seq, RLX) };
			store(PUB, PUB_SLEEPING, 1, RLX);
#ifndef NO_W3P_MB
			fence(PUB);
#endif
			scan(s);
			if
			:: minp + NS > s
			:: else -> futex_wait(PUB, PUB_WAKE_SEQ, seq, g_dead)
			fi;
			seq = 0;
			store(PUB, PUB_SLEEPING, 0, RLX)
#endif
		fi
	od
}

/* W2's wake, and closing's: bump sub_wake_seq, futex_wake all */
inline wake_subs() {
	atomic {
		RMW_READY(PUB, 0) ->
		mem[SUB_WAKE_SEQ] = mem[SUB_WAKE_SEQ] + 1;
		RMW_DONE(PUB, 0, SUB_WAKE_SEQ)
	};
	atomic { fw[1] = 0; fw[2] = 0 }
}

#ifdef TAKEOVER
/*
 * shmkit_pub_open in a new process, once the first publisher is dead
 * (before, its claim would be -EBUSY and change nothing): claim, as
 * owner.c's does (load_acquire(owner), the /proc lookup: system calls,
 * a full barrier; the CAS, seq_cst), then published, stepping over a
 * message completed but not counted, store published, closed = 0.
 */
inline pub_open() {
	atomic { load(PUB, POWNER, v, ACQ); x = v; v = 0 };
	if
	:: x != 0 -> atomic { fence(PUB); assert(x == OWNER1 && !g_palive) }
	:: else		/* it died after its close's owner store */
	fi;
	atomic {
		RMW_READY(PUB, 0) ->
		assert(mem[POWNER] == x);	/* nobody else claims */
		mem[POWNER] = OWNER2;
		RMW_DONE(PUB, 0, POWNER);
		g_claimed = 1;
		x = 0
	};
	atomic { load(PUB, PUBLISHED, v, ORD(ACQ, W_OPP)); s = v; v = 0 };
	/* the step over (-DNO_STEP_OVER, a mutant: none) */
#ifndef NO_STEP_OVER
	do
	:: atomic { load(PUB, SEQ(s), v, ORD(ACQ, W_OPS)); x = (v == 2 * s + 2); v = 0 };
		if
		:: x -> x = 0; s++
		:: else -> break
		fi
	od;
#endif
	store(PUB, PUBLISHED, s, ORD(REL, W_OPW));
	rescan = 1;
	store(PUB, CLOSED, 0, ORD(REL, W_OPC));
#ifdef OPEN_KICK
	/*
	 * the fix of finding 7 (README), in the code since 86665ce:
	 * wake_subs(p, 1), every sleeper woken, as shmkit_chan_open's
	 * kick_peer does (its look at joins changes nothing here: rescan
	 * is set). Without -DOPEN_KICK: the code before the fix.
	 */
	fence(PUB);
	atomic {
		RMW_READY(PUB, 0) ->
		mem[SUBS_SLEEPING] = 0;
		RMW_DONE(PUB, 0, SUBS_SLEEPING)
	};
	wake_subs();
#endif
	skip
}
#endif

/*
 * The publisher: second = 0 the first one, from message 0; second = 1
 * its successor (-DTAKEOVER), which starts once the first is dead.
 */
proctype Publisher(bit second) {
	byte s, j, e, minp, jseen, x;
	byte hold[NSUB];
	bit rescan = 1;
	short v, seq;

#ifdef TAKEOVER
	if
	:: second ->
endwait:	g_pdead;
		pub_open()
	:: else
	fi;
#endif
	{
	do
	:: s < N ->
#ifdef BLOCK
		room(s);					/* T4 */
#endif
		store(PUB, SEQ(s), 2 * s + 1, RLX);		/* T1 */
		/* the release fence: the payload stores below (see the top) */
		do
		:: atomic {
			j < PW ->
			store(PUB, PAY(s, j), PV(s), ORD(REL, W_T1F));
			j++
		   }
		:: j == PW -> j = 0; break
		od;
		atomic {
			store(PUB, SEQ(s), 2 * s + 2, ORD(REL, W_T1S));	/* T1 */
#ifdef KILL_PUB
			/* each number is completed once: never reused */
			assert(((g_whole >> s) & 1) == 0);
			g_whole = g_whole | (1 << s);
			if
			:: second -> g_wr2 = g_wr2 | (1 << s)
			:: else -> g_ncompl1++
			fi
#endif
		};
		atomic { store(PUB, PUBLISHED, s + 1, ORD(REL, W_T1P)); g_pub = s + 1 };
		/* W2 */
#ifndef NO_W2_MB
		fence(PUB);
#endif
#ifndef POLL
		atomic { load(PUB, SUBS_SLEEPING, v, RLX); x = (v != 0); v = 0 };
#ifdef NO_W2_MB
		/*
		 * the mutant: the barrier after the flag's load, not before
		 * (the buffer still empties once a message)
		 */
		fence(PUB);
#endif
		if
		:: x == 1 ->
			atomic {			/* exchange(subs_sleeping, 0) */
				RMW_READY(PUB, 0) ->
				x = (mem[SUBS_SLEEPING] != 0);
				mem[SUBS_SLEEPING] = 0;
				RMW_DONE(PUB, 0, SUBS_SLEEPING)
			};
			if
			:: x == 1 -> x = 0; wake_subs()
			:: else
			fi
		:: else
		fi;
#endif
#if defined(BLOCK) && !defined(NO_J2)
		/* J2: a change of joins since the last scan: re-scan */
		atomic {
			load(PUB, JOINS, v, J2_ORD);
			if
			:: v != jseen -> jseen = v; rescan = 1
			:: else
			fi;
			v = 0
		};
#endif
		s++
	:: else -> break
	od;
#ifdef IDLE
	g_closed = 1;		/* ghost only: the publisher stays open, idle */
	goto idle;
#endif
	/* closing: closed, the owner word 0 (release), wake every sleeper */
	atomic {
		store(PUB, CLOSED, 1, REL);
		g_closed = 1;
#ifdef KILL_PUB
		if
		:: !second -> g_pclosed = 1
		:: else
		fi
#endif
	};
	store(PUB, POWNER, 0, REL);
#ifndef CLOSE_NO_WAKE
	fence(PUB);
	atomic {
		RMW_READY(PUB, 0) ->
		mem[SUBS_SLEEPING] = 0;
		RMW_DONE(PUB, 0, SUBS_SLEEPING)
	};
	wake_subs();
#else
	skip;
#endif
idle:	skip;
#ifdef KILL_PUB
	g_pdone = !second	/* the first has finished: no kill after this */
#endif
	}
#ifdef KILL_PUB
	unless {
		/* killed: its stores land, its futex wait ends; /proc: dead */
		atomic {
			g_pkill && !second ->
			MB(PUB) -> g_palive = 0; g_pdead = 1; fw[PUB] = 0; g_pkill = 0;
#ifdef LAX_SLICE
			g_across[0] = g_swin[0];
			g_across[1] = g_swin[1]
#endif
		}
	}
#endif
}

/* ---------------------------------------------------------- subscriber */

#define R_BELOW 0
#define R_READY 1
#define R_ABOVE 2

/* W3, the subscriber's side, after T3: full barrier, flag, wake */
inline wake_pub(me) {
#ifndef NO_W3_MB
	fence(me);
#endif
	atomic { load(me, PUB_SLEEPING, v, RLX); x = (v != 0); v = 0 };
	if
	:: x == 1 ->
		atomic {
			RMW_READY(me, 0) ->
			x = (mem[PUB_SLEEPING] != 0);
			mem[PUB_SLEEPING] = 0;
			RMW_DONE(me, 0, PUB_SLEEPING)
		};
		if
		:: x == 1 ->
			atomic {
				RMW_READY(me, 0) ->
				mem[PUB_WAKE_SEQ] = mem[PUB_WAKE_SEQ] + 1;
				RMW_DONE(me, 0, PUB_WAKE_SEQ);
				x = 0
			};
			fw[PUB] = 0
		:: else
		fi
	:: else
	fi
}

/*
 * J1, for entry e on cpu me: claim the entry (CAS of its owner word from
 * 0), pos = max(0, P0 - H), fetch_add(joins) (seq_cst), P =
 * load(published); if P - pos > J1LIM, pos = P - H and again.
 */
inline join(me, e) {
	atomic {
		RMW_READY(me, 0) ->
		assert(mem[SOWNER(e)] == 0);
		mem[SOWNER(e)] = e + 1;
		RMW_DONE(me, 0, SOWNER(e));
		g_alive[e] = 1;
		g_pub_claim = mem[PUBLISHED]
	};
	atomic { load(me, PUBLISHED, v, RLX); k = (v > H -> v - H : 0); v = 0 };
#ifndef NO_J1_CHECK
	store(me, POS(e), k, RLX);
	do
	:: atomic {
		RMW_READY(me, 0) ->
		mem[JOINS] = mem[JOINS] + 1;
		RMW_DONE(me, 0, JOINS)
	   };
		atomic { load(me, PUBLISHED, v, RLX); P = v; v = 0 };
		if
		:: P - k > J1LIM ->
			atomic {
				k = P - H;
				g_repeat++;
				assert(g_repeat <= N)	/* J1 ends */
			};
			store(me, POS(e), k, RLX)
		:: else -> break
		fi
	od;
#ifdef J1_WAKE
	/* a fix: W3's wake after J1's last pos store (the publisher may sleep on an older one) */
	wake_pub(me);
#endif
	/* the start: within history of what was published at the claim */
	assert(k <= P && k + H >= g_pub_claim && P - k <= J1LIM);
#else
	/* a mutant: pos, then joins, and no look at published after it */
	store(me, POS(e), k, RLX);
	atomic {
		RMW_READY(me, 0) ->
		mem[JOINS] = mem[JOINS] + 1;
		RMW_DONE(me, 0, JOINS)
	};
#endif
	P = 0
}

/*
 * Leaving: the owner word 0 (release), after the last pos store. The
 * text wakes nobody; -DLEAVE_WAKE adds W3's wake after it.
 */
inline leave(me, e) {
	store(me, SOWNER(e), 0, REL);
#ifdef LEAVE_WAKE
	wake_pub(me)
#else
	skip
#endif
}

/*
 * Message k was overwritten (T2's "above"): -SHMKIT_ECORRUPT under the
 * block policy; else move to the oldest message still whole, published -
 * nslots + 1, and count the rest lost. With -DKILL_PUB as src/topic.c's
 * skip_lost has it (published may lag a successor's first odd word: its
 * store of published is a release, and the odd word after it relaxed,
 * with no barrier between them).
 */
inline skip_lost(me, e) {
#ifdef BLOCK
	assert(false)		/* -SHMKIT_ECORRUPT: overwritten */
#else
	atomic {
#ifndef KILL_PUB
		load(me, PUBLISHED, v, RLX);
		assert(v >= k + NS);
		g_lost[e] = g_lost[e] + (v - NS + 1 - k);
		k = v - NS + 1;
#else
		load(me, PUBLISHED, v, ACQ);
		assert(v > k);		/* skip_lost's -SHMKIT_ECORRUPT */
		v = (v + 1 > NS -> v + 1 - NS : 0);
		if
		:: v <= k -> v = k + 1
		:: else
		fi;
		g_lost[e] = g_lost[e] + (v - k);
		k = v;
#endif
		v = 0;
		r = 0
	}
#endif
}

/* W1: sub_sleep (-DPOLL: poll again) */
inline sub_sleep(me, e) {
#ifdef POLL
	skip
#else
	atomic {
		load(me, SUB_WAKE_SEQ, seq, RLX);
#ifdef LAX_SLICE
		g_swin[e] = 1
#endif
	};
	store(me, SUBS_SLEEPING, 1, RLX);
#ifndef NO_W1_MB
	fence(me);
#endif
	atomic { load(me, SEQ(k), v, ACQ); x = (v >= 2 * k + 2); v = 0 };
	if
	:: x == 1 -> x = 0
	:: else ->
		atomic { load(me, CLOSED, v, ACQ); x = (v != 0); v = 0 };
		if
		:: x == 1 -> x = 0
		:: else -> futex_wait(me, SUB_WAKE_SEQ, seq, IDLE_END || SUB_SLICE(e))
		fi
	fi;
#ifdef LAX_SLICE
	atomic { seq = 0; g_swin[e] = 0; g_across[e] = 0 };
#else
	seq = 0;
#endif
#ifdef SUB_CLEARS
	/* a mutant: the flag cleared, as chan's sleep_once does */
	store(me, SUBS_SLEEPING, 0, RLX)
#else
	skip
#endif
#endif
}

#ifdef KILL_PUB
#define G_EOF 1
#define G_DEAD 2
/*
 * pub_gone: closed (acquire), then the owner word (acquire); a nonzero
 * owner is looked up in /proc (system calls: a full barrier; the ghost
 * g_palive). A dead one may have closed and exited between the loads
 * and /proc: one more look, closed (acquire), and if it is still 0 the
 * owner word (acquire): another word means a successor took over (not
 * gone); the same, -SHMKIT_EPEERDEAD. -DGONE_ONE_LOOK, a mutant: no
 * second look (pub_gone before it had one).
 */
inline pub_gone(me) {
	atomic { load(me, CLOSED, v, ORD(ACQ, W_GC)); x = (v != 0); v = 0 };
	atomic { load(me, POWNER, v, ORD(ACQ, W_GO)); ow = v; v = 0 };
	if
	:: x == 1 -> x = 0; gone = G_EOF
	:: x == 0 && ow == 0 -> gone = 0
	:: x == 0 && ow != 0 ->
		atomic { fence(me); gone = (ow == OWNER1 && !g_palive -> G_DEAD : 0) };
#ifndef GONE_ONE_LOOK
		if
		:: gone == G_DEAD ->
			atomic { load(me, CLOSED, v, ORD(ACQ, W_GC2)); x = (v != 0); v = 0 };
			if
			:: x == 1 -> x = 0; gone = G_EOF
			:: else ->
				atomic {
					load(me, POWNER, v, ORD(ACQ, W_GO2));
					if
					:: v != ow -> gone = 0	/* a successor */
					:: else
					fi;
					v = 0
				}
			fi
		:: else
		fi
#else
		skip
#endif
	fi;
	ow = 0
}

/*
 * pub_gone's last look, msg_ready: the slot's seq word (acquire).
 * -DLAST_LOOK_PUB, a mutant: published instead (the text's end of
 * stream), which does not count a message completed by a publisher that
 * died before its store of published.
 */
inline last_look(me) {
	atomic {
#ifndef LAST_LOOK_PUB
		load(me, SEQ(k), v, ACQ);
		r = (v == 2 * k + 2 -> R_READY : (v > 2 * k + 2 -> R_ABOVE : R_BELOW));
#else
		load(me, PUBLISHED, v, RLX);
		r = (k < v -> R_READY : R_BELOW);
#endif
		v = 0
	}
}
#endif

proctype Sub(byte e) {
	byte me = e + 1;
	byte k, j, P, r;
	bit bad, x, early;
	short v, seq;
#ifdef KILL_PUB
	byte gone, ow;
#endif

	{
	if
	:: e == 1 -> join(me, e)
	:: else
	fi;
	g_start[e] = k;
	do
#ifdef LEAVE
	:: e == 1 -> leave(me, e); goto left	/* at any moment between reads */
#endif
	:: /* T2 at pos = k */
		atomic {
			load(me, SEQ(k), v, ORD(ACQ, W_T2));
			r = (v == 2 * k + 2 -> R_READY : (v > 2 * k + 2 -> R_ABOVE : R_BELOW));
			v = 0
		};
		if
		:: r == R_READY ->
			/* the copy: len and payload */
			do
			:: atomic {
				j < PW ->
				load(me, PAY(k, j), v, RLX);
				bad = bad || (v != EXPV(k));
				v = 0;
				j++
			   }
			:: j == PW -> j = 0; break
#if defined(WMM) && W_T3 && defined(BLOCK)
			/*
			 * A relaxed store may become visible before the loads
			 * before it (Armv8's load-to-store reordering): T3's
			 * pos store among the copy's loads.
			 */
			:: !early -> store(me, POS(e), k + 1, RLX); early = 1
#endif
			od;
#if defined(OVERWRITE) && !defined(NO_VALIDATE)
			/* acquire fence, seq again: a changed word, the copy is lost */
			if
			:: !W_T2F -> sync_view(me)
			:: else
			fi;
			atomic {
				load(me, SEQ(k), v, RLX);
				if
				:: v != 2 * k + 2 -> g_lost[e]++; bad = 0; r = R_BELOW
				:: else
				fi;
				v = 0
			};
#endif
			atomic {
				if
				:: r == R_READY ->
					assert(!bad);	/* whole, and message k */
					g_deliv[e]++
				:: else
				fi;
				k++;
				r = 0
			};
#ifdef BLOCK
			/* T3, then W3 */
			if
			:: !early -> store(me, POS(e), k, ORD(REL, W_T3))
			:: else -> early = 0
			fi;
#ifndef POLL
			wake_pub(me);
#endif
#endif
			skip
		:: r == R_ABOVE ->
			skip_lost(me, e)
#ifdef IDLE
		:: r == R_BELOW && k == N && g_closed ->
			goto left	/* all read, the publisher idle: stop */
		:: r == R_BELOW && !(k == N && g_closed) ->
#else
		:: r == R_BELOW ->
#endif
#ifndef KILL_PUB
			/* end of stream? closed (acquire), then published */
			atomic { load(me, CLOSED, v, ORD(ACQ, W_CL)); x = (v != 0); v = 0 };
			if
			:: x == 1 ->
				x = 0;
				atomic { load(me, PUBLISHED, v, RLX); P = v; v = 0 };
				if
				:: k >= P -> break
				:: else -> P = 0
				fi
			:: else -> sub_sleep(me, e)
			fi
#else
			/* pub_gone, as src/topic.c has it; with a successor, not every round */
#ifdef TAKEOVER
			if
			:: pub_gone(me)
			:: gone = 0	/* checked every 20 ms only: sleep first */
			fi;
#else
			pub_gone(me);
#endif
			if
			:: gone == 0 -> sub_sleep(me, e)
			:: gone != 0 ->
				/* the last look: what it published before it went */
#ifdef NO_LAST_LOOK
				/* a mutant: -SHMKIT_EPEERDEAD without the last look */
				if
				:: gone == G_DEAD -> r = R_BELOW	/* the mutant: none */
				:: else -> last_look(me)
				fi;
#else
				last_look(me);
#endif
				if
				:: r == R_READY -> r = 0; gone = 0	/* read it */
				:: r == R_ABOVE -> gone = 0; skip_lost(me, e)
				:: r == R_BELOW && gone == G_EOF -> gone = 0; break
				:: r == R_BELOW && gone == G_DEAD ->
					atomic {
						/* -SHMKIT_EPEERDEAD: all the dead one completed is ours */
						assert(k >= g_ncompl1);
						/* and it did not end cleanly (closed, then exited) */
						assert(!g_pclosed);
#ifndef TAKEOVER
						assert(k == g_ncompl1);
#ifdef BLOCK
						assert(g_deliv[e] == k - g_start[e] && g_lost[e] == 0);
#else
						assert(g_deliv[e] + g_lost[e] == k - g_start[e]);
#endif
						g_done[e] = 1;
#endif
						gone = 0;
						r = 0
					};
#ifndef TAKEOVER
					goto left
#else
					skip	/* the application tries again */
#endif
				fi
			fi
#endif
		fi
	od;
	/* end of stream: everything from the start was delivered or counted */
	atomic {
		assert(k == N);
#ifdef BLOCK
		assert(g_deliv[e] == N - g_start[e] && g_lost[e] == 0);
#else
		assert(g_deliv[e] + g_lost[e] == N - g_start[e]);
#endif
		g_done[e] = 1
	};
left:	skip
	} unless {
		atomic {
			g_kill && e == 0 ->
			/* killed: its stores land, its futex wait ends */
			MB(me) -> g_alive[e] = 0; g_dead = 1; fw[me] = 0; g_kill = 0
		}
	}
}

#ifdef KILL_SUB
proctype Killer() {
end:	atomic { !g_done[0] -> g_kill = 1 }
}
#endif

#ifdef KILL_PUB
/* the first publisher killed at any step before it has finished, or never */
proctype PKiller() {
end:	atomic { !g_pdone -> g_pkill = 1 }
}
#endif

init {
	atomic {
		mem[POWNER] = 9;		/* OWNER1 */
		mem[SOWNER(0)] = 1;
		g_alive[0] = 1;
		sync_view(0);
		sync_view(1);
		sync_view(2);
#if defined(TSO) || defined(WMM)
		run Drain(0);
		run Drain(1);
		run Drain(2);
#endif
#ifdef KILL_SUB
		run Killer();
#endif
#ifdef KILL_PUB
		run PKiller();
#endif
		run Publisher(0);
#ifdef TAKEOVER
		run Publisher(1);
#endif
#ifndef ALONE
		run Sub(0);
#else
		mem[SOWNER(0)] = 0;	/* the joiner alone */
#endif
#ifndef NOJOIN
		run Sub(1)
#endif
	}
}
