/* request.c — text tokenizer and msgpack request shape checks. */
#include "request.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_error_set(struct pd_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	pd_utf8_sanitize(err->msg);
}

/* Length of the well-formed UTF-8 sequence at s[0..len), 0 if none. */
static size_t utf8_seq_len(const unsigned char *s, size_t len);

/* How many bytes at s[0..len) are ASCII, looked at eight at a time: most
 * text is, and is passed without decoding a byte. */
static size_t ascii_run(const unsigned char *s, size_t len)
{
	size_t i = 0;
	uint64_t w;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

void pd_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; (i += ascii_run(p + i, len - i)) < len;) {
		size_t n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			p[i++] = '?';
			continue;
		}
		i += n;
	}
}

/* True when s[0..len) is all ASCII: a request's words and most of its text
 * are, and are short. Loads that overlap cover every byte without a loop
 * over the last few. */
static bool all_ascii(const unsigned char *s, size_t len)
{
	uint64_t w, last;
	uint32_t h, t;
	if (len >= 8) {
		uint64_t acc = 0;
		for (size_t i = 0; i + 8 < len; i += 8) {
			memcpy(&w, s + i, 8);
			acc |= w;
		}
		memcpy(&last, s + len - 8, 8);
		return !((acc | last) & 0x8080808080808080ull);
	}
	if (len >= 4) {
		memcpy(&h, s, 4);
		memcpy(&t, s + len - 4, 4);
		return !((h | t) & 0x80808080u);
	}
	return len == 0 || !((s[0] | s[len / 2] | s[len - 1]) & 0x80);
}

