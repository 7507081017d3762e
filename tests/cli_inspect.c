/*
 * shmkit ls and shmkit stat: what they show about a segment is right.
 *
 * Proves: ls has a row for a segment with its shmid, key (0x%08x), name,
 * mode, attach count and state; ls --json is valid JSON holding the
 * segment with the exact size, allocated (whole pages) and nattch; stat by
 * shmid, -k, -n and -p all find the same segment; stat --json carries
 * shmid, key, size, allocated, mode and nattch exactly; a process that has
 * the segment attached is listed by pid (stat and ls) and makes it in-use,
 * and once it has left the segment is idle again; a segment whose creator
 * is gone and that nobody uses is an orphan.
 *
 * Segments whose orphan state is checked are never looked at through the
 * library from this process: reading a header attaches, which would make
 * this (live) process their last user, and so not an orphan.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#include "harness.h"

#define LS_FIELDS 12	/* SHMID KEY NAME OWNER MODE SIZE ALLOC NATT PIDS CREATOR AGE STATE */
enum { F_SHMID, F_KEY, F_NAME, F_OWNER, F_MODE, F_SIZE, F_ALLOC, F_NATT, F_PIDS,
       F_CREATOR, F_AGE, F_STATE };

struct row {
	char f[LS_FIELDS][96];
};


/*
 * A random key below 0x01000000, to see the zero padding of 0x%08x. Not
 * tracked by key: create it with -x and track the shmid.
 */
static key_t small_key(void)
{
	return (key_t)(1 + t_rand() % 0x00fffffe);
}

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Runs `shmkit ls` and returns the row of shmid (fails if none, or twice). */
#define LS_ROW(shmid, row) ls_row(__FILE__, __LINE__, shmid, row)
static void ls_row(const char *file, int line, int shmid, struct row *row)
{
	char *out, *err, *l, *save = NULL, *next, want[16];
	int found = 0;

	if (t_cli(&out, &err, "ls", NULL) != 0 || err[0])
		t_fail(file, line, "shmkit ls failed: %s", err);
	if (strncmp(out, "SHMID", 5) != 0)
		t_fail(file, line, "ls has no heading: %s", out);
	snprintf(want, sizeof(want), "%d", shmid);
	for (l = out; l && *l; l = next) {
		char *tok;
		int n = 0;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		tok = strtok_r(l, " ", &save);
		if (!tok || strcmp(tok, want) != 0)
			continue;
		found++;
		memset(row, 0, sizeof(*row));
		for (; tok && n < LS_FIELDS; tok = strtok_r(NULL, " ", &save))
			snprintf(row->f[n++], sizeof(row->f[0]), "%s", tok);
		if (n != LS_FIELDS || tok)
			t_fail(file, line, "ls row of %d has not %d fields", shmid, LS_FIELDS);
	}
	if (found != 1)
		t_fail(file, line, "ls shows shmid %d %d times", shmid, found);
	free(out);
	free(err);
}

/* Runs `shmkit stat ARGS...` (up to 3 args), returns stdout; must succeed. */
#define STAT(...) stat_out(__FILE__, __LINE__, __VA_ARGS__, NULL, NULL, NULL)
static char *stat_out(const char *file, int line, const char *a, const char *b,
		      const char *c, const char *d, ...)
{
	char *out, *err;
	int rc = t_cli(&out, &err, "stat", a, b, c, d, NULL);

	if (rc != 0 || err[0])
		t_fail(file, line, "shmkit stat %s %s: exit %d: %s", a, b ? b : "", rc, err);
	free(err);
	return out;
}

/* The value of "field:" in human stat output, up to the end of the line. */
static void stat_field(const char *out, const char *field, char *buf, size_t cap)
{
	char want[32];
	const char *p = out;
	size_t len;

	snprintf(want, sizeof(want), "%s:", field);
	for (; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, want, strlen(want)) == 0)
			break;
	if (!p)
		t_fail(__FILE__, __LINE__, "no '%s' in stat output: %s", want, out);
	p += strlen(want);
	p += strspn(p, " ");
	len = strcspn(p, "\n");
	snprintf(buf, cap, "%.*s", (int)len, p);
}

