/* output_human.c — replies for people: aligned records and tables.
 *
 * Every string goes through the text protocol's escaping
 * (pd_value_render_text), so a stored value can neither break the layout
 * with a newline nor drive the terminal with control characters. */
#include <stdbool.h>
#include <string.h>

#include "output.h"
#include "text_width.h"

#define COLUMN_GAP "  "
#define COLUMN_GAP_WIDTH 2
#define MIN_COLUMN_WIDTH 4 /* narrower columns say nothing: overflow instead */
#define SUBTABLE_INDENT 2

static bool is_container(const struct pd_value *v)
{
	return v->type == PD_MAP || v->type == PD_ARR;
}

static bool holds_only_scalars(const struct pd_value *arr)
{
	for (struct pd_entry *e = arr->u.c.head; e; e = e->next)
		if (is_container(e->val))
			return false;
	return true;
}

static const char *escaped_string(struct pd_arena *a, const char *s, size_t n)
{
	struct pd_buf b;
	pd_buf_init(&b);
	struct pd_value v = { .type = PD_STR, .u.s = { s, n } };
	pd_value_render_text(&v, &b);
	const char *out = pd_strndup(a, b.data ? b.data : "", b.len);
	pd_buf_free(&b);
	return out;
}

/* One value on one line: a scalar as the text protocol shows it, a list of
 * scalars joined by ", ", anything deeper as "(N items)". */
static const char *value_text(struct pd_arena *a, const struct pd_value *v)
{
	struct pd_buf b;
	pd_buf_init(&b);
	if (v->type == PD_ARR && holds_only_scalars(v)) {
		for (struct pd_entry *e = v->u.c.head; e; e = e->next) {
			if (e != v->u.c.head)
				pd_buf_adds(&b, ", ");
			pd_value_render_text(e->val, &b);
		}
	} else {
		pd_value_render_text(v, &b);
	}
	const char *out = pd_strndup(a, b.data ? b.data : "", b.len);
	pd_buf_free(&b);
	return out;
}

static void pad(struct pd_buf *b, int n)
{
	for (; n > 0; n--)
		pd_buf_add(b, " ", 1);
}

/* Adds text in a column of `width`, cut with an ellipsis when wider. */
static void add_cell(struct pd_buf *b, const char *text, int width, bool right_aligned)
{
	size_t n = strlen(text);
	int w = text_width(text, n);
	if (w > width) {
		int fitted;
		size_t bytes = text_prefix_fitting(text, n, width - 1, &fitted);
		pd_buf_add(b, text, bytes);
		pd_buf_adds(b, text_ellipsis());
		pad(b, width - fitted - 1); /* a wide character may leave one */
		return;
	}
	if (right_aligned)
		pad(b, width - w);
	pd_buf_add(b, text, n);
	if (!right_aligned)
		pad(b, width - w);
}

/* Prints a line without the blanks that padding left at its end. */
static void print_line(FILE *f, struct pd_buf *b)
{
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->len--;
	if (b->len)
		fwrite(b->data, 1, b->len, f);
	fputc('\n', f);
	b->len = 0;
}

/* Narrows the widest column one step at a time until the table fits. */
static void fit_columns(int *widths, size_t count, int available)
{
	int total = COLUMN_GAP_WIDTH * (int)(count - 1);
	for (size_t c = 0; c < count; c++)
		total += widths[c];
	while (total > available) {
		size_t widest = 0;
		for (size_t c = 1; c < count; c++)
			if (widths[c] > widths[widest])
				widest = c;
		if (widths[widest] <= MIN_COLUMN_WIDTH)
			return;
		widths[widest]--;
		total--;
	}
}

struct table {
	size_t rows, cols, cols_cap;
	const char **names;  /* column headers, escaped */
	const char **raw_names; /* the keys as sent, for matching */
	const char **cells;  /* rows * cols, NULL when a record lacks the key */
	bool *numeric;       /* every value in the column is an integer */
	int *widths;
};

