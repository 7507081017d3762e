/*
 * Look notes against another user (src/look.h): an unprivileged user can
 * neither steer root's shmkit into removing or writing files where it
 * chose, nor make gc take a segment still in use for an orphan.
 *
 * The attacker is uid and gid 65534 (setpriv); root runs shmkit. Proves:
 *
 *  a. Paths prepared by the attacker are never followed nor written. Once
 *     as links to a victim directory (files "1-1", "123" and "9x"), once
 *     as directories of the attacker's own holding such files: root's
 *     note directory name /dev/shm/shmkit-looks-0, and the single shared
 *     directory of earlier versions, /dev/shm/shmkit-looks/ipc-NS. After
 *     root's shmkit ls, stat, gc and rm, every victim file is still there
 *     and no directory of the victim's or the attacker's holds anything new.
 *
 *  b. Notes cannot be removed or forged into an orphan. A segment whose
 *     creator has exited and whose last user R still runs (it attached and
 *     detached) is looked at by root's `shmkit stat`, a process that then
 *     exits. The attacker, who made the old shared directory its own
 *     beforehand, removes what it can there and tries to remove root's
 *     note (refused: it is still there), then writes notes saying the last
 *     user was a dead process, in its own directory and in the old one.
 *     gc keeps the segment, and stat and ls call it idle with last pid R.
 *     Once with mode 0600 (the attacker could not have looked, so its note
 *     is not trusted) and once with 0644 (it could: the genuine note, with
 *     its live user, wins).
 *
 *  c. Nor can a note make a real orphan (mode 0600) look used to root's
 *     gc: the attacker, who could not have looked at it, writes notes
 *     saying its last user is pid 1; gc removes it all the same.
 *
 *  d. A "note" of the attacker's that is a fifo neither stalls root's
 *     ls (a reader waiting for a writer would) nor counts as a note.
 *
 *  e. Taking root's directory name first does not blind root's looks:
 *     root keeps its notes in a spare directory of a random name, and a
 *     segment whose last user still runs stays idle after root's look.
 *
 * The attacks take names in /dev/shm, which every user and every test run
 * shares: so the test gives itself a mount namespace with a fresh /dev/shm
 * (root's and sticky, like the real one), where parallel runs cannot meet
 * and nothing of the host's is touched. Where that is not allowed, it
 * runs on the real /dev/shm, and squatting root's name needs it free: a
 * /dev/shm/shmkit-looks-0 left by earlier runs is removed (if empty) or
 * moved aside and put back at exit. Everything the test makes in /dev/shm is removed at exit, passed
 * or failed. Root is needed to become another user.
 */
#define _GNU_SOURCE	/* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define ATTACKER 65534
#define ROOT_DIR "/dev/shm/shmkit-looks-0"
#define ATTACKER_DIR "/dev/shm/shmkit-looks-65534"
#define OLD_TOP "/dev/shm/shmkit-looks"
#define BAIT "1-1 123 9x"	/* names the old pruning removed */

static char ns[64];			/* ipc-INODE of our namespace */
static char old_dir[128];		/* OLD_TOP/ns */
static char aside[128];			/* where an earlier ROOT_DIR waits, or "" */
static char victim[64];			/* a directory of root's in /tmp, or "" */
static int made_old_top;		/* the attacker made OLD_TOP */
static pid_t test_pid;
static struct sigaction harness_on_term;	/* the harness's own cleanup */

