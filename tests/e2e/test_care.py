"""Customer care around the contacts (docs/customers.md): the contacts the
rules raise by themselves (a call-back after a query or complaint closes,
an apology visit after a key account's complaint reaches the media), the
account team and who gets what, with the clock moved and bad input
refused with nothing written.

Dates are in 2027, after the real date (see test_complaints.py)."""
import os
import re
import time
import unittest

from harness import DAY, iso, line, next_number, parse_iso, sub_list
from test_complaints import ComplaintCase, close_args


class CareCase(ComplaintCase):
    """KEYA: a key account kept by a team; MEDA: a medium monthly account
    with only a manager."""

    @classmethod
    def class_setup(cls):
        super().class_setup()
        with cls.daemon.text("sup1") as s:
            for acct, tier in (("KEYA", "key"), ("MEDA", "medium_monthly")):
                for cmd in (line("CUSTOMER", "ADD", acct, name="Acct " + acct, payment="monthly", depot="SH01",
                                 manager="op1"),
                            line("CUSTOMER", "TIER", acct, tier=tier, reason="contract")):
                    r = s.cmd(cmd)
                    assert r.code in (200, 201), r
            for role, user in (("maintenance_specialist", "op2"), ("senior_leader", "mgr1"),
                               ("cs_manager", "sup1")):
                r = s.cmd(line("CUSTOMER", "TEAM", "KEYA", role, user))
                assert r.code == 200, r

    def waybill(self, account):
        number = next_number()
        self.create(self.u("op1"), number=number, promised_at=self.now() + 3 * DAY, customer=account)
        return number

    def contacts(self, account, **match):
        r = self.u("op1").cmd(line("CONTACT", "LIST", customer=account, limit=500))
        self.assertReply(r, 200)
        out = []
        for row in r.records:
            c = self.u("op1").cmd(line("CONTACT", "GET", row["id"])).rec
            if all(c.get(k) == v for k, v in match.items()):
                out.append(c)
        return out

    def close_complaint(self, cid, user="op1"):
        self.c(user, "ACK", cid)
        self.c(user, "PROPOSE", cid, text="a voucher")
        self.c(user, "ACCEPT", cid, text="fine")
        return self.c(user, "CLOSE", cid, **close_args())


