/*
 * Text from the system or the command line, made safe for a terminal:
 * names, paths and process names are bytes that anyone may have chosen.
 */
#include <string.h>

#include "cli.h"

int utf8_seq(const unsigned char *s)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	/* the first continuation byte has the narrow range; the rest any */
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

/*
 * The printable form of the character that starts s, into out (at most
 * four bytes and a NUL); returns how many bytes of s it stands for.
 * Control bytes (below 0x20, and 0x7f), the C1 controls U+0080..U+009F
 * (some terminals obey them in UTF-8 too, CSI among them) and bytes that
 * are not part of well-formed UTF-8 become \xHH; a backslash doubles, so
 * that \x1b in a name is never mistaken for the byte.
 */
static size_t safe_char(const char *s, char out[5])
{
	const unsigned char *p = (const unsigned char *)s;
	int n = *p < 0x80 ? 1 : utf8_seq(p);

	if (*p == '\\') {
		memcpy(out, "\\\\", 3);
	} else if (n == 0 || *p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] < 0xa0)) {
		snprintf(out, 5, "\\x%02x", *p);
		n = 1;
	} else {
		memcpy(out, s, (size_t)n);
		out[n] = '\0';
	}
	return (size_t)n;
}

void fput_safe(FILE *f, const char *s)
{
	char c[5];

	while (*s) {
		s += safe_char(s, c);
		fputs(c, f);
	}
}

const char *safe_text(char *buf, size_t cap, const char *s)
{
	size_t len = 0, n;
	char c[5];

	if (!cap)
		return buf;
	while (*s) {
		s += safe_char(s, c);
		n = strlen(c);
		if (len + n >= cap)
			break;	/* cut before a character or an escape, never inside */
		memcpy(buf + len, c, n);
		len += n;
	}
	buf[len] = '\0';
	return buf;
}
