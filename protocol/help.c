/* help.c — HELP's text body; see help.h. */
#include "help.h"

#include <stdbool.h>
#include <string.h>

#include "reply.h"

static bool is_help_record(const struct pd_value *e)
{
	return e->type == PD_MAP && pd_map_str(e, "command") && pd_map_str(e, "args") &&
	       pd_map_str(e, "role") && pd_map_str(e, "help");
}

/* The arguments of a commands.def spec in short: "<id:id> text=text!
 * contacted=bool" -> "<id> text= [contacted=]". */
static void args_short(struct pd_buf *out, const char *spec)
{
	const char *p = spec;
	bool first = true;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n) {
			const char *colon = memchr(p, ':', n), *eq = memchr(p, '=', n);
			if (!first)
				pd_buf_adds(out, " ");
			first = false;
			if ((*p == '<' || *p == '[') && colon)
				pd_buf_printf(out, "%.*s%c", (int)(colon - p), p, *p == '<' ? '>' : ']');
			else if (eq && p[n - 1] == '!')
				pd_buf_printf(out, "%.*s", (int)(eq - p + 1), p);
			else if (eq)
				pd_buf_printf(out, "[%.*s]", (int)(eq - p + 1), p);
			else
				pd_buf_printf(out, "%.*s", (int)n, p);
		}
		p += n;
		p += strspn(p, " ");
	}
}

static size_t max_len(size_t a, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > a ? n : a;
}

/* One line a command of the list, the names and roles in columns. */
static void list_lines(struct pd_buf *out, const struct pd_value *data)
{
	size_t name_w = 0, role_w = 0;
	for (const struct pd_entry *e = data->u.c.head; e; e = e->next) {
		name_w = max_len(name_w, pd_map_str(e->val, "command"));
		role_w = max_len(role_w, pd_map_str(e->val, "role"));
	}
	for (const struct pd_entry *e = data->u.c.head; e; e = e->next) {
		const struct pd_value *c = e->val;
		pd_buf_printf(out, "%-*s  %-*s  ", (int)name_w, pd_map_str(c, "command"), (int)role_w,
			      pd_map_str(c, "role"));
		size_t before = out->len;
		args_short(out, pd_map_str(c, "args"));
		pd_buf_printf(out, "%s- %s\n", out->len > before ? "  " : "", pd_map_str(c, "help"));
	}
}

static const char *arg_values(struct pd_arena *a, const struct pd_value *arg)
{
	const struct pd_value *vals = pd_map_get(arg, "values");
	if (!vals || vals->type != PD_ARR)
		return "";
	struct pd_buf b;
	pd_buf_init(&b);
	for (const struct pd_entry *e = vals->u.c.head; e; e = e->next)
		if (e->val->type == PD_STR)
			pd_buf_printf(&b, "%s%.*s", e == vals->u.c.head ? "" : "|",
				      (int)e->val->u.s.len, e->val->u.s.ptr);
	const char *s = pd_strdup(a, b.data ? b.data : "");
	pd_buf_free(&b);
	return s;
}

/* A command in full: its line, then its arguments as a table. */
static void command_table(struct pd_arena *a, struct pd_buf *out, const struct pd_value *c,
			  const struct pd_value *args)
{
	pd_buf_printf(out, "%s  (%s, role %s): %s\n", pd_map_str(c, "command"),
		      pd_map_str(c, "kind") ? pd_map_str(c, "kind") : "read", pd_map_str(c, "role"),
		      pd_map_str(c, "help"));
	static const char *const head[] = { "argument", "type", "required", "given", "values" };
	size_t w[4] = { strlen(head[0]), strlen(head[1]), strlen(head[2]), strlen("name=value") };
	for (const struct pd_entry *e = args->u.c.head; e; e = e->next) {
		w[0] = max_len(w[0], pd_map_str(e->val, "name"));
		w[1] = max_len(w[1], pd_map_str(e->val, "type"));
	}
	pd_buf_printf(out, "  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], head[0], (int)w[1], head[1],
		      (int)w[2], head[2], (int)w[3], head[3], head[4]);
	for (const struct pd_entry *e = args->u.c.head; e; e = e->next) {
		const struct pd_value *arg = e->val;
		const char *values = arg_values(a, arg);
		pd_buf_printf(out, "  %-*s  %-*s  %-*s  %-*s  %s", (int)w[0], pd_map_str(arg, "name"),
			      (int)w[1], pd_map_str(arg, "type"), (int)w[2],
			      pd_map_bool(arg, "required") ? "yes" : "no", (int)w[3],
			      pd_map_bool(arg, "positional") ? "position" : "name=value", values);
		/* no trailing blanks when there are no values */
		while (out->len && out->data[out->len - 1] == ' ')
			out->len--;
		pd_buf_adds(out, "\n");
	}
}

const char *pd_help_text(struct pd_arena *a, const struct pd_value *data)
{
	if (!data || data->type != PD_ARR || !data->u.c.count)
		return NULL;
	bool full = false;
	for (const struct pd_entry *e = data->u.c.head; e; e = e->next) {
		if (!is_help_record(e->val))
			return NULL;
		const struct pd_value *args = pd_map_get(e->val, "arguments");
		full |= args && args->type == PD_ARR;
	}
	struct pd_buf out;
	pd_buf_init(&out);
	if (!full) {
		list_lines(&out, data);
	} else {
		for (const struct pd_entry *e = data->u.c.head; e; e = e->next) {
			const struct pd_value *args = pd_map_get(e->val, "arguments");
			if (e != data->u.c.head)
				pd_buf_adds(&out, "\n");
			if (args && args->type == PD_ARR)
				command_table(a, &out, e->val, args);
		}
	}
	const char *text = pd_strdup(a, out.data ? out.data : "");
	pd_buf_free(&out);
	return text;
}
