/* interactive.c — the libedit prompt and its completion. */
#include "interactive.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <editline/readline.h>

#include "command_catalog.h"
#include "request_build.h"
#include "session.h"

/* libedit's completion hooks take no user data, so what they complete from
 * lives here: the catalog of this session, and the candidates of the
 * completion in progress, handed to rl_completion_matches() one by one. */
static const struct command_catalog *completion_catalog;
static struct {
	char **items;
	size_t count, cap, next;
} candidates;

/* libedit wants a writable string here; only spaces separate words, so
 * `name=val` is completed as one word. */
static char word_breaks[] = " \t";

static void candidates_clear(void)
{
	for (size_t i = 0; i < candidates.count; i++)
		free(candidates.items[i]);
	candidates.count = candidates.next = 0;
}

static void candidate_add(const char *s)
{
	for (size_t i = 0; i < candidates.count; i++)
		if (strcmp(candidates.items[i], s) == 0)
			return;
	if (candidates.count == candidates.cap) {
		size_t cap = candidates.cap ? candidates.cap * 2 : 32;
		char **items = realloc(candidates.items, cap * sizeof(*items));
		if (!items)
			return;
		candidates.items = items;
		candidates.cap = cap;
	}
	char *copy = strdup(s);
	if (copy)
		candidates.items[candidates.count++] = copy;
}

static char *candidate_next(const char *text, int state)
{
	(void)text;
	if (state == 0)
		candidates.next = 0;
	if (candidates.next >= candidates.count)
		return NULL;
	return strdup(candidates.items[candidates.next++]);
}

static bool starts_with(const char *s, const char *prefix, bool ignore_case)
{
	size_t n = strlen(prefix);
	return ignore_case ? strncasecmp(s, prefix, n) == 0 : strncmp(s, prefix, n) == 0;
}

/* Command words complete in the case the user started typing in; the daemon
 * does not mind either. */
static void candidate_add_word(const char *word, const char *typed)
{
	char buf[128];
	bool lower = !(typed[0] >= 'A' && typed[0] <= 'Z');
	size_t i = 0;
	for (; word[i] && i + 1 < sizeof(buf); i++)
		buf[i] = lower && word[i] >= 'A' && word[i] <= 'Z' ? (char)(word[i] + 32) : word[i];
	buf[i] = '\0';
	candidate_add(buf);
}

static void add_command_words(const char *typed)
{
	for (struct pd_entry *e = completion_catalog->commands->u.c.head; e; e = e->next) {
		const char *w = pd_map_str(e->val, "word");
		if (w && starts_with(w, typed, true))
			candidate_add_word(w, typed);
	}
}

static void add_subcommands(const char *word, const char *typed)
{
	for (struct pd_entry *e = completion_catalog->commands->u.c.head; e; e = e->next) {
		const char *w = pd_map_str(e->val, "word");
		const char *s = pd_map_str(e->val, "sub");
		if (w && s && strcasecmp(w, word) == 0 && starts_with(s, typed, true))
			candidate_add_word(s, typed);
	}
}

/* The values an argument can take, when they are few and known: an enum's
 * values, or yes and no. Each is offered as prefix + value. */
static void add_argument_values(const struct pd_value *arg, const char *prefix,
				const char *typed)
{
	const struct pd_value *values = pd_map_get(arg, "values");
	const char *type = pd_map_str(arg, "type");
	char buf[256];
	if (values && values->type == PD_ARR) {
		for (struct pd_entry *e = values->u.c.head; e; e = e->next)
			if (e->val->type == PD_STR && starts_with(e->val->u.s.ptr, typed, true)) {
				snprintf(buf, sizeof(buf), "%s%s", prefix, e->val->u.s.ptr);
				candidate_add(buf);
			}
	} else if (type && strcmp(type, "bool") == 0) {
		static const char *const yes_no[] = { "yes", "no" };
		for (int i = 0; i < 2; i++)
			if (starts_with(yes_no[i], typed, true)) {
				snprintf(buf, sizeof(buf), "%s%s", prefix, yes_no[i]);
				candidate_add(buf);
			}
	}
}

/* Named arguments not yet on the line, as "name="; an amount in fen is also
 * offered in yuan, which this client converts. */
