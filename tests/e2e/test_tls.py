"""TLS on the daemon's one port (issue 12 item 9): the first byte 0x16
chooses TLS, anything else is the text or msgpack framing in clear.
Certificates are made at test time with the openssl command."""
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

from harness import ADMIN_PASSWORD, DaemonTestCase, MsgpackClient, TextClient, settings

OPENSSL = shutil.which("openssl")


def make_cert(directory, name, ca=None):
    """A key and certificate for 127.0.0.1: self-signed, or signed by ca (a
    (cert, key) pair). Returns (cert, key) paths."""
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".pem")
    subj = "/CN=%s" % name
    ext = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    if ca is None:
        cmd = [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", subj, "-addext", ext]
        subprocess.run(cmd, check=True, capture_output=True, timeout=30)
        return cert, key
    csr = os.path.join(directory, name + ".csr")
    subprocess.run([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", subj],
                   check=True, capture_output=True, timeout=30)
    extfile = os.path.join(directory, name + ".ext")
    with open(extfile, "w") as f:
        f.write(ext + "\n")
    subprocess.run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                    "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", extfile],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def tls_context(ca, client=None):
    ctx = ssl.create_default_context(cafile=ca)
    if client:
        ctx.load_cert_chain(client[0], client[1])
    return ctx


class TlsTestCase(DaemonTestCase):
    create_users = False

    @classmethod
    def setUpClass(cls):
        if not OPENSSL:
            raise unittest.SkipTest("no openssl command")
        cls.certdir = tempfile.mkdtemp(prefix="pd-e2e-tls-", dir=settings.tmpdir)
        cls.ca = make_cert(cls.certdir, "desk-ca")
        cls.server = make_cert(cls.certdir, "parceldeskd", ca=cls.ca)
        cls.daemon_args = ("--tls-cert", cls.server[0], "--tls-key", cls.server[1]) + cls.extra_args()
        super().setUpClass()

    @classmethod
    def extra_args(cls):
        return ()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def tls_text(self, client=None):
        c = TextClient(self.daemon.port)
        c.sock = tls_context(self.ca[0], client).wrap_socket(c.sock, server_hostname="127.0.0.1")
        self._clients.append(c)
        return c

    def tls_mp(self):
        m = MsgpackClient(self.daemon.port)
        m.sock = tls_context(self.ca[0]).wrap_socket(m.sock, server_hostname="127.0.0.1")
        self._clients.append(m)
        return m


class Tls(TlsTestCase):
    def test_text_framing_over_tls(self):
        c = self.tls_text()
        self.assertEqual(c.sock.version() in ("TLSv1.2", "TLSv1.3"), True)
        self.assertReply(c.cmd("PING"), 200, "PONG")
        self.assertReply(c.cmd("WAYBILL GET 123456"), 401)
        r = self.assertReply(c.cmd("AUTH admin %s" % ADMIN_PASSWORD), 200)
        self.assertEqual(r["role"], "admin")
        r = self.assertReply(c.cmd("WHOAMI"), 200)
        self.assertEqual(r["user"], "admin")
        self.assertReply(c.cmd("USER ADD tlsop operator tlsop-password"), 201)

    def test_msgpack_framing_over_tls(self):
        m = self.tls_mp()
        self.assertEqual(m.call("PING"), {"code": 200, "msg": "PONG", "data": None})
        self.assertEqual(m.call("AUTH", "admin", ADMIN_PASSWORD)["code"], 200)
        r = m.call("WHOAMI")
        self.assertEqual((r["code"], r["data"]["user"], r["data"]["role"]), (200, "admin", "admin"))
        # pipelined frames over TLS keep their order
        m.send_raw(b"".join(m.pack(["PING"]) for _ in range(50)) + m.pack(["CLOCK", "GET"]))
        for _ in range(50):
            self.assertEqual(m.recv()["msg"], "PONG")
        self.assertEqual(m.recv()["code"], 200)

    def test_a_pipelined_burst_with_an_error_and_quit_over_tls(self):
        """The replies of a burst, an error among them, go out in order over
        TLS too, and QUIT closes once its own reply is out."""
        c = self.tls_text()
        c.send("PING\r\nFROB\r\n" + "CLOCK GET\r\n" * 20 + "PING\r\nQUIT\r\nPING\r\n")
        self.assertReply(c.read_reply(), 200, "PONG")
        self.assertReply(c.read_reply(), 400, "unknown command 'FROB' (try HELP)")
        for _ in range(20):
            self.assertEqual(c.read_reply().code, 200)
        self.assertReply(c.read_reply(), 200, "PONG")
        self.assertReply(c.read_reply(), 200, "bye")
        self.assertTrue(c.at_eof(5), "the connection stays open after QUIT")
        self.assertEqual(c.tail, b"")

    def test_clear_text_and_msgpack_still_served_on_the_same_port(self):
        c = self.text()
        self.assertReply(c.cmd("PING"), 200, "PONG")
        m = self.mp()
        self.assertEqual(m.call("PING")["msg"], "PONG")

    def test_openssl_s_client_is_the_telnet_of_tls(self):
        r = subprocess.run([OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % self.daemon.port,
                            "-CAfile", self.ca[0], "-verify_return_error", "-quiet"],
                           input=b"PING\r\nQUIT\r\n", capture_output=True, timeout=30)
        self.assertIn(b"200 PONG\r\n.\r\n200 bye\r\n", r.stdout, r.stderr)

    def test_client_tls_ca(self):
        argv = [settings.client, "-p", str(self.daemon.port), "-u", "admin", "-P", ADMIN_PASSWORD]
        r = subprocess.run(argv + ["--tls-ca", self.ca[0], "--json", "whoami"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'"user":"admin"', r.stdout.replace(b" ", b""))
        # without the desk's CA the daemon's certificate is not trusted
        r = subprocess.run(argv + ["--tls", "whoami"], capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"TLS with 127.0.0.1:%d failed" % self.daemon.port, r.stderr)

    def test_tls_clients_that_never_read_are_released_when_they_leave(self):
        """A TLS client that stopped reading and then closed is gone, not
        kept until the idle timeout (TLS reports the reset as an EOF while
        writing, not as an error)."""
        import socket
        import time
        admin = self.text("admin")
        hogs = []
        for _ in range(4):
            s = tls_context(self.ca[0]).wrap_socket(
                socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10),
                server_hostname="127.0.0.1")
            s.setblocking(False)
            try:
                for _ in range(200):
                    s.send(b"HELP\r\n" * 100)
            except (ssl.SSLWantWriteError, BlockingIOError):
                pass
            hogs.append(s)
        time.sleep(1)
        for s in hogs:
            s.close()
        deadline = time.time() + 8
        while int(self.stats(admin)["connections_current"]) > 1:
            self.assertLess(time.time(), deadline, "closed TLS clients are still held")
            time.sleep(0.2)

    def test_a_wrong_ca_is_refused(self):
        other = make_cert(self.certdir, "other-ca")
        c = TextClient(self.daemon.port)
        self._clients.append(c)
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_context(other[0]).wrap_socket(c.sock, server_hostname="127.0.0.1")


class TlsClientCertificates(TlsTestCase):
    """With tls_ca, only clients holding a certificate signed by it get in."""

    @classmethod
    def extra_args(cls):
        cls.client = make_cert(cls.certdir, "terminal-7", ca=cls.ca)
        return ("--tls-ca", cls.ca[0])

    def test_a_client_certificate_is_required(self):
        c = self.tls_text(client=self.client)
        self.assertReply(c.cmd("PING"), 200, "PONG")
        bare = TextClient(self.daemon.port)
        self._clients.append(bare)
        with self.assertRaises((ssl.SSLError, ConnectionResetError, EOFError, BrokenPipeError)):
            s = tls_context(self.ca[0]).wrap_socket(bare.sock, server_hostname="127.0.0.1")
            bare.sock = s
            # TLS 1.3 reports a refused client certificate on the first read
            bare.cmd("PING")


class TlsRequired(TlsTestCase):
    """With tls_required, a password never crosses the network in clear."""

    @classmethod
    def extra_args(cls):
        return ("--tls-required",)

    def test_passwords_only_over_tls(self):
        clear = self.text()
        self.assertReply(clear.cmd("PING"), 200)   # the rest still works in clear
        r = clear.cmd("AUTH admin %s" % ADMIN_PASSWORD)
        self.assertReply(r, 403, "a password crosses the network only over TLS here "
                                 "(tls_required): connect with TLS")
        self.assertReply(clear.cmd("WHOAMI"), 200)
        self.assertEqual(clear.cmd("WHOAMI")["role"], "none")
        m = self.mp()
        self.assertEqual(m.call("AUTH", "admin", ADMIN_PASSWORD)["code"], 403)
        c = self.tls_text()
        self.assertReply(c.cmd("AUTH admin %s" % ADMIN_PASSWORD), 200)
        self.assertReply(c.cmd("USER ADD tlsonly operator tlsonly-password"), 201)
        self.assertReply(c.cmd("USER PASSWD tlsonly tlsonly-password-2"), 200)


class TlsStalledHandshake(TlsTestCase):
    """A TLS handshake begun and left half-done is closed once the login
    deadline and the 408's 5 s have passed: before, it held its place for
    good (a red-team run filled every connection slot with them)."""

    @classmethod
    def extra_args(cls):
        return ("--login-timeout-secs", "1")

    def test_a_stalled_handshake_is_closed(self):
        import socket
        import time
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        hello = tls_context(self.ca[0]).wrap_bio(incoming, outgoing, server_hostname="x")
        try:
            hello.do_handshake()
        except ssl.SSLWantReadError:
            pass
        client_hello = outgoing.read()
        for first in (client_hello[:5], client_hello):  # a record header only; a whole ClientHello
            s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=15)
            self.addCleanup(s.close)
            s.sendall(first)
            t0 = time.monotonic()
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            took = time.monotonic() - t0
            self.assertLess(took, 10, "the stalled handshake was not closed")
            self.assertGreater(took, 0.9)  # the login deadline first


class TlsBadSetup(DaemonTestCase):
    create_users = False
    start_daemon = False

    def test_a_key_without_its_certificate_is_refused_at_start(self):
        if not OPENSSL:
            self.skipTest("no openssl command")
        d = self.new_daemon()
        cert, key = make_cert(d.workdir, "one")
        other_cert, _ = make_cert(d.workdir, "two")
        for args, msg in (((("--tls-cert", cert)), b"TLS needs both tls_cert and tls_key"),
                          (("--tls-cert", other_cert, "--tls-key", key), b"key values mismatch"),
                          (("--tls-cert", cert + ".missing", "--tls-key", key), b"cannot load the certificate"),
                          (("--tls-required",), b"tls_required needs tls_cert and tls_key")):
            r = subprocess.run(d.argv(1) + list(args), env=d.env(), capture_output=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(msg, r.stderr)


if __name__ == "__main__":
    unittest.main()
