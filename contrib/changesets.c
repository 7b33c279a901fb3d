/* changesets — apply recorded change sets to a stopped store, or print a
 * store's every database, key and value (to compare two stores).
 *
 *   changesets apply DIR FILE   FILE: change sets, each a be32 length and
 *                               its bytes (PARCELDESK_TEST_CHANGESETS);
 *                               each is applied in its own transaction, in
 *                               order, and must follow the last one's seq
 *   changesets dump DIR         one line per entry: database, key, value
 *                               (hex), databases and keys in LMDB's order
 *
 * tests/e2e/test_changeset.py uses both to prove every write is captured
 * (docs/changeset.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static struct store st;

static void die(const char *what, int rc)
{
	fprintf(stderr, "changesets: %s: %s\n", what, mdb_strerror(rc));
	exit(1);
}

static void hex(const MDB_val *v)
{
	const unsigned char *p = v->mv_data;
	for (size_t i = 0; i < v->mv_size; i++)
		printf("%02x", p[i]);
}

static int dump(void)
{
	MDB_txn *txn;
	MDB_dbi main_db;
	MDB_cursor *names;
	MDB_val name, unused;
	int rc = mdb_txn_begin(st.env, NULL, MDB_RDONLY, &txn);
	if (rc || (rc = mdb_dbi_open(txn, NULL, 0, &main_db)) ||
	    (rc = mdb_cursor_open(txn, main_db, &names)))
		die("dump", rc);
	while ((rc = mdb_cursor_get(names, &name, &unused, MDB_NEXT)) == 0) {
		char db_name[256];
		snprintf(db_name, sizeof(db_name), "%.*s", (int)name.mv_size, (char *)name.mv_data);
		MDB_dbi dbi;
		MDB_cursor *cur;
		MDB_val k, v;
		if ((rc = mdb_dbi_open(txn, db_name, 0, &dbi)) || (rc = mdb_cursor_open(txn, dbi, &cur)))
			die(db_name, rc);
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			printf("%s ", db_name);
			hex(&k);
			putchar(' ');
			hex(&v);
			putchar('\n');
		}
		mdb_cursor_close(cur);
	}
	mdb_cursor_close(names);
	mdb_txn_abort(txn);
	return 0;
}

static int apply(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "changesets: %s: %s\n", path, strerror(errno));
		return 1;
	}
	unsigned char n[4];
	uint64_t last = 0, sets = 0;
	while (fread(n, 4, 1, f) == 1) {
		size_t len = be32_get(n);
		char *blob = malloc(len ? len : 1);
		if (!blob || fread(blob, 1, len, f) != len) {
			fprintf(stderr, "changesets: %s: a set is cut short\n", path);
			return 1;
		}
		struct changeset_head head;
		int rc = changeset_parse(blob, len, &head, NULL, NULL);
		if (rc == 0 && last && head.seq != last + 1) {
			fprintf(stderr, "changesets: seq %llu follows %llu\n",
				(unsigned long long)head.seq, (unsigned long long)last);
			return 1;
		}
		MDB_txn *txn;
		if (rc == 0)
			rc = mdb_txn_begin(st.env, NULL, 0, &txn);
		if (rc == 0) {
			rc = changeset_apply(txn, blob, len);
			if (rc)
				mdb_txn_abort(txn);
			else
				rc = mdb_txn_commit(txn);
		}
		if (rc) {
			fprintf(stderr, "changesets: set %llu (seq %llu): %s\n", (unsigned long long)sets + 1,
				(unsigned long long)head.seq, mdb_strerror(rc));
			return 1;
		}
		last = head.seq;
		sets++;
		free(blob);
	}
	fclose(f);
	fprintf(stderr, "changesets: %llu sets applied, the last seq %llu\n",
		(unsigned long long)sets, (unsigned long long)last);
	return 0;
}

int main(int argc, char **argv)
{
	bool is_apply = argc == 4 && strcmp(argv[1], "apply") == 0;
	if (!is_apply && !(argc == 3 && strcmp(argv[1], "dump") == 0)) {
		fprintf(stderr, "usage: changesets apply DIR FILE | changesets dump DIR\n");
		return 2;
	}
	if (store_open(&st, argv[2], (size_t)1 << 30) < 0)
		return 1;
	int rc = is_apply ? apply(argv[3]) : dump();
	store_close(&st);
	return rc;
}
