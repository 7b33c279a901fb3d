"""A key account's month at the telnet prompt, as PROTOCOL.md shows it
("A key account's month"): a visit, a call-back after a complaint, a
survey, a rectification after the incident. The transcript in PROTOCOL.md
between the care-month markers is this session's, byte for byte: the test
replays it against a fresh daemon (the clock set before each step) and
compares. Re-record it after an intended change of a reply with

  /usr/bin/python3 tests/e2e/test_care_month.py --record --daemon build/parceldeskd
"""
import os
import sys
import time
import unittest

import harness
from harness import Daemon, DaemonTestCase, iso, line

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "protocol", "PROTOCOL.md")
BEGIN = "<!-- care-month: begin (tests/e2e/test_care_month.py --record writes it) -->\n"
END = "<!-- care-month: end -->\n"

DAY = harness.DAY
START = 1788224400  # 2026-09-01T09:00:00+08:00


def at(day, hour=9, minute=0):
    return START + (day - 1) * DAY + (hour - 9) * 3600 + minute * 60


def steps():
    """(time, user, shown, words, named): shown steps are in the transcript,
    the others set the scene (the account, its waybill, the complaint's
    handling before its close)."""
    S = lambda t, user, shown, *w, **n: (t, user, shown, w, n)
    return [
        S(at(1, 8), "sup1", False, "CUSTOMER", "ADD", "HUAXIN", name="Huaxin Electronics", payment="monthly",
          depot="SH01", manager="op1"),
        S(at(1, 8, 1), "sup1", False, "CUSTOMER", "TIER", "HUAXIN", tier="key", reason="contract"),
        S(at(1), "op1", True, "CONTACT", "ADD", customer="HUAXIN", kind="visit", purpose="courtesy",
          planned_at=iso(at(3, 10)), with_whom="Ms Zhao, logistics head"),
        S(at(3, 9, 55), "op1", True, "CONTACT", "DONE", 1, summary="rates kept; asks for earlier pickups"),
        S(at(8), "op1", False, "WAYBILL", "CREATE", "7700000001", sender_name="Huaxin Electronics",
          sender_phone="13800000001", sender_address="1 Keyuan Rd", sender_city="Shanghai", receiver_name="Li Lei",
          receiver_phone="13900000002", receiver_address="9 Renmin Rd", receiver_city="Beijing", customer="HUAXIN",
          origin_depot="SH01", dest_depot="BJ02", goods="monitors", pieces=2, weight_g=12000, packaging="carrier",
          fee_fen=4500, payment="monthly", promised_at=iso(at(10, 18))),
        S(at(12), "op1", False, "COMPLAINT", "OPEN", waybill="7700000001", channel="phone", category="damage",
          customer_name="Li Lei", customer_phone="13900000002", text="one monitor arrived with a cracked screen"),
        S(at(12, 10), "op1", False, "COMPLAINT", "ACK", 1),
        S(at(13), "op1", False, "COMPLAINT", "PROPOSE", 1, text="replace the monitor, we pay"),
        S(at(13, 11), "op1", False, "COMPLAINT", "ACCEPT", 1),
        S(at(14), "op1", True, "COMPLAINT", "CLOSE", 1, satisfaction=3, feedback="fixed, but slowly",
          responsible="BJ02", stage="line_haul", cause="stacked under heavy freight",
          rectification="load monitors on top; check stacking at BJ02 inbound", rectification_owner="sup1",
          rectification_due="2026-09-25"),
        S(at(14, 9, 1), "sup1", True, "RECTIFY", "LIST", customer="HUAXIN", due="open"),
        # contact 3 is the call-back the daemon raised when the complaint closed
        S(at(14, 15), "op1", True, "CONTACT", "DONE", 3,
          done_at=iso(at(14, 15)), summary="told Ms Zhao what went wrong and what we change"),
        S(at(15), "op1", True, "SURVEY", "LIST", customer="HUAXIN", status="due"),
        S(at(15, 9, 5), "op1", True, "SURVEY", "SEND", 1, via="call", contact=3),
        S(at(17), "op1", True, "SURVEY", "ANSWER", 1, overall=4, timeliness=4, safety=3, attitude=5, handling=4,
          information=4, words="good people, pack screens better", respondent="Ms Zhao"),
        S(at(15, 11), "sup1", True, "RECTIFY", "EDIT", 1, responsible="BJ02 inbound loader",
          agreed_ops="Wang (operations)", agreed_inspection="Chen (inspection)"),
        S(at(22), "sup1", True, "RECTIFY", "CHECK", 1, result="worked", text="40 monitor waybills since, no damage"),
        S(at(22, 9, 5), "sup1", True, "RECTIFY", "CLOSE", 1, accountability="BJ02 loader: retrained"),
        S(at(22, 9, 10), "op1", True, "CONTACT", "LIST", customer="HUAXIN"),
    ]


