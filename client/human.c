/* human.c — the human form's primitives: escaped text, yuan, labels,
 * padded cells, aligned records, tables cut to the terminal's width, rows
 * whose `overdue` is yes marked. output_human.c puts them together with
 * the views of output_views.c, which use them too.
 *
 * Every string goes through the text protocol's escaping
 * (pd_value_render_text), so a stored value can neither break the layout
 * with a newline nor drive the terminal with control characters. */
#include <stdbool.h>
#include <string.h>

#include "human.h"
#include "text_width.h"

#define MIN_COLUMN_WIDTH 4 /* narrower columns say nothing: overflow instead */
#define SUBTABLE_INDENT 2
#define MARK "!"           /* the mark column's header and its marked cells */

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

static bool key_is(const struct pd_entry *e, const char *key)
{
	return e->key && e->key_len == strlen(key) && memcmp(e->key, key, e->key_len) == 0;
}

/* ---- text ---- */

const char *human_escaped(struct pd_arena *a, const char *s, size_t n)
{
	struct pd_buf b;
	pd_buf_init(&b);
	struct pd_value v = { .type = PD_STR, .u.s = { s, n } };
	pd_value_render_text(&v, &b);
	const char *out = pd_strndup(a, b.data ? b.data : "", b.len);
	pd_buf_free(&b);
	return out;
}

const char *human_value_text(struct pd_arena *a, const struct pd_value *v)
{
	struct pd_buf b;
	pd_buf_init(&b);
	if (v->type == PD_ARR && holds_only_scalars(v)) {
		for (struct pd_entry *e = v->u.c.head; e; e = e->next) {
			if (e != v->u.c.head)
				pd_buf_adds(&b, ", ");
			pd_value_render_text(e->val, &b);
		}
	} else if (v->type == PD_MAP && holds_only_scalars(v)) {
		/* a timeline entry's changes: "status: open → closed; ..." */
		for (struct pd_entry *e = v->u.c.head; e; e = e->next) {
			if (e != v->u.c.head)
				pd_buf_adds(&b, "; ");
			struct pd_value key = { .type = PD_STR, .u.s = { e->key, e->key_len } };
			pd_value_render_text(&key, &b);
			pd_buf_adds(&b, ": ");
			pd_value_render_text(e->val, &b);
		}
	} else {
		pd_value_render_text(v, &b);
	}
	const char *out = pd_strndup(a, b.data ? b.data : "", b.len);
	pd_buf_free(&b);
	return out;
}

const char *human_yuan(struct pd_arena *a, int64_t fen)
{
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
	uint64_t m = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	char digits[32], grouped[48];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(m / 100));
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			grouped[o++] = ',';
		grouped[o++] = digits[i];
	}
	grouped[o] = '\0';
	return pd_sprintf(a, "%s%s.%02u", fen < 0 ? "-" : "", grouped, (unsigned)(m % 100));
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

const char *human_label(struct pd_arena *a, const char *key, size_t key_len)
{
	const char *unit = "";
	if (ends_with(key, key_len, "_pct") && key_len > 4) {
		key_len -= 4;
		unit = " %";
	} else if (ends_with(key, key_len, "_fen") && key_len > 4) {
		key_len -= 4;
		unit = " (yuan)";
	}
	char *base = (char *)human_escaped(a, key, key_len);
	for (char *p = base; *p; p++)
		if (*p == '_')
			*p = ' ';
	return pd_sprintf(a, "%s%s", base, unit);
}

int human_text_width(const char *s)
{
	return text_width(s, strlen(s));
}

static void pad(struct pd_buf *b, int n)
{
	for (; n > 0; n--)
		pd_buf_add(b, " ", 1);
}

void human_pad_cell(struct pd_buf *b, const char *text, int width, bool right_aligned)
{
	int w = human_text_width(text);
	if (right_aligned)
		pad(b, width - w);
	pd_buf_adds(b, text);
	if (!right_aligned)
		pad(b, width - w);
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
	human_pad_cell(b, text, width, right_aligned);
}

