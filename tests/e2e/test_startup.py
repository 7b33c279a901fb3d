"""Start-up contract: the first admin's password, options from the command
line and a config file, refusals, and stopping on SIGTERM / SIGINT."""
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from harness import ADMIN_PASSWORD, DaemonTestCase, TextClient, line, settings


class Startup(DaemonTestCase):
    start_daemon = False

    def run_to_exit(self, d, timeout=15):
        """Starts d expecting it to exit by itself; returns (rc, log)."""
        d.spawn()
        try:
            rc = d.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail("the daemon kept running:\n" + d.log_tail())
        d._forget()
        d.check_sanitizer()
        return rc, d.log_text()

    def test_first_start_without_password_refuses(self):
        d = self.new_daemon(env_password=None)
        rc, log = self.run_to_exit(d)
        self.assertNotEqual(rc, 0)
        self.assertIn("PARCELDESK_ADMIN_PASSWORD", log)
        self.assertIn("--admin-password-file", log)
        # and it never listened
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", d.port), timeout=1).close()

    def test_first_start_with_a_too_short_password_refuses(self):
        d = self.new_daemon(env_password="short")
        rc, log = self.run_to_exit(d)
        self.assertNotEqual(rc, 0)
        self.assertIn("at least 8 bytes", log)

    def test_admin_password_file(self):
        d = self.new_daemon(env_password=None)
        pwfile = os.path.join(d.workdir, "admin.pw")
        with open(pwfile, "w") as f:
            f.write("from-a-file-123\n")
        d.password_file = pwfile
        d.start()
        with d.text() as c:
            self.assertReply(c.cmd(line("AUTH", "admin", "from-a-file-123")), 200, "welcome admin")
        d.stop()
        # a missing file is refused on a fresh store
        d2 = self.new_daemon(env_password=None)
        d2.password_file = os.path.join(d2.workdir, "nope.pw")
        rc, log = self.run_to_exit(d2)
        self.assertNotEqual(rc, 0)
        self.assertIn("cannot read", log)

    def test_restart_needs_no_password_and_ignores_a_new_one(self):
        d = self.new_daemon()
        d.start()
        d.stop()
        d.env_password = None
        d.start()
        with d.text() as c:
            self.assertReply(c.cmd(line("AUTH", "admin", ADMIN_PASSWORD)), 200)
        d.stop()
        d.env_password = "another-password-9"
        d.start()
        with d.text() as c:
            self.assertReply(c.cmd(line("AUTH", "admin", "another-password-9")), 401)
            self.assertReply(c.cmd(line("AUTH", "admin", ADMIN_PASSWORD)), 200)
        d.stop()

    def test_bad_options_refused(self):
        for extra, words in [
            (("--frobnicate", "1"), "unknown option 'frobnicate'"),
            (("--max-line-bytes", "10"), "option 'max_line_bytes' must be an integer from 256 to"),
            (("--max-connections", "many"), "option 'max_connections' must be an integer"),
            (("--idle-timeout-secs",), "--idle-timeout-secs needs a value"),
            (("--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
            (("stray",), "unexpected argument 'stray'"),
            (("--complaint-category-resolve-business-minutes", "lost:10"), "'lost' is not category:minutes"),
            (("--complaint-category-resolve-business-minutes", "loss:0"), "'loss' is not category:minutes"),
            (("--complaint-category-resolve-business-minutes", "loss"), "'loss' is not category:minutes"),
            # replication options are checked before the store is opened
            (("--role", "leader"), "role must be primary, standby or replica, got 'leader'"),
            (("--nats", "nats://127.0.0.1:4222"), "nats is set but no role: give --role"),
            (("--role", "standby"), "role standby needs --nats URL[,URL...]"),
            (("--role", "primary", "--nats", "127.0.0.1:4222"), "nats must be up to 16 URLs"),
            (("--role", "primary", "--nats", "nats://127.0.0.1:70000"), "nats must be up to 16 URLs"),
            (("--role", "primary", "--nats", "nats://a:4222,,nats://b:4222"), "nats must be up to 16 URLs"),
            (("--role", "primary", "--nats", "http://a:4222"), "nats must be up to 16 URLs"),
            (("--role", "primary", "--nats", ",".join(["nats://a:4222"] * 17)), "nats must be up to 16 URLs"),
            (("--role", "replica", "--nats", "nats://a:4222", "--repl-ack", "all"),
             "repl_ack must be local or quorum, got 'all'"),
            (("--role", "replica", "--nats", "nats://a:4222", "--nats-password-file", "/nonexistent/pw"),
             "cannot open nats_password_file /nonexistent/pw"),
            (("--role", "replica", "--nats", "tls://a:4222", "--nats-ca", "/nonexistent/ca.pem"),
             "cannot read nats_ca /nonexistent/ca.pem"),
        ]:
            with self.subTest(extra=extra):
                d = self.new_daemon(*extra)
                rc, log = self.run_to_exit(d)
                self.assertEqual(rc, 2, log)  # a usage error
                self.assertIn(words, log)
                # refused before the store was made
                self.assertFalse(os.path.exists(os.path.join(d.data_dir, "data.mdb")))

    def test_rules_that_cannot_work_are_refused_at_start(self):
        """Each module builds its rules from the options once at start and
        refuses figures that are each in range but cannot work together."""
        for extra, words in [
            (("--tier-medium-fen", "6000000"), "customer options: tier thresholds must rise"),
            (("--authority-handler-fen", "2000000"), "complaint options: authority_limit_fen must not fall"),
            (("--complaint-acknowledge-secs", "800000", "--complaint-resolve-secs", "700000"),
             "complaint options: acknowledge_secs exceeds resolve_secs"),
            (("--query-percent-customised", "80"),
             "query options: service_level_percent must not grow from basic to customised"),
        ]:
            with self.subTest(extra=extra):
                d = self.new_daemon(*extra)
                rc, log = self.run_to_exit(d)
                self.assertEqual(rc, 2)
                self.assertIn(words, log)

    def test_config_file_and_command_line(self):
        d = self.new_daemon("--max-frame-bytes", "8192")
        conf = os.path.join(d.workdir, "parceldeskd.conf")
        with open(conf, "w") as f:
            f.write("# test config\n"
                    "max_line_bytes = 2048   # bytes\n"
                    "\n"
                    "max_frame_bytes = 4096\n"
                    "recall_fee_fen=300\n")
        d.extra += ["--config", conf]
        d.start()
        with d.text("admin") as c:
            s = c.cmd("STATS").rec
        self.assertEqual(s["config.max_line_bytes"], "2048")
        self.assertEqual(s["config.recall_fee_fen"], "300")
        self.assertEqual(s["config.max_frame_bytes"], "8192")   # the command line wins
        d.stop()
        with open(conf, "a") as f:
            f.write("this is not an option line\n")
        rc, log = self.run_to_exit(d)
        self.assertNotEqual(rc, 0)
        self.assertIn("expected 'key = value'", log)

    def test_clock_set_needs_the_test_clock_flag(self):
        d = self.new_daemon(test_clock=False)
        d.start()
        with d.text("admin") as c:
            self.assertReply(c.cmd("CLOCK SET 2026-01-01T00:00:00+08:00"), 403,
                             "the clock is set only when the daemon runs with --enable-test-clock")
            self.assertEqual(c.cmd("STATS")["config.enable_test_clock"], "no")
            now = int(c.cmd("CLOCK GET")["utc_secs"])
            self.assertLess(abs(now - time.time()), 60)
        d.stop()

    def test_sigterm_with_idle_and_busy_connections(self):
        d = self.new_daemon("--max-output-bytes", 4096)
        d.start()
        idle = TextClient(d.port)
        partial = TextClient(d.port)
        partial.send_raw(b"WAYBILL GET 1234")          # half a line
        hog = TextClient(d.port)
        hog.send_raw(b"HELP WAYBILL\r\n" * 200)        # replies it never reads
        authed = d.text("admin")
        time.sleep(0.3)
        t = time.time()
        rc = d.stop(timeout=10)
        self.assertEqual(rc, 0)
        self.assertLess(time.time() - t, 5)
        for c in (idle, partial, hog, authed):
            c.close()

    def test_sigint_stops_cleanly_too(self):
        d = self.new_daemon()
        d.start()
        d.proc.send_signal(signal.SIGINT)
        self.assertEqual(d.proc.wait(10), 0)
        d._forget()
        d.check_sanitizer()
        self.assertIn("stopped", d.log_text())

    def test_help_flag(self):
        out = subprocess.run([settings.daemon, "--help"], capture_output=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertIn(b"usage: parceldeskd", out.stdout)


if __name__ == "__main__":
    unittest.main()


class LostPortRace(DaemonTestCase):
    """The harness itself: a stranger that took the daemon's port between
    free_port() and the bind answers PING too. The start must not count it
    as the daemon's (round 18: a test talked to another test's daemon and
    read its records), but start again on another port."""
    create_users = False
    start_daemon = False

    def test_a_stranger_answering_on_the_port_is_not_the_daemon(self):
        import threading
        import harness
        stranger = socket.socket()
        stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        taken = stranger.getsockname()[1]
        stop = threading.Event()

        def answer():
            stranger.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = stranger.accept()
                except OSError:
                    continue
                with c:
                    try:
                        c.recv(100)
                        c.sendall(b"200 PONG\r\n.\r\n")
                    except OSError:
                        pass
        t = threading.Thread(target=answer, daemon=True)
        t.start()
        self.addCleanup(stranger.close)
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        ports = iter([taken])
        real = harness.free_port
        harness.free_port = lambda: next(ports, None) or real()
        try:
            d = self.new_daemon()
            d.start()
        finally:
            harness.free_port = real
        self.assertNotEqual(d.port, taken)
        self.assertEqual(d.starts, 2)
        self.assertTrue(d.owns_port())
        with d.text() as c:
            self.assertReply(c.cmd("PING"), 200)


class ReadmeExamples(unittest.TestCase):
    """The waybill numbers the README and the client's man page read
    (`waybill get N`, `WAYBILL GET N`, `waybill=N`) are in the sample data
    contrib/start.sh loads: the generator run as contrib/sample-data.sh
    runs it."""

    def test_example_numbers_are_in_the_sample_data(self):
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        gen = os.path.join(os.path.dirname(settings.daemon), "contrib", "gen")
        if not os.access(gen, os.X_OK):
            self.skipTest("no generator at %s" % gen)
        script = open(os.path.join(repo, "contrib", "sample-data.sh")).read()
        m = re.search(r'^\s*"\$gen" (.*?)\|', script, re.S | re.M)
        args = m.group(1).replace("\\\n", " ").replace('"$start"', "2026-03-02").split()
        out = subprocess.run([gen] + args, capture_output=True, text=True, timeout=60, check=True).stdout
        numbers = set(re.findall(r"^WAYBILL CREATE (\d+) ", out, re.M))
        self.assertGreaterEqual(len(numbers), 100)
        shown = set()
        for doc in ("README.md", "man/parceldesk.1"):
            text = open(os.path.join(repo, doc)).read()
            for get, named in re.findall(r"(?i)waybill get (\d+)|waybill=(\d+)", text):
                shown.add(get or named)
        self.assertTrue(shown)
        self.assertEqual(sorted(shown - numbers), [], "examples not in the sample data")