/* Runs jq -e FILTER over json (with $id bound to shmid); returns the exit. */
static int jq(const char *json, int shmid, const char *filter, char **out)
{
	char path[] = "/tmp/shmkit-cli-json-XXXXXX", id[16], *err;
	int fd = mkstemp(path), rc;
	size_t len = strlen(json);

	if (fd < 0 || write(fd, json, len) != (ssize_t)len)
		t_fail(__FILE__, __LINE__, "temp file: %s", strerror(errno));
	close(fd);
	snprintf(id, sizeof(id), "%d", shmid);
	{
		char *argv[] = { "jq", "-e", "-c", "--argjson", "id", id, (char *)filter,
				 path, NULL };
		rc = t_run(argv, out, &err);
	}
	{
		char *argv[] = { "python3", "-m", "json.tool", path, NULL };
		int valid = t_run(argv, NULL, NULL) == 0;

		unlink(path);
		if (!valid)
			t_fail(__FILE__, __LINE__, "python3 -m json.tool rejects: %s", json);
	}
	if (rc != 0 && rc != 1)
		t_fail(__FILE__, __LINE__, "jq %s: exit %d: %s", filter, rc, err);
	free(err);
	return rc;
}

#define JQ_TRUE(json, shmid, filter) \
	do { char *o_; if (jq(json, shmid, filter, &o_) != 0) \
		t_fail(__FILE__, __LINE__, "jq '%s' is not true for shmid %d: %s\n%s", \
		       filter, shmid, o_, json); free(o_); } while (0)

/* A child that keeps a segment attached until released. */

/* Runs in a child: creates a raw segment and exits, leaving it behind. */
static int create_raw(void *arg)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = *(key_t *)arg };

	return shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL) >= 0 ? 0 : 1;
}

static int create_named(void *arg)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = arg };

	return shmkit_seg_create(&ref, 100, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL) >= 0 ? 0 : 1;
}

static void ls_shows_segment(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	char name[64], ks[16];
	struct row row;
	int shmid;

	/* made here, by this live process: idle, named */
	ref.name = t_name(name, sizeof(name), "ls");
	shmid = t_track(shmkit_seg_create(&ref, 5000, 0640, SHMKIT_EXCL));
	T_OK(shmid);
	t_key_text(ks, sizeof(ks), shmkit_name_key(name));

	LS_ROW(shmid, &row);
	T_ASSERT(strcmp(row.f[F_KEY], ks) == 0);
	T_ASSERT(strcmp(row.f[F_NAME], name) == 0);
	T_ASSERT(strcmp(row.f[F_MODE], "0640") == 0);
	T_ASSERT(strcmp(row.f[F_NATT], "0") == 0);
	T_ASSERT(strcmp(row.f[F_PIDS], "-") == 0);
	if (page_size() == 4096)
		T_ASSERT(strcmp(row.f[F_ALLOC], "8K") == 0);	/* 5000 bytes: two pages */
	T_ASSERT(strcmp(row.f[F_STATE], "idle") == 0);

	/* a raw one made by `shmkit mk` (which has exited): no name, orphan */
	{
		char *out, *err;
		key_t key = small_key();
		int id;

		t_key_text(ks, sizeof(ks), key);
		/* -x: the key is not from t_key(), so it must be ours alone */
		T_EQ(t_cli(&out, &err, "mk", "-x", "-s", "100", "-k", ks, NULL), 0);
		T_ASSERT(strspn(out, "0123456789") > 0);
		id = t_track(atoi(out));
		free(out);
		free(err);
		LS_ROW(id, &row);
		T_ASSERT(strcmp(row.f[F_KEY], ks) == 0);
		T_ASSERT(strcmp(row.f[F_NAME], "-") == 0);
		T_ASSERT(strcmp(row.f[F_MODE], "0600") == 0);
		T_ASSERT(strcmp(row.f[F_SIZE], "100B") == 0);
		T_ASSERT(strcmp(row.f[F_STATE], "orphan") == 0);
		T_STR_CONTAINS(row.f[F_CREATOR], "/gone");
	}
}

