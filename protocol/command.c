/* command.c — the command table, its spec parser, and argument binding. */
#include "command.h"
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct pd_command table[PD_CMD_COUNT] = {
#define CMD(id_, word_, sub_, role_, flags_, args_, help_) \
	[PD_CMD_##id_] = { .id = PD_CMD_##id_, .word = word_, .sub = sub_, \
			   .role = role_, .flags = flags_, .args = args_, .help = help_ },
#include "commands.def"
#undef CMD
};

static int table_ready;

static const char *role_names[] = {
	[ROLE_NONE] = "none", [ROLE_OPERATOR] = "operator",
	[ROLE_ADJUSTER] = "adjuster", [ROLE_SUPERVISOR] = "supervisor",
	[ROLE_MANAGER] = "manager", [ROLE_ADMIN] = "admin",
};

const char *pd_role_name(enum pd_role r)
{
	return (r >= ROLE_NONE && r <= ROLE_ADMIN) ? role_names[r] : "?";
}

enum pd_role pd_role_parse(const char *s)
{
	for (int r = ROLE_OPERATOR; r <= ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum pd_role)r;
	return ROLE_NONE;
}

static const struct { const char *name; enum pd_arg_type type; } arg_types[] = {
	{ "str", ARG_STR }, { "text", ARG_TEXT }, { "int", ARG_INT },
	{ "fen", ARG_FEN }, { "bool", ARG_BOOL }, { "time", ARG_TIME },
	{ "date", ARG_DATE }, { "month", ARG_MONTH }, { "id", ARG_ID },
	{ "word", ARG_WORD }, { "phone", ARG_PHONE }, { "waybill", ARG_WAYBILL },
};

const char *pd_arg_type_name(enum pd_arg_type t)
{
	if (t == ARG_ENUM)
		return "enum";
	for (size_t i = 0; i < sizeof(arg_types) / sizeof(arg_types[0]); i++)
		if (arg_types[i].type == t)
			return arg_types[i].name;
	return "?";
}

/* Parses one spec token: <name:type>, [name:type], name=type or name=type!. */
static int parse_spec_token(const char *tok, size_t len, struct pd_arg_spec *s)
{
	char buf[512];
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	memset(s, 0, sizeof(*s));
	char *name = buf, *type;
	if (buf[0] == '<' || buf[0] == '[') {
		char close = buf[0] == '<' ? '>' : ']';
		if (buf[len - 1] != close)
			return -1;
		buf[len - 1] = '\0';
		s->positional = 1;
		s->required = close == '>';
		name = buf + 1;
		type = strchr(name, ':');
	} else {
		if (buf[len - 1] == '!') {
			s->required = 1;
			buf[len - 1] = '\0';
		}
		type = strchr(name, '=');
	}
	if (!type)
		return -1;
	*type++ = '\0';
	if (strlen(name) >= sizeof(s->name))
		return -1;
	strcpy(s->name, name);
	if (strncmp(type, "enum(", 5) == 0) {
		size_t tl = strlen(type);
		if (type[tl - 1] != ')')
			return -1;
		type[tl - 1] = '\0';
		s->type = ARG_ENUM;
		for (char *v = strtok(type + 5, "|"); v; v = strtok(NULL, "|")) {
			if (s->enum_count >= PD_MAX_ENUM || strlen(v) >= 32)
				return -1;
			strcpy(s->enum_values[s->enum_count++], v);
		}
		return s->enum_count ? 0 : -1;
	}
	for (size_t i = 0; i < sizeof(arg_types) / sizeof(arg_types[0]); i++)
		if (strcmp(type, arg_types[i].name) == 0) {
			s->type = arg_types[i].type;
			return 0;
		}
	return -1;
}

/* The look-up: each command word, and each word with its sub-command, in
 * an open-addressed hash table of pointers into the one table above, built
 * by pd_commands_init(). A request's command is found by hashing its words
 * once, not by comparing them down the table (docs/performance.md, round
 * 8). A word's own slot holds its command when it takes no sub-command,
 * else its first command (it says the word is known). */
#define LOOKUP_SLOTS 512 /* a power of two, over twice the words and commands */
static struct lookup_slot {
	const struct pd_command *cmd; /* NULL: empty */
	size_t word_len, sub_len;
	bool word_only;               /* the slot of the word alone */
} lookup_slots[LOOKUP_SLOTS];

#define FNV_PRIME 16777619u
#define FNV_START 2166136261u

