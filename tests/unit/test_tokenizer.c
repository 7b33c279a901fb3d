/*
 * Unit tests for the text framing: pd_parse_text_line() and pd_utf8_valid()
 * (protocol/request.c), against PROTOCOL.md section 2.
 *
 * Every test builds its expectation from the line it sends (the bytes a word
 * must carry), never from the tokenizer's own output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "request.h"

/* One parse in its own arena; freed by the test's teardown. */
struct parsed {
	struct pd_arena arena;
	struct pd_request req;
	struct pd_error err;
	int rc;
};

static int setup(void **state)
{
	static struct parsed p;
	memset(&p, 0, sizeof(p));
	pd_arena_init(&p.arena);
	*state = &p;
	return 0;
}

static int teardown(void **state)
{
	struct parsed *p = *state;
	pd_arena_free(&p->arena);
	return 0;
}

static struct parsed *parse_n(void **state, const char *line, size_t len)
{
	struct parsed *p = *state;
	pd_arena_reset(&p->arena);
	memset(&p->err, 0, sizeof(p->err));
	p->rc = pd_parse_text_line(&p->arena, line, len, &p->req, &p->err);
	return p;
}

static struct parsed *parse(void **state, const char *line)
{
	return parse_n(state, line, strlen(line));
}

/* The request parsed; its words are exactly the given strings. */
static void assert_words(const struct parsed *p, size_t n, ...)
{
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->req.framing, PD_FRAMING_TEXT);
	assert_int_equal(p->req.word_count, n);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		const struct pd_value *w = p->req.words[i];
		assert_non_null(w);
		assert_int_equal(w->type, PD_STR);
		assert_int_equal(w->u.s.len, strlen(want));
		assert_memory_equal(w->u.s.ptr, want, strlen(want));
		assert_int_equal(w->u.s.ptr[w->u.s.len], '\0');
	}
	va_end(ap);
}

static void assert_word_bytes(const struct parsed *p, size_t i, const char *want,
			      size_t want_len)
{
	assert_true(i < p->req.word_count);
	const struct pd_value *w = p->req.words[i];
	assert_int_equal(w->type, PD_STR);
	assert_int_equal(w->u.s.len, want_len);
	assert_memory_equal(w->u.s.ptr, want, want_len);
}

static void assert_named(const struct parsed *p, const char *key, const char *want)
{
	const struct pd_value *v = pd_map_get(p->req.named, key);
	assert_non_null(v);
	assert_int_equal(v->type, PD_STR);
	assert_int_equal(v->u.s.len, strlen(want));
	assert_memory_equal(v->u.s.ptr, want, strlen(want));
}

static size_t named_count(const struct parsed *p)
{
	assert_non_null(p->req.named);
	assert_int_equal(p->req.named->type, PD_MAP);
	return p->req.named->u.c.count;
}

/* Refused with 400 and a message holding `fragment`. */
static void assert_refused(const struct parsed *p, const char *fragment)
{
	assert_int_equal(p->rc, -1);
	assert_int_equal(p->err.code, 400);
	if (!strstr(p->err.msg, fragment))
		fail_msg("message '%s' does not hold '%s'", p->err.msg, fragment);
}

/* ---- plain words ---- */

static void test_plain_words(void **state)
{
	struct parsed *p = parse(state, "waybill get 986825");
	assert_words(p, 3, "waybill", "get", "986825");
	assert_int_equal(named_count(p), 0);

	p = parse(state, "PING");
	assert_words(p, 1, "PING");

	/* case is kept: only command look-up is case-insensitive */
	p = parse(state, "WayBill GET 0001878765");
	assert_words(p, 3, "WayBill", "GET", "0001878765");
}

static void test_spaces_and_tabs_separate_words(void **state)
{
	struct parsed *p = parse(state, "  scan\t986825 \t arrived\t\t");
	assert_words(p, 3, "scan", "986825", "arrived");

	p = parse(state, "\ta");
	assert_words(p, 1, "a");

	p = parse(state, "a  \t  b");
	assert_words(p, 2, "a", "b");
}

