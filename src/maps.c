/*
 * Who has a segment attached. The kernel does not say; each process's
 * /proc/PID/maps does: a System V mapping shows as "/SYSV<key>" with the
 * shmid in the inode column.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse.h"
#include "proc.h"
#include "shmkit.h"
#include "util.h"

/*
 * Parses one maps line. Returns the shmid if the line maps a System V
 * segment, else -1. Format: start-end perms offset major:minor inode path.
 */
int __shmkit_parse_maps_line(const char *line)
{
	unsigned long long inode;
	char dev[16], path[32];

	if (sscanf(line, "%*s %*s %*s %15s %llu %31s", dev, &inode, path) != 3)
		return -1;
	/* System V segments live on the kernel's internal shm mount (major 0) */
	if (strncmp(dev, "00:", 3) != 0)
		return -1;
	if (strncmp(path, "/SYSV", 5) != 0 || strlen(path) != 13)
		return -1;
	if (inode > INT32_MAX)
		return -1;
	return (int)inode;
}

struct procs {
	struct shmkit_proc *items;
	size_t count, cap;
};

static int add(struct procs *p, int shmid, pid_t pid)
{
	size_t i;

	/* a process may map one segment more than once: list it once */
	for (i = p->count; i > 0 && p->items[i - 1].pid == pid; i--)
		if (p->items[i - 1].shmid == shmid)
			return 0;
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		void *n = realloc(p->items, cap * sizeof(*p->items));
		if (!n)
			return -ENOMEM;
		p->items = n;
		p->cap = cap;
	}
	p->items[p->count].shmid = shmid;
	p->items[p->count].pid = pid;
	__shmkit_proc_comm(pid, p->items[p->count].comm);
	p->count++;
	return 0;
}

/*
 * A shmid means something only within one IPC namespace: a process in
 * another one (a container, or unshare --ipc) may map a segment with the
 * same number. 1 if pid shares ours, 0 if not or gone, -1 if we may not
 * tell (then we may not read its maps either).
 */
static int same_ipc_ns(pid_t pid, const struct stat *mine)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	return st.st_dev == mine->st_dev && st.st_ino == mine->st_ino;
}

static int scan_pid(struct procs *p, pid_t pid, int want, const struct stat *ns)
{
	char path[64], line[4096];
	FILE *f;
	int err = 0, id, same = ns ? same_ipc_ns(pid, ns) : 1;

	if (same <= 0)
		return same < 0; /* unknown is partial; elsewhere is not ours */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : 1; /* gone is fine; unreadable is partial */
	while (fgets(line, sizeof(line), f)) {
		id = __shmkit_parse_maps_line(line);
		if (id >= 0 && (want < 0 || id == want) && (err = add(p, id, pid)) < 0)
			break;
	}
	fclose(f);
	return err;
}

SHMKIT_EXPORT
int shmkit_seg_procs(int shmid, struct shmkit_proc **out, int *partial)
{
	struct procs p = { 0 };
	struct dirent *d;
	struct stat ns;
	DIR *dir;
	int r = 0, have_ns;

	if (!out)
		return -EINVAL;
	/* without namespace files (old kernels) every process is ours */
	have_ns = stat("/proc/self/ns/ipc", &ns) == 0;
	if (partial)
		*partial = 0;
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		char *end;
		long pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		r = scan_pid(&p, (pid_t)pid, shmid, have_ns ? &ns : NULL);
		if (r < 0)
			break;
		if (r > 0 && partial)
			*partial = 1;
		r = 0;
	}
	closedir(dir);
	if (r < 0) {
		free(p.items);
		return r;
	}
	*out = p.items;
	return (int)p.count;
}
