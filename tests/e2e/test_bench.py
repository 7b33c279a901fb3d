"""contrib/bench counts replies exactly in both framings (docs/performance.md,
"Round 7: the bench client's share").

bench finds where each reply ends without decoding it (msgpack: the framing
walk and the status read from the bytes; text: the "." line found 16 bytes
at a time), so a framing mistake shows as a count: a reply cut short or run
together with the next one is a reply nobody asked for, a malformed one, or
a code counted wrongly. Against a real daemon: waybills it loaded itself
(0 errors, N replies, as many bytes a reply as the daemon's reply has) and
numbers that were never created (every reply a 404). Against a scripted
server: replies that arrive in pieces (the end line cut between reads),
dot-stuffed body lines, bodies and errors in turn, keys in another order,
and bytes that are not a reply (bench exits 1)."""
import os
import socket
import subprocess
import threading
import time

import msgpack

from harness import ADMIN_PASSWORD, DaemonTestCase, settings

PREFIX = "66"
FORMAT = PREFIX + "%010d"
LOADED = 40
CSV_FIELDS = ("ops", "elapsed_ms", "ops_per_sec", "p50_us", "p99_us", "p999_us", "max_us",
              "errors", "error_codes", "rx_bytes_per_op")


def bench_path():
    return os.path.join(os.path.dirname(settings.daemon), "contrib", "bench")


def run_bench(*args, timeout=120):
    return subprocess.run([bench_path(), *map(str, args)], capture_output=True, timeout=timeout)


def csv_of(proc):
    """The --csv line as a dict (ints where the column is a number)."""
    assert proc.returncode == 0, (proc.returncode, proc.stderr.decode())
    lines = proc.stdout.decode().strip().splitlines()
    assert len(lines) == 1, lines
    fields = lines[0].split(",")
    assert len(fields) == len(CSV_FIELDS), fields
    row = dict(zip(CSV_FIELDS, fields))
    for k in CSV_FIELDS:
        if k != "error_codes":
            row[k] = int(row[k])
    return row


class AgainstTheDaemon(DaemonTestCase):
    create_users = False

    @classmethod
    def class_setup(cls):
        # bench's own loader: 40 waybills of 3 events over 4 connections
        cls.load = csv_of(run_bench("-p", cls.daemon.port, "-u", "admin", "-a", ADMIN_PASSWORD,
                                    "--load", LOADED, "--events", 3, "--number-format", FORMAT,
                                    "-c", 4, "-P", 4, "--csv"))

    def get_sizes(self, framing):
        """The byte length of each loaded waybill's GET reply in a framing,
        read with the harness's own clients."""
        numbers = [FORMAT % i for i in range(1, LOADED + 1)]
        sizes = []
        if framing == "text":
            with self.daemon.text("admin") as c:
                for n in numbers:
                    c.send(("WAYBILL GET %s\r\n" % n).encode())
                    raw = c.read_exact_reply_bytes()
                    self.assertTrue(raw.startswith(b"200 "), raw[:80])
                    sizes.append(len(raw))
        else:
            with self.daemon.mp("admin") as c:
                for n in numbers:
                    c.send("WAYBILL", "GET", n)
                    before = c.unpacker.tell()
                    r = c.recv()
                    self.assertEqual(r["code"], 200, r)
                    sizes.append(c.unpacker.tell() - before)
        return sizes

    def test_the_load_is_counted(self):
        self.assertEqual(self.load["ops"], LOADED * 3)
        self.assertEqual(self.load["errors"], 0)
        with self.daemon.mp("admin") as c:
            r = c.call("WAYBILL", "GET", FORMAT % LOADED)
            self.assertEqual(r["code"], 200, r)
            self.assertEqual(len(r["data"]["events"]), 3)

    def test_known_waybills(self):
        for framing in ("msgpack", "text"):
            with self.subTest(framing=framing):
                sizes = self.get_sizes(framing)
                row = csv_of(run_bench("-p", self.daemon.port, "-u", "admin", "-a", ADMIN_PASSWORD,
                                       "--framing", framing, "--number-format", FORMAT,
                                       "--number-count", LOADED, "-c", 3, "-P", 8, "-n", 600,
                                       "--csv"))
                self.assertEqual(row["ops"], 600)
                self.assertEqual(row["errors"], 0)
                self.assertEqual(row["error_codes"], "")
                # every byte received was a whole reply of the size the
                # daemon's GET has (less a byte for the floor, plus the 3
                # logins' replies spread over the 600)
                self.assertGreaterEqual(row["rx_bytes_per_op"], min(sizes) - 1)
                self.assertLessEqual(row["rx_bytes_per_op"], max(sizes) + 1)

    def test_unknown_waybills_are_all_404(self):
        for framing in ("msgpack", "text"):
            with self.subTest(framing=framing):
                row = csv_of(run_bench("-p", self.daemon.port, "-u", "admin", "-a", ADMIN_PASSWORD,
                                       "--framing", framing, "--number-format", FORMAT,
                                       "--number-first", 5000, "--number-count", 100,
                                       "-c", 2, "-P", 16, "-n", 500, "--csv"))
                self.assertEqual(row["ops"], 500)
                self.assertEqual(row["errors"], 500)
                self.assertEqual(row["error_codes"], "404=500")

    def test_known_and_unknown_together(self):
        # a 404 (one line in text) between 200s (a body): both counted
        path = os.path.join(self.daemon.workdir, "numbers")
        with open(path, "w") as f:
            f.write("\n".join([FORMAT % 1, FORMAT % 2, FORMAT % 3, FORMAT % 9999]) + "\n")
        for framing in ("msgpack", "text"):
            with self.subTest(framing=framing):
                row = csv_of(run_bench("-p", self.daemon.port, "-u", "admin", "-a", ADMIN_PASSWORD,
                                       "--framing", framing, "--waybills", path,
                                       "-c", 2, "-P", 16, "-n", 400, "--csv"))
                self.assertEqual(row["ops"], 400)
                self.assertTrue(0 < row["errors"] < 400, row)
                self.assertEqual(row["error_codes"], "404=%d" % row["errors"])


