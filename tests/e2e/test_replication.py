"""Replication over NATS JetStream (docs/replication.md): a primary, a
standby and a replica on a three-node nats-server cluster of their own
(natscluster.py, free loopback ports, explicit accounts).

Skipped, saying why, only when nats-server is not installed and cannot be
(contrib/deps.sh test installs it)."""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness
from harness import DAY, Daemon, create_line, line, next_number
from natscluster import NatsCluster, ReplicationCase, nats_server_binary

# kill -9 rounds of the failover test (the issue asks for tens: set
# PARCELDESK_REPL_ROUNDS=20 for a long run)
ROUNDS = int(os.environ.get("PARCELDESK_REPL_ROUNDS", "2"))
SUBJECT = "PARCELDESK.changes"


class TestPrimaryStandbyReplica(ReplicationCase):
    """The tests run in the order of their names: the last one feeds the
    log change sets the primary never wrote."""

    @classmethod
    def start_nodes(cls):
        cls.primary = cls.node("primary")
        cls.add_users(cls.primary)
        cls.standby = cls.node("standby")
        cls.replica = cls.node("replica", "--min-seq-wait-ms", "300")

    def test_1_writes_reach_standby_and_replica(self):
        acked = self.pipelined_creates(self.primary, 60)
        self.assertEqual(len(acked), 60)
        # writes of one group commit share its seq; later groups, higher
        seqs = list(acked.values())
        self.assertEqual(seqs, sorted(seqs))
        top = max(seqs)
        t0 = time.time()
        for d in (self.standby, self.replica):
            self.wait_applied(d, top, timeout=10)
        bound = time.time() - t0
        self.assertLess(bound, 10)
        with self.primary.text("op1") as p, self.replica.text("op1") as r:
            for n in list(acked)[::7]:
                a, b = p.cmd(line("WAYBILL", "GET", n)), r.cmd(line("WAYBILL", "GET", n))
                self.assertReply(b, 200)
                self.assertEqual(a.rec, b.rec)
        s = self.repl(self.replica)
        self.assertEqual(s["role"], "replica")
        self.assertEqual(s["primary"], "127.0.0.1:%d" % self.primary.port)
        self.assertEqual(int(s["refused"]), 0)
        # the replication thread is named (docs/design.md, "Threads"); the
        # NATS client's threads, started from it, take its name
        for d in (self.primary, self.replica):
            task = "/proc/%d/task" % d.proc.pid
            names = [open(os.path.join(task, t, "comm")).read().strip() for t in os.listdir(task)]
            self.assertIn("pd-repl", names)
            self.assertEqual(names.count("parceldeskd"), 1, names)

    def test_2_replica_and_standby_refuse_writes(self):
        for d, word in ((self.replica, "replica"), (self.standby, "standby")):
            with d.text("op1") as c:
                r = c.cmd(create_line(next_number("62"), int(time.time()) + DAY))
                self.assertReply(r, 421, "read-only %s; the primary is 127.0.0.1:%d"
                                 % (word, self.primary.port))
                # reads are answered
                self.assertReply(c.cmd("PING"), 200)

    def test_3_min_seq_reads_own_write(self):
        with self.primary.text("op1") as p, self.replica.text("op1") as r:
            for _ in range(5):
                n = next_number("63")
                w = p.cmd(create_line(n, int(time.time()) + DAY))
                self.assertReply(w, 201)
                got = r.cmd(line("WAYBILL", "GET", n, min_seq=w["seq"]))
                self.assertReply(got, 200)
                self.assertEqual(got["number"], n)
            far = int(w["seq"]) + 1000
            t = time.time()
            self.assertReply(r.cmd(line("WAYBILL", "GET", n, min_seq=far)), 503,
                             msg_re=r"has not applied change set %d within 300 ms" % far)
            self.assertGreaterEqual(time.time() - t, 0.25)
            self.assertReply(r.cmd(line("WAYBILL", "GET", n, min_seq="x")), 400)
            # a write does not take it
            self.assertReply(p.cmd(create_line(next_number("63"), int(time.time()) + DAY,
                                               min_seq=1)), 400)

    def test_3b_user_deleted_on_primary_logs_out_replica_session(self):
        # a session on a replica is checked again when an applied change
        # set changed the users, as after USER DEL on the node itself
        n = next_number("65")
        with self.primary.text("admin") as c:
            self.assertReply(c.cmd(line("USER", "ADD", "repl_op", "operator", "repl-op-password",
                                        full_name="E2E replica reader", depot="SH01")), 201)
            self.assertReply(c.cmd(create_line(n, int(time.time()) + DAY)), 201)
        self.wait_applied(self.replica, int(self.repl(self.primary)["seq_committed"]))
        r = self.replica.text("repl_op", "repl-op-password")
        try:
            self.assertReply(r.cmd(line("WAYBILL", "GET", n)), 200)
            with self.primary.text("admin") as c:
                w = c.cmd(line("USER", "DEL", "repl_op"))
                self.assertReply(w, 200)
            self.wait_applied(self.replica, int(self.repl(self.primary)["seq_committed"]))
            self.assertReply(r.cmd(line("WAYBILL", "GET", n)), 401, "log in first: AUTH user password")
        finally:
            r.close()

    def test_4_promote_fences_old_primary(self):
        s = self.repl(self.primary)
        for k in ("role", "ack", "epoch", "seq_committed", "seq_published", "seq_acked",
                  "seq_applied", "lag_entries", "lag_secs", "outbox_entries", "primary"):
            self.assertIn(k, s)
        self.assertEqual(s["role"], "primary")
        self.assertEqual(s["ack"], "local")
        self.wait_repl(self.primary, lambda s: s["seq_acked"] == s["seq_committed"], "all published")
        with self.standby.text("admin") as c:
            # answered once the promotion is over: the node is the primary
            self.assertReply(c.cmd("PROMOTE"), 200, "this node is the primary at epoch 2")
            self.assertEqual(self.repl(self.standby)["role"], "primary")
            # a repeat says the same
            self.assertReply(c.cmd("PROMOTE"), 200, "this node is the primary at epoch 2")
        # the old primary's next write is refused by the log: fenced
        with self.primary.text("op1") as c:
            c.cmd(create_line(next_number("64"), int(time.time()) + DAY))
        s = self.wait_repl(self.primary, lambda s: s["role"] == "standby", "fencing")
        self.assertIn("fenced", self.primary.log_text())
        with self.primary.text("op1") as c:
            self.assertReply(c.cmd(create_line(next_number("64"), int(time.time()) + DAY)), 421,
                             msg_re=r"^read-only standby; the primary is ")
        with self.replica.text("admin") as c:
            self.assertReply(c.cmd("PROMOTE"), 409, "a replica is never promoted: promote a standby")

    def test_5_bad_change_sets_refused(self):
        d = self.replica
        before = self.repl(d)
        have = int(before["seq_committed"])
        epoch = int(before["epoch"])
        def change_set(seq, epoch):
            blob = harness.msgpack.packb({"epoch": epoch, "seq": seq, "ops": []})
            self.nats.publish(SUBJECT, blob, {"Pd-Seq": str(seq), "Pd-Epoch": str(epoch)})
        change_set(have + 5, epoch)
        change_set(have + 1, 0)
        self.nats.publish(SUBJECT, b"\x80", {"Pd-Seq": str(have + 1), "Pd-Epoch": str(epoch)})
        s = self.wait_repl(d, lambda s: int(s["refused"]) >= int(before["refused"]) + 3, "refusals")
        self.assertEqual(int(s["seq_committed"]), have, "nothing applied")
        log = d.log_text()
        self.assertIn("change set %d out of order" % (have + 5), log)
        self.assertIn("change set %d is from epoch 0, older than" % (have + 1), log)
        self.assertIn("not a change set", log)

    def test_6_newer_schema_stops_applying(self):
        # the next change set, in a schema this build cannot read: its put
        # of a waybill is not applied, applying stops (a good set after it
        # too), the reason is in repl.status and logged once, min_seq reads
        # of it are refused as on any follower behind, the store as it was
        d = self.replica
        before = self.repl(d)
        have, epoch = int(before["seq_committed"]), int(before["epoch"])
        n = next_number("66")
        def change_set(seq, schema, ops):
            blob = harness.msgpack.packb({"epoch": epoch, "seq": seq, "schema": schema, "ops": ops})
            self.nats.publish(SUBJECT, blob, {"Pd-Seq": str(seq), "Pd-Epoch": str(epoch)})
        change_set(have + 1, 3, [[0, "waybills", n.encode(), b"\xc0junk"]])
        s = self.wait_repl(d, lambda s: "applying stopped" in s["status"], "applying stopped")
        want = ("change set %d is in schema version 3, this build reads 1 to 2: applying stopped; "
                "upgrade this node to the primary's build" % (have + 1))
        self.assertEqual(s["status"], want)
        self.assertEqual(int(s["refused"]), int(before["refused"]) + 1)
        change_set(have + 1, 2, [])
        time.sleep(1.5)
        s = self.repl(d)
        self.assertEqual(int(s["seq_committed"]), have, "nothing applied")
        self.assertEqual(s["status"], want)
        self.assertEqual(d.log_text().count(want), 1)
        with d.text("op1") as c:
            self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 404)
            self.assertReply(c.cmd(line("WAYBILL", "GET", n, min_seq=have + 1)), 503,
                             msg_re=r"has not applied change set %d within 300 ms" % (have + 1))
            self.assertReply(c.cmd("PING"), 200)


