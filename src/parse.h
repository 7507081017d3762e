/*
 * Parsers of kernel text, kept apart from their callers so that tests and
 * fuzz targets can drive them directly. Not exported.
 */
#ifndef SHMKIT_PARSE_H
#define SHMKIT_PARSE_H

#include "shmkit.h"
#include "watch.h"

/* One row of /proc/sysvipc/shm into the kernel part of info. 0 or -EINVAL. */
int __shmkit_parse_sysvipc_row(const char *line, struct shmkit_seg_info *info);

/* The shmid a /proc/PID/maps line maps, or -1 if not a System V segment. */
int __shmkit_parse_maps_line(const char *line);

/* The list from one source: /proc/sysvipc/shm, or shmctl(SHM_STAT) which
 * shmkit_seg_list falls back to when /proc is not there. */
enum { SHMKIT_LIST_PROC, SHMKIT_LIST_SHMCTL };
int __shmkit_seg_list_from(int source, struct shmkit_seg_info **out, __shmkit_watch_fn *fn,
			   void *arg);

#endif
