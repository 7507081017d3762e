/*
 * Fuzz target: every parser of untrusted text in shmkit, with the
 * invariants that are cheap to check, most against an independent
 * reference (strspn for the alphabet, strtoull for the value).
 *
 * Input: a selector byte, then the text (up to the first NUL, or the end).
 * The text is copied to a heap block of exactly its size, so the sanitizer
 * sees any read past its end. sel & 15 picks the parser; sel >> 4 is a
 * variant for those that take more than a string.
 *
 *   0  shmkit_key_parse             1  shmkit_name_check, _name_key
 *   2  shmkit_key_resolve (key, name, path: proj from the variant)
 *   3  __shmkit_parse_sysvipc_row   4  __shmkit_parse_maps_line
 *   5  parse_size (cli)             6  parse_mode (cli)
 *   7  parse_shmid (cli)            8  target_option -k/-p/-n, target_shmid (cli)
 *   9  __shmkit_hdr_read: the bytes after the selector are binary, not
 *      text: segsz (8), key (4), then the 128-byte header (zeros past the end)
 *  10  __shmkit_parse_u64           11 fmt_bytes, fmt_age, fmt_mode, state_name
 *      (cli; binary: a 64-bit number, the variant picks the buffer size)
 *  12  parse_seconds (cli)          13  safe_text (cli; the variant, if not 0,
 *                                      is the buffer size)
 *
 * The cli parsers print their complaint to stderr (err_msg): fuzz/run.sh
 * runs this target with -close_fd_mask=2. Built by fuzz/run.sh with cli/
 * util.c linked in, and by tests/fuzz_replay.c, which includes this file
 * (after cli/util.c) with PARSE_FUZZ_ENTRY and FUZZ_FAIL defined.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/cli.h"
#include "fuzz.h"
#include "header.h"
#include "parse.h"
#include "shmkit.h"
#include "util.h"

#ifndef PARSE_FUZZ_ENTRY
#define PARSE_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define PF_CHECK(c) do { if (!(c)) FUZZ_FAIL("violated: " #c); } while (0)

#define PF_DIGITS "0123456789"
#define PF_HEX "0123456789abcdefABCDEF"
#define PF_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* s is all of set, and not empty. */
static int pf_all(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* strtoull over a string of digits only: 0, or -ERANGE. */
static int pf_ull(const char *s, int base, unsigned long long *v)
{
	errno = 0;
	*v = strtoull(s, NULL, base);
	return errno == ERANGE ? -ERANGE : 0;
}

static void pf_key_parse(const char *s)
{
	key_t key = 0;
	int r = shmkit_key_parse(s, &key), hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	unsigned long long v = 0;
	int want = pf_all(digits, hex ? PF_HEX : PF_DIGITS) &&
		   pf_ull(digits, hex ? 16 : 10, &v) == 0 && v >= 1 && v <= UINT32_MAX;

	PF_CHECK(r == 0 || r == -EINVAL);
	PF_CHECK((r == 0) == want);
	if (r == 0)
		PF_CHECK((uint32_t)key == v && key != IPC_PRIVATE);
}

static void pf_name(const char *s)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = s };
	key_t key = 0;
	int r = shmkit_name_check(s);
	int want = pf_all(s, PF_NAME_CHARS) && strlen(s) <= SHMKIT_NAME_MAX;

	PF_CHECK(r == 0 || r == -EINVAL);
	PF_CHECK((r == 0) == want);
	PF_CHECK(shmkit_key_resolve(&ref, &key) == r);
	if (r == 0)
		PF_CHECK(key == shmkit_name_key(s) && key != IPC_PRIVATE);
}

static void pf_resolve(const char *s, unsigned variant)
{
	struct shmkit_ref ref;
	key_t key = 0, parsed = 0;
	int r;

	/* a raw key: whatever key_parse accepts, resolve passes through */
	memset(&ref, 0, sizeof(ref));
	ref.kind = SHMKIT_REF_KEY;
	if (shmkit_key_parse(s, &parsed) == 0) {
		ref.key = parsed;
		PF_CHECK(shmkit_key_resolve(&ref, &key) == 0 && key == parsed);
	}
	/* a path, proj 0, 17, ..., 238 from the variant, or 256 for 15: a bad
	 * proj or an empty path is refused before the file system is asked */
	memset(&ref, 0, sizeof(ref));
	ref.kind = SHMKIT_REF_PATH;
	ref.path = s;
	ref.proj = variant == 15 ? 256 : (int)(variant * 17);
	r = shmkit_key_resolve(&ref, &key);
	if (!*s || ref.proj < 1 || ref.proj > 255)
		PF_CHECK(r == -EINVAL);
	else
		PF_CHECK(r <= 0);
	/* an unknown kind */
	ref.kind = (int)variant + 4;
	PF_CHECK(shmkit_key_resolve(&ref, &key) == -EINVAL);
	PF_CHECK(shmkit_key_resolve(NULL, &key) == -EINVAL);
}