class TestQuorumFailover(ReplicationCase):
    """kill -9 the primary in the middle of pipelined writes, promote the
    standby: every write acknowledged in quorum mode is there."""
    ack = "quorum"

    def test_kill_primary_promote_standby(self):
        primary = self.node("primary")
        self.add_users(primary)
        standby = self.node("standby")
        acked_all = {}
        for rnd in range(ROUNDS):
            acked = self.pipelined_creates(primary, 400, kill_after=60 + 7 * rnd)
            self.assertGreaterEqual(len(acked), 60)
            acked_all.update(acked)
            t_kill = time.time()
            with standby.text("admin") as c:
                self.assertReply(c.cmd("PROMOTE"), 200, msg_re=r"^this node is the primary at epoch \d+$")
            self.assertEqual(self.repl(standby)["role"], "primary")
            with standby.text("op1") as c:
                r = c.cmd(create_line(next_number("65"), int(time.time()) + DAY))
                self.assertReply(r, 201)
                failover = time.time() - t_kill
                for n in acked_all:
                    self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
            print("round %d: %d acknowledged before kill -9, all on the new primary; "
                  "kill to first write %.2f s" % (rnd, len(acked), failover))
            # the old primary comes back: the log has moved on, it is not
            # the primary any more
            old = primary
            old.start()
            self.wait_repl(old, lambda s: s["role"] == "standby", "deposed primary")
            with old.text("op1") as c:
                self.assertReply(c.cmd(create_line(next_number("66"), int(time.time()) + DAY)), 421,
                                 "read-only standby; the primary is 127.0.0.1:%d" % standby.port)
            old.stop()
            # a fresh standby catches up from the log for the next round
            primary, standby = standby, self.node("standby")
            self.wait_applied(standby, int(self.repl(primary)["seq_committed"]))

    def test_nats_nodes_killed_during_writes(self):
        """Each NATS node in turn (one of them leads the stream) is killed
        with SIGKILL and restarted while pipelined quorum writes run: the
        writes pause and resume, every one is acknowledged and on the
        replica."""
        primary = self.node("primary", stream="NODES")
        self.add_users(primary)
        replica = self.node("replica", stream="NODES")
        acked, stop, sent = {}, threading.Event(), [0]

        def writer():
            while not stop.is_set():
                acked.update(self.pipelined_creates(primary, 40))
                sent[0] += 40
        t = threading.Thread(target=writer)
        t.start()
        for i in range(self.nats.n):
            time.sleep(0.5)
            self.nats.kill(i)
            time.sleep(1.5)
            self.nats.start_node(i)
            self.nats.wait_ready()
        stop.set()
        t.join(120)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(acked), sent[0], "every write answered 201")
        self.wait_applied(replica, max(acked.values()))
        with replica.text("op1") as c:
            for n in acked:
                self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)


