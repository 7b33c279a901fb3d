/* output.c — choosing the form, terminal width and colour, and the raw form. */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "help.h"

/* Colour only on a terminal that can show it, and never when the user set
 * NO_COLOR (https://no-color.org: any non-empty value). */
static bool want_color(enum output_format format)
{
	if (format != OUTPUT_HUMAN || !isatty(STDOUT_FILENO))
		return false;
	const char *no_color = getenv("NO_COLOR");
	if (no_color && *no_color)
		return false;
	const char *term = getenv("TERM");
	return !term || strcmp(term, "dumb") != 0;
}

void output_init(struct output *o, enum output_format format)
{
	o->format = format;
	o->stream = stdout;
	o->columns = DEFAULT_TERMINAL_COLUMNS;
	o->color = want_color(format);
	o->csv_tables = 0;
	o->yuan = NULL;
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o->columns = ws.ws_col;
	else if (env && atoi(env) >= 20 && atoi(env) <= 1000)
		o->columns = atoi(env); /* not a terminal: the width the user asks for */
}

void output_reply(struct output *o, const struct pd_reply *r)
{
	switch (o->format) {
	case OUTPUT_RAW: output_raw(o->stream, r); break;
	case OUTPUT_JSON: output_json(o->stream, r); break;
	case OUTPUT_HUMAN: output_human(o->stream, r, o->columns, o->color, o->yuan); break;
	case OUTPUT_CSV:
		if (output_csv(o->stream, stderr, r, o->csv_tables > 0))
			o->csv_tables++;
		break;
	}
	fflush(o->stream);
}

void output_raw(FILE *f, const struct pd_reply *r)
{
	struct pd_buf text;
	struct pd_arena a;
	pd_buf_init(&text);
	pd_arena_init(&a);
	/* as telnet shows it: HELP's lines, made from its data as the daemon
	 * makes them */
	struct pd_reply shown = *r;
	if (!shown.text)
		shown.text = pd_help_text(&a, r->data);
	pd_reply_render_text(&shown, &text);
	fwrite(text.data, 1, text.len, f);
	pd_buf_free(&text);
	pd_arena_free(&a);
}
