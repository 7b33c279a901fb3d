/* config.h — every option of parceldeskd in one struct, built from the
 * rows of options.def (name, bounds, default): set to the defaults
 * (config_default), filled from the config file then the command line,
 * checked once at start (config_validate, then each module's setup checks
 * the rules it builds from them), shown by STATS. */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config {
#define STR_OPT(name, size, def) char name[size];
#define INT_OPT(name, lo, hi, def) int64_t name;
#define FLAG_OPT(name, def) char name;
#include "options.def"
#undef STR_OPT
#undef INT_OPT
#undef FLAG_OPT
};

/* Every option at its default (the last column of options.def). */
void config_default(struct config *c);
/* Reads "key = value" lines ('#' comments). Returns 0 or -1 with a message
 * on stderr naming the file and line. */
int config_load_file(struct config *c, const char *path);
/* Sets one option by its config-file name. Returns 0 or -1. */
int config_set(struct config *c, const char *key, const char *value);
int config_validate(const struct config *c);

/* Calls fn for every option, rendered as text (for STATS). */
void config_each(const struct config *c,
		 void (*fn)(void *ud, const char *key, const char *value),
		 void *ud);

#endif
