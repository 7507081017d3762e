/*
 * shmkit doctor, against fake configuration roots (--root, made under a
 * temporary directory removed at exit) and real segments made in the
 * test's IPC namespace.
 *
 * Proves, check by check, with the status, the text and the JSON:
 * limits: all fine is ok and, the namespace clean, exit 0; --need beyond
 * shmmax fails (exit 1) and names kernel.shmmax; segments near shmmni
 * warn and at shmmni fail; pages near shmall warn, and --need more pages
 * than shmall leaves fails; garbage, a FIFO and over-long lines neither
 * crash nor hang nor count. removeipc, as uid 65534 (setpriv): unset
 * applies (warn), a drop-in's no overrides the main file's yes, /etc
 * hides /usr/lib for one drop-in name (and a link to /dev/null hides
 * without saying anything), later names win across directories, the main
 * file may live in /usr/lib, spellings and sections as systemd reads them,
 * a bad value warns (escaped), lingering and SYS_UID_MAX exempt (info),
 * root is exempt, logind absent is ok (exit 0). ipc-namespace: equal,
 * different, pid 1's unreadable, a malformed link, and each container
 * marker. futex-waitv and io-uring: refused by a seccomp filter, warn and
 * info. proc-files: maps another user's (info), start times hidden (warn).
 * orphans, removing, world-writable: a segment of each, named with the
 * pids that hold it. Bad usage exits 2 with one line.
 *
 * The orphans are made by children that exit, and never attached by this
 * process (see tests/cli_inspect.c): a look by this live process would
 * make it their last user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups "
#define HOST_NS "ipc:[4026531839]"

static char base[64];
static pid_t owner;

static void remove_base(void)
{
	if (getpid() == owner && base[0])
		t_sh(NULL, NULL, "rm -rf '%s'", base);
}

/* root/rel with content, making directories; mode 0644 (nobody reads it). */
static void put(const char *root, const char *rel, const char *content, size_t len)
{
	char path[512], *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			t_fail(__FILE__, __LINE__, "mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, len) != (ssize_t)len || close(fd) < 0)
		t_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
}

static void put_text(const char *root, const char *rel, const char *text)
{
	put(root, rel, text, strlen(text));
}

/* root/rel as a symbolic link to target (any text), making directories. */
static void put_link(const char *root, const char *rel, const char *target)
{
	char path[512];

	put_text(root, rel, "");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (unlink(path) < 0 || symlink(target, path) < 0)
		t_fail(__FILE__, __LINE__, "symlink %s: %s", path, strerror(errno));
}

static void drop(const char *root, const char *rel)
{
	T_EQ(t_sh(NULL, NULL, "rm -rf '%s/%s'", root, rel), 0);
}

/* A row of /proc/sysvipc/shm: a segment of size bytes. */
static void row(char *buf, size_t cap, int shmid, unsigned long long size)
{
	size_t len = strlen(buf);

	snprintf(buf + len, cap - len, "%10d %10d %5o %21llu %5d %5d %6d %5d %5d %5d %5d "
		 "%10d %10d %10d %21d %21d\n", 1000 + shmid, shmid, 0600, size, 1, 0, 0, 0, 0,
		 0, 0, 0, 0, 1700000000, 0, 0);
}

#define SYSVIPC_HEAD "       key      shmid perms                  size  cpid  lpid nattch   uid" \
	"   gid  cuid  cgid      atime      dtime      ctime                   rss      " \
	"            swap\n"
#define STAT_LINE "2332 (a b) R 2330 2330 30813 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 " \
	"6309678 3133440 362\n"

/* n segments of size bytes each in root's proc/sysvipc/shm. */
static void segments(const char *root, int n, unsigned long long size)
{
	char text[16384];

	snprintf(text, sizeof(text), "%s", SYSVIPC_HEAD);
	for (int k = 0; k < n; k++)
		row(text, sizeof(text), k, size);
	put_text(root, "proc/sysvipc/shm", text);
}

/*
 * A root where all is well: limits of 1 GiB, 262144 pages and 4096
 * segments, two segments in use of 4096 and 10000 bytes (4 pages); logind
 * runs and RemoveIPC is not set; the host's namespace, and pid 1's; start
 * times and pid 1's maps readable.
 */
static const char *new_root(void)
{
	static char roots[64][96];
	static int n;
	char text[1024] = SYSVIPC_HEAD;
	char *root;

	T_ASSERT(n < 64);
	root = roots[n];
	snprintf(root, sizeof(roots[0]), "%s/r%d", base, n++);
	T_EQ(mkdir(root, 0755), 0);
	put_text(root, "proc/sys/kernel/shmmax", "1073741824\n");
	put_text(root, "proc/sys/kernel/shmall", "262144\n");
	put_text(root, "proc/sys/kernel/shmmni", "4096\n");
	row(text, sizeof(text), 1, 4096);
	row(text, sizeof(text), 2, 10000);
	put_text(root, "proc/sysvipc/shm", text);
	put_link(root, "proc/self/ns/ipc", HOST_NS);
	put_link(root, "proc/1/ns/ipc", HOST_NS);
	put_text(root, "proc/self/stat", STAT_LINE);
	put_text(root, "proc/1/stat", STAT_LINE);
	put_text(root, "proc/1/maps", "");
	put_text(root, "proc/1/cgroup", "0::/init.scope\n");
	put_text(root, "etc/systemd/logind.conf", "[Login]\n#RemoveIPC=yes\n");
	put_text(root, "etc/login.defs", "# comment\nSYS_UID_MAX\t\t999\n");
	T_EQ(t_sh(NULL, NULL, "mkdir -p '%s/run/systemd/seats'", root), 0);
	return root;
}

/*
 * Runs doctor --root root with args (at most three words, space-separated)
 * as the user that as says (NOBODY, through the shell, or "": directly,
 * so that valgrind follows): the exit status; the text in *out.
 */
static int doctor(char **out, const char *as, const char *root, const char *args)
{
	char words[64], *w[4] = { NULL }, *save = NULL, *err;
	int rc, n = 0;

	snprintf(words, sizeof(words), "%s", args);
	for (char *t = strtok_r(words, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		T_ASSERT(n < 3);
		w[n++] = t;
	}
	if (*as)
		rc = t_sh(out, &err, "%s\"$SHMKIT\" doctor --root '%s' %s", as, root, args);
	else
		rc = t_cli(out, &err, "doctor", "--root", root, w[0], w[1], w[2], (char *)NULL);
	/* under valgrind its notes of unknown calls come first; nothing of ours */
	if (strstr(err, "shmkit:"))
		t_fail(__FILE__, __LINE__, "doctor %s: %s", args, err);
	free(err);
	return rc;
}

/*
 * Does the text say futex_waitv is missing? Not here, but under valgrind
 * (3.19 lacks the call): that warning alone then makes the exit status 1.
 */
static int futex_missing(const char *out)
{
	return strstr(out, "\nwarn  futex-waitv ") != NULL;
}

/*
 * The line of check in doctor's text (status, name, found) and its fix
 * line if any, into line (malloc'd); fails if there is none.
 */
static char *check_line(const char *out, const char *check)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char status[8], name[32];
		size_t len;

		if (sscanf(p, "%7s %31s", status, name) != 2 || strcmp(name, check))
			continue;
		len = strcspn(p, "\n");
		if (!strncmp(p + len, "\n      fix: ", 12))
			len += 1 + strcspn(p + len + 1, "\n");
		return strndup(p, len);
	}
	t_fail(__FILE__, __LINE__, "no line for %s in:\n%s", check, out);
}

