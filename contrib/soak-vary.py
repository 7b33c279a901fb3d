#!/usr/bin/python3
"""soak-vary.py — one soak run of parceldeskd under a given configuration
(not part of CI; contrib/soak.sh is the long mixed load at the defaults).

  /usr/bin/python3 contrib/soak-vary.py --run-dir DIR [--daemon BIN]
      [--bench BIN] [--store fresh|PATH] [--secs N] [--stop term|kill]
      [--cycles N] [--conns N] [--pipeline N] [--mix get:50,scan:50]
      [--backup-pause SECS] -- DAEMON OPTIONS...

Starts DAEMON (127.0.0.1, free ports, `ulimit -c unlimited`, cwd DIR so a
core lands there) on DIR/data: a fresh store (filled with bench --load
2000) or a dd copy of PATH/data.mdb (never the original). For --secs it
runs build/contrib/bench (--mix, -c --conns, -P --pipeline, --timeout 10)
and at the same time, in threads: STATS and /metrics polled every few ms,
BACKUP after BACKUP (--backup-pause apart; only the newest kept), a
scanner that records every acknowledged SCAN (waybill, seq), clients that
pipeline GETs and SCANs then close (FIN or RST), clients that never read,
oversized and garbage lines, and bursts of --burst connections. Every
--secs/--cycles seconds it stops the daemon (--stop: SIGTERM or SIGKILL),
checks its exit, restarts it and checks with WAYBILL GET that every
acknowledged scan is there (event_count >= seq); at the end the same
after a SIGTERM. A request unanswered for 10 s is a hang (a login gets a
minute: until round 17 it waited behind any BACKUP, on the one slow
thread; its worst wait is printed): the daemon's threads go to DIR/hang-bt.txt (gdb) before it
is killed; a core's go to DIR/core-bt.txt. Prints one summary line;
exits 1 on any finding (a crash, a core, a hang, a sanitizer report, a
lost write, a bench failure). Against --max-connections below the load,
the bench's "malformed reply" is the text 429 refusal on its msgpack
connection, and with more bench connections than auth_queue_max (64)
its logins are shed (503): neither is a daemon fault."""
import argparse
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN_PW = "soak-admin-pw1"
SAN = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "SUMMARY: ")
HANG_SECS = 10


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Conn:
    def __init__(self, port, timeout=HANG_SECS):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def reply(self):
        first = self.f.readline()
        if not first:
            raise EOFError("closed")
        first = first.decode("utf-8", "replace").rstrip("\r\n")
        fields = {}
        if first[:1] == "2":
            while True:
                ln = self.f.readline()
                if not ln:
                    raise EOFError("closed mid-reply")
                ln = ln.decode("utf-8", "replace").rstrip("\r\n")
                if ln == ".":
                    break
                k, _, v = ln.partition(": ")
                fields[k] = v
        return first, fields

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()

    def auth(self, run):
        """AUTH hashes on the hashing thread (before round 17 behind any
        BACKUP): its wait is measured (auth_max_ms), and only a minute
        without reply is a hang."""
        t = time.monotonic()
        self.s.settimeout(60)
        r, _ = self.cmd("AUTH admin " + ADMIN_PW)
        self.s.settimeout(HANG_SECS)
        ms = (time.monotonic() - t) * 1000
        with run.lock:
            run.counts["auth_max_ms"] = max(run.counts.get("auth_max_ms", 0), int(ms))
            if ms > HANG_SECS * 1000:
                run.counts["auth_over_10s"] = run.counts.get("auth_over_10s", 0) + 1
        if not r.startswith("200"):
            raise EOFError("AUTH: " + r)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Died(Exception):
    pass


