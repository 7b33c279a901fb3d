"""Faults of the replication log (docs/replication.md, "Faults, measured"):
a network partition between the primary and the log, and the stream's
leader killed during quorum writes.

The partition needs `ip netns` (root): the primary runs in a network
namespace of its own (`ip netns exec`), joined to this one by two veth
pairs with private link-local addresses (169.254.A.B/30, never routed; no
other interface): one for its clients (the tests), one for the log (the
NATS nodes listen for clients on this side's address of that pair; their
routes and monitoring stay on 127.0.0.1). The partition is the log link
taken down inside the namespace: the primary still answers its clients,
the log and the standby (in this namespace) go on without it. Skipped,
saying why, when not root or when `ip netns` does not work here.

Run alone:
  /usr/bin/python3 tests/e2e/run_e2e.py --daemon build/san/parceldeskd \\
      --client build/san/parceldesk -j 1 tests/e2e/test_repl_faults.py
"""
import fcntl
import os
import random
import secrets
import select
import shutil
import subprocess
import threading
import time
import unittest

from harness import DAY, create_line, line, next_number
from natscluster import ReplicationCase

# how long the partitions last
PARTITION_SECS = 6.0


def ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=20)
    if check and r.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


class Netns:
    """A network namespace joined to this one by two veth pairs, each a
    /30 of 169.254.A.0/24 (link-local: never routed, and this machine
    forwards nothing): "c" for the clients, "l" for the log. delete()
    removes the namespace, which removes both pairs."""

    @staticmethod
    def unavailable():
        """Why the partition tests cannot run here, or None."""
        if os.geteuid() != 0:
            return "the partition test needs root for ip netns (run the suite as root)"
        if shutil.which("ip") is None:
            return "the partition test needs ip (iproute2)"
        return None

    PREFIX = "pd-e2e-"

    def __init__(self):
        tag = secrets.token_hex(3)
        self.name = "%s%d-%s" % (self.PREFIX, os.getpid(), tag)
        self.dev = {k: ("pd%s%s0" % (tag, k), "pd%s%s1" % (tag, k)) for k in "cl"}
        # one run at a time picks its subnet and takes it (parallel suites)
        with open(os.path.join("/tmp", "pd-e2e-netns.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.remove_stale()
            used = ip("-4", "-o", "addr").stdout
            while True:
                a = random.randint(1, 254)
                if " 169.254.%d." % a not in used:
                    break
            # c: .1 here, .2 there; l: .5 here, .6 there
            self.addr = {"c": ("169.254.%d.1" % a, "169.254.%d.2" % a),
                         "l": ("169.254.%d.5" % a, "169.254.%d.6" % a)}
            r = ip("netns", "add", self.name, check=False)
            if r.returncode != 0:
                raise unittest.SkipTest("ip netns does not work here: %s" % r.stderr.strip())
            self.build()

    @classmethod
    def remove_stale(cls):
        """Namespaces of runs that were killed before their clean-up (the
        pid in the name is gone)."""
        for ln in ip("netns", "list", check=False).stdout.splitlines():
            name = ln.split()[0] if ln.split() else ""
            if not name.startswith(cls.PREFIX):
                continue
            try:
                os.kill(int(name[len(cls.PREFIX):].split("-")[0]), 0)
            except ProcessLookupError:
                ip("netns", "delete", name, check=False)
            except (ValueError, PermissionError):
                pass

    def build(self):
        try:
            ip("-n", self.name, "link", "set", "lo", "up")
            for k, (here, there) in self.dev.items():
                ip("link", "add", here, "type", "veth", "peer", "name", there, "netns", self.name)
                ip("addr", "add", self.addr[k][0] + "/30", "dev", here)
                ip("link", "set", here, "up")
                ip("-n", self.name, "addr", "add", self.addr[k][1] + "/30", "dev", there)
                ip("-n", self.name, "link", "set", there, "up")
        except BaseException:
            self.delete()
            raise

    @property
    def host(self):
        """The namespace's address its daemons listen on for clients."""
        return self.addr["c"][1]

    @property
    def log_host(self):
        """This side's address of the log link: where the NATS nodes listen."""
        return self.addr["l"][0]

    def cut(self):
        ip("-n", self.name, "link", "set", self.dev["l"][1], "down")

    def heal(self):
        ip("-n", self.name, "link", "set", self.dev["l"][1], "up")

    def delete(self):
        ip("netns", "delete", self.name, check=False)
        for here, _ in self.dev.values():  # gone with the namespace; a half-made one
            ip("link", "delete", here, check=False)


class Burst:
    """WAYBILL CREATEs sent at once on one connection; the replies are
    read as they come, each with the time it came."""

    def __init__(self, d, count, prefix):
        self.c = d.text("op1")
        self.numbers = [next_number(prefix) for _ in range(count)]
        promised = int(time.time()) + 3 * DAY
        self.sent_at = time.time()
        self.c.send("\r\n".join(create_line(n, promised) for n in self.numbers))
        self.replies = []  # (number, reply, time)

    def answered_within(self, secs):
        """True when a reply (or part of one) came within secs."""
        return bool(select.select([self.c.sock], [], [], secs)[0])

    def read(self):
        for n in self.numbers[len(self.replies):]:
            r = self.c.read_reply()
            self.replies.append((n, r, time.time()))
        self.c.close()
        return self

    def codes(self):
        return sorted({r.code for _, r, _ in self.replies})

    def numbers_with(self, code):
        return [n for n, r, _ in self.replies if r.code == code]


@unittest.skipIf(Netns.unavailable(), Netns.unavailable())
class PartitionCase(ReplicationCase):
    """A primary in a network namespace of its own (its log link can be
    cut), a standby here. The tests run in the order of their names."""

    @classmethod
    def setUpClass(cls):
        cls.net = Netns()
        cls.addClassCleanup(cls.net.delete)  # also when setUpClass fails
        cls.nats_host = cls.net.log_host
        super().setUpClass()

    @classmethod
    def start_nodes(cls):
        cls.primary = cls.node("primary", netns=cls.net.name, host=cls.net.host)
        cls.add_users(cls.primary)
        cls.standby = cls.node("standby")

    def read_during_partition(self, number):
        """Reads are answered while the log is cut off: the loop does not
        wait for it (the bound leaves room for a loaded machine; a loop
        waiting for the log would wait until the heal)."""
        with self.primary.text("op1") as c:
            t = time.time()
            self.assertReply(c.cmd("PING"), 200)
            self.assertReply(c.cmd(line("WAYBILL", "GET", number)), 200)
            self.assertLess(time.time() - t, 2.0)

    def all_there(self, acked, nodes):
        for d in nodes:
            with d.text("op1") as c:
                for n in acked:
                    self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)


class TestPartitionQuorum(PartitionCase):
    """quorum: the primary cut off from the log stops acknowledging (its
    writes wait, reads are answered) and resumes when the partition heals;
    a standby promoted on the log's side fences it once it is back."""
    ack = "quorum"

    def test_1_writes_wait_during_a_partition_and_resume(self):
        before = self.pipelined_creates(self.primary, 20)
        self.assertEqual(len(before), 20)
        self.wait_applied(self.standby, max(before.values()))
        self.net.cut()
        t_cut = time.time()
        b = Burst(self.primary, 20, "71")
        # a retry of a waiting write (same req=) on another connection
        # waits as well: its first reply is not an acknowledgement yet
        token = "retry-" + b.numbers[0]
        try1 = self.primary.text("op1")
        try1.send(create_line(b.numbers[0] + "9", int(time.time()) + DAY, req=token))
        self.assertFalse(b.answered_within(1.0))
        retry = self.primary.text("op1")
        retry.send(create_line(b.numbers[0] + "9", int(time.time()) + DAY, req=token))
        self.assertFalse(b.answered_within(PARTITION_SECS - 1.0), "a quorum write answered during a partition")
        for c in (try1, retry):
            if select.select([c.sock], [], [], 0)[0]:
                self.fail("a repeated req= answered during a partition: %r" % c.read_reply())
        self.read_during_partition(next(iter(before)))
        # a publish gives up after 5 s and is retried
        s = self.wait_repl(self.primary, lambda s: "writes wait" in s["status"], "writes wait", timeout=10)
        self.assertEqual(s["role"], "primary")
        self.assertGreater(int(s["seq_committed"]), int(s["seq_acked"]), s)
        self.net.heal()
        t_heal = time.time()
        b.read()
        self.assertEqual(b.codes(), [201], [(n, r) for n, r, _ in b.replies if r.code != 201])
        for c in (try1, retry):
            r = c.read_reply()
            self.assertReply(r, 201)
            self.assertEqual(r["number"], b.numbers[0] + "9")
            c.close()
        first = min(t for _, _, t in b.replies)
        print("quorum, partition: writes unanswered for %.2f s (the log cut off for %.2f s); "
              "the first answered %.2f s after the heal, all %d 201"
              % (first - b.sent_at, t_heal - t_cut, first - t_heal, len(b.replies)))
        # nothing acknowledged is lost; the standby converges
        acked = dict(before)
        acked.update((n, int(r["seq"])) for n, r, _ in b.replies)
        self.wait_applied(self.standby, max(acked.values()))
        self.all_there(acked, (self.primary, self.standby))
        self.assertEqual(int(self.repl(self.standby)["refused"]), 0)
        type(self).acked = acked

    def test_2_sigterm_during_a_partition(self):
        """The waiting writes are answered 503 within the stop's grace
        (3 s), the daemon exits 0; started again after the heal it ships
        them: committed here, they were not lost without a failover."""
        self.net.cut()
        b = Burst(self.primary, 10, "76")
        self.assertFalse(b.answered_within(1.0))
        t_term = time.time()
        self.primary.stop()
        took = time.time() - t_term
        b.read()
        self.assertEqual(b.codes(), [503])
        for _, r, _ in b.replies:
            self.assertIn("not acknowledged by the replication log before the daemon stopped", r.msg)
        self.assertLess(took, 10)
        print("quorum, SIGTERM during a partition: %d waiting writes answered 503, exit 0 "
              "%.2f s after the signal" % (len(b.replies), took))
        self.net.heal()
        self.primary.start()
        self.wait_repl(self.primary, lambda s: s["seq_acked"] == s["seq_committed"], "outbox shipped")
        self.wait_applied(self.standby, int(self.repl(self.primary)["seq_committed"]))
        self.all_there(b.numbers, (self.standby,))

    def test_3_standby_promoted_across_a_partition_fences_the_primary(self):
        acked = dict(self.acked)
        self.net.cut()
        t_cut = time.time()
        old = Burst(self.primary, 10, "72")
        self.assertFalse(old.answered_within(1.0))
        with self.standby.text("admin") as c:
            self.assertReply(c.cmd("PROMOTE"), 200)
        self.wait_repl(self.standby, lambda s: s["role"] == "primary", "promotion")
        new = self.pipelined_creates(self.standby, 20)
        self.assertEqual(len(new), 20)
        # the old primary, still cut off, has answered none of its writes
        self.assertFalse(old.answered_within(0.1))
        self.assertEqual(self.repl(self.primary)["role"], "primary")
        self.net.heal()
        t_heal = time.time()
        old.read()
        t_fenced = max(t for _, _, t in old.replies)
        # its next append was refused: fenced, every held write answered 503
        self.assertEqual(old.codes(), [503], [(n, r) for n, r, _ in old.replies])
        for _, r, _ in old.replies:
            self.assertIn("deposed as primary (fenced)", r.msg)
        print("quorum, partition and a promotion: the old primary's %d writes answered 503 "
              "(fenced) %.2f s after the heal (%.2f s after the cut)"
              % (len(old.replies), t_fenced - t_heal, t_fenced - t_cut))
        s = self.wait_repl(self.primary, lambda s: s["role"] == "standby", "fenced primary")
        self.assertGreater(int(s["diverged"]), 0)  # its unacknowledged tail is its own
        with self.primary.text("op1") as c:
            self.assertReply(c.cmd(create_line(next_number("72"), int(time.time()) + DAY)), 421,
                             "read-only standby; the primary is 127.0.0.1:%d" % self.standby.port)
        # every acknowledged write, of either side, is on the new primary;
        # none of the fenced ones (never acknowledged)
        acked.update(new)
        self.all_there(acked, (self.standby,))
        with self.standby.text("op1") as c:
            for n in old.numbers_with(503):
                self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 404)
        # each once: the new term's seqs follow the old one's; the log
        # holds one message per change set, the new primary's last its last
        self.assertLess(max(self.acked.values()), min(new.values()))
        s = self.repl(self.standby)
        self.assertEqual(s["seq_acked"], s["seq_committed"])
        state = self.nats.stream_info("PARCELDESK")["state"]
        self.assertEqual((state["first_seq"], state["last_seq"], state["messages"]),
                         (1, int(s["seq_committed"]), int(s["seq_committed"])), state)


