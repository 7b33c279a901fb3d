/* request.h — one request model for both framings.
 *
 * A request is a list of words (the command words, then positional
 * arguments) and a map of named arguments. The text framing produces it from
 * one line; the msgpack framing from one array. Everything after this point
 * (command look-up, argument checks, handlers) does not know which framing
 * the request came in. */
#ifndef PD_REQUEST_H
#define PD_REQUEST_H

#include "value.h"

enum pd_framing { PD_FRAMING_TEXT, PD_FRAMING_MSGPACK };

/* Limits of one request. The byte limits themselves are the daemon's config
 * (max_line_bytes, max_frame_bytes); these bound the parsed shape. */
#define PD_MAX_WORDS 64
#define PD_MAX_NAMED_ARGS 64

struct pd_request {
	enum pd_framing framing;
	size_t word_count;
	struct pd_value *words[PD_MAX_WORDS]; /* PD_STR or PD_INT */
	struct pd_value *named;                /* PD_MAP, never NULL */
};

/* Errors carry the reply code and a message for the client. */
struct pd_error {
	int code;
	char msg[160];
};

void pd_error_set(struct pd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when the byte opens a msgpack request (fixarray, array16, array32). */
static inline int pd_is_msgpack_start(unsigned char b)
{
	return (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
}

/* Checks that buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
int pd_utf8_valid(const char *buf, size_t len);

/* Replaces, in place, every byte that is not part of well-formed UTF-8 with
 * '?', so a message that quotes (or cuts) user input stays valid text. */
void pd_utf8_sanitize(char *s);

/* Parses one text line (without its line terminator). Returns 0, or -1 with
 * err filled (code 400). An empty or blank line yields word_count 0. */
int pd_parse_text_line(struct pd_arena *a, const char *line, size_t len,
		       struct pd_request *req, struct pd_error *err);

/* Reads one msgpack request from the object at buf[0..len) straight into
 * req, without a tree (in the daemon: a frame pd_mp_scan() found whole).
 * Returns what pd_value_unpack() says of those bytes: PD_UNPACK_OK with
 * *used set, or INCOMPLETE / MALFORMED / TOO_DEEP when they are not one
 * object we take (the connection cannot go on). With PD_UNPACK_OK, err->code
 * is 0 and req holds the request, or err holds the 400 its shape earns. A
 * shape error is reported only for bytes that decode, so every input gets
 * the one answer it got when the frame was decoded into a tree first.
 * Strings are copied into a. */
enum pd_unpack_status pd_request_read_msgpack(struct pd_arena *a, const char *buf,
					      size_t len, size_t *used,
					      struct pd_request *req, struct pd_error *err);

/* The same for a decoded msgpack value (packed, then read): for callers
 * that hold a tree. Returns 0 or -1 (400). */
int pd_request_from_msgpack(struct pd_arena *a, const struct pd_value *v,
			    struct pd_request *req, struct pd_error *err);

#endif
