/*
 * The pause a spinning wait makes at each turn: it lets a hyperthread
 * sibling run and saves power. One definition for the library's waits
 * (chan.c) and the programs' (the benchmark's spins, via cli/cli.h), so
 * the two cannot drift apart again. Nothing else: safe to include from
 * any program built in this tree.
 */
#ifndef SHMKIT_RELAX_H
#define SHMKIT_RELAX_H

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif
