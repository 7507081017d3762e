/*
 * A minimal io_uring (uring.h): one FUTEX_WAITV at a time, reaped or
 * cancelled, on a ring the kernel shares with us through three numbers
 * per queue. Facts from the kernel's uapi <linux/io_uring.h> and
 * io_uring/{io_uring,futex,cancel,register}.c:
 *
 *   SQ (we produce, the kernel consumes): we write SQEs and the SQ tail,
 *   the kernel writes the SQ head as it takes them. The SQ array maps ring
 *   slots to SQE indexes; ours is the identity, written once at open.
 *   CQ (the kernel produces, we consume): the kernel writes CQEs and the
 *   CQ tail, we write the CQ head as we reap. Heads and tails are free-
 *   running 32-bit counters masked by the ring's mask (its size is a power
 *   of two), so tail - head counts the entries across wrap-around.
 *
 * Memory ordering (labels are searchable; the kernel's side is described
 * in the comment that opens io_uring/io_uring.c):
 *   U1 store_release(SQ tail) after writing the SQE: the kernel reads the
 *      tail with an acquire and only then the SQE.
 *   U2 load_acquire(SQ head) before reusing a slot: pairs with the
 *      kernel's release of the head after it has read the SQE.
 *   U3 load_acquire(CQ tail) before reading CQEs: pairs with the kernel's
 *      release of the tail after it has written them.
 *   U4 store_release(CQ head) after reading CQEs: the kernel may write a
 *      slot again once it sees the head past it.
 * Without SQPOLL the kernel reads the SQ only inside io_uring_enter, so
 * U1/U2 matter only across that call; they cost nothing and keep the
 * protocol as documented.
 *
 * At most two requests are ever in flight (the wait and its cancel), in a
 * ring of four SQEs and eight CQEs: neither queue can fill, so the CQ
 * cannot overflow and every completion lands in the ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "barrier.h"
#include "futex.h"
#include "uring.h"

/* The calls have one number on every architecture since 5.1 but alpha. */
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_enter
#define SYS_io_uring_enter 426
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif

/*
 * The opcode is an enum member in the uapi header (6.7 on; Debian
 * bookworm's 6.1 header lacks it), so no #ifndef can test for it: the
 * number is ABI. The SQE takes the vector in addr and its length in len;
 * fd, off, addr3, buf_index, file_index and futex_flags must be 0.
 */
#define OP_FUTEX_WAITV 53

#define ENTRIES 4
/* enough probe slots to cover OP_FUTEX_WAITV */
#define PROBE_OPS 64

/* user_data of our two kinds of request */
#define UD_WAIT 1
#define UD_CANCEL 2

struct __shmkit_uring {
	int fd;
	int armed;		/* a wait was submitted and is not disarmed */
	int cancelling;		/* its cancel was submitted, its CQE not reaped */
	int done;		/* the wait's CQE was reaped, with res: */
	int res;
	/* our copies of the counters we alone write */
	uint32_t sq_tail, cq_head;
	uint32_t sq_entries, sq_mask, cq_mask;
	/* k: inside the ring the kernel shares with us */
	_Atomic uint32_t *sq_khead, *sq_ktail, *cq_khead, *cq_ktail;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *ring;
	size_t ring_size, sqes_size;
	/*
	 * The wait's vector. Kernels to date copy it when they take the SQE
	 * (io_futexv_prep), but the ABI promises nothing: it lives here, where
	 * it outlasts the wait.
	 */
	struct futex_waitv vec[SHMKIT_FUTEX_WAITV_MAX];
};

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	long r = syscall(SYS_io_uring_setup, entries, p);
	return r < 0 ? -errno : (int)r;
}

static int sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags)
{
	/* no signal mask: the last two arguments are NULL and 0 */
	long r = syscall(SYS_io_uring_enter, fd, submit, wait, flags, NULL, (size_t)0);
	return r < 0 ? -errno : (int)r;
}

static int sys_register(int fd, unsigned op, void *arg, unsigned nr)
{
	long r = syscall(SYS_io_uring_register, fd, op, arg, nr);
	return r < 0 ? -errno : (int)r;
}

/*
 * IORING_REGISTER_PROBE (5.6): the kernel fills one slot per opcode up to
 * PROBE_OPS, and refuses a buffer that is not all zero. An opcode the
 * kernel knows but was built without (no CONFIG_FUTEX) is not marked
 * supported. Older kernels refuse the probe itself with -EINVAL.
 */
