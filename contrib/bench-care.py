#!/usr/bin/env python3
"""bench-care.py — times the agenda (CONTACT LIST due=week owner=U, what
`parceldesk agenda` sends) and REPORT MONTH (network, a depot, a customer)
on a running daemon, over one logged-in text connection: each request N
times, median, 90th percentile and max in milliseconds, and the rows.

  contrib/bench-care.py -p PORT -u o01 -P care-pw-01 --month 2026-11 --depot D01 --customer C000001
"""
import argparse
import socket
import statistics
import time


def request(sock, f, text):
    sock.sendall(text.encode() + b"\r\n")
    status = f.readline().rstrip(b"\r\n")
    code = int(status[:3])
    rows = 0
    if 200 <= code < 300:
        while True:
            ln = f.readline().rstrip(b"\r\n")
            if ln == b".":
                break
            rows += ln == b""
    return code, status.decode(), rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-p", "--port", type=int, required=True)
    ap.add_argument("-u", "--user", default="o01")
    ap.add_argument("-P", "--password", default="care-pw-01")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--month", required=True)
    ap.add_argument("--depot", default="D01")
    ap.add_argument("--customer", default="C000001")
    a = ap.parse_args()
    sock = socket.create_connection(("127.0.0.1", a.port), timeout=120)
    f = sock.makefile("rb")
    code, status, _ = request(sock, f, "AUTH %s %s" % (a.user, a.password))
    assert code == 200, status
    cases = [
        ("agenda (CONTACT LIST due=week owner=%s limit=500)" % a.user,
         "CONTACT LIST due=week owner=%s limit=500" % a.user),
        ("overdue contacts of %s" % a.user, "CONTACT LIST due=overdue owner=%s limit=500" % a.user),
        ("REPORT MONTH network", "REPORT MONTH month=%s" % a.month),
        ("REPORT MONTH depot=%s" % a.depot, "REPORT MONTH month=%s depot=%s" % (a.month, a.depot)),
        ("REPORT MONTH customer=%s" % a.customer, "REPORT MONTH month=%s customer=%s" % (a.month, a.customer)),
    ]
    for name, text in cases:
        times = []
        for _ in range(a.n):
            t = time.perf_counter()
            code, status, rows = request(sock, f, text)
            times.append((time.perf_counter() - t) * 1000)
            assert 200 <= code < 300, status
        times.sort()
        print("%-55s median %7.2f ms  p90 %7.2f ms  max %7.2f ms  (%s)" % (
            name, statistics.median(times), times[int(0.9 * (len(times) - 1))], times[-1], status))


if __name__ == "__main__":
    main()
