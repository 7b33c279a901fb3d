/*
 * Unit tests for daemon/rules/waybill_rules.c against docs/rules.md
 * section 1 (status, lateness) and section 3 (when an address change or a
 * recall is allowed).
 *
 * The allowed transitions are written out here from the rules, case by case;
 * the impossible ones are checked both by name (the ones the rules forbid
 * outright) and exhaustively for the final statuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "waybill_rules.h"
#include "command.h"

#define DAY_SECS 86400

/* before_lost does not matter unless the event is `found` */
#define ANY WAYBILL_IN_TRANSIT

static int next(enum waybill_status cur, enum waybill_event ev)
{
	return waybill_status_next(cur, ev, ANY);
}

static void expect(enum waybill_status cur, enum waybill_event ev, int want)
{
	int got = next(cur, ev);
	if (got != want)
		fail_msg("%s + %s: got %s (%d), want %s (%d)", waybill_status_name(cur),
			 waybill_event_name(ev), got < 0 ? "impossible" : waybill_status_name(got), got,
			 want < 0 ? "impossible" : waybill_status_name(want), want);
}

/* ---- the allowed road, step by step ---- */

static void test_forward_road(void **state)
{
	(void)state;
	/* created -> picked_up -> in_transit -> out_for_delivery -> delivered */
	expect(WAYBILL_CREATED, WE_PICKED_UP, WAYBILL_PICKED_UP);
	expect(WAYBILL_PICKED_UP, WE_DEPARTED, WAYBILL_IN_TRANSIT);
	expect(WAYBILL_PICKED_UP, WE_ARRIVED, WAYBILL_IN_TRANSIT);
	expect(WAYBILL_IN_TRANSIT, WE_DEPARTED, WAYBILL_IN_TRANSIT);
	expect(WAYBILL_IN_TRANSIT, WE_ARRIVED, WAYBILL_IN_TRANSIT);
	expect(WAYBILL_IN_TRANSIT, WE_OUT_FOR_DELIVERY, WAYBILL_OUT_FOR_DELIVERY);
	expect(WAYBILL_OUT_FOR_DELIVERY, WE_DELIVERED, WAYBILL_DELIVERED);
}

static void test_delivery_failed_branches(void **state)
{
	(void)state;
	expect(WAYBILL_OUT_FOR_DELIVERY, WE_DELIVERY_FAILED, WAYBILL_DELIVERY_FAILED);
	/* delivery_failed goes back out, to held at a depot, or returning */
	expect(WAYBILL_DELIVERY_FAILED, WE_OUT_FOR_DELIVERY, WAYBILL_OUT_FOR_DELIVERY);
	expect(WAYBILL_DELIVERY_FAILED, WE_HELD, WAYBILL_HELD);
	expect(WAYBILL_DELIVERY_FAILED, WE_RETURNING, WAYBILL_RETURNING);
	/* and nowhere else on the forward road */
	expect(WAYBILL_DELIVERY_FAILED, WE_DELIVERED, -1);
	expect(WAYBILL_DELIVERY_FAILED, WE_PICKED_UP, -1);
	expect(WAYBILL_DELIVERY_FAILED, WE_RETURNED, -1);
	expect(WAYBILL_DELIVERY_FAILED, WE_DELIVERY_FAILED, -1);
	expect(WAYBILL_DELIVERY_FAILED, WE_FOUND, -1);
	/* a held parcel goes out again */
	expect(WAYBILL_HELD, WE_OUT_FOR_DELIVERY, WAYBILL_OUT_FOR_DELIVERY);
	expect(WAYBILL_HELD, WE_RETURNING, WAYBILL_RETURNING);
}

static void test_returning_road(void **state)
{
	(void)state;
	expect(WAYBILL_RETURNING, WE_RETURNED, WAYBILL_RETURNED);
	/* scans on the way back keep it returning */
	expect(WAYBILL_RETURNING, WE_DEPARTED, WAYBILL_RETURNING);
	expect(WAYBILL_RETURNING, WE_ARRIVED, WAYBILL_RETURNING);
	/* it does not go back to the receiver */
	expect(WAYBILL_RETURNING, WE_OUT_FOR_DELIVERY, -1);
	expect(WAYBILL_RETURNING, WE_DELIVERED, -1);
	expect(WAYBILL_RETURNING, WE_DELIVERY_FAILED, -1);
	expect(WAYBILL_RETURNING, WE_PICKED_UP, -1);
	expect(WAYBILL_RETURNING, WE_FOUND, -1);
	/* a recall sends a parcel that is still on its way returning */
	expect(WAYBILL_IN_TRANSIT, WE_RETURNING, WAYBILL_RETURNING);
	expect(WAYBILL_PICKED_UP, WE_RETURNING, WAYBILL_RETURNING);
	/* returned only after returning */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		if (s != WAYBILL_RETURNING)
			expect((enum waybill_status)s, WE_RETURNED, -1);
}

