/*
 * Kernel limits, lowered: kernel.shmmni (segments), kernel.shmmax (bytes
 * in one segment) and kernel.shmall (pages in all segments). Each refusal
 * is its own error (-SHMKIT_ESHMMNI, -SHMKIT_ESHMMAX, -SHMKIT_ESHMALL),
 * the command says which limit in one line and exits 1, and a refused
 * create (raw, named or channel, library or command) leaves nothing: the
 * segment count in /proc/sysvipc/shm is unchanged and the key is free.
 * Exactly at a limit fits (for a name, shmmax less its 128-byte header);
 * shmkit_limits() reports the lowered values; what exists still opens at
 * a full limit, and create-or-open of a segment or channel larger than a
 * lowered shmmax opens it, as shmget does (recv joins a small channel
 * though its default ring is above the limit).
 *
 * shmget says ENOSPC for both shmmni and shmall; the library tells them
 * apart. Checked here: each limit alone, a segment marked for removal but
 * still attached (it counts for both), a caller that may not read the
 * segments that fill the table, shmmni lowered below the count, both
 * limits reached at once (the kernel checks the pages first, so shmall),
 * and that explaining touches no other segment's record (last pid, times).
 *
 * The limits are per IPC namespace. This test changes them only in a
 * private one (tests/run.sh gives each test its own, as root), and checks
 * that first: otherwise it skips, and never touches the host's limits.
 */
#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534
#define PROC_IPC_INIT_INO 0xEFFFFFFFu	/* the kernel's initial IPC namespace */

static uint64_t page;

/* ----------------------------------------------------------- helpers */

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n, ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* pid (comm) state ppid: comm may hold anything, so from the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/*
 * Skips unless this process is in an IPC namespace of its own: not the
 * kernel's initial one, and not pid 1's. Where pid 1's cannot be looked
 * at (a container may forbid it), an ancestor in another namespace shows
 * that ours was made below it, for this run.
 */
static void require_private_namespace(void)
{
	struct stat self, st;
	char path[64];
	pid_t pid;

	if (stat("/proc/self/ns/ipc", &self) < 0)
		t_skip("cannot read /proc/self/ns/ipc (%s): not changing kernel.shm* limits "
		       "without knowing the IPC namespace is private", strerror(errno));
	if (self.st_ino == PROC_IPC_INIT_INO)
		t_skip("in the host's (initial) IPC namespace: not changing its kernel.shm* "
		       "limits; run as root through tests/run.sh, which gives each test its own");
	if (stat("/proc/1/ns/ipc", &st) == 0) {
		if (st.st_ino == self.st_ino && st.st_dev == self.st_dev)
			t_skip("IPC namespace shared with pid 1: not changing its kernel.shm* limits");
		return;
	}
	for (pid = getppid(); pid > 1; pid = parent_of(pid)) {
		snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
		if (stat(path, &st) == 0 &&
		    (st.st_ino != self.st_ino || st.st_dev != self.st_dev))
			return;
	}
	t_skip("cannot show the IPC namespace is private (pid 1's is out of reach and "
	       "every ancestor shares it): not changing kernel.shm* limits");
}

static uint64_t get_limit(const char *which)
{
	char path[64], buf[64];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", which);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f) || sscanf(buf, "%llu", &v) != 1)
		t_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
	fclose(f);
	return v;
}

/* Returns 0, or the errno of a refused write (the first write may skip). */
static int try_set_limit(const char *which, uint64_t v)
{
	char path[64], buf[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", which);
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, buf, (size_t)n) != n)
		err = errno;
	close(fd);
	return err;
}

static void set_limit(const char *which, uint64_t v)
{
	int err = try_set_limit(which, v);

	if (err)
		t_fail(__FILE__, __LINE__, "kernel.%s = %llu: %s", which,
		       (unsigned long long)v, strerror(err));
	T_EQ(get_limit(which), v);
}

