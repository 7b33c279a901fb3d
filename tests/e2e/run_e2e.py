#!/usr/bin/python3
"""Runs the end-to-end suite against a real daemon.

  /usr/bin/python3 tests/e2e/run_e2e.py --daemon build/san/parceldeskd --client build/san/parceldesk

Every tests/e2e/test_*.py is loaded; each test class starts its own daemon
(free loopback port, fresh data dir). The last line is "N passed, M failed"
(", K skipped" when some were skipped); the exit code is non-zero when
anything failed or nothing ran. -k PATTERN keeps the tests whose id holds
PATTERN; -j N runs the test files in N worker processes (default 2: the
suite mostly waits on fsync), -j 1 in this process."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class Result(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test.id())

    def _dump(self):
        self.stream.flush()
        harness.dump_live_logs(self.stream)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._dump()

    def addError(self, test, err):
        super().addError(test, err)
        self._dump()


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def filter_suite(suite, pattern):
    out = unittest.TestSuite()
    for t in iter_tests(suite):
        if pattern is None or pattern in t.id():
            out.addTest(t)
    return out


def load(files, pattern):
    loader = unittest.TestLoader()
    if files:
        suite = unittest.TestSuite()
        for f in files:
            mod = os.path.splitext(os.path.basename(f))[0]
            suite.addTests(loader.loadTestsFromName(mod))
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    return filter_suite(suite, pattern)


def run_here(files, pattern, verbosity, summary_file=None):
    suite = load(files, pattern)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity, resultclass=Result)
    res = runner.run(suite)
    def test_id(t):
        t = getattr(t, "test_case", t)      # a subTest counts as its test
        return t.id() if hasattr(t, "id") else str(t)

    failed = [test_id(t) for t, _ in res.failures + res.errors]
    failed += [test_id(t) for t in res.unexpectedSuccesses]
    failed = list(dict.fromkeys(failed))   # a test failing twice (test + tearDown) counts once
    skipped = [test_id(t) for t, _ in res.skipped]
    summary = {"passed": res.passed, "failed": failed, "skipped": skipped}
    if summary_file:
        with open(summary_file, "w") as f:
            json.dump(summary, f)
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", default=harness.settings.daemon, help="path of parceldeskd")
    ap.add_argument("--client", default=harness.settings.client, help="path of parceldesk")
    ap.add_argument("-k", dest="pattern", help="only tests whose id holds this")
    ap.add_argument("-j", dest="jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes, one test file each at a time (default: 2 when 2 cores)")
    ap.add_argument("-q", dest="quiet", action="store_true", help="less output")
    ap.add_argument("--keep", action="store_true", help="keep every daemon's work dir")
    ap.add_argument("--tmpdir", default=harness.settings.tmpdir,
                    help="where the daemons' data dirs go (default %(default)s; a disk path to pay real fsyncs)")
    ap.add_argument("--summary-file", help=argparse.SUPPRESS)
    ap.add_argument("files", nargs="*", help="test files (default: every test_*.py)")
    args = ap.parse_args()

    daemon = os.path.abspath(args.daemon)
    client = os.path.abspath(args.client)
    if not os.access(daemon, os.X_OK):
        print("run_e2e: no daemon at %s (build it, or give --daemon PATH)" % daemon)
        print("0 passed, 1 failed")
        return 1
    if harness.msgpack is None:
        print("run_e2e: python3-msgpack is missing: run with /usr/bin/python3 (apt install python3-msgpack)")
        print("0 passed, 1 failed")
        return 1
    harness.settings.daemon = daemon
    harness.settings.client = client
    harness.settings.keep = args.keep
    harness.settings.tmpdir = args.tmpdir
    if args.tmpdir:
        os.environ["PARCELDESK_E2E_TMPDIR"] = args.tmpdir
    os.environ["PARCELDESK_DAEMON"] = daemon
    os.environ["PARCELDESK_CLIENT"] = client
    verbosity = 1 if args.quiet else 2
    start = time.time()

    if args.jobs > 1 and not args.summary_file:
        # a file may be named by path or by name: workers load it by name
        files = [os.path.basename(f) for f in args.files] or sorted(
            f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
        # the slowest files first, so the workers finish together
        slow = ["test_pipeline.py", "test_durability.py", "test_limits.py", "test_badinput.py", "test_session.py"]
        files.sort(key=lambda f: slow.index(f) if f in slow else len(slow))
        summary = {"passed": [], "failed": [], "skipped": []}
        tmp = tempfile.mkdtemp(prefix="pd-e2e-run-")
        queue = list(files)
        running = []
        while queue or running:
            while queue and len(running) < args.jobs:
                f = queue.pop(0)
                sf = os.path.join(tmp, f + ".json")
                out = open(os.path.join(tmp, f + ".out"), "w+")
                cmd = [sys.executable, os.path.abspath(__file__), "--daemon", daemon, "--client", client,
                       "--summary-file", sf, f]
                if args.pattern:
                    cmd[2:2] = ["-k", args.pattern]
                if args.quiet:
                    cmd.append("-q")
                if args.keep:
                    cmd.append("--keep")
                running.append((f, sf, out, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)))
            time.sleep(0.05)
            for item in list(running):
                f, sf, out, p = item
                if p.poll() is None:
                    continue
                running.remove(item)
                out.seek(0)
                sys.stdout.write("=== %s\n%s" % (f, out.read()))
                out.close()
                try:
                    with open(sf) as fh:
                        s = json.load(fh)
                except (OSError, ValueError):
                    s = {"passed": [], "failed": [f + " (worker crashed, exit %s)" % p.returncode], "skipped": []}
                for k in summary:
                    summary[k] += s[k]
    else:
        summary = run_here(args.files, args.pattern, verbosity, args.summary_file)
        if args.summary_file:
            return 0

    if summary["failed"]:
        print("\nFAILED:")
        for t in summary["failed"]:
            print("  " + t)
    print("time: %.1fs" % (time.time() - start))
    tail = "%d passed, %d failed" % (len(summary["passed"]), len(summary["failed"]))
    if summary["skipped"]:
        tail += ", %d skipped" % len(summary["skipped"])
    print(tail)
    return 1 if summary["failed"] or not summary["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
