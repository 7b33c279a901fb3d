"""Claims end to end (issue 5): CLAIM FILE / DOC / ACK / ASSESS / APPROVE /
REFUSE / PAY / CLOSE / LINK / GET / LIST / TOTALS and RECOVERY LIST /
RECEIVE / WRITEOFF against a real daemon, through text and through msgpack.

The spec is protocol/PROTOCOL.md ("Claims", "CLAIM *", "RECOVERY *") and the
worked examples of docs/compensation.md (E1-E14), reproduced here on real
waybills: every figure of a step list is checked, not only the total.

Helpers live in this file (harness.py is shared and left alone):
  Wire       one call in either framing, the reply normalised so that text
             and msgpack can be checked by the same code (values as the text
             body shows them: "6000", "yes", "" for nil / empty)
  ClaimCase  the DaemonTestCase with claim helpers: waybills in the state a
             claim type needs, filing with every document, assessing, and
             "nothing written" snapshots (the whole CLAIM GET, timeline
             included)."""
import datetime
import os
import re
import subprocess
import time
import unittest

from harness import (ADMIN_PASSWORD, counted, CST, DAY, HOUR, T0, USERS, DaemonTestCase,
                     MsgpackClient, TextClient, create_line, iso, line,
                     next_number, parse_iso, settings)

# users beyond the harness's: a manager for the top authority level
EXTRA_USERS = {
    "mgr1": ("manager", "mgr1-password"),
    "adj2": ("adjuster", "adj2-password"),
}


def pw(user):
    if user == "admin":
        return ADMIN_PASSWORD
    if user in USERS:
        return USERS[user][1]
    return EXTRA_USERS[user][1]


# ------------------------------------------------------ normalised replies --

