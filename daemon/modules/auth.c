/* auth.c — users, roles, password hashes (yescrypt via crypt(3)), AUTH and
 * the USER commands. A password is never logged, stored or echoed. */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "changeset.h"
#include "logins.h"

#define PASSWORD_MIN_BYTES 8

int password_hash(const char *password, char *out, size_t out_len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
		return -1;
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *h = crypt_rn(password, salt, &data, sizeof(data));
	if (!h || h[0] == '*' || strlen(h) >= out_len)
		return -1;
	strcpy(out, h);
	return 0;
}

/* The slow half of USER ADD and USER PASSWD (CMD_WRITE|CMD_SLOW): the
 * password is hashed on the hashing thread, before the writer runs the job, so
 * a group commit never waits for yescrypt. The hash goes into the argument
 * "password_hash", a key no client can send (binding refuses unknown
 * arguments). A password too short to accept is not hashed: the handler
 * refuses it. */
int password_args_hash(struct pd_arena *a, struct pd_value *args)
{
	const char *pw = pd_arg_str(args, "password");
	char hash[256];
	if (!pw || strlen(pw) < PASSWORD_MIN_BYTES)
		return 0;
	if (password_hash(pw, hash, sizeof(hash)) < 0)
		return -1;
	pd_map_set_str(a, args, "password_hash", hash);
	return 0;
}

int password_check(const char *password, const char *hash)
{
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *h = crypt_rn(password, hash, &data, sizeof(data));
	if (!h || h[0] == '*')
		return 0;
	/* constant-time compare */
	size_t n = strlen(hash);
	if (strlen(h) != n)
		return 0;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(h[i] ^ hash[i]);
	return diff == 0;
}

static struct pd_value *user_record(struct pd_arena *a, const char *name,
				    enum pd_role role, const char *hash,
				    const char *full_name, const char *depot,
				    int64_t now)
{
	struct pd_value *u = pd_map(a);
	pd_map_set_str(a, u, "name", name);
	pd_map_set_str(a, u, "role", pd_role_name(role));
	pd_map_set_str(a, u, "hash", hash);
	if (full_name)
		pd_map_set_str(a, u, "full_name", full_name);
	if (depot)
		pd_map_set_str(a, u, "depot", depot);
	pd_map_set_int(a, u, "created_at", now);
	return u;
}

static int read_password_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "parceldeskd: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fgets(out, (int)cap, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

