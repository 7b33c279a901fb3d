/* chart.c — the twelve-month pictures of `report month --chart` (see
 * chart.h): fetched as one REPORT MONTH and one KPI a month, drawn as bars
 * and sparklines on the terminal or as an SVG file. */
#include "chart.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "human.h"
#include "request_build.h"

#define BAR_WIDTH 40   /* terminal columns of the longest bar */
#define SVG_WIDTH 760
#define SVG_BAR_PANEL 190
#define SVG_KPI_PANEL 80

int chart_take_options(int *argc, char **argv, struct chart_options *o)
{
	int out = 0;
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--chart") == 0) {
			o->chart = true;
		} else if (strcmp(argv[i], "--ascii") == 0) {
			o->ascii = true;
		} else if (strcmp(argv[i], "--svg") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "parceldesk: --svg needs a file name\n");
				return -1;
			}
			o->svg = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	if (o->ascii && !o->chart && !o->svg)
		o->chart = true; /* --ascii alone: the ASCII chart */
	return 0;
}

/* ---- drawing ---- */

static void utf8_or_ascii(FILE *f, bool ascii, const char *utf8, char plain)
{
	if (ascii)
		fputc(plain, f);
	else
		fputs(utf8, f);
}

/* A bar of value/max of BAR_WIDTH columns, in eighths of a column. */
static void bar(FILE *f, int64_t value, int64_t max, bool ascii)
{
	static const char *const eighths[] = { "", "\u258f", "\u258e", "\u258d", "\u258c",
					       "\u258b", "\u258a", "\u2589" };
	int64_t units = max > 0 && value > 0 ? value * BAR_WIDTH * 8 / max : 0;
	if (value > 0 && units == 0)
		units = 1; /* something shows that it is not zero */
	int cols = 0;
	for (; units >= 8; units -= 8, cols++)
		utf8_or_ascii(f, ascii, "\u2588", '#');
	if (units > 0) {
		utf8_or_ascii(f, ascii, eighths[units], units >= 4 ? '+' : '-');
		cols++;
	}
	for (; cols < BAR_WIDTH; cols++)
		fputc(' ', f);
}

static int64_t max_of(const int64_t *v, int n)
{
	int64_t m = 0;
	for (int i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static void bar_panel(FILE *f, struct pd_arena *a, const struct chart_history *h, const char *title,
		      const int64_t *values, bool money, bool ascii)
{
	fprintf(f, "\n%s\n", title);
	int64_t max = max_of(values, CHART_MONTHS);
	for (int i = 0; i < CHART_MONTHS; i++) {
		fprintf(f, "%s  ", h->months[i]);
		bar(f, values[i], max, ascii);
		if (money)
			fprintf(f, "  %15s\n", human_yuan(a, values[i]));
		else
			fprintf(f, "  %15lld\n", (long long)values[i]);
	}
}

/* One character a month, scaled between the KPI's lowest and highest
 * value; a month without data is a blank. */
static void sparkline(FILE *f, const int64_t *bp, bool ascii)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char plain[] = "_.,-=+*#";
	int64_t lo = INT64_MAX, hi = -1;
	for (int i = 0; i < CHART_MONTHS; i++) {
		if (bp[i] < 0)
			continue;
		lo = bp[i] < lo ? bp[i] : lo;
		hi = bp[i] > hi ? bp[i] : hi;
	}
	for (int i = 0; i < CHART_MONTHS; i++) {
		if (bp[i] < 0) {
			fputc(' ', f);
			continue;
		}
		int level = hi > lo ? (int)((bp[i] - lo) * 7 / (hi - lo)) : 4;
		utf8_or_ascii(f, ascii, blocks[level], plain[level]);
	}
}

static const char *pct(struct pd_arena *a, int64_t bp)
{
	return bp < 0 ? "no data" : pd_sprintf(a, "%lld.%02lld %%", (long long)(bp / 100), (long long)(bp % 100));
}

void chart_print(FILE *f, const struct chart_history *h, bool ascii)
{
	struct pd_arena a;
	pd_arena_init(&a);
	fprintf(f, "%s\n", h->title);
	bar_panel(f, &a, h, "Waybills", h->waybills, false, ascii);
	bar_panel(f, &a, h, "Revenue (yuan)", h->revenue_fen, true, ascii);
	fprintf(f, "\nKPIs, one character a month from %s to %s (lowest to highest)\n",
		h->months[0], h->months[CHART_MONTHS - 1]);
	for (int k = 0; k < h->kpi_count; k++) {
		fprintf(f, "%-18s  ", h->kpi_names[k] ? h->kpi_names[k] : "");
		sparkline(f, h->kpi_bp[k], ascii);
		fprintf(f, "  last %s, target %s\n", pct(&a, h->kpi_bp[k][CHART_MONTHS - 1]),
			pct(&a, h->kpi_target_bp[k]));
	}
	pd_arena_free(&a);
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

static void svg_label(FILE *f, int x, int y, const char *anchor, const char *cls, const char *text)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
	xml_text(f, text);
	fputs("</text>\n", f);
}

static void svg_bars(FILE *f, struct pd_arena *a, const struct chart_history *h, int top,
		     const char *title, const int64_t *values, bool money)
{
	int left = 60, width = SVG_WIDTH - left - 20, height = SVG_BAR_PANEL - 60;
	int step = width / CHART_MONTHS, base = top + 30 + height;
	int64_t max = max_of(values, CHART_MONTHS);
	svg_label(f, 10, top + 18, "start", "title", title);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", left, base,
		left + width, base);
	for (int i = 0; i < CHART_MONTHS; i++) {
		int bh = max > 0 ? (int)(values[i] * height / max) : 0;
		int x = left + i * step + 4;
		fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"><title>", x,
			base - bh, step - 8, bh);
		xml_text(f, h->months[i]);
		fputs(": ", f);
		xml_text(f, money ? human_yuan(a, values[i]) : pd_sprintf(a, "%lld", (long long)values[i]));
		fputs("</title></rect>\n", f);
		svg_label(f, x + (step - 8) / 2, base + 14, "middle", "month", h->months[i] + 2);
		svg_label(f, x + (step - 8) / 2, base - bh - 3, "middle", "value",
			  money ? human_yuan(a, values[i]) : pd_sprintf(a, "%lld", (long long)values[i]));
	}
}

