#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* Field 22 of /proc/PID/stat counted from the state field (field 3). */
#define STAT_STARTTIME_AFTER_STATE 19

/*
 * /proc/PID/stat, opened relative to a descriptor of /proc: the same file
 * to the kernel. But qemu-user (aarch64 builds run on x86, as in tests
 * and containers) answers an absolute path naming its own process,
 * /proc/self/stat or /proc/<its pid>/stat, with a text of its own, whose
 * start time is when qemu began (and in a forked child, its parent's).
 * A process would then sign its channel side with a start time no other
 * process reads for it, and its peer would take it for dead. A relative
 * path qemu 7.2 passes on to the kernel.
 */
static int read_stat(pid_t pid, char *buf, size_t cap)
{
	char name[32];
	int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n;

	if (dir < 0)
		return -errno;
	snprintf(name, sizeof(name), "%d/stat", (int)pid);
	n = __shmkit_read_file_at(dir, name, buf, cap);
	close(dir);
	return n;
}

int __shmkit_proc_start(pid_t pid, uint64_t *start)
{
	char buf[1024], *p, *end;
	int i;

	if (pid <= 0)
		return -ESRCH;
	if (read_stat(pid, buf, sizeof(buf)) < 0)
		return -ESRCH;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -ESRCH;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return -ESRCH;
	for (i = 0; i < STAT_STARTTIME_AFTER_STATE; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -ESRCH;
		p++;
	}
	end = strchr(p, ' ');
	if (end)
		*end = '\0';
	return __shmkit_parse_u64(p, start) < 0 ? -ESRCH : 0;
}

int __shmkit_proc_is(pid_t pid, uint64_t start)
{
	uint64_t now;

	return __shmkit_proc_start(pid, &now) == 0 && now == start;
}

/*
 * The boot time, from /proc/stat: 8 KiB to read and scan at every
 * judgement of a pid was a tenth of what shmkit top spent reading 1,000
 * channels. It moves only when the wall clock is set, so a reading is
 * kept for BOOT_TIME_KEEP_NS. Two threads may both read it; either
 * value is right.
 */
#define BOOT_TIME_KEEP_NS 1000000000u

static int64_t boot_time(void)
{
	static _Atomic int64_t kept = -1;
	static _Atomic uint64_t kept_until;
	char buf[8192], *p;
	uint64_t bt, now = __shmkit_now_ns();

	if (now < atomic_load(&kept_until) && atomic_load(&kept) >= 0)
		return atomic_load(&kept);
	if (__shmkit_read_file("/proc/stat", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nbtime ");
	if (!p)
		return -1;
	p += 7;
	p[strcspn(p, "\n")] = '\0';
	if (__shmkit_parse_u64(p, &bt) < 0 || bt > INT64_MAX)
		return -1;
	atomic_store(&kept, (int64_t)bt);
	atomic_store(&kept_until, now + BOOT_TIME_KEEP_NS);
	return (int64_t)bt;
}

int __shmkit_proc_alive_before(pid_t pid, int64_t t)
{
	uint64_t start;
	int64_t boot;
	long hz = sysconf(_SC_CLK_TCK);

	if (__shmkit_proc_start(pid, &start) < 0)
		return 0;
	boot = boot_time();
	if (boot < 0 || hz <= 0 || t <= 0)
		return 1; /* alive, and nothing to compare against */
	/* btime is whole seconds: allow one second of rounding either way */
	return boot + (int64_t)(start / (uint64_t)hz) <= t + 1;
}

void __shmkit_proc_comm(pid_t pid, char comm[16])
{
	char path[64], buf[64];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (__shmkit_read_file(path, buf, sizeof(buf)) <= 0) {
		strcpy(comm, "?");
		return;
	}
	len = strcspn(buf, "\n");
	if (len > 15)
		len = 15;
	memcpy(comm, buf, len);
	comm[len] = '\0';
}
