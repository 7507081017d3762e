/*
 * shmkit rm and shmkit gc: what is removed, and what is not.
 *
 * rm: by shmid, -k, -n and -p; a segment still attached is refused (exit
 * 1, a hint at --force) and survives; --force marks it for removal and
 * the kernel frees it at the last detach; an unknown shmid is a runtime
 * error; with several targets a bad one does not stop the others.
 *
 * gc: a non-persistent named orphan is listed by --dry-run and left, then
 * removed by gc; a persistent one (mk -n) is kept; a foreign orphan (no
 * header) is kept by gc and removed by gc --foreign; a segment a live
 * process has attached is never removed, not even by gc --foreign.
 *
 * gc acts on the whole system: only our own shmids are looked for in its
 * output. Segments whose orphan state matters are never attached by this
 * process (the library's stat reads a header by attaching, which would
 * make this live process their last user): existence is checked with
 * IPC_STAT only.
 */
#define _GNU_SOURCE	/* pipe2, SHM_DEST, setgroups */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"


/* exactly one line on stderr, "shmkit: <what>: <why>" */
#define ONE_ERROR_LINE(err) one_error_line(__FILE__, __LINE__, err)
static void one_error_line(const char *file, int line, const char *err)
{
	const char *nl = strchr(err, '\n');

	if (strncmp(err, "shmkit: ", 8) != 0 || !nl || nl[1] != '\0')
		t_fail(file, line, "expected one 'shmkit: ' line on stderr, got: '%s'", err);
}

/* Does out have a line that starts with "<verb> <shmid> "? */
static int listed(const char *out, const char *verb, int shmid)
{
	char want[64];
	const char *p;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "%s %d ", verb, shmid);
	for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, want, n) == 0)
			return 1;
	return 0;
}

static int create(const struct shmkit_ref *ref, size_t size, unsigned flags)
{
	int shmid = t_track(shmkit_seg_create(ref, size, SHMKIT_MODE_DEFAULT,
					      flags | SHMKIT_EXCL));
	T_OK(shmid);
	return shmid;
}

static int create_key(key_t key)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = key };

	return create(&ref, 4096, 0);
}

/* A child that keeps a segment attached until released. */

/* In a child that then exits: the segment is left behind, an orphan. */
struct orphan_arg {
	struct shmkit_ref ref;
	unsigned flags;
};

static int make_in_child(void *arg)
{
	struct orphan_arg *a = arg;

	return shmkit_seg_create(&a->ref, 4096, SHMKIT_MODE_DEFAULT,
				 a->flags | SHMKIT_EXCL) >= 0 ? 0 : 1;
}

static int orphan(struct orphan_arg *a)
{
	key_t key;
	int shmid;

	T_EQ(t_wait(t_fork(make_in_child, a)), 0);
	T_OK(shmkit_key_resolve(&a->ref, &key));
	shmid = t_track(shmget(key, 0, 0));	/* shmget does not attach */
	T_OK(shmid);
	return shmid;
}

static int orphan_named(char *name, size_t cap, const char *tag)
{
	struct orphan_arg a = { .ref = { .kind = SHMKIT_REF_NAME } };

	a.ref.name = t_name(name, cap, tag);
	return orphan(&a);
}

static int orphan_raw(void)
{
	struct orphan_arg a = { .ref = { .kind = SHMKIT_REF_KEY } };

	a.ref.key = t_key();
	return orphan(&a);
}

/* `shmkit stat` says this state (the command runs apart, so we do not count) */
static void state_is(int shmid, const char *state)
{
	char id[16], want[64], *out, *err;

	snprintf(id, sizeof(id), "%d", shmid);
	snprintf(want, sizeof(want), "\nstate:        %s\n", state);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	T_STR_CONTAINS(out, want);
	free(out);
	free(err);
}

static void rm_by_shmid(void)
{
	char id[16], *out, *err;
	int shmid = create_key(t_key());

	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(t_cli(&out, &err, "rm", id, NULL), 0);
	T_EQ(out[0], '\0');
	T_EQ(err[0], '\0');
	T_ASSERT(!t_shmid_exists(shmid));
	free(out);
	free(err);
}

