/*
 * shmkit mk: creates the segment asked for and prints its shmid alone.
 *
 * Proves, checking each result with the library (shmkit_seg_stat): a key
 * from -k (hex and decimal), -p PATH[:PROJ] (= ftok), -n NAME (= the name's
 * hash, a header, persistent) or none (a random key); the exact byte count
 * for 4096, 64K, 1M (usable bytes for -n); mode 0600 by default and -m
 * honoured; -x refuses an existing key and changes nothing; without -x the
 * existing segment's shmid comes back; --help prints usage on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"


/* stdout of a successful mk: digits and one newline, nothing else. */
#define SHMID_OF(out) shmid_of(__FILE__, __LINE__, out)
static int shmid_of(const char *file, int line, const char *out)
{
	size_t digits = strspn(out, "0123456789");

	if (digits == 0 || digits > 10 || strcmp(out + digits, "\n") != 0)
		t_fail(file, line, "mk printed '%s', expected a shmid and a newline", out);
	return t_track(atoi(out));
}

/* exactly one line on stderr, "shmkit: <what>: <why>" */
#define ONE_ERROR_LINE(err) one_error_line(__FILE__, __LINE__, err)
static void one_error_line(const char *file, int line, const char *err)
{
	const char *nl = strchr(err, '\n');

	if (strncmp(err, "shmkit: ", 8) != 0 || !nl || nl[1] != '\0')
		t_fail(file, line, "expected one 'shmkit: ' line on stderr, got: '%s'", err);
}

/* The segment exists under shmid with this key, size and mode, and raw. */
static void check_raw(int shmid, key_t key, uint64_t size, unsigned mode)
{
	struct shmkit_seg_info info;

	T_OK(shmkit_seg_stat(shmid, &info));
	T_EQ(info.shmid, shmid);
	T_EQ((uint32_t)info.key, (uint32_t)key);
	T_EQ(info.size, size);
	T_EQ(info.data_size, size);
	T_EQ(info.mode, mode);
	T_EQ(info.flags & (SHMKIT_INFO_NAMED | SHMKIT_INFO_PERSIST), 0);
	/* the kernel agrees: the key leads to this very shmid */
	T_EQ(shmget(key, 0, 0), shmid);
}

static void with_key(void)
{
	char ks[16], dec[16], *out, *err;
	key_t key = t_key(), key2 = t_key();
	int shmid;

	t_key_text(ks, sizeof(ks), key);
	T_EQ(t_cli(&out, &err, "mk", "-s", "4096", "-k", ks, NULL), 0);
	T_EQ(err[0], '\0');
	shmid = SHMID_OF(out);
	check_raw(shmid, key, 4096, 0600);
	free(out);
	free(err);

	/* decimal key, long options, -m honoured */
	snprintf(dec, sizeof(dec), "%u", (unsigned)key2);
	T_EQ(t_cli(&out, &err, "mk", "--size", "64K", "--key", dec, "--mode", "0640", NULL), 0);
	T_EQ(err[0], '\0');
	shmid = SHMID_OF(out);
	check_raw(shmid, key2, 65536, 0640);
	free(out);
	free(err);
}

static void with_path(void)
{
	const char *path = t_tmpfile("cli-mk");
	char arg[128], *out, *err;
	int shmid;

	/* PATH alone: project id 1; -x so a stray ftok collision is never ours to remove */
	T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "1M", "-p", path, NULL), 0);
	T_EQ(err[0], '\0');
	shmid = SHMID_OF(out);
	check_raw(shmid, ftok(path, 1), 1048576, 0600);
	free(out);
	free(err);

	snprintf(arg, sizeof(arg), "%s:7", path);
	T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "4096", "-p", arg, "-m", "644", NULL), 0);
	T_EQ(err[0], '\0');
	shmid = SHMID_OF(out);
	check_raw(shmid, ftok(path, 7), 4096, 0644);
	T_ASSERT(ftok(path, 7) != ftok(path, 1));
	free(out);
	free(err);
}

static void with_name(void)
{
	char name[64], *out, *err;
	struct shmkit_seg_info info;
	struct shmkit_map map;
	int shmid;

	t_name(name, sizeof(name), "mk");
	T_EQ(t_cli(&out, &err, "mk", "-s", "64K", "-n", name, NULL), 0);
	T_EQ(err[0], '\0');
	shmid = SHMID_OF(out);
	free(out);
	free(err);

	T_OK(shmkit_seg_stat(shmid, &info));
	T_EQ((uint32_t)info.key, (uint32_t)shmkit_name_key(name));
	T_ASSERT(info.flags & SHMKIT_INFO_NAMED);
	T_ASSERT(info.flags & SHMKIT_INFO_PERSIST);	/* mk -n: kept by gc */
	T_ASSERT(strcmp(info.name, name) == 0);
	T_EQ(info.data_size, 65536);		/* usable bytes, as asked */
	T_ASSERT(info.size > info.data_size);	/* plus the header */
	T_EQ(info.mode, 0600);
	T_EQ(shmget(shmkit_name_key(name), 0, 0), shmid);

	/* the library sees the same: named, 64K usable */
	T_OK(shmkit_seg_attach(shmid, SHMKIT_RDONLY, &map));
	T_EQ(map.named, 1);
	T_EQ(map.size, 65536);
	T_ASSERT(strcmp(map.name, name) == 0);
	T_OK(shmkit_seg_detach(&map));
}

