"""Metrics: --metrics-listen serves Prometheus text on GET /metrics; the
names, types and samples follow the exposition format, and the counters
move with the traffic."""
import http.client
import re
import socket
import time
import unittest

from harness import REPO, DaemonTestCase, line, next_phone

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABELS = r'\{(?:%s="(?:[^"\\\n]|\\.)*",?)*\}' % r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(r"^(%s)(%s)? (-?[0-9.e+-]+|\+Inf|NaN)$" % (NAME, LABELS))
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

# every metric of parceldeskd(8), with its type
DOCUMENTED = {
    "parceldesk_build_info": "gauge",
    "parceldesk_start_time_seconds": "gauge",
    "parceldesk_requests_total": "counter",
    "parceldesk_errors_total": "counter",
    "parceldesk_request_duration_seconds": "histogram",
    "parceldesk_connections": "gauge",
    "parceldesk_connections_total": "counter",
    "parceldesk_connections_rejected_total": "counter",
    "parceldesk_heap_trims_total": "counter",
    "parceldesk_writer_group_size": "histogram",
    "parceldesk_writer_group_seconds": "histogram",
    "parceldesk_store_used_bytes": "gauge",
    "parceldesk_store_map_bytes": "gauge",
    "parceldesk_store_map_used_ratio": "gauge",
    "parceldesk_store_map_grows_total": "counter",
    "parceldesk_store_map_grows_ahead_total": "counter",
    "parceldesk_open_records": "gauge",
    "parceldesk_overdue_records": "gauge",
    "parceldesk_timer_runs_total": "counter",
    "parceldesk_timer_lag_seconds": "gauge",
    "parceldesk_timer_lag_max_seconds": "gauge",
    "parceldesk_repl_role": "gauge",
    "parceldesk_repl_epoch": "gauge",
    "parceldesk_repl_seq": "gauge",
    "parceldesk_repl_lag_entries": "gauge",
    "parceldesk_repl_lag_seconds": "gauge",
    "parceldesk_repl_outbox_entries": "gauge",
    "parceldesk_repl_refused_total": "counter",
}


def parse(text):
    """Checks the text format; returns ({family: type}, {(name, labels): value})."""
    types, helps, samples = {}, {}, {}
    for ln in text.split("\n")[:-1]:  # ends with a newline
        if ln.startswith("# HELP "):
            name, _, doc = ln[7:].partition(" ")
            assert re.fullmatch(NAME, name) and doc, ln
            assert name not in helps, "HELP twice: " + ln
            helps[name] = doc
            continue
        if ln.startswith("# TYPE "):
            name, _, t = ln[7:].partition(" ")
            assert t in ("counter", "gauge", "histogram", "summary", "untyped"), ln
            assert name not in types, "TYPE twice: " + ln
            types[name] = t
            continue
        assert not ln.startswith("#") and ln.strip() == ln and ln, "bad line %r" % ln
        m = SAMPLE.match(ln)
        assert m, "not a sample: %r" % ln
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(
            r"_(bucket|sum|count)$", "", name) in types else name
        assert family in types, "sample before its TYPE: %r" % ln
        if types[family] == "counter":
            assert float(value) >= 0, ln
        key = (name, tuple(sorted(LABEL.findall(labels))))
        assert key not in samples, "sample twice: %r" % ln
        samples[key] = float(value)
    return types, samples


