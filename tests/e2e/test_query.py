"""The query register (QUERY LOG / EXTERNAL / ANSWER / GET / LIST) and the
search without a waybill number (QUERY APPROVE + WAYBILL FIND)."""
import time
import unittest

from harness import (counted, DAY, HOUR, T0, DaemonTestCase, iso, line, next_number,
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
                         "query %s is a delivery query, answered when it was registered: only external "
                         "queries and investigations wait for an answer" % q3)
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
            self.assertEqual(r.msg, counted(len(r.records), "query", "queries"))
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


def delivered(case, c, depot="BJ02", signer_is_consignee=False, **over):
    """A waybill to depot, signed for by someone other than the consignee
    (or by the consignee)."""
    n = case.create(c, dest_depot=depot, **over)
    for event in ("picked_up", "departed"):
        case.scan(c, n, event)
    case.scan(c, n, "arrived", depot=depot)
    case.scan(c, n, "out_for_delivery", depot=depot)
    case.scan(c, n, "delivered", depot=depot, signer="Doorman Liu", signer_is_consignee=signer_is_consignee)
    return n


class Investigations(DaemonTestCase):
    """Issue 11 item 17: "signed, but I never got it" — the receiver's
    delivery query about a parcel signed for opens an investigation, a query
    of its own kind with a due time and an outcome."""
    create_users = ("op1", "sup1")

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")
        self.set_clock(self.admin, T0 + 30 * DAY)

    def not_received(self, n, expect=201, msg=None, **named):
        args = dict(waybill=n, not_received=True, answer="signed by Doorman Liu; we investigate")
        args.update(named)
        r = self.op.cmd(qlog(**args))
        return self.assertReply(r, expect, msg)

    def answer(self, qid, expect=200, msg=None, **named):
        named.setdefault("answer", "found at the doorman's lodge, handed over")
        return self.assertReply(self.op.cmd(line("QUERY", "ANSWER", qid, **named)), expect, msg)

    def test_opened_with_the_delivery_scan_and_answered_with_an_outcome(self):
        n = delivered(self, self.op)
        r = self.not_received(n)
        qid, inv = r["id"], r["investigation"]
        self.assertEqual(r.msg, "query %s registered; investigation %s opened" % (qid, inv))
        self.assertEqual((r["situation"], r["signer"], r["service_level"]), ("signed", "Doorman Liu", "basic"))
        g = self.op.cmd("QUERY GET %s" % inv).rec
        now = parse_iso(g["at"])  # the test clock runs on: times are the record's own
        self.assertEqual(parse_iso(r["investigation_due_at"]), now + 48 * HOUR)
        self.assertEqual((g["kind"], g["status"], g["waybill"], g["from_query"], g["signer"],
                          g["signer_is_consignee"], g["depot"], g["overdue"], g["ever_overdue"]),
                         ("investigation", "open", n, qid, "Doorman Liu", "no", "BJ02", "no", "no"))
        self.assertEqual(g["delivered_at"], self.get(self.op, n)["delivered_at"])
        self.assertEqual(g["due_at"], r["investigation_due_at"])
        q = self.op.cmd("QUERY GET %s" % qid).rec
        self.assertEqual((q["kind"], q["status"], q["investigation"]), ("delivery", "answered", inv))
        self.assertEqual([rec["id"] for rec in self.op.cmd("QUERY LIST waybill=%s kind=investigation" % n).records],
                         [inv])
        self.assertIn(inv, [rec["id"] for rec in self.op.cmd("QUERY LIST open=yes").records])
        # one open investigation a waybill
        before = self.counts(self.admin)
        self.not_received(n, 409, "waybill %s already has an open investigation (query %s)" % (n, inv))
        self.assertEqual(self.counts(self.admin), before)
        # answered with what it found, in time
        self.set_clock(self.admin, now + 48 * HOUR - 60)
        r = self.answer(inv, outcome="found_redelivered")
        self.assertEqual(r.msg, "investigation %s answered: found_redelivered" % inv)
        self.assertEqual((r["status"], r["outcome"], r["answered_late"], r["answered_by"]),
                         ("answered", "found_redelivered", "no", "op1"))
        self.answer(inv, 409, "query %s is already answered" % inv, outcome="lost")
        # a later complaint of the same kind opens a new one
        self.assertNotEqual(self.not_received(n)["investigation"], inv)

    def test_refusals_write_nothing(self):
        n = delivered(self, self.op)
        on_its_way = self.create(self.op)
        before = self.counts(self.admin)
        self.not_received(on_its_way, 409, "waybill %s is not signed for (it is created): only a parcel signed for "
                                           "that the customer says never arrived is investigated" % on_its_way)
        self.not_received(n, 400, "not_received=yes is the receiver's delivery query about a parcel signed for: "
                                  "give kind=delivery", kind="pickup")
        self.assertReply(self.op.cmd(qlog(kind="no_waybill", not_received=True)), 400,
                         "not_received=yes is the receiver's delivery query about a parcel signed for: "
                         "give kind=delivery and waybill")
        self.not_received(n, 400, "urgent=yes is for a parcel on its way; not_received=yes for one signed for",
                          urgent=True)
        self.not_received(n, 400, "argument 'not_received' must be yes or no", not_received="perhaps")
        self.assertEqual(self.counts(self.admin), before)
        inv = self.not_received(n)["investigation"]
        before = self.counts(self.admin)
        self.answer(inv, 400, "missing argument 'outcome': investigation %s is answered with what it found" % inv)
        self.answer(inv, 400, None, outcome="vanished")
        self.answer(inv, 404, "no complaint 999999", outcome="disputed", complaint=999999)
        other = self.create(self.op)
        cid = self.assertReply(self.op.cmd(line("COMPLAINT", "OPEN", channel="phone", category="loss", waybill=other,
                                                customer_name="Li Na", customer_phone="13900139000",
                                                text="never arrived")), 201)["id"]
        self.answer(inv, 422, "complaint %s is not about waybill %s" % (cid, n), outcome="disputed", complaint=cid)
        # the other kinds
        ext = self.assertReply(self.op.cmd(line("QUERY", "EXTERNAL", waybill=n, partner="P", question="q",
                                                terminal="T")), 201)["id"]
        self.answer(ext, 400, "outcome and complaint are for an investigation; query %s is an external query"
                    % ext, outcome="lost")
        plain = self.op.cmd(qlog(waybill=n))["id"]
        self.answer(plain, 409, "query %s is a delivery query, answered when it was registered: only external "
                                "queries and investigations wait for an answer" % plain)
        g = self.op.cmd("QUERY GET %s" % inv).rec
        self.assertEqual((g["status"], g.get("outcome"), g.get("complaint")), ("open", None, None))
        self.assertEqual(self.counts(self.admin)[2], before[2] + 2)  # the external and the plain one only

    def claim_loss(self, n, expect):
        return self.assertReply(self.op.cmd(line("CLAIM", "FILE", waybill=n, type="loss", claimed_fen=5000,
                                                 claimant="receiver", claimant_name="Li Na",
                                                 claimant_phone="13900139000")), expect)

    def test_lost_opens_the_way_to_a_loss_claim(self):
        n = delivered(self, self.op)
        # signed for: no loss claim on the customer's word alone
        self.assertEqual(self.claim_loss(n, 422).msg,
                         "a loss claim cannot be filed: the parcel was signed for: a loss is claimed on it only "
                         "after an investigation found it lost or misdelivered (QUERY LOG not_received=yes)")
        inv = self.not_received(n)["investigation"]
        self.claim_loss(n, 422)  # still open
        comp = self.assertReply(self.op.cmd(line("COMPLAINT", "OPEN", channel="phone", category="loss", waybill=n,
                                                 customer_name="Li Na", customer_phone="13900139000",
                                                 text="signed by someone I do not know")), 201)["id"]
        r = self.answer(inv, outcome="lost", complaint=comp, answer="not found: you may claim the loss")
        self.assertEqual((r["outcome"], r["may_claim"], r["complaint"]), ("lost", "yes", comp))
        self.claim_loss(n, 201)

    def accuracy(self, depot, month):
        rows = self.op.cmd(line("KPI", month=month, depot=depot)).records
        row = [r for r in rows if r["kpi"] == "delivery_accuracy"][0]
        return int(row["numerator"]), int(row["denominator"])

    def test_misdelivered_counts_against_delivery_accuracy(self):
        n = delivered(self, self.op, "BJ05", signer_is_consignee=True)
        month = self.get(self.op, n)["created_at"][:7]
        self.assertEqual(self.accuracy("BJ05", month), (1, 1))  # accurate at the scan
        inv = self.not_received(n)["investigation"]
        self.answer(inv, outcome="misdelivered", answer="handed to the neighbour at 502, not the receiver")
        self.assertEqual(self.get(self.op, n)["inaccurate"], "yes")
        self.assertEqual(self.accuracy("BJ05", month), (0, 1))
        # a misdelivery complaint about it later counts it no second time
        self.assertReply(self.op.cmd(line("COMPLAINT", "OPEN", channel="phone", category="wrong_signature",
                                          waybill=n, customer_name="Li Na", customer_phone="13900139000",
                                          text="my neighbour signed")), 201)
        self.assertEqual(self.accuracy("BJ05", month), (0, 1))

    def test_other_outcomes_leave_delivery_accuracy(self):
        n = delivered(self, self.op, "BJ06", signer_is_consignee=True)
        month = self.get(self.op, n)["created_at"][:7]
        for outcome in ("disputed", "lost"):
            self.answer(self.not_received(n)["investigation"], outcome=outcome)
        self.assertNotIn("inaccurate", self.get(self.op, n).rec)
        self.assertEqual(self.accuracy("BJ06", month), (1, 1))

    def test_found_gives_no_claim(self):
        n = delivered(self, self.op)
        inv = self.not_received(n)["investigation"]
        r = self.answer(inv, outcome="delivered_confirmed", answer="the receiver's neighbour signed, with consent")
        self.assertEqual(r["may_claim"], "no")
        self.claim_loss(n, 422)