void human_print_line(const struct human *h, struct pd_buf *b, const char *style)
{
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->len--;
	if (b->len) {
		bool styled = style && h->color;
		if (styled)
			fputs(style, h->f);
		fwrite(b->data, 1, b->len, h->f);
		if (styled)
			fputs(STYLE_RESET, h->f);
	}
	fputc('\n', h->f);
	b->len = 0;
}

void human_heading(const struct human *h, const char *title)
{
	fputc('\n', h->f);
	if (h->color)
		fprintf(h->f, STYLE_HEADING "%s" STYLE_RESET "\n", title);
	else
		fprintf(h->f, "%s\n", title);
	for (int w = human_text_width(title); w > 0; w--)
		fputc('-', h->f);
	fputc('\n', h->f);
}

struct pd_value *human_map_without(struct pd_arena *a, const struct pd_value *map,
				   const char *const *keys)
{
	struct pd_value *out = pd_map(a);
	for (struct pd_entry *e = map->u.c.head; e; e = e->next) {
		bool skip = false;
		for (const char *const *k = keys; *k && !skip; k++)
			skip = key_is(e, *k);
		if (!skip)
			pd_map_append(a, out, e->key, e->key_len, e->val);
	}
	return out;
}

/* ---- tables ---- */

/* Columns a clerk must read whole, never cut: numbers, the overdue mark,
 * identifiers, waybill numbers, statuses and times. */
static bool kept_whole(const struct table *t, size_t c)
{
	static const char *const names[] = { "id", "seq", "number", "waybill", "status", "at",
					      "day", "date", "month", "from", "to", NULL };
	static const char *const suffixes[] = { "_id", "_at", "_by", "_date", "_status", "_number", NULL };
	const char *n = t->raw_names[c];
	if (t->numeric[c] || !n)
		return true;
	for (const char *const *k = names; *k; k++)
		if (strcmp(n, *k) == 0)
			return true;
	for (const char *const *k = suffixes; *k; k++)
		if (ends_with(n, strlen(n), *k))
			return true;
	return false;
}

/* Free text (a note, a name, an address): some cell holds a space. */
static bool free_text(const struct table *t, size_t c)
{
	for (size_t r = 0; r < t->rows; r++)
		if (t->cells[r * t->cols + c] && strchr(t->cells[r * t->cols + c], ' '))
			return true;
	return false;
}

/* Narrows the widest free-text column one step at a time until the table
 * fits, then the widest other column that may be cut; columns kept whole
 * never narrow. Returns whether the table fits. */
static bool fit_columns(struct pd_arena *a, struct table *t, int available)
{
	int total = COLUMN_GAP_WIDTH * (int)(t->cols - 1);
	bool *whole = pd_alloc(a, t->cols * sizeof(*whole));
	bool *text = pd_alloc(a, t->cols * sizeof(*text));
	for (size_t c = 0; c < t->cols; c++) {
		total += t->widths[c];
		whole[c] = kept_whole(t, c);
		text[c] = !whole[c] && free_text(t, c);
	}
	for (int pass = 0; pass < 2 && total > available; pass++) {
		while (total > available) {
			size_t widest = t->cols;
			for (size_t c = 0; c < t->cols; c++)
				if (!whole[c] && (pass || text[c]) && t->widths[c] > MIN_COLUMN_WIDTH &&
				    (widest == t->cols || t->widths[c] > t->widths[widest]))
					widest = c;
			if (widest == t->cols)
				break;
			t->widths[widest]--;
			total--;
		}
	}
	return total <= available;
}

/* The column of a key, added when new. A NULL raw name (the mark column)
 * matches no key. */
