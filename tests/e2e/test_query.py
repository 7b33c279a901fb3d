"""The query register (QUERY LOG / EXTERNAL / ANSWER / GET / LIST) and the
search without a waybill number (QUERY APPROVE + WAYBILL FIND)."""
import unittest

from harness import (DAY, HOUR, T0, DaemonTestCase, iso, line, next_number,
                     next_phone, parse_iso)


def qlog(**named):
    args = dict(kind="delivery", channel="phone", terminal="T-07", asker="Li Na", asker_phone="13900139000",
                answer="in transit, arrives tomorrow")
    args.update(named)
    return line("QUERY", "LOG", **{k: v for k, v in args.items() if v is not None})


class QueryRegister(DaemonTestCase):
    create_users = ("op1",)

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")

    def test_log_needs_waybill_for_delivery_and_pickup(self):
        before = self.counts(self.admin)
        self.assertReply(self.op.cmd(qlog(kind="delivery")), 400, "missing argument 'waybill' for a delivery query")
        self.assertReply(self.op.cmd(qlog(kind="pickup")), 400, "missing argument 'waybill' for a pickup query")
        n = self.create(self.op)
        before = self.counts(self.admin)
        self.assertReply(self.op.cmd(qlog(kind="no_waybill", waybill=n)), 400,
                         "a no_waybill query has no waybill argument")
        self.assertReply(self.op.cmd(qlog(kind="no_waybill", urgent=True)), 400,
                         "urgent=yes flags a waybill for priority delivery: give waybill")
        self.assertReply(self.op.cmd(qlog(kind="lookup", waybill=n)), 400,
                         "argument 'kind' must be one of: delivery, pickup, no_waybill")
        self.assertReply(self.op.cmd(qlog(waybill=n, answer=None)), 400, "missing argument 'answer'")
        self.assertReply(self.op.cmd(qlog(waybill=next_number())), 404)
        self.assertEqual(self.counts(self.admin), before)

    def test_log_delivery_query_and_situation(self):
        n = self.create(self.op)
        r = self.assertReply(self.op.cmd(qlog(waybill=n)), 201)
        qid = r["id"]
        self.assertEqual(r.msg, "query %s registered" % qid)
        self.assertEqual((r["waybill_status"], r["situation"], r["priority"]), ("created", "not_yet_arrived", "no"))
        g = self.assertReply(self.op.cmd("QUERY GET %s" % qid), 200).rec
        self.assertEqual(g["kind"], "delivery")
        self.assertEqual(g["waybill"], n)
        self.assertEqual(g["channel"], "phone")
        self.assertEqual(g["terminal"], "T-07")
        self.assertEqual(g["asker"], "Li Na")
        self.assertEqual(g["answer"], "in transit, arrives tomorrow")
        self.assertEqual(g["user"], "op1")
        self.assertEqual(g["status"], "answered")
        self.assertEqual(g["id"], qid)
        self.assertRegex(g["at"], r"\+08:00$")
        # the situation follows the waybill
        self.scan(self.op, n, "picked_up")
        self.scan(self.op, n, "departed")
        self.assertEqual(self.op.cmd(qlog(waybill=n))["situation"], "not_arrived_locally")
        self.scan(self.op, n, "arrived", depot="BJ02")
        self.assertEqual(self.op.cmd(qlog(waybill=n))["situation"], "arrived_not_signed")
        self.scan(self.op, n, "out_for_delivery", depot="BJ02")
        self.scan(self.op, n, "delivered", depot="BJ02", signer="Doorman Liu", signer_is_consignee=False)
        r = self.op.cmd(qlog(waybill=n))
        self.assertEqual((r["situation"], r["signer"]), ("signed", "Doorman Liu"))
        self.assertEqual(r["delivered_at"], self.get(self.op, n)["delivered_at"])
        self.assertReply(self.op.cmd("QUERY GET 999999"), 404, "no query 999999")
        self.assertReply(self.op.cmd("QUERY GET 0"), 400, "argument 'id' must be a positive integer")

    def test_urgent_flags_priority(self):
        n = self.create(self.op)
        self.assertEqual(self.get(self.op, n)["priority"], "no")
        events = self.event_count(self.op, n)
        r = self.assertReply(self.op.cmd(qlog(waybill=n, urgent=True, answer="flagged for priority")), 201)
        self.assertEqual(r["priority"], "yes")
        g = self.get(self.op, n).rec
        self.assertEqual(g["priority"], "yes")
        self.assertEqual(g["event_count"], str(events))
        self.assertEqual(self.op.cmd("QUERY GET %s" % r["id"])["urgent"], "yes")

    def test_external_query_due_answer_late(self):
        self.set_clock(self.admin, T0)
        n = self.create(self.op)
        ext = line("QUERY", "EXTERNAL", waybill=n, partner="Lanzhou Express", question="where is it?",
                   terminal="T-07")
        r = self.assertReply(self.op.cmd(ext), 201)
        qid = r["id"]
        self.assertEqual(r.msg, "external query %s opened" % qid)
        due = parse_iso(r["due_at"])
        self.assertGreaterEqual(due, T0 + 24 * HOUR)
        self.assertLess(due, T0 + 24 * HOUR + 120)
        g = self.op.cmd("QUERY GET %s" % qid).rec
        self.assertEqual((g["kind"], g["status"], g["overdue"], g["partner"]),
                         ("external", "open", "no", "Lanzhou Express"))
        self.assertEqual(g["due_at"], r["due_at"])
        # still open, and listed as open
        opened = [rec["id"] for rec in self.op.cmd("QUERY LIST open=yes").records]
        self.assertIn(qid, opened)
        self.set_clock(self.admin, T0 + 25 * HOUR)
        self.assertEqual(self.op.cmd("QUERY GET %s" % qid)["overdue"], "yes")
        r = self.assertReply(self.op.cmd(line("QUERY", "ANSWER", qid, answer="at Lanzhou hub, delivery Monday")),
                             200, "query %s answered (late)" % qid)
        self.assertEqual((r["status"], r["answered_late"], r["answered_by"], r["overdue"]),
                         ("answered", "yes", "op1", "no"))
        self.assertEqual(r["answer"], "at Lanzhou hub, delivery Monday")
        self.assertReply(self.op.cmd(line("QUERY", "ANSWER", qid, answer="again")), 409,
                         "query %s is already answered" % qid)
        self.assertNotIn(qid, [rec["id"] for rec in self.op.cmd("QUERY LIST open=yes").records])
        self.assertIn(qid, [rec["id"] for rec in self.op.cmd("QUERY LIST open=no").records])
        # one answered in time
        r = self.assertReply(self.op.cmd(ext), 201)
        q2 = r["id"]
        self.set_clock(self.admin, T0 + 26 * HOUR)
        r = self.assertReply(self.op.cmd(line("QUERY", "ANSWER", q2, answer="ok")), 200, "query %s answered" % q2)
        self.assertEqual(r["answered_late"], "no")
        # only external queries are answered this way
        q3 = self.op.cmd(qlog(waybill=n))["id"]
        self.assertReply(self.op.cmd(line("QUERY", "ANSWER", q3, answer="x")), 409,
                         "query %s is not an external query" % q3)
        self.assertReply(self.op.cmd(line("QUERY", "ANSWER", 999999, answer="x")), 404)
        self.assertReply(self.op.cmd(line("QUERY", "EXTERNAL", waybill=next_number(), partner="P", question="q",
                                          terminal="T")), 404)
        self.assertReply(self.op.cmd(line("QUERY", "EXTERNAL", waybill=n, question="q", terminal="T")), 400,
                         "missing argument 'partner'")
        self.set_clock(self.admin, T0 + 40 * DAY)


