/*
 * shmkit given bad input: every refusal is one stderr line "shmkit: <what>:
 * <why>", exit 2 for a bad command line and 1 for what the system refused,
 * nothing on stdout, and no segment created.
 *
 * Covers sizes (0, negative, junk, unknown suffix, overflow before and
 * after the suffix, above kernel.shmmax), modes, project ids, keys, names,
 * a missing path, unknown shmids, unknown commands and options, missing
 * operands, mk -x on a taken key, and (as root) a segment the caller may
 * not read: EACCES from the library, one line and exit 1 from the command.
 *
 * "Nothing created" is checked twice: the key the command was given has no
 * segment, and no segment on the system has the command's pid as its
 * creator pid (/proc/sysvipc/shm, read without attaching anything). The
 * command runs as "sh -c 'echo $$ >PIDFILE; exec shmkit ...'" to learn its
 * pid, so that segments other programs make meanwhile are never mistaken
 * for (or cleaned up as) ours.
 */
#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY 65534

/* A segment whose creator is pid, or -1. */
static int made_by(pid_t pid)
{
	char line[512];
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	int id, cpid, found = -1;

	if (!f)
		t_fail(__FILE__, __LINE__, "/proc/sysvipc/shm: %s", strerror(errno));
	/* key shmid perms size cpid lpid ... */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %d %*o %*u %d", &id, &cpid) == 2 && cpid == pid)
			found = id;
	fclose(f);
	return found;
}

static const char *shmkit_bin(void)
{
	const char *bin = getenv("SHMKIT");

	return bin ? bin : "build/shmkit";
}

/*
 * Runs shmkit with args and checks the refusal: exit want_rc, stdout
 * empty, one "shmkit: " line on stderr containing needle, no segment made
 * by the command and (if key is not 0) no segment with that key.
 */
#define REFUSED(rc, needle, key, ...) \
	refused(__FILE__, __LINE__, rc, needle, key, (const char *[]){ __VA_ARGS__, NULL })
static void refused(const char *file, int line, int want_rc, const char *needle,
		    key_t key, const char *args[])
{
	char pidfile[] = "/tmp/shmkit-cli-pid-XXXXXX", pidtext[32] = "";
	char *argv[40], *out, *err, *nl, cmd[512] = "";
	size_t len = 0;
	int argc = 0, rc, made, fd;
	long pid;

	fd = mkstemp(pidfile);
	if (fd < 0)
		t_fail(file, line, "mkstemp: %s", strerror(errno));
	argv[argc++] = "sh";
	argv[argc++] = "-c";
	argv[argc++] = "echo $$ >\"$0\" && exec \"$@\"";
	argv[argc++] = pidfile;
	argv[argc++] = (char *)shmkit_bin();
	for (; *args && argc < 39; args++) {
		argv[argc++] = (char *)*args;
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " '%s'", *args);
		if (len >= sizeof(cmd))
			len = sizeof(cmd) - 1;
	}
	argv[argc] = NULL;

	rc = t_run(argv, &out, &err);
	if (read(fd, pidtext, sizeof(pidtext) - 1) < 0)
		pidtext[0] = '\0';
	close(fd);
	unlink(pidfile);
	pid = atol(pidtext);
	if (pid <= 0)
		t_fail(file, line, "shmkit%s: could not learn its pid (%s)", cmd, err);
	made = made_by((pid_t)pid);
	if (made >= 0)
		t_track(made);	/* its creator was the command we ran: ours */

	if (rc != want_rc)
		t_fail(file, line, "shmkit%s: exit %d, expected %d (stderr: %s)", cmd, rc,
		       want_rc, err);
	if (out[0])
		t_fail(file, line, "shmkit%s: printed on stdout: %s", cmd, out);
	nl = strchr(err, '\n');
	if (strncmp(err, "shmkit: ", 8) != 0 || !nl || nl[1])
		t_fail(file, line, "shmkit%s: want one 'shmkit: ' line on stderr, got: '%s'",
		       cmd, err);
	if (needle && !strstr(err, needle))
		t_fail(file, line, "shmkit%s: '%s' not in: %s", cmd, needle, err);
	if (made >= 0)
		t_fail(file, line, "shmkit%s: made a segment (shmid %d)", cmd, made);
	if (key != 0 && shmget(key, 0, 0) >= 0)
		t_fail(file, line, "shmkit%s: key 0x%08x has a segment", cmd, (unsigned)key);
	free(out);
	free(err);
}