class Metrics(DaemonTestCase):
    metrics = True
    create_users = ("op1",)

    @property
    def metrics_port(self):
        return self.daemon.metrics_port

    def get(self, path="/metrics", method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=20)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, r.getheader("Content-Type"), r.read().decode()
        finally:
            c.close()

    def scrape(self):
        status, ctype, body = self.get()
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        return parse(body)

    def test_names_and_types_follow_the_format(self):
        types, samples = self.scrape()
        for name, t in DOCUMENTED.items():
            self.assertEqual(types.get(name), t, name)
        self.assertEqual(set(types) - set(DOCUMENTED), set(), "undocumented metrics")
        for name, t in types.items():
            if t != "histogram":
                continue
            series = {}
            for (n, labels), v in samples.items():
                if n == name + "_bucket":
                    le = dict(labels)["le"]
                    rest = tuple(kv for kv in labels if kv[0] != "le")
                    series.setdefault(rest, []).append((float(le), v))
            self.assertTrue(series, name)
            for rest, buckets in series.items():
                buckets.sort()
                self.assertEqual(buckets[-1][0], float("inf"), name)
                counts = [v for _, v in buckets]
                self.assertEqual(counts, sorted(counts), "%s buckets must be cumulative" % name)
                self.assertEqual(counts[-1], samples[(name + "_count", rest)], name)
                self.assertIn((name + "_sum", rest), samples)
        # the man page documents each one
        with open(REPO + "/man/parceldeskd.8") as f:
            man = f.read().replace("\\_", "_").replace("\\fB", "").replace("\\fR", "")
        for name in DOCUMENTED:
            self.assertIn(name, man)

    def test_counters_move_with_traffic(self):
        op = self.daemon.text("op1")  # its own: a pooled one PINGs before reuse
        self.addCleanup(op.close)
        _, before = self.scrape()
        for _ in range(3):
            self.assertReply(op.cmd("PING"), 200)
        self.assertReply(op.cmd(line("WAYBILL", "GET", "000000009999")), 404)
        self.assertReply(op.cmd("FROB"), 400)
        r = op.cmd(line("COMPLAINT", "OPEN", channel="phone", category="delay", depot="SH01",
                        customer_name="Han Meimei", customer_phone=next_phone(), text="late"))
        self.assertReply(r, 201)
        _, after = self.scrape()

        def delta(name, **labels):
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0) - before.get(key, 0)

        self.assertEqual(delta("parceldesk_requests_total", command="PING", code="200"), 3)
        self.assertEqual(delta("parceldesk_requests_total", command="WAYBILL GET", code="404"), 1)
        self.assertEqual(delta("parceldesk_requests_total", command="", code="400"), 1)
        self.assertEqual(delta("parceldesk_requests_total", command="COMPLAINT OPEN", code="201"), 1)
        self.assertGreaterEqual(delta("parceldesk_errors_total", code="404"), 1)
        self.assertGreaterEqual(delta("parceldesk_request_duration_seconds_count", kind="read"), 4)
        self.assertGreaterEqual(delta("parceldesk_request_duration_seconds_count", kind="write"), 1)
        self.assertGreaterEqual(delta("parceldesk_writer_group_size_count"), 1)
        self.assertGreaterEqual(delta("parceldesk_writer_group_seconds_count"), 1)
        self.assertEqual(delta("parceldesk_open_records", kind="complaint", level="handler"), 1)
        self.assertEqual(delta("parceldesk_open_records", kind="complaint", level="supervisor"), 0)
        # a day later the complaint is past its acknowledge-by: the overdue
        # gauge counts what the desk's own overdue list shows
        admin = self.conn("admin")
        self.assertReply(admin.cmd(line("CLOCK", "SET", "2031-01-01T00:00:00Z")), 200)
        _, later = self.scrape()
        m = self.daemon.mp("op1")
        self.addCleanup(m.close)
        for kind, noun in (("complaint", "COMPLAINT"), ("claim", "CLAIM")):
            listed = m.call(noun, "LIST", overdue=True, limit=1000)
            self.assertEqual(listed["code"], 200, listed)
            self.assertEqual(later[("parceldesk_overdue_records", (("kind", kind),))],
                             len(listed["data"]), kind)
        self.assertGreaterEqual(later[("parceldesk_overdue_records", (("kind", "complaint"),))], 1)
        self.assertGreaterEqual(after[("parceldesk_connections", ())], 1)
        used = after[("parceldesk_store_used_bytes", ())]
        self.assertGreater(used, 0)
        self.assertLessEqual(used, after[("parceldesk_store_map_bytes", ())])
        ratio = after[("parceldesk_store_map_used_ratio", ())]
        self.assertGreater(ratio, 0)
        self.assertLessEqual(ratio, 1)
        version = self.stats(self.conn("admin"))["daemon_version"]
        self.assertEqual(after[("parceldesk_build_info", (("version", version),))], 1)

    def test_heap_trims_are_counted_as_in_stats(self):
        """A connection thread gives closed connections' memory back a
        second after its last close (STATS heap_trims): the counter shows
        the same count."""
        admin = self.conn("admin")
        with self.daemon.text("op1") as c:
            self.assertReply(c.cmd("PING"), 200)
        deadline = time.time() + 10
        while self.scrape()[1].get(("parceldesk_heap_trims_total", ()), 0) < 1:
            self.assertLess(time.time(), deadline, "no trim 10 s after a close")
            time.sleep(0.2)
        trims = int(self.stats(admin)["heap_trims"])
        self.assertGreaterEqual(trims, 1)
        self.assertEqual(self.scrape()[1][("parceldesk_heap_trims_total", ())], trims)

    def test_only_get_metrics(self):
        self.assertEqual(self.get("/")[0], 404)
        self.assertEqual(self.get("/metrics?x=1")[0], 200)
        self.assertEqual(self.get("/metrics", method="POST")[0], 501)  # libevent's answer
        self.assertTrue(self.daemon.running())

    def test_connections_are_bounded(self):
        # silent clients hold at most 8 connections; the 9th waits in the
        # backlog (the desk's own port is not affected) and is served once
        # they are gone
        idle = [socket.create_connection(("127.0.0.1", self.metrics_port)) for _ in range(8)]
        try:
            time.sleep(0.3)
            c = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=1.5)
            with self.assertRaises(socket.timeout):
                c.request("GET", "/metrics")
                c.getresponse()
            c.close()
            self.assertReply(self.conn("op1").cmd("PING"), 200)
        finally:
            for s in idle:
                s.close()
        self.assertEqual(self.get()[0], 200)


