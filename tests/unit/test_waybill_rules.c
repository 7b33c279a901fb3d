/*
 * Unit tests for daemon/waybill_rules.c against domain-rules.md section 1
 * (status, lateness) and section 3 (when an address change or a recall is
 * allowed).
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
#define ANY WB_IN_TRANSIT

static int next(enum wb_status cur, enum wb_event ev)
{
	return wb_status_next(cur, ev, ANY);
}

static void expect(enum wb_status cur, enum wb_event ev, int want)
{
	int got = next(cur, ev);
	if (got != want)
		fail_msg("%s + %s: got %s (%d), want %s (%d)", wb_status_name(cur),
			 wb_event_name(ev), got < 0 ? "impossible" : wb_status_name(got), got,
			 want < 0 ? "impossible" : wb_status_name(want), want);
}

/* ---- the allowed road, step by step ---- */

static void test_forward_road(void **state)
{
	(void)state;
	/* created -> picked_up -> in_transit -> out_for_delivery -> delivered */
	expect(WB_CREATED, WE_PICKED_UP, WB_PICKED_UP);
	expect(WB_PICKED_UP, WE_DEPARTED, WB_IN_TRANSIT);
	expect(WB_PICKED_UP, WE_ARRIVED, WB_IN_TRANSIT);
	expect(WB_IN_TRANSIT, WE_DEPARTED, WB_IN_TRANSIT);
	expect(WB_IN_TRANSIT, WE_ARRIVED, WB_IN_TRANSIT);
	expect(WB_IN_TRANSIT, WE_OUT_FOR_DELIVERY, WB_OUT_FOR_DELIVERY);
	expect(WB_OUT_FOR_DELIVERY, WE_DELIVERED, WB_DELIVERED);
}

static void test_delivery_failed_branches(void **state)
{
	(void)state;
	expect(WB_OUT_FOR_DELIVERY, WE_DELIVERY_FAILED, WB_DELIVERY_FAILED);
	/* delivery_failed goes back out, to held at a depot, or returning */
	expect(WB_DELIVERY_FAILED, WE_OUT_FOR_DELIVERY, WB_OUT_FOR_DELIVERY);
	expect(WB_DELIVERY_FAILED, WE_HELD, WB_HELD);
	expect(WB_DELIVERY_FAILED, WE_RETURNING, WB_RETURNING);
	/* and nowhere else on the forward road */
	expect(WB_DELIVERY_FAILED, WE_DELIVERED, -1);
	expect(WB_DELIVERY_FAILED, WE_PICKED_UP, -1);
	expect(WB_DELIVERY_FAILED, WE_RETURNED, -1);
	expect(WB_DELIVERY_FAILED, WE_DELIVERY_FAILED, -1);
	expect(WB_DELIVERY_FAILED, WE_FOUND, -1);
	/* a held parcel goes out again */
	expect(WB_HELD, WE_OUT_FOR_DELIVERY, WB_OUT_FOR_DELIVERY);
	expect(WB_HELD, WE_RETURNING, WB_RETURNING);
}

static void test_returning_road(void **state)
{
	(void)state;
	expect(WB_RETURNING, WE_RETURNED, WB_RETURNED);
	/* scans on the way back keep it returning */
	expect(WB_RETURNING, WE_DEPARTED, WB_RETURNING);
	expect(WB_RETURNING, WE_ARRIVED, WB_RETURNING);
	/* it does not go back to the receiver */
	expect(WB_RETURNING, WE_OUT_FOR_DELIVERY, -1);
	expect(WB_RETURNING, WE_DELIVERED, -1);
	expect(WB_RETURNING, WE_DELIVERY_FAILED, -1);
	expect(WB_RETURNING, WE_PICKED_UP, -1);
	expect(WB_RETURNING, WE_FOUND, -1);
	/* a recall sends a parcel that is still on its way returning */
	expect(WB_IN_TRANSIT, WE_RETURNING, WB_RETURNING);
	expect(WB_PICKED_UP, WE_RETURNING, WB_RETURNING);
	/* returned only after returning */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		if (s != WB_RETURNING)
			expect((enum wb_status)s, WE_RETURNED, -1);
}

static void test_nothing_follows_delivered_or_returned(void **state)
{
	(void)state;
	for (int e = 0; e < WE_EVENT_COUNT; e++) {
		for (int before = 0; before < WB_STATUS_COUNT; before++) {
			assert_int_equal(wb_status_next(WB_DELIVERED, (enum wb_event)e,
							(enum wb_status)before), -1);
			assert_int_equal(wb_status_next(WB_RETURNED, (enum wb_event)e,
							(enum wb_status)before), -1);
		}
	}
	assert_true(wb_status_final(WB_DELIVERED));
	assert_true(wb_status_final(WB_RETURNED));
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		if (s != WB_DELIVERED && s != WB_RETURNED)
			assert_false(wb_status_final((enum wb_status)s));
}

