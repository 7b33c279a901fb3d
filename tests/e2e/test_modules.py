"""SWEEP (daemon/core/modules.c) takes every due entry out of `timers`
before its module handles it, so an entry whose record is gone (or of no
module, or unreadable) is dropped instead of firing again at once. (Each
module's checks of its options at start are in test_startup.py.)"""
import os
import struct
import time

import lmdb  # Debian python3-lmdb

from harness import DaemonTestCase


def open_store(path):
    return lmdb.open(path, max_dbs=64, map_size=1 << 30, subdir=True)


def cpu_secs(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sweep(DaemonTestCase):
    start_daemon = False

    STRAYS = [b"complaint:999999", b"claim:888888", b"monthend:209912",
              b"nosuchmodule:7", b"no colon here"]

    def test_due_entries_without_a_record_are_dropped_not_run_forever(self):
        d = self.new_daemon()
        d.start()
        d.stop()
        due = struct.pack(">Q", int(time.time()) - 600)
        env = open_store(d.data_dir)
        timers = env.open_db(b"timers", dupsort=True, create=False)
        with env.begin(write=True) as txn:
            for v in self.STRAYS:
                self.assertTrue(txn.put(due, v, db=timers))
        env.close()

        d.start()
        with d.text("admin") as c:
            # the loop's timer fired at start: SWEEP has run by the first PING
            time.sleep(1.0)
            jobs0, cpu0 = int(c.cmd("STATS").rec["writer_jobs"]), cpu_secs(d.proc.pid)
            time.sleep(2.0)
            jobs1, cpu1 = int(c.cmd("STATS").rec["writer_jobs"]), cpu_secs(d.proc.pid)
        # a timer firing again and again would run SWEEP thousands of times
        self.assertLessEqual(jobs1 - jobs0, 1, "writer kept running jobs: %d" % (jobs1 - jobs0))
        self.assertLess(cpu1 - cpu0, 0.5, "the daemon kept the CPU busy")
        d.stop()
        log = d.log_text()
        self.assertIn("'nosuchmodule:7' dropped", log)
        self.assertIn("'no colon here' dropped", log)

        env = open_store(d.data_dir)
        timers = env.open_db(b"timers", dupsort=True, create=False)
        with env.begin() as txn:
            left = [v for k, v in txn.cursor(db=timers) if k == due]
        env.close()
        self.assertEqual(left, [])
