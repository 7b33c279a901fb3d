/* help.h — what a terminal shows for HELP: its text body, made from HELP's
 * data (the structure msgpack carries). The daemon sends it for HELP over
 * text; the client's raw form (as telnet shows it) makes the same. */
#ifndef PD_HELP_H
#define PD_HELP_H

#include "value.h"

/* HELP's body as lines ending in "\n" (allocated in a), or NULL when data
 * is not HELP's (a list of maps each with "command", "args", "role" and
 * "help"). The list is one line a command: name, role, its arguments in
 * short (<positional>, name=, [optional=]) and what it does. A command
 * described in full (with "arguments": HELP WORD [SUB]) is its line and a
 * table of its arguments: name, type, required, given (by position or as
 * name=value) and the values an enum takes. */
const char *pd_help_text(struct pd_arena *a, const struct pd_value *data);

#endif