static void test_nothing_follows_delivered_or_returned(void **state)
{
	(void)state;
	for (int e = 0; e < WE_EVENT_COUNT; e++) {
		for (int before = 0; before < WAYBILL_STATUS_COUNT; before++) {
			assert_int_equal(waybill_status_next(WAYBILL_DELIVERED, (enum waybill_event)e,
							(enum waybill_status)before), -1);
			assert_int_equal(waybill_status_next(WAYBILL_RETURNED, (enum waybill_event)e,
							(enum waybill_status)before), -1);
		}
	}
	assert_true(waybill_status_final(WAYBILL_DELIVERED));
	assert_true(waybill_status_final(WAYBILL_RETURNED));
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		if (s != WAYBILL_DELIVERED && s != WAYBILL_RETURNED)
			assert_false(waybill_status_final((enum waybill_status)s));
}

static void test_skipping_steps_is_impossible(void **state)
{
	(void)state;
	/* created: nothing but pickup moves it on */
	expect(WAYBILL_CREATED, WE_DEPARTED, -1);
	expect(WAYBILL_CREATED, WE_ARRIVED, -1);
	expect(WAYBILL_CREATED, WE_OUT_FOR_DELIVERY, -1);
	expect(WAYBILL_CREATED, WE_DELIVERED, -1);
	expect(WAYBILL_CREATED, WE_DELIVERY_FAILED, -1);
	expect(WAYBILL_CREATED, WE_FOUND, -1);
	/* no second pickup */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		if (s != WAYBILL_CREATED)
			expect((enum waybill_status)s, WE_PICKED_UP, -1);
	/* delivered only from out_for_delivery */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		if (s != WAYBILL_OUT_FOR_DELIVERY)
			expect((enum waybill_status)s, WE_DELIVERED, -1);
	/* a delivery can fail only while out for delivery */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		if (s != WAYBILL_OUT_FOR_DELIVERY)
			expect((enum waybill_status)s, WE_DELIVERY_FAILED, -1);
	expect(WAYBILL_PICKED_UP, WE_OUT_FOR_DELIVERY, -1);
	expect(WAYBILL_IN_TRANSIT, WE_DELIVERED, -1);
	/* out for delivery: it is delivered or it fails; it does not travel on */
	expect(WAYBILL_OUT_FOR_DELIVERY, WE_OUT_FOR_DELIVERY, -1);
	expect(WAYBILL_OUT_FOR_DELIVERY, WE_RETURNED, -1);
	expect(WAYBILL_OUT_FOR_DELIVERY, WE_FOUND, -1);
}

static void test_lost_and_found(void **state)
{
	(void)state;
	/* any parcel still on its way can be lost */
	static const enum waybill_status losable[] = {
		WAYBILL_PICKED_UP, WAYBILL_IN_TRANSIT, WAYBILL_OUT_FOR_DELIVERY, WAYBILL_DELIVERY_FAILED,
		WAYBILL_HELD, WAYBILL_RETURNING,
	};
	for (size_t i = 0; i < sizeof(losable) / sizeof(losable[0]); i++) {
		expect(losable[i], WE_LOST, WAYBILL_LOST);
		/* found restores exactly the status it had */
		assert_int_equal(waybill_status_next(WAYBILL_LOST, WE_FOUND, losable[i]), (int)losable[i]);
	}
	/* a lost parcel only comes back by being found */
	for (int e = 0; e < WE_EVENT_COUNT; e++) {
		if (e == WE_FOUND)
			continue;
		for (size_t i = 0; i < sizeof(losable) / sizeof(losable[0]); i++)
			if (waybill_status_next(WAYBILL_LOST, (enum waybill_event)e, losable[i]) != -1)
				fail_msg("lost + %s is possible", waybill_event_name((enum waybill_event)e));
	}
	/* found on a parcel that is not lost is impossible */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		if (s != WAYBILL_LOST)
			assert_int_equal(waybill_status_next((enum waybill_status)s, WE_FOUND, WAYBILL_IN_TRANSIT), -1);
	/* a nonsense "before lost" still gives a real status, never lost */
	int st = waybill_status_next(WAYBILL_LOST, WE_FOUND, WAYBILL_LOST);
	assert_true(st >= 0 && st < WAYBILL_STATUS_COUNT && st != WAYBILL_LOST);
	st = waybill_status_next(WAYBILL_LOST, WE_FOUND, (enum waybill_status)77);
	assert_true(st >= 0 && st < WAYBILL_STATUS_COUNT && st != WAYBILL_LOST);
	/* only the lost event leads to lost */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		for (int e = 0; e < WE_EVENT_COUNT; e++)
			if (e != WE_LOST && next((enum waybill_status)s, (enum waybill_event)e) == WAYBILL_LOST)
				fail_msg("%s + %s leads to lost", waybill_status_name((enum waybill_status)s),
					 waybill_event_name((enum waybill_event)e));
}

