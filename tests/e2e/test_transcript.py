#!/usr/bin/python3
"""Golden transcript: the exact reply bytes of every command, in both framings.

A fixed script of requests (steps()) covers every command of
protocol/commands.def, with typical errors (400, 401, 403, 404, 409, 422),
and runs twice: once in the text framing and once in the msgpack framing,
each against its own fresh daemon (free 127.0.0.1 port, fresh data dir,
--enable-test-clock). Before every request the clock is set (on a separate,
unrecorded admin connection) to T0 plus the step number in seconds, early
in a wall-clock second, so ids, times and clocks are the same on every run
(a run where a request outlasts its second is done again, up to 3 times). The raw reply bytes are compared
with the golden files tests/e2e/transcript/text.txt and msgpack.txt; any
difference fails the test with a short diff. A command of the table that
the script does not send fails the test too.

Golden format: "# N CONN" then "> REQUEST" then the reply. Text replies are
the reply lines ("< LINE", each ending in CRLF on the wire; "<x HEX" for a
line that is not printable UTF-8, "<n LINE" for one ending in a bare LF).
Msgpack replies are "< " a readable dump of the decoded reply, then "<x "
the hex of the exact reply bytes. A field that is not deterministic is
masked (MASKED below says which and why): its value shows as <masked>.

Record (rewrite the golden files) only when a change of behaviour is
intended, and say so in the commit message (docs/testing.md):

  /usr/bin/python3 tests/e2e/test_transcript.py --record --daemon build/parceldeskd

Check by hand against a given daemon (the suite runs it via run_e2e.py):

  /usr/bin/python3 tests/e2e/test_transcript.py --daemon build/parceldeskd
"""
import difflib
import os
import re
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import ADMIN_PASSWORD, Daemon, T0, iso, line  # noqa: E402

GOLDEN = os.path.join(HERE, "transcript")

# Fields whose values are not deterministic, masked in both framings. Only
# these: everything else must be byte-identical.
MASKED = {
    # STATS: wall-clock uptime of the process
    "uptime_secs",
    # STATS: how many connections there were depends on how many attempts
    # the harness needed to see the daemon answer PING
    "connections_current", "connections_total",
    # STATS: a loop's heap trim runs a second after its last close: whether
    # the harness's closes have had theirs when STATS is asked is timing
    "heap_trims",
    # STATS: the listen address holds this run's free port; WHOAMI: the
    # connection's number counts those attempts too
    "config.listen", "connection",
    # STATS: the build's version names its git commit
    "daemon_version",
    # STATS: the writer's time, in microseconds
    "writer_wait_usec", "writer_apply_usec", "writer_commit_usec", "writer_handback_usec",
    # STATS: checkpoints come at least a second apart while writing: how
    # many fell inside the run, and where, depends on its timing
    "wal_checkpoints", "wal_checkpoint_seq", "wal_checkpoint_usec",
    # STATS: pages freed since the last checkpoint wait for the next one
    # before LMDB reuses them (docs/design.md, Durability), so the file's
    # pages in use depend on where the checkpoints fell
    "store_used_bytes",
    # STATS: the thread mapping the store ahead of reads may or may not
    # have finished its pass when STATS is asked
    "store_prefault", "store_prefaulted_bytes", "store_prefault_read_bytes",
}
# Besides, the run's temporary data dir (config.data_dir, BACKUP's path and
# its 409) shows as $DATA_DIR.

D = "2026-03-02"           # the day of T0 (harness.T0 is 2026-03-02T09:00+08:00)
PROMISED = iso(T0 + 3 * harness.DAY)
WB1, WB2, WB3, WB4 = "7700000001", "7700000002", "7700000003", "7700000004"


def wb(number, **over):
    """WAYBILL CREATE by op1, every required field given."""
    return S("op1", "WAYBILL", "CREATE", number, **harness.waybill_fields(PROMISED, **over))


def S(conn, *words, **named):
    return (conn, words, named)


