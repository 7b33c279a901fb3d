"""WAYBILL CREATE / GET and SCAN: fields, validation, the status machine,
lateness against the (test) clock."""
import datetime
import unittest

from harness import (DAY, HOUR, T0, DaemonTestCase, create_line, iso, line,
                     next_number, parse_iso, sub_list, waybill_fields)

BAD_NUMBER = "argument 'number' must be a waybill number: a string of 6 to 20 digits"


class Create(DaemonTestCase):
    create_users = ("op1",)

    def test_create_with_every_field_and_get(self):
        op = self.conn("op1")
        now = self.clock(op)
        created = now - 2 * HOUR
        promised = now + 2 * DAY
        number = next_number()
        fields = waybill_fields(
            promised,
            sender_name="Zhang Wei",
            sender_phone="+86-138-0013-8000",
            sender_address='Room "3", Lane 5\\B',
            sender_city="Shanghai",
            receiver_name="Wang Fang 王芳",
            receiver_phone="13900139000",
            receiver_address="5 Chang'an Avenue\tGate 2",
            receiver_city="Beijing",
            customer="ACME-01",
            origin_depot="SH01",
            dest_depot="BJ02",
            goods="图书 (books)",
            pieces=2,
            weight_g=3400,
            declared_value_fen=500000,
            insured=True,
            used_goods=True,
            max_piece_value_fen=300000,
            packaging="original_factory",
            over_limit=True,
            over_limit_declared=True,
            fee_fen=2300,
            payment="monthly",
            service_level="exclusive",
            created_at=iso(created),
        )
        r = op.cmd(line("WAYBILL", "CREATE", number, **fields))
        self.assertReply(r, 201, "waybill %s created" % number)
        self.assertEqual(r.rec, {"number": number, "status": "created"})

        r = self.get(op, number)
        self.assertEqual(r.msg, "waybill %s: created" % number)
        g = r.rec
        for k in ("sender_name", "sender_phone", "sender_address", "sender_city", "receiver_name",
                  "receiver_phone", "receiver_address", "receiver_city", "customer", "origin_depot",
                  "dest_depot", "goods", "packaging", "payment", "service_level"):
            self.assertEqual(g[k], fields[k], k)
        for k in ("pieces", "weight_g", "declared_value_fen", "max_piece_value_fen", "fee_fen"):
            self.assertEqual(g[k], str(fields[k]), k)
        for k in ("insured", "used_goods", "over_limit", "over_limit_declared"):
            self.assertEqual(g[k], "yes", k)
        self.assertEqual(g["number"], number)
        self.assertEqual(g["status"], "created")
        self.assertEqual(g["promised_at"], iso(promised))
        self.assertEqual(g["created_at"], iso(created))
        self.assertEqual(g["created_by"], "op1")
        self.assertEqual(g["damaged"], "no")
        self.assertEqual(g["priority"], "no")
        self.assertEqual(g["redirects"], "0")
        self.assertEqual(g["extra_fees_fen"], "0")
        self.assertEqual(g["event_count"], "1")
        self.assertEqual(g["late"], "no")
        self.assertEqual(g["late_secs"], "0")
        self.assertEqual(g["completely_delayed"], "no")
        self.assertEqual(g["same_city"], "no")
        events = sub_list(g, "events")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["event"], "created")
        self.assertEqual(events[0]["at"], iso(created))
        self.assertEqual(events[0]["depot"], "SH01")
        self.assertEqual(events[0]["by"], "op1")
        self.assertEqual(events[0]["seq"], "1")

        # the msgpack rendering of the same waybill: typed values, nested events
        m = self.mp("op1")
        d = m.call("WAYBILL", "GET", number)
        self.assertEqual(d["code"], 200)
        w = d["data"]
        self.assertEqual(w["pieces"], 2)
        self.assertEqual(w["declared_value_fen"], 500000)
        self.assertIs(w["insured"], True)
        self.assertIs(w["damaged"], False)
        self.assertEqual(w["goods"], "图书 (books)")
        self.assertEqual(w["sender_address"], 'Room "3", Lane 5\\B')
        self.assertEqual(w["receiver_address"], "5 Chang'an Avenue\tGate 2")
        self.assertEqual(w["promised_at"], iso(promised))
        self.assertEqual([e["event"] for e in w["events"]], ["created"])

    def test_defaults(self):
        op = self.conn("op1")
        number = self.create(op)
        g = self.get(op, number).rec
        self.assertEqual(g["service_level"], "basic")
        self.assertEqual(g["insured"], "no")
        self.assertEqual(g["declared_value_fen"], "0")
        self.assertEqual(g["used_goods"], "no")
        self.assertNotIn("customer", g)
        # created_at defaults to the daemon's clock
        self.assertLessEqual(abs(self.clock(op) - parse_iso(g["created_at"])), 60)

    def test_validation_failures_name_the_field_and_write_nothing(self):
        op = self.conn("op1")
        admin = self.conn("admin")
        now = self.clock(op)
        promised = now + 3 * DAY
        before = self.counts(admin)
        n = next_number()
        cases = [
            (create_line(n, promised, sender_phone=None), 400, "missing argument 'sender_phone'"),
            (create_line(n, promised, receiver_city=None), 400, "missing argument 'receiver_city'"),
            (create_line(n, promised, promised_at=None), 400, "missing argument 'promised_at'"),
            (create_line("12345", promised), 400, BAD_NUMBER),
            (create_line("1" * 21, promised), 400, BAD_NUMBER),
            (create_line("12345A789", promised), 400, BAD_NUMBER),
            (create_line("-123456", promised), 400, BAD_NUMBER),
            (create_line(n, promised, fee_fen=-100), 400, "argument 'fee_fen' must be a non-negative integer"),
            (create_line(n, promised, fee_fen="12.50"), 400, "argument 'fee_fen' must be a non-negative integer"),
            (create_line(n, promised, packaging="box"), 400,
             "argument 'packaging' must be one of: original_factory, carrier, sender_own, bare"),
            (create_line(n, promised, payment="credit"), 400, "argument 'payment' must be one of: cash, monthly, cod"),
            (create_line(n, promised, service_level="gold"), 400,
             "argument 'service_level' must be one of: basic, value_added, exclusive, customised"),
            (create_line(n, promised, sender_phone="call-me"), 400,
             "argument 'sender_phone' must be a phone number (digits, leading +, -)"),
            (create_line(n, promised, insured="maybe"), 400, "argument 'insured' must be yes or no"),
            (create_line(n, promised, promised_at="tomorrow"), 400,
             "argument 'promised_at' must be a time like 2026-11-24T09:30:00+08:00"),
            (create_line(n, promised, customer="ACME 01"), 400,
             "argument 'customer' must be a word of letters, digits, _ - . (at most 64)"),
            (create_line(n, promised, sender_name=""), 400, "argument 'sender_name' must not be empty"),
            (create_line(n, promised, goods="x" * 513), 413, "argument 'goods' is longer than 512 bytes"),
            (create_line(n, promised, pieces=0), 400, "argument 'pieces' must be from 1 to 10000"),
            (create_line(n, promised, weight_g=0), 400, "argument 'weight_g' must be at least 1 gram"),
            (create_line(n, now - HOUR), 422, "promised_at must be after the waybill is created"),
            (create_line(n, now + DAY, created_at=iso(now + DAY)), 422,
             "promised_at must be after the waybill is created"),
            (create_line(n, now + 3 * DAY, created_at=iso(now + DAY)), 422, "created_at is in the future"),
            (create_line(n, promised, insured=True), 422, "an insured waybill needs declared_value_fen above 0"),
            (create_line(n, promised, insured=True, declared_value_fen=0), 422,
             "an insured waybill needs declared_value_fen above 0"),
            (create_line(n, promised, over_limit_declared=True), 422, "over_limit_declared needs over_limit=yes"),
            (create_line(n, promised, declared_value_fen=1000, max_piece_value_fen=900), 422,
             "with one piece, max_piece_value_fen must equal declared_value_fen"),
            (create_line(n, promised, colour="red"), 400, "unknown argument 'colour' for WAYBILL CREATE"),
        ]
        for req, code, msg in cases:
            with self.subTest(msg=msg, req=req[:120]):
                self.assertReply(op.cmd(req), code, msg)
        self.assertEqual(self.counts(admin), before)
        self.get(op, n, expect=404)
        # the same request, valid, works
        self.assertReply(op.cmd(create_line(n, promised)), 201)

    def test_enum_bool_and_time_forms(self):
        op = self.conn("op1")
        now = self.clock(op)
        n = self.create(op, packaging="CARRIER", payment="Cod", insured="TRUE", declared_value_fen=100,
                        created_at=iso(now - 2 * HOUR),
                        used_goods="on", over_limit="1", service_level="Value_Added",
                        promised_at=iso(now + DAY).replace("+08:00", "+0800"))
        g = self.get(op, n).rec
        self.assertEqual((g["packaging"], g["payment"], g["service_level"]), ("carrier", "cod", "value_added"))
        self.assertEqual((g["insured"], g["used_goods"], g["over_limit"]), ("yes", "yes", "yes"))
        self.assertEqual(g["promised_at"], iso(now + DAY))
        # a time in UTC, and one without an offset (the depot's zone)
        utc = datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc)
        self.scan(op, n, "picked_up", at=utc.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.scan(op, n, "departed", at=iso(now - 30)[:19])
        ev = sub_list(self.get(op, n).rec, "events")
        self.assertEqual(ev[1]["at"], iso(now - 60))
        self.assertEqual(ev[2]["at"], iso(now - 30))

    def test_duplicate_number_409_writes_nothing(self):
        op = self.conn("op1")
        admin = self.conn("admin")
        promised = self.clock(op) + 3 * DAY
        n = next_number()
        self.assertReply(op.cmd(create_line(n, promised, goods="first")), 201)
        before = self.counts(admin)
        self.assertReply(op.cmd(create_line(n, promised, goods="second")), 409, "waybill %s exists" % n)
        self.assertEqual(self.counts(admin), before)
        g = self.get(op, n).rec
        self.assertEqual(g["goods"], "first")
        self.assertEqual(g["event_count"], "1")

    def test_leading_zeros_are_kept(self):
        op = self.conn("op1")
        promised = self.clock(op) + 3 * DAY
        self.assertReply(op.cmd(create_line("0001878765", promised, goods="with zeros")), 201,
                         "waybill 0001878765 created")
        self.assertReply(op.cmd(create_line("1878765", promised, goods="without zeros")), 201,
                         "waybill 1878765 created")
        self.assertEqual(self.get(op, "0001878765")["goods"], "with zeros")
        self.assertEqual(self.get(op, "0001878765")["number"], "0001878765")
        self.assertEqual(self.get(op, "1878765")["goods"], "without zeros")
        self.get(op, "01878765", expect=404)
        self.assertReply(op.cmd("WAYBILL GET 01878765"), 404, "no waybill 01878765")
        # 6 and 20 digits are the limits
        self.assertReply(op.cmd(create_line("000000", promised)), 201)
        self.assertReply(op.cmd(create_line("0" * 20, promised)), 201)
        self.assertNotEqual(self.get(op, "000000")["number"], self.get(op, "0" * 20)["number"])


class Scan(DaemonTestCase):
    create_users = ("op1",)

    def assertEvents(self, c, number, expected):
        g = self.get(c, number).rec
        events = sub_list(g, "events")
        self.assertEqual([e["event"] for e in events], expected)
        self.assertEqual([e["seq"] for e in events], [str(i) for i in range(1, len(expected) + 1)])
        self.assertEqual(g["event_count"], str(len(expected)))
        return g, events

    def test_whole_life(self):
        op = self.conn("op1")
        n = self.create(op)
        steps = [
            ("picked_up", "SH01", {}, "picked_up"),
            ("departed", "SH01", {}, "in_transit"),
            ("arrived", "HUB1", {}, "in_transit"),
            ("departed", "HUB1", {}, "in_transit"),
            ("arrived", "BJ02", {}, "in_transit"),
            ("out_for_delivery", "BJ02", {"note": "courier 17"}, "out_for_delivery"),
            ("delivery_failed", "BJ02", {"reason": "nobody home"}, "delivery_failed"),
            ("out_for_delivery", "BJ02", {}, "out_for_delivery"),
            ("delivered", "BJ02", {"signer": "Li Na", "signer_is_consignee": True}, "delivered"),
        ]
        for i, (event, depot, extra, status) in enumerate(steps, start=2):
            r = self.scan(op, n, event, depot=depot, **extra)
            self.assertEqual(r.msg, "%s recorded" % event)
            self.assertEqual(r.rec, {"number": n, "event": event, "status": status, "seq": str(i)})
            self.assertEqual(self.get(op, n)["status"], status)
        g, events = self.assertEvents(op, n, ["created"] + [s[0] for s in steps])
        self.assertEqual([e.get("status_after") for e in events[1:]], [s[3] for s in steps])
        self.assertEqual([e["depot"] for e in events[1:]], [s[1] for s in steps])
        self.assertTrue(all(e["by"] == "op1" for e in events))
        self.assertEqual(events[6]["note"], "courier 17")
        self.assertEqual(events[7]["reason"], "nobody home")
        self.assertEqual(events[9]["signer"], "Li Na")
        self.assertEqual(events[9]["signer_is_consignee"], "yes")
        self.assertEqual(g["signer"], "Li Na")
        self.assertEqual(g["signer_is_consignee"], "yes")
        self.assertEqual(g["signed_with_remarks"], "no")
        self.assertEqual(g["last_depot"], "BJ02")
        self.assertIn("delivered_at", g)
        self.assertEqual(g["ever_out_for_delivery"], "yes")
        self.assertEqual(g["late"], "no")

        # nothing follows delivered
        admin = self.conn("admin")
        before = self.counts(admin)
        for event, extra in [("picked_up", {}), ("departed", {}), ("arrived", {}), ("out_for_delivery", {}),
                             ("delivered", {"signer": "X", "signer_is_consignee": False}),
                             ("delivery_failed", {"reason": "r"}), ("held", {}), ("damaged", {}),
                             ("lost", {}), ("found", {}), ("returning", {}), ("returned", {})]:
            r = self.scan(op, n, event, depot="BJ02", expect=409, **extra)
            self.assertEqual(r.msg, "cannot record %s on a waybill that is delivered" % event)
        self.assertEqual(self.counts(admin), before)
        self.assertEvents(op, n, ["created"] + [s[0] for s in steps])

    def test_impossible_transitions_write_nothing(self):
        op = self.conn("op1")
        n = self.create(op)
        for event, extra in [("departed", {}), ("arrived", {}), ("out_for_delivery", {}),
                             ("delivered", {"signer": "Li Na", "signer_is_consignee": True}),
                             ("delivery_failed", {"reason": "closed"}), ("held", {}), ("found", {}),
                             ("returned", {})]:
            r = self.scan(op, n, event, expect=409, **extra)
            self.assertEqual(r.msg, "cannot record %s on a waybill that is created" % event)
        self.assertEvents(op, n, ["created"])
        self.scan(op, n, "picked_up")
        self.scan(op, n, "picked_up", expect=409)
        self.scan(op, n, "departed")
        r = self.scan(op, n, "delivered", signer="A", signer_is_consignee=True, expect=409)
        self.assertEqual(r.msg, "cannot record delivered on a waybill that is in_transit")
        r = self.scan(op, n, "returned", expect=409)
        g, _ = self.assertEvents(op, n, ["created", "picked_up", "departed"])
        self.assertEqual(g["status"], "in_transit")

    def test_scan_argument_rules(self):
        op = self.conn("op1")
        admin = self.conn("admin")
        now = self.clock(op)
        n = self.create(op)
        self.scan(op, n, "picked_up")
        self.scan(op, n, "departed")
        self.scan(op, n, "out_for_delivery")
        before = self.counts(admin)
        self.assertReply(op.cmd(line("SCAN", n, "delivered", depot="BJ02", signer_is_consignee=True)), 400,
                         "missing argument 'signer' (who signed)")
        self.assertReply(op.cmd(line("SCAN", n, "delivered", depot="BJ02", signer="Li Na")), 400,
                         "missing argument 'signer_is_consignee' (yes or no)")
        self.assertReply(op.cmd(line("SCAN", n, "delivery_failed", depot="BJ02")), 400,
                         "missing argument 'reason' (why delivery failed)")
        self.assertReply(op.cmd(line("SCAN", n, "delivery_failed", depot="BJ02", reason="x", signer="Li Na")), 400,
                         "signer, signer_is_consignee and remarks go with a delivered scan only")
        self.assertReply(op.cmd(line("SCAN", n, "arrived")), 400, "missing argument 'depot'")
        self.assertReply(op.cmd(line("SCAN", n)), 400, "missing arguments 'event', 'depot'")
        self.assertReply(op.cmd(line("SCAN", n, "teleported", depot="BJ02")), 400,
                         "argument 'event' must be one of: picked_up, departed, arrived, out_for_delivery, "
                         "delivered, delivery_failed, held, damaged, lost, found, returning, returned")
        self.assertReply(op.cmd(line("SCAN", n, "delivery_failed", depot="BJ02", reason="x",
                                     at=iso(now + HOUR))), 422, "scan time is in the future")
        self.assertReply(op.cmd(line("SCAN", n, "delivery_failed", depot="BJ02", reason="x",
                                     at=iso(now - DAY))), 422, "scan time is before the waybill was created")
        self.assertReply(op.cmd(line("SCAN", next_number(), "picked_up", depot="BJ02")), 404)
        self.assertEqual(self.counts(admin), before)
        # signed with remarks, by someone else than the consignee
        r = self.scan(op, n, "delivered", depot="BJ02", signer="Doorman Liu", signer_is_consignee=False,
                      remarks="box dented")
        g = self.get(op, n).rec
        self.assertEqual(g["signer_is_consignee"], "no")
        self.assertEqual(g["signed_with_remarks"], "yes")
        self.assertEqual(g["remarks"], "box dented")
        ev = sub_list(g, "events")[-1]
        self.assertEqual(ev["remarks"], "box dented")
        self.assertEqual(ev["signer_is_consignee"], "no")

    def test_scan_at_explicit_time(self):
        op = self.conn("op1")
        now = self.clock(op)
        n = self.create(op, created_at=iso(now - 5 * HOUR))
        self.scan(op, n, "picked_up", at=iso(now - 4 * HOUR))
        g = self.get(op, n).rec
        self.assertEqual(sub_list(g, "events")[1]["at"], iso(now - 4 * HOUR))
        self.assertEqual(g["last_event_at"], iso(now - 4 * HOUR))

    def test_lost_then_found_restores_status(self):
        op = self.conn("op1")
        n = self.create(op)
        self.scan(op, n, "picked_up")
        self.scan(op, n, "departed")
        r = self.scan(op, n, "lost", depot="HUB1")
        self.assertEqual(r["status"], "lost")
        self.assertEqual(self.get(op, n)["status"], "lost")
        self.scan(op, n, "arrived", expect=409)
        self.scan(op, n, "lost", expect=409)
        r = self.scan(op, n, "found", depot="HUB1")
        self.assertEqual(r["status"], "in_transit")
        self.assertEqual(self.get(op, n)["status"], "in_transit")
        # lost while out for delivery comes back out for delivery
        self.scan(op, n, "arrived", depot="BJ02")
        self.scan(op, n, "out_for_delivery", depot="BJ02")
        self.scan(op, n, "lost", depot="BJ02")
        r = self.scan(op, n, "found", depot="BJ02")
        self.assertEqual(r["status"], "out_for_delivery")
        self.scan(op, n, "delivered", depot="BJ02", signer="Li Na", signer_is_consignee=True)
        self.assertEvents(op, n, ["created", "picked_up", "departed", "lost", "found", "arrived",
                                  "out_for_delivery", "lost", "found", "delivered"])

    def test_damaged_is_a_flag(self):
        op = self.conn("op1")
        n = self.create(op)
        self.scan(op, n, "picked_up")
        self.scan(op, n, "departed")
        self.assertEqual(self.get(op, n)["damaged"], "no")
        r = self.scan(op, n, "damaged", depot="HUB1", note="corner crushed")
        self.assertEqual(r["status"], "in_transit")
        g = self.get(op, n).rec
        self.assertEqual(g["status"], "in_transit")
        self.assertEqual(g["damaged"], "yes")
        ev = sub_list(g, "events")[-1]
        self.assertEqual((ev["event"], ev["status_after"], ev["note"]), ("damaged", "in_transit", "corner crushed"))
        # the parcel goes on
        self.scan(op, n, "arrived", depot="BJ02")
        self.assertEqual(self.get(op, n)["damaged"], "yes")

    def test_held_and_return_paths(self):
        op = self.conn("op1")
        n = self.create(op)
        self.scan(op, n, "picked_up")
        self.scan(op, n, "departed")
        self.scan(op, n, "arrived", depot="BJ02")
        self.scan(op, n, "out_for_delivery", depot="BJ02")
        self.scan(op, n, "held", depot="BJ02", expect=409)
        self.scan(op, n, "delivery_failed", depot="BJ02", reason="address closed")
        self.assertEqual(self.scan(op, n, "held", depot="BJ02")["status"], "held")
        self.assertEqual(self.scan(op, n, "out_for_delivery", depot="BJ02")["status"], "out_for_delivery")
        self.scan(op, n, "returning", depot="BJ02", expect=409)
        self.scan(op, n, "delivery_failed", depot="BJ02", reason="refused by receiver")
        self.assertEqual(self.scan(op, n, "returning", depot="BJ02")["status"], "returning")
        # scanned on the way back, it stays returning
        self.assertEqual(self.scan(op, n, "departed", depot="BJ02")["status"], "returning")
        self.assertEqual(self.scan(op, n, "arrived", depot="SH01")["status"], "returning")
        self.scan(op, n, "out_for_delivery", depot="SH01", expect=409)
        self.assertEqual(self.scan(op, n, "returned", depot="SH01")["status"], "returned")
        g = self.get(op, n).rec
        self.assertIn("returned_at", g)
        for event in ("departed", "returning", "returned", "lost", "damaged"):
            r = self.scan(op, n, event, depot="SH01", expect=409)
            self.assertEqual(r.msg, "cannot record %s on a waybill that is returned" % event)


class Lateness(DaemonTestCase):
    """late / completely_delayed are computed when shown, against the clock."""
    create_users = ("op1",)

    def setUp(self):
        super().setUp()
        self.admin = self.conn("admin")
        self.op = self.conn("op1")

    def tearDown(self):
        self.set_clock(self.admin, T0 + 40 * DAY)  # never behind what a test created
        super().tearDown()

    def test_intercity(self):
        self.set_clock(self.admin, T0)
        n = self.create(self.op, promised_at=T0 + DAY)  # Shanghai -> Beijing
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["completely_delayed"], g["same_city"]), ("no", "no", "no"))
        self.set_clock(self.admin, T0 + 2 * DAY)
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["completely_delayed"]), ("yes", "no"))
        self.assertGreaterEqual(int(g["late_secs"]), DAY)
        self.assertLess(int(g["late_secs"]), DAY + 120)
        self.set_clock(self.admin, T0 + 7 * DAY)  # 6 days after the promise
        self.assertEqual(self.get(self.op, n)["completely_delayed"], "no")
        self.set_clock(self.admin, T0 + 8 * DAY)  # 7 days after the promise
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["completely_delayed"]), ("yes", "yes"))

    def test_same_city(self):
        self.set_clock(self.admin, T0)
        n = self.create(self.op, promised_at=T0 + DAY, receiver_city="Shanghai", dest_depot="SH02")
        self.assertEqual(self.get(self.op, n)["same_city"], "yes")
        self.set_clock(self.admin, T0 + 3 * DAY)  # 2 days after the promise
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["completely_delayed"]), ("yes", "no"))
        self.set_clock(self.admin, T0 + 4 * DAY + HOUR)  # 3 days after
        g = self.get(self.op, n).rec
        self.assertEqual((g["late"], g["completely_delayed"]), ("yes", "yes"))

    def test_delivered_on_time_and_late(self):
        self.set_clock(self.admin, T0)
        on_time = self.create(self.op, promised_at=T0 + DAY)
        late = self.create(self.op, promised_at=T0 + DAY)
        self.set_clock(self.admin, T0 + 3 * DAY)
        for n, at in ((on_time, T0 + DAY), (late, T0 + 2 * DAY)):
            self.scan(self.op, n, "picked_up", at=iso(T0 + HOUR))
            self.scan(self.op, n, "departed", at=iso(T0 + 2 * HOUR))
            self.scan(self.op, n, "out_for_delivery", depot="BJ02", at=iso(T0 + 3 * HOUR))
            self.scan(self.op, n, "delivered", depot="BJ02", at=iso(at), signer="Li Na", signer_is_consignee=True)
        self.set_clock(self.admin, T0 + 30 * DAY)
        g = self.get(self.op, on_time).rec   # delivered exactly at the promise: on time
        self.assertEqual((g["late"], g["late_secs"], g["completely_delayed"]), ("no", "0", "no"))
        self.assertEqual(g["delivered_at"], iso(T0 + DAY))
        g = self.get(self.op, late).rec
        self.assertEqual((g["late"], g["late_secs"], g["completely_delayed"]), ("yes", str(DAY), "no"))

    def test_clock_set_is_reported(self):
        r = self.set_clock(self.admin, T0 + 5 * DAY)
        self.assertEqual(r["now"][:19], iso(T0 + 5 * DAY)[:19])
        self.assertLess(abs(int(r["utc_secs"]) - (T0 + 5 * DAY)), 5)
        self.assertLess(abs(self.clock(self.op) - (T0 + 5 * DAY)), 60)
        self.assertReply(self.admin.cmd("CLOCK SET yesterday"), 400,
                         "argument 'time' must be a time like 2026-11-24T09:30:00+08:00")


