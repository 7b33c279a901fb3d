"""store_prefault: a thread maps the store's pages ahead of the reads, at
start and again after the map grew (which moves it), first reading in from
disk, as single pages, those not in memory (when the store fits in half the
memory available: unless the last daemon stopped cleanly on this boot and
left the file as it is, the start drops the store's cached pages, which
may lie in large folios, and the first pass reads them again);
`store_prefault no` leaves them to the reads' page faults. STATS says what it did:
store_prefault (off, running, done), store_prefaulted_bytes and
store_prefault_read_bytes. Why single pages: docs/performance.md, Round 14."""
import mmap
import os
import shutil
import struct
import http.client
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from harness import DAY, REPO, DaemonTestCase, USERS, create_line, line, next_number, settings
from test_changeset import EnvDaemon


def rss_file_bytes(d):
    with open("/proc/%d/status" % d.proc.pid) as f:
        for row in f:
            if row.startswith("RssFile:"):
                return int(row.split()[1]) * 1024
    raise AssertionError("no RssFile in /proc/%d/status" % d.proc.pid)


def drop_from_page_cache(path):
    """Writes the file's dirty pages, then has the kernel drop its cached
    pages (those no process maps): the file as a reboot leaves it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def map_flags(pid, path):
    """The VmFlags of pid's mapping of path ("rr": no readahead), or None."""
    with open("/proc/%d/smaps" % pid) as f:
        found = False
        for l in f:
            if not l[0].isupper() and "-" in l.split()[0]:
                found = l.rstrip().endswith(path)
            elif found and l.startswith("VmFlags:"):
                return l.split()[1:]
    return None


def file_system_type(path):
    """The type of the file system holding PATH (/proc/self/mounts)."""
    best, kind = "", ""
    real = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        for row in f:
            fields = row.split()
            mnt = fields[1].replace("\\040", " ")
            if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                best, kind = mnt, fields[2]
    return kind