class TestSnapshotRestore(ReplicationCase):
    """A standby stopped while the log (keeping its last 20 change sets)
    moved past it restores the primary's newest snapshot by itself and
    catches up; a snapshot whose checksum does not match its manifest is
    refused and nothing of it restored."""

    def test_standby_behind_the_trimmed_log(self):
        keep = ["--nats-max-msgs", "20"]  # a snapshot every 10 change sets
        primary = self.node("primary", *keep, stream="TRIMMED")
        self.add_users(primary)
        standby = self.node("standby", *keep, stream="TRIMMED")
        self.wait_applied(standby, int(self.repl(primary)["seq_committed"]))
        standby.stop()
        made = []
        with primary.text("op1") as c:
            for _ in range(40):
                n = next_number("68")
                self.assertReply(c.cmd(create_line(n, int(time.time()) + DAY)), 201)
                made.append(n)
        # the primary's snapshot of one of the last 10 change sets: the
        # newest until 10 more
        top = int(self.repl(primary)["seq_committed"])
        deadline = time.time() + 30
        while True:
            snaps = re.findall(r"published a snapshot of change set (\d+) \((\d+) bytes, (\d+) chunks "
                               r"from message (\d+) of TRIMMED_SNAP\)", primary.log_text())
            if snaps and int(snaps[-1][0]) > top - 10:
                break
            self.assertLess(time.time(), deadline, "no snapshot of change set %d or later" % (top - 9))
            time.sleep(0.05)
        seq, size, chunks, first = snaps[-1]
        # the newest manifest names the real chunks with a wrong checksum
        self.nats.publish("TRIMMED.snap.manifest", b"", {
            "Pd-Snap-Seq": seq, "Pd-Snap-Epoch": self.repl(primary)["epoch"], "Pd-Snap-Bytes": size,
            "Pd-Snap-First": first, "Pd-Snap-Chunks": chunks, "Pd-Snap-Sha256": "0" * 64})
        standby.start()
        s = self.wait_repl(standby, lambda s: "refused" in s["status"], "the bad snapshot refused")
        self.assertIn("checksum or size does not match its manifest", s["status"])
        self.assertLess(int(s["seq_committed"]), int(seq), "nothing restored")
        # the primary's next snapshot is restored and the standby follows
        with primary.text("op1") as c:
            for _ in range(12):
                n = next_number("68")
                w = c.cmd(create_line(n, int(time.time()) + DAY))
                self.assertReply(w, 201)
                made.append(n)
        s = self.wait_applied(standby, int(w["seq"]), timeout=40)
        self.assertIn("restored the log's snapshot of change set", standby.log_text())
        self.assertEqual(int(s["diverged"]), 0)
        with primary.text("op1") as p, standby.text("op1") as r:
            for n in made:
                self.assertEqual(r.cmd(line("WAYBILL", "GET", n)).rec, p.cmd(line("WAYBILL", "GET", n)).rec)
            n = next_number("68")
            w = p.cmd(create_line(n, int(time.time()) + DAY))
            self.assertReply(r.cmd(line("WAYBILL", "GET", n, min_seq=w["seq"])), 200)


