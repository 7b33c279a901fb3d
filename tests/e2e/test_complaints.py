"""Complaints end to end (issue 4; docs/sla.md; PROTOCOL.md
"Complaints", COMPLAINT *, SWEEP, CLOCK SET).

The whole life of a complaint through the text framing and through msgpack;
every automatic escalation trigger (media / regulator channel, several
depots, a proposal above the handler's authority, the customer's refusal,
the resolve-by time passing with the clock moved forward) and the levels
handler -> supervisor -> manager; the queue and TAKE; who may close; the
hand-over; external review; closing rules; reopening; the timeline with old
and new values; every list filter and paging; a restart in the middle; bad
input that writes nothing; and COMPLAINT STATS checked against ~150
complaints generated (seeded) through the wire.

Every test sets the daemon's clock (--enable-test-clock) to dates in 2027,
after the real date, so that a restarted daemon (whose clock starts at the
real time again) has nothing due before the test sets its clock back.
These classes run without any calendar, so the clocks count calendar time
(complaint_acknowledge_secs 24 h, complaint_resolve_secs 7 days); business
time is tests/e2e/test_sla_clocks.py."""
import datetime
import decimal
import math
import random
import time
import unittest

from harness import (CST, DAY, HOUR, DaemonTestCase, iso, line, next_phone, parse_iso,
                     sub_list)

MIN = 60
ACK_SECS = 24 * HOUR            # complaint_acknowledge_secs
RESOLVE_SECS = 7 * DAY          # complaint_resolve_secs
ESCALATED_SECS = 7 * DAY        # complaint_escalated_resolve_secs
MAX_OPEN_SECS = 30 * DAY        # complaint_max_open_secs
HANDLER_AUTHORITY = 100000      # authority_handler_fen
SUPERVISOR_AUTHORITY = 1000000  # authority_supervisor_fen

# Users beyond the harness's op1, op2 (operators), adj1 (adjuster), sup1
# (supervisor): created by each class.
EXTRA_USERS = {
    "sup2": ("supervisor", "sup2-password"),
    "mgr1": ("manager", "mgr1-password"),
    "mgr2": ("manager", "mgr2-password"),
}

CHANNELS = ("phone", "online", "walk_in", "regulator", "consumer_association", "market_regulator", "media")
OUTSIDE_CHANNELS = ("regulator", "consumer_association", "market_regulator", "media")
CATEGORIES = ("delay", "loss", "damage", "content_mismatch", "not_delivered_to_door", "refused_inspection",
              "wrong_signature", "no_consent_drop", "attitude", "charges", "other")
STAGES = ("pickup", "sorting", "line_haul", "subcarrier_handover", "delivery", "customer_service")

# Fields of COMPLAINT GET that depend on the moment of the request, not on
# the stored complaint.
VOLATILE_SUFFIXES = (".used_secs", ".left_secs", ".state", ".paused_secs")


def ts(s):
    """'2027-03-01T10:00' (Shanghai) or a full ISO time -> UTC seconds."""
    if len(s) == 16:
        s += ":00+08:00"
    return parse_iso(s)


def local_day(utc):
    return datetime.datetime.fromtimestamp(utc, CST).date()


def close_args(**over):
    a = dict(satisfaction=4, feedback="fine in the end", responsible="BJ02", stage="delivery",
             cause="courier skipped the door")
    a.update(over)
    return {k: v for k, v in a.items() if v is not None}


def nearest_rank(values, p):
    """Nearest-rank percentile; the median of an even count is the lower
    middle value."""
    v = sorted(values)
    if not v:
        return 0
    rank = max(1, math.ceil(p * len(v) / 100))
    return v[rank - 1]


