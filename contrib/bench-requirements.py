"""bench-requirements.py DAEMON [N] [ROUNDS] — the cost of the special
requirements on WAYBILL GET (docs/performance.md): a fresh daemon (the
e2e harness: loopback, free port, scratch data dir, stopped by pid), one
account with a customer file and a waybill of it, one waybill of no
account; N GETs of each pipelined over one text connection, ROUNDS times;
prints the best wall time and the daemon's CPU time (/proc) per GET. A
daemon without CUSTOMER FILE (an older build) measures the same waybills
without requirements."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import harness  # noqa: E402
from harness import line, DAY

harness.settings.daemon = sys.argv[1]
TCK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TCK


N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
d = harness.Daemon(name="getbench")
d.start()
try:
    c = d.text("admin")
    assert c.cmd(line("CUSTOMER", "ADD", "ACME", name="Acme", payment="monthly", depot="SH01")).code == 201
    r = c.cmd(line("CUSTOMER", "FILE", "ACME", receipt_return="yes", handling="fragile", delivery_window="09:00-12:00"))
    has_file = r.code == 200
    now = int(c.cmd("CLOCK GET")["utc_secs"])
    for num, cust in (("7700000001", {"customer": "ACME"}), ("7700000002", {})):
        r = c.cmd(harness.create_line(num, now + 3 * DAY, **cust))
        assert r.code == 201, r
        for ev in ("picked_up", "departed", "arrived"):
            assert c.cmd(line("SCAN", num, ev, depot="SH01")).code == 201
    print("file set:", has_file, "requirements shown:", "requirements.handling" in c.cmd("WAYBILL GET 7700000001").rec)
    for num in ("7700000001", "7700000002"):
        best = None
        req = ("WAYBILL GET %s\r\n" % num).encode() * N
        cpu_best = None
        for _ in range(ROUNDS):
            cpu0 = cpu(d.proc.pid)
            t0 = time.perf_counter()
            c.sock.sendall(req)
            seen, tail = 0, b""
            while seen < N:
                data = tail + c.sock.recv(1 << 20)
                seen += data.count(b"\r\n.\r\n")
                tail = data[-4:]
            dt = time.perf_counter() - t0
            dc = cpu(d.proc.pid) - cpu0
            best = dt if best is None else min(best, dt)
            cpu_best = dc if cpu_best is None else min(cpu_best, dc)
        print("%s: %d GETs, best of %d: %.1f us/GET wall, %.1f us/GET daemon CPU" % (num, N, ROUNDS, best / N * 1e6, cpu_best / N * 1e6))
finally:
    d.stop()
    d.cleanup()
