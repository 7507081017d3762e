/*
 * What every benchmark prints first, so that a figure is never read
 * without its host: the cpu model, how many cpus, the kernel; and the
 * load average, as other work on the host spoils a run.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"

void machine_line(char *buf, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256], model[128] = "unknown cpu";
	struct utsname u;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		snprintf(model, sizeof(model), "%s", colon + 2);
		model[strcspn(model, "\n")] = '\0';
		break;
	}
	if (f)
		fclose(f);
	if (uname(&u) < 0)
		strcpy(u.release, "?");
	snprintf(buf, cap, "%s, %ld cpus, Linux %s", model, cpus, u.release);
}

double load_avg1(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	double v = -1;

	if (f) {
		if (fscanf(f, "%lf", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}
