/*
 * The memory models of the spin models (chan.pml, owner.pml): loads,
 * stores, fences and read-modify-writes of shared words, by cpu.
 *
 * The including model defines, before it includes this file:
 *   NCPU   cpus (store buffers, views); a process runs on one of them
 *   NADDR  shared words, `short mem[NADDR]` (at most 26)
 *   BUF    store buffer entries per cpu (at most 10; store() asserts
 *          that no buffer fills)
 * and declares `short mem[NADDR]`. -DTSO gives x86-TSO, -DWMM C11's
 * release/acquire/relaxed as Armv8 implements them, neither sequential
 * consistency. Each model's header comment says what its accesses are.
 *
 * x86-TSO (-DTSO): each cpu has a FIFO store buffer; a store enters it
 * and reaches memory later, in order, when that cpu's Drain moves it; the
 * cpu's own loads see its buffered stores first (store forwarding). A
 * full barrier and every locked read-modify-write wait until the buffer
 * is empty. The one reordering x86 allows is modelled: a load overtaking
 * an earlier store.
 *
 * An access's ordering is RLX, ACQ or REL; ORD(strong, w) gives `strong`,
 * or RLX when the mutant flag w is set. Only -DWMM gives orderings a
 * meaning: under -DTSO every load acquires and every store releases.
 */
#define RLX 0
#define ACQ 1
#define REL 1
#define ORD(strong, w) ((w) -> RLX : (strong))

#if defined(TSO) || defined(WMM)
byte sb_a[NCPU * BUF];		/* store buffers: address and value, oldest first */
short sb_v[NCPU * BUF];
#ifdef WMM
bit sb_r[NCPU * BUF];		/* a release store: waits for every older entry */
short vw[NCPU * NADDR];		/* each side's view of memory (WMM loads) */
#endif
byte g_j;			/* scratch for the loops below; always 0 between steps */
byte sb_n[NCPU];

inline store(me, a, v, o) {
	atomic {
		assert(sb_n[me] < BUF);	/* the bound above holds */
		sb_a[(me) * BUF + sb_n[me]] = a;
		sb_v[(me) * BUF + sb_n[me]] = v;
#ifdef WMM
		sb_r[(me) * BUF + sb_n[me]] = (o == REL);
#endif
		sb_n[me]++
	}
}

/*
 * Store forwarding: g_j becomes 1 + the index of this side's newest
 * buffered store to a, or 0 if none. g_j is scratch, back to 0 when the
 * step ends; every load runs inside one.
 */
inline sb_find(me, a) {
	g_j = sb_n[me];
	do
	:: g_j > 0 && sb_a[(me) * BUF + g_j - 1] != (a) -> g_j--
	:: else -> break
	od
}

/* smp_mb(): wait until this side's stores have all reached memory */
#define MB(me) (sb_n[me] == 0)

#ifdef TSO
/* A load, inside a step: store forwarding, else memory. */
inline load(me, a, v, o) {
	d_step {
		sb_find(me, a);
		v = (g_j > 0 -> sb_v[(me) * BUF + g_j - 1] : mem[a]);
		g_j = 0
	}
}
inline sync_view(me) { skip }

/*
 * A fence; a read-modify-write waits for the buffer to empty first (on
 * x86 every locked instruction does, whatever its C ordering), then acts
 * on memory in the same step, then RMW_DONE.
 */
inline fence(me) { MB(me) }
#define RMW_READY(me, w) MB(me)
inline RMW_DONE(me, w, a) { skip }

/* A store buffer's drain: its oldest entry reaches memory, at any time. */
proctype Drain(byte me) {
	byte j;
end:	do
	:: d_step {
		sb_n[me] > 0 ->
		mem[sb_a[me * BUF]] = sb_v[me * BUF];
		j = 1;
		do
		:: j < sb_n[me] ->
			sb_a[me * BUF + j - 1] = sb_a[me * BUF + j];
			sb_v[me * BUF + j - 1] = sb_v[me * BUF + j];
			j++
		:: else -> break
		od;
		sb_n[me]--;
		sb_a[me * BUF + sb_n[me]] = 0;
		sb_v[me * BUF + sb_n[me]] = 0;
		j = 0
	   }
	od
}
#else
/*
 * The weak model (-DWMM): what C11's release, acquire and relaxed allow,
 * and what Armv8 does with them.
 *
 * Stores: a side's store buffer drains any entry whose address no older
 * entry shares (one location's stores stay in order: coherence), except
 * that a release store drains only as the oldest entry, after every
 * store before it. So stores to different locations become visible out
 * of order unless a release (or a fence) orders them.
 *
 * Loads: each side has a view of memory, vw, the values as of its last
 * synchronisation. A load takes the side's own newest buffered store to
 * that address, else either its view's value (a load satisfied early) or
 * memory's (and the view of that one location moves up: coherence). An
 * acquire load, a fence and every read-modify-write bring the whole view
 * up to memory after their access, so no later load is satisfied before
 * them. Drained stores update their own side's view.
 */
