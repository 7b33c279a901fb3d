/* logins.c — failed-login limits (see logins.h). */
#include "logins.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define LOGIN_KEY_MAX 66

struct login_entry {
	char key[LOGIN_KEY_MAX];
	int64_t failures;     /* in a row, within the window */
	int64_t last_ms;      /* last failure */
	int64_t locked_until; /* ms; INT64_MAX: until USER UNLOCK */
	int inflight;         /* tries being hashed */
};

struct login_table {
	struct login_entry e[LOGIN_TABLE_SIZE];
};

static struct login_table addrs, users;
/* Both tables: the loop threads share them. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct login_entry *find(struct login_table *t, const char *key)
{
	for (size_t i = 0; i < LOGIN_TABLE_SIZE; i++)
		if (t->e[i].key[0] && strcmp(t->e[i].key, key) == 0)
			return &t->e[i];
	return NULL;
}

/* The entry for key, made when missing: a free slot, or the stalest one
 * that is neither locked nor in use. NULL when every slot is (then the try
 * is not limited by this kind: the table never refuses on its own). */
static struct login_entry *find_or_add(struct login_table *t, const char *key,
				       int64_t now_ms)
{
	struct login_entry *e = find(t, key), *victim = NULL;
	if (e)
		return e;
	for (size_t i = 0; i < LOGIN_TABLE_SIZE; i++) {
		struct login_entry *x = &t->e[i];
		if (!x->key[0]) {
			victim = x;
			break;
		}
		if (x->inflight || x->locked_until > now_ms)
			continue;
		if (!victim || x->last_ms < victim->last_ms)
			victim = x;
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	return victim;
}

static void forget_old(const struct config *cfg, struct login_entry *e, int64_t now_ms)
{
	if (e->failures && e->locked_until <= now_ms &&
	    now_ms - e->last_ms > cfg->login_failure_window_secs * 1000) {
		e->failures = 0;
		e->locked_until = 0;
	}
}

/* 0, or the seconds left to wait before the next try. */
static int64_t wait_secs(const struct config *cfg, const struct login_entry *e, int64_t now_ms)
{
	int64_t over = e->failures - cfg->login_free_failures;
	if (over < 0)
		return 0;
	int64_t delay = over >= 20 ? cfg->login_max_delay_secs : (int64_t)1 << over;
	if (delay > cfg->login_max_delay_secs)
		delay = cfg->login_max_delay_secs;
	int64_t left = e->last_ms + delay * 1000 - now_ms;
	return left > 0 ? (left + 999) / 1000 : 0;
}

static int begin(const struct config *cfg, const char *addr, const char *user,
		 int64_t now_ms, char *msg, size_t cap)
{
	struct login_entry *a = find_or_add(&addrs, addr, now_ms);
	struct login_entry *u = strcmp(addr, LOGIN_ADMIN_SOCKET) ? find_or_add(&users, user, now_ms) : NULL;
	if (a)
		forget_old(cfg, a, now_ms);
	if (u)
		forget_old(cfg, u, now_ms);
	if (u && u->locked_until > now_ms) {
		snprintf(msg, cap, "user %s is locked after %lld failed logins: an admin lifts it with USER UNLOCK",
			 user, (long long)u->failures);
		return 429;
	}
	if (a && a->inflight >= cfg->login_concurrent_per_address) {
		snprintf(msg, cap, "too many logins in progress from %s: try again in 1 s", addr);
		return 429;
	}
	int64_t wait = 0;
	if (a)
		wait = wait_secs(cfg, a, now_ms);
	if (u && wait_secs(cfg, u, now_ms) > wait)
		wait = wait_secs(cfg, u, now_ms);
	if (wait) {
		snprintf(msg, cap, "too many failed logins: try again in %lld s", (long long)wait);
		return 429;
	}
	if (a)
		a->inflight++;
	if (u)
		u->inflight++;
	return 0;
}

int login_begin(const struct config *cfg, const char *addr, const char *user,
		int64_t now_ms, char *msg, size_t cap)
{
	pthread_mutex_lock(&lock);
	int code = begin(cfg, addr, user, now_ms, msg, cap);
	pthread_mutex_unlock(&lock);
	return code;
}

void login_end(const struct config *cfg, const char *addr, const char *user,
	       int ok, int64_t now_ms)
{
	pthread_mutex_lock(&lock);
	struct login_entry *list[2] = { find(&addrs, addr),
					strcmp(addr, LOGIN_ADMIN_SOCKET) ? find(&users, user) : NULL };
	for (int i = 0; i < 2; i++) {
		struct login_entry *e = list[i];
		if (!e)
			continue;
		if (e->inflight)
			e->inflight--;
		if (ok) {
			e->failures = 0;
			e->locked_until = 0;
			continue;
		}
		e->failures++;
		e->last_ms = now_ms;
		if (i == 1 && e->failures >= cfg->login_lockout_failures && e->locked_until <= now_ms)
			e->locked_until = cfg->login_lockout_secs ? now_ms + cfg->login_lockout_secs * 1000
								  : INT64_MAX;
	}
	pthread_mutex_unlock(&lock);
}

int login_unlock(const char *user)
{
	pthread_mutex_lock(&lock);
	struct login_entry *e = find(&users, user);
	int had = e && (e->failures || e->locked_until);
	if (had) {
		e->failures = 0;
		e->locked_until = 0;
	}
	pthread_mutex_unlock(&lock);
	return had;
}

void login_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(&addrs, 0, sizeof(addrs));
	memset(&users, 0, sizeof(users));
	pthread_mutex_unlock(&lock);
}
