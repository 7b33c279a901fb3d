/* recovery.h — recovery items (RECOVERY ...), created when a claim is
 * paid. */
#ifndef PD_RECOVERY_H
#define PD_RECOVERY_H

#include "daemon.h"

/* Creates a recovery item of `kind` for a paid claim: debtor owes creditor
 * fen (nothing for fen <= 0 or no debtor); its id is pushed on ids.
 * Returns 0 or an LMDB code (no reply). */
int recovery_create(struct cmd_ctx *ctx, const struct pd_value *claim, const char *kind,
		    const char *debtor, const char *creditor, int64_t fen, struct pd_value *ids);

/* The recovery items of a claim (its "recovery_items" ids), as shown. */
struct pd_value *recovery_list_for(struct cmd_ctx *ctx, const struct pd_value *claim);

#endif
