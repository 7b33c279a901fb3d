"""Customers, warning customers, the month-end run, monthly reports and KPIs
(docs/customers.md) through the wire.

A year of data (January 2025 to January 2026) is generated here with a
seeded random stream: customer accounts, waybills with created_at= in the
past and their scans with at=, complaints, a claim, external queries. The
same generator keeps its own model of what every counter must hold, so the
tiers, warnings, report figures and KPIs the daemon answers after
MONTHEND RUN are checked against numbers computed independently here."""
import collections
import datetime
import random
import threading
import time
import unittest

from harness import CST, DaemonTestCase, iso, parse_iso

MONTH = 202601            # the month-end run, the report and the KPIs
NOW_DATA = datetime.datetime(2026, 1, 20, 12, 0, tzinfo=CST)   # the clock while data comes in
NOW_RUN = datetime.datetime(2026, 2, 10, 10, 0, tzinfo=CST)    # the clock of the month-end
HOUR = 3600
CATEGORIES = ["delay", "loss", "damage", "content_mismatch", "not_delivered_to_door", "refused_inspection",
              "wrong_signature", "no_consent_drop", "attitude", "charges", "other"]

# Defaults of the rules (daemon options; docs/customers.md).
TIER_KEY, TIER_MAJOR, TIER_MEDIUM = 20_000_000, 5_000_000, 1_000_000
HIGH_END_WAYBILLS, HIGH_END_DECLARED = 20, 5_000_000
WARNING_MONTHS, WARNING_DROP_BP = 6, 2000
LEVEL = {"key": "customised", "local_major": "exclusive", "medium_monthly": "value_added"}


# ------------------------------------------------------------ months ----

def ts(dt):
    return int(dt.timestamp())


def month_of(t):
    d = datetime.datetime.fromtimestamp(t, CST)
    return d.year * 100 + d.month


def madd(m, delta):
    i = m // 100 * 12 + m % 100 - 1 + delta
    return i // 12 * 100 + i % 12 + 1


