/*
 * Unit tests for the command table and argument binding (protocol/command.c),
 * against PROTOCOL.md sections 4 and 6.
 *
 * Table tests walk whatever commands.def holds (so a new command is checked
 * the day it is added); type tests bind against small specs built here, so
 * they do not depend on which command happens to use a type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command.h"
#include "timefmt.h"

static struct pd_arena arena;

static int group_setup(void **state)
{
	(void)state;
	/* times without an offset are read in the depot's zone */
	setenv("TZ", "CST-8", 1);
	tzset();
	pd_arena_init(&arena);
	return pd_commands_init() == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	pd_arena_free(&arena);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	pd_arena_reset(&arena);
	return 0;
}

/* ---- helpers ---- */

struct bound {
	int rc;
	const struct pd_command *cmd;
	size_t used;
	struct pd_value *args;
	struct pd_error err;
};

static void parse_line(const char *line, struct pd_request *req)
{
	struct pd_error err;
	if (pd_parse_text_line(&arena, line, strlen(line), req, &err) < 0)
		fail_msg("'%s' does not parse: %s", line, err.msg);
}

/* Look-up then bind of one text line against the real table. */
static struct bound run_line(const char *line)
{
	struct bound b;
	memset(&b, 0, sizeof(b));
	struct pd_request req;
	parse_line(line, &req);
	b.cmd = pd_command_lookup(&req, &b.used, &b.err);
	if (!b.cmd) {
		b.rc = -1;
		return b;
	}
	b.rc = pd_command_bind(&arena, b.cmd, &req, b.used, &b.args, &b.err);
	return b;
}

static struct bound run_req(const struct pd_request *req)
{
	struct bound b;
	memset(&b, 0, sizeof(b));
	b.cmd = pd_command_lookup(req, &b.used, &b.err);
	if (!b.cmd) {
		b.rc = -1;
		return b;
	}
	b.rc = pd_command_bind(&arena, b.cmd, req, b.used, &b.args, &b.err);
	return b;
}

static void assert_ok(const struct bound *b, const char *what)
{
	if (b->rc != 0)
		fail_msg("%s: refused: %d %s", what, b->err.code, b->err.msg);
	assert_non_null(b->args);
}

static void assert_err(const struct bound *b, int code, const char *fragment)
{
	if (b->rc == 0)
		fail_msg("accepted; wanted %d '%s'", code, fragment);
	assert_int_equal(b->err.code, code);
	if (!strstr(b->err.msg, fragment))
		fail_msg("message '%s' does not hold '%s'", b->err.msg, fragment);
}

/* A one-word command "X" with the given arguments, for type tests. */
static struct pd_command synth;

static void synth_reset(int flags)
{
	memset(&synth, 0, sizeof(synth));
	synth.word = "X";
	synth.flags = flags;
	synth.help = "test";
	synth.args = "";
}

static void synth_arg(const char *name, enum pd_arg_type type, int positional,
		      int required, const char *enum_values)
{
	struct pd_arg_spec *s = &synth.arg[synth.arg_count++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->type = type;
	s->positional = positional;
	s->required = required;
	if (enum_values) {
		const char *p = enum_values;
		while (*p) {
			const char *bar = strchr(p, '|');
			size_t n = bar ? (size_t)(bar - p) : strlen(p);
			snprintf(s->enum_values[s->enum_count++], sizeof(s->enum_values[0]),
				 "%.*s", (int)n, p);
			p += n + (bar ? 1 : 0);
		}
	}
}

/* A spec of one named argument `v` of the type. */
static void synth_one(enum pd_arg_type type, int required)
{
	synth_reset(0);
	synth_arg("v", type, 0, required, type == ARG_ENUM ? "phone|online|walk_in" : NULL);
}

static struct bound bind_synth_req(const struct pd_request *req)
{
	struct bound b;
	memset(&b, 0, sizeof(b));
	b.cmd = &synth;
	b.used = 1;
	b.rc = pd_command_bind(&arena, &synth, req, 1, &b.args, &b.err);
	return b;
}

/* Binds "X <rest>" as a text line. */
static struct bound bind_synth(const char *rest)
{
	char line[8300];
	snprintf(line, sizeof(line), "X %s", rest);
	struct pd_request req;
	parse_line(line, &req);
	return bind_synth_req(&req);
}

/* Binds ["X", {"v": val}] as msgpack. */
static struct bound bind_synth_msgpack(struct pd_value *val)
{
	struct pd_value *arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_str(&arena, "X"));
	struct pd_value *named = pd_map(&arena);
	pd_map_set(&arena, named, "v", val);
	pd_arr_push(&arena, arr, named);
	struct pd_request req;
	struct pd_error err;
	if (pd_request_from_msgpack(&arena, arr, &req, &err) < 0)
		fail_msg("msgpack request refused: %s", err.msg);
	return bind_synth_req(&req);
}

/* v=<value> binds; the bound value is returned. */
static const struct pd_value *bound_v(const char *value)
{
	char rest[8192];
	snprintf(rest, sizeof(rest), "v=%s", value);
	struct bound b = bind_synth(rest);
	assert_ok(&b, value);
	const struct pd_value *v = pd_map_get(b.args, "v");
	assert_non_null(v);
	return v;
}

static void assert_v_refused(const char *value, int code, const char *fragment)
{
	char rest[8192];
	snprintf(rest, sizeof(rest), "v=%s", value);
	struct bound b = bind_synth(rest);
	if (b.rc == 0)
		fail_msg("v=%s accepted", value);
	assert_err(&b, code, fragment);
}

static void assert_v_int(const char *value, int64_t want)
{
	const struct pd_value *v = bound_v(value);
	assert_int_equal(v->type, PD_INT);
	if (v->u.i != want)
		fail_msg("v=%s bound %lld, want %lld", value, (long long)v->u.i,
			 (long long)want);
}

