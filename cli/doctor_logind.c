/*
 * shmkit doctor: systemd-logind's RemoveIPC. With RemoveIPC=yes, systemd's
 * built-in default, logind removes every System V segment of a user when
 * that user's last session ends; root and system users are exempt, and a
 * user who lingers never has a last session end.
 *
 * The configuration as logind reads it: the main file, the first of
 * logind.conf in etc/systemd, run/systemd, usr/local/lib/systemd and
 * usr/lib/systemd; then the drop-ins, logind.conf.d/ *.conf in the same
 * directories, where a name in an earlier directory hides the same name
 * in later ones (a link to /dev/null hides and says nothing), all in the
 * order of their names. The last valid RemoveIPC= in [Login] wins; one
 * that is not a boolean is ignored by logind, and reported here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "doctor.h"

#define CONF_MAX (64 * 1024)	/* logind.conf is about 2K */
#define DROPINS_MAX 128
#define SYS_UID_MAX_DEFAULT 999

static const char *const conf_dirs[] = {
	"etc/systemd", "run/systemd", "usr/local/lib/systemd", "usr/lib/systemd"
};
#define NDIRS (sizeof(conf_dirs) / sizeof(conf_dirs[0]))

struct remove_ipc {
	int value;		/* 1 or 0; -1 while no file set it (the default: 1) */
	char where[300];	/* the file that set it */
	int bad;		/* values that are not booleans */
	char bad_where[300], bad_value[64];
	int unread;		/* files that could not be read */
	char unread_where[300], unread_why[64];
};

/* systemd's parse_boolean: these spellings, in any case; -1 for others. */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* s without the white space at either end (in place). */
static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t\r");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r", e[-1]))
		e--;
	*e = '\0';
	return s;
}

/* Every RemoveIPC= of [Login] in one file's text, in order. */
static void parse_conf(char *text, const char *where, struct remove_ipc *r)
{
	char *save = NULL, *line, *eq;
	int login = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			login = !strcmp(line, "[Login]");
			continue;
		}
		if (!login || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		if (strcmp(trim(line), "RemoveIPC"))
			continue;
		line = trim(eq + 1);
		if (parse_bool(line) < 0) {
			r->bad++;
			snprintf(r->bad_where, sizeof(r->bad_where), "/%s", where);
			snprintf(r->bad_value, sizeof(r->bad_value), "%s", line);
			continue;
		}
		r->value = parse_bool(line);
		snprintf(r->where, sizeof(r->where), "/%s", where);
	}
}

static void read_conf(const struct doctor *d, const char *path, struct remove_ipc *r)
{
	char *text = malloc(CONF_MAX);
	int n = text ? doc_read(d, path, text, CONF_MAX) : -ENOMEM;

	/* a link to /dev/null masks a name: nothing to read, nothing to say */
	if (n >= 0)
		parse_conf(text, path, r);
	else if (n != -ENOENT && n != -EINVAL) {
		r->unread++;
		snprintf(r->unread_where, sizeof(r->unread_where), "/%s", path);
		snprintf(r->unread_why, sizeof(r->unread_why), "%s", doc_why(n));
	}
	free(text);
}

struct dropin {
	char name[256];
	const char *dir;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

/* Adds the *.conf names of one directory that no earlier one had. */
static int add_dropins(const struct doctor *d, const char *dir, struct dropin *list, int n)
{
	char path[300];
	struct dirent *e;
	DIR *dp;
	int fd, k;

	snprintf(path, sizeof(path), "%s/logind.conf.d", dir);
	if ((fd = doc_open(d, path, O_RDONLY | O_DIRECTORY)) < 0)
		return n;
	if (!(dp = fdopendir(fd))) {
		close(fd);
		return n;
	}
	while ((e = readdir(dp)) && n < DROPINS_MAX) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 6 || len >= sizeof(list[0].name) ||
		    strcmp(e->d_name + len - 5, ".conf"))
			continue;
		for (k = 0; k < n && strcmp(list[k].name, e->d_name); k++)
			;
		if (k < n)
			continue;
		memcpy(list[n].name, e->d_name, len + 1);
		list[n++].dir = dir;
	}
	closedir(dp);
	return n;
}

static void read_config(const struct doctor *d, struct remove_ipc *r)
{
	static struct dropin list[DROPINS_MAX];
	char path[600];
	size_t i;
	int n = 0;

	r->value = -1;
	for (i = 0; i < NDIRS; i++) {
		snprintf(path, sizeof(path), "%s/logind.conf", conf_dirs[i]);
		if (doc_exists(d, path)) {
			read_conf(d, path, r);
			break;
		}
	}
	for (i = 0; i < NDIRS; i++)
		n = add_dropins(d, conf_dirs[i], list, n);
	qsort(list, (size_t)n, sizeof(list[0]), by_name);
	for (int k = 0; k < n; k++) {
		snprintf(path, sizeof(path), "%s/logind.conf.d/%.255s", list[k].dir, list[k].name);
		read_conf(d, path, r);
	}
}

