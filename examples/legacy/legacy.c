/*
 * legacy: the System V calls from the notes, each beside the shmkit call
 * that replaces it. Both columns run, on two different segments.
 *
 *   notes (raw System V)              shmkit
 *   ftok(path, proj)                  shmkit_key_resolve(&ref)  (path, key or name)
 *   shmget(key, size, IPC_CREAT|0666) shmkit_seg_create(&ref, size, mode, 0)
 *   shmget(... | IPC_EXCL)            shmkit_seg_create(..., SHMKIT_EXCL)
 *   shmat(shmid, NULL, 0)             shmkit_seg_attach(shmid, 0, &map)
 *   shmdt(addr)                       shmkit_seg_detach(&map)
 *   shmctl(shmid, IPC_RMID, NULL)     shmkit_seg_remove(shmid)
 *   ipcs -m                           shmkit_seg_list() / shmkit ls
 *
 * The differences that matter: errors come back as negative errno values
 * (no -1 and errno, no (void *)-1 from shmat); the default mode is 0600,
 * where raw IPC_CREAT without mode bits gives 0 (nobody may attach); a
 * shmkit name is checked on open, so a key collision is an error.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "shmkit.h"

#define SIZE 4096

static int raw_way(const char *path)
{
	key_t key = ftok(path, 'L');
	int shmid;
	char *mem;

	if (key == -1)
		return perror("ftok"), 1;
	shmid = shmget(key, SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (shmid < 0)
		return perror("shmget"), 1;
	mem = shmat(shmid, NULL, 0);
	if (mem == (void *)-1) {
		perror("shmat");
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	strcpy(mem, "written the notes' way");
	printf("raw:    key 0x%08x shmid %d says \"%s\"\n", (unsigned)key, shmid, mem);
	shmdt(mem);
	return shmctl(shmid, IPC_RMID, NULL) < 0;
}

static int shmkit_way(const char *path)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_PATH, .path = path, .proj = 'S' };
	struct shmkit_map map;
	key_t key;
	int shmid, r;

	if ((r = shmkit_key_resolve(&ref, &key)) < 0)
		return fprintf(stderr, "key: %s\n", shmkit_strerror(r)), 1;
	shmid = shmkit_seg_create(&ref, SIZE, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid < 0)
		return fprintf(stderr, "create: %s\n", shmkit_strerror(shmid)), 1;
	if ((r = shmkit_seg_attach(shmid, 0, &map)) < 0) {
		fprintf(stderr, "attach: %s\n", shmkit_strerror(r));
		shmkit_seg_remove(shmid);
		return 1;
	}
	strcpy(map.data, "written the shmkit way");
	printf("shmkit: key 0x%08x shmid %d says \"%s\" (%zu usable bytes)\n",
	       (unsigned)key, shmid, (char *)map.data, map.size);
	shmkit_seg_detach(&map);
	return shmkit_seg_remove(shmid) < 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp";

	return raw_way(path) | shmkit_way(path);
}
