/* output.h — printing replies in the three forms the user can choose:
 *   human: "CODE message", then a record as aligned "key  value" lines (its
 *          nested lists as sub-tables), or a list as a table cut to the
 *          terminal's width;
 *   json:  {"code":..,"msg":..,"data":..} on one line a reply;
 *   raw:   exactly the bytes the daemon sends a telnet user
 *          (pd_reply_render_text), for tools written against the text
 *          protocol. */
#ifndef PD_CLIENT_OUTPUT_H
#define PD_CLIENT_OUTPUT_H

#include <stdio.h>

#include "../protocol/reply.h"
#include "client.h"

/* Used when standard output is not a terminal or does not say its size. */
#define DEFAULT_TERMINAL_COLUMNS 100

struct output {
	enum output_format format;
	FILE *stream;
	int columns; /* width human tables are cut to */
};

/* Sets up printing to stdout; reads the terminal width for human output. */
void output_init(struct output *o, enum output_format format);

/* Prints one reply and flushes, so pipelined replies appear as they come. */
void output_reply(const struct output *o, const struct pd_reply *r);

void output_raw(FILE *f, const struct pd_reply *r);
void output_json(FILE *f, const struct pd_reply *r);
void output_human(FILE *f, const struct pd_reply *r, int columns);

#endif