static void test_skipping_steps_is_impossible(void **state)
{
	(void)state;
	/* created: nothing but pickup moves it on */
	expect(WB_CREATED, WE_DEPARTED, -1);
	expect(WB_CREATED, WE_ARRIVED, -1);
	expect(WB_CREATED, WE_OUT_FOR_DELIVERY, -1);
	expect(WB_CREATED, WE_DELIVERED, -1);
	expect(WB_CREATED, WE_DELIVERY_FAILED, -1);
	expect(WB_CREATED, WE_FOUND, -1);
	/* no second pickup */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		if (s != WB_CREATED)
			expect((enum wb_status)s, WE_PICKED_UP, -1);
	/* delivered only from out_for_delivery */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		if (s != WB_OUT_FOR_DELIVERY)
			expect((enum wb_status)s, WE_DELIVERED, -1);
	/* a delivery can fail only while out for delivery */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		if (s != WB_OUT_FOR_DELIVERY)
			expect((enum wb_status)s, WE_DELIVERY_FAILED, -1);
	expect(WB_PICKED_UP, WE_OUT_FOR_DELIVERY, -1);
	expect(WB_IN_TRANSIT, WE_DELIVERED, -1);
	/* out for delivery: it is delivered or it fails; it does not travel on */
	expect(WB_OUT_FOR_DELIVERY, WE_OUT_FOR_DELIVERY, -1);
	expect(WB_OUT_FOR_DELIVERY, WE_RETURNED, -1);
	expect(WB_OUT_FOR_DELIVERY, WE_FOUND, -1);
}

static void test_lost_and_found(void **state)
{
	(void)state;
	/* any parcel still on its way can be lost */
	static const enum wb_status losable[] = {
		WB_PICKED_UP, WB_IN_TRANSIT, WB_OUT_FOR_DELIVERY, WB_DELIVERY_FAILED,
		WB_HELD, WB_RETURNING,
	};
	for (size_t i = 0; i < sizeof(losable) / sizeof(losable[0]); i++) {
		expect(losable[i], WE_LOST, WB_LOST);
		/* found restores exactly the status it had */
		assert_int_equal(wb_status_next(WB_LOST, WE_FOUND, losable[i]), (int)losable[i]);
	}
	/* a lost parcel only comes back by being found */
	for (int e = 0; e < WE_EVENT_COUNT; e++) {
		if (e == WE_FOUND)
			continue;
		for (size_t i = 0; i < sizeof(losable) / sizeof(losable[0]); i++)
			if (wb_status_next(WB_LOST, (enum wb_event)e, losable[i]) != -1)
				fail_msg("lost + %s is possible", wb_event_name((enum wb_event)e));
	}
	/* found on a parcel that is not lost is impossible */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		if (s != WB_LOST)
			assert_int_equal(wb_status_next((enum wb_status)s, WE_FOUND, WB_IN_TRANSIT), -1);
	/* a nonsense "before lost" still gives a real status, never lost */
	int st = wb_status_next(WB_LOST, WE_FOUND, WB_LOST);
	assert_true(st >= 0 && st < WB_STATUS_COUNT && st != WB_LOST);
	st = wb_status_next(WB_LOST, WE_FOUND, (enum wb_status)77);
	assert_true(st >= 0 && st < WB_STATUS_COUNT && st != WB_LOST);
	/* only the lost event leads to lost */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		for (int e = 0; e < WE_EVENT_COUNT; e++)
			if (e != WE_LOST && next((enum wb_status)s, (enum wb_event)e) == WB_LOST)
				fail_msg("%s + %s leads to lost", wb_status_name((enum wb_status)s),
					 wb_event_name((enum wb_event)e));
}

static void test_damaged_is_a_flag(void **state)
{
	(void)state;
	/* damaged keeps whatever status the parcel has while it is ours */
	static const enum wb_status live[] = {
		WB_CREATED, WB_PICKED_UP, WB_IN_TRANSIT, WB_OUT_FOR_DELIVERY,
		WB_DELIVERY_FAILED, WB_HELD, WB_RETURNING,
	};
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		expect(live[i], WE_DAMAGED, (int)live[i]);
	/* never a status of its own */
	for (int s = 0; s < WB_STATUS_COUNT; s++) {
		int got = next((enum wb_status)s, WE_DAMAGED);
		assert_true(got == -1 || got == s);
	}
	expect(WB_DELIVERED, WE_DAMAGED, -1);
	expect(WB_RETURNED, WE_DAMAGED, -1);
}

