#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "look.h"
#include "proc.h"
#include "sys.h"
#include "util.h"

#define LOOK_TOP "/dev/shm/shmkit-looks"

/*
 * Each IPC namespace has its own shmids, so its own notes directory:
 * LOOK_TOP/ipc-INODE, INODE being the namespace's (from /proc/self/ns/ipc).
 * Found again for each look, not cached in a static: threads may ask at
 * once, and a process may change namespace.
 */
#define LOOK_DIR_MAX sizeof(((struct __shmkit_look *)0)->dir)

static const char *look_dir(char dir[LOOK_DIR_MAX])
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st) == 0)
		snprintf(dir, LOOK_DIR_MAX, LOOK_TOP "/ipc-%llu", (unsigned long long)st.st_ino);
	else
		snprintf(dir, LOOK_DIR_MAX, LOOK_TOP "/ipc-unknown");
	return dir;
}

static void note_path(char *buf, size_t cap, const char *dir, int shmid, pid_t pid)
{
	snprintf(buf, cap, "%s/%d-%d", dir, shmid, (int)pid);
}

pid_t __shmkit_look_resolve(int shmid, struct __shmkit_last_use *use)
{
	char path[128], buf[200], dir[LOOK_DIR_MAX];
	long long lpid, atime, dtime, ctime, left_atime, left_dtime;
	uint64_t start;
	pid_t from = use->lpid;

	if (from <= 0)
		return 0;
	/* a live last user is the truth; only a gone one (or us) may be a looker */
	if (from != getpid() && __shmkit_proc_start(from, &start) == 0)
		return 0;
	note_path(path, sizeof(path), look_dir(dir), shmid, from);
	if (__shmkit_read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	if (sscanf(buf, "shmkit-look 2 %lld %lld %lld %lld %lld %lld", &ctime, &lpid,
		   &atime, &dtime, &left_atime, &left_dtime) != 6 ||
	    ctime != use->ctime || lpid < 0 || lpid > INT32_MAX)
		return 0;
	/*
	 * The note speaks for the kernel's record only as the look left it:
	 * a real attach or detach since (by that pid: us) moved the times.
	 */
	if (left_atime >= 0 && (left_atime != use->atime || left_dtime != use->dtime))
		return 0;
	use->lpid = (pid_t)lpid;
	use->atime = atime;
	use->dtime = dtime;
	return from;
}

/* Notes of this segment from other lookers that are gone, except keep. */
static void prune(const char *where, int shmid, pid_t keep)
{
	char prefix[32];
	struct dirent *d;
	DIR *dir = opendir(where);
	uint64_t start;
	size_t n;
	long pid;

	if (!dir)
		return;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%d-", shmid);
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, prefix, n) != 0)
			continue;
		pid = strtol(d->d_name + n, NULL, 10);
		if (pid == getpid() || pid == keep || pid <= 0)
			continue;
		if (__shmkit_proc_start((pid_t)pid, &start) < 0)
			unlinkat(dirfd(dir), d->d_name, 0);
	}
	closedir(dir);
}

/* left: the times the kernel shows after our look, or NULL while looking */
static void write_note(int shmid, const struct __shmkit_look *lk, const struct shmid_ds *left)
{
	char path[128], tmp[160], buf[200];
	int fd, n;

	/* shared by every user, like /tmp; neither mode narrowed by the umask */
	if (mkdir(LOOK_TOP, 01777) == 0)
		chmod(LOOK_TOP, 01777);
	if (mkdir(lk->dir, 01777) == 0)
		chmod(lk->dir, 01777);
	note_path(path, sizeof(path), lk->dir, shmid, getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "shmkit-look 2 %lld %d %lld %lld %lld %lld\n",
		     (long long)lk->use.ctime, (int)lk->use.lpid,
		     (long long)lk->use.atime, (long long)lk->use.dtime,
		     left ? (long long)left->shm_atime : -1LL,
		     left ? (long long)left->shm_dtime : -1LL);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	/* whole notes only: a reader never sees half of one */
	if (rename(tmp, path) < 0)
		unlink(tmp);
}

int __shmkit_look_begin(int shmid, struct __shmkit_look *lk)
{
	struct shmid_ds ds;
	int err = __shmkit_shmctl(shmid, IPC_STAT, &ds);

	if (err < 0)
		return err;
	lk->segsz = ds.shm_segsz;
	lk->key = ds.shm_perm.__key;
	lk->cpid = ds.shm_cpid;
	lk->use.lpid = ds.shm_lpid;
	lk->use.atime = ds.shm_atime;
	lk->use.dtime = ds.shm_dtime;
	lk->use.ctime = ds.shm_ctime;
	lk->from = __shmkit_look_resolve(shmid, &lk->use);
	look_dir(lk->dir);
	prune(lk->dir, shmid, lk->from);
	write_note(shmid, lk, NULL);
	return __shmkit_shmat(shmid, SHM_RDONLY, &lk->base);
}

void __shmkit_look_end(int shmid, struct __shmkit_look *lk)
{
	char path[128];
	struct shmid_ds ds;

	__shmkit_shmdt(lk->base);
	if (__shmkit_shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_lpid == getpid())
		write_note(shmid, lk, &ds);
	/* our own note now carries what that one did */
	if (lk->from > 0 && lk->from != getpid()) {
		note_path(path, sizeof(path), lk->dir, shmid, lk->from);
		unlink(path);
	}
}

void __shmkit_look_prune_gone(const int *live, size_t n)
{
	struct dirent *d;
	char where[LOOK_DIR_MAX];
	DIR *dir = opendir(look_dir(where));
	size_t i;
	long id;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		id = strtol(d->d_name, NULL, 10);
		for (i = 0; i < n && live[i] != id; i++)
			;
		if (i == n)
			unlinkat(dirfd(dir), d->d_name, 0);
	}
	closedir(dir);
}

void __shmkit_look_forget(int shmid)
{
	char prefix[32];
	struct dirent *d;
	char where[LOOK_DIR_MAX];
	DIR *dir = opendir(look_dir(where));
	size_t n;

	if (!dir)
		return;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%d-", shmid);
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, n))
			unlinkat(dirfd(dir), d->d_name, 0);
	closedir(dir);
}