def canon(v):
    """A msgpack scalar as the text body shows it."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return ""
    return str(v)


def flatten(v, prefix="", out=None):
    """A msgpack value flattened as the text body flattens it: dotted keys,
    arrays counted from 1, an empty array or map as "" ."""
    if out is None:
        out = {}
    if isinstance(v, dict):
        if not v and prefix:
            out[prefix] = ""
        for k, x in v.items():
            flatten(x, "%s.%s" % (prefix, k) if prefix else str(k), out)
    elif isinstance(v, list):
        if not v and prefix:
            out[prefix] = ""
        for i, x in enumerate(v, 1):
            flatten(x, "%s.%d" % (prefix, i) if prefix else str(i), out)
    else:
        out[prefix] = canon(v)
    return out


def _listify(x):
    if isinstance(x, dict):
        x = {k: _listify(v) for k, v in x.items()}
        if x and all(k.isdigit() for k in x):
            return [x[k] for k in sorted(x, key=int)]
    return x


def unflatten(flat):
    """Dotted keys back to nested maps and lists (values stay strings)."""
    root = {}
    for key, val in flat.items():
        parts = key.split(".")
        node = root
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                node[p] = nxt
            node = nxt
        if isinstance(node.get(parts[-1]), dict):
            continue
        node[parts[-1]] = val
    return _listify(root)


def L(v):
    """A list value ("" is the empty list in the text body)."""
    return [] if v in ("", None) else v


class Res:
    """One reply in either framing: code, msg, records (flat dicts of
    strings), data (the first record, nested), items (every record)."""

    def __init__(self, framing, code, msg, records, raw):
        self.framing = framing
        self.code = code
        self.msg = msg
        self.records = records
        self.raw = raw

    @property
    def flat(self):
        return self.records[0] if self.records else {}

    @property
    def data(self):
        return unflatten(self.flat)

    @property
    def items(self):
        return [unflatten(r) for r in self.records]

    def __repr__(self):
        return "<%s %d %r %s>" % (self.framing, self.code, self.msg,
                                  dict(list(self.flat.items())[:30]))


class Wire:
    def __init__(self, framing, client):
        self.framing = framing
        self.client = client

    def __call__(self, *words, **named):
        if self.framing == "text":
            r = self.client.cmd(line(*words, **named))
            return Res("text", r.code, r.msg, r.records, r)
        r = self.client.call(*words, **named)
        d = r.get("data")
        if isinstance(d, list):
            recs = [flatten(x) for x in d]
        elif isinstance(d, dict):
            recs = [flatten(d)] if d else []
        else:
            recs = []
        return Res("msgpack", r["code"], r["msg"], recs, r)


# ------------------------------------------------------------ claim data --

DAMAGE_LIKE = ("damage_total", "damage_partial", "mismatch_different_item", "mismatch_short")


def needed_docs(ctype):
    """The documents a type needs, in the order the daemon lists them."""
    d = ["claim_form", "waybill", "claimant_id"]
    if ctype != "delay":
        d.append("proof_of_value")
    if ctype in DAMAGE_LIKE:
        d += ["photos", "exception_record"]
    if ctype in ("damage_partial", "mismatch_short"):
        d.append("repair_quote")
    return d


def A(label, fen):
    return ("amount", label, fen)


def F(label):
    return ("finding", label, None)


def R(label, num, den):
    return ("ratio", label, (num, den))


# The worked examples' step lists (docs/compensation.md, in fen).
E1_STEPS = [
    A("actual loss assessed", 50000),
    A("direct amount claimed", 50000),
    A("loss basis (lower of assessed and claimed)", 50000),
    A("limit: contract cap (fee x multiple)", 6000),
    A("after contract cap", 6000),
    A("service fee refunded", 2000),
    A("compensation plus fee refunded", 8000),
    A("owed to the customer", 8000),
    A("payable to the customer", 8000),
    F("approval needed: adjuster"),
]


def insured_full_steps(loss, declared, deductible, authority, fee_refunded=None):
    """Insured, declared value = real value (no under-insurance); a loss
    (fee_refunded given) refunds the fee on top."""
    after = max(0, min(loss, declared) - deductible)
    refund = []
    owed = after
    if fee_refunded is not None:
        owed = after + fee_refunded
        refund = [A("service fee refunded", fee_refunded), A("compensation plus fee refunded", owed)]
    return [
        A("actual loss assessed", loss),
        A("direct amount claimed", loss),
        A("loss basis (lower of assessed and claimed)", loss),
        F("declared value covers the real value: no under-insurance"),
        A("limit: declared value", declared),
        A("after declared-value limit", min(loss, declared)),
        A("deductible", deductible),
        A("after deductible (never below zero)", after),
    ] + refund + [
        A("owed to the customer", owed),
        A("payable to the customer", owed),
        F("approval needed: " + authority),
    ]


E3_STEPS = [
    A("actual loss assessed", 200000),
    A("direct amount claimed", 200000),
    A("loss basis (lower of assessed and claimed)", 200000),
    R("under-insurance: declared / real value", 300000, 500000),
    A("after under-insurance", 120000),
    A("limit: declared value", 300000),
    A("after declared-value limit", 120000),
    A("deductible", 30000),
    A("after deductible (never below zero)", 90000),
    A("owed to the customer", 90000),
    A("payable to the customer", 90000),
    F("approval needed: adjuster"),
]
E3_INSURER_STEPS = [
    F("clause A: all risks"),
    A("actual loss assessed", 200000),
    A("direct amount claimed", 200000),
    A("loss basis (lower of assessed and claimed)", 200000),
    R("under-insurance: declared / real value", 300000, 500000),
    A("after under-insurance", 120000),
    A("limit: declared value", 300000),
    A("after declared-value limit", 120000),
    A("insurer deductible", 30000),
    A("after deductible (never below zero)", 90000),
    A("owed to the customer", 90000),
    A("insurer pays", 90000),
]
E5_STEPS = [
    F("limited: indirect loss is never paid"),
    A("service fee", 2500),
    A("fee waived", 2500),
    A("indirect loss claimed", 7500),
    A("direct amount claimed", 2500),
    A("delay compensation (lower of waiver and claimed)", 2500),
    A("owed to the customer", 2500),
    A("payable to the customer", 2500),
    F("approval needed: adjuster"),
]
E6_STEPS = [
    A("service fee", 1005),
    R("contract lateness discount", 3000, 10000),
    A("lateness discount on the fee", 302),
    F("no deductible on a delay claim"),
    A("direct amount claimed", 1005),
    A("delay compensation (lower of waiver and claimed)", 302),
    A("owed to the customer", 302),
    A("payable to the customer", 302),
    F("approval needed: adjuster"),
]
E7_INSURER_STEPS = [
    F("clause B: named perils only"),
    F("not covered: clause B pays only collision, fire, theft or water damage"),
    A("insurer pays", 0),
]
E10_STEPS = [
    F("exempt: improper packaging by the sender"),
    F("exempt: our staff had advised better packaging"),
    A("actual loss assessed", 180000),
    A("direct amount claimed", 180000),
    A("loss basis (lower of assessed and claimed)", 180000),
    F("declared value covers the real value: no under-insurance"),
    A("limit: declared value", 200000),
    A("after declared-value limit", 180000),
    A("deductible", 30000),
    A("after deductible (never below zero)", 150000),
    A("service fee refunded", 4000),
    A("compensation plus fee refunded", 154000),
    A("owed to the customer", 0),
    A("ex gratia proposed", 20000),
    A("payable to the customer", 20000),
    F("approval needed: supervisor"),
]
E13_STEPS = [
    F("limited: goods described falsely, not liable beyond the declared value"),
    A("actual loss assessed", 80000),
    A("direct amount claimed", 80000),
    A("loss basis (lower of assessed and claimed)", 80000),
    A("limit: contract cap (fee x multiple)", 30000),
    A("after contract cap", 30000),
    A("limit: declared value", 10000),
    A("after declared-value limit", 10000),
    A("service fee refunded", 10000),
    A("compensation plus fee refunded", 20000),
    A("owed to the customer", 20000),
    A("payable to the customer", 20000),
    F("approval needed: adjuster"),
]
E14_STEPS = [
    F("force majeure not accepted as an exemption"),
    A("actual loss assessed", 4000),
    A("direct amount claimed", 4000),
    A("loss basis (lower of assessed and claimed)", 4000),
    A("limit: contract cap (fee x multiple)", 4500),
    A("after contract cap", 4000),
    A("service fee refunded", 1500),
    A("compensation plus fee refunded", 5500),
    A("owed to the customer", 5500),
    A("payable to the customer", 5500),
    F("approval needed: adjuster"),
]


# ------------------------------------------------------------- base class --

class ClaimCase(DaemonTestCase):
    """A daemon per class with the harness's users plus EXTRA_USERS; each
    test talks in self.framing unless told otherwise."""

    framing = "text"

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("admin") as c:
            for name, (role, password) in EXTRA_USERS.items():
                r = c.cmd(line("USER", "ADD", name, role, password, full_name="E2E " + name, depot="SZ01"))
                if r.code != 201:
                    raise AssertionError("USER ADD %s: %r" % (name, r))

    # -- connections --
    def client(self, user="admin", framing=None):
        framing = framing or self.framing
        key = ("claims", framing, user, self.daemon.port)
        c = self._pool.get(key)
        if c is not None:
            try:
                if framing == "text":
                    c.settimeout(20)
                    c.send("PING")
                    ok = c.read_reply().code == 200 and c.pos == len(c.buf)
                else:
                    ok = c.call("PING").get("code") == 200
                if ok:
                    return c
            except (OSError, EOFError, AssertionError):
                pass
            c.close()
        c = TextClient(self.daemon.port) if framing == "text" else MsgpackClient(self.daemon.port)
        c.auth(user, pw(user))
        self._pool[key] = c
        return c

    def w(self, user="admin", framing=None):
        framing = framing or self.framing
        return Wire(framing, self.client(user, framing))

    def admin_text(self):
        return self.client("admin", "text")

    # -- time --
    def now(self):
        return self.clock(self.admin_text())

    def set_now(self, ts):
        self.set_clock(self.admin_text(), ts)

    def poll(self, fn, timeout=3.0):
        """fn() until it is true or timeout seconds pass; its last value."""
        end = time.time() + timeout
        while True:
            v = fn()
            if v or time.time() > end:
                return v
            time.sleep(0.05)

    # -- waybills --
    STATES = {
        "created": [],
        "picked_up": ["picked_up"],
        "in_transit": ["picked_up", "departed"],
        "lost": ["picked_up", "departed", "lost"],
        "damaged": ["picked_up", "departed", "damaged"],
        "delivered": ["picked_up", "departed", "arrived", "out_for_delivery", "delivered"],
    }

    def waybill(self, state="created", promised=None, created=None, signer_is_consignee=True,
                remarks=None, **over):
        """A new waybill (accepted at SZ01 unless told) taken to state."""
        c = self.admin_text()
        now = self.clock(c)
        number = next_number("88")
        over.setdefault("origin_depot", "SZ01")
        if created is not None:
            over["created_at"] = iso(created)
        if promised is None:
            promised = now + 3 * DAY
        self.assertReply(c.cmd(create_line(number, promised, **over)), 201)
        for ev in self.STATES[state]:
            kw = {}
            if ev == "delivered":
                kw = dict(signer="Li Na", signer_is_consignee=signer_is_consignee)
                if remarks:
                    kw["remarks"] = remarks
            self.scan(c, number, ev, depot="SZ01", **kw)
        return number

    # -- claims --
    def file(self, w, number, ctype="loss", claimed=50000, phone="13800138000", expect=201, **kw):
        kw.setdefault("claimant", "sender")
        kw.setdefault("claimant_name", "Zhang Wei")
        if phone != "13800138000":
            # not the phone on the waybill: the sender shows an ID instead
            kw.setdefault("id_type", "resident_id")
            kw.setdefault("id_last4", "123X")
        r = w("CLAIM", "FILE", waybill=number, type=ctype, claimed_fen=claimed, claimant_phone=phone, **kw)
        if expect is not None:
            self.assertReply(r, expect)
        return r

    def docs(self, w, cid, kinds):
        for k in kinds:
            self.assertReply(w("CLAIM", "DOC", cid, kind=k, ref="REF-%s-%s" % (cid, k)), 200)

    def file_complete(self, w, number, ctype="loss", claimed=50000, **kw):
        """Files a claim and records every document it needs; its id."""
        cid = int(self.file(w, number, ctype, claimed, **kw).data["id"])
        self.docs(w, cid, needed_docs(ctype))
        return cid

    def assess(self, w, cid, expect=200, **kw):
        kw.setdefault("cause", "handling")
        kw.setdefault("fault", "ours")
        kw.setdefault("actual_loss_fen", 0)
        r = w("CLAIM", "ASSESS", cid, **kw)
        if expect is not None:
            self.assertReply(r, expect)
        return r

    def get(self, cid, w=None):
        r = (w or self.w("admin"))("CLAIM", "GET", cid)
        self.assertReply(r, 200)
        return r.data

    def snapshot(self, cid):
        """The whole claim as text shows it (timeline, recovery, overdue)."""
        r = self.w("admin", "text")("CLAIM", "GET", cid)
        self.assertReply(r, 200)
        return r.flat

    def recovery(self, cid):
        r = self.w("adj1")("RECOVERY", "LIST", claim=cid)
        self.assertReply(r, 200)
        return r.items

    def actions(self, claim):
        return [e["action"] for e in L(claim.get("timeline"))]

    # -- assertions --
    def assertSteps(self, steps, expected):
        got = []
        for s in L(steps):
            if s["kind"] == "amount":
                got.append(("amount", s["label"], int(s["amount_fen"])))
            elif s["kind"] == "ratio":
                got.append(("ratio", s["label"], (int(s["numerator"]), int(s["denominator"]))))
            else:
                self.assertEqual(s["kind"], "finding", s)
                got.append(("finding", s["label"], None))
        self.assertEqual(got, expected)

    def assertResult(self, result, decision, owed, payable, authority, ex_gratia=0, reasons=()):
        self.assertEqual(result["decision"], decision)
        self.assertEqual(int(result["owed_fen"]), owed)
        self.assertEqual(int(result["ex_gratia_fen"]), ex_gratia)
        self.assertEqual(int(result["payable_fen"]), payable)
        self.assertEqual(result["authority"], authority)
        self.assertEqual([x["code"] for x in L(result["reasons"])], list(reasons))
        for x in L(result["reasons"]):
            self.assertTrue(x["text"], x)

    def assertInsurer(self, ins, clause, covered, pays, reasons=(), subrogation=False):
        self.assertEqual(ins["clause"], clause)
        self.assertEqual(ins["covered"], "yes" if covered else "no")
        self.assertEqual(int(ins["pays_fen"]), pays)
        self.assertEqual(ins["subrogation"], "yes" if subrogation else "no")
        self.assertEqual([x["code"] for x in L(ins["reasons"])], list(reasons))
        self.assertTrue(ins["clause_note"])

    def assertNetwork(self, net, paying, reimbursing, reimbursement, bearing, sub_carrier="",
                      expected=False, sub_fen=0, net_fen=0):
        self.assertEqual(
            (net["paying_depot"], net["reimbursing_depot"], int(net["reimbursement_fen"]), net["bearing_depot"],
             net["sub_carrier"], net["sub_carrier_recovery_expected"], int(net["sub_carrier_recovery_fen"]),
             int(net["bearing_depot_net_fen"])),
            (paying, reimbursing, reimbursement, bearing, sub_carrier, "yes" if expected else "no", sub_fen,
             net_fen))

    def assertItems(self, items, expected):
        """Recovery items as (kind, debtor, creditor, due_fen, status)."""
        got = sorted((i["kind"], i["debtor"], i["creditor"], int(i["due_fen"]), i["status"]) for i in items)
        self.assertEqual(got, sorted(expected))

    def approve_ok(self, w, cid, fen):
        r = w("CLAIM", "APPROVE", cid)
        self.assertReply(r, 200, "approved: %d fen" % fen)
        self.assertEqual(r.data["status"], "approved")
        return r

    def approve_refused(self, w, cid, fen, needs):
        r = w("CLAIM", "APPROVE", cid)
        self.assertReply(r, 403, "approving %d fen needs a %s: claim %d escalated" % (fen, needs, cid))
        return r

    def pay(self, w, cid, fen, expect=200, **kw):
        kw.setdefault("method", "bank_transfer")
        kw.setdefault("reference", "BANK-%d" % cid)
        r = w("CLAIM", "PAY", cid, amount_fen=fen, **kw)
        if expect is not None:
            self.assertReply(r, expect)
        return r


# ------------------------------------------------- a claim's whole life ----

class LifeTests:
    """Run in both framings (LifeText, LifeMsgpack): every step of a claim's
    life, the worked examples reproduced on real waybills."""

    def assertIntsInMsgpack(self, r, *keys):
        """In msgpack, money is an integer, never a string or a float."""
        if r.framing != "msgpack":
            return
        for k in keys:
            node = r.raw["data"]
            for p in k.split("."):
                node = node[int(p) - 1] if p.isdigit() else node[p]
            self.assertIs(type(node), int, k)

    # E1: uninsured loss capped at 3 x fee; an adjuster does it all
    def test_e1_whole_life_at_adjuster_level(self):
        op, adj = self.w("op1"), self.w("adj1")
        n = self.waybill("lost", fee_fen=2000)
        r = self.file(op, n, "loss", 50000, text="parcel never arrived")
        cid = int(r.data["id"])
        self.assertEqual(r.msg, "claim %d filed" % cid)
        self.assertEqual(r.data["status"], "filed")
        self.assertEqual(r.data["level"], "adjuster")
        self.assertEqual(r.data["missing_documents"], "claim_form, waybill, claimant_id, proof_of_value")
        self.assertNotIn("decide_by", r.data)
        g = self.get(cid)
        self.assertEqual((g["waybill"], g["type"], g["claimed_fen"], g["claimant"], g["claimant_name"],
                          g["claimant_phone"], g["depot"], g["filed_by"], g["status"]),
                         (n, "loss", "50000", "sender", "Zhang Wei", "13800138000", "SZ01", "op1", "filed"))
        filed = parse_iso(g["filed_at"])
        self.assertEqual(parse_iso(g["acknowledge_by"]), filed + DAY)
        self.assertEqual(r.data["acknowledge_by"], g["acknowledge_by"])
        self.assertEqual(g["overdue"], "no")

        # documents: the missing list shrinks; completion starts the decision clock
        kinds = needed_docs("loss")
        for i, kind in enumerate(kinds):
            r = op("CLAIM", "DOC", cid, kind=kind, ref="scan-%d.pdf" % i)
            last = i == len(kinds) - 1
            self.assertReply(r, 200, "document recorded; the file is complete" if last else "document recorded")
            self.assertEqual(r.data["missing_documents"], ", ".join(kinds[i + 1:]))
            if not last:
                self.assertNotIn("decide_by", r.data)
        g = self.get(cid)
        self.assertEqual(g["missing_documents"], "")
        self.assertEqual(parse_iso(g["decide_by"]), parse_iso(g["complete_at"]) + 30 * DAY)
        self.assertEqual(r.data["decide_by"], g["decide_by"])
        self.assertEqual([(d["kind"], d["ref"], d["received_by"], d["needed"]) for d in g["documents"]],
                         [(k, "scan-%d.pdf" % i, "op1", "yes") for i, k in enumerate(kinds)])

        self.assertReply(op("CLAIM", "ACK", cid, text="told by phone"), 200, "acknowledged")
        self.assertReply(op("CLAIM", "ACK", cid), 409)
        self.assertTrue(self.get(cid)["acknowledged_at"])

        r = self.assess(adj, cid, actual_loss_fen=50000, cause="theft", fault="ours")
        self.assertEqual(r.msg, "assessment 1: liable, payable 8000 fen, approval by adjuster")
        self.assertEqual(r.data["version"], "1")
        self.assertEqual(r.data["assessed_by"], "adj1")
        res = r.data["result"]
        self.assertResult(res, "liable", 8000, 8000, "adjuster")
        self.assertSteps(res["steps"], E1_STEPS)
        self.assertInsurer(res["insurer"], "none", False, 0)
        self.assertNetwork(res["network"], "SZ01", "", 0, "SZ01", net_fen=8000)
        self.assertIntsInMsgpack(r, "result.owed_fen", "result.payable_fen", "result.network.bearing_depot_net_fen")
        g = self.get(cid)
        self.assertEqual((g["status"], g["level"], g["payable_fen"], g["decision"]),
                         ("assessed", "adjuster", "8000", "liable"))
        self.assertEqual(g["current_assessment"]["version"], "1")
        self.assertSteps(g["current_assessment"]["result"]["steps"], E1_STEPS)

        r = self.approve_ok(adj, cid, 8000)
        g = self.get(cid)
        self.assertEqual((g["status"], g["approved_fen"], g["approved_by"]), ("approved", "8000", "adj1"))
        self.assertEqual(parse_iso(g["pay_by"]), parse_iso(g["approved_at"]) + 7 * DAY)
        self.assertEqual(r.data["pay_by"], g["pay_by"])

        # pay: only the approved amount, once; a repeated req= token replays
        before = self.snapshot(cid)
        r = self.pay(adj, cid, 7999, expect=422)
        self.assertEqual(r.msg, "amount_fen 7999 differs from the approved 8000 fen")
        self.assertEqual(self.snapshot(cid), before)
        tok = "pay-e1-%s-%d" % (self.framing, cid)
        first = self.pay(adj, cid, 8000, req=tok, method="wechat", reference="WX-1")
        self.assertEqual(first.msg, "paid 8000 fen; 0 recovery item(s)")
        after_pay = self.snapshot(cid)
        again = self.pay(adj, cid, 8000, req=tok, method="wechat", reference="WX-1")
        self.assertEqual((again.code, again.msg, again.records), (first.code, first.msg, first.records))
        self.assertEqual(self.snapshot(cid), after_pay)
        r = self.pay(adj, cid, 8000, method="wechat", reference="WX-2", expect=409)
        self.assertEqual(r.msg, "claim %d is already paid" % cid)
        self.assertEqual(self.snapshot(cid), after_pay)
        g = self.get(cid)
        self.assertEqual((g["status"], g["paid_fen"], g["pay_method"], g["pay_reference"], g["paid_by"]),
                         ("paid", "8000", "wechat", "WX-1", "adj1"))
        self.assertEqual(L(g["recovery"]), [])

        self.assertReply(adj("CLAIM", "CLOSE", cid, text="customer thanked us"), 200)
        self.assertReply(adj("CLAIM", "CLOSE", cid), 409)
        g = self.get(cid)
        self.assertEqual(g["status"], "closed")
        self.assertEqual(self.actions(g), ["file"] + ["document"] * 4 +
                         ["acknowledge", "assess", "approve", "pay", "close"])
        who = [e["who"] for e in g["timeline"]]
        self.assertEqual(who, ["op1"] * 6 + ["adj1"] * 4)

    # E2: insured loss, supervisor's level; the adjuster's attempt escalates
    def test_e2_supervisor_level_escalation_and_depot_reimbursement(self):
        op, adj, sup = self.w("op1"), self.w("adj1"), self.w("sup1")
        n = self.waybill("lost", fee_fen=3000, declared_value_fen=500000, insured=True)
        cid = self.file_complete(op, n, "loss", 500000)
        r = self.assess(adj, cid, actual_loss_fen=500000, real_value_fen=500000, cause="handling",
                        fault="ours", responsible_depot="GZ03")
        res = r.data["result"]
        self.assertResult(res, "liable", 473000, 473000, "supervisor")
        self.assertSteps(res["steps"], insured_full_steps(500000, 500000, 30000, "supervisor", fee_refunded=3000))
        self.assertInsurer(res["insurer"], "a", True, 470000)
        self.assertEqual(L(res["insurer"]["steps"])[-1]["label"], "insurer pays")
        self.assertEqual(int(L(res["insurer"]["steps"])[-1]["amount_fen"]), 470000)
        # GZ03 reimburses everything owed; the insurer does not pay back our fee
        self.assertNetwork(res["network"], "SZ01", "GZ03", 473000, "GZ03", net_fen=3000)

        # above the adjuster's limit: 403, and the claim is escalated all the same
        self.approve_refused(adj, cid, 473000, "supervisor")
        g = self.get(cid)
        self.assertEqual((g["status"], g["level"], g["escalations"]), ("escalated", "supervisor", "1"))
        self.assertNotIn("approved_fen", g)
        self.assertEqual(self.actions(g)[-1], "approval_above_authority")
        self.assertEqual(g["timeline"][-1]["who"], "adj1")
        rows = self.w("op1")("CLAIM", "LIST", status="escalated", waybill=n).items
        self.assertEqual([int(x["id"]) for x in rows], [cid])
        # a second attempt is refused again; the claim is escalated once
        self.approve_refused(adj, cid, 473000, "supervisor")
        self.assertEqual(self.get(cid)["escalations"], "1")
        # a payment before approval is refused
        self.assertReply(self.pay(adj, cid, 473000, expect=None), 409)

        self.approve_ok(sup, cid, 473000)
        g = self.get(cid)
        self.assertEqual((g["status"], g["approved_by"], g["approved_fen"]), ("approved", "sup1", "473000"))

        r = self.pay(adj, cid, 473000)
        self.assertEqual(r.msg, "paid 473000 fen; 2 recovery item(s)")
        items = self.recovery(cid)
        self.assertItems(items, [("depot_reimbursement", "GZ03", "SZ01", 473000, "open"),
                                 ("insurer", "insurer", "GZ03", 470000, "open")])
        for i in items:
            self.assertEqual((i["claim"], i["waybill"], i["received_fen"], i["overdue"]), (str(cid), n, "0", "no"))
            self.assertTrue(i["due_at"])
        self.assertEqual(sorted(x["id"] for x in L(self.get(cid)["recovery"])), sorted(x["id"] for x in items))
        reimb = [i for i in items if i["kind"] == "depot_reimbursement"][0]
        ins = [i for i in items if i["kind"] == "insurer"][0]

        # recovery received: partial, too much (422, nothing written), the rest
        r = adj("RECOVERY", "RECEIVE", int(reimb["id"]), amount_fen=100000, reference="GZ03-T1")
        self.assertReply(r, 200, "100000 fen received; 373000 fen still due")
        self.assertEqual((r.data["status"], r.data["received_fen"]), ("open", "100000"))
        r = adj("RECOVERY", "RECEIVE", int(reimb["id"]), amount_fen=373001, reference="GZ03-T2")
        self.assertReply(r, 422)
        self.assertIn("373000", r.msg)
        r = adj("RECOVERY", "RECEIVE", int(reimb["id"]), amount_fen=373000, reference="GZ03-T2")
        self.assertReply(r, 200, "373000 fen received; 0 fen still due")
        self.assertEqual((r.data["status"], r.data["received_fen"]), ("settled", "473000"))
        self.assertEqual([(x["amount_fen"], x["reference"], x["by"]) for x in L(r.data["receipts"])],
                         [("100000", "GZ03-T1", "adj1"), ("373000", "GZ03-T2", "adj1")])
        self.assertReply(adj("RECOVERY", "RECEIVE", int(reimb["id"]), amount_fen=1, reference="late"), 409)

        # closing keeps the unsettled insurer item open
        self.assertReply(adj("CLAIM", "CLOSE", cid), 200)
        items = self.recovery(cid)
        self.assertItems(items, [("depot_reimbursement", "GZ03", "SZ01", 473000, "settled"),
                                 ("insurer", "insurer", "GZ03", 470000, "open")])
        # the insurer pays part, then the rest is written off (a supervisor's call)
        self.assertReply(adj("RECOVERY", "RECEIVE", int(ins["id"]), amount_fen=70000, reference="INS-1"), 200)
        self.assertReply(adj("RECOVERY", "WRITEOFF", int(ins["id"]), reason="insurer refused the rest"), 403)
        r = sup("RECOVERY", "WRITEOFF", int(ins["id"]), reason="insurer refused the rest")
        self.assertReply(r, 200, "written off: GZ03 bears 400000 fen")
        self.assertEqual((r.data["status"], r.data["written_off_fen"]), ("written_off", "400000"))
        self.assertReply(sup("RECOVERY", "WRITEOFF", int(ins["id"]), reason="again"), 409)
        self.assertReply(adj("RECOVERY", "RECEIVE", int(ins["id"]), amount_fen=1, reference="x"), 409)
        self.assertEqual(self.get(cid)["status"], "closed")

    # E8: clause B, theft: manager's level; adjuster and supervisor both refused
    def test_e8_manager_level_clause_b_theft(self):
        op = self.w("op1")
        n = self.waybill("lost", fee_fen=6000, declared_value_fen=1500000, insured=True, used_goods=True,
                         packaging="sender_own", goods="used camera")
        cid = self.file_complete(op, n, "loss", 1500000)
        r = self.assess(self.w("adj1"), cid, actual_loss_fen=1500000, real_value_fen=1500000, cause="theft",
                        fault="ours")
        res = r.data["result"]
        self.assertResult(res, "liable", 1476000, 1476000, "manager")
        self.assertSteps(res["steps"], insured_full_steps(1500000, 1500000, 30000, "manager", fee_refunded=6000))
        self.assertInsurer(res["insurer"], "b", True, 1470000)
        self.assertEqual(L(res["insurer"]["steps"])[0]["label"], "clause B: named perils only")

        self.approve_refused(self.w("adj1"), cid, 1476000, "manager")
        g = self.get(cid)
        self.assertEqual((g["status"], g["level"]), ("escalated", "manager"))
        self.approve_refused(self.w("sup1"), cid, 1476000, "manager")
        g = self.get(cid)
        self.assertEqual((g["status"], g["level"]), ("escalated", "manager"))
        self.assertEqual(self.actions(g)[-2:], ["approval_above_authority", "approval_above_authority"])
        self.assertEqual([e["who"] for e in g["timeline"][-2:]], ["adj1", "sup1"])

        self.approve_ok(self.w("mgr1"), cid, 1476000)
        self.assertEqual(self.get(cid)["approved_by"], "mgr1")
        r = self.pay(self.w("adj1"), cid, 1476000)
        self.assertEqual(r.msg, "paid 1476000 fen; 1 recovery item(s)")
        self.assertItems(self.recovery(cid), [("insurer", "insurer", "SZ01", 1470000, "open")])

    # E7: same used camera dropped in handling: we pay, clause B does not
    def test_e7_clause_b_handling_insurer_pays_nothing(self):
        n = self.waybill("damaged", fee_fen=6000, declared_value_fen=1500000, insured=True, used_goods=True,
                         packaging="sender_own", goods="used camera")
        cid = self.file_complete(self.w("op1"), n, "damage_partial", 400000)
        r = self.assess(self.w("adj1"), cid, actual_loss_fen=400000, real_value_fen=1500000)
        res = r.data["result"]
        self.assertResult(res, "liable", 370000, 370000, "supervisor")
        self.assertSteps(res["steps"], insured_full_steps(400000, 1500000, 30000, "supervisor"))
        self.assertInsurer(res["insurer"], "b", False, 0, reasons=["peril_not_named"])
        self.assertSteps(res["insurer"]["steps"], E7_INSURER_STEPS)
        # the supervisor approves directly: no escalation
        self.approve_ok(self.w("sup1"), cid, 370000)
        self.assertNotIn("approval_above_authority", self.actions(self.get(cid)))
        r = self.pay(self.w("adj1"), cid, 370000)
        self.assertEqual(r.msg, "paid 370000 fen; 0 recovery item(s)")
        self.assertEqual(self.recovery(cid), [])

    # E3: under-insured partial damage: ratio before the deductible
    def test_e3_under_insurance_ratio(self):
        n = self.waybill("damaged", fee_fen=3000, declared_value_fen=300000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "damage_partial", 200000)
        r = self.assess(self.w("adj1"), cid, actual_loss_fen=200000, real_value_fen=500000)
        res = r.data["result"]
        self.assertResult(res, "liable", 90000, 90000, "adjuster")
        self.assertSteps(res["steps"], E3_STEPS)
        self.assertInsurer(res["insurer"], "a", True, 90000)
        self.assertSteps(res["insurer"]["steps"], E3_INSURER_STEPS)
        self.assertIntsInMsgpack(r, "result.steps.4.numerator", "result.steps.4.denominator")
        self.approve_ok(self.w("adj1"), cid, 90000)
        self.pay(self.w("adj1"), cid, 90000)
        self.assertItems(self.recovery(cid), [("insurer", "insurer", "SZ01", 90000, "open")])

    # E4d: the deductible comes after the ratio: 2000 x 1/2 - 300 = 700
    def test_e4d_deductible_after_ratio(self):
        n = self.waybill("lost", fee_fen=1000, declared_value_fen=100000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 200000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=200000, real_value_fen=200000).data["result"]
        # 700 yuan compensation, plus the 10-yuan fee refunded on a loss
        self.assertResult(res, "liable", 71000, 71000, "adjuster")

    # E10: improper packing after our advice: exempt; ex gratia needs a supervisor
    def test_e10_exempt_with_ex_gratia_needs_supervisor(self):
        n = self.waybill("damaged", fee_fen=4000, declared_value_fen=200000, insured=True, packaging="sender_own",
                         goods="vase")
        cid = self.file_complete(self.w("op1"), n, "damage_total", 180000)
        r = self.assess(self.w("adj1"), cid, actual_loss_fen=180000, real_value_fen=180000,
                        cause="improper_packaging", fault="none", staff_advised_packaging=True,
                        ex_gratia_fen=20000)
        res = r.data["result"]
        self.assertResult(res, "exempt", 0, 20000, "supervisor", ex_gratia=20000,
                          reasons=["improper_packaging", "packaging_advice_ignored"])
        self.assertSteps(res["steps"], E10_STEPS)
        self.assertInsurer(res["insurer"], "a", False, 0, reasons=["excluded_improper_packaging"])
        self.approve_refused(self.w("adj1"), cid, 20000, "supervisor")
        self.assertEqual(self.get(cid)["status"], "escalated")
        self.approve_ok(self.w("sup1"), cid, 20000)
        r = self.pay(self.w("adj1"), cid, 20000)
        # exempt: nothing owed, so nothing to recover (ex gratia stays with SZ01)
        self.assertEqual(self.recovery(cid), [])

    # E11: a contracted sub-carrier at fault: GZ03 reimburses, recovers from it
    def test_e11_sub_carrier_recovery(self):
        n = self.waybill("lost", fee_fen=20000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=50000, responsible_depot="GZ03",
                          sub_carrier="Lingnan Freight", sub_carrier_has_contract=True).data["result"]
        self.assertResult(res, "liable", 70000, 70000, "adjuster")
        self.assertNetwork(res["network"], "SZ01", "GZ03", 70000, "GZ03", "Lingnan Freight", True, 70000, 0)
        self.approve_ok(self.w("adj1"), cid, 70000)
        r = self.pay(self.w("adj1"), cid, 70000)
        self.assertEqual(r.msg, "paid 70000 fen; 2 recovery item(s)")
        items = self.recovery(cid)
        self.assertItems(items, [("depot_reimbursement", "GZ03", "SZ01", 70000, "open"),
                                 ("sub_carrier", "Lingnan Freight", "GZ03", 70000, "open")])
        adj = self.w("adj1")
        rows = adj("RECOVERY", "LIST", kind="sub_carrier", debtor="Lingnan Freight").items
        self.assertIn(cid, [int(x["claim"]) for x in rows])
        self.assertTrue(all(x["kind"] == "sub_carrier" and x["debtor"] == "Lingnan Freight" for x in rows))
        rows = adj("RECOVERY", "LIST", creditor="GZ03", claim=cid).items
        self.assertEqual([x["kind"] for x in rows], ["sub_carrier"])
        sub = [i for i in items if i["kind"] == "sub_carrier"][0]
        self.assertReply(adj("RECOVERY", "RECEIVE", int(sub["id"]), amount_fen=70000, reference="LN-77"), 200)
        rows = adj("RECOVERY", "LIST", status="settled", claim=cid).items
        self.assertEqual([x["id"] for x in rows], [sub["id"]])
        rows = adj("RECOVERY", "LIST", status="open", claim=cid).items
        self.assertEqual([x["kind"] for x in rows], ["depot_reimbursement"])

    # an exemption: force majeure, nobody at fault
    def test_force_majeure_exempt_then_refused(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 30000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=30000, cause="force_majeure",
                          fault="none").data["result"]
        self.assertResult(res, "exempt", 0, 0, "adjuster", reasons=["force_majeure"])
        self.assertEqual(L(res["steps"])[-2]["label"], "payable to the customer")
        self.assertEqual(L(res["steps"])[-2]["amount_fen"], "0")
        adj = self.w("adj1")
        before = self.snapshot(cid)
        r = adj("CLAIM", "APPROVE", cid)
        self.assertReply(r, 409)
        self.assertIn("nothing payable", r.msg)
        self.assertEqual(self.snapshot(cid), before)
        r = adj("CLAIM", "REFUSE", cid, reason="the flood of 12 July was force majeure")
        self.assertReply(r, 200, "refused")
        g = self.get(cid)
        self.assertEqual((g["status"], g["refusal_reason"], g["refused_by"]),
                         ("refused", "the flood of 12 July was force majeure", "adj1"))
        before = self.snapshot(cid)
        r = adj("CLAIM", "APPROVE", cid)
        self.assertReply(r, 409, "claim %d is refused: only an assessed claim is approved" % cid)
        self.assertEqual(self.snapshot(cid), before)
        self.assertReply(adj("CLAIM", "REFUSE", cid, reason="twice"), 409)
        self.assertReply(adj("CLAIM", "ASSESS", cid, actual_loss_fen=1, cause="unknown", fault="none"), 409)
        self.assertReply(self.w("op1")("CLAIM", "DOC", cid, kind="photos", ref="late.jpg"), 409)
        self.assertEqual(self.snapshot(cid), before)
        self.assertReply(adj("CLAIM", "CLOSE", cid), 200)
        self.assertEqual(self.get(cid)["status"], "closed")

    # E14: force majeure after our own fault is not an exemption
    def test_e14_force_majeure_with_our_fault_is_liable(self):
        n = self.waybill("damaged", fee_fen=1500)
        cid = self.file_complete(self.w("op1"), n, "damage_total", 4000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=4000, cause="force_majeure",
                          fault="ours").data["result"]
        self.assertResult(res, "liable", 5500, 5500, "adjuster")
        self.assertSteps(res["steps"], E14_STEPS)

    # E9: signed by the consignee without remarks: a damage claim is refused
    # E9: signed by the consignee without remarks: a finding against the
    # claim, not a bar; paying or refusing it is a supervisor's decision
    def test_e9_clean_signature_is_a_finding_a_supervisor_decides(self):
        n = self.waybill("delivered", fee_fen=2000, signer_is_consignee=True)
        cid = self.file_complete(self.w("op1"), n, "damage_partial", 30000)
        r = self.assess(self.w("adj1"), cid, actual_loss_fen=30000)
        self.assertEqual(r.msg, "assessment 1: liable, payable 6000 fen, approval by supervisor")
        res = r.data["result"]
        self.assertResult(res, "liable", 6000, 6000, "supervisor", reasons=["signed_without_remarks"])
        steps = L(res["steps"])
        self.assertEqual(steps[0]["label"], "against the claim: the consignee signed without remarks")
        self.assertIn("not a bar", steps[0]["note"])
        self.assertEqual(steps[-1]["label"], "approval needed: supervisor")
        self.assertIn("a supervisor decides", steps[-1]["note"])
        self.assertEqual(self.get(cid)["level"], "supervisor")
        # the adjuster may neither refuse nor pay it
        before = self.snapshot(cid)
        r = self.w("adj1")("CLAIM", "REFUSE", cid, reason="signed by the consignee without remarks")
        self.assertReply(r, 403, "refusing a claim assessed at 6000 fen needs a supervisor: the rules find it "
                                 "payable, and refusing what we owe is never an adjuster's decision alone")
        self.assertEqual(self.snapshot(cid), before)
        self.approve_refused(self.w("adj1"), cid, 6000, "supervisor")
        # the supervisor weighs the evidence and refuses
        r = self.w("sup1")("CLAIM", "REFUSE", cid, reason="the consignee signed for an intact parcel")
        self.assertReply(r, 200, "refused")
        self.assertEqual(self.get(cid)["refused_by"], "sup1")

    # item 5: a small payable claim is still not an adjuster's to refuse
    def test_refusing_a_small_payable_claim_needs_a_supervisor(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=50000)
        g = self.get(cid)
        self.assertEqual((g["level"], g["payable_fen"]), ("adjuster", "8000"))
        before = self.snapshot(cid)
        r = self.w("adj1")("CLAIM", "REFUSE", cid, reason="we do not believe it")
        self.assertReply(r, 403, "refusing a claim assessed at 8000 fen needs a supervisor: the rules find it "
                                 "payable, and refusing what we owe is never an adjuster's decision alone")
        self.assertEqual(self.snapshot(cid), before)
        # the adjuster may still approve it: paying what we owe is within authority
        self.approve_ok(self.w("adj1"), cid, 8000)

    def test_refusing_a_small_payable_claim_by_a_supervisor(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=50000)
        self.assertReply(self.w("sup1")("CLAIM", "REFUSE", cid, reason="duplicate claim"), 200, "refused")

    def test_signed_without_remarks_but_no_proof_or_other_types(self):
        """A finding against damage and shortage claims only, and only with the
        signed proof at hand (docs/compensation.md C13)."""
        adj = self.w("adj1")
        n = self.waybill("delivered", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "damage_total", 3000)
        res = self.assess(adj, cid, actual_loss_fen=3000, proof_of_delivery_available=False).data["result"]
        self.assertResult(res, "liable", 5000, 5000, "adjuster")
        n = self.waybill("delivered", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "mismatch_short", 3000)
        res = self.assess(adj, cid, actual_loss_fen=3000).data["result"]
        self.assertResult(res, "liable", 3000, 3000, "supervisor", reasons=["signed_without_remarks"])
        cid = self.file_complete(self.w("op1"), n, "mismatch_different_item", 5000)
        res = self.assess(adj, cid, actual_loss_fen=5000).data["result"]
        self.assertResult(res, "liable", 7000, 7000, "adjuster")
        self.assertEqual(L(res["steps"])[0]["label"], "signed without remarks: says nothing about a different item")

    def test_delay_on_a_parcel_delivered_late(self):
        now = self.now()
        n = self.waybill("delivered", fee_fen=1200, created=now - 5 * DAY, promised=now - DAY)
        cid = self.file_complete(self.w("op1"), n, "delay", 1200)
        res = self.assess(self.w("adj1"), cid, cause="unknown", fault="none").data["result"]
        self.assertResult(res, "liable", 1200, 1200, "adjuster")

    def test_signed_with_remarks_is_not_refused(self):
        n = self.waybill("delivered", fee_fen=2000, remarks="box dented")
        cid = self.file_complete(self.w("op1"), n, "damage_partial", 3000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=3000).data["result"]
        self.assertResult(res, "liable", 3000, 3000, "adjuster")

    def test_signed_by_someone_else_is_not_refused(self):
        n = self.waybill("delivered", fee_fen=2000, signer_is_consignee=False)
        cid = self.file_complete(self.w("op1"), n, "damage_total", 3000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=3000).data["result"]
        self.assertResult(res, "liable", 5000, 5000, "adjuster")

    # E5: delay, indirect loss never paid
    def test_e5_delay_fee_waived_indirect_loss_not_paid(self):
        now = self.now()
        n = self.waybill("in_transit", fee_fen=2500, created=now - 5 * DAY, promised=now - DAY)
        r = self.file(self.w("op1"), n, "delay", 10000)
        self.assertEqual(r.data["missing_documents"], "claim_form, waybill, claimant_id")
        cid = int(r.data["id"])
        self.docs(self.w("op1"), cid, needed_docs("delay"))
        res = self.assess(self.w("adj1"), cid, indirect_loss_fen=7500, cause="unknown",
                          fault="none").data["result"]
        self.assertResult(res, "liable", 2500, 2500, "adjuster", reasons=["indirect_loss"])
        self.assertSteps(res["steps"], E5_STEPS)

    # E6: delay with a contract lateness discount, insured: insurer not involved
    def test_e6_delay_contract_discount_rounds_half_up(self):
        now = self.now()
        self.assertReply(self.w("sup1")("CUSTOMER", "ADD", "LATE30", name="Thirty Percent", payment="monthly",
                                        depot="SZ01", lateness_discount_bp=3000), 201)
        n = self.waybill("in_transit", fee_fen=1005, declared_value_fen=80000, insured=True,
                         created=now - 5 * DAY, promised=now - DAY, customer="LATE30")
        cid = self.file_complete(self.w("op1"), n, "delay", 1005)
        # the discount is the contract's: the adjuster gives none
        res = self.assess(self.w("adj1"), cid, cause="unknown", fault="none").data["result"]
        self.assertResult(res, "liable", 302, 302, "adjuster")
        self.assertSteps(res["steps"], E6_STEPS)
        self.assertInsurer(res["insurer"], "a", False, 0, reasons=["delay_not_covered"])

    # E13: goods described falsely: not beyond the declared value
    def test_e13_false_description(self):
        n = self.waybill("lost", fee_fen=10000, declared_value_fen=10000, goods="books")
        cid = self.file_complete(self.w("op1"), n, "loss", 80000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=80000, goods_described_falsely=True).data["result"]
        self.assertResult(res, "liable", 20000, 20000, "adjuster", reasons=["false_description"])
        self.assertSteps(res["steps"], E13_STEPS)

    # a re-assessment is a new version; approval takes the current one
    def test_reassessment_is_versioned(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        adj = self.w("adj1")
        self.assess(adj, cid, actual_loss_fen=3000, text="first look")
        r = self.assess(adj, cid, actual_loss_fen=5000, text="invoice arrived")
        self.assertEqual(r.msg, "assessment 2: liable, payable 7000 fen, approval by adjuster")
        g = self.get(cid)
        self.assertEqual([v["version"] for v in g["assessments"]], ["1", "2"])
        self.assertEqual([v["result"]["owed_fen"] for v in g["assessments"]], ["5000", "7000"])
        self.assertEqual(g["current_assessment"]["version"], "2")
        self.assertEqual(g["payable_fen"], "7000")
        self.approve_ok(adj, cid, 7000)
        r = adj("CLAIM", "ASSESS", cid, actual_loss_fen=1, cause="unknown", fault="none")
        self.assertReply(r, 409)
        self.assertReply(self.w("op1")("CLAIM", "DOC", cid, kind="photos", ref="p.jpg"), 409)

    # refusing what the rules say we owe needs that authority
    def test_refusing_a_payable_claim_needs_its_authority(self):
        n = self.waybill("lost", fee_fen=3000, declared_value_fen=500000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 500000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=500000)
        before = self.snapshot(cid)
        r = self.w("adj1")("CLAIM", "REFUSE", cid, reason="we do not want to pay")
        self.assertReply(r, 403)
        self.assertIn("supervisor", r.msg)
        self.assertEqual(self.snapshot(cid), before)
        r = self.w("sup1")("CLAIM", "REFUSE", cid, reason="proof of value forged")
        self.assertReply(r, 200, "refused")
        self.assertReply(self.w("sup1")("CLAIM", "APPROVE", cid), 409)

    # the 403-and-escalate of an approval is replayed by its req= token
    def test_req_token_replays_an_escalating_approval(self):
        n = self.waybill("lost", fee_fen=3000, declared_value_fen=500000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 500000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=500000)
        tok = "approve-%s-%d" % (self.framing, cid)
        first = self.w("adj1")("CLAIM", "APPROVE", cid, req=tok)
        self.assertReply(first, 403)
        after = self.snapshot(cid)
        self.assertEqual(after["status"], "escalated")
        # the same token in the other framing: the first reply, nothing written
        other = "msgpack" if self.framing == "text" else "text"
        again = self.w("adj1", other)("CLAIM", "APPROVE", cid, req=tok)
        self.assertEqual((again.code, again.msg), (first.code, first.msg))
        self.assertEqual(self.snapshot(cid), after)


class LifeText(LifeTests, ClaimCase):
    framing = "text"


class LifeMsgpack(LifeTests, ClaimCase):
    framing = "msgpack"


# ------------------------------------------------ E12 with its own config --

class InsurerDeductibleDiffers(ClaimCase):
    """E12: the insurer's deductible (500 yuan) differs from the customer's
    (300): the insurer and GZ03's sub-carrier recovery share the loss."""
    daemon_args = ("--insurer-deductible-fen", "50000")
    framing = "msgpack"

    def test_e12_insurer_and_sub_carrier_share(self):
        n = self.waybill("lost", fee_fen=5000, declared_value_fen=200000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 200000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=200000, real_value_fen=200000,
                          responsible_depot="GZ03", sub_carrier="Lingnan Freight",
                          sub_carrier_has_contract=True).data["result"]
        self.assertResult(res, "liable", 175000, 175000, "supervisor")
        self.assertInsurer(res["insurer"], "a", True, 150000, subrogation=True)
        self.assertNetwork(res["network"], "SZ01", "GZ03", 175000, "GZ03", "Lingnan Freight", True, 25000, 0)
        self.approve_ok(self.w("sup1"), cid, 175000)
        r = self.pay(self.w("adj1"), cid, 175000)
        self.assertEqual(r.msg, "paid 175000 fen; 3 recovery item(s)")
        self.assertItems(self.recovery(cid), [("depot_reimbursement", "GZ03", "SZ01", 175000, "open"),
                                              ("sub_carrier", "Lingnan Freight", "GZ03", 25000, "open"),
                                              ("insurer", "insurer", "GZ03", 150000, "open")])