static void pf_sysvipc(const char *s)
{
	struct shmkit_seg_info info;
	int r;

	memset(&info, 0x5a, sizeof(info));
	r = __shmkit_parse_sysvipc_row(s, &info);
	PF_CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		PF_CHECK(info.shmid >= 0);
		PF_CHECK(info.mode <= 0777);
		PF_CHECK((info.flags & ~(unsigned)(SHMKIT_INFO_REMOVING | SHMKIT_INFO_LOCKED)) == 0);
		PF_CHECK(info.name[0] == '\0');
	}
}

static void pf_maps(const char *s)
{
	int r = __shmkit_parse_maps_line(s);

	PF_CHECK(r >= -1);
	if (r >= 0)
		PF_CHECK(strstr(s, "/SYSV") != NULL && strstr(s, "00:") != NULL);
}

static void pf_size(const char *s)
{
	uint64_t size = 0;
	size_t n = strspn(s, PF_DIGITS);
	unsigned long long v = 0, mult = 1;
	int r = parse_size(s, &size), want = n > 0;

	PF_CHECK(r == 0 || r == -1);
	if (want && s[n]) {
		switch (s[n]) {
		case 'k': case 'K': mult = 1ull << 10; break;
		case 'm': case 'M': mult = 1ull << 20; break;
		case 'g': case 'G': mult = 1ull << 30; break;
		case 't': case 'T': mult = 1ull << 40; break;
		default: want = 0;
		}
		if (s[n + 1])
			want = 0;
	}
	if (want) {
		char digits[4096];
		if (n >= sizeof(digits))
			want = 0;	/* hundreds of digits: far past 64 bits */
		else {
			memcpy(digits, s, n);
			digits[n] = '\0';
			want = pf_ull(digits, 10, &v) == 0 && v > 0 && v <= UINT64_MAX / mult;
		}
	}
	PF_CHECK((r == 0) == want);
	if (r == 0)
		PF_CHECK(size == v * mult && size > 0);
}

static void pf_mode(const char *s)
{
	int mode = -1, r = parse_mode(s, &mode);
	unsigned long long v = 0;
	int want = pf_all(s, "01234567") && pf_ull(s, 8, &v) == 0 && v <= 0777;

	PF_CHECK(r == 0 || r == -1);
	PF_CHECK((r == 0) == want);
	if (r == 0)
		PF_CHECK(mode >= 0 && (unsigned long long)mode == v);
}

static void pf_shmid(const char *s)
{
	int shmid = -1, r = parse_shmid(s, &shmid);
	unsigned long long v = 0;
	int want = pf_all(s, PF_DIGITS) && pf_ull(s, 10, &v) == 0 && v <= INT32_MAX;

	PF_CHECK(r == 0 || r == -1);
	PF_CHECK((r == 0) == want);
	if (r == 0)
		PF_CHECK(shmid >= 0 && (unsigned long long)shmid == v);
}

