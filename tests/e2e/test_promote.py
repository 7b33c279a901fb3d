"""PROMOTE's failure paths (protocol/PROTOCOL.md, `PROMOTE`;
docs/replication.md, "Failover"): two standbys promoted at the same time
against one log, and standbys whose log is unreachable. Each class runs
its own NATS cluster (natscluster.py); skipped, saying why, without
nats-server.

Run alone:
  /usr/bin/python3 tests/e2e/run_e2e.py --daemon build/san/parceldeskd \\
      --client build/san/parceldesk -j 1 tests/e2e/test_promote.py
"""
import os
import signal
import threading
import time

from harness import DAY, create_line, next_number
from natscluster import ReplicationCase


class PromoteCase(ReplicationCase):
    def two_standbys(self):
        """A primary with the test users and two standbys that applied all
        of it (the log holds all of it)."""
        primary = self.node("primary")
        self.add_users(primary)
        a, b = self.node("standby"), self.node("standby")
        last = int(self.repl(primary)["seq_committed"])
        self.wait_repl(primary, lambda s: int(s["seq_acked"]) == last, "all in the log")
        for d in (a, b):
            self.wait_applied(d, last)
        return primary, a, b

    def promote_all(self, nodes, timeout=45):
        """PROMOTE sent to every node at once: {node.name: (reply, secs)}."""
        out = {}

        def ask(d):
            with d.text("admin") as c:
                c.settimeout(timeout)
                t = time.time()
                r = c.cmd("PROMOTE")
                out[d.name] = (r, time.time() - t)
        threads = [threading.Thread(target=ask, args=(d,)) for d in nodes]
        for t in threads:
            t.start()
        return threads, out

    @staticmethod
    def join(threads, timeout=60):
        for t in threads:
            t.join(timeout)
            assert not t.is_alive(), "PROMOTE not answered"

    def write(self, d):
        with d.text("op1") as c:
            return c.cmd(create_line(next_number("69"), int(time.time()) + DAY))

    def assert_follows(self, d, primary, epoch):
        """d is a standby that applied primary's epoch and refuses writes,
        naming primary; a write there reaches d."""
        s = self.wait_repl(d, lambda s: s["epoch"] == str(epoch), "epoch %d" % epoch)
        self.assertEqual(s["role"], "standby")
        self.assertEqual(s["primary"], "127.0.0.1:%d" % primary.port)
        self.assertEqual(int(s["diverged"]), 0)
        self.assertReply(self.write(d), 421, "read-only standby; the primary is 127.0.0.1:%d" % primary.port)
        w = self.write(primary)
        self.assertReply(w, 201)
        self.wait_applied(d, int(w["seq"]))


class TestPromoteRace(PromoteCase):
    """Two standbys promoted at the same time, both having read the log's
    last change set N-1: both append change set N of epoch 2 expecting
    N-1; the log takes one. The other answers 503 and stays a standby of
    the winner.

    "At the same time" is made certain, not left to timing: the NATS
    nodes are frozen (SIGSTOP) before the PROMOTEs, so both replication
    threads wait for the log's state; the daemons are frozen, the log
    thawed (its answers wait in the daemons' sockets), then the daemons
    thawed: each reads N-1 and appends. Both stay well within the 5 s a
    request to the log waits."""

    def test_one_of_two_standbys_wins(self):
        primary, a, b = self.two_standbys()
        last = int(self.repl(primary)["seq_committed"])
        primary.stop()

        nats = [p.pid for p in self.nats.procs]
        try:
            for pid in nats:
                os.kill(pid, signal.SIGSTOP)
            threads, out = self.promote_all((a, b))
            time.sleep(1.5)  # both threads asked the frozen log for its state
            for d in (a, b):
                os.kill(d.proc.pid, signal.SIGSTOP)
            for pid in nats:
                os.kill(pid, signal.SIGCONT)
            time.sleep(1.0)  # the log's answers reach the frozen daemons
        finally:
            for pid in nats:
                os.kill(pid, signal.SIGCONT)
            for d in (a, b):
                os.kill(d.proc.pid, signal.SIGCONT)
        self.join(threads)

        codes = sorted(out[d.name][0].code for d in (a, b))
        self.assertEqual(codes, [200, 503], {k: v[0] for k, v in out.items()})
        winner, loser = (a, b) if out[a.name][0].code == 200 else (b, a)
        self.assertReply(out[winner.name][0], 200, "this node is the primary at epoch 2")
        self.assertReply(out[loser.name][0], 503,
                         "not promoted: the log refused change set %d: another primary wrote after %d"
                         % (last + 1, last))
        self.assertIn("promotion abandoned: the log refused change set %d" % (last + 1),
                      loser.log_text())
        s = self.repl(winner)
        self.assertEqual((s["role"], s["epoch"], s["seq_committed"]), ("primary", "2", str(last + 1)))
        # the loser applies the winner's new term and follows it
        self.assert_follows(loser, winner, 2)
        self.assertEqual(self.repl(winner)["role"], "primary")


class TestPromoteLogUnreachable(PromoteCase):
    """Every NATS node stopped (SIGKILL by pid): a standby that was
    connected to the log, and one started while the log was down (it never
    reached it), are promoted at the same time. Both answer 503 after the
    30 s a promotion tries, and stay standbys: once the log is back,
    neither promotes itself; a later PROMOTE does."""

    def test_promotion_gives_up_after_30s(self):
        primary, a, b = self.two_standbys()
        b.stop()
        primary.stop()
        for i in range(self.nats.n):
            self.nats.kill(i)
        b.start()  # its users came from the log before: it can be logged in to

        threads, out = self.promote_all((a, b))
        self.join(threads)
        for d in (a, b):
            r, secs = out[d.name]
            self.assertReply(r, 503, msg_re=r"^not promoted: not done within 30 s: ")
            self.assertGreaterEqual(secs, 29.5, "gave up early")
            s = self.repl(d)
            self.assertEqual((s["role"], s["epoch"]), ("standby", "1"))
            self.assertIn("promotion abandoned: not done within 30 s", d.log_text())
            self.assertReply(self.write(d), 421, msg_re=r"^read-only standby")
        print("log unreachable: PROMOTE answered 503 after %s s"
              % " and ".join("%.1f" % out[d.name][1] for d in (a, b)))

        # the log back: b reconnects and follows (a promotion it still
        # had asked would run now instead)
        for i in range(self.nats.n):
            self.nats.start_node(i)
        self.nats.wait_ready()
        s = self.wait_repl(b, lambda s: "following the log" in s["status"], "the log back", timeout=30)
        self.assertEqual((s["role"], s["epoch"]), ("standby", "1"))
        with a.text("admin") as c:
            c.settimeout(45)
            self.assertReply(c.cmd("PROMOTE"), 200, "this node is the primary at epoch 2")
        self.assert_follows(b, a, 2)
        time.sleep(1)  # nothing promotes b behind a's back
        self.assertEqual(self.repl(b)["role"], "standby")
        self.assertEqual(self.repl(a)["role"], "primary")