/* Segments in this namespace, and their pages, from /proc/sysvipc/shm. */
static int count_segs(uint64_t *pages)
{
	char line[512];
	unsigned long long size;
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	int n = 0;

	if (!f)
		t_fail(__FILE__, __LINE__, "/proc/sysvipc/shm: %s", strerror(errno));
	if (pages)
		*pages = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d %*d %*o %llu", &size) != 1)
			continue;	/* the heading */
		n++;
		if (pages)
			*pages += (size + page - 1) / page;
	}
	fclose(f);
	return n;
}

/* What this test made, to remove between cases (t_track at exit too). */
static int made[256];
static int nmade;

static int keep(int shmid)
{
	if (shmid >= 0) {
		t_track(shmid);
		if (nmade < (int)(sizeof(made) / sizeof(made[0])))
			made[nmade++] = shmid;
	}
	return shmid;
}

static void remove_made(void)
{
	int i;

	for (i = 0; i < nmade; i++)
		shmctl(made[i], IPC_RMID, NULL);
	nmade = 0;
}

/* The kernel's record of a segment's use: a look or an attach changes it. */
struct use {
	pid_t lpid;
	time_t atime, dtime;
	shmatt_t nattch;
};

static struct use use_of(int shmid)
{
	struct shmid_ds ds;
	struct use u;

	if (shmctl(shmid, IPC_STAT, &ds) < 0)
		t_fail(__FILE__, __LINE__, "IPC_STAT %d: %s", shmid, strerror(errno));
	u.lpid = ds.shm_lpid;
	u.atime = ds.shm_atime;
	u.dtime = ds.shm_dtime;
	u.nattch = ds.shm_nattch;
	return u;
}

static void same_use(int shmid, struct use was)
{
	struct use now = use_of(shmid);

	if (now.lpid != was.lpid || now.atime != was.atime || now.dtime != was.dtime ||
	    now.nattch != was.nattch)
		t_fail(__FILE__, __LINE__, "a refused create changed segment %d's record: "
		       "last pid %d -> %d, atime %lld -> %lld, dtime %lld -> %lld", shmid,
		       (int)was.lpid, (int)now.lpid, (long long)was.atime, (long long)now.atime,
		       (long long)was.dtime, (long long)now.dtime);
}

static int key_free(key_t key)
{
	return shmget(key, 0, 0) < 0 && errno == ENOENT;
}