def pct(part, whole):
    """A share as the daemon shows it: two decimals, rounded half up."""
    if not whole:
        return "0.00"
    q = decimal.Decimal(part * 100) / decimal.Decimal(whole)
    return str(q.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


def avg2(total, n):
    if not n:
        return "0.00"
    q = decimal.Decimal(total) / decimal.Decimal(n)
    return str(q.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


def change_pair(shown):
    """A timeline change as shown, "OLD → NEW" or "NEW" (no value before),
    as (old, new)."""
    old, arrow, new = shown.partition(" \u2192 ")
    return (old, new) if arrow else ("", shown)


def timeline(rec):
    """The timeline of a text COMPLAINT GET record: a list of entries
    {who, at, action, text, changes: {field: (old, new)}}."""
    out = []
    for e in sub_list(rec, "timeline"):
        ch = {k[len("changes."):]: change_pair(v) for k, v in e.items() if k.startswith("changes.")}
        out.append({"who": e.get("who"), "at": e.get("at"), "action": e.get("action"),
                    "text": e.get("text"), "changes": ch})
    return out


def stable(rec):
    """The stored state of a complaint as GET shows it, without what depends
    on the moment of the request."""
    return {k: v for k, v in rec.items()
            if k != "overdue" and not (k.startswith("clocks.") and k.endswith(VOLATILE_SUFFIXES))}


class ComplaintCase(DaemonTestCase):
    """Helpers shared by the complaint test classes."""

    daemon_args = ()

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("admin") as c:
            for name, (role, pw) in EXTRA_USERS.items():
                r = c.cmd(line("USER", "ADD", name, role, pw, full_name="E2E " + name, depot="BJ02"))
                if r.code != 201:
                    raise AssertionError("USER ADD %s: %r" % (name, r))

    def setUp(self):
        super().setUp()
        self._users = {}

    def u(self, name):
        """A text connection of this test logged in as name (one per name)."""
        c = self._users.get(name)
        if c is None:
            if name in EXTRA_USERS:
                c = self.daemon.text(name, EXTRA_USERS[name][1])
            else:
                c = self.daemon.text(name)
            self._clients.append(c)
            self._users[name] = c
        return c

    def m(self, name):
        if name in EXTRA_USERS:
            c = self.daemon.mp(name, EXTRA_USERS[name][1])
        else:
            c = self.daemon.mp(name)
        self._clients.append(c)
        return c

    def at(self, when):
        """Sets the daemon's clock (admin) to a time (UTC seconds or text)."""
        t = ts(when) if isinstance(when, str) else when
        r = self.u("admin").cmd(line("CLOCK", "SET", iso(t)))
        self.assertReply(r, 200)
        return t

    def now(self):
        return int(self.u("admin").cmd("CLOCK GET")["utc_secs"])

    def sweep(self):
        """SWEEP as admin until nothing more waits; the number of actions run."""
        done = 0
        for _ in range(100):
            r = self.assertReply(self.u("admin").cmd("SWEEP"), 200)
            done += int(r["done"])
            if r["more"] == "no":
                return done
        self.fail("SWEEP still has more after 100 calls")

    def open(self, user="op1", expect=201, **kw):
        kw.setdefault("channel", "phone")
        kw.setdefault("category", "delay")
        if "waybill" not in kw:
            kw.setdefault("depot", "SH01")
        kw.setdefault("customer_name", "Han Meimei")
        kw.setdefault("customer_phone", next_phone())
        kw.setdefault("text", "promised Friday, still nothing")
        r = self.u(user).cmd(line("COMPLAINT", "OPEN", **kw))
        self.assertReply(r, expect)
        return r

    def open_id(self, user="op1", **kw):
        return int(self.open(user, **kw)["id"])

    def c(self, user, verb, cid, expect=200, msg=None, msg_re=None, **kw):
        r = self.u(user).cmd(line("COMPLAINT", verb, cid, **kw))
        self.assertReply(r, expect, msg, msg_re)
        return r

    def get(self, cid, user="op1"):
        r = self.u(user).cmd(line("COMPLAINT", "GET", cid))
        self.assertReply(r, 200)
        return r.rec

    def list_ids(self, user="op1", **kw):
        r = self.u(user).cmd(line("COMPLAINT", "LIST", **kw))
        self.assertReply(r, 200)
        return [int(x["id"]) for x in r.records]

    def poll(self, cid, pred, timeout=3.0, what="the condition"):
        """GET until pred(record) holds (the daemon's own timer does the
        work), at most timeout seconds."""
        deadline = time.time() + timeout
        while True:
            rec = self.get(cid)
            if pred(rec):
                return rec
            if time.time() > deadline:
                self.fail("complaint %s: %s did not happen within %ss: %r" % (cid, what, timeout, rec))
            time.sleep(0.05)

    def assertNothingWritten(self, cid, before, user="op1"):
        after = self.get(cid, user)
        self.assertEqual(len(timeline(after)), len(timeline(before)), "a timeline entry was written")
        self.assertEqual(stable(after), stable(before))

    def snapshot_all(self):
        """Every complaint as LIST shows it, for 'nothing written' checks."""
        r = self.u("admin").cmd(line("COMPLAINT", "LIST", limit=1000))
        self.assertReply(r, 200)
        return r.lines

    @staticmethod
    def align_to_second(lo=0.15, hi=0.45):
        """Waits until the wall clock is well inside a second, so that a
        CLOCK SET and the requests right after it see the same second (the
        daemon reads the coarse time(), which may lag a few ms)."""
        while not (lo <= time.time() % 1 <= hi):
            time.sleep(0.005)


# --------------------------------------------------------------- life ----

class ComplaintLife(ComplaintCase):

    # -- the whole life, text --
    def test_life_text(self):
        t0 = self.at("2027-01-04T10:00")
        number = self.create(self.u("op1"), promised_at=t0 + 2 * DAY)
        r = self.open(channel="phone", category="delay", waybill=number, customer_name="Han Meimei",
                      customer_phone="13900000002", text="promised Friday, still nothing")
        cid = int(r["id"])
        self.assertRegex(r.msg, r"^complaint %d opened$" % cid)
        self.assertEqual((r["status"], r["level"], r["owner"]), ("open", "handler", "op1"))
        opened = parse_iso(self.get(cid)["opened_at"])
        self.assertLessEqual(abs(opened - t0), 5)
        self.assertEqual(parse_iso(r["acknowledge_by"]), opened + ACK_SECS)
        self.assertEqual(parse_iso(r["resolve_by"]), opened + RESOLVE_SECS)

        g = self.get(cid)
        self.assertEqual((g["status"], g["owner"], g["opened_by"], g["channel"], g["category"]),
                         ("open", "op1", "op1", "phone", "delay"))
        # the depot comes from the waybill's destination; its record is shown
        self.assertEqual(g["depot"], "BJ02")
        self.assertEqual(g["waybill"], number)
        self.assertEqual(g["waybill_record.status"], "created")
        self.assertEqual(g["waybill_record.events.1.event"], "created")
        self.assertEqual(g["clock_basis"], "calendar")
        self.assertEqual(g["clocks.acknowledge.basis"], "calendar")
        self.assertEqual(g["clocks.acknowledge.state"], "running")
        self.assertEqual(parse_iso(g["clocks.acknowledge.due_at"]), opened + ACK_SECS)
        self.assertEqual(g["clocks.resolve.state"], "running")
        self.assertEqual(g["overdue"], "no")
        self.assertEqual([e["action"] for e in timeline(g)], ["open"])

        self.c("op1", "NOTE", cid, msg="note added", text="called the depot")
        self.at(t0 + 2 * HOUR)
        self.c("op1", "ACK", cid, msg="acknowledged", text="called back, tracing")
        self.at(t0 + 5 * HOUR)
        r = self.c("op1", "PROPOSE", cid, msg="proposal recorded", text="refund the fee", amount_fen=1500)
        self.assertEqual(r["status"], "proposed")
        self.c("op1", "ACCEPT", cid, msg="the customer accepted; close with their feedback", text="ok")
        self.at(t0 + 6 * HOUR)
        r = self.c("op1", "CLOSE", cid, msg="closed", **close_args(satisfaction=5, feedback="quick, thanks",
                                                                  responsible="BJ02", stage="delivery",
                                                                  cause="parcel left at the depot"))
        self.assertEqual(r["status"], "closed")

        g = self.get(cid)
        self.assertEqual(g["status"], "closed")
        self.assertEqual((g["satisfaction"], g["feedback"], g["responsible"], g["stage"], g["cause"]),
                         ("5", "quick, thanks", "BJ02", "delivery", "parcel left at the depot"))
        self.assertEqual(g["closed_by"], "op1")
        self.assertEqual((g["proposal"], g["proposal_fen"]), ("refund the fee", "1500"))
        self.assertEqual(g["clocks.acknowledge.state"], "met")
        self.assertEqual(g["clocks.resolve.state"], "met")
        self.assertEqual(g["overdue"], "no")
        self.assertEqual(g["ever_escalated"], "no")
        self.assertEqual(g["ever_overdue"], "no")
        tl = timeline(g)
        self.assertEqual([e["action"] for e in tl],
                         ["open", "note", "acknowledge", "propose", "customer_accepted", "close"])
        self.assertTrue(all(e["who"] == "op1" for e in tl))
        self.assertEqual(tl[1]["text"], "called the depot")
        self.assertEqual(tl[2]["text"], "called back, tracing")
        # every change with its old and new value
        self.assertEqual(tl[2]["changes"]["status"], ("open", "acknowledged"))
        self.assertEqual(tl[3]["changes"]["status"], ("acknowledged", "proposed"))
        self.assertEqual(tl[3]["changes"]["proposal_fen"], ("", "1500"))
        self.assertEqual(tl[4]["changes"]["status"], ("proposed", "accepted"))
        self.assertEqual(tl[5]["changes"]["status"], ("accepted", "closed"))
        self.assertEqual(tl[5]["changes"]["satisfaction"], ("", "5"))
        self.assertEqual(tl[5]["changes"]["stage"], ("", "delivery"))
        self.assertEqual(tl[5]["changes"]["cause"], ("", "parcel left at the depot"))
        self.assertEqual(tl[0]["changes"]["status"], ("", "open"))
        self.assertEqual(tl[0]["changes"]["owner"], ("", "op1"))
        self.assertEqual(parse_iso(tl[2]["at"]) // 60, (t0 + 2 * HOUR) // 60)
        self.assertEqual(parse_iso(tl[5]["at"]) // 60, (t0 + 6 * HOUR) // 60)
        # the timeline is in time order
        ats = [parse_iso(e["at"]) for e in tl]
        self.assertEqual(ats, sorted(ats))

    # -- the whole life, msgpack --
    def test_life_msgpack(self):
        t0 = self.at("2027-01-05T10:00")
        m = self.m("op2")
        r = m.call("COMPLAINT", "OPEN", channel="online", category="damage", depot="GZ03",
                   customer_name="Li Lei", customer_phone="+86-139-0000-0003", text="box crushed",
                   service_level="customised")
        self.assertReply(r, 201)
        d = r["data"]
        cid = d["id"]
        self.assertIsInstance(cid, int)
        self.assertEqual((d["status"], d["level"], d["owner"]), ("open", "handler", "op2"))
        g = m.call("COMPLAINT", "GET", cid)
        self.assertReply(g, 200, "complaint %d: open" % cid)
        g = g["data"]
        opened = parse_iso(g["opened_at"])
        # the customised level (key accounts) halves the limits
        self.assertEqual(parse_iso(g["acknowledge_by"]), opened + ACK_SECS // 2)
        self.assertEqual(parse_iso(g["resolve_by"]), opened + RESOLVE_SECS // 2)
        self.assertEqual(g["service_level"], "customised")
        self.assertIs(g["overdue"], False)
        self.assertIsInstance(g["clocks"], dict)
        self.assertEqual(g["clocks"]["acknowledge"]["state"], "running")
        self.assertIsInstance(g["timeline"], list)

        self.at(t0 + HOUR)
        self.assertReply(m.call("COMPLAINT", "ACK", cid, text="called"), 200, "acknowledged")
        self.assertReply(m.call("COMPLAINT", "NOTE", cid, text="photo received", contacted=True), 200,
                         "update to the customer recorded")
        self.assertReply(m.call("COMPLAINT", "PROPOSE", cid, text="pay the damage", amount_fen=30000), 200,
                         "proposal recorded")
        self.assertReply(m.call("COMPLAINT", "ACCEPT", cid), 200)
        # closing without the cause says what is missing
        self.assertReply(m.call("COMPLAINT", "CLOSE", cid, satisfaction=3, feedback="slow", responsible="GZ03",
                                stage="sorting"), 400, "missing argument 'cause'")
        r = m.call("COMPLAINT", "CLOSE", cid, satisfaction=3, feedback="slow", responsible="GZ03",
                   stage="sorting", cause="conveyor jam")
        self.assertReply(r, 200, "closed")
        self.assertEqual(r["data"]["status"], "closed")
        g = m.call("COMPLAINT", "GET", cid)["data"]
        self.assertEqual(g["status"], "closed")
        self.assertEqual(g["satisfaction"], 3)
        self.assertEqual((g["responsible"], g["stage"], g["cause"]), ("GZ03", "sorting", "conveyor jam"))
        self.assertEqual(g["clocks"]["acknowledge"]["state"], "met")
        self.assertIn("update", g["clocks"])
        actions = [e["action"] for e in g["timeline"]]
        self.assertEqual(actions, ["open", "acknowledge", "customer_update", "propose", "customer_accepted",
                                   "close"])
        close = g["timeline"][-1]
        self.assertEqual(close["who"], "op2")
        self.assertEqual(close["changes"]["status"], "accepted \u2192 closed")
        self.assertEqual(close["changes"]["satisfaction"], "3")   # no value before
        # the list row, through msgpack
        rows = m.call("COMPLAINT", "LIST", depot="GZ03", limit=10)["data"]
        row = [x for x in rows if x["id"] == cid][0]
        self.assertEqual((row["status"], row["channel"], row["category"], row["owner"]),
                         ("closed", "online", "damage", "op2"))
        self.assertIs(row["overdue"], False)

    # -- automatic escalation at opening --
    def test_outside_channels_escalate_at_open(self):
        self.at("2027-01-06T10:00")
        for ch in CHANNELS:
            r = self.open(channel=ch, depot="XC01")
            cid = int(r["id"])
            if ch in OUTSIDE_CHANNELS:
                # the media go to the manager at once (complaint_media_level);
                # the other outside bodies to a supervisor
                level, trigger = ("manager", "media") if ch == "media" else ("supervisor", "media_or_regulator")
                self.assertEqual(r.msg, "complaint %d opened and escalated" % cid, ch)
                self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", level, ""), ch)
                g = self.get(cid)
                self.assertEqual(g["last_triggers"], trigger)
                self.assertEqual(g["ever_escalated"], "yes")
                self.assertEqual(g["opened_by"], "op1")   # first contact, of record
                self.assertIn(cid, self.list_ids(queue=level, depot="XC01", limit=100))
            else:
                self.assertEqual(r.msg, "complaint %d opened" % cid, ch)
                self.assertEqual((r["status"], r["level"], r["owner"]), ("open", "handler", "op1"), ch)
        # the regulator channel answers the regulator within 7 days
        cid = self.open_id(channel="regulator", depot="XC01")
        g = self.get(cid)
        self.assertEqual(parse_iso(g["regulator_reply_by"]), parse_iso(g["opened_at"]) + 7 * DAY)
        self.assertEqual(g["clocks.regulator_reply.state"], "running")
        # a threat of the media at opening: to the manager at once
        r = self.open(media_threat="yes", depot="XC01")
        self.assertEqual((r["status"], r["level"]), ("escalated", "manager"))
        self.assertEqual(self.get(int(r["id"]))["last_triggers"], "media")

    def test_several_depots_escalate(self):
        self.at("2027-01-07T10:00")
        r = self.open(several_depots="yes")
        cid = int(r["id"])
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "supervisor", ""))
        self.assertEqual(self.get(cid)["last_triggers"], "several_departments")
        # flagged later: escalates then
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        r = self.c("op1", "FLAG", cid, msg="flags recorded; escalated", several_depots="yes",
                   text="Beijing and Tianjin both lost track")
        self.assertEqual((r["status"], r["level"]), ("escalated", "supervisor"))
        g = self.get(cid)
        self.assertEqual(g["last_triggers"], "several_departments")
        e = timeline(g)[-1]
        self.assertEqual((e["action"], e["who"]), ("flag", "op1"))
        self.assertEqual(e["changes"]["several_depots"], ("no", "yes"))
        self.assertEqual(e["changes"]["level"], ("handler", "supervisor"))
        # at supervisor level the flag does not push it further
        cid = self.open_id(several_depots="yes")
        self.c("sup1", "TAKE", cid)
        self.c("sup1", "FLAG", cid, msg="flags recorded", several_depots="yes")
        self.assertEqual(self.get(cid)["level"], "supervisor")
        # neither flag given
        self.c("sup1", "FLAG", cid, expect=400, msg="give media_threat or several_depots")
        # a media threat flagged later, on an escalated complaint: to the manager
        r = self.c("sup1", "FLAG", cid, msg="flags recorded; escalated", media_threat="yes")
        self.assertEqual((r["level"], r["owner"]), ("manager", ""))
        self.assertEqual(self.get(cid)["last_triggers"], "media")
        # and from the handler, straight to the manager
        cid = self.open_id()
        r = self.c("op1", "FLAG", cid, msg="flags recorded; escalated", media_threat="yes")
        self.assertEqual(r["level"], "manager")

    def test_over_authority(self):
        self.at("2027-01-08T10:00")
        # exactly the handler's authority: no escalation
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        r = self.c("op1", "PROPOSE", cid, msg="proposal recorded", text="pay 1000 yuan",
                   amount_fen=HANDLER_AUTHORITY)
        self.assertEqual((r["status"], r["level"]), ("proposed", "handler"))
        # one fen above: escalated for approval
        cid = self.open_id(user="adj1")
        self.c("adj1", "ACK", cid)
        r = self.c("adj1", "PROPOSE", cid, msg="proposal recorded; above your authority, escalated for approval",
                   text="pay 1000.01 yuan", amount_fen=HANDLER_AUTHORITY + 1)
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "supervisor", ""))
        self.assertEqual(r["escalated_by"], "over_authority")
        g = self.get(cid)
        self.assertEqual(g["last_triggers"], "over_authority")
        self.assertEqual(g["proposal_fen"], str(HANDLER_AUTHORITY + 1))
        # the adjuster (a handler) cannot work it while it waits in the queue
        self.c("adj1", "ACCEPT", cid, expect=403,
               msg="complaint %d waits in the supervisor queue: a supervisor takes it first (COMPLAINT TAKE)" % cid)
        # the supervisor takes it and approves: within a supervisor's authority
        self.c("sup1", "TAKE", cid, msg="sup1 takes the complaint")
        r = self.c("sup1", "PROPOSE", cid, msg="proposal recorded", text="approved",
                   amount_fen=HANDLER_AUTHORITY + 1)
        self.assertEqual((r["status"], r["level"], r["owner"]), ("proposed", "supervisor", "sup1"))
        # above the supervisor's too: up to the manager
        r = self.c("sup1", "REFUSE", cid, msg="the customer refused; escalated")
        self.assertEqual((r["level"], r["status"]), ("manager", "escalated"))
        self.c("mgr1", "TAKE", cid)
        r = self.c("mgr1", "PROPOSE", cid, msg="proposal recorded", text="more", amount_fen=SUPERVISOR_AUTHORITY + 1)
        self.assertEqual(r["level"], "manager")
        cid2 = self.open_id()
        self.c("op1", "ACK", cid2)
        self.c("op1", "ESCALATE", cid2, reason="needs a supervisor", to="sup1")
        r = self.c("sup1", "PROPOSE", cid2, msg="proposal recorded; above your authority, escalated for approval",
                   text="big", amount_fen=SUPERVISOR_AUTHORITY + 1)
        self.assertEqual((r["level"], r["owner"]), ("manager", ""))
        self.assertEqual(r["escalated_by"], "over_authority")

    # -- refusal, levels, external review --
    def test_refusals_levels_and_external_review(self):
        self.at("2027-01-11T10:00")
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="coupon")
        r = self.c("op1", "REFUSE", cid, msg="the customer refused; escalated", text="wants cash")
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "supervisor", ""))
        self.assertEqual(r["escalated_by"], "customer_refused")
        self.assertIn(cid, self.list_ids(queue="supervisor", limit=1000))
        self.assertNotIn(cid, self.list_ids(owner="op1", limit=1000))
        # the queue: an operator cannot take, a supervisor can, once
        self.c("op1", "TAKE", cid, expect=403, msg="COMPLAINT TAKE needs the supervisor role")
        self.c("sup1", "TAKE", cid, msg="sup1 takes the complaint")
        self.c("sup2", "TAKE", cid, expect=409, msg="complaint %d is owned by sup1: ask for a hand-over" % cid)
        self.assertNotIn(cid, self.list_ids(queue="supervisor", limit=1000))
        self.assertIn(cid, self.list_ids(owner="sup1", limit=1000))
        self.c("sup1", "PROPOSE", cid, text="cash 50 yuan", amount_fen=5000)
        r = self.c("sup1", "REFUSE", cid, msg="the customer refused; escalated")
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "manager", ""))
        self.assertIn(cid, self.list_ids(queue="manager", limit=1000))
        # a supervisor is below the manager queue
        self.c("sup1", "TAKE", cid, expect=403, msg="complaint %d waits for a manager" % cid)
        self.c("mgr1", "TAKE", cid)
        # a manager's refused solution is final: no further escalation
        self.c("mgr1", "PROPOSE", cid, text="cash 80 yuan", amount_fen=8000)
        r = self.c("mgr1", "REFUSE", cid,
                   msg="the customer refused the final solution; refer to external review or propose again")
        self.assertEqual((r["status"], r["level"]), ("refused", "manager"))
        self.c("mgr1", "ESCALATE", cid, expect=409, reason="higher?",
               msg="complaint %d is refused at manager level: it cannot go higher" % cid)
        # closing a refused complaint is not allowed
        self.c("mgr1", "CLOSE", cid, expect=409, **close_args())
        # only a manager refers
        self.c("sup1", "REFER", cid, expect=403, body="arbitration", msg="COMPLAINT REFER needs the manager role")
        self.c("mgr1", "OUTCOME", cid, expect=409, outcome="x",
               msg="complaint %d is not in external review" % cid)
        r = self.c("mgr1", "REFER", cid, msg="referred to arbitration", body="arbitration", text="customer insists")
        self.assertEqual(r["status"], "external_review")
        self.c("mgr1", "WAIT", cid, expect=409, **{"for": "customer", "reason": "x"})
        self.c("mgr1", "OUTCOME", cid, msg="outcome recorded; close with the feedback",
               outcome="arbitration: pay 60 yuan")
        g = self.get(cid)
        self.assertEqual((g["external_body"], g["external_outcome"]), ("arbitration", "arbitration: pay 60 yuan"))
        # an operator (even the first-contact owner) cannot close at manager level
        self.c("op1", "CLOSE", cid, expect=403, msg="complaint %d is at manager level: a manager or above closes it"
               % cid, **close_args())
        self.c("sup1", "CLOSE", cid, expect=403, **close_args())
        self.c("mgr1", "CLOSE", cid, msg="closed", **close_args(satisfaction=2, responsible="customer_service",
                                                                stage="customer_service"))
        g = self.get(cid)
        self.assertEqual((g["status"], g["closed_by"], g["level"], g["escalations"]),
                         ("closed", "mgr1", "manager", "2"))
        actions = [e["action"] for e in timeline(g)]
        self.assertEqual(actions, ["open", "acknowledge", "propose", "customer_refused", "take", "propose",
                                   "customer_refused", "take", "propose", "customer_refused", "refer",
                                   "external_outcome", "close"])
        tl = timeline(g)
        self.assertEqual(tl[3]["changes"]["level"], ("handler", "supervisor"))
        self.assertEqual(tl[3]["changes"]["owner"], ("op1", ""))
        self.assertEqual(tl[4]["changes"]["owner"], ("", "sup1"))
        self.assertEqual(tl[6]["changes"]["level"], ("supervisor", "manager"))
        self.assertEqual(tl[10]["changes"]["status"], ("refused", "external_review"))
        self.assertEqual(tl[10]["changes"]["external_body"], ("", "arbitration"))

    def test_manual_escalation_levels(self):
        self.at("2027-01-12T10:00")
        cid = self.open_id()
        self.c("op1", "ESCALATE", cid, expect=422, reason="x", to="op2",
               msg_re="^op2 is an? operator: a complaint at supervisor level needs a supervisor or above$")
        self.c("op1", "ESCALATE", cid, expect=404, reason="x", to="nobody", msg="no user 'nobody'")
        r = self.c("op1", "ESCALATE", cid, msg="escalated to supervisor", reason="customer is a journalist")
        self.assertEqual((r["status"], r["level"], r["owner"]), ("escalated", "supervisor", ""))
        self.assertEqual(r["escalated_by"], "manual")
        g = self.get(cid)
        e = timeline(g)[-1]
        self.assertEqual((e["action"], e["who"], e["text"]), ("escalate", "op1", "customer is a journalist"))
        self.assertEqual(e["changes"]["last_triggers"], ("", "manual"))
        self.assertEqual(e["changes"]["escalations"], ("0", "1"))
        # a new owner level means a new resolve-by time, from the escalation,
        # within the legal 7 days from the opening (docs/sla.md): the legal
        # ceiling binds once the escalation is a second later than the
        # opening (the clock runs on between the two requests)
        self.assertEqual(parse_iso(g["resolve_by"]),
                         min(parse_iso(g["escalated_at"]) + ESCALATED_SECS, parse_iso(g["legal_by"])))
        # the first-contact owner still follows it (notes; issue 11 item 12)
        # but no longer decides it
        self.c("op1", "NOTE", cid, text="x", msg="note added")
        self.c("op1", "PROPOSE", cid, expect=403, text="x")
        self.c("sup1", "TAKE", cid)
        r = self.c("sup1", "ESCALATE", cid, msg="escalated to manager", reason="over my head", to="mgr2")
        self.assertEqual((r["level"], r["owner"]), ("manager", "mgr2"))
        self.assertIn(cid, self.list_ids(owner="mgr2", limit=1000))
        self.c("mgr2", "ESCALATE", cid, expect=409, reason="further",
               msg="complaint %d is escalated at manager level: it cannot go higher" % cid)
        self.assertEqual(self.get(cid)["escalations"], "2")

    def test_acknowledge_due_instant_is_on_time(self):
        """At the acknowledge-by instant itself the complaint is on time
        (as for resolve-by: 'the due instant itself is on time'); GET's
        acknowledge clock, `overdue` and `acknowledge_breached` agree."""
        self.at("2027-02-15T10:00")
        cid = self.open_id(depot="OV02")
        ack_by = parse_iso(self.get(cid)["acknowledge_by"])
        self.align_to_second()
        self.at(ack_by)
        self.sweep()    # whatever is due at this instant has run
        g = self.get(cid)
        now = self.now()
        if now != ack_by:
            self.skipTest("the second turned over during the check")
        breached = g.get("acknowledge_breached") == "yes"
        self.assertEqual((breached, g["overdue"] == "yes", g["clocks.acknowledge.state"] == "breached"),
                         (breached, breached, breached),
                         "at the acknowledge-by instant, acknowledge_breached=%s but overdue=%s and the "
                         "acknowledge clock is %s" % (g.get("acknowledge_breached"), g["overdue"],
                                                      g["clocks.acknowledge.state"]))
        # the rule for resolve-by: the due instant itself is on time
        self.assertFalse(breached, "acknowledge_breached already at the due instant")

    def test_late_acknowledgement_counts_as_overdue(self):
        """An acknowledgement after the acknowledge-by time is 'past a due
        time' (ever_overdue, the statistics' overdue) even when it reaches
        the writer before the daemon's own sweep does."""
        self.at("2027-02-16T10:00")
        cid = self.open_id(depot="OV03")
        ack_by = parse_iso(self.get(cid)["acknowledge_by"])
        admin = self.u("admin")
        # CLOCK SET and the ACK in one pipeline: the ACK is queued for the
        # writer before the due timer's SWEEP (admin is above the handler
        # level, so may work the complaint)
        admin.send(line("CLOCK", "SET", iso(ack_by + HOUR)) + "\r\n" + line("COMPLAINT", "ACK", cid) + "\r\n")
        self.assertReply(admin.read_reply(), 200)
        self.assertReply(admin.read_reply(), 200, "acknowledged")
        self.sweep()
        g = self.get(cid)
        self.assertEqual(g["clocks.acknowledge.state"], "met_late")
        self.assertEqual(g["ever_overdue"], "yes", "acknowledged an hour late but not counted as overdue")

    def test_dates_when_clock_went_back(self):
        """`from`/`to` bound the opening day, whatever the order of the ids
        (a clock set back, or stepped back by NTP, opens a later id on an
        earlier day)."""
        self.at("2027-08-20T10:00")
        late = self.open_id(depot="CB01")
        self.at("2027-08-10T10:00")
        early = self.open_id(depot="CB01")
        self.assertEqual(self.list_ids(depot="CB01", **{"from": "2027-08-15", "to": "2027-08-31"}), [late])
        got = self.list_ids(**{"from": "2027-08-15", "to": "2027-08-31", "limit": 1000})
        self.assertIn(late, got, "LIST from=2027-08-15 misses complaint %d opened 2027-08-20" % late)
        self.assertNotIn(early, got)

    # -- who may close --
    def test_operator_cannot_close_escalated(self):
        self.at("2027-01-13T10:00")
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        self.c("op1", "ESCALATE", cid, reason="needs approval", to="sup1")
        self.c("sup1", "PROPOSE", cid, text="refund")
        self.c("sup1", "ACCEPT", cid)
        before = self.get(cid)
        self.c("op1", "CLOSE", cid, expect=403,
               msg="complaint %d is at supervisor level: a supervisor or above closes it" % cid, **close_args())
        self.c("adj1", "CLOSE", cid, expect=403, **close_args())
        self.assertNothingWritten(cid, before)
        # another supervisor is of the level but not the owner
        self.c("sup2", "CLOSE", cid, expect=403, msg="complaint %d is owned by sup1" % cid, **close_args())
        # above the level may
        self.c("mgr1", "CLOSE", cid, msg="closed", **close_args())
        self.assertEqual(self.get(cid)["closed_by"], "mgr1")
        # a handler's complaint: only its owner (or higher) works it
        cid = self.open_id()
        self.c("op2", "ACK", cid, expect=403, msg="complaint %d is owned by op1" % cid)
        self.c("sup1", "ACK", cid, msg="acknowledged")

    # -- hand-over --
    def test_handover(self):
        self.at("2027-01-14T10:00")
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        r = self.c("op1", "HANDOVER", cid, msg="handed over to op2", to="op2", reason="my shift ends")
        self.assertEqual(r["owner"], "op2")
        g = self.get(cid)
        e = timeline(g)[-1]
        self.assertEqual((e["action"], e["who"]), ("handover", "op1"))
        self.assertIn("op1", e["text"])
        self.assertIn("op2", e["text"])
        self.assertEqual(e["text"], "from op1 to op2: my shift ends")
        self.assertEqual(e["changes"]["owner"], ("op1", "op2"))
        self.assertEqual(g["handovers"], "1")
        self.assertEqual(g["opened_by"], "op1")
        self.assertIn(cid, self.list_ids(owner="op2", limit=1000))
        self.assertNotIn(cid, self.list_ids(owner="op1", limit=1000))
        # the previous owner cannot work it any more
        self.c("op1", "NOTE", cid, expect=403, text="x", msg="complaint %d is owned by op2" % cid)
        before = self.get(cid)
        self.c("op2", "HANDOVER", cid, expect=409, to="op2", reason="x",
               msg="op2 already owns complaint %d" % cid)
        self.c("op2", "HANDOVER", cid, expect=404, to="ghost", reason="x", msg="no user 'ghost'")
        self.assertNothingWritten(cid, before)
        # up to a supervisor is fine (of the level or above)
        self.c("op2", "HANDOVER", cid, to="sup1", reason="customer asks for a supervisor")
        self.assertEqual(self.get(cid)["owner"], "sup1")
        # an escalated complaint cannot go to a handler
        cid2 = self.open_id(channel="consumer_association")
        self.c("sup1", "TAKE", cid2)
        self.c("sup1", "HANDOVER", cid2, expect=422, to="op1", reason="x",
               msg_re="^op1 is an? operator: a complaint at supervisor level needs a supervisor or above$")
        self.c("sup1", "HANDOVER", cid2, to="sup2", reason="holiday")
        self.assertEqual(timeline(self.get(cid2))[-1]["text"], "from sup1 to sup2: holiday")
        # a closed complaint is not handed over
        cid3 = self.open_id()
        for verb, kw in (("ACK", {}), ("PROPOSE", {"text": "x"}), ("ACCEPT", {}), ("CLOSE", close_args())):
            self.c("op1", verb, cid3, **kw)
        self.c("op1", "HANDOVER", cid3, expect=409, to="op2", reason="x", msg="complaint %d is closed" % cid3)

    # -- closing rules --
    def test_close_needs_everything(self):
        self.at("2027-01-15T10:00")
        cid = self.open_id()
        for verb, kw in (("ACK", {}), ("PROPOSE", {"text": "x"}), ("ACCEPT", {})):
            self.c("op1", verb, cid, **kw)
        before = self.get(cid)
        self.c("op1", "CLOSE", cid, expect=400, msg="missing argument 'cause'", **close_args(cause=None))
        self.c("op1", "CLOSE", cid, expect=400, msg="missing arguments 'feedback', 'stage'",
               **close_args(feedback=None, stage=None))
        self.c("op1", "CLOSE", cid, expect=400, msg="missing arguments 'feedback', 'responsible', 'stage', 'cause'",
               satisfaction=4)
        self.c("op1", "CLOSE", cid, expect=400,
               msg="missing arguments 'satisfaction', 'feedback', 'responsible', 'stage', 'cause'")
        for bad in (0, 6, 100):
            self.c("op1", "CLOSE", cid, expect=400, msg="argument 'satisfaction' must be from 1 to 5",
                   **close_args(satisfaction=bad))
        self.c("op1", "CLOSE", cid, expect=400, msg_re="stage", **close_args(stage="weather"))
        self.c("op1", "CLOSE", cid, expect=400, msg_re="satisfaction", **close_args(satisfaction="good"))
        self.assertNothingWritten(cid, before)
        self.c("op1", "CLOSE", cid, msg="closed", **close_args(satisfaction=1))
        # not from any other state
        cid = self.open_id()
        self.c("op1", "ACK", cid)
        self.c("op1", "CLOSE", cid, expect=409,
               msg="complaint %d is acknowledged at handler level: cannot become closed" % cid, **close_args())

    # -- reopen --
    def test_reopen_keeps_history(self):
        t0 = self.at("2027-01-18T10:00")
        cid = self.open_id()
        for verb, kw in (("ACK", {}), ("PROPOSE", {"text": "x"}), ("ACCEPT", {}),
                         ("CLOSE", close_args(satisfaction=5))):
            self.c("op1", verb, cid, **kw)
        closed = self.get(cid)
        n = len(timeline(closed))
        self.c("op1", "REOPEN", cid, expect=403, reason="x", msg="COMPLAINT REOPEN needs the supervisor role")
        t1 = self.at(t0 + 3 * DAY)
        r = self.c("sup1", "REOPEN", cid, msg="reopened", reason="parcel turned up broken")
        self.assertEqual((r["status"], r["owner"]), ("acknowledged", "sup1"))
        self.assertLessEqual(abs(parse_iso(r["resolve_by"]) - (t1 + RESOLVE_SECS)), 5)
        g = self.get(cid)
        tl = timeline(g)
        self.assertEqual(len(tl), n + 1)
        self.assertEqual([e["action"] for e in tl[:n]], [e["action"] for e in timeline(closed)])
        e = tl[-1]
        self.assertEqual((e["action"], e["who"], e["text"]), ("reopen", "sup1", "parcel turned up broken"))
        self.assertEqual(e["changes"]["status"], ("closed", "acknowledged"))
        self.assertEqual(e["changes"]["owner"], ("op1", "sup1"))
        self.assertEqual(g["reopens"], "1")
        self.assertEqual(g["opened_by"], "op1")
        self.assertEqual(g["acknowledged_at"], closed["acknowledged_at"])
        # exact, from the instant the daemon recorded the reopen (the clock
        # ticks on after self.at(t1): a slow machine reopens a second later)
        self.assertLessEqual(parse_iso(e["at"]) - t1, 5)
        self.assertEqual(parse_iso(g["close_by"]), parse_iso(e["at"]) + MAX_OPEN_SECS)
        self.c("sup1", "REOPEN", cid, expect=409, reason="again", msg="complaint %d is not closed" % cid)
        # and it closes again
        self.c("sup1", "PROPOSE", cid, text="replacement")
        self.c("sup1", "ACCEPT", cid)
        self.c("sup1", "CLOSE", cid, msg="closed", **close_args(satisfaction=3))
        g = self.get(cid)
        self.assertEqual((g["status"], g["satisfaction"], g["closed_by"]), ("closed", "3", "sup1"))

    # -- bad input: each its own error, nothing written --
    def test_bad_input_writes_nothing(self):
        self.at("2027-01-19T10:00")
        cid = self.open_id(depot="BAD1")
        all_before = self.snapshot_all()
        base = dict(customer_name="A", customer_phone="13900000009", text="t", depot="BAD1")
        cases = [
            (dict(base, channel="fax", category="delay"), 400,
             r"^argument 'channel' must be one of: phone, online, walk_in, regulator, consumer_association, "
             r"market_regulator, media$"),
            (dict(base, channel="phone", category="weather"), 400, r"^argument 'category' must be one of: delay, loss, "),
            (dict(base, channel="walk-in", category="delay"), 400, r"channel"),
            (dict(base, category="delay"), 400, r"missing argument 'channel'"),
            (dict(base, channel="phone"), 400, r"missing argument 'category'"),
            ({k: v for k, v in dict(base, channel="phone", category="delay").items() if k != "depot"}, 400,
             r"^missing argument 'depot' \(no waybill to take it from\)$"),
            (dict(base, channel="phone", category="delay", customer_phone="call me"), 400, r"customer_phone"),
            (dict(base, channel="phone", category="delay", waybill="9999999999"), 404, r"9999999999"),
            (dict(base, channel="phone", category="delay", regulator_deadline="2027-01-01T00:00:00+08:00"),
             422, r"^regulator_deadline is already past$"),
            (dict(base, channel="phone", category="delay", service_level="gold"), 400, r"service_level"),
        ]
        for kw, code, pat in cases:
            r = self.u("op1").cmd(line("COMPLAINT", "OPEN", **kw))
            self.assertReply(r, code, msg_re=pat)
        self.assertEqual(self.snapshot_all(), all_before)

        # an id that does not exist
        for verb, kw in (("GET", {}), ("ACK", {}), ("NOTE", {"text": "x"}), ("ESCALATE", {"reason": "x"}),
                         ("CLOSE", close_args()), ("TAKE", {}), ("HANDOVER", {"to": "op2", "reason": "x"}),
                         ("WAIT", {"for": "customer", "reason": "x"}), ("RESUME", {}),
                         ("PROPOSE", {"text": "x"}), ("ACCEPT", {}), ("REFUSE", {})):
            user = "sup1" if verb == "TAKE" else "op1"
            self.c(user, verb, 999999, expect=404, msg="no complaint 999999", **kw)
        self.c("sup1", "REOPEN", 999999, expect=404, msg="no complaint 999999", reason="x")
        self.assertEqual(self.snapshot_all(), all_before)

        # wrong states, one by one, each writing nothing
        before = self.get(cid)
        self.c("op1", "PROPOSE", cid, expect=409, text="x",
               msg="acknowledge complaint %d first: the customer must have been contacted" % cid)
        self.c("op1", "ACCEPT", cid, expect=409, msg="complaint %d is open at handler level: cannot become accepted"
               % cid)
        self.c("op1", "RESUME", cid, expect=409, msg="complaint %d is not waiting" % cid)
        self.c("op1", "OUTCOME", cid, expect=409, outcome="x")
        self.c("op1", "WAIT", cid, expect=400, msg_re="for", **{"for": "weather", "reason": "x"})
        self.assertNothingWritten(cid, before)
        self.c("op1", "ACK", cid)
        before = self.get(cid)
        self.c("op1", "ACK", cid, expect=409, msg="complaint %d is already acknowledged" % cid)
        self.assertNothingWritten(cid, before)
        self.c("op1", "WAIT", cid, **{"for": "documents", "reason": "invoice"})
        before = self.get(cid)
        self.c("op1", "WAIT", cid, expect=409, msg="complaint %d already waits for the documents" % cid,
               **{"for": "customer", "reason": "x"})
        self.assertNothingWritten(cid, before)
        self.c("op1", "RESUME", cid)
        for verb, kw in (("PROPOSE", {"text": "x"}), ("ACCEPT", {}), ("CLOSE", close_args())):
            self.c("op1", verb, cid, **kw)
        # escalating a closed complaint
        before = self.get(cid)
        self.c("op1", "ESCALATE", cid, expect=409, reason="too late",
               msg="complaint %d is closed at handler level: it cannot go higher" % cid)
        self.c("op1", "FLAG", cid, expect=409, media_threat="yes", msg="complaint %d is closed" % cid)
        self.c("op1", "CLOSE", cid, expect=409, **close_args())
        self.c("op1", "NOTE", cid, text="after close")  # a note is always welcome
        after = self.get(cid)
        self.assertEqual(len(timeline(after)), len(timeline(before)) + 1)
        # lists
        for kw in ({"limit": 0}, {"limit": 1001}, {"status": "lost"}, {"queue": "boss"}, {"from": "2027-02-30"},
                   {"overdue": "maybe"}):
            self.assertReply(self.u("op1").cmd(line("COMPLAINT", "LIST", **kw)), 400)
        # statistics arguments
        for kw, pat in (({"month": "2027-01", "from": "2027-01-01", "to": "2027-01-02"},
                         "give month, or from and to, not both"),
                        ({"from": "2027-01-01"}, "give both from and to"),
                        ({"from": "2027-01-02", "to": "2027-01-01"}, "'to' is before 'from'"),
                        ({"month": "2027-13"}, None)):
            r = self.u("op1").cmd(line("COMPLAINT", "STATS", **kw))
            self.assertReply(r, 400, pat)

    def test_roles_before_auth(self):
        c = self.text()
        self.assertReply(c.cmd("COMPLAINT GET 1"), 401)
        self.assertReply(c.cmd(line("COMPLAINT", "OPEN", channel="phone", category="delay", depot="SH01",
                                    customer_name="a", customer_phone="13900000000", text="t")), 401)

    def test_idempotent_open(self):
        self.at("2027-01-20T10:00")
        kw = dict(channel="phone", category="loss", depot="IDP1", customer_name="Z", customer_phone="13900000077",
                  text="lost", req="open-once-1")
        r1 = self.u("op1").cmd(line("COMPLAINT", "OPEN", **kw))
        r2 = self.u("op1").cmd(line("COMPLAINT", "OPEN", **kw))
        self.assertReply(r1, 201)
        self.assertEqual((r2.code, r2.msg, r2.rec), (r1.code, r1.msg, r1.rec))
        self.assertEqual(self.list_ids(depot="IDP1"), [int(r1["id"])])