class RaisedContacts(CareCase):

    def test_call_back_after_a_complaint_closes(self):
        t = self.at("2027-06-01T10:00:00+08:00")
        cid = self.open_id(waybill=self.waybill("KEYA"))
        source = "complaint:%d" % cid
        self.assertEqual(self.contacts("KEYA", source=source), [])
        self.at(t + 3600)
        self.close_complaint(cid)
        closed_at = parse_iso(self.get(cid)["closed_at"])
        [cb] = self.contacts("KEYA", source=source)
        # the team's maintenance specialist calls a day after the close
        self.assertEqual((cb["kind"], cb["purpose"], cb["owner"], cb["status"]), ("call", "call_back", "op2", "planned"))
        self.assertEqual(parse_iso(cb["planned_at"]), closed_at + DAY)
        self.assertEqual(sub_list(cb, "timeline")[0]["action"], "raise")
        # reopened and closed again: still the one call-back
        self.c("sup1", "REOPEN", cid, reason="customer called again")
        self.c("sup1", "PROPOSE", cid, text="a second voucher")
        self.c("sup1", "ACCEPT", cid, text="fine")
        self.c("sup1", "CLOSE", cid, **close_args())
        self.assertEqual(len(self.contacts("KEYA", source=source)), 1)
        # the call-back falls due and is overdue like any planned contact
        self.at(closed_at + DAY + 10)
        self.sweep()
        [cb] = self.contacts("KEYA", source=source)
        self.assertEqual(cb["overdue"], "yes")

    def test_call_back_after_an_external_query_is_answered(self):
        self.at("2027-06-02T10:00:00+08:00")
        number = self.waybill("MEDA")
        r = self.u("op1").cmd(line("QUERY", "EXTERNAL", waybill=number, partner="Partner Express",
                                   question="where is it", terminal="T1"))
        self.assertReply(r, 201)
        qid = int(r["id"])
        self.assertEqual(self.contacts("MEDA", source="query:%d" % qid), [])
        r = self.u("op1").cmd(line("QUERY", "ANSWER", qid, answer="out for delivery"))
        self.assertReply(r, 200)
        [cb] = self.contacts("MEDA", source="query:%d" % qid)
        # no team: the account manager, a day after the answer
        self.assertEqual((cb["kind"], cb["purpose"], cb["owner"]), ("call", "call_back", "op1"))
        self.assertEqual(parse_iso(cb["planned_at"]), parse_iso(r["answered_at"]) + DAY)
        # a query of a waybill without an account raises nothing
        before = len(self.u("admin").cmd(line("CONTACT", "LIST", limit=1000)).records)
        plain = next_number()
        self.create(self.u("op1"), number=plain, promised_at=self.now() + 3 * DAY)
        qid = int(self.u("op1").cmd(line("QUERY", "EXTERNAL", waybill=plain, partner="P", question="q",
                                         terminal="T1"))["id"])
        self.assertReply(self.u("op1").cmd(line("QUERY", "ANSWER", qid, answer="a")), 200)
        self.assertEqual(len(self.u("admin").cmd(line("CONTACT", "LIST", limit=1000)).records), before)

    def test_apology_visit_after_a_key_accounts_media_complaint(self):
        self.at("2027-06-03T10:00:00+08:00")
        cid = self.open_id(channel="media", waybill=self.waybill("KEYA"))
        [ap] = self.contacts("KEYA", source="complaint:%d:apology" % cid)
        # the senior leader of the team visits within the configured 2 days
        self.assertEqual((ap["kind"], ap["purpose"], ap["owner"]), ("visit", "apology", "mgr1"))
        self.assertEqual(parse_iso(ap["planned_at"]), parse_iso(self.get(cid)["opened_at"]) + 2 * DAY)
        # the warning the same complaint raised goes to the customer-service manager
        r = self.u("op1").cmd(line("WARNING", "LIST", customer="KEYA", subtype="media_exposure", limit=100))
        self.assertEqual([w["owner"] for w in r.records], ["sup1"])
        # a medium account: the warning (to its manager), no apology visit
        cid = self.open_id(channel="media", waybill=self.waybill("MEDA"))
        self.assertEqual(self.contacts("MEDA", source="complaint:%d:apology" % cid), [])
        r = self.u("op1").cmd(line("WARNING", "LIST", customer="MEDA", subtype="media_exposure", limit=100))
        self.assertEqual([w["owner"] for w in r.records], ["op1"])


class AccountTeam(CareCase):

    def test_team_members_and_bad_input(self):
        c = self.u("op1").cmd(line("CUSTOMER", "GET", "KEYA")).rec
        self.assertEqual((c["team.maintenance_specialist"], c["team.senior_leader"], c["team.cs_manager"]),
                         ("op2", "mgr1", "sup1"))
        before = self.u("op1").cmd(line("CUSTOMER", "GET", "KEYA")).lines
        for args, code in ((("KEYA", "chef", "op2"), 400), (("KEYA", "cs_manager", "nobody"), 404),
                           (("NOSUCH", "cs_manager", "op2"), 404)):
            self.assertReply(self.u("sup1").cmd(line("CUSTOMER", "TEAM", *args)), code)
        # an operator may not change the team
        self.assertReply(self.u("op1").cmd(line("CUSTOMER", "TEAM", "KEYA", "cs_manager", "op1")), 403)
        self.assertEqual(self.u("op1").cmd(line("CUSTOMER", "GET", "KEYA")).lines, before)

    def test_a_cleared_role_falls_back_to_the_manager(self):
        s = self.u("sup1")
        self.assertReply(s.cmd(line("CUSTOMER", "ADD", "TEAMB", name="Team B", payment="monthly", depot="SH01",
                                    manager="op1")), 201)
        self.assertReply(s.cmd(line("CUSTOMER", "TEAM", "TEAMB", "cs_manager", "sup1")), 200)
        r = s.cmd(line("CUSTOMER", "TEAM", "TEAMB", "cs_manager"))
        self.assertReply(r, 200, "cs_manager of TEAMB: the manager")
        self.assertEqual(self.u("op1").cmd(line("CUSTOMER", "GET", "TEAMB")).rec["team.cs_manager"], "")
        r = self.u("op1").cmd(line("WARNING", "ADD", customer="TEAMB", type="competitor", subtype="tender",
                                   text="a tender is open"))
        self.assertReply(r, 201)
        w = self.u("op1").cmd(line("WARNING", "GET", r["id"])).rec
        self.assertEqual(w["owner"], "op1")