/* Asserts check's status, and that its lines hold each of the texts. */
#define EXPECT(out, check, status, ...) \
	expect(__FILE__, __LINE__, out, check, status, (const char *[]){ __VA_ARGS__, NULL })
static void expect(const char *file, int line, const char *out, const char *check,
		   const char *status, const char **texts)
{
	char *l = check_line(out, check);
	size_t n = strlen(status);

	if (strncmp(l, status, n) || l[n] != ' ')
		t_fail(file, line, "%s is not %s: %s", check, status, l);
	if (strcmp(status, "ok") && strcmp(status, "skip") && !strstr(l, "\n      fix: "))
		t_fail(file, line, "%s has no fix line: %s", check, l);
	for (; *texts; texts++)
		if (**texts && !strstr(l, *texts))
			t_fail(file, line, "%s: '%s' not in: %s", check, *texts, l);
	free(l);
}

/*
 * doctor --json on root (as as): valid JSON (python3's strict parser) for
 * which the jq filter is true.
 */
#define JSON_TRUE(as, root, args, filter) json_true(__FILE__, __LINE__, as, root, args, filter)
static void json_true(const char *file, int line, const char *as, const char *root,
		      const char *args, const char *filter)
{
	char f[96], json[80], *out, *err;

	/* one file, in our directory, that any user may write */
	snprintf(f, sizeof(f), "%s/json", base);
	put_text(base, "json", "");
	T_ASSERT(chmod(f, 0666) == 0);
	if (*as) {
		T_ASSERT(t_sh(NULL, NULL, "%s\"$SHMKIT\" doctor --json --root '%s' %s >%s", as,
			      root, args, f) <= 1);
	} else {
		snprintf(json, sizeof(json), "--json %s", args);
		doctor(&out, "", root, json);
		put_text(base, "json", out);
		free(out);
	}
	if (t_sh(&out, &err, "python3 -m json.tool %s >/dev/null && jq -e '%s' %s >/dev/null",
		 f, filter, f) != 0)
		t_fail(file, line, "doctor --json %s: '%s' not true: %s%s", args, filter, out, err);
	free(out);
	free(err);
}

