/*
 * shmkit doctor: the kernel's limits, the IPC namespace, the kernel
 * features shmkit uses and the /proc files it reads. Files are read below
 * the doctor's root; the features are probed here, as the library would.
 */
#define _GNU_SOURCE	/* O_PATH */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "doctor.h"
#include "futex.h"
#include "parse.h"
#include "uring.h"
#include "util.h"

/* The kernel's number for the first IPC namespace (PROC_IPC_INIT_INO): the host's. */
#define HOST_IPC_NS 4026531839ull
/* More rows than any kernel lists (IPCMNI with ipcmni_extend): garbage. */
#define SYSVIPC_ROWS_MAX (1 << 24)
#define PROCS_MAX 4000000
#define ENV_MAX (64 * 1024)

static void num_or_null(struct doc_check *c, const char *key, int have, uint64_t v)
{
	if (have)
		doc_num(c, key, v);
	else
		fputs("null", doc_member(c, key));
}

/* A /proc/sys number; 0, or why not in why. */
static int read_number(const struct doctor *d, const char *path, uint64_t *v,
		       char *why, size_t cap)
{
	char buf[64];
	int n = doc_read(d, path, buf, sizeof(buf));

	if (n < 0)
		snprintf(why, cap, "/%s: %s", path, doc_why(n));
	else if (__shmkit_parse_u64(buf, v) < 0)
		snprintf(why, cap, "/%s: '%.20s' is not a number", path, buf);
	else
		return 0;
	return -1;
}

/* Segments and pages in use, from proc/sysvipc/shm: 0 or -errno. */
static int read_usage(const struct doctor *d, uint64_t page, uint64_t *segs, uint64_t *pages)
{
	struct shmkit_seg_info info;
	FILE *f = doc_fopen(d, "proc/sysvipc/shm");
	char line[512];
	int cont = 0, rows = 0;

	if (!f)
		return -errno;
	*segs = *pages = 0;
	while (rows++ < SYSVIPC_ROWS_MAX && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		int whole = (len && line[len - 1] == '\n') || feof(f);
		uint64_t p;

		/* a line longer than the buffer is garbage, all of its pieces */
		if (!cont && whole && __shmkit_parse_sysvipc_row(line, &info) == 0) {
			p = info.size / page + (info.size % page != 0);
			*pages = *pages > UINT64_MAX - p ? UINT64_MAX : *pages + p;
			(*segs)++;
		}
		cont = !whole;
	}
	fclose(f);
	return 0;
}

/* v doubled, or UINT64_MAX. */
static uint64_t twice(uint64_t v)
{
	return v > UINT64_MAX / 2 ? UINT64_MAX : 2 * v;
}

#define KEEP_SYSCTL " (and the same line in a file in /etc/sysctl.d/ to keep it)"

static void limits_judge(const struct doctor *d, struct doc_check *c, uint64_t max,
			 uint64_t all, uint64_t mni, uint64_t page, int have_usage,
			 uint64_t segs, uint64_t pages)
{
	uint64_t want = d->need / page + (d->need % page != 0), left, new_all = 0;
	char size[16];

	if (!have_usage)
		segs = pages = 0;
	left = pages < all ? all - pages : 0;
	if (have_usage && segs >= mni - mni / 10) {
		doc_status(c, segs >= mni ? DOC_FAIL : DOC_WARN);
		doc_found(c, segs >= mni ? "; no room for another segment (shmmni)" :
			  "; segments near shmmni");
		doc_fix(c, "sysctl -w kernel.shmmni=%llu" KEEP_SYSCTL ", or remove unused "
			"segments ('shmkit gc')", (unsigned long long)twice(mni));
	}
	if (have_usage && pages >= all - all / 10) {
		doc_status(c, pages >= all ? DOC_FAIL : DOC_WARN);
		doc_found(c, pages >= all ? "; no pages left (shmall)" : "; pages near shmall");
		new_all = twice(all);
	}
	if (d->need) {
		fmt_bytes(size, sizeof(size), (double)d->need, FMT_IEC);
		if (d->need > max) {
			doc_status(c, DOC_FAIL);
			doc_found(c, "; --need %s: more than shmmax", size);
			doc_fix(c, "%ssysctl -w kernel.shmmax=%llu" KEEP_SYSCTL,
				c->fix[0] ? "; " : "", (unsigned long long)d->need);
		}
		if (want > left) {
			doc_status(c, DOC_FAIL);
			doc_found(c, "; --need %s: %llu pages, shmall leaves %llu", size,
				  (unsigned long long)want, (unsigned long long)left);
			want = pages > UINT64_MAX - want ? UINT64_MAX : pages + want;
			if (new_all < want)
				new_all = want;
		} else if (d->need <= max) {
			doc_found(c, "; --need %s fits", size);
		}
	}
	if (new_all)
		doc_fix(c, "%ssysctl -w kernel.shmall=%llu" KEEP_SYSCTL, c->fix[0] ? "; " : "",
			(unsigned long long)new_all);
}