/* ------------------------------------------------------------ the paths */

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf that never follows a link, not even path itself */
static void remove_tree(const char *path)
{
	nftw(path, remove_one, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int is_roots_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0;
}

/* At exit, also after a failure: nothing of ours stays in /dev/shm. */
static void cleanup(void)
{
	char path[192];

	if (getpid() != test_pid)
		return;
	snprintf(path, sizeof(path), "%s/%s", ROOT_DIR, ns);
	if (is_roots_dir(ROOT_DIR)) {
		remove_tree(path);
		rmdir(ROOT_DIR);
	} else {
		remove_tree(ROOT_DIR);	/* the attacker's bait */
	}
	if (aside[0] && rename(aside, ROOT_DIR) < 0)
		fprintf(stderr, "could not put %s back from %s: %s\n", ROOT_DIR, aside,
			strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", ATTACKER_DIR, ns);
	remove_tree(path);
	rmdir(ATTACKER_DIR);
	remove_tree(old_dir);
	if (made_old_top)
		rmdir(OLD_TOP);
	if (victim[0])
		remove_tree(victim);
}

/*
 * The runner's timeout: clean up, then let the harness do its part. Not
 * async-signal-safe, but a timed-out test sits waiting for a child.
 */
static void on_term(int sig)
{
	cleanup();
	sigaction(sig, &harness_on_term, NULL);
	raise(sig);
}

/* Root's note directory name must be free for the attacker to take. */
static void free_roots_name(void)
{
	struct stat st;

	if (lstat(ROOT_DIR, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
		t_fail(__FILE__, __LINE__, "%s exists and is not root's directory", ROOT_DIR);
	if (rmdir(ROOT_DIR) == 0)
		return;
	snprintf(aside, sizeof(aside), "%s.look_attack-%d", ROOT_DIR, (int)getpid());
	if (rename(ROOT_DIR, aside) < 0)
		t_fail(__FILE__, __LINE__, "moving %s aside: %s", ROOT_DIR, strerror(errno));
}

/* A /dev/shm of our own, in a mount namespace of our own; 0 if made. */
static int private_shm(void)
{
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("shmkit-look-attack", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=1777") < 0)
		return -1;
	return 0;
}

static void setup(void)
{
	struct stat st;

	if (geteuid() != 0)
		t_skip("not root: cannot become another user");
	if (private_shm() < 0)
		printf("no private /dev/shm (%s): on the real one\n", strerror(errno));
	if (t_sh(NULL, NULL, "command -v setpriv >/dev/null") != 0)
		t_skip("setpriv (util-linux) is needed to run as another user");
	T_EQ(stat("/proc/self/ns/ipc", &st), 0);
	snprintf(ns, sizeof(ns), "ipc-%llu", (unsigned long long)st.st_ino);
	snprintf(old_dir, sizeof(old_dir), "%s/%s", OLD_TOP, ns);
	test_pid = getpid();
	atexit(cleanup);
	sigaction(SIGTERM, NULL, &harness_on_term);
	signal(SIGTERM, on_term);
	free_roots_name();
	made_old_top = lstat(OLD_TOP, &st) < 0;
	/* our namespace is new: whatever carries its name is stale */
	remove_tree(old_dir);
}

/*
 * Runs a shell script as the attacker (umask 022). Returns its exit
 * status; its stdout into *out if out.
 */
static int as_attacker(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int as_attacker(char **out, const char *fmt, ...)
{
	char script[4096], uid[32], gid[32], *o, *e;
	char *argv[] = { "setpriv", uid, gid, "--clear-groups", "sh", "-c", script, NULL };
	va_list ap;
	int rc, n;

	snprintf(uid, sizeof(uid), "--reuid=%d", ATTACKER);
	snprintf(gid, sizeof(gid), "--regid=%d", ATTACKER);
	n = snprintf(script, sizeof(script), "umask 022\n");
	va_start(ap, fmt);
	vsnprintf(script + n, sizeof(script) - (size_t)n, fmt, ap);
	va_end(ap);
	rc = t_run(argv, &o, &e);
	if (*e)
		fprintf(stderr, "(attacker's stderr: %s)\n", e);
	free(e);
	if (out)
		*out = o;
	else
		free(o);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The names in dir (a link to one is followed), sorted, space-separated. */
static void entries(const char *dir, char *buf, size_t cap)
{
	char names[32][sizeof(((struct dirent *)0)->d_name)];
	struct dirent *d;
	DIR *dp = opendir(dir);
	size_t n = 0, i, len = 0;
	int w;

	if (!dp)
		t_fail(__FILE__, __LINE__, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") && n < 32)
			snprintf(names[n++], sizeof(names[0]), "%s", d->d_name);
	closedir(dp);
	qsort(names, n, sizeof(names[0]), by_name);
	buf[0] = '\0';
	/* A listing cut short would compare as a wrong one: say so instead.
	 * (Checking the length also keeps gcc's -Wformat-truncation quiet
	 * where it inlines differently, as for aarch64.) */
	for (i = 0; i < n; i++) {
		w = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", names[i]);
		if (w < 0 || (size_t)w >= cap - len)
			t_fail(__FILE__, __LINE__, "%s: its names pass %zu bytes", dir, cap);
		len += (size_t)w;
	}
}

#define HOLDS_EXACTLY(dir, want) holds_exactly(__FILE__, __LINE__, dir, want)
static void holds_exactly(const char *file, int line, const char *dir, const char *want)
{
	char got[2048];

	entries(dir, got, sizeof(got));
	if (strcmp(got, want) != 0)
		t_fail(file, line, "%s holds '%s', expected exactly '%s'", dir, got, want);
}

/* --------------------------------------------------- a. squatted paths */

static void make_victim(void)
{
	const char *names[] = { "1-1", "123", "9x" };
	char path[128];
	int i, fd;

	snprintf(victim, sizeof(victim), "/tmp/shmkit-victim-XXXXXX");
	if (!mkdtemp(victim))
		t_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", victim, names[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		T_ASSERT(fd >= 0);
		T_EQ(write(fd, "precious\n", 9), 9);
		close(fd);
	}
}

/* Root makes a named segment and runs ls, stat, gc and rm on it. */
static void root_looks_around(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	char name[64], *out, *err;
	struct shmid_ds ds;
	int shmid;

	ref.name = t_name(name, sizeof(name), "bait");
	shmid = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	T_STR_CONTAINS(out, name);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "stat", "-n", name, NULL), 0);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	free(out);
	free(err);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);	/* its creator (we) runs */
	T_EQ(t_cli(&out, &err, "rm", "-n", name, NULL), 0);
	free(out);
	free(err);
}

/* Links to the victim's directory, at root's name and at the old one. */
static void squat_with_links(void)
{
	make_victim();
	T_EQ(as_attacker(NULL, "set -e\n[ -d %s ] || mkdir -m 1777 %s\n"
			 "ln -s %s %s\nln -s %s %s\n",
			 OLD_TOP, OLD_TOP, victim, ROOT_DIR, victim, old_dir), 0);

	root_looks_around();

	HOLDS_EXACTLY(victim, BAIT);
	T_EQ(t_sh(NULL, NULL, "cat %s/1-1 %s/123 %s/9x | grep -c precious | grep -qx 3",
		  victim, victim, victim), 0);
	remove_tree(ROOT_DIR);
	remove_tree(old_dir);
}

/* Directories of the attacker's own, at root's name and at the old one. */
static void squat_with_dirs(void)
{
	char inner[192];

	T_EQ(as_attacker(NULL, "set -e\n[ -d %s ] || mkdir -m 1777 %s\n"
			 "mkdir -m 755 %s %s/%s\nmkdir -m 777 %s\n"
			 "for f in " BAIT "; do echo bait >%s/%s/$f; echo bait >%s/$f; done\n",
			 OLD_TOP, OLD_TOP, ROOT_DIR, ROOT_DIR, ns, old_dir,
			 ROOT_DIR, ns, old_dir), 0);

	root_looks_around();

	snprintf(inner, sizeof(inner), "%s/%s", ROOT_DIR, ns);
	HOLDS_EXACTLY(ROOT_DIR, ns);
	HOLDS_EXACTLY(inner, BAIT);
	HOLDS_EXACTLY(old_dir, BAIT);
	remove_tree(ROOT_DIR);
	remove_tree(old_dir);
}

/* ------------------------------------------ b. removed and forged notes */

struct made {
	struct shmkit_ref ref;
	int mode;
};

static int make_and_exit(void *arg)
{
	struct made *m = arg;

	return shmkit_seg_create(&m->ref, 4096, m->mode, SHMKIT_EXCL) >= 0 ? 0 : 1;
}

/* R: attaches, writes, detaches, and runs on until the pipe closes. */
struct user {
	int shmid;
	int ready[2], done[2];
	pid_t pid;
};

static int use_and_stay(void *arg)
{
	struct user *u = arg;
	struct shmkit_map map;
	char c;

	close(u->ready[0]);
	close(u->done[1]);
	if (shmkit_seg_attach(u->shmid, 0, &map) < 0)
		return 10;
	((volatile char *)map.data)[0] = 'r';
	if (shmkit_seg_detach(&map) < 0 || write(u->ready[1], "r", 1) != 1)
		return 11;
	while (read(u->done[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static int exit_at_once(void *arg)
{
	(void)arg;
	return 0;
}

/* The line of out that starts with word and a space, into line ("" if none). */
static void line_of(const char *out, const char *word, char *line, size_t cap)
{
	size_t n = strlen(word);
	const char *p;

	line[0] = '\0';
	for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, word, n) == 0 && p[n] == ' ') {
			snprintf(line, cap, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
}

/* Named segment name[64] (mode), made by a process that is gone: its shmid. */
static int made_by_the_gone(char *name, const char *tag, int mode)
{
	struct made m = { .ref = { .kind = SHMKIT_REF_NAME }, .mode = mode };
	key_t key;
	int shmid;

	m.ref.name = t_name(name, 64, tag);
	T_EQ(t_wait(t_fork(make_and_exit, &m)), 0);
	T_OK(shmkit_key_resolve(&m.ref, &key));
	shmid = t_track(shmget(key, 0, 0));	/* shmget does not attach */
	T_OK(shmid);
	return shmid;
}

/*
 * The same, then used by R (in *r), who attached, detached and still
 * runs. Returns its shmid.
 */
static int made_and_used(char *name, const char *tag, int mode, struct user *r)
{
	char c;

	r->shmid = made_by_the_gone(name, tag, mode);
	T_EQ(pipe(r->ready), 0);
	T_EQ(pipe(r->done), 0);
	r->pid = t_fork(use_and_stay, r);
	close(r->ready[1]);
	close(r->done[0]);
	T_EQ(read(r->ready[0], &c, 1), 1);
	close(r->ready[0]);
	return r->shmid;
}

static void notes_cannot_make_an_orphan(int mode)
{
	char name[64], id[16], note[256], want[64], line[256], *out, *err, *attack;
	struct shmid_ds ds;
	struct user r;
	pid_t looker, dead;
	int shmid, note_kept;

	shmid = made_and_used(name, mode == 0600 ? "private" : "readable", mode, &r);
	dead = t_fork(exit_at_once, NULL);
	T_EQ(t_wait(dead), 0);

	/* before root looks, the old shared directory is made the attacker's */
	T_EQ(as_attacker(NULL, "set -e\n[ -d %s ] || mkdir -m 1777 %s\nmkdir -m 777 %s\n",
			 OLD_TOP, OLD_TOP, old_dir), 0);

	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	free(out);
	free(err);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	looker = ds.shm_lpid;
	T_ASSERT(looker != r.pid);	/* the look made the looker last pid */

	/* remove root's note, and forge: the last user was a dead process */
	snprintf(note, sizeof(note), "%s/%s/%d-%d", ROOT_DIR, ns, shmid, (int)looker);
	T_EQ(as_attacker(&attack,
			 "rm -f %s 2>&1\n"
			 "rm -rf %s/%s 2>/dev/null; mv %s /dev/shm/stolen-%d 2>/dev/null && echo moved\n"
			 "rm -f %s/*\n"
			 "mkdir -p %s/%s\n"
			 "for d in %s/%s %s; do\n"
			 "	echo 'shmkit-look 2 %lld %d %lld %lld -1 -1' >$d/%d-%d\n"
			 "done\n",
			 note, ROOT_DIR, ns, ROOT_DIR, (int)getpid(), old_dir,
			 ATTACKER_DIR, ns, ATTACKER_DIR, ns, old_dir,
			 (long long)ds.shm_ctime, (int)dead, (long long)ds.shm_atime + 1000,
			 (long long)ds.shm_dtime + 1000, shmid, (int)looker), 0);
	note_kept = access(note, F_OK) == 0;

	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	free(err);
	snprintf(want, sizeof(want), "removed %d", shmid);
	line_of(out, want, line, sizeof(line));
	if (line[0] || shmctl(shmid, IPC_STAT, &ds) < 0)
		t_fail(__FILE__, __LINE__, "gc removed %s (mode %04o) although its last user "
		       "(pid %d) still runs: the attacker's notes were believed", name, mode,
		       (int)r.pid);
	free(out);

	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	T_STR_CONTAINS(out, "\nstate:        idle\n");
	snprintf(want, sizeof(want), "\nlast pid:     %d ", (int)r.pid);
	T_STR_CONTAINS(out, want);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	line_of(out, id, line, sizeof(line));
	T_STR_CONTAINS(line, " idle");
	T_ASSERT(!strstr(line, "orphan"));
	free(out);
	free(err);

	/* root's note was there, refused to the attacker, until root's next look */
	if (!note_kept)
		t_fail(__FILE__, __LINE__, "root's note %s was gone after the attack (%s)",
		       note, attack);
	T_ASSERT(strstr(attack, "Permission denied") || strstr(attack, "not permitted"));
	T_ASSERT(!strstr(attack, "moved"));
	free(attack);

	close(r.done[1]);
	T_EQ(t_wait(r.pid), 0);
	remove_tree(old_dir);
}

/* c. A note by a user who could not have looked (0600) keeps no orphan. */
static void forged_note_cannot_keep_an_orphan(void)
{
	char name[64], id[16], want[64], line[256], *out, *err;
	struct shmid_ds ds;
	int shmid = made_by_the_gone(name, "orphan", 0600);

	T_EQ(as_attacker(NULL, "set -e\n[ -d %s ] || mkdir -m 1777 %s\nmkdir -m 777 %s\n",
			 OLD_TOP, OLD_TOP, old_dir), 0);
	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	T_STR_CONTAINS(out, "\nstate:        orphan\n");
	free(out);
	free(err);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);

	/* "its last user was pid 1", which runs and started before anything */
	T_EQ(as_attacker(NULL, "mkdir -p %s/%s\nrm -f %s/*\n"
			 "for d in %s/%s %s; do\n"
			 "	echo 'shmkit-look 2 %lld 1 %lld %lld -1 -1' >$d/%d-%d\n"
			 "done\n",
			 ATTACKER_DIR, ns, old_dir, ATTACKER_DIR, ns, old_dir,
			 (long long)ds.shm_ctime, (long long)ds.shm_atime,
			 (long long)ds.shm_dtime, shmid, (int)ds.shm_lpid), 0);

	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	free(err);
	snprintf(want, sizeof(want), "removed %d", shmid);
	line_of(out, want, line, sizeof(line));
	if (!line[0] || shmctl(shmid, IPC_STAT, &ds) == 0)
		t_fail(__FILE__, __LINE__, "gc kept the orphan %s: a note by a user who could "
		       "not read it was believed", name);
	free(out);
	remove_tree(old_dir);
}

/* d. A note that is a fifo neither stalls root's ls nor counts. */
static void fifo_note_is_passed_over(void)
{
	char name[64], id[16], line[256], *out, *err;
	struct shmid_ds ds;
	int shmid = made_by_the_gone(name, "fifo", 0644);

	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	free(out);
	free(err);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	T_EQ(as_attacker(NULL, "set -e\nmkdir -p %s/%s\nmkfifo %s/%s/%d-%d\n",
			 ATTACKER_DIR, ns, ATTACKER_DIR, ns, shmid, (int)ds.shm_lpid), 0);

	/* a reader that waited on the fifo would hang here (the runner's timeout) */
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	line_of(out, id, line, sizeof(line));
	T_STR_CONTAINS(line, " orphan");
	free(out);
	free(err);
}

/* e. root's usual name taken: its notes go to a spare directory. */
static void squatted_name_leaves_looks_recorded(void)
{
	char name[64], id[16], want[64], line[256], *out, *err;
	struct user r;
	int shmid;

	remove_tree(ROOT_DIR);	/* root's own, from the cases before */
	T_EQ(as_attacker(NULL, "mkdir -m 755 %s", ROOT_DIR), 0);
	shmid = made_and_used(name, "squatted", 0600, &r);

	/* root looks (and exits), then judges: the look must not count */
	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	if (!strstr(out, "\nstate:        idle\n"))
		t_fail(__FILE__, __LINE__, "with %s taken, root's look was forgotten: %s",
		       ROOT_DIR, out);
	snprintf(want, sizeof(want), "\nlast pid:     %d ", (int)r.pid);
	T_STR_CONTAINS(out, want);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(!strstr(out, name));
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	line_of(out, id, line, sizeof(line));
	T_STR_CONTAINS(line, " idle");
	free(out);
	free(err);
	HOLDS_EXACTLY(ROOT_DIR, "");	/* nothing written into the squatter's */

	close(r.done[1]);
	T_EQ(t_wait(r.pid), 0);
	remove_tree(ROOT_DIR);
	T_EQ(t_sh(NULL, NULL, "for d in /dev/shm/shmkit-looks-0-*; do [ -d \"$d\" ] && "
		  "[ ! -L \"$d\" ] && rm -rf \"$d/%s\" && rmdir \"$d\"; done; true", ns), 0);
}

int main(void)
{
	setup();
	squat_with_links();
	squat_with_dirs();
	notes_cannot_make_an_orphan(0600);
	notes_cannot_make_an_orphan(0644);
	forged_note_cannot_keep_an_orphan();
	fifo_note_is_passed_over();
	squatted_name_leaves_looks_recorded();
	return 0;
}
