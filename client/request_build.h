/* request_build.h — turning what the user typed into a msgpack request.
 *
 * Both sources end in the protocol's own struct pd_request (words + named
 * map), so the client sends exactly what the daemon's text parser would have
 * built from the same line:
 *   - command-line words: each argv word is one word; `name=value` (name of
 *     lowercase letters, digits and _) is a named argument;
 *   - lines (pipe and interactive modes): pd_parse_text_line(), the daemon's
 *     tokenizer, so quoting and escapes behave alike everywhere.
 * Values stay strings: the daemon converts types against its command table.
 * The one conversion done here is the money convenience: name_yuan=12.5
 * becomes name_fen=1250, in integers, before anything is sent. */
#ifndef PD_CLIENT_REQUEST_BUILD_H
#define PD_CLIENT_REQUEST_BUILD_H

#include <stdbool.h>

#include "reply.h"
#include "request.h"
#include "client.h"

/* The amounts a request gave in yuan (x_yuan sent as x_fen), so the reply
 * can speak of them in yuan too: the names x, at most TYPED_YUAN_MAX. */
#define TYPED_YUAN_MAX 8
struct typed_yuan {
	size_t count;
	char names[TYPED_YUAN_MAX][48];
};

/* Builds a request from argv words; fills yuan when not NULL. 0, or -1
 * with err. */
int request_from_argv(struct pd_arena *a, int argc, char **argv,
		      struct pd_request *req, struct typed_yuan *yuan, struct client_error *err);

/* `agenda [name=value...]` is the contacts due this week for `user` (the
 * overdue first, marked): CONTACT LIST due=week owner=USER. Other requests
 * are left as they are. 0, or -1 with err (agenda without a user). */
int request_expand_agenda(struct pd_arena *a, struct pd_request *req, const char *user,
			  struct client_error *err);

/* Builds a request from one text line (no line terminator). 0, or -1 with
 * err. A blank line gives word_count 0 and no named arguments. */
int request_from_line(struct pd_arena *a, const char *line, size_t len,
		      struct pd_request *req, struct typed_yuan *yuan, struct client_error *err);

/* Converts a yuan amount ("12", "12.5", "12.50") to fen. 0, or -1 with err
 * naming the argument. No floating point: 0.1 yuan must be 10 fen exactly. */
int yuan_to_fen(const char *name, const char *yuan, long long *fen,
		struct client_error *err);

/* Appends the request's msgpack encoding: an array of the words, then the
 * named map when it is not empty. */
void request_encode(const struct pd_request *req, struct pd_buf *out);

/* True when the request's first word is `word` (case-insensitive). */
bool request_names(const struct pd_request *req, const char *word);

/* Encodes a request of plain words (no named arguments), e.g. AUTH or HELP. */
void request_encode_words(struct pd_buf *out, size_t count, const char *const *words);

#endif