class CustomerFile(CareCase):

    def customer(self, account):
        return self.u("op1").cmd(line("CUSTOMER", "GET", account)).rec

    def waybill_get(self, number, **named):
        r = self.u("op1").cmd(line("WAYBILL", "GET", number, **named))
        self.assertReply(r, 200)
        return r.rec

    def test_requirements_show_on_the_accounts_waybills_and_follow_the_file(self):
        self.at("2027-06-05T10:00:00+08:00")
        s = self.u("sup1")
        number = self.waybill("KEYA")
        self.assertNotIn("requirements.handling", self.waybill_get(number))
        r = s.cmd(line("CUSTOMER", "FILE", "KEYA", insurance="all parcels insured, PICC", payment_terms="60 days",
                       rebates="3 % above 1,000 waybills a month", receipt_return="yes",
                       handling="fragile: keep upright", delivery_window="09:00-12:00"))
        self.assertReply(r, 200, "file of KEYA changed")
        c = self.customer("KEYA")
        self.assertEqual((c["file.insurance"], c["file.payment_terms"], c["file.receipt_return"]),
                         ("all parcels insured, PICC", "60 days", "yes"))
        # every GET of the account's waybills shows them, from the view ...
        w = self.waybill_get(number)
        self.assertEqual((w["requirements.receipt_return"], w["requirements.handling"],
                          w["requirements.delivery_window"]), ("yes", "fragile: keep upright", "09:00-12:00"))
        self.assertNotIn("requirements.insurance", w)
        # ... and rendered from the records (a page of a longer history)
        self.assertReply(self.u("op1").cmd(line("SCAN", number, "picked_up", depot="SH01")), 201)
        w = self.waybill_get(number, events_limit=1)
        self.assertEqual(w["requirements.handling"], "fragile: keep upright")
        # the file changes: the next GET says so, both ways
        self.assertReply(s.cmd(line("CUSTOMER", "FILE", "KEYA", handling="no stacking", receipt_return="no")), 200)
        for named in ({}, {"events_limit": 1}):
            w = self.waybill_get(number, **named)
            self.assertEqual(w["requirements.handling"], "no stacking")
            self.assertNotIn("requirements.receipt_return", w)
        # a waybill of another account, or of none, has none
        self.assertNotIn("requirements.handling", self.waybill_get(self.waybill("MEDA")))

    def test_bad_file_input_writes_nothing(self):
        s = self.u("sup1")
        before = self.u("op1").cmd(line("CUSTOMER", "GET", "MEDA")).lines
        for cmd, code in ((line("CUSTOMER", "FILE", "MEDA"), 400),
                          (line("CUSTOMER", "FILE", "MEDA", receipt_return="maybe"), 400),
                          (line("CUSTOMER", "FILE", "NOSUCH", rebates="none"), 404),
                          (line("CUSTOMER", "PERSON", "MEDA", "Li Wei", birthday="02-30"), 400),
                          (line("CUSTOMER", "PERSON", "MEDA", "Li Wei", birthday="1990-02-29"), 400),
                          (line("CUSTOMER", "PERSON", "MEDA", "Li Wei", birthday="tomorrow"), 400),
                          (line("CUSTOMER", "PERSON", "MEDA", "Li Wei", remove="yes"), 404),
                          (line("CUSTOMER", "PERSON", "MEDA", "Li Wei", remove="yes", role="boss"), 400),
                          (line("CUSTOMER", "PERSON", "NOSUCH", "Li Wei", role="boss"), 404)):
            self.assertReply(s.cmd(cmd), code)
        self.assertReply(self.u("op1").cmd(line("CUSTOMER", "FILE", "MEDA", rebates="x")), 403)
        self.assertEqual(self.u("op1").cmd(line("CUSTOMER", "GET", "MEDA")).lines, before)

    def test_persons_added_changed_removed(self):
        self.at("2027-06-06T10:00:00+08:00")
        op = self.u("op1")
        r = op.cmd(line("CUSTOMER", "PERSON", "MEDA", "Zhao Lei", role="logistics head", phone="13900000001",
                        birthday="1980-11-02", preferences="tea, not coffee"))
        self.assertReply(r, 200, "Zhao Lei added to the file of MEDA")
        self.assertReply(op.cmd(line("CUSTOMER", "PERSON", "MEDA", "Qian Yu", role="buyer")), 200)
        self.assertReply(op.cmd(line("CUSTOMER", "PERSON", "MEDA", "Zhao Lei", phone="13900000002")), 200,
                         "Zhao Lei changed in the file of MEDA")
        persons = sub_list(self.customer("MEDA"), "persons")
        self.assertEqual([(p["name"], p.get("phone"), p.get("role")) for p in persons],
                         [("Qian Yu", None, "buyer"), ("Zhao Lei", "13900000002", "logistics head")])
        self.assertEqual(persons[1]["preferences"], "tea, not coffee")
        self.assertReply(op.cmd(line("CUSTOMER", "PERSON", "MEDA", "Qian Yu", remove="yes")), 200,
                         "Qian Yu removed from the file of MEDA")
        self.assertEqual([p["name"] for p in sub_list(self.customer("MEDA"), "persons")], ["Zhao Lei"])
        # the next birthday call is the customer's due time
        self.assertEqual(self.customer("MEDA")["care_at"], "2027-10-30T00:00:00+08:00")


