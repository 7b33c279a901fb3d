"""WAYBILL GET answers from a copy of its reply kept with every write (the
waybill's view): after a random mix of writes, a SIGKILL and a restart, every
waybill's reply is byte for byte the reply rendered fresh from the records.

The fresh render comes from the same store opened with --timezone PRC: the
same zone as Asia/Shanghai under another name, so every time reads the same,
but no view (kept for the zone Asia/Shanghai) is used."""
import random
import re

from harness import (DAY, T0, WAYBILL_RECENT_MAX, DaemonTestCase, create_line, iso, line, next_number, sub_list,
                     waybill_fields,
                     waybill_value_join, waybill_value_parts, waybill_value_split, waybill_value_to_events,
                     waybill_value_with)

SENDER = waybill_fields(0)["sender_name"]
SENDER_PHONE = waybill_fields(0)["sender_phone"]
EVENTS = ["picked_up", "departed", "arrived", "damaged", "out_for_delivery",
          "delivery_failed", "held", "lost", "found", "delivered"]


class ViewReplies:
    """Every waybill's GET replies, comparable across daemons."""

    def replies(self, d, numbers):
        """Every waybill's GET: text reply bytes and the msgpack reply, with
        late_secs taken out (the test clock runs on between the two reads;
        its value is checked apart, to a few seconds)."""
        with d.text("admin") as a:
            self.assertReply(a.cmd(line("CLOCK", "SET", iso(T0 + 40 * DAY))), 200)
        out = {}
        with d.text("op1") as c, d.mp("op1") as m:
            for n in numbers:
                c.send(line("WAYBILL", "GET", n))
                text = c.read_exact_reply_bytes()
                mp = m.call("WAYBILL", "GET", n)
                secs = [int(x) for x in re.findall(rb"\r\nlate_secs: (-?\d+)\r\n", text)]
                secs.append(mp["data"]["late_secs"])
                text = re.sub(rb"\r\nlate_secs: -?\d+\r\n", b"\r\nlate_secs: ?\r\n", text)
                mp["data"]["late_secs"] = "?"
                out[n] = (text, list(mp.items()), list(mp["data"].items()), secs)
        return out

    def fresh_replies(self, d, numbers):
        """The replies rendered from the records (no view used)."""
        d.stop()
        fresh_d = self.new_daemon("--timezone", "PRC", data_dir=d.data_dir)
        fresh_d.start()
        fresh = self.replies(fresh_d, numbers)
        fresh_d.stop()
        return fresh

    def assertSameReplies(self, served, fresh, numbers):
        for n in numbers:
            self.assertEqual(served[n][0].decode(), fresh[n][0].decode(), n)
            self.assertEqual(served[n][1:3], fresh[n][1:3], n)
            self.assertEqual(len(served[n][3]), 2, n)
            for a, b in zip(served[n][3], fresh[n][3]):
                self.assertLess(abs(a - b), 30, n)


