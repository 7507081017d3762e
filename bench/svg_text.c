/* The chart's text: every write checked, every label made valid XML. */
#include <errno.h>
#include <stdarg.h>

#include "cli.h"	/* utf8_seq */
#include "svg_draw.h"

void svg_put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->err)
		return;
	errno = 0;
	va_start(ap, fmt);
	r = vfprintf(o->f, fmt, ap);
	va_end(ap);
	if (r < 0)
		o->err = errno ? -errno : -EIO;
}

/*
 * Length of the character at s that XML may hold, or 0: a parser rejects
 * the whole file for one bad byte. Well-formed UTF-8 is utf8_seq's rule;
 * XML also forbids the non-characters U+FFFE and U+FFFF (EF BF BE/BF).
 */
static size_t xml_char_len(const unsigned char *s)
{
	int n = s[0] < 0x80 ? 1 : utf8_seq(s);

	if (n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
		return 0;
	return (size_t)n;
}

/* Text content or attribute value: labels come from users and hostnames. */
void svg_put_text(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;

	for (; *p; p += n) {
		n = xml_char_len(p);
		if (!n) {
			svg_put(o, "?");
			n = 1;
		} else if (n > 1) {
			svg_put(o, "%.*s", (int)n, (const char *)p);
		} else if (*p == '&') {
			svg_put(o, "&amp;");
		} else if (*p == '<') {
			svg_put(o, "&lt;");
		} else if (*p == '>') {
			svg_put(o, "&gt;");
		} else if (*p == '"') {
			svg_put(o, "&quot;");
		} else if (*p == '\'') {
			svg_put(o, "&apos;");
		} else if (*p < 0x20 || *p == 0x7f) {
			svg_put(o, " ");	/* a newline would only be collapsed */
		} else {
			svg_put(o, "%c", *p);
		}
	}
}

/* Characters, not bytes: the estimate of how wide the text is drawn. */
static size_t text_chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

double svg_text_w(const char *s, double size, double glyph)
{
	return (double)text_chars(s) * size * glyph;
}
