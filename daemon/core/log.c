/* log.c — one line per event on stderr (or the --log-file), and syslog
 * when asked; lines below --log-level are dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static const char *const level_names[] = { "debug", "info", "warn", "error" };

static bool use_syslog;
static int min_level = 1;        /* info */
static int log_fd = STDERR_FILENO;
static const char *log_path;     /* g_config's, set once by log_open */

int log_level_rank(const char *name)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
		if (!strcmp(name, level_names[i]))
			return i;
	return -1;
}

static int open_log_file(void)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		fprintf(stderr, "parceldeskd: cannot open log file %s: %s\n", log_path, strerror(errno));
	return fd;
}

int log_open(const struct config *cfg)
{
	use_syslog = cfg->log_syslog;
	min_level = log_level_rank(cfg->log_level);
	if (min_level < 0)
		min_level = 1;
	if (use_syslog)
		openlog("parceldeskd", LOG_PID, LOG_DAEMON);
	if (cfg->log_file[0]) {
		log_path = cfg->log_file;
		log_fd = open_log_file();
		if (log_fd < 0)
			return -1;
	}
	return 0;
}

/* The new file takes the old one's descriptor number (dup2 is atomic), so a
 * line written meanwhile by another thread goes to one file or the other. */
void log_reopen(void)
{
	if (!log_path) {
		log_msg("info", 0, NULL, "SIGHUP: no log file to reopen");
		return;
	}
	int fd = open_log_file();
	if (fd < 0) {
		log_msg("error", 0, NULL, "SIGHUP: cannot reopen %s: %s; still writing the old file",
			log_path, strerror(errno));
		return;
	}
	dup2(fd, log_fd);
	close(fd);
	log_msg("info", 0, NULL, "SIGHUP: log file %s reopened", log_path);
}

void log_msg(const char *level, uint64_t conn_id, const char *user,
	     const char *fmt, ...)
{
	int rank = log_level_rank(level);
	if (rank >= 0 && rank < min_level)
		return;
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
	char line[700];
	int n = snprintf(line, sizeof(line), "%s %s conn=%llu user=%s %s\n", ts, level,
			 (unsigned long long)conn_id, user && *user ? user : "-", msg);
	if (n >= (int)sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* one write(2) a line: lines of the loop and the writer never mix */
	if (write(log_fd, line, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
	if (use_syslog) {
		int pri = rank == 3 ? LOG_ERR : rank == 2 ? LOG_WARNING : rank == 0 ? LOG_DEBUG : LOG_INFO;
		syslog(pri, "%s conn=%llu user=%s %s", level, (unsigned long long)conn_id,
		       user && *user ? user : "-", msg);
	}
}