class TestPartitionLocal(PartitionCase):
    """local: the primary cut off from the log goes on acknowledging; its
    outbox ships when the partition heals; but a standby promoted across
    the partition does not have what it acknowledged meanwhile (lost, as
    docs/replication.md says of local mode)."""
    ack = "local"

    def test_1_writes_go_on_and_ship_after_the_heal(self):
        self.net.cut()
        t_cut = time.time()
        b = Burst(self.primary, 20, "74").read()
        self.assertEqual(b.codes(), [201])
        self.assertLess(max(t for _, _, t in b.replies) - t_cut, PARTITION_SECS)
        self.read_during_partition(b.numbers[0])
        time.sleep(PARTITION_SECS - (time.time() - t_cut))
        s = self.repl(self.primary)
        self.assertGreater(int(s["lag_entries"]), 0, s)  # the tail a failover would lose
        lag = int(s["lag_entries"])
        self.net.heal()
        t_heal = time.time()
        acked = {n: int(r["seq"]) for n, r, _ in b.replies}
        self.wait_applied(self.standby, max(acked.values()), timeout=30)
        print("local, partition: %d writes answered 201 during it (%d change sets unshipped); "
              "on the standby %.2f s after the heal" % (len(acked), lag, time.time() - t_heal))
        self.all_there(acked, (self.standby,))

    def test_2_a_promotion_across_the_partition_loses_its_writes(self):
        self.net.cut()
        b = Burst(self.primary, 10, "75").read()
        self.assertEqual(b.codes(), [201])
        with self.standby.text("admin") as c:
            self.assertReply(c.cmd("PROMOTE"), 200)
        self.wait_repl(self.standby, lambda s: s["role"] == "primary", "promotion")
        new = self.pipelined_creates(self.standby, 10)
        self.net.heal()
        self.wait_repl(self.primary, lambda s: s["role"] == "standby", "fenced primary", timeout=30)
        with self.standby.text("op1") as c:
            lost = [n for n in b.numbers if c.cmd(line("WAYBILL", "GET", n)).code == 404]
            for n in new:
                self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
        self.assertEqual(len(lost), len(b.numbers), "acknowledged in local mode, not in the log")
        print("local, partition and a promotion: %d writes acknowledged by the old primary "
              "during the partition are not on the new one" % len(lost))


