"""Hand-backs: every job the writer or the slow thread finishes reaches the
loop thread that serves its connection, even when it races that loop going
to sleep. writer.c wakes a loop through an eventfd of its own, written only
when the loop's queue of finished jobs goes from empty to not empty, and
the writer through a semaphore posted only when it said it sleeps: a wake
lost on either side leaves a reply unsent (and, for a loop, every later one
of that loop behind it), which the clients here wait at most 20 s for."""
import threading
import time

from harness import DAY, DaemonTestCase, create_line, line, next_number
from test_changeset import EnvDaemon


class HandBackAcrossLoops(DaemonTestCase):
    """Unpipelined requests, so that nearly every hand-back finds its loop's
    queue empty and the loop asleep or about to be: writes (the writer),
    REPORT MONTH (the bulk thread), logins (the hashing thread) and reads
    (the loop itself), interleaved on connections spread over three loops."""

    daemon_args = ("--loop-threads", 3)
    create_users = ("op1",)
    CONNS, ROUNDS = 12, 40

    def test_every_reply_reaches_its_loop(self):
        admin = self.text("admin")
        self.assertEqual(self.stats(admin)["config.loop_threads"], "3")
        before = int(self.stats(admin)["waybills"])
        promised = int(admin.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
        done = [0] * self.CONNS
        errors = []

        def run(i):
            try:
                for session in range(2):   # a second login half-way
                    with self.daemon.text("op1") as c:
                        for k in range(self.ROUNDS // 2):
                            n = next_number()
                            r = c.cmd(create_line(n, promised))
                            self.assertReply(r, 201, "waybill %s created" % n)
                            r = c.cmd(line("SCAN", n, "picked_up", depot="SH01"))
                            self.assertReply(r, 201, "picked_up recorded")
                            self.assertEqual(r["number"], n)
                            r = c.cmd(line("WAYBILL", "GET", n))
                            self.assertReply(r, 200)
                            self.assertEqual(r["status"], "picked_up")
                            if (k + i) % 4 == 0:
                                self.assertReply(c.cmd(line("REPORT", "MONTH", depot="SH01")), 200)
                            done[i] += 1
            except Exception as e:  # reported below, with the others
                errors.append((i, done[i], repr(e)))

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(self.CONNS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        self.assertFalse([t for t in threads if t.is_alive()], "clients still waiting")
        self.assertEqual(errors, [])
        self.assertEqual(done, [self.ROUNDS] * self.CONNS)
        s = self.stats(admin)
        self.assertEqual(int(s["waybills"]) - before, self.CONNS * self.ROUNDS)

    def test_pipelined_writes_on_every_loop(self):
        """The writer busy with groups for every loop at once while each
        loop drains its queue: the hand-backs race the loops' turns."""
        admin = self.text("admin")
        promised = int(admin.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
        before = int(self.stats(admin)["waybills"])
        per = 150
        clients = [self.text("op1") for _ in range(self.CONNS)]
        plans = []
        for c in clients:
            numbers = [next_number() for _ in range(per)]
            data = "".join(create_line(n, promised) + "\r\n" for n in numbers).encode()
            t = threading.Thread(target=c.sock.sendall, args=(data,), daemon=True)
            t.start()
            plans.append((c, numbers, t))
        for c, numbers, t in plans:
            for n in numbers:
                self.assertReply(c.read_reply(), 201, "waybill %s created" % n)
            t.join(20)
        self.assertEqual(int(self.stats(admin)["waybills"]) - before, self.CONNS * per)


def cpu_ticks(pid):
    """The process's user and system time, in clock ticks (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class HandBackWithoutEdgeTriggers(DaemonTestCase):
    """libevent honours EVENT_NOEPOLL=1 and then serves with poll(), which
    has no edge triggers: there a loop reads its eventfd, or the eventfd,
    never read, is reported ready at every turn and the loop spins at a
    whole core (it did: 199 ticks in 2 s after one write)."""

    start_daemon = False

    def test_poll_backend_replies_then_idles(self):
        d = EnvDaemon("--loop-threads", 2, name=self._testMethodName,
                      env_extra={"EVENT_NOEPOLL": "1", "EVENT_SHOW_METHOD": "1"})
        self.addCleanup(d.cleanup)
        d.start()
        self.assertIn("libevent using: poll", d.log_tail(50))
        conns = [d.text("admin") for _ in range(4)]   # over both loops
        try:
            promised = int(conns[0].cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
            for k in range(10):
                c = conns[k % len(conns)]
                n = next_number()
                self.assertReply(c.cmd(create_line(n, promised)), 201, "waybill %s created" % n)
                r = c.cmd(line("SCAN", n, "picked_up", depot="SH01"))
                self.assertReply(r, 201, "picked_up recorded")
                self.assertReply(c.cmd(line("REPORT", "MONTH", depot="SH01")), 200)
            time.sleep(0.3)
            before = cpu_ticks(d.proc.pid)
            time.sleep(1.5)
            spent = cpu_ticks(d.proc.pid) - before
            # idle: timers only; a spinning loop takes about 150 ticks here
            self.assertLess(spent, 40, "the daemon used %d ticks of CPU in 1.5 s idle" % spent)
            n = next_number()
            self.assertReply(conns[1].cmd(create_line(n, promised)), 201, "waybill %s created" % n)
        finally:
            for c in conns:
                c.close()
        d.stop()
