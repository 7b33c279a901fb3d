/* waybill_rules.h — the waybill's rules as pure functions (no I/O, no
 * clock): the status state machine, lateness against the promise in force,
 * when an address change or a recall is allowed, and what a delivery must
 * record and may cost. docs/rules.md sections 1 and 3. */
#ifndef PD_WAYBILL_RULES_H
#define PD_WAYBILL_RULES_H

#include <stdbool.h>
#include <stdint.h>

enum waybill_status {
	WAYBILL_CREATED, WAYBILL_PICKED_UP, WAYBILL_IN_TRANSIT, WAYBILL_OUT_FOR_DELIVERY,
	WAYBILL_DELIVERED, WAYBILL_DELIVERY_FAILED, WAYBILL_HELD, WAYBILL_RETURNING, WAYBILL_RETURNED,
	WAYBILL_LOST, WAYBILL_STATUS_COUNT
};

enum waybill_event {
	WE_PICKED_UP, WE_DEPARTED, WE_ARRIVED, WE_OUT_FOR_DELIVERY,
	WE_DELIVERED, WE_DELIVERY_FAILED, WE_HELD, WE_DAMAGED, WE_LOST,
	WE_FOUND, WE_RETURNING, WE_RETURNED, WE_EVENT_COUNT
};

const char *waybill_status_name(enum waybill_status s);
/* -1 for an unknown name */
int waybill_status_parse(const char *s);
const char *waybill_event_name(enum waybill_event e);
int waybill_event_parse(const char *s);

/* The status after an event, or -1 when the event is impossible in the
 * current status (the caller answers 409 and writes nothing).
 * `before_lost` is the status a `lost` parcel had, restored by `found`.
 * `damaged` is a flag, not a status: it keeps the status. */
int waybill_status_next(enum waybill_status cur, enum waybill_event ev,
		   enum waybill_status before_lost);

/* True for delivered and returned: only claims and complaints follow. */
bool waybill_status_final(enum waybill_status s);

/* A waybill's promise as the sender's changes left it (docs/rules.md
 * section 1, "late"). A waybill never changed has only promised_at. */
struct waybill_promise {
	int64_t promised_at;       /* the promise in force */
	int64_t carried_late_secs; /* lateness already run up against an earlier
				      promise when an address change set this one */
	int64_t stopped_at;        /* a recall stopped the lateness clock at this
				      instant (0: it runs) */
};

struct waybill_lateness {
	bool late;                /* past the promise and not delivered in time */
	bool completely_delayed;  /* undelivered N days past the promise */
	int64_t late_secs;        /* how far past the promise (0 if not late) */
};

/* Is the parcel late, judged only against the promise in force: the one
 * place lateness is computed (GET, claims, complaints, the delivery
 * counters behind the report and the on-time KPI). delivered_at is 0 when
 * not delivered. late_secs = the carried lateness plus the time from the
 * promise in force to the delivery (or to now, or to the recall that
 * stopped the clock). A parcel delivered exactly at the promised second is
 * on time; one still undelivered whose lateness reaches exactly N days is
 * completely delayed. Returned or lost parcels are judged like undelivered
 * ones (they missed their promise). */
void waybill_lateness(const struct waybill_promise *p, int64_t delivered_at, int64_t now,
		      bool same_city, int64_t same_city_days, int64_t intercity_days,
		      struct waybill_lateness *out);

/* The promise after an address change accepted at `at`. `requested` (0:
 * none) is the new promise the desk gives; without one, a re-route to
 * another city is promised the later of the old promise and `at` plus
 * allowance_secs, and a change within the city keeps its promise. When the
 * promise changes, the lateness already run up at `at` is carried (the
 * parcel was late by our doing before the sender asked), and from then on
 * it is judged against the new promise only. Returns 0, or -1 with *why
 * when the requested promise is not after `at`. */
int waybill_redirect_promise(const struct waybill_promise *old, int64_t at, bool rerouted,
			     int64_t allowance_secs, int64_t requested,
			     struct waybill_promise *out, const char **why);

/* Why a delivery failed (SCAN delivery_failed cause=). `carrier` is ours
 * (and what a failure scanned without a cause means); the others lie with
 * the receiver: a wrong or changed receiver name, address or phone, or an
 * unreachable receiver, which the corrected rules do not count as our
 * delay (docs/rules.md section 1). */
enum waybill_fail_cause {
	WAYBILL_CAUSE_CARRIER, WAYBILL_CAUSE_RECEIVER_UNREACHABLE, WAYBILL_CAUSE_WRONG_ADDRESS,
	WAYBILL_CAUSE_WRONG_PHONE, WAYBILL_CAUSE_WRONG_NAME, WAYBILL_CAUSE_RECEIVER_CHANGED,
	WAYBILL_CAUSE_COUNT
};

const char *waybill_fail_cause_name(enum waybill_fail_cause c);
/* -1 for an unknown name */
int waybill_fail_cause_parse(const char *s);
/* True for every cause but the carrier's: not our delay. */
bool waybill_fail_cause_receiver(enum waybill_fail_cause c);

/* The promise after a delivery failed at `at` for a receiver-side cause:
 * as an accepted re-route (waybill_redirect_promise()): the later of the
 * old promise and `at`, plus allowance_secs; lateness already run up at
 * `at` is carried. */
void waybill_receiver_fault_promise(const struct waybill_promise *old, int64_t at, int64_t allowance_secs,
				    struct waybill_promise *out);

/* Where a delivered parcel was left (SCAN delivered to=). */
enum waybill_drop {
	WAYBILL_TO_HAND, WAYBILL_TO_LOCKER, WAYBILL_TO_STATION, WAYBILL_TO_NEIGHBOUR,
	WAYBILL_TO_OTHER, WAYBILL_DROP_COUNT
};

const char *waybill_drop_name(enum waybill_drop d);
/* -1 for an unknown name */
int waybill_drop_parse(const char *s);

/* Was the delivery accurate: into the consignee's own hand (signed by the
 * consignee or a person they authorised), or left elsewhere — a locker, a
 * collection station, a neighbour, anywhere else — with the receiver's
 * consent? Any other delivery counts against delivery accuracy. */
bool waybill_delivery_accurate(enum waybill_drop to, bool signer_is_consignee, bool consent);

/* What sending a parcel out for delivery costs after `failed` failed
 * attempts: nothing while fewer than free_attempts have failed, fee_fen for
 * each attempt after them. */
int64_t waybill_attempt_fee(int64_t failed, int64_t free_attempts, int64_t fee_fen);

/* May the sender still change the address (or recall)? While the parcel
 * has never gone out for delivery; once it has, only when it is held or
 * its delivery failed after at least `sender_decides_after` failed attempts
 * (the corrected rule: after the free attempts the sender decides,
 * redirect or return). Never while out for delivery, nor delivered, lost,
 * returning or returned. Returns 0, or -1 with *why set to a reason the
 * desk can read to the customer; WAYBILL_CHANGE_TOO_FEW_FAILED (with *why)
 * when it is held or failed but fewer attempts than that have failed (the
 * caller says how many). */
#define WAYBILL_CHANGE_TOO_FEW_FAILED (-2)
int waybill_change_allowed(enum waybill_status cur, bool ever_out_for_delivery, int64_t failed_attempts,
			   int64_t sender_decides_after, const char **why);

#endif