static size_t table_column(struct pd_arena *a, struct table *t, const char *key,
			   size_t key_len, const char *header)
{
	for (size_t c = 0; c < t->cols; c++)
		if (t->raw_names[c] && key && strlen(t->raw_names[c]) == key_len &&
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
	t->raw_names[t->cols] = key ? pd_strndup(a, key, key_len) : NULL;
	t->names[t->cols] = header ? header : human_escaped(a, key, key_len);
	return t->cols++;
}

/* A row is overdue when it says so with a boolean. */
static bool row_overdue(const struct pd_value *row)
{
	if (row->type != PD_MAP)
		return false;
	const struct pd_value *v = pd_map_get(row, "overdue");
	return v && v->type == PD_BOOL && v->u.b;
}

static bool list_has_overdue_field(const struct pd_value *list)
{
	for (struct pd_entry *row = list->u.c.head; row; row = row->next) {
		if (row->val->type != PD_MAP)
			continue;
		const struct pd_value *v = pd_map_get(row->val, "overdue");
		if (v && v->type == PD_BOOL)
			return true;
	}
	return false;
}

static const char *column_header(struct pd_arena *a, const char *key, size_t key_len,
				 bool fen_as_yuan)
{
	if (fen_as_yuan && ends_with(key, key_len, "_fen"))
		return pd_sprintf(a, "%s_yuan", human_escaped(a, key, key_len - 4));
	return human_escaped(a, key, key_len);
}

/* Columns are the union of the records' keys in the order first seen; an
 * item that is not a record goes in a "value" column. A list whose rows
 * carry `overdue` gets a first column "!" marking the overdue ones. */
static void table_build(struct pd_arena *a, struct table *t, const struct pd_value *list,
			bool fen_as_yuan)
{
	memset(t, 0, sizeof(*t));
	t->rows = t->rows_cap = list->u.c.count;
	bool marking = list_has_overdue_field(list);
	if (marking)
		table_column(a, t, NULL, 0, MARK);
	for (struct pd_entry *row = list->u.c.head; row; row = row->next) {
		if (row->val->type != PD_MAP) {
			table_column(a, t, "value", 5, NULL);
			continue;
		}
		for (struct pd_entry *e = row->val->u.c.head; e; e = e->next)
			table_column(a, t, e->key, e->key_len,
				     column_header(a, e->key, e->key_len, fen_as_yuan));
	}
	t->cells = pd_alloc(a, (t->rows * t->cols + 1) * sizeof(*t->cells));
	t->numeric = pd_alloc(a, (t->cols + 1) * sizeof(*t->numeric));
	t->widths = pd_alloc(a, (t->cols + 1) * sizeof(*t->widths));
	t->marked = pd_alloc(a, (t->rows + 1) * sizeof(*t->marked));
	for (size_t c = 0; c < t->cols; c++) {
		t->numeric[c] = t->raw_names[c] != NULL;
		t->widths[c] = human_text_width(t->names[c]);
	}
	size_t r = 0;
	for (struct pd_entry *row = list->u.c.head; row; row = row->next, r++) {
		if (marking && row_overdue(row->val)) {
			t->marked[r] = true;
			t->marked_count++;
			t->cells[r * t->cols] = MARK;
		}
		/* a non-record item is walked as a record of one "value" field */
		struct pd_entry single = { .key = "value", .key_len = 5, .val = row->val };
		struct pd_entry *first = row->val->type == PD_MAP ? row->val->u.c.head : &single;
		for (struct pd_entry *e = first; e; e = e == &single ? NULL : e->next) {
			size_t c = table_column(a, t, e->key, e->key_len, NULL);
			const char *text;
			if (fen_as_yuan && e->val->type == PD_INT && ends_with(e->key, e->key_len, "_fen"))
				text = human_yuan(a, e->val->u.i);
			else
				text = human_value_text(a, e->val);
			t->cells[r * t->cols + c] = text;
			if (e->val->type != PD_INT && e->val->type != PD_NIL)
				t->numeric[c] = false;
			int w = human_text_width(text);
			if (w > t->widths[c])
				t->widths[c] = w;
		}
	}
}

void table_start(struct pd_arena *a, struct table *t, size_t cols,
		 const char *const *names, const bool *right_aligned)
{
	memset(t, 0, sizeof(*t));
	t->cols = t->cols_cap = cols;
	t->names = pd_alloc(a, (cols + 1) * sizeof(*t->names));
	t->raw_names = pd_alloc(a, (cols + 1) * sizeof(*t->raw_names));
	t->numeric = pd_alloc(a, (cols + 1) * sizeof(*t->numeric));
	t->widths = pd_alloc(a, (cols + 1) * sizeof(*t->widths));
	for (size_t c = 0; c < cols; c++) {
		t->names[c] = t->raw_names[c] = names[c];
		t->numeric[c] = right_aligned[c];
		t->widths[c] = human_text_width(names[c]);
	}
}

void table_add(struct pd_arena *a, struct table *t, const char *const *cells, bool marked)
{
	if (t->rows == t->rows_cap) {
		size_t cap = t->rows_cap ? t->rows_cap * 2 : 16;
		const char **c = pd_alloc(a, (cap * t->cols + 1) * sizeof(*c));
		bool *m = pd_alloc(a, (cap + 1) * sizeof(*m));
		if (t->rows) {
			memcpy(c, t->cells, t->rows * t->cols * sizeof(*c));
			memcpy(m, t->marked, t->rows * sizeof(*m));
		}
		t->cells = c;
		t->marked = m;
		t->rows_cap = cap;
	}
	for (size_t c = 0; c < t->cols; c++) {
		const char *text = cells[c] ? cells[c] : "";
		t->cells[t->rows * t->cols + c] = text;
		int w = human_text_width(text);
		if (w > t->widths[c])
			t->widths[c] = w;
	}
	t->marked[t->rows++] = marked;
	if (marked)
		t->marked_count++;
}

/* One row: a header, the dashes under it, or a record's cells. */
static void print_row(const struct human *h, struct pd_buf *line, const struct table *t,
		      const char *const *texts, int indent, const char *style)
{
	pad(line, indent);
	for (size_t c = 0; c < t->cols; c++) {
		if (c > 0)
			pd_buf_adds(line, COLUMN_GAP);
		add_cell(line, texts[c] ? texts[c] : "", t->widths[c], t->numeric[c]);
	}
	human_print_line(h, line, style);
}

/* A terminal too narrow for the columns kept whole: each row wraps into
 * aligned "header  cell" lines, nothing cut. */
static void print_rows_wrapped(const struct human *h, const struct table *t, int indent)
{
	int name_width = 0;
	for (size_t c = 0; c < t->cols; c++)
		if (human_text_width(t->names[c]) > name_width)
			name_width = human_text_width(t->names[c]);
	struct pd_buf line;
	pd_buf_init(&line);
	for (size_t r = 0; r < t->rows; r++) {
		if (r)
			fputc('\n', h->f);
		for (size_t c = 0; c < t->cols; c++) {
			const char *cell = t->cells[r * t->cols + c];
			if (!cell || !*cell || !t->raw_names[c])
				continue; /* the mark column: the row's style and its own field say it */
			pad(&line, indent);
			human_pad_cell(&line, t->names[c], name_width, false);
			pd_buf_adds(&line, COLUMN_GAP);
			int room = h->columns - indent - name_width - COLUMN_GAP_WIDTH;
			if (!kept_whole(t, c) && room >= MIN_COLUMN_WIDTH && human_text_width(cell) > room)
				add_cell(&line, cell, room, false);
			else
				pd_buf_adds(&line, cell);
			human_print_line(h, &line, t->marked && t->marked[r] ? STYLE_ALERT : NULL);
		}
	}
	pd_buf_free(&line);
}

void table_print(const struct human *h, struct table *t, int indent)
{
	if (t->cols == 0)
		return;
	if (!fit_columns(h->a, t, h->columns - indent)) {
		print_rows_wrapped(h, t, indent);
		return;
	}
	const char **dashes = pd_alloc(h->a, t->cols * sizeof(*dashes));
	for (size_t c = 0; c < t->cols; c++) {
		char *d = pd_alloc(h->a, (size_t)t->widths[c] + 1);
		memset(d, '-', (size_t)t->widths[c]);
		dashes[c] = d;
	}
	struct pd_buf line;
	pd_buf_init(&line);
	print_row(h, &line, t, t->names, indent, NULL);
	print_row(h, &line, t, dashes, indent, NULL);
	for (size_t r = 0; r < t->rows; r++)
		print_row(h, &line, t, t->cells + r * t->cols, indent,
			  t->marked && t->marked[r] ? STYLE_ALERT : NULL);
	pd_buf_free(&line);
}

void human_list_table(const struct human *h, const struct pd_value *list, int indent,
		      bool fen_as_yuan)
{
	struct table t;
	table_build(h->a, &t, list, fen_as_yuan);
	table_print(h, &t, indent);
	if (t.marked_count)
		fprintf(h->f, "%*s" MARK " = overdue (%zu of %zu)\n", indent, "",
			t.marked_count, t.rows);
}

/* ---- records ---- */

struct field_line {
	const char *key, *text;
	bool alert; /* the record's own `overdue: yes` */
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
		const char *key = human_escaped(a, e->key, e->key_len);
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
			bool alert = !prefix && key_is(e, "overdue") && v->type == PD_BOOL && v->u.b;
			l->fields[l->field_count++] =
				(struct field_line){ key, human_value_text(a, v), alert };
		}
	}
}

