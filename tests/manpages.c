/*
 * The manual pages under man/: every symbol the library exports has a page
 * man/man3/SYMBOL.3 (its own, or a .so to its group's), every page renders
 * with no groff warning, shmkit(1) documents every long option that each
 * command's --help lists, and its JSON section names every field that
 * ls --json, stat --json (of a channel, a topic, an inbox and a service)
 * bench --json, doctor --json and top --json print.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAN_DIR "man"
#define MAX_PAGES 256

static char pages[MAX_PAGES][600];
static int npages;

/* Does word occur in text as a whole word (an identifier or an option)? */
static int has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p++) {
		int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
					  (word[0] == '-' && p[-1] == '-'));
		int after = isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-';

		if (!before && !after)
			return 1;
	}
	return 0;
}

/* A page as plain text: one line per paragraph, no overstriking. */
static char *render(const char *page)
{
	char *argv[] = { "groff", "-man", "-Tascii", "-rLL=2000n", "-P-cbou", "-I", MAN_DIR,
			 (char *)page, NULL };
	char *out, *err;
	int rc = t_run(argv, &out, &err);

	if (rc != 0 || *err)
		t_fail(__FILE__, __LINE__, "groff on %s: exit %d: %s", page, rc, err);
	free(err);
	return out;
}

/* Every page under man/manN/, checked to be named for its section. */
static void find_pages(void)
{
	DIR *top = opendir(MAN_DIR), *sec;
	struct dirent *d, *e;
	char dir[300];

	if (!top)
		t_fail(__FILE__, __LINE__, "%s/: %s (run from the source tree)", MAN_DIR,
		       strerror(errno));
	while ((d = readdir(top))) {
		if (strncmp(d->d_name, "man", 3) || !isdigit((unsigned char)d->d_name[3]))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", MAN_DIR, d->d_name);
		T_ASSERT((sec = opendir(dir)) != NULL);
		while ((e = readdir(sec))) {
			const char *dot = strrchr(e->d_name, '.');

			if (e->d_name[0] == '.')
				continue;
			if (!dot || strcmp(dot + 1, d->d_name + 3))
				t_fail(__FILE__, __LINE__, "%s/%s: not a page of section %s",
				       dir, e->d_name, d->d_name + 3);
			T_ASSERT(npages < MAX_PAGES);
			snprintf(pages[npages++], sizeof(pages[0]), "%s/%s", dir, e->d_name);
		}
		closedir(sec);
	}
	closedir(top);
}

/* (b) groff -ww: every warning enabled; not one may be printed. */
static void pages_render_cleanly(void)
{
	for (int i = 0; i < npages; i++) {
		char *argv[] = { "groff", "-ww", "-man", "-Tutf8", "-z", "-I", MAN_DIR, pages[i],
				 NULL };
		char *err;
		int rc = t_run(argv, NULL, &err);

		if (rc != 0 || *err)
			t_fail(__FILE__, __LINE__, "groff -ww %s: exit %d:\n%s", pages[i], rc, err);
		free(err);
	}
}

/* (a) each symbol of the version script's global list: a page naming it. */
static int symbols_have_pages(void)
{
	FILE *map = fopen("src/shmkit.map", "r");
	char line[256], sym[128], page[300];
	int in_global = 0, n = 0;

	if (!map)
		t_fail(__FILE__, __LINE__, "src/shmkit.map: %s (run from the source tree)",
		       strerror(errno));
	while (fgets(line, sizeof(line), map)) {
		char *text, *name, *synopsis;

		if (strstr(line, "global:")) {
			in_global = 1;
			continue;
		}
		if (strstr(line, "local:"))
			in_global = 0;
		if (!in_global || sscanf(line, " %127[A-Za-z0-9_];", sym) != 1)
			continue;
		n++;
		snprintf(page, sizeof(page), "%s/man3/%s.3", MAN_DIR, sym);
		if (access(page, R_OK) != 0)
			t_fail(__FILE__, __LINE__, "%s is exported but has no page %s", sym, page);
		/* after any .so: the page names it, and its synopsis declares it */
		text = render(page);
		name = strstr(text, "\nNAME\n");
		synopsis = strstr(text, "\nSYNOPSIS\n");
		if (!name || !synopsis || synopsis < name)
			t_fail(__FILE__, __LINE__, "%s: no NAME and SYNOPSIS", page);
		*synopsis = '\0';
		if (!has_word(name, sym))
			t_fail(__FILE__, __LINE__, "%s: NAME does not list %s", page, sym);
		*synopsis = '\n';
		snprintf(line, sizeof(line), "%s(", sym);
		T_STR_CONTAINS(synopsis, line);
		free(text);
	}
	fclose(map);
	T_ASSERT(n > 0);
	return n;
}