static void test_a_whole_life(void **state)
{
	(void)state;
	static const enum wb_event life[] = {
		WE_PICKED_UP, WE_DEPARTED, WE_ARRIVED, WE_DAMAGED, WE_DEPARTED, WE_ARRIVED,
		WE_OUT_FOR_DELIVERY, WE_DELIVERY_FAILED, WE_HELD, WE_OUT_FOR_DELIVERY,
		WE_DELIVERY_FAILED, WE_OUT_FOR_DELIVERY, WE_LOST, WE_FOUND, WE_DELIVERED,
	};
	static const enum wb_status want[] = {
		WB_PICKED_UP, WB_IN_TRANSIT, WB_IN_TRANSIT, WB_IN_TRANSIT, WB_IN_TRANSIT,
		WB_IN_TRANSIT, WB_OUT_FOR_DELIVERY, WB_DELIVERY_FAILED, WB_HELD,
		WB_OUT_FOR_DELIVERY, WB_DELIVERY_FAILED, WB_OUT_FOR_DELIVERY, WB_LOST,
		WB_OUT_FOR_DELIVERY, WB_DELIVERED,
	};
	enum wb_status cur = WB_CREATED, before_lost = WB_CREATED;
	for (size_t i = 0; i < sizeof(life) / sizeof(life[0]); i++) {
		int n = wb_status_next(cur, life[i], before_lost);
		if (n != (int)want[i])
			fail_msg("step %zu (%s): %d", i, wb_event_name(life[i]), n);
		if (n == WB_LOST)
			before_lost = cur;
		cur = (enum wb_status)n;
	}
	/* and a recalled one */
	static const enum wb_event back[] = {
		WE_PICKED_UP, WE_DEPARTED, WE_RETURNING, WE_ARRIVED, WE_DEPARTED,
		WE_DAMAGED, WE_RETURNED,
	};
	cur = WB_CREATED;
	for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
		int n = next(cur, back[i]);
		assert_true(n >= 0);
		cur = (enum wb_status)n;
	}
	assert_int_equal(cur, WB_RETURNED);
}

static void test_out_of_range_input(void **state)
{
	(void)state;
	assert_int_equal(wb_status_next((enum wb_status)WB_STATUS_COUNT, WE_PICKED_UP, ANY), -1);
	assert_int_equal(wb_status_next((enum wb_status)-1, WE_PICKED_UP, ANY), -1);
	assert_int_equal(wb_status_next(WB_CREATED, (enum wb_event)WE_EVENT_COUNT, ANY), -1);
	assert_int_equal(wb_status_next(WB_CREATED, (enum wb_event)-1, ANY), -1);
	/* every result is a real status or -1 */
	for (int s = 0; s < WB_STATUS_COUNT; s++)
		for (int e = 0; e < WE_EVENT_COUNT; e++)
			for (int b = 0; b < WB_STATUS_COUNT; b++) {
				int n = wb_status_next((enum wb_status)s, (enum wb_event)e,
						       (enum wb_status)b);
				assert_true(n == -1 || (n >= 0 && n < WB_STATUS_COUNT));
			}
}

/* ---- lateness ---- */

static struct wb_lateness lateness(int64_t promised, int64_t delivered, int64_t now,
				   bool same_city)
{
	struct wb_lateness l;
	memset(&l, 0xff, sizeof(l));
	wb_lateness(promised, delivered, now, same_city, 3, 7, &l);
	return l;
}

static void test_delivered_on_time_or_late(void **state)
{
	(void)state;
	const int64_t p = 1795500000; /* 2026-11-24 */
	const int64_t later = p + 30 * DAY_SECS;
	/* exactly at the promise: on time */
	struct wb_lateness l = lateness(p, p, later, true);
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
	struct wb_lateness l = lateness(p, 0, p - 1, true);
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
	struct wb_lateness l = lateness(p, 0, p + 3 * DAY_SECS, true);
	assert_true(l.completely_delayed);
	assert_true(l.late);
	assert_int_equal(l.late_secs, 3 * DAY_SECS);
	/* between cities: 7 days; 3 days is not enough */
	assert_false(lateness(p, 0, p + 3 * DAY_SECS, false).completely_delayed);
	assert_false(lateness(p, 0, p + 7 * DAY_SECS - 1, false).completely_delayed);
	assert_true(lateness(p, 0, p + 7 * DAY_SECS, false).completely_delayed);
	assert_true(lateness(p, 0, p + 40 * DAY_SECS, false).completely_delayed);
	/* the figures are the caller's (config), not constants */
	struct wb_lateness c;
	wb_lateness(p, 0, p + 5 * DAY_SECS - 1, true, 5, 9, &c);
	assert_false(c.completely_delayed);
	wb_lateness(p, 0, p + 5 * DAY_SECS, true, 5, 9, &c);
	assert_true(c.completely_delayed);
	wb_lateness(p, 0, p + 9 * DAY_SECS - 1, false, 5, 9, &c);
	assert_false(c.completely_delayed);
	wb_lateness(p, 0, p + 9 * DAY_SECS, false, 5, 9, &c);
	assert_true(c.completely_delayed);
	/* delivered one second before the limit, seen long after: not delayed */
	assert_false(lateness(p, p + 3 * DAY_SECS - 1, p + 50 * DAY_SECS, true).completely_delayed);
}

