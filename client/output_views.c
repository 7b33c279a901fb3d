/* output_views.c — human views of three kinds of data, recognised by their
 * shape (see human.h): the compensation engine's explanation, the monthly
 * report and the KPI list. Money is shown in yuan from integer fen, never
 * through a float; figures the daemon sends as text (percentages) are
 * shown as sent. */
#include <stdbool.h>
#include <string.h>

#include "output_views.h"
#include "text_width.h"

#define INDENT 2

/* ---- looking into the data ---- */

static const struct pd_value *get_typed(const struct pd_value *m, const char *key,
					enum pd_type type)
{
	if (!m || m->type != PD_MAP)
		return NULL;
	const struct pd_value *v = pd_map_get(m, key);
	return v && v->type == type ? v : NULL;
}

static const struct pd_value *get_map(const struct pd_value *m, const char *key)
{
	return get_typed(m, key, PD_MAP);
}

static const struct pd_value *get_arr(const struct pd_value *m, const char *key)
{
	return get_typed(m, key, PD_ARR);
}

/* A scalar field as the text protocol shows it, escaped; "" when absent. */
static const char *text_of(const struct human *h, const struct pd_value *m, const char *key)
{
	const struct pd_value *v = m && m->type == PD_MAP ? pd_map_get(m, key) : NULL;
	return v ? human_value_text(h->a, v) : "";
}

static bool int_of(const struct pd_value *m, const char *key, int64_t *out)
{
	const struct pd_value *v = get_typed(m, key, PD_INT);
	if (v)
		*out = v->u.i;
	return v != NULL;
}

/* Yuan of an integer fen field; "" when absent. */
static const char *yuan_of(const struct human *h, const struct pd_value *m, const char *key)
{
	int64_t fen;
	return int_of(m, key, &fen) ? human_yuan(h->a, fen) : text_of(h, m, key);
}

static bool is_true(const struct pd_value *m, const char *key)
{
	const struct pd_value *v = get_typed(m, key, PD_BOOL);
	return v && v->u.b;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool key_is(const struct pd_entry *e, const char *key)
{
	return e->key_len == strlen(key) && memcmp(e->key, key, e->key_len) == 0;
}

static bool key_in(const struct pd_entry *e, const char *const *keys)
{
	for (; *keys; keys++)
		if (key_is(e, *keys))
			return true;
	return false;
}

/* ---- "label  value" blocks ---- */

struct kv {
	const char *label, *value;
	const char *style; /* NULL, or STYLE_ALERT */
	bool right;        /* value right-aligned in the block's value column */
};

struct kv_block {
	struct kv *items;
	size_t count, cap;
};

static void kv_add(const struct human *h, struct kv_block *b, const char *label,
		   const char *value, bool right)
{
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct kv *items = pd_alloc(h->a, cap * sizeof(*items));
		if (b->count)
			memcpy(items, b->items, b->count * sizeof(*items));
		b->items = items;
		b->cap = cap;
	}
	b->items[b->count++] = (struct kv){ label, value, NULL, right };
}

/* Labels padded to the longest; right-aligned values padded to the widest
 * of them, so amounts line up on their decimal point. */
static void kv_print(const struct human *h, const struct kv_block *b, int indent)
{
	int label_width = 0, value_width = 0;
	for (size_t i = 0; i < b->count; i++) {
		int w = human_text_width(b->items[i].label);
		if (w > label_width)
			label_width = w;
		if (b->items[i].right && (w = human_text_width(b->items[i].value)) > value_width)
			value_width = w;
	}
	struct pd_buf line;
	pd_buf_init(&line);
	for (size_t i = 0; i < b->count; i++) {
		const struct kv *it = &b->items[i];
		pd_buf_printf(&line, "%*s", indent, "");
		human_pad_cell(&line, it->label, label_width, false);
		pd_buf_adds(&line, COLUMN_GAP);
		human_pad_cell(&line, it->value, it->right ? value_width : 0, it->right);
		human_print_line(h, &line, it->style);
	}
	pd_buf_free(&line);
}

/* ---- the compensation engine's explanation ---- */

static bool is_result(const struct pd_value *v)
{
	return v && v->type == PD_MAP && get_arr(v, "steps");
}

static bool is_assessment(const struct pd_value *v)
{
	return is_result(get_map(v, "result"));
}