static void bad_sizes(void)
{
	static const char *const usage[] = {
		"0", "-5", "abc", "12Q", "", "1KK", "1.5M", " 1", "0x10",
		"1e3", "-1", "+4", " 4k", "4k ", "4 k",
		"99999999999999999999999",	/* beyond 64 bits */
		"18446744073709551615K",	/* fits, but not times 1024 */
		"17179869184T",			/* 2^34 T = 2^74 bytes */
	};
	char ks[16];
	key_t key = t_key();
	size_t i;

	t_key_text(ks, sizeof(ks), key);
	for (i = 0; i < sizeof(usage) / sizeof(usage[0]); i++)
		REFUSED(2, "shmkit: size: ", key, "mk", "-s", usage[i], "-k", ks);
	REFUSED(2, "-s SIZE", key, "mk", "-k", ks);	/* no size at all */
}

/*
 * Seconds and counts follow the rule for sizes: plain decimal digits (and
 * a fraction for seconds), no spaces, signs, hex or exponents. strtod and
 * strtoull once let ' 1', '0x10' and '1e3' through. The bench cases end
 * in a bad option, so that a value wrongly taken never starts a benchmark
 * (and the refusal then names the wrong thing).
 */
static void bad_numbers(void)
{
	static const char *const secs[] = {
		" 1", "0x10", "1e3", "-1", "", " 4k", "4k ", "+1", "1 ", "1.", ".5",
		"1..5", "0.5s", "inf", "nan", "86401", "86400.5",
		"99999999999999999999999",
	};
	char name[64];
	size_t i;

	t_name(name, sizeof(name), "secs");
	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		REFUSED(2, "shmkit: timeout: ", shmkit_name_key(name), "recv", "-t", secs[i], name);
		REFUSED(2, "shmkit: timeout: ", shmkit_name_key(name), "send", "-t", secs[i], name);
		REFUSED(2, "seconds", 0, "bench", "-d", secs[i], "--nope");
	}
	REFUSED(2, "0.001", 0, "bench", "-d", "0.0004", "--nope");
	REFUSED(2, "repetitions", 0, "bench", "-r", " 5", "--nope");
	REFUSED(2, "repetitions", 0, "bench", "-r", "+5", "--nope");
	REFUSED(2, "repetitions", 0, "bench", "-r", "0x5", "--nope");
	REFUSED(2, "cpu", 0, "bench", "--cpus", " 0,1", "--nope");
	REFUSED(2, "cpu", 0, "bench", "--cpus", "0, 1", "--nope");
	REFUSED(2, "cpu", 0, "bench", "--cpus", "0,+1", "--nope");
	REFUSED(2, "cpu", 0, "bench", "--cpus", "0x0,1", "--nope");
	REFUSED(2, "shmid", 0, "stat", " 1");
	REFUSED(2, "shmid", 0, "rm", "+1");
	/* a project number is decimal too: ':0x1f' is part of the file's name */
	REFUSED(1, "no such file", 0, "stat", "-p", "/tmp:0x1f");
}

