"""Complaint rules corrected against the express regulations and the
company's material (issue 11 items 9-14; docs/sla.md, PROTOCOL.md
"Complaints"), end to end through the text protocol: the media go to the
manager at once; media-exposure warnings for an account whenever the
exposure becomes known; and the refusals, each naming its rule.

Dates are in 2027, after the real date (see test_complaints.py)."""
import unittest

from harness import DAY, line, next_number, parse_iso
from test_complaints import ComplaintCase, close_args, timeline


class ComplaintLawCase(ComplaintCase):
    """A monthly account ACC1 and waybills of it."""

    @classmethod
    def class_setup(cls):
        super().class_setup()
        with cls.daemon.text("sup1") as c:
            r = c.cmd(line("CUSTOMER", "ADD", "ACC1", name="Acme Trading", payment="monthly", depot="SH01"))
            if r.code != 201:
                raise AssertionError("CUSTOMER ADD: %r" % (r,))

    def account_waybill(self, account="ACC1"):
        number = next_number()
        self.create(self.u("op1"), number=number, promised_at=self.now() + 3 * DAY, customer=account)
        return number

    def warnings(self, account="ACC1"):
        r = self.u("op1").cmd(line("WARNING", "LIST", customer=account, subtype="media_exposure", limit=100))
        self.assertReply(r, 200)
        return r.records


class MediaGoesToTheTop(ComplaintLawCase):
    """Item 10: complaint_media_level (manager) and the like for each trigger."""

    def test_media_channel_and_threat_go_to_the_manager(self):
        self.at("2027-05-03T10:00")
        r = self.open(channel="media")
        cid = int(r["id"])
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "manager", ""))
        self.assertEqual(self.get(cid)["last_triggers"], "media")
        self.assertIn(cid, self.list_ids(queue="manager", limit=1000))
        # a supervisor cannot take it from the manager's queue
        self.c("sup1", "TAKE", cid, expect=403, msg="complaint %d waits for a manager" % cid)
        self.c("mgr1", "TAKE", cid)
        # a regulator complaint goes to a supervisor, and a media threat later
        # takes it on to the manager
        cid = self.open_id(channel="regulator")
        self.assertEqual(self.get(cid)["level"], "supervisor")
        self.c("sup1", "TAKE", cid)
        r = self.c("sup1", "FLAG", cid, media_threat="yes", msg="flags recorded; escalated")
        self.assertEqual((r["level"], r["escalated_by"]), ("manager", "media"))

    def test_manual_escalation_to_a_named_owner_is_checked_at_the_target_level(self):
        self.at("2027-05-04T10:00")
        cid = self.open_id()
        self.c("op1", "ESCALATE", cid, expect=422, to="op2", reason="x",
               msg_re="^op2 is an? operator: a complaint at supervisor level needs a supervisor or above$")
        r = self.c("op1", "ESCALATE", cid, to="sup1", reason="customer asks")
        self.assertEqual((r["level"], r["owner"]), ("supervisor", "sup1"))


class TriggerLevelsConfigured(ComplaintLawCase):
    """Every trigger's level is an option: here the customer's refusal goes
    straight to the manager, the media only to a supervisor."""

    daemon_args = ("--complaint-customer-refused-level", "manager", "--complaint-media-level", "supervisor")

    def test_configured_levels(self):
        self.at("2027-05-05T10:00")
        r = self.open(channel="media")
        self.assertEqual((r["level"], self.get(int(r["id"]))["last_triggers"]), ("supervisor", "media"))
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="a voucher")
        r = self.c("op1", "REFUSE", cid, msg="the customer refused; escalated")
        self.assertEqual((r["level"], r["escalated_by"]), ("manager", "customer_refused"))