/* The figure of a step: an amount in yuan, or "numerator / denominator". */
static const char *step_figure(const struct human *h, const struct pd_value *s)
{
	int64_t n, d;
	if (int_of(s, "amount_fen", &n))
		return human_yuan(h->a, n);
	if (int_of(s, "numerator", &n) && int_of(s, "denominator", &d))
		return pd_sprintf(h->a, "%lld / %lld", (long long)n, (long long)d);
	return "";
}

/* One line a step: number, label, figure right-aligned, note. Labels of
 * steps with a figure set the label column; a finding (no figure) whose
 * label runs past the figure column puts its note on the next line. */
static void print_steps(const struct human *h, const struct pd_value *steps, int indent)
{
	size_t count = steps->u.c.count;
	if (count == 0) {
		fprintf(h->f, "%*s(no steps)\n", indent, "");
		return;
	}
	const char **labels = pd_alloc(h->a, count * sizeof(*labels));
	const char **figures = pd_alloc(h->a, count * sizeof(*figures));
	const char **notes = pd_alloc(h->a, count * sizeof(*notes));
	int num_width = (int)strlen(pd_sprintf(h->a, "%zu", count));
	int label_width = human_text_width("step"), figure_width = human_text_width("yuan");
	size_t i = 0;
	for (struct pd_entry *e = steps->u.c.head; e; e = e->next, i++) {
		const struct pd_value *s = e->val;
		labels[i] = s->type == PD_MAP ? text_of(h, s, "label") : human_value_text(h->a, s);
		figures[i] = s->type == PD_MAP ? step_figure(h, s) : "";
		notes[i] = s->type == PD_MAP ? text_of(h, s, "note") : "";
		int w;
		if (figures[i][0] && (w = human_text_width(labels[i])) > label_width)
			label_width = w;
		if ((w = human_text_width(figures[i])) > figure_width)
			figure_width = w;
	}
	int note_column = num_width + 2 + label_width + 2 + figure_width + 2;
	struct pd_buf line;
	pd_buf_init(&line);
	const char *head[2][4] = { { "#", "step", "yuan", "note" }, { NULL, NULL, NULL, "----" } };
	char *dashes[3];
	int widths[3] = { num_width, label_width, figure_width };
	for (int c = 0; c < 3; c++) {
		dashes[c] = pd_alloc(h->a, (size_t)widths[c] + 1);
		memset(dashes[c], '-', (size_t)widths[c]);
		head[1][c] = dashes[c];
	}
	for (int r = 0; r < 2; r++) {
		pd_buf_printf(&line, "%*s", indent, "");
		human_pad_cell(&line, head[r][0], num_width, true);
		pd_buf_adds(&line, COLUMN_GAP);
		human_pad_cell(&line, head[r][1], label_width, false);
		pd_buf_adds(&line, COLUMN_GAP);
		human_pad_cell(&line, head[r][2], figure_width, true);
		pd_buf_adds(&line, COLUMN_GAP);
		pd_buf_adds(&line, head[r][3]);
		human_print_line(h, &line, NULL);
	}
	for (i = 0; i < count; i++) {
		pd_buf_printf(&line, "%*s%*zu" COLUMN_GAP, indent, "", num_width, i + 1);
		if (figures[i][0]) {
			human_pad_cell(&line, labels[i], label_width, false);
			pd_buf_adds(&line, COLUMN_GAP);
			human_pad_cell(&line, figures[i], figure_width, true);
		} else if (human_text_width(labels[i]) <= label_width + 2 + figure_width) {
			human_pad_cell(&line, labels[i], label_width + 2 + figure_width, false);
		} else {
			pd_buf_adds(&line, labels[i]);
			if (notes[i][0]) {
				human_print_line(h, &line, NULL);
				pd_buf_printf(&line, "%*s", indent + note_column - 2, "");
			}
		}
		if (notes[i][0]) {
			pd_buf_adds(&line, COLUMN_GAP);
			pd_buf_adds(&line, notes[i]);
		}
		human_print_line(h, &line, NULL);
	}
	pd_buf_free(&line);
}

