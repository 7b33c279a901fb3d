"""Win-back prospects (WINBACK ADD/SET/CLOSE/GET/LIST; docs/customers.md
"Win-back"): raised by rule when a warning closes as lost (the reason from
its cause) or when the month-end run finds a customer that stopped sending
for winback_idle_months months; owner, contacts, before/after figures and
the outcome; bad input refused with nothing written."""
import time
import unittest

from harness import DAY, DaemonTestCase, iso, line, sub_list

T0 = 1806537600 + 10 * 86400  # 2027-04-11T00:00:00Z


class WinbackTest(DaemonTestCase):

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("admin") as a:
            assert a.cmd(line("CLOCK", "SET", iso(T0))).code == 200
        with cls.daemon.text("sup1") as s:
            for acct in ("WB1", "WB2", "WB3", "WB4"):
                r = s.cmd(line("CUSTOMER", "ADD", acct, name="Acct " + acct, payment="monthly", depot="SH01",
                               manager="op2"))
                assert r.code == 201, r

    def w(self, user, verb, *pos, expect=200, msg=None, msg_re=None, **kw):
        r = self.conn(user).cmd(line("WINBACK", verb, *pos, **kw))
        self.assertReply(r, expect, msg, msg_re)
        return r

    def of(self, account):
        return self.w("op1", "LIST", customer=account, limit=100).records

    def test_a_lost_warning_raises_a_prospect(self):
        r = self.conn("op1").cmd(line("WARNING", "ADD", customer="WB1", type="service_incident", subtype="ordinary",
                                      text="rates 10% above the rival", cause="price", owner="adj1"))
        self.assertReply(r, 201)
        wid = int(r["id"])
        self.assertEqual(self.of("WB1"), [])
        self.assertReply(self.conn("op1").cmd(line("WARNING", "CLOSE", wid, outcome="lost", text="went to a rival")),
                         200)
        rows = self.of("WB1")
        self.assertEqual(len(rows), 1)
        pid = int(rows[0]["id"])
        g = self.w("op1", "GET", pid).rec
        self.assertEqual((g["trigger"], g["source"], g["reason"], g["owner"], g["status"], g["created_by"]),
                         ("warning_lost", "warning:%d" % wid, "price", "adj1", "open", "parceldeskd"))
        self.assertEqual(g["left_month"], "2027-04")
        # a second lost warning while it is open raises no second prospect
        r = self.conn("op1").cmd(line("WARNING", "ADD", customer="WB1", type="competitor", subtype="tender",
                                      text="tender"))
        self.conn("op1").cmd(line("WARNING", "CLOSE", int(r["id"]), outcome="lost"))
        self.assertEqual(len(self.of("WB1")), 1)
        # the approach and the contacts made since
        self.w("adj1", "SET", pid, reason="price", approach="offer the 2026 rates for a quarter")
        k = self.conn("adj1").cmd(line("CONTACT", "ADD", customer="WB1", kind="visit", purpose="winback",
                                       done_at=iso(self.clock(self.conn("admin"))), summary="offer made"))
        self.assertReply(k, 201)
        g = self.w("op1", "GET", pid).rec
        self.assertEqual(g["approach"], "offer the 2026 rates for a quarter")
        self.assertIn(k["id"], [c["id"] for c in sub_list(g, "contacts")])
        self.w("adj1", "CLOSE", pid, outcome="won_back", text="signed again")
        g = self.w("op1", "GET", pid).rec
        self.assertEqual((g["status"], g["outcome"]), ("closed", "won_back"))
        self.assertEqual([e["action"] for e in sub_list(g, "timeline")], ["add", "set", "close"])
        self.w("adj1", "CLOSE", pid, outcome="not_won_back", expect=409)
        self.w("adj1", "SET", pid, reason="other", expect=409)

    def test_stopped_sending_found_at_month_end_with_figures(self):
        # waybills in Oct, Nov and Dec 2026 (30, 30, 33), none since
        for month_start, n in ((1790812800, 30), (1793491200, 30), (1796083200, 33)):  # 2026-10, 2026-11, 2026-12
            for i in range(n):
                self.create(self.conn("op1"), customer="WB2", created_at=iso(month_start + DAY + i * 60),
                            promised_at=month_start + 3 * DAY, fee_fen=1000)
        # WB3 kept sending in March
        self.create(self.conn("op1"), customer="WB3", created_at=iso(1803859200 + DAY), promised_at=1803859200 + 3 * DAY)
        self.create(self.conn("op1"), customer="WB3", created_at=iso(1790812800 + DAY), promised_at=1790812800 + 3 * DAY)
        st = self.month_end("2027-03")
        # MONTHEND STATUS counts the prospects the run raised: WB2 only
        self.assertEqual(st["winbacks_raised"], "1")
        rows = self.of("WB2")
        self.assertEqual(len(rows), 1)
        self.assertEqual(self.of("WB3"), [])
        g = self.w("op1", "GET", int(rows[0]["id"])).rec
        self.assertEqual((g["trigger"], g["reason"], g["owner"], g["left_month"]),
                         ("stopped_sending", "unknown", "op2", "2027-01"))
        # left in the first month without a waybill: the three months before against since
        self.assertEqual((g["figures.before_from"], g["figures.after_from"]), ("2026-10", "2027-01"))
        self.assertEqual((g["figures.waybills.monthly_before"], g["figures.waybills.monthly_after"],
                          g["figures.waybills.change_pct"]), ("31", "0", "-100.00"))
        self.assertEqual(g["figures.revenue_fen.monthly_before"], "31000")
        # running the month again raises no second prospect
        st = self.month_end("2027-03")
        self.assertEqual((st["runs"], st["winbacks_raised"]), ("2", "0"))
        self.assertEqual(len(self.of("WB2")), 1)

    def month_end(self, month):
        """Runs the month end of month and waits for it: its MONTHEND STATUS."""
        self.assertReply(self.conn("admin").cmd(line("MONTHEND", "RUN", month=month)), 200)
        deadline = time.time() + 30
        while time.time() < deadline:
            st = self.conn("op1").cmd(line("MONTHEND", "STATUS", month=month))
            if st["status"] == "done":
                break
            time.sleep(0.1)
        self.assertEqual(st["status"], "done")
        return st

    def test_bad_input_is_refused_and_nothing_written(self):
        count = len(self.w("op1", "LIST", limit=500).records)
        self.w("op1", "ADD", expect=404, customer="NOSUCH", reason="price")
        self.w("op1", "ADD", expect=400, customer="WB4", reason="weather")
        self.w("op1", "ADD", expect=404, customer="WB4", reason="price", owner="ghost")
        self.w("op1", "GET", 999999, expect=404, msg="no win-back prospect 999999")
        self.w("op1", "CLOSE", 999999, outcome="won_back", expect=404)
        self.assertEqual(len(self.w("op1", "LIST", limit=500).records), count)
        pid = int(self.w("op1", "ADD", expect=201, customer="WB4", reason="maintenance")["id"])
        self.w("op1", "ADD", expect=409, customer="WB4", reason="price")
        self.w("op1", "CLOSE", pid, expect=400, outcome="maybe")
        self.assertEqual(self.w("op1", "GET", pid)["status"], "open")


if __name__ == "__main__":
    unittest.main()
