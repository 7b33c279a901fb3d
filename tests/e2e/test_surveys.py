"""Satisfaction surveys and the satisfaction index (SURVEY SEND/ANSWER/GET/
LIST, REPORT MONTH's satisfaction section, KPI satisfaction;
docs/customers.md "Satisfaction"): a survey sent through a contact and
answered; due by the tier's plan after an answer and after an incident (a
closed complaint of the account), overdue marked by the daemon's one timer
with the clock moved; the index agreeing with the surveys and complaint
closes it summarises; bad input refused with nothing written."""
import time
import unittest
from decimal import ROUND_HALF_UP, Decimal

from harness import DAY, iso, line, parse_iso, sub_list
from test_complaint_law import ComplaintLawCase
from test_complaints import close_args

DIMS = ("timeliness", "safety", "attitude", "handling", "information")


def avg(points, n):
    return "" if not n else str((Decimal(points) / Decimal(n)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class SurveyTest(ComplaintLawCase):

    @classmethod
    def class_setup(cls):
        super().class_setup()
        with cls.daemon.text("sup1") as c:
            for acct, tier in (("ACC1", "key"), ("ACC2", None), ("ACC3", "key"), ("ACC4", None), ("ACC5", None)):
                if acct != "ACC1":
                    r = c.cmd(line("CUSTOMER", "ADD", acct, name="Other " + acct, payment="monthly", depot="GZ01"))
                    assert r.code == 201, r
                if tier:
                    r = c.cmd(line("CUSTOMER", "TIER", acct, tier=tier, reason="contract"))
                    assert r.code == 200, r

    def s(self, user, verb, *pos, expect=200, msg=None, msg_re=None, **kw):
        r = self.u(user).cmd(line("SURVEY", verb, *pos, **kw))
        self.assertReply(r, expect, msg, msg_re)
        return r

    def survey(self, sid):
        return self.s("op1", "GET", sid).rec

    def closed_complaint(self, satisfaction, account="ACC1"):
        cid = self.open_id(waybill=self.account_waybill(account))
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="refund")
        self.c("op1", "ACCEPT", cid)
        self.c("op1", "CLOSE", cid, msg="closed", **close_args(satisfaction=satisfaction))
        return cid

    def answer(self, sid, overall, dims=(4, 5, 3, 4, 2), **kw):
        args = dict(zip(DIMS, dims))
        args.update(kw)
        return self.s("op1", "ANSWER", sid, overall=overall, **args)

    def report(self, month, **scope):
        r = self.u("op1").cmd(line("REPORT", "MONTH", month=month, **scope))
        self.assertReply(r, 200)
        return r.rec

    def test_sent_answered_and_the_index_agrees(self):
        self.at("2027-03-03T10:00")
        k = self.u("op1").cmd(line("CONTACT", "ADD", customer="ACC3", kind="visit", done_at=iso(self.now()),
                                   summary="quarterly visit, survey handed over"))
        self.assertReply(k, 201)
        scores, answered = [], []
        for overall, dims in ((5, (5, 5, 4, 5, 4)), (4, (3, 5, 4, 4, 4)), (4, (4, 4, 4, 3, 5))):
            sid = int(self.s("op1", "SEND", expect=201, customer="ACC3", via="visit", contact=k["id"])["id"])
            self.assertEqual(self.survey(sid)["status"], "sent")
            self.answer(sid, overall, dims, words="door delivery better", respondent="Ms Zhao")
            scores.append((overall, dims))
            answered.append(parse_iso(self.survey(sid)["answered_at"]))
        g = self.survey(sid)
        self.assertEqual((g["status"], g["overall"], g["attitude"], g["respondent"], int(g["contact"])),
                         ("answered", "4", "4", "Ms Zhao", int(k["id"])))
        self.assertEqual([e["action"] for e in sub_list(g, "timeline")], ["send", "answer"])
        # a key account: the next periodic survey is due 91 days after the first answer, raised once
        due = self.s("op1", "LIST", customer="ACC3", status="due", limit=100).records
        periodic = [x for x in due if x["reason"] == "periodic"]
        self.assertEqual(len(periodic), 1)
        self.assertEqual(parse_iso(periodic[0]["due_at"]), answered[0] + 91 * DAY)
        # complaint closes of the account count as a source of their own
        self.closed_complaint(2, "ACC3")
        self.closed_complaint(3, "ACC3")
        rec = self.report("2027-03", customer="ACC3")
        pts = sum(o for o, _ in scores)
        self.assertEqual((rec["satisfaction.surveys.count"], rec["satisfaction.surveys.points"],
                          rec["satisfaction.surveys.average"]), ("3", str(pts), avg(pts, 3)))
        for i, d in enumerate(DIMS):
            self.assertEqual(rec["satisfaction.surveys." + d], avg(sum(x[i] for _, x in scores), 3), d)
        self.assertEqual((rec["satisfaction.complaint_closes.count"], rec["satisfaction.complaint_closes.average"]),
                         ("2", avg(5, 2)))
        self.assertEqual((rec["satisfaction.readings"], rec["satisfaction.index"]), ("5", avg(pts + 5, 5)))
        # the same readings in the depot's and the network's index; not in another customer's
        self.assertEqual(self.report("2027-03", customer="ACC2")["satisfaction.readings"], "0")
        self.assertGreaterEqual(int(self.report("2027-03")["satisfaction.readings"]), 5)
        # the KPI: points against the top score, target from kpi_satisfaction_bp (80 %)
        rows = self.u("op1").cmd(line("KPI", month="2027-03", customer="ACC3")).records
        kpi = next(x for x in rows if x["kpi"] == "satisfaction")
        self.assertEqual((kpi["numerator"], kpi["denominator"], kpi["target_pct"]),
                         (str(pts + 5), "25", "80.00"))
        self.assertEqual(kpi["met"], "no" if (pts + 5) * 10000 < 8000 * 25 else "yes")

    def test_due_after_an_incident_and_overdue_by_the_timer(self):
        self.at("2027-05-04T10:00")
        cid = self.closed_complaint(3)
        due = [x for x in self.s("op1", "LIST", customer="ACC1", status="due", limit=100).records
               if x["incident"] == "complaint:%d" % cid]
        self.assertEqual(len(due), 1)
        sid = int(due[0]["id"])
        g = self.survey(sid)
        self.assertEqual((g["reason"], g["overdue"]), ("incident", "no"))
        self.assertEqual(parse_iso(g["due_at"]), parse_iso(self.get(cid)["closed_at"]) + 7 * DAY)
        # a second incident before it is answered raises no second survey
        self.closed_complaint(4)
        due = self.s("op1", "LIST", customer="ACC1", status="due", limit=100).records
        self.assertEqual(sum(1 for x in due if x["reason"] == "incident"), 1)
        # the clock passes the due time: the daemon's own timer marks it
        self.at(parse_iso(g["due_at"]) + 2)
        deadline = time.time() + 10
        while self.survey(sid)["overdue"] != "yes" and time.time() < deadline:
            time.sleep(0.05)
        g = self.survey(sid)
        self.assertEqual(g["overdue"], "yes")
        tl = sub_list(g, "timeline")
        self.assertEqual((tl[0]["action"], tl[-1]["action"], tl[-1]["who"]), ("due", "overdue", "parceldeskd"))
        self.assertIn(sid, [int(x["id"]) for x in self.s("op1", "LIST", due="overdue", limit=500).records])
        # answering a survey not sent: refused
        self.answer(sid, 4, expect=409)
        self.s("op1", "SEND", sid, via="call")
        self.s("op1", "SEND", sid, via="call", expect=409)
        self.answer(sid, 4)
        g = self.survey(sid)
        self.assertEqual((g["status"], g["overdue"], g["answered_late"]), ("answered", "no", "yes"))
        self.assertNotIn(sid, [int(x["id"]) for x in self.s("op1", "LIST", due="open", limit=500).records])

    def test_a_paid_claim_makes_a_survey_due(self):
        self.at("2027-06-07T10:00")
        number = self.account_waybill("ACC4")
        for event in ("picked_up", "lost"):
            self.u("op1").cmd(line("SCAN", number, event, depot="SH01"))
        r = self.u("op1").cmd(line("CLAIM", "FILE", waybill=number, type="loss", claimed_fen=30000, claimant="sender",
                                   claimant_name="Zhang Wei", claimant_phone="13800138000"))
        self.assertReply(r, 201)
        claim = int(r["id"])
        for kind in ("claim_form", "waybill", "claimant_id", "proof_of_value"):
            self.assertReply(self.u("op1").cmd(line("CLAIM", "DOC", claim, kind=kind, ref="doc-" + kind)), 200)
        self.assertReply(self.u("adj1").cmd(line("CLAIM", "ASSESS", claim, actual_loss_fen=30000, cause="handling",
                                                 fault="ours")), 200)
        payable = int(self.u("adj1").cmd(line("CLAIM", "GET", claim))["payable_fen"])
        self.u("sup1").cmd(line("CLAIM", "APPROVE", claim))
        # nothing is due before the payment: assessing or approving is no incident closed
        self.assertEqual(self.s("op1", "LIST", customer="ACC4", limit=100).records, [])
        self.at("2027-06-08T09:00")
        self.assertReply(self.u("adj1").cmd(line("CLAIM", "PAY", claim, amount_fen=payable, method="bank_transfer",
                                                 reference="TX-9")), 200)
        due = self.s("op1", "LIST", customer="ACC4", limit=100).records
        self.assertEqual([(x["reason"], x["incident"], x["status"]) for x in due],
                         [("incident", "claim:%d" % claim, "due")])
        g = self.survey(int(due[0]["id"]))
        # 7 days from the payment itself: the clock runs on after CLOCK SET
        paid = parse_iso(self.u("adj1").cmd(line("CLAIM", "GET", claim))["paid_at"])
        self.assertEqual(parse_iso(g["due_at"]), paid + 7 * DAY)
        self.assertEqual(sub_list(g, "timeline")[0]["who"], "parceldeskd")

    def test_a_complaint_closed_again_counts_once(self):
        def readings(month, **scope):
            rec = self.report(month, **scope)
            return (rec["satisfaction.complaint_closes.count"], rec["satisfaction.complaint_closes.points"])

        self.at("2027-08-03T10:00")
        network = readings("2027-08")
        cid = self.closed_complaint(2, "ACC5")
        self.assertEqual(readings("2027-08", customer="ACC5"), ("1", "2"))
        self.c("sup1", "REOPEN", cid, reason="parcel turned up broken")
        self.assertEqual(readings("2027-08", customer="ACC5"), ("0", "0"))
        self.c("sup1", "PROPOSE", cid, text="repair")
        self.c("sup1", "ACCEPT", cid)
        self.c("sup1", "CLOSE", cid, msg="closed", **close_args(satisfaction=5))
        # its last close's score only, in the customer's, the depot's and the network's index
        self.assertEqual(readings("2027-08", customer="ACC5"), ("1", "5"))
        self.assertEqual(readings("2027-08"), (str(int(network[0]) + 1), str(int(network[1]) + 5)))
        # reopened the next month and closed again: it leaves August and counts in September
        self.at("2027-09-02T10:00")
        self.c("sup1", "REOPEN", cid, reason="again")
        self.c("sup1", "PROPOSE", cid, text="replace")
        self.c("sup1", "ACCEPT", cid)
        self.c("sup1", "CLOSE", cid, msg="closed", **close_args(satisfaction=3))
        self.assertEqual(readings("2027-08", customer="ACC5"), ("0", "0"))
        self.assertEqual(readings("2027-09", customer="ACC5"), ("1", "3"))
        self.assertEqual(self.report("2027-09", customer="ACC5")["satisfaction.index"], "3.00")

    def test_bad_input_is_refused_and_nothing_written(self):
        self.at("2027-07-05T10:00")
        sid = int(self.s("op1", "SEND", expect=201, customer="ACC2", via="letter")["id"])
        before = self.survey(sid)
        for kw in (dict(overall=6), dict(overall=0), dict(overall=4, safety=9), dict(overall=4, information=0)):
            args = dict(zip(DIMS, (4, 4, 4, 4, 4)))
            args.update(kw)
            bad = next(k for k in ("overall",) + DIMS if kw.get(k) is not None and not 1 <= kw[k] <= 5)
            self.s("op1", "ANSWER", sid, expect=400, msg="argument '%s' must be from 1 to 5" % bad, **args)
        self.s("op1", "ANSWER", sid, expect=400, overall=4)  # dimensions missing
        self.answer(sid, 4, answered_at=iso(self.now() + DAY), expect=422)
        self.assertEqual(self.survey(sid), before)
        rep = self.report("2027-07", customer="ACC2")
        self.assertEqual(rep["satisfaction.readings"], "0")
        count = len(self.s("op1", "LIST", limit=500).records)
        self.s("op1", "SEND", expect=404, customer="NOSUCH", via="call")
        self.s("op1", "SEND", expect=400, via="call")
        self.s("op1", "SEND", sid, expect=400, customer="ACC2", via="call")
        self.s("op1", "SEND", expect=400, customer="ACC2", via="fax")
        k = self.u("op1").cmd(line("CONTACT", "ADD", customer="ACC1", kind="call", planned_at=iso(self.now() + DAY)))
        self.s("op1", "SEND", expect=422, customer="ACC2", via="call", contact=k["id"])
        self.s("op1", "SEND", expect=404, customer="ACC2", via="call", contact=999999)
        self.s("op1", "GET", 999999, expect=404, msg="no survey 999999")
        self.assertEqual(len(self.s("op1", "LIST", limit=500).records), count)


if __name__ == "__main__":
    unittest.main()
