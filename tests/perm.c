/*
 * Permissions (as root; skipped otherwise): segments and channels are
 * exactly as open as their creator asked, never wider, and every refusal
 * is a clear -EACCES from the library and one line, exit 1, from the
 * command.
 *
 *  - default mode (0600): another user (nobody, no groups) can neither
 *    attach a segment nor open, create-or-open or inspect a channel;
 *    `shmkit stat` and `shmkit recv` / `send` say "Permission denied".
 *  - group mode 0660 with the segment's group set to a shared gid (by
 *    IPC_SET, or by creating with that egid): members, by supplementary or
 *    primary group, send and receive through a channel, from two
 *    processes and through the command; a non-member is refused.
 *  - read only: a SHMKIT_RDONLY mapping faults on a write (SIGSEGV); a
 *    user with read permission only (0644, 0640 as a member, 0604) may
 *    look but not take either side of a channel (-EACCES), and the
 *    channel is left untouched; group bits rule a member even when the
 *    bits for others would allow more.
 *  - modes: what the creator asked, exactly, for channels, named and raw
 *    segments, `shmkit mk -m` and `shmkit send/recv -m`, under umask 0,
 *    022 and 077 (System V ignores the umask); an existing channel or
 *    segment is opened, never widened, by a create with a wider mode.
 *
 * Users are dropped to in forked children: setgroups, setgid, setuid.
 * The gids need not exist in /etc/group.
 */
#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534		/* uid and gid */
#define SHARED 65533		/* the shared group: no /etc/group entry needed */

enum who {
	OTHER,		/* uid/gid nobody, no supplementary groups */
	MEMBER,		/* uid/gid nobody, supplementary group SHARED */
	MEMBER_PRIMARY,	/* uid nobody, gid SHARED, no supplementary groups */
};

struct as_user {
	enum who who;
	int (*fn)(void *);
	void *arg;
};

static int become(void *arg)
{
	struct as_user *u = arg;
	gid_t shared = SHARED;
	gid_t gid = u->who == MEMBER_PRIMARY ? SHARED : NOBODY;

	if (setgroups(u->who == MEMBER ? 1 : 0, &shared) < 0 || setgid(gid) < 0 ||
	    setuid(NOBODY) < 0)
		return 20;
	if (getuid() != NOBODY || geteuid() != NOBODY || getegid() != gid)
		return 21;
	return u->fn(u->arg);
}

/* Forks, becomes who, runs fn(arg); returns fn's result (or 128+signal). */
static int as(enum who who, int (*fn)(void *), void *arg)
{
	struct as_user u = { who, fn, arg };

	return t_wait(t_fork(become, &u));
}

/* Starts it without waiting: for two sides at once. */
static pid_t as_start(enum who who, int (*fn)(void *), void *arg)
{
	static struct as_user u[8];
	static int n;
	struct as_user *p = &u[n++ % 8];

	p->who = who;
	p->fn = fn;
	p->arg = arg;
	return t_fork(become, p);
}

/*
 * What attaching a segment the caller may not even read gives: -EACCES
 * from the kernel; under valgrind -EINVAL, as its shmat wrapper first asks
 * IPC_STAT for the size and is refused (see cli_badinput.c).
 */
static int no_read(void)
{
	const char *vg = getenv("VALGRIND");

	return vg && !strcmp(vg, "1") ? -EINVAL : -EACCES;
}

static unsigned mode_of(int shmid)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) < 0)
		t_fail(__FILE__, __LINE__, "IPC_STAT %d: %s", shmid, strerror(errno));
	return ds.shm_perm.mode & 0777;
}

static void set_group(int shmid, gid_t gid)
{
	struct shmid_ds ds;

	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	ds.shm_perm.gid = gid;
	T_EQ(shmctl(shmid, IPC_SET, &ds), 0);
}

/* exit 1, nothing on stdout, one "shmkit: CMD: " line containing needle */
#define REFUSAL(rc, out, err, cmd, needle) \
	refusal(__FILE__, __LINE__, rc, out, err, cmd, needle)
