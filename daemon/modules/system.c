/* system.c — PING, HELP, QUIT, STATS, BACKUP, CLOCK. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wal.h"
#include "daemon.h"
#include "help.h"
#include "repl.h"
#include "timefmt.h"
#include "version.h"
#include "waybill.h"

int cmd_ping(struct cmd_ctx *ctx)
{
	reply_ok(ctx, 200, "PONG");
	return 0;
}

int cmd_quit(struct cmd_ctx *ctx)
{
	ctx->fx.close_after = true;
	reply_ok(ctx, 200, "bye");
	return 0;
}

static struct pd_value *arg_description(struct cmd_ctx *ctx, const struct pd_arg_spec *s)
{
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "name", s->name);
	pd_map_set_str(ctx->a, r, "type", pd_arg_type_name(s->type));
	pd_map_set_bool(ctx->a, r, "required", s->required);
	pd_map_set_bool(ctx->a, r, "positional", s->positional);
	if (s->type == ARG_ENUM) {
		struct pd_value *vals = pd_arr(ctx->a);
		for (int i = 0; i < s->enum_count; i++)
			pd_arr_push(ctx->a, vals, pd_str(ctx->a, s->enum_values[i]));
		pd_map_set(ctx->a, r, "values", vals);
	}
	return r;
}

static struct pd_value *command_description(struct cmd_ctx *ctx,
					    const struct pd_command *c, bool full)
{
	struct pd_value *r = pd_map(ctx->a);
	pd_map_set_str(ctx->a, r, "command", c->sub ? pd_sprintf(ctx->a, "%s %s", c->word, c->sub) : c->word);
	pd_map_set_str(ctx->a, r, "args", c->args);
	pd_map_set_str(ctx->a, r, "role", pd_role_name(c->role));
	pd_map_set_str(ctx->a, r, "kind", (c->flags & CMD_WRITE) ? "write" : "read");
	pd_map_set_str(ctx->a, r, "help", c->help);
	if (full) {
		struct pd_value *args = pd_arr(ctx->a);
		for (int i = 0; i < c->arg_count; i++)
			pd_arr_push(ctx->a, args, arg_description(ctx, &c->arg[i]));
		if (c->flags & CMD_WRITE) {
			struct pd_arg_spec req = { .name = "req", .type = ARG_WORD };
			pd_arr_push(ctx->a, args, arg_description(ctx, &req));
		}
		pd_map_set(ctx->a, r, "arguments", args);
	}
	return r;
}

int cmd_help(struct cmd_ctx *ctx)
{
	const char *word = pd_arg_str(ctx->args, "command");
	const char *sub = pd_arg_str(ctx->args, "sub");
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	struct pd_value *list = pd_arr(ctx->a);
	for (size_t i = 0; i < n; i++) {
		if (word && strcasecmp(word, t[i].word) != 0)
			continue;
		if (sub && (!t[i].sub || strcasecmp(sub, t[i].sub) != 0))
			continue;
		pd_arr_push(ctx->a, list, command_description(ctx, &t[i], word != NULL));
	}
	if (list->u.c.count == 0)
		return reply_error(ctx, 404, "no command %s%s%s", word, sub ? " " : "", sub ? sub : "");
	ctx->rep->data = list;
	ctx->rep->text = pd_help_text(ctx->a, list); /* a terminal gets lines */
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)list->u.c.count, "command", "commands"));
	return 0;
}

static void add_config_field(void *ud, const char *key, const char *value)
{
	void **pair = ud;
	struct cmd_ctx *ctx = pair[0];
	pd_map_set_str(ctx->a, pair[1], pd_sprintf(ctx->a, "config.%s", key), value);
}