static void random_key(void)
{
	struct shmkit_seg_info a, b;
	char *out, *err;
	int id1, id2;

	T_EQ(t_cli(&out, &err, "mk", "-s", "4096", NULL), 0);
	T_EQ(err[0], '\0');
	id1 = SHMID_OF(out);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "mk", "-s", "4096", "-m", "0640", NULL), 0);
	id2 = SHMID_OF(out);
	free(out);
	free(err);

	T_OK(shmkit_seg_stat(id1, &a));
	T_OK(shmkit_seg_stat(id2, &b));
	T_ASSERT(id1 != id2);
	/* a real key (not IPC_PRIVATE), findable again, a fresh one each time */
	T_ASSERT(a.key != IPC_PRIVATE && b.key != IPC_PRIVATE);
	T_ASSERT(a.key != b.key);
	T_EQ(shmget(a.key, 0, 0), id1);
	T_EQ(a.size, 4096);
	T_EQ(a.mode, 0600);
	T_EQ(b.mode, 0640);
}

/* SIZE and its suffixes: exact bytes, powers of 1024 */
static void sizes(void)
{
	static const struct { const char *text; uint64_t bytes; } cases[] = {
		{ "4096", 4096 }, { "1", 1 }, { "100", 100 }, { "64K", 65536 },
		{ "2k", 2048 }, { "1M", 1048576 },
	};
	char ks[16], *out, *err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key_t key = t_key();
		int shmid;

		t_key_text(ks, sizeof(ks), key);
		T_EQ(t_cli(&out, &err, "mk", "-s", cases[i].text, "-k", ks, NULL), 0);
		shmid = SHMID_OF(out);
		check_raw(shmid, key, cases[i].bytes, 0600);
		free(out);
		free(err);
	}
}

static void exclusive_and_reopen(void)
{
	char ks[16], name[64], *out, *err;
	struct shmkit_seg_info before, after;
	key_t key = t_key();
	int shmid;

	t_key_text(ks, sizeof(ks), key);
	T_EQ(t_cli(&out, &err, "mk", "-s", "8192", "-k", ks, NULL), 0);
	shmid = SHMID_OF(out);
	free(out);
	free(err);
	T_OK(shmkit_seg_stat(shmid, &before));

	/* -x: refused at runtime, nothing on stdout, nothing changed */
	T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "4096", "-k", ks, "-m", "0666", NULL), 1);
	T_EQ(out[0], '\0');
	ONE_ERROR_LINE(err);
	T_STR_CONTAINS(err, "exists");
	free(out);
	free(err);
	T_EQ(shmget(key, 0, 0), shmid);
	T_OK(shmkit_seg_stat(shmid, &after));
	T_EQ(after.size, 8192);
	T_EQ(after.mode, 0600);
	T_EQ(after.ctime, before.ctime);

	/* without -x: the same segment, same shmid, still 8192 bytes */
	T_EQ(t_cli(&out, &err, "mk", "-s", "4096", "-k", ks, NULL), 0);
	T_EQ(SHMID_OF(out), shmid);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "mk", "-s", "8192", "-k", ks, NULL), 0);
	T_EQ(SHMID_OF(out), shmid);
	free(out);
	free(err);
	T_OK(shmkit_seg_stat(shmid, &after));
	T_EQ(after.size, 8192);

	/* the same for a name */
	t_name(name, sizeof(name), "again");
	T_EQ(t_cli(&out, &err, "mk", "-s", "100", "-n", name, NULL), 0);
	shmid = SHMID_OF(out);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "mk", "-s", "100", "-n", name, NULL), 0);
	T_EQ(SHMID_OF(out), shmid);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "100", "-n", name, NULL), 1);
	T_EQ(out[0], '\0');
	ONE_ERROR_LINE(err);
	free(out);
	free(err);
}

static void help(void)
{
	char *out, *err;

	T_EQ(t_cli(&out, &err, "mk", "--help", NULL), 0);
	T_ASSERT(strncmp(out, "Usage: shmkit mk", 16) == 0);
	T_STR_CONTAINS(out, "-s, --size SIZE");
	T_EQ(err[0], '\0');
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "mk", "-h", NULL), 0);
	T_ASSERT(strncmp(out, "Usage: shmkit mk", 16) == 0);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "--help", NULL), 0);
	T_ASSERT(strncmp(out, "Usage: shmkit", 13) == 0);
	T_STR_CONTAINS(out, "mk ");
	T_EQ(err[0], '\0');
	free(out);
	free(err);
}

int main(void)
{
	with_key();
	with_path();
	with_name();
	random_key();
	sizes();
	exclusive_and_reopen();
	help();
	return 0;
}