static void check_clean(void)
{
	const char *root = new_root();
	char *out;
	int rc = doctor(&out, "", root, "");

	EXPECT(out, "limits", "ok", "shmmax 1 GiB, shmall 262144 pages",
	       "shmmni 4096; in use: 2 segments, 4 pages");
	EXPECT(out, "removeipc", "info", "RemoveIPC=yes (systemd's default",
	       "uid 0 (root): root is exempt");
	EXPECT(out, "ipc-namespace", "ok", "ipc:[4026531839], the host's; pid 1's too");
	EXPECT(out, "proc-files", "ok", "/proc/sysvipc/shm readable",
	       "maps of all 1 processes readable");
	EXPECT(out, "orphans", "ok", "none among 0 segments");
	EXPECT(out, "removing", "ok", "none among 0 segments");
	EXPECT(out, "world-writable", "ok", "none among 0 segments");
	/* info and skip do not count: exit 0 */
	T_EQ(rc, futex_missing(out));
	T_STR_CONTAINS(out, futex_missing(out) ? "\n0 fail, 1 warn, " : "\n0 fail, 0 warn, ");
	free(out);
	JSON_TRUE("", root, "",
		  "[.checks[].name] == [\"limits\", \"removeipc\", \"ipc-namespace\", "
		  "\"futex-waitv\", \"io-uring\", \"proc-files\", \"orphans\", \"removing\", "
		  "\"world-writable\"] and .checks[0].details == {shmmax: 1073741824, "
		  "shmall: 262144, shmmni: 4096, page_size: 4096, segments: 2, pages: 4, "
		  "need: null} and .checks[0].fix == null and .checks[0].status == \"ok\" and "
		  "(.ok == ([.checks[].status] | all(. != \"warn\" and . != \"fail\")))");
}

