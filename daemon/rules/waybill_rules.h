/* waybill_rules.h — the waybill's rules as pure functions (no I/O, no
 * clock): the status state machine, lateness, and when an address change or
 * a recall is allowed. domain-rules.md sections 1 and 3. */
#ifndef PD_WAYBILL_RULES_H
#define PD_WAYBILL_RULES_H

#include <stdbool.h>
#include <stdint.h>

enum wb_status {
	WB_CREATED, WB_PICKED_UP, WB_IN_TRANSIT, WB_OUT_FOR_DELIVERY,
	WB_DELIVERED, WB_DELIVERY_FAILED, WB_HELD, WB_RETURNING, WB_RETURNED,
	WB_LOST, WB_STATUS_COUNT
};

enum wb_event {
	WE_PICKED_UP, WE_DEPARTED, WE_ARRIVED, WE_OUT_FOR_DELIVERY,
	WE_DELIVERED, WE_DELIVERY_FAILED, WE_HELD, WE_DAMAGED, WE_LOST,
	WE_FOUND, WE_RETURNING, WE_RETURNED, WE_EVENT_COUNT
};

const char *wb_status_name(enum wb_status s);
/* -1 for an unknown name */
int wb_status_parse(const char *s);
const char *wb_event_name(enum wb_event e);
int wb_event_parse(const char *s);

/* The status after an event, or -1 when the event is impossible in the
 * current status (the caller answers 409 and writes nothing).
 * `before_lost` is the status a `lost` parcel had, restored by `found`.
 * `damaged` is a flag, not a status: it keeps the status. */
int wb_status_next(enum wb_status cur, enum wb_event ev,
		   enum wb_status before_lost);

/* True for delivered and returned: only claims and complaints follow. */
bool wb_status_final(enum wb_status s);

struct wb_lateness {
	bool late;                /* past the promise and not delivered in time */
	bool completely_delayed;  /* undelivered N days past the promise */
	int64_t late_secs;        /* how far past the promise (0 if not late) */
};

/* delivered_at is 0 when not delivered. A parcel delivered exactly at the
 * promised second is on time; one still undelivered exactly N days after the
 * promise is completely delayed. Returned or lost parcels are judged like
 * undelivered ones (they missed their promise). */
void wb_lateness(int64_t promised_at, int64_t delivered_at, int64_t now,
		 bool same_city, int64_t same_city_days, int64_t intercity_days,
		 struct wb_lateness *out);

/* May the sender still change the address (or recall)? Only while the
 * parcel has never gone out for delivery and is not delivered, lost,
 * returning or returned. Returns 0, or -1 with *why set to a reason the
 * desk can read to the customer. */
int wb_change_allowed(enum wb_status cur, bool ever_out_for_delivery,
		      const char **why);

#endif