static void test_damaged_is_a_flag(void **state)
{
	(void)state;
	/* damaged keeps whatever status the parcel has while it is ours */
	static const enum waybill_status live[] = {
		WAYBILL_CREATED, WAYBILL_PICKED_UP, WAYBILL_IN_TRANSIT, WAYBILL_OUT_FOR_DELIVERY,
		WAYBILL_DELIVERY_FAILED, WAYBILL_HELD, WAYBILL_RETURNING,
	};
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		expect(live[i], WE_DAMAGED, (int)live[i]);
	/* never a status of its own */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++) {
		int got = next((enum waybill_status)s, WE_DAMAGED);
		assert_true(got == -1 || got == s);
	}
	expect(WAYBILL_DELIVERED, WE_DAMAGED, -1);
	expect(WAYBILL_RETURNED, WE_DAMAGED, -1);
}

static void test_a_whole_life(void **state)
{
	(void)state;
	static const enum waybill_event life[] = {
		WE_PICKED_UP, WE_DEPARTED, WE_ARRIVED, WE_DAMAGED, WE_DEPARTED, WE_ARRIVED,
		WE_OUT_FOR_DELIVERY, WE_DELIVERY_FAILED, WE_HELD, WE_OUT_FOR_DELIVERY,
		WE_DELIVERY_FAILED, WE_OUT_FOR_DELIVERY, WE_LOST, WE_FOUND, WE_DELIVERED,
	};
	static const enum waybill_status want[] = {
		WAYBILL_PICKED_UP, WAYBILL_IN_TRANSIT, WAYBILL_IN_TRANSIT, WAYBILL_IN_TRANSIT, WAYBILL_IN_TRANSIT,
		WAYBILL_IN_TRANSIT, WAYBILL_OUT_FOR_DELIVERY, WAYBILL_DELIVERY_FAILED, WAYBILL_HELD,
		WAYBILL_OUT_FOR_DELIVERY, WAYBILL_DELIVERY_FAILED, WAYBILL_OUT_FOR_DELIVERY, WAYBILL_LOST,
		WAYBILL_OUT_FOR_DELIVERY, WAYBILL_DELIVERED,
	};
	enum waybill_status cur = WAYBILL_CREATED, before_lost = WAYBILL_CREATED;
	for (size_t i = 0; i < sizeof(life) / sizeof(life[0]); i++) {
		int n = waybill_status_next(cur, life[i], before_lost);
		if (n != (int)want[i])
			fail_msg("step %zu (%s): %d", i, waybill_event_name(life[i]), n);
		if (n == WAYBILL_LOST)
			before_lost = cur;
		cur = (enum waybill_status)n;
	}
	/* and a recalled one */
	static const enum waybill_event back[] = {
		WE_PICKED_UP, WE_DEPARTED, WE_RETURNING, WE_ARRIVED, WE_DEPARTED,
		WE_DAMAGED, WE_RETURNED,
	};
	cur = WAYBILL_CREATED;
	for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
		int n = next(cur, back[i]);
		assert_true(n >= 0);
		cur = (enum waybill_status)n;
	}
	assert_int_equal(cur, WAYBILL_RETURNED);
}

static void test_out_of_range_input(void **state)
{
	(void)state;
	assert_int_equal(waybill_status_next((enum waybill_status)WAYBILL_STATUS_COUNT, WE_PICKED_UP, ANY), -1);
	assert_int_equal(waybill_status_next((enum waybill_status)-1, WE_PICKED_UP, ANY), -1);
	assert_int_equal(waybill_status_next(WAYBILL_CREATED, (enum waybill_event)WE_EVENT_COUNT, ANY), -1);
	assert_int_equal(waybill_status_next(WAYBILL_CREATED, (enum waybill_event)-1, ANY), -1);
	/* every result is a real status or -1 */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++)
		for (int e = 0; e < WE_EVENT_COUNT; e++)
			for (int b = 0; b < WAYBILL_STATUS_COUNT; b++) {
				int n = waybill_status_next((enum waybill_status)s, (enum waybill_event)e,
						       (enum waybill_status)b);
				assert_true(n == -1 || (n >= 0 && n < WAYBILL_STATUS_COUNT));
			}
}

/* ---- lateness ---- */

static struct waybill_lateness judged(const struct waybill_promise *p, int64_t delivered,
				      int64_t now, bool same_city)
{
	struct waybill_lateness l;
	memset(&l, 0xff, sizeof(l));
	waybill_lateness(p, delivered, now, same_city, 3, 7, &l);
	return l;
}

/* A promise never changed by the sender. */
static struct waybill_lateness lateness(int64_t promised, int64_t delivered, int64_t now,
					bool same_city)
{
	struct waybill_promise p = { .promised_at = promised };
	return judged(&p, delivered, now, same_city);
}

static void test_delivered_on_time_or_late(void **state)
{
	(void)state;
	const int64_t p = 1795500000; /* 2026-11-24 */
	const int64_t later = p + 30 * DAY_SECS;
	/* exactly at the promise: on time */
	struct waybill_lateness l = lateness(p, p, later, true);
	assert_false(l.late);
	assert_int_equal(l.late_secs, 0);
	assert_false(l.completely_delayed);
	/* early */
	l = lateness(p, p - 3600, later, false);
	assert_false(l.late);
	assert_int_equal(l.late_secs, 0);
	/* one second after: late by one second */
	l = lateness(p, p + 1, later, true);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 1);
	assert_false(l.completely_delayed);
	/* delivered, even very late, is never "completely delayed": it arrived */
	l = lateness(p, p + 10 * DAY_SECS, later, true);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 10 * DAY_SECS);
	assert_false(l.completely_delayed);
	/* the delivery time is judged, not the clock */
	l = lateness(p, p - 1, p + 100 * DAY_SECS, false);
	assert_false(l.late);
	assert_false(l.completely_delayed);
}

