/*
 * The notes of looks: look.h says why they exist, where they live and
 * when they are trusted. Every file operation here goes through a
 * directory fd that was checked after it was opened; no path below
 * /dev/shm is ever resolved as a whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "look.h"
#include "proc.h"
#include "sys.h"
#include "util.h"

#define SHM_DIR "/dev/shm"
#define USER_DIR_PREFIX "shmkit-looks-"
#define DIR_MODE 0755
#define NOTE_MODE 0644
#define NAME_LEN 48		/* any of our names: "shmkit-looks-UID-X", "ipc-NS", a note */
#define SPARE_TRIES 8		/* fresh names tried for a spare directory */
#define NOTE_MAX 200		/* a note is one short line */
#define PRUNE_EVERY_NS 1000000000	/* prune's pass over our notes, at most */

/* ------------------------------------------------------------ directories */

/*
 * /dev/shm, if only root can take our entries from us there: it must be
 * root's, and sticky or closed to others. -1 if not (then no notes).
 */
static int open_shm(void)
{
	struct stat st;
	int fd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	    ((st.st_mode & S_ISVTX) || !(st.st_mode & 022)))
		return fd;
	close(fd);
	return -1;
}

/*
 * The directory name in at, not following a link, if it is owner's and
 * nobody else may write in it. Returns its fd, or -1.
 */
static int open_dir_of(int at, const char *name, uid_t owner)
{
	struct stat st;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == owner &&
	    !(st.st_mode & 022))
		return fd;
	close(fd);
	return -1;
}

/*
 * Our own directory name in at, made first if make and missing. If the
 * name is taken by something not ours (a squatter), -1: we write nothing.
 */
static int own_dir(int at, const char *name, int make)
{
	int made = make && mkdirat(at, name, DIR_MODE) == 0;
	int fd = open_dir_of(at, name, geteuid());

	/* others read our notes too, whatever our umask took away */
	if (made && fd >= 0)
		fchmod(fd, DIR_MODE);
	return fd;
}

static void user_dir_name(char name[NAME_LEN], uid_t uid)
{
	snprintf(name, NAME_LEN, USER_DIR_PREFIX "%u", (unsigned)uid);
}

/* A spare name for uid's notes: shmkit-looks-UID-XXXXXXXX, random hex. */
static int spare_dir_name(char name[NAME_LEN], uid_t uid)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -1;
	snprintf(name, NAME_LEN, USER_DIR_PREFIX "%u-%08x", (unsigned)uid, (unsigned)r);
	return 0;
}

/*
 * The uid whose notes a /dev/shm entry would hold, if its name is one we
 * make: the uid in plain decimal, then nothing (its usual name) or a dash
 * and 8 lowercase hex digits (a spare one, made when another user took
 * the usual name first). Returns 0, or -1 for any other name.
 */
static int user_of_dir(const char *name, uid_t *uid)
{
	char again[NAME_LEN], digits[16];
	size_t n = strlen(USER_DIR_PREFIX), len;
	const char *rest;
	uint64_t v;

	if (strncmp(name, USER_DIR_PREFIX, n) != 0)
		return -1;
	len = strcspn(name + n, "-");
	rest = name + n + len;
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, name + n, len);
	digits[len] = '\0';
	if (__shmkit_parse_u64(digits, &v) < 0 || v >= (uid_t)-1)
		return -1;
	*uid = (uid_t)v;
	user_dir_name(again, *uid);
	if (strncmp(again, name, n + len) != 0 || strlen(again) != n + len)
		return -1;	/* not plain decimal: leading zeros, signs */
	if (*rest == '\0')
		return 0;
	return strlen(rest) == 9 && strspn(rest + 1, "0123456789abcdef") == 8 ? 0 : -1;
}

/*
 * Each IPC namespace has its own shmids, so its own notes: ipc-INODE, the
 * namespace's inode (from /proc/self/ns/ipc). Found again for each
 * operation: threads may ask at once, and a process may change namespace.
 */
static void ns_dir_name(char name[NAME_LEN])
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st) == 0)
		snprintf(name, NAME_LEN, "ipc-%llu", (unsigned long long)st.st_ino);
	else
		snprintf(name, NAME_LEN, "ipc-unknown");
}

/* A listing of the directory fd (which stays open and keeps its offset). */
static DIR *list_dir(int fd);

/*
 * Our spare directory: one of ours named as spare_dir_name makes, found
 * in shm, or (if make) made now under a fresh random name, which nobody
 * can have taken in advance. -1 if none.
 */
