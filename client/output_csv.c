/* output_csv.c — a reply's data as CSV (RFC 4180), for spreadsheets:
 *
 *   a list:   a header row (the union of the rows' keys, in the order first
 *             seen), then one row a record;
 *   a record: a header row "key,value", then one row a field.
 *
 * Nested values flatten to dotted keys as the text protocol does
 * (volume.waybills.this_month, events.1.event: arrays count from 1); an
 * empty list or map is its key with an empty value. A list item that is
 * not a record is the column "value". Values are as the text protocol
 * shows them (yes/no, nil empty) but unescaped: a field holding a comma, a
 * double quote, CR or LF is quoted, its quotes doubled. Control characters
 * other than tab, CR and LF are written \xHH, so a stored value cannot
 * drive a terminal the CSV is shown on. Lines end in CR LF.
 *
 * Only the data goes to the stream: the status line of an error goes to
 * the error stream, a reply without data writes nothing, and replies that
 * follow one another (pipe mode) are separated by an empty line. */
#include <string.h>

#include "output.h"

struct cell {
	const char *key; /* dotted key */
	const char *text;
	size_t text_len;
};

struct cells {
	struct cell *items;
	size_t count, cap;
	struct pd_arena *a;
};

static void cells_add(struct cells *c, const char *key, const char *text, size_t len)
{
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cell *items = pd_alloc(c->a, cap * sizeof(*items));
		if (c->count)
			memcpy(items, c->items, c->count * sizeof(*items));
		c->items = items;
		c->cap = cap;
	}
	c->items[c->count++] = (struct cell){ key, text, len };
}

/* A scalar's text: the text protocol's words, the string unescaped. */
static void scalar_text(struct pd_arena *a, const struct pd_value *v, const char **text,
			size_t *len)
{
	switch (v->type) {
	case PD_STR:
		*text = v->u.s.ptr;
		*len = v->u.s.len;
		return;
	case PD_INT:
		*text = pd_sprintf(a, "%lld", (long long)v->u.i);
		break;
	case PD_BOOL:
		*text = v->u.b ? "yes" : "no";
		break;
	default:
		*text = "";
		break;
	}
	*len = strlen(*text);
}

/* Every leaf under prefix, in order, as (dotted key, text). */
static void flatten(struct cells *c, const char *prefix, const struct pd_value *v)
{
	if ((v->type == PD_MAP || v->type == PD_ARR) && v->u.c.count > 0) {
		size_t index = 1;
		for (struct pd_entry *e = v->u.c.head; e; e = e->next, index++) {
			const char *name = v->type == PD_MAP ? pd_strndup(c->a, e->key, e->key_len)
							     : pd_sprintf(c->a, "%zu", index);
			flatten(c, *prefix ? pd_sprintf(c->a, "%s.%s", prefix, name) : name, e->val);
		}
		return;
	}
	const char *text = "";
	size_t len = 0;
	if (v->type != PD_MAP && v->type != PD_ARR)
		scalar_text(c->a, v, &text, &len);
	cells_add(c, prefix, text, len);
}

static void csv_field(struct pd_buf *b, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (quote)
		pd_buf_adds(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"')
			pd_buf_adds(b, "\"\"");
		else if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			pd_buf_printf(b, "\\x%02x", ch);
		else
			pd_buf_add(b, s + i, 1);
	}
	if (quote)
		pd_buf_adds(b, "\"");
}

static void csv_end_row(struct pd_buf *b)
{
	pd_buf_adds(b, "\r\n");
}

static void csv_record(struct pd_arena *a, struct pd_buf *b, const struct pd_value *map)
{
	struct cells c = { .a = a };
	flatten(&c, "", map);
	pd_buf_adds(b, "key,value");
	csv_end_row(b);
	for (size_t i = 0; i < c.count; i++) {
		csv_field(b, c.items[i].key, strlen(c.items[i].key));
		pd_buf_adds(b, ",");
		csv_field(b, c.items[i].text, c.items[i].text_len);
		csv_end_row(b);
	}
}

/* The position of key among the header's, added when new. */
static size_t header_index(struct pd_arena *a, const char ***header, size_t *count,
			   size_t *cap, const char *key)
{
	for (size_t i = 0; i < *count; i++)
		if (strcmp((*header)[i], key) == 0)
			return i;
	if (*count == *cap) {
		size_t new_cap = *cap ? *cap * 2 : 32;
		const char **grown = pd_alloc(a, new_cap * sizeof(*grown));
		if (*count)
			memcpy(grown, *header, *count * sizeof(*grown));
		*header = grown;
		*cap = new_cap;
	}
	(*header)[*count] = key;
	return (*count)++;
}

static void csv_list(struct pd_arena *a, struct pd_buf *b, const struct pd_value *list)
{
	size_t rows = list->u.c.count;
	struct cells *row_cells = pd_alloc(a, rows * sizeof(*row_cells));
	const char **header = NULL;
	size_t cols = 0, cap = 0, r = 0;
	for (struct pd_entry *e = list->u.c.head; e; e = e->next, r++) {
		row_cells[r].a = a;
		flatten(&row_cells[r], e->val->type == PD_MAP ? "" : "value", e->val);
		for (size_t i = 0; i < row_cells[r].count; i++)
			header_index(a, &header, &cols, &cap, row_cells[r].items[i].key);
	}
	for (size_t c = 0; c < cols; c++) {
		if (c)
			pd_buf_adds(b, ",");
		csv_field(b, header[c], strlen(header[c]));
	}
	csv_end_row(b);
	const struct cell **line = pd_alloc(a, (cols + 1) * sizeof(*line));
	for (r = 0; r < rows; r++) {
		memset(line, 0, (cols + 1) * sizeof(*line));
		for (size_t i = 0; i < row_cells[r].count; i++)
			line[header_index(a, &header, &cols, &cap, row_cells[r].items[i].key)] =
				&row_cells[r].items[i];
		for (size_t c = 0; c < cols; c++) {
			if (c)
				pd_buf_adds(b, ",");
			if (line[c])
				csv_field(b, line[c]->text, line[c]->text_len);
		}
		csv_end_row(b);
	}
}

bool output_csv(FILE *f, FILE *err, const struct pd_reply *r, bool separate)
{
	if (r->code < 200 || r->code > 299) {
		struct pd_buf msg;
		pd_buf_init(&msg);
		struct pd_value m = { .type = PD_STR, .u.s = { r->msg ? r->msg : "",
							       r->msg ? strlen(r->msg) : 0 } };
		pd_value_render_text(&m, &msg); /* escaped, as on any terminal */
		fprintf(err, "parceldesk: %03d %s\n", r->code, msg.data ? msg.data : "");
		pd_buf_free(&msg);
		return false;
	}
	const struct pd_value *d = r->data;
	if (!d || (d->type == PD_ARR && d->u.c.count == 0) ||
	    (d->type != PD_MAP && d->type != PD_ARR))
		return false;
	struct pd_arena a;
	struct pd_buf b;
	pd_arena_init(&a);
	pd_buf_init(&b);
	if (separate)
		csv_end_row(&b);
	if (d->type == PD_MAP)
		csv_record(&a, &b, d);
	else
		csv_list(&a, &b, d);
	fwrite(b.data, 1, b.len, f);
	pd_buf_free(&b);
	pd_arena_free(&a);
	return true;
}