static void test_undelivered_lateness(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	struct waybill_lateness l = lateness(p, 0, p - 1, true);
	assert_false(l.late);
	l = lateness(p, 0, p, true);
	assert_false(l.late);
	assert_int_equal(l.late_secs, 0);
	l = lateness(p, 0, p + 1, true);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 1);
	assert_false(l.completely_delayed);
	l = lateness(p, 0, p + 5000, false);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 5000);
}

static void test_completely_delayed_boundaries(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	/* same city: 3 days */
	assert_false(lateness(p, 0, p + 3 * DAY_SECS - 1, true).completely_delayed);
	struct waybill_lateness l = lateness(p, 0, p + 3 * DAY_SECS, true);
	assert_true(l.completely_delayed);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 3 * DAY_SECS);
	/* between cities: 7 days; 3 days is not enough */
	assert_false(lateness(p, 0, p + 3 * DAY_SECS, false).completely_delayed);
	assert_false(lateness(p, 0, p + 7 * DAY_SECS - 1, false).completely_delayed);
	assert_true(lateness(p, 0, p + 7 * DAY_SECS, false).completely_delayed);
	assert_true(lateness(p, 0, p + 40 * DAY_SECS, false).completely_delayed);
	/* the figures are the caller's (config), not constants */
	struct waybill_lateness c;
	struct waybill_promise w = { .promised_at = p };
	waybill_lateness(&w, 0, p + 5 * DAY_SECS - 1, true, 5, 9, &c);
	assert_false(c.completely_delayed);
	waybill_lateness(&w, 0, p + 5 * DAY_SECS, true, 5, 9, &c);
	assert_true(c.completely_delayed);
	waybill_lateness(&w, 0, p + 9 * DAY_SECS - 1, false, 5, 9, &c);
	assert_false(c.completely_delayed);
	waybill_lateness(&w, 0, p + 9 * DAY_SECS, false, 5, 9, &c);
	assert_true(c.completely_delayed);
	/* delivered one second before the limit, seen long after: not delayed */
	assert_false(lateness(p, p + 3 * DAY_SECS - 1, p + 50 * DAY_SECS, true).completely_delayed);
}

/* ---- the promise in force: the sender's address change and recall ---- */

#define ALLOWANCE (2 * DAY_SECS)

static struct waybill_promise redirect(int64_t promised, int64_t at, bool rerouted, int64_t requested)
{
	struct waybill_promise old = { .promised_at = promised }, out;
	const char *why = NULL;
	assert_int_equal(waybill_redirect_promise(&old, at, rerouted, ALLOWANCE, requested, &out, &why), 0);
	assert_null(why);
	return out;
}

static void test_reroute_before_the_old_promise(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	/* a day before the promise: the old promise plus the allowance, nothing carried */
	struct waybill_promise n = redirect(p, p - DAY_SECS, true, 0);
	assert_int_equal(n.promised_at, p + ALLOWANCE);
	assert_int_equal(n.carried_late_secs, 0);
	assert_int_equal(n.stopped_at, 0);
	/* past the old promise it is not late: the old promise no longer counts */
	assert_false(judged(&n, 0, p + ALLOWANCE, false).late);
	assert_false(judged(&n, p + ALLOWANCE, p + 9 * DAY_SECS, false).late);
	/* past the new one it is, by the time past the new one only */
	struct waybill_lateness l = judged(&n, p + ALLOWANCE + 1, p + 9 * DAY_SECS, false);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 1);
	/* completely delayed counts from the new promise too */
	assert_false(judged(&n, 0, p + ALLOWANCE + 7 * DAY_SECS - 1, false).completely_delayed);
	assert_true(judged(&n, 0, p + ALLOWANCE + 7 * DAY_SECS, false).completely_delayed);
	/* exactly at the old promise: still before it is past, nothing carried */
	n = redirect(p, p, true, 0);
	assert_int_equal(n.promised_at, p + ALLOWANCE);
	assert_int_equal(n.carried_late_secs, 0);
}

