"""harness.py — start a real parceldeskd and talk to it over the wire.

Used by every tests/e2e/test_*.py (run them with run_e2e.py). Standard
library only, plus Debian's python3-msgpack for the msgpack framing; run with
/usr/bin/python3.

What is here:
  Daemon          one parceldeskd process: free port (bind to 0), fresh data
                  dir, log file, start / wait for PING / SIGTERM / SIGKILL,
                  sanitizer check of its stderr.
  TextClient      the text framing: status line, body up to ".", dot
                  unstuffing, "key: value" records, lists split by blank lines.
  MsgpackClient   the msgpack framing: arrays in, {code, msg, data} maps out.
  DaemonTestCase  unittest base class: one daemon per class, users, helpers.
"""
import datetime
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

try:
    import msgpack
except ImportError:  # pragma: no cover - reported by run_e2e.py
    msgpack = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Settings:
    """Filled by run_e2e.py (or the environment when a test file is run
    directly)."""
    daemon = os.environ.get("PARCELDESK_DAEMON", os.path.join(REPO, "build", "parceldeskd"))
    client = os.environ.get("PARCELDESK_CLIENT", os.path.join(REPO, "build", "parceldesk"))
    keep = bool(os.environ.get("PARCELDESK_E2E_KEEP"))
    # where daemons' work dirs go: tmpfs by default, where an fsync costs
    # nothing (SIGKILL durability does not depend on it: the page cache
    # outlives the process); PARCELDESK_E2E_TMPDIR=/var/tmp for a real disk
    tmpdir = os.environ.get("PARCELDESK_E2E_TMPDIR") or (
        "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None)
    log_lines_on_failure = 80
    # options every daemon of the run gets before its own (make tsan-check
    # runs several loop threads, whatever the machine's default)
    daemon_args = os.environ.get("PARCELDESK_E2E_DAEMON_ARGS", "").split()


settings = Settings()

ADMIN_PASSWORD = "e2e-admin-pw-1"
USERS = {
    # name: (role, password)
    "op1": ("operator", "op1-password"),
    "op2": ("operator", "op2-password"),
    "adj1": ("adjuster", "adj1-password"),
    "sup1": ("supervisor", "sup1-password"),
}

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

CST = datetime.timezone(datetime.timedelta(hours=8))  # the daemon's default zone
DAY = 86400
HOUR = 3600
# A fixed, recognisable base time for tests that set the clock.
T0 = int(datetime.datetime(2026, 3, 2, 9, 0, 0, tzinfo=CST).timestamp())


def iso(ts):
    """UTC seconds -> ISO 8601 in the daemon's zone, as replies show times."""
    return datetime.datetime.fromtimestamp(int(ts), CST).isoformat()


def counted(n, one, many):
    """A reply's count of things: "1 claim", "0 claims"."""
    return "%d %s" % (n, one if n == 1 else many)


def parse_iso(s):
    return int(datetime.datetime.fromisoformat(s).timestamp())


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


_numbers = itertools.count(1)


def next_number(prefix="77"):
    """A fresh waybill number (10 digits), unique within this process."""
    return "%s%08d" % (prefix, next(_numbers))


_phones = itertools.count(1)


def next_phone():
    return "139%08d" % next(_phones)


# ---------------------------------------------------------------- daemon ----

class DaemonError(AssertionError):
    pass


class Daemon:
    """One parceldeskd process with its own work directory.

    The data dir defaults to WORKDIR/data; pass data_dir to reuse another
    (a restart, or a backup copy). extra are further command-line options
    (every config option is --option-name VALUE). netns runs it in that
    network namespace (`ip netns exec`, which execs: the pid is still the
    daemon's) listening on host, one of the namespace's addresses
    (test_repl_faults.py); otherwise it listens on 127.0.0.1. metrics
    serves /metrics on 127.0.0.1:metrics_port, a port picked at each start
    as the protocol's is (a port lost to another process is picked again)."""

    live = []          # started and not yet stopped, for log dumps
    _seq = itertools.count(1)

    def __init__(self, *extra, data_dir=None, env_password=ADMIN_PASSWORD,
                 password_file=None, test_clock=True, name="daemon", netns=None, host="127.0.0.1",
                 metrics=False):
        self.extra = [str(x) for x in extra]
        self.metrics = metrics
        self.metrics_port = None
        self.netns = netns
        self.host = host
        self.name = "%s-%d" % (name, next(Daemon._seq))
        self.workdir = tempfile.mkdtemp(prefix="pd-e2e-%s-" % self.name, dir=settings.tmpdir)
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.env_password = env_password
        self.password_file = password_file
        self.test_clock = test_clock
        self.log_path = os.path.join(self.workdir, "daemon.log")
        self.proc = None
        self.port = None
        self.starts = 0
        self.failed = False

    # -- process control --
    def argv(self, port):
        args = [settings.daemon, "--listen", "%s:%d" % (self.host, port), "--data-dir", self.data_dir]
        args += settings.daemon_args
        if self.netns:
            args = ["ip", "netns", "exec", self.netns] + args
        if self.test_clock:
            args.append("--enable-test-clock")
        if self.password_file:
            args += ["--admin-password-file", self.password_file]
        if self.metrics:
            args += ["--metrics-listen", "127.0.0.1:%d" % self.metrics_port]
        return args + self.extra

    def env(self):
        env = dict(os.environ)
        env.pop("PARCELDESK_ADMIN_PASSWORD", None)
        if self.env_password is not None:
            env["PARCELDESK_ADMIN_PASSWORD"] = self.env_password
        return env

    def spawn(self):
        """Starts the process without waiting; returns the Popen."""
        self.port = free_port()
        if self.metrics:
            self.metrics_port = free_port()
        self.starts += 1
        with open(self.log_path, "ab") as f:
            f.write(("=== start %d: %s\n" % (self.starts, " ".join(self.argv(self.port)))).encode())
        logf = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(self.port), stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=logf, env=self.env())
        finally:
            logf.close()
        Daemon.live.append(self)
        return self.proc

    def start(self, timeout=30):
        for attempt in range(3):
            self.spawn()
            try:
                self.wait_ready(timeout)
                return self
            except DaemonError:
                # a lost race for the port: try another one
                tail = self.log_tail(5)
                lost = "cannot listen" in tail or (self.metrics and "cannot serve metrics on" in tail)
                if self.proc.poll() is not None and lost and attempt < 2:
                    self._forget()
                    continue
                self.failed = True
                raise
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise DaemonError("%s exited during start with code %s\n%s"
                                  % (self.name, rc, self.log_tail()))
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as s:
                    s.sendall(b"PING\r\n")
                    data = b""
                    while not data.endswith(b".\r\n"):
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if data.startswith(b"200 PONG") and self.owns_port():
                        return
            except OSError:
                pass
            time.sleep(0.03)
        raise DaemonError("%s did not answer PING within %ss\n%s" % (self.name, timeout, self.log_tail()))

    def owns_port(self):
        """The PONG came from this very process: it holds the listening
        socket on self.port (its inode among /proc/PID/fd, the socket found
        in /proc/PID/net/tcp*, the process's own network namespace). Another
        process that took the port first answers PING as well; a test then
        talked to a stranger daemon (round 18: QUERY GET returned another
        test's records) while this one exited 'cannot listen'."""
        pid = self.proc.pid
        sockets = set()
        for table in ("tcp", "tcp6"):
            try:  # a kernel without IPv6 has no tcp6 table: skip it
                with open("/proc/%d/net/%s" % (pid, table)) as f:
                    next(f)
                    for row in f:
                        cols = row.split()
                        if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == self.port:
                            sockets.add("socket:[%s]" % cols[9])
            except OSError:
                continue
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            return False
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in sockets:
                    return True
            except OSError:
                pass
        return False

    def _forget(self):
        if self in Daemon.live:
            Daemon.live.remove(self)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20, expect_rc=0):
        """SIGTERM by PID; asserts the exit code within timeout and a clean
        sanitizer log. Returns the exit code."""
        if self.proc is None:
            return None
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.failed = True
                raise DaemonError("%s did not exit within %ss of SIGTERM (killed)\n%s"
                                  % (self.name, timeout, self.log_tail()))
        finally:
            self._forget()
        self.check_sanitizer()
        if expect_rc is not None and rc != expect_rc:
            self.failed = True
            raise DaemonError("%s exited with code %s after SIGTERM, expected %s\n%s"
                              % (self.name, rc, expect_rc, self.log_tail()))
        return rc

    def kill(self):
        """SIGKILL by PID (crash tests). Checks the sanitizer log so far."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        finally:
            self._forget()
        self.check_sanitizer()

    def restart(self, timeout=30):
        """A new process on the same data dir (new port)."""
        return self.start(timeout)

    def cleanup(self):
        """Kills a leftover process quietly and removes the work dir unless
        something failed (then its log is kept and its path printed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._forget()
        if self.failed or settings.keep:
            sys.stderr.write("[e2e] kept %s (log %s)\n" % (self.workdir, self.log_path))
            return
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- logs --
    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=None):
        n = n or settings.log_lines_on_failure
        lines = self.log_text().splitlines()
        return "----- %s log (%s), last %d lines -----\n%s\n----- end of log -----" % (
            self.name, self.log_path, min(n, len(lines)), "\n".join(lines[-n:]))

    def sanitizer_report(self):
        text = self.log_text()
        for m in SANITIZER_MARKERS:
            i = text.find(m)
            if i >= 0:
                return text[max(0, i - 200):i + 4000]
        return None

    def check_sanitizer(self):
        rep = self.sanitizer_report()
        if rep:
            self.failed = True
            raise DaemonError("%s: sanitizer error in the daemon's stderr:\n%s" % (self.name, rep))

    def check_health(self):
        """Between tests: still running, and no sanitizer report."""
        self.check_sanitizer()
        if self.proc is not None and self in Daemon.live and self.proc.poll() is not None:
            self.failed = True
            raise DaemonError("%s died (exit code %s)\n%s" % (self.name, self.proc.returncode, self.log_tail()))

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    # -- clients --
    def text(self, user=None, password=None, timeout=20):
        c = TextClient(self.port, timeout=timeout, host=self.host)
        if user:
            c.auth(user, password if password is not None else password_of(user))
        return c

    def mp(self, user=None, password=None, timeout=20):
        c = MsgpackClient(self.port, timeout=timeout, host=self.host)
        if user:
            c.auth(user, password if password is not None else password_of(user))
        return c


