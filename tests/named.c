/*
 * Named segments: the header records the name, opening by name verifies
 * it, and neither a hash collision nor a foreign segment at the name's key
 * is ever attached silently.
 */
#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"

static void create_and_verify(void)
{
	char name[64];
	struct shmkit_ref ref = t_name_ref(t_name(name, sizeof(name), "basic"));
	struct shmkit_seg_info info;
	struct shmkit_map m;
	int id;

	id = t_track(shmkit_seg_create(&ref, 1000, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_EQ(shmkit_seg_open(&ref), id);
	T_EQ(shmkit_seg_create(&ref, 1000, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(shmkit_seg_create(&ref, 1000, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);

	T_OK(shmkit_seg_stat(id, &info));
	T_EQ(info.key, shmkit_name_key(name));
	T_ASSERT(info.flags & SHMKIT_INFO_NAMED);
	T_ASSERT(!(info.flags & SHMKIT_INFO_PERSIST));
	T_ASSERT(strcmp(info.name, name) == 0);
	T_EQ(info.data_size, 1000);
	T_ASSERT(info.size > 1000); /* the header comes on top */
	T_ASSERT(info.flags & SHMKIT_INFO_CREATOR_ALIVE);

	T_OK(shmkit_seg_attach(id, 0, &m));
	T_EQ(m.named, 1);
	T_EQ(m.size, 1000);
	T_ASSERT((char *)m.data > (char *)m.base);
	T_EQ((uintptr_t)m.data % 64, 0);
	T_ASSERT(strcmp(m.name, name) == 0);
	/* all the usable bytes are writable, the header is out of their way */
	memset(m.data, 0x5a, m.size);
	T_OK(shmkit_seg_detach(&m));
	T_EQ(shmkit_seg_open(&ref), id);
	T_OK(shmkit_seg_remove(id));
}

static void persistent_flag(void)
{
	char name[64];
	struct shmkit_ref ref = t_name_ref(t_name(name, sizeof(name), "keep"));
	struct shmkit_seg_info info;
	int id = t_track(shmkit_seg_create(&ref, 64, SHMKIT_MODE_DEFAULT, SHMKIT_PERSIST));

	T_OK(id);
	T_OK(shmkit_seg_stat(id, &info));
	T_ASSERT(info.flags & SHMKIT_INFO_PERSIST);
	T_OK(shmkit_seg_remove(id));
}

/* Two names, one key (FNV-1a collision found offline, checked in key.c). */
static void hash_collision(void)
{
	struct shmkit_ref a = t_name_ref("c522789"), b = t_name_ref("c739192");
	int id;

	T_EQ(shmkit_name_key(a.name), shmkit_name_key(b.name));
	t_track_key(shmkit_name_key(a.name));
	id = t_track(shmkit_seg_create(&a, 128, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(id);
	T_EQ(shmkit_seg_open(&b), -SHMKIT_ECLASH);
	T_EQ(shmkit_seg_create(&b, 128, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ECLASH);
	T_EQ(shmkit_seg_create(&b, 128, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);
	T_EQ(shmkit_seg_open(&a), id);
	T_OK(shmkit_seg_remove(id));
}

/* Someone else's segment sits at the name's key: not ours to attach. */
static void foreign_at_key(void)
{
	char name[64];
	struct shmkit_ref ref = t_name_ref(t_name(name, sizeof(name), "foreign"));
	struct shmkit_ref raw = { .kind = SHMKIT_REF_KEY, .key = shmkit_name_key(name) };
	struct shmkit_map m;
	int id = t_track(shmkit_seg_create(&raw, 4096, SHMKIT_MODE_DEFAULT, 0));

	T_OK(id);
	T_EQ(shmkit_seg_open(&ref), -SHMKIT_ECLASH);
	T_EQ(shmkit_seg_create(&ref, 100, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ECLASH);

	/* a raw segment whose first bytes look like a header is still raw */
	T_OK(shmkit_seg_attach(id, 0, &m));
	memcpy(m.data, "SHMK", 4);
	T_OK(shmkit_seg_detach(&m));
	T_OK(shmkit_seg_attach(id, 0, &m));
	T_EQ(m.named, 0);
	T_EQ(m.size, 4096);
	T_ASSERT(m.data == m.base);
	T_OK(shmkit_seg_detach(&m));
	T_OK(shmkit_seg_remove(id));
}

/* A header someone scribbled over: never trusted, never a crash. */
static void damaged_header(void)
{
	char name[64];
	struct shmkit_ref ref = t_name_ref(t_name(name, sizeof(name), "damaged"));
	struct shmkit_seg_info info;
	struct shmkit_map m;
	unsigned char *h;
	int id = t_track(shmkit_seg_create(&ref, 256, SHMKIT_MODE_DEFAULT, 0));
	int field;

	T_OK(id);
	/* offsets: version 4, hdr_size 6, key 12, data_size 16, name 40 */
	static const int offsets[] = { 4, 6, 12, 16, 23, 40, 41 };
	for (field = 0; field < (int)(sizeof(offsets) / sizeof(offsets[0])); field++) {
		unsigned char saved;
		h = shmat(id, NULL, 0);
		T_ASSERT(h != (void *)-1);
		saved = h[offsets[field]];
		h[offsets[field]] ^= 0xff;
		T_EQ(shmkit_seg_open(&ref), -SHMKIT_EBADHDR);
		T_OK(shmkit_seg_stat(id, &info));
		T_ASSERT(!(info.flags & SHMKIT_INFO_NAMED));
		/* attach still works: the bytes are then all the user's */
		T_OK(shmkit_seg_attach(id, 0, &m));
		T_EQ(m.named, 0);
		T_OK(shmkit_seg_detach(&m));
		h[offsets[field]] = saved;
		T_EQ(shmkit_seg_open(&ref), id);
		shmdt(h);
	}
	T_OK(shmkit_seg_remove(id));
}

struct racer {
	const char *name;
	int fd;
};

static int race_create(void *arg)
{
	struct racer *r = arg;
	struct shmkit_ref ref = t_name_ref(r->name);
	struct shmkit_map m;
	int id = shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, 0);

	if (id < 0)
		t_fail(__FILE__, __LINE__, "create: %s", shmkit_strerror(id));
	if ((id = shmkit_seg_attach(id, 0, &m)) < 0)
		t_fail(__FILE__, __LINE__, "attach: %s", shmkit_strerror(id));
	if (!m.named || strcmp(m.name, r->name) != 0)
		t_fail(__FILE__, __LINE__, "header missing or wrong: '%s'", m.name);
	id = m.shmid;
	shmkit_seg_detach(&m);
	return write(r->fd, &id, sizeof(id)) == sizeof(id) ? 0 : 1;
}

/* Many processes create-or-open one name at once: all get the one segment,
 * with its header, and none mistakes the fresh one for a foreign segment. */
static void concurrent_create(void)
{
	enum { N = 8, ROUNDS = 20 };
	int round, i, fds[2];

	T_ASSERT(pipe(fds) == 0);
	for (round = 0; round < ROUNDS; round++) {
		char name[64];
		struct racer r = { t_name(name, sizeof(name), "race"), fds[1] };
		pid_t pids[N];
		int ids[N];

		for (i = 0; i < N; i++)
			pids[i] = t_fork(race_create, &r);
		for (i = 0; i < N; i++)
			T_EQ(t_wait(pids[i]), 0);
		for (i = 0; i < N; i++)
			T_EQ(read(fds[0], &ids[i], sizeof(ids[i])), sizeof(ids[i]));
		for (i = 1; i < N; i++)
			T_EQ(ids[i], ids[0]);
		T_OK(shmkit_seg_remove(ids[0]));
	}
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	create_and_verify();
	persistent_flag();
	hash_collision();
	foreign_at_key();
	damaged_header();
	concurrent_create();
	return 0;
}