static void test_reroute_after_the_old_promise(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	const int64_t at = p + DAY_SECS; /* already a day late by our doing */
	struct waybill_promise n = redirect(p, at, true, 0);
	/* the allowance runs from the change, not from a promise already past */
	assert_int_equal(n.promised_at, at + ALLOWANCE);
	assert_int_equal(n.carried_late_secs, DAY_SECS);
	/* the day already lost stays late; the re-routed leg's clock is stopped
	 * until the new promise */
	struct waybill_lateness l = judged(&n, 0, at + ALLOWANCE, false);
	assert_true(l.late);
	assert_int_equal(l.late_secs, DAY_SECS);
	l = judged(&n, at + ALLOWANCE + 60, at + 30 * DAY_SECS, false);
	assert_int_equal(l.late_secs, DAY_SECS + 60);
	/* completely delayed when both together reach the limit */
	assert_false(judged(&n, 0, at + ALLOWANCE + 6 * DAY_SECS - 1, false).completely_delayed);
	assert_true(judged(&n, 0, at + ALLOWANCE + 6 * DAY_SECS, false).completely_delayed);
	/* one second past the old promise carries one second */
	assert_int_equal(redirect(p, p + 1, true, 0).carried_late_secs, 1);
}

static void test_redirect_within_the_city_and_given_promises(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	/* within the city, without a given promise: the promise stays, and a
	 * parcel already late stays late from the old promise */
	struct waybill_promise n = redirect(p, p - DAY_SECS, false, 0);
	assert_int_equal(n.promised_at, p);
	assert_int_equal(n.carried_late_secs, 0);
	n = redirect(p, p + DAY_SECS, false, 0);
	assert_int_equal(n.promised_at, p);
	assert_int_equal(n.carried_late_secs, 0);
	assert_int_equal(judged(&n, 0, p + 2 * DAY_SECS, false).late_secs, 2 * DAY_SECS);
	/* a promise the desk gives wins over the allowance, for any change */
	n = redirect(p, p - DAY_SECS, true, p + 5 * DAY_SECS);
	assert_int_equal(n.promised_at, p + 5 * DAY_SECS);
	n = redirect(p, p + DAY_SECS, false, p + 3 * DAY_SECS);
	assert_int_equal(n.promised_at, p + 3 * DAY_SECS);
	assert_int_equal(n.carried_late_secs, DAY_SECS);
	/* the same promise given again changes nothing, carries nothing */
	n = redirect(p, p + DAY_SECS, true, 0);
	struct waybill_promise again;
	const char *why = NULL;
	assert_int_equal(waybill_redirect_promise(&n, p + 2 * DAY_SECS, false, ALLOWANCE, n.promised_at,
						  &again, &why), 0);
	assert_memory_equal(&again, &n, sizeof(n));
	/* a given promise must be after the change: at it or before is refused */
	struct waybill_promise old = { .promised_at = p }, out;
	assert_int_equal(waybill_redirect_promise(&old, p - DAY_SECS, true, ALLOWANCE, p - DAY_SECS, &out, &why), -1);
	assert_string_equal(why, "the new promised time must be after the address change");
	why = NULL;
	assert_int_equal(waybill_redirect_promise(&old, p - DAY_SECS, true, ALLOWANCE, p - DAY_SECS + 1, &out, &why), 0);
	assert_int_equal(out.promised_at, p - DAY_SECS + 1);
}

static void test_recall_stops_the_clock(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	/* recalled before the promise: never late, however long it travels back */
	struct waybill_promise r = { .promised_at = p, .stopped_at = p - DAY_SECS };
	struct waybill_lateness l = judged(&r, 0, p + 40 * DAY_SECS, false);
	assert_false(l.late);
	assert_int_equal(l.late_secs, 0);
	assert_false(l.completely_delayed);
	/* recalled exactly at the promise: on time */
	r.stopped_at = p;
	assert_false(judged(&r, 0, p + 40 * DAY_SECS, false).late);
	/* recalled a day after the promise: the day stays, nothing after it */
	r.stopped_at = p + DAY_SECS;
	l = judged(&r, 0, p + 40 * DAY_SECS, false);
	assert_true(l.late);
	assert_int_equal(l.late_secs, DAY_SECS);
	assert_false(l.completely_delayed);
	/* before the recall's instant the clock still ran */
	assert_int_equal(judged(&r, 0, p + 3600, false).late_secs, 3600);
	/* a parcel already completely delayed when recalled stays so */
	r.stopped_at = p + 7 * DAY_SECS;
	assert_true(judged(&r, 0, p + 40 * DAY_SECS, false).completely_delayed);
	/* a recall after a re-route keeps the carried lateness */
	struct waybill_promise both = { .promised_at = p, .carried_late_secs = 600, .stopped_at = p - 1 };
	assert_int_equal(judged(&both, 0, p + DAY_SECS, false).late_secs, 600);
}

/* ---- delivery: where the parcel was left, attempts ---- */

/* An enum argument of SCAN in the command table. */
static const struct pd_arg_spec *scan_enum_arg(const char *name)
{
	assert_int_equal(pd_commands_init(), 0);
	const struct pd_command *scan = pd_command_by_id(PD_CMD_scan);
	const struct pd_arg_spec *arg = NULL;
	for (int i = 0; i < scan->arg_count; i++)
		if (strcmp(scan->arg[i].name, name) == 0)
			arg = &scan->arg[i];
	assert_non_null(arg);
	assert_int_equal(arg->type, ARG_ENUM);
	return arg;
}

