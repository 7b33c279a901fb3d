/*
 * fuzz_store.c — libFuzzer target: command sequences against a real store.
 *
 * The input is text request lines (one per '\n'). Each line is parsed,
 * looked up and bound as the daemon does, then run by the daemon's own
 * handlers as an admin against an LMDB store in a temporary directory:
 * writes through write_apply() (a nested transaction, kept or rolled back
 * as in the writer), reads with dispatch_handler() in the same transaction.
 * The whole input is one transaction, aborted at its end, so every input
 * starts from the same empty store and must build the state it uses
 * (waybills, complaints, claims, calendars ...). The slow commands (AUTH,
 * BACKUP, USER ADD/PASSWD: password hashes and file copies) are skipped.
 *
 * Besides "no crash, no leak, no undefined behaviour", it traps on a 500
 * reply: in a healthy store every refusal is a 4xx, so a 500 is a handler
 * that broke its contract or met an error it should not have. Each reply
 * is rendered in both framings.
 *
 * Build: make fuzz; run: build/fuzz_store -dict=... CORPUS_DIR (copy
 * tests/fuzz/corpus_store to a scratch directory first).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "writer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/pd-fuzz-store-XXXXXX";

static void remove_store(void)
{
	char path[64];
	store_close(&g_store);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_default(&g_config);
	g_config.enable_test_clock = 1;
	if (!mkdtemp(dir) || config_set(&g_config, "data_dir", dir) < 0 ||
	    modules_setup(&g_config) != 0 || store_open(&g_store, dir, 64 << 20) < 0)
		abort();
	atexit(remove_store);
	return 0;
}

static const struct session admin = { .user = "admin", .role = ROLE_ADMIN, .conn_id = 1 };

/* Runs one line; false when the store cannot take more (stop the input). */
static bool run_line(MDB_txn *txn, struct pd_arena *a, const char *line, size_t len)
{
	struct pd_request req;
	struct pd_error err;
	size_t used;
	struct pd_value *args;
	pd_arena_reset(a);
	if (pd_parse_text_line(a, line, len, &req, &err) < 0 || req.word_count == 0)
		return true;
	const struct pd_command *cmd = pd_command_lookup(&req, &used, &err);
	if (!cmd || pd_command_bind(a, cmd, &req, used, &args, &err) < 0 || (cmd->flags & CMD_SLOW))
		return true;
	struct pd_reply rep = { 0 };
	struct cmd_ctx ctx = {
		.a = a, .cmd = cmd, .args = args, .rep = &rep, .st = &g_store,
		.sess = &admin, .cfg = &g_config, .now = clock_now(),
	};
	if (cmd->flags & CMD_WRITE) {
		int rc = write_apply(txn, &ctx, true);
		if (rc == MDB_MAP_FULL)
			return false;
		if (rc)
			abort(); /* a store error in a healthy store */
	} else {
		ctx.txn = txn;
		dispatch_handler(&ctx);
	}
	if (rep.code == 500) {
		fprintf(stderr, "500 for '%.*s': %s\n", (int)len, line, rep.msg);
		abort();
	}
	struct pd_buf out;
	pd_buf_init(&out);
	pd_reply_render(&rep, PD_FRAMING_TEXT, &out);
	out.len = 0;
	pd_reply_render(&rep, PD_FRAMING_MSGPACK, &out);
	pd_buf_free(&out);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MDB_txn *txn;
	if (mdb_txn_begin(g_store.env, NULL, 0, &txn) != 0)
		abort();
	struct pd_arena a;
	pd_arena_init(&a);
	clock_set(1772413200); /* 2026-03-02T09:00:00+08:00: every input alike */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len <= 16384 && !run_line(txn, &a, p, len))
			break;
		p = nl ? nl + 1 : end;
	}
	pd_arena_free(&a);
	mdb_txn_abort(txn);
	return 0;
}
