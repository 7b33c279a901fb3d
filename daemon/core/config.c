/* config.c — options: the table (from options.def), defaults, file,
 * command line, validation. */
#include "config.h"
#include "daemon.h" /* log_level_rank */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_kind { OPT_STR, OPT_INT, OPT_FLAG };

struct option_desc {
	const char *name;
	enum opt_kind kind;
	size_t offset, size;
	int64_t min, max;
	int64_t def;          /* OPT_INT, OPT_FLAG */
	const char *def_str;  /* OPT_STR */
};

#define FIELD_SIZE(n) sizeof(((struct config *)0)->n)
#define STR_OPT(n, size, d) { #n, OPT_STR, offsetof(struct config, n), FIELD_SIZE(n), 0, 0, 0, d },
#define INT_OPT(n, lo, hi, d) { #n, OPT_INT, offsetof(struct config, n), 0, lo, hi, d, NULL },
#define FLAG_OPT(n, d) { #n, OPT_FLAG, offsetof(struct config, n), 0, 0, 1, d, NULL },

static const struct option_desc options[] = {
#include "options.def"
};

#undef STR_OPT
#undef INT_OPT
#undef FLAG_OPT

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

void config_default(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option_desc *o = &options[i];
		char *field = (char *)c + o->offset;
		if (o->kind == OPT_STR)
			snprintf(field, o->size, "%s", o->def_str);
		else if (o->kind == OPT_FLAG)
			*field = (char)o->def;
		else
			*(int64_t *)field = o->def;
	}
}

static const struct option_desc *find_option(const char *key)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (strcmp(options[i].name, key) == 0)
			return &options[i];
	return NULL;
}

int config_set(struct config *c, const char *key, const char *value)
{
	const struct option_desc *o = find_option(key);
	if (!o) {
		fprintf(stderr, "parceldeskd: unknown option '%s'\n", key);
		return -1;
	}
	char *field = (char *)c + o->offset;
	if (o->kind == OPT_STR) {
		if (strlen(value) >= o->size) {
			fprintf(stderr, "parceldeskd: option '%s' is too long\n", key);
			return -1;
		}
		strcpy(field, value);
		return 0;
	}
	if (o->kind == OPT_FLAG) {
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*field = 0;
		else {
			fprintf(stderr, "parceldeskd: option '%s' must be yes or no\n", key);
			return -1;
		}
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno || end == value || *end || v < o->min || v > o->max) {
		fprintf(stderr, "parceldeskd: option '%s' must be an integer from %lld to %lld\n",
			key, (long long)o->min, (long long)o->max);
		return -1;
	}
	*(int64_t *)field = v;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "parceldeskd: cannot open config %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "parceldeskd: %s:%d: expected 'key = value'\n", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (config_set(c, trim(s), trim(eq + 1)) < 0) {
			fprintf(stderr, "parceldeskd: in %s:%d\n", path, lineno);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int check_host_port(const char *name, const char *value)
{
	const char *colon = strrchr(value, ':');
	if (!colon || colon == value || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
		fprintf(stderr, "parceldeskd: %s must be HOST:PORT, got '%s'\n", name, value);
		return -1;
	}
	return 0;
}

int config_validate(const struct config *c)
{
	if (check_host_port("listen", c->listen) < 0 ||
	    (c->metrics_listen[0] && check_host_port("metrics_listen", c->metrics_listen) < 0))
		return -1;
	if (!c->data_dir[0]) {
		fprintf(stderr, "parceldeskd: data_dir is empty\n");
		return -1;
	}
	if (log_level_rank(c->log_level) < 0) {
		fprintf(stderr, "parceldeskd: log_level must be debug, info, warn or error, got '%s'\n",
			c->log_level);
		return -1;
	}
	if (c->tls_required && !c->tls_cert[0]) {
		fprintf(stderr, "parceldeskd: tls_required needs tls_cert and tls_key\n");
		return -1;
	}
	if (c->max_frame_bytes < 256 || c->max_line_bytes < 256)
		return -1;
	return 0;
}

void config_each(const struct config *c,
		 void (*fn)(void *ud, const char *key, const char *value),
		 void *ud)
{
	char buf[64];
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const struct option_desc *o = &options[i];
		const char *field = (const char *)c + o->offset;
		if (!strcmp(o->name, "admin_password_file"))
			continue;
		if (o->kind == OPT_STR) {
			fn(ud, o->name, field);
		} else if (o->kind == OPT_FLAG) {
			fn(ud, o->name, *field ? "yes" : "no");
		} else {
			snprintf(buf, sizeof(buf), "%lld", (long long)*(const int64_t *)field);
			fn(ud, o->name, buf);
		}
	}
}