static void check_limits(void)
{
	const char *root = new_root();
	char *out;
	int rc;

	/* --need beyond shmmax */
	T_EQ(doctor(&out, "", root, "--need 2G"), 1);
	EXPECT(out, "limits", "fail", "--need 2 GiB: more than shmmax",
	       "fix: sysctl -w kernel.shmmax=2147483648");
	free(out);
	rc = doctor(&out, "", root, "--need 4K");
	T_EQ(rc, futex_missing(out));
	EXPECT(out, "limits", "ok", "--need 4 KiB fits");
	free(out);
	JSON_TRUE("", root, "--need 2G", ".ok == false and .checks[0].status == \"fail\" and "
		  ".checks[0].details.need == 2147483648");

	/* 9 of 10 segments: warn; 10 of 10: fail */
	put_text(root, "proc/sys/kernel/shmmni", "10\n");
	segments(root, 9, 4096);
	T_EQ(doctor(&out, "", root, ""), 1);
	EXPECT(out, "limits", "warn", "in use: 9 segments, 9 pages; segments near shmmni",
	       "fix: sysctl -w kernel.shmmni=20");
	free(out);
	segments(root, 10, 4096);
	T_EQ(doctor(&out, "", root, ""), 1);
	EXPECT(out, "limits", "fail", "no room for another segment (shmmni)");
	free(out);

	/* shmall 10 pages, 9 in use: warn; --need 8K (2 pages, 1 left): fail */
	put_text(root, "proc/sys/kernel/shmmni", "4096\n");
	put_text(root, "proc/sys/kernel/shmall", "10\n");
	segments(root, 3, 3 * 4096 - 100);
	T_EQ(doctor(&out, "", root, ""), 1);
	EXPECT(out, "limits", "warn", "9 pages; pages near shmall", "kernel.shmall=20");
	free(out);
	T_EQ(doctor(&out, "", root, "--need 8K"), 1);
	EXPECT(out, "limits", "fail", "--need 8 KiB: 2 pages, shmall leaves 1",
	       "kernel.shmall=20");
	free(out);
	put_text(root, "proc/sys/kernel/shmall", "1000\n");
	rc = doctor(&out, "", root, "--need 8K");
	T_EQ(rc, futex_missing(out));
	EXPECT(out, "limits", "ok", "--need 8 KiB fits");
	free(out);

	/* garbage: a row cut by an over-long line is not counted, junk is skipped */
	{
		char text[4096] = SYSVIPC_HEAD, pad[700];

		memset(pad, 'x', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		strcat(text, pad);
		row(text, sizeof(text), 1, 4096);
		strcat(text, "\x1b[2J\xff garbage 1 2 3\n\n");
		row(text, sizeof(text), 2, 4096);
		put(root, "proc/sysvipc/shm", text, strlen(text));
	}
	rc = doctor(&out, "", root, "");
	T_EQ(rc, futex_missing(out));
	EXPECT(out, "limits", "ok", "in use: 1 segments, 1 pages");
	free(out);
	put_text(root, "proc/sys/kernel/shmmax", "\x1b[31mlots\n");
	rc = doctor(&out, "", root, "--need 1G");
	T_EQ(rc, futex_missing(out));
	EXPECT(out, "limits", "skip", "/proc/sys/kernel/shmmax: '\\x1b[31mlots",
	       "is not a number");
	free(out);
	JSON_TRUE("", root, "", ".checks[0].status == \"skip\" and .checks[0].details.shmmax "
		  "== null and (.checks[0].found | contains(\"\\u001b\"))");
	/* a FIFO does not hang the reader */
	drop(root, "proc/sys/kernel/shmmax");
	T_EQ(t_sh(NULL, NULL, "mkfifo '%s/proc/sys/kernel/shmmax'", root), 0);
	drop(root, "proc/sysvipc/shm");
	rc = doctor(&out, "", root, "");
	T_EQ(rc, futex_missing(out));
	EXPECT(out, "limits", "skip", "shmmax: not a regular file");
	EXPECT(out, "proc-files", "info", "/proc/sysvipc/shm: No such file",
	       "shmctl(SHM_STAT)");
	free(out);
}

/* removeipc as uid 65534 on root, expecting status and texts. */
#define NOBODY_SEES(root, status, ...) do { char *o_; \
	int rc_ = doctor(&o_, NOBODY, root, ""); \
	EXPECT(o_, "removeipc", status, __VA_ARGS__); \
	T_EQ(rc_, !strcmp(status, "warn") || futex_missing(o_)); free(o_); } while (0)

