/* human.h — the pieces of the human form (human.c) that output_human.c
 * and the views share.
 *
 * human.c prints any reply's data: a record as aligned "key  value" lines,
 * a list as a table. output_views.c adds views chosen by the shape of the
 * data, never by the command that was typed:
 *   - a list whose rows carry a boolean `overdue` (COMPLAINT LIST, CLAIM
 *     LIST, RECOVERY LIST): the generic table with overdue rows marked;
 *   - the compensation engine's answer (a record with `result` holding
 *     `steps`, or a claim with `current_assessment`): a breakdown read
 *     line by line, amounts in yuan;
 *   - REPORT MONTH's record (`volume`, `quality`, `month`): a report;
 *   - KPI's list (rows with `kpi` and `met`): a table, unmet ones marked.
 * Every string still goes through the text protocol's escaping, so stored
 * values never drive the terminal. */
#ifndef PD_CLIENT_HUMAN_H
#define PD_CLIENT_HUMAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reply.h"

#define COLUMN_GAP "  "
#define COLUMN_GAP_WIDTH 2

/* ANSI styles, written only when struct human's color is set. */
#define STYLE_ALERT "\033[1;31m" /* bold red: overdue rows, unmet KPIs */
#define STYLE_HEADING "\033[1m"  /* bold: section titles */
#define STYLE_RESET "\033[0m"

struct human {
	FILE *f;
	struct pd_arena *a; /* everything the views build lives here */
	int columns;        /* terminal width tables are cut to */
	bool color;         /* stdout is a colour terminal, NO_COLOR unset */
};

/* ---- text ---- */

/* The text protocol's escaping of s[0..n) (\n, \x1b ...). */
const char *human_escaped(struct pd_arena *a, const char *s, size_t n);
/* One value on one line: a scalar as the text protocol shows it, a list of
 * scalars joined by ", ", anything deeper as "(N items)". */
const char *human_value_text(struct pd_arena *a, const struct pd_value *v);
/* Fen as yuan with thousands separators and two decimals, by integer
 * arithmetic: 420000 -> "4,200.00", -5 -> "-0.05". */
const char *human_yuan(struct pd_arena *a, int64_t fen);
/* A key for people: "_" -> " ", "late_rate_pct" -> "late rate %",
 * "claims_paid_fen" -> "claims paid (yuan)". */
const char *human_label(struct pd_arena *a, const char *key, size_t key_len);
int human_text_width(const char *s);

/* Appends text to b padded to width columns (no cutting). */
void human_pad_cell(struct pd_buf *b, const char *text, int width, bool right_aligned);
/* Writes b as one line (trailing blanks dropped) in a style (NULL: plain;
 * ignored without colour) and empties b. */
void human_print_line(const struct human *h, struct pd_buf *b, const char *style);
/* A section title, underlined with dashes, after an empty line. */
void human_heading(const struct human *h, const char *title);
/* "key  value" lines of a record, its nested lists as sub-tables after. */
void human_record(const struct human *h, const struct pd_value *map);
/* The same, in two steps, so a view can print between them. */
void human_record_fields(const struct human *h, const struct pd_value *map);
void human_record_lists(const struct human *h, const struct pd_value *map);
/* A shallow copy of a map without the keys named (NULL-terminated). */
struct pd_value *human_map_without(struct pd_arena *a, const struct pd_value *map,
				   const char *const *keys);

/* ---- tables ---- */

struct table {
	size_t rows, cols, cols_cap, rows_cap;
	const char **names;     /* column headers, escaped */
	const char **raw_names; /* the keys as sent, for matching */
	const char **cells;     /* rows * cols, NULL when a record lacks the key */
	bool *numeric;          /* right-aligned */
	int *widths;
	bool *marked;           /* per row: overdue, unmet; printed in STYLE_ALERT */
	size_t marked_count;
};

/* A table of fixed columns, filled row by row (cells already escaped). */
void table_start(struct pd_arena *a, struct table *t, size_t cols,
		 const char *const *names, const bool *right_aligned);
void table_add(struct pd_arena *a, struct table *t, const char *const *cells, bool marked);
/* Prints header, dashes and rows, cut to the terminal's width. */
void table_print(const struct human *h, struct table *t, int indent);

/* A list of records as a table; keys ending in _fen shown in yuan (and
 * headed _yuan) when fen_as_yuan. */
void human_list_table(const struct human *h, const struct pd_value *list, int indent,
		      bool fen_as_yuan);

/* Any reply's data in the generic form: a record, "(none)", a table, or
 * records one by one when their cells hold lists. */
void human_data(const struct human *h, const struct pd_value *d);

#endif