/* A KPI as a line over its months, and its target dashed; 90 % to 100 % of
 * the height (the targets sit there), lower values at the bottom edge. */
static void svg_kpi(FILE *f, struct pd_arena *a, const struct chart_history *h, int top, int k)
{
	int left = 200, width = SVG_WIDTH - left - 120, height = SVG_KPI_PANEL - 30;
	int step = width / (CHART_MONTHS - 1);
	int64_t lo = 9000, hi = 10000;
	if (h->kpi_target_bp[k] < lo) { /* an "at most" KPI: 0 % to twice its target */
		lo = 0;
		hi = h->kpi_target_bp[k] * 2 > 0 ? h->kpi_target_bp[k] * 2 : 100;
	}
#define Y(bp) (top + 10 + height - (int)(((bp) < lo ? 0 : (bp) > hi ? hi - lo : (bp) - lo) * height / (hi - lo)))
	svg_label(f, 10, top + 10 + height / 2, "start", "kpi", h->kpi_names[k] ? h->kpi_names[k] : "");
	fprintf(f, "<line class=\"target\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", left,
		Y(h->kpi_target_bp[k]), left + width, Y(h->kpi_target_bp[k]));
	fputs("<polyline class=\"kpi\" points=\"", f);
	for (int i = 0; i < CHART_MONTHS; i++)
		if (h->kpi_bp[k][i] >= 0)
			fprintf(f, "%d,%d ", left + i * step, Y(h->kpi_bp[k][i]));
	fputs("\"/>\n", f);
	svg_label(f, left + width + 10, top + 10 + height / 2, "start", "value",
		  pct(a, h->kpi_bp[k][CHART_MONTHS - 1]));
#undef Y
}

void chart_svg(FILE *f, const struct chart_history *h)
{
	struct pd_arena a;
	pd_arena_init(&a);
	int height = 40 + 2 * SVG_BAR_PANEL + h->kpi_count * SVG_KPI_PANEL + 30;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\">\n", SVG_WIDTH, height, SVG_WIDTH, height);
	fputs("<style>text{font-family:sans-serif;font-size:11px;fill:#333}"
	      ".title{font-size:15px;font-weight:bold}.bar{fill:#3b73b9}.axis{stroke:#999}"
	      ".kpi{fill:none;stroke:#3b73b9;stroke-width:2}.target{stroke:#c33;stroke-dasharray:4 3}"
	      ".month,.value{font-size:10px}</style>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_WIDTH, height);
	svg_label(f, 10, 24, "start", "title", h->title);
	svg_bars(f, &a, h, 40, "Waybills", h->waybills, false);
	svg_bars(f, &a, h, 40 + SVG_BAR_PANEL, "Revenue (yuan)", h->revenue_fen, true);
	int top = 40 + 2 * SVG_BAR_PANEL;
	svg_label(f, 10, top + 14, "start", "title", "KPIs (dashed: target)");
	for (int k = 0; k < h->kpi_count; k++)
		svg_kpi(f, &a, h, top + 20 + k * SVG_KPI_PANEL, k);
	fputs("</svg>\n", f);
	pd_arena_free(&a);
}

/* ---- fetching ---- */