static void pf_target(const char *s, unsigned variant)
{
	static const char opts[] = "kpn";
	struct target t;
	key_t key = 0;
	int opt = opts[variant % 3], r;

	memset(&t, 0, sizeof(t));
	t.shmid = -1;
	r = target_option(&t, opt, s);
	PF_CHECK(r == 0 || r == -1);
	PF_CHECK(memchr(t.label, '\0', sizeof(t.label)) != NULL);
	if (r == 0) {
		switch (opt) {
		case 'k':
			PF_CHECK(t.ref.kind == SHMKIT_REF_KEY);
			PF_CHECK(shmkit_key_parse(s, &key) == 0 && key == t.ref.key);
			PF_CHECK(shmkit_key_resolve(&t.ref, &key) == 0 && key == t.ref.key);
			break;
		case 'n':
			PF_CHECK(t.ref.kind == SHMKIT_REF_NAME && shmkit_name_check(s) == 0);
			PF_CHECK(shmkit_key_resolve(&t.ref, &key) == 0);
			break;
		case 'p':
			PF_CHECK(t.ref.kind == SHMKIT_REF_PATH);
			PF_CHECK(t.ref.path && *t.ref.path && strlen(t.ref.path) < 4096);
			PF_CHECK(t.ref.proj >= 1 && t.ref.proj <= 255);
			PF_CHECK(strncmp(t.ref.path, s, strlen(t.ref.path)) == 0);
			/* ftok only stats the path: it may well not exist */
			PF_CHECK(shmkit_key_resolve(&t.ref, &key) <= 0);
			break;
		}
		/* a second target is refused */
		PF_CHECK(target_option(&t, opt, s) == -1);
		PF_CHECK(target_shmid(&t, s) == -1);
	} else {
		PF_CHECK(t.ref.kind == 0);
	}
	memset(&t, 0, sizeof(t));
	t.shmid = -1;
	r = target_shmid(&t, s);
	PF_CHECK(r == 0 || r == -1);
	if (r == 0)
		PF_CHECK(t.shmid >= 0);
}

/* Digits, then optionally a point and more digits; nothing else. */
static int pf_seconds_form(const char *s)
{
	size_t n = strspn(s, PF_DIGITS);

	if (n == 0)
		return 0;
	if (!s[n])
		return 1;
	return s[n] == '.' && s[n + 1] && !s[n + 1 + strspn(s + n + 1, PF_DIGITS)];
}

static void pf_seconds(const char *s)
{
	int64_t ms = -1;
	int r = parse_seconds("seconds", s, &ms), form = pf_seconds_form(s);
	double ref = form ? strtod(s, NULL) * 1000 : -1;

	PF_CHECK(r == 0 || r == -1);
	if (r == 0) {
		PF_CHECK(form);
		PF_CHECK(ms >= 0 && ms <= (int64_t)SECONDS_MAX * 1000);
		/* strtod's binary value may sit just below a half: one off at most */
		PF_CHECK(ms - ref <= 1.0 && ref - ms <= 1.0);
	} else if (form) {
		PF_CHECK(ref >= (double)SECONDS_MAX * 1000);
	}
}

