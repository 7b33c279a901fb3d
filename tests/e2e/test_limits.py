"""Connection limits, the idle timeout and back-pressure."""
import os
import select
import socket
import sys
import threading
import time
import unittest

from harness import DaemonTestCase, TextClient, msgpack


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
            # a fresh connection each time: an idle one would be closed too,
            # and so may this one, should this process be kept from sending
            # its STATS for the idle second after the login's reply (seen
            # on a machine loaded by two test suites): then look again
            try:
                with self.daemon.text("admin") as admin:
                    current = int(admin.cmd("STATS")["connections_current"])
            except (AssertionError, OSError, EOFError):
                continue
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
        reply_one = admin.cmd("HELP")
        n = 2000
        # each request is 6 bytes, its reply (the command list) ~13 KiB:
        # ~26 MiB if all were rendered
        reqs = ["HELP" if i % 100 else "HELP PING" for i in range(n)]
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
                    self.assertTrue(head.startswith(expect_help + b"\r\nPING "),
                                    "reply %d: %r" % (replies, head))
                else:
                    self.assertTrue(head.startswith(b"200 1 command\r\nPING  (read, role none): "),
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



def _status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(key + ":"):
                return int(ln.split()[1])
    return 0


class MemoryBudget(DaemonTestCase):
    """Issue 12 item 1: a connection that never reads its replies makes the
    daemon hold at most its budget (max_output_bytes_before_login before
    AUTH), reading stops there, and the memory goes back once it closes."""
    create_users = False
    start_daemon = False
    CONNS = 200

    def test_non_reading_clients_stay_within_budget_and_memory_falls_back(self):
        d = self.new_daemon("--max-connections-per-address", self.CONNS + 10)
        # the sanitizer build's allocator keeps freed memory in quarantine
        # (256 MiB) and returns pages only now and then: ask it not to, so
        # what is measured is what the daemon holds
        env = d.env()
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":quarantine_size_mb=0:allocator_release_to_os_interval_ms=100").lstrip(":")
        d.env = lambda: env
        d.start()
        admin = self.text("admin", daemon=d)
        admin.send("HELP")
        help_bytes = len(admin.read_exact_reply_bytes())
        base_kb = d.rss_kb()
        payload = b"HELP\r\n" * 20000    # ~100 MiB of replies per client if all were made
        socks = []
        for _ in range(self.CONNS):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", d.port))
            s.setblocking(False)
            socks.append([s, 0])
        self.addCleanup(lambda: [x[0].close() for x in socks])
        deadline = time.time() + 4
        while time.time() < deadline:
            for e in socks:
                try:
                    if e[1] < len(payload):
                        e[1] += e[0].send(payload[e[1]:e[1] + 65536])
                except (BlockingIOError, InterruptedError):
                    pass
            time.sleep(0.02)
        peak_kb = d.rss_kb()
        # every client stopped being read near its budget: the daemon made
        # ~64 KiB of replies each, not the 180 MiB asked for
        helps = int(self.stats(admin).get("cmd.HELP", 0)) - 1
        per_conn_kb = helps * help_bytes / self.CONNS / 1024.0
        # the budget (64 KiB) plus what the kernel's socket buffers took
        # (~0.5 MiB on loopback); before the budget it was 4 MiB and more
        self.assertLess(per_conn_kb, 2048, "%.0f KiB of replies made per client that reads nothing" % per_conn_kb)
        grew_mb = (peak_kb - base_kb) / 1024.0
        # 200 x (64 KiB of replies + one request's input + bookkeeping):
        # ~40 MiB; before the budget the same load took 4 MiB a client
        self.assertLess(grew_mb, 120, "200 non-reading clients grew the daemon by %.0f MiB" % grew_mb)
        for e in socks:
            e[0].close()
        deadline = time.time() + 10
        while int(self.stats(admin)["connections_current"]) > 1:
            self.assertLess(time.time(), deadline, "closed clients still counted")
            time.sleep(0.1)
        with open("/proc/%d/maps" % d.proc.pid) as f:
            asan = "libasan" in f.read()
        # each loop gives its memory back a second after its last close:
        # wait for that (a loaded machine may delay it), to a deadline.
        # What stays is ~0.5 MiB; a loop that kept its arena's free top
        # (round 14) kept 7-14 MiB
        bound = max((peak_kb - base_kb) / 8, 4096)
        deadline = time.time() + 10
        after_kb = d.rss_kb()
        while not asan and after_kb - base_kb >= bound and time.time() < deadline:
            time.sleep(0.1)
            after_kb = d.rss_kb()
        sys.stderr.write("[memory] rss %d KiB at start, %d KiB with %d non-reading clients, %d KiB after\n"
                         % (base_kb, peak_kb, self.CONNS, after_kb))
        if asan:
            # AddressSanitizer's allocator and shadow keep freed pages;
            # the fall-back is measured on the plain build (make; run
            # this file with --daemon build/parceldeskd)
            return
        self.assertLess(after_kb - base_kb, bound,
                        "the memory of closed connections is not given back: %d KiB at start, %d KiB "
                        "at the peak, %d KiB 10 s after" % (base_kb, peak_kb, after_kb))
        self.assertReply(admin.cmd("PING"), 200)