inline sync_view(me) {
	d_step {
#if NADDR > 0
		vw[(me) * NADDR + 0] = mem[0];
#endif
#if NADDR > 1
		vw[(me) * NADDR + 1] = mem[1];
#endif
#if NADDR > 2
		vw[(me) * NADDR + 2] = mem[2];
#endif
#if NADDR > 3
		vw[(me) * NADDR + 3] = mem[3];
#endif
#if NADDR > 4
		vw[(me) * NADDR + 4] = mem[4];
#endif
#if NADDR > 5
		vw[(me) * NADDR + 5] = mem[5];
#endif
#if NADDR > 6
		vw[(me) * NADDR + 6] = mem[6];
#endif
#if NADDR > 7
		vw[(me) * NADDR + 7] = mem[7];
#endif
#if NADDR > 8
		vw[(me) * NADDR + 8] = mem[8];
#endif
#if NADDR > 9
		vw[(me) * NADDR + 9] = mem[9];
#endif
#if NADDR > 10
		vw[(me) * NADDR + 10] = mem[10];
#endif
#if NADDR > 11
		vw[(me) * NADDR + 11] = mem[11];
#endif
#if NADDR > 12
		vw[(me) * NADDR + 12] = mem[12];
#endif
#if NADDR > 13
		vw[(me) * NADDR + 13] = mem[13];
#endif
#if NADDR > 14
		vw[(me) * NADDR + 14] = mem[14];
#endif
#if NADDR > 15
		vw[(me) * NADDR + 15] = mem[15];
#endif
#if NADDR > 16
		vw[(me) * NADDR + 16] = mem[16];
#endif
#if NADDR > 17
		vw[(me) * NADDR + 17] = mem[17];
#endif
#if NADDR > 18
		vw[(me) * NADDR + 18] = mem[18];
#endif
#if NADDR > 19
		vw[(me) * NADDR + 19] = mem[19];
#endif
#if NADDR > 20
		vw[(me) * NADDR + 20] = mem[20];
#endif
#if NADDR > 21
		vw[(me) * NADDR + 21] = mem[21];
#endif
#if NADDR > 22
		vw[(me) * NADDR + 22] = mem[22];
#endif
#if NADDR > 23
		vw[(me) * NADDR + 23] = mem[23];
#endif
#if NADDR > 24
		vw[(me) * NADDR + 24] = mem[24];
#endif
#if NADDR > 25
		vw[(me) * NADDR + 25] = mem[25];
#endif
		skip
	}
}

inline load(me, a, v, o) {
	d_step {
		sb_find(me, a);
		if
		:: g_j > 0 -> v = sb_v[(me) * BUF + g_j - 1]; g_j = 1
		:: else
		fi
	};
	if
	:: g_j == 1 -> g_j = 0
	:: else ->
		if
		:: v = vw[(me) * NADDR + (a)]
		:: vw[(me) * NADDR + (a)] != mem[a] ->
			v = mem[a];
			vw[(me) * NADDR + (a)] = v
		fi
	fi;
	if
	:: o == ACQ -> sync_view(me)
	:: else
	fi
}

/*
 * smp_mb: the buffer empties, then the view comes up to memory. A
 * seq_cst or acq_rel read-modify-write does the same around its access; a
 * relaxed one (a mutant) waits for nothing and only keeps its own side's
 * view of its location coherent.
 */
inline fence(me) { atomic { MB(me) -> sync_view(me) } }
#define RMW_READY(me, w) ((w) || MB(me))
inline RMW_DONE(me, w, a) {
	if
	:: w -> vw[(me) * NADDR + (a)] = mem[a]
	:: else -> sync_view(me)
	fi
}

/* May entry e of side me drain now? (e >= 1) */
#define SB_SAME(me, e, f) (sb_a[(me) * BUF + (e)] == sb_a[(me) * BUF + (f)])
#define SB_FREE1(me) (sb_n[me] > 1 && !sb_r[(me) * BUF + 1] && \
	!SB_SAME(me, 1, 0))
#define SB_FREE2(me) (sb_n[me] > 2 && !sb_r[(me) * BUF + 2] && \
	!SB_SAME(me, 2, 0) && !SB_SAME(me, 2, 1))
#define SB_FREE3(me) (sb_n[me] > 3 && !sb_r[(me) * BUF + 3] && \
	!SB_SAME(me, 3, 0) && !SB_SAME(me, 3, 1) && !SB_SAME(me, 3, 2))