void human_record_fields(const struct human *h, const struct pd_value *map)
{
	struct record_layout l = { 0 };
	layout_record(h->a, &l, NULL, map);
	int key_width = 0;
	for (size_t i = 0; i < l.field_count; i++) {
		int w = human_text_width(l.fields[i].key);
		if (w > key_width)
			key_width = w;
	}
	struct pd_buf line;
	pd_buf_init(&line);
	for (size_t i = 0; i < l.field_count; i++) {
		const struct field_line *fl = &l.fields[i];
		if (fl->text[0]) {
			human_pad_cell(&line, fl->key, key_width, false);
			pd_buf_adds(&line, COLUMN_GAP);
			pd_buf_adds(&line, fl->text);
		} else {
			pd_buf_adds(&line, fl->key);
		}
		human_print_line(h, &line, fl->alert ? STYLE_ALERT : NULL);
	}
	pd_buf_free(&line);
}

void human_record_lists(const struct human *h, const struct pd_value *map)
{
	struct record_layout l = { 0 };
	layout_record(h->a, &l, NULL, map);
	for (size_t i = 0; i < l.list_count; i++) {
		fprintf(h->f, "\n%s (%zu):\n", l.lists[i].name, l.lists[i].list->u.c.count);
		human_list_table(h, l.lists[i].list, SUBTABLE_INDENT, false);
	}
}