int pd_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	if (all_ascii(s, len))
		return 1;
	for (size_t i = 0; (i += ascii_run(s + i, len - i)) < len;) {
		size_t n = utf8_seq_len(s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len - 1 < n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	static const uint32_t min_for_len[4] = { 0, 0x80, 0x800, 0x10000 };
	if (cp < min_for_len[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Reads a quoted word starting at line[*pos] == '"'. The result is written
 * into out (at most len bytes, as escapes only shrink). */
static int read_quoted(const char *line, size_t len, size_t *pos, char *out,
		       size_t *out_len, struct pd_error *err)
{
	size_t i = *pos + 1, o = 0;
	while (i < len) {
		char c = line[i];
		if (c == '"') {
			i++;
			if (i < len && line[i] != ' ' && line[i] != '\t') {
				pd_error_set(err, 400, "a quoted word must be followed by a space");
				return -1;
			}
			*pos = i;
			*out_len = o;
			return 0;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				break;
			char e = line[i + 1];
			i += 2;
			switch (e) {
			case '"': out[o++] = '"'; break;
			case '\\': out[o++] = '\\'; break;
			case 'n': out[o++] = '\n'; break;
			case 'r': out[o++] = '\r'; break;
			case 't': out[o++] = '\t'; break;
			case 'x': {
				int h = i + 1 < len ? hex_digit(line[i]) : -1;
				int l = i + 1 < len ? hex_digit(line[i + 1]) : -1;
				if (h < 0 || l < 0) {
					pd_error_set(err, 400, "bad \\x escape: two hex digits expected");
					return -1;
				}
				out[o++] = (char)(h * 16 + l);
				i += 2;
				break;
			}
			default:
				pd_error_set(err, 400, "unknown escape \\%c in a quoted word", e);
				return -1;
			}
			continue;
		}
		out[o++] = c;
		i++;
	}
	pd_error_set(err, 400, "unbalanced quotes");
	return -1;
}

static int valid_arg_name(const char *s, size_t n)
{
	if (n == 0 || n > 64 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static int add_named(struct pd_arena *a, struct pd_request *req,
		     const char *key, struct pd_value *val, struct pd_error *err)
{
	if (pd_map_get(req->named, key)) {
		pd_error_set(err, 400, "argument '%s' given twice", key);
		return -1;
	}
	if (req->named->u.c.count >= PD_MAX_NAMED_ARGS) {
		pd_error_set(err, 400, "too many named arguments (at most %d)",
			     PD_MAX_NAMED_ARGS);
		return -1;
	}
	pd_map_set(a, req->named, key, val);
	return 0;
}

static int add_word(struct pd_request *req, struct pd_value *v,
		    struct pd_error *err)
{
	if (req->word_count >= PD_MAX_WORDS) {
		pd_error_set(err, 400, "too many words (at most %d)", PD_MAX_WORDS);
		return -1;
	}
	req->words[req->word_count++] = v;
	return 0;
}

/* Whether one of the eight bytes of w is below 0x20 or is 0x7f. Exact as
 * a yes or no (the word tests for a byte below n and for a zero byte: a
 * borrow runs on only from a byte that is hit). */
static inline bool has_control(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t del = w ^ (0x7f * ones); /* 0x7f bytes become 0 */
	return ((((w - 0x20 * ones) & ~w) | ((del - ones) & ~del)) & highs) != 0;
}

int pd_parse_text_line(struct pd_arena *a, const char *line, size_t len,
		       struct pd_request *req, struct pd_error *err)
{
	/* not the words past word_count, as the msgpack reader: nothing
	 * reads them (half a KiB a request) */
	req->word_count = 0;
	req->framing = PD_FRAMING_TEXT;
	req->named = pd_map(a);

	if (!pd_utf8_valid(line, len)) {
		pd_error_set(err, 400, "invalid UTF-8");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		/* eight bytes at a time while none is below 0x20 or 0x7f (a
		 * tab, allowed, is looked at byte by byte like the rest) */
		uint64_t w;
		while (i + 8 <= len && (memcpy(&w, line + i, 8), !has_control(w)))
			i += 8;
		if (i == len)
			break;
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			pd_error_set(err, 400, "control character 0x%02x in request", c);
			return -1;
		}
	}

	char *scratch = NULL; /* a quoted word's bytes, unescaped */
	size_t i = 0;
	while (i < len) {
		if (line[i] == ' ' || line[i] == '\t') {
			i++;
			continue;
		}
		const char *key = NULL;
		if (line[i] != '"') {
			/* an unquoted word holding '=' before any quote is key=value */
			size_t j = i;
			while (j < len && line[j] != ' ' && line[j] != '\t' &&
			       line[j] != '=' && line[j] != '"')
				j++;
			if (j == len || line[j] == ' ' || line[j] == '\t') {
				/* a plain word (most are): its end is found */
				if (add_word(req, pd_strn(a, line + i, j - i), err))
					return -1;
				i = j;
				continue;
			}
			if (line[j] == '=') {
				if (!valid_arg_name(line + i, j - i)) {
					pd_error_set(err, 400, "bad argument name '%.*s'",
						     (int)(j - i > 40 ? 40 : j - i), line + i);
					return -1;
				}
				key = pd_strndup(a, line + i, j - i);
				i = j + 1;
			}
		}
		struct pd_value *val;
		if (i < len && line[i] == '"') {
			size_t n;
			if (!scratch)
				scratch = pd_alloc(a, len + 1);
			if (read_quoted(line, len, &i, scratch, &n, err) < 0)
				return -1;
			/* \xHH escapes may spell bytes that are not UTF-8 */
			if (!pd_utf8_valid(scratch, n)) {
				pd_error_set(err, 400, "invalid UTF-8 in a quoted word");
				return -1;
			}
			val = pd_strn(a, scratch, n);
		} else {
			size_t j = i;
			while (j < len && line[j] != ' ' && line[j] != '\t') {
				if (line[j] == '"') {
					pd_error_set(err, 400, "unbalanced quotes");
					return -1;
				}
				j++;
			}
			val = pd_strn(a, line + i, j - i);
			i = j;
		}
		if (key ? add_named(a, req, key, val, err) : add_word(req, val, err))
			return -1;
	}
	return 0;
}

/* A word of a msgpack request: a string or an integer. */
static int msgpack_word(struct pd_arena *a, struct pd_request *req,
			const struct pd_mp_item *it, struct pd_error *err)
{
	if (it->type != PD_STR && it->type != PD_INT) {
		pd_error_set(err, 400, "word %zu must be a string or an integer",
			     req->word_count + 1);
		return -1;
	}
	if (it->type == PD_STR && !pd_utf8_valid(it->s, (size_t)it->count)) {
		pd_error_set(err, 400, "invalid UTF-8");
		return -1;
	}
	return add_word(req, pd_mp_scalar(a, it), err);
}

/* The named arguments: the request's last element when it is a map, read
 * from *p (its head read). Returns the bytes' status; a shape error is left
 * in err (code 400) and ends the reading. */
static enum pd_unpack_status msgpack_named(struct pd_arena *a, const unsigned char **p,
					   const unsigned char *end, uint64_t count,
					   struct pd_request *req, struct pd_error *err)
{
	for (uint64_t i = 0; i < count; i++) {
		struct pd_mp_item k, v;
		enum pd_unpack_status st = pd_mp_next(p, end, &k);
		if (st != PD_UNPACK_OK)
			return st;
		if (k.type != PD_STR) /* not a map we take: the decoder says how */
			return PD_UNPACK_MALFORMED;
		size_t n = (size_t)k.count;
		if (!valid_arg_name(k.s, n)) {
			pd_error_set(err, 400, "bad argument name '%.*s'",
				     (int)(n > 40 ? 40 : n), k.s);
			return PD_UNPACK_OK;
		}
		if ((st = pd_mp_next(p, end, &v)) != PD_UNPACK_OK)
			return st;
		if (v.type == PD_MAP || v.type == PD_ARR) {
			pd_error_set(err, 400, "argument '%.*s' must be a string, integer or boolean",
				     (int)n, k.s);
			return PD_UNPACK_OK;
		}
		if (add_named(a, req, pd_strndup(a, k.s, n), pd_mp_scalar(a, &v), err) < 0)
			return PD_UNPACK_OK;
	}
	return PD_UNPACK_OK;
}

/* One pass over the bytes, in the order the tree was checked in: the
 * elements, each named argument's name, type and uniqueness, then the
 * named strings' UTF-8 and the command word. Only the bytes a valid request
 * is made of are read here; where the shape is wrong (or a map key is not a
 * string) the rest of the frame is unread, and the decoder's verdict on the
 * whole of it comes first, as it did when it ran first. */
enum pd_unpack_status pd_request_read_msgpack(struct pd_arena *a, const char *buf,
					      size_t len, size_t *used,
					      struct pd_request *req, struct pd_error *err)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	/* not the words past word_count: nothing reads them (half a KiB) */
	req->word_count = 0;
	req->framing = PD_FRAMING_MSGPACK;
	req->named = pd_map(a);
	err->code = 0;
	struct pd_mp_item top;
	enum pd_unpack_status st = pd_mp_next(&p, end, &top);
	if (st != PD_UNPACK_OK)
		return st;
	if (top.type != PD_ARR || top.count == 0) {
		pd_error_set(err, 400, "a msgpack request is a non-empty array");
	} else {
		for (uint64_t i = 0; i < top.count && st == PD_UNPACK_OK && !err->code; i++) {
			struct pd_mp_item it;
			if ((st = pd_mp_next(&p, end, &it)) != PD_UNPACK_OK)
				break;
			if (it.type == PD_MAP && i + 1 == top.count)
				st = msgpack_named(a, &p, end, it.count, req, err);
			else
				msgpack_word(a, req, &it, err);
		}
	}
	if (st == PD_UNPACK_MALFORMED || err->code) {
		/* the rest unread: decoded whole, as before any shape check */
		struct pd_value *v;
		return pd_value_unpack(a, buf, len, used, &v);
	}
	if (st != PD_UNPACK_OK)
		return st;
	*used = (size_t)(p - (const unsigned char *)buf);
	for (struct pd_entry *m = req->named->u.c.head; m; m = m->next)
		if (m->val->type == PD_STR &&
		    !pd_utf8_valid(m->val->u.s.ptr, m->val->u.s.len)) {
			pd_error_set(err, 400, "invalid UTF-8");
			return PD_UNPACK_OK;
		}
	if (req->word_count == 0)
		pd_error_set(err, 400, "a msgpack request needs a command word");
	return PD_UNPACK_OK;
}

int pd_request_from_msgpack(struct pd_arena *a, const struct pd_value *v,
			    struct pd_request *req, struct pd_error *err)
{
	char *buf;
	size_t len, used;
	if (pd_value_to_msgpack(v, &buf, &len) < 0) {
		pd_error_set(err, 400, "malformed msgpack");
		return -1;
	}
	enum pd_unpack_status st = pd_request_read_msgpack(a, buf, len, &used, req, err);
	free(buf);
	if (st != PD_UNPACK_OK)
		pd_error_set(err, 400, "malformed msgpack");
	return err->code ? -1 : 0;
}