class MediaExposureWarnings(ComplaintLawCase):
    """Item 11: an account's complaint through, or threatening, the media,
    the consumer association or a regulator raises a media-exposure warning
    whenever that becomes known, escalated or not."""

    def test_warning_at_opening_for_each_outside_body(self):
        self.at("2027-05-06T10:00")
        before = len(self.warnings())
        self.open_id(waybill=self.account_waybill(), channel="phone")
        self.assertEqual(len(self.warnings()), before)
        ids = [self.open_id(waybill=self.account_waybill(), channel=ch)
               for ch in ("media", "consumer_association", "regulator", "market_regulator")]
        rows = self.warnings()
        self.assertEqual(len(rows), before + 4)
        sources = sorted(self.u("op1").cmd(line("WARNING", "GET", int(w["id"])))["source"] for w in rows[:4])
        self.assertEqual(sources, sorted("complaint:%d" % i for i in ids))
        w = self.u("op1").cmd(line("WARNING", "GET", int(rows[0]["id"])))
        self.assertEqual((w["type"], w["subtype"], w["customer"]), ("service_incident", "media_exposure", "ACC1"))

    def test_flag_on_an_escalated_complaint_raises_it_once(self):
        self.at("2027-05-07T10:00")
        before = len(self.warnings())
        cid = self.open_id(waybill=self.account_waybill(), several_depots="yes")
        self.assertEqual(self.get(cid)["level"], "supervisor")
        self.assertEqual(len(self.warnings()), before)
        self.c("sup1", "TAKE", cid)
        self.c("sup1", "FLAG", cid, media_threat="yes", text="customer will call the newspaper")
        rows = self.warnings()
        self.assertEqual(len(rows), before + 1)
        w = self.u("op1").cmd(line("WARNING", "GET", int(rows[0]["id"])))
        self.assertEqual(w["source"], "complaint:%d" % cid)
        # flagged again (after clearing it): still one warning for the complaint
        self.c("mgr1", "TAKE", cid)
        self.c("mgr1", "FLAG", cid, media_threat="no")
        self.c("mgr1", "FLAG", cid, media_threat="yes")
        self.assertEqual(len(self.warnings()), before + 1)

    def test_no_warning_without_an_account(self):
        self.at("2027-05-08T10:00")
        total = len(self.u("op1").cmd(line("WARNING", "LIST", subtype="media_exposure", limit=1000)).records)
        self.open_id(channel="media")
        self.assertEqual(len(self.u("op1").cmd(line("WARNING", "LIST", subtype="media_exposure",
                                                    limit=1000)).records), total)


class FirstContactKeepsTheComplaint(ComplaintLawCase):
    """Item 12: after an escalation the handler who took the call still
    acknowledges, adds notes and keeps the customer informed; the record
    shows the first contact and the deciding owner."""

    def test_first_contact_follows_an_escalated_complaint(self):
        self.at("2027-05-10T10:00")
        cid = self.open_id(several_depots="yes")
        g = self.get(cid)
        self.assertEqual((g["level"], g["first_contact"], g["deciding_owner"]), ("supervisor", "op1", ""))
        # before issue 11 this was 403: the opener acknowledges in the
        # supervisor's queue; the complaint still waits for its deciding owner
        r = self.c("op1", "ACK", cid, msg="acknowledged")
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "supervisor", ""))
        g = self.get(cid)
        self.assertEqual(g["clocks.acknowledge.state"], "met")
        self.assertTrue(g["update_by"])
        self.c("op1", "NOTE", cid, text="told the customer a supervisor decides", contacted="yes",
               msg="update to the customer recorded")
        self.c("sup1", "TAKE", cid)
        g = self.get(cid)
        self.assertEqual((g["first_contact"], g["deciding_owner"]), ("op1", "sup1"))
        self.c("op1", "NOTE", cid, text="customer called again", msg="note added")
        # deciding stays with the higher level
        self.c("op1", "PROPOSE", cid, expect=403, text="x", msg="complaint %d is owned by sup1" % cid)
        self.c("op1", "ESCALATE", cid, expect=403, reason="x", msg="complaint %d is owned by sup1" % cid)
        # another handler is neither
        self.c("op2", "NOTE", cid, expect=403, text="x", msg="complaint %d is owned by sup1" % cid)
        # a hand-over at the first level moves the first contact too
        cid = self.open_id()
        self.c("op1", "HANDOVER", cid, to="op2", reason="shift ends")
        g = self.get(cid)
        self.assertEqual((g["first_contact"], g["deciding_owner"], g["opened_by"]), ("op2", "op2", "op1"))
        self.c("op1", "NOTE", cid, expect=403, text="x", msg="complaint %d is owned by op2" % cid)


