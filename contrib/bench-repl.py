#!/usr/bin/python3
"""bench-repl.py — the cost of replication on durable writes, and failover.

Starts a three-node NATS cluster (tests/e2e/natscluster.py), then for each
mode (no replication, repl_ack=local, repl_ack=quorum) a primary and a
replica on fresh data directories, loads --waybills waybills, and runs
contrib/bench's durable SCANs at 1 and 50 connections (one request
outstanding each), printing ops/s, p50 and p99 and the replica's apply lag
(p50/p99 over its last 1024 change sets, from the log storing one to the
replica applying it). Then --failover-rounds times per mode: kill -9 of
the primary in the middle of pipelined writes, PROMOTE of the standby, and
how many acknowledged writes the new primary lacks (local mode may lose
its unshipped tail; quorum mode must lose none) and how long from the kill
to the first write the new primary accepted.

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
    # 50 connections log in at once
    primary = Daemon(*role, "--log-level", "warn", "--login-concurrent-per-address", "100",
                     "--auth-queue-max", "200", test_clock=False, name="bench-primary-" + mode)
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


def failover(args, nats, mode, rnd):
    """kill -9 of a primary in the middle of 400 pipelined creates, then
    PROMOTE of its standby: (acknowledged, acknowledged but missing on the
    new primary, seconds from the kill to the new primary's first write)."""
    log = nats.daemon_args() + ["--nats-stream", "FAILOVER_%s_%d" % (mode.upper(), rnd)]
    common = ["--repl-ack", mode, "--log-level", "warn"] + log
    primary = Daemon("--role", "primary", *common, test_clock=False, name="fo-primary").start()
    standby = Daemon("--role", "standby", *common, test_clock=False, name="fo-standby").start()
    try:
        # its admin is the primary's (change set 1): the log is in use
        natscluster.ReplicationCase.wait_admin(standby)
        c = primary.text("admin")
        numbers = ["59%08d" % (rnd * 1000 + i) for i in range(400)]
        promised = int(time.time()) + 3 * harness.DAY
        c.send("\r\n".join(harness.create_line(n, promised) for n in numbers))
        acked = []
        try:
            for n in numbers:
                if c.read_reply().code == 201:
                    acked.append(n)
                if len(acked) == 100:
                    primary.kill()
        except (AssertionError, OSError, EOFError):
            pass
        t_kill = time.time()
        with standby.text("admin") as s:
            s.cmd("PROMOTE")
            while s.cmd("STATS").rec["repl.role"] != "primary":
                time.sleep(0.01)
            r = s.cmd(harness.create_line("5899999999", promised))
            took = time.time() - t_kill
            missing = [n for n in acked if s.cmd(line("WAYBILL", "GET", n)).code != 200]
        return len(acked), len(missing), took
    finally:
        for d in (primary, standby):
            if d.running():
                d.stop()
            d.cleanup()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--daemon", default=os.path.join(REPO, "build", "parceldeskd"))
    p.add_argument("--bench", default=os.path.join(REPO, "build", "contrib", "bench"))
    p.add_argument("-d", "--duration", type=int, default=10)
    p.add_argument("--waybills", type=int, default=2000)
    p.add_argument("--failover-rounds", type=int, default=5)
    args = p.parse_args()
    harness.settings.daemon = args.daemon
    nats = natscluster.NatsCluster().start()
    try:
        for mode in ("off", "local", "quorum"):
            for row in run_mode(args, nats, mode):
                print(row, flush=True)
        for mode in ("local", "quorum"):
            rounds = [failover(args, nats, mode, i) for i in range(args.failover_rounds)]
            took = sorted(t for _, _, t in rounds)
            print("%-6s kill -9 + PROMOTE, %d rounds: %d writes acknowledged, %d of them lost; "
                  "kill to first write on the new primary: median %.2f s, max %.2f s" % (
                      mode, len(rounds), sum(a for a, _, _ in rounds), sum(m for _, m, _ in rounds),
                      took[len(took) // 2], took[-1]), flush=True)
    finally:
        nats.stop()


if __name__ == "__main__":
    main()
