/*
 * Inspection: the list of all segments (from /proc and from shmctl, which
 * must agree), who has a segment attached, and the state each is in.
 */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "header.h"
#include "parse.h"

static const struct shmkit_seg_info *find(const struct shmkit_seg_info *l, int n, int id)
{
	int i;

	for (i = 0; i < n; i++)
		if (l[i].shmid == id)
			return &l[i];
	return NULL;
}

/* list reports the same record as stat, from either source. */
static void list_matches_stat(void)
{
	char name[64];
	struct shmkit_ref a = t_key_ref(t_key());
	struct shmkit_ref b = { .kind = SHMKIT_REF_NAME, .name = t_name(name, sizeof(name), "ls") };
	struct shmkit_seg_info *proc = NULL, *ctl = NULL, st;
	const struct shmkit_seg_info *p, *c;
	int ids[2], n1, n2, k;

	ids[0] = t_track(shmkit_seg_create(&a, 12345, 0640, 0));
	ids[1] = t_track(shmkit_seg_create(&b, 777, SHMKIT_MODE_DEFAULT, SHMKIT_PERSIST));
	T_OK(ids[0]);
	T_OK(ids[1]);
	n1 = shmkit_seg_list(&proc);
	T_OK(n1);
	n2 = __shmkit_seg_list_from(SHMKIT_LIST_SHMCTL, &ctl, NULL, NULL);
	T_OK(n2);
	for (k = 0; k < 2; k++) {
		p = find(proc, n1, ids[k]);
		c = find(ctl, n2, ids[k]);
		T_ASSERT(p && c);
		T_OK(shmkit_seg_stat(ids[k], &st));
		T_EQ(p->key, st.key);
		T_EQ(c->key, st.key);
		T_EQ(p->size, st.size);
		T_EQ(c->size, st.size);
		T_EQ(p->alloc, st.alloc);
		T_EQ(p->data_size, st.data_size);
		T_EQ(c->data_size, st.data_size);
		T_EQ(p->mode, st.mode);
		T_EQ(c->mode, st.mode);
		T_EQ(p->uid, st.uid);
		T_EQ(p->cuid, st.cuid);
		T_EQ(p->cpid, st.cpid);
		T_EQ(c->cpid, st.cpid);
		T_EQ(p->nattch, st.nattch);
		T_EQ(p->ctime, st.ctime);
		T_EQ(p->flags, st.flags);
		T_EQ(c->flags, st.flags);
		T_EQ(p->state, st.state);
		T_ASSERT(strcmp(p->name, st.name) == 0);
	}
	p = find(proc, n1, ids[1]);
	T_ASSERT(strcmp(p->name, name) == 0);
	T_ASSERT(p->flags & SHMKIT_INFO_PERSIST);
	T_EQ(p->data_size, 777);
	T_EQ(find(proc, n1, ids[0])->mode, 0640);
	shmkit_free(proc);
	shmkit_free(ctl);
	T_OK(shmkit_seg_remove(ids[0]));
	T_OK(shmkit_seg_remove(ids[1]));
}

static void parsers(void)
{
	struct shmkit_seg_info i;

	T_OK(__shmkit_parse_sysvipc_row(
		"1234567890      42       1600                  4224  100  200      3     0     0     0     0 1700000000 1700000001 1700000002                  4096                     0\n",
		&i));
	T_EQ(i.key, 1234567890);
	T_EQ(i.shmid, 42);
	T_EQ(i.mode, 0600);
	T_ASSERT(i.flags & SHMKIT_INFO_REMOVING); /* 01000 is SHM_DEST */
	T_EQ(i.size, 4224);
	T_EQ(i.cpid, 100);
	T_EQ(i.lpid, 200);
	T_EQ(i.nattch, 3);
	T_EQ(i.atime, 1700000000);
	T_EQ(i.ctime, 1700000002);
	/* negative keys are printed signed by the kernel */
	T_OK(__shmkit_parse_sysvipc_row("-1 7 600 1 1 1 0 0 0 0 0 0 0 0", &i));
	T_EQ((uint32_t)i.key, 0xffffffffu);
	T_EQ(__shmkit_parse_sysvipc_row("       key      shmid perms size", &i), -EINVAL);
	T_EQ(__shmkit_parse_sysvipc_row("", &i), -EINVAL);
	T_EQ(__shmkit_parse_sysvipc_row("1 -3 600 1 1 1 0 0 0 0 0 0 0 0", &i), -EINVAL);
	T_EQ(__shmkit_parse_sysvipc_row("99999999999 3 600 1 1 1 0 0 0 0 0 0 0 0", &i), -EINVAL);

	T_EQ(__shmkit_parse_maps_line(
		"7f0c2a1b4000-7f0c2a1b5000 rw-s 00000000 00:01 32769                      /SYSV00001234\n"),
	     32769);
	T_EQ(__shmkit_parse_maps_line(
		"7f0c2a1b4000-7f0c2a1b5000 r--s 00000000 00:01 5    /SYSV00000000 (deleted)\n"), 5);
	T_EQ(__shmkit_parse_maps_line(
		"7f0c2a1b4000-7f0c2a1b5000 r-xp 00000000 08:01 5 /usr/lib/libc.so.6\n"), -1);
	T_EQ(__shmkit_parse_maps_line(
		"7f0c2a1b4000-7f0c2a1b5000 rw-s 00000000 08:01 5 /SYSV00001234\n"), -1);
	T_EQ(__shmkit_parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0\n"), -1);
	T_EQ(__shmkit_parse_maps_line(""), -1);
}

/* This process's name as the kernel has it (not "inspect" under valgrind). */
static const char *my_comm(void)
{
	static char comm[32];
	FILE *f = fopen("/proc/self/comm", "r");

	T_ASSERT(f && fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return comm;
}

/* Attached processes come from /proc/PID/maps, with their command names. */
static void attached_procs(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	struct t_holder h;
	struct shmkit_proc *procs = NULL;
	struct shmkit_seg_info info;
	struct shmkit_map mine;
	int n, partial = -1, i, seen_child = 0, seen_me = 0;
	pid_t child;

	int shmid = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, 0));

	T_OK(shmid);
	t_hold_start(&h, shmid);
	child = h.pid;
	T_OK(shmkit_seg_attach(shmid, 0, &mine));
	/* a second mapping of the same segment in one process is listed once */
	T_OK(shmat(shmid, NULL, SHM_RDONLY) == (void *)-1 ? -errno : 0);

	n = shmkit_seg_procs(shmid, &procs, &partial);
	T_OK(n);
	T_ASSERT(partial == 0 || partial == 1); /* some maps may be closed even to root */
	for (i = 0; i < n; i++) {
		T_EQ(procs[i].shmid, shmid);
		if (procs[i].pid == child)
			seen_child++;
		if (procs[i].pid == getpid()) {
			seen_me++;
			T_ASSERT(strcmp(procs[i].comm, my_comm()) == 0);
		}
	}
	T_EQ(seen_child, 1);
	T_EQ(seen_me, 1);
	T_EQ(n, 2);
	shmkit_free(procs);

	/* the system-wide form includes the same pairs */
	n = shmkit_seg_procs(-1, &procs, &partial);
	T_OK(n);
	for (i = 0, seen_child = 0; i < n; i++)
		if (procs[i].shmid == shmid && procs[i].pid == child)
			seen_child++;
	T_EQ(seen_child, 1);
	shmkit_free(procs);

	T_OK(shmkit_seg_stat(shmid, &info));
	T_EQ(info.nattch, 3);
	T_EQ(info.state, SHMKIT_STATE_INUSE);
	t_hold_stop(&h);
	T_OK(shmkit_seg_detach(&mine));
	T_OK(shmkit_seg_remove(shmid));
	n = shmkit_seg_procs(shmid, &procs, &partial);
	T_EQ(n, 1); /* the extra shmat mapping of this process is left */
	shmkit_free(procs);
}