static void test_delivery_accuracy(void **state)
{
	(void)state;
	/* into the hand: the signer decides, as before */
	assert_true(waybill_delivery_accurate(WAYBILL_TO_HAND, true, false));
	assert_false(waybill_delivery_accurate(WAYBILL_TO_HAND, false, false));
	/* elsewhere: the receiver's consent decides, whoever signed */
	for (int d = WAYBILL_TO_LOCKER; d < WAYBILL_DROP_COUNT; d++) {
		assert_true(waybill_delivery_accurate((enum waybill_drop)d, false, true));
		assert_true(waybill_delivery_accurate((enum waybill_drop)d, true, true));
		assert_false(waybill_delivery_accurate((enum waybill_drop)d, false, false));
		assert_false(waybill_delivery_accurate((enum waybill_drop)d, true, false));
	}
}

static void test_attempts_count(void **state)
{
	(void)state;
	/* two attempts are free: the first and the second going out */
	assert_int_equal(waybill_attempt_fee(0, 2, 500), 0);
	assert_int_equal(waybill_attempt_fee(1, 2, 500), 0);
	/* the third, after two failed, pays; so does every one after it */
	assert_int_equal(waybill_attempt_fee(2, 2, 500), 500);
	assert_int_equal(waybill_attempt_fee(3, 2, 500), 500);
	assert_int_equal(waybill_attempt_fee(9, 2, 500), 500);
	/* the figures are the caller's (config) */
	assert_int_equal(waybill_attempt_fee(2, 3, 800), 0);
	assert_int_equal(waybill_attempt_fee(3, 3, 800), 800);
	assert_int_equal(waybill_attempt_fee(5, 2, 0), 0);
}

static void test_drop_names_match_the_scan_command(void **state)
{
	(void)state;
	for (int d = 0; d < WAYBILL_DROP_COUNT; d++)
		assert_int_equal(waybill_drop_parse(waybill_drop_name((enum waybill_drop)d)), d);
	assert_int_equal(waybill_drop_parse("doorstep"), -1);
	assert_int_equal(waybill_drop_parse(NULL), -1);
	assert_string_equal(waybill_drop_name(WAYBILL_DROP_COUNT), "?");
	const struct pd_arg_spec *to = scan_enum_arg("to");
	assert_int_equal(to->enum_count, WAYBILL_DROP_COUNT);
	for (int i = 0; i < to->enum_count; i++)
		assert_int_equal(waybill_drop_parse(to->enum_values[i]), i);
}

/* ---- a delivery failed by the receiver's doing: not our delay ---- */

#define RECEIVER_ALLOWANCE DAY_SECS

static struct waybill_promise receiver_fault(int64_t promised, int64_t carried, int64_t at)
{
	struct waybill_promise old = { .promised_at = promised, .carried_late_secs = carried }, out;
	memset(&out, 0xff, sizeof(out));
	waybill_receiver_fault_promise(&old, at, RECEIVER_ALLOWANCE, &out);
	return out;
}

static void test_receiver_fault_before_the_promise(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	/* a day before the promise: the promise plus the allowance, nothing carried */
	struct waybill_promise n = receiver_fault(p, 0, p - DAY_SECS);
	assert_int_equal(n.promised_at, p + RECEIVER_ALLOWANCE);
	assert_int_equal(n.carried_late_secs, 0);
	assert_int_equal(n.stopped_at, 0);
	/* delivered after the first promise, at the new one: on time */
	assert_false(judged(&n, p + RECEIVER_ALLOWANCE, p + 9 * DAY_SECS, false).late);
	struct waybill_lateness l = judged(&n, p + RECEIVER_ALLOWANCE + 1, p + 9 * DAY_SECS, false);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 1);
	/* failed exactly at the promise: the allowance from it, nothing carried */
	n = receiver_fault(p, 0, p);
	assert_int_equal(n.promised_at, p + RECEIVER_ALLOWANCE);
	assert_int_equal(n.carried_late_secs, 0);
	/* a second receiver-caused failure moves it again, from the later promise */
	n = receiver_fault(n.promised_at, n.carried_late_secs, p + 60);
	assert_int_equal(n.promised_at, p + 2 * RECEIVER_ALLOWANCE);
	assert_int_equal(n.carried_late_secs, 0);
}

static void test_receiver_fault_after_the_promise(void **state)
{
	(void)state;
	const int64_t p = 1795500000;
	/* a failure an hour past the promise: the hour was ours and stays */
	struct waybill_promise n = receiver_fault(p, 0, p + 3600);
	assert_int_equal(n.promised_at, p + 3600 + RECEIVER_ALLOWANCE);
	assert_int_equal(n.carried_late_secs, 3600);
	struct waybill_lateness l = judged(&n, p + 3600 + RECEIVER_ALLOWANCE, p + 9 * DAY_SECS, false);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 3600);
	/* one second past: one second carried; lateness carried before adds up */
	assert_int_equal(receiver_fault(p, 0, p + 1).carried_late_secs, 1);
	assert_int_equal(receiver_fault(p, 500, p + 1).carried_late_secs, 501);
	/* completely delayed when the carried hour and the time past the new
	 * promise reach the limit together */
	assert_false(judged(&n, 0, p + 3600 + RECEIVER_ALLOWANCE + 7 * DAY_SECS - 3601, false).completely_delayed);
	assert_true(judged(&n, 0, p + 3600 + RECEIVER_ALLOWANCE + 7 * DAY_SECS - 3600, false).completely_delayed);
	/* an allowance of 0 past the promise: the promise becomes the failure,
	 * the lateness so far is carried, none is added or lost */
	struct waybill_promise old = { .promised_at = p }, out;
	waybill_receiver_fault_promise(&old, p + 3600, 0, &out);
	assert_int_equal(out.promised_at, p + 3600);
	assert_int_equal(out.carried_late_secs, 3600);
	assert_int_equal(judged(&out, 0, p + 7200, false).late_secs, 7200);
}