/* "99.20" -> 9920; "" (no data) -> -1. */
static int64_t parse_bp(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	long long whole = strtoll(s, &end, 10), frac = 0;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9' && end[2] >= '0' && end[2] <= '9')
		frac = (end[1] - '0') * 10 + (end[2] - '0');
	return whole * 100 + frac;
}

static int64_t this_month(const struct pd_value *report, const char *figure)
{
	const struct pd_value *vol = pd_map_get(report, "volume");
	const struct pd_value *fig = vol ? pd_map_get(vol, figure) : NULL;
	int64_t v = 0;
	if (fig)
		pd_map_int(fig, "this_month", &v);
	return v;
}

/* Sends words + named, waits for a 200 with data; otherwise prints the
 * reply's status and returns the exit status. */
static int call(struct server_conn *c, struct pd_arena *a, const char *w1, const char *w2,
		struct pd_value *named, const struct pd_value **data)
{
	struct pd_request r = { .framing = PD_FRAMING_MSGPACK, .named = named };
	r.words[r.word_count++] = pd_str(a, w1);
	if (w2)
		r.words[r.word_count++] = pd_str(a, w2);
	struct pd_buf buf;
	pd_buf_init(&buf);
	request_encode(&r, &buf);
	struct pd_reply rep;
	struct client_error err;
	int rc = conn_call(c, &buf, a, &rep, &err);
	pd_buf_free(&buf);
	if (rc < 0) {
		fprintf(stderr, "parceldesk: %s\n", err.msg);
		return EXIT_TROUBLE;
	}
	if (rep.code != 200 || !rep.data) {
		fprintf(stderr, "parceldesk: %03d %s\n", rep.code, rep.msg ? rep.msg : "");
		return EXIT_REPLY_ERROR;
	}
	*data = rep.data;
	return EXIT_REPLY_OK;
}

static int month_index(int y, int m)
{
	return y * 12 + m - 1;
}

int chart_run(struct server_conn *c, const struct pd_request *req, const struct chart_options *o)
{
	struct pd_arena a;
	pd_arena_init(&a);
	struct chart_history h;
	memset(&h, 0, sizeof(h));
	const struct pd_value *data;
	/* the report as asked says which month ends the history */
	int status = call(c, &a, "REPORT", "MONTH", req->named, &data);
	int y, m;
	const char *last = status ? NULL : pd_map_str(data, "month");
	if (!status && (!last || sscanf(last, "%d-%d", &y, &m) != 2)) {
		fprintf(stderr, "parceldesk: the report names no month\n");
		status = EXIT_TROUBLE;
	}
	const char *customer = pd_map_str(req->named, "customer"), *depot = pd_map_str(req->named, "depot");
	if (!status)
		snprintf(h.title, sizeof(h.title), "Twelve months to %s: %s%s%s", last,
			 customer ? "customer " : depot ? "depot " : "network",
			 customer ? customer : "", !customer && depot ? depot : "");
	for (int i = 0; i < CHART_MONTHS && !status; i++) {
		int idx = month_index(y, m) - (CHART_MONTHS - 1) + i;
		snprintf(h.months[i], sizeof(h.months[i]), "%04d-%02d", idx / 12 % 10000, idx % 12 + 1);
		struct pd_value *named = pd_map(&a);
		if (customer)
			pd_map_set_str(&a, named, "customer", customer);
		if (depot)
			pd_map_set_str(&a, named, "depot", depot);
		pd_map_set_str(&a, named, "month", h.months[i]);
		if ((status = call(c, &a, "REPORT", "MONTH", named, &data)))
			break;
		h.waybills[i] = this_month(data, "waybills");
		h.revenue_fen[i] = this_month(data, "revenue_fen");
		if ((status = call(c, &a, "KPI", NULL, named, &data)))
			break;
		int k = 0;
		for (struct pd_entry *e = data->type == PD_ARR ? data->u.c.head : NULL; e && k < CHART_KPIS;
		     e = e->next, k++) {
			const char *name = pd_map_str(e->val, "kpi");
			h.kpi_names[k] = name ? pd_strdup(&a, name) : "";
			h.kpi_bp[k][i] = parse_bp(pd_map_str(e->val, "value_pct"));
			h.kpi_target_bp[k] = parse_bp(pd_map_str(e->val, "target_pct"));
		}
		if (k > h.kpi_count)
			h.kpi_count = k;
	}
	if (!status && o->chart)
		chart_print(stdout, &h, o->ascii);
	if (!status && o->svg) {
		FILE *f = fopen(o->svg, "w");
		if (!f) {
			perror(o->svg);
			status = EXIT_TROUBLE;
		} else {
			chart_svg(f, &h);
			if (fclose(f) != 0) {
				perror(o->svg);
				status = EXIT_TROUBLE;
			}
		}
	}
	pd_arena_free(&a);
	return status;
}
