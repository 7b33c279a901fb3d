/* test_heap_trim.c — conn_heap_trim() gives back what a thread freed into
 * its own malloc arena: glibc's malloc_trim() alone leaves a thread arena's
 * free top (the loops 1..n kept up to 16 MiB of closed connections' buffers
 * for good; docs/performance.md, round 14). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* the sanitizers' allocators have no arenas to trim */
static void trim_gives_back_a_thread_arenas_top(void **state)
{
	(void)state;
	skip();
}
#else
static long rss_kb(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct sample {
	long before, kept, after; /* RSS: before the buffers, freed and malloc_trim'd, after conn_heap_trim */
};

/* As a loop: 12 MiB of buffers in 64 KiB blocks (under the mmap
 * threshold: in this thread's arena), used, freed newest first so that
 * they gather in the arena's top. */
static void *loop_like(void *arg)
{
	struct sample *s = arg;
	enum { N = 192, SIZE = 64 << 10 };
	static void *blocks[N];
	s->before = rss_kb();
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(SIZE);
		if (blocks[i])
			memset(blocks[i], 1, SIZE);
	}
	for (int i = N - 1; i >= 0; i--)
		free(blocks[i]);
	malloc_trim(0);
	s->kept = rss_kb();
	conn_heap_trim();
	s->after = rss_kb();
	return NULL;
}

static void trim_gives_back_a_thread_arenas_top(void **state)
{
	(void)state;
	conn_heap_setup();
	struct sample s = { 0, 0, 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, loop_like, &s), 0);
	pthread_join(t, NULL);
	if (s.kept - s.before < 8 << 10) {
		/* this glibc's malloc_trim() gave the top back by itself */
		fprintf(stderr, "test_heap_trim: malloc_trim kept %ld KiB only\n", s.kept - s.before);
		skip();
	}
	fprintf(stderr, "test_heap_trim: RSS %ld KiB, %ld with the buffers freed, %ld after the trim\n",
		s.before, s.kept, s.after);
	assert_true(s.after - s.before < 2 << 10);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trim_gives_back_a_thread_arenas_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
