"""SLA clocks in business hours end to end (issue 7; PROTOCOL.md "Complaints"
and "Calendars"; docs/sla.md parts 2 and 3), with the settable clock.

A complaint's clocks count business minutes on its depot's calendar (the
one assigned, else `default`), the calendar version in force when it was
opened: acknowledge within complaint_ack_business_minutes (480), resolve
within complaint_resolve_business_minutes (2400), an update every
complaint_update_business_minutes (960) after a contact. Here: a complaint
opened on Friday at 17:50 breaches its acknowledge clock on Monday at 16:50,
not before; pauses move due times by the business span only; holidays and
make-up days shift due times; GET shows each clock; statistics of the time
to resolve in business time agree with a small business-time calculator of
this file; a depot with its own calendar; a calendar change applies to
complaints opened after it; and without any calendar the clocks count
calendar time.

Dates are in 2027 (after the real date). 2027-03-05 is a Friday."""
import datetime
import random
import time
import unittest

from harness import CST, DAY, HOUR, line, parse_iso
from test_complaints import (ComplaintCase, MIN, close_args, nearest_rank, stable, timeline, ts)

ACK_MIN = 480          # complaint_ack_business_minutes
UPDATE_MIN = 960       # complaint_update_business_minutes
RESOLVE_MIN = 2400     # complaint_resolve_business_minutes
ESCALATED_MIN = 2400   # complaint_escalated_resolve_business_minutes
LEGAL_SECS = 7 * DAY   # complaint_legal_max_days: no resolve-by passes opened + 7 calendar days


def legal(opened, due):
    """A business-clock due time under the law's 7-day ceiling."""
    return min(due, opened + LEGAL_SECS)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NINE_TO_SIX = {d: "09:00-18:00" for d in WEEKDAYS[:5]}


# ------------------------------------------------ business-time calculator ----