static void test_fail_causes(void **state)
{
	(void)state;
	assert_false(waybill_fail_cause_receiver(WAYBILL_CAUSE_CARRIER));
	for (int c = WAYBILL_CAUSE_CARRIER + 1; c < WAYBILL_CAUSE_COUNT; c++)
		assert_true(waybill_fail_cause_receiver((enum waybill_fail_cause)c));
	assert_false(waybill_fail_cause_receiver(WAYBILL_CAUSE_COUNT));
	assert_string_equal(waybill_fail_cause_name(WAYBILL_CAUSE_CARRIER), "carrier");
	assert_string_equal(waybill_fail_cause_name(WAYBILL_CAUSE_COUNT), "?");
	assert_int_equal(waybill_fail_cause_parse("weather"), -1);
	assert_int_equal(waybill_fail_cause_parse(NULL), -1);
	/* SCAN's cause enum is exactly the list of causes, in order */
	const struct pd_arg_spec *cause = scan_enum_arg("cause");
	assert_int_equal(cause->enum_count, WAYBILL_CAUSE_COUNT);
	for (int i = 0; i < cause->enum_count; i++)
		assert_int_equal(waybill_fail_cause_parse(cause->enum_values[i]), i);
}

/* ---- address change and recall ---- */

static void test_change_allowed_before_delivery(void **state)
{
	(void)state;
	static const enum waybill_status ok[] = { WAYBILL_CREATED, WAYBILL_PICKED_UP, WAYBILL_IN_TRANSIT, WAYBILL_HELD };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *why = NULL;
		if (waybill_change_allowed(ok[i], false, 0, 2, &why) != 0)
			fail_msg("%s: refused (%s)", waybill_status_name(ok[i]), why ? why : "");
		/* but not once it has gone out for delivery, before two failed */
		why = NULL;
		assert_true(waybill_change_allowed(ok[i], true, 1, 2, &why) < 0);
		assert_non_null(why);
		assert_non_null(strstr(why, "out for delivery"));
	}
}

static void test_change_refused(void **state)
{
	(void)state;
	static const struct { enum waybill_status s; const char *word; } refused[] = {
		{ WAYBILL_OUT_FOR_DELIVERY, "is out for delivery" },
		{ WAYBILL_DELIVERY_FAILED, "free delivery attempts" },
		{ WAYBILL_DELIVERED, "delivered" },
		{ WAYBILL_RETURNED, "returned" },
		{ WAYBILL_RETURNING, "back" },
		{ WAYBILL_LOST, "lost" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		for (int flag = 0; flag < 2; flag++) {
			const char *why = NULL;
			if (waybill_change_allowed(refused[i].s, flag, 1, 2, &why) >= 0)
				fail_msg("%s: allowed", waybill_status_name(refused[i].s));
			assert_non_null(why);
			if (!strstr(why, refused[i].word))
				fail_msg("%s: reason '%s'", waybill_status_name(refused[i].s), why);
		}
	}
	/* every status is decided one way or the other, with a reason */
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++) {
		const char *why = NULL;
		int rc = waybill_change_allowed((enum waybill_status)s, false, 0, 2, &why);
		assert_true(rc == 0 || (rc < 0 && why && *why));
	}
}

/* After the free attempts failed the sender decides (redirect or return):
 * a held or failed parcel may be changed from the second failure on. */