/* "code: text" lines, the first under `label`. */
static void add_reasons(const struct human *h, struct kv_block *b, const char *label,
			const struct pd_value *reasons)
{
	if (!reasons || reasons->u.c.count == 0) {
		kv_add(h, b, label, "none", false);
		return;
	}
	for (struct pd_entry *e = reasons->u.c.head; e; e = e->next, label = "") {
		const struct pd_value *r = e->val;
		const char *text = r->type == PD_MAP
			? pd_sprintf(h->a, "%s: %s", text_of(h, r, "code"), text_of(h, r, "text"))
			: human_value_text(h->a, r);
		kv_add(h, b, label, text, false);
	}
}

/* Fields a section did not know, as generic lines (a newer daemon). */
static void print_others(const struct human *h, const struct pd_value *map,
			 const char *const *known)
{
	struct pd_value *rest = human_map_without(h->a, map, known);
	if (rest->u.c.count)
		human_record(h, rest);
}

static void print_insurer(const struct human *h, const struct pd_value *ins)
{
	human_heading(h, "Insurer");
	struct kv_block b = { 0 };
	const char *clause = text_of(h, ins, "clause");
	if (strlen(clause) == 1 && clause[0] >= 'a' && clause[0] <= 'z')
		clause = pd_sprintf(h->a, "%c", clause[0] - 'a' + 'A');
	const char *why = text_of(h, ins, "clause_note");
	kv_add(h, &b, "clause", *why ? pd_sprintf(h->a, "%s (%s)", clause, why) : clause, false);
	kv_add(h, &b, "covered", text_of(h, ins, "covered"), false);
	kv_add(h, &b, "pays", yuan_of(h, ins, "pays_fen"), false);
	kv_add(h, &b, "subrogation", text_of(h, ins, "subrogation"), false);
	add_reasons(h, &b, "reasons", get_arr(ins, "reasons"));
	kv_print(h, &b, 0);
	const struct pd_value *steps = get_arr(ins, "steps");
	if (steps && steps->u.c.count) {
		fputc('\n', h->f);
		print_steps(h, steps, 0);
	}
	static const char *const known[] = { "clause", "clause_note", "covered", "pays_fen",
					     "subrogation", "reasons", "steps", NULL };
	print_others(h, ins, known);
}

static void print_network(const struct human *h, const struct pd_value *net)
{
	human_heading(h, "Network");
	struct kv_block b = { 0 };
	const char *paying = text_of(h, net, "paying_depot");
	kv_add(h, &b, "paying depot",
	       pd_sprintf(h->a, "%s pays the customer %s", *paying ? paying : "(none)",
			  yuan_of(h, net, "paid_to_customer_fen")), false);
	const char *reimbursing = text_of(h, net, "reimbursing_depot");
	kv_add(h, &b, "reimbursing depot",
	       *reimbursing ? pd_sprintf(h->a, "%s reimburses %s %s", reimbursing, paying,
					 yuan_of(h, net, "reimbursement_fen"))
			    : "none: the paying depot is responsible", false);
	const char *bearing = text_of(h, net, "bearing_depot");
	kv_add(h, &b, "bearing depot",
	       pd_sprintf(h->a, "%s bears %s net of the insurer and sub-carrier", *bearing ? bearing : "(none)",
			  yuan_of(h, net, "bearing_depot_net_fen")), false);
	const char *sub = text_of(h, net, "sub_carrier");
	const char *recovery;
	if (!*sub)
		recovery = "none";
	else if (is_true(net, "sub_carrier_recovery_expected"))
		recovery = pd_sprintf(h->a, "%s: %s recovery expected", sub,
				      yuan_of(h, net, "sub_carrier_recovery_fen"));
	else
		recovery = pd_sprintf(h->a, "%s: no recovery expected", sub);
	kv_add(h, &b, "sub-carrier", recovery, false);
	kv_print(h, &b, 0);
	static const char *const known[] = {
		"paying_depot", "paid_to_customer_fen", "reimbursing_depot", "reimbursement_fen",
		"bearing_depot", "sub_carrier", "sub_carrier_recovery_expected",
		"sub_carrier_recovery_fen", "bearing_depot_net_fen", NULL };
	print_others(h, net, known);
}

