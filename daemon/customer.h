/* customer.h — customer accounts, tiers and service levels, warning
 * customers, monthly reports and KPIs (domain-rules.md sections 6 and 7).
 * Counters live in volume.h. */
#ifndef PD_CUSTOMER_H
#define PD_CUSTOMER_H

#include "daemon.h"

/* Raises a warning for an account customer (no-op for "" or an unknown
 * account), from an incident: a complaint escalated for media exposure
 * (type "service_incident", subtype "media_exposure"), a claim above the
 * supervisor's limit ("service_incident", "ordinary"). `source` names what
 * raised it ("complaint:12"); the same source never raises two warnings.
 * Returns 0 or an LMDB error. */
int warning_raise(struct cmd_ctx *ctx, const char *account, const char *type,
		  const char *subtype, const char *source, const char *text);

/* The service level of an account customer ("basic" for "" or unknown):
 * complaints and claims read their time limits from it. */
const char *customer_service_level(struct cmd_ctx *ctx, const char *account);

#endif