def steps():
    """The script: (connection, words, named arguments). Connections are
    opened on first use; a connection named after a user logs in with an
    explicit AUTH step (AUTH is a command of the transcript too)."""
    pw = {"op1": "op1-password", "adj1": "adj1-password", "sup1": "sup1-password",
          "mgr1": "mgr1-password"}
    out = [
        # -- session and system, before any login
        S("anon", "PING"),
        S("anon", "HELP"),
        S("anon", "HELP", "WAYBILL", "GET"),
        S("anon", "HELP", "NOSUCH"),
        S("anon", "NOSUCH"),
        S("anon", "WHOAMI"),
        S("anon", "CLOCK", "GET"),
        S("anon", "STATS"),
        S("anon", "AUTH", "admin", "wrong-password"),
        S("admin", "AUTH", "admin", ADMIN_PASSWORD),
        S("admin", "WHOAMI"),
        S("admin", "CLOCK", "SET", iso(T0)),
        S("admin", "CLOCK", "SET", "not-a-time"),
        S("admin", "USER", "ADD", "op1", "operator", pw["op1"], full_name="Operator One", depot="SH01"),
        S("admin", "USER", "ADD", "adj1", "adjuster", pw["adj1"], full_name="Adjuster One", depot="SH01"),
        S("admin", "USER", "ADD", "sup1", "supervisor", pw["sup1"], full_name="Supervisor One", depot="SH01"),
        S("admin", "USER", "ADD", "mgr1", "manager", pw["mgr1"], full_name="Manager One", depot="SH01"),
        S("admin", "USER", "ADD", "op1", "operator", "another-password"),
        S("admin", "USER", "ADD", "tmp1", "operator", "short"),
        S("admin", "USER", "ADD", "tmp1", "boss", "tmp1-password"),
        S("admin", "USER", "ADD", "tmp1", "operator", "tmp1-password"),
        S("admin", "USER", "LIST"),
        S("admin", "USER", "PASSWD", "tmp1", "tmp1-password-2"),
        S("admin", "USER", "DEL", "tmp1"),
        S("admin", "USER", "DEL", "tmp1"),
        S("admin", "USER", "PASSWD", "nobody", "nobody-password"),
        S("op1", "AUTH", "op1", pw["op1"]),
        S("adj1", "AUTH", "adj1", pw["adj1"]),
        S("sup1", "AUTH", "sup1", pw["sup1"]),
        S("mgr1", "AUTH", "mgr1", pw["mgr1"]),
        S("op1", "USER", "PASSWD", "adj1", "stolen-password"),
        S("op1", "USER", "LIST"),
        S("op1", "CLOCK", "SET", iso(T0)),
        # -- waybills and tracking
        wb(WB1),
        wb(WB1),
        wb(WB2, customer="ACME", payment="monthly"),
        wb(WB3, insured=True),
        wb(WB3, declared_value_fen=500000, insured=True),
        wb(WB4, service_level="value_added"),
        S("op1", "WAYBILL", "CREATE", "12ab"),
        S("op1", "WAYBILL", "GET", WB1),
        S("op1", "WAYBILL", "GET", "7799999999"),
        S("op1", "SCAN", WB1, "picked_up", depot="SH01"),
        S("op1", "SCAN", WB1, "departed", depot="SH01"),
        S("op1", "SCAN", WB1, "arrived", depot="BJ02"),
        S("op1", "SCAN", WB1, "teleported", depot="BJ02"),
        S("op1", "SCAN", "7799999999", "picked_up", depot="SH01"),
        S("op1", "SCAN", WB2, "picked_up", depot="SH01"),
        S("op1", "SCAN", WB3, "picked_up", depot="SH01"),
        S("op1", "SCAN", WB4, "picked_up", depot="SH01"),
        S("op1", "WAYBILL", "GET", WB1),
        S("op1", "WAYBILL", "REDIRECT", WB2, address="9 Nanjing Road", city="Shanghai", dest_depot="SH01",
          requester="Zhang Wei", requester_phone="13800138000", id_type="resident_id", id_last4="1234"),
        S("op1", "WAYBILL", "REDIRECT", WB2, address="10 Nanjing Road", city="Shanghai",
          requester="Zhang Wei", requester_phone="13800138000", id_type="resident_id", id_last4="1234"),
        S("op1", "WAYBILL", "RECALL", WB4, requester="Zhang Wei", requester_phone="13800138000",
          id_type="resident_id", id_last4="1234", reason="changed my mind"),
        S("op1", "WAYBILL", "RECALL", "7799999999", requester="Zhang Wei"),
        S("op1", "WAYBILL", "GET", WB2),
        # -- the query register
        S("op1", "WAYBILL", "FIND", phone="13900139000", name="Li Na", id_type="resident_id",
          id_last4="4321", terminal="T1"),
        S("op1", "QUERY", "APPROVE", phone="13900139000", name="Li Na", id_type="resident_id",
          id_last4="4321", for_user="op1"),
        S("sup1", "QUERY", "APPROVE", phone="13900139000", name="Li Na", id_type="resident_id",
          id_last4="4321", for_user="op1"),
        S("op1", "WAYBILL", "FIND", phone="13900139000", name="Li Na", id_type="resident_id",
          id_last4="4321", terminal="T1", approval=1),
        S("op1", "QUERY", "LOG", kind="delivery", waybill=WB1, channel="phone", terminal="T1",
          asker="Li Na", asker_phone="13900139000", answer="arrived in Beijing, out tomorrow"),
        S("op1", "QUERY", "LOG", kind="delivery", channel="phone", terminal="T1", answer="no waybill"),
        S("op1", "QUERY", "LOG", kind="parcel", channel="phone", terminal="T1", answer="x"),
        S("op1", "QUERY", "EXTERNAL", waybill=WB1, partner="North Express", question="where is it?",
          terminal="T1", asker="Li Na"),
        S("op1", "QUERY", "ANSWER", 3, answer="at their Tianjin hub"),
        S("op1", "QUERY", "ANSWER", 3, answer="again"),
        S("op1", "QUERY", "ANSWER", 99, answer="nothing"),
        S("op1", "QUERY", "GET", 3),
        S("op1", "QUERY", "GET", 99),
        S("op1", "QUERY", "LIST", waybill=WB1),
        S("op1", "QUERY", "LIST", user="op1", day=D, limit=2),
        # -- complaints: 1 is resolved and closed, 2 goes up to the manager
        # and an outside body, 3 is handed over and escalated
        S("op1", "COMPLAINT", "OPEN", channel="phone", category="delay", waybill=WB1,
          customer_name="Li Na", customer_phone="13900139000", text="the parcel is late"),
        S("op1", "COMPLAINT", "OPEN", channel="phone", category="delay",
          customer_name="Li Na", customer_phone="13900139000"),
        S("op1", "COMPLAINT", "GET", 1),
        S("op1", "COMPLAINT", "GET", 99),
        S("op1", "COMPLAINT", "ACK", 1, text="called back"),
        S("op1", "COMPLAINT", "NOTE", 1, text="checked with Beijing", contacted=True),
        S("op1", "COMPLAINT", "WAIT", 1, **{"for": "partner", "reason": "asked North Express"}),
        S("op1", "COMPLAINT", "RESUME", 1, text="North Express answered"),
        S("op1", "COMPLAINT", "RESUME", 1),
        S("op1", "COMPLAINT", "CLOSE", 1, satisfaction=5),
        S("op1", "COMPLAINT", "PROPOSE", 1, text="a discount on the fee", amount_fen=500),
        S("op1", "COMPLAINT", "ACCEPT", 1, text="agreed"),
        S("op1", "COMPLAINT", "CLOSE", 1, satisfaction=4, feedback="fine", responsible="BJ02",
          stage="line_haul", cause="missed connection"),
        S("op1", "COMPLAINT", "REOPEN", 1, reason="customer called again"),
        S("sup1", "COMPLAINT", "REOPEN", 1, reason="customer called again"),
        S("sup1", "COMPLAINT", "FLAG", 1, several_depots=True, text="BJ02 and SH01 both handled it"),
        S("op1", "COMPLAINT", "OPEN", channel="online", category="damage", waybill=WB3,
          customer_name="Zhang Wei", customer_phone="13800138000", text="box crushed"),
        S("op1", "COMPLAINT", "ACK", 2),
        S("op1", "COMPLAINT", "PROPOSE", 2, text="repair", amount_fen=2000),
        S("op1", "COMPLAINT", "REFUSE", 2, text="wants more"),
        S("op1", "COMPLAINT", "TAKE", 2),
        S("sup1", "COMPLAINT", "TAKE", 2),
        S("sup1", "COMPLAINT", "PROPOSE", 2, text="full refund", amount_fen=5000),
        S("sup1", "COMPLAINT", "REFUSE", 2, text="wants compensation for the goods"),
        S("mgr1", "COMPLAINT", "TAKE", 2),
        S("mgr1", "COMPLAINT", "PROPOSE", 2, text="final offer", amount_fen=8000),
        S("mgr1", "COMPLAINT", "REFUSE", 2),
        S("mgr1", "COMPLAINT", "REFER", 2, body="regulator_mediation", text="customer went to the regulator"),
        S("mgr1", "COMPLAINT", "OUTCOME", 2, outcome="mediated: 6000 fen"),
        S("op1", "COMPLAINT", "OPEN", channel="walk_in", category="attitude",
          customer_name="Wang Fang", customer_phone="13700137000", text="rude courier", depot="SH01"),
        S("op1", "COMPLAINT", "HANDOVER", 3, to="adj1", reason="adj1 knows the courier"),
        S("adj1", "COMPLAINT", "HANDOVER", 3, to="nobody", reason="x"),
        S("adj1", "COMPLAINT", "ESCALATE", 3, reason="needs a supervisor", to="sup1"),
        S("sup1", "COMPLAINT", "ESCALATE", 3, reason="needs the manager"),
        S("sup1", "COMPLAINT", "FLAG", 3, several_depots=True),
        S("op1", "COMPLAINT", "OPEN", channel="media", category="loss", customer_name="Zhao Lei",
          customer_phone="13300133000", text="on the evening news", depot="SH01", media_threat=True),
        S("op1", "COMPLAINT", "FLAG", 4, media_threat=True, text="will post online"),
        S("op1", "COMPLAINT", "LIST"),
        S("op1", "COMPLAINT", "LIST", status="escalated", limit=5),
        S("op1", "COMPLAINT", "LIST", waybill=WB1, overdue=False),
        S("op1", "COMPLAINT", "GET", 2),
        S("op1", "COMPLAINT", "GET", 3),
        S("op1", "COMPLAINT", "STATS", month="2026-03"),
        S("op1", "COMPLAINT", "STATS", month="2026-13"),
        S("admin", "SWEEP"),
        S("op1", "SWEEP"),
        # -- claims and recovery
        S("op1", "SCAN", WB3, "damaged", depot="SH01", note="box crushed"),
        S("op1", "CLAIM", "FILE", waybill=WB3, type="damage_total", claimed_fen=500000, claimant="sender",
          claimant_name="Zhang Wei", claimant_phone="13800138000", text="crushed"),
        S("op1", "CLAIM", "FILE", waybill="7799999999", type="loss", claimed_fen=1, claimant="sender",
          claimant_name="X", claimant_phone="13800138000"),
        S("op1", "CLAIM", "ACK", 1, text="told the sender"),
        S("op1", "CLAIM", "DOC", 1, kind="claim_form", ref="CF-1"),
        S("op1", "CLAIM", "DOC", 1, kind="waybill", ref="WB-1"),
        S("op1", "CLAIM", "DOC", 1, kind="proof_of_value", ref="INV-1"),
        S("op1", "CLAIM", "DOC", 1, kind="photos", ref="PH-1"),
        S("op1", "CLAIM", "DOC", 1, kind="exception_record", ref="EX-1"),
        S("op1", "CLAIM", "DOC", 1, kind="claimant_id", ref="ID-1"),
        S("op1", "CLAIM", "NOTE", 1, text="documents complete", contacted=True),
        S("op1", "CLAIM", "WAIT", 1, **{"for": "documents", "reason": "repair quote"}),
        S("op1", "CLAIM", "RESUME", 1, text="quote in"),
        S("op1", "CLAIM", "ASSESS", 1, actual_loss_fen=300000, cause="handling", fault="ours"),
        S("adj1", "CLAIM", "ASSESS", 1, actual_loss_fen=300000, real_value_fen=500000, cause="handling",
          fault="ours", responsible_depot="SH01", text="crushed in sorting"),
        S("adj1", "CLAIM", "APPROVE", 1, text="ok"),
        S("sup1", "CLAIM", "APPROVE", 1, text="ok"),
        S("adj1", "CLAIM", "PAY", 1, amount_fen=1, method="bank_transfer", reference="PAY-0"),
        S("sup1", "CLAIM", "GET", 1),
        S("adj1", "CLAIM", "PAY", 1, amount_fen=271500, method="bank_transfer", reference="PAY-1"),  # 2,700 + the fee refunded
        S("op1", "CLAIM", "LINK", 1, complaint=2),
        S("op1", "CLAIM", "LINK", 1, complaint=1),
        S("adj1", "CLAIM", "CLOSE", 1, text="paid"),
        S("op1", "CLAIM", "FILE", waybill=WB1, type="delay", claimed_fen=1500, claimant="receiver",
          claimant_name="Li Na", claimant_phone="13900139000"),
        S("op1", "CLAIM", "FILE", waybill=WB3, type="damage_partial", claimed_fen=1000, claimant="receiver",
          claimant_name="Li Na", claimant_phone="13900139000"),
        S("adj1", "CLAIM", "REFUSE", 2, reason="delivered within the promise"),
        S("adj1", "CLAIM", "REFUSE", 2, reason="again"),
        S("op1", "CLAIM", "GET", 1),
        S("op1", "CLAIM", "GET", 99),
        S("op1", "CLAIM", "LIST"),
        S("op1", "CLAIM", "LIST", status="refused", waybill=WB3),
        S("op1", "CLAIM", "TOTALS", month="2026-03"),
        S("sup1", "CLAIM", "TOTALS", month="2026-03"),
        S("adj1", "RECOVERY", "LIST"),
        S("adj1", "RECOVERY", "LIST", claim=1, status="open"),
        S("adj1", "RECOVERY", "RECEIVE", 1, amount_fen=100000, reference="SH01-T1"),
        S("adj1", "RECOVERY", "RECEIVE", 1, amount_fen=999999999, reference="SH01-T2"),
        S("adj1", "RECOVERY", "RECEIVE", 99, amount_fen=1, reference="x"),
        S("adj1", "RECOVERY", "WRITEOFF", 1, reason="depot closed"),
        S("sup1", "RECOVERY", "WRITEOFF", 1, reason="depot closed"),
        # -- business-hours calendars
        S("admin", "CALENDAR", "SET", "north", zone="Asia/Shanghai", monday="09:00-12:00,13:30-18:00",
          tuesday="09:00-18:00", wednesday="09:00-18:00", thursday="09:00-18:00", friday="09:00-17:00"),
        S("admin", "CALENDAR", "SET", "bad", zone="Mars/Olympus"),
        S("admin", "CALENDAR", "SET", "bad2", zone="Asia/Shanghai", monday="18:00-09:00"),
        S("admin", "CALENDAR", "HOLIDAY", "north", date="2026-04-06", label="Qingming"),
        S("admin", "CALENDAR", "HOLIDAY", "north", date="2026-02-30"),
        S("admin", "CALENDAR", "WORKDAY", "north", date="2026-04-12", hours="09:00-18:00", label="make-up"),
        S("admin", "CALENDAR", "HOLIDAY", "north", date="2026-05-01", label="Labour Day"),
        S("admin", "CALENDAR", "UNHOLIDAY", "north", date="2026-05-01"),
        S("admin", "CALENDAR", "UNHOLIDAY", "north", date="2026-05-02"),
        S("admin", "CALENDAR", "WORKDAY", "north", date="2026-05-09", hours="09:00-12:00"),
        S("admin", "CALENDAR", "UNWORKDAY", "north", date="2026-05-09"),
        S("admin", "CALENDAR", "ASSIGN", depot="BJ02", calendar="north"),
        S("admin", "CALENDAR", "ASSIGN", depot="BJ02", calendar="nosuch"),
        S("op1", "CALENDAR", "GET", "north"),
        S("op1", "CALENDAR", "GET", "north", version=1),
        S("op1", "CALENDAR", "GET", "nosuch"),
        S("op1", "CALENDAR", "LIST"),
        S("op1", "CALENDAR", "DUE", "north", start=iso(T0), minutes=600),
        S("op1", "CALENDAR", "DUE", depot="BJ02", start="2026-04-03T17:00:00+08:00", minutes=120),
        S("op1", "CALENDAR", "DUE", start=iso(T0), minutes=60),
        S("admin", "CALENDAR", "DEL", "north"),
        S("admin", "CALENDAR", "UNASSIGN", depot="BJ02"),
        S("admin", "CALENDAR", "DEL", "north"),
        S("admin", "CALENDAR", "DEL", "north"),
        # -- customers, warnings, reports, KPIs
        S("sup1", "CUSTOMER", "ADD", "ACME", name="Acme Trading", payment="monthly", depot="SH01",
          city="Shanghai", contact="Chen Jie", phone="13600136000", credit_limit_fen=10000000,
          contract_start="2025-01-01", manager="sup1", strength=3, credit_rating="good", note="big"),
        S("sup1", "CUSTOMER", "ADD", "ACME", name="Acme again", payment="monthly", depot="SH01"),
        S("op1", "CUSTOMER", "ADD", "BETA", name="Beta", payment="cash", depot="SH01"),
        S("sup1", "CUSTOMER", "ADD", "BETA", name="Beta Shop", payment="cash", depot="BJ02"),
        S("sup1", "CUSTOMER", "EDIT", "ACME", contact2="Liu Yang", phone2="13500135000", note="key account soon"),
        S("sup1", "CUSTOMER", "EDIT", "NOSUCH", note="x"),
        S("sup1", "CUSTOMER", "TIER", "ACME", tier="key", reason="group contract"),
        S("sup1", "CUSTOMER", "EXPLAIN", account="ACME", month="2026-02", reason="factory moved"),
        S("op1", "CUSTOMER", "GET", "ACME"),
        S("op1", "CUSTOMER", "GET", "NOSUCH"),
        S("op1", "CUSTOMER", "LIST"),
        S("op1", "CUSTOMER", "LIST", name="Ac", tier="key"),
        S("op1", "WARNING", "ADD", customer="ACME", type="competitor", subtype="competitor",
          text="a rival offered 10% less", owner="sup1", action_plan="visit",
          competitor="Swift Couriers"),
        S("op1", "WARNING", "ADD", customer="NOSUCH", type="competitor", subtype="competitor", text="x"),
        S("op1", "WARNING", "FOLLOWUP", 1, text="visited; price matched", next_at=iso(T0 + 7 * harness.DAY)),
        S("op1", "WARNING", "GET", 1),
        S("op1", "WARNING", "LIST"),
        S("op1", "WARNING", "LIST", customer="ACME", status="following"),
        S("op1", "WARNING", "CLOSE", 1, outcome="kept", text="signed again"),
        S("op1", "WARNING", "CLOSE", 1, outcome="kept"),
        S("op1", "REPORT", "TEXT", month="2026-03", scope="network", section="summary_focus",
          text="a quiet month"),
        S("op1", "REPORT", "TEXT", month="2026-03", scope="planet", section="summary_focus", text="x"),
        S("op1", "REPORT", "MONTH", month="2026-03"),
        S("op1", "REPORT", "MONTH", month="2026-03", customer="ACME"),
        S("op1", "KPI", month="2026-03"),
        S("op1", "KPI", month="2026-03", depot="SH01"),
        S("admin", "STATS"),
        S("op1", "MONTHEND", "RUN", month="2026-02"),
        S("admin", "MONTHEND", "RUN", month="2026-02"),
        ("wait_monthend", "2026-02"),
        S("op1", "MONTHEND", "STATUS", month="2026-02"),
        S("op1", "MONTHEND", "STATUS", month="2025-02"),
        S("op1", "CUSTOMER", "GET", "BETA"),
        # -- login limits, a page of a waybill's history
        S("anon", "AUTH", "ghost", "wrong-password"),
        S("op1", "USER", "UNLOCK", "ghost"),
        S("admin", "USER", "UNLOCK", "ghost"),
        S("admin", "USER", "UNLOCK", "ghost"),
        S("op1", "WAYBILL", "GET", WB1, events_limit=1),
        S("op1", "WAYBILL", "GET", WB1, events_limit=1, events_before=2),
        S("op1", "WAYBILL", "GET", WB1, events_limit=0),
        # -- backup, malformed requests, the end of a session
        S("admin", "BACKUP", "golden"),
        S("admin", "BACKUP", "golden"),
        S("op1", "BACKUP"),
        S("op1", "WAYBILL", "GET"),
        S("op1", "WAYBILL", "GET", WB1, WB2),
        S("op1", "WAYBILL", "GET", WB1, colour="red"),
        S("op1", "COMPLAINT", "GET", "x"),
        S("op1", "QUIT"),
        S("anon", "QUIT"),
        # -- contacts (added last, so that the replies above stay as they were)
        S("sup1", "CONTACT", "ADD", customer="ACME", kind="visit", purpose="courtesy",
          planned_at=iso(T0 + 2 * harness.DAY), with_whom="Mr Wang, logistics", owner="op1"),
        S("sup1", "CONTACT", "ADD", customer="NOSUCH", kind="visit", planned_at=iso(T0 + 2 * harness.DAY)),
        S("sup1", "CONTACT", "DONE", 1, summary="x", done_at=iso(T0 + harness.DAY)),
        S("sup1", "CONTACT", "DONE", 1, summary="rates kept; asked for a depot tour"),
        S("sup1", "CONTACT", "GET", 2),
        S("sup1", "CONTACT", "LIST", customer="ACME"),
        S("sup1", "CONTACT", "LIST", owner="op1", due="week"),
        # -- needs
        S("sup1", "NEED", "ADD", customer="ACME", kind="service", text="pickup before 8:00", owner="op1",
          raised_by="Mr Wang"),
        S("sup1", "NEED", "DONE", 1, confirmed_by="Mr Wang", document="ACME-L1"),
        S("sup1", "NEED", "RESULT", 1, result="agreed"),
        S("sup1", "NEED", "RESULT", 1, result="agreed", plan="a 7:30 van on weekdays"),
        S("sup1", "NEED", "DONE", 1, confirmed_by="Mr Wang", document="ACME-L1"),
        S("sup1", "NEED", "GET", 1),
        S("sup1", "NEED", "LIST", owner="op1", open="yes"),
        # -- rectification plans
        S("sup1", "RECTIFY", "ADD", source="complaint", source_id=1, fault="parcel left at the gate",
          responsible="courier Zhang", action="retrain the couriers on door delivery", agreed_ops="Wang (operations)",
          agreed_inspection="Chen (inspection)", owner="op1", due="2026-03-20"),
        S("sup1", "RECTIFY", "CLOSE", 1),
        S("sup1", "RECTIFY", "CHECK", 1, result="worked", text="door delivery seen on 20 waybills"),
        S("sup1", "RECTIFY", "CLOSE", 1, accountability="courier Zhang: written warning"),
        S("sup1", "RECTIFY", "GET", 1),
        S("sup1", "RECTIFY", "LIST", status="closed"),
        # -- satisfaction surveys
        S("sup1", "SURVEY", "SEND", customer="ACME", via="visit", contact=1),
        S("sup1", "SURVEY", "ANSWER", 1, overall=6, timeliness=4, safety=4, attitude=5, handling=4, information=4),
        S("sup1", "SURVEY", "ANSWER", 1, overall=4, timeliness=4, safety=3, attitude=5, handling=4, information=4,
          words="pack screens better", respondent="Mr Wang"),
        S("sup1", "SURVEY", "GET", 1),
        S("sup1", "SURVEY", "LIST", customer="ACME"),
        # -- win-back
        S("sup1", "WINBACK", "ADD", customer="ACME", reason="weather"),
        S("sup1", "WINBACK", "ADD", customer="ACME", reason="price", owner="op1", left_month="2026-02"),
        S("sup1", "WINBACK", "SET", 1, approach="the old rates for a quarter"),
        S("sup1", "WINBACK", "CLOSE", 1, outcome="won_back"),
        S("sup1", "WINBACK", "GET", 1),
        S("sup1", "WINBACK", "LIST", status="closed"),
        # the account team (issue 14): a member per role, bad input refused
        S("sup1", "CUSTOMER", "TEAM", "ACME", "maintenance_specialist", "op1"),
        S("sup1", "CUSTOMER", "TEAM", "ACME", "chef", "op1"),
        S("sup1", "CUSTOMER", "TEAM", "ACME", "cs_manager"),
        # the customer file: terms, a person, the requirements on the account's waybill
        S("sup1", "CUSTOMER", "FILE", "ACME", payment_terms="60 days", receipt_return="yes",
          handling="fragile: keep upright", delivery_window="09:00-12:00"),
        S("sup1", "CUSTOMER", "FILE", "ACME"),
        S("sup1", "CUSTOMER", "PERSON", "ACME", "Wang Jun", role="logistics head", birthday="04-02",
          preferences="green tea"),
        S("sup1", "CUSTOMER", "PERSON", "ACME", "Wang Jun", birthday="02-30"),
        S("sup1", "WAYBILL", "GET", WB2),
        # hand-over from sales and the trial period; the customer page and the report with contacts
        S("sup1", "CUSTOMER", "ADD", "NEWCO", name="New Co", payment="monthly", depot="SH01"),
        S("sup1", "CUSTOMER", "HANDOVER", "NEWCO", sales="Chen Jie", contract="C-2026-17"),
        S("sup1", "CUSTOMER", "HANDOVER", "NEWCO", sales="Chen Jie", contract="C-2026-17", legal_by="Sun Li",
          legal_at=iso(T0)),
        S("sup1", "CUSTOMER", "MATURE", "NEWCO", reason="steady volume"),
        S("sup1", "CUSTOMER", "MATURE", "NEWCO"),
        S("sup1", "REPORT", "MONTH", month="2026-03", customer="ACME"),
        # -- waybills without their number (added last, issue 15)
        S("adj1", "WAYBILL", "LIST", customer="ACME"),
        S("adj1", "WAYBILL", "LIST", depot="SH01"),
        S("sup1", "WAYBILL", "LIST", depot="SH01", limit=2),
        S("sup1", "WAYBILL", "LIST", depot="SH01", status="in_transit", limit=2, before=WB3),
        S("sup1", "WAYBILL", "LIST"),
        # -- replication (issue 16): refused on a daemon without a role;
        # min_seq= is accepted and ignored there
        S("sup1", "PROMOTE"),
        S("admin", "PROMOTE"),
        S("sup1", "WAYBILL", "GET", WB1, events_limit=1, min_seq=5),
        S("sup1", "WAYBILL", "GET", WB1, min_seq="x"),
        # -- a rectification plan completed (added last, issue 14)
        S("sup1", "RECTIFY", "ADD", source="complaint", source_id=1, fault="parcel left at the gate",
          responsible="courier Zhang", action="check door delivery weekly", agreed_ops="Wang (operations)",
          agreed_inspection="Chen (inspection)", owner="op1", due="2026-03-31"),
        S("sup1", "RECTIFY", "EDIT", 2, responsible="courier Li", owner="sup1", due="2026-04-15",
          text="Li took over the round"),
        S("sup1", "RECTIFY", "EDIT", 1, action="x"),
        # -- the trial's waybills (added last, issue 14)
        S("sup1", "CUSTOMER", "ADD", "TRIALCO", name="Trial Co", payment="monthly", depot="SH01"),
        S("sup1", "CUSTOMER", "HANDOVER", "TRIALCO", sales="Chen Jie", contract="C-2026-18", legal_by="Sun Li",
          legal_at=iso(T0)),
        S("sup1", "WAYBILL", "CREATE", "7700000091",
          **harness.waybill_fields(PROMISED, customer="TRIALCO", payment="monthly")),
        S("sup1", "SCAN", "7700000091", "damaged", depot="SH01"),
        S("adj1", "CUSTOMER", "TRIAL", "TRIALCO"),
        S("adj1", "CUSTOMER", "TRIAL", "ACME"),
    ]
    return out


