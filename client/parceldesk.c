/* parceldesk.c — the thin client: options, then one of three modes.
 *   one-shot:    parceldesk waybill get 986825   (words after the options)
 *   interactive: no words, standard input is a terminal
 *   pipe:        no words, standard input is not a terminal
 * Everything goes to the daemon as msgpack; see parceldesk(1). */
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chart.h"
#include "client.h"
#include "connection.h"
#include "interactive.h"
#include "output.h"
#include "pipe_mode.h"
#include "request_build.h"
#include "session.h"
#include "version.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: parceldesk [-h HOST] [-p PORT] [-u USER] [-P PASSWORD]\n"
		"                  [--json | --raw | --human | --csv] [COMMAND WORD... [name=value...]]\n"
		"  -h, --host HOST          daemon address (default " DEFAULT_HOST ")\n"
		"  -p, --port PORT          daemon port (default " DEFAULT_PORT ")\n"
		"  -u, --user USER          log in as USER (or PARCELDESK_USER)\n"
		"  -P, --password PASSWORD  password (better: PARCELDESK_PASSWORD)\n"
		"      --json               one JSON object a reply\n"
		"      --raw                the text protocol's reply, as telnet shows it\n"
		"      --human              tables, even when output is not a terminal\n"
		"      --csv                the reply's data as CSV (status of errors on stderr)\n"
		"      --tls                TLS to the daemon (its certificate is checked)\n"
		"      --tls-ca FILE        check it against this CA (implies --tls)\n"
		"      --version            print the version and exit\n"
		"report month [month=YYYY-MM] [customer=|depot=] --chart [--ascii] [--svg FILE]:\n"
		"  the twelve months up to it as bars and sparklines (--ascii: plain ASCII;\n"
		"  --svg: the same charts written to FILE as SVG).\n"
		"agenda: the contacts due this week for you, the overdue marked.\n"
		"With a command: send it, print the reply, exit 0 (2xx) or 1 (4xx/5xx).\n"
		"Without: a prompt on a terminal, else one command a line from stdin.\n"
		"name_yuan=12.50 is sent as name_fen=1250. See parceldesk(1).\n");
}