/* Above kernel.shmmax: a runtime refusal that names the limit. */
static void above_shmmax(void)
{
	struct shmkit_limits lim;
	char size[32], ks[16], name[64];
	key_t key = t_key();

	T_OK(shmkit_limits(&lim));
	if (lim.shmmax == UINT64_MAX) {
		/* shmmax+1 does not exist; the overflow cases above stand in */
		printf("note: kernel.shmmax is 2^64-1, no size is above it; "
		       "size-above-shmmax case not run\n");
		return;
	}
	t_key_text(ks, sizeof(ks), key);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)lim.shmmax + 1);
	REFUSED(1, "shmmax", key, "mk", "-s", size, "-k", ks);
	REFUSED(1, "shmmax", 0, "mk", "-s", size);
	t_name(name, sizeof(name), "big");
	REFUSED(1, "shmmax", shmkit_name_key(name), "mk", "-s", size, "-n", name);
	/* named: the header does not fit either when the usable size is shmmax */
	snprintf(size, sizeof(size), "%llu", (unsigned long long)lim.shmmax);
	REFUSED(1, "shmmax", shmkit_name_key(name), "mk", "-s", size, "-n", name);
	REFUSED(1, "header", shmkit_name_key(name), "mk", "-s", size, "-n", name);
}

/* A /proc/meminfo figure in bytes (0 if absent). */
static uint64_t meminfo(const char *field)
{
	char line[128];
	unsigned long long kb;
	size_t n = strlen(field);
	uint64_t v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%llu", &kb) == 1)
			v = (uint64_t)kb * 1024;
	if (f)
		fclose(f);
	return v;
}

/*
 * More than the kernel will promise: shmget says ENOMEM, which once read
 * "key 0x...: Cannot allocate memory", as if the key were the problem.
 * The message names the size and the memory limit instead.
 */
static void above_memory(void)
{
	struct shmkit_limits lim;
	char size[32], ks[16], line[16] = "";
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "re");
	key_t key = t_key();
	uint64_t big;

	if (f && !fgets(line, sizeof(line), f))
		line[0] = '\0';
	if (f)
		fclose(f);
	/* 1: the kernel promises anything; 2: held against the commit limit */
	if (line[0] == '1' || !line[0]) {
		printf("note: vm.overcommit_memory=%s: no size is refused for want of "
		       "memory; above-memory case not run\n", line[0] ? "1" : "?");
		return;
	}
	big = (line[0] == '2' ? meminfo("CommitLimit") :
	       meminfo("MemTotal") + meminfo("SwapTotal")) + (1ull << 30);
	T_OK(shmkit_limits(&lim));
	if (big > lim.shmmax || big / lim.page_size + 1 > lim.shmall) {
		printf("note: kernel.shmmax or shmall is below the memory; "
		       "above-memory case not run\n");
		return;
	}
	t_key_text(ks, sizeof(ks), key);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)big);
	REFUSED(1, "vm.overcommit_memory", key, "mk", "-s", size, "-k", ks);
	REFUSED(1, size, key, "mk", "-s", size, "-k", ks);
	REFUSED(1, "memory", 0, "mk", "-s", size);
}

static void bad_modes(void)
{
	static const char *const modes[] = { "999", "0x1", "1777", "abc", "8", "-1", "" };
	char ks[16];
	key_t key = t_key();
	size_t i;

	t_key_text(ks, sizeof(ks), key);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		REFUSED(2, "shmkit: mode: ", key, "mk", "-s", "4096", "-k", ks, "-m", modes[i]);
}

static void bad_projects(void)
{
	/* 256 must not wrap to 0 (ftok keeps 8 bits): both are refused */
	REFUSED(2, "project id", ftok("/tmp", 0), "mk", "-s", "4096", "-p", "/tmp:0");
	REFUSED(2, "project id", ftok("/tmp", 0), "mk", "-s", "4096", "-p", "/tmp:256");
	REFUSED(2, "project id", 0, "mk", "-s", "4096", "-p", "/tmp:");
	REFUSED(2, "project id", 0, "stat", "-p", "/tmp:0");
	REFUSED(2, "project id", 0, "rm", "-p", "/tmp:256");
}

