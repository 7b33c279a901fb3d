/* clock.c — the daemon's one clock: real time plus an offset tests set. */
#include <stdatomic.h>
#include <time.h>

#include "daemon.h"

static atomic_int_fast64_t clock_offset;

int64_t clock_now(void)
{
	return (int64_t)time(NULL) + atomic_load(&clock_offset);
}

struct timespec clock_realtime_in(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
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