class Straddled(Exception):
    """A request was answered after the wall-clock second its clock was set
    in: the times it shows may be a second off, run it again."""


def run(daemon):
    """The transcript of the shown steps, as a telnet session shows it.
    Each step's clock is set just after a wall-clock second begins (the
    daemon's test clock runs on from there); the request must be answered
    before that second ends."""
    conns, out = {}, []
    admin = daemon.text("admin")
    try:
        for t, user, shown, words, named in steps():
            if user not in conns:
                conns[user] = daemon.text(user)
            frac = time.time() % 1
            if not 0.03 <= frac <= 0.7:
                time.sleep((1.03 - frac) % 1)
            second = int(time.time())
            r = admin.cmd(line("CLOCK", "SET", iso(t)))
            assert r.code == 200, r
            req = line(*words, **named)
            r = conns[user].cmd(req)
            if time.time() >= second + 0.99:
                raise Straddled(req)
            if not shown:
                assert r.code < 300, (req, r)
                continue
            out.append("> " + req)
            out.append(r.status_line)
            if 200 <= r.code < 300:
                out.extend(("." + ln) if ln.startswith(".") else ln for ln in r.lines)
                out.append(".")
    finally:
        admin.close()
        for c in conns.values():
            c.close()
    return "```\n" + "\n".join(out) + "\n```\n"


def protocol_block():
    with open(PROTOCOL, encoding="utf-8") as f:
        text = f.read()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise AssertionError("PROTOCOL.md has no care-month markers")
    return text, i + len(BEGIN), j


def session(tries=5):
    """The transcript from a fresh daemon (another one when a step
    straddled its second)."""
    for n in range(tries):
        d = Daemon(name="care-month-%d" % n)
        d.start()
        try:
            with d.text("admin") as c:
                for name, (role, pw) in harness.USERS.items():
                    r = c.cmd(line("USER", "ADD", name, role, pw, full_name="E2E " + name, depot="SH01"))
                    assert r.code == 201, r
            return run(d)
        except Straddled as e:
            last = e
        finally:
            d.stop()
            d.cleanup()
    raise AssertionError("every run had a request slower than its second (last: %s)" % last)


class CareMonthTest(DaemonTestCase):

    start_daemon = False

    def test_protocol_shows_this_session(self):
        got = session()
        text, i, j = protocol_block()
        self.assertEqual(text[i:j], got, "PROTOCOL.md's key-account month differs from the session (re-record "
                         "only for an intended change: tests/e2e/test_care_month.py --record)")


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", action="store_true", help="rewrite the transcript in PROTOCOL.md")
    ap.add_argument("--daemon", default=harness.settings.daemon, help="the parceldeskd to run")
    args = ap.parse_args()
    harness.settings.daemon = os.path.abspath(args.daemon)
    if not args.record:
        sys.exit(unittest.main(argv=sys.argv[:1]))
    got = session()
    text, i, j = protocol_block()
    with open(PROTOCOL, "w", encoding="utf-8") as f:
        f.write(text[:i] + got + text[j:])
    print("recorded %s: %d requests" % (PROTOCOL, got.count("\n> ")))


if __name__ == "__main__":
    main()