static void assert_v_str(const char *value, const char *want)
{
	const struct pd_value *v = bound_v(value);
	assert_int_equal(v->type, PD_STR);
	assert_int_equal(v->u.s.len, strlen(want));
	assert_string_equal(v->u.s.ptr, want);
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (int64_t)timegm(&tm);
}

/* ---- the table ---- */

static void test_init_succeeds(void **state)
{
	(void)state;
	assert_int_equal(pd_commands_init(), 0);
	assert_int_equal(pd_commands_init(), 0); /* idempotent */
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	assert_non_null(t);
	assert_int_equal(n, PD_CMD_COUNT);
	assert_true(n > 0);
}

static int valid_name(const char *s)
{
	if (!*s || !(islower((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

static int upper_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isupper((unsigned char)*s))
			return 0;
	return 1;
}

static size_t spec_tokens(const char *spec)
{
	size_t n = 0;
	for (const char *p = spec; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n++;
		while (*p && *p != ' ')
			p++;
	}
	return n;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_every_command_is_well_formed(void **state)
{
	(void)state;
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	for (size_t c = 0; c < n; c++) {
		const struct pd_command *cmd = &t[c];
		const char *sub = cmd->sub ? cmd->sub : "";
		if ((size_t)cmd->id != c || pd_command_by_id(cmd->id) != cmd)
			fail_msg("%s %s: id %d at index %zu", cmd->word, sub, cmd->id, c);
		if (!cmd->word || !upper_word(cmd->word) || (cmd->sub && !upper_word(cmd->sub)))
			fail_msg("command %zu: words must be upper-case letters", c);
		if (!cmd->help || strlen(cmd->help) < 8 || strchr(cmd->help, '\n'))
			fail_msg("%s %s: help must be one line of text", cmd->word, sub);
		if (cmd->role < ROLE_NONE || cmd->role > ROLE_ADMIN)
			fail_msg("%s %s: bad role", cmd->word, sub);
		/* CMD_WRITE | CMD_SLOW: a write the hashing thread prepares
		 * (USER ADD hashes the password) before the writer applies it;
		 * CMD_BULK: a slow read, for the bulk thread */
		if ((cmd->flags & ~(CMD_WRITE | CMD_SLOW | CMD_USERS | CMD_SECRET | CMD_BULK)) ||
		    (cmd->flags & CMD_USERS && !(cmd->flags & CMD_WRITE)) ||
		    (cmd->flags & CMD_BULK && (cmd->flags & (CMD_SLOW | CMD_WRITE)) != CMD_SLOW))
			fail_msg("%s %s: bad flags %d", cmd->word, sub, cmd->flags);
		if ((size_t)cmd->arg_count != spec_tokens(cmd->args))
			fail_msg("%s %s: %d arguments parsed from %zu in '%s'", cmd->word, sub,
				 cmd->arg_count, spec_tokens(cmd->args), cmd->args);
		int seen_optional = 0;
		for (int i = 0; i < cmd->arg_count; i++) {
			const struct pd_arg_spec *s = &cmd->arg[i];
			if (!valid_name(s->name) || strcmp(s->name, "req") == 0)
				fail_msg("%s %s: bad argument name '%s'", cmd->word, sub, s->name);
			if (s->type < ARG_STR || s->type > ARG_ENUM ||
			    strcmp(pd_arg_type_name(s->type), "?") == 0)
				fail_msg("%s %s: '%s' has a bad type", cmd->word, sub, s->name);
			if ((s->type == ARG_ENUM) != (s->enum_count > 0))
				fail_msg("%s %s: '%s' enum values", cmd->word, sub, s->name);
			for (int k = 0; k < s->enum_count; k++) {
				if (!valid_name(s->enum_values[k]))
					fail_msg("%s %s: '%s' enum value '%s'", cmd->word, sub,
						 s->name, s->enum_values[k]);
				for (int j = 0; j < k; j++)
					if (strcmp(s->enum_values[j], s->enum_values[k]) == 0)
						fail_msg("%s %s: '%s' repeats '%s'", cmd->word, sub,
							 s->name, s->enum_values[k]);
			}
			/* docs/design.md: amounts are integer fen in arguments named *_fen */
			if ((s->type == ARG_FEN) != ends_with(s->name, "_fen"))
				fail_msg("%s %s: '%s': fen type and _fen name go together",
					 cmd->word, sub, s->name);
			if (s->positional && !s->required)
				seen_optional = 1;
			else if (s->positional && seen_optional)
				fail_msg("%s %s: required positional after an optional one",
					 cmd->word, sub);
			for (int j = 0; j < i; j++)
				if (strcmp(cmd->arg[j].name, s->name) == 0)
					fail_msg("%s %s: '%s' twice", cmd->word, sub, s->name);
		}
		/* one command per (word, sub); a word is either alone or always
		 * has a sub-command, or look-up could not tell them apart */
		for (size_t d = 0; d < c; d++) {
			const struct pd_command *o = &t[d];
			if (strcmp(o->word, cmd->word) != 0)
				continue;
			if (!o->sub || !cmd->sub)
				fail_msg("%s is both a command and a command with sub-commands",
					 cmd->word);
			if (strcmp(o->sub, cmd->sub) == 0)
				fail_msg("%s %s is in the table twice", cmd->word, sub);
		}
	}
}

static void test_roles_and_type_names(void **state)
{
	(void)state;
	for (int r = ROLE_OPERATOR; r <= ROLE_ADMIN; r++)
		assert_int_equal(pd_role_parse(pd_role_name((enum pd_role)r)), r);
	assert_int_equal(pd_role_parse("root"), ROLE_NONE);
	assert_int_equal(pd_role_parse("Admin"), ROLE_NONE);
	assert_int_equal(pd_role_parse("none"), ROLE_NONE);
	assert_string_equal(pd_role_name((enum pd_role)99), "?");
	assert_true(ROLE_OPERATOR < ROLE_ADJUSTER && ROLE_ADJUSTER < ROLE_SUPERVISOR &&
		    ROLE_SUPERVISOR < ROLE_MANAGER && ROLE_MANAGER < ROLE_ADMIN);
	for (int t = ARG_STR; t <= ARG_ENUM; t++) {
		const char *name = pd_arg_type_name((enum pd_arg_type)t);
		assert_string_not_equal(name, "?");
		for (int u = ARG_STR; u < t; u++)
			assert_string_not_equal(name, pd_arg_type_name((enum pd_arg_type)u));
	}
}

/* ---- look-up ---- */

static void mixed_case(const char *in, char *out, int style)
{
	size_t i = 0;
	for (; in[i]; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (char)(style == 0 ? tolower(c) : (i % 2 ? tolower(c) : toupper(c)));
	}
	out[i] = '\0';
}

static void test_lookup_every_command_any_case(void **state)
{
	(void)state;
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	for (size_t c = 0; c < n; c++) {
		for (int style = 0; style < 3; style++) {
			char w[64], s[64] = "", line[160];
			if (style == 2) {
				snprintf(w, sizeof(w), "%s", t[c].word);
				if (t[c].sub)
					snprintf(s, sizeof(s), "%s", t[c].sub);
			} else {
				mixed_case(t[c].word, w, style);
				if (t[c].sub)
					mixed_case(t[c].sub, s, 1 - style);
			}
			snprintf(line, sizeof(line), "%s %s", w, s);
			struct pd_request req;
			parse_line(line, &req);
			size_t used = 0;
			struct pd_error err;
			const struct pd_command *got = pd_command_lookup(&req, &used, &err);
			if (got != &t[c])
				fail_msg("'%s' did not find its command", line);
			assert_int_equal(used, t[c].sub ? 2 : 1);
			pd_arena_reset(&arena);
		}
	}
}

static const struct pd_command *lookup_line(const char *line, size_t *used,
					    struct pd_error *err)
{
	struct pd_request req;
	parse_line(line, &req);
	return pd_command_lookup(&req, used, err);
}

static void test_lookup_errors(void **state)
{
	(void)state;
	size_t used;
	struct pd_error err;
	assert_null(lookup_line("frobnicate 1", &used, &err));
	assert_int_equal(err.code, 400);
	assert_non_null(strstr(err.msg, "unknown command 'frobnicate'"));

	/* neither a prefix nor an extension of a command word is one */
	assert_null(lookup_line("PIN", &used, &err));
	assert_non_null(strstr(err.msg, "unknown command"));
	assert_null(lookup_line("PINGS", &used, &err));
	assert_non_null(strstr(err.msg, "unknown command"));

	assert_null(lookup_line("waybill frobnicate", &used, &err));
	assert_int_equal(err.code, 400);
	assert_non_null(strstr(err.msg, "unknown sub-command 'frobnicate' of WAYBILL"));
	assert_null(lookup_line("WAYBILL GETS 986825", &used, &err));
	assert_non_null(strstr(err.msg, "unknown sub-command 'GETS'"));

	assert_null(lookup_line("waybill", &used, &err));
	assert_int_equal(err.code, 400);
	assert_non_null(strstr(err.msg, "WAYBILL needs a sub-command"));
	assert_non_null(strstr(err.msg, "HELP WAYBILL"));

	/* an overlong unknown word is cut in the message, never overflows it */
	char line[600];
	memset(line, 'z', 500);
	line[500] = '\0';
	assert_null(lookup_line(line, &used, &err));
	assert_int_equal(err.code, 400);
	assert_true(strlen(err.msg) < sizeof(err.msg));

	/* the cut never splits a UTF-8 character: replies carry valid UTF-8 */
	char utf8_line[200];
	memset(utf8_line, 'z', 39);
	strcpy(utf8_line + 39, "\xe5\x8c\x85\xe8\xa3\xb9");
	assert_null(lookup_line(utf8_line, &used, &err));
	assert_non_null(strstr(err.msg, "unknown command"));
	if (!pd_utf8_valid(err.msg, strlen(err.msg)))
		fail_msg("message is not UTF-8: %s", err.msg);
	snprintf(utf8_line, sizeof(utf8_line), "waybill %.*s\xe5\x8c\x85", 39,
		 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	assert_null(lookup_line(utf8_line, &used, &err));
	assert_non_null(strstr(err.msg, "unknown sub-command"));
	if (!pd_utf8_valid(err.msg, strlen(err.msg)))
		fail_msg("message is not UTF-8: %s", err.msg);

	/* msgpack: an integer where a command word belongs */
	struct pd_value *arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_int(&arena, 5));
	struct pd_request req;
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	assert_null(pd_command_lookup(&req, &used, &err));
	assert_int_equal(err.code, 400);
	assert_non_null(strstr(err.msg, "unknown command"));

	/* a command word with a NUL inside is not the command */
	arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_strn(&arena, "PING\0x", 6));
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	assert_null(pd_command_lookup(&req, &used, &err));
	arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_strn(&arena, "PING\0", 5));
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	assert_null(pd_command_lookup(&req, &used, &err));

	/* msgpack: an integer where the sub-command belongs */
	arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_str(&arena, "WAYBILL"));
	pd_arr_push(&arena, arr, pd_int(&arena, 1));
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	assert_null(pd_command_lookup(&req, &used, &err));
	assert_int_equal(err.code, 400);
	assert_non_null(strstr(err.msg, "WAYBILL"));
}

/* ---- binding against the real table ---- */

static void test_bind_positional_and_named(void **state)
{
	(void)state;
	struct bound b = run_line("waybill get 0001878765");
	assert_ok(&b, "waybill get");
	assert_int_equal(b.cmd->id, PD_CMD_waybill_get);
	assert_string_equal(pd_arg_str(b.args, "number"), "0001878765");
	assert_int_equal(b.args->u.c.count, 1);

	/* a positional may be passed by name */
	b = run_line("waybill get number=0001878765");
	assert_ok(&b, "number=");
	assert_string_equal(pd_arg_str(b.args, "number"), "0001878765");

	b = run_line("waybill get 986825 number=986825");
	assert_err(&b, 400, "'number' given twice");

	b = run_line("waybill get");
	assert_err(&b, 400, "missing argument 'number'");

	b = run_line("scan 986825 arrived");
	assert_err(&b, 400, "missing argument 'depot'");

	b = run_line("scan 986825 ARRIVED depot=BJ02 at=2026-11-24T09:30:00+08:00");
	assert_ok(&b, "scan");
	assert_string_equal(pd_arg_str(b.args, "event"), "arrived");
	assert_string_equal(pd_arg_str(b.args, "depot"), "BJ02");
	int64_t at;
	assert_true(pd_arg_int(b.args, "at", &at));
	assert_int_equal(at, utc(2026, 11, 24, 1, 30, 0));
	assert_null(pd_arg_str(b.args, "signer")); /* optional, absent */
	assert_int_equal(pd_arg_bool(b.args, "signer_is_consignee", 7), 7);

	b = run_line("waybill get 986825 colour=red");
	assert_err(&b, 400, "unknown argument 'colour' for WAYBILL GET");

	b = run_line("waybill get 986825 986826");
	assert_err(&b, 400, "too many arguments for WAYBILL GET");

	b = run_line("ping extra");
	assert_err(&b, 400, "too many arguments for PING");

	/* optional positionals */
	b = run_line("help");
	assert_ok(&b, "help");
	assert_int_equal(b.args->u.c.count, 0);
	b = run_line("help waybill get");
	assert_ok(&b, "help waybill get");
	assert_string_equal(pd_arg_str(b.args, "command"), "waybill");
	assert_string_equal(pd_arg_str(b.args, "sub"), "get");
}

static void test_bind_msgpack_named_nil_is_absent(void **state)
{
	(void)state;
	/* ["SCAN", "986825", "arrived", {"depot": nil}] */
	struct pd_value *arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_str(&arena, "SCAN"));
	pd_arr_push(&arena, arr, pd_str(&arena, "986825"));
	pd_arr_push(&arena, arr, pd_str(&arena, "arrived"));
	struct pd_value *named = pd_map(&arena);
	pd_map_set(&arena, named, "depot", pd_nil(&arena));
	pd_map_set(&arena, named, "signer", pd_nil(&arena));
	pd_arr_push(&arena, arr, named);
	struct pd_request req;
	struct pd_error err;
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	struct bound b = run_req(&req);
	assert_err(&b, 400, "missing argument 'depot'");

	pd_map_set(&arena, named, "depot", pd_str(&arena, "BJ02"));
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	b = run_req(&req);
	assert_ok(&b, "depot given, signer nil");
	assert_null(pd_map_get(b.args, "signer"));
}