class BirthdayCalls(CareCase):
    """The birthday call of a person of the file, raised by the daemon's own
    timer contact_birthday_ahead_days (3) before, planned on the day; Feb 29
    falls on Feb 28 in a common year."""

    def wait_contacts(self, source, n=1):
        deadline = time.time() + 10
        while True:
            got = self.contacts("KEYA", source=source)
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.1)

    def test_raised_ahead_by_the_timer(self):
        self.at("2027-02-20T10:00:00+08:00")
        self.assertReply(self.u("op1").cmd(line("CUSTOMER", "PERSON", "KEYA", "Wang Fang", role="owner",
                                                birthday="1988-02-29")), 200)
        src27, src28 = "birthday:KEYA:Wang Fang:20270228", "birthday:KEYA:Wang Fang:20280229"
        self.at("2027-02-24T23:59:00+08:00")
        self.sweep()
        self.assertEqual(self.contacts("KEYA", source=src27), [])
        # the clock passes three days before: the daemon raises it by itself
        self.at("2027-02-25T00:00:05+08:00")
        [c] = self.wait_contacts(src27)
        self.assertEqual((c["kind"], c["purpose"], c["owner"], c["status"]), ("call", "birthday", "op2", "planned"))
        self.assertEqual(c["planned_at"], "2027-02-28T10:00:00+08:00")
        self.assertEqual(c["reason"], "Wang Fang's birthday on 2027-02-28")
        self.assertEqual(sub_list(c, "timeline")[0]["who"], "parceldeskd")
        # once a year: next in 2028, on the 29th
        self.at("2027-03-05T10:00:00+08:00")
        self.sweep()
        self.assertEqual(len(self.contacts("KEYA", source=src27)), 1)
        self.assertEqual(self.u("op1").cmd(line("CUSTOMER", "GET", "KEYA")).rec["care_at"],
                         "2028-02-26T00:00:00+08:00")
        self.at("2028-02-26T00:00:05+08:00")
        [c] = self.wait_contacts(src28)
        self.assertEqual(c["planned_at"], "2028-02-29T10:00:00+08:00")
        self.assertEqual(len(self.contacts("KEYA", source=src27)), 1)


