/*
 * Look notes are pruned in one pass (src/look.c, prune): a note of a
 * looker that is gone goes once it tells nothing, and stays while it
 * does.
 *
 * Proves, with `shmkit stat` runs as the lookers (each exits at once):
 *  a. A dead looker's note stays while the kernel still names that
 *     looker as the segment's last user (the note is what gives the real
 *     last user back), through another process's pruning pass.
 *  b. Once a real use has come after it, the next pass removes it.
 *  c. The notes of a segment that is gone are removed by the next pass,
 *     a live looker's (this process's) as well as a dead one's.
 *  d. Looks do not pile notes up: 20 dead lookers of one segment leave
 *     one note (the last one's, which the kernel names).
 *
 * Each process prunes at most once a second, and each `shmkit stat` is a
 * new process: its first look prunes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char notes_dir[128];

/* Our notes directory for this IPC namespace (root's: the test runs as root). */
static void find_notes_dir(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st) < 0)
		t_skip("no /proc/self/ns/ipc");
	snprintf(notes_dir, sizeof(notes_dir), "/dev/shm/shmkit-looks-%u/ipc-%llu",
		 (unsigned)geteuid(), (unsigned long long)st.st_ino);
}

/* Notes of shmid now: files named SHMID-PID. */
static int notes_of(int shmid)
{
	char prefix[24];
	struct dirent *d;
	DIR *dir = opendir(notes_dir);
	size_t n = (size_t)snprintf(prefix, sizeof(prefix), "%d-", shmid);
	int count = 0;

	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		count += !strncmp(d->d_name, prefix, n) && !strstr(d->d_name, ".tmp");
	closedir(dir);
	return count;
}

/* A process that looks at shmid and exits. */
static void look_from_outside(int shmid)
{
	char id[16], *out, *err;

	snprintf(id, sizeof(id), "%d", shmid);
	if (t_cli(&out, &err, "stat", id, NULL) != 0)
		t_fail(__FILE__, __LINE__, "shmkit stat %s: %s", id, err);
	free(out);
	free(err);
}

static int make_segment(const char *tag)
{
	char name[64];
	struct shmkit_ref ref = t_name_ref(t_name(name, sizeof(name), tag));

	/* the header is written through an attach: this live process is its last user */
	return t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
}

/* A real use: attach and detach, so this (live) process is the last user. */
static void use(int shmid)
{
	void *p = shmat(shmid, NULL, SHM_RDONLY);

	T_ASSERT(p != (void *)-1);
	T_OK(shmdt(p) == 0 ? 0 : -1);
}

int main(void)
{
	int a, b, c;

	find_notes_dir();
	a = make_segment("a");
	b = make_segment("b");
	c = make_segment("c");

	/* a: a dead looker is the kernel's last pid; its note is needed */
	look_from_outside(a);
	T_EQ(notes_of(a), 1);
	look_from_outside(b);		/* another process's first look: a pass */
	T_EQ(notes_of(a), 1);

	/* b: after a real use the note tells nothing; the next pass drops it */
	use(a);
	look_from_outside(b);
	T_EQ(notes_of(a), 0);

	/* c: the notes of a segment that is gone */
	{
		struct shmkit_seg_info info;

		T_OK(shmkit_seg_stat(c, &info));	/* a look by this live process */
	}
	look_from_outside(c);
	T_EQ(notes_of(c), 2);
	T_OK(shmctl(c, IPC_RMID, NULL) == 0 ? 0 : -1);
	look_from_outside(b);
	T_EQ(notes_of(c), 0);

	/* d: repeated dead looks keep one note (the latest looker's) */
	for (int k = 0; k < 20; k++)
		look_from_outside(a);
	T_EQ(notes_of(a), 1);
	T_ASSERT(notes_of(b) <= 1);
	printf("look notes pruned: kept while needed, dropped after a use or removal\n");
	return 0;
}