static int spare_own_dir(int shm, int make)
{
	char name[NAME_LEN];
	DIR *top = list_dir(shm);
	struct dirent *d;
	uid_t uid, me = geteuid();
	int fd = -1, tries;

	while (top && fd < 0 && (d = readdir(top)))
		if (strlen(d->d_name) > strlen(USER_DIR_PREFIX) + 9 &&
		    user_of_dir(d->d_name, &uid) == 0 && uid == me &&
		    strchr(d->d_name + strlen(USER_DIR_PREFIX), '-'))
			fd = own_dir(shm, d->d_name, 0);
	if (top)
		closedir(top);
	for (tries = 0; make && fd < 0 && tries < SPARE_TRIES; tries++) {
		if (spare_dir_name(name, me) < 0 || mkdirat(shm, name, DIR_MODE) < 0)
			continue;
		/* others read our notes too, whatever our umask took away */
		if ((fd = own_dir(shm, name, 0)) >= 0)
			fchmod(fd, DIR_MODE);
	}
	return fd;
}

/*
 * Our notes for this namespace under shm (/dev/shm, checked), or -1. Our
 * usual directory, shmkit-looks-UID; if another user took that name first
 * (to make our looks leave no notes, so that a segment still in use looks
 * abandoned), a spare one.
 */
static int open_own_notes(int shm, int make)
{
	char name[NAME_LEN];
	int top, fd;

	if (shm < 0)
		return -1;
	user_dir_name(name, geteuid());
	if ((top = own_dir(shm, name, make)) < 0)
		top = spare_own_dir(shm, make);
	if (top < 0)
		return -1;
	ns_dir_name(name);
	fd = own_dir(top, name, make);
	close(top);
	return fd;
}

/* uid's notes in its directory dir for namespace ns, if only uid can write them. */
static int open_notes_of(int shm, const char *dir, uid_t uid, const char *ns)
{
	int top, fd;

	if ((top = open_dir_of(shm, dir, uid)) < 0)
		return -1;
	fd = open_dir_of(top, ns, uid);
	close(top);
	return fd;
}

static DIR *list_dir(int fd)
{
	int again = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = again >= 0 ? fdopendir(again) : NULL;

	if (!dir && again >= 0)
		close(again);
	return dir;
}

/* ------------------------------------------------------------------ notes */

static void note_name(char name[NAME_LEN], int shmid, pid_t pid)
{
	snprintf(name, NAME_LEN, "%d-%d", shmid, (int)pid);
}

/*
 * The note name in dir, if it is a small regular file of owner's: opened
 * without following a link, and without waiting should it be a fifo.
 * Returns its length, or -1.
 */
static int read_note(int dir, const char *name, uid_t owner, char buf[NOTE_MAX])
{
	struct stat st;
	ssize_t n = -1;
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == owner &&
	    st.st_size < NOTE_MAX) {
		do
			n = read(fd, buf, NOTE_MAX - 1);
		while (n < 0 && errno == EINTR);
	}
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/*
 * What the note text says the kernel showed before the look, into out, if
 * it speaks for use: the same incarnation of the shmid (change time), and
 * the kernel's record still as the look left it. Returns 0, or -1.
 */
static int parse_note(const char *text, const struct __shmkit_last_use *use,
		      struct __shmkit_last_use *out)
{
	long long lpid, atime, dtime, ctime, left_atime, left_dtime;

	if (sscanf(text, "shmkit-look 2 %lld %lld %lld %lld %lld %lld", &ctime, &lpid,
		   &atime, &dtime, &left_atime, &left_dtime) != 6 ||
	    ctime != use->ctime || lpid < 0 || lpid > INT32_MAX)
		return -1;
	/* a real attach or detach since the look (by that pid: us) moved the times */
	if (left_atime >= 0 && (left_atime != use->atime || left_dtime != use->dtime))
		return -1;
	out->lpid = (pid_t)lpid;
	out->atime = atime;
	out->dtime = dtime;
	out->ctime = use->ctime;
	return 0;
}

/*
 * Could uid have attached the segment to look at it? Only then may its
 * note speak for the segment. perm NULL: not known (see look.h).
 */
static int could_look(uid_t uid, const struct ipc_perm *perm)
{
	return !perm || uid == 0 || uid == perm->uid || uid == perm->cuid ||
	       (perm->mode & 0044);
}

static int64_t last_time(const struct __shmkit_last_use *u)
{
	return u->atime > u->dtime ? u->atime : u->dtime;
}

static int last_user_alive(const struct __shmkit_last_use *u)
{
	return u->lpid > 0 && __shmkit_proc_alive_before(u->lpid, last_time(u));
}

/*
 * Does a make the segment look more used than b? A live last user first,
 * then the later use. Of several notes for one pid only one is genuine,
 * and whichever it is, a forged one must not hide it.
 */
static int more_used(const struct __shmkit_last_use *a, const struct __shmkit_last_use *b)
{
	int alive = last_user_alive(a);

	if (alive != last_user_alive(b))
		return alive;
	return last_time(a) > last_time(b);
}

