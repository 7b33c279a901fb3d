/* text_width.c — display width of UTF-8 text. */
#include "text_width.h"

#include <langinfo.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

/* Decodes one code point; an invalid sequence yields U+FFFD over one byte. */
static size_t decode_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min_for_len[4] = { 0, 0x80, 0x800, 0x10000 };
	unsigned char c = s[0];
	size_t extra;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		extra = 1;
		*cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		extra = 2;
		*cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		extra = 3;
		*cp = c & 0x07;
	} else {
		goto invalid;
	}
	if (n < extra + 1)
		goto invalid;
	for (size_t k = 1; k <= extra; k++) {
		if ((s[k] & 0xc0) != 0x80)
			goto invalid;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	if (*cp < min_for_len[extra] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		goto invalid;
	return extra + 1;
invalid:
	*cp = 0xfffd;
	return 1;
}

/* East Asian wide ranges, for when the C library's wcwidth() does not know
 * the character (a non-UTF-8 locale). */
static int fallback_width(uint32_t cp)
{
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

static int codepoint_width(uint32_t cp)
{
	if (cp < 0x80)
		return 1; /* the renderers escape control characters already */
	int w = wcwidth((wchar_t)cp);
	return w >= 0 ? w : fallback_width(cp);
}

int text_width(const char *s, size_t n)
{
	int width;
	text_prefix_fitting(s, n, 1 << 30, &width);
	return width;
}

size_t text_prefix_fitting(const char *s, size_t n, int max_columns, int *width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int w = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = decode_utf8(p + i, n - i, &cp);
		int cw = codepoint_width(cp);
		if (w + cw > max_columns)
			break;
		w += cw;
		i += len;
	}
	*width = w;
	return i;
}

const char *text_ellipsis(void)
{
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0 ? "\xe2\x80\xa6" : "~";
}
