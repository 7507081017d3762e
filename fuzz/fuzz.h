/*
 * What both fuzz targets share. FUZZ_FAIL(msg) reports a violated
 * expectation: by default it traps, and libFuzzer saves the input as a
 * crash; tests/fuzz_replay.c defines it first, as a test failure.
 */
#ifndef SHMKIT_FUZZ_H
#define SHMKIT_FUZZ_H

#include <stdio.h>

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(msg) \
	do { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, (msg)); \
	     __builtin_trap(); } while (0)
#endif

#endif