class ContactsOnPageAndReport(CareCase):
    """CUSTOMER GET shows an account's last contacts, the planned ones and
    the overdue; REPORT MONTH counts the month's contacts planned, made and
    made late per kind, next to the tier's plan."""

    def report(self, **scope):
        r = self.u("op1").cmd(line("REPORT", "MONTH", month="2027-07", **scope))
        self.assertReply(r, 200)
        rec = r.rec
        kinds = {row["kind"]: row for row in sub_list(rec, "contacts.by_kind")}
        return rec, kinds

    def test_page_and_report(self):
        t = self.at("2027-07-01T10:00:00+08:00")
        s, op = self.u("sup1"), self.u("op1")
        self.assertReply(s.cmd(line("CUSTOMER", "ADD", "RPT1", name="Report One", payment="monthly", depot="RP01",
                                    manager="op1")), 201)
        self.assertReply(s.cmd(line("CUSTOMER", "TIER", "RPT1", tier="key", reason="contract")), 200)
        depot_before, _ = self.report(depot="RP01")
        visit = int(op.cmd(line("CONTACT", "ADD", customer="RPT1", kind="visit", done_at=iso(t),
                                summary="courtesy visit"))["id"])
        plan = int(op.cmd(line("CONTACT", "GET", visit)).rec["next_contact"])   # the plan's visit, July 31
        call = int(op.cmd(line("CONTACT", "ADD", customer="RPT1", kind="call", planned_at=iso(t + 2 * DAY)))["id"])
        letter = int(op.cmd(line("CONTACT", "ADD", customer="RPT1", kind="letter",
                                 planned_at=iso(t + 40 * DAY)))["id"])            # August
        c = op.cmd(line("CUSTOMER", "GET", "RPT1")).rec
        self.assertEqual([int(x["id"]) for x in sub_list(c, "contacts_last")], [visit])
        self.assertEqual([int(x["id"]) for x in sub_list(c, "contacts_planned")], [call, plan, letter])
        self.assertEqual(c["contacts_overdue"], "0")
        # the call passes its time, overdue, then done late
        self.at(t + 2 * DAY + 10)
        self.sweep()
        c = op.cmd(line("CUSTOMER", "GET", "RPT1")).rec
        self.assertEqual(c["contacts_overdue"], "1")
        self.assertEqual(sub_list(c, "contacts_planned")[0]["overdue"], "yes")
        self.assertReply(op.cmd(line("CONTACT", "DONE", call, summary="rates agreed")), 200)
        c = op.cmd(line("CUSTOMER", "GET", "RPT1")).rec
        self.assertEqual([int(x["id"]) for x in sub_list(c, "contacts_last")], [call, visit])
        self.assertEqual([int(x["id"]) for x in sub_list(c, "contacts_planned")], [plan, letter])
        self.assertEqual(c["contacts_overdue"], "0")
        rep, kinds = self.report(customer="RPT1")
        self.assertEqual((rep["contacts.planned"], rep["contacts.made"], rep["contacts.late"]), ("2", "2", "1"))
        self.assertEqual((kinds["visit"]["planned"], kinds["visit"]["made"], kinds["visit"]["plan_days"]),
                         ("1", "1", "30"))
        self.assertEqual((kinds["call"]["planned"], kinds["call"]["made"], kinds["call"]["late"],
                          kinds["call"]["plan_days"]), ("1", "1", "1", "0"))
        self.assertEqual((kinds["meeting"]["planned"], kinds["meeting"]["plan_days"]), ("0", "91"))
        self.assertEqual(kinds["letter"]["planned"], "0")   # planned for August
        # the depot's report counts the same contacts (no plan there)
        depot, dkinds = self.report(depot="RP01")
        for key in ("contacts.planned", "contacts.made", "contacts.late"):
            self.assertEqual(int(depot[key]) - int(depot_before[key]), int(rep[key]))
        self.assertNotIn("plan_days", dkinds["visit"])
        # moving the planned visit to August takes it out of July's plan
        self.assertReply(op.cmd(line("CONTACT", "ADD", customer="RPT1", kind="visit", done_at=iso(self.now()),
                                     summary="second visit")), 201)
        rep, kinds = self.report(customer="RPT1")
        self.assertEqual((kinds["visit"]["planned"], kinds["visit"]["made"]), ("0", "2"))