def mtext(m):
    return "%04d-%02d" % (m // 100, m % 100)


def month_days(y, m):
    nxt = datetime.date(y + (m == 12), m % 12 + 1, 1)
    return (nxt - datetime.date(y, m, 1)).days


def months_between(start, through):
    """Whole months from date start to date through (as a person's age)."""
    n = (through.year - start.year) * 12 + through.month - start.month
    anniversary = min(start.day, month_days(through.year, through.month))
    if through.day < anniversary:
        n -= 1
    return max(n, 0)


def cooperation(start, m):
    nxt = madd(m, 1)
    return months_between(start, datetime.date(nxt // 100, nxt % 100, 1))


def share(part, whole):
    """part/whole as the daemon shows a rate: two decimals, half up."""
    if whole <= 0:
        return ""
    bp = (part * 10000 + whole // 2) // whole
    return "%d.%02d" % (bp // 100, bp % 100)


def change(now, base):
    if base <= 0:
        return ""
    diff = now - base
    bp = (abs(diff) * 10000 + base // 2) // base
    sign = "" if bp == 0 else ("-" if diff < 0 else "+")
    return "%s%d.%02d" % (sign, bp // 100, bp % 100)


def kpi_expect(num, den, target_bp, at_most=False):
    num = max(0, min(num, den))
    if den == 0:
        return {"value_pct": "", "numerator": 0, "denominator": 0, "met": True, "no_data": True}
    if at_most:
        bp = -((-num * 10000) // den)
        met = num * 10000 <= target_bp * den
    else:
        bp = num * 10000 // den
        met = num * 10000 >= target_bp * den
    return {"value_pct": "%d.%02d" % (bp // 100, bp % 100), "numerator": num, "denominator": den,
            "met": met, "no_data": False}


# ------------------------------------------------------------ the data ----

class Customer:
    def __init__(self, account, name, payment, depot, start, manager, phone):
        self.account, self.name, self.payment, self.depot = account, name, payment, depot
        self.start, self.manager, self.phone = start, manager, phone


CUSTOMERS = [
    Customer("KEY1", "Huadong Electronics", "monthly", "SH01", datetime.date(2024, 1, 1), "sup1", "13900000101"),
    Customer("MAJ1", "Pearl River Garments", "monthly", "GZ03", datetime.date(2024, 6, 1), "sup1", "13900000102"),
    Customer("MED1", "Jiangnan Tea", "monthly", "SH01", datetime.date(2024, 6, 1), "op2", "13900000103"),
    Customer("REG1", "Xu Hardware", "monthly", "SH01", datetime.date(2024, 6, 1), "op2", "13900000104"),
    Customer("DROP6", "Six Month Trading", "monthly", "SH01", datetime.date(2025, 8, 1), "sup1", "13900000105"),
    Customer("DROP5", "Five Month Trading", "monthly", "SH01", datetime.date(2025, 8, 2), "sup1", "13900000106"),
    Customer("DROPX", "Explained Foods", "monthly", "GZ03", datetime.date(2024, 1, 1), "op2", "13900000107"),
    Customer("NEAR", "Nearly Twenty Ltd", "monthly", "GZ03", datetime.date(2024, 1, 1), "op2", "13900000108"),
    Customer("NEW1", "Newcomer Tech", "monthly", "SH01", datetime.date(2025, 12, 1), "sup1", "13900000109"),
    Customer("CASHHI", "Wang Fang", "cash", "SH01", None, None, "13900000110"),
    Customer("CASHLO", "Zhao Lei", "cash", "GZ03", None, None, "13900000111"),
    Customer("OVR", "Group Subsidiary", "monthly", "SH01", datetime.date(2024, 1, 1), "sup1", "13900000112"),
]
BY_ACCOUNT = {c.account: c for c in CUSTOMERS}
MONTHS = [madd(202501, i) for i in range(13)]  # 2025-01 .. 2026-01

# Exact monthly revenue where the rules are tested at their edges; other
# months are random.
TARGETS = {
    "KEY1": {202501: 20_000_000, 202511: 20_000_000, 202512: 20_000_000, 202601: 20_000_000},
    "MAJ1": {202501: 6_000_000, 202511: 6_000_000, 202512: 6_000_000, 202601: 6_000_000},
    "MED1": {202501: 1_000_000, 202511: 1_000_000, 202512: 1_000_000, 202601: 1_000_000},
    "REG1": {202501: 999_999, 202511: 1_000_000, 202512: 1_000_000, 202601: 999_999},
    "DROP6": {202501: 1_000_000, 202601: 800_000},     # exactly 6 months, exactly 20 %
    "DROP5": {202501: 1_000_000, 202601: 800_000},     # 5 months: no warning
    "DROPX": {202501: 1_000_000, 202601: 500_000},     # explained month
    "NEAR": {202501: 1_000_000, 202601: 800_001},      # 19.99999 %
    "OVR": {202501: 300_000, 202601: 300_000},
}
NEW1_ONLY = {202512: 30_000_000, 202601: 10_000_000}   # two months: averaged over two
CASH_COUNTS = {"CASHHI": {202511: 7, 202512: 7, 202601: 6},   # 20 in 3 months
               "CASHLO": {202511: 7, 202512: 6, 202601: 6}}   # 19


class Waybill:
    def __init__(self, number, customer, origin, dest, created, fee, declared, fate):
        self.number, self.customer, self.origin, self.dest = number, customer, origin, dest
        self.created, self.fee, self.declared, self.fate = created, fee, declared, fate
        self.month = month_of(created)
        self.promised = created + 48 * HOUR
        self.delivered = False
        self.inaccurate = False
        self.complained = False


class Model:
    """Every counter the daemon keeps (volume.h), from the generated data."""

    def __init__(self):
        self.c = collections.Counter()

    def scopes(self, w, depot):
        s = [("N", "all"), ("D", depot)]
        if w is not None and w.customer:
            s.append(("C", w.customer))
        return s

    def add(self, scopes, month, metric, n=1):
        for code, ident in scopes:
            self.c[(code, ident, month, metric)] += n

    def get(self, code, ident, month, metric):
        return self.c[(code, ident, month, metric)]


def split(total, n):
    base = total // n
    return [base + (total - base * n if i == 0 else 0) for i in range(n)]


def generate(seed=20260120):
    rng = random.Random(seed)
    waybills = []
    numbers = iter(range(1, 10 ** 6))

    def new(customer, origin, month, fee, fate=None, declared=None):
        y, m = month // 100, month % 100
        last_day = 15 if month == MONTH else 28
        created = ts(datetime.datetime(y, m, rng.randint(1, last_day), rng.randint(9, 17), 0, tzinfo=CST))
        if fate is None:
            r = rng.random()
            fate = ("on_time" if r < 0.80 else "late" if r < 0.87 else "wrong_signer" if r < 0.91
                    else "damaged" if r < 0.95 else "lost")
        if declared is None:
            declared = rng.randint(10_000, 500_000) if rng.random() < 0.3 else 0
        dest = rng.choice([d for d in ("SH01", "BJ02", "GZ03") if d != origin])
        w = Waybill("88%08d" % next(numbers), customer, origin, dest, created, fee, declared, fate)
        waybills.append(w)
        return w

    for c in CUSTOMERS:
        if c.payment == "cash":
            for month in MONTHS:
                n = CASH_COUNTS[c.account].get(month, rng.randint(1, 2))
                for _ in range(n):
                    new(c.account, c.depot, month, 1500, declared=0)
            continue
        for month in MONTHS:
            if c.account == "NEW1":
                total = NEW1_ONLY.get(month)
                if total is None:
                    continue
            else:
                total = TARGETS.get(c.account, {}).get(month)
            if c.account == "MAJ1" and month == MONTH:
                n = 3                      # one for a complaint, two for external queries
            else:
                n = rng.randint(2, 4)
            if total is None:
                scale = {"KEY1": (4_000_000, 6_000_000), "MAJ1": (1_500_000, 2_500_000)}.get(
                    c.account, (50_000, 200_000))
                fees = [rng.randint(*scale) for _ in range(n)]
            else:
                fees = split(total, n)
            for fee in fees:
                new(c.account, c.depot, month, fee)
    # walk-in senders without an account: the network's, not a customer's
    for _ in range(30):
        new(None, rng.choice(["SH01", "GZ03"]), rng.choice(MONTHS), rng.randint(1000, 3000))

    def first(account, month, k=0):
        return [w for w in waybills if w.customer == account and w.month == month][k]

    # the waybills the incidents of January happen to
    first("KEY1", MONTH, 0).fate = "lost"       # the claim
    first("KEY1", MONTH, 1).fate = "late"       # the media complaint
    for k in range(3):
        first("MAJ1", MONTH, k).fate = "on_time"
    first("MED1", MONTH, 0).fate = "on_time"    # a wrong-signature complaint
    first("REG1", 202512, 0).fate = "on_time"   # a delay complaint about December
    return waybills, first


def scan_requests(w):
    """WAYBILL CREATE and its scans, in order, and the model's counters."""
    c = w.created
    fields = {
        "sender_name": "Sender %s" % w.number, "sender_phone": "13800138000", "sender_address": "1 Road",
        "sender_city": "Shanghai", "receiver_name": "Receiver", "receiver_phone": "13900139000",
        "receiver_address": "2 Street", "receiver_city": "Beijing", "origin_depot": w.origin,
        "dest_depot": w.dest, "goods": "goods", "pieces": 1, "weight_g": 1000, "packaging": "carrier",
        "fee_fen": w.fee, "payment": "monthly" if w.customer else "cash",
        "promised_at": iso(w.promised), "created_at": iso(c),
    }
    if w.customer:
        fields["customer"] = w.customer
        if BY_ACCOUNT[w.customer].payment == "cash":
            fields["payment"] = "cash"
    if w.declared:
        fields["declared_value_fen"] = w.declared
    reqs = [["WAYBILL", "CREATE", w.number, fields],
            ["SCAN", w.number, "picked_up", {"depot": w.origin, "at": iso(c + HOUR)}]]
    if w.fate == "lost":
        reqs.append(["SCAN", w.number, "lost", {"depot": w.origin, "at": iso(c + 10 * HOUR)}])
        return reqs
    if w.fate == "damaged":
        reqs.append(["SCAN", w.number, "damaged", {"depot": w.origin, "at": iso(c + 5 * HOUR)}])
    reqs.append(["SCAN", w.number, "arrived", {"depot": w.dest, "at": iso(c + 20 * HOUR)}])
    reqs.append(["SCAN", w.number, "out_for_delivery", {"depot": w.dest, "at": iso(c + 30 * HOUR)}])
    at = c + (60 if w.fate == "late" else 40) * HOUR
    reqs.append(["SCAN", w.number, "delivered", {"depot": w.dest, "at": iso(at), "signer": "Receiver",
                                                 "signer_is_consignee": w.fate != "wrong_signer"}])
    return reqs


def model_waybill(model, w):
    org, dst = model.scopes(w, w.origin), model.scopes(w, w.dest)
    model.add(org, w.month, "waybills")
    model.add(org, w.month, "revenue_fen", w.fee)
    model.add(org, w.month, "declared_fen", w.declared)
    if w.fate == "lost":
        model.add(org, w.month, "lost")
        return
    if w.fate == "damaged":
        model.add(org, w.month, "damaged")
    w.delivered = True
    model.add(dst, w.month, "delivered")
    if w.fate != "late":
        model.add(dst, w.month, "delivered_on_time")
    if w.fate == "wrong_signer":
        w.inaccurate = True
        model.add(dst, w.month, "inaccurate")


def pipelined(daemon, user, groups, conns=8, window=64):
    """Sends groups of msgpack requests over several connections (a group's
    requests in order on one connection) and returns every reply."""
    lanes = [[] for _ in range(conns)]
    for i, g in enumerate(groups):
        lanes[i % conns].extend(g)
    replies, errors = [], []
    lock = threading.Lock()

    def run(reqs):
        try:
            m = daemon.mp(user)
            got, sent, out = 0, 0, []
            while got < len(reqs):
                while sent < len(reqs) and sent - got < window:
                    m.send_obj(reqs[sent])
                    sent += 1
                out.append((reqs[got], m.recv()))
                got += 1
            m.close()
            with lock:
                replies.extend(out)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(lane,)) for lane in lanes if lane]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]
    return replies


def call(m, *words, expect=200, **named):
    r = m.call(*words, **named)
    if r["code"] != expect:
        raise AssertionError("%s: expected %s, got %r" % (" ".join(map(str, words)), expect, r))
    return r["data"]


def poll_done(m, month, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = call(m, "MONTHEND", "STATUS", month=month)
        if st["status"] == "done":
            return st
        time.sleep(0.05)
    raise AssertionError("month-end %s not done within %ss: %r" % (month, timeout, st))


# ------------------------------------------------------------ the tests ----

class CustomersYear(DaemonTestCase):
    """One generated year, one month-end run; each test checks a part."""

    @classmethod
    def class_setup(cls):
        d = cls.daemon
        admin, sup, op = d.mp("admin"), d.mp("sup1"), d.mp("op1")
        cls.admin, cls.sup, cls.op = admin, sup, op
        call(admin, "CLOCK", "SET", iso(ts(NOW_DATA)))
        model = cls.model = Model()

        for c in CUSTOMERS:
            named = {"name": c.name, "payment": c.payment, "depot": c.depot, "phone": c.phone,
                     "city": "Shanghai" if c.depot == "SH01" else "Guangzhou"}
            if c.start:
                named["contract_start"] = c.start.isoformat()
            if c.manager:
                named["manager"] = c.manager
            data = call(sup, "CUSTOMER", "ADD", c.account, expect=201, **named)
            assert data["tier"] in ("regular_monthly", "cash"), data  # nothing shipped yet
        cls.tier_before = {c.account: ("regular_monthly" if c.payment == "monthly" else "cash") for c in CUSTOMERS}

        waybills, first = generate()
        cls.waybills = waybills
        groups = [scan_requests(w) for w in waybills]
        for w in waybills:
            model_waybill(model, w)
        bad = [(req, r) for req, r in pipelined(d, "op1", groups) if r["code"] != 201]
        assert not bad, bad[:5]

        # -- January's incidents, complaints and queries (clock: 2026-01-20) --
        cls.complaints = {}

        def complaint(key, w, category, channel="phone", depot=None, close=True, ack=True):
            named = {"channel": channel, "category": category, "customer_name": "Caller",
                     "customer_phone": "13700000000", "text": "complaint %s" % key}
            if w is not None:
                named["waybill"] = w.number
            if depot:
                named["depot"] = depot
            cid = call(op, "COMPLAINT", "OPEN", expect=201, **named)["id"]
            cls.complaints[key] = cid
            scopes = model.scopes(w, depot or w.dest)
            model.add(scopes, MONTH, "complaints")
            model.add(scopes, MONTH, "complaints." + category)
            if w is not None and not w.complained:
                w.complained = True
                model.add(model.scopes(w, w.origin), w.month, "complained")
            if w is not None and category in ("wrong_signature", "not_delivered_to_door", "no_consent_drop") and w.delivered \
                    and not w.inaccurate:
                w.inaccurate = True
                model.add(model.scopes(w, w.dest), w.month, "inaccurate")
            if ack:
                call(op, "COMPLAINT", "ACK", cid, text="called back")
            if close:
                call(op, "COMPLAINT", "PROPOSE", cid, text="apology and a coupon")
                call(op, "COMPLAINT", "ACCEPT", cid, text="fine")
                call(op, "COMPLAINT", "CLOSE", cid, satisfaction=4, feedback="ok", responsible="SH01",
                     stage="delivery", cause="training")
                # the close's score is a satisfaction reading of the month
                model.add(scopes, MONTH, "complaint_scores")
                model.add(scopes, MONTH, "complaint_points", 4)
            else:
                # left open: past its time limits by the month-end, so late
                model.add(scopes, MONTH, "complaints_late")
            return cid

        media_wb = first("KEY1", MONTH, 1)
        complaint("media", media_wb, "delay", channel="media", close=False, ack=False)
        cls.media_depot = media_wb.dest
        complaint("damage", first("MAJ1", MONTH, 0), "damage")
        complaint("signature", first("MED1", MONTH, 0), "wrong_signature")
        complaint("december", first("REG1", 202512, 0), "delay", channel="online")
        complaint("attitude", None, "attitude", channel="walk_in", depot="SH01", close=False)

        # a lost parcel of a key account, paid above the supervisor's limit
        lost = first("KEY1", MONTH, 0)
        cls.claim_waybill = lost
        claim = call(op, "CLAIM", "FILE", expect=201, waybill=lost.number, type="loss", claimed_fen=2_000_000,
                     claimant="sender", claimant_name="Huadong", claimant_phone="13800138000")["id"]
        for kind in ("claim_form", "waybill", "claimant_id", "proof_of_value"):
            call(op, "CLAIM", "DOC", claim, kind=kind, ref="doc-" + kind)
        call(d.mp("adj1"), "CLAIM", "ASSESS", claim, actual_loss_fen=2_000_000, cause="handling", fault="ours")
        payable = call(admin, "CLAIM", "GET", claim)["payable_fen"]
        assert payable > 1_000_000, payable
        call(admin, "CLAIM", "APPROVE", claim)
        call(admin, "CLAIM", "PAY", claim, amount_fen=payable, method="bank_transfer", reference="TX-1")
        cls.claim, cls.claim_paid = claim, payable
        model.add(model.scopes(lost, lost.origin), lost.month, "claims")
        model.add(model.scopes(lost, lost.origin), lost.month, "claims_paid_fen", payable)

        # external queries: one answered at once, one after 25 hours
        q_on_time, q_late = first("MAJ1", MONTH, 1), first("MAJ1", MONTH, 2)
        qa = call(op, "QUERY", "EXTERNAL", expect=201, waybill=q_on_time.number, partner="Partner Express",
                  question="where is it", channel="phone", terminal="T1")["id"]
        call(op, "QUERY", "ANSWER", qa, answer="arrived at their hub")
        qb = call(op, "QUERY", "EXTERNAL", expect=201, waybill=q_late.number, partner="Partner Express",
                  question="where is it", channel="phone", terminal="T1")["id"]
        for w in (q_on_time, q_late):
            model.add(model.scopes(w, w.dest), w.month, "queries_external")
        call(admin, "CLOCK", "SET", iso(ts(NOW_DATA) + 25 * HOUR))
        call(op, "QUERY", "ANSWER", qb, answer="delivered by the partner")
        model.add(model.scopes(q_late, q_late.dest), q_late.month, "queries_external_late")

        # staff: an explained month, a manual tier, report text
        call(sup, "CUSTOMER", "EXPLAIN", account="DROPX", month=mtext(MONTH), reason="factory moved for a month")
        call(sup, "CUSTOMER", "TIER", "OVR", tier="key", reason="group contract signed at head office")
        cls.tier_before["OVR"] = "key"
        call(op, "REPORT", "TEXT", month=mtext(MONTH), scope="customer:KEY1", section="needs_forecast",
             text="spring festival peak: 30% more expected")
        call(op, "REPORT", "TEXT", month=mtext(MONTH), scope="network", section="summary_focus",
             text="delays on the Beijing line; focus on line haul")

        # -- the month-end (clock: 2026-02-10) --
        call(admin, "CLOCK", "SET", iso(ts(NOW_RUN)))
        for _ in range(50):  # the complaints' due times first, so their late marks are in
            if not call(admin, "SWEEP")["more"]:
                break
        cls.run_start = call(admin, "MONTHEND", "RUN", month=mtext(MONTH))
        cls.first_run = poll_done(admin, mtext(MONTH))

    @classmethod
    def tearDownClass(cls):
        for c in ("admin", "sup", "op"):
            if hasattr(cls, c):
                getattr(cls, c).close()
        super().tearDownClass()

    # -- the model's expectations --

    def revenue(self, account, month):
        return self.model.get("C", account, month, "revenue_fen")

    def expected_tier(self, c, month=MONTH):
        window = [madd(month, -i) for i in range(3)]
        if c.payment == "cash":
            waybills = sum(self.model.get("C", c.account, m, "waybills") for m in window)
            declared = sum(self.model.get("C", c.account, m, "declared_fen") for m in window)
            return "high_end_individual" if waybills >= HIGH_END_WAYBILLS or declared >= HIGH_END_DECLARED \
                else "cash"
        start = c.start or NOW_DATA.date()
        months = min(3, max(1, cooperation(start, month)))
        total = sum(self.revenue(c.account, madd(month, -i)) for i in range(months))
        for name, threshold in (("key", TIER_KEY), ("local_major", TIER_MAJOR), ("medium_monthly", TIER_MEDIUM)):
            if total >= threshold * months:
                return name
        return "regular_monthly"

    def expected_drop(self, c):
        if c.account == "DROPX":  # explained
            return False
        start = c.start or NOW_DATA.date()
        now, year = self.revenue(c.account, MONTH), self.revenue(c.account, madd(MONTH, -12))
        return cooperation(start, MONTH) >= WARNING_MONTHS and year > 0 and \
            (year - now) * 10000 >= WARNING_DROP_BP * year

    def effective(self, c):
        return "key" if c.account == "OVR" else self.expected_tier(c)

    # -- tiers --

    def test_tiers_and_service_levels(self):
        m = self.mp("op1")
        seen = {}
        for c in CUSTOMERS:
            got = call(m, "CUSTOMER", "GET", c.account)
            tier = self.effective(c)
            seen[c.account] = got["tier"]
            self.assertEqual(got["tier"], tier, c.account)
            self.assertEqual(got["service_level"], LEVEL.get(tier, "basic"), c.account)
            self.assertEqual(got["tier_auto"], self.expected_tier(c), c.account)
            self.assertEqual(got["tier_month"], mtext(MONTH), c.account)
            self.assertEqual(got["tier_source"], "override" if c.account == "OVR" else "auto")
        # the edges the data was built on
        self.assertEqual(seen["KEY1"], "key")                  # exactly 200,000 yuan a month
        self.assertEqual(seen["MAJ1"], "local_major")
        self.assertEqual(seen["MED1"], "medium_monthly")       # exactly 10,000 yuan a month
        self.assertEqual(seen["REG1"], "regular_monthly")      # 1 fen short over 3 months
        self.assertEqual(seen["NEW1"], "key")                  # two months of cooperation averaged
        self.assertEqual(seen["CASHHI"], "high_end_individual")  # 20 waybills in 3 months
        self.assertEqual(seen["CASHLO"], "cash")               # 19
        self.assertEqual(seen["OVR"], "key")

    def test_override_is_shown_as_such(self):
        got = call(self.mp("op1"), "CUSTOMER", "GET", "OVR")
        self.assertEqual(got["tier_source"], "override")
        self.assertEqual(got["tier_override"], "key")
        self.assertEqual(got["tier_override_reason"], "group contract signed at head office")
        self.assertEqual(got["tier_override_by"], "sup1")
        self.assertEqual(got["tier_auto"], "regular_monthly")
        self.assertEqual(got["service_level"], "customised")

    def test_first_run_figures(self):
        self.assertEqual(self.run_start["status"], "running")
        run = self.first_run
        self.assertEqual(run["processed"], len(CUSTOMERS))
        self.assertEqual(run["customers_total"], len(CUSTOMERS))
        self.assertEqual(run["warnings_raised"], sum(self.expected_drop(c) for c in CUSTOMERS))
        changed = sum(1 for c in CUSTOMERS if self.effective(c) != self.tier_before[c.account])
        self.assertEqual(run["tiers_changed"], changed)
        self.assertEqual(run["runs"], 1)

    # -- warnings --

    def warnings_of(self, m, account):
        rows = call(m, "WARNING", "LIST", customer=account, limit=100)
        return sorted((r["type"], r["subtype"]) for r in rows if r["type"] != "competitor")

    def test_warnings_raised(self):
        m = self.mp("op1")
        for c in CUSTOMERS:
            want = []
            if self.expected_drop(c):
                want.append(("performance_decline", "revenue_drop"))
            if c.account == "KEY1":  # the media complaint and the claim above the supervisor's limit
                want += [("service_incident", "media_exposure"), ("service_incident", "ordinary")]
            self.assertEqual(self.warnings_of(m, c.account), sorted(want), c.account)
        # exactly 6 months and exactly 20 %: raised, with its figures
        rows = call(m, "WARNING", "LIST", customer="DROP6", type="performance_decline")
        self.assertEqual(len(rows), 1)
        w = call(m, "WARNING", "GET", rows[0]["id"])
        self.assertEqual(w["source"], "revenue_drop:DROP6:202601")
        self.assertEqual(w["owner"], "sup1")  # the account manager
        self.assertEqual(w["months"][0], {"month": "2026-01", "revenue_fen": 800_000, "last_year_fen": 1_000_000,
                                          "drop_pct": "20.00"})
        self.assertIn("down 20.00%", w["text"])
        self.assertEqual(w["principles"], ["sincere communication", "speed first", "system-wide response",
                                           "take responsibility", "authoritative confirmation"])
        for account in ("DROP5", "DROPX", "NEAR", "NEW1"):
            self.assertEqual(self.warnings_of(m, account), [], account)

    def test_incident_warnings_name_their_source(self):
        m = self.mp("op1")
        rows = call(m, "WARNING", "LIST", customer="KEY1", type="service_incident")
        sources = sorted(call(m, "WARNING", "GET", r["id"])["source"] for r in rows)
        self.assertEqual(sources, sorted(["complaint:%d" % self.complaints["media"], "claim:%d" % self.claim]))

    def test_second_run_changes_nothing(self):
        m = self.mp("admin")
        before = call(m, "WARNING", "LIST", limit=1000)
        tiers = {c.account: call(m, "CUSTOMER", "GET", c.account)["tier"] for c in CUSTOMERS}
        call(m, "MONTHEND", "RUN", month=mtext(MONTH))
        run = poll_done(m, mtext(MONTH))
        self.assertEqual(run["runs"], 2)
        self.assertEqual(run["processed"], len(CUSTOMERS))
        self.assertEqual(run["tiers_changed"], 0)
        self.assertEqual(run["warnings_raised"], 0)
        self.assertEqual(call(m, "WARNING", "LIST", limit=1000), before)
        self.assertEqual({c.account: call(m, "CUSTOMER", "GET", c.account)["tier"] for c in CUSTOMERS}, tiers)

    # -- the customer record --

    def test_customer_get_figures(self):
        got = call(self.mp("op1"), "CUSTOMER", "GET", "KEY1")
        self.assertEqual(got["cooperation_months"], months_between(datetime.date(2024, 1, 1), NOW_RUN.date()))
        self.assertEqual(got["this_month"], {"month": "2026-02", "waybills": 0, "revenue_fen": 0, "declared_fen": 0})
        months = [madd(202602, -i) for i in range(12, 0, -1)]
        year = got["last_12_months"]
        self.assertEqual((year["from"], year["to"]), ("2025-02", "2026-01"))
        for metric in ("waybills", "revenue_fen", "declared_fen"):
            self.assertEqual(year[metric], sum(self.model.get("C", "KEY1", mo, metric) for mo in months), metric)
        self.assertEqual([r["month"] for r in got["monthly"]], [mtext(mo) for mo in months])
        self.assertEqual(got["monthly"][-1]["revenue_fen"], 20_000_000)
        self.assertEqual(got["open_complaint_ids"], [self.complaints["media"]])
        self.assertEqual(got["open_complaints"], 1)
        self.assertEqual(got["open_claim_ids"], [self.claim])  # paid, not yet closed
        self.assertEqual(got["active_warnings"], 2)
        self.assertEqual(got["average_payment_fen"], 20_000_000)
        self.assertEqual(got["tier_by_rules_now"], "key")

    def test_customer_list(self):
        m = self.mp("op1")
        accounts = lambda rows: sorted(r["account"] for r in rows)  # noqa: E731
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", tier="key")),
                         sorted(c.account for c in CUSTOMERS if self.effective(c) == "key"))
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", manager="op2")), ["DROPX", "MED1", "NEAR", "REG1"])
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", depot="GZ03")),
                         sorted(c.account for c in CUSTOMERS if c.depot == "GZ03"))
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", name="six")), ["DROP6"])   # prefix, any case
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", name="Huadong Elec")), ["KEY1"])
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", phone="13900000103")), ["MED1"])
        self.assertEqual(accounts(call(m, "CUSTOMER", "LIST", depot="SH01", manager="sup1", tier="key")),
                         ["KEY1", "NEW1", "OVR"])
        self.assertEqual(len(call(m, "CUSTOMER", "LIST", limit=5)), 5)

    def test_service_level_reaches_new_complaints(self):
        """A complaint opened for a key account gets its shorter time limits."""
        m = self.mp("op1")
        # a waybill of June 2025: its complaint moves no figure of the months checked
        w = [w for w in self.waybills if w.customer == "KEY1" and w.month == 202506][0]
        opened = call(m, "COMPLAINT", "OPEN", expect=201, channel="phone", category="other", waybill=w.number,
                      customer_name="Caller", customer_phone="13700000000", text="question")
        got = call(m, "COMPLAINT", "GET", opened["id"])
        self.assertEqual(got["service_level"], "customised")
        # counted in February: January's figures stay as checked elsewhere
        self.assertEqual(got["day"] // 100, 202602)

    # -- the report --

    def report_expect(self, code, ident):
        g = lambda month, metric: self.model.get(code, ident, month, metric)  # noqa: E731
        last, year = madd(MONTH, -1), madd(MONTH, -12)
        volume = {"last_month": mtext(last), "same_month_last_year": mtext(year)}
        for metric in ("waybills", "revenue_fen", "declared_fen"):
            now = g(MONTH, metric)
            volume[metric] = {"this_month": now, "last_month": g(last, metric), "last_year": g(year, metric),
                              "vs_last_month_pct": change(now, g(last, metric)),
                              "vs_last_year_pct": change(now, g(year, metric))}
        waybills, delivered = g(MONTH, "waybills"), g(MONTH, "delivered")
        late = delivered - g(MONTH, "delivered_on_time")
        damaged, lost, claims = g(MONTH, "damaged"), g(MONTH, "lost"), g(MONTH, "claims")
        quality = {"waybills": waybills, "delivered": delivered, "delivered_late": late,
                   "late_rate_pct": share(late, delivered), "claims": claims,
                   "claim_rate_pct": share(claims, waybills), "claims_paid_fen": g(MONTH, "claims_paid_fen"),
                   "damaged": damaged, "damage_rate_pct": share(damaged, waybills), "lost": lost,
                   "loss_rate_pct": share(lost, waybills),
                   "damage_and_loss_rate_pct": share(damaged + lost, waybills)}
        total = g(MONTH, "complaints")
        complaints = {"total": total, "late": g(MONTH, "complaints_late"),
                      "late_pct": share(g(MONTH, "complaints_late"), total),
                      "waybills_complained": g(MONTH, "complained"),
                      "by_category": {cat: g(MONTH, "complaints." + cat) for cat in CATEGORIES}}
        return volume, quality, complaints

    def incidents_expect(self, code, ident):
        claim = ("claim", self.claim)
        media = ("complaint", self.complaints["media"])
        lost = self.claim_waybill
        in_scope = {
            "N": (True, True),
            "C": (ident == "KEY1", ident == "KEY1"),
            "D": (ident == lost.origin, ident == self.media_depot),
        }[code]
        return [claim] if in_scope[0] else [], [media] if in_scope[1] else []

    def check_report(self, code, ident, **scope):
        rep = call(self.mp("op1"), "REPORT", "MONTH", month=mtext(MONTH), **scope)
        volume, quality, complaints = self.report_expect(code, ident)
        self.assertEqual(rep["month"], "2026-01")
        self.assertTrue(rep["complete"])
        self.assertEqual(rep["volume"], volume)
        self.assertEqual(rep["quality"], quality)
        self.assertEqual(rep["complaints"], complaints)
        with_loss, without_loss = self.incidents_expect(code, ident)
        inc = rep["incidents"]
        self.assertEqual([(r["kind"], r["id"]) for r in inc["with_loss"]], with_loss)
        self.assertEqual([(r["kind"], r["id"]) for r in inc["without_loss"]], without_loss)
        self.assertEqual(inc["with_financial_loss"], len(with_loss))
        self.assertEqual(inc["without_financial_loss"], len(without_loss))
        if with_loss:
            self.assertEqual(inc["with_loss"][0]["amount_fen"], self.claim_paid)
        return rep

    def test_report_network(self):
        rep = self.check_report("N", "all")
        self.assertEqual(rep["scope"], "network")
        self.assertEqual(rep["complaints"]["total"], 5)
        self.assertEqual(rep["complaints"]["late"], 2)
        self.assertEqual(rep["text"]["summary_focus"]["text"], "delays on the Beijing line; focus on line haul")
        self.assertEqual(rep["text"]["summary_focus"]["written_by"], "op1")
        self.assertEqual(rep["text"]["needs_forecast"]["text"], "")

    def test_report_customer(self):
        rep = self.check_report("C", "KEY1", customer="KEY1")
        self.assertEqual((rep["scope"], rep["customer"], rep["tier"]), ("customer", "KEY1", "key"))
        self.assertEqual(rep["volume"]["revenue_fen"]["this_month"], 20_000_000)
        self.assertEqual(rep["volume"]["revenue_fen"]["vs_last_year_pct"], "0.00")
        self.assertEqual(rep["text"]["needs_forecast"]["text"], "spring festival peak: 30% more expected")
        rep = self.check_report("C", "DROP6", customer="DROP6")
        self.assertEqual(rep["volume"]["revenue_fen"]["vs_last_year_pct"], "-20.00")
        self.check_report("C", "MED1", customer="MED1")

    def test_report_depot(self):
        for depot in ("SH01", "BJ02", "GZ03"):
            rep = self.check_report("D", depot, depot=depot)
            self.assertEqual(rep["depot"], depot)

    def test_report_and_kpi_default_to_the_last_complete_month(self):
        m = self.mp("op1")
        for scope in ({}, {"depot": "SH01"}, {"customer": "KEY1"}):
            for words in (("REPORT", "MONTH"), ("KPI",)):
                default, given = m.call(*words, **scope), m.call(*words, month=mtext(MONTH), **scope)
                self.assertEqual(default["code"], 200, default)
                self.assertEqual(default, given, (words, scope))
        self.assertEqual(call(m, "KPI")[0]["month"], "2026-01")

    def test_report_of_a_month_in_progress(self):
        rep = call(self.mp("op1"), "REPORT", "MONTH", month="2026-02")
        self.assertFalse(rep["complete"])

    # -- KPIs --

    def kpis_expect(self, code, ident):
        g = lambda metric: self.model.get(code, ident, MONTH, metric)  # noqa: E731
        handled_num = g("queries_external") - g("queries_external_late") + g("complaints") - g("complaints_late")
        return {
            "on_time_handling": kpi_expect(handled_num, g("queries_external") + g("complaints"), 9900),
            "on_time_delivery": kpi_expect(g("delivered_on_time"), g("delivered"), 9900),
            "without_complaint": kpi_expect(g("waybills") - g("complained"), g("waybills"), 9800),
            "damage_rate": kpi_expect(g("damaged"), g("waybills"), 10, at_most=True),
            "delivery_accuracy": kpi_expect(g("delivered") - g("inaccurate"), g("delivered"), 9800),
            "satisfaction": kpi_expect(g("complaint_points"), 5 * g("complaint_scores"), 8000),
        }

    def check_kpis(self, code, ident, **scope):
        rows = call(self.mp("op1"), "KPI", month=mtext(MONTH), **scope)
        want = self.kpis_expect(code, ident)
        self.assertEqual([r["kpi"] for r in rows], list(want))
        for r in rows:
            e = want[r["kpi"]]
            got = {k: r[k] for k in e}
            self.assertEqual(got, e, "%s %s %s" % (code, ident, r["kpi"]))
            self.assertEqual(r["comparison"], "at_most" if r["kpi"] == "damage_rate" else "at_least")
            self.assertEqual(r["target_pct"], {"on_time_handling": "99.00", "on_time_delivery": "99.00",
                                               "without_complaint": "98.00", "damage_rate": "0.10",
                                               "delivery_accuracy": "98.00", "satisfaction": "80.00"}[r["kpi"]])
        return rows

    def test_kpi_network(self):
        rows = self.check_kpis("N", "all")
        # the headline counts the KPIs with data: met of measured
        measured = [r for r in rows if not r["no_data"]]
        without = len(rows) - len(measured)
        r = self.mp("op1").call("KPI", month=mtext(MONTH))
        self.assertEqual(r["msg"], "%d of %d KPIs met%s: network, %s"
                         % (sum(1 for k in measured if k["met"]), len(measured),
                            " (%d without data)" % without if without else "", mtext(MONTH)))
        handling = rows[0]
        # two external queries (one late), five complaints (two late)
        self.assertEqual((handling["numerator"], handling["denominator"]), (4, 7))
        self.assertFalse(handling["met"])

    def test_kpi_customer_and_depot(self):
        for c in CUSTOMERS:
            self.check_kpis("C", c.account, customer=c.account)
        for depot in ("SH01", "BJ02", "GZ03", "XX99"):
            self.check_kpis("D", depot, depot=depot)

    def test_kpi_without_data(self):
        r = self.mp("op1").call("KPI", month="2024-01", customer="KEY1")
        # nothing to measure is not "6 of 6 met"
        self.assertEqual(r["msg"], "0 of 0 KPIs met (6 without data): customer KEY1, 2024-01")
        rows = r["data"]
        for r in rows:
            self.assertTrue(r["no_data"])
            self.assertTrue(r["met"])
            self.assertEqual(r["value_pct"], "")

    # -- warnings entered by staff --

    def test_warning_lifecycle(self):
        m = self.mp("op1")
        w = call(m, "WARNING", "ADD", expect=201, customer="NEAR", type="competitor", subtype="tender",
                 text="tender for 2026 logistics", owner="sup1", action_plan="visit with a price offer",
                 competitor="Swift Express")
        wid = w["id"]
        self.assertEqual((w["status"], w["owner"]), ("open", "sup1"))
        got = call(m, "WARNING", "FOLLOWUP", wid, text="visited; they liked the offer",
                   next_at=iso(ts(NOW_RUN) + 7 * 86400))
        self.assertEqual(got["status"], "following")
        ids = lambda rows: [r["id"] for r in rows]  # noqa: E731
        self.assertIn(wid, ids(call(m, "WARNING", "LIST", type="competitor")))
        self.assertIn(wid, ids(call(m, "WARNING", "LIST", owner="sup1", status="following")))
        self.assertIn(wid, ids(call(m, "WARNING", "LIST", depot="GZ03")))
        self.assertNotIn(wid, ids(call(m, "WARNING", "LIST", status="open")))
        self.assertNotIn(wid, ids(call(m, "WARNING", "LIST", depot="SH01")))
        got = call(m, "WARNING", "GET", wid)
        self.assertEqual(got["followups"][0]["text"], "visited; they liked the offer")
        self.assertEqual(got["followups"][0]["by"], "op1")
        self.assertEqual(got["competitor"], "Swift Express")
        self.assertEqual(got["action_plan"], "visit with a price offer")
        self.assertEqual(call(m, "CUSTOMER", "GET", "NEAR")["active_warnings"], 1)
        closed = call(m, "WARNING", "CLOSE", wid, outcome="kept", text="contract renewed")
        self.assertEqual(closed["status"], "closed")
        self.assertEqual(call(m, "CUSTOMER", "GET", "NEAR")["active_warnings"], 0)
        # a closed warning takes no follow-up: 409, nothing written
        r = m.call("WARNING", "FOLLOWUP", wid, text="one more call")
        self.assertEqual(r["code"], 409, r)
        self.assertEqual(m.call("WARNING", "CLOSE", wid, outcome="lost")["code"], 409)
        after = call(m, "WARNING", "GET", wid)
        self.assertEqual(after["followup_count"], 1)
        self.assertEqual(len(after["followups"]), 1)
        self.assertEqual(after["outcome"], "kept")
        self.assertEqual(len(after["timeline"]), len(got["timeline"]) + 1)

    def test_warning_argument_checks(self):
        m = self.mp("op1")
        count = len(call(m, "WARNING", "LIST", limit=1000))
        self.assertEqual(m.call("WARNING", "ADD", customer="MAJ1", type="competitor", subtype="media_exposure",
                                text="x")["code"], 400)
        self.assertEqual(m.call("WARNING", "ADD", customer="MAJ1", type="competitor", subtype="tender",
                                text="x", cause="price")["code"], 400)
        self.assertEqual(m.call("WARNING", "ADD", customer="MAJ1", type="competitor", subtype="tender",
                                text="x", owner="nobody")["code"], 404)
        self.assertEqual(m.call("WARNING", "FOLLOWUP", 999999, text="x")["code"], 404)
        wid = call(m, "WARNING", "ADD", expect=201, customer="MAJ1", type="competitor", subtype="competitor",
                   competitor="Swift Express", text="Swift Express offered 10% less")["id"]
        count += 1
        now = call(m, "CLOCK", "GET")["utc_secs"]
        for named in ({"at": iso(now + 3600)},                        # not yet happened
                      {"at": iso(ts(NOW_DATA))},                      # before the warning
                      {"next_at": iso(now - 3600)}):                  # next before this one
            r = m.call("WARNING", "FOLLOWUP", wid, text="x", **named)
            self.assertEqual(r["code"], 422, (named, r))
        got = call(m, "WARNING", "GET", wid)
        self.assertEqual((got["followup_count"], got["status"], got["owner"]), (0, "open", "sup1"))
        self.assertEqual(len(call(m, "WARNING", "LIST", limit=1000)), count)

    # -- bad input: clear errors, nothing written --

    def test_unknown_customer(self):
        m, s = self.mp("op1"), self.mp("sup1")
        count = len(call(m, "WARNING", "LIST", limit=1000))
        for r in (m.call("CUSTOMER", "GET", "NOPE"),
                  m.call("WARNING", "ADD", customer="NOPE", type="competitor", subtype="tender", text="x"),
                  m.call("REPORT", "MONTH", month="2026-01", customer="NOPE"),
                  m.call("KPI", month="2026-01", customer="NOPE"),
                  m.call("REPORT", "TEXT", month="2026-01", scope="customer:NOPE", section="summary_focus",
                         text="x"),
                  s.call("CUSTOMER", "EXPLAIN", account="NOPE", month="2026-01", reason="x"),
                  s.call("CUSTOMER", "TIER", "NOPE", tier="key", reason="x"),
                  s.call("CUSTOMER", "EDIT", "NOPE", name="x")):
            self.assertEqual(r["code"], 404, r)
            self.assertEqual(r["msg"], "no customer NOPE")
        self.assertEqual(len(call(m, "WARNING", "LIST", limit=1000)), count)
        self.assertEqual(call(m, "CUSTOMER", "LIST", name="nope"), [])

    def test_month_in_the_future(self):
        a, m = self.mp("admin"), self.mp("op1")
        for r in (a.call("MONTHEND", "RUN", month="2026-03"),
                  m.call("REPORT", "MONTH", month="2026-03"),
                  m.call("KPI", month="2026-03", depot="SH01"),
                  m.call("REPORT", "TEXT", month="2027-01", scope="network", section="summary_focus", text="x")):
            self.assertEqual(r["code"], 422, r)
            self.assertIn("in the future", r["msg"])
        # the current month has not ended: no month-end for it either
        r = a.call("MONTHEND", "RUN", month="2026-02")
        self.assertEqual(r["code"], 422, r)
        self.assertIn("has not ended", r["msg"])
        for month in ("2026-03", "2026-02"):
            self.assertEqual(call(a, "MONTHEND", "STATUS", month=month)["status"], "not_started")

    def test_malformed_month(self):
        a, m = self.mp("admin"), self.mp("op1")
        for bad in ("2026-13", "2026-1", "26-01", "2026/01", "2026-00", "january"):
            for r in (a.call("MONTHEND", "RUN", month=bad), a.call("MONTHEND", "STATUS", month=bad),
                      m.call("REPORT", "MONTH", month=bad), m.call("KPI", month=bad)):
                self.assertEqual(r["code"], 400, (bad, r))
        self.assertEqual(a.call("MONTHEND", "RUN")["code"], 400)

    def test_other_argument_checks(self):
        m, s = self.mp("op1"), self.mp("sup1")
        self.assertEqual(m.call("REPORT", "MONTH", month="2026-01", customer="KEY1", depot="SH01")["code"], 400)
        self.assertEqual(m.call("REPORT", "TEXT", month="2026-01", scope="region:east", section="summary_focus",
                                text="x")["code"], 400)
        self.assertEqual(s.call("CUSTOMER", "TIER", "MAJ1", tier="key")["code"], 400)  # no reason
        self.assertEqual(s.call("CUSTOMER", "ADD", "KEY1", name="again", payment="monthly",
                                depot="SH01")["code"], 409)
        self.assertEqual(s.call("CUSTOMER", "ADD", "ZZZ", name="x", payment="monthly", depot="SH01",
                                strength=9)["code"], 400)
        self.assertEqual(s.call("CUSTOMER", "ADD", "ZZZ", name="x", payment="monthly", depot="SH01",
                                manager="ghost")["code"], 404)
        self.assertEqual(m.call("CUSTOMER", "GET", "ZZZ")["code"], 404)
        self.assertEqual(m.call("CUSTOMER", "ADD", "ZZZ", name="x", payment="monthly", depot="SH01")["code"], 403)
        self.assertEqual(m.call("MONTHEND", "RUN", month="2026-01")["code"], 403)
        self.assertEqual(s.call("CUSTOMER", "EDIT", "MAJ1")["code"], 400)  # nothing to change

    def test_edit_and_tier_auto(self):
        s = self.mp("sup1")
        got = call(s, "CUSTOMER", "EDIT", "REG1", contact="Mr Xu", phone2="13900000199", credit_rating="good",
                   strength=3, credit_limit_fen=5_000_000, lateness_discount_bp=500)
        self.assertEqual(got["tier"], "regular_monthly")
        rec = call(s, "CUSTOMER", "GET", "REG1")
        self.assertEqual((rec["contact"], rec["phone2"], rec["strength"]), ("Mr Xu", "13900000199", 3))
        self.assertEqual([r["account"] for r in call(s, "CUSTOMER", "LIST", phone="13900000199")], ["REG1"])
        self.assertEqual(rec["timeline"][-1]["action"], "edit")
        # an override and back to the rules
        call(s, "CUSTOMER", "TIER", "REG1", tier="local_major", reason="regional framework deal")
        self.assertEqual(call(s, "CUSTOMER", "GET", "REG1")["service_level"], "exclusive")
        back = call(s, "CUSTOMER", "TIER", "REG1", tier="auto")
        self.assertEqual((back["tier"], back["tier_source"]), ("regular_monthly", "auto"))


class WarningFirstAction(DaemonTestCase):
    """Round 18, "speed first": a warning's first action is due
    warning_first_action_hours (24) after it is raised; the first follow-up
    meets it; past it (on time at the due second) the warning is overdue in
    GET and LIST, listed by overdue=yes, and marked first_action_breached by
    the daemon's own timer."""

    T = ts(datetime.datetime(2026, 5, 4, 9, 0, tzinfo=CST))

    @classmethod
    def class_setup(cls):
        admin, sup = cls.daemon.mp("admin"), cls.daemon.mp("sup1")
        call(admin, "CLOCK", "SET", iso(cls.T))
        call(sup, "CUSTOMER", "ADD", "FA1", expect=201, name="First Action Ltd", payment="monthly", depot="SZ01")
        admin.close()
        sup.close()

    def set_now(self, t):
        call(self.mp("admin"), "CLOCK", "SET", iso(t))

    def add(self, m, text):
        return call(m, "WARNING", "ADD", expect=201, customer="FA1", type="competitor", subtype="tender",
                    text=text, owner="sup1", action_plan="visit with an offer")["id"]

    def wait_breached(self, m, wid):
        end = time.time() + 5
        while time.time() < end:
            got = call(m, "WARNING", "GET", wid)
            if got.get("first_action_breached"):
                return got
            time.sleep(0.05)
        self.fail("warning %s: first_action_breached not set by the timer" % wid)

    def test_first_action_due_met_and_overdue(self):
        m = self.mp("op1")
        t0 = self.T + 10 * 86400
        self.set_now(t0)
        met, late, closed = self.add(m, "met in time"), self.add(m, "late"), self.add(m, "closed at once")
        got = call(m, "WARNING", "GET", met)
        self.assertEqual(parse_iso(got["first_action_by"]), parse_iso(got["raised_at"]) + 24 * 3600)
        # the test clock runs on from each CLOCK SET: times below are from raised_at
        due = parse_iso(call(m, "WARNING", "GET", late)["first_action_by"])
        self.assertNotIn("first_action_at", got)
        self.assertIs(got["overdue"], False)
        # an action plan is not an action; the first follow-up is, at its own time
        self.set_now(t0 + 2 * 3600)
        call(m, "WARNING", "FOLLOWUP", met, text="called the buyer", at=iso(t0 + 3600))
        got = call(m, "WARNING", "GET", met)
        self.assertEqual(parse_iso(got["first_action_at"]), t0 + 3600)
        call(m, "WARNING", "CLOSE", closed, outcome="kept", text="the tender was cancelled")
        # on time at the due second
        self.set_now(due)
        got = call(m, "WARNING", "GET", late)
        if call(m, "CLOCK", "GET")["utc_secs"] == due:
            self.assertIs(got["overdue"], False)
        self.set_now(due - 1)
        ids = lambda rows: [r["id"] for r in rows]  # noqa: E731
        self.assertNotIn(late, ids(call(m, "WARNING", "LIST", overdue=True)))
        # a minute later: overdue, and the timer marks it by itself
        self.set_now(due + 60)
        got = self.wait_breached(m, late)
        self.assertIs(got["overdue"], True)
        self.assertEqual(got["timeline"][-1]["action"], "first_action_overdue")
        self.assertEqual(ids(call(m, "WARNING", "LIST", overdue=True)), [late])
        rows = {r["id"]: r for r in call(m, "WARNING", "LIST", customer="FA1")}
        self.assertEqual((rows[late]["overdue"], rows[met]["overdue"], rows[closed]["overdue"]), (True, False, False))
        self.assertEqual(parse_iso(rows[late]["first_action_by"]), due)
        on_time = set(ids(call(m, "WARNING", "LIST", customer="FA1", overdue=False)))
        self.assertEqual(on_time & {met, late, closed}, {met, closed})
        for wid in (met, closed):
            self.assertFalse(call(m, "WARNING", "GET", wid).get("first_action_breached"))
        self.assertNotIn("first_action_at", call(m, "WARNING", "GET", closed))
        # the late first action: met, the breach stays on record
        call(m, "WARNING", "FOLLOWUP", late, text="visited at last")
        got = call(m, "WARNING", "GET", late)
        self.assertEqual((got["overdue"], got["first_action_breached"]), (False, True))
        self.assertLessEqual(abs(parse_iso(got["first_action_at"]) - (due + 60)), 5)
        self.assertEqual(call(m, "WARNING", "LIST", overdue=True), [])

    def test_a_warning_stored_before_has_no_due_time(self):
        """A warning stored before round 18 (no first_action_by) reads as it
        was: no due time, never overdue, a follow-up records no first action.
        The record is rewritten into that shape with the daemon stopped."""
        import lmdb
        import msgpack
        m = self.mp("op1")
        t0 = self.T + 40 * 86400
        self.set_now(t0)
        wid = self.add(m, "entered before round 18")
        m.close()
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=True) as txn:
            warnings, due = env.open_db(b"warnings", txn=txn), env.open_db(b"warning_due", txn=txn, dupsort=True)
            key = wid.to_bytes(8, "big")
            rec = msgpack.unpackb(txn.get(key, db=warnings), raw=False)
            by = rec.pop("first_action_by")
            rec.pop("due_key")
            rec.pop("timer_at")
            for entry in rec["timeline"] if "timeline" in rec else []:
                entry.get("changes", {}).pop("first_action_by", None)
            self.assertTrue(txn.delete(by.to_bytes(8, "big"), key, db=due))
            txn.put(key, msgpack.packb(rec, use_bin_type=True), db=warnings)
        env.close()
        self.daemon.restart()
        m = self.mp("op1")
        self.set_now(t0 + 30 * 3600)
        time.sleep(0.3)
        got = call(m, "WARNING", "GET", wid)
        for key in ("first_action_by", "first_action_at", "first_action_breached", "overdue"):
            self.assertNotIn(key, got)
        row = [r for r in call(m, "WARNING", "LIST", customer="FA1") if r["id"] == wid][0]
        self.assertIs(row["overdue"], False)
        self.assertNotIn(wid, [r["id"] for r in call(m, "WARNING", "LIST", overdue=True)])
        call(m, "WARNING", "FOLLOWUP", wid, text="called")
        self.assertNotIn("first_action_at", call(m, "WARNING", "GET", wid))


class DefaultMonth(DaemonTestCase):
    """REPORT MONTH and KPI without month= answer the last complete month of
    the depots' clock (+08:00), not of UTC."""

    def test_month_turns_at_local_midnight(self):
        admin, m = self.mp("admin"), self.mp("op1")
        for local, month in (("2026-02-28T23:59:59+08:00", "2026-01"),   # UTC: 15:59 on the 28th
                             ("2026-03-01T00:00:00+08:00", "2026-02"),   # UTC: still February
                             ("2027-01-01T07:00:00+08:00", "2026-12")):  # across the year
            call(admin, "CLOCK", "SET", local)
            self.assertEqual({r["month"] for r in call(m, "KPI")}, {month}, local)
            self.assertEqual(call(m, "KPI", depot="SH01")[0]["month"], month)
            rep = call(m, "REPORT", "MONTH")
            self.assertEqual((rep["month"], rep["complete"]), (month, True), local)


class MonthEndRestart(DaemonTestCase):
    """A month-end of one customer per batch, killed half-way: the restarted
    daemon goes on from its last committed batch and raises each warning
    once."""

    daemon_args = ("--monthend-batch-customers", "1")
    CUSTOMERS = 300

    def test_restart_half_way(self):
        d = self.daemon
        admin = d.mp("admin")
        call(admin, "CLOCK", "SET", iso(ts(NOW_RUN)))
        groups = []
        for i in range(self.CUSTOMERS):
            account = "R%04d" % i
            created = ts(datetime.datetime(2025, 1, 10, 10, 0, tzinfo=CST))
            groups.append([
                ["CUSTOMER", "ADD", account, {"name": "Restart %d" % i, "payment": "monthly", "depot": "SH01",
                                              "contract_start": "2024-01-01"}],
                ["WAYBILL", "CREATE", "77%08d" % i, {
                    "sender_name": "S", "sender_phone": "13800138000", "sender_address": "a", "sender_city": "x",
                    "receiver_name": "R", "receiver_phone": "13900139000", "receiver_address": "b",
                    "receiver_city": "y", "origin_depot": "SH01", "dest_depot": "BJ02", "goods": "g",
                    "pieces": 1, "weight_g": 100, "packaging": "carrier", "fee_fen": 1000 + i,
                    "payment": "monthly", "customer": account, "created_at": iso(created),
                    "promised_at": iso(created + 48 * HOUR)}],
            ])
        bad = [(q, r) for q, r in pipelined(d, "admin", groups) if r["code"] != 201]
        self.assertEqual(bad, [])
        call(admin, "MONTHEND", "RUN", month="2026-01")
        deadline = time.time() + 30
        while True:
            st = call(admin, "MONTHEND", "STATUS", month="2026-01")
            if st["processed"] >= 20 or st["status"] == "done" or time.time() > deadline:
                break
        d.kill()
        self.assertEqual(st["status"], "running", "the run ended before the kill: %r" % st)
        d.restart()
        admin = d.mp("admin")
        run = poll_done(admin, "2026-01")
        print("[killed at %d of %d processed; resumed to %d]" % (st["processed"], self.CUSTOMERS,
                                                                   run["processed"]), end=" ")
        self.assertEqual(run["runs"], 1)  # the same run went on, it did not start again
        self.assertEqual(run["processed"], self.CUSTOMERS)
        self.assertEqual(run["batches"], self.CUSTOMERS)  # no batch done twice
        self.assertEqual(run["warnings_raised"], self.CUSTOMERS)
        warnings = call(admin, "WARNING", "LIST", limit=1000)
        self.assertEqual(len(warnings), self.CUSTOMERS)
        self.assertEqual(len({w["customer"] for w in warnings}), self.CUSTOMERS)
        admin.close()


if __name__ == "__main__":
    unittest.main()
