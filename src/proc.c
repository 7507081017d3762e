#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/* Field 22 of /proc/PID/stat counted from the state field (field 3). */
#define STAT_STARTTIME_AFTER_STATE 19

int __shmkit_proc_start(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], *p, *end;
	int i, n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = __shmkit_read_file(path, buf, sizeof(buf));
	if (n < 0)
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

static int64_t boot_time(void)
{
	char buf[8192], *p;
	uint64_t bt;

	if (__shmkit_read_file("/proc/stat", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nbtime ");
	if (!p)
		return -1;
	p += 7;
	p[strcspn(p, "\n")] = '\0';
	return __shmkit_parse_u64(p, &bt) < 0 ? -1 : (int64_t)bt;
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
