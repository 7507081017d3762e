/*
 * The header a named segment carries before the user's bytes. It lives in
 * shared memory, so it is ABI: fixed-width fields only, layout pinned by
 * static assertions, and never trusted when read back (see hdr_check).
 */
#ifndef SHMKIT_HEADER_H
#define SHMKIT_HEADER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHMKIT_HDR_MAGIC 0x4b4d4853u	/* "SHMK" little-endian */
#define SHMKIT_HDR_VERSION 1
#define SHMKIT_HDR_SIZE 128

enum shmkit_hdr_flags {
	SHMKIT_HDR_PERSIST = 1u << 0,	/* made to outlive its creator */
	SHMKIT_HDR_CHANNEL = 1u << 1,	/* the user's bytes hold a channel (chan.h) */
	SHMKIT_HDR_TOPIC = 1u << 2,	/* the user's bytes hold a topic (topic.h) */
	SHMKIT_HDR_INBOX = 1u << 3,	/* the user's bytes hold an inbox (inbox.h) */
};

struct __shmkit_hdr {
	_Atomic uint32_t magic;	/* written last, with release: see hdr_publish */
	uint16_t version;
	uint16_t hdr_size;	/* offset of the user's bytes */
	uint32_t flags;		/* SHMKIT_HDR_* */
	uint32_t key;		/* the key the name hashes to */
	uint64_t data_size;	/* user bytes after the header */
	int32_t creator_pid;
	uint32_t reserved0;
	uint64_t creator_start;	/* creator's start time, ticks after boot */
	char name[64];		/* NUL-terminated */
	uint8_t reserved[24];
};

_Static_assert(sizeof(struct __shmkit_hdr) == SHMKIT_HDR_SIZE, "header size is ABI");
_Static_assert(offsetof(struct __shmkit_hdr, data_size) == 16, "header layout is ABI");
_Static_assert(offsetof(struct __shmkit_hdr, creator_start) == 32, "header layout is ABI");
_Static_assert(offsetof(struct __shmkit_hdr, name) == 40, "header layout is ABI");

/* A checked copy of a header, in private memory. */
struct __shmkit_hdr_view {
	uint32_t flags;
	uint64_t data_size;
	pid_t creator_pid;
	uint64_t creator_start;
	char name[64];
};

/* Fills a fresh header for name and publishes it. */
void __shmkit_hdr_init(void *base, const char *name, uint64_t data_size,
		       uint32_t flags);

/*
 * Copies the header at base out of shared memory once, then checks the
 * copy against the segment it came from (segsz bytes, key). Returns 0 and
 * fills view if valid; -SHMKIT_EFOREIGN if there is no header at all (no
 * magic); -SHMKIT_EBADHDR if the magic is there but anything else is off.
 */
int __shmkit_hdr_read(const void *base, uint64_t segsz, key_t key,
		      struct __shmkit_hdr_view *view);

#endif