static void refusal(const char *file, int line, int rc, char *out, char *err,
		    const char *cmd, const char *needle)
{
	char prefix[32];
	char *nl = strchr(err, '\n');

	snprintf(prefix, sizeof(prefix), "shmkit: %s: ", cmd);
	if (rc != 1)
		t_fail(file, line, "shmkit %s: exit %d, expected 1 (stderr: %s)", cmd, rc, err);
	if (out[0])
		t_fail(file, line, "shmkit %s: printed on stdout: %s", cmd, out);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !nl || nl[1])
		t_fail(file, line, "shmkit %s: want one '%s' line on stderr, got: '%s'", cmd,
		       prefix, err);
	if (!strstr(err, needle))
		t_fail(file, line, "shmkit %s: '%s' not in: %s", cmd, needle, err);
	free(out);
	free(err);
}

/* ------------------------------------------------------- default mode */

struct targets {
	key_t key;
	int raw, named, chan;
	const char *name, *chan_name;
};

static int others_try(void *arg)
{
	const struct targets *t = arg;
	struct shmkit_ref kr = t_key_ref(t->key), nr = t_name_ref(t->name);
	struct shmkit_seg_info info;
	struct shmkit_chan_info ci;
	struct shmkit_chan *ch = NULL;
	struct shmkit_map map;
	char id[16], ks[16], *out, *err;
	int rc;

	/*
	 * A raw key opens (System V: shmget(key, 0, 0) asks for no access
	 * and a shmid is public anyway, ipcs shows it); using it does not.
	 */
	T_EQ(shmkit_seg_open(&kr), t->raw);
	T_EQ(shmkit_seg_attach(t->raw, 0, &map), no_read());
	T_EQ(shmkit_seg_attach(t->raw, SHMKIT_RDONLY, &map), no_read());
	T_EQ(shmkit_seg_stat(t->raw, &info), -EACCES);
	T_EQ(shmkit_seg_create(&kr, 4096, SHMKIT_MODE_DEFAULT, 0), -EACCES);

	/* a name is verified by reading its header: refused at once */
	T_EQ(shmkit_seg_open(&nr), -EACCES);
	T_EQ(shmkit_seg_create(&nr, 4096, SHMKIT_MODE_DEFAULT, 0), -EACCES);
	T_EQ(shmkit_seg_attach(t->named, 0, &map), no_read());
	T_EQ(shmkit_seg_attach(t->named, SHMKIT_RDONLY, &map), no_read());
	T_EQ(shmkit_seg_stat(t->named, &info), -EACCES);

	T_EQ(shmkit_chan_open(t->chan_name, SHMKIT_PRODUCER, &ch), -EACCES);
	T_EQ(shmkit_chan_open(t->chan_name, SHMKIT_CONSUMER, &ch), -EACCES);
	T_ASSERT(ch == NULL);
	T_EQ(shmkit_chan_create(t->chan_name, 4096, SHMKIT_MODE_DEFAULT, 0), -EACCES);
	T_EQ(shmkit_chan_info(t->chan, &ci), -EACCES);
	T_EQ(shmkit_chan_destroy(t->chan_name), -EACCES);
	T_EQ(shmkit_seg_remove(t->chan), -EPERM);

	/* the command: one line, exit 1 */
	snprintf(id, sizeof(id), "%d", t->raw);
	rc = t_cli(&out, &err, "stat", id, NULL);
	REFUSAL(rc, out, err, "stat", "Permission denied");
	snprintf(ks, sizeof(ks), "0x%08x", (unsigned)t->key);
	rc = t_cli(&out, &err, "stat", "-k", ks, NULL);
	REFUSAL(rc, out, err, "stat", "Permission denied");
	rc = t_cli(&out, &err, "stat", "-n", t->name, NULL);
	REFUSAL(rc, out, err, "stat", "Permission denied");
	rc = t_cli(&out, &err, "stat", "--json", "-n", t->chan_name, NULL);
	REFUSAL(rc, out, err, "stat", "Permission denied");
	rc = t_cli(&out, &err, "recv", "--timeout", "5", t->chan_name, NULL);
	REFUSAL(rc, out, err, "recv", "Permission denied");
	rc = t_cli(&out, &err, "send", "--timeout", "5", t->chan_name, NULL);
	REFUSAL(rc, out, err, "send", "Permission denied");
	return 0;
}