int auth_bootstrap_admin(struct store *st, const struct config *cfg, const char *follower,
			 int (*commit)(MDB_txn *txn, struct changeset *cs))
{
	MDB_txn *txn;
	int rc = store_write_begin(st, &txn, NULL);
	if (rc)
		return -1;
	MDB_stat stat;
	mdb_stat(txn, st->users, &stat);
	if (stat.ms_entries > 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	if (follower) {
		/* a follower's users are the primary's, its first admin
		 * included: they come from the log (or a snapshot), and one
		 * made here would differ from it */
		mdb_txn_abort(txn);
		fprintf(stderr, "parceldeskd: no users yet: this %s takes the primary's from the "
			"replication log (log in once it applied them)\n", follower);
		return 0;
	}
	char password[256] = "";
	if (cfg->admin_password_file[0]) {
		if (read_password_file(cfg->admin_password_file, password, sizeof(password)) < 0) {
			mdb_txn_abort(txn);
			return -1;
		}
	} else if (getenv("PARCELDESK_ADMIN_PASSWORD")) {
		snprintf(password, sizeof(password), "%s", getenv("PARCELDESK_ADMIN_PASSWORD"));
	}
	if (strlen(password) < PASSWORD_MIN_BYTES) {
		fprintf(stderr,
			"parceldeskd: the store has no users yet; give the first admin's password "
			"(at least %d bytes) in PARCELDESK_ADMIN_PASSWORD or --admin-password-file FILE\n",
			PASSWORD_MIN_BYTES);
		mdb_txn_abort(txn);
		return -1;
	}
	char hash[256];
	if (password_hash(password, hash, sizeof(hash)) < 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	struct pd_arena a;
	pd_arena_init(&a);
	int64_t now = clock_now();
	struct pd_value *u = user_record(&a, "admin", ROLE_ADMIN, hash, "administrator", NULL, now);
	/* on a primary it travels: the followers make no admin of their own */
	struct changeset cs;
	changeset_init(&cs);
	if (commit)
		changeset_capture(&cs);
	rc = store_put(txn, st->users, "admin", 5, u, 0);
	if (!rc)
		rc = store_audit(txn, st, "user", "admin", "parceldeskd", now, "bootstrap", NULL);
	pd_arena_free(&a);
	if (rc) {
		changeset_capture(NULL);
		mdb_txn_abort(txn);
	} else {
		/* captured: logged as change set 1 (writer.c); else a start-up
		 * commit, redone until kept, synced by the start's checkpoint */
		rc = commit ? commit(txn, &cs) : mdb_txn_commit(txn);
	}
	changeset_free(&cs);
	if (rc) {
		fprintf(stderr, "parceldeskd: cannot create the admin user\n");
		return -1;
	}
	fprintf(stderr, "parceldeskd: created user 'admin'\n");
	return 0;
}

/* Checked instead of a hash when the user does not exist, so an unknown
 * user costs the same yescrypt run as a wrong password and the answer's
 * timing does not tell which names exist. Its parameters are those
 * password_hash() uses; no password matches it (the result is refused
 * anyway). */
static const char dummy_hash[] =
	"$y$j9T$KwGJTHgD6DuTprIks3OzN1$9Wi/9oUuGRa2wXVLo6EEXu2AEMO.wZu8dEILZLg6Lo8";

/* Runs on the hashing thread: yescrypt costs milliseconds by design. */
int cmd_auth(struct cmd_ctx *ctx)
{
	const char *name = pd_arg_str(ctx->args, "user");
	const char *password = pd_arg_str(ctx->args, "password");
	struct pd_value *u;
	int rc = store_get(ctx->txn, ctx->st->users, name, strlen(name), ctx->a, &u);
	if (rc && rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	const char *hash = rc == 0 ? pd_map_str(u, "hash") : NULL;
	bool ok = password_check(password, hash ? hash : dummy_hash) && hash;
	if (!ok) {
		/* a name that is no user may be a password typed in the wrong
		 * field: it is not logged */
		if (hash)
			log_msg("warn", ctx->sess->conn_id, name, "failed login");
		else
			log_msg("warn", ctx->sess->conn_id, NULL, "failed login for an unknown user");
		/* the same answer for an unknown user and a wrong password */
		return reply_error(ctx, 401, "wrong user or password");
	}
	ctx->fx.logged_in = true;
	snprintf(ctx->fx.user, sizeof(ctx->fx.user), "%s", name);
	ctx->fx.role = pd_role_parse(pd_map_str(u, "role"));
	pd_map_int(u, "pw_seq", &ctx->fx.pw_seq);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_str(ctx->a, d, "user", name);
	pd_map_set_str(ctx->a, d, "role", pd_role_name(ctx->fx.role));
	ctx->rep->data = d;
	reply_ok(ctx, 200, "welcome %s", name);
	return 0;
}

int cmd_whoami(struct cmd_ctx *ctx)
{
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_str(ctx->a, d, "user", ctx->sess->role ? ctx->sess->user : "");
	pd_map_set_str(ctx->a, d, "role", pd_role_name(ctx->sess->role));
	pd_map_set_int(ctx->a, d, "connection", (int64_t)ctx->sess->conn_id);
	ctx->rep->data = d;
	reply_ok(ctx, 200, "ok");
	return 0;
}

/* The hash password_args_hash() made for this job, or NULL after an
 * error reply (a password too short, or no hash). */
static const char *checked_password_hash(struct cmd_ctx *ctx)
{
	const char *pw = pd_arg_str(ctx->args, "password");
	if (strlen(pw) < PASSWORD_MIN_BYTES) {
		reply_error(ctx, 422, "password must be at least %d bytes", PASSWORD_MIN_BYTES);
		return NULL;
	}
	const char *hash = pd_arg_str(ctx->args, "password_hash");
	if (!hash)
		reply_error(ctx, 500, "internal error: cannot hash the password");
	return hash;
}

int cmd_user_add(struct cmd_ctx *ctx)
{
	const char *name = pd_arg_str(ctx->args, "name");
	enum pd_role role = pd_role_parse(pd_arg_str(ctx->args, "role"));
	if (strlen(name) >= USER_NAME_MAX)
		return reply_error(ctx, 400, "user name longer than %d bytes", USER_NAME_MAX - 1);
	const char *hash = checked_password_hash(ctx);
	if (!hash)
		return PD_EREPLIED;
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(ctx->txn, ctx->st->users, &k, &v);
	if (rc == 0)
		return reply_error(ctx, 409, "user '%s' exists", name);
	if (rc != MDB_NOTFOUND)
		return reply_store_error(ctx, rc);
	struct pd_value *u = user_record(ctx->a, name, role, hash,
					 pd_arg_str(ctx->args, "full_name"),
					 pd_arg_str(ctx->args, "depot"), ctx->now);
	struct pd_value *detail = pd_map(ctx->a);
	pd_map_set_str(ctx->a, detail, "role", pd_role_name(role));
	if ((rc = store_put(ctx->txn, ctx->st->users, name, strlen(name), u, 0)) ||
	    (rc = store_audit(ctx->txn, ctx->st, "user", name, ctx->sess->user, ctx->now, "add", detail)))
		return reply_store_error(ctx, rc);
	struct pd_value *d = pd_map(ctx->a);
	pd_map_set_str(ctx->a, d, "name", name);
	pd_map_set_str(ctx->a, d, "role", pd_role_name(role));
	ctx->rep->data = d;
	reply_ok(ctx, 201, "user %s created", name);
	return 0;
}

int role_authority_tier(enum pd_role r)
{
	return r >= ROLE_MANAGER ? 2 : r == ROLE_SUPERVISOR ? 1 : 0;
}

int user_load(struct cmd_ctx *ctx, const char *name, struct pd_value **u)
{
	struct pd_value *scratch;
	int rc = store_get(ctx->txn, ctx->st->users, name, strlen(name), ctx->a, u ? u : &scratch);
	if (rc == MDB_NOTFOUND)
		reply_error(ctx, 404, "no user '%s'", name);
	else if (rc)
		reply_store_error(ctx, rc);
	return rc;
}

int cmd_user_passwd(struct cmd_ctx *ctx)
{
	const char *name = pd_arg_str(ctx->args, "name");
	if (!session_may_set_password(ctx->sess, name))
		return reply_error(ctx, 403, PASSWD_OTHERS_REFUSAL);
	const char *hash = checked_password_hash(ctx);
	if (!hash)
		return PD_EREPLIED;
	struct pd_value *u;
	int rc = user_load(ctx, name, &u);
	if (rc)
		return PD_EREPLIED;
	pd_map_set_str(ctx->a, u, "hash", hash);
	/* the user's other sessions end (session_recheck() compares pw_seq);
	 * the connection that changed it stays logged in */
	int64_t seq = 0;
	pd_map_int(u, "pw_seq", &seq);
	pd_map_set_int(ctx->a, u, "pw_seq", seq + 1);
	pd_map_set_int(ctx->a, u, "pw_by_conn", (int64_t)ctx->sess->conn_id);
	if ((rc = store_put(ctx->txn, ctx->st->users, name, strlen(name), u, 0)) ||
	    (rc = store_audit(ctx->txn, ctx->st, "user", name, ctx->sess->user, ctx->now, "passwd", NULL)))
		return reply_store_error(ctx, rc);
	reply_ok(ctx, 200, "password changed for %s", name);
	return 0;
}

int cmd_user_del(struct cmd_ctx *ctx)
{
	const char *name = pd_arg_str(ctx->args, "name");
	if (strcmp(name, ctx->sess->user) == 0)
		return reply_error(ctx, 409, "you cannot delete yourself");
	int rc = store_del(ctx->txn, ctx->st->users, name, strlen(name), NULL, 0);
	if (rc == MDB_NOTFOUND)
		return reply_error(ctx, 404, "no user '%s'", name);
	if (rc || (rc = store_audit(ctx->txn, ctx->st, "user", name, ctx->sess->user, ctx->now, "del", NULL)))
		return reply_store_error(ctx, rc);
	reply_ok(ctx, 200, "user %s deleted", name);
	return 0;
}

/* Runs on a loop thread (the failed-login table is logins.c's, locked). */
int cmd_user_unlock(struct cmd_ctx *ctx)
{
	const char *name = pd_arg_str(ctx->args, "name");
	if (!login_unlock(name))
		return reply_error(ctx, 404, "no failed logins recorded for '%s'", name);
	log_msg("info", ctx->sess->conn_id, ctx->sess->user, "login lockout of %s lifted", name);
	reply_ok(ctx, 200, "failed logins of %s forgotten", name);
	return 0;
}

int cmd_user_list(struct cmd_ctx *ctx)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(ctx->txn, ctx->st->users, &cur);
	if (rc)
		return reply_store_error(ctx, rc);
	struct pd_value *list = pd_arr(ctx->a);
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct pd_value *u;
		size_t used;
		if (pd_value_unpack(ctx->a, v.mv_data, v.mv_size, &used, &u) != PD_UNPACK_OK)
			continue;
		struct pd_value *r = pd_map(ctx->a);
		pd_map_set_str(ctx->a, r, "name", pd_map_str(u, "name"));
		pd_map_set_str(ctx->a, r, "role", pd_map_str(u, "role"));
		const char *fn = pd_map_str(u, "full_name"), *dep = pd_map_str(u, "depot");
		pd_map_set_str(ctx->a, r, "full_name", fn ? fn : "");
		pd_map_set_str(ctx->a, r, "depot", dep ? dep : "");
		pd_arr_push(ctx->a, list, r);
	}
	mdb_cursor_close(cur);
	ctx->rep->data = list;
	reply_ok(ctx, 200, "%s", count_of(ctx, (int64_t)list->u.c.count, "user", "users"));
	return 0;
}