class Views(ViewReplies, DaemonTestCase):
    start_daemon = False

    def random_write(self, rng, numbers):
        n = rng.choice(numbers)
        kind = rng.random()
        if kind < 0.6:
            ev = rng.choice(EVENTS)
            extra = {}
            if ev == "delivered":
                extra = dict(signer=rng.choice(["Li Na", "Guard"]),
                             signer_is_consignee=rng.choice(["yes", "no"]))
            elif ev == "delivery_failed":
                extra = dict(reason="nobody home")
            return line("SCAN", n, ev, depot=rng.choice(["SH01", "BJ02", "TJ01"]), **extra)
        if kind < 0.75:
            city = rng.choice(["Beijing", "Tianjin"])
            # a new promise given, or the default (the view keeps the promise in force)
            promised = iso(T0 + rng.randrange(5, 9) * DAY) if rng.random() < 0.3 else None
            return line("WAYBILL", "REDIRECT", n, address="9 New Street %d" % rng.randrange(99), city=city,
                        dest_depot="TJ01" if city == "Tianjin" else None, promised_at=promised,
                        requester=SENDER, requester_phone=SENDER_PHONE)
        if kind < 0.85:
            return line("WAYBILL", "RECALL", n, requester=SENDER, requester_phone=SENDER_PHONE)
        return line("QUERY", "LOG", kind="delivery", waybill=n, urgent="yes", channel="phone",
                    terminal="T-07", asker="Li Na", asker_phone="13900139000", answer="on its way")

    def write_batch(self, d, rng, numbers, count):
        """count random writes pipelined on one connection; none may fail
        with a 5xx (a refused write is fine: the rules say no)."""
        with d.text("op1") as c:
            reqs = [self.random_write(rng, numbers) for _ in range(count)]
            c.send("".join(r + "\r\n" for r in reqs))
            for r in reqs:
                rep = c.read_reply()
                self.assertLess(rep.code, 500, "%s -> %s" % (r, rep.status_line))

    def started(self, *args):
        """A daemon with op1, its clock at T0."""
        d = self.new_daemon(*args)
        d.start()
        with d.text("admin") as a:
            self.assertReply(a.cmd(line("USER", "ADD", "op1", "operator", "op1-password")), 201)
            self.assertReply(a.cmd(line("CLOCK", "SET", iso(T0))), 200)
        return d

    def test_served_bytes_equal_a_fresh_render(self):
        rng = random.Random(13)
        d = self.started("--max-redirects-per-waybill", "3")  # promises moved more than once
        numbers = [next_number() for _ in range(40)]
        with d.text("op1") as c:
            for i, n in enumerate(numbers):
                over = {"receiver_city": "Shanghai"} if i % 3 == 0 else {}
                self.assertReply(c.cmd(create_line(n, T0 + 3 * DAY, **over)), 201)
            # long histories: past the newest events kept in the value
            # (WAYBILL_RECENT_MAX), and past those kept in the view (64)
            scans = [line("SCAN", n, "damaged", depot="SH01") for n, k in zip(numbers, (14, 30, 66)) for _ in range(k)]
            c.send("".join(r + "\r\n" for r in scans))
            for r in scans:
                self.assertReply(c.read_reply(), 201)
        self.write_batch(d, rng, numbers, 300)
        d.kill()
        d.restart()
        # past the promise: address changes carry lateness, recalls freeze it
        with d.text("admin") as a:
            self.assertReply(a.cmd(line("CLOCK", "SET", iso(T0 + 4 * DAY))), 200)
        self.write_batch(d, rng, numbers, 300)
        served = self.replies(d, numbers)
        self.assertTrue(any(b"events.6." in s[0] for s in served.values()),
                        "some histories should have grown long")
        self.assertTrue(any(b"events.70." in s[0] for s in served.values()), "one history should pass the view's")
        self.assertSameReplies(served, self.fresh_replies(d, numbers), numbers)
        values, _ = self.stored(d)
        parts = [waybill_value_parts(v) for v in values.values()]
        self.assertTrue(any(p["spilled"] > 0 and len(p["recent"]) == WAYBILL_RECENT_MAX for p in parts))
        self.assertTrue(any(p["spilled"] == 0 for p in parts))

    def stored(self, d):
        """{number: value} of `waybills` and the keys of `wb_views`, the
        daemon stopped."""
        import lmdb
        env = lmdb.open(d.data_dir, max_dbs=64, readonly=True, lock=False)
        with env.begin() as txn:
            values = dict(txn.cursor(db=env.open_db(b"waybills", txn=txn, create=False)))
            views = [k for k, _ in txn.cursor(db=env.open_db(b"wb_views", txn=txn, create=False))]
        env.close()
        return values, views

    def test_a_store_written_before_is_read_and_moved(self):
        """A store written before views moved into the waybill's value (the
        record alone in `waybills`, its view in `wb_views`) serves the same
        bytes from those views; a write moves the view into the value and
        removes the old one."""
        import lmdb
        d = self.started()
        numbers = [next_number() for _ in range(8)]
        with d.text("op1") as c:
            for i, n in enumerate(numbers):
                self.assertReply(c.cmd(create_line(n, T0 + 3 * DAY)), 201)
                for ev in ("picked_up", "departed", "arrived")[:i % 4]:
                    self.assertReply(c.cmd(line("SCAN", n, ev, depot="SH01")), 201)
        before = self.replies(d, numbers)
        d.stop()
        values, views = self.stored(d)
        self.assertEqual(views, [])
        env = lmdb.open(d.data_dir, max_dbs=64, map_size=1 << 30)
        with env.begin(write=True) as txn:
            waybills = env.open_db(b"waybills", txn=txn)
            wb_views = env.open_db(b"wb_views", txn=txn)
            for n in numbers:
                view, rec = waybill_value_to_events(txn, env, n, values[n.encode()])
                txn.put(n.encode(), rec, db=waybills)
                if n == numbers[0]:
                    # its status upper-cased in the old view: the reply shows it came from there
                    at = 62 + int.from_bytes(view[46:50], "big")
                    size = int.from_bytes(view[50:54], "big")
                    view = view[:at] + view[at:at + size].upper() + view[at + size:]
                txn.put(n.encode(), view, db=wb_views)
        env.close()
        d.start()
        old = self.replies(d, numbers)
        self.assertSameReplies(old, before, numbers[1:])
        status = before[numbers[0]][0].split(b"\r\n", 1)[0]
        self.assertEqual(old[numbers[0]][0].split(b"\r\n", 1)[0], status.rsplit(b" ", 1)[0] + b" " +
                         status.rsplit(b" ", 1)[1].upper())
        # a write of each moves its view into its value
        with d.text("op1") as c:
            for n in numbers:
                self.assertReply(c.cmd(line("SCAN", n, "damaged", depot="SH01")), 201)
        served = self.replies(d, numbers)
        self.assertSameReplies(served, self.fresh_replies(d, numbers), numbers)
        values, views = self.stored(d)
        self.assertEqual(views, [])
        for n in numbers:
            waybill_value_split(values[n.encode()])


