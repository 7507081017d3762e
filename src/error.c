/* Error texts, version and the library's free. */
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "shmkit.h"
#include "util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

SHMKIT_EXPORT
const char *shmkit_version(void)
{
	return STR(SHMKIT_VERSION_MAJOR) "." STR(SHMKIT_VERSION_MINOR) "."
		STR(SHMKIT_VERSION_PATCH);
}

SHMKIT_EXPORT
void shmkit_free(void *ptr)
{
	free(ptr);
}

/*
 * Text for an error code, either sign. Our own codes read as sentences
 * that name what to look at; errno values come from strerror(), which in
 * glibc returns static text for every known value. Two errno values are
 * the channels' and topics' own answers, and strerror's words for them
 * ("Connection timed out", "Device or resource busy") would point at the
 * wrong thing.
 */
SHMKIT_EXPORT
const char *shmkit_strerror(int err)
{
	if (err < 0 && err != INT_MIN)	/* -INT_MIN overflows */
		err = -err;
	switch (err) {
	case ETIMEDOUT:
		return "timed out waiting for the other side (channel peer, or a topic's "
		       "publisher or slowest subscriber)";
	case EBUSY:
		return "that place is held by another live process (a side of a channel, "
		       "a topic's publisher, or every subscriber place)";
	case SHMKIT_EFOREIGN:
		return "not a shmkit segment (no shmkit header)";
	case SHMKIT_ECLASH:
		return "name's key is held by a segment of another name";
	case SHMKIT_ESHMMAX:
		return "size exceeds the kernel limit kernel.shmmax";
	case SHMKIT_ESHMMIN:
		return "size is below the kernel's minimum of 1 byte (SHMMIN)";
	case SHMKIT_ESHMALL:
		return "system-wide shared memory limit kernel.shmall reached";
	case SHMKIT_ESHMMNI:
		return "segment count limit kernel.shmmni reached";
	case SHMKIT_EBADHDR:
		return "shmkit header is damaged";
	case SHMKIT_ENOTCHAN:
		return "not a channel (or a channel of another layout version)";
	case SHMKIT_ECORRUPT:
		return "channel or topic state in the segment is inconsistent";
	case SHMKIT_EEOF:
		return "end of stream: the producer or publisher closed, and all it sent "
		       "was read";
	case SHMKIT_EUNTRUSTED:
		return "belongs to another user, or is open to more users than asked "
		       "(refused unless shared on purpose)";
	case SHMKIT_EABORTED:
		return "end of stream: the producer or publisher failed before its end "
		       "(what it sent before was delivered)";
	case SHMKIT_ENOTTOPIC:
		return "not a topic (or a topic of another layout version)";
	case SHMKIT_ENOTINBOX:
		return "not an inbox (or an inbox of another layout version)";
	case SHMKIT_ENOTSERVICE:
		return "not a service (or a service of another layout version)";
	case SHMKIT_ELOST:
		return "messages were overwritten before this subscriber read them";
	case SHMKIT_EPEERDEAD:
		return "the other side died without closing (channel peer or topic publisher)";
	case SHMKIT_ESMALLER:
		return "existing segment is smaller than the size asked for";
	case 0:
		return "success";
	}
	return strerror(err);
}