class QueryList(DaemonTestCase):
    create_users = ("op1", "op2")

    def test_list_by_waybill_user_day_and_paging(self):
        admin = self.conn("admin")
        op1 = self.conn("op1")
        op2 = self.conn("op2")
        day1 = T0 + 10 * DAY + 2 * HOUR          # 2026-03-12 11:00 +08:00
        self.set_clock(admin, day1)
        a = self.create(op1)
        b = self.create(op1)
        ids = []
        for c, n in ((op1, a), (op1, b), (op2, a), (op1, a), (op2, b)):
            ids.append(self.assertReply(c.cmd(qlog(waybill=n)), 201)["id"])
        self.set_clock(admin, day1 + DAY)         # next local day
        ids.append(self.assertReply(op1.cmd(qlog(waybill=b)), 201)["id"])
        ints = [int(i) for i in ids]
        self.assertEqual(ints, sorted(ints))

        def listed(req):
            r = self.assertReply(op1.cmd(req), 200)
            self.assertEqual(r.msg, "%d queries" % len(r.records))
            return [rec["id"] for rec in r.records]

        # newest first
        self.assertEqual(listed(line("QUERY", "LIST", waybill=a)), [ids[3], ids[2], ids[0]])
        self.assertEqual(listed(line("QUERY", "LIST", waybill=b)), [ids[5], ids[4], ids[1]])
        self.assertEqual(listed(line("QUERY", "LIST", user="op2")), [ids[4], ids[2]])
        self.assertEqual(listed(line("QUERY", "LIST", user="op1", waybill=a)), [ids[3], ids[0]])
        self.assertEqual(listed(line("QUERY", "LIST", day="2026-03-12")), list(reversed(ids[:5])))
        self.assertEqual(listed(line("QUERY", "LIST", day="2026-03-13")), [ids[5]])
        self.assertEqual(listed(line("QUERY", "LIST", day="2026-03-11")), [])
        self.assertEqual(listed(line("QUERY", "LIST", waybill=next_number())), [])
        self.assertEqual(listed(line("QUERY", "LIST", user="nobody")), [])
        # paging: limit and before
        self.assertEqual(listed(line("QUERY", "LIST", day="2026-03-12", limit=2)), [ids[4], ids[3]])
        self.assertEqual(listed(line("QUERY", "LIST", day="2026-03-12", limit=2, before=ids[3])), [ids[2], ids[1]])
        self.assertEqual(listed(line("QUERY", "LIST", day="2026-03-12", limit=2, before=ids[1])), [ids[0]])
        self.assertEqual(listed(line("QUERY", "LIST", user="op1", limit=1, before=ids[5])), [ids[3]])
        everything = listed("QUERY LIST limit=1000")
        self.assertEqual(everything[:6], list(reversed(ids)))
        self.assertEqual(listed("QUERY LIST limit=3"), list(reversed(ids))[:3])
        # records carry the fields
        r = op1.cmd(line("QUERY", "LIST", waybill=a, limit=1))
        self.assertEqual(r.rec["user"], "op1")
        self.assertEqual(r.rec["waybill"], a)
        self.assertEqual(r.rec["kind"], "delivery")
        self.assertEqual(r.rec["overdue"], "no")
        # argument checks
        self.assertReply(op1.cmd("QUERY LIST limit=0"), 400, "argument 'limit' must be from 1 to 1000")
        self.assertReply(op1.cmd("QUERY LIST limit=1001"), 400, "argument 'limit' must be from 1 to 1000")
        self.assertReply(op1.cmd("QUERY LIST day=2026-02-30"), 400, "argument 'day' must be a date like 2026-11-24")
        self.assertReply(op1.cmd("QUERY LIST before=0"), 400, "argument 'before' must be a positive integer")
        self.assertReply(op1.cmd("QUERY LIST open=perhaps"), 400, "argument 'open' must be yes or no")


