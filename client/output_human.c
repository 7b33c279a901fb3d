/* output_human.c — replies for people: the status line, then a view of
 * output_views.c when the data has its shape, else the generic record or
 * table of human.c. */
#include <string.h>

#include "human.h"
#include "output.h"
#include "output_views.h"

void output_human(FILE *f, const struct pd_reply *r, int columns, bool color)
{
	struct pd_arena a;
	pd_arena_init(&a);
	struct human h = { .f = f, .a = &a, .columns = columns, .color = color };
	const char *msg = r->msg ? r->msg : "";
	fprintf(f, "%03d %s\n", r->code, human_escaped(&a, msg, strlen(msg)));
	const struct pd_value *d = r->data;
	if (d) {
		if (!view_compensation(&h, d) && !view_report(&h, d) && !view_kpi(&h, d))
			human_data(&h, d);
		fputc('\n', f);
	}
	pd_arena_free(&a);
}
