#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "barrier.h"
#include "header.h"
#include "proc.h"
#include "shmkit.h"

void __shmkit_hdr_init(void *base, const char *name, uint64_t data_size,
		       uint32_t flags)
{
	struct __shmkit_hdr *h = base;
	uint64_t start = 0;

	__shmkit_proc_start(getpid(), &start);
	h->version = SHMKIT_HDR_VERSION;
	h->hdr_size = SHMKIT_HDR_SIZE;
	h->flags = flags;
	h->key = (uint32_t)shmkit_name_key(name);
	h->data_size = data_size;
	h->creator_pid = (int32_t)getpid();
	h->creator_start = start;
	memset(h->name, 0, sizeof(h->name));
	memcpy(h->name, name, strlen(name));
	/* H0: publishes every field above; pairs with H1 in __shmkit_hdr_read */
	shmkit_store_release(&h->magic, SHMKIT_HDR_MAGIC);
}

int __shmkit_hdr_read(const void *base, uint64_t segsz, key_t key,
		      struct __shmkit_hdr_view *view)
{
	const struct __shmkit_hdr *h = base;
	struct __shmkit_hdr copy;

	if (segsz < SHMKIT_HDR_SIZE)
		return -SHMKIT_EFOREIGN;
	/* H1: pairs with H0; the fields read after it are the creator's */
	if (shmkit_load_acquire(&((struct __shmkit_hdr *)h)->magic) != SHMKIT_HDR_MAGIC)
		return -SHMKIT_EFOREIGN;
	/*
	 * Another process may rewrite the header at any time: check a private
	 * copy, so that what was checked is what gets used.
	 */
	memcpy((char *)&copy + sizeof(copy.magic),
	       (const char *)h + sizeof(copy.magic),
	       sizeof(copy) - sizeof(copy.magic));
	if (copy.version != SHMKIT_HDR_VERSION || copy.hdr_size != SHMKIT_HDR_SIZE)
		return -SHMKIT_EBADHDR;
	if (memchr(copy.name, '\0', sizeof(copy.name)) == NULL ||
	    shmkit_name_check(copy.name) < 0)
		return -SHMKIT_EBADHDR;
	/* key 0: the segment is marked for removal and lost its key */
	if (copy.key != (uint32_t)shmkit_name_key(copy.name) ||
	    (key != 0 && (uint32_t)key != copy.key))
		return -SHMKIT_EBADHDR;
	if (copy.data_size > segsz - SHMKIT_HDR_SIZE)
		return -SHMKIT_EBADHDR;
	if (copy.creator_pid < 0)
		return -SHMKIT_EBADHDR;
	view->flags = copy.flags;
	view->data_size = copy.data_size;
	view->creator_pid = (pid_t)copy.creator_pid;
	view->creator_start = copy.creator_start;
	memcpy(view->name, copy.name, sizeof(view->name));
	return 0;
}
