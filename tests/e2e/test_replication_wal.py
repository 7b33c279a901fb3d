"""Followers under the write-ahead log (on by default): a replica and a
standby killed with SIGKILL while they apply the log's change sets come
back with every change set applied exactly once (the applied seq is in the
same logged, synced unit as the change set), then follow on; a standby's
promotion (its new term) survives a SIGKILL right after it."""
import threading
import time

from harness import DAY, create_line, line
import test_replication


class TestFollowersKilledWhileApplying(test_replication.ReplicationCase):

    @classmethod
    def start_nodes(cls):
        cls.primary = cls.node("primary")
        cls.add_users(cls.primary)
        # no checkpoint after its start: every set it applies is in its
        # log, so a restart must apply them all again
        cls.replica = cls.node("replica", "--wal-checkpoint-secs", "86400", "--wal-checkpoint-mb", "4096")
        # checkpoints every second while it applies (the checkpoint thread)
        cls.standby = cls.node("standby", "--wal-checkpoint-secs", "1")

    def same_waybills(self, numbers, d):
        with self.primary.text("op1") as p, d.text("op1") as f:
            for n in numbers:
                a, b = p.cmd(line("WAYBILL", "GET", n)), f.cmd(line("WAYBILL", "GET", n))
                self.assertReply(b, 200)
                self.assertEqual(a.rec, b.rec)

    def stats(self, d):
        with d.text("admin") as c:
            return c.cmd("STATS")

    def test_1_kill_followers_while_applying(self):
        acked = {}
        for rnd in range(3):
            done, errors = threading.Event(), []

            def write():
                try:
                    for _ in range(3):
                        acked.update(self.pipelined_creates(self.primary, 200))
                except Exception as e:
                    errors.append(e)
                finally:
                    done.set()
            t = threading.Thread(target=write, daemon=True)
            t.start()
            # kill both followers while change sets arrive
            base = int(self.repl(self.replica)["seq_committed"])
            self.wait_repl(self.replica, lambda s: int(s["seq_committed"]) > base + 5 or done.is_set(),
                           "applying", timeout=30)
            self.assertEqual(errors, [])
            self.replica.kill()
            self.standby.kill()
            t.join(120)
            self.assertTrue(done.is_set())
            top = int(self.repl(self.primary)["seq_committed"])
            for d in (self.replica, self.standby):
                d.restart()
                s = self.wait_applied(d, top, timeout=60)
                self.assertEqual(int(s["refused"]), 0, d.log_tail(30))
                self.assertEqual(int(s["diverged"]), 0, d.log_tail(30))
            self.assertGreater(int(self.stats(self.replica)["wal_replayed"]), 0,
                               "the replica's restart applied nothing from its log")
            self.assertIn("change sets applied again", self.replica.log_text())
        self.assertEqual(len(acked), 1800)
        for d in (self.replica, self.standby):
            self.assertEqual(self.stats(d)["waybills"], self.stats(self.primary)["waybills"])
            self.same_waybills(list(acked)[::37], d)

    def test_2_a_promotion_survives_sigkill(self):
        epoch = int(self.repl(self.standby)["epoch"])
        self.wait_repl(self.primary, lambda s: s["seq_acked"] == s["seq_committed"], "all published")
        with self.standby.text("admin") as c:
            self.assertReply(c.cmd("PROMOTE"), 200)
        s = self.wait_repl(self.standby, lambda s: s["role"] == "primary", "promotion")
        self.assertEqual(int(s["epoch"]), epoch + 1)
        term = int(s["seq_committed"])
        self.standby.kill()
        self.standby.restart()
        s = self.repl(self.standby)
        # its store holds the new term: restarted as a standby (its
        # option), it follows the log its own term began
        self.assertEqual(int(s["epoch"]), epoch + 1, self.standby.log_tail(30))
        self.assertGreaterEqual(int(s["seq_committed"]), term)
        self.assertEqual(int(s["diverged"]), 0)
        with self.standby.text("op1") as c:
            self.assertReply(c.cmd(create_line("6199999999", int(time.time()) + DAY)), 421,
                             msg_re=r"^read-only standby")
