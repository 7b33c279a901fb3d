"""Operations: --version on both programs, log levels, --log-file reopened
on SIGHUP, the threads' names."""
import os
import re
import signal
import subprocess
import time
import unittest

from harness import REPO, DaemonTestCase, line, settings

VERSION_RE = r"^%s (\d+\.\d+\.\d+)( \(git [0-9a-f]{12}(\+dirty)?\))?$"


def version_file():
    with open(os.path.join(REPO, "VERSION")) as f:
        return f.read().strip()


class Version(DaemonTestCase):
    create_users = ()

    def test_both_programs_print_the_same_version(self):
        seen = []
        for prog, name in ((settings.daemon, "parceldeskd"), (settings.client, "parceldesk")):
            out = subprocess.run([prog, "--version"], capture_output=True, text=True, timeout=20)
            self.assertEqual(out.returncode, 0, out.stderr)
            m = re.match(VERSION_RE % name, out.stdout.strip())
            self.assertIsNotNone(m, out.stdout)
            self.assertEqual(m.group(1), version_file())
            seen.append(out.stdout.strip().split(" ", 1)[1])
        self.assertEqual(seen[0], seen[1])

    def test_stats_and_first_log_line_show_it(self):
        out = subprocess.run([settings.daemon, "--version"], capture_output=True, text=True, timeout=20)
        version = out.stdout.strip().split(" ", 1)[1]
        self.assertEqual(self.stats(self.conn("admin"))["daemon_version"], version)
        first = [ln for ln in self.daemon.log_text().splitlines() if not ln.startswith("===")][0]
        self.assertIn("parceldeskd %s starting" % version, first)


class Logging(DaemonTestCase):
    start_daemon = False

    def lines(self, path):
        with open(path) as f:
            return f.read().splitlines()

    def run_session(self, level):
        d = self.new_daemon("--log-level", level, "--log-file", "LOG")
        logfile = os.path.join(d.workdir, "parceldeskd.log")
        d.extra[-1] = logfile
        d.start()
        with d.text() as c:
            self.assertReply(c.cmd(line("AUTH", "admin", "wrong-password")), 401)
        d.stop()
        return self.lines(logfile)

    def test_levels_filter(self):
        debug = self.run_session("debug")
        info = self.run_session("info")
        warn = self.run_session("warn")
        error = self.run_session("error")
        # connection open and close are debug lines
        self.assertTrue(any(" debug " in ln and " accept 127.0.0.1:" in ln for ln in debug), debug)
        self.assertTrue(any(" debug " in ln and " close 127.0.0.1:" in ln for ln in debug), debug)
        self.assertFalse(any(" accept " in ln or " close " in ln for ln in info), info)
        self.assertTrue(any(" info " in ln and "listening on" in ln for ln in info), info)
        # the failed login is a warning: in warn, not in error
        self.assertTrue(any(" warn " in ln and "failed login" in ln for ln in warn), warn)
        self.assertFalse(any(" info " in ln for ln in warn), warn)
        self.assertEqual([ln for ln in error if " error " not in ln], [])
        for ln in debug + info + warn:
            self.assertRegex(ln, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (debug|info|warn|error) conn=\d+ user=\S+ ")

    def test_bad_level_refused(self):
        out = subprocess.run([settings.daemon, "--log-level", "loud", "--data-dir", "/nonexistent"],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 2)
        self.assertIn("log_level must be debug, info, warn or error", out.stderr)

    def test_sighup_reopens_the_log_file(self):
        d = self.new_daemon("--log-file", "LOG")
        logfile = os.path.join(d.workdir, "parceldeskd.log")
        d.extra[-1] = logfile
        d.start()
        os.rename(logfile, logfile + ".1")  # what logrotate does
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 20
        while not os.path.exists(logfile) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(logfile), "no new log file after SIGHUP")
        with d.text() as c:
            self.assertReply(c.cmd(line("AUTH", "admin", "wrong-password")), 401)
        self.assertTrue(d.running())  # SIGHUP does not stop it
        d.stop()
        old, new = self.lines(logfile + ".1"), self.lines(logfile)
        self.assertTrue(any("listening on" in ln for ln in old), old)
        self.assertIn("SIGHUP: log file %s reopened" % logfile, new[0])
        self.assertTrue(any("failed login" in ln for ln in new), new)
        self.assertTrue(any("stopped" in ln for ln in new), new)
        self.assertFalse(any("failed login" in ln for ln in old), old)


class ThreadNames(DaemonTestCase):
    """Every thread names its role (docs/design.md, "Threads"): top -H and
    perf read a thread's CPU per role."""
    create_users = ()

    def names(self, pid):
        out = []
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                out.append(f.read().strip())
        return sorted(out)

    def test_each_role_is_named(self):
        d = self.new_daemon("--loop-threads", "3")
        d.start()
        # a thread names itself when it first runs, which on a loaded
        # machine can come after the start's PING is answered: to a deadline
        deadline = time.time() + 10
        while True:
            names = self.names(d.proc.pid)
            missing = [r for r in ("parceldeskd", "pd-loop1", "pd-loop2", "pd-writer", "pd-hash", "pd-bulk",
                                   "pd-checkpoint")
                       if r not in names]
            if not missing and names.count("parceldeskd") == 1:
                break
            self.assertLess(time.time(), deadline, "not named 10 s after the start: %s (threads: %s)"
                            % (missing, names))
            time.sleep(0.05)
        # the prefault thread may have finished a small store's pass and
        # still waits; the only unnamed thread would be one left out
        self.assertEqual([n for n in names if not n.startswith("pd-") and n != "parceldeskd"], [])
        self.assertEqual(names.count("parceldeskd"), 1, names)


if __name__ == "__main__":
    unittest.main()