class AppealsAndAppealRisk(ComplaintLawCase):
    """Item 9: unresolved at day 7 a complaint is at appeal risk (lists,
    GET, statistics); a complaint through the postal regulator may be
    linked to the complaint it appeals (appeals=ID, same waybill): both show
    the link, the statistics count the matter once and the appeals apart."""

    def stats(self, month):
        r = self.u("op1").cmd(line("COMPLAINT", "STATS", month=month))
        self.assertReply(r, 200)
        return r.rec

    def test_appeal_risk_and_an_appeal(self):
        t0 = self.at("2027-07-05T10:00")
        number = self.account_waybill()
        other = self.account_waybill()
        first = self.open_id(waybill=number)
        quiet = self.open_id(waybill=other)
        self.c("op1", "ACK", first)
        self.c("op1", "ACK", quiet)
        self.c("op1", "PROPOSE", quiet, text="refund")
        self.c("op1", "ACCEPT", quiet)
        self.assertEqual(self.get(first)["appeal_risk"], "no")
        # day 7 passes unresolved: at risk of an appeal (the accepted one is not)
        self.at(t0 + 7 * DAY + 60)
        self.sweep()
        g = self.get(first)
        self.assertEqual((g["appeal_risk"], g["resolve_breached"]), ("yes", "yes"))
        # stored by the daemon's own sweep, in the timeline
        self.assertTrue(any(e["changes"].get("appeal_risk", ("", ""))[1] == "yes" for e in timeline(g)))
        self.assertEqual(self.get(quiet)["appeal_risk"], "no")
        ids = self.list_ids(appeal_risk="yes", limit=1000)
        self.assertIn(first, ids)
        self.assertNotIn(quiet, ids)
        rows = self.u("op1").cmd(line("COMPLAINT", "LIST", waybill=number)).records
        self.assertEqual([r["appeal_risk"] for r in rows], ["yes"])
        s = self.stats("2027-07")
        self.assertEqual((s["opened"], s["appeal_risk"], s["appeals"]), ("2", "1", "0"))

        # refusals, nothing written
        n = len(self.snapshot_all())
        self.open(expect=422, channel="phone", waybill=number, appeals=first)
        r = self.open(expect=422, channel="regulator", waybill=other, appeals=first)
        self.assertEqual(r.msg, "complaint %d is about waybill %s, this appeal about %s: an appeal is linked to "
                                "the complaint about the same parcel" % (first, number, other))
        self.open(expect=404, channel="regulator", waybill=number, appeals=99999)
        self.assertEqual(len(self.snapshot_all()), n)
        self.assertEqual(self.get(first).get("appeal", ""), "")

        # the customer appeals to the postal regulator
        appeal = self.open_id(channel="regulator", waybill=number, appeals=first)
        a, g = self.get(appeal), self.get(first)
        self.assertEqual((a["appeals"], g["appeal"]), (str(first), str(appeal)))
        self.assertEqual(timeline(g)[-1]["action"], "appealed")
        # once only
        self.open(expect=409, channel="regulator", waybill=number, appeals=first)
        # the matter is counted once; the appeal is its own figure
        s = self.stats("2027-07")
        self.assertEqual((s["opened"], s["appeals"], s["appeal_risk"]), ("2", "1", "1"))
        self.assertEqual(s["by_channel.regulator"] if "by_channel.regulator" in s else "0", "0")


