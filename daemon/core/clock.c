/* clock.c — the daemon's one clock: real time plus an offset tests set. */
#include <stdatomic.h>
#include <time.h>

#include "daemon.h"

static atomic_int_fast64_t clock_offset;

int64_t clock_now(void)
{
	return (int64_t)time(NULL) + atomic_load(&clock_offset);
}

/* The clock keeps running from the time set, as a real clock would. */
void clock_set(int64_t utc)
{
	atomic_store(&clock_offset, utc - (int64_t)time(NULL));
}
