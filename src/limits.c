/* The kernel's System V shared memory limits. */
#include <errno.h>
#include <unistd.h>

#include "shmkit.h"
#include "util.h"

static int read_limit(const char *path, uint64_t *out)
{
	char buf[64];
	int n = __shmkit_read_file(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	return __shmkit_parse_u64(buf, out);
}

SHMKIT_EXPORT
int shmkit_limits(struct shmkit_limits *lim)
{
	int err;

	if (!lim)
		return -EINVAL;
	lim->page_size = __shmkit_page_size();
	if ((err = read_limit("/proc/sys/kernel/shmmax", &lim->shmmax)) < 0 ||
	    (err = read_limit("/proc/sys/kernel/shmall", &lim->shmall)) < 0 ||
	    (err = read_limit("/proc/sys/kernel/shmmni", &lim->shmmni)) < 0)
		return err;
	return 0;
}
