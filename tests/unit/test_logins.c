/* test_logins.c — failed-login limits: the growing delay, the in-progress
 * bound per address, the lockout and its lifting, forgetting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "logins.h"

static struct config cfg;
static char msg[256];

static int setup(void **state)
{
	(void)state;
	config_default(&cfg);
	cfg.login_free_failures = 3;
	cfg.login_max_delay_secs = 8;
	cfg.login_concurrent_per_address = 3;
	cfg.login_lockout_failures = 6;
	cfg.login_lockout_secs = 100;
	cfg.login_failure_window_secs = 1000;
	login_reset();
	return 0;
}

/* One whole try: begin (0 or the refusal code), and end when admitted. */
static int try_login(const char *addr, const char *user, int ok, int64_t now_ms)
{
	int code = login_begin(&cfg, addr, user, now_ms, msg, sizeof(msg));
	if (code == 0)
		login_end(&cfg, addr, user, ok, now_ms);
	return code;
}

static void test_delay_grows_after_the_free_failures(void **state)
{
	(void)state;
	int64_t t = 1000000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_login("10.0.0.1", "u", 0, t), 0);
	/* the 4th waits 1 s after the 3rd failure */
	assert_int_equal(try_login("10.0.0.1", "u", 0, t + 500), 429);
	assert_string_equal(msg, "too many failed logins: try again in 1 s");
	assert_int_equal(try_login("10.0.0.1", "u", 0, t + 1000), 0);
	/* then 2 s, then 4 s */
	assert_int_equal(try_login("10.0.0.1", "u", 0, t + 2999), 429);
	assert_string_equal(msg, "too many failed logins: try again in 1 s");
	assert_int_equal(try_login("10.0.0.1", "u", 0, t + 3000), 0);
	assert_int_equal(try_login("10.0.0.1", "u", 0, t + 3001), 429);
	assert_string_equal(msg, "too many failed logins: try again in 4 s");
	/* another address and another name are not held up */
	assert_int_equal(try_login("10.0.0.2", "v", 1, t + 3001), 0);
}

static void test_delay_is_capped_and_a_success_clears_it(void **state)
{
	(void)state;
	int64_t t = 0;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(try_login("10.0.0.1", "u1", 0, t), 0);
		t += 60000; /* past any delay; u1..: names differ so no lockout */
	}
	assert_int_equal(try_login("10.0.0.1", "u2", 0, t), 0);
	/* 6 failures: 2^3 = 8 s, the cap */
	assert_int_equal(try_login("10.0.0.1", "x", 0, t + 1), 429);
	assert_string_equal(msg, "too many failed logins: try again in 8 s");
	assert_int_equal(try_login("10.0.0.1", "good", 1, t + 8000), 0);
	assert_int_equal(try_login("10.0.0.1", "other", 0, t + 8001), 0);
}

/* Strangers failing on the network lock a name out of the network, never
 * out of the admin socket; failures on the socket back off the socket
 * only and do not add to the name's lockout. */
static void test_the_admin_socket_is_not_locked_out(void **state)
{
	(void)state;
	int64_t t = 0;
	char addr[32];
	for (int i = 0; i < 6; i++) {
		snprintf(addr, sizeof(addr), "10.0.1.%d", i);
		assert_int_equal(try_login(addr, "admin", 0, t), 0);
		t += 10000;
	}
	assert_int_equal(try_login("10.0.2.1", "admin", 1, t + 1), 429);
	assert_string_equal(msg, "user admin is locked after 6 failed logins: an admin lifts it with USER UNLOCK");
	assert_int_equal(try_login(LOGIN_ADMIN_SOCKET, "admin", 1, t + 1), 0);
	/* the socket's own failures: its back-off, not the name's lockout */
	login_reset();
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_login(LOGIN_ADMIN_SOCKET, "root", 0, t), 0);
	assert_int_equal(try_login(LOGIN_ADMIN_SOCKET, "root", 0, t + 1), 429);
	assert_string_equal(msg, "too many failed logins: try again in 1 s");
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_login("10.0.3.1", "root", 0, t + 100000 * (i + 1)), 0);
	assert_int_equal(try_login("10.0.3.2", "root", 1, t + 400000), 0); /* 3 failures on the net: not locked */
}