/* A byte as strcasecmp compares it: an ASCII letter in upper case. The
 * table's words are in upper case (pd_commands_init() checks). */
static inline unsigned char fold(unsigned char c)
{
	return (unsigned char)(c - 'a') < 26 ? (unsigned char)(c - 32) : c;
}

/* The hash of a word: its length and its first and last bytes, folded
 * (no loop over its bytes: a slot's words are compared in full anyway).
 * A sub-command's goes on from its word's. */
static inline uint32_t word_hash(uint32_t h, const char *s, size_t n)
{
	h = (h ^ (uint32_t)n) * FNV_PRIME;
	if (!n)
		return h;
	h = (h ^ fold((unsigned char)s[0])) * FNV_PRIME;
	return (h ^ fold((unsigned char)s[n - 1])) * FNV_PRIME;
}

/* w (n bytes, any case, maybe holding a NUL) is the table's word. Clients
 * send commands in upper case mostly: those match in one memcmp. */
static inline bool is_word_of(const char *w, size_t n, const char *word, size_t word_len)
{
	if (n != word_len)
		return false;
	if (!memcmp(w, word, n))
		return true;
	for (size_t i = 0; i < n; i++)
		if (fold((unsigned char)w[i]) != (unsigned char)word[i])
			return false;
	return true;
}

/* The slot of word alone (sub NULL) or of word and sub, h the hash of
 * what is looked for, or the empty slot where it goes. With sub, w is the
 * table's word as its own slot holds it: the commands of a word share that
 * string (lookup_add()), so the word is compared by its address, and a
 * request's word once, in its own slot. */
static struct lookup_slot *lookup_find(uint32_t h, const char *w, size_t wn, const char *sub,
				       size_t sn)
{
	for (;; h++) {
		struct lookup_slot *e = &lookup_slots[h & (LOOKUP_SLOTS - 1)];
		if (!e->cmd)
			return e;
		if (sub ? !e->word_only && e->cmd->word == w && is_word_of(sub, sn, e->cmd->sub, e->sub_len)
			: e->word_only && is_word_of(w, wn, e->cmd->word, e->word_len))
			return e;
	}
}

/* Whether s (n bytes) is as fold() makes it: the table's words must be,
 * or is_word_of() would never match them in another case. */
static bool is_folded(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fold((unsigned char)s[i]) != (unsigned char)s[i])
			return false;
	return true;
}

/* Enters a command; -1 when its name is taken, is not in upper case, or
 * its word is one that both takes a sub-command and not (a look-up could
 * not tell). */
static int lookup_add(struct pd_command *cmd)
{
	size_t wn = strlen(cmd->word), sn = cmd->sub ? strlen(cmd->sub) : 0;
	if (!is_folded(cmd->word, wn) || (cmd->sub && !is_folded(cmd->sub, sn)))
		return -1;
	uint32_t h = word_hash(FNV_START, cmd->word, wn);
	struct lookup_slot *e = lookup_find(h, cmd->word, wn, NULL, 0);
	if (!e->cmd)
		*e = (struct lookup_slot){ cmd, wn, 0, true };
	else if (!e->cmd->sub || !cmd->sub)
		return -1;
	if (!cmd->sub)
		return 0;
	cmd->word = e->cmd->word; /* one string for the word's commands */
	e = lookup_find(word_hash(h, cmd->sub, sn), cmd->word, wn, cmd->sub, sn);
	if (e->cmd)
		return -1;
	*e = (struct lookup_slot){ cmd, wn, sn, false };
	return 0;
}

int pd_commands_init(void)
{
	if (table_ready)
		return 0;
	for (size_t c = 0; c < PD_CMD_COUNT; c++) {
		struct pd_command *cmd = &table[c];
		const char *p = cmd->args;
		int seen_optional_positional = 0;
		while (*p) {
			while (*p == ' ')
				p++;
			if (!*p)
				break;
			const char *end = p;
			while (*end && *end != ' ')
				end++;
			if (cmd->arg_count >= PD_MAX_ARGS ||
			    parse_spec_token(p, (size_t)(end - p), &cmd->arg[cmd->arg_count]) < 0) {
				fprintf(stderr, "commands.def: bad argument spec '%.*s' in %s %s\n",
					(int)(end - p), p, cmd->word, cmd->sub ? cmd->sub : "");
				return -1;
			}
			struct pd_arg_spec *s = &cmd->arg[cmd->arg_count++];
			for (int j = 0; j < cmd->arg_count - 1; j++)
				if (strcmp(cmd->arg[j].name, s->name) == 0) {
					/* pd_command_bind() appends each once */
					fprintf(stderr, "commands.def: argument '%s' twice in %s\n",
						s->name, cmd->word);
					return -1;
				}
			if (s->positional && !s->required)
				seen_optional_positional = 1;
			else if (s->positional && seen_optional_positional) {
				fprintf(stderr, "commands.def: required after optional in %s\n",
					cmd->word);
				return -1;
			}
			p = end;
		}
		if (lookup_add(cmd) < 0) {
			fprintf(stderr, "commands.def: %s %s named twice, not in upper case, or %s "
				"both with and without a sub-command\n", cmd->word,
				cmd->sub ? cmd->sub : "", cmd->word);
			return -1;
		}
	}
	table_ready = 1;
	return 0;
}

