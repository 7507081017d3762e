/* Keys: raw key parsing, names and their hash, ftok, the one resolver. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/ipc.h>

#include "harness.h"

static void raw_keys(void)
{
	key_t k;

	T_OK(shmkit_key_parse("1", &k));
	T_EQ(k, 1);
	T_OK(shmkit_key_parse("0x1234", &k));
	T_EQ(k, 0x1234);
	T_OK(shmkit_key_parse("0XaBcD", &k));
	T_EQ(k, 0xabcd);
	T_OK(shmkit_key_parse("4294967295", &k));
	T_EQ((uint32_t)k, 0xffffffffu);
	T_OK(shmkit_key_parse("0xffffffff", &k));
	T_EQ((uint32_t)k, 0xffffffffu);
	/* 0 is IPC_PRIVATE, not a key; junk, signs and overflow are refused */
	T_EQ(shmkit_key_parse("0", &k), -EINVAL);
	T_EQ(shmkit_key_parse("0x0", &k), -EINVAL);
	T_EQ(shmkit_key_parse("", &k), -EINVAL);
	T_EQ(shmkit_key_parse("0x", &k), -EINVAL);
	T_EQ(shmkit_key_parse("-1", &k), -EINVAL);
	T_EQ(shmkit_key_parse("+1", &k), -EINVAL);
	T_EQ(shmkit_key_parse("12a", &k), -EINVAL);
	T_EQ(shmkit_key_parse("0x1g", &k), -EINVAL);
	T_EQ(shmkit_key_parse("4294967296", &k), -EINVAL);
	T_EQ(shmkit_key_parse("0x100000000", &k), -EINVAL);
	T_EQ(shmkit_key_parse(" 1", &k), -EINVAL);
}

static void names(void)
{
	char long_name[80];

	T_OK(shmkit_name_check("a"));
	T_OK(shmkit_name_check("A.b_c-9"));
	memset(long_name, 'x', 63);
	long_name[63] = '\0';
	T_OK(shmkit_name_check(long_name));
	long_name[63] = 'x';
	long_name[64] = '\0';
	T_EQ(shmkit_name_check(long_name), -EINVAL);
	T_EQ(shmkit_name_check(""), -EINVAL);
	T_EQ(shmkit_name_check("a/b"), -EINVAL);
	T_EQ(shmkit_name_check("a b"), -EINVAL);
	T_EQ(shmkit_name_check("caf\xc3\xa9"), -EINVAL);
	T_EQ(shmkit_name_check(NULL), -EINVAL);
}

/*
 * The hash is documented (FNV-1a 32 over "shmkit:" + name), so other
 * programs may compute it: these vectors were computed independently.
 */
static void name_hash(void)
{
	T_EQ((uint32_t)shmkit_name_key("demo"), 0x6648ed28u);
	T_EQ((uint32_t)shmkit_name_key("logs"), 0x8f52f930u);
	T_EQ((uint32_t)shmkit_name_key("a"), 0x97a47b46u);
	T_EQ((uint32_t)shmkit_name_key("A.b_c-9"), 0xf48c790au);
	/* a known collision pair, used by the named-segment tests */
	T_EQ(shmkit_name_key("c522789"), shmkit_name_key("c739192"));
}

static void resolve(void)
{
	struct shmkit_ref ref = { 0 };
	key_t k = 0;

	ref.kind = SHMKIT_REF_KEY;
	ref.key = 0x42;
	T_OK(shmkit_key_resolve(&ref, &k));
	T_EQ(k, 0x42);
	ref.key = IPC_PRIVATE;
	T_EQ(shmkit_key_resolve(&ref, &k), -EINVAL);

	ref.kind = SHMKIT_REF_NAME;
	ref.name = "demo";
	T_OK(shmkit_key_resolve(&ref, &k));
	T_EQ(k, shmkit_name_key("demo"));
	ref.name = "bad/name";
	T_EQ(shmkit_key_resolve(&ref, &k), -EINVAL);

	/* ftok: same key as libc's, project id 1..255 only */
	ref.kind = SHMKIT_REF_PATH;
	ref.path = "/tmp";
	ref.proj = 7;
	T_OK(shmkit_key_resolve(&ref, &k));
	T_EQ(k, ftok("/tmp", 7));
	ref.proj = 255;
	T_OK(shmkit_key_resolve(&ref, &k));
	T_EQ(k, ftok("/tmp", 255));
	ref.proj = 0;
	T_EQ(shmkit_key_resolve(&ref, &k), -EINVAL);
	ref.proj = 256;
	T_EQ(shmkit_key_resolve(&ref, &k), -EINVAL);
	ref.proj = 1;
	ref.path = "/nonexistent/shmkit/path";
	T_EQ(shmkit_key_resolve(&ref, &k), -ENOENT);
	ref.path = "";
	T_EQ(shmkit_key_resolve(&ref, &k), -EINVAL);

	ref.kind = 99;
	T_EQ(shmkit_key_resolve(&ref, &k), -EINVAL);
	T_EQ(shmkit_key_resolve(NULL, &k), -EINVAL);
}

static void errors(void)
{
	T_STR_CONTAINS(shmkit_strerror(-SHMKIT_ESHMMAX), "shmmax");
	T_STR_CONTAINS(shmkit_strerror(-SHMKIT_ESHMALL), "shmall");
	T_STR_CONTAINS(shmkit_strerror(-SHMKIT_ESHMMNI), "shmmni");
	T_STR_CONTAINS(shmkit_strerror(-SHMKIT_ECLASH), "another name");
	T_STR_CONTAINS(shmkit_strerror(-ENOENT), "No such file");
	T_STR_CONTAINS(shmkit_strerror(ENOENT), "No such file");
	T_STR_CONTAINS(shmkit_strerror(-SHMKIT_ESHMMIN), "1 byte");
	/* the two errno values the channel calls give a meaning of their own */
	T_STR_CONTAINS(shmkit_strerror(-ETIMEDOUT), "timed out waiting for the other side");
	T_STR_CONTAINS(shmkit_strerror(ETIMEDOUT), "channel");
	T_STR_CONTAINS(shmkit_strerror(-EBUSY), "held by another live process");
	T_ASSERT(!strstr(shmkit_strerror(-ETIMEDOUT), "Connection"));
	T_ASSERT(!strstr(shmkit_strerror(-EBUSY), "Device"));
	/* any int is accepted, also the one whose negation overflows */
	T_STR_CONTAINS(shmkit_strerror(INT_MIN), "Unknown error");
}

int main(void)
{
	raw_keys();
	names();
	name_hash();
	resolve();
	errors();
	return 0;
}