static void ls_json(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = t_key() };
	struct shmkit_map map;
	char filter[256], *out, *err, *res;
	int shmid;

	shmid = t_track(shmkit_seg_create(&ref, 100, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	T_OK(shmkit_seg_attach(shmid, 0, &map));	/* nattch 1: this process */

	T_EQ(t_cli(&out, &err, "ls", "--json", NULL), 0);
	T_EQ(err[0], '\0');
	T_ASSERT(out[0] == '[');
	/* exactly one object for our shmid, with the exact figures */
	JQ_TRUE(out, shmid, "[.[] | select(.shmid == $id)] | length == 1");
	snprintf(filter, sizeof(filter),
		 ".[] | select(.shmid == $id) | .size == 100 and .allocated == %llu"
		 " and .data_size == 100 and .nattch == 1 and .key == %u"
		 " and .key_hex == \"0x%08x\" and .name == null and .mode == \"0600\""
		 " and .state == \"in-use\" and any(.attached[]; .pid == %d)",
		 (unsigned long long)page_size(), (unsigned)ref.key, (unsigned)ref.key,
		 (int)getpid());
	JQ_TRUE(out, shmid, filter);
	/* and the check can fail: a wrong size is not true */
	T_EQ(jq(out, shmid, ".[] | select(.shmid == $id) | .size == 101", &res), 1);
	free(res);
	free(out);
	free(err);
	T_OK(shmkit_seg_detach(&map));
}

/* shmid, -k, -n and -p all lead to the same segment */
static void stat_forms(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	char name[64], ks[16], id[16], pathproj[128], v1[128], v2[128];
	const char *path = t_tmpfile("cli-inspect");
	char *a, *b, *c;
	int shmid, pid_shmid;

	ref.name = t_name(name, sizeof(name), "stat");
	shmid = t_track(shmkit_seg_create(&ref, 3000, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);
	t_key_text(ks, sizeof(ks), shmkit_name_key(name));

	a = STAT(id);
	b = STAT("-k", ks);
	c = STAT("-n", name);
	stat_field(a, "shmid", v1, sizeof(v1));
	T_ASSERT(strcmp(v1, id) == 0);
	stat_field(a, "key", v1, sizeof(v1));
	T_ASSERT(strcmp(v1, ks) == 0);
	stat_field(a, "name", v1, sizeof(v1));
	T_ASSERT(strcmp(v1, name) == 0);
	stat_field(a, "size", v1, sizeof(v1));
	T_ASSERT(strncmp(v1, "3000 bytes usable", 17) == 0);
	stat_field(a, "mode", v1, sizeof(v1));
	T_ASSERT(strcmp(v1, "0600") == 0);
	/* the same identity lines from each form */
	{
		static const char *const same[] = { "shmid", "key", "name", "size",
						    "segment size", "mode", "creator pid" };
		size_t i;

		for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
			stat_field(a, same[i], v1, sizeof(v1));
			stat_field(b, same[i], v2, sizeof(v2));
			T_ASSERT(strcmp(v1, v2) == 0);
			stat_field(c, same[i], v2, sizeof(v2));
			T_ASSERT(strcmp(v1, v2) == 0);
		}
	}
	free(a);
	free(b);
	free(c);

	/* -p PATH:PROJ (and -p PATH, project 1) against the same segment by shmid */
	{
		struct shmkit_ref pref = { .kind = SHMKIT_REF_PATH, .path = path, .proj = 9 };
		char *d, *e;

		pid_shmid = t_track(shmkit_seg_create(&pref, 777, SHMKIT_MODE_DEFAULT,
						      SHMKIT_EXCL));
		T_OK(pid_shmid);
		snprintf(id, sizeof(id), "%d", pid_shmid);
		snprintf(pathproj, sizeof(pathproj), "%s:9", path);
		d = STAT("-p", pathproj);
		e = STAT(id);
		stat_field(d, "shmid", v1, sizeof(v1));
		T_ASSERT(strcmp(v1, id) == 0);
		stat_field(d, "key", v1, sizeof(v1));
		t_key_text(ks, sizeof(ks), ftok(path, 9));
		T_ASSERT(strcmp(v1, ks) == 0);
		stat_field(e, "key", v2, sizeof(v2));
		T_ASSERT(strcmp(v1, v2) == 0);
		stat_field(d, "size", v1, sizeof(v1));
		T_ASSERT(strncmp(v1, "777 bytes usable", 16) == 0);
		free(d);
		free(e);

		pref.proj = 1;
		pid_shmid = t_track(shmkit_seg_create(&pref, 778, SHMKIT_MODE_DEFAULT,
						      SHMKIT_EXCL));
		T_OK(pid_shmid);
		snprintf(id, sizeof(id), "%d", pid_shmid);
		d = STAT("--path", path);
		stat_field(d, "shmid", v1, sizeof(v1));
		T_ASSERT(strcmp(v1, id) == 0);
		free(d);
	}
}

static void stat_json(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = t_key() };
	char id[16], filter[512], *out;
	int shmid;

	shmid = t_track(shmkit_seg_create(&ref, 100, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);
	out = STAT("--json", id);
	T_ASSERT(out[0] == '{');
	snprintf(filter, sizeof(filter),
		 ".shmid == $id and .key == %u and .size == 100 and .allocated == %llu"
		 " and .mode == \"0600\" and .nattch == 0 and .attached == []"
		 " and (.cpid | type) == \"number\" and (.state | type) == \"string\"",
		 (unsigned)ref.key, (unsigned long long)page_size());
	JQ_TRUE(out, shmid, filter);
	free(out);

	/* the same object whichever way the segment is named */
	{
		char ks[16];

		t_key_text(ks, sizeof(ks), ref.key);
		out = STAT("-k", ks, "--json");
		JQ_TRUE(out, shmid, ".shmid == $id and .size == 100");
		free(out);
	}
}

/*
 * A process name is bytes, not always UTF-8: the JSON must still be valid
 * (jq() also runs python3's strict parser), with every byte kept.
 */
static void odd_process_name(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY, .key = t_key() };
	struct t_holder h;
	char id[16], old[17] = "", *out;
	int shmid;

	shmid = t_track(shmkit_seg_create(&ref, 100, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);
	/* the holder inherits our name: x, a stray byte, a cut sequence, é */
	T_OK(prctl(PR_GET_NAME, old));
	T_OK(prctl(PR_SET_NAME, "x\xff\xc3(\xc3\xa9\x7f"));
	t_hold_start(&h, shmid);
	T_OK(prctl(PR_SET_NAME, old));
	out = STAT("--json", id);
	JQ_TRUE(out, shmid, ".attached[0].comm == \"x\\u00ff\\u00c3(\u00e9\\u007f\"");
	free(out);
	T_EQ(t_cli(&out, NULL, "ls", "--json", NULL), 0);
	JQ_TRUE(out, shmid, "[.[] | select(.shmid == $id) | .attached[0].comm] == [\"x\\u00ff\\u00c3(\u00e9\\u007f\"]");
	free(out);
	t_hold_stop(&h);
	T_OK(shmkit_seg_remove(shmid));
}

/*
 * Text output is for terminals: no byte of it may be a control character
 * (other than the newline) or stray from well-formed UTF-8, and no C1
 * control either (U+0080..U+009F, which some terminals obey).
 */
#define TERMINAL_SAFE(what, text) terminal_safe(__FILE__, __LINE__, what, text)
static void terminal_safe(const char *file, int line, const char *what, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;

	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f || *p >= 0x80)
			t_fail(file, line, "%s: byte 0x%02x at %zu in: %s", what, *p,
			       (size_t)(p - (const unsigned char *)text), text);
	}
}