static void default_mode_refuses_others(void)
{
	char name[64], chan_name[64];
	struct shmkit_ref kr, nr;
	struct shmkit_chan_info ci;
	struct shmkit_seg_info info;
	struct targets t;

	t.key = t_key();
	kr = t_key_ref(t.key);
	t.name = t_name(name, sizeof(name), "dflt");
	t.chan_name = t_name(chan_name, sizeof(chan_name), "dfltchan");
	nr = t_name_ref(t.name);
	T_OK(t.raw = t_track(shmkit_seg_create(&kr, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(t.named = t_track(shmkit_seg_create(&nr, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(t.chan = t_track(shmkit_chan_create(t.chan_name, 4096, SHMKIT_MODE_DEFAULT,
						 SHMKIT_EXCL)));
	T_EQ(mode_of(t.raw), 0600);
	T_EQ(mode_of(t.named), 0600);
	T_EQ(mode_of(t.chan), 0600);

	T_EQ(as(OTHER, others_try, &t), 0);

	/* nothing was claimed, removed or changed */
	T_OK(shmkit_chan_info(t.chan, &ci));
	T_EQ(ci.prod_pid, 0);
	T_EQ(ci.cons_pid, 0);
	T_EQ(ci.prod_closed, 0);
	T_EQ(ci.cons_closed, 0);
	T_OK(shmkit_seg_stat(t.chan, &info));
	T_ASSERT(!(info.flags & SHMKIT_INFO_REMOVING));
	T_EQ(info.mode, 0600);
	T_EQ(shmkit_seg_open(&nr), t.named);
}

/* ------------------------------------------------------------- groups */

#define GROUP_MSGS 2000

static size_t msg_len(uint64_t i)
{
	return (size_t)(t_mix(i) % 300);
}

static int group_producer(void *arg)
{
	const char *name = arg;
	struct shmkit_chan *ch;
	unsigned char buf[300];
	uint64_t i;

	/* root made the channel: a member shares it on purpose */
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER | SHMKIT_SHARED, &ch));
	for (i = 0; i < GROUP_MSGS; i++) {
		size_t len = msg_len(i);
		payload_fill(buf, len, i);
		T_OK(shmkit_chan_send(ch, buf, len, 20000));
	}
	T_OK(shmkit_chan_close(ch));
	return 0;
}

static int group_consumer(void *arg)
{
	const char *name = arg;
	struct shmkit_chan *ch;
	unsigned char buf[300];
	size_t len;
	uint64_t i;
	int r;

	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER | SHMKIT_SHARED, &ch));
	for (i = 0;; i++) {
		r = shmkit_chan_recv(ch, buf, sizeof(buf), &len, 20000);
		if (r == -SHMKIT_EEOF)
			break;
		T_OK(r);
		T_ASSERT(i < GROUP_MSGS);
		T_EQ(len, msg_len(i));
		T_PAYLOAD(buf, len, i);
	}
	T_EQ(i, GROUP_MSGS);
	T_OK(shmkit_chan_close(ch));
	return 0;
}

static int non_member_try(void *arg)
{
	const struct targets *t = arg;
	struct shmkit_chan *ch;
	struct shmkit_map map;
	struct shmkit_chan_info ci;

	T_EQ(shmkit_chan_open(t->chan_name, SHMKIT_PRODUCER, &ch), -EACCES);
	T_EQ(shmkit_chan_open(t->chan_name, SHMKIT_CONSUMER, &ch), -EACCES);
	T_EQ(shmkit_chan_create(t->chan_name, 4096, SHMKIT_MODE_DEFAULT, 0), -EACCES);
	T_EQ(shmkit_chan_info(t->chan, &ci), -EACCES);
	T_EQ(shmkit_seg_attach(t->chan, 0, &map), no_read());
	T_EQ(shmkit_seg_attach(t->raw, 0, &map), no_read());
	T_EQ(shmkit_seg_attach(t->raw, SHMKIT_RDONLY, &map), no_read());
	return 0;
}

static int member_primary_try(void *arg)
{
	const struct targets *t = arg;
	struct shmkit_chan *ch;
	struct shmkit_map map;

	/* the primary group counts as much as a supplementary one */
	T_OK(shmkit_chan_open(t->chan_name, SHMKIT_CONSUMER | SHMKIT_SHARED, &ch));
	T_OK(shmkit_chan_close(ch));
	T_OK(shmkit_seg_attach(t->raw, 0, &map));
	T_EQ(*(volatile uint32_t *)map.data, 0x600dda7a);
	T_OK(shmkit_seg_detach(&map));
	return 0;
}

/* A member writes into the raw segment the creator made with egid SHARED. */
static int member_write(void *arg)
{
	const struct targets *t = arg;
	struct shmkit_map map;

	T_OK(shmkit_seg_attach(t->raw, 0, &map));
	T_EQ(map.size, 4096);
	*(volatile uint32_t *)map.data = 0x600dda7a;
	T_OK(shmkit_seg_detach(&map));
	return 0;
}

/* The command, as a member: send, then recv, through a 0660 channel. */
static int member_cli(void *arg)
{
	const char *name = arg;
	char *out, *err;

	T_EQ(t_sh(NULL, &err, "printf 'through the group\\n' | \"$SHMKIT\" send --timeout 20 "
		  "--shared %s", name), 0);
	T_EQ(err[0], '\0');
	free(err);
	T_EQ(t_cli(&out, &err, "recv", "--timeout", "20", "--shared", name, NULL), 0);
	T_ASSERT(strcmp(out, "through the group\n") == 0);
	/* it may not remove the channel, and says so */
	T_STR_CONTAINS(err, "channel left in place: Operation not permitted");
	free(out);
	free(err);
	return 0;
}

static void group_mode(void)
{
	char chan_name[64], cli_name[64];
	struct shmkit_ref kr;
	struct shmkit_seg_info info;
	struct shmkit_chan_info ci;
	struct shmkit_map map;
	struct targets t = { 0 };
	pid_t prod, cons;

	/* a channel made 0660 by root, then given the shared group */
	t.chan_name = t_name(chan_name, sizeof(chan_name), "grp");
	T_OK(t.chan = t_track(shmkit_chan_create(t.chan_name, 8192, 0660, SHMKIT_EXCL)));
	set_group(t.chan, SHARED);
	T_OK(shmkit_seg_stat(t.chan, &info));
	T_EQ(info.mode, 0660);
	T_EQ(info.gid, SHARED);
	T_EQ(info.uid, 0);

	/* a raw segment made with egid SHARED: its group from the start */
	t.key = t_key();
	kr = t_key_ref(t.key);
	T_EQ(setegid(SHARED), 0);
	t.raw = t_track(shmkit_seg_create(&kr, 4096, 0660, SHMKIT_EXCL));
	T_EQ(setegid(0), 0);
	T_OK(t.raw);
	T_OK(shmkit_seg_stat(t.raw, &info));
	T_EQ(info.mode, 0660);
	T_EQ(info.gid, SHARED);
	T_EQ(info.cgid, SHARED);

	/* members: one producer and one consumer, each its own process */
	cons = as_start(MEMBER, group_consumer, (void *)t.chan_name);
	prod = as_start(MEMBER, group_producer, (void *)t.chan_name);
	T_EQ(t_wait(prod), 0);
	T_EQ(t_wait(cons), 0);
	T_OK(shmkit_chan_info(t.chan, &ci));
	T_EQ(ci.sent_msgs, GROUP_MSGS);
	T_EQ(ci.recv_msgs, GROUP_MSGS);

	T_EQ(as(MEMBER, member_write, &t), 0);
	T_EQ(as(MEMBER_PRIMARY, member_primary_try, &t), 0);
	T_EQ(as(OTHER, non_member_try, &t), 0);
	T_OK(shmkit_seg_attach(t.raw, SHMKIT_RDONLY, &map));
	T_EQ(*(volatile uint32_t *)map.data, 0x600dda7a);
	T_OK(shmkit_seg_detach(&map));

	/*
	 * The command, as a member. The member, not the owner, may not remove
	 * the channel: recv, the last one out, leaves it and says so.
	 */
	t_name(cli_name, sizeof(cli_name), "grpcli");
	T_OK(t.chan = t_track(shmkit_chan_create(cli_name, 4096, 0660, SHMKIT_EXCL)));
	set_group(t.chan, SHARED);
	T_EQ(as(MEMBER, member_cli, cli_name), 0);
	T_OK(shmkit_seg_stat(t.chan, &info));
	T_ASSERT(!(info.flags & SHMKIT_INFO_REMOVING));
}

/* ---------------------------------------------------------- read only */

static int write_through_rdonly(void *arg)
{
	int shmid = *(int *)arg;
	struct shmkit_map map;

	T_OK(shmkit_seg_attach(shmid, SHMKIT_RDONLY, &map));
	T_ASSERT(strcmp(map.data, "written by the creator") == 0);
	/* the default action, not a sanitizer's report: the status says SIGSEGV */
	signal(SIGSEGV, SIG_DFL);
	((volatile char *)map.data)[0] = 'X';
	return 0;	/* not reached */
}

struct ro_case {
	const char *name;
	int shmid, raw;
};

static int read_only_try(void *arg)
{
	const struct ro_case *c = arg;
	struct shmkit_chan *ch = NULL;
	struct shmkit_chan_info ci;
	struct shmkit_map map;
	char *out, *err;
	int rc;

	/* reading is allowed: a look, a read-only attach */
	T_OK(shmkit_chan_info(c->shmid, &ci));
	T_EQ(ci.prod_pid, 0);
	T_OK(shmkit_seg_attach(c->shmid, SHMKIT_RDONLY, &map));
	T_OK(shmkit_seg_detach(&map));
	T_EQ(shmkit_seg_attach(c->shmid, 0, &map), -EACCES);
	/* root's channel is not ours: refused, unless shared on purpose */
	T_EQ(shmkit_chan_create(c->name, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_chan_create(c->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_SHARED), c->shmid);
	T_EQ(shmkit_chan_open(c->name, SHMKIT_PRODUCER, &ch), -SHMKIT_EUNTRUSTED);
	/* and then neither side: both write into the segment */
	T_EQ(shmkit_chan_open(c->name, SHMKIT_PRODUCER | SHMKIT_SHARED, &ch), -EACCES);
	T_EQ(shmkit_chan_open(c->name, SHMKIT_CONSUMER | SHMKIT_SHARED, &ch), -EACCES);
	T_ASSERT(ch == NULL);
	rc = t_cli(&out, &err, "send", "--timeout", "5", c->name, NULL);
	REFUSAL(rc, out, err, "send", "owned by uid 0 (root)");
	rc = t_cli(&out, &err, "send", "--timeout", "5", "--shared", c->name, NULL);
	REFUSAL(rc, out, err, "send", "Permission denied");
	rc = t_cli(&out, &err, "recv", "--timeout", "5", "--shared", c->name, NULL);
	REFUSAL(rc, out, err, "recv", "Permission denied");
	T_EQ(t_cli(&out, &err, "stat", "-n", c->name, NULL), 0);
	T_STR_CONTAINS(out, c->name);
	free(out);
	free(err);

	/* and a raw segment readable by this user: a write through it faults */
	if (c->raw >= 0) {
		int shmid = c->raw;
		T_EQ(t_wait(t_fork(write_through_rdonly, &shmid)), 128 + SIGSEGV);
	}
	return 0;
}

/* Allowed nothing: the group bits rule a member, though others may read. */
static int member_of_0604(void *arg)
{
	const struct ro_case *c = arg;
	struct shmkit_chan *ch;
	struct shmkit_chan_info ci;
	struct shmkit_map map;

	T_EQ(shmkit_chan_info(c->shmid, &ci), -EACCES);
	T_EQ(shmkit_seg_attach(c->shmid, SHMKIT_RDONLY, &map), no_read());
	T_EQ(shmkit_chan_open(c->name, SHMKIT_PRODUCER, &ch), -EACCES);
	return 0;
}

static void untouched(int shmid, unsigned mode)
{
	struct shmkit_chan_info ci;

	T_OK(shmkit_chan_info(shmid, &ci));
	T_EQ(ci.prod_pid, 0);
	T_EQ(ci.cons_pid, 0);
	T_EQ(ci.prod_closed, 0);
	T_EQ(ci.cons_closed, 0);
	T_EQ(ci.sent_msgs, 0);
	T_EQ(mode_of(shmid), mode);
}

static void read_only(void)
{
	static const char text[] = "written by the creator";
	char n644[64], n640[64], n604[64], rname[64];
	struct shmkit_ref kr = t_key_ref(t_key()), nr;
	struct shmkit_map map;
	struct ro_case c644, c640, c604;
	int raw, named;

	/* root's own read-only mappings fault too (raw, and named: map.data) */
	T_OK(raw = t_track(shmkit_seg_create(&kr, 4096, 0644, SHMKIT_EXCL)));
	nr = t_name_ref(t_name(rname, sizeof(rname), "ro"));
	T_OK(named = t_track(shmkit_seg_create(&nr, 100, 0600, SHMKIT_EXCL)));
	T_OK(shmkit_seg_attach(raw, 0, &map));
	memcpy(map.data, text, sizeof(text));
	T_OK(shmkit_seg_detach(&map));
	T_OK(shmkit_seg_attach(named, 0, &map));
	memcpy(map.data, text, sizeof(text));
	T_OK(shmkit_seg_detach(&map));
	T_EQ(t_wait(t_fork(write_through_rdonly, &raw)), 128 + SIGSEGV);
	T_EQ(t_wait(t_fork(write_through_rdonly, &named)), 128 + SIGSEGV);

	/* channels whose opener may only read */
	c644.name = t_name(n644, sizeof(n644), "ro644");
	T_OK(c644.shmid = t_track(shmkit_chan_create(c644.name, 4096, 0644, SHMKIT_EXCL)));
	c644.raw = raw;
	c640.name = t_name(n640, sizeof(n640), "ro640");
	T_OK(c640.shmid = t_track(shmkit_chan_create(c640.name, 4096, 0640, SHMKIT_EXCL)));
	set_group(c640.shmid, SHARED);
	c640.raw = -1;
	c604.name = t_name(n604, sizeof(n604), "ro604");
	T_OK(c604.shmid = t_track(shmkit_chan_create(c604.name, 4096, 0604, SHMKIT_EXCL)));
	set_group(c604.shmid, SHARED);
	c604.raw = -1;

	T_EQ(as(OTHER, read_only_try, &c644), 0);
	T_EQ(as(MEMBER, read_only_try, &c640), 0);
	T_EQ(as(OTHER, read_only_try, &c604), 0);
	T_EQ(as(MEMBER, member_of_0604, &c604), 0);

	untouched(c644.shmid, 0644);
	untouched(c640.shmid, 0640);
	untouched(c604.shmid, 0604);
	T_OK(shmkit_seg_attach(raw, SHMKIT_RDONLY, &map));
	T_ASSERT(strcmp(map.data, text) == 0);
	T_OK(shmkit_seg_detach(&map));
	T_OK(shmkit_seg_attach(named, SHMKIT_RDONLY, &map));
	T_ASSERT(strcmp(map.data, text) == 0);
	T_OK(shmkit_seg_detach(&map));
}

/* -------------------------------------------------------------- modes */

static void exact_modes(void)
{
	static const int modes[] = { 0600, 0640, 0660, 0604, 0644, 0666, 0400, 0 };
	static const mode_t umasks[] = { 0, 022, 077 };
	mode_t old = umask(0);
	char name[64];
	size_t u, m;
	int id;

	for (u = 0; u < sizeof(umasks) / sizeof(umasks[0]); u++) {
		umask(umasks[u]);
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			struct shmkit_ref kr = t_key_ref(t_key()), nr;

			t_name(name, sizeof(name), "mode");
			T_OK(id = t_track(shmkit_chan_create(name, 4096, modes[m], SHMKIT_EXCL)));
			if (mode_of(id) != (unsigned)modes[m])
				t_fail(__FILE__, __LINE__, "channel mode %04o under umask %03o: %04o",
				       modes[m], (unsigned)umasks[u], mode_of(id));
			T_OK(shmkit_seg_remove(id));

			nr = t_name_ref(t_name(name, sizeof(name), "mode"));
			T_OK(id = t_track(shmkit_seg_create(&nr, 4096, modes[m], SHMKIT_EXCL)));
			if (mode_of(id) != (unsigned)modes[m])
				t_fail(__FILE__, __LINE__, "named mode %04o under umask %03o: %04o",
				       modes[m], (unsigned)umasks[u], mode_of(id));
			T_OK(shmkit_seg_remove(id));

			T_OK(id = t_track(shmkit_seg_create(&kr, 4096, modes[m], SHMKIT_EXCL)));
			if (mode_of(id) != (unsigned)modes[m])
				t_fail(__FILE__, __LINE__, "raw mode %04o under umask %03o: %04o",
				       modes[m], (unsigned)umasks[u], mode_of(id));
			T_OK(shmkit_seg_remove(id));
		}
		/* the default is 0600, whatever the umask */
		t_name(name, sizeof(name), "dflt");
		T_OK(id = t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0)));
		T_EQ(mode_of(id), 0600);
		T_OK(shmkit_seg_remove(id));
	}
	umask(old);
}

