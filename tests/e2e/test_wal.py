"""The write-ahead log when its disk fails: a commit whose log record cannot
be written (a full disk) is refused and nothing of it is kept; one whose
fdatasync fails is never answered as kept (the record may or may not be on
disk), and every later write is refused until a restart; so is every write
after a checkpoint whose sync of data.mdb failed, a full disk's too; reads
go on, and nothing acknowledged is lost. The failures are injected with
PARCELDESK_TEST_WAL_FAIL (read only with --enable-test-clock): while the
file it names exists, an append or a checkpoint fails as the file says."""
import os
import struct
import subprocess
import time

import harness
from harness import DAY, USERS, Daemon, DaemonTestCase, create_line, line, next_number
from test_changeset import EnvDaemon, dump
import test_durability
from test_durability import pipeline_writes


class WalFailures(DaemonTestCase):
    start_daemon = False
    check_present = test_durability.Durability.check_present

    def start(self):
        d = EnvDaemon(name=self._testMethodName)
        self.addCleanup(d.cleanup)
        self.trigger = os.path.join(d.workdir, "wal-fail")
        d.env_extra = {"PARCELDESK_TEST_WAL_FAIL": self.trigger}
        d.start()
        with d.text("admin") as a:
            role, pw = USERS["op1"]
            self.assertReply(a.cmd(line("USER", "ADD", "op1", role, pw)), 201)
        with d.text("op1") as c:
            self.promised = int(c.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
        return d

    def fail_appends(self, how):
        with open(self.trigger, "w") as f:
            f.write(how)

    def stats(self, d):
        with d.text("admin") as a:
            return a.cmd("STATS")

    def test_a_full_log_refuses_the_write_and_keeps_nothing_of_it(self):
        d = self.start()
        acked = pipeline_writes(self, d, conns=2, per_conn=20, promised=self.promised)
        self.fail_appends("write 28")  # ENOSPC
        refused = next_number()
        with d.text("op1") as c:
            r = self.assertReply(c.cmd(create_line(refused, self.promised)), 503)
            self.assertEqual(r.msg, "store full: No space left on device")
            # reads go on
            self.assertReply(c.cmd("WAYBILL", "GET", acked[0]), 200)
            os.unlink(self.trigger)
            later = next_number()
            self.assertReply(c.cmd(create_line(later, self.promised)), 201)
        self.assertEqual(self.stats(d)["wal_error"], "")
        d.kill()
        d.restart()
        self.check_present(d, acked)
        with d.text("op1") as c:
            self.assertReply(c.cmd("WAYBILL", "GET", later), 200)
            self.assertReply(c.cmd("WAYBILL", "GET", refused), 404)
        log = d.log_text()
        self.assertEqual(log.count("refusing writes until there is room"), 1, log[-3000:])
        d.stop()

    def test_a_failed_fdatasync_is_never_answered_as_kept(self):
        d = self.start()
        acked = pipeline_writes(self, d, conns=2, per_conn=20, promised=self.promised)
        self.fail_appends("sync")
        doubtful, after = next_number(), next_number()
        with d.text("op1") as c:
            r = self.assertReply(c.cmd(create_line(doubtful, self.promised)), 500)
            self.assertEqual(r.msg, "internal error: write-ahead log: fdatasync failed: Input/output error; "
                             "this write may or may not be kept")
            os.unlink(self.trigger)
            # the log is not trusted again until a restart
            r = self.assertReply(c.cmd(create_line(after, self.promised)), 503)
            self.assertEqual(r.msg, "store unavailable: write-ahead log: fdatasync failed: "
                             "Input/output error; restart the daemon")
            self.assertReply(c.cmd("WAYBILL", "GET", acked[-1]), 200)
            # the doubtful write was never committed to the store
            self.assertReply(c.cmd("WAYBILL", "GET", doubtful), 404)
        self.assertEqual(self.stats(d)["wal_error"], "write-ahead log: fdatasync failed: Input/output error")
        self.assertIn("writes are refused until the daemon is restarted", d.log_text())
        # a stop still exits cleanly; the restart finds every acknowledged
        # write (the doubtful one may be there or not)
        d.stop()
        d.restart()
        self.check_present(d, acked)
        with d.text("op1") as c:
            self.assertReply(c.cmd("WAYBILL", "GET", after), 404)
            self.assertReply(c.cmd(create_line(after, self.promised)), 201)
        self.assertEqual(self.stats(d)["wal_error"], "")
        d.stop()

    def test_a_failed_checkpoint_sync_refuses_writes_until_a_restart(self):
        """data.mdb's sync is not tried again after it failed, even for a
        full disk: the kernel reports a failed writeback once, and the pages
        it could not write need not be dirty any more, so a later sync could
        succeed over them. The restart goes back to the last durable
        checkpoint and replays the log."""
        d = self.start()
        acked = pipeline_writes(self, d, conns=2, per_conn=20, promised=self.promised)
        self.fail_appends("checkpoint 28")  # ENOSPC from data.mdb's fdatasync
        expected = "checkpoint: data.mdb cannot be synced: No space left on device"
        created = []
        with d.text("op1") as c:
            # a checkpoint is due every second while writing: the first to
            # run meets the failure; the writes before it were kept
            deadline = time.time() + 15
            while True:
                n = next_number()
                r = c.cmd(create_line(n, self.promised))
                if r.code != 201:
                    break
                created.append(n)
                self.assertLess(time.time(), deadline, "no checkpoint met the injected failure")
                time.sleep(0.05)
            self.assertReply(r, 503)
            self.assertEqual(r.msg, "store unavailable: %s; restart the daemon" % expected)
            os.unlink(self.trigger)
            # room again, but the checkpoint is not tried again: still refused
            time.sleep(1.5)
            self.assertReply(c.cmd(create_line(next_number(), self.promised)), 503)
            self.assertReply(c.cmd("WAYBILL", "GET", acked[-1]), 200)
        self.assertEqual(self.stats(d)["wal_error"], expected)
        self.assertIn("writes are refused until the daemon is restarted", d.log_text())
        d.kill()
        d.restart()
        self.check_present(d, acked)
        later = next_number()
        with d.text("op1") as c:
            for n in created:
                self.assertReply(c.cmd("WAYBILL", "GET", n), 200)
            self.assertReply(c.cmd(create_line(later, self.promised)), 201)
            self.assertReply(c.cmd("WAYBILL", "GET", later), 200)
        self.assertEqual(self.stats(d)["wal_error"], "")
        d.stop()


def crc32c(crc, data):
    """CRC-32C (Castagnoli), chained as wal_crc32c() chains it."""
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff


class WalNewerSchema(DaemonTestCase):
    """A log left by a newer build (a downgrade after a crash): a logged
    change set in a schema this build cannot read stops the start with a
    message naming both versions, and nothing of it is applied; the same
    record in this build's schema is replayed (the record is well formed:
    its schema alone stopped it)."""
    start_daemon = False

    def test_a_newer_schema_in_the_log_is_not_replayed(self):
        d = Daemon(name=self._testMethodName)
        self.addCleanup(d.cleanup)
        d.start()
        with d.text("admin") as a:
            role, pw = USERS["op1"]
            self.assertReply(a.cmd(line("USER", "ADD", "op1", role, pw)), 201)
        d.stop()
        seq = [int(l.split()[2], 16) for l in dump(d.data_dir)
               if l.startswith("meta %s " % b"seq:commit".hex())][0]
        key = b"test:replayed"

        def log_one(schema):
            blob = harness.msgpack.packb({"epoch": 0, "seq": seq + 1, "schema": schema,
                                          "ops": [[0, "meta", key, b"x"]]})
            head = struct.pack(">IIQI", 0x50445732, len(blob), seq + 1, 0)
            rec = head + struct.pack(">I", crc32c(crc32c(0, head), blob)) + blob
            for name in ("wal.0", "wal.1"):
                with open(os.path.join(d.data_dir, name), "r+b") as f:
                    f.write(rec if name == "wal.0" else bytes(len(rec)))

        log_one(3)
        d.spawn()
        rc = d.proc.wait(15)
        d._forget()
        d.check_sanitizer()
        self.assertNotEqual(rc, 0)
        self.assertIn("wal.0: the change set %d at byte 0 is in schema version 3, this build reads 1 to 2: "
                      "not applied" % (seq + 1), d.log_text())
        self.assertNotIn(key.hex(), "\n".join(dump(d.data_dir)))
        log_one(2)
        d.start()
        self.assertIn("1 change sets applied again, up to %d" % (seq + 1), d.log_text())
        d.stop()
        self.assertIn("meta %s 78" % key.hex(), dump(d.data_dir))