def password_of(user):
    if user == "admin":
        return ADMIN_PASSWORD
    return USERS[user][1]


def dump_live_logs(out=sys.stderr):
    for d in list(Daemon.live):
        d.failed = True
        out.write(d.log_tail() + "\n")


# --------------------------------------------------------- text framing ----

_UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unescape(s):
    """Undoes the text reply escaping: \\\\ \\r \\n \\t \\xHH."""
    if "\\" not in s:
        return s
    out = bytearray()
    i = 0
    b = s.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c == 0x5c and i + 1 < len(b):
            e = chr(b[i + 1])
            if e in _UNESCAPES:
                out += _UNESCAPES[e].encode()
                i += 2
                continue
            if e == "x" and i + 3 < len(b) + 0:
                out.append(int(b[i + 2:i + 4].decode(), 16))
                i += 4
                continue
        out.append(c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


def quote(s):
    """A value as one text word: bare when safe, else double-quoted with
    backslash escapes."""
    s = str(s)
    if s and re.fullmatch(r"[A-Za-z0-9_.:+\-/@,]+", s):
        return s
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def text_value(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    return quote(v)


def line(*words, **named):
    """Builds one text request line. Positional words that are not plain
    command words are quoted, so a '=' never turns them into named args."""
    parts = []
    for w in words:
        w = str(w)
        parts.append(w if re.fullmatch(r"[A-Za-z0-9_.\-]+", w) else quote(w))
    for k, v in named.items():
        if v is None:
            continue
        parts.append("%s=%s" % (k, text_value(v)))
    return " ".join(parts)


class Reply:
    """One text reply: code, msg, body lines (unstuffed, unescaped keys kept
    raw) and records (list of dicts)."""

    def __init__(self, code, msg, status_line, body_lines):
        self.code = code
        self.msg = msg
        self.status_line = status_line
        self.lines = body_lines

    @property
    def records(self):
        """The body as key: value records (HELP's text body is not one)."""
        return parse_records(self.lines)

    @property
    def rec(self):
        return self.records[0] if self.records else {}

    def __getitem__(self, key):
        return self.rec[key]

    def get(self, key, default=None):
        return self.rec.get(key, default)

    def __repr__(self):
        body = "\n".join(self.lines[:40])
        return "<Reply %d %r%s>" % (self.code, self.msg, ("\n" + body) if body else "")


def parse_records(lines):
    records = []
    cur = None
    for ln in lines:
        if ln == "":
            if cur is not None:
                records.append(cur)
            cur = None
            continue
        if cur is None:
            cur = {}
        if ": " in ln:
            k, v = ln.split(": ", 1)
        elif ln.endswith(":"):
            k, v = ln[:-1], ""
        else:
            raise AssertionError("body line is not 'key: value': %r" % ln)
        if k in cur:
            raise AssertionError("key %r twice in one record" % k)
        cur[k] = unescape(v)
    if cur is not None:
        records.append(cur)
    return records


def sub_list(rec, prefix):
    """Rebuilds a flattened list: prefix.N.key -> [ {key: value}, ... ] in N
    order."""
    items = {}
    pat = re.compile(re.escape(prefix) + r"\.(\d+)\.(.+)$")
    for k, v in rec.items():
        m = pat.match(k)
        if m:
            items.setdefault(int(m.group(1)), {})[m.group(2)] = v
    return [items[i] for i in sorted(items)]


class TextClient:
    def __init__(self, port, timeout=20, connect=True, host="127.0.0.1"):
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout) if connect else None
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        """Sends one or more request lines (a str gets a trailing newline)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
            if not data.endswith(b"\n"):
                data += b"\r\n"
        self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise EOFError("connection closed by the daemon")
        self.buf += chunk

    def readline(self):
        """One line without its CRLF, as bytes."""
        while True:
            i = self.buf.find(b"\n", self.pos)
            if i >= 0:
                ln = bytes(self.buf[self.pos:i])
                self.pos = i + 1
                if ln.endswith(b"\r"):
                    ln = ln[:-1]
                return ln
            self._fill()

    def read_exact_reply_bytes(self):
        """The raw bytes of one reply (status line through the '.' line)."""
        start_pos = self.pos
        start = self.readline()
        if not re.match(rb"^\d{3} ", start):
            raise AssertionError("bad status line %r" % start)
        if 200 <= int(start[:3]) < 300:
            while self.readline() != b".":
                pass
        return bytes(self.buf[start_pos:self.pos])

    def read_reply(self):
        status = self.readline()
        m = re.match(rb"^(\d{3}) (.*)$", status)
        if not m:
            raise AssertionError("bad status line %r" % status)
        code = int(m.group(1))
        msg = unescape(m.group(2).decode("utf-8", "surrogateescape"))
        body = []
        if 200 <= code < 300:
            while True:
                ln = self.readline()
                if ln == b".":
                    break
                if ln.startswith(b"."):
                    ln = ln[1:]   # dot-unstuffing
                # lenient: a test that cares checks reply bytes itself
                body.append(ln.decode("utf-8", "surrogateescape"))
        return Reply(code, msg, status.decode("utf-8", "replace"), body)

    def cmd(self, *words, **named):
        """cmd("WAYBILL GET 986825") sends that line as it is;
        cmd("WAYBILL", "GET", num, key=value) builds it with line()."""
        if len(words) == 1 and not named:
            self.send(words[0])
        else:
            self.send(line(*words, **named))
        return self.read_reply()

    def auth(self, user, password):
        r = self.cmd(line("AUTH", user, password))
        if r.code != 200:
            raise AssertionError("AUTH %s failed: %r" % (user, r))
        return r

    def at_eof(self, timeout=5.0):
        """True when the daemon closes the connection within timeout (any
        unread bytes before the close are returned in self.tail)."""
        self.sock.settimeout(timeout)
        self.tail = bytes(self.buf[self.pos:])
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.tail += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


# ------------------------------------------------------ msgpack framing ----

class MsgpackClient:
    def __init__(self, port, timeout=20, host="127.0.0.1"):
        if msgpack is None:
            raise unittest.SkipTest("python3-msgpack is not installed (run with /usr/bin/python3)")
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.packer = msgpack.Packer(use_bin_type=True)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @staticmethod
    def request(*words, **named):
        req = list(words)
        named = {k: v for k, v in named.items() if v is not None}
        if named:
            req.append(named)
        return req

    def pack(self, obj):
        return self.packer.pack(obj)

    def send(self, *words, **named):
        self.sock.sendall(self.pack(self.request(*words, **named)))

    def send_obj(self, obj):
        self.sock.sendall(self.pack(obj))

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self):
        while True:
            try:
                return self.unpacker.unpack()
            except msgpack.OutOfData:
                pass
            chunk = self.sock.recv(1 << 18)
            if not chunk:
                raise EOFError("connection closed by the daemon")
            self.unpacker.feed(chunk)

    def call(self, *words, **named):
        self.send(*words, **named)
        return self.recv()

    def call_obj(self, obj):
        self.send_obj(obj)
        return self.recv()

    def auth(self, user, password):
        r = self.call("AUTH", user, password)
        if r.get("code") != 200:
            raise AssertionError("AUTH %s failed: %r" % (user, r))
        return r

    def at_eof(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.unpacker.feed(chunk)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


# ------------------------------------------------------------ test data ----

# A waybill's value keeps at most this many of its newest events
# (WAYBILL_RECENT_MAX, daemon/modules/waybill.h).
WAYBILL_RECENT_MAX = 24


def waybill_value_parts(value):
    """A value of the `waybills` database, split (daemon/modules/waybill.h):
    {"view": packed view (b"" when it has none), "recent": the newest events,
    raw, one bytes a event (seq spilled+1 on), "spilled": events 1..spilled
    are in `events`, "record": msgpack bytes}. A value written before the
    newest events moved in (0xc1) has recent None: every event in `events`."""
    import msgpack
    if value[0] == 0xC1:
        n = int.from_bytes(value[1:5], "big")
        return {"view": value[5:5 + n], "recent": None, "spilled": None, "record": value[5 + n:]}
    assert value[0] == 0xC0, value[:8]
    n_view, n_recent, spilled, count = (int.from_bytes(value[i:i + 4], "big") for i in (1, 5, 9, 13))
    raw = value[17 + n_view:17 + n_view + n_recent]
    up = msgpack.Unpacker(raw=False)
    up.feed(raw)
    recent, at = [], 0
    for _ in up:
        recent.append(raw[at:up.tell()])
        at = up.tell()
    assert len(recent) == count and at == len(raw), (count, len(recent))
    return {"view": value[17:17 + n_view], "recent": recent, "spilled": spilled,
            "record": value[17 + n_view + n_recent:]}


def waybill_value_split(value):
    """A value of the `waybills` database: (view, record), the packed view
    (b"" when it has none) kept ahead of the record (msgpack bytes)."""
    p = waybill_value_parts(value)
    return p["view"], p["record"]


def waybill_value_join(view, record):
    """The value of `waybills` that holds view and record, as written
    before the newest events moved in (every event in `events`)."""
    return b"\xc1" + len(view).to_bytes(4, "big") + view + record


def waybill_value_with(value, view=None, record=None):
    """value with its view and / or its record replaced (its events kept
    where they are)."""
    p = waybill_value_parts(value)
    view = p["view"] if view is None else view
    record = p["record"] if record is None else record
    if p["recent"] is None:
        return waybill_value_join(view, record)
    recent = b"".join(p["recent"])
    return (b"\xc0" + b"".join(x.to_bytes(4, "big") for x in (len(view), len(recent), p["spilled"],
                                                               len(p["recent"])))
            + view + recent + record)


def waybill_value_to_events(txn, env, number, value):
    """Moves the newest events kept in a waybill's value to `events` (its
    history as written before they moved in); returns (view, record) for a
    value of an older layout (waybill_value_join, or the record alone)."""
    p = waybill_value_parts(value)
    events = env.open_db(b"events", txn=txn)
    for i, ev in enumerate(p["recent"] or []):
        key = number.encode() + b"\0" + (p["spilled"] + 1 + i).to_bytes(4, "big")
        txn.put(key, ev, db=events)
    return p["view"], p["record"]


def waybill_fields(promised, /, **over):
    """Every required field of WAYBILL CREATE (an intercity parcel), as
    named arguments; override or add with keyword arguments (None drops)."""
    f = {
        "sender_name": "Zhang Wei",
        "sender_phone": "13800138000",
        "sender_address": "18 Huaihai Road, Room 3",
        "sender_city": "Shanghai",
        "receiver_name": "Li Na",
        "receiver_phone": "13900139000",
        "receiver_address": "5 Chang'an Avenue",
        "receiver_city": "Beijing",
        "origin_depot": "SH01",
        "dest_depot": "BJ02",
        "goods": "books",
        "pieces": 1,
        "weight_g": 1200,
        "packaging": "carrier",
        "fee_fen": 1500,
        "payment": "cash",
        "promised_at": iso(promised) if isinstance(promised, int) else promised,
    }
    f.update(over)
    return {k: v for k, v in f.items() if v is not None}


def create_line(number, promised, /, **over):
    return line("WAYBILL", "CREATE", number, **waybill_fields(promised, **over))


# ------------------------------------------------------- unittest base ----

class DaemonTestCase(unittest.TestCase):
    """One daemon per test class, started in setUpClass with daemon_args and
    the users of USERS created; stopped (SIGTERM, exit 0, clean sanitizer
    log) in tearDownClass. Each test checks the daemon is still healthy."""

    daemon_args = ()
    metrics = False          # True: the daemon serves /metrics (Daemon's metrics)
    create_users = True      # True: every user of USERS; or a tuple of names
    start_daemon = True      # False: the tests start their own (new_daemon)
    daemon = None

    @classmethod
    def setUpClass(cls):
        cls._pool = {}
        if not cls.start_daemon:
            cls.daemon = None
            return
        cls.daemon = Daemon(*cls.daemon_args, name=cls.__name__, metrics=cls.metrics)
        try:
            cls.daemon.start()
            if cls.create_users:
                names = USERS if cls.create_users is True else cls.create_users
                with cls.daemon.text("admin") as c:
                    for name in names:
                        role, pw = USERS[name]
                        r = c.cmd(line("USER", "ADD", name, role, pw, full_name="E2E " + name, depot="SH01"))
                        if r.code != 201:
                            raise AssertionError("USER ADD %s: %r" % (name, r))
            cls.class_setup()
        except BaseException:
            cls.daemon.failed = True
            sys.stderr.write(cls.daemon.log_tail() + "\n")
            cls.daemon.cleanup()
            raise

    @classmethod
    def class_setup(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        for c in cls._pool.values():
            c.close()
        cls._pool = {}
        d = cls.daemon
        try:
            if d is not None and d.proc is not None and d.proc.poll() is None:
                d.stop()
            elif d is not None:
                d.check_sanitizer()
        finally:
            if d is not None:
                d.cleanup()

    def setUp(self):
        self._clients = []
        self._own_daemons = []

    def tearDown(self):
        for c in self._clients:
            c.close()
        if self.daemon is not None:
            self.daemon.check_health()
        for d in self._own_daemons:
            d.check_health()

    # -- clients that close themselves after the test --
    def text(self, user=None, daemon=None):
        c = (daemon or self.daemon).text(user)
        self._clients.append(c)
        return c

    def conn(self, user=None):
        """A logged-in text connection shared by the tests of this class
        (AUTH costs a password hash). Checked with a PING before reuse;
        use text() for a connection of one's own."""
        c = self._pool.get(user)
        if c is not None:
            try:
                c.settimeout(20)
                c.send("PING")
                if c.read_reply().code == 200 and c.pos == len(c.buf):
                    return c
            except (OSError, EOFError, AssertionError):
                pass
            c.close()
        c = self.daemon.text(user)
        self._pool[user] = c
        return c

    def mp(self, user=None, daemon=None):
        c = (daemon or self.daemon).mp(user)
        self._clients.append(c)
        return c

    def new_daemon(self, *extra, **kw):
        """A further daemon owned by this test (stopped at its end)."""
        d = Daemon(*extra, name=kw.pop("name", self._testMethodName), **kw)
        self.addCleanup(d.cleanup)
        self._own_daemons.append(d)
        return d

    # -- assertions and helpers --
    def assertReply(self, r, code, msg=None, msg_re=None):
        if isinstance(r, dict):
            got_code, got_msg = r.get("code"), r.get("msg")
        else:
            got_code, got_msg = r.code, r.msg
        self.assertEqual(got_code, code, "expected %s, got %r" % (code, r))
        if msg is not None:
            self.assertEqual(got_msg, msg, "message of %r" % (r,))
        if msg_re is not None:
            self.assertRegex(got_msg, msg_re)
        return r

    def clock(self, c):
        r = c.cmd("CLOCK GET")
        self.assertReply(r, 200)
        return int(r["utc_secs"])

    def set_clock(self, admin, ts):
        r = admin.cmd(line("CLOCK", "SET", iso(ts)))
        self.assertReply(r, 200)
        return r

    def stats(self, admin):
        r = admin.cmd("STATS")
        self.assertReply(r, 200, "ok")
        return r.rec

    def counts(self, admin):
        s = self.stats(admin)
        return int(s["waybills"]), int(s["events"]), int(s["queries"])

    def create(self, c, number=None, promised_at=None, expect=201, **over):
        number = number or next_number()
        if promised_at is None:
            promised_at = self.clock(c) + 3 * DAY
        r = c.cmd(create_line(number, promised_at, **over))
        if expect is not None:
            self.assertReply(r, expect)
        return number

    def get(self, c, number, expect=200):
        r = c.cmd(line("WAYBILL", "GET", number))
        if expect is not None:
            self.assertReply(r, expect)
        return r

    def scan(self, c, number, event, depot="SH01", expect=201, **named):
        r = c.cmd(line("SCAN", number, event, depot=depot, **named))
        if expect is not None:
            self.assertReply(r, expect)
        return r

    def event_count(self, c, number):
        return int(self.get(c, number)["event_count"])