class ComplaintLongerCeiling(ComplaintCase):
    """The escalation chain and the 30-day ceiling, with the legal ceiling
    configured longer (complaint_legal_max_days 30) so that it does not
    bind: what a depot gets when its rules allow more than 7 days. The
    default is ComplaintLegalCeiling's."""

    daemon_args = ("--complaint-legal-max-days", "30")

    # -- overdue, by the daemon's own timer --
    def test_overdue_escalates_by_itself(self):
        self.at("2027-02-01T10:00")
        cid = self.open_id(depot="OV01")
        g = self.get(cid)
        opened = parse_iso(g["opened_at"])
        ack_by, resolve_by = opened + ACK_SECS, opened + RESOLVE_SECS
        self.assertEqual(parse_iso(g["acknowledge_by"]), ack_by)
        # just before the acknowledge-by time: nothing
        self.at(ack_by - MIN)
        time.sleep(1.2)
        g = self.get(cid)
        self.assertNotEqual(g.get("acknowledge_breached"), "yes")
        self.assertEqual(g["overdue"], "no")
        self.assertNotIn(cid, self.list_ids(overdue="yes", limit=1000))
        # a minute after: marked by the daemon itself (no SWEEP from us)
        self.at(ack_by + MIN)
        g = self.poll(cid, lambda r: r.get("acknowledge_breached") == "yes", what="acknowledge breach")
        self.assertEqual(g["overdue"], "yes")
        self.assertEqual((g["status"], g["level"]), ("open", "handler"))  # not escalated for that
        self.assertEqual(g["clocks.acknowledge.state"], "breached")
        self.assertEqual(g["ever_overdue"], "yes")
        e = timeline(g)[-1]
        self.assertEqual((e["action"], e["who"]), ("acknowledge_breached", "parceldeskd"))
        self.assertEqual(e["changes"]["acknowledge_breached"], ("", "yes"))
        self.assertIn(cid, self.list_ids(overdue="yes", limit=1000))
        self.assertIn(cid, self.list_ids(overdue="yes", depot="OV01"))
        self.c("op1", "ACK", cid)
        g = self.get(cid)
        self.assertEqual(g["clocks.acknowledge.state"], "met_late")
        self.assertEqual(g["overdue"], "no")
        self.assertNotIn(cid, self.list_ids(overdue="yes", limit=1000))

        # the resolve-by time passes: handler -> supervisor
        self.at(resolve_by - MIN)
        time.sleep(1.2)
        self.assertEqual(self.get(cid)["level"], "handler")
        t1 = self.at(resolve_by + MIN)
        g = self.poll(cid, lambda r: r["level"] == "supervisor", what="overdue escalation to supervisor")
        self.assertEqual((g["status"], g["owner"], g["last_triggers"]), ("escalated", "", "overdue"))
        e = timeline(g)[-1]
        self.assertEqual((e["action"], e["who"]), ("escalate", "parceldeskd"))
        self.assertEqual(e["changes"]["level"], ("handler", "supervisor"))
        self.assertEqual(e["changes"]["last_triggers"], ("", "overdue"))
        new_resolve = parse_iso(g["resolve_by"])
        self.assertLessEqual(abs(new_resolve - (t1 + ESCALATED_SECS)), 5)
        self.assertEqual(g["overdue"], "no")
        self.assertIn(cid, self.list_ids(queue="supervisor", limit=1000))
        self.assertIn(cid, self.list_ids(escalated="yes", limit=1000))
        # SWEEP as admin finds nothing more to do now
        r = self.assertReply(self.u("admin").cmd("SWEEP"), 200)
        self.assertEqual(r["more"], "no")
        self.assertReply(self.u("op1").cmd("SWEEP"), 403, "SWEEP needs the admin role")

        # supervisor -> manager
        t2 = self.at(new_resolve + MIN)
        g = self.poll(cid, lambda r: r["level"] == "manager", what="overdue escalation to manager")
        self.assertEqual(g["last_triggers"], "overdue")
        resolve3 = parse_iso(g["resolve_by"])
        self.assertLessEqual(abs(resolve3 - (t2 + ESCALATED_SECS)), 5)
        # at manager level: marked breached, not escalated, and listed overdue
        self.at(resolve3 + MIN)
        g = self.poll(cid, lambda r: r.get("resolve_breached") == "yes", what="resolve breach at manager level")
        self.assertEqual((g["level"], g["status"]), ("manager", "escalated"))
        self.assertEqual(g["overdue"], "yes")
        self.assertEqual(g["clocks.resolve.state"], "breached")
        self.assertLess(int(g["clocks.resolve.left_secs"]), 0)
        self.assertEqual(timeline(g)[-1]["action"], "resolve_breached")
        self.assertIn(cid, self.list_ids(overdue="yes", limit=1000))
        # the 30-day ceiling caps every later due time
        self.assertLessEqual(resolve3, opened + MAX_OPEN_SECS)
        self.assertEqual(parse_iso(g["close_by"]), opened + MAX_OPEN_SECS)

    def test_ceiling_caps_due_times(self):
        """A long pause, or an escalation late in the life of a complaint,
        never moves resolve-by past the 30-day ceiling."""
        self.at("2027-02-10T10:00")
        cid = self.open_id()
        opened = parse_iso(self.get(cid)["opened_at"])
        self.c("op1", "ACK", cid)
        self.at(opened + HOUR)
        self.c("op1", "WAIT", cid, **{"for": "customer", "reason": "waiting for photos"})
        # paused: the resolve-by time passes without an escalation
        self.at(opened + 29 * DAY)
        self.sweep()
        g = self.get(cid)
        self.assertEqual((g["level"], g["overdue"], g["clocks.resolve.state"]), ("handler", "no", "paused"))
        self.assertEqual(g["waiting_for"], "customer")
        self.c("op1", "RESUME", cid)
        g = self.get(cid)
        self.assertEqual(parse_iso(g["resolve_by"]), opened + MAX_OPEN_SECS)
        self.c("op1", "ESCALATE", cid, reason="late")
        g = self.get(cid)
        self.assertEqual(parse_iso(g["resolve_by"]), opened + MAX_OPEN_SECS)
        self.assertEqual(parse_iso(g["close_by"]), opened + MAX_OPEN_SECS)