static void check_removeipc(void)
{
	const char *root = new_root();
	const char *conf = "etc/systemd/logind.conf.d/50-shm.conf";
	const char *usr = "usr/lib/systemd/logind.conf.d/50-shm.conf";

	/* not set: systemd's default applies to a user above 999 */
	NOBODY_SEES(root, "warn", "RemoveIPC=yes (systemd's default; no file sets it)",
		    "uid 65534 (nobody): not a system user (SYS_UID_MAX 999), not lingering",
		    "fix: put [Login] RemoveIPC=no in /etc/systemd/logind.conf.d/",
		    "systemctl restart systemd-logind", "loginctl enable-linger nobody");
	JSON_TRUE(NOBODY, root, "", ".checks[1].details == {remove_ipc: true, set_in: null, "
		  "bad_values: 0, unreadable_files: 0, logind: true, uid: 65534, user: "
		  "\"nobody\", sys_uid_max: 999, lingering: false, applies: true}");

	/* the main file says yes, a drop-in no */
	put_text(root, "etc/systemd/logind.conf", "[Login]\nRemoveIPC=yes\n");
	NOBODY_SEES(root, "warn", "RemoveIPC=yes (/etc/systemd/logind.conf)");
	put_text(root, conf, "# local\n[Login]\n  RemoveIPC = no  \n");
	NOBODY_SEES(root, "ok", "RemoveIPC=no (/etc/systemd/logind.conf.d/50-shm.conf)",
		    "systemd-logind runs here and keeps segments at logout");

	/* the same name in /usr/lib is hidden by /etc's */
	put_text(root, usr, "[Login]\nRemoveIPC=yes\n");
	NOBODY_SEES(root, "ok", "RemoveIPC=no (/etc/systemd/logind.conf.d/50-shm.conf)");
	put_text(root, conf, "[Login]\nRemoveIPC=on\n");
	put_text(root, usr, "[Login]\nRemoveIPC=no\n");
	NOBODY_SEES(root, "warn", "RemoveIPC=yes (/etc/systemd/logind.conf.d/50-shm.conf)");
	/* a link to /dev/null hides it and says nothing: the main file's yes */
	put_link(root, conf, "/dev/null");
	NOBODY_SEES(root, "warn", "RemoveIPC=yes (/etc/systemd/logind.conf)");
	drop(root, conf);
	NOBODY_SEES(root, "ok", "RemoveIPC=no (/usr/lib/systemd/logind.conf.d/50-shm.conf)");

	/* later names win, whatever their directory */
	put_text(root, "run/systemd/logind.conf.d/90-z.conf", "[Login]\nRemoveIPC=1\n");
	NOBODY_SEES(root, "warn", "RemoveIPC=yes (/run/systemd/logind.conf.d/90-z.conf)");
	put_text(root, "etc/systemd/logind.conf.d/95-z.conf",
		 "[Login]\nremoveipc=no\n[Other]\nRemoveIPC=no\n[Login]\nRemoveIPC=FALSE\n");
	NOBODY_SEES(root, "ok", "RemoveIPC=no (/etc/systemd/logind.conf.d/95-z.conf)");
	/* a FIFO among them neither hangs nor counts */
	T_EQ(t_sh(NULL, NULL, "mkfifo '%s/etc/systemd/logind.conf.d/99-fifo.conf'", root), 0);
	NOBODY_SEES(root, "ok", "RemoveIPC=no (/etc/systemd/logind.conf.d/95-z.conf)");
	/* not a boolean: logind ignores it; we warn, escaped */
	put_text(root, "etc/systemd/logind.conf.d/97-bad.conf",
		 "[Login]\nRemoveIPC=maybe\x1b[31m\n");
	NOBODY_SEES(root, "warn", "RemoveIPC=no (/etc/systemd/logind.conf.d/95-z.conf)",
		    "RemoveIPC=maybe\\x1b[31m in /etc/systemd/logind.conf.d/97-bad.conf is "
		    "not a boolean: logind ignores it", "fix: write yes or no there");
	JSON_TRUE(NOBODY, root, "", ".checks[1].details.bad_values == 1 and "
		  ".checks[1].details.remove_ipc == false and "
		  "(.checks[1].found | contains(\"maybe\\u001b[31m\"))");
	drop(root, "etc/systemd/logind.conf.d");
	drop(root, "run/systemd/logind.conf.d");
	drop(root, "usr/lib/systemd/logind.conf.d");

	/* the main file may be /usr/lib's, if /etc has none */
	drop(root, "etc/systemd/logind.conf");
	put_text(root, "usr/lib/systemd/logind.conf", "[Login]\nRemoveIPC=off\n");
	NOBODY_SEES(root, "ok", "RemoveIPC=no (/usr/lib/systemd/logind.conf)");
	drop(root, "usr/lib/systemd/logind.conf");

	/* exempt: a user who lingers, a system user, root */
	put_text(root, "var/lib/systemd/linger/nobody", "");
	NOBODY_SEES(root, "info", "uid 65534 (nobody): it lingers, so it is never logged out");
	drop(root, "var/lib/systemd/linger/nobody");
	put_text(root, "etc/login.defs", "SYS_UID_MAX 65534\n");
	NOBODY_SEES(root, "info", "a system user (up to SYS_UID_MAX) is exempt");
	JSON_TRUE(NOBODY, root, "", ".checks[1].details.sys_uid_max == 65534 and "
		  ".checks[1].details.applies == false");
	put_text(root, "etc/login.defs", "SYS_UID_MAX 999\n");

	/* no logind: nothing removes segments, and all is well (exit 0) */
	drop(root, "run/systemd/seats");
	NOBODY_SEES(root, "ok", "systemd-logind does not run here");
	T_EQ(t_sh(NULL, NULL, "mkdir -p '%s/run/systemd/users'", root), 0);
	NOBODY_SEES(root, "warn", "not lingering");
}