void check_limits(const struct doctor *d, struct doc_check *c)
{
	uint64_t max = 0, all = 0, mni = 0, segs = 0, pages = 0, page = __shmkit_page_size();
	char why[128], size[16];
	int have_limits, usage;

	have_limits = read_number(d, "proc/sys/kernel/shmmax", &max, why, sizeof(why)) == 0 &&
		      read_number(d, "proc/sys/kernel/shmall", &all, why, sizeof(why)) == 0 &&
		      read_number(d, "proc/sys/kernel/shmmni", &mni, why, sizeof(why)) == 0;
	usage = read_usage(d, page, &segs, &pages);
	if (!have_limits) {
		doc_status(c, DOC_SKIP);
		doc_found(c, "cannot read the limits: %s", why);
		doc_fix(c, "mount /proc (the proc file system) to see the limits");
	} else {
		fmt_bytes(size, sizeof(size), (double)max, FMT_IEC);
		doc_found(c, "shmmax %s, shmall %llu pages of %llu bytes, shmmni %llu", size,
			  (unsigned long long)all, (unsigned long long)page,
			  (unsigned long long)mni);
		if (usage == 0)
			doc_found(c, "; in use: %llu segments, %llu pages",
				  (unsigned long long)segs, (unsigned long long)pages);
		else
			doc_found(c, "; what is in use is unknown (/proc/sysvipc/shm: %s)",
				  doc_why(usage));
		limits_judge(d, c, max, all, mni, page, usage == 0, segs, pages);
	}
	num_or_null(c, "shmmax", have_limits, max);
	num_or_null(c, "shmall", have_limits, all);
	num_or_null(c, "shmmni", have_limits, mni);
	doc_num(c, "page_size", page);
	num_or_null(c, "segments", usage == 0, segs);
	num_or_null(c, "pages", usage == 0, pages);
	num_or_null(c, "need", d->need != 0, d->need);
}

/* The N of the link dir/ipc, "ipc:[N]": 0, -errno, or -EPROTO if malformed. */
static int ns_inode(const struct doctor *d, const char *dir, uint64_t *ino)
{
	char link[64], *end;
	int fd = doc_open(d, dir, O_PATH | O_DIRECTORY), err = 0;
	ssize_t n;

	if (fd < 0)
		return fd;
	n = readlinkat(fd, "ipc", link, sizeof(link) - 1);
	if (n < 0)
		err = -errno;
	close(fd);
	if (n < 0)
		return err;
	link[n] = '\0';
	end = strchr(link, ']');
	if (strncmp(link, "ipc:[", 5) || !end || end[1])
		return -EPROTO;
	*end = '\0';
	return parse_decimal(link + 5, ino) < 0 ? -EPROTO : 0;
}

static const char *ns_why(int err)
{
	return err == -EPROTO ? "not of the form ipc:[N]" : strerror(-err);
}

/*
 * What says this is a container: its kind ("docker", or container= of pid
 * 1's environment) into kind, and the file that says so; NULL if nothing.
 */
static const char *container(const struct doctor *d, char *kind, size_t cap)
{
	static const char *const cgroups[] = { "docker", "kubepods", "libpod", "containerd",
					       "lxc" };
	static char text[ENV_MAX];
	int n;

	if (doc_exists(d, ".dockerenv"))
		return snprintf(kind, cap, "docker"), "/.dockerenv";
	if (doc_exists(d, "run/.containerenv"))
		return snprintf(kind, cap, "podman"), "/run/.containerenv";
	if ((n = doc_read(d, "proc/1/environ", text, sizeof(text))) > 0) {
		for (const char *p = text; p < text + n; p += strlen(p) + 1) {
			if (!strncmp(p, "container=", 10) && p[10])
				return snprintf(kind, cap, "%.32s", p + 10), "/proc/1/environ";
		}
	}
	if (doc_read(d, "proc/1/cgroup", text, sizeof(text)) > 0) {
		for (size_t i = 0; i < sizeof(cgroups) / sizeof(cgroups[0]); i++) {
			if (strstr(text, cgroups[i]))
				return snprintf(kind, cap, "%s", cgroups[i]), "/proc/1/cgroup";
		}
	}
	return NULL;
}