class ComplaintLegalCeiling(ComplaintCase):
    """complaint_legal_max_days (7): the customer hears the outcome within 7
    calendar days of receipt; no resolve-by passes it (escalation, pause and
    resume alike), and a breach is shown, paused or not."""

    def test_overdue_at_day_7_escalates_once_and_shows_the_breach(self):
        self.at("2027-02-01T10:00")
        cid = self.open_id(depot="LG01")
        g = self.get(cid)
        opened = parse_iso(g["opened_at"])
        self.assertEqual(parse_iso(g["legal_by"]), opened + 7 * DAY)
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)
        self.assertEqual(g["clocks.legal.state"], "running")
        self.c("op1", "ACK", cid)
        self.at(opened + 7 * DAY + MIN)
        g = self.poll(cid, lambda r: r["level"] == "supervisor", what="overdue escalation at day 7")
        self.assertEqual(g["last_triggers"], "overdue")
        # the supervisor gets no time beyond the law's: the breach is shown,
        # not escalated again to the manager
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)
        self.assertEqual((g["resolve_breached"], g["overdue"], g["ever_overdue"]), ("yes", "yes", "yes"))
        self.assertEqual(g["clocks.legal.state"], "breached")
        self.sweep()
        time.sleep(1.2)
        self.assertEqual(self.get(cid)["level"], "supervisor")
        self.assertIn(cid, self.list_ids(overdue="yes", limit=1000))

    def test_escalation_never_passes_the_ceiling(self):
        self.at("2027-02-03T10:00")
        cid = self.open_id()
        opened = parse_iso(self.get(cid)["opened_at"])
        # an hour before the 24 h acknowledge clock runs out: at the exact
        # second, the test clock's running on made it overdue a second later
        self.at(opened + DAY - HOUR)
        self.c("op1", "ESCALATE", cid, reason="needs a supervisor")
        g = self.get(cid)
        # 7 days from the escalation would be nearly day 8
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)
        self.assertEqual(g["overdue"], "no")

    def test_waiting_for_the_customer_does_not_stop_the_law(self):
        self.at("2027-02-05T10:00")
        cid = self.open_id()
        opened = parse_iso(self.get(cid)["opened_at"])
        self.c("op1", "ACK", cid)
        self.at(opened + HOUR)
        self.c("op1", "WAIT", cid, **{"for": "customer", "reason": "waiting for photos"})
        # six days paused: not late
        self.at(opened + 6 * DAY)
        self.sweep()
        g = self.get(cid)
        self.assertEqual((g["overdue"], g["clocks.resolve.state"], g["clocks.legal.state"]),
                         ("no", "paused", "running"))
        # past day 7, still waiting: breached, with what we were waiting for
        self.at(opened + 7 * DAY + MIN)
        g = self.poll(cid, lambda r: r.get("resolve_breached") == "yes", what="legal breach while waiting")
        self.assertEqual((g["level"], g["waiting_for"], g["breached_waiting_for"]), ("handler", "customer", "customer"))
        self.assertEqual((g["overdue"], g["ever_overdue"], g["clocks.legal.state"]), ("yes", "yes", "breached"))
        e = timeline(g)[-1]
        self.assertEqual((e["action"], e["who"]), ("legal_ceiling_breached", "parceldeskd"))
        self.assertIn(cid, self.list_ids(overdue="yes", limit=1000))
        # resuming gives no time beyond the ceiling
        self.c("op1", "RESUME", cid)
        g = self.get(cid)
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)
        self.assertEqual((g["overdue"], g["resolve_breached"]), ("yes", "yes"))

