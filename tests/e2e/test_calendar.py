"""Business-hours calendars (CALENDAR SET / HOLIDAY / UNHOLIDAY / WORKDAY /
UNWORKDAY / GET / LIST / ASSIGN / UNASSIGN / DEL / DUE): definition, the
depot look-up with its `default`, versions, the timeline, due times across
weekends, holidays and make-up days, and bad input that writes nothing."""
import unittest

from harness import DaemonTestCase, line, sub_list

WEEKDAYS = dict(monday="09:00-18:00", tuesday="09:00-18:00", wednesday="09:00-18:00",
                thursday="09:00-18:00", friday="09:00-18:00")
APPLIES = "applies to clocks started from now on"

# 2026-03-02 is a Monday (the harness's T0 week).
FRI_1750 = "2026-03-06T17:50:00+08:00"
SAT_1000 = "2026-03-07T10:00:00+08:00"


def set_line(name, zone="Asia/Shanghai", **days):
    d = dict(WEEKDAYS) if not days else days
    return line("CALENDAR", "SET", name, zone=zone, **d)


class Calendars(DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.admin = self.text("admin")
        self.op = self.text("op1")

    # -- helpers --
    def define(self, name, **kw):
        r = self.admin.cmd(set_line(name, **kw))
        self.assertReply(r, 201)
        return r

    def due(self, c=None, **named):
        r = (c or self.op).cmd(line("CALENDAR", "DUE", *([named.pop("name")] if "name" in named else []), **named))
        self.assertReply(r, 200)
        return r

    def snapshot(self, *names):
        """What must not change after a refused request: the LIST and each
        named calendar as GET shows it."""
        out = [self.admin.cmd("CALENDAR LIST").lines]
        for n in names:
            out.append(self.admin.cmd(line("CALENDAR", "GET", n)).lines)
        return out

    # -- definition --
    def test_define_get_list(self):
        r = self.define("std", monday="09:00-12:00,13:30-18:00", tuesday="09:00-18:00",
                        wednesday="09:00-18:00", thursday="09:00-18:00", friday="09:00-17:00")
        self.assertEqual(r.msg, "calendar std version 1: created; " + APPLIES)
        self.assertEqual((r["name"], r["version"], r["zone"]), ("std", "1", "Asia/Shanghai"))
        self.assertEqual(r["saturday"], "closed")
        self.assertEqual(r["sunday"], "closed")

        g = self.assertReply(self.op.cmd("CALENDAR GET std"), 200, "calendar std version 1")
        self.assertEqual(g["monday"], "09:00-12:00,13:30-18:00")
        self.assertEqual(g["friday"], "09:00-17:00")
        self.assertEqual(g["utc_offset"], "+08:00")
        self.assertEqual(g["week_minutes"], str(180 + 270 + 3 * 540 + 480))
        self.assertEqual(g["changed_by"], "admin")
        self.assertRegex(g["changed_at"], r"\+08:00$")
        self.assertEqual(g["serves_unassigned_depots"], "no")
        self.assertEqual(g["timeline.1.action"], "create")

        rows = {x["name"]: x for x in self.assertReply(self.op.cmd("CALENDAR LIST"), 200).records}
        self.assertIn("std", rows)
        self.assertEqual((rows["std"]["version"], rows["std"]["depot_count"]), ("1", "0"))

        # the same definition again writes nothing
        r = self.assertReply(self.admin.cmd(set_line("std", monday="09:00-12:00,13:30-18:00", tuesday="09:00-18:00",
                                                     wednesday="09:00-18:00", thursday="09:00-18:00",
                                                     friday="09:00-17:00")), 200)
        self.assertEqual(r.msg, "calendar std unchanged (version 1)")
        # a change is a new version, and says when it applies
        r = self.assertReply(self.admin.cmd(set_line("std")), 200)
        self.assertEqual(r.msg, "calendar std version 2: hours changed; " + APPLIES)
        self.assertEqual(self.op.cmd("CALENDAR GET std")["monday"], "09:00-18:00")
        # the earlier version stays readable
        old = self.assertReply(self.op.cmd("CALENDAR GET std version=1"), 200, "calendar std version 1")
        self.assertEqual(old["monday"], "09:00-12:00,13:30-18:00")
        self.assertReply(self.op.cmd("CALENDAR GET std version=9"), 404, "no calendar std version 9")
        self.assertReply(self.op.cmd("CALENDAR GET nosuch"), 404, "no calendar nosuch")

    def test_roles(self):
        self.define("roles")
        self.assertReply(self.op.cmd(set_line("roles2")), 403)
        self.assertReply(self.op.cmd(line("CALENDAR", "HOLIDAY", "roles", date="2026-10-01")), 403)
        self.assertReply(self.op.cmd(line("CALENDAR", "ASSIGN", depot="SH09", calendar="roles")), 403)
        self.assertReply(self.op.cmd("CALENDAR DEL roles"), 403)
        self.assertReply(self.op.cmd("CALENDAR GET roles"), 200)
        self.assertReply(self.op.cmd("CALENDAR LIST"), 200)
        self.due(name="roles", start=FRI_1750, minutes=60)
        self.assertReply(self.op.cmd("CALENDAR GET roles2"), 404)

    def test_zones(self):
        r = self.define("tokyo", zone="+09:00")
        self.assertEqual(r["zone"], "+09:00")
        d = self.due(name="tokyo", start="2026-03-06T17:50:00+09:00", minutes=60)
        self.assertEqual(d["due_local"], "2026-03-09T09:50:00+09:00")
        self.assertEqual(d["due"], "2026-03-09T08:50:00+08:00")   # shown in the daemon's zone
        self.assertEqual(d["utc_offset"], "+09:00")
        for z in ("UTC", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Macau", "-05:00"):
            self.assertReply(self.admin.cmd(set_line("zone-" + z.replace("/", "_").replace(":", ""), zone=z)), 201)
        self.assertEqual(self.op.cmd("CALENDAR GET zone-UTC")["utc_offset"], "+00:00")
        self.assertEqual(self.op.cmd("CALENDAR GET zone--0500")["utc_offset"], "-05:00")

    # -- due times --
    def test_due_across_weekend(self):
        self.define("week")
        d = self.due(name="week", start=FRI_1750, minutes=60)
        self.assertEqual(d.msg, "due 2026-03-09T09:50:00+08:00")
        self.assertEqual((d["calendar"], d["version"], d["basis"], d["minutes"]), ("week", "1", "business_hours", "60"))
        self.assertEqual(d["start"], FRI_1750)
        self.assertEqual(d["due"], "2026-03-09T09:50:00+08:00")
        # a start on Saturday waits for Monday's opening
        self.assertEqual(self.due(name="week", start=SAT_1000, minutes=30)["due"], "2026-03-09T09:30:00+08:00")
        # ending exactly at closing time is that closing time
        self.assertEqual(self.due(name="week", start="2026-03-06T17:00:00+08:00", minutes=60)["due"],
                         "2026-03-06T18:00:00+08:00")
        # 0 minutes is the start itself
        self.assertEqual(self.due(name="week", start=SAT_1000, minutes=0)["due"], SAT_1000)
        # two full weeks of business time: 2 x 5 x 540 minutes
        self.assertEqual(self.due(name="week", start="2026-03-02T09:00:00+08:00", minutes=5400)["due"],
                         "2026-03-13T18:00:00+08:00")

    def test_due_across_holiday(self):
        self.define("hol")
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "HOLIDAY", "hol", date="2026-03-09", label="test day")), 201)
        self.assertEqual(r.msg, "calendar hol version 2: holiday 2026-03-09 added; " + APPLIES)
        self.assertEqual(r["holiday_count"], "1")
        # Friday 17:50 + 60: Monday is a holiday, so Tuesday 09:50
        self.assertEqual(self.due(name="hol", start=FRI_1750, minutes=60)["due"], "2026-03-10T09:50:00+08:00")
        # the version the clock would start under
        self.assertEqual(self.due(name="hol", start=FRI_1750, minutes=60)["version"], "2")
        # the earlier version (without the holiday) is still computable
        self.assertEqual(self.due(name="hol", version=1, start=FRI_1750, minutes=60)["due"],
                         "2026-03-09T09:50:00+08:00")
        g = self.op.cmd("CALENDAR GET hol")
        self.assertEqual(sub_list(g.rec, "holidays"), [{"date": "2026-03-09", "label": "test day"}])
        # a second holiday on the same date is refused, nothing written
        self.assertReply(self.admin.cmd(line("CALENDAR", "HOLIDAY", "hol", date="2026-03-09")), 409,
                         "2026-03-09 is already a holiday of calendar hol")
        # removing it brings Monday back
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "UNHOLIDAY", "hol", date="2026-03-09")), 200)
        self.assertEqual(r.msg, "calendar hol version 3: holiday 2026-03-09 removed; " + APPLIES)
        self.assertEqual(self.due(name="hol", start=FRI_1750, minutes=60)["due"], "2026-03-09T09:50:00+08:00")
        self.assertReply(self.admin.cmd(line("CALENDAR", "UNHOLIDAY", "hol", date="2026-03-09")), 404,
                         "2026-03-09 is not a holiday of calendar hol")
        # holidays are kept in date order whatever the order they were added in
        for day in ("2026-10-03", "2026-10-01", "2026-10-02"):
            self.assertReply(self.admin.cmd(line("CALENDAR", "HOLIDAY", "hol", date=day, label="National Day")), 201)
        dates = [h["date"] for h in sub_list(self.op.cmd("CALENDAR GET hol").rec, "holidays")]
        self.assertEqual(dates, ["2026-10-01", "2026-10-02", "2026-10-03"])

    def test_due_on_makeup_saturday(self):
        self.define("mk")
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "WORKDAY", "mk", date="2026-03-07", hours="09:00-12:00",
                                                 label="make-up for a holiday")), 201)
        self.assertEqual(r.msg, "calendar mk version 2: make-up day 2026-03-07 added; " + APPLIES)
        self.assertEqual(r["workday_count"], "1")
        # Friday 17:50 + 60: 10 minutes Friday, 50 on the make-up Saturday
        self.assertEqual(self.due(name="mk", start=FRI_1750, minutes=60)["due"], "2026-03-07T09:50:00+08:00")
        # past the Saturday's short hours the clock goes on on Monday: 10 + 180 + 20
        self.assertEqual(self.due(name="mk", start=FRI_1750, minutes=210)["due"], "2026-03-09T09:20:00+08:00")
        g = self.op.cmd("CALENDAR GET mk")
        self.assertEqual(sub_list(g.rec, "workdays"),
                         [{"date": "2026-03-07", "hours": "09:00-12:00", "label": "make-up for a holiday"}])
        self.assertReply(self.admin.cmd(line("CALENDAR", "WORKDAY", "mk", date="2026-03-07", hours="09:00-18:00")), 409)
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "UNWORKDAY", "mk", date="2026-03-07")), 200)
        self.assertEqual(r.msg, "calendar mk version 3: make-up day 2026-03-07 removed; " + APPLIES)
        self.assertEqual(self.due(name="mk", start=FRI_1750, minutes=60)["due"], "2026-03-09T09:50:00+08:00")
        self.assertReply(self.admin.cmd(line("CALENDAR", "UNWORKDAY", "mk", date="2026-03-07")), 404,
                         "2026-03-07 is not a make-up day of calendar mk")

    def test_due_holiday_week_with_makeup_days(self):
        """China's National Day week: 1-7 October off, Sunday 27 September
        and Saturday 10 October worked (a 2026-style arrangement)."""
        self.define("cn")
        for day in range(1, 8):
            self.assertReply(self.admin.cmd(line("CALENDAR", "HOLIDAY", "cn", date="2026-10-%02d" % day,
                                                 label="National Day")), 201)
        for day in ("2026-09-27", "2026-10-10"):
            self.assertReply(self.admin.cmd(line("CALENDAR", "WORKDAY", "cn", date=day, hours="09:00-18:00")), 201)
        # Wednesday 30 September 17:00 + 120 min: 60 that day, then the week
        # off, Thursday 8 October opens: 09:00 + 60
        self.assertEqual(self.due(name="cn", start="2026-09-30T17:00:00+08:00", minutes=120)["due"],
                         "2026-10-08T10:00:00+08:00")
        # Friday 9 October 17:30 + 60: 30 that day, 30 on the make-up Saturday
        self.assertEqual(self.due(name="cn", start="2026-10-09T17:30:00+08:00", minutes=60)["due"],
                         "2026-10-10T09:30:00+08:00")
        # Saturday 26 September 12:00 + 30: the make-up Sunday 27th
        self.assertEqual(self.due(name="cn", start="2026-09-26T12:00:00+08:00", minutes=30)["due"],
                         "2026-09-27T09:30:00+08:00")
        self.assertEqual(self.op.cmd("CALENDAR GET cn")["version"], str(1 + 7 + 2))

    # -- depots --
    def test_assign_default_and_del(self):
        # no calendar for the depot and no default: calendar time
        d = self.due(depot="BJ77", start=FRI_1750, minutes=60)
        self.assertEqual((d["basis"], d["calendar"], d["due"]), ("calendar_time", "", "2026-03-06T18:50:00+08:00"))
        self.assertEqual(d.msg, "due 2026-03-06T18:50:00+08:00 (depot BJ77 has no calendar: calendar time)")
        # a calendar named default serves every depot without its own
        self.define("default")
        self.assertEqual(self.op.cmd("CALENDAR GET default")["serves_unassigned_depots"], "yes")
        d = self.due(depot="BJ77", start=FRI_1750, minutes=60)
        self.assertEqual((d["basis"], d["calendar"], d["due"]), ("business_hours", "default", "2026-03-09T09:50:00+08:00"))
        # a depot's own calendar wins
        self.define("late", monday="12:00-20:00", tuesday="12:00-20:00", wednesday="12:00-20:00",
                    thursday="12:00-20:00", friday="12:00-20:00", saturday="12:00-20:00")
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "ASSIGN", depot="BJ77", calendar="late")), 200)
        self.assertEqual(r.msg, "depot BJ77 uses calendar late (version 1); " + APPLIES)
        self.assertEqual((r["depot"], r["calendar"], r["previous"]), ("BJ77", "late", ""))
        d = self.due(depot="BJ77", start=FRI_1750, minutes=60)
        self.assertEqual((d["calendar"], d["due"]), ("late", "2026-03-06T18:50:00+08:00"))
        d = self.due(depot="BJ77", start="2026-03-06T19:30:00+08:00", minutes=60)
        self.assertEqual(d["due"], "2026-03-07T12:30:00+08:00")
        self.assertReply(self.admin.cmd(line("CALENDAR", "ASSIGN", depot="BJ77", calendar="late")), 200,
                         "depot BJ77 already uses calendar late")
        self.assertReply(self.admin.cmd(line("CALENDAR", "ASSIGN", depot="BJ77", calendar="nosuch")), 404,
                         "no calendar nosuch")
        self.assertReply(self.admin.cmd(line("CALENDAR", "ASSIGN", depot="SH78", calendar="late")), 200)
        g = self.op.cmd("CALENDAR GET late")
        self.assertEqual((g["depots.1"], g["depots.2"]), ("BJ77", "SH78"))
        rows = {x["name"]: x for x in self.op.cmd("CALENDAR LIST").records}
        self.assertEqual((rows["late"]["depot_count"], rows["default"]["depot_count"]), ("2", "0"))
        actions = [e["action"] for e in sub_list(g.rec, "timeline")]
        self.assertEqual(actions, ["create", "assign", "assign"])

        # deleting an assigned calendar is refused and writes nothing
        before = self.snapshot("late", "default")
        self.assertReply(self.admin.cmd("CALENDAR DEL late"), 409,
                         "calendar late is assigned to depot BJ77, SH78: assign them another calendar first")
        self.assertEqual(self.snapshot("late", "default"), before)

        # moving a depot: both calendars' timelines say so
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "ASSIGN", depot="SH78", calendar="default")), 200)
        self.assertEqual(r["previous"], "late")
        self.assertEqual([e["action"] for e in sub_list(self.op.cmd("CALENDAR GET late").rec, "timeline")][-1],
                         "unassign")
        r = self.assertReply(self.admin.cmd(line("CALENDAR", "UNASSIGN", depot="BJ77")), 200)
        self.assertEqual(r.msg, "depot BJ77 uses calendar default; " + APPLIES)
        self.assertReply(self.admin.cmd(line("CALENDAR", "UNASSIGN", depot="BJ77")), 404,
                         "depot BJ77 has no calendar of its own")
        self.assertEqual(self.due(depot="BJ77", start=FRI_1750, minutes=60)["calendar"], "default")

        # now late is free to go; its versions stay computable for clocks started on it
        r = self.assertReply(self.admin.cmd("CALENDAR DEL late"), 200)
        self.assertEqual(r.msg, "calendar late deleted; clocks already started on it keep their due times")
        self.assertReply(self.op.cmd("CALENDAR GET late"), 404)
        self.assertNotIn("late", [x["name"] for x in self.op.cmd("CALENDAR LIST").records])
        self.assertEqual(self.due(name="late", version=1, start=FRI_1750, minutes=60)["due"],
                         "2026-03-06T18:50:00+08:00")
        # defined again, it goes on counting versions
        self.assertEqual(self.define("late")["version"], "2")
        self.assertReply(self.admin.cmd("CALENDAR DEL late"), 200)

        # without default, depots run on calendar time again
        self.assertReply(self.admin.cmd(line("CALENDAR", "UNASSIGN", depot="SH78")), 200)
        r = self.assertReply(self.admin.cmd("CALENDAR DEL default"), 200)
        self.assertEqual(r.msg, "calendar default deleted: depots without a calendar now run on calendar time; "
                                "clocks already started keep theirs")
        self.assertEqual(self.due(depot="BJ77", start=FRI_1750, minutes=60)["basis"], "calendar_time")

    # -- bad input: each its own clear error, nothing written --
    def test_bad_definitions_write_nothing(self):
        self.define("keep")
        self.assertReply(self.admin.cmd(line("CALENDAR", "HOLIDAY", "keep", date="2026-10-01")), 201)
        self.assertReply(self.admin.cmd(line("CALENDAR", "WORKDAY", "keep", date="2026-10-10", hours="09:00-18:00")), 201)
        before = self.snapshot("keep")
        cases = [
            # overlapping hours
            (set_line("bad", monday="09:00-12:00,11:00-13:00"), 422,
             "calendar bad: monday: interval 2 (11:00-13:00) overlaps interval 1 (09:00-12:00)"),
            (set_line("keep", tuesday="09:00-18:00,17:00-19:00"), 422,
             "calendar keep: tuesday: interval 2 (17:00-19:00) overlaps interval 1 (09:00-18:00)"),
            # end before start
            (set_line("bad", monday="18:00-09:00"), 422,
             "calendar bad: monday: interval 1 (18:00-09:00) ends before it starts; "
             "a shift past midnight is two intervals on two days"),
            (set_line("bad", friday="09:00-09:00"), 422,
             "calendar bad: friday: interval 1 (09:00-09:00) ends before it starts; "
             "a shift past midnight is two intervals on two days"),
            # out of order
            (set_line("bad", monday="13:00-18:00,09:00-12:00"), 422,
             "calendar bad: monday: interval 2 starts before interval 1; list intervals in time order"),
            # unreadable hours
            (set_line("bad", monday="9-18"), 400,
             'calendar bad: monday: "9-18" is not HH:MM-HH:MM, intervals joined by commas, or closed'),
            (set_line("bad", monday="09:00-18:60"), 400,
             "calendar bad: monday: interval 1 (09:00-18:60) has a time outside 00:00-24:00"),
            # unknown zone
            (set_line("bad", zone="Mars/Olympus_Mons"), 422,
             "unknown time zone Mars/Olympus_Mons: give an offset like +08:00 or one of "
             "UTC, Etc/UTC, Asia/Shanghai, Asia/Hong_Kong, Asia/Macau, Asia/Taipei"),
            (set_line("keep", zone="+19:00"), 422, "zone +19:00 is not an offset like +08:00 (at most 18:00 either way)"),
            # no working hours at all
            (set_line("bad", monday="closed"), 422, "calendar bad: no working hours on any day of the week"),
            (line("CALENDAR", "SET", "bad", zone="UTC"), 422, "calendar bad: no working hours on any day of the week"),
            # malformed dates
            (line("CALENDAR", "HOLIDAY", "keep", date="2026-13-01"), 400, "argument 'date' must be a date like 2026-11-24"),
            (line("CALENDAR", "HOLIDAY", "keep", date="2026-02-29"), 400, "argument 'date' must be a date like 2026-11-24"),
            (line("CALENDAR", "HOLIDAY", "keep", date="01/10/2026"), 400, "argument 'date' must be a date like 2026-11-24"),
            (line("CALENDAR", "WORKDAY", "keep", date="2026-9-27", hours="09:00-18:00"), 400,
             "argument 'date' must be a date like 2026-11-24"),
            # a make-up day without hours, or with bad ones
            (line("CALENDAR", "WORKDAY", "keep", date="2026-09-27", hours="closed"), 422,
             "calendar keep: make-up day 2026-09-27 needs working hours; a day off is a holiday (CALENDAR HOLIDAY)"),
            (line("CALENDAR", "WORKDAY", "keep", date="2026-09-27", hours="10:00-12:00,11:00-13:00"), 422,
             "calendar keep: make-up day 2026-09-27: interval 2 (11:00-13:00) overlaps interval 1 (10:00-12:00)"),
            # one date both a holiday and a make-up day
            (line("CALENDAR", "HOLIDAY", "keep", date="2026-10-10"), 409,
             "2026-10-10 is a make-up working day of calendar keep: remove it first (CALENDAR UNWORKDAY)"),
            (line("CALENDAR", "WORKDAY", "keep", date="2026-10-01", hours="09:00-18:00"), 409,
             "2026-10-01 is a holiday of calendar keep: remove it first (CALENDAR UNHOLIDAY)"),
            # missing pieces and unknown names
            (line("CALENDAR", "SET", "bad", monday="09:00-18:00"), 400, "missing argument 'zone'"),
            (line("CALENDAR", "HOLIDAY", "keep"), 400, "missing argument 'date'"),
            (line("CALENDAR", "HOLIDAY", "nosuch", date="2026-10-01"), 404, "no calendar nosuch"),
            (line("CALENDAR", "DEL", "nosuch"), 404, "no calendar nosuch"),
            (line("CALENDAR", "SET", "bad name", zone="UTC"), 400,
             "argument 'name' must be a word of letters, digits, _ - . (at most 64)"),
        ]
        for req, code, msg in cases:
            with self.subTest(req=req):
                self.assertReply(self.admin.cmd(req), code, msg)
                self.assertEqual(self.snapshot("keep"), before)
                self.assertReply(self.admin.cmd("CALENDAR GET bad"), 404)

    def test_zone_with_daylight_saving_refused(self):
        r = self.assertReply(self.admin.cmd(set_line("berlin", zone="Europe/Berlin")), 422)
        # worded by whether the system's zoneinfo knows the name
        self.assertRegex(r.msg, r"^(zone Europe/Berlin is not a fixed-offset zone calendars accept .*daylight saving"
                                r"|unknown time zone Europe/Berlin)")
        self.assertReply(self.op.cmd("CALENDAR GET berlin"), 404)

    def test_messages_quoting_input_stay_valid_utf8(self):
        m = self.mp("admin")   # raw=False: invalid UTF-8 in a reply raises
        r = m.call("CALENDAR", "SET", "u8", {"zone": "火星/奥林帕斯山" * 5, "monday": "09:00-18:00"})
        self.assertEqual(r["code"], 422)
        self.assertRegex(r["msg"], r"^unknown time zone 火星/[^ ]*\.\.\.: give an offset like \+08:00")
        r = m.call("CALENDAR", "SET", "u8", {"zone": "UTC", "monday": "九点到六点" * 4})
        self.assertEqual(r["code"], 400)
        self.assertRegex(r["msg"], r'^calendar u8: monday: "九点到六点[^"]*\.\.\." is not HH:MM-HH:MM')
        self.assertReply(self.op.cmd("CALENDAR GET u8"), 404)

    def test_due_bad_input(self):
        self.define("dq")
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", start=FRI_1750, minutes=60)), 400,
                         "give a calendar name or depot=")
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", "dq", depot="BJ02", start=FRI_1750, minutes=60)), 400,
                         "give a calendar name or depot=, not both")
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", "nosuch", start=FRI_1750, minutes=60)), 404,
                         "no calendar nosuch")
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", "dq", start="Friday", minutes=60)), 400)
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", "dq", start=FRI_1750, minutes=-5)), 400)
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", "dq", start=FRI_1750, minutes=10 ** 14)), 422,
                         "the due time falls outside 1970-01-01..9999-12-31")
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", depot="NOCAL1", start=FRI_1750, minutes=10 ** 14)), 422,
                         "the due time falls outside 1970-01-01..9999-12-31")
        self.assertReply(self.op.cmd(line("CALENDAR", "DUE", depot="NOCAL1", version=1, start=FRI_1750, minutes=1)),
                         400, "version= goes with a calendar name, not with depot=")

    # -- versions, timeline, idempotency, msgpack --
    def test_timeline_and_versions(self):
        self.define("tl")
        self.admin.cmd(line("CALENDAR", "HOLIDAY", "tl", date="2026-05-01", label="Labour Day"))
        self.admin.cmd(line("CALENDAR", "WORKDAY", "tl", date="2026-05-09", hours="09:00-18:00"))
        self.admin.cmd(line("CALENDAR", "UNHOLIDAY", "tl", date="2026-05-01"))
        self.admin.cmd(set_line("tl", zone="+08:00"))
        g = self.op.cmd("CALENDAR GET tl")
        self.assertEqual(g["version"], "5")
        tl = sub_list(g.rec, "timeline")
        self.assertEqual([e["action"] for e in tl], ["create", "holiday", "workday", "unholiday", "change"])
        self.assertTrue(all(e["who"] == "admin" for e in tl))
        self.assertEqual(tl[1]["text"], "Labour Day")
        # one line per change: "OLD → NEW"
        self.assertEqual(tl[1]["changes.2026-05-01"], "ordinary day \u2192 holiday Labour Day")
        self.assertEqual(tl[1]["changes.version"], "1 \u2192 2")
        self.assertEqual(tl[3]["changes.2026-05-01"], "holiday Labour Day \u2192 ordinary day")
        self.assertEqual(tl[4]["changes.zone"], "Asia/Shanghai \u2192 +08:00")
        # the opening entry lists what it set, without empty old values
        self.assertEqual(tl[0]["changes.version"], "1")
        self.assertFalse([k for k, v in tl[0].items() if "\u2192" in v], tl[0])
        # every version is kept
        for v, holidays in ((1, "0"), (2, "1"), (3, "1"), (4, "0")):
            r = self.assertReply(self.op.cmd("CALENDAR GET tl version=%d" % v), 200)
            self.assertEqual((r["version"], r.get("holidays.1.date") is not None), (str(v), holidays == "1"))

    def test_idempotent_write(self):
        self.define("idem")
        first = self.admin.cmd(line("CALENDAR", "HOLIDAY", "idem", date="2026-01-01", req="cal-idem-1"))
        self.assertReply(first, 201)
        again = self.admin.cmd(line("CALENDAR", "HOLIDAY", "idem", date="2026-01-01", req="cal-idem-1"))
        self.assertEqual((again.code, again.msg, again.lines), (first.code, first.msg, first.lines))
        self.assertEqual(self.op.cmd("CALENDAR GET idem")["version"], "2")

    def test_msgpack(self):
        m = self.mp("admin")
        r = m.call("CALENDAR", "SET", "mp", {"zone": "Asia/Shanghai", "monday": "09:00-18:00", "friday": "09:00-18:00"})
        self.assertEqual(r["code"], 201)
        self.assertEqual(r["data"]["version"], 1)
        r = m.call("CALENDAR", "SET", "mp", {"zone": "Asia/Shanghai", "monday": "09:00-12:00,10:00-11:00"})
        self.assertEqual((r["code"], r["msg"]),
                         (422, "calendar mp: monday: interval 2 (10:00-11:00) overlaps interval 1 (09:00-12:00)"))
        r = m.call("CALENDAR", "DUE", "mp", {"start": FRI_1750, "minutes": 60})
        self.assertEqual((r["code"], r["data"]["due"], r["data"]["version"]), (200, "2026-03-09T09:50:00+08:00", 1))
        r = m.call("CALENDAR", "GET", "mp")
        self.assertEqual(r["data"]["holidays"], [])
        self.assertEqual(r["data"]["depots"], [])
        self.assertEqual(r["data"]["tuesday"], "closed")


class CalendarRestart(DaemonTestCase):
    create_users = False

    def test_calendars_survive_a_restart(self):
        with self.daemon.text("admin") as c:
            self.assertReply(c.cmd(set_line("default")), 201)
            self.assertReply(c.cmd(line("CALENDAR", "HOLIDAY", "default", date="2026-03-09")), 201)
            self.assertReply(c.cmd(line("CALENDAR", "ASSIGN", depot="GZ01", calendar="default")), 200)
        self.daemon.stop()
        self.daemon.restart()
        with self.daemon.text("admin") as c:
            g = self.assertReply(c.cmd("CALENDAR GET default"), 200, "calendar default version 2")
            self.assertEqual((g["holidays.1.date"], g["depots.1"]), ("2026-03-09", "GZ01"))
            d = self.assertReply(c.cmd(line("CALENDAR", "DUE", depot="GZ01", start=FRI_1750, minutes=60)), 200)
            self.assertEqual(d["due"], "2026-03-10T09:50:00+08:00")
            self.assertReply(c.cmd("CALENDAR GET default version=1"), 200, "calendar default version 1")


if __name__ == "__main__":
    unittest.main()
