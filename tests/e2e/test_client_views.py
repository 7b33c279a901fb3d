"""The client's human views and --csv against a real daemon.

One daemon for the class: three waybills (two insured), a loss claim
assessed, approved and paid, a partial-damage claim left for the tests to
assess (under-insured: a ratio step), a claim nobody acknowledged (overdue
once the clock has moved), a staff text in the month's report,
and two complaints with the clock moved between them so that the first is
overdue. Then the client runs with --human, on a pseudo-terminal for the
colours, and with --csv; --json and --raw are checked against what the
daemon itself sends."""
import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
import unittest

from harness import (ADMIN_PASSWORD, DAY, T0, DaemonTestCase, iso, line,
                     next_number, settings)

MONTH = "2026-03"  # T0's month; the clock stays in it
STAFF_TEXT = 'Peak: "Singles Day", +20%\nhire two temps'
ALERT = "\x1b[1;31m"


def yuan(fen):
    """Fen as the client shows yuan: thousands separators, two decimals."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return "%s%s.%02d" % (sign, format(fen // 100, ","), fen % 100)


def text_of(v):
    """A JSON value as the text protocol (and so CSV) shows a scalar."""
    if v is True:
        return "yes"
    if v is False:
        return "no"
    if v is None:
        return ""
    return str(v)


def flatten(v, prefix=""):
    """Dotted keys as the text protocol flattens nested values."""
    out = []
    if isinstance(v, (dict, list)) and v:
        items = v.items() if isinstance(v, dict) else ((str(i), x) for i, x in enumerate(v, 1))
        for k, x in items:
            out += flatten(x, prefix + "." + k if prefix else k)
    elif isinstance(v, (dict, list)):
        out.append((prefix, ""))
    else:
        out.append((prefix, text_of(v)))
    return out


class ClientViews(DaemonTestCase):
    create_users = ("op1", "adj1", "sup1")

    @classmethod
    def setUpClass(cls):
        if not os.access(settings.client, os.X_OK):
            raise unittest.SkipTest("no client at %s" % settings.client)
        super().setUpClass()

    @classmethod
    def call(cls, c, *words, expect=None, **named):
        r = c.cmd(line(*words, **named))
        if expect is not None and r.code != expect:
            raise AssertionError("%s: expected %s, got %r" % (" ".join(map(str, words)), expect, r))
        return r

    @classmethod
    def waybill(cls, op, number=None, **over):
        n = number or next_number()
        fields = dict(sender_name="Zhang Wei", sender_phone="13800138000",
                      sender_address="18 Huaihai Road", sender_city="Shanghai",
                      receiver_name="Li Na", receiver_phone="13900139000",
                      receiver_address="5 Chang'an Avenue", receiver_city="Beijing",
                      origin_depot="SH01", dest_depot="BJ02", goods="laptop", pieces=1,
                      weight_g=1500, packaging="carrier", fee_fen=1500, payment="cash",
                      promised_at=iso(T0 + 3 * DAY))
        fields.update(over)
        cls.call(op, "WAYBILL", "CREATE", n, expect=201, **fields)
        return n

    @classmethod
    def file_claim(cls, op, number, type_, claimed_fen, docs):
        r = cls.call(op, "CLAIM", "FILE", expect=201, waybill=number, type=type_,
                     claimed_fen=claimed_fen, claimant="sender", claimant_name="Zhang Wei",
                     claimant_phone="13800138000")
        cid = r["id"]
        for kind in docs:
            cls.call(op, "CLAIM", "DOC", cid, expect=200, kind=kind, ref="scan-" + kind)
        return cid

    @classmethod
    def class_setup(cls):
        d = cls.daemon
        admin, op, adj, sup = d.text("admin"), d.text("op1"), d.text("adj1"), d.text("sup1")
        try:
            cls.call(admin, "CLOCK", "SET", iso(T0), expect=200)
            # 1: insured at 5,000 yuan and lost
            cls.lost = cls.waybill(op, declared_value_fen=500000, insured=True)
            for event in ("picked_up", "departed", "lost"):
                cls.call(op, "SCAN", cls.lost, event, expect=201, depot="SH01")
            # 2: insured at 3,000 yuan, really worth 5,000, damaged
            cls.damaged = cls.waybill(op, declared_value_fen=300000, insured=True,
                                      packaging="sender_own", fee_fen=3000, goods="vase")
            cls.call(op, "SCAN", cls.damaged, "damaged", expect=201, depot="SH01")
            # 3: a large declared value, for the thousands separators
            cls.big = cls.waybill(op, declared_value_fen=123456789, fee_fen=2000)

            base_docs = ("claim_form", "waybill", "claimant_id", "proof_of_value")
            cls.loss_claim = cls.file_claim(op, cls.lost, "loss", 500000, base_docs)
            cls.call(adj, "CLAIM", "ASSESS", cls.loss_claim, expect=200, actual_loss_fen=450000,
                     cause="theft", fault="ours", responsible_depot="BJ02", ex_gratia_fen=1000)
            cls.call(sup, "CLAIM", "APPROVE", cls.loss_claim, expect=200)
            cls.call(adj, "CLAIM", "PAY", cls.loss_claim, expect=200, amount_fen=422500,
                     method="bank_transfer", reference="TX-1")
            cls.damage_claim = cls.file_claim(
                op, cls.damaged, "damage_partial", 200000,
                base_docs + ("photos", "exception_record", "repair_quote"))
            cls.call(op, "CLAIM", "ACK", cls.damage_claim, expect=200)
            # left alone: unacknowledged, it is overdue a day later
            cls.idle_claim = cls.file_claim(op, cls.damaged, "damage_total", 300000, ())

            cls.call(op, "REPORT", "TEXT", expect=200, month=MONTH, scope="network",
                     section="needs_forecast", text=STAFF_TEXT)
            r = cls.call(op, "COMPLAINT", "OPEN", expect=201, channel="phone", category="delay",
                         waybill=cls.lost, customer_name="Li Na", customer_phone="13900139000",
                         text="where is my laptop")
            cls.late_complaint = int(r["id"])
            # eight days on: the first complaint is past its due times
            cls.call(admin, "CLOCK", "SET", iso(T0 + 8 * DAY), expect=200)
            r = cls.call(op, "COMPLAINT", "OPEN", expect=201, channel="phone", category="delay",
                         waybill=cls.lost, customer_name="Li Na", customer_phone="13900139000",
                         text="still nothing")
            cls.fresh_complaint = int(r["id"])
        finally:
            for c in (admin, op, adj, sup):
                c.close()

    # -- running the client --
    def argv(self, *args):
        return [settings.client, "-p", str(self.daemon.port), "-u", "admin", "-P", ADMIN_PASSWORD] + list(args)

    def env(self, **extra):
        env = dict(os.environ)
        for k in ("PARCELDESK_USER", "PARCELDESK_PASSWORD", "NO_COLOR", "COLUMNS"):
            env.pop(k, None)
        env.update(extra)
        return env

    def run_client(self, *args, stdin=None, expect_rc=0, columns=None):
        env = self.env(COLUMNS=str(columns)) if columns else self.env()
        p = subprocess.run(self.argv(*args), input=stdin.encode() if stdin is not None else None,
                           stdin=None if stdin is not None else subprocess.DEVNULL,
                           capture_output=True, timeout=30, env=env)
        out = p.stdout.decode("utf-8")
        err = p.stderr.decode("utf-8", "replace")
        if expect_rc is not None:
            self.assertEqual(p.returncode, expect_rc, "%s\n%s\n%s" % (args, out, err))
        return p.returncode, out, err

    def human(self, *args, columns=250):
        out = self.run_client("--human", *args, columns=columns)[1]
        self.assertNotIn("\x1b", out, "no colour when stdout is not a terminal")
        return out

    def on_terminal(self, *args, columns=250, **env):
        """Runs the client with its standard output a pseudo-terminal of the
        given width; returns the output with the terminal's CR LF as LF."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        p = subprocess.Popen(self.argv(*args), stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=subprocess.PIPE, env=self.env(TERM="xterm", **env))
        os.close(slave)
        out = b""
        deadline = time.time() + 30
        try:
            while time.time() < deadline:
                ready, _, _ = select.select([master], [], [], deadline - time.time())
                if not ready:
                    break
                try:
                    chunk = os.read(master, 65536)
                except OSError:   # EIO: the client closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            os.close(master)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stderr.close()
        self.assertEqual(p.returncode, 0)
        return out.decode("utf-8").replace("\r\n", "\n")

    def json_data(self, *args):
        out = self.run_client("--json", *args)[1]
        return json.loads(out)["data"]

    # -- reading human output --
    def section(self, out, title):
        """The lines of a section: after its title and dashes, up to the
        next titled section."""
        lines = out.split("\n")
        for i in range(len(lines) - 1):
            if lines[i] == title and re.fullmatch(r"-+", lines[i + 1]):
                body = []
                for j in range(i + 2, len(lines)):
                    if j + 1 < len(lines) and lines[j] and re.fullmatch(r"-+", lines[j + 1]) \
                            and not lines[j].lstrip().startswith(("#", "-", "!")):
                        break
                    body.append(lines[j])
                return body
        self.fail("no section %r in:\n%s" % (title, out))

    def step_lines(self, lines, steps):
        """Checks the step table against the engine's steps: one line each,
        in order, the figure in yuan (or numerator / denominator) right-
        aligned; returns the lines."""
        start = next(i for i, ln in enumerate(lines) if re.match(r"^\s*#\s+step\s+yuan\s+note$", ln))
        rows = [ln for ln in lines[start + 2:] if re.match(r"^\s*\d+  ", ln)]
        self.assertEqual(len(rows), len(steps), "\n".join(lines))
        ends = set()
        for n, (row, step) in enumerate(zip(rows, steps), 1):
            self.assertTrue(row.lstrip().startswith("%d  %s" % (n, step["label"])), (row, step))
            if "amount_fen" in step:
                figure = yuan(step["amount_fen"])
            elif "numerator" in step:
                figure = "%d / %d" % (step["numerator"], step["denominator"])
            else:
                figure = None
            if figure is not None:
                m = re.search(r"\s%s(  |$)" % re.escape(figure), row)
                self.assertIsNotNone(m, "%r lacks %r" % (row, figure))
                ends.add(m.start(1))
            if step.get("note"):
                self.assertTrue(step["note"] in row or step["note"] in "\n".join(lines), step)
        self.assertEqual(len(ends), 1, "figures right-aligned in one column:\n" + "\n".join(rows))
        return rows

    def table_rows(self, out):
        """The rows of the first table: (marked, first cell) for each."""
        lines = out.split("\n")
        i = next(i for i, ln in enumerate(lines) if re.fullmatch(r"[- ]+", ln) and "--" in ln)
        rows = []
        for ln in lines[i + 1:]:
            if not ln or ln.startswith("! = "):
                break
            marked = ln.startswith("!")
            rows.append((marked, ln[1:].split()[0] if marked else ln.split()[0]))
        return rows

    # -- the tests --
    def test_assess_reply_breakdown(self):
        out = self.human("claim", "assess", self.damage_claim, "actual_loss_fen=200000",
                         "real_value_fen=500000", "cause=handling", "fault=ours")
        self.assertTrue(out.startswith("200 assessment "), out)
        result = self.json_data("claim", "get", self.damage_claim)["current_assessment"]["result"]
        self.assertEqual(result["payable_fen"], 90000)   # docs/compensation.md E3
        self.assertRegex(out, r"(?m)^Compensation: assessment 1 by admin, ")
        self.assertRegex(out, r"(?m)^inputs +(id=%s )?actual_loss_fen=200000 real_value_fen=500000 "
                              r"cause=handling fault=ours$" % self.damage_claim)
        self.assertRegex(out, r"(?m)^decision +liable$")
        self.assertRegex(out, r"(?m)^reasons +none$")
        self.assertRegex(out, r"(?m)^owed +900\.00$")
        self.assertRegex(out, r"(?m)^ex gratia +0\.00$")
        self.assertRegex(out, r"(?m)^payable +900\.00$")
        rows = self.step_lines(self.section(out, "Steps"), result["steps"])
        self.assertRegex("\n".join(rows), r"(?m)^ *4  under-insurance: declared / real value +300000 / 500000  ")
        self.assertRegex("\n".join(rows), r"(?m)^ *5  after under-insurance +1,200\.00  ")
        self.assertRegex("\n".join(rows), r"(?m)^ *8  deductible +300\.00  per claim")
        insurer = self.section(out, "Insurer")
        self.assertRegex(insurer[0], r"^clause +A \(new goods: all risks\)$")
        self.assertRegex("\n".join(insurer), r"(?m)^covered +yes$")
        self.assertRegex("\n".join(insurer), r"(?m)^pays +900\.00$")
        self.step_lines(insurer, result["insurer"]["steps"])
        network = self.section(out, "Network")
        self.assertRegex(network[0], r"^paying depot +SH01 pays the customer 900\.00$")
        self.assertRegex(network[1], r"^reimbursing depot +none")
        self.assertEqual(out.rstrip("\n").split("\n")[-1], "approval needed: adjuster")

    def test_claim_get_breakdown(self):
        claim = self.json_data("claim", "get", self.loss_claim)
        result = claim["current_assessment"]["result"]
        out = self.human("claim", "get", self.loss_claim)
        self.assertTrue(out.startswith("200 claim %s: paid\n" % self.loss_claim), out)
        # the claim's own fields stay, the assessment is not a pile of dotted keys
        self.assertRegex(out, r"(?m)^status +paid$")
        self.assertNotIn("current_assessment.", out)
        self.assertNotIn("assessments.", out)
        self.assertIn("\ndocuments (4):\n", out)
        self.assertRegex(out, r"(?m)^Compensation: assessment 1 by adj1, ")
        self.assertRegex(out, r"(?m)^owed +4,215\.00$")   # 4,200 and the 15-yuan fee refunded
        self.assertRegex(out, r"(?m)^ex gratia +10\.00$")
        self.assertRegex(out, r"(?m)^payable +4,225\.00$")
        rows = self.step_lines(self.section(out, "Steps"), result["steps"])
        self.assertRegex(rows[0], r"^ *1  actual loss assessed +4,500\.00  loss: ")
        self.assertTrue(any(re.search(r"ex gratia proposed +10\.00", r) for r in rows))
        self.assertRegex(rows[-1], r"approval needed: supervisor")
        insurer = "\n".join(self.section(out, "Insurer"))
        self.assertRegex(insurer, r"(?m)^pays +4,200\.00$")
        self.assertRegex(insurer, r"(?m)^subrogation +(yes|no)$")
        network = "\n".join(self.section(out, "Network"))
        self.assertRegex(network, r"(?m)^paying depot +SH01 pays the customer 4,225\.00$")
        self.assertRegex(network, r"(?m)^reimbursing depot +BJ02 reimburses SH01 4,215\.00$")
        self.assertRegex(network, r"(?m)^bearing depot +BJ02 bears ")
        self.assertRegex(network, r"(?m)^sub-carrier +none$")
        self.assertRegex(out, r"(?m)^approval needed: supervisor$")
        # the breakdown comes before the claim's lists
        self.assertLess(out.index("Compensation: "), out.index("documents (4):"))

    def long_complaint(self):
        """A complaint on a 12-digit waybill with long free text, and a note."""
        with self.daemon.text("op1") as op:
            number = self.waybill(op, number="8866%08d" % int(next_number()[2:]), promised_at=iso(T0 + 10 * DAY))
            r = self.call(op, "COMPLAINT", "OPEN", expect=201, channel="phone", category="delay",
                          waybill=number, customer_name="Ouyang Xiaoming of the Eastern Suburbs",
                          customer_phone="13900139000",
                          text="the parcel has not arrived after five days and the customer is upset")
            cid = r["id"]
            self.call(op, "COMPLAINT", "NOTE", cid, expect=200, text="called the Beijing depot twice")
        return number, cid

    def test_tables_never_cut_numbers_ids_dates_or_statuses(self):
        number, cid = self.long_complaint()
        rows = self.json_data("complaint", "list")
        for columns in (250, 120, 80, 40):
            out = re.sub(r"\x1b\[[0-9;]*m", "", self.on_terminal("complaint", "list", columns=columns))
            for ln in out.split("\n"):
                self.assertLessEqual(len(ln), max(columns, 40), (columns, ln))
            for row in rows:
                for key in ("waybill", "opened_at", "resolve_by", "status"):
                    if row.get(key):
                        self.assertRegex(out, r"(^|\s)%s(\s|$)" % re.escape(str(row[key])), (columns, key))
            # the id of each row stands whole at the start of a line or cell
            self.assertRegex(out, r"(?m)(^|\s)%s\s" % cid)
        # wide enough: one table row per complaint, the waybill whole in it
        out = self.on_terminal("complaint", "list", columns=250)
        self.assertEqual(len([ln for ln in out.split("\n") if number in ln]), 1, out)

    def test_timeline_shows_the_note_and_one_line_per_change(self):
        number, cid = self.long_complaint()
        out = self.on_terminal("complaint", "get", cid, columns=250)
        timeline = out[out.index("\ntimeline ("):]
        self.assertIn("called the Beijing depot twice", timeline)
        self.assertNotRegex(timeline, r"\(\d+ items?\)")
        self.assertRegex(timeline, r"open .*status: open")
        # the opening entry lists no empty old values
        self.assertNotIn("\u2192", timeline.split("\n")[3])

    def chart_section(self, out, title):
        lines = out.split("\n")
        i = lines.index(title)
        return lines[i + 1:i + 13]

    def test_chart_of_twelve_months(self):
        report = self.json_data("report", "month", "month=" + MONTH)
        kpis = self.json_data("kpi", "month=" + MONTH)
        out = self.run_client("--human", "report", "month", "month=" + MONTH, "--chart", "--ascii")[1]
        self.assertTrue(all(ord(ch) < 128 for ch in out), "--ascii is plain ASCII")
        self.assertTrue(out.startswith("Twelve months to %s: network\n" % MONTH), out)
        waybills = self.chart_section(out, "Waybills")
        self.assertEqual([ln.split()[0] for ln in waybills],
                         ["2025-%02d" % m for m in range(4, 13)] + ["2026-01", "2026-02", "2026-03"])
        # March has every waybill: the longest bar, its figure at the end
        self.assertRegex(waybills[-1], r"^2026-03  #{40} +%d$" % report["volume"]["waybills"]["this_month"])
        self.assertRegex(waybills[0], r"^2025-04 +0$")
        revenue = self.chart_section(out, "Revenue (yuan)")
        self.assertRegex(revenue[-1], r"^2026-03  #{40} +%s$" % re.escape(
            yuan(report["volume"]["revenue_fen"]["this_month"])))
        for k in kpis:
            line_ = next(ln for ln in out.split("\n") if ln.startswith(k["kpi"] + " "))
            self.assertTrue(line_.endswith("target %s %%" % k["target_pct"]), line_)
            last = "no data" if k["no_data"] else k["value_pct"] + " %"
            self.assertIn("last %s," % last, line_)
        # block characters without --ascii; the month defaults to the last complete one
        out = self.run_client("report", "month", "--chart")[1]
        self.assertTrue(out.startswith("Twelve months to 2026-02: network\n"), out)
        out = self.run_client("report", "month", "month=" + MONTH, "--chart")[1]
        self.assertIn("\u2588" * 40, out)

    def test_chart_as_svg(self):
        import xml.etree.ElementTree as ET
        path = os.path.join(self.daemon.data_dir, "..", "chart.svg")
        out = self.run_client("--human", "report", "month", "month=" + MONTH, "--svg", path)[1]
        self.assertTrue(out.startswith("200 report of network for %s\n" % MONTH), out)  # the report too
        root = ET.parse(path).getroot()
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual(root.tag, ns + "svg")
        bars = [r for r in root.iter(ns + "rect") if r.get("class") == "bar"]
        self.assertEqual(len(bars), 24)   # twelve months of waybills and of revenue
        heights = [int(b.get("height")) for b in bars[:12]]
        self.assertEqual(heights[:11], [0] * 11)
        self.assertGreater(heights[11], 0)
        self.assertEqual(bars[11].find(ns + "title").text, "%s: 3" % MONTH)
        texts = [t.text for t in root.iter(ns + "text")]
        self.assertIn("Twelve months to %s: network" % MONTH, texts)
        kpis = self.json_data("kpi", "month=" + MONTH)
        self.assertEqual(len([p for p in root.iter(ns + "polyline")]), len(kpis))
        # only with report month
        self.assertEqual(self.run_client("waybill", "get", self.lost, "--chart", expect_rc=2)[2].strip(),
                         "parceldesk: --chart, --ascii and --svg go with report month")

    def test_yuan_typed_is_reported_in_yuan(self):
        """An amount typed in yuan comes back in yuan: the reply's fields
        and messages name x_yuan, with the amount in yuan (the daemon itself
        speaks fen: --json is unchanged)."""
        out = self.run_client("--human", "waybill", "get", self.big, "fee_yuan=1", expect_rc=1)[1]
        self.assertEqual(out.split("\n")[0], "400 unknown argument 'fee_yuan' for WAYBILL GET")
        out = self.run_client("--human", "waybill", "get", self.big, "fee_fen=1", expect_rc=1)[1]
        self.assertEqual(out.split("\n")[0], "400 unknown argument 'fee_fen' for WAYBILL GET")
        args = ("claim", "assess", self.damage_claim, "actual_loss_yuan=2000", "real_value_yuan=5000",
                "cause=handling", "fault=ours")
        out = self.human(*args)
        self.assertRegex(out, r"(?m)^inputs +.*actual_loss_yuan=2,000\.00 real_value_yuan=5,000\.00 ")
        self.assertNotIn("actual_loss_fen", out)
        data = json.loads(self.run_client("--json", *args)[1])["data"]
        self.assertEqual(data["inputs"]["actual_loss_fen"], 200000)

    def test_overdue_marked_in_lists(self):
        complaints = self.json_data("complaint", "list")
        overdue = {str(c["id"]) for c in complaints if c["overdue"]}
        self.assertEqual(overdue, {str(self.late_complaint)})
        out = self.human("complaint", "list")
        header = out.split("\n")[1]
        self.assertRegex(header, r"^!  id  status")
        rows = self.table_rows(out)
        self.assertEqual({cid for marked, cid in rows if marked}, overdue)
        self.assertEqual({cid for marked, cid in rows if not marked}, {str(self.fresh_complaint)})
        self.assertIn("\n! = overdue (1 of 2)\n", out)
        # a list filtered to the overdue ones, and the claim and recovery lists
        for words in (("complaint", "list", "overdue=yes"), ("claim", "list"), ("recovery", "list")):
            with self.subTest(words=words):
                data = self.json_data(*words)
                self.assertTrue(data)
                rows = self.table_rows(self.human(*words))
                self.assertEqual([(r["overdue"], str(r["id"])) for r in data], rows)
        claims = self.json_data("claim", "list")
        self.assertEqual({str(c["id"]) for c in claims if c["overdue"]}, {str(self.idle_claim)})
        self.assertIn("\n! = overdue (1 of 3)\n", self.human("claim", "list"))

    def test_overdue_rows_in_colour_on_a_terminal(self):
        out = self.on_terminal("complaint", "list")
        lines = out.split("\n")
        late = [ln for ln in lines if ln.startswith(ALERT)]
        self.assertEqual(len(late), 1, out)
        self.assertTrue(late[0].endswith("\x1b[0m"), late[0])
        self.assertEqual(late[0][len(ALERT):].split()[:2], ["!", str(self.late_complaint)])
        fresh = [ln for ln in lines if re.match(r"^ +%s  " % self.fresh_complaint, ln)]
        self.assertEqual(len(fresh), 1, out)
        self.assertNotIn("\x1b", fresh[0])
        # NO_COLOR: the same marks, no escape sequence
        plain = self.on_terminal("complaint", "list", NO_COLOR="1")
        self.assertNotIn("\x1b", plain)
        self.assertIn("! = overdue (1 of 2)", plain)
        # unmet KPIs too
        kpis = self.json_data("kpi", "month=" + MONTH)
        out = self.on_terminal("kpi", "month=" + MONTH)
        alerted = [ln for ln in out.split("\n") if ln.startswith(ALERT)]
        self.assertEqual(len(alerted), sum(1 for k in kpis if not k["met"]), out)

    def test_report_month(self):
        out = self.human("report", "month", "month=" + MONTH)
        self.assertTrue(out.startswith("200 report of network for %s\n" % MONTH), out)
        self.assertRegex(out, r"(?m)^Monthly report: network, %s \(not complete" % MONTH)
        volume = "\n".join(self.section(out, "Volume"))
        self.assertIn("this month %s, last month 2026-02, same month last year 2025-03" % MONTH, volume)
        self.assertRegex(volume, r"(?m)^ +this month +last month +last year +vs last month +vs last year$")
        self.assertRegex(volume, r"(?m)^waybills +3 +0 +0 +n/a +n/a$")
        self.assertRegex(volume, r"(?m)^revenue \(yuan\) +65\.00 +0\.00 +0\.00 +n/a +n/a$")
        # 5,000 + 3,000 + 1,234,567.89 yuan
        self.assertRegex(volume, r"(?m)^declared \(yuan\) +1,242,567\.89 +0\.00 +0\.00 +n/a +n/a$")
        incidents = "\n".join(self.section(out, "Incidents"))
        self.assertRegex(incidents, r"(?m)^with financial loss +1$")
        self.assertRegex(incidents, r"(?m)^ +claim +%s +%s .* 4,225\.00  " % (self.loss_claim, self.lost))
        quality = "\n".join(self.section(out, "Service quality"))
        self.assertRegex(quality, r"(?m)^waybills +3$")
        self.assertRegex(quality, r"(?m)^claims paid \(yuan\) +4,225\.00$")
        self.assertRegex(quality, r"(?m)^claims +3$")
        self.assertRegex(quality, r"(?m)^damage rate % +33\.33$")      # 1 of 3, half up
        complaints = "\n".join(self.section(out, "Complaints"))
        self.assertRegex(complaints, r"(?m)^total +2$")
        self.assertRegex(complaints, r"(?m)^by category:\n  delay +2$")
        self.assertRegex(complaints, r"(?m)^  not delivered to door +0$")
        notes = self.section(out, "Staff notes")
        i = next(i for i, ln in enumerate(notes) if ln.startswith("needs forecast, by op1 at "))
        self.assertEqual(notes[i + 1:i + 3], ['    Peak: "Singles Day", +20%', "    hire two temps"])
        self.assertIn("competitor news: not written", notes)

    def test_kpi_table(self):
        kpis = self.json_data("kpi", "month=" + MONTH)
        self.assertEqual(len(kpis), 6)
        out = self.human("kpi", "month=" + MONTH)
        self.assertIn("\nKPIs: network, %s\n" % MONTH, out)
        self.assertRegex(out, r"(?m)^!  kpi +value +numerator +denominator +target +met$")
        lines = out.split("\n")
        for k in kpis:
            with self.subTest(kpi=k["kpi"]):
                row = next(ln for ln in lines if re.match(r"^[! ]  %s " % k["kpi"], ln))
                self.assertEqual(row.startswith("!"), not k["met"], row)
                value = "no data" if k["no_data"] else k["value_pct"] + " %"
                target = (">= " if k["comparison"] == "at_least" else "<= ") + k["target_pct"] + " %"
                self.assertRegex(row, r"^[! ]  %s +%s +%d +%d +%s +%s$" % (
                    k["kpi"], re.escape(value), k["numerator"], k["denominator"],
                    re.escape(target), "yes" if k["met"] else "no"))
        unmet = sum(1 for k in kpis if not k["met"])
        if unmet:
            self.assertIn("\n! = target not met (%d of %d)\n" % (unmet, len(kpis)), out)

    def test_csv_report(self):
        rc, out, err = self.run_client("--csv", "report", "month", "month=" + MONTH)
        self.assertEqual(err, "")
        self.assertTrue(out.endswith("\r\n"))
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual(rows[0], ["key", "value"])
        self.assertTrue(all(len(r) == 2 for r in rows), rows)
        got = rows[1:]
        # the same keys, order and values as the text protocol's body
        with self.daemon.text("admin") as c:
            text = c.cmd(line("REPORT", "MONTH", month=MONTH))
        self.assertEqual([k for k, _ in got], list(text.rec.keys()))
        self.assertEqual(dict(got), text.rec)
        d = dict(got)
        self.assertEqual(d["volume.declared_fen.this_month"], str(500000 + 300000 + 123456789))
        self.assertEqual(d["text.needs_forecast.text"], STAFF_TEXT)   # quotes, comma, newline
        self.assertEqual(d["complaints.by_category.delay"], "2")
        self.assertEqual(d["incidents.with_loss.1.amount_fen"], "422500")
        self.assertEqual(d["text.competitor_news.text"], "")

    def test_csv_lists(self):
        for words in (("complaint", "list"), ("claim", "list"), ("kpi", "month=" + MONTH)):
            with self.subTest(words=words):
                data = self.json_data(*words)
                out = self.run_client("--csv", *words)[1]
                reader = csv.DictReader(io.StringIO(out, newline=""))
                keys = []
                for row in data:
                    keys += [k for k in row if k not in keys]
                self.assertEqual(reader.fieldnames, keys)
                got = list(reader)
                self.assertEqual(got, [{k: text_of(r.get(k)) for k in keys} for r in data])

    def test_csv_record_flattens_nested_values(self):
        claim = self.json_data("claim", "get", self.loss_claim)
        out = self.run_client("--csv", "claim", "get", self.loss_claim)[1]
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual(rows[0], ["key", "value"])
        self.assertEqual([tuple(r) for r in rows[1:]], flatten(claim))
        d = dict(rows[1:])
        self.assertEqual(d["current_assessment.result.network.reimbursement_fen"], "421500")
        self.assertEqual(d["current_assessment.result.steps.1.label"], "actual loss assessed")

    def test_csv_errors_and_pipe_mode(self):
        rc, out, err = self.run_client("--csv", "waybill", "get", "999999999", expect_rc=1)
        self.assertEqual(out, "")
        self.assertIn("parceldesk: 404 no waybill 999999999", err)
        script = "ping\nkpi month=%s\nwaybill get 999999999\ncomplaint list\n" % MONTH
        rc, out, err = self.run_client("--csv", stdin=script, expect_rc=1)
        self.assertIn("404", err)
        tables = out.split("\r\n\r\n")
        self.assertEqual(len(tables), 2, out)
        self.assertEqual(len(list(csv.DictReader(io.StringIO(tables[0], newline="")))), 6)
        self.assertEqual(len(list(csv.DictReader(io.StringIO(tables[1], newline="")))), 2)
        rc, out, err = self.run_client("--csv", "--json", "ping", expect_rc=2)
        self.assertIn("choose one of", err)

    def test_json_and_raw_unchanged(self):
        commands = [("CLAIM", "GET", str(self.loss_claim)), ("COMPLAINT", "LIST"),
                    ("REPORT", "MONTH", "month=" + MONTH), ("KPI", "month=" + MONTH)]
        with self.daemon.text("admin") as t, self.daemon.mp("admin") as m:
            for words in commands:
                with self.subTest(words=words):
                    out = subprocess.run(self.argv("--raw", *words), capture_output=True,
                                         stdin=subprocess.DEVNULL, timeout=30,
                                         env=self.env()).stdout
                    t.send(" ".join(words))
                    self.assertEqual(out, t.read_exact_reply_bytes())
                    positional = [w for w in words if "=" not in w]
                    named = dict(w.split("=", 1) for w in words if "=" in w)
                    reply = m.call(*positional, **named)
                    got = json.loads(self.run_client("--json", *words)[1])
                    self.assertEqual(got, reply)


if __name__ == "__main__":
    unittest.main()
