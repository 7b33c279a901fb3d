"""A power loss under the write-ahead log loses no acknowledged write.

With the log on, LMDB's pages reach the disk only at checkpoints; between
two, after a power loss, any page of data.mdb may hold what it held at the
last checkpoint or anything written since (the kernel writes pages back in
any order, meta pages included). The simulation: right after a start (its
checkpoint is the last one: the test sets them a day apart), data.mdb is
copied; acknowledged writes follow; SIGKILL; then data.mdb is rebuilt page
by page, each page at random from the copy or from the file as the kill
left it, and its length from either; a torn record (never answered) is
written after the log's last one. The restart must find every write
acknowledged in every round, and the store whole (every database read
through by contrib/changesets dump). Several rounds, with different seeds.
With the checkpoint's pin taken out of wal.c (tried), LMDB reuses pages of
the checkpoint's tree and the restart fails (MDB_PAGE_NOTFOUND while the
log is applied again)."""
import os
import random
import struct
import subprocess

from harness import DAY, DaemonTestCase, settings
import test_durability
from test_durability import pipeline_writes, start_with_users

PAGE = 4096


def mixed(rng, before, after):
    n = max(len(before), len(after)) // PAGE
    out = bytearray()
    for i in range(n):
        pages = [src[i * PAGE:(i + 1) * PAGE] for src in (before, after)]
        pages = [p for p in pages if len(p) == PAGE]
        out += rng.choice(pages)
    return bytes(out[:rng.choice([len(before), len(after)])])


REC_MAGIC, REC_HEAD = 0x50445732, 24


def log_records(path):
    """(first seq, last seq, end offset, count) of a log file's records from
    its start (each the next seq), or None when it holds none."""
    with open(path, "rb") as f:
        data = f.read()
    off, first, seq, n = 0, None, None, 0
    while off + REC_HEAD <= len(data):
        magic, length, s, _flags, _crc = struct.unpack(">IIQII", data[off:off + REC_HEAD])
        if magic != REC_MAGIC or (seq is not None and s != seq + 1) or off + REC_HEAD + length > len(data):
            break
        first = s if first is None else first
        seq, n, off = s, n + 1, off + REC_HEAD + length
    return (first, seq, off, n) if n else None


def tear_log_tail(data_dir):
    """Writes a torn record (the next seq, a wrong checksum) after the last
    whole one of the log file appended to last: a commit that was never
    answered. Returns the number of whole records in that file."""
    files = [(log_records(os.path.join(data_dir, name)), name) for name in ("wal.0", "wal.1")]
    (first, seq, off, n), name = max((f for f in files if f[0]), key=lambda f: f[0][1])
    with open(os.path.join(data_dir, name), "r+b") as f:
        f.seek(off)
        f.write(struct.pack(">IIQII", REC_MAGIC, 64, seq + 1, 0, 0) + b"torn" * 16)
    return n


class PowerLoss(DaemonTestCase):
    start_daemon = False
    check_present = test_durability.Durability.check_present

    def test_any_mix_of_pages_since_the_checkpoint(self):
        d = start_with_users(self, "--wal-checkpoint-secs", "86400", "--wal-checkpoint-mb", "4096")
        mdb = os.path.join(d.data_dir, "data.mdb")
        with d.text("op1") as c:
            promised = int(c.cmd("CLOCK GET")["utc_secs"]) + 3 * DAY
        # the users were added after the start's checkpoint: restart once so
        # every round begins at a checkpoint holding them
        d.stop()
        d.restart()
        acked = []
        restored = 0
        for rnd in range(4):
            rng = random.Random(1300 + rnd)
            with open(mdb, "rb") as f:
                before = f.read()
            acked += pipeline_writes(self, d, conns=4, per_conn=100, promised=promised)
            d.kill()
            with open(mdb, "rb") as f:
                after = f.read()
            self.assertNotEqual(before, after)
            with open(mdb, "wb") as f:
                f.write(mixed(rng, before, after))
            self.assertGreater(tear_log_tail(d.data_dir), 0)
            d.restart()
            restored = d.log_text().count("store not stopped cleanly")
            self.check_present(d, acked)
            with d.text("admin") as a:
                self.assertEqual(a.cmd("STATS")["waybills"], str(len(acked)))
        self.assertGreaterEqual(restored, 4, "the checkpoint's meta pages were never put back")
        d.stop()
        tool = os.path.join(os.path.dirname(settings.daemon), "contrib", "changesets")
        r = subprocess.run([tool, "dump", d.data_dir], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        self.assertIn(b"waybills ", r.stdout)