# ------------------------------------------------------ msgpack reading ----

def mp_header(buf, i):
    """(kind, count or length, offset of the payload) of the msgpack object
    at buf[i]: kind is "map", "array", "str" or "scalar" (then the count is
    the object's whole size). Raises IndexError when buf ends too soon."""
    b = buf[i]
    if 0x80 <= b <= 0x8f:
        return "map", b & 0x0f, i + 1
    if 0x90 <= b <= 0x9f:
        return "array", b & 0x0f, i + 1
    if 0xa0 <= b <= 0xbf:
        return "str", b & 0x1f, i + 1
    wide = {0xd9: ("str", 1), 0xda: ("str", 2), 0xdb: ("str", 4), 0xc4: ("str", 1), 0xc5: ("str", 2),
            0xc6: ("str", 4), 0xdc: ("array", 2), 0xdd: ("array", 4), 0xde: ("map", 2), 0xdf: ("map", 4)}
    if b in wide:
        kind, n = wide[b]
        if i + 1 + n > len(buf):
            raise IndexError
        return kind, int.from_bytes(buf[i + 1:i + 1 + n], "big"), i + 1 + n
    sizes = {0xcc: 2, 0xd0: 2, 0xcd: 3, 0xd1: 3, 0xca: 5, 0xce: 5, 0xd2: 5, 0xcb: 9, 0xcf: 9, 0xd3: 9}
    if b <= 0x7f or b >= 0xe0 or b in (0xc0, 0xc2, 0xc3):
        return "scalar", 1, i
    if b in sizes:
        return "scalar", sizes[b], i
    raise AssertionError("msgpack type byte 0x%02x is not expected in a reply" % b)