void check_ipc_ns(const struct doctor *d, struct doc_check *c)
{
	uint64_t self = 0, one = 0;
	char kind[40];
	int es = ns_inode(d, "proc/self/ns", &self), e1 = ns_inode(d, "proc/1/ns", &one);
	const char *ct = container(d, kind, sizeof(kind));
	int host = es == 0 && self == HOST_IPC_NS;

	if (es < 0) {
		doc_status(c, DOC_SKIP);
		doc_found(c, "cannot read /proc/self/ns/ipc: %s", ns_why(es));
		doc_fix(c, "mount /proc (the proc file system) to see the IPC namespace");
	} else {
		doc_found(c, "ipc:[%llu], %s", (unsigned long long)self,
			  host ? "the host's" : "not the host's");
		if (e1 < 0)
			doc_found(c, "; pid 1's cannot be read (%s)", ns_why(e1));
		else if (one == self)
			doc_found(c, "; pid 1's too");
		else
			doc_found(c, "; pid 1 has ipc:[%llu]", (unsigned long long)one);
		if (ct)
			doc_found(c, "; in a container (%s, says %s), %s", kind, ct, host ?
				  "which shares the host's IPC namespace" :
				  "with an IPC namespace of its own");
		doc_found(c, host ? ": every process on this machine sees these segments, "
			  "except those in containers or sandboxes with IPC namespaces of "
			  "their own" :
			  ": only processes in this namespace see these segments, not the "
			  "host's nor other containers'");
		if (!host || ct || e1 < 0 || one != self)
			doc_status(c, DOC_INFO);
		if (!host)
			doc_fix(c, "to share segments, run both sides in one IPC namespace "
				"(docker or podman --ipc=host or --ipc=container:NAME, "
				"Kubernetes hostIPC or one pod, nsenter --ipc)");
		else if (e1 < 0)
			doc_fix(c, d->euid ? "run as root to compare with pid 1's" :
				"root here may not look at pid 1 (a container's root?): compare "
				"from outside");
		else if (ct)
			doc_fix(c, "nothing: the container's segments and the host's are one set");
		else
			doc_fix(c, "nothing: pid 1 runs in an IPC namespace of its own");
	}
	num_or_null(c, "ipc_ns", es == 0, self);
	num_or_null(c, "pid1_ipc_ns", e1 == 0, one);
	fputs(es < 0 ? "null" : host ? "true" : "false", doc_member(c, "host"));
	doc_str(c, "container", ct ? kind : NULL);
	doc_str(c, "container_marker", ct);
}

void check_futex_waitv(struct doc_check *c)
{
	_Atomic uint32_t word = 1, *w = &word;
	uint32_t expect = 0;
	struct utsname u;
	/* the word differs from what we expect: a kernel with the call says EAGAIN at once */
	int r = __shmkit_futex_waitv(&w, &expect, 1, 0);
	int missing = r == -ENOSYS || r == -EPERM;	/* what wait sets take for missing */

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	if (missing) {
		doc_status(c, DOC_WARN);
		doc_found(c, "futex_waitv refused (%s; Linux %s): a wait set of several members "
			  "sleeps on one member at a time, in 1 ms slices", strerror(-r),
			  u.release);
		doc_fix(c, "Linux 5.16 or later; in a container, a seccomp profile that allows "
			"futex_waitv");
	} else {
		doc_found(c, "futex_waitv works (Linux %s): a wait set sleeps on all its "
			  "members at once", u.release);
	}
	doc_bool(c, "available", !missing);
	doc_str(c, "error", missing ? strerror(-r) : NULL);
	doc_str(c, "kernel", u.release);
}