class HandoverAndTrial(CareCase):
    """An account handed over from sales: legal's review required, the
    first joint visit planned, complained waybills flagged during the trial
    (3 months), mature at its end by the daemon's timer or by hand."""

    def customer(self, account):
        return self.u("op1").cmd(line("CUSTOMER", "GET", account)).rec

    def new_account(self, account):
        s = self.u("sup1")
        self.assertReply(s.cmd(line("CUSTOMER", "ADD", account, name="New " + account, payment="monthly",
                                    depot="SH01", manager="op1")), 201)
        self.assertReply(s.cmd(line("CUSTOMER", "TEAM", account, "maintenance_specialist", "op2")), 200)

    def test_handover_trial_and_mature_by_rule(self):
        t = self.at("2027-08-30T10:00:00+08:00")
        self.new_account("NEWA")
        s = self.u("sup1")
        before = self.u("op1").cmd(line("CUSTOMER", "GET", "NEWA")).lines
        for named, code, msg in (
                (dict(sales="Chen", contract="C-88"), 422, "contract reviewed by legal"),
                (dict(sales="Chen", contract="C-88", legal_by="Sun"), 422, "contract reviewed by legal"),
                (dict(sales="Chen", contract="C-88", legal_by="Sun", legal_at=iso(t + DAY)), 422, "future"),
                (dict(sales="Chen", contract="C-88", legal_by="Sun", legal_at=iso(t - DAY), satisfaction=7), 400,
                 "satisfaction"),
                (dict(contract="C-88", legal_by="Sun", legal_at=iso(t - DAY)), 400, "sales")):
            self.assertReply(s.cmd(line("CUSTOMER", "HANDOVER", "NEWA", **named)), code, msg_re=msg)
        self.assertReply(self.u("op1").cmd(line("CUSTOMER", "HANDOVER", "NEWA", sales="Chen", contract="C-88",
                                                legal_by="Sun", legal_at=iso(t - DAY))), 403)
        self.assertEqual(self.u("op1").cmd(line("CUSTOMER", "GET", "NEWA")).lines, before)
        self.assertEqual(self.contacts("NEWA"), [])
        r = s.cmd(line("CUSTOMER", "HANDOVER", "NEWA", sales="Chen", contract="C-88", legal_by="Sun (legal)",
                       legal_at=iso(t - DAY)))
        self.assertReply(r, 201, "NEWA handed over from sales: trial until 2027-11-30")
        self.assertReply(s.cmd(line("CUSTOMER", "HANDOVER", "NEWA", sales="Chen", contract="C-88", legal_by="Sun",
                                    legal_at=iso(t - DAY))), 409)
        c = self.customer("NEWA")
        self.assertEqual((c["trial_status"], c["trial_start"], c["trial_end"], c["handover.legal_by"],
                          c["handover.sales"], c["care_at"]),
                         ("trial", "2027-08-30", "2027-11-30", "Sun (legal)", "Chen", "2027-12-01T00:00:00+08:00"))
        # the first joint visit, with the first satisfaction reading to take
        [v] = self.contacts("NEWA", source="handover:NEWA")
        self.assertEqual((v["kind"], v["purpose"], v["owner"]), ("visit", "first_visit", "op2"))
        self.assertEqual(parse_iso(v["planned_at"]), parse_iso(c["handover.at"]) + 7 * DAY)
        # the first reading is a survey, due at that visit and named by it
        sid = int(c["handover.first_survey"])
        sv = self.u("op1").cmd(line("SURVEY", "GET", sid)).rec
        self.assertEqual((sv["reason"], sv["status"], sv["customer"], sv["due_at"]),
                         ("first_reading", "due", "NEWA", v["planned_at"]))
        self.assertIn("take the first satisfaction reading (survey %d)" % sid, v["reason"])
        self.assertNotIn("handover.first_satisfaction", c)
        # taken at the visit: answered as any survey, every dimension in the index
        self.assertReply(self.u("op2").cmd(line("SURVEY", "SEND", sid, via="visit", contact=v["id"])), 200)
        self.assertReply(self.u("op2").cmd(line("SURVEY", "ANSWER", sid, overall=3, timeliness=2, safety=4,
                                                attitude=3, handling=3, information=3)), 200)
        rep = self.u("op1").cmd(line("REPORT", "MONTH", month="2027-08", customer="NEWA")).rec
        self.assertEqual((rep["satisfaction.surveys.count"], rep["satisfaction.surveys.timeliness"],
                          rep["satisfaction.index"]), ("1", "2.00", "3.00"))
        # a complained waybill of the trial is flagged to the account's owner
        number = self.waybill("NEWA")
        self.open_id(waybill=number)
        [f] = self.contacts("NEWA", source="trial:%s:complained" % number)
        self.assertEqual((f["kind"], f["purpose"], f["owner"]), ("call", "trial_follow_up", "op2"))
        # the trial ends: the daemon marks the account mature by itself
        self.at("2027-11-30T23:59:00+08:00")
        self.sweep()
        self.assertEqual(self.customer("NEWA")["trial_status"], "trial")
        self.at("2027-12-01T00:00:05+08:00")
        self.sweep()   # an admin's SWEEP or the daemon's own timer: the daemon's act either way
        deadline = time.time() + 10
        while self.customer("NEWA")["trial_status"] != "mature" and time.time() < deadline:
            time.sleep(0.1)
        c = self.customer("NEWA")
        self.assertEqual((c["trial_status"], c["matured_by"]), ("mature", "parceldeskd"))
        self.assertEqual(sub_list(c, "timeline")[-1]["action"], "mature")
        # after the trial, complaints are no longer flagged
        number = self.waybill("NEWA")
        self.open_id(waybill=number)
        self.assertEqual(self.contacts("NEWA", source="trial:%s:complained" % number), [])

    def test_the_trials_waybills_listed_and_flagged(self):
        t = self.at("2027-10-04T10:00:00+08:00")
        self.new_account("NEWT")
        s, op = self.u("sup1"), self.u("op1")
        self.assertReply(op.cmd(line("CUSTOMER", "TRIAL", "NEWT")), 409, msg_re="not handed over")
        self.assertReply(op.cmd(line("CUSTOMER", "TRIAL", "NOSUCH")), 404)
        # a waybill registered before the hand-over is not the trial's
        before = next_number()
        self.create(op, number=before, promised_at=t + 3 * DAY, customer="NEWT", created_at=iso(t - 2 * DAY))
        self.assertReply(s.cmd(line("CUSTOMER", "HANDOVER", "NEWT", sales="Chen", contract="C-90", legal_by="Sun",
                                    legal_at=iso(t - 3600), satisfaction=5)), 201)
        fine, damaged, complained = (next_number() for _ in range(3))
        for number in (fine, damaged, complained):
            self.create(op, number=number, promised_at=t + 30 * DAY, customer="NEWT")
        late = self.waybill("NEWT")  # promised in 3 days
        self.scan(op, damaged, "damaged")
        self.scan(op, late, "picked_up")
        # the promise passes before the next scan: late, flagged at that scan
        self.at(t + 4 * DAY)
        self.scan(op, late, "departed")
        self.open_id(waybill=complained)
        self.scan(op, fine, "picked_up")
        # each flagged once, to the account's owner (the maintenance specialist), on the owner's agenda
        for number, what in ((damaged, "damaged"), (late, "late"), (complained, "complained")):
            [f] = self.contacts("NEWT", source="trial:%s:%s" % (number, what))
            self.assertEqual((f["kind"], f["purpose"], f["owner"]), ("call", "trial_follow_up", "op2"))
        self.assertEqual(self.contacts("NEWT", source="trial:%s:late" % fine), [])
        agenda = self.u("op2").cmd(line("CONTACT", "LIST", due="week", owner="op2", limit=500)).records
        raised = {c["id"] for c in self.contacts("NEWT", purpose="trial_follow_up")}
        self.assertEqual(raised & {r["id"] for r in agenda}, raised)
        self.scan(op, late, "arrived", depot="BJ02")
        self.assertEqual(len(self.contacts("NEWT", source="trial:%s:late" % late)), 1)
        # the list: every waybill of the trial, newest number first, with its flags
        r = op.cmd(line("CUSTOMER", "TRIAL", "NEWT"))
        self.assertReply(r, 200, "4 waybills of NEWT's trial (2027-10-04 to 2028-01-04), 3 flagged")
        rows = {x["number"]: x for x in r.records}
        self.assertEqual([x["number"] for x in r.records], sorted(rows, reverse=True))
        self.assertNotIn(before, rows)
        self.assertEqual({n: rows[n]["flags"] for n in rows},
                         {fine: "", damaged: "damaged", late: "late", complained: "complained"})
        self.assertEqual((rows[late]["late"], rows[damaged]["damaged"], rows[complained]["complained"],
                          rows[fine]["late"]), ("yes", "yes", "yes", "no"))
        r = op.cmd(line("CUSTOMER", "TRIAL", "NEWT", flagged="yes"))
        self.assertEqual(sorted(x["number"] for x in r.records), sorted((damaged, late, complained)))
        # paged: limit, then before= the last number shown
        first = op.cmd(line("CUSTOMER", "TRIAL", "NEWT", limit=2)).records
        rest = op.cmd(line("CUSTOMER", "TRIAL", "NEWT", limit=2, before=first[-1]["number"])).records
        self.assertEqual([x["number"] for x in first + rest], sorted(rows, reverse=True))
        # after the trial: listed still, as the trial was; no more flags raised
        self.assertReply(s.cmd(line("CUSTOMER", "MATURE", "NEWT")), 200)
        self.at(t + 5 * DAY)
        after = self.waybill("NEWT")
        self.scan(op, after, "damaged")
        self.assertEqual(self.contacts("NEWT", source="trial:%s:damaged" % after), [])
        self.assertNotIn(after, [x["number"] for x in op.cmd(line("CUSTOMER", "TRIAL", "NEWT")).records])

    def test_mature_by_hand(self):
        t = self.at("2027-09-10T10:00:00+08:00")
        self.new_account("NEWB")
        s = self.u("sup1")
        self.assertReply(s.cmd(line("CUSTOMER", "MATURE", "NEWB")), 409)
        self.assertReply(s.cmd(line("CUSTOMER", "HANDOVER", "NEWB", sales="Chen", contract="C-89", legal_by="Sun",
                                    legal_at=iso(t - 3600), satisfaction=4)), 201)
        c = self.customer("NEWB")
        # the reading given with the hand-over is an answered survey, counted in the index
        sv = self.u("op1").cmd(line("SURVEY", "GET", int(c["handover.first_survey"]))).rec
        self.assertEqual((sv["reason"], sv["status"], sv["overall"], sv["via"], sv["answered_by"]),
                         ("first_reading", "answered", "4", "handover", "sup1"))
        rep = self.u("op1").cmd(line("REPORT", "MONTH", month="2027-09", customer="NEWB")).rec
        # overall only: in the index, not in the dimensions' averages
        self.assertEqual((rep["satisfaction.surveys.count"], rep["satisfaction.surveys.points"],
                          rep["satisfaction.readings"], rep["satisfaction.index"],
                          rep["satisfaction.surveys.timeliness"]), ("1", "4", "1", "4.00", ""))
        self.assertEqual(self.u("op1").cmd(line("SURVEY", "LIST", customer="NEWB", status="due")).records, [])
        [v] = self.contacts("NEWB", source="handover:NEWB")
        self.assertNotIn("satisfaction", v["reason"])
        self.assertReply(s.cmd(line("CUSTOMER", "MATURE", "NEWB", reason="volume steady")), 200, "NEWB is mature")
        c = self.customer("NEWB")
        self.assertEqual((c["trial_status"], c["matured_by"], c["care_at"]), ("mature", "sup1", ""))
        self.assertReply(s.cmd(line("CUSTOMER", "MATURE", "NEWB")), 409)


