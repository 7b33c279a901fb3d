/*
 * fuzz_changeset.c — libFuzzer target for the change-set reader
 * (daemon/core/changeset.c): any bytes are either refused (EBADMSG, or
 * EPROTONOSUPPORT for a schema above this build's, with that schema read)
 * or read as {epoch, seq, schema, ops} with a schema from 1 to this
 * build's, never a crash or a read outside the input.
 * An accepted set's ops must lie inside the input and have a database
 * name and a key; a delete may lack a value, a put may not.
 *
 * Build: make fuzz; run: build/fuzz_changeset CORPUS_DIR (a scratch copy
 * of tests/fuzz/corpus_changeset).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "changeset.h"
#include "store.h"

struct span {
	const uint8_t *p;
	size_t len;
	uint64_t ops;
};

static int inside(const struct span *s, const void *p, size_t n)
{
	const uint8_t *q = p;
	return q >= s->p && n <= s->len && q - s->p <= (ptrdiff_t)(s->len - n);
}

static int check(void *ud, const struct changeset_op *op)
{
	struct span *s = ud;
	if (!inside(s, op->db, op->db_len) || op->db_len == 0 ||
	    !inside(s, op->key.mv_data, op->key.mv_size) || op->key.mv_size == 0 ||
	    (op->val.mv_data ? !inside(s, op->val.mv_data, op->val.mv_size) : op->kind != CHANGESET_DEL))
		abort();
	s->ops++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = { data, size, 0 };
	struct changeset_head h;
	int rc = changeset_parse(data, size, &h, check, &s);
	if (rc != 0 && rc != EBADMSG && rc != EPROTONOSUPPORT)
		abort();
	if (rc == EPROTONOSUPPORT && h.schema <= STORE_SCHEMA_VERSION)
		abort();
	if (rc == 0 && (s.ops != h.count || h.schema == 0 || h.schema > STORE_SCHEMA_VERSION))
		abort();
	return 0;
}