class OlderValues(ViewReplies, DaemonTestCase):
    """A value written before the newest events moved into it (every event
    in `events`) reads its whole history from there; its next writes keep
    the history whole and in order, events leaving the value after the
    ones already in `events`."""
    create_users = ("op1",)

    def history(self, c, n, limit):
        """Every seq of n's history, paged back limit events at a time."""
        got, before = [], None
        while True:
            r = c.cmd(line("WAYBILL", "GET", n, events_limit=limit, events_before=before))
            self.assertReply(r, 200)
            got = [int(e["seq"]) for e in sub_list(r.rec, "events")] + got
            before = r["events_next_before"]
            if before == "0":
                return got

    def events_stat(self, d):
        with d.text("admin") as a:
            r = a.cmd("STATS")
            self.assertReply(r, 200)
            return int(r["events"])

    def test_a_value_without_its_events_reads_them_from_events(self):
        import lmdb
        d = self.daemon
        with d.text("admin") as a:
            self.assertReply(a.cmd(line("CLOCK", "SET", iso(T0))), 200)
        lengths = (3, 20, 70)
        numbers = [next_number() for _ in lengths]
        with d.text("op1") as c:
            for n, k in zip(numbers, lengths):
                self.assertReply(c.cmd(create_line(n, T0 + 3 * DAY)), 201)
                for _ in range(k - 1):
                    self.assertReply(c.cmd(line("SCAN", n, "damaged", depot="SH01")), 201)
        before = self.replies(d, numbers)
        self.assertEqual(self.events_stat(d), sum(lengths))
        d.stop()
        env = lmdb.open(d.data_dir, max_dbs=64, map_size=1 << 30)
        with env.begin(write=True) as txn:
            waybills = env.open_db(b"waybills", txn=txn)
            for n in numbers:
                view, rec = waybill_value_to_events(txn, env, n, txn.get(n.encode(), db=waybills))
                txn.put(n.encode(), waybill_value_join(view, rec), db=waybills)
        env.close()
        d.start()
        self.assertSameReplies(self.replies(d, numbers), before, numbers)
        self.assertEqual(self.events_stat(d), sum(lengths))
        with d.text("op1") as c:
            for n, k in zip(numbers, lengths):
                self.assertEqual(self.history(c, n, 7), list(range(1, k + 1)))
            # more each than the value keeps: the oldest of them leave it
            more = WAYBILL_RECENT_MAX + 6
            for n in numbers:
                for _ in range(more):
                    self.assertReply(c.cmd(line("SCAN", n, "damaged", depot="SH01")), 201)
            for n, k in zip(numbers, lengths):
                for limit in (1, 7, WAYBILL_RECENT_MAX, 500):
                    self.assertEqual(self.history(c, n, limit), list(range(1, k + more + 1)), (n, limit))
        self.assertEqual(self.events_stat(d), sum(lengths) + 3 * more)
        served = self.replies(d, numbers)
        d.stop()
        env = lmdb.open(d.data_dir, max_dbs=64, readonly=True, lock=False)
        with env.begin() as txn:
            waybills = env.open_db(b"waybills", txn=txn, create=False)
            for n, k in zip(numbers, lengths):
                p = waybill_value_parts(txn.get(n.encode(), db=waybills))
                self.assertEqual((p["spilled"], len(p["recent"])), (k + 6, WAYBILL_RECENT_MAX), n)
        env.close()
        d.start()
        self.assertSameReplies(served, self.fresh_replies(d, numbers), numbers)