/* The long options in a --help text, each checked against shmkit(1). */
static void check_options(const char *help, const char *man, const char *what)
{
	char opt[64];
	int n = 0;

	for (const char *p = help; (p = strstr(p, "--")); ) {
		size_t len = 2;

		while (isalnum((unsigned char)p[len]) || p[len] == '-')
			len++;
		if (len > 2 && len < sizeof(opt) && (p == help || !isalnum((unsigned char)p[-1]))) {
			memcpy(opt, p, len);
			opt[len] = '\0';
			if (!has_word(man, opt))
				t_fail(__FILE__, __LINE__, "%s lists %s; shmkit(1) does not", what, opt);
			n++;
		}
		p += len;
	}
	if (n == 0)
		t_fail(__FILE__, __LINE__, "%s lists no long option at all", what);
}

/* (c) the commands, from shmkit --help, and the options of each. */
static void options_documented(const char *man)
{
	char *out, *err, *cmds, *line, *save = NULL, what[64];
	int n = 0;

	T_EQ(t_cli(&out, &err, "--help", NULL), 0);
	check_options(out, man, "shmkit --help");
	cmds = strstr(out, "Commands:\n");
	T_ASSERT(cmds != NULL);
	free(err);
	for (line = strtok_r(cmds + 10, "\n", &save); line && !strncmp(line, "  ", 2);
	     line = strtok_r(NULL, "\n", &save)) {
		char cmd[32], *help, *herr, heading[64];

		if (sscanf(line, " %31s", cmd) != 1)
			break;
		snprintf(heading, sizeof(heading), "shmkit %s", cmd);
		if (!has_word(man, heading))
			t_fail(__FILE__, __LINE__, "shmkit(1) does not describe '%s'", heading);
		T_EQ(t_cli(&help, &herr, cmd, "--help", NULL), 0);
		snprintf(what, sizeof(what), "shmkit %s --help", cmd);
		check_options(help, man, what);
		free(help), free(herr);
		n++;
	}
	T_ASSERT(n >= 8);
	free(out);
}

