/* logins.h — failed-login limits, per client address and per user name.
 *
 * Every AUTH asks login_begin() first, on its loop thread, and reports its
 * end with login_end(). An address or a name with login_free_failures
 * recent failures waits, before its next try, a delay that doubles with
 * each further failure (1 s, 2 s, 4 s ... up to login_max_delay_secs); an
 * address has at most login_concurrent_per_address logins being hashed at
 * once, so one host cannot fill the hashing queue. A name with
 * login_lockout_failures failures in a row is locked for login_lockout_secs
 * (0: until an admin lifts it with USER UNLOCK). Unknown names are counted
 * like known ones: the answers do not tell which names exist. Failures
 * older than login_failure_window_secs are forgotten, a success clears its
 * address and its name. Any loop thread (the tables are locked: an
 * address's connections may be on several); times are monotonic
 * milliseconds, so CLOCK SET does not move them.
 *
 * The admin socket (LOGIN_ADMIN_SOCKET, the address of its connections)
 * is how an administrator on the host always gets in: a name's lockout
 * and back-off are not checked there, and its failures are counted to the
 * socket's own address only, so strangers failing on the network cannot
 * lock the admin out of it (a red-team run did, round 18). */
#ifndef PD_LOGINS_H
#define PD_LOGINS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Entries kept per kind (addresses, names); the stalest is forgotten
 * first when full. */
#define LOGIN_TABLE_SIZE 4096

/* The address of the admin socket's connections (conn.c peer_name()). */
#define LOGIN_ADMIN_SOCKET "admin-socket"

/* 0: go ahead (the try is counted as in progress until login_end());
 * else 429 with the reason in msg. */
int login_begin(const struct config *cfg, const char *addr, const char *user,
		int64_t now_ms, char *msg, size_t cap);
void login_end(const struct config *cfg, const char *addr, const char *user,
	       int ok, int64_t now_ms);
/* Clears a name's failures and lockout. Returns 1 if it had any, else 0. */
int login_unlock(const char *user);
/* Forgets everything (tests). */
void login_reset(void);

#endif