int cmd_stats(struct cmd_ctx *ctx)
{
	struct pd_arena *a = ctx->a;
	struct pd_value *d = pd_map(a);
	pd_map_set_str(a, d, "daemon_version", pd_version());
	pd_map_set_int(a, d, "uptime_secs", (int64_t)time(NULL) - g_stats.started_at);
	map_set_time(ctx, d, "now", ctx->now);
	pd_map_set_int(a, d, "connections_current", (int64_t)atomic_load(&g_stats.connections_current));
	pd_map_set_int(a, d, "connections_total", (int64_t)atomic_load(&g_stats.connections_total));
	pd_map_set_int(a, d, "connections_rejected", (int64_t)atomic_load(&g_stats.connections_rejected));
	pd_map_set_int(a, d, "heap_trims", (int64_t)stat_sum(&g_stats.loop[0].heap_trims));
	pd_map_set_int(a, d, "requests_text", (int64_t)stat_sum(&g_stats.loop[0].requests_text));
	pd_map_set_int(a, d, "requests_msgpack", (int64_t)stat_sum(&g_stats.loop[0].requests_msgpack));
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = stat_sum(&g_stats.loop[0].commands[i]);
		if (v)
			pd_map_set_int(a, d, pd_sprintf(a, "cmd.%s%s%s", t[i].word, t[i].sub ? "_" : "",
							 t[i].sub ? t[i].sub : ""),
				       (int64_t)v);
	}
	for (int code = 400; code < 600; code++) {
		uint64_t v = stat_sum(&g_stats.loop[0].errors_by_code[code]);
		if (v)
			pd_map_set_int(a, d, pd_sprintf(a, "errors.%d", code), (int64_t)v);
	}
	uint64_t groups = atomic_load(&g_stats.writer_groups);
	uint64_t jobs = atomic_load(&g_stats.writer_jobs);
	pd_map_set_int(a, d, "writer_groups", (int64_t)groups);
	pd_map_set_int(a, d, "writer_jobs", (int64_t)jobs);
	/* average group size in hundredths: integers only on the wire */
	pd_map_set_str(a, d, "writer_avg_group",
		       pd_sprintf(a, "%llu.%02llu",
				  (unsigned long long)(groups ? jobs / groups : 0),
				  (unsigned long long)(groups ? (jobs * 100 / groups) % 100 : 0)));
	pd_map_set_int(a, d, "writer_max_group", (int64_t)atomic_load(&g_stats.writer_max_group));
	pd_map_set_int(a, d, "writer_reruns", (int64_t)atomic_load(&g_stats.writer_reruns));
	pd_map_set_int(a, d, "writer_wait_usec", (int64_t)atomic_load(&g_stats.writer_wait_usec));
	pd_map_set_int(a, d, "writer_apply_usec", (int64_t)atomic_load(&g_stats.writer_apply_usec));
	pd_map_set_int(a, d, "writer_commit_usec", (int64_t)atomic_load(&g_stats.writer_commit_usec));
	pd_map_set_int(a, d, "writer_handback_usec", (int64_t)atomic_load(&g_stats.writer_handback_usec));
	pd_map_set_int(a, d, "commit_seq", (int64_t)atomic_load(&g_stats.commit_seq));
	struct wal_stats ws;
	wal_stats(&ws);
	pd_map_set_int(a, d, "wal_appends", (int64_t)ws.appends);
	pd_map_set_int(a, d, "wal_bytes", (int64_t)ws.bytes);
	pd_map_set_int(a, d, "wal_checkpoints", (int64_t)ws.checkpoints);
	pd_map_set_int(a, d, "wal_checkpoint_seq", (int64_t)ws.checkpoint_seq);
	pd_map_set_int(a, d, "wal_checkpoint_usec", ws.checkpoint_usec);
	pd_map_set_int(a, d, "wal_replayed", (int64_t)ws.replayed);
	pd_map_set_str(a, d, "wal_error", wal_failed() ? wal_failed() : "");
	pd_map_set_int(a, d, "store_used_bytes", (int64_t)store_used_bytes(ctx->st));
	pd_map_set_int(a, d, "store_map_bytes", (int64_t)ctx->st->map_size);
	pd_map_set_int(a, d, "store_map_grows", (int64_t)atomic_load(&ctx->st->grows));
	pd_map_set_int(a, d, "store_map_grows_ahead", (int64_t)atomic_load(&ctx->st->grows_ahead));
	pd_map_set_str(a, d, "store_prefault", store_prefault_state(ctx->st));
	pd_map_set_int(a, d, "store_prefaulted_bytes", (int64_t)store_prefaulted_bytes(ctx->st));
	pd_map_set_int(a, d, "store_prefault_read_bytes", (int64_t)store_prefault_read_bytes(ctx->st));
	MDB_stat s;
	if (mdb_stat(ctx->txn, ctx->st->waybills, &s) == 0)
		pd_map_set_int(a, d, "waybills", (int64_t)s.ms_entries);
	/* in `events` and in the waybills' values (waybill.h) */
	uint64_t events;
	if (waybill_events_total(ctx->txn, ctx->st, &events) == 0)
		pd_map_set_int(a, d, "events", (int64_t)events);
	if (mdb_stat(ctx->txn, ctx->st->queries, &s) == 0)
		pd_map_set_int(a, d, "queries", (int64_t)s.ms_entries);
	repl_stats(a, d);
	void *pair[2] = { ctx, d };
	config_each(ctx->cfg, add_config_field, pair);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "ok");
	return 0;
}

