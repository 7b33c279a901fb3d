"""Contacts with account customers and the contact plan by tier
(CONTACT ADD/DONE/GET/LIST; docs/customers.md "Contacts and the contact
plan"): planning and recording, the next contact the plan raises, overdue
marked by the daemon's one timer when the clock passes, and bad input
refused with nothing written."""
import os
import subprocess
import time
import unittest

from harness import DAY, USERS, DaemonTestCase, iso, line, settings, sub_list

T0 = 1785542400  # 2026-08-01T00:00:00Z: the tests' clock


class ContactTest(DaemonTestCase):

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("admin") as a:
            r = a.cmd(line("CLOCK", "SET", iso(T0)))
            assert r.code == 200, r
        with cls.daemon.text("sup1") as s:
            for acct, tier in (("KEYC", "key"), ("MAJC", "local_major"), ("CASHC", None)):
                r = s.cmd(line("CUSTOMER", "ADD", acct, name="Acct " + acct, payment="monthly", depot="SH01",
                               manager="op1"))
                assert r.code == 201, r
                if tier:
                    r = s.cmd(line("CUSTOMER", "TIER", acct, tier=tier, reason="contract"))
                    assert r.code == 200, r

    def call(self, user, *words, expect=200, **named):
        r = self.conn(user).cmd(line(*words, **named))
        self.assertReply(r, expect)
        return r

    def contact(self, cid):
        return self.call("op1", "CONTACT", "GET", cid).rec

    def list_ids(self, user="op1", **named):
        r = self.call(user, "CONTACT", "LIST", limit=500, **named)
        return [int(x["id"]) for x in r.records]

    def now(self):
        return self.clock(self.conn("admin"))

    def test_plan_then_done_raises_the_plans_next_visit(self):
        now = self.now()
        r = self.call("op1", "CONTACT", "ADD", expect=201, customer="KEYC", kind="visit", purpose="courtesy",
                      planned_at=iso(now + 2 * DAY), with_whom="Mr Li, logistics head")
        cid = int(r["id"])
        c = self.contact(cid)
        self.assertEqual((c["status"], c["owner"], c["kind"], c["purpose"]), ("planned", "op1", "visit", "courtesy"))
        self.assertIn(cid, self.list_ids(customer="KEYC"))
        self.assertIn(cid, self.list_ids(owner="op1", due="week"))
        self.assertNotIn(cid, self.list_ids(owner="op1", due="overdue"))
        done_at = now
        r = self.call("op1", "CONTACT", "DONE", cid, summary="price held; wants a depot tour",
                      done_at=iso(done_at))
        c = self.contact(cid)
        self.assertEqual(c["status"], "done")
        self.assertEqual(c["summary"], "price held; wants a depot tour")
        nxt = int(c["next_contact"])
        n = self.contact(nxt)
        # a key account: the next visit a month (30 days) after this one
        self.assertEqual(n["planned_at"], iso(done_at + 30 * DAY))
        self.assertEqual(int(n["follows"]), cid)
        self.assertEqual((n["status"], n["kind"], n["purpose"], n["owner"], n["by_plan"]),
                         ("planned", "visit", "plan", "op1", "yes"))
        self.assertEqual(self.call("op1", "CONTACT", "LIST", customer="KEYC", limit=500).records[0]["id"],
                         str(nxt))
        actions = [e["action"] for e in sub_list(self.contact(cid), "timeline")]
        self.assertEqual(actions, ["plan", "done"])
        # done twice: refused
        self.call("op1", "CONTACT", "DONE", cid, summary="again", expect=409)

    def test_planned_time_follows_the_tier(self):
        now = self.now()
        at = now - DAY
        r = self.call("op2", "CONTACT", "ADD", expect=201, customer="MAJC", kind="call", purpose="callback",
                      done_at=iso(at), summary="asked about the new rates")
        c = self.contact(int(r["id"]))
        n = self.contact(int(c["next_contact"]))
        self.assertEqual(n["planned_at"], iso(at + 30 * DAY))
        self.assertEqual(n["owner"], "op2")
        # a visit of a local major account: a quarter (91 days)
        r = self.call("op2", "CONTACT", "ADD", expect=201, customer="MAJC", kind="visit", purpose="festival",
                      done_at=iso(at), summary="mid-autumn gifts")
        n = self.contact(int(self.contact(int(r["id"]))["next_contact"]))
        self.assertEqual(n["planned_at"], iso(at + 91 * DAY))
        # doing the planned call again moves that plan instead of adding one
        before = self.list_ids(customer="MAJC")
        r = self.call("op2", "CONTACT", "ADD", expect=201, customer="MAJC", kind="call", purpose="courtesy",
                      done_at=iso(now), summary="all well")
        moved = int(self.contact(int(r["id"]))["next_contact"])
        self.assertEqual(moved, int(c["next_contact"]))
        self.assertEqual(self.contact(moved)["planned_at"], iso(now + 30 * DAY))
        self.assertEqual(len(self.list_ids(customer="MAJC")), len(before) + 1)
        # a cash customer has no plan; an explicit next contact still is made
        r = self.call("op1", "CONTACT", "ADD", expect=201, customer="CASHC", kind="visit", done_at=iso(now),
                      summary="first visit with sales")
        self.assertNotIn("next_contact", self.contact(int(r["id"])))
        r = self.call("op1", "CONTACT", "ADD", expect=201, customer="CASHC", kind="visit", done_at=iso(now),
                      summary="second", next_at=iso(now + 5 * DAY), next_owner="op2", next_kind="letter")
        n = self.contact(int(self.contact(int(r["id"]))["next_contact"]))
        self.assertEqual((n["kind"], n["owner"], n["purpose"], n["planned_at"]),
                         ("letter", "op2", "follow_up", iso(now + 5 * DAY)))

    def test_overdue_marked_by_the_timer(self):
        now = self.now()
        self.addCleanup(self.set_clock, self.conn("admin"), T0)
        r = self.call("sup1", "CONTACT", "ADD", expect=201, customer="KEYC", kind="meeting", purpose="review",
                      planned_at=iso(now + DAY), owner="adj1")
        cid = int(r["id"])
        self.assertEqual(self.contact(cid)["overdue"], "no")
        self.assertNotIn(cid, self.list_ids(owner="adj1", due="overdue"))
        self.set_clock(self.conn("admin"), now + DAY + 10)
        # the daemon's own timer marks it (no SWEEP asked)
        deadline = time.time() + 10
        while self.contact(cid)["overdue"] != "yes" and time.time() < deadline:
            time.sleep(0.05)
        c = self.contact(cid)
        self.assertEqual(c["overdue"], "yes")
        tl = sub_list(c, "timeline")
        self.assertEqual((tl[-1]["action"], tl[-1]["who"]), ("overdue", "parceldeskd"))
        rows = self.call("adj1", "CONTACT", "LIST", owner="adj1", due="overdue").records
        self.assertEqual([(int(x["id"]), x["overdue"]) for x in rows if int(x["id"]) == cid], [(cid, "yes")])
        # done late: no longer overdue, and it says it was late
        self.call("adj1", "CONTACT", "DONE", cid, summary="held a day late")
        c = self.contact(cid)
        self.assertEqual((c["overdue"], c["done_late"]), ("no", "yes"))
        self.assertNotIn(cid, self.list_ids(owner="adj1", due="overdue"))

    def test_bad_input_is_refused_and_nothing_written(self):
        now = self.now()
        count = len(self.list_ids(user="sup1"))
        for named, code, msg in (
            (dict(customer="NOSUCH", kind="visit", planned_at=iso(now)), 404, "no customer NOSUCH"),
            (dict(customer="KEYC", kind="lunch", planned_at=iso(now)), 400, None),
            (dict(customer="KEYC", kind="visit"), 400, None),
            (dict(customer="KEYC", kind="visit", done_at=iso(now + DAY), summary="x"), 422, None),
            (dict(customer="KEYC", kind="visit", done_at=iso(now)), 400, None),
            (dict(customer="KEYC", kind="visit", planned_at=iso(now), owner="nobody"), 404, None),
            (dict(customer="KEYC", kind="visit", done_at=iso(now), summary="x", next_at=iso(now - DAY)), 422, None),
        ):
            r = self.conn("op1").cmd(line("CONTACT", "ADD", **named))
            self.assertReply(r, code, msg)
        r = self.call("op1", "CONTACT", "ADD", expect=201, customer="KEYC", kind="call", planned_at=iso(now + DAY))
        cid = int(r["id"])
        before = self.contact(cid)
        r = self.conn("op1").cmd(line("CONTACT", "DONE", cid, summary="x", done_at=iso(now + DAY)))
        self.assertReply(r, 422, msg_re="future")
        self.assertEqual(self.contact(cid), before)
        self.assertReply(self.conn("op1").cmd(line("CONTACT", "DONE", 999999, summary="x")), 404, "no contact 999999")
        self.assertReply(self.conn("op1").cmd(line("CONTACT", "LIST", due="month")), 400)
        self.assertEqual(len(self.list_ids(user="sup1")), count + 1)

    def test_agenda_of_the_client(self):
        """parceldesk agenda: this week's contacts of the logged-in user, the
        overdue ones marked as every list marks them."""
        now = self.now()
        late = int(self.call("sup1", "CONTACT", "ADD", expect=201, customer="KEYC", kind="call", owner="op2",
                             planned_at=iso(now - DAY))["id"])
        soon = int(self.call("sup1", "CONTACT", "ADD", expect=201, customer="MAJC", kind="visit", owner="op2",
                             planned_at=iso(now + 3 * DAY))["id"])
        later = int(self.call("sup1", "CONTACT", "ADD", expect=201, customer="MAJC", kind="visit", owner="op2",
                              planned_at=iso(now + 20 * DAY))["id"])
        other = int(self.call("sup1", "CONTACT", "ADD", expect=201, customer="KEYC", kind="call", owner="adj1",
                              planned_at=iso(now + DAY))["id"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARCELDESK_")}
        p = subprocess.run([settings.client, "-p", str(self.daemon.port), "-u", "op2", "-P", USERS["op2"][1],
                            "--csv", "agenda"], capture_output=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = p.stdout.decode().splitlines()
        head = rows[0].split(",")
        got = {int(r.split(",")[head.index("id")]): r.split(",")[head.index("overdue")] for r in rows[1:]}
        self.assertEqual(got.get(late), "yes")
        self.assertEqual(got.get(soon), "no")
        self.assertNotIn(later, got)
        self.assertNotIn(other, got)
        p = subprocess.run([settings.client, "-p", str(self.daemon.port), "-u", "op2", "-P", USERS["op2"][1],
                            "--human", "agenda"], capture_output=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("= overdue (", p.stdout.decode())


if __name__ == "__main__":
    unittest.main()