if __name__ == "__main__":
    unittest.main()


class List(DaemonTestCase):
    """WAYBILL LIST: every filter against a model of the waybills created,
    paging with before=, the role rule, no personal data, and the index built
    for a store written before it."""
    create_users = ("op1", "sup1")
    ROW = {"number", "status", "origin_depot", "dest_depot", "customer", "created_at", "promised_at",
           "last_event_at"}

    @classmethod
    def class_setup(cls):
        m = cls.daemon.mp("admin")
        m.call("CLOCK", "SET", iso(T0 + 3 * DAY))
        cls.model = []
        for i in range(14):
            number = "55%010d" % (i * 7 + 3)
            origin = ("SH01", "GZ03")[i % 2]
            customer = ("ACME", "BETA", None)[i % 3]
            created = T0 + (i % 3) * DAY + i * 60
            r = m.call(*["WAYBILL", "CREATE", number],
                       waybill_fields(T0 + 5 * DAY, origin_depot=origin, customer=customer,
                                      created_at=iso(created)))
            assert r["code"] == 201, r
            status = "created"
            if i % 4 == 0:
                assert m.call("SCAN", number, "picked_up", {"depot": origin})["code"] == 201
                status = "picked_up"
            day = datetime.datetime.fromtimestamp(created, datetime.timezone(datetime.timedelta(hours=8)))
            cls.model.append({"number": number, "origin": origin, "customer": customer or "",
                              "day": day.strftime("%Y-%m-%d"), "status": status})
        m.close()

    def expect(self, day=None, depot=None, customer=None, status=None):
        rows = [w["number"] for w in self.model
                if (day is None or w["day"] == day) and (customer is None or w["customer"] == customer)
                and (depot is None or depot in (w["origin"], "BJ02")) and (status is None or w["status"] == status)]
        return sorted(rows, reverse=True)

    def listing(self, user, **named):
        r = self.daemon.mp(user).call("WAYBILL", "LIST", named)
        self.assertEqual(r["code"], 200, (named, r))
        return r["data"]

    def test_every_filter_matches_the_model(self):
        days = sorted({w["day"] for w in self.model})
        cases = [{"customer": "ACME"}, {"customer": "BETA", "status": "picked_up"},
                 {"customer": "ACME", "day": days[1]}, {"day": days[0]}, {"day": days[2], "depot": "GZ03"},
                 {"depot": "SH01"}, {"depot": "BJ02", "status": "created"}, {"depot": "XX99"},
                 {"day": "2020-01-01"}, {"customer": "NOBODY"}]
        for named in cases:
            rows = self.listing("sup1", limit=100, **named)
            self.assertEqual([r["number"] for r in rows], self.expect(**named), named)
            for r in rows:
                self.assertEqual(set(r), self.ROW, r)   # no names, phones or addresses
        self.assertEqual(self.listing("op1", customer="ACME")[0]["status"],
                         next(w["status"] for w in self.model if w["number"] == self.expect(customer="ACME")[0]))

    def test_paging_with_before(self):
        want = self.expect(depot="BJ02")
        got, before = [], None
        while True:
            named = {"depot": "BJ02", "limit": 4}
            if before:
                named["before"] = before
            page = self.listing("sup1", **named)
            got += [r["number"] for r in page]
            if len(page) < 4:
                break
            before = page[-1]["number"]
        self.assertEqual(got, want)
        # a before above every number starts at the top; below every number, nothing
        self.assertEqual([r["number"] for r in self.listing("sup1", depot="BJ02", before="99999999")], want)
        self.assertEqual(self.listing("sup1", depot="BJ02", before="100000"), [])

    def test_role_and_argument_rules(self):
        op = self.daemon.mp("op1")
        r = op.call("WAYBILL", "LIST", {"depot": "SH01"})
        self.assertEqual(r["code"], 403, r)
        self.assertIn("supervisor", r["msg"])
        self.assertEqual(op.call("WAYBILL", "LIST", {"day": "2026-03-02"})["code"], 403)
        self.assertEqual(op.call("WAYBILL", "LIST", {"customer": "ACME", "depot": "SH01"})["code"], 200)
        r = self.daemon.mp("sup1").call("WAYBILL", "LIST")
        self.assertEqual((r["code"], r["msg"]), (400, "give day, depot or customer"))
        self.assertEqual(op.call("WAYBILL", "LIST", {"customer": "ACME", "status": "flying"})["code"], 400)
        self.assertEqual(op.call("WAYBILL", "LIST", {"customer": "ACME", "limit": 0})["code"], 400)

    def test_index_built_for_an_older_store(self):
        import lmdb
        want = self.expect(customer="BETA")
        self.daemon.stop()
        env = lmdb.open(self.daemon.data_dir, max_dbs=64, map_size=1024 << 20)
        with env.begin(write=True) as txn:
            txn.drop(env.open_db(b"idx_wb", txn=txn, dupsort=True), delete=True)
        env.close()
        self.daemon.restart()
        self.assertEqual([r["number"] for r in self.listing("op1", customer="BETA")], want)
        self.assertEqual([r["number"] for r in self.listing("sup1", depot="GZ03", limit=100)],
                         self.expect(depot="GZ03"))