static void never_widened(void)
{
	struct shmkit_ref kr = t_key_ref(t_key()), nr;
	char name[64], seg_name[64];
	int id;

	/* create-or-open of an existing one opens it as it is */
	t_name(name, sizeof(name), "narrow");
	T_OK(id = t_track(shmkit_chan_create(name, 4096, 0600, SHMKIT_EXCL)));
	T_EQ(shmkit_chan_create(name, 4096, 0666, 0), id);
	T_EQ(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(mode_of(id), 0600);
	T_OK(id = t_track(shmkit_seg_create(&kr, 4096, 0640, SHMKIT_EXCL)));
	T_EQ(shmkit_seg_create(&kr, 4096, 0666, 0), id);
	T_EQ(mode_of(id), 0640);
	nr = t_name_ref(t_name(seg_name, sizeof(seg_name), "narrow"));
	T_OK(id = t_track(shmkit_seg_create(&nr, 4096, 0600, SHMKIT_EXCL)));
	T_EQ(shmkit_seg_create(&nr, 4096, 0777, 0), id);
	T_EQ(mode_of(id), 0600);

	/* only permission bits: nothing else is passed to shmget */
	t_name(name, sizeof(name), "bits");
	T_EQ(shmkit_chan_create(name, 4096, 01600, 0), -EINVAL);
	T_EQ(shmkit_chan_create(name, 4096, 04600, 0), -EINVAL);
	T_EQ(shmkit_chan_create(name, 4096, -2, 0), -EINVAL);
	T_EQ(shmkit_chan_create(name, 4096, 0x8000 | 0600, 0), -EINVAL);
	T_EQ(shmget(shmkit_name_key(name), 0, 0), -1);
}

/*
 * The command itself is the forked child (umask 077, stdout to a file), so
 * that the harness kills it if the test fails: a waiting recv must not
 * outlive the test, attached to a segment the runner would count.
 */
struct recv_job {
	const char *name, *out;
};

static int recv_with_mode(void *arg)
{
	const struct recv_job *j = arg;
	const char *bin = getenv("SHMKIT");
	int fd = open(j->out, O_WRONLY | O_TRUNC);

	if (fd < 0 || dup2(fd, 1) < 0)
		return 30;
	umask(077);
	execl(bin ? bin : "build/shmkit", "shmkit", "recv", "-m", "0604", "-c", "4096",
	      "--timeout", "60", j->name, (char *)NULL);
	return 31;
}

static void cli_modes(void)
{
	struct timespec nap = { 0, 5 * 1000 * 1000 };
	struct shmkit_chan_info ci;
	struct shmkit_chan *tx;
	struct recv_job job;
	char name[64], ks[16], *out, *err;
	key_t key = t_key();
	pid_t pid;
	int id, tries;

	/* mk: the mode asked, under any umask */
	t_name(name, sizeof(name), "mk640");
	T_EQ(t_sh(&out, NULL, "umask 077; exec \"$SHMKIT\" mk -m 0640 -n %s -s 4096", name), 0);
	T_OK(id = t_track(atoi(out)));
	free(out);
	T_EQ(mode_of(id), 0640);
	t_name(name, sizeof(name), "mk660");
	T_EQ(t_sh(&out, NULL, "umask 0; exec \"$SHMKIT\" mk --mode 660 -n %s -s 4096", name), 0);
	T_OK(id = t_track(atoi(out)));
	free(out);
	T_EQ(mode_of(id), 0660);
	t_name(name, sizeof(name), "mkdflt");
	T_EQ(t_sh(&out, NULL, "umask 0; exec \"$SHMKIT\" mk -n %s -s 4096", name), 0);
	T_OK(id = t_track(atoi(out)));
	free(out);
	T_EQ(mode_of(id), 0600);
	snprintf(ks, sizeof(ks), "0x%08x", (unsigned)key);
	T_EQ(t_sh(&out, NULL, "umask 0777; exec \"$SHMKIT\" mk -m 0666 -k %s -s 4096", ks), 0);
	T_OK(id = t_track(atoi(out)));
	free(out);
	T_EQ(mode_of(id), 0666);
	/* and the listing says so */
	T_EQ(t_cli(&out, &err, "stat", "--json", "-k", ks, NULL), 0);
	T_STR_CONTAINS(out, "\"mode\": \"0666\"");
	free(out);
	free(err);

	/* send -m: the channel it makes (kept: no receiver came) */
	t_name(name, sizeof(name), "send640");
	T_EQ(t_sh(NULL, &err, "umask 077; printf hello | \"$SHMKIT\" send -m 0640 -c 4096 %s",
		  name), 0);
	T_EQ(err[0], '\0');
	free(err);
	T_OK(id = t_track(shmkit_seg_open(&(struct shmkit_ref){
		.kind = SHMKIT_REF_NAME, .name = name })));
	T_EQ(mode_of(id), 0640);
	T_OK(shmkit_chan_info(id, &ci));
	T_EQ(ci.sent_msgs, 1);

	/* recv -m: looked at while it waits, then fed by the library */
	job.name = t_name(name, sizeof(name), "recv604");
	job.out = t_tmpfile("recv");
	pid = t_fork(recv_with_mode, &job);
	for (tries = 0; tries < 20000; tries++) {
		id = shmget(shmkit_name_key(name), 0, 0);
		if (id >= 0 && shmkit_chan_info(id, &ci) == 0 && ci.cons_pid)
			break;
		nanosleep(&nap, NULL);
	}
	T_OK(id);
	t_track(id);
	T_EQ(mode_of(id), 0604);
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, &tx));
	T_OK(shmkit_chan_send(tx, "sent by the library", 19, 10000));
	T_OK(shmkit_chan_close(tx));
	T_EQ(t_wait(pid), 0);
	T_EQ(t_sh(&out, NULL, "cat '%s'", job.out), 0);
	T_ASSERT(strcmp(out, "sent by the library") == 0);
	free(out);
}

int main(void)
{
	if (geteuid() != 0)
		t_skip("not root: cannot become other users to test permissions");
	exact_modes();
	never_widened();
	cli_modes();
	default_mode_refuses_others();
	group_mode();
	read_only();
	return 0;
}