static int probe_waitv(int fd)
{
	union {
		struct io_uring_probe p;
		unsigned char bytes[sizeof(struct io_uring_probe) +
				    PROBE_OPS * sizeof(struct io_uring_probe_op)];
	} pr;
	int r;

	memset(&pr, 0, sizeof(pr));
	if ((r = sys_register(fd, IORING_REGISTER_PROBE, &pr, PROBE_OPS)) < 0)
		return r == -EINVAL ? -EOPNOTSUPP : r;
	if (pr.p.ops_len <= OP_FUTEX_WAITV ||
	    !(pr.p.ops[OP_FUTEX_WAITV].flags & IO_URING_OP_SUPPORTED))
		return -EOPNOTSUPP;
	return 0;
}

static int map_rings(struct __shmkit_uring *u, const struct io_uring_params *p)
{
	size_t sq_size = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
	size_t cq_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	char *ring;
	uint32_t *array;

	/* SQ and CQ rings share one mapping (SINGLE_MMAP), as large as either */
	u->ring_size = sq_size > cq_size ? sq_size : cq_size;
	ring = mmap(NULL, u->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    u->fd, IORING_OFF_SQ_RING);
	if (ring == MAP_FAILED)
		return -errno;
	u->ring = ring;
	u->sqes_size = p->sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		return -errno;
	}
	u->sq_khead = (_Atomic uint32_t *)(ring + p->sq_off.head);
	u->sq_ktail = (_Atomic uint32_t *)(ring + p->sq_off.tail);
	u->sq_mask = *(uint32_t *)(ring + p->sq_off.ring_mask);
	u->sq_entries = p->sq_entries;
	u->cq_khead = (_Atomic uint32_t *)(ring + p->cq_off.head);
	u->cq_ktail = (_Atomic uint32_t *)(ring + p->cq_off.tail);
	u->cq_mask = *(uint32_t *)(ring + p->cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(ring + p->cq_off.cqes);
	/* slot i holds SQE i, for ever; U1 publishes this with the first SQE */
	array = (uint32_t *)(ring + p->sq_off.array);
	for (uint32_t i = 0; i < p->sq_entries; i++)
		array[i] = i;
	/* the kernel starts both queues at 0; we alone write these two */
	u->sq_tail = shmkit_load_relaxed(u->sq_ktail);
	u->cq_head = shmkit_load_relaxed(u->cq_khead);
	return 0;
}

int __shmkit_uring_open(struct __shmkit_uring **out)
{
	struct io_uring_params p;
	struct __shmkit_uring *u;
	int r;

	if (!out)
		return -EINVAL;
	if (!(u = calloc(1, sizeof(*u))))
		return -ENOMEM;
	/*
	 * No setup flags: a plain ring posts a woken wait's CQE from task work
	 * that interrupts the arming thread at once, asleep or not (uring.h).
	 * COOP_TASKRUN would only spare a running thread that interrupt, and
	 * delay the CQE to its next system call. DEFER_TASKRUN holds every
	 * completion until an io_uring_enter; in a trial on 6.18 it did not
	 * wake a poll on the fd at all.
	 */
	memset(&p, 0, sizeof(p));
	if ((u->fd = sys_setup(ENTRIES, &p)) < 0) {
		r = u->fd;
		free(u);
		return r;
	}
	/* SINGLE_MMAP came in 5.4, FUTEX_WAITV in 6.7: no need for two maps */
	r = p.features & IORING_FEAT_SINGLE_MMAP ? probe_waitv(u->fd) : -EOPNOTSUPP;
	if (!r)
		r = map_rings(u, &p);
	if (r) {
		__shmkit_uring_close(u);
		return r;
	}
	*out = u;
	return 0;
}

int __shmkit_uring_fd(const struct __shmkit_uring *u)
{
	return u->fd;
}

/* The next free SQE, zeroed, or NULL if the kernel still has them all. */
static struct io_uring_sqe *sqe_next(struct __shmkit_uring *u)
{
	struct io_uring_sqe *sqe;

