/*
 * Owner words: who holds a side (owner.h). The orderings are labelled as
 * in chan.c's protocol comment (O0, O1); model/owner.pml checks them.
 */
#include <errno.h>
#include <unistd.h>

#include "barrier.h"
#include "owner.h"
#include "proc.h"

/* Who holds a side: pid and the low 32 bits of its start time. */
uint64_t __shmkit_owner_word(void)
{
	uint64_t start = 0;

	__shmkit_proc_start(getpid(), &start);
	return (uint64_t)(uint32_t)getpid() | (start & 0xffffffffu) << 32;
}

int __shmkit_owner_alive(uint64_t owner)
{
	uint64_t start;
	pid_t pid = (pid_t)(uint32_t)owner;

	return __shmkit_proc_start(pid, &start) == 0 &&
	       (start & 0xffffffffu) == owner >> 32;
}

/* Takes a side for this process, unless a live process holds it. */
int __shmkit_owner_claim(_Atomic uint64_t *owner)
{
	uint64_t mine = __shmkit_owner_word(), cur;

	for (;;) {
		/*
		 * Either this acquire or O1's orders what the new owner reads
		 * next after a clean close (model/owner.pml: each alone passes,
		 * full-owner-unneeded-ol and -o1; both relaxed is caught,
		 * owner-weak-ol-o1). Both are kept: this is the open path.
		 */
		cur = shmkit_load_acquire(owner);
		if (cur != 0 && __shmkit_owner_alive(cur))
			return -EBUSY;
		/*
		 * O1: a dead owner's place can be taken; the CAS settles races
		 * between claimers (one wins, the others see its word and
		 * judge it alive; owner-split-cas shows a two-step claim
		 * letting two win). Pairs with O0 in chan.c's close_as: who takes a
		 * side a closer released sees that closer's stores. After a
		 * death it is owner_alive's system calls that order them
		 * (full-owner-kill-ol-o1).
		 */
		if (shmkit_cas_seq_cst(owner, &cur, mine))
			return 0;
	}
}
