/* command_catalog.c — fetching and searching the daemon's HELP records. */
#include "command_catalog.h"

#include <string.h>
#include <strings.h>

#include "request_build.h"

void catalog_init(struct command_catalog *cat)
{
	pd_arena_init(&cat->arena);
	cat->commands = pd_arr(&cat->arena);
}

void catalog_free(struct command_catalog *cat)
{
	pd_arena_free(&cat->arena);
	cat->commands = NULL;
}

static bool is_success(const struct pd_reply *r)
{
	return r->code >= 200 && r->code <= 299 && r->data && r->data->type == PD_ARR;
}

/* "WAYBILL GET" -> word WAYBILL, sub GET. */
static void split_command_name(struct pd_arena *a, struct pd_value *rec)
{
	const char *name = pd_map_str(rec, "command");
	if (!name)
		return;
	const char *space = strchr(name, ' ');
	if (!space) {
		pd_map_set_str(a, rec, "word", name);
		return;
	}
	pd_map_set(a, rec, "word", pd_strn(a, name, (size_t)(space - name)));
	pd_map_set_str(a, rec, "sub", space + 1);
}

static bool word_seen_before(const struct pd_value *commands,
			     const struct pd_entry *upto, const char *word)
{
	for (struct pd_entry *e = commands->u.c.head; e && e != upto; e = e->next) {
		const char *w = pd_map_str(e->val, "word");
		if (w && strcasecmp(w, word) == 0)
			return true;
	}
	return false;
}

/* Copies "arguments" from a HELP WORD record to the catalog's record. */
static void attach_arguments(struct command_catalog *cat, const struct pd_value *full)
{
	const char *name = pd_map_str(full, "command");
	struct pd_value *args = pd_map_get(full, "arguments");
	if (!name || !args || args->type != PD_ARR)
		return;
	for (struct pd_entry *e = cat->commands->u.c.head; e; e = e->next) {
		const char *mine = pd_map_str(e->val, "command");
		if (mine && strcmp(mine, name) == 0)
			pd_map_set(&cat->arena, e->val, "arguments", args);
	}
}

int catalog_fetch(struct command_catalog *cat, struct server_conn *c,
		  struct client_error *err)
{
	struct pd_buf request;
	struct pd_reply r;
	int rc = -1;
	pd_buf_init(&request);
	const char *help[] = { "HELP" };
	request_encode_words(&request, 1, help);
	if (conn_call(c, &request, &cat->arena, &r, err) < 0)
		goto out;
	if (!is_success(&r)) {
		client_error_set(err, "HELP answered %03d %s", r.code, r.msg ? r.msg : "");
		goto out;
	}
	cat->commands = r.data;

	/* one HELP WORD a command word, all sent before reading any reply */
	size_t asked = 0;
	request.len = 0;
	for (struct pd_entry *e = cat->commands->u.c.head; e; e = e->next) {
		split_command_name(&cat->arena, e->val);
		const char *word = pd_map_str(e->val, "word");
		if (!word || word_seen_before(cat->commands, e, word))
			continue;
		const char *help_word[] = { "HELP", word };
		request_encode_words(&request, 2, help_word);
		asked++;
	}
	if (conn_send_all(c, request.data, request.len, err) < 0)
		goto out;
	for (size_t i = 0; i < asked; i++) {
		if (conn_read_reply(c, &cat->arena, &r, err) < 0)
			goto out;
		if (!is_success(&r))
			continue;
		for (struct pd_entry *e = r.data->u.c.head; e; e = e->next)
			attach_arguments(cat, e->val);
	}
	rc = 0;
out:
	pd_buf_free(&request);
	return rc;
}

bool catalog_has_subcommands(const struct command_catalog *cat, const char *word)
{
	for (struct pd_entry *e = cat->commands->u.c.head; e; e = e->next) {
		const char *w = pd_map_str(e->val, "word");
		if (w && strcasecmp(w, word) == 0 && pd_map_str(e->val, "sub"))
			return true;
	}
	return false;
}

const struct pd_value *catalog_command(const struct command_catalog *cat,
				       const char *word, const char *sub)
{
	bool with_sub = catalog_has_subcommands(cat, word);
	for (struct pd_entry *e = cat->commands->u.c.head; e; e = e->next) {
		const char *w = pd_map_str(e->val, "word");
		const char *s = pd_map_str(e->val, "sub");
		if (!w || strcasecmp(w, word) != 0)
			continue;
		if (!with_sub || (sub && s && strcasecmp(s, sub) == 0))
			return e->val;
	}
	return NULL;
}

const struct pd_value *catalog_argument(const struct pd_value *command,
					const char *name)
{
	const struct pd_value *args = pd_map_get(command, "arguments");
	if (!args || args->type != PD_ARR)
		return NULL;
	for (struct pd_entry *e = args->u.c.head; e; e = e->next) {
		const char *n = pd_map_str(e->val, "name");
		if (n && strcmp(n, name) == 0)
			return e->val;
	}
	return NULL;
}