class QueriesStoredBefore(DaemonTestCase):
    """Queries written before they were a declared record kind (raw indexes
    by number, user and be32 day; no bookkeeping in the records) read, list
    and answer as before: the daemon builds their query_index entries at
    start. The store is rewritten into the old shape with the daemon
    stopped."""
    create_users = ("op1",)

    def old_shape(self, now):
        import datetime
        import lmdb
        import msgpack
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        cst = datetime.timezone(datetime.timedelta(hours=8))
        with env.begin(write=True) as txn:
            queries = env.open_db(b"queries", txn=txn)
            raw = {name: env.open_db(name, txn=txn, dupsort=True)
                   for name in (b"idx_query_waybill", b"idx_query_user", b"idx_query_day")}
            txn.drop(env.open_db(b"idx_query", txn=txn, dupsort=True), delete=False)
            txn.delete(b"query_index_from", db=env.open_db(b"meta", txn=txn))
            for key, value in list(txn.cursor(db=queries)):
                rec = msgpack.unpackb(value, raw=False)
                self.assertIn("due_key", rec)
                rec.pop("due_key")
                rec.pop("timer_at", None)
                txn.put(key, msgpack.packb(rec, use_bin_type=True), db=queries)
                day = int(datetime.datetime.fromtimestamp(rec["at"], cst).strftime("%Y%m%d"))
                if "waybill" in rec:
                    txn.put(rec["waybill"].encode(), key, db=raw[b"idx_query_waybill"])
                txn.put(rec["user"].encode(), key, db=raw[b"idx_query_user"])
                txn.put(day.to_bytes(4, "big"), key, db=raw[b"idx_query_day"])
        env.close()
        self.daemon.restart()
        self._pool.clear()
        self.set_clock(self.conn("admin"), now)  # the test clock starts from the real time

    def test_old_queries_read_list_and_answer(self):
        admin, op = self.conn("admin"), self.conn("op1")
        self.set_clock(admin, T0 + 20 * DAY)
        a, b = self.create(op), self.create(op)
        logged = [self.assertReply(op.cmd(qlog(waybill=n)), 201)["id"] for n in (a, b, a)]
        ext = line("QUERY", "EXTERNAL", waybill=a, partner="Lanzhou Express", question="where?", terminal="T-07")
        waiting = self.assertReply(op.cmd(ext), 201)["id"]
        answered = self.assertReply(op.cmd(ext), 201)["id"]
        self.assertReply(op.cmd(line("QUERY", "ANSWER", answered, answer="at the hub")), 200)
        ids = logged + [waiting, answered]
        lists = ("QUERY LIST waybill=%s" % a, "QUERY LIST waybill=%s" % b, "QUERY LIST user=op1 limit=1000",
                 "QUERY LIST day=2026-03-22", "QUERY LIST open=yes", "QUERY LIST open=no limit=1000",
                 "QUERY LIST waybill=%s limit=2 before=%s" % (a, waiting))

        def seen():
            return ([op.cmd("QUERY GET %s" % i).rec for i in ids],
                    [[r["id"] for r in op.cmd(req).records] for req in lists])
        before = seen()
        self.assertEqual(before[1][4], [waiting])
        self.old_shape(T0 + 20 * DAY)
        op = self.conn("op1")
        self.assertEqual(seen(), before)
        # answered and listed as any query
        self.assertReply(op.cmd(line("QUERY", "ANSWER", waiting, answer="delivered Monday")), 200,
                         "query %s answered" % waiting)
        self.assertEqual([r["id"] for r in op.cmd("QUERY LIST open=yes").records], [])
        newer = self.assertReply(op.cmd(qlog(waybill=a)), 201)["id"]
        self.assertEqual([r["id"] for r in op.cmd("QUERY LIST waybill=%s" % a).records],
                         [newer, answered, waiting, logged[2], logged[0]])
        # built once: a second start leaves the store as the first left it
        self.daemon.stop()
        self.daemon.restart()
        self._pool.clear()
        self.assertEqual([r["id"] for r in self.conn("op1").cmd("QUERY LIST user=op1 limit=1000").records],
                         [newer] + list(reversed(ids)))


