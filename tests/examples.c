/*
 * The examples run end to end: chat with scripted input and its expected
 * output, zero-copy and legacy to completion; none leaves a segment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char dir[4096];	/* where the examples were built */

static void chat(void)
{
	char name[64], up[80], down[80], *out = NULL;
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };

	snprintf(name, sizeof(name), "t-%d-chat", (int)getpid());
	snprintf(up, sizeof(up), "%s.up", name);
	snprintf(down, sizeof(down), "%s.dn", name);
	t_track_key(shmkit_name_key(up));
	t_track_key(shmkit_name_key(down));
	T_EQ(t_sh(&out, NULL, "%s/examples/chat server %s > /dev/null & s=$!; "
		"printf 'hello\\nhow are you\\nquit\\n' | %s/examples/chat client %s; "
		"wait $s; echo server=$?", dir, name, dir, name), 0);
	static const char want[] = "> server: message 1, 5 characters: hello\n"
				   "> server: message 2, 11 characters: how are you\n"
				   "> server: bye\n"
				   "server=0\n";
	if (strcmp(out, want) != 0)
		t_fail(__FILE__, __LINE__, "chat printed:\n%s\nexpected:\n%s", out, want);
	free(out);
	ref.name = up;
	T_EQ(shmkit_seg_open(&ref), -ENOENT);
	ref.name = down;
	T_EQ(shmkit_seg_open(&ref), -ENOENT);

	/* the client killed: the server notices and removes both channels */
	T_EQ(t_sh(&out, NULL, "%s/examples/chat server %s > /dev/null 2>&1 & s=$!; "
		"sleep 100 | %s/examples/chat client %s > /dev/null & c=$!; "
		"i=0; until %s/shmkit stat -n %s 2>/dev/null | grep -q 'producer:   pid'; do "
		"i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.05; done; "
		"kill -9 $c; wait $s; echo server=$?; pkill -P $$ sleep", dir, name, dir, name,
		dir, up), 0);
	T_STR_CONTAINS(out, "server=1");
	free(out);
	ref.name = up;
	T_EQ(shmkit_seg_open(&ref), -ENOENT);
}

static void others(void)
{
	char *out = NULL;

	T_EQ(t_sh(&out, NULL, "%s/examples/zero-copy 20000", dir), 0);
	T_STR_CONTAINS(out, "reading 0 from probe-0: 20.0 C");
	T_STR_CONTAINS(out, "20000 readings");
	free(out);
	T_EQ(t_sh(&out, NULL, "%s/examples/legacy /tmp", dir), 0);
	T_STR_CONTAINS(out, "written the notes' way");
	T_STR_CONTAINS(out, "written the shmkit way");
	free(out);
}

int main(void)
{
	char bin[4096];

	snprintf(bin, sizeof(bin), "%s", getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit");
	snprintf(dir, sizeof(dir), "%s", dirname(bin));
	chat();
	others();
	return 0;
}
