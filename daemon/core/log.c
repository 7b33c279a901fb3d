/* log.c — one line per event on stderr, and syslog when asked. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"

static bool use_syslog;

void log_open(bool syslog_too)
{
	use_syslog = syslog_too;
	if (use_syslog)
		openlog("parceldeskd", LOG_PID, LOG_DAEMON);
}

void log_msg(const char *level, uint64_t conn_id, const char *user,
	     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s conn=%llu user=%s %s\n", ts, level,
		(unsigned long long)conn_id, user && *user ? user : "-", msg);
	if (use_syslog) {
		int pri = level[0] == 'e' ? LOG_ERR : level[0] == 'w' ? LOG_WARNING : LOG_INFO;
		syslog(pri, "%s conn=%llu user=%s %s", level, (unsigned long long)conn_id,
		       user && *user ? user : "-", msg);
	}
}