static void add_argument_names(const struct pd_value *cmd, const struct pd_request *req,
			       const char *typed)
{
	const struct pd_value *args = pd_map_get(cmd, "arguments");
	if (!args || args->type != PD_ARR)
		return;
	for (struct pd_entry *e = args->u.c.head; e; e = e->next) {
		const char *name = pd_map_str(e->val, "name");
		const char *type = pd_map_str(e->val, "type");
		if (!name || pd_map_bool(e->val, "positional"))
			continue;
		char yuan_name[80] = "";
		size_t n = strlen(name);
		if (type && strcmp(type, "fen") == 0 && n > 4 && strcmp(name + n - 4, "_fen") == 0)
			snprintf(yuan_name, sizeof(yuan_name), "%.*s_yuan", (int)(n - 4), name);
		if (pd_map_get(req->named, name) || (yuan_name[0] && pd_map_get(req->named, yuan_name)))
			continue;
		char buf[96];
		snprintf(buf, sizeof(buf), "%s=", name);
		if (starts_with(buf, typed, false))
			candidate_add(buf);
		snprintf(buf, sizeof(buf), "%s=", yuan_name);
		if (yuan_name[0] && starts_with(buf, typed, false))
			candidate_add(buf);
	}
}

static const struct pd_value *nth_positional(const struct pd_value *cmd, size_t index)
{
	const struct pd_value *args = pd_map_get(cmd, "arguments");
	if (!args || args->type != PD_ARR)
		return NULL;
	for (struct pd_entry *e = args->u.c.head; e; e = e->next)
		if (pd_map_bool(e->val, "positional") && index-- == 0)
			return e->val;
	return NULL;
}

static const char *word_at(const struct pd_request *req, size_t i)
{
	return i < req->word_count && req->words[i]->type == PD_STR ? req->words[i]->u.s.ptr : "";
}

/* Finds what can follow the words before the cursor. The line up to the
 * word being completed is parsed with the protocol's own tokenizer; inside
 * an open quote it does not parse, and nothing is offered. */
static void collect_candidates(const char *typed, size_t start)
{
	struct pd_arena a;
	struct pd_request req;
	struct pd_error perr;
	pd_arena_init(&a);
	if (pd_parse_text_line(&a, rl_line_buffer, start, &req, &perr) < 0)
		goto out;
	if (req.word_count == 0) {
		add_command_words(typed);
		goto out;
	}
	const char *word = word_at(&req, 0);
	bool has_subs = catalog_has_subcommands(completion_catalog, word);
	if (has_subs && req.word_count == 1) {
		add_subcommands(word, typed);
		goto out;
	}
	const struct pd_value *cmd = catalog_command(completion_catalog, word, word_at(&req, 1));
	if (!cmd)
		goto out;
	const char *eq = strchr(typed, '=');
	if (eq) {
		char name[80];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - typed), typed);
		const struct pd_value *arg = catalog_argument(cmd, name);
		if (arg) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - typed + 1), typed);
			add_argument_values(arg, name, eq + 1);
		}
		goto out;
	}
	const struct pd_value *pos = nth_positional(cmd, req.word_count - (has_subs ? 2 : 1));
	const char *pos_name = pos ? pd_map_str(pos, "name") : NULL;
	/* HELP's positionals name a command and its sub-command */
	if (pos_name && strcmp(pos_name, "command") == 0)
		add_command_words(typed);
	else if (pos_name && strcmp(pos_name, "sub") == 0)
		add_subcommands(word_at(&req, req.word_count - 1), typed);
	else if (pos)
		add_argument_values(pos, "", typed);
	add_argument_names(cmd, &req, typed);
out:
	pd_arena_free(&a);
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1; /* never fall back to file names */
	candidates_clear();
	if (completion_catalog)
		collect_candidates(text, (size_t)start);
	if (candidates.count == 0)
		return NULL;
	/* "name=" waits for its value: no space after it */
	const char *only = candidates.items[0];
	size_t n = strlen(only);
	rl_completion_append_character =
		candidates.count == 1 && n && only[n - 1] == '=' ? '\0' : ' ';
	return rl_completion_matches(text, candidate_next);
}

static char *history_file_path(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return NULL;
	size_t n = strlen(home) + sizeof(HISTORY_FILE_NAME) + 2;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s/%s", home, HISTORY_FILE_NAME);
	return path;
}