/* The namespace check's line on root; expect status and texts. */
#define NS_IS(root, status, ...) do { char *o_; doctor(&o_, "", root, ""); \
	EXPECT(o_, "ipc-namespace", status, __VA_ARGS__); free(o_); } while (0)

static void check_namespace(void)
{
	const char *root = new_root();

	NS_IS(root, "ok", "ipc:[4026531839], the host's; pid 1's too",
	      "every process on this machine sees these segments");
	put_link(root, "proc/self/ns/ipc", "ipc:[4026532000]");
	NS_IS(root, "info", "ipc:[4026532000], not the host's; pid 1 has ipc:[4026531839]",
	      "only processes in this namespace see these segments", "--ipc=host");
	JSON_TRUE("", root, "", ".checks[2].details == {ipc_ns: 4026532000, pid1_ipc_ns: "
		  "4026531839, host: false, container: null, container_marker: null}");
	drop(root, "proc/1/ns");
	NS_IS(root, "info", "pid 1's cannot be read (No such file or directory)");
	put_link(root, "proc/self/ns/ipc", "ipc:[12]x");
	NS_IS(root, "skip", "cannot read /proc/self/ns/ipc: not of the form ipc:[N]");
	put_link(root, "proc/self/ns/ipc", HOST_NS);
	put_link(root, "proc/1/ns/ipc", HOST_NS);

	/* containers: each marker */
	put(root, "proc/1/environ", "PATH=/bin\0container=lxc-x\0", 26);
	NS_IS(root, "info", "in a container (lxc-x, says /proc/1/environ), which shares "
	      "the host's IPC namespace");
	put_text(root, "proc/1/environ", "");
	put_text(root, "proc/1/cgroup", "0::/kubepods/besteffort/pod1/abc\n");
	NS_IS(root, "info", "in a container (kubepods, says /proc/1/cgroup)");
	put_text(root, "run/.containerenv", "");
	NS_IS(root, "info", "in a container (podman, says /run/.containerenv)");
	put_text(root, ".dockerenv", "");
	put_link(root, "proc/self/ns/ipc", "ipc:[4026532001]");
	NS_IS(root, "info", "in a container (docker, says /.dockerenv), with an IPC namespace "
	      "of its own");
	JSON_TRUE("", root, "", ".checks[2].details.container == \"docker\" and "
		  ".checks[2].details.container_marker == \"/.dockerenv\" and "
		  ".checks[2].details.host == false");
}

/* In a child: exec doctor with futex_waitv and io_uring_setup refused (ENOSYS). */
static int refused_child(void *arg)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 449 /* futex_waitv */, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	const char *out = ((const char **)arg)[0], *root = ((const char **)arg)[1];
	int fd = open(out, O_WRONLY | O_TRUNC);

	if (fd < 0 || dup2(fd, 1) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return 100;
	execl(getenv("SHMKIT"), "shmkit", "doctor", "--root", root, (char *)NULL);
	return 101;
}