class TrimUnderTrickle(DaemonTestCase):
    """A loop trims its heap a second after its last close, but no later
    than 10 s after the first close since its last trim (conn.c,
    conn_free()): closes that never stop, each under a second after the
    one before, still get a trim within ~10 s, and none in the first
    seconds. STATS counts the trims (heap_trims), in both builds (the
    sanitizers' allocator hides what a trim gives back)."""
    # one loop takes every close: with more, each loop's share of the
    # closes could come a second apart and trim without the bound
    daemon_args = ("--loop-threads", 1)
    create_users = False
    STEP = 0.25      # between closes
    LATE = 18        # 10 s, and room for a loaded machine

    def test_closes_never_a_second_apart_get_a_trim_within_10_s(self):
        admin = self.text("admin")

        def trims():
            return int(self.stats(admin)["heap_trims"])

        def connected():
            c = TextClient(self.daemon.port)
            self.addCleanup(c.close)
            self.assertReply(c.cmd("PING"), 200)
            return c

        # no trim pending at the start: the count has not moved for 2 s
        # (the start's own closes, if any, trimmed a second after)
        seen, since = trims(), time.monotonic()
        deadline = since + 10
        while time.monotonic() - since < 2:
            self.assertLess(time.monotonic(), deadline, "heap_trims still moving with nothing closing")
            time.sleep(0.1)
            now = trims()
            if now != seen:
                seen, since = now, time.monotonic()
        pool = [connected() for _ in range(3)]
        first = last = None
        max_gap = 0.0
        while True:
            pool.append(connected())
            pool.pop(0).close()
            t = time.monotonic()
            if first is None:
                first = t
            else:
                max_gap = max(max_gap, t - last)
            last = t
            if trims() > seen:
                break
            self.assertLess(t - first, self.LATE,
                            "no heap trim in %.1f s of closes at most %.2f s apart (heap_trims %d)"
                            % (t - first, max_gap, seen))
            time.sleep(max(0.0, last + self.STEP - time.monotonic()))
        took = time.monotonic() - first
        sys.stderr.write("[trim] first heap trim %.1f s into closes at most %.2f s apart\n" % (took, max_gap))
        # a second's pause lets the trim come sooner; without one, a trim
        # in the first seconds means one per close or per second again
        if max_gap < 0.9:
            self.assertGreater(took, 5, "a heap trim %.1f s into closes at most %.2f s apart" % (took, max_gap))