#define SB_FREE4(me) (sb_n[me] > 4 && !sb_r[(me) * BUF + 4] && \
	!SB_SAME(me, 4, 0) && !SB_SAME(me, 4, 1) && !SB_SAME(me, 4, 2) && !SB_SAME(me, 4, 3))
#define SB_FREE5(me) (sb_n[me] > 5 && !sb_r[(me) * BUF + 5] && \
	!SB_SAME(me, 5, 0) && !SB_SAME(me, 5, 1) && !SB_SAME(me, 5, 2) && !SB_SAME(me, 5, 3) && !SB_SAME(me, 5, 4))
#define SB_FREE6(me) (sb_n[me] > 6 && !sb_r[(me) * BUF + 6] && \
	!SB_SAME(me, 6, 0) && !SB_SAME(me, 6, 1) && !SB_SAME(me, 6, 2) && !SB_SAME(me, 6, 3) && !SB_SAME(me, 6, 4) && !SB_SAME(me, 6, 5))
#define SB_FREE7(me) (sb_n[me] > 7 && !sb_r[(me) * BUF + 7] && \
	!SB_SAME(me, 7, 0) && !SB_SAME(me, 7, 1) && !SB_SAME(me, 7, 2) && !SB_SAME(me, 7, 3) && !SB_SAME(me, 7, 4) && !SB_SAME(me, 7, 5) && !SB_SAME(me, 7, 6))
#define SB_FREE8(me) (sb_n[me] > 8 && !sb_r[(me) * BUF + 8] && \
	!SB_SAME(me, 8, 0) && !SB_SAME(me, 8, 1) && !SB_SAME(me, 8, 2) && !SB_SAME(me, 8, 3) && !SB_SAME(me, 8, 4) && !SB_SAME(me, 8, 5) && !SB_SAME(me, 8, 6) && !SB_SAME(me, 8, 7))
#define SB_FREE9(me) (sb_n[me] > 9 && !sb_r[(me) * BUF + 9] && \
	!SB_SAME(me, 9, 0) && !SB_SAME(me, 9, 1) && !SB_SAME(me, 9, 2) && !SB_SAME(me, 9, 3) && !SB_SAME(me, 9, 4) && !SB_SAME(me, 9, 5) && !SB_SAME(me, 9, 6) && !SB_SAME(me, 9, 7) && !SB_SAME(me, 9, 8))

/* entry e reaches memory and this side's view; the younger ones move down */
inline drain_entry(me, e) {
	mem[sb_a[me * BUF + e]] = sb_v[me * BUF + e];
	vw[me * NADDR + sb_a[me * BUF + e]] = sb_v[me * BUF + e];
	g_j = e + 1;
	do
	:: g_j < sb_n[me] ->
		sb_a[me * BUF + g_j - 1] = sb_a[me * BUF + g_j];
		sb_v[me * BUF + g_j - 1] = sb_v[me * BUF + g_j];
		sb_r[me * BUF + g_j - 1] = sb_r[me * BUF + g_j];
		g_j++
	:: else -> break
	od;
	sb_n[me]--;
	sb_a[me * BUF + sb_n[me]] = 0;
	sb_v[me * BUF + sb_n[me]] = 0;
	sb_r[me * BUF + sb_n[me]] = 0;
	g_j = 0
}

proctype Drain(byte me) {
end:	do
	:: d_step { sb_n[me] > 0 -> drain_entry(me, 0) }
#if BUF > 1
	:: d_step { SB_FREE1(me) -> drain_entry(me, 1) }
#endif
#if BUF > 2
	:: d_step { SB_FREE2(me) -> drain_entry(me, 2) }
#endif
#if BUF > 3
	:: d_step { SB_FREE3(me) -> drain_entry(me, 3) }
#endif
#if BUF > 4
	:: d_step { SB_FREE4(me) -> drain_entry(me, 4) }
#endif
#if BUF > 5
	:: d_step { SB_FREE5(me) -> drain_entry(me, 5) }
#endif
#if BUF > 6
	:: d_step { SB_FREE6(me) -> drain_entry(me, 6) }
#endif
#if BUF > 7
	:: d_step { SB_FREE7(me) -> drain_entry(me, 7) }
#endif
#if BUF > 8
	:: d_step { SB_FREE8(me) -> drain_entry(me, 8) }
#endif
#if BUF > 9
	:: d_step { SB_FREE9(me) -> drain_entry(me, 9) }
#endif
	od
}
#endif
#else
inline store(me, a, v, o) { mem[a] = v }
inline load(me, a, v, o) { v = mem[a] }
inline sync_view(me) { skip }
#define MB(me) true
inline fence(me) { skip }
#define RMW_READY(me, w) true
inline RMW_DONE(me, w, a) { skip }
#endif
