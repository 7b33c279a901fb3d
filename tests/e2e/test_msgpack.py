"""The msgpack framing: arrays with a trailing map of named arguments in,
{code, msg, data} maps out; the same commands as the text framing."""
import unittest

import msgpack

from harness import ADMIN_PASSWORD, DAY, DaemonTestCase, iso, next_number, waybill_fields

BAD_NUMBER = "argument 'number' must be a waybill number: a string of 6 to 20 digits"


class Msgpack(DaemonTestCase):
    create_users = ("op1",)

    def test_session_commands(self):
        m = self.mp()
        self.assertEqual(m.call("PING"), {"code": 200, "msg": "PONG", "data": None})
        self.assertEqual(m.call("ping"), {"code": 200, "msg": "PONG", "data": None})
        self.assertEqual(m.call("STATS"), {"code": 401, "msg": "log in first: AUTH user password", "data": None})
        r = m.call("AUTH", "admin", "wrong-password")
        self.assertEqual(r, {"code": 401, "msg": "wrong user or password", "data": None})
        r = m.call("AUTH", "admin", ADMIN_PASSWORD)
        self.assertEqual(r, {"code": 200, "msg": "welcome admin", "data": {"user": "admin", "role": "admin"}})
        # named form of positional arguments
        r = m.call("HELP", command="WAYBILL", sub="GET")
        self.assertEqual(r["code"], 200)
        self.assertIsInstance(r["data"], list)
        self.assertEqual(r["data"][0]["command"], "WAYBILL GET")
        self.assertIsInstance(r["data"][0]["arguments"], list)
        self.assertIs(r["data"][0]["arguments"][0]["required"], True)
        r = m.call("STATS")
        self.assertEqual(r["code"], 200)
        self.assertIsInstance(r["data"]["uptime_secs"], int)
        self.assertEqual(m.call("QUIT"), {"code": 200, "msg": "bye", "data": None})
        self.assertTrue(m.at_eof(5))

    def test_waybill_life_with_typed_values(self):
        m = self.mp("op1")
        now = m.call("CLOCK", "GET")["data"]["utc_secs"]
        self.assertIsInstance(now, int)
        n = next_number()
        args = waybill_fields(now + 2 * DAY, pieces=3, weight_g=4500, fee_fen=2100, declared_value_fen=90000,
                              insured=True, used_goods=False, over_limit=1)
        r = m.call("WAYBILL", "CREATE", n, **args)
        self.assertEqual(r, {"code": 201, "msg": "waybill %s created" % n, "data": {"number": n, "status": "created"}})
        r = m.call("SCAN", n, "picked_up", depot="SH01")
        self.assertEqual(r, {"code": 201, "msg": "picked_up recorded",
                             "data": {"number": n, "event": "picked_up", "status": "picked_up", "seq": 2}})
        r = m.call("WAYBILL", "GET", number=n)   # positional by name
        self.assertEqual(r["code"], 200)
        w = r["data"]
        self.assertEqual((w["pieces"], w["weight_g"], w["fee_fen"], w["declared_value_fen"]), (3, 4500, 2100, 90000))
        self.assertIs(w["insured"], True)
        self.assertIs(w["used_goods"], False)
        self.assertIs(w["over_limit"], True)
        self.assertIs(w["late"], False)
        self.assertEqual(w["promised_at"], iso(now + 2 * DAY))
        self.assertEqual([e["event"] for e in w["events"]], ["created", "picked_up"])
        self.assertEqual([e["seq"] for e in w["events"]], [1, 2])
        # an integer where the command table says id
        q = m.call("QUERY", "LOG", kind="delivery", waybill=n, channel="phone", terminal="T1", asker="Li Na",
                   answer="ok", urgent=True)
        self.assertEqual(q["code"], 201, q)
        qid = q["data"]["id"]
        self.assertIsInstance(qid, int)
        r = m.call("QUERY", "GET", qid)
        self.assertEqual(r["data"]["id"], qid)
        self.assertIs(r["data"]["urgent"], True)
        r = m.call("QUERY", "LIST", waybill=n, limit=5)
        self.assertEqual([x["id"] for x in r["data"]], [qid])
        r = m.call("QUERY", "LIST", waybill=next_number(), limit=5)
        self.assertEqual(r, {"code": 200, "msg": "0 queries", "data": []})

    def test_waybill_number_as_integer_is_refused(self):
        m = self.mp("op1")
        admin = self.conn("admin")
        now = self.clock(admin)
        before = self.counts(admin)
        r = m.call("WAYBILL", "CREATE", 1878765123, **waybill_fields(now + DAY))
        self.assertEqual(r, {"code": 400, "msg": BAD_NUMBER, "data": None})
        r = m.call("WAYBILL", "CREATE", number=1878765123, **waybill_fields(now + DAY))
        self.assertEqual(r["code"], 400)
        self.assertEqual(r["msg"], BAD_NUMBER)
        self.assertEqual(m.call("WAYBILL", "GET", 1878765123)["msg"], BAD_NUMBER)
        r = m.call("QUERY", "LOG", kind="delivery", waybill=1878765123, channel="phone", terminal="T1", answer="a",
                   asker="Han Meimei")
        self.assertEqual(r, {"code": 400, "msg": "argument 'waybill' must be a waybill number: a string of 6 to 20 digits",
                             "data": None})
        self.assertEqual(self.counts(admin), before)

    def test_wrong_types_and_shapes(self):
        m = self.mp("op1")
        admin = self.conn("admin")
        now = self.clock(admin)
        before = self.counts(admin)
        n = next_number()
        cases = [
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, pieces="many")], 400,
             "argument 'pieces' must be a non-negative integer"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, fee_fen=-1)], 400,
             "argument 'fee_fen' must be a non-negative integer"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, goods=42)], 400, "argument 'goods' must be a string"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, goods=True)], 400, "argument 'goods' must be a string"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, insured=2)], 400, "argument 'insured' must be yes or no"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, sender_phone=13800138000)], 400,
             "argument 'sender_phone' must be a phone number (digits, leading +, -)"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, promised_at=now + DAY)], 400,
             "argument 'promised_at' must be a time like 2026-11-24T09:30:00+08:00"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY) | {"sender_name": None}], 400,
             "missing argument 'sender_name'"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, goods=["a"])], 400,
             "argument 'goods' must be a string, integer or boolean"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, goods={"a": 1})], 400,
             "argument 'goods' must be a string, integer or boolean"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, Colour="red")], 400, "bad argument name 'Colour'"),
            (["WAYBILL", "CREATE", n, waybill_fields(now + DAY, colour="red")], 400,
             "unknown argument 'colour' for WAYBILL CREATE"),
            (["WAYBILL", {"number": n}, "CREATE"], 400, "word 2 must be a string or an integer"),
            (["WAYBILL", "GET", True], 400, "word 3 must be a string or an integer"),
            (["WAYBILL", "GET", None], 400, "word 3 must be a string or an integer"),
            ([{"number": n}], 400, "a msgpack request needs a command word"),
            ([], 400, "a msgpack request is a non-empty array"),
            ([7], 400, "unknown command (the first word must be a string)"),
            (["FROB"], 400, "unknown command 'FROB' (try HELP)"),
            (["WAYBILL"], 400, "WAYBILL needs a sub-command (try HELP WAYBILL)"),
            (["WAYBILL", "EAT"], 400, "unknown sub-command 'EAT' of WAYBILL (try HELP WAYBILL)"),
            (["QUERY", "GET", -5], 400, "argument 'id' must be a positive integer"),
            (["QUERY", "GET", 0], 400, "argument 'id' must be a positive integer"),
            (["QUERY", "LIST", {"limit": 2 ** 62}], 400, "argument 'limit' must be a non-negative integer"),
            (["QUERY", "LIST", {"limit": 10 ** 15 + 1}], 400, "argument 'limit' must be a non-negative integer"),
            # 10^15 is an integer in both framings
            (["QUERY", "LIST", {"limit": 10 ** 15}], 400, "argument 'limit' must be from 1 to 1000"),
        ]
        for obj, code, msg in cases:
            with self.subTest(msg=msg):
                r = m.call_obj(obj)
                self.assertEqual(r, {"code": code, "msg": msg, "data": None})
        # the connection survives request-shape errors
        self.assertEqual(m.call("PING")["code"], 200)
        self.assertEqual(self.counts(admin), before)
        self.get(self.text("op1"), n, expect=404)

    def test_invalid_utf8_in_a_msgpack_string(self):
        m = self.mp("op1")
        bad = b"\x92\xa4PING" + b"\x81\xa1x\xa2\xff\xfe"   # ["PING", {"x": <invalid>}]
        m.send_raw(bad)
        r = m.recv()
        self.assertEqual(r["code"], 400)
        self.assertEqual(r["msg"], "invalid UTF-8")
        m.send_raw(b"\x92\xa4HELP\xa2\xc3\x28")           # ["HELP", <invalid>]
        self.assertEqual(m.recv(), {"code": 400, "msg": "invalid UTF-8", "data": None})
        self.assertEqual(m.call("PING")["code"], 200)

    def test_mixed_framings_on_one_connection(self):
        m = self.mp()
        m.send_raw(b"PING\r\n")
        # a text request gets a text reply, even on a connection that spoke msgpack
        m.sock.settimeout(10)
        data = b""
        while not data.endswith(b".\r\n"):
            data += m.sock.recv(4096)
        self.assertEqual(data, b"200 PONG\r\n.\r\n")
        self.assertEqual(m.call("PING")["msg"], "PONG")
        c = self.text()
        c.send_raw(msgpack.packb(["PING"]) + b"PING\r\n" + msgpack.packb(["WHOAMI"]))
        first = msgpack.packb({"code": 200, "msg": "PONG", "data": None})
        text = b"200 PONG\r\n.\r\n"
        buf = b""
        c.sock.settimeout(10)
        while True:
            if len(buf) >= len(first) + len(text):
                self.assertEqual(buf[:len(first)], first)
                self.assertEqual(buf[len(first):len(first) + len(text)], text)
                u = msgpack.Unpacker(raw=False)
                u.feed(buf[len(first) + len(text):])
                try:
                    who = u.unpack()
                    break
                except msgpack.OutOfData:
                    pass
            chunk = c.sock.recv(4096)
            self.assertTrue(chunk, "connection closed early: %r" % buf)
            buf += chunk
        self.assertEqual(who["code"], 200)
        self.assertEqual(who["data"]["role"], "none")

    def test_big_integers_and_wide_encodings(self):
        m = self.mp("op1")
        # array16 / str8 / uint64 encodings are accepted like the short forms
        req = b"\xdc\x00\x02" + b"\xd9\x05QUERY" + b"\xa3GET"
        self.assertEqual(m.call_obj(["QUERY", "GET", 1])["code"], 404)
        m.send_raw(req + b"")  # array16 of 2: ["QUERY", "GET"] -> missing id
        self.assertEqual(m.recv(), {"code": 400, "msg": "missing argument 'id'", "data": None})
        m.send_raw(b"\x93\xa5QUERY\xa3GET\xcf" + (99999).to_bytes(8, "big"))
        self.assertEqual(m.recv(), {"code": 404, "msg": "no query 99999", "data": None})
        # above int64: not an integer of the protocol
        m.send_raw(b"\x93\xa5QUERY\xa3GET\xcf" + (2 ** 64 - 1).to_bytes(8, "big"))
        self.assertEqual(m.recv(), {"code": 400, "msg": "malformed msgpack", "data": None})


if __name__ == "__main__":
    unittest.main()