static void check_features(void)
{
	const char *root = new_root(), *file = t_tmpfile("doctor");
	const char *args[2] = { file, root };
	char *out;
	FILE *f;
	size_t len;

	/* as they are here: the library's own probes say the same */
	JSON_TRUE("", root, "", ".checks[3].name == \"futex-waitv\" and "
		  "(.checks[3].details.available == (.checks[3].status == \"ok\")) and "
		  "(.checks[4].details.available == (.checks[4].status == \"ok\")) and "
		  "(.checks[3].details.kernel | length) > 0");
	if (getenv("VALGRIND"))
		return;	/* the filter would hold valgrind's own calls */
	T_EQ(t_wait(t_fork(refused_child, args)), 1);
	f = fopen(file, "r");
	T_ASSERT(f != NULL);
	out = calloc(1, 65536);
	len = fread(out, 1, 65535, f);
	fclose(f);
	T_ASSERT(len > 0);
	EXPECT(out, "futex-waitv", "warn", "futex_waitv refused (Function not implemented",
	       "one member at a time, in 1 ms slices", "fix: Linux 5.16 or later");
	EXPECT(out, "io-uring", "info", "no io_uring in this kernel: shmkit_waitset_fd uses "
	       "a watcher thread");
	free(out);
}

static void check_proc(void)
{
	const char *root = new_root();
	char *out;

	/* pid 1's maps are root's alone: another user cannot see its attachments */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/proc/1/maps", root);
		T_EQ(chmod(path, 0600), 0);
	}
	T_EQ(doctor(&out, NOBODY, root, ""), 1);	/* removeipc warns for nobody */
	EXPECT(out, "proc-files", "info", "/proc/PID/maps of 1 of 1 processes not readable",
	       "ls and stat show \"?\"", "fix: run ls and stat as root");
	free(out);
	/* start times hidden (hidepid=): running processes would look gone */
	drop(root, "proc/1/stat");
	T_EQ(doctor(&out, "", root, ""), 1);
	EXPECT(out, "proc-files", "warn", "start times in /proc/PID/stat of other processes "
	       "hidden", "hidepid");
	free(out);
	put_text(root, "proc/self/stat", "1 (x) S 1 2\n");
	T_EQ(doctor(&out, "", root, ""), 1);
	EXPECT(out, "proc-files", "warn", "start times in /proc/PID/stat unreadable");
	free(out);
	JSON_TRUE("", root, "", ".checks[5].details == {sysvipc_shm: true, start_times: false, "
		  "processes: 1, maps_unreadable: 0}");
}

/* In a child that exits: a named segment nobody will attach again. */
static int make_orphan(void *arg)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = arg };

	return shmkit_seg_create(&ref, 4096, 0600, SHMKIT_EXCL) >= 0 ? 0 : 1;
}

/* The same, raw, with the key at arg (tracked by the test, not the child). */
static int make_raw_orphan(void *arg)
{
	return shmget(*(key_t *)arg, 4096, IPC_CREAT | IPC_EXCL | 0600) >= 0 ? 0 : 1;
}

