"""Rectification plans (RECTIFY ADD/CHECK/CLOSE/GET/LIST; docs/customers.md
"Rectification plans"): raised from a complaint (also by COMPLAINT CLOSE
rectification=, linked by its plan_id), a claim or a warning; overdue
marked by the daemon's one timer with the clock moved; closed only after a
check that it worked; the month's plans in REPORT MONTH; bad input refused
with nothing written."""
import time
import unittest

from harness import DAY, iso, line, parse_iso, sub_list
from test_complaint_law import ComplaintLawCase
from test_complaints import close_args


class RectifyTest(ComplaintLawCase):

    def r(self, user, verb, *pos, expect=200, msg=None, msg_re=None, **kw):
        r = self.u(user).cmd(line("RECTIFY", verb, *pos, **kw))
        self.assertReply(r, expect, msg, msg_re)
        return r

    def plan(self, pid):
        return self.r("op1", "GET", pid).rec

    def closed_complaint(self, **kw):
        cid = self.open_id(waybill=self.account_waybill())
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="refund and apology")
        self.c("op1", "ACCEPT", cid)
        self.c("op1", "CLOSE", cid, msg="closed", **close_args(**kw))
        return cid

    def add(self, source, source_id, **kw):
        args = dict(source=source, source_id=source_id, fault="parcels left at the gate", responsible="courier Zhang",
                    action="retrain the BJ02 couriers on door delivery", agreed_ops="ops: Wang",
                    agreed_inspection="inspection: Chen", owner="sup1", due="2027-09-30")
        args.update(kw)
        return int(self.r("op1", "ADD", expect=201, **args)["id"])

    def test_complaint_close_raises_a_real_plan(self):
        self.at("2027-09-02T10:00")
        cid = self.closed_complaint(rectification="retrain the BJ02 couriers on door delivery",
                                    rectification_owner="sup1", rectification_due="2027-09-20")
        g = self.get(cid)
        pid = int(g["rectification.plan_id"])
        p = self.plan(pid)
        self.assertEqual((p["source"], int(p["source_id"]), p["customer"], p["depot"], p["owner"], p["status"]),
                         ("complaint", cid, "ACC1", "BJ02", "sup1", "open"))
        self.assertEqual((p["action"], p["fault"]), ("retrain the BJ02 couriers on door delivery",
                                                     "courier skipped the door"))
        self.assertEqual(p["due_at"], "2027-09-20T23:59:59+08:00")

    def test_a_raised_plan_names_what_it_lacks_and_is_completed(self):
        self.at("2027-09-06T10:00")
        cid = self.closed_complaint(rectification="load monitors on top", rectification_owner="sup1",
                                    rectification_due="2027-09-20")
        pid = int(self.get(cid)["rectification.plan_id"])
        lacks = "responsible, agreed_ops, agreed_inspection"
        p = self.plan(pid)
        self.assertEqual(p["missing"], lacks)
        row = next(x for x in self.r("sup1", "LIST", customer="ACC1", limit=500).records if int(x["id"]) == pid)
        self.assertEqual(row["missing"], lacks)
        # nobody answers for it and nobody agreed it: it cannot be found to have worked
        self.r("sup1", "CHECK", pid, result="worked", text="x", expect=409,
               msg="rectification plan %d lacks %s: complete it with RECTIFY EDIT first" % (pid, lacks))
        # bad edits: clear errors, nothing written
        for kw, code, msg_re in ((dict(), 400, "give what to change"),
                                 (dict(responsible=""), 400, "'responsible' must not be empty"),
                                 (dict(owner="ghost"), 404, "ghost"),
                                 (dict(due="2027-09-01"), 422, "already past"),
                                 (dict(due="tomorrow"), 400, None)):
            self.r("sup1", "EDIT", pid, expect=code, msg_re=msg_re, **kw)
        self.r("sup1", "EDIT", 999999, responsible="x", expect=404)
        self.assertEqual(self.plan(pid), p)
        self.r("sup1", "EDIT", pid, responsible="BJ02 loader Li",
               msg="rectification plan %d changed; it still lacks agreed_ops, agreed_inspection" % pid)
        self.r("sup1", "EDIT", pid, agreed_ops="Wang (operations)", agreed_inspection="Chen (inspection)",
               owner="adj1", due="2027-09-25", text="agreed at the Monday meeting",
               msg="rectification plan %d changed" % pid)
        p = self.plan(pid)
        self.assertEqual((p["missing"], p["responsible"], p["agreed_ops"], p["owner"], p["due_at"]),
                         ("", "BJ02 loader Li", "Wang (operations)", "adj1", "2027-09-25T23:59:59+08:00"))
        tl = sub_list(p, "timeline")
        self.assertEqual([e["action"] for e in tl], ["add", "edit", "edit"])
        self.assertEqual(tl[-1]["text"], "agreed at the Monday meeting")
        self.assertIn(pid, [int(x["id"]) for x in self.r("sup1", "LIST", owner="adj1", limit=500).records])
        self.assertNotIn(pid, [int(x["id"]) for x in self.r("sup1", "LIST", owner="sup1", limit=500).records])
        self.r("adj1", "CHECK", pid, result="worked", text="monitors on top since")
        # a checked plan is not changed any more
        self.r("sup1", "EDIT", pid, action="something else", expect=409, msg_re="only an open plan")
        self.assertEqual(self.plan(pid)["action"], "load monitors on top")

    def test_a_new_due_date_lifts_the_overdue_mark(self):
        self.at("2027-11-02T10:00")
        pid = self.add("complaint", self.closed_complaint(), due="2027-11-03")
        self.at(parse_iso("2027-11-03T23:59:59+08:00") + 2)
        deadline = time.time() + 10
        while self.plan(pid)["overdue"] != "yes" and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.plan(pid)["state"], "overdue")
        self.r("sup1", "EDIT", pid, due="2027-11-10")
        p = self.plan(pid)
        self.assertEqual((p["overdue"], p["state"], p["due_at"]), ("no", "open", "2027-11-10T23:59:59+08:00"))
        self.assertNotIn(pid, [int(x["id"]) for x in self.r("sup1", "LIST", due="overdue", limit=500).records])

    def test_check_then_close_and_overdue_by_the_timer(self):
        self.at("2027-09-03T10:00")
        cid = self.closed_complaint()
        pid = self.add("complaint", cid, due="2027-09-05", depot="SH01")
        p = self.plan(pid)
        self.assertEqual((p["status"], p["state"], p["overdue"], p["customer"], p["depot"]),
                         ("open", "open", "no", "ACC1", "SH01"))
        # closing without the check: a clear error, nothing written
        self.r("sup1", "CLOSE", pid, expect=409, msg_re="only after a check that it worked")
        self.assertEqual(self.plan(pid), p)
        # the clock passes the due day: the daemon's own timer marks it
        self.at(parse_iso("2027-09-05T23:59:59+08:00") + 2)
        deadline = time.time() + 10
        while self.plan(pid)["overdue"] != "yes" and time.time() < deadline:
            time.sleep(0.05)
        p = self.plan(pid)
        self.assertEqual((p["overdue"], p["state"]), ("yes", "overdue"))
        tl = sub_list(p, "timeline")
        self.assertEqual((tl[-1]["action"], tl[-1]["who"]), ("overdue", "parceldeskd"))
        rows = self.r("sup1", "LIST", due="overdue", limit=500).records
        self.assertIn(pid, [int(x["id"]) for x in rows])
        # a check in the future is refused; a failed check keeps it open with a new date
        self.r("sup1", "CHECK", pid, result="worked", text="x", checked_at=iso(self.now() + DAY), expect=422,
               msg_re="future")
        self.r("sup1", "CHECK", pid, result="failed", text="still left at the gate", due="2027-09-15")
        p = self.plan(pid)
        self.assertEqual((p["status"], p["overdue"], p["check_result"], p["due_at"]),
                         ("open", "no", "failed", "2027-09-15T23:59:59+08:00"))
        self.r("sup1", "CLOSE", pid, expect=409)
        self.r("adj1", "CHECK", pid, result="worked", text="door delivery seen on 20 waybills")
        p = self.plan(pid)
        self.assertEqual((p["status"], p["checked_by"], p["check_result"], int(p["checks"])),
                         ("checked", "adj1", "worked", 2))
        self.assertNotIn(pid, [int(x["id"]) for x in self.r("sup1", "LIST", due="open", limit=500).records])
        self.r("sup1", "CLOSE", pid, accountability="courier Zhang: written warning")
        p = self.plan(pid)
        self.assertEqual((p["status"], p["accountability"]), ("closed", "courier Zhang: written warning"))
        self.assertEqual([e["action"] for e in sub_list(p, "timeline")],
                         ["add", "overdue", "check", "check", "close"])
        self.r("sup1", "CLOSE", pid, expect=409)
        self.r("sup1", "CHECK", pid, result="worked", text="again", expect=409)

    def test_from_a_warning_and_the_monthly_report(self):
        self.at("2027-10-04T10:00")
        r = self.u("op1").cmd(line("WARNING", "ADD", customer="ACC1", type="service_incident", subtype="ordinary",
                                   text="three late weeks", cause="lateness"))
        self.assertReply(r, 201)
        wid = int(r["id"])
        a = self.add("warning", wid, due="2027-10-20", fault="line haul misses the 18:00 cut-off")
        b = self.add("warning", wid, due="2027-10-08")
        self.r("sup1", "CHECK", b, result="worked", text="on time since")
        self.at("2027-10-25T10:00")
        rep = self.u("op1").cmd(line("REPORT", "MONTH", month="2027-10", customer="ACC1"))
        self.assertReply(rep, 200)
        rec = rep.rec
        self.assertEqual((rec["rectification.raised"], rec["rectification.open"], rec["rectification.overdue"],
                          rec["rectification.checked"], rec["rectification.closed"]), ("2", "0", "1", "1", "0"))
        states = {int(x["id"]): x["state"] for x in sub_list(rec, "rectification.plans")}
        self.assertEqual(states, {a: "overdue", b: "checked"})
        # another customer's report does not show them
        rep = self.u("op1").cmd(line("REPORT", "MONTH", month="2027-10", depot="XX99"))
        self.assertEqual(rep.rec["rectification.raised"], "0")

    def test_bad_input_is_refused_and_nothing_written(self):
        self.at("2027-11-02T10:00")
        cid = self.closed_complaint()
        count = len(self.r("op1", "LIST", limit=500).records)
        for kw, code, msg in (
                (dict(source="complaint", source_id=999999), 404, "no complaint 999999"),
                (dict(source="claim", source_id=999999), 404, "no claim 999999"),
                (dict(source="lunch", source_id=cid), 400, None),
                (dict(source="complaint", source_id=cid, owner="ghost"), 404, None),
                (dict(source="complaint", source_id=cid, due="2027-11-01"), 422, "due 2027-11-01 is already past"),
                (dict(source="complaint", source_id=cid, due="2027-13-01"), 400, None),
                (dict(source="complaint", source_id=cid, action=None), 400, None)):
            args = dict(fault="f", responsible="p", action="a", agreed_ops="o", agreed_inspection="i", owner="sup1",
                        due="2027-11-30")
            args.update(kw)
            args = {k: v for k, v in args.items() if v is not None}
            self.r("op1", "ADD", expect=code, msg=msg, **args)
        self.r("op1", "GET", 999999, expect=404, msg="no rectification plan 999999")
        self.r("op1", "CHECK", 999999, result="worked", text="x", expect=404)
        self.assertEqual(len(self.r("op1", "LIST", limit=500).records), count)


if __name__ == "__main__":
    unittest.main()