const struct pd_command *pd_command_table(size_t *count)
{
	*count = PD_CMD_COUNT;
	return table;
}

const struct pd_command *pd_command_by_id(enum pd_command_id id)
{
	return &table[id];
}

const struct pd_command *pd_command_lookup(const struct pd_request *req,
					   size_t *words_used,
					   struct pd_error *err)
{
	const struct pd_value *w0 = req->words[0];
	const char *known_word = NULL;
	const struct lookup_slot *e = NULL;
	uint32_t h = 0;
	if (w0->type == PD_STR) {
		h = word_hash(FNV_START, w0->u.s.ptr, w0->u.s.len);
		e = lookup_find(h, w0->u.s.ptr, w0->u.s.len, NULL, 0);
	}
	if (e && e->cmd) {
		if (!e->cmd->sub) {
			*words_used = 1;
			return e->cmd;
		}
		known_word = e->cmd->word;
		const struct pd_value *w1 = req->word_count > 1 ? req->words[1] : NULL;
		if (w1 && w1->type == PD_STR &&
		    (e = lookup_find(word_hash(h, w1->u.s.ptr, w1->u.s.len), known_word,
				     w0->u.s.len, w1->u.s.ptr, w1->u.s.len))->cmd) {
			*words_used = 2;
			return e->cmd;
		}
	}
	if (known_word) {
		if (req->word_count > 1 && req->words[1]->type == PD_STR)
			pd_error_set(err, 400, "unknown sub-command '%.40s' of %s (try HELP %s)",
				     req->words[1]->u.s.ptr, known_word, known_word);
		else
			pd_error_set(err, 400, "%s needs a sub-command (try HELP %s)",
				     known_word, known_word);
	} else if (w0->type == PD_STR) {
		pd_error_set(err, 400, "unknown command '%.40s' (try HELP)", w0->u.s.ptr);
	} else {
		pd_error_set(err, 400, "unknown command (the first word must be a string)");
	}
	return NULL;
}

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

#define ARG_INT_MAX 1000000000000000LL /* 10^15: the same bound in both framings */

/* Decimal non-negative integer up to ARG_INT_MAX (well inside int64 fen). */
static int parse_uint(const char *s, size_t n, int64_t *out)
{
	if (!all_digits(s, n) || n > 16)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v > ARG_INT_MAX)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "1", "y", "on" };
	static const char *no[] = { "no", "false", "0", "n", "off" };
	for (size_t i = 0; i < 5; i++) {
		if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
		if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
	}
	return -1;
}

static int is_word(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int is_phone(const char *s, size_t n)
{
	if (n < 3 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isdigit(c) || ((c == '+') && i == 0) || c == '-'))
			return 0;
	}
	return 1;
}

/* Converts one raw value (text word or msgpack item) to its spec's type. */
static int bind_value(struct pd_arena *a, const struct pd_arg_spec *s,
		      const struct pd_value *raw, struct pd_value **out,
		      struct pd_error *err)
{
	const char *str = raw->type == PD_STR ? raw->u.s.ptr : NULL;
	size_t len = raw->type == PD_STR ? raw->u.s.len : 0;
	int64_t iv;
	int b;

