"""Change sets capture every write (docs/changeset.md).

A store is started once and stopped (the start-up writes), copied, then run
with PARCELDESK_TEST_CHANGESETS: the whole golden transcript's script (every
command of the table, with its errors), a clock a year later so every timer
fires, and SIGTERM. The change sets recorded, applied in order to the copy
by contrib/changesets, must give the same databases, keys and values as the
daemon's own store: a write that escaped the capture, or an aborted job's
write kept in it, makes them differ."""
import os
import shutil
import struct
import subprocess
import time

import test_transcript
from harness import DAY, T0, Daemon, DaemonTestCase, iso, line, settings


def tool():
    return os.path.join(os.path.dirname(settings.daemon), "contrib", "changesets")


def dump(data_dir):
    out = subprocess.run([tool(), "dump", data_dir], check=True, capture_output=True)
    return out.stdout.decode().splitlines()


class EnvDaemon(Daemon):
    def __init__(self, *extra, env_extra=None, **kw):
        super().__init__(*extra, **kw)
        self.env_extra = env_extra or {}

    def env(self):
        env = super().env()
        env.update(self.env_extra)
        return env


def run_script(d):
    """Every step of the transcript's script, each at its own test second,
    as fast as the daemon answers (the replies are not checked here)."""
    clock = d.text("admin")
    conns = {}
    try:
        for n, step in enumerate(test_transcript.steps(), 1):
            if step[0] == "wait_monthend":
                deadline = time.time() + 60
                while clock.cmd(line("MONTHEND", "STATUS", month=step[1])).get("status") != "done":
                    assert time.time() < deadline, "month-end run did not finish"
                    time.sleep(0.02)
                continue
            name, words, named = step
            if name not in conns:
                conns[name] = test_transcript.Conn(d.port, "text")
            clock.cmd(line("CLOCK", "SET", iso(T0 + n)))
            conns[name].request(words, named)
        # idempotent writes: kept, repeated, and refused (a refusal keeps
        # its answer to a repeat, written outside the job's aborted writes)
        with d.text("op1") as op:
            for token, number, code in (("cs-1", test_transcript.WB1, 201), ("cs-1", test_transcript.WB1, 201),
                                        ("cs-2", "7799999999", 404), ("cs-2", "7799999999", 404)):
                r = op.cmd(line("SCAN", number, "arrived", depot="SH01", req=token))
                assert r.code == code, r
        # a year on: every due timer fires (their entries are deleted by cursor)
        clock.cmd(line("CLOCK", "SET", iso(T0 + 400 * DAY)))
        time.sleep(2)
        clock.cmd(line("PING"))
    finally:
        clock.close()
        for c in conns.values():
            c.close()


class Capture(DaemonTestCase):
    start_daemon = False

    def test_change_sets_rebuild_the_store(self):
        d = EnvDaemon(name="changeset")
        try:
            d.start()
            d.stop()
            base = os.path.join(d.workdir, "base")
            os.mkdir(base)
            shutil.copy(os.path.join(d.data_dir, "data.mdb"), base)
            sets = os.path.join(d.workdir, "changesets")
            d.env_extra = {"PARCELDESK_TEST_CHANGESETS": sets}
            d.start()
            run_script(d)
            d.stop()
            with open(sets, "rb") as f:
                raw = f.read()
            count, off = 0, 0
            while off < len(raw):
                off += 4 + struct.unpack(">I", raw[off:off + 4])[0]
                count += 1
            self.assertGreater(count, 100)
            r = subprocess.run([tool(), "apply", base, sets], capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            want, got = dump(d.data_dir), dump(base)
            self.assertGreater(len({w.split()[0] for w in want}), 40)  # databases written
            self.assertTrue(any(w.startswith("idem ") for w in want))
            missing = sorted(set(want) - set(got))[:10]
            extra = sorted(set(got) - set(want))[:10]
            self.assertEqual(want, got, "applied change sets differ from the store:\nonly in the store: %s\n"
                             "only in the copy: %s" % (missing, extra))
        except BaseException:
            d.failed = True
            raise
        finally:
            d.cleanup()