# ---- a scripted server: bench --mix ping, each PING answered from a list ----

PING = {"text": b"PING\r\n", "msgpack": msgpack.packb(["PING"])}


def pieces(reply):
    """The reply cut where a framing can go wrong: after its first byte, in
    its middle, and before each of its last four bytes."""
    n = len(reply)
    cuts = sorted({c for c in (1, n // 2, n - 4, n - 3, n - 2, n - 1) if 0 < c < n})
    return [reply[a:b] for a, b in zip([0] + cuts, cuts + [n])]


class ScriptedServer:
    def __init__(self, framing, replies):
        self.request = PING[framing]
        self.replies = replies
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(30)
            buf, answered = b"", 0
            with conn:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                    while len(buf) >= len(self.request):
                        assert buf.startswith(self.request), buf[:20]
                        buf = buf[len(self.request):]
                        for piece in pieces(self.replies[answered % len(self.replies)]):
                            conn.sendall(piece)
                            time.sleep(0.002)  # each piece its own read
                        answered += 1
        except (ConnectionResetError, BrokenPipeError):
            pass  # bench gave up on a malformed reply
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.sock.close()

    def bench(self, framing, n):
        proc = run_bench("-p", self.port, "--framing", framing, "--mix", "ping", "-n", n,
                         "--csv", "--timeout", 20)
        self.thread.join(30)
        assert self.error is None, self.error
        return proc


def body_lines(count):
    return b"".join(b"events.%d.event: arrived\r\nevents.%d.depot: BENCH01\r\n" % (i, i)
                    for i in range(count))


class AgainstAScriptedServer(DaemonTestCase):
    start_daemon = False

    def check_script(self, framing, replies, cycles, error_codes, errors):
        """bench against the script run `cycles` times: every reply taken,
        its code counted, every byte received a reply's."""
        n = cycles * len(replies)
        row = csv_of(ScriptedServer(framing, replies).bench(framing, n))
        self.assertEqual(row["ops"], n)
        self.assertEqual(row["error_codes"], error_codes)
        self.assertEqual(row["errors"], errors)
        self.assertEqual(row["rx_bytes_per_op"], sum(map(len, replies)) // len(replies))

    def test_text_replies(self):
        replies = [
            b"200 pong\r\n..stuffed line\r\nkey: v\r\n.\r\n",
            b"404 no such waybill\r\n",
            b"200 empty\r\n.\r\n",
            b"201 made\r\nkey: v\r\n\r\n..\r\n...\r\nother: w\r\n.\r\n",  # "." lines stuffed
            b"200 long\r\n" + body_lines(60) + b"..x\r\n" + body_lines(3) + b".\r\n",
            b"500 oops\r\n",
            b"200 bare line ends\n" + body_lines(2).replace(b"\r\n", b"\n") + b"..\n.\n",
            b"200\r\n.\r\n",
        ]
        self.check_script("text", replies, 10, "404=10;500=10", 20)

    def test_msgpack_replies(self):
        record = {"number": "000000000005", "late": False, "signer": None, "fee_fen": 1800,
                  "note": "n" * 300, "events": [{"event": "arrived", "at": 1795400000 + i}
                                                for i in range(40)]}
        replies = [msgpack.packb(r) for r in (
            {"code": 200, "msg": "waybill 000000000005: in_transit", "data": record},
            {"code": 404, "msg": "no such waybill", "data": None},
            {"data": [record, record], "msg": "listed", "code": 200},  # code last
            {"code": 201, "data": {"deep": [[[[{"k": [1, -1, 70000, 2 ** 40]}]]]]}},  # no msg
            {"code": 503, "msg": "m" * 70000, "data": None},
        )]
        self.check_script("msgpack", replies, 10, "404=10;503=10", 20)

    def test_bytes_that_are_not_a_reply(self):
        cases = [
            ("text", b"hello there\r\n"),
            ("text", b"20x ok\r\n.\r\n"),
            ("msgpack", b"\xc1"),
            ("msgpack", msgpack.packb({"msg": "no code", "data": None})),
            ("msgpack", msgpack.packb({"code": "200", "msg": "a string code"})),
            ("msgpack", msgpack.packb([200, "an array"])),
        ]
        for framing, bad in cases:
            with self.subTest(framing=framing, bad=bad[:20]):
                good = b"200 ok\r\n.\r\n" if framing == "text" else msgpack.packb(
                    {"code": 200, "msg": "ok", "data": None})
                proc = ScriptedServer(framing, [good, good, bad]).bench(framing, 10)
                self.assertEqual(proc.returncode, 1, proc.stdout.decode())
                self.assertIn(b"malformed reply", proc.stderr)