/* The result of an assessment; inputs (may be NULL) head its first block. */
static void print_result(const struct human *h, const struct pd_value *res,
			 const char *inputs)
{
	struct kv_block b = { 0 };
	if (inputs)
		kv_add(h, &b, "inputs", inputs, false);
	const char *decision = text_of(h, res, "decision");
	kv_add(h, &b, "decision", *decision ? decision : "(none)", false);
	add_reasons(h, &b, "reasons", get_arr(res, "reasons"));
	kv_add(h, &b, "owed", yuan_of(h, res, "owed_fen"), true);
	kv_add(h, &b, "ex gratia", yuan_of(h, res, "ex_gratia_fen"), true);
	kv_add(h, &b, "payable", yuan_of(h, res, "payable_fen"), true);
	kv_print(h, &b, 0);

	human_heading(h, "Steps");
	print_steps(h, get_arr(res, "steps"), 0);
	const struct pd_value *ins = get_map(res, "insurer");
	if (ins)
		print_insurer(h, ins);
	const struct pd_value *net = get_map(res, "network");
	if (net)
		print_network(h, net);
	static const char *const known[] = { "decision", "owed_fen", "ex_gratia_fen", "payable_fen",
					     "authority", "reasons", "steps", "insurer", "network", NULL };
	struct pd_value *rest = human_map_without(h->a, res, known);
	if (rest->u.c.count) {
		human_heading(h, "Other");
		human_record(h, rest);
	}
	const char *authority = text_of(h, res, "authority");
	fputc('\n', h->f);
	struct pd_buf line;
	pd_buf_init(&line);
	pd_buf_printf(&line, "approval needed: %s", *authority ? authority : "(not said)");
	human_print_line(h, &line, STYLE_HEADING);
	pd_buf_free(&line);
}

/* An inputs map as the named arguments that were typed. */
static const char *inputs_line(const struct human *h, const struct pd_value *inputs)
{
	struct pd_buf b;
	pd_buf_init(&b);
	for (struct pd_entry *e = inputs->u.c.head; e; e = e->next) {
		const char *v = human_value_text(h->a, e->val);
		if (b.len)
			pd_buf_adds(&b, " ");
		pd_buf_printf(&b, strchr(v, ' ') || !*v ? "%s=\"%s\"" : "%s=%s",
			      human_escaped(h->a, e->key, e->key_len), v);
	}
	const char *out = pd_strndup(h->a, b.data ? b.data : "", b.len);
	pd_buf_free(&b);
	return out;
}

/* One stored assessment: {version, assessed_at, assessed_by, inputs, result}. */
static void print_assessment(const struct human *h, const struct pd_value *as)
{
	const char *version = text_of(h, as, "version");
	const char *by = text_of(h, as, "assessed_by");
	const char *at = text_of(h, as, "assessed_at");
	human_heading(h, pd_sprintf(h->a, "Compensation: assessment %s%s%s%s%s",
				    *version ? version : "?", *by ? " by " : "", by,
				    *at ? ", " : "", at));
	static const char *const shown[] = { "version", "assessed_by", "assessed_at", "inputs",
					     "result", NULL };
	struct pd_value *rest = human_map_without(h->a, as, shown);
	if (rest->u.c.count)
		human_record(h, rest);
	const struct pd_value *inputs = get_map(as, "inputs");
	print_result(h, get_map(as, "result"),
		     inputs && inputs->u.c.count ? inputs_line(h, inputs) : NULL);
}

/* A claim: its fields, its versions, the current assessment, its lists. */
static void print_claim(const struct human *h, const struct pd_value *claim,
			const struct pd_value *current)
{
	static const char *const hidden[] = { "assessments", "current_assessment", NULL };
	struct pd_value *rest = human_map_without(h->a, claim, hidden);
	human_record_fields(h, rest);
	const struct pd_value *versions = get_arr(claim, "assessments");
	if (versions && versions->u.c.count > 1) {
		fprintf(h->f, "\nassessments (%zu):\n", versions->u.c.count);
		static const char *const names[] = { "version", "assessed_at", "assessed_by",
						     "decision", "payable_yuan" };
		static const bool right[] = { true, false, false, false, true };
		struct table t;
		table_start(h->a, &t, 5, names, right);
		for (struct pd_entry *e = versions->u.c.head; e; e = e->next) {
			const struct pd_value *res = get_map(e->val, "result");
			const char *cells[] = { text_of(h, e->val, "version"), text_of(h, e->val, "assessed_at"),
						text_of(h, e->val, "assessed_by"), text_of(h, res, "decision"),
						yuan_of(h, res, "payable_fen") };
			table_add(h->a, &t, cells, false);
		}
		table_print(h, &t, INDENT);
	}
	print_assessment(h, current);
	human_record_lists(h, rest);
}