static void bad_keys(void)
{
	REFUSED(2, "shmkit: key: ", 0, "mk", "-s", "4096", "-k", "0");
	REFUSED(2, "shmkit: key: ", 0, "mk", "-s", "4096", "-k", "0x0");
	REFUSED(2, "shmkit: key: ", 0, "mk", "-s", "4096", "-k", "0x100000000");
	REFUSED(2, "shmkit: key: ", 0, "mk", "-s", "4096", "-k", "-1");
	REFUSED(2, "shmkit: key: ", 0, "stat", "-k", "0");
	REFUSED(2, "shmkit: key: ", 0, "rm", "-k", "0x0");
}

static void bad_names(void)
{
	char long_name[80], truncated[80];

	memset(long_name, 'n', 64);
	long_name[64] = '\0';
	snprintf(truncated, sizeof(truncated), "%.63s", long_name);
	/* 64 characters: refused, not cut to 63 */
	REFUSED(2, "shmkit: name: ", shmkit_name_key(truncated),
		"mk", "-s", "4096", "-n", long_name);
	REFUSED(2, "shmkit: name: ", 0, "mk", "-s", "4096", "-n", "");
	REFUSED(2, "shmkit: name: ", 0, "mk", "-s", "4096", "-n", "a/b");
	REFUSED(2, "shmkit: name: ", 0, "mk", "-s", "4096", "-n", "a b");
	REFUSED(2, "shmkit: name: ", 0, "stat", "-n", "a/b");
	REFUSED(2, "shmkit: name: ", 0, "rm", "-n", "");
}

static void missing_path(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/nonexistent-shmkit-%d/file", (int)getpid());
	REFUSED(1, "no such file", 0, "mk", "-s", "4096", "-p", path);
	REFUSED(1, "no such file", 0, "stat", "-p", path);
	REFUSED(1, "no such file", 0, "rm", "-p", path);
}

static void unknown_targets(void)
{
	struct shmid_ds ds;
	char ks[16];

	/* shmids are index + 32768 * sequence; this one would need index 18943 */
	T_EQ(shmctl(999999999, IPC_STAT, &ds), -1);
	REFUSED(1, "999999999", 0, "stat", "999999999");
	REFUSED(1, "999999999", 0, "rm", "999999999");
	REFUSED(1, "999999999", 0, "stat", "--json", "999999999");
	t_key_text(ks, sizeof(ks), t_key());
	REFUSED(1, "no such segment", 0, "stat", "-k", ks);
	/* not a shmid at all */
	REFUSED(2, "shmid", 0, "stat", "12abc");
	REFUSED(2, "shmid", 0, "rm", "99999999999");
}

static void bad_command_lines(void)
{
	char ks[16];
	key_t key = t_key();

	t_key_text(ks, sizeof(ks), key);
	REFUSED(2, "frobnicate", 0, "frobnicate");
	REFUSED(2, "--bogus", key, "mk", "-s", "4096", "-k", ks, "--bogus");
	REFUSED(2, "'q'", key, "mk", "-s", "4096", "-k", ks, "-q");
	REFUSED(2, "'s'", 0, "mk", "-s");		/* -s without its argument */
	REFUSED(2, "'z'", 0, "ls", "-z");
	REFUSED(2, "--json", 0, "ls", "--json=yes");
	REFUSED(2, "--nope", 0, "stat", "--nope", "1");
	REFUSED(2, "--nope", 0, "rm", "--nope", "1");
	REFUSED(2, "--nope", 0, "gc", "--nope");
	REFUSED(2, "extra", key, "mk", "-s", "4096", "-k", ks, "extra");
	REFUSED(2, "extra", 0, "ls", "extra");
	REFUSED(2, "extra", 0, "gc", "extra");
	REFUSED(2, "shmkit: stat: ", 0, "stat");	/* which segment? */
	REFUSED(2, "shmkit: rm: ", 0, "rm");		/* nothing to remove */
	REFUSED(2, "not several", key, "mk", "-s", "4096", "-k", ks, "-n", "x");
	/* bench too says it in one line (getopt's), not two */
	REFUSED(2, "--bogus", 0, "bench", "--bogus");
	REFUSED(2, "'q'", 0, "bench", "-q");
	/* nothing may follow -V or --help: it would be ignored silently */
	REFUSED(2, "extra", 0, "-V", "extra");
	REFUSED(2, "extra", 0, "--version", "extra");
	REFUSED(2, "--json", 0, "--version", "--json");
	REFUSED(2, "extra", 0, "-h", "extra");
	REFUSED(2, "extra", 0, "--help", "extra");
	REFUSED(2, "mk", 0, "help", "mk");
}