static int make_and_exit(void *arg)
{
	const struct shmkit_ref *ref = arg;
	return shmkit_seg_create(ref, 100, SHMKIT_MODE_DEFAULT, 0) < 0;
}

static int make_and_linger(void *arg)
{
	const struct shmkit_ref *ref = arg;
	if (shmkit_seg_create(ref, 100, SHMKIT_MODE_DEFAULT, 0) < 0)
		return 1;
	pause();
	return 0;
}

static int state_of(const struct shmkit_ref *ref)
{
	struct shmkit_seg_info info;
	int id = shmkit_seg_open(ref);

	T_OK(id);
	T_OK(shmkit_seg_stat(id, &info));
	return info.state;
}

/*
 * Orphans: nobody attached, creator and last user gone. A zombie creator
 * is gone; a recycled pid (same number, other start time) is gone.
 */
static void orphans(void)
{
	char name[64];
	struct shmkit_ref raw = t_key_ref(t_key());
	struct shmkit_ref named = { .kind = SHMKIT_REF_NAME, .name = t_name(name, sizeof(name), "orph") };
	struct shmkit_ref zraw = t_key_ref(t_key());
	struct t_holder h;
	pid_t pid;
	siginfo_t si;
	int id;

	/* creator exited: orphan, raw and named alike */
	T_EQ(t_wait(t_fork(make_and_exit, &raw)), 0);
	T_EQ(state_of(&raw), SHMKIT_STATE_ORPHAN);
	T_EQ(t_wait(t_fork(make_and_exit, &named)), 0);
	T_EQ(state_of(&named), SHMKIT_STATE_ORPHAN);

	/* attached by a live process: in use, never an orphan */
	t_hold_start(&h, shmkit_seg_open(&named));
	T_EQ(state_of(&named), SHMKIT_STATE_INUSE);
	t_hold_stop(&h);

	/* creator alive but idle; then a zombie: gone */
	pid = t_fork(make_and_linger, &zraw);
	while (shmkit_seg_open(&zraw) < 0)
		usleep(1000);
	T_EQ(state_of(&zraw), SHMKIT_STATE_IDLE);
	kill(pid, SIGKILL);
	memset(&si, 0, sizeof(si));
	T_EQ(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0); /* leave it a zombie */
	T_EQ(state_of(&zraw), SHMKIT_STATE_ORPHAN);
	T_EQ(t_wait(pid), 128 + SIGKILL);

	/*
	 * A recycled pid: the header says pid 1 (alive), but with another start
	 * time. That is not our creator.
	 */
	id = shmkit_seg_open(&named);
	{
		struct __shmkit_hdr *hdr = shmat(id, NULL, 0);
		T_ASSERT(hdr != (void *)-1);
		hdr->creator_pid = 1;
		hdr->creator_start += 12345;
		shmdt(hdr);
	}
	T_EQ(state_of(&named), SHMKIT_STATE_ORPHAN);
	T_OK(shmkit_seg_remove(id));
	T_OK(shmkit_seg_remove(shmkit_seg_open(&raw)));
	T_OK(shmkit_seg_remove(shmkit_seg_open(&zraw)));
}

int main(void)
{
	list_matches_stat();
	parsers();
	attached_procs();
	orphans();
	return 0;
}
