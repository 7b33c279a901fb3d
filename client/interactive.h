/* interactive.h — the prompt: libedit line editing, history in
 * ~/.parceldesk_history, and Tab completion of command words, sub-commands,
 * argument names (`name=`) and enum values, all from the daemon's HELP.
 * Lines use the text protocol's syntax; replies print as the output form
 * says. A connection the daemon closed (idle timeout) is opened again before
 * the next command. */
#ifndef PD_CLIENT_INTERACTIVE_H
#define PD_CLIENT_INTERACTIVE_H

#include "client.h"
#include "connection.h"
#include "output.h"

#define PROMPT "parceldesk> "
#define HISTORY_FILE_NAME ".parceldesk_history"
#define HISTORY_MAX_LINES 1000

/* Runs until end of input or QUIT. Returns the exit status (0 unless the
 * session could not be kept). */
int interactive_run(struct server_conn *c, const struct client_options *opt,
		    struct output *o);

#endif