static void test_sender_decides_after_the_free_attempts(void **state)
{
	(void)state;
	static const enum waybill_status waiting[] = { WAYBILL_HELD, WAYBILL_DELIVERY_FAILED };
	for (size_t i = 0; i < 2; i++) {
		const char *why = NULL;
		/* one failed of two free: refused, naming the rule */
		assert_int_equal(waybill_change_allowed(waiting[i], true, 1, 2, &why), WAYBILL_CHANGE_TOO_FEW_FAILED);
		assert_non_null(strstr(why, "the sender decides (redirect or return) only once the free delivery "
					    "attempts have failed"));
		assert_int_equal(waybill_change_allowed(waiting[i], true, 0, 2, &why), WAYBILL_CHANGE_TOO_FEW_FAILED);
		/* the second failure: the sender decides; more failures too */
		assert_int_equal(waybill_change_allowed(waiting[i], true, 2, 2, &why), 0);
		assert_int_equal(waybill_change_allowed(waiting[i], true, 5, 2, &why), 0);
		/* the threshold is the free attempts' figure */
		assert_int_equal(waybill_change_allowed(waiting[i], true, 2, 3, &why), WAYBILL_CHANGE_TOO_FEW_FAILED);
		assert_int_equal(waybill_change_allowed(waiting[i], true, 3, 3, &why), 0);
	}
	/* whatever failed, never while out for delivery, nor once it moved on,
	 * delivered, lost, returning or returned */
	static const struct { enum waybill_status s; const char *word; } refused[] = {
		{ WAYBILL_OUT_FOR_DELIVERY, "is out for delivery" },
		{ WAYBILL_IN_TRANSIT, "has gone out for delivery" },
		{ WAYBILL_DELIVERED, "delivered" },
		{ WAYBILL_LOST, "lost" },
		{ WAYBILL_RETURNING, "back" },
		{ WAYBILL_RETURNED, "returned" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *why = NULL;
		if (waybill_change_allowed(refused[i].s, true, 4, 2, &why) != -1 || !strstr(why, refused[i].word))
			fail_msg("%s after 4 failed: '%s'", waybill_status_name(refused[i].s), why ? why : "allowed");
	}
}

/* ---- names ---- */

static void test_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < WAYBILL_STATUS_COUNT; s++) {
		const char *name = waybill_status_name((enum waybill_status)s);
		assert_string_not_equal(name, "?");
		assert_int_equal(waybill_status_parse(name), s);
		for (int t = 0; t < s; t++)
			assert_string_not_equal(name, waybill_status_name((enum waybill_status)t));
	}
	for (int e = 0; e < WE_EVENT_COUNT; e++) {
		const char *name = waybill_event_name((enum waybill_event)e);
		assert_string_not_equal(name, "?");
		assert_int_equal(waybill_event_parse(name), e);
		for (int t = 0; t < e; t++)
			assert_string_not_equal(name, waybill_event_name((enum waybill_event)t));
	}
	assert_string_equal(waybill_status_name(WAYBILL_OUT_FOR_DELIVERY), "out_for_delivery");
	assert_string_equal(waybill_event_name(WE_DELIVERY_FAILED), "delivery_failed");
	assert_int_equal(waybill_status_parse("teleported"), -1);
	assert_int_equal(waybill_status_parse(""), -1);
	assert_int_equal(waybill_status_parse(NULL), -1);
	assert_int_equal(waybill_event_parse("teleported"), -1);
	assert_int_equal(waybill_event_parse(NULL), -1);
	assert_int_equal(waybill_event_parse("delivered "), -1);
	assert_string_equal(waybill_status_name((enum waybill_status)WAYBILL_STATUS_COUNT), "?");
	assert_string_equal(waybill_event_name((enum waybill_event)WE_EVENT_COUNT), "?");
	/* damaged and found are events, not statuses */
	assert_int_equal(waybill_status_parse("damaged"), -1);
	assert_int_equal(waybill_status_parse("found"), -1);
}

/* SCAN's event enum in the command table is exactly the list of events. */
static void test_scan_events_match_the_table(void **state)
{
	(void)state;
	const struct pd_arg_spec *ev = scan_enum_arg("event");
	assert_int_equal(ev->enum_count, WE_EVENT_COUNT);
	for (int i = 0; i < ev->enum_count; i++)
		if (waybill_event_parse(ev->enum_values[i]) < 0)
			fail_msg("SCAN event '%s' is not a waybill event", ev->enum_values[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_road),
		cmocka_unit_test(test_delivery_failed_branches),
		cmocka_unit_test(test_returning_road),
		cmocka_unit_test(test_nothing_follows_delivered_or_returned),
		cmocka_unit_test(test_skipping_steps_is_impossible),
		cmocka_unit_test(test_lost_and_found),
		cmocka_unit_test(test_damaged_is_a_flag),
		cmocka_unit_test(test_a_whole_life),
		cmocka_unit_test(test_out_of_range_input),
		cmocka_unit_test(test_delivered_on_time_or_late),
		cmocka_unit_test(test_undelivered_lateness),
		cmocka_unit_test(test_completely_delayed_boundaries),
		cmocka_unit_test(test_reroute_before_the_old_promise),
		cmocka_unit_test(test_reroute_after_the_old_promise),
		cmocka_unit_test(test_redirect_within_the_city_and_given_promises),
		cmocka_unit_test(test_recall_stops_the_clock),
		cmocka_unit_test(test_delivery_accuracy),
		cmocka_unit_test(test_attempts_count),
		cmocka_unit_test(test_drop_names_match_the_scan_command),
		cmocka_unit_test(test_receiver_fault_before_the_promise),
		cmocka_unit_test(test_receiver_fault_after_the_promise),
		cmocka_unit_test(test_fail_causes),
		cmocka_unit_test(test_change_allowed_before_delivery),
		cmocka_unit_test(test_change_refused),
		cmocka_unit_test(test_sender_decides_after_the_free_attempts),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_scan_events_match_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