void check_io_uring(struct doc_check *c)
{
	struct __shmkit_uring *u;
	int r = __shmkit_uring_open(&u);

	if (r == 0) {
		__shmkit_uring_close(u);
		doc_found(c, "io_uring with FUTEX_WAITV: shmkit_waitset_fd is the ring's own "
			  "descriptor");
	} else {
		doc_status(c, DOC_INFO);
		doc_found(c, "%s: shmkit_waitset_fd uses a watcher thread instead (a thread "
			  "switch more per wake-up)",
			  r == -ENOSYS ? "no io_uring in this kernel" :
			  r == -EPERM ? "io_uring refused (kernel.io_uring_disabled, or a "
			  "seccomp filter)" :
			  r == -EOPNOTSUPP ? "io_uring without FUTEX_WAITV (Linux 6.7 has it)" :
			  strerror(-r));
		doc_fix(c, "only if that wake-up matters: %s",
			r == -EPERM ? "sysctl -w kernel.io_uring_disabled=0, or a seccomp "
			"profile that allows io_uring" : "Linux 6.7 or later, with io_uring");
	}
	doc_bool(c, "available", r == 0);
	doc_str(c, "error", r ? strerror(-r) : NULL);
}

/* Does proc/PID/stat (PID: "self" or a number) hold a start time (field 22)? */
static int stat_readable(const struct doctor *d, const char *pid)
{
	char path[64], buf[1024], *p;
	int i;

	snprintf(path, sizeof(path), "proc/%s/stat", pid);
	if (doc_read(d, path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* after the name: the state (field 3), then 19 fields to the start time */
	for (i = 0; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	return p && isdigit((unsigned char)p[1]);
}

/* Processes under proc/ whose maps could not be opened, of *total. */
static uint64_t maps_unreadable(const struct doctor *d, uint64_t *total)
{
	int fd = doc_open(d, "proc", O_RDONLY | O_DIRECTORY), m;
	uint64_t bad = 0;
	struct dirent *e;
	char path[300];
	DIR *dp;

	*total = 0;
	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(dp)) && *total < PROCS_MAX) {
		if (!e->d_name[0] || strspn(e->d_name, "0123456789") != strlen(e->d_name))
			continue;
		snprintf(path, sizeof(path), "proc/%s/maps", e->d_name);
		m = doc_open(d, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
		if (m >= 0)
			close(m);
		if (m == -ENOENT || m == -ESRCH)	/* gone meanwhile */
			continue;
		(*total)++;
		bad += m < 0;
	}
	closedir(dp);
	return bad;
}

void check_proc_files(const struct doctor *d, struct doc_check *c)
{
	FILE *f = doc_fopen(d, "proc/sysvipc/shm");
	int sysvipc_err = f ? 0 : -errno, self = stat_readable(d, "self");
	int pid1 = stat_readable(d, "1");
	uint64_t total, bad = maps_unreadable(d, &total);
	char head[256];

	if (f && (!fgets(head, sizeof(head), f) || !strstr(head, "shmid")))
		sysvipc_err = -EPROTO;
	if (f)
		fclose(f);
	if (sysvipc_err) {
		doc_status(c, DOC_INFO);
		doc_found(c, "/proc/sysvipc/shm: %s (shmkit lists with shmctl(SHM_STAT) "
			  "instead)", sysvipc_err == -EPROTO ? "not the kernel's table" :
			  doc_why(sysvipc_err));
		doc_fix(c, "mount /proc (the proc file system)");
	} else {
		doc_found(c, "/proc/sysvipc/shm readable");
	}
	if (!self || !pid1) {
		doc_status(c, DOC_WARN);
		doc_found(c, "; start times in /proc/PID/stat %s: a creator or a channel's "
			  "side that runs looks gone (ls shows orphans that are not, and a "
			  "peer may be taken for dead)", !self ? "unreadable" :
			  "of other processes hidden (pid 1's)");
		doc_fix(c, "%s%s", c->fix[0] ? "; " : "", !self ? "mount /proc" :
			"mount /proc without hidepid=, or run as root");
	} else {
		doc_found(c, "; start times readable (/proc/PID/stat)");
	}
	if (bad) {
		doc_status(c, DOC_INFO);
		doc_found(c, "; /proc/PID/maps of %llu of %llu processes not readable (another "
			  "user's, or root without the right to trace): ls and stat show \"?\" "
			  "for attachments they cannot see", (unsigned long long)bad,
			  (unsigned long long)total);
		doc_fix(c, "%srun ls and stat as root to see every attachment",
			c->fix[0] ? "; " : "");
	} else {
		doc_found(c, "; /proc/PID/maps of all %llu processes readable",
			  (unsigned long long)total);
	}
	doc_bool(c, "sysvipc_shm", !sysvipc_err);
	doc_bool(c, "start_times", self && pid1);
	doc_num(c, "processes", total);
	doc_num(c, "maps_unreadable", bad);
}