bool view_compensation(const struct human *h, const struct pd_value *data)
{
	if (data->type != PD_MAP)
		return false;
	const struct pd_value *current = get_map(data, "current_assessment");
	if (current && is_assessment(current)) {
		print_claim(h, data, current);
		return true;
	}
	if (is_assessment(data)) {
		print_assessment(h, data);
		return true;
	}
	if (is_result(data) && pd_map_get(data, "decision")) {
		print_result(h, data, NULL);
		return true;
	}
	return false;
}

/* ---- the monthly report ---- */

/* A field's value for people: fen in yuan, a percentage with "%", an
 * empty percentage (no base) as "n/a". */
static const char *pretty_value(const struct human *h, const struct pd_entry *e)
{
	if (e->val->type == PD_INT && ends_with(e->key, e->key_len, "_fen"))
		return human_yuan(h->a, e->val->u.i);
	if (e->val->type == PD_STR && ends_with(e->key, e->key_len, "_pct"))
		return e->val->u.s.len ? human_value_text(h->a, e->val) : "n/a";
	return human_value_text(h->a, e->val);
}

/* A map's scalars as a "label  value" block (numbers right-aligned), then
 * its maps as indented blocks and its lists as tables. */
static void print_pretty(const struct human *h, const struct pd_value *map, int indent,
			 const char *const *skip)
{
	struct kv_block b = { 0 };
	for (struct pd_entry *e = map->u.c.head; e; e = e->next) {
		if ((skip && key_in(e, skip)) || e->val->type == PD_MAP || e->val->type == PD_ARR)
			continue;
		bool right = e->val->type == PD_INT || ends_with(e->key, e->key_len, "_pct");
		kv_add(h, &b, human_label(h->a, e->key, e->key_len), pretty_value(h, e), right);
	}
	kv_print(h, &b, indent);
	for (struct pd_entry *e = map->u.c.head; e; e = e->next) {
		if (skip && key_in(e, skip))
			continue;
		const char *label = human_label(h->a, e->key, e->key_len);
		if (e->val->type == PD_MAP) {
			fprintf(h->f, "%*s%s:\n", indent, "", label);
			print_pretty(h, e->val, indent + INDENT, NULL);
		} else if (e->val->type == PD_ARR && e->val->u.c.count == 0) {
			fprintf(h->f, "%*s%s: none\n", indent, "", label);
		} else if (e->val->type == PD_ARR) {
			fprintf(h->f, "\n%*s%s (%zu):\n", indent, "", label, e->val->u.c.count);
			human_list_table(h, e->val, indent + INDENT, true);
		}
	}
}

static bool is_report(const struct pd_value *d)
{
	return d->type == PD_MAP && get_map(d, "volume") && get_map(d, "quality") &&
	       pd_map_get(d, "month");
}

static const char *change_text(const struct human *h, const struct pd_value *m, const char *key)
{
	const struct pd_value *v = get_typed(m, key, PD_STR);
	if (!v)
		return text_of(h, m, key);
	return v->u.s.len ? pd_sprintf(h->a, "%s %%", human_value_text(h->a, v)) : "n/a";
}

static void print_volume(const struct human *h, const struct pd_value *vol, const char *month)
{
	human_heading(h, "Volume");
	fprintf(h->f, "this month %s, last month %s, same month last year %s\n", month,
		text_of(h, vol, "last_month"), text_of(h, vol, "same_month_last_year"));
	static const char *const names[] = { "", "this month", "last month", "last year",
					     "vs last month", "vs last year" };
	static const bool right[] = { false, true, true, true, true, true };
	struct table t;
	table_start(h->a, &t, 6, names, right);
	for (struct pd_entry *e = vol->u.c.head; e; e = e->next) {
		if (e->val->type != PD_MAP)
			continue;
		bool fen = ends_with(e->key, e->key_len, "_fen");
		const char *(*figure)(const struct human *, const struct pd_value *, const char *) =
			fen ? yuan_of : text_of;
		const char *cells[] = { human_label(h->a, e->key, e->key_len),
					figure(h, e->val, "this_month"), figure(h, e->val, "last_month"),
					figure(h, e->val, "last_year"),
					change_text(h, e->val, "vs_last_month_pct"),
					change_text(h, e->val, "vs_last_year_pct") };
		table_add(h->a, &t, cells, false);
	}
	table_print(h, &t, 0);
	static const char *const known[] = { "last_month", "same_month_last_year", NULL };
	struct pd_value *rest = human_map_without(h->a, vol, known);
	struct pd_value *scalars = pd_map(h->a);
	for (struct pd_entry *e = rest->u.c.head; e; e = e->next)
		if (e->val->type != PD_MAP)
			pd_map_append(h->a, scalars, e->key, e->key_len, e->val);
	if (scalars->u.c.count)
		print_pretty(h, scalars, 0, NULL);
}

