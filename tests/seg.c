/*
 * Segments through the library: create, exclusive create, open, attach
 * read-write and read-only, detach, remove, and what stat reports.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void create_open_excl(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	int id, again;

	T_EQ(shmkit_seg_open(&ref), -ENOENT);
	id = t_track(shmkit_seg_create(&ref, 5000, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	/* create-or-open returns the same segment; exclusive refuses */
	again = shmkit_seg_create(&ref, 5000, SHMKIT_MODE_DEFAULT, 0);
	T_EQ(again, id);
	T_EQ(shmkit_seg_create(&ref, 5000, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);
	T_EQ(shmkit_seg_open(&ref), id);
	/* opening with a larger size than exists is a clear error */
	T_EQ(shmkit_seg_create(&ref, 9000, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ESMALLER);
	T_OK(shmkit_seg_remove(id));
	T_EQ(shmkit_seg_open(&ref), -ENOENT);
}

static void stat_fields(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	struct shmkit_seg_info info;
	long page = sysconf(_SC_PAGESIZE);
	time_t before = time(NULL);
	int id;

	id = t_track(shmkit_seg_create(&ref, 100, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.shmid, id);
	T_EQ(info.key, ref.key);
	T_EQ(info.size, 100);
	T_EQ(info.data_size, 100);
	/* the kernel allocates whole pages: the notes' 4 KiB point */
	T_EQ(info.alloc, page);
	T_EQ(info.mode, 0600);
	T_EQ(info.uid, getuid());
	T_EQ(info.cuid, getuid());
	T_EQ(info.gid, getgid());
	T_EQ(info.cgid, getgid());
	T_EQ(info.nattch, 0);
	T_EQ(info.cpid, getpid());
	T_EQ(info.atime, 0);
	T_EQ(info.dtime, 0);
	T_ASSERT(info.ctime >= before - 1 && info.ctime <= time(NULL) + 1);
	T_ASSERT(!(info.flags & SHMKIT_INFO_NAMED));
	T_ASSERT(!(info.flags & SHMKIT_INFO_REMOVING));
	T_ASSERT(info.flags & SHMKIT_INFO_CREATOR_ALIVE);
	T_EQ(info.state, SHMKIT_STATE_IDLE);
	T_EQ(info.name[0], '\0');
	T_OK(shmkit_seg_remove(id));
	T_EQ(shmkit_seg_stat(id, &info), -EINVAL);
}

static void modes(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	struct shmkit_seg_info info;
	int id;

	id = t_track(shmkit_seg_create(&ref, 64, 0640, 0));
	T_OK(id);
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.mode, 0640);
	T_OK(shmkit_seg_remove(id));
	ref = t_key_ref(t_key());
	id = t_track(shmkit_seg_create(&ref, 64, 0, 0));
	T_OK(id);
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.mode, 0);
	T_OK(shmkit_seg_remove(id));
	T_EQ(shmkit_seg_create(&ref, 64, 01000, 0), -EINVAL);
	T_EQ(shmkit_seg_create(&ref, 64, -5, 0), -EINVAL);
	T_EQ(shmkit_seg_create(&ref, 64, 0600, 0x80), -EINVAL);
	/* persistence lives in a header: raw segments cannot have it */
	T_EQ(shmkit_seg_create(&ref, 64, 0600, SHMKIT_PERSIST), -EINVAL);
	T_EQ(shmkit_seg_open(&ref), -ENOENT);
}

static void sizes(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	struct shmkit_limits lim;

	T_OK(shmkit_limits(&lim));
	T_ASSERT(lim.shmmax > 0 && lim.shmall > 0 && lim.shmmni > 0);
	T_EQ(lim.page_size, sysconf(_SC_PAGESIZE));
	T_EQ(shmkit_seg_create(&ref, 0, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ESHMMIN);
	if (lim.shmmax < SIZE_MAX)
		T_EQ(shmkit_seg_create(&ref, (size_t)lim.shmmax + 1, SHMKIT_MODE_DEFAULT, 0),
		     -SHMKIT_ESHMMAX);
	/* more pages than shmall allows in total can never fit */
	if (lim.shmall < SIZE_MAX / lim.page_size && lim.shmall * lim.page_size < lim.shmmax)
		T_EQ(shmkit_seg_create(&ref, (size_t)(lim.shmall + 1) * lim.page_size,
				       SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ESHMALL);
	T_EQ(shmkit_seg_open(&ref), -ENOENT);
}

static void attach_rw_ro(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	struct shmkit_map rw, ro;
	struct shmkit_seg_info info;
	int id;

	id = t_track(shmkit_seg_create(&ref, 10000, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_OK(shmkit_seg_attach(id, 0, &rw));
	T_EQ(rw.shmid, id);
	T_EQ(rw.size, 10000);
	T_ASSERT(rw.data == rw.base);
	T_EQ(rw.named, 0);
	memset(rw.data, 0xab, rw.size);
	T_OK(shmkit_seg_attach(id, SHMKIT_RDONLY, &ro));
	T_ASSERT(ro.data != rw.data);
	T_EQ(((unsigned char *)ro.data)[9999], 0xab);
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.nattch, 2);
	T_EQ(info.state, SHMKIT_STATE_INUSE);
	T_ASSERT(info.atime > 0);
	T_EQ(info.lpid, getpid());

	T_OK(shmkit_seg_detach(&ro));
	T_ASSERT(ro.base == NULL);
	T_EQ(shmkit_seg_detach(&ro), -EINVAL);
	/* marked for removal while attached: still usable, key gone */
	T_OK(shmkit_seg_remove(id));
	T_OK(shmkit_seg_stat(id, &info));
	T_ASSERT(info.flags & SHMKIT_INFO_REMOVING);
	T_EQ(info.state, SHMKIT_STATE_REMOVING);
	T_EQ(info.key, 0);
	T_EQ(shmkit_seg_open(&ref), -ENOENT);
	((unsigned char *)rw.data)[0] = 1;
	T_OK(shmkit_seg_detach(&rw));
	/* the last detach freed it */
	T_EQ(shmkit_seg_stat(id, &info), -EINVAL);
	T_EQ(shmkit_seg_attach(id, 0, &rw), -EINVAL);
	T_EQ(shmkit_seg_attach(-1, 0, &rw), -EINVAL);
	T_EQ(shmkit_seg_attach(id, 0x10, &rw), -EINVAL);
}

static int write_ro(void *arg)
{
	struct shmkit_map m;
	int id = *(int *)arg;

	if (shmkit_seg_attach(id, SHMKIT_RDONLY, &m) < 0)
		return 3;
	signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would report exit 1 */
	((volatile char *)m.data)[0] = 1; /* must fault */
	return 0;
}

/* A read-only attach really is read-only: writing through it faults. */
static void readonly_faults(void)
{
	struct shmkit_ref ref = t_key_ref(t_key());
	int id = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, 0));

	T_OK(id);
	T_EQ(t_wait(t_fork(write_ro, &id)), 128 + SIGSEGV);
	T_OK(shmkit_seg_remove(id));
}

static void paths(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_PATH, .proj = 42, .path = t_tmpfile("seg") };
	struct shmkit_seg_info info;
	key_t expect = t_track_key(ftok(ref.path, 42));
	int id;

	id = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(id);
	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.key, expect);
	T_OK(shmkit_seg_remove(id));
	ref.path = "/nonexistent/shmkit";
	T_EQ(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, 0), -ENOENT);
}

int main(void)
{
	create_open_excl();
	stat_fields();
	modes();
	sizes();
	attach_rw_ro();
	readonly_faults();
	paths();
	return 0;
}