def external(c, n, expect=201):
    r = c.cmd(line("QUERY", "EXTERNAL", waybill=n, partner="Lanzhou Express", question="where is it?",
                   terminal="T-07"))
    assert r.code == expect, r
    return r


class DueByServiceLevel(DaemonTestCase):
    """Issue 11 item 18: external queries and investigations of value-added,
    exclusive and customised customers are due sooner — the account
    customer's level, else the waybill's own; the shares are options."""
    create_users = ("op1", "sup1")

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("sup1") as c:
            for account, tier in (("KEYACC", "key"), ("PLAIN", None)):
                r = c.cmd(line("CUSTOMER", "ADD", account, name="Account " + account, payment="monthly",
                               depot="SH01"))
                assert r.code == 201, r
                if tier:
                    r = c.cmd(line("CUSTOMER", "TIER", account, tier=tier, reason="group contract"))
                    assert r.code == 200, r

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.set_clock(self.conn("admin"), T0 + 40 * DAY)

    def due_in(self, r):
        """The period a query got: its due time from its own registration
        (the test clock runs on between requests)."""
        g = self.op.cmd("QUERY GET %s" % (r["investigation"] if "investigation" in r.rec else r["id"])).rec
        return parse_iso(g["due_at"]) - parse_iso(g["at"])

    def test_external_query_by_level(self):
        for over, level, secs in (({}, "basic", 24 * HOUR),
                                  ({"service_level": "value_added"}, "value_added", 24 * HOUR * 90 // 100),
                                  ({"service_level": "exclusive"}, "exclusive", 18 * HOUR),
                                  ({"customer": "KEYACC"}, "customised", 12 * HOUR),
                                  # an account at the basic level: the waybill's own level
                                  ({"customer": "PLAIN", "service_level": "exclusive"}, "exclusive", 18 * HOUR)):
            with self.subTest(over=over):
                r = external(self.op, self.create(self.op, **over))
                self.assertEqual((r["service_level"], self.due_in(r)), (level, secs))
                g = self.op.cmd("QUERY GET %s" % r["id"]).rec
                self.assertEqual((g["service_level"], g["due_at"]), (level, r["due_at"]))

    def test_investigation_by_level(self):
        n = delivered(self, self.op, customer="KEYACC")
        r = self.assertReply(self.op.cmd(qlog(waybill=n, not_received=True)), 201)
        self.assertEqual((r["service_level"], self.due_in(r)), ("customised", 24 * HOUR))

    def test_plain_queries_have_no_due_time(self):
        r = self.assertReply(self.op.cmd(qlog(waybill=self.create(self.op, customer="KEYACC"))), 201)
        g = self.op.cmd("QUERY GET %s" % r["id"]).rec
        self.assertNotIn("due_at", g)
        self.assertEqual(g["overdue"], "no")


class DueByServiceLevelOptions(DaemonTestCase):
    """The periods and shares come from the options."""
    create_users = ("op1",)
    daemon_args = ("--external-query-due-secs", "36000", "--investigation-due-secs", "7200",
                   "--query-percent-exclusive", "60", "--query-percent-customised", "10")

    def test_options(self):
        op = self.conn("op1")

        def period(qid):
            g = op.cmd("QUERY GET %s" % qid).rec
            return parse_iso(g["due_at"]) - parse_iso(g["at"])
        self.assertEqual(period(external(op, self.create(op, service_level="exclusive"))["id"]), 21600)
        self.assertEqual(period(external(op, self.create(op))["id"]), 36000)
        r = self.assertReply(op.cmd(qlog(waybill=delivered(self, op, service_level="customised"),
                                         not_received=True)), 201)
        self.assertEqual(period(r["investigation"]), 720)


class LateAtTheDueInstant(DaemonTestCase):
    """Issue 11 item 19: a query not answered by its due time is late from
    its due instant — marked overdue by the daemon's timer and counted late
    in the KPI and the monthly report at once, answered or not; QUERY LIST
    overdue=yes lists the ones waiting, most overdue first."""
    create_users = ("op1",)

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")

    def kpi(self, depot):
        rows = self.op.cmd(line("KPI", month="2026-03", depot=depot)).records
        row = [r for r in rows if r["kpi"] == "on_time_handling"][0]
        return int(row["numerator"]), int(row["denominator"])

    def report(self, depot):
        r = self.mp("op1").call("REPORT", "MONTH", month="2026-03", depot=depot)
        self.assertEqual(r["code"], 200, r)
        return r["data"]["queries"]

    def wait_overdue(self, qid):
        deadline = time.time() + 5
        while time.time() < deadline:
            g = self.op.cmd("QUERY GET %s" % qid).rec
            if g["ever_overdue"] == "yes":
                return g
            time.sleep(0.05)
        self.fail("query %s was not marked overdue by itself within 5 s" % qid)

    def test_late_from_its_due_instant_answered_or_not(self):
        depot = "Q19A"
        self.set_clock(self.admin, T0)
        n = self.create(self.op, dest_depot=depot)
        r = external(self.op, n)
        qid, due = r["id"], parse_iso(r["due_at"])
        self.assertEqual(self.kpi(depot), (1, 1))
        # before its due time it is on time (the exact second is the unit
        # tests' job: the test clock runs on between requests)
        self.set_clock(self.admin, due - 60)
        self.assertReply(self.admin.cmd("SWEEP"), 200)
        g = self.op.cmd("QUERY GET %s" % qid).rec
        self.assertEqual((g["overdue"], g["ever_overdue"]), ("no", "no"))
        self.assertEqual(self.kpi(depot), (1, 1))
        self.assertEqual(self.op.cmd("QUERY LIST overdue=yes depot=%s" % depot).records, [])
        # the second after, unanswered: late in the KPI and the report by itself
        self.set_clock(self.admin, due + 1)
        g = self.wait_overdue(qid)
        self.assertEqual((g["status"], g["overdue"]), ("open", "yes"))
        self.assertEqual(self.kpi(depot), (0, 1))
        rep = self.report(depot)
        self.assertEqual(rep, {"external": 1, "investigations": 0, "late": 1, "late_pct": "100.00"})
        self.assertEqual([x["id"] for x in self.op.cmd("QUERY LIST overdue=yes depot=%s" % depot).records], [qid])
        self.assertEqual([x["id"] for x in self.op.cmd("QUERY LIST overdue=no depot=%s" % depot).records], [])
        # answered later: still late, counted once
        self.set_clock(self.admin, due + 5 * DAY)
        r = self.assertReply(self.op.cmd(line("QUERY", "ANSWER", qid, answer="delivered Monday")), 200,
                             "query %s answered (late)" % qid)
        self.assertEqual((r["answered_late"], r["ever_overdue"], r["overdue"]), ("yes", "yes", "no"))
        self.assertEqual(self.kpi(depot), (0, 1))
        self.assertEqual(self.report(depot)["late"], 1)
        self.assertEqual(self.op.cmd("QUERY LIST overdue=yes depot=%s" % depot).records, [])

    def test_answered_just_before_due_is_on_time(self):
        depot = "Q19B"
        self.set_clock(self.admin, T0 + HOUR)
        r = external(self.op, self.create(self.op, dest_depot=depot))
        self.set_clock(self.admin, parse_iso(r["due_at"]) - 60)
        r = self.assertReply(self.op.cmd(line("QUERY", "ANSWER", r["id"], answer="ok")), 200,
                             "query %s answered" % r["id"])
        self.assertEqual((r["answered_late"], r["ever_overdue"]), ("no", "no"))
        self.assertEqual(self.kpi(depot), (1, 1))

    def test_overdue_list_most_overdue_first(self):
        depot = "Q19C"
        self.set_clock(self.admin, T0 + 2 * HOUR)
        first = external(self.op, self.create(self.op, dest_depot=depot))["id"]
        self.set_clock(self.admin, T0 + 3 * HOUR)
        second = external(self.op, self.create(self.op, dest_depot=depot, service_level="customised"))["id"]
        n = delivered(self, self.op, depot=depot)
        inv = self.assertReply(self.op.cmd(qlog(waybill=n, not_received=True)), 201)["investigation"]
        self.set_clock(self.admin, T0 + 3 * HOUR + 30 * HOUR)
        self.wait_overdue(first)
        rows = self.op.cmd("QUERY LIST overdue=yes depot=%s" % depot).records
        # the customised one was due 12 h after it was opened, the basic one 24 h
        self.assertEqual([x["id"] for x in rows], [second, first])
        self.assertEqual([x["id"] for x in self.op.cmd("QUERY LIST overdue=yes depot=%s limit=1" % depot).records],
                         [second])
        self.assertEqual([x["id"] for x in self.op.cmd("QUERY LIST overdue=no kind=investigation depot=%s"
                                                       % depot).records], [inv])
        self.set_clock(self.admin, T0 + 3 * HOUR + 60 * HOUR)
        self.wait_overdue(inv)
        self.assertEqual([x["id"] for x in self.op.cmd("QUERY LIST overdue=yes kind=investigation depot=%s"
                                                       % depot).records], [inv])
        rep = self.report(depot)
        self.assertEqual((rep["external"], rep["investigations"], rep["late"]), (2, 1, 3))
        self.assertReply(self.op.cmd("QUERY LIST overdue=perhaps"), 400, "argument 'overdue' must be yes or no")
        self.assertReply(self.op.cmd("QUERY LIST kind=lookup"), 400)


class QueriesStoredBefore(DaemonTestCase):
    """Queries written before they were a declared record kind (raw indexes
    by number, user and be32 day; no bookkeeping in the records) read, list
    and answer as before: the daemon builds their query_index entries at
    start. The store is rewritten into the old shape with the daemon
    stopped."""
    create_users = ("op1",)
    NEWER = ("service_level", "depot", "ever_overdue")  # fields of later versions

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
                for field in ("due_key", "timer_at") + self.NEWER:
                    rec.pop(field, None)
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
        import datetime
        admin, op = self.conn("admin"), self.conn("op1")
        # ahead of the real time, which the daemon's clock starts from again
        # after the restart: nothing may fall due meanwhile
        now = (int(time.time()) // DAY + 10) * DAY + 3 * HOUR
        day = datetime.datetime.fromtimestamp(now, datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d")
        self.set_clock(admin, now)
        a, b = self.create(op), self.create(op)
        logged = [self.assertReply(op.cmd(qlog(waybill=n)), 201)["id"] for n in (a, b, a)]
        ext = line("QUERY", "EXTERNAL", waybill=a, partner="Lanzhou Express", question="where?", terminal="T-07")
        waiting = self.assertReply(op.cmd(ext), 201)["id"]
        answered = self.assertReply(op.cmd(ext), 201)["id"]
        self.assertReply(op.cmd(line("QUERY", "ANSWER", answered, answer="at the hub")), 200)
        ids = logged + [waiting, answered]
        lists = ("QUERY LIST waybill=%s" % a, "QUERY LIST waybill=%s" % b, "QUERY LIST user=op1 limit=1000",
                 "QUERY LIST day=%s" % day, "QUERY LIST open=yes", "QUERY LIST open=no limit=1000",
                 "QUERY LIST waybill=%s limit=2 before=%s" % (a, waiting))

        def seen():
            return ([{k: v for k, v in op.cmd("QUERY GET %s" % i).rec.items() if k not in self.NEWER} for i in ids],
                    [[r["id"] for r in op.cmd(req).records] for req in lists])
        before = seen()
        self.assertEqual(before[1][4], [waiting])
        self.old_shape(now)
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