/* The best note found so far for the pid being resolved. */
struct found {
	struct __shmkit_last_use use;
	int any;
	int ours;		/* it is in our own directory */
};

/* Weighs note name, in uid's notes directory dir (closed here), into f. */
static void weigh_note_in(int dir, uid_t uid, const char *name,
			  const struct __shmkit_last_use *use, struct found *f)
{
	struct __shmkit_last_use said;
	char text[NOTE_MAX];
	int ok;

	if (dir < 0)
		return;
	ok = read_note(dir, name, uid, text) >= 0 && parse_note(text, use, &said) == 0;
	close(dir);
	if (!ok || (f->any && !more_used(&said, &f->use)))
		return;
	f->use = said;
	f->any = 1;
	f->ours = uid == geteuid();
}

/* Any user may have been the looker: weighs the note name of each. */
static void weigh_every_note(int shm, const char *ns, const char *name,
			     const struct ipc_perm *perm,
			     const struct __shmkit_last_use *use, struct found *f)
{
	DIR *top = list_dir(shm);
	struct dirent *d;
	uid_t uid;

	if (!top)
		return;
	while ((d = readdir(top)))
		if (user_of_dir(d->d_name, &uid) == 0 && could_look(uid, perm))
			weigh_note_in(open_notes_of(shm, d->d_name, uid, ns), uid, name,
				      use, f);
	closedir(top);
}

/* Can the kernel's last pid be a looker? Only if it is gone, or us. */
static int may_be_look(pid_t lpid)
{
	uint64_t start;

	/* a live last user is the truth */
	return lpid > 0 && (lpid == getpid() || __shmkit_proc_start(lpid, &start) < 0);
}

/*
 * __shmkit_look_resolve with /dev/shm open (shm, or -1) and the segment's
 * permissions (or NULL). *ours: the note used is in our own directory.
 */
static pid_t resolve_at(int shm, int shmid, const struct ipc_perm *perm,
			struct __shmkit_last_use *use, int *ours)
{
	char ns[NAME_LEN], name[NAME_LEN];
	struct found f = { .any = 0 };
	pid_t from = use->lpid;

	*ours = 0;
	if (shm < 0)
		return 0;
	ns_dir_name(ns);
	note_name(name, shmid, from);
	if (from == getpid())
		/* our own look: only our own note can tell of it */
		weigh_note_in(open_own_notes(shm, 0), geteuid(), name, use, &f);
	else
		weigh_every_note(shm, ns, name, perm, use, &f);
	if (!f.any)
		return 0;
	use->lpid = f.use.lpid;
	use->atime = f.use.atime;
	use->dtime = f.use.dtime;
	*ours = f.ours;
	return from;
}

pid_t __shmkit_look_resolve(int shmid, struct __shmkit_last_use *use)
{
	struct shmid_ds ds;
	pid_t from;
	int shm, ours;

	if (!may_be_look(use->lpid))
		return 0;
	shm = open_shm();
	from = resolve_at(shm, shmid,
			  __shmkit_shmctl(shmid, IPC_STAT, &ds) == 0 ? &ds.shm_perm : NULL,
			  use, &ours);
	if (shm >= 0)
		close(shm);
	return from;
}

/*
 * Our notes that tell nothing any more, in one pass over the directory at
 * most every PRUNE_EVERY_NS in a process. A pass per look made the looks
 * of N segments cost N passes over about N notes: 1 ms a look with 1,000
 * channels, most of it in readdir (shmkit top over 1,000 channels took a
 * second a refresh). Every note of a segment that is gone goes. A note of
 * a live segment is kept while the kernel still names its pid as the
 * last user (it is what tells the real last user: resolve_at), while its
 * looker runs, or while we may not read the segment to tell; the rest of
 * a dead looker's notes go. Racing passes in two threads only unlink the
 * same names twice.
 */
static void prune(int notes)
{
	static _Atomic uint64_t next_pass;
	uint64_t now = __shmkit_now_ns(), when = atomic_load(&next_pass), start;
	struct shmid_ds ds;
	struct dirent *d;
	DIR *dir;
	char *end;
	long id, pid;
	int r;

	if (notes < 0 || now < when ||
	    !atomic_compare_exchange_strong(&next_pass, &when, now + PRUNE_EVERY_NS) ||
	    !(dir = list_dir(notes)))
		return;
	while ((d = readdir(dir))) {
		id = strtol(d->d_name, &end, 10);
		if (d->d_name[0] < '0' || d->d_name[0] > '9' || *end != '-')
			continue;	/* not a note */
		r = __shmkit_shmctl((int)id, IPC_STAT, &ds);
		if (r == -EINVAL || r == -EIDRM) {
			unlinkat(notes, d->d_name, 0);	/* its segment is gone */
			continue;
		}
		pid = strtol(end + 1, &end, 10);
		/* a note being written (.tmp), ours, or one still needed or not ours to judge */
		if (*end || pid <= 0 || pid == getpid() || r < 0 || ds.shm_lpid == (pid_t)pid)
			continue;
		if (__shmkit_proc_start((pid_t)pid, &start) < 0)
			unlinkat(notes, d->d_name, 0);
	}
	closedir(dir);
}