static size_t table_column(struct pd_arena *a, struct table *t, const char *key,
			   size_t key_len)
{
	for (size_t c = 0; c < t->cols; c++)
		if (strlen(t->raw_names[c]) == key_len &&
		    memcmp(t->raw_names[c], key, key_len) == 0)
			return c;
	if (t->cols == t->cols_cap) {
		size_t cap = t->cols_cap ? t->cols_cap * 2 : 16;
		const char **names = pd_alloc(a, cap * sizeof(*names));
		const char **raw = pd_alloc(a, cap * sizeof(*raw));
		if (t->cols) {
			memcpy(names, t->names, t->cols * sizeof(*names));
			memcpy(raw, t->raw_names, t->cols * sizeof(*raw));
		}
		t->names = names;
		t->raw_names = raw;
		t->cols_cap = cap;
	}
	t->raw_names[t->cols] = pd_strndup(a, key, key_len);
	t->names[t->cols] = escaped_string(a, key, key_len);
	return t->cols++;
}

/* Columns are the union of the records' keys in the order first seen; an
 * item that is not a record goes in a "value" column. */
static void table_build(struct pd_arena *a, struct table *t, const struct pd_value *list)
{
	memset(t, 0, sizeof(*t));
	t->rows = list->u.c.count;
	for (struct pd_entry *row = list->u.c.head; row; row = row->next) {
		if (row->val->type != PD_MAP) {
			table_column(a, t, "value", 5);
			continue;
		}
		for (struct pd_entry *e = row->val->u.c.head; e; e = e->next)
			table_column(a, t, e->key, e->key_len);
	}
	t->cells = pd_alloc(a, (t->rows * t->cols + 1) * sizeof(*t->cells));
	t->numeric = pd_alloc(a, (t->cols + 1) * sizeof(*t->numeric));
	t->widths = pd_alloc(a, (t->cols + 1) * sizeof(*t->widths));
	for (size_t c = 0; c < t->cols; c++) {
		t->numeric[c] = true;
		t->widths[c] = text_width(t->names[c], strlen(t->names[c]));
	}
	size_t r = 0;
	for (struct pd_entry *row = list->u.c.head; row; row = row->next, r++) {
		/* a non-record item is walked as a record of one "value" field */
		struct pd_entry single = { .key = "value", .key_len = 5, .val = row->val };
		struct pd_entry *first = row->val->type == PD_MAP ? row->val->u.c.head : &single;
		for (struct pd_entry *e = first; e; e = e == &single ? NULL : e->next) {
			size_t c = table_column(a, t, e->key, e->key_len);
			const char *text = value_text(a, e->val);
			t->cells[r * t->cols + c] = text;
			if (e->val->type != PD_INT && e->val->type != PD_NIL)
				t->numeric[c] = false;
			int w = text_width(text, strlen(text));
			if (w > t->widths[c])
				t->widths[c] = w;
		}
	}
}

/* One row: a header, the dashes under it, or a record's cells. */
static void print_row(FILE *f, struct pd_buf *line, const struct table *t,
		      const char *const *texts, int indent)
{
	pad(line, indent);
	for (size_t c = 0; c < t->cols; c++) {
		if (c > 0)
			pd_buf_adds(line, COLUMN_GAP);
		add_cell(line, texts[c] ? texts[c] : "", t->widths[c], t->numeric[c]);
	}
	print_line(f, line);
}

static void print_table(FILE *f, struct pd_arena *a, const struct pd_value *list,
			int columns, int indent)
{
	struct table t;
	table_build(a, &t, list);
	if (t.cols == 0)
		return;
	fit_columns(t.widths, t.cols, columns - indent);
	const char **dashes = pd_alloc(a, t.cols * sizeof(*dashes));
	for (size_t c = 0; c < t.cols; c++) {
		char *d = pd_alloc(a, (size_t)t.widths[c] + 1);
		memset(d, '-', (size_t)t.widths[c]);
		dashes[c] = d;
	}
	struct pd_buf line;
	pd_buf_init(&line);
	print_row(f, &line, &t, t.names, indent);
	print_row(f, &line, &t, dashes, indent);
	for (size_t r = 0; r < t.rows; r++)
		print_row(f, &line, &t, t.cells + r * t.cols, indent);
	pd_buf_free(&line);
}

struct field_line {
	const char *key, *text;
};

struct nested_list {
	const char *name;
	const struct pd_value *list;
};

struct record_layout {
	size_t field_count, field_cap, list_count, list_cap;
	struct field_line *fields;
	struct nested_list *lists;
};

