/* request_build.c — argv and text lines to msgpack requests. */
#include "request_build.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define YUAN_SUFFIX "_yuan"
#define FEN_SUFFIX "_fen"
/* The daemon takes amounts up to 10^15 fen; 13 integer digits of yuan stay
 * below that and far from overflow. */
#define MAX_YUAN_INTEGER_DIGITS 13

/* The protocol's rule for a named argument's name (request.c): a lowercase
 * letter or _, then lowercase letters, digits or _, at most 64 bytes. */
static bool is_argument_name(const char *s, size_t n)
{
	if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return false;
	return true;
}

int yuan_to_fen(const char *name, const char *yuan, long long *fen,
		struct client_error *err)
{
	const char *p = yuan;
	long long whole = 0;
	int digits = 0, decimals = 0, cents = 0;
	if (*p == '-') {
		client_error_set(err, "%s: amount '%s' must not be negative", name, yuan);
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		if (digits < MAX_YUAN_INTEGER_DIGITS)
			whole = whole * 10 + (*p - '0');
	if (digits > MAX_YUAN_INTEGER_DIGITS) {
		client_error_set(err, "%s: amount '%s' is too large", name, yuan);
		return -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, decimals++)
			if (decimals < 2)
				cents = cents * 10 + (*p - '0');
		if (decimals == 0)
			digits = 0; /* "12." is not a number we accept */
	}
	if (digits == 0 || *p != '\0') {
		client_error_set(err, "%s: '%s' is not an amount of yuan like 12 or 12.50",
				 name, yuan);
		return -1;
	}
	if (decimals > 2) {
		client_error_set(err, "%s: amount '%s' has more than two decimals "
				 "(a fen is 0.01 yuan)", name, yuan);
		return -1;
	}
	if (decimals == 1)
		cents *= 10;
	*fen = whole * 100 + cents;
	return 0;
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* Rebuilds the named map with every name_yuan replaced by name_fen in the
 * same place, so the daemon never sees a yuan amount. */
static int convert_yuan_arguments(struct pd_arena *a, struct pd_request *req,
				  struct typed_yuan *yuan, struct client_error *err)
{
	struct pd_value *converted = pd_map(a);
	if (yuan)
		yuan->count = 0;
	for (struct pd_entry *e = req->named->u.c.head; e; e = e->next) {
		if (!has_suffix(e->key, e->key_len, YUAN_SUFFIX)) {
			pd_map_set(a, converted, e->key, e->val);
			continue;
		}
		if (e->val->type != PD_STR) {
			client_error_set(err, "%s: an amount of yuan must be a string", e->key);
			return -1;
		}
		long long fen;
		if (yuan_to_fen(e->key, e->val->u.s.ptr, &fen, err) < 0)
			return -1;
		size_t base = e->key_len - strlen(YUAN_SUFFIX);
		const char *fen_key = pd_sprintf(a, "%.*s%s", (int)base, e->key, FEN_SUFFIX);
		if (pd_map_get(req->named, fen_key)) {
			client_error_set(err, "%s and %s both given: give one", e->key, fen_key);
			return -1;
		}
		pd_map_set(a, converted, fen_key, pd_str(a, pd_sprintf(a, "%lld", fen)));
		if (yuan && yuan->count < TYPED_YUAN_MAX && base < sizeof(yuan->names[0]))
			snprintf(yuan->names[yuan->count++], sizeof(yuan->names[0]), "%.*s", (int)base, e->key);
	}
	req->named = converted;
	return 0;
}

int request_from_argv(struct pd_arena *a, int argc, char **argv,
		      struct pd_request *req, struct typed_yuan *yuan, struct client_error *err)
{
	memset(req, 0, sizeof(*req));
	req->framing = PD_FRAMING_MSGPACK;
	req->named = pd_map(a);
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		size_t len = strlen(w);
		if (!pd_utf8_valid(w, len)) {
			client_error_set(err, "argument %d is not valid UTF-8", i + 1);
			return -1;
		}
		const char *eq = strchr(w, '=');
		if (eq && is_argument_name(w, (size_t)(eq - w))) {
			const char *key = pd_strndup(a, w, (size_t)(eq - w));
			if (pd_map_get(req->named, key)) {
				client_error_set(err, "argument '%s' given twice", key);
				return -1;
			}
			if (req->named->u.c.count >= PD_MAX_NAMED_ARGS) {
				client_error_set(err, "too many named arguments (at most %d)",
						 PD_MAX_NAMED_ARGS);
				return -1;
			}
			pd_map_set(a, req->named, key, pd_str(a, eq + 1));
			continue;
		}
		if (req->word_count >= PD_MAX_WORDS) {
			client_error_set(err, "too many words (at most %d)", PD_MAX_WORDS);
			return -1;
		}
		req->words[req->word_count++] = pd_strn(a, w, len);
	}
	return convert_yuan_arguments(a, req, yuan, err);
}

int request_from_line(struct pd_arena *a, const char *line, size_t len,
		      struct pd_request *req, struct typed_yuan *yuan, struct client_error *err)
{
	struct pd_error perr;
	if (pd_parse_text_line(a, line, len, req, &perr) < 0) {
		client_error_set(err, "%s", perr.msg);
		return -1;
	}
	req->framing = PD_FRAMING_MSGPACK;
	return convert_yuan_arguments(a, req, yuan, err);
}

void request_encode(const struct pd_request *req, struct pd_buf *out)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, pd_buf_write);
	bool has_named = req->named && req->named->u.c.count > 0;
	msgpack_pack_array(&pk, req->word_count + (has_named ? 1 : 0));
	for (size_t i = 0; i < req->word_count; i++)
		pd_value_pack(&pk, req->words[i]);
	if (has_named)
		pd_value_pack(&pk, req->named);
}

void request_encode_words(struct pd_buf *out, size_t count, const char *const *words)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, pd_buf_write);
	msgpack_pack_array(&pk, count);
	for (size_t i = 0; i < count; i++)
		msgpack_pack_str_with_body(&pk, words[i], strlen(words[i]));
}

bool request_names(const struct pd_request *req, const char *word)
{
	return req->word_count > 0 && req->words[0]->type == PD_STR &&
	       strcasecmp(req->words[0]->u.s.ptr, word) == 0;
}

int request_expand_agenda(struct pd_arena *a, struct pd_request *req, const char *user,
			  struct client_error *err)
{
	if (!request_names(req, "agenda") || req->word_count != 1)
		return 0;
	if (!user) {
		client_error_set(err, "agenda is the contacts of the logged-in user: give -u USER");
		return -1;
	}
	req->words[0] = pd_str(a, "CONTACT");
	req->words[1] = pd_str(a, "LIST");
	req->word_count = 2;
	pd_map_set(a, req->named, "due", pd_str(a, "week"));
	pd_map_set(a, req->named, "owner", pd_str(a, user));
	return 0;
}