static void rm_by_ref(void)
{
	struct shmkit_ref name = { .kind = SHMKIT_REF_NAME };
	struct shmkit_ref path = { .kind = SHMKIT_REF_PATH, .proj = 3 };
	char ks[16], nm[64], pp[128], *out, *err;
	key_t key = t_key();
	int by_key, by_name, by_path, by_path1;

	by_key = create_key(key);
	t_key_text(ks, sizeof(ks), key);
	T_EQ(t_cli(&out, &err, "rm", "-k", ks, NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(!t_shmid_exists(by_key));
	T_EQ(shmget(key, 0, 0), -1);
	free(out);
	free(err);

	name.name = t_name(nm, sizeof(nm), "rm");
	by_name = create(&name, 100, 0);
	T_EQ(t_cli(&out, &err, "rm", "-n", nm, NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(!t_shmid_exists(by_name));
	free(out);
	free(err);

	path.path = t_tmpfile("cli-rm");
	by_path = create(&path, 100, 0);
	snprintf(pp, sizeof(pp), "%s:3", path.path);
	path.proj = 1;
	by_path1 = create(&path, 100, 0);
	T_EQ(t_cli(&out, &err, "rm", "-p", pp, NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(!t_shmid_exists(by_path));
	T_ASSERT(t_shmid_exists(by_path1));	/* project 1 is another key: left alone */
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "rm", "--path", path.path, NULL), 0);
	T_ASSERT(!t_shmid_exists(by_path1));
	free(out);
	free(err);
}

static void rm_attached(void)
{
	struct shmid_ds ds;
	struct shmkit_seg_info info;
	struct t_holder h;
	char id[16], *out, *err;
	key_t key = t_key();
	int shmid = create_key(key);

	snprintf(id, sizeof(id), "%d", shmid);
	t_hold_start(&h, shmid);

	/* refused: the child depends on it */
	T_EQ(t_cli(&out, &err, "rm", id, NULL), 1);
	ONE_ERROR_LINE(err);
	T_STR_CONTAINS(err, "--force");
	T_STR_CONTAINS(err, "attached");
	T_EQ(out[0], '\0');
	free(out);
	free(err);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	T_EQ(ds.shm_perm.mode & SHM_DEST, 0);
	T_EQ(shmget(key, 0, 0), shmid);

	/* forced: marked for removal, key gone, memory there until the detach */
	T_EQ(t_cli(&out, &err, "rm", "--force", id, NULL), 0);
	T_EQ(err[0], '\0');
	T_STR_CONTAINS(out, "marked for removal");
	T_STR_CONTAINS(out, "last detach");
	free(out);
	free(err);
	T_OK(shmkit_seg_stat(shmid, &info));
	T_ASSERT(info.flags & SHMKIT_INFO_REMOVING);
	T_EQ(info.state, SHMKIT_STATE_REMOVING);
	T_EQ(info.nattch, 1);
	T_EQ(shmget(key, 0, 0), -1);
	state_is(shmid, "removing");

	t_hold_stop(&h);
	T_ASSERT(!t_shmid_exists(shmid));
}

static void rm_unknown(void)
{
	char id[16], *out, *err;
	int gone = create_key(t_key());

	/* a shmid that existed a moment ago: surely not there now */
	T_OK(shmkit_seg_remove(gone));
	snprintf(id, sizeof(id), "%d", gone);
	T_EQ(t_cli(&out, &err, "rm", id, NULL), 1);
	ONE_ERROR_LINE(err);
	T_STR_CONTAINS(err, id);
	T_STR_CONTAINS(err, "no segment");
	T_EQ(out[0], '\0');
	free(out);
	free(err);

	/* -k of a key nobody has */
	{
		char ks[16];

		t_key_text(ks, sizeof(ks), t_key());
		T_EQ(t_cli(&out, &err, "rm", "-k", ks, NULL), 1);
		ONE_ERROR_LINE(err);
		T_STR_CONTAINS(err, "no such segment");
		free(out);
		free(err);
	}
}

/* rm A BAD -k KEYB: A and B removed, one error line, exit 1 */
static void rm_several(void)
{
	char a[16], bad[16], kb[16], *out, *err;
	key_t key_b = t_key();
	int id_a = create_key(t_key()), id_b = create_key(key_b);
	int id_bad = create_key(t_key());

	T_OK(shmkit_seg_remove(id_bad));
	snprintf(a, sizeof(a), "%d", id_a);
	snprintf(bad, sizeof(bad), "%d", id_bad);
	t_key_text(kb, sizeof(kb), key_b);
	T_EQ(t_cli(&out, &err, "rm", bad, a, "-k", kb, NULL), 1);
	ONE_ERROR_LINE(err);
	T_STR_CONTAINS(err, bad);
	T_ASSERT(!t_shmid_exists(id_a));
	T_ASSERT(!t_shmid_exists(id_b));
	free(out);
	free(err);
}

/*
 * rm -p A -p B: each target keeps its own path. A regression test: every
 * -p argument once shared one buffer, so the last path was used for all,
 * and A's segment stayed while B's went under A's label.
 */
static void rm_two_paths(void)
{
	struct shmkit_ref a = { .kind = SHMKIT_REF_PATH, .proj = 1 };
	struct shmkit_ref b = { .kind = SHMKIT_REF_PATH, .proj = 1 };
	struct t_holder h;
	char *out, *err;
	int id_a, id_b;

	a.path = t_tmpfile("cli-rm-a");
	b.path = t_tmpfile("cli-rm-b");
	id_a = create(&a, 100, 0);
	id_b = create(&b, 100, 0);
	T_EQ(t_cli(&out, &err, "rm", "-p", a.path, "-p", b.path, NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(!t_shmid_exists(id_a));
	T_ASSERT(!t_shmid_exists(id_b));
	free(out);
	free(err);

	/* A is refused (attached) and named in the message; B still goes */
	id_a = create(&a, 100, 0);
	id_b = create(&b, 100, 0);
	t_hold_start(&h, id_a);
	T_EQ(t_cli(&out, &err, "rm", "-p", a.path, "-p", b.path, NULL), 1);
	ONE_ERROR_LINE(err);
	T_STR_CONTAINS(err, a.path);
	T_STR_CONTAINS(err, "attached");
	T_ASSERT(t_shmid_exists(id_a));
	T_ASSERT(!t_shmid_exists(id_b));
	free(out);
	free(err);
	t_hold_stop(&h);
}

static void gc_named_orphan(void)
{
	char name[64], *out, *err;
	int shmid = orphan_named(name, sizeof(name), "gc");

	state_is(shmid, "orphan");

	T_EQ(t_cli(&out, &err, "gc", "--dry-run", NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(listed(out, "would remove", shmid));
	T_STR_CONTAINS(out, name);
	T_ASSERT(!listed(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));

	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(listed(out, "removed", shmid));
	T_STR_CONTAINS(out, name);
	free(out);
	free(err);
	T_ASSERT(!t_shmid_exists(shmid));
}

static void gc_keeps_persistent(void)
{
	char name[64], *out, *err;
	int shmid;

	t_name(name, sizeof(name), "keep");
	T_EQ(t_cli(&out, &err, "mk", "-s", "4096", "-n", name, NULL), 0);
	T_ASSERT(strspn(out, "0123456789") > 0);
	shmid = t_track(atoi(out));
	free(out);
	free(err);
	/* its creator (shmkit mk) is gone: an orphan, yet persistent */
	state_is(shmid, "orphan");

	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(!listed(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));
	T_EQ(t_cli(&out, &err, "gc", "--foreign", NULL), 0);
	T_ASSERT(!listed(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));
}

static void gc_foreign(void)
{
	char *out, *err;
	int shmid = orphan_raw();

	state_is(shmid, "orphan");
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(!listed(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));

	T_EQ(t_cli(&out, &err, "gc", "--foreign", "--dry-run", NULL), 0);
	T_ASSERT(listed(out, "would remove", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));

	T_EQ(t_cli(&out, &err, "gc", "--foreign", NULL), 0);
	T_ASSERT(listed(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(!t_shmid_exists(shmid));
}

/* Creator gone, but a live child has it attached: never garbage. */
static void gc_spares_attached(void)
{
	char name[64], *out, *err;
	int raw = orphan_raw(), named = orphan_named(name, sizeof(name), "att");
	struct t_holder hr, hn;

	t_hold_start(&hr, raw);
	t_hold_start(&hn, named);
	state_is(raw, "in-use");
	T_EQ(t_cli(&out, &err, "gc", "--foreign", NULL), 0);
	T_ASSERT(!listed(out, "removed", raw));
	T_ASSERT(!listed(out, "removed", named));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(raw));
	T_ASSERT(t_shmid_exists(named));

	/* once the children are gone they are orphans, and gc takes them */
	t_hold_stop(&hr);
	t_hold_stop(&hn);
	state_is(raw, "orphan");
	T_EQ(t_cli(&out, &err, "gc", "--foreign", NULL), 0);
	T_ASSERT(listed(out, "removed", raw));
	T_ASSERT(listed(out, "removed", named));
	free(out);
	free(err);
	T_ASSERT(!t_shmid_exists(raw));
	T_ASSERT(!t_shmid_exists(named));
}

#define NOBODY 65534

/* A named orphan of the caller's with this mode, made in a child that exits. */
struct mode_orphan {
	const char *name;
	int mode;
};

static int make_mode_orphan(void *arg)
{
	struct mode_orphan *o = arg;
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = o->name };

	return shmkit_seg_create(&ref, 4096, o->mode, SHMKIT_EXCL) >= 0 ? 0 : 1;
}

/* As nobody: leaves an orphan of its own, then runs gc beside root's. */
static int gc_as_nobody(void *arg)
{
	struct mode_orphan *own = arg;
	char *out, *err;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 20;
	if (getuid() != NOBODY || geteuid() != NOBODY)
		return 21;
	if (t_wait(t_fork(make_mode_orphan, own)) != 0)
		return 22;
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	ONE_ERROR_LINE(err);
	T_STR_CONTAINS(err, "shmkit: gc: skipped 1 orphan of another user");
	T_STR_CONTAINS(err, "or root");
	T_STR_CONTAINS(out, own->name);
	free(out);
	free(err);
	return 0;
}

/*
 * gc by a user who is not root: another user's orphan is skipped, said
 * once on stderr, and the exit is 0; the user's own orphan is removed.
 * A regression test: gc tried to remove the other user's orphan, got
 * EPERM and exited 1. Root's orphan is readable by all (0644), so that
 * gc can see it is an orphan of shmkit's at all.
 */
static void gc_other_users(void)
{
	char root_name[64], own_name[64];
	struct mode_orphan root = { root_name, 0644 }, own = { own_name, 0600 };
	key_t root_key, own_key;

	if (geteuid() != 0)
		t_skip("not root: cannot become another user for the gc case");
	t_name(root_name, sizeof(root_name), "gc-root");
	t_name(own_name, sizeof(own_name), "gc-own");
	root_key = shmkit_name_key(root_name);
	own_key = shmkit_name_key(own_name);
	T_EQ(t_wait(t_fork(make_mode_orphan, &root)), 0);
	T_OK(shmget(root_key, 0, 0));

	T_EQ(t_wait(t_fork(gc_as_nobody, &own)), 0);
	T_OK(shmget(root_key, 0, 0));	/* root's is still there */
	T_EQ(shmget(own_key, 0, 0), -1);	/* nobody's own went */
}

/*
 * Creator gone, nobody attached, but this live process used it last: not
 * an orphan, so gc must keep it, also after someone ran `shmkit ls`.
 *
 * A regression test: shmkit_seg_stat and shmkit_seg_list attach
 * read-only to read a header, and the kernel then records the looker as
 * the segment's last pid. Before looks left notes (src/look.h), the real
 * last user was forgotten once the looker exited, and gc removed the
 * segment although its user still ran.
 */
static void gc_spares_live_last_user(void)
{
	struct shmkit_map map;
	char name[64], *out, *err;
	int shmid = orphan_named(name, sizeof(name), "user");

	T_OK(shmkit_seg_attach(shmid, 0, &map));
	((volatile char *)map.data)[0] = 'x';
	T_OK(shmkit_seg_detach(&map));

	/* nobody looked: gc keeps it, as it should */
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	T_ASSERT(!listed(out, "removed", shmid));
	free(out);
	free(err);
	T_ASSERT(t_shmid_exists(shmid));

	/* someone lists the segments, then gc runs */
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	free(err);
	if (listed(out, "removed", shmid) || !t_shmid_exists(shmid))
		t_fail(__FILE__, __LINE__,
		       "gc removed segment %d although its last user (pid %d) still runs: "
		       "a look by `shmkit ls` hid the real last user (see src/look.h)",
		       shmid, (int)getpid());
	free(out);
}

int main(void)
{
	rm_by_shmid();
	rm_by_ref();
	rm_attached();
	rm_unknown();
	rm_several();
	rm_two_paths();
	gc_named_orphan();
	gc_keeps_persistent();
	gc_foreign();
	gc_spares_attached();
	gc_spares_live_last_user();
	gc_other_users();	/* last: skips when not root */
	return 0;
}