/* SYS_UID_MAX from etc/login.defs, or 999. */
static uint64_t sys_uid_max(const struct doctor *d)
{
	char text[CONF_MAX], *save = NULL, *line, *key, *val;
	uint64_t v = SYS_UID_MAX_DEFAULT;

	if (doc_read(d, "etc/login.defs", text, sizeof(text)) < 0)
		return v;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *in = NULL;

		key = strtok_r(line, " \t\r", &in);
		val = strtok_r(NULL, " \t\r", &in);
		if (key && val && !strcmp(key, "SYS_UID_MAX") && parse_decimal(val, &v) < 0)
			v = SYS_UID_MAX_DEFAULT;
	}
	return v;
}

/*
 * Does the rule spare this user? Returns why (for the text), or NULL if
 * it applies. *linger: 1 lingers, 0 does not, -1 unknown (no user name).
 */
static const char *exempt(const struct doctor *d, uint64_t sys_max, const char *user,
			  int *linger)
{
	char path[300];

	*linger = -1;
	if (user && strcmp(user, ".") && strcmp(user, "..") && !strchr(user, '/') &&
	    strlen(user) < 256) {
		snprintf(path, sizeof(path), "var/lib/systemd/linger/%s", user);
		*linger = doc_exists(d, path);
	}
	if (d->euid == 0)
		return "root is exempt";
	if (d->euid <= sys_max)
		return "a system user (up to SYS_UID_MAX) is exempt";
	if (*linger == 1)
		return "it lingers, so it is never logged out";
	return NULL;
}

void check_removeipc(const struct doctor *d, struct doc_check *c)
{
	struct remove_ipc r = { 0 };
	struct passwd *pw = getpwuid(d->euid);
	char user[256];
	const char *why_not;
	uint64_t sys_max = sys_uid_max(d);
	int on, logind, linger;

	snprintf(user, sizeof(user), "%s", pw ? pw->pw_name : "");
	read_config(d, &r);
	on = r.value != 0;
	logind = doc_exists(d, "run/systemd/seats") || doc_exists(d, "run/systemd/users");
	why_not = exempt(d, sys_max, user[0] ? user : NULL, &linger);

	if (r.value < 0)
		doc_found(c, "RemoveIPC=yes (systemd's default; no file sets it)");
	else
		doc_found(c, "RemoveIPC=%s (%s)", r.value ? "yes" : "no", r.where);
	if (!logind) {
		doc_found(c, "; systemd-logind does not run here (no /run/systemd/seats or "
			  "users): nothing removes segments at logout");
	} else if (!on) {
		doc_found(c, "; systemd-logind runs here and keeps segments at logout");
	} else {
		doc_found(c, "; uid %u%s%s%s: ", (unsigned)d->euid, user[0] ? " (" : "", user,
			  user[0] ? ")" : "");
		if (why_not) {
			doc_found(c, "%s", why_not);
			doc_status(c, DOC_INFO);
			doc_fix(c, "nothing for this user; other users' segments are removed "
				"when their last session ends");
		} else {
			doc_found(c, "not a system user (SYS_UID_MAX %llu), not lingering%s: its "
				  "segments are removed when its last session ends",
				  (unsigned long long)sys_max,
				  linger < 0 ? " (no user name to look for)" : "");
			doc_status(c, DOC_WARN);
			doc_fix(c, "put [Login] RemoveIPC=no in /etc/systemd/logind.conf.d/"
				"shmkit.conf and run 'systemctl restart systemd-logind'; or run "
				"as a system user; or 'loginctl enable-linger%s%s'",
				user[0] ? " " : "", user);
		}
	}
	if (r.bad) {
		doc_found(c, "; RemoveIPC=%s in %s is not a boolean: logind ignores it",
			  r.bad_value, r.bad_where);
		doc_status(c, DOC_WARN);
		doc_fix(c, "%swrite yes or no there", c->fix[0] ? "; and " : "");
	}
	if (r.unread) {
		doc_found(c, "; %s could not be read (%s): the answer may be wrong",
			  r.unread_where, r.unread_why);
		doc_status(c, DOC_INFO);
	}

	doc_bool(c, "remove_ipc", on);
	doc_str(c, "set_in", r.value < 0 ? NULL : r.where);
	doc_num(c, "bad_values", (uint64_t)r.bad);
	doc_num(c, "unreadable_files", (uint64_t)r.unread);
	doc_bool(c, "logind", logind);
	doc_num(c, "uid", d->euid);
	doc_str(c, "user", user[0] ? user : NULL);
	doc_num(c, "sys_uid_max", sys_max);
	fputs(linger < 0 ? "null" : linger ? "true" : "false", doc_member(c, "lingering"));
	doc_bool(c, "applies", logind && on && !why_not);
}
