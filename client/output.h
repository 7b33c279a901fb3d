/* output.h — printing replies in the forms the user can choose:
 *   human: "CODE message", then a record as aligned "key  value" lines (its
 *          nested lists as sub-tables), or a list as a table cut to the
 *          terminal's width; overdue rows marked; the compensation
 *          engine's explanation, the monthly report and the KPIs in views
 *          of their own (human.h);
 *   json:  {"code":..,"msg":..,"data":..} on one line a reply;
 *   raw:   exactly the bytes the daemon sends a telnet user
 *          (pd_reply_render_text), for tools written against the text
 *          protocol;
 *   csv:   the data alone as RFC 4180 CSV: a list as a header and rows, a
 *          record as key,value rows, nested values under dotted keys. */
#ifndef PD_CLIENT_OUTPUT_H
#define PD_CLIENT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "reply.h"
#include "client.h"
#include "request_build.h"

/* Used when standard output is not a terminal or does not say its size. */
#define DEFAULT_TERMINAL_COLUMNS 100

struct output {
	enum output_format format;
	FILE *stream;
	int columns; /* width human tables are cut to */
	bool color;  /* human output to a terminal, NO_COLOR unset: ANSI styles */
	unsigned long csv_tables; /* CSV tables written: an empty line between two */
	/* the request's amounts typed in yuan (NULL: none): human output
	 * reports them in yuan too */
	const struct typed_yuan *yuan;
};

/* Sets up printing to stdout; reads the terminal width for human output. */
void output_init(struct output *o, enum output_format format);

/* Prints one reply and flushes, so pipelined replies appear as they come. */
void output_reply(struct output *o, const struct pd_reply *r);

void output_raw(FILE *f, const struct pd_reply *r);
void output_json(FILE *f, const struct pd_reply *r);
void output_human(FILE *f, const struct pd_reply *r, int columns, bool color,
		  const struct typed_yuan *yuan);
/* Writes r's data as CSV to f (nothing for a reply without data) and
 * returns whether it wrote a table; an error reply goes to err as
 * "parceldesk: CODE message", keeping f pure CSV. */
bool output_csv(FILE *f, FILE *err, const struct pd_reply *r, bool separate);

#endif
