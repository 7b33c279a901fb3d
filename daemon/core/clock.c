/* clock.c — the daemon's one clock: real time plus an offset tests set;
 * and the monotonic deadlines of the threads' timed waits. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "daemon.h"

static atomic_int_fast64_t clock_offset;

int64_t clock_now(void)
{
	return (int64_t)time(NULL) + atomic_load(&clock_offset);
}

/* Timed waits run on the monotonic clock: a step of the wall clock (NTP,
 * `date -s`) neither ends them early nor makes them last as long as the
 * step. A condvar's clock is fixed when it is made, and a static
 * PTHREAD_COND_INITIALIZER is on CLOCK_REALTIME. */
int cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc)
		return rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

struct timespec clock_monotonic_in(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* The clock keeps running from the time set, as a real clock would. */
void clock_set(int64_t utc)
{
	atomic_store(&clock_offset, utc - (int64_t)time(NULL));
}
