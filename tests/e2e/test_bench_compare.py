"""contrib/bench-compare.sh's order of runs (docs/performance.md, "Round 12:
bench-compare interleaves the servers").

`bench-compare.sh --schedule` prints the order the script runs in, one line
a row and repetition: ROW|REPETITION|SERVERS. Every row runs against each
server back to back, BENCH_REPEAT times, with the servers' order rotated
from line to line so that no server is always first or last; the text rows
come first (Redis's keys are set to the text reply's size once), and every
GET row runs before the SCAN and mix rows, which add events to the store."""
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


if __name__ == "__main__":
    unittest.main()