def read_all(s, timeout=10, line=False):
    """Everything until the daemon closes (or the timeout); with line, one
    line at most."""
    s.settimeout(timeout)
    data = b""
    try:
        while not (line and data.endswith(b"\n")):
            chunk = s.recv(1 if line else 4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def connect_from(port, source):
    """A connection to the daemon from a given loopback source address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


class PerAddressLimit(DaemonTestCase):
    """Issue 12 item 2: one address cannot take every connection."""
    daemon_args = ("--max-connections-per-address", 3)
    create_users = False

    def test_an_address_over_its_limit_gets_429_while_another_gets_in(self):
        held = [connect_from(self.daemon.port, "127.0.0.2") for _ in range(3)]
        self.addCleanup(lambda: [x.close() for x in held])
        for s in held:
            s.sendall(b"PING\r\n")
            self.assertEqual(s.recv(100), b"200 PONG\r\n.\r\n")
        over = connect_from(self.daemon.port, "127.0.0.2")
        self.addCleanup(over.close)
        self.assertEqual(read_all(over), b"429 too many connections from this address\r\n")
        other = connect_from(self.daemon.port, "127.0.0.1")
        self.addCleanup(other.close)
        other.sendall(b"PING\r\n")
        self.assertEqual(other.recv(100), b"200 PONG\r\n.\r\n")
        # a freed slot of that address is served again
        held.pop().close()
        deadline = time.time() + 10
        while True:
            again = connect_from(self.daemon.port, "127.0.0.2")
            again.sendall(b"PING\r\n")
            got = again.recv(100)
            again.close()
            if got == b"200 PONG\r\n.\r\n":
                break
            self.assertLess(time.time(), deadline, "the address's freed slot is never reused")
            time.sleep(0.1)
        r = self.stats(self.text("admin"))
        self.assertEqual(r["config.max_connections_per_address"], "3")
        self.assertGreaterEqual(int(r["connections_rejected"]), 1)


class LimitsAcrossLoops(DaemonTestCase):
    """Issue 13: with several loop threads, connections are spread over
    them, and the connection limits (total and per address) stay exact:
    counted where connections are accepted, given back by whichever loop
    served the one that closed."""
    daemon_args = ("--loop-threads", 3, "--max-connections", 12,
                   "--max-connections-per-address", 5)
    create_users = False

    def served(self, socks):
        """How many of the sockets are served (PING answered), and the
        refusals the others read. A refusal comes at accept, before any
        request; a served connection sends nothing until asked."""
        refused, quiet_since = set(), time.time()
        deadline = time.time() + 20
        while time.time() - quiet_since < 1.0 and time.time() < deadline:
            readable, _, _ = select.select(socks, [], [], 0.2)
            if set(readable) - refused:
                refused |= set(readable)
                quiet_since = time.time()
        refusals = [read_all(s, line=True) for s in socks if s in refused]
        served = [s for s in socks if s not in refused]
        for s in served:
            s.sendall(b"PING\r\n")
            self.assertEqual(read_all(s, line=True), b"200 PONG\r\n")
        return served, refusals

    def test_limits_hold_exactly_over_three_loops(self):
        admin = self.text("admin")
        self.assertReply(admin.cmd("PING"), 200)
        self.assertEqual(self.stats(admin)["config.loop_threads"], "3")
        opened = []
        self.addCleanup(lambda: [x.close() for x in opened])
        # 8 at once from one address: 5 are served, on all three loops
        first = [connect_from(self.daemon.port, "127.0.0.2") for _ in range(8)]
        opened += first
        served, refusals = self.served(first)
        self.assertEqual(len(served), 5)
        self.assertEqual(refusals, [b"429 too many connections from this address\r\n"] * 3)
        # another address: 5 more (the admin's, 5 and 5 is 11 of 12), then
        # the total refuses
        second = [connect_from(self.daemon.port, "127.0.0.3") for _ in range(5)]
        opened += second
        served_second, refusals = self.served(second)
        self.assertEqual(len(served_second), 5)
        self.assertEqual(refusals, [])
        third = [connect_from(self.daemon.port, "127.0.0.4") for _ in range(3)]
        opened += third
        served_third, refusals = self.served(third)
        self.assertEqual(len(served_third), 1)
        self.assertEqual(refusals, [b"429 too many connections\r\n"] * 2)
        r = self.stats(admin)
        self.assertEqual(r["connections_current"], "12")
        self.assertEqual(r["connections_rejected"], "5")
        self.assertEqual(r["errors.429"], "5")
        # each closed connection's place comes back, whichever loop had it
        for s in served:
            s.close()
        deadline = time.time() + 10
        while int(self.stats(admin)["connections_current"]) > 7:
            self.assertLess(time.time(), deadline, "closed connections are still counted")
            time.sleep(0.05)
        again = [connect_from(self.daemon.port, "127.0.0.2") for _ in range(6)]
        opened += again
        served, refusals = self.served(again)
        self.assertEqual(len(served), 5)
        self.assertEqual(refusals, [b"429 too many connections\r\n"])
        self.assertEqual(self.stats(admin)["connections_current"], "12")


class Deadlines(DaemonTestCase):
    """Issue 12 item 2: a stranger is closed when it has not logged in in
    time, however busy; a request started must be completed in time."""
    daemon_args = ("--login-timeout-secs", 2, "--request-timeout-secs", 2)
    create_users = False

    def test_a_connection_not_logged_in_is_closed_after_its_timeout(self):
        c = self.text()
        t = time.time()
        closed = False
        while time.time() - t < 8:
            try:
                c.send("PING")
                r = c.read_reply()
            except (EOFError, OSError, AssertionError):
                closed = True
                break
            if r.code == 408:
                self.assertEqual(r.msg, "not logged in within 2 s")
                self.assertTrue(c.at_eof(5))
                closed = True
                break
            self.assertEqual(r.code, 200)
            time.sleep(0.2)
        elapsed = time.time() - t
        self.assertTrue(closed, "a busy connection that never logged in is still open after 8 s")
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 6)

    def test_a_logged_in_connection_stays(self):
        c = self.text("admin")
        time.sleep(3)
        self.assertReply(c.cmd("PING"), 200)

    def test_a_trickled_request_gets_408_and_is_closed(self):
        import select
        c = self.text("admin")
        t = time.time()
        c.send_raw(b"PI")
        got = b""
        for ch in b"NG PING PING PING PING PING PING PING":
            if select.select([c.sock], [], [], 0.5)[0]:
                break   # the daemon spoke: stop sending into a closing socket
            c.sock.sendall(bytes([ch]))
        self.assertLess(time.time() - t, 6)
        c.sock.settimeout(5)
        while True:
            # a byte sent just as the daemon closed is read and dropped
            # while it lingers (conn.c): the reply, then a clean end
            chunk = c.sock.recv(4096)
            if not chunk:
                break
            got += chunk
        self.assertEqual(got, b"408 request not completed within 2 s\r\n")

    def test_a_trickled_msgpack_frame_gets_a_msgpack_408(self):
        m = self.mp("admin")
        frame = m.pack(["PING"] + ["x" * 10] * 5)
        m.send_raw(frame[:3])
        m.sock.settimeout(6)
        for b in frame[3:6]:
            time.sleep(0.5)
            m.send_raw(bytes([b]))
        self.assertEqual(m.recv(), {"code": 408, "msg": "request not completed within 2 s", "data": None})

    def test_a_steady_pipeline_is_not_a_trickle(self):
        c = self.text("admin")
        t = time.time()
        n = 0
        while time.time() - t < 3:
            c.send_raw(b"PING\r\nPING\r\n")
            for _ in range(2):
                self.assertReply(c.read_reply(), 200)
            n += 2
        self.assertGreater(n, 10)

    def test_an_oversized_line_skipped_slowly_still_times_out(self):
        import select
        c = self.text("admin")
        c.send_raw(b"x" * 20000)   # over max_line_bytes: 413, then skipped to its LF
        r = c.read_reply()
        self.assertEqual(r.code, 413)
        t = time.time()
        while time.time() - t < 8:
            if select.select([c.sock], [], [], 0.3)[0]:
                break
            c.sock.sendall(b"y")
        c.sock.settimeout(5)
        self.assertEqual(c.sock.recv(4096), b"408 request not completed within 2 s\r\n")


class AdminSocket(DaemonTestCase):
    """Issue 12 item 2: with every TCP slot taken, an administrator still
    gets in through the local admin socket."""
    create_users = False
    start_daemon = False

    def test_admin_gets_in_when_tcp_is_full(self):
        import os
        import stat as st
        d = self.new_daemon("--max-connections", 2, "--login-timeout-secs", 1)
        path = os.path.join(d.workdir, "admin.sock")
        d.extra += ["--admin-socket", path]
        d.start()
        self.assertEqual(st.S_IMODE(os.stat(path).st_mode) & 0o077, 0, "admin socket open to others")
        a, b = self.text("admin", daemon=d), self.text("admin", daemon=d)
        self.assertReply(a.cmd("PING"), 200)
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        self.addCleanup(s.close)
        self.assertEqual(read_all(s), b"429 too many connections\r\n")
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(u.close)
        u.settimeout(10)
        u.connect(path)
        time.sleep(1.5)   # longer than the login timeout: not applied here
        f = u.makefile("rb")
        from harness import ADMIN_PASSWORD
        u.sendall(("AUTH admin %s\r\nSTATS\r\n" % ADMIN_PASSWORD).encode())
        self.assertTrue(f.readline().startswith(b"200 welcome admin"))
        while f.readline() != b".\r\n":
            pass
        self.assertEqual(f.readline(), b"200 ok\r\n")
        body = []
        while True:
            ln = f.readline()
            if ln == b".\r\n":
                break
            body.append(ln)
        self.assertIn(b"config.admin_socket: " + path.encode() + b"\r\n", body)
        d.stop()
        self.assertFalse(os.path.exists(path), "the admin socket is left behind")


class AdminSocketLockout(DaemonTestCase):
    """Strangers failing AUTH on the network lock the name out of the
    network, never out of the admin socket (a red-team run locked the only
    admin out of both, round 18): the admin logs in on the socket and lifts
    the lock."""
    create_users = False
    start_daemon = False

    def test_a_locked_admin_still_gets_in_on_the_admin_socket(self):
        import os
        from harness import ADMIN_PASSWORD
        d = self.new_daemon("--login-free-failures", 10, "--login-lockout-failures", 3,
                            "--login-lockout-secs", 0)
        path = os.path.join(d.workdir, "admin.sock")
        d.extra += ["--admin-socket", path]
        d.start()
        with self.text(daemon=d) as t:
            for _ in range(3):
                self.assertReply(t.cmd("AUTH", "admin", "not-the-password"), 401)
            self.assertReply(t.cmd("AUTH", "admin", ADMIN_PASSWORD), 429,
                             "user admin is locked after 3 failed logins: an admin lifts it with USER UNLOCK")
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(u.close)
        u.settimeout(10)
        u.connect(path)
        f = u.makefile("rb")
        u.sendall(("AUTH admin %s\r\nUSER UNLOCK admin\r\n" % ADMIN_PASSWORD).encode())
        self.assertTrue(f.readline().startswith(b"200 welcome admin"))
        while f.readline() != b".\r\n":
            pass
        self.assertEqual(f.readline(), b"200 failed logins of admin forgotten\r\n")
        with self.text(daemon=d) as t:
            self.assertReply(t.cmd("AUTH", "admin", ADMIN_PASSWORD), 200)
        d.stop()


class FileLimits(DaemonTestCase):
    """Issue 12 item 3: max_connections is checked against the open-file
    limit at start, and running out of descriptors is survived."""
    create_users = False
    start_daemon = False

    def _spawn_limited(self, soft, hard, *extra):
        import resource
        import subprocess
        d = self.new_daemon(*extra)
        port = 1  # never listened on: the start is refused first
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        return subprocess.run(d.argv(port), env=d.env(), preexec_fn=limit, timeout=30,
                              stdin=subprocess.DEVNULL, capture_output=True)

    def test_start_refused_when_the_limit_cannot_hold_max_connections(self):
        r = self._spawn_limited(256, 256, "--max-connections", 1000)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"max_connections 1000 needs 1064 open files, but the limit is 256 (hard limit 256)",
                      r.stderr)

    def test_soft_limit_raised_to_fit(self):
        import resource
        d = self.new_daemon("--max-connections", 500)
        orig = d.spawn
        def spawn():
            import subprocess
            real = subprocess.Popen
            def popen(*a, **kw):
                kw["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (128, 4096))
                return real(*a, **kw)
            subprocess.Popen = popen
            try:
                return orig()
            finally:
                subprocess.Popen = real
        d.spawn = spawn
        d.start()
        soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)
        self.assertEqual((soft, hard), (564, 4096))

    def test_out_of_descriptors_backs_off_and_logs_once(self):
        import resource
        # no prefault: its pass opens /proc/self/maps for a moment; counted
        # in nfds below and closed after, it let one more client in and a
        # second running out was logged (a suite under load, round 13)
        d = self.new_daemon("--max-connections", 100, "--store-prefault", "no")
        d.start()
        admin = self.text("admin", daemon=d)
        nfds = len(os.listdir("/proc/%d/fd" % d.proc.pid))
        soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (nfds + 3, hard))
        held, turned_away = [], 0
        for _ in range(12):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            held.append(s)
        self.addCleanup(lambda: [x.close() for x in held])
        served = 0
        for s in held:
            s.sendall(b"PING\r\n")
            s.settimeout(5)
            try:
                got = s.recv(100)
            except (ConnectionResetError, socket.timeout):
                got = b"?"
            if got == b"200 PONG\r\n.\r\n":
                served += 1
            else:
                self.assertEqual(got, b"503 out of descriptors, try again later\r\n")
                turned_away += 1
        self.assertGreater(turned_away, 0)
        self.assertGreater(served, 0)
        # no busy loop: the daemon is nearly idle while clients keep coming
        def cpu():
            with open("/proc/%d/stat" % d.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        c0, t0 = cpu(), time.time()
        extra = []
        while time.time() - t0 < 2:
            try:
                extra.append(socket.create_connection(("127.0.0.1", d.port), timeout=2))
            except OSError:
                pass
            time.sleep(0.05)
        used = (cpu() - c0) / (time.time() - t0)
        self.assertLess(used, 0.5, "the daemon used %.0f %% CPU while out of descriptors" % (used * 100))
        # the limit first: closing first let the daemon take the waiting
        # clients faster than its loops closed the others' descriptors, a
        # second (real, and logged) running out
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
        for x in extra + held:
            x.close()
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(100) == b"200 PONG\r\n.\r\n":
                        break
            except OSError:
                pass
            self.assertLess(time.time(), deadline, "never accepts again")
            time.sleep(0.2)
        self.assertReply(admin.cmd("PING"), 200)
        log = d.log_text()
        self.assertEqual(log.count("out of descriptors ("), 1, "logged more than once")
        self.assertIn("descriptors free again: accepting", log)



def cpu_secs(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TrickledFrame(DaemonTestCase):
    """Issue 12 item 7: a msgpack frame arriving in small pieces is framed
    incrementally and decoded once, not decoded from its start on every
    read."""
    create_users = False

    def test_a_frame_in_6000_pieces_costs_little_cpu(self):
        import socket as so
        m = self.mp()
        m.sock.setsockopt(so.IPPROTO_TCP, so.TCP_NODELAY, 1)
        frame = m.pack(["PING", {"k%04d" % i: "v" * 16 for i in range(2600)}])
        self.assertGreater(len(frame), 55000)
        pid = self.daemon.proc.pid
        before = cpu_secs(pid)
        step = len(frame) // 6000 + 1
        for i in range(0, len(frame), step):
            m.send_raw(frame[i:i + step])
            time.sleep(0.0005)   # let the daemon read the pieces one by one
        r = m.recv()
        used = cpu_secs(pid) - before
        sys.stderr.write("[trickle] %.2f s of daemon CPU for %d pieces\n" % (used, len(frame) // step))
        self.assertEqual(r["code"], 400)   # 2600 named arguments: too many, but framed right
        # decoding the growing frame on every read took ~1.4 s (plain
        # build; more under the sanitizers); framing it incrementally ~0.2 s
        self.assertLess(used, 0.7, "the daemon used %.2f s of CPU for one trickled frame" % used)
        self.assertEqual(m.call("PING")["msg"], "PONG")


def received_unread(port):
    """The daemon's established connections on a loopback port, and the
    bytes waiting in their receive queues (/proc/net/tcp)."""
    conns = unread = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for ln in f:
            fields = ln.split()
            if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
                conns += 1
                unread += int(fields[4].split(":")[1], 16)
    return conns, unread


class PartialFrameMemory(DaemonTestCase):
    """A msgpack frame cut short is read at once when its first bytes come
    (round 8); what that read built must not be kept while the rest of the
    frame is awaited: a frame whose first word is of the wrong type was
    decoded into a tree (about 64 bytes an input byte) and held until the
    frame ended or its deadline passed."""
    create_users = False
    start_daemon = False
    CONNS = 40

    def test_frames_cut_short_do_not_pin_their_decoding(self):
        if msgpack is None:
            self.skipTest("python3-msgpack is not installed")
        d = self.new_daemon()
        # what is measured is what the daemon holds, not the sanitizer
        # build's quarantine of freed memory (as MemoryBudget above)
        env = d.env()
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0").lstrip(":")
        d.env = lambda: env
        d.start()
        admin = self.text("admin", daemon=d)
        self.assertEqual(admin.cmd("PING").status_line, "200 PONG")
        # array32 of 32,768 items, the first a bool (not a word), then 0s
        count = 32768
        head = b"\xdd" + count.to_bytes(4, "big") + b"\xc3"
        part = head + b"\x00" * (16000 - len(head))
        rss_before = d.rss_kb()
        socks = []
        for _ in range(self.CONNS):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            self.addCleanup(s.close)
            s.sendall(part)
            socks.append(s)
        # every partial frame has been read (the daemon's side of each
        # connection has nothing queued), and the daemon still answers
        deadline = time.time() + 10
        while True:
            conns, unread = received_unread(d.port)
            if conns >= self.CONNS and unread == 0:
                break
            self.assertLess(time.time(), deadline, "%d bytes of %d connections still unread" % (unread, conns))
            time.sleep(0.05)
        self.assertEqual(admin.cmd("PING").status_line, "200 PONG")
        grow_mb = (d.rss_kb() - rss_before) / 1024.0
        sys.stderr.write("[partial frames] the daemon grew %.1f MiB for %d frames cut short\n"
                         % (grow_mb, self.CONNS))
        # 40 x 16,000 bytes of input are 0.6 MiB; their trees were 40 MiB
        self.assertLess(grow_mb, 12, "the daemon grew %.1f MiB for %d frames of 16,000 bytes cut short"
                        % (grow_mb, self.CONNS))
        # the rest of a frame completes it: refused for its first word, the
        # connection closed (no way to find the next frame)
        s = socks[0]
        s.sendall(b"\x00" * (5 + count - len(part)))
        unpacker = msgpack.Unpacker(raw=False)
        reply = None
        while reply is None:
            chunk = s.recv(4096)
            self.assertTrue(chunk, "closed without a reply")
            unpacker.feed(chunk)
            for reply in unpacker:
                break
        self.assertEqual(reply["code"], 400, reply)


if __name__ == "__main__":
    unittest.main()