static int pf_hex(unsigned char c)
{
	return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/*
 * What safe_text writes is printable (no control byte, no C1 control,
 * well-formed UTF-8), and reading its escapes back gives the text again,
 * all of it when the buffer is big enough, else a prefix.
 */
static void pf_safe_text(const char *s, unsigned variant)
{
	size_t len = strlen(s), cap = variant ? variant : SAFE_CAP(len), n = 0, k;
	char *buf = malloc(cap), *back = malloc(len + 1);
	const unsigned char *p;

	if (!buf || !back)
		abort();
	PF_CHECK(safe_text(buf, cap, s) == buf);
	PF_CHECK(memchr(buf, '\0', cap) != NULL);
	for (p = (const unsigned char *)buf; *p; p += k) {
		k = *p < 0x80 ? 1 : (size_t)utf8_seq(p);
		PF_CHECK(k > 0 && *p >= 0x20 && *p != 0x7f);
		PF_CHECK(!(p[0] == 0xc2 && p[1] < 0xa0));
		if (*p != '\\') {
			memcpy(back + n, p, k);
			n += k;
		} else if (p[1] == '\\') {
			back[n++] = '\\';
			k = 2;
		} else {
			PF_CHECK(p[1] == 'x' && isxdigit(p[2]) && isxdigit(p[3]));
			back[n++] = (char)(pf_hex(p[2]) * 16 + pf_hex(p[3]));
			k = 4;
		}
		PF_CHECK(n <= len);
	}
	PF_CHECK(memcmp(back, s, n) == 0);
	if (!variant)
		PF_CHECK(n == len);
	free(buf);
	free(back);
}

static void pf_hdr(const uint8_t *p, size_t n)
{
	unsigned char *base = calloc(1, SHMKIT_HDR_SIZE);
	struct __shmkit_hdr_view view;
	uint64_t segsz = 0;
	uint32_t key = 0;
	size_t i;
	int r;

	if (!base)
		abort();
	for (i = 0; i < 8 && i < n; i++)
		segsz |= (uint64_t)p[i] << (8 * i);
	for (i = 8; i < 12 && i < n; i++)
		key |= (uint32_t)p[i] << (8 * (i - 8));
	if (n > 12)
		memcpy(base, p + 12, n - 12 < SHMKIT_HDR_SIZE ? n - 12 : SHMKIT_HDR_SIZE);
	memset(&view, 0x5a, sizeof(view));
	r = __shmkit_hdr_read(base, segsz, (key_t)key, &view);
	PF_CHECK(r == 0 || r == -SHMKIT_EFOREIGN || r == -SHMKIT_EBADHDR);
	if (r == 0) {
		PF_CHECK(segsz >= SHMKIT_HDR_SIZE);
		PF_CHECK(view.data_size <= segsz - SHMKIT_HDR_SIZE);
		PF_CHECK(memchr(view.name, '\0', sizeof(view.name)) != NULL);
		PF_CHECK(shmkit_name_check(view.name) == 0);
		PF_CHECK(key == 0 || (uint32_t)shmkit_name_key(view.name) == key);
		PF_CHECK(view.creator_pid >= 0);
	}
	free(base);
}

static void pf_u64(const char *s)
{
	uint64_t v = 0;
	size_t n = strspn(s, PF_DIGITS), i;
	unsigned long long ref = 0;
	int r = __shmkit_parse_u64(s, &v), want;

	if (n == 0) {
		want = -EINVAL;
	} else {
		char *digits = malloc(n + 1);
		if (!digits)
			abort();
		memcpy(digits, s, n);
		digits[n] = '\0';
		want = pf_ull(digits, 10, &ref);
		free(digits);
		for (i = n; want == 0 && s[i]; i++)
			if (!strchr(" \t\n\v\f\r", s[i]))
				want = -EINVAL;
	}
	PF_CHECK(r == want);
	if (r == 0)
		PF_CHECK(v == ref);
}

static void pf_fmt(const uint8_t *p, size_t n, unsigned variant)
{
	char buf[40];
	size_t cap = variant ? variant : sizeof(buf);
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8 && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	memset(buf, 'x', sizeof(buf));
	fmt_bytes(buf, cap, (double)v, FMT_SHORT);
	PF_CHECK(memchr(buf, '\0', cap) != NULL);
	if (cap == sizeof(buf))
		PF_CHECK(strlen(buf) >= 2 && strchr("BKMGTPE", buf[strlen(buf) - 1]));
	memset(buf, 'x', sizeof(buf));
	fmt_bytes(buf, cap, (double)v, FMT_IEC);
	PF_CHECK(memchr(buf, '\0', cap) != NULL);
	if (cap == sizeof(buf))
		PF_CHECK(strlen(buf) >= 3 && buf[strlen(buf) - 1] == 'B');
	memset(buf, 'x', sizeof(buf));
	fmt_age(buf, cap, (int64_t)v);
	PF_CHECK(memchr(buf, '\0', cap) != NULL);
	if (cap == sizeof(buf))
		PF_CHECK(strlen(buf) >= 2 && strchr("smhd", buf[strlen(buf) - 1]));
	memset(buf, 'x', sizeof(buf));
	fmt_mode(buf, cap, (unsigned)v);
	PF_CHECK(memchr(buf, '\0', cap) != NULL);
	if (cap == sizeof(buf))
		PF_CHECK(strlen(buf) == 4 && pf_all(buf, "01234567"));
	PF_CHECK(state_name((int)v) != NULL);
}

int PARSE_FUZZ_ENTRY(const uint8_t *data, size_t size);
int PARSE_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	unsigned sel, variant;
	size_t n;
	char *s;

	if (size == 0)
		return 0;
	sel = data[0] & 15;
	variant = data[0] >> 4;
	data++;
	size--;
	if (sel == 9) {
		pf_hdr(data, size);
		return 0;
	}
	if (sel == 11) {
		pf_fmt(data, size, variant);
		return 0;
	}
	/* the text, in a block of its own size: reads past it are caught */
	n = strnlen((const char *)data, size);
	s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	switch (sel) {
	case 0: pf_key_parse(s); break;
	case 1: pf_name(s); break;
	case 2: pf_resolve(s, variant); break;
	case 3: pf_sysvipc(s); break;
	case 4: pf_maps(s); break;
	case 5: pf_size(s); break;
	case 6: pf_mode(s); break;
	case 7: pf_shmid(s); break;
	case 8: pf_target(s, variant); break;
	case 10: pf_u64(s); break;
	case 12: pf_seconds(s); break;
	case 13: pf_safe_text(s, variant); break;
	default: break;	/* 14, 15: nothing yet */
	}
	free(s);
	return 0;
}
