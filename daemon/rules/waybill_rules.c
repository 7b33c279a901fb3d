/* waybill_rules.c — state machine, lateness, change eligibility, delivery. */
#include "waybill_rules.h"

#include <string.h>

static const char *const status_names[WAYBILL_STATUS_COUNT] = {
	"created", "picked_up", "in_transit", "out_for_delivery", "delivered",
	"delivery_failed", "held", "returning", "returned", "lost",
};

static const char *const drop_names[WAYBILL_DROP_COUNT] = {
	"hand", "locker", "station", "neighbour", "other",
};

static const char *const cause_names[WAYBILL_CAUSE_COUNT] = {
	"carrier", "receiver_unreachable", "wrong_address", "wrong_phone", "wrong_name", "receiver_changed",
};

static const char *const event_names[WE_EVENT_COUNT] = {
	"picked_up", "departed", "arrived", "out_for_delivery", "delivered",
	"delivery_failed", "held", "damaged", "lost", "found", "returning",
	"returned",
};

/* One lookup for every table of wire names. */
static const char *name_at(const char *const *names, int count, int i)
{
	return (i >= 0 && i < count) ? names[i] : "?";
}

static int name_index(const char *const *names, int count, const char *s)
{
	for (int i = 0; i < count; i++)
		if (s && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *waybill_status_name(enum waybill_status s)
{
	return name_at(status_names, WAYBILL_STATUS_COUNT, s);
}

int waybill_status_parse(const char *s)
{
	return name_index(status_names, WAYBILL_STATUS_COUNT, s);
}

const char *waybill_event_name(enum waybill_event e)
{
	return name_at(event_names, WE_EVENT_COUNT, e);
}

int waybill_event_parse(const char *s)
{
	return name_index(event_names, WE_EVENT_COUNT, s);
}

const char *waybill_drop_name(enum waybill_drop d)
{
	return name_at(drop_names, WAYBILL_DROP_COUNT, d);
}

int waybill_drop_parse(const char *s)
{
	return name_index(drop_names, WAYBILL_DROP_COUNT, s);
}

const char *waybill_fail_cause_name(enum waybill_fail_cause c)
{
	return name_at(cause_names, WAYBILL_CAUSE_COUNT, c);
}

int waybill_fail_cause_parse(const char *s)
{
	return name_index(cause_names, WAYBILL_CAUSE_COUNT, s);
}

bool waybill_fail_cause_receiver(enum waybill_fail_cause c)
{
	return c > WAYBILL_CAUSE_CARRIER && c < WAYBILL_CAUSE_COUNT;
}

bool waybill_delivery_accurate(enum waybill_drop to, bool signer_is_consignee, bool consent)
{
	return to == WAYBILL_TO_HAND ? signer_is_consignee : consent;
}

int64_t waybill_attempt_fee(int64_t failed, int64_t free_attempts, int64_t fee_fen)
{
	return failed >= free_attempts ? fee_fen : 0;
}

bool waybill_status_final(enum waybill_status s)
{
	return s == WAYBILL_DELIVERED || s == WAYBILL_RETURNED;
}

#define BIT(s) (1u << (s))

/* For each event: the statuses it may follow, and the status it leads to
 * (SAME keeps the current one). */
#define SAME (-2)
#define RESTORE (-3)
static const struct {
	unsigned from;
	int to;
} transitions[WE_EVENT_COUNT] = {
	[WE_PICKED_UP] = { BIT(WAYBILL_CREATED), WAYBILL_PICKED_UP },
	[WE_DEPARTED] = { BIT(WAYBILL_PICKED_UP) | BIT(WAYBILL_IN_TRANSIT) | BIT(WAYBILL_HELD), WAYBILL_IN_TRANSIT },
	[WE_ARRIVED] = { BIT(WAYBILL_PICKED_UP) | BIT(WAYBILL_IN_TRANSIT), WAYBILL_IN_TRANSIT },
	[WE_OUT_FOR_DELIVERY] = { BIT(WAYBILL_IN_TRANSIT) | BIT(WAYBILL_DELIVERY_FAILED) | BIT(WAYBILL_HELD),
				  WAYBILL_OUT_FOR_DELIVERY },
	[WE_DELIVERED] = { BIT(WAYBILL_OUT_FOR_DELIVERY), WAYBILL_DELIVERED },
	[WE_DELIVERY_FAILED] = { BIT(WAYBILL_OUT_FOR_DELIVERY), WAYBILL_DELIVERY_FAILED },
	[WE_HELD] = { BIT(WAYBILL_PICKED_UP) | BIT(WAYBILL_IN_TRANSIT) | BIT(WAYBILL_DELIVERY_FAILED), WAYBILL_HELD },
	[WE_DAMAGED] = { BIT(WAYBILL_CREATED) | BIT(WAYBILL_PICKED_UP) | BIT(WAYBILL_IN_TRANSIT) |
			 BIT(WAYBILL_OUT_FOR_DELIVERY) | BIT(WAYBILL_DELIVERY_FAILED) | BIT(WAYBILL_HELD) |
			 BIT(WAYBILL_RETURNING), SAME },
	[WE_LOST] = { BIT(WAYBILL_CREATED) | BIT(WAYBILL_PICKED_UP) | BIT(WAYBILL_IN_TRANSIT) |
		      BIT(WAYBILL_OUT_FOR_DELIVERY) | BIT(WAYBILL_DELIVERY_FAILED) | BIT(WAYBILL_HELD) |
		      BIT(WAYBILL_RETURNING), WAYBILL_LOST },
	[WE_FOUND] = { BIT(WAYBILL_LOST), RESTORE },
	[WE_RETURNING] = { BIT(WAYBILL_CREATED) | BIT(WAYBILL_PICKED_UP) | BIT(WAYBILL_IN_TRANSIT) |
			   BIT(WAYBILL_DELIVERY_FAILED) | BIT(WAYBILL_HELD), WAYBILL_RETURNING },
	[WE_RETURNED] = { BIT(WAYBILL_RETURNING), WAYBILL_RETURNED },
};

int waybill_status_next(enum waybill_status cur, enum waybill_event ev,
		   enum waybill_status before_lost)
{
	if (ev < 0 || ev >= WE_EVENT_COUNT || cur < 0 || cur >= WAYBILL_STATUS_COUNT)
		return -1;
	/* a returning parcel is scanned on its way back without changing status */
	if (cur == WAYBILL_RETURNING && (ev == WE_DEPARTED || ev == WE_ARRIVED))
		return WAYBILL_RETURNING;
	if (!(transitions[ev].from & BIT(cur)))
		return -1;
	if (transitions[ev].to == SAME)
		return cur;
	if (transitions[ev].to == RESTORE)
		return (before_lost >= 0 && before_lost < WAYBILL_STATUS_COUNT &&
			before_lost != WAYBILL_LOST) ? (int)before_lost : WAYBILL_IN_TRANSIT;
	return transitions[ev].to;
}

void waybill_lateness(const struct waybill_promise *p, int64_t delivered_at, int64_t now,
		      bool same_city, int64_t same_city_days, int64_t intercity_days,
		      struct waybill_lateness *out)
{
	int64_t until = delivered_at ? delivered_at : now;
	if (p->stopped_at && until > p->stopped_at)
		until = p->stopped_at;
	int64_t secs = p->carried_late_secs > 0 ? p->carried_late_secs : 0;
	if (until > p->promised_at)
		secs += until - p->promised_at;
	out->late = secs > 0;
	out->late_secs = secs;
	int64_t days = same_city ? same_city_days : intercity_days;
	out->completely_delayed = !delivered_at && secs >= days * 86400;
}

int waybill_redirect_promise(const struct waybill_promise *old, int64_t at, bool rerouted,
			     int64_t allowance_secs, int64_t requested,
			     struct waybill_promise *out, const char **why)
{
	*out = *old;
	if (requested && requested <= at) {
		*why = "the new promised time must be after the address change";
		return -1;
	}
	int64_t from = old->promised_at > at ? old->promised_at : at;
	int64_t promise = requested ? requested : rerouted ? from + allowance_secs : old->promised_at;
	if (promise == old->promised_at)
		return 0;
	if (at > old->promised_at)
		out->carried_late_secs += at - old->promised_at;
	out->promised_at = promise;
	return 0;
}

int waybill_change_allowed(enum waybill_status cur, bool ever_out_for_delivery, int64_t failed_attempts,
			   int64_t sender_decides_after, const char **why)
{
	switch (cur) {
	case WAYBILL_DELIVERED: *why = "the parcel is delivered"; return -1;
	case WAYBILL_RETURNED: *why = "the parcel is returned"; return -1;
	case WAYBILL_RETURNING: *why = "the parcel is already on its way back"; return -1;
	case WAYBILL_LOST: *why = "the parcel is reported lost"; return -1;
	default: break;
	}
	if (cur == WAYBILL_OUT_FOR_DELIVERY) {
		*why = "the parcel is out for delivery";
		return -1;
	}
	if (!ever_out_for_delivery && cur != WAYBILL_DELIVERY_FAILED)
		return 0;
	if (cur != WAYBILL_HELD && cur != WAYBILL_DELIVERY_FAILED) {
		*why = "the parcel has gone out for delivery";
		return -1;
	}
	if (failed_attempts >= sender_decides_after)
		return 0;
	*why = "the parcel has gone out for delivery, and the sender decides (redirect or return) only once the "
	       "free delivery attempts have failed";
	return WAYBILL_CHANGE_TOO_FEW_FAILED;
}

void waybill_receiver_fault_promise(const struct waybill_promise *old, int64_t at, int64_t allowance_secs,
				    struct waybill_promise *out)
{
	const char *why;
	/* no requested promise: cannot be refused */
	(void)waybill_redirect_promise(old, at, true, allowance_secs, 0, out, &why);
}