class TestStreamLeaderKilled(ReplicationCase):
    """The NATS node leading the stream (as its monitoring port says) is
    killed with SIGKILL during pipelined quorum writes: the writes pause
    and resume, every one is answered 201 and is on the primary and the
    standby; the node restarted rejoins the stream."""
    ack = "quorum"

    def test_leader_killed_during_writes(self):
        stream = "LEADER"
        primary = self.node("primary", stream=stream)
        self.add_users(primary)
        standby = self.node("standby", stream=stream)
        leader = self.nats.stream_leader(stream)
        bursts, stop = [], threading.Event()

        def writer():
            while not stop.is_set():
                bursts.append(Burst(primary, 40, "73").read())
        t = threading.Thread(target=writer)
        t.start()
        try:
            time.sleep(1.0)
            t_kill = time.time()
            self.nats.kill(leader)
            deadline = time.time() + 20
            while self.nats.stream_leader(stream) == leader:
                self.assertLess(time.time(), deadline, "no new leader")
                time.sleep(0.1)
            t_elected = time.time()
            time.sleep(1.0)
            self.nats.start_node(leader)
            self.nats.wait_ready()
            time.sleep(1.0)
        finally:
            stop.set()
            t.join(120)
        self.assertFalse(t.is_alive())
        replies = [(n, r, at) for b in bursts for n, r, at in b.replies]
        self.assertEqual(sorted({r.code for _, r, _ in replies}), [201])
        times = sorted(at for _, _, at in replies)
        after = [at for at in times if at > t_kill]
        self.assertTrue(after, "no write answered after the kill")
        pause = max(b - a for a, b in zip([t_kill] + after, after))
        print("stream leader n%d killed: a new one in %.2f s; quorum writes paused at most "
              "%.2f s; %d writes, all 201, %d after the kill"
              % (leader, t_elected - t_kill, pause, len(replies), len(after)))
        self.assertGreater(len(after), 40, "the writes did not resume")
        acked = {n: int(r["seq"]) for n, r, _ in replies}
        self.wait_applied(standby, max(acked.values()))
        for d in (primary, standby):
            with d.text("op1") as c:
                for n in acked:
                    self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
        # the restarted node is a current replica of the stream again, as
        # the leader sees it (a node does not list itself)
        name = "n%d" % leader
        deadline = time.time() + 30
        while True:
            c = self.nats.stream_cluster(stream, self.nats.stream_leader(stream))
            peers = {p["name"]: p.get("current") for p in (c or {}).get("replicas") or []}
            if c and (c["leader"] == name or peers.get(name)):
                break
            self.assertLess(time.time(), deadline, "%s did not rejoin: %r" % (name, c))
            time.sleep(0.2)