class MetricsOlderStore(DaemonTestCase):
    """A store written before the open_level index existed gets it filled
    once at start, so the gauges count the complaints it already held."""
    start_daemon = False

    def test_open_level_index_filled_at_start(self):
        import lmdb  # Debian python3-lmdb
        d = self.new_daemon(metrics=True)
        d.start()
        with d.text("admin") as c:
            for _ in range(2):
                self.assertReply(c.cmd(line(
                    "COMPLAINT", "OPEN", channel="phone", category="delay", depot="SH01",
                    customer_name="Li Lei", customer_phone=next_phone(), text="late")), 201)
        d.stop()
        # make it an older store: no open_level entries, no mark
        env = lmdb.open(d.data_dir, max_dbs=64, map_size=1 << 30, subdir=True)
        idx, meta = env.open_db(b"idx_c", dupsort=True, create=False), env.open_db(b"meta", create=False)
        with env.begin(write=True) as txn:
            self.assertTrue(txn.delete(b"index:complaint:open_level", db=meta))
            cur = txn.cursor(db=idx)
            self.assertTrue(cur.set_key(b"open_level=handler"))
            self.assertEqual(cur.count(), 2)
            cur.delete(dupdata=True)
        env.close()
        d.start()
        c = http.client.HTTPConnection("127.0.0.1", d.metrics_port, timeout=20)
        c.request("GET", "/metrics")
        _, samples = parse(c.getresponse().read().decode())
        c.close()
        self.assertEqual(samples[("parceldesk_open_records",
                                  (("kind", "complaint"), ("level", "handler")))], 2)
        d.stop()


class MetricsBind(DaemonTestCase):
    start_daemon = False

    def test_a_metrics_address_in_use_stops_the_start(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        d = self.new_daemon("--metrics-listen", "127.0.0.1:%d" % taken.getsockname()[1])
        d.spawn()
        self.assertEqual(d.proc.wait(20), 1)
        d._forget()
        d.check_sanitizer()
        self.assertIn("cannot serve metrics on 127.0.0.1:%d" % taken.getsockname()[1], d.log_text())
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", d.port), timeout=1).close()

    def test_a_bad_address_is_refused(self):
        d = self.new_daemon("--metrics-listen", "9420")
        d.spawn()
        self.assertEqual(d.proc.wait(20), 2)
        d._forget()
        self.assertIn("metrics_listen must be HOST:PORT", d.log_text())


class MetricsOff(DaemonTestCase):
    create_users = ()

    def test_off_by_default(self):
        self.assertNotIn("metrics on", self.daemon.log_text())
        self.assertEqual(self.stats(self.conn("admin"))["config.metrics_listen"], "")


if __name__ == "__main__":
    unittest.main()
