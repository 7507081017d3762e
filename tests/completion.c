/*
 * The bash completion (completions/shmkit.bash), sourced into a real bash:
 * subcommands, each subcommand's options, the values of --policy, --from
 * and top --sort, directories after doctor --root, and names from
 * 'shmkit ls --json' after -n (but not top's -n, a count), top -m, and for
 * send, recv, pub and sub; shmkit-bridge's directions, options and
 * --delivery values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/*
 * Completes the words of line (the last one partial, maybe empty) and
 * returns the candidates, one per line (malloc'd). The command is called
 * by the path in $SHMKIT, as the completion would call 'shmkit'.
 */
static const char *prog = "$SHMKIT";	/* or "$BRIDGE": the command completed */

static char *complete(const char *line)
{
	char *out = NULL, *err = NULL;
	int rc = t_sh(&out, &err,
		      "bash --norc --noprofile -c '. completions/shmkit.bash; "
		      "COMP_WORDS=(\"%s\" %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
		      "case \"%s\" in \"\"|*\" \") COMP_WORDS+=(\"\"); COMP_CWORD=$((COMP_CWORD + 1));; esac; "
		      "_shmkit; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'", prog, line, line);

	if (rc != 0)
		t_fail(__FILE__, __LINE__, "completing '%s': exit %d: %s", line, rc, err);
	free(err);
	return out;
}

static int has_line(const char *out, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = out; (p = strstr(p, word)); p += n)
		if ((p == out || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

static void expect(const char *line, const char *word)
{
	char *out = complete(line);

	if (!has_line(out, word))
		t_fail(__FILE__, __LINE__, "'%s' does not offer '%s'; offers:\n%s", line, word, out);
	free(out);
}

static void expect_not(const char *line, const char *word)
{
	char *out = complete(line);

	if (has_line(out, word))
		t_fail(__FILE__, __LINE__, "'%s' offers '%s'", line, word);
	free(out);
}

/* shmkit-bridge, where it was built (beside $SHMKIT): directions, options, values. */
static void bridge(void)
{
	const char *cmd = getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit";
	char path[4096];

	snprintf(path, sizeof(path), "%s-bridge", cmd);
	if (access(path, X_OK) != 0) {
		printf("shmkit-bridge was not built: its completion is not tested\n");
		return;
	}
	setenv("BRIDGE", path, 1);
	prog = "$BRIDGE";
	expect("", "out");
	expect("", "bench");
	expect_not("o", "in");
	expect("out --del", "--delivery");
	expect("out --delivery ", "jetstream");
	expect("out --no-", "--no-batch");
	expect_not("out --delivery ", "maybe");
	expect("in --dur", "--durable");
	expect("bench --", "--rounds");
	expect("bench --si", "--size");
	prog = "$SHMKIT";
}

int main(void)
{
	char name[64], prefix[64], *out, *err;

	if (t_sh(&out, &err, "command -v bash") != 0)
		t_skip("bash is needed to test the bash completion");
	free(out), free(err);

	/* subcommands */
	expect("st", "stat");
	expect("", "bench");
	expect("", "recv");
	expect_not("st", "send");
	expect("-", "--version");
	/* options, from each subcommand's --help */
	expect("send --ti", "--timeout");
	expect("bench --q", "--quick");
	expect("bench -", "--plot");
	expect("ls -", "--json");
	expect_not("ls -", "--timeout");
	expect("su", "sub");
	expect("pub --wa", "--wait-subs");
	expect("pub --policy ", "overwrite");
	expect("sub --from ", "oldest");
	expect_not("sub -", "--keep");
	expect("doc", "doctor");
	expect("doctor --n", "--need");
	expect("doctor -", "--root");
	expect("doctor --root /et", "/etc");
	expect_not("doctor --root /etc/host", "/etc/hostname");
	expect("to", "top");
	expect("top --so", "--sort");
	expect("top --sort ", "fill");
	expect("top -s n", "name");
	/* names: a channel made now shows up after -n and for recv */
	t_name(name, sizeof(name), "compl");
	T_OK(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0));
	snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(name) - 2, name);
	{
		char line[160];

		snprintf(line, sizeof(line), "recv %s", prefix);
		expect(line, name);
		snprintf(line, sizeof(line), "top -m %s", prefix);
		expect(line, name);
		snprintf(line, sizeof(line), "top -n %s", prefix);
		expect_not(line, name);
		snprintf(line, sizeof(line), "stat -n %s", prefix);
		expect(line, name);
		snprintf(line, sizeof(line), "send --stats %s", prefix);
		expect(line, name);
		snprintf(line, sizeof(line), "sub %s", prefix);
		expect(line, name);
	}
	T_OK(shmkit_chan_destroy(name));
	bridge();
	return 0;
}