/* A child that renames itself (prctl, as any process may), then holds. */
static void hold_named(struct t_holder *h, int shmid, const char *comm)
{
	char old[17] = "";

	/* the holder inherits our name for the moment it is forked */
	T_OK(prctl(PR_GET_NAME, old));
	T_OK(prctl(PR_SET_NAME, comm));
	t_hold_start(h, shmid);
	T_OK(prctl(PR_SET_NAME, old));
}

/*
 * A process name with terminal escapes (set the title, clear the screen)
 * shows in stat escaped, not obeyed. A regression test: stat printed the
 * names raw, to the terminal of whoever ran it (often root). ls, and the
 * error messages that repeat what was typed, are held to the same rule.
 */
static void hostile_process_name(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	struct t_holder title, clear;
	char name[64], id[16], *out, *err;
	int shmid;

	ref.name = t_name(name, sizeof(name), "esc");
	shmid = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);
	hold_named(&title, shmid, "\033]0;pwned\007");
	/* clear screen; CSI as a C1 control in UTF-8; a stray byte; a backslash */
	hold_named(&clear, shmid, "\033[2J\xc2\x9b\xff\\");

	out = STAT(id);
	TERMINAL_SAFE("stat", out);
	T_STR_CONTAINS(out, "\\x1b]0;pwned\\x07");
	T_STR_CONTAINS(out, "\\x1b[2J\\xc2\\x9b\\xff\\\\");
	free(out);
	/* JSON keeps every character, C1 controls escaped as \u0080..\u009f */
	out = STAT("--json", id);
	TERMINAL_SAFE("stat --json", out);
	JQ_TRUE(out, shmid, "[.attached[].comm] | sort == "
		"[\"\\u001b[2J\\u009b\\u00ff\\\\\", \"\\u001b]0;pwned\\u0007\"]");
	free(out);
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	TERMINAL_SAFE("ls", out);
	TERMINAL_SAFE("ls stderr", err);
	free(out);
	free(err);

	/* what was typed comes back escaped in error messages too */
	T_EQ(t_cli(&out, &err, "stat", "-p", "/nonexistent/\033[2J\033]0;x\007", NULL), 1);
	TERMINAL_SAFE("stat -p", err);
	T_STR_CONTAINS(err, "/nonexistent/\\x1b[2J");
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "\033[2Jx", NULL), 2);
	TERMINAL_SAFE("unknown command", err);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "-V", "\033[2J", NULL), 2);
	TERMINAL_SAFE("-V extra", err);
	free(out);
	free(err);
	T_EQ(t_cli(&out, &err, "recv", "bad\033[2Jname", NULL), 2);
	TERMINAL_SAFE("recv bad name", err);
	free(out);
	free(err);

	t_hold_stop(&title);
	t_hold_stop(&clear);
	T_OK(shmkit_seg_remove(shmid));
}