# --------------------------------------------------------------- authority --

class Authority(ClaimCase):
    """The limits are inclusive: 100000 fen is an adjuster's, 100001 a
    supervisor's; 1000000 a supervisor's, 1000001 a manager's. admin counts
    as a manager."""

    def assessed(self, payable_uninsured=None, insured_owed=None):
        # a loss refunds the fee on top of the compensation: the payable
        # total is the loss (less the deductible) plus the fee
        if payable_uninsured is not None:
            fee = 50000
            n = self.waybill("lost", fee_fen=fee)
            cid = self.file_complete(self.w("op1"), n, "loss", payable_uninsured - fee)
            self.assess(self.w("adj1"), cid, actual_loss_fen=payable_uninsured - fee)
            return cid, payable_uninsured
        fee = 5000
        n = self.waybill("lost", fee_fen=fee, declared_value_fen=3000000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", insured_owed - fee + 30000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=insured_owed - fee + 30000)
        return cid, insured_owed

    def test_adjuster_up_to_and_including_100000(self):
        cid, fen = self.assessed(payable_uninsured=100000)
        self.assertEqual(self.get(cid)["level"], "adjuster")
        self.approve_ok(self.w("adj2"), cid, fen)

    def test_100001_needs_a_supervisor(self):
        cid, fen = self.assessed(payable_uninsured=100001)
        self.assertEqual(self.get(cid)["level"], "supervisor")
        self.approve_refused(self.w("adj2"), cid, fen, "supervisor")
        self.approve_ok(self.w("sup1"), cid, fen)

    def test_supervisor_up_to_and_including_1000000(self):
        cid, fen = self.assessed(insured_owed=1000000)
        self.assertEqual(self.get(cid)["level"], "supervisor")
        self.approve_ok(self.w("sup1"), cid, fen)

    def test_1000001_needs_a_manager_admin_counts_as_one(self):
        cid, fen = self.assessed(insured_owed=1000001)
        self.assertEqual(self.get(cid)["level"], "manager")
        self.approve_refused(self.w("sup1"), cid, fen, "manager")
        self.approve_ok(self.w("admin"), cid, fen)

    def test_roles(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        before = self.snapshot(cid)
        for words, named in ((("CLAIM", "ASSESS", cid), dict(actual_loss_fen=1, cause="theft", fault="ours")),
                             (("CLAIM", "APPROVE", cid), {}),
                             (("CLAIM", "REFUSE", cid), dict(reason="no")),
                             (("CLAIM", "PAY", cid), dict(amount_fen=1, method="cash", reference="r")),
                             (("CLAIM", "CLOSE", cid), {}),
                             (("CLAIM", "TOTALS"), dict(month="2026-03")),
                             (("RECOVERY", "LIST"), {})):
            r = self.w("op1")(*words, **named)
            self.assertReply(r, 403)
            self.assertIn("needs the", r.msg)
        self.assertReply(self.w("adj1")("CLAIM", "TOTALS", month="2026-03"), 403)
        self.assertEqual(self.snapshot(cid), before)
        r = self.w()("CLAIM", "GET", cid)
        self.assertReply(r, 200)


# ------------------------------------------------------------- bad input --

class BadInput(ClaimCase):
    """Each bad request gets its own clear error and writes nothing."""

    def claim_count(self, number):
        r = self.w("admin", "text")("CLAIM", "LIST", waybill=number)
        self.assertReply(r, 200)
        return len(r.records)

    def next_id_is(self, number, expected_id):
        r = self.file(self.w("op1"), number, "loss", 100, phone="13700000001")
        self.assertEqual(int(r.data["id"]), expected_id, "a refused FILE used up an id")
        return expected_id

    def test_bad_amounts_and_types_on_file(self):
        n = self.waybill("lost")
        first = int(self.file(self.w("op1"), n, "loss", 100, phone="13700000009").data["id"])
        self.assertReply(self.w("adj1")("CLAIM", "REFUSE", first, reason="test"), 200)
        t, m = self.w("op1", "text"), self.w("op1", "msgpack")
        common = dict(waybill=n, claimant="sender", claimant_name="Zhang Wei", claimant_phone="13800138000")
        cases = [
            (t, dict(type="loss", claimed_fen="-5"), "claimed_fen"),
            (t, dict(type="loss", claimed_fen="12.5"), "claimed_fen"),
            (t, dict(type="loss", claimed_fen="0"), "claimed_fen"),
            (t, dict(type="loss", claimed_fen="12abc"), "claimed_fen"),
            (t, dict(type="loss", claimed_fen="1e3"), "claimed_fen"),
            (t, dict(type="theft", claimed_fen="500"), "type"),
            (m, dict(type="loss", claimed_fen=-5), "claimed_fen"),
            (m, dict(type="loss", claimed_fen="-5"), "claimed_fen"),
            (m, dict(type="loss", claimed_fen="12.5"), "claimed_fen"),
            (m, dict(type="damage", claimed_fen=500), "type"),
            (t, dict(type="loss", claimed_fen="500", claimant="neighbour"), "claimant"),
        ]
        for w, over, names in cases:
            args = dict(common, **over)
            r = w("CLAIM", "FILE", **args)
            self.assertReply(r, 400)
            if names:
                self.assertIn(names, r.msg, (over, r))
        # a msgpack float is refused outright (and the connection closed)
        f = self.mp("op1")
        self.assertEqual(f.call("AUTH", "op1", pw("op1"))["code"], 200)
        r = f.call("CLAIM", "FILE", type="loss", claimed_fen=12.5, **common)
        self.assertEqual(r["code"], 400)
        # missing required arguments
        r = t("CLAIM", "FILE", waybill=n, type="loss", claimant="sender", claimant_name="Z",
              claimant_phone="13800138000")
        self.assertReply(r, 400)
        self.assertIn("claimed_fen", r.msg)
        self.assertEqual(self.claim_count(n), 1)
        self.next_id_is(n, first + 1)

    def test_amount_bounds(self):
        n = self.waybill("lost")
        r = self.file(self.w("op1"), n, "loss", "1000000000000001", expect=400)
        self.assertIn("claimed_fen", r.msg)
        r = self.file(self.w("op1"), n, "loss", 10 ** 15)
        self.assertEqual(self.get(int(r.data["id"]))["claimed_fen"], str(10 ** 15))

    def test_unknown_waybill_and_unknown_claim(self):
        r = self.file(self.w("op1"), "999999999999", expect=404)
        r = self.file(self.w("op1"), "0001878765", expect=404)
        self.assertReply(self.w("op1", "msgpack")("CLAIM", "FILE", waybill=1878765, type="loss", claimed_fen=1,
                                                  claimant="sender", claimant_name="Z",
                                                  claimant_phone="13800138000"), 400)
        missing = 987654
        for user, words, named in (
                ("op1", ("CLAIM", "GET", missing), {}),
                ("op1", ("CLAIM", "ACK", missing), {}),
                ("op1", ("CLAIM", "DOC", missing), dict(kind="photos", ref="x")),
                ("adj1", ("CLAIM", "ASSESS", missing), dict(actual_loss_fen=1, cause="theft", fault="ours")),
                ("adj1", ("CLAIM", "APPROVE", missing), {}),
                ("adj1", ("CLAIM", "REFUSE", missing), dict(reason="x")),
                ("adj1", ("CLAIM", "PAY", missing), dict(amount_fen=1, method="cash", reference="x")),
                ("adj1", ("CLAIM", "CLOSE", missing), {}),
                ("op1", ("CLAIM", "LINK", missing), dict(complaint=1)),
                ("adj1", ("RECOVERY", "RECEIVE", missing), dict(amount_fen=1, reference="x")),
                ("sup1", ("RECOVERY", "WRITEOFF", missing), dict(reason="x"))):
            for framing in ("text", "msgpack"):
                r = self.w(user, framing)(*words, **named)
                self.assertReply(r, 404)
                self.assertIn(str(missing), r.msg, (words, r))
        for bad in ("0", "-1", "abc"):
            self.assertReply(self.w("op1", "text")("CLAIM", "GET", bad), 400)

    def test_assess_with_documents_missing_lists_them(self):
        n = self.waybill("damaged")
        cid = int(self.file(self.w("op1"), n, "damage_partial", 5000).data["id"])
        self.docs(self.w("op1"), cid, ["claim_form", "photos"])
        before = self.snapshot(cid)
        for framing in ("text", "msgpack"):
            r = self.assess(self.w("adj1", framing), cid, expect=422, actual_loss_fen=5000)
            self.assertEqual(r.msg, "cannot assess: documents missing: waybill, claimant_id, proof_of_value, "
                                    "exception_record, repair_quote")
        self.assertEqual(self.snapshot(cid), before)
        self.assertEqual(before["status"], "filed")
        # a document the type does not need is recorded, marked not needed
        r = self.w("op1")("CLAIM", "DOC", cid, kind="photos", ref="more.jpg")
        self.assertReply(r, 200)
        r = self.w("op1")("CLAIM", "DOC", cid, kind="nonsense", ref="x")
        self.assertReply(r, 400)
        self.assertIn("kind", r.msg)
        n2 = self.waybill("lost")
        cid2 = int(self.file(self.w("op1"), n2, "loss", 5000).data["id"])
        self.assertReply(self.w("op1")("CLAIM", "DOC", cid2, kind="repair_quote", ref="q"), 200)
        docs = self.get(cid2)["documents"]
        self.assertEqual([(d["kind"], d["needed"]) for d in docs], [("repair_quote", "no")])

    def test_assessment_inputs_that_do_not_hold_together(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        before = self.snapshot(cid)
        adj = self.w("adj1")
        r = self.assess(adj, cid, expect=422, actual_loss_fen=5000, real_value_fen=1000)
        self.assertIn("actual_loss_fen", r.msg)
        r = self.assess(adj, cid, expect=400, actual_loss_fen=5000, lateness_discount_bp=10001)
        self.assertIn("lateness_discount_bp", r.msg)
        r = self.assess(adj, cid, expect=422, actual_loss_fen=5000, indirect_loss_fen=6000)
        self.assertIn("indirect_loss_fen", r.msg)
        r = self.assess(adj, cid, expect=422, actual_loss_fen=5000, sub_carrier="Lingnan", fault="none")
        self.assertIn("fault", r.msg)
        r = self.assess(adj, cid, expect=400, actual_loss_fen=-1)
        self.assertIn("actual_loss_fen", r.msg)
        r = self.assess(adj, cid, expect=400, actual_loss_fen=5000, cause="meteor")
        self.assertIn("cause", r.msg)
        r = self.assess(adj, cid, expect=400, actual_loss_fen=5000, ex_gratia_fen="1.5")
        self.assertIn("ex_gratia_fen", r.msg)
        self.assertEqual(self.snapshot(cid), before)

    def test_pay_and_receive_bad_amounts(self):
        n = self.waybill("lost", fee_fen=20000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        adj = self.w("adj1")
        self.assess(adj, cid, actual_loss_fen=5000, responsible_depot="GZ03")
        self.approve_ok(adj, cid, 25000)   # 50 yuan + the 200-yuan fee refunded
        before = self.snapshot(cid)
        for amount, code in (("-5", 400), ("12.5", 400), ("50.00", 400), ("0", 422), ("24999", 422),
                             ("25001", 422)):
            r = self.w("adj1", "text")("CLAIM", "PAY", cid, amount_fen=amount, method="cash", reference="r")
            self.assertReply(r, code)
            self.assertIn("amount_fen", r.msg, r)
        r = self.w("adj1", "text")("CLAIM", "PAY", cid, amount_fen=25000, method="cheque", reference="r")
        self.assertReply(r, 400)
        self.assertIn("method", r.msg)
        self.assertEqual(self.snapshot(cid), before)
        self.pay(adj, cid, 25000)
        item = self.recovery(cid)[0]
        rid = int(item["id"])
        for amount, code in (("-5", 400), ("1.5", 400), ("0", 400), ("25001", 422)):
            r = self.w("adj1", "text")("RECOVERY", "RECEIVE", rid, amount_fen=amount, reference="r")
            self.assertReply(r, code)
            if code == 400:
                self.assertIn("amount_fen", r.msg)
            else:
                self.assertEqual(r.msg, "25001 fen is more than the 25000 fen still due")
        self.assertEqual(self.recovery(cid), [item])

    def test_paying_twice_and_closing_rules(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        adj = self.w("adj1")
        self.assertReply(adj("CLAIM", "CLOSE", cid), 409)       # filed
        self.assess(adj, cid, actual_loss_fen=5000)
        self.assertReply(adj("CLAIM", "CLOSE", cid), 409)       # assessed
        self.approve_ok(adj, cid, 7000)   # 50 yuan + the 20-yuan fee refunded
        self.assertReply(adj("CLAIM", "APPROVE", cid), 409)     # approved already
        self.assertReply(adj("CLAIM", "REFUSE", cid, reason="changed my mind"), 409)
        self.assertReply(adj("CLAIM", "CLOSE", cid), 409)       # approved, unpaid
        self.pay(adj, cid, 7000)
        before = self.snapshot(cid)
        for framing in ("text", "msgpack"):
            r = self.pay(self.w("adj1", framing), cid, 7000, expect=409)
            self.assertEqual(r.msg, "claim %d is already paid" % cid)
        self.assertEqual(self.snapshot(cid), before)
        self.assertReply(adj("CLAIM", "CLOSE", cid), 200)
        self.assertReply(self.pay(adj, cid, 7000, expect=None), 409)

    def test_concurrent_payments_pay_once(self):
        n = self.waybill("lost", fee_fen=20000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=5000, responsible_depot="GZ03")
        self.approve_ok(self.w("adj1"), cid, 25000)   # 50 yuan + the 200-yuan fee refunded
        clients = [self.mp() for _ in range(4)]
        for c in clients:
            c.auth("adj1", pw("adj1"))
        for i, c in enumerate(clients):
            c.send("CLAIM", "PAY", cid, amount_fen=25000, method="cash", reference="R%d" % i)
        codes = sorted(c.recv()["code"] for c in clients)
        self.assertEqual(codes, [200, 409, 409, 409])
        self.assertEqual(len(self.recovery(cid)), 1)
        self.assertEqual(self.actions(self.get(cid)).count("pay"), 1)

    def test_paying_a_refused_closed_claim_says_it_was_not_paid(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        adj = self.w("adj1")
        self.assertReply(adj("CLAIM", "REFUSE", cid, reason="duplicate of another claim"), 200)
        self.assertReply(adj("CLAIM", "CLOSE", cid), 200)
        before = self.snapshot(cid)
        r = self.pay(adj, cid, 5000, expect=409)
        self.assertNotIn("already paid", r.msg, "a claim that was refused, never paid, is reported paid")
        self.assertEqual(self.snapshot(cid), before)

    def test_open_claim_of_that_type_exists(self):
        n = self.waybill("lost")
        op = self.w("op1")
        cid = int(self.file(op, n, "loss", 5000).data["id"])
        for framing in ("text", "msgpack"):
            r = self.file(self.w("op1", framing), n, "loss", 7000, phone="13700000002", expect=409)
            self.assertEqual(r.msg, "waybill %s already has an open loss claim (%d)" % (n, cid))
        self.assertEqual(self.claim_count(n), 1)
        # another type is another claim; a refused one frees the type
        n2 = self.waybill("damaged")
        a = int(self.file(op, n2, "damage_partial", 500).data["id"])
        b = int(self.file(op, n2, "damage_total", 500).data["id"])
        self.assertEqual(b, a + 1)
        self.file(op, n2, "damage_partial", 500, expect=409)
        self.assertReply(self.w("adj1")("CLAIM", "REFUSE", a, reason="filed twice"), 200)
        self.file(op, n2, "damage_partial", 600)

    def test_type_must_fit_the_waybill(self):
        now = self.now()
        op = self.w("op1")
        on_time = self.waybill("in_transit", promised=now + DAY)
        r = self.file(op, on_time, "delay", 1000, expect=422)
        self.assertEqual(r.msg, "a delay claim cannot be filed: the parcel is not late against its promise")
        r = self.file(op, on_time, "loss", 1000, expect=422)
        self.assertEqual(r.msg, "a loss claim cannot be filed: the parcel is neither reported lost nor "
                                "completely delayed")
        for t in ("damage_total", "damage_partial"):
            r = self.file(op, on_time, t, 1000, expect=422)
            self.assertIn("neither delivered nor recorded as damaged", r.msg)
        for t in ("mismatch_different_item", "mismatch_short"):
            self.file(op, on_time, t, 1000, expect=422)
        self.assertEqual(self.claim_count(on_time), 0)
        # late but not completely delayed (intercity: 7 days after the promise)
        late = self.waybill("in_transit", created=now - 10 * DAY, promised=now - 7 * DAY + HOUR)
        self.file(op, late, "loss", 1000, expect=422)
        self.file(op, late, "delay", 1000)
        # completely delayed: may be claimed as lost
        gone = self.waybill("in_transit", created=now - 10 * DAY, promised=now - 7 * DAY - 60)
        self.file(op, gone, "loss", 1000)
        # same city: 3 days
        same = self.waybill("in_transit", created=now - 6 * DAY, promised=now - 3 * DAY - 60,
                            receiver_city="Shanghai")
        self.file(op, same, "loss", 1000)
        same2 = self.waybill("in_transit", created=now - 6 * DAY, promised=now - 3 * DAY + HOUR,
                             receiver_city="Shanghai")
        self.file(op, same2, "loss", 1000, expect=422)
        # delivered late: delay fits; delivered: mismatch and damage fit
        delivered = self.waybill("delivered", remarks="seal broken")
        self.file(op, delivered, "mismatch_short", 1000)
        self.file(op, delivered, "mismatch_different_item", 1000)
        self.file(op, delivered, "damage_partial", 1000)
        self.file(op, delivered, "loss", 1000, expect=422)
        self.file(op, delivered, "delay", 1000, expect=422)


# ---------------------------------------------------- cross-framing view --

class SameInBothFramings(ClaimCase):
    def test_claim_get_and_list_are_the_same_in_text_and_msgpack(self):
        n = self.waybill("lost", fee_fen=3000, declared_value_fen=500000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 500000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=500000, responsible_depot="GZ03")
        self.approve_refused(self.w("adj1"), cid, 473000, "supervisor")   # with the 30-yuan fee refunded
        self.approve_ok(self.w("sup1"), cid, 473000)
        self.pay(self.w("adj1"), cid, 473000)
        t = self.w("admin", "text")("CLAIM", "GET", cid)
        m = self.w("admin", "msgpack")("CLAIM", "GET", cid)
        self.assertEqual(t.flat, m.flat)
        md = m.raw["data"]
        for k in ("id", "claimed_fen", "payable_fen", "approved_fen", "paid_fen"):
            self.assertIs(type(md[k]), int, k)
        self.assertIs(type(md["overdue"]), bool)
        self.assertIsInstance(md["timeline"], list)
        t = self.w("adj1", "text")("RECOVERY", "LIST", claim=cid)
        m = self.w("adj1", "msgpack")("RECOVERY", "LIST", claim=cid)
        self.assertEqual(t.records, m.records)
        t = self.w("op1", "text")("CLAIM", "LIST", waybill=n)
        m = self.w("op1", "msgpack")("CLAIM", "LIST", waybill=n)
        self.assertEqual(t.records, m.records)
        self.assertIs(type(m.raw["data"][0]["payable_fen"]), int)

    def test_list_row_of_an_unassessed_claim_has_no_string_amount(self):
        """A money field in msgpack is an integer (or nil when unknown),
        never the empty string."""
        n2 = self.waybill("lost")
        self.file(self.w("op1"), n2, "loss", 100)
        m = self.w("op1", "msgpack")("CLAIM", "LIST", waybill=n2)
        self.assertIn(type(m.raw["data"][0]["payable_fen"]), (int, type(None)), m.raw)


# ----------------------------------------------------------- link, lists --

class LinkAndLists(ClaimCase):
    def open_complaint(self, number):
        r = self.w("op1")("COMPLAINT", "OPEN", channel="phone", category="loss", waybill=number,
                          customer_name="Zhang Wei", customer_phone="13800138000", text="where is my parcel")
        self.assertReply(r, 201)
        return int(r.data["id"])

    def test_link_claim_and_complaint(self):
        n = self.waybill("lost")
        cid = int(self.file(self.w("op1"), n, "loss", 5000).data["id"])
        k = self.open_complaint(n)
        other = self.open_complaint(self.waybill("lost"))
        before = self.snapshot(cid)
        r = self.w("op1")("CLAIM", "LINK", cid, complaint=other)
        self.assertReply(r, 422)
        self.assertEqual(r.msg, "complaint %d is not about waybill %s" % (other, n))
        self.assertReply(self.w("op1")("CLAIM", "LINK", cid, complaint=99999), 404)
        self.assertEqual(self.snapshot(cid), before)
        r = self.w("op1", "msgpack")("CLAIM", "LINK", cid, complaint=k)
        self.assertReply(r, 200, "linked to complaint %d" % k)
        self.assertReply(self.w("op1")("CLAIM", "LINK", cid, complaint=k), 409)
        g = self.get(cid)
        self.assertEqual(L(g["complaints"]), [str(k)])
        self.assertEqual(self.actions(g)[-1], "link_complaint")
        for framing in ("text", "msgpack"):
            c = self.w("op1", framing)("COMPLAINT", "GET", k)
            self.assertReply(c, 200)
            self.assertEqual(L(c.data.get("claims")), [str(cid)])
            self.assertIn("link_claim", [e["action"] for e in L(c.data["timeline"])])
        o = self.w("op1")("COMPLAINT", "GET", other).data
        self.assertEqual(L(o.get("claims", "")), [])


class Lists(ClaimCase):
    """Alone in its daemon, so every list is known exactly."""

    def test_lists_by_status_depot_type_waybill_phone(self):
        op, adj = self.w("op1"), self.w("adj1")
        now = self.now()
        n1 = self.waybill("lost", fee_fen=2000, sender_name="Alpha", sender_phone="13511110001")  # SZ01
        n2 = self.waybill("lost", fee_fen=2000, origin_depot="GZ03", sender_name="Beta",
                          sender_phone="13511110002")
        n3 = self.waybill("in_transit", created=now - 5 * DAY, promised=now - DAY, origin_depot="GZ03",
                          receiver_phone="13511110003")
        n4 = self.waybill("damaged", fee_fen=2000)
        c1 = int(self.file(op, n1, "loss", 5000, phone="13511110001", claimant_name="Alpha").data["id"])
        c2 = self.file_complete(op, n2, "loss", 5000, phone="13511110002", claimant_name="Beta")
        c3 = int(self.file(op, n3, "delay", 900, phone="13511110003", claimant="receiver").data["id"])
        c4 = int(self.file(op, n4, "damage_partial", 700, phone="13511110002").data["id"])
        self.assess(adj, c2, actual_loss_fen=5000)
        self.assertReply(adj("CLAIM", "REFUSE", c4, reason="no damage found"), 200)
        mine = {c1, c2, c3, c4}

        def ids(framing="text", **f):
            r = self.w("op1", framing)("CLAIM", "LIST", **f)
            self.assertReply(r, 200)
            self.assertEqual(r.msg, counted(len(r.records), "claim", "claims"))
            got = [int(x["id"]) for x in r.items]
            self.assertEqual(got, sorted(got, reverse=True), "newest first")
            return got, r.items

        for framing in ("text", "msgpack"):
            self.assertEqual(ids(framing)[0], [c4, c3, c2, c1])
            self.assertEqual(ids(framing, waybill=n2)[0], [c2])
            self.assertEqual(ids(framing, phone="13511110002")[0], [c4, c2])
            self.assertEqual(ids(framing, status="filed")[0], [c3, c1])
            self.assertEqual(ids(framing, status="assessed")[0], [c2])
            self.assertEqual(ids(framing, status="refused")[0], [c4])
            self.assertEqual(ids(framing, depot="GZ03")[0], [c3, c2])
            self.assertEqual(ids(framing, depot="SZ01")[0], [c4, c1])
            self.assertEqual(ids(framing, type="loss")[0], [c2, c1])
            self.assertEqual(ids(framing, type="delay")[0], [c3])
            self.assertEqual(ids(framing, type="loss", depot="GZ03")[0], [c2])
            self.assertEqual(ids(framing, phone="13511110002", status="refused")[0], [c4])
            self.assertEqual(ids(framing, overdue=False)[0], [c4, c3, c2, c1])
            self.assertEqual(ids(framing, overdue=True)[0], [])
            self.assertEqual(ids(framing, limit=2)[0], [c4, c3])
            self.assertEqual(ids(framing, limit=2, before=c3)[0], [c2, c1])
        got, rows = ids(waybill=n2)
        row = rows[0]
        self.assertEqual({k: row[k] for k in ("id", "status", "level", "type", "waybill", "depot",
                                              "claimant_name", "claimed_fen", "payable_fen", "overdue")},
                         # 50 yuan + the 20-yuan fee refunded on a loss
                         {"id": str(c2), "status": "assessed", "level": "adjuster", "type": "loss", "waybill": n2,
                          "depot": "GZ03", "claimant_name": "Beta", "claimed_fen": "5000", "payable_fen": "7000",
                          "overdue": "no"})
        self.assertTrue(row["filed_at"])
        self.assertEqual(set(ids()[0]), mine)
        self.assertReply(self.w("op1")("CLAIM", "LIST", status="lost"), 400)
        self.assertReply(self.w("op1")("CLAIM", "LIST", limit=0), 400)
        self.assertReply(self.w("op1")("CLAIM", "LIST", limit=100000), 400)


# --------------------------------------------------------------- deadlines --

class Deadlines(ClaimCase):
    """The daemon's test clock: acknowledge, decide and pay deadlines pass,
    the claim is marked, its level goes up, lists show it overdue — by the
    daemon itself (its one timer), within ~3 s of the clock passing."""

    base = T0

    def setUp(self):
        super().setUp()
        # each test has its own stretch of time, after the previous ones
        Deadlines.base += 200 * DAY
        self.set_now(Deadlines.base)

    def wait_for(self, cid, key, value="yes"):
        g = self.poll(lambda: (lambda c: c if c.get(key) == value else None)(self.get(cid)))
        self.assertIsNotNone(g, "claim %d: %s did not become %s within 3 s by itself" % (cid, key, value))
        return g

    def test_filing_deadline_is_365_days(self):
        old = self.waybill("lost")
        fresh = self.waybill("lost")
        created = parse_iso(self.w()("WAYBILL", "GET", old).data["created_at"])
        self.set_now(created + 365 * DAY - 60)
        self.file(self.w("op1"), fresh, "loss", 1000)
        self.set_now(created + 365 * DAY + 60)
        for framing in ("text", "msgpack"):
            r = self.file(self.w("op1", framing), old, "loss", 1000, expect=422)
            self.assertEqual(r.msg, "past the filing deadline: a claim is filed within 365 days of sending")
        r = self.w("op1")("CLAIM", "LIST", waybill=old)
        self.assertEqual(r.records, [])

    def test_acknowledge_deadline_escalates_and_shows_overdue(self):
        n = self.waybill("lost")
        phone = "13622220001"
        r = self.file(self.w("op1"), n, "loss", 1000, phone=phone)
        cid = int(r.data["id"])
        g = self.get(cid)
        due = parse_iso(g["acknowledge_by"])
        self.assertEqual(due, parse_iso(g["filed_at"]) + DAY)
        self.assertEqual(self.w("op1")("CLAIM", "LIST", phone=phone, overdue=True).records, [])
        self.set_now(due + 60)
        g = self.wait_for(cid, "acknowledge_breached")
        self.assertEqual((g["status"], g["level"], g["overdue"], g["escalations"]),
                         ("escalated", "supervisor", "yes", "1"))
        self.assertEqual(g["timeline"][-1]["action"], "acknowledge_breached")
        self.assertEqual(g["timeline"][-1]["who"], "parceldeskd")
        rows = self.w("op1")("CLAIM", "LIST", phone=phone, overdue=True).items
        self.assertEqual([(int(x["id"]), x["overdue"], x["level"]) for x in rows], [(cid, "yes", "supervisor")])
        rows = self.w("op1")("CLAIM", "LIST", overdue=True).items
        self.assertIn(cid, [int(x["id"]) for x in rows])
        self.assertTrue(all(x["overdue"] == "yes" for x in rows))
        # acknowledging late ends the overdue state; the breach stays recorded
        self.assertReply(self.w("op1")("CLAIM", "ACK", cid), 200)
        g = self.get(cid)
        self.assertEqual((g["overdue"], g["acknowledge_breached"], g["level"]), ("no", "yes", "supervisor"))
        self.assertEqual(self.w("op1")("CLAIM", "LIST", phone=phone, overdue=True).records, [])

    def test_deadline_instant_is_on_time(self):
        """A claim is on time AT its acknowledge-by instant and breached from
        the second after, as a complaint is: the sweep, `overdue` and the
        acknowledge clock agree at both instants."""
        n = self.waybill("lost")
        cid = int(self.file(self.w("op1"), n, "loss", 1000).data["id"])
        due = parse_iso(self.get(cid)["acknowledge_by"])
        while not (0.15 <= time.time() % 1 <= 0.45):  # CLOCK SET and GET in one second
            time.sleep(0.005)
        self.set_now(due)
        self.assertReply(self.w("admin")("SWEEP"), 200)
        g = self.get(cid)
        if self.now() != due:
            self.skipTest("the second turned over during the check")
        self.assertEqual((g.get("acknowledge_breached", "no"), g["overdue"], g["level"],
                          g["clocks"]["acknowledge"]["state"]), ("no", "no", "adjuster", "running"))
        self.set_now(due + 1)
        g = self.wait_for(cid, "acknowledge_breached")
        self.assertEqual((g["overdue"], g["level"], g["clocks"]["acknowledge"]["state"]),
                         ("yes", "supervisor", "breached"))

    def test_decide_deadline_escalates(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 1000)
        self.assertReply(self.w("op1")("CLAIM", "ACK", cid), 200)
        g = self.get(cid)
        due = parse_iso(g["decide_by"])
        self.assertEqual(due, parse_iso(g["complete_at"]) + 30 * DAY)
        self.set_now(due - 3600)
        time.sleep(0.2)
        g = self.get(cid)
        self.assertEqual((g["overdue"], g.get("decide_breached", "no"), g["level"]), ("no", "no", "adjuster"))
        self.set_now(due + 60)
        g = self.wait_for(cid, "decide_breached")
        self.assertEqual((g["status"], g["level"], g["overdue"]), ("escalated", "supervisor", "yes"))
        self.assertEqual(g["timeline"][-1]["action"], "decide_breached")
        # assessing is not deciding: still overdue until approved or refused
        self.assess(self.w("sup1"), cid, actual_loss_fen=1000)
        self.assertEqual(self.get(cid)["overdue"], "yes")
        self.approve_ok(self.w("sup1"), cid, 3000)   # 10 yuan + the 20-yuan fee
        g = self.get(cid)
        self.assertEqual((g["overdue"], g["decide_breached"]), ("no", "yes"))

    def test_decide_clock_starts_when_the_last_document_was_received(self):
        """Round 18: "decide within 30 days of a complete file" counts from
        when the papers came in (received_at), not from when they were keyed
        in; a wait does not move decide-by past that limit, and a claim still
        waiting at decide-by is breached, escalated and overdue."""
        day0 = Deadlines.base
        op = self.w("op1")
        cid = int(self.file(op, self.waybill("lost", fee_fen=2000), "loss", 1000).data["id"])
        self.assertReply(op("CLAIM", "ACK", cid), 200)
        self.set_now(day0 + 5 * DAY)
        for kind in needed_docs("loss"):
            self.assertReply(op("CLAIM", "DOC", cid, kind=kind, ref="R-" + kind, received_at=iso(day0)), 200)
        g = self.get(cid)
        self.assertEqual(parse_iso(g["complete_at"]), day0)
        self.assertEqual(parse_iso(g["decide_by"]), day0 + 30 * DAY)
        self.assertEqual(parse_iso(g["decide_limit_by"]), day0 + 30 * DAY)
        self.assertEqual(parse_iso(g["clocks"]["decide"]["limit_by"]), day0 + 30 * DAY)
        # a wait of 20 days: recorded, decide-by unchanged
        r = self.assertReply(op("CLAIM", "WAIT", cid, **{"for": "customer", "reason": "bank details"}), 200)
        self.assertEqual(r.msg, "waiting for the customer: the update clock is paused; the decision is still "
                                "due within 30 days of the complete file")
        self.assertEqual(self.get(cid)["clocks"]["decide"]["state"], "running")
        self.set_now(day0 + 25 * DAY)
        r = self.assertReply(op("CLAIM", "RESUME", cid), 200)
        self.assertRegex(r.msg, r"^resumed after \d+ second\(s\) paused$")
        g = self.get(cid)
        self.assertEqual(parse_iso(g["decide_by"]), day0 + 30 * DAY)
        self.assertLessEqual(abs(int(g["paused_secs"]) - 20 * DAY), 5)
        self.assertEqual((g["overdue"], g.get("decide_breached", "no")), ("no", "no"))
        # still waiting when the 30 days pass: the breach shows
        self.assertReply(op("CLAIM", "WAIT", cid, **{"for": "partner", "reason": "line-haul report"}), 200)
        self.set_now(day0 + 30 * DAY + 60)
        g = self.wait_for(cid, "decide_breached")
        self.assertEqual((g["breached_waiting_for"], g["waiting_for"], g["overdue"], g["level"], g["status"],
                          g["clocks"]["decide"]["state"]),
                         ("partner", "partner", "yes", "supervisor", "escalated", "breached"))
        self.assertIn(cid, [int(x["id"]) for x in op("CLAIM", "LIST", overdue=True).items])
        # resuming does not move it either
        self.assertReply(op("CLAIM", "RESUME", cid), 200)
        self.assertEqual(parse_iso(self.get(cid)["decide_by"]), day0 + 30 * DAY)

    def test_complete_at_is_the_last_kind_received_first_copy_counts(self):
        day0 = Deadlines.base
        op = self.w("op1")
        cid = int(self.file(op, self.waybill("lost"), "loss", 1000).data["id"])
        self.set_now(day0 + 4 * DAY)
        received = [("proof_of_value", 3), ("proof_of_value", 1), ("claim_form", 0), ("waybill", 0),
                    ("claimant_id", 2)]
        self.assertEqual(sorted({k for k, _ in received}), sorted(needed_docs("loss")))
        for kind, day in received:
            self.assertReply(op("CLAIM", "DOC", cid, kind=kind, ref="R", received_at=iso(day0 + day * DAY)), 200)
        g = self.get(cid)
        # the ID on day 2 completed the file (the value proof was in since day 1)
        self.assertEqual(parse_iso(g["complete_at"]), day0 + 2 * DAY)
        self.assertEqual(parse_iso(g["decide_by"]), day0 + 32 * DAY)

    def test_deadline_escalation_is_not_undone_by_an_assessment(self):
        """Overdue claims "escalate like complaints do": the level a passed
        deadline raised stays; an adjuster's (re-)assessment does not bring
        the claim back within the adjuster's own approval."""
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 1000)
        self.assertReply(self.w("op1")("CLAIM", "ACK", cid), 200)
        self.set_now(parse_iso(self.get(cid)["decide_by"]) + 60)
        g = self.wait_for(cid, "decide_breached")
        self.assertEqual(g["level"], "supervisor")
        self.assess(self.w("adj1"), cid, actual_loss_fen=1000)
        g = self.get(cid)
        self.assertEqual(g["level"], "supervisor", "the deadline escalation was undone by ASSESS")
        self.approve_refused(self.w("adj1"), cid, 3000, "supervisor")   # 10 yuan + the 20-yuan fee

    def test_pay_deadline_escalates(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 1000)
        self.assertReply(self.w("op1")("CLAIM", "ACK", cid), 200)
        self.assess(self.w("adj1"), cid, actual_loss_fen=1000)
        self.approve_ok(self.w("adj1"), cid, 3000)   # 10 yuan + the 20-yuan fee
        g = self.get(cid)
        due = parse_iso(g["pay_by"])
        self.assertEqual(due, parse_iso(g["approved_at"]) + 7 * DAY)
        self.set_now(due + 60)
        g = self.wait_for(cid, "pay_breached")
        self.assertEqual((g["status"], g["level"], g["overdue"]), ("approved", "supervisor", "yes"))
        rows = self.w("op1")("CLAIM", "LIST", status="approved", overdue=True).items
        self.assertIn(cid, [int(x["id"]) for x in rows])
        self.pay(self.w("adj1"), cid, 3000)
        self.assertEqual(self.get(cid)["overdue"], "no")

    def test_overdue_list_most_overdue_first_and_escalates_again(self):
        op = self.w("op1")
        a = int(self.file(op, self.waybill("lost"), "loss", 1000, phone="13633330001").data["id"])
        self.set_now(Deadlines.base + HOUR)
        b = int(self.file(op, self.waybill("lost"), "loss", 1000, phone="13633330002").data["id"])
        self.set_now(Deadlines.base + DAY + 2 * HOUR)
        self.wait_for(b, "acknowledge_breached")
        rows = self.w("op1")("CLAIM", "LIST", overdue=True).items
        order = [int(x["id"]) for x in rows]
        self.assertLess(order.index(a), order.index(b), "most overdue first")
        # a second deadline passing raises the level again
        self.docs(op, a, needed_docs("loss"))
        due = parse_iso(self.get(a)["decide_by"])
        self.set_now(due + 60)
        g = self.wait_for(a, "decide_breached")
        self.assertEqual(g["level"], "manager")

    def test_two_deadlines_passing_at_once_raise_two_levels(self):
        """Each deadline that passes raises the level: the same whether the
        daemon swept in between (see test_overdue_list_...) or not (the clock
        jumps past both, as after a day with the daemon stopped)."""
        n = self.waybill("lost")
        cid = self.file_complete(self.w("op1"), n, "loss", 1000)
        g = self.get(cid)
        self.set_now(parse_iso(g["decide_by"]) + 60)
        g = self.wait_for(cid, "decide_breached")
        self.assertEqual(g["acknowledge_breached"], "yes")
        self.assertEqual((g["level"], g["escalations"]), ("manager", "2"))

    def test_recovery_items_fall_due(self):
        n = self.waybill("lost", fee_fen=20000)
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        self.assertReply(self.w("op1")("CLAIM", "ACK", cid), 200)
        self.assess(self.w("adj1"), cid, actual_loss_fen=5000, responsible_depot="GZ03")
        self.approve_ok(self.w("adj1"), cid, 25000)   # 50 yuan + the 200-yuan fee
        self.pay(self.w("adj1"), cid, 25000)
        paid = parse_iso(self.get(cid)["paid_at"])
        item = self.recovery(cid)[0]
        self.assertEqual(parse_iso(item["due_at"]), paid + 30 * DAY)
        self.assertEqual(item["overdue"], "no")
        self.set_now(paid + 30 * DAY + 60)
        item = self.recovery(cid)[0]
        self.assertEqual((item["status"], item["overdue"]), ("open", "yes"))
        # a paid claim has no deadline left: it is not overdue
        self.assertEqual(self.get(cid)["overdue"], "no")

    def test_paid_claim_never_acknowledged_is_not_escalated(self):
        """A claim paid within the day it was filed cannot be late to be
        acknowledged: it was decided and paid."""
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 1000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=1000)
        self.approve_ok(self.w("adj1"), cid, 3000)   # 10 yuan + the 20-yuan fee
        self.pay(self.w("adj1"), cid, 3000)
        self.set_now(parse_iso(self.get(cid)["acknowledge_by"]) + 60)
        time.sleep(1.0)
        self.w("admin")("SWEEP")
        g = self.get(cid)
        self.assertEqual((g["status"], g["level"], g["overdue"]), ("paid", "adjuster", "no"))

    def test_document_received_in_the_future(self):
        n = self.waybill("lost")
        cid = int(self.file(self.w("op1"), n, "loss", 1000).data["id"])
        before = self.snapshot(cid)
        r = self.w("op1")("CLAIM", "DOC", cid, kind="photos", ref="x", received_at=iso(self.now() + HOUR))
        self.assertReply(r, 422)
        self.assertEqual(self.snapshot(cid), before)
        r = self.w("op1")("CLAIM", "DOC", cid, kind="photos", ref="x", received_at=iso(self.now() - HOUR))
        self.assertReply(r, 200)

    def test_recovery_list_pages_newest_first(self):
        adj = self.w("adj1")
        ids = []
        for _ in range(3):
            n = self.waybill("lost", fee_fen=20000)
            cid = self.file_complete(self.w("op1"), n, "loss", 5000)
            self.assess(adj, cid, actual_loss_fen=5000, responsible_depot="WH07")
            self.approve_ok(adj, cid, 25000)   # 50 yuan + the 200-yuan fee
            self.pay(adj, cid, 25000)
            ids += [int(i["id"]) for i in self.recovery(cid)]
        rows = adj("RECOVERY", "LIST", debtor="WH07").items
        self.assertEqual([int(x["id"]) for x in rows], sorted(ids, reverse=True))
        rows = adj("RECOVERY", "LIST", debtor="WH07", limit=2).items
        self.assertEqual([int(x["id"]) for x in rows], sorted(ids, reverse=True)[:2])
        rows = adj("RECOVERY", "LIST", debtor="WH07", before=rows[-1]["id"]).items
        self.assertEqual([int(x["id"]) for x in rows], sorted(ids, reverse=True)[2:])
        rows = adj("RECOVERY", "LIST", limit=1000).items
        self.assertTrue(set(ids) <= {int(x["id"]) for x in rows})
        self.assertReply(adj("RECOVERY", "LIST", kind="bank"), 400)

    def test_sweep_command(self):
        r = self.w("admin")("SWEEP")
        self.assertReply(r, 200)
        self.assertIn(r.data["more"], ("no", "yes"))
        self.assertReply(self.w("sup1")("SWEEP"), 403)


# ------------------------------------------------------------------ totals --

class Totals(ClaimCase):
    """CLAIM TOTALS for a month: paid_fen is the sum of the claims paid in it
    (by the depot's day of payment), by type, depot and cause."""

    framing = "msgpack"
    MAY = int(datetime.datetime(2026, 5, 10, 10, 0, tzinfo=CST).timestamp())

    def paid_claim(self, state, ctype, claimed, assess, approver="adj1", **wb):
        n = self.waybill(state, **wb)
        cid = self.file_complete(self.w("op1"), n, ctype, claimed)
        payable = int(self.assess(self.w("adj1"), cid, **assess).data["result"]["payable_fen"])
        self.approve_ok(self.w(approver), cid, payable)
        self.pay(self.w("adj1"), cid, payable)
        return cid, payable

    def totals(self, month, framing="msgpack"):
        r = self.w("sup1", framing)("CLAIM", "TOTALS", month=month)
        self.assertReply(r, 200)
        return r

    def test_month_totals_agree_with_the_claims(self):
        self.set_now(self.MAY)
        claims = []
        claims.append(self.paid_claim("lost", "loss", 50000, dict(actual_loss_fen=50000, cause="theft"),
                                      fee_fen=2000))
        claims.append(self.paid_claim("damaged", "damage_partial", 200000,
                                      dict(actual_loss_fen=200000, real_value_fen=500000),
                                      fee_fen=3000, declared_value_fen=300000, insured=True))
        now = self.now()
        claims.append(self.paid_claim("in_transit", "delay", 9000, dict(cause="unknown", fault="none"),
                                      fee_fen=2500, origin_depot="GZ03", created=now - 5 * DAY,
                                      promised=now - DAY))
        claims.append(self.paid_claim("lost", "loss", 500000, dict(actual_loss_fen=500000, cause="handling"),
                                      approver="sup1", fee_fen=3000, declared_value_fen=500000, insured=True))
        # approved but not paid, and assessed only: not money paid
        n = self.waybill("lost", fee_fen=2000)
        unpaid = self.file_complete(self.w("op1"), n, "loss", 3000)
        self.assess(self.w("adj1"), unpaid, actual_loss_fen=3000)
        self.approve_ok(self.w("adj1"), unpaid, 5000)   # with the 20-yuan fee refunded

        self.assertEqual([p for _, p in claims], [8000, 90000, 2500, 473000])
        paid = {}
        for cid, _ in claims:
            g = self.get(cid)
            paid[cid] = (g["type"], g["depot"], g["cause"], int(g["paid_fen"]))
        total = sum(p[3] for p in paid.values())

        def expect(i):
            out = {}
            for p in paid.values():
                out[p[i]] = out.get(p[i], 0) + p[3]
            return out

        r = self.totals("2026-05")
        d = r.raw["data"]
        self.assertEqual(r.msg, "%d fen paid on %d claims" % (total, len(paid)))
        self.assertEqual((d["month"], d["claims_paid"], d["paid_fen"]), ("2026-05", 4, total))
        self.assertEqual(d["by_type"], expect(0))
        self.assertEqual(d["by_depot"], expect(1))
        self.assertEqual(d["by_cause"], expect(2))
        self.assertEqual(d["by_type"], {"loss": 481000, "damage_partial": 90000, "delay": 2500})
        self.assertEqual(d["by_depot"], {"SZ01": 571000, "GZ03": 2500})
        for dim in ("by_type", "by_depot", "by_cause"):
            self.assertEqual(sum(d[dim].values()), d["paid_fen"], dim)
        # the sum over CLAIM LIST status=paid agrees too
        rows = self.w("op1")("CLAIM", "LIST", status="paid").items
        self.assertEqual(sorted(int(x["id"]) for x in rows), sorted(paid))
        self.assertEqual(sum(int(self.get(int(x["id"]))["paid_fen"]) for x in rows), total)
        # the text framing says the same
        t = self.totals("2026-05", "text")
        self.assertEqual(t.flat["paid_fen"], str(total))
        self.assertEqual(t.flat["by_depot.GZ03"], "2500")
        # other months are empty
        e = self.totals("2026-04").raw["data"]
        self.assertEqual((e["claims_paid"], e["paid_fen"], e["by_type"]), (0, 0, {}))

        # paid at 00:10 on 1 June in the depot's zone (still 31 May in UTC): June
        june = int(datetime.datetime(2026, 6, 1, 0, 10, tzinfo=CST).timestamp())
        self.set_now(june)
        self.pay(self.w("adj1"), unpaid, 5000)
        self.assertEqual(self.totals("2026-05").raw["data"]["paid_fen"], total)
        j = self.totals("2026-06").raw["data"]
        self.assertEqual((j["claims_paid"], j["paid_fen"], j["by_type"]), (1, 5000, {"loss": 5000}))

        # a restart changes nothing
        before = (self.totals("2026-05").raw, self.totals("2026-06").raw)
        self.daemon.stop()
        self.daemon.restart()
        self.assertEqual((self.totals("2026-05").raw, self.totals("2026-06").raw), before)

    def test_totals_arguments(self):
        for bad in ("2026-13", "2026-5", "May", ""):
            r = self.w("sup1", "text")("CLAIM", "TOTALS", month=bad)
            self.assertReply(r, 400)
        self.assertReply(self.w("sup1", "text")("CLAIM", "TOTALS"), 400)


# ----------------------------------------------------------------- restart --

class Restart(ClaimCase):
    """SIGTERM and start again on the same data dir in the middle of a
    claim's life: nothing changes, and the life goes on."""

    def views(self, cid, number):
        return (self.w("admin", "text")("CLAIM", "GET", cid).records,
                self.w("admin", "msgpack")("CLAIM", "GET", cid).raw,
                self.w("op1", "text")("CLAIM", "LIST", waybill=number).records,
                self.w("adj1", "msgpack")("RECOVERY", "LIST", claim=cid).raw)

    def restart(self):
        self.daemon.stop()
        self.daemon.restart()

    def test_restart_in_the_middle_changes_nothing(self):
        n = self.waybill("lost", fee_fen=20000, declared_value_fen=600000, insured=True)
        op = self.w("op1")
        cid = int(self.file(op, n, "loss", 600000).data["id"])
        self.docs(op, cid, ["claim_form", "waybill"])
        v = self.views(cid, n)
        self.restart()
        self.assertEqual(self.views(cid, n), v)
        self.docs(self.w("op1"), cid, ["claimant_id", "proof_of_value"])
        self.assess(self.w("adj1"), cid, actual_loss_fen=600000, responsible_depot="GZ03",
                    sub_carrier="Lingnan Freight", sub_carrier_has_contract=True)
        self.approve_refused(self.w("adj1"), cid, 590000, "supervisor")   # with the 200-yuan fee refunded
        v = self.views(cid, n)
        self.restart()
        self.assertEqual(self.views(cid, n), v)
        self.assertEqual(self.get(cid)["status"], "escalated")
        self.approve_ok(self.w("sup1"), cid, 590000)
        tok = "restart-pay-%d" % cid
        first = self.pay(self.w("adj1", "msgpack"), cid, 590000, req=tok)
        items = self.recovery(cid)
        # the insurer does not pay back the fee refund: GZ03 recovers it from its sub-carrier
        self.assertItems(items, [("depot_reimbursement", "GZ03", "SZ01", 590000, "open"),
                                 ("insurer", "insurer", "GZ03", 570000, "open"),
                                 ("sub_carrier", "Lingnan Freight", "GZ03", 20000, "open")])
        self.assertReply(self.w("adj1")("RECOVERY", "RECEIVE", int(items[0]["id"]), amount_fen=1000,
                                        reference="part"), 200)
        v = self.views(cid, n)
        self.restart()
        self.assertEqual(self.views(cid, n), v)
        # the req= token still answers as before, and writes nothing
        again = self.pay(self.w("adj1", "msgpack"), cid, 590000, req=tok)
        self.assertEqual(again.raw, first.raw)
        self.assertEqual(self.views(cid, n), v)
        self.pay(self.w("adj1"), cid, 570000, expect=409)
        self.assertReply(self.w("adj1")("CLAIM", "CLOSE", cid), 200)
        self.assertEqual(self.get(cid)["status"], "closed")

    def test_deadline_timer_survives_a_restart(self):
        n = self.waybill("lost")
        cid = int(self.file(self.w("op1"), n, "loss", 1000).data["id"])
        due = parse_iso(self.get(cid)["acknowledge_by"])
        self.restart()
        self.set_now(due + 60)
        g = self.poll(lambda: (lambda c: c if c.get("acknowledge_breached") == "yes" else None)(self.get(cid)))
        self.assertIsNotNone(g, "the acknowledge deadline was not swept by itself after a restart")
        self.assertEqual(g["level"], "supervisor")


# ------------------------------------------------------------------ client --

def have_client():
    return os.access(settings.client, os.X_OK)


@unittest.skipUnless(have_client(), "no client at %s" % settings.client)
class ClientYuan(ClaimCase):
    """parceldesk claim file ... claimed_yuan=12.50 is sent as 1250 fen; a
    third decimal is refused by the client (exit 2) and nothing is sent."""

    def run_client(self, *args):
        argv = [settings.client, "-p", str(self.daemon.port), "-u", "admin", "-P", ADMIN_PASSWORD, "--json"]
        env = dict(os.environ)
        env.pop("PARCELDESK_USER", None)
        env.pop("PARCELDESK_PASSWORD", None)
        p = subprocess.run(argv + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=20, env=env)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def file_args(self, number, amount):
        return ["claim", "file", "waybill=%s" % number, "type=loss", "claimed_yuan=%s" % amount,
                "claimant=sender", "claimant_name=Zhang Wei", "claimant_phone=13800138000"]

    def counters(self):
        s = self.stats(self.admin_text())
        return int(s["connections_total"]), int(s.get("cmd.CLAIM_FILE", 0))

    def test_yuan_converted_to_fen(self):
        for amount, fen in (("12.50", 1250), ("0.01", 1), ("7", 700), ("3.5", 350)):
            n = self.waybill("lost")
            rc, out, err = self.run_client(*self.file_args(n, amount))
            self.assertEqual(rc, 0, (amount, out, err))
            rows = self.w("op1")("CLAIM", "LIST", waybill=n).items
            self.assertEqual([x["claimed_fen"] for x in rows], [str(fen)], amount)

    def test_bad_yuan_refused_nothing_sent(self):
        n = self.waybill("lost")
        for amount in ("12.345", "-5", "12.", "abc", "1,5"):
            before = self.counters()
            rc, out, err = self.run_client(*self.file_args(n, amount))
            self.assertEqual(rc, 2, (amount, out, err))
            self.assertIn("nothing sent", err)
            self.assertEqual(self.counters(), before, "%s: the client connected or sent" % amount)
        self.assertEqual(self.w("op1")("CLAIM", "LIST", waybill=n).records, [])


if __name__ == "__main__":
    unittest.main()


class ClaimClocks(ClaimCase):
    """Issue 7 for claims: the acknowledge clock counts business minutes on
    the accepting depot's calendar (claim_ack_business_minutes, 480); the
    decide clock (30 calendar days from a complete file) runs through a
    wait: RESUME adds up the paused span but never moves decide-by past the
    30 days (round 18; before, it moved by the span)."""

    def test_acknowledge_in_business_time_and_decide_pauses(self):
        a = self.admin_text()
        self.assertReply(a.cmd(line("CALENDAR", "SET", "default", zone="Asia/Shanghai",
                                    **{d: "09:00-18:00" for d in
                                       ("monday", "tuesday", "wednesday", "thursday", "friday")})), 201)
        # the other test of this class needs no calendar, whatever happens here
        self.addCleanup(lambda: self.admin_text().cmd("CALENDAR DEL default"))
        # 2027-03-05 is a Friday: 17:50 + 480 business minutes = Monday 16:50
        friday = int(datetime.datetime(2027, 3, 5, 17, 50, tzinfo=CST).timestamp())
        self.set_now(friday)
        w = self.w()
        number = self.waybill("lost")
        cid = self.file_complete(w, number, "loss", 50000)
        g = self.get(cid)
        # the seconds that passed since 17:50:00 (a slow build) are kept
        late = parse_iso(g["filed_at"]) - friday
        self.assertLess(late, 60)
        self.assertEqual(parse_iso(g["acknowledge_by"]),
                         int(datetime.datetime(2027, 3, 8, 16, 50, tzinfo=CST).timestamp()) + late)
        self.assertEqual(g["clock_basis"], "business")
        self.assertEqual(g["clocks"]["acknowledge"]["basis"], "business")
        # Saturday: nothing is late
        self.set_now(friday + DAY)
        self.assertEqual(self.get(cid)["clocks"]["acknowledge"]["state"], "running")
        decide_by = parse_iso(self.get(cid)["decide_by"])
        self.assertReply(w("CLAIM", "WAIT", cid, **{"for": "customer", "reason": "invoice copy"}), 200)
        # the 30 days from the complete file run through a wait (round 18)
        self.assertEqual(self.get(cid)["clocks"]["decide"]["state"], "running")
        self.assertReply(w("CLAIM", "WAIT", cid, **{"for": "customer", "reason": "again"}), 409)
        self.set_now(friday + 3 * DAY)
        r = self.assertReply(w("CLAIM", "RESUME", cid), 200)
        # two days paused, give or take the seconds the requests took
        m = re.match(r"resumed after (\d+) second\(s\) paused$", r.msg)
        self.assertTrue(m, r.msg)
        span = int(m.group(1))
        self.assertLessEqual(abs(span - 2 * DAY), 5)
        g = self.get(cid)
        self.assertEqual(parse_iso(g["decide_by"]), decide_by)
        self.assertEqual(int(g["paused_secs"]), span)
        self.assertReply(w("CLAIM", "RESUME", cid), 409)
        # the update clock: from the acknowledgement, 960 business minutes
        self.assertReply(w("CLAIM", "ACK", cid), 200)
        g = self.get(cid)
        ack_at = parse_iso(g["acknowledged_at"])  # Monday 2027-03-08 17:50 (and a few seconds)
        monday = int(datetime.datetime(2027, 3, 8, 17, 50, tzinfo=CST).timestamp())
        self.assertLess(ack_at - monday, 60)
        # Monday 17:50 + 960 business minutes (10 + 540 + 410) = Wednesday 15:50
        wed = int(datetime.datetime(2027, 3, 10, 15, 50, tzinfo=CST).timestamp()) + (ack_at - monday)
        self.assertEqual(parse_iso(g["update_by"]), wed)
        self.assertEqual(g["clocks"]["update"]["state"], "running")
        # (acknowledged past Monday 16:50: the acknowledge breach escalated it)
        standing = (g["status"], g["level"])
        self.set_now(wed + 60)
        g = self.poll(lambda: (lambda x: x if x.get("update_breached") in (True, "yes") else None)(self.get(cid)))
        self.assertTrue(g, "the update clock breached by itself")
        self.assertEqual((g["status"], g["level"]), standing)  # shown, not escalated
        r = self.assertReply(w("CLAIM", "NOTE", cid, text="called: still checking", contacted="yes"), 200)
        self.assertEqual(r.msg, "update to the claimant recorded")
        g = self.get(cid)
        self.assertIn(g["update_breached"], (False, "no"))

    def test_no_calendar_acknowledges_in_calendar_time(self):
        w = self.w()
        number = self.waybill("lost")
        cid = self.file_complete(w, number, "loss", 50000)
        g = self.get(cid)
        self.assertEqual(g["clock_basis"], "calendar")
        self.assertEqual(parse_iso(g["acknowledge_by"]), parse_iso(g["filed_at"]) + DAY)


# ------------------------------------------- the corrected rules (issue 11) --

class CorrectedRules(ClaimCase):
    """The claim rules corrected against the law and the company's material
    (docs/compensation.md, docs/rules.md section 5): the uninsured cap is a
    contract term a supervisor may set aside, a loss refunds the fee, force
    majeure does not exempt an insured parcel, a clean signature is a
    finding, refusing what we owe takes a supervisor, the claimant is
    checked against the waybill, and a major incident is counted when the
    claim is assessed."""

    framing = "text"

    def customer(self, account, **kw):
        r = self.w("sup1")("CUSTOMER", "ADD", account, name="Account " + account, payment="monthly",
                           depot="SZ01", **kw)
        self.assertReply(r, 201)

    def steps_by_label(self, res):
        return {s["label"]: s for s in L(res["steps"])}

    def notes(self, res):
        return [s["note"] for s in L(res["steps"])] + [s["note"] for s in L(res["insurer"]["steps"])]

    def assertNoInternalReference(self, res):
        for note in self.notes(res):
            self.assertNotIn("domain-rules", note)
            self.assertNotRegex(note, r"\bQ\d")

    # -- item 1: the uninsured cap is a contract term --

    def test_cap_of_our_carriage_terms_is_named_as_a_contract_term(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=50000, cause="theft").data["result"]
        cap = self.steps_by_label(res)["limit: contract cap (fee x multiple)"]
        self.assertEqual((cap["amount_fen"], cap["note"]), ("6000", "contract cap (our carriage terms): 3 x the fee"))
        self.assertNoInternalReference(res)
        self.assertNotIn("law", " ".join(self.notes(res)))

    def test_the_customers_contract_sets_its_own_cap(self):
        self.customer("CAP5", uninsured_fee_multiple="5")
        self.assertEqual(self.w("op1")("CUSTOMER", "GET", "CAP5").data["uninsured_fee_multiple"], "5")
        n = self.waybill("lost", fee_fen=2000, customer="CAP5")
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=50000).data["result"]
        cap = self.steps_by_label(res)["limit: contract cap (fee x multiple)"]
        self.assertEqual((cap["amount_fen"], cap["note"]),
                         ("10000", "contract cap (the customer's contract): 5 x the fee"))
        self.assertResult(res, "liable", 12000, 12000, "adjuster")
        # back to our carriage terms: the next assessment follows them
        self.assertReply(self.w("sup1")("CUSTOMER", "EDIT", "CAP5", uninsured_fee_multiple="terms"), 200)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=50000).data["result"]
        self.assertEqual(self.steps_by_label(res)["limit: contract cap (fee x multiple)"]["note"],
                         "contract cap (our carriage terms): 3 x the fee")

    def test_contract_multiple_bad_input_writes_nothing(self):
        sup = self.w("sup1")
        for bad in ("-1", "1001", "3.5", "five", "", "0x10"):
            r = sup("CUSTOMER", "ADD", "BADCAP", name="Bad Cap", payment="monthly", depot="SZ01",
                    uninsured_fee_multiple=bad)
            self.assertReply(r, 400)
            self.assertIn("uninsured_fee_multiple", r.msg)
        self.assertReply(self.w("op1")("CUSTOMER", "GET", "BADCAP"), 404)
        self.customer("CAP0", uninsured_fee_multiple="0")
        before = self.w("op1")("CUSTOMER", "GET", "CAP0").flat
        self.assertReply(sup("CUSTOMER", "EDIT", "CAP0", uninsured_fee_multiple="1001"), 400)
        after = self.w("op1")("CUSTOMER", "GET", "CAP0").flat
        self.assertEqual(after["uninsured_fee_multiple"], before["uninsured_fee_multiple"])

    def test_cap_set_aside_only_by_a_supervisor_with_a_reason(self):
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        before = self.snapshot(cid)
        r = self.assess(self.w("adj1"), cid, expect=403, actual_loss_fen=50000, cap_set_aside=True,
                        cap_set_aside_reason="invoice of 500 yuan")
        self.assertEqual(r.msg, "setting the contract cap aside is a supervisor's decision")
        self.assertEqual(self.snapshot(cid), before)
        r = self.assess(self.w("sup1"), cid, expect=400, actual_loss_fen=50000, cap_set_aside=True)
        self.assertIn("cap_set_aside_reason", r.msg)
        self.assertEqual(self.snapshot(cid), before)
        r = self.assess(self.w("sup1"), cid, actual_loss_fen=50000, cap_set_aside=True,
                        cap_set_aside_reason="the invoice proves 500 yuan")
        res = r.data["result"]
        # the proven loss, and the fee refunded on top
        self.assertResult(res, "liable", 52000, 52000, "adjuster")
        labels = [s["label"] for s in L(res["steps"])]
        self.assertIn("contract cap set aside: the customer proved a higher loss", labels)
        self.assertNotIn("after contract cap", labels)
        self.assertEqual((r.data["cap_set_aside"]["by"], r.data["cap_set_aside"]["reason"]),
                         ("sup1", "the invoice proves 500 yuan"))
        g = self.get(cid)
        self.assertEqual(g["current_assessment"]["cap_set_aside"]["by"], "sup1")
        self.assertEqual(g["payable_fen"], "52000")

    def test_cap_set_aside_on_an_insured_parcel_is_refused(self):
        n = self.waybill("lost", fee_fen=2000, declared_value_fen=100000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        before = self.snapshot(cid)
        r = self.assess(self.w("sup1"), cid, expect=422, actual_loss_fen=50000, real_value_fen=50000,
                        cap_set_aside=True, cap_set_aside_reason="x")
        self.assertEqual(r.msg, "only an uninsured goods claim has a contract cap to set aside")
        self.assertEqual(self.snapshot(cid), before)

    # -- round 18: the contract's lateness discount --

    def delay_claim(self, fee, customer=None):
        now = self.now()
        kw = {"customer": customer} if customer else {}
        n = self.waybill("in_transit", fee_fen=fee, created=now - 5 * DAY, promised=now - DAY, **kw)
        return self.file_complete(self.w("op1"), n, "delay", fee)

    def test_delay_takes_the_customers_contract_discount(self):
        self.customer("LATE15", lateness_discount_bp=1500)
        cid = self.delay_claim(2000, "LATE15")
        res = self.assess(self.w("adj1"), cid, cause="unknown", fault="none").data["result"]
        # 15 % of the 20-yuan fee, not the whole fee
        self.assertResult(res, "liable", 300, 300, "adjuster")
        step = self.steps_by_label(res)["contract lateness discount"]
        self.assertEqual((step["numerator"], step["denominator"], step["note"]),
                         ("1500", "10000", "the customer's contract sets it instead of the waiver"))
        self.assertNotIn("fee waived", self.steps_by_label(res))
        # the contract's own figure given again is no override
        r = self.assess(self.w("adj1"), cid, cause="unknown", fault="none", lateness_discount_bp=1500)
        self.assertResult(r.data["result"], "liable", 300, 300, "adjuster")
        self.assertNotIn("lateness_discount_override", r.data)
        # a contract without a discount (0) waives the whole fee
        self.assertReply(self.w("sup1")("CUSTOMER", "EDIT", "LATE15", lateness_discount_bp=0), 200)
        res = self.assess(self.w("adj1"), cid, cause="unknown", fault="none").data["result"]
        self.assertResult(res, "liable", 2000, 2000, "adjuster")
        self.assertEqual(self.steps_by_label(res)["fee waived"]["note"], "the whole service fee")

    def test_overriding_the_contract_discount_is_a_supervisors_decision(self):
        self.customer("LATE15B", lateness_discount_bp=1500)
        cid = self.delay_claim(2000, "LATE15B")
        before = self.snapshot(cid)
        r = self.assess(self.w("adj1"), cid, expect=403, cause="unknown", fault="none", lateness_discount_bp=0,
                        lateness_discount_reason="contract amended")
        self.assertEqual(r.msg, "a lateness discount other than the contract's (1500 bp) is a supervisor's decision")
        self.assertEqual(self.snapshot(cid), before)
        r = self.assess(self.w("sup1"), cid, expect=400, cause="unknown", fault="none", lateness_discount_bp=0)
        self.assertIn("lateness_discount_reason", r.msg)
        self.assertEqual(self.snapshot(cid), before)
        r = self.assess(self.w("sup1"), cid, cause="unknown", fault="none", lateness_discount_bp=0,
                        lateness_discount_reason="amendment of 1 May drops the discount")
        res = r.data["result"]
        self.assertResult(res, "liable", 2000, 2000, "adjuster")
        self.assertEqual(self.steps_by_label(res)["fee waived"]["note"],
                         "the whole service fee: the contract's lateness discount is set aside for this claim")
        o = r.data["lateness_discount_override"]
        self.assertEqual((o["by"], o["reason"], o["contract_bp"], o["bp"]),
                         ("sup1", "amendment of 1 May drops the discount", "1500", "0"))
        self.assertEqual(self.get(cid)["current_assessment"]["lateness_discount_override"]["by"], "sup1")
        # a sender without a contract discount: a discount for the claim is an override too
        cid = self.delay_claim(2000)
        before = self.snapshot(cid)
        r = self.assess(self.w("adj1"), cid, expect=403, cause="unknown", fault="none", lateness_discount_bp=3000)
        self.assertEqual(r.msg, "a lateness discount other than the contract's (0 bp) is a supervisor's decision")
        self.assertEqual(self.snapshot(cid), before)
        r = self.assess(self.w("sup1"), cid, cause="unknown", fault="none", lateness_discount_bp=2500,
                        lateness_discount_reason="paper contract not yet entered")
        res = r.data["result"]
        self.assertResult(res, "liable", 500, 500, "adjuster")
        self.assertEqual(self.steps_by_label(res)["lateness discount set for this claim"]["note"],
                         "set for this claim instead of the waiver, in place of the contract's")
        self.assertNoInternalReference(res)

    # -- item 2: a loss refunds the fee; a partial damage does not --

    def test_partial_damage_pays_the_loss_without_the_fee(self):
        n = self.waybill("damaged", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "damage_partial", 3000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=3000).data["result"]
        self.assertResult(res, "liable", 3000, 3000, "adjuster")
        self.assertNotIn("service fee refunded", [s["label"] for s in L(res["steps"])])

    def test_different_item_refunds_the_fee(self):
        n = self.waybill("delivered", fee_fen=2000, remarks="not what was ordered")
        cid = self.file_complete(self.w("op1"), n, "mismatch_different_item", 3000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=3000).data["result"]
        self.assertResult(res, "liable", 5000, 5000, "adjuster")
        self.assertEqual(self.steps_by_label(res)["service fee refunded"]["amount_fen"], "2000")

    # -- item 3: force majeure --

    def test_force_majeure_does_not_exempt_an_insured_parcel(self):
        n = self.waybill("lost", fee_fen=3000, declared_value_fen=500000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 500000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=500000, real_value_fen=500000,
                          cause="force_majeure", fault="none").data["result"]
        self.assertResult(res, "liable", 473000, 473000, "supervisor")
        self.assertEqual(L(res["steps"])[0]["label"], "force majeure does not exempt an insured parcel")
        # the insurer keeps its own clauses: clause A covers it
        self.assertInsurer(res["insurer"], "a", True, 470000)
        # the same flood on an uninsured parcel exempts
        n = self.waybill("lost", fee_fen=3000)
        cid = self.file_complete(self.w("op1"), n, "loss", 50000)
        res = self.assess(self.w("adj1"), cid, actual_loss_fen=50000, cause="force_majeure",
                          fault="none").data["result"]
        self.assertResult(res, "exempt", 0, 0, "adjuster", reasons=["force_majeure"])

    # -- item 6: the claimant is checked against the waybill --

    def test_claimant_not_on_the_waybill_is_refused_and_nothing_written(self):
        n = self.waybill("lost")
        cases = [
            # not the sender's phone, and no ID check
            (dict(claimant="sender", claimant_name="Somebody Else", claimant_phone="13712345678"),
             422, "the claimant must be the sender on the waybill"),
            # an ID check needs the name on the waybill
            (dict(claimant="sender", claimant_name="Somebody Else", claimant_phone="13712345678",
                  id_type="resident_id", id_last4="1234"), 422, "the claimant must be the sender on the waybill"),
            # the receiver is checked against the receiver's phone, not the sender's
            (dict(claimant="receiver", claimant_name="Li Na", claimant_phone="13800138000"),
             422, "the claimant must be the receiver on the waybill"),
            # a malformed ID check: the whole ID number is never taken
            (dict(claimant="sender", claimant_name="Zhang Wei", claimant_phone="13712345678",
                  id_type="resident_id", id_last4="110101199001011234"), 400, "argument 'id_last4'"),
            (dict(claimant="other", claimant_name="A Lawyer", claimant_phone="13712345678"),
             422, "a claimant who is neither the sender nor the receiver needs the sender's written authorisation"),
        ]
        for named, code, start in cases:
            r = self.w("op1")("CLAIM", "FILE", waybill=n, type="loss", claimed_fen=5000, **named)
            self.assertReply(r, code)
            self.assertTrue(r.msg.startswith(start), r.msg)
        self.assertEqual(self.w("admin", "text")("CLAIM", "LIST", waybill=n).records, [])

    def test_claimant_by_phone_by_id_check_or_with_authorisation(self):
        op = self.w("op1")
        n = self.waybill("lost")
        r = op("CLAIM", "FILE", waybill=n, type="loss", claimed_fen=5000, claimant="receiver",
               claimant_name="Li Na", claimant_phone="13900139000")
        self.assertReply(r, 201)
        g = self.get(int(r.data["id"]))
        self.assertEqual((g["claimant"], g["claimant_verified_by"]), ("receiver", "phone"))
        n = self.waybill("lost")
        r = op("CLAIM", "FILE", waybill=n, type="loss", claimed_fen=5000, claimant="sender",
               claimant_name="Zhang Wei", claimant_phone="13712345678", id_type="passport", id_last4="E123")
        self.assertReply(r, 201)
        g = self.get(int(r.data["id"]))
        self.assertEqual((g["claimant_verified_by"], g["claimant_id_type"], g["claimant_id_last4"]),
                         ("id_check", "passport", "E123"))
        n = self.waybill("lost")
        r = op("CLAIM", "FILE", waybill=n, type="loss", claimed_fen=5000, claimant="other",
               claimant_name="A Lawyer", claimant_phone="13712345678", authorisation="AUTH-2026-17")
        self.assertReply(r, 201)
        g = self.get(int(r.data["id"]))
        self.assertEqual(g["claimant_verified_by"], "sender_authorisation")
        self.assertEqual([(d["kind"], d["ref"], d["needed"]) for d in L(g["documents"])],
                         [("sender_authorisation", "AUTH-2026-17", "yes")])

    # -- item 7: a major incident is counted when the claim is assessed --

    def test_major_incident_warning_at_assessment_once(self):
        self.customer("MAJ7")
        n = self.waybill("lost", fee_fen=2000, declared_value_fen=300000, insured=True, customer="MAJ7")
        cid = self.file_complete(self.w("op1"), n, "loss", 300000)
        warnings = lambda: self.w("op1")("WARNING", "LIST", customer="MAJ7").items  # noqa: E731
        self.assertEqual(warnings(), [])
        # 2,700 + the 20-yuan fee: at or above the 1,000-yuan threshold
        self.assess(self.w("adj1"), cid, actual_loss_fen=300000, real_value_fen=300000)
        rows = warnings()
        self.assertEqual([(x["type"], x["subtype"]) for x in rows], [("service_incident", "ordinary")])
        wid = rows[0]["id"]
        self.assertEqual(self.w("op1")("WARNING", "GET", wid).data["source"], "claim:%d" % cid)
        self.assertEqual(self.get(cid)["status"], "assessed")   # not approved yet
        # a re-assessment raises nothing new; approval neither
        self.assess(self.w("adj1"), cid, actual_loss_fen=290000, real_value_fen=300000)
        self.approve_ok(self.w("sup1"), cid, 262000)
        self.assertEqual(len(warnings()), 1)

    def test_below_the_threshold_no_warning(self):
        self.customer("MIN7")
        n = self.waybill("lost", fee_fen=2000, customer="MIN7")
        cid = self.file_complete(self.w("op1"), n, "loss", 5000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=5000)
        self.assertEqual(self.w("op1")("WARNING", "LIST", customer="MIN7").items, [])
        self.assertNotIn("major_at", self.get(cid))


class MajorIncidentThreshold(ClaimCase):
    """One threshold (report_major_claim_fen) serves the monthly report and
    the warning; here set to 50 yuan."""
    daemon_args = ("--report-major-claim-fen", "5000")
    framing = "msgpack"

    def assessed_claim(self, account, loss):
        """An account customer's loss claim on a 20-yuan waybill, assessed at
        the loss plus the fee refunded; the claim and its customer's report."""
        self.w("sup1")("CUSTOMER", "ADD", account, name="Threshold " + account, payment="monthly",
                       depot="SZ01")
        n = self.waybill("lost", fee_fen=2000, customer=account)
        cid = self.file_complete(self.w("op1"), n, "loss", loss)
        self.assess(self.w("adj1"), cid, actual_loss_fen=loss)
        month = self.get(cid)["filed_at"][:7]
        rep = self.w("op1")("REPORT", "MONTH", month=month, customer=account).raw["data"]
        warnings = self.w("op1")("WARNING", "LIST", customer=account).items
        return cid, rep["incidents"]["with_loss"], warnings

    def test_one_threshold_for_report_and_warning(self):
        # 30 yuan + the 20-yuan fee = 50 yuan: at the threshold
        cid, incidents, warnings = self.assessed_claim("THR1", 3000)
        self.assertTrue(self.get(cid)["major_at"])
        self.assertEqual(len(warnings), 1)
        self.assertEqual([(x["kind"], x["id"], x["amount_fen"]) for x in incidents], [("claim", cid, 5000)])
        # one fen under it: neither
        cid, incidents, warnings = self.assessed_claim("THR2", 2999)
        self.assertNotIn("major_at", self.get(cid))
        self.assertEqual((incidents, warnings), ([], []))


class StoredBeforeIssue11(ClaimCase):
    """Claims stored by the version before issue 11 read as they were: the
    records are rewritten here, with the daemon stopped, into the old shape
    (a clean signature refused by the engine, notes with the references they
    then carried, no claimant_verified_by, no major_at), and the daemon
    started again on them."""

    framing = "text"

    def rewrite(self, cid, change):
        """Stops the daemon, applies change(record, env, txn) to claim cid in
        the store, starts the daemon again."""
        import lmdb
        import msgpack
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=True) as txn:
            claims = env.open_db(b"claims", txn=txn)
            key = cid.to_bytes(8, "big")
            rec = msgpack.unpackb(txn.get(key, db=claims), raw=False)
            change(rec, env, txn)
            txn.put(key, msgpack.packb(rec, use_bin_type=True), db=claims)
        env.close()
        self.daemon.restart()

    def test_a_claim_complete_before_the_decide_limit_pauses_as_it_did(self):
        """Round 18: a claim whose file was complete before decide_limit_by
        was kept reads as it was stored, and its decide clock still pauses
        and moves by the wait (no migration alters it)."""
        n = self.waybill("lost", fee_fen=2000)
        cid = self.file_complete(self.w("op1"), n, "loss", 1000)

        def old_shape(rec, env, txn):
            rec.pop("decide_limit_by")
        self.rewrite(cid, old_shape)
        g = self.get(cid)
        self.assertNotIn("decide_limit_by", g)
        self.assertNotIn("limit_by", g["clocks"]["decide"])
        decide_by = parse_iso(g["decide_by"])
        self.assertEqual(decide_by, parse_iso(g["complete_at"]) + 30 * DAY)
        op = self.w("op1")
        r = self.assertReply(op("CLAIM", "WAIT", cid, **{"for": "customer", "reason": "invoice"}), 200)
        self.assertEqual(r.msg, "waiting for the customer: the decide clock is paused")
        self.assertEqual(self.get(cid)["clocks"]["decide"]["state"], "paused")
        self.set_now(self.now() + 2 * DAY)
        self.assertReply(op("CLAIM", "RESUME", cid), 200)
        g = self.get(cid)
        self.assertEqual(parse_iso(g["decide_by"]), decide_by + int(g["paused_secs"]))
        self.assertGreaterEqual(int(g["paused_secs"]), 2 * DAY)
        self.assertNotIn("decide_limit_by", g)

    def test_a_claim_the_old_engine_refused_reads_and_closes_as_it_was(self):
        n = self.waybill("delivered", fee_fen=2000, signer_is_consignee=True)
        cid = self.file_complete(self.w("op1"), n, "damage_partial", 30000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=30000)
        old_steps = [
            {"kind": "finding", "label": "refused: the consignee signed without remarks",
             "note": "domain-rules 5 (Q41, Q50, Q57)"},
            {"kind": "amount", "label": "limit: fee x uninsured multiple", "amount_fen": 6000,
             "note": "uninsured: at most 3 x the fee by default (domain-rules 5)"},
            {"kind": "amount", "label": "owed to the customer", "amount_fen": 0,
             "note": "claim refused: nothing is owed"},
            {"kind": "amount", "label": "payable to the customer", "amount_fen": 0, "note": "owed plus ex gratia"},
            {"kind": "finding", "label": "approval needed: adjuster", "note": "authority limits in the config"},
        ]

        def old_shape(rec, env, txn):
            rec.update(decision="refused", payable_fen=0, level="adjuster")
            rec.pop("claimant_verified_by")
            result = rec["assessments"][-1]["result"]
            result.update(decision="refused", owed_fen=0, payable_fen=0, authority="adjuster", steps=old_steps,
                          reasons=[{"code": "signed_without_remarks",
                                    "text": "refused: the consignee signed without remarks"}])
        self.rewrite(cid, old_shape)

        g = self.get(cid)
        self.assertEqual((g["decision"], g["payable_fen"], g["level"]), ("refused", "0", "adjuster"))
        self.assertNotIn("claimant_verified_by", g)
        res = g["current_assessment"]["result"]
        self.assertResult(res, "refused", 0, 0, "adjuster", reasons=["signed_without_remarks"])
        self.assertEqual([(s["label"], s["note"]) for s in L(res["steps"])],
                         [(s["label"], s["note"]) for s in old_steps])
        # decided as the old engine left it: nothing to approve, the adjuster refuses
        r = self.w("adj1")("CLAIM", "APPROVE", cid)
        self.assertReply(r, 409)
        self.assertIn("nothing payable (refused)", r.msg)
        self.assertReply(self.w("adj1")("CLAIM", "REFUSE", cid, reason="signed without remarks"), 200, "refused")

    def test_a_claim_assessed_before_counts_as_major_when_paid(self):
        n = self.waybill("lost", fee_fen=2000, declared_value_fen=300000, insured=True)
        cid = self.file_complete(self.w("op1"), n, "loss", 300000)
        self.assess(self.w("adj1"), cid, actual_loss_fen=300000, real_value_fen=300000)
        g = self.get(cid)
        month = g["major_at"][:7]
        payable = int(g["payable_fen"])

        def not_yet_counted(rec, env, txn):
            # the old version counted a major claim when it was paid
            rec.pop("major_at")
            incidents = env.open_db(b"incidents", txn=txn, dupsort=True)
            txn.delete(month.replace("-", "").encode(), ("claim:%d" % cid).encode(), db=incidents)
        self.rewrite(cid, not_yet_counted)

        def report():
            rep = self.w("op1", "msgpack")("REPORT", "MONTH", month=month).raw["data"]
            return [x for x in rep["incidents"]["with_loss"] if x["kind"] == "claim" and x["id"] == cid]
        self.assertNotIn("major_at", self.get(cid))
        self.assertEqual(report(), [])
        self.approve_ok(self.w("sup1"), cid, payable)
        self.pay(self.w("adj1"), cid, payable)
        g = self.get(cid)
        self.assertTrue(g["major_at"])
        rows = report()
        self.assertEqual([(x["amount_fen"], x["at"]) for x in rows], [(payable, g["major_at"])])