static void test_logins_in_progress_per_address_are_bounded(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(login_begin(&cfg, "10.0.0.9", "a", 0, msg, sizeof(msg)), 0);
	assert_int_equal(login_begin(&cfg, "10.0.0.9", "b", 0, msg, sizeof(msg)), 429);
	assert_string_equal(msg, "too many logins in progress from 10.0.0.9: try again in 1 s");
	assert_int_equal(login_begin(&cfg, "10.0.0.8", "a", 0, msg, sizeof(msg)), 0);
	login_end(&cfg, "10.0.0.9", "a", 1, 0);
	assert_int_equal(login_begin(&cfg, "10.0.0.9", "b", 0, msg, sizeof(msg)), 0);
}

static void test_lockout_and_unlock(void **state)
{
	(void)state;
	int64_t t = 0;
	/* from many addresses, so only the name counts */
	char addr[32];
	for (int i = 0; i < 6; i++) {
		snprintf(addr, sizeof(addr), "10.1.0.%d", i);
		assert_int_equal(try_login(addr, "victim", 0, t), 0);
		t += 10000;
	}
	assert_int_equal(try_login("10.2.0.1", "victim", 1, t), 429);
	assert_string_equal(msg, "user victim is locked after 6 failed logins: an admin lifts it with USER UNLOCK");
	assert_int_equal(login_unlock("victim"), 1);
	assert_int_equal(login_unlock("victim"), 0);
	assert_int_equal(login_unlock("nobody"), 0);
	assert_int_equal(try_login("10.2.0.1", "victim", 1, t), 0);
}

static void test_lockout_ends_after_its_time_or_never(void **state)
{
	(void)state;
	for (int i = 0; i < 6; i++)
		assert_int_equal(try_login("10.3.0.1", "w", 0, (int64_t)i * 10000), 0);
	assert_int_equal(try_login("10.3.0.2", "w", 1, 50000 + 99999), 429);
	assert_int_equal(try_login("10.3.0.2", "w", 1, 50000 + 100000), 0);
	/* 0: until an admin lifts it */
	cfg.login_lockout_secs = 0;
	for (int i = 0; i < 6; i++)
		assert_int_equal(try_login("10.4.0.1", "z", 0, (int64_t)i * 10000), 0);
	assert_int_equal(try_login("10.4.0.2", "z", 1, (int64_t)1 << 50), 429);
}

static void test_old_failures_are_forgotten(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(try_login("10.5.0.1", "f", 0, 0), 0);
	assert_int_equal(try_login("10.5.0.1", "f", 0, 500), 429);
	assert_int_equal(try_login("10.5.0.1", "f", 0, 1000001), 0);
	/* counting starts again: two more are free */
	assert_int_equal(try_login("10.5.0.1", "f", 0, 1000002), 0);
	assert_int_equal(try_login("10.5.0.1", "f", 0, 1000003), 0);
	assert_int_equal(try_login("10.5.0.1", "f", 0, 1000004), 429);
}

static void test_a_full_table_forgets_the_stalest(void **state)
{
	(void)state;
	char name[32];
	for (int i = 0; i < LOGIN_TABLE_SIZE + 10; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(try_login("10.6.0.1", name, 1, i), 0);
	}
	/* still working, for new names and old */
	assert_int_equal(try_login("10.6.0.2", "fresh", 0, 1 << 20), 0);
	assert_int_equal(try_login("10.6.0.2", "n0", 0, 1 << 20), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_delay_grows_after_the_free_failures, setup),
		cmocka_unit_test_setup(test_delay_is_capped_and_a_success_clears_it, setup),
		cmocka_unit_test_setup(test_logins_in_progress_per_address_are_bounded, setup),
		cmocka_unit_test_setup(test_the_admin_socket_is_not_locked_out, setup),
		cmocka_unit_test_setup(test_lockout_and_unlock, setup),
		cmocka_unit_test_setup(test_lockout_ends_after_its_time_or_never, setup),
		cmocka_unit_test_setup(test_old_failures_are_forgotten, setup),
		cmocka_unit_test_setup(test_a_full_table_forgets_the_stalest, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