/* A raw segment of size bytes at a new key: the result of the create. */
static int raw(size_t size)
{
	struct shmkit_ref r = t_key_ref(t_key());

	return keep(shmkit_seg_create(&r, size, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
}

/* A named segment; a refused one must leave its key free. */
static int named(size_t size, char *name, size_t cap)
{
	struct shmkit_ref r = t_name_ref(t_name(name, cap, "lim"));
	int id = keep(shmkit_seg_create(&r, size, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));

	if (id < 0 && !key_free(shmkit_name_key(name)))
		t_fail(__FILE__, __LINE__, "refused named create (%s) left a segment",
		       shmkit_strerror(id));
	return id;
}

static int chan(size_t capacity, char *name, size_t cap)
{
	int id;

	t_name(name, cap, "limch");
	id = keep(shmkit_chan_create(name, capacity, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	if (id < 0 && !key_free(shmkit_name_key(name)))
		t_fail(__FILE__, __LINE__, "refused channel create (%s) left a segment",
		       shmkit_strerror(id));
	return id;
}

/*
 * Runs shmkit; expects exit 1, nothing on stdout and one "shmkit: CMD: "
 * line naming needle (and needle2, if given). What a wrongly successful
 * mk printed is kept for cleanup.
 */
#define REFUSED(cmd, needle, needle2, ...) \
	refused(__FILE__, __LINE__, cmd, needle, needle2, (const char *[]){ cmd, __VA_ARGS__, NULL })
static void refused(const char *file, int line, const char *cmd, const char *needle,
		    const char *needle2, const char *args[])
{
	char *argv[24], *out, *err, *nl, prefix[32];
	const char *bin = getenv("SHMKIT");
	int argc = 0, rc;

	argv[argc++] = (char *)(bin ? bin : "build/shmkit");
	for (; *args && argc < 23; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	rc = t_run(argv, &out, &err);
	if (rc == 0 && !strcmp(cmd, "mk"))
		keep(atoi(out));
	snprintf(prefix, sizeof(prefix), "shmkit: %s: ", cmd);
	nl = strchr(err, '\n');
	if (rc != 1)
		t_fail(file, line, "shmkit %s: exit %d, expected 1 (stdout: %s, stderr: %s)", cmd,
		       rc, out, err);
	if (out[0])
		t_fail(file, line, "shmkit %s: printed on stdout: %s", cmd, out);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !nl || nl[1])
		t_fail(file, line, "shmkit %s: want one '%s' line on stderr, got: '%s'", cmd,
		       prefix, err);
	if (!strstr(err, needle) || (needle2 && !strstr(err, needle2)))
		t_fail(file, line, "shmkit %s: '%s'%s%s not in: %s", cmd, needle,
		       needle2 ? " and " : "", needle2 ? needle2 : "", err);
	free(out);
	free(err);
}

/* Runs shmkit mk, which must succeed; returns the shmid it printed. */
static int mk_ok(const char *size, const char *opt, const char *target)
{
	char *out, *err;
	int rc = t_cli(&out, &err, "mk", "-s", size, opt, target, NULL), id;

	if (rc != 0)
		t_fail(__FILE__, __LINE__, "shmkit mk -s %s %s %s: exit %d: %s", size, opt,
		       target, rc, err);
	id = keep(atoi(out));
	free(out);
	free(err);
	return id;
}

struct create_job {
	size_t size;
	int want;
};

/* As nobody: a create refused for want, and the command saying why. */
static int create_as_nobody(void *arg)
{
	const struct create_job *j = arg;
	struct shmkit_ref r = t_key_ref(t_key());
	char ks[16];

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 20;
	T_EQ(shmkit_seg_create(&r, j->size, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), j->want);
	t_key_text(ks, sizeof(ks), r.key);
	REFUSED("mk", j->want == -SHMKIT_ESHMMNI ? "shmmni" : "shmall", NULL,
		"-s", "4096", "-k", ks);
	return 0;
}

/* ------------------------------------------------------------ shmmni */

static void shmmni(void)
{
	uint64_t orig = get_limit("shmmni");
	struct shmkit_limits lim;
	struct shmkit_chan *p, *c;
	struct shmkit_ref r0, rn;
	struct t_holder h;
	struct create_job job = { 4096, -SHMKIT_ESHMMNI };
	char name[64], cname[64], full_name[64], full_chan[64], ks[16];
	int base = count_segs(NULL), max = base + 3, id0, idn, idc, before;
	struct use u0, un;

	set_limit("shmmni", (uint64_t)max);
	T_OK(shmkit_limits(&lim));
	T_EQ(lim.shmmni, max);

	/* fill the table: a raw segment, a named one and a channel */
	r0 = t_key_ref(t_key());
	T_OK(id0 = keep(shmkit_seg_create(&r0, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(idn = named(4096, full_name, sizeof(full_name)));
	rn = t_name_ref(full_name);
	T_OK(idc = chan(4096, full_chan, sizeof(full_chan)));
	T_EQ(count_segs(NULL), max);

	/*
	 * One more of any kind: refused for shmmni, nothing made, and
	 * nothing else touched: explaining the refusal attaches no segment,
	 * so the kernel's record of who used them last stays as it was.
	 */
	before = count_segs(NULL);
	u0 = use_of(id0);
	un = use_of(idn);
	T_EQ(raw(4096), -SHMKIT_ESHMMNI);
	same_use(id0, u0);
	same_use(idn, un);
	T_EQ(raw(1), -SHMKIT_ESHMMNI);
	T_EQ(named(4096, name, sizeof(name)), -SHMKIT_ESHMMNI);
	T_EQ(chan(4096, cname, sizeof(cname)), -SHMKIT_ESHMMNI);
	T_EQ(count_segs(NULL), before);

	/* what exists still opens, channels still work */
	T_EQ(shmkit_seg_create(&r0, 4096, SHMKIT_MODE_DEFAULT, 0), id0);
	T_EQ(shmkit_seg_create(&rn, 4096, SHMKIT_MODE_DEFAULT, 0), idn);
	T_EQ(shmkit_chan_create(full_chan, 4096, SHMKIT_MODE_DEFAULT, 0), idc);
	T_OK(shmkit_chan_open(full_chan, SHMKIT_PRODUCER, &p));
	T_OK(shmkit_chan_open(full_chan, SHMKIT_CONSUMER, &c));
	T_OK(shmkit_chan_send(p, "still", 5, 0));
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));

	/* the command: one line naming shmmni, exit 1, nothing made */
	t_key_text(ks, sizeof(ks), t_key());
	REFUSED("mk", "shmmni", NULL, "-s", "4096", "-k", ks);
	T_ASSERT(key_free((key_t)strtoul(ks, NULL, 16)));
	REFUSED("mk", "shmmni", NULL, "-s", "4096", "-n", t_name(name, sizeof(name), "climni"));
	T_ASSERT(key_free(shmkit_name_key(name)));
	REFUSED("mk", "shmmni", NULL, "-s", "1");
	REFUSED("send", "shmmni", NULL, "-c", "4096", t_name(name, sizeof(name), "sendmni"));
	T_ASSERT(key_free(shmkit_name_key(name)));
	REFUSED("recv", "shmmni", NULL, "--timeout", "5", "-c", "4096",
		t_name(name, sizeof(name), "recvmni"));
	T_ASSERT(key_free(shmkit_name_key(name)));
	T_EQ(count_segs(NULL), before);

	/* another user, who may not read the segments that fill the table */
	T_EQ(t_wait(t_fork(create_as_nobody, &job)), 0);
	T_EQ(count_segs(NULL), before);

	/* marked for removal but still attached: it still takes its slot */
	t_hold_start(&h, id0);
	T_OK(shmkit_seg_remove(id0));
	T_EQ(raw(4096), -SHMKIT_ESHMMNI);
	t_hold_stop(&h);
	T_EQ(count_segs(NULL), max - 1);
	T_OK(id0 = raw(4096));		/* its slot is free again */

	/* lowered below the count; then exactly one more */
	set_limit("shmmni", (uint64_t)max - 2);
	T_EQ(raw(4096), -SHMKIT_ESHMMNI);
	T_EQ(chan(4096, cname, sizeof(cname)), -SHMKIT_ESHMMNI);
	set_limit("shmmni", (uint64_t)max + 1);
	T_OK(raw(4096));
	T_EQ(raw(4096), -SHMKIT_ESHMMNI);
	T_EQ(count_segs(NULL), max + 1);

	remove_made();
	T_EQ(count_segs(NULL), base);
	set_limit("shmmni", orig);
}

/* ------------------------------------------------------------ shmmax */

static void shmmax(void)
{
	uint64_t orig = get_limit("shmmax");
	const uint64_t max = (1u << 20) + 100;	/* not a whole number of pages */
	struct shmkit_limits lim;
	struct shmkit_seg_info info;
	struct shmkit_ref big_ref = t_key_ref(t_key()), rn;
	char name[64], big_chan[64], size[32], ks[16];
	int id, big, bigc, before;

	/* made before the limit drops below them */
	T_OK(big = keep(shmkit_seg_create(&big_ref, 2u << 20, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	T_OK(bigc = chan(2u << 20, big_chan, sizeof(big_chan)));

	set_limit("shmmax", max);
	T_OK(shmkit_limits(&lim));
	T_EQ(lim.shmmax, max);
	before = count_segs(NULL);

	/* the kernel's own verdict above the limit, for reference */
	errno = 0;
	T_EQ(shmget(IPC_PRIVATE, max + 1, IPC_CREAT | 0600), -1);
	T_EQ(errno, EINVAL);

	/* raw: above is refused, exactly at the limit fits */
	T_EQ(raw(max + 1), -SHMKIT_ESHMMAX);
	T_EQ(raw(SIZE_MAX), -SHMKIT_ESHMMAX);
	T_EQ(count_segs(NULL), before);
	T_OK(id = raw(max));
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.size, max);
	T_EQ(info.data_size, max);
	T_EQ(info.alloc, (max + page - 1) / page * page);

	/* named: the 128-byte header counts, so max - 128 usable bytes fit */
	T_EQ(named(max, name, sizeof(name)), -SHMKIT_ESHMMAX);
	T_EQ(named(max - 127, name, sizeof(name)), -SHMKIT_ESHMMAX);
	T_OK(id = named(max - 128, name, sizeof(name)));
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.size, max);
	T_EQ(info.data_size, max - 128);

	/* channels: 4096 bytes of header and control, then the ring */
	T_EQ(chan(1u << 20, name, sizeof(name)), -SHMKIT_ESHMMAX);
	T_EQ(count_segs(NULL), before + 2);
	T_OK(chan(512u << 10, name, sizeof(name)));

	/* the command names the limit (and the header, for a name) */
	snprintf(size, sizeof(size), "%llu", (unsigned long long)max + 1);
	t_key_text(ks, sizeof(ks), t_key());
	REFUSED("mk", "shmmax", NULL, "-s", size, "-k", ks);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)max);
	mk_ok(size, "-k", ks);
	REFUSED("mk", "shmmax", "header", "-s", size, "-n", t_name(name, sizeof(name), "climax"));
	T_ASSERT(key_free(shmkit_name_key(name)));
	snprintf(size, sizeof(size), "%llu", (unsigned long long)max - 128);
	mk_ok(size, "-n", name);
	REFUSED("send", "shmmax", NULL, "-c", "1M", t_name(name, sizeof(name), "sendmax"));
	T_ASSERT(key_free(shmkit_name_key(name)));

	/*
	 * Create-or-open of what exists opens it, as shmget does, whatever
	 * the limit says now: the size limit is one for making segments.
	 */
	T_EQ(shmkit_seg_open(&big_ref), big);
	T_EQ(shmkit_seg_create(&big_ref, 4096, SHMKIT_MODE_DEFAULT, 0), big);
	T_EQ(shmkit_seg_create(&big_ref, 2u << 20, SHMKIT_MODE_DEFAULT, 0), big);
	T_EQ(shmkit_chan_create(big_chan, 2u << 20, SHMKIT_MODE_DEFAULT, 0), bigc);
	T_EQ(shmkit_chan_create(big_chan, 4096, SHMKIT_MODE_DEFAULT, 0), bigc);
	/* and SHMKIT_EXCL still says it exists */
	T_EQ(shmkit_seg_create(&big_ref, 2u << 20, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);
	rn = t_name_ref(big_chan);
	T_EQ(shmkit_seg_open(&rn), bigc);

	/*
	 * The everyday form: `shmkit send -c 64K` made a channel, and `recv`
	 * asks for its default 4M ring, above the limit: it joins the one
	 * there is (its capacity is the creator's), as when shmmax is high.
	 */
	t_name(name, sizeof(name), "join");
	T_EQ(t_sh(NULL, NULL, "printf 'small ring' | \"$SHMKIT\" send -c 64K %s", name), 0);
	rn = t_name_ref(name);
	T_OK(id = keep(shmkit_seg_open(&rn)));
	T_EQ(shmkit_chan_create(name, 4u << 20, SHMKIT_MODE_DEFAULT, 0), id);
	{
		char *out, *err;
		T_EQ(t_cli(&out, &err, "recv", "--timeout", "20", name, NULL), 0);
		T_ASSERT(strcmp(out, "small ring") == 0);
		T_EQ(err[0], '\0');
		free(out);
		free(err);
	}
	T_ASSERT(key_free(shmkit_name_key(name)));	/* recv, last out, removed it */

	remove_made();
	set_limit("shmmax", orig);
}

/* ------------------------------------------------------------ shmall */

static void shmall(void)
{
	uint64_t orig = get_limit("shmall"), used, all;
	uint64_t orig_mni = get_limit("shmmni");
	struct shmkit_limits lim;
	struct shmkit_ref r5;
	struct t_holder h;
	struct create_job job = { 4096, -SHMKIT_ESHMALL };
	char name[64], ks[16];
	int base = count_segs(&used), id5, id3, before;

	all = used + 8;
	set_limit("shmall", all);
	T_OK(shmkit_limits(&lim));
	T_EQ(lim.shmall, all);

	/* more than all of it in one segment: never fits */
	T_EQ(raw((size_t)(all + 1) * page), -SHMKIT_ESHMALL);
	T_EQ(chan((size_t)all * page, name, sizeof(name)), -SHMKIT_ESHMALL);

	/* 5 of 8 pages, then 4 more do not fit: the kernel says ENOSPC */
	r5 = t_key_ref(t_key());
	T_OK(id5 = keep(shmkit_seg_create(&r5, 5 * page, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)));
	before = count_segs(NULL);
	T_EQ(raw(4 * page), -SHMKIT_ESHMALL);
	T_EQ(raw(3 * page + 1), -SHMKIT_ESHMALL);
	T_EQ(named(4 * page - 128, name, sizeof(name)), -SHMKIT_ESHMALL);
	T_EQ(chan(4 * page, name, sizeof(name)), -SHMKIT_ESHMALL);	/* 5 pages */
	T_EQ(count_segs(NULL), before);

	/* exactly full fits; then not one byte more */
	T_OK(id3 = raw(3 * page));
	before = count_segs(NULL);
	T_EQ(raw(1), -SHMKIT_ESHMALL);
	T_EQ(named(1, name, sizeof(name)), -SHMKIT_ESHMALL);
	T_EQ(chan(4096, name, sizeof(name)), -SHMKIT_ESHMALL);
	T_EQ(count_segs(NULL), before);
	T_EQ(shmkit_seg_create(&r5, 5 * page, SHMKIT_MODE_DEFAULT, 0), id5);

	/* the command names shmall */
	t_key_text(ks, sizeof(ks), t_key());
	REFUSED("mk", "shmall", NULL, "-s", "4096", "-k", ks);
	T_ASSERT(key_free((key_t)strtoul(ks, NULL, 16)));
	REFUSED("mk", "shmall", NULL, "-s", "1", "-n", t_name(name, sizeof(name), "cliall"));
	T_ASSERT(key_free(shmkit_name_key(name)));
	REFUSED("send", "shmall", NULL, "-c", "4096", t_name(name, sizeof(name), "sendall"));
	T_ASSERT(key_free(shmkit_name_key(name)));
	T_EQ(t_wait(t_fork(create_as_nobody, &job)), 0);
	T_EQ(count_segs(NULL), before);

	/* marked for removal but attached: its pages are still taken */
	t_hold_start(&h, id3);
	T_OK(shmkit_seg_remove(id3));
	T_EQ(raw(page), -SHMKIT_ESHMALL);
	t_hold_stop(&h);
	T_OK(id3 = raw(3 * page));

	/*
	 * Both at once, every page and every slot taken: the kernel checks
	 * the pages first, so that is why it refused, and what is said.
	 */
	set_limit("shmmni", (uint64_t)count_segs(NULL));
	T_EQ(raw(1), -SHMKIT_ESHMALL);
	REFUSED("mk", "shmall", NULL, "-s", "1", "-n", t_name(name, sizeof(name), "both"));
	/* a free slot, no free page: shmall */
	set_limit("shmmni", (uint64_t)count_segs(NULL) + 1);
	T_EQ(raw(1), -SHMKIT_ESHMALL);
	/* free pages, no free slot: shmmni */
	set_limit("shmmni", (uint64_t)count_segs(NULL));
	set_limit("shmall", all + 1);
	T_EQ(raw(1), -SHMKIT_ESHMMNI);
	set_limit("shmmni", orig_mni);

	remove_made();
	T_EQ(count_segs(NULL), base);
	set_limit("shmall", orig);
}

int main(void)
{
	int err;

	if (geteuid() != 0)
		t_skip("not root: cannot change kernel.shm* limits");
	require_private_namespace();
	page = (uint64_t)sysconf(_SC_PAGESIZE);
	/* a harmless first write: the value it has */
	err = try_set_limit("shmmni", get_limit("shmmni"));
	if (err)
		t_skip("cannot write /proc/sys/kernel/shmmni in this namespace: %s", strerror(err));
	shmmni();
	shmmax();
	shmall();
	return 0;
}
