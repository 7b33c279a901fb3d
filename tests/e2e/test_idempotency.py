"""req=TOKEN: a repeated token returns the first reply and writes nothing."""
import threading
import unittest

from harness import DAY, DaemonTestCase, create_line, line, next_number, waybill_fields


class Idempotency(DaemonTestCase):
    create_users = ("op1", "op2")

    def setUp(self):
        super().setUp()
        self.op = self.conn("op1")
        self.admin = self.conn("admin")
        self.promised = self.clock(self.op) + 3 * DAY

    def raw(self, c, req):
        c.send(req)
        return c.read_exact_reply_bytes()

    def test_repeated_create_returns_identical_reply(self):
        n = next_number()
        req = create_line(n, self.promised, req="create-%s" % n)
        first = self.raw(self.op, req)
        self.assertTrue(first.startswith(("201 waybill %s created\r\n" % n).encode()), first)
        before = self.counts(self.admin)
        for _ in range(3):
            self.assertEqual(self.raw(self.op, req), first)
        self.assertEqual(self.counts(self.admin), before)
        # on another connection of the same user too
        with self.daemon.text("op1") as other:
            self.assertEqual(self.raw(other, req), first)
        self.assertEqual(self.counts(self.admin), before)
        # without the token the same request is a new write (here: 409 exists)
        self.assertReply(self.op.cmd(create_line(n, self.promised)), 409)

    def test_repeated_scan_writes_one_event(self):
        n = self.create(self.op)
        req = line("SCAN", n, "picked_up", depot="SH01", req="scan-%s-1" % n)
        first = self.raw(self.op, req)
        self.assertTrue(first.startswith(b"201 picked_up recorded\r\n"), first)
        self.assertIn(b"seq: 2\r\n", first)
        for _ in range(3):
            self.assertEqual(self.raw(self.op, req), first)
        g = self.get(self.op, n).rec
        self.assertEqual(g["event_count"], "2")
        self.assertEqual(g["status"], "picked_up")

    def test_first_reply_an_error_is_replayed(self):
        n = self.create(self.op)
        req = line("SCAN", n, "out_for_delivery", depot="SH01", req="ofd-%s" % n)
        first = self.raw(self.op, req)
        self.assertEqual(first, b"409 cannot record out_for_delivery on a waybill that is created\r\n")
        # the waybill moves on so the same scan would now be allowed ...
        self.scan(self.op, n, "picked_up")
        self.scan(self.op, n, "departed")
        before = self.event_count(self.op, n)
        # ... yet the token answers its first reply and writes nothing
        self.assertEqual(self.raw(self.op, req), first)
        g = self.get(self.op, n).rec
        self.assertEqual(g["event_count"], str(before))
        self.assertEqual(g["status"], "in_transit")
        # a token on a 422 (refused by a rule) as well
        req = line("WAYBILL", "REDIRECT", n, address="x", city="Beijing", requester="Mallory",
                   requester_phone="13111111111", req="redir-%s" % n)
        first = self.raw(self.op, req)
        self.assertTrue(first.startswith(b"422 only the sender may ask"), first)
        self.assertEqual(self.raw(self.op, req), first)

    def test_same_token_other_arguments_returns_first_reply(self):
        a, b = next_number(), next_number()
        tok = "tok-%s" % a
        first = self.raw(self.op, create_line(a, self.promised, req=tok))
        before = self.counts(self.admin)
        self.assertEqual(self.raw(self.op, create_line(b, self.promised, req=tok)), first)
        self.assertEqual(self.counts(self.admin), before)
        self.get(self.op, b, expect=404)

    def test_tokens_are_per_user(self):
        a, b = next_number(), next_number()
        tok = "shared-%s" % a
        self.assertReply(self.op.cmd(create_line(a, self.promised, req=tok)), 201)
        with self.daemon.text("op2") as op2:
            r = op2.cmd(create_line(b, self.promised, req=tok))
            self.assertReply(r, 201, "waybill %s created" % b)

    def test_across_framings(self):
        # text first, then msgpack: the same logical reply in msgpack
        n = next_number()
        tok = "xf-%s" % n
        first = self.op.cmd(create_line(n, self.promised, req=tok))
        self.assertReply(first, 201)
        m = self.mp("op1")
        args = waybill_fields(self.promised, req=tok)
        before = self.counts(self.admin)
        r = m.call("WAYBILL", "CREATE", n, **args)
        self.assertEqual(r, {"code": 201, "msg": "waybill %s created" % n, "data": {"number": n, "status": "created"}})
        self.assertEqual(self.counts(self.admin), before)
        # msgpack first, then text, for a scan
        tok2 = "xf2-%s" % n
        r1 = m.call("SCAN", n, "picked_up", depot="SH01", req=tok2)
        self.assertEqual(r1["code"], 201)
        self.assertEqual(r1["data"]["seq"], 2)
        t = self.op.cmd(line("SCAN", n, "picked_up", depot="SH01", req=tok2))
        self.assertReply(t, 201, "picked_up recorded")
        self.assertEqual(t.rec, {"number": n, "event": "picked_up", "status": "picked_up", "seq": "2"})
        # and an error first reply crosses framings too
        tok3 = "xf3-%s" % n
        r = m.call("SCAN", n, "delivered", depot="SH01", signer="A", signer_is_consignee=True, req=tok3)
        self.assertEqual(r["code"], 409)
        t = self.op.cmd(line("SCAN", n, "delivered", depot="SH01", signer="A", signer_is_consignee=True, req=tok3))
        self.assertReply(t, 409, r["msg"])
        self.assertEqual(self.event_count(self.op, n), 2)

    def test_concurrent_repeats_write_once(self):
        """The same token from several connections at once (likely in one
        group commit): one write, identical replies."""
        n = self.create(self.op)
        req = line("SCAN", n, "picked_up", depot="SH01", req="conc-%s" % n)
        clients = [self.daemon.text("op1") for _ in range(6)]
        for c in clients:
            self._clients.append(c)
        barrier = threading.Barrier(len(clients))
        replies = [None] * len(clients)

        def run(i):
            barrier.wait()
            clients[i].send(req)
            replies[i] = clients[i].read_exact_reply_bytes()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(set(replies)), 1, replies)
        self.assertTrue(replies[0].startswith(b"201 picked_up recorded"))
        self.assertEqual(self.event_count(self.op, n), 2)

    def test_repeats_pipelined_on_one_connection(self):
        n = self.create(self.op)
        req = line("SCAN", n, "picked_up", depot="SH01", req="pipe-%s" % n)
        c = self.text("op1")
        c.send((req + "\r\n") * 5 + line("WAYBILL", "GET", n) + "\r\n")
        replies = [c.read_exact_reply_bytes() for _ in range(5)]
        self.assertEqual(len(set(replies)), 1, replies)
        self.assertTrue(replies[0].startswith(b"201 picked_up recorded"))
        r = c.read_reply()
        self.assertEqual((r["event_count"], r["status"]), ("2", "picked_up"))

    def test_req_token_checks(self):
        n = self.create(self.op)
        self.assertReply(self.op.cmd(line("WAYBILL", "GET", n, req="t1")), 400,
                         "unknown argument 'req' for WAYBILL GET")
        self.assertReply(self.op.cmd(line("SCAN", n, "picked_up", depot="SH01", req="has space")), 400,
                         "argument 'req' must be a word (at most 64)")
        self.assertReply(self.op.cmd(line("SCAN", n, "picked_up", depot="SH01", req="x" * 65)), 400,
                         "argument 'req' must be a word (at most 64)")
        self.assertEqual(self.event_count(self.op, n), 1)


if __name__ == "__main__":
    unittest.main()