static void test_req_token_only_on_writes(void **state)
{
	(void)state;
	struct bound b = run_line("scan 986825 arrived depot=BJ02 req=tok-1.a_B");
	assert_ok(&b, "scan req=");
	assert_true(b.cmd->flags & CMD_WRITE);
	assert_string_equal(pd_arg_str(b.args, "req"), "tok-1.a_B");

	b = run_line("waybill get 986825 req=tok");
	assert_false(b.cmd->flags & CMD_WRITE);
	assert_err(&b, 400, "unknown argument 'req'");

	b = run_line("scan 986825 arrived depot=BJ02 req=\"a b\"");
	assert_err(&b, 400, "'req' must be a word");
	b = run_line("scan 986825 arrived depot=BJ02 req=");
	assert_err(&b, 400, "'req' must be a word");
	char line[200], tok[70];
	memset(tok, 't', 65);
	tok[65] = '\0';
	snprintf(line, sizeof(line), "scan 986825 arrived depot=BJ02 req=%s", tok);
	b = run_line(line);
	assert_err(&b, 400, "'req' must be a word");
	tok[64] = '\0';
	snprintf(line, sizeof(line), "scan 986825 arrived depot=BJ02 req=%s", tok);
	b = run_line(line);
	assert_ok(&b, "64-byte token");

	/* msgpack: the token is a word, not an integer */
	struct pd_value *arr = pd_arr(&arena);
	pd_arr_push(&arena, arr, pd_str(&arena, "SCAN"));
	pd_arr_push(&arena, arr, pd_str(&arena, "986825"));
	pd_arr_push(&arena, arr, pd_str(&arena, "arrived"));
	struct pd_value *named = pd_map(&arena);
	pd_map_set(&arena, named, "depot", pd_str(&arena, "BJ02"));
	pd_map_set(&arena, named, "req", pd_int(&arena, 12345));
	pd_arr_push(&arena, arr, named);
	struct pd_request req;
	struct pd_error err;
	assert_int_equal(pd_request_from_msgpack(&arena, arr, &req, &err), 0);
	b = run_req(&req);
	assert_err(&b, 400, "'req' must be a word");
}

