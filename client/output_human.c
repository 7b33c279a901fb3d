/* output_human.c — replies for people: the status line, then a view of
 * output_views.c when the data has its shape, else the generic record or
 * table of human.c. */
#include <string.h>

#include "human.h"
#include "output.h"
#include "output_views.h"

static bool typed_in_yuan(const struct typed_yuan *yuan, const char *key, size_t len)
{
	for (size_t i = 0; yuan && i < yuan->count; i++)
		if (len == strlen(yuan->names[i]) + 4 && memcmp(key, yuan->names[i], len - 4) == 0 &&
		    memcmp(key + len - 4, "_fen", 4) == 0)
			return true;
	return false;
}

/* The reply in the unit the user typed: each x_fen the request gave as
 * x_yuan is x_yuan again, its amount in yuan. */
static const struct pd_value *in_typed_units(struct pd_arena *a, const struct pd_value *v,
					     const struct typed_yuan *yuan)
{
	if (v->type != PD_MAP && v->type != PD_ARR)
		return v;
	struct pd_value *out = v->type == PD_MAP ? pd_map(a) : pd_arr(a);
	for (struct pd_entry *e = v->u.c.head; e; e = e->next) {
		const struct pd_value *val = in_typed_units(a, e->val, yuan);
		if (v->type == PD_ARR) {
			pd_arr_push(a, out, (struct pd_value *)val);
		} else if (e->val->type == PD_INT && typed_in_yuan(yuan, e->key, e->key_len)) {
			pd_map_set(a, out, pd_sprintf(a, "%.*s_yuan", (int)e->key_len - 4, e->key),
				   pd_str(a, human_yuan(a, e->val->u.i)));
		} else {
			pd_map_append(a, out, e->key, e->key_len, (struct pd_value *)val);
		}
	}
	return out;
}

/* A message naming an argument x_fen names x_yuan, as typed. */
static const char *msg_in_typed_units(struct pd_arena *a, const char *msg, const struct typed_yuan *yuan)
{
	for (size_t i = 0; yuan && i < yuan->count; i++) {
		const char *fen = pd_sprintf(a, "%s_fen", yuan->names[i]), *at;
		while ((at = strstr(msg, fen)))
			msg = pd_sprintf(a, "%.*s%s_yuan%s", (int)(at - msg), msg, yuan->names[i], at + strlen(fen));
	}
	return msg;
}

void output_human(FILE *f, const struct pd_reply *r, int columns, bool color,
		  const struct typed_yuan *yuan)
{
	struct pd_arena a;
	pd_arena_init(&a);
	struct human h = { .f = f, .a = &a, .columns = columns, .color = color };
	const char *msg = msg_in_typed_units(&a, r->msg ? r->msg : "", yuan);
	fprintf(f, "%03d %s\n", r->code, human_escaped(&a, msg, strlen(msg)));
	const struct pd_value *d = r->data ? in_typed_units(&a, r->data, yuan) : NULL;
	if (d) {
		if (!view_compensation(&h, d) && !view_report(&h, d) && !view_kpi(&h, d))
			human_data(&h, d);
		fputc('\n', f);
	}
	pd_arena_free(&a);
}
