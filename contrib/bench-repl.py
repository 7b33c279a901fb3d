#!/usr/bin/python3
"""bench-repl.py — the cost of replication on durable writes.

Starts a three-node NATS cluster (tests/e2e/natscluster.py), then for each
mode (no replication, repl_ack=local, repl_ack=quorum) a primary and a
replica on fresh data directories, loads --waybills waybills, and runs
contrib/bench's durable SCANs at 1 and 50 connections (one request
outstanding each), printing ops/s, p50 and p99 and the replica's apply lag
(p50/p99 over its last 1024 change sets, from the log storing one to the
replica applying it).

  PARCELDESK_E2E_TMPDIR=/var/tmp /usr/bin/python3 contrib/bench-repl.py \\
      [--daemon build/parceldeskd] [--bench build/contrib/bench] [-d 10]

Use a real disk (the tmpdir above): on tmpfs an fsync costs nothing."""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import harness  # noqa: E402
from harness import ADMIN_PASSWORD, Daemon, line  # noqa: E402
import natscluster  # noqa: E402


def stats(d):
    with d.text("admin") as c:
        return c.cmd("STATS").rec


def bench(args, d, conns, mix, extra=()):
    cmd = [args.bench, "-p", str(d.port), "-c", str(conns), "-P", "1", "-u", "admin",
           "-a", ADMIN_PASSWORD, "--csv"] + list(extra)
    if mix:
        cmd += ["-d", str(args.duration), "--mix", mix, "--number-count", str(args.waybills)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    return out.splitlines()[-1].split(",")


def run_mode(args, nats, mode):
    # a stream per mode: each primary starts a fresh store
    log = nats.daemon_args() + ["--nats-stream", "BENCH_" + mode.upper()]
    role = [] if mode == "off" else ["--role", "primary", "--repl-ack", mode] + log
    primary = Daemon(*role, "--log-level", "warn", test_clock=False, name="bench-primary-" + mode)
    replica = None
    try:
        primary.start()
        if mode != "off":
            replica = Daemon("--role", "replica", *log, "--log-level", "warn",
                             test_clock=False, name="bench-replica-" + mode).start()
        bench(args, primary, 8, None, ["--load", str(args.waybills), "--events", "2", "-P", "16"])
        rows = []
        for conns in (1, 50):
            ops, _, rate, p50, p99 = bench(args, primary, conns, "scan:100")[:5]
            lag = ""
            if replica:
                top = int(stats(primary)["repl.seq_committed"])
                deadline = time.time() + 60
                while int(stats(replica)["repl.seq_committed"]) < top and time.time() < deadline:
                    time.sleep(0.1)
                s = stats(replica)
                lag = "lag p50 %s ms, p99 %s ms" % (s["repl.lag_p50_ms"], s["repl.lag_p99_ms"])
            rows.append("%-6s c=%-3d %8.0f scans/s  p50 %6.2f ms  p99 %6.2f ms  %s" % (
                mode, conns, float(rate), int(p50) / 1000, int(p99) / 1000, lag))
        return rows
    finally:
        for d in (primary, replica):
            if d:
                if d.running():
                    d.stop()
                d.cleanup()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daemon", default=os.path.join(REPO, "build", "parceldeskd"))
    p.add_argument("--bench", default=os.path.join(REPO, "build", "contrib", "bench"))
    p.add_argument("-d", "--duration", type=int, default=10)
    p.add_argument("--waybills", type=int, default=2000)
    args = p.parse_args()
    harness.settings.daemon = args.daemon
    nats = natscluster.NatsCluster().start()
    try:
        for mode in ("off", "local", "quorum"):
            for row in run_mode(args, nats, mode):
                print(row, flush=True)
    finally:
        nats.stop()


if __name__ == "__main__":
    main()