static void check_segments(void)
{
	const char *root = new_root();
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	char name[64], orphan[64], want[256], filter[512], *out;
	struct t_holder h;
	int open_id, orphan_id, gone_id;
	key_t raw;

	/* world-writable (0606, not 0660): made here, by a live process (idle) */
	ref.name = t_name(name, sizeof(name), "ww");
	open_id = t_track(shmkit_seg_create(&ref, 4096, 0606, SHMKIT_EXCL));
	T_OK(open_id);
	T_OK(t_track(shmget(t_key(), 4096, IPC_CREAT | IPC_EXCL | 0660)));
	/* an orphan: made by a child that has exited */
	t_name(orphan, sizeof(orphan), "orph");
	T_EQ(t_wait(t_fork(make_orphan, orphan)), 0);
	orphan_id = t_track(shmget(shmkit_name_key(orphan), 0, 0));
	T_OK(orphan_id);
	/* marked for removal while a child holds it */
	gone_id = t_track(shmget(t_key(), 4096, IPC_CREAT | IPC_EXCL | 0600));
	T_OK(gone_id);
	t_hold_start(&h, gone_id);
	T_OK(shmkit_seg_remove(gone_id));

	T_EQ(doctor(&out, "", root, ""), 1);
	snprintf(want, sizeof(want), "1 orphaned: shmid %d (name %s, user root, mode 0600)",
		 orphan_id, orphan);
	EXPECT(out, "orphans", "warn", want, "fix: once sure nobody comes back for them: "
	       "'shmkit gc' removes the shmkit ones");
	snprintf(want, sizeof(want), "1 marked for removal and still attached: shmid %d "
		 "(user root, mode 0600) held by pid %d", gone_id, (int)h.pid);
	EXPECT(out, "removing", "warn", want, "stop or restart the processes");
	snprintf(want, sizeof(want), "1 world-writable: shmid %d (name %s, user root, mode 0606)",
		 open_id, name);
	EXPECT(out, "world-writable", "warn", want, "shmkit mk -m 0600", "'shmkit rm'");
	free(out);
	snprintf(filter, sizeof(filter), ".ok == false and "
		 ".checks[6].details.segments == [{shmid: %d, key: %u, name: \"%s\", uid: 0, "
		 "mode: \"0600\", persistent: false}] and "
		 ".checks[7].details.segments[0].pids == [%d] and "
		 ".checks[8].details.count == 1 and .checks[8].details.segments[0].shmid == %d",
		 orphan_id, (unsigned)shmkit_name_key(orphan), orphan, (int)h.pid, open_id);
	JSON_TRUE("", root, "", filter);
	t_hold_stop(&h);

	/* a raw orphan: gc needs --foreign for it */
	raw = t_key();
	T_EQ(t_wait(t_fork(make_raw_orphan, &raw)), 0);
	T_EQ(doctor(&out, "", root, ""), 1);
	EXPECT(out, "orphans", "warn", "2 orphaned: ", "'shmkit gc --foreign' removes those "
	       "without a shmkit header");
	free(out);
}

static void bad_usage(void)
{
	static const char *const cases[][2] = {
		{ "--bogus", "unrecognized option" },
		{ "--need 12Q", "size: '12Q': unknown suffix" },
		{ "--need 0", "must be at least 1 byte" },
		{ "--need", "requires an argument" },
		{ "--root /nonexistent/x", "--root '/nonexistent/x': No such file or directory" },
		{ "--root /etc/hostname", "Not a directory" },
		{ "extra", "unexpected argument 'extra'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *err;

		T_EQ(t_sh(&out, &err, "\"$SHMKIT\" doctor %s", cases[i][0]), 2);
		T_STR_CONTAINS(err, cases[i][1]);
		/* one line of ours (valgrind may add its own, marked "==" or "--") */
		T_STR_CONTAINS(err, "shmkit: ");
		if (strchr(strstr(err, "shmkit: "), '\n')[1] == 's')
			t_fail(__FILE__, __LINE__, "%s: more than one line: %s", cases[i][0], err);
		T_EQ(out[0], '\0');
		free(out), free(err);
	}
}

int main(void)
{
	char *out, *err;

	if (geteuid() != 0)
		t_skip("runs doctor as uid 65534 through setpriv: needs root");
	if (t_sh(&out, &err, "command -v setpriv && command -v jq && command -v python3") != 0)
		t_skip("needs setpriv, jq and python3");
	free(out), free(err);
	if (t_sh(NULL, NULL, NOBODY "true") != 0)
		t_skip("setpriv cannot switch to uid 65534 here");
	owner = getpid();
	snprintf(base, sizeof(base), "/tmp/shmkit-doctor-XXXXXX");
	T_ASSERT(mkdtemp(base) != NULL);
	atexit(remove_base);
	T_EQ(chmod(base, 0755), 0);

	check_clean();
	check_limits();
	check_removeipc();
	check_namespace();
	check_features();
	check_proc();
	check_segments();
	bad_usage();
	return 0;
}
