/* client.h — what every part of the parceldesk client shares: the options
 * the user chose, the exit statuses scripts rely on, and the error value that
 * carries a message up to whoever prints it. */
#ifndef PD_CLIENT_H
#define PD_CLIENT_H

#include <stdbool.h>

/* Exit statuses (documented in parceldesk(1)): scripts tell "the daemon said
 * no" apart from "we never got an answer". */
enum {
	EXIT_REPLY_OK = 0,    /* every reply was 2xx */
	EXIT_REPLY_ERROR = 1, /* at least one reply was 4xx or 5xx */
	EXIT_TROUBLE = 2,     /* usage, connection or local argument errors */
};

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "7420"

enum output_format {
	OUTPUT_HUMAN, /* status line, aligned records, tables */
	OUTPUT_JSON,  /* one JSON object a reply, one a line */
	OUTPUT_RAW,   /* the text protocol's rendering, byte for byte */
	OUTPUT_CSV,   /* the data alone, as CSV for spreadsheets */
};

struct client_options {
	const char *host;
	const char *port;
	const char *user;     /* NULL: do not log in */
	const char *password;
	enum output_format format;
	bool tls;             /* TLS to the daemon */
	const char *tls_ca;   /* the CA its certificate is checked against
				 (NULL: the system's) */
};

/* An error on its way to the user; functions return -1 and fill it. */
struct client_error {
	char msg[512];
};

void client_error_set(struct client_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
