"""A customer's needs (NEED ADD/RESULT/DONE/GET/LIST; docs/customers.md
"Needs"): routed by kind to a named owner, followed to a result (a service
need with operations' plan), closed only with the customer's written
confirmation; open needs listed by owner and age; bad input refused with
nothing written."""
import unittest

from harness import DAY, DaemonTestCase, iso, line, sub_list

T0 = 1785542400  # 2026-08-01T00:00:00Z: the tests' clock


class NeedTest(DaemonTestCase):

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("admin") as a:
            assert a.cmd(line("CLOCK", "SET", iso(T0))).code == 200
        with cls.daemon.text("sup1") as s:
            for acct in ("NKEY", "NMED"):
                r = s.cmd(line("CUSTOMER", "ADD", acct, name="Acct " + acct, payment="monthly", depot="SH01"))
                assert r.code == 201, r

    def call(self, user, *words, expect=200, **named):
        r = self.conn(user).cmd(line(*words, **named))
        self.assertReply(r, expect)
        return r

    def need(self, nid):
        return self.call("op1", "NEED", "GET", nid).rec

    def add(self, **named):
        return int(self.call("op1", "NEED", "ADD", expect=201, **named)["id"])

    def test_routed_answered_and_confirmed_in_writing(self):
        nid = self.add(customer="NKEY", kind="service", text="pickup before 8:00 on weekdays", owner="op2",
                       raised_by="Ms Zhao, logistics head")
        n = self.need(nid)
        self.assertEqual((n["route"], n["owner"], n["status"], n["raised_by"]),
                         ("operations", "op2", "open", "Ms Zhao, logistics head"))
        self.assertEqual(self.call("op1", "NEED", "GET", nid).msg, "need %d: open" % nid)
        # a service need is answered with operations' service plan
        r = self.conn("op2").cmd(line("NEED", "RESULT", nid, result="agreed"))
        self.assertReply(r, 422, msg_re="service plan")
        self.assertEqual(self.need(nid)["status"], "open")
        # closing before a result: refused
        r = self.conn("op2").cmd(line("NEED", "DONE", nid, confirmed_by="Ms Zhao", document="LTR-1"))
        self.assertReply(r, 409, msg_re="no result")
        self.call("op2", "NEED", "RESULT", nid, result="agreed", plan="a 7:30 van from SH01 on weekdays")
        n = self.need(nid)
        self.assertEqual((n["status"], n["plan"]), ("answered", "a 7:30 van from SH01 on weekdays"))
        # the written confirmation is required to close
        r = self.conn("op2").cmd(line("NEED", "DONE", nid, confirmed_by="Ms Zhao"))
        self.assertReply(r, 400, msg_re="document")
        self.assertEqual(self.need(nid)["status"], "answered")
        self.call("op2", "NEED", "DONE", nid, confirmed_by="Ms Zhao, logistics head", document="NKEY-2026-08-L3")
        n = self.need(nid)
        self.assertEqual((n["status"], n["document"], n["confirmed_by"]),
                         ("confirmed", "NKEY-2026-08-L3", "Ms Zhao, logistics head"))
        self.assertNotIn("age_days", n)
        self.assertEqual([e["action"] for e in sub_list(n, "timeline")], ["add", "result", "confirm"])
        self.call("op2", "NEED", "DONE", nid, confirmed_by="x", document="y", expect=409)
        self.call("op2", "NEED", "RESULT", nid, result="again", expect=409)

    def test_routes_of_each_kind(self):
        for kind, route in (("price", "marketing"), ("price_adjustment", "cs_head"), ("rebate", "cs_head")):
            nid = self.add(customer="NMED", kind=kind, text="about " + kind, owner="sup1")
            self.assertEqual(self.need(nid)["route"], route)
            # a price need needs no plan
            self.call("sup1", "NEED", "RESULT", nid, result="offer sent")
        rows = self.call("op1", "NEED", "LIST", route="cs_head", limit=500).records
        self.assertTrue(rows and all(r["route"] == "cs_head" for r in rows))

    def test_open_needs_by_owner_and_age(self):
        admin = self.conn("admin")
        now = self.clock(admin)
        self.addCleanup(self.set_clock, admin, now)
        old = self.add(customer="NKEY", kind="price", text="a lower rate for Xinjiang", owner="adj1")
        self.set_clock(admin, now + 5 * DAY)
        new = self.add(customer="NMED", kind="rebate", text="year-end rebate", owner="adj1")
        other = self.add(customer="NMED", kind="rebate", text="someone else's", owner="op2")
        self.set_clock(admin, now + 12 * DAY)
        rows = self.call("adj1", "NEED", "LIST", owner="adj1", open="yes", limit=500).records
        got = [(int(r["id"]), int(r["age_days"])) for r in rows]
        self.assertEqual(got[:2], [(old, 12), (new, 7)])  # the oldest first
        self.assertNotIn(other, [i for i, _ in got])
        self.assertEqual(int(self.need(old)["age_days"]), 12)
        # newest first without open=
        ids = [int(r["id"]) for r in self.call("adj1", "NEED", "LIST", owner="adj1", limit=500).records]
        self.assertLess(ids.index(new), ids.index(old))
        # confirmed: off the open list
        self.call("adj1", "NEED", "RESULT", old, result="rate cut 3%")
        self.call("adj1", "NEED", "DONE", old, confirmed_by="Mr Li", document="MAIL-20260813")
        rows = self.call("adj1", "NEED", "LIST", owner="adj1", open="yes", limit=500).records
        self.assertNotIn(old, [int(r["id"]) for r in rows])

    def test_bad_input_is_refused_and_nothing_written(self):
        count = len(self.call("op1", "NEED", "LIST", limit=500).records)
        for named, code in (
            (dict(customer="NOSUCH", kind="price", text="x", owner="op1"), 404),
            (dict(customer="NKEY", kind="lunch", text="x", owner="op1"), 400),
            (dict(customer="NKEY", kind="price", text="x", owner="nobody"), 404),
            (dict(customer="NKEY", kind="price", text="x"), 400),
            (dict(customer="NKEY", kind="price", owner="op1"), 400),
        ):
            self.assertReply(self.conn("op1").cmd(line("NEED", "ADD", **named)), code)
        self.assertReply(self.conn("op1").cmd(line("NEED", "GET", 999999)), 404, "no need 999999")
        self.assertReply(self.conn("op1").cmd(line("NEED", "RESULT", 999999, result="x")), 404)
        self.assertEqual(len(self.call("op1", "NEED", "LIST", limit=500).records), count)


if __name__ == "__main__":
    unittest.main()