class CallBackSwitchedOff(CareCase):
    daemon_args = ("--contact-callback", "no")

    def test_no_call_back_when_off(self):
        self.at("2027-06-04T10:00:00+08:00")
        cid = self.open_id(waybill=self.waybill("KEYA"))
        self.close_complaint(cid)
        self.assertEqual(self.contacts("KEYA", source="complaint:%d" % cid), [])


class CareOptionsInTheManPage(unittest.TestCase):
    """Every option of keeping customers (options.def) is documented in
    parceldeskd(8), and every option the man page's CUSTOMER CARE section
    names exists."""

    def test_each_care_option_has_its_entry(self):
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(repo, "daemon", "core", "options.def")) as f:
            names = re.findall(r"^[A-Z]+_OPT\((\w+),", f.read(), re.M)
        care = [n for n in names if re.match(r"(contact|survey|winback|trial|kpi_satisfaction)_?", n)]
        self.assertGreaterEqual(len(care), 15)
        with open(os.path.join(repo, "man", "parceldeskd.8")) as f:
            section = f.read().split(".SH CUSTOMER CARE", 1)[1].split("\n.SH ", 1)[0]
        named = set(re.findall(r"\\fB(\w+)|^\.B (\w+)", section, re.M))
        named = {a or b for a, b in named}
        self.assertEqual(sorted(set(care) - named), [])
        self.assertEqual(sorted(named - set(names) - {"STATS"}), [])


if __name__ == "__main__":
    unittest.main()