class Run:
    def __init__(self, a):
        self.a = a
        self.findings = []
        self.counts = {}
        self.acked = {}  # waybill -> highest acknowledged seq
        self.lock = threading.Lock()
        self.proc = None
        self.stop_load = threading.Event()
        self.port = free_port()
        self.mport = free_port()
        self.starts = 0
        self.backup_no = 0
        self.start_secs = []  # seconds from exec to the first PING answered

    def note(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def find(self, what):
        with self.lock:
            self.findings.append(what)
        print("FINDING: " + what, flush=True)

    # ---- the daemon ----
    def start(self):
        self.starts += 1
        a = self.a
        err = open(os.path.join(a.run_dir, "daemon%d.err" % self.starts), "wb")
        env = dict(os.environ, PARCELDESK_ADMIN_PASSWORD=ADMIN_PW,
                   ASAN_OPTIONS="abort_on_error=1:disable_coredump=0:detect_leaks=1",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        cmd = [a.daemon, "--listen", "127.0.0.1:%d" % self.port,
               "--metrics-listen", "127.0.0.1:%d" % self.mport,
               "--data-dir", os.path.join(a.run_dir, "data")] + a.daemon_args

        def limits():
            resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        self.proc = subprocess.Popen(cmd, cwd=a.run_dir, env=env, stdout=err, stderr=err,
                                     preexec_fn=limits)
        t0 = time.time()
        deadline = t0 + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.find("daemon start %d exited %s" % (self.starts, self.proc.returncode))
                return False
            try:
                c = Conn(self.port, timeout=2)
                r, _ = c.cmd("PING")
                c.close()
                if r.startswith("2"):
                    self.start_secs.append(round(time.time() - t0, 1))
                    return True
            except (OSError, EOFError):
                pass
            time.sleep(0.1)
        self.find("daemon start %d: no PING reply in 120 s" % self.starts)
        return False

    def dump_threads(self, why):
        path = os.path.join(self.a.run_dir, "hang-bt.txt")
        with open(path, "a") as f:
            f.write("==== %s\n" % why)
            f.flush()
            subprocess.run(["gdb", "-batch", "-p", str(self.proc.pid), "-ex", "thread apply all bt"],
                           stdout=f, stderr=subprocess.STDOUT, timeout=120)

    def stop(self, how):
        p = self.proc
        if p.poll() is not None:
            self.find("daemon died by itself: exit %s" % p.returncode)
            return
        p.send_signal(signal.SIGKILL if how == "kill" else signal.SIGTERM)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.dump_threads("SIGTERM not done in 60 s")
            self.find("SIGTERM not done in 60 s (threads in hang-bt.txt)")
            p.kill()
            rc = p.wait()
        if how == "term" and rc != 0:
            self.find("exit %s after SIGTERM" % rc)
        if how == "kill" and rc != -signal.SIGKILL:
            self.find("exit %s, not SIGKILL" % rc)

    # ---- checks ----
    def alive(self, when):
        rc = self.proc.poll()
        if rc is not None:
            self.find("daemon died during %s: exit %s%s" % (when, rc, " (signal %d)" % -rc if rc < 0 else ""))
            raise Died()

    def verify(self, when):
        with self.lock:
            want = dict(self.acked)
        if not want:
            return
        c = Conn(self.port, timeout=30)
        c.auth(self)
        lost = 0
        for n, seq in want.items():
            r, f = c.cmd("WAYBILL GET " + n)
            if not r.startswith("200") or int(f.get("event_count", "0")) < seq:
                lost += 1
                if lost <= 3:
                    self.find("%s: acknowledged scan %s seq %d lost: %s event_count %s"
                              % (when, n, seq, r, f.get("event_count")))
        c.close()
        self.note("verified_waybills", len(want))
        if lost:
            self.find("%s: %d of %d waybills lost acknowledged scans" % (when, lost, len(want)))

    # ---- load ----
    def loop(self, name, fn, pause):
        def run():
            while not self.stop_load.is_set():
                try:
                    fn()
                    self.note(name)
                except socket.timeout:
                    if not self.stop_load.is_set() and self.proc.poll() is None:
                        self.dump_threads("%s: no reply in %d s" % (name, HANG_SECS))
                        self.find("%s: no reply in %d s (threads in hang-bt.txt)" % (name, HANG_SECS))
                        self.stop_load.set()
                except (OSError, EOFError) as e:
                    self.note(name + "_err")
                    if self.a.verbose:
                        print("%s: %r" % (name, e), flush=True)
                    time.sleep(0.05)
                self.stop_load.wait(pause)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def stats(self):
        c = Conn(self.port)
        try:
            c.auth(self)
            for _ in range(200):
                r, f = c.cmd("STATS")
                if not r.startswith("200"):
                    self.find("STATS: " + r)
                if f.get("wal_error"):
                    self.find("wal_error: " + f["wal_error"])
                time.sleep(0.005)
        finally:
            c.close()

    def metrics(self):
        s = socket.create_connection(("127.0.0.1", self.mport), timeout=HANG_SECS)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        if not got.startswith(b"HTTP/1.1 200") and not got.startswith(b"HTTP/1.0 200"):
            self.find("/metrics: %r" % got[:80])

    def backup(self):
        c = Conn(self.port)
        try:
            c.auth(self)
            c.s.settimeout(120)  # a copy of 2 GB under load takes a while
            while not self.stop_load.is_set():
                t = time.monotonic()
                with self.lock:
                    self.backup_no += 1
                    name = "soak%06d" % self.backup_no
                r, _ = c.cmd("BACKUP " + name)
                ms = int((time.monotonic() - t) * 1000)
                with self.lock:
                    self.counts["backup_max_ms"] = max(self.counts.get("backup_max_ms", 0), ms)
                    self.counts["backups"] = self.counts.get("backups", 0) + 1
                if not r.startswith("200"):
                    self.note("backup_refused")
                self.drop_old_backups()
                self.stop_load.wait(self.a.backup_pause)
        finally:
            c.close()

    def drop_old_backups(self):
        # keep the disk: only the newest backup stays
        bdir = os.path.join(self.a.run_dir, "data", "backups")
        for name in sorted(os.listdir(bdir))[:-1] if os.path.isdir(bdir) else []:
            if not name.startswith("."):
                subprocess.run(["rm", "-rf", os.path.join(bdir, name)])

    def scanner(self):
        c = Conn(self.port)
        try:
            c.auth(self)
            while not self.stop_load.is_set():
                batch = [self.numbers[random.randrange(len(self.numbers))] for _ in range(8)]
                t = time.monotonic()
                c.s.sendall(b"".join(b"SCAN %s damaged depot=SOAK1\r\n" % n.encode() for n in batch))
                for n in batch:
                    r, f = c.reply()
                    self.note("scans_sent")
                    if r.startswith("201"):
                        with self.lock:
                            self.acked[n] = max(self.acked.get(n, 0), int(f["seq"]))
                    elif not r.startswith("503"):
                        self.find("SCAN %s: %s" % (n, r))
                ms = int((time.monotonic() - t) * 1000)
                with self.lock:
                    self.counts["scan_max_ms"] = max(self.counts.get("scan_max_ms", 0), ms)
        finally:
            c.close()

    def quitter(self):
        c = Conn(self.port)
        c.s.sendall(b"AUTH admin " + ADMIN_PW.encode() + b"\r\n" +
                    b"".join(b"WAYBILL GET %s\r\nSCAN %s damaged depot=SOAK2\r\n" % (n.encode(), n.encode())
                             for n in random.sample(self.numbers, 20)))
        time.sleep(random.random() * 0.02)
        if random.random() < 0.5:  # RST instead of FIN
            c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()

    def non_reader(self):
        c = Conn(self.port)
        c.auth(self)
        c.s.setblocking(False)
        req = b"".join(b"WAYBILL GET %s\r\n" % n.encode() for n in random.sample(self.numbers, 20))
        t = time.time()
        while time.time() < t + 3 and not self.stop_load.is_set():
            try:
                c.s.send(req)
            except BlockingIOError:
                time.sleep(0.05)
        c.close()

    def junk(self):
        c = Conn(self.port)
        k = random.randrange(4)
        if k == 0:
            c.s.sendall(b"PING " + b"x" * random.choice((4000, 70000, 2000000)) + b"\r\n")
        elif k == 1:
            c.s.sendall(bytes(random.getrandbits(8) for _ in range(3000)))
        elif k == 2:
            c.s.sendall(b"\xdd\xff\xff\xff\xff")  # msgpack array32 claiming 4G elements
        else:
            c.s.sendall(b"AUTH admin " + ADMIN_PW.encode() + b"\r\nWAYBILL CREATE " + b"9" * 5000 + b"\r\n")
        try:
            c.s.recv(65536)
        except OSError:
            pass
        c.close()

    def burst(self):
        conns = []
        try:
            for _ in range(self.a.burst):
                try:
                    conns.append(socket.create_connection(("127.0.0.1", self.port), timeout=HANG_SECS))
                except OSError:
                    self.note("burst_refused")
                    break
            for s in conns[::7]:
                s.sendall(b"PING\r\n")
            for s in conns[::7]:
                if s.recv(100).startswith(b"429"):
                    self.note("burst_refused")
        finally:
            for s in conns:
                s.close()

    def bench(self, secs, tag):
        a = self.a
        out = open(os.path.join(a.run_dir, "bench-%s.txt" % tag), "wb")
        cmd = [a.bench, "-p", str(self.port), "-u", "admin", "-a", ADMIN_PW, "-c", str(a.conns), "-P", str(a.pipeline),
               "-d", str(secs), "--mix", a.mix, "--timeout", str(HANG_SECS), "--csv",
               "--scan-event", "damaged"] + self.bench_numbers
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
        out.close()
        txt = open(out.name).read().strip()
        self.note("bench_ops", int(txt.split(",")[0]) if re.match(r"^\d+,", txt) else 0)
        if rc != 0 and not self.stop_load.is_set():
            self.find("bench %s exit %d: %s" % (tag, rc, txt[-200:]))

    def phase(self, secs, tag):
        self.stop_load.clear()
        pool = [self.loop("stats", self.stats, 0.0), self.loop("metrics", self.metrics, 0.005),
                self.loop("backup", self.backup, 0.5), self.loop("scanner", self.scanner, 0.0),
                self.loop("quitter", self.quitter, 0.2), self.loop("non_reader", self.non_reader, 0.5),
                self.loop("junk", self.junk, 0.1), self.loop("burst", self.burst, 2.0)]
        self.bench(secs, tag)
        self.stop_load.set()
        for t in pool:
            t.join(150)

    def fill(self):
        a = self.a
        data = os.path.join(a.run_dir, "data")
        os.makedirs(data, exist_ok=True)
        if a.store == "fresh":
            if not self.start():
                return False
            n = 2000
            subprocess.run([a.bench, "-p", str(self.port), "-u", "admin", "-a", ADMIN_PW, "--load", str(n),
                            "--events", "3", "-c", "8", "-P", "4"], stdout=subprocess.DEVNULL, check=True)
        else:
            subprocess.run(["dd", "if=" + os.path.join(a.store, "data.mdb"), "of=" + os.path.join(data, "data.mdb"),
                            "bs=1M", "status=none"], check=True)
            n = 100000
            if not self.start():
                return False
        self.numbers = ["%012d" % i for i in range(1, n + 1)]
        self.bench_numbers = ["--number-count", str(n)]
        return True

    def sanitizer_and_cores(self):
        for name in sorted(os.listdir(self.a.run_dir)):
            p = os.path.join(self.a.run_dir, name)
            if name.startswith("core") and not name.endswith(".txt"):
                with open(p + "-bt.txt", "w") as f:
                    subprocess.run(["gdb", "-batch", "-ex", "thread apply all bt", self.a.daemon, p],
                                   stdout=f, stderr=subprocess.STDOUT, timeout=300)
                self.find("core file %s (threads in %s-bt.txt)" % (p, p))
            if name.startswith("daemon") and name.endswith(".err"):
                txt = open(p, errors="replace").read()
                for m in SAN:
                    if m in txt:
                        self.find("%s: %s" % (name, m))
                        break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--daemon", default=os.path.join(REPO, "build/parceldeskd"))
    ap.add_argument("--bench", default=os.path.join(REPO, "build/contrib/bench"))
    ap.add_argument("--store", default="fresh")
    ap.add_argument("--secs", type=int, default=30)
    ap.add_argument("--stop", choices=("term", "kill"), default="kill")
    ap.add_argument("--cycles", type=int, default=2)
    ap.add_argument("--backup-pause", type=float, default=3.0)
    ap.add_argument("--pipeline", type=int, default=4)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--mix", default="get:50,scan:50")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("daemon_args", nargs="*")
    a = ap.parse_args()
    os.makedirs(a.run_dir, exist_ok=True)
    r = Run(a)
    t0 = time.time()
    try:
        if r.fill():
            # --cycles phases of load, each ended by --stop, a restart and
            # the check of every acknowledged scan; then SIGTERM and once more
            for i in range(a.cycles):
                r.phase(a.secs // a.cycles, str(i + 1))
                r.alive("phase %d" % (i + 1))
                r.verify("before stop %d" % (i + 1))
                r.stop(a.stop)
                if not r.start():
                    break
                r.verify("after %s %d and restart" % (a.stop, i + 1))
            else:
                r.stop("term")
                if r.start():
                    r.verify("after SIGTERM and restart")
                    r.stop("term")
    except Died:
        pass
    except socket.timeout:
        r.dump_threads("a check got no reply in time")
        r.find("a check got no reply in time (threads in hang-bt.txt)")
    finally:
        if r.proc and r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
    r.sanitizer_and_cores()
    c = r.counts
    print("run %s: %s store=%s secs=%d stop=%s x%d conns=%d | %.0f s, bench ops %d, scans acked %d on %d waybills "
          "(batch of 8 max %d ms), "
          "auth max %d ms (%d over 10 s), stats %d, metrics %d, backups %d (max %d ms), quitters %d, non-readers %d, junk %d, bursts %d (refused %d) | "
          "starts %s s | findings %d" % (os.path.basename(a.run_dir), " ".join(a.daemon_args) or "(defaults)", a.store, a.secs,
                           a.stop, a.cycles, a.conns, time.time() - t0, c.get("bench_ops", 0), c.get("scans_sent", 0),
                           len(r.acked), c.get("scan_max_ms", 0), c.get("auth_max_ms", 0), c.get("auth_over_10s", 0), c.get("stats", 0) * 200, c.get("metrics", 0), c.get("backups", 0), c.get("backup_max_ms", 0),
                           c.get("quitter", 0), c.get("non_reader", 0), c.get("junk", 0), c.get("burst", 0),
                           c.get("burst_refused", 0), "/".join(map(str, r.start_secs)), len(r.findings)), flush=True)
    sys.exit(1 if r.findings else 0)


if __name__ == "__main__":
    main()