	/* U2: the kernel has read a slot before its head passes it */
	if (u->sq_tail - shmkit_load_acquire(u->sq_khead) >= u->sq_entries)
		return NULL;
	sqe = &u->sqes[u->sq_tail & u->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

/*
 * Publishes the SQE from sqe_next and submits it. 0 once the kernel has
 * taken it (its CQE will follow), else the error, with the SQE withdrawn
 * so that no later call submits it by surprise.
 */
static int submit(struct __shmkit_uring *u)
{
	int r;

	u->sq_tail++;
	/* U1: the SQE's contents before the tail that hands it over */
	shmkit_store_release(u->sq_ktail, u->sq_tail);
	r = sys_enter(u->fd, 1, 0, 0);
	/* U2: the head says whether the kernel took it, whatever r says */
	if (shmkit_load_acquire(u->sq_khead) == u->sq_tail)
		return 0;
	/* not taken: the kernel reads the tail only inside io_uring_enter */
	u->sq_tail--;
	shmkit_store_release(u->sq_ktail, u->sq_tail);
	return r < 0 ? r : -EAGAIN;
}

/* Reaps every posted CQE into the wait's state. */
static void reap(struct __shmkit_uring *u)
{
	/* U3: the CQEs' contents after the tail that publishes them */
	uint32_t tail = shmkit_load_acquire(u->cq_ktail);

	for (; u->cq_head != tail; u->cq_head++) {
		const struct io_uring_cqe *cqe = &u->cqes[u->cq_head & u->cq_mask];

		if (cqe->user_data == UD_WAIT) {
			u->done = 1;
			u->res = cqe->res;
		} else if (cqe->user_data == UD_CANCEL) {
			u->cancelling = 0;
		}
	}
	/* U4: our reads of the CQEs before the head that frees their slots */
	shmkit_store_release(u->cq_khead, u->cq_head);
}

int __shmkit_uring_arm(struct __shmkit_uring *u, _Atomic uint32_t *const *words,
		       const uint32_t *vals, int n)
{
	struct io_uring_sqe *sqe;
	int r;

	if (!u || !words || !vals || n < 1 || n > SHMKIT_FUTEX_WAITV_MAX)
		return -EINVAL;
	if (u->armed)
		return -EBUSY;
	if (!(sqe = sqe_next(u)))
		return -EBUSY;
	for (int i = 0; i < n; i++) {
		/* FUTEX_32 without FUTEX_PRIVATE_FLAG: the wakers are other processes */
		u->vec[i] = (struct futex_waitv){ .val = vals[i], .flags = FUTEX_32,
						  .uaddr = (uint64_t)(uintptr_t)words[i] };
	}
	sqe->opcode = OP_FUTEX_WAITV;
	sqe->addr = (uint64_t)(uintptr_t)u->vec;
	sqe->len = (uint32_t)n;
	sqe->user_data = UD_WAIT;
	if ((r = submit(u)) < 0)
		return r;
	u->armed = 1;
	u->done = 0;
	return 0;
}

/*
 * The cancel, when the wait has not posted yet: io_futex_cancel takes the
 * wait off its futexes at once, or finds it already woken (its CQE is then
 * on the way, -ENOENT for the cancel). Either way both CQEs are posted by
 * the time the waits below have run our task work, without a wake.
 */
int __shmkit_uring_disarm(struct __shmkit_uring *u)
{
	struct io_uring_sqe *sqe;
	int r;

	if (!u)
		return -EINVAL;
	if (!u->armed)
		return 0;
	reap(u);
	if (!u->done && !u->cancelling) {
		if (!(sqe = sqe_next(u)))
			return -EBUSY;
		sqe->opcode = IORING_OP_ASYNC_CANCEL;
		sqe->fd = -1;
		sqe->addr = UD_WAIT;	/* the request to cancel, by user_data */
		sqe->user_data = UD_CANCEL;
		if ((r = submit(u)) < 0)
			return r;
		u->cancelling = 1;
	}
	while (!u->done || u->cancelling) {
		r = sys_enter(u->fd, 0, 1, IORING_ENTER_GETEVENTS);
		/* a signal: what it interrupted is still on its way */
		if (r < 0 && r != -EINTR)
			return r;
		reap(u);
	}
	u->armed = 0;
	/* woken (res: which word), or a word differed (-EAGAIN), or cancelled */
	if (u->res >= 0 || u->res == -EAGAIN)
		return 1;
	return u->res == -ECANCELED ? 0 : u->res;
}

void __shmkit_uring_close(struct __shmkit_uring *u)
{
	if (!u)
		return;
	/*
	 * If this fails, closing the ring cancels the wait all the same
	 * (io_ring_exit_work), and the kernel holds no pointer into u.
	 */
	if (u->armed)
		__shmkit_uring_disarm(u);
	if (u->sqes)
		munmap(u->sqes, u->sqes_size);
	if (u->ring)
		munmap(u->ring, u->ring_size);
	close(u->fd);
	free(u);
}