class TestSnapshotWhileTheMapGrows(ReplicationCase):
    """The primary's snapshot thread copies the store (mdb_env_copy2) while
    the writer grows the map, which unmaps the store and maps it again:
    before round 16 the copy read the map without the resize lock and the
    primary died of a SIGSEGV in 2 of 3 runs of this test (a snapshot
    every 3 change sets, a 1 MiB map grown six times)."""

    def test_snapshots_and_growth_together(self):
        p = self.node("primary", "--map-size-mb", "1", "--snapshot-every", "3",
                      "--nats-max-msgs", "100000", stream="GROWSNAP")
        self.add_users(p)
        for _ in range(16):
            numbers = [next_number("69") for _ in range(500)]
            with p.text("op1") as c:
                promised = int(time.time()) + 3 * DAY
                c.send("".join(create_line(n, promised) + "\r\n" for n in numbers))
                for _ in numbers:
                    self.assertReply(c.read_reply(), 201)
        self.assertIsNone(p.proc.poll(), p.log_tail(30))
        log = p.log_text()
        self.assertGreaterEqual(log.count("store map grown"), 6)
        self.assertGreaterEqual(log.count("published a snapshot"), 1)
        with p.text("op1") as c:
            self.assertReply(c.cmd(line("WAYBILL", "GET", numbers[-1])), 200)


