/* chart.h — `report month ... --chart`: the twelve months up to the report's
 * month as pictures. The figures come from the daemon, one REPORT MONTH and
 * one KPI a month (the same scope: network, customer= or depot=); the
 * client draws them:
 *   --chart      bars of waybills and revenue, a sparkline per KPI, in
 *                Unicode block characters on the terminal;
 *   --ascii      the same in plain ASCII;
 *   --svg FILE   the same charts as a standalone SVG file. */
#ifndef PD_CLIENT_CHART_H
#define PD_CLIENT_CHART_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "connection.h"
#include "request.h"

#define CHART_MONTHS 12
#define CHART_KPIS 8 /* at most; the daemon says how many */

struct chart_options {
	bool chart;       /* --chart */
	bool ascii;       /* --ascii */
	const char *svg;  /* --svg FILE */
};

/* Takes --chart, --ascii and --svg FILE out of the command words (they may
 * stand anywhere among them). Returns 0, or -1 with a message on stderr. */
int chart_take_options(int *argc, char **argv, struct chart_options *o);

/* The history a chart shows, oldest month first. */
struct chart_history {
	char months[CHART_MONTHS][16];       /* "2026-03" */
	int64_t waybills[CHART_MONTHS];
	int64_t revenue_fen[CHART_MONTHS];
	const char *kpi_names[CHART_KPIS];
	int64_t kpi_bp[CHART_KPIS][CHART_MONTHS]; /* basis points; -1: no data */
	int64_t kpi_target_bp[CHART_KPIS];
	int kpi_count;
	char title[160];
};

/* Draws the history on f: block characters, or ASCII. */
void chart_print(FILE *f, const struct chart_history *h, bool ascii);
/* Writes the history as a standalone SVG document. */
void chart_svg(FILE *f, const struct chart_history *h);

/* Fetches the twelve months ending at the month of req (a REPORT MONTH
 * request: its month=, else the last complete month) and draws them as o
 * asks. Returns the client's exit status. */
int chart_run(struct server_conn *c, const struct pd_request *req, const struct chart_options *o);

#endif
