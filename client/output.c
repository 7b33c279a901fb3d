/* output.c — choosing the form, terminal width, and the raw form. */
#include "output.h"

#include <sys/ioctl.h>
#include <unistd.h>

void output_init(struct output *o, enum output_format format)
{
	o->format = format;
	o->stream = stdout;
	o->columns = DEFAULT_TERMINAL_COLUMNS;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		o->columns = ws.ws_col;
}

void output_reply(const struct output *o, const struct pd_reply *r)
{
	switch (o->format) {
	case OUTPUT_RAW: output_raw(o->stream, r); break;
	case OUTPUT_JSON: output_json(o->stream, r); break;
	case OUTPUT_HUMAN: output_human(o->stream, r, o->columns); break;
	}
	fflush(o->stream);
}

void output_raw(FILE *f, const struct pd_reply *r)
{
	struct pd_buf text;
	pd_buf_init(&text);
	pd_reply_render_text(r, &text);
	fwrite(text.data, 1, text.len, f);
	pd_buf_free(&text);
}