/* ---- address change and recall ---- */

static void test_change_allowed_before_delivery(void **state)
{
	(void)state;
	static const enum wb_status ok[] = { WB_CREATED, WB_PICKED_UP, WB_IN_TRANSIT, WB_HELD };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *why = NULL;
		if (wb_change_allowed(ok[i], false, &why) != 0)
			fail_msg("%s: refused (%s)", wb_status_name(ok[i]), why ? why : "");
		/* but never once it has gone out for delivery */
		why = NULL;
		assert_int_equal(wb_change_allowed(ok[i], true, &why), -1);
		assert_non_null(why);
		assert_non_null(strstr(why, "out for delivery"));
	}
}

static void test_change_refused(void **state)
{
	(void)state;
	static const struct { enum wb_status s; const char *word; } refused[] = {
		{ WB_OUT_FOR_DELIVERY, "out for delivery" },
		{ WB_DELIVERY_FAILED, "out for delivery" },
		{ WB_DELIVERED, "delivered" },
		{ WB_RETURNED, "returned" },
		{ WB_RETURNING, "back" },
		{ WB_LOST, "lost" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		for (int flag = 0; flag < 2; flag++) {
			const char *why = NULL;
			if (wb_change_allowed(refused[i].s, flag, &why) != -1)
				fail_msg("%s: allowed", wb_status_name(refused[i].s));
			assert_non_null(why);
			if (!strstr(why, refused[i].word))
				fail_msg("%s: reason '%s'", wb_status_name(refused[i].s), why);
		}
	}
	/* every status is decided one way or the other, with a reason */
	for (int s = 0; s < WB_STATUS_COUNT; s++) {
		const char *why = NULL;
		int rc = wb_change_allowed((enum wb_status)s, false, &why);
		assert_true(rc == 0 || (rc == -1 && why && *why));
	}
}

/* ---- names ---- */

static void test_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < WB_STATUS_COUNT; s++) {
		const char *name = wb_status_name((enum wb_status)s);
		assert_string_not_equal(name, "?");
		assert_int_equal(wb_status_parse(name), s);
		for (int t = 0; t < s; t++)
			assert_string_not_equal(name, wb_status_name((enum wb_status)t));
	}
	for (int e = 0; e < WE_EVENT_COUNT; e++) {
		const char *name = wb_event_name((enum wb_event)e);
		assert_string_not_equal(name, "?");
		assert_int_equal(wb_event_parse(name), e);
		for (int t = 0; t < e; t++)
			assert_string_not_equal(name, wb_event_name((enum wb_event)t));
	}
	assert_string_equal(wb_status_name(WB_OUT_FOR_DELIVERY), "out_for_delivery");
	assert_string_equal(wb_event_name(WE_DELIVERY_FAILED), "delivery_failed");
	assert_int_equal(wb_status_parse("teleported"), -1);
	assert_int_equal(wb_status_parse(""), -1);
	assert_int_equal(wb_status_parse(NULL), -1);
	assert_int_equal(wb_event_parse("teleported"), -1);
	assert_int_equal(wb_event_parse(NULL), -1);
	assert_int_equal(wb_event_parse("delivered "), -1);
	assert_string_equal(wb_status_name((enum wb_status)WB_STATUS_COUNT), "?");
	assert_string_equal(wb_event_name((enum wb_event)WE_EVENT_COUNT), "?");
	/* damaged and found are events, not statuses */
	assert_int_equal(wb_status_parse("damaged"), -1);
	assert_int_equal(wb_status_parse("found"), -1);
}

/* SCAN's event enum in the command table is exactly the list of events. */
static void test_scan_events_match_the_table(void **state)
{
	(void)state;
	assert_int_equal(pd_commands_init(), 0);
	const struct pd_command *scan = pd_command_by_id(PD_CMD_scan);
	const struct pd_arg_spec *ev = NULL;
	for (int i = 0; i < scan->arg_count; i++)
		if (strcmp(scan->arg[i].name, "event") == 0)
			ev = &scan->arg[i];
	assert_non_null(ev);
	assert_int_equal(ev->type, ARG_ENUM);
	assert_int_equal(ev->enum_count, WE_EVENT_COUNT);
	for (int i = 0; i < ev->enum_count; i++)
		if (wb_event_parse(ev->enum_values[i]) < 0)
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
		cmocka_unit_test(test_change_allowed_before_delivery),
		cmocka_unit_test(test_change_refused),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_scan_events_match_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