def pages_in_large_folios(pid, path):
    """(pages of PID's map of PATH in memory, of them those that lie in a
    large page-cache folio), or None where the page frames cannot be read
    (/proc/PID/pagemap hides them from all but root)."""
    with open("/proc/%d/maps" % pid) as f:
        spans = [[int(x, 16) for x in row.split()[0].split("-")]
                 for row in f if row.rstrip().endswith(path)]
    present = large = 0
    try:
        with open("/proc/%d/pagemap" % pid, "rb") as pm, open("/proc/kpageflags", "rb") as kf:
            for lo, hi in spans:
                pm.seek(lo // 4096 * 8)
                entries = pm.read((hi - lo) // 4096 * 8)
                for (e,) in struct.iter_unpack("<Q", entries):
                    if not e >> 63:
                        continue
                    pfn = e & ((1 << 55) - 1)
                    if pfn == 0:
                        return None
                    present += 1
                    kf.seek(pfn * 8)
                    flags = struct.unpack("<Q", kf.read(8))[0]
                    if flags & (3 << 15):    # KPF_COMPOUND_HEAD, KPF_COMPOUND_TAIL
                        large += 1
    except OSError:
        return None
    return present, large


class Prefault(DaemonTestCase):
    start_daemon = False

    def start(self, *extra, env_extra=None, **kw):
        if env_extra:
            d = EnvDaemon(*extra, name=self._testMethodName, env_extra=env_extra, **kw)
            self.addCleanup(d.cleanup)
        else:
            d = self.new_daemon(*extra, **kw)
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
        """Creates count waybills, pipelined; their numbers."""
        numbers = [next_number() for _ in range(count)]
        with d.text("op1") as c:
            promised = int(c.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
            c.send("".join(create_line(n, promised) + "\r\n" for n in numbers))
            for _ in numbers:
                self.assertReply(c.read_reply(), 201)
        return numbers

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

    def read_every_waybill(self, d, numbers):
        with d.text("op1") as c:
            c.send("".join("WAYBILL GET %s\r\n" % n for n in numbers))
            for _ in numbers:
                self.assertReply(c.read_reply(), 200)

    def disk_dir(self):
        """A directory on a disk's file system: the tests' default, tmpfs,
        cannot drop a file's pages."""
        disk = tempfile.mkdtemp(prefix="pd-e2e-prefault-", dir="/var/tmp")
        self.addCleanup(shutil.rmtree, disk, True)
        if file_system_type(disk) in ("tmpfs", "ramfs"):
            self.skipTest("/var/tmp is %s here: its pages cannot be dropped" % file_system_type(disk))
        return disk

    def filled_then_stopped(self):
        """A stopped daemon whose store holds 8,000 waybills (36 MiB: more
        than the start-up's own reads bring in, with this VM's 8 MiB
        read-around), and their numbers. The store is on a disk's file
        system (disk_dir())."""
        d = self.start(data_dir=os.path.join(self.disk_dir(), "data"))
        numbers = [n for _ in range(16) for n in self.fill(d, 500)]
        d.stop()
        return d, numbers

    def assert_read_in_single_pages(self, d, numbers, written=0):
        """The pass read the store from disk, mapped all of it, and after a
        GET of every waybill no page of it lies in a large folio; but for
        at most `written` pages, those the start's own commits wrote into
        pages not yet read in (a write of a run of pages makes a folio of
        the run: 2-4 pages, LMDB's `writev`). The map has its readahead
        back (the pass turned it off while it read)."""
        s = self.settled(d)
        self.assertEqual(s["store_prefault"], "done")
        flags = map_flags(d.proc.pid, "/data.mdb")
        self.assertIsNotNone(flags)
        self.assertNotIn("rr", flags)
        used = int(s["store_used_bytes"])
        self.assertGreater(int(s["store_prefault_read_bytes"]), 0)
        self.assertLessEqual(int(s["store_prefault_read_bytes"]), used)
        self.assertGreaterEqual(rss_file_bytes(d), used * 9 // 10)
        self.assert_few_in_large_folios(d, numbers, written)

    def assert_few_in_large_folios(self, d, numbers, most):
        """After a GET of every waybill, at most `most` pages of the store
        in memory lie in large folios."""
        self.read_every_waybill(d, numbers)
        got = pages_in_large_folios(d.proc.pid, "/data.mdb")
        if got is None:
            self.skipTest("page frames not readable here (not root)")
        present, large = got
        self.assertGreater(present, 100)
        self.assertLessEqual(large, most, "%d of the %d pages of the store in memory lie in large folios" % (large, present))

    def test_reads_in_a_store_not_in_memory_as_single_pages(self):
        d, numbers = self.filled_then_stopped()
        drop_from_page_cache(os.path.join(d.data_dir, "data.mdb"))
        d.restart()
        self.assert_read_in_single_pages(d, numbers)
        d.stop()

    def test_a_restored_copy_is_read_again_in_single_pages(self):
        """A store restored by a copy (a `cp` of a backup, its pages still
        dirty, in the large folios a sequential write makes) is written,
        dropped and read again in single pages at start."""
        old, numbers = self.filled_then_stopped()
        # restored into an empty directory, as a BACKUP's copy would be
        restored = os.path.join(os.path.dirname(old.data_dir), "restored")
        os.mkdir(restored)
        path = os.path.join(restored, "data.mdb")
        with open(os.path.join(old.data_dir, "data.mdb"), "rb") as src, open(path, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        # a look through a map of this process's own: are they large here?
        with open(path, "rb") as f:
            m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
            try:
                for off in range(0, len(m), 4096):
                    m[off]
                got = pages_in_large_folios(os.getpid(), path)
            finally:
                m.close()
        sys.stderr.write("[restored copy] %s of the copy's pages in memory, %s in large folios\n" % got if got else "")
        d = self.new_daemon(data_dir=restored)
        d.start()
        if got is None or got[1] == 0:
            # without the folio check, the read itself still shows the drop
            s = self.settled(d)
            self.assertGreater(int(s["store_prefault_read_bytes"]), 0)
            self.skipTest("page frames not readable here (not root)" if got is None
                          else "this kernel writes a file in order into single pages too")
        self.assert_read_in_single_pages(d, numbers)
        d.stop()

    def test_an_imported_store_is_read_in_single_pages(self):
        """A store that contrib/import wrote into a stopped daemon's
        directory (10,000 waybills, 55 MiB) has its trees' roots near the
        file's start, where the start's first page faults then land. With
        readahead they brought in large folios and marked pages that set
        off more readahead when the pass's own mapping reached them, and
        the pass ran ahead through the file in ever larger folios: before
        round 15, 8,712 of the 14,019 pages (now 8-12, from the start-up
        commit's own writes). The map takes no readahead until the pass
        has read the store in. The store is made by the plain build's gen
        and import (PD_STORE_TOOLS, which tests/run.sh sets, else build/'s,
        else those beside the daemon): the sanitizers' import takes
        minutes."""
        tools = os.environ.get("PD_STORE_TOOLS") or os.path.join(REPO, "build", "contrib")
        if not os.path.exists(os.path.join(tools, "import")):
            tools = os.path.join(os.path.dirname(settings.daemon), "contrib")
        data = os.path.join(self.disk_dir(), "data")
        requests = subprocess.run([os.path.join(tools, "gen"), "--waybills", "10000"],
                                  capture_output=True, check=True).stdout
        numbers = [l.split()[2].decode() for l in requests.splitlines() if l.startswith(b"WAYBILL CREATE ")]
        self.assertEqual(len(numbers), 10000)
        imported = subprocess.run([os.path.join(tools, "import"), "--data-dir", data, "-"],
                                  input=requests, capture_output=True, timeout=600)
        self.assertEqual(imported.returncode, 0, imported.stderr.decode())
        d = self.start(data_dir=data)
        self.assertIn("the store's cached pages dropped, to be read again in single pages", d.log_text())
        self.assert_read_in_single_pages(d, numbers, written=32)
        d.stop()

    def test_the_pages_the_store_grows_into_are_single_pages(self):
        """LMDB writes the pages it adds past the file's end in runs, and a
        buffered write past the end makes a folio of the run (2-64 pages):
        the prefault thread keeps a runway past the end allocated and read
        in as single pages, so the store grows into single pages. Before
        round 15 a fresh store filled with 8,000 waybills lay mostly in
        such folios."""
        d = self.start(data_dir=os.path.join(self.disk_dir(), "data"))
        numbers = [n for _ in range(16) for n in self.fill(d, 500)]
        s = self.settled(d)
        # but the start-up's commits, before the thread's first runway
        self.assert_few_in_large_folios(d, numbers, 32)
        # the runway: the file reaches past the store's last page
        self.assertGreater(os.path.getsize(os.path.join(d.data_dir, "data.mdb")), int(s["store_used_bytes"]))
        d.stop()

    def test_the_store_size_is_read_safely_while_the_map_grows(self):
        """LMDB reads the store's size from its meta pages, which lie in the
        map, and a growth unmaps the map and maps it anew. The runway's look
        at the size (every 100 ms) and the metrics page's took it without
        the resize lock, and the daemon died of a SIGSEGV in mdb_env_info()
        (round 16: 3 of 5 runs of 20 s of durable scans whose map grew).
        Here the runway looks without pause
        (PARCELDESK_TEST_RUNWAY_POLL_MS=0, read only with
        --enable-test-clock) and /metrics is fetched again and again while a
        1 MiB map grows six times."""
        d = self.start("--map-size-mb", 1, metrics=True,
                       data_dir=os.path.join(self.disk_dir(), "data"),
                       env_extra={"PARCELDESK_TEST_RUNWAY_POLL_MS": "0"})
        port = d.metrics_port
        done = threading.Event()
        scrapes = []

        def scrape():
            while not done.is_set():
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
                        scrapes.append(b"parceldesk_store_used_bytes " in r.read())
                except (OSError, http.client.HTTPException):
                    if d.proc.poll() is not None:
                        return
        t = threading.Thread(target=scrape)
        t.start()
        try:
            for _ in range(20):  # 45 MiB: six growths with room to spare
                self.fill(d, 500)
        finally:
            done.set()
            t.join()
        self.assertIsNone(d.proc.poll(), d.log_tail(20))
        s = self.settled(d)
        self.assertGreaterEqual(int(s["store_map_grows"]), 6)
        self.assertTrue(scrapes and all(scrapes), "%d scrapes" % len(scrapes))
        d.stop()

    def test_a_clean_restart_keeps_the_page_cache_and_a_crash_drops_it(self):
        """After a clean stop on the same boot, with the file as the daemon
        left it, the page cache holds the daemon's own single pages: a
        restart keeps them and reads next to nothing. After a SIGKILL there is no
        such mark, and the start reads the store again."""
        d, numbers = self.filled_then_stopped()
        self.assertTrue(os.path.exists(os.path.join(d.data_dir, "pagecache.mark")))
        d.restart()
        s = self.settled(d)
        self.assertIn("the store's page cache kept (a clean stop on this boot)", d.log_text())
        # nothing dropped, so the pass reads only pages that left memory
        # since they were written (8-64 KiB in 2 of about 10 sanitizer runs
        # under load; likely this VM's DAMON, which takes page-cache pages
        # no process maps, as are those written and never read), where a
        # drop reads all of the store
        used = int(s["store_used_bytes"])
        self.assertLess(int(s["store_prefault_read_bytes"]), used // 10)
        self.assertGreaterEqual(int(s["store_prefaulted_bytes"]), used * 9 // 10)
        self.assertFalse(os.path.exists(os.path.join(d.data_dir, "pagecache.mark")))
        d.kill()
        d.restart()
        # (the first start found no file, the clean restart kept it)
        self.assertEqual(d.log_text().count("the store's cached pages dropped, to be read again in single pages"), 1)
        # the log's replay waits for the pass, which reads the store in (its
        # faults would read a page each), and none lies in a large folio
        # (but the replay's own writes of runs of pages not yet read)
        self.assert_read_in_single_pages(d, numbers, written=32)
        s = self.settled(d)
        self.assertGreater(int(s["store_prefault_read_bytes"]), int(s["store_used_bytes"]) // 2)
        d.stop()

    def test_a_crash_restart_waits_for_a_slow_read_a_few_seconds_at_most(self):
        """After a SIGKILL the log's replay waits for the pass's read of the
        store, but at most 5 s (on a busy machine the whole read took
        84-215 s): here every read from disk of the pass first pauses 60 s
        (PARCELDESK_TEST_PREFAULT_READ_DELAY_MS, read only with
        --enable-test-clock), and the daemon answers within seconds, the
        replay done with page faults, every acknowledged write there."""
        d = self.start("--wal-checkpoint-secs", "86400", "--wal-checkpoint-mb", "4096",
                       data_dir=os.path.join(self.disk_dir(), "data"),
                       env_extra={"PARCELDESK_TEST_PREFAULT_READ_DELAY_MS": "0"})
        # no checkpoint after the start's: the log holds every create
        numbers = self.fill(d, 2000)
        d.kill()
        d.env_extra["PARCELDESK_TEST_PREFAULT_READ_DELAY_MS"] = "60000"
        t0 = time.time()
        d.restart(timeout=60)
        took = time.time() - t0
        sys.stderr.write("[crash restart, reads paused] answers after %.2f s\n" % took)
        log = d.log_text()
        self.assertIn("the store's cached pages dropped, to be read again in single pages", log)
        self.assertIn("the store is not read in after 5 s: the write-ahead log's replay goes on", log)
        self.assertRegex(log, r"write-ahead log: \d+ change sets applied again")
        # 5 s and the start (1-2 s under the sanitizers), far from 60 s a read
        self.assertLess(took, 30)
        with d.text("admin") as a:
            s = a.cmd("STATS").rec
        self.assertEqual(s["store_prefault"], "running")
        self.assertEqual(s["store_prefault_read_bytes"], "0")
        self.read_every_waybill(d, numbers)
        # the stop does not wait for the paused read either
        t0 = time.time()
        d.stop()
        self.assertLess(time.time() - t0, 20)

    def test_a_restart_maps_twice_the_file(self):
        """A restarted store has room to grow: the map is twice the file, so
        the writes after a restart do not grow it at once (a growth unmaps
        the whole store under the resize lock, every read waiting)."""
        d = self.start("--map-size-mb", 1)
        self.fill(d, 600)
        d.stop()
        file_bytes = os.path.getsize(os.path.join(d.data_dir, "data.mdb"))
        d.restart()
        with d.text("admin") as a:
            s = a.cmd("STATS").rec
        self.assertGreaterEqual(int(s["store_map_bytes"]), 2 * file_bytes)
        self.fill(d, 100)
        with d.text("admin") as a:
            s = a.cmd("STATS").rec
        self.assertEqual(s["store_map_grows"], "0")
        d.stop()

    def test_off(self):
        d = self.start("--store-prefault", "no")
        self.fill(d, 50)
        with d.text("admin") as a:
            s = a.cmd("STATS").rec
        self.assertEqual(s["store_prefault"], "off")
        self.assertEqual(s["store_prefaulted_bytes"], "0")
        self.assertEqual(s["store_prefault_read_bytes"], "0")
        self.assertEqual(s["config.store_prefault"], "no")
        d.stop()