/* mk -x on a key that is taken: refused, the segment is left as it was */
static void exclusive_taken(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = t_key() };
	struct shmid_ds ds;
	char ks[16], *out, *err, *nl;
	int shmid = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));

	T_OK(shmid);
	t_key_text(ks, sizeof(ks), ref.key);
	/* the key exists, so the usual "no segment with this key" check is off */
	T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "8192", "-k", ks, "-m", "0666", NULL), 1);
	T_EQ(out[0], '\0');
	nl = strchr(err, '\n');
	T_ASSERT(strncmp(err, "shmkit: ", 8) == 0 && nl && !nl[1]);
	T_STR_CONTAINS(err, "exists");
	free(out);
	free(err);
	T_EQ(shmget(ref.key, 0, 0), shmid);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	T_EQ(ds.shm_segsz, 4096);
	T_EQ(ds.shm_perm.mode & 0777, 0600);
}

/* Runs as nobody: may neither attach nor stat a 0600 segment of root's. */
static int as_nobody(void *arg)
{
	int shmid = *(int *)arg;
	struct shmkit_seg_info info;
	struct shmkit_map map;
	char id[16], *out, *err, *nl;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 20;
	if (getuid() != NOBODY || geteuid() != NOBODY)
		return 21;
	/*
	 * valgrind's own shmat first asks IPC_STAT for the size, is refused,
	 * and answers EINVAL; the kernel itself says EACCES.
	 */
	const char *vg = getenv("VALGRIND");
	int refused = vg && !strcmp(vg, "1") ? -EINVAL : -EACCES;

	T_EQ(shmkit_seg_attach(shmid, 0, &map), refused);
	T_EQ(shmkit_seg_attach(shmid, SHMKIT_RDONLY, &map), refused);
	T_EQ(shmkit_seg_stat(shmid, &info), -EACCES);

	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 1);
	T_EQ(out[0], '\0');
	nl = strchr(err, '\n');
	T_ASSERT(strncmp(err, "shmkit: stat: ", 14) == 0 && nl && !nl[1]);
	T_STR_CONTAINS(err, "ermission");
	free(out);
	free(err);

	T_EQ(t_cli(&out, &err, "rm", id, NULL), 1);
	T_EQ(out[0], '\0');
	nl = strchr(err, '\n');
	T_ASSERT(strncmp(err, "shmkit: rm: ", 12) == 0 && nl && !nl[1]);
	free(out);
	free(err);
	return 0;
}

static void permission(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = t_key() };
	struct shmid_ds ds;
	int shmid;

	if (geteuid() != 0)
		t_skip("not root: cannot become another user for the permission case");
	shmid = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	T_EQ(t_wait(t_fork(as_nobody, &shmid)), 0);
	/* and the refused rm left it alone */
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	T_EQ(ds.shm_perm.mode & SHM_DEST, 0);
}

int main(void)
{
	bad_sizes();
	bad_numbers();
	above_shmmax();
	above_memory();
	bad_modes();
	bad_projects();
	bad_keys();
	bad_names();
	missing_path();
	unknown_targets();
	bad_command_lines();
	exclusive_taken();
	permission();	/* last: skips the file when not root */
	return 0;
}