class AfterTheComplaint(ComplaintLawCase):
    """Item 14: COMPLAINT CLOSE records the apology sent and a rectification
    plan with its owner and due date; bad input writes nothing."""

    def test_apology_and_rectification_plan(self):
        self.at("2027-08-02T10:00")
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="refund and apology")
        self.c("op1", "ACCEPT", cid)
        before = self.get(cid)
        for kw, msg in (
                (dict(rectification="retrain the courier"),
                 "a rectification plan needs an owner and a due date: give rectification_owner and rectification_due"),
                (dict(rectification="retrain the courier", rectification_owner="sup1"),
                 "a rectification plan needs an owner and a due date: give rectification_due"),
                (dict(rectification_owner="sup1", rectification_due="2027-08-20"),
                 "rectification_owner and rectification_due belong to a rectification plan: give rectification="),
                (dict(rectification="x", rectification_owner="sup1", rectification_due="2027-08-01"),
                 "rectification_due 2027-08-01 is already past")):
            self.c("op1", "CLOSE", cid, expect=422, msg=msg, **close_args(**kw))
        self.c("op1", "CLOSE", cid, expect=404, msg="no user 'ghost'",
               **close_args(rectification="x", rectification_owner="ghost", rectification_due="2027-08-20"))
        self.c("op1", "CLOSE", cid, expect=400, **close_args(apology="flowers"))
        self.assertNothingWritten(cid, before)
        self.c("op1", "CLOSE", cid, msg="closed", **close_args(
            apology="visit", rectification="retrain the BJ02 couriers on door delivery",
            rectification_owner="sup1", rectification_due="2027-08-31"))
        g = self.get(cid)
        self.assertEqual((g["status"], g["apology"]), ("closed", "visit"))
        self.assertEqual(parse_iso(g["apology_at"]), parse_iso(g["closed_at"]))
        self.assertEqual((g["rectification.plan"], g["rectification.owner"], g["rectification.due"],
                          g["rectification.raised_by"]),
                         ("retrain the BJ02 couriers on door delivery", "sup1", "2027-08-31", "op1"))
        # both are optional
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="sorry")
        self.c("op1", "ACCEPT", cid)
        self.c("op1", "CLOSE", cid, msg="closed", **close_args())
        self.assertNotIn("apology", self.get(cid))


class SeveralIssuesAndAccounts(ComplaintLawCase):
    """Item 13: secondary categories, each counted in the statistics and
    found by LIST category=; an account named without a waybill."""

    def test_secondary_categories(self):
        self.at("2027-10-06T10:00")
        cid = self.open_id(category="loss", also="attitude,refused_inspection", depot="SC01")
        g = self.get(cid)
        self.assertEqual((g["category"], g["also_categories"]), ("loss", "attitude,refused_inspection"))
        for cat in ("loss", "attitude", "refused_inspection"):
            self.assertIn(cid, self.list_ids(category=cat, limit=1000), cat)
            self.assertIn(cid, self.list_ids(category=cat, depot="SC01", limit=1000), cat)
        self.assertNotIn(cid, self.list_ids(category="charges", limit=1000))
        s = self.u("op1").cmd(line("COMPLAINT", "STATS", month="2027-10")).rec
        self.assertEqual((s["opened"], s["by_category.loss"], s["by_category.attitude"],
                          s["by_category.refused_inspection"]), ("1", "1", "1", "1"))
        # refusals, nothing written
        n = len(self.snapshot_all())
        for also, msg in (("rude", "also: 'rude' is not a complaint category"),
                          ("loss", "also: 'loss' is given twice (the main category is loss)"),
                          ("attitude,attitude", "also: 'attitude' is given twice (the main category is loss)"),
                          ("attitude,", "also: categories joined by ',' (e.g. also=attitude,charges)")):
            r = self.open(expect=422, category="loss", also=also)
            self.assertEqual(r.msg, msg)
        self.assertEqual(len(self.snapshot_all()), n)

    def test_account_without_a_waybill(self):
        self.at("2027-09-07T10:00")
        r = self.u("op1").cmd(line("COMPLAINT", "OPEN", channel="phone", category="charges", customer="ACC1",
                                   customer_name="Acme", customer_phone="13900001111", text="wrong invoice"))
        self.assertReply(r, 201)
        g = self.get(int(r["id"]))
        # the account's home depot when no depot is given
        self.assertEqual((g["customer"], g["depot"], g.get("waybill", "")), ("ACC1", "SH01", ""))
        n = len(self.snapshot_all())
        self.assertEqual(self.open(expect=404, customer="NOPE").msg, "no customer NOPE")
        number = next_number()
        self.create(self.u("op1"), number=number, promised_at=self.now() + 3 * DAY)
        self.assertEqual(self.open(expect=422, customer="ACC1", waybill=number).msg,
                         "waybill %s is not a waybill of account ACC1 (it has no account)" % number)
        self.assertEqual(len(self.snapshot_all()), n)
        # with the account's own waybill, it agrees
        cid = self.open_id(customer="ACC1", waybill=self.account_waybill())
        self.assertEqual(self.get(cid)["customer"], "ACC1")


if __name__ == "__main__":
    unittest.main()