/* A valid text spelling of each type, and the value type it binds to. */
static const char *sample_value(const struct pd_arg_spec *s, enum pd_type *bound)
{
	*bound = PD_STR;
	switch (s->type) {
	case ARG_STR: return "\"some text\"";
	case ARG_TEXT: return "\"a longer text\"";
	case ARG_INT: *bound = PD_INT; return "3";
	case ARG_FEN: *bound = PD_INT; return "1200";
	case ARG_BOOL: *bound = PD_BOOL; return "yes";
	case ARG_TIME: *bound = PD_INT; return "2026-11-24T09:30:00+08:00";
	case ARG_DATE: return "2026-11-24";
	case ARG_MONTH: return "2026-11";
	case ARG_ID: *bound = PD_INT; return "7";
	case ARG_WORD: return "BJ02";
	case ARG_PHONE: return "13800138000";
	case ARG_WAYBILL: return "0001878765";
	case ARG_ENUM: return s->enum_values[s->enum_count - 1];
	}
	return "?";
}

/* Builds the command's words and the arguments selected by `pick`:
 * 0 required only, 1 all, 2 required but skip index `skip`. */
static void build_call(const struct pd_command *cmd, int pick, int skip, char *line,
		       size_t size)
{
	size_t n = (size_t)snprintf(line, size, "%s%s%s", cmd->word, cmd->sub ? " " : "",
				    cmd->sub ? cmd->sub : "");
	int stop_positionals = 0;
	for (int i = 0; i < cmd->arg_count; i++) {
		const struct pd_arg_spec *s = &cmd->arg[i];
		enum pd_type t;
		int want = pick == 1 || s->required;
		if (i == skip)
			want = 0;
		if (!want) {
			if (s->positional)
				stop_positionals = 1;
			continue;
		}
		if (s->positional && !stop_positionals)
			n += (size_t)snprintf(line + n, size - n, " %s", sample_value(s, &t));
		else
			n += (size_t)snprintf(line + n, size - n, " %s=%s", s->name,
					      sample_value(s, &t));
	}
}