/* The promotion is the replication thread's; the loop parked the request
 * until it was over (conn.c), so this is its outcome. */
int cmd_promote(struct cmd_ctx *ctx)
{
	char msg[240];
	int code = repl_promote_answer(msg, sizeof(msg));
	if (code != 200)
		return reply_error(ctx, code, "%s", msg);
	return reply_ok(ctx, 200, "%s", msg);
}

/* Removes a backup being written (its files, then the directory). */
static void remove_partial(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* A backup is written under a temporary name (".NAME.tmp": no backup name
 * starts with '.'), made durable, and only then renamed to NAME, so NAME is
 * always a complete copy; a failed one (a full disk) leaves nothing behind
 * and a retry can take the name. Copies a killed daemon left half-written
 * are removed at its next start (backup_remove_partial). */
void backup_remove_partial(const char *data_dir)
{
	char dir[1024], path[1400];
	snprintf(dir, sizeof(dir), "%s/backups", data_dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] != '.' || n < 5 || strcmp(e->d_name + n - 4, ".tmp") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		remove_partial(path);
		log_msg("warn", 0, NULL, "removed the incomplete backup %s", path);
	}
	closedir(d);
}

/* Runs on the bulk thread: a compacting copy reads the whole store. */
int cmd_backup(struct cmd_ctx *ctx)
{
	const char *name = pd_arg_str(ctx->args, "name");
	char dir[1024], tmp[1100], final[1100], file[1200], stamp[32];
	if (!name) {
		time_t t = (time_t)ctx->now;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		name = stamp;
	}
	if (strchr(name, '/') || name[0] == '.')
		return reply_error(ctx, 400, "backup name must not hold '/' or start with '.'");
	snprintf(dir, sizeof(dir), "%s/backups", ctx->cfg->data_dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return reply_error(ctx, 500, "cannot create %s: %s", dir, strerror(errno));
	snprintf(final, sizeof(final), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	struct stat sb;
	if (lstat(final, &sb) == 0)
		return reply_error(ctx, 409, "cannot create %s: %s", final, strerror(EEXIST));
	remove_partial(tmp);
	if (mkdir(tmp, 0750) < 0)
		return reply_error(ctx, 500, "cannot create %s: %s", tmp, strerror(errno));
	snprintf(file, sizeof(file), "%s/data.mdb", tmp);
	int rc = mdb_env_copy2(ctx->st->env, tmp, MDB_CP_COMPACT);
	if (!rc && (fsync_path(file) < 0 || fsync_path(tmp) < 0 ||
		    rename(tmp, final) < 0 || fsync_path(dir) < 0))
		rc = errno;
	if (rc) {
		remove_partial(tmp);
		log_msg("error", ctx->sess->conn_id, ctx->sess->user, "backup %s failed: %s",
			final, mdb_strerror(rc));
		return reply_error(ctx, store_full_errno(rc) ? 503 : 500,
				   "backup failed, nothing kept: %s", mdb_strerror(rc));
	}
	snprintf(file, sizeof(file), "%s/data.mdb", final);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_str(ctx->a, d, "path", final);
	pd_map_set_int(ctx->a, d, "bytes", stat(file, &sb) == 0 ? (int64_t)sb.st_size : 0);
	ctx->rep->data = d;
	log_msg("info", ctx->sess->conn_id, ctx->sess->user, "backup written to %s", final);
	reply_ok(ctx, 200, "backup written");
	return 0;
}

int cmd_clock_get(struct cmd_ctx *ctx)
{
	struct pd_value *d = pd_map(ctx->a);
	map_set_time(ctx, d, "now", ctx->now);
	pd_map_set_int(ctx->a, d, "utc_secs", ctx->now);
	pd_map_set_str(ctx->a, d, "timezone", ctx->cfg->timezone);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "ok");
	return 0;
}

int cmd_clock_set(struct cmd_ctx *ctx)
{
	if (!ctx->cfg->enable_test_clock)
		return reply_error(ctx, 403, "the clock is set only when the daemon runs with --enable-test-clock");
	int64_t t;
	pd_arg_int(ctx->args, "time", &t);
	clock_set(t);
	ctx->now = t;
	ctx->fx.timers_changed = true; /* due times may have come */
	log_msg("warn", ctx->sess->conn_id, ctx->sess->user, "clock set to %lld", (long long)t);
	cmd_clock_get(ctx);
	return 0;
}