void human_record(const struct human *h, const struct pd_value *map)
{
	human_record_fields(h, map);
	human_record_lists(h, map);
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

static void print_records_one_by_one(const struct human *h, const struct pd_value *list)
{
	size_t i = 1;
	size_t count = list->u.c.count;
	for (struct pd_entry *row = list->u.c.head; row; row = row->next, i++) {
		if (i > 1)
			fputc('\n', h->f);
		bool overdue = row_overdue(row->val);
		struct pd_buf line;
		pd_buf_init(&line);
		if (count > 1)
			pd_buf_printf(&line, "-- %zu of %zu%s --", i, count, overdue ? ": OVERDUE" : "");
		else if (overdue)
			pd_buf_adds(&line, "-- OVERDUE --");
		if (line.len)
			human_print_line(h, &line, overdue ? STYLE_ALERT : NULL);
		pd_buf_free(&line);
		if (row->val->type == PD_MAP)
			human_record(h, row->val);
		else
			fprintf(h->f, "%s\n", human_value_text(h->a, row->val));
	}
}

void human_data(const struct human *h, const struct pd_value *d)
{
	if (d->type == PD_MAP)
		human_record(h, d);
	else if (d->type == PD_ARR && d->u.c.count == 0)
		fputs("(none)\n", h->f);
	else if (d->type == PD_ARR && holds_nested_lists(d))
		print_records_one_by_one(h, d);
	else if (d->type == PD_ARR)
		human_list_table(h, d, 0, false);
	else
		fprintf(h->f, "%s\n", human_value_text(h->a, d));
}
