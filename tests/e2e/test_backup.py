"""BACKUP: a consistent compacted copy under DATA/backups/NAME that another
daemon can serve."""
import os
import re
import threading
import unittest

from harness import ADMIN_PASSWORD, DAY, DaemonTestCase, create_line, line, next_number, sub_list


class Backup(DaemonTestCase):
    create_users = ("op1",)

    def test_backup_and_serve_the_copy(self):
        admin = self.conn("admin")
        op = self.conn("op1")
        n = self.create(op, goods="backed up")
        self.scan(op, n, "picked_up")
        self.scan(op, n, "departed")
        original = self.get(op, n).rec
        r = self.assertReply(admin.cmd("BACKUP b1"), 200, "backup written")
        path = os.path.join(self.daemon.data_dir, "backups", "b1")
        self.assertEqual(os.path.realpath(r["path"]), os.path.realpath(path))
        mdb = os.path.join(path, "data.mdb")
        self.assertTrue(os.path.isfile(mdb))
        self.assertEqual(int(r["bytes"]), os.path.getsize(mdb))
        self.assertGreater(int(r["bytes"]), 0)
        # compacted: not the 1 GiB map
        self.assertLess(int(r["bytes"]), 64 << 20)
        self.assertReply(admin.cmd("BACKUP b1"), 409)
        # written after the backup: not in it
        later = self.create(op)
        self.scan(op, n, "arrived", depot="BJ02")

        copy = self.new_daemon(data_dir=path, env_password=None, name="backup-copy")
        copy.start()
        with copy.text() as c:
            self.assertReply(c.cmd(line("AUTH", "admin", ADMIN_PASSWORD)), 200)
            got = self.get(c, n).rec
            for k in ("number", "goods", "status", "event_count", "sender_name", "promised_at", "created_at"):
                self.assertEqual(got[k], original[k], k)
            self.assertEqual([e["event"] for e in sub_list(got, "events")], ["created", "picked_up", "departed"])
            self.get(c, later, expect=404)
            # the copy has its users and is a store of its own
            c.auth("op1", "op1-password")
            n2 = self.create(c)
        self.get(op, n2, expect=404)
        self.assertEqual(self.get(op, n)["status"], "in_transit")
        copy.stop()

    def test_backup_names_and_roles(self):
        admin = self.conn("admin")
        self.assertReply(admin.cmd("BACKUP .hidden"), 400, "backup name must not hold '/' or start with '.'")
        self.assertReply(admin.cmd('BACKUP "a/b"'), 400,
                         "argument 'name' must be a word of letters, digits, _ - . (at most 64)")
        self.assertReply(self.conn("op1").cmd("BACKUP x"), 403, "BACKUP needs the admin role")
        r = self.assertReply(admin.cmd("BACKUP"), 200)
        name = os.path.basename(r["path"])
        self.assertRegex(name, r"^\d{8}T\d{6}Z$")
        self.assertTrue(os.path.isfile(os.path.join(self.daemon.data_dir, "backups", name, "data.mdb")))

    def test_backup_while_writing_is_consistent(self):
        admin = self.conn("admin")
        promised = self.clock(admin) + 3 * DAY
        writers = [self.text("op1") for _ in range(2)]
        numbers = [[next_number() for _ in range(20)] for _ in writers]
        threads = []
        for c, ns in zip(writers, numbers):
            data = "".join(create_line(n, promised) + "\r\n" + line("SCAN", n, "picked_up", depot="SH01") + "\r\n"
                           for n in ns)
            t = threading.Thread(target=c.sock.sendall, args=(data.encode(),), daemon=True)
            t.start()
            threads.append(t)
        r = self.assertReply(admin.cmd("BACKUP during"), 200)
        for c, ns in zip(writers, numbers):
            for _ in range(2 * len(ns)):
                self.assertReply(c.read_reply(), 201)
        copy = self.new_daemon(data_dir=r["path"], env_password=None, name="backup-during")
        copy.start()
        with copy.text("op1") as c:
            seen = 0
            for ns in numbers:
                for n in ns:
                    g = c.cmd(line("WAYBILL", "GET", n))
                    self.assertIn(g.code, (200, 404))
                    if g.code == 200:
                        seen += 1
                        # a waybill is in the copy with all its events, never half
                        self.assertEqual(len(sub_list(g.rec, "events")), int(g["event_count"]))
                        self.assertIn(g["status"], ("created", "picked_up"))
        with copy.text("admin") as a:
            s = a.cmd("STATS").rec
        self.assertGreaterEqual(int(s["waybills"]), seen)
        copy.stop()


if __name__ == "__main__":
    unittest.main()
