"""Pipelining: many requests in one write, replies in request order, a read
pipelined after a write sees the write."""
import threading
import unittest

import msgpack

from harness import DAY, DaemonTestCase, create_line, line, next_number, waybill_fields


def send_in_thread(sock, data):
    """Sends without blocking the reader (the replies may be larger than the
    socket buffers)."""
    err = []

    def run():
        try:
            sock.sendall(data)
        except OSError as e:  # reported by the reader's assertions
            err.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, err


class Pipeline(DaemonTestCase):
    create_users = ("op1",)

    def test_500_mixed_text_requests(self):
        op = self.text("op1")
        promised = self.clock(op) + 3 * DAY
        numbers = [next_number() for _ in range(100)]
        reqs, expect = [], []
        for n in numbers:
            reqs.append(create_line(n, promised))
            expect.append((201, "waybill %s created" % n, {"number": n, "status": "created"}))
            reqs.append(line("WAYBILL", "GET", n))
            expect.append((200, "waybill %s: created" % n, {"status": "created", "event_count": "1"}))
            reqs.append(line("SCAN", n, "picked_up", depot="SH01"))
            expect.append((201, "picked_up recorded", {"status": "picked_up", "seq": "2"}))
            reqs.append(line("WAYBILL", "GET", n))
            expect.append((200, "waybill %s: picked_up" % n, {"status": "picked_up", "event_count": "2",
                                                               "events.2.event": "picked_up"}))
            reqs.append("PING")
            expect.append((200, "PONG", {}))
        self.assertEqual(len(reqs), 500)
        t, err = send_in_thread(op.sock, ("\r\n".join(reqs) + "\r\n").encode())
        for i, (code, msg, fields) in enumerate(expect):
            r = op.read_reply()
            self.assertEqual((r.code, r.msg), (code, msg), "reply %d to %r" % (i, reqs[i][:80]))
            for k, v in fields.items():
                self.assertEqual(r.rec.get(k), v, "reply %d field %s" % (i, k))
        t.join(10)
        self.assertEqual(err, [])
        # nothing more is pending
        self.assertReply(op.cmd("PING"), 200, "PONG")

    def test_500_mixed_msgpack_requests(self):
        m = self.mp("op1")
        now = m.call("CLOCK", "GET")["data"]["utc_secs"]
        numbers = [next_number() for _ in range(100)]
        packer = msgpack.Packer(use_bin_type=True)
        out = bytearray()
        expect = []
        for n in numbers:
            out += packer.pack(["WAYBILL", "CREATE", n, waybill_fields(now + 3 * DAY, pieces=2)])
            expect.append((201, {"number": n, "status": "created"}))
            out += packer.pack(["WAYBILL", "GET", n])
            expect.append((200, {"status": "created", "event_count": 1, "pieces": 2}))
            out += packer.pack(["SCAN", n, "picked_up", {"depot": "SH01"}])
            expect.append((201, {"status": "picked_up", "seq": 2}))
            out += packer.pack(["WAYBILL", "GET", {"number": n}])
            expect.append((200, {"status": "picked_up", "event_count": 2}))
            out += packer.pack(["PING"])
            expect.append((200, None))
        self.assertEqual(len(expect), 500)
        t, err = send_in_thread(m.sock, bytes(out))
        for i, (code, fields) in enumerate(expect):
            r = m.recv()
            self.assertEqual(r["code"], code, "reply %d: %r" % (i, r))
            if fields is None:
                self.assertEqual(r["msg"], "PONG")
                continue
            for k, v in fields.items():
                self.assertEqual(r["data"][k], v, "reply %d field %s" % (i, k))
        t.join(10)
        self.assertEqual(err, [])
        self.assertEqual(m.call("PING")["msg"], "PONG")

    def test_errors_in_a_pipeline_keep_their_place(self):
        op = self.text("op1")
        n = self.create(op)
        batch = [
            "PING",
            line("SCAN", n, "delivered", depot="SH01", signer="A", signer_is_consignee=True),  # 409
            "FROB",                                                                          # 400
            line("SCAN", n, "picked_up", depot="SH01"),                                       # 201
            'WAYBILL GET "unbalanced',                                                         # 400
            line("WAYBILL", "GET", n),                                                        # 200
            line("SCAN", n, "picked_up", depot="SH01"),                                       # 409
            "STATS",                                                                          # 403
            "PING",
        ]
        op.send("\r\n".join(batch) + "\r\n")
        codes = [op.read_reply().code for _ in batch]
        self.assertEqual(codes, [200, 409, 400, 201, 400, 200, 409, 403, 200])

    def test_several_connections_pipelining_writes(self):
        """Writes from several connections at once: each connection's replies
        in its order, every write applied once (group commit)."""
        admin = self.conn("admin")
        before = self.counts(admin)
        promised = self.clock(admin) + 3 * DAY
        conns = [self.text("op1") for _ in range(4)]
        per = 15
        plans = []
        for c in conns:
            numbers = [next_number() for _ in range(per)]
            data = "".join(create_line(n, promised) + "\r\n" + line("SCAN", n, "picked_up", depot="SH01") + "\r\n"
                           for n in numbers)
            plans.append((c, numbers, send_in_thread(c.sock, data.encode())))
        for c, numbers, (t, err) in plans:
            for n in numbers:
                self.assertReply(c.read_reply(), 201, "waybill %s created" % n)
                r = c.read_reply()
                self.assertReply(r, 201, "picked_up recorded")
                self.assertEqual(r["number"], n)
            t.join(10)
        after = self.counts(admin)
        self.assertEqual(after[0] - before[0], 4 * per)
        self.assertEqual(after[1] - before[1], 4 * per * 2)
        s = self.stats(admin)
        self.assertGreaterEqual(int(s["writer_jobs"]), 4 * per * 2)
        self.assertLessEqual(int(s["writer_groups"]), int(s["writer_jobs"]))
        self.assertLessEqual(int(s["writer_max_group"]), 1024)
        # 4 connections each with a write in flight: some commit shared a group
        self.assertGreaterEqual(int(s["writer_max_group"]), 2, s)
        print("[group commit: groups=%s jobs=%s avg=%s max=%s]" % (
            s["writer_groups"], s["writer_jobs"], s["writer_avg_group"], s["writer_max_group"]), end=" ")


    def test_the_writes_of_one_read_are_one_group(self):
        """The loop hands the writes it takes from one read to the writer
        together, at the end of the turn (conn.c, process_input()): 32
        creates sent at once (the most a connection runs in a turn) are
        one group commit, every time. Handed over one by one, the writer,
        woken by the first, often took it alone."""
        op, admin = self.text("op1"), self.conn("admin")
        promised = self.clock(op) + 3 * DAY
        for burst in range(5):
            numbers = [next_number() for _ in range(32)]
            s0 = self.stats(admin)
            op.send("".join(create_line(n, promised) + "\r\n" for n in numbers))
            for n in numbers:
                self.assertReply(op.read_reply(), 201, "waybill %s created" % n)
            s1 = self.stats(admin)
            delta = lambda k: int(s1[k]) - int(s0[k])
            self.assertEqual((delta("writer_groups"), delta("writer_jobs")), (1, 32), (burst, s0, s1))


if __name__ == "__main__":
    unittest.main()
