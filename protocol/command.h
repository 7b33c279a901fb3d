/* command.h — the command table (from commands.def) and argument checking.
 *
 * pd_command_lookup() finds the command a request names; pd_command_bind()
 * checks its arguments against the table's spec and returns them as one map
 * of typed values (name -> PD_STR, PD_INT or PD_BOOL). Handlers read only that
 * map, so every argument a handler sees has been checked for presence, type
 * and range of its type. */
#ifndef PD_COMMAND_H
#define PD_COMMAND_H

#include "request.h"

enum pd_role {
	ROLE_NONE = 0,
	ROLE_OPERATOR,
	ROLE_ADJUSTER,
	ROLE_SUPERVISOR,
	ROLE_MANAGER,
	ROLE_ADMIN,
};

const char *pd_role_name(enum pd_role r);
/* Returns ROLE_NONE for an unknown name. */
enum pd_role pd_role_parse(const char *s);

/* CMD_USERS: a success changes users (deleted, role changed): every
 * session is checked against the store again before its next request.
 * CMD_SECRET: carries a password: with tls_required, refused in clear.
 * CMD_BULK (with CMD_SLOW, not CMD_WRITE): a long read, run on the bulk
 * thread, not the hashing thread, so no login waits behind it. */
enum { CMD_WRITE = 1, CMD_SLOW = 2, CMD_USERS = 4, CMD_SECRET = 8, CMD_BULK = 16 };

enum pd_command_id {
#define CMD(id, word, sub, role, flags, args, help) PD_CMD_##id,
#include "commands.def"
#undef CMD
	PD_CMD_COUNT
};

enum pd_arg_type {
	ARG_STR, ARG_TEXT, ARG_INT, ARG_FEN, ARG_BOOL, ARG_TIME, ARG_DATE,
	ARG_MONTH, ARG_ID, ARG_WORD, ARG_PHONE, ARG_WAYBILL, ARG_ENUM,
};

#define PD_MAX_ARGS 48
#define PD_MAX_ENUM 16

struct pd_arg_spec {
	char name[40];
	enum pd_arg_type type;
	int positional;
	int required;
	int enum_count;
	char enum_values[PD_MAX_ENUM][32];
};

struct pd_command {
	enum pd_command_id id;
	const char *word, *sub;
	enum pd_role role;
	int flags;
	const char *args; /* the spec as written in commands.def */
	const char *help;
	int arg_count;
	struct pd_arg_spec arg[PD_MAX_ARGS];
};

/* Limits on argument values (bytes). */
#define PD_MAX_STR_BYTES 512
#define PD_MAX_TEXT_BYTES 4096

/* Parses every spec once; returns 0, or -1 naming the bad entry on stderr
 * (a bug in commands.def, caught by the unit tests). */
int pd_commands_init(void);
const struct pd_command *pd_command_table(size_t *count);
const struct pd_command *pd_command_by_id(enum pd_command_id id);

/* Finds the command the request's first one or two words name
 * (case-insensitive). Returns NULL with err set (400 unknown command). On
 * success *words_used is 1 or 2. */
const struct pd_command *pd_command_lookup(const struct pd_request *req,
					   size_t *words_used,
					   struct pd_error *err);

/* Every required argument a request lacks, told in one 400: "missing
 * argument 'a'" or "missing arguments 'a', 'b'". pd_command_bind uses it,
 * and handlers whose requirements depend on other arguments. */
struct pd_missing {
	char names[140]; /* fits a struct pd_error message */
	int count;
};
void pd_missing_add(struct pd_missing *m, const char *name);
/* 0 when nothing is missing, else -1 with err set. */
int pd_missing_error(const struct pd_missing *m, struct pd_error *err);

/* Checks the arguments and builds the typed map. Writes accept req=TOKEN
 * besides their spec. Returns 0 or -1 with err (400 naming the argument). */
int pd_command_bind(struct pd_arena *a, const struct pd_command *cmd,
		    const struct pd_request *req, size_t words_used,
		    struct pd_value **args, struct pd_error *err);

/* Typed access to a bound argument map. */
const char *pd_arg_str(const struct pd_value *args, const char *name);
int pd_arg_int(const struct pd_value *args, const char *name, int64_t *out);
/* Returns dflt when absent. */
int pd_arg_bool(const struct pd_value *args, const char *name, int dflt);

const char *pd_arg_type_name(enum pd_arg_type t);

#endif
