"""Hostile and malformed input: every case is answered with its documented
code and message, the daemon keeps serving, and nothing is written."""
import io
import socket
import time
import unittest

import msgpack

from harness import DAY, DaemonTestCase, line, next_number, waybill_fields

MAX_LINE = 1024
MAX_FRAME = 4096


class BadInput(DaemonTestCase):
    create_users = ("op1",)
    daemon_args = ("--max-line-bytes", MAX_LINE, "--max-frame-bytes", MAX_FRAME)

    @classmethod
    def class_setup(cls):
        with cls.daemon.text("op1") as op:
            now = int(op.cmd("CLOCK GET")["utc_secs"])
            cls.number = next_number()
            r = op.cmd(line("WAYBILL", "CREATE", cls.number, **waybill_fields(now + 3 * DAY)))
            assert r.code == 201, r

    def setUp(self):
        super().setUp()
        self.admin = self.conn("admin")
        self.before = self.counts(self.admin)

    def assertNothingWritten(self):
        self.assertEqual(self.counts(self.conn("admin")), self.before)
        self.assertEqual(self.event_count(self.conn("op1"), self.number), 1)

    def test_oversized_line_413_then_still_serving(self):
        c = self.text("op1")
        big = "QUERY LOG kind=pickup waybill=%s channel=phone terminal=T asker=A answer=%s" % (
            self.number, "x" * 2000)
        r = c.cmd(big)
        self.assertReply(r, 413, "line longer than %d bytes" % MAX_LINE)
        self.assertReply(c.cmd("PING"), 200, "PONG")
        # a line of exactly the limit is fine, one byte more is not
        exact = b"PING" + b" " * (MAX_LINE - 4)
        c.send_raw(exact + b"\n")
        self.assertReply(c.read_reply(), 200, "PONG")
        c.send_raw(exact + b" \n")
        self.assertReply(c.read_reply(), 413, "line longer than %d bytes" % MAX_LINE)
        self.assertReply(c.cmd("PING"), 200, "PONG")
        self.assertNothingWritten()

    def test_line_limit_does_not_count_the_terminator(self):
        """PROTOCOL.md: a line ends in \\n, a \\r before it is dropped. A line
        of exactly max_line_bytes is accepted with either terminator."""
        c = self.text("op1")
        exact = b"PING" + b" " * (MAX_LINE - 4)
        c.send_raw(exact + b"\n")
        self.assertReply(c.read_reply(), 200, "PONG")
        c.send_raw(exact + b"\r\n")
        self.assertReply(c.read_reply(), 200, "PONG")
        self.assertNothingWritten()

    def test_oversized_line_arriving_in_pieces(self):
        c = self.text("op1")
        c.send_raw(b"QUERY LOG answer=" + b"y" * 3000)        # no newline yet
        r = c.read_reply()
        self.assertReply(r, 413, "line longer than %d bytes" % MAX_LINE)
        time.sleep(0.1)
        c.send_raw(b"z" * 5000)
        time.sleep(0.1)
        c.send_raw(b"z" * 100 + b" still the same line\r\nPING\r\n")
        # exactly one 413 for the whole line, then the next request
        self.assertReply(c.read_reply(), 200, "PONG")
        self.assertNothingWritten()

    def test_invalid_utf8(self):
        c = self.text("op1")
        raw = ("QUERY LOG kind=pickup waybill=%s channel=phone terminal=T asker=A answer=" % self.number).encode()
        c.send_raw(raw + b'"caf\xc3 bad"\r\n')
        self.assertReply(c.read_reply(), 400, "invalid UTF-8")
        c.send_raw(raw + b'"\xed\xa0\x80"\r\n')        # a surrogate
        self.assertReply(c.read_reply(), 400, "invalid UTF-8")
        c.send_raw(raw + b'"\xc0\xaf"\r\n')            # an overlong '/'
        self.assertReply(c.read_reply(), 400, "invalid UTF-8")
        c.send_raw(b"PING \xff\r\n")
        self.assertReply(c.read_reply(), 400, "invalid UTF-8")
        self.assertReply(c.cmd("PING"), 200, "PONG")
        self.assertNothingWritten()

    def test_invalid_utf8_through_an_escape(self):
        """A \\xHH escape in a quoted word must not smuggle invalid UTF-8 in
        (the msgpack rendering of the value would be an invalid str)."""
        c = self.text("op1")
        req = ("QUERY LOG kind=pickup waybill=%s channel=phone terminal=T asker=A answer=\"caf\\xc3\"" %
               self.number)
        r = c.cmd(req)
        if r.code == 201:
            # show what a msgpack client then gets
            m = self.mp("op1")
            m.send("QUERY", "GET", int(r["id"]))
            try:
                got = repr(m.recv())
            except UnicodeDecodeError as e:
                got = "a msgpack str that is not UTF-8 (%s)" % e
            self.fail("invalid UTF-8 accepted through \\xc3 (201, query %s); msgpack QUERY GET returns %s"
                      % (r["id"], got))
        self.assertReply(r, 400, msg_re=r"^invalid UTF-8")
        # a valid escaped sequence is fine (but do not write: use HELP)
        r = self.assertReply(c.cmd('HELP "\\x57AYBILL" "\\x47ET"'), 200, "1 command")
        self.assertTrue(r.lines[0].startswith("WAYBILL GET  ("), r)
        self.assertNothingWritten()

    def test_error_messages_stay_valid_utf8(self):
        """Error messages quote the offending input, cut to 40 bytes: the cut
        must not split a UTF-8 character (a msgpack str must be UTF-8)."""
        for obj in (["a" * 39 + "中"], ["WAYBILL", "b" * 39 + "中"]):
            with self.subTest(obj=obj):
                m = self.mp()
                m.send_obj(obj)
                try:
                    r = m.recv()
                except UnicodeDecodeError as e:
                    self.fail("the reply to %r holds invalid UTF-8: %s" % (obj, e))
                self.assertEqual(r["code"], 400)
        # text: an unknown escape of a non-ASCII character
        c = self.text("op1")
        c.send('PING "\\é"')
        status = c.readline()
        try:
            status.decode("utf-8")
        except UnicodeDecodeError:
            self.fail("the status line holds invalid UTF-8: %r" % status)
        self.assertTrue(status.startswith(b"400 unknown escape"), status)
        self.assertNothingWritten()

    def test_quotes_and_escapes(self):
        c = self.text("op1")
        self.assertReply(c.cmd('WAYBILL GET "%s' % self.number), 400, "unbalanced quotes")
        self.assertReply(c.cmd('WAYBILL GET %s"' % self.number), 400, "unbalanced quotes")
        self.assertReply(c.cmd('QUERY LIST user="op1'), 400, "unbalanced quotes")
        self.assertReply(c.cmd('QUERY LIST user=op"1"'), 400, "unbalanced quotes")
        self.assertReply(c.cmd('WAYBILL GET "%s\\' % self.number), 400, "unbalanced quotes")
        self.assertReply(c.cmd('QUERY LIST user="op1"x'), 400, "a quoted word must be followed by a space")
        self.assertReply(c.cmd('QUERY LIST user="op\\q1"'), 400, "unknown escape \\q in a quoted word")
        self.assertReply(c.cmd('QUERY LIST user="op\\x4"'), 400, "bad \\x escape: two hex digits expected")
        self.assertReply(c.cmd('QUERY LIST user="op\\x001"'), 400, "argument 'user' holds a NUL byte")
        # quoted words that are fine
        self.assertReply(c.cmd('WAYBILL GET "%s"' % self.number), 200)
        self.assertReply(c.cmd('QUERY LIST user="op1" limit="2"'), 200)
        self.assertReply(c.cmd('"WAYBILL" "GET" "%s"' % self.number), 200)
        self.assertNothingWritten()

    def test_control_characters(self):
        c = self.text("op1")
        c.send_raw(b"PING\x01\r\n")
        self.assertReply(c.read_reply(), 400, "control character 0x01 in request")
        c.send_raw(b"PI\x00NG\r\n")
        self.assertReply(c.read_reply(), 400, "control character 0x00 in request")
        c.send_raw(b"PING\x7f\r\n")
        self.assertReply(c.read_reply(), 400, "control character 0x7f in request")
        c.send_raw(b"PING\tPING\r\n")   # a tab separates words
        self.assertReply(c.read_reply(), 400, "too many arguments for PING (try HELP PING)")
        self.assertReply(c.cmd("PING"), 200)
        self.assertNothingWritten()

    def test_unknown_command_argument_and_shape(self):
        c = self.text("op1")
        n = self.number
        cases = [
            ("FROBNICATE", 400, "unknown command 'FROBNICATE' (try HELP)"),
            ("WAYBILL", 400, "WAYBILL needs a sub-command (try HELP WAYBILL)"),
            ("WAYBILL EAT %s" % n, 400, "unknown sub-command 'EAT' of WAYBILL (try HELP WAYBILL)"),
            ("WAYBILL GET %s colour=red" % n, 400, "unknown argument 'colour' for WAYBILL GET"),
            ("WAYBILL GET %s %s" % (n, n), 400, "too many arguments for WAYBILL GET (try HELP WAYBILL)"),
            ("WAYBILL GET", 400, "missing argument 'number'"),
            ("WAYBILL GET %s number=%s" % (n, n), 400, "argument 'number' given twice"),
            ("QUERY LIST user=op1 user=op2", 400, "argument 'user' given twice"),
            ("QUERY LIST User=op1", 400, "bad argument name 'User'"),
            ("QUERY LIST 9x=1", 400, "bad argument name '9x'"),
            ("QUERY LIST =1", 400, "bad argument name ''"),
            ("QUERY LIST limit=ten", 400, "argument 'limit' must be a non-negative integer"),
            ("QUERY LIST limit=-1", 400, "argument 'limit' must be a non-negative integer"),
            ("QUERY LIST limit=1000000000000001", 400, "argument 'limit' must be a non-negative integer"),
            ("QUERY LIST limit=99999999999999999999", 400, "argument 'limit' must be a non-negative integer"),
            ("QUERY LIST limit=1000000000000000", 400, "argument 'limit' must be from 1 to 1000"),
            ("QUERY GET 1000000000000000", 404, "no query 1000000000000000"),
            ("QUERY LIST open=maybe", 400, "argument 'open' must be yes or no"),
            ("QUERY LIST day=2026-13-01", 400, "argument 'day' must be a date like 2026-11-24"),
            ("QUERY GET abc", 400, "argument 'id' must be a positive integer"),
            ("SCAN %s picked_up depot=SH01 at=2026-02-30T10:00:00+08:00" % n, 400,
             "argument 'at' must be a time like 2026-11-24T09:30:00+08:00"),
            ("SCAN %s picked_up depot=SH01 at=2026-02-03T25:00:00+08:00" % n, 400,
             "argument 'at' must be a time like 2026-11-24T09:30:00+08:00"),
            ("SCAN %s picked_up depot=\"S H\"" % n, 400,
             "argument 'depot' must be a word of letters, digits, _ - . (at most 64)"),
            ("SCAN %s picked_up depot=%s" % (n, "D" * 65), 400,
             "argument 'depot' must be a word of letters, digits, _ - . (at most 64)"),
            ("SCAN %s picked_up depot=SH01 note=%s" % (n, "n" * 513), 413, "argument 'note' is longer than 512 bytes"),
            (" ".join(["PING"] * 65), 400, "too many words (at most 64)"),
            ("QUERY LIST " + " ".join("a%d=1" % i for i in range(65)), 400,
             "too many named arguments (at most 64)"),
            # a word starting with a quote is positional even when it holds '='
            ('HELP "waybill=get"', 400, "argument 'command' must be a word of letters, digits, _ - . (at most 64)"),
            ("HELP waybill=get", 400, "unknown argument 'waybill' for HELP"),
        ]
        for req, code, msg in cases:
            with self.subTest(req=req[:80]):
                self.assertReply(c.cmd(req), code, msg)
        self.assertReply(c.cmd("PING"), 200)
        self.assertNothingWritten()

    def test_missing_auth(self):
        c = self.text()
        for req in ("WAYBILL GET %s" % self.number, "SCAN %s picked_up depot=SH01" % self.number,
                    line("WAYBILL", "CREATE", next_number(), **waybill_fields(2000000000)),
                    "QUERY LIST", "STATS"):
            self.assertReply(c.cmd(req), 401, "log in first: AUTH user password")
        m = self.mp()
        r = m.call("SCAN", self.number, "picked_up", depot="SH01")
        self.assertEqual(r, {"code": 401, "msg": "log in first: AUTH user password", "data": None})
        self.assertNothingWritten()

    def test_errors_are_counted_in_stats(self):
        c = self.text("op1")
        before = self.stats(self.admin)
        for _ in range(3):
            c.cmd("FROB")
        c.cmd("WAYBILL GET 999999999")
        after = self.stats(self.admin)
        self.assertEqual(int(after.get("errors.400", 0)) - int(before.get("errors.400", 0)), 3)
        self.assertEqual(int(after.get("errors.404", 0)) - int(before.get("errors.404", 0)), 1)
        self.assertNothingWritten()