/* A staff text, line by line, each wrapped at the terminal's width. */
static void print_paragraphs(const struct human *h, const struct pd_value *text, int indent)
{
	const char *s = text->u.s.ptr;
	size_t n = text->u.s.len;
	int room = h->columns - indent > 20 ? h->columns - indent : 20;
	size_t start = 0;
	while (start <= n) {
		size_t end = start;
		while (end < n && s[end] != '\n')
			end++;
		const char *line = human_escaped(h->a, s + start, end - start);
		size_t len = strlen(line);
		do {
			int fitted;
			size_t take = text_prefix_fitting(line, len, room, &fitted);
			if (take < len) {
				/* break at the last blank that fits, if any */
				size_t blank = take;
				while (blank > 0 && line[blank] != ' ')
					blank--;
				if (blank > 0)
					take = blank;
			}
			if (take == 0)
				take = len; /* a single character wider than the room */
			fprintf(h->f, "%*s%.*s\n", indent, "", (int)take, line);
			line += take;
			len -= take;
			while (len > 0 && *line == ' ') {
				line++;
				len--;
			}
		} while (len > 0);
		start = end + 1;
	}
}

static void print_texts(const struct human *h, const struct pd_value *texts)
{
	human_heading(h, "Staff notes");
	for (struct pd_entry *e = texts->u.c.head; e; e = e->next) {
		const char *label = human_label(h->a, e->key, e->key_len);
		const struct pd_value *sec = e->val;
		const struct pd_value *text = get_typed(sec, "text", PD_STR);
		if (sec->type != PD_MAP) {
			fprintf(h->f, "%s: %s\n", label, human_value_text(h->a, sec));
			continue;
		}
		if (!text || text->u.s.len == 0) {
			fprintf(h->f, "%s: not written\n", label);
			continue;
		}
		const char *by = text_of(h, sec, "written_by"), *at = text_of(h, sec, "written_at");
		fprintf(h->f, "%s%s%s%s%s:\n", label, *by ? ", by " : "", by, *at ? " at " : "", at);
		print_paragraphs(h, text, 4);
	}
}

bool view_report(const struct human *h, const struct pd_value *data)
{
	if (!is_report(data))
		return false;
	const char *scope = text_of(h, data, "scope");
	const char *who = *text_of(h, data, "customer") ? text_of(h, data, "customer")
			: text_of(h, data, "depot");
	const char *month = text_of(h, data, "month");
	const struct pd_value *complete = get_typed(data, "complete", PD_BOOL);
	struct pd_buf title;
	pd_buf_init(&title);
	pd_buf_printf(&title, "Monthly report: %s%s%s, %s%s", scope, *who ? " " : "", who, month,
		      complete && !complete->u.b ? " (not complete: the month is still running)" : "");
	human_heading(h, title.data);
	pd_buf_free(&title);
	struct pd_value *scalars = pd_map(h->a);
	for (struct pd_entry *e = data->u.c.head; e; e = e->next)
		if (e->val->type != PD_MAP && e->val->type != PD_ARR)
			pd_map_append(h->a, scalars, e->key, e->key_len, e->val);
	human_record_fields(h, scalars);

	for (struct pd_entry *e = data->u.c.head; e; e = e->next) {
		const struct pd_value *v = e->val;
		if (v->type != PD_MAP && v->type != PD_ARR)
			continue;
		if (key_is(e, "volume")) {
			print_volume(h, v, month);
		} else if (key_is(e, "text") && v->type == PD_MAP) {
			print_texts(h, v);
		} else {
			const char *title = key_is(e, "quality") ? "Service quality"
				: key_is(e, "complaints") ? "Complaints"
				: key_is(e, "incidents") ? "Incidents"
				: human_label(h->a, e->key, e->key_len);
			human_heading(h, title);
			if (v->type == PD_MAP)
				print_pretty(h, v, 0, NULL);
			else if (v->u.c.count)
				human_list_table(h, v, 0, true);
			else
				fputs("none\n", h->f);
		}
	}
	return true;
}