def mp_walk(buf, i, visit=None):
    """The end offset of the msgpack object at buf[i]. visit(kind, start,
    end, key) is called for every object (key: the map key it is the value
    of, else None); when it returns True the object's inside is not
    visited. Raises IndexError when buf holds only part of the object."""
    def walk(i, key):
        kind, n, p = mp_header(buf, i)
        if kind == "scalar":
            end = i + n
        elif kind == "str":
            end = p + n
        else:
            end = None
        if end is not None:
            if end > len(buf):
                raise IndexError
            if visit:
                visit(kind, i, end, key)
            return end
        j = p
        for _ in range(n):
            if kind == "map":
                k_end = walk(j, None)
                k = harness.msgpack.unpackb(buf[j:k_end], raw=False)
                j = walk_value(k_end, k)
            else:
                j = walk_value(j, None)
        return j

    def walk_value(i, key):
        if visit and key in MASKED:
            end = mp_walk(buf, i)
            visit("masked", i, end, key)
            return end
        return walk(i, key)

    return walk(i, None)


def mp_render(raw, data_dir):
    """(readable dump, hex) of one msgpack reply: the values of MASKED keys
    show as <masked>, and a string holding the run's data dir shows that
    part as $DATA_DIR (in the hex too, as <str ...>)."""
    spans = []
    dd = data_dir.encode()

    def visit(kind, start, end, key):
        if kind == "masked":
            spans.append((start, end, "<masked>"))
        elif kind == "str" and dd in raw[start:end]:
            text = harness.msgpack.unpackb(raw[start:end], raw=False)
            spans.append((start, end, "<str %s>" % text.replace(data_dir, "$DATA_DIR")))

    mp_walk(raw, 0, visit)
    hexed, pos = [], 0
    for a, z, shown in spans:
        hexed += [raw[pos:a].hex(), shown]
        pos = z
    hexed.append(raw[pos:].hex())

    def show(v):
        if isinstance(v, dict):
            return "{" + ", ".join("%s: %s" % (show(k), "<masked>" if k in MASKED else show(x))
                                   for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        if isinstance(v, str):
            return repr(v.replace(data_dir, "$DATA_DIR"))
        return repr(v)

    return show(harness.msgpack.unpackb(raw, raw=False, strict_map_key=False)), "".join(hexed)


def text_render(raw, data_dir):
    """The golden lines of one text reply."""
    out = []
    lines = raw.split(b"\n")
    for ln in lines[:-1]:
        kind = "<"
        if ln.endswith(b"\r"):
            ln = ln[:-1]
        else:
            kind = "<n"
        try:
            s = ln.decode("utf-8")
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in s):
                raise ValueError
        except ValueError:
            out.append("<x " + ln.hex())
            continue
        m = re.match(r"^([A-Za-z0-9_.]+): ", s)
        if m and m.group(1) in MASKED:
            s = m.group(1) + ": <masked>"
        out.append(kind + " " + s.replace(data_dir, "$DATA_DIR"))
    if lines[-1]:
        out.append("<~ " + lines[-1].hex())
    return out