static void attached_process(void)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME };
	struct t_holder h;
	struct row row;
	char name[64], id[16], want[32], v[128], filter[128], *out;
	int shmid;

	ref.name = t_name(name, sizeof(name), "att");
	shmid = t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);

	t_hold_start(&h, shmid);
	out = STAT(id);
	stat_field(out, "attached", v, sizeof(v));
	T_ASSERT(strcmp(v, "1") == 0);
	snprintf(want, sizeof(want), "\n  pid %-8d ", (int)h.pid);
	T_STR_CONTAINS(out, want);
	stat_field(out, "state", v, sizeof(v));
	T_ASSERT(strcmp(v, "in-use") == 0);
	free(out);

	out = STAT("--json", id);
	snprintf(filter, sizeof(filter),
		 ".nattch == 1 and .state == \"in-use\" and [.attached[].pid] == [%d]",
		 (int)h.pid);
	JQ_TRUE(out, shmid, filter);
	free(out);

	LS_ROW(shmid, &row);
	snprintf(want, sizeof(want), "%d", (int)h.pid);
	T_ASSERT(strcmp(row.f[F_PIDS], want) == 0);
	T_ASSERT(strcmp(row.f[F_NATT], "1") == 0);
	T_ASSERT(strcmp(row.f[F_STATE], "in-use") == 0);

	/* the child detaches and exits: nobody attached, creator (we) alive */
	t_hold_stop(&h);
	out = STAT(id);
	stat_field(out, "attached", v, sizeof(v));
	T_ASSERT(strcmp(v, "0") == 0);
	T_ASSERT(strstr(out, "\n  pid ") == NULL);
	stat_field(out, "state", v, sizeof(v));
	T_ASSERT(strcmp(v, "idle") == 0);
	free(out);
	LS_ROW(shmid, &row);
	T_ASSERT(strcmp(row.f[F_PIDS], "-") == 0);
	T_ASSERT(strcmp(row.f[F_STATE], "idle") == 0);
}