static void test_every_command_binds_its_spec(void **state)
{
	(void)state;
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	for (size_t c = 0; c < n; c++) {
		const struct pd_command *cmd = &t[c];
		char line[4096];
		for (int pick = 0; pick < 2; pick++) {
			build_call(cmd, pick, -1, line, sizeof(line));
			struct bound b = run_line(line);
			if (b.rc != 0)
				fail_msg("'%s': %s", line, b.err.msg);
			assert_ptr_equal(b.cmd, cmd);
			size_t bound_count = 0;
			for (int i = 0; i < cmd->arg_count; i++) {
				const struct pd_arg_spec *s = &cmd->arg[i];
				const struct pd_value *v = pd_map_get(b.args, s->name);
				if (!pick && !s->required) {
					assert_null(v);
					continue;
				}
				enum pd_type want;
				(void)sample_value(s, &want);
				if (!v || v->type != want)
					fail_msg("'%s': '%s' not bound as type %d", line, s->name, want);
				bound_count++;
			}
			assert_int_equal(b.args->u.c.count, bound_count);

			/* req= is accepted exactly by the writes */
			char with_req[4200];
			snprintf(with_req, sizeof(with_req), "%s req=r-%zu", line, c);
			b = run_line(with_req);
			if (cmd->flags & CMD_WRITE) {
				if (b.rc != 0)
					fail_msg("'%s': %s", with_req, b.err.msg);
				assert_non_null(pd_arg_str(b.args, "req"));
			} else {
				assert_err(&b, 400, "unknown argument 'req'");
			}
			pd_arena_reset(&arena);
		}
		/* leaving out any required argument names it */
		for (int i = 0; i < cmd->arg_count; i++) {
			if (!cmd->arg[i].required)
				continue;
			build_call(cmd, 0, i, line, sizeof(line));
			struct bound b = run_line(line);
			char want[80];
			snprintf(want, sizeof(want), "missing argument '%s'", cmd->arg[i].name);
			if (b.rc == 0)
				fail_msg("'%s' accepted without '%s'", line, cmd->arg[i].name);
			assert_err(&b, 400, want);
			pd_arena_reset(&arena);
		}
	}
}

/* ---- types ---- */

