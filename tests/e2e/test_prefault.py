"""store_prefault: a thread maps the store's pages (those already in memory)
ahead of the reads, at start and again after the map grew (which moves it);
`store_prefault no` leaves them to be mapped by the reads' page faults.
STATS says what it did: store_prefault (off, running, done) and
store_prefaulted_bytes."""
import time

from harness import DAY, DaemonTestCase, USERS, create_line, line, next_number


def rss_file_bytes(d):
    with open("/proc/%d/status" % d.proc.pid) as f:
        for row in f:
            if row.startswith("RssFile:"):
                return int(row.split()[1]) * 1024
    raise AssertionError("no RssFile in /proc/%d/status" % d.proc.pid)


class Prefault(DaemonTestCase):
    start_daemon = False

    def start(self, *extra):
        d = self.new_daemon(*extra)
        d.start()
        with d.text("admin") as a:
            role, pw = USERS["op1"]
            self.assertReply(a.cmd(line("USER", "ADD", "op1", role, pw)), 201)
        return d

    def settled(self, d):
        """STATS once no pass is asked for or under way (at most 60 s)."""
        deadline = time.time() + 60
        with d.text("admin") as a:
            while True:
                s = a.cmd("STATS").rec
                if s["store_prefault"] != "running" or time.time() > deadline:
                    return s
                time.sleep(0.1)

    def fill(self, d, count):
        with d.text("op1") as c:
            promised = int(c.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
            reqs = [create_line(next_number(), promised) for _ in range(count)]
            c.send("".join(r + "\r\n" for r in reqs))
            for r in reqs:
                self.assertReply(c.read_reply(), 201)

    def test_maps_the_store_at_start_and_after_growth(self):
        # a 1 MiB map (256 pages) grows long before 600 waybills are in
        d = self.start("--map-size-mb", 1)
        self.fill(d, 600)
        s = self.settled(d)
        self.assertGreaterEqual(int(s["store_map_grows"]), 1)
        self.assertEqual(s["store_prefault"], "done")
        mapped = int(s["store_prefaulted_bytes"])
        # the pass at start found a store of a few pages; the pass after
        # the growth mapped what the first map held by then (near 1 MiB),
        # and no more than the store uses
        self.assertGreater(mapped, 1 << 19)
        self.assertLessEqual(mapped, int(s["store_used_bytes"]))
        self.assertGreaterEqual(rss_file_bytes(d), mapped)
        d.stop()

        # a restart maps it again before any read
        d.restart()
        s = self.settled(d)
        self.assertEqual(s["store_prefault"], "done")
        again = int(s["store_prefaulted_bytes"])
        self.assertGreaterEqual(again, mapped // 2)
        self.assertLessEqual(again, int(s["store_used_bytes"]))
        self.assertGreaterEqual(rss_file_bytes(d), again)
        d.stop()

    def test_off(self):
        d = self.start("--store-prefault", "no")
        self.fill(d, 50)
        with d.text("admin") as a:
            s = a.cmd("STATS").rec
        self.assertEqual(s["store_prefault"], "off")
        self.assertEqual(s["store_prefaulted_bytes"], "0")
        self.assertEqual(s["config.store_prefault"], "no")
        d.stop()