# -------------------------------------------------------------- lists ----

class ComplaintLists(ComplaintCase):
    """Every list filter against a known set of complaints (this class has
    its own daemon, so the set is complete)."""

    @classmethod
    def class_setup(cls):
        super().class_setup()
        cls.made = []     # dicts: id, owner, depot, category, phone, waybill, day, status, level, ...

    def setUp(self):
        super().setUp()
        if not self.made:
            self.build()

    def build(self):
        rnd = random.Random(7)
        made = self.made
        numbers = []
        t = self.at("2027-06-01T09:00")
        for _ in range(3):
            numbers.append(self.create(self.u("op1"), promised_at=t + 3 * DAY))
        phones = ["13911110001", "13911110002", "13911110003"]
        # five days, a few complaints a day
        for day in range(5):
            base = ts("2027-06-0%dT09:00" % (day + 1))
            for k in range(6):
                self.at(base + k * 37 * MIN)
                owner = rnd.choice(["op1", "op2", "adj1"])
                depot = rnd.choice(["L1", "L2", "L3"])
                category = rnd.choice(["delay", "loss", "damage"])
                phone = rnd.choice(phones)
                kw = dict(category=category, customer_phone=phone)
                waybill = None
                if rnd.random() < 0.25:
                    waybill = rnd.choice(numbers)
                    kw["waybill"] = waybill
                    depot = "BJ02"
                else:
                    kw["depot"] = depot
                channel = ("consumer_association" if rnd.random() < 0.12
                           else rnd.choice(["phone", "online", "walk_in"]))
                r = self.open(user=owner, channel=channel, **kw)
                rec = dict(id=int(r["id"]), owner=r["owner"], depot=depot, category=category, phone=phone,
                           waybill=waybill, day="2027-06-0%d" % (day + 1), status=r["status"], level=r["level"],
                           opener=owner)
                fate = rnd.random()
                if rec["status"] == "escalated":
                    if fate < 0.5:
                        self.c("sup1", "TAKE", rec["id"])
                        rec["owner"] = "sup1"
                elif fate < 0.3:
                    pass                                        # left open
                elif fate < 0.6:
                    self.c(owner, "ACK", rec["id"])
                    rec["status"] = "acknowledged"
                elif fate < 0.8:
                    for verb, a in (("ACK", {}), ("PROPOSE", {"text": "x"}), ("ACCEPT", {}),
                                    ("CLOSE", close_args())):
                        self.c(owner, verb, rec["id"], **a)
                    rec["status"] = "closed"
                else:
                    other = "op2" if owner != "op2" else "op1"
                    self.c(owner, "HANDOVER", rec["id"], to=other, reason="shift")
                    rec["owner"] = other
                made.append(rec)
        # now: 2027-06-05 18:00: complaints opened before 06-04 18:00 and
        # never acknowledged are past their acknowledge-by time
        self.at("2027-06-05T18:00")
        self.sweep()
        self.now_ts = ts("2027-06-05T18:00")
        for rec in made:
            g = self.get(rec["id"])
            rec["opened_at"] = parse_iso(g["opened_at"])
            rec["overdue_due"] = parse_iso(g["acknowledge_by"]) if not g.get("acknowledged_at") else \
                parse_iso(g["resolve_by"])
            rec["overdue"] = rec["status"] not in ("closed", "accepted") and rec["overdue_due"] < self.now()
            self.assertEqual(g["overdue"], "yes" if rec["overdue"] else "no", rec)
            self.assertEqual(g["status"], rec["status"])
            self.assertEqual(g["owner"], rec["owner"])

    def expect(self, pred):
        return sorted((r["id"] for r in self.made if pred(r)), reverse=True)

    def test_filters(self):
        made = self.made
        self.assertGreaterEqual(len(made), 30)
        everything = self.expect(lambda r: True)
        self.assertEqual(self.list_ids(limit=1000), everything)
        for owner in ("op1", "op2", "adj1", "sup1"):
            self.assertEqual(self.list_ids(owner=owner, limit=1000), self.expect(lambda r: r["owner"] == owner), owner)
        self.assertEqual(self.list_ids(queue="supervisor", limit=1000),
                         self.expect(lambda r: r["owner"] == "" and r["level"] == "supervisor"))
        self.assertEqual(self.list_ids(queue="manager", limit=1000), [])
        for st in ("open", "acknowledged", "closed", "escalated"):
            self.assertEqual(self.list_ids(status=st, limit=1000), self.expect(lambda r: r["status"] == st), st)
        for depot in ("L1", "L2", "L3", "BJ02"):
            self.assertEqual(self.list_ids(depot=depot, limit=1000), self.expect(lambda r: r["depot"] == depot),
                             depot)
        for cat in ("delay", "loss", "damage"):
            self.assertEqual(self.list_ids(category=cat, limit=1000), self.expect(lambda r: r["category"] == cat))
        self.assertEqual(self.list_ids(escalated="yes", limit=1000),
                         self.expect(lambda r: r["level"] != "handler"))
        self.assertEqual(self.list_ids(escalated="no", limit=1000),
                         self.expect(lambda r: r["level"] == "handler"))
        for phone in ("13911110001", "13911110002"):
            self.assertEqual(self.list_ids(phone=phone, limit=1000), self.expect(lambda r: r["phone"] == phone))
        wbs = {r["waybill"] for r in made if r["waybill"]}
        self.assertTrue(wbs)
        for wb in wbs:
            self.assertEqual(self.list_ids(waybill=wb, limit=1000), self.expect(lambda r: r["waybill"] == wb))
        self.assertEqual(self.list_ids(overdue="no", limit=1000), self.expect(lambda r: not r["overdue"]))
        # combinations
        self.assertEqual(self.list_ids(depot="L1", category="delay", limit=1000),
                         self.expect(lambda r: r["depot"] == "L1" and r["category"] == "delay"))
        self.assertEqual(self.list_ids(owner="op1", status="acknowledged", limit=1000),
                         self.expect(lambda r: r["owner"] == "op1" and r["status"] == "acknowledged"))
        self.assertEqual(self.list_ids(overdue="yes", depot="L2", limit=1000),
                         self.expect(lambda r: r["overdue"] and r["depot"] == "L2"))
        self.assertEqual(self.list_ids(phone="13911110003", status="open", limit=1000),
                         self.expect(lambda r: r["phone"] == "13911110003" and r["status"] == "open"))

    def test_overdue_most_overdue_first(self):
        want = [r["id"] for r in sorted((r for r in self.made if r["overdue"]),
                                        key=lambda r: (r["overdue_due"], r["id"]))]
        self.assertTrue(want)
        got = self.list_ids(overdue="yes", limit=1000)
        self.assertEqual(sorted(got), sorted(want))
        dues = {r["id"]: r["overdue_due"] for r in self.made}
        self.assertEqual([dues[i] for i in got], sorted(dues[i] for i in got))
        rows = self.u("op1").cmd(line("COMPLAINT", "LIST", overdue="yes", limit=1000)).records
        self.assertTrue(all(x["overdue"] == "yes" for x in rows))
        self.assertEqual(self.list_ids(overdue="yes", limit=2), got[:2])

    def test_overdue_list_pages(self):
        """The overdue list pages like every list (before=ID): the pages
        neither repeat nor lose a complaint."""
        full = self.list_ids(overdue="yes", limit=1000)
        self.assertGreaterEqual(len(full), 4)
        got, before = [], None
        for _ in range(len(full) + 2):
            page = self.list_ids(overdue="yes", limit=2, before=before)
            if not page:
                break
            got += page
            before = page[-1]
        self.assertEqual(sorted(got), sorted(full), "paging overdue=yes with before= repeats or loses complaints")
        self.assertEqual(len(got), len(set(got)))

    def test_dates(self):
        for frm, to in (("2027-06-02", "2027-06-03"), ("2027-06-01", "2027-06-01"), ("2027-06-05", "2027-06-30"),
                        ("2027-05-01", "2027-05-31")):
            self.assertEqual(self.list_ids(**{"from": frm, "to": to, "limit": 1000}),
                             self.expect(lambda r: frm <= r["day"] <= to), (frm, to))
        self.assertEqual(self.list_ids(**{"from": "2027-06-04", "limit": 1000}),
                         self.expect(lambda r: r["day"] >= "2027-06-04"))
        self.assertEqual(self.list_ids(to="2027-06-02", limit=1000), self.expect(lambda r: r["day"] <= "2027-06-02"))
        self.assertEqual(self.list_ids(**{"from": "2027-06-02", "to": "2027-06-04", "depot": "L3", "limit": 1000}),
                         self.expect(lambda r: "2027-06-02" <= r["day"] <= "2027-06-04" and r["depot"] == "L3"))

    def test_paging(self):
        everything = self.expect(lambda r: True)
        pages, before = [], None
        while True:
            page = self.list_ids(limit=7, before=before)
            if not page:
                break
            self.assertLessEqual(len(page), 7)
            pages.append(page)
            before = page[-1]
        self.assertEqual([i for p in pages for i in p], everything)
        # paging inside a filter
        want = self.expect(lambda r: r["depot"] == "L1")
        got, before = [], None
        while True:
            page = self.list_ids(depot="L1", limit=2, before=before)
            if not page:
                break
            got += page
            before = page[-1]
        self.assertEqual(got, want)
        # default limit 50
        self.assertEqual(len(self.list_ids()), min(50, len(everything)))

    def test_row_fields(self):
        rec = next(r for r in self.made if r["waybill"])
        rows = self.u("op1").cmd(line("COMPLAINT", "LIST", waybill=rec["waybill"], limit=1000)).records
        row = next(x for x in rows if int(x["id"]) == rec["id"])
        self.assertEqual(set(row), {"id", "status", "level", "owner", "channel", "category", "depot", "waybill",
                                    "customer_name", "opened_at", "resolve_by", "overdue", "appeal_risk"})
        g = self.get(rec["id"])
        for k in ("status", "level", "owner", "channel", "category", "depot", "waybill", "customer_name",
                  "opened_at", "resolve_by"):
            self.assertEqual(row[k], g[k], k)