/*
 * A new file tmp in our notes directory. Its name is this thread's, so
 * only a thread that died while writing (its id now ours) can have left
 * one: that is removed and made again.
 */
static int create_tmp(int notes, const char *tmp)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(notes, tmp, flags, NOTE_MODE);

	if (fd < 0 && errno == EEXIST && unlinkat(notes, tmp, 0) == 0)
		fd = openat(notes, tmp, flags, NOTE_MODE);
	return fd;
}

/* left: the times the kernel shows after our look, or NULL while looking */
static void write_note(int shmid, const struct __shmkit_look *lk, const struct shmid_ds *left)
{
	char name[NAME_LEN], tmp[NAME_LEN + 16], text[NOTE_MAX];
	int fd, n, ok;

	if (lk->notes < 0)
		return;
	note_name(name, shmid, getpid());
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)syscall(SYS_gettid));
	n = snprintf(text, sizeof(text), "shmkit-look 2 %lld %d %lld %lld %lld %lld\n",
		     (long long)lk->use.ctime, (int)lk->use.lpid,
		     (long long)lk->use.atime, (long long)lk->use.dtime,
		     left ? (long long)left->shm_atime : -1LL,
		     left ? (long long)left->shm_dtime : -1LL);
	if ((fd = create_tmp(lk->notes, tmp)) < 0)
		return;
	/* readable by other users' judgements, whatever our umask */
	fchmod(fd, NOTE_MODE);
	ok = write(fd, text, (size_t)n) == n;
	close(fd);
	/* whole notes only: a reader never sees half of one */
	if (!ok || renameat(lk->notes, tmp, lk->notes, name) < 0)
		unlinkat(lk->notes, tmp, 0);
}

int __shmkit_look_begin(int shmid, struct __shmkit_look *lk)
{
	struct shmid_ds ds;
	int shm, err = __shmkit_shmctl(shmid, IPC_STAT, &ds);

	if (err < 0)
		return err;
	lk->segsz = ds.shm_segsz;
	lk->key = ds.shm_perm.__key;
	lk->cpid = ds.shm_cpid;
	lk->use.lpid = ds.shm_lpid;
	lk->use.atime = ds.shm_atime;
	lk->use.dtime = ds.shm_dtime;
	lk->use.ctime = ds.shm_ctime;
	lk->from = 0;
	lk->from_ours = 0;
	shm = open_shm();
	if (may_be_look(lk->use.lpid))
		lk->from = resolve_at(shm, shmid, &ds.shm_perm, &lk->use, &lk->from_ours);
	lk->notes = open_own_notes(shm, 1);
	if (shm >= 0)
		close(shm);
	prune(lk->notes);
	write_note(shmid, lk, NULL);
	err = __shmkit_shmat(shmid, SHM_RDONLY, &lk->base);
	if (err < 0 && lk->notes >= 0) {
		close(lk->notes);
		lk->notes = -1;
	}
	return err;
}

void __shmkit_look_end(int shmid, struct __shmkit_look *lk)
{
	char name[NAME_LEN];
	struct shmid_ds ds;

	__shmkit_shmdt(lk->base);
	if (__shmkit_shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_lpid == getpid())
		write_note(shmid, lk, &ds);
	/* our own note now carries what that one did; others' are not ours to drop */
	if (lk->from_ours && lk->from > 0 && lk->from != getpid() && lk->notes >= 0) {
		note_name(name, shmid, lk->from);
		unlinkat(lk->notes, name, 0);
	}
	if (lk->notes >= 0)
		close(lk->notes);
	lk->notes = -1;
}

/* Our notes directory for this namespace, if there is one, listed. */
static DIR *list_own_notes(void)
{
	int shm = open_shm(), notes = open_own_notes(shm, 0);
	DIR *dir = notes >= 0 ? fdopendir(notes) : NULL;

	if (!dir && notes >= 0)
		close(notes);
	if (shm >= 0)
		close(shm);
	return dir;
}

void __shmkit_look_prune(void)
{
	int shm = open_shm(), notes = open_own_notes(shm, 0);

	prune(notes);
	if (notes >= 0)
		close(notes);
	if (shm >= 0)
		close(shm);
}

void __shmkit_look_forget(int shmid)
{
	char prefix[NAME_LEN];
	DIR *dir = list_own_notes();
	struct dirent *d;
	size_t n;

	if (!dir)
		return;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%d-", shmid);
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, n))
			unlinkat(dirfd(dir), d->d_name, 0);
	closedir(dir);
}
