"""natscluster.py — a three-node NATS JetStream cluster for the replication
tests (test_replication.py), on free 127.0.0.1 ports, in a fresh directory,
stopped by pid.

The configuration is the one docs/replication.md ships: explicit accounts
(the daemons' account with JetStream, a system account) and users with
passwords, route credentials between the nodes — never the default
account, which Debian's 2.9.10 needs for the authentication-bypass advisory
to be avoided.

Clients connect on host (127.0.0.1, or the private address of a test
network namespace's link: test_repl_faults.py); the routes between the
nodes and the monitoring port (stream_leader()) stay on 127.0.0.1.

Also a minimal client of the NATS wire protocol (publish with headers),
for feeding the log a change set the primary never wrote; and
ReplicationCase, the base of the replication test classes.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

import harness  # noqa: E402
from harness import DAY, Daemon, DaemonTestCase, USERS, create_line, line, next_number  # noqa: E402


def nats_server_binary():
    """The nats-server to run: installs it (contrib/deps.sh test, as root)
    when missing. None when it is not there and cannot be installed."""
    for path in (shutil.which("nats-server"), "/usr/sbin/nats-server", "/usr/bin/nats-server"):
        if path and os.access(path, os.X_OK):
            return path
    if os.geteuid() == 0:
        subprocess.run(["sh", os.path.join(REPO, "contrib", "deps.sh"), "test"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for path in ("/usr/sbin/nats-server", "/usr/bin/nats-server"):
            if os.access(path, os.X_OK):
                return path
    return None


class NatsCluster:
    USER = "parceldesk"

    def __init__(self, nodes=3, tls=False, host="127.0.0.1"):
        self.binary = nats_server_binary()
        self.n = nodes
        self.workdir = tempfile.mkdtemp(prefix="pd-e2e-nats-", dir=harness.settings.tmpdir)
        self.password = secrets.token_hex(12)
        self.route_password = secrets.token_hex(12)
        self.password_file = os.path.join(self.workdir, "nats-password")
        with open(self.password_file, "w") as f:
            f.write(self.password + "\n")
        self.pick_ports()
        self.host = host
        self.procs = [None] * nodes
        self.failed = False
        self.lost_port_starts = 0
        self.tls = tls
        if tls:
            self.make_certs()

    def pick_ports(self):
        """Free ports for every node's clients, routes and monitoring.
        free_port() closes its socket, so another process may take one
        before the node binds it: start() then picks again."""
        self.ports = [harness.free_port() for _ in range(self.n)]
        self.cluster_ports = [harness.free_port() for _ in range(self.n)]
        self.http_ports = [harness.free_port() for _ in range(self.n)]

    def make_certs(self):
        """A CA and one certificate for 127.0.0.1 (every node's), with
        openssl (Debian's, in the test profile)."""
        d = self.workdir
        self.ca = os.path.join(d, "ca.pem")
        with open(os.path.join(d, "ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for argv in (
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=parceldesk test CA"],
                ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1"],
                ["x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile", "ext"]):
            subprocess.run(["openssl"] + argv, cwd=d, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tls_block(self):
        d = self.workdir
        return ('tls { cert_file: "%s/node.pem", key_file: "%s/node.key", ca_file: "%s/ca.pem" }'
                % (d, d, d)) if self.tls else ""

    @property
    def urls(self):
        scheme = "tls" if self.tls else "nats"
        return ",".join("%s://%s:%d" % (scheme, self.host, p) for p in self.ports)

    def daemon_args(self):
        """The parceldeskd options that reach this log."""
        return ["--nats", self.urls, "--nats-user", self.USER,
                "--nats-password-file", self.password_file] + (
                    ["--nats-ca", self.ca] if self.tls else [])

    def log_path(self, i):
        return os.path.join(self.workdir, "n%d.log" % i)

    def config(self, i):
        routes = ", ".join("nats-route://route:%s@127.0.0.1:%d" % (self.route_password, p)
                           for p in self.cluster_ports)
        return """server_name: n%(i)d
listen: %(host)s:%(port)d
http: 127.0.0.1:%(http)d
jetstream { store_dir: "%(dir)s", max_memory_store: 64MB, max_file_store: 1GB }
accounts {
  PARCELDESK { jetstream: enabled, users: [ { user: %(user)s, password: "%(pw)s" } ] }
  SYS { users: [ { user: sys, password: "%(syspw)s" } ] }
}
system_account: SYS
%(tls)s
cluster {
  name: parceldesk
  listen: 127.0.0.1:%(cport)d
  authorization { user: route, password: "%(rpw)s" }
  %(tls)s
  routes: [ %(routes)s ]
}
""" % {"tls": self.tls_block(), "i": i, "host": self.host, "port": self.ports[i], "http": self.http_ports[i], "cport": self.cluster_ports[i],
       "dir": os.path.join(self.workdir, "js%d" % i), "user": self.USER, "pw": self.password,
       "syspw": secrets.token_hex(8), "rpw": self.route_password, "routes": routes}

    def start_node(self, i):
        conf = os.path.join(self.workdir, "n%d.conf" % i)
        with open(conf, "w") as f:
            f.write(self.config(i))
        logf = open(self.log_path(i), "ab")
        try:
            self.procs[i] = subprocess.Popen([self.binary, "-c", conf], stdin=subprocess.DEVNULL,
                                             stdout=logf, stderr=logf)
        finally:
            logf.close()

    def start(self, timeout=30):
        for attempt in range(3):
            try:
                for i in range(self.n):
                    self.start_node(i)
                self.wait_ready(timeout)
                return self
            except BaseException as e:
                # a lost race for a port (as Daemon.start()): the whole
                # cluster again on new ports, the routes name them all
                if (not isinstance(e, AssertionError) or "address already in use" not in self.logs()
                        or attempt == 2):
                    self.stop()  # no node outlives a failed start
                    raise
                self.stop_nodes()
                self.failed = False
                self.lost_port_starts += 1
                for i in range(self.n):
                    if os.path.exists(self.log_path(i)):
                        os.replace(self.log_path(i), self.log_path(i) + ".lost-port-%d" % attempt)
                    shutil.rmtree(os.path.join(self.workdir, "js%d" % i), ignore_errors=True)
                self.pick_ports()
        return self

    def logs(self):
        out = ""
        for i in range(self.n):
            try:
                with open(self.log_path(i), errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def wait_ready(self, timeout=30):
        """Every running node answers and the cluster has a JetStream
        meta leader."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, p in enumerate(self.procs):
                if p is not None and p.poll() is not None:
                    self.failed = True
                    raise AssertionError("nats-server n%d exited: %s" % (i, self.tail(i)))
            if "metadata leader" in self.logs() and all(
                    self.answers(i) for i in range(self.n) if self.procs[i]):
                return
            time.sleep(0.1)
        self.failed = True
        raise AssertionError("NATS cluster not ready within %ss\n%s" % (timeout, self.tail(0)))

    def answers(self, i):
        try:
            with socket.create_connection((self.host, self.ports[i]), timeout=1) as s:
                return s.recv(4).startswith(b"INFO")
        except OSError:
            return False

    def tail(self, i, n=30):
        """The node's fatal and error lines first (what a truncated
        report must still show), then its last n lines."""
        try:
            with open(self.log_path(i), errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return ""
        errors = [ln for ln in lines if "[FTL]" in ln or "[ERR]" in ln]
        return "".join(errors[-5:]) + "".join(lines[-n:])

    def stream_info(self, stream, i=None):
        """The stream as node i (or the first node that answers and knows
        its leader) reports it on its monitoring port (/jsz): "state"
        {"messages", "first_seq", "last_seq", ...}, "cluster" {"leader":
        "nK", "replicas": [{"name", "current", ...}], the node itself not
        among them}; or None."""
        for j in ([i] if i is not None else range(self.n)):
            if self.procs[j] is None:
                continue
            url = "http://127.0.0.1:%d/jsz?accounts=true&streams=true" % self.http_ports[j]
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    jsz = json.load(r)
            except (OSError, ValueError):
                continue
            for acc in jsz.get("account_details") or []:
                for st in acc.get("stream_detail") or []:
                    if st.get("name") == stream and (st.get("cluster") or {}).get("leader"):
                        return st
        return None

    def stream_cluster(self, stream, i=None):
        """The cluster part of stream_info(), or None."""
        st = self.stream_info(stream, i)
        return st["cluster"] if st else None

    def stream_leader(self, stream, timeout=20):
        """The index of the node leading the stream (its server_name nK)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            c = self.stream_cluster(stream)
            if c:
                return int(c["leader"][1:])
            time.sleep(0.1)
        raise AssertionError("no leader of stream %s within %ss" % (stream, timeout))

    def kill(self, i):
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        self.procs[i] = None

    def stop(self):
        self.stop_nodes()
        if self.failed or harness.settings.keep:
            sys.stderr.write("[e2e] kept %s (NATS logs)\n" % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def stop_nodes(self):
        for p in self.procs:
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for i, p in enumerate(self.procs):
            if p:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            self.procs[i] = None

    # -- the wire protocol, enough to publish --
    def publish(self, subject, payload, headers):
        """Publishes one message with headers to subject through node 0
        and waits for the server's PONG (it has taken the message)."""
        s = socket.create_connection((self.host, self.ports[0]), timeout=5)
        try:
            f = s.makefile("rb")
            f.readline()  # INFO
            connect = ('{"verbose":false,"pedantic":false,"headers":true,"user":"%s","pass":"%s"}'
                       % (self.USER, self.password))
            hdr = "NATS/1.0\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
            hb = hdr.encode()
            s.sendall(("CONNECT %s\r\n" % connect).encode())
            s.sendall(("HPUB %s %d %d\r\n" % (subject, len(hb), len(hb) + len(payload))).encode()
                      + hb + payload + b"\r\nPING\r\n")
            while True:
                line = f.readline()
                if not line:
                    raise AssertionError("NATS closed the connection")
                if line.startswith(b"-ERR"):
                    raise AssertionError("NATS: %r" % line)
                if line.startswith(b"PONG"):
                    return
        finally:
            s.close()


class ReplicationCase(DaemonTestCase):
    """A NATS cluster per class (tls: over TLS; nats_host: where its
    clients connect), the daemons the tests start with node(), stopped by
    pid in tearDownClass; helpers to read STATS repl.* and to write."""
    start_daemon = False
    ack = "local"
    tls = False
    nats_host = "127.0.0.1"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if nats_server_binary() is None:
            raise unittest.SkipTest("nats-server is not installed and cannot be installed here "
                                    "(as root: sh contrib/deps.sh test)")
        cls.nats = NatsCluster(tls=cls.tls, host=cls.nats_host).start()
        cls.nodes = []
        try:
            cls.start_nodes()
        except BaseException:
            cls.tearDownClass()  # unittest skips it when setUpClass fails
            raise

    @classmethod
    def start_nodes(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        try:
            for d in cls.nodes:
                if d.running():
                    d.stop()
                d.cleanup()
        finally:
            cls.nats.stop()
            super().tearDownClass()

    @classmethod
    def node(cls, role, *extra, data_dir=None, start=True, stream="PARCELDESK", **kw):
        """A daemon of that role on the class's log; kw: Daemon's (netns, host)."""
        d = Daemon("--role", role, "--repl-ack", cls.ack, *cls.nats.daemon_args(),
                   "--nats-stream", stream, *extra,
                   data_dir=data_dir, name="%s-%s" % (cls.__name__, role), **kw)
        cls.nodes.append(d)
        if start:
            d.start()
            if role != "primary":
                cls.wait_admin(d)
        return d

    @staticmethod
    def wait_admin(d, timeout=20):
        """A follower makes no admin of its own: it can be logged in to
        once it applied the primary's (change set 1)."""
        deadline = time.time() + timeout
        while True:
            try:
                d.text("admin").close()
                return
            except AssertionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def add_users(cls, primary):
        with primary.text("admin") as c:
            for name, (role, pw) in USERS.items():
                r = c.cmd(line("USER", "ADD", name, role, pw, full_name="E2E " + name, depot="SH01"))
                assert r.code == 201, r

    def repl(self, d):
        with d.text("admin") as c:
            r = c.cmd("STATS")
            self.assertReply(r, 200)
            return {k[5:]: v for k, v in r.rec.items() if k.startswith("repl.")}

    def wait_repl(self, d, pred, what, timeout=20):
        deadline = time.time() + timeout
        while True:
            s = self.repl(d)
            if pred(s):
                return s
            if time.time() > deadline:
                self.fail("%s: %s not reached within %ss: %r\n%s" % (d.name, what, timeout, s, d.log_tail(20)))
            time.sleep(0.05)

    def wait_applied(self, d, seq, timeout=20):
        return self.wait_repl(d, lambda s: int(s["seq_committed"]) >= seq,
                              "change set %d" % seq, timeout)

    def pipelined_creates(self, d, count, kill_after=None):
        """Sends count WAYBILL CREATEs in one burst on one connection and
        reads the replies: {number: seq} of those acknowledged (201). With
        kill_after, d is killed (SIGKILL) once that many were acknowledged
        and the replies already sent are still read."""
        c = d.text("op1")
        numbers = [next_number("61") for _ in range(count)]
        promised = int(time.time()) + 3 * DAY
        c.send("\r\n".join(create_line(n, promised) for n in numbers))
        acked = {}
        try:
            for n in numbers:
                r = c.read_reply()
                if r.code == 201:
                    acked[n] = int(r["seq"])
                if kill_after is not None and len(acked) == kill_after:
                    d.kill()
        except (AssertionError, OSError, EOFError):
            if kill_after is None:
                raise
        finally:
            c.close()
        return acked