/* (d) every key of every JSON object the commands print. */
static void json_documented(const char *man)
{
	const char *text = t_tmpfile("man1"), *ls = t_tmpfile("ls"), *st = t_tmpfile("stat"),
		   *bench = t_tmpfile("bench"), *kinds = t_tmpfile("kinds"),
		   *doctor = t_tmpfile("doctor"), *top = t_tmpfile("top");
	struct shmkit_topic_params tp = { .max_msg = 64, .slots = 4, .max_subs = 1,
					  .policy = SHMKIT_TOPIC_BLOCK };
	char name[64], topic[64], inbox[64], service[64], *out, *err;
	struct shmkit_chan *tx, *lane;
	struct shmkit_sub *sub;
	struct shmkit_client *cl;
	FILE *f;
	int shmid;

	if (t_sh(&out, &err, "command -v python3") != 0)
		t_skip("python3 is needed to read the JSON (the pages themselves passed)");
	free(out), free(err);

	f = fopen(text, "w");
	T_ASSERT(f && fputs(man, f) >= 0 && fclose(f) == 0);

	/* a channel with a producer attached: channel_info, attached[] */
	t_name(name, sizeof(name), "man");
	shmid = t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, &tx));
	T_OK(shmkit_chan_send(tx, "x", 1, 0));
	/* a topic with a subscriber, an inbox with a producer, a service with a client */
	T_OK(t_track(shmkit_topic_create(t_name(topic, sizeof(topic), "man-t"), &tp,
					 SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_sub_open(topic, 0, &sub));
	T_OK(t_track(shmkit_inbox_create(t_name(inbox, sizeof(inbox), "man-i"), 2, 4096,
					 SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_inbox_join(inbox, 0, &lane));
	T_OK(t_track(shmkit_service_create(t_name(service, sizeof(service), "man-s"), 2, 4096,
					   SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_client_open(service, 0, &cl));

	/* the three objects as one array */
	T_EQ(t_sh(&out, &err, "\"$SHMKIT\" ls --json >%s && \"$SHMKIT\" stat --json %d >%s && "
		  "{ echo [; \"$SHMKIT\" stat --json -n %s && echo , && "
		  "\"$SHMKIT\" stat --json -n %s && echo , && \"$SHMKIT\" stat --json -n %s && "
		  "echo ]; } >%s", ls, shmid, st, topic, inbox, service, kinds), 0);
	free(out), free(err);
	T_EQ(t_sh(&out, &err, "\"$SHMKIT\" bench --reps 1 --duration 0.01 -t shmkit,pipe "
		  "-s 64 -l 8 --json >%s", bench), 0);
	free(out), free(err);
	/* exit 1 if something here needs attention: the JSON is what counts */
	T_ASSERT(t_sh(&out, &err, "\"$SHMKIT\" doctor --json >%s", doctor) <= 1);
	free(out), free(err);
	/* one refresh (one line) of every kind, with its members */
	T_EQ(t_sh(&out, &err, "\"$SHMKIT\" top -n 1 -i 0.05 --json >%s", top), 0);
	free(out), free(err);

	if (t_sh(&out, &err,
		 "python3 - %s %s %s %s %s %s %s <<'EOF'\n"
		 "import json, re, sys\n"
		 "text = open(sys.argv[1]).read()\n"
		 "start = text.find('\\nJSON\\n')\n"
		 "assert start >= 0, 'shmkit(1) has no JSON section'\n"
		 "end = re.search(r'\\n[A-Z][A-Z ]*\\n', text[start + 6:])\n"
		 "section = text[start:start + 6 + end.start()] if end else text[start:]\n"
		 "words = set(re.findall(r'[A-Za-z_][A-Za-z0-9_]*', section))\n"
		 "def walk(v, path, found):\n"
		 "    if isinstance(v, dict):\n"
		 "        for k, x in v.items():\n"
		 "            found.setdefault(k, path + '.' + k)\n"
		 "            walk(x, path + '.' + k, found)\n"
		 "    elif isinstance(v, list):\n"
		 "        for x in v:\n"
		 "            walk(x, path + '[]', found)\n"
		 "found = {}\n"
		 "for label, f in zip(('ls', 'stat', 'bench', 'stat', 'doctor', 'top'), sys.argv[2:]):\n"
		 "    walk(json.load(open(f)), label, found)\n"
		 "for k in ('channel_info', 'producer_pid', 'pid', 'comm', 'stream',\n"
		 "          'syscalls_per_1000', 'other_cpu', 'latency', 'mean_ns', 'sampled_p99_ns',\n"
		 "          'memcpy', 'comparisons', 'clock_ns', 'producer_yields', 'consumer_wait_ns',\n"
		 "          'line_ns', 'moved', 'line_median_ns', 'topic_info', 'subscribers',\n"
		 "          'inbox_info', 'lanes', 'replies_read', 'checks', 'details',\n"
		 "          'remove_ipc', 'container_marker', 'maps_unreadable',\n"
		 "          'interval_s', 'read_ms', 'msgs_per_s', 'members', 'sides', 'role',\n"
		 "          'attached_partial', 'lost_per_s', 'number'):\n"
		 "    assert k in found, 'the commands did not print ' + k\n"
		 "missing = sorted(p for k, p in found.items() if k not in words)\n"
		 "assert not missing, 'not in the JSON section of shmkit(1): ' + ', '.join(missing)\n"
		 "print(len(found), 'fields')\n"
		 "EOF", text, ls, st, bench, kinds, doctor, top) != 0)
		t_fail(__FILE__, __LINE__, "%s%s", out, err);
	free(out), free(err);

	T_OK(shmkit_chan_close(tx));
	T_OK(shmkit_chan_destroy(name));
	T_OK(shmkit_sub_close(sub));
	T_OK(shmkit_topic_destroy(topic));
	T_OK(shmkit_chan_close(lane));
	T_OK(shmkit_inbox_destroy(inbox));
	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_service_destroy(service));
}

/* shmkit-bridge(1) documents every option its --help lists (if built). */
static void bridge_documented(void)
{
	char *man = render(MAN_DIR "/man1/shmkit-bridge.1"), *help, *err;
	static const char *const dirs[] = { "out", "in" };

	for (size_t i = 0; i < 2; i++) {
		if (t_sh(&help, &err, "b=\"$(dirname \"$SHMKIT\")/shmkit-bridge\"; "
			 "[ -x \"$b\" ] || exit 77; \"$b\" %s --help", dirs[i]) == 77) {
			free(help), free(err);
			break;
		}
		check_options(help, man, dirs[i]);
		free(help), free(err);
	}
	free(man);
}

int main(void)
{
	char *out, *err, *man;
	int nsyms;

	if (t_sh(&out, &err, "command -v groff") != 0)
		t_skip("groff is not installed (apt-get install groff-base)");
	free(out), free(err);

	find_pages();
	nsyms = symbols_have_pages();
	/* a page per symbol, shmkit(1) and shmkit(7) */
	T_ASSERT(npages >= nsyms + 2);
	pages_render_cleanly();

	man = render(MAN_DIR "/man1/shmkit.1");
	options_documented(man);
	json_documented(man);
	free(man);
	bridge_documented();
	return 0;
}