class TestSnapshotTooNew(ReplicationCase):
    """A standby behind a trimmed log is offered a snapshot whose store is
    in a schema newer than its build reads (the primary's real store, its
    meta/schema_version set to 3 with contrib/changesets, published by
    hand with a manifest that matches it): refused before it replaces
    anything, applying stops, repl.status says why."""

    def test_newer_snapshot_refused(self):
        keep = ["--nats-max-msgs", "20"]
        primary = self.node("primary", *keep, stream="NEWER")
        self.add_users(primary)
        standby = self.node("standby", *keep, stream="NEWER")
        self.wait_applied(standby, int(self.repl(primary)["seq_committed"]))
        with primary.text("op1") as c:
            old = next_number("67")
            self.assertReply(c.cmd(create_line(old, int(time.time()) + DAY)), 201)
        self.wait_applied(standby, int(self.repl(primary)["seq_committed"]))
        standby.stop()
        made = []
        with primary.text("op1") as c:
            for _ in range(30):
                n = next_number("67")
                self.assertReply(c.cmd(create_line(n, int(time.time()) + DAY)), 201)
                made.append(n)
        s = self.wait_repl(primary, lambda s: s["seq_acked"] == s["seq_committed"], "all published")
        top, epoch = int(s["seq_committed"]), int(s["epoch"])
        primary.stop()
        # the primary's store, marked schema 3
        copy = os.path.join(primary.workdir, "newer")
        os.makedirs(copy)
        shutil.copy(os.path.join(primary.data_dir, "data.mdb"), copy)
        mark = harness.msgpack.packb({"epoch": epoch, "seq": top, "ops": [
            [0, "meta", b"schema_version", struct.pack(">I", 3)]]})
        sets = os.path.join(primary.workdir, "mark.sets")
        with open(sets, "wb") as f:
            f.write(struct.pack(">I", len(mark)) + mark)
        tool = os.path.join(os.path.dirname(harness.settings.daemon), "contrib", "changesets")
        subprocess.run([tool, "apply", copy, sets], check=True, capture_output=True)
        with open(os.path.join(copy, "data.mdb"), "rb") as f:
            data = f.read()
        st = self.nats.stream_info("NEWER_SNAP")
        self.assertIsNotNone(st, "the primary published no snapshot")
        first = int(st["state"]["last_seq"]) + 1
        chunk = 256 * 1024
        pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
        for i, piece in enumerate(pieces):
            self.nats.publish("NEWER.snap.data", piece, {"Pd-Snap-Seq": str(top), "Pd-Snap-Chunk": str(i)})
        self.nats.publish("NEWER.snap.manifest", b"", {
            "Pd-Snap-Seq": str(top), "Pd-Snap-Epoch": str(epoch), "Pd-Snap-Bytes": str(len(data)),
            "Pd-Snap-First": str(first), "Pd-Snap-Chunks": str(len(pieces)),
            "Pd-Snap-Sha256": hashlib.sha256(data).hexdigest()})
        standby.start()
        s = self.wait_repl(standby, lambda s: "applying stopped" in s["status"], "applying stopped", timeout=40)
        self.assertEqual(s["status"], "the log's snapshot of change set %d is in schema version 3, this build "
                         "reads 1 to 2: applying stopped; upgrade this node to the primary's build" % top)
        self.assertLess(int(s["seq_committed"]), top, "nothing restored")
        with standby.text("op1") as c:
            self.assertReply(c.cmd(line("WAYBILL", "GET", old)), 200)
            for n in made[-3:]:
                self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 404)
        with standby.text("admin") as c:
            self.assertReply(c.cmd("PROMOTE"), 409, msg_re=r"cannot read the primary's schema version")


