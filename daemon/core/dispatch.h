/* dispatch.h — the loop's side of the request road: admission (like
 * Redis's processCommand), read commands in the loop's read snapshot, and
 * what a finished command changes in its session.
 *
 * The connection layer (conn.c) calls these; it never looks at a command's
 * role or arguments itself. */
#ifndef PD_DISPATCH_H
#define PD_DISPATCH_H

#include "daemon.h"

/* What admission decided for one parsed request. */
struct admission {
	const struct pd_command *cmd;  /* the command named; NULL when none was */
	struct pd_value *args;         /* the bound, typed arguments */
	int code;                      /* the refusal: 400, 401 or 403 */
	const char *msg;               /* its message (in the arena) */
};

/* Admits one request: which command (400 unknown), whether it may cross
 * this connection (403 for a password in clear with tls_required), whether
 * the session may run it (401 when not logged in, before anything about its arguments;
 * 403 for a lower role), then its arguments (400 naming one). A session
 * whose users changed since it was last checked is checked again first
 * (a deleted user is logged out, a changed role applies). Returns 0 with
 * adm->cmd and adm->args, or -1 with adm->code and adm->msg (and adm->cmd
 * when the request named a command, for the metrics). */
int dispatch_admit(struct session *sess, const struct pd_request *req,
		   struct pd_arena *a, struct admission *adm);

/* Runs an admitted read command here, in the loop's read snapshot; rep
 * (allocated in a) receives the reply, fx what it asks of the loop. */
void dispatch_read(const struct session *sess, const struct admission *adm,
		   struct pd_arena *a, struct pd_reply *rep,
		   struct cmd_effects *fx);

/* Applies what a finished command did to the session that sent it (a
 * login) and to every session (users changed: each is checked again before
 * its next request). */
void dispatch_apply(struct session *sess, const struct cmd_effects *fx);

/* The loop's read transaction: begun with the resize lock held (shared);
 * nested calls share it, so a burst of pipelined reads of one connection
 * reads one snapshot with one begin. Never held across loop iterations.
 * loop_read_begin() returns 0 with *txn, or an LMDB error (lock released). */
int loop_read_begin(MDB_txn **txn);
void loop_read_end(void);
/* At exit: frees the transaction kept for renewal. */
void loop_read_close(void);

#endif
