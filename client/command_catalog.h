/* command_catalog.h — the daemon's command table as its HELP command tells
 * it, for completion in interactive mode. The client keeps no list of
 * commands of its own: a newer daemon's commands complete without a newer
 * client.
 *
 * The catalog is the HELP records themselves (pd_value maps: command, args,
 * role, kind, help), each given two more fields, "word" and "sub" (the
 * command's two words; sub absent for one-word commands), and, from
 * `HELP WORD`, its "arguments": a list of {name, type, required, positional,
 * values?}. */
#ifndef PD_CLIENT_COMMAND_CATALOG_H
#define PD_CLIENT_COMMAND_CATALOG_H

#include <stdbool.h>

#include "client.h"
#include "connection.h"

struct command_catalog {
	struct pd_arena arena;
	struct pd_value *commands; /* PD_ARR of records; empty until fetched */
};

void catalog_init(struct command_catalog *cat);
void catalog_free(struct command_catalog *cat);

/* Asks the daemon (HELP, then HELP WORD for every command word, pipelined).
 * 0, or -1 with err; the catalog stays usable (maybe empty) either way. */
int catalog_fetch(struct command_catalog *cat, struct server_conn *c,
		  struct client_error *err);

/* True when some command's first word is `word` and it has a second word. */
bool catalog_has_subcommands(const struct command_catalog *cat, const char *word);

/* The record of WORD [SUB] (case-insensitive); sub is ignored for a word
 * without sub-commands. NULL when unknown. */
const struct pd_value *catalog_command(const struct command_catalog *cat,
				       const char *word, const char *sub);

/* One argument description of a command record, by name; NULL if none. */
const struct pd_value *catalog_argument(const struct pd_value *command,
					const char *name);

#endif