class TestFirstChangeSetRace(ReplicationCase):
    """Two primaries on one empty stream, each on a store of its own made
    before replication was on (users, no change set yet): both commit a
    change set 1 and append it expecting the log to be empty (libnats
    cannot express an expected last sequence of 0: the header is set by
    hand). The log takes one; the other is fenced and turns into a
    standby; the winner goes on writing."""

    def test_two_primaries_race_for_an_empty_stream(self):
        dirs = []
        for i in range(2):
            plain = Daemon(name="race-seed-%d" % i)
            self.nodes.append(plain)
            plain.start()
            plain.stop()
            dirs.append(plain.data_dir)
        a = self.node("primary", data_dir=dirs[0], stream="RACE")
        b = self.node("primary", data_dir=dirs[1], stream="RACE")
        for d in (a, b):
            self.wait_repl(d, lambda s: s["status"].startswith("primary at epoch 1"),
                           "a primary on the empty log")
        replies = {}

        def add(d, name):
            with d.text("admin") as c:
                replies[d.name] = c.cmd(line("USER", "ADD", name, "operator", "racer-password",
                                             full_name="E2E " + name, depot="SH01"))
        threads = [threading.Thread(target=add, args=(d, "racer")) for d in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for d in (a, b):
            self.assertReply(replies[d.name], 201)
            self.assertEqual(int(replies[d.name]["seq"]), 1)
        deadline = time.time() + 20
        while True:
            roles = {d.name: self.repl(d)["role"] for d in (a, b)}
            if sorted(roles.values()) == ["primary", "standby"]:
                break
            self.assertLess(time.time(), deadline, "not one primary: %r" % roles)
            time.sleep(0.05)
        winner, loser = (a, b) if roles[a.name] == "primary" else (b, a)
        self.assertIn("fenced", loser.log_text())
        self.assertEqual(int(self.repl(loser)["diverged"]), 1)
        # the log holds the winner's change set 1 only: its 2 is taken
        add(winner, "racer2")
        self.assertReply(replies[winner.name], 201)
        self.assertEqual(int(replies[winner.name]["seq"]), 2)
        s = self.wait_repl(winner, lambda s: s["seq_acked"] == "2", "change set 2 in the log")
        self.assertEqual(s["role"], "primary")


class TestOverTLS(ReplicationCase):
    """The log's nodes talk TLS to each other and to the daemons (checked
    against the CA given with --nats-ca): writes still reach the replica."""
    tls = True

    def test_writes_reach_the_replica_over_tls(self):
        primary = self.node("primary")
        self.add_users(primary)
        replica = self.node("replica")
        acked = self.pipelined_creates(primary, 30)
        self.wait_applied(replica, max(acked.values()))
        with replica.text("op1") as c:
            for n in acked:
                self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
        # without the CA the log's certificate is not trusted: no connection
        args = self.nats.daemon_args()
        i = args.index("--nats-ca")
        stranger = Daemon("--role", "replica", *(args[:i] + args[i + 2:]), name="no-ca")
        self.nodes.append(stranger)
        stranger.start()
        # a replica makes no admin of its own: what it says is in its log
        deadline = time.time() + 20
        while "cannot reach the log" not in stranger.log_text():
            self.assertLess(time.time(), deadline, "no refused TLS connection\n" + stranger.log_tail(20))
            time.sleep(0.05)
        self.assertIn("no users yet: this replica takes the primary's from the replication log",
                      stranger.log_text())
        self.assertNotIn("following the log", stranger.log_text())


class TestAutomaticFailover(ReplicationCase):
    """lease_ms: the standby promotes itself once the killed primary's
    lease expires; nothing acknowledged in quorum mode is lost."""
    ack = "quorum"

    def test_standby_takes_the_lease_of_a_dead_primary(self):
        primary = self.node("primary", "--lease-ms", "1500")
        self.add_users(primary)
        standby = self.node("standby", "--lease-ms", "1500")
        time.sleep(1)  # the standby has seen the lease renewed
        self.assertEqual(self.repl(standby)["role"], "standby")
        acked = self.pipelined_creates(primary, 300, kill_after=80)
        t_kill = time.time()
        self.wait_repl(standby, lambda s: s["role"] == "primary", "automatic promotion", timeout=30)
        took = time.time() - t_kill
        self.assertGreater(took, 1.0, "not before the lease expired")
        with standby.text("op1") as c:
            self.assertReply(c.cmd(create_line(next_number("67"), int(time.time()) + DAY)), 201)
            for n in acked:
                self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
        print("lease 1.5 s: kill -9 to the standby's promotion %.2f s, %d acknowledged writes there"
              % (took, len(acked)))
        # the old primary comes back deposed
        primary.start()
        self.wait_repl(primary, lambda s: s["role"] == "standby", "deposed primary")


class TestClusterLostPortRace(unittest.TestCase):
    """The harness itself: a port another process takes between
    free_port() and the node's bind (the CI failure of round 16, "nats-server
    n1 exited") makes the cluster start again on new ports, not fail."""

    def test_start_again_on_new_ports(self):
        if nats_server_binary() is None:
            raise unittest.SkipTest("nats-server is not installed")
        cluster = NatsCluster()
        taken = socket.socket()
        try:
            taken.bind(("127.0.0.1", cluster.cluster_ports[1]))
            taken.listen()
            cluster.start()
            self.assertEqual(cluster.lost_port_starts, 1)
            self.assertNotIn(taken.getsockname()[1], cluster.cluster_ports)
            self.assertTrue(all(cluster.answers(i) for i in range(cluster.n)))
        finally:
            taken.close()
            cluster.stop()

if __name__ == "__main__":
    unittest.main()