class FindWithoutWaybill(DaemonTestCase):
    """WAYBILL FIND: identity checked, a supervisor's approval for one search
    by one user, answers only where phone AND name match, always logged."""
    create_users = ("op1", "op2", "sup1")

    def setUp(self):
        super().setUp()
        self.op1 = self.conn("op1")
        self.phone = next_phone()
        self.name = "Chen Jie"
        # sender match, receiver match, same phone other name, same name other phone
        self.as_sender = self.create(self.op1, sender_phone=self.phone, sender_name=self.name, goods="tea")
        self.as_receiver = self.create(self.op1, receiver_phone=self.phone, receiver_name=self.name,
                                       receiver_city="Hangzhou", dest_depot="HZ01")
        self.other_name = self.create(self.op1, sender_phone=self.phone, sender_name="Chen Jun")
        self.other_phone = self.create(self.op1, sender_phone=next_phone(), sender_name=self.name)

    def find(self, c, expect, msg=None, **named):
        args = dict(phone=self.phone, name=self.name, id_type="resident_id", id_last4="456X", terminal="T-07")
        args.update(named)
        r = c.cmd(line("WAYBILL", "FIND", **{k: v for k, v in args.items() if v is not None}))
        self.assertReply(r, expect, msg)
        return r

    def approve(self, sup, for_user="op1", **named):
        args = dict(phone=self.phone, name=self.name, id_type="resident_id", id_last4="456X", for_user=for_user)
        args.update(named)
        r = self.assertReply(sup.cmd(line("QUERY", "APPROVE", **args)), 201)
        self.assertEqual(r.msg, "approval %s for %s" % (r["id"], for_user))
        return r

    def no_waybill_queries(self, c, user):
        return [rec for rec in c.cmd(line("QUERY", "LIST", user=user, limit=1000)).records
                if rec["kind"] == "no_waybill"]

    def test_operator_needs_an_approval(self):
        before = len(self.no_waybill_queries(self.op1, "op1"))
        self.find(self.op1, 403, "a search without a waybill number needs a supervisor's approval "
                                 "(QUERY APPROVE, then approval=ID)")
        self.find(self.op1, 404, "no approval 999999", approval=999999)
        self.assertEqual(len(self.no_waybill_queries(self.op1, "op1")), before)

    def test_approved_search(self):
        sup = self.conn("sup1")
        op2 = self.conn("op2")
        r = self.approve(sup)
        aid = r["id"]
        self.assertEqual((r["for_user"], r["approved_by"], r["used"], r["id_last4"]), ("op1", "sup1", "no", "456X"))
        self.assertIn("expires_at", r.rec)
        # not for another user, nor for another person, nor another ID
        self.find(op2, 403, "approval %s was given to another user" % aid, approval=aid)
        self.find(self.op1, 403, "approval %s does not cover this name" % aid, approval=aid, name="Chen Jun")
        self.find(self.op1, 403, "approval %s does not cover this phone" % aid, approval=aid, phone=next_phone())
        self.find(self.op1, 403, "approval %s does not cover this id_last4" % aid, approval=aid, id_last4="0000")
        before = len(self.no_waybill_queries(self.op1, "op1"))
        # the approved search: only phone AND name matches
        r = self.find(self.op1, 200, approval=aid)
        self.assertRegex(r.msg, r"^2 waybill\(s\) found; query (\d+) registered$")
        qid = r.msg.rsplit(" ", 2)[1]
        got = {rec["number"]: rec for rec in r.records}
        self.assertEqual(set(got), {self.as_sender, self.as_receiver})
        self.assertEqual(got[self.as_sender]["party"], "sender")
        self.assertEqual(got[self.as_sender]["goods"], "tea")
        self.assertEqual(got[self.as_receiver]["party"], "receiver")
        self.assertEqual(got[self.as_receiver]["receiver_city"], "Hangzhou")
        self.assertEqual(got[self.as_receiver]["status"], "created")
        # used up
        self.find(self.op1, 409, "approval %s is already used" % aid, approval=aid)
        # registered: exactly one more no_waybill query, with the ID's last 4 only
        logged = self.no_waybill_queries(self.op1, "op1")
        self.assertEqual(len(logged), before + 1)
        q = self.op1.cmd("QUERY GET %s" % qid).rec
        self.assertEqual(q["kind"], "no_waybill")
        self.assertEqual(q["approval"], aid)
        self.assertEqual((q["asker"], q["asker_phone"]), (self.name, self.phone))
        self.assertEqual((q["id_type"], q["id_last4"]), ("resident_id", "456X"))
        self.assertEqual(q["terminal"], "T-07")
        self.assertEqual(q["answer"], "search by phone and name: 2 waybill(s)")
        self.assertEqual(logged[0]["id"], qid)

    def test_supervisor_searches_without_approval(self):
        sup = self.conn("sup1")
        r = self.find(sup, 200)
        self.assertEqual({rec["number"] for rec in r.records}, {self.as_sender, self.as_receiver})
        qid = r.msg.rsplit(" ", 2)[1]
        q = sup.cmd("QUERY GET %s" % qid).rec
        self.assertEqual((q["kind"], q["approved_by"], q["user"]), ("no_waybill", "sup1", "sup1"))
        self.assertEqual([rec["id"] for rec in self.no_waybill_queries(sup, "sup1")][0], qid)
        # nobody matching: an empty answer, still registered
        r = self.find(sup, 200, name="Nobody Here")
        self.assertEqual(r.records, [])
        self.assertRegex(r.msg, r"^0 waybill\(s\) found; query \d+ registered$")

    def test_self_addressed_parcel_listed_once(self):
        sup = self.conn("sup1")
        phone = next_phone()
        n = self.create(self.op1, sender_phone=phone, sender_name="Gao Yan", receiver_phone=phone,
                        receiver_name="Gao Yan")
        r = self.find(sup, 200, phone=phone, name="Gao Yan")
        self.assertEqual([rec["number"] for rec in r.records], [n])
        self.assertEqual(r.records[0]["party"], "sender")

    def test_find_argument_checks(self):
        sup = self.conn("sup1")
        self.find(sup, 400, "argument 'id_last4' must be exactly the last 4 letters or digits of the ID, "
                            "never the whole number", id_last4="110101199003071234")
        self.find(sup, 400, "missing argument 'id_type'", id_type=None)
        self.find(sup, 400, "missing argument 'terminal'", terminal=None)
        self.find(sup, 400, "argument 'phone' must be a phone number (digits, leading +, -)", phone="x")
        r = sup.cmd(line("QUERY", "APPROVE", phone=self.phone, name=self.name, id_type="passport",
                         id_last4="1234", for_user="ghost"))
        self.assertReply(r, 404, "no user 'ghost'")

    def test_approval_expires(self):
        admin = self.conn("admin")
        sup = self.conn("sup1")
        now = self.clock(admin)
        aid = self.approve(sup)["id"]
        self.set_clock(admin, now + 31 * 60)
        self.find(self.op1, 409, "approval %s has expired" % aid, approval=aid)


if __name__ == "__main__":
    unittest.main()
