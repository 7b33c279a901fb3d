/* test_clock.c — the threads' timed waits (daemon/core/clock.c): a condvar
 * from cond_init_monotonic() waited up to clock_monotonic_in(200) times out
 * after 200 ms on CLOCK_MONOTONIC, so that a step of the wall clock cannot
 * end it early or stretch it. A condvar on the realtime clock (the default,
 * and PTHREAD_COND_INITIALIZER's) reads the monotonic deadline, hours of
 * uptime, as an instant decades ago and returns at once: the first test
 * fails that way if the helper forgets the attribute. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "daemon.h"

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void timed_wait_lasts_its_time_on_the_monotonic_clock(void **state)
{
	(void)state;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	assert_int_equal(cond_init_monotonic(&cv), 0);
	int64_t t0 = mono_ns();
	struct timespec ts = clock_monotonic_in(200);
	pthread_mutex_lock(&mu);
	int rc;
	while ((rc = pthread_cond_timedwait(&cv, &mu, &ts)) == 0)
		; /* a spurious wake-up */
	pthread_mutex_unlock(&mu);
	int64_t took = mono_ns() - t0;
	assert_int_equal(rc, ETIMEDOUT);
	assert_true(took >= 200 * 1000000LL);
	assert_true(took < 2000 * 1000000LL);
	pthread_cond_destroy(&cv);
}

/* The deadline is ms from now on CLOCK_MONOTONIC, its nanoseconds
 * carried into seconds. */
static void deadline_is_ms_ahead(void **state)
{
	(void)state;
	const int64_t ms[] = { 0, 1, 200, 999, 1000, 1999, 5000, 3600 * 1000 };
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		int64_t before = mono_ns();
		struct timespec ts = clock_monotonic_in(ms[i]);
		int64_t after = mono_ns();
		assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
		int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		assert_true(at >= before + ms[i] * 1000000);
		assert_true(at <= after + ms[i] * 1000000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timed_wait_lasts_its_time_on_the_monotonic_clock),
		cmocka_unit_test(deadline_is_ms_ahead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