static void editor_setup(const struct command_catalog *cat, const char *history)
{
	completion_catalog = cat;
	rl_readline_name = "parceldesk";
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = word_breaks;
	rl_completer_word_break_characters = word_breaks;
	using_history();
	stifle_history(HISTORY_MAX_LINES);
	if (history) {
		/* the history holds what operators typed: readable by them only */
		int fd = open(history, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		read_history(history);
	}
}

/* A line holding a password (AUTH, USER ADD ...) stays out of the history.
 * Which commands take one is the daemon's table's to say, so the line's first
 * two words are looked up there; it works on lines that do not parse too.
 * Without the table, nothing is written to disk. */
static bool holds_password(const struct command_catalog *cat, const char *line)
{
	char word[2][64] = { "", "" };
	if (sscanf(line, "%63s %63s", word[0], word[1]) < 1)
		return false;
	const struct pd_value *cmd = catalog_command(cat, word[0], word[1]);
	return cmd && catalog_argument(cmd, "password");
}

static void remember_line(const struct command_catalog *cat, const char *history,
			  const char *line)
{
	if (holds_password(cat, line))
		return;
	add_history(line);
	if (history && cat->commands->u.c.count > 0)
		write_history(history);
}

/* Sends one request, reopening the session first if the daemon closed it.
 * Returns 0 with the reply, or -1 after saying what went wrong. */
static int send_request(struct server_conn *c, const struct client_options *opt,
			const struct pd_request *req, struct pd_arena *a, struct pd_reply *r)
{
	struct client_error err;
	if (!conn_is_alive(c)) {
		fprintf(stderr, "parceldesk: connection closed; connecting to %s again\n", c->peer);
		if (session_open(c, opt, &err) != SESSION_READY) {
			fprintf(stderr, "parceldesk: %s\n", err.msg);
			conn_close(c);
			return -1;
		}
	}
	struct pd_buf request;
	pd_buf_init(&request);
	request_encode(req, &request);
	int rc = conn_call(c, &request, a, r, &err);
	pd_buf_free(&request);
	if (rc < 0) {
		fprintf(stderr, "parceldesk: %s (the command may or may not have been "
			"carried out)\n", err.msg);
		conn_close(c);
	}
	return rc;
}

/* Handles one typed line; true when the session should end. */
static bool run_line(struct server_conn *c, const struct client_options *opt,
		     struct output *o, const struct command_catalog *cat,
		     const char *history, const char *line)
{
	struct pd_arena a;
	struct pd_request req;
	struct pd_reply r;
	struct client_error err;
	bool quit = false;
	pd_arena_init(&a);
	if (line[strspn(line, " \t")] == '\0')
		goto out;
	/* a line with a mistake is remembered too, to be fixed with the up arrow */
	remember_line(cat, history, line);
	struct typed_yuan yuan;
	if (request_from_line(&a, line, strlen(line), &req, &yuan, &err) < 0) {
		fprintf(stderr, "parceldesk: %s\n", err.msg);
		goto out;
	}
	if (send_request(c, opt, &req, &a, &r) == 0) {
		o->yuan = &yuan;
		output_reply(o, &r);
		o->yuan = NULL;
		quit = request_names(&req, "QUIT");
	}
out:
	pd_arena_free(&a);
	return quit;
}

int interactive_run(struct server_conn *c, const struct client_options *opt,
		    struct output *o)
{
	struct command_catalog cat;
	struct client_error err;
	catalog_init(&cat);
	if (catalog_fetch(&cat, c, &err) < 0)
		fprintf(stderr, "parceldesk: no completion (%s)\n", err.msg);
	char *history = history_file_path();
	editor_setup(&cat, history);
	fprintf(stderr, "parceldesk: connected to %s%s%s. HELP lists commands, "
		"Tab completes, Ctrl-D leaves.\n", c->peer, opt->user ? " as " : "",
		opt->user ? opt->user : "");
	for (;;) {
		char *line = readline(PROMPT);
		if (!line) {
			putchar('\n'); /* end the prompt's line */
			break;
		}
		bool quit = run_line(c, opt, o, &cat, history, line);
		free(line);
		if (quit)
			break;
	}
	candidates_clear();
	free(candidates.items);
	completion_catalog = NULL;
	free(history);
	catalog_free(&cat);
	return EXIT_REPLY_OK;
}
