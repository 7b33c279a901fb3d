"""contrib/bench-compare.sh's order of runs (docs/performance.md, "Round 12:
bench-compare interleaves the servers").

`bench-compare.sh --schedule` prints the order the script runs in, one line
a row and repetition: ROW|REPETITION|SERVERS. Every row runs against each
server back to back, BENCH_REPEAT times, with the servers' order rotated
from line to line so that no server is always first or last; the text rows
come first (Redis's keys are set to the text reply's size once), and every
GET row runs before the SCAN and mix rows, which add events to the store.

`bench-compare.sh --table FILE` prints the table from the runs' lines
("bench-compare: run|SERVER|ROW|REP/N|...|csv BENCH-CSV") of a saved stderr,
with the code the script prints its own table with: the Table tests feed it
known runs and check every figure (median run, min-max, ratio, worst line)."""
import os
import subprocess
import unittest
from collections import Counter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "contrib", "bench-compare.sh")


def schedule(repeat=None, baseline=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    if repeat is not None:
        env["BENCH_REPEAT"] = str(repeat)
    if baseline is not None:
        env["BENCH_BASELINE_DAEMON"] = baseline
    return subprocess.run(["bash", SCRIPT, "--schedule"], env=env, capture_output=True,
                          timeout=30, cwd=ROOT)


def runs(repeat=None, baseline=None):
    proc = schedule(repeat, baseline)
    assert proc.returncode == 0, proc.stderr.decode()
    out = []
    for line in proc.stdout.decode().splitlines():
        row, rep, servers = line.split("|")
        out.append((row, int(rep), servers.split()))
    return out


class Schedule(unittest.TestCase):
    def check(self, repeat, baseline):
        lines = runs(repeat, baseline)
        servers = ["pd", "base", "redis"] if baseline else ["pd", "redis"]
        rows = [row for row, _, _ in lines]
        names = list(dict.fromkeys(rows))
        self.assertEqual(len(names), 11)
        # each row's runs back to back, its repetitions 1..N in order
        self.assertEqual(rows, [n for n in names for _ in range(repeat)])
        self.assertEqual([rep for _, rep, _ in lines], list(range(1, repeat + 1)) * len(names))
        # every server once a line: each row runs repeat times a server
        for row, _, order in lines:
            self.assertEqual(sorted(order), sorted(servers), row)
        # framing outer, text first; every GET before the writes
        text = [i for i, n in enumerate(names) if " text " in n]
        self.assertEqual(text, list(range(4)), names)
        writes = [i for i, n in enumerate(names) if not n.startswith("get ")]
        gets = [i for i, n in enumerate(names) if n.startswith("get ")]
        self.assertEqual(len(writes), 3)
        self.assertLess(max(gets), min(writes), names)
        # the mix (90 % GETs) before the scans, so its GETs read the store
        # as loaded; the table keeps the rows in this order
        mix = names.index("mix c50 P1")
        self.assertLess(mix, min(i for i, n in enumerate(names) if n.startswith("scan ")), names)
        # no server always first or last: over the run each takes every
        # place as often as the others, give or take one
        for place in range(len(servers)):
            count = Counter(order[place] for _, _, order in lines)
            self.assertEqual(set(count), set(servers), (place, count))
            self.assertLessEqual(max(count.values()) - min(count.values()), 1, (place, count))
        # consecutive runs never start with the same server
        for (_, _, a), (_, _, b) in zip(lines, lines[1:]):
            self.assertNotEqual(a[0], b[0], (a, b))
        # with at least as many repetitions as servers, every row has each
        # server first once and last once
        if repeat >= len(servers):
            for name in names:
                orders = [o for r, _, o in lines if r == name]
                self.assertEqual({o[0] for o in orders}, set(servers), name)
                self.assertEqual({o[-1] for o in orders}, set(servers), name)

    def test_one_run_against_redis(self):
        self.check(1, None)
        self.assertEqual(runs(), runs(1))

    def test_repeated_against_redis(self):
        self.check(2, None)
        self.check(3, None)

    def test_with_a_baseline(self):
        self.check(1, "/nonexistent/parceldeskd")
        self.check(3, "/nonexistent/parceldeskd")
        self.check(4, "/nonexistent/parceldeskd")

    def test_a_bad_repeat_count_is_refused(self):
        for bad in ("0", "x", "-1", "1.5", ""):
            proc = schedule(bad)
            if bad == "":
                # empty: the default, one run
                self.assertEqual(proc.returncode, 0)
                continue
            self.assertNotEqual(proc.returncode, 0, bad)
            self.assertIn(b"BENCH_REPEAT", proc.stderr)
            self.assertEqual(proc.stdout, b"")


def run_line(server, row, rep, rate, p50=100, p99=200, errors=0, codes="", writer=None):
    """One run's stderr line as bench-compare prints it (rep is "K/N")."""
    csv = f"{rate * 5},5000,{rate},{p50},{p99},{p99 + 1},{p99 + 2},{errors},{codes},1791"
    w = "writer -" if writer is None else f"writer groups {writer[0]} jobs {writer[1]}"
    return (f"bench-compare: run|{server}|{row}|{rep}|{rate} ops/s, p99 {p99} us"
            f"|0 major, 12 minor page faults|{w}|csv {csv}")


def table_of(lines):
    """Runs --table on LINES (through stdin); returns (header columns' line,
    {row: [cells]}, legend lines, worst line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    text = "bench-compare: building\nbench-compare: pd on 127.0.0.1:1, pid 1\n" + "\n".join(lines) + "\n"
    proc = subprocess.run(["bash", SCRIPT, "--table", "-"], env=env, input=text.encode(),
                          capture_output=True, timeout=30, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode().splitlines()
    head, body = out[0], out[1:]
    rows = {}
    legend = []
    for line in body:
        if line.startswith(("scan = ", "ops/s, ", "One run", "group = ", "worst ")):
            legend.append(line)
            continue
        rows[line[:17].rstrip()] = line[17:].split(None, COLUMNS[head] - 2)
    return head, rows, legend[:-1], legend[-1]


# The column heads' line, for each shape of table: the count of columns
# (the errors column may hold spaces: "2 (404=2)").
def head_line(cols):
    widths = {"pd ops/s": 9, "pd min-max": 13, "p50 us": 7, "p99 us": 8, "before": 9, "b min-max": 13,
              "b p99": 7, "redis": 9, "r min-max": 13, "r p99 us": 8, "pd/redis": 8, "group": 7,
              "b group": 7}
    return "%-17s" % "test" + "".join(" %*s" % (widths[c], c) for c in cols) + " errors"


ONE = ["pd ops/s", "p50 us", "p99 us", "redis", "r p99 us", "pd/redis", "group"]
ONE_BASE = ["pd ops/s", "p50 us", "p99 us", "before", "b p99", "redis", "r p99 us", "pd/redis", "group",
            "b group"]
REPEATED = ["pd ops/s", "pd min-max", "p50 us", "p99 us", "redis", "r min-max", "r p99 us", "pd/redis",
            "group"]
REPEATED_BASE = ["pd ops/s", "pd min-max", "p50 us", "p99 us", "before", "b min-max", "b p99", "redis",
                 "r min-max", "r p99 us", "pd/redis", "group", "b group"]
COLUMNS = {head_line(c): len(c) + 2 for c in (ONE, ONE_BASE, REPEATED, REPEATED_BASE)}


def rows_of(server, row, rates, **kw):
    n = len(rates)
    return [run_line(server, row, f"{i + 1}/{n}", rate, p50=rate // 10, p99=rate // 5, **kw)
            for i, rate in enumerate(rates)]


class Table(unittest.TestCase):
    def test_odd_repeats_median_and_spreads(self):
        lines = (rows_of("pd", "get c1 P1", [1300, 1000, 1200]) + rows_of("redis", "get c1 P1", [1600, 1400, 1500]) +
                 rows_of("pd", "get c50 P1", [3000, 9000, 6001]) + rows_of("redis", "get c50 P1", [3000, 3001, 3603]) +
                 # by value, not as text: 950 below 1000
                 rows_of("pd", "get c50 P16", [10000, 950, 1000]) + rows_of("redis", "get c50 P16", [95, 1000, 10000]))
        head, rows, legend, worst = table_of(lines)
        self.assertEqual(head, head_line(REPEATED))
        # the median run's ops/s with its own p50 and p99, min-max of the three
        self.assertEqual(rows["get c1 P1"],
                         ["1200", "1000-1300", "120", "240", "1500", "1400-1600", "300", "0.80", "-", "0"])
        # 6001 / 3001 = 1.9997 -> 2.00
        self.assertEqual(rows["get c50 P1"],
                         ["6001", "3000-9000", "600", "1200", "3001", "3000-3603", "600", "2.00", "-", "0"])
        self.assertEqual(rows["get c50 P16"],
                         ["1000", "950-10000", "100", "200", "1000", "95-10000", "200", "1.00", "-", "0"])
        self.assertEqual(worst, "worst pd/redis: 0.80 (get c1 P1)")
        self.assertIn("pd/redis = our median ops/s over Redis's", legend[1])

    def test_even_repeats_take_the_lower_middle_run(self):
        lines = (rows_of("pd", "get c1 P1", [1300, 1000]) + rows_of("redis", "get c1 P1", [1100, 1200]) +
                 rows_of("pd", "scan c1 P1", [40, 10, 30, 20], writer=(10, 25)) +
                 rows_of("redis", "scan c1 P1", [35, 25, 15, 45]))
        head, rows, legend, worst = table_of(lines)
        self.assertEqual(head, head_line(REPEATED))
        self.assertEqual(rows["get c1 P1"],
                         ["1000", "1000-1300", "100", "200", "1100", "1100-1200", "220", "0.91", "-", "0"])
        # 20 / 25 = 0.8; group = 4 x 25 jobs / 4 x 10 groups
        self.assertEqual(rows["scan c1 P1"], ["20", "10-40", "2", "4", "25", "15-45", "5", "0.80", "2.50", "0"])
        self.assertEqual(worst, "worst pd/redis: 0.80 (scan c1 P1)")

    def test_one_run_and_rounding(self):
        lines = [run_line("pd", "get c1 P1", "1/1", 2000, 11, 22), run_line("redis", "get c1 P1", "1/1", 1201, 9, 18),
                 run_line("pd", "get c1 P16", "1/1", 1000, 5, 6), run_line("redis", "get c1 P16", "1/1", 3000, 7, 8),
                 run_line("pd", "get c50 P1", "1/1", 2, 5, 6), run_line("redis", "get c50 P1", "1/1", 3, 7, 8)]
        head, rows, legend, worst = table_of(lines)
        self.assertEqual(head, head_line(ONE))
        self.assertEqual(rows["get c1 P1"], ["2000", "11", "22", "1201", "18", "1.67", "-", "0"])
        self.assertEqual(rows["get c1 P16"], ["1000", "5", "6", "3000", "8", "0.33", "-", "0"])
        self.assertEqual(rows["get c50 P1"], ["2", "5", "6", "3", "8", "0.67", "-", "0"])
        # the worst by the ratio itself: 1/3 below 2/3
        self.assertEqual(worst, "worst pd/redis: 0.33 (get c1 P16)")
        self.assertEqual(legend[1], "One run a row on each server; pd/redis = our ops/s over Redis's.")

    def test_the_worst_row(self):
        # equal ratios: the first row in the table's order; equal once
        # rounded: the lower of the two (0.496 below 0.504)
        lines = [run_line("pd", "get c50 P1", "1/1", 20), run_line("redis", "get c50 P1", "1/1", 40),
                 run_line("pd", "get c1 P16", "1/1", 10), run_line("redis", "get c1 P16", "1/1", 20)]
        self.assertEqual(table_of(lines)[3], "worst pd/redis: 0.50 (get c1 P16)")
        lines = [run_line("pd", "get c1 P1", "1/1", 504), run_line("redis", "get c1 P1", "1/1", 1000),
                 run_line("pd", "get c1 P16", "1/1", 496), run_line("redis", "get c1 P16", "1/1", 1000),
                 run_line("pd", "get c50 P1", "1/1", 4960), run_line("redis", "get c50 P1", "1/1", 9000)]
        head, rows, _, worst = table_of(lines)
        self.assertEqual((rows["get c1 P1"][5], rows["get c1 P16"][5]), ("0.50", "0.50"))
        self.assertEqual(worst, "worst pd/redis: 0.50 (get c1 P16)")
        lines[:2] = [run_line("pd", "get c1 P1", "1/1", 494), run_line("redis", "get c1 P1", "1/1", 1000)]
        self.assertEqual(table_of(lines)[3], "worst pd/redis: 0.49 (get c1 P1)")

    def test_rows_in_the_scripts_order(self):
        lines = (rows_of("redis", "scan c50 P1", [10]) + rows_of("pd", "scan c50 P1", [20]) +
                 rows_of("pd", "get text c1 P1", [20]) + rows_of("redis", "get text c1 P1", [10]) +
                 rows_of("pd", "get c1 P1", [5]) + rows_of("redis", "get c1 P1", [10]))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
        proc = subprocess.run(["bash", SCRIPT, "--table", "-"], env=env, input="\n".join(lines).encode(),
                              capture_output=True, timeout=30, cwd=ROOT)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        names = [line[:17].rstrip() for line in proc.stdout.decode().splitlines()[1:4]]
        self.assertEqual(names, ["get c1 P1", "get text c1 P1", "scan c50 P1"])

    def test_a_missing_server_and_zero_rates(self):
        lines = (rows_of("pd", "get c1 P1", [100, 300]) +  # no Redis run
                 rows_of("redis", "get c1 P16", [100, 200]) +  # no run of ours
                 rows_of("pd", "get c50 P1", [0, 0]) + rows_of("redis", "get c50 P1", [100, 50]) +
                 rows_of("pd", "get c50 P16", [10, 20], errors=3, codes="404=2;500=1") +
                 rows_of("redis", "get c50 P16", [0, 0]))
        head, rows, legend, worst = table_of(lines)
        self.assertEqual(rows["get c1 P1"], ["100", "100-300", "10", "20", "-", "-", "-", "-", "-", "0"])
        self.assertEqual(rows["get c1 P16"], ["-", "-", "-", "-", "100", "100-200", "20", "-", "-", "-"])
        self.assertEqual(rows["get c50 P1"], ["0", "0-0", "0", "0", "50", "50-100", "10", "0.00", "-", "0"])
        self.assertEqual(rows["get c50 P16"], ["10", "10-20", "1", "2", "0", "0-0", "0", "-", "-",
                                               "6 (404=4;500=2)"])
        self.assertEqual(worst, "worst pd/redis: 0.00 (get c50 P1); no ratio: get c1 P1 (no redis run), "
                                "get c1 P16 (no pd run), get c50 P16 (redis 0 ops/s)")

    def test_no_ratio_at_all(self):
        head, rows, legend, worst = table_of(rows_of("pd", "get c1 P1", [7]))
        self.assertEqual(rows["get c1 P1"], ["7", "0", "1", "-", "-", "-", "-", "0"])
        self.assertEqual(worst, "worst pd/redis: -; no ratio: get c1 P1 (no redis run)")

    def test_with_and_without_the_baseline(self):
        ours = (rows_of("pd", "scan c1 P1", [500, 300, 400], writer=(2, 3)) +
                rows_of("redis", "scan c1 P1", [1000, 800, 900]))
        head, rows, _, _ = table_of(ours)
        self.assertEqual(head, head_line(REPEATED))
        self.assertEqual(rows["scan c1 P1"], ["400", "300-500", "40", "80", "900", "800-1000", "180", "0.44", "1.50", "0"])
        base = rows_of("base", "scan c1 P1", [250, 350, 150], writer=(4, 5))
        head, rows, _, worst = table_of(ours + base)
        self.assertEqual(head, head_line(REPEATED_BASE))
        self.assertEqual(rows["scan c1 P1"], ["400", "300-500", "40", "80", "250", "150-350", "50",
                                              "900", "800-1000", "180", "0.44", "1.50", "1.25", "0"])
        # the baseline's own ratio is not the worst line's
        self.assertEqual(worst, "worst pd/redis: 0.44 (scan c1 P1)")
        head, rows, _, _ = table_of([run_line("pd", "get c1 P1", "1/1", 10), run_line("base", "get c1 P1", "1/1", 20),
                                     run_line("redis", "get c1 P1", "1/1", 40)])
        self.assertEqual(head, head_line(ONE_BASE))
        self.assertEqual(rows["get c1 P1"], ["10", "100", "200", "20", "200", "40", "200", "0.25", "-", "-", "0"])

    def test_a_bad_run_line_is_refused(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
        good = run_line("pd", "get c1 P1", "1/1", 10)
        for bad in (good.replace("|csv ", "|"), good.replace("1/1", "one"), good.replace("|pd|", "|mongo|"),
                    good.replace(",1791", ""), good.replace("csv 50,5000,10,", "csv 50,5000,ten,"),
                    good + "|extra"):
            proc = subprocess.run(["bash", SCRIPT, "--table", "-"], env=env, input=bad.encode(),
                                  capture_output=True, timeout=30, cwd=ROOT)
            self.assertNotEqual(proc.returncode, 0, bad)
            self.assertIn(b"bench-compare: not a", proc.stderr)
            self.assertNotIn(b"worst", proc.stdout)
        proc = subprocess.run(["bash", SCRIPT, "--table"], env=env, capture_output=True, timeout=30, cwd=ROOT)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"usage", proc.stderr)


if __name__ == "__main__":
    unittest.main()
