/* dispatch.c — the handler table (from commands.def) and the check of the
 * handler contract, admission, read commands in the loop. The reply
 * helpers handlers use are in handler.c, so that no module calls back into
 * the file that calls it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "repl.h"

static const cmd_handler handlers[PD_CMD_COUNT] = {
#define CMD(id, word, sub, role, flags, args, help) [PD_CMD_##id] = cmd_##id,
#include "commands.def"
#undef CMD
};

int dispatch_handler(struct cmd_ctx *ctx)
{
	int rc = handlers[ctx->cmd->id](ctx);
	/* The contract: 0 with a reply below 400, nonzero with an error reply.
	 * A handler that broke it is answered 500, never half-right. */
	if (ctx->rep->code == 0 || (rc != 0) != (ctx->rep->code >= 400)) {
		log_msg("error", ctx->sess->conn_id, ctx->sess->user,
			"%s: handler returned %d (%s) with reply %d", ctx->cmd->word, rc,
			rc ? pd_strerror(rc) : "ok", ctx->rep->code);
		return reply_error(ctx, 500, "internal error: no reply");
	}
	if (rc == 0 && (ctx->cmd->flags & CMD_USERS))
		ctx->fx.users_changed = true;
	return rc;
}

/* Each loop thread's read transaction (the store is opened MDB_NOTLS, but a
 * transaction is still used by one thread at a time: its own). */
static __thread MDB_txn *loop_rtxn;
static __thread int loop_txn_depth;
/* The users generation read just before that transaction began: its
 * snapshot holds every user change counted up to there (a generation is
 * bumped after its commit, maybe on another loop thread meanwhile). */
static __thread uint64_t loop_txn_users;

int loop_read_begin(MDB_txn **txn)
{
	if (loop_txn_depth) {
		loop_txn_depth++;
		*txn = loop_rtxn;
		return 0;
	}
	loop_txn_users = store_users_generation();
	for (int tries = 0; tries < 2; tries++) {
		pthread_rwlock_rdlock(&g_store.resize_lock);
		int rc = loop_rtxn ? mdb_txn_renew(loop_rtxn)
				   : mdb_txn_begin(g_store.env, NULL, MDB_RDONLY, &loop_rtxn);
		if (rc == 0) {
			loop_txn_depth = 1;
			*txn = loop_rtxn;
			return 0;
		}
		pthread_rwlock_unlock(&g_store.resize_lock);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		store_adopt_map(&g_store); /* another process grew the map */
	}
	return MDB_MAP_RESIZED;
}

void loop_read_end(void)
{
	if (--loop_txn_depth > 0)
		return;
	mdb_txn_reset(loop_rtxn);
	pthread_rwlock_unlock(&g_store.resize_lock);
}

void loop_read_close(void)
{
	if (loop_rtxn)
		mdb_txn_abort(loop_rtxn);
	loop_rtxn = NULL;
}

/* The session's user was deleted (or its role or password changed) since
 * it was last checked: a deleted user is logged out, so is a session whose
 * password another connection changed; a changed role takes effect. */
static void session_recheck(struct session *sess)
{
	MDB_txn *txn;
	if (loop_read_begin(&txn) != 0)
		return;
	sess->users_seen = loop_txn_users;
	struct pd_arena a;
	pd_arena_init(&a);
	struct pd_value *u;
	int rc = store_get(txn, g_store.users, sess->user, strlen(sess->user), &a, &u);
	int64_t pw_seq = 0, pw_by = 0;
	if (rc == 0) {
		pd_map_int(u, "pw_seq", &pw_seq);
		pd_map_int(u, "pw_by_conn", &pw_by);
		if (pw_seq != sess->pw_seq && (uint64_t)pw_by == sess->conn_id)
			sess->pw_seq = pw_seq; /* this connection changed it */
	}
	if (rc == MDB_NOTFOUND || (rc == 0 && pw_seq != sess->pw_seq)) {
		log_msg("info", sess->conn_id, sess->user, "%s: session ends",
			rc ? "user deleted" : "password changed");
		sess->role = ROLE_NONE;
		sess->user[0] = '\0';
	} else if (rc == 0 && pd_map_str(u, "role")) {
		sess->role = pd_role_parse(pd_map_str(u, "role"));
	}
	pd_arena_free(&a);
	loop_read_end();
}

static int refuse(struct admission *adm, struct pd_arena *a, const struct pd_command *cmd,
		  int code, const char *msg)
{
	adm->cmd = cmd;
	adm->code = code;
	adm->msg = pd_strdup(a, msg);
	return -1;
}

int dispatch_admit(struct session *sess, const struct pd_request *req,
		   struct pd_arena *a, struct admission *adm)
{
	struct pd_error err;
	size_t used;
	const struct pd_command *cmd = pd_command_lookup(req, &used, &err);
	if (!cmd)
		return refuse(adm, a, NULL, err.code, err.msg);
	stat_inc(LOOP_STAT(commands[cmd->id]));
	if ((cmd->flags & CMD_SECRET) && g_config.tls_required && !sess->private_line)
		return refuse(adm, a, cmd, 403, "a password crosses the network only over TLS here "
			      "(tls_required): connect with TLS");
	if (sess->role != ROLE_NONE && sess->users_seen != store_users_generation())
		session_recheck(sess);
	if (cmd->role != ROLE_NONE && sess->role == ROLE_NONE)
		return refuse(adm, a, cmd, 401, "log in first: AUTH user password");
	if (sess->role < cmd->role) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s%s%s needs the %s role", cmd->word,
			 cmd->sub ? " " : "", cmd->sub ? cmd->sub : "",
			 pd_role_name(cmd->role));
		return refuse(adm, a, cmd, 403, msg);
	}
	if ((cmd->flags & CMD_WRITE) && !repl_writable()) {
		char msg[200];
		repl_refusal(msg, sizeof(msg));
		return refuse(adm, a, cmd, 421, msg);
	}
	if (pd_command_bind(a, cmd, req, used, &adm->args, &err) < 0)
		return refuse(adm, a, cmd, err.code, err.msg);
	if (cmd->id == PD_CMD_user_passwd && !session_may_set_password(sess, pd_arg_str(adm->args, "name")))
		return refuse(adm, a, cmd, 403, PASSWD_OTHERS_REFUSAL);
	adm->cmd = cmd;
	adm->code = 0;
	adm->msg = NULL;
	return 0;
}

void dispatch_read(const struct session *sess, const struct admission *adm,
		   struct pd_arena *a, struct pd_reply *rep,
		   struct cmd_effects *fx)
{
	struct cmd_ctx ctx = {
		.a = a, .cmd = adm->cmd, .args = adm->args, .rep = rep,
		.st = &g_store, .sess = sess, .cfg = &g_config, .now = clock_now(),
	};
	memset(rep, 0, sizeof(*rep));
	if (loop_read_begin(&ctx.txn) != 0) {
		reply_error(&ctx, 503, "store unavailable");
	} else {
		dispatch_handler(&ctx);
		loop_read_end();
	}
	*fx = ctx.fx;
}

void dispatch_apply(struct session *sess, const struct cmd_effects *fx)
{
	if (fx->users_changed)
		store_users_changed();
	if (fx->logged_in) {
		memcpy(sess->user, fx->user, sizeof(sess->user));
		sess->role = fx->role;
		sess->pw_seq = fx->pw_seq;
		sess->users_seen = store_users_generation();
		log_msg("info", sess->conn_id, sess->user, "logged in as %s",
			pd_role_name(sess->role));
	}
}