static void test_length_bounds_the_line(void **state)
{
	/* only len bytes are read: the rest of the buffer is not the line */
	const char buf[] = "waybill get 986825 EXTRA";
	struct parsed *p = parse_n(state, buf, 18);
	assert_words(p, 3, "waybill", "get", "986825");

	p = parse_n(state, "ab", 1);
	assert_words(p, 1, "a");
}

/* ---- quoted words ---- */

static void test_quoted_word_carries_spaces(void **state)
{
	struct parsed *p = parse(state, "complaint open \"parcel never  arrived\" x");
	assert_words(p, 4, "complaint", "open", "parcel never  arrived", "x");

	p = parse(state, "\"\"");
	assert_words(p, 1, "");

	p = parse(state, "a \"\" b");
	assert_words(p, 3, "a", "", "b");

	p = parse(state, "\"\tx\"\t\"y\"");
	assert_words(p, 2, "\tx", "y");
}

static void test_every_escape(void **state)
{
	static const struct {
		const char *line;
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "\"\\\"\"", "\"", 1 },
		{ "\"\\\\\"", "\\", 1 },
		{ "\"\\n\"", "\n", 1 },
		{ "\"\\r\"", "\r", 1 },
		{ "\"\\t\"", "\t", 1 },
		{ "\"\\x41\"", "A", 1 },
		{ "\"\\x7e\"", "~", 1 },
		{ "\"\\x7E\"", "~", 1 },
		{ "\"\\x00\"", "\0", 1 },
		{ "\"\\x1b\"", "\x1b", 1 },
		{ "\"a\\\"b\\\\c\\nd\\re\\tf\\x2Ag\"", "a\"b\\c\nd\re\tf*g", 13 },
		/* an escaped quote does not close the word, and a \\ before the
		 * closing quote does not escape it */
		{ "\"say \\\"hi\\\" now\"", "say \"hi\" now", 12 },
		{ "\"end\\\\\"", "end\\", 4 },
		/* \xHH spelling valid UTF-8 gives that character */
		{ "\"\\xe4\\xb8\\xad\"", "\xe4\xb8\xad", 3 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed *p = parse(state, cases[i].line);
		if (p->rc != 0)
			fail_msg("case %zu (%s): refused: %s", i, cases[i].line, p->err.msg);
		assert_int_equal(p->req.word_count, 1);
		assert_word_bytes(p, 0, cases[i].bytes, cases[i].len);
		assert_int_equal(p->req.words[0]->u.s.ptr[cases[i].len], '\0');
	}
}

static void test_escapes_in_several_words_do_not_mix(void **state)
{
	/* the tokenizer reuses one scratch buffer: each word keeps its bytes */
	struct parsed *p = parse(state, "\"long word \\x41\" \"b\" k=\"\\tc\"");
	assert_words(p, 2, "long word A", "b");
	assert_named(p, "k", "\tc");
}

