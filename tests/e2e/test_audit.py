"""The audit's two key layouts (docs/design.md, the store).

A waybill's changes (create, scan, ...) are many, at random numbers, and no
command reads them back per waybill: they are appended in sequence order
under 0xFF + be64 seq, the record naming its kind and id, so a group of
writes fills the last page instead of dirtying a page per waybill. Every
other kind stays under kind:id \\0 be64 seq, read per object (timelines).
Entries of a store written before, under waybill:NUMBER, stay where they
are and later ones are appended after them. The timelines of the other
kinds are tested with their commands (test_complaints, test_claims, ...)."""
import struct

import lmdb  # Debian python3-lmdb
import msgpack

from harness import DaemonTestCase

LOG = b"\xff"


def read_audit(data_dir):
    env = lmdb.open(data_dir, max_dbs=64, map_size=1 << 30, subdir=True)
    try:
        audit = env.open_db(b"audit", create=False)
        meta = env.open_db(b"meta", create=False)
        with env.begin() as txn:
            rows = [(bytes(k), msgpack.unpackb(bytes(v), raw=False)) for k, v in txn.cursor(db=audit)]
            last = struct.unpack(">Q", txn.get(b"seq:audit", db=meta))[0]
    finally:
        env.close()
    return rows, last


def plant(data_dir, key, rec):
    env = lmdb.open(data_dir, max_dbs=64, map_size=1 << 30, subdir=True)
    try:
        audit = env.open_db(b"audit", create=False)
        with env.begin(write=True) as txn:
            txn.put(key, msgpack.packb(rec), db=audit)
    finally:
        env.close()


class AuditLayout(DaemonTestCase):

    def test_waybill_changes_are_appended_in_sequence_other_kinds_kept_per_object(self):
        op = self.conn("op1")
        a, b = self.create(op), self.create(op)
        self.scan(op, a, "picked_up")
        self.scan(op, b, "picked_up")
        self.scan(op, a, "departed")
        d = self.daemon
        d.stop()
        # an entry as a store written before this layout holds it
        old_seq = 1 << 40
        old_key = b"waybill:" + a.encode() + b"\x00" + struct.pack(">Q", old_seq)
        plant(d.data_dir, old_key, {"seq": old_seq, "who": "op1", "at": 1, "action": "scan"})
        d.start()
        self.scan(self.conn("op1"), b, "departed")
        d.stop()
        rows, last = read_audit(d.data_dir)
        d.start()

        logged = [(k, r) for k, r in rows if k.startswith(LOG)]
        per_object = [(k, r) for k, r in rows if not k.startswith(LOG)]
        ours = [(r["kind"], r["id"], r["action"], r.get("detail", {}).get("event"))
                for _, r in logged if r["id"] in (a, b)]
        self.assertEqual(ours, [("waybill", a, "create", None), ("waybill", b, "create", None),
                                ("waybill", a, "scan", "picked_up"), ("waybill", b, "scan", "picked_up"),
                                ("waybill", a, "scan", "departed"), ("waybill", b, "scan", "departed")])
        for k, r in logged:
            self.assertEqual(len(k), 9, k)
            self.assertEqual(struct.unpack(">Q", k[1:])[0], r["seq"])
            self.assertEqual(r["kind"], "waybill")
            self.assertEqual(r["who"], "op1")
        # appended: key order is sequence order, one sequence for both layouts
        seqs = [r["seq"] for _, r in logged]
        self.assertEqual(seqs, sorted(seqs))
        every = seqs + [r["seq"] for _, r in per_object]
        self.assertEqual(len(every), len(set(every)))
        self.assertLessEqual(max(s for s in every if s != old_seq), last)
        # no waybill entry under kind:id but the one planted, left as it was
        self.assertEqual([k for k, _ in per_object if k.startswith(b"waybill:")], [old_key])
        # the other kinds keep kind:id \0 be64 seq (the users this class added)
        users = [(k, r) for k, r in per_object if k.startswith(b"user:op1\x00")]
        self.assertTrue(users, "USER ADD op1 has no audit entry under user:op1")
        for k, r in users:
            self.assertEqual(struct.unpack(">Q", k[len(b"user:op1\x00"):])[0], r["seq"])
            self.assertNotIn("kind", r)


if __name__ == "__main__":
    import unittest
    unittest.main()
