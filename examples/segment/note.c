/*
 * note: the notes' shared memory round trip with shmkit. One process
 * writes a line into a named segment; any other process reads it back.
 *
 *   note NAME write TEXT [SECONDS]   create-or-open NAME, write TEXT, stay
 *                                    attached SECONDS (default 0)
 *   note NAME read                   print what NAME holds
 *
 * Only the public API is used. Error codes are negative errno values (or
 * SHMKIT_E* codes) and shmkit_strerror() turns them into text.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmkit.h"

#define NOTE_SIZE 4096

static int fail(const char *what, int err)
{
	fprintf(stderr, "note: %s: %s\n", what, shmkit_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	struct shmkit_map map;
	int shmid, err, writing;

	if (argc < 3 || (strcmp(argv[2], "write") && strcmp(argv[2], "read")) ||
	    (!strcmp(argv[2], "write") && argc < 4)) {
		fprintf(stderr, "usage: note NAME write TEXT [SECONDS] | note NAME read\n");
		return 2;
	}
	ref.name = argv[1];
	writing = !strcmp(argv[2], "write");

	/* shmget(IPC_CREAT) + shmat in the notes; here the name is verified too */
	shmid = writing ? shmkit_seg_create(&ref, NOTE_SIZE, SHMKIT_MODE_DEFAULT, 0)
			: shmkit_seg_open(&ref);
	if (shmid < 0)
		return fail(argv[1], shmid);
	err = shmkit_seg_attach(shmid, writing ? 0 : SHMKIT_RDONLY, &map);
	if (err < 0)
		return fail("attach", err);

	if (writing) {
		snprintf(map.data, map.size, "%s", argv[3]);
		printf("pid %d wrote %zu bytes into '%s' (shmid %d)\n", (int)getpid(),
		       strlen(map.data), map.name, shmid);
		fflush(stdout);
		if (argc > 4)
			sleep((unsigned)atoi(argv[4]));
	} else {
		/* never trust the segment: print at most its size */
		printf("%.*s\n", (int)strnlen(map.data, map.size), (const char *)map.data);
	}
	/* shmdt in the notes: the segment itself stays until removed */
	err = shmkit_seg_detach(&map);
	return err < 0 ? fail("detach", err) : 0;
}