class OldViews(ViewReplies, DaemonTestCase):
    """A view written before it kept where the waybill's customer is
    (version 2: GET searches its fields for the account) serves the same
    bytes; the next write renews it."""

    def views(self, numbers, rewrite=None):
        """The stored views of numbers (the daemon stopped), each replaced
        by rewrite(view) when given."""
        import lmdb
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=rewrite is not None) as txn:
            waybills = env.open_db(b"waybills", txn=txn)
            values = {n: txn.get(n.encode(), db=waybills) for n in numbers}
            out = {n: waybill_value_split(value)[0] for n, value in values.items()}
            for n, value in values.items():
                if rewrite:
                    txn.put(n.encode(), waybill_value_with(value, view=rewrite(out[n])), db=waybills)
        env.close()
        return out

    @staticmethod
    def shown(replies):
        """The replies without the raw late_secs (the clock ran on)."""
        return {n: r[:3] for n, r in replies.items()}

    def test_a_version_2_view_reads_as_before(self):
        d = self.daemon
        with d.text("admin") as a:
            self.assertReply(a.cmd(line("CLOCK", "SET", iso(T0))), 200)
        with d.text("sup1") as s:
            self.assertReply(s.cmd(line("CUSTOMER", "ADD", "KEYV", name="Acct KEYV", payment="monthly",
                                        depot="SH01", manager="op1")), 201)
            self.assertReply(s.cmd(line("CUSTOMER", "FILE", "KEYV", handling="fragile: keep upright",
                                        receipt_return="yes")), 200)
        numbers = [next_number() for _ in range(3)]
        with d.text("op1") as c:
            self.assertReply(c.cmd(create_line(numbers[0], T0 + 3 * DAY, customer="KEYV")), 201)
            self.assertReply(c.cmd(create_line(numbers[1], T0 + 3 * DAY)), 201)
            # no account, but the key's bytes in its fields (an old view's
            # search finds them, then walks the fields to no customer)
            self.assertReply(c.cmd(create_line(numbers[2], T0 + 3 * DAY, goods="customer")), 201)
        before = self.replies(d, numbers)
        self.assertIn(b"\r\nrequirements.handling: fragile: keep upright\r\n", before[numbers[0]][0])
        self.assertNotIn(b"requirements", before[numbers[1]][0] + before[numbers[2]][0])
        d.stop()
        # version 3 says where the customer is (0: none); version 2 is the
        # same view without those four bytes
        stored = self.views(numbers, rewrite=lambda v: b"\x02" + v[1:38] + v[42:])
        self.assertEqual([v[0] for v in stored.values()], [3, 3, 3])
        self.assertNotEqual(stored[numbers[0]][38:42], bytes(4))
        self.assertEqual(stored[numbers[1]][38:42], bytes(4))
        d.restart()
        self.assertEqual(self.shown(self.replies(d, numbers)), self.shown(before))
        with d.text("op1") as c:
            self.assertReply(c.cmd(line("SCAN", numbers[0], "picked_up", depot="SH01")), 201)
        after = self.replies(d, numbers)
        self.assertIn(b"\r\nrequirements.handling: fragile: keep upright\r\n", after[numbers[0]][0])
        d.stop()
        self.assertEqual([v[0] for v in self.views(numbers).values()], [3, 2, 2])