# ------------------------------------------------------------ the runs ----

class Conn:
    """One connection of the script in one framing: sends a request and
    returns the exact bytes of its reply."""

    def __init__(self, port, framing):
        self.framing = framing
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def reply_end(self):
        if not self.buf:
            return None
        if self.framing == "msgpack":
            try:
                return mp_walk(self.buf, 0)
            except IndexError:
                return None
        # text: the status line, and for a 2xx the body through the "." line
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        if not (200 <= int(self.buf[:3]) < 300):
            return i + 1
        m = re.search(rb"\n\.\r?\n", self.buf)
        return m.end() if m else None

    def request(self, words, named):
        if self.framing == "msgpack":
            req = list(words) + ([named] if named else [])
            self.sock.sendall(harness.msgpack.packb(req, use_bin_type=True))
        else:
            self.sock.sendall(line(*words, **named).encode() + b"\r\n")
        while True:
            end = self.reply_end()
            if end is not None:
                raw, self.buf = self.buf[:end], self.buf[end:]
                return raw
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed by the daemon")
            self.buf += chunk

    def close(self):
        self.sock.close()


class Straddled(Exception):
    """A request ran into the next wall-clock second: its reply may show
    the next second's time. The whole run is done again."""


# Commands that hash a password: slow (yescrypt), and nothing they answer
# or store is ever shown with a time, so they may run past their second.
TIMELESS = {("AUTH",), ("USER", "ADD"), ("USER", "PASSWD")}


