"""Connection limits, the idle timeout and back-pressure."""
import socket
import threading
import time
import unittest

from harness import DaemonTestCase, TextClient


class MaxConnections(DaemonTestCase):
    daemon_args = ("--max-connections", 3)
    create_users = False

    def test_fourth_connection_gets_429(self):
        a = self.text("admin")
        b = self.text()
        c = self.text()
        for x in (a, b, c):
            self.assertReply(x.cmd("PING"), 200)
        s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10)
        self.addCleanup(s.close)
        data = b""
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        self.assertEqual(data, b"429 too many connections\r\n")
        r = self.stats(a)
        self.assertGreaterEqual(int(r["connections_rejected"]), 1)
        self.assertGreaterEqual(int(r["errors.429"]), 1)
        self.assertEqual(r["connections_current"], "3")
        self.assertEqual(r["config.max_connections"], "3")
        # the three still work; once one leaves, a new one is served
        self.assertReply(b.cmd("PING"), 200)
        c.close()
        deadline = time.time() + 10
        while True:
            with TextClient(self.daemon.port) as d:
                d.send("PING")
                try:
                    r = d.read_reply()
                    if r.code == 200:
                        break
                except (EOFError, AssertionError, ConnectionResetError):
                    pass
            self.assertLess(time.time(), deadline, "a freed slot is never reused")
            time.sleep(0.1)


class IdleTimeout(DaemonTestCase):
    daemon_args = ("--idle-timeout-secs", 1, "--max-output-bytes", 4096)
    create_users = False

    def test_idle_connection_is_closed(self):
        c = self.text()
        self.assertReply(c.cmd("PING"), 200)
        t = time.time()
        self.assertTrue(c.at_eof(6), "an idle connection stays open past idle_timeout_secs")
        elapsed = time.time() - t
        self.assertGreater(elapsed, 0.5)
        self.assertLess(elapsed, 5)

    def test_a_connection_that_never_sends_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=6)
        self.addCleanup(s.close)
        t = time.time()
        self.assertEqual(s.recv(100), b"")
        self.assertLess(time.time() - t, 5)

    def test_idle_timeout_also_closes_a_client_that_stopped_reading(self):
        """A client that sends a burst, then neither reads nor sends, is idle
        like any other: back-pressure (reading paused) must not shield it
        from idle_timeout_secs, or it pins its buffers and a connection slot
        for ever."""
        hog = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10)
        self.addCleanup(hog.close)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.sendall(b"HELP WAYBILL\r\n" * 500)
        deadline = time.time() + 8
        current = None
        while time.time() < deadline:
            time.sleep(0.5)
            # a fresh connection each time: an idle one would be closed too
            with self.daemon.text("admin") as admin:
                current = int(admin.cmd("STATS")["connections_current"])
            if current == 1:         # only this STATS connection is left
                break
        self.assertEqual(current, 1, "a connection that has sent nothing for 8 s (idle_timeout_secs 1) is "
                                     "still open because the daemon stopped reading it")

    def test_active_connection_stays(self):
        c = self.text()
        for _ in range(8):
            self.assertReply(c.cmd("PING"), 200)
            time.sleep(0.3)
        self.assertReply(c.cmd("PING"), 200)


class BackPressure(DaemonTestCase):
    MAX_OUTPUT = 65536
    daemon_args = ("--max-output-bytes", MAX_OUTPUT)
    create_users = False

    def test_unread_replies_do_not_grow_the_daemon(self):
        admin = self.text("admin")
        reply_one = admin.cmd("HELP WAYBILL")
        n = 2000
        # each request is 14 bytes, its reply ~8 KiB: ~16 MiB if all were rendered
        reqs = ["HELP WAYBILL" if i % 100 else "HELP PING" for i in range(n)]
        payload = ("\r\n".join(reqs) + "\r\n").encode()
        helps_before = int(self.stats(admin).get("cmd.HELP", 0))
        rss_before = self.daemon.rss_kb()
        hog = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=30)
        self.addCleanup(hog.close)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sent = threading.Event()
        errors = []

        def send():
            try:
                hog.sendall(payload)
            except OSError as e:
                errors.append(e)
            sent.set()

        threading.Thread(target=send, daemon=True).start()
        time.sleep(1.5)
        # the daemon answers others meanwhile, and has stopped working for the hog
        t = time.time()
        r = self.stats(admin)
        self.assertLess(time.time() - t, 2.0)
        self.assertEqual(r["config.max_output_bytes"], str(self.MAX_OUTPUT))
        processed = int(r.get("cmd.HELP", 0)) - helps_before
        self.assertLess(processed, n // 2,
                        "the daemon rendered %d of %d replies for a client that reads nothing" % (processed, n))
        rss_grow_mb = (self.daemon.rss_kb() - rss_before) / 1024.0
        self.assertLess(rss_grow_mb, 60, "the daemon grew %.1f MiB for one client that does not read" % rss_grow_mb)
        # now read everything back, in order
        buf = bytearray()
        replies = 0
        pos = 0
        expect_help = reply_one.status_line.encode()
        hog.settimeout(30)
        while replies < n:
            chunk = hog.recv(1 << 20)
            self.assertTrue(chunk, "connection closed after %d replies" % replies)
            buf += chunk
            while True:
                end = buf.find(b"\r\n.\r\n", pos)
                if end < 0:
                    break
                head = bytes(buf[pos:pos + 60])
                if replies % 100:
                    self.assertTrue(head.startswith(expect_help + b"\r\ncommand: WAYBILL CREATE\r\n"),
                                    "reply %d: %r" % (replies, head))
                else:
                    self.assertTrue(head.startswith(b"200 1 commands\r\ncommand: PING\r\n"),
                                    "reply %d: %r" % (replies, head))
                replies += 1
                pos = end + 5
        self.assertEqual(replies, n)
        self.assertTrue(sent.wait(10))
        self.assertEqual(errors, [])
        self.assertEqual(len(buf) - pos, 0)
        # still a normal connection
        hog.sendall(b"PING\r\n")
        self.assertEqual(hog.recv(100), b"200 PONG\r\n.\r\n")
        r = self.stats(admin)
        self.assertEqual(int(r.get("cmd.HELP", 0)) - helps_before, n)


if __name__ == "__main__":
    unittest.main()
