/* --save PREFIX: the table, the JSON and the chart, side by side. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sweep.h"

/* One of --save's files, written by print (table or JSON). */
static int save_one(const struct bench *b, const char *ext,
		    void (*print)(FILE *, const struct bench *))
{
	char path[4096];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s.%s", b->save, ext);
	if (!(f = fopen(path, "w"))) {
		err_msg("bench", "%s: %s", path, strerror(errno));
		return -1;
	}
	print(f, b);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		err_msg("bench", "%s: %s", path, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

int bench_save(const struct bench *b)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s.svg", b->save);
	if (save_one(b, "txt", bench_print_table) < 0 || save_one(b, "json", bench_print_json) < 0)
		return -1;
	return bench_write_chart(b, path);
}