# ------------------------------------------------------------ restart ----

class ComplaintRestart(ComplaintCase):
    start_daemon = True

    def test_restart_keeps_due_times_and_state(self):
        d = self.daemon
        t0 = self.at("2027-07-05T10:00")
        ids = {}
        ids["open"] = self.open_id()
        ids["acked"] = self.open_id()
        self.c("op1", "ACK", ids["acked"])
        ids["queue"] = self.open_id(channel="regulator")
        ids["taken"] = self.open_id(channel="consumer_association")
        self.c("sup1", "TAKE", ids["taken"])
        ids["waiting"] = self.open_id()
        self.c("op1", "ACK", ids["waiting"])
        self.c("op1", "WAIT", ids["waiting"], **{"for": "partner", "reason": "asked the sub-carrier"})
        ids["proposed"] = self.open_id()
        self.c("op1", "ACK", ids["proposed"])
        self.c("op1", "PROPOSE", ids["proposed"], text="refund", amount_fen=500)
        ids["closed"] = self.open_id()
        for verb, kw in (("ACK", {}), ("PROPOSE", {"text": "x"}), ("ACCEPT", {}), ("CLOSE", close_args())):
            self.c("op1", verb, ids["closed"], **kw)
        ids["handed"] = self.open_id()
        self.c("op1", "HANDOVER", ids["handed"], to="op2", reason="shift")
        # a day and a half later: the unacknowledged ones are breached
        t1 = self.at(t0 + 36 * HOUR)
        self.sweep()
        self.assertEqual(self.get(ids["open"])["acknowledge_breached"], "yes")
        before = {k: self.get(v) for k, v in ids.items()}
        stats_before = self.m("op1").call("COMPLAINT", "STATS", month="2027-07")["data"]

        for c in self._clients:
            c.close()
        self._clients, self._users = [], {}
        d.stop()
        d.restart()
        # the clock starts again at the real time, before every due time
        # here: nothing was swept at start
        self.at(t1)
        after = {k: self.get(v) for k, v in ids.items()}
        for k in ids:
            self.assertEqual(stable(after[k]), stable(before[k]), k)
        self.assertEqual(self.m("op1").call("COMPLAINT", "STATS", month="2027-07")["data"], stats_before)

        # the daemon still wakes up by itself at each due time
        acked = before["acked"]
        resolve_by = parse_iso(acked["resolve_by"])
        self.at(resolve_by + MIN)
        g = self.poll(ids["acked"], lambda r: r["level"] == "supervisor", what="overdue escalation after restart")
        self.assertEqual(g["last_triggers"], "overdue")
        g = self.poll(ids["handed"], lambda r: r["level"] == "supervisor", what="overdue escalation after restart")
        # the waiting one does not move while paused
        self.assertEqual(self.get(ids["waiting"])["level"], "handler")
        # accepted / closed ones have no running clocks
        self.assertEqual(self.get(ids["closed"])["level"], "handler")
        r = self.c("op1", "RESUME", ids["waiting"])
        self.assertRegex(r.msg, r"^resumed after \d+ calendar second\(s\) paused$")
        g = self.get(ids["waiting"])
        paused = int(g["paused_secs"])
        self.assertLessEqual(abs(paused - (resolve_by + MIN - parse_iso(before["waiting"]["paused_at"]))), 5)
        # moved by the pause, but never past the law's 7 days (legal_by, stored before the restart)
        self.assertEqual(parse_iso(g["resolve_by"]), min(parse_iso(before["waiting"]["resolve_by"]) + paused,
                                                         parse_iso(before["waiting"]["legal_by"])))