/* ---- KPIs ---- */

static bool is_kpi_list(const struct pd_value *d)
{
	if (d->type != PD_ARR || d->u.c.count == 0)
		return false;
	for (struct pd_entry *e = d->u.c.head; e; e = e->next)
		if (e->val->type != PD_MAP || !pd_map_get(e->val, "kpi") || !pd_map_get(e->val, "met"))
			return false;
	return true;
}

bool view_kpi(const struct human *h, const struct pd_value *data)
{
	if (!is_kpi_list(data))
		return false;
	const struct pd_value *first = data->u.c.head->val;
	const char *scope = text_of(h, first, "scope"), *id = text_of(h, first, "id");
	fprintf(h->f, "KPIs: %s%s%s, %s\n", *scope ? scope : "?", *id ? " " : "", id,
		text_of(h, first, "month"));

	static const char *const known[] = { "kpi", "value_pct", "numerator", "denominator",
					     "target_pct", "comparison", "met", "no_data",
					     "scope", "id", "month", NULL };
	/* any field this client does not know becomes a further column */
	size_t extra_count = 0;
	const char **extra = NULL;
	for (struct pd_entry *row = data->u.c.head; row; row = row->next)
		for (struct pd_entry *e = row->val->u.c.head; e; e = e->next) {
			if (key_in(e, known))
				continue;
			const char *k = pd_strndup(h->a, e->key, e->key_len);
			bool seen = false;
			for (size_t i = 0; i < extra_count && !seen; i++)
				seen = strcmp(extra[i], k) == 0;
			if (seen)
				continue;
			const char **grown = pd_alloc(h->a, (extra_count + 1) * sizeof(*grown));
			if (extra_count)
				memcpy(grown, extra, extra_count * sizeof(*grown));
			grown[extra_count++] = k;
			extra = grown;
		}

	size_t cols = 7 + extra_count;
	const char **names = pd_alloc(h->a, cols * sizeof(*names));
	bool *right = pd_alloc(h->a, cols * sizeof(*right));
	static const char *const base[] = { "!", "kpi", "value", "numerator", "denominator",
					    "target", "met" };
	static const bool base_right[] = { false, false, true, true, true, true, false };
	for (size_t c = 0; c < 7; c++) {
		names[c] = base[c];
		right[c] = base_right[c];
	}
	for (size_t i = 0; i < extra_count; i++)
		names[7 + i] = human_escaped(h->a, extra[i], strlen(extra[i]));
	struct table t;
	table_start(h->a, &t, cols, names, right);
	const char **cells = pd_alloc(h->a, cols * sizeof(*cells));
	for (struct pd_entry *row = data->u.c.head; row; row = row->next) {
		const struct pd_value *k = row->val;
		const struct pd_value *met = get_typed(k, "met", PD_BOOL);
		bool unmet = met && !met->u.b;
		const char *value = text_of(h, k, "value_pct");
		const char *comparison = text_of(h, k, "comparison");
		const char *target = text_of(h, k, "target_pct");
		cells[0] = unmet ? "!" : "";
		cells[1] = text_of(h, k, "kpi");
		cells[2] = is_true(k, "no_data") || !*value ? "no data" : pd_sprintf(h->a, "%s %%", value);
		cells[3] = text_of(h, k, "numerator");
		cells[4] = text_of(h, k, "denominator");
		cells[5] = !*target ? ""
			: pd_sprintf(h->a, "%s%s %%", !strcmp(comparison, "at_least") ? ">= "
					   : !strcmp(comparison, "at_most") ? "<= " : "", target);
		cells[6] = text_of(h, k, "met");
		for (size_t i = 0; i < extra_count; i++)
			cells[7 + i] = text_of(h, k, extra[i]);
		table_add(h->a, &t, cells, unmet);
	}
	table_print(h, &t, 0);
	if (t.marked_count)
		fprintf(h->f, "! = target not met (%zu of %zu)\n", t.marked_count, t.rows);
	return true;
}