class BizCal:
    """A small, independent business-time calculator (minute intervals per
    weekday in a fixed UTC offset, holidays, make-up days), walked day by
    day. Times are UTC seconds."""

    def __init__(self, days=None, offset_secs=8 * 3600, holidays=(), workdays=None):
        days = NINE_TO_SIX if days is None else days
        self.week = [self.parse(days.get(d, "closed")) for d in WEEKDAYS]
        self.off = offset_secs
        self.holidays = {datetime.date.fromisoformat(h) for h in holidays}
        self.workdays = {datetime.date.fromisoformat(d): self.parse(h) for d, h in (workdays or {}).items()}

    @staticmethod
    def parse(text):
        if text == "closed":
            return []
        out = []
        for part in text.split(","):
            a, b = part.split("-")
            out.append((int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])))
        return out

    def intervals(self, day_no):
        """Working intervals of local day number day_no (days since
        1970-01-01) as local seconds [a, b)."""
        date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day_no)
        if date in self.holidays:
            ivs = []
        elif date in self.workdays:
            ivs = self.workdays[date]
        else:
            ivs = self.week[date.weekday()]
        base = day_no * 86400
        return [(base + s * 60, base + e * 60) for s, e in ivs]

    def add_seconds(self, start, secs):
        if secs == 0:
            return start
        t = start + self.off
        day = t // 86400
        for _ in range(3700):
            for a, b in self.intervals(day):
                if b <= t:
                    continue
                a = max(a, t)
                if secs <= b - a:
                    return a + secs - self.off
                secs -= b - a
                t = b
            day += 1
            t = max(t, day * 86400)
        raise AssertionError("no due time within ten years")

    def add_minutes(self, start, minutes):
        return self.add_seconds(start, minutes * 60)

    def between(self, frm, to):
        """Business seconds in [frm, to)."""
        if to <= frm:
            return 0
        f, t = frm + self.off, to + self.off
        total = 0
        for day in range(f // 86400, t // 86400 + 1):
            for a, b in self.intervals(day):
                lo, hi = max(a, f), min(b, t)
                if hi > lo:
                    total += hi - lo
        return total


class BizCalSelfTest(unittest.TestCase):
    """The calculator against the examples of docs/sla.md part 2."""

    def test_examples(self):
        c = BizCal()
        fri1750 = ts("2027-03-05T17:50")
        self.assertEqual(c.add_minutes(fri1750, 60), ts("2027-03-08T09:50"))
        self.assertEqual(c.add_minutes(ts("2027-03-05T17:00"), 60), ts("2027-03-05T18:00"))
        self.assertEqual(c.add_minutes(ts("2027-03-06T10:00"), 30), ts("2027-03-08T09:30"))
        self.assertEqual(c.add_minutes(ts("2027-03-06T10:00"), 0), ts("2027-03-06T10:00"))
        self.assertEqual(c.add_minutes(fri1750 + 30, 60), ts("2027-03-08T09:50") + 30)
        self.assertEqual(c.add_minutes(fri1750, ACK_MIN), ts("2027-03-08T16:50"))
        self.assertEqual(c.add_minutes(fri1750, RESOLVE_MIN), ts("2027-03-12T12:50"))
        self.assertEqual(c.between(ts("2027-03-05T17:00"), ts("2027-03-08T10:00")), 7200)
        h = BizCal(holidays=["2027-03-08"], workdays={"2027-03-06": "09:00-12:00,13:00-18:00"})
        self.assertEqual(h.add_minutes(fri1750, 60), ts("2027-03-06T09:50"))
        self.assertEqual(h.add_minutes(fri1750, 480), ts("2027-03-06T17:50"))
        self.assertEqual(h.add_minutes(fri1750, 490), ts("2027-03-06T18:00"))
        self.assertEqual(h.add_minutes(fri1750, 491), ts("2027-03-09T09:01"))
        for s in (fri1750, ts("2027-03-06T11:11"), ts("2027-03-09T08:59")):
            for n in (1, 59, 600, 32400, 200000):
                d = h.add_seconds(s, n)
                self.assertEqual(h.between(s, d), n)
                self.assertEqual(h.between(s, d - 1), n - 1)


# --------------------------------------------------------------- tests ----

class SlaCase(ComplaintCase):

    @classmethod
    def class_setup(cls):
        super().class_setup()
        with cls.daemon.text("admin") as c:
            r = c.cmd(line("CLOCK", "SET", "2027-03-01T08:00:00+08:00"))
            assert r.code == 200, r
            cls.define(c, "default")

    @staticmethod
    def define(c, name, zone="Asia/Shanghai", days=None):
        r = c.cmd(line("CALENDAR", "SET", name, zone=zone, **(NINE_TO_SIX if days is None else days)))
        if r.code not in (200, 201):
            raise AssertionError("CALENDAR SET %s: %r" % (name, r))
        return r

    def open_at(self, when, user="op1", align=True, **kw):
        """Sets the clock and opens a complaint; returns (id, record)."""
        if align:
            self.align_to_second()
        self.at(when)
        cid = self.open_id(user=user, **kw)
        g = self.get(cid)
        self.assertLessEqual(abs(parse_iso(g["opened_at"]) - (ts(when) if isinstance(when, str) else when)), 3)
        return cid, g

    def calendar_version(self, name):
        return int(self.u("op1").cmd(line("CALENDAR", "GET", name))["version"])


class BusinessClocks(SlaCase):

    def test_friday_evening_breaches_monday_at_the_minute(self):
        cal = BizCal()
        cid, g = self.open_at("2027-03-05T17:50", depot="BJ02")
        opened = parse_iso(g["opened_at"])
        ack_by, resolve_by = cal.add_minutes(opened, ACK_MIN), cal.add_minutes(opened, RESOLVE_MIN)
        # Monday 16:50 and the next Friday 12:50 (seconds of the start kept)
        self.assertEqual(ack_by - opened % 60, ts("2027-03-08T16:50"))
        self.assertEqual(resolve_by - opened % 60, ts("2027-03-12T12:50"))
        self.assertEqual(parse_iso(g["acknowledge_by"]), ack_by)
        self.assertEqual(parse_iso(g["resolve_by"]), resolve_by)
        self.assertEqual((g["clock_basis"], g["calendar"]), ("business", "default"))
        self.assertEqual(int(g["calendar_version"]), self.calendar_version("default"))
        for clock in ("acknowledge", "resolve"):
            self.assertEqual(g["clocks.%s.basis" % clock], "business")
            self.assertEqual(g["clocks.%s.state" % clock], "running")
        self.assertEqual(parse_iso(g["clocks.acknowledge.due_at"]), ack_by)
        self.assertEqual(parse_iso(g["clocks.resolve.due_at"]), resolve_by)

        # Saturday morning: the counter is closed, nothing is late, and the
        # business clocks stand still (exact figures)
        self.at("2027-03-06T10:00")
        self.sweep()
        g = self.get(cid)
        self.assertEqual(g["overdue"], "no")
        self.assertNotEqual(g.get("acknowledge_breached"), "yes")
        used = cal.between(opened, ts("2027-03-06T10:00"))
        self.assertEqual(used, ts("2027-03-05T18:00") - opened)
        self.assertEqual(int(g["clocks.acknowledge.used_secs"]), used)
        self.assertEqual(int(g["clocks.acknowledge.left_secs"]), ACK_MIN * 60 - used)
        self.assertEqual(int(g["clocks.resolve.used_secs"]), used)
        self.assertEqual(int(g["clocks.resolve.left_secs"]), RESOLVE_MIN * 60 - used)
        self.assertNotIn(cid, self.list_ids(overdue="yes", limit=1000))
        # Sunday evening: still nothing
        self.at("2027-03-07T23:59")
        self.sweep()
        self.assertEqual(self.get(cid)["overdue"], "no")

        # Monday, a minute before: not breached, and the daemon's timer does
        # not fire early
        self.at(ack_by - MIN)
        time.sleep(1.2)
        g = self.get(cid)
        self.assertNotEqual(g.get("acknowledge_breached"), "yes")
        self.assertEqual(g["clocks.acknowledge.state"], "running")
        self.assertLessEqual(abs(int(g["clocks.acknowledge.left_secs"]) - 60), 3)
        self.assertNotIn(cid, self.list_ids(overdue="yes", limit=1000))

        # three seconds before, then let the real clock run over the due time:
        # the daemon's one timer fires by itself, at the right second
        self.at(ack_by - 3)
        self.assertNotEqual(self.get(cid).get("acknowledge_breached"), "yes")
        g = self.poll(cid, lambda r: r.get("acknowledge_breached") == "yes", timeout=8,
                      what="acknowledge breach on Monday")
        e = [x for x in timeline(g) if x["action"] == "acknowledge_breached"]
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["who"], "parceldeskd")
        self.assertIn(parse_iso(e[0]["at"]) - ack_by, (0, 1, 2))
        # a minute after
        self.at(ack_by + MIN)
        g = self.get(cid)
        self.assertEqual(g["overdue"], "yes")
        self.assertEqual(g["clocks.acknowledge.state"], "breached")
        self.assertLessEqual(abs(int(g["clocks.acknowledge.left_secs"]) + 60), 3)
        self.assertEqual((g["status"], g["level"]), ("open", "handler"))
        self.assertIn(cid, self.list_ids(overdue="yes", limit=1000))
        self.assertIn(cid, self.list_ids(overdue="yes", depot="BJ02", limit=1000))

        # the resolve clock: escalates the next Friday at 12:50, not before
        self.c("op1", "ACK", cid)
        self.at(resolve_by - MIN)
        time.sleep(1.2)
        self.assertEqual(self.get(cid)["level"], "handler")
        self.at(resolve_by + MIN)
        g = self.poll(cid, lambda r: r["level"] == "supervisor", what="overdue escalation on Friday")
        self.assertEqual(g["last_triggers"], "overdue")
        esc = [x for x in timeline(g) if x["action"] == "escalate"][-1]
        # the new owner gets a new business due time from the escalation,
        # cut to the law's 7 days from the opening (Friday 17:50)
        self.assertEqual(parse_iso(g["resolve_by"]),
                         legal(opened, cal.add_minutes(parse_iso(esc["at"]), ESCALATED_MIN)))
        self.assertEqual(parse_iso(g["resolve_by"]), opened + LEGAL_SECS)

    def test_pause_over_weekend(self):
        cal = BizCal()
        cid, g = self.open_at("2027-03-18T10:00", depot="BJ02")       # a Thursday
        self.c("op1", "ACK", cid)
        resolve_by = parse_iso(g["resolve_by"])
        self.align_to_second()
        self.at("2027-03-19T17:00")                                    # Friday
        self.c("op1", "WAIT", cid, msg="waiting for the customer: the resolve clock is paused",
               **{"for": "customer", "reason": "photo of the damage"})
        g = self.get(cid)
        paused_at = parse_iso(g["paused_at"])
        self.assertEqual(g["waiting_for"], "customer")
        self.assertEqual(g["clocks.resolve.state"], "paused")
        self.assertEqual(g["clocks.update.state"], "paused")
        self.assertEqual(g["clocks.acknowledge.state"], "met")
        # over the weekend nothing moves
        self.at("2027-03-21T12:00")
        self.sweep()
        g = self.get(cid)
        self.assertEqual(int(g["clocks.resolve.paused_secs"]), cal.between(paused_at, ts("2027-03-21T12:00")))
        self.align_to_second()
        self.at("2027-03-22T10:00")                                    # Monday
        r = self.c("op1", "RESUME", cid, text="photo received")
        g = self.get(cid)
        resumed_at = parse_iso(timeline(g)[-1]["at"])
        span = cal.between(paused_at, resumed_at)
        self.assertLessEqual(abs(span - 7200), 5)      # 17:00-18:00 Friday and 09:00-10:00 Monday
        self.assertEqual(r.msg, "resumed after %d business second(s) paused" % span)
        self.assertEqual(int(g["paused_secs"]), span)
        self.assertEqual(parse_iso(g["resolve_by"]), cal.add_seconds(resolve_by, span))
        # by the business span only, not by the 65 hours of calendar time
        self.assertLess(parse_iso(g["resolve_by"]) - resolve_by, 2 * DAY)
        self.assertEqual(g["clocks.resolve.state"], "running")
        self.assertEqual(g.get("waiting_for", ""), "")
        tl = timeline(g)
        pause, resume = tl[-2], tl[-1]
        self.assertEqual((pause["action"], pause["who"], pause["text"]), ("pause", "op1", "photo of the damage"))
        self.assertEqual(pause["changes"]["waiting_for"], ("", "customer"))
        self.assertEqual((resume["action"], resume["who"], resume["text"]), ("resume", "op1", "photo received"))
        self.assertEqual(resume["changes"]["waiting_for"], ("customer", ""))
        self.assertEqual(resume["changes"]["resolve_by"][0], iso_of(resolve_by))
        self.assertEqual(resume["changes"]["paused_secs"], ("0", str(span)))

        # a pause over Saturday and Sunday alone moves nothing
        cid2, g2 = self.open_at("2027-03-26T12:00", depot="BJ02")     # a Friday
        self.at("2027-03-27T10:00")
        self.c("op1", "WAIT", cid2, **{"for": "partner", "reason": "asked the sub-carrier"})
        self.at("2027-03-28T20:00")
        self.c("op1", "RESUME", cid2, msg="resumed after 0 business second(s) paused")
        g2b = self.get(cid2)
        self.assertEqual(g2b["resolve_by"], g2["resolve_by"])
        self.assertEqual(g2b["paused_secs"], "0")

    def test_paused_clock_does_not_breach(self):
        cal = BizCal()
        cid, g = self.open_at("2027-03-29T09:00", depot="BJ02")        # a Monday
        resolve_by = parse_iso(g["resolve_by"])
        self.assertEqual(resolve_by, cal.add_minutes(parse_iso(g["opened_at"]), RESOLVE_MIN))
        self.c("op1", "ACK", cid)
        self.at("2027-03-29T10:00")
        self.c("op1", "WAIT", cid, **{"for": "documents", "reason": "invoice"})
        paused_at = parse_iso(self.get(cid)["paused_at"])
        # past the resolve-by time (Friday 18:00), still paused: no
        # escalation (the law's ceiling, Monday 09:00, is not reached yet)
        self.at("2027-04-04T12:00")
        self.sweep()
        g = self.get(cid)
        self.assertEqual((g["level"], g["overdue"], g["clocks.resolve.state"]), ("handler", "no", "paused"))
        self.assertNotIn(cid, self.list_ids(overdue="yes", limit=1000))
        self.c("op1", "RESUME", cid)
        g = self.get(cid)
        span = cal.between(paused_at, parse_iso(timeline(g)[-1]["at"]))
        # resolve-by moves by the paused business span, up to the ceiling
        self.assertEqual(parse_iso(g["resolve_by"]),
                         legal(parse_iso(g["opened_at"]), cal.add_seconds(resolve_by, span)))
        self.assertEqual(parse_iso(g["resolve_by"]), parse_iso(g["opened_at"]) + LEGAL_SECS)
        self.assertEqual(g["overdue"], "no")

    def test_clock_states_in_get(self):
        cal = BizCal()
        cid, g = self.open_at("2027-04-23T17:50", depot="BJ02")       # a Friday
        self.assertNotIn("clocks.update.state", g)
        self.at("2027-04-24T10:00")                                    # Saturday: frozen
        self.c("op1", "ACK", cid)
        g = self.get(cid)
        ack_at = parse_iso(g["acknowledged_at"])
        self.assertEqual(g["clocks.acknowledge.state"], "met")
        self.assertEqual(int(g["clocks.acknowledge.left_secs"]), 0)
        # the update clock starts at the contact
        self.assertEqual(g["clocks.update.basis"], "business")
        self.assertEqual(parse_iso(g["clocks.update.due_at"]), cal.add_minutes(ack_at, UPDATE_MIN))
        self.assertEqual(parse_iso(g["clocks.update.due_at"]) - ack_at % 60, ts("2027-04-27T16:00"))
        self.assertEqual(g["clocks.update.state"], "running")
        self.assertEqual(int(g["clocks.update.used_secs"]), 0)
        self.assertEqual(int(g["clocks.update.left_secs"]), UPDATE_MIN * 60)
        used = cal.between(parse_iso(g["opened_at"]), ts("2027-04-24T10:00"))
        self.assertEqual(int(g["clocks.resolve.used_secs"]), used)
        self.assertEqual(int(g["clocks.resolve.left_secs"]), RESOLVE_MIN * 60 - used)
        self.assertNotIn("clocks.resolve.paused_secs", g)
        # paused
        self.c("op1", "WAIT", cid, **{"for": "customer", "reason": "x"})
        self.at("2027-04-26T10:00")                                    # Monday
        g = self.get(cid)
        self.assertEqual(g["clocks.resolve.state"], "paused")
        self.assertLessEqual(abs(int(g["clocks.resolve.paused_secs"]) - 3600), 3)
        self.c("op1", "RESUME", cid)
        # the update clock breaches: marked, counted, not escalated
        g = self.get(cid)
        update_by = parse_iso(g["update_by"])
        self.at(update_by + MIN)
        g = self.poll(cid, lambda r: r.get("update_breached") == "yes", what="update breach")
        self.assertEqual(g["clocks.update.state"], "breached")
        self.assertEqual(g["update_breaches"], "1")
        self.assertEqual(g["level"], "handler")
        # a contact restarts it
        self.c("op1", "NOTE", cid, text="called again", contacted="yes")
        g = self.get(cid)
        self.assertEqual(g["clocks.update.state"], "running")
        self.assertEqual(g["update_breached"], "no")
        # met
        self.c("op1", "PROPOSE", cid, text="refund")
        self.c("op1", "ACCEPT", cid)
        g = self.get(cid)
        self.assertEqual(g["clocks.resolve.state"], "met")
        self.assertEqual(int(g["clocks.resolve.left_secs"]), 0)

    def test_customised_service_level_halves_business_minutes(self):
        cal = BizCal()
        cid, g = self.open_at("2027-04-30T17:50", depot="BJ02", service_level="customised")
        opened = parse_iso(g["opened_at"])
        self.assertEqual(parse_iso(g["acknowledge_by"]), cal.add_minutes(opened, ACK_MIN // 2))
        self.assertEqual(parse_iso(g["resolve_by"]), cal.add_minutes(opened, RESOLVE_MIN // 2))

    def test_regulator_channel_resolves_in_calendar_time(self):
        cal = BizCal()
        cid, g = self.open_at("2027-05-07T17:50", depot="BJ02", channel="regulator")
        opened = parse_iso(g["opened_at"])
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)
        self.assertEqual(parse_iso(g["regulator_reply_by"]), opened + 7 * DAY)
        self.assertEqual(g["clocks.resolve.basis"], "calendar")
        self.assertEqual(g["clocks.regulator_reply.basis"], "calendar")
        self.assertEqual(g["clocks.acknowledge.basis"], "business")
        self.assertEqual(parse_iso(g["acknowledge_by"]), cal.add_minutes(opened, ACK_MIN))
        # a pause of a calendar-time clock moves it by the calendar span
        self.c("sup1", "TAKE", cid)
        self.c("sup1", "ACK", cid)
        self.at("2027-05-08T10:00")
        self.c("sup1", "WAIT", cid, **{"for": "documents", "reason": "x"})
        paused_at = parse_iso(self.get(cid)["paused_at"])
        self.at("2027-05-09T10:00")
        r = self.c("sup1", "RESUME", cid)
        g = self.get(cid)
        span = parse_iso(timeline(g)[-1]["at"]) - paused_at
        self.assertEqual(r.msg, "resumed after %d calendar second(s) paused" % span)
        # never past the regulator's deadline
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)

    def test_holiday_and_makeup_day(self):
        admin = self.u("admin")
        self.define(admin, "cn")
        r = self.assertReply(admin.cmd(line("CALENDAR", "ASSIGN", depot="HL01", calendar="cn")), 200)
        self.assertRegex(r.msg, r"applies to clocks started from now on$")
        # Qingming, Monday 2027-04-05
        r = self.assertReply(admin.cmd(line("CALENDAR", "HOLIDAY", "cn", date="2027-04-05", label="Qingming")), 201)
        self.assertRegex(r.msg, r"applies to clocks started from now on$")
        cal = BizCal(holidays=["2027-04-05"])
        cid, g = self.open_at("2027-04-02T17:50", depot="HL01")
        opened = parse_iso(g["opened_at"])
        self.assertEqual((g["calendar"], int(g["calendar_version"])), ("cn", self.calendar_version("cn")))
        self.assertEqual(parse_iso(g["acknowledge_by"]) - opened % 60, ts("2027-04-06T16:50"))   # Tuesday
        # five working days end on Monday 12 April 12:50; the law's 7 days
        # end on Friday 9 April 17:50
        self.assertEqual(parse_iso(g["resolve_by"]), legal(opened, cal.add_minutes(opened, RESOLVE_MIN)))
        self.assertEqual(parse_iso(g["resolve_by"]) - opened % 60, ts("2027-04-09T17:50"))
        # the holiday is not late: Monday evening, nothing
        self.at("2027-04-05T20:00")
        self.sweep()
        self.assertEqual(self.get(cid)["overdue"], "no")
        self.at(parse_iso(g["acknowledge_by"]) + MIN)
        self.poll(cid, lambda r: r.get("acknowledge_breached") == "yes", what="breach on Tuesday")

        # a make-up Saturday, 2027-04-10
        self.assertReply(admin.cmd(line("CALENDAR", "WORKDAY", "cn", date="2027-04-10", hours="09:00-18:00",
                                        label="for Qingming")), 201)
        cal = BizCal(holidays=["2027-04-05"], workdays={"2027-04-10": "09:00-18:00"})
        cid, g = self.open_at("2027-04-09T17:50", depot="HL01")
        opened = parse_iso(g["opened_at"])
        self.assertEqual(parse_iso(g["acknowledge_by"]) - opened % 60, ts("2027-04-10T16:50"))   # Saturday
        self.assertEqual(parse_iso(g["resolve_by"]), legal(opened, cal.add_minutes(opened, RESOLVE_MIN)))
        self.assertEqual(parse_iso(g["resolve_by"]) - opened % 60, ts("2027-04-15T12:50"))
        # and a depot on `default` is not affected
        cid2, g2 = self.open_at("2027-04-09T17:50", depot="BJ02")
        self.assertEqual(g2["calendar"], "default")
        self.assertEqual(parse_iso(g2["acknowledge_by"]) - parse_iso(g2["opened_at"]) % 60,
                         ts("2027-04-12T16:50"))

    def test_depot_with_its_own_calendar(self):
        admin = self.u("admin")
        # afternoon and evening shifts, six days a week
        days = {d: "13:00-22:00" for d in WEEKDAYS[:6]}
        self.define(admin, "evening", days=days)
        self.assertReply(admin.cmd(line("CALENDAR", "ASSIGN", depot="NT01", calendar="evening")), 200)
        cal = BizCal(days)
        cid, g = self.open_at("2027-05-14T17:50", depot="NT01")         # a Friday
        opened = parse_iso(g["opened_at"])
        self.assertEqual(g["calendar"], "evening")
        self.assertEqual(int(g["calendar_version"]), self.calendar_version("evening"))
        # 250 minutes on Friday, 230 on Saturday
        self.assertEqual(parse_iso(g["acknowledge_by"]) - opened % 60, ts("2027-05-15T16:50"))
        self.assertEqual(parse_iso(g["acknowledge_by"]), cal.add_minutes(opened, ACK_MIN))
        self.assertEqual(parse_iso(g["resolve_by"]), cal.add_minutes(opened, RESOLVE_MIN))
        # the same moment at a depot on `default`
        cid2, g2 = self.open_at("2027-05-14T17:50", depot="SH01")
        self.assertEqual(g2["calendar"], "default")
        self.assertEqual(parse_iso(g2["acknowledge_by"]) - parse_iso(g2["opened_at"]) % 60, ts("2027-05-17T16:50"))
        # a calendar in another zone: 09:00-18:00 at +09:00 is 08:00-17:00 here
        self.define(admin, "tokyo", zone="+09:00")
        self.assertReply(admin.cmd(line("CALENDAR", "ASSIGN", depot="TK01", calendar="tokyo")), 200)
        cid3, g3 = self.open_at("2027-05-14T16:50", depot="TK01")      # 17:50 in Tokyo
        opened3 = parse_iso(g3["opened_at"])
        self.assertEqual(parse_iso(g3["acknowledge_by"]), BizCal(offset_secs=9 * 3600).add_minutes(opened3, ACK_MIN))
        self.assertEqual(parse_iso(g3["acknowledge_by"]) - opened3 % 60, ts("2027-05-17T15:50"))
        # the breach comes at the Tokyo minute
        self.at(parse_iso(g3["acknowledge_by"]) - MIN)
        self.sweep()
        self.assertNotEqual(self.get(cid3).get("acknowledge_breached"), "yes")
        self.at(parse_iso(g3["acknowledge_by"]) + MIN)
        self.poll(cid3, lambda r: r.get("acknowledge_breached") == "yes", what="breach on the Tokyo calendar")
        self.assertNotEqual(self.get(cid2).get("acknowledge_breached"), "yes")

    def test_calendar_change_applies_to_new_complaints_only(self):
        admin = self.u("admin")
        self.define(admin, "chg")
        self.assertReply(admin.cmd(line("CALENDAR", "ASSIGN", depot="CH01", calendar="chg")), 200)
        old_cal = BizCal()
        v1 = self.calendar_version("chg")
        c1, g1 = self.open_at("2027-06-04T17:50", depot="CH01")        # a Friday
        r = self.assertReply(admin.cmd(line("CALENDAR", "HOLIDAY", "chg", date="2027-06-07", label="closed")), 201)
        self.assertEqual(r.msg, "calendar chg version %d: holiday 2027-06-07 added; applies to clocks started "
                                "from now on" % (v1 + 1))
        new_cal = BizCal(holidays=["2027-06-07"])
        c2, g2 = self.open_at("2027-06-04T17:50", depot="CH01")
        # the first keeps its version and due times
        g1b = self.get(c1)
        self.assertEqual(stable(g1b), stable(g1))
        self.assertEqual(int(g1b["calendar_version"]), v1)
        self.assertEqual(parse_iso(g1b["acknowledge_by"]) - parse_iso(g1b["opened_at"]) % 60, ts("2027-06-07T16:50"))
        self.assertEqual(int(g2["calendar_version"]), v1 + 1)
        self.assertEqual(parse_iso(g2["acknowledge_by"]) - parse_iso(g2["opened_at"]) % 60, ts("2027-06-08T16:50"))
        self.assertEqual(parse_iso(g2["resolve_by"]),
                         legal(parse_iso(g2["opened_at"]), new_cal.add_minutes(parse_iso(g2["opened_at"]), RESOLVE_MIN)))
        # re-assigning the depot does not move them either
        self.define(admin, "other", days={d: "08:00-20:00" for d in WEEKDAYS})
        self.assertReply(admin.cmd(line("CALENDAR", "ASSIGN", depot="CH01", calendar="other")), 200)
        self.assertEqual(self.get(c1)["calendar"], "chg")
        # both pause from Friday 17:55; the pause is measured on each one's
        # own version
        self.align_to_second()
        self.at("2027-06-04T17:55")
        for c in (c1, c2):
            self.c("op1", "WAIT", c, **{"for": "customer", "reason": "x"})
        # Monday the 7th: the first breaches its acknowledge clock, the
        # second (holiday) does not
        self.at(parse_iso(g1["acknowledge_by"]) + MIN)
        self.poll(c1, lambda r: r.get("acknowledge_breached") == "yes", what="breach on the old version")
        self.sweep()
        self.assertNotEqual(self.get(c2).get("acknowledge_breached"), "yes")
        self.align_to_second()
        self.at("2027-06-08T10:00")
        for c in (c1, c2):
            self.c("op1", "ACK", c)
        r1 = self.c("op1", "RESUME", c1)
        r2 = self.c("op1", "RESUME", c2)
        for c, cal, r, g in ((c1, old_cal, r1, g1), (c2, new_cal, r2, g2)):
            gg = self.get(c)
            pause = [x for x in timeline(gg) if x["action"] == "pause"][-1]
            resume = [x for x in timeline(gg) if x["action"] == "resume"][-1]
            span = cal.between(parse_iso(pause["at"]), parse_iso(resume["at"]))
            self.assertEqual(r.msg, "resumed after %d business second(s) paused" % span)
            self.assertEqual(parse_iso(gg["resolve_by"]),
                             legal(parse_iso(g["opened_at"]), cal.add_seconds(parse_iso(g["resolve_by"]), span)))
        self.assertLessEqual(abs(int(self.get(c1)["paused_secs"]) - (5 + 540 + 60) * 60), 5)
        self.assertLessEqual(abs(int(self.get(c2)["paused_secs"]) - (5 + 60) * 60), 5)

    def test_calendar_due_agrees(self):
        """CALENDAR DUE gives the due time a complaint opened then gets."""
        cid, g = self.open_at("2027-06-18T17:50", depot="DU01")
        opened = g["opened_at"]
        r = self.assertReply(self.u("op1").cmd(line("CALENDAR", "DUE", depot="DU01", start=opened, minutes=ACK_MIN)),
                             200)
        self.assertEqual(r["due"], g["acknowledge_by"])
        r = self.u("op1").cmd(line("CALENDAR", "DUE", depot="DU01", start=opened, minutes=RESOLVE_MIN))
        self.assertEqual(r["due"], g["resolve_by"])


def iso_of(t):
    return datetime.datetime.fromtimestamp(t, CST).isoformat()


# ---------------------------------------------------------- statistics ----

class BusinessStats(SlaCase):
    """COMPLAINT STATS resolve_business_* against this file's calculator:
    business seconds from opening to close less the business seconds
    paused."""

    def run_month(self, month_start, n, seed, channels=("phone", "online", "walk_in")):
        rnd = random.Random(seed)
        cal = BizCal()
        plans = []
        for i in range(n):
            opened = month_start + rnd.randrange(0, 20 * 24 * 60) * MIN
            evs = [(opened + rnd.randrange(5, 600) * MIN, "ACK")]
            t = evs[0][0]
            # at most ~128 hours from opening to the answer: inside the
            # regulator's 7 calendar days and the 2400 business minutes
            if rnd.random() < 0.6:
                t += rnd.randrange(10, 1500) * MIN
                evs.append((t, "WAIT"))
                t += rnd.randrange(10, 2000) * MIN
                evs.append((t, "RESUME"))
            if rnd.random() < 0.25:
                t += rnd.randrange(10, 1500) * MIN
                evs.append((t, "WAIT"))
                t += rnd.randrange(10, 1500) * MIN
                evs.append((t, "RESUME"))
            if rnd.random() < 0.85:
                t += rnd.randrange(10, 600) * MIN
                evs.append((t, "PROPOSE"))
                evs.append((t + 7 * MIN, "ACCEPT"))
                evs.append((t + 20 * MIN, "CLOSE"))
            plans.append({"opened": opened, "events": evs, "channel": rnd.choice(channels), "i": i})
        # everything in time order, the clock set before each step; the
        # complaints stay below their resolve-by times (no escalation)
        steps = sorted([(p["opened"], 0, p["i"], "OPEN") for p in plans] +
                       [(t, k + 1, p["i"], v) for p in plans for k, (t, v) in enumerate(p["events"])])
        for t, _, i, verb in steps:
            self.at(t)
            p = plans[i]
            if verb == "OPEN":
                kw = dict(depot="ST01", channel=p["channel"])
                r = self.open(**kw)
                p["id"] = int(r["id"])
                continue
            user = "sup1" if p["channel"] in ("regulator",) else "op1"
            if verb == "ACK" and user == "sup1":
                self.c("sup1", "TAKE", p["id"])
            named = {"WAIT": {"for": "customer", "reason": "w"}, "PROPOSE": {"text": "p"},
                     "CLOSE": close_args()}.get(verb, {})
            self.c(user, verb, p["id"], **named)
        return plans, cal

    def expected(self, plans, cal):
        biz, res, paused_total = [], [], 0
        for p in plans:
            g = self.get(p["id"])
            if g["status"] == "closed":
                # closed before any resolve-by time passed
                self.assertEqual(g["level"], "handler" if p["channel"] != "regulator" else "supervisor")
            tl = timeline(g)
            pauses = [parse_iso(e["at"]) for e in tl if e["action"] == "pause"]
            resumes = [parse_iso(e["at"]) for e in tl if e["action"] == "resume"]
            paused_biz = sum(cal.between(a, b) for a, b in zip(pauses, resumes))
            paused_cal = sum(b - a for a, b in zip(pauses, resumes))
            resolve_biz_clock = g["clocks.resolve.basis"] == "business"
            own = paused_biz if resolve_biz_clock else paused_cal
            self.assertEqual(int(g["paused_secs"]), own, "complaint %s" % p["id"])
            if g["status"] != "closed":
                continue
            paused_total += own
            opened, closed = parse_iso(g["opened_at"]), parse_iso(g["closed_at"])
            res.append(closed - opened)
            biz.append(max(0, cal.between(opened, closed) - paused_biz))
        return biz, res, paused_total

    def check(self, month, plans, cal):
        biz, res, paused_total = self.expected(plans, cal)
        self.assertGreater(len(biz), 5)
        s = self.m("op1").call("COMPLAINT", "STATS", month=month)["data"]
        self.assertEqual(s["opened"], len(plans))
        self.assertEqual(s["resolve_count"], len(res))
        self.assertEqual(s["resolve_median_secs"], nearest_rank(res, 50))
        self.assertEqual(s["resolve_p90_secs"], nearest_rank(res, 90))
        self.assertEqual(s["paused_secs_total"], paused_total)
        self.assertEqual(s["resolve_business_count"], len(biz))
        self.assertEqual(s["resolve_business_median_secs"], nearest_rank(biz, 50))
        self.assertEqual(s["resolve_business_p90_secs"], nearest_rank(biz, 90))
        return s

    def test_resolve_business_stats(self):
        plans, cal = self.run_month(ts("2027-09-01T00:00"), 40, 909)
        s = self.check("2027-09", plans, cal)
        # the business figures are really smaller than the calendar ones
        self.assertLess(s["resolve_business_median_secs"], s["resolve_median_secs"])

    def test_resolve_business_stats_regulator_pause(self):
        """A complaint through the regulator runs its resolve clock in
        calendar time (its paused_secs are calendar seconds); its business
        time to resolve is still its business span less the business time
        it was paused."""
        plans, cal = self.run_month(ts("2027-10-01T00:00"), 16, 1010, channels=("regulator", "phone"))
        self.check("2027-10", plans, cal)

    def test_accept_while_waiting_ends_the_pause(self):
        """The customer accepts while we wait for them: the clocks stop, the
        complaint no longer waits, and the paused time up to the acceptance
        counts as paused (GET and STATS agree)."""
        cal = BizCal()
        cid, g = self.open_at("2027-11-01T10:00", depot="ST02")           # a Monday
        self.c("op1", "ACK", cid)
        self.c("op1", "PROPOSE", cid, text="refund")
        self.align_to_second()
        self.at("2027-11-01T11:00")
        self.c("op1", "WAIT", cid, **{"for": "customer", "reason": "thinking it over"})
        self.align_to_second()
        self.at("2027-11-03T11:00")                                       # Wednesday
        self.c("op1", "ACCEPT", cid)
        self.c("op1", "CLOSE", cid, **close_args())
        g = self.get(cid)
        tl = timeline(g)
        pause = [e for e in tl if e["action"] == "pause"][0]
        accept = [e for e in tl if e["action"] == "customer_accepted"][0]
        paused = cal.between(parse_iso(pause["at"]), parse_iso(accept["at"]))
        self.assertLessEqual(abs(paused - 18 * HOUR), 5)       # 7 h Monday, 9 h Tuesday, 2 h Wednesday
        self.assertEqual(g.get("waiting_for", ""), "", "a closed complaint still waits for the customer")
        self.assertEqual(int(g["paused_secs"]), paused)
        biz = cal.between(parse_iso(g["opened_at"]), parse_iso(g["closed_at"])) - paused
        s = self.m("op1").call("COMPLAINT", "STATS", month="2027-11")["data"]
        self.assertEqual(s["paused_secs_total"], paused)
        self.assertEqual(s["resolve_business_median_secs"], biz)
        self.assertEqual(int(g["clocks.resolve.used_secs"]), biz)


# ------------------------------------------------------- calendar time ----

class CalendarTimeClocks(ComplaintCase):
    """No calendar at all: the clocks count calendar time."""

    def test_no_calendar(self):
        self.at("2027-03-05T17:50")                                     # a Friday
        cid = self.open_id(depot="BJ02")
        g = self.get(cid)
        opened = parse_iso(g["opened_at"])
        self.assertEqual(g["clock_basis"], "calendar")
        self.assertEqual(g.get("calendar", ""), "")
        self.assertEqual(parse_iso(g["acknowledge_by"]), opened + 24 * HOUR)
        self.assertEqual(parse_iso(g["resolve_by"]), opened + 7 * DAY)
        for clock in ("acknowledge", "resolve"):
            self.assertEqual(g["clocks.%s.basis" % clock], "calendar")
        # Saturday evening is late in calendar time
        self.at(opened + 24 * HOUR - MIN)
        time.sleep(1.1)
        self.assertNotEqual(self.get(cid).get("acknowledge_breached"), "yes")
        self.at(opened + 24 * HOUR + MIN)
        g = self.poll(cid, lambda r: r.get("acknowledge_breached") == "yes", what="calendar-time breach")
        self.assertEqual(g["overdue"], "yes")
        r = self.assertReply(self.u("op1").cmd(line("CALENDAR", "DUE", depot="BJ02", start=g["opened_at"],
                                                    minutes=60)), 200)
        self.assertEqual(r["basis"], "calendar_time")

    def test_default_defined_then_deleted(self):
        admin = self.u("admin")
        self.at("2027-04-02T17:50")                                     # a Friday
        SlaCase.define(admin, "default")
        c1 = self.open_id(depot="SH01")
        g1 = self.get(c1)
        self.assertEqual((g1["clock_basis"], g1["calendar"]), ("business", "default"))
        self.assertEqual(parse_iso(g1["acknowledge_by"]), BizCal().add_minutes(parse_iso(g1["opened_at"]), ACK_MIN))
        r = self.assertReply(admin.cmd("CALENDAR DEL default"), 200)
        self.assertEqual(r.msg, "calendar default deleted: depots without a calendar now run on calendar time; "
                                "clocks already started keep theirs")
        c2 = self.open_id(depot="SH01")
        g2 = self.get(c2)
        self.assertEqual(g2["clock_basis"], "calendar")
        self.assertEqual(parse_iso(g2["acknowledge_by"]), parse_iso(g2["opened_at"]) + 24 * HOUR)
        self.assertEqual(stable(self.get(c1)), stable(g1))
        # the first still pauses in business time on its (deleted) calendar
        self.c("op1", "WAIT", c1, **{"for": "customer", "reason": "x"})
        self.at("2027-04-05T10:00")
        r = self.c("op1", "RESUME", c1)
        self.assertRegex(r.msg, r"^resumed after \d+ business second\(s\) paused$")
        self.assertLessEqual(abs(int(self.get(c1)["paused_secs"]) - (10 + 60) * 60), 5)


class BusinessClocksSwitchedOff(ComplaintCase):
    """complaint_business_clocks = no: calendar time even with calendars."""

    daemon_args = ("--complaint-business-clocks", "no")

    def test_switched_off(self):
        admin = self.u("admin")
        self.at("2027-03-05T17:50")
        SlaCase.define(admin, "default")
        cid = self.open_id(depot="BJ02")
        g = self.get(cid)
        self.assertEqual(g["clock_basis"], "calendar")
        self.assertEqual(parse_iso(g["acknowledge_by"]), parse_iso(g["opened_at"]) + 24 * HOUR)


class CategoryTargets(SlaCase):
    """complaint_category_resolve_business_minutes: a category's own resolve
    target in business minutes; other categories keep the default."""

    daemon_args = ("--complaint-category-resolve-business-minutes", "loss:4800,attitude:480")

    def test_category_targets(self):
        cal = BizCal()
        for category, minutes in (("loss", 4800), ("attitude", 480), ("delay", RESOLVE_MIN)):
            cid, g = self.open_at("2027-03-05T17:50", depot="BJ02", category=category)
            opened = parse_iso(g["opened_at"])
            self.assertEqual(parse_iso(g["resolve_by"]), legal(opened, cal.add_minutes(opened, minutes)), category)


if __name__ == "__main__":
    unittest.main()
