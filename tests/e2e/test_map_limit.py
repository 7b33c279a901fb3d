"""A map growth that cannot be mapped (the address space is used up): the
writes that need it are refused with 503 store full, and the daemon goes on
serving (LMDB 0.9 unmaps the store before it maps the larger size: a failed
mmap used to leave no map, and the next transaction died of SIGSEGV)."""
import os
import re
import subprocess
import time

from harness import DAY, USERS, Daemon, DaemonTestCase, create_line, line, next_number, settings

MIB = 1 << 20


def sanitized(path):
    """Whether the program at path is an AddressSanitizer build (ASan
    reserves terabytes of shadow memory: it cannot start under an
    address-space limit at all)."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def plain_daemon():
    """A daemon built without sanitizers: the run's own, or the one
    tests/run.sh builds beside its sanitizer build (PD_PLAIN_DAEMON)."""
    for path in (settings.daemon, os.environ.get("PD_PLAIN_DAEMON")):
        if path and os.access(path, os.X_OK) and not sanitized(path):
            return path
    return None


def vm_size(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmSize:"):
                return int(l.split()[1]) * 1024
    raise AssertionError("no VmSize for %d" % pid)


def set_as_limit(pid, limit):
    """The soft RLIMIT_AS of the running daemon (util-linux prlimit; the
    hard limit stays, so that the soft one can be raised again)."""
    subprocess.run(["prlimit", "--pid", str(pid), "--as=%s:" % limit], check=True)


class PlainDaemon(Daemon):
    def __init__(self, binary, *extra, **kw):
        super().__init__(*extra, **kw)
        self.binary = binary

    def argv(self, port):
        args = super().argv(port)
        args[args.index(settings.daemon)] = self.binary
        return args

    def env(self):
        # one malloc arena: a thread's first allocation does not reserve
        # 64 MiB of address space for its own, which under the limit fails
        # (and took the daemon down with the allocation that needed it)
        env = super().env()
        env["MALLOC_ARENA_MAX"] = "1"
        return env


class MapCannotGrow(DaemonTestCase):
    start_daemon = False

    def test_growth_without_address_space_answers_503_and_the_daemon_serves_on(self):
        binary = plain_daemon()
        if not binary:
            self.skipTest("the daemon is an AddressSanitizer build, which cannot run under an address-space "
                          "limit, and PD_PLAIN_DAEMON names no plain one (tests/run.sh sets it)")
        d = PlainDaemon(binary, "--map-size-mb", 1, "--store-prefault", "no", name=self._testMethodName)
        self.addCleanup(d.cleanup)
        d.start()
        with d.text("admin") as a:
            role, pw = USERS["op1"]
            self.assertReply(a.cmd(line("USER", "ADD", "op1", role, pw)), 201)
            promised = int(a.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
        c = d.text("op1")
        self.addCleanup(c.close)
        first = next_number()
        self.assertReply(c.cmd(create_line(first, promised)), 201)
        # Room for the map to double to 16 and 32 MiB at most, never to
        # 64: 56 MiB more than the daemon has now (its threads and arenas
        # already made). A growth is tried beside the map it replaces, so
        # the one to 32 MiB may be refused too: either way a write meets a
        # growth that cannot be mapped, and before the fix the daemon
        # tried it and died.
        set_as_limit(d.proc.pid, vm_size(d.proc.pid) + 56 * MIB)
        codes = {}
        numbers = []
        for _ in range(200):  # 200 x 100 waybills, about 100 MiB of store
            batch = [next_number() for _ in range(100)]
            c.send("".join(create_line(n, promised) + "\r\n" for n in batch))
            for n in batch:
                r = c.read_reply()
                codes[r.code] = codes.get(r.code, 0) + 1
                if r.code == 201:
                    numbers.append(n)
                else:
                    self.assertReply(r, 503)
                    self.assertTrue(r.msg.startswith("store full: "), r.msg)
            if 503 in codes:
                break
        self.assertIn(503, codes, "the map grew to 64 MiB under the limit: %r" % codes)
        self.assertIsNone(d.proc.poll(), "the daemon died: %s" % d.log_tail(20))
        # the growth ahead (after a commit, past three quarters of the map)
        # met the limit first: it says so once a size, not at every commit
        ahead = re.findall(r"cannot grow ahead to (\d+) MiB", d.log_text())
        self.assertTrue(1 <= len(ahead) <= 2 and len(set(ahead)) == len(ahead), ahead)
        # it serves on: reads of what it acknowledged, STATS, and writes
        # refused cleanly while the map cannot grow
        for n in (first, numbers[-1]):
            self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
        with d.text("admin") as a:
            s = a.cmd("STATS")
            self.assertReply(s, 200)
            map_bytes = int(s["store_map_bytes"])
            self.assertIn(map_bytes, (16 * MIB, 32 * MIB))
            # a group of 100 did not fit; single writes may (pages freed
            # since come back), or get the same clean refusal
            for _ in range(20):
                n = next_number()
                r = c.cmd(create_line(n, promised))
                if r.code == 201:
                    numbers.append(n)
                else:
                    self.assertReply(r, 503)
                    self.assertTrue(r.msg.startswith("store full: "), r.msg)
            self.assertEqual(int(a.cmd("STATS")["store_map_bytes"]), map_bytes)
            self.assertReply(c.cmd(line("WAYBILL", "GET", first)), 200)
            # with the address space back, the map grows and every write
            # is taken
            set_as_limit(d.proc.pid, "unlimited")
            for _ in range(100):
                batch = [next_number() for _ in range(100)]
                c.send("".join(create_line(n, promised) + "\r\n" for n in batch))
                for n in batch:
                    self.assertReply(c.read_reply(), 201)
                numbers += batch
                if int(a.cmd("STATS")["store_map_bytes"]) > map_bytes:
                    break
            self.assertEqual(int(a.cmd("STATS")["store_map_bytes"]), 2 * map_bytes)
        for n in (first, numbers[-1]):
            self.assertReply(c.cmd(line("WAYBILL", "GET", n)), 200)
        self.assertIn("store writable again", d.log_tail(40))
        c.close()
        self.assertEqual(d.stop(), 0)
