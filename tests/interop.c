/*
 * shmkit and util-linux agree about segments, both ways.
 *
 * A segment made by ipcmk is listed by shmkit ls with its shmid and key,
 * shown by shmkit stat with its size, and removed by shmkit rm (ipcs no
 * longer knows it). A segment made by shmkit mk shows in ipcs -m with the
 * same key, shmid, permissions and size, and once ipcrm has removed it
 * shmkit stat fails with exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "harness.h"

/*
 * The whitespace-separated fields of the line of text whose field col
 * equals want; returns the number of fields, 0 if there is no such line.
 */
static int find_row(const char *text, int col, const char *want, char f[][64], int max)
{
	char *copy = strdup(text), *l, *next, *tok, *save = NULL;
	int n = 0;

	if (!copy)
		t_fail(__FILE__, __LINE__, "out of memory");
	for (l = copy; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		for (n = 0, tok = strtok_r(l, " \t", &save); tok && n < max;
		     tok = strtok_r(NULL, " \t", &save))
			snprintf(f[n++], 64, "%s", tok);
		if (n > col && strcmp(f[col], want) == 0)
			break;
		n = 0;
	}
	free(copy);
	return n;
}

static void from_ipcmk(void)
{
	char *ipcmk[] = { "ipcmk", "-M", "8192", "-p", "0600", NULL };
	char *out, *err, id[16], ks[16], f[16][64];
	struct shmid_ds ds;
	int shmid;

	T_EQ(t_run(ipcmk, &out, &err), 0);
	if (sscanf(out, "Shared memory id: %d", &shmid) != 1)
		t_fail(__FILE__, __LINE__, "ipcmk said: %s %s", out, err);
	t_track(shmid);
	free(out);
	free(err);
	snprintf(id, sizeof(id), "%d", shmid);
	T_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	snprintf(ks, sizeof(ks), "0x%08x", (unsigned)ds.shm_perm.__key);
	T_ASSERT(ds.shm_perm.__key != IPC_PRIVATE);

	/* ls: the shmid with its key, no name, 0600 */
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	T_EQ(find_row(out, 0, id, f, 16), 12);
	T_ASSERT(strcmp(f[1], ks) == 0);
	T_ASSERT(strcmp(f[2], "-") == 0);
	T_ASSERT(strcmp(f[4], "0600") == 0);
	T_ASSERT(strcmp(f[5], "8K") == 0);
	free(out);
	free(err);

	/* stat: 8192 bytes, all usable (no header), the same key */
	T_EQ(t_cli(&out, &err, "stat", id, NULL), 0);
	T_STR_CONTAINS(out, "\nsize:         8192 bytes usable");
	T_STR_CONTAINS(out, "\nsegment size: 8192 bytes asked");
	T_STR_CONTAINS(out, ks);
	T_STR_CONTAINS(out, "raw segment");
	free(out);
	free(err);

	/* rm: gone for the kernel and for ipcs */
	T_EQ(t_cli(&out, &err, "rm", id, NULL), 0);
	T_EQ(err[0], '\0');
	free(out);
	free(err);
	T_ASSERT(!t_shmid_exists(shmid));
	{
		char *ipcs[] = { "ipcs", "-m", NULL };
		char *info[] = { "ipcs", "-m", "-i", id, NULL };

		T_EQ(t_run(ipcs, &out, &err), 0);
		T_EQ(find_row(out, 1, id, f, 16), 0);
		free(out);
		free(err);
		/* util-linux 2.38 says "not found" yet exits 0: look at the words */
		t_run(info, &out, &err);
		T_ASSERT(strstr(out, "not found") || strstr(err, "not found"));
		T_ASSERT(!strstr(out, "bytes=8192"));
		free(out);
		free(err);
	}
}

static void to_ipcs(void)
{
	char *out, *err, ks[16], id[16], f[16][64];
	/* below 0x01000000, so the zero padding shows; -x: it must be ours */
	key_t key = (key_t)(1 + t_rand() % 0x00fffffe);
	int shmid, n;

	snprintf(ks, sizeof(ks), "0x%08x", (unsigned)key);
	T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "12345", "-k", ks, "-m", "0640", NULL), 0);
	T_ASSERT(strspn(out, "0123456789") > 0);
	shmid = t_track(atoi(out));
	free(out);
	free(err);
	snprintf(id, sizeof(id), "%d", shmid);

	/* key shmid owner perms bytes nattch [status] */
	{
		char *ipcs[] = { "ipcs", "-m", NULL };

		T_EQ(t_run(ipcs, &out, &err), 0);
		n = find_row(out, 0, ks, f, 16);
		if (n < 6)
			t_fail(__FILE__, __LINE__, "no ipcs row for key %s: %s", ks, out);
		T_ASSERT(strcmp(f[1], id) == 0);
		T_ASSERT(strcmp(f[3], "640") == 0);
		T_ASSERT(strcmp(f[4], "12345") == 0);
		T_ASSERT(strcmp(f[5], "0") == 0);
		free(out);
		free(err);
	}

	/* ipcrm removes it; shmkit then knows nothing of it */
	{
		char *ipcrm[] = { "ipcrm", "-m", id, NULL };
		char *nl;

		T_EQ(t_run(ipcrm, &out, &err), 0);
		free(out);
		free(err);
		T_ASSERT(!t_shmid_exists(shmid));
		T_EQ(t_cli(&out, &err, "stat", id, NULL), 1);
		T_EQ(out[0], '\0');
		nl = strchr(err, '\n');
		T_ASSERT(strncmp(err, "shmkit: stat: ", 14) == 0 && nl && !nl[1]);
		T_STR_CONTAINS(err, id);
		free(out);
		free(err);
		T_EQ(t_cli(&out, &err, "stat", "-k", ks, NULL), 1);
		T_STR_CONTAINS(err, "no such segment");
		free(out);
		free(err);
	}
}

int main(void)
{
	from_ipcmk();
	to_ipcs();
	return 0;
}
