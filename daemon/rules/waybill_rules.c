/* waybill_rules.c — state machine, lateness, change eligibility. */
#include "waybill_rules.h"

#include <string.h>

static const char *status_names[WB_STATUS_COUNT] = {
	"created", "picked_up", "in_transit", "out_for_delivery", "delivered",
	"delivery_failed", "held", "returning", "returned", "lost",
};

static const char *event_names[WE_EVENT_COUNT] = {
	"picked_up", "departed", "arrived", "out_for_delivery", "delivered",
	"delivery_failed", "held", "damaged", "lost", "found", "returning",
	"returned",
};

const char *wb_status_name(enum wb_status s)
{
	return (s >= 0 && s < WB_STATUS_COUNT) ? status_names[s] : "?";
}

int wb_status_parse(const char *s)
{
	for (int i = 0; i < WB_STATUS_COUNT; i++)
		if (s && strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

const char *wb_event_name(enum wb_event e)
{
	return (e >= 0 && e < WE_EVENT_COUNT) ? event_names[e] : "?";
}

int wb_event_parse(const char *s)
{
	for (int i = 0; i < WE_EVENT_COUNT; i++)
		if (s && strcmp(s, event_names[i]) == 0)
			return i;
	return -1;
}

bool wb_status_final(enum wb_status s)
{
	return s == WB_DELIVERED || s == WB_RETURNED;
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
	[WE_PICKED_UP] = { BIT(WB_CREATED), WB_PICKED_UP },
	[WE_DEPARTED] = { BIT(WB_PICKED_UP) | BIT(WB_IN_TRANSIT) | BIT(WB_HELD), WB_IN_TRANSIT },
	[WE_ARRIVED] = { BIT(WB_PICKED_UP) | BIT(WB_IN_TRANSIT), WB_IN_TRANSIT },
	[WE_OUT_FOR_DELIVERY] = { BIT(WB_IN_TRANSIT) | BIT(WB_DELIVERY_FAILED) | BIT(WB_HELD),
				  WB_OUT_FOR_DELIVERY },
	[WE_DELIVERED] = { BIT(WB_OUT_FOR_DELIVERY), WB_DELIVERED },
	[WE_DELIVERY_FAILED] = { BIT(WB_OUT_FOR_DELIVERY), WB_DELIVERY_FAILED },
	[WE_HELD] = { BIT(WB_PICKED_UP) | BIT(WB_IN_TRANSIT) | BIT(WB_DELIVERY_FAILED), WB_HELD },
	[WE_DAMAGED] = { BIT(WB_CREATED) | BIT(WB_PICKED_UP) | BIT(WB_IN_TRANSIT) |
			 BIT(WB_OUT_FOR_DELIVERY) | BIT(WB_DELIVERY_FAILED) | BIT(WB_HELD) |
			 BIT(WB_RETURNING), SAME },
	[WE_LOST] = { BIT(WB_CREATED) | BIT(WB_PICKED_UP) | BIT(WB_IN_TRANSIT) |
		      BIT(WB_OUT_FOR_DELIVERY) | BIT(WB_DELIVERY_FAILED) | BIT(WB_HELD) |
		      BIT(WB_RETURNING), WB_LOST },
	[WE_FOUND] = { BIT(WB_LOST), RESTORE },
	[WE_RETURNING] = { BIT(WB_CREATED) | BIT(WB_PICKED_UP) | BIT(WB_IN_TRANSIT) |
			   BIT(WB_DELIVERY_FAILED) | BIT(WB_HELD), WB_RETURNING },
	[WE_RETURNED] = { BIT(WB_RETURNING), WB_RETURNED },
};

int wb_status_next(enum wb_status cur, enum wb_event ev,
		   enum wb_status before_lost)
{
	if (ev < 0 || ev >= WE_EVENT_COUNT || cur < 0 || cur >= WB_STATUS_COUNT)
		return -1;
	/* a returning parcel is scanned on its way back without changing status */
	if (cur == WB_RETURNING && (ev == WE_DEPARTED || ev == WE_ARRIVED))
		return WB_RETURNING;
	if (!(transitions[ev].from & BIT(cur)))
		return -1;
	if (transitions[ev].to == SAME)
		return cur;
	if (transitions[ev].to == RESTORE)
		return (before_lost >= 0 && before_lost < WB_STATUS_COUNT &&
			before_lost != WB_LOST) ? (int)before_lost : WB_IN_TRANSIT;
	return transitions[ev].to;
}

void wb_lateness(int64_t promised_at, int64_t delivered_at, int64_t now,
		 bool same_city, int64_t same_city_days, int64_t intercity_days,
		 struct wb_lateness *out)
{
	out->late = false;
	out->completely_delayed = false;
	out->late_secs = 0;
	int64_t until = delivered_at ? delivered_at : now;
	if (until > promised_at) {
		out->late = true;
		out->late_secs = until - promised_at;
	}
	if (!delivered_at) {
		int64_t days = same_city ? same_city_days : intercity_days;
		out->completely_delayed = now >= promised_at + days * 86400;
	}
}

int wb_change_allowed(enum wb_status cur, bool ever_out_for_delivery,
		      const char **why)
{
	switch (cur) {
	case WB_DELIVERED: *why = "the parcel is delivered"; return -1;
	case WB_RETURNED: *why = "the parcel is returned"; return -1;
	case WB_RETURNING: *why = "the parcel is already on its way back"; return -1;
	case WB_LOST: *why = "the parcel is reported lost"; return -1;
	default: break;
	}
	if (cur == WB_OUT_FOR_DELIVERY || cur == WB_DELIVERY_FAILED || ever_out_for_delivery) {
		*why = "the parcel has gone out for delivery";
		return -1;
	}
	return 0;
}
