/* text_width.h — how many terminal columns a UTF-8 string takes, so tables
 * line up when cells hold Chinese names and addresses (two columns a
 * character) and truncate without cutting a character in half. */
#ifndef PD_CLIENT_TEXT_WIDTH_H
#define PD_CLIENT_TEXT_WIDTH_H

#include <stddef.h>

/* Columns taken by s[0..n). Invalid bytes count one column each. */
int text_width(const char *s, size_t n);

/* The length in bytes of the longest prefix of s[0..n) that fits in
 * max_columns; its width goes to *width. */
size_t text_prefix_fitting(const char *s, size_t n, int max_columns, int *width);

/* What marks a truncated cell: "…" on a UTF-8 terminal, "~" otherwise. */
const char *text_ellipsis(void);

#endif