static bool is_port(const char *s)
{
	long port = 0;
	if (!*s || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

/* Asks on the terminal itself, never on standard input, which may be the
 * commands of pipe mode. NULL when there is no terminal to ask on. */
static const char *ask_password(const char *user)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	close(fd);
	char prompt[128];
	snprintf(prompt, sizeof(prompt), "password for %s: ", user);
	return getpass(prompt);
}

enum { OPT_JSON = 256, OPT_RAW, OPT_HUMAN, OPT_CSV, OPT_HELP, OPT_TLS, OPT_TLS_CA, OPT_VERSION };

/* Fills opt from the command line and the environment; returns the index of
 * the first command word, or -1 after a usage message. */
static int parse_options(int argc, char **argv, struct client_options *opt)
{
	static const struct option long_options[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "human", no_argument, NULL, OPT_HUMAN },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	bool format_given = false;
	opt->host = DEFAULT_HOST;
	opt->port = DEFAULT_PORT;
	opt->tls = false;
	opt->tls_ca = NULL;
	opt->user = getenv("PARCELDESK_USER");
	opt->password = getenv("PARCELDESK_PASSWORD");
	int ch;
	/* "+": options end at the first command word, so a value such as
	 * "-5" after it is never taken for an option */
	while ((ch = getopt_long(argc, argv, "+h:p:u:P:", long_options, NULL)) != -1) {
		switch (ch) {
		case 'h': opt->host = optarg; break;
		case 'p': opt->port = optarg; break;
		case 'u': opt->user = optarg; break;
		case 'P': opt->password = optarg; break;
		case OPT_JSON:
		case OPT_RAW:
		case OPT_HUMAN:
		case OPT_CSV:
			if (format_given) {
				fprintf(stderr, "parceldesk: choose one of --json, --raw, --human, --csv\n");
				return -1;
			}
			format_given = true;
			opt->format = ch == OPT_JSON ? OUTPUT_JSON : ch == OPT_RAW ? OUTPUT_RAW
				    : ch == OPT_CSV ? OUTPUT_CSV : OUTPUT_HUMAN;
			break;
		case OPT_TLS: opt->tls = true; break;
		case OPT_TLS_CA: opt->tls = true; opt->tls_ca = optarg; break;
		case OPT_HELP:
			usage(stdout);
			exit(EXIT_REPLY_OK);
		case OPT_VERSION:
			printf("parceldesk %s\n", pd_version());
			exit(EXIT_REPLY_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!is_port(opt->port)) {
		fprintf(stderr, "parceldesk: bad port '%s'\n", opt->port);
		return -1;
	}
	if (opt->user && !*opt->user)
		opt->user = NULL;
	if (opt->user && !opt->password && !(opt->password = ask_password(opt->user))) {
		fprintf(stderr, "parceldesk: a password for %s is needed: -P or "
			"PARCELDESK_PASSWORD\n", opt->user);
		return -1;
	}
	if (!format_given)
		opt->format = isatty(STDOUT_FILENO) ? OUTPUT_HUMAN : OUTPUT_RAW;
	return optind;
}

static int run_one_shot(struct server_conn *c, const struct pd_request *req,
			struct output *o)
{
	struct pd_buf request;
	struct pd_arena a;
	struct pd_reply r;
	struct client_error err;
	int status;
	pd_buf_init(&request);
	pd_arena_init(&a);
	request_encode(req, &request);
	if (conn_call(c, &request, &a, &r, &err) < 0) {
		fprintf(stderr, "parceldesk: %s\n", err.msg);
		status = EXIT_TROUBLE;
	} else {
		output_reply(o, &r);
		status = r.code >= 200 && r.code <= 299 ? EXIT_REPLY_OK : EXIT_REPLY_ERROR;
	}
	pd_arena_free(&a);
	pd_buf_free(&request);
	return status;
}

int main(int argc, char **argv)
{
	struct client_options opt;
	/* the chart options may stand before the command or among its words */
	struct chart_options chart = { 0 };
	int args = argc - 1;
	if (chart_take_options(&args, argv + 1, &chart) < 0)
		return EXIT_TROUBLE;
	argc = args + 1;
	int first_word = parse_options(argc, argv, &opt);
	if (first_word < 0)
		return EXIT_TROUBLE;
	if (opt.format == OUTPUT_HUMAN)
		setlocale(LC_CTYPE, ""); /* for the width of wide characters */
	struct output o;
	output_init(&o, opt.format);

	/* a one-shot request is checked before connecting: a bad amount sends
	 * nothing at all */
	struct pd_arena request_arena;
	struct pd_request req;
	struct client_error err;
	pd_arena_init(&request_arena);
	int words = argc - first_word;
	bool one_shot = words > 0;
	struct typed_yuan yuan;
	if (one_shot && (request_from_argv(&request_arena, words, argv + first_word, &req, &yuan, &err) < 0 ||
			 request_expand_agenda(&request_arena, &req, opt.user, &err) < 0)) {
		fprintf(stderr, "parceldesk: %s (nothing sent)\n", err.msg);
		pd_arena_free(&request_arena);
		return EXIT_TROUBLE;
	}
	bool charted = chart.chart || chart.svg;
	if (charted && !(one_shot && req.word_count == 2 && request_names(&req, "report") &&
			 req.words[1]->type == PD_STR && strcasecmp(req.words[1]->u.s.ptr, "month") == 0)) {
		fprintf(stderr, "parceldesk: --chart, --ascii and --svg go with report month\n");
		pd_arena_free(&request_arena);
		return EXIT_TROUBLE;
	}

	if (one_shot)
		o.yuan = &yuan;
	struct server_conn c;
	conn_init(&c);
	int status;
	switch (session_open(&c, &opt, &err)) {
	case SESSION_READY:
		if (charted) { /* the charts; with --svg alone, the report and its SVG */
			status = chart.chart ? EXIT_REPLY_OK : run_one_shot(&c, &req, &o);
			if (status == EXIT_REPLY_OK)
				status = chart_run(&c, &req, &chart);
		} else if (one_shot)
			status = run_one_shot(&c, &req, &o);
		else if (isatty(STDIN_FILENO))
			status = interactive_run(&c, &opt, &o);
		else
			status = pipe_mode_run(&c, STDIN_FILENO, &o);
		break;
	case SESSION_LOGIN_REFUSED:
		fprintf(stderr, "parceldesk: %s\n", err.msg);
		status = EXIT_REPLY_ERROR;
		break;
	default:
		fprintf(stderr, "parceldesk: %s\n", err.msg);
		status = EXIT_TROUBLE;
		break;
	}
	conn_close(&c);
	pd_arena_free(&request_arena);
	return status;
}