/* Makes room for one more item in an arena array of *cap items. */
static void *grow(struct pd_arena *a, void *old, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return old;
	size_t new_cap = *cap ? *cap * 2 : 32;
	void *p = pd_alloc(a, new_cap * size);
	if (count)
		memcpy(p, old, count * size);
	*cap = new_cap;
	return p;
}

static void layout_record(struct pd_arena *a, struct record_layout *l,
			  const char *prefix, const struct pd_value *map)
{
	for (struct pd_entry *e = map->u.c.head; e; e = e->next) {
		const char *key = escaped_string(a, e->key, e->key_len);
		if (prefix)
			key = pd_sprintf(a, "%s.%s", prefix, key);
		const struct pd_value *v = e->val;
		if (v->type == PD_MAP && v->u.c.count > 0) {
			layout_record(a, l, key, v);
		} else if (v->type == PD_ARR && !holds_only_scalars(v)) {
			l->lists = grow(a, l->lists, l->list_count, &l->list_cap,
					sizeof(*l->lists));
			l->lists[l->list_count++] = (struct nested_list){ key, v };
		} else {
			l->fields = grow(a, l->fields, l->field_count, &l->field_cap,
					 sizeof(*l->fields));
			l->fields[l->field_count++] = (struct field_line){ key, value_text(a, v) };
		}
	}
}

static void print_record(FILE *f, struct pd_arena *a, const struct pd_value *map,
			 int columns)
{
	struct record_layout l = { 0 };
	layout_record(a, &l, NULL, map);
	int key_width = 0;
	for (size_t i = 0; i < l.field_count; i++) {
		int w = text_width(l.fields[i].key, strlen(l.fields[i].key));
		if (w > key_width)
			key_width = w;
	}
	for (size_t i = 0; i < l.field_count; i++) {
		const struct field_line *fl = &l.fields[i];
		fputs(fl->key, f);
		if (fl->text[0]) {
			for (int w = text_width(fl->key, strlen(fl->key)); w < key_width; w++)
				fputc(' ', f);
			fputs(COLUMN_GAP, f);
			fputs(fl->text, f);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < l.list_count; i++) {
		fprintf(f, "\n%s (%zu):\n", l.lists[i].name, l.lists[i].list->u.c.count);
		print_table(f, a, l.lists[i].list, columns, SUBTABLE_INDENT);
	}
}

/* A table cannot show a list nested in its cells (a command's arguments, a
 * waybill's events) but as "(N items)"; such records print one by one. */
static bool holds_nested_lists(const struct pd_value *list)
{
	for (struct pd_entry *row = list->u.c.head; row; row = row->next) {
		if (row->val->type != PD_MAP)
			continue;
		for (struct pd_entry *e = row->val->u.c.head; e; e = e->next)
			if (e->val->type == PD_ARR && !holds_only_scalars(e->val))
				return true;
	}
	return false;
}

static void print_records_one_by_one(FILE *f, struct pd_arena *a,
				     const struct pd_value *list, int columns)
{
	size_t i = 1;
	for (struct pd_entry *row = list->u.c.head; row; row = row->next, i++) {
		if (i > 1)
			fputc('\n', f);
		if (list->u.c.count > 1)
			fprintf(f, "-- %zu of %zu --\n", i, list->u.c.count);
		if (row->val->type == PD_MAP)
			print_record(f, a, row->val, columns);
		else
			fprintf(f, "%s\n", value_text(a, row->val));
	}
}

void output_human(FILE *f, const struct pd_reply *r, int columns)
{
	struct pd_arena a;
	pd_arena_init(&a);
	const char *msg = r->msg ? r->msg : "";
	fprintf(f, "%03d %s\n", r->code, escaped_string(&a, msg, strlen(msg)));
	const struct pd_value *d = r->data;
	if (d) {
		if (d->type == PD_MAP)
			print_record(f, &a, d, columns);
		else if (d->type == PD_ARR && d->u.c.count == 0)
			fputs("(none)\n", f);
		else if (d->type == PD_ARR && holds_nested_lists(d))
			print_records_one_by_one(f, &a, d, columns);
		else if (d->type == PD_ARR)
			print_table(f, &a, d, columns, 0);
		else
			fprintf(f, "%s\n", value_text(&a, d));
		fputc('\n', f);
	}
	pd_arena_free(&a);
}
