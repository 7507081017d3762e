/*
 * A Promela model of how a channel side changes hands (src/chan.c:
 * shmkit_chan_close's close_as, and claim and the start of
 * shmkit_chan_open).
 *
 * chan.pml restarts a side on the cpu its predecessor ran on, after
 * system calls, so the handover's own orderings (O0, O1) do nothing there.
 * Here the side's owner runs on cpu 0 and two processes that open the
 * same side run on cpus 1 and 2, each with its own store buffer and view
 * of memory (mem.pml), and race for it.
 *
 * The owner (owner word 1) has made its last position store (a release:
 * C2 or P1's tail) and wake_peer's barrier. Then it closes: closed = 1,
 * owner = 0, kick_peer's barrier. With -DKILL it may instead be killed
 * at any moment (its stores still land: a kill goes through the kernel)
 * and is then dead to the /proc lookup.
 *
 * An opener (owner words 2 and 3) loops as claim does: load the owner
 * word; a live owner means -EBUSY; otherwise compare-and-swap its own
 * word in for the one it read. The winner loads its position and stores
 * closed = 0, as shmkit_chan_open does next.
 *
 * Checked: at most one opener wins, and only once the owner has gone;
 * the winner reads the position the owner left; and when everything has
 * landed, a side with a new owner does not read as closed (a late
 * closed = 1 from the old owner must not overwrite the winner's 0).
 *
 * Orderings by site, as in chan.pml (-DW_<site>=1 makes one relaxed):
 */
#ifndef W_CC
#define W_CC 0			/* close_as: store_release(closed) */
#endif
#ifndef W_O0
#define W_O0 0			/* close_as: store_release(owner, 0) */
#endif
#ifndef W_OL
#define W_OL 0			/* claim: load_acquire(owner) */
#endif
#ifndef W_O1
#define W_O1 0			/* claim: compare_exchange(owner), seq_cst */
#endif
#ifndef W_OPM
#define W_OPM 0			/* open: load_acquire(own position) */
#endif
#ifndef W_OPC
#define W_OPC 0			/* open: store_release(closed, 0) */
#endif

#define NCPU 3			/* cpu 0: the owner; 1 and 2: the openers */
#define POS    0		/* hot[side].pos */
#define CLOSED 1		/* cold[side].closed */
#define OWNER  2		/* cold[side].owner */
#define NADDR  3
#define BUF    4		/* the owner makes 3 stores between barriers */
#define LASTPOS 5		/* the owner's last position (any nonzero value) */

short mem[NADDR];

#include "mem.pml"

/* ghosts */
bit g_owner_alive = 1;		/* what /proc says of owner word 1 */
bit g_owner_gone;		/* the owner has closed or been killed */
short g_last_pos;		/* the position the owner last stored */
byte g_winners;
byte g_finished;

proctype Owner() {
	store(0, POS, LASTPOS, REL);
	g_last_pos = LASTPOS;
#ifdef KILL
	if
	:: skip
	:: goto killed
	fi;
#endif
	fence(0);			/* wake_peer's barrier */
#ifdef KILL
	if
	:: skip
	:: goto killed
	fi;
	/* or it lives on and never closes */
	goto done;
killed:
	atomic {
		MB(0) -> g_owner_alive = 0; g_owner_gone = 1
	};
#else
	/* close_as */
	store(0, CLOSED, 1, ORD(REL, W_CC));
	atomic {
		store(0, OWNER, 0, ORD(REL, W_O0));
		g_owner_gone = 1
	};
	fence(0);			/* kick_peer's barrier */
#endif
done:
	g_finished++
}

/* an opener on cpu me, owner word me + 1 */
proctype Opener(byte me) {
	short cur, v;
	bit won;

again:
	load(me, OWNER, cur, ORD(ACQ, W_OL));
	if
	:: cur != 0 ->
		/*
		 * owner_alive reads /proc: system calls, full barriers, and
		 * a death it sees is one whose stores have all landed
		 */
		atomic {
			fence(me);
			if
			:: cur != 1 || g_owner_alive -> v = 1
			:: else
			fi
		};
		if
		:: v -> goto busy
		:: else
		fi
	:: else
	fi;
#ifndef SPLIT_CAS
	atomic {
		RMW_READY(me, W_O1) ->
		if
		:: mem[OWNER] == cur -> mem[OWNER] = me + 1; won = 1
		:: else
		fi;
		RMW_DONE(me, W_O1, OWNER)
	};
#else
	/* the mutant: a compare, then a store, as two steps */
	atomic {
		RMW_READY(me, W_O1) ->
		if
		:: mem[OWNER] == cur -> won = 1
		:: else
		fi
	};
	if
	:: won -> atomic { mem[OWNER] = me + 1; RMW_DONE(me, W_O1, OWNER) }
	:: else
	fi;
#endif
	if
	:: !won -> goto again
	:: else
	fi;
	atomic {
		g_winners++;
		assert(g_winners == 1);		/* one owner at a time */
		assert(g_owner_gone)		/* and never a live one's side */
	};
	atomic {
		load(me, POS, v, ORD(ACQ, W_OPM));
		assert(v == g_last_pos);	/* where the owner stopped */
		v = 0
	};
	store(me, CLOSED, 0, ORD(REL, W_OPC));
busy:
	g_finished++
}

init {
	atomic {
		mem[OWNER] = 1;
		sync_view(0);
		sync_view(1);
		sync_view(2);
#if defined(TSO) || defined(WMM)
		run Drain(0);
		run Drain(1);
		run Drain(2);
#endif
		run Owner();
		run Opener(1);
		run Opener(2)
	};
	/* everything done and landed: a side with a new owner is open */
	atomic {
		g_finished == 3 && MB(0) && MB(1) && MB(2) ->
		assert(g_winners == 0 || mem[CLOSED] == 0)
	}
}