/* Made in a child that exits, never attached by anyone still running. */
static void orphans(void)
{
	char name[64], id[16], v[128], *out;
	key_t key = t_key();
	struct row row;
	pid_t pid;
	int shmid;

	pid = t_fork(create_raw, &key);
	T_EQ(t_wait(pid), 0);
	shmid = t_track(shmget(key, 0, 0));	/* shmget does not attach */
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);
	out = STAT(id);
	stat_field(out, "state", v, sizeof(v));
	T_ASSERT(strcmp(v, "orphan") == 0);
	stat_field(out, "creator pid", v, sizeof(v));
	snprintf(name, sizeof(name), "%d (gone)", (int)pid);
	T_ASSERT(strcmp(v, name) == 0);
	free(out);
	LS_ROW(shmid, &row);
	T_ASSERT(strcmp(row.f[F_STATE], "orphan") == 0);

	/* a named one: the header records the creator, who is gone too */
	t_name(name, sizeof(name), "orphan");
	pid = t_fork(create_named, name);
	T_EQ(t_wait(pid), 0);
	shmid = t_track(shmget(shmkit_name_key(name), 0, 0));
	T_OK(shmid);
	LS_ROW(shmid, &row);
	T_ASSERT(strcmp(row.f[F_NAME], name) == 0);
	T_ASSERT(strcmp(row.f[F_STATE], "orphan") == 0);
	out = STAT("-n", name);
	stat_field(out, "state", v, sizeof(v));
	T_ASSERT(strcmp(v, "orphan") == 0);
	free(out);
}

/*
 * Creator gone, but this live process used it last: idle, not an orphan.
 * Every look by shmkit attaches for a moment and so becomes the kernel's
 * last pid, so each check runs right after our own attach and detach.
 */
static void live_last_user(void)
{
	struct shmkit_map map;
	char id[16], want[32], v[128], *out;
	key_t key = t_key();
	struct row row;
	int shmid;

	T_EQ(t_wait(t_fork(create_raw, &key)), 0);
	shmid = t_track(shmget(key, 0, 0));
	T_OK(shmid);
	snprintf(id, sizeof(id), "%d", shmid);
	snprintf(want, sizeof(want), "%d (running)", (int)getpid());

	T_OK(shmkit_seg_attach(shmid, 0, &map));
	T_OK(shmkit_seg_detach(&map));
	out = STAT(id);
	stat_field(out, "last pid", v, sizeof(v));
	T_ASSERT(strcmp(v, want) == 0);
	stat_field(out, "state", v, sizeof(v));
	T_ASSERT(strcmp(v, "idle") == 0);
	free(out);

	T_OK(shmkit_seg_attach(shmid, 0, &map));
	T_OK(shmkit_seg_detach(&map));
	LS_ROW(shmid, &row);
	T_ASSERT(strcmp(row.f[F_STATE], "idle") == 0);
}

int main(void)
{
	ls_shows_segment();
	ls_json();
	stat_forms();
	stat_json();
	attached_process();
	odd_process_name();
	hostile_process_name();
	orphans();
	live_last_user();
	return 0;
}