static void test_bad_escapes(void **state)
{
	static const char *lines[] = {
		"\"\\q\"", "\"a\\ab\"", "\"\\0\"", "\"\\u00e9\"", "\"\\ \"",
		"\"\\'\"", "\"\\e\"",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_refused(parse(state, lines[i]), "escape");

	static const char *bad_hex[] = {
		"\"\\xZZ\"", "\"\\x4\"", "\"\\x4g\"", "\"\\xg4\"", "\"\\x\"",
		"x=\"\\x\"", "\"\\x4", "\"\\x",
	};
	for (size_t i = 0; i < sizeof(bad_hex) / sizeof(bad_hex[0]); i++) {
		struct parsed *p = parse(state, bad_hex[i]);
		assert_int_equal(p->rc, -1);
		assert_int_equal(p->err.code, 400);
	}
	assert_refused(parse(state, "\"\\xZZ\""), "\\x");
}

/* PROTOCOL.md: a quoted word carries "any UTF-8", and both framings must give
 * the same request; the msgpack framing refuses invalid UTF-8 in a string. An
 * \xHH escape must not smuggle a byte sequence that is not UTF-8. */
static void test_escape_cannot_make_invalid_utf8(void **state)
{
	static const char *lines[] = {
		"\"\\xff\"",                 /* never valid */
		"\"\\xc0\\xaf\"",            /* overlong '/' */
		"\"\\xed\\xa0\\x80\"",       /* surrogate */
		"\"\\xe4\\xb8\"",            /* truncated */
		"k=\"\\x80\"",               /* lone continuation byte */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed *p = parse(state, lines[i]);
		if (p->rc == 0)
			fail_msg("%s: accepted a word that is not UTF-8", lines[i]);
		assert_int_equal(p->err.code, 400);
	}
}

/* ---- named arguments ---- */

static void test_key_value(void **state)
{
	struct parsed *p = parse(state,
		"complaint open waybill=986825 channel=phone category=loss "
		"text=\"parcel never arrived\"");
	assert_words(p, 2, "complaint", "open");
	assert_int_equal(named_count(p), 4);
	assert_named(p, "waybill", "986825");
	assert_named(p, "channel", "phone");
	assert_named(p, "category", "loss");
	assert_named(p, "text", "parcel never arrived");

	/* the named map keeps the order of the line */
	const char *order[] = { "waybill", "channel", "category", "text" };
	size_t i = 0;
	for (const struct pd_entry *e = p->req.named->u.c.head; e; e = e->next, i++) {
		assert_int_equal(e->key_len, strlen(order[i]));
		assert_string_equal(e->key, order[i]);
	}
}

static void test_key_value_forms(void **state)
{
	struct parsed *p = parse(state, "x k=");
	assert_words(p, 1, "x");
	assert_named(p, "k", "");

	p = parse(state, "x k=\"\"");
	assert_named(p, "k", "");

	p = parse(state, "x k=a=b");
	assert_words(p, 1, "x");
	assert_named(p, "k", "a=b");

	p = parse(state, "x k=\"a b\" y");
	assert_words(p, 2, "x", "y");
	assert_named(p, "k", "a b");

	p = parse(state, "x k=\"a=b c\"");
	assert_named(p, "k", "a=b c");

	p = parse(state, "x _k9=1 a_b=2");
	assert_named(p, "_k9", "1");
	assert_named(p, "a_b", "2");

	/* named arguments and positional words may interleave */
	p = parse(state, "a k=1 b");
	assert_words(p, 2, "a", "b");
	assert_named(p, "k", "1");
}

static void test_quoted_positional_holding_equals(void **state)
{
	struct parsed *p = parse(state, "x \"k=v\"");
	assert_words(p, 2, "x", "k=v");
	assert_int_equal(named_count(p), 0);

	p = parse(state, "\"a b=c\" \"=\"");
	assert_words(p, 2, "a b=c", "=");
	assert_int_equal(named_count(p), 0);
}

static void test_duplicate_named_argument(void **state)
{
	assert_refused(parse(state, "x depot=A depot=B"), "'depot' given twice");
	assert_refused(parse(state, "x depot=A y depot=\"A\""), "'depot' given twice");
}

static void test_bad_argument_names(void **state)
{
	static const char *lines[] = {
		"x Depot=1", "x DEPOT=1", "x 1k=2", "x =v", "x a-b=1", "x a.b=1",
		"x k\xc3\xa9=1", "x 9=1",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_refused(parse(state, lines[i]), "bad argument name");

	char line[200], name[70];
	memset(name, 'a', 64);
	name[64] = '\0';
	snprintf(line, sizeof(line), "x %s=1", name);
	struct parsed *p = parse(state, line); /* 64 bytes: allowed */
	assert_int_equal(p->rc, 0);
	assert_named(p, name, "1");

	memset(name, 'a', 65);
	name[65] = '\0';
	snprintf(line, sizeof(line), "x %s=1", name);
	assert_refused(parse(state, line), "bad argument name");
}

/* ---- quotes out of place ---- */

static void test_unbalanced_quotes(void **state)
{
	static const char *lines[] = {
		"\"abc", "x \"abc", "abc\"", "ab\"c\"", "x k=\"a b", "x k=ab\"",
		"\"abc\\\"", "\"abc\\", "\"", "x \"",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed *p = parse(state, lines[i]);
		if (p->rc == 0)
			fail_msg("%s: accepted", lines[i]);
		assert_int_equal(p->err.code, 400);
	}
	assert_refused(parse(state, "x \"abc"), "unbalanced quotes");
	assert_refused(parse(state, "abc\""), "unbalanced quotes");
}

static void test_quote_glued_to_next_char(void **state)
{
	static const char *lines[] = {
		"\"abc\"def", "\"a\"\"b\"", "x k=\"a\"b", "\"a\"=b", "\"a\"\"",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_refused(parse(state, lines[i]), "followed by a space");

	/* a tab or the end of the line may follow */
	assert_words(parse(state, "\"a\"\tb"), 2, "a", "b");
	assert_words(parse(state, "b \"a\""), 2, "b", "a");
}

/* ---- UTF-8 ---- */

static void test_utf8_valid_accepts(void **state)
{
	(void)state;
	static const struct { const char *s; size_t len; } ok[] = {
		{ "", 0 },
		{ "plain ascii", 11 },
		{ "\xc2\x80", 2 },             /* U+0080, smallest 2-byte */
		{ "\xdf\xbf", 2 },             /* U+07FF */
		{ "\xe0\xa0\x80", 3 },         /* U+0800, smallest 3-byte */
		{ "\xed\x9f\xbf", 3 },         /* U+D7FF, just below surrogates */
		{ "\xee\x80\x80", 3 },         /* U+E000, just above */
		{ "\xef\xbf\xbf", 3 },         /* U+FFFF */
		{ "\xf0\x90\x80\x80", 4 },     /* U+10000, smallest 4-byte */
		{ "\xf4\x8f\xbf\xbf", 4 },     /* U+10FFFF, the last */
		{ "\xe5\x8c\x85\xe8\xa3\xb9", 6 }, /* 包裹 */
		{ "a\0b", 3 },                 /* NUL is UTF-8 */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!pd_utf8_valid(ok[i].s, ok[i].len))
			fail_msg("valid case %zu refused", i);
}

/* ASCII before and after a sequence, of every length around the eight
 * bytes looked at at once: the verdict and the sanitized bytes are those of
 * the sequence alone. */
static void test_utf8_ascii_runs_around_a_sequence(void **state)
{
	(void)state;
	static const struct { const char *s; int valid; } seqs[] = {
		{ "\xc3\xa9", 1 }, { "\xe5\x8c\x85", 1 }, { "\xf0\x9f\x93\xa6", 1 },
		{ "\xff", 0 }, { "\x80", 0 }, { "\xe4\xb8", 0 }, { "\xed\xa0\x80", 0 },
	};
	for (size_t k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
		char alone[8];
		snprintf(alone, sizeof(alone), "%s", seqs[k].s);
		pd_utf8_sanitize(alone);
		for (size_t before = 0; before < 20; before++) {
			for (size_t after = 0; after < 10; after++) {
				char buf[64], want[64];
				memset(buf, 'a', before);
				snprintf(buf + before, sizeof(buf) - before, "%s%.*s", seqs[k].s, (int)after,
					 "bcdefghijk");
				memset(want, 'a', before);
				snprintf(want + before, sizeof(want) - before, "%s%.*s", alone, (int)after,
					 "bcdefghijk");
				if (pd_utf8_valid(buf, strlen(buf)) != seqs[k].valid)
					fail_msg("sequence %zu after %zu and before %zu bytes of ASCII: valid %d", k,
						 before, after, !seqs[k].valid);
				pd_utf8_sanitize(buf);
				assert_string_equal(buf, want);
			}
		}
	}
}

static void test_utf8_valid_refuses(void **state)
{
	(void)state;
	static const struct { const char *s; size_t len; const char *what; } bad[] = {
		{ "\xc0\xaf", 2, "overlong 2-byte '/'" },
		{ "\xc1\xbf", 2, "overlong 2-byte" },
		{ "\xe0\x80\xaf", 3, "overlong 3-byte" },
		{ "\xe0\x9f\xbf", 3, "overlong 3-byte U+07FF" },
		{ "\xf0\x80\x80\xaf", 4, "overlong 4-byte" },
		{ "\xf0\x8f\xbf\xbf", 4, "overlong 4-byte U+FFFF" },
		{ "\xed\xa0\x80", 3, "surrogate U+D800" },
		{ "\xed\xbf\xbf", 3, "surrogate U+DFFF" },
		{ "\xf4\x90\x80\x80", 4, "U+110000" },
		{ "\xf5\x80\x80\x80", 4, "lead F5" },
		{ "\xf7\xbf\xbf\xbf", 4, "lead F7" },
		{ "\xf8\x88\x80\x80\x80", 5, "5-byte form" },
		{ "\xfc\x84\x80\x80\x80\x80", 6, "6-byte form" },
		{ "\xfe", 1, "FE" },
		{ "\xff", 1, "FF" },
		{ "\x80", 1, "lone continuation" },
		{ "a\xbf", 2, "continuation after ASCII" },
		{ "\xe4\xb8", 2, "truncated at the end" },
		{ "\xf0\x9f\x93", 3, "truncated 4-byte" },
		{ "\xc3", 1, "truncated 2-byte" },
		{ "\xe4\xb8 ", 3, "truncated before a space" },
		{ "\xe4 \xad", 3, "space inside a sequence" },
		{ "\xc3\xc3\xa9", 3, "lead byte as continuation" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pd_utf8_valid(bad[i].s, bad[i].len))
			fail_msg("invalid case accepted: %s", bad[i].what);

	/* the length bounds the check: a valid prefix of a longer buffer */
	assert_true(pd_utf8_valid("\xe4\xb8\xad\xe4", 3));
	assert_false(pd_utf8_valid("\xe4\xb8\xad\xe4", 4));
}

static void test_invalid_utf8_line_is_refused(void **state)
{
	static const char *lines[] = {
		"x \xc0\xaf",                   /* overlong */
		"x \"\xed\xa0\x80\"",           /* surrogate inside quotes */
		"x k=\xe4\xb8",                 /* truncated at the end */
		"x \xe4\xb8 y",                 /* truncated mid-line */
		"x \xf4\x90\x80\x80",           /* above U+10FFFF */
		"\xff",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_refused(parse(state, lines[i]), "invalid UTF-8");
}

static void test_chinese_text(void **state)
{
	/* 投诉 包裹 text="包裹没有收到 😀" */
	const char *complain = "\xe6\x8a\x95\xe8\xaf\x89";
	const char *parcel = "\xe5\x8c\x85\xe8\xa3\xb9";
	const char *text = "\xe5\x8c\x85\xe8\xa3\xb9\xe6\xb2\xa1\xe6\x9c\x89"
			   "\xe6\x94\xb6\xe5\x88\xb0 \xf0\x9f\x98\x80";
	char line[256];
	snprintf(line, sizeof(line), "%s %s text=\"%s\" \"%s\" k=%s", complain,
		 parcel, text, text, parcel);
	struct parsed *p = parse(state, line);
	assert_words(p, 3, complain, parcel, text);
	assert_named(p, "text", text);
	assert_named(p, "k", parcel);
}

/* ---- control characters ---- */

static void test_control_characters(void **state)
{
	static const char ctl[] = { 0x01, 0x07, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f,
				    '\r', '\n' };
	for (size_t i = 0; i < sizeof(ctl); i++) {
		char line[16];
		int n = snprintf(line, sizeof(line), "ab \"c%cd\"", ctl[i]);
		assert_refused(parse_n(state, line, (size_t)n), "control character");
		n = snprintf(line, sizeof(line), "ab c%cd", ctl[i]);
		assert_refused(parse_n(state, line, (size_t)n), "control character");
	}
	/* a NUL byte inside the line is a control character too */
	assert_refused(parse_n(state, "ab\0cd", 5), "control character");
	/* a trailing CR is the daemon's to strip; left in, it is refused */
	assert_refused(parse(state, "ping\r"), "0x0d");
	/* tab is the one allowed */
	assert_words(parse(state, "a\tb"), 2, "a", "b");
	/* 0x80-0x9f as UTF-8 (C1 controls spelled U+0080..) are not bytes < 0x20 */
	assert_words(parse(state, "\xc2\x85"), 1, "\xc2\x85");
}

/* The line is looked at eight bytes at a time: a control byte is found at
 * every place of lines of every length up to 40, beside bytes that are
 * near the limits (0x20, 0x7e, UTF-8's 0x80 and up, a tab), and a tab
 * anywhere is still allowed. */
static void test_control_character_at_every_place(void **state)
{
	static const unsigned char ctl[] = { 0x00, 0x01, 0x08, 0x0a, 0x1f, 0x7f };
	/* mixed fills put a control byte in one eight-byte word with UTF-8 */
	static const char *fills[] = { "x", "~", "\xc3\xa9", " ", "\t", "\xc3\xa9 x", "\xc3\xa9\t~" };
	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++)
		for (size_t n = 1; n <= 40; n++) {
			char line[128];
			size_t len = 0;
			while (len + strlen(fills[f]) <= n) {
				memcpy(line + len, fills[f], strlen(fills[f]));
				len += strlen(fills[f]);
			}
			if (!len)
				continue;
			/* without a control byte: read (a blank line has no words) */
			struct parsed *p = parse_n(state, line, len);
			assert_int_equal(p->rc, 0);
			for (size_t at = 0; at < len; at++) {
				if ((unsigned char)line[at] >= 0x80)
					continue; /* keep the UTF-8 whole */
				for (size_t k = 0; k < sizeof(ctl); k++) {
					char saved = line[at];
					line[at] = (char)ctl[k];
					assert_refused(parse_n(state, line, len), "control character");
					line[at] = saved;
				}
			}
		}
}

/* ---- limits ---- */

static void test_word_limit(void **state)
{
	char line[PD_MAX_WORDS * 4 + 16];
	size_t n = 0;
	for (int i = 0; i < PD_MAX_WORDS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "w%d ", i);
	struct parsed *p = parse_n(state, line, n);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->req.word_count, PD_MAX_WORDS);
	char want[8];
	snprintf(want, sizeof(want), "w%d", PD_MAX_WORDS - 1);
	assert_word_bytes(p, PD_MAX_WORDS - 1, want, strlen(want));

	/* named arguments do not count as words */
	n += (size_t)snprintf(line + n, sizeof(line) - n, "k=v");
	p = parse_n(state, line, n);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->req.word_count, PD_MAX_WORDS);

	n += (size_t)snprintf(line + n, sizeof(line) - n, " one_more");
	assert_refused(parse_n(state, line, n), "too many words");
}

static void test_named_limit(void **state)
{
	char line[PD_MAX_NAMED_ARGS * 12 + 32];
	size_t n = (size_t)snprintf(line, sizeof(line), "cmd");
	for (int i = 0; i < PD_MAX_NAMED_ARGS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " k%d=%d", i, i);
	struct parsed *p = parse_n(state, line, n);
	assert_int_equal(p->rc, 0);
	assert_int_equal(named_count(p), PD_MAX_NAMED_ARGS);
	assert_named(p, "k0", "0");
	assert_named(p, "k63", "63");

	n += (size_t)snprintf(line + n, sizeof(line) - n, " extra=1");
	assert_refused(parse_n(state, line, n), "too many named arguments");
}

/* ---- empty ---- */

static void test_empty_and_blank_lines(void **state)
{
	static const char *lines[] = { "", " ", "\t", "   \t  \t " };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parsed *p = parse(state, lines[i]);
		assert_int_equal(p->rc, 0);
		assert_int_equal(p->req.word_count, 0);
		assert_int_equal(named_count(p), 0);
	}
	/* a zero length with a non-empty buffer is still empty */
	struct parsed *p = parse_n(state, "ping", 0);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->req.word_count, 0);
}

static void test_request_is_reset_between_parses(void **state)
{
	struct parsed *p = parse(state, "a b c k=1");
	assert_int_equal(p->req.word_count, 3);
	p = parse(state, "d");
	assert_words(p, 1, "d");
	assert_int_equal(named_count(p), 0);
	assert_null(pd_map_get(p->req.named, "k"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spaces_and_tabs_separate_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_length_bounds_the_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoted_word_carries_spaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_escape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escapes_in_several_words_do_not_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_cannot_make_invalid_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_value_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoted_positional_holding_equals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_named_argument, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_argument_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbalanced_quotes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote_glued_to_next_char, setup, teardown),
		cmocka_unit_test(test_utf8_valid_accepts),
		cmocka_unit_test(test_utf8_valid_refuses),
		cmocka_unit_test(test_utf8_ascii_runs_around_a_sequence),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_line_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chinese_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_character_at_every_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_word_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_blank_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_is_reset_between_parses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
