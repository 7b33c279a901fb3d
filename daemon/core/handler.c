/* handler.c — what every handler answers with: the reply helpers, the
 * names of result codes, and stored records as a reply shows them. Apart
 * from dispatch.c (the handler table) so that the modules depend on it and
 * it on none of them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "daemon.h"

const char *pd_strerror(int rc)
{
	if (rc == PD_EREPLIED)
		return "refused (see the reply)";
	if (rc == PD_EUNDO)
		return "failed after writing in its group's transaction (see the reply)";
	return mdb_strerror(rc); /* LMDB's codes and errno values */
}

int reply_ok_msg(struct cmd_ctx *ctx, int code, char *msg)
{
	pd_utf8_sanitize(msg); /* a message may quote, or cut, user input */
	ctx->rep->code = code;
	ctx->rep->msg = msg;
	return 0;
}

static void reply_vset(struct cmd_ctx *ctx, int code, const char *fmt, va_list ap)
{
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	reply_ok_msg(ctx, code, pd_strdup(ctx->a, msg));
}

int reply_ok(struct cmd_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_vset(ctx, code, fmt, ap);
	va_end(ap);
	return 0;
}

int reply_error(struct cmd_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_vset(ctx, code, fmt, ap);
	va_end(ap);
	ctx->rep->data = NULL;
	ctx->rep->packed = NULL;
	return PD_EREPLIED;
}

const char *count_of(struct cmd_ctx *ctx, int64_t n, const char *one, const char *many)
{
	return pd_sprintf(ctx->a, "%lld %s", (long long)n, n == 1 ? one : many);
}

int reply_store_error(struct cmd_ctx *ctx, int rc)
{
	if (rc == PD_EREPLIED)
		return rc; /* refused by a helper, which replied */
	if (rc == EOVERFLOW) /* store_counter_add(): nothing written */
		return reply_error(ctx, 422, "amount out of range: a running total kept by the desk "
					     "would pass %lld fen", (long long)INT64_MAX);
	ctx->store_rc = rc;
	bool full = rc == MDB_MAP_FULL || store_full_errno(rc);
	if (full)
		reply_error(ctx, 503, "store full: %s", pd_strerror(rc));
	else
		reply_error(ctx, 500, "internal error: store: %s", mdb_strerror(rc));
	/* a full map is grown and the group run again, a full disk is logged
	 * once by the writer: neither is logged per request */
	if (!full)
		log_msg("error", ctx->sess->conn_id, ctx->sess->user, "%s: store error %s",
			ctx->cmd->word, mdb_strerror(rc));
	return rc ? rc : PD_EREPLIED;
}

void map_set_time(struct cmd_ctx *ctx, struct pd_value *m, const char *key,
		  int64_t utc)
{
	char buf[PD_TIME_BUF];
	pd_time_format(utc, buf);
	pd_map_set_str(ctx->a, m, key, buf);
}

/* Integer fields named at, *_at or *_by are times (user names in *_by
 * fields are strings, so they never look like one). */
static bool is_time_key(const char *key, size_t len)
{
	return (len == 2 && memcmp(key, "at", 2) == 0) ||
	       (len > 3 && (memcmp(key + len - 3, "_at", 3) == 0 ||
			    memcmp(key + len - 3, "_by", 3) == 0));
}

struct pd_value *present_field(struct cmd_ctx *ctx, const char *key,
			       const struct pd_value *v)
{
	if (v->type == PD_INT && is_time_key(key, strlen(key))) {
		if (!v->u.i)
			return pd_str(ctx->a, "");
		char buf[PD_TIME_BUF];
		pd_time_format(v->u.i, buf);
		return pd_str(ctx->a, buf);
	}
	return present(ctx, v);
}

/* Stored records keep times as UTC seconds in integer fields named at, *_at
 * or *_by; replies
 * show them in the depot's zone. One convention for every module. */
struct pd_value *present(struct cmd_ctx *ctx, const struct pd_value *v)
{
	if (v->type != PD_MAP && v->type != PD_ARR)
		return (struct pd_value *)v;
	struct pd_value *out = v->type == PD_MAP ? pd_map(ctx->a) : pd_arr(ctx->a);
	for (struct pd_entry *e = v->u.c.head; e; e = e->next) {
		if (v->type == PD_ARR) {
			pd_arr_push(ctx->a, out, present(ctx, e->val));
			continue;
		}
		/* the store's own bookkeeping is not shown */
		if ((e->key_len == 7 && !memcmp(e->key, "due_key", 7)) ||
		    (e->key_len == 8 && !memcmp(e->key, "timer_at", 8)))
			continue;
		/* keys are NUL-terminated and distinct in a stored map */
		pd_map_append(ctx->a, out, e->key, e->key_len, present_field(ctx, e->key, e->val));
	}
	return out;
}