# --------------------------------------------------------- statistics ----

class Plan:
    """One generated complaint: its opening and its planned actions."""

    def __init__(self, idx, opened, channel, category, depot, opener, fate):
        self.idx = idx
        self.opened = opened
        self.channel = channel
        self.category = category
        self.depot = depot
        self.opener = opener
        self.fate = fate
        self.several = False
        self.events = []           # [time, user, verb, named args]
        self.id = None
        # outcome by the model
        self.closed = False
        self.satisfaction = None
        self.stage = None
        self.responsible = None


class ComplaintStats(ComplaintCase):
    """~150 complaints through the wire with varied channels, categories,
    depots and fates, the clock set before every action; COMPLAINT STATS
    must equal the figures computed here from the records. The plans walk
    escalation chains of 7 days a level, one level at a time, so the legal
    ceiling is set longer (complaint_legal_max_days 30) and the media go one
    level up like the other outside bodies (complaint_media_level
    supervisor); ComplaintLegalCeiling and test_outside_channels_escalate_at_open
    test the defaults."""

    daemon_args = ("--complaint-legal-max-days", "30", "--complaint-media-level", "supervisor")
    N = 150
    SEED = 20270401
    FINAL = ts("2027-05-14T12:00")

    def setUp(self):
        super().setUp()
        self.final = self.FINAL

    # ---- the plan ----
    def make_plans(self):
        rnd = random.Random(self.SEED)
        plans = []
        start = ts("2027-03-27T00:00")
        span_min = (ts("2027-05-04T00:00") - start) // MIN
        openers = ("op1", "op2", "adj1")
        depots = ("SH01", "BJ02", "GZ03", "CD04", "WH05")
        fates = (["A"] * 46 + ["B"] * 10 + ["C"] * 8 + ["C2"] * 3 + ["D"] * 6 + ["E1"] * 5 + ["E2"] * 4 +
                 ["F1"] * 6 + ["F2"] * 4 + ["G1"] * 3 + ["G2"] * 2 + ["H"] * 5 + ["I"] * 5)
        # opening days around the month ends in Shanghai time (UTC is the
        # previous day there)
        fixed = [ts("2027-03-31T23:50"), ts("2027-04-01T00:10"), ts("2027-04-30T23:50"),
                 ts("2027-05-01T00:10"), ts("2027-04-15T07:30")]
        for i in range(self.N):
            if i < len(fixed):
                opened = fixed[i]
            else:
                opened = start + rnd.randrange(span_min) * MIN
            fate = rnd.choice(fates)
            channel = rnd.choice(OUTSIDE_CHANNELS) if fate == "C" else rnd.choice(("phone", "online", "walk_in"))
            p = Plan(i, opened, channel, rnd.choice(CATEGORIES), rnd.choice(depots), rnd.choice(openers), fate)
            p.several = fate == "C2"
            self.plan_events(p, rnd)
            plans.append(p)
        # a few opened after the period, still within their time at the end
        for j in range(4):
            opened = self.FINAL - (2 + j) * HOUR
            p = Plan(self.N + j, opened, "phone", rnd.choice(CATEGORIES), rnd.choice(depots), "op1", "F1")
            plans.append(p)
        return plans

    def plan_events(self, p, rnd):
        o, owner = p.opened, p.opener
        ev = p.events

        def m(lo, hi):
            return rnd.randrange(lo, hi) * MIN

        def close_named():
            p.satisfaction = rnd.randint(1, 5)
            p.stage = rnd.choice(STAGES)
            p.responsible = rnd.choice(("SH01", "BJ02", "GZ03", "cs_dept", "linehaul"))
            return dict(satisfaction=p.satisfaction, feedback="feedback %d" % p.idx, responsible=p.responsible,
                        stage=p.stage, cause="cause %d" % p.idx)

        def work(t, who, propose_amount=None):
            """propose, accept, close by who from t (before 6.5 days)."""
            t += m(10, 600)
            ev.append([t, who, "PROPOSE", dict(text="solution", amount_fen=propose_amount)])
            t += m(10, 900)
            ev.append([t, who, "ACCEPT", {}])
            t += m(5, 300)
            ev.append([t, who, "CLOSE", close_named()])
            p.closed = True
            return t

        f = p.fate
        if f in ("A", "B", "G1", "G2", "H"):
            t = o + (m(26 * 60, 40 * 60) if f == "B" else m(10, 20 * 60))
            ev.append([t, owner, "ACK", {}])
            if f == "H":
                other = "op2" if owner != "op2" else "op1"
                t += m(10, 240)
                ev.append([t, owner, "HANDOVER", dict(to=other, reason="shift ends")])
                owner = other
            t = work(t, owner)
            if f in ("G1", "G2"):
                t += m(60, 24 * 60)
                ev.append([t, "sup1", "REOPEN", dict(reason="came back")])
                p.closed = False
                if f == "G1":
                    work(t, "sup1")
        elif f in ("C", "C2"):
            t = o + m(5, 180)
            ev.append([t, "sup1", "TAKE", {}])
            t += m(5, 600)
            ev.append([t, "sup1", "ACK", {}])
            work(t, "sup1")
        elif f == "D":
            t = o + m(10, 20 * 60)
            ev.append([t, owner, "ACK", {}])
            t += m(10, 600)
            ev.append([t, owner, "PROPOSE", dict(text="big refund", amount_fen=150000)])
            t += m(10, 600)
            ev.append([t, "sup1", "TAKE", {}])
            work(t, "sup1", propose_amount=150000)
        elif f in ("E1", "E2"):
            t = o + m(10, 20 * 60)
            ev.append([t, owner, "ACK", {}])
            t += m(10, 600)
            ev.append([t, owner, "PROPOSE", dict(text="coupon")])
            t += m(10, 600)
            ev.append([t, owner, "REFUSE", {}])
            t += m(10, 600)
            ev.append([t, "sup1", "TAKE", {}])
            if f == "E1":
                work(t, "sup1")
            else:
                t += m(10, 600)
                ev.append([t, "sup1", "PROPOSE", dict(text="cash")])
                t += m(10, 600)
                ev.append([t, "sup1", "REFUSE", {}])
        elif f == "F2":
            ev.append([o + m(10, 20 * 60), owner, "ACK", {}])
        elif f == "I":
            t = o + m(10, 20 * 60)
            ev.append([t, owner, "ACK", {}])
            t += m(10, 24 * 60)
            ev.append([t, owner, "ESCALATE", dict(reason="customer is important")])
            t += m(10, 600)
            ev.append([t, "sup1", "TAKE", {}])
            work(t, "sup1")
        # F1: nothing after opening

    # ---- the model (PROTOCOL.md's rules, calendar time) ----
    def simulate(self, plans):
        """Runs the plan through the rules; returns per-plan expectations and
        the list of (event time, due time) pairs closer than MARGIN seconds,
        where the outcome would depend on the test's own speed."""
        MARGIN = 30
        stopped = ("accepted", "external_review", "closed")
        st = {}
        conflicts = []
        timeline_ = sorted([(p.opened, 0, p.idx, "OPEN", p.opener, {}) for p in plans] +
                           [(e[0], k + 1, p.idx, e[2], e[1], e[3]) for p in plans for k, e in enumerate(p.events)] +
                           [(self.final, 99, -1, "FINAL", None, {})])

        def escalate(s, t, overdue=False):
            s["ever_esc"] = True
            if overdue:
                s["ever_over"] = True
            s["level"] += 1
            s["status"] = "escalated"
            s["owner"] = ""
            s["resolve_by"] = min(t + ESCALATED_SECS, s["close_by"], s["regulator_by"])
            s["resolve_breached"] = False

        for (t, _, idx, verb, user, named) in timeline_:
            # the sweep at t (the test calls SWEEP after every CLOCK SET)
            for s in st.values():
                if s["status"] in stopped:
                    continue
                if not s["acked"] and not s["ack_breached"]:
                    if abs(t - s["ack_by"]) < MARGIN:
                        conflicts.append((t, s["ack_by"]))
                    if t >= s["ack_by"]:
                        s["ack_breached"] = True
                        s["ever_over"] = True
                if not s["resolve_breached"]:
                    if abs(t - s["resolve_by"]) < MARGIN:
                        conflicts.append((t, s["resolve_by"]))
                    if t > s["resolve_by"]:
                        if s["level"] < 2:
                            escalate(s, t, overdue=True)
                        else:
                            s["resolve_breached"] = True
                            s["ever_over"] = True
            if verb == "FINAL":
                continue
            if verb == "OPEN":
                p = plans[idx]
                s = dict(level=0, status="open", owner=p.opener, acked=False, ack_breached=False,
                         resolve_breached=False, ever_esc=False, ever_over=False, ack_by=t + ACK_SECS,
                         resolve_by=t + RESOLVE_SECS, close_by=t + MAX_OPEN_SECS, closed=False, ok=True,
                         regulator_by=t + 7 * DAY if p.channel == "regulator" else t + 10 * MAX_OPEN_SECS)
                st[idx] = s
                if p.channel in OUTSIDE_CHANNELS or p.several:
                    escalate(s, t)
                continue
            s = st[idx]
            if s["status"] in ("closed",) and verb not in ("REOPEN",):
                s["ok"] = False
            if verb == "ACK":
                s["acked"] = True
                s["status"] = "acknowledged"
            elif verb == "TAKE":
                if s["owner"] != "" or s["level"] != 1:
                    s["ok"] = False
                s["owner"] = user
            elif verb == "HANDOVER":
                s["owner"] = named["to"]
            elif verb == "ESCALATE":
                escalate(s, t)
            elif verb == "PROPOSE":
                if s["owner"] != user:
                    s["ok"] = False
                s["status"] = "proposed"
                amount = named.get("amount_fen") or 0
                limit = HANDLER_AUTHORITY if s["level"] == 0 else SUPERVISOR_AUTHORITY
                if amount > limit and s["level"] < 2:
                    escalate(s, t)
            elif verb == "REFUSE":
                s["status"] = "refused"
                if s["level"] < 2:
                    escalate(s, t)
            elif verb == "ACCEPT":
                s["status"] = "accepted"
            elif verb == "CLOSE":
                s["status"] = "closed"
                s["closed"] = True
                if t > s["resolve_by"]:
                    s["ever_over"] = True
                if abs(t - s["resolve_by"]) < MARGIN:
                    conflicts.append((t, s["resolve_by"]))
            elif verb == "REOPEN":
                s["status"] = "acknowledged"
                s["owner"] = user
                s["closed"] = False
                s["level"] = max(s["level"], 1)
                s["resolve_by"] = t + RESOLVE_SECS
                s["close_by"] = t + MAX_OPEN_SECS
                s["regulator_by"] = t + 10 * MAX_OPEN_SECS
                s["resolve_breached"] = False
            if s["owner"] and verb in ("ACK", "ACCEPT", "CLOSE", "REFUSE") and s["owner"] != user:
                s["ok"] = False
        return st, conflicts

    def test_stats_agree_with_records(self):
        plans = self.make_plans()
        # nudge events that would fall within seconds of a due time (the
        # outcome would then depend on the speed of this test)
        for _ in range(50):
            model, conflicts = self.simulate(plans)
            if not conflicts:
                break
            bad = {c[0] for c in conflicts}
            if self.final in bad:
                self.final += 7 * MIN
            for p in plans:
                # shift the event and everything after it in its plan, so
                # that the order of the plan stays
                if p.opened in bad:
                    p.opened += 7 * MIN
                    for e in p.events:
                        e[0] += 7 * MIN
                    continue
                for k, e in enumerate(p.events):
                    if e[0] in bad:
                        for e2 in p.events[k:]:
                            e2[0] += 7 * MIN
                        break
        else:
            self.fail("could not plan without near-collisions: %r" % conflicts[:5])
        for idx, s in model.items():
            self.assertTrue(s["ok"], "plan %d (%s) is not executable" % (idx, plans[idx].fate))

        # ---- run it through the wire ----
        actions = sorted([(p.opened, 0, p.idx, None) for p in plans] +
                         [(e[0], k + 1, p.idx, e) for p in plans for k, e in enumerate(p.events)])
        for t, _, idx, e in actions:
            self.at(t)
            self.sweep()
            p = plans[idx]
            if e is None:
                r = self.open(user=p.opener, channel=p.channel, category=p.category, depot=p.depot,
                              several_depots="yes" if p.several else None, customer_name="Customer %d" % idx,
                              customer_phone="1380000%04d" % idx, text="complaint %d" % idx)
                p.id = int(r["id"])
            else:
                _, user, verb, named = e
                self.c(user, verb, p.id, **{k: v for k, v in named.items() if v is not None})
        self.at(self.final)
        self.sweep()

        # ---- the records ----
        recs = {}
        for p in plans:
            g = self.get(p.id)
            recs[p.idx] = g
            s = model[p.idx]
            what = "complaint %d (plan %d, %s)" % (p.id, p.idx, p.fate)
            self.assertEqual(g["ever_escalated"], "yes" if s["ever_esc"] else "no", what)
            self.assertEqual(g["ever_overdue"], "yes" if s["ever_over"] else "no", what)
            self.assertEqual(g["status"], s["status"], what)
            self.assertEqual(g["level"], ("handler", "supervisor", "manager")[s["level"]], what)
            self.assertEqual(g["status"] == "closed", s["closed"], what)
            self.assertEqual(local_day(parse_iso(g["opened_at"])), local_day(p.opened), what)
            if s["closed"]:
                self.assertEqual((g["satisfaction"], g["stage"], g["responsible"]),
                                 (str(p.satisfaction), p.stage, p.responsible), what)

        def expected(first, last):
            sel = [p for p in plans if first <= local_day(parse_iso(recs[p.idx]["opened_at"])) <= last]
            out = {"opened": len(sel)}
            closed = [p for p in sel if model[p.idx]["closed"]]
            out["closed"] = len(closed)
            out["escalated"] = sum(model[p.idx]["ever_esc"] for p in sel)
            out["overdue"] = sum(model[p.idx]["ever_over"] for p in sel)
            out["escalated_pct"] = pct(out["escalated"], len(sel))
            out["overdue_pct"] = pct(out["overdue"], len(sel))
            acks = [parse_iso(recs[p.idx]["acknowledged_at"]) - parse_iso(recs[p.idx]["opened_at"])
                    for p in sel if recs[p.idx].get("acknowledged_at")]
            res = [parse_iso(recs[p.idx]["closed_at"]) - parse_iso(recs[p.idx]["opened_at"]) for p in closed]
            out["acknowledge_count"] = len(acks)
            out["acknowledge_median_secs"] = nearest_rank(acks, 50)
            out["acknowledge_p90_secs"] = nearest_rank(acks, 90)
            out["resolve_count"] = len(res)
            out["resolve_median_secs"] = nearest_rank(res, 50)
            out["resolve_p90_secs"] = nearest_rank(res, 90)
            out["resolve_business_count"] = 0       # no calendar in this daemon
            out["satisfaction_count"] = len(closed)
            out["satisfaction_avg"] = avg2(sum(p.satisfaction for p in closed), len(closed))
            out["paused_secs_total"] = 0

            def groups(items, key):
                d = {}
                for x in items:
                    d[key(x)] = d.get(key(x), 0) + 1
                return d
            out["by_category"] = groups(sel, lambda p: p.category)
            out["by_channel"] = groups(sel, lambda p: p.channel)
            out["by_depot"] = groups(sel, lambda p: p.depot)
            out["by_responsible"] = groups(closed, lambda p: p.responsible)
            out["by_stage"] = groups(closed, lambda p: p.stage)
            return out

        mp = self.m("op1")
        D = datetime.date
        periods = [
            ({"month": "2027-04"}, D(2027, 4, 1), D(2027, 4, 30)),
            ({"month": "2027-03"}, D(2027, 3, 1), D(2027, 3, 31)),
            ({"month": "2027-05"}, D(2027, 5, 1), D(2027, 5, 31)),
            ({"from": "2027-04-10", "to": "2027-04-20"}, D(2027, 4, 10), D(2027, 4, 20)),
            ({"from": "2027-03-30", "to": "2027-05-01"}, D(2027, 3, 30), D(2027, 5, 1)),
            ({"from": "2027-04-30", "to": "2027-04-30"}, D(2027, 4, 30), D(2027, 4, 30)),
            ({"from": "2027-01-01", "to": "2027-12-31"}, D(2027, 1, 1), D(2027, 12, 31)),
        ]
        # the generated data exercise every figure
        april = expected(D(2027, 4, 1), D(2027, 4, 30))
        self.assertGreater(april["opened"], 100)
        self.assertGreater(april["closed"], 60)
        self.assertGreater(april["escalated"], 20)
        self.assertGreater(april["overdue"], 10)
        self.assertGreaterEqual(len(april["by_channel"]), 5)
        for named, first, last in periods:
            r = mp.call("COMPLAINT", "STATS", **named)
            self.assertReply(r, 200)
            got = r["data"]
            want = expected(first, last)
            self.assertEqual(r["msg"], "%d complaints opened in the period" % want["opened"])
            for k, v in want.items():
                g = got.get(k)
                if isinstance(v, dict):
                    g = {kk: vv for kk, vv in (g or {}).items()}
                self.assertEqual(g, v, "%s: %s" % (named, k))
            self.assertEqual(got["from"], first.isoformat())
        # the month boundary in Shanghai time
        m4 = mp.call("COMPLAINT", "STATS", month="2027-04")["data"]
        m5 = mp.call("COMPLAINT", "STATS", month="2027-05")["data"]
        m3 = mp.call("COMPLAINT", "STATS", month="2027-03")["data"]
        self.assertEqual(m3["opened"] + m4["opened"] + m5["opened"], len(plans))
        # the default is this month (the clock is in May)
        dflt = mp.call("COMPLAINT", "STATS")["data"]
        self.assertEqual(dflt.pop("to"), "2027-05-31")
        m5.pop("to")
        self.assertEqual(dflt, m5)
        # the text framing shows the same figures
        t = self.u("op1").cmd(line("COMPLAINT", "STATS", month="2027-04"))
        self.assertReply(t, 200)
        self.assertEqual(t["opened"], str(m4["opened"]))
        self.assertEqual(t["resolve_p90_secs"], str(m4["resolve_p90_secs"]))
        for cat, n in m4["by_category"].items():
            self.assertEqual(t["by_category." + cat], str(n))


if __name__ == "__main__":
    unittest.main()