def run(daemon, framing):
    """Runs the script against a started daemon; returns the golden lines.
    Each request gets its own second, T0 + step number: the clock is set
    just after a wall-clock second begins, and the request must be answered
    before the next one does."""
    clock = daemon.text("admin")
    conns = {}
    out = []
    try:
        for n, step in enumerate(steps(), 1):
            if step[0] == "wait_monthend":
                # the month-end run goes on in batches after its reply
                deadline = time.time() + 60
                while clock.cmd(line("MONTHEND", "STATUS", month=step[1])).get("status") != "done":
                    if time.time() > deadline:
                        raise AssertionError("MONTHEND RUN %s did not finish" % step[1])
                    time.sleep(0.02)
                continue
            name, words, named = step
            if name not in conns:
                conns[name] = Conn(daemon.port, framing)
            # time() is the kernel's coarse clock, a few ms behind the
            # precise one: keep clear of both ends of the second
            frac = time.time() % 1
            if not 0.03 <= frac <= 0.7:
                time.sleep((1.03 - frac) % 1)
            second = int(time.time())
            r = clock.cmd(line("CLOCK", "SET", iso(T0 + n)))
            if r.code != 200:
                raise AssertionError("CLOCK SET: %r" % r)
            raw = conns[name].request(words, named)
            if time.time() >= second + 0.99 and tuple(words[:2]) not in TIMELESS \
                    and tuple(words[:1]) not in TIMELESS:
                raise Straddled("step %d (%s)" % (n, " ".join(map(str, words))))
            out.append("# %d %s" % (n, name))
            out.append("> " + line(*words, **named))
            if framing == "msgpack":
                dump, hexed = mp_render(raw, daemon.data_dir)
                out += ["< " + dump, "<x " + hexed]
            else:
                out += text_render(raw, daemon.data_dir)
    finally:
        clock.close()
        for c in conns.values():
            c.close()
    return out