	if (str && memchr(str, '\0', len)) {
		pd_error_set(err, 400, "argument '%s' holds a NUL byte", s->name);
		return -1;
	}
	switch (s->type) {
	case ARG_STR:
	case ARG_TEXT: {
		size_t max = s->type == ARG_STR ? PD_MAX_STR_BYTES : PD_MAX_TEXT_BYTES;
		if (!str)
			goto wrong_type;
		if (len > max) {
			pd_error_set(err, 413, "argument '%s' is longer than %zu bytes", s->name, max);
			return -1;
		}
		if (len == 0 && s->required) {
			pd_error_set(err, 400, "argument '%s' must not be empty", s->name);
			return -1;
		}
		*out = pd_str_ref(a, str, len);
		return 0;
	}
	case ARG_INT:
	case ARG_FEN:
	case ARG_ID:
		if (raw->type == PD_INT) {
			iv = raw->u.i;
			if (iv < 0 || iv > ARG_INT_MAX)
				goto bad_int;
		} else if (!str || parse_uint(str, len, &iv) < 0) {
			goto bad_int;
		}
		if (s->type == ARG_ID && iv == 0)
			goto bad_int;
		*out = pd_int(a, iv);
		return 0;
	case ARG_BOOL:
		if (raw->type == PD_BOOL) {
			*out = pd_bool(a, raw->u.b);
			return 0;
		}
		if (raw->type == PD_INT && (raw->u.i == 0 || raw->u.i == 1)) {
			*out = pd_bool(a, raw->u.i == 1);
			return 0;
		}
		if (!str || parse_bool(str, &b) < 0) {
			pd_error_set(err, 400, "argument '%s' must be yes or no", s->name);
			return -1;
		}
		*out = pd_bool(a, b);
		return 0;
	case ARG_TIME:
		if (!str || pd_time_parse(str, &iv) < 0) {
			pd_error_set(err, 400, "argument '%s' must be a time like 2026-11-24T09:30:00+08:00",
				     s->name);
			return -1;
		}
		*out = pd_int(a, iv);
		return 0;
	case ARG_DATE: {
		int y, m, d;
		if (!str || pd_date_parse(str, &y, &m, &d) < 0) {
			pd_error_set(err, 400, "argument '%s' must be a date like 2026-11-24", s->name);
			return -1;
		}
		*out = pd_str_ref(a, str, len);
		return 0;
	}
	case ARG_MONTH: {
		int y, m;
		if (!str || pd_month_parse(str, &y, &m) < 0) {
			pd_error_set(err, 400, "argument '%s' must be a month like 2026-11", s->name);
			return -1;
		}
		*out = pd_str_ref(a, str, len);
		return 0;
	}
	case ARG_WORD:
		if (!str)
			goto wrong_type;
		if (!is_word(str, len)) {
			pd_error_set(err, 400, "argument '%s' must be a word of letters, digits, _ - . (at most 64)",
				     s->name);
			return -1;
		}
		*out = pd_str_ref(a, str, len);
		return 0;
	case ARG_PHONE:
		if (!str || !is_phone(str, len)) {
			pd_error_set(err, 400, "argument '%s' must be a phone number (digits, leading +, -)",
				     s->name);
			return -1;
		}
		*out = pd_str_ref(a, str, len);
		return 0;
	case ARG_WAYBILL:
		/* a string only: an integer would have lost its leading zeros */
		if (!str || len < 6 || len > 20 || !all_digits(str, len)) {
			pd_error_set(err, 400, "argument '%s' must be a waybill number: a string of 6 to 20 digits",
				     s->name);
			return -1;
		}
		*out = pd_str_ref(a, str, len);
		return 0;
	case ARG_ENUM:
		if (!str)
			goto wrong_type;
		for (int i = 0; i < s->enum_count; i++)
			if (strcasecmp(str, s->enum_values[i]) == 0 &&
			    strlen(s->enum_values[i]) == len) {
				*out = pd_str_ref(a, s->enum_values[i], len);
				return 0;
			}
		{
			char list[256] = "";
			for (int i = 0; i < s->enum_count; i++) {
				if (i)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, s->enum_values[i], sizeof(list) - strlen(list) - 1);
			}
			pd_error_set(err, 400, "argument '%s' must be one of: %s", s->name, list);
		}
		return -1;
	}
wrong_type:
	pd_error_set(err, 400, "argument '%s' must be a string", s->name);
	return -1;
bad_int:
	pd_error_set(err, 400, "argument '%s' must be a %s integer", s->name,
		     s->type == ARG_ID ? "positive" : "non-negative");
	return -1;
}

