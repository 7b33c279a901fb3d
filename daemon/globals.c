/* globals.c — the daemon's three process-wide objects, apart from main()
 * so unit tests and contrib tools link the daemon's modules without it. */
#include "daemon.h"

struct stats g_stats;
struct config g_config;
struct store g_store;