class ListAfterChanges(DaemonTestCase):
    """WAYBILL LIST keeps finding a waybill after the writes that do not
    touch its index entries (a scan, damage, a complaint about it, a
    recall: waybill_save()'s WB_KEYS_SAME), by day, both depots and its
    account, with its current status."""
    create_users = ("op1", "sup1")

    def test_found_by_every_key_after_scans_complaint_and_recall(self):
        m = self.daemon.mp("admin")
        m.call("CLOCK", "SET", iso(T0))
        number = "560000000011"
        r = m.call(*["WAYBILL", "CREATE", number], waybill_fields(T0 + 5 * DAY, customer="GAMMA"))
        self.assertEqual(r["code"], 201, r)
        day = datetime.datetime.fromtimestamp(T0, datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m-%d")
        sup = self.daemon.mp("sup1")

        def listed(status):
            for named in ({"day": day}, {"depot": "SH01"}, {"depot": "BJ02"}, {"customer": "GAMMA"}):
                rows = [row for row in sup.call("WAYBILL", "LIST", named)["data"] if row["number"] == number]
                self.assertEqual(len(rows), 1, (named, status))
                self.assertEqual(rows[0]["status"], status, named)
                st = sup.call("WAYBILL", "LIST", dict(named, status=status))["data"]
                self.assertIn(number, [row["number"] for row in st], (named, status))

        for event in ("picked_up", "departed", "damaged"):
            self.assertEqual(m.call("SCAN", number, event, {"depot": "SH01"})["code"], 201)
        listed("in_transit")
        r = self.conn("op1").cmd(line("COMPLAINT", "OPEN", channel="phone", category="delay", waybill=number,
                                      customer_name="Han Meimei", customer_phone="13700137000",
                                      text="still nothing"))
        self.assertReply(r, 201)
        self.assertEqual(self.get(self.conn("op1"), number)["complained"], "yes")
        listed("in_transit")
        r = self.conn("op1").cmd(line("WAYBILL", "RECALL", number, requester="Zhang Wei",
                                      requester_phone="13800138000"))
        self.assertReply(r, 200)
        listed("returning")
        m.close()
        sup.close()