int pd_command_bind(struct pd_arena *a, const struct pd_command *cmd,
		    const struct pd_request *req, size_t words_used,
		    struct pd_value **args, struct pd_error *err)
{
	struct pd_value *m = pd_map(a);
	size_t pos = words_used;
	/* set field by field: zeroing their message buffers cost a request
	 * more than the rest of the binding */
	struct pd_missing missing;
	missing.names[0] = '\0';
	missing.count = 0;
	struct pd_error bad; /* the first wrong value: told after what is missing */
	bad.code = 0;
	bool named = req->named && req->named->u.c.count;
	for (int i = 0; i < cmd->arg_count; i++) {
		const struct pd_arg_spec *s = &cmd->arg[i];
		const struct pd_value *raw;
		if (s->positional) {
			raw = pos < req->word_count ? req->words[pos++] : NULL;
			if (raw && named && pd_map_get(req->named, s->name)) {
				pd_error_set(err, 400, "argument '%s' given twice", s->name);
				return -1;
			}
			/* a positional may also be passed by name (handy in scripts) */
			if (!raw && named)
				raw = pd_map_get(req->named, s->name);
		} else {
			raw = named ? pd_map_get(req->named, s->name) : NULL;
		}
		if (!raw || raw->type == PD_NIL) {
			if (s->required)
				pd_missing_add(&missing, s->name);
			continue;
		}
		struct pd_value *v;
		if (bad.code)
			continue;
		if (bind_value(a, s, raw, &v, &bad) < 0)
			continue;
		pd_map_append(a, m, s->name, strlen(s->name), v); /* the spec's names are distinct */
	}
	if (pd_missing_error(&missing, err) < 0)
		return -1;
	if (bad.code) {
		*err = bad;
		return -1;
	}
	if (pos < req->word_count) {
		pd_error_set(err, 400, "too many arguments for %s%s%s (try HELP %s)",
			     cmd->word, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "", cmd->word);
		return -1;
	}
	for (struct pd_entry *e = req->named->u.c.head; e; e = e->next) {
		int known = 0;
		for (int i = 0; i < cmd->arg_count && !known; i++)
			known = strcmp(e->key, cmd->arg[i].name) == 0;
		if (!known && strcmp(e->key, "req") == 0 && (cmd->flags & CMD_WRITE)) {
			if (e->val->type != PD_STR || !is_word(e->val->u.s.ptr, e->val->u.s.len)) {
				pd_error_set(err, 400, "argument 'req' must be a word (at most 64)");
				return -1;
			}
			pd_map_set(a, m, "req", e->val);
			known = 1;
		}
		/* a read on a replica: wait until it holds that change set */
		if (!known && strcmp(e->key, "min_seq") == 0 && !(cmd->flags & CMD_WRITE)) {
			int64_t n = -1;
			if (e->val->type == PD_INT)
				n = e->val->u.i;
			else if (e->val->type != PD_STR || parse_uint(e->val->u.s.ptr, e->val->u.s.len, &n) < 0)
				n = -1;
			if (n < 0) {
				pd_error_set(err, 400, "argument 'min_seq' must be a sequence number (0 or more)");
				return -1;
			}
			pd_map_set_int(a, m, "min_seq", n);
			known = 1;
		}
		if (!known) {
			pd_error_set(err, 400, "unknown argument '%.40s' for %s%s%s", e->key,
				     cmd->word, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "");
			return -1;
		}
	}
	*args = m;
	return 0;
}

void pd_missing_add(struct pd_missing *m, const char *name)
{
	size_t len = strlen(m->names);
	/* room for this name and a closing ", ..." for those that do not fit */
	if (len + strlen(name) + 4 + 5 < sizeof(m->names))
		snprintf(m->names + len, sizeof(m->names) - len, "%s'%s'", m->count ? ", " : "", name);
	else if (len < 4 || strcmp(m->names + len - 4, " ...") != 0)
		snprintf(m->names + len, sizeof(m->names) - len, ", ...");
	m->count++;
}

int pd_missing_error(const struct pd_missing *m, struct pd_error *err)
{
	if (!m->count)
		return 0;
	pd_error_set(err, 400, "missing argument%s %s", m->count > 1 ? "s" : "", m->names);
	return -1;
}

const char *pd_arg_str(const struct pd_value *args, const char *name)
{
	return pd_map_str(args, name);
}

int pd_arg_int(const struct pd_value *args, const char *name, int64_t *out)
{
	return pd_map_int(args, name, out);
}

int pd_arg_bool(const struct pd_value *args, const char *name, int dflt)
{
	struct pd_value *v = pd_map_get(args, name);
	return (v && v->type == PD_BOOL) ? v->u.b : dflt;
}
