/* Zeroing large reservations first, where it pays: see prezero.h. */
#include "prezero.h"
#include "util.h"

int __shmkit_prezero_possible(void)
{
#if defined(__x86_64__)
	return 1;
#else
	return 0;
#endif
}

void __shmkit_prezero_bytes(void *p, size_t len)
{
#if defined(__x86_64__)
	__asm__ __volatile__("rep stosb" : "+D"(p), "+c"(len) : "a"(0) : "memory");
#else
	(void)p, (void)len;
#endif
}

void __shmkit_prezero_init(struct prezero *z, uint64_t cap)
{
	*z = (struct prezero){ .wait = cap, .hold = PREZERO_HOLD_FIRST };
}

void __shmkit_prezero_force(struct prezero *z, int on)
{
	*z = (struct prezero){ .wait = UINT64_MAX, .hold = PREZERO_HOLD_MAX,
			       .on = on && __shmkit_prezero_possible() };
}

static void window_open(struct prezero *z, int on, uint64_t now, uint64_t len)
{
	z->win_on = (uint32_t)on;
	z->win_start = now ? now : 1;
	z->win_waited = 0;
	z->win_bytes = len;
	z->win_msgs = 1;
}

int __shmkit_prezero_decide(struct prezero *z, uint64_t len, uint64_t waited_ns)
{
	uint64_t now, span;

	if (!__shmkit_prezero_possible())
		return 0;
	if (!z->win_start) {
		if (z->wait > len) {
			z->wait -= len;
			return (int)z->on;
		}
		/* a trial begins, zeroing first */
		z->n[0] = z->n[1] = 0;
		window_open(z, 1, __shmkit_now_ns(), len);
		return 1;
	}
	z->win_waited += waited_ns;
	if (z->win_bytes < PREZERO_WINDOW_BYTES || z->win_msgs < PREZERO_WINDOW_MSGS) {
		z->win_bytes += len;
		z->win_msgs++;
		return (int)z->win_on;
	}
	/*
	 * The window ends where this reservation begins, after its wait; what
	 * counts is the producer's own time in it, without its waits for room:
	 * what it would take with a consumer that always keeps up.
	 */
	now = __shmkit_now_ns();
	span = now - z->win_start;
	span = span > z->win_waited ? span - z->win_waited : 0;
	/* a window left open for hours must not wrap below */
	if (span > UINT64_MAX >> 20)
		span = UINT64_MAX >> 20;
	__shmkit_prezero_sample(z, (int)z->win_on, (span << 20) / z->win_bytes);
	if (!z->win_start)
		return (int)z->on;	/* that was the trial's last window */
	/* the way with fewer windows next: they alternate */
	window_open(z, z->n[1] <= z->n[0], now, len);
	return (int)z->win_on;
}

static uint32_t median(uint32_t *v, unsigned n)
{
	unsigned i, j;
	uint32_t x;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[n / 2];
}

void __shmkit_prezero_sample(struct prezero *z, int zeroed, uint64_t ns_per_mib)
{
	uint32_t plain, zeroing, on;

	if (z->n[zeroed] >= PREZERO_SAMPLES)
		return;
	z->cost[zeroed][z->n[zeroed]++] =
		ns_per_mib > UINT32_MAX ? UINT32_MAX : (uint32_t)ns_per_mib;
	if (z->n[0] < PREZERO_SAMPLES || z->n[1] < PREZERO_SAMPLES)
		return;
	plain = median(z->cost[0], PREZERO_SAMPLES);
	zeroing = median(z->cost[1], PREZERO_SAMPLES);
	on = (uint64_t)zeroing * 10 < (uint64_t)plain * 9;
	/* the same answer again: ask half as often; a new one: soon */
	if (z->trials && on == z->on)
		z->hold = z->hold * 2 > PREZERO_HOLD_MAX ? PREZERO_HOLD_MAX : z->hold * 2;
	else
		z->hold = PREZERO_HOLD_FIRST;
	z->on = on;
	z->wait = z->hold;
	z->win_start = 0;
	z->n[0] = z->n[1] = 0;
	z->trials++;
	z->chosen += on;
}