static void test_int_and_fen(void **state)
{
	(void)state;
	enum pd_arg_type types[] = { ARG_INT, ARG_FEN };
	for (int k = 0; k < 2; k++) {
		synth_one(types[k], 0);
		assert_v_int("0", 0);
		assert_v_int("42", 42);
		assert_v_int("007", 7);
		assert_v_int("999999999999999", 999999999999999LL); /* 15 digits */
		static const char *bad[] = { "-1", "+1", "1.5", "1e3", "0x10", "12a", "a12",
					     "\"1 2\"", "\" 1\"", "", "1,000",
					     "99999999999999999999" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_v_refused(bad[i], 400, "'v' must be a non-negative integer");

		/* msgpack integers */
		struct bound b = bind_synth_msgpack(pd_int(&arena, 1234));
		assert_ok(&b, "msgpack int");
		int64_t x;
		assert_true(pd_arg_int(b.args, "v", &x));
		assert_int_equal(x, 1234);
		b = bind_synth_msgpack(pd_int(&arena, 1000000000000000LL));
		assert_ok(&b, "msgpack 10^15");
		b = bind_synth_msgpack(pd_int(&arena, 1000000000000001LL));
		assert_err(&b, 400, "non-negative integer");
		b = bind_synth_msgpack(pd_int(&arena, -1));
		assert_err(&b, 400, "non-negative integer");
		b = bind_synth_msgpack(pd_int(&arena, INT64_MIN));
		assert_err(&b, 400, "non-negative integer");
		b = bind_synth_msgpack(pd_bool(&arena, true));
		assert_err(&b, 400, "non-negative integer");
	}
}

/* PROTOCOL.md: an int is accepted "up to 10^15", in either framing. */
static void test_int_limit_same_in_both_framings(void **state)
{
	(void)state;
	synth_one(ARG_INT, 0);
	struct bound b = bind_synth_msgpack(pd_int(&arena, 1000000000000000LL));
	assert_ok(&b, "msgpack 10^15");
	assert_v_int("1000000000000000", 1000000000000000LL);
	assert_v_refused("1000000000000001", 400, "non-negative integer");
}

static void test_id(void **state)
{
	(void)state;
	synth_one(ARG_ID, 0);
	assert_v_int("1", 1);
	assert_v_int("123456", 123456);
	assert_v_refused("0", 400, "'v' must be a positive integer");
	assert_v_refused("000", 400, "positive integer");
	assert_v_refused("-3", 400, "positive integer");
	struct bound b = bind_synth_msgpack(pd_int(&arena, 0));
	assert_err(&b, 400, "positive integer");
	b = bind_synth_msgpack(pd_int(&arena, 9));
	assert_ok(&b, "msgpack id");
}

static void test_bool(void **state)
{
	(void)state;
	synth_one(ARG_BOOL, 0);
	static const char *yes[] = { "yes", "true", "1", "y", "on", "YES", "True", "Y", "ON" };
	static const char *no[] = { "no", "false", "0", "n", "off", "NO", "False", "N", "Off" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		const struct pd_value *v = bound_v(yes[i]);
		assert_int_equal(v->type, PD_BOOL);
		if (!v->u.b)
			fail_msg("%s bound false", yes[i]);
		v = bound_v(no[i]);
		assert_int_equal(v->type, PD_BOOL);
		if (v->u.b)
			fail_msg("%s bound true", no[i]);
	}
	static const char *bad[] = { "maybe", "2", "", "yess", "t", "f", "nope", "\"yes \"",
				     "-1", "01" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_v_refused(bad[i], 400, "'v' must be yes or no");

	struct bound b = bind_synth_msgpack(pd_bool(&arena, true));
	assert_ok(&b, "msgpack true");
	assert_int_equal(pd_arg_bool(b.args, "v", -1), 1);
	b = bind_synth_msgpack(pd_bool(&arena, false));
	assert_ok(&b, "msgpack false");
	assert_int_equal(pd_arg_bool(b.args, "v", -1), 0);
	b = bind_synth_msgpack(pd_int(&arena, 2));
	assert_err(&b, 400, "yes or no");
}

static void test_time(void **state)
{
	(void)state;
	synth_one(ARG_TIME, 0);
	int64_t base = utc(2026, 11, 24, 9, 30, 0);
	assert_v_int("2026-11-24T09:30:00Z", base);
	assert_v_int("2026-11-24T09:30:00+08:00", base - 8 * 3600);
	assert_v_int("2026-11-24T09:30:00+0800", base - 8 * 3600);
	assert_v_int("2026-11-24T09:30:00-05:00", base + 5 * 3600);
	assert_v_int("2026-11-24T09:30:00-0530", base + 5 * 3600 + 1800);
	assert_v_int("2026-11-24T09:30:00+00:00", base);
	assert_v_int("2026-11-24T09:30Z", base);                 /* seconds optional */
	assert_v_int("2026-11-24T09:30+08:00", base - 8 * 3600);
	assert_v_int("2026-11-24T09:30:59Z", base + 59);
	assert_v_int("2026-11-24T00:00:00Z", utc(2026, 11, 24, 0, 0, 0));
	assert_v_int("2026-11-24T23:59:59Z", utc(2026, 11, 24, 23, 59, 59));
	assert_v_int("2026-12-31T23:59:59+14:00", utc(2026, 12, 31, 9, 59, 59));
	/* leap days */
	assert_v_int("2028-02-29T12:00:00Z", utc(2028, 2, 29, 12, 0, 0));
	assert_v_int("2000-02-29T12:00:00Z", utc(2000, 2, 29, 12, 0, 0));
	/* no offset: the depot's zone (TZ=CST-8 in this test) */
	assert_v_int("2026-11-24T09:30:00", base - 8 * 3600);
	assert_v_int("2026-11-24T09:30", base - 8 * 3600);

	static const char *bad[] = {
		"2026-02-30T10:00:00Z", "2026-02-29T10:00:00Z", "2100-02-29T10:00:00Z",
		"2026-04-31T10:00:00Z", "2026-13-01T10:00:00Z", "2026-00-10T10:00:00Z",
		"2026-11-00T10:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T23:60:00Z",
		"2026-11-24T23:59:60Z", "\"2026-11-24 09:30:00Z\"", "2026-11-24",
		"2026-11-24T", "2026-11-24T09", "2026-11-24T9:30Z", "26-11-24T09:30Z",
		"2026-11-24T09:30:00+08", "2026-11-24T09:30:00+8:00",
		"2026-11-24T09:30:00+15:00", "2026-11-24T09:30:00+08:60",
		"2026-11-24T09:30:00z", "2026-11-24T09:30:00ZZ", "2026-11-24T09:30:00+08:00:00",
		"2026-11-24T09:30:00.5Z", "2026-11-24T09:30:0Z", "1969-12-31T23:59:59Z",
		"2026-11-24t09:30:00Z", "2026/11/24T09:30:00Z", "\"2026-11-24T09:30:00Z \"",
		"now", "1795500000", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_v_refused(bad[i], 400, "'v' must be a time like 2026-11-24T09:30:00+08:00");

	/* a time is a string, never an integer of seconds */
	struct bound b = bind_synth_msgpack(pd_int(&arena, 1795500000));
	assert_err(&b, 400, "must be a time");
	b = bind_synth_msgpack(pd_str(&arena, "2026-11-24T09:30:00Z"));
	assert_ok(&b, "msgpack time");
	int64_t x;
	assert_true(pd_arg_int(b.args, "v", &x));
	assert_int_equal(x, base);
}

static void test_time_zone_of_the_depot(void **state)
{
	(void)state;
	synth_one(ARG_TIME, 0);
	int64_t base = utc(2026, 7, 1, 12, 0, 0);
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_v_int("2026-07-01T12:00:00", base);
	setenv("TZ", "EST5", 1);
	tzset();
	assert_v_int("2026-07-01T12:00:00", base + 5 * 3600);
	/* an explicit offset does not depend on the zone */
	assert_v_int("2026-07-01T12:00:00+08:00", base - 8 * 3600);
	setenv("TZ", "CST-8", 1);
	tzset();
	assert_v_int("2026-07-01T12:00:00", base - 8 * 3600);

	/* pd_time_format shows the zone's offset and round-trips */
	char buf[PD_TIME_BUF];
	pd_time_format(base, buf);
	assert_string_equal(buf, "2026-07-01T20:00:00+08:00");
	int64_t back;
	assert_int_equal(pd_time_parse(buf, &back), 0);
	assert_int_equal(back, base);
}

static void test_date_and_month(void **state)
{
	(void)state;
	synth_one(ARG_DATE, 0);
	assert_v_str("2026-11-24", "2026-11-24");
	assert_v_str("2028-02-29", "2028-02-29");
	assert_v_str("2026-12-31", "2026-12-31");
	static const char *bad_dates[] = {
		"2026-02-29", "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-01",
		"2026-11-00", "2026-1-24", "2026-11-4", "2026/11/24", "2026-11-24T00:00",
		"20261124", "26-11-24", "", "abcd-ef-gh", "1969-12-31",
	};
	for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++)
		assert_v_refused(bad_dates[i], 400, "'v' must be a date like 2026-11-24");
	struct bound b = bind_synth_msgpack(pd_int(&arena, 20261124));
	assert_err(&b, 400, "must be a date");

	synth_one(ARG_MONTH, 0);
	assert_v_str("2026-11", "2026-11");
	assert_v_str("2026-01", "2026-01");
	static const char *bad_months[] = {
		"2026-13", "2026-00", "2026-1", "2026-11-01", "202611", "2026/11", "", "26-11",
	};
	for (size_t i = 0; i < sizeof(bad_months) / sizeof(bad_months[0]); i++)
		assert_v_refused(bad_months[i], 400, "'v' must be a month like 2026-11");
}

static void test_waybill_numbers(void **state)
{
	(void)state;
	synth_one(ARG_WAYBILL, 0);
	assert_v_str("986825", "986825");
	assert_v_str("0001878765", "0001878765"); /* leading zeros kept */
	assert_v_str("000000", "000000");
	assert_v_str("12345678901234567890", "12345678901234567890"); /* 20 */
	static const char *bad[] = {
		"98682", "123456789012345678901", "98682a", "-986825", "+986825",
		"\" 986825\"", "\"986 825\"", "", "９８６８２５", "986825.0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_v_refused(bad[i], 400, "'v' must be a waybill number: a string of 6 to 20 digits");

	/* an integer would have lost its leading zeros: refused */
	struct bound b = bind_synth_msgpack(pd_int(&arena, 986825));
	assert_err(&b, 400, "6 to 20 digits");
	b = bind_synth_msgpack(pd_str(&arena, "0001878765"));
	assert_ok(&b, "msgpack waybill string");
	assert_string_equal(pd_arg_str(b.args, "v"), "0001878765");

	/* through the real command too */
	struct bound g = run_line("waybill get 1878765");
	assert_ok(&g, "7 digits");
	assert_string_equal(pd_arg_str(g.args, "number"), "1878765");
}

static void test_phone(void **state)
{
	(void)state;
	synth_one(ARG_PHONE, 0);
	assert_v_str("13800138000", "13800138000");
	assert_v_str("+8613800138000", "+8613800138000");
	assert_v_str("021-6234-5678", "021-6234-5678");
	assert_v_str("110", "110");
	assert_v_str("12345678901234567890", "12345678901234567890"); /* 20 */
	static const char *bad[] = {
		"12", "123456789012345678901", "138a0013800", "13+800138000", "++86138",
		"\"+86 138 0013 8000\"", "(021)62345678", "", "138.0013.8000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_v_refused(bad[i], 400, "'v' must be a phone number");
	struct bound b = bind_synth_msgpack(pd_int(&arena, 13800138000LL));
	assert_err(&b, 400, "phone number");
}

static void test_enum(void **state)
{
	(void)state;
	synth_one(ARG_ENUM, 0);
	assert_v_str("phone", "phone");
	assert_v_str("PHONE", "phone");  /* case-insensitive, bound in the table's spelling */
	assert_v_str("Walk_In", "walk_in");
	static const char *bad[] = { "phon", "phones", "walk-in", "", "\"phone \"", "tv" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_v_refused(bad[i], 400, "'v' must be one of: phone, online, walk_in");
	struct bound b = bind_synth_msgpack(pd_int(&arena, 0));
	assert_err(&b, 400, "'v' must be a string");

	/* the real table: SCAN's event */
	struct bound s = run_line("scan 986825 Out_For_Delivery depot=BJ02");
	assert_ok(&s, "scan enum");
	assert_string_equal(pd_arg_str(s.args, "event"), "out_for_delivery");
	s = run_line("scan 986825 teleported depot=BJ02");
	assert_err(&s, 400, "'event' must be one of: picked_up, departed");
}

static void test_str_text_word_limits(void **state)
{
	(void)state;
	static char big[PD_MAX_TEXT_BYTES + 16];
	static char line[PD_MAX_TEXT_BYTES + 64];

	synth_one(ARG_STR, 0);
	memset(big, 's', PD_MAX_STR_BYTES);
	big[PD_MAX_STR_BYTES] = '\0';
	const struct pd_value *v = bound_v(big);
	assert_int_equal(v->u.s.len, PD_MAX_STR_BYTES);
	big[PD_MAX_STR_BYTES] = 's';
	big[PD_MAX_STR_BYTES + 1] = '\0';
	assert_v_refused(big, 413, "'v' is longer than 512 bytes");
	/* counted in bytes, not characters: 171 x 3-byte characters = 513 */
	line[0] = '\0';
	for (int i = 0; i < 171; i++)
		strcat(line, "\xe5\x8c\x85");
	assert_v_refused(line, 413, "longer than 512 bytes");
	line[170 * 3] = '\0';
	assert_int_equal(bound_v(line)->u.s.len, 510);
	assert_v_str("\"\"", ""); /* optional may be empty */

	synth_one(ARG_STR, 1);
	assert_v_refused("\"\"", 400, "'v' must not be empty");
	assert_v_refused("", 400, "'v' must not be empty");
	struct bound b = bind_synth_msgpack(pd_strn(&arena, "a\0b", 3));
	assert_err(&b, 400, "'v' holds a NUL byte");
	b = bind_synth_msgpack(pd_int(&arena, 5));
	assert_err(&b, 400, "'v' must be a string");
	b = bind_synth_msgpack(pd_bool(&arena, true));
	assert_err(&b, 400, "'v' must be a string");
	/* the text framing can spell a NUL too */
	b = bind_synth("v=\"a\\x00b\"");
	assert_err(&b, 400, "NUL byte");

	synth_one(ARG_TEXT, 1);
	memset(big, 't', PD_MAX_TEXT_BYTES);
	big[PD_MAX_TEXT_BYTES] = '\0';
	assert_int_equal(bound_v(big)->u.s.len, PD_MAX_TEXT_BYTES);
	big[PD_MAX_TEXT_BYTES] = 't';
	big[PD_MAX_TEXT_BYTES + 1] = '\0';
	assert_v_refused(big, 413, "'v' is longer than 4096 bytes");
	snprintf(line, sizeof(line), "\"%s\"", "line one\\nline two");
	assert_v_str(line, "line one\nline two");

	synth_one(ARG_WORD, 0);
	assert_v_str("SH-01.a_b", "SH-01.a_b");
	memset(big, 'w', 64);
	big[64] = '\0';
	assert_v_str(big, big);
	big[64] = 'w';
	big[65] = '\0';
	assert_v_refused(big, 400, "'v' must be a word");
	static const char *bad_words[] = { "\"a b\"", "", "a/b", "x@y", "\"a\\tb\"",
					   "\xe5\x8c\x85" };
	for (size_t i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++)
		assert_v_refused(bad_words[i], 400, "'v' must be a word");
	b = bind_synth_msgpack(pd_int(&arena, 7));
	assert_err(&b, 400, "'v' must be a string");
}

static void test_positional_synth(void **state)
{
	(void)state;
	/* X <a:int> [b:word] c=bool! */
	synth_reset(CMD_WRITE);
	synth_arg("a", ARG_INT, 1, 1, NULL);
	synth_arg("b", ARG_WORD, 1, 0, NULL);
	synth_arg("c", ARG_BOOL, 0, 1, NULL);
	struct bound b = bind_synth("5 c=no");
	assert_ok(&b, "required only");
	int64_t a;
	assert_true(pd_arg_int(b.args, "a", &a));
	assert_int_equal(a, 5);
	assert_null(pd_arg_str(b.args, "b"));
	assert_int_equal(pd_arg_bool(b.args, "c", -1), 0);

	b = bind_synth("5 w c=yes");
	assert_ok(&b, "with optional");
	assert_string_equal(pd_arg_str(b.args, "b"), "w");

	b = bind_synth("c=yes");
	assert_err(&b, 400, "missing argument 'a'");
	b = bind_synth("5");
	assert_err(&b, 400, "missing argument 'c'");
	/* everything missing is named in one reply, before a wrong value */
	b = bind_synth("");
	assert_err(&b, 400, "missing arguments 'a', 'c'");
	b = bind_synth("x");
	assert_err(&b, 400, "missing argument 'c'");
	b = bind_synth("5 w extra c=yes");
	assert_err(&b, 400, "too many arguments for X");
	b = bind_synth("x c=yes");
	assert_err(&b, 400, "'a' must be a non-negative integer");
	b = bind_synth("5 c=yes a=5");
	assert_err(&b, 400, "'a' given twice");
	b = bind_synth("5 c=yes d=1");
	assert_err(&b, 400, "unknown argument 'd' for X");
	b = bind_synth("5 c=yes req=abc");
	assert_ok(&b, "req on a write");
	assert_string_equal(pd_arg_str(b.args, "req"), "abc");
	synth.flags = 0;
	b = bind_synth("5 c=yes req=abc");
	assert_err(&b, 400, "unknown argument 'req'");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, reset, reset)
	const struct CMUnitTest tests[] = {
		T(test_init_succeeds),
		T(test_every_command_is_well_formed),
		T(test_roles_and_type_names),
		T(test_lookup_every_command_any_case),
		T(test_lookup_errors),
		T(test_bind_positional_and_named),
		T(test_bind_msgpack_named_nil_is_absent),
		T(test_req_token_only_on_writes),
		T(test_every_command_binds_its_spec),
		T(test_int_and_fen),
		T(test_int_limit_same_in_both_framings),
		T(test_id),
		T(test_bool),
		T(test_time),
		T(test_time_zone_of_the_depot),
		T(test_date_and_month),
		T(test_waybill_numbers),
		T(test_phone),
		T(test_enum),
		T(test_str_text_word_limits),
		T(test_positional_synth),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