def transcript(framing, attempts=3):
    for attempt in range(attempts):
        d = Daemon(name="transcript-" + framing)
        try:
            d.start()
            lines = run(d, framing)
            d.stop()
            return lines
        except Straddled as e:
            if attempt == attempts - 1:
                raise AssertionError("%s: every run had a request slower than its second (last: %s)"
                                     % (framing, e))
        except BaseException:
            d.failed = True
            raise
        finally:
            d.cleanup()


def golden_path(framing):
    return os.path.join(GOLDEN, framing + ".txt")


def short_diff(want, got, limit=40):
    diff = list(difflib.unified_diff(want, got, "golden", "this daemon", n=2, lineterm=""))
    if len(diff) > limit:
        diff = diff[:limit] + ["... (%d more diff lines)" % (len(diff) - limit)]
    # long hex lines: say where the first difference is
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            col = next((k for k, (x, y) in enumerate(zip(w, g)) if x != y), min(len(w), len(g)))
            diff.append("first difference: golden line %d, column %d: %r / %r"
                        % (i + 1, col + 1, w[col:col + 24], g[col:col + 24]))
            break
    return "\n".join(diff)


class Transcript(unittest.TestCase):
    """Fails on any byte of difference from the golden transcript."""

    def check(self, framing):
        with open(golden_path(framing), encoding="utf-8") as f:
            want = f.read().split("\n")[:-1]
        got = transcript(framing)
        if got != want:
            self.fail("%s replies differ from %s (re-record only for an intended change: "
                      "docs/testing.md):\n%s" % (framing, golden_path(framing), short_diff(want, got)))

    def test_every_command_is_in_the_script(self):
        with open(os.path.join(harness.REPO, "protocol", "commands.def"), encoding="utf-8") as f:
            table = re.findall(r'^CMD\([a-z_]+, "([A-Z]+)", (?:NULL|"([A-Z]+)")', f.read(), re.M)
        self.assertGreater(len(table), 0)
        sent = {tuple(str(w).upper() for w in step[1][:2]) for step in steps() if len(step) == 3}
        missing = [" ".join(filter(None, c)) for c in table
                   if not any(w[0] == c[0] and (not c[1] or w[1:] == (c[1],)) for w in sent)]
        self.assertEqual(missing, [], "commands not in the transcript script: add them to steps()")

    def test_text(self):
        self.check("text")

    def test_msgpack(self):
        self.check("msgpack")


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", action="store_true", help="rewrite the golden files from this daemon")
    ap.add_argument("--daemon", default=harness.settings.daemon, help="the parceldeskd to run")
    args = ap.parse_args()
    harness.settings.daemon = os.path.abspath(args.daemon)
    if not args.record:
        unittest.main(argv=sys.argv[:1], verbosity=2)
        return
    os.makedirs(GOLDEN, exist_ok=True)
    for framing in ("text", "msgpack"):
        lines = transcript(framing)
        with open(golden_path(framing), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        print("recorded %s: %d requests" % (golden_path(framing), sum(1 for x in lines if x.startswith("> "))))


if __name__ == "__main__":
    main()