class BadMsgpack(DaemonTestCase):
    create_users = ("op1",)
    daemon_args = ("--max-line-bytes", MAX_LINE, "--max-frame-bytes", MAX_FRAME)

    def setUp(self):
        super().setUp()
        self.admin = self.conn("admin")
        self.before = self.counts(self.admin)

    def assertNothingWritten(self):
        self.assertEqual(self.counts(self.conn("admin")), self.before)
        # and the daemon still serves new connections
        self.assertEqual(self.mp().call("PING")["code"], 200)

    def test_malformed_closes_connection_next_one_served(self):
        m = self.mp()
        m.send_raw(b"\x91\xc1")
        self.assertEqual(m.recv(), {"code": 400, "msg": "malformed msgpack", "data": None})
        self.assertTrue(m.at_eof(5), "the connection stays open after malformed msgpack")
        self.assertEqual(self.mp().call("PING"), {"code": 200, "msg": "PONG", "data": None})
        # other malformed shapes: ext, bin, float, a map key that is not a string
        for bad in (b"\x91\xd4\x01\x00", b"\x91\xc4\x01a", b"\x91\xcb" + b"\x00" * 8,
                    b"\x91\x81\x01\xa1x"):
            with self.subTest(bad=bad):
                m = self.mp()
                m.send_raw(bad)
                self.assertEqual(m.recv(), {"code": 400, "msg": "malformed msgpack", "data": None})
                self.assertTrue(m.at_eof(5))
        self.assertNothingWritten()

    def test_truncated_then_close(self):
        for part in (b"\x93\xa4PI", b"\xdc\x00", b"\x92\xa4PING\x82\xa5depot", b"\xdd\xff\xff\xff\xff"):
            s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5)
            s.sendall(part)
            time.sleep(0.05)
            s.close()
        self.assertEqual(self.mp().call("PING")["code"], 200)
        self.assertReply(self.admin.cmd("STATS"), 200)
        self.assertNothingWritten()

    def test_half_close_inside_a_request(self):
        """A client that half-closes in the middle of a request gets its
        earlier replies, a 400 for the rest, and the connection closed at
        once, not at the request deadline (30 s)."""
        def exchange(data):
            s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            start, got = time.monotonic(), b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            s.close()
            self.assertLess(time.monotonic() - start, 3)
            return got
        msg = "incomplete request: the client closed before its end"
        self.assertEqual(exchange(b"PING\r\nWAYBILL GET 77"),
                         ("200 PONG\r\n.\r\n400 %s\r\n" % msg).encode())
        replies = list(msgpack.Unpacker(io.BytesIO(exchange(msgpack.packb(["PING"]) + b"\x93\xa4PI")),
                                        raw=False))
        self.assertEqual(replies, [{"code": 200, "msg": "PONG", "data": None},
                                   {"code": 400, "msg": msg, "data": None}])
        self.assertNothingWritten()

    def test_frame_larger_than_max(self):
        m = self.mp("op1")
        big = msgpack.packb(["QUERY", "LIST", {"user": "x" * (MAX_FRAME + 100)}])
        m.send_raw(big)
        self.assertEqual(m.recv(), {"code": 413, "msg": "msgpack frame larger than %d bytes" % MAX_FRAME,
                                    "data": None})
        self.assertTrue(m.at_eof(5))
        # a lying header: a huge array count, then bytes up to the limit
        m = self.mp()
        m.send_raw(b"\xdd\xff\xff\xff\xff" + b"\xc0" * (MAX_FRAME + 10))
        self.assertEqual(m.recv()["code"], 413)
        self.assertTrue(m.at_eof(5))
        m = self.mp()
        m.send_raw(b"\x92\xa4PING\xdb\xff\xff\xff\xf0" + b"a" * (MAX_FRAME + 10))
        self.assertEqual(m.recv()["code"], 413)
        # a frame of exactly the limit is served, one byte more is not
        def frame(size):
            pad = size - len(msgpack.packb(["PING", {"x": ""}]))
            for _ in range(3):   # the str header grows with the length
                f = msgpack.packb(["PING", {"x": "a" * pad}])
                pad += size - len(f)
            self.assertEqual(len(f), size)
            return f
        m = self.mp()
        m.send_raw(frame(MAX_FRAME))
        self.assertEqual(m.recv(), {"code": 400, "msg": "unknown argument 'x' for PING", "data": None})
        self.assertEqual(m.call("PING")["code"], 200)
        m.send_raw(frame(MAX_FRAME + 1))
        self.assertEqual(m.recv()["code"], 413)
        self.assertTrue(m.at_eof(5))
        self.assertNothingWritten()

    def test_nesting_too_deep(self):
        m = self.mp()
        m.send_raw(b"\x91" * 40 + b"\xc0")
        self.assertEqual(m.recv(), {"code": 400, "msg": "msgpack nested too deep", "data": None})
        self.assertTrue(m.at_eof(5))
        self.assertNothingWritten()

    def test_empty_array_keeps_connection(self):
        m = self.mp()
        m.send_raw(b"\x90")
        self.assertEqual(m.recv(), {"code": 400, "msg": "a msgpack request is a non-empty array", "data": None})
        self.assertEqual(m.call("PING")["code"], 200)
        self.assertNothingWritten()

if __name__ == "__main__":
    unittest.main()
